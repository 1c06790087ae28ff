// bulwark fix, password-max-age (src/fix/recipes/accounts.cpp): existing
// accounts with a usable password get their maximum age (shadow field 5)
// as `chage -M` sets it, the hash and the other fields byte for byte, the
// file's mode and group kept; pwck accepts the result; chage itself, run on
// the fixed file, reads the new maximum; locked accounts are left alone; the
// playbook runs chage instead of carrying the hashes.

#include "fix_support.hpp"

#include <bulwark/fix/ansible.hpp>

#include <ctime>
#include <sys/stat.h>

namespace bulwark::fix {
namespace {

using test::run_command;
using test::TempRoot;
using test_support::round_trip;
using test_support::snapshot;
using test_support::status_of;

// Ten days ago, in shadow's days since the epoch: a password that a maximum
// of 90 days leaves valid.
std::string recent() {
  return std::to_string(std::time(nullptr) / 86400 - 10);
}

constexpr const char *k_hash = "$y$j9T$0123456789abcdefghijk.$ABCDEFGHIJKLMNOPQRSTUVWXYZ012345678";

class FixPasswordMaxAge : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE(::geteuid() == 0) << "pwck runs in a mount namespace; chown needs root";
    BULWARK_REQUIRE_TOOL("/usr/sbin/pwck") << "(Debian package passwd)";
    r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
                           "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n"
                           "alice:x:1000:1000:Alice:/home/alice:/bin/bash\n"
                           "bob:x:1001:1001:Bob:/home/bob:/bin/bash\n"
                           "carol:x:1002:1002:Carol:/home/carol:/bin/bash\n");
    r.write("/etc/group", "root:x:0:\ndaemon:x:1:\nshadow:x:42:\nalice:x:1000:\nbob:x:1001:\n"
                          "carol:x:1002:\n");
    // alice: no maximum; bob: 99999; carol: locked (left alone); daemon: no password.
    r.write("/etc/shadow",
            std::string("root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n") +
                "alice:" + k_hash + ":" + recent() + ":0::7:::\nbob:" + k_hash + ":" + recent() +
                ":1:99999:7:30::\n" + "carol:!" + k_hash + ":19500:0:99999:7:::\n",
            0640);
    ASSERT_EQ(::chown(r.host("/etc/shadow").c_str(), 0, 42), 0);
    r.write("/etc/login.defs", "PASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\nUID_MIN 1000\n");
  }
  TempRoot r;
};

TEST_F(FixPasswordMaxAge, ExistingAccountsGetTheMaximumAndKeepTheirHashModeAndGroup) {
  Plan plan = round_trip(r.path(), {"accounts.password-max-age"});
  ASSERT_EQ(plan.actions.size(), 1u);
  const Action &a = plan.actions[0];
  ASSERT_EQ(a.edits.size(), 2u);
  EXPECT_EQ(a.edits[0].path, "/etc/login.defs");
  EXPECT_EQ(a.edits[0].after, "PASS_MAX_DAYS 90\nPASS_MIN_DAYS\t0\nUID_MIN 1000\n");
  const FileEdit &shadow = a.edits[1];
  EXPECT_EQ(shadow.path, "/etc/shadow");
  EXPECT_TRUE(shadow.secret);
  EXPECT_EQ(shadow.after, std::string("root:*:19000:0:99999:7:::\ndaemon:*:19000:0:99999:7:::\n") +
                              "alice:" + k_hash + ":" + recent() + ":0:90:7:::\nbob:" + k_hash +
                              ":" + recent() + ":1:90:7:30::\n" + "carol:!" + k_hash +
                              ":19500:0:99999:7:::\n");
  EXPECT_EQ(shadow.ansible_commands,
            (std::vector<std::vector<std::string>>{{"chage", "-M", "90", "alice"},
                                                   {"chage", "-M", "90", "bob"}}));

  ASSERT_TRUE(apply_plan(plan).ok());
  struct stat st;
  ASSERT_EQ(::stat(r.host("/etc/shadow").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  EXPECT_EQ(st.st_gid, 42u);
  auto pwck = run_command("pwck -r -q -R '" + r.path() + "'");
  EXPECT_EQ(pwck.exit_code, 0) << pwck.out << pwck.err;
  // chage reads the fixed file as bulwark wrote it.
  auto chage = run_command("LC_ALL=C chage -R '" + r.path() + "' -l alice");
  EXPECT_NE(chage.out.find("Maximum number of days between password change\t\t: 90"),
            std::string::npos)
      << chage.out << chage.err;

  // The playbook runs chage; no hash goes into it.
  std::string yml = render_ansible(plan);
  EXPECT_EQ(yml.find(k_hash), std::string::npos);
  EXPECT_NE(yml.find("          - !unsafe \"chage\"\n          - !unsafe \"-M\"\n"
                     "          - !unsafe \"90\"\n          - !unsafe \"alice\"\n"),
            std::string::npos)
      << yml;
  ASSERT_TRUE(rollback(r.path(), "all").ok());
}

TEST_F(FixPasswordMaxAge, APasswordTheMaximumWouldExpireNowIsRefusedNotLockedOut) {
  // alice changed hers in 2023 (day 19500): with a maximum of 90 days it
  // would be expired at once, and PAM would refuse even her key login.
  r.write("/etc/shadow",
          std::string("root:*:19000:0:99999:7:::\nalice:") + k_hash + ":19500:0::7:::\n", 0640);
  auto before = snapshot(r.path());
  PlanRequest req;
  req.root = r.path();
  req.only = {"accounts.password-max-age"};
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_NE(plan->refused[0].reason.find("would expire it now"), std::string::npos)
      << plan->refused[0].reason;
  EXPECT_EQ(snapshot(r.path()), before);
}

TEST_F(FixPasswordMaxAge, PassingConfigurationGetsNoAction) {
  r.write("/etc/login.defs", "PASS_MAX_DAYS 60\n");
  r.write("/etc/shadow",
          std::string("root:*:19000:0:99999:7:::\nalice:") + k_hash + ":19500:0:60:7:::\n", 0640);
  EXPECT_EQ(status_of(r.path(), "accounts.password-max-age"), Status::pass);
  auto before = snapshot(r.path());
  PlanRequest req;
  req.root = r.path();
  req.only = {"accounts.password-max-age"};
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  EXPECT_TRUE(plan->refused.empty());
  auto now = snapshot(r.path());
  EXPECT_TRUE(now == before) << test_support::tree_diff(before, now);
}

} // namespace
} // namespace bulwark::fix
