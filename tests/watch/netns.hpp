#pragma once
// The network the watch end-to-end tests ban in: namespace S (the host
// bulwark protects) joined by veth pairs to peers A (10.x.N.2, the attacker)
// and B (10.x.N.6, a bystander); S answers on .1 towards A and .5 towards B.
// Names and the third octet come from the test's pid, so concurrent tests of
// one kind never meet; each kind passes its own tag, second octet and veth
// letter, so two kinds never meet either. The destructor stops what the test
// started (its pid files, then whatever is left inside its namespaces) and
// deletes the namespaces.
#include "../support.hpp"
#include "../wait.hpp"

#include <chrono>
#include <fmt/format.h>
#include <functional>
#include <string>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bulwark::test {

struct PeerNamespaces {
  std::string s, a, b;
  int net;
  std::vector<std::string> pidfiles;

  // `tag`: namespace names bw-TAG-PID-{1,2,3}; addresses 10.OCTET.N.x; veth
  // names bwLa/bwaL (to A) and bwLb/bwbL (to B) with L = `veth`.
  PeerNamespaces(const std::string &tag, int octet, char veth) : m_octet(octet), m_veth(veth) {
    int pid = static_cast<int>(::getpid());
    s = fmt::format("bw-{}-{}-1", tag, pid);
    a = fmt::format("bw-{}-{}-2", tag, pid);
    b = fmt::format("bw-{}-{}-3", tag, pid);
    net = pid % 250;
  }
  PeerNamespaces(const PeerNamespaces &) = delete;
  PeerNamespaces &operator=(const PeerNamespaces &) = delete;
  ~PeerNamespaces() {
    for (auto &p : pidfiles)
      run_command("{ test -s " + p + " && kill -TERM $(cat " + p + "); } 2>/dev/null");
    for (auto &n : {s, a, b})
      run_command("{ for p in $(ip netns pids " + n + "); do kill -TERM $p; done; } 2>/dev/null");
    ::usleep(200000);
    for (auto &n : {s, a, b})
      run_command("ip netns del " + n + " 2>/dev/null");
  }

  std::string ip(int host) const { return fmt::format("10.{}.{}.{}", m_octet, net, host); }

  // Creates the namespaces and links, then runs `probe` (a shell command,
  // with {s} for S's name) to show the firewall tool works in S. False with
  // the error output in `why`.
  bool setup(const std::string &probe, std::string &why) {
    std::string sa = fmt::format("bw{}a{}", m_veth, net), as = fmt::format("bwa{}{}", m_veth, net);
    std::string sb = fmt::format("bw{}b{}", m_veth, net), bs = fmt::format("bwb{}{}", m_veth, net);
    auto r = run_command(fmt::format(
        fmt::runtime("set -e; ip netns add {s}; ip netns add {a}; ip netns add {b};"
                     "ip link add {sa} type veth peer name {as};"
                     "ip link add {sb} type veth peer name {bs};"
                     "ip link set {sa} netns {s}; ip link set {sb} netns {s};"
                     "ip link set {as} netns {a}; ip link set {bs} netns {b};"
                     "ip -n {s} addr add {s1}/30 dev {sa}; ip -n {s} addr add {s5}/30 dev {sb};"
                     "ip -n {a} addr add {a2}/30 dev {as}; ip -n {b} addr add {b6}/30 dev {bs};"
                     "for x in {s} {a} {b}; do ip -n $x link set lo up; done;"
                     "ip -n {s} link set {sa} up; ip -n {s} link set {sb} up;"
                     "ip -n {a} link set {as} up; ip -n {b} link set {bs} up;" +
                     probe),
        fmt::arg("s", s), fmt::arg("a", a), fmt::arg("b", b), fmt::arg("sa", sa),
        fmt::arg("as", as), fmt::arg("sb", sb), fmt::arg("bs", bs), fmt::arg("s1", ip(1)),
        fmt::arg("s5", ip(5)), fmt::arg("a2", ip(2)), fmt::arg("b6", ip(6))));
    why = r.err;
    return r.exit_code == 0;
  }

  // A real TCP connection (curl to the HTTP server the test runs in S).
  // One HTTP request with a 1 s deadline: enough to see a DROP. A test that
  // expects the connection to work retries it (wait_for): under CI's load
  // the Python server can take longer than a second to answer.
  bool connects(const std::string &from, const std::string &to) const {
    return run_command(
               fmt::format("ip netns exec {} curl -s -o /dev/null -m 1 http://{}:8080/", from, to))
               .exit_code == 0;
  }
  std::string in_s(const std::string &cmd) const { return "ip netns exec " + s + " " + cmd; }

private:
  int m_octet;
  char m_veth;
};

// wait_for(cond, ms): tests/wait.hpp.

} // namespace bulwark::test
