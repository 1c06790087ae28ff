// container.* and container.runtime-drift against a real dockerd (Debian's
// docker.io, /usr/sbin/dockerd): started here with the vfs storage driver,
// a private data-root, exec-root and socket, in its own network namespace
// (unshare -n: its bridge and iptables rules stay there), an image made
// offline with `docker import` of /bin/sleep and its libraries, containers
// created with the risky settings the checks look for. Every verdict on a
// running container is compared with what `docker inspect` says.

#include "../support.hpp"

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <thread>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::TempRoot;
using nlohmann::json;

namespace {

constexpr const char *k_dockerd = "/usr/sbin/dockerd";
constexpr const char *k_docker = "/usr/bin/docker";

// One dockerd for the whole suite (starting one takes seconds), and one
// whose `iptables` is iptables-legacy (PATH leads to the -legacy tools), as
// on a host switched with update-alternatives.
class Dockerd {
public:
  static Dockerd &get() {
    static Dockerd d(false);
    return d;
  }
  static Dockerd &legacy() {
    static Dockerd d(true);
    return d;
  }
  bool ok() const { return m_ok; }
  const std::string &why() const { return m_why; }
  std::string host() const { return "unix://" + sock(); }
  std::string sock() const { return m_dir.path() + "/docker.sock"; }
  test::RunResult docker(const std::string &args) const {
    return run_command(std::string(k_docker) + " -H " + host() + " " + args);
  }
  ~Dockerd() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      for (int i = 0; i < 100 && ::kill(m_pid, 0) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
      if (::kill(m_pid, 0) == 0)
        ::kill(m_pid, SIGKILL);
    }
    // containerd's shims outlive dockerd for a moment; the vfs layers are
    // plain directories.
    run_command("umount -R " + m_dir.path() + "/exec 2>/dev/null; umount -R " + m_dir.path() +
                "/data 2>/dev/null");
  }

private:
  explicit Dockerd(bool legacy) {
    if (::access(k_dockerd, X_OK) != 0 || ::access(k_docker, X_OK) != 0) {
      m_why = "Debian's docker.io is not installed (/usr/sbin/dockerd, /usr/bin/docker)";
      return;
    }
    if (::geteuid() != 0) {
      m_why = "dockerd needs root";
      return;
    }
    std::string d = m_dir.path();
    std::string path;
    if (legacy) {
      if (::access("/usr/sbin/iptables-legacy", X_OK) != 0) {
        m_why = "iptables-legacy is not installed (Debian package iptables)";
        return;
      }
      std::filesystem::create_directories(d + "/bin");
      for (std::string suffix : {"", "-save", "-restore"})
        std::filesystem::create_symlink("/usr/sbin/iptables-legacy" + suffix,
                                        d + "/bin/iptables" + suffix);
      path = "PATH=" + d + "/bin:$PATH ";
    }
    // exec keeps one pid through unshare and sh: $! is dockerd's.
    auto r = run_command(
        "setsid unshare -n sh -c 'ip link set lo up; " + path + "exec " + std::string(k_dockerd) +
        " --storage-driver vfs --data-root " + d + "/data --exec-root " + d + "/exec --pidfile " +
        d + "/docker.pid --host unix://" + d + "/docker.sock --iptables=true --ip6tables=false' >" +
        d + "/dockerd.log 2>&1 & echo $!");
    m_pid = std::atoi(r.out.c_str());
    for (int i = 0; i < 300 && !std::filesystem::exists(d + "/docker.sock"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto ping = run_command("curl -sf --max-time 5 --unix-socket " + sock() + " http://d/_ping");
    if (ping.out != "OK") {
      std::ifstream in(d + "/dockerd.log");
      std::string log = bulwark::test::read_all(in);
      m_why = "dockerd did not start: " + log.substr(log.size() > 1500 ? log.size() - 1500 : 0);
      return;
    }
    // An image made offline: /bin/sleep with its libraries.
    std::string img = d + "/img";
    auto mk = run_command("set -e; mkdir -p " + img + "; cd " + img +
                          "; for f in /bin/sleep $(ldd /bin/sleep | grep -o '/[^ ]*'); do mkdir -p "
                          ".$(dirname $f); cp -L $f .$f; done; tar cf " +
                          d + "/img.tar .");
    auto imp = docker("import " + d + "/img.tar tiny:1");
    if (mk.exit_code != 0 || imp.exit_code != 0) {
      m_why = "docker import failed: " + mk.err + imp.err;
      return;
    }
    m_ok = true;
  }

  TempRoot m_dir;
  int m_pid = -1;
  bool m_ok = false;
  std::string m_why;
};

std::vector<Finding> run_check(const std::string &root, const std::string &id,
                               const std::string &docker_host) {
  RootFs fs(root);
  TargetOptions options;
  options.docker_host = docker_host;
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
  for (auto &f : fs)
    s += std::string(to_string(f.status)) + " [" + f.subject + "] " + f.message + "\n";
  return s;
}

class RealDockerd : public ::testing::Test {
protected:
  void SetUp() override { BULWARK_REQUIRE(Dockerd::get().ok()) << Dockerd::get().why(); }
};

} // namespace

TEST_F(RealDockerd, RuntimeVerdictsAgreeWithDockerInspect) {
  Dockerd &d = Dockerd::get();
  d.docker("rm -f risky tidy");
  auto c1 =
      d.docker("create --name risky --privileged -v /var/run/docker.sock:/var/run/docker.sock "
               "--cap-add SYS_ADMIN --security-opt seccomp=unconfined -p 5432:5432 tiny:1 "
               "/bin/sleep 300");
  ASSERT_EQ(c1.exit_code, 0) << c1.err;
  auto c2 = d.docker("create --name tidy --user 1000:1000 --read-only --cap-drop ALL "
                     "--security-opt no-new-privileges -p 127.0.0.1:6379:6379 tiny:1 "
                     "/bin/sleep 300");
  ASSERT_EQ(c2.exit_code, 0) << c2.err;
  ASSERT_EQ(d.docker("start tidy").exit_code, 0);
  auto insp = d.docker("inspect risky tidy");
  ASSERT_EQ(insp.exit_code, 0) << insp.err;
  json all = json::parse(insp.out);
  ASSERT_EQ(all.size(), 2u);
  TempRoot root;
  root.mkdir("/etc");
  // What each check must say, derived from docker inspect's own fields.
  for (auto &c : all) {
    std::string name = c["Name"].get<std::string>().substr(1);
    std::string subj = "container " + name;
    const json &hc = c["HostConfig"];
    auto has = [](const json &a, const std::string &v) {
      return a.is_array() && std::find(a.begin(), a.end(), v) != a.end();
    };
    bool sock = false;
    for (auto &m : c["Mounts"])
      sock = sock || m["Destination"] == "/var/run/docker.sock";
    bool public5432 = false;
    if (hc["PortBindings"].contains("5432/tcp"))
      for (auto &b : hc["PortBindings"]["5432/tcp"])
        public5432 = public5432 || b["HostIp"].get<std::string>().empty();
    struct {
      const char *check;
      bool fails;
    } expect[] = {
        {"container.no-privileged", hc["Privileged"].get<bool>()},
        {"container.cap-add-minimal",
         has(hc["CapAdd"], "SYS_ADMIN") || has(hc["CapAdd"], "CAP_SYS_ADMIN")},
        {"container.cap-drop-all", !has(hc["CapDrop"], "ALL")},
        {"container.no-docker-socket", sock},
        {"container.read-only-rootfs", !hc["ReadonlyRootfs"].get<bool>()},
        {"container.non-root-user", c["Config"]["User"].get<std::string>().empty()},
        {"container.published-ports", public5432},
        {"container.no-new-privileges", !has(hc["SecurityOpt"], "no-new-privileges")},
    };
    for (auto &e : expect) {
      auto fs = run_check(root.path(), e.check, d.host());
      const Finding *f = find(fs, subj);
      ASSERT_NE(f, nullptr) << e.check << " " << subj << "\n" << dump(fs);
      EXPECT_EQ(f->status, e.fails ? Status::fail : Status::pass)
          << e.check << " " << subj << ": " << f->message;
    }
  }
  // docker.image-age judges the running one; the image was imported now.
  auto age = run_check(root.path(), "docker.image-age", d.host());
  const Finding *tidy = find(age, "container tidy");
  ASSERT_NE(tidy, nullptr) << dump(age);
  EXPECT_EQ(tidy->status, Status::pass) << tidy->message;
  EXPECT_EQ(find(age, "container risky"), nullptr) << "a created container is not running";
  d.docker("rm -f risky tidy");
}

TEST_F(RealDockerd, RuntimeDriftComparesLabelledContainersWithTheirComposeService) {
  Dockerd &d = Dockerd::get();
  d.docker("rm -f demo-db-1 demo-web-1");
  TempRoot root;
  root.write("/srv/demo/docker-compose.yml", "services:\n"
                                             "  db:\n"
                                             "    image: tiny:1\n"
                                             "    read_only: true\n"
                                             "    cap_drop: [ALL]\n"
                                             "    security_opt: [\"no-new-privileges:true\"]\n"
                                             "  web:\n"
                                             "    image: tiny:1\n"
                                             "    ports: [\"8080:80\"]\n");
  std::string labels =
      "--label com.docker.compose.project=demo --label com.docker.compose.service=";
  // db as the file says; web started by hand with --privileged and another port.
  ASSERT_EQ(d.docker("create --name demo-db-1 " + labels +
                     "db --read-only --cap-drop ALL --security-opt no-new-privileges:true tiny:1 "
                     "/bin/sleep 300")
                .exit_code,
            0);
  ASSERT_EQ(d.docker("create --name demo-web-1 " + labels +
                     "web --privileged -p 8081:80 tiny:1 /bin/sleep 300")
                .exit_code,
            0);
  auto fs = run_check(root.path(), "container.runtime-drift", d.host());
  const Finding *db = find(fs, "container demo-db-1");
  const Finding *web = find(fs, "container demo-web-1");
  ASSERT_TRUE(db && web) << dump(fs);
  EXPECT_EQ(db->status, Status::pass) << db->message;
  EXPECT_EQ(web->status, Status::fail) << web->message;
  EXPECT_NE(web->message.find("privileged"), std::string::npos) << web->message;
  EXPECT_NE(web->message.find("ports"), std::string::npos) << web->message;
  d.docker("rm -f demo-db-1 demo-web-1");
}

namespace {

// Live probes that answer with dockerd's network namespace's ruleset.
class NsProbes : public live::Probes {
public:
  Result<std::string> nft = Error{"not read"};
  Result<std::string> legacy = std::string();
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
  Result<std::string> iptables_legacy_save(bool v6) override { return v6 ? std::string() : legacy; }
  const Result<procfs::ProcessTable> &processes() override { return procs; }
  const Result<std::vector<procnet::Listener>> &listeners() override { return sockets; }
  Result<FileInfo> stat_in_process_root(int, const std::string &path) override {
    return Error{"fake", path, 0, ENOENT};
  }
};

// A client namespace joined to dockerd's by a veth pair: 10.201.N.2 -> .1.
struct ClientNet {
  std::string ns, host_ip, client_ip, why;
  bool up = false;
  ClientNet(const std::string &dockerd_pid) {
    int pid = static_cast<int>(::getpid());
    ns = "bw-docker-" + std::to_string(pid);
    std::string n = std::to_string(pid % 250);
    host_ip = "10.201." + n + ".1";
    client_ip = "10.201." + n + ".2";
    std::string h = "bwdk" + std::to_string(pid % 100000) + "h";
    std::string c = "bwdk" + std::to_string(pid % 100000) + "c";
    std::string in_d = "nsenter --net=/proc/" + dockerd_pid + "/ns/net ";
    for (std::string cmd :
         {"ip netns add " + ns, "ip link add " + h + " type veth peer name " + c,
          "ip link set " + h + " netns " + dockerd_pid, "ip link set " + c + " netns " + ns,
          in_d + "ip addr add " + host_ip + "/24 dev " + h, in_d + "ip link set " + h + " up",
          "ip netns exec " + ns + " ip addr add " + client_ip + "/24 dev " + c,
          "ip netns exec " + ns + " ip link set " + c + " up",
          "ip netns exec " + ns + " ip link set lo up"}) {
      auto r = run_command(cmd);
      if (r.exit_code != 0) {
        why = cmd + ": " + r.err;
        return;
      }
    }
    up = true;
  }
  ~ClientNet() { run_command("ip netns del " + ns); }
  // "refused" (the SYN reached the container and its kernel answered),
  // "timeout" (dropped on the way), or what else happened.
  std::string connect(uint32_t port) const {
    auto r = run_command("ip netns exec " + ns + " timeout 3 bash -c 'echo > /dev/tcp/" + host_ip +
                         "/" + std::to_string(port) + "'");
    if (r.exit_code == 124)
      return "timeout";
    if (r.err.find("refused") != std::string::npos)
      return "refused";
    return r.exit_code == 0 ? "connected" : "other: " + r.err;
  }
};

} // namespace

// The kernel decides: a port dockerd published is reachable from another
// namespace although INPUT drops everything (as ufw's default does), and
// bulwark, reading dockerd's own ruleset, fails it; a DOCKER-USER rule that
// drops it makes the kernel drop the SYN, and bulwark pass it.
TEST_F(RealDockerd, PublishedPortBypassesInputUntilDockerUserDropsItAsTheKernelDoes) {
  Dockerd &d = Dockerd::get();
  d.docker("rm -f pub");
  auto run = d.docker("run -d --name pub -p 8443:443 tiny:1 /bin/sleep 300");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string pid(text::trim(
      run_command("cat " + std::filesystem::path(d.sock()).parent_path().string() + "/docker.pid")
          .out));
  std::string in_d = "nsenter --net=/proc/" + pid + "/ns/net ";
  ClientNet net(pid);
  BULWARK_REQUIRE(net.up) << "network namespaces: " << net.why;
  // INPUT drops everything but the loopback: ufw's default deny.
  ASSERT_EQ(run_command(in_d + "iptables -P INPUT DROP").exit_code, 0);
  TempRoot root;
  root.mkdir("/etc");
  auto probes = std::make_shared<NsProbes>();
  auto judge = [&] {
    auto nft = run_command(in_d + "nft list ruleset");
    EXPECT_EQ(nft.exit_code, 0) << nft.err;
    probes->nft = nft.out;
    RootFs fs(root.path());
    TargetOptions options;
    options.live = true;
    options.probes = probes;
    Context ctx(fs, options);
    const Catalogue &cat = Catalogue::builtin();
    auto profile = apply_profile(cat, Profile{}, "baseline");
    CheckRun cr(ctx, *cat.find("firewall.docker-published-ports"), *profile);
    find_check("firewall.docker-published-ports")->run(cr);
    for (auto &f : cr.findings())
      if (f.message.find("8443/tcp") != std::string::npos)
        return f.status;
    ADD_FAILURE() << "no finding for 8443/tcp\n" << dump(cr.findings());
    return Status::error;
  };
  EXPECT_EQ(net.connect(8443), "refused") << "the SYN reached the container past INPUT DROP";
  EXPECT_EQ(judge(), Status::fail);
  ASSERT_EQ(run_command(in_d + "iptables -I DOCKER-USER -p tcp --dport 443 -j DROP").exit_code, 0);
  EXPECT_EQ(net.connect(8443), "timeout");
  EXPECT_EQ(judge(), Status::pass);
  run_command(in_d + "iptables -D DOCKER-USER -p tcp --dport 443 -j DROP");
  run_command(in_d + "iptables -P INPUT ACCEPT");
  d.docker("rm -f pub");
}

// Swarm on the same private dockerd (a single-node swarm needs no network:
// it advertises 127.0.0.1). Services are created with --replicas 0, so no
// task runs: what is judged is the service's spec, as `docker service
// inspect` shows it.
TEST_F(RealDockerd, SwarmServiceVerdictsAgreeWithDockerServiceInspect) {
  Dockerd &d = Dockerd::get();
  auto init = d.docker("swarm init --advertise-addr 127.0.0.1");
  ASSERT_EQ(init.exit_code, 0) << init.err;
  struct Leave {
    Dockerd &d;
    ~Leave() { d.docker("swarm leave --force"); }
  } leave{d};
  ASSERT_EQ(d.docker("network create -d overlay backnet").exit_code, 0);
  ASSERT_EQ(d.docker("network create -d overlay --opt encrypted secnet").exit_code, 0);
  ASSERT_EQ(run_command("printf s3cr3t | " + std::string(k_docker) + " -H " + d.host() +
                        " secret create db_pw -")
                .exit_code,
            0);
  auto risky =
      d.docker("service create --detach --replicas 0 --name risky --cap-add SYS_ADMIN "
               "--mount type=bind,source=/var/run/docker.sock,target=/var/run/docker.sock "
               "--mount type=bind,source=/srv/data,target=/data,bind-propagation=rshared "
               "--publish 5432:5432 --env POSTGRES_PASSWORD=hunter2hunter --network backnet tiny:1 "
               "/bin/sleep 300");
  ASSERT_EQ(risky.exit_code, 0) << risky.err;
  auto tidy = d.docker(
      "service create --detach --replicas 0 --name tidy --user 1000:1000 --read-only "
      "--cap-drop ALL --secret db_pw --network secnet "
      "--publish published=443,target=8443,mode=host --limit-memory 64m --limit-cpu 0.5 "
      "--restart-condition on-failure --restart-max-attempts 5 --update-failure-action rollback "
      "--health-cmd '/bin/sleep 1' tiny:1 /bin/sleep 300");
  ASSERT_EQ(tidy.exit_code, 0) << tidy.err;
  auto insp = d.docker("service inspect risky tidy");
  ASSERT_EQ(insp.exit_code, 0) << insp.err;
  json all = json::parse(insp.out);
  ASSERT_EQ(all.size(), 2u);
  TempRoot root;
  root.mkdir("/etc");
  for (auto &s : all) {
    const json &spec = s["Spec"];
    std::string subj = "service " + spec["Name"].get<std::string>();
    const json &cs = spec["TaskTemplate"]["ContainerSpec"];
    auto has = [](const json &o, const char *k, const std::string &v) {
      return o.contains(k) && std::find(o[k].begin(), o[k].end(), v) != o[k].end();
    };
    bool sock = false, shared = false;
    for (auto &m : cs.value("Mounts", json::array())) {
      sock = sock || m["Target"] == "/var/run/docker.sock";
      shared =
          shared || m.value("BindOptions", json::object()).value("Propagation", "") == "rshared";
    }
    bool public5432 = false, ingress = false;
    for (auto &p : spec["EndpointSpec"].value("Ports", json::array())) {
      public5432 = public5432 || p["TargetPort"] == 5432;
      ingress = ingress || p["PublishedPort"] != 443;
    }
    bool env_secret = false;
    for (auto &e : cs.value("Env", json::array()))
      env_secret = env_secret || e.get<std::string>().rfind("POSTGRES_PASSWORD=", 0) == 0;
    const json &rp = spec["TaskTemplate"].value("RestartPolicy", json::object());
    struct {
      const char *check;
      bool fails;
    } expect[] = {
        {"container.no-privileged", false}, // a service cannot be privileged
        {"container.cap-add-minimal", has(cs, "CapabilityAdd", "CAP_SYS_ADMIN")},
        {"container.cap-drop-all", !has(cs, "CapabilityDrop", "ALL")},
        {"container.no-docker-socket", sock},
        {"container.mount-propagation", shared},
        {"container.read-only-rootfs", !cs.value("ReadOnly", false)},
        {"container.non-root-user", cs.value("User", "").empty()},
        {"container.published-ports", public5432},
        {"container.ports-bound-to-interface", ingress},
        {"container.secrets-not-in-env", env_secret},
        {"container.restart-policy", rp.value("MaxAttempts", 0) == 0},
        {"container.healthcheck", !cs.contains("Healthcheck")},
        {"container.auto-rollback",
         spec.value("UpdateConfig", json::object()).value("FailureAction", "") != "rollback"},
    };
    for (auto &e : expect) {
      auto fs = run_check(root.path(), e.check, d.host());
      const Finding *f = find(fs, subj);
      ASSERT_NE(f, nullptr) << e.check << " " << subj << "\n" << dump(fs);
      EXPECT_EQ(f->status, e.fails ? Status::fail : Status::pass)
          << e.check << " " << subj << ": " << f->message;
    }
  }
  // The overlay networks, as `docker network inspect` shows their options.
  auto nets = d.docker("network inspect backnet secnet");
  ASSERT_EQ(nets.exit_code, 0) << nets.err;
  auto overlay = run_check(root.path(), "network.encrypted-overlay", d.host());
  for (auto &n : json::parse(nets.out)) {
    const Finding *f = find(overlay, "network " + n["Name"].get<std::string>());
    ASSERT_NE(f, nullptr) << dump(overlay);
    EXPECT_EQ(f->status, n["Options"].contains("encrypted") ? Status::pass : Status::fail)
        << f->message;
  }
}

// The same path when dockerd's `iptables` is iptables-legacy: its DNAT and
// FORWARD rules live in the legacy x_tables, which `nft list ruleset` does
// not show; bulwark reads them with iptables-legacy-save, and the kernel
// still decides what reaches the container.
TEST(RealDockerdLegacy, PublishedPortBypassesLegacyInputUntilDockerUserDropsIt) {
  Dockerd &d = Dockerd::legacy();
  BULWARK_REQUIRE(d.ok()) << d.why();
  d.docker("rm -f pub");
  auto run = d.docker("run -d --name pub -p 8443:443 tiny:1 /bin/sleep 300");
  ASSERT_EQ(run.exit_code, 0) << run.err;
  std::string pid(text::trim(
      run_command("cat " + std::filesystem::path(d.sock()).parent_path().string() + "/docker.pid")
          .out));
  std::string in_d = "nsenter --net=/proc/" + pid + "/ns/net ";
  auto saved = run_command(in_d + "iptables-legacy-save");
  ASSERT_EQ(saved.exit_code, 0) << saved.err;
  ASSERT_NE(saved.out.find("--to-destination 172.17.0.2:443"), std::string::npos)
      << "dockerd did not write its DNAT into the legacy tables:\n"
      << saved.out;
  ClientNet net(pid);
  BULWARK_REQUIRE(net.up) << "network namespaces: " << net.why;
  ASSERT_EQ(run_command(in_d + "iptables-legacy -P INPUT DROP").exit_code, 0);
  TempRoot root;
  root.mkdir("/etc");
  auto probes = std::make_shared<NsProbes>();
  auto judge = [&] {
    auto nft = run_command(in_d + "nft list ruleset");
    EXPECT_EQ(nft.exit_code, 0) << nft.err;
    EXPECT_EQ(nft.out.find("DOCKER"), std::string::npos) << "dockerd wrote nft rules too";
    probes->nft = nft.out;
    auto legacy = run_command(in_d + "iptables-legacy-save");
    EXPECT_EQ(legacy.exit_code, 0) << legacy.err;
    probes->legacy = legacy.out;
    RootFs fs(root.path());
    TargetOptions options;
    options.live = true;
    options.probes = probes;
    Context ctx(fs, options);
    const Catalogue &cat = Catalogue::builtin();
    auto profile = apply_profile(cat, Profile{}, "baseline");
    CheckRun cr(ctx, *cat.find("firewall.docker-published-ports"), *profile);
    find_check("firewall.docker-published-ports")->run(cr);
    for (auto &f : cr.findings())
      if (f.message.find("8443/tcp") != std::string::npos)
        return f.status;
    ADD_FAILURE() << "no finding for 8443/tcp\n" << dump(cr.findings());
    return Status::error;
  };
  EXPECT_EQ(net.connect(8443), "refused") << "the SYN reached the container past INPUT DROP";
  EXPECT_EQ(judge(), Status::fail);
  ASSERT_EQ(
      run_command(in_d + "iptables-legacy -I DOCKER-USER -p tcp --dport 443 -j DROP").exit_code, 0);
  EXPECT_EQ(net.connect(8443), "timeout");
  EXPECT_EQ(judge(), Status::pass);
  // Legacy tables that cannot be listed are an error, never a pass.
  probes->legacy = Error{"iptables-legacy-save failed (exit 1): oops", "/proc/net/ip_tables_names"};
  {
    RootFs fs(root.path());
    TargetOptions options;
    options.live = true;
    options.probes = probes;
    Context ctx(fs, options);
    const Catalogue &cat = Catalogue::builtin();
    auto profile = apply_profile(cat, Profile{}, "baseline");
    CheckRun cr(ctx, *cat.find("firewall.docker-published-ports"), *profile);
    find_check("firewall.docker-published-ports")->run(cr);
    ASSERT_FALSE(cr.findings().empty());
    for (auto &f : cr.findings())
      EXPECT_EQ(f.status, Status::error) << f.message;
  }
  run_command(in_d + "iptables-legacy -D DOCKER-USER -p tcp --dport 443 -j DROP");
  run_command(in_d + "iptables-legacy -P INPUT ACCEPT");
  d.docker("rm -f pub");
}
