// End to end in network namespaces created here: bulwark watches a log in
// namespace S, failures from peer A's address are written to it, the ban
// lands in nftables (table inet bulwark), A can no longer connect while B
// still can, and once the short bantime is over A connects again. Also
// `bulwark bans list/remove` on the SQLite record. Needs root, ip netns and
// nftables; skipped with a message otherwise.
#include "../support.hpp"
#include "netns.hpp"

#include <chrono>
#include <filesystem>
#include <fmt/format.h>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>
#include <thread>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

// S, A and B of netns.hpp, in this test's own names and subnet.
struct Namespaces : bulwark::test::PeerNamespaces {
  Namespaces() : PeerNamespaces("watch", 200, 's') {}
  bool setup(std::string &why) {
    return PeerNamespaces::setup("ip netns exec {s} nft list ruleset", why);
  }
};

using bulwark::test::wait_for;

} // namespace

TEST(WatchNftE2E, BanBlocksPeerAThenExpires) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root for network namespaces and nftables";
  for (const char *tool : {"ip", "nft", "curl", "python3"})
    BULWARK_REQUIRE_TOOL(tool) << "(Debian packages iproute2, nftables, curl, python3)";
  Namespaces ns;
  std::string why;
  BULWARK_REQUIRE(ns.setup(why)) << "cannot create network namespaces with nftables here: " << why;
  TempRoot t;
  t.write("/auth.log", "");
  t.write("/watch.yaml", fmt::format(R"(state_dir: {}/state
metrics:
  listen: 127.0.0.1:0
defaults:
  bantime: 10s
jails:
  sshd:
    logs: [{}/auth.log]
)",
                                     t.path(), t.path()));
  // A web server in S for the peers to reach.
  ns.pidfiles.push_back(t.host("/http.pid"));
  run_command(fmt::format("{{ ip netns exec {} python3 -m http.server 8080 --bind 0.0.0.0 "
                          "--directory {} >/dev/null 2>&1 & echo $! > {}; }}",
                          ns.s, t.path(), t.host("/http.pid")));
  ASSERT_TRUE(wait_for([&] { return ns.connects(ns.a, ns.ip(1)); }, 5000))
      << "peer A cannot reach the server before any ban";
  ASSERT_TRUE(wait_for([&] { return ns.connects(ns.b, ns.ip(5)); }, 5000));

  ns.pidfiles.push_back(t.host("/bulwark.pid"));
  run_command(fmt::format("{{ ip netns exec {} {} watch --config {} > {} 2> {} & echo $! > {}; }}",
                          ns.s, k_bin, t.host("/watch.yaml"), t.host("/out"), t.host("/err"),
                          t.host("/bulwark.pid")));
  auto slurp = [&](const char *f) {
    std::ifstream in(t.host(f));
    return bulwark::test::read_all(in);
  };
  ASSERT_TRUE(wait_for([&] { return slurp("/err").find("watching") != std::string::npos; }, 5000))
      << slurp("/err");
  std::string set_cmd = "ip netns exec " + ns.s + " nft list set inet bulwark v4_32";
  ASSERT_EQ(run_command(set_cmd).exit_code, 0) << "bulwark did not create its table";

  // Three failures from A (one forged user name naming B).
  std::string lines;
  for (int i = 0; i < 2; ++i)
    lines += fmt::format("May  1 10:00:0{} s sshd[7]: Failed password for root from {} port 4{} "
                         "ssh2\n",
                         i, ns.ip(2), i);
  std::ofstream(t.host("/auth.log"), std::ios::app) << lines;
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  EXPECT_EQ(run_command(set_cmd).out.find(ns.ip(2)), std::string::npos) << "banned too early";
  auto t0 = std::chrono::steady_clock::now();
  std::ofstream(t.host("/auth.log"), std::ios::app) << fmt::format(
      "May  1 10:00:03 s sshd[7]: Failed password for x from {} port 22 ssh2 from {} "
      "port 43 ssh2\n",
      ns.ip(6), ns.ip(2));
  ASSERT_TRUE(
      wait_for([&] { return run_command(set_cmd).out.find(ns.ip(2)) != std::string::npos; }, 3000))
      << run_command(set_cmd).out << slurp("/out") << slurp("/err");
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  std::cout << "ban in nftables " << ms << " ms after the maxretry-th failure was written\n";
  EXPECT_LT(std::chrono::milliseconds(ms), bulwark::test::hang_bound(std::chrono::seconds(1)));
  EXPECT_EQ(run_command(set_cmd).out.find(ns.ip(6)), std::string::npos) << "forged address banned";

  EXPECT_FALSE(ns.connects(ns.a, ns.ip(1))) << "A still connects while banned";
  EXPECT_TRUE(wait_for([&] { return ns.connects(ns.b, ns.ip(5)); }, 5000))
      << "B lost its connection";
  auto list = run_command("ip netns exec " + ns.s + " " + k_bin + " bans list --config " +
                          t.host("/watch.yaml"));
  EXPECT_NE(list.out.find(ns.ip(2) + "/32  sshd"), std::string::npos) << list.out << list.err;

  // The kernel lifts the ban by itself after bantime (10 s: long enough that
  // a loaded machine still lists the ban above).
  EXPECT_TRUE(wait_for([&] { return ns.connects(ns.a, ns.ip(1)); }, 15000))
      << "A still blocked after bantime: " << run_command(set_cmd).out;

  // bans remove: ban again, lift it by hand.
  std::string again;
  for (int i = 0; i < 3; ++i)
    again += fmt::format("May  1 10:01:0{} s sshd[7]: Failed password for y from {} port 5 ssh2\n",
                         i, ns.ip(2));
  std::ofstream(t.host("/auth.log"), std::ios::app) << again;
  ASSERT_TRUE(
      wait_for([&] { return run_command(set_cmd).out.find(ns.ip(2)) != std::string::npos; }, 3000));
  auto rm = run_command("ip netns exec " + ns.s + " " + k_bin + " bans remove " + ns.ip(2) +
                        " --config " + t.host("/watch.yaml"));
  EXPECT_EQ(rm.exit_code, 0) << rm.out << rm.err;
  EXPECT_EQ(run_command(set_cmd).out.find(ns.ip(2)), std::string::npos);
  EXPECT_TRUE(wait_for([&] { return ns.connects(ns.a, ns.ip(1)); }, 5000));
  EXPECT_NE(slurp("/out").find("ban #2"), std::string::npos) << slurp("/out");
}

// The firewall and the bans stay in step (issue 19): two jails banning one
// address keep the longer timeout; `nft flush ruleset` (a restart of
// nftables.service) and `nft delete table` are noticed and the bans put
// back; `bulwark bans remove` reaches the running daemon, which counts the
// address's failures again at once; SIGHUP reloads instead of killing.
TEST(WatchNftE2E, FirewallFaultsAreRepairedAndBansStayInStep) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root for network namespaces and nftables";
  for (const char *tool : {"ip", "nft"})
    BULWARK_REQUIRE_TOOL(tool) << "(Debian packages iproute2, nftables)";
  Namespaces ns;
  std::string why;
  BULWARK_REQUIRE(ns.setup(why)) << "cannot create network namespaces with nftables here: " << why;
  TempRoot t;
  t.write("/auth.log", "");
  t.write("/watch.yaml", fmt::format(R"(state_dir: {0}/state
metrics:
  listen: ''
nftables:
  check_interval: 1s
jails:
  sshd:
    logs: [{0}/auth.log]
  short:
    bantime: 2m
    failregex: ['^Failed password for \S+ from <HOST> port']
    logs: [{0}/auth.log]
)",
                                     t.path()));
  ns.pidfiles.push_back(t.host("/bulwark.pid"));
  run_command(fmt::format("{{ ip netns exec {} {} watch --config {} > {} 2> {} & echo $! > {}; }}",
                          ns.s, k_bin, t.host("/watch.yaml"), t.host("/out"), t.host("/err"),
                          t.host("/bulwark.pid")));
  auto slurp = [&](const char *f) {
    std::ifstream in(t.host(f));
    return bulwark::test::read_all(in);
  };
  ASSERT_TRUE(wait_for([&] { return slurp("/err").find("watching") != std::string::npos; }, 5000))
      << slurp("/err");
  const std::string nft = "ip netns exec " + ns.s + " nft ";
  const std::string set_cmd = nft + "list set inet bulwark v4_32";
  auto fail3 = [&](int minute) {
    std::string lines;
    for (int i = 0; i < 3; ++i)
      lines += fmt::format("Dec  6 10:{:02}:0{} s sshd[{}]: Failed password for root from "
                           "192.0.2.7 port 22 ssh2\n",
                           minute, i, minute * 10 + i);
    std::ofstream(t.host("/auth.log"), std::ios::app) << lines;
  };
  auto banned = [&] { return run_command(set_cmd).out.find("192.0.2.7") != std::string::npos; };

  // Two jails, one address: one element, the longer (1 h) timeout.
  fail3(0);
  ASSERT_TRUE(wait_for(banned, 3000)) << slurp("/out") << slurp("/err");
  ASSERT_TRUE(wait_for([&] { return slurp("/out").find("ban short") != std::string::npos; }, 3000))
      << slurp("/out");
  EXPECT_NE(slurp("/out").find("ban sshd 192.0.2.7/32"), std::string::npos) << slurp("/out");
  std::string set = run_command(set_cmd).out;
  EXPECT_NE(set.find("192.0.2.7 timeout 1h"), std::string::npos) << set;
  // Each ban records its jail, reason and lines.
  auto js = run_command("ip netns exec " + ns.s + " " + k_bin + " bans list --json --config " +
                        t.host("/watch.yaml"));
  ASSERT_EQ(js.exit_code, 0) << js.err;
  EXPECT_NE(js.out.find("\"jail\": \"sshd\""), std::string::npos) << js.out;
  EXPECT_NE(js.out.find("\"jail\": \"short\""), std::string::npos) << js.out;
  EXPECT_NE(js.out.find("\"reason\": \"failed_password\""), std::string::npos) << js.out;
  EXPECT_NE(js.out.find("sshd[2]: Failed password for root from 192.0.2.7 port 22 ssh2\""),
            std::string::npos)
      << js.out;
  auto verbose = run_command("ip netns exec " + ns.s + " " + k_bin +
                             " bans list --verbose --config " + t.host("/watch.yaml"));
  EXPECT_NE(verbose.out.find("    reason: failed_password\n"), std::string::npos) << verbose.out;
  EXPECT_NE(verbose.out.find("    | Dec  6 10:00:00 s sshd[0]: Failed password"), std::string::npos)
      << verbose.out;

  // IPv6: the /64 is the element of set v6_64, whose rule masks the source.
  std::string v6;
  for (int i = 0; i < 3; ++i)
    v6 += fmt::format("Dec  6 10:00:1{} s sshd[{}]: Failed password for root from "
                      "2001:db8:7:8::{} port 22 ssh2\n",
                      i, 100 + i, i + 1);
  std::ofstream(t.host("/auth.log"), std::ios::app) << v6;
  ASSERT_TRUE(wait_for(
      [&] {
        return run_command(nft + "list set inet bulwark v6_64")
                   .out.find("2001:db8:7:8:: timeout") != std::string::npos;
      },
      3000))
      << slurp("/out") << slurp("/err");
  EXPECT_NE(run_command(nft + "list chain inet bulwark input")
                .out.find("ip6 saddr & ffff:ffff:ffff:ffff:: == @v6_64 drop"),
            std::string::npos)
      << run_command(nft + "list chain inet bulwark input").out;

  // nftables.service restarts: the ruleset is flushed.
  ASSERT_EQ(run_command(nft + "flush ruleset").exit_code, 0);
  EXPECT_FALSE(banned());
  EXPECT_TRUE(wait_for(banned, 5000)) << "not restored after a flush: " << slurp("/err");
  EXPECT_NE(run_command(nft + "list chain inet bulwark input").out.find("ip saddr @v4_32 drop"),
            std::string::npos);
  // The table deleted.
  ASSERT_EQ(run_command(nft + "delete table inet bulwark").exit_code, 0);
  EXPECT_TRUE(wait_for(banned, 5000)) << "not restored after a delete: " << slurp("/err");
  EXPECT_NE(slurp("/err").find("was flushed or deleted: restored"), std::string::npos);

  // bans remove while running: the daemon forgets the window, and three
  // new failures ban again at once (not after the lifted ban's hour).
  auto rm = run_command("ip netns exec " + ns.s + " " + k_bin + " bans remove 192.0.2.7 --config " +
                        t.host("/watch.yaml"));
  ASSERT_EQ(rm.exit_code, 0) << rm.out << rm.err;
  EXPECT_FALSE(banned());
  ASSERT_TRUE(
      wait_for([&] { return slurp("/err").find("lifted by hand") != std::string::npos; }, 5000))
      << slurp("/err");
  fail3(1);
  EXPECT_TRUE(wait_for(banned, 3000)) << slurp("/out") << slurp("/err");
  EXPECT_NE(slurp("/out").find("ban #2"), std::string::npos) << slurp("/out");

  // SIGHUP reloads: the daemon keeps running and still bans.
  std::string pid = slurp("/bulwark.pid");
  while (!pid.empty() && pid.back() == '\n')
    pid.pop_back();
  ASSERT_EQ(run_command("kill -HUP " + pid).exit_code, 0);
  EXPECT_TRUE(wait_for(
      [&] { return slurp("/err").find("configuration reloaded") != std::string::npos; }, 5000))
      << slurp("/err");
  EXPECT_EQ(run_command("kill -0 " + pid).exit_code, 0) << "SIGHUP killed the daemon";
  EXPECT_TRUE(banned()) << "the ban did not survive the reload";
}

// SIGKILL while a batch of bans is being decided, recorded and applied; the
// next start reconciles: the bans in SQLite and the elements in nftables
// are the same addresses, every attacking source is banned (none lost,
// the rest decided again from the unsaved log position), and no address
// has two records of one jail (none doubled). Also: the interval sets v4
// and v6 of an earlier version are dropped at start.
TEST(WatchNftE2E, SigkillDuringABanBatchThenRestartReconciles) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root for network namespaces and nftables";
  for (const char *tool : {"ip", "nft"})
    BULWARK_REQUIRE_TOOL(tool) << "(Debian packages iproute2, nftables)";
  Namespaces ns;
  std::string why;
  BULWARK_REQUIRE(ns.setup(why)) << "cannot create network namespaces with nftables here: " << why;
  const std::string nft = "ip netns exec " + ns.s + " nft ";
  TempRoot t;
  t.write("/auth.log", "");
  t.write("/watch.yaml", fmt::format(R"(state_dir: {0}/state
metrics:
  listen: ''
limits:
  max_bans: 65536
jails:
  sshd:
    logs: [{0}/auth.log]
)",
                                     t.path()));
  // What an earlier version left: interval sets and a rule using them.
  t.write("/legacy.nft", "add table inet bulwark\n"
                         "add set inet bulwark v4 { type ipv4_addr; flags interval, timeout; }\n"
                         "add set inet bulwark v6 { type ipv6_addr; flags interval, timeout; }\n"
                         "add chain inet bulwark input { type filter hook input priority "
                         "filter - 10; policy accept; }\n"
                         "add rule inet bulwark input ip saddr @v4 drop\n"
                         "add element inet bulwark v4 { 203.0.113.9/32 timeout 1h }\n");
  ASSERT_EQ(run_command(nft + "-f " + t.host("/legacy.nft")).exit_code, 0);
  auto slurp = [&](const std::string &f) {
    std::ifstream in(t.host(f));
    return bulwark::test::read_all(in);
  };
  auto start = [&](const std::string &tag) {
    ns.pidfiles.push_back(t.host("/bulwark-" + tag + ".pid"));
    run_command(
        fmt::format("{{ ip netns exec {} {} watch --config {} > {} 2> {} & echo $! > {}; }}", ns.s,
                    k_bin, t.host("/watch.yaml"), t.host("/out-" + tag), t.host("/err-" + tag),
                    t.host("/bulwark-" + tag + ".pid")));
    return wait_for([&] { return slurp("/err-" + tag).find("watching") != std::string::npos; },
                    10000);
  };
  ASSERT_TRUE(start("1")) << slurp("/err-1");
  // Upgraded: the old sets are gone, the chain uses the new ones.
  EXPECT_NE(run_command(nft + "list set inet bulwark v4").exit_code, 0);
  EXPECT_NE(run_command(nft + "list chain inet bulwark input").out.find("@v4_32 drop"),
            std::string::npos);

  // Burst A: 10,000 attacking sources, 3 failures each, decided and
  // applied; burst B: 10,000 more, killed while its bans are being decided
  // and recorded (the SQLite transaction open, nftables not yet told).
  constexpr int k_sources = 10000;
  std::set<std::string> attackers, first;
  auto burst = [&](int base) {
    std::string lines;
    for (int round = 0; round < 3; ++round)
      for (int i = base; i < base + k_sources; ++i) {
        std::string ip = fmt::format("198.18.{}.{}", i >> 8, i & 255);
        attackers.insert(ip);
        if (base == 0)
          first.insert(ip);
        lines += fmt::format("Dec  6 10:00:0{} s sshd[{}]: Failed password for root from {} "
                             "port 22 ssh2\n",
                             round, round * 100000 + i, ip);
      }
    std::ofstream(t.host("/auth.log"), std::ios::app) << lines << std::flush;
  };
  auto elements = [&] {
    std::set<std::string> out;
    auto l = run_command(nft + "-j list set inet bulwark v4_32").out;
    for (size_t p = 0; (p = l.find("\"val\": \"", p)) != std::string::npos;) {
      p += 8;
      out.insert(l.substr(p, l.find('"', p) - p));
    }
    return out;
  };
  auto count = [](const std::string &text, const std::string &what) {
    size_t n = 0;
    for (size_t p = 0; (p = text.find(what, p)) != std::string::npos; p += what.size())
      ++n;
    return n;
  };
  burst(0);
  ASSERT_TRUE(wait_for([&] { return elements() == first; }, 30000)) << slurp("/err-1");
  // The read position of burst A's end saved (within a second of reading
  // it), polled instead of a fixed 2.5 s.
  const auto end_a = std::filesystem::file_size(t.host("/auth.log"));
  ASSERT_TRUE(wait_for(
      [&] {
        auto j = nlohmann::json::parse(slurp("/state/positions.json"), nullptr, false);
        if (j.is_discarded() || !j.contains("files") || !j["files"].is_array())
          return false;
        for (auto &f : j["files"])
          if (f.is_object() && f.value("offset", uint64_t{0}) == end_a)
            return true;
        return false;
      },
      5000))
      << slurp("/state/positions.json");
  burst(k_sources);
  ASSERT_TRUE(wait_for([&] { return count(slurp("/out-1"), " ban sshd ") > first.size(); }, 30000))
      << slurp("/err-1");
  std::string pid = slurp("/bulwark-1.pid");
  while (!pid.empty() && pid.back() == '\n')
    pid.pop_back();
  ASSERT_EQ(run_command("kill -KILL " + pid).exit_code, 0);
  ::usleep(200000);
  const size_t at_kill = elements().size();
  std::cerr << "at SIGKILL: " << count(slurp("/out-1"), " ban sshd ") << " bans decided, "
            << at_kill << " in nftables\n";
  // A crash between the SQLite commit and nftables: recorded bans the
  // kernel lacks.
  ASSERT_EQ(
      run_command(nft + "delete element inet bulwark v4_32 { 198.18.0.1, 198.18.0.2 }").exit_code,
      0);

  ASSERT_TRUE(start("2")) << slurp("/err-2");
  // Every attacker banned: restored from SQLite, or decided anew from the
  // saved read position.
  EXPECT_TRUE(wait_for([&] { return elements() == attackers; }, 30000)) << elements().size() << "\n"
                                                                        << slurp("/err-2");
  EXPECT_EQ(elements(), attackers);
  // Burst A's bans were restored, not decided twice.
  const std::string out2 = slurp("/out-2");
  EXPECT_EQ(out2.find(" ban sshd 198.18.0.1/32 "), std::string::npos) << out2.substr(0, 300);
  EXPECT_LE(count(out2, " ban sshd "), static_cast<size_t>(k_sources));
  auto js = run_command("ip netns exec " + ns.s + " " + k_bin + " bans list --json --config " +
                        t.host("/watch.yaml"));
  ASSERT_EQ(js.exit_code, 0) << js.err;
  auto doc = nlohmann::json::parse(js.out, nullptr, false);
  ASSERT_TRUE(doc.is_array()) << js.out.substr(0, 500);
  std::set<std::string> recorded;
  size_t rows = 0;
  for (auto &b : doc) {
    ASSERT_EQ(b.value("jail", ""), "sshd");
    recorded.insert(b.value("address", ""));
    ++rows;
  }
  EXPECT_EQ(rows, recorded.size()) << "an address recorded twice";
  EXPECT_EQ(recorded, attackers);
}
