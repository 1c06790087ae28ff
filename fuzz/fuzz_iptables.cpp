// libFuzzer: iptables-save text (rules.v4), then every chain evaluated for
// a few packets, so the evaluator walks whatever the parser accepted.

#include <bulwark/parse/firewall.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace bulwark::fw;
  std::string text(reinterpret_cast<const char *>(data), size);
  Ruleset rs;
  parse_iptables_save(text, "/etc/iptables/rules.v4", Family::v4, rs);
  // A second pass with --noflush semantics on top (ufw's way of loading).
  parse_iptables_save(text, "/etc/ufw/user.rules", Family::v4, rs, true);
  for (uint32_t port : {22u, 443u, 47123u})
    for (uint8_t ct : {ct_new, ct_established}) {
      Packet p;
      p.dport = port;
      p.ct = ct;
      p.saddr = *Addr::parse("10.1.2.3");
      (void)evaluate(rs, p);
      p.iif = "lo";
      (void)evaluate(rs, p);
    }
  // The port-set walk must agree with evaluate() wherever it answers.
  Packet p;
  p.saddr = *Addr::parse("10.1.2.3");
  for (const PortOutcome &po : evaluate_ports(rs, p)) {
    p.dport = po.lo;
    if (evaluate(rs, p).verdict != po.outcome.verdict)
      __builtin_trap();
  }
  return 0;
}
