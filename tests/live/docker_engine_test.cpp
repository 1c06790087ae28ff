// The Docker engine path (issue 15): the HTTP/1.1 client over a unix socket
// (framing, limits, hostile answers), the engine model and the checks on a
// recorded-response server, the same checks on a real dockerd (Debian's
// docker.io, started here in its own network namespace with a private
// data-root and socket) compared with `docker inspect`, and Docker's
// firewall path on the rules a real dockerd wrote (tests/data/docker/).

#include "../support.hpp"
#include "docker_fake_server.hpp"

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/docker_engine.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/live/docker.hpp>
#include <bulwark/live/probes.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <csignal>
#include <fstream>
#include <thread>

using namespace bulwark;
using bulwark::test::FakeDockerServer;
using bulwark::test::TempRoot;
using nlohmann::json;

namespace {

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

// Runs one check on `root`, reading the engine at `docker_host` (may be
// empty) and, when `probes` is given, with --live on those probes.
std::vector<Finding> run_check(const std::string &root, const std::string &id,
                               const std::string &docker_host,
                               std::shared_ptr<live::Probes> probes = nullptr,
                               std::vector<std::string> compose = {}) {
  RootFs fs(root);
  TargetOptions options;
  options.docker_host = docker_host;
  options.compose_files = std::move(compose);
  if (probes) {
    options.live = true;
    options.probes = std::move(probes);
  }
  Context ctx(fs, options);
  const Catalogue &cat = Catalogue::builtin();
  auto profile = apply_profile(cat, Profile{}, "baseline");
  const CheckSpec *spec = cat.find(id);
  const CheckImpl *impl = find_check(id);
  if (!profile.ok() || spec == nullptr || impl == nullptr) {
    ADD_FAILURE() << "no check " << id;
    return {};
  }
  CheckRun run(ctx, *spec, *profile);
  impl->run(run);
  return run.findings();
}

const Finding *find(const std::vector<Finding> &fs, const std::string &subject) {
  for (auto &f : fs)
    if (f.subject == subject)
      return &f;
  return nullptr;
}

std::string dump(const std::vector<Finding> &fs) {
  std::string s;
  for (auto &f : fs) {
    s += std::string(to_string(f.status)) + " [" + f.subject + "] " + f.message + "\n";
    for (auto &e : f.evidence)
      s +=
          "   " + e.path + ":" + std::to_string(e.line) + " " + e.found + " | " + e.expected + "\n";
  }
  return s;
}

Status status_of(const std::vector<Finding> &fs, const std::string &subject) {
  const Finding *f = find(fs, subject);
  if (!f) {
    ADD_FAILURE() << "no finding for " << subject << "\n" << dump(fs);
    return Status::error;
  }
  return f->status;
}

} // namespace

// ---- HTTP framing ---------------------------------------------------------------

TEST(DockerHttp, ContentLengthAndChunkedBodiesAreDecoded) {
  live::HttpLimits lim;
  auto r =
      live::parse_http_response("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello", lim, false);
  ASSERT_TRUE(r.ok() && r.value());
  EXPECT_EQ(r.value()->status, 200);
  EXPECT_EQ(r.value()->body, "hello");
  auto c = live::parse_http_response("HTTP/1.1 200 OK\r\nTransfer-Encoding: "
                                     "chunked\r\n\r\n3;ext=1\r\n[1,\r\nA\r\n2,3,4,5,6]\r\n0\r\n"
                                     "X-Trailer: t\r\n\r\n",
                                     lim, false);
  ASSERT_TRUE(c.ok() && c.value()) << (c.ok() ? "" : c.error().message);
  EXPECT_EQ(c.value()->body, "[1,2,3,4,5,6]");
  EXPECT_EQ(c.value()->headers.at("transfer-encoding"), "chunked");
}

TEST(DockerHttp, IncompleteIsNotAnAnswerAndEofInsideIsAnError) {
  live::HttpLimits lim;
  std::string full = FakeDockerServer::json_response("{\"a\":[1,2,3]}");
  for (size_t cut = 0; cut < full.size(); ++cut) {
    auto part = live::parse_http_response(std::string_view(full).substr(0, cut), lim, false);
    ASSERT_TRUE(part.ok()) << cut;
    EXPECT_FALSE(part.value().has_value()) << "complete after " << cut << " bytes";
    auto eof = live::parse_http_response(std::string_view(full).substr(0, cut), lim, true);
    EXPECT_FALSE(eof.ok()) << "truncated at " << cut << " taken as complete";
  }
  auto whole = live::parse_http_response(full, lim, false);
  ASSERT_TRUE(whole.ok() && whole.value());
  EXPECT_EQ(whole.value()->body, "{\"a\":[1,2,3]}");
}

TEST(DockerHttp, HostileFramingIsAClearError) {
  live::HttpLimits lim;
  lim.max_body_bytes = 1000;
  lim.max_header_bytes = 200;
  struct Case {
    std::string raw, says;
  } cases[] = {
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n", "bad chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nffffffffffffffffffff\r\n",
       "bad chunk size"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n10000\r\n", "over 1000 bytes"},
      {"HTTP/1.1 200 OK\r\nContent-Length: 99999\r\n\r\n", "over 1000 bytes"},
      {"HTTP/1.1 200 OK\r\nContent-Length: -1\r\n\r\n", "malformed Content-Length"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: gzip\r\n\r\n", "unsupported Transfer-Encoding"},
      {"SSH-2.0-OpenSSH_9.2\r\n\r\n", "not an HTTP/1.x status line"},
      {"HTTP/1.1 200 OK\r\n" + std::string(300, 'x'), "header over 200 bytes"},
      {"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY", "not followed by CRLF"},
  };
  for (auto &c : cases) {
    auto r = live::parse_http_response(c.raw, lim, false);
    ASSERT_FALSE(r.ok() && !r.value()) << "accepted as incomplete: " << c.raw;
    ASSERT_FALSE(r.ok()) << "accepted: " << c.raw;
    EXPECT_NE(r.error().message.find(c.says), std::string::npos)
        << r.error().message << " for " << c.raw;
  }
}

TEST(DockerHttp, UnixSocketGetReadsAChunkedAnswerAndTimesOutOnAHungServer) {
  TempRoot tmp;
  FakeDockerServer srv(tmp.path() + "/d.sock");
  ASSERT_TRUE(srv.ok());
  std::string big = "[";
  for (int i = 0; i < 20000; ++i)
    big += (i ? "," : "") + std::to_string(i);
  big += "]";
  srv.route("/x", FakeDockerServer::json_response(big));
  auto r = live::unix_http_get(srv.path(), "/x");
  ASSERT_TRUE(r.ok()) << r.error().message;
  EXPECT_EQ(r.value().body, big);
  auto missing = live::unix_http_get(srv.path(), "/nope");
  ASSERT_TRUE(missing.ok());
  EXPECT_EQ(missing.value().status, 404);

  live::HttpLimits small;
  small.max_body_bytes = 1000;
  auto capped = live::unix_http_get(srv.path(), "/x", small);
  ASSERT_FALSE(capped.ok());
  EXPECT_NE(capped.error().message.find("over 1000 bytes"), std::string::npos);

  srv.delay_ms = 1500;
  live::HttpLimits quick;
  quick.timeout = std::chrono::milliseconds(300);
  auto t0 = std::chrono::steady_clock::now();
  auto hung = live::unix_http_get(srv.path(), "/x", quick);
  auto took = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(hung.ok());
  EXPECT_NE(hung.error().message.find("within 300 ms"), std::string::npos) << hung.error().message;
  EXPECT_LT(took, std::chrono::milliseconds(1200));

  auto nosock = live::unix_http_get(tmp.path() + "/absent.sock", "/info");
  ASSERT_FALSE(nosock.ok());
  EXPECT_NE(nosock.error().message.find("cannot connect"), std::string::npos);
}

TEST(DockerHttp, DockerHostMustBeAUnixSocket) {
  EXPECT_EQ(live::docker_socket_path("unix:///run/docker.sock").value(), "/run/docker.sock");
  EXPECT_FALSE(live::docker_socket_path("tcp://10.0.0.1:2375").ok());
  EXPECT_FALSE(live::docker_socket_path("unix://relative.sock").ok());
}

// ---- the engine model and the checks on recorded answers ------------------------

namespace {

json container_json(const std::string &id, const std::string &name, json host_config,
                    json config = json::object(), json mounts = json::array()) {
  json c = {{"Id", id},
            {"Name", "/" + name},
            {"Image", "sha256:" + std::string(64, 'a')},
            {"State", {{"Status", "running"}}},
            {"Config", {{"Image", "tiny:1"}, {"User", ""}, {"Env", json::array()}}},
            {"HostConfig", host_config},
            {"Mounts", mounts},
            {"NetworkSettings", {{"Networks", json::object()}}}};
  for (auto &[k, v] : config.items())
    c["Config"][k] = v;
  return c;
}

void serve_engine(FakeDockerServer &srv, const std::vector<json> &containers, int64_t image_created,
                  bool chunked = true) {
  json list = json::array();
  for (auto &c : containers) {
    list.push_back({{"Id", c["Id"]}, {"Names", {c["Name"]}}});
    srv.route("/containers/" + c["Id"].get<std::string>() + "/json",
              FakeDockerServer::json_response(c.dump(), chunked));
  }
  srv.route("/containers/json?all=1", FakeDockerServer::json_response(list.dump(), chunked));
  srv.route("/info", FakeDockerServer::json_response(
                         R"({"Swarm":{"LocalNodeState":"inactive"},"ExperimentalBuild":false,
                             "LiveRestoreEnabled":false,
                             "RegistryConfig":{"InsecureRegistryCIDRs":["127.0.0.0/8"]}})"));
  srv.route("/images/json",
            FakeDockerServer::json_response(json::array({{{"Id", "sha256:" + std::string(64, 'a')},
                                                          {"RepoTags", {"tiny:1"}},
                                                          {"Created", image_created}}})
                                                .dump()));
  srv.route("/networks", FakeDockerServer::json_response("[]"));
}

std::string hex_id(char c) {
  return std::string(64, c);
}

} // namespace

TEST(DockerEngine, RecordedEngineIsJudgedByEveryContainerCheck) {
  TempRoot root, tmp;
  root.mkdir("/etc");
  FakeDockerServer srv(tmp.path() + "/docker.sock");
  ASSERT_TRUE(srv.ok());
  json risky =
      container_json(hex_id('1'), "risky",
                     {{"Privileged", true},
                      {"CapAdd", {"SYS_ADMIN"}},
                      {"SecurityOpt", {"seccomp=unconfined"}},
                      {"PortBindings", {{"5432/tcp", {{{"HostIp", ""}, {"HostPort", "5432"}}}}}}},
                     json::object(),
                     json::array({{{"Type", "bind"},
                                   {"Source", "/var/run/docker.sock"},
                                   {"Destination", "/var/run/docker.sock"},
                                   {"RW", true}}}));
  json tidy = container_json(
      hex_id('2'), "tidy",
      {{"Privileged", false},
       {"ReadonlyRootfs", true},
       {"CapDrop", {"ALL"}},
       {"SecurityOpt", {"no-new-privileges"}},
       {"PortBindings", {{"5432/tcp", {{{"HostIp", "127.0.0.1"}, {"HostPort", "5432"}}}}}}},
      {{"User", "1000:1000"}});
  serve_engine(srv, {risky, tidy}, std::time(nullptr) - 400 * 86400, /*chunked=*/false);
  std::string host = "unix://" + srv.path();
  struct Expect {
    const char *check;
    Status risky, tidy;
  } expects[] = {
      {"container.no-privileged", Status::fail, Status::pass},
      {"container.cap-add-minimal", Status::fail, Status::pass},
      {"container.cap-drop-all", Status::fail, Status::pass},
      {"container.no-docker-socket", Status::fail, Status::pass},
      {"container.non-root-user", Status::fail, Status::pass},
      {"container.read-only-rootfs", Status::fail, Status::pass},
      {"container.no-new-privileges", Status::fail, Status::pass},
      {"container.published-ports", Status::fail, Status::pass},
      {"docker.image-age", Status::fail, Status::fail},
  };
  for (auto &e : expects) {
    auto fs = run_check(root.path(), e.check, host);
    EXPECT_EQ(status_of(fs, "container risky"), e.risky) << e.check << "\n" << dump(fs);
    EXPECT_EQ(status_of(fs, "container tidy"), e.tidy) << e.check << "\n" << dump(fs);
    const Finding *f = find(fs, "container risky");
    ASSERT_TRUE(f && !f->evidence.empty()) << e.check;
    EXPECT_EQ(f->evidence[0].path, "docker:/containers/risky/json") << e.check;
  }
  // The same answers chunked: the same verdicts.
  FakeDockerServer chunked(tmp.path() + "/chunked.sock");
  serve_engine(chunked, {risky, tidy}, std::time(nullptr) - 10 * 86400, true);
  auto age = run_check(root.path(), "docker.image-age", "unix://" + chunked.path());
  EXPECT_EQ(status_of(age, "container tidy"), Status::pass) << dump(age);
}

TEST(DockerEngine, UnreachableOrBrokenEngineIsAnErrorNeverAPass) {
  TempRoot root, tmp;
  root.mkdir("/etc");
  for (auto id : {"container.no-privileged", "container.runtime-drift", "docker.image-age"}) {
    auto fs = run_check(root.path(), id, "unix://" + tmp.path() + "/absent.sock");
    ASSERT_FALSE(fs.empty()) << id;
    for (auto &f : fs)
      EXPECT_EQ(f.status, Status::error) << id << "\n" << dump(fs);
  }
  FakeDockerServer srv(tmp.path() + "/bad.sock");
  srv.route("/info", FakeDockerServer::json_response("{}"));
  srv.route("/containers/json?all=1", FakeDockerServer::json_response("{\"not\":\"a list\"}"));
  auto fs = run_check(root.path(), "container.no-privileged", "unix://" + srv.path());
  ASSERT_EQ(fs.size(), 1u) << dump(fs);
  EXPECT_EQ(fs[0].status, Status::error);
  EXPECT_NE(fs[0].message.find("expected a JSON array"), std::string::npos) << fs[0].message;
}

namespace {

// A FakeProbes that has only a ruleset and, optionally, an engine socket.
class FirewallProbes : public live::Probes {
public:
  Result<std::string> nft = Error{"fake: no nftables"};
  Result<procfs::ProcessTable> procs = procfs::ProcessTable{};
  Result<std::vector<procnet::Listener>> sockets = std::vector<procnet::Listener>{};
  bool is_local_address(const std::string &) override { return true; }
  live::SshProbe ssh(const std::string &, int) override { return {}; }
  live::TlsProbe tls(const std::string &, int, const std::string &) override { return {}; }
  std::vector<live::PgProbeResult> pg_no_password(int) override { return {}; }
  live::PgLiveInfo pg_query(const std::string &) override { return {}; }
  live::RedisProbeResult redis(const std::string &, int) override { return {}; }
  live::RedisProbeResult redis_tls(const std::string &, int) override { return {}; }
  Result<std::string> nft_ruleset() override { return nft; }
  const Result<procfs::ProcessTable> &processes() override { return procs; }
  const Result<std::vector<procnet::Listener>> &listeners() override { return sockets; }
  Result<FileInfo> stat_in_process_root(int, const std::string &path) override {
    return Error{"fake", path, 0, ENOENT};
  }
};

std::string fixture(const std::string &name) {
  return slurp(std::string(BULWARK_SOURCE_DIR) + "/tests/data/docker/" + name);
}

} // namespace

TEST(DockerFirewall, PublishedPortsOfARealDockerdBypassInputAndDockerUserClosesThem) {
  std::string rules = fixture("dockerd-nft-ruleset.txt");
  ASSERT_NE(rules.find("dnat to 172.17.0.2:80"), std::string::npos);
  TempRoot root;
  root.mkdir("/etc");
  auto probes = std::make_shared<FirewallProbes>();
  // ufw-like INPUT: drop by policy. The published ports are still open.
  std::string with_input = rules + "table ip filter {\n chain INPUT {\n  type filter hook input "
                                   "priority filter; policy drop;\n  tcp dport 22 accept\n }\n}\n";
  probes->nft = with_input;
  auto open = run_check(root.path(), "firewall.docker-published-ports", "", probes);
  EXPECT_EQ(status_of(open, "172.17.0.2:80"), Status::fail) << dump(open);   // 8080 -> web:80
  EXPECT_EQ(status_of(open, "172.18.0.2:6379"), Status::fail) << dump(open); // 6379 -> db
  EXPECT_EQ(status_of(open, "172.17.0.2:5432"), Status::pass) << dump(open); // 127.0.0.1 only
  // DOCKER-USER drops 6379 and 80 from outside: both pass.
  std::string closed = with_input;
  auto at = closed.find("chain DOCKER-USER {");
  ASSERT_NE(at, std::string::npos);
  closed.insert(closed.find('\n', at) + 1, "\t\tiifname \"eth0\" tcp dport { 80, 6379 } drop\n");
  probes->nft = closed;
  auto shut = run_check(root.path(), "firewall.docker-published-ports", "", probes);
  EXPECT_EQ(status_of(shut, "172.17.0.2:80"), Status::pass) << dump(shut);
  EXPECT_EQ(status_of(shut, "172.18.0.2:6379"), Status::pass) << dump(shut);
}

TEST(DockerFirewall, ForwardPolicyFollowsTheForwardChain) {
  std::string rules = fixture("dockerd-nft-ruleset.txt");
  TempRoot root;
  root.mkdir("/etc");
  auto probes = std::make_shared<FirewallProbes>();
  probes->nft = rules; // dockerd leaves FORWARD's policy accept when forwarding was on
  auto accept = run_check(root.path(), "firewall.forward-policy", "", probes);
  EXPECT_EQ(status_of(accept, "IPv4"), Status::fail) << dump(accept);
  std::string drop = rules;
  auto at = drop.find("type filter hook forward priority filter; policy accept;");
  ASSERT_NE(at, std::string::npos);
  drop.replace(at, std::string("type filter hook forward priority filter; policy accept;").size(),
               "type filter hook forward priority filter; policy drop;");
  probes->nft = drop;
  auto dropped = run_check(root.path(), "firewall.forward-policy", "", probes);
  EXPECT_EQ(status_of(dropped, "IPv4"), Status::pass) << dump(dropped);
}

TEST(DockerFirewall, OfflineComposePortsAreWhatDockerdWillPublish) {
  TempRoot root;
  root.write("/srv/app/docker-compose.yml", "services:\n"
                                            "  db:\n"
                                            "    image: postgres:16\n"
                                            "    ports: [\"5432:5432\"]\n"
                                            "  cache:\n"
                                            "    image: redis:7\n"
                                            "    ports: [\"127.0.0.1:6379:6379\"]\n"
                                            "  web:\n"
                                            "    image: nginx:1.25\n"
                                            "    ports: [\"443:443\"]\n");
  auto fs = run_check(root.path(), "firewall.docker-published-ports", "");
  EXPECT_EQ(status_of(fs, "app/db"), Status::fail) << dump(fs);
  EXPECT_EQ(status_of(fs, "app/cache"), Status::pass) << dump(fs);
  EXPECT_EQ(status_of(fs, "app/web"), Status::pass) << dump(fs); // 443/tcp is allowed
  const Finding *db = find(fs, "app/db");
  ASSERT_TRUE(db && !db->evidence.empty());
  EXPECT_EQ(db->evidence[0].path, "/srv/app/docker-compose.yml");
  EXPECT_EQ(db->evidence[0].line, 4);
  // "ip": "127.0.0.1" in daemon.json: unbound ports go to loopback.
  root.write("/etc/docker/daemon.json", "{\"ip\": \"127.0.0.1\"}\n");
  auto lo = run_check(root.path(), "firewall.docker-published-ports", "");
  EXPECT_EQ(status_of(lo, "app/db"), Status::pass) << dump(lo);
}

TEST(DockerCli, DockerOptionTakesOnlyAUnixSocketAndAnUnreachableOneFailsTheRun) {
  TempRoot root;
  root.mkdir("/etc");
  auto tcp = bulwark::test::run_command(std::string(BULWARK_BINARY) + " audit --root " +
                                        root.path() + " --docker tcp://10.0.0.1:2375");
  EXPECT_EQ(tcp.exit_code, 2) << tcp.err;
  EXPECT_NE(tcp.err.find("only unix:///path/to/docker.sock"), std::string::npos) << tcp.err;
  auto gone = bulwark::test::run_command(
      std::string(BULWARK_BINARY) + " audit --root " + root.path() + " --docker unix://" +
      root.path() + "/absent.sock --only container.no-privileged --format json --fail-on high");
  EXPECT_EQ(gone.exit_code, 1) << gone.out << gone.err; // the error counts as a failure
  auto j = json::parse(gone.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << gone.out;
  ASSERT_EQ(j["summary"]["error"], 1) << gone.out;
  EXPECT_EQ(j["summary"]["pass"], 0);
}

TEST(DockerFirewall, ForwardPolicyPassesAHostThatForwardsNothing) {
  TempRoot root;
  root.mkdir("/etc");
  // No firewall, no forwarding (the kernel's default), no dockerd: nothing is routed.
  auto quiet = run_check(root.path(), "firewall.forward-policy", "");
  EXPECT_EQ(status_of(quiet, "IPv4"), Status::pass) << dump(quiet);
  root.write("/etc/sysctl.d/99-forward.conf", "net.ipv4.ip_forward = 1\n");
  auto routing = run_check(root.path(), "firewall.forward-policy", "");
  EXPECT_EQ(status_of(routing, "IPv4"), Status::fail) << dump(routing);
  root.write("/etc/sysctl.d/99-forward.conf", "net.ipv4.ip_forward = 0\n");
  root.write("/etc/docker/daemon.json", "{}\n"); // dockerd turns forwarding on at start
  auto docker = run_check(root.path(), "firewall.forward-policy", "");
  EXPECT_EQ(status_of(docker, "IPv4"), Status::fail) << dump(docker);
}

// ---- swarm services ------------------------------------------------------------

namespace {

// A manager's answers: /services, /secrets and /networks as a real dockerd
// gave them (tests/data/docker/swarm-engine.json), `extra` services added.
void serve_swarm(FakeDockerServer &srv, const json &recorded, const json &extra,
                 bool manager = true) {
  json services = recorded["services"];
  for (auto &s : extra)
    services.push_back(s);
  srv.route(
      "/info",
      FakeDockerServer::json_response(
          json{{"Swarm", {{"LocalNodeState", "active"}, {"ControlAvailable", manager}}}}.dump()));
  srv.route("/containers/json?all=1", FakeDockerServer::json_response("[]"));
  srv.route("/images/json", FakeDockerServer::json_response("[]"));
  srv.route("/networks", FakeDockerServer::json_response(recorded["networks"].dump()));
  srv.route("/services", FakeDockerServer::json_response(services.dump()));
  srv.route("/secrets", FakeDockerServer::json_response(recorded["secrets"].dump()));
}

} // namespace

TEST(DockerEngine, SwarmServicesOfARecordedManagerAreJudgedAsServices) {
  json recorded = json::parse(fixture("swarm-engine.json"));
  ASSERT_EQ(recorded["services"].size(), 2u);
  TempRoot root, tmp;
  root.mkdir("/etc");
  FakeDockerServer srv(tmp.path() + "/docker.sock");
  ASSERT_TRUE(srv.ok());
  // Engine API 1.44+ Privileges (newer than the recording's dockerd 20.10):
  // what a stack's security_opt seccomp/apparmor unconfined becomes.
  json unconfined = {
      {"ID", "u1"},
      {"Spec",
       {{"Name", "unconfined"},
        {"TaskTemplate",
         {{"ContainerSpec",
           {{"Image", "tiny:1"},
            {"User", "1000"},
            {"Privileges",
             {{"Seccomp", {{"Mode", "unconfined"}}}, {"AppArmor", {{"Mode", "disabled"}}}}}}}}}}}};
  serve_swarm(srv, recorded, json::array({unconfined}));
  std::string host = "unix://" + srv.path();
  struct Expect {
    const char *check;
    Status risky, tidy;
  } expects[] = {
      {"container.no-privileged", Status::pass, Status::pass},
      {"container.cap-add-minimal", Status::fail, Status::pass},
      {"container.cap-drop-all", Status::fail, Status::pass},
      {"container.no-docker-socket", Status::fail, Status::pass},
      {"container.non-root-user", Status::fail, Status::pass},
      {"container.read-only-rootfs", Status::fail, Status::pass},
      {"container.published-ports", Status::fail, Status::pass},
      {"container.ports-bound-to-interface", Status::fail, Status::pass},
      {"container.secrets-not-in-env", Status::fail, Status::pass},
      {"container.restart-policy", Status::fail, Status::pass},
      {"container.healthcheck", Status::fail, Status::pass},
      {"container.auto-rollback", Status::fail, Status::pass},
      {"container.mount-propagation", Status::fail, Status::pass},
  };
  for (auto &e : expects) {
    auto fs = run_check(root.path(), e.check, host);
    EXPECT_EQ(status_of(fs, "service risky"), e.risky) << e.check << "\n" << dump(fs);
    EXPECT_EQ(status_of(fs, "service tidy"), e.tidy) << e.check << "\n" << dump(fs);
    const Finding *f = find(fs, "service risky");
    ASSERT_TRUE(f && !f->evidence.empty()) << e.check;
    EXPECT_EQ(f->evidence[0].path, "docker:/services/risky") << e.check;
  }
  auto seccomp = run_check(root.path(), "container.no-unconfined-seccomp", host);
  EXPECT_EQ(status_of(seccomp, "service unconfined"), Status::fail) << dump(seccomp);
  EXPECT_EQ(status_of(seccomp, "service tidy"), Status::pass) << dump(seccomp);
  auto mac = run_check(root.path(), "container.no-unconfined-mac", host);
  EXPECT_EQ(status_of(mac, "service unconfined"), Status::fail) << dump(mac);
  // The overlay networks: secnet was created with --opt encrypted; the
  // ingress network is not judged.
  auto overlay = run_check(root.path(), "network.encrypted-overlay", host);
  EXPECT_EQ(status_of(overlay, "network backnet"), Status::fail) << dump(overlay);
  EXPECT_EQ(status_of(overlay, "network secnet"), Status::pass) << dump(overlay);
  EXPECT_EQ(find(overlay, "network ingress"), nullptr) << dump(overlay);
  // A worker cannot list services: nothing is judged as a service, and the
  // run does not pretend it saw any.
  // A worker's dockerd answers GET /services with 503 and moby's
  // errNoManager text (daemon/cluster/errors.go): the audit says so, in
  // the engine's words, instead of passing in silence.
  FakeDockerServer worker(tmp.path() + "/worker.sock");
  serve_swarm(worker, recorded, json::array(), /*manager=*/false);
  const std::string no_manager =
      "This node is not a swarm manager. Worker nodes can't be used to view or modify cluster "
      "state. Please run this command on a manager node or promote the current node to a "
      "manager.";
  std::string body = json{{"message", no_manager}}.dump() + "\n";
  worker.route("/services", "HTTP/1.1 503 Service Unavailable\r\nApi-Version: 1.41\r\n"
                            "Content-Type: application/json\r\nContent-Length: " +
                                std::to_string(body.size()) + "\r\n\r\n" + body);
  for (const char *check : {"container.no-privileged", "container.auto-rollback"}) {
    auto w = run_check(root.path(), check, "unix://" + worker.path());
    EXPECT_EQ(find(w, "service risky"), nullptr) << dump(w);
    const Finding *notice = find(w, "swarm");
    ASSERT_NE(notice, nullptr) << check << "\n" << dump(w);
    EXPECT_EQ(notice->status, Status::warn) << dump(w);
    EXPECT_NE(notice->message.find("HTTP 503"), std::string::npos) << notice->message;
    EXPECT_NE(notice->message.find("not a swarm manager"), std::string::npos) << notice->message;
  }
  // A node outside any swarm gets no such notice.
  FakeDockerServer single(tmp.path() + "/single.sock");
  serve_swarm(single, recorded, json::array(), /*manager=*/false);
  single.route("/info", FakeDockerServer::json_response(
                            json{{"Swarm", {{"LocalNodeState", "inactive"}}}}.dump()));
  auto si = run_check(root.path(), "container.no-privileged", "unix://" + single.path());
  EXPECT_EQ(find(si, "swarm"), nullptr) << dump(si);
  // A manager whose /services answer is broken is an error, never a pass.
  FakeDockerServer broken(tmp.path() + "/broken.sock");
  serve_swarm(broken, recorded, json::array());
  broken.route("/services", FakeDockerServer::json_response("{\"message\":\"oops\"}"));
  auto b = run_check(root.path(), "container.no-privileged", "unix://" + broken.path());
  ASSERT_EQ(b.size(), 1u) << dump(b);
  EXPECT_EQ(b[0].status, Status::error) << dump(b);
  EXPECT_NE(b[0].message.find("/services"), std::string::npos) << b[0].message;
}

// container.runtime-drift of a swarm stack: the stack's name comes from the
// target's deploy script (`docker stack deploy -c A -c B vpn-stack`, not the
// project directory's name), its merged files are compared with the
// manager's services of that namespace. The services are the recorded
// `tidy` service's spec as `docker stack deploy` labels and pins it.
TEST(DockerEngine, SwarmStackServicesAreComparedWithTheStackFilesTheDeployScriptNames) {
  json recorded = json::parse(fixture("swarm-engine.json"));
  json tidy;
  for (auto &s : recorded["services"])
    if (s["Spec"]["Name"] == "tidy")
      tidy = s;
  ASSERT_TRUE(tidy.is_object());
  auto stack_service = [&](const std::string &name, const std::string &image) {
    json s = tidy;
    s["ID"] = "id-" + name;
    s["Spec"]["Name"] = "vpn-stack_" + name;
    s["Spec"]["Labels"] = {{"com.docker.stack.namespace", "vpn-stack"},
                           {"com.docker.stack.image", image}};
    s["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] = image + "@sha256:" + std::string(64, 'b');
    s["Spec"]["TaskTemplate"]["ContainerSpec"]["Labels"] = {
        {"com.docker.stack.namespace", "vpn-stack"}};
    return s;
  };
  json vpn = stack_service("vpn", "tiny:1");
  vpn["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] = {"MODE=production"};
  json db = stack_service("db", "postgres:15");
  auto &dbc = db["Spec"]["TaskTemplate"]["ContainerSpec"];
  dbc["Env"] = {"POSTGRES_DB=other-db", "POSTGRES_PASSWORD_FILE=/run/secrets/db_pw"};
  dbc["CapabilityAdd"] = {"CAP_NET_ADMIN"};
  dbc.erase("User");
  dbc.erase("ReadOnly");
  db["Spec"]["EndpointSpec"]["Ports"] = {
      {{"Protocol", "tcp"}, {"TargetPort", 5432}, {"PublishedPort", 5432}}};
  json old = stack_service("old", "tiny:1");
  // env_file's keys are in the service's Env, not in the files' environment.
  json cache = stack_service("cache", "docker.io/library/tiny:1");
  cache["Spec"]["TaskTemplate"]["ContainerSpec"]["Env"] = {"CACHE_SIZE=64m"};
  TempRoot root, tmp;
  root.write("/srv/vpn/docker-compose.yml", R"(services:
  vpn:
    image: tiny:1
    user: "1000:1000"
    read_only: true
    cap_drop: [ALL]
    ports: ["443:8443"]
  db:
    image: postgres:16
    environment:
      POSTGRES_DB: app
      POSTGRES_PASSWORD_FILE: /run/secrets/db_pw
  worker:
    image: tiny:1
  cache:
    image: tiny:1
    user: "1000:1000"
    read_only: true
    cap_drop: [ALL]
    ports: ["443:8443"]
    env_file: cache.env
)");
  root.write("/srv/vpn/cache.env", "CACHE_SIZE=64m\n");
  // Only the second file sets vpn's MODE and db's cap_drop: the merge counts.
  root.write("/srv/vpn/docker-compose.prod.yml", R"(services:
  vpn:
    environment:
      MODE: production
  db:
    cap_drop: [ALL]
)");
  FakeDockerServer srv(tmp.path() + "/docker.sock");
  ASSERT_TRUE(srv.ok());
  serve_swarm(srv, recorded, json::array({vpn, db, old, cache}));
  std::string host = "unix://" + srv.path();
  // No deploy script: no audited stack is named vpn-stack (the project is
  // "vpn"), so its services are not compared.
  auto before = run_check(root.path(), "container.runtime-drift", host);
  EXPECT_EQ(find(before, "service vpn-stack_db"), nullptr) << dump(before);
  root.write("/srv/vpn/deploy.sh",
             "#!/bin/sh\nset -e\ncd /srv/vpn\ndocker stack deploy --with-registry-auth \\\n"
             "  -c docker-compose.yml --compose-file=docker-compose.prod.yml --prune vpn-stack\n");
  auto fs = run_check(root.path(), "container.runtime-drift", host);
  EXPECT_EQ(status_of(fs, "service vpn-stack_vpn"), Status::pass) << dump(fs);
  EXPECT_EQ(status_of(fs, "service vpn-stack_cache"), Status::pass) << dump(fs);
  ASSERT_EQ(status_of(fs, "service vpn-stack_db"), Status::fail) << dump(fs);
  const Finding *d = find(fs, "service vpn-stack_db");
  for (const char *field : {"image", "cap_add", "ports", "environment"})
    EXPECT_NE(d->message.find(field), std::string::npos) << field << ": " << d->message;
  for (const char *field : {"user", "read_only", "cap_drop"})
    EXPECT_EQ(d->message.find(std::string(field) + ","), std::string::npos) << d->message;
  std::string all;
  for (auto &ev : d->evidence)
    all += ev.path + " " + ev.found + " " + ev.expected + "\n";
  EXPECT_NE(all.find("docker:/services/vpn-stack_db"), std::string::npos) << all;
  EXPECT_NE(all.find("POSTGRES_DB"), std::string::npos) << all;
  EXPECT_EQ(all.find("other-db"), std::string::npos) << "an environment value was shown:\n" << all;
  EXPECT_NE(all.find("postgres:16"), std::string::npos) << all;
  EXPECT_EQ(status_of(fs, "service vpn-stack_worker"), Status::fail) << dump(fs);
  EXPECT_EQ(status_of(fs, "service vpn-stack_old"), Status::fail) << dump(fs);
  // The services outside any stack are not the stack's.
  EXPECT_EQ(find(fs, "service tidy"), nullptr) << dump(fs);
}
