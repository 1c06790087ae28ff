// iptables-save / iptables-restore text, read the way iptables-restore of
// iptables 1.8.9 (Debian 12) reads it.
//
// - Lines: "*table" opens a table, ":CHAIN POLICY [p:b]" declares a chain
//   (a built-in one gets its policy, a user one is created, or flushed with
//   --noflush), "-A/-I/-N/-P/-F/-X ..." are iptables commands, "COMMIT"
//   commits the table, '#' starts a comment line. A rule may start with a
//   "[packets:bytes]" counter (iptables-save -c).
// - Words are split on blanks; double quotes group, \" escapes (xshared.c
//   add_param_to_argv).
// - Transactions: a table is committed only at COMMIT; an error anywhere in
//   it (unknown option or match, a jump to a chain that does not exist, a
//   missing COMMIT) makes iptables-restore reject the table and exit, so the
//   kernel keeps what it had: here the table is left out and the error is
//   recorded with its line. Tables committed before the error stay.
// - Matches: -i/-o, -s/-d (lists, negation), -p, tcp/udp --dport/--sport,
//   multiport, conntrack --ctstate, state --state, limit, hashlimit, recent,
//   connlimit, addrtype, iprange, --syn, comment. Other matches that iptables
//   knows (the xtables extensions Debian ships) are kept as "unknown"
//   conditions, which the evaluator never takes as closing a port.
// Sources: iptables 1.8.9 iptables/iptables-restore.c (ios_parse), xshared.c,
// extensions/libxt_*.c; man iptables-extensions(8).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/firewall.hpp>

#include <algorithm>
#include <set>

namespace bulwark::fw {

namespace {

const std::set<std::string, std::less<>> k_matches = {
    "addrtype",   "ah",        "bpf",      "cgroup",    "cluster",   "comment", "connbytes",
    "connlabel",  "connlimit", "connmark", "conntrack", "cpu",       "dccp",    "devgroup",
    "dscp",       "dst",       "ecn",      "esp",       "eui64",     "frag",    "hashlimit",
    "hbh",        "helper",    "hl",       "icmp",      "icmp6",     "ipcomp",  "iprange",
    "ipv6header", "ipvs",      "length",   "limit",     "mac",       "mark",    "mh",
    "multiport",  "nfacct",    "osf",      "owner",     "physdev",   "pkttype", "policy",
    "quota",      "rateest",   "realm",    "recent",    "rpfilter",  "rt",      "sctp",
    "set",        "socket",    "srh",      "state",     "statistic", "string",  "tcp",
    "tcpmss",     "time",      "tos",      "ttl",       "u32",       "udp",     "udplite"};

const std::set<std::string, std::less<>> k_targets = {
    "AUDIT",   "CHECKSUM", "CLASSIFY", "CLUSTERIP",   "CONNMARK", "CONNSECMARK", "CT",
    "DNAT",    "DNPT",     "DSCP",     "ECN",         "HL",       "HMARK",       "IDLETIMER",
    "LED",     "LOG",      "MARK",     "MASQUERADE",  "NETMAP",   "NFLOG",       "NFQUEUE",
    "NOTRACK", "RATEEST",  "REDIRECT", "REJECT",      "SECMARK",  "SET",         "SNAT",
    "SNPT",    "SYNPROXY", "TCPMSS",   "TCPOPTSTRIP", "TEE",      "TOS",         "TPROXY",
    "TRACE",   "TTL",      "ULOG",     "ACCEPT",      "DROP",     "RETURN",      "QUEUE"};

bool is_general(std::string_view t) {
  static const std::set<std::string, std::less<>> g = {"-p",
                                                       "--protocol",
                                                       "-s",
                                                       "--source",
                                                       "--src",
                                                       "-d",
                                                       "--destination",
                                                       "--dst",
                                                       "-i",
                                                       "--in-interface",
                                                       "-o",
                                                       "--out-interface",
                                                       "-j",
                                                       "--jump",
                                                       "-g",
                                                       "--goto",
                                                       "-m",
                                                       "--match",
                                                       "-f",
                                                       "--fragment",
                                                       "-c",
                                                       "--set-counters",
                                                       "-4",
                                                       "-6",
                                                       "--ipv4",
                                                       "--ipv6"};
  return g.count(t) > 0;
}

struct Builtin {
  const char *table;
  const char *chain;
  int priority;
  const char *type;
};
constexpr Builtin k_iptables_builtins[] = {
    {"filter", "INPUT", 0, "filter"},      {"filter", "FORWARD", 0, "filter"},
    {"filter", "OUTPUT", 0, "filter"},     {"mangle", "PREROUTING", -150, "filter"},
    {"mangle", "INPUT", -150, "filter"},   {"mangle", "FORWARD", -150, "filter"},
    {"mangle", "OUTPUT", -150, "route"},   {"mangle", "POSTROUTING", -150, "filter"},
    {"raw", "PREROUTING", -300, "filter"}, {"raw", "OUTPUT", -300, "filter"},
    {"security", "INPUT", 50, "filter"},   {"security", "FORWARD", 50, "filter"},
    {"security", "OUTPUT", 50, "filter"},  {"nat", "PREROUTING", -100, "nat"},
    {"nat", "INPUT", 100, "nat"},          {"nat", "OUTPUT", -100, "nat"},
    {"nat", "POSTROUTING", 100, "nat"},
};

std::string hook_of(std::string_view chain) {
  std::string h = text::lower(chain);
  return h;
}

// Splits like add_param_to_argv: blanks separate, "..." groups, \" escapes.
std::optional<std::vector<std::string>> iptables_split_words(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  bool in_q = false, have = false;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (c == '\\' && i + 1 < line.size() && line[i + 1] == '"') {
      cur += '"';
      have = true;
      ++i;
      continue;
    }
    if (c == '"') {
      in_q = !in_q;
      have = true;
      continue;
    }
    if (!in_q && (c == ' ' || c == '\t')) {
      if (have)
        out.push_back(cur);
      cur.clear();
      have = false;
      continue;
    }
    cur += c;
    have = true;
  }
  if (in_q)
    return std::nullopt;
  if (have)
    out.push_back(cur);
  return out;
}

std::optional<uint32_t> parse_num(std::string_view s, uint32_t max) {
  if (s.empty() || s.size() > 10)
    return std::nullopt;
  uint64_t n = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + static_cast<uint64_t>(c - '0');
  }
  if (n > max)
    return std::nullopt;
  return static_cast<uint32_t>(n);
}

std::optional<uint32_t> port_number(std::string_view s) {
  if (auto n = parse_num(s, 65535))
    return n;
  // getservbyname() names that rule files use; /etc/services of the
  // target is not consulted (iptables-save always prints numbers).
  static const std::map<std::string, uint32_t, std::less<>> names = {
      {"ssh", 22},          {"http", 80},    {"https", 443},    {"domain", 53}, {"smtp", 25},
      {"ftp", 21},          {"telnet", 23},  {"ntp", 123},      {"bootps", 67}, {"bootpc", 68},
      {"imap", 143},        {"imaps", 993},  {"pop3", 110},     {"pop3s", 995}, {"submission", 587},
      {"postgresql", 5432}, {"mysql", 3306}, {"openvpn", 1194}, {"snmp", 161},  {"ldap", 389}};
  auto it = names.find(s);
  if (it != names.end())
    return it->second;
  return std::nullopt;
}

// "22", "1000:2000", ":1024", "1024:" (iptables) -> range.
std::optional<PortRange> port_range(std::string_view s, char sep) {
  auto c = s.find(sep);
  if (c == std::string_view::npos) {
    auto n = port_number(s);
    if (!n)
      return std::nullopt;
    return PortRange{*n, *n};
  }
  std::string_view a = s.substr(0, c), b = s.substr(c + 1);
  auto lo = a.empty() ? std::optional<uint32_t>(0) : port_number(a);
  auto hi = b.empty() ? std::optional<uint32_t>(65535) : port_number(b);
  if (!lo || !hi)
    return std::nullopt;
  if (*lo > *hi)
    std::swap(*lo, *hi); // iptables swaps an inverted range
  return PortRange{*lo, *hi};
}

std::optional<int> proto_number(std::string_view s) {
  std::string l = text::lower(s);
  static const std::map<std::string, int, std::less<>> names = {
      {"tcp", 6},  {"udp", 17},  {"icmp", 1},   {"icmpv6", 58},   {"ipv6-icmp", 58},
      {"esp", 50}, {"ah", 51},   {"sctp", 132}, {"udplite", 136}, {"gre", 47},
      {"igmp", 2}, {"dccp", 33}, {"mh", 135},   {"ipv6-mh", 135}};
  if (auto it = names.find(l); it != names.end())
    return it->second;
  if (auto n = parse_num(l, 255))
    return static_cast<int>(*n);
  return std::nullopt;
}

uint8_t ct_mask(std::string_view list, bool &ok) {
  uint8_t m = 0;
  ok = true;
  for (auto &w : text::split(list, ',')) {
    std::string u = text::lower(w);
    if (u == "new")
      m |= ct_new;
    else if (u == "established")
      m |= ct_established;
    else if (u == "related")
      m |= ct_related;
    else if (u == "invalid")
      m |= ct_invalid;
    else if (u == "untracked")
      m |= ct_untracked;
    else if (u == "snat" || u == "dnat")
      ; // NAT states: never hold for the packets bulwark asks about
    else
      ok = false;
  }
  return m;
}

struct IptablesParser {
  Ruleset &rs;
  const std::string &path;
  Family family;
  bool noflush;

  std::optional<Table> cur;
  bool cur_failed = false;
  int cur_line = 0;
  bool aborted = false; // iptables-restore stops at the first failing table

  void diag(int line, std::string msg, Diagnostic::Level lvl = Diagnostic::Level::error) {
    rs.diagnostics.push_back({lvl, {path, line}, std::move(msg)});
  }
  void fail(int line, std::string msg) {
    diag(line, std::move(msg));
    cur_failed = true;
  }

  std::string backend() const { return family == Family::v4 ? "iptables" : "ip6tables"; }
  std::string fam_name() const { return family == Family::v4 ? "ip" : "ip6"; }

  void open_table(std::string_view name, int line) {
    static const std::set<std::string, std::less<>> valid = {"filter", "mangle", "raw", "nat",
                                                             "security"};
    cur_failed = false;
    cur_line = line;
    if (!valid.count(name)) {
      cur.emplace();
      fail(line, "unknown table '" + text::printable(name) + "' (iptables-restore rejects it)");
      return;
    }
    Table t;
    if (noflush)
      if (Table *old = rs.find(fam_name(), name))
        t = *old;
    if (t.name.empty()) {
      t.backend = backend();
      t.family = fam_name();
      t.name = std::string(name);
      t.families = static_cast<uint8_t>(family);
      for (const Builtin &b : k_iptables_builtins)
        if (name == b.table) {
          Chain c;
          c.name = b.chain;
          c.base = true;
          c.hook = hook_of(b.chain);
          c.priority = b.priority;
          c.type = b.type;
          c.policy = Verdict::accept;
          c.policy_loc = {path, 0};
          t.chains[c.name] = c;
        }
    }
    t.loc = {path, line};
    cur = std::move(t);
  }

  void commit(int line) {
    if (!cur) {
      diag(line, "COMMIT outside a table");
      aborted = true;
      return;
    }
    if (!cur_failed)
      if (auto loop = find_jump_loop(*cur))
        fail(loop->line, "this jump closes a loop of chains (iptables-restore: Too many links)");
    if (cur_failed) {
      diag(cur_line,
           "iptables-restore rejects table '" + cur->name +
               "' for the errors above: the kernel keeps none of its rules from this file");
      aborted = true; // iptables-restore exits at the first failed table
    } else {
      if (Table *old = rs.find(fam_name(), cur->name))
        *old = std::move(*cur);
      else
        rs.tables.push_back(std::move(*cur));
    }
    cur.reset();
  }

  void chain_decl(const std::vector<std::string> &w, int line) {
    // ":NAME POLICY [p:b]"
    std::string name = w[0].substr(1);
    if (name.empty() || name.size() > 28) {
      fail(line, "invalid chain name '" + text::printable(name) + "'");
      return;
    }
    if (w.size() < 2) {
      fail(line, "chain declaration without policy");
      return;
    }
    auto it = cur->chains.find(name);
    if (it != cur->chains.end() && it->second.base) {
      if (w[1] == "-") {
        fail(line, "built-in chain " + name + " needs a policy");
        return;
      }
      Verdict v = w[1] == "ACCEPT" ? Verdict::accept
                  : w[1] == "DROP" ? Verdict::drop
                                   : Verdict::cont;
      if (v == Verdict::cont) {
        fail(line, "bad policy '" + text::printable(w[1]) + "' for " + name);
        return;
      }
      it->second.policy = v;
      it->second.policy_loc = {path, line};
      it->second.policy_default = false;
      if (!noflush)
        it->second.rules.clear();
      return;
    }
    if (w[1] != "-") {
      fail(line, "user chain " + name + " cannot have a policy");
      return;
    }
    if (std::isupper(static_cast<unsigned char>(name[0])) && k_targets.count(name)) {
      fail(line, "chain name " + name + " is a target name");
      return;
    }
    Chain &c = cur->chains[name];
    c.name = name;
    c.rules.clear(); // new, or flushed (-n keeps other chains, not this one)
  }

  bool chain_exists(const std::string &n) const { return cur->chains.count(n) > 0; }

  void command(const std::vector<std::string> &w, int line, std::string_view raw) {
    size_t i = 0;
    if (!w.empty() && w[0].size() > 2 && w[0].front() == '[' && w[0].back() == ']')
      i = 1; // counters
    if (i >= w.size())
      return;
    const std::string &cmd = w[i];
    auto need_chain = [&](size_t k) -> Chain * {
      if (k >= w.size()) {
        fail(line, cmd + " needs a chain name");
        return nullptr;
      }
      auto it = cur->chains.find(w[k]);
      if (it == cur->chains.end()) {
        fail(line, "chain '" + text::printable(w[k]) + "' does not exist in table " + cur->name);
        return nullptr;
      }
      return &it->second;
    };
    if (cmd == "-A" || cmd == "--append" || cmd == "-I" || cmd == "--insert") {
      Chain *c = need_chain(i + 1);
      if (!c)
        return;
      size_t k = i + 2;
      size_t pos = c->rules.size();
      bool insert = cmd == "-I" || cmd == "--insert";
      if (insert) {
        pos = 0;
        if (k < w.size())
          if (auto n = parse_num(w[k], 1u << 30)) {
            if (*n == 0 || *n > c->rules.size() + 1) {
              fail(line, "index of insertion too big");
              return;
            }
            pos = *n - 1;
            ++k;
          }
      }
      Rule r;
      r.loc = {path, line};
      r.text = std::string(text::trim(raw));
      if (!rule(w, k, r, line))
        return;
      c = &cur->chains[w[i + 1]]; // rule() may not invalidate, but be safe
      c->rules.insert(c->rules.begin() + static_cast<std::ptrdiff_t>(pos), std::move(r));
      return;
    }
    if (cmd == "-N" || cmd == "--new-chain") {
      if (i + 1 >= w.size()) {
        fail(line, "-N needs a chain name");
        return;
      }
      if (chain_exists(w[i + 1])) {
        fail(line, "chain " + w[i + 1] + " already exists");
        return;
      }
      cur->chains[w[i + 1]].name = w[i + 1];
      return;
    }
    if (cmd == "-P" || cmd == "--policy") {
      Chain *c = need_chain(i + 1);
      if (!c)
        return;
      if (!c->base || i + 2 >= w.size() || (w[i + 2] != "ACCEPT" && w[i + 2] != "DROP")) {
        fail(line, "bad policy command");
        return;
      }
      c->policy = w[i + 2] == "ACCEPT" ? Verdict::accept : Verdict::drop;
      c->policy_loc = {path, line};
      c->policy_default = false;
      return;
    }
    if (cmd == "-F" || cmd == "--flush") {
      if (i + 1 >= w.size()) {
        for (auto &[n, c] : cur->chains)
          c.rules.clear();
        return;
      }
      if (Chain *c = need_chain(i + 1))
        c->rules.clear();
      return;
    }
    if (cmd == "-X" || cmd == "--delete-chain") {
      if (i + 1 >= w.size()) {
        for (auto it = cur->chains.begin(); it != cur->chains.end();)
          it = it->second.base ? std::next(it) : cur->chains.erase(it);
        return;
      }
      Chain *c = need_chain(i + 1);
      if (c && c->base) {
        fail(line, "cannot delete built-in chain " + c->name);
        return;
      }
      if (c)
        cur->chains.erase(w[i + 1]);
      return;
    }
    fail(line, "unsupported command '" + text::printable(cmd) + "'");
  }

  // Parses the options of -A/-I from w[k]. False on error (already reported).
  bool rule(const std::vector<std::string> &w, size_t k, Rule &r, int line) {
    bool negate = false;
    bool have_tcpudp = false; // -p tcp/udp/... or -m tcp/udp: port options allowed
    std::set<std::string> modules;
    std::string target;
    bool seen_target = false;
    auto arg = [&](size_t &j) -> std::optional<std::string> {
      if (j + 1 >= w.size()) {
        fail(line, "option " + w[j] + " requires an argument");
        return std::nullopt;
      }
      return w[++j];
    };
    auto add = [&](Cond c) {
      c.neg = negate;
      negate = false;
      r.conds.push_back(std::move(c));
    };
    auto addrs = [&](const std::string &v, Cond::Kind kind) -> bool {
      Cond c;
      c.kind = kind;
      for (auto &part : text::split(v, ',')) {
        auto cidr = Cidr::parse(part);
        if (!cidr && (part.find_first_not_of("0123456789./") == std::string::npos ||
                      part.find(':') != std::string::npos)) {
          fail(line, "bad address '" + text::printable(part) + "' (host/network not found)");
          return false;
        }
        if (!cidr) {
          // A host name: iptables resolves it once, at load time.
          Cond u;
          u.kind = Cond::Kind::unknown;
          u.text = (kind == Cond::Kind::saddr ? "-s " : "-d ") + part;
          add(u);
          return true;
        }
        if (cidr->addr.v6 != (family == Family::v6)) {
          fail(line, "address " + text::printable(part) + " is of the other family");
          return false;
        }
        AddrRange ar;
        ar.lo = ar.hi = cidr->addr;
        int n = cidr->addr.v6 ? 16 : 4;
        for (int byte = 0; byte < n; ++byte)
          for (int bit = 0; bit < 8; ++bit)
            if (byte * 8 + bit >= cidr->prefix) {
              ar.lo.b[byte] &= static_cast<uint8_t>(~(0x80 >> bit));
              ar.hi.b[byte] |= static_cast<uint8_t>(0x80 >> bit);
            }
        c.nets.push_back(ar);
      }
      add(c);
      return true;
    };
    auto ports = [&](const std::string &v, Cond::Kind kind, bool list) -> bool {
      if (!have_tcpudp) {
        fail(line, "port match without -p tcp/udp (iptables: unknown option)");
        return false;
      }
      Cond c;
      c.kind = kind;
      auto parts = list ? text::split(v, ',') : std::vector<std::string>{v};
      if (parts.empty() || parts.size() > 15) {
        fail(line, "bad port list '" + text::printable(v) + "'");
        return false;
      }
      for (auto &p : parts) {
        auto pr = port_range(p, ':');
        if (!pr) {
          fail(line, "bad port '" + text::printable(p) + "'");
          return false;
        }
        c.ranges.push_back(*pr);
      }
      add(c);
      return true;
    };
    for (size_t j = k; j < w.size(); ++j) {
      const std::string &t = w[j];
      if (t == "!") {
        if (negate) {
          fail(line, "double negation");
          return false;
        }
        negate = true;
        continue;
      }
      if (t == "-p" || t == "--protocol") {
        auto v = arg(j);
        if (!v)
          return false;
        std::string l = text::lower(*v);
        if (l == "all" || l == "0") {
          negate = false;
          continue;
        }
        auto n = proto_number(l);
        if (!n) {
          fail(line, "unknown protocol '" + text::printable(*v) + "'");
          return false;
        }
        have_tcpudp =
            have_tcpudp || (!negate && (*n == 6 || *n == 17 || *n == 132 || *n == 33 || *n == 136));
        Cond c;
        c.kind = Cond::Kind::proto;
        c.ranges.push_back({static_cast<uint32_t>(*n), static_cast<uint32_t>(*n)});
        add(c);
      } else if (t == "-s" || t == "--source" || t == "--src" || t == "-d" ||
                 t == "--destination" || t == "--dst") {
        auto v = arg(j);
        if (!v || !addrs(*v, t[1] == 's' || t == "--source" || t == "--src" ? Cond::Kind::saddr
                                                                            : Cond::Kind::daddr))
          return false;
      } else if (t == "-i" || t == "--in-interface" || t == "-o" || t == "--out-interface") {
        auto v = arg(j);
        if (!v)
          return false;
        if (v->empty() || v->size() > 15) {
          fail(line, "bad interface name '" + text::printable(*v) + "'");
          return false;
        }
        Cond c;
        c.kind = (t == "-i" || t == "--in-interface") ? Cond::Kind::iif : Cond::Kind::oif;
        c.names.push_back(*v);
        add(c);
      } else if (t == "-f" || t == "--fragment") {
        Cond c;
        c.kind = Cond::Kind::unknown;
        c.text = "-f";
        add(c);
      } else if (t == "-4" || t == "--ipv4" || t == "-6" || t == "--ipv6") {
        negate = false;
      } else if (t == "-c" || t == "--set-counters") {
        if (!arg(j))
          return false;
        if (j + 1 < w.size() && w[j + 1].find_first_not_of("0123456789") == std::string::npos)
          ++j;
      } else if (t == "-m" || t == "--match") {
        auto v = arg(j);
        if (!v)
          return false;
        if (!k_matches.count(*v)) {
          fail(line, "unknown match '" + text::printable(*v) + "' (iptables: Couldn't load match)");
          return false;
        }
        modules.insert(*v);
        if (*v == "tcp" || *v == "udp" || *v == "sctp" || *v == "dccp" || *v == "udplite")
          have_tcpudp = true;
        if (!module_known(*v)) {
          // Kept, but its options are not modelled: the rule is uncertain.
          Cond c;
          c.kind = Cond::Kind::unknown;
          c.text = "-m " + *v;
          size_t e = j + 1;
          while (e < w.size() && !is_general(w[e]) &&
                 !(w[e] == "!" && e + 1 < w.size() && is_general(w[e + 1]))) {
            c.text += " " + w[e];
            ++e;
          }
          j = e - 1;
          // IPv6 extension-header matches need that header: a plain TCP or
          // UDP packet never has it, whatever the options (even negated).
          static const std::set<std::string, std::less<>> ext = {"rt", "frag", "hbh", "dst",
                                                                 "mh", "ah",   "esp", "ipcomp"};
          if (ext.count(*v)) {
            c.kind = Cond::Kind::proto; // an empty protocol set: never holds
            negate = false;
          }
          add(c);
        }
      } else if (t == "-j" || t == "--jump" || t == "-g" || t == "--goto") {
        auto v = arg(j);
        if (!v)
          return false;
        if (seen_target) {
          fail(line, "more than one target");
          return false;
        }
        seen_target = true;
        target = *v;
        bool go = t == "-g" || t == "--goto";
        if (chain_exists(target) && !cur->chains[target].base) {
          r.verdict = go ? Verdict::go : Verdict::jump;
          r.target = target;
        } else if (go) {
          fail(line, "goto target '" + text::printable(target) + "' is not a user chain");
          return false;
        } else if (!k_targets.count(target)) {
          fail(line, "target '" + text::printable(target) +
                         "' is neither a chain of this table nor an iptables target");
          return false;
        } else if (target == "ACCEPT") {
          r.verdict = Verdict::accept;
        } else if (target == "DROP") {
          r.verdict = Verdict::drop;
        } else if (target == "REJECT") {
          r.verdict = Verdict::reject;
        } else if (target == "RETURN") {
          r.verdict = Verdict::ret;
        } else if (target == "NFQUEUE" || target == "QUEUE") {
          r.verdict = Verdict::queue;
        } else {
          r.verdict = Verdict::cont; // LOG, MARK, ...: the packet goes on
        }
        // Target options: everything up to the next general option.
        while (j + 1 < w.size() && !is_general(w[j + 1]) && w[j + 1] != "!" &&
               w[j + 1].rfind("--", 0) == 0) {
          ++j;
          while (j + 1 < w.size() && w[j + 1].rfind('-', 0) != 0 && w[j + 1] != "!")
            ++j;
        }
      } else if (t.rfind("--", 0) == 0) {
        if (!module_option(w, j, modules, have_tcpudp, r, line, negate, add, ports, addrs))
          return false;
      } else {
        fail(line, "unexpected word '" + text::printable(t) + "'");
        return false;
      }
    }
    if (negate) {
      fail(line, "'!' without an option");
      return false;
    }
    return true;
  }

  static bool module_known(std::string_view m) {
    static const std::set<std::string, std::less<>> k = {
        "tcp",    "udp",       "multiport", "conntrack", "state",   "limit", "hashlimit",
        "recent", "connlimit", "addrtype",  "iprange",   "comment", "icmp",  "icmp6"};
    return k.count(m) > 0;
  }

  template <class Add, class Ports, class Addrs>
  bool module_option(const std::vector<std::string> &w, size_t &j,
                     const std::set<std::string> &modules, bool have_tcpudp, Rule &r, int line,
                     bool &negate, Add &add, Ports &ports, Addrs &addrs) {
    const std::string &t = w[j];
    auto has = [&](const char *m) { return modules.count(m) > 0; };
    auto arg = [&]() -> std::optional<std::string> {
      if (j + 1 >= w.size()) {
        fail(line, "option " + t + " requires an argument");
        return std::nullopt;
      }
      return w[++j];
    };
    (void)r;
    if ((t == "--dport" || t == "--destination-port" || t == "--sport" || t == "--source-port") &&
        have_tcpudp) {
      auto v = arg();
      return v && ports(*v,
                        (t == "--dport" || t == "--destination-port") ? Cond::Kind::dport
                                                                      : Cond::Kind::sport,
                        false);
    }
    if (has("multiport") && (t == "--dports" || t == "--destination-ports" || t == "--sports" ||
                             t == "--source-ports" || t == "--ports")) {
      auto v = arg();
      Cond::Kind k = (t == "--dports" || t == "--destination-ports") ? Cond::Kind::dport
                     : t == "--ports"                                ? Cond::Kind::anyport
                                                                     : Cond::Kind::sport;
      return v && ports(*v, k, true);
    }
    if (t == "--syn" && have_tcpudp) {
      Cond c;
      c.kind = Cond::Kind::syn;
      add(c);
      return true;
    }
    if ((t == "--tcp-flags" || t == "--tcp-option") && have_tcpudp) {
      Cond c;
      c.kind = Cond::Kind::unknown;
      c.text = t;
      size_t n = t == "--tcp-flags" ? 2 : 1;
      for (size_t q = 0; q < n; ++q) {
        auto v = arg();
        if (!v)
          return false;
        c.text += " " + *v;
      }
      add(c);
      return true;
    }
    if (t == "--icmp-type" || t == "--icmpv6-type") {
      // The protocol condition already keeps TCP/UDP packets out.
      return arg().has_value() && (negate = false, true);
    }
    if ((t == "--ctstate" && has("conntrack")) || (t == "--state" && has("state"))) {
      auto v = arg();
      if (!v)
        return false;
      bool ok = true;
      Cond c;
      c.kind = Cond::Kind::ctstate;
      c.mask = ct_mask(*v, ok);
      if (!ok) {
        fail(line, "bad state list '" + text::printable(*v) + "'");
        return false;
      }
      add(c);
      return true;
    }
    if (has("conntrack") && t.rfind("--ct", 0) == 0) {
      Cond c;
      c.kind = Cond::Kind::unknown;
      c.text = t;
      if (auto v = arg())
        c.text += " " + *v;
      else
        return false;
      add(c);
      return true;
    }
    if (has("limit") && (t == "--limit" || t == "--limit-burst")) {
      auto v = arg();
      if (!v)
        return false;
      if (t == "--limit") {
        Cond c;
        c.kind = Cond::Kind::rate_pass;
        c.text = "-m limit --limit " + *v;
        add(c);
      }
      return true;
    }
    if (has("hashlimit") && t.rfind("--hashlimit", 0) == 0) {
      auto v = arg();
      if (!v)
        return false;
      if (t == "--hashlimit-upto" || t == "--hashlimit" || t == "--hashlimit-above") {
        Cond c;
        c.kind = t == "--hashlimit-above" ? Cond::Kind::rate_block : Cond::Kind::rate_pass;
        c.text = "-m hashlimit " + t + " " + *v;
        add(c);
      }
      return true;
    }
    if (has("recent")) {
      if (t == "--set" || t == "--rsource" || t == "--rdest" || t == "--rttl" || t == "--reap") {
        negate = false;
        return true;
      }
      if (t == "--name" || t == "--mask" || t == "--seconds") {
        return arg().has_value();
      }
      if (t == "--hitcount") {
        auto v = arg();
        if (!v)
          return false;
        auto n = parse_num(*v, 1u << 20);
        // Mark the pending --update/--rcheck of this rule: with two or more
        // hits needed, a new source's first packet does not match.
        for (auto it = r.conds.rbegin(); it != r.conds.rend(); ++it)
          if (it->kind == Cond::Kind::unknown && it->text.rfind("-m recent", 0) == 0) {
            if (n && *n >= 2) {
              it->kind = it->neg ? Cond::Kind::rate_pass : Cond::Kind::rate_block;
              it->neg = false;
            }
            break;
          }
        return true;
      }
      if (t == "--update" || t == "--rcheck" || t == "--remove") {
        Cond c;
        c.kind = Cond::Kind::unknown; // list membership: unknown until --hitcount says more
        c.text = "-m recent " + t;
        add(c);
        return true;
      }
    }
    if (has("connlimit") && t.rfind("--connlimit", 0) == 0) {
      auto v = arg();
      if (!v)
        return false;
      if (t == "--connlimit-above" || t == "--connlimit-upto") {
        Cond c;
        bool above = t == "--connlimit-above";
        if (negate)
          above = !above;
        negate = false;
        c.kind = above ? Cond::Kind::rate_block : Cond::Kind::rate_pass;
        c.text = "-m connlimit " + t + " " + *v;
        add(c);
      }
      return true;
    }
    if (has("addrtype") && (t == "--dst-type" || t == "--src-type")) {
      auto v = arg();
      if (!v)
        return false;
      Cond c;
      if (t == "--dst-type") {
        c.kind = Cond::Kind::dst_local;
        for (auto &ty : text::split(*v, ',')) {
          if (ty == "LOCAL")
            c.mask |= 1;
          else if (ty == "MULTICAST" || ty == "BROADCAST" || ty == "ANYCAST")
            c.mask |= 2;
          else
            c.kind = Cond::Kind::unknown;
        }
      } else {
        c.kind = Cond::Kind::unknown;
      }
      c.text = t + " " + *v;
      add(c);
      return true;
    }
    if (has("addrtype") && (t == "--limit-iface-in" || t == "--limit-iface-out")) {
      return true;
    }
    if (has("iprange") && (t == "--src-range" || t == "--dst-range")) {
      auto v = arg();
      if (!v)
        return false;
      auto dash = v->find('-');
      auto lo = Addr::parse(v->substr(0, dash));
      auto hi = dash == std::string::npos ? lo : Addr::parse(v->substr(dash + 1));
      if (!lo || !hi || lo->v6 != (family == Family::v6) || hi->v6 != lo->v6) {
        fail(line, "bad address range '" + text::printable(*v) + "'");
        return false;
      }
      Cond c;
      c.kind = t == "--src-range" ? Cond::Kind::saddr : Cond::Kind::daddr;
      c.nets.push_back({*lo, *hi});
      add(c);
      return true;
    }
    if (has("comment") && t == "--comment") {
      negate = false;
      return arg().has_value();
    }
    (void)addrs;
    fail(line, "unknown option '" + text::printable(t) + "' (iptables rejects the rule)");
    return false;
  }

  void run(std::string_view text) {
    size_t pos = 0;
    int line = 0;
    while (pos <= text.size() && !aborted) {
      size_t nl = text.find('\n', pos);
      std::string_view raw = text.substr(pos, nl == std::string_view::npos ? text.npos : nl - pos);
      ++line;
      pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
      if (raw.find('\0') != std::string_view::npos) {
        if (cur)
          fail(line, "NUL byte in line");
        else
          diag(line, "NUL byte in line");
        continue;
      }
      std::string_view s = text::trim(raw);
      if (s.empty() || s[0] == '#')
        continue;
      if (s[0] == '*') {
        if (cur) {
          fail(line, "table '" + cur->name + "' not committed before '" + text::printable(s) + "'");
          commit(line);
          if (aborted)
            break;
        }
        open_table(text::trim(s.substr(1)), line);
        continue;
      }
      if (s == "COMMIT") {
        commit(line);
        continue;
      }
      if (!cur) {
        diag(line, "'" + text::printable(s) + "' outside a table (no *table line before it)");
        aborted = true;
        break;
      }
      if (cur_failed)
        continue; // iptables-restore stops at the first bad line
      auto w = iptables_split_words(s);
      if (!w) {
        fail(line, "unterminated quote");
        continue;
      }
      if (w->empty())
        continue;
      if ((*w)[0][0] == ':') {
        chain_decl(*w, line);
        continue;
      }
      command(*w, line, s);
    }
    if (cur && !aborted) {
      fail(line, "table '" + cur->name + "' has no COMMIT: iptables-restore commits nothing of it");
      commit(line);
    }
  }
};

} // namespace

void parse_iptables_save(std::string_view text, const std::string &path, Family family,
                         Ruleset &into, bool noflush) {
  into.files.push_back(path);
  IptablesParser p{into, path, family, noflush, {}, false, 0, false};
  p.run(text);
}

} // namespace bulwark::fw
