// A real nginx 1.22 with basic auth, driven by real clients (git ls-remote
// and curl --anyauth with the right password, curl with wrong ones) in a
// private network namespace (data/nginx_scenarios.sh): the 401 challenges
// the legitimate clients get before sending credentials are no failures,
// each wrong password counts once whether access.log, error.log or both
// are read, and only the attacker is banned.
#include "../support.hpp"

#include <gtest/gtest.h>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

TEST(WatchNginxLive, ChallengesAreNoFailuresAndEachFailureCountsOnce) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root for a network namespace";
  for (const char *tool : {"nginx", "git", "curl", "openssl", "unshare", "ip"})
    BULWARK_REQUIRE_TOOL(tool) << "(Debian packages nginx, git, curl, openssl, util-linux, "
                                  "iproute2)";
  TempRoot t;
  const std::string script =
      std::string(BULWARK_SOURCE_DIR) + "/tests/watch/data/nginx_scenarios.sh";
  auto r = run_command("unshare -n sh " + script + " " + t.path());
  ASSERT_EQ(r.exit_code, 0) << r.err << r.out;
  const std::string bin = BULWARK_BINARY;
  const std::string access = t.host("/access.log"), error = t.host("/error.log");
  // The clients did what the scenario says: six challenges to the
  // legitimate source, three failures of the attacker's.
  auto n = [&](const std::string &pattern, const std::string &file) {
    return run_command("grep -c '" + pattern + "' " + file).out;
  };
  ASSERT_EQ(n("^10.78.0.1 - - .* 401 ", access), "6\n");
  ASSERT_EQ(n("^10.78.0.2 - [a-z]* .* 401 ", access), "3\n");

  t.write("/error_log.yaml", "nginx:\n  failures_from: error_log\n");
  struct Case {
    std::string config, files;
  } cases[] = {{"/dev/null", access},
               {"/dev/null", access + " " + error},
               {t.host("/error_log.yaml"), error},
               {t.host("/error_log.yaml"), access + " " + error}};
  for (auto &c : cases) {
    SCOPED_TRACE(c.config + ": " + c.files);
    auto out = run_command(bin + " watch --config " + c.config + " --replay " + c.files);
    ASSERT_EQ(out.exit_code, 0) << out.err;
    // Three failures in all, whatever the reason label.
    size_t total = 0;
    for (size_t p = 0;
         (p = out.out.find("auth_failed_total{service=\"nginx\"", p)) != std::string::npos; ++p)
      total += std::stoul(out.out.substr(out.out.find("} ", p) + 2));
    EXPECT_EQ(total, 3u) << out.out;
    EXPECT_NE(out.out.find("would have banned: 1\n"), std::string::npos) << out.out;
    EXPECT_NE(out.out.find("nginx       10.78.0.2/32"), std::string::npos) << out.out;
    EXPECT_EQ(out.out.find("10.78.0.1/"), std::string::npos) << "a legitimate client banned";
  }
}
