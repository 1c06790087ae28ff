// The live loop of bulwark watch: one thread, poll(2) on inotify, a signalfd
// and the metrics socket. Idle, it sleeps in poll without a timeout (a 1 s
// timer runs only while positions or the textfile wait to be written, or
// when inotify is unavailable).
#include <bulwark/core/atomic_file.hpp>
#include <bulwark/watch/follower.hpp>
#include <bulwark/watch/journal.hpp>
#include <bulwark/watch/live.hpp>
#include <bulwark/watch/metrics.hpp>
#include <bulwark/watch/nft.hpp>

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
  engine.on_ban = [&](const BanDecision &b) {
    std::string msg = fmt::format("{} ban {} {}/{} for {}s ({} failures, ban #{}){}\n",
                                  iso_now(b.time), b.jail, format_address(b.source), b.prefix,
                                  b.duration, b.failures, b.nth, opts.dry_run ? " [dry-run]" : "");
    std::fwrite(msg.data(), 1, msg.size(), stdout);
    std::fflush(stdout);
    if (!opts.dry_run && banner != nullptr)
      if (auto r = banner->ban(b); !r)
        std::cerr << "bulwark: ban failed: " << r.error().to_string() << "\n";
  };

  const std::string cursor_path = cfg.state_dir + "/journal.cursor";
  std::unique_ptr<JournalSource> journal;
  if (cfg.journal.enabled()) {
    std::string cursor = slurp(cursor_path);
    while (!cursor.empty() && cursor.back() == '\n')
      cursor.pop_back();
    auto j = JournalSource::open(cfg.journal, cursor, opts.from_start);
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
  sigprocmask(SIG_BLOCK, &mask, nullptr);
  int sfd = ::signalfd(-1, &mask, SFD_CLOEXEC | SFD_NONBLOCK);

  std::cerr << "bulwark: watching " << paths.size() << " files"
            << (journal ? " and the journal" : "")
            << (server ? fmt::format(", metrics on http://127.0.0.1:{}/metrics", server->port())
                       : std::string())
            << "\n";

  bool dirty = true;
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
    size_t n = follower.poll([&](std::string_view l) { engine.process(l, now); });
    for (uint64_t i = engine.counters().lines_too_long; i < follower.lines_too_long(); ++i)
      engine.skip_too_long();
    if (journal)
      n += journal->read([&](std::string_view l) {
        if (l.size() > cfg.max_line)
          engine.skip_too_long();
        else
          engine.process(l, now);
      });
    if (n > 0)
      dirty = true;
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
    int timeout = (dirty || follower.wait_fd() < 0 || (journal && journal->fd() < 0)) ? 1000 : -1;
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
        while (::read(sfd, &si, sizeof si) == sizeof si)
          stop = true;
      } else if (fds[i].fd == follower.wait_fd()) {
        follower.drain_events();
        feed();
      } else if (journal && fds[i].fd == journal->fd()) {
        feed();
      } else if (server && fds[i].fd == server->fd()) {
        server->serve_one([&] { return render_metrics(engine, ::time(nullptr)); });
      }
    }
    if (follower.wait_fd() < 0 || (journal && journal->fd() < 0))
      feed();
    if (stop)
      break;
    if (dirty && now - last_save >= 1)
      save(now);
  }
  feed();
  save(::time(nullptr));
  ::close(sfd);
  return 0;
}

} // namespace bulwark::watch
