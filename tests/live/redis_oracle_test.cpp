// redis-server speaks for itself: generated configurations (quoting, include
// in place, last wins, bind lists, rename-command, requirepass, user lines
// with ACL rules applied left to right, aclfile replacing the users) are
// started on a loopback port, and bulwark's effective values agree with
// CONFIG GET, ACL GETUSER, ACL DRYRUN and COMMAND INFO. Then the live probes:
// PONG without auth, NOAUTH, the unix socket, a renamed command, a silent
// server and one that answers garbage.

#include "db_servers.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/redis.hpp>
#include <bulwark/parse/redis_conf.hpp>

#include <algorithm>
#include <gtest/gtest.h>
#include <hiredis.h>
#include <random>

using namespace bulwark;
using namespace bulwark::test;

namespace {

std::string redis_unavailable() {
  if (run_command("command -v redis-server").exit_code != 0)
    return "redis-server is not installed (Debian package redis-server)";
  return "";
}

struct Client {
  redisContext *c = nullptr;
  explicit Client(int port) {
    timeval tv{2, 0};
    c = redisConnectWithTimeout("127.0.0.1", port, tv);
  }
  ~Client() {
    if (c)
      redisFree(c);
  }
  // The reply as text: strings and status as is, errors "ERR: ...", arrays
  // joined by '\n', nil as "(nil)".
  std::string cmd(const std::vector<std::string> &args) {
    std::vector<const char *> argv;
    std::vector<size_t> lens;
    for (auto &a : args) {
      argv.push_back(a.data());
      lens.push_back(a.size());
    }
    auto *r = static_cast<redisReply *>(
        redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
    if (!r)
      return "IOERR";
    std::string out = render(r);
    freeReplyObject(r);
    return out;
  }
  static std::string render(redisReply *r) {
    switch (r->type) {
    case REDIS_REPLY_STRING:
    case REDIS_REPLY_STATUS: return std::string(r->str, r->len);
    case REDIS_REPLY_ERROR: return "ERR: " + std::string(r->str, r->len);
    case REDIS_REPLY_INTEGER: return std::to_string(r->integer);
    case REDIS_REPLY_NIL: return "(nil)";
    case REDIS_REPLY_ARRAY: {
      std::string s;
      for (size_t i = 0; i < r->elements; i++)
        s += (i ? "\n" : "") + render(r->element[i]);
      return s;
    }
    }
    return "?";
  }
};

const char *k_rules[] = {"+@all",   "-@dangerous", "-debug",     "+debug",    "-flushall",
                         "+@admin", "-@admin",     "+@keyspace", "-@write",   "+config|get",
                         "-config", "allcommands", "nocommands", "+@read",    "on",
                         "off",     "nopass",      ">pw-one",    "resetpass", "~*",
                         "+keys",   "-@keyspace",  ">pw-two",    "+shutdown", "(+@all ~x)",
                         "+@slow",  "-@slow"};

std::string random_user(std::mt19937 &rng, const std::string &name) {
  std::string s = "user " + name + " on";
  int n = 1 + static_cast<int>(rng() % 6);
  for (int i = 0; i < n; i++)
    s += std::string(" ") + k_rules[rng() % std::size(k_rules)];
  return s + "\n";
}

struct Generated {
  std::string main, include, acl;
  bool use_aclfile = false;
};

Generated generate(std::mt19937 &rng, const std::string &dir, bool v6) {
  Generated g;
  static const char *binds[] = {"bind 127.0.0.1", "bind 127.0.0.1 -::1", "bind \"127.0.0.1 -::1\"",
                                "bind -127.0.0.1", "bind 127.0.0.1 ::1"};
  static const char *passes[] = {"requirepass s3cret", "requirepass \"with space\\x41\"",
                                 "requirepass 'single\\'q'", "requirepass \"\"", ""};
  static const char *renames[] = {"rename-command FLUSHALL \"\"", "rename-command flushdb zz9",
                                  "rename-command KEYS \"\"", "rename-command debug 'dbg'", ""};
  std::string bind = binds[rng() % (v6 ? 5 : 1)];
  g.main = "# generated\n" + bind + "\nprotected-mode " + (rng() % 2 ? "yes" : "no") + "\n";
  g.main += std::string(passes[rng() % 5]) + "\n";
  g.main += std::string(renames[rng() % 5]) + "\n";
  g.include = std::string("protected-mode ") + (rng() % 2 ? "yes" : "no") + "\n" +
              (rng() % 2 ? std::string(passes[rng() % 5]) + "\n" : "");
  g.main += "include " + dir + "/inc.conf\n";
  if (rng() % 2)
    g.main += "protected-mode yes\n";
  g.use_aclfile = rng() % 3 == 0;
  std::string users;
  if (rng() % 3 == 0)
    users += random_user(rng, "default");
  users += random_user(rng, "u1");
  if (rng() % 2)
    users += random_user(rng, "u2");
  users += "user oracle on >oracle-pw ~* &* +@all\n";
  if (g.use_aclfile) {
    g.acl = users;
    g.main += "aclfile " + dir + "/users.acl\n";
  } else {
    g.main += users;
  }
  return g;
}

} // namespace

TEST(RedisOracle, EffectiveValuesAgreeWithARealServer) {
  const std::string why = redis_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  std::mt19937 rng(424242);
  const int configs = 15;
  int compared = 0;
  bool v6 = have_ipv6_loopback();
  for (int n = 0; n < configs; n++) {
    ServerDir pre; // where the include and aclfile live
    Generated g = generate(rng, pre.path(), v6);
    pre.write("inc.conf", g.include);
    if (g.use_aclfile)
      pre.write("users.acl", g.acl);
    RedisServer s(g.main);
    RootFs fs("/");
    auto ours = redis::load_redis_conf(fs, s.conf());
    if (!s.error().empty()) {
      // redis-server refused the file: so must we.
      EXPECT_TRUE(ours.has_errors()) << s.error() << "\n" << g.main;
      continue;
    }
    ASSERT_FALSE(ours.has_errors()) << ours.diagnostics.front().message << "\n" << g.main;
    Client c(s.port());
    ASSERT_TRUE(c.c && !c.c->err);
    ASSERT_EQ(c.cmd({"AUTH", "oracle", "oracle-pw"}), "OK") << g.main;
    for (const char *name : {"port", "bind", "protected-mode", "requirepass", "aclfile"}) {
      const redis::Directive *d = ours.get(name);
      std::string want = d ? text::join(d->args, " ") : "";
      std::string got = c.cmd({"CONFIG", "GET", name});
      auto nl = got.find('\n');
      got = nl == std::string::npos ? "" : got.substr(nl + 1);
      EXPECT_EQ(want, got) << name << "\n" << g.main << "--- inc.conf\n" << g.include;
      compared++;
    }
    for (auto &u : ours.users) {
      std::string info = c.cmd({"ACL", "GETUSER", u.name});
      ASSERT_EQ(info.rfind("ERR", 0), std::string::npos) << u.name;
      // flags come first: "flags\non\nnopass..." up to "passwords".
      auto flags = info.substr(0, info.find("\npasswords"));
      EXPECT_EQ(flags.find("\non") != std::string::npos, u.enabled) << u.name << "\n" << g.main;
      EXPECT_EQ(flags.find("nopass") != std::string::npos, u.nopass) << u.name << "\n" << g.main;
      for (const char *cmd : redis::k_dangerous) {
        static const std::map<std::string, std::vector<std::string>> args = {
            {"flushdb", {"FLUSHDB"}},           {"flushall", {"FLUSHALL"}},
            {"config", {"CONFIG", "GET", "x"}}, {"debug", {"DEBUG", "HELP"}},
            {"shutdown", {"SHUTDOWN"}},         {"keys", {"KEYS", "*"}}};
        std::string name = cmd;
        std::vector<std::string> dry = {"ACL", "DRYRUN", u.name};
        auto rn = ours.renamed.find(cmd);
        if (rn != ours.renamed.end()) {
          if (rn->second.args[1].empty()) {
            EXPECT_EQ(c.cmd({"COMMAND", "INFO", cmd}), "(nil)") << cmd;
            continue;
          }
          dry.push_back(rn->second.args[1]);
          for (size_t i = 1; i < args.at(cmd).size(); i++)
            dry.push_back(args.at(cmd)[i]);
        } else {
          for (auto &a : args.at(cmd))
            dry.push_back(a);
        }
        std::string got = c.cmd(dry);
        bool allowed = got == "OK";
        EXPECT_EQ(allowed, u.may_run.at(cmd)) << u.name << " " << cmd << ": " << got << "\n"
                                              << g.main << "--- acl\n"
                                              << g.acl;
        compared++;
      }
    }
    // Every user the server has, we have.
    std::string users = c.cmd({"ACL", "USERS"});
    EXPECT_EQ(static_cast<size_t>(std::count(users.begin(), users.end(), '\n') + 1),
              ours.users.size())
        << users;
  }
  std::cout << "[ redis CONFIG GET / ACL ] " << configs << " configurations, " << compared
            << " values compared\n";
  EXPECT_GT(compared, configs * 10);
}

TEST(RedisOracle, FatalConfigurationsAgree) {
  const std::string why = redis_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  const char *fatal[] = {
      "port 7000 # comment\n",        "requirepass \"open\n", "user a on >x\nuser a on >y\n",
      "user e on +@nosuchcategory\n", "user m on #abc\n",     "user s on (+@all\n"};
  for (const char *text : fatal) {
    RedisServer s(text);
    RootFs fs("/");
    auto ours = redis::load_redis_conf(fs, s.conf());
    EXPECT_NE(s.error(), "") << text;
    EXPECT_TRUE(ours.has_errors()) << text;
  }
}

TEST(RedisLive, ProbesAgainstARealServer) {
  const std::string why = redis_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  {
    ServerDir d;
    RedisServer open("bind 127.0.0.1\nprotected-mode yes\nrename-command FLUSHALL \"\"\n"
                     "unixsocket " +
                     d.path() + "/r.sock\nunixsocketperm 700\n");
    ASSERT_EQ(open.error(), "");
    // Loopback always passes protected mode: PONG here says nothing about
    // remote clients.
    auto r = live::redis_probe("127.0.0.1", open.port());
    EXPECT_EQ(r.result, live::RedisProbeResult::Outcome::pong) << r.detail;
    EXPECT_EQ(r.commands.at("flushall"), "absent");
    EXPECT_EQ(r.commands.at("config"), "allowed");
    EXPECT_EQ(r.commands.at("keys"), "allowed");
    auto u = live::redis_probe(d.path() + "/r.sock", 0);
    EXPECT_EQ(u.result, live::RedisProbeResult::Outcome::pong) << u.detail;
    EXPECT_EQ(u.target, "unix:" + d.path() + "/r.sock");
    // The server still has all its keys: nothing was run.
    Client c(open.port());
    EXPECT_EQ(c.cmd({"PING"}), "PONG");
  }
  {
    RedisServer locked("bind 127.0.0.1\nrequirepass 3f9c1e0a7b2d4c6e8f0a1b3c5d7e9f21aa\n");
    ASSERT_EQ(locked.error(), "");
    auto r = live::redis_probe("127.0.0.1", locked.port());
    EXPECT_EQ(r.result, live::RedisProbeResult::Outcome::auth_required) << r.detail;
    EXPECT_TRUE(r.commands.empty());
  }
  {
    RedisServer acl("bind 127.0.0.1\nuser default on nopass ~* +@all -@dangerous\n");
    ASSERT_EQ(acl.error(), "");
    auto r = live::redis_probe("127.0.0.1", acl.port());
    EXPECT_EQ(r.result, live::RedisProbeResult::Outcome::pong);
    // ACL DRYRUN is itself @dangerous here: COMMAND INFO says "present".
    EXPECT_NE(r.commands.at("flushdb"), "allowed");
  }
}

TEST(RedisLive, SilentAndGarbageServersAreBoundedAndNamed) {
  {
    FakeServer silent("", true);
    auto t0 = std::chrono::steady_clock::now();
    auto r = live::redis_probe("127.0.0.1", silent.port(), 1500);
    EXPECT_LT(std::chrono::steady_clock::now() - t0,
              bulwark::test::hang_bound(std::chrono::seconds(3)));
    EXPECT_EQ(r.result, live::RedisProbeResult::Outcome::unreachable) << r.detail;
    EXPECT_NE(r.detail.find("no answer"), std::string::npos) << r.detail;
  }
  {
    FakeServer garbage("HTTP/1.0 400 Bad Request\r\n\r\n", false);
    auto r = live::redis_probe("127.0.0.1", garbage.port());
    EXPECT_EQ(r.result, live::RedisProbeResult::Outcome::protocol_error) << r.detail;
  }
  {
    // Closes at once: an EOF, or a reset when PING arrived first (a race
    // that once made this "no answer within 1500 ms" in CI).
    FakeServer closer("", false);
    auto r = live::redis_probe("127.0.0.1", closer.port());
    EXPECT_EQ(r.result, live::RedisProbeResult::Outcome::protocol_error) << r.detail;
  }
  {
    // Always a reset: the same verdict, never a timeout.
    FakeServer resetter("", false, /*reset=*/true);
    auto t0 = std::chrono::steady_clock::now();
    auto r = live::redis_probe("127.0.0.1", resetter.port(), 5000);
    EXPECT_LT(std::chrono::steady_clock::now() - t0,
              bulwark::test::hang_bound(std::chrono::seconds(3)));
    EXPECT_EQ(r.result, live::RedisProbeResult::Outcome::protocol_error) << r.detail;
    EXPECT_NE(r.detail.find("connection closed without an answer"), std::string::npos) << r.detail;
  }
  auto none = live::redis_probe("127.0.0.1", free_port());
  EXPECT_EQ(none.result, live::RedisProbeResult::Outcome::unreachable) << none.detail;
}

// tls-port: the same PING over TLS, against redis-server's own TLS listener.
// Without a password it answers PONG; with requirepass, NOAUTH; with
// tls-auth-clients yes (Redis's default) the client without a certificate is
// refused, and the detail says it was the TLS layer.
TEST(RedisLive, TlsPortIsProbedOverTls) {
  const std::string why = redis_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  TempRoot pki;
  auto made = run_command(
      "cd " + pki.path() +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
      "-subj /CN=bw-redis -keyout key.pem -out cert.pem && chmod 644 key.pem");
  ASSERT_EQ(made.exit_code, 0) << made.err;
  const std::string tls_files = "tls-cert-file " + pki.path() + "/cert.pem\ntls-key-file " +
                                pki.path() + "/key.pem\ntls-ca-cert-file " + pki.path() +
                                "/cert.pem\n";
  struct Case {
    std::string extra;
    live::RedisProbeResult::Outcome want;
    std::string detail;
  } cases[] = {
      {"tls-auth-clients no\n", live::RedisProbeResult::Outcome::pong, "PONG"},
      {"tls-auth-clients no\nrequirepass " + std::string(40, 'k') + "\n",
       live::RedisProbeResult::Outcome::auth_required, "NOAUTH"},
      {"tls-auth-clients yes\n", live::RedisProbeResult::Outcome::unreachable, "TLS"},
  };
  for (auto &c : cases) {
    int tls_port = free_port();
    RedisServer s("tls-port " + std::to_string(tls_port) + "\n" + tls_files + c.extra);
    ASSERT_EQ(s.error(), "") << c.extra;
    auto r = live::redis_probe_tls("127.0.0.1", tls_port);
    EXPECT_EQ(r.result, c.want) << c.extra << r.detail;
    EXPECT_NE(r.detail.find(c.detail), std::string::npos) << c.extra << r.detail;
    EXPECT_EQ(r.target, "127.0.0.1:" + std::to_string(tls_port) + " (TLS)");
    // The plain port is not TLS: the TLS probe says so and does not hang.
    auto plain = live::redis_probe_tls("127.0.0.1", s.port(), 1000);
    EXPECT_NE(plain.result, live::RedisProbeResult::Outcome::pong) << plain.detail;
  }
}

// Issue 16: a tls-key-file the redis account cannot read stops redis-server
// at start ("Failed to configure TLS"); redis.tls must fail it, and pass the
// keys the server does load. redis-server, run as the redis account as
// Debian's unit runs it, is the judge.
TEST(RedisLive, TlsKeyTheRedisAccountCannotReadFailsRedisTls) {
  const std::string why = redis_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root to run redis-server as the redis account";
  BULWARK_REQUIRE(::getpwnam("redis") != nullptr) << "no redis account";
  BULWARK_REQUIRE_TOOL("runuser");
  struct passwd *pw = ::getpwnam("redis");
  uid_t ruid = pw->pw_uid;
  gid_t rgid = pw->pw_gid;
  struct Case {
    const char *name;
    uid_t uid;
    gid_t gid;
    mode_t mode;
  } cases[] = {
      {"root:root 0600", 0, 0, 0600},
      {"root:redis 0640", 0, rgid, 0640},
      {"redis:redis 0600", ruid, rgid, 0600},
      {"root:root 0640", 0, 0, 0640},
  };
  for (auto &c : cases) {
    SCOPED_TRACE(c.name);
    TempRoot r;
    ASSERT_EQ(::chmod(r.path().c_str(), 0755), 0);
    auto made = run_command("mkdir -p " + r.host("/etc/redis") + " && cd " + r.host("/etc/redis") +
                            " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 "
                            "-nodes -days 30 -subj /CN=bw-redis -keyout key.pem -out cert.pem "
                            "&& chmod 755 . && chmod 644 cert.pem");
    ASSERT_EQ(made.exit_code, 0) << made.err;
    ASSERT_EQ(::chown(r.host("/etc/redis/key.pem").c_str(), c.uid, c.gid), 0);
    ASSERT_EQ(::chmod(r.host("/etc/redis/key.pem").c_str(), c.mode), 0);
    for (const char *f : {"/etc/passwd", "/etc/group"}) {
      std::ifstream in(f);
      r.write(f, bulwark::test::read_all(in));
    }
    r.mkdir("/etc/ssl"); // chmod of /etc: searchable, as on a real host
    ASSERT_EQ(::chmod(r.host("/etc").c_str(), 0755), 0);
    int tls_port = free_port();
    std::string common = "port 0\ntls-port " + std::to_string(tls_port) +
                         "\ntls-auth-clients no\nsave \"\"\nappendonly no\ndaemonize no\n";
    // What bulwark reads: paths inside the root.
    r.write("/etc/redis/redis.conf",
            common + "tls-cert-file /etc/redis/cert.pem\ntls-key-file /etc/redis/key.pem\n");
    // What redis-server runs: the same files by host path.
    r.write("/run.conf", common + "dir " + r.path() + "\ntls-cert-file " +
                             r.host("/etc/redis/cert.pem") + "\ntls-key-file " +
                             r.host("/etc/redis/key.pem") + "\n");
    ASSERT_EQ(::chmod(r.host("/run.conf").c_str(), 0644), 0);
    // Still running after 1.5 s (timeout's 124): it started.
    auto run = run_command("timeout 1.5 runuser -u redis -- redis-server " + r.host("/run.conf"));
    bool started = run.exit_code == 124;
    if (!started) {
      EXPECT_NE(run.out.find("Failed to configure TLS"), std::string::npos) << run.out << run.err;
    }
    AuditRequest req;
    req.root = r.path();
    req.only = {"redis.tls"};
    auto rep = run_audit(req);
    ASSERT_TRUE(rep.ok());
    ASSERT_EQ(rep->findings.size(), 1u);
    EXPECT_EQ(rep->findings[0].status, started ? Status::pass : Status::fail)
        << rep->findings[0].message;
    if (std::string(c.name) == "root:root 0600") {
      EXPECT_FALSE(started) << "redis-server read a key its account cannot read";
    }
    if (std::string(c.name) == "root:redis 0640") {
      EXPECT_TRUE(started) << run.out << run.err;
    }
  }
}
