// monitoring.*, secrets.*, env.security-flags and data.encryption-at-rest on
// throwaway roots: each check passes and fails on real input, citing the
// deciding file and line; secrets never reach the output; live facts read
// from a fake /proc and /sys, and from a real process of this host.

#include "../audit_helper.hpp"
#include "../support.hpp"
#include "../wait.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/monitoring_model.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/report/report.hpp>

#include <gtest/gtest.h>

#include <csignal>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

std::vector<Finding> audit_all(const TempRoot &r, const std::string &only) {
  AuditRequest req;
  req.root = r.path();
  req.only = {only};
  auto rep = run_audit(req);
  EXPECT_TRUE(rep.ok()) << (rep.ok() ? "" : rep.error().to_string());
  return rep.ok() ? rep->findings : std::vector<Finding>{};
}

Finding audit(const TempRoot &r, const std::string &id) {
  return test::audit_only(r.path(), {id}).one(id);
}

bool has_evidence(const Finding &f, const std::string &path, int line) {
  for (auto &e : f.evidence)
    if (e.path == path && e.line == line)
      return true;
  return false;
}

std::string dump(const Finding &f) {
  std::string s = std::string(to_string(f.status)) + ": " + f.message;
  for (auto &e : f.evidence)
    s += "\n  " + e.path + ":" + std::to_string(e.line) + " " + e.found;
  return s;
}

void set_age_days(const TempRoot &r, const std::string &target, int days) {
  struct timespec ts[2];
  ts[0].tv_sec = ts[1].tv_sec = ::time(nullptr) - static_cast<time_t>(days) * 86400;
  ts[0].tv_nsec = ts[1].tv_nsec = 0;
  ASSERT_EQ(::utimensat(AT_FDCWD, r.host(target).c_str(), ts, 0), 0);
}

const char *k_compose = "services:\n"
                        "  vpn:\n"
                        "    image: vpn:1.2\n"
                        "    env_file: [prod.env]\n"
                        "    secrets: [db_password]\n"
                        "secrets:\n"
                        "  db_password:\n"
                        "    file: ./secrets/db_password.txt\n";

const char *k_secret = "Zq9xK3vLr8TwPm2yNc7B";

} // namespace

// --- secrets.env-files -------------------------------------------------------

TEST(SecretsEnvFiles, LiteralSecretsFailWithTheirLineReferencesPass) {
  TempRoot r;
  r.write("/srv/vpn/compose.yaml", k_compose);
  r.write("/srv/vpn/.env",
          std::string("# deployment settings\n"
                      "API_TOKEN=${API_TOKEN}\n"
                      "DB_PASSWORD=") +
              k_secret +
              "\n"
              "JWT_SECRET_FILE=/run/secrets/jwt\n"
              "PASSWORD_MIN_LENGTH=12\n"
              "VAULT_PASS=vault:secret/data/vpn#pass\n"
              "MONKEY_BUSINESS=banana\n"
              "DATABASE_URL=postgres://app:Pw0rdPw0rdXYZ@db:5432/app\n"
              "EMPTY_SECRET=\n",
          0600);
  r.write("/srv/vpn/prod.env", "LOG_LEVEL=info\n", 0600);
  auto f = audit(r, "secrets.env-files");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  ASSERT_EQ(f.evidence.size(), 2u) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/srv/vpn/.env", 3)) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/srv/vpn/.env", 8)) << dump(f);
  EXPECT_NE(f.evidence[0].found.find("DB_PASSWORD=Zq...[20 chars]"), std::string::npos) << dump(f);

  r.write("/srv/vpn/.env",
          "DB_PASSWORD_FILE=/run/secrets/db_password\nAPI_TOKEN=\"${API_TOKEN:?}\"\n", 0600);
  EXPECT_EQ(audit(r, "secrets.env-files").status, Status::pass);
}

TEST(SecretsEnvFiles, EnvFileNamedByComposeOutsideTheSearchedNamesIsRead) {
  TempRoot r;
  r.write("/srv/vpn/compose.yaml", "services:\n  app:\n    image: a:1\n    env_file:\n      - "
                                   "path: ../../etc/vpn/app-settings\n");
  r.write("/etc/vpn/app-settings", "REDIS_PASSWORD='hunter2hunter2'\n", 0600);
  auto f = audit(r, "secrets.env-files");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/etc/vpn/app-settings", 1));
}

TEST(SecretsEnvFiles, NotApplicableWithoutEnvFilesAndErrorOnAFifo) {
  TempRoot r;
  r.mkdir("/srv");
  EXPECT_EQ(audit(r, "secrets.env-files").status, Status::not_applicable);
  r.mkdir("/opt/app");
  ASSERT_EQ(::mkfifo(r.host("/opt/app/.env").c_str(), 0600), 0);
  auto f = audit(r, "secrets.env-files");
  EXPECT_EQ(f.status, Status::error) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/opt/app/.env", 0)) << dump(f);
}

TEST(SecretsEnvFiles, SymlinkOutOfTheRootIsNotFollowed) {
  TempRoot outside;
  outside.write("/leak.env", "DB_PASSWORD=from-the-host-not-the-image\n");
  TempRoot r;
  r.symlink(outside.host("/leak.env"), "/srv/app/.env");
  auto all = audit_all(r, "secrets");
  for (auto &f : all) {
    EXPECT_NE(f.status, Status::fail) << dump(f);
    for (auto &e : f.evidence)
      EXPECT_EQ(e.found.find("from-the-host"), std::string::npos);
  }
}

TEST(SecretsNeverPrinted, TextAndJsonReportsHoldNoSecretBytes) {
  TempRoot r;
  r.write("/srv/vpn/compose.yaml", k_compose);
  r.write("/srv/vpn/secrets/db_password.txt", std::string(k_secret) + "\n", 0644);
  const std::string multi = "-----BEGIN-Zq9x\nK3vLr8TwPm2yNc7B-multiline";
  r.write("/srv/vpn/.env",
          std::string("DB_PASSWORD=") + k_secret + "\nexport API_KEY=\"" + multi + "\"\n" +
              "SESSION_SECRET='" + k_secret + "'\nDATABASE_URL=mysql://root:" + k_secret +
              "@db/x\nBROKEN " + k_secret + " LINE\nUNTERMINATED=\"" + k_secret + "\n",
          0644);
  r.write("/srv/vpn/prod.env", std::string("STRIPE_TOKEN=") + k_secret + "\n", 0644);
  r.write("/srv/vpn/.env.production",
          std::string("ENABLE_AUDIT_LOG=true\nAWS_SECRET_ACCESS_KEY=") + k_secret + "\n", 0644);
  set_age_days(r, "/srv/vpn/.env", 400);
  AuditRequest req;
  req.root = r.path();
  req.only = {"secrets", "env", "monitoring", "data"};
  auto rep = run_audit(req);
  ASSERT_TRUE(rep.ok());
  bool failed_env = false;
  for (auto &f : rep->findings)
    failed_env = failed_env || (f.check == "secrets.env-files" && f.status == Status::fail);
  ASSERT_TRUE(failed_env);
  for (const std::string &out : {report::render_text(*rep, false), report::render_text(*rep, true),
                                 report::render_json(*rep)}) {
    EXPECT_EQ(out.find(k_secret), std::string::npos);
    // Not even a fragment: every 4-byte window of the secret is absent.
    std::string s = k_secret;
    for (size_t i = 0; i + 4 <= s.size(); ++i)
      EXPECT_EQ(out.find(s.substr(i, 4)), std::string::npos) << "fragment " << s.substr(i, 4);
    EXPECT_EQ(out.find("K3vLr8"), std::string::npos);
    EXPECT_NE(out.find("DB_PASSWORD"), std::string::npos); // the key is named
  }
}

// --- secrets.file-permissions --------------------------------------------------

TEST(SecretsFilePermissions, EnvSecretFilesAndKeys) {
  TempRoot r;
  r.write("/srv/vpn/compose.yaml", k_compose);
  r.write("/srv/vpn/.env", "A=1\n", 0600);
  r.write("/srv/vpn/prod.env", "B=2\n", 0600);
  r.write("/srv/vpn/secrets/db_password.txt", "x\n", 0600);
  r.write("/etc/group", "root:x:0:\nssl-cert:x:112:postgres\n");
  r.write("/etc/ssl/private/site.key", "-----BEGIN PRIVATE KEY-----\n", 0640);
  ASSERT_EQ(::chown(r.host("/etc/ssl/private/site.key").c_str(), 0, 112), 0);
  auto f = audit(r, "secrets.file-permissions");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_EQ(f.evidence.size(), 4u) << dump(f);

  // The Docker secret file declared at compose.yaml:8, readable by all.
  ::chmod(r.host("/srv/vpn/secrets/db_password.txt").c_str(), 0644);
  // A key found by its content, not its folder.
  r.write("/etc/nginx/tls/site.pem", "-----BEGIN RSA PRIVATE KEY-----\nabc\n", 0644);
  r.write("/etc/nginx/tls/chain.pem", "-----BEGIN CERTIFICATE-----\n", 0644);
  f = audit(r, "secrets.file-permissions");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/srv/vpn/secrets/db_password.txt", 0));
  EXPECT_TRUE(has_evidence(f, "/etc/nginx/tls/site.pem", 0));
  EXPECT_FALSE(has_evidence(f, "/etc/nginx/tls/chain.pem", 0));
  EXPECT_FALSE(has_evidence(f, "/etc/ssl/private/site.key", 0)) << dump(f);
  for (auto &e : f.evidence) {
    if (e.path == "/srv/vpn/secrets/db_password.txt") {
      EXPECT_NE(e.found.find("0644"), std::string::npos);
    }
  }
}

TEST(SecretsFilePermissions, OwnerMustBeRootOrTheDirectoryOwner) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root to chown";
  TempRoot r;
  r.write("/home/deploy/app/.env", "A=1\n", 0600);
  ASSERT_EQ(::chown(r.host("/home/deploy/app/.env").c_str(), 1234, 1234), 0);
  auto f = audit(r, "secrets.file-permissions");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_NE(f.evidence[0].found.find("owned by uid 1234"), std::string::npos);
  ASSERT_EQ(::chown(r.host("/home/deploy/app").c_str(), 1234, 1234), 0);
  EXPECT_EQ(audit(r, "secrets.file-permissions").status, Status::pass);
}

TEST(SecretsFilePermissions, DeclaredSecretFileAbsentIsAWarningAndNothingIsNotApplicable) {
  TempRoot r;
  r.mkdir("/srv");
  EXPECT_EQ(audit(r, "secrets.file-permissions").status, Status::not_applicable);
  r.write("/srv/vpn/compose.yaml", k_compose);
  auto f = audit(r, "secrets.file-permissions");
  EXPECT_EQ(f.status, Status::warn) << dump(f);
  ASSERT_EQ(f.evidence.size(), 2u) << dump(f);
  EXPECT_EQ(f.evidence[0].path, "/srv/vpn/prod.env"); // env_file: [prod.env]
  EXPECT_EQ(f.evidence[0].context, "declared at /srv/vpn/compose.yaml:4");
  EXPECT_EQ(f.evidence[1].path, "/srv/vpn/secrets/db_password.txt");
  EXPECT_EQ(f.evidence[1].context, "declared at /srv/vpn/compose.yaml:8");
}

// --- secrets.rotation-age ------------------------------------------------------

TEST(SecretsRotationAge, OldSecretFilesFail) {
  TempRoot r;
  r.write("/srv/vpn/compose.yaml", k_compose);
  r.write("/srv/vpn/secrets/db_password.txt", "x\n", 0600);
  r.write("/srv/vpn/.env", "ENABLE_AUDIT_LOG=true\n", 0600); // nothing to rotate
  set_age_days(r, "/srv/vpn/.env", 500);
  set_age_days(r, "/srv/vpn/secrets/db_password.txt", 30);
  auto f = audit(r, "secrets.rotation-age");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_EQ(f.evidence.size(), 1u);
  set_age_days(r, "/srv/vpn/secrets/db_password.txt", 91);
  f = audit(r, "secrets.rotation-age");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/srv/vpn/secrets/db_password.txt", 0));
  EXPECT_NE(f.evidence[0].found.find("91 days ago"), std::string::npos);
}

// Issue 16: certbot keeps every key it issued in archive/; the server reads
// live/, whose links point at the current one. Only that one is judged.
// The oracle for "the current one" is the kernel's resolution of the link
// (realpath(1) in the built root), for certbot's relative links and for an
// absolute one.
TEST(SecretsRotationAge, CertbotLiveDecidesNotTheSupersededArchive) {
  TempRoot r;
  const std::string key = "-----BEGIN PRIVATE KEY-----\nMII\n-----END PRIVATE KEY-----\n";
  for (int i = 1; i <= 3; ++i)
    r.write("/etc/letsencrypt/archive/lms.example/privkey" + std::to_string(i) + ".pem", key, 0600);
  set_age_days(r, "/etc/letsencrypt/archive/lms.example/privkey1.pem", 400);
  set_age_days(r, "/etc/letsencrypt/archive/lms.example/privkey2.pem", 200);
  set_age_days(r, "/etc/letsencrypt/archive/lms.example/privkey3.pem", 20);
  r.symlink("../../archive/lms.example/privkey3.pem",
            "/etc/letsencrypt/live/lms.example/privkey.pem");
  auto real =
      test::run_command("realpath " + r.host("/etc/letsencrypt/live/lms.example/privkey.pem"));
  ASSERT_EQ(real.exit_code, 0);
  EXPECT_EQ(real.out, r.host("/etc/letsencrypt/archive/lms.example/privkey3.pem") + "\n");
  auto f = audit(r, "secrets.rotation-age");
  ASSERT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_NE(f.message.find("2 superseded certbot key(s)"), std::string::npos) << f.message;
  for (auto &e : f.evidence)
    EXPECT_EQ(e.path.find("privkey1"), std::string::npos) << dump(f);
  // Renewal failed for months: live/ points at the 200-day-old key.
  ::unlink(r.host("/etc/letsencrypt/live/lms.example/privkey.pem").c_str());
  r.symlink("/etc/letsencrypt/archive/lms.example/privkey2.pem",
            "/etc/letsencrypt/live/lms.example/privkey.pem");
  f = audit(r, "secrets.rotation-age");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  bool named_current = false;
  for (auto &e : f.evidence) {
    EXPECT_EQ(e.path.find("privkey1"), std::string::npos) << dump(f);
    EXPECT_EQ(e.path.find("privkey3"), std::string::npos) << dump(f);
    named_current = named_current || e.path.find("privkey2") != std::string::npos ||
                    e.path == "/etc/letsencrypt/live/lms.example/privkey.pem";
  }
  EXPECT_TRUE(named_current) << dump(f);
}

// --- env.security-flags ------------------------------------------------------

TEST(EnvFlags, GuideFilePassesEachDeviationFailsAtItsLine) {
  TempRoot r;
  // Guide 000 §2, verbatim.
  const std::string guide = "# Security settings\n"
                            "ENABLE_AUDIT_LOG=true\n"
                            "ENABLE_SECURITY_HEADERS=true\n"
                            "ENABLE_RATE_LIMITING=true\n"
                            "SSL_PROTOCOLS=\"TLSv1.2 TLSv1.3\"\n";
  r.write("/srv/vpn/.env.production", guide, 0600);
  auto f = audit(r, "env.security-flags");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_EQ(f.subject, "/srv/vpn/.env.production");

  r.write("/srv/vpn/.env.production", guide + "ENABLE_RATE_LIMITING=false\n", 0600);
  f = audit(r, "env.security-flags");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/srv/vpn/.env.production", 6));

  r.write("/srv/vpn/.env.production",
          "ENABLE_SECURITY_HEADERS=true\nENABLE_RATE_LIMITING=true\nSSL_PROTOCOLS=TLSv1 TLSv1.2\n",
          0600);
  f = audit(r, "env.security-flags");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/srv/vpn/.env.production", 0)); // ENABLE_AUDIT_LOG absent
  EXPECT_TRUE(has_evidence(f, "/srv/vpn/.env.production", 3));
  EXPECT_NE(f.message.find("enables tlsv1"), std::string::npos) << f.message;

  // Apache's syntax: all minus the old ones.
  r.write("/srv/vpn/.env.production",
          "ENABLE_AUDIT_LOG=true\nENABLE_SECURITY_HEADERS=true\nENABLE_RATE_LIMITING=true\n"
          "SSL_PROTOCOLS='all -SSLv3 -TLSv1 -TLSv1.1'\n",
          0600);
  EXPECT_EQ(audit(r, "env.security-flags").status, Status::pass);
  r.write("/srv/vpn/.env.production",
          "ENABLE_AUDIT_LOG=true\nENABLE_SECURITY_HEADERS=true\nENABLE_RATE_LIMITING=true\n"
          "SSL_PROTOCOLS=all -SSLv3\n",
          0600);
  EXPECT_EQ(audit(r, "env.security-flags").status, Status::fail);
}

TEST(EnvFlags, NotApplicableWithoutEnvProduction) {
  TempRoot r;
  r.write("/srv/vpn/.env", "ENABLE_AUDIT_LOG=false\n", 0600);
  EXPECT_EQ(audit(r, "env.security-flags").status, Status::not_applicable);
}

// --- data.encryption-at-rest ---------------------------------------------------

TEST(DataAtRest, OfflineFstabAndCrypttab) {
  TempRoot r;
  r.mkdir("/var/lib");
  EXPECT_EQ(audit(r, "data.encryption-at-rest").status, Status::not_applicable);
  r.mkdir("/var/lib/postgresql/15/main");
  r.write("/etc/fstab",
          "UUID=1 / ext4 defaults 0 1\n/dev/mapper/pgdata /var/lib/postgresql ext4 defaults 0 2\n");
  r.write("/etc/crypttab", "# <target> <source> <key> <options>\npgdata UUID=2 none luks\n");
  auto f = audit(r, "data.encryption-at-rest");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_EQ(f.subject, "/var/lib/postgresql");
  EXPECT_TRUE(has_evidence(f, "/etc/fstab", 2));
  EXPECT_TRUE(has_evidence(f, "/etc/crypttab", 2));

  r.write("/etc/crypttab", "# nothing\n");
  f = audit(r, "data.encryption-at-rest");
  EXPECT_EQ(f.status, Status::warn) << dump(f);
  EXPECT_EQ(f.severity, Severity::low);
  EXPECT_TRUE(has_evidence(f, "/etc/fstab", 2));

  // A symlinked data directory is judged where it really lives.
  r.write("/etc/crypttab", "pgdata UUID=2 none luks\n");
  r.write("/etc/fstab", "UUID=1 / ext4 defaults 0 1\n/dev/mapper/pgdata /data ext4 defaults 0 2\n");
  std::filesystem::remove_all(r.host("/var/lib/postgresql"));
  r.mkdir("/data/pg");
  r.symlink("/data/pg", "/var/lib/postgresql");
  f = audit(r, "data.encryption-at-rest");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
}

TEST(DataAtRest, LiveMountinfoAndDeviceMapper) {
  TempRoot r;
  r.mkdir("/var/lib/redis");
  r.mkdir("/var/lib/mysql");
  r.write("/proc/self/mountinfo",
          "22 1 8:1 / / rw - ext4 /dev/sda1 rw\n"
          "30 22 254:0 / /var/lib/redis rw - ext4 /dev/mapper/redis rw\n"
          "31 22 254:1 / /var/lib/mysql rw - ext4 /dev/mapper/vg-mysql rw\n");
  r.write("/sys/devices/virtual/block/dm-0/dm/uuid", "CRYPT-LUKS2-0123abcd-redis\n");
  r.symlink("../../devices/virtual/block/dm-0", "/sys/dev/block/254:0");
  // LVM on LUKS: dm-1 (LVM-) sits on dm-2 (CRYPT-).
  r.write("/sys/devices/virtual/block/dm-1/dm/uuid", "LVM-abc\n");
  r.write("/sys/devices/virtual/block/dm-2/dm/uuid", "CRYPT-LUKS2-feed-sda3_crypt\n");
  r.symlink("../../dm-2", "/sys/devices/virtual/block/dm-1/slaves/dm-2");
  r.symlink("../../devices/virtual/block/dm-1", "/sys/dev/block/254:1");
  RootFs fs(r.path());
  auto vols = monitoring::load_data_volumes(fs, true);
  ASSERT_EQ(vols.size(), 2u);
  for (auto &v : vols)
    EXPECT_EQ(v.verdict, monitoring::DataVolume::Verdict::encrypted) << v.dir << ": " << v.message;
  EXPECT_EQ(vols[0].evidence[0].line, 3); // mysql comes first in k_data_dirs: line 3
  r.write("/sys/devices/virtual/block/dm-2/dm/uuid", "LVM-plain\n");
  vols = monitoring::load_data_volumes(fs, true);
  EXPECT_EQ(vols[0].verdict, monitoring::DataVolume::Verdict::not_encrypted) << vols[0].message;
  EXPECT_EQ(vols[1].verdict, monitoring::DataVolume::Verdict::encrypted);
}

// --- monitoring.intrusion-detection --------------------------------------------

TEST(MonitoringIds, WazuhAgentNeedsAManagerAddress) {
  TempRoot r;
  r.mkdir("/etc");
  EXPECT_EQ(audit(r, "monitoring.intrusion-detection").status, Status::fail);
  r.write("/var/ossec/etc/ossec.conf", "<ossec_config>\n"
                                       "  <client>\n"
                                       "    <!-- <server><address>10.0.0.5</address></server> -->\n"
                                       "    <server>\n"
                                       "      <address>MANAGER_IP</address>\n"
                                       "    </server>\n"
                                       "  </client>\n"
                                       "</ossec_config>\n");
  auto f = audit(r, "monitoring.intrusion-detection");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_NE(f.message.find("no manager address"), std::string::npos);
  r.write("/var/ossec/etc/ossec.conf", "<ossec_config>\n  <client>\n    <server>\n"
                                       "      <address>wazuh.internal</address>\n"
                                       "    </server>\n  </client>\n</ossec_config>\n");
  f = audit(r, "monitoring.intrusion-detection");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/var/ossec/etc/ossec.conf", 4));
}

TEST(MonitoringIds, BulwarkWatchMustBeEnabledNotMasked) {
  TempRoot r;
  r.write("/lib/systemd/system/bulwark-watch.service",
          "[Service]\nExecStart=/usr/bin/bulwark watch\n");
  auto f = audit(r, "monitoring.intrusion-detection");
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_NE(f.message.find("not enabled"), std::string::npos) << f.message;
  r.symlink("/lib/systemd/system/bulwark-watch.service",
            "/etc/systemd/system/multi-user.target.wants/bulwark-watch.service");
  f = audit(r, "monitoring.intrusion-detection");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_TRUE(
      has_evidence(f, "/etc/systemd/system/multi-user.target.wants/bulwark-watch.service", 0));
  r.symlink("/dev/null", "/etc/systemd/system/bulwark-watch.service");
  EXPECT_EQ(audit(r, "monitoring.intrusion-detection").status, Status::fail);
}

// --- monitoring.file-integrity ---------------------------------------------------

TEST(MonitoringFim, AideDatabaseWhereAideConfSaysIt) {
  TempRoot r;
  r.write("/etc/aide/aide.conf", "# AIDE\n@@define DBDIR /srv/aide\n"
                                 "database_in=file:@@{DBDIR}/aide.db\n"
                                 "database_out=file:@@{DBDIR}/aide.db.new\n");
  r.write("/var/lib/aide/aide.db", "default place, not configured\n");
  auto f = audit(r, "monitoring.file-integrity");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/etc/aide/aide.conf", 3));
  EXPECT_NE(f.message.find("/srv/aide/aide.db"), std::string::npos);
  r.write("/srv/aide/aide.db", "AIDE database\n");
  f = audit(r, "monitoring.file-integrity");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/etc/aide/aide.conf", 3));
}

TEST(MonitoringFim, BulwarkBaselineCounts) {
  TempRoot r;
  r.mkdir("/var/lib");
  EXPECT_EQ(audit(r, "monitoring.file-integrity").status, Status::fail);
  // Only a database `bulwark fim check` could use counts (fail closed): one
  // that is not a database cannot be trusted, an error.
  r.write("/var/lib/bulwark/fim/baseline.db", "{}\n");
  auto bad = audit(r, "monitoring.file-integrity");
  EXPECT_EQ(bad.status, Status::error) << dump(bad);
  EXPECT_NE(bad.message.find("not trusted"), std::string::npos) << dump(bad);
  fim::Database db;
  db.created = 1764979200; // 2025-12-06
  fim::Record rec;
  rec.path = "/etc/passwd";
  db.records.push_back(rec);
  auto bytes = fim::encode(db, nullptr);
  ASSERT_TRUE(bytes);
  // Intact but unsigned: an intruder could have written it; not a
  // baseline that counts (signed ones: tests/fim_audit_test.cpp).
  r.write("/var/lib/bulwark/fim/baseline.db", *bytes);
  auto unsigned_db = audit(r, "monitoring.file-integrity");
  EXPECT_EQ(unsigned_db.status, Status::fail) << dump(unsigned_db);
  EXPECT_NE(unsigned_db.message.find("not signed"), std::string::npos) << dump(unsigned_db);
  // Truncated: an error again.
  r.write("/var/lib/bulwark/fim/baseline.db", bytes->substr(0, bytes->size() - 1));
  EXPECT_EQ(audit(r, "monitoring.file-integrity").status, Status::error);
}

// --- monitoring.security-alerts --------------------------------------------------

namespace {
const char *k_guide_rules = "# Prometheus alerts for security monitoring\n"
                            "groups:\n"
                            "  - name: security\n"
                            "    rules:\n"
                            "      - alert: TooManyFailedLogins\n"
                            "        expr: rate(auth_failed_total[5m]) > 10\n"
                            "        annotations:\n"
                            "          summary: \"High rate of failed authentication attempts\"\n"
                            "\n"
                            "      - alert: UnauthorizedAccess\n"
                            "        expr: unauthorized_access_total > 0\n"
                            "        annotations:\n"
                            "          summary: \"Unauthorized access attempt detected\"\n";
}

TEST(MonitoringAlerts, GuideRulesThroughRuleFilesPass) {
  TempRoot r;
  r.write("/etc/prometheus/prometheus.yml",
          "global:\n  scrape_interval: 15s\nrule_files:\n  - rules/*.yml\n");
  r.write("/etc/prometheus/rules/security.yml", k_guide_rules);
  auto f = audit(r, "monitoring.security-alerts");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/etc/prometheus/rules/security.yml", 5));
  EXPECT_TRUE(has_evidence(f, "/etc/prometheus/rules/security.yml", 10));
}

TEST(MonitoringAlerts, CommentedRecordingOrRawCounterRulesDoNotCount) {
  TempRoot r;
  r.write("/etc/prometheus/prometheus.yml", "rule_files: [security.rules.yml, missing/*.yml]\n");
  r.write("/etc/prometheus/security.rules.yml",
          "groups:\n"
          "  - name: security\n"
          "    rules:\n"
          "      - record: auth:failed:rate5m\n"
          "        expr: rate(auth_failed_total[5m])\n"
          "      - alert: RawCounter\n"
          "        expr: auth_failed_total > 10\n"
          "      - alert: Named\n"
          "        expr: up{job=\"unauthorized_access_total\"} == 0\n"
          "#     - alert: UnauthorizedAccess\n"
          "#       expr: unauthorized_access_total > 0\n");
  auto f = audit(r, "monitoring.security-alerts");
  ASSERT_EQ(f.status, Status::fail) << dump(f);
  EXPECT_NE(f.message.find("failed logins"), std::string::npos);
  EXPECT_NE(f.message.find("unauthorized_access_total"), std::string::npos);
  EXPECT_TRUE(has_evidence(f, "/etc/prometheus/prometheus.yml", 1)); // the glob matching nothing
  // A namespaced fail2ban exporter counter under increase() counts.
  r.write(
      "/etc/prometheus/security.rules.yml",
      "groups:\n- name: s\n  rules:\n"
      "  - alert: F2b\n    expr: sum(increase(f2b_jail_failed_total{jail=\"sshd\"}[10m])) > 20\n"
      "  - alert: Unauth\n    expr: rate(vpn_unauthorized_access_total[1m]) > 0\n");
  f = audit(r, "monitoring.security-alerts");
  EXPECT_EQ(f.status, Status::pass) << dump(f);
  EXPECT_TRUE(has_evidence(f, "/etc/prometheus/security.rules.yml", 4));
}

TEST(MonitoringAlerts, DefaultPlacesAndNotApplicable) {
  TempRoot r;
  r.mkdir("/etc");
  EXPECT_EQ(audit(r, "monitoring.security-alerts").status, Status::not_applicable);
  r.write("/etc/prometheus/rules.d/security.yml", k_guide_rules);
  EXPECT_EQ(audit(r, "monitoring.security-alerts").status, Status::pass);
  r.write("/etc/prometheus/rules.d/security.yml", "groups: [ {name: x, rules: [\n");
  auto f = audit(r, "monitoring.security-alerts");
  EXPECT_EQ(f.status, Status::fail) << dump(f);
  bool cited = false;
  for (auto &e : f.evidence)
    cited = cited || (e.path == "/etc/prometheus/rules.d/security.yml" && e.line > 0 &&
                      e.found.find("invalid YAML") != std::string::npos);
  EXPECT_TRUE(cited) << dump(f);
}

// --- monitoring.fail2ban-running -------------------------------------------------

TEST(MonitoringFail2ban, OfflineIsNotApplicableFakeProcIsRead) {
  TempRoot r;
  r.mkdir("/etc");
  EXPECT_EQ(audit(r, "monitoring.fail2ban-running").status, Status::not_applicable);
  auto process = [&r](const std::string &pid, const std::string &comm, const std::string &argv) {
    r.write("/proc/" + pid + "/comm", comm + "\n");
    r.write("/proc/" + pid + "/cmdline", argv);
    r.write("/proc/" + pid + "/status",
            "Name:\t" + comm + "\nUid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n");
  };
  process("1", "systemd", std::string("/sbin/init\0", 11));
  process("77", "bulwark", std::string("/usr/bin/bulwark\0audit\0", 23));
  RootFs fs(r.path());
  auto none = procfs::load_processes(fs);
  ASSERT_TRUE(none.ok()) << none.error().to_string();
  EXPECT_EQ(none->processes.size(), 2u);
  EXPECT_TRUE(monitoring::find_guard_processes(*none).empty());
  process("78", "bulwark", std::string("/usr/bin/bulwark\0watch\0", 23));
  process("812", "fail2ban-server",
          std::string("/usr/bin/python3\0/usr/bin/fail2ban-server\0-xf\0start\0", 52));
  auto table = procfs::load_processes(fs);
  ASSERT_TRUE(table.ok()) << table.error().to_string();
  auto found = monitoring::find_guard_processes(*table);
  ASSERT_EQ(found.size(), 2u);
  EXPECT_EQ(found[0].what, "bulwark watch");
  EXPECT_EQ(found[1].what, "fail2ban-server");
  EXPECT_EQ(found[1].path, "/proc/812/cmdline");
}

TEST(MonitoringFail2ban, LiveHostSeesARealProcess) {
  // A real process named fail2ban-server (a copy of sleep) on this host.
  TempRoot dir;
  std::string bin = dir.path() + "/fail2ban-server";
  ASSERT_EQ(test::run_command("cp /bin/sleep " + bin).exit_code, 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::execl(bin.c_str(), bin.c_str(), "30", static_cast<char *>(nullptr));
    ::_exit(127);
  }
  ASSERT_TRUE(test::wait_for_exec(pid, bin)) << bin << " never started";
  RootFs host("/");
  bool seen = false;
  auto table = procfs::load_processes(host);
  ASSERT_TRUE(table.ok()) << table.error().to_string();
  for (auto &m : monitoring::find_guard_processes(*table))
    seen = seen || m.pid == pid;
  AuditRequest req;
  req.root = "/";
  req.only = {"monitoring.fail2ban-running"};
  auto rep = run_audit(req);
  ::kill(pid, SIGTERM);
  ::waitpid(pid, nullptr, 0);
  EXPECT_TRUE(seen);
  ASSERT_TRUE(rep.ok());
  ASSERT_EQ(rep->findings.size(), 1u);
  EXPECT_EQ(rep->findings[0].status, Status::pass) << rep->findings[0].message;
}
