// render_ansible() with the real ansible-playbook: the playbook passes
// --syntax-check, a --check --diff run changes nothing, a real run into a
// scratch root (-e bulwark_root=DIR) writes exactly the plan's `after`
// bytes, hostile content arrives untemplated, copy's validate: refuses what
// sshd refuses, and a second run changes nothing.

#include <bulwark/fix/ansible.hpp>

#include "../support.hpp"

#include <filesystem>
#include <fstream>
#include <sys/stat.h>

namespace bulwark::fix {
namespace {

using bulwark::test::run_command;
using bulwark::test::TempRoot;

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

// Content meant to trip a careless writer: YAML syntax, Jinja, quotes,
// escapes, a tab, YAML's extra line breaks, no final newline.
const std::string k_hostile =
    "# a: b # c {{ lookup('pipe', 'id') }} {% raw %} {# x #}\n"
    "# \"quoted\" 'single' \\back\\slash\ttab - [list] {map: 1} &a *a !tag\n"
    "# line\xe2\x80\xa8separator and \xc2\x85 next line and caf\xc3\xa9\n"
    "PermitRootLogin no\nX11Forwarding no";

Plan sample_plan() {
  Plan plan;
  plan.root = "/";
  plan.profile = "vpn-production\n- name: injected";
  Action ssh;
  ssh.check_id = "ssh.permit-root-login";
  ssh.summary = "drop-in";
  FileEdit dropin;
  dropin.path = "/etc/ssh/sshd_config.d/00-bulwark.conf";
  dropin.after = k_hostile;
  ssh.edits.push_back(dropin);
  ssh.validators = {Validator::sshd};
  ssh.restart_units = {"ssh.service"};
  plan.actions.push_back(ssh);

  Action defs;
  defs.check_id = "accounts.pass-max-days";
  FileEdit line;
  line.path = "/etc/login.defs";
  line.before = "MAIL_DIR /var/mail\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\n";
  line.after = "MAIL_DIR /var/mail\nPASS_MAX_DAYS 365\nPASS_MIN_DAYS\t0\n";
  line.line = "PASS_MAX_DAYS 365";
  line.line_regexp = "^\\s*PASS_MAX_DAYS\\s";
  defs.edits.push_back(line);
  // lineinfile would append here (no match): the plan puts it first, so copy.
  FileEdit top;
  top.path = "/etc/default/useradd";
  top.before = "SHELL=/bin/sh\n";
  top.after = "INACTIVE=30\nSHELL=/bin/sh\n";
  top.line = "INACTIVE=30";
  top.line_regexp = "^INACTIVE=";
  defs.edits.push_back(top);
  plan.actions.push_back(defs);

  Action fs;
  fs.check_id = "fs.shadow-mode";
  FileEdit mode;
  mode.kind = FileEdit::Kind::attributes;
  mode.path = "/etc/shadow";
  mode.mode = 0640;
  fs.edits.push_back(mode);
  // A directory (fs.world-writable's file-bits clears o-w on directories
  // too): the task must keep it a directory, not demand a file.
  FileEdit dir;
  dir.kind = FileEdit::Kind::attributes;
  dir.path = "/srv/shared";
  dir.mode = 0775;
  fs.edits.push_back(dir);
  FileEdit gone;
  gone.kind = FileEdit::Kind::remove;
  gone.path = "/etc/hosts.equiv";
  gone.before = "+\n";
  fs.edits.push_back(gone);
  // Already run: `creates` exists in the root, so the command is skipped.
  fs.commands.push_back({{"pam-auth-update", "--package"}, "/etc/pam.d/common-auth"});
  plan.actions.push_back(fs);
  return plan;
}

class Ansible : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE_TOOL("ansible-playbook") << "(Debian package ansible)";
    BULWARK_REQUIRE_TOOL("/usr/sbin/sshd") << "(openssh-server: copy's validate runs sshd -t)";
    BULWARK_REQUIRE(::geteuid() == 0) << "needs root (owner root, chroot)";
  }

  // A scratch root with the files the plan edits in their `before` state.
  void build_root(const TempRoot &root) {
    root.write("/etc/login.defs", "MAIL_DIR /var/mail\nPASS_MAX_DAYS\t99999\nPASS_MIN_DAYS\t0\n");
    root.write("/etc/default/useradd", "SHELL=/bin/sh\n");
    root.write("/etc/shadow", "root:*:19000:0:99999:7:::\n", 0644);
    root.write("/etc/hosts.equiv", "+\n");
    root.write("/etc/pam.d/common-auth", "auth required pam_unix.so\n");
    root.mkdir("/etc/ssh/sshd_config.d");
    root.mkdir("/srv/shared");
    std::filesystem::permissions(root.host("/srv/shared"), std::filesystem::perms(0777));
  }

  bulwark::test::RunResult play(const std::string &playbook, const std::string &args) {
    return run_command("cd " + m_dir.path() +
                       " && ANSIBLE_NOCOLOR=1 ANSIBLE_LOCALHOST_WARNING=0 "
                       "ANSIBLE_PYTHON_INTERPRETER=/usr/bin/python3 HOME=" +
                       m_dir.path() + " ansible-playbook -i localhost, -c local " + args + " " +
                       playbook);
  }

  std::string write_playbook(const Plan &plan, const std::string &name) {
    std::string p = m_dir.path() + "/" + name;
    std::ofstream(p, std::ios::binary) << render_ansible(plan);
    return p;
  }

  TempRoot m_dir;
};

TEST_F(Ansible, SyntaxCheckCheckModeAndApplyMatchThePlanByteForByte) {
  Plan plan = sample_plan();
  std::string pb = write_playbook(plan, "fix.yml");
  auto syntax = play(pb, "--syntax-check");
  ASSERT_EQ(syntax.exit_code, 0) << syntax.out << syntax.err << "\n" << slurp(pb);

  TempRoot root;
  build_root(root);
  std::string extra = "-e bulwark_root=" + root.path();
  auto check = play(pb, "--check --diff " + extra);
  ASSERT_EQ(check.exit_code, 0) << check.out << check.err;
  EXPECT_FALSE(std::filesystem::exists(root.host("/etc/ssh/sshd_config.d/00-bulwark.conf")));
  EXPECT_EQ(slurp(root.host("/etc/default/useradd")), "SHELL=/bin/sh\n");
  EXPECT_NE(check.out.find("PASS_MAX_DAYS 365"), std::string::npos) << check.out;

  auto apply = play(pb, extra);
  ASSERT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_EQ(slurp(root.host("/etc/ssh/sshd_config.d/00-bulwark.conf")), k_hostile);
  EXPECT_EQ(slurp(root.host("/etc/login.defs")), plan.actions[1].edits[0].after);
  EXPECT_EQ(slurp(root.host("/etc/default/useradd")), plan.actions[1].edits[1].after);
  EXPECT_FALSE(std::filesystem::exists(root.host("/etc/hosts.equiv")));
  struct stat st;
  ASSERT_EQ(::stat(root.host("/etc/shadow").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0640u);
  ASSERT_EQ(::stat(root.host("/srv/shared").c_str(), &st), 0);
  EXPECT_TRUE(S_ISDIR(st.st_mode));
  EXPECT_EQ(st.st_mode & 07777, 0775u);
  ASSERT_EQ(::stat(root.host("/etc/ssh/sshd_config.d/00-bulwark.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0644u);
  EXPECT_EQ(st.st_uid, 0u);
  // The handler only reports: no restart without bulwark_restart.
  EXPECT_NE(apply.out.find("ssh.service needs a restart"), std::string::npos) << apply.out;
  // The lineinfile task for login.defs, a copy for useradd.
  std::string text = slurp(pb);
  EXPECT_NE(text.find("ansible.builtin.lineinfile"), std::string::npos);
  // The Jinja in the content travels only inside an !unsafe scalar.
  size_t jinja = text.find("{{ lookup");
  ASSERT_NE(jinja, std::string::npos);
  size_t line_start = text.rfind('\n', jinja) + 1;
  EXPECT_EQ(text.compare(line_start, 26, "        content: !unsafe \""), 0)
      << text.substr(line_start, jinja - line_start);

  auto again = play(pb, extra);
  ASSERT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("changed=0"), std::string::npos) << again.out;
}

TEST_F(Ansible, CopyValidateRefusesWhatSshdRefuses) {
  Plan plan;
  plan.root = "/";
  Action a;
  a.check_id = "ssh.permit-root-login";
  FileEdit bad;
  bad.path = "/etc/ssh/sshd_config.d/00-bulwark.conf";
  bad.after = "PermitRootLogin maybe\n";
  a.edits.push_back(bad);
  a.validators = {Validator::sshd};
  plan.actions.push_back(a);
  std::string pb = write_playbook(plan, "bad.yml");
  TempRoot root;
  root.mkdir("/etc/ssh/sshd_config.d");
  auto r = play(pb, "-e bulwark_root=" + root.path());
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("failed to validate"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(root.host("/etc/ssh/sshd_config.d/00-bulwark.conf")));
}

TEST_F(Ansible, ContentThatIsNotUtf8StopsThePlay) {
  Plan plan;
  Action a;
  a.check_id = "x.binary";
  FileEdit bin;
  bin.path = "/etc/x.conf";
  bin.after = std::string("ok\n\xff\xfe\n", 6);
  a.edits.push_back(bin);
  plan.actions.push_back(a);
  std::string pb = write_playbook(plan, "bin.yml");
  auto syntax = play(pb, "--syntax-check");
  EXPECT_EQ(syntax.exit_code, 0) << syntax.out << syntax.err << "\n" << slurp(pb);
  TempRoot root;
  auto r = play(pb, "-e bulwark_root=" + root.path());
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("not valid UTF-8"), std::string::npos) << r.out;
  EXPECT_FALSE(std::filesystem::exists(root.host("/etc/x.conf")));
}

} // namespace
} // namespace bulwark::fix
