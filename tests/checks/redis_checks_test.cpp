// redis.* on offline roots: a hardened redis.conf passes every check; each
// weakening fails the right check with the deciding file and line; no
// finding or fact ever carries a password.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/facts.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const std::string k_strong = "3f9c1e0a7b2d4c6e8f0a1b3c5d7e9f21aa";

std::string hardened() {
  return "# hardened\n"                             // 1
         "bind 127.0.0.1 -::1 10.0.1.10\n"          // 2
         "protected-mode yes\n"                     // 3
         "port 0\n"                                 // 4
         "tls-port 6379\n"                          // 5
         "tls-cert-file /etc/redis/tls/redis.crt\n" // 6
         "tls-key-file /etc/redis/tls/redis.key\n"  // 7
         "rename-command FLUSHDB \"\"\n"            // 8
         "rename-command FLUSHALL \"\"\n"           // 9
         "user default off\n"                       // 10
         "user app on >" +
         k_strong +
         " ~app:* +@all -@dangerous\n" // 11
         "user admin on #" +
         std::string(64, 'a') +
         " ~* +@all -@dangerous\n"                    // 12
         "tls-protocols \"TLSv1.2 TLSv1.3\"\n"        // 13
         "tls-ciphers ECDHE+AESGCM:ECDHE+CHACHA20\n"; // 14
}

std::string replace(std::string s, const std::string &from, const std::string &to) {
  auto p = s.find(from);
  if (p == std::string::npos)
    ADD_FAILURE() << "fixture has no " << from;
  else
    s.replace(p, from.size(), to);
  return s;
}

test::Findings audit(const TempRoot &r) {
  return test::audit_only(r.path(), {"redis"});
}

// Every message and evidence text of the audit. A secret's absence from it
// means something only when there was text to look in.
std::string all_text(const test::Findings &f) {
  EXPECT_FALSE(f.empty()) << "the redis checks reported nothing";
  std::string s;
  for (auto &x : f.all()) {
    s += x.message + "\n";
    for (auto &e : x.evidence)
      s += e.found + " " + e.expected + " " + e.context + "\n";
  }
  return s;
}

} // namespace

TEST(RedisChecks, HardenedConfigPassesEveryCheck) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", hardened(), 0640);
  auto f = audit(r);
  ASSERT_EQ(f.all().size(), 8u) << f.dump();
  for (auto &x : f.all()) {
    EXPECT_EQ(x.status, Status::pass) << x.check << ": " << x.message;
    EXPECT_EQ(x.subject, "/etc/redis/redis.conf");
  }
  EXPECT_EQ(f["redis.tls"].evidence[0].line, 5);
  EXPECT_EQ(all_text(f).find(k_strong), std::string::npos);
}

TEST(RedisChecks, NoRedisIsNotApplicable) {
  TempRoot r;
  r.mkdir("/etc");
  auto f = audit(r);
  ASSERT_EQ(f.all().size(), 8u) << f.dump();
  for (auto &x : f.all())
    EXPECT_EQ(x.status, Status::not_applicable) << x.check;
}

TEST(RedisChecks, DebianDefaultConfig) {
  // Debian 12's redis.conf as the redis-server package installs it.
  std::string src = std::string(BULWARK_SOURCE_DIR) + "/tests/data/redis/debian12-redis.conf";
  TempRoot r;
  std::filesystem::create_directories(r.host("/etc/redis"));
  std::filesystem::copy_file(src, r.host("/etc/redis/redis.conf"));
  auto f = audit(r);
  EXPECT_EQ(f["redis.authentication"].status, Status::fail); // no requirepass: nopass default
  EXPECT_EQ(f["redis.authentication"].evidence[0].path, "/etc/redis/redis.conf");
  EXPECT_EQ(f["redis.authentication"].evidence[0].line, 0); // the built-in default user
  EXPECT_EQ(f["redis.bind"].status, Status::pass);          // bind 127.0.0.1 -::1
  EXPECT_EQ(f["redis.protected-mode"].status, Status::pass);
  EXPECT_EQ(f["redis.dangerous-commands"].status, Status::fail);
  EXPECT_EQ(f["redis.acl"].status, Status::fail);
  EXPECT_EQ(f["redis.tls"].status, Status::fail);
}

TEST(RedisChecks, EachWeakeningFailsWithItsLine) {
  struct Case {
    std::string from, to, id;
    int line;
  } cases[] = {
      {"bind 127.0.0.1 -::1 10.0.1.10", "bind * -::*", "redis.bind", 2},
      {"bind 127.0.0.1 -::1 10.0.1.10", "bind 127.0.0.1 203.0.113.5", "redis.bind", 2},
      {"protected-mode yes", "protected-mode no", "redis.protected-mode", 3},
      {"port 0", "port 6380", "redis.tls", 4},
      {"user default off", "user default on nopass ~* +@all", "redis.authentication", 10},
      {"user default off", "user default on >foobared ~* +@all", "redis.authentication", 10},
      {"~app:* +@all -@dangerous", "~app:* -@dangerous +@all", "redis.dangerous-commands", 11},
      {"user default off", "user default on >" + k_strong + " ~* +@all", "redis.dangerous-commands",
       10},
  };
  for (auto &k : cases) {
    TempRoot r;
    r.write("/etc/redis/redis.conf", replace(hardened(), k.from, k.to));
    auto f = audit(r);
    Finding x = f[k.id];
    EXPECT_EQ(x.status, Status::fail) << k.to << ": " << x.message;
    ASSERT_FALSE(x.evidence.empty()) << k.to;
    if (k.line > 0) {
      EXPECT_EQ(x.evidence[0].path, "/etc/redis/redis.conf") << k.to;
      EXPECT_EQ(x.evidence[0].line, k.line) << k.to;
    }
    EXPECT_EQ(all_text(f).find("foobared"), std::string::npos) << k.to;
  }
}

TEST(RedisChecks, RequirepassAloneFailsAclAndWeakOnesFailAuthentication) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", "bind 127.0.0.1\nrequirepass " + k_strong + "\n");
  auto f = audit(r);
  EXPECT_EQ(f["redis.authentication"].status, Status::pass);
  EXPECT_EQ(f["redis.acl"].status, Status::fail);
  EXPECT_EQ(f["redis.acl"].evidence[0].line, 2);
  r.write("/etc/redis/redis.conf", "bind 127.0.0.1\nrequirepass foobared\n");
  f = audit(r);
  ASSERT_EQ(f["redis.authentication"].status, Status::fail);
  EXPECT_EQ(f["redis.authentication"].evidence[0].line, 2);
  EXPECT_NE(f["redis.authentication"].message.find("well-known"), std::string::npos);
  EXPECT_EQ(all_text(f).find("foobared"), std::string::npos);
}

TEST(RedisChecks, AclFileWithoutDefaultUserLeavesItOpen) {
  TempRoot r;
  r.write("/etc/redis/redis.conf",
          "bind 127.0.0.1\nrequirepass " + k_strong + "\naclfile /etc/redis/users.acl\n");
  r.write("/etc/redis/users.acl", "user app on >" + k_strong + " ~* +@all -@dangerous\n");
  auto f = audit(r);
  ASSERT_EQ(f["redis.authentication"].status, Status::fail);
  EXPECT_EQ(f["redis.authentication"].evidence[0].path, "/etc/redis/users.acl");
  EXPECT_EQ(f["redis.acl"].status, Status::pass);
  EXPECT_EQ(f["redis.acl"].evidence[0].line, 3);
}

TEST(RedisChecks, IncludedFileDecidesAndFactsAreRedacted) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", hardened() + "include /etc/redis/override.conf\n");
  r.write("/etc/redis/override.conf", "# ops\nprotected-mode no\nrequirepass foobared\n");
  auto f = audit(r);
  ASSERT_EQ(f["redis.protected-mode"].status, Status::fail);
  EXPECT_EQ(f["redis.protected-mode"].evidence[0].path, "/etc/redis/override.conf");
  EXPECT_EQ(f["redis.protected-mode"].evidence[0].line, 2);
  // The override is a fragment of redis.conf, not an instance of its own.
  RootFs fs(r.path());
  Context ctx(fs);
  auto j = facts_redis(ctx);
  ASSERT_EQ(j["instances"].size(), 1u);
  std::string dump = j.dump();
  EXPECT_EQ(dump.find("foobared"), std::string::npos);
  EXPECT_EQ(dump.find(k_strong), std::string::npos);
  EXPECT_NE(dump.find("/etc/redis/override.conf:3"), std::string::npos);
}

TEST(RedisChecks, BrokenConfigIsReportedWithItsLine) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", hardened() + "requirepass \"unbalanced\n");
  auto f = audit(r);
  EXPECT_EQ(f["redis.bind"].status, Status::error);    // redis-server refuses the file: fail closed
  EXPECT_EQ(f["redis.bind"].evidence.back().line, 15); // after hardened()'s 14 lines
}
