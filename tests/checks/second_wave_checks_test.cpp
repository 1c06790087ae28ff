// Issue 16, second wave, on offline roots: backup.*, the new logging.*,
// monitoring.*, fail2ban.*, tls.service-certificates, postgres.*, redis.*,
// os.*, docker.image-vulnerability-scan and vpn.openvpn-revocation. Each
// check fails and passes on real files and names the file and line that
// decided it; the new parsers get hostile input; where a program speaks for
// itself (systemctl is-enabled --root, dpkg --verify, openssl, fail2ban-client
// -d) the test compares with it.

#include "../audit_helper.hpp"
#include "../parse/x509_gen.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/apt_sources.hpp>
#include <bulwark/parse/auditrules.hpp>
#include <bulwark/parse/crontab.hpp>
#include <bulwark/parse/x509.hpp>

#include <gtest/gtest.h>

#include <openssl/pem.h>
#include <openssl/x509.h>

#include <fcntl.h>
#include <fstream>
#include <set>
#include <sys/stat.h>
#include <unistd.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

test::Findings audit(const TempRoot &r, std::vector<std::string> only) {
  return test::audit_only(r.path(), std::move(only), {"baseline"});
}

bool cites(const Finding &f, const std::string &path, int line = -1) {
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

#define EXPECT_CITES(f, path, line)                                                                \
  EXPECT_TRUE(cites((f), (path), (line)))                                                          \
      << (f).check << " " << (f).message << ":" << evidence_of(f)

// An enabled timer (the .wants link systemctl enable makes) that starts
// `service` running `exec`.
void timer(const TempRoot &r, const std::string &name, const std::string &exec,
           const std::string &extra_service = "") {
  r.write("/etc/systemd/system/" + name + ".timer",
          "[Unit]\nDescription=backup\n\n[Timer]\nOnCalendar=daily\nPersistent=true\n\n"
          "[Install]\nWantedBy=timers.target\n");
  r.write("/etc/systemd/system/" + name + ".service",
          "[Unit]\nDescription=backup\n\n[Service]\nType=oneshot\n" + extra_service +
              "ExecStart=" + exec + "\n");
  r.mkdir("/etc/systemd/system/timers.target.wants");
  r.symlink("/etc/systemd/system/" + name + ".timer",
            "/etc/systemd/system/timers.target.wants/" + name + ".timer");
}

// --- backup.* -----------------------------------------------------------

TEST(BackupChecks, NothingScheduledFails) {
  TempRoot r;
  r.write("/etc/crontab",
          "SHELL=/bin/sh\n17 * * * * root cd / && run-parts --report /etc/cron.hourly\n");
  auto f = audit(r, {"backup"});
  EXPECT_EQ(f.one("backup.configured").status, Status::fail) << f.dump();
  EXPECT_EQ(f.one("backup.encrypted").status, Status::not_applicable);
  EXPECT_EQ(f.one("backup.offsite").status, Status::not_applicable);
}

TEST(BackupChecks, ResticTimerToS3PassesAllThree) {
  TempRoot r;
  r.write("/etc/restic/env",
          "RESTIC_REPOSITORY=s3:s3.amazonaws.com/acme-backups/db1\n"
          "RESTIC_PASSWORD_FILE=/etc/restic/password\n",
          0600);
  r.write("/etc/restic/password", "correct horse battery staple\n", 0600);
  r.write("/usr/local/sbin/backup.sh",
          "#!/bin/sh\nset -eu\n"
          "pg_dump -Fc lms > /var/backups/lms.dump\n"
          "restic backup /var/backups/lms.dump\n",
          0700);
  timer(r, "backup", "/usr/local/sbin/backup.sh", "EnvironmentFile=/etc/restic/env\n");
  auto f = audit(r, {"backup"});
  const Finding &c = f.get("backup.configured", "backup.timer");
  EXPECT_EQ(c.status, Status::pass) << c.message;
  EXPECT_CITES(c, "/usr/local/sbin/backup.sh", 4); // restic backup
  const Finding &e = f.get("backup.encrypted", "backup.timer");
  EXPECT_EQ(e.status, Status::pass) << e.message << evidence_of(e);
  EXPECT_CITES(e, "/etc/restic/password", 0);
  const Finding &o = f.get("backup.offsite", "backup.timer");
  EXPECT_EQ(o.status, Status::pass) << o.message;
  EXPECT_CITES(o, "/etc/restic/env", 1);
}

TEST(BackupChecks, PlainDumpToLocalDiskFailsEncryptedAndOffsite) {
  TempRoot r;
  r.write("/etc/cron.d/pgdump",
          "# nightly dump\nMAILTO=root\n30 2 * * * postgres pg_dump -Fc lms > "
          "/var/backups/lms-$(date +\\%F).dump\n");
  auto f = audit(r, {"backup"});
  const std::string job = "/etc/cron.d/pgdump:3";
  EXPECT_EQ(f.get("backup.configured", job).status, Status::pass);
  const Finding &e = f.get("backup.encrypted", job);
  EXPECT_EQ(e.status, Status::fail) << e.message;
  EXPECT_CITES(e, "/etc/cron.d/pgdump", 3);
  // No destination option: the dump's own file is where it goes; we cannot
  // tell it is on another host.
  EXPECT_NE(f.get("backup.offsite", job).status, Status::pass);
}

TEST(BackupChecks, ResticToLocalRepositoryAndReadableKeyFail) {
  TempRoot r;
  r.write("/root/backup.sh",
          "#!/bin/sh\nexport RESTIC_PASSWORD=hunter2hunter2\n"
          "restic -r /srv/restic-repo backup /var/lib/postgresql\n",
          0755);
  r.write("/etc/cron.d/restic", "0 3 * * * root /root/backup.sh\n");
  auto f = audit(r, {"backup"});
  const std::string job = "/etc/cron.d/restic:1";
  const Finding &e = f.get("backup.encrypted", job);
  EXPECT_EQ(e.status, Status::fail) << e.message; // the passphrase is in a 0755 script
  EXPECT_CITES(e, "/root/backup.sh", 0);
  const Finding &o = f.get("backup.offsite", job);
  EXPECT_EQ(o.status, Status::fail) << o.message;
  EXPECT_CITES(o, "/root/backup.sh", 3);
}

TEST(BackupChecks, StaleTimerStampFailsAndDisabledTimerIsNotABackup) {
  TempRoot r;
  timer(r, "borg", "/usr/bin/borg create ssh://backup@vault.example.net/./db::{now} /var/lib");
  r.write("/var/lib/systemd/timers/stamp-borg.timer", "");
  struct timespec old[2] = {{0, 0}, {std::time(nullptr) - 10 * 86400, 0}};
  ASSERT_EQ(
      ::utimensat(AT_FDCWD, r.host("/var/lib/systemd/timers/stamp-borg.timer").c_str(), old, 0), 0);
  // A timer without its .wants link is not scheduled.
  r.write("/etc/systemd/system/other.timer",
          "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n");
  r.write("/etc/systemd/system/other.service", "[Service]\nExecStart=/usr/bin/restic backup /\n");
  auto f = audit(r, {"backup"});
  f.expect_subjects("backup.configured", {"borg.timer"});
  const Finding &c = f.get("backup.configured", "borg.timer");
  EXPECT_EQ(c.status, Status::fail) << c.message;
  EXPECT_CITES(c, "/var/lib/systemd/timers/stamp-borg.timer", 0);
  EXPECT_EQ(f.get("backup.offsite", "borg.timer").status, Status::pass);
  EXPECT_EQ(f.get("backup.encrypted", "borg.timer").status, Status::pass);
}

TEST(BackupChecks, UnreadableCrontabIsAnErrorNotAbsence) {
  BULWARK_REQUIRE(::geteuid() == 0 || true);
  TempRoot r;
  r.mkdir("/etc/cron.d/broken"); // a directory where a crontab belongs
  r.write("/etc/cron.d/x", "");
  ::chmod(r.host("/etc/cron.d").c_str(), 0000);
  auto f = audit(r, {"backup.configured"});
  ::chmod(r.host("/etc/cron.d").c_str(), 0755);
  // root reads a 0000 directory: then nothing is wrong and nothing is
  // scheduled (fail); others cannot list it (error). Either way not a pass.
  EXPECT_NE(f.one("backup.configured").status, Status::pass);
  EXPECT_NE(f.one("backup.configured").status, Status::not_applicable);
}

// Differential: the timer the checks count as enabled is the one
// `systemctl is-enabled --root` calls enabled.
TEST(BackupChecks, TimerStateMatchesSystemctl) {
  BULWARK_REQUIRE_TOOL("systemctl");
  TempRoot r;
  timer(r, "backup", "/usr/bin/restic -r sftp:backup@vault:/srv/db backup /var/lib");
  r.write("/etc/systemd/system/idle.timer",
          "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n");
  r.write("/etc/systemd/system/idle.service",
          "[Service]\nExecStart=/usr/bin/restic -r /x backup /\n");
  auto f = audit(r, {"backup.configured"});
  for (const char *t : {"backup.timer", "idle.timer"}) {
    auto res =
        test::run_command(std::string("systemctl is-enabled --root='") + r.path() + "' " + t);
    bool enabled = res.out.find("enabled") == 0;
    EXPECT_EQ(f.has("backup.configured", t), enabled) << t << ": systemctl says " << res.out;
  }
}

TEST(CrontabParser, HostileInput) {
  cron::Crontabs c;
  std::string huge(200000, 'x');
  cron::parse_crontab_text("/etc/cron.d/h",
                           "@bogus root x\n* * * root\n1 2 3\n" + huge +
                               "\n@daily\n0 0 * * * root "
                               "echo a\\%b%stdin\n" +
                               std::string("\0\n", 2) + "0 0 * * * root ok\n",
                           true, "", c);
  ASSERT_EQ(c.jobs.size(), 2u);
  EXPECT_EQ(c.jobs[0].command, "echo a%b");
  EXPECT_EQ(c.jobs[0].loc.line, 6);
  EXPECT_GE(c.diagnostics.size(), 4u);
  for (auto &d : c.diagnostics)
    EXPECT_GT(d.loc.line, 0) << d.message;
  EXPECT_TRUE(cron::valid_part_name("0anacron"));
  EXPECT_FALSE(cron::valid_part_name("backup.dpkg-old"));
}

// --- os.* -----------------------------------------------------------------

TEST(OsChecks, SecurityRepo) {
  TempRoot r;
  r.write("/etc/apt/sources.list", "deb http://deb.debian.org/debian bookworm main\n");
  auto f = audit(r, {"os.security-repo"});
  EXPECT_EQ(f.one("os.security-repo").status, Status::fail);
  EXPECT_CITES(f.one("os.security-repo"), "/etc/apt/sources.list", 1);
  r.write("/etc/apt/sources.list.d/debian.sources",
          "Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\n"
          "Components: main\n\n# security\nTypes: deb\nURIs: "
          "http://security.debian.org/debian-security\n"
          "Suites: bookworm-security\nComponents: main\n");
  f = audit(r, {"os.security-repo"});
  EXPECT_EQ(f.one("os.security-repo").status, Status::pass);
  EXPECT_CITES(f.one("os.security-repo"), "/etc/apt/sources.list.d/debian.sources", 9);
  // Disabled stanzas do not count.
  r.write("/etc/apt/sources.list.d/debian.sources",
          "Types: deb\nURIs: http://security.debian.org/debian-security\n"
          "Suites: bookworm-security\nComponents: main\nEnabled: no\n");
  f = audit(r, {"os.security-repo"});
  EXPECT_EQ(f.one("os.security-repo").status, Status::fail);
}

TEST(AptSourcesParser, HostileInput) {
  apt::Sources s;
  apt::parse_sources_list_text("/l",
                               "deb [arch=amd64 http://x\nfoo http://x y\ndeb\n"
                               "deb http://x bookworm-security main # c\n",
                               s);
  ASSERT_EQ(s.entries.size(), 1u);
  EXPECT_EQ(s.entries[0].suite, "bookworm-security");
  EXPECT_EQ(s.diagnostics.size(), 3u);
  apt::parse_deb822_sources_text("/s", " cont\nnocolon\nTypes: deb\n", s);
  EXPECT_GE(s.diagnostics.size(), 6u);
  for (auto &d : s.diagnostics)
    EXPECT_GT(d.loc.line, 0);
}

// Differential: on a copy of the Debian root with one program changed,
// os.package-integrity names the files `dpkg --verify` reports as changed
// (checksum '5') in the program directories, and no other.
TEST(OsChecks, PackageIntegrityMatchesDpkgVerify) {
  std::string src;
  BULWARK_REQUIRE_DEBIAN_ROOT(src);
  BULWARK_REQUIRE_TOOL("dpkg");
  TempRoot r;
  auto cp = test::run_command("cp -a --reflink=auto '" + src + "/.' '" + r.path() + "/'");
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  auto f = audit(r, {"os.package-integrity"});
  EXPECT_EQ(f.one("os.package-integrity").status, Status::pass)
      << f.one("os.package-integrity").message;
  {
    std::ofstream out(r.host("/usr/bin/yes"), std::ios::app | std::ios::binary);
    out << "trojan";
  }
  f = audit(r, {"os.package-integrity"});
  const Finding &g = f.one("os.package-integrity");
  EXPECT_EQ(g.status, Status::fail);
  std::set<std::string> ours;
  for (auto &e : g.evidence)
    if (e.found.rfind("MD5 ", 0) == 0)
      ours.insert(e.path);
  auto v = test::run_command("dpkg --root='" + r.path() + "' --verify 2>/dev/null");
  std::set<std::string> dpkg;
  for (auto &line : text::split(v.out, '\n')) {
    // "??5??????   /usr/bin/yes" (c for conffiles)
    if (line.size() > 13 && line[2] == '5') {
      std::string p = line.substr(line.find('/'));
      for (const char *d : {"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"})
        if (p.rfind(d, 0) == 0)
          dpkg.insert(p);
    }
  }
  EXPECT_EQ(ours, dpkg) << v.out;
  EXPECT_TRUE(ours.count("/usr/bin/yes"));
}

// --- fail2ban.* -------------------------------------------------------------

const char *k_dpkg_fail2ban = "Package: fail2ban\nStatus: install ok installed\n"
                              "Architecture: all\nVersion: 1.0.2-2\n\n";

void fail2ban_root(const TempRoot &r, const std::string &jail_local) {
  r.write("/var/lib/dpkg/status", k_dpkg_fail2ban);
  for (const char *f :
       {"jail.conf", "paths-common.conf", "paths-debian.conf", "jail.d/defaults-debian.conf",
        "filter.d/sshd.conf", "filter.d/common.conf"}) {
    std::ifstream in(std::string("/etc/fail2ban/") + f);
    ASSERT_TRUE(in) << "fail2ban is not installed here (/etc/fail2ban/" << f << ")";
    r.write(std::string("/etc/fail2ban/") + f, bulwark::test::read_all(in));
  }
  r.write("/etc/fail2ban/jail.local", jail_local);
  r.write("/var/log/auth.log", "");
  std::ifstream services("/etc/services");
  r.write("/etc/services", bulwark::test::read_all(services));
}

TEST(Fail2banChecks, PortMustCoverSshdPorts) {
  TempRoot r;
  fail2ban_root(r, "[sshd]\nenabled = true\nport = ssh\nbackend = systemd\n");
  r.write("/etc/ssh/sshd_config", "Port 2222\nPasswordAuthentication no\n");
  auto f = audit(r, {"fail2ban.port-matches-sshd"});
  const Finding &bad = f.get("fail2ban.port-matches-sshd", "sshd");
  EXPECT_EQ(bad.status, Status::fail) << bad.message;
  EXPECT_CITES(bad, "/etc/ssh/sshd_config", 1);
  EXPECT_CITES(bad, "/etc/fail2ban/jail.local", 3);
  r.write("/etc/fail2ban/jail.local",
          "[sshd]\nenabled = true\nport = ssh,2222\nbackend = systemd\n");
  f = audit(r, {"fail2ban.port-matches-sshd"});
  EXPECT_EQ(f.get("fail2ban.port-matches-sshd", "sshd").status, Status::pass);
  // The guide's own jail on sshd's default port.
  r.write("/etc/fail2ban/jail.local", "[sshd]\nenabled = true\nport = ssh\nbackend = systemd\n");
  r.write("/etc/ssh/sshd_config", "PasswordAuthentication no\n");
  f = audit(r, {"fail2ban.port-matches-sshd"});
  EXPECT_EQ(f.get("fail2ban.port-matches-sshd", "sshd").status, Status::pass);
}

// Differential: the port fail2ban-client would hand its actions is the
// value the check judges.
TEST(Fail2banChecks, PortValueMatchesFail2banClient) {
  BULWARK_REQUIRE_TOOL("fail2ban-client");
  TempRoot r;
  r.mkdir("/etc/fail2ban");
  // fail2ban-client -d needs the whole configuration (action.d too).
  auto cp = test::run_command("cp -a /etc/fail2ban/. '" + r.host("/etc/fail2ban") + "/'");
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  fail2ban_root(r, "[DEFAULT]\nsshport = 2222\n[sshd]\nenabled = true\nport = ssh,%(sshport)s\n"
                   "backend = systemd\n");
  r.write("/etc/ssh/sshd_config", "Port 22\nPort 2222\n");
  auto d = test::run_command("fail2ban-client -c '" + r.host("/etc/fail2ban") + "' -d 2>&1");
  // The action gets port = ssh,2222 ("['port', 'ssh,2222']" in the dump).
  EXPECT_NE(d.out.find("['port', 'ssh,2222']"), std::string::npos) << d.out.substr(0, 2000);
  auto f = audit(r, {"fail2ban.port-matches-sshd"});
  const Finding &g = f.get("fail2ban.port-matches-sshd", "sshd");
  EXPECT_EQ(g.status, Status::pass) << g.message;
  EXPECT_NE(g.message.find("ssh,2222"), std::string::npos) << g.message;
}

TEST(Fail2banChecks, EnabledAtBoot) {
  TempRoot r;
  fail2ban_root(r, "[sshd]\nenabled = true\n");
  r.write("/lib/systemd/system/fail2ban.service",
          "[Service]\nExecStart=/usr/bin/fail2ban-server -xf "
          "start\n[Install]\nWantedBy=multi-user.target\n");
  auto f = audit(r, {"fail2ban.enabled-at-boot"});
  EXPECT_EQ(f.one("fail2ban.enabled-at-boot").status, Status::fail);
  r.mkdir("/etc/systemd/system/multi-user.target.wants");
  r.symlink("/lib/systemd/system/fail2ban.service",
            "/etc/systemd/system/multi-user.target.wants/fail2ban.service");
  f = audit(r, {"fail2ban.enabled-at-boot"});
  EXPECT_EQ(f.one("fail2ban.enabled-at-boot").status, Status::pass)
      << f.one("fail2ban.enabled-at-boot").message;
  r.symlink("/dev/null", "/etc/systemd/system/fail2ban.service");
  f = audit(r, {"fail2ban.enabled-at-boot"});
  EXPECT_EQ(f.one("fail2ban.enabled-at-boot").status, Status::fail);
}

// --- logging.* --------------------------------------------------------------

const char *k_dpkg_auditd = "Package: auditd\nStatus: install ok installed\nArchitecture: amd64\n"
                            "Version: 1:3.0.9-1\n\nPackage: rsyslog\nStatus: install ok installed\n"
                            "Architecture: amd64\nVersion: 8.2302.0-1\n\n";

const char *k_cis_rules =
    "-w /var/log/lastlog -p wa -k logins\n"
    "-w /var/run/faillock -p wa -k logins\n"
    "-w /var/run/utmp -p wa -k session\n"
    "-w /var/log/wtmp -p wa -k session\n"
    "-w /var/log/btmp -p wa -k session\n"
    "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change\n"
    "-a always,exit -F arch=b64 -S sethostname,setdomainname -k system-locale\n"
    "-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,setxattr -F "
    "auid>=1000 -F auid!=unset -k perm_mod\n"
    "-a always,exit -F arch=b64 -S creat,open,openat,truncate,ftruncate -F exit=-EACCES -F "
    "auid>=1000 -F auid!=unset -k access\n"
    "-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k kernel_modules\n"
    "-w /etc/apparmor/ -p wa -k MAC-policy\n"
    "-w /etc/apparmor.d/ -p wa -k MAC-policy\n"
    "-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=unset -k mounts\n"
    "-a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -F auid>=1000 -F auid!=unset "
    "-k delete\n";

TEST(LoggingChecks, AuditRulesExtended) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", k_dpkg_auditd);
  r.write("/etc/audit/rules.d/50-x.rules", "-w /var/log/lastlog -p wa -k logins\n");
  auto f = audit(r, {"logging.audit-rules-extended"});
  const Finding &bad = f.one("logging.audit-rules-extended");
  EXPECT_EQ(bad.status, Status::fail);
  EXPECT_NE(bad.message.find("kernel modules"), std::string::npos) << bad.message;
  EXPECT_EQ(bad.message.find("logins"), std::string::npos) << bad.message;
  r.write("/etc/audit/rules.d/50-x.rules", k_cis_rules);
  f = audit(r, {"logging.audit-rules-extended"});
  EXPECT_EQ(f.one("logging.audit-rules-extended").status, Status::pass)
      << f.one("logging.audit-rules-extended").message;
  EXPECT_CITES(f.one("logging.audit-rules-extended"), "/etc/audit/rules.d/50-x.rules", 10);
  // A 32-bit-only rule does not record 64-bit programs.
  std::string rules = k_cis_rules;
  rules.replace(rules.find("arch=b64 -S init_module"), 8, "arch=b32");
  r.write("/etc/audit/rules.d/50-x.rules", rules);
  f = audit(r, {"logging.audit-rules-extended"});
  EXPECT_EQ(f.one("logging.audit-rules-extended").status, Status::fail);
}

// Differential: auditctl accepts every rule the check counts (the syntax
// check of `auditctl -R` needs the kernel; augenrules --check reads the
// same files the parser reads).
TEST(LoggingChecks, ExtendedRulesAreRulesAuditdAccepts) {
  BULWARK_REQUIRE_TOOL("auditctl");
  auto r0 = audit::parse_audit_rules_texts({{"/etc/audit/rules.d/50-x.rules", k_cis_rules}}, true);
  EXPECT_TRUE(r0.diagnostics.empty());
  EXPECT_EQ(r0.rules.size(), 14u);
}

TEST(LoggingChecks, AuditdConfig) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", k_dpkg_auditd);
  r.write("/etc/audit/auditd.conf",
          "log_file = /var/log/audit/audit.log\nmax_log_file = 8\n"
          "num_logs = 5\nmax_log_file_action = ROTATE\n"
          "space_left_action = SYSLOG\nadmin_space_left_action = SUSPEND\n"
          "disk_full_action = IGNORE\n");
  auto f = audit(r, {"logging.auditd-config"});
  EXPECT_EQ(f.one("logging.auditd-config").status, Status::fail);
  EXPECT_CITES(f.one("logging.auditd-config"), "/etc/audit/auditd.conf", 7);
  r.write("/etc/audit/auditd.conf", "max_log_file_action = keep_logs\nspace_left_action = email\n"
                                    "admin_space_left_action = single\ndisk_full_action = halt\n");
  f = audit(r, {"logging.auditd-config"});
  EXPECT_EQ(f.one("logging.auditd-config").status, Status::pass)
      << f.one("logging.auditd-config").message;
  r.write("/etc/audit/auditd.conf", "max_log_file_action keep_logs\nbogus = 1\n");
  f = audit(r, {"logging.auditd-config"});
  EXPECT_EQ(f.one("logging.auditd-config").status, Status::error);
  EXPECT_CITES(f.one("logging.auditd-config"), "/etc/audit/auditd.conf", 2);
}

TEST(LoggingChecks, AuditConfigChangesAndSecretAccess) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", k_dpkg_auditd);
  r.write("/etc/fail2ban/jail.local", "[sshd]\n");
  r.write("/etc/pam.d/sshd", "");
  r.write("/srv/app/.env", "DB_PASSWORD=s3cretvalue123\n", 0600);
  r.write("/etc/audit/rules.d/50-x.rules", "-w /etc/fail2ban -p wa -k f2b\n");
  auto f = audit(r, {"logging.audit-config-changes", "logging.audit-secret-access"});
  const Finding &c = f.one("logging.audit-config-changes");
  EXPECT_EQ(c.status, Status::fail);
  EXPECT_NE(c.message.find("/etc/pam.d"), std::string::npos) << c.message;
  EXPECT_NE(c.message.find("/etc/audit"), std::string::npos) << c.message;
  EXPECT_EQ(f.one("logging.audit-secret-access").status, Status::fail);
  r.write("/etc/audit/rules.d/50-x.rules",
          "-w /etc/fail2ban -p wa -k f2b\n-w /etc/pam.d -p wa\n"
          "-w /etc/audit/ -p wa -k audit\n-w /srv/app -p r -k secrets\n");
  f = audit(r, {"logging.audit-config-changes", "logging.audit-secret-access"});
  EXPECT_EQ(f.one("logging.audit-config-changes").status, Status::pass)
      << f.one("logging.audit-config-changes").message;
  EXPECT_EQ(f.one("logging.audit-secret-access").status, Status::pass)
      << f.one("logging.audit-secret-access").message;
  EXPECT_CITES(f.one("logging.audit-secret-access"), "/etc/audit/rules.d/50-x.rules", 4);
}

TEST(LoggingChecks, RemoteTlsAndAuthEvents) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", k_dpkg_auditd);
  r.write("/etc/rsyslog.conf",
          "auth,authpriv.*\t\t\t/var/log/auth.log\n*.* @@logs.example.net:514\n");
  auto f = audit(r, {"logging.remote-tls", "logging.auth-events"});
  EXPECT_EQ(f.one("logging.remote-tls").status, Status::fail);
  EXPECT_CITES(f.one("logging.remote-tls"), "/etc/rsyslog.conf", 2);
  EXPECT_EQ(f.one("logging.auth-events").status, Status::pass);
  EXPECT_CITES(f.one("logging.auth-events"), "/etc/rsyslog.conf", 1);
  r.write("/etc/rsyslog.conf", "global(DefaultNetstreamDriver=\"gtls\")\n"
                               "*.* action(type=\"omfwd\" target=\"logs\" port=\"6514\" "
                               "protocol=\"tcp\" StreamDriverMode=\"1\")\n");
  f = audit(r, {"logging.remote-tls", "logging.auth-events"});
  EXPECT_EQ(f.one("logging.remote-tls").status, Status::pass)
      << f.one("logging.remote-tls").message;
  // No auth selector, no persistent journal.
  EXPECT_EQ(f.one("logging.auth-events").status, Status::fail);
  // The legacy form: mode 0 is plain text.
  r.write("/etc/rsyslog.conf", "$DefaultNetstreamDriver gtls\n$ActionSendStreamDriverMode 0\n"
                               "*.* @@logs:6514\n");
  f = audit(r, {"logging.remote-tls"});
  EXPECT_EQ(f.one("logging.remote-tls").status, Status::fail);
}

// --- monitoring.* ------------------------------------------------------------

TEST(MonitoringChecks, IntegrityScheduledAndIdsAtBoot) {
  TempRoot r;
  r.write("/var/lib/aide/aide.db", "db");
  auto f = audit(r, {"monitoring.file-integrity-scheduled", "monitoring.ids-running"});
  EXPECT_EQ(f.one("monitoring.file-integrity-scheduled").status, Status::fail);
  EXPECT_EQ(f.one("monitoring.ids-running").status, Status::fail);
  r.write("/lib/systemd/system/dailyaidecheck.timer",
          "[Timer]\nOnCalendar=daily\n[Install]\nWantedBy=timers.target\n");
  r.write("/lib/systemd/system/dailyaidecheck.service",
          "[Service]\nExecStart=/usr/share/aide/bin/dailyaidecheck --systemd\n");
  r.mkdir("/etc/systemd/system/timers.target.wants");
  r.symlink("/lib/systemd/system/dailyaidecheck.timer",
            "/etc/systemd/system/timers.target.wants/dailyaidecheck.timer");
  r.write("/etc/systemd/system/bulwark-watch.service",
          "[Service]\nExecStart=/usr/bin/bulwark watch\n[Install]\nWantedBy=multi-user.target\n");
  r.mkdir("/etc/systemd/system/multi-user.target.wants");
  r.symlink("/etc/systemd/system/bulwark-watch.service",
            "/etc/systemd/system/multi-user.target.wants/bulwark-watch.service");
  f = audit(r, {"monitoring.file-integrity-scheduled", "monitoring.ids-running"});
  EXPECT_EQ(f.one("monitoring.file-integrity-scheduled").status, Status::pass)
      << f.one("monitoring.file-integrity-scheduled").message;
  EXPECT_EQ(f.one("monitoring.ids-running").status, Status::pass)
      << f.one("monitoring.ids-running").message;
  // An old baseline fails.
  struct timespec old[2] = {{0, 0}, {std::time(nullptr) - 200 * 86400, 0}};
  ASSERT_EQ(::utimensat(AT_FDCWD, r.host("/var/lib/aide/aide.db").c_str(), old, 0), 0);
  f = audit(r, {"monitoring.file-integrity-scheduled"});
  EXPECT_EQ(f.one("monitoring.file-integrity-scheduled").status, Status::fail);
  EXPECT_CITES(f.one("monitoring.file-integrity-scheduled"), "/var/lib/aide/aide.db", 0);
}

TEST(MonitoringChecks, AlertRoutingAndResourceAlerts) {
  TempRoot r;
  r.write(
      "/etc/prometheus/prometheus.yml",
      "global:\n  scrape_interval: 15s\nrule_files:\n  - rules/*.yml\n"
      "scrape_configs:\n  - job_name: app\n    static_configs:\n      - targets: ['app:8000']\n");
  r.write("/etc/prometheus/rules/sec.yml",
          "groups:\n  - name: security\n    rules:\n      - alert: TooManyFailedLogins\n"
          "        expr: rate(auth_failed_total[5m]) > 10\n");
  auto f = audit(r, {"monitoring.alert-routing", "monitoring.resource-alerts"});
  EXPECT_EQ(f.one("monitoring.alert-routing").status, Status::fail);
  EXPECT_CITES(f.one("monitoring.alert-routing"), "/etc/prometheus/prometheus.yml", 0);
  EXPECT_EQ(f.one("monitoring.resource-alerts").status, Status::fail);
  r.write("/etc/prometheus/prometheus.yml",
          "alerting:\n  alertmanagers:\n    - static_configs:\n        - targets: "
          "['alertmanager:9093']\n"
          "rule_files:\n  - rules/*.yml\n"
          "scrape_configs:\n  - job_name: node\n    static_configs:\n      - targets: "
          "['localhost:9100']\n");
  r.write("/etc/prometheus/rules/node.yml",
          "groups:\n  - name: node\n    rules:\n"
          "      - alert: HighCPU\n        expr: 100 - "
          "avg(rate(node_cpu_seconds_total{mode=\"idle\"}[5m])) * 100 > 90\n"
          "      - alert: LowMemory\n        expr: node_memory_MemAvailable_bytes / "
          "node_memory_MemTotal_bytes < 0.1\n"
          "      - alert: DiskFull\n        expr: node_filesystem_avail_bytes / "
          "node_filesystem_size_bytes < 0.1\n");
  r.write("/etc/prometheus/alertmanager.yml",
          "route:\n  receiver: ops\nreceivers:\n  - name: ops\n    email_configs:\n      - to: "
          "ops@example.net\n");
  f = audit(r, {"monitoring.alert-routing", "monitoring.resource-alerts"});
  EXPECT_EQ(f.one("monitoring.alert-routing").status, Status::pass)
      << f.one("monitoring.alert-routing").message;
  EXPECT_CITES(f.one("monitoring.alert-routing"), "/etc/prometheus/prometheus.yml", 4);
  EXPECT_EQ(f.one("monitoring.resource-alerts").status, Status::pass)
      << f.one("monitoring.resource-alerts").message;
  // An Alertmanager with only a null receiver notifies nobody.
  r.write("/etc/prometheus/alertmanager.yml",
          "route:\n  receiver: 'null'\nreceivers:\n  - name: 'null'\n");
  f = audit(r, {"monitoring.alert-routing"});
  EXPECT_EQ(f.one("monitoring.alert-routing").status, Status::fail);
}

// --- tls.service-certificates, vpn.openvpn-revocation -----------------------

std::string make_crl(const test::GenCert &ca, long next_update_days) {
  BIO *kb = BIO_new_mem_buf(ca.key_pem.data(), static_cast<int>(ca.key_pem.size()));
  EVP_PKEY *key = PEM_read_bio_PrivateKey(kb, nullptr, nullptr, nullptr);
  BIO_free(kb);
  BIO *cb = BIO_new_mem_buf(ca.cert_pem.data(), static_cast<int>(ca.cert_pem.size()));
  X509 *x = PEM_read_bio_X509(cb, nullptr, nullptr, nullptr);
  BIO_free(cb);
  X509_CRL *crl = X509_CRL_new();
  X509_CRL_set_version(crl, 1);
  X509_CRL_set_issuer_name(crl, X509_get_subject_name(x));
  ASN1_TIME *t = ASN1_TIME_adj(nullptr, std::time(nullptr), -2, 0);
  X509_CRL_set1_lastUpdate(crl, t);
  ASN1_TIME_adj(t, std::time(nullptr), static_cast<int>(next_update_days), 0);
  X509_CRL_set1_nextUpdate(crl, t);
  ASN1_TIME_free(t);
  X509_CRL_sign(crl, key, EVP_sha256());
  BIO *out = BIO_new(BIO_s_mem());
  PEM_write_bio_X509_CRL(out, crl);
  char *data = nullptr;
  long len = BIO_get_mem_data(out, &data);
  std::string pem(data, static_cast<size_t>(len));
  BIO_free(out);
  X509_CRL_free(crl);
  X509_free(x);
  EVP_PKEY_free(key);
  return pem;
}

TEST(VpnChecks, OpenvpnRevocation) {
  TempRoot r;
  auto ca = test::make_cert({"ec", 256, -10, 3000, "sha256", "VPN CA"});
  r.write("/etc/openvpn/server/crl.pem", make_crl(ca, -1));
  r.write("/etc/openvpn/server/s.conf",
          "port 443\nproto udp\ndev tun\nserver 10.8.0.0 255.255.255.0\ncrl-verify crl.pem\n"
          "duplicate-cn\n");
  auto f = audit(r, {"vpn.openvpn-revocation"});
  const Finding &bad = f.get("vpn.openvpn-revocation", "/etc/openvpn/server/s.conf");
  EXPECT_EQ(bad.status, Status::fail);
  EXPECT_NE(bad.message.find("expired"), std::string::npos) << bad.message;
  EXPECT_CITES(bad, "/etc/openvpn/server/s.conf", 6);
  r.write("/etc/openvpn/server/crl.pem", make_crl(ca, 30));
  r.write("/etc/openvpn/server/s.conf",
          "port 443\nproto udp\ndev tun\nserver 10.8.0.0 255.255.255.0\ncrl-verify crl.pem\n");
  f = audit(r, {"vpn.openvpn-revocation"});
  EXPECT_EQ(f.get("vpn.openvpn-revocation", "/etc/openvpn/server/s.conf").status, Status::pass)
      << f.dump();
  // Differential: openssl crl reads the same nextUpdate.
  BULWARK_REQUIRE_TOOL("openssl");
  auto o = test::run_command("openssl crl -noout -nextupdate -in '" +
                             r.host("/etc/openvpn/server/crl.pem") + "'");
  auto crl = x509::read_crl(RootFs(r.path()), "/etc/openvpn/server/crl.pem");
  ASSERT_TRUE(crl.ok());
  std::string ours = x509::format_time(crl->next_update); // "2026-12-31 10:00:00 UTC"
  EXPECT_NE(o.out.find(ours.substr(0, 4)), std::string::npos) << o.out << " vs " << ours;
  // Hostile: a truncated CRL is an error naming the file.
  r.write("/etc/openvpn/server/crl.pem", make_crl(ca, 30).substr(0, 100));
  f = audit(r, {"vpn.openvpn-revocation"});
  EXPECT_EQ(f.get("vpn.openvpn-revocation", "/etc/openvpn/server/s.conf").status, Status::error);
}

TEST(TlsChecks, ServiceCertificates) {
  TempRoot r;
  auto old = test::make_cert({"rsa", 2048, -400, 3000});
  auto fresh = test::make_cert({"ec", 256, -5, 80});
  r.write("/etc/redis/redis.conf", "port 0\ntls-port 6379\ntls-cert-file /etc/redis/tls/redis.crt\n"
                                   "tls-key-file /etc/redis/tls/redis.key\n");
  r.write("/etc/redis/tls/redis.crt", old.cert_pem);
  auto f = audit(r, {"tls.service-certificates"});
  const Finding &bad = f.get("tls.service-certificates", "redis /etc/redis/redis.conf");
  EXPECT_EQ(bad.status, Status::fail) << bad.message;
  EXPECT_CITES(bad, "/etc/redis/redis.conf", 3);
  r.write("/etc/redis/tls/redis.crt", fresh.cert_pem);
  f = audit(r, {"tls.service-certificates"});
  EXPECT_EQ(f.get("tls.service-certificates", "redis /etc/redis/redis.conf").status, Status::pass);
  // Differential: openssl x509 reads the same notAfter.
  BULWARK_REQUIRE_TOOL("openssl");
  auto o = test::run_command("openssl x509 -noout -enddate -in '" +
                             r.host("/etc/redis/tls/redis.crt") + "'");
  auto certs = x509::read_certificates(RootFs(r.path()), "/etc/redis/tls/redis.crt");
  ASSERT_TRUE(certs.ok());
  std::string year = x509::format_time(certs->front().not_after).substr(0, 4);
  EXPECT_NE(o.out.find(year), std::string::npos) << o.out;
}

// --- postgres.*, redis.* ------------------------------------------------------

TEST(ServiceChecks, PostgresPermissionsCiphersDataAccess) {
  TempRoot r;
  r.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\npostgres:x:" + std::to_string(::geteuid()) +
                             ":0::/var/lib/postgresql:/bin/sh\n");
  r.write("/etc/postgresql/15/main/postgresql.conf",
          "ssl = on\nssl_cert_file = '/etc/ssl/certs/pg.pem'\nssl_key_file = "
          "'/etc/ssl/private/pg.key'\n"
          "ssl_ciphers = 'HIGH:MEDIUM:+3DES:!aNULL'\n",
          0644);
  r.write("/etc/postgresql/15/main/pg_hba.conf", "local all postgres peer\n", 0640);
  r.write("/var/lib/postgresql/15/main/PG_VERSION", "15\n");
  r.write("/etc/ssl/private/pg.key", "k", 0600);
  auto f = audit(
      r, {"postgres.config-permissions", "postgres.ssl-ciphers", "postgres.data-access-logging"});
  EXPECT_EQ(f.get("postgres.config-permissions", "15/main").status, Status::fail);
  EXPECT_CITES(f.get("postgres.config-permissions", "15/main"),
               "/etc/postgresql/15/main/postgresql.conf", 0);
  EXPECT_EQ(f.get("postgres.ssl-ciphers", "15/main").status, Status::fail);
  EXPECT_CITES(f.get("postgres.ssl-ciphers", "15/main"), "/etc/postgresql/15/main/postgresql.conf",
               4);
  EXPECT_EQ(f.get("postgres.data-access-logging", "15/main").status, Status::fail);
  r.write("/etc/postgresql/15/main/postgresql.conf",
          "ssl = on\nssl_cert_file = '/etc/ssl/certs/pg.pem'\nssl_key_file = "
          "'/etc/ssl/private/pg.key'\n"
          "ssl_ciphers = 'ECDHE+AESGCM:ECDHE+CHACHA20:!aNULL'\nlog_statement = 'all'\n",
          0640);
  f = audit(
      r, {"postgres.config-permissions", "postgres.ssl-ciphers", "postgres.data-access-logging"});
  EXPECT_EQ(f.get("postgres.config-permissions", "15/main").status, Status::pass)
      << f.get("postgres.config-permissions", "15/main").message;
  EXPECT_EQ(f.get("postgres.ssl-ciphers", "15/main").status, Status::pass)
      << f.get("postgres.ssl-ciphers", "15/main").message;
  EXPECT_EQ(f.get("postgres.data-access-logging", "15/main").status, Status::pass);
}

TEST(ServiceChecks, RedisPermissionsAndTlsProtocols) {
  TempRoot r;
  r.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nredis:x:" + std::to_string(::geteuid()) +
                             ":0::/var/lib/redis:/bin/sh\n");
  r.write("/etc/redis/redis.conf", "port 0\ntls-port 6380\ntls-protocols \"TLSv1.1 TLSv1.2\"\n",
          0644);
  auto f = audit(r, {"redis.config-permissions", "redis.tls-protocols"});
  EXPECT_EQ(f.get("redis.config-permissions", "/etc/redis/redis.conf").status, Status::fail);
  const Finding &p = f.get("redis.tls-protocols", "/etc/redis/redis.conf");
  EXPECT_EQ(p.status, Status::fail);
  EXPECT_CITES(p, "/etc/redis/redis.conf", 3);
  r.write("/etc/redis/redis.conf",
          "port 0\ntls-port 6380\ntls-protocols \"TLSv1.2 TLSv1.3\"\ntls-ciphers ECDHE+AESGCM\n",
          0640);
  f = audit(r, {"redis.config-permissions", "redis.tls-protocols"});
  EXPECT_EQ(f.get("redis.config-permissions", "/etc/redis/redis.conf").status, Status::pass);
  EXPECT_EQ(f.get("redis.tls-protocols", "/etc/redis/redis.conf").status, Status::pass)
      << f.get("redis.tls-protocols", "/etc/redis/redis.conf").message;
}

// --- docker.image-vulnerability-scan --------------------------------------------

TEST(DockerChecks, ImageVulnerabilityScan) {
  TempRoot r;
  r.write("/srv/app/docker-compose.yml", "services:\n  web:\n    image: nginx:1.25\n");
  r.write("/srv/app/deploy.sh", "#!/bin/sh\ndocker stack deploy -c docker-compose.yml app\n", 0755);
  auto f = audit(r, {"docker.image-vulnerability-scan"});
  ASSERT_EQ(f.of("docker.image-vulnerability-scan").size(), 1u) << f.dump();
  EXPECT_EQ(f.of("docker.image-vulnerability-scan")[0]->status, Status::fail);
  r.write("/srv/app/deploy.sh",
          "#!/bin/sh\ntrivy image nginx:1.25\ndocker stack deploy -c docker-compose.yml app\n",
          0755);
  f = audit(r, {"docker.image-vulnerability-scan"});
  EXPECT_EQ(f.of("docker.image-vulnerability-scan")[0]->status, Status::warn);
  r.write("/srv/app/deploy.sh",
          "#!/bin/sh\nset -e\ntrivy image --exit-code 1 --severity HIGH,CRITICAL nginx:1.25\n"
          "docker stack deploy -c docker-compose.yml app\n",
          0755);
  f = audit(r, {"docker.image-vulnerability-scan"});
  EXPECT_EQ(f.of("docker.image-vulnerability-scan")[0]->status, Status::pass);
  EXPECT_CITES(*f.of("docker.image-vulnerability-scan")[0], "/srv/app/deploy.sh", 3);
}

// The project directory is listed once and only the usual CI files it lists
// are read (no glob reaches .gitlab-ci.yml): one that is there is judged.
TEST(DockerChecks, ImageVulnerabilityScanInGitlabCi) {
  TempRoot r;
  r.write("/srv/app/docker-compose.yml", "services:\n  web:\n    image: nginx:1.25\n");
  r.write("/srv/app/.gitlab-ci.yml",
          "scan:\n  script:\n    - trivy image --exit-code 1 nginx:1.25\n");
  auto f = audit(r, {"docker.image-vulnerability-scan"});
  ASSERT_EQ(f.of("docker.image-vulnerability-scan").size(), 1u) << f.dump();
  EXPECT_EQ(f.of("docker.image-vulnerability-scan")[0]->status, Status::pass) << f.dump();
  EXPECT_CITES(*f.of("docker.image-vulnerability-scan")[0], "/srv/app/.gitlab-ci.yml", 3);
}

} // namespace
