// accounts.password-policy, accounts.lockout, accounts.mfa on roots built
// from Debian 12's real /etc/pam.d: each passes and fails, and the deciding
// file and line are asserted.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const std::string k_fixtures = std::string(BULWARK_SOURCE_DIR) + "/tests/data/pam/debian12";

std::string fixture(const std::string &n) {
  std::ifstream in(k_fixtures + "/" + n, std::ios::binary);
  return bulwark::test::read_all(in);
}

void debian_root(const TempRoot &r) {
  for (auto &e : std::filesystem::directory_iterator(k_fixtures)) {
    std::string n = e.path().filename().string();
    if (n.find('.') == std::string::npos)
      r.write("/etc/pam.d/" + n, fixture(n));
  }
  r.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n"
                                  "KbdInteractiveAuthentication no\nUsePAM yes\n");
}

// With libpam-pwquality installed (pam-auth-update's common-password).
void with_pwquality(const TempRoot &r, const std::string &conf) {
  r.write("/etc/pam.d/common-password", fixture("common-password.pwquality"));
  r.write("/etc/security/pwquality.conf", conf);
}

Finding audit(const TempRoot &r, const std::string &id) {
  return test::audit_only(r.path(), {id}).one(id);
}

bool cites(const Finding &f, const std::string &path, int line) {
  for (auto &e : f.evidence)
    if (e.path == path && e.line == line)
      return true;
  return false;
}

// common-auth with pam_faillock as its man page recommends.
const char *k_faillock_auth = "auth\trequisite\tpam_faillock.so preauth\n"
                              "auth\t[success=2 default=ignore]\tpam_unix.so nullok\n"
                              "auth\t[default=die]\tpam_faillock.so authfail\n"
                              "auth\trequisite\tpam_deny.so\n"
                              "auth\tsufficient\tpam_faillock.so authsucc\n"
                              "auth\trequired\tpam_permit.so\n";

} // namespace

TEST(PamChecks, PasswordPolicyFailsOnDebianDefaultsAtTheUnixLine) {
  TempRoot r;
  debian_root(r);
  Finding f = audit(r, "accounts.password-policy");
  EXPECT_EQ(f.status, Status::fail) << f.message;
  EXPECT_TRUE(cites(f, "/etc/pam.d/common-password", 25)) << f.message;
}

TEST(PamChecks, PasswordPolicyPassesWithMinlenAndMinclass) {
  TempRoot r;
  debian_root(r);
  with_pwquality(r, fixture("pwquality.conf") + "minlen = 12\nminclass = 3\n");
  Finding f = audit(r, "accounts.password-policy");
  EXPECT_EQ(f.status, Status::pass) << f.message;
  EXPECT_TRUE(cites(f, "/etc/pam.d/common-password", 25)) << f.message;
}

TEST(PamChecks, PasswordPolicyCreditsMakeMinlenLie) {
  TempRoot r;
  debian_root(r);
  // minlen 12, but a credit of 2 per class accepts 6 characters.
  with_pwquality(r, "minlen = 12\nminclass = 3\ndcredit = 2\nucredit = 2\nlcredit=2\nocredit=2\n");
  Finding f = audit(r, "accounts.password-policy");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_TRUE(cites(f, "/etc/security/pwquality.conf", 6)) << f.message;
  EXPECT_NE(f.message.find("6 characters"), std::string::npos) << f.message;
}

TEST(PamChecks, PasswordPolicyDefaultsFailAtLineZeroAndArgsWin) {
  TempRoot r;
  debian_root(r);
  with_pwquality(r, fixture("pwquality.conf"));
  Finding f = audit(r, "accounts.password-policy");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_TRUE(cites(f, "/etc/security/pwquality.conf", 0)) << f.message;
  // Module arguments override the file.
  r.write("/etc/pam.d/common-password",
          "password requisite pam_pwquality.so retry=3 minlen=14 minclass=4\n"
          "password [success=1 default=ignore] pam_unix.so obscure use_authtok yescrypt\n"
          "password requisite pam_deny.so\npassword required pam_permit.so\n");
  EXPECT_EQ(audit(r, "accounts.password-policy").status, Status::pass);
}

TEST(PamChecks, PasswordPolicyOptionalModuleDoesNotEnforce) {
  TempRoot r;
  debian_root(r);
  with_pwquality(r, "minlen = 12\nminclass = 3\n");
  r.write("/etc/pam.d/common-password",
          "password optional pam_pwquality.so retry=3\n"
          "password [success=1 default=ignore] pam_unix.so obscure yescrypt\n"
          "password requisite pam_deny.so\npassword required pam_permit.so\n");
  Finding f = audit(r, "accounts.password-policy");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_TRUE(cites(f, "/etc/pam.d/common-password", 1)) << f.message;
  EXPECT_NE(f.message.find("still reaches pam_unix"), std::string::npos) << f.message;
}

TEST(PamChecks, PasswordPolicySkippedModuleIsNotReached) {
  TempRoot r;
  debian_root(r);
  with_pwquality(r, "minlen = 12\nminclass = 3\n");
  r.write("/etc/pam.d/common-password",
          "password [success=1 default=ignore] pam_permit.so\n"
          "password requisite pam_pwquality.so\n"
          "password [success=1 default=ignore] pam_unix.so use_authtok\n"
          "password requisite pam_deny.so\n");
  Finding f = audit(r, "accounts.password-policy");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_TRUE(cites(f, "/etc/pam.d/common-password", 2)) << f.message;
}

TEST(PamChecks, LockoutFailsOnDebianDefaults) {
  TempRoot r;
  debian_root(r);
  Finding f = audit(r, "accounts.lockout");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_TRUE(cites(f, "/etc/pam.d/common-auth", 17)) << f.message;
}

TEST(PamChecks, LockoutPassesWithFullFaillock) {
  TempRoot r;
  debian_root(r);
  r.write("/etc/pam.d/common-auth", k_faillock_auth);
  r.write("/etc/pam.d/common-account",
          "account required pam_faillock.so\n" + fixture("common-account"));
  r.write("/etc/security/faillock.conf", fixture("faillock.conf") + "deny = 5\n");
  Finding f = audit(r, "accounts.lockout");
  EXPECT_EQ(f.status, Status::pass) << f.message;
  int last = 0;
  for (char c : fixture("faillock.conf"))
    last += c == '\n';
  EXPECT_TRUE(cites(f, "/etc/security/faillock.conf", last + 1)) << f.message;
  // Too many tries allowed.
  r.write("/etc/security/faillock.conf", "deny = 10\n");
  Finding g = audit(r, "accounts.lockout");
  EXPECT_EQ(g.status, Status::fail);
  EXPECT_TRUE(cites(g, "/etc/security/faillock.conf", 1)) << g.message;
}

TEST(PamChecks, LockoutHalfConfiguredFaillock) {
  TempRoot r;
  debian_root(r);
  r.write("/etc/security/faillock.conf", "deny = 3\n");
  // authfail without preauth: the right password opens a locked account.
  r.write("/etc/pam.d/common-auth", "auth [success=2 default=ignore] pam_unix.so\n"
                                    "auth [default=die] pam_faillock.so authfail\n"
                                    "auth requisite pam_deny.so\n"
                                    "auth required pam_permit.so\n");
  Finding f = audit(r, "accounts.lockout");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_NE(f.message.find("no pam_faillock preauth"), std::string::npos) << f.message;
  EXPECT_TRUE(cites(f, "/etc/pam.d/common-auth", 2));
  // preauth without authfail: nothing is ever counted.
  r.write("/etc/pam.d/common-auth", "auth requisite pam_faillock.so preauth\n"
                                    "auth [success=1 default=ignore] pam_unix.so\n"
                                    "auth requisite pam_deny.so\n"
                                    "auth required pam_permit.so\n");
  Finding g = audit(r, "accounts.lockout");
  EXPECT_EQ(g.status, Status::fail);
  EXPECT_NE(g.message.find("never counted"), std::string::npos) << g.message;
  EXPECT_TRUE(cites(g, "/etc/pam.d/common-auth", 2));
  // Complete auth, no account line: locks, but success never resets.
  r.write("/etc/pam.d/common-auth", k_faillock_auth);
  r.write("/etc/pam.d/common-auth",
          std::string(k_faillock_auth)
                  .substr(0, std::string(k_faillock_auth).find("auth\tsufficient")) +
              "auth\trequired\tpam_permit.so\n");
  Finding w = audit(r, "accounts.lockout");
  EXPECT_EQ(w.status, Status::warn) << w.message;
}

TEST(PamChecks, LockoutPamTally2IsGoneInDebian12) {
  TempRoot r;
  debian_root(r);
  r.write("/lib/x86_64-linux-gnu/security/pam_unix.so", "");
  r.write("/etc/pam.d/common-auth",
          "auth required pam_tally2.so deny=3 onerr=fail\n" + fixture("common-auth"));
  Finding f = audit(r, "accounts.lockout");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_TRUE(cites(f, "/etc/pam.d/common-auth", 1)) << f.message;
  EXPECT_NE(f.message.find("Linux-PAM 1.5"), std::string::npos);
}

TEST(PamChecks, MfaNotApplicableWithoutSshd) {
  TempRoot r;
  r.write("/etc/pam.d/other", fixture("other"));
  EXPECT_EQ(audit(r, "accounts.mfa").status, Status::not_applicable);
}

TEST(PamChecks, MfaFailsWhenAKeyAloneLogsIn) {
  TempRoot r;
  debian_root(r);
  Finding f = audit(r, "accounts.mfa");
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_TRUE(cites(f, "/etc/ssh/sshd_config", 0)) << f.message;
}

TEST(PamChecks, MfaAuthenticationMethodsWithTwoMethods) {
  TempRoot r;
  debian_root(r);
  r.write("/etc/ssh/sshd_config", "UsePAM yes\nKbdInteractiveAuthentication yes\n"
                                  "AuthenticationMethods publickey,keyboard-interactive\n");
  Finding f = audit(r, "accounts.mfa");
  EXPECT_EQ(f.status, Status::pass) << f.message;
  EXPECT_TRUE(cites(f, "/etc/ssh/sshd_config", 3));
  // A second list with one method is a way around.
  r.write("/etc/ssh/sshd_config", "UsePAM yes\n"
                                  "AuthenticationMethods publickey,password publickey\n");
  EXPECT_EQ(audit(r, "accounts.mfa").status, Status::fail);
}

TEST(PamChecks, MfaThroughThePamStack) {
  TempRoot r;
  debian_root(r);
  r.write("/etc/ssh/sshd_config", "UsePAM yes\nKbdInteractiveAuthentication yes\n"
                                  "PubkeyAuthentication no\nPasswordAuthentication no\n");
  std::string sshd = fixture("sshd");
  r.write("/etc/pam.d/sshd", "auth required pam_google_authenticator.so\n" + sshd);
  Finding f = audit(r, "accounts.mfa");
  EXPECT_EQ(f.status, Status::pass) << f.message;
  EXPECT_TRUE(cites(f, "/etc/pam.d/sshd", 1));
  // Optional: a wrong code does not stop the login.
  r.write("/etc/pam.d/sshd", "auth optional pam_google_authenticator.so\n" + sshd);
  Finding g = audit(r, "accounts.mfa");
  EXPECT_EQ(g.status, Status::fail);
  EXPECT_TRUE(cites(g, "/etc/pam.d/sshd", 1)) << g.message;
  // Skipped by a jump over it when the password is right.
  r.write("/etc/pam.d/sshd", "auth [success=1 default=ignore] pam_unix.so\n"
                             "auth required pam_google_authenticator.so\n"
                             "auth required pam_permit.so\n");
  EXPECT_EQ(audit(r, "accounts.mfa").status, Status::fail);
  // UsePAM no: the PAM module is never asked.
  r.write("/etc/pam.d/sshd", "auth required pam_google_authenticator.so\n" + sshd);
  r.write("/etc/ssh/sshd_config", "UsePAM no\nPubkeyAuthentication no\n");
  EXPECT_EQ(audit(r, "accounts.mfa").status, Status::fail);
}
