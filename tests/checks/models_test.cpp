// The shared host models: each built once per run, shared by every check
// that needs it, errors kept and reported by every such check.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/models.hpp>

#include <gtest/gtest.h>

#include <algorithm>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

std::string stanza(const std::string &pkg) {
  return "Package: " + pkg +
         "\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1.0\n\n";
}

AuditReport audit(const TempRoot &r, std::vector<std::string> only) {
  AuditRequest req;
  req.root = r.path();
  req.only = std::move(only);
  auto rep = run_audit(req);
  EXPECT_TRUE(rep.ok());
  return rep.ok() ? std::move(rep).value() : AuditReport{};
}

const Finding *find(const AuditReport &rep, const std::string &check) {
  for (const Finding &f : rep.findings)
    if (f.check == check)
      return &f;
  return nullptr;
}

size_t model_loads(const AuditReport &rep, const std::string &name) {
  return static_cast<size_t>(
      std::count_if(rep.perf.begin(), rep.perf.end(), [&](const PerfEntry &e) {
        return e.kind == PerfEntry::Kind::model && e.name == name;
      }));
}

} // namespace

TEST(DpkgModel, OnlyEnoentIsAbsence) {
  TempRoot r;
  EXPECT_EQ(load_dpkg_model(RootFs(r.path())).state, DpkgModel::State::absent);
  r.mkdir("/var/lib/dpkg/status"); // a directory where the file should be
  DpkgModel m = load_dpkg_model(RootFs(r.path()));
  EXPECT_EQ(m.state, DpkgModel::State::error);
  ASSERT_TRUE(m.error);
  EXPECT_EQ(m.error->path, "/var/lib/dpkg/status");
  EXPECT_FALSE(m.installed("auditd").ok());
}

TEST(DpkgModel, BrokenStanzaMakesAbsenceUnknowable) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("bash") + "Package: auditd\nStatus: install ok bogus\n\n");
  DpkgModel m = load_dpkg_model(RootFs(r.path()));
  ASSERT_EQ(m.state, DpkgModel::State::ok);
  auto bash = m.installed("bash");
  ASSERT_TRUE(bash.ok());
  ASSERT_NE(*bash, nullptr);
  EXPECT_EQ((*bash)->loc.line, 1);
  auto auditd = m.installed("auditd");
  ASSERT_FALSE(auditd.ok());
  EXPECT_EQ(auditd.error().line, 7); // the bad Status line
}

// Every check that asks the dpkg database reports an unreadable one as an
// error: none takes it for "not a Debian system" or "not installed".
TEST(DpkgModel, UnreadableDatabaseIsAnErrorInEveryDomain) {
  TempRoot r;
  r.mkdir("/var/lib/dpkg/status");
  r.write("/etc/fail2ban/jail.conf", "[sshd]\nenabled = true\n");
  AuditReport rep = audit(r, {"logging.auditd", "logging.audit-rules", "fail2ban.installed",
                              "os.auto-security-updates", "os.pending-security-updates"});
  for (const char *id : {"logging.auditd", "logging.audit-rules", "fail2ban.installed",
                         "os.auto-security-updates", "os.pending-security-updates"}) {
    const Finding *f = find(rep, id);
    ASSERT_NE(f, nullptr) << id;
    EXPECT_EQ(f->status, Status::error) << id << ": " << f->message;
  }
  EXPECT_EQ(model_loads(rep, "dpkg status"), 1u);
}

// One definition of masked: an empty unit file in /etc masks the unit for
// every domain (systemctl is-enabled says "masked"), as a /dev/null link does.
TEST(SystemdModel, EmptyUnitFileMasksForEveryDomain) {
  TempRoot r;
  r.write("/var/lib/dpkg/status", stanza("auditd"));
  r.write("/lib/systemd/system/auditd.service",
          "[Service]\nExecStart=/sbin/auditd\n[Install]\nWantedBy=multi-user.target\n");
  r.symlink("/lib/systemd/system/auditd.service",
            "/etc/systemd/system/multi-user.target.wants/auditd.service");
  r.write("/lib/systemd/system/nftables.service",
          "[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n"
          "[Install]\nWantedBy=sysinit.target\n");
  r.symlink("/lib/systemd/system/nftables.service",
            "/etc/systemd/system/sysinit.target.wants/nftables.service");
  r.write("/etc/nftables.conf", "table inet filter {\n chain input {\n  type filter hook input "
                                "priority 0; policy drop;\n }\n}\n");
  AuditReport before = audit(r, {"logging.auditd", "firewall.enabled"});
  ASSERT_NE(find(before, "logging.auditd"), nullptr);
  EXPECT_EQ(find(before, "logging.auditd")->status, Status::pass)
      << find(before, "logging.auditd")->message;
  ASSERT_NE(find(before, "firewall.enabled"), nullptr);
  EXPECT_EQ(find(before, "firewall.enabled")->status, Status::pass)
      << find(before, "firewall.enabled")->message;

  r.write("/etc/systemd/system/auditd.service", "");
  r.write("/etc/systemd/system/nftables.service", "");
  AuditReport after = audit(r, {"logging.auditd", "firewall.enabled"});
  const Finding *a = find(after, "logging.auditd");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->status, Status::fail);
  EXPECT_NE(a->message.find("masked"), std::string::npos) << a->message;
  EXPECT_EQ(a->evidence.at(0).path, "/etc/systemd/system/auditd.service");
  const Finding *fw = find(after, "firewall.enabled");
  ASSERT_NE(fw, nullptr);
  EXPECT_NE(fw->status, Status::pass) << fw->message;
  EXPECT_EQ(model_loads(after, "systemd units"), 1u);
}

TEST(PamModel, OneLoadServesPamAndSshChecks) {
  TempRoot r;
  r.write("/etc/pam.d/sshd", "auth required pam_unix.so\naccount required pam_unix.so\n");
  r.write("/etc/ssh/sshd_config", "KbdInteractiveAuthentication yes\nUsePAM yes\n");
  AuditReport rep = audit(r, {"accounts.lockout", "ssh.password-authentication"});
  ASSERT_NE(find(rep, "accounts.lockout"), nullptr);
  ASSERT_NE(find(rep, "ssh.password-authentication"), nullptr);
  EXPECT_EQ(model_loads(rep, "pam"), 1u);
}

// The walk is keyed by its inputs: what fs.world-writable reports does not
// depend on whether fs.app-permissions (which collects a directory) ran first.
TEST(WalkModel, KeyedByInputsNotCallOrder) {
  TempRoot r;
  r.write("/srv/app/index.php", "<?php", 0666);
  r.write("/etc/open", "x", 0666);
  r.write("/usr/bin/prog", "x", 04755);
  RootFs fs(r.path());
  auto world_writable = [&](bool collect_first) {
    Context ctx(fs);
    const WalkModel &w = ctx.get<WalkModel>();
    if (collect_first)
      (void)w.walk(ctx, WalkKey{"/", true, "/srv/app"});
    const TreeWalk &t = w.walk(ctx, WalkKey{"/", true, ""});
    std::vector<std::string> out;
    for (const WalkEntry &e : t.walk.entries)
      if (e.mode & 0002)
        out.push_back(e.path);
    return std::make_pair(out, ctx.perf().size());
  };
  auto [alone, walks_alone] = world_writable(false);
  auto [after, walks_after] = world_writable(true);
  EXPECT_EQ(alone, (std::vector<std::string>{"/etc/open", "/srv/app/index.php"}));
  EXPECT_EQ(alone, after);
  // The collecting walk serves the plain request: one walk, not two.
  EXPECT_EQ(walks_after, walks_alone);

  Context ctx(fs);
  const WalkModel &w = ctx.get<WalkModel>();
  const TreeWalk &plain = w.walk(ctx, WalkKey{"/", true, ""});
  const TreeWalk &collecting = w.walk(ctx, WalkKey{"/", true, "/srv/app"});
  EXPECT_NE(&plain, &collecting); // a plain walk cannot serve a collecting request
  bool collected = std::any_of(collecting.walk.entries.begin(), collecting.walk.entries.end(),
                               [](const WalkEntry &e) { return e.path == "/srv/app"; });
  EXPECT_TRUE(collected);
}
