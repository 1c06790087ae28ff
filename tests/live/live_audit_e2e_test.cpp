// `bulwark audit --live` end to end, on the host root "/" as a user runs it,
// with real daemons running. The test never touches the machine's /etc: in a
// private mount namespace (unshare --mount) a copy of /etc, with the test's
// own redis.conf and nginx.conf, is bind-mounted over /etc; redis-server and
// nginx are started there on free loopback ports, bulwark audits, and the
// daemons are stopped before the namespace ends.
//
// The Redis case is the one a configuration reader alone gets wrong: the file
// says `requirepass` with a strong password, but the server that runs was
// started without it (the file was edited, the server never restarted).
// Offline, redis.authentication passes; live, the probe gets PONG without a
// password and the check fails on the probe's evidence. PostgreSQL likewise:
// the file under /etc/postgresql asks for scram-sha-256, the running server
// trusts loopback clients, and only --live sees it.

#include "../support.hpp"
#include "db_servers.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

std::string why_not() {
  if (::geteuid() != 0)
    return "needs root (a mount namespace and daemons)";
  for (const char *p :
       {"/usr/bin/redis-server", "/usr/sbin/nginx", "/usr/bin/unshare", "/usr/bin/openssl"})
    if (!std::filesystem::exists(p))
      return std::string(p) + " is missing (Debian packages redis-server, nginx, util-linux, "
                              "openssl)";
  if (run_command("unshare --mount --propagation private true").exit_code != 0)
    return "cannot create a mount namespace here (unshare --mount failed)";
  return "";
}

const nlohmann::json *finding(const nlohmann::json &report, const std::string &check) {
  for (auto &f : report["findings"])
    if (f["check"] == check)
      return &f;
  return nullptr;
}

bool evidence_mentions(const nlohmann::json &f, const std::string &needle) {
  for (auto &e : f["evidence"])
    for (const char *k : {"path", "found", "context"})
      if (e[k].get<std::string>().find(needle) != std::string::npos)
        return true;
  return f["message"].get<std::string>().find(needle) != std::string::npos;
}

} // namespace

TEST(LiveAuditE2E, RunningRedisAndNginxOnTheHostRoot) {
  if (std::string why = why_not(); !why.empty())
    GTEST_SKIP() << why;
  TempRoot t;
  const std::string T = t.path();
  const int redis_port = bulwark::test::free_port();
  int nginx_port = bulwark::test::free_port();
  while (nginx_port == redis_port)
    nginx_port = bulwark::test::free_port();

  // The namespace's /etc: a copy of the machine's, with our two daemons'
  // configurations in it.
  ASSERT_EQ(run_command("cp -a /etc " + T + "/etc").exit_code, 0);
  std::filesystem::remove_all(T + "/etc/redis");
  std::filesystem::remove_all(T + "/etc/nginx");
  const std::string strong = "Zq3v9LxW2pR7kT4mN8bY6cH1dF5gJ0sA3eU7iO9wQ2zX4vB6nM8kL1jH5gF3dS7a";
  t.write("/etc/redis/redis.conf", "bind 127.0.0.1\nport " + std::to_string(redis_port) +
                                       "\nprotected-mode yes\nrequirepass " + strong + "\n");
  // What actually runs: the same port, no password.
  t.write("/run-redis.conf", "bind 127.0.0.1\nport " + std::to_string(redis_port) +
                                 "\nprotected-mode yes\ndaemonize yes\npidfile " + T +
                                 "/redis.pid\ndir " + T + "\nlogfile " + T +
                                 "/redis.log\nsave \"\"\nappendonly no\n");
  auto cert = run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 60 -subj /CN=localhost "
                          "-keyout " +
                          T + "/etc/nginx-key.pem -out " + T + "/etc/nginx-cert.pem");
  ASSERT_EQ(cert.exit_code, 0) << cert.err;
  std::filesystem::create_directories(T + "/etc/nginx");
  std::filesystem::rename(T + "/etc/nginx-key.pem", T + "/etc/nginx/key.pem");
  std::filesystem::rename(T + "/etc/nginx-cert.pem", T + "/etc/nginx/cert.pem");
  std::string temps;
  for (const char *d : {"client_body", "proxy", "fastcgi", "uwsgi", "scgi"})
    temps += std::string("  ") + d + "_temp_path " + T + "/" + d + ";\n";
  t.write("/etc/nginx/nginx.conf",
          "pid " + T + "/nginx.pid;\nerror_log " + T + "/nginx-error.log;\nevents {}\nhttp {\n" +
              temps +
              "  access_log off;\n  server {\n    listen 127.0.0.1:" + std::to_string(nginx_port) +
              " ssl;\n    server_name localhost;\n    ssl_certificate /etc/nginx/cert.pem;\n"
              "    ssl_certificate_key /etc/nginx/key.pem;\n    ssl_protocols TLSv1.2 TLSv1.3;\n"
              "    add_header Strict-Transport-Security \"max-age=63072000; includeSubDomains\" "
              "always;\n  }\n}\n");

  // Inside the namespace: mount, start, wait for both ports, audit twice
  // (live and not), stop. The trap stops the daemons whatever happens.
  const std::string checks = "redis.authentication,tls.min-version";
  const std::string bin = BULWARK_BINARY;
  std::string script =
      "set -u\n"
      "stop() { for p in " +
      T + "/redis.pid " + T +
      "/nginx.pid; do [ -s \"$p\" ] && kill -9 \"$(cat \"$p\")\" 2>/dev/null; "
      "done; return 0; }\n"
      "trap stop EXIT\n"
      "mount --bind " +
      T +
      "/etc /etc || exit 90\n"
      "redis-server " +
      T +
      "/run-redis.conf || exit 91\n"
      "nginx -c /etc/nginx/nginx.conf || exit 92\n"
      "for i in $(seq 100); do\n"
      "  (exec 3<>/dev/tcp/127.0.0.1/" +
      std::to_string(redis_port) + ") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/" +
      std::to_string(nginx_port) + ") 2>/dev/null && break\n" +
      "  sleep 0.05\n"
      "done\n" +
      bin + " audit --live --only " + checks + " --format json --output " + T + "/live.json\n" +
      bin + " audit --only " + checks + " --format json --output " + T +
      "/offline.json\n"
      "exit 0\n";
  t.write("/script.sh", script);
  auto r = run_command("unshare --mount --propagation private bash " + T + "/script.sh");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << slurp(T + "/redis.log")
                            << slurp(T + "/nginx-error.log");

  // Both daemons are gone, and the machine's /etc is untouched.
  for (const char *pidfile : {"/redis.pid", "/nginx.pid"}) {
    std::ifstream in(T + pidfile);
    pid_t pid = 0;
    in >> pid;
    ASSERT_GT(pid, 0) << pidfile;
    for (int i = 0; i < 100 && bulwark::test::RedisServer::alive(pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(bulwark::test::RedisServer::alive(pid)) << pidfile << " still running";
  }
  {
    std::ifstream host_conf("/etc/redis/redis.conf");
    std::string text(std::istreambuf_iterator<char>(host_conf), {});
    EXPECT_EQ(text.find(strong), std::string::npos) << "the test's redis.conf leaked into /etc";
  }

  auto live = nlohmann::json::parse(slurp(T + "/live.json"));
  auto offline = nlohmann::json::parse(slurp(T + "/offline.json"));
  EXPECT_EQ(live["target"]["live"], true);
  EXPECT_EQ(live["target"]["root"], "/");
  EXPECT_EQ(offline["target"]["live"], false);

  const std::string redis_at = "127.0.0.1:" + std::to_string(redis_port);
  const auto *off = finding(offline, "redis.authentication");
  ASSERT_NE(off, nullptr) << offline.dump(2);
  EXPECT_EQ((*off)["status"], "pass") << off->dump(2);
  const auto *on = finding(live, "redis.authentication");
  ASSERT_NE(on, nullptr) << live.dump(2);
  EXPECT_EQ((*on)["status"], "fail") << on->dump(2);
  EXPECT_TRUE(evidence_mentions(*on, redis_at)) << on->dump(2);
  // It says that the file and the server disagree, and shows both.
  EXPECT_NE((*on)["message"].get<std::string>().find(
                "disagrees with its configuration: /etc/redis/redis.conf:"),
            std::string::npos)
      << on->dump(2);
  EXPECT_TRUE(evidence_mentions(*on, "/etc/redis/redis.conf")) << on->dump(2);
  bool probe = false;
  for (auto &e : (*on)["evidence"])
    probe = probe || e["context"] == "live probe";
  EXPECT_TRUE(probe) << on->dump(2);

  const auto *tls = finding(live, "tls.min-version");
  ASSERT_NE(tls, nullptr) << live.dump(2);
  EXPECT_EQ((*tls)["status"], "pass") << tls->dump(2);
  EXPECT_TRUE(evidence_mentions(*tls, "127.0.0.1:" + std::to_string(nginx_port)))
      << "no live TLS probe in the evidence: " << tls->dump(2);
}

// PostgreSQL: the cluster's pg_hba.conf under /etc/postgresql asks for
// scram-sha-256, but the server that runs has loaded rules that trust TCP
// clients from loopback (a data directory's own pg_hba.conf, as when the file
// was edited without a reload or the server runs from another directory).
TEST(LiveAuditE2E, RunningPostgresTrustsWhatItsFileDoesNot) {
  if (std::string why = why_not(); !why.empty())
    GTEST_SKIP() << why;
  if (std::string why = bulwark::test::postgres_unavailable(); !why.empty())
    GTEST_SKIP() << why;
  bulwark::test::PgServer pg;
  ASSERT_EQ(pg.error(), "");
  pg.dir().write("data/pg_hba.conf", "local all all trust\nhost all all 127.0.0.1/32 trust\n"
                                     "host all all ::1/128 trust\n");
  auto reload = run_command(bulwark::test::as_postgres() + bulwark::test::k_pg_bin + "/pg_ctl -D " +
                            pg.data() + " reload");
  ASSERT_EQ(reload.exit_code, 0) << reload.out << reload.err;

  TempRoot t;
  const std::string T = t.path();
  ASSERT_EQ(run_command("cp -a /etc " + T + "/etc").exit_code, 0);
  std::filesystem::remove_all(T + "/etc/postgresql");
  t.write("/etc/postgresql/15/main/postgresql.conf",
          "data_directory = '" + pg.data() +
              "'\nhba_file = '/etc/postgresql/15/main/pg_hba.conf'\nport = " +
              std::to_string(pg.port()) + "\nlisten_addresses = 'localhost'\n");
  t.write("/etc/postgresql/15/main/pg_hba.conf",
          "local all postgres peer\nhost all all 127.0.0.1/32 scram-sha-256\n"
          "host all all ::1/128 scram-sha-256\n");

  const std::string bin = BULWARK_BINARY;
  const std::string only = " --only postgres.hba-no-trust --format json --output ";
  t.write("/script.sh", "set -u\nmount --bind " + T + "/etc /etc || exit 90\n" + bin +
                            " audit --live" + only + T + "/live.json\n" + bin + " audit" + only +
                            T + "/offline.json\nexit 0\n");
  auto r = run_command("unshare --mount --propagation private bash " + T + "/script.sh");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;

  auto live = nlohmann::json::parse(slurp(T + "/live.json"));
  auto offline = nlohmann::json::parse(slurp(T + "/offline.json"));
  const auto *off = finding(offline, "postgres.hba-no-trust");
  ASSERT_NE(off, nullptr) << offline.dump(2);
  EXPECT_EQ((*off)["status"], "pass") << off->dump(2);
  EXPECT_TRUE(evidence_mentions(*off, "/etc/postgresql/15/main/pg_hba.conf")) << off->dump(2);
  const auto *on = finding(live, "postgres.hba-no-trust");
  ASSERT_NE(on, nullptr) << live.dump(2);
  EXPECT_EQ((*on)["status"], "fail") << on->dump(2);
  EXPECT_TRUE(evidence_mentions(*on, "127.0.0.1:" + std::to_string(pg.port()))) << on->dump(2);
  EXPECT_NE((*on)["message"].get<std::string>().find(
                "disagrees with its configuration: /etc/postgresql/15/main/pg_hba.conf has no "
                "trust rule"),
            std::string::npos)
      << on->dump(2);
  EXPECT_TRUE(evidence_mentions(*on, "/etc/postgresql/15/main/pg_hba.conf")) << on->dump(2);
}
