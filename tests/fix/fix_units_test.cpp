// bulwark fix: unit-enable (src/fix/recipes/units.cpp), sudoers-passwd
// (sudo.cpp) and sshd-moduli (ssh.cpp). Per kind: a failing fixture root ->
// plan -> apply -> the finding passes -> a second plan is empty -> rollback
// restores the tree byte for byte (a removed mask comes back as the same
// link); the program that reads the result agrees (systemctl is-enabled
// --root, visudo -c); what cannot be fixed safely is refused with its reason.

#include "fix_support.hpp"

#include <bulwark/parse/ssh_keys.hpp>

#include <csignal>
#include <filesystem>
#include <map>
#include <optional>
#include <set>
#include <sstream>
#include <sys/wait.h>

namespace bulwark::fix {
namespace {

using test::run_command;
using test::TempRoot;
using test_support::action_of;
using test_support::plan_only;
using test_support::refusal_of;
using test_support::round_trip;
using test_support::snapshot;
using test_support::status_of;

// --- unit-enable -------------------------------------------------------------------

class FixUnitEnable : public ::testing::Test {
protected:
  void SetUp() override {
    r.write(
        "/var/lib/dpkg/status",
        "Package: auditd\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:3.0.9-1\n");
    // Debian 12's auditd.service [Install] section.
    r.write("/lib/systemd/system/auditd.service",
            "[Unit]\nDescription=Security Auditing Service\n\n[Service]\nType=forking\n"
            "ExecStart=/sbin/auditd\n\n[Install]\nWantedBy=multi-user.target\n");
    r.mkdir("/etc/systemd/system/multi-user.target.wants");
  }
  // systemd's own answer for the root, "" when systemctl is missing.
  std::string is_enabled() const {
    auto res = run_command("systemctl --root='" + r.path() + "' is-enabled auditd.service");
    return std::string(text_first_line(res.out));
  }
  static std::string_view text_first_line(const std::string &s) {
    return std::string_view(s).substr(0, s.find('\n'));
  }
  TempRoot r;
};

TEST_F(FixUnitEnable, AMaskLinkIsRemovedTheWantsLinkMadeSystemctlSaysEnabledAndRollbackRestoresIt) {
  BULWARK_REQUIRE_TOOL("systemctl") << "(Debian package systemd)";
  r.symlink("/dev/null", "/etc/systemd/system/auditd.service");
  ASSERT_EQ(is_enabled(), "masked");
  Plan plan = round_trip(r.path(), {"logging.auditd"});
  const Action *a = action_of(plan, "logging.auditd");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 2u);
  EXPECT_EQ(a->edits[0].kind, FileEdit::Kind::symlink);
  EXPECT_EQ(a->edits[0].path, "/etc/systemd/system/auditd.service");
  EXPECT_EQ(a->edits[0].before, std::optional<std::string>("/dev/null"));
  EXPECT_EQ(a->edits[0].after, "");
  EXPECT_EQ(a->edits[1].kind, FileEdit::Kind::symlink);
  EXPECT_EQ(a->edits[1].path, "/etc/systemd/system/multi-user.target.wants/auditd.service");
  EXPECT_FALSE(a->edits[1].before.has_value());
  EXPECT_EQ(a->edits[1].after, "/lib/systemd/system/auditd.service");
  EXPECT_EQ(a->restart_units, std::vector<std::string>{"auditd.service"});
  // After the rollback (round_trip): masked again, by the same link.
  EXPECT_EQ(is_enabled(), "masked");
  ASSERT_TRUE(apply_plan(plan).ok());
  EXPECT_EQ(is_enabled(), "enabled") << "systemctl must agree with bulwark's model";
  EXPECT_EQ(status_of(r.path(), "logging.auditd"), Status::pass);
}

TEST_F(FixUnitEnable, ADisabledUnitGetsOnlyItsWantsLink) {
  BULWARK_REQUIRE_TOOL("systemctl") << "(Debian package systemd)";
  ASSERT_EQ(is_enabled(), "disabled");
  Plan plan = round_trip(r.path(), {"logging.auditd"});
  const Action *a = action_of(plan, "logging.auditd");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].path, "/etc/systemd/system/multi-user.target.wants/auditd.service");
  ASSERT_TRUE(apply_plan(plan).ok());
  EXPECT_EQ(is_enabled(), "enabled");
}

// The links of `systemctl enable` in a root, as "LINK -> TARGET" lines.
std::set<std::string> unit_links(const std::string &root) {
  std::set<std::string> out;
  std::error_code ec;
  auto base = std::filesystem::path(root) / "etc/systemd/system";
  for (auto it = std::filesystem::recursive_directory_iterator(base, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    if (it->is_symlink())
      out.insert(it->path().string().substr(root.size()) + " -> " +
                 std::filesystem::read_symlink(it->path()).string());
  return out;
}

// `systemctl --root enable auditd.service` on a copy of `root` made in
// `twin`, for systemd's own links to compare with bulwark's; nullopt (and a
// failure) when the copy fails, so that no refusal is read from it.
std::optional<test::RunResult> enable_in_copy(const TempRoot &root, const TempRoot &twin) {
  auto cp = run_command("cp -a '" + root.path() + "/.' '" + twin.path() + "/'");
  if (cp.exit_code != 0) {
    ADD_FAILURE() << "cp -a: " << cp.err;
    return std::nullopt;
  }
  return run_command("systemctl --root='" + twin.path() + "' enable auditd.service");
}

TEST_F(FixUnitEnable, EveryWantedByRequiredByAndAliasGetsTheLinkSystemctlEnableMakes) {
  BULWARK_REQUIRE_TOOL("systemctl") << "(Debian package systemd)";
  r.write("/lib/systemd/system/auditd.service",
          "[Unit]\nDescription=Security Auditing Service\n\n[Service]\nType=forking\n"
          "ExecStart=/sbin/auditd\n\n[Install]\nWantedBy=multi-user.target graphical.target\n"
          "RequiredBy=basic.target\nAlias=auditing.service\n");
  // systemd's own links, in a copy of the root.
  TempRoot twin;
  auto en = enable_in_copy(r, twin);
  ASSERT_TRUE(en);
  ASSERT_EQ(en->exit_code, 0) << en->out << en->err;
  std::set<std::string> want = unit_links(twin.path());
  ASSERT_EQ(want.size(), 4u) << "systemctl enable made " << want.size() << " links";

  Plan plan = round_trip(r.path(), {"logging.auditd"});
  const Action *a = action_of(plan, "logging.auditd");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->edits.size(), 4u);
  ASSERT_TRUE(apply_plan(plan).ok());
  EXPECT_EQ(unit_links(r.path()), want) << "bulwark must make exactly the links systemctl makes";
  EXPECT_EQ(is_enabled(), "enabled");
}

TEST_F(FixUnitEnable, RepeatedTargetsAndAnAliasOfItsOwnNameMakeTheLinksSystemctlMakes) {
  BULWARK_REQUIRE_TOOL("systemctl") << "(Debian package systemd)";
  // multi-user.target twice (a drop-in repeats it), and Alias= of the
  // unit's own name, which systemctl skips.
  r.write("/lib/systemd/system/auditd.service",
          "[Unit]\nDescription=Security Auditing Service\n\n[Service]\nType=forking\n"
          "ExecStart=/sbin/auditd\n\n[Install]\nWantedBy=multi-user.target\n"
          "Alias=auditd.service\n");
  r.write("/etc/systemd/system/auditd.service.d/extra.conf",
          "[Install]\nWantedBy=multi-user.target graphical.target\n");
  TempRoot twin;
  auto en = enable_in_copy(r, twin);
  ASSERT_TRUE(en);
  ASSERT_EQ(en->exit_code, 0) << en->out << en->err;
  std::set<std::string> want = unit_links(twin.path());

  Plan plan = round_trip(r.path(), {"logging.auditd"});
  ASSERT_NE(action_of(plan, "logging.auditd"), nullptr);
  ASSERT_TRUE(apply_plan(plan).ok()) << "one edit per link: a second symlink() would fail";
  EXPECT_EQ(unit_links(r.path()), want);
  EXPECT_EQ(is_enabled(), "enabled");
}

TEST_F(FixUnitEnable, AliasesSystemctlRefusesAndSpecifiersAreRefused) {
  BULWARK_REQUIRE_TOOL("systemctl") << "(Debian package systemd)";
  for (std::string extra :
       {"Alias=auditd.socket\n", "Alias=audit@x.service\n", "Alias=%p-alias.service\n"}) {
    TempRoot root;
    root.write("/var/lib/dpkg/status", "Package: auditd\nStatus: install ok installed\n"
                                       "Architecture: amd64\nVersion: 1:3.0.9-1\n");
    root.write("/lib/systemd/system/auditd.service",
               "[Service]\nType=forking\nExecStart=/sbin/auditd\n\n[Install]\n"
               "WantedBy=multi-user.target\n" +
                   extra);
    root.mkdir("/etc/systemd/system/multi-user.target.wants");
    Plan p = plan_only(root, {"logging.auditd"});
    EXPECT_TRUE(p.actions.empty()) << extra;
    const Refusal *ref = refusal_of(p, "logging.auditd");
    ASSERT_NE(ref, nullptr) << extra;
    EXPECT_NE(ref->reason.find(extra.substr(6, extra.size() - 7)), std::string::npos)
        << extra << ref->reason;
    if (extra[6] == '%')
      continue; // systemctl expands it (and succeeds); bulwark leaves it to systemctl
    auto en = run_command("systemctl --root='" + root.path() + "' enable auditd.service");
    EXPECT_NE(en.exit_code, 0) << extra << ": systemctl accepted it: " << en.out << en.err;
  }
}

TEST_F(FixUnitEnable, AnAliasTakenByAnotherUnitIsRefusedAsSystemctlRefusesIt) {
  BULWARK_REQUIRE_TOOL("systemctl") << "(Debian package systemd)";
  r.write("/lib/systemd/system/auditd.service",
          "[Unit]\nDescription=Security Auditing Service\n\n[Service]\nType=forking\n"
          "ExecStart=/sbin/auditd\n\n[Install]\nWantedBy=multi-user.target\n"
          "Alias=syslog.service\n");
  r.write("/lib/systemd/system/rsyslog.service",
          "[Service]\nExecStart=/usr/sbin/rsyslogd\n[Install]\nWantedBy=multi-user.target\n"
          "Alias=syslog.service\n");
  r.symlink("/lib/systemd/system/rsyslog.service", "/etc/systemd/system/syslog.service");
  auto before = snapshot(r.path());
  Plan p = plan_only(r, {"logging.auditd"});
  EXPECT_TRUE(p.actions.empty());
  const Refusal *ref = refusal_of(p, "logging.auditd");
  ASSERT_NE(ref, nullptr);
  EXPECT_NE(ref->reason.find("/etc/systemd/system/syslog.service exists but does not link to"),
            std::string::npos)
      << ref->reason;
  EXPECT_EQ(snapshot(r.path()), before);
  // systemd agrees: enable fails on the taken alias.
  TempRoot twin;
  auto en = enable_in_copy(r, twin);
  ASSERT_TRUE(en);
  EXPECT_NE(en->exit_code, 0) << en->out << en->err;
}

TEST_F(FixUnitEnable, AnEmptyMaskFileIsRemovedAndRestored) {
  r.write("/etc/systemd/system/auditd.service", "");
  Plan plan = round_trip(r.path(), {"logging.auditd"});
  const Action *a = action_of(plan, "logging.auditd");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->edits[0].kind, FileEdit::Kind::remove);
}

TEST_F(FixUnitEnable, AMaskOutsideEtcAndAMissingUnitAreRefused) {
  r.symlink("/dev/null", "/run/systemd/system/auditd.service");
  Plan p = plan_only(r, {"logging.auditd"});
  const Refusal *ref = refusal_of(p, "logging.auditd");
  ASSERT_NE(ref, nullptr) << "a runtime mask is not ours to remove";
  EXPECT_NE(ref->reason.find("only a mask in /etc/systemd/system"), std::string::npos)
      << ref->reason;
  EXPECT_TRUE(p.actions.empty());

  TempRoot bare;
  bare.write(
      "/var/lib/dpkg/status",
      "Package: auditd\nStatus: install ok installed\nArchitecture: amd64\nVersion: 1:3.0.9-1\n");
  bare.write("/sbin/auditd", "", 0755);
  Plan q = plan_only(bare, {"logging.auditd"});
  EXPECT_TRUE(q.actions.empty());
  ASSERT_NE(refusal_of(q, "logging.auditd"), nullptr);
  EXPECT_NE(refusal_of(q, "logging.auditd")->reason.find("not installed"), std::string::npos)
      << refusal_of(q, "logging.auditd")->reason;
}

TEST_F(FixUnitEnable, TheApplyStopsWhenTheMaskChangedSinceThePlan) {
  r.symlink("/dev/null", "/etc/systemd/system/auditd.service");
  Plan p = plan_only(r, {"logging.auditd"});
  ASSERT_EQ(p.actions.size(), 1u);
  std::filesystem::remove(r.host("/etc/systemd/system/auditd.service"));
  r.symlink("/dev/zero", "/etc/systemd/system/auditd.service");
  auto before = snapshot(r.path());
  auto id = apply_plan(p);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("changed since the plan"), std::string::npos)
      << id.error().to_string();
  EXPECT_TRUE(snapshot(r.path()) == before);
}

// Killed after the mask is removed and before the wants link is made: the
// next run's recovery puts the mask back as the same link.
TEST_F(FixUnitEnable, SigkillAfterTheUnmaskIsRolledBackByTheNextRun) {
  r.symlink("/dev/null", "/etc/systemd/system/auditd.service");
  auto original = snapshot(r.path());
  Plan p = plan_only(r, {"logging.auditd"});
  ASSERT_EQ(p.actions.size(), 1u);
  ASSERT_EQ(p.actions[0].edits.size(), 2u);
  pid_t pid = ::fork();
  if (pid == 0) {
    ApplyOptions opts;
    opts.after_write = [](size_t i) {
      if (i == 0)
        ::raise(SIGKILL);
    };
    (void)apply_plan(p, opts);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFSIGNALED(status));
  struct stat st {};
  EXPECT_NE(::lstat(r.host("/etc/systemd/system/auditd.service").c_str(), &st), 0)
      << "the mask was removed before the kill";
  auto rec = recover(r.path());
  ASSERT_TRUE(rec.ok()) << rec.error().to_string();
  EXPECT_EQ(rec->size(), 1u);
  EXPECT_TRUE(snapshot(r.path()) == original)
      << test_support::tree_diff(original, snapshot(r.path()));
}

// --- sudoers-passwd ------------------------------------------------------------------

class FixSudoNopasswd : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE(::geteuid() == 0) << "visudo runs in a mount namespace (needs root)";
    BULWARK_REQUIRE_TOOL("/usr/sbin/visudo") << "(Debian package sudo)";
    r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
                           "alice:x:1000:1000::/home/alice:/bin/bash\n"
                           "bob:x:1001:1001::/home/bob:/bin/bash\n");
    r.write("/etc/group", "root:x:0:\nsudo:x:27:\nalice:x:1000:\nbob:x:1001:\nops:x:1500:alice\n");
    r.write("/etc/shadow",
            "root:*:19000:0:99999:7:::\nalice:$6$salt$abcdefghijklmnop:19000:0:99999:7:::\n"
            "bob:!:19000:0:99999:7:::\n",
            0640);
    // Debian 12's /etc/sudoers.
    r.write("/etc/sudoers",
            "Defaults\tenv_reset\nDefaults\tmail_badpass\n"
            "Defaults\tsecure_path=\"/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin\"\n"
            "root\tALL=(ALL:ALL) ALL\n%sudo\tALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n",
            0440);
  }
  TempRoot r;
};

TEST_F(FixSudoNopasswd, TheTagIsDeletedInPlaceAndVisudoAcceptsTheFile) {
  r.write("/etc/sudoers.d/90-ops", "# ops team\n%ops ALL=(ALL:ALL) NOPASSWD: ALL\n", 0440);
  Plan plan = round_trip(r.path(), {"accounts.sudo-nopasswd"});
  const Action *a = action_of(plan, "accounts.sudo-nopasswd");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].path, "/etc/sudoers.d/90-ops");
  EXPECT_EQ(a->edits[0].after, "# ops team\n%ops ALL=(ALL:ALL) ALL\n");
  EXPECT_EQ(a->validators, std::vector<Validator>{Validator::visudo});
  ASSERT_TRUE(apply_plan(plan).ok());
  struct stat st {};
  ASSERT_EQ(::stat(r.host("/etc/sudoers.d/90-ops").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0440u) << "the file keeps its mode";
  auto v = run_command("/usr/sbin/visudo -c -f '" + r.host("/etc/sudoers.d/90-ops") + "'");
  EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
}

TEST_F(FixSudoNopasswd, OtherTagsAndARuleForAGroupNobodyIsInAreKept) {
  r.write("/etc/sudoers.d/90-ops", "%nobodys ALL = (root) NOEXEC:NOPASSWD:ALL\n", 0440);
  Plan plan = round_trip(r.path(), {"accounts.sudo-nopasswd"});
  const Action *a = action_of(plan, "accounts.sudo-nopasswd");
  ASSERT_NE(a, nullptr);
  EXPECT_EQ(a->edits[0].after, "%nobodys ALL = (root) NOEXEC:ALL\n");
}

TEST_F(FixSudoNopasswd, AMemberWithoutAPasswordWouldLoseSudoAndIsRefused) {
  r.write("/etc/sudoers.d/90-ops",
          "%ops ALL=(ALL:ALL) NOPASSWD: ALL\nbob ALL=(ALL) NOPASSWD: ALL\n", 0440);
  auto before = snapshot(r.path());
  Plan p = plan_only(r, {"accounts.sudo-nopasswd"});
  EXPECT_TRUE(p.actions.empty());
  const Refusal *ref = refusal_of(p, "accounts.sudo-nopasswd");
  ASSERT_NE(ref, nullptr);
  EXPECT_NE(ref->reason.find("bob has no usable password"), std::string::npos) << ref->reason;
  EXPECT_TRUE(snapshot(r.path()) == before);
}

TEST_F(FixSudoNopasswd, SpecificPasswordlessCommandsAndAllAreRefused) {
  for (const char *rule :
       {"alice ALL=(ALL) NOPASSWD: /usr/bin/systemctl restart app, ALL\n",
        "ALL ALL=(ALL) NOPASSWD: ALL\n", "alice ALL=(ALL) NOPASSWD: \\\n ALL\n"}) {
    SCOPED_TRACE(rule);
    r.write("/etc/sudoers.d/90-ops", rule, 0440);
    Plan p = plan_only(r, {"accounts.sudo-nopasswd"});
    EXPECT_TRUE(p.actions.empty());
    EXPECT_NE(refusal_of(p, "accounts.sudo-nopasswd"), nullptr);
  }
}

// --- sshd-moduli ---------------------------------------------------------------------

class FixModuli : public ::testing::Test {
protected:
  void SetUp() override {
    std::ifstream in("/etc/ssh/moduli", std::ios::binary);
    BULWARK_REQUIRE(in.good()) << "no /etc/ssh/moduli on the host (openssh-client)";
    moduli = test::read_all(in);
    r.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\nUsePAM yes\n");
  }
  // The first `n` lines of the host's file with SIZE `size`.
  std::string lines_of(const std::string &size, int n) const {
    std::string out;
    std::istringstream s(moduli);
    for (std::string l; n > 0 && std::getline(s, l);) {
      std::istringstream f(l);
      std::string a, b, c, d, sz;
      f >> a >> b >> c >> d >> sz;
      if (sz == size) {
        out += l + "\n";
        --n;
      }
    }
    return out;
  }
  std::string moduli;
  TempRoot r;
};

TEST_F(FixModuli, SmallGroupsAreRemovedEveryOtherLineKeptByteForByte) {
  std::string strong = lines_of("3071", 2) + lines_of("4095", 1);
  std::string file = "# Time Type Tests Tries Size Generator Modulus\n" + lines_of("2047", 3) +
                     strong + "malformed line sshd skips\n";
  ASSERT_EQ(sshkeys::parse_moduli(file, "m").groups.size(), 6u);
  r.write("/etc/ssh/moduli", file);
  Plan plan = round_trip(r.path(), {"ssh.host-key-strength"});
  const Action *a = action_of(plan, "ssh.host-key-strength");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].after, "# Time Type Tests Tries Size Generator Modulus\n" + strong +
                                   "malformed line sshd skips\n");
  EXPECT_NE(a->summary.find("3 Diffie-Hellman group(s) under 3072 bits removed"), std::string::npos)
      << a->summary;
}

TEST_F(FixModuli, OnlySmallGroupsOrAWeakHostKeyAreRefused) {
  r.write("/etc/ssh/moduli", lines_of("2047", 2));
  Plan p = plan_only(r, {"ssh.host-key-strength"});
  EXPECT_TRUE(p.actions.empty());
  ASSERT_NE(refusal_of(p, "ssh.host-key-strength"), nullptr);
  EXPECT_NE(refusal_of(p, "ssh.host-key-strength")->reason.find("every group"), std::string::npos);

  BULWARK_REQUIRE_TOOL("ssh-keygen") << "(openssh-client)";
  r.write("/etc/ssh/moduli", lines_of("2047", 1) + lines_of("3071", 1));
  auto kg = run_command("ssh-keygen -q -t rsa -b 2048 -N '' -f '" +
                        r.host("/etc/ssh/ssh_host_rsa_key") + "'");
  ASSERT_EQ(kg.exit_code, 0) << kg.err;
  Plan q = plan_only(r, {"ssh.host-key-strength"});
  EXPECT_TRUE(q.actions.empty());
  ASSERT_NE(refusal_of(q, "ssh.host-key-strength"), nullptr);
  EXPECT_NE(refusal_of(q, "ssh.host-key-strength")->reason.find("changes the server's identity"),
            std::string::npos)
      << refusal_of(q, "ssh.host-key-strength")->reason;
}

// --- mount-options -------------------------------------------------------------------

class FixMountOptions : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE(::geteuid() == 0) << "findmnt runs in a mount namespace (needs root)";
    BULWARK_REQUIRE_TOOL("findmnt") << "(Debian package util-linux)";
    r.mkdir("/tmp");
    r.mkdir("/var/tmp");
  }
  // The units systemd's own fstab generator makes of the root's fstab.
  std::map<std::string, std::string> generated() const {
    TempRoot out;
    auto g = run_command("SYSTEMD_FSTAB='" + r.host("/etc/fstab") + "' SYSTEMD_PROC_CMDLINE='' " +
                         k_generator + " '" + out.path() + "' '" + out.path() + "' '" + out.path() +
                         "'");
    EXPECT_EQ(g.exit_code, 0) << g.out << g.err;
    std::map<std::string, std::string> units;
    for (auto &e : std::filesystem::directory_iterator(out.path()))
      if (e.is_regular_file()) {
        std::ifstream in(e.path(), std::ios::binary);
        units[e.path().filename().string()] = test::read_all(in);
      }
    auto v = run_command("systemd-analyze verify '" + out.path() + "/tmp.mount'");
    EXPECT_EQ(v.exit_code, 0) << v.out << v.err;
    return units;
  }
  static constexpr const char *k_generator =
      "/lib/systemd/system-generators/systemd-fstab-generator";
  TempRoot r;
};

TEST_F(FixMountOptions, DirectoriesWithoutAMountAreBoundOntoThemselvesAndShmGetsNoexec) {
  BULWARK_REQUIRE_TOOL(k_generator) << "(Debian package systemd)";
  BULWARK_REQUIRE_TOOL("systemd-analyze") << "(Debian package systemd)";
  const std::string fstab = "# <file system> <mount point> <type> <options> <dump> <pass>\n"
                            "UUID=0a1b / ext4 errors=remount-ro 0 1\n";
  r.write("/etc/fstab", fstab);
  Plan plan = round_trip(r.path(), {"fs.tmp-mount-options"});
  const Action *a = action_of(plan, "fs.tmp-mount-options");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].after, fstab + "/tmp /tmp none bind,nodev,nosuid,noexec 0 0\n"
                                       "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0\n"
                                       "/var/tmp /var/tmp none bind,nodev,nosuid,noexec 0 0\n");
  EXPECT_EQ(a->validators, std::vector<Validator>{Validator::fstab});
  ASSERT_TRUE(apply_plan(plan).ok());
  auto units = generated();
  ASSERT_TRUE(units.count("tmp.mount")) << "systemd must make a mount of /tmp";
  EXPECT_NE(units["tmp.mount"].find("\nOptions=bind,nodev,nosuid,noexec\n"), std::string::npos)
      << units["tmp.mount"];
  ASSERT_TRUE(units.count("var-tmp.mount"));
  EXPECT_NE(units["var-tmp.mount"].find("\nOptions=bind,nodev,nosuid,noexec\n"), std::string::npos)
      << units["var-tmp.mount"];
}

TEST_F(FixMountOptions, AnFstabLineOfItsOwnGainsTheMissingOptionsInPlace) {
  r.write("/etc/fstab", "UUID=0a1b / ext4 errors=remount-ro 0 1\n"
                        "tmpfs\t/tmp\ttmpfs\tdefaults,size=1G,nosuid   0 0\n"
                        "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0\n"
                        "/dev/vg/vartmp /var/tmp ext4 nodev,nosuid,noexec 0 2\n");
  Plan plan = round_trip(r.path(), {"fs.tmp-mount-options"});
  const Action *a = action_of(plan, "fs.tmp-mount-options");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].after, "UUID=0a1b / ext4 errors=remount-ro 0 1\n"
                               "tmpfs\t/tmp\ttmpfs\tdefaults,size=1G,nosuid,nodev,noexec   0 0\n"
                               "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0\n"
                               "/dev/vg/vartmp /var/tmp ext4 nodev,nosuid,noexec 0 2\n");
}

TEST_F(FixMountOptions, AnAdministratorsMountUnitGetsADropInThatWins) {
  r.write("/etc/fstab", "tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0\n"
                        "/tmp /var/tmp none bind,nodev,nosuid,noexec 0 0\n");
  r.write("/etc/systemd/system/tmp.mount",
          "[Unit]\nDescription=Temporary Directory /tmp\n\n[Mount]\nWhat=tmpfs\nWhere=/tmp\n"
          "Type=tmpfs\nOptions=mode=1777,strictatime,nosuid,nodev,size=50%%\n\n[Install]\n"
          "WantedBy=local-fs.target\n");
  r.symlink("/etc/systemd/system/tmp.mount", "/etc/systemd/system/local-fs.target.wants/tmp.mount");
  Plan plan = round_trip(r.path(), {"fs.tmp-mount-options"});
  const Action *a = action_of(plan, "fs.tmp-mount-options");
  ASSERT_NE(a, nullptr);
  ASSERT_EQ(a->edits.size(), 1u);
  EXPECT_EQ(a->edits[0].path, "/etc/systemd/system/tmp.mount.d/zz-bulwark.conf");
  EXPECT_NE(
      a->edits[0].after.find("\nOptions=mode=1777,strictatime,nosuid,nodev,size=50%%,noexec\n"),
      std::string::npos)
      << a->edits[0].after;
}

} // namespace
} // namespace bulwark::fix
