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
  return bulwark::test::read_all(in);
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
  const std::string why = why_not();
  BULWARK_REQUIRE(why.empty()) << why;
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
  // Both the plain port and a TLS port (tls-auth-clients no: any client may
  // connect, the password is what protects it).
  int tls_port = bulwark::test::free_port();
  while (tls_port == redis_port || tls_port == nginx_port)
    tls_port = bulwark::test::free_port();
  auto redis_cert = run_command(
      "mkdir -p " + T + "/etc/redis && cd " + T +
      "/etc/redis && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes "
      "-days 30 -subj /CN=localhost -keyout key.pem -out cert.pem");
  ASSERT_EQ(redis_cert.exit_code, 0) << redis_cert.err;
  const std::string redis_tls =
      "tls-port " + std::to_string(tls_port) +
      "\ntls-cert-file /etc/redis/cert.pem\ntls-key-file /etc/redis/key.pem\n"
      "tls-ca-cert-file /etc/redis/cert.pem\ntls-auth-clients no\n";
  t.write("/etc/redis/redis.conf", "bind 127.0.0.1\nport " + std::to_string(redis_port) +
                                       "\nprotected-mode yes\nrequirepass " + strong + "\n" +
                                       redis_tls);
  // What actually runs: the same ports, no password.
  t.write("/run-redis.conf", "bind 127.0.0.1\nport " + std::to_string(redis_port) +
                                 "\nprotected-mode yes\ndaemonize yes\npidfile " + T +
                                 "/redis.pid\ndir " + T + "\nlogfile " + T +
                                 "/redis.log\nsave \"\"\nappendonly no\n" + redis_tls);
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
      // nginx's master stops its workers on TERM; a KILL would orphan them.
      "stop() { [ -s " +
      T + "/redis.pid ] && kill -9 \"$(cat " + T +
      "/redis.pid)\" 2>/dev/null\n"
      "  if [ -s " +
      T + "/nginx.pid ]; then n=$(cat " + T + "/nginx.pid); echo $n > " + T +
      "/nginx.pid.kept; kill -TERM $n 2>/dev/null\n"
      "    for i in $(seq 150); do kill -0 $n 2>/dev/null || break; sleep 0.02; done\n"
      "    pkill -KILL -P $n 2>/dev/null; kill -9 $n 2>/dev/null; fi; return 0; }\n"
      "trap stop EXIT\n"
      "mount --bind " +
      T +
      "/etc /etc || exit 90\n"
      "redis-server " +
      T +
      "/run-redis.conf || exit 91\n"
      "nginx -c /etc/nginx/nginx.conf || exit 92\n"
      // Both ports open, within 20 s; else stop here with a code of its own
      // (an audit of daemons that never listened would fail misleadingly).
      "up=0\nfor i in $(seq 400); do\n"
      "  (exec 3<>/dev/tcp/127.0.0.1/" +
      std::to_string(redis_port) + ") 2>/dev/null && (exec 3<>/dev/tcp/127.0.0.1/" +
      std::to_string(nginx_port) + ") 2>/dev/null && { up=1; break; }\n" +
      "  sleep 0.05\n"
      "done\n"
      "[ $up = 1 ] || { echo 'redis or nginx never listened'; exit 93; }\n" +
      bin + " audit --live --only " + checks + " --format json --output " + T + "/live.json\n" +
      bin + " audit --only " + checks + " --format json --output " + T +
      "/offline.json\n"
      "exit 0\n";
  t.write("/script.sh", script);
  auto r = run_command("unshare --mount --propagation private bash " + T + "/script.sh");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << slurp(T + "/redis.log")
                            << slurp(T + "/nginx-error.log");

  // Both daemons are gone, and the machine's /etc is untouched.
  // (nginx removes its pid file when it stops: stop() kept a copy.)
  for (const char *pidfile : {"/redis.pid", "/nginx.pid.kept"}) {
    std::ifstream in(T + pidfile);
    pid_t pid = 0;
    in >> pid;
    ASSERT_GT(pid, 0) << pidfile;
    for (int i = 0; i < 100 && bulwark::test::RedisServer::alive(pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(bulwark::test::RedisServer::alive(pid)) << pidfile << " still running";
  }
  // Nothing listens on the test's ports any more (nginx's workers included).
  for (int port : {redis_port, nginx_port, tls_port}) {
    bool open = true;
    for (int i = 0; i < 100 && open; ++i) {
      open = run_command("bash -c '(exec 3<>/dev/tcp/127.0.0.1/" + std::to_string(port) + ")'")
                 .exit_code == 0;
      if (open)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    EXPECT_FALSE(open) << "something still listens on port " << port;
  }
  {
    std::ifstream host_conf("/etc/redis/redis.conf");
    std::string text = bulwark::test::read_all(host_conf);
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
  // The TLS port was probed too, over TLS.
  EXPECT_TRUE(
      evidence_mentions(*on, "127.0.0.1:" + std::to_string(tls_port) + " (TLS): pong-without-auth"))
      << on->dump(2);
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
  const std::string why = why_not();
  BULWARK_REQUIRE(why.empty()) << why;
  const std::string why_pg = bulwark::test::postgres_unavailable();
  BULWARK_REQUIRE(why_pg.empty()) << why_pg;
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

// OpenVPN: a real server (in a network namespace of the test's own, with its
// own tun device) started while its file had no `user`/`group`; the file is
// then hardened but the daemon is not restarted. Offline the file passes;
// live, the daemon still runs as root and the check says the two disagree.
TEST(LiveAuditE2E, RunningOpenVpnStillRootAfterItsFileWasHardened) {
  const std::string why = why_not();
  BULWARK_REQUIRE(why.empty()) << why;
  BULWARK_REQUIRE(
      !(!std::filesystem::exists("/usr/sbin/openvpn") || !std::filesystem::exists("/dev/net/tun")))
      << "needs /usr/sbin/openvpn (Debian package openvpn) and /dev/net/tun";
  const std::string ns = "bw-e2e-" + std::to_string(::getpid());
  BULWARK_REQUIRE(run_command("ip netns add " + ns).exit_code == 0)
      << "cannot create a network namespace here (ip netns add failed)";
  struct NetnsGuard {
    std::string name;
    ~NetnsGuard() { (void)run_command("ip netns del " + name); }
  } guard{ns};

  TempRoot t;
  const std::string T = t.path();
  ASSERT_EQ(run_command("cp -a /etc " + T + "/etc").exit_code, 0);
  std::filesystem::remove_all(T + "/etc/openvpn");
  const std::string dir = T + "/etc/openvpn/server";
  std::filesystem::create_directories(dir);
  auto pki = run_command(
      "cd " + dir +
      " && openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 30 "
      "-subj /CN=bw-ca -keyout ca.key -out ca.pem && openssl req -newkey ec -pkeyopt "
      "ec_paramgen_curve:P-256 -nodes -subj /CN=bw-server -keyout server.key -out server.csr && "
      "openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -days 30 -out "
      "server.pem");
  ASSERT_EQ(pki.exit_code, 0) << pki.err;
  const std::string base = "mode server\ntls-server\ndev tun\ntopology subnet\n"
                           "server 10.213.0.0 255.255.255.0\nlocal 127.0.0.1\nport 41194\n"
                           "proto udp\nca ca.pem\ncert server.pem\nkey server.key\ndh none\n"
                           "tls-version-min 1.2\npersist-key\npersist-tun\n";
  t.write("/etc/openvpn/server/server.conf", base);
  t.write("/hardened.conf", base + "user nobody\ngroup nogroup\n");

  const std::string bin = BULWARK_BINARY;
  const std::string only = " --only vpn.openvpn-privileges --format json --output ";
  std::string script =
      "set -u\nstop() { [ -s " + T + "/ovpn.pid ] && kill \"$(cat " + T +
      "/ovpn.pid)\" 2>/dev/null; return 0; }\ntrap stop EXIT\n"
      "mount --bind " +
      T + "/etc /etc || exit 90\nip netns exec " + ns + " ip link set lo up || exit 91\n" +
      "ip netns exec " + ns + " openvpn --daemon --writepid " + T + "/ovpn.pid --log " + T +
      "/ovpn.log --cd /etc/openvpn/server --config server.conf || exit 92\n"
      "for i in $(seq 200); do grep -q 'Initialization Sequence Completed' " +
      T + "/ovpn.log 2>/dev/null && break; sleep 0.05; done\n" +
      // OpenVPN 2.6 removes its pid file when it exits: keep a copy for the
      // check below that it is gone (reading the original raced the exit).
      "cp " + T + "/ovpn.pid " + T + "/ovpn.pid.kept\n" + "cp " + T +
      "/hardened.conf /etc/openvpn/server/server.conf\n" + bin + " audit --live" + only + T +
      "/live.json\n" + bin + " audit" + only + T + "/offline.json\nexit 0\n";
  t.write("/script.sh", script);
  auto r = run_command("unshare --mount --propagation private bash " + T + "/script.sh");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err << slurp(T + "/ovpn.log");
  ASSERT_NE(slurp(T + "/ovpn.log").find("Initialization Sequence Completed"), std::string::npos)
      << slurp(T + "/ovpn.log");
  {
    std::ifstream in(T + "/ovpn.pid.kept");
    pid_t pid = 0;
    in >> pid;
    ASSERT_GT(pid, 0);
    for (int i = 0; i < 100 && bulwark::test::RedisServer::alive(pid); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    EXPECT_FALSE(bulwark::test::RedisServer::alive(pid)) << "openvpn still running";
  }

  auto live = nlohmann::json::parse(slurp(T + "/live.json"));
  auto offline = nlohmann::json::parse(slurp(T + "/offline.json"));
  const std::string conf = "/etc/openvpn/server/server.conf";
  const auto *off = finding(offline, "vpn.openvpn-privileges");
  ASSERT_NE(off, nullptr) << offline.dump(2);
  EXPECT_EQ((*off)["status"], "pass") << off->dump(2);
  EXPECT_EQ((*off)["subject"], conf);
  const auto *on = finding(live, "vpn.openvpn-privileges");
  ASSERT_NE(on, nullptr) << live.dump(2);
  EXPECT_EQ((*on)["status"], "fail") << on->dump(2);
  EXPECT_NE((*on)["message"].get<std::string>().find("disagrees with its configuration: " + conf),
            std::string::npos)
      << on->dump(2);
  EXPECT_TRUE(evidence_mentions(*on, "runs as uid 0 (root)")) << on->dump(2);
  EXPECT_TRUE(evidence_mentions(*on, conf)) << on->dump(2);
}
