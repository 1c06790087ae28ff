// redis.conf and ACL files as redis-server 7.0 reads them: sdssplitargs,
// include in place, last wins, rename-command, requirepass against user
// lines and aclfile, ACL rules left to right, password strength. The same
// configurations are compared with a real redis-server's CONFIG GET and
// ACL LIST in tests/live/redis_oracle_test.cpp.

#include "../support.hpp"

#include <bulwark/parse/redis_conf.hpp>

#include <chrono>
#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

TEST(RedisConf, SplitArgsLikeSdssplitargs) {
  using V = std::vector<std::string>;
  EXPECT_EQ(*redis::split_args("bind 127.0.0.1 -::1"), (V{"bind", "127.0.0.1", "-::1"}));
  EXPECT_EQ(*redis::split_args("requirepass \"a b\\x41\\n\\\"\""), (V{"requirepass", "a bA\n\""}));
  EXPECT_EQ(*redis::split_args("x 'it\\'s' '\\n'"), (V{"x", "it's", "\\n"}));
  EXPECT_EQ(*redis::split_args("rename-command CONFIG \"\""), (V{"rename-command", "CONFIG", ""}));
  EXPECT_EQ(*redis::split_args("a foo\"bar baz\" c"), (V{"a", "foobar baz", "c"}));
  EXPECT_EQ(*redis::split_args("   "), V{});
  EXPECT_FALSE(redis::split_args("requirepass \"unterminated"));
  EXPECT_FALSE(redis::split_args("requirepass \"closed\"x"));
  EXPECT_FALSE(redis::split_args("x 'a'b"));
}

TEST(RedisConf, LastValueWinsCommentsAndQuotes) {
  auto c = redis::parse_redis_text("/r.conf", "# comment\n"
                                              "port 6379\n"
                                              "  PORT   6380  \r\n"
                                              "bind \"127.0.0.1 ::1\"\n"
                                              "protected-mode no\n"
                                              "protected-mode yes\n");
  EXPECT_FALSE(c.has_errors());
  EXPECT_EQ(c.get("port")->args.at(0), "6380");
  EXPECT_EQ(c.get("port")->loc.line, 3);
  EXPECT_EQ(c.get("bind")->args, (std::vector<std::string>{"127.0.0.1", "::1"}));
  EXPECT_EQ(c.get("protected-mode")->loc.line, 6);
}

TEST(RedisConf, FatalLinesAreErrorsWithTheirLine) {
  auto c = redis::parse_redis_text("/r.conf", "port 6379 # not a comment here\n"
                                              "requirepass \"open\n"
                                              "user\n"
                                              "user bob on >x ~* +@all\n"
                                              "user bob on >y\n"
                                              "user eve on +@nosuchcategory\n"
                                              "user mallory on #abc\n");
  std::vector<int> lines;
  for (auto &d : c.diagnostics)
    if (d.level == redis::Diagnostic::Level::error)
      lines.push_back(d.loc.line);
  EXPECT_EQ(lines, (std::vector<int>{1, 2, 3, 5, 6, 7}));
}

TEST(RedisConf, IncludeIsReadInPlace) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", "port 1\ninclude /etc/redis/local.conf\nbind 10.0.0.1\n");
  r.write("/etc/redis/local.conf", "port 2\nbind 0.0.0.0\n");
  RootFs fs(r.path());
  auto c = redis::load_redis_conf(fs, "/etc/redis/redis.conf");
  EXPECT_EQ(c.get("port")->args[0], "2");
  EXPECT_EQ(c.get("port")->loc.path, "/etc/redis/local.conf");
  EXPECT_EQ(c.get("bind")->args[0], "10.0.0.1"); // after the include: wins
  EXPECT_EQ(c.files.size(), 2u);
}

TEST(RedisConf, RelativeIncludeIsRelativeToTheWorkingDirectoryAndLoopsStop) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", "include etc/redis/a.conf\n");
  r.write("/etc/redis/a.conf", "port 7\ninclude /etc/redis/a.conf\n");
  RootFs fs(r.path());
  auto start = std::chrono::steady_clock::now();
  auto c = redis::load_redis_conf(fs, "/etc/redis/redis.conf");
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            bulwark::test::hang_bound(std::chrono::seconds(2)));
  EXPECT_EQ(c.get("port")->args[0], "7");
  ASSERT_TRUE(c.has_errors());
  EXPECT_NE(c.diagnostics.back().message.find("nested"), std::string::npos);
}

TEST(RedisConf, DefaultUserIsOpenUnlessConfigured) {
  auto c = redis::parse_redis_text("/r.conf", "port 6379\n");
  const redis::AclUser *d = c.user("default");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->enabled);
  EXPECT_TRUE(d->nopass);
  EXPECT_TRUE(d->may_run.at("flushall"));
  EXPECT_EQ(d->loc.line, 0);
}

TEST(RedisConf, RequirepassSetsTheDefaultPasswordButUserDefaultWins) {
  auto a = redis::parse_redis_text("/r.conf", "requirepass s3cret\n");
  EXPECT_FALSE(a.user("default")->nopass);
  EXPECT_EQ(a.user("default")->passwords, std::vector<std::string>{"s3cret"});
  // `user default` resets the default user wherever requirepass stands.
  auto b =
      redis::parse_redis_text("/r.conf", "user default on nopass ~* +@all\nrequirepass s3cret\n");
  EXPECT_TRUE(b.user("default")->nopass);
  EXPECT_EQ(b.user("default")->loc.line, 1);
}

TEST(RedisConf, AclFileReplacesUsersAndIgnoresRequirepass) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", "requirepass averylongpasswordthatdoesnotmatter\n"
                                   "aclfile /etc/redis/users.acl\n");
  r.write("/etc/redis/users.acl", "user app on >k ~app:* +@read\n");
  RootFs fs(r.path());
  auto c = redis::load_redis_conf(fs, "/etc/redis/redis.conf");
  const redis::AclUser *d = c.user("default");
  ASSERT_TRUE(d);
  EXPECT_TRUE(d->nopass); // re-created: on nopass ~* &* +@all
  EXPECT_EQ(d->loc.path, "/etc/redis/users.acl");
  ASSERT_TRUE(c.user("app"));
  EXPECT_EQ(c.user("app")->loc.line, 1);
  EXPECT_TRUE(c.user("app")->may_run.at("keys")); // KEYS is in @read
  EXPECT_FALSE(c.user("app")->may_run.at("config"));
  // aclfile plus user lines is fatal.
  r.write("/etc/redis/redis.conf", "aclfile /etc/redis/users.acl\nuser x on nopass\n");
  auto e = redis::load_redis_conf(fs, "/etc/redis/redis.conf");
  EXPECT_TRUE(e.has_errors());
}

TEST(RedisConf, AclRulesApplyLeftToRight) {
  auto c = redis::parse_redis_text(
      "/r.conf", "user a on >p ~* -debug +@all\n"      // +@all re-enables DEBUG
                 "user b on >p ~* +@all -@dangerous\n" // all six denied
                 "user c on >p ~* +@all -@dangerous +config|get\n"
                 "user d on >p ~* +@all -flushall -flushdb -config -debug -shutdown -keys\n"
                 "user e on >p reset\n"
                 "user f >p ~* +@all\n"                   // never turned on
                 "user g on nopass +@read (+@all ~x)\n"); // a selector grants all
  EXPECT_FALSE(c.has_errors()) << c.diagnostics.front().message;
  EXPECT_TRUE(c.user("a")->may_run.at("debug"));
  for (const char *cmd : redis::k_dangerous)
    EXPECT_FALSE(c.user("b")->may_run.at(cmd)) << cmd;
  EXPECT_TRUE(c.user("c")->may_run.at("config"));
  EXPECT_FALSE(c.user("c")->may_run.at("flushall"));
  for (const char *cmd : redis::k_dangerous)
    EXPECT_FALSE(c.user("d")->may_run.at(cmd)) << cmd;
  EXPECT_FALSE(c.user("e")->enabled);
  EXPECT_TRUE(c.user("e")->passwords.empty());
  EXPECT_FALSE(c.user("f")->enabled);
  EXPECT_TRUE(c.user("g")->may_run.at("keys"));   // @read, and the selector
  EXPECT_TRUE(c.user("g")->may_run.at("config")); // only through the selector
  // Passwords are never in the rules shown.
  EXPECT_EQ(c.user("a")->rules.find(">p"), std::string::npos);
}

TEST(RedisConf, RenameCommand) {
  auto c = redis::parse_redis_text("/r.conf", "rename-command FLUSHALL \"\"\n"
                                              "rename-command config x9\n");
  EXPECT_EQ(c.renamed.at("flushall").args[1], "");
  EXPECT_EQ(c.renamed.at("config").args[1], "x9");
  EXPECT_EQ(c.renamed.at("config").loc.line, 2);
}

TEST(RedisConf, PasswordStrength) {
  EXPECT_TRUE(redis::judge_password("foobared").weak);
  EXPECT_EQ(redis::judge_password("foobared").reason, "a well-known password");
  EXPECT_TRUE(redis::judge_password("Password").weak);
  EXPECT_TRUE(redis::judge_password("short-but-random-1X").weak);
  EXPECT_TRUE(redis::judge_password(std::string(40, 'a')).weak);
  EXPECT_TRUE(redis::judge_password("abababababababababababababababababab").weak);
  EXPECT_FALSE(redis::judge_password("3f9c1e0a7b2d4c6e8f0a1b3c5d7e9f21").weak);
  EXPECT_FALSE(redis::judge_password("Zq8#vT2!mW9x@Lp4&Rk7*Yn3^Hs6%Bd1").weak);
  EXPECT_EQ(redis::redact("foobared"), "<redacted: 8 characters>");
}

TEST(RedisConf, HostileInput) {
  std::string t = std::string("port 1\0\nport 2\n", 15) + "\xff\xfe junk\n" +
                  std::string(1 << 20, '"') + "\n" + "bind 127.0.0.1\n";
  auto c = redis::parse_redis_text("/r.conf", t);
  EXPECT_EQ(c.get("port")->args[0], "2");
  EXPECT_EQ(c.get("bind")->loc.line, 5);
  EXPECT_TRUE(c.has_errors());
}

TEST(RedisConf, IncludeGlobReadsMatchesInOrder) {
  // redis-server 7.0.15 reads `include /dir/*.conf` in sorted order (checked
  // by hand: port from b.conf wins).
  TempRoot r;
  r.write("/etc/redis/redis.conf", "port 1\ninclude /etc/redis/conf.d/*.conf\n");
  r.write("/etc/redis/conf.d/b.conf", "port 3\n");
  r.write("/etc/redis/conf.d/a.conf", "port 2\nprotected-mode no\n");
  r.write("/etc/redis/conf.d/a.conf.bak", "port 9\n");
  RootFs fs(r.path());
  auto c = redis::load_redis_conf(fs, "/etc/redis/redis.conf");
  EXPECT_EQ(c.get("port")->args[0], "3");
  EXPECT_EQ(c.get("port")->loc.path, "/etc/redis/conf.d/b.conf");
  EXPECT_EQ(c.get("protected-mode")->loc.path, "/etc/redis/conf.d/a.conf");
  EXPECT_EQ(c.files.size(), 3u);
}
