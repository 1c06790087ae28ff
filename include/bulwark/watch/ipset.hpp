#pragma once
// The iptables-ipset action of bulwark watch (`action: iptables-ipset`), for
// hosts without nftables: bans are elements with per-element timeouts of
// ipsets NAME-v4 (hash:ip, IPv4 /32), NAME-v4net (hash:net, other IPv4
// prefixes) and NAME-v6 (hash:net family inet6: /64s), each dropped by one
// rule at the top of INPUT (`-m set --match-set SET src -j DROP`, iptables
// or ip6tables), inserted only when `-C` does not find it. Elements go in
// through one `ipset restore -exist` process per batch (never one per ban).
// The programs are run directly (no shell), found in /usr/sbin, /sbin or
// /usr/bin.

#include <bulwark/core/process.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/watch/nft.hpp>

#include <chrono>
#include <set>
#include <string>
#include <vector>

namespace bulwark::watch {

// The programs are run through core/process.hpp.
using bulwark::find_program;
using bulwark::ProgramResult;
using bulwark::run_program;

class Ipset : public Firewall {
public:
  // REQUIRES: name is [a-z0-9_]+ of at most 20 characters (checked by the
  // configuration). An error when ipset, iptables or ip6tables is missing.
  // `max_elements` is each set's maxelem (at least 65,536).
  static Result<std::unique_ptr<Ipset>> open(const std::string &name, size_t max_elements);
  bool want(int family, int prefix) override;
  std::string set_name(int family, int prefix) const override;
  // hash:net lists a full-length prefix without "/32" or "/128".
  std::string element_text(const Address &source, int prefix) const override;
  std::vector<std::string> sets() const override;
  // `ipset restore -exist` of the create commands (kept when they exist
  // with the same type and maxelem: an error names the set otherwise), then
  // for each set `iptables -C` and, only when it fails, `iptables -I INPUT
  // 1`.
  Result<Unit> setup() override;
  // Additions with -exist, which sets the timeout of an element that exists
  // (no deletion first: the address is never out of the set meanwhile).
  Result<Unit> apply(const ElementBatch &batch) override;
  bool replaces_in_place() const override { return true; }
  // `ipset save SET`: "add SET TEXT timeout N" lines (timeout 0, an element
  // added by hand without one, never expires: 2^40 s).
  Result<std::vector<std::pair<std::string, int64_t>>> elements(const std::string &set) override;
  bool sets_present() override;
  bool rules_intact() override;
  Result<Unit> remove(const Address &source, int prefix) override;
  std::string kind() const override { return "ipset"; }
  std::string where() const override;

private:
  Ipset(std::string name, size_t max_elements, std::string ipset, std::string iptables,
        std::string ip6tables)
      : m_name(std::move(name)), m_max(max_elements), m_ipset(std::move(ipset)),
        m_iptables(std::move(iptables)), m_ip6tables(std::move(ip6tables)) {}
  // The iptables (4) or ip6tables (6) rule of `set`, as -C/-I arguments.
  std::vector<std::string> rule(const std::string &cmd, const std::string &set) const;
  int family_of(const std::string &set) const;
  Result<Unit> ipset_restore(const std::string &input);
  std::string m_name;
  size_t m_max;
  std::string m_ipset, m_iptables, m_ip6tables;
  std::set<std::string> m_sets;
};

} // namespace bulwark::watch
