// libFuzzer: nft -f text; the input is also present as an include target
// inside a throwaway root, so include loops and globs are exercised.

#include <bulwark/parse/firewall.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {
const std::string &root() {
  static std::string r = [] {
    char tmpl[] = "/tmp/fuzz-nft-XXXXXX";
    if (!::mkdtemp(tmpl))
      std::abort();
    std::string d = std::string(tmpl) + "/etc";
    ::mkdir(d.c_str(), 0755);
    return std::string(tmpl);
  }();
  return r;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace bulwark::fw;
  std::string text(reinterpret_cast<const char *>(data), size);
  {
    std::ofstream out(root() + "/etc/inc.nft", std::ios::binary | std::ios::trunc);
    out << text;
  }
  bulwark::RootFs fs(root());
  // A smaller file budget than the default 256 keeps self-includes cheap
  // (the bound itself is what is exercised, not its size).
  NftOptions opts;
  opts.max_files = 24;
  Ruleset rs = parse_nft_text(fs, "/etc/nftables.conf", text, opts);
  for (uint32_t port : {22u, 443u, 47123u})
    for (Family f : {Family::v4, Family::v6}) {
      Packet p;
      p.family = f;
      p.dport = port;
      p.saddr = *Addr::parse(f == Family::v4 ? "10.1.2.3" : "2001:db8::3");
      (void)evaluate(rs, p);
      p.hook = "output";
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
