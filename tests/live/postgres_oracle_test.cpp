// PostgreSQL speaks for itself:
// - `postgres -C NAME --config-file=FILE -D DATA` on generated configuration
//   trees (include, include_if_exists, include_dir, postgresql.auto.conf,
//   quoting, units, name case): bulwark's effective values agree.
// - A real PostgreSQL 15 (initdb in a temporary directory, a loopback port)
//   with generated pg_hba.conf files: bulwark's parse agrees with
//   pg_hba_file_rules (rule lines, fields, error lines), and its predicted
//   first-matching rule agrees with real connection attempts from
//   127.0.0.1, ::1 and the unix socket, with and without a password.
// - The live probes against that server, a silent TCP server and one that
//   answers garbage.

#include "../wait.hpp"
#include "db_servers.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/postgres.hpp>
#include <bulwark/parse/pg_hba.hpp>
#include <bulwark/parse/postgresql_conf.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <grp.h>
#include <gtest/gtest.h>
#include <libpq-fe.h>
#include <random>
#include <thread>

using namespace bulwark;
using namespace bulwark::test;

namespace {

struct Guc {
  const char *name;
  enum Kind { integer, boolean, enumeration, string } kind;
  const char *unit; // base unit for integers
  std::vector<const char *> values;
};

const std::vector<Guc> &gucs() {
  static const std::vector<Guc> g = {
      {"shared_buffers",
       Guc::integer,
       "8kB",
       {"128MB", "'64MB'", "1GB", "'1.5MB'", "16384", "0x4000", "' 256 kB '", "'2 GB'"}},
      {"work_mem", Guc::integer, "kB", {"4MB", "'1.5MB'", "65536", "'64kB'", "2GB", "010000"}},
      {"statement_timeout",
       Guc::integer,
       "ms",
       {"0", "90s", "'1.5s'", "'1min'", "'2 h'", "500", "'1d'", "'100us'"}},
      {"authentication_timeout", Guc::integer, "s", {"60", "'1min'", "'90s'", "'1500ms'", "5min"}},
      {"log_rotation_age", Guc::integer, "min", {"'1d'", "'90s'", "60", "'2h'", "'30s'"}},
      {"max_connections", Guc::integer, "", {"100", "'50'", "0x20", "+7"}},
      {"ssl", Guc::boolean, "", {"on", "OFF", "'true'", "yes", "0", "t", "'of'", "1", "N"}},
      {"log_connections", Guc::boolean, "", {"on", "off", "TRUE", "'y'", "'no'"}},
      {"log_statement", Guc::enumeration, "", {"ddl", "'mod'", "ALL", "none", "'DDL'"}},
      {"password_encryption", Guc::enumeration, "", {"md5", "scram-sha-256", "'SCRAM-SHA-256'"}},
      {"listen_addresses",
       Guc::string,
       "",
       {"'localhost'", "'*'", "'127.0.0.1, ::1'", "localhost"}},
      {"cluster_name", Guc::string, "", {"'it''s'", "'back\\\\slash'", "'o\\'k'", "main", "'a#b'"}},
  };
  return g;
}

std::string normalize(const Guc &g, const std::string &v) {
  switch (g.kind) {
  case Guc::integer: {
    auto n = pg::parse_int(v, g.unit);
    return n ? std::to_string(*n) : "<invalid " + v + ">";
  }
  case Guc::boolean: {
    auto b = pg::parse_bool(v);
    return b ? (*b ? "on" : "off") : "<invalid " + v + ">";
  }
  case Guc::enumeration: return text::lower(v);
  case Guc::string: return v;
  }
  return v;
}

std::string trim_nl(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == '\r'))
    s.pop_back();
  return s;
}

std::string line_for(std::mt19937 &rng, const Guc &g) {
  std::string name = g.name;
  if (rng() % 3 == 0)
    for (auto &c : name)
      c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::string value = g.values[rng() % g.values.size()];
  switch (rng() % 4) {
  case 0: return name + " = " + value + "\n";
  case 1: return name + " " + value + "\n";
  case 2: return name + "=" + value + "   # comment\n";
  default: return "\t" + name + "\t=\t" + value + "\r\n";
  }
}

std::string lines(std::mt19937 &rng, int n) {
  std::string s;
  for (int i = 0; i < n; i++)
    s += line_for(rng, gucs()[rng() % gucs().size()]);
  return s;
}

} // namespace

TEST(PostgresOracle, EffectiveValuesAgreeWithPostgresC) {
  const std::string why = postgres_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  std::mt19937 rng(20261123);
  const int trees = 12;
  int compared = 0;
  for (int t = 0; t < trees; t++) {
    ServerDir d;
    std::string main = lines(rng, 3 + static_cast<int>(rng() % 4));
    main += "include 'sub/inc.conf'\n";
    main += lines(rng, static_cast<int>(rng() % 2));
    main += "include_if_exists = 'missing.conf'\n";
    main += "include_dir 'conf.d'\n";
    main += lines(rng, static_cast<int>(rng() % 3));
    d.write("main.conf", main);
    d.write("sub/inc.conf", lines(rng, 1 + static_cast<int>(rng() % 3)) +
                                (rng() % 2 ? "include 'deeper.conf'\n" : ""));
    d.write("sub/deeper.conf", lines(rng, 2));
    static const char *names[] = {"10-a.conf", "9-b.conf",        "B.conf",
                                  "a.conf",    "x.conf.disabled", ".hidden.conf"};
    for (const char *n : names)
      if (rng() % 2)
        d.write(std::string("conf.d/") + n, lines(rng, 1 + static_cast<int>(rng() % 2)));
    d.write("data/postgresql.auto.conf",
            "# Do not edit this file manually!\n" + lines(rng, static_cast<int>(rng() % 3)));
    RootFs fs("/");
    auto cfg = pg::load_postgresql_conf(fs, d.path() + "/main.conf", d.path() + "/data");
    ASSERT_FALSE(cfg.has_errors()) << cfg.diagnostics.front().message;
    int asked = 0;
    for (auto &g : gucs()) {
      const pg::Setting *s = cfg.get(g.name);
      // Each postgres -C is a process start: at most 5 per tree, those
      // decided by an included file or auto.conf first.
      if (!s || (asked >= 5) || (asked >= 3 && s->loc.path == d.path() + "/main.conf"))
        continue;
      asked++;
      auto r = run_command(as_postgres() + k_pg_bin + "/postgres -C " + g.name +
                           " --config-file=" + d.path() + "/main.conf -D " + d.path() + "/data");
      ASSERT_EQ(r.exit_code, 0) << r.err << "\n" << main;
      EXPECT_EQ(normalize(g, s->value), trim_nl(r.out))
          << g.name << " from " << s->loc.path << ":" << s->loc.line << "\n--- main.conf\n"
          << main;
      compared++;
    }
  }
  EXPECT_GT(compared, trees * 3);
  std::cout << "[ postgres -C ] " << trees << " trees, " << compared << " values compared\n";
}

TEST(PostgresOracle, SyntaxErrorsAgreeWithPostgresC) {
  const std::string why = postgres_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  const char *bad[] = {"work_mem = 1.5MB\n", "ssl = on off\n",         "= 5\n",
                       "x = 'open\n",        "ssl on # ok\nport = \n", "1a = 2\n"};
  const char *good[] = {"ssl = on\n", "search_path = '\"$user\", public'\n",
                        "my.custom_value = a-b/c:d\n", "max_connections 7\n"};
  std::vector<const char *> all(std::begin(bad), std::end(bad));
  all.insert(all.end(), std::begin(good), std::end(good));
  for (const char *text : all) {
    {
      ServerDir d;
      d.write("main.conf", text);
      d.write("data/x", "");
      auto ours = pg::parse_conf_text("main.conf", text);
      auto r = run_command(as_postgres() + k_pg_bin +
                           "/postgres -C max_connections --config-file=" + d.path() +
                           "/main.conf -D " + d.path() + "/data");
      EXPECT_EQ(ours.has_errors(), r.exit_code != 0) << text << r.err;
      if (ours.has_errors() && r.exit_code != 0) {
        EXPECT_NE(r.err.find("line " + std::to_string(ours.diagnostics[0].loc.line)),
                  std::string::npos)
            << text << r.err;
      }
    }
  }
}

namespace {

struct Conn {
  PGconn *c = nullptr;
  ~Conn() {
    if (c)
      PQfinish(c);
  }
};

// One attempt: "" when it connected, else libpq's message.
std::string attempt(const std::string &host, int port, const std::string &user,
                    const std::string &db, const std::string &password) {
  const char *keys[] = {"host",     "port",    "user",       "dbname",          "password",
                        "passfile", "sslmode", "gssencmode", "connect_timeout", nullptr};
  std::string p = std::to_string(port);
  const char *vals[] = {
      host.c_str(), p.c_str(), user.c_str(), db.c_str(), password.c_str(), "/dev/null/no-passfile",
      "disable",    "disable", "5",          nullptr};
  Conn c{PQconnectdbParams(keys, vals, 0)};
  if (PQstatus(c.c) == CONNECTION_OK)
    return "";
  std::string m = PQerrorMessage(c.c);
  return m.empty() ? "failed" : m;
}

std::string exec1(PGconn *c, const std::string &sql) {
  PGresult *r = PQexec(c, sql.c_str());
  std::string out;
  if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) > 0)
    out = PQgetisnull(r, 0, 0) ? "" : PQgetvalue(r, 0, 0);
  else if (PQresultStatus(r) != PGRES_COMMAND_OK && PQresultStatus(r) != PGRES_TUPLES_OK)
    out = "ERROR: " + std::string(PQresultErrorMessage(r));
  PQclear(r);
  return out;
}

// pg_reload_conf() only signals the postmaster. Its SIGHUP handler reloads
// the configuration, signals the backends, then loads pg_hba.conf, and it
// accepts no connection before it has returned: once this session's
// pg_conf_load_time() moves (the backend re-read the files on the
// postmaster's signal), every new connection meets the new pg_hba.conf.
// A fixed pause before connecting raced with a loaded machine.
bool reload_and_wait(PGconn *c) {
  std::string before = exec1(c, "SELECT pg_conf_load_time()");
  if (exec1(c, "SELECT pg_reload_conf()") != "t")
    return false;
  return bulwark::test::wait_for([&] { return exec1(c, "SELECT pg_conf_load_time()") != before; },
                                 5000);
}

std::string ntop(int family, const std::array<uint8_t, 16> &a) {
  char buf[INET6_ADDRSTRLEN] = {};
  inet_ntop(family, a.data(), buf, sizeof buf);
  return buf;
}

std::string tokens(const std::vector<pg::HbaToken> &ts) {
  std::string s;
  for (auto &t : ts)
    s += (s.empty() ? "" : ",") + t.text;
  return s;
}

std::string random_hba(std::mt19937 &rng, bool allow_errors) {
  static const char *types[] = {"host", "host", "hostssl", "hostnossl", "local", "local"};
  static const char *dbs[] = {"all",      "postgres", "app",         "\"all\"",
                              "sameuser", "samerole", "replication", "app,postgres"};
  static const char *users[] = {"all",      "alice",     "bob",    "+admins",
                                "postgres", "alice,bob", "\"all\""};
  static const char *addrs[] = {"127.0.0.1/32",
                                "127.0.0.0/8",
                                "::1/128",
                                "::/0",
                                "0.0.0.0/0",
                                "all",
                                "samehost",
                                "samenet",
                                "127.0.0.1 255.255.255.255",
                                "10.0.0.0/8",
                                "::ffff:127.0.0.1/128",
                                "::1 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff"};
  static const char *methods[] = {"trust", "reject", "scram-sha-256", "md5", "password"};
  std::string out = "# generated\n";
  int n = 2 + static_cast<int>(rng() % 6);
  for (int i = 0; i < n; i++) {
    std::string type = types[rng() % 6];
    std::string line = type + " " + dbs[rng() % 8] + " " + users[rng() % 7] + " ";
    if (type != "local")
      line += std::string(addrs[rng() % 12]) + " ";
    std::string m = methods[rng() % 5];
    if (rng() % 7 == 0)
      m = type == "local" ? "peer" : "ident";
    line += m;
    out += line + (rng() % 3 == 0 ? "   # comment" : "") + "\n";
  }
  if (allow_errors) {
    static const char *bad[] = {"host all all 1.2.3.4/33 md5", "host all all",
                                "hots all all all md5", "host all all ::1/128 peer",
                                "local all all gss"};
    out += std::string(bad[rng() % 5]) + "\n";
  }
  return out;
}

} // namespace

TEST(PostgresOracle, HbaRulesAndFirstMatchAgreeWithARealServer) {
  const std::string why = postgres_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  PgServer s;
  ASSERT_EQ(s.error(), "");
  std::string port = std::to_string(s.port());
  const char *admin_keys[] = {"host", "port", "user", "dbname", nullptr};
  const char *admin_vals[] = {s.socket_dir().c_str(), port.c_str(), "postgres", "postgres",
                              nullptr};
  Conn admin{PQconnectdbParams(admin_keys, admin_vals, 0)};
  ASSERT_EQ(PQstatus(admin.c), CONNECTION_OK) << PQerrorMessage(admin.c);
  for (const char *sql :
       {"SET password_encryption = 'scram-sha-256'", "CREATE ROLE admins NOLOGIN",
        "CREATE ROLE app NOLOGIN", "CREATE ROLE alice LOGIN PASSWORD 'pw-alice' IN ROLE app",
        "CREATE ROLE bob LOGIN PASSWORD 'pw-bob' IN ROLE admins",
        "ALTER ROLE postgres PASSWORD 'pw-postgres'", "CREATE DATABASE app"})
    ASSERT_EQ(exec1(admin.c, sql).rfind("ERROR", 0), std::string::npos) << sql;
  const std::map<std::string, std::string> passwords = {
      {"alice", "pw-alice"}, {"bob", "pw-bob"}, {"postgres", "pw-postgres"}};
  const std::map<std::string, std::vector<std::string>> roles = {
      {"alice", {"app"}}, {"bob", {"admins"}}, {"postgres", {}}};
  std::string os_user = ::getpwuid(::geteuid()) ? ::getpwuid(::geteuid())->pw_name : "";
  std::vector<std::string> hosts = {"127.0.0.1", s.socket_dir()};
  if (have_ipv6_loopback())
    hosts.push_back("::1");

  std::mt19937 rng(5150);
  const int files = 12;
  int attempts = 0, rows = 0;
  for (int f = 0; f < files; f++) {
    bool with_errors = f % 4 == 3;
    std::string hba = random_hba(rng, with_errors);
    s.dir().write("data/pg_hba.conf", hba);
    ASSERT_TRUE(reload_and_wait(admin.c)) << "the server did not reload";
    pg::HbaOptions opts; // the test server runs with ssl off
    opts.ssl_enabled = false;
    auto ours = pg::parse_pg_hba_text(s.data() + "/pg_hba.conf", hba, opts);

    // The file as the server parses it (pg_hba_file_rules reads the file).
    PGresult *res = PQexec(
        admin.c,
        "SELECT line_number, coalesce(type,''), coalesce(array_to_string(database, ','),''), "
        "coalesce(array_to_string(user_name, ','),''), coalesce(address,''), "
        "coalesce(netmask,''), coalesce(auth_method,''), coalesce(error,'') "
        "FROM pg_hba_file_rules ORDER BY line_number");
    ASSERT_EQ(PQresultStatus(res), PGRES_TUPLES_OK) << PQresultErrorMessage(res);
    std::set<int> server_errors, our_errors;
    std::map<int, std::string> server_rows, our_rows;
    for (int i = 0; i < PQntuples(res); i++) {
      int line = std::atoi(PQgetvalue(res, i, 0));
      if (*PQgetvalue(res, i, 7))
        server_errors.insert(line);
      if (*PQgetvalue(res, i, 1))
        server_rows[line] = std::string(PQgetvalue(res, i, 1)) + " " + PQgetvalue(res, i, 2) + " " +
                            PQgetvalue(res, i, 3) + " " + PQgetvalue(res, i, 4) + " " +
                            PQgetvalue(res, i, 5) + " " + PQgetvalue(res, i, 6);
    }
    PQclear(res);
    for (auto &d : ours.diagnostics)
      if (d.level == pg::Diagnostic::Level::error)
        our_errors.insert(d.loc.line);
    for (auto &r : ours.rules) {
      if (!r.warning.empty())
        our_errors.insert(r.loc.line);
      std::string addr, mask;
      using K = pg::HbaAddress::Kind;
      if (r.address.kind == K::mask) {
        addr = ntop(r.address.family, r.address.addr);
        mask = ntop(r.address.family, r.address.mask);
      } else if (r.address.kind != K::none) {
        addr = r.address.text;
      }
      our_rows[r.loc.line] = std::string(pg::to_string(r.type)) + " " + tokens(r.databases) + " " +
                             tokens(r.users) + " " + addr + " " + mask + " " + r.method;
      rows++;
    }
    EXPECT_EQ(our_errors, server_errors) << hba;
    EXPECT_EQ(our_rows, server_rows) << hba;
    if (with_errors)
      continue; // the server keeps its previous rules: no connection test

    for (auto &host : hosts)
      for (const std::string user : {"postgres", "alice", "bob"})
        for (const std::string db : {"postgres", "app"}) {
          pg::HbaClient c;
          c.local = host[0] == '/';
          if (!c.local)
            pg::set_client_address(c, host);
          c.database = db;
          c.user = user;
          c.roles = roles.at(user);
          int m = pg::first_match(ours, c);
          std::string method = m < 0 ? "" : ours.rules[static_cast<size_t>(m)].method;
          std::string where =
              m < 0 ? "no rule"
                    : "line " + std::to_string(ours.rules[static_cast<size_t>(m)].loc.line);
          for (bool with_pw : {false, true}) {
            bool password_method =
                method == "scram-sha-256" || method == "md5" || method == "password";
            if (with_pw && !password_method)
              continue;
            std::string got = attempt(host, s.port(), user, db, with_pw ? passwords.at(user) : "");
            attempts++;
            std::string ctx = host + " " + user + "@" + db + (with_pw ? " with password" : "") +
                              " predicted " + where + " (" + method + ")\n" + hba;
            std::string expect; // "" = connected, else a piece of libpq's message
            if (m < 0)
              expect = "no pg_hba.conf entry";
            else if (method == "trust" || (password_method && with_pw) ||
                     (method == "peer" && os_user == user))
              expect = "";
            else if (method == "reject")
              expect = "rejects connection";
            else if (password_method)
              expect = "no password supplied";
            else if (method == "peer")
              expect = "Peer authentication failed";
            else
              expect = "Ident authentication failed";
            if (expect.empty()) {
              EXPECT_EQ(got, "") << ctx;
            } else {
              EXPECT_NE(got.find(expect), std::string::npos) << got << ctx;
            }
          }
        }
  }
  std::cout << "[ pg_hba ] " << files << " files, " << rows << " rules, " << attempts
            << " connection attempts compared\n";
  EXPECT_GT(attempts, 100);

  // The live probe without a password, on the same server.
  s.dir().write("data/pg_hba.conf", "host all postgres 127.0.0.1/32 trust\n"
                                    "host all all ::1/128 scram-sha-256\n");
  ASSERT_TRUE(reload_and_wait(admin.c)) << "the server did not reload";
  auto v4 = live::pg_try_without_password("127.0.0.1", s.port());
  EXPECT_EQ(v4.result, live::PgProbeResult::Outcome::accepted) << v4.detail;
  if (have_ipv6_loopback()) {
    auto v6 = live::pg_try_without_password("::1", s.port());
    EXPECT_EQ(v6.result, live::PgProbeResult::Outcome::password_required) << v6.detail;
  }
  auto none = live::pg_try_without_password("127.0.0.1", s.port(), "alice", "app");
  EXPECT_EQ(none.result, live::PgProbeResult::Outcome::rejected) << none.detail;
  // With credentials: settings, hba rules and roles, read-only.
  auto info = live::pg_query("host=127.0.0.1 port=" + std::to_string(s.port()) +
                             " user=postgres dbname=postgres");
  ASSERT_TRUE(info.ok) << info.error;
  EXPECT_EQ(info.settings.at("port").first, std::to_string(s.port()));
  EXPECT_EQ(info.hba.size(), 2u);
  bool saw_alice = false;
  for (auto &r : info.roles)
    if (r.name == "alice") {
      saw_alice = true;
      EXPECT_TRUE(r.can_login);
      EXPECT_EQ(r.conn_limit, -1);
    }
  EXPECT_TRUE(saw_alice);
}

TEST(PostgresLive, SilentAndGarbageServersAreBoundedAndNamed) {
  {
    FakeServer silent("", true);
    auto t0 = std::chrono::steady_clock::now();
    auto r =
        live::pg_try_without_password("127.0.0.1", silent.port(), "postgres", "postgres", 1500);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    EXPECT_EQ(r.result, live::PgProbeResult::Outcome::unreachable) << r.detail;
    EXPECT_LT(std::chrono::milliseconds(ms), bulwark::test::hang_bound(std::chrono::seconds(3)));
    EXPECT_NE(r.detail.find("no answer"), std::string::npos);
  }
  {
    FakeServer garbage("HTTP/1.0 400 Bad Request\r\n\r\n\x01\x02\xff", false);
    auto t0 = std::chrono::steady_clock::now();
    auto r = live::pg_try_without_password("127.0.0.1", garbage.port());
    EXPECT_LT(std::chrono::steady_clock::now() - t0,
              bulwark::test::hang_bound(std::chrono::seconds(3)));
    EXPECT_EQ(r.result, live::PgProbeResult::Outcome::protocol_error) << r.detail;
  }
  {
    int port = free_port();
    auto r = live::pg_try_without_password("127.0.0.1", port);
    EXPECT_EQ(r.result, live::PgProbeResult::Outcome::unreachable) << r.detail;
  }
}

// Issue 16: with ssl = on, a key the postgres account cannot read, or one
// whose mode PostgreSQL refuses (check_ssl_key_file_permissions), stops the
// server at start; postgres.ssl must fail those and pass the keys the server
// loads. A real PostgreSQL 15, restarted with each key, is the judge.
TEST(PostgresOracle, SslKeyThePostgresAccountCannotLoadFailsPostgresSsl) {
  const std::string why = postgres_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root to give the key each owner";
  PgServer pg;
  ASSERT_EQ(pg.error(), "");
  struct passwd *pw = ::getpwnam("postgres");
  ASSERT_NE(pw, nullptr);
  struct group *sc = ::getgrnam("ssl-cert");
  BULWARK_REQUIRE(sc != nullptr) << "no ssl-cert group (Debian package ssl-cert)";
  struct Case {
    const char *name;
    uid_t uid;
    gid_t gid;
    mode_t mode;
  } cases[] = {
      {"root:root 0600", 0, 0, 0600},
      {"root:ssl-cert 0640", 0, sc->gr_gid, 0640},
      {"postgres 0600", pw->pw_uid, pw->pw_gid, 0600},
      {"postgres 0640", pw->pw_uid, pw->pw_gid, 0640},
      {"root:root 0644", 0, 0, 0644},
  };
  int started_count = 0;
  for (auto &c : cases) {
    SCOPED_TRACE(c.name);
    TempRoot r;
    ASSERT_EQ(::chmod(r.path().c_str(), 0755), 0);
    auto made = run_command("mkdir -p " + r.host("/etc/pgkey") + " && cd " + r.host("/etc/pgkey") +
                            " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                            "-nodes -days 30 -subj /CN=bw-pg -keyout key.pem -out cert.pem "
                            "&& chmod 755 . .. && chmod 644 cert.pem");
    ASSERT_EQ(made.exit_code, 0) << made.err;
    ASSERT_EQ(::chown(r.host("/etc/pgkey/key.pem").c_str(), c.uid, c.gid), 0);
    ASSERT_EQ(::chmod(r.host("/etc/pgkey/key.pem").c_str(), c.mode), 0);
    for (const char *f : {"/etc/passwd", "/etc/group"}) {
      std::ifstream in(f);
      r.write(f, bulwark::test::read_all(in));
    }
    r.write(
        "/etc/postgresql/15/main/postgresql.conf",
        "ssl = on\nssl_cert_file = '/etc/pgkey/cert.pem'\nssl_key_file = '/etc/pgkey/key.pem'\n");
    auto restart = run_command(
        as_postgres() + k_pg_bin + "/pg_ctl -D " + pg.data() + " -l " + pg.socket_dir() +
        "/log -w -t 20 -o \"-p " + std::to_string(pg.port()) + " -k " + pg.socket_dir() +
        " -c listen_addresses=127.0.0.1 -c fsync=off -c ssl=on -c ssl_cert_file=" +
        r.host("/etc/pgkey/cert.pem") + " -c ssl_key_file=" + r.host("/etc/pgkey/key.pem") +
        "\" restart");
    bool started = restart.exit_code == 0;
    started_count += started;
    AuditRequest req;
    req.root = r.path();
    req.only = {"postgres.ssl"};
    auto rep = run_audit(req);
    ASSERT_TRUE(rep.ok());
    ASSERT_EQ(rep->findings.size(), 1u);
    EXPECT_EQ(rep->findings[0].status, started ? Status::pass : Status::fail)
        << rep->findings[0].message << "\n"
        << restart.out << restart.err;
  }
  // Both outcomes were seen: the cases test something.
  EXPECT_GE(started_count, 1);
  EXPECT_LE(started_count, 3);
  // Leave it running for the destructor's stop.
  (void)run_command(as_postgres() + k_pg_bin + "/pg_ctl -D " + pg.data() + " -l " +
                    pg.socket_dir() + "/log -w -t 20 -o \"-p " + std::to_string(pg.port()) +
                    " -k " + pg.socket_dir() + " -c listen_addresses=127.0.0.1\" restart");
}
