// bulwark fix: per recipe kind, a failing fixture root -> plan -> apply ->
// the finding passes -> a second plan is empty -> rollback restores the tree
// byte for byte (content, mode, owner). Plus the lockout guard, the RootFs
// overlay the re-audit reads through, and the catalogue's recipes.

#include "../support.hpp"
#include "fix_support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/fix/engine.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/fix/transaction.hpp>
#include <bulwark/fix/validate.hpp>

#include <filesystem>
#include <map>

namespace bulwark::fix {
namespace {

using test::TempRoot;

constexpr const char *k_key =
    "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIHw6rZAI87Nt2WmqRx3RDajoycx9cvlh+cR1P68V9Oxy admin@test\n";

// The tree as fix_support.hpp snapshots it (kind, mode, owner, content
// digest), for the rollback's byte-for-byte comparison.
using bulwark::fix::test_support::snapshot;

// Validators stand-in: the sshd -t oracle is exercised in its own test
// (fix_faults_test / the validate tests); here every change is accepted
// and the calls are counted.
struct CountingValidator {
  int calls = 0;
  ValidateFn fn() {
    return [this](Validator, const std::string &, const Overlay &) -> Result<Validation> {
      ++calls;
      Validation v;
      v.accepted = true;
      v.program = "test";
      return v;
    };
  }
};

PlanRequest request(const TempRoot &r, std::vector<std::string> only, CountingValidator &v) {
  PlanRequest req;
  req.root = r.path();
  req.only = std::move(only);
  req.validate = v.fn();
  return req;
}

Status status_of(const std::string &root, const std::string &check) {
  AuditRequest ar;
  ar.root = root;
  ar.only = {check};
  auto rep = run_audit(ar);
  EXPECT_TRUE(rep.ok());
  if (!rep)
    return Status::error;
  EXPECT_FALSE(rep->findings.empty()) << check;
  Status worst = Status::pass;
  for (auto &f : rep->findings)
    if (f.check == check && f.status != Status::pass && f.status != Status::not_applicable)
      worst = f.status;
  return rep->findings.empty() ? Status::error : worst;
}

void write_accounts(const TempRoot &r, bool admin_key) {
  r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
                         "admin:x:1000:1000::/home/admin:/bin/bash\n");
  r.write("/etc/group", "root:x:0:\nshadow:x:42:\nsudo:x:27:admin\nadmin:x:1000:\n");
  r.write("/etc/shadow", "root:*:19000:0:99999:7:::\nadmin:!:19000:0:99999:7:::\n", 0640);
  if (admin_key)
    r.write("/home/admin/.ssh/authorized_keys", k_key, 0600);
}

// The whole round trip for one fixture: plan, apply, pass, replan empty,
// rollback identical. Returns the plan for further assertions.
Plan round_trip(const TempRoot &r, const std::vector<std::string> &checks) {
  CountingValidator v;
  auto original = snapshot(r.path());
  for (auto &c : checks)
    EXPECT_EQ(status_of(r.path(), c), Status::fail) << c << " must fail before the fix";
  auto plan = make_plan(request(r, checks, v));
  EXPECT_TRUE(plan.ok()) << (plan ? "" : plan.error().to_string());
  if (!plan)
    return {};
  EXPECT_EQ(plan->actions.size(), checks.size());
  for (auto &ref : plan->refused)
    ADD_FAILURE() << "refused " << ref.check_id << ": " << ref.reason;
  auto id = apply_plan(*plan);
  EXPECT_TRUE(id.ok()) << (id ? "" : id.error().to_string());
  for (auto &c : checks)
    EXPECT_EQ(status_of(r.path(), c), Status::pass) << c << " must pass after the fix";
  auto again = make_plan(request(r, checks, v));
  EXPECT_TRUE(again.ok());
  if (again) {
    EXPECT_TRUE(again->actions.empty()) << "a second run plans " << again->actions.size();
    EXPECT_TRUE(again->refused.empty());
  }
  EXPECT_NE(snapshot(r.path()), original);
  auto back = rollback(r.path(), id ? *id : "all");
  EXPECT_TRUE(back.ok()) << (back ? "" : back.error().to_string());
  EXPECT_EQ(snapshot(r.path()), original) << "rollback must restore the tree byte for byte";
  auto list = list_transactions(r.path());
  EXPECT_TRUE(list.ok());
  if (list) {
    EXPECT_EQ(list->size(), 1u);
    if (!list->empty()) {
      EXPECT_EQ(list->front().state, "rolled-back");
    }
  }
  return *plan;
}

TEST(FixSshd, DropInThatSshdReadsFirstAndMatchBlockEditedInPlace) {
  TempRoot r;
  write_accounts(r, true);
  r.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n"
                                  "PermitRootLogin yes\n"
                                  "X11Forwarding yes\n"
                                  "Match User admin\n"
                                  "  X11Forwarding yes\n");
  r.write("/etc/ssh/sshd_config.d/50-cloud-init.conf", "PasswordAuthentication yes\n");
  Plan plan = round_trip(r, {"ssh.permit-root-login", "ssh.x11-forwarding"});
  ASSERT_EQ(plan.actions.size(), 2u);
  // The drop-in holds both global settings, once each; the Match block's
  // line is edited where it is.
  std::string dropin;
  for (auto &a : plan.actions)
    for (auto &e : a.edits)
      if (e.path == "/etc/ssh/sshd_config.d/00-bulwark.conf")
        dropin = e.after;
  EXPECT_NE(dropin.find("PermitRootLogin no\n"), std::string::npos) << dropin;
  EXPECT_NE(dropin.find("X11Forwarding no\n"), std::string::npos) << dropin;
  bool match_edited = false;
  for (auto &e : plan.actions[1].edits)
    if (e.path == "/etc/ssh/sshd_config")
      match_edited = e.after.find("Match User admin\n  X11Forwarding no\n") != std::string::npos;
  EXPECT_TRUE(match_edited);
  EXPECT_EQ(plan.actions[0].restart_units, std::vector<std::string>{"ssh.service"});
}

// The engine with its real validators (sshd -t in a private mount namespace
// over the root): the plan is accepted, and the fixed root, read by sshd
// itself, passes sshd -t; the Match block edit is what sshd -T reports.
TEST(FixSshd, RealSshdAcceptsThePlanAndTheFixedRoot) {
  BULWARK_REQUIRE_TOOL("sshd") << "(Debian package openssh-server)";
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  write_accounts(r, true);
  r.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config.d/*.conf\n"
                                  "PermitRootLogin yes\n"
                                  "MaxAuthTries 10\n"
                                  "Match User admin\n"
                                  "  MaxAuthTries 8\n");
  r.mkdir("/etc/ssh/sshd_config.d");
  PlanRequest req;
  req.root = r.path();
  req.only = {"ssh.permit-root-login", "ssh.max-auth-tries"};
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  for (auto &ref : plan->refused)
    ADD_FAILURE() << ref.check_id << ": " << ref.reason;
  ASSERT_EQ(plan->actions.size(), 2u);
  auto id = apply_plan(*plan);
  ASSERT_TRUE(id.ok()) << id.error().to_string();
  auto v = validate(Validator::sshd, r.path(), {});
  ASSERT_TRUE(v.ok()) << v.error().to_string();
  EXPECT_TRUE(v->accepted) << v->program << ": " << v->output;
  EXPECT_EQ(status_of(r.path(), "ssh.permit-root-login"), Status::pass);
  EXPECT_EQ(status_of(r.path(), "ssh.max-auth-tries"), Status::pass);
  // A validator that rejects is what refuses: a drop-in sshd cannot parse.
  r.write("/etc/ssh/sshd_config.d/10-broken.conf", "NoSuchKeyword yes\n");
  auto bad = validate(Validator::sshd, r.path(), {});
  ASSERT_TRUE(bad.ok()) << bad.error().to_string();
  EXPECT_FALSE(bad->accepted);
}

// The command line: plan (exit 1), apply (0), plan again (0: nothing left),
// list, rollback all (0), and the tree is back.
TEST(FixCli, PlanApplyListRollback) {
  TempRoot r;
  write_accounts(r, true);
  r.write("/etc/ssh/sshd_config", "X11Forwarding yes\n");
  auto original = snapshot(r.path());
  std::string base =
      std::string(BULWARK_BINARY) + " fix --root " + r.path() + " --only ssh.x11-forwarding";
  auto plan = test::run_command(base + " --format json");
  EXPECT_EQ(plan.exit_code, 1) << plan.err;
  EXPECT_NE(plan.out.find("\"schema\": \"bulwark.fix/v1\""), std::string::npos) << plan.out;
  EXPECT_NE(plan.out.find("+X11Forwarding no"), std::string::npos) << plan.out;
  auto apply = test::run_command(base + " --apply");
  EXPECT_EQ(apply.exit_code, 0) << apply.out << apply.err;
  EXPECT_NE(apply.err.find("ssh.service must be reloaded"), std::string::npos) << apply.err;
  auto again = test::run_command(base);
  EXPECT_EQ(again.exit_code, 0) << again.out << again.err;
  EXPECT_NE(again.out.find("0 fix(es) planned"), std::string::npos) << again.out;
  auto list = test::run_command(std::string(BULWARK_BINARY) + " fix --list --root " + r.path());
  EXPECT_EQ(list.exit_code, 0);
  EXPECT_NE(list.out.find(" applied "), std::string::npos) << list.out;
  auto back =
      test::run_command(std::string(BULWARK_BINARY) + " fix --rollback all --root " + r.path());
  EXPECT_EQ(back.exit_code, 0) << back.err;
  EXPECT_EQ(snapshot(r.path()), original);
  auto usage = test::run_command(base + " --format yaml");
  EXPECT_EQ(usage.exit_code, 2);
}

TEST(FixSshd, WithoutIncludeTheFirstLineIsEditedInPlace) {
  TempRoot r;
  write_accounts(r, true);
  r.write("/etc/ssh/sshd_config", "# local\nMaxAuthTries 6\nMaxAuthTries 2\n");
  Plan plan = round_trip(r, {"ssh.max-auth-tries"});
  ASSERT_EQ(plan.actions.size(), 1u);
  ASSERT_EQ(plan.actions[0].edits.size(), 1u);
  EXPECT_EQ(plan.actions[0].edits[0].after, "# local\nMaxAuthTries 3\nMaxAuthTries 2\n");
}

TEST(FixSshd, AnUnsetKeywordGoesAtTheTopBeforeAnyMatch) {
  TempRoot r;
  write_accounts(r, true);
  r.write("/etc/ssh/sshd_config", "Match User admin\n  X11Forwarding no\n");
  Plan plan = round_trip(r, {"ssh.permit-root-login"});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].edits[0].after,
            "PermitRootLogin no\nMatch User admin\n  X11Forwarding no\n");
}

TEST(FixSshd, LockoutGuardRefusesWithoutAKeyForAnAllowedAccount) {
  TempRoot r;
  write_accounts(r, false);
  r.write("/home/admin/.ssh/authorized_keys", "# no key yet\nnot a key\n", 0600);
  r.write("/etc/ssh/sshd_config", "PermitRootLogin yes\nPasswordAuthentication yes\n");
  CountingValidator v;
  auto plan = make_plan(request(r, {"ssh.permit-root-login", "ssh.password-authentication"}, v));
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 2u);
  for (auto &ref : plan->refused)
    EXPECT_NE(ref.reason.find("lock every operator out"), std::string::npos) << ref.reason;
  // With the key in place, the same root is fixed.
  r.write("/home/admin/.ssh/authorized_keys", std::string("from=\"10.0.0.0/8\",no-pty ") + k_key,
          0600);
  auto fixed = make_plan(request(r, {"ssh.permit-root-login", "ssh.password-authentication"}, v));
  ASSERT_TRUE(fixed.ok());
  EXPECT_EQ(fixed->actions.size(), 2u);
  EXPECT_TRUE(fixed->refused.empty());
}

TEST(FixSshd, AllowUsersDecidesWhoMustHaveAKey) {
  TempRoot r;
  write_accounts(r, true); // admin has a key, but only "deploy" may log in
  r.write("/etc/ssh/sshd_config", "AllowUsers deploy\nPasswordAuthentication yes\n");
  CountingValidator v;
  auto plan = make_plan(request(r, {"ssh.password-authentication"}, v));
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_NE(plan->refused[0].reason.find("AllowUsers"), std::string::npos)
      << plan->refused[0].reason;
}

TEST(FixSshd, ValidatorRejectionIsARefusal) {
  TempRoot r;
  write_accounts(r, true);
  r.write("/etc/ssh/sshd_config", "X11Forwarding yes\n");
  PlanRequest req;
  req.root = r.path();
  req.only = {"ssh.x11-forwarding"};
  req.validate = [](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    return Validation{false, "sshd -t", "line 1: Bad configuration option"};
  };
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_NE(plan->refused[0].reason.find("Bad configuration option"), std::string::npos);
}

TEST(FixSysctl, DropInAfter99SysctlAndSysctlConfEditedInPlace) {
  TempRoot r;
  r.write("/etc/sysctl.conf", "# procps\nkernel.kptr_restrict = 0\n");
  r.symlink("../sysctl.conf", "/etc/sysctl.d/99-sysctl.conf");
  r.write("/usr/lib/sysctl.d/50-default.conf", "fs.protected_symlinks = 0\n");
  Plan plan = round_trip(r, {"sysctl.kernel"});
  ASSERT_EQ(plan.actions.size(), 1u);
  std::map<std::string, std::string> after;
  for (auto &e : plan.actions[0].edits)
    after[e.path] = e.after;
  // The line that decides (in /etc/sysctl.conf, read through the link) is
  // edited; the rest goes to the drop-in that sorts after 99-sysctl.conf.
  EXPECT_EQ(after["/etc/sysctl.conf"], "# procps\nkernel.kptr_restrict = 1\n");
  ASSERT_TRUE(after.count("/etc/sysctl.d/99-zz-bulwark.conf"));
  EXPECT_NE(after["/etc/sysctl.d/99-zz-bulwark.conf"].find("fs.protected_symlinks = 1\n"),
            std::string::npos);
  EXPECT_EQ(after["/etc/sysctl.d/99-zz-bulwark.conf"].find("kernel.kptr_restrict"),
            std::string::npos);
}

TEST(FixFileMode, CriticalFilesGetTheirModeAndOwnerBack) {
  BULWARK_REQUIRE(::geteuid() == 0) << "chown needs root";
  TempRoot r;
  write_accounts(r, false);
  ::chmod(r.host("/etc/shadow").c_str(), 0666);
  ASSERT_EQ(::chown(r.host("/etc/passwd").c_str(), 1000, 1000), 0);
  Plan plan = round_trip(r, {"fs.critical-file-permissions"});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].edits.size(), 2u);
}

TEST(FixLoginDefs, LastLineDecidesAndIsEdited) {
  TempRoot r;
  write_accounts(r, false); // every password locked: login.defs alone decides
  r.write("/etc/login.defs", "PASS_MAX_DAYS 30\nUMASK 022\nPASS_MAX_DAYS 99999\n");
  Plan plan = round_trip(r, {"accounts.password-max-age"});
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].edits[0].after, "PASS_MAX_DAYS 30\nUMASK 022\nPASS_MAX_DAYS 90\n");
}

TEST(FixLoginDefs, ASystemAccountWithAPasswordIsRefusedNotAged) {
  TempRoot r;
  write_accounts(r, false);
  // daemon (uid 1) has a usable password: whether it should have one at all
  // is a human's call, so the recipe refuses instead of setting its ageing.
  r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
                         "daemon:x:1:1:daemon:/usr/sbin:/usr/sbin/nologin\n");
  r.write("/etc/shadow", "root:*:19000:0:99999:7:::\ndaemon:$y$j9T$abc$def:19000:0::7:::\n", 0640);
  r.write("/etc/login.defs", "PASS_MAX_DAYS 99999\n");
  CountingValidator v;
  auto plan = make_plan(request(r, {"accounts.password-max-age"}, v));
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_NE(plan->refused[0].reason.find("system account daemon"), std::string::npos)
      << plan->refused[0].reason;
}

TEST(FixPlan, ChecksWithoutARecipeAreUnfixable) {
  TempRoot r;
  write_accounts(r, true);
  r.write("/etc/ssh/sshd_config", "PermitRootLogin no\n");
  CountingValidator v;
  auto plan = make_plan(request(r, {"ssh.allow-users-groups"}, v));
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  EXPECT_EQ(plan->unfixable, std::vector<std::string>{"ssh.allow-users-groups"});
}

TEST(FixCatalogue, EveryRecipeKindExistsAndTheExpectedChecksHaveOne) {
  const Catalogue &cat = Catalogue::builtin();
  int with = 0;
  for (auto &c : cat.checks())
    if (c.recipe) {
      ++with;
      EXPECT_NE(find_recipe_kind(c.recipe->kind), nullptr) << c.id << ": " << c.recipe->kind;
      // auditd-rule takes its rules from the finding (the paths exist only on the host);
      // pam-faillock writes fixed profiles (pam_faillock's deny defaults to 3);
      // sudoers-passwd edits the rules the finding names.
      if (c.recipe->kind != "auditd-rule" && c.recipe->kind != "pam-faillock" &&
          c.recipe->kind != "sudoers-passwd") {
        EXPECT_FALSE(c.recipe->set.empty()) << c.id;
      }
    }
  EXPECT_GE(with, 20);
  for (const char *id : {"ssh.permit-root-login", "sysctl.kernel", "fs.critical-file-permissions",
                         "accounts.password-max-age", "logging.auditd", "fs.tmp-mount-options",
                         "accounts.sudo-nopasswd", "ssh.host-key-strength"})
    EXPECT_TRUE(cat.find(id)->recipe.has_value()) << id;
}

TEST(FixCatalogue, RecipeNamingAnUnknownParameterIsACatalogueError) {
  auto r = Catalogue::parse("checks:\n"
                            "  - id: ssh.x\n    title: t\n    severity: low\n    rationale: r\n"
                            "    fix: f\n    references: [\"CIS x\"]\n"
                            "    recipe: {kind: sshd-option, set: {MaxAuthTries: \"{nope}\"}}\n",
                            "test.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("{nope}"), std::string::npos);
  EXPECT_EQ(r.error().line, 8);
}

TEST(RootFsOverlay, ReadsStatsAndListsThePlannedFiles) {
  TempRoot r;
  r.write("/etc/a.conf", "old\n");
  r.write("/etc/gone.conf", "x\n");
  r.symlink("../a.conf", "/etc/d/link.conf");
  RootFs fs(r.path());
  auto ov = std::make_shared<FsOverlay>();
  (*ov)["/etc/a.conf"] = FsOverlayEntry{false, std::string("new content\n"), 0600u, {}, {}};
  (*ov)["/etc/gone.conf"] = FsOverlayEntry{true, {}, {}, {}, {}};
  (*ov)["/etc/new.d/10-x.conf"] = FsOverlayEntry{false, std::string("x\n"), {}, {}, {}};
  fs.set_overlay(ov);
  EXPECT_EQ(*fs.read_file("/etc/a.conf"), "new content\n");
  EXPECT_EQ(*fs.read_file("/etc/d/link.conf"), "new content\n") << "through a link";
  EXPECT_EQ(fs.stat("/etc/a.conf")->mode, 0600u);
  EXPECT_EQ(fs.stat("/etc/a.conf")->size, 12u);
  EXPECT_TRUE(fs.read_file("/etc/gone.conf").error().not_found());
  EXPECT_FALSE(fs.exists("/etc/gone.conf"));
  EXPECT_TRUE(fs.exists("/etc/new.d"));
  EXPECT_EQ(*fs.read_file("/etc/new.d/10-x.conf"), "x\n");
  auto names = fs.list_dir("/etc");
  ASSERT_TRUE(names.ok());
  EXPECT_EQ(*names, (std::vector<std::string>{"a.conf", "d", "new.d"}));
  EXPECT_EQ(*fs.glob("/etc/new.d/*.conf"), std::vector<std::string>{"/etc/new.d/10-x.conf"});
  // The disk is untouched.
  EXPECT_EQ(*RootFs(r.path()).read_file("/etc/a.conf"), "old\n");
}

} // namespace
} // namespace bulwark::fix
