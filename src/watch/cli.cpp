// bulwark watch / bulwark bans (issue 8): the command line of the watcher.
// `watch --replay` reads logs as fast as it can and prints what it counted
// and would have banned; `--check-config` validates the configuration with
// file:line errors; `--print-alert-rules` prints Prometheus rules.
#include <bulwark/core/text.hpp>
#include <bulwark/watch/cli.hpp>
#include <bulwark/watch/config.hpp>
#include <bulwark/watch/engine.hpp>
#include <bulwark/watch/lines.hpp>
#include <bulwark/watch/live.hpp>
#include <bulwark/watch/metrics.hpp>
#include <bulwark/watch/nft.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <unistd.h>

namespace bulwark::watch {

namespace {

constexpr const char *k_default_config = "/etc/bulwark/watch.yaml";

struct WatchCliOptions {
  std::string config;
  std::vector<std::string> replay;
  bool check_config = false;
  bool dry_run = false;
  bool print_rules = false;
  bool print_metrics = false;
  bool quiet = false;
  bool from_start = false;
  bool allow_missing = false;
  int64_t reference_time = 0;
  std::string bans_config;
  std::string remove_addr;
  bool bans_verbose = false;
  bool bans_json = false;
};

WatchCliOptions g_watch_opts;

std::string human_duration(int64_t s) {
  if (s % 86400 == 0)
    return std::to_string(s / 86400) + "d";
  if (s % 3600 == 0)
    return std::to_string(s / 3600) + "h";
  if (s % 60 == 0)
    return std::to_string(s / 60) + "m";
  return std::to_string(s) + "s";
}

Result<std::string> read_whole(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return Error{std::strerror(errno), path, 0, errno};
  std::string out;
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > (1u << 20)) {
      ::close(fd);
      return Error{"configuration larger than 1 MiB", path, 0};
    }
  }
  ::close(fd);
  return out;
}

Result<Config> load_watch_config(const std::string &explicit_path) {
  std::string path = explicit_path.empty() ? k_default_config : explicit_path;
  auto text = read_whole(path);
  if (!text) {
    if (explicit_path.empty() && text.error().not_found())
      return default_config();
    return text.error();
  }
  return parse_config(*text, path);
}

// Feeds a file (or "-", standard input) to the engine in large reads.
Result<Unit> replay_fd(int fd, Engine &engine, LineSplitter &split) {
  static constexpr size_t k_chunk = 1u << 20;
  std::string buf(k_chunk, '\0');
  for (;;) {
    ssize_t n = ::read(fd, buf.data(), k_chunk);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0)
      return Error{std::strerror(errno), "", 0, errno};
    if (n == 0)
      break;
    split.feed(
        std::string_view(buf.data(), static_cast<size_t>(n)),
        [&](std::string_view l) { engine.process(l); }, [&] { engine.skip_too_long(); });
  }
  split.finish([&](std::string_view l) { engine.process(l); });
  return Unit{};
}

int run_replay(const Config &cfg) {
  int64_t ref = g_watch_opts.reference_time != 0 ? g_watch_opts.reference_time : ::time(nullptr);
  Engine engine(cfg, ref);
  std::string bans;
  engine.on_ban = [&](const BanDecision &b) {
    if (g_watch_opts.quiet)
      return;
    bans += fmt::format("  {}  {:<10}  {}/{}  {}  ({} failures, ban #{})\n",
                        text::iso_time_utc(b.time), b.jail, format_address(b.source), b.prefix,
                        human_duration(b.duration), b.failures, b.nth);
  };
  for (auto &path : g_watch_opts.replay) {
    int fd = path == "-" ? STDIN_FILENO : ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
      std::cerr << "bulwark: " << path << ": " << std::strerror(errno) << "\n";
      return exit_code::k_cannot_run;
    }
    ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
    // Each file is its own log: a year inferred from one does not carry over.
    LineSplitter split(cfg.max_line);
    auto r = replay_fd(fd, engine, split);
    if (fd != STDIN_FILENO)
      ::close(fd);
    if (!r) {
      std::cerr << "bulwark: " << path << ": " << r.error().message << "\n";
      return exit_code::k_cannot_run;
    }
  }
  engine.finish();
  int64_t end = engine.last_time();
  if (g_watch_opts.print_metrics) {
    std::cout << render_metrics(engine, end);
    return 0;
  }
  const Counters &c = engine.counters();
  std::string out;
  out += fmt::format("lines read: {}  bytes: {}  too long (skipped): {}\n", c.lines, c.bytes,
                     c.lines_too_long);
  out += fmt::format("failures: {}  without address: {}  ambiguous: {}  ignored: {}  while "
                     "banned: {}\n",
                     c.events, c.events_without_address, c.events_ambiguous, c.events_ignored,
                     c.events_while_banned);
  for (auto &[k, v] : c.by_reason)
    out +=
        fmt::format("  {}{{service=\"{}\",reason=\"{}\"}} {}\n",
                    k.kind == Kind::auth_failed ? "auth_failed_total" : "unauthorized_access_total",
                    k.service, k.reason, v);
  out += fmt::format("sources tracked: {}  evicted: {}\n", engine.tracked(), engine.evicted());
  out +=
      fmt::format("would have banned: {}{}\n", c.bans,
                  c.bans_dropped ? fmt::format("  (dropped, table full: {})", c.bans_dropped) : "");
  out += bans;
  std::fwrite(out.data(), 1, out.size(), stdout);
  return 0;
}

int run_bans(CLI::App &bans) {
  auto cfg = load_watch_config(g_watch_opts.bans_config);
  if (!cfg) {
    std::cerr << "bulwark: " << cfg.error().to_string() << "\n";
    return exit_code::k_usage;
  }
  auto store = BanStore::open(cfg->state_dir + "/bans.sqlite");
  if (!store) {
    std::cerr << "bulwark: " << store.error().to_string() << "\n";
    return exit_code::k_cannot_run;
  }
  int64_t now = ::time(nullptr);
  auto all = (*store)->all();
  if (!all) {
    std::cerr << "bulwark: " << all.error().to_string() << "\n";
    return exit_code::k_cannot_run;
  }
  if (bans.got_subcommand("list")) {
    size_t n = 0;
    nlohmann::ordered_json js = nlohmann::ordered_json::array();
    for (auto &b : *all) {
      if (b.until <= now)
        continue;
      ++n;
      if (g_watch_opts.bans_json) {
        js.push_back({{"address", format_address(b.source)},
                      {"prefix", b.prefix},
                      {"jail", b.jail},
                      {"reason", b.reason},
                      {"banned_at", text::iso_time_utc(b.banned_at)},
                      {"until", text::iso_time_utc(b.until)},
                      {"ban", b.nth},
                      {"lines", b.lines}});
        continue;
      }
      std::cout << fmt::format("{}/{}  {}  since {}  until {} ({} left)  ban #{}\n",
                               format_address(b.source), b.prefix, b.jail,
                               text::iso_time_utc(b.banned_at), text::iso_time_utc(b.until),
                               human_duration(b.until - now), b.nth);
      if (g_watch_opts.bans_verbose) {
        std::cout << "    reason: " << (b.reason.empty() ? "-" : b.reason) << "\n";
        for (auto &l : b.lines)
          std::cout << "    | " << text::printable(l) << "\n";
      }
    }
    if (g_watch_opts.bans_json)
      std::cout << js.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
    else
      std::cout << n << " active bans\n";
    return 0;
  }
  Cidr want;
  if (!parse_cidr(g_watch_opts.remove_addr, want)) {
    std::cerr << "bulwark: bans remove: \"" << text::printable(g_watch_opts.remove_addr)
              << "\" is not an address or CIDR\n";
    return exit_code::k_usage;
  }
  std::unique_ptr<Firewall> fw;
  std::vector<std::string> lifted;
  int removed = 0;
  for (auto &b : *all) {
    if (b.until <= now || b.source.family != want.net.family)
      continue;
    // ADDR inside a banned prefix (an IPv6 /128 of a banned /64), or the prefix itself.
    Cidr banned{b.source, b.prefix};
    if (!banned.contains(want.net) && !(want.prefix <= b.prefix && want.contains(b.source)))
      continue;
    if (!fw) {
      auto f = make_firewall(*cfg);
      if (!f) {
        std::cerr << "bulwark: " << f.error().to_string() << "\n";
        return exit_code::k_cannot_run;
      }
      fw = std::move(*f);
    }
    // The database first, then the element: the running daemon's repair
    // (FirewallBanner::reconcile) puts back a missing element unless it
    // sees the database changed, so the change must come first.
    (void)(*store)->end(b.source, b.prefix, now);
    // One element per address whatever the number of jails banning it.
    std::string element = format_address(b.source) + "/" + std::to_string(b.prefix);
    if (std::find(lifted.begin(), lifted.end(), element) == lifted.end()) {
      lifted.push_back(element);
      if (auto r = fw->remove(b.source, b.prefix); !r)
        std::cerr << "bulwark: " << r.error().to_string() << " (ended in the database anyway)\n";
    }
    std::cout << "removed " << format_address(b.source) << "/" << b.prefix << " (" << b.jail
              << ")\n";
    ++removed;
  }
  if (removed == 0) {
    std::cerr << "bulwark: no active ban covers " << g_watch_opts.remove_addr << "\n";
    return 1;
  }
  return 0;
}

} // namespace

void add_commands(CLI::App &app) {
  auto *w = app.add_subcommand("watch", "follow authentication logs, ban brute-force sources");
  w->add_option("--config", g_watch_opts.config,
                "configuration file (default /etc/bulwark/watch.yaml)");
  w->add_option("--replay", g_watch_opts.replay,
                "read these logs (\"-\" = standard input) as fast as possible and print what "
                "would have been counted and banned");
  w->add_flag("--check-config", g_watch_opts.check_config, "validate the configuration and exit");
  w->add_flag("--dry-run", g_watch_opts.dry_run, "decide bans but do not apply them");
  w->add_flag("--print-alert-rules", g_watch_opts.print_rules,
              "print Prometheus alerting rules for the metrics and exit");
  w->add_flag("--metrics", g_watch_opts.print_metrics,
              "with --replay: print the metrics in Prometheus text format instead");
  w->add_flag("--quiet", g_watch_opts.quiet, "with --replay: do not list the bans");
  w->add_flag("--from-start", g_watch_opts.from_start,
              "live: read files without a saved position from their start, not their end");
  w->add_flag("--allow-missing", g_watch_opts.allow_missing,
              "live: start although a configured jail's log does not exist (follow it once it "
              "appears)");
  w->add_option("--reference-time", g_watch_opts.reference_time,
                "with --replay: seconds since the epoch taken as 'now' for the year of "
                "RFC 3164 timestamps (default: now)");

  auto *b = app.add_subcommand("bans", "list or lift the bans bulwark watch has made");
  b->add_option("--config", g_watch_opts.bans_config,
                "configuration file (default /etc/bulwark/watch.yaml)");
  b->require_subcommand(1);
  b->fallthrough();
  auto *ls = b->add_subcommand("list", "the bans in force");
  ls->add_flag("--verbose,-v", g_watch_opts.bans_verbose,
               "also each ban's reason and the log lines that caused it");
  ls->add_flag("--json", g_watch_opts.bans_json,
               "as JSON: address, prefix, jail, reason, banned_at, until, ban, lines");
  auto *rm = b->add_subcommand("remove", "lift a ban now (the firewall's element and the record)");
  rm->add_option("ADDR", g_watch_opts.remove_addr, "address or CIDR")->required();
}

std::optional<int> run_commands(CLI::App &app) {
  if (CLI::App *b = app.get_subcommand("bans"); b->parsed())
    return run_bans(*b);
  CLI::App *w = app.get_subcommand("watch");
  if (w == nullptr || !w->parsed())
    return std::nullopt;
  if (g_watch_opts.print_rules) {
    std::cout << alert_rules();
    return 0;
  }
  auto cfg = load_watch_config(g_watch_opts.config);
  if (!cfg) {
    std::cerr << "bulwark: " << cfg.error().to_string() << "\n";
    return g_watch_opts.check_config ? 1 : exit_code::k_usage;
  }
  if (g_watch_opts.check_config) {
    size_t enabled = 0;
    for (auto &j : cfg->jails)
      enabled += j.enabled ? 1 : 0;
    std::cout << (cfg->path.empty() ? std::string("built-in defaults") : cfg->path) << ": ok, "
              << enabled << " jails enabled\n";
    return 0;
  }
  if (!g_watch_opts.replay.empty())
    return run_replay(*cfg);
  std::vector<std::string> notes;
  auto resolved = resolve_sources(*cfg, g_watch_opts.allow_missing, notes);
  for (auto &n : notes)
    std::cerr << "bulwark: " << n << "\n";
  if (!resolved) {
    std::cerr << "bulwark: " << resolved.error().to_string() << "\n";
    return exit_code::k_usage;
  }
  Config running = std::move(*resolved);
  LiveOptions lo;
  lo.dry_run = g_watch_opts.dry_run;
  lo.from_start = g_watch_opts.from_start;
  for (;;) {
    std::unique_ptr<Banner> banner;
    if (!g_watch_opts.dry_run) {
      auto b = make_banner(running);
      if (!b) {
        std::cerr << "bulwark: " << b.error().to_string() << " (use --dry-run to only log bans)\n";
        return exit_code::k_cannot_run;
      }
      banner = std::move(*b);
    }
    int rc = run_live(running, lo, banner.get());
    if (rc != k_live_reload)
      return rc;
    // SIGHUP: the new configuration, or the running one when the new one
    // is invalid (a typo must not stop the bans).
    banner.reset();
    lo.from_start = false;
    std::vector<std::string> reload_notes;
    auto next = load_watch_config(g_watch_opts.config);
    Result<Config> checked =
        next ? resolve_sources(*next, g_watch_opts.allow_missing, reload_notes) : next.error();
    for (auto &n : reload_notes)
      std::cerr << "bulwark: " << n << "\n";
    if (checked) {
      running = std::move(*checked);
      std::cerr << "bulwark: configuration reloaded\n";
    } else {
      std::cerr << "bulwark: reload refused, keeping the running configuration: "
                << checked.error().to_string() << "\n";
    }
  }
}

} // namespace bulwark::watch
