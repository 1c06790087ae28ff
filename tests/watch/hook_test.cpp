// hook.exec: the program runs without a shell with its placeholders
// replaced and the ban as JSON on stdin; failures are counted; the
// configuration refuses a program that is not an absolute path; a live
// daemon runs it for each ban.
#include "../support.hpp"

#include <bulwark/watch/config.hpp>
#include <bulwark/watch/hook.hpp>

#include <filesystem>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace bulwark::watch;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

std::string slurp(const std::string &path) {
  std::ifstream in(path);
  return bulwark::test::read_all(in);
}

BanDecision ban_of(const char *addr) {
  BanDecision b;
  b.jail = "sshd";
  EXPECT_TRUE(parse_address(addr, b.source));
  b.prefix = 32;
  b.time = 1700000000;
  b.duration = 3600;
  b.failures = 3;
  b.reason = "failed_password";
  b.lines = {"May  1 10:00:00 h sshd[1]: Failed password for root from 192.0.2.9 port 2 ssh2"};
  return b;
}

// Reaps for up to 5 s (the hooks started are short scripts); returns the
// failures.
size_t reap_all(Hook &h) {
  size_t failed = 0;
  for (int i = 0; i < 200 && h.running() > 0; ++i) {
    ::usleep(25000);
    failed += h.reap();
  }
  EXPECT_EQ(h.running(), 0u);
  return failed;
}

} // namespace

TEST(WatchHook, RunsWithoutShellPlaceholdersAndJsonOnStdin) {
  TempRoot t;
  t.write("/hook.sh",
          fmt::format("#!/bin/sh\nprintf '%s\\n' \"$@\" > {0}/args\ncat > {0}/stdin\n", t.path()),
          0755);
  Hook h({t.host("/hook.sh"), "--ban={address}/{prefix}", "{jail} for {duration}s",
          "$(touch " + t.host("/injected") + ")", ";id"});
  ASSERT_TRUE(h.run(ban_of("192.0.2.9")));
  EXPECT_EQ(reap_all(h), 0u);
  EXPECT_EQ(slurp(t.host("/args")),
            "--ban=192.0.2.9/32\nsshd for 3600s\n$(touch " + t.host("/injected") + ")\n;id\n");
  EXPECT_FALSE(std::filesystem::exists(t.host("/injected"))) << "a shell ran the arguments";
  auto j = nlohmann::json::parse(slurp(t.host("/stdin")), nullptr, false);
  ASSERT_TRUE(j.is_object()) << slurp(t.host("/stdin"));
  EXPECT_EQ(j["address"], "192.0.2.9");
  EXPECT_EQ(j["jail"], "sshd");
  EXPECT_EQ(j["prefix"], 32);
  EXPECT_EQ(j["duration"], 3600);
  EXPECT_EQ(j["reason"], "failed_password");
  ASSERT_EQ(j["lines"].size(), 1u);
  EXPECT_NE(j["lines"][0].get<std::string>().find("Failed password"), std::string::npos);
}

TEST(WatchHook, FailuresAreCounted) {
  TempRoot t;
  t.write("/fail.sh", "#!/bin/sh\nexit 3\n", 0755);
  Hook failing({t.host("/fail.sh")});
  ASSERT_TRUE(failing.run(ban_of("192.0.2.1")));
  ASSERT_TRUE(failing.run(ban_of("192.0.2.2")));
  EXPECT_EQ(reap_all(failing), 2u);
  // A program that does not exist does not start.
  Hook missing({t.host("/no-such-hook")});
  EXPECT_FALSE(missing.run(ban_of("192.0.2.3")));
}

TEST(WatchHook, ConfigurationRefusesAProgramThatIsNotAPath) {
  auto bad = parse_config("hook:\n  exec: [notify-send, '{address}']\n", "/etc/bulwark/watch.yaml");
  ASSERT_FALSE(bad);
  EXPECT_NE(bad.error().to_string().find("absolute path"), std::string::npos)
      << bad.error().to_string();
  EXPECT_EQ(bad.error().line, 2);
  auto good = parse_config("hook:\n  exec: [/usr/local/bin/notify, '{address}']\n",
                           "/etc/bulwark/watch.yaml");
  ASSERT_TRUE(good) << good.error().to_string();
  EXPECT_EQ(good->hook_exec, (std::vector<std::string>{"/usr/local/bin/notify", "{address}"}));
}

// The daemon runs the hook for each ban (--dry-run: no nftables needed).
TEST(WatchHook, LiveDaemonRunsTheHookPerBan) {
  TempRoot t;
  t.write("/auth.log", "");
  t.write("/hook.sh", fmt::format("#!/bin/sh\necho \"$1\" >> {0}/banned\n", t.path()), 0755);
  t.write("/watch.yaml", fmt::format("state_dir: {0}/state\nmetrics:\n  listen: ''\n"
                                     "hook:\n  exec: [{0}/hook.sh, '{{address}}/{{prefix}}']\n"
                                     "jails:\n  sshd:\n    logs: [{0}/auth.log]\n",
                                     t.path()));
  run_command(fmt::format("{{ {} watch --dry-run --config {} > {} 2> {} & echo $! > {}; }}", k_bin,
                          t.host("/watch.yaml"), t.host("/out"), t.host("/err"), t.host("/pid")));
  for (int i = 0; i < 200 && slurp(t.host("/err")).find("watching") == std::string::npos; ++i)
    ::usleep(50000);
  std::string lines;
  for (const char *ip : {"198.51.100.7", "198.51.100.8"})
    for (int i = 0; i < 3; ++i)
      lines += fmt::format("May  1 10:00:0{} h sshd[{}]: Failed password for root from {} port 2 "
                           "ssh2\n",
                           i, i, ip);
  std::ofstream(t.host("/auth.log"), std::ios::app) << lines;
  for (int i = 0; i < 200 && slurp(t.host("/banned")).size() < 32; ++i)
    ::usleep(50000);
  std::string pid = slurp(t.host("/pid"));
  while (!pid.empty() && pid.back() == '\n')
    pid.pop_back();
  run_command("kill -TERM " + pid);
  // The hooks run concurrently: in either order.
  std::string banned = slurp(t.host("/banned"));
  EXPECT_TRUE(banned == "198.51.100.7/32\n198.51.100.8/32\n" ||
              banned == "198.51.100.8/32\n198.51.100.7/32\n")
      << banned << slurp(t.host("/err"));
}
