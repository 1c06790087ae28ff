// Proof against the kernel: generated rulesets are loaded for real
// (iptables-restore, nft -f) into a network namespace this test creates,
// TCP listeners wait on a set of ports inside it, and a peer namespace
// connects to each port over a veth pair. What connects must be exactly what
// bulwark's evaluator predicts from the same text. Every ruleset is also
// checked by the real parser (iptables-restore --test, nft -c -f) first,
// which still runs where namespaces cannot be created.
//
// Namespaces: bw-firewall-<pid>-s (server) and bw-firewall-<pid>-c
// (client), addresses 10.200.<pid%250>.1/.2; both deleted at the end, also
// when an assertion fails (RAII).

#include "../support.hpp"

#include <bulwark/parse/firewall.hpp>

#include <nlohmann/json.hpp>

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <mutex>
#include <netinet/in.h>
#include <poll.h>
#include <random>
#include <sched.h>
#include <sys/socket.h>
#include <thread>

using namespace bulwark;
using namespace bulwark::fw;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::vector<uint32_t> k_ports = {22, 80, 443, 2000, 2001, 2002, 2050, 3000, 5432, 6379};
constexpr int k_rulesets = 200; // per backend

struct Net {
  std::string ns_s, ns_c, veth_s, veth_c, ip_s, ip_c, other_net;
  bool up = false;
  std::string why;

  // Pair `k` of this process. Interface names and addresses are the same
  // in every pair (each pair is its own link), so one generated ruleset
  // means the same in all of them.
  explicit Net(int k = 0) {
    int pid = static_cast<int>(::getpid());
    std::string id = std::to_string(pid) + "-" + std::to_string(k);
    ns_s = "bw-firewall-" + id + "-s";
    ns_c = "bw-firewall-" + id + "-c";
    veth_s = "bwfw-s";
    veth_c = "bwfw-c";
    std::string tmp = "bwf" + std::to_string(pid % 100000) + "k" + std::to_string(k);
    std::string n = std::to_string(pid % 250);
    ip_s = "10.200." + n + ".1";
    ip_c = "10.200." + n + ".2";
    other_net = "10.200." + std::to_string((pid + 1) % 250) + ".0/24";
    std::string cmds[] = {
        "ip netns add " + ns_s,
        "ip netns add " + ns_c,
        "ip link add " + tmp + "s netns " + ns_s + " type veth peer name " + tmp + "c netns " +
            ns_c,
        "ip -n " + ns_s + " link set " + tmp + "s name " + veth_s,
        "ip -n " + ns_c + " link set " + tmp + "c name " + veth_c,
        "ip -n " + ns_s + " addr add " + ip_s + "/24 dev " + veth_s,
        "ip -n " + ns_c + " addr add " + ip_c + "/24 dev " + veth_c,
        "ip -n " + ns_s + " link set " + veth_s + " up",
        "ip -n " + ns_c + " link set " + veth_c + " up",
        "ip -n " + ns_s + " link set lo up",
        "ip -n " + ns_c + " link set lo up",
    };
    for (auto &c : cmds) {
      auto r = run_command(c);
      if (r.exit_code != 0) {
        why = c + ": " + r.err;
        return;
      }
    }
    up = true;
  }
  ~Net() {
    run_command("ip netns del " + ns_s);
    run_command("ip netns del " + ns_c);
  }
};

// Runs `f` on a thread that has entered namespace `ns`: sockets it creates
// belong to that namespace, whatever thread uses them later.
template <class F> bool in_ns(const std::string &ns, F &&f) {
  bool ok = false;
  std::thread t([&] {
    int fd = ::open(("/run/netns/" + ns).c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
      return;
    if (::setns(fd, CLONE_NEWNET) == 0) {
      f();
      ok = true;
    }
    ::close(fd);
  });
  t.join();
  return ok;
}

// ---- generated rulesets ---------------------------------------------------

struct GRule {
  int proto = 0; // 0 any, 6, 17
  std::vector<PortRange> ports;
  bool pneg = false;
  std::string src; // "" any
  bool sneg = false;
  std::string iif; // "" any
  bool ineg = false;
  uint8_t ct = 0;
  bool limit = false;
  std::string verdict; // accept drop reject return log jump:N goto:N
};
struct GChain {
  std::vector<GRule> rules;
};
struct GRuleset {
  bool policy_drop = false;
  std::vector<GChain> chains; // 0 = input base chain
  // nft only: a second base chain in its own table with this priority.
  bool second = false;
  int second_prio = 0;
  bool second_policy_drop = false;
  GChain second_chain;
};

GRule gen_rule(std::mt19937 &rng, const Net &net, int chain, int nchains, bool base) {
  auto pick = [&](int n) { return static_cast<int>(rng() % static_cast<unsigned>(n)); };
  GRule r;
  int p = pick(10);
  r.proto = p < 6 ? 6 : p < 8 ? 0 : 17;
  if (r.proto != 0 && pick(3) != 0) {
    int n = 1 + pick(3);
    for (int i = 0; i < n; ++i) {
      uint32_t a = k_ports[static_cast<size_t>(pick(static_cast<int>(k_ports.size())))];
      uint32_t b = a;
      if (pick(4) == 0)
        b = k_ports[static_cast<size_t>(pick(static_cast<int>(k_ports.size())))];
      if (b < a)
        std::swap(a, b);
      r.ports.push_back({a, b});
    }
    r.pneg = pick(6) == 0;
  }
  int s = pick(8);
  if (s == 0)
    r.src = net.ip_c + "/32";
  else if (s == 1)
    r.src = net.other_net;
  else if (s == 2)
    r.src = "10.200.0.0/16";
  r.sneg = !r.src.empty() && pick(4) == 0;
  int i = pick(10);
  if (i == 0)
    r.iif = net.veth_s;
  else if (i == 1)
    r.iif = "lo";
  else if (i == 2)
    r.iif = "eth9";
  r.ineg = !r.iif.empty() && pick(3) == 0;
  int c = pick(8);
  r.ct = c == 0   ? ct_new
         : c == 1 ? ct_established | ct_related
         : c == 2 ? ct_new | ct_established
                  : 0;
  r.limit = pick(8) == 0;
  int v = pick(20);
  if (v < 6)
    r.verdict = "accept";
  else if (v < 10)
    r.verdict = "drop";
  else if (v < 12)
    r.verdict = "reject";
  else if (v < 14 && !base)
    r.verdict = "return";
  else if (v < 18 && chain + 1 < nchains)
    r.verdict =
        (pick(3) == 0 ? "goto:" : "jump:") + std::to_string(chain + 1 + pick(nchains - chain - 1));
  else
    r.verdict = pick(2) ? "log" : "accept";
  return r;
}

GRuleset gen(std::mt19937 &rng, const Net &net) {
  GRuleset g;
  g.policy_drop = rng() % 3 != 0;
  int nchains = 1 + static_cast<int>(rng() % 4);
  g.chains.resize(static_cast<size_t>(nchains));
  for (int c = 0; c < nchains; ++c) {
    int n = static_cast<int>(rng() % (c == 0 ? 9 : 5));
    for (int i = 0; i < n; ++i)
      g.chains[static_cast<size_t>(c)].rules.push_back(gen_rule(rng, net, c, nchains, c == 0));
  }
  if (rng() % 3 == 0) {
    g.second = true;
    g.second_prio = static_cast<int>(rng() % 21) - 10;
    g.second_policy_drop = rng() % 4 == 0;
    int n = static_cast<int>(rng() % 4);
    for (int i = 0; i < n; ++i)
      g.second_chain.rules.push_back(gen_rule(rng, net, 0, 1, true));
  }
  return g;
}

std::string chain_name(int c) {
  return c == 0 ? "INPUT" : "c" + std::to_string(c);
}

std::string ipt_ports(const GRule &r) {
  std::string s;
  for (auto &p : r.ports)
    s += (s.empty() ? "" : ",") + std::to_string(p.lo) +
         (p.hi != p.lo ? ":" + std::to_string(p.hi) : "");
  return s;
}

std::string render_ipt(const GRuleset &g) {
  std::string t = "*filter\n:INPUT " + std::string(g.policy_drop ? "DROP" : "ACCEPT") +
                  " [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n";
  for (size_t c = 1; c < g.chains.size(); ++c)
    t += ":" + chain_name(static_cast<int>(c)) + " - [0:0]\n";
  for (size_t c = 0; c < g.chains.size(); ++c)
    for (const GRule &r : g.chains[c].rules) {
      std::string l = "-A " + chain_name(static_cast<int>(c));
      if (!r.iif.empty())
        l += std::string(r.ineg ? " !" : "") + " -i " + r.iif;
      if (!r.src.empty())
        l += std::string(r.sneg ? " !" : "") + " -s " + r.src;
      if (r.proto)
        l += r.proto == 6 ? " -p tcp" : " -p udp";
      if (!r.ports.empty()) {
        if (r.ports.size() == 1)
          l += std::string(r.pneg ? " !" : "") + " --dport " + ipt_ports(r);
        else
          l += " -m multiport" + std::string(r.pneg ? " !" : "") + " --dports " + ipt_ports(r);
      }
      if (r.ct) {
        std::string st;
        if (r.ct & ct_new)
          st += "NEW";
        if (r.ct & ct_established)
          st += std::string(st.empty() ? "" : ",") + "ESTABLISHED";
        if (r.ct & ct_related)
          st += std::string(st.empty() ? "" : ",") + "RELATED";
        l += " -m conntrack --ctstate " + st;
      }
      if (r.limit)
        l += " -m limit --limit 1000/sec --limit-burst 1000";
      const std::string &v = r.verdict;
      if (v == "accept")
        l += " -j ACCEPT";
      else if (v == "drop")
        l += " -j DROP";
      else if (v == "reject")
        l += " -j REJECT";
      else if (v == "return")
        l += " -j RETURN";
      else if (v == "log")
        l += " -j LOG --log-prefix \"bw gen \"";
      else if (v.rfind("jump:", 0) == 0)
        l += " -j " + chain_name(std::stoi(v.substr(5)));
      else
        l += " -g " + chain_name(std::stoi(v.substr(5)));
      t += l + "\n";
    }
  return t + "COMMIT\n";
}

std::string nft_rule(const GRule &r, bool named_set, const Net &net) {
  std::string l = "   ";
  if (!r.iif.empty())
    l += std::string(" iifname ") + (r.ineg ? "!= " : "") + "\"" + r.iif + "\"";
  if (!r.src.empty())
    l += std::string(" ip saddr ") + (r.sneg ? "!= " : "") +
         (r.src == net.ip_c + "/32" ? "$client" : r.src); // variables too
  std::string pn = r.proto == 6 ? "tcp" : "udp";
  if (r.proto && r.ports.empty())
    l += " meta l4proto " + pn;
  if (r.proto && !r.ports.empty()) {
    l += " " + pn + " dport " + (r.pneg ? "!= " : "");
    if (named_set && !r.pneg) {
      l += "@ports";
    } else {
      std::string s;
      for (auto &p : r.ports)
        s += (s.empty() ? "" : ", ") + std::to_string(p.lo) +
             (p.hi != p.lo ? "-" + std::to_string(p.hi) : "");
      l += r.ports.size() == 1 ? s : "{ " + s + " }";
    }
  }
  if (r.ct) {
    std::string st;
    if (r.ct & ct_new)
      st += "new";
    if (r.ct & ct_established)
      st += std::string(st.empty() ? "" : ",") + "established";
    if (r.ct & ct_related)
      st += std::string(st.empty() ? "" : ",") + "related";
    l += " ct state " + st;
  }
  if (r.limit)
    l += " limit rate 1000/second burst 1000 packets";
  const std::string &v = r.verdict;
  if (v == "log")
    l += " counter";
  else if (v.rfind("jump:", 0) == 0)
    l += " jump c" + v.substr(5);
  else if (v.rfind("goto:", 0) == 0)
    l += " goto c" + v.substr(5);
  else
    l += " " + v;
  return l + "\n";
}

std::string render_nft(const GRuleset &g, const Net &net) {
  // The first rule with a multi-port match uses a named set (elements
  // from the same ports), to cover @set lookups.
  std::string t = "flush ruleset\ndefine client = " + net.ip_c + "/32\ntable ip gen {\n";
  int set_rule = -1;
  for (size_t i = 0; i < g.chains[0].rules.size(); ++i)
    if (g.chains[0].rules[i].ports.size() > 1 && !g.chains[0].rules[i].pneg) {
      set_rule = static_cast<int>(i);
      break;
    }
  if (set_rule >= 0) {
    std::string s;
    for (auto &p : g.chains[0].rules[static_cast<size_t>(set_rule)].ports) {
      s += (s.empty() ? "" : ", ") + std::to_string(p.lo) +
           (p.hi != p.lo ? "-" + std::to_string(p.hi) : "");
    }
    t += "  set ports {\n    type inet_service; flags interval; auto-merge\n    elements = { " + s +
         " }\n  }\n";
  }
  for (size_t c = 0; c < g.chains.size(); ++c) {
    t += "  chain c" + std::to_string(c) + " {\n";
    if (c == 0)
      t += "    type filter hook input priority filter; policy " +
           std::string(g.policy_drop ? "drop" : "accept") + ";\n";
    for (size_t i = 0; i < g.chains[c].rules.size(); ++i)
      t += nft_rule(g.chains[c].rules[i], c == 0 && static_cast<int>(i) == set_rule, net);
    t += "  }\n";
  }
  t += "}\n";
  if (g.second) {
    t += "table inet gen2 {\n  chain in {\n    type filter hook input priority " +
         std::to_string(g.second_prio) + "; policy " + (g.second_policy_drop ? "drop" : "accept") +
         ";\n";
    for (auto &r : g.second_chain.rules)
      t += nft_rule(r, false, net);
    t += "  }\n}\n";
  }
  return t;
}

// ---- probing ----------------------------------------------------------------

struct Listeners {
  std::vector<int> fds;
  ~Listeners() {
    for (int fd : fds)
      ::close(fd);
  }
  // Connections each listener accepted since the last call: a connection
  // is queued only once the client's final ACK passed the firewall too.
  std::vector<int> drain() {
    std::vector<int> n;
    for (int fd : fds) {
      n.push_back(0);
      for (;;) {
        int c = ::accept4(fd, nullptr, nullptr, SOCK_NONBLOCK);
        if (c < 0)
          break;
        ::close(c);
        ++n.back();
      }
    }
    return n;
  }
};

// Connects to every port at once; true where the handshake completed.
std::vector<bool> probe(const std::string &ip, const std::vector<uint32_t> &ports,
                        std::chrono::milliseconds timeout) {
  std::vector<int> fds;
  std::vector<bool> open(ports.size(), false);
  for (uint32_t p : ports) {
    int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(static_cast<uint16_t>(p));
    ::inet_pton(AF_INET, ip.c_str(), &a.sin_addr);
    ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    fds.push_back(fd);
  }
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::vector<bool> done(ports.size(), false);
  for (;;) {
    std::vector<pollfd> pf;
    std::vector<size_t> idx;
    for (size_t i = 0; i < fds.size(); ++i)
      if (!done[i]) {
        pf.push_back({fds[i], POLLOUT, 0});
        idx.push_back(i);
      }
    if (pf.empty())
      break;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0)
      break;
    int n = ::poll(pf.data(), pf.size(), static_cast<int>(left.count()));
    if (n <= 0)
      break;
    for (size_t k = 0; k < pf.size(); ++k)
      if (pf[k].revents) {
        size_t i = idx[k];
        done[i] = true;
        int err = 0;
        socklen_t len = sizeof err;
        ::getsockopt(fds[i], SOL_SOCKET, SO_ERROR, &err, &len);
        open[i] = err == 0;
      }
  }
  for (int fd : fds)
    ::close(fd);
  return open;
}

struct Backend {
  const char *name;
  const char *check;   // validate a file
  const char *load;    // load a file into the server namespace
  const char *program; // must exist
};

std::vector<int> listen_all(const Net &net, const std::vector<uint32_t> &ports) {
  std::vector<int> fds;
  in_ns(net.ns_s, [&] {
    for (uint32_t p : ports) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
      int one = 1;
      ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(p));
      if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 && ::listen(fd, 512) == 0)
        fds.push_back(fd);
      else
        ::close(fd);
    }
  });
  return fds;
}

Ruleset parse_generated(const RootFs &fs, bool nft, const std::string &path,
                        const std::string &text) {
  Ruleset rs;
  if (nft)
    rs = parse_nft_text(fs, path, text);
  else
    parse_iptables_save(text, path, Family::v4, rs);
  return rs;
}

void run_differential(bool nft) {
  Backend b = nft ? Backend{"nft", "nft -c -f", "nft -f", "/usr/sbin/nft"}
                  : Backend{"iptables", "iptables-restore --test", "iptables-restore",
                            "/usr/sbin/iptables-restore"};
  BULWARK_REQUIRE(::access(b.program, X_OK) == 0)
      << b.program << " is not installed (Debian: " << (nft ? "nftables" : "iptables") << ")";
  auto t0 = std::chrono::steady_clock::now();
  TempRoot tmp;
  RootFs fs(tmp.path());
  // Loading a ruleset mostly waits for the kernel (RCU grace periods when
  // tables go): several namespace pairs work in parallel.
  constexpr int k_workers = 6;
  std::vector<std::unique_ptr<Net>> nets;
  for (int k = 0; k < k_workers; ++k)
    nets.push_back(std::make_unique<Net>(k));
  const Net &net = *nets[0];
  std::mt19937 rng(nft ? 4242 : 1717);
  std::vector<std::string> texts;
  for (int i = 0; i < k_rulesets; ++i) {
    GRuleset g = gen(rng, net);
    if (!nft)
      g.second = false;
    texts.push_back(nft ? render_nft(g, net) : render_ipt(g));
  }
  int fast = 0;
  for (size_t i = 0; i < texts.size(); ++i) {
    std::string path = "/r" + std::to_string(i);
    tmp.write(path, texts[i]);
    Ruleset rs = parse_generated(fs, nft, path, texts[i]);
    ASSERT_FALSE(rs.has_errors()) << texts[i] << rs.diagnostics[0].loc.line << " "
                                  << rs.diagnostics[0].message;
    // The port-set walk equals evaluate() port by port, at both ends of
    // every span, for a known and an unknown input interface.
    for (bool known_iif : {true, false}) {
      Packet pk;
      pk.proto = 6;
      pk.saddr = *Addr::parse(net.ip_c);
      if (known_iif)
        pk.iif = net.veth_s;
      auto spans = evaluate_ports(rs, pk);
      ASSERT_FALSE(spans.empty());
      EXPECT_EQ(spans.front().lo, 1u);
      EXPECT_EQ(spans.back().hi, 65535u);
      for (size_t k = 0; k < spans.size(); ++k) {
        if (k > 0) {
          ASSERT_EQ(spans[k].lo, spans[k - 1].hi + 1);
        }
        for (uint32_t port : {spans[k].lo, spans[k].hi}) {
          pk.dport = port;
          Outcome o = evaluate(rs, pk);
          ASSERT_EQ(o.verdict, spans[k].outcome.verdict) << "port " << port << "\n" << texts[i];
          ASSERT_EQ(o.decided, spans[k].outcome.decided) << "port " << port << "\n" << texts[i];
          ASSERT_EQ(o.throttled, spans[k].outcome.throttled) << "port " << port << "\n" << texts[i];
        }
      }
      fast += known_iif;
    }
  }
  EXPECT_EQ(fast, k_rulesets);
  for (auto &n : nets)
    if (!n->up) {
      // Validate with the real parser, which needs no namespace.
      for (size_t i = 0; i < texts.size(); ++i) {
        auto r = run_command(std::string(b.check) + " " + tmp.path() + "/r" + std::to_string(i));
        ASSERT_EQ(r.exit_code, 0) << texts[i] << r.err;
      }
      BULWARK_REQUIRE(false) << "network namespaces unavailable (" << n->why
                             << "): every generated ruleset was validated by `" << b.check
                             << "`, none was loaded";
    }
  std::mutex mu;
  std::vector<std::string> failures;
  std::atomic<int> checked{0}, open_total{0};
  auto worker = [&](int w) {
    const Net &nw = *nets[static_cast<size_t>(w)];
    Listeners ls;
    ls.fds = listen_all(nw, k_ports);
    if (ls.fds.size() != k_ports.size()) {
      std::lock_guard<std::mutex> g(mu);
      failures.push_back("cannot listen in " + nw.ns_s);
      return;
    }
    for (size_t i = static_cast<size_t>(w); i < texts.size(); i += k_workers) {
      std::string f = tmp.path() + "/r" + std::to_string(i);
      auto r = run_command("ip netns exec " + nw.ns_s + " " + b.load + " " + f);
      if (r.exit_code != 0) {
        std::lock_guard<std::mutex> g(mu);
        failures.push_back("the kernel rejects ruleset " + std::to_string(i) + ": " + r.err + "\n" +
                           texts[i]);
        continue;
      }
      Ruleset rs = parse_generated(fs, nft, "/r" + std::to_string(i), texts[i]);
      std::vector<bool> want;
      bool uncertain = false;
      for (uint32_t p : k_ports) {
        Packet pk;
        pk.family = Family::v4;
        pk.proto = 6;
        pk.dport = p;
        pk.saddr = *Addr::parse(nw.ip_c);
        pk.daddr = Addr::parse(nw.ip_s);
        pk.iif = nw.veth_s;
        Outcome o = evaluate(rs, pk);
        // A usable connection needs the SYN (NEW) and the client's ACK
        // (ESTABLISHED) through; the listener sees it only then.
        pk.ct = ct_established;
        Outcome e = evaluate(rs, pk);
        uncertain = uncertain || !o.uncertain.empty() || !e.uncertain.empty();
        want.push_back(o.accepted() && e.accepted());
      }
      ls.drain();
      std::vector<bool> got;
      in_ns(nw.ns_c, [&] { got = probe(nw.ip_s, k_ports, std::chrono::milliseconds(50)); });
      std::this_thread::sleep_for(std::chrono::milliseconds(3));
      std::vector<int> accepted = ls.drain();
      for (size_t k = 0; k < k_ports.size(); ++k) {
        got[k] = got[k] && accepted[k] > 0;
        if (got[k] != want[k] && !got[k]) {
          // A slow handshake on a loaded machine: ask again, patiently.
          std::vector<bool> again;
          in_ns(nw.ns_c,
                [&] { again = probe(nw.ip_s, {k_ports[k]}, std::chrono::milliseconds(2000)); });
          std::this_thread::sleep_for(std::chrono::milliseconds(20));
          got[k] = again[0] && ls.drain()[k] > 0;
        }
        open_total += got[k];
        if (got[k] != want[k] || uncertain) {
          std::lock_guard<std::mutex> g(mu);
          failures.push_back(std::string(b.name) + " ruleset " + std::to_string(i) + ", tcp/" +
                             std::to_string(k_ports[k]) + ": kernel says " +
                             (got[k] ? "open" : "closed") + ", bulwark " +
                             (want[k] ? "open" : "closed") + (uncertain ? " (uncertain)" : "") +
                             "\n" + texts[i]);
        }
      }
      ++checked;
    }
  };
  std::vector<std::thread> threads;
  for (int w = 0; w < k_workers; ++w)
    threads.emplace_back(worker, w);
  for (auto &t : threads)
    t.join();
  for (size_t i = 0; i < failures.size() && i < 5; ++i)
    ADD_FAILURE() << failures[i];
  EXPECT_TRUE(failures.empty()) << failures.size() << " disagreements";
  EXPECT_EQ(checked.load(), k_rulesets);
  // Both outcomes occur often enough for the comparison to mean something.
  EXPECT_GT(open_total.load(), k_rulesets);
  EXPECT_LT(open_total.load(), k_rulesets * static_cast<int>(k_ports.size()) - k_rulesets);
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::printf("[ firewall ] %s: %d rulesets x %zu ports agree with the kernel (%d open), %.1f s\n",
              b.name, checked.load(), k_ports.size(), open_total.load(), secs);
}

} // namespace

TEST(FirewallKernel, IptablesRulesetsAgreeWithTheKernel) {
  run_differential(false);
}

TEST(FirewallKernel, NftRulesetsAgreeWithTheKernel) {
  run_differential(true);
}

// Live: bulwark --live run inside the server namespace reads that
// namespace's /proc/net/tcp and its kernel ruleset (nft list ruleset).
TEST(FirewallKernel, LiveExposedListenersInANamespace) {
  BULWARK_REQUIRE(::access("/usr/sbin/nft", X_OK) == 0)
      << "nft is not installed (Debian: nftables)";
  Net net;
  BULWARK_REQUIRE(net.up) << "network namespaces unavailable: " << net.why;
  Listeners ls;
  ASSERT_TRUE(in_ns(net.ns_s, [&] {
    for (uint32_t p : {443u, 5432u}) {
      int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(p));
      if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 && ::listen(fd, 8) == 0)
        ls.fds.push_back(fd);
      else
        ::close(fd);
    }
  }));
  ASSERT_EQ(ls.fds.size(), 2u);
  TempRoot tmp;
  auto audit = [&](const std::string &ruleset) {
    tmp.write("/r.nft", ruleset);
    auto l = run_command("ip netns exec " + net.ns_s + " nft -f " + tmp.path() + "/r.nft");
    EXPECT_EQ(l.exit_code, 0) << l.err;
    auto r = run_command("ip netns exec " + net.ns_s + " " + std::string(BULWARK_BINARY) +
                         " audit --live --only firewall.exposed-listeners --format json");
    EXPECT_LT(r.exit_code, 2) << r.err;
    auto j = nlohmann::json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << r.out;
    for (auto &f : j["findings"])
      if (f["check"] == "firewall.exposed-listeners")
        return f;
    ADD_FAILURE() << r.out;
    return nlohmann::json{};
  };
  auto f = audit("flush ruleset\ntable inet f {\n chain i {\n  type filter hook input priority 0; "
                 "policy drop;\n  tcp dport 443 accept\n }\n}\n");
  EXPECT_EQ(f["status"], "pass") << f.dump(2);
  f = audit("flush ruleset\ntable inet f {\n chain i {\n  type filter hook input priority 0; "
            "policy drop;\n  tcp dport { 443, 5432 } accept\n }\n}\n");
  ASSERT_EQ(f["status"], "fail") << f.dump(2);
  bool cited = false;
  for (auto &e : f["evidence"])
    cited = cited || (e["path"] == "nft list ruleset" && e["line"] == 4 &&
                      e["found"].get<std::string>().find("5432") != std::string::npos);
  EXPECT_TRUE(cited) << f.dump(2);
  f = audit("flush ruleset\n");
  EXPECT_EQ(f["status"], "fail") << f.dump(2); // no firewall: 5432 open to the world
}

namespace {

// A TCP listener of family `af` on `addr`:`port`, made in namespace `ns`.
int listen_in(const std::string &ns, int af, const std::string &addr, uint16_t port) {
  int out = -1;
  in_ns(ns, [&] {
    int fd = ::socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (af == AF_INET6) {
      auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      ::inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
      len = sizeof *a;
    } else {
      auto *a = reinterpret_cast<sockaddr_in *>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      ::inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
      len = sizeof *a;
    }
    if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) == 0 && ::listen(fd, 8) == 0)
      out = fd;
    else
      ::close(fd);
  });
  return out;
}

// Does a TCP connection from namespace `ns` to addr:port complete within a second?
bool connects_from(const std::string &ns, int af, const std::string &addr, uint16_t port) {
  bool ok = false;
  in_ns(ns, [&] {
    int fd = ::socket(af, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
    sockaddr_storage ss{};
    socklen_t len;
    if (af == AF_INET6) {
      auto *a = reinterpret_cast<sockaddr_in6 *>(&ss);
      a->sin6_family = AF_INET6;
      a->sin6_port = htons(port);
      ::inet_pton(AF_INET6, addr.c_str(), &a->sin6_addr);
      len = sizeof *a;
    } else {
      auto *a = reinterpret_cast<sockaddr_in *>(&ss);
      a->sin_family = AF_INET;
      a->sin_port = htons(port);
      ::inet_pton(AF_INET, addr.c_str(), &a->sin_addr);
      len = sizeof *a;
    }
    int rc = ::connect(fd, reinterpret_cast<sockaddr *>(&ss), len);
    if (rc == 0) {
      ok = true;
    } else if (errno == EINPROGRESS) {
      pollfd p{fd, POLLOUT, 0};
      int err = 0;
      socklen_t el = sizeof err;
      ok = ::poll(&p, 1, 1000) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 &&
           err == 0;
    }
    ::close(fd);
  });
  return ok;
}

} // namespace

// Issue 16: with ufw's IPV6=no, ufw-init drops IPv6 both ways except on lo,
// so there is no IPv6 reply to allow: firewall.established-allowed must not
// fail for IPv6. The real ufw-init (ufw 0.36.2) loads the rules into a
// namespace, and the kernel decides what connects.
TEST(FirewallKernel, UfwIpv6NoDropsIpv6BothWaysAndEstablishedPasses) {
  std::string init = ::access("/usr/lib/ufw/ufw-init", X_OK) == 0 ? "/usr/lib/ufw" : "/lib/ufw";
  BULWARK_REQUIRE(::access((init + "/ufw-init").c_str(), X_OK) == 0)
      << "ufw is not installed (Debian: ufw)";
  BULWARK_REQUIRE_TOOL("ip6tables");
  Net net;
  BULWARK_REQUIRE(net.up) << "network namespaces unavailable: " << net.why;
  for (auto &c : {"ip -n " + net.ns_s + " addr add fd00:b0::1/64 dev " + net.veth_s + " nodad",
                  "ip -n " + net.ns_c + " addr add fd00:b0::2/64 dev " + net.veth_c + " nodad"})
    ASSERT_EQ(run_command(c).exit_code, 0) << c;
  TempRoot r;
  const std::string fx = std::string(BULWARK_SOURCE_DIR) + "/tests/data/firewall/ufw-debian12/";
  auto read = [](const std::string &p) {
    std::ifstream in(p);
    return bulwark::test::read_all(in);
  };
  for (const char *f : {"before.rules", "after.rules", "before6.rules", "after6.rules",
                        "user.rules", "user6.rules"})
    r.write(std::string("/etc/ufw/") + f, read(fx + f));
  std::string def = read(fx + "default-ufw");
  ASSERT_NE(def.find("IPV6=yes"), std::string::npos);
  def.replace(def.find("IPV6=yes"), 8, "IPV6=no");
  r.write("/etc/default/ufw", def);
  r.write("/etc/ufw/ufw.conf", "ENABLED=yes\nLOGLEVEL=off\n");
  r.write("/lib/ufw/ufw-init-functions", read(init + "/ufw-init-functions"));
  auto start = run_command("ip netns exec " + net.ns_s + " sh " + init + "/ufw-init --rootdir " +
                           r.path() + " --datadir " + r.path() + " start");
  ASSERT_EQ(start.exit_code, 0) << start.out << start.err;
  auto saved = run_command("ip netns exec " + net.ns_s + " ip6tables-save");
  ASSERT_NE(saved.out.find(":OUTPUT DROP"), std::string::npos) << saved.out;

  // The kernel: IPv6 neither out nor in, but on lo; IPv4 out works (and so its replies).
  int c6 = listen_in(net.ns_c, AF_INET6, "fd00:b0::2", 2000);
  int s6 = listen_in(net.ns_s, AF_INET6, "fd00:b0::1", 2000);
  int lo6 = listen_in(net.ns_s, AF_INET6, "::1", 2001);
  int c4 = listen_in(net.ns_c, AF_INET, net.ip_c, 2000);
  ASSERT_TRUE(c6 >= 0 && s6 >= 0 && lo6 >= 0 && c4 >= 0);
  EXPECT_FALSE(connects_from(net.ns_s, AF_INET6, "fd00:b0::2", 2000)) << "IPv6 out";
  EXPECT_FALSE(connects_from(net.ns_c, AF_INET6, "fd00:b0::1", 2000)) << "IPv6 in";
  EXPECT_TRUE(connects_from(net.ns_s, AF_INET6, "::1", 2001)) << "IPv6 on lo";
  EXPECT_TRUE(connects_from(net.ns_s, AF_INET, net.ip_c, 2000)) << "IPv4 out and its reply";
  for (int fd : {c6, s6, lo6, c4})
    ::close(fd);

  // bulwark on the same files: replies are allowed where the host makes
  // connections (IPv4), and IPv6 has none to allow.
  auto rep = run_command(std::string(BULWARK_BINARY) + " audit --root " + r.path() +
                         " --only firewall.established-allowed,firewall.default-deny-incoming "
                         "--format json");
  auto j = nlohmann::json::parse(rep.out, nullptr, false);
  ASSERT_FALSE(j.is_discarded()) << rep.out << rep.err;
  int seen = 0;
  for (auto &f : j["findings"]) {
    ++seen;
    EXPECT_EQ(f["status"], "pass") << f.dump(2);
    if (f["check"] == "firewall.established-allowed") {
      bool v6_silent = false;
      for (auto &e : f["evidence"])
        v6_silent = v6_silent ||
                    e["found"].get<std::string>().find("no reply to allow") != std::string::npos;
      EXPECT_TRUE(v6_silent) << f.dump(2);
    }
  }
  EXPECT_EQ(seen, 2);
}
