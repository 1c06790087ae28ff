// The PAM recipes (src/fix/recipes/pam.cpp) on the debootstrapped Debian 12
// root: pam_faillock and pam_pwhistory through pam-auth-update profiles,
// pam_wheel in /etc/pam.d/su. Each check fails, the plan fixes it, the
// root's own pam-auth-update --package writes exactly the plan's common-*
// files (Validator::pam), a second plan is empty and the rollback restores
// the tree; then libpam itself (pamtester, chrooted) shows the stacks work:
// the right password still logs in, three wrong ones lock the account, root
// is never locked, and su refuses an account outside the group.

#include "fix_support.hpp"

#include <bulwark/fix/ansible.hpp>

namespace bulwark::fix {
namespace {

using test::run_command;
using test::TempRoot;

constexpr const char *k_admin_pw = "Pam-Admin-Pass-42";
constexpr const char *k_root_pw = "Pam-Root-Pass-42";
const std::vector<std::string> k_checks = {"accounts.lockout", "accounts.password-history",
                                           "accounts.su-restricted"};

class FixPam : public ::testing::Test {
protected:
  // One prepared root for the suite (test_support::SharedRoot): the round
  // trip's rollback restores it, the hand-edit test puts back what it and
  // pam-auth-update changed.
  static void TearDownTestSuite() { s_shared.reset(); }

  void SetUp() override {
    std::string src;
    BULWARK_REQUIRE_DEBIAN_ROOT(src);
    BULWARK_REQUIRE(::geteuid() == 0) << "needs root (chroot, mount namespaces)";
    BULWARK_REQUIRE_TOOL("unshare") << "(util-linux)";
    BULWARK_REQUIRE(std::filesystem::exists(src + "/usr/sbin/pam-auth-update"))
        << "the Debian root has no pam-auth-update";
    if (s_shared.reusable("FixPam"))
      return;
    s_shared.fresh();
    auto cp = run_command("cp -a --reflink=auto '" + src + "/.' '" + root().path() + "/'");
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    // admin (uid 1000) and root with known passwords.
    auto hash = [](const char *pw) {
      auto h = run_command(std::string("openssl passwd -6 -salt pamsalt '") + pw + "'");
      return h.out.substr(0, h.out.find('\n'));
    };
    std::string admin = hash(k_admin_pw), rootpw = hash(k_root_pw);
    ASSERT_TRUE(admin.starts_with("$6$")) << admin;
    std::ofstream(root().host("/etc/passwd"), std::ios::app)
        << "admin:x:1000:1000:Admin:/home/admin:/bin/bash\n";
    std::ofstream(root().host("/etc/group"), std::ios::app) << "admin:x:1000:\n";
    std::string shadow = read("/etc/shadow");
    auto at = shadow.find("root:");
    ASSERT_EQ(at, 0u) << "root is not the first line of /etc/shadow";
    shadow.replace(5, shadow.find(':', 5) - 5, rootpw);
    shadow += "admin:" + admin + ":19000:0:99999:7:::\n";
    std::ofstream(root().host("/etc/shadow"), std::ios::trunc) << shadow;
    s_shared.prepared();
  }

  static const TempRoot &root() { return s_shared.root(); }

  std::string read(const std::string &target) const { return read_host(root().host(target)); }
  static std::string read_host(const std::string &path) {
    std::ifstream in(path, std::ios::binary);
    return bulwark::test::read_all(in);
  }

  // Runs `script` chrooted in the root with /run on a tmpfs (pam_faillock's
  // tally directory), in a private mount namespace: the tree is not written.
  test::RunResult in_root(const std::string &script) const {
    root().write("/tmp/probe.sh", script);
    auto r = run_command("unshare -m sh -c \"mount -t tmpfs tmpfs '" + root().host("/run") +
                         "' && chroot '" + root().path() + "' sh /tmp/probe.sh\"");
    std::filesystem::remove(root().host("/tmp/probe.sh"));
    return r;
  }

  // libpam's verdicts, through pamtester (the "other" service: the common-*
  // stacks): su by admin and by root; admin right, three wrong, admin right
  // again; root three wrong, then right.
  std::string pam_probe() const {
    std::string s = "t() { echo \"$2\" | pamtester -v \"$1\" \"$3\" authenticate >/dev/null "
                    "2>&1; echo \"$4=$?\"; }\n";
    // su first (before admin is locked): as admin (its own password:
    // unix_chkpwd checks no one else's for a caller that is not root; the
    // refusal is pam_wheel's PAM_PERM_DENIED), and as root (pam_rootok).
    s += std::string("o=$(echo ") + k_admin_pw +
         " | setpriv --reuid=1000 --regid=1000 --clear-groups pamtester su admin authenticate "
         "2>&1); echo \"su_admin=$? $o\"\n";
    s += "pamtester su root authenticate </dev/null >/dev/null 2>&1; echo su_root=$?\n";
    // admin's sequence and root's side by side: pam_unix waits about 2 s
    // after each wrong password, and the two accounts' tallies
    // (pam_faillock's files under /run/faillock) are separate.
    s += std::string("{ t bulwark-probe ") + k_admin_pw + " admin admin_first\n";
    s += "for i in 1 2 3; do t bulwark-probe wrong admin admin_wrong; done\n";
    s += std::string("t bulwark-probe ") + k_admin_pw + " admin admin_after; } &\n";
    s += "{ for i in 1 2 3; do t bulwark-probe wrong root root_wrong; done\n";
    s += std::string("t bulwark-probe ") + k_root_pw + " root root_after; } &\n";
    s += "wait\n";
    auto r = in_root(s);
    EXPECT_EQ(r.exit_code, 0) << r.out << r.err;
    return r.out;
  }

  static inline test_support::SharedRoot s_shared;
};

TEST_F(FixPam, RecipesRoundTripThroughPamAuthUpdateAndLibpamHonoursThem) {
  Plan plan = test_support::round_trip(root().path(), k_checks);
  ASSERT_EQ(plan.actions.size(), k_checks.size());
  std::map<std::string, std::string> after;
  for (auto &a : plan.actions)
    for (auto &e : a.edits)
      after[e.path] = e.after;
  // The profiles and the files pam-auth-update regenerates from them.
  ASSERT_TRUE(after.count("/usr/share/pam-configs/bulwark-faillock"));
  ASSERT_TRUE(after.count("/usr/share/pam-configs/bulwark-faillock-preauth"));
  ASSERT_TRUE(after.count("/usr/share/pam-configs/bulwark-pwhistory"));
  EXPECT_NE(after["/etc/pam.d/common-auth"].find(
                "auth\trequisite\t\t\tpam_faillock.so preauth\n"
                "auth\t[success=2 default=ignore]\tpam_unix.so nullok try_first_pass\n"
                "auth\t[default=die]\t\t\tpam_faillock.so authfail\n"),
            std::string::npos)
      << after["/etc/pam.d/common-auth"];
  EXPECT_NE(after["/etc/pam.d/common-account"].find("account\trequired\t\t\tpam_faillock.so \n"),
            std::string::npos)
      << after["/etc/pam.d/common-account"];
  EXPECT_NE(after["/etc/pam.d/common-password"].find(
                "password\trequisite\t\t\tpam_pwquality.so retry=3\n"
                "password\trequisite\t\t\tpam_pwhistory.so remember=5 enforce_for_root "
                "use_authtok\n"),
            std::string::npos)
      << after["/etc/pam.d/common-password"];
  EXPECT_NE(after["/var/lib/pam/seen"].find("bulwark-faillock-preauth\n"), std::string::npos);
  EXPECT_NE(after["/etc/pam.d/su"].find("auth       sufficient pam_rootok.so\n"
                                        "auth       required   pam_wheel.so use_uid group=root\n"),
            std::string::npos)
      << after["/etc/pam.d/su"];
  bool validated = false;
  for (auto &a : plan.actions)
    for (auto v : a.validators)
      validated = validated || v == Validator::pam;
  EXPECT_TRUE(validated);

  // Ansible: the same files, written with copy.
  std::string yml = render_ansible(plan);
  EXPECT_NE(yml.find("/usr/share/pam-configs/bulwark-faillock-preauth"), std::string::npos);
  EXPECT_NE(yml.find("ansible.builtin.copy"), std::string::npos);

  BULWARK_REQUIRE_TOOL("pamtester") << "(apt-get install pamtester)";
  auto cp = run_command("cp /usr/bin/pamtester '" + root().host("/usr/bin/pamtester") + "'");
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  // Before: no lockout, su open to anyone with root's password.
  std::string before = pam_probe();
  EXPECT_NE(before.find("admin_first=0"), std::string::npos) << before;
  EXPECT_NE(before.find("admin_wrong=1"), std::string::npos) << before; // PAM_AUTH_ERR
  EXPECT_NE(before.find("admin_after=0"), std::string::npos) << "no lockout before\n" << before;
  EXPECT_NE(before.find("su_admin=0"), std::string::npos) << before;
  EXPECT_NE(before.find("su_root=0"), std::string::npos) << before;

  auto id = apply_plan(plan);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  std::string now = pam_probe();
  EXPECT_NE(now.find("admin_first=0"), std::string::npos) << "the right password must work\n"
                                                          << now;
  EXPECT_EQ(now.find("admin_wrong=0"), std::string::npos) << now;
  EXPECT_EQ(now.find("admin_after=0"), std::string::npos) << "three failures must lock\n" << now;
  EXPECT_NE(now.find("root_after=0"), std::string::npos) << "root must never be locked\n" << now;
  EXPECT_NE(now.find("su_admin=1 Password: pamtester: Permission denied"), std::string::npos)
      << "pam_wheel must refuse admin\n"
      << now;
  EXPECT_NE(now.find("su_root=0"), std::string::npos) << "root must keep su\n" << now;
  ASSERT_TRUE(rollback(root().path(), *id).ok());
  ::unlink(root().host("/usr/bin/pamtester").c_str());
}

// A line added by hand in the managed block: pam-auth-update refuses to
// update ("Local modifications"), and so does the recipe; the real program,
// run over the same files, writes nothing either.
TEST_F(FixPam, HandEditedCommonAuthIsRefusedNotOverwritten) {
  std::string auth = read("/etc/pam.d/common-auth");
  auto at = auth.find("auth\t[success=1 default=ignore]\tpam_unix.so nullok\n");
  ASSERT_NE(at, std::string::npos) << auth;
  auth.insert(at, "auth\toptional\tpam_echo.so hand-made\n");
  std::ofstream(root().host("/etc/pam.d/common-auth"), std::ios::trunc) << auth;
  PlanRequest req;
  req.root = root().path();
  req.only = {"accounts.lockout"};
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_NE(plan->refused[0].reason.find("local modifications"), std::string::npos)
      << plan->refused[0].reason;
  // pam-auth-update (debconf) rewrites its cache's *-old files even when
  // it refuses: kept here and put back for the suite's next test.
  std::map<std::string, std::string> debconf;
  for (auto &e : std::filesystem::directory_iterator(root().host("/var/cache/debconf")))
    if (e.is_regular_file())
      debconf[e.path().string()] = read_host(e.path().string());
  auto real = in_root("DEBIAN_FRONTEND=noninteractive pam-auth-update --package 2>&1\n");
  for (auto &[path, content] : debconf)
    std::ofstream(path, std::ios::binary | std::ios::trunc) << content;
  EXPECT_NE(real.out.find("Local modifications to /etc/pam.d/common-*, not updating"),
            std::string::npos)
      << real.out << real.err;
  // Undone for the suite's next test (SetUp checks the whole tree).
  auth.erase(at, std::string_view("auth\toptional\tpam_echo.so hand-made\n").size());
  std::ofstream(root().host("/etc/pam.d/common-auth"), std::ios::trunc) << auth;
}

// The validator is the real program: a common-auth that differs from what
// pam-auth-update writes for the same profiles is rejected, with its diff.
TEST_F(FixPam, ValidatorRejectsCommonFilesPamAuthUpdateWouldNotWrite) {
  PlanRequest req;
  req.root = root().path();
  req.only = {"accounts.lockout"};
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  ASSERT_EQ(plan->actions.size(), 1u);
  Overlay ov = content_overlay(plan->actions);
  auto ok = validate(Validator::pam, root().path(), ov);
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_TRUE(ok->accepted) << ok->output;
  auto &auth = ov["/etc/pam.d/common-auth"];
  ASSERT_TRUE(auth.has_value());
  auto at = auth->find("[success=2 default=ignore]");
  ASSERT_NE(at, std::string::npos) << *auth;
  auth->replace(at, 26, "[success=1 default=ignore]"); // the jump would skip pam_deny only
  auto bad = validate(Validator::pam, root().path(), ov);
  ASSERT_TRUE(bad.ok()) << bad.error().to_string();
  EXPECT_FALSE(bad->accepted);
  EXPECT_NE(bad->output.find("/etc/pam.d/common-auth differently"), std::string::npos)
      << bad->output;
  // The validation wrote nothing into the root.
  EXPECT_EQ(read("/var/lib/pam/seen"), "pwquality\nunix\nmkhomedir\n");
}

} // namespace
} // namespace bulwark::fix
