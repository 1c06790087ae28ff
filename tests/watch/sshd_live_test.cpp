// A real OpenSSH sshd (Debian 12: 9.2, UsePAM yes) driven by real clients
// (sshpass, ssh -o BatchMode, SSH_ASKPASS) through the scenarios of issue
// 19, in private mount and network namespaces (data/sshd_scenarios.sh): its
// log, with the PAM modules' lines, is replayed and each scenario's
// attempts are counted exactly; the bans of the whole log are the sources
// with at least maxretry real attempts.
#include "../support.hpp"

#include <bulwark/watch/engine.hpp>

#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <set>

using namespace bulwark::watch;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

} // namespace

TEST(WatchSshdLive, RealSshdAttemptsAndBans) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root for mount and network namespaces";
  for (const char *tool : {"sshpass", "ssh", "ssh-keygen", "unshare", "openssl", "ip", "logger"})
    BULWARK_REQUIRE_TOOL(tool) << "(Debian packages sshpass, openssh-client, util-linux, openssl, "
                                  "iproute2, bsdutils)";
  BULWARK_REQUIRE(::access("/usr/sbin/sshd", X_OK) == 0)
      << "needs /usr/sbin/sshd (Debian package openssh-server)";
  BULWARK_REQUIRE(::access("/usr/bin/python3", X_OK) == 0) << "needs /usr/bin/python3";
  TempRoot t;
  const std::string script =
      std::string(BULWARK_SOURCE_DIR) + "/tests/watch/data/sshd_scenarios.sh";
  auto r = run_command("unshare -mn sh " + script + " " + t.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string log = slurp(t.host("/auth.log"));
  ASSERT_NE(log.find("scenario end"), std::string::npos) << log << r.err;

  // Split by scenario marker; each scenario replayed on its own.
  std::map<int, std::string> scenarios;
  int current = 0;
  size_t pos = 0;
  while (pos < log.size()) {
    size_t nl = log.find('\n', pos);
    std::string line = log.substr(pos, nl - pos);
    pos = nl == std::string::npos ? log.size() : nl + 1;
    size_t m = line.find("bulwark-test: scenario ");
    if (m != std::string::npos) {
      current = std::atoi(line.c_str() + m + 23);
      continue;
    }
    if (current != 0)
      scenarios[current] += line + "\n";
  }
  struct Want {
    uint64_t attempts;
    uint64_t probes;
  };
  const std::map<int, Want> want = {
      {11, {1, 0}}, // one wrong password
      {12, {1, 0}}, // invalid user, one wrong password
      {13, {1, 0}}, // keyboard-interactive, one wrong password
      {14, {0, 0}}, // BatchMode, key not authorized: a preauth close only
      {15, {0, 1}}, // invalid user, nothing tried
      {16, {3, 0}}, // three wrong passwords in one connection
      {17, {6, 0}}, // MaxAuthTries 6 exceeded
      {18, {0, 0}}, // the right password, three times
      {19, {0, 0}}, // the right key, three times
      {20, {3, 0}}, // three connections, one wrong password each
      {21, {2, 0}}, // two wrong passwords, then the right one
  };
  ASSERT_EQ(scenarios.size(), want.size()) << log;
  for (auto &[n, w] : want) {
    SCOPED_TRACE(fmt::format("scenario {}:\n{}", n, scenarios[n]));
    Engine e(default_config(), ::time(nullptr));
    size_t p = 0;
    const std::string &s = scenarios[n];
    while (p < s.size()) {
      size_t nl = s.find('\n', p);
      e.process(std::string_view(s).substr(p, nl - p));
      p = nl + 1;
    }
    e.finish();
    uint64_t attempts = 0, probes = 0;
    for (auto &[k, v] : e.counters().by_reason) {
      ASSERT_EQ(k.service, "sshd");
      (k.reason == "invalid_user" ? probes : attempts) += v;
    }
    EXPECT_EQ(attempts, w.attempts);
    EXPECT_EQ(probes, w.probes);
  }

  // The whole log through the command line: bans are exactly the sources
  // with three or more attempts within findtime.
  auto replay = run_command(std::string(BULWARK_BINARY) + " watch --config /dev/null --replay " +
                            t.host("/auth.log"));
  ASSERT_EQ(replay.exit_code, 0) << replay.err;
  std::set<std::string> banned;
  for (size_t p = 0; (p = replay.out.find(" sshd ", p)) != std::string::npos; ++p) {
    size_t a = replay.out.find_first_not_of(' ', p + 6);
    banned.insert(replay.out.substr(a, replay.out.find('/', a) - a));
  }
  EXPECT_EQ(banned, (std::set<std::string>{"10.77.0.16", "10.77.0.17", "10.77.0.20"}))
      << replay.out;
  EXPECT_NE(replay.out.find("would have banned: 3\n"), std::string::npos) << replay.out;
}
