// postgres.* on offline roots in Debian's cluster layout: a hardened cluster
// passes every check; each weakening fails the right check, naming the file
// and line that decided it (including included files and
// postgresql.auto.conf); first-match reachability in pg_hba.conf.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/facts.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const char *k_conf = R"(# Debian cluster 15/main, hardened
data_directory = '/var/lib/postgresql/15/main'
hba_file = '/etc/postgresql/15/main/pg_hba.conf'
listen_addresses = 'localhost,10.0.1.10'
port = 5432
max_connections = 100
ssl = on
ssl_min_protocol_version = 'TLSv1.2'
password_encryption = scram-sha-256
log_connections = on
log_disconnections = on
log_statement = 'ddl'
include_dir = 'conf.d'
ssl_ciphers = 'ECDHE+AESGCM:ECDHE+CHACHA20'
shared_preload_libraries = 'pgaudit'
pgaudit.log = 'read, write, ddl, role'
)";

const char *k_hba = R"(# TYPE DATABASE USER ADDRESS METHOD
local   all     postgres                  peer
local   all     all                       peer
host    all     all     127.0.0.1/32      scram-sha-256
host    all     all     ::1/128           scram-sha-256
hostssl app     app     10.0.1.15/32      scram-sha-256
host    all     all     0.0.0.0/0         reject
)";

const std::string k_dir = "/etc/postgresql/15/main";

struct Cluster {
  TempRoot r;
  Cluster(const std::string &conf = k_conf, const std::string &hba = k_hba) {
    r.write(k_dir + "/postgresql.conf", conf, 0640);
    r.write(k_dir + "/pg_hba.conf", hba, 0640);
    r.write("/var/lib/postgresql/15/main/server.key", "key", 0600);
    r.mkdir(k_dir + "/conf.d");
    r.write("/var/lib/postgresql/15/main/PG_VERSION", "15\n");
  }
};

std::string replace(std::string s, const std::string &from, const std::string &to) {
  auto p = s.find(from);
  if (p == std::string::npos)
    ADD_FAILURE() << "fixture has no " << from;
  else
    s.replace(p, from.size(), to);
  return s;
}

test::Findings audit(const TempRoot &r) {
  return test::audit_only(r.path(), {"postgres"});
}

Finding one(const TempRoot &r, const std::string &id) {
  return audit(r).one(id);
}

} // namespace

TEST(PostgresChecks, HardenedClusterPassesEveryCheck) {
  Cluster c;
  auto f = audit(c.r);
  EXPECT_EQ(f.by_check().size(), 13u);
  for (auto &[id, fs] : f.by_check()) {
    ASSERT_EQ(fs.size(), 1u) << id;
    EXPECT_EQ(fs[0].status, Status::pass) << id << ": " << fs[0].message;
    EXPECT_EQ(fs[0].subject, "15/main") << id;
    EXPECT_FALSE(fs[0].evidence.empty()) << id;
  }
  auto ssl = f.one("postgres.ssl").evidence[0];
  EXPECT_EQ(ssl.path, k_dir + "/postgresql.conf");
  EXPECT_EQ(ssl.line, 7);
}

TEST(PostgresChecks, NoClusterIsNotApplicable) {
  TempRoot r;
  r.mkdir("/etc");
  auto f = audit(r);
  ASSERT_EQ(f.by_check().size(), 13u) << f.dump();
  for (auto &[id, fs] : f.by_check())
    for (auto &x : fs)
      EXPECT_EQ(x.status, Status::not_applicable) << id;
}

TEST(PostgresChecks, SettingsFailWithTheirLine) {
  struct Case {
    std::string from, to, id;
    int line;
  } cases[] = {
      {"ssl = on", "ssl = off", "postgres.ssl", 7},
      {"ssl_min_protocol_version = 'TLSv1.2'", "ssl_min_protocol_version = 'TLSv1.1'",
       "postgres.ssl-min-version", 8},
      {"password_encryption = scram-sha-256", "password_encryption = md5",
       "postgres.password-encryption", 9},
      {"listen_addresses = 'localhost,10.0.1.10'", "listen_addresses = '*'",
       "postgres.listen-addresses", 4},
      {"log_statement = 'ddl'", "log_statement = none", "postgres.audit-logging", 12},
      {"log_connections = on", "log_connections = of", "postgres.audit-logging", 10},
  };
  for (auto &k : cases) {
    Cluster c(replace(k_conf, k.from, k.to));
    Finding f = one(c.r, k.id);
    EXPECT_EQ(f.status, Status::fail) << k.to << ": " << f.message;
    ASSERT_FALSE(f.evidence.empty());
    EXPECT_EQ(f.evidence[0].path, k_dir + "/postgresql.conf") << k.to;
    EXPECT_EQ(f.evidence[0].line, k.line) << k.to;
  }
}

TEST(PostgresChecks, DefaultsDecideWhenNothingIsSet) {
  Cluster c("data_directory = '/var/lib/postgresql/15/main'\n");
  auto f = audit(c.r);
  EXPECT_EQ(f.one("postgres.ssl").status, Status::fail); // default off
  EXPECT_EQ(f.one("postgres.ssl").evidence[0].line, 0);
  EXPECT_NE(f.one("postgres.ssl").message.find("default off"), std::string::npos);
  EXPECT_EQ(f.one("postgres.ssl-min-version").status, Status::pass); // TLSv1.2 since 13
  EXPECT_EQ(f.one("postgres.password-encryption").status, Status::pass);
  EXPECT_EQ(f.one("postgres.listen-addresses").status, Status::pass); // localhost
  EXPECT_EQ(f.one("postgres.connection-limits").status, Status::fail);
  EXPECT_EQ(f.one("postgres.audit-logging").status, Status::fail);
}

TEST(PostgresChecks, IncludedFileAndAutoConfOverride) {
  Cluster c;
  c.r.write(k_dir + "/conf.d/90-local.conf", "# local\nssl = off\n");
  c.r.write("/var/lib/postgresql/15/main/postgresql.auto.conf",
            "# Do not edit this file manually!\npassword_encryption = 'md5'\n");
  auto f = audit(c.r);
  ASSERT_EQ(f.one("postgres.ssl").status, Status::fail);
  EXPECT_EQ(f.one("postgres.ssl").evidence[0].path, k_dir + "/conf.d/90-local.conf");
  EXPECT_EQ(f.one("postgres.ssl").evidence[0].line, 2);
  ASSERT_EQ(f.one("postgres.password-encryption").status, Status::fail);
  EXPECT_EQ(f.one("postgres.password-encryption").evidence[0].path,
            "/var/lib/postgresql/15/main/postgresql.auto.conf");
  EXPECT_EQ(f.one("postgres.password-encryption").evidence[0].line, 2);
}

TEST(PostgresChecks, TrustForTcpIsCriticalAndLocalTrustIsAWarn) {
  {
    Cluster c(k_conf, replace(k_hba, "host    all     all     ::1/128           scram-sha-256",
                              "host    all     all     ::1/128           trust"));
    Finding f = one(c.r, "postgres.hba-no-trust");
    EXPECT_EQ(f.status, Status::fail);
    EXPECT_EQ(f.evidence[0].path, k_dir + "/pg_hba.conf");
    EXPECT_EQ(f.evidence[0].line, 5);
  }
  {
    Cluster c(k_conf, replace(k_hba, "local   all     all                       peer",
                              "local   all     all                       trust"));
    Finding f = one(c.r, "postgres.hba-no-trust");
    EXPECT_EQ(f.status, Status::warn);
    EXPECT_EQ(f.evidence[0].line, 3);
  }
}

TEST(PostgresChecks, WeakRuleShadowedByRejectPassesButWeakRuleFirstFails) {
  // trust after the catch-all reject can never be reached.
  Cluster shadowed(k_conf, std::string(k_hba) + "host all all 10.0.0.0/8 trust\n");
  Finding f = one(shadowed.r, "postgres.hba-no-trust");
  EXPECT_EQ(f.status, Status::pass) << f.message;
  ASSERT_FALSE(f.evidence.empty());
  EXPECT_EQ(f.evidence[0].line, 8);
  EXPECT_NE(f.evidence[0].context.find("line 7"), std::string::npos);
  // md5 above the scram rule for the same clients decides: a failure.
  Cluster first(k_conf, replace(k_hba, "host    all     all     127.0.0.1/32      scram-sha-256",
                                "host all all 127.0.0.0/8 md5\n"
                                "host    all     all     127.0.0.1/32      scram-sha-256"));
  Finding g = one(first.r, "postgres.hba-strong-auth");
  EXPECT_EQ(g.status, Status::fail);
  EXPECT_EQ(g.evidence[0].line, 4);
  // ... and md5 below it for the same clients is harmless.
  Cluster below(k_conf, replace(k_hba, "host    all     all     127.0.0.1/32      scram-sha-256",
                                "host    all     all     127.0.0.1/32      scram-sha-256\n"
                                "host all all 127.0.0.1/32 md5"));
  EXPECT_EQ(one(below.r, "postgres.hba-strong-auth").status, Status::pass);
}

TEST(PostgresChecks, HostsslRulesCannotMatchWithSslOff) {
  Cluster c(replace(k_conf, "ssl = on", "ssl = off"),
            replace(k_hba, "hostssl app     app     10.0.1.15/32      scram-sha-256",
                    "hostssl all     all     0.0.0.0/0         md5"));
  auto f = audit(c.r);
  EXPECT_EQ(f.one("postgres.hba-strong-auth").status, Status::pass);
  EXPECT_EQ(f.one("postgres.hba-restricted-sources").status, Status::pass);
  EXPECT_EQ(f.one("postgres.ssl").status, Status::fail);
}

TEST(PostgresChecks, RemoteRulesMustBeHostsslAndNamedSources) {
  Cluster c(k_conf, replace(k_hba, "hostssl app     app     10.0.1.15/32      scram-sha-256",
                            "host    app     app     10.0.1.15/32      scram-sha-256\n"
                            "hostssl all     all     0.0.0.0/0         scram-sha-256"));
  auto f = audit(c.r);
  ASSERT_EQ(f.one("postgres.hba-ssl-only").status, Status::fail);
  EXPECT_EQ(f.one("postgres.hba-ssl-only").evidence[0].line, 6);
  ASSERT_EQ(f.one("postgres.hba-restricted-sources").status, Status::fail);
  EXPECT_EQ(f.one("postgres.hba-restricted-sources").evidence[0].line, 7);
  EXPECT_EQ(f.one("postgres.hba-strong-auth").status, Status::pass);
}

TEST(PostgresChecks, EveryClusterIsJudgedOnItsOwn) {
  Cluster c;
  c.r.write("/etc/postgresql/16/reports/postgresql.conf",
            "data_directory = '/srv/pg16'\nssl = off\nhba_file = '/etc/postgresql/16/reports/"
            "pg_hba.conf'\n");
  c.r.write("/etc/postgresql/16/reports/pg_hba.conf", "host all all all md5\n");
  auto f = audit(c.r);
  ASSERT_EQ(f.each("postgres.ssl").size(), 2u);
  f.expect_subjects("postgres.ssl", {"15/main", "16/reports"});
  EXPECT_EQ(f.get("postgres.ssl", "15/main").status, Status::pass);
  EXPECT_EQ(f.get("postgres.ssl", "16/reports").status, Status::fail);
  const Finding &hba = f.get("postgres.hba-restricted-sources", "16/reports");
  EXPECT_EQ(hba.status, Status::fail);
  ASSERT_FALSE(hba.evidence.empty());
  EXPECT_EQ(hba.evidence[0].path, "/etc/postgresql/16/reports/pg_hba.conf");
}

TEST(PostgresChecks, BrokenFilesAreReportedWithTheirLine) {
  Cluster c(std::string(k_conf) + "log_min_duration_statement = = 5\n",
            std::string(k_hba) + "host all all 10.0.0.0/33 md5\n");
  auto f = audit(c.r);
  Finding ssl = f.one("postgres.ssl");
  EXPECT_EQ(ssl.status, Status::error);    // a pass over a broken file: fail closed
  EXPECT_EQ(ssl.evidence.back().line, 17); // the line appended after k_conf's 16
  Finding hba = f.one("postgres.hba-no-trust");
  EXPECT_EQ(hba.status, Status::error);
  EXPECT_EQ(hba.evidence.back().line, 8);
  // A missing pg_hba.conf is an error for the hba checks only.
  Cluster none;
  std::filesystem::remove(none.r.host(k_dir + "/pg_hba.conf"));
  auto g = audit(none.r);
  EXPECT_EQ(g.each("postgres.hba-no-trust").at(0).status, Status::error);
  EXPECT_EQ(g.each("postgres.ssl").at(0).status, Status::pass);
}

TEST(PostgresChecks, DebianDefaultCluster) {
  // The files of Debian 12's postgresql-15 package (pg_createcluster 15 main).
  std::string data = std::string(BULWARK_SOURCE_DIR) + "/tests/data/postgres/";
  auto slurp = [](const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return bulwark::test::read_all(in);
  };
  Cluster c(slurp(data + "debian12-postgresql.conf"), slurp(data + "debian12-pg_hba.conf"));
  auto f = audit(c.r);
  EXPECT_EQ(f.one("postgres.ssl").status, Status::pass); // ssl = on (snakeoil certificate)
  EXPECT_EQ(f.one("postgres.password-encryption").status, Status::pass); // default scram
  EXPECT_EQ(f.one("postgres.hba-no-trust").status, Status::pass);
  EXPECT_EQ(f.one("postgres.hba-strong-auth").status, Status::pass);
  EXPECT_EQ(f.one("postgres.hba-ssl-only").status, Status::pass); // loopback rules only
  EXPECT_EQ(f.one("postgres.hba-restricted-sources").status, Status::pass);
  EXPECT_EQ(f.one("postgres.listen-addresses").status, Status::pass); // localhost
  EXPECT_EQ(f.one("postgres.connection-limits").status, Status::pass);
  ASSERT_EQ(f.one("postgres.audit-logging").status, Status::fail);
  EXPECT_EQ(f.one("postgres.audit-logging").evidence[0].line, 0); // not set: defaults
}

TEST(PostgresChecks, FactsNameEveryValueWithFileAndLine) {
  Cluster c(k_conf, std::string(k_hba) + "host all all 10.0.0.0/8 trust\n");
  RootFs fs(c.r.path());
  Context ctx(fs);
  auto j = facts_postgres(ctx);
  ASSERT_EQ(j["clusters"].size(), 1u);
  auto &cl = j["clusters"][0];
  EXPECT_EQ(cl["cluster"], "15/main");
  EXPECT_EQ(cl["settings"]["ssl"]["value"], "on");
  EXPECT_EQ(cl["settings"]["ssl"]["at"], k_dir + "/postgresql.conf:7");
  ASSERT_EQ(cl["hba_rules"].size(), 7u);
  EXPECT_EQ(cl["hba_rules"][5]["reachable"], true);
  EXPECT_EQ(cl["hba_rules"][6]["reachable"], false);
  EXPECT_EQ(cl["hba_rules"][6]["shadowed_by"], k_dir + "/pg_hba.conf:7");
}
