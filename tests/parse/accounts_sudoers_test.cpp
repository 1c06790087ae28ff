// Account databases and sudoers: fixtures whose validity the real tools
// confirm (visudo -c), hostile input, and the checks built on them.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/parse/accounts.hpp>
#include <bulwark/parse/sudoers.hpp>

#include <gtest/gtest.h>

#include <set>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

AuditReport audit(const TempRoot &r, const std::string &only) {
  AuditRequest req;
  req.root = r.path();
  req.only = {only};
  auto rep = run_audit(req);
  EXPECT_TRUE(rep.ok());
  return rep.ok() ? *rep : AuditReport{};
}

std::vector<Finding> of(const AuditReport &r, const std::string &id) {
  std::vector<Finding> out;
  for (auto &f : r.findings)
    if (f.check == id)
      out.push_back(f);
  return out;
}

} // namespace

TEST(Accounts, PasswdShadowAndLoginDefs) {
  std::vector<accounts::Diagnostic> d;
  auto p = accounts::parse_passwd("root:x:0:0:root:/root:/bin/bash\ntoor:x:0:0::/:/bin/sh\n"
                                  "short:x:1\n+nis\n\nbad:x:abc:0::/:/bin/sh\n",
                                  "/etc/passwd", d);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_EQ(p[1].name, "toor");
  EXPECT_EQ(p[1].loc.line, 2);
  ASSERT_EQ(d.size(), 2u);
  EXPECT_EQ(d[0].loc.line, 3);
  EXPECT_EQ(d[1].loc.line, 6);
  auto s = accounts::parse_shadow("root:$6$salt$hash:19000:0:99999:7:::\nempty::19000:0:90:7:::\n"
                                  "locked:!:19000::::::\ntrunc:$6$x\n",
                                  "/etc/shadow", d);
  ASSERT_EQ(s.size(), 3u);
  EXPECT_EQ(*s[0].max_days, 99999);
  EXPECT_TRUE(s[1].hash.empty());
  EXPECT_TRUE(s[2].locked());
  EXPECT_FALSE(s[2].max_days);
  // The truncated record is reported without its content (it holds a hash).
  EXPECT_EQ(d.back().message.find("$6$"), std::string::npos);
  auto defs = accounts::parse_login_defs("PASS_MAX_DAYS 99999\n# c\n  PASS_MAX_DAYS\t60\nX \"q\"\n",
                                         "/etc/login.defs");
  EXPECT_EQ(defs["PASS_MAX_DAYS"].value, "60"); // the last definition wins
  EXPECT_EQ(defs["PASS_MAX_DAYS"].loc.line, 3);
  EXPECT_EQ(defs["X"].value, "q");
}

TEST(AccountChecks, BrokenAccountsAreNamedWithTheirLines) {
  TempRoot r;
  r.write("/etc/passwd",
          "root:x:0:0:root:/root:/bin/bash\nops:x:0:0::/home/ops:/bin/bash\n"
          "guest::1001:1001::/home/guest:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/bash\n");
  r.write("/etc/shadow",
          "root:!:19000:0:99999:7:::\nops:$6$a$b:19000:0:::::\nguest::19000:0:99999:7:::\n"
          "alice:$6$c$d:19000:0:60:7:::\n",
          0640);
  r.write("/etc/login.defs", "PASS_MAX_DAYS 99999\n");
  auto rep = audit(r, "accounts");
  auto uid0 = of(rep, "accounts.uid0");
  ASSERT_EQ(uid0.size(), 1u);
  EXPECT_EQ(uid0[0].status, Status::fail);
  EXPECT_EQ(uid0[0].evidence[0].line, 2);
  auto empty = of(rep, "accounts.empty-passwords");
  EXPECT_EQ(empty[0].status, Status::fail);
  ASSERT_EQ(empty[0].evidence.size(), 2u); // passwd field and shadow hash
  EXPECT_EQ(empty[0].evidence[0].path, "/etc/passwd");
  EXPECT_EQ(empty[0].evidence[1].path, "/etc/shadow");
  EXPECT_EQ(empty[0].evidence[1].line, 3);
  for (auto &f : rep.findings)
    for (auto &e : f.evidence)
      EXPECT_EQ(e.found.find("$6$"), std::string::npos) << "a hash leaked into " << f.check;
  auto age = of(rep, "accounts.password-max-age");
  EXPECT_EQ(age[0].status, Status::fail);
  std::string found;
  for (auto &e : age[0].evidence)
    found += e.found + "|";
  EXPECT_NE(found.find("PASS_MAX_DAYS 99999"), std::string::npos);
  EXPECT_NE(found.find("ops: maximum password age unset"), std::string::npos) << found;
  EXPECT_EQ(found.find("alice"), std::string::npos) << found; // 60 <= 90
  EXPECT_EQ(found.find("root"), std::string::npos) << found;  // locked
}

TEST(AccountChecks, HardenedAccountsPass) {
  TempRoot r;
  r.write("/etc/passwd",
          "root:x:0:0:root:/root:/bin/bash\nalice:x:1000:1000::/home/alice:/bin/bash\n");
  r.write("/etc/shadow", "root:*:19000:0:99999:7:::\nalice:$6$c$d:19000:0:90:7:::\n", 0640);
  r.write("/etc/login.defs", "PASS_MAX_DAYS 90\n");
  r.write("/etc/sudoers",
          "Defaults use_pty\nDefaults logfile=/var/log/sudo.log\n%sudo ALL=(ALL:ALL) ALL\n", 0440);
  // The files of the accounts/shadow/sudoers checks (the PAM checks of the
  // same domain have their own tests).
  const std::set<std::string> ids = {"accounts.uid0", "accounts.empty-passwords",
                                     "accounts.password-max-age", "accounts.sudo-nopasswd",
                                     "accounts.sudo-logging"};
  auto rep = audit(r, "accounts");
  size_t seen = 0;
  for (auto &f : rep.findings) {
    if (!ids.contains(f.check))
      continue;
    ++seen;
    EXPECT_EQ(f.status, Status::pass) << f.check << ": " << f.message;
  }
  EXPECT_EQ(seen, ids.size());
}

TEST(AccountChecks, UnreadableShadowIsAnErrorAndAbsentFilesNotApplicable) {
  TempRoot r;
  r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  r.mkdir("/etc/shadow");
  auto rep = audit(r, "accounts");
  EXPECT_EQ(of(rep, "accounts.empty-passwords")[0].status, Status::error);
  EXPECT_EQ(of(rep, "accounts.sudo-nopasswd")[0].status, Status::not_applicable);
  EXPECT_EQ(of(rep, "accounts.password-max-age")[0].status, Status::not_applicable);
}

struct SudoCase {
  const char *name;
  const char *text;
  bool visudo_ok;    // what visudo -c says (checked against the real visudo)
  bool nopasswd_all; // what accounts.sudo-nopasswd must find
};

const SudoCase k_sudo_cases[] = {
    {"plain", "root ALL=(ALL:ALL) ALL\n%sudo ALL=(ALL:ALL) ALL\n", true, false},
    {"nopasswd-all", "deploy ALL=(ALL) NOPASSWD: ALL\n", true, true},
    {"nopasswd-specific", "deploy ALL=(root) NOPASSWD: /usr/bin/systemctl restart app\n", true,
     false},
    {"tag-carries-on", "deploy ALL=(root) NOPASSWD: /usr/bin/id, ALL\n", true, true},
    {"tag-reset", "deploy ALL=(root) NOPASSWD: /usr/bin/id, PASSWD: ALL\n", true, false},
    {"alias", "Cmnd_Alias EVERYTHING = ALL\n%wheel ALL = NOPASSWD: EVERYTHING\n", true, true},
    {"continuation", "deploy ALL=(ALL) \\\n    NOPASSWD: \\\n    ALL\n", true, true},
    {"uid-not-comment", "#1000 ALL=(ALL) NOPASSWD: ALL\n", true, true},
    {"comment", "# deploy ALL=(ALL) NOPASSWD: ALL\n", true, false},
    {"trailing-comment", "deploy ALL=(ALL) ALL # NOPASSWD: ALL\n", true, false},
    {"not-authenticate", "Defaults:deploy !authenticate\n", true, true},
    {"second-host-group", "deploy web1 = /usr/bin/id : ALL = NOPASSWD: ALL\n", true, true},
    {"runas-list", "deploy ALL=(root, www-data) NOPASSWD:SETENV: ALL\n", true, true},
    {"tags-without-blanks", "deploy ALL = (root) NOEXEC:NOPASSWD:ALL\n", true, true},
};

TEST(Sudoers, FixturesAgreeWithVisudoAndTheCheck) {
  bool have_visudo = ::access("/usr/sbin/visudo", X_OK) == 0;
  for (auto &c : k_sudo_cases) {
    TempRoot r;
    r.write("/etc/sudoers", c.text, 0440);
    if (have_visudo) {
      auto v = run_command("/usr/sbin/visudo -c -q -f " + r.host("/etc/sudoers"));
      EXPECT_EQ(v.exit_code == 0, c.visudo_ok) << c.name << ": visudo says " << v.out << v.err;
    }
    auto m = sudoers::load_sudoers(RootFs(r.path()));
    ASSERT_TRUE(m.ok()) << c.name;
    EXPECT_TRUE(m->diagnostics.empty()) << c.name << ": " << m->diagnostics[0].message;
    auto rep = audit(r, "accounts.sudo-nopasswd");
    ASSERT_EQ(rep.findings.size(), 1u);
    EXPECT_EQ(rep.findings[0].status == Status::fail, c.nopasswd_all)
        << c.name << ": " << rep.findings[0].message;
    if (c.nopasswd_all) {
      EXPECT_EQ(rep.findings[0].evidence[0].path, "/etc/sudoers") << c.name;
      EXPECT_GE(rep.findings[0].evidence[0].line, 1) << c.name;
    }
  }
  BULWARK_REQUIRE(have_visudo) << "visudo not installed: fixtures checked by bulwark only";
}

TEST(Sudoers, IncludesIncludeDirsLoopsAndHostileLinks) {
  TempRoot host;
  host.write("/evil", "deploy ALL=(ALL) NOPASSWD: ALL\n");
  TempRoot r;
  r.write("/etc/sudoers",
          "Defaults use_pty\n@includedir /etc/sudoers.d\n#include /etc/sudoers.local\n"
          "@include sudoers.loop\n",
          0440);
  r.write("/etc/sudoers.d/10-ops",
          "Defaults logfile=/var/log/sudo.log\nops ALL=(ALL) NOPASSWD: ALL\n", 0440);
  r.write("/etc/sudoers.d/20-old.dpkg-old", "old ALL=(ALL) NOPASSWD: ALL\n",
          0440);                                                               // skipped: has a '.'
  r.write("/etc/sudoers.d/30-edit~", "tilde ALL=(ALL) NOPASSWD: ALL\n", 0440); // skipped: ends in ~
  r.write("/etc/sudoers.loop", "@include /etc/sudoers\n", 0440);
  r.symlink(host.host("/evil"), "/etc/sudoers.local"); // re-rooted: absent
  auto m = sudoers::load_sudoers(RootFs(r.path()));
  ASSERT_TRUE(m.ok());
  std::vector<std::string> users;
  for (auto &s : m->specs)
    users.push_back(s.users);
  EXPECT_EQ(users, (std::vector<std::string>{"ops"}));
  std::string diags;
  for (auto &d : m->diagnostics)
    diags += d.loc.path + ":" + std::to_string(d.loc.line) + " " + d.message + "\n";
  EXPECT_NE(diags.find("/etc/sudoers:3 cannot read included file"), std::string::npos) << diags;
  EXPECT_NE(diags.find("include loop"), std::string::npos) << diags;
  auto rep = audit(r, "accounts");
  auto f = of(rep, "accounts.sudo-nopasswd");
  EXPECT_EQ(f[0].status, Status::fail);
  EXPECT_EQ(f[0].evidence[0].path, "/etc/sudoers.d/10-ops");
  EXPECT_EQ(f[0].evidence[0].line, 2);
  EXPECT_EQ(of(rep, "accounts.sudo-logging")[0].status, Status::pass);
}

TEST(Sudoers, GarbageAndHugeInputDoNotCrash) {
  std::string garbage;
  for (int i = 0; i < 20000; ++i)
    garbage += static_cast<char>((i * 37 + 11) % 256);
  TempRoot r;
  r.write("/etc/sudoers", garbage + "\n" + std::string(2 * 1024 * 1024, '\\') + "\n(((((\n= = =\n",
          0440);
  auto m = sudoers::load_sudoers(RootFs(r.path()));
  ASSERT_TRUE(m.ok());
  EXPECT_FALSE(m->diagnostics.empty());
}

TEST(OsChecks, RebootRequiredThroughTheVarRunLink) {
  TempRoot r;
  r.symlink("/run", "/var/run");
  r.write("/run/reboot-required", "*** System restart required ***\n");
  r.write("/run/reboot-required.pkgs", "linux-image-6.1.0-27-amd64\nlibc6\n");
  auto rep = audit(r, "os.reboot-required");
  ASSERT_EQ(rep.findings.size(), 1u);
  EXPECT_EQ(rep.findings[0].status, Status::fail);
  EXPECT_NE(rep.findings[0].message.find("linux-image-6.1.0-27-amd64, libc6"), std::string::npos);
  TempRoot clean;
  clean.symlink("/run", "/var/run");
  clean.mkdir("/run");
  EXPECT_EQ(audit(clean, "os.reboot-required").findings[0].status, Status::pass);
}
