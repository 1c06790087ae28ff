// The ssh checks on small roots: verdicts, evidence lines, and what happens
// when sshd is absent or its configuration is broken.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const std::string k_compliant = R"(# guide 000 + 003, as an operator would write it
Include /etc/ssh/sshd_config.d/*.conf
PermitRootLogin no
PasswordAuthentication no
KbdInteractiveAuthentication no
PubkeyAuthentication yes
PermitEmptyPasswords no
MaxAuthTries 3
ClientAliveInterval 300
ClientAliveCountMax 2
AllowGroups ssh-users
X11Forwarding no
UseDNS no
TCPKeepAlive yes
UsePAM yes
Ciphers chacha20-poly1305@openssh.com,aes256-gcm@openssh.com,aes128-gcm@openssh.com,aes256-ctr
MACs hmac-sha2-256-etm@openssh.com,hmac-sha2-512-etm@openssh.com,umac-128-etm@openssh.com
KexAlgorithms curve25519-sha256,curve25519-sha256@libssh.org
HostKey /etc/ssh/ssh_host_ed25519_key
DisableForwarding yes
LoginGraceTime 60
MaxStartups 10:30:60
)";

struct Audit {
  TempRoot root;
  AuditReport report;
  void run(const std::vector<std::string> &profiles = {}) {
    AuditRequest req;
    req.root = root.path();
    req.profiles = profiles;
    req.only = {"ssh"};
    auto r = run_audit(req);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    report = *r;
  }
  std::vector<const Finding *> of(const std::string &id) const {
    std::vector<const Finding *> out;
    for (auto &f : report.findings)
      if (f.check == id)
        out.push_back(&f);
    return out;
  }
  Status status(const std::string &id) const {
    auto f = of(id);
    EXPECT_FALSE(f.empty()) << id;
    Status worst = Status::pass;
    for (auto *x : f)
      if (x->status == Status::fail || (x->status != Status::pass && worst == Status::pass))
        worst = x->status;
    return f.empty() ? Status::error : worst;
  }
  void base(const std::string &config) {
    root.write("/etc/ssh/sshd_config", config);
    root.write("/etc/ssh/ssh_host_ed25519_key", "PRIVATE", 0600);
    root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
    root.write("/etc/group", "root:x:0:\nssh-users:x:2000:\n");
  }
};

} // namespace

TEST(SshChecks, CompliantConfigurationPassesEveryCheck) {
  Audit a;
  a.base(k_compliant);
  a.run();
  for (auto &f : a.report.findings) {
    if (f.check == "ssh.host-key-permissions" && ::getuid() != 0)
      continue; // owner is the test user
    if (f.check == "ssh.host-key-strength" ||
        (f.check == "ssh.config-permissions" && ::getuid() != 0))
      continue; // a placeholder key; the test user's files (SshWave2 tests both)
    EXPECT_EQ(f.status, Status::pass) << f.check << ": " << f.message;
  }
}

TEST(SshChecks, DebianDefaultsFailWhereTheGuidesDiffer) {
  Audit a;
  a.base("Include /etc/ssh/sshd_config.d/*.conf\nKbdInteractiveAuthentication no\nUsePAM yes\n"
         "X11Forwarding yes\nPrintMotd no\nAcceptEnv LANG LC_*\nSubsystem sftp "
         "/usr/lib/openssh/sftp-server\n");
  a.run();
  EXPECT_EQ(a.status("ssh.permit-root-login"), Status::fail); // prohibit-password by default
  EXPECT_EQ(a.status("ssh.password-authentication"), Status::fail);
  EXPECT_EQ(a.status("ssh.max-auth-tries"), Status::fail);
  EXPECT_EQ(a.status("ssh.x11-forwarding"), Status::fail);
  EXPECT_EQ(a.status("ssh.weak-algorithms"), Status::fail); // hmac-sha1 in the default MACs
  EXPECT_EQ(a.status("ssh.allow-users-groups"), Status::fail);
  EXPECT_EQ(a.status("ssh.config-valid"), Status::pass);
  auto x11 = a.of("ssh.x11-forwarding");
  ASSERT_EQ(x11.size(), 1u);
  ASSERT_EQ(x11[0]->evidence.size(), 1u);
  EXPECT_EQ(x11[0]->evidence[0].path, "/etc/ssh/sshd_config");
  EXPECT_EQ(x11[0]->evidence[0].line, 4);
  EXPECT_EQ(x11[0]->evidence[0].found, "x11forwarding yes");
  auto root = a.of("ssh.permit-root-login");
  EXPECT_EQ(root[0]->evidence[0].line, 0); // unset: the file where it belongs
  EXPECT_NE(root[0]->evidence[0].found.find("default"), std::string::npos);
}

TEST(SshChecks, MatchBlockThatReEnablesRootLoginFailsAndIsNamed) {
  Audit a;
  a.base(k_compliant + "Match Address 192.168.0.0/16 User admin\n  PermitRootLogin yes\n"
                       "  PasswordAuthentication yes\n");
  a.run();
  auto f = a.of("ssh.permit-root-login");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->status, Status::fail);
  ASSERT_EQ(f[0]->evidence.size(), 1u);
  EXPECT_EQ(f[0]->evidence[0].context, "Match Address 192.168.0.0/16 User admin");
  EXPECT_EQ(f[0]->evidence[0].line, 24);
  EXPECT_EQ(a.status("ssh.password-authentication"), Status::fail);
}

TEST(SshChecks, KeyboardInteractiveWithPamOffersPasswords) {
  Audit a;
  a.base("PasswordAuthentication no\nKbdInteractiveAuthentication yes\nUsePAM yes\n");
  a.run();
  EXPECT_EQ(a.status("ssh.password-authentication"), Status::fail);
  Audit b;
  b.base("PasswordAuthentication no\nKbdInteractiveAuthentication yes\nUsePAM no\n");
  b.run();
  EXPECT_EQ(b.status("ssh.password-authentication"), Status::pass);
}

// Keyboard-interactive asks what sshd's PAM auth stack asks: Debian's stack
// (common-auth, pam_unix) asks for the password; a stack of
// pam_google_authenticator alone asks for a code, not a password.
TEST(SshChecks, KeyboardInteractiveFollowsTheSshdPamStack) {
  const std::string cfg = "PasswordAuthentication no\nKbdInteractiveAuthentication yes\n"
                          "UsePAM yes\nAuthenticationMethods publickey,keyboard-interactive\n";
  Audit debian;
  debian.base(cfg);
  debian.root.write("/etc/pam.d/sshd", "@include common-auth\n");
  debian.root.write("/etc/pam.d/common-auth",
                    "auth [success=1 default=ignore] pam_unix.so nullok\n"
                    "auth requisite pam_deny.so\nauth required pam_permit.so\n");
  debian.run();
  EXPECT_EQ(debian.status("ssh.password-authentication"), Status::fail);
  auto *f = debian.of("ssh.password-authentication").front();
  EXPECT_NE(f->message.find("pam_unix at /etc/pam.d/common-auth:1"), std::string::npos)
      << f->message;

  Audit otp;
  otp.base(cfg);
  otp.root.write("/etc/pam.d/sshd", "auth required pam_google_authenticator.so\n"
                                    "# @include common-auth\n");
  otp.run();
  EXPECT_EQ(otp.status("ssh.password-authentication"), Status::pass);
}

TEST(SshChecks, IncludedDropInDecidesAndIsCited) {
  Audit a;
  a.base(k_compliant);
  // Drop-ins are read first (Include is on line 2): their value wins.
  a.root.write("/etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes\n");
  a.run();
  auto f = a.of("ssh.password-authentication");
  ASSERT_EQ(f[0]->status, Status::fail);
  EXPECT_EQ(f[0]->evidence[0].path, "/etc/ssh/sshd_config.d/50-cloud-init.conf");
  EXPECT_EQ(f[0]->evidence[0].line, 1);
}

TEST(SshChecks, ProfilesChangeTheLimits) {
  Audit a;
  a.base("ClientAliveInterval 300\nClientAliveCountMax 3\n");
  a.run({"vpn-production"});
  EXPECT_EQ(a.status("ssh.client-alive"), Status::fail);
  a.run({"lms-server"});
  EXPECT_EQ(a.status("ssh.client-alive"), Status::pass);
}

TEST(SshChecks, WeakAlgorithmsFromModifiers) {
  Audit a;
  a.base("Ciphers +aes128-cbc\nKexAlgorithms ^diffie-hellman-group14-sha1\n"
         "MACs -hmac-sha1,hmac-sha1-96\n");
  a.run();
  auto f = a.of("ssh.weak-algorithms");
  ASSERT_EQ(f[0]->status, Status::fail);
  std::string all;
  for (auto &e : f[0]->evidence)
    all += e.found + "|";
  EXPECT_NE(all.find("ciphers offers aes128-cbc"), std::string::npos) << all;
  EXPECT_NE(all.find("kexalgorithms offers diffie-hellman-group14-sha1"), std::string::npos) << all;
  EXPECT_EQ(all.find("macs offers"), std::string::npos) << all;
}

TEST(SshChecks, HostKeyPermissions) {
  Audit a;
  a.base(k_compliant + "HostKey /etc/ssh/ssh_host_rsa_key\nHostKey /etc/ssh/gone\n");
  a.root.write("/etc/ssh/ssh_host_rsa_key", "PRIVATE", 0644);
  a.run();
  int fails = 0, warns = 0;
  for (auto *f : a.of("ssh.host-key-permissions")) {
    if (f->subject == "/etc/ssh/ssh_host_rsa_key") {
      EXPECT_EQ(f->status, Status::fail);
      EXPECT_NE(f->message.find("0644"), std::string::npos);
      ++fails;
    }
    if (f->subject == "/etc/ssh/gone") {
      EXPECT_EQ(f->status, Status::warn);
      ++warns;
    }
  }
  EXPECT_EQ(fails, 1);
  EXPECT_EQ(warns, 1);
}

TEST(SshChecks, BrokenConfigurationFailsValidityAndOtherChecksStillDecide) {
  Audit a;
  a.base("PermitRootLogin no\nFrobnicate yes\nMatch User x\nUseDNS no\n");
  a.run();
  auto v = a.of("ssh.config-valid");
  ASSERT_EQ(v[0]->status, Status::fail);
  ASSERT_GE(v[0]->evidence.size(), 2u);
  EXPECT_EQ(v[0]->evidence[0].line, 2);
  EXPECT_EQ(v[0]->evidence[1].line, 4);
  auto root = a.of("ssh.permit-root-login");
  EXPECT_EQ(root[0]->status, Status::pass);
  EXPECT_NE(root[0]->message.find("sshd would refuse"), std::string::npos);
}

TEST(SshChecks, AbsentSshdIsNotApplicable) {
  Audit a;
  a.root.mkdir("/etc");
  a.run();
  ASSERT_FALSE(a.report.findings.empty());
  for (auto &f : a.report.findings)
    EXPECT_EQ(f.status, Status::not_applicable) << f.check;
}

TEST(SshChecks, UnreadableConfigIsAnErrorNotACrash) {
  Audit a;
  a.root.mkdir("/etc/ssh/sshd_config"); // a directory where the file should be
  a.run();
  for (auto &f : a.report.findings)
    EXPECT_EQ(f.status, Status::error) << f.check;
}

TEST(SshChecks, ProtocolLineIsInformational) {
  Audit a;
  a.base(k_compliant + "Protocol 1\n");
  a.run();
  auto f = a.of("ssh.protocol");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->status, Status::warn);
  EXPECT_EQ(f[0]->severity, Severity::info);
  Audit b;
  b.base(k_compliant + "Protocol 2\n");
  b.run();
  EXPECT_EQ(b.status("ssh.protocol"), Status::pass);
}

TEST(SshChecks, CommaSeparatedAllowUsersIsOnePattern) {
  Audit a;
  a.base("AllowUsers deploy,admin\n");
  a.run();
  auto f = a.of("ssh.allow-users-groups");
  ASSERT_EQ(f.size(), 1u);
  EXPECT_EQ(f[0]->status, Status::warn);
  EXPECT_NE(f[0]->message.find("deploy,admin"), std::string::npos);
}

TEST(SshChecks, HostileSymlinkedConfigStaysInsideTheRoot) {
  Audit a;
  a.base(k_compliant);
  TempRoot host;
  host.write("/sshd_config", "PermitRootLogin yes\n");
  ::unlink(a.root.host("/etc/ssh/sshd_config").c_str());
  a.root.symlink(host.host("/sshd_config"), "/etc/ssh/sshd_config");
  a.run();
  // The link points outside the root: inside, it does not exist.
  EXPECT_EQ(a.status("ssh.permit-root-login"), Status::not_applicable);
}

TEST(Score, FormulaWeighsBySeverity) {
  std::vector<Finding> f(3);
  f[0].severity = Severity::critical;
  f[0].status = Status::pass;
  f[1].severity = Severity::high;
  f[1].status = Status::fail;
  f[2].severity = Severity::low;
  f[2].status = Status::warn;
  // (10 + 0 + 0.5) / (10 + 5 + 1) = 65.6%
  EXPECT_EQ(compute_score(f), 66);
  f[1].status = Status::not_applicable;
  EXPECT_EQ(compute_score(f), 95); // 10.5 / 11
  EXPECT_EQ(compute_score({}), 100);
}
