// The iptables-ipset action end to end (issue 19), in network namespaces
// created here (as nft_e2e_test.cpp): bulwark watches a log in namespace S
// with `action: iptables-ipset`; failures from peer A's address land in
// ipset bulwark-v4 (an IPv6 /64 in bulwark-v6), A can no longer open a TCP
// connection to S while B still can; a flushed set, a deleted rule and
// destroyed sets are noticed and restored; a restart puts the bans back
// without a second copy of the rules; `bulwark bans remove` deletes the
// element; a firewall that refuses bans is counted in
// bulwark_bans_failed_total. Real ipset 7.17 and iptables 1.8.9 (Debian).
#include "../support.hpp"
#include "netns.hpp"

#include <chrono>
#include <fmt/format.h>
#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <thread>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

// S, A and B of netns.hpp, in this test's own names and subnet.
struct Namespaces : bulwark::test::PeerNamespaces {
  Namespaces() : PeerNamespaces("ipset", 201, 'i') {}
  bool setup(std::string &why) {
    return PeerNamespaces::setup(
        "ip netns exec {s} ipset list -n; ip netns exec {s} iptables -w 5 -S INPUT", why);
  }
};

using bulwark::test::wait_for;

size_t count(const std::string &hay, const std::string &needle) {
  size_t n = 0;
  for (size_t p = hay.find(needle); p != std::string::npos; p = hay.find(needle, p + 1))
    ++n;
  return n;
}

} // namespace

TEST(WatchIpsetE2E, BansBlockTcpAndSurviveFlushRuleDeletionAndRestart) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root for network namespaces, ipset and iptables";
  for (const char *tool : {"ip", "ipset", "iptables", "ip6tables", "curl", "python3"})
    BULWARK_REQUIRE_TOOL(tool) << "(Debian packages iproute2, ipset, iptables, curl, python3)";
  Namespaces ns;
  std::string why;
  BULWARK_REQUIRE(ns.setup(why)) << "cannot create network namespaces with ipset here: " << why;
  TempRoot t;
  t.write("/auth.log", "");
  t.write("/watch.yaml", fmt::format(R"(state_dir: {0}/state
action: iptables-ipset
ipset:
  check_interval: 1s
metrics:
  listen: ''
  textfile: {0}/metrics.prom
jails:
  sshd:
    logs: [{0}/auth.log]
)",
                                     t.path()));
  ns.pidfiles.push_back(t.host("/http.pid"));
  run_command(fmt::format("{{ ip netns exec {} python3 -m http.server 8080 --bind 0.0.0.0 "
                          "--directory {} >/dev/null 2>&1 & echo $! > {}; }}",
                          ns.s, t.path(), t.host("/http.pid")));
  ASSERT_TRUE(wait_for([&] { return ns.connects(ns.a, ns.ip(1)); }, 5000))
      << "peer A cannot reach the server before any ban";
  ASSERT_TRUE(wait_for([&] { return ns.connects(ns.b, ns.ip(5)); }, 5000));

  auto slurp = [&](const char *f) {
    std::ifstream in(t.host(f));
    return bulwark::test::read_all(in);
  };
  auto start = [&] {
    ns.pidfiles.push_back(t.host("/bulwark.pid"));
    run_command(fmt::format(
        "{{ ip netns exec {} {} watch --config {} >> {} 2>> {} & echo $! > {}; }}", ns.s, k_bin,
        t.host("/watch.yaml"), t.host("/out"), t.host("/err"), t.host("/bulwark.pid")));
  };
  auto pid = [&] {
    std::string p = slurp("/bulwark.pid");
    while (!p.empty() && p.back() == '\n')
      p.pop_back();
    return p;
  };
  start();
  ASSERT_TRUE(wait_for([&] { return slurp("/err").find("watching") != std::string::npos; }, 5000))
      << slurp("/err");

  const std::string v4 = ns.in_s("ipset list bulwark-v4");
  const std::string v6 = ns.in_s("ipset list bulwark-v6");
  const std::string rules4 = ns.in_s("iptables -w 5 -S INPUT");
  const std::string rules6 = ns.in_s("ip6tables -w 5 -S INPUT");
  const std::string drop4 = "-A INPUT -m set --match-set bulwark-v4 src -j DROP";
  const std::string drop6 = "-A INPUT -m set --match-set bulwark-v6 src -j DROP";
  auto one_rule_each = [&] {
    return count(run_command(rules4).out, drop4) == 1 && count(run_command(rules6).out, drop6) == 1;
  };
  // The sets are created with per-element timeouts, the rules once.
  std::string header = run_command(v4).out;
  EXPECT_NE(header.find("Type: hash:ip"), std::string::npos) << header;
  EXPECT_NE(header.find("timeout 0"), std::string::npos) << header;
  header = run_command(v6).out;
  EXPECT_NE(header.find("Type: hash:net"), std::string::npos) << header;
  EXPECT_NE(header.find("family inet6"), std::string::npos) << header;
  EXPECT_TRUE(one_rule_each()) << run_command(rules4).out << run_command(rules6).out;

  // A firewall reset done by hand while the daemon runs. The daemon repairs
  // what it sees missing, so it may put the rule back between `iptables -F`
  // and `ipset destroy` (the set is then in use) or re-create the set before
  // `ipset create`: the script is retried until it runs through (CI lost
  // this race once under load).
  auto reset = [&](const std::string &script) {
    return wait_for([&] { return run_command(ns.in_s("sh -c '" + script + "'")).exit_code == 0; },
                    10000);
  };
  auto fail3 = [&](const std::string &addr, int minute) {
    std::string lines;
    for (int i = 0; i < 3; ++i)
      lines += fmt::format("Dec  6 10:{:02}:0{} s sshd[{}]: Failed password for root from {} "
                           "port 22 ssh2\n",
                           minute, i, minute * 10 + i, addr);
    std::ofstream(t.host("/auth.log"), std::ios::app) << lines;
  };
  const std::string a = ns.ip(2);
  // "10.201.N.2 timeout 3599": the element carries the ban's timeout.
  const std::regex a_element(std::regex_replace(a, std::regex("\\."), "\\.") +
                             " timeout 3[56][0-9][0-9]\n");
  auto banned = [&] { return std::regex_search(run_command(v4).out, a_element); };

  fail3(a, 0);
  ASSERT_TRUE(wait_for(banned, 3000)) << run_command(v4).out << slurp("/out") << slurp("/err");
  EXPECT_FALSE(ns.connects(ns.a, ns.ip(1))) << "A still connects while banned";
  EXPECT_TRUE(wait_for([&] { return ns.connects(ns.b, ns.ip(5)); }, 5000))
      << "B lost its connection";
  EXPECT_EQ(run_command(v4).out.find(ns.ip(6)), std::string::npos);
  // IPv6: the /64 in the hash:net set.
  fail3("2001:db8:5:6::1", 1);
  EXPECT_TRUE(wait_for(
      [&] { return run_command(v6).out.find("2001:db8:5:6::/64 timeout") != std::string::npos; },
      3000))
      << run_command(v6).out << slurp("/err");

  // A flushed set (what a firewall script's `ipset flush` does).
  ASSERT_EQ(run_command(ns.in_s("ipset flush bulwark-v4")).exit_code, 0);
  ASSERT_FALSE(banned());
  EXPECT_TRUE(wait_for(banned, 5000)) << "not restored after ipset flush: " << slurp("/err");
  EXPECT_FALSE(ns.connects(ns.a, ns.ip(1)));

  // A deleted rule: put back once.
  ASSERT_EQ(run_command(ns.in_s("iptables -w 5 -D INPUT -m set --match-set bulwark-v4 src -j "
                                "DROP"))
                .exit_code,
            0);
  ASSERT_TRUE(ns.connects(ns.a, ns.ip(1))) << "the test did not remove the rule";
  EXPECT_TRUE(wait_for([&] { return count(run_command(rules4).out, drop4) == 1; }, 5000))
      << run_command(rules4).out << slurp("/err");
  EXPECT_FALSE(ns.connects(ns.a, ns.ip(1))) << "A connects after the rule was restored";
  EXPECT_TRUE(one_rule_each()) << run_command(rules4).out << run_command(rules6).out;

  // Everything gone (iptables -F, ipset destroy: a firewall reset).
  ASSERT_TRUE(reset("iptables -w 5 -F INPUT && ip6tables -w 5 -F INPUT && "
                    "ipset destroy bulwark-v4 && ipset destroy bulwark-v6"));
  EXPECT_TRUE(wait_for(banned, 5000)) << "not restored after a reset: " << slurp("/err");
  EXPECT_NE(run_command(v6).out.find("2001:db8:5:6::/64 timeout"), std::string::npos);
  EXPECT_TRUE(one_rule_each()) << run_command(rules4).out;
  EXPECT_NE(slurp("/err").find("flushed or deleted: restored"), std::string::npos) << slurp("/err");

  // Restart with the kernel's state kept: no second copy of the rules.
  ASSERT_EQ(run_command("kill -TERM " + pid()).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return run_command("kill -0 " + pid()).exit_code != 0; }, 5000));
  start();
  ASSERT_TRUE(
      wait_for([&] { return count(slurp("/err"), "restored 2 bans into ipset") == 1; }, 5000))
      << slurp("/err");
  EXPECT_TRUE(one_rule_each()) << run_command(rules4).out << run_command(rules6).out;
  EXPECT_TRUE(banned());

  // Restart after a reboot (nothing in the kernel): the bans come back
  // from the state.
  ASSERT_EQ(run_command("kill -TERM " + pid()).exit_code, 0);
  ASSERT_TRUE(wait_for([&] { return run_command("kill -0 " + pid()).exit_code != 0; }, 5000));
  ASSERT_EQ(run_command(ns.in_s("sh -c 'iptables -w 5 -F INPUT && ip6tables -w 5 -F INPUT && "
                                "ipset destroy'"))
                .exit_code,
            0);
  ASSERT_TRUE(wait_for([&] { return ns.connects(ns.a, ns.ip(1)); }, 5000));
  start();
  ASSERT_TRUE(
      wait_for([&] { return count(slurp("/err"), "restored 2 bans into ipset") == 2; }, 5000))
      << slurp("/err");
  EXPECT_TRUE(banned()) << run_command(v4).out;
  EXPECT_NE(run_command(v6).out.find("2001:db8:5:6::/64 timeout"), std::string::npos);
  EXPECT_TRUE(one_rule_each()) << run_command(rules4).out;
  EXPECT_FALSE(ns.connects(ns.a, ns.ip(1))) << "A connects after the restart";

  // bans remove: the element goes, A connects again.
  auto rm =
      run_command(ns.in_s(k_bin + " bans remove " + a + " --config " + t.host("/watch.yaml")));
  EXPECT_EQ(rm.exit_code, 0) << rm.out << rm.err;
  EXPECT_EQ(run_command(v4).out.find(a + " "), std::string::npos) << run_command(v4).out;
  EXPECT_TRUE(wait_for([&] { return ns.connects(ns.a, ns.ip(1)); }, 5000));

  // A firewall that refuses bans: a set of that name the action cannot use
  // (another family), so every batch and every repair fails. The failures
  // are counted in the same metric as nftables'.
  ASSERT_TRUE(reset("iptables -w 5 -F INPUT && ipset destroy bulwark-v4 && "
                    "ipset create bulwark-v4 hash:ip family inet6"));
  fail3(ns.ip(6), 2);
  EXPECT_TRUE(wait_for(
      [&] {
        return std::regex_search(slurp("/metrics.prom"),
                                 std::regex("\nbulwark_bans_failed_total [1-9]"));
      },
      5000))
      << slurp("/metrics.prom") << slurp("/err");
  EXPECT_NE(slurp("/err").find("bans could not be applied"), std::string::npos) << slurp("/err");
  EXPECT_TRUE(wait_for([&] { return ns.connects(ns.b, ns.ip(5)); }, 5000));
}

TEST(WatchIpsetE2E, MissingIpsetIsAStartupError) {
  // Fail closed: an action that cannot work refuses to start (or the
  // operator would believe the host protected).
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root for a private mount namespace";
  BULWARK_REQUIRE_TOOL("unshare");
  TempRoot t;
  t.write("/auth.log", "");
  t.write("/watch.yaml", fmt::format(R"(state_dir: {0}/state
action: iptables-ipset
metrics: {{listen: ''}}
jails:
  sshd: {{logs: [{0}/auth.log]}}
)",
                                     t.path()));
  // /usr/sbin and /sbin hidden (empty tmpfs) in a private mount namespace.
  auto r = run_command(fmt::format("unshare -m -n sh -c 'mount -t tmpfs none /usr/sbin && "
                                   "{{ [ -L /sbin ] || mount -t tmpfs none /sbin; }} && "
                                   "timeout 10 {} watch --config {}'",
                                   k_bin, t.host("/watch.yaml")));
  EXPECT_NE(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.err.find("ipset not found"), std::string::npos) << r.err;
}
