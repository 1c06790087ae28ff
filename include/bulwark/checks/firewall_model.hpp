#pragma once
// The firewall a host gets at boot (or, live, the kernel's current one):
// which backends load (ufw, netfilter-persistent, nftables.service), their
// merged ruleset, and what it does to the packets the firewall.* checks ask
// about (src/checks/firewall_model.cpp).

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/firewall.hpp>
#include <bulwark/parse/systemd_units.hpp>
#include <bulwark/parse/proc_net.hpp>

#include <string>
#include <vector>

namespace bulwark {

struct FirewallSource {
  std::string backend;   // "ufw", "iptables", "ip6tables", "nft", "live nft"
  std::string path;      // the rule file
  bool at_boot = false;  // a unit loads it at boot
  SourceLocation why;    // ENABLED=yes line, the unit's enablement link
  bool rejected = false; // the loader rejects the file (errors)
  std::optional<fw::Diagnostic> first_error;
  std::string note;
};

struct PortSpan {
  fw::Family family = fw::Family::v4;
  int proto = 6;
  uint32_t lo = 0, hi = 0;
  fw::Outcome outcome;
};

struct FirewallModel {
  std::vector<FirewallSource> sources;
  fw::Ruleset ruleset; // what is loaded (boot sources without errors, merged)
  std::vector<fw::Diagnostic> diagnostics;
  fw::UfwConfig ufw;
  bool live = false;
  std::string live_note; // why the live ruleset was not read
  uint32_t free_port = 47123;

  bool any_loaded() const;
  bool has_input_chain(fw::Family f) const;
  // A source address outside every network the rules name: "the world".
  fw::Addr world(fw::Family f) const;
  // A port no rule names (decided by defaults only).
  uint32_t unmentioned_port() const;
  // Every source address the rules single out (one per named range), plus
  // the world: the sources worth asking about.
  std::vector<fw::Addr> sources_of_interest(fw::Family f) const;
  // Inbound NEW packets from `src` over all ports, as maximal spans of equal
  // outcome (breakpoints are the rules' own port ranges, so the table is exact).
  std::vector<PortSpan> port_table(fw::Family f, int proto, const fw::Addr &src) const;
  fw::Outcome inbound(fw::Family f, int proto, uint32_t port, const fw::Addr &src,
                      std::optional<std::string> iif = {}, uint8_t ct = fw::ct_new) const;
};

namespace live {
class Probes;
}
// probes: the live ruleset (`nft list ruleset`) decides; null offline.
FirewallModel load_firewall_model(const RootFs &fs, live::Probes *probes,
                                  const systemd::UnitFiles &units);

} // namespace bulwark
