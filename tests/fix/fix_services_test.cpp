// bulwark fix, service recipes (redis-option, postgres-option, pg-hba-rule,
// fail2ban-jail): per recipe a failing fixture root -> plan (with the real
// validators: redis-server, postgres -C, fail2ban-client -t, the pg_hba
// reader) -> apply -> the finding passes and the daemon's own checker
// accepts the fixed root -> a second plan is empty (no duplicate line) ->
// rollback restores the tree byte for byte. Plus: a value re-set later by an
// include is where the fix goes; settings that already pass are left alone;
// the guards (secrets, certificates, remote clients, md5 passwords) refuse.

#include "../live/db_servers.hpp"
#include "../support.hpp"
#include "fix_support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/fix/engine.hpp>
#include <bulwark/fix/transaction.hpp>
#include <bulwark/fix/validate.hpp>

#include <filesystem>
#include <map>

namespace bulwark::fix {
namespace {

using test::TempRoot;

// The tree as fix_support.hpp snapshots it (kind, mode, owner, content
// digest), for the rollback's byte-for-byte comparison.
using bulwark::fix::test_support::snapshot;

std::string read(const TempRoot &r, const std::string &path) {
  auto t = RootFs(r.path()).read_file(path);
  return t ? *t : "<" + t.error().message + ">";
}

Status status_of(const std::string &root, const std::string &check) {
  AuditRequest ar;
  ar.root = root;
  ar.only = {check};
  auto rep = run_audit(ar);
  EXPECT_TRUE(rep.ok());
  if (!rep || rep->findings.empty())
    return Status::error;
  Status worst = Status::pass;
  bool any = false;
  for (auto &f : rep->findings)
    if (f.check == check) {
      any = true;
      if (f.status != Status::pass)
        worst = f.status;
    }
  return any ? worst : Status::error;
}

// Plans with the real validators (no stand-in).
Result<Plan> plan_for(const TempRoot &r, const std::vector<std::string> &checks) {
  PlanRequest req;
  req.root = r.path();
  req.only = checks;
  return make_plan(req);
}

// The file as the whole plan leaves it (each action's edit carries the
// content after it and the actions before it).
std::string edit_of(const Plan &p, const std::string &path) {
  std::string out;
  for (auto &a : p.actions)
    for (auto &e : a.edits)
      if (e.path == path)
        out = e.after;
  return out;
}

// Fixture -> plan -> apply -> pass -> the validator accepts the fixed root ->
// plan again: nothing -> rollback: the tree as it was.
Plan round_trip(const TempRoot &r, const std::vector<std::string> &checks, Validator v) {
  auto original = snapshot(r.path());
  for (auto &c : checks)
    EXPECT_EQ(status_of(r.path(), c), Status::fail) << c << " must fail before the fix";
  auto plan = plan_for(r, checks);
  EXPECT_TRUE(plan.ok()) << (plan ? "" : plan.error().to_string());
  if (!plan)
    return {};
  for (auto &ref : plan->refused)
    ADD_FAILURE() << "refused " << ref.check_id << ": " << ref.reason;
  EXPECT_EQ(plan->actions.size(), checks.size());
  auto id = apply_plan(*plan);
  EXPECT_TRUE(id.ok()) << (id ? "" : id.error().to_string());
  for (auto &c : checks)
    EXPECT_EQ(status_of(r.path(), c), Status::pass) << c << " must pass after the fix";
  auto judged = validate(v, r.path(), {});
  EXPECT_TRUE(judged.ok()) << (judged ? "" : judged.error().to_string());
  if (judged) {
    EXPECT_TRUE(judged->accepted) << judged->program << ": " << judged->output;
  }
  auto fixed = snapshot(r.path());
  auto again = plan_for(r, checks);
  EXPECT_TRUE(again.ok());
  if (again) {
    EXPECT_TRUE(again->actions.empty()) << "a second run plans " << again->actions.size();
    EXPECT_TRUE(again->refused.empty());
    // Applying it is refused ("the plan changes nothing") and writes nothing.
    EXPECT_FALSE(apply_plan(*again).ok());
  }
  EXPECT_EQ(snapshot(r.path()), fixed) << "a second apply changes nothing";
  EXPECT_NE(fixed, original);
  auto back = rollback(r.path(), id ? *id : "all");
  EXPECT_TRUE(back.ok()) << (back ? "" : back.error().to_string());
  EXPECT_EQ(snapshot(r.path()), original) << "rollback must restore the tree byte for byte";
  return *plan;
}

// ---- Redis ------------------------------------------------------------------

TEST(FixRedis, WinningLineInAnIncludeIsEditedAndTheRestAppended) {
  BULWARK_REQUIRE_TOOL("redis-server") << "(Debian package redis-server)";
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  // protected-mode yes in redis.conf, re-set to no by the include after it:
  // the include's line decides, so the fix goes there. CONFIG is renamed
  // (still callable): that line becomes the removal, never a second one
  // (Redis refuses renaming a removed command).
  r.write("/etc/redis/redis.conf",
          "port 6379\n"
          "protected-mode yes\n"
          "bind 0.0.0.0 10.0.1.10\n"
          "rename-command CONFIG hidden-config\n"
          "rename-command FLUSHALL \"\"\n"
          "include /etc/redis/local.conf\n",
          0640);
  r.write("/etc/redis/local.conf", "protected-mode no\n", 0640);
  Plan plan = round_trip(r, {"redis.bind", "redis.protected-mode", "redis.dangerous-commands"},
                         Validator::redis);
  EXPECT_EQ(edit_of(plan, "/etc/redis/local.conf"), "protected-mode yes\n");
  EXPECT_EQ(edit_of(plan, "/etc/redis/redis.conf"), "port 6379\n"
                                                    "protected-mode yes\n"
                                                    "bind 127.0.0.1 -::1 10.0.1.10\n"
                                                    "rename-command CONFIG \"\"\n"
                                                    "rename-command FLUSHALL \"\"\n"
                                                    "include /etc/redis/local.conf\n"
                                                    "rename-command FLUSHDB \"\"\n"
                                                    "rename-command DEBUG \"\"\n"
                                                    "rename-command SHUTDOWN \"\"\n"
                                                    "rename-command KEYS \"\"\n");
  ASSERT_FALSE(plan.actions.empty());
  EXPECT_EQ(plan.actions[0].restart_units, std::vector<std::string>{"redis-server.service"});
}

TEST(FixRedis, AnUnsetBindIsAppendedForTheNamedInstance) {
  BULWARK_REQUIRE_TOOL("redis-server") << "(Debian package redis-server)";
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  r.write("/etc/redis/redis-cache.conf", "port 6380\n", 0640);
  Plan plan = round_trip(r, {"redis.bind"}, Validator::redis);
  EXPECT_EQ(edit_of(plan, "/etc/redis/redis-cache.conf"), "port 6380\nbind 127.0.0.1 -::1\n");
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].restart_units, std::vector<std::string>{"redis-server@cache.service"});
}

TEST(FixRedis, TheValidatorRejectsWhatRedisRejects) {
  BULWARK_REQUIRE_TOOL("redis-server") << "(Debian package redis-server)";
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  r.write("/etc/redis/redis.conf", "port 6379\n", 0640);
  auto ok = validate(Validator::redis, r.path(), {});
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_TRUE(ok->accepted) << ok->output;
  // A second removal of a removed command is fatal for Redis; so is a
  // line whose text mimics the acceptance message.
  for (const char *bad : {"rename-command KEYS \"\"\nrename-command KEYS \"\"\n",
                          "bogus \"Configured to not listen anywhere, exiting.\"\n"}) {
    auto no = validate(Validator::redis, r.path(), {{"/etc/redis/redis.conf", bad}});
    ASSERT_TRUE(no.ok()) << no.error().to_string();
    EXPECT_FALSE(no->accepted) << bad;
    EXPECT_NE(no->output.find("FATAL CONFIG FILE ERROR"), std::string::npos) << no->output;
  }
}

TEST(FixRedis, ARequirepassIsNeverInventedAndAclNamesGuardRenames) {
  TempRoot r;
  r.write("/etc/redis/redis.conf",
          "bind 127.0.0.1\n"
          "user app on >0123456789abcdef0123456789abcdef ~* +@all +config\n",
          0640);
  PlanRequest req;
  req.root = r.path();
  req.only = {"redis.authentication", "redis.dangerous-commands"};
  req.validate = [](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    return Validation{true, "test", ""};
  };
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->actions.empty());
  std::map<std::string, std::string> why;
  for (auto &ref : plan->refused)
    why[ref.check_id] = ref.reason;
  ASSERT_TRUE(why.count("redis.authentication"));
  EXPECT_NE(why["redis.authentication"].find("does not invent"), std::string::npos);
  ASSERT_TRUE(why.count("redis.dangerous-commands"));
  EXPECT_NE(why["redis.dangerous-commands"].find("+config"), std::string::npos)
      << why["redis.dangerous-commands"];
}

TEST(FixRedis, AFileRedisWouldRefuseIsNotEdited) {
  TempRoot r;
  // Redis stops at the unbalanced quote; the fix must not paper over it.
  r.write("/etc/redis/redis.conf", "protected-mode no\nlogfile \"/var/log/redis.log\n", 0640);
  PlanRequest req;
  req.root = r.path();
  req.only = {"redis.protected-mode"};
  req.validate = [](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    return Validation{true, "test", ""};
  };
  EXPECT_EQ(status_of(r.path(), "redis.protected-mode"), Status::fail);
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_NE(plan->refused[0].reason.find("redis.conf:2"), std::string::npos)
      << plan->refused[0].reason;
}

// ---- PostgreSQL -------------------------------------------------------------

constexpr const char *k_pg = "/etc/postgresql/15/main";
constexpr const char *k_data = "/var/lib/postgresql/15/main";

void write_cluster(const TempRoot &r, const std::string &conf_tail, const std::string &hba) {
  r.write(std::string(k_pg) + "/postgresql.conf",
          std::string("data_directory = '") + k_data +
              "'\n"
              "hba_file = '/etc/postgresql/15/main/pg_hba.conf'\n"
              "ident_file = '/etc/postgresql/15/main/pg_ident.conf'\n" +
              conf_tail);
  r.write(std::string(k_pg) + "/pg_hba.conf", hba);
  r.mkdir(std::string(k_pg) + "/conf.d");
  r.mkdir(k_data);
  ::chmod(r.path().c_str(), 0755); // postgres -C runs unprivileged
}

TEST(FixPostgres, ConfDWinsUnlessALaterLineOrAutoConfDecides) {
  BULWARK_REQUIRE_TOOL("postgres") << "(postgresql)";
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  // log_connections is re-set after include_dir: that line decides and is
  // edited; log_disconnections is decided by ALTER SYSTEM's file; the
  // others go to conf.d/zz-bulwark.conf. log_statement = mod already
  // passes and is not touched.
  write_cluster(r,
                "password_encryption = md5\n"
                "include_dir = 'conf.d'\n"
                "log_connections = off\n",
                "local all postgres peer\n");
  r.write(std::string(k_pg) + "/conf.d/50-local.conf", "log_statement = 'mod'\n");
  r.write(std::string(k_data) + "/postgresql.auto.conf",
          "# Do not edit this file manually!\nlog_disconnections = off\n", 0600);
  // As Debian has them: the cluster's files are the postgres account's
  // (the validator runs postgres as their owner; it refuses root).
  if (passwd *pw = ::getpwnam("postgres")) {
    for (const char *top : {"/etc/postgresql", "/var/lib/postgresql"})
      for (auto &de : std::filesystem::recursive_directory_iterator(r.host(top))) {
        ASSERT_EQ(::lchown(de.path().c_str(), pw->pw_uid, pw->pw_gid), 0) << de.path();
      }
  }
  Plan plan = round_trip(r, {"postgres.password-encryption", "postgres.audit-logging"},
                         Validator::postgres);
  EXPECT_EQ(edit_of(plan, std::string(k_pg) + "/conf.d/zz-bulwark.conf"),
            "# Written by bulwark fix: settings that win over postgresql.conf.\n"
            "password_encryption = 'scram-sha-256'\n");
  std::string main = edit_of(plan, std::string(k_pg) + "/postgresql.conf");
  EXPECT_NE(main.find("include_dir = 'conf.d'\nlog_connections = on\n"), std::string::npos) << main;
  EXPECT_EQ(edit_of(plan, std::string(k_data) + "/postgresql.auto.conf"),
            "# Do not edit this file manually!\nlog_disconnections = on\n");
  for (auto &a : plan.actions)
    for (auto &e : a.edits)
      EXPECT_EQ(e.after.find("log_statement"), std::string::npos) << e.path;
  ASSERT_FALSE(plan.actions.empty());
  EXPECT_EQ(plan.actions[0].restart_units, std::vector<std::string>{"postgresql@15-main.service"});
  // postgres -C reads the root's postgresql.auto.conf (the data directory
  // is placed too): a bad line there is the server's rejection.
  auto bad =
      validate(Validator::postgres, r.path(),
               {{std::string(k_data) + "/postgresql.auto.conf", "log_disconnections = = on\n"}});
  ASSERT_TRUE(bad.ok()) << bad.error().to_string();
  EXPECT_FALSE(bad->accepted) << bad->program;
  EXPECT_NE(bad->output.find("postgresql.auto.conf\" line 1"), std::string::npos) << bad->output;
}

// What a real PostgreSQL 15 server makes of a pg_hba.conf: its
// pg_hba_file_rules view reads the file on disk as the next reload would,
// one row a rule, `error` set for a line it would refuse. (The test server
// runs with ssl off: it notes each hostssl rule, which it keeps, in `error`.)
std::string server_hba_errors(const test::PgServer &s, const std::string &hba, int &rules) {
  s.dir().write("data/pg_hba.conf", hba);
  auto r = test::run_command(test::as_postgres() + test::k_pg_bin + "/psql -h " + s.socket_dir() +
                             " -p " + std::to_string(s.port()) +
                             " -U postgres -d postgres -AtX -c \"SELECT count(*), "
                             "count(*) FILTER (WHERE error IS NOT NULL AND error NOT LIKE "
                             "'hostssl record cannot match because SSL is disabled'), "
                             "coalesce(string_agg(line_number || ': ' || error, '; '), '') "
                             "FROM pg_hba_file_rules\"");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  auto cols = text::split(text::trim(r.out), '|', true);
  if (cols.size() != 3)
    return "unexpected psql output: " + r.out + r.err;
  rules = std::atoi(cols[0].c_str());
  return cols[1] == "0" ? "" : cols[2];
}

TEST(FixPostgres, SslNeedsItsCertificateAndListenAddressesItsClients) {
  TempRoot r;
  write_cluster(r,
                "ssl = off\n"
                "ssl_cert_file = '/etc/ssl/certs/ssl-cert-snakeoil.pem'\n"
                "ssl_key_file = '/etc/ssl/private/ssl-cert-snakeoil.key'\n"
                "listen_addresses = '*'\n",
                "local all postgres peer\nhostssl all all 10.0.1.0/24 scram-sha-256\n");
  PlanRequest req;
  req.root = r.path();
  req.only = {"postgres.ssl", "postgres.listen-addresses"};
  req.validate = [](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    return Validation{true, "test", ""};
  };
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->actions.empty());
  std::map<std::string, std::string> why;
  for (auto &ref : plan->refused)
    why[ref.check_id] = ref.reason;
  EXPECT_NE(why["postgres.ssl"].find("ssl-cert-snakeoil.pem, which does not exist"),
            std::string::npos)
      << why["postgres.ssl"];
  EXPECT_NE(why["postgres.listen-addresses"].find("pg_hba.conf:2"), std::string::npos)
      << why["postgres.listen-addresses"];
  // With the certificate in place and only local clients, both are fixed.
  r.write("/etc/ssl/certs/ssl-cert-snakeoil.pem", "cert\n");
  r.write("/etc/ssl/private/ssl-cert-snakeoil.key", "key\n", 0600);
  r.write(std::string(k_pg) + "/pg_hba.conf",
          "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n");
  auto fixed = make_plan(req);
  ASSERT_TRUE(fixed.ok());
  for (auto &ref : fixed->refused)
    ADD_FAILURE() << ref.check_id << ": " << ref.reason;
  EXPECT_EQ(fixed->actions.size(), 2u);
}

TEST(FixPgHba, MethodsAndTypesReplacedInPlaceLocalPeerKept) {
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  write_cluster(r,
                "ssl = on\n"
                "ssl_cert_file = '/etc/ssl/certs/c.pem'\n"
                "ssl_key_file = '/etc/ssl/private/c.key'\n",
                "# TYPE DATABASE USER ADDRESS METHOD\n"
                "local   all  postgres                 peer\n"
                "local   all  all                      peer\n"
                "host    all  all   127.0.0.1/32       trust\n"
                "host    app  app   10.0.1.0 255.255.255.0  md5\n"
                "hostssl all  all   10.0.2.0/24        password\n");
  r.write("/etc/ssl/certs/c.pem", "cert\n");
  r.write("/etc/ssl/private/c.key", "key\n", 0600);
  Plan plan =
      round_trip(r, {"postgres.hba-no-trust", "postgres.hba-strong-auth", "postgres.hba-ssl-only"},
                 Validator::pg_hba);
  EXPECT_EQ(read(r, std::string(k_pg) + "/pg_hba.conf"),
            "# TYPE DATABASE USER ADDRESS METHOD\n"
            "local   all  postgres                 peer\n"
            "local   all  all                      peer\n"
            "host    all  all   127.0.0.1/32       trust\n"
            "host    app  app   10.0.1.0 255.255.255.0  md5\n"
            "hostssl all  all   10.0.2.0/24        password\n")
      << "rolled back";
  EXPECT_EQ(edit_of(plan, std::string(k_pg) + "/pg_hba.conf"),
            "# TYPE DATABASE USER ADDRESS METHOD\n"
            "local   all  postgres                 peer\n"
            "local   all  all                      peer\n"
            "host    all  all   127.0.0.1/32       scram-sha-256\n"
            "hostssl    app  app   10.0.1.0 255.255.255.0  scram-sha-256\n"
            "hostssl all  all   10.0.2.0/24        scram-sha-256\n");
  // Differential: the server itself loads the fixed file without an error
  // (and refuses a broken line, so the query can tell).
  const std::string why = test::postgres_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  test::PgServer s;
  ASSERT_EQ(s.error(), "");
  int rules = 0;
  EXPECT_EQ(server_hba_errors(s, edit_of(plan, std::string(k_pg) + "/pg_hba.conf"), rules), "");
  EXPECT_EQ(rules, 5);
  EXPECT_NE(
      server_hba_errors(s, "local all postgres peer\nhost all all 10.0.0.0/8 nomethod\n", rules),
      "");
}

TEST(FixPgHba, Md5PasswordsAreNotLockedOut) {
  TempRoot r;
  write_cluster(r, "password_encryption = md5\n",
                "local all postgres peer\nhost all all 10.0.1.0/24 md5\n");
  PlanRequest req;
  req.root = r.path();
  req.only = {"postgres.hba-strong-auth"};
  req.validate = [](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    return Validation{true, "test", ""};
  };
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_NE(plan->refused[0].reason.find("password_encryption = md5"), std::string::npos)
      << plan->refused[0].reason;
  // Planned together with postgres.password-encryption, it composes.
  req.only = {"postgres.password-encryption", "postgres.hba-strong-auth"};
  auto both = make_plan(req);
  ASSERT_TRUE(both.ok());
  EXPECT_EQ(both->actions.size(), 2u);
  EXPECT_TRUE(both->refused.empty());
}

TEST(FixPgHba, TheReaderRejectsALineTheServerWouldNotLoad) {
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  write_cluster(r, "", "local all postgres peer\n");
  auto ok = validate(Validator::pg_hba, r.path(),
                     {{std::string(k_pg) + "/pg_hba.conf", "local all postgres peer\n"}});
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_TRUE(ok->accepted) << ok->output;
  auto bad =
      validate(Validator::pg_hba, r.path(),
               {{std::string(k_pg) + "/pg_hba.conf", "local all postgres peer\nhost all\n"}});
  ASSERT_TRUE(bad.ok()) << bad.error().to_string();
  EXPECT_FALSE(bad->accepted);
  EXPECT_NE(bad->output.find("pg_hba.conf:2"), std::string::npos) << bad->output;
}

// ---- fail2ban ---------------------------------------------------------------

void copy_fail2ban(const TempRoot &r) {
  std::filesystem::create_directories(r.host("/etc"));
  std::filesystem::copy("/etc/fail2ban", r.host("/etc/fail2ban"),
                        std::filesystem::copy_options::recursive |
                            std::filesystem::copy_options::copy_symlinks);
  for (auto &de : std::filesystem::directory_iterator(r.host("/etc/fail2ban/jail.d")))
    std::filesystem::remove(de.path());
  r.write("/etc/fail2ban/jail.d/defaults-debian.conf", "[sshd]\nenabled = true\n");
  r.write("/var/log/auth.log", "");
}

TEST(FixFail2ban, JailDLocalWinsAndALaterLocalIsEditedInPlace) {
  BULWARK_REQUIRE_TOOL("fail2ban-client") << "(fail2ban)";
  BULWARK_REQUIRE(std::filesystem::exists("/etc/fail2ban/jail.conf")) << "no /etc/fail2ban";
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  copy_fail2ban(r);
  r.write("/etc/fail2ban/jail.local", "[sshd]\nenabled = false\nmaxretry = 6\nbantime = 10m\n");
  // Read after jail.d/bulwark.local: its findtime decides, and is edited.
  r.write("/etc/fail2ban/jail.d/zz-site.local", "[sshd]\nfindtime = 1m\n");
  Plan plan = round_trip(
      r, {"fail2ban.sshd-jail", "fail2ban.maxretry", "fail2ban.bantime", "fail2ban.findtime"},
      Validator::fail2ban);
  EXPECT_EQ(edit_of(plan, "/etc/fail2ban/jail.d/bulwark.local"),
            "# Written by bulwark fix: jail settings read after jail.conf and jail.local.\n"
            "\n"
            "[sshd]\n"
            "enabled = true\n"
            "maxretry = 3\n"
            "bantime = 1h\n"
            "findtime = 10m\n");
  EXPECT_EQ(edit_of(plan, "/etc/fail2ban/jail.d/zz-site.local"), "[sshd]\nfindtime = 10m\n");
  EXPECT_EQ(read(r, "/etc/fail2ban/jail.local"),
            "[sshd]\nenabled = false\nmaxretry = 6\nbantime = 10m\n");
}

TEST(FixFail2ban, RightValuesAreLeftAloneAndSystemdNeedsItsModule) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[DEFAULT]\nbackend = auto\n[sshd]\nport = ssh\n"
                                     "logpath = /var/log/auth.log\n");
  r.write("/etc/fail2ban/filter.d/sshd.conf", "[Definition]\nfailregex = ^x <HOST>$\n");
  r.write("/etc/fail2ban/jail.local", "[sshd]\nenabled = true\nmaxretry = 3\nbantime = 1h\n"
                                      "findtime = 10m\n");
  PlanRequest req;
  req.root = r.path();
  req.only = {"fail2ban.sshd-jail", "fail2ban.maxretry", "fail2ban.bantime", "fail2ban.findtime",
              "fail2ban.log-source"};
  req.validate = [](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    return Validation{true, "test", ""};
  };
  // Only the log source fails (no /var/log/auth.log); the jail's right
  // values get no action, and backend = systemd is refused without
  // python3-systemd in the root.
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->actions.empty());
  ASSERT_EQ(plan->refused.size(), 1u);
  EXPECT_EQ(plan->refused[0].check_id, "fail2ban.log-source");
  EXPECT_NE(plan->refused[0].reason.find("python3-systemd"), std::string::npos);
  r.write("/usr/lib/python3/dist-packages/systemd/journal.py", "");
  auto fixed = make_plan(req);
  ASSERT_TRUE(fixed.ok());
  ASSERT_EQ(fixed->actions.size(), 1u);
  EXPECT_EQ(edit_of(*fixed, "/etc/fail2ban/jail.d/bulwark.local"),
            "# Written by bulwark fix: jail settings read after jail.conf and jail.local.\n"
            "\n"
            "[sshd]\n"
            "backend = systemd\n");
}

// ---- nginx ------------------------------------------------------------------

TEST(FixNginx, AServerLineIsEditedInPlaceAndTheDefaultGoesToAnHttpSnippet) {
  BULWARK_REQUIRE_TOOL("nginx") << "(Debian package nginx)";
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  BULWARK_REQUIRE(::geteuid() == 0) << "the validator needs a mount namespace";
  TempRoot r;
  r.mkdir("/etc/nginx/ssl");
  r.mkdir("/etc/nginx/conf.d");
  auto key = test::run_command(
      "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 -subj "
      "/CN=test -keyout " +
      r.host("/etc/nginx/ssl/k.pem") + " -out " + r.host("/etc/nginx/ssl/c.pem") + " 2>&1");
  ASSERT_EQ(key.exit_code, 0) << key.out;
  // @SECLEVEL=0 lets OpenSSL 3 negotiate what ssl_protocols lists: a.example
  // gets nginx's default (TLSv1 and TLSv1.1 among them), b.example its own.
  const std::string server = "    ssl_certificate /etc/nginx/ssl/c.pem;\n"
                             "    ssl_certificate_key /etc/nginx/ssl/k.pem;\n";
  r.write("/etc/nginx/nginx.conf", "events {}\n"
                                   "http {\n"
                                   "  access_log off;\n"
                                   "  ssl_ciphers HIGH:!aNULL:!MD5:@SECLEVEL=0;\n"
                                   "  include /etc/nginx/conf.d/*.conf;\n"
                                   "  server {\n"
                                   "    listen 443 ssl;\n"
                                   "    server_name a.example;\n" +
                                       server +
                                       "  }\n"
                                       "  server {\n"
                                       "    listen 8443 ssl;\n"
                                       "    server_name b.example;\n" +
                                       server +
                                       "    ssl_protocols TLSv1 TLSv1.2; # legacy clients\n"
                                       "  }\n"
                                       "}\n");
  Plan plan = round_trip(r, {"tls.min-version"}, Validator::nginx);
  EXPECT_EQ(edit_of(plan, "/etc/nginx/conf.d/bulwark.conf"),
            "# Written by bulwark fix: http-level settings every server inherits.\n"
            "ssl_protocols TLSv1.2 TLSv1.3;\n");
  std::string main = edit_of(plan, "/etc/nginx/nginx.conf");
  EXPECT_NE(main.find("    ssl_protocols TLSv1.2 TLSv1.3; # legacy clients\n"), std::string::npos)
      << main;
  ASSERT_EQ(plan.actions.size(), 1u);
  EXPECT_EQ(plan.actions[0].restart_units, std::vector<std::string>{"nginx.service"});
}

TEST(FixServices, ConfigsThatPassGetNoAction) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", "bind 127.0.0.1 -::1\nprotected-mode yes\n", 0640);
  write_cluster(r, "password_encryption = 'scram-sha-256'\nlog_connections = on\n",
                "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n");
  PlanRequest req;
  req.root = r.path();
  req.only = {"redis.bind", "redis.protected-mode", "postgres.password-encryption",
              "postgres.hba-no-trust", "postgres.hba-strong-auth"};
  int calls = 0;
  req.validate = [&calls](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    ++calls;
    return Validation{true, "test", ""};
  };
  for (auto &c : req.only)
    EXPECT_EQ(status_of(r.path(), c), Status::pass) << c;
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok());
  EXPECT_TRUE(plan->actions.empty());
  EXPECT_TRUE(plan->refused.empty());
  EXPECT_EQ(calls, 0);
}

} // namespace
} // namespace bulwark::fix
