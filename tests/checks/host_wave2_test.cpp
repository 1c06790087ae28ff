// The second wave's host checks (CHECKS.md "more host checks": ssh.*,
// accounts.*, fs.*, sysctl.* of issue 16): verdicts and evidence on small
// roots, hostile input, and differential tests where a program speaks for
// itself: `sshd -T` for the new keywords, `ssh-keygen -l` for key sizes,
// `pwck -r`/`grpck -r` for account consistency, `findmnt --fstab` and
// `findmnt -k` for mount options.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/accounts.hpp>
#include <bulwark/parse/mounts.hpp>
#include <bulwark/parse/ssh_keys.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <map>
#include <random>
#include <sstream>

using namespace bulwark;
using bulwark::test::audit_only;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

std::string read_host(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return bulwark::test::read_all(in);
}

bool cites(const Finding &f, const std::string &path, int line) {
  for (auto &e : f.evidence)
    if (e.path == path && (line < 0 || e.line == line))
      return true;
  return false;
}

std::string evidence_of(const Finding &f) {
  std::string s;
  for (auto &e : f.evidence)
    s += " " + e.path + ":" + std::to_string(e.line) + " [" + e.found + "]";
  return s;
}

void base_ssh(const TempRoot &r, const std::string &config) {
  r.write("/etc/ssh/sshd_config", config);
  r.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  r.write("/etc/group", "root:x:0:\n");
}

const std::vector<std::string> k_ssh_ids = {"ssh.forwarding", "ssh.log-level", "ssh.login-limits",
                                            "ssh.legacy-auth", "ssh.use-pam"};

} // namespace

// ---- ssh ---------------------------------------------------------------------

TEST(SshWave2, DisableForwardingOverridesAndMatchBlocksAreJudged) {
  {
    TempRoot r;
    base_ssh(r, "DisableForwarding yes\nMatch User ops\n  AllowTcpForwarding yes\n");
    auto f = audit_only(r.path(), {"ssh.forwarding"});
    EXPECT_EQ(f.one("ssh.forwarding").status, Status::pass) << f.dump();
  }
  {
    TempRoot r;
    base_ssh(r, "AllowTcpForwarding no\nAllowAgentForwarding no\nAllowStreamLocalForwarding no\n"
                "GatewayPorts yes\n"
                "Match User ops\n  PermitTunnel yes\n");
    auto f = audit_only(r.path(), {"ssh.forwarding"});
    const Finding &x = f.one("ssh.forwarding");
    // GatewayPorts is moot without TCP forwarding; the tunnel is not.
    EXPECT_EQ(x.status, Status::fail) << f.dump();
    EXPECT_TRUE(cites(x, "/etc/ssh/sshd_config", 6)) << evidence_of(x);
    EXPECT_NE(x.message.find("Match User ops"), std::string::npos) << x.message;
    EXPECT_EQ(x.message.find("gatewayports"), std::string::npos) << x.message;
  }
  {
    TempRoot r; // Debian's defaults: TCP, agent and stream-local forwarding on
    base_ssh(r, "UsePAM yes\n");
    auto f = audit_only(r.path(), {"ssh.forwarding"});
    EXPECT_EQ(f.one("ssh.forwarding").status, Status::fail);
  }
}

TEST(SshWave2, LogLevelLoginLimitsLegacyAuthUsePam) {
  TempRoot r;
  base_ssh(r, "LogLevel DEBUG3\nLoginGraceTime 2m\nMaxStartups 20\nMaxSessions 4\n"
              "IgnoreRhosts shosts-only\nPermitUserEnvironment yes\nUsePAM no\n"
              "Match User ops\n  MaxSessions 30\n  GSSAPIAuthentication yes\n");
  auto f = audit_only(r.path(), {"ssh"});
  const Finding &ll = f.one("ssh.log-level");
  EXPECT_EQ(ll.status, Status::fail);
  EXPECT_TRUE(cites(ll, "/etc/ssh/sshd_config", 1)) << evidence_of(ll);
  const Finding &lim = f.one("ssh.login-limits");
  EXPECT_EQ(lim.status, Status::fail);
  EXPECT_TRUE(cites(lim, "/etc/ssh/sshd_config", 2)) << evidence_of(lim);  // 120 s
  EXPECT_TRUE(cites(lim, "/etc/ssh/sshd_config", 3)) << evidence_of(lim);  // 20:30:20
  EXPECT_TRUE(cites(lim, "/etc/ssh/sshd_config", 9)) << evidence_of(lim);  // Match MaxSessions
  EXPECT_FALSE(cites(lim, "/etc/ssh/sshd_config", 4)) << evidence_of(lim); // 4 is fine
  const Finding &la = f.one("ssh.legacy-auth");
  EXPECT_EQ(la.status, Status::fail);
  for (int line : {5, 6, 10})
    EXPECT_TRUE(cites(la, "/etc/ssh/sshd_config", line)) << line << evidence_of(la);
  const Finding &pam = f.one("ssh.use-pam");
  EXPECT_EQ(pam.status, Status::fail);
  EXPECT_TRUE(cites(pam, "/etc/ssh/sshd_config", 7));

  TempRoot good;
  base_ssh(good, "LogLevel VERBOSE\nLoginGraceTime 1m\nMaxStartups 10:60:30\nMaxSessions 2\n"
                 "UsePAM yes\nDisableForwarding yes\n");
  auto g = audit_only(good.path(), {"ssh"});
  for (const auto &id : k_ssh_ids)
    EXPECT_EQ(g.one(id).status, Status::pass) << id << "\n" << g.dump();
}

namespace {

// sshd -T on a main file of the root, with a throwaway host key.
std::map<std::string, std::string> sshd_t(const std::string &config, const std::string &key,
                                          const std::string &spec) {
  auto r = run_command("/usr/sbin/sshd -T -f '" + config + "' -h '" + key + "'" +
                       (spec.empty() ? "" : " -C " + spec));
  std::map<std::string, std::string> out;
  EXPECT_EQ(r.exit_code, 0) << "sshd -T " << spec << ": " << r.err << "\n" << read_host(config);
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    out.emplace(line.substr(0, sp), sp == std::string::npos ? "" : line.substr(sp + 1));
  }
  return out;
}

std::map<std::string, bool> scoped_oracle(std::map<std::string, std::string> d) {
  std::map<std::string, bool> v;
  std::string tcp = d["allowtcpforwarding"];
  v["ssh.forwarding"] = d["disableforwarding"] == "yes" ||
                        (tcp == "no" && d["allowagentforwarding"] == "no" &&
                         d["allowstreamlocalforwarding"] == "no" && d["permittunnel"] == "no" &&
                         (d["gatewayports"] == "no" || tcp == "no" || tcp == "local"));
  v["ssh.log-level"] = d["loglevel"] == "INFO" || d["loglevel"] == "VERBOSE";
  v["ssh.login-limits"] = std::stoi(d["maxsessions"]) <= 10;
  v["ssh.legacy-auth"] = d["hostbasedauthentication"] == "no" && d["ignorerhosts"] == "yes" &&
                         d["gssapiauthentication"] == "no" && d["kerberosauthentication"] == "no";
  return v;
}

} // namespace

// The verdicts agree with what sshd itself computes for every scope.
TEST(SshWave2, VerdictsAgreeWithSshdT) {
  BULWARK_REQUIRE_TOOL("/usr/sbin/sshd") << "(Debian package openssh-server)";
  BULWARK_REQUIRE_TOOL("ssh-keygen") << "(Debian package openssh-client)";
  TempRoot keys;
  ASSERT_EQ(run_command("ssh-keygen -q -t ed25519 -N '' -f " + keys.path() + "/hk").exit_code, 0);
  std::string hk = keys.path() + "/hk";
  std::mt19937 g(1612);
  auto pick = [&](std::vector<std::string> v) { return v[g() % v.size()]; };
  auto scoped = [&] {
    return pick({"DisableForwarding " + pick({"yes", "no"}),
                 "AllowTcpForwarding " + pick({"yes", "no", "local", "remote", "all"}),
                 "AllowAgentForwarding " + pick({"yes", "no"}),
                 "AllowStreamLocalForwarding " + pick({"yes", "no", "local", "remote"}),
                 "GatewayPorts " + pick({"yes", "no", "clientspecified"}),
                 "PermitTunnel " + pick({"yes", "no", "point-to-point", "ethernet"}),
                 "LogLevel " + pick({"INFO", "VERBOSE", "DEBUG", "QUIET", "info", "debug3"}),
                 "MaxSessions " + pick({"0", "2", "10", "11"}),
                 "HostbasedAuthentication " + pick({"yes", "no"}),
                 "IgnoreRhosts " + pick({"yes", "no", "shosts-only"}),
                 "GSSAPIAuthentication " + pick({"yes", "no"}),
                 "KerberosAuthentication " + pick({"yes", "no"})});
  };
  auto global = [&] {
    return pick({scoped(), scoped(), "LoginGraceTime " + pick({"0", "30", "60", "1m", "2m"}),
                 "MaxStartups " + pick({"10:30:60", "5", "10:30:100", "11:30:60", "3:90:8", "60"}),
                 "PermitUserEnvironment " + pick({"yes", "no", "LANG,LC_*"}),
                 "UsePAM " + pick({"yes", "no"})});
  };
  int cases = 60, compared = 0, passes = 0;
  for (int c = 0; c < cases; ++c) {
    TempRoot r;
    std::string cfg;
    for (int i = 0, n = 1 + static_cast<int>(g() % 8); i < n; ++i)
      cfg += global() + "\n";
    int blocks = static_cast<int>(g() % 3);
    for (int b = 0; b < blocks; ++b) {
      cfg += "Match User blk" + std::to_string(b) + "\n";
      for (int i = 0, n = 1 + static_cast<int>(g() % 3); i < n; ++i)
        cfg += "  " + scoped() + "\n";
    }
    base_ssh(r, cfg);
    std::string path = r.host("/etc/ssh/sshd_config");
    auto gd = sshd_t(path, hk, "");
    std::map<std::string, bool> want = scoped_oracle(gd);
    for (int b = 0; b < blocks; ++b)
      for (auto &[id, ok] :
           scoped_oracle(sshd_t(path, hk, "user=blk" + std::to_string(b) + ",addr=10.0.0.1")))
        want[id] = want[id] && ok;
    auto startups = gd["maxstartups"];
    int sb = 0, sr = 0, sf = 0;
    ASSERT_EQ(std::sscanf(startups.c_str(), "%d:%d:%d", &sb, &sr, &sf), 3) << startups;
    int grace = std::stoi(gd["logingracetime"]);
    want["ssh.login-limits"] =
        want["ssh.login-limits"] && grace > 0 && grace <= 60 && sb <= 10 && sf <= 60;
    want["ssh.legacy-auth"] = want["ssh.legacy-auth"] && gd["permituserenvironment"] == "no";
    want["ssh.use-pam"] = gd["usepam"] == "yes";
    auto f = audit_only(r.path(), k_ssh_ids);
    for (auto &[id, ok] : want) {
      ++compared;
      passes += ok;
      EXPECT_EQ(f.one(id).status, ok ? Status::pass : Status::fail)
          << id << " on case " << c << ":\n"
          << cfg << f.one(id).message;
    }
  }
  EXPECT_EQ(compared, cases * 5);
  EXPECT_GT(passes, 10) << "the generator should produce passing scopes too";
}

namespace {

struct GenKey {
  std::string type;
  int bits;
  bool pem;
};

} // namespace

TEST(SshWave2, HostKeySizesAgreeWithSshKeygen) {
  BULWARK_REQUIRE_TOOL("ssh-keygen") << "(Debian package openssh-client)";
  TempRoot d;
  const std::vector<GenKey> keys = {
      {"rsa", 1024, false},  {"rsa", 2048, true},     {"rsa", 3072, false},
      {"rsa", 3073, false},  {"ecdsa", 256, false},   {"ecdsa", 384, true},
      {"ecdsa", 521, false}, {"ed25519", 256, false}, {"dsa", 1024, false}};
  int n = 0;
  for (auto &k : keys) {
    std::string path = d.path() + "/k" + std::to_string(n++);
    auto gen = run_command("ssh-keygen -q -t " + k.type +
                           (k.type == "ed25519" ? "" : " -b " + std::to_string(k.bits)) +
                           (k.pem ? " -m PEM" : "") + " -N '' -f " + path);
    ASSERT_EQ(gen.exit_code, 0) << gen.err;
    auto l = run_command("ssh-keygen -l -f " + path);
    ASSERT_EQ(l.exit_code, 0) << l.err;
    int bits = std::atoi(l.out.c_str());
    std::string type = l.out.substr(l.out.rfind('(') + 1);
    type = type.substr(0, type.find(')'));
    auto priv = sshkeys::parse_private_key(read_host(path));
    ASSERT_TRUE(priv.ok()) << k.type << " " << k.bits << ": " << priv.error().message;
    EXPECT_EQ(priv->bits, bits) << k.type << " " << k.bits << " " << l.out;
    EXPECT_EQ(text::lower(type), priv->family == "ecdsa" ? "ecdsa" : priv->family) << l.out;
    auto pub = sshkeys::parse_public_key(read_host(path + ".pub"));
    ASSERT_TRUE(pub.ok()) << pub.error().message;
    EXPECT_EQ(pub->bits, bits) << l.out;
  }
}

TEST(SshWave2, HostKeyStrengthJudgesKeysAndModuliOnlyWithGroupExchange) {
  BULWARK_REQUIRE_TOOL("ssh-keygen") << "(Debian package openssh-client)";
  TempRoot r;
  base_ssh(r, "HostKey /etc/ssh/ssh_host_rsa_key\nHostKey /etc/ssh/ssh_host_ed25519_key\n"
              "KexAlgorithms curve25519-sha256\n");
  r.mkdir("/etc/ssh");
  ASSERT_EQ(run_command(
                "ssh-keygen -q -t rsa -b 2048 -N '' -f " + r.host("/etc/ssh/ssh_host_rsa_key") +
                " && ssh-keygen -q -t ed25519 -N '' -f " + r.host("/etc/ssh/ssh_host_ed25519_key"))
                .exit_code,
            0);
  r.write("/etc/ssh/moduli", "# comment\n20230101000000 2 6 100 2047 2 ABCDEF\n");
  auto f = audit_only(r.path(), {"ssh.host-key-strength"});
  const Finding &x = f.one("ssh.host-key-strength");
  EXPECT_EQ(x.status, Status::fail);
  EXPECT_TRUE(cites(x, "/etc/ssh/ssh_host_rsa_key", 0)) << evidence_of(x);
  EXPECT_FALSE(cites(x, "/etc/ssh/moduli", 2)) << "moduli unused without group exchange";
  // The same root with group exchange and a 3072-bit key: the moduli decide.
  ASSERT_EQ(run_command("rm -f " + r.host("/etc/ssh/ssh_host_rsa_key*") +
                        " && ssh-keygen -q -t rsa -b 3072 -N '' -f " +
                        r.host("/etc/ssh/ssh_host_rsa_key"))
                .exit_code,
            0);
  r.write("/etc/ssh/sshd_config", "HostKey /etc/ssh/ssh_host_rsa_key\n");
  auto g = audit_only(r.path(), {"ssh.host-key-strength"});
  EXPECT_EQ(g.one("ssh.host-key-strength").status, Status::fail);
  EXPECT_TRUE(cites(g.one("ssh.host-key-strength"), "/etc/ssh/moduli", 2));
  r.write("/etc/ssh/moduli", "20230101000000 2 6 100 3071 2 ABCDEF\n");
  auto h = audit_only(r.path(), {"ssh.host-key-strength"});
  EXPECT_EQ(h.one("ssh.host-key-strength").status, Status::pass) << h.dump();
}

TEST(SshWave2, HostileKeysAndModuliGiveErrorsNotCrashes) {
  const std::vector<std::string> bad = {
      "",
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA\n",
      "-----BEGIN OPENSSH PRIVATE KEY-----\n!!!!\n-----END OPENSSH PRIVATE KEY-----\n",
      // openssh-key-v1, then a string length of 0xffffffff
      "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEA/////w==\n-----END OPENSSH "
      "PRIVATE KEY-----\n",
      "-----BEGIN RSA PRIVATE KEY-----\nAAAA\n-----END RSA PRIVATE KEY-----\n",
      std::string(1 << 20, 'A'),
  };
  for (auto &t : bad) {
    EXPECT_FALSE(sshkeys::parse_private_key(t).ok()) << t.substr(0, 60);
    (void)sshkeys::parse_public_key(t);
  }
  EXPECT_FALSE(sshkeys::parse_public_key("ssh-rsa AAAAB3NzaC1yc2E=\n").ok()); // truncated blob
  EXPECT_FALSE(sshkeys::parse_public_key("ssh-ed25519 AAAAB3NzaC1yc2EAAAADAQAB\n").ok());
  auto m =
      sshkeys::parse_moduli("x\n1 2 3 4 99999999999 2 F\n1 2 3 4 3071 2 F\n", "/etc/ssh/moduli");
  ASSERT_EQ(m.groups.size(), 1u);
  EXPECT_EQ(m.groups[0].first, 3);
  EXPECT_EQ(m.diagnostics.size(), 2u);

  // A host key that is a directory: an error finding naming it.
  TempRoot r;
  base_ssh(r, "HostKey /etc/ssh/k\n");
  r.mkdir("/etc/ssh/k");
  auto f = audit_only(r.path(), {"ssh.host-key-strength"});
  EXPECT_EQ(f.one("ssh.host-key-strength").status, Status::error) << f.dump();
}

TEST(SshWave2, ConfigPermissions) {
  BULWARK_REQUIRE(::geteuid() == 0) << "chown needs root";
  TempRoot r;
  base_ssh(r, "Include /etc/ssh/sshd_config.d/*.conf\nHostKey /etc/ssh/k\n");
  r.write("/etc/ssh/sshd_config.d/50-a.conf", "UsePAM yes\n");
  r.write("/etc/ssh/k.pub", "x\n", 0644);
  ::chmod(r.host("/etc/ssh").c_str(), 0755);
  ::chmod(r.host("/etc/ssh/sshd_config.d").c_str(), 0755);
  auto f = audit_only(r.path(), {"ssh.config-permissions"});
  EXPECT_EQ(f.one("ssh.config-permissions").status, Status::pass) << f.dump();
  ::chmod(r.host("/etc/ssh/sshd_config.d/50-a.conf").c_str(), 0664);
  ASSERT_EQ(::chown(r.host("/etc/ssh/k.pub").c_str(), 1000, 0), 0);
  auto g = audit_only(r.path(), {"ssh.config-permissions"});
  const Finding &x = g.one("ssh.config-permissions");
  EXPECT_EQ(x.status, Status::fail);
  EXPECT_TRUE(cites(x, "/etc/ssh/sshd_config.d/50-a.conf", 0)) << evidence_of(x);
  EXPECT_TRUE(cites(x, "/etc/ssh/k.pub", 0)) << evidence_of(x);
  EXPECT_FALSE(cites(x, "/etc/ssh/sshd_config", 0)) << evidence_of(x);
}

// ---- accounts ----------------------------------------------------------------

namespace {

void accounts_root(const TempRoot &r, const std::string &passwd, const std::string &group,
                   const std::string &shadow) {
  r.write("/etc/passwd", passwd);
  r.write("/etc/group", group);
  r.write("/etc/shadow", shadow, 0640);
  r.write("/etc/gshadow", "", 0640);
  r.write("/etc/login.defs", "UID_MIN 1000\nENCRYPT_METHOD YESCRYPT\n");
}

const std::string k_passwd = "root:x:0:0:root:/root:/bin/bash\n"
                             "daemon:x:1:1::/usr/sbin:/usr/sbin/nologin\n"
                             "sync:x:4:65534::/bin:/bin/sync\n"
                             "nobody:x:65534:65534::/nonexistent:/usr/sbin/nologin\n"
                             "alice:x:1000:1000::/home/alice:/bin/bash\n";
const std::string k_group = "root:x:0:\ndaemon:x:1:\nnogroup:x:65534:\nalice:x:1000:\n";
const std::string k_shadow = "root:*:19000:0:99999:7:::\n"
                             "daemon:*:19000:0:99999:7:::\n"
                             "sync:*:19000:0:99999:7:::\n"
                             "nobody:*:19000:0:99999:7:::\n"
                             "alice:$y$j9T$abc$def:19000:0:90:7:::\n";

} // namespace

TEST(AccountsWave2, HealthyDatabasesPass) {
  TempRoot r;
  accounts_root(r, k_passwd, k_group, k_shadow);
  auto f = audit_only(r.path(), {"accounts.root-locked", "accounts.system-accounts",
                                 "accounts.unique-ids", "accounts.password-hashing"});
  for (auto id : {"accounts.root-locked", "accounts.system-accounts", "accounts.unique-ids",
                  "accounts.password-hashing"})
    EXPECT_EQ(f.one(id).status, Status::pass) << id << "\n" << f.dump();
}

TEST(AccountsWave2, EachBreakIsNamedWithItsLine) {
  TempRoot r;
  accounts_root(r,
                k_passwd + "www:x:33:33::/var/www:/bin/bash\n"     // line 6: shell
                           "alice:x:1001:1000::/home/a2:/bin/sh\n" // line 7: dup name
                           "bob:x:1000:4242::/home/bob:/bin/sh\n"  // line 8: dup uid, no group
                           "broken line\n",                        // line 9
                k_group + "wheel:x:0:\n",                          // line 5: second gid 0
                "root:$6$salt$hash:19000:0:99999:7:::\n"           // line 1: usable
                "daemon:*:19000:0:99999:7:::\n"
                "sync:*:19000:0:99999:7:::\n"
                "nobody:*:19000:0:99999:7:::\n"
                "alice:$1$abc$def:19000:0:90:7:::\n" // line 5: MD5
                "www:$y$x$y:19000:0:99999:7:::\n");  // line 6: usable
  r.write("/etc/login.defs", "ENCRYPT_METHOD MD5\n");
  auto f = audit_only(r.path(), {"accounts.root-locked", "accounts.system-accounts",
                                 "accounts.unique-ids", "accounts.password-hashing"});
  const Finding &root = f.one("accounts.root-locked");
  EXPECT_EQ(root.status, Status::fail);
  EXPECT_TRUE(cites(root, "/etc/shadow", 1));
  const Finding &sys = f.one("accounts.system-accounts");
  EXPECT_EQ(sys.status, Status::fail);
  EXPECT_TRUE(cites(sys, "/etc/passwd", 6)) << evidence_of(sys);
  EXPECT_NE(sys.message.find("www"), std::string::npos);
  EXPECT_EQ(sys.message.find("sync"), std::string::npos) << "sync keeps /bin/sync";
  const Finding &u = f.one("accounts.unique-ids");
  EXPECT_EQ(u.status, Status::fail);
  for (auto [path, line] : std::vector<std::pair<std::string, int>>{
           {"/etc/passwd", 7}, {"/etc/passwd", 8}, {"/etc/passwd", 9}, {"/etc/group", 5}})
    EXPECT_TRUE(cites(u, path, line)) << path << ":" << line << evidence_of(u);
  const Finding &h = f.one("accounts.password-hashing");
  EXPECT_EQ(h.status, Status::fail);
  EXPECT_TRUE(cites(h, "/etc/login.defs", 1)) << evidence_of(h);
  EXPECT_TRUE(cites(h, "/etc/shadow", 5)) << evidence_of(h);
  for (auto &e : h.evidence)
    EXPECT_EQ(e.found.find("$1$abc"), std::string::npos) << "a hash is never printed";
}

TEST(AccountsWave2, UnreadableDatabasesAreErrors) {
  TempRoot r;
  r.write("/etc/passwd", k_passwd);
  r.mkdir("/etc/shadow"); // a directory where the file should be
  r.mkdir("/etc/group");
  auto f = audit_only(r.path(), {"accounts.root-locked", "accounts.system-accounts",
                                 "accounts.unique-ids", "fs.unowned-files"});
  for (auto id : {"accounts.root-locked", "accounts.system-accounts", "accounts.unique-ids",
                  "fs.unowned-files"})
    EXPECT_EQ(f.one(id).status, Status::error) << id << "\n" << f.dump();
}

// pwck and grpck say what is wrong with names and primary groups; the check
// must agree on each kind of problem they report.
TEST(AccountsWave2, UniqueIdsAgreesWithPwckAndGrpck) {
  BULWARK_REQUIRE_TOOL("pwck") << "(Debian package passwd)";
  BULWARK_REQUIRE(::geteuid() == 0) << "pwck -R needs root";
  std::mt19937 g(16);
  int disagreements = 0, problems = 0;
  for (int c = 0; c < 30; ++c) {
    TempRoot r;
    std::string passwd = "root:x:0:0::/:/bin/sh\n", shadow = "root:*:1:0:99999:7:::\n";
    std::string group = "root:x:0:\n", gshadow = "root:*::\n";
    std::vector<std::string> names = {"ann", "ben", "cat", "ann"};
    for (int i = 0, n = 1 + static_cast<int>(g() % 3); i < n; ++i) {
      std::string name = names[g() % names.size()];
      int gid = 100 + static_cast<int>(g() % 3);
      passwd +=
          name + ":x:" + std::to_string(1000 + i) + ":" + std::to_string(gid) + "::/:/bin/sh\n";
      shadow += name + ":*:1:0:99999:7:::\n";
    }
    for (int i = 0, n = static_cast<int>(g() % 3); i < n; ++i) {
      std::string name = i == 1 && g() % 2 ? "g100" : "g" + std::to_string(100 + i);
      group += name + ":x:" + std::to_string(100 + i) + ":\n";
      gshadow += name + ":*::\n";
    }
    if (g() % 4 == 0)
      passwd += "not a record\n";
    r.write("/etc/passwd", passwd);
    r.write("/etc/shadow", shadow, 0640);
    r.write("/etc/group", group);
    r.write("/etc/gshadow", gshadow, 0640);
    auto pw = run_command("pwck -r -R " + r.path());
    auto gr = run_command("grpck -r -R " + r.path());
    std::string said = pw.out + pw.err + gr.out + gr.err;
    bool dup_user = said.find("duplicate password entry") != std::string::npos;
    bool no_group = said.find(": no group ") != std::string::npos;
    bool invalid = said.find("invalid password file entry") != std::string::npos;
    bool dup_group = said.find("duplicate group entry") != std::string::npos;
    auto f = audit_only(r.path(), {"accounts.unique-ids"});
    const Finding &u = f.one("accounts.unique-ids");
    auto has = [&](const std::string &needle) {
      for (auto &e : u.evidence)
        if (e.found.find(needle) != std::string::npos)
          return true;
      return false;
    };
    bool ours_dup_user = has("duplicate user name"), ours_no_group = has("is not in /etc/group");
    bool ours_invalid = has("fields instead of 7"), ours_dup_group = has("duplicate group name");
    problems += dup_user + no_group + invalid + dup_group;
    if (dup_user != ours_dup_user || no_group != ours_no_group || invalid != ours_invalid ||
        dup_group != ours_dup_group) {
      ++disagreements;
      ADD_FAILURE() << "case " << c << ": pwck/grpck said\n"
                    << said << "bulwark: " << u.message << "\n"
                    << passwd << group;
    }
  }
  EXPECT_EQ(disagreements, 0);
  EXPECT_GT(problems, 5) << "the generator should produce problems for pwck to find";
}

TEST(AccountsWave2, PamSuPasswordHistoryCentralAuth) {
  TempRoot r;
  accounts_root(r, k_passwd, k_group + "sugroup:x:1990:\n", k_shadow);
  r.write("/etc/pam.d/su", "auth sufficient pam_rootok.so\n"
                           "auth required pam_wheel.so use_uid group=sugroup\n"
                           "auth required pam_unix.so\n");
  r.write("/etc/pam.d/passwd", "password requisite pam_pwhistory.so remember=5 enforce_for_root "
                               "use_authtok\n"
                               "password [success=1 default=ignore] pam_unix.so yescrypt\n"
                               "password requisite pam_deny.so\n"
                               "password required pam_permit.so\n");
  r.write("/etc/pam.d/sshd", "auth required pam_unix.so\n");
  auto f = audit_only(r.path(), {"accounts.su-restricted", "accounts.password-history",
                                 "accounts.central-auth", "accounts.password-hashing"});
  EXPECT_EQ(f.one("accounts.su-restricted").status, Status::pass) << f.dump();
  EXPECT_EQ(f.one("accounts.password-history").status, Status::pass) << f.dump();
  EXPECT_EQ(f.one("accounts.central-auth").status, Status::not_applicable) << f.dump();
  EXPECT_EQ(f.one("accounts.password-hashing").status, Status::pass) << f.dump();

  // sufficient pam_wheel only lets the group skip the password; history
  // after pam_unix and without root; pam_sss reached for sshd.
  r.write("/etc/pam.d/su", "auth sufficient pam_wheel.so trust\nauth required pam_unix.so\n");
  r.write("/etc/pam.d/passwd", "password [success=1 default=ignore] pam_unix.so md5\n"
                               "password requisite pam_deny.so\n"
                               "password required pam_pwhistory.so remember=3\n");
  r.write("/etc/pam.d/sshd", "auth [success=done default=ignore] pam_sss.so\n"
                             "auth required pam_unix.so\n");
  auto g = audit_only(r.path(), {"accounts.su-restricted", "accounts.password-history",
                                 "accounts.central-auth", "accounts.password-hashing"});
  EXPECT_EQ(g.one("accounts.su-restricted").status, Status::fail);
  EXPECT_TRUE(cites(g.one("accounts.su-restricted"), "/etc/pam.d/su", 1));
  EXPECT_EQ(g.one("accounts.password-history").status, Status::fail);
  EXPECT_TRUE(cites(g.one("accounts.password-history"), "/etc/pam.d/passwd", 3));
  EXPECT_EQ(g.one("accounts.central-auth").status, Status::pass);
  EXPECT_TRUE(cites(g.one("accounts.central-auth"), "/etc/pam.d/sshd", 1));
  EXPECT_EQ(g.one("accounts.password-hashing").status, Status::fail);
  EXPECT_TRUE(cites(g.one("accounts.password-hashing"), "/etc/pam.d/passwd", 1));
}

TEST(AccountsWave2, SessionTimeoutReplaysTheProfile) {
  TempRoot r;
  r.write("/etc/profile", "# profile\nif [ -d /etc/profile.d ]; then :; fi\n");
  r.write("/etc/profile.d/10-tmout.sh", "TMOUT=600; readonly TMOUT # idle\nexport TMOUT\n");
  r.write("/etc/profile.d/20-late.sh", "TMOUT=0\n"); // fails: TMOUT is read-only by then
  auto f = audit_only(r.path(), {"accounts.session-timeout"});
  const Finding &x = f.one("accounts.session-timeout");
  EXPECT_EQ(x.status, Status::pass) << f.dump();
  EXPECT_TRUE(cites(x, "/etc/profile.d/10-tmout.sh", 1));
  EXPECT_TRUE(cites(x, "/etc/profile.d/20-late.sh", 1)) << "the ignored assignment is shown";

  r.write("/etc/profile.d/10-tmout.sh", "export TMOUT=600\n");
  auto g = audit_only(r.path(), {"accounts.session-timeout"});
  EXPECT_EQ(g.one("accounts.session-timeout").status, Status::fail) << "not read-only";
  r.write("/etc/profile.d/10-tmout.sh", "declare -r TMOUT=3600\n");
  auto h = audit_only(r.path(), {"accounts.session-timeout"});
  EXPECT_EQ(h.one("accounts.session-timeout").status, Status::fail) << "above 900";
  // Hostile: binary garbage and a huge file.
  r.write("/etc/profile.d/10-tmout.sh", std::string("\0\xff\n;;;&&||\"'", 13));
  auto i = audit_only(r.path(), {"accounts.session-timeout"});
  EXPECT_EQ(i.one("accounts.session-timeout").status, Status::fail);
  r.write("/etc/profile.d/30-big.sh", std::string(2 * 1024 * 1024, 'x'));
  auto j = audit_only(r.path(), {"accounts.session-timeout"});
  EXPECT_EQ(j.one("accounts.session-timeout").status, Status::error) << j.dump();
}

// ---- fs ------------------------------------------------------------------------

TEST(FsWave2, CriticalFilePermissions) {
  BULWARK_REQUIRE(::geteuid() == 0) << "chown needs root";
  TempRoot r;
  accounts_root(r, k_passwd, k_group + "shadow:x:42:\n", k_shadow);
  ASSERT_EQ(::chown(r.host("/etc/shadow").c_str(), 0, 42), 0);
  r.write("/etc/shells", "/bin/sh\n");
  auto f = audit_only(r.path(), {"fs.critical-file-permissions"});
  EXPECT_EQ(f.one("fs.critical-file-permissions").status, Status::pass) << f.dump();
  ::chmod(r.host("/etc/gshadow").c_str(), 0644);
  r.write("/etc/passwd-", k_passwd, 0666);
  auto g = audit_only(r.path(), {"fs.critical-file-permissions"});
  const Finding &x = g.one("fs.critical-file-permissions");
  EXPECT_EQ(x.status, Status::fail);
  EXPECT_TRUE(cites(x, "/etc/gshadow", 0));
  EXPECT_TRUE(cites(x, "/etc/passwd-", 0));
  EXPECT_FALSE(cites(x, "/etc/shadow", 0));
}

TEST(FsWave2, UnownedFilesRideTheSharedWalk) {
  BULWARK_REQUIRE(::geteuid() == 0) << "chown needs root";
  TempRoot r;
  accounts_root(r, k_passwd, k_group, k_shadow);
  r.write("/srv/a", "x");
  r.write("/srv/b", "x");
  r.write("/var/lib/docker/overlay2/l/file", "x");
  ASSERT_EQ(::chown(r.host("/srv/a").c_str(), 4242, 0), 0);
  ASSERT_EQ(::chown(r.host("/srv/b").c_str(), 0, 4343), 0);
  ASSERT_EQ(::chown(r.host("/var/lib/docker/overlay2/l/file").c_str(), 999, 999), 0);
  auto f = audit_only(r.path(), {"fs"});
  const Finding &x = f.one("fs.unowned-files");
  EXPECT_EQ(x.status, Status::fail);
  EXPECT_TRUE(cites(x, "/srv/a", 0));
  EXPECT_TRUE(cites(x, "/srv/b", 0));
  EXPECT_FALSE(cites(x, "/var/lib/docker/overlay2/l/file", 0)) << "container storage is ignored";
  // One walk served every fs check.
  int walks = 0;
  for (auto &p : f.report().perf)
    walks += p.name.rfind("tree walk /", 0) == 0; // not the model "tree walks"
  EXPECT_EQ(walks, 1);
}

TEST(FsWave2, TmpMountOptionsFromFstabUnitsAndDefaults) {
  TempRoot r;
  r.write("/etc/fstab", "UUID=1 / ext4 defaults 0 1\n"
                        "tmpfs /tmp tmpfs rw,nosuid,nodev,noexec,mode=1777 0 0\n"
                        "tmpfs /dev/shm tmpfs defaults,nosuid,nodev,noexec 0 0\n"
                        "/tmp /var/tmp none bind,noexec,nodev,nosuid,exec 0 0\n");
  auto f = audit_only(r.path(), {"fs.tmp-mount-options"});
  const Finding &x = f.one("fs.tmp-mount-options");
  EXPECT_EQ(x.status, Status::fail) << "a later exec wins";
  EXPECT_TRUE(cites(x, "/etc/fstab", 4)) << evidence_of(x);
  EXPECT_FALSE(cites(x, "/etc/fstab", 2)) << evidence_of(x);
  // An admin tmp.mount overrides fstab; its drop-in adds noexec.
  r.write("/etc/fstab", "tmpfs /tmp tmpfs rw 0 0\n"
                        "tmpfs /dev/shm tmpfs nosuid,nodev,noexec 0 0\n"
                        "/tmp /var/tmp none bind,noexec,nodev,nosuid 0 0\n");
  r.write("/etc/systemd/system/tmp.mount",
          "[Mount]\nWhat=tmpfs\nWhere=/tmp\nOptions=mode=1777,nosuid,nodev\n");
  r.write("/etc/systemd/system/tmp.mount.d/noexec.conf",
          "[Mount]\nOptions=mode=1777,nosuid,nodev,noexec\n");
  auto g = audit_only(r.path(), {"fs.tmp-mount-options"});
  EXPECT_EQ(g.one("fs.tmp-mount-options").status, Status::pass) << g.dump();
  EXPECT_TRUE(
      cites(g.one("fs.tmp-mount-options"), "/etc/systemd/system/tmp.mount.d/noexec.conf", 2));
  // No fstab line for /dev/shm: systemd's own mount has no noexec.
  r.write("/etc/fstab", "/tmp /var/tmp none bind,noexec,nodev,nosuid 0 0\n");
  auto h = audit_only(r.path(), {"fs.tmp-mount-options"});
  EXPECT_EQ(h.one("fs.tmp-mount-options").status, Status::fail);
  EXPECT_NE(h.one("fs.tmp-mount-options").message.find("/dev/shm"), std::string::npos);
  // An fstab that is a directory: error, never a guess.
  std::filesystem::remove(r.host("/etc/fstab"));
  r.mkdir("/etc/fstab");
  auto i = audit_only(r.path(), {"fs.tmp-mount-options"});
  EXPECT_EQ(i.one("fs.tmp-mount-options").status, Status::error) << i.dump();
}

TEST(FsWave2, FstabOptionsAgreeWithFindmnt) {
  BULWARK_REQUIRE_TOOL("findmnt") << "(Debian package util-linux)";
  std::mt19937 g(7);
  const std::vector<std::string> opts = {"nodev",   "nosuid",    "noexec",   "rw",   "relatime",
                                         "size=1G", "mode=1777", "defaults", "exec", "user"};
  TempRoot d;
  std::string tab = "# generated\n";
  for (int i = 0; i < 40; ++i) {
    std::string o;
    for (int j = 0, n = 1 + static_cast<int>(g() % 4); j < n; ++j)
      o += (j ? "," : "") + opts[g() % opts.size()];
    tab += "tmpfs /mnt/p" + std::to_string(i) + (i % 5 == 0 ? "\\040x" : "") + " tmpfs " + o +
           " 0 0\n";
  }
  d.write("/fstab", tab);
  auto r = run_command("findmnt --fstab -F " + d.host("/fstab") + " -n -r -o TARGET,OPTIONS");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> theirs;
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    std::string target = line.substr(0, line.find(' '));
    size_t x = target.find("\\x20");
    if (x != std::string::npos)
      target.replace(x, 4, " ");
    theirs[target] = line.substr(line.find(' ') + 1);
  }
  auto ours = mounts::parse_fstab_text("/etc/fstab", tab);
  ASSERT_EQ(ours.entries.size(), 40u);
  for (auto &e : ours.entries)
    EXPECT_EQ(theirs[e.mount_point], e.options) << e.mount_point;
  EXPECT_EQ(theirs.size(), 40u);
}

TEST(FsWave2, MountinfoOptionsAgreeWithFindmntKernel) {
  BULWARK_REQUIRE_TOOL("findmnt") << "(Debian package util-linux)";
  auto r = run_command("findmnt -k -n -r -o TARGET,VFS-OPTIONS");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::map<std::string, std::string> theirs; // the last mount at a point wins
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line))
    if (line.find("\\x") == std::string::npos)
      theirs[line.substr(0, line.find(' '))] = line.substr(line.find(' ') + 1);
  auto mi = mounts::parse_mountinfo_text("/proc/self/mountinfo", read_host("/proc/self/mountinfo"));
  ASSERT_FALSE(mi.entries.empty());
  std::map<std::string, std::string> ours;
  for (auto &e : mi.entries)
    ours[e.mount_point] = e.options;
  int compared = 0;
  for (auto &[target, o] : theirs)
    if (ours.count(target)) {
      EXPECT_EQ(ours[target], o) << target;
      ++compared;
    }
  EXPECT_GT(compared, 3);
  // Hostile mountinfo: cut short, garbage; diagnostics with lines, no crash.
  auto bad = mounts::parse_mountinfo_text("/proc/self/mountinfo", "1 2 3\n\xff\xfe\n");
  EXPECT_EQ(bad.diagnostics.size(), 2u);
  EXPECT_EQ(mounts::mount_flags("user,exec").noexec, false);
  EXPECT_EQ(mounts::mount_flags("user").nosuid, true);
  EXPECT_EQ(mounts::mount_flags("noexec,defaults").noexec, false);
}

// ---- sysctl --------------------------------------------------------------------

TEST(SysctlWave2, NetworkExtraAndProcessHardening) {
  TempRoot r;
  r.write("/etc/sysctl.d/60-x.conf", "net.ipv4.conf.all.log_martians = 1\n"
                                     "net.ipv4.conf.default.log_martians = 1\n"
                                     "net.ipv4.conf.all.secure_redirects = 0\n"
                                     "net.ipv4.conf.default.secure_redirects = 0\n"
                                     "net.ipv6.conf.all.accept_ra = 0\n"
                                     "net.ipv6.conf.default.accept_ra = 0\n"
                                     "kernel.yama.ptrace_scope = 2\n"
                                     "fs.suid_dumpable = 0\n"
                                     "net.core.bpf_jit_harden = 2\n"
                                     "fs.protected_fifos = 1\n"
                                     "fs.protected_regular = 2\n");
  auto f = audit_only(r.path(), {"sysctl.network-extra", "sysctl.process-hardening"});
  EXPECT_EQ(f.one("sysctl.network-extra").status, Status::pass) << f.dump();
  EXPECT_EQ(f.one("sysctl.process-hardening").status, Status::pass) << f.dump();
  r.write("/etc/sysctl.d/99-late.conf", "# later wins\nfs.suid_dumpable = 2\n"
                                        "net.ipv6.conf.all.accept_ra = 1\n");
  auto g = audit_only(r.path(), {"sysctl.network-extra", "sysctl.process-hardening"});
  EXPECT_EQ(g.one("sysctl.network-extra").status, Status::fail);
  EXPECT_TRUE(cites(g.one("sysctl.network-extra"), "/etc/sysctl.d/99-late.conf", 3));
  EXPECT_EQ(g.one("sysctl.process-hardening").status, Status::fail);
  EXPECT_TRUE(cites(g.one("sysctl.process-hardening"), "/etc/sysctl.d/99-late.conf", 2));
  // A router ignores router advertisements at accept_ra 1.
  r.write("/etc/sysctl.d/99-late.conf", "net.ipv6.conf.all.forwarding = 1\n"
                                        "net.ipv6.conf.all.accept_ra = 1\n");
  auto h = audit_only(r.path(), {"sysctl.network-extra"});
  EXPECT_EQ(h.one("sysctl.network-extra").status, Status::pass) << h.dump();
}
