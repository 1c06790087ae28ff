// `bulwark watch` as a user runs it: --replay on files and standard input,
// --check-config, metrics and alert rules checked by Prometheus' own promtool,
// hostile input (1 MB lines, NUL bytes), and a 10-million-address flood whose
// resident size is measured.
#include "../support.hpp"
#include "../wait.hpp"

#include <bulwark/watch/config.hpp>

#include <charconv>
#include <fcntl.h>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <sys/resource.h>
#include <sys/wait.h>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

bool have(const char *prog) {
  return std::system(fmt::format("command -v {} >/dev/null 2>&1", prog).c_str()) == 0;
}

std::string sample_log() {
  std::string s;
  // Three attempts from one address within a minute (the third from a
  // connection that named an unknown user: two lines, one attempt): one ban.
  s += "May  1 10:00:00 web sshd[10]: Failed password for root from 203.0.113.9 port 1 ssh2\n";
  s += "May  1 10:00:10 web sshd[10]: Failed password for root from 203.0.113.9 port 1 ssh2\n";
  s += "May  1 10:00:20 web sshd[11]: Invalid user admin from 203.0.113.9 port 2\n";
  s += "May  1 10:00:20 web sshd[11]: Failed password for invalid user admin from 203.0.113.9 "
       "port 2 ssh2\n";
  // A forged user name: 192.0.2.66 is the attacker, 198.51.100.1 an innocent.
  for (int i = 0; i < 5; ++i)
    s += fmt::format("May  1 10:01:00 web sshd[{}]: Failed password for invalid user x from "
                     "198.51.100.1 port 22 ssh2 from 192.0.2.66 port 4000 ssh2\n",
                     12 + i);
  // A probe: an unknown user, nothing tried.
  s += "May  1 10:01:30 web sshd[30]: Invalid user guest from 198.51.100.77 port 9\n";
  s += "May  1 10:01:31 web sshd[30]: Connection closed by invalid user guest 198.51.100.77 port 9 "
       "[preauth]\n";
  s += "May  1 10:02:00 web sudo:      bob : user NOT in sudoers ; TTY=pts/0 ; PWD=/ ; "
       "USER=root ; COMMAND=/bin/sh\n";
  s += "May  1 10:03:00 web CRON[99]: pam_unix(cron:session): session opened for user root\n";
  return s;
}

} // namespace

TEST(WatchCli, ReplayCountsAndBans) {
  TempRoot t;
  t.write("/auth.log", sample_log());
  auto r = run_command(k_bin + " watch --config /dev/null --reference-time 1714557600 --replay " +
                       t.host("/auth.log"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("lines read: 13 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("auth_failed_total{service=\"sshd\",reason=\"failed_password\"} 8\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("auth_failed_total{service=\"sshd\",reason=\"invalid_user\"} 1\n"),
            std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("unauthorized_access_total{service=\"sudo\",reason=\"not_in_sudoers\"} 1"),
            std::string::npos);
  EXPECT_NE(r.out.find("would have banned: 2"), std::string::npos) << r.out;
  EXPECT_NE(
      r.out.find("2024-05-01T10:00:20Z  sshd        203.0.113.9/32  1h  (3 failures, ban #1)"),
      std::string::npos)
      << r.out;
  EXPECT_NE(r.out.find("192.0.2.66/32"), std::string::npos);
  EXPECT_EQ(r.out.find("198.51.100.1/"), std::string::npos) << "forged address banned";
}

TEST(WatchCli, ReplayFromStandardInputMatchesFile) {
  TempRoot t;
  t.write("/auth.log", sample_log());
  std::string args = " watch --config /dev/null --reference-time 1714557600 --replay ";
  auto a = run_command(k_bin + args + t.host("/auth.log"));
  auto b = run_command("cat " + t.host("/auth.log") + " | " + k_bin + args + "-");
  ASSERT_EQ(b.exit_code, 0) << b.err;
  EXPECT_EQ(a.out, b.out);
}

TEST(WatchCli, CheckConfigReportsFileAndLine) {
  TempRoot t;
  t.write("/good.yaml", "defaults:\n  bantime: 2h\njails:\n  nginx:\n    enabled: false\n");
  t.write("/bad.yaml", "defaults:\n  bantime: 2h\n  findtime: soon\n");
  auto g = run_command(k_bin + " watch --check-config --config " + t.host("/good.yaml"));
  EXPECT_EQ(g.exit_code, 0) << g.err;
  EXPECT_NE(g.out.find("ok, 5 jails enabled"), std::string::npos) << g.out;
  auto b = run_command(k_bin + " watch --check-config --config " + t.host("/bad.yaml"));
  EXPECT_EQ(b.exit_code, 1);
  EXPECT_NE(b.err.find(t.host("/bad.yaml") + ":3: findtime: \"soon\" is not a duration"),
            std::string::npos)
      << b.err;
  auto m = run_command(k_bin + " watch --check-config --config " + t.host("/missing.yaml"));
  EXPECT_NE(m.exit_code, 0);
  // The example the package installs is valid.
  auto e = run_command(k_bin + " watch --check-config --config " BULWARK_SOURCE_DIR
                               "/packaging/examples/watch.yaml");
  EXPECT_EQ(e.exit_code, 0) << e.err;
}

TEST(WatchCli, MetricsPassPromtool) {
  BULWARK_REQUIRE(have("promtool")) << "promtool not installed (Debian package prometheus)";
  TempRoot t;
  t.write("/auth.log", sample_log());
  auto r = run_command(k_bin +
                       " watch --config /dev/null --metrics --reference-time 1714557600 "
                       "--replay " +
                       t.host("/auth.log") + " > " + t.host("/m.prom") +
                       "; promtool check metrics < " + t.host("/m.prom"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  std::ifstream in(t.host("/m.prom"));
  std::string m = bulwark::test::read_all(in);
  EXPECT_NE(m.find("auth_failed_total{service=\"sshd\",reason=\"invalid_user\"} 1\n"),
            std::string::npos)
      << m;
  EXPECT_NE(m.find("unauthorized_access_total{service=\"sudo\"} 1\n"), std::string::npos);
  EXPECT_NE(m.find("bulwark_bans_total 2\n"), std::string::npos);
  EXPECT_NE(m.find("bulwark_lines_read_total 13\n"), std::string::npos);
  EXPECT_EQ(m.find("203.0.113.9"), std::string::npos) << "no per-address labels";
}

TEST(WatchCli, AlertRulesPassPromtool) {
  BULWARK_REQUIRE(have("promtool")) << "promtool not installed (Debian package prometheus)";
  TempRoot t;
  auto r = run_command(k_bin + " watch --print-alert-rules > " + t.host("/rules.yml") +
                       " && promtool check rules " + t.host("/rules.yml"));
  EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("SUCCESS: 6 rules found"), std::string::npos) << r.out;
  std::ifstream in(t.host("/rules.yml"));
  std::string rules = bulwark::test::read_all(in);
  EXPECT_NE(rules.find("alert: BulwarkHookFailed"), std::string::npos) << rules;
}

TEST(WatchCli, HugeLinesAndNulBytes) {
  TempRoot t;
  std::string log;
  // 1 MB user name ending in a forged address: counted, never banned.
  std::string forged = std::string(1000000, 'A') + " from 203.0.113.9 port 22";
  for (int i = 0; i < 4; ++i)
    log += "May  1 10:00:0" + std::to_string(i) + " h sshd[1]: Invalid user " + forged +
           " from 192.0.2.1 port 5\n";
  // 3 MB without a newline until the end: skipped whole.
  log += std::string(3 << 20, 'x') + " from 203.0.113.9 port 22\n";
  log += std::string("May  1 10:00:09 h sshd[1]: Invalid user \0\0 from 192.0.2.2 port 5\n", 62);
  t.write("/huge.log", log);
  auto r = run_command(k_bin + " watch --config /dev/null --reference-time 1714557600 --replay " +
                       t.host("/huge.log"));
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("lines read: 5 "), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("too long (skipped): 1"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("ambiguous: 4"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("would have banned: 0"), std::string::npos) << r.out;
}

// guide 003 §3.3's point: an attack from many addresses must not exhaust
// memory. 10 million distinct sources (half IPv4, half distinct IPv6 /64s)
// through standard input; the child's peak RSS comes from wait4().
TEST(WatchCli, TenMillionSourcesStayUnder256MB) {
  int in[2];
  ASSERT_EQ(::pipe(in), 0);
  TempRoot t;
  std::string out_path = t.host("/out");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::dup2(in[0], 0);
    ::close(in[1]);
    int fd = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    ::dup2(fd, 1);
    ::execl(k_bin.c_str(), k_bin.c_str(), "watch", "--config", "/dev/null", "--quiet", "--replay",
            "-", static_cast<char *>(nullptr));
    ::_exit(127);
  }
  ::close(in[0]);
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer run of the suite checks the path, not the figure: a
  // quarter more distinct sources than the default table holds, so at least
  // that quarter is evicted (2 million cost it 38 s).
  const uint32_t k_n = static_cast<uint32_t>(bulwark::watch::Config{}.max_tracked * 5 / 4);
#else
  constexpr uint32_t k_n = 10'000'000;
#endif
  std::string buf;
  buf.reserve(1 << 20);
  auto num = [&](uint32_t v, int base) {
    char tmp[16];
    auto r = std::to_chars(tmp, tmp + sizeof tmp, v, base);
    buf.append(tmp, r.ptr);
  };
  for (uint32_t i = 0; i < k_n; ++i) {
    buf += "May  1 10:00:00 h sshd[1]: Invalid user a from ";
    if (i % 2 == 0) {
      num(11 + (i >> 24), 10), buf += '.', num((i >> 16) & 255, 10), buf += '.';
      num((i >> 8) & 255, 10), buf += '.', num(i & 255, 10);
    } else {
      buf += "2001:db8:", num(i >> 16, 16), buf += ':', num(i & 0xffff, 16), buf += "::1";
    }
    buf += " port 1\n";
    if (buf.size() > (1 << 20) - 200) {
      ASSERT_EQ(::write(in[1], buf.data(), buf.size()), static_cast<ssize_t>(buf.size()));
      buf.clear();
    }
  }
  ASSERT_EQ(::write(in[1], buf.data(), buf.size()), static_cast<ssize_t>(buf.size()));
  ::close(in[1]);
  int status = 0;
  struct rusage ru {};
  ASSERT_EQ(::wait4(pid, &status, 0, &ru), pid);
  ASSERT_TRUE(WIFEXITED(status));
  ASSERT_EQ(WEXITSTATUS(status), 0);
  std::ifstream f(out_path);
  std::string out = bulwark::test::read_all(f);
  long rss_kb = ru.ru_maxrss;
  std::cout << "peak RSS for " << k_n << " sources: " << rss_kb / 1024 << " MB\n" << out;
#if defined(__SANITIZE_ADDRESS__)
  // The sanitizer build's shadow memory and quarantine are not bulwark's.
  EXPECT_LT(rss_kb, 1024 * 1024);
#else
  EXPECT_LT(rss_kb, 256 * 1024);
#endif
  EXPECT_NE(out.find(fmt::format("lines read: {} ", k_n)), std::string::npos) << out;
  EXPECT_NE(out.find("evicted: "), std::string::npos);
  EXPECT_EQ(out.find("evicted: 0\n"), std::string::npos) << out;
}

// Live mode with --dry-run: bans printed, /metrics served on loopback and
// valid for promtool, the textfile written at exit, and a restart that
// neither replays nor skips (lines_read counts only what came after).
TEST(WatchCli, LiveDryRunMetricsAndRestart) {
  TempRoot t;
  t.write("/auth.log", "May  1 10:00:00 h sshd[1]: Invalid user old from 203.0.113.1 port 1\n");
  t.write("/watch.yaml", fmt::format("state_dir: {0}/state\nmetrics:\n  listen: 127.0.0.1:0\n"
                                     "  textfile: {0}/bulwark.prom\njails:\n  sshd:\n"
                                     "    logs: [{0}/auth.log]\n",
                                     t.path()));
  auto slurp = [&](const std::string &f) {
    std::ifstream in(t.host(f));
    return bulwark::test::read_all(in);
  };
  auto start = [&] {
    ::unlink(t.host("/err").c_str());
    run_command(fmt::format("{{ {} watch --dry-run --config {} >> {} 2> {} & echo $! > {}; }}",
                            k_bin, t.host("/watch.yaml"), t.host("/out"), t.host("/err"),
                            t.host("/pid")));
    bulwark::test::wait_for([&] { return slurp("/err").find("watching") != std::string::npos; },
                            5000);
    return slurp("/err");
  };
  auto stop = [&] {
    std::string pid = slurp("/pid");
    while (!pid.empty() && pid.back() == '\n')
      pid.pop_back();
    ASSERT_FALSE(pid.empty());
    run_command("kill -TERM " + pid);
    // Gone, or a zombie nobody reaps (the shell that started it has exited).
    std::string alive = "grep -qv '^[0-9]* ([^)]*) Z' /proc/" + pid + "/stat";
    for (int i = 0; i < 100 && run_command(alive).exit_code == 0; ++i)
      ::usleep(50000);
  };
  auto append = [&](const std::string &s) {
    std::ofstream(t.host("/auth.log"), std::ios::app) << s;
  };
  std::string err = start();
  size_t at = err.find("http://127.0.0.1:");
  ASSERT_NE(at, std::string::npos) << err;
  std::string url = err.substr(at, err.find('\n', at) - at);
  std::string three;
  for (int i = 0; i < 3; ++i)
    three += "May  1 10:00:0" + std::to_string(i) +
             " h sshd[1]: Failed password for root from 198.51.100.9 port 2 ssh2\n";
  append(three);
  bulwark::test::wait_for([&] { return slurp("/out").find("ban sshd") != std::string::npos; },
                          2000);
  EXPECT_NE(slurp("/out").find("ban sshd 198.51.100.9/32 for 3600s (3 failures, ban #1) [dry-run]"),
            std::string::npos)
      << slurp("/out") << slurp("/err");
  auto m = run_command("curl -s " + url);
  EXPECT_NE(m.out.find("auth_failed_total{service=\"sshd\",reason=\"failed_password\"} 3\n"),
            std::string::npos)
      << m.out << m.err;
  EXPECT_NE(m.out.find("bulwark_lines_read_total 3\n"), std::string::npos) << "history replayed";
  EXPECT_NE(m.out.find("bulwark_active_bans 1\n"), std::string::npos);
  if (have("promtool")) {
    auto p = run_command("curl -s " + url + " | promtool check metrics");
    EXPECT_EQ(p.exit_code, 0) << p.out << p.err;
  }
  EXPECT_EQ(run_command("curl -s -o /dev/null -w '%{http_code}' " + url + "/../x").out, "404");
  stop();
  EXPECT_NE(slurp("/state/positions.json").find("\"offset\""), std::string::npos);
  EXPECT_NE(slurp("/bulwark.prom").find("bulwark_lines_read_total 3\n"), std::string::npos);

  append("May  1 10:01:00 h sshd[1]: Invalid user new from 203.0.113.2 port 1\n");
  start();
  append("May  1 10:01:01 h sshd[1]: Invalid user new from 203.0.113.3 port 1\n");
  ::usleep(500000);
  stop();
  // Exactly the two lines written after the first run's last position.
  EXPECT_NE(slurp("/bulwark.prom").find("bulwark_lines_read_total 2\n"), std::string::npos)
      << slurp("/bulwark.prom");
}

// A jail the configuration names whose log does not exist is a startup
// error with its line (fail2ban refuses too); --allow-missing starts and
// follows the file once it appears.
TEST(WatchCli, ConfiguredJailWithoutItsLogRefusesToStart) {
  TempRoot t;
  t.write("/watch.yaml", fmt::format("state_dir: {0}/state\nmetrics:\n  listen: ''\njails:\n"
                                     "  sshd:\n    logs: [{0}/later.log]\n",
                                     t.path()));
  auto r = run_command(k_bin + " watch --dry-run --config " + t.host("/watch.yaml"));
  EXPECT_EQ(r.exit_code, 2) << r.out << r.err;
  EXPECT_NE(r.err.find(t.host("/watch.yaml") + ":6: jail sshd: " + t.host("/later.log") +
                       " does not exist"),
            std::string::npos)
      << r.err;

  auto slurp = [&](const std::string &f) {
    std::ifstream in(t.host(f));
    return bulwark::test::read_all(in);
  };
  run_command(
      fmt::format("{{ {} watch --dry-run --allow-missing --config {} > {} 2> {} & echo $! > {}; }}",
                  k_bin, t.host("/watch.yaml"), t.host("/out"), t.host("/err"), t.host("/pid")));
  bulwark::test::wait_for([&] { return slurp("/err").find("watching") != std::string::npos; },
                          5000);
  EXPECT_NE(slurp("/err").find("does not exist; waiting for it (--allow-missing)"),
            std::string::npos)
      << slurp("/err");
  std::string three;
  for (int i = 0; i < 3; ++i)
    three += "May  1 10:00:0" + std::to_string(i) + " h sshd[" + std::to_string(i) +
             "]: Failed password for root from 198.51.100.9 port 2 ssh2\n";
  t.write("/later.log", three);
  // The live loop polls a missing log once a second.
  bulwark::test::wait_for([&] { return slurp("/out").find("ban sshd") != std::string::npos; },
                          3000);
  std::string pid = slurp("/pid");
  while (!pid.empty() && pid.back() == '\n')
    pid.pop_back();
  ASSERT_FALSE(pid.empty());
  run_command("kill -TERM " + pid);
  EXPECT_NE(slurp("/out").find("ban sshd 198.51.100.9/32"), std::string::npos)
      << slurp("/out") << slurp("/err");
}
