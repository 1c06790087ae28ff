// Checks judged on a fake host: the Context's Probes replaced by answers the
// test chooses, so a live verdict is tested without a running server, and
// each test shows the verdict following the probe's answer.

#include "../support.hpp"

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/live/probes.hpp>

#include <gtest/gtest.h>

#include <fcntl.h>
#include <map>
#include <optional>
#include <sched.h>
#include <thread>
#include <unistd.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

class FakeProbes : public live::Probes {
public:
  live::RedisProbeResult::Outcome redis_answer = live::RedisProbeResult::Outcome::auth_required;
  std::vector<std::string> redis_asked; // "host:port" of every redis probe
  Result<std::string> nft = Error{"fake: no nftables"};
  Result<procfs::ProcessTable> procs = procfs::ProcessTable{};
  Result<std::vector<procnet::Listener>> sockets = std::vector<procnet::Listener>{};
  std::map<std::pair<int, std::string>, FileInfo> process_files;
  std::vector<std::string> ssh_asked;       // "address:port" of every SSH probe
  std::optional<live::SshProbe> ssh_answer; // none: the probe fails

  bool is_local_address(const std::string &) override { return true; }
  live::SshProbe ssh(const std::string &address, int port) override {
    ssh_asked.push_back(address + ":" + std::to_string(port));
    live::SshProbe p = ssh_answer.value_or(live::SshProbe{});
    p.address = address;
    p.port = port;
    if (!ssh_answer)
      p.error = "fake: nothing listens";
    return p;
  }
  live::TlsProbe tls(const std::string &address, int port, const std::string &sni) override {
    live::TlsProbe p;
    p.address = address;
    p.port = port;
    p.sni = sni;
    p.error = "fake: nothing listens";
    return p;
  }
  std::vector<live::PgProbeResult> pg_no_password(int) override { return {}; }
  live::PgLiveInfo pg_query(const std::string &) override {
    live::PgLiveInfo i;
    i.error = "fake";
    return i;
  }
  live::RedisProbeResult redis(const std::string &host, int port) override {
    redis_asked.push_back(host + ":" + std::to_string(port));
    live::RedisProbeResult r;
    r.target = host + ":" + std::to_string(port);
    r.result = redis_answer;
    r.detail = "fake";
    return r;
  }
  live::RedisProbeResult redis_tls(const std::string &host, int port) override {
    return redis(host, port);
  }
  Result<std::string> nft_ruleset() override { return nft; }
  const Result<procfs::ProcessTable> &processes() override { return procs; }
  const Result<std::vector<procnet::Listener>> &listeners() override { return sockets; }
  Result<FileInfo> stat_in_process_root(int pid, const std::string &path) override {
    auto it = process_files.find({pid, path});
    if (it == process_files.end())
      return Error{"fake: absent", path, 0, ENOENT};
    return it->second;
  }
};

// Runs one check with --live on `r`, the probes being `probes`.
std::vector<Finding> run_live(const TempRoot &r, std::shared_ptr<FakeProbes> probes,
                              const std::string &id) {
  RootFs fs(r.path());
  TargetOptions options;
  options.live = true;
  options.probes = probes;
  Context ctx(fs, options);
  EXPECT_TRUE(ctx.live());
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

std::string text_of(const std::vector<Finding> &fs) {
  std::string s;
  for (auto &f : fs) {
    s += f.message + "\n";
    for (auto &e : f.evidence)
      s += "  " + e.found + " | " + e.expected + " | " + e.context + "\n";
  }
  return s;
}

} // namespace

TEST(FakeProbes, WithoutFakeProbesAnOfflineRootIsNeverLive) {
  TempRoot r;
  r.mkdir("/etc");
  RootFs fs(r.path());
  TargetOptions options;
  options.live = true;
  Context ctx(fs, options);
  EXPECT_FALSE(ctx.live()); // the host must not be probed for another root
}

TEST(FakeProbes, RedisAnsweringPingWithoutAPasswordFailsAuthentication) {
  TempRoot r;
  r.write("/etc/redis/redis.conf", "bind 127.0.0.1\nport 6379\nrequirepass " +
                                       std::string("3f9c1e0a7b2d4c6e8f0a1b3c5d7e9f21aa") + "\n");
  auto probes = std::make_shared<FakeProbes>();
  auto locked = run_live(r, probes, "redis.authentication");
  ASSERT_EQ(locked.size(), 1u);
  EXPECT_EQ(locked[0].status, Status::pass) << text_of(locked);
  ASSERT_EQ(probes->redis_asked, std::vector<std::string>{"127.0.0.1:6379"});

  probes->redis_answer = live::RedisProbeResult::Outcome::pong;
  auto open = run_live(r, probes, "redis.authentication");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].status, Status::fail) << text_of(open);
  EXPECT_NE(open[0].message.find("the running server disagrees with its configuration"),
            std::string::npos)
      << open[0].message;
  EXPECT_NE(text_of(open).find("127.0.0.1:6379: "), std::string::npos);
}

TEST(FakeProbes, OpenvpnRunningAsRootDisagreesWithItsFile) {
  TempRoot r;
  r.write("/etc/openvpn/server/server.conf", "server 10.8.0.0 255.255.255.0\nuser nobody\n"
                                             "group nogroup\npersist-key\npersist-tun\n");
  r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n"
                         "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n");
  r.write("/etc/group", "root:x:0:\nnogroup:x:65534:\n");
  RootFs fs(r.path());
  FileInfo conf = *fs.stat("/etc/openvpn/server/server.conf");
  auto process = [](long uid) {
    procfs::Process p;
    p.pid = 812;
    p.dir = "/proc/812";
    p.comm = "openvpn";
    p.argv = {"/usr/sbin/openvpn", "--config", "server.conf"};
    p.cwd = "/etc/openvpn/server";
    p.uid = procfs::Ids{uid, uid, uid, uid};
    p.gid = p.uid;
    procfs::ProcessTable t;
    t.processes.push_back(p);
    return t;
  };
  auto probes = std::make_shared<FakeProbes>();
  probes->process_files[{812, "/etc/openvpn/server/server.conf"}] = conf;

  probes->procs = process(65534);
  auto dropped = run_live(r, probes, "vpn.openvpn-privileges");
  ASSERT_EQ(dropped.size(), 1u);
  EXPECT_EQ(dropped[0].status, Status::pass) << text_of(dropped);
  EXPECT_NE(
      text_of(dropped).find("openvpn pid 812 runs as uid 65534 (nobody), gid 65534 (nogroup)"),
      std::string::npos)
      << text_of(dropped);

  probes->procs = process(0);
  auto root = run_live(r, probes, "vpn.openvpn-privileges");
  ASSERT_EQ(root.size(), 1u);
  EXPECT_EQ(root[0].status, Status::fail) << text_of(root);
  EXPECT_NE(root[0].message.find("the running server disagrees with its configuration"),
            std::string::npos)
      << root[0].message;

  // A daemon whose file (through its own root) is another file: not this server.
  probes->process_files[{812, "/etc/openvpn/server/server.conf"}].ino += 1;
  auto other = run_live(r, probes, "vpn.openvpn-privileges");
  ASSERT_EQ(other.size(), 1u);
  EXPECT_EQ(other[0].status, Status::pass) << text_of(other);
  EXPECT_EQ(text_of(other).find("openvpn pid"), std::string::npos);

  probes->procs = Error{"cannot open directory: Permission denied", "/proc", 0, EACCES};
  auto unreadable = run_live(r, probes, "vpn.openvpn-privileges");
  ASSERT_EQ(unreadable.size(), 1u);
  EXPECT_EQ(unreadable[0].status, Status::error) << text_of(unreadable);
}

TEST(FakeProbes, Fail2banInstalledNeedsARunningServer) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[DEFAULT]\nbantime = 10m\n[sshd]\nenabled = true\n");
  auto probes = std::make_shared<FakeProbes>();
  auto none = run_live(r, probes, "fail2ban.installed");
  ASSERT_EQ(none.size(), 1u);
  EXPECT_EQ(none[0].status, Status::fail) << text_of(none);
  procfs::Process p;
  p.pid = 99;
  p.dir = "/proc/99";
  p.comm = "fail2ban-server";
  p.argv = {"/usr/bin/python3", "/usr/bin/fail2ban-server", "-xf", "start"};
  procfs::ProcessTable t;
  t.processes.push_back(p);
  probes->procs = t;
  auto running = run_live(r, probes, "fail2ban.installed");
  ASSERT_EQ(running.size(), 1u);
  EXPECT_EQ(running[0].status, Status::pass) << text_of(running);
  probes->procs = Error{"cannot open directory: Permission denied", "/proc", 0, EACCES};
  auto unreadable = run_live(r, probes, "fail2ban.installed");
  ASSERT_EQ(unreadable.size(), 1u);
  EXPECT_EQ(unreadable[0].status, Status::error) << text_of(unreadable);
}

TEST(FakeProbes, ExposedListenersFollowTheSocketTableAndTheLiveRuleset) {
  TempRoot r;
  r.mkdir("/etc");
  auto probes = std::make_shared<FakeProbes>();
  std::string hdr = "  sl  local_address rem_address   st\n";
  probes->sockets = procnet::parse_proc_net(hdr + "   0: 00000000:18EB 00000000:0000 0A\n", 6,
                                            fw::Family::v4, "/proc/net/tcp")
                        .listeners;
  // No ruleset loaded at all: PostgreSQL's port is open to the world.
  auto open = run_live(r, probes, "firewall.exposed-listeners");
  ASSERT_EQ(open.size(), 1u);
  EXPECT_EQ(open[0].status, Status::fail) << text_of(open);
  EXPECT_NE(open[0].message.find("tcp/6379"), std::string::npos) << open[0].message;
  // The kernel's ruleset (as the live nft would print it) drops it.
  probes->nft = std::string("table inet filter {\n"
                            "\tchain input {\n"
                            "\t\ttype filter hook input priority filter; policy drop;\n"
                            "\t\tiif \"lo\" accept\n"
                            "\t}\n"
                            "}\n");
  auto closed = run_live(r, probes, "firewall.exposed-listeners");
  ASSERT_EQ(closed.size(), 1u);
  EXPECT_EQ(closed[0].status, Status::pass) << text_of(closed);
  // The socket table unreadable: an error, never a pass.
  probes->sockets = Error{"cannot open: Permission denied", "/proc/net/tcp", 0, EACCES};
  auto unreadable = run_live(r, probes, "firewall.exposed-listeners");
  ASSERT_EQ(unreadable.size(), 1u);
  EXPECT_EQ(unreadable[0].status, Status::error) << text_of(unreadable);
}

TEST(FakeProbes, SshKexinitOfTheRunningServerDecidesAgainstACleanFile) {
  TempRoot r;
  r.write("/etc/ssh/sshd_config", "Port 2222\nMACs hmac-sha2-256-etm@openssh.com\n");
  auto probes = std::make_shared<FakeProbes>();
  auto silent = run_live(r, probes, "ssh.weak-algorithms");
  ASSERT_EQ(silent.size(), 1u);
  EXPECT_EQ(probes->ssh_asked, std::vector<std::string>{"127.0.0.1:2222"});
  EXPECT_EQ(silent[0].status, Status::warn) << text_of(silent);
  EXPECT_NE(text_of(silent).find("fake: nothing listens"), std::string::npos) << text_of(silent);

  live::SshProbe old;
  old.banner = "SSH-2.0-OpenSSH_9.2p1";
  old.kex = {"curve25519-sha256"};
  old.hostkey = {"ssh-ed25519"};
  old.ciphers_c2s = old.ciphers_s2c = {"chacha20-poly1305@openssh.com"};
  old.macs_c2s = old.macs_s2c = {"hmac-sha2-256-etm@openssh.com", "hmac-sha1"};
  probes->ssh_answer = old;
  auto weak = run_live(r, probes, "ssh.weak-algorithms");
  ASSERT_EQ(weak.size(), 1u);
  EXPECT_EQ(weak[0].status, Status::fail) << text_of(weak);
  EXPECT_NE(text_of(weak).find("KEXINIT macs offers hmac-sha1"), std::string::npos)
      << text_of(weak);
}

// The host's ruleset comes through libnftables, not a child `nft`: the same
// text the command prints, in a network namespace of the test's own.
TEST(HostProbes, NftRulesetEqualsTheNftCommand) {
  BULWARK_REQUIRE_TOOL("nft") << "(Debian: nftables)";
  std::string ns = "bw-probes-" + std::to_string(::getpid());
  auto add = test::run_command("ip netns add " + ns);
  BULWARK_REQUIRE(add.exit_code == 0) << "network namespaces unavailable: " << add.err;
  TempRoot t;
  t.write("/r.nft", "table inet filter {\n"
                    "  set allowed { type ipv4_addr; flags interval; elements = { 10.0.0.0/8 } }\n"
                    "  chain input {\n"
                    "    type filter hook input priority filter; policy drop;\n"
                    "    iif \"lo\" accept\n"
                    "    ct state established,related accept\n"
                    "    ip saddr @allowed tcp dport 22 accept\n"
                    "  }\n"
                    "}\n");
  auto load = test::run_command("ip netns exec " + ns + " nft -f " + t.host("/r.nft"));
  auto cli = test::run_command("ip netns exec " + ns + " nft list ruleset");
  Result<std::string> lib = Error{"not run"};
  std::thread th([&] {
    int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0 && ::setns(fd, CLONE_NEWNET) == 0)
      lib = live::host_probes()->nft_ruleset();
    if (fd >= 0)
      ::close(fd);
  });
  th.join();
  test::run_command("ip netns del " + ns);
  ASSERT_EQ(load.exit_code, 0) << load.err;
  ASSERT_EQ(cli.exit_code, 0) << cli.err;
  ASSERT_TRUE(lib.ok()) << lib.error().to_string();
  EXPECT_NE(cli.out.find("ip saddr @allowed tcp dport 22 accept"), std::string::npos) << cli.out;
  EXPECT_EQ(*lib, cli.out);
}
