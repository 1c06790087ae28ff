// The live loop of bulwark watch: one thread, poll(2) on inotify, a signalfd
// and the metrics socket. Idle, it sleeps in poll without a timeout (a 1 s
// timer runs only while positions or the textfile wait to be written, or
// when inotify is unavailable).
#include <bulwark/core/atomic_file.hpp>
#include <bulwark/watch/follower.hpp>
#include <bulwark/watch/hook.hpp>
#include <bulwark/watch/journal.hpp>
#include <bulwark/watch/live.hpp>
#include <bulwark/watch/metrics.hpp>
#include <bulwark/watch/nft.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <fmt/format.h>
#include <iostream>
#include <poll.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark::watch {

namespace {

std::string slurp(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return {};
  std::string out;
  char buf[65536];
  ssize_t n;
  while ((n = ::read(fd, buf, sizeof buf)) > 0 && out.size() < (16u << 20))
    out.append(buf, static_cast<size_t>(n));
  ::close(fd);
  return out;
}

std::string iso_now(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

} // namespace

Result<Config> resolve_sources(Config cfg, bool allow_missing, std::vector<std::string> &notes) {
  auto exists = [](const std::string &p) {
    struct stat st {};
    return ::stat(p.c_str(), &st) == 0;
  };
  const bool global_journal = cfg.journal.enabled();
  size_t active = 0;
  for (auto &j : cfg.jails) {
    if (!j.enabled)
      continue;
    std::vector<std::string> missing;
    for (auto &l : j.logs)
      if (!exists(l))
        missing.push_back(l);
    const bool journal = global_journal || !j.units.empty() || !j.identifiers.empty();
    const bool none = j.logs.empty() && !journal;
    if (!j.configured && !missing.empty()) {
      // A built-in jail the configuration does not name, for a daemon this
      // host does not log to that file: its missing files are not watched,
      // nor the jail when nothing is left (fail2ban's jails are off until
      // enabled; ours are on where their logs are).
      for (auto &m : missing)
        std::erase(j.logs, m);
      if (j.logs.empty() && !journal) {
        notes.push_back("jail " + j.name + ": not watched, " + missing.front() + " does not exist");
        j.enabled = false;
        continue;
      }
      missing.clear();
    }
    if (none)
      return Error{"jail " + j.name + " has no sources (logs, units or identifiers)", cfg.path,
                   j.line};
    if (!missing.empty()) {
      std::string what = "jail " + j.name + ": " + missing.front() + " does not exist";
      if (!allow_missing)
        return Error{what + " (without rsyslog, read the journal: units: [ssh.service]; "
                            "--allow-missing waits for it)",
                     cfg.path, j.line};
      notes.push_back(what + "; waiting for it (--allow-missing)");
    }
    ++active;
  }
  if (active == 0)
    return Error{"no jail has a log to watch (Debian 12 without rsyslog has no /var/log/auth.log: "
                 "give the sshd jail units: [ssh.service])",
                 cfg.path, 0};
  return cfg;
}

int run_live(const Config &cfg, const LiveOptions &opts, Banner *banner) {
  std::vector<std::string> paths;
  for (auto &j : cfg.jails)
    if (j.enabled)
      for (auto &l : j.logs)
        paths.push_back(l);
  if (::mkdir(cfg.state_dir.c_str(), 0750) != 0 && errno != EEXIST) {
    std::cerr << "bulwark: " << cfg.state_dir << ": " << std::strerror(errno) << "\n";
    return exit_code::k_cannot_run;
  }
  const std::string pos_path = cfg.state_dir + "/positions.json";
  Follower follower(paths, positions_from_json(slurp(pos_path)), cfg.max_line, opts.from_start);
  Engine engine(cfg, ::time(nullptr));
  if (banner != nullptr)
    for (auto &b : banner->restore(::time(nullptr)))
      engine.restore_ban(engine.jail_index(b.jail), b.source, b.until, b.nth);
  std::unique_ptr<Hook> hook;
  if (!cfg.hook_exec.empty())
    hook = std::make_unique<Hook>(cfg.hook_exec);
  engine.on_ban = [&](const BanDecision &b) {
    std::string msg = fmt::format("{} ban {} {}/{} for {}s ({} failures, ban #{}){}\n",
                                  iso_now(b.time), b.jail, format_address(b.source), b.prefix,
                                  b.duration, b.failures, b.nth, opts.dry_run ? " [dry-run]" : "");
    std::fwrite(msg.data(), 1, msg.size(), stdout);
    std::fflush(stdout);
    if (!opts.dry_run && banner != nullptr)
      if (auto r = banner->ban(b); !r)
        std::cerr << "bulwark: ban not recorded: " << r.error().to_string() << "\n";
    // The hook runs in --dry-run too: it notifies, it is not the firewall.
    if (hook && !hook->run(b)) {
      engine.hook_failed();
      std::cerr << "bulwark: hook for the ban of " << format_address(b.source) << " did not start ("
                << cfg.hook_exec[0] << ", or " << Hook::k_max_running << " hooks still running)\n";
    }
  };

  const std::string cursor_path = cfg.state_dir + "/journal.cursor";
  std::unique_ptr<JournalSource> journal;
  // The journal is read for the union of the jails' units and identifiers;
  // each entry then reaches only the jails that name its unit or identifier.
  JournalConfig jcfg = cfg.journal;
  for (auto &j : cfg.jails) {
    if (!j.enabled)
      continue;
    for (auto &u : j.units)
      if (std::find(jcfg.units.begin(), jcfg.units.end(), u) == jcfg.units.end())
        jcfg.units.push_back(u);
    for (auto &i : j.identifiers)
      if (std::find(jcfg.identifiers.begin(), jcfg.identifiers.end(), i) == jcfg.identifiers.end())
        jcfg.identifiers.push_back(i);
  }
  if (jcfg.enabled()) {
    std::string cursor = slurp(cursor_path);
    while (!cursor.empty() && cursor.back() == '\n')
      cursor.pop_back();
    auto j = JournalSource::open(jcfg, cursor, opts.from_start);
    if (!j) {
      std::cerr << "bulwark: " << j.error().to_string() << "\n";
      return exit_code::k_cannot_run;
    }
    journal = std::move(*j);
  }

  std::unique_ptr<MetricsServer> server;
  if (!cfg.metrics_listen.empty()) {
    auto s = MetricsServer::listen(cfg.metrics_listen);
    if (!s) {
      std::cerr << "bulwark: " << s.error().to_string() << "\n";
      return exit_code::k_cannot_run;
    }
    server = std::move(*s);
  }

  sigset_t mask;
  sigemptyset(&mask);
  sigaddset(&mask, SIGTERM);
  sigaddset(&mask, SIGINT);
  sigaddset(&mask, SIGHUP);
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  std::cerr << "bulwark: watching " << paths.size() << " files"
            << (journal ? " and the journal" : "")
            << (server ? fmt::format(", metrics on http://127.0.0.1:{}/metrics", server->port())
                       : std::string())
            << "\n";

  bool dirty = true;
  bool reload = false;
  int64_t last_save = 0;
  auto save = [&](int64_t now) {
    if (auto r = write_file_atomic(pos_path, positions_to_json(follower.positions())); !r)
      std::cerr << "bulwark: " << r.error().to_string() << "\n";
    if (journal && !journal->cursor().empty())
      if (auto r = write_file_atomic(cursor_path, journal->cursor() + "\n"); !r)
        std::cerr << "bulwark: " << r.error().to_string() << "\n";
    if (!cfg.textfile.empty())
      if (auto r = write_file_atomic(cfg.textfile, render_metrics(engine, now)); !r)
        std::cerr << "bulwark: " << r.error().to_string() << "\n";
    last_save = now;
    dirty = false;
  };
  auto feed = [&] {
    int64_t now = ::time(nullptr);
    size_t n = follower.poll([&](std::string_view l) {
      Origin o;
      o.file = follower.current();
      engine.process(l, now, o);
    });
    for (uint64_t i = engine.counters().lines_too_long; i < follower.lines_too_long(); ++i)
      engine.skip_too_long();
    if (journal)
      n += journal->read([&](std::string_view l, std::string_view unit, std::string_view ident) {
        Origin o;
        o.unit = unit;
        o.ident = ident;
        if (l.size() > cfg.max_line)
          engine.skip_too_long();
        else
          engine.process(l, now, o);
      });
    if (n > 0)
      dirty = true;
    if (hook)
      if (size_t failed = hook->reap(); failed > 0) {
        engine.hook_failed(failed);
        std::cerr << "bulwark: " << failed << " ban hook runs failed (" << cfg.hook_exec[0]
                  << ")\n";
        dirty = true;
      }
    if (banner != nullptr && !opts.dry_run) {
      // Bans lifted by `bulwark bans remove` forgotten first (so the check
      // of the firewall does not put their elements back); then the bans of
      // this tick in one transaction; the firewall checked every 30 s.
      for (auto &b : banner->lifted(now)) {
        engine.lift(b.jail, b.source, now);
        std::cerr << "bulwark: ban of " << format_address(b.source) << "/" << b.prefix << " ("
                  << b.jail << ") lifted by hand: its failures count again\n";
      }
      if (size_t failed = banner->flush(now); failed > 0) {
        engine.ban_failed(failed);
        std::cerr << "bulwark: " << failed << " bans could not be applied\n";
        dirty = true;
      }
    }
  };
  feed();
  for (;;) {
    pollfd fds[4];
    nfds_t nfds = 0;
    fds[nfds++] = {sfd, POLLIN, 0};
    if (follower.wait_fd() >= 0)
      fds[nfds++] = {follower.wait_fd(), POLLIN, 0};
    if (server)
      fds[nfds++] = {server->fd(), POLLIN, 0};
    if (journal && journal->fd() >= 0)
      fds[nfds++] = {journal->fd(), POLLIN, 0};
    // With nftables the loop wakes every 2 s (a `bans remove` to notice,
    // the firewall to check every 30 s); idle without, it sleeps.
    // While a restore proceeds in chunks, it does not wait at all.
    int timeout = (banner != nullptr && !opts.dry_run && banner->busy())                ? 0
                  : (dirty || follower.wait_fd() < 0 || (journal && journal->fd() < 0)) ? 1000
                  : (banner != nullptr && !opts.dry_run)                                ? 2000
                                                                                        : -1;
    int r = ::poll(fds, nfds, timeout);
    if (r < 0 && errno != EINTR)
      break;
    int64_t now = ::time(nullptr);
    bool stop = false;
    for (nfds_t i = 0; i < nfds && r > 0; ++i) {
      if (!(fds[i].revents & POLLIN))
        continue;
      if (fds[i].fd == sfd) {
        signalfd_siginfo si;
        while (::read(sfd, &si, sizeof si) == sizeof si) {
          stop = true;
          reload = reload || si.ssi_signo == SIGHUP;
        }
      } else if (fds[i].fd == follower.wait_fd()) {
        follower.drain_events();
        feed();
      } else if (journal && fds[i].fd == journal->fd()) {
        feed();
      } else if (server && fds[i].fd == server->fd()) {
        server->serve_one([&] { return render_metrics(engine, ::time(nullptr)); });
      }
    }
    if (follower.wait_fd() < 0 || (journal && journal->fd() < 0) || r == 0)
      feed();
    if (stop)
      break;
    if (dirty && now - last_save >= 1)
      save(now);
  }
  feed();
  save(::time(nullptr));
  ::close(sfd);
  return reload ? k_live_reload : 0;
}

} // namespace bulwark::watch
