// Evaluates one packet against a firewall Ruleset the way the kernel does
// (Linux 6.1, Debian 12):
// - Every base chain registered on the packet's hook, for the packet's
//   family, sees the packet in priority order (nf_hook_entries are sorted by
//   priority). A drop or reject is final; an accept ends only its own base
//   chain and the packet goes on to the next one (nft_do_chain returns
//   NF_ACCEPT to nf_hook_slow, which calls the next hook). iptables' filter
//   table is one more base chain at priority 0 (NF_IP_PRI_FILTER).
// - Inside a chain: rules in order; jump pushes a return point, goto does
//   not, return (or the end of a non-base chain) pops; the end of a base
//   chain applies its policy (ipt_do_table / nft_do_chain).
// - Rate conditions (limit, hashlimit, recent, meters) are judged for the
//   first packets of a source: a "limit ... accept" holds, a "recent
//   --update ... drop" does not. Either way the path is flagged throttled.
// - Conditions bulwark cannot decide (unknown matches, the host's own
//   address, a named interface when the packet's interface is "any external
//   one") are resolved against the claim that matters: an accepting rule is
//   taken as matching, a dropping one as not, and the rule is listed as
//   uncertain. So a port is never reported closed on a guess.

#include <bulwark/parse/firewall.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>

namespace bulwark::fw {

std::string_view to_string(Verdict v) {
  switch (v) {
  case Verdict::cont: return "continue";
  case Verdict::accept: return "accept";
  case Verdict::drop: return "drop";
  case Verdict::reject: return "reject";
  case Verdict::jump: return "jump";
  case Verdict::go: return "goto";
  case Verdict::ret: return "return";
  case Verdict::queue: return "queue";
  }
  return "?";
}

std::optional<Addr> Addr::parse(std::string_view s) {
  if (s.empty() || s.size() > 64)
    return std::nullopt;
  std::string z(s);
  Addr a;
  if (z.find(':') != std::string::npos) {
    if (::inet_pton(AF_INET6, z.c_str(), a.b.data()) != 1)
      return std::nullopt;
    a.v6 = true;
    return a;
  }
  if (::inet_pton(AF_INET, z.c_str(), a.b.data()) != 1)
    return std::nullopt;
  return a;
}

std::string Addr::str() const {
  char buf[INET6_ADDRSTRLEN] = {};
  ::inet_ntop(v6 ? AF_INET6 : AF_INET, b.data(), buf, sizeof buf);
  return buf;
}

std::optional<Cidr> Cidr::parse(std::string_view s) {
  Cidr c;
  auto slash = s.find('/');
  auto a = Addr::parse(s.substr(0, slash));
  if (!a)
    return std::nullopt;
  c.addr = *a;
  int maxp = a->v6 ? 128 : 32;
  c.prefix = maxp;
  if (slash != std::string_view::npos) {
    std::string_view p = s.substr(slash + 1);
    if (p.empty() || p.size() > 3)
      return std::nullopt;
    if (p.find('.') != std::string_view::npos || p.find(':') != std::string_view::npos) {
      // iptables accepts a dotted netmask: count its leading ones.
      auto m = Addr::parse(p);
      if (!m || m->v6 != a->v6)
        return std::nullopt;
      int n = 0;
      for (int i = 0; i < (a->v6 ? 16 : 4); ++i)
        for (int bit = 7; bit >= 0; --bit)
          n += (m->b[i] >> bit) & 1;
      c.prefix = n;
    } else {
      int n = 0;
      for (char ch : p) {
        if (ch < '0' || ch > '9')
          return std::nullopt;
        n = n * 10 + (ch - '0');
      }
      if (n > maxp)
        return std::nullopt;
      c.prefix = n;
    }
  }
  return c;
}

bool Cidr::contains(const Addr &a) const {
  if (a.v6 != addr.v6)
    return false;
  int full = prefix / 8, rest = prefix % 8;
  if (std::memcmp(a.b.data(), addr.b.data(), full) != 0)
    return false;
  if (rest == 0)
    return true;
  uint8_t mask = static_cast<uint8_t>(0xff << (8 - rest));
  return (a.b[full] & mask) == (addr.b[full] & mask);
}

std::string Cidr::str() const {
  return addr.str() + "/" + std::to_string(prefix);
}

bool AddrRange::contains(const Addr &a) const {
  if (a.v6 != lo.v6)
    return false;
  int n = a.v6 ? 16 : 4;
  return std::memcmp(a.b.data(), lo.b.data(), n) >= 0 &&
         std::memcmp(a.b.data(), hi.b.data(), n) <= 0;
}

std::string AddrRange::str() const {
  if (lo.b == hi.b)
    return lo.str();
  return lo.str() + "-" + hi.str();
}

bool Ruleset::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic &d) { return d.level == Diagnostic::Level::error; });
}

Table *Ruleset::find(std::string_view family, std::string_view name) {
  for (auto &t : tables)
    if (t.family == family && t.name == name)
      return &t;
  return nullptr;
}

namespace {

enum class Tri { no, yes, unknown };

Tri neg(Tri t, bool n) {
  if (!n || t == Tri::unknown)
    return t;
  return t == Tri::yes ? Tri::no : Tri::yes;
}

bool ifname_match(const std::string &pat, const std::string &name) {
  if (!pat.empty() && (pat.back() == '+' || pat.back() == '*'))
    return name.compare(0, pat.size() - 1, pat, 0, pat.size() - 1) == 0;
  return pat == name;
}

bool is_multicast_or_broadcast(const AddrRange &r) {
  // 224.0.0.0/4, 255.255.255.255, ff00::/8: never a host's unicast address.
  if (!r.lo.v6)
    return r.lo.b[0] >= 224 && r.hi.b[0] >= 224;
  return r.lo.b[0] == 0xff && r.hi.b[0] == 0xff;
}

Tri iface(const Cond &c, const std::optional<std::string> &name) {
  bool any = false;
  if (name) {
    for (auto &p : c.names)
      any = any || ifname_match(p, *name);
    return neg(any ? Tri::yes : Tri::no, c.neg);
  }
  // "Some interface other than lo": only lo patterns are decidable.
  bool only_lo = !c.names.empty();
  for (auto &p : c.names)
    only_lo = only_lo && (p == "lo");
  if (only_lo)
    return neg(Tri::no, c.neg);
  return Tri::unknown;
}

Tri eval_cond(const Cond &c, const Packet &p) {
  using K = Cond::Kind;
  switch (c.kind) {
  case K::iif: return iface(c, p.iif);
  case K::oif: return iface(c, p.oif);
  case K::saddr:
  case K::daddr: {
    const std::optional<Addr> a = c.kind == K::saddr ? std::optional<Addr>(p.saddr) : p.daddr;
    if (c.runtime_set)
      return Tri::unknown;
    if (!a) {
      bool all_mc = !c.nets.empty();
      for (auto &n : c.nets)
        all_mc = all_mc && (is_multicast_or_broadcast(n) || n.lo.v6 != (p.family == Family::v6));
      return all_mc ? neg(Tri::no, c.neg) : Tri::unknown;
    }
    bool in = false;
    for (auto &n : c.nets)
      in = in || n.contains(*a);
    return neg(in ? Tri::yes : Tri::no, c.neg);
  }
  case K::proto: {
    bool in = false;
    for (auto &r : c.ranges)
      in = in || r.contains(static_cast<uint32_t>(p.proto));
    return neg(in ? Tri::yes : Tri::no, c.neg);
  }
  case K::dport:
  case K::sport:
  case K::anyport: {
    if (c.runtime_set)
      return Tri::unknown;
    if (p.proto != 6 && p.proto != 17)
      return Tri::no; // the kernel's tcp/udp match never holds for other protocols
    bool in = false;
    for (auto &r : c.ranges) {
      if (c.kind != K::sport)
        in = in || r.contains(p.dport);
      if (c.kind != K::dport)
        in = in || r.contains(p.sport);
    }
    return neg(in ? Tri::yes : Tri::no, c.neg);
  }
  case K::ctstate: return neg((c.mask & p.ct) ? Tri::yes : Tri::no, c.neg);
  case K::family: return neg((c.mask & static_cast<uint8_t>(p.family)) ? Tri::yes : Tri::no, c.neg);
  case K::dst_local: {
    if (p.hook != "input")
      return Tri::unknown;
    bool local = p.daddr ? false : true; // unset daddr: the host's own address
    if (p.daddr)
      return Tri::unknown;
    return neg(((c.mask & 1) && local) ? Tri::yes : Tri::no, c.neg);
  }
  case K::syn:
    if (p.proto != 6)
      return Tri::no;
    return neg(p.ct == ct_new ? Tri::yes : Tri::no, c.neg);
  case K::rate_pass:
  case K::rate_block:
  case K::unknown: return Tri::unknown; // handled by the caller
  }
  return Tri::unknown;
}

enum class M { no, yes, maybe };

struct Walker {
  const Table &table;
  const Packet &p;
  Verdict policy;
  int steps = 0;
  int forks = 0;

  const Chain *chain(const std::string &name) const {
    auto it = table.chains.find(name);
    return it == table.chains.end() ? nullptr : &it->second;
  }

  // Whether a rule's conditions hold, rate conditions judged for a first
  // packet (see the header); `maybe` when a condition cannot be decided.
  M matches(const Rule &r, Outcome &out) {
    bool unknown = false;
    bool rate_pass = false, rate_block = false;
    for (const Cond &c : r.conds) {
      if (c.kind == Cond::Kind::rate_pass) {
        rate_pass = true;
        continue;
      }
      if (c.kind == Cond::Kind::rate_block) {
        rate_block = true;
        continue;
      }
      if (c.kind == Cond::Kind::unknown) {
        unknown = true;
        continue;
      }
      Tri t = eval_cond(c, p);
      if (t == Tri::no)
        return M::no;
      if (t == Tri::unknown)
        unknown = true;
    }
    // A rate condition throttles admission only when the rule decides on
    // it: "limit ... accept", "recent --update ... drop"; a limit on a LOG
    // rule or a jump to a logging chain throttles nothing.
    bool decides = r.verdict == Verdict::accept || r.verdict == Verdict::drop ||
                   r.verdict == Verdict::reject || r.vmap.has_value();
    if ((r.verdict == Verdict::jump || r.verdict == Verdict::go) && chain(r.target))
      for (const Rule &x : chain(r.target)->rules)
        decides = decides || x.verdict == Verdict::accept || x.verdict == Verdict::drop ||
                  x.verdict == Verdict::reject;
    if ((rate_pass || rate_block) && decides) {
      out.throttled = true;
      out.throttle_locs.push_back(r.loc);
    }
    if (rate_block)
      return M::no; // holds only once the source is over the rate
    return unknown ? M::maybe : M::yes;
  }

  struct Frame {
    const Chain *c;
    size_t i;
  };

  // Walks from `stack`; true with a final verdict in `out`, false when the
  // base chain ended (its policy applies). An undecidable jump, goto or
  // return forks: both continuations are walked and the one that lets the
  // packet through wins (never claim "closed" on a guess).
  bool run(std::vector<Frame> stack, Outcome &out) {
    while (!stack.empty()) {
      Frame &f = stack.back();
      if (f.i >= f.c->rules.size()) {
        stack.pop_back();
        continue;
      }
      const Rule &r = f.c->rules[f.i++];
      if (++steps > 200000 || stack.size() > 64) {
        // A loop the loader did not reject: say so rather than guess closed.
        out.uncertain.push_back(r.loc);
        out.verdict = Verdict::accept;
        out.decided = r.loc;
        out.decided_text = "evaluation stopped (loop or too deep): " + r.text;
        return true;
      }
      Verdict v = r.verdict;
      std::string target = r.target;
      M m = matches(r, out);
      if (m == M::no)
        continue;
      if (r.vmap) {
        v = Verdict::cont;
        bool any_unknown = m == M::maybe;
        for (auto &e : r.vmap->entries) {
          Tri t = eval_cond(e.values, p);
          if (t == Tri::unknown)
            any_unknown = true;
          if (t == Tri::yes) {
            v = e.verdict;
            target = e.target;
            break;
          }
        }
        if (any_unknown) {
          out.uncertain.push_back(r.loc);
          m = M::maybe;
        }
        if (v == Verdict::cont)
          continue;
      }
      if (m == M::maybe) {
        out.uncertain.push_back(r.loc);
        if (v == Verdict::drop || v == Verdict::reject || v == Verdict::cont)
          continue; // taken as not matching
        if ((v == Verdict::jump || v == Verdict::go || v == Verdict::ret) && forks < 16) {
          ++forks;
          Outcome skip = out;
          bool skip_final = run(stack, skip);
          bool skip_open = skip_final ? skip.accepted() : policy == Verdict::accept;
          if (skip_open) {
            out = std::move(skip);
            return skip_final;
          }
          // fall through: take the jump/goto/return
        }
      }
      switch (v) {
      case Verdict::cont: break;
      case Verdict::accept:
      case Verdict::drop:
      case Verdict::reject:
      case Verdict::queue:
        out.verdict = v;
        out.decided = r.loc;
        out.decided_text = r.text;
        out.by_policy = false;
        return true;
      case Verdict::ret: stack.pop_back(); break;
      case Verdict::jump:
      case Verdict::go: {
        const Chain *c = chain(target);
        if (!c)
          break; // the loader reported it
        if (v == Verdict::go)
          stack.pop_back();
        stack.push_back({c, 0});
        break;
      }
      }
    }
    return false;
  }
};

} // namespace

Outcome evaluate(const Ruleset &rs, const Packet &p) {
  struct Base {
    const Table *t;
    const Chain *c;
  };
  std::vector<Base> bases;
  for (const Table &t : rs.tables) {
    if (!(t.families & static_cast<uint8_t>(p.family)))
      continue;
    for (auto &[name, c] : t.chains)
      if (c.base && c.hook == p.hook && (c.type == "filter" || c.type == "route"))
        bases.push_back({&t, &c});
  }
  std::stable_sort(bases.begin(), bases.end(),
                   [](const Base &a, const Base &b) { return a.c->priority < b.c->priority; });
  Outcome out;
  if (bases.empty()) {
    out.no_chain = true;
    out.verdict = Verdict::accept;
    return out;
  }
  // An accept by a rule says more than a later chain's accepting policy:
  // it is what the evidence names when the packet gets through.
  std::optional<std::pair<SourceLocation, std::string>> first_accept;
  for (const Base &b : bases) {
    Walker w{*b.t, p, b.c->policy};
    if (w.run({{b.c, 0}}, out)) {
      if (out.verdict == Verdict::accept) {
        if (!first_accept)
          first_accept.emplace(out.decided, out.decided_text);
        continue; // ends this base chain only
      }
      return out;
    }
    out.verdict = b.c->policy;
    out.by_policy = true;
    out.decided = b.c->policy_loc;
    out.decided_text = (b.t->backend == "nft" ? "chain " : "") + b.c->name + " policy " +
                       std::string(to_string(b.c->policy)) +
                       (b.c->policy_default ? " (default)" : "");
    if (out.verdict != Verdict::accept)
      return out;
  }
  if (first_accept && out.verdict == Verdict::accept) {
    out.decided = first_accept->first;
    out.decided_text = first_accept->second;
    out.by_policy = false;
  }
  return out;
}

} // namespace bulwark::fw
