// logging.* on fake roots: each check passes and fails, citing the deciding
// file and line.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

std::string stanza(const std::string &pkg) {
  return "Package: " + pkg +
         "\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n";
}

test::Findings audit(const TempRoot &r) {
  return test::audit_only(r.path(), {"logging"});
}

const char *k_rules = R"(-D
-w /etc/passwd -p wa -k identity
-w /etc/shadow -p wa -k identity
-w /etc/group -p wa -k identity
-a always,exit -F path=/etc/gshadow -F perm=wa -k identity
-w /etc/sudoers -p wa -k scope
-w /etc/sudoers.d/ -p wa -k scope
-w /etc/ssh/ -p wa -k sshd
-a always,exit -F arch=b64 -S execve -F euid=0 -F auid>=1000 -F auid!=unset -k priv
)";

} // namespace

TEST(LoggingChecks, AuditdInstalledEnabledMasked) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("base-files"));
  auto f = audit(r);
  EXPECT_EQ(f["logging.auditd"].status, Status::fail);
  EXPECT_EQ(f["logging.audit-rules"].status, Status::not_applicable);
  r.write("/var/lib/dpkg/status", stanza("base-files") + stanza("auditd"));
  f = audit(r);
  EXPECT_EQ(f["logging.auditd"].status, Status::fail); // installed, not enabled
  EXPECT_EQ(f["logging.auditd"].evidence.at(1).line, 6);
  r.write("/lib/systemd/system/auditd.service",
          "[Service]\nExecStart=/sbin/auditd\n[Install]\nWantedBy=multi-user.target\n");
  r.symlink("/lib/systemd/system/auditd.service",
            "/etc/systemd/system/multi-user.target.wants/auditd.service");
  f = audit(r);
  EXPECT_EQ(f["logging.auditd"].status, Status::pass) << f["logging.auditd"].message;
  EXPECT_EQ(f["logging.auditd"].evidence.at(0).path,
            "/etc/systemd/system/multi-user.target.wants/auditd.service");
  r.symlink("/dev/null", "/etc/systemd/system/auditd.service");
  f = audit(r);
  EXPECT_EQ(f["logging.auditd"].status, Status::fail);
  EXPECT_EQ(f["logging.auditd"].evidence.at(0).path, "/etc/systemd/system/auditd.service");
}

TEST(LoggingChecks, AuditRulesPassAndFail) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("auditd"));
  r.write("/etc/audit/rules.d/50-bulwark.rules", k_rules);
  r.write("/etc/audit/rules.d/99-finalize.rules", "-e 2\n");
  auto f = audit(r)["logging.audit-rules"];
  ASSERT_EQ(f.status, Status::pass) << f.message;
  EXPECT_NE(f.message.find("immutable"), std::string::npos);
  EXPECT_EQ(f.evidence.at(3).line, 5); // gshadow by -F path=
  EXPECT_EQ(f.evidence.at(6).line, 8); // sshd_config by the /etc/ssh/ watch
  // A later file (10 sorts after 9 in ls -v order) deletes everything.
  r.write("/etc/audit/rules.d/9-a.rules", "-w /etc/hosts -p wa\n");
  r.write("/etc/audit/rules.d/60-read-only.rules", "-W /etc/shadow -p wa -k identity\n");
  f = audit(r)["logging.audit-rules"];
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_NE(f.message.find("/etc/shadow"), std::string::npos);
  // execve narrowed to the 32-bit ABI does not count.
  r.write("/etc/audit/rules.d/60-read-only.rules", "");
  r.write("/etc/audit/rules.d/50-bulwark.rules",
          std::string(k_rules).substr(0, std::string(k_rules).find("-a always,exit -F arch=b64")) +
              "-a always,exit -F arch=b32 -S execve -F euid=0\n");
  f = audit(r)["logging.audit-rules"];
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_NE(f.message.find("privileged"), std::string::npos);
  // -e 0 disables auditing.
  r.write("/etc/audit/rules.d/50-bulwark.rules", k_rules);
  r.write("/etc/audit/rules.d/99-finalize.rules", "-e 0\n");
  f = audit(r)["logging.audit-rules"];
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(f.evidence.at(0).path, "/etc/audit/rules.d/99-finalize.rules");
  EXPECT_EQ(f.evidence.at(0).line, 1);
}

TEST(LoggingChecks, CentralRsyslogAndShippers) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("rsyslog"));
  r.write("/etc/rsyslog.conf", "$IncludeConfig /etc/rsyslog.d/*.conf\n*.* /var/log/all\n");
  r.write("/etc/rsyslog.d/90-fwd.conf", "# *.* @@old:514\n");
  auto f = audit(r)["logging.central"];
  EXPECT_EQ(f.status, Status::fail);
  r.write("/etc/rsyslog.d/90-fwd.conf", "# *.* @@old:514\n*.*  @@loghost:514\n");
  f = audit(r)["logging.central"];
  ASSERT_EQ(f.status, Status::pass) << f.message;
  EXPECT_EQ(f.evidence.at(0).path, "/etc/rsyslog.d/90-fwd.conf");
  EXPECT_EQ(f.evidence.at(0).line, 2);
  // rsyslog removed (conffiles left): its forwarding no longer counts.
  r.write("/var/lib/dpkg/status", "Package: rsyslog\nStatus: deinstall ok config-files\n"
                                  "Architecture: amd64\nVersion: 1\n\n");
  EXPECT_EQ(audit(r)["logging.central"].status, Status::fail);
  r.write("/etc/promtail/config.yml", "clients:\n  - url: https://loki.example/api/v1/push\n");
  f = audit(r)["logging.central"];
  ASSERT_EQ(f.status, Status::pass);
  EXPECT_EQ(f.evidence.at(0).path, "/etc/promtail/config.yml");
  EXPECT_EQ(f.evidence.at(0).line, 2);
}

TEST(LoggingChecks, CentralJournalUploadNeedsEnabling) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("systemd"));
  r.write("/etc/systemd/journal-upload.conf", "[Upload]\nURL=https://logs:19532\n");
  EXPECT_EQ(audit(r)["logging.central"].status, Status::fail);
  r.write("/lib/systemd/system/systemd-journal-upload.service",
          "[Service]\nExecStart=/lib/systemd/systemd-journal-upload --save-state\n"
          "[Install]\nWantedBy=multi-user.target\n");
  r.symlink("/lib/systemd/system/systemd-journal-upload.service",
            "/etc/systemd/system/multi-user.target.wants/systemd-journal-upload.service");
  auto f = audit(r)["logging.central"];
  ASSERT_EQ(f.status, Status::pass);
  EXPECT_EQ(f.evidence.at(0).line, 2);
}

TEST(LoggingChecks, RetentionLogrotate) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("rsyslog") + stanza("logrotate"));
  r.write("/etc/rsyslog.conf", "auth,authpriv.*\t/var/log/auth.log\n"
                               "*.*;auth,authpriv.none\t-/var/log/syslog\n");
  r.write("/etc/logrotate.conf", "weekly\nrotate 4\ninclude /etc/logrotate.d\n");
  // Debian's rsyslog block: 4 weeks = 28 days.
  r.write("/etc/logrotate.d/rsyslog", "/var/log/syslog\n/var/log/auth.log\n{\n\tmissingok\n"
                                      "\tpostrotate\n\t\trotate 100\n\tendscript\n}\n");
  auto f = audit(r)["logging.retention"];
  ASSERT_EQ(f.status, Status::fail) << f.message;
  EXPECT_EQ(f.evidence.at(0).path, "/etc/logrotate.conf");
  EXPECT_EQ(f.evidence.at(0).line, 2);
  r.write("/etc/logrotate.d/rsyslog", "/var/log/syslog\n/var/log/auth.log\n{\n\trotate 13\n}\n");
  f = audit(r)["logging.retention"];
  ASSERT_EQ(f.status, Status::pass) << f.message;
  EXPECT_EQ(f.evidence.at(0).path, "/etc/logrotate.d/rsyslog");
  EXPECT_EQ(f.evidence.at(0).line, 4);
  r.write("/etc/logrotate.d/rsyslog",
          "/var/log/syslog\n/var/log/auth.log\n{\n\trotate 13\n\tmaxage 30\n}\n");
  f = audit(r)["logging.retention"];
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(f.evidence.at(0).line, 5);
}

TEST(LoggingChecks, RetentionJournalWithoutRsyslog) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("base-files"));
  auto f = audit(r)["logging.retention"];
  EXPECT_EQ(f.status, Status::fail); // no logger at all
  EXPECT_NE(f.message.find("no system logger"), std::string::npos);
  r.write("/var/lib/dpkg/status", stanza("systemd"));
  f = audit(r)["logging.retention"];
  EXPECT_EQ(f.status, Status::fail); // auto without /var/log/journal: volatile
  r.mkdir("/var/log/journal");
  f = audit(r)["logging.retention"];
  EXPECT_EQ(f.status, Status::warn); // persistent, no time limit
  r.write("/etc/systemd/journald.conf", "[Journal]\nMaxRetentionSec=1month\n");
  f = audit(r)["logging.retention"];
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(f.evidence.at(0).path, "/etc/systemd/journald.conf");
  EXPECT_EQ(f.evidence.at(0).line, 2);
  r.write("/etc/systemd/journald.conf.d/60-retention.conf", "[Journal]\nMaxRetentionSec=3month\n");
  f = audit(r)["logging.retention"];
  ASSERT_EQ(f.status, Status::pass) << f.message;
  EXPECT_EQ(f.evidence.at(0).path, "/etc/systemd/journald.conf.d/60-retention.conf");
  r.write("/etc/systemd/journald.conf.d/70-volatile.conf", "[Journal]\nStorage=volatile\n");
  EXPECT_EQ(audit(r)["logging.retention"].status, Status::fail);
}
