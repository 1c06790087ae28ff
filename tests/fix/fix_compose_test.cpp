// bulwark fix, compose overrides (compose-override: container.no-new-privileges,
// container.cap-drop-all): per way a deployment names its files (Compose's
// default names, a deploy script's -f list, COMPOSE_FILE in .env, a systemd
// unit's ExecStart=, docker stack deploy -c) a failing fixture root -> plan
// with the real validator (docker-compose 1.29's `config` over the merged
// file set) -> apply -> the findings pass -> Debian's docker-compose, run on
// the fixed files, merges the settings into every fixed service -> a second
// plan changes nothing -> rollback restores the tree byte for byte. Plus the
// services left alone (root, privileged, no-new-privileges:false, a swarm
// stack) and a docker-compose.bulwark.yml that is not ours.

#include "../support.hpp"
#include "fix_support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/fix/ansible.hpp>
#include <bulwark/fix/engine.hpp>
#include <bulwark/fix/transaction.hpp>

#include <algorithm>

namespace bulwark::fix {
namespace {

using test::TempRoot;
using test_support::action_of;
using test_support::snapshot;
using test_support::tree_diff;

const char *k_nnp = "container.no-new-privileges";
const char *k_cap = "container.cap-drop-all";

std::string read(const TempRoot &r, const std::string &path) {
  auto t = RootFs(r.path()).read_file(path);
  return t ? *t : "<" + t.error().message + ">";
}

// Each subject's status of `check` in a fresh audit.
// Each subject's status (looked up with at(): a missing finding throws and
// fails the test, never reads as a default-constructed pass).
std::map<std::string, Status> statuses(const std::string &root, const std::string &check) {
  AuditRequest ar;
  ar.root = root;
  ar.only = {check};
  auto rep = run_audit(ar);
  EXPECT_TRUE(rep.ok());
  std::map<std::string, Status> out;
  if (rep)
    for (auto &f : rep->findings)
      if (f.check == check)
        out[f.subject] = f.status;
  return out;
}

Result<Plan> plan_for(const std::string &root, const std::vector<std::string> &checks) {
  PlanRequest req;
  req.root = root;
  req.only = checks;
  return make_plan(req);
}

// Debian's docker-compose on the fixed files, from `dir` inside the root
// (`args`: its -f list, or "" to let it read COMPOSE_FILE from .env).
test::RunResult compose_config(const TempRoot &r, const std::string &dir, const std::string &args) {
  return test::run_command("cd '" + r.host(dir) + "' && docker-compose " + args + " config");
}

// The service's block of `docker-compose config` output (up to the next
// service at the same indentation).
std::string service_block(const std::string &config, const std::string &service) {
  auto at = config.find("\n  " + service + ":\n");
  if (at == std::string::npos)
    return "";
  auto end = config.find("\n  ", at + 4);
  while (end != std::string::npos && end + 3 < config.size() && config[end + 3] == ' ')
    end = config.find("\n  ", end + 3);
  return config.substr(at, end == std::string::npos ? std::string::npos : end - at);
}

// Expected: `fixed` subjects pass after the apply, `left` still fail and are
// refused by a second plan, which changes nothing; rollback restores the tree.
struct Expect {
  std::vector<std::string> checks;
  std::map<std::string, std::vector<std::string>> fixed; // check -> subjects
  std::map<std::string, std::vector<std::string>> left;
};

Plan round_trip(const TempRoot &r, const Expect &x,
                const std::function<void(const Plan &)> &check_fixed) {
  auto original = snapshot(r.path());
  for (auto &c : x.checks) {
    auto st = statuses(r.path(), c);
    for (auto &s : x.fixed.at(c))
      EXPECT_EQ(st.at(s), Status::fail) << c << " " << s << " must fail before the fix";
  }
  auto plan = plan_for(r.path(), x.checks);
  EXPECT_TRUE(plan.ok()) << (plan ? "" : plan.error().to_string());
  if (!plan)
    return {};
  for (auto &ref : plan->refused)
    ADD_FAILURE() << "refused " << ref.check_id << ": " << ref.reason;
  EXPECT_EQ(plan->actions.size(), x.checks.size());
  for (auto &a : plan->actions) {
    auto want = x.fixed.at(a.check_id);
    auto got = a.subjects;
    std::sort(want.begin(), want.end());
    std::sort(got.begin(), got.end());
    EXPECT_EQ(got, want) << a.check_id;
    EXPECT_EQ(a.validators, std::vector<Validator>{Validator::compose});
  }
  auto id = apply_plan(*plan);
  EXPECT_TRUE(id.ok()) << (id ? "" : id.error().to_string());
  for (auto &c : x.checks) {
    auto st = statuses(r.path(), c);
    for (auto &s : x.fixed.at(c))
      EXPECT_EQ(st.at(s), Status::pass) << c << " " << s << " must pass after the fix";
    if (x.left.count(c)) {
      for (auto &s : x.left.at(c))
        EXPECT_EQ(st.at(s), Status::fail) << c << " " << s << " is left alone";
    }
  }
  check_fixed(*plan);
  auto fixed = snapshot(r.path());
  auto again = plan_for(r.path(), x.checks);
  EXPECT_TRUE(again.ok());
  if (again) {
    EXPECT_TRUE(again->actions.empty()) << "a second run plans " << again->actions.size();
    // What was left is refused again, with the reason, and nothing else.
    for (auto &ref : again->refused)
      EXPECT_TRUE(x.left.count(ref.check_id)) << ref.check_id << ": " << ref.reason;
    EXPECT_FALSE(apply_plan(*again).ok());
  }
  EXPECT_EQ(snapshot(r.path()), fixed) << "a second run changes nothing";
  EXPECT_NE(fixed, original);
  auto back = rollback(r.path(), id ? *id : "all");
  EXPECT_TRUE(back.ok()) << (back ? "" : back.error().to_string());
  auto restored = snapshot(r.path());
  EXPECT_TRUE(restored == original) << "rollback must restore the tree byte for byte:\n"
                                    << tree_diff(original, restored);
  return *plan;
}

#define REQUIRE_COMPOSE()                                                                          \
  BULWARK_REQUIRE_TOOL("docker-compose") << "(Debian package docker-compose)";                     \
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace"

// Compose's default names: COMPOSE_FILE goes into the project's .env (made
// here). app runs as a user: both settings; db (postgres, root) only
// no-new-privileges; the refusal names why.
TEST(FixCompose, DefaultFilesGetComposeFileInDotEnv) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/srv/shop/docker-compose.yml", "services:\n"
                                          "  app:\n"
                                          "    image: example/app:1.2\n"
                                          "    user: \"1000:1000\"\n"
                                          "    cap_add: [NET_BIND_SERVICE]\n"
                                          "    security_opt: [\"apparmor:docker-default\"]\n"
                                          "  db:\n"
                                          "    image: postgres:16-alpine\n");
  r.write("/srv/shop/docker-compose.override.yml", "services:\n"
                                                   "  app:\n"
                                                   "    environment:\n"
                                                   "      MODE: dev\n");
  Expect x{{k_nnp, k_cap},
           {{k_nnp, {"shop/app", "shop/db"}}, {k_cap, {"shop/app"}}},
           {{k_cap, {"shop/db"}}}};
  round_trip(r, x, [&](const Plan &plan) {
    const Action *cap = action_of(plan, k_cap);
    ASSERT_NE(cap, nullptr);
    EXPECT_NE(cap->summary.find("shop/db (runs as the image's user"), std::string::npos)
        << cap->summary;
    EXPECT_EQ(read(r, "/srv/shop/.env"),
              "# bulwark fix: the project's files, with its security override last\n"
              "COMPOSE_FILE=docker-compose.yml:docker-compose.override.yml:"
              "docker-compose.bulwark.yml\n");
    // docker-compose reads COMPOSE_FILE from .env and merges the three.
    auto cfg = compose_config(r, "/srv/shop", "");
    ASSERT_EQ(cfg.exit_code, 0) << cfg.err;
    std::string app = service_block(cfg.out, "app"), db = service_block(cfg.out, "db");
    EXPECT_NE(app.find("no-new-privileges:true"), std::string::npos) << cfg.out;
    EXPECT_NE(app.find("apparmor:docker-default"), std::string::npos) << "kept: " << cfg.out;
    EXPECT_NE(app.find("- ALL"), std::string::npos) << cfg.out;
    EXPECT_NE(app.find("NET_BIND_SERVICE"), std::string::npos) << "cap_add kept: " << cfg.out;
    EXPECT_NE(app.find("MODE: dev"), std::string::npos) << "the override still merges";
    EXPECT_NE(db.find("no-new-privileges:true"), std::string::npos) << cfg.out;
    EXPECT_EQ(db.find("cap_drop"), std::string::npos) << "root service left alone: " << cfg.out;
  });
}

// A deploy script: every command naming the set gets the override after its
// last -f (a continuation line, a second command on one line, --file=).
TEST(FixCompose, DeployScriptCommandsNameTheOverrideLast) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/opt/web/docker-compose.yml", "services:\n"
                                         "  web:\n"
                                         "    image: nginx:1.25-alpine\n"
                                         "    user: nginx\n");
  r.write("/opt/web/docker-compose.prod.yml", "services:\n"
                                              "  worker:\n"
                                              "    image: example/worker:3\n"
                                              "    user: \"999\"\n");
  std::string script = "#!/bin/sh\n"
                       "set -e\n"
                       "cd /opt/web\n"
                       "docker compose -f docker-compose.yml --file=docker-compose.prod.yml pull\n"
                       "docker compose -f docker-compose.yml \\\n"
                       "  -f docker-compose.prod.yml up -d && docker compose -f "
                       "docker-compose.yml -f docker-compose.prod.yml ps\n";
  r.write("/opt/web/deploy.sh", script, 0755);
  Expect x{
      {k_nnp, k_cap}, {{k_nnp, {"web/web", "web/worker"}}, {k_cap, {"web/web", "web/worker"}}}, {}};
  round_trip(r, x, [&](const Plan &) {
    EXPECT_EQ(read(r, "/opt/web/deploy.sh"),
              "#!/bin/sh\n"
              "set -e\n"
              "cd /opt/web\n"
              "docker compose -f docker-compose.yml --file=docker-compose.prod.yml "
              "--file=docker-compose.bulwark.yml pull\n"
              "docker compose -f docker-compose.yml \\\n"
              "  -f docker-compose.prod.yml -f docker-compose.bulwark.yml up -d && docker "
              "compose -f docker-compose.yml -f docker-compose.prod.yml -f "
              "docker-compose.bulwark.yml ps\n");
    auto cfg = compose_config(
        r, "/opt/web",
        "-f docker-compose.yml -f docker-compose.prod.yml -f docker-compose.bulwark.yml");
    ASSERT_EQ(cfg.exit_code, 0) << cfg.err;
    for (const char *svc : {"web", "worker"}) {
      std::string b = service_block(cfg.out, svc);
      EXPECT_NE(b.find("no-new-privileges:true"), std::string::npos) << svc << cfg.out;
      EXPECT_NE(b.find("- ALL"), std::string::npos) << svc << cfg.out;
    }
    struct stat st;
    ASSERT_EQ(::stat(r.host("/opt/web/deploy.sh").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0755u) << "the script keeps its mode";
  });
}

// COMPOSE_FILE in .env: the override appended before the comment, with the
// project's own separator.
TEST(FixCompose, ComposeFileInDotEnvIsExtended) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/srv/api/base.yml", "services:\n"
                               "  api:\n"
                               "    image: example/api:2\n"
                               "    user: \"1001\"\n");
  r.write("/srv/api/extra.yml", "services:\n"
                                "  api:\n"
                                "    environment: [A=1]\n");
  r.write("/srv/api/docker-compose.yml", "services:\n"
                                         "  unused:\n"
                                         "    image: example/unused:1\n");
  r.write("/srv/api/.env",
          "DB_PASSWORD=hunter2\n"
          "COMPOSE_PATH_SEPARATOR=;\n"
          "COMPOSE_FILE=base.yml;extra.yml # prod\n",
          0600);
  Expect x{{k_nnp}, {{k_nnp, {"api/api"}}}, {}};
  round_trip(r, x, [&](const Plan &plan) {
    // The playbook sets the one line; the .env's secrets never enter it.
    std::string pb = render_ansible(plan);
    EXPECT_NE(pb.find("ansible.builtin.lineinfile"), std::string::npos) << pb;
    EXPECT_EQ(pb.find("hunter2"), std::string::npos) << pb;
    struct stat st;
    ASSERT_EQ(::stat(r.host("/srv/api/.env").c_str(), &st), 0);
    EXPECT_EQ(st.st_mode & 07777, 0600u) << ".env keeps its mode";
    EXPECT_EQ(read(r, "/srv/api/.env"),
              "DB_PASSWORD=hunter2\n"
              "COMPOSE_PATH_SEPARATOR=;\n"
              "COMPOSE_FILE=base.yml;extra.yml;docker-compose.bulwark.yml "
              "# prod\n");
    auto cfg = compose_config(r, "/srv/api", "");
    ASSERT_EQ(cfg.exit_code, 0) << cfg.err;
    EXPECT_NE(service_block(cfg.out, "api").find("no-new-privileges:true"), std::string::npos)
        << cfg.out;
    EXPECT_EQ(cfg.out.find("unused"), std::string::npos) << "COMPOSE_FILE decides: " << cfg.out;
  });
}

// The printed plan shows the .env's diff with its values hidden (its
// context lines would otherwise put the project's passwords into a terminal
// or a CI log); Compose's own COMPOSE_* settings stay readable.
TEST(FixCompose, PrintedPlanHidesTheDotEnvValues) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/srv/api/base.yml", "services:\n"
                               "  api:\n"
                               "    image: example/api:2\n");
  r.write("/srv/api/docker-compose.yml", "services:\n"
                                         "  unused:\n"
                                         "    image: example/unused:1\n");
  r.write("/srv/api/.env",
          "DB_PASSWORD=hunter2\n"
          "export API_TOKEN = tok-3141\n"
          "COMPOSE_FILE=base.yml\n",
          0600);
  for (const char *format : {"text", "json"}) {
    auto plan = test::run_command(std::string(BULWARK_BINARY) + " fix --root '" + r.path() +
                                  "' --only " + k_nnp + " --format " + format);
    EXPECT_NE(plan.out.find("COMPOSE_FILE=base.yml"), std::string::npos) << format << plan.out;
    EXPECT_NE(plan.out.find("docker-compose.bulwark.yml"), std::string::npos)
        << format << plan.out << plan.err;
    EXPECT_NE(plan.out.find("DB_PASSWORD=(hidden)"), std::string::npos) << format << plan.out;
    EXPECT_EQ(plan.out.find("hunter2"), std::string::npos) << format << plan.out;
    EXPECT_EQ(plan.out.find("tok-3141"), std::string::npos) << format << plan.out;
  }
}

// A systemd unit's ExecStart=: edited in place, the unit named for restart.
TEST(FixCompose, SystemdUnitExecStartIsEdited) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/srv/vpn/compose.yaml", "services:\n"
                                   "  vpn:\n"
                                   "    image: example/vpn:1\n"
                                   "    cap_add: [NET_ADMIN]\n");
  r.write("/etc/systemd/system/vpn-stack.service",
          "[Unit]\nDescription=VPN stack\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\n"
          "WorkingDirectory=/srv/vpn\n"
          "ExecStart=/usr/bin/docker compose -f /srv/vpn/compose.yaml up -d\n"
          "ExecStop=/usr/bin/docker compose -f /srv/vpn/compose.yaml down\n\n"
          "[Install]\nWantedBy=multi-user.target\n");
  Expect x{{k_nnp}, {{k_nnp, {"vpn/vpn"}}}, {}};
  auto plan = round_trip(r, x, [&](const Plan &) {
    std::string unit = read(r, "/etc/systemd/system/vpn-stack.service");
    EXPECT_NE(unit.find("ExecStart=/usr/bin/docker compose -f /srv/vpn/compose.yaml -f "
                        "/srv/vpn/docker-compose.bulwark.yml up -d\n"),
              std::string::npos)
        << unit;
    auto cfg = compose_config(r, "/srv/vpn", "-f compose.yaml -f docker-compose.bulwark.yml");
    ASSERT_EQ(cfg.exit_code, 0) << cfg.err;
    EXPECT_NE(service_block(cfg.out, "vpn").find("no-new-privileges:true"), std::string::npos);
  });
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].restart_units, std::vector<std::string>{"vpn-stack.service"});
}

// docker stack deploy ignores security_opt: no-new-privileges is refused
// with where it belongs; cap_drop (which a stack honours) is added with -c.
TEST(FixCompose, StackDeployRefusesSecurityOptAndTakesCapDrop) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/srv/swarm/docker-compose.yml", "services:\n"
                                           "  app:\n"
                                           "    image: example/app:1\n"
                                           "    user: \"1000\"\n");
  r.write("/srv/swarm/deploy.sh",
          "#!/bin/bash\ndocker stack deploy -c docker-compose.yml --with-registry-auth app\n",
          0755);
  auto nnp = plan_for(r.path(), {k_nnp});
  ASSERT_TRUE(nnp.ok());
  EXPECT_TRUE(nnp->actions.empty());
  ASSERT_EQ(nnp->refused.size(), 1u);
  EXPECT_NE(nnp->refused[0].reason.find("daemon.json"), std::string::npos)
      << nnp->refused[0].reason;
  Expect x{{k_cap}, {{k_cap, {"swarm/app"}}}, {}};
  round_trip(r, x, [&](const Plan &) {
    EXPECT_EQ(read(r, "/srv/swarm/deploy.sh"),
              "#!/bin/bash\ndocker stack deploy -c docker-compose.yml -c "
              "docker-compose.bulwark.yml --with-registry-auth app\n");
  });
}

// What is left alone: a service that turns no-new-privileges off, a
// privileged one, and a docker-compose.bulwark.yml someone else wrote.
TEST(FixCompose, DeliberateSettingsAndForeignOverrideAreLeftAlone) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/srv/mix/docker-compose.yml", "services:\n"
                                         "  legacy:\n"
                                         "    image: example/legacy:1\n"
                                         "    user: \"1000\"\n"
                                         "    security_opt: [\"no-new-privileges:false\"]\n"
                                         "    privileged: true\n");
  auto before = snapshot(r.path());
  for (const char *c : {k_nnp, k_cap}) {
    auto p = plan_for(r.path(), {c});
    ASSERT_TRUE(p.ok());
    EXPECT_TRUE(p->actions.empty()) << c;
    ASSERT_EQ(p->refused.size(), 1u) << c;
    EXPECT_NE(
        p->refused[0].reason.find(c == k_nnp ? "turns no-new-privileges off" : "runs privileged"),
        std::string::npos)
        << p->refused[0].reason;
  }
  TempRoot o;
  o.write("/srv/own/docker-compose.yml", "services:\n  app:\n    image: example/app:1\n");
  o.write("/srv/own/docker-compose.bulwark.yml", "services: {}\n");
  auto p = plan_for(o.path(), {k_nnp});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->actions.empty());
  ASSERT_EQ(p->refused.size(), 1u);
  EXPECT_NE(p->refused[0].reason.find("not written by bulwark fix"), std::string::npos)
      << p->refused[0].reason;
  EXPECT_EQ(snapshot(r.path()), before);
}

// A deploy script that names its files through a variable may deploy
// something else than Compose's default names: COMPOSE_FILE in .env would
// not reach it (its -f wins), so the fix is refused and nothing written.
TEST(FixCompose, VariableFileListInDeployScriptIsRefused) {
  REQUIRE_COMPOSE();
  TempRoot r;
  r.write("/srv/var/docker-compose.yml", "services:\n  app:\n    image: example/app:1\n");
  r.write("/srv/var/deploy.sh", "#!/bin/sh\ndocker compose -f \"$STACK_FILE\" up -d\n", 0755);
  auto before = snapshot(r.path());
  auto p = plan_for(r.path(), {k_nnp});
  ASSERT_TRUE(p.ok());
  EXPECT_TRUE(p->actions.empty());
  ASSERT_EQ(p->refused.size(), 1u);
  EXPECT_NE(p->refused[0].reason.find("/srv/var/deploy.sh:2 names compose files through a shell "
                                      "variable"),
            std::string::npos)
      << p->refused[0].reason;
  EXPECT_EQ(snapshot(r.path()), before);
}

} // namespace
} // namespace bulwark::fix
