// bulwark fix, host recipes (src/fix/recipes/host.cpp): per kind, a failing
// fixture root -> plan (real validators) -> apply -> the finding passes ->
// a second plan is empty -> rollback restores the tree byte for byte; the
// daemon's own program accepts the files; a passing configuration gets no
// action; what cannot be fixed safely is refused with its reason.

#include "fix_support.hpp"

#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/auditrules.hpp>

namespace bulwark::fix {
namespace {

using test::TempRoot;
using test_support::action_of;
using test_support::plan_only;
using test_support::round_trip;
using test_support::snapshot;
using test_support::status_of;

// --- sudoers-dropin ------------------------------------------------------------

class FixSudoers : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE(::geteuid() == 0) << "visudo runs in a mount namespace (needs root)";
    BULWARK_REQUIRE_TOOL("/usr/sbin/visudo") << "(Debian package sudo)";
    r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    r.write("/etc/group", "root:x:0:\nsudo:x:27:\n");
  }
  // Debian 12's /etc/sudoers, with `extra` before its includedir.
  void sudoers(const std::string &extra) {
    r.write("/etc/sudoers",
            "Defaults\tenv_reset\nDefaults\tmail_badpass\n"
            "Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\"\n" +
                extra +
                "root\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
            0440);
    r.write("/etc/sudoers.d/README", "# files in this directory are read\n", 0440);
  }
  // visudo -c -f on the root's files, as they are on disk after the apply.
  test::RunResult visudo_on_disk() const {
    return test::run_command("/usr/sbin/visudo -c -f '" + r.host("/etc/sudoers.d/zz-bulwark") +
                             "'");
  }
  TempRoot r;
};

TEST_F(FixSudoers, DropInReadLastOverridesAnEarlierNegationAndVisudoAcceptsIt) {
  sudoers("");
  // An earlier drop-in turns use_pty off: the last assignment wins, so ours
  // must be read after it.
  r.write("/etc/sudoers.d/50-local", "Defaults !use_pty\n", 0440);
  auto original = snapshot(r.path());
  Plan plan = round_trip(r.path(), {"accounts.sudo-logging"});
  const Action *a = action_of(plan, "accounts.sudo-logging");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  const FileEdit &e = a->edits[0];
  EXPECT_EQ(e.path, "/etc/sudoers.d/zz-bulwark");
  EXPECT_FALSE(e.before.has_value());
  EXPECT_EQ(e.mode, 0440u);
  EXPECT_EQ(e.after, "# Written by bulwark fix: sudo Defaults, read after the other drop-ins (last "
                     "wins).\nDefaults use_pty\nDefaults logfile=/var/log/sudo.log\n");
  EXPECT_EQ(a->validators, std::vector<Validator>{Validator::visudo});
  EXPECT_TRUE(a->restart_units.empty()) << "sudo reads sudoers on every run";

  // The applied file, judged by visudo itself.
  ASSERT_TRUE(apply_plan(plan).ok());
  auto v = visudo_on_disk();
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
  struct stat st;
  ASSERT_EQ(::stat(r.host("/etc/sudoers.d/zz-bulwark").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0440u);
  ASSERT_TRUE(rollback(r.path(), "all").ok());
  {
    auto restored = snapshot(r.path());
    EXPECT_TRUE(restored == original) << test_support::tree_diff(original, restored);
  }
}

TEST_F(FixSudoers, OnlyTheMissingSettingIsAddedAndOurLineIsReplacedNotRepeated) {
  // logfile is set; use_pty is off in our own earlier drop-in (as a user
  // might have edited it): that line is replaced.
  sudoers("Defaults\tlogfile=/var/log/sudo.log\n");
  r.write("/etc/sudoers.d/zz-bulwark", "# local\nDefaults !use_pty\n", 0440);
  Plan plan = round_trip(r.path(), {"accounts.sudo-logging"});
  const Action *a = action_of(plan, "accounts.sudo-logging");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->edits.at(0).after, "# local\nDefaults use_pty\n");
}

TEST_F(FixSudoers, PassingConfigurationGetsNoAction) {
  sudoers("Defaults\tuse_pty\nDefaults\tlog_output\n");
  EXPECT_EQ(status_of(r.path(), "accounts.sudo-logging"), Status::pass);
  auto before = snapshot(r.path());
  Plan plan = plan_only(r, {"accounts.sudo-logging"});
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.refused.empty());
  {
    auto now = snapshot(r.path());
    EXPECT_TRUE(now == before) << test_support::tree_diff(before, now);
  }
}

TEST_F(FixSudoers, WithoutIncludedirTheFixIsRefusedNotWrittenWhereSudoNeverLooks) {
  r.write("/etc/sudoers", "Defaults\tenv_reset\nroot\tALL=(ALL:ALL) ALL\n", 0440);
  Plan plan = plan_only(r, {"accounts.sudo-logging"});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("does not include /etc/sudoers.d"), std::string::npos)
      << plan.refused[0].reason;
}

TEST_F(FixSudoers, ALaterDropInThatNegatesAgainIsRefused) {
  sudoers("");
  // Sorts after zz-bulwark: whatever the fix writes, this line wins.
  r.write("/etc/sudoers.d/zzz-local", "Defaults !use_pty\n", 0440);
  Plan plan = plan_only(r, {"accounts.sudo-logging"});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("overrides Defaults use_pty"), std::string::npos)
      << plan.refused[0].reason;
}

// --- auditd-rule -----------------------------------------------------------------

class FixAudit : public ::testing::Test {
protected:
  void SetUp() override {
    r.write(
        "/var/lib/dpkg/status",
        "Package: auditd\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:3.0.9-1\n");
    r.write("/etc/pam.d/sshd", "@include common-auth\n");
    r.write("/etc/audit/auditd.conf", "log_file = /var/log/audit/audit.log\n", 0640);
  }
  // Debian 12's /etc/audit/rules.d/audit.rules.
  void debian_rules() {
    r.write("/etc/audit/rules.d/audit.rules",
            "## First rule - delete all\n-D\n\n-b 8192\n\n--backlog_wait_time 60000\n\n-f 1\n",
            0640);
  }
  static audit::AuditRules compiled(const std::string &root) {
    return audit::load_audit_rules(RootFs(root));
  }
  TempRoot r;
};

const std::vector<std::string> k_audit_checks = {
    "logging.audit-rules", "logging.audit-rules-extended", "logging.audit-config-changes"};

TEST_F(FixAudit, RulesDropInRecordsWhatTheThreeChecksAskAndParsesClean) {
  debian_rules();
  auto original = snapshot(r.path());
  Plan plan = round_trip(r.path(), k_audit_checks);
  ASSERT_EQ(plan.actions.size(), 3u);
  for (auto &a : plan.actions) {
    ASSERT_EQ(a.edits.size(), 1u) << a.check_id;
    EXPECT_EQ(a.edits[0].path, "/etc/audit/rules.d/bulwark.rules") << a.check_id;
    EXPECT_EQ(a.restart_units, std::vector<std::string>{"auditd.service"});
  }
  // The three actions build one file; the last holds every rule once.
  const std::string &text = plan.actions.back().edits[0].after;
  EXPECT_NE(text.find("\n-w /etc/passwd -p wa -k identity\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n-a always,exit -F arch=b64 -S execve -F euid=0 -F auid>=1000 -F "
                      "auid!=unset -k privileged\n"),
            std::string::npos);
  EXPECT_NE(text.find("\n-w /var/run/faillock -p wa -k logins\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n-w /etc/pam.d -p wa -k config\n"), std::string::npos) << text;
  EXPECT_NE(text.find("\n-w /etc/audit -p wa -k config\n"), std::string::npos) << text;
  // augenrules' compilation of the applied root: no diagnostics, -D first.
  ASSERT_TRUE(apply_plan(plan).ok());
  audit::AuditRules rules = compiled(r.path());
  EXPECT_TRUE(rules.diagnostics.empty())
      << rules.diagnostics.front().loc.path << ":" << rules.diagnostics.front().loc.line << " "
      << rules.diagnostics.front().message;
  EXPECT_GE(rules.rules.size(), 20u);
  struct stat st;
  ASSERT_EQ(::stat(r.host("/etc/audit/rules.d/bulwark.rules").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_TRUE(rollback(r.path(), "all").ok());
  {
    auto restored = snapshot(r.path());
    EXPECT_TRUE(restored == original) << test_support::tree_diff(original, restored);
  }
}

TEST_F(FixAudit, AuditRulesWithoutRulesDGetTheRulesBeforeTheirImmutableFlag) {
  // No rules.d: auditd loads audit.rules as it is; after "-e 2" the kernel
  // takes no more rules, so they go before it.
  r.write("/etc/audit/audit.rules", "-D\n-w /etc/passwd -p wa -k identity\n-e 2\n", 0640);
  Plan plan = round_trip(r.path(), {"logging.audit-rules"});
  const Action *a = action_of(plan, "logging.audit-rules");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].path, "/etc/audit/audit.rules");
  const std::string &text = a->edits[0].after;
  EXPECT_EQ(text.rfind("\n-e 2\n"), text.size() - 6) << text;
  EXPECT_EQ(text.find("-w /etc/passwd"), text.rfind("-w /etc/passwd")) << "no duplicate";
  EXPECT_NE(text.find("-w /etc/sudoers.d -p wa -k scope\n"), std::string::npos) << text;
  EXPECT_FALSE(std::filesystem::exists(r.host("/etc/audit/rules.d")));
}

TEST_F(FixAudit, PassingRulesGetNoAction) {
  debian_rules();
  r.write("/etc/audit/rules.d/50-local.rules",
          "-w /etc/passwd -p wa -k identity\n-w /etc/shadow -p wa -k identity\n"
          "-w /etc/group -p wa -k identity\n-w /etc/gshadow -p wa -k identity\n"
          "-w /etc/sudoers -p wa -k scope\n-w /etc/sudoers.d -p wa -k scope\n"
          "-w /etc/ssh/sshd_config -p wa -k sshd\n"
          "-a always,exit -F arch=b64 -S execve -F euid=0 -k privileged\n",
          0640);
  EXPECT_EQ(status_of(r.path(), "logging.audit-rules"), Status::pass);
  auto before = snapshot(r.path());
  Plan plan = plan_only(r, {"logging.audit-rules"});
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.refused.empty());
  {
    auto now = snapshot(r.path());
    EXPECT_TRUE(now == before) << test_support::tree_diff(before, now);
  }
}

TEST_F(FixAudit, RulesWithAnErrorAreRefusedNotPiledOn) {
  debian_rules();
  // auditctl -R stops at the first rule it rejects: adding more after it
  // would prove nothing.
  r.write("/etc/audit/rules.d/40-broken.rules",
          "-w /etc/hosts -p wa -k hosts\n-a sometimes,exit -S open\n", 0640);
  Plan plan = plan_only(r, {"logging.audit-rules"});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("40-broken.rules"), std::string::npos)
      << plan.refused[0].reason;
}

// --- shell-timeout -----------------------------------------------------------------

TEST(FixShellTimeout, DropInSourcedLastSetsAReadOnlyTimeoutAndDashAcceptsIt) {
  TempRoot r;
  r.write("/etc/profile", "if [ -d /etc/profile.d ]; then\n  for i in /etc/profile.d/*.sh; do\n"
                          "    . $i\n  done\nfi\n");
  // An earlier, weaker value that is not read-only: ours comes later and wins.
  r.write("/etc/profile.d/50-local.sh", "TMOUT=3600\n");
  Plan plan = round_trip(r.path(), {"accounts.session-timeout"});
  const Action *a = action_of(plan, "accounts.session-timeout");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].path, "/etc/profile.d/zz-bulwark-tmout.sh");
  EXPECT_EQ(a->edits[0].mode, 0644u);
  // The shell itself: a login shell reading the fixed profile ends up with
  // TMOUT=900, read-only.
  BULWARK_REQUIRE_TOOL("dash") << "(Debian package dash)";
  ASSERT_TRUE(apply_plan(plan).ok());
  auto sh = test::run_command("cd '" + r.path() + "' && dash -c '. ./etc/profile.d/50-local.sh; " +
                              ". ./etc/profile.d/zz-bulwark-tmout.sh; echo $TMOUT; TMOUT=0' ");
  EXPECT_EQ(sh.out, "900\n");
  EXPECT_NE(sh.err.find("read"), std::string::npos) << "TMOUT must be read-only: " << sh.err;
  ASSERT_TRUE(rollback(r.path(), "all").ok());
}

TEST(FixShellTimeout, AnEarlierReadOnlyTimeoutIsRefusedNotShadowed) {
  TempRoot r;
  r.write("/etc/profile", "readonly TMOUT=0\n");
  Plan plan = plan_only(r, {"accounts.session-timeout"});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("re-audit"), std::string::npos) << plan.refused[0].reason;
}

TEST(FixShellTimeout, PassingConfigurationGetsNoAction) {
  TempRoot r;
  r.write("/etc/profile.d/tmout.sh", "readonly TMOUT=600\nexport TMOUT\n");
  EXPECT_EQ(status_of(r.path(), "accounts.session-timeout"), Status::pass);
  Plan plan = plan_only(r, {"accounts.session-timeout"});
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.refused.empty());
}

// --- logrotate ---------------------------------------------------------------------

class FixLogrotate : public ::testing::Test {
protected:
  void SetUp() override {
    r.write("/var/lib/dpkg/status",
            "Package: rsyslog\nStatus: install ok installed\nArchitecture: amd64\nVersion: 8\n\n"
            "Package: logrotate\nStatus: install ok installed\nArchitecture: amd64\nVersion: 3\n");
    r.write("/etc/rsyslog.conf", "auth,authpriv.*\t\t\t/var/log/auth.log\n"
                                 "*.*;auth,authpriv.none\t\t-/var/log/syslog\n");
    r.write("/etc/logrotate.conf", "weekly\nrotate 4\ncreate\ninclude /etc/logrotate.d\n");
  }
  // Debian 12's /etc/logrotate.d/rsyslog, with `rotate` as given ("" none).
  void rsyslog_block(const std::string &rotate) {
    r.write("/etc/logrotate.d/rsyslog",
            "/var/log/syslog\n/var/log/mail.log\n/var/log/auth.log\n{\n" + rotate +
                "\tweekly\n\tmissingok\n\tcompress\n\tsharedscripts\n\tpostrotate\n"
                "\t\t/usr/lib/rsyslog/rsyslog-rotate\n\tendscript\n}\n");
  }
  TempRoot r;
};

TEST_F(FixLogrotate, TheOwningBlocksRotateIsRaisedInPlace) {
  rsyslog_block("\trotate 4\n");
  Plan plan = round_trip(r.path(), {"logging.retention"});
  const Action *a = action_of(plan, "logging.retention");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u) << "the global default in logrotate.conf is left alone";
  EXPECT_EQ(a->edits[0].path, "/etc/logrotate.d/rsyslog");
  // 90 days at weekly: 13 weeks.
  EXPECT_EQ(a->edits[0].after,
            "/var/log/syslog\n/var/log/mail.log\n/var/log/auth.log\n{\n\trotate 13\n\tweekly\n"
            "\tmissingok\n\tcompress\n\tsharedscripts\n\tpostrotate\n"
            "\t\t/usr/lib/rsyslog/rsyslog-rotate\n\tendscript\n}\n");
  // logrotate itself reads the fixed files without complaint.
  BULWARK_REQUIRE_TOOL("/usr/sbin/logrotate") << "(Debian package logrotate)";
  ASSERT_TRUE(apply_plan(plan).ok());
  TempRoot state;
  auto lr = test::run_command("cd '" + r.path() + "' && /usr/sbin/logrotate -d -s '" +
                              state.path() + "/status' ./etc/logrotate.d/rsyslog");
  EXPECT_EQ(lr.exit_code, 0) << lr.out << lr.err;
  EXPECT_EQ(lr.err.find("error"), std::string::npos) << lr.err;
  ASSERT_TRUE(rollback(r.path(), "all").ok());
}

TEST_F(FixLogrotate, ABlockWithoutItsOwnRotateGetsOneAndAShortMaxageIsRaised) {
  // The block inherits rotate 4 from logrotate.conf and caps at 30 days.
  rsyslog_block("\tmaxage 30\n");
  Plan plan = round_trip(r.path(), {"logging.retention"});
  const Action *a = action_of(plan, "logging.retention");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_NE(a->edits[0].after.find("{\n\trotate 13\n\tmaxage 90\n\tweekly\n"), std::string::npos)
      << a->edits[0].after;
}

TEST_F(FixLogrotate, SizeBasedRotationIsLeftAloneAndAOneDayBlockIsRaised) {
  r.write("/etc/logrotate.conf", "rotate 4\ninclude /etc/logrotate.d\n");
  r.write("/etc/logrotate.d/rsyslog", "/var/log/syslog /var/log/auth.log {\n\tsize 10M\n}\n");
  r.write("/etc/logrotate.d/other", "/var/log/other.log {\n\tdaily\n\trotate 1\n}\n");
  // Size rotation is a warning (the volume decides), not a failure: no fix.
  Plan plan = plan_only(r, {"logging.retention"});
  EXPECT_TRUE(plan.actions.empty());
  // A daily block of one day fails and is raised to 90.
  r.write("/etc/logrotate.d/rsyslog", "/var/log/syslog /var/log/auth.log {\n\tdaily\n}\n");
  Plan daily = round_trip(r.path(), {"logging.retention"});
  ASSERT_EQ(daily.actions.size(), 1u);
  EXPECT_EQ(daily.actions[0].edits.at(0).after,
            "/var/log/syslog /var/log/auth.log {\n\trotate 90\n\tdaily\n}\n");
}

TEST_F(FixLogrotate, PassingRetentionGetsNoAction) {
  rsyslog_block("\trotate 13\n");
  EXPECT_EQ(status_of(r.path(), "logging.retention"), Status::pass);
  Plan plan = plan_only(r, {"logging.retention"});
  EXPECT_TRUE(plan.actions.empty());
  EXPECT_TRUE(plan.refused.empty());
}

TEST(FixHostRecipes, KindsAreListedAndTheirChecksCarryThem) {
  for (const char *k : {"sudoers-dropin", "auditd-rule", "shell-timeout", "logrotate"})
    EXPECT_NE(find_recipe_kind(k), nullptr) << k;
  const Catalogue &cat = Catalogue::builtin();
  for (const char *id :
       {"accounts.sudo-logging", "logging.audit-rules", "logging.audit-rules-extended",
        "logging.audit-config-changes", "logging.audit-secret-access"})
    EXPECT_TRUE(cat.find(id)->recipe.has_value()) << id;
}

} // namespace
} // namespace bulwark::fix
