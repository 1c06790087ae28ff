// pg_hba.conf: hba.c's tokens and records, first-match selection and the
// reachability the checks rely on. The same rules are compared with a real
// server's pg_hba_file_rules and connection attempts in
// tests/live/postgres_oracle_test.cpp.

#include "../support.hpp"

#include <bulwark/parse/pg_hba.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <chrono>
#include <gtest/gtest.h>
#include <random>

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

namespace {

// A random pg_hba.conf line from a small vocabulary, so rules often cover
// one another (the interesting case) in every dimension.
std::string random_rule(std::mt19937 &rng, int shape) {
  auto pick = [&](std::initializer_list<const char *> l) {
    return std::string(*(l.begin() + std::uniform_int_distribution<size_t>(0, l.size() - 1)(rng)));
  };
  auto num = [&](int n) { return std::to_string(std::uniform_int_distribution<int>(0, n)(rng)); };
  std::string type =
      pick({"local", "host", "host", "hostssl", "hostnossl", "hostgssenc", "hostnogssenc"});
  std::string users = pick({"all", "u1", "u2", "+g1", "\"all\"", "u1,u2", "+g1,u2", "\"+g1\""});
  std::string dbs = pick(
      {"all", "db1", "db2", "replication", "\"all\"", "db1,replication", "sameuser", "db1,db2"});
  if (shape == 1) // many distinct users
    users = "u" + num(5000);
  if (shape == 3) // many distinct databases
    dbs = "d" + num(5000);
  std::string line = type + " " + dbs + " " + users;
  if (type != "local") {
    std::string addr;
    switch (std::uniform_int_distribution<int>(0, shape == 2 ? 0 : 7)(rng)) {
    case 0: // many distinct addresses when shape == 2
      addr = "10." + num(shape == 2 ? 255 : 3) + "." + num(shape == 2 ? 255 : 3) + "." + num(3) +
             "/" + pick({"8", "16", "24", "30", "32", "0"});
      break;
    case 1: addr = "all"; break;
    case 2: addr = pick({"samehost", "samenet"}); break;
    case 3: addr = pick({"db.example", ".example", "localhost"}); break;
    case 4: addr = "fd00::" + num(3) + "/" + pick({"64", "127", "128", "0", "16"}); break;
    case 5: addr = "10.0.0.0 255.0.255.0"; break; // a non-contiguous mask
    case 6: addr = "10." + num(2) + ".0.0 255.255.0.0"; break;
    default: addr = "0.0.0.0/0"; break;
    }
    line += " " + addr;
  }
  return line + " " + pick({"md5", "trust", "reject", "scram-sha-256"}) + "\n";
}

} // namespace

// Issue 20: the reachability of 40k rules took 66 s (each rule against all
// before it). shadowing() indexes them; its answer must be shadowed_by()'s.
TEST(PgHba, ShadowingAgreesWithTheQuadraticAnalysisOnRandomFiles) {
  std::mt19937 rng(20);
  size_t shadowed = 0, reachable = 0;
  for (int round = 0; round < 400; round++) {
    int shape = round % 4;
    std::string text;
    int n = std::uniform_int_distribution<int>(1, shape == 0 ? 60 : 400)(rng);
    for (int i = 0; i < n; i++)
      text += random_rule(rng, shape);
    for (bool ssl : {true, false}) {
      pg::HbaOptions opts;
      opts.ssl_enabled = ssl;
      auto f = pg::parse_pg_hba_text("/etc/pg_hba.conf", text, opts);
      ASSERT_EQ(f.rules.size(), static_cast<size_t>(n)) << text;
      auto all = pg::shadowing(f, opts);
      ASSERT_FALSE(all.exhausted);
      ASSERT_EQ(all.by.size(), f.rules.size());
      for (size_t i = 0; i < f.rules.size(); i++) {
        ASSERT_EQ(all.by[i], pg::shadowed_by(f, i, opts))
            << "rule " << i << " (" << f.rules[i].loc.line << ") of\n"
            << text;
        (all.by[i] >= 0 ? shadowed : reachable)++;
      }
    }
  }
  // Both answers occur often, or the comparison proves little.
  EXPECT_GT(shadowed, 10000u);
  EXPECT_GT(reachable, 10000u);
}

// 40k rules none of which covers another run in linear time; a budget too
// small for the file stops with one error at the rule reached, and that
// rule and the rest count as reachable.
TEST(PgHba, ShadowingOfManyDistinctRulesIsFastAndItsBudgetAnError) {
  std::string text;
  for (int i = 0; i < 40000; i++)
    text += "host all u" + std::to_string(i) + " 10." + std::to_string(i / 256) + "." +
            std::to_string(i % 256) + ".0/24 md5\n";
  text += "host all u7 10.0.7.0/24 trust\n"; // shadowed by line 8
  auto f = pg::parse_pg_hba_text("/etc/pg_hba.conf", text);
  ASSERT_EQ(f.rules.size(), 40001u);
  auto t0 = std::chrono::steady_clock::now();
  auto all = pg::shadowing(f, {});
  // A bound against a quadratic blow-up (minutes), not a speed test: x10
  // under the sanitizers (hang_bound).
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(2)));
  ASSERT_FALSE(all.exhausted);
  EXPECT_EQ(all.by[40000], 7);
  EXPECT_EQ(std::count(all.by.begin(), all.by.end(), -1), 40000);

  // Rules built to share every candidate list of the later ones without
  // covering them (user all / database all / address all, two at a time):
  // each is tested against two thirds of those before it, quadratic again.
  std::string adv;
  for (int i = 0; i < 100; i++)
    adv += "host all all 10.8." + std::to_string(i) +
           ".0/24 md5\n" // users, databases
           "host all uy" +
           std::to_string(i) +
           " all md5\n" // databases, addresses
           "host dz" +
           std::to_string(i) + " all all md5\n"; // users, addresses
  for (int i = 0; i < 50; i++)
    adv += "host dq uq 10.9.9." + std::to_string(i) + "/32 md5\n";
  adv += "host all all all trust\nhost dq uq 10.9.9.9/32 trust\n";
  auto g = pg::parse_pg_hba_text("/etc/pg_hba.conf", adv);
  ASSERT_EQ(g.rules.size(), 352u);
  auto whole = pg::shadowing(g, {});
  ASSERT_FALSE(whole.exhausted);
  for (size_t i = 0; i < g.rules.size(); i++)
    ASSERT_EQ(whole.by[i], pg::shadowed_by(g, i, {})) << i;
  EXPECT_EQ(whole.by[351], 309); // the second 10.9.9.9/32 is shadowed by the first
  pg::HbaOptions small;
  small.max_shadow_tests = 2000;
  auto cut = pg::shadowing(g, small);
  ASSERT_TRUE(cut.exhausted);
  EXPECT_EQ(cut.exhausted->level, pg::Diagnostic::Level::error);
  EXPECT_EQ(cut.exhausted->loc.path, "/etc/pg_hba.conf");
  int at = cut.exhausted->loc.line;
  EXPECT_GT(at, 10); // the budget is spent within the 300, not at once
  EXPECT_LT(at, 300);
  // What was decided before the budget ran out stands; the rest counts as
  // reachable, so a check judges every one of them.
  size_t decided = 0;
  for (size_t i = 0; i < g.rules.size(); i++)
    if (g.rules[i].loc.line < at) {
      EXPECT_EQ(cut.by[i], whole.by[i]) << i;
      decided++;
    } else {
      EXPECT_EQ(cut.by[i], -1) << i;
    }
  EXPECT_GT(decided, 10u);
  EXPECT_EQ(cut.by[351], -1); // shadowed (by 309), but not decided: judged as reachable
}
