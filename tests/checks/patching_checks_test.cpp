// os.auto-security-updates, os.pending-security-updates and mac.enabled on
// fake Debian 12 roots built from the real files unattended-upgrades
// 2.9.1+nmu3 ships (tests/data/apt/), each link of the chain broken in turn.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <gtest/gtest.h>

#include <fstream>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

std::string fixture(const std::string &name) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/tests/data/apt/" + name, std::ios::binary);
  return bulwark::test::read_all(in);
}

std::string stanza(const std::string &name, const std::string &version,
                   const std::string &arch = "amd64", const std::string &state = "installed") {
  return "Package: " + name + "\nStatus: install ok " + state +
         "\nPriority: optional\nArchitecture: " + arch + "\nVersion: " + version +
         "\nDescription: x\n\n";
}

// A Debian 12 root where every link of the automatic-update chain holds.
void debian_root(const TempRoot &r, bool with_uu = true) {
  r.write("/etc/os-release", "PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\nID=debian\n"
                             "VERSION_CODENAME=bookworm\n");
  r.write("/var/lib/dpkg/status",
          stanza("apt", "2.6.1") + stanza("openssl", "3.0.11-1~deb12u2") +
              stanza("libc6", "2.36-9+deb12u4") +
              (with_uu ? stanza("unattended-upgrades", "2.9.1+nmu3", "all")
                       : stanza("unattended-upgrades", "2.9.1+nmu3", "all", "config-files")));
  r.write("/etc/apt/apt.conf.d/20auto-upgrades", fixture("20auto-upgrades"));
  r.write("/etc/apt/apt.conf.d/50unattended-upgrades", fixture("50unattended-upgrades"));
  for (const char *t : {"apt-daily.timer", "apt-daily-upgrade.timer"}) {
    r.write(std::string("/lib/systemd/system/") + t, "[Timer]\nOnCalendar=daily\n");
    r.symlink(std::string("/lib/systemd/system/") + t,
              std::string("/etc/systemd/system/timers.target.wants/") + t);
  }
}

Finding audit_one(const TempRoot &r, const std::string &id) {
  return test::audit_only(r.path(), {id}).one(id);
}

const Evidence *evidence_at(const Finding &f, const std::string &path) {
  for (auto &e : f.evidence)
    if (e.path == path)
      return &e;
  return nullptr;
}

const char *k_auto = "os.auto-security-updates";
const char *k_pending = "os.pending-security-updates";
const char *k_mac = "mac.enabled";

const char *k_security_dir = "/var/lib/apt/lists/";
const char *k_security_list =
    "/var/lib/apt/lists/"
    "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages";

void security_lists(const TempRoot &r, const std::string &packages) {
  r.write(std::string(k_security_dir) +
              "deb.debian.org_debian-security_dists_bookworm-security_Release",
          "Origin: Debian\nLabel: Debian-Security\nSuite: stable-security\n"
          "Codename: bookworm-security\n");
  r.write(k_security_list, packages);
}

} // namespace

TEST(PatchingChecks, AutoUpdatesPassOnTheDebianDefaults) {
  TempRoot r;
  debian_root(r);
  auto f = audit_one(r, k_auto);
  ASSERT_EQ(f.status, Status::pass) << f.message;
  int lines = 0;
  for (auto &e : f.evidence)
    if (e.path == "/etc/apt/apt.conf.d/20auto-upgrades")
      lines = lines * 10 + e.line;
  EXPECT_EQ(lines, 12); // Update-Package-Lists, then Unattended-Upgrade
  auto *o = evidence_at(f, "/etc/apt/apt.conf.d/50unattended-upgrades");
  ASSERT_NE(o, nullptr);
  // Line 32 says codename=bookworm: the security suite's codename is
  // bookworm-security, so the pattern of line 33 is the one that matches.
  EXPECT_EQ(o->line, 33);
}

TEST(PatchingChecks, AutoUpdatesFailWhenALaterFileDisablesThem) {
  TempRoot r;
  debian_root(r);
  // dpkg leftovers are not read by apt...
  r.write("/etc/apt/apt.conf.d/99local.dpkg-old", "APT::Periodic::Unattended-Upgrade \"0\";\n");
  EXPECT_EQ(audit_one(r, k_auto).status, Status::pass);
  // ...but a later part is, and apt.conf after all parts.
  r.write("/etc/apt/apt.conf.d/99local",
          "// off\nAPT { Periodic { Unattended-Upgrade \"0\"; }; };\n");
  auto f = audit_one(r, k_auto);
  ASSERT_EQ(f.status, Status::fail);
  auto *e = evidence_at(f, "/etc/apt/apt.conf.d/99local");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->line, 2);
  r.write("/etc/apt/apt.conf", "APT::Periodic::Unattended-Upgrade \"always\";\n");
  EXPECT_EQ(audit_one(r, k_auto).status, Status::pass);
}

TEST(PatchingChecks, AutoUpdatesFailWithoutThePackageOrTheSettings) {
  TempRoot r;
  debian_root(r, false); // removed, configuration files left
  auto f = audit_one(r, k_auto);
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_NE(f.message.find("unattended-upgrades not installed"), std::string::npos);

  TempRoot r2;
  debian_root(r2);
  std::filesystem::remove(r2.host("/etc/apt/apt.conf.d/20auto-upgrades"));
  auto f2 = audit_one(r2, k_auto);
  ASSERT_EQ(f2.status, Status::fail);
  EXPECT_NE(f2.message.find("Update-Package-Lists not set (default 0: never)"), std::string::npos);
}

TEST(PatchingChecks, AutoUpdatesFailOnAMaskedTimer) {
  TempRoot r;
  debian_root(r);
  r.symlink("/dev/null", "/etc/systemd/system/apt-daily-upgrade.timer");
  auto f = audit_one(r, k_auto);
  ASSERT_EQ(f.status, Status::fail);
  ASSERT_NE(evidence_at(f, "/etc/systemd/system/apt-daily-upgrade.timer"), nullptr);
  EXPECT_NE(f.message.find("apt-daily-upgrade.timer masked"), std::string::npos);
}

TEST(PatchingChecks, AutoUpdatesFailOnASyntaxErrorThatStopsApt) {
  TempRoot r;
  debian_root(r);
  r.write("/etc/apt/apt.conf.d/60proxy", "Acquire::http::Proxy \"http://p:3128\" oops;\n");
  auto f = audit_one(r, k_auto);
  ASSERT_EQ(f.status, Status::fail);
  auto *e = evidence_at(f, "/etc/apt/apt.conf.d/60proxy");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->line, 1);
}

TEST(PatchingChecks, AutoUpdatesFailWhenNoPatternMatchesTheSecuritySuite) {
  TempRoot r;
  debian_root(r);
  r.write("/etc/apt/apt.conf.d/50unattended-upgrades",
          "Unattended-Upgrade::Origins-Pattern {\n"
          "  \"origin=Debian,codename=${distro_codename},label=Debian\";\n};\n");
  auto f = audit_one(r, k_auto);
  ASSERT_EQ(f.status, Status::fail);
  auto *e = evidence_at(f, "/etc/apt/apt.conf.d/50unattended-upgrades");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->line, 2);
  // The legacy Allowed-Origins form "origin:archive" counts too.
  r.write(
      "/etc/apt/apt.conf.d/51legacy",
      "Unattended-Upgrade::Allowed-Origins { \"${distro_id}:${distro_codename}-security\"; };\n");
  EXPECT_EQ(audit_one(r, k_auto).status, Status::pass);
}

TEST(PatchingChecks, AutoUpdatesNotApplicableWithoutDpkg) {
  TempRoot r;
  r.mkdir("/etc");
  EXPECT_EQ(audit_one(r, k_auto).status, Status::not_applicable);
  EXPECT_EQ(audit_one(r, k_pending).status, Status::not_applicable);
}

TEST(PatchingChecks, PendingSecurityUpdatesListed) {
  TempRoot r;
  debian_root(r);
  security_lists(r, "Package: libc6\nVersion: 2.36-9+deb12u4\nArchitecture: amd64\n\n"
                    "Package: openssl\nSource: openssl\nVersion: 3.0.15-1~deb12u1\n"
                    "Architecture: amd64\n\n"
                    "Package: libc6\nVersion: 2.36-9+deb12u99\nArchitecture: i386\n\n"
                    "Package: notinstalled\nVersion: 9\nArchitecture: amd64\n");
  auto f = audit_one(r, k_pending);
  ASSERT_EQ(f.status, Status::fail) << f.message;
  ASSERT_EQ(f.evidence.size(), 1u); // libc6 i386 is another architecture
  EXPECT_EQ(f.evidence[0].path, k_security_list);
  EXPECT_EQ(f.evidence[0].line, 5); // the openssl stanza
  EXPECT_EQ(f.evidence[0].found, "openssl 3.0.11-1~deb12u2 installed");
  EXPECT_EQ(f.evidence[0].expected, "openssl 3.0.15-1~deb12u1 (security)");
}

TEST(PatchingChecks, PendingSecurityUpdatesPassWhenUpToDate) {
  TempRoot r;
  debian_root(r);
  // dpkg ordering: ~ sorts before the end, so deb12u2 installed > ~deb12u2 offered.
  security_lists(r, "Package: openssl\nVersion: 3.0.11-1~deb12u2\nArchitecture: amd64\n\n"
                    "Package: libc6\nVersion: 2.36-9+deb12u4~really\nArchitecture: amd64\n");
  auto f = audit_one(r, k_pending);
  ASSERT_EQ(f.status, Status::pass) << f.message;
  EXPECT_EQ(f.evidence[0].path, k_security_list);
}

TEST(PatchingChecks, PendingSecurityUpdatesWarnWithoutSecurityLists) {
  TempRoot r;
  debian_root(r);
  r.write("/var/lib/apt/lists/deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages",
          "Package: openssl\nVersion: 9.9\nArchitecture: amd64\n");
  auto f = audit_one(r, k_pending);
  EXPECT_EQ(f.status, Status::warn);
  EXPECT_NE(f.message.find("no package list of a security suite"), std::string::npos);
}

TEST(PatchingChecks, MacPassesWithEnforcingAppArmorProfiles) {
  TempRoot r;
  debian_root(r);
  r.write("/var/lib/dpkg/status", stanza("apparmor", "3.0.8-3"));
  r.write("/etc/apparmor.d/usr.sbin.nginx", "profile nginx /usr/sbin/nginx {\n}\n");
  r.write("/etc/apparmor.d/tunables/global", "@{HOME}=/home/\n");
  auto f = audit_one(r, k_mac);
  ASSERT_EQ(f.status, Status::pass) << f.message;
  // The kernel command line can switch it off.
  r.write("/etc/default/grub", "GRUB_DEFAULT=0\nGRUB_CMDLINE_LINUX=\"quiet apparmor=0\"\n");
  auto off = audit_one(r, k_mac);
  ASSERT_EQ(off.status, Status::fail);
  auto *e = evidence_at(off, "/etc/default/grub");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->line, 2);
  // A later grub.d snippet that sets the line again wins.
  r.write("/etc/default/grub.d/50-cloud.cfg", "GRUB_CMDLINE_LINUX=\"quiet\"\n");
  EXPECT_EQ(audit_one(r, k_mac).status, Status::pass);
}

TEST(PatchingChecks, MacFailsWithOnlyComplainOrDisabledProfiles) {
  TempRoot r;
  debian_root(r);
  r.write("/var/lib/dpkg/status", stanza("apparmor", "3.0.8-3"));
  r.write("/etc/apparmor.d/usr.sbin.a",
          "profile a /usr/sbin/a flags=(attach_disconnected, complain) {\n}\n");
  r.write("/etc/apparmor.d/usr.sbin.b", "profile b /usr/sbin/b {\n}\n");
  r.symlink("/etc/apparmor.d/usr.sbin.b", "/etc/apparmor.d/disable/usr.sbin.b");
  auto f = audit_one(r, k_mac);
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_NE(f.message.find("no enforcing profile (1 complain, 1 disabled)"), std::string::npos);
  // Not installed at all.
  TempRoot r2;
  debian_root(r2);
  auto f2 = audit_one(r2, k_mac);
  ASSERT_EQ(f2.status, Status::fail);
  EXPECT_NE(f2.message.find("apparmor not installed"), std::string::npos);
}

TEST(PatchingChecks, MacPassesWithSelinuxEnforcing) {
  TempRoot r;
  debian_root(r);
  r.write("/etc/selinux/config", "# comment\nSELINUX=enforcing\nSELINUXTYPE=default\n");
  r.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"security=selinux selinux=1\"\n");
  auto f = audit_one(r, k_mac);
  ASSERT_EQ(f.status, Status::pass) << f.message;
  ASSERT_NE(evidence_at(f, "/etc/selinux/config"), nullptr);
  EXPECT_EQ(evidence_at(f, "/etc/selinux/config")->line, 2);
  r.write("/etc/selinux/config", "SELINUX=permissive\n");
  EXPECT_EQ(audit_one(r, k_mac).status, Status::fail);
}
