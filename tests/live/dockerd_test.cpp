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

// One dockerd for the whole suite (starting one takes seconds).
class Dockerd {
public:
  static Dockerd &get() {
    static Dockerd d;
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
  Dockerd() {
    if (::access(k_dockerd, X_OK) != 0 || ::access(k_docker, X_OK) != 0) {
      m_why = "Debian's docker.io is not installed (/usr/sbin/dockerd, /usr/bin/docker)";
      return;
    }
    if (::geteuid() != 0) {
      m_why = "dockerd needs root";
      return;
    }
    std::string d = m_dir.path();
    // exec keeps one pid through unshare and sh: $! is dockerd's.
    auto r = run_command(
        "setsid unshare -n sh -c 'ip link set lo up; exec " + std::string(k_dockerd) +
        " --storage-driver vfs --data-root " + d + "/data --exec-root " + d + "/exec --pidfile " +
        d + "/docker.pid --host unix://" + d + "/docker.sock --iptables=true --ip6tables=false' >" +
        d + "/dockerd.log 2>&1 & echo $!");
    m_pid = std::atoi(r.out.c_str());
    for (int i = 0; i < 300 && !std::filesystem::exists(d + "/docker.sock"); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    auto ping = run_command("curl -sf --max-time 5 --unix-socket " + sock() + " http://d/_ping");
    if (ping.out != "OK") {
      std::ifstream in(d + "/dockerd.log");
      std::string log((std::istreambuf_iterator<char>(in)), {});
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

TEST_F(RealDockerd, FirewallRulesOfThisDockerdPublishWhatTheEngineSays) {
  Dockerd &d = Dockerd::get();
  d.docker("rm -f pub");
  ASSERT_EQ(d.docker("run -d --name pub -p 8443:443 tiny:1 /bin/sleep 300").exit_code, 0);
  // dockerd's own rules, from its network namespace.
  auto pid =
      run_command("cat " + std::filesystem::path(d.sock()).parent_path().string() + "/docker.pid");
  auto rules = run_command("nsenter --net=/proc/" + std::string(text::trim(pid.out)) +
                           "/ns/net iptables-save -t nat");
  ASSERT_EQ(rules.exit_code, 0) << rules.err;
  EXPECT_NE(rules.out.find("--dport 8443 -j DNAT --to-destination"), std::string::npos)
      << rules.out;
  d.docker("rm -f pub");
}
