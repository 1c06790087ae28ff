// firewall.* on offline roots: each check passes and fails on real rule
// files (ufw, iptables-persistent, nftables), and names the line that
// decided. Guide values come from profile files written by the test.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/checks/firewall_model.hpp>

#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

test::Findings audit(const TempRoot &r, const std::string &profile = "baseline") {
  return test::audit_only(r.path(), {"firewall"}, {profile});
}

bool cites(const Finding &f, const std::string &path, int line) {
  for (auto &e : f.evidence)
    if (e.path == path && e.line == line)
      return true;
  return false;
}

std::string dump(const Finding &f) {
  std::string s = std::string(to_string(f.status)) + ": " + f.message + "\n";
  for (auto &e : f.evidence)
    s += "  " + e.path + ":" + std::to_string(e.line) + " " + e.found + "\n";
  return s;
}

void persistent(const TempRoot &r) {
  // systemctl counts the link only when the unit file exists.
  r.write("/lib/systemd/system/netfilter-persistent.service",
          "[Service]\nExecStart=/usr/sbin/netfilter-persistent start\n"
          "[Install]\nWantedBy=multi-user.target\n");
  r.symlink("/lib/systemd/system/netfilter-persistent.service",
            "/etc/systemd/system/multi-user.target.wants/netfilter-persistent.service");
}

// Guide 000's rules (rules.v4) plus an IPv6 file that drops by policy.
const char *k_v4 = R"(*filter
:INPUT ACCEPT [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
-A INPUT -p udp -m udp --dport 443 -j ACCEPT
-A INPUT -s 10.0.0.0/8 -p tcp -m tcp --dport 22 -j ACCEPT
-A INPUT -j DROP
-A OUTPUT -o lo -j ACCEPT
-A OUTPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
-A OUTPUT -p udp --dport 53 -j ACCEPT
COMMIT
)";
const char *k_v6 = R"(*filter
:INPUT DROP [0:0]
:FORWARD DROP [0:0]
:OUTPUT DROP [0:0]
-A INPUT -i lo -j ACCEPT
-A INPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A INPUT -p tcp -m tcp --dport 443 -j ACCEPT
-A INPUT -p udp -m udp --dport 443 -j ACCEPT
-A OUTPUT -o lo -j ACCEPT
COMMIT
)";

const char *k_nft = R"(#!/usr/sbin/nft -f
flush ruleset
define admin = 10.0.0.0/8
table inet filter {
  chain input {
    type filter hook input priority filter; policy drop;
    iif lo accept
    ct state established,related accept
    tcp dport 22 ip saddr $admin ct state new limit rate 3/minute accept
    tcp dport 443 accept
    udp dport 443 accept
  }
  chain output {
    type filter hook output priority filter; policy drop;
    oif lo accept
    ct state established,related accept
  }
}
)";

void guide000_root(const TempRoot &r) {
  r.write("/etc/iptables/rules.v4", k_v4);
  r.write("/etc/iptables/rules.v6", k_v6);
  r.write("/etc/ssh/sshd_config", "Port 22\n");
  persistent(r);
}

std::string profile_file(const TempRoot &r, const std::string &body) {
  r.write("/profile.yaml", "name: test\ndescription: test\nparameters:\n" + body);
  return r.host("/profile.yaml");
}

} // namespace

TEST(FirewallChecks, Guide000IptablesPersistentPasses) {
  TempRoot r;
  guide000_root(r);
  auto f = audit(r);
  for (const char *id :
       {"firewall.enabled", "firewall.default-deny-incoming", "firewall.loopback-allowed",
        "firewall.established-allowed", "firewall.ssh-restricted", "firewall.allowed-ports",
        "firewall.egress-filtering"})
    EXPECT_EQ(f[id].status, Status::pass) << id << "\n" << dump(f[id]);
  EXPECT_TRUE(cites(f["firewall.default-deny-incoming"], "/etc/iptables/rules.v4", 10));
  EXPECT_TRUE(cites(f["firewall.default-deny-incoming"], "/etc/iptables/rules.v6", 2));
  EXPECT_TRUE(cites(f["firewall.loopback-allowed"], "/etc/iptables/rules.v4", 5));
  EXPECT_TRUE(cites(f["firewall.established-allowed"], "/etc/iptables/rules.v6", 6));
  EXPECT_TRUE(cites(f["firewall.ssh-restricted"], "/etc/iptables/rules.v4", 9));
  EXPECT_TRUE(cites(f["firewall.allowed-ports"], "/etc/iptables/rules.v4", 7));
  EXPECT_TRUE(cites(f["firewall.egress-filtering"], "/etc/iptables/rules.v4", 4));
  // Guide 000 restricts SSH by source, it does not rate limit it.
  EXPECT_EQ(f["firewall.ssh-rate-limited"].status, Status::fail);
  EXPECT_TRUE(cites(f["firewall.ssh-rate-limited"], "/etc/iptables/rules.v4", 9));
  EXPECT_EQ(f["firewall.exposed-listeners"].status, Status::not_applicable);
}

TEST(FirewallChecks, NotLoadedAtBootFails) {
  TempRoot r;
  r.write("/etc/iptables/rules.v4", k_v4);
  r.write("/etc/iptables/rules.v6", k_v6);
  auto f = audit(r);
  EXPECT_EQ(f["firewall.enabled"].status, Status::fail);
  EXPECT_NE(f["firewall.enabled"].evidence[0].found.find("not enabled"), std::string::npos);
  EXPECT_EQ(f["firewall.default-deny-incoming"].status, Status::fail);
  EXPECT_EQ(f["firewall.loopback-allowed"].status, Status::not_applicable);
  TempRoot empty;
  EXPECT_EQ(audit(empty)["firewall.enabled"].status, Status::fail);
}

TEST(FirewallChecks, IPv6LeftOpenFailsDefaultDeny) {
  TempRoot r;
  guide000_root(r);
  r.write("/etc/iptables/rules.v6", "*filter\n:INPUT ACCEPT [0:0]\nCOMMIT\n");
  auto f = audit(r);
  auto &d = f["firewall.default-deny-incoming"];
  ASSERT_EQ(d.status, Status::fail) << dump(d);
  EXPECT_TRUE(cites(d, "/etc/iptables/rules.v6", 2));
  EXPECT_NE(d.message.find("IPv6"), std::string::npos);
  // And with the v6 file missing, nothing filters IPv6.
  std::filesystem::remove(r.host("/etc/iptables/rules.v6"));
  EXPECT_EQ(audit(r)["firewall.default-deny-incoming"].status, Status::fail);
}

TEST(FirewallChecks, RejectedFileLoadsNothing) {
  TempRoot r;
  guide000_root(r);
  std::string v4 = k_v4;
  v4.insert(v4.find("-A INPUT -j DROP"), "-A INPUT -p tcp --dport 80 -j ACCPT\n");
  r.write("/etc/iptables/rules.v4", v4);
  auto f = audit(r);
  auto &d = f["firewall.default-deny-incoming"];
  EXPECT_EQ(d.status, Status::fail) << dump(d);
  EXPECT_EQ(f["firewall.enabled"].status, Status::pass); // rules.v6 still loads
  EXPECT_TRUE(cites(f["firewall.enabled"], "/etc/iptables/rules.v4", 10));
}

TEST(FirewallChecks, LoopbackAndEstablishedFailWithoutTheirRules) {
  TempRoot r;
  guide000_root(r);
  std::string v4 = k_v4;
  for (const char *gone : {"-A INPUT -i lo", "-A INPUT -m state"}) {
    size_t at = v4.find(gone);
    v4.erase(at, v4.find('\n', at) + 1 - at);
  }
  r.write("/etc/iptables/rules.v4", v4);
  auto f = audit(r);
  EXPECT_EQ(f["firewall.loopback-allowed"].status, Status::fail)
      << dump(f["firewall.loopback-allowed"]);
  EXPECT_TRUE(cites(f["firewall.loopback-allowed"], "/etc/iptables/rules.v4", 8));
  EXPECT_EQ(f["firewall.established-allowed"].status, Status::fail);
  EXPECT_TRUE(cites(f["firewall.established-allowed"], "/etc/iptables/rules.v4", 8));
}

TEST(FirewallChecks, SshOpenToTheWorldAndExtraPortsFail) {
  TempRoot r;
  guide000_root(r);
  std::string v4 = k_v4;
  v4.insert(v4.find("-A INPUT -j DROP"),
            "-A INPUT -p tcp -m multiport --dports 22,5432 -j ACCEPT\n");
  r.write("/etc/iptables/rules.v4", v4);
  auto f = audit(r);
  auto &s = f["firewall.ssh-restricted"];
  ASSERT_EQ(s.status, Status::fail) << dump(s);
  EXPECT_TRUE(cites(s, "/etc/iptables/rules.v4", 10));
  auto &p = f["firewall.allowed-ports"];
  ASSERT_EQ(p.status, Status::fail) << dump(p);
  EXPECT_TRUE(cites(p, "/etc/iptables/rules.v4", 10));
  EXPECT_NE(p.message.find("5432/tcp"), std::string::npos) << p.message;
  EXPECT_NE(p.message.find("22/tcp"), std::string::npos) << p.message;
  // sshd on another port: that port is the one judged.
  r.write("/etc/ssh/sshd_config", "Port 2222\n");
  EXPECT_EQ(audit(r)["firewall.ssh-restricted"].status, Status::pass);
}

TEST(FirewallChecks, Guide003UfwWithLimitPassesTheLmsProfile) {
  TempRoot r;
  const std::string fx = std::string(BULWARK_SOURCE_DIR) + "/tests/data/firewall/ufw-debian12/";
  auto copy = [&](const std::string &from, const std::string &to) {
    std::ifstream in(fx + from);
    ASSERT_TRUE(in) << fx + from;
    r.write(to, bulwark::test::read_all(in));
  };
  for (const char *f : {"before.rules", "after.rules", "before6.rules", "after6.rules"})
    copy(f, std::string("/etc/ufw/") + f);
  copy("default-ufw", "/etc/default/ufw");
  // "ufw allow 80/tcp", "ufw allow 443/tcp", "ufw limit ssh" (user.rules as ufw writes it).
  std::string rules = R"(*filter
:ufw-user-input - [0:0]
:ufw-user-output - [0:0]
:ufw-user-forward - [0:0]
:ufw-user-limit - [0:0]
:ufw-user-limit-accept - [0:0]
### RULES ###

### tuple ### allow tcp 80 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 80 -j ACCEPT

### tuple ### allow tcp 443 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 443 -j ACCEPT

### tuple ### limit tcp 22 0.0.0.0/0 any 0.0.0.0/0 in
-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set
-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j ufw-user-limit
-A ufw-user-input -p tcp --dport 22 -j ufw-user-limit-accept

### END RULES ###
-A ufw-user-limit -m limit --limit 3/minute -j LOG --log-prefix "[UFW LIMIT BLOCK] "
-A ufw-user-limit -j REJECT
-A ufw-user-limit-accept -j ACCEPT
COMMIT
)";
  r.write("/etc/ufw/user.rules", rules);
  r.write("/etc/ufw/user6.rules", rules);
  r.write("/etc/ufw/ufw.conf", "ENABLED=yes\nLOGLEVEL=low\n");
  r.write("/etc/ssh/sshd_config", "Port 22\n");
  std::string lms = profile_file(r, R"(  firewall.ssh-restricted: {rate-limit-suffices: "yes"}
  firewall.allowed-ports: {ports: ["22", "80", "443"]}
  firewall.egress-filtering: {required: "no"}
)");
  auto f = audit(r, lms);
  for (const char *id :
       {"firewall.enabled", "firewall.default-deny-incoming", "firewall.loopback-allowed",
        "firewall.established-allowed", "firewall.ssh-restricted", "firewall.ssh-rate-limited",
        "firewall.allowed-ports"})
    EXPECT_EQ(f[id].status, Status::pass) << id << "\n" << dump(f[id]);
  EXPECT_TRUE(cites(f["firewall.enabled"], "/etc/ufw/ufw.conf", 1));
  EXPECT_TRUE(cites(f["firewall.default-deny-incoming"], "/etc/default/ufw", 11))
      << dump(f["firewall.default-deny-incoming"]);
  EXPECT_TRUE(cites(f["firewall.ssh-rate-limited"], "/etc/ufw/user.rules", 17))
      << dump(f["firewall.ssh-rate-limited"]);
  EXPECT_EQ(f["firewall.egress-filtering"].status, Status::not_applicable);

  // Guide 000's values on the same host: 22 and 80 are too much, SSH is
  // open to the world (rate limited does not suffice), egress is open.
  std::string vpn = profile_file(
      r, R"(  firewall.ssh-restricted: {rate-limit-suffices: "no", admin-sources: ["10.0.0.0/8"]}
  firewall.allowed-ports: {ports: ["443/tcp", "443/udp"]}
  firewall.egress-filtering: {required: "yes"}
)");
  f = audit(r, vpn);
  EXPECT_EQ(f["firewall.ssh-restricted"].status, Status::fail);
  EXPECT_TRUE(cites(f["firewall.ssh-restricted"], "/etc/ufw/user.rules", 23));
  EXPECT_EQ(f["firewall.allowed-ports"].status, Status::fail);
  EXPECT_TRUE(cites(f["firewall.allowed-ports"], "/etc/ufw/user.rules", 10));
  EXPECT_EQ(f["firewall.egress-filtering"].status, Status::fail);

  // "ufw allow 22/tcp" instead of limit: not rate limited.
  std::string plain = rules;
  plain.replace(
      plain.find("-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set"),
      std::string("-A ufw-user-input -p tcp --dport 22 -m conntrack --ctstate NEW -m recent --set")
          .size(),
      "-A ufw-user-input -p tcp --dport 22 -j ACCEPT");
  r.write("/etc/ufw/user.rules", plain);
  f = audit(r, lms);
  EXPECT_EQ(f["firewall.ssh-rate-limited"].status, Status::fail);
  EXPECT_TRUE(cites(f["firewall.ssh-rate-limited"], "/etc/ufw/user.rules", 16));
  EXPECT_EQ(f["firewall.ssh-restricted"].status, Status::fail);

  // ENABLED=no: ufw-init loads nothing.
  r.write("/etc/ufw/ufw.conf", "ENABLED=no\n");
  f = audit(r, lms);
  EXPECT_EQ(f["firewall.enabled"].status, Status::fail);
  EXPECT_TRUE(cites(f["firewall.enabled"], "/etc/ufw/ufw.conf", 1));
}

TEST(FirewallChecks, NftablesServiceRuleset) {
  TempRoot r;
  r.write("/lib/systemd/system/nftables.service",
          "[Service]\nExecStart=/usr/sbin/nft -f /etc/nftables.conf\n"
          "[Install]\nWantedBy=sysinit.target\n");
  r.symlink("/lib/systemd/system/nftables.service",
            "/etc/systemd/system/sysinit.target.wants/nftables.service");
  r.write("/etc/ssh/sshd_config", "Port 22\n");
  r.write("/etc/nftables.conf", k_nft);
  auto f = audit(r);
  for (const char *id :
       {"firewall.enabled", "firewall.default-deny-incoming", "firewall.loopback-allowed",
        "firewall.established-allowed", "firewall.ssh-restricted", "firewall.ssh-rate-limited",
        "firewall.allowed-ports", "firewall.egress-filtering"})
    EXPECT_EQ(f[id].status, Status::pass) << id << "\n" << dump(f[id]);
  EXPECT_TRUE(cites(f["firewall.default-deny-incoming"], "/etc/nftables.conf", 6));
  EXPECT_TRUE(cites(f["firewall.ssh-rate-limited"], "/etc/nftables.conf", 9));
  EXPECT_TRUE(cites(f["firewall.egress-filtering"], "/etc/nftables.conf", 14));

  // An undefined variable: nft -f loads nothing at all.
  r.write("/etc/nftables.conf", "flush ruleset\ntable inet f {\n chain input {\n"
                                "  type filter hook input priority 0; policy drop;\n"
                                "  tcp dport $ssh accept\n }\n}\n");
  f = audit(r);
  EXPECT_EQ(f["firewall.enabled"].status, Status::fail);
  EXPECT_TRUE(cites(f["firewall.enabled"], "/etc/nftables.conf", 5)) << dump(f["firewall.enabled"]);
  EXPECT_EQ(f["firewall.default-deny-incoming"].status, Status::fail);
}

TEST(FirewallChecks, FactsPrintTheModelAndTheOpenPortTable) {
  TempRoot r;
  guide000_root(r);
  RootFs fs(r.path());
  Context ctx(fs);
  auto j = facts_firewall(ctx);
  ASSERT_TRUE(j.contains("inbound")) << j.dump(2);
  auto &open = j["inbound"]["IPv4"]["open_to_world"];
  ASSERT_EQ(open.size(), 2u) << j.dump(2);
  EXPECT_EQ(open[0]["ports"], "443/tcp");
  EXPECT_EQ(open[0]["decided_by"], "/etc/iptables/rules.v4:7");
  EXPECT_EQ(open[1]["ports"], "443/udp");
  EXPECT_EQ(j["inbound"]["IPv4"]["unmatched_tcp"]["decided_by"], "/etc/iptables/rules.v4:10");
  EXPECT_EQ(j["sources"][0]["at_boot"], true);
}

TEST(FirewallChecks, ProcNetListeners) {
  std::string tcp =
      "  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  "
      "timeout inode\n"
      "   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 00:00000000 00000000   108        0 "
      "1\n"
      "   1: 00000000:0016 00000000:0000 0A 00000000:00000000 00:00000000 00000000     0        0 "
      "2\n"
      "   2: 0F02000A:0016 0102000A:C350 01 00000000:00000000 00:00000000 00000000     0        0 "
      "3\n";
  auto l = procnet::parse_proc_net(tcp, 6, fw::Family::v4, "/proc/net/tcp").listeners;
  ASSERT_EQ(l.size(), 2u);
  EXPECT_EQ(l[0].addr.str(), "127.0.0.1");
  EXPECT_EQ(l[0].port, 5432u);
  EXPECT_EQ(l[1].addr.str(), "0.0.0.0");
  EXPECT_EQ(l[1].port, 22u);
  EXPECT_EQ(l[1].source, "/proc/net/tcp:3");
  std::string tcp6 =
      "  sl  local_address                         remote_address                        st\n"
      "   0: 00000000000000000000000001000000:1EBD 00000000000000000000000000000000:0000 0A\n";
  auto l6 = procnet::parse_proc_net(tcp6, 6, fw::Family::v6, "/proc/net/tcp6").listeners;
  ASSERT_EQ(l6.size(), 1u);
  EXPECT_EQ(l6[0].addr.str(), "::1");
  EXPECT_EQ(l6[0].port, 7869u);
}

// The fixtures above are what the real loaders accept.
TEST(FirewallChecks, FixturesPassTheRealLoaders) {
  TempRoot r;
  r.write("/v4", k_v4);
  r.write("/v6", k_v6);
  r.write("/nft", k_nft);
  struct Tool {
    const char *bin, *cmd, *file;
  } tools[] = {{"/usr/sbin/iptables-restore", "iptables-restore --test", "/v4"},
               {"/usr/sbin/ip6tables-restore", "ip6tables-restore --test", "/v6"},
               {"/usr/sbin/nft", "nft -c -f", "/nft"}};
  int ran = 0;
  for (auto &t : tools) {
    if (::access(t.bin, X_OK) != 0)
      continue;
    auto res = bulwark::test::run_command(std::string(t.cmd) + " " + r.host(t.file));
    if (res.err.find("Operation not permitted") != std::string::npos ||
        res.err.find("Permission denied") != std::string::npos)
      continue; // no CAP_NET_ADMIN here
    EXPECT_EQ(res.exit_code, 0) << t.cmd << ": " << res.err;
    ++ran;
  }
  BULWARK_REQUIRE(ran > 0)
      << "neither iptables-restore nor nft can run here (packages iptables, nftables; "
         "CAP_NET_ADMIN)";
}
