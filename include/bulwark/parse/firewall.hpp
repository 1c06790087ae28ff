#pragma once
// The host firewall as the kernel's netfilter hooks see it: tables of chains
// of rules, whatever text they came from (iptables-save, nft, ufw). Each
// parser (src/parse/iptables.cpp, nft.cpp, ufw.cpp) lowers its format into
// this model, keeping the file and line of every rule and policy; the
// evaluator (src/parse/firewall_eval.cpp) walks it for one packet the way
// nf_hook_slow and nft_do_chain / ipt_do_table do.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::fw {

enum class Family : uint8_t { v4 = 1, v6 = 2 };
constexpr uint8_t k_both = 3;

struct Addr {
  std::array<uint8_t, 16> b{}; // v4 in the first 4 bytes
  bool v6 = false;
  static std::optional<Addr> parse(std::string_view s);
  std::string str() const;
};

struct Cidr {
  Addr addr;
  int prefix = 0;
  // "10.0.0.0/8", "::1", "10.0.0.1-10.0.0.9" is not a CIDR (ranges: lo/hi).
  static std::optional<Cidr> parse(std::string_view s);
  bool contains(const Addr &a) const;
  std::string str() const;
};

struct AddrRange { // an interval of addresses (CIDR or nft a-b)
  Addr lo, hi;
  bool contains(const Addr &a) const;
  std::string str() const;
};

struct PortRange {
  uint32_t lo = 0, hi = 0;
  bool contains(uint32_t v) const { return v >= lo && v <= hi; }
};

// conntrack states (nf_conntrack_common.h order is irrelevant here).
enum CtState : uint8_t {
  ct_new = 1,
  ct_established = 2,
  ct_related = 4,
  ct_invalid = 8,
  ct_untracked = 16
};

// One condition of a rule. A rule matches when all of them hold.
struct Cond {
  enum class Kind {
    iif,        // names: interface names, "eth+" (iptables) or "eth*" (nft) wildcards
    oif,        //
    saddr,      // nets
    daddr,      //
    proto,      // ranges over protocol numbers
    dport,      // ranges
    sport,      //
    anyport,    // multiport --ports: sport or dport
    ctstate,    // mask
    family,     // mask of Family bits (nft ip/ip6 expressions in an inet table)
    dst_local,  // addrtype --dst-type / fib daddr type: mask 1 local, 2 multicast/broadcast
    syn,        // TCP SYN without ACK (--syn): true for a new TCP connection
    rate_pass,  // limit, hashlimit-upto: holds for the first packets, then not
    rate_block, // recent --update/--rcheck, hashlimit-above, limit over, ct count over:
                // holds only once a source is over the rate
    unknown     // a match bulwark does not model: text says which
  };
  Kind kind = Kind::unknown;
  bool neg = false;
  std::vector<std::string> names;
  std::vector<AddrRange> nets;
  std::vector<PortRange> ranges;
  uint8_t mask = 0;
  std::string text; // for unknown / rate conditions: what the rule says
  // nft set lookups whose elements are only known at run time (dynamic sets).
  bool runtime_set = false;
  std::string set_ref; // nft "@name": resolved against the table's sets after parsing
  SourceLocation loc;  // where the condition was written (nft: may differ from the rule's line)
};

enum class Verdict : uint8_t { cont, accept, drop, reject, jump, go, ret, queue };
std::string_view to_string(Verdict v);

// nft verdict maps: `tcp dport vmap { 22 : accept, 80 : jump web }`.
struct VerdictMap {
  Cond key; // kind and, per entry, the values
  struct Entry {
    Cond values; // same kind as key, holds the element
    Verdict verdict = Verdict::cont;
    std::string target;
  };
  std::vector<Entry> entries;
};

struct Rule {
  SourceLocation loc;
  std::string text; // the rule as written (for evidence)
  std::vector<Cond> conds;
  Verdict verdict = Verdict::cont;
  std::string target; // jump/goto chain
  std::optional<VerdictMap> vmap;
};

struct Chain {
  std::string name;
  bool base = false;
  std::string hook; // "input", "output", "forward", ... for base chains
  int priority = 0;
  std::string type = "filter";
  Verdict policy = Verdict::accept; // base chains only
  SourceLocation policy_loc;        // line 0: the default (nft: accept)
  bool policy_default = true;
  std::vector<Rule> rules;
};

struct Table {
  std::string backend; // "iptables", "ip6tables", "nft", "ufw"
  std::string family;  // nft family ("ip", "ip6", "inet", ...); "ip"/"ip6" for iptables
  std::string name;
  uint8_t families = 0; // Family bits the table sees
  SourceLocation loc;
  std::map<std::string, Chain> chains;
  // nft named sets: elements as a condition of the set's type.
  struct Set {
    std::string type;
    bool dynamic = false;
    std::vector<std::string> elements;
    std::vector<SourceLocation> element_locs;
    SourceLocation loc;
  };
  std::map<std::string, Set> sets;
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Ruleset {
  std::vector<Table> tables;
  std::vector<Diagnostic> diagnostics;
  std::vector<std::string> files; // read, in order
  bool has_errors() const;
  Table *find(std::string_view family, std::string_view name);
};

// The first jump or goto that closes a loop of chains, if any: the kernel
// refuses such a table ("Too many links"). iptables-nft checks every chain,
// nft only what a base chain reaches (`from_base_only`).
std::optional<SourceLocation> find_jump_loop(const Table &t, bool from_base_only = false);

// iptables-save / iptables-restore text (iptables 1.8.9). `family` is
// Family::v4 for iptables, v6 for ip6tables. With `noflush` (-n), tables
// and chains of `into` are kept and `:chain` lines flush only that chain,
// as iptables-restore -n does. A table with an error is not committed
// (iptables-restore rejects the whole table): it stays as it was in `into`.
void parse_iptables_save(std::string_view text, const std::string &path, Family family,
                         Ruleset &into, bool noflush = false);

// nft -f FILE (nftables 1.0.6): includes read through `fs`.
struct NftOptions {
  int max_include_depth = 16; // nft's MAX_INCLUDE_DEPTH
  int max_files = 256;        // bounds include fan-out
  size_t max_file_bytes = 32 * 1024 * 1024;
  // Tokens produced by $variable expansion in all: a define of four copies
  // of the previous one, 30 deep, is 4^30 tokens in 1 KB of text. Past it
  // one error names the use, and nothing more is read (the ruleset is not
  // known: fail closed).
  size_t max_expanded_tokens = 1024 * 1024;
};
Ruleset parse_nft_file(const RootFs &fs, const std::string &path, const NftOptions &opts = {});
Ruleset parse_nft_text(const RootFs &fs, const std::string &path, std::string_view text,
                       const NftOptions &opts = {});

// ufw (0.36.2, Debian 12): the configuration and the ruleset ufw-init loads.
struct UfwConfig {
  bool present = false; // /etc/ufw/ufw.conf exists
  bool enabled = false;
  SourceLocation enabled_loc;
  std::string input_policy = "DROP", output_policy = "ACCEPT", forward_policy = "DROP";
  SourceLocation input_loc, output_loc, forward_loc;
  bool ipv6 = true;
  SourceLocation ipv6_loc;
  Ruleset ruleset; // what ufw-init start loads (v4 and v6 tables)
};
UfwConfig load_ufw(const RootFs &fs);

// ---- evaluation -----------------------------------------------------------

struct Packet {
  Family family = Family::v4;
  std::string hook = "input";
  int proto = 6; // 6 tcp, 17 udp
  uint32_t dport = 0;
  uint32_t sport = 45678;
  Addr saddr;
  std::optional<Addr> daddr;      // unset: one of the host's own unicast addresses
  std::optional<std::string> iif; // unset: some interface that is not lo
  std::optional<std::string> oif;
  uint8_t ct = ct_new;
};

struct Outcome {
  Verdict verdict = Verdict::accept; // accept, drop, reject (queue: decided in user space)
  bool by_policy = false;            // a base chain's policy decided
  bool no_chain = false;             // no base chain on the hook: nothing filters
  SourceLocation decided;            // the rule or policy that decided
  std::string decided_text;
  bool throttled = false; // a rate-limit condition on the path applies to this packet
  std::vector<SourceLocation> throttle_locs;
  // Rules whose conditions bulwark could not decide: taken as matching when
  // they accept (or jump), as not matching when they drop, so that "closed"
  // is never claimed on a guess.
  std::vector<SourceLocation> uncertain;
  bool accepted() const { return verdict == Verdict::accept || verdict == Verdict::queue; }
};

Outcome evaluate(const Ruleset &rs, const Packet &p);

// The outcome for every destination port 1-65535 of packet `p` (its dport
// ignored), as maximal spans of equal outcome. Exact: equal to evaluate()
// port by port. Rules are walked once with sets of ports (a span that a
// rule splits walks on as two); rulesets with conditions bulwark cannot
// decide fall back to one evaluate() per piece of the rules' own port ranges.
struct PortOutcome {
  uint32_t lo = 0, hi = 0;
  Outcome outcome;
};
std::vector<PortOutcome> evaluate_ports(const Ruleset &rs, const Packet &p);

} // namespace bulwark::fw
