// pg_hba.conf: hba.c's tokens and records, first-match selection and the
// reachability the checks rely on. The same rules are compared with a real
// server's pg_hba_file_rules and connection attempts in
// tests/live/postgres_oracle_test.cpp.

#include "../support.hpp"

#include <bulwark/parse/pg_hba.hpp>

#include <arpa/inet.h>
#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

pg::HbaClient tcp(const std::string &ip, const std::string &db, const std::string &user) {
  pg::HbaClient c;
  pg::set_client_address(c, ip);
  c.database = db;
  c.user = user;
  return c;
}

} // namespace

TEST(PgHba, RecordTypesAddressesAndOptions) {
  auto f = pg::parse_pg_hba_text("/h", "# comment\n"
                                       "local all postgres peer\n"
                                       "host all all 127.0.0.1/32 scram-sha-256\n"
                                       "host all all 10.0.0.0 255.0.0.0 md5\n"
                                       "hostssl app app ::1/128 cert clientcert=verify-full\n"
                                       "hostnossl all all samehost reject\n"
                                       "hostgssenc all all samenet gss\n"
                                       "hostnogssenc all all all trust\n"
                                       "host all all .example.com scram-sha-256\n"
                                       "host all all db.example.com scram-sha-256 # c\n");
  ASSERT_TRUE(f.diagnostics.empty()) << f.diagnostics.front().message;
  ASSERT_EQ(f.rules.size(), 9u);
  EXPECT_EQ(f.rules[0].type, pg::ConnType::local);
  EXPECT_EQ(f.rules[1].address.prefix, 32);
  EXPECT_EQ(f.rules[2].address.prefix, 8);
  EXPECT_EQ(f.rules[2].address.text, "10.0.0.0 255.0.0.0");
  EXPECT_EQ(f.rules[3].address.family, AF_INET6);
  EXPECT_EQ(f.rules[3].options.at(0),
            (std::pair<std::string, std::string>{"clientcert", "verify-full"}));
  EXPECT_EQ(f.rules[4].address.kind, pg::HbaAddress::Kind::samehost);
  EXPECT_EQ(f.rules[5].address.kind, pg::HbaAddress::Kind::samenet);
  EXPECT_EQ(f.rules[6].address.kind, pg::HbaAddress::Kind::all);
  EXPECT_EQ(f.rules[7].address.kind, pg::HbaAddress::Kind::hostname);
  EXPECT_EQ(f.rules[8].loc.line, 10);
  EXPECT_EQ(f.rules[8].rule_number, 9);
}

TEST(PgHba, BadLinesAreErrorsWithTheirLine) {
  auto f = pg::parse_pg_hba_text("/h", "hots all all 1.2.3.4/32 md5\n"
                                       "host all all 1.2.3.4/33 md5\n"
                                       "host all all 1.2.3.4 md5\n"
                                       "host all all 1.2.3.4/32 md6\n"
                                       "host all all 1.2.3.4/32 peer\n"
                                       "host all\n"
                                       "host all all example.com/24 md5\n"
                                       "host all all 1.2.3.4/32 md5 noequals\n"
                                       "host all all 1.2.3.4/32 cert\n"
                                       "host all all ::1 255.255.255.255 md5\n"
                                       "local,host all all trust\n"
                                       "host all all 10.0.0.0/8 scram-sha-256\n");
  ASSERT_EQ(f.diagnostics.size(), 11u);
  for (int i = 0; i < 11; i++)
    EXPECT_EQ(f.diagnostics[static_cast<size_t>(i)].loc.line, i + 1)
        << f.diagnostics[static_cast<size_t>(i)].message;
  ASSERT_EQ(f.rules.size(), 1u);
  EXPECT_EQ(f.rules[0].rule_number, 1);
}

TEST(PgHba, QuotedAllIsALiteralNameAndListsSplitAtCommas) {
  auto f = pg::parse_pg_hba_text("/h", "host \"all\" \"a b\",\"x\"\"y\",plain 127.0.0.1/32 trust\n"
                                       "host ALL all 127.0.0.1/32 md5\n");
  ASSERT_EQ(f.rules.size(), 2u);
  ASSERT_EQ(f.rules[0].databases.size(), 1u);
  EXPECT_TRUE(f.rules[0].databases[0].quoted);
  EXPECT_EQ(f.rules[0].users[1].text, "x\"y");
  EXPECT_EQ(f.rules[0].users[0].text, "a b");
  // "all" quoted matches only a database named all; ALL is not a keyword either.
  EXPECT_EQ(pg::first_match(f, tcp("127.0.0.1", "app", "plain")), -1);
  EXPECT_EQ(pg::first_match(f, tcp("127.0.0.1", "all", "plain")), 0);
  EXPECT_EQ(pg::first_match(f, tcp("127.0.0.1", "ALL", "someone")), 1);
}

TEST(PgHba, AtFileIsReadRelativeToTheHbaFile) {
  TempRoot r;
  r.write("/etc/postgresql/15/main/pg_hba.conf", "host all @admins 10.0.0.0/8 scram-sha-256\n");
  r.write("/etc/postgresql/15/main/admins", "alice, bob\n# comment\ncarol\n");
  RootFs fs(r.path());
  auto f = pg::load_pg_hba(fs, "/etc/postgresql/15/main/pg_hba.conf");
  ASSERT_EQ(f.rules.size(), 1u);
  std::vector<std::string> users;
  for (auto &t : f.rules[0].users)
    users.push_back(t.text);
  EXPECT_EQ(users, (std::vector<std::string>{"alice", "bob", "carol"}));
  // A missing @file only logs; its names match nothing.
  r.write("/etc/postgresql/15/main/pg_hba.conf", "host all @nobody,dave 10.0.0.0/8 md5\n");
  auto g = pg::load_pg_hba(fs, "/etc/postgresql/15/main/pg_hba.conf");
  ASSERT_EQ(g.rules.size(), 1u);
  EXPECT_EQ(g.rules[0].users.size(), 1u);
  EXPECT_EQ(g.diagnostics.at(0).level, pg::Diagnostic::Level::warning);
}

TEST(PgHba, AtFileLoopIsBounded) {
  TempRoot r;
  r.write("/h", "host all @a 10.0.0.0/8 md5\n");
  r.write("/a", "x @a\n");
  RootFs fs(r.path());
  auto f = pg::load_pg_hba(fs, "/h");
  ASSERT_EQ(f.rules.size(), 1u);
  EXPECT_FALSE(f.diagnostics.empty());
}

TEST(PgHba, FirstMatchWinsAndFamiliesNeverMix) {
  auto f = pg::parse_pg_hba_text("/h", "host all all 127.0.0.1/32 scram-sha-256\n"
                                       "host all all 0.0.0.0/0 md5\n"
                                       "host replication all 127.0.0.1/32 trust\n"
                                       "host all all ::0/0 reject\n");
  EXPECT_EQ(pg::first_match(f, tcp("127.0.0.1", "db", "u")), 0);
  EXPECT_EQ(pg::first_match(f, tcp("192.0.2.1", "db", "u")), 1);
  // An IPv4-mapped IPv6 client is IPv6: no IPv4 rule matches it.
  EXPECT_EQ(pg::first_match(f, tcp("::ffff:127.0.0.1", "db", "u")), 3);
  // `all` does not match a physical replication connection.
  auto rep = tcp("127.0.0.1", "replication", "u");
  rep.replication = true;
  EXPECT_EQ(pg::first_match(f, rep), 2);
  pg::HbaClient local;
  local.local = true;
  local.database = local.user = "postgres";
  EXPECT_EQ(pg::first_match(f, local), -1);
}

TEST(PgHba, GroupsSameuserAndSamerole) {
  auto f = pg::parse_pg_hba_text("/h", "host sameuser all 10.0.0.0/8 scram-sha-256\n"
                                       "host samerole +admins 10.0.0.0/8 scram-sha-256\n"
                                       "host all \"+admins\" 10.0.0.0/8 md5\n");
  auto c = tcp("10.1.2.3", "alice", "alice");
  EXPECT_EQ(pg::first_match(f, c), 0);
  c.database = "admins";
  c.roles = {"admins"};
  EXPECT_EQ(pg::first_match(f, c), 1);
  c.database = "other";
  c.user = "+admins";
  c.roles.clear();
  EXPECT_EQ(pg::first_match(f, c), 2);
}

TEST(PgHba, ReachabilityShadowingAndSslOff) {
  pg::HbaOptions opts;
  opts.ssl_enabled = false;
  auto f =
      pg::parse_pg_hba_text("/h",
                            "host all all 0.0.0.0/0 reject\n"      // 0
                            "host all all 10.0.0.0/8 trust\n"      // 1: shadowed by 0
                            "host app app ::1/128 md5\n"           // 2: reachable, weak
                            "host app app ::1/128 scram-sha-256\n" // 3: shadowed by 2
                            "hostssl all all ::/0 scram-sha-256\n" // 4: never (ssl off)
                            "hostnossl all all ::/0 md5\n"         // 5: reachable
                            "host db1,db2 all ::/0 md5\n"          // 6: shadowed by 5
                            "host replication all ::/0 trust\n", // 7: all never covers replication
                            opts);
  ASSERT_EQ(f.rules.size(), 8u);
  EXPECT_EQ(pg::shadowed_by(f, 0, opts), -1);
  EXPECT_EQ(pg::shadowed_by(f, 1, opts), 0);
  EXPECT_EQ(pg::shadowed_by(f, 2, opts), -1);
  EXPECT_EQ(pg::shadowed_by(f, 3, opts), 2);
  EXPECT_EQ(pg::shadowed_by(f, 4, opts), -2);
  EXPECT_EQ(pg::shadowed_by(f, 5, opts), -1);
  EXPECT_EQ(pg::shadowed_by(f, 6, opts), 5);
  EXPECT_EQ(pg::shadowed_by(f, 7, opts), -1);
  EXPECT_FALSE(f.rules[4].warning.empty());
  // With ssl on, hostnossl no longer covers every host connection.
  opts.ssl_enabled = true;
  auto g =
      pg::parse_pg_hba_text("/h", "hostnossl all all ::/0 md5\nhost all all ::/0 trust\n", opts);
  EXPECT_EQ(pg::shadowed_by(g, 1, opts), -1);
}

TEST(PgHba, IncludeDirectivesAndContinuationFromVersion16) {
  TempRoot r;
  r.write("/h", "include more.conf\nhost all all \\\n  10.0.0.0/8 md5\n");
  r.write("/more.conf", "local all all peer\n");
  RootFs fs(r.path());
  pg::HbaOptions v16;
  v16.major_version = 16;
  auto f = pg::load_pg_hba(fs, "/h", v16);
  ASSERT_EQ(f.rules.size(), 2u) << (f.diagnostics.empty() ? "" : f.diagnostics[0].message);
  EXPECT_EQ(f.rules[0].loc.path, "/more.conf");
  EXPECT_EQ(f.rules[1].loc.line, 2);
  // PostgreSQL 15 knows neither.
  auto g = pg::load_pg_hba(fs, "/h");
  EXPECT_EQ(g.rules.size(), 0u);
  EXPECT_EQ(g.diagnostics.size(), 3u);
}

TEST(PgHba, HostileInput) {
  std::string t = "host all all 1.2.3.4/32 md5\n" + std::string(300, 'a') + " x y z\n" +
                  std::string("host \0 all all trust\n", 21) + "host \"unterminated all 1/1 md5\n";
  auto f = pg::parse_pg_hba_text("/h", t);
  EXPECT_EQ(f.rules.size(), 1u);
  EXPECT_GE(f.diagnostics.size(), 2u);
}
