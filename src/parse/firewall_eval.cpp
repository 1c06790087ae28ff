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
#include <map>
#include <set>

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

std::optional<SourceLocation> find_jump_loop(const Table &t, bool from_base_only) {
  // Depth-first over the jump graph; 1 = on the path, 2 = done.
  std::map<std::string, int> state;
  struct Frame {
    const Chain *c;
    size_t i;
  };
  for (auto &[name, start] : t.chains) {
    if (state[name] != 0 || (from_base_only && !start.base))
      continue;
    std::vector<Frame> stack{{&start, 0}};
    state[name] = 1;
    while (!stack.empty()) {
      size_t top = stack.size() - 1;
      const Chain *c = stack[top].c;
      const Chain *next = nullptr;
      while (!next && stack[top].i < c->rules.size()) {
        const Rule &r = c->rules[stack[top].i++];
        std::vector<std::string> ts;
        if (r.verdict == Verdict::jump || r.verdict == Verdict::go)
          ts.push_back(r.target);
        if (r.vmap)
          for (auto &e : r.vmap->entries)
            if (e.verdict == Verdict::jump || e.verdict == Verdict::go)
              ts.push_back(e.target);
        for (auto &tn : ts) {
          auto it = t.chains.find(tn);
          if (it == t.chains.end())
            continue;
          int &st = state[tn];
          if (st == 1)
            return r.loc;
          if (st == 0) {
            st = 1;
            next = &it->second;
            break;
          }
        }
      }
      if (next) {
        stack.push_back({next, 0});
      } else {
        state[c->name] = 2;
        stack.pop_back();
      }
    }
  }
  return std::nullopt;
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

struct FirewallWalker {
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
    FirewallWalker w{*b.t, p, b.c->policy};
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

namespace bulwark::fw {

namespace {

using PortSet = std::vector<PortRange>; // sorted, disjoint

PortSet normalise_port_set(std::vector<PortRange> v) {
  std::sort(v.begin(), v.end(), [](const PortRange &a, const PortRange &b) { return a.lo < b.lo; });
  PortSet out;
  for (auto &r : v) {
    if (!out.empty() && r.lo <= out.back().hi + 1)
      out.back().hi = std::max(out.back().hi, r.hi);
    else
      out.push_back(r);
  }
  return out;
}

PortSet complement(const PortSet &s) {
  PortSet out;
  uint32_t next = 0;
  for (auto &r : s) {
    if (r.lo > next)
      out.push_back({next, r.lo - 1});
    next = r.hi + 1;
  }
  if (next <= 65535)
    out.push_back({next, 65535});
  return out;
}

PortSet intersect(const PortSet &a, const PortSet &b) {
  PortSet out;
  size_t i = 0, j = 0;
  while (i < a.size() && j < b.size()) {
    uint32_t lo = std::max(a[i].lo, b[j].lo), hi = std::min(a[i].hi, b[j].hi);
    if (lo <= hi)
      out.push_back({lo, hi});
    (a[i].hi < b[j].hi) ? ++i : ++j;
  }
  return out;
}

struct Span {
  PortSet ports;
  Outcome out;
};

struct Frame {
  const Chain *c;
  size_t i;
};

// Walks one base chain for every port in `ports` at once. nullopt when a
// rule needs what only the per-port walk decides (undecidable conditions,
// verdict maps, source-port lists) or the walk grows too large.
std::optional<std::vector<Span>> walk_ports(const Table &t, const Chain &base, const Packet &p) {
  struct Branch {
    std::vector<Frame> stack;
    PortSet ports;
    Outcome out;
  };
  std::vector<Span> done;
  std::vector<Branch> work;
  work.push_back({{{&base, 0}}, {{1, 65535}}, {}});
  long steps = 0;
  auto chain = [&](const std::string &n) -> const Chain * {
    auto it = t.chains.find(n);
    return it == t.chains.end() ? nullptr : &it->second;
  };
  while (!work.empty()) {
    Branch b = std::move(work.back());
    work.pop_back();
    bool finished = false;
    while (!finished) {
      if (b.stack.empty()) {
        Outcome o = b.out;
        o.verdict = base.policy;
        o.by_policy = true;
        o.decided = base.policy_loc;
        o.decided_text = (t.backend == "nft" ? "chain " : "") + base.name + " policy " +
                         std::string(to_string(base.policy)) +
                         (base.policy_default ? " (default)" : "");
        done.push_back({std::move(b.ports), std::move(o)});
        break;
      }
      Frame &f = b.stack.back();
      if (f.i >= f.c->rules.size()) {
        b.stack.pop_back();
        continue;
      }
      const Rule &r = f.c->rules[f.i++];
      if (++steps > 2000000 || b.stack.size() > 64 || r.vmap)
        return std::nullopt;
      bool rate_pass = false, rate_block = false, no = false;
      PortSet R{{0, 65535}};
      for (const Cond &c : r.conds) {
        switch (c.kind) {
        case Cond::Kind::rate_pass: rate_pass = true; break;
        case Cond::Kind::rate_block: rate_block = true; break;
        case Cond::Kind::unknown:
        case Cond::Kind::sport:
        case Cond::Kind::anyport: return std::nullopt;
        case Cond::Kind::dport: {
          if (c.runtime_set)
            return std::nullopt;
          if (p.proto != 6 && p.proto != 17) {
            no = true;
            break;
          }
          PortSet s = normalise_port_set(c.ranges);
          R = intersect(R, c.neg ? complement(s) : s);
          break;
        }
        default: {
          Tri tv = eval_cond(c, p);
          if (tv == Tri::unknown)
            return std::nullopt;
          no = no || tv == Tri::no;
        }
        }
        if (no)
          break;
      }
      if (no)
        continue;
      PortSet matched = intersect(b.ports, R);
      if (matched.empty())
        continue;
      PortSet rest = intersect(b.ports, complement(R));
      if (!rest.empty())
        work.push_back({b.stack, std::move(rest), b.out});
      b.ports = std::move(matched);
      bool decides = r.verdict == Verdict::accept || r.verdict == Verdict::drop ||
                     r.verdict == Verdict::reject;
      if ((r.verdict == Verdict::jump || r.verdict == Verdict::go) && chain(r.target))
        for (const Rule &x : chain(r.target)->rules)
          decides = decides || x.verdict == Verdict::accept || x.verdict == Verdict::drop ||
                    x.verdict == Verdict::reject;
      if ((rate_pass || rate_block) && decides) {
        b.out.throttled = true;
        b.out.throttle_locs.push_back(r.loc);
      }
      if (rate_block)
        continue;
      switch (r.verdict) {
      case Verdict::cont: break;
      case Verdict::accept:
      case Verdict::drop:
      case Verdict::reject:
      case Verdict::queue:
        b.out.verdict = r.verdict;
        b.out.decided = r.loc;
        b.out.decided_text = r.text;
        b.out.by_policy = false;
        done.push_back({std::move(b.ports), std::move(b.out)});
        finished = true;
        break;
      case Verdict::ret: b.stack.pop_back(); break;
      case Verdict::jump:
      case Verdict::go: {
        const Chain *c = chain(r.target);
        if (!c)
          break;
        if (r.verdict == Verdict::go)
          b.stack.pop_back();
        b.stack.push_back({c, 0});
        break;
      }
      }
    }
  }
  return done;
}

bool same(const Outcome &a, const Outcome &b) {
  return a.verdict == b.verdict && a.decided == b.decided && a.throttled == b.throttled &&
         a.by_policy == b.by_policy && a.no_chain == b.no_chain &&
         a.uncertain.size() == b.uncertain.size();
}

void append(std::vector<PortOutcome> &out, uint32_t lo, uint32_t hi, Outcome o) {
  if (!out.empty() && out.back().hi + 1 == lo && same(out.back().outcome, o)) {
    out.back().hi = hi;
    return;
  }
  out.push_back({lo, hi, std::move(o)});
}

std::vector<PortOutcome> slow_ports(const Ruleset &rs, const Packet &tmpl) {
  std::set<uint32_t> bp{1, 65536};
  auto take = [&](const Cond &cd) {
    if (cd.kind == Cond::Kind::dport || cd.kind == Cond::Kind::anyport)
      for (auto &r : cd.ranges) {
        bp.insert(r.lo);
        bp.insert(r.hi + 1);
      }
  };
  for (auto &t : rs.tables)
    for (auto &[n, c] : t.chains)
      for (auto &r : c.rules) {
        for (auto &cd : r.conds)
          take(cd);
        if (r.vmap)
          for (auto &e : r.vmap->entries)
            take(e.values);
      }
  std::vector<uint32_t> pts(bp.begin(), bp.end());
  std::vector<PortOutcome> out;
  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    uint32_t lo = std::max<uint32_t>(pts[i], 1), hi = pts[i + 1] - 1;
    if (lo > hi || lo > 65535)
      continue;
    Packet p = tmpl;
    p.dport = lo;
    append(out, lo, hi, evaluate(rs, p));
  }
  return out;
}

} // namespace

std::vector<PortOutcome> evaluate_ports(const Ruleset &rs, const Packet &p) {
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
  if (bases.empty()) {
    Outcome o;
    o.no_chain = true;
    return {{1, 65535, o}};
  }
  // Per base chain: spans sorted by port.
  std::vector<std::vector<std::pair<PortRange, const Outcome *>>> per;
  std::vector<std::vector<Span>> keep;
  for (const Base &b : bases) {
    auto spans = walk_ports(*b.t, *b.c, p);
    if (!spans)
      return slow_ports(rs, p);
    keep.push_back(std::move(*spans));
  }
  std::set<uint32_t> bp{1, 65536};
  for (auto &spans : keep) {
    std::vector<std::pair<PortRange, const Outcome *>> v;
    for (auto &sp : spans)
      for (auto &r : sp.ports)
        if (r.hi >= 1) {
          PortRange c{std::max<uint32_t>(r.lo, 1), r.hi};
          v.push_back({c, &sp.out});
          bp.insert(c.lo);
          bp.insert(c.hi + 1);
        }
    std::sort(v.begin(), v.end(), [](auto &a, auto &b) { return a.first.lo < b.first.lo; });
    per.push_back(std::move(v));
  }
  std::vector<size_t> cur(per.size(), 0);
  std::vector<uint32_t> pts(bp.begin(), bp.end());
  std::vector<PortOutcome> out;
  for (size_t i = 0; i + 1 < pts.size(); ++i) {
    uint32_t lo = pts[i], hi = pts[i + 1] - 1;
    if (lo > hi || lo > 65535)
      continue;
    // The same combination as evaluate(): a drop is final, an accept ends
    // only its chain, a rule's accept outranks a later accepting policy.
    Outcome acc;
    std::optional<std::pair<SourceLocation, std::string>> first_accept;
    bool final = false;
    for (size_t k = 0; k < per.size() && !final; ++k) {
      while (cur[k] < per[k].size() && per[k][cur[k]].first.hi < lo)
        ++cur[k];
      const Outcome &o = *per[k][cur[k]].second;
      acc.throttled = acc.throttled || o.throttled;
      acc.throttle_locs.insert(acc.throttle_locs.end(), o.throttle_locs.begin(),
                               o.throttle_locs.end());
      acc.uncertain.insert(acc.uncertain.end(), o.uncertain.begin(), o.uncertain.end());
      acc.verdict = o.verdict;
      acc.by_policy = o.by_policy;
      acc.decided = o.decided;
      acc.decided_text = o.decided_text;
      if (o.verdict == Verdict::accept) {
        if (!o.by_policy && !first_accept)
          first_accept.emplace(o.decided, o.decided_text);
        continue;
      }
      final = true;
    }
    if (!final && first_accept) {
      acc.decided = first_accept->first;
      acc.decided_text = first_accept->second;
      acc.by_policy = false;
    }
    append(out, lo, hi, std::move(acc));
  }
  return out;
}

} // namespace bulwark::fw
