// nftables rulesets as `nft -f FILE` of nftables 1.0.6 (Debian 12) reads
// them: /etc/nftables.conf, loaded at boot by nftables.service.
//
// - Lexing (scanner.l): '#' comments to the end of the line, "\" joins
//   lines, newline and ';' end a statement, "..." strings, { } , ( ) as
//   punctuation.
// - `include "PATH"`: a relative path is looked up in the default include
//   directory (/etc, DEFAULT_INCLUDE_PATH on Debian); a pattern with glob
//   characters may match nothing, a plain missing file is an error; nesting
//   is limited to 16 (MAX_INCLUDE_DEPTH). bulwark also bounds the number of
//   files read, so that an include fan-out cannot blow up.
// - `define NAME = VALUE`, `redefine`, `undefine`; `$NAME` expands the
//   value's tokens; an undefined variable is an error.
// - `flush ruleset`, `table FAMILY NAME { ... }`, `add|create table|chain|rule
//   |set|element`, `insert rule`, `flush table|chain`, `delete table`; chains
//   with `type T hook H priority P; policy V;` (named priorities: raw -300,
//   mangle -150, dstnat -100, filter 0, security 50, srcnat 100, with +/-
//   offsets); named sets with `elements = { ... }`, anonymous sets, ranges,
//   verdict maps.
// - Transactions: nft -f applies the whole file or nothing. A file with an
//   error leaves the kernel's ruleset as it was (nothing, at boot): the
//   caller must treat a Ruleset with errors as not loaded.
// Statements bulwark does not model become "unknown" conditions (see
// firewall_eval.cpp: never taken as closing a port).
// Sources: nftables 1.0.6 src/scanner.l, src/parser_bison.y,
// src/rule.c (chain priorities), include/nftables.h; man nft(8).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/firewall.hpp>

#include <algorithm>
#include <cstring>
#include <set>

namespace bulwark::fw {

namespace {

struct Tok {
  enum class K { word, str, punct, eol };
  K k = K::word;
  std::string s;
  int file = 0; // index into Ruleset::files
  int line = 0;
};

bool has_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

struct NftLexer {
  // Splits one file into tokens; newlines become eol tokens.
  static std::vector<Tok> lex(std::string_view t, int file, std::vector<Diagnostic> &diags,
                              const std::string &path) {
    std::vector<Tok> out;
    int line = 1;
    size_t i = 0;
    auto push = [&](Tok::K k, std::string s) { out.push_back({k, std::move(s), file, line}); };
    while (i < t.size()) {
      char c = t[i];
      if (c == '\n') {
        push(Tok::K::eol, "\n");
        ++line;
        ++i;
        continue;
      }
      if (c == '\\' && i + 1 < t.size() && t[i + 1] == '\n') {
        ++line;
        i += 2;
        continue;
      }
      if (c == ' ' || c == '\t' || c == '\r') {
        ++i;
        continue;
      }
      if (c == '#') {
        while (i < t.size() && t[i] != '\n')
          ++i;
        continue;
      }
      if (c == '"') {
        size_t e = i + 1;
        while (e < t.size() && t[e] != '"' && t[e] != '\n')
          ++e;
        if (e >= t.size() || t[e] != '"') {
          diags.push_back({Diagnostic::Level::error, {path, line}, "unterminated string"});
          i = e;
          continue;
        }
        push(Tok::K::str, std::string(t.substr(i + 1, e - i - 1)));
        i = e + 1;
        continue;
      }
      if (c == '{' || c == '}' || c == ',' || c == ';' || c == '(' || c == ')') {
        push(c == ';' ? Tok::K::eol : Tok::K::punct, std::string(1, c));
        ++i;
        continue;
      }
      if (c == '\0') {
        diags.push_back({Diagnostic::Level::error, {path, line}, "NUL byte"});
        ++i;
        continue;
      }
      size_t e = i;
      while (e < t.size() && !std::strchr(" \t\r\n{},;()\"#", t[e]) && t[e] != '\0')
        ++e;
      if (e == i) // '\\' not before a newline
        e = i + 1;
      push(Tok::K::word, std::string(t.substr(i, e - i)));
      i = e;
    }
    push(Tok::K::eol, "\n");
    return out;
  }
};

const std::set<std::string, std::less<>> k_stmt_words = {
    "iif",        "iifname", "oif",    "oifname",  "meta",    "ip",       "ip6",     "tcp",
    "udp",        "th",      "sctp",   "ct",       "limit",   "meter",    "counter", "log",
    "comment",    "accept",  "drop",   "reject",   "return",  "continue", "queue",   "jump",
    "goto",       "icmp",    "icmpv6", "fib",      "add",     "update",   "notrack", "mark",
    "masquerade", "snat",    "dnat",   "redirect", "udplite", "dccp",     "ether",   "vlan",
    "rt",         "socket",  "quota",  "synproxy", "tproxy",  "dup",      "fwd",     "set",
    "osf",        "exthdr",  "ah",     "esp",      "comp",    "ipsec",    "numgen",  "jhash",
    "symhash",    "tcpopt",  "frag",   "hbh",      "mh",      "dst",      "srh",     "arp",
    "reset",      "flow",    "xt"};

int named_priority(std::string_view s, bool &ok) {
  static const std::map<std::string, int, std::less<>> m = {
      {"raw", -300},    {"mangle", -150}, {"dstnat", -100}, {"filter", 0},
      {"security", 50}, {"srcnat", 100},  {"out", 100},     {"bridge", -200}};
  auto it = m.find(s);
  ok = it != m.end();
  return ok ? it->second : 0;
}

std::optional<long> parse_long(std::string_view s) {
  if (s.empty() || s.size() > 9)
    return std::nullopt;
  bool negv = s[0] == '-';
  if (negv)
    s.remove_prefix(1);
  if (s.empty())
    return std::nullopt;
  long n = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    n = n * 10 + (c - '0');
  }
  return negv ? -n : n;
}

std::optional<uint32_t> nft_service_port(std::string_view s) {
  if (auto n = parse_long(s); n && *n >= 0 && *n <= 65535)
    return static_cast<uint32_t>(*n);
  static const std::map<std::string, uint32_t, std::less<>> names = {
      {"ssh", 22},          {"http", 80},    {"https", 443},    {"domain", 53}, {"smtp", 25},
      {"ftp", 21},          {"telnet", 23},  {"ntp", 123},      {"bootps", 67}, {"bootpc", 68},
      {"imap", 143},        {"imaps", 993},  {"pop3", 110},     {"pop3s", 995}, {"submission", 587},
      {"postgresql", 5432}, {"mysql", 3306}, {"openvpn", 1194}, {"snmp", 161},  {"ldap", 389},
      {"http-alt", 8080},   {"redis", 6379}};
  auto it = names.find(s);
  if (it != names.end())
    return it->second;
  return std::nullopt;
}

std::optional<int> l4proto(std::string_view s) {
  static const std::map<std::string, int, std::less<>> names = {
      {"tcp", 6},  {"udp", 17},  {"icmp", 1},   {"icmpv6", 58},   {"ipv6-icmp", 58},
      {"esp", 50}, {"ah", 51},   {"sctp", 132}, {"udplite", 136}, {"gre", 47},
      {"igmp", 2}, {"dccp", 33}, {"comp", 108}};
  if (auto it = names.find(s); it != names.end())
    return it->second;
  if (auto n = parse_long(s); n && *n >= 0 && *n <= 255)
    return static_cast<int>(*n);
  return std::nullopt;
}

struct NftParser {
  const RootFs &fs;
  const NftOptions &opts;
  Ruleset &rs;
  std::map<std::string, std::vector<Tok>> vars;
  int files_read = 0;

  std::vector<Tok> toks;
  size_t pos = 0;
  int depth_expansions = 0;
  size_t expanded_tokens = 0;
  bool budget_spent = false; // stop reading: every file, every statement

  const std::string &file_of(const Tok &t) const { return rs.files[static_cast<size_t>(t.file)]; }
  SourceLocation loc(const Tok &t) const { return {file_of(t), t.line}; }
  void err(const Tok &t, std::string msg) {
    rs.diagnostics.push_back({Diagnostic::Level::error, loc(t), std::move(msg)});
  }
  void warn(const Tok &t, std::string msg) {
    rs.diagnostics.push_back({Diagnostic::Level::warning, loc(t), std::move(msg)});
  }

  bool at_end() const { return pos >= toks.size(); }
  const Tok &peek() const {
    static const Tok eof{Tok::K::eol, "", 0, 0};
    return at_end() ? eof : toks[pos];
  }
  bool is(std::string_view s) const {
    return !at_end() && toks[pos].s == s && toks[pos].k != Tok::K::str;
  }
  bool eol() const { return at_end() || toks[pos].k == Tok::K::eol; }

  // Reads one statement's tokens (up to eol at brace depth 0, or a '}' that
  // closes the enclosing block), expanding $variables.
  std::vector<Tok> statement() {
    std::vector<Tok> out;
    int depth = 0;
    while (!at_end()) {
      const Tok &t = toks[pos];
      if (t.k == Tok::K::eol && depth == 0)
        break;
      if (t.k == Tok::K::punct && t.s == "}" && depth == 0)
        break;
      if (t.k == Tok::K::punct && t.s == "{")
        ++depth;
      if (t.k == Tok::K::punct && t.s == "}")
        --depth;
      ++pos;
      if (t.k == Tok::K::eol) {
        out.push_back(t); // inside braces: split_statements() cuts there
        continue;
      }
      if (t.k == Tok::K::word && t.s.size() > 1 && t.s[0] == '$') {
        auto it = vars.find(t.s.substr(1));
        if (it == vars.end()) {
          err(t, "undefined variable " + text::printable(t.s) + " (nft -f rejects the whole file)");
          continue;
        }
        expanded_tokens += it->second.size();
        if (expanded_tokens > opts.max_expanded_tokens) {
          budget_spent = true;
          err(t, "variables expand to more than " + std::to_string(opts.max_expanded_tokens) +
                     " tokens in all (a define chain?); the rest is not read");
          pos = toks.size();
          out.clear();
          return out;
        }
        for (Tok v : it->second) {
          v.file = t.file;
          v.line = t.line;
          out.push_back(v);
        }
        continue;
      }
      out.push_back(t);
    }
    if (depth > 0 && !out.empty())
      err(out.front(), "unbalanced '{': the block is never closed");
    return out;
  }

  void skip_eols() {
    while (!at_end() && toks[pos].k == Tok::K::eol)
      ++pos;
  }

  // ---- files --------------------------------------------------------------

  void load(const std::string &path, std::string_view text, int depth) {
    if (++files_read > opts.max_files) {
      rs.diagnostics.push_back({Diagnostic::Level::error,
                                {path, 0},
                                "more than " + std::to_string(opts.max_files) +
                                    " files included: stopped (include loop or fan-out)"});
      return;
    }
    rs.files.push_back(path);
    int fid = static_cast<int>(rs.files.size() - 1);
    std::vector<Tok> mine = NftLexer::lex(text, fid, rs.diagnostics, path);
    std::swap(mine, toks);
    size_t saved = pos;
    pos = 0;
    top_level(depth, nullptr);
    std::swap(mine, toks);
    pos = saved;
  }

  void include(const Tok &at, const std::string &name, int depth) {
    if (depth + 1 > opts.max_include_depth) {
      err(at, "include nesting deeper than " + std::to_string(opts.max_include_depth) +
                  " (include loop?)");
      return;
    }
    std::string base = "/etc";
    std::string p = name;
    if (!p.empty() && p[0] != '/') {
      if (text::starts_with(p, "./") || text::starts_with(p, "../")) {
        std::string f = file_of(at);
        base = f.substr(0, f.rfind('/'));
      }
      p = RootFs::join(base, p);
    }
    std::vector<std::string> paths;
    if (has_glob(p)) {
      auto g = fs.glob(p);
      if (!g.ok()) {
        err(at, "include " + text::printable(name) + ": " + g.error().message);
        return;
      }
      paths = *g;
    } else {
      paths.push_back(p);
    }
    for (auto &f : paths) {
      auto st = fs.stat(f);
      if (st.ok() && st->type == FileInfo::Type::directory) {
        err(at, "include " + text::printable(f) + " is a directory");
        continue;
      }
      auto t = fs.read_file(f, opts.max_file_bytes);
      if (!t.ok()) {
        err(at, "include " + text::printable(f) + ": " + t.error().message);
        continue;
      }
      load(f, *t, depth + 1);
      if (files_read > opts.max_files || budget_spent)
        return;
    }
  }

  // ---- statements ---------------------------------------------------------

  struct Ctx {
    Table *table = nullptr;
    Chain *chain = nullptr;
  };

  std::string family_word(std::vector<Tok> &st, size_t &i) {
    static const std::set<std::string, std::less<>> fam = {"ip",  "ip6",    "inet",
                                                           "arp", "bridge", "netdev"};
    if (i < st.size() && fam.count(st[i].s) && i + 1 < st.size() && st[i + 1].k != Tok::K::punct)
      return st[i++].s;
    return "ip";
  }

  Table *table_of(const std::string &family, const std::string &name, const Tok &at, bool create) {
    if (Table *t = rs.find(family, name))
      return t;
    if (!create) {
      err(at, "table " + family + " " + text::printable(name) + " does not exist");
      return nullptr;
    }
    Table t;
    t.backend = "nft";
    t.family = family;
    t.name = name;
    t.families = family == "ip" ? 1 : family == "ip6" ? 2 : family == "inet" ? 3 : 0;
    t.loc = loc(at);
    rs.tables.push_back(std::move(t));
    return &rs.tables.back();
  }

  void top_level(int depth, Table *in_table) {
    for (;;) {
      skip_eols();
      if (at_end() || budget_spent)
        return;
      if (is("}")) {
        if (!in_table) {
          err(peek(), "unbalanced '}'");
          ++pos;
          continue;
        }
        return;
      }
      const Tok head = peek();
      if (head.k == Tok::K::punct) {
        err(head, "unexpected '" + head.s + "'");
        ++pos;
        continue;
      }
      std::string w = head.s;
      if (w == "include") {
        ++pos;
        if (peek().k != Tok::K::str) {
          err(head, "include needs a quoted file name");
          statement();
          continue;
        }
        std::string name = peek().s;
        ++pos;
        include(head, name, depth);
        continue;
      }
      if (w == "define" || w == "redefine") {
        ++pos;
        if (eol()) {
          err(head, "define without a name");
          continue;
        }
        std::string name = peek().s;
        ++pos;
        if (!is("=")) {
          err(head, "define " + text::printable(name) + " without '='");
          statement();
          continue;
        }
        ++pos;
        std::vector<Tok> v = statement();
        if (budget_spent)
          return;
        if (v.empty())
          err(head, "define " + text::printable(name) + " has no value");
        if (w == "define" && vars.count(name))
          err(head, "variable " + text::printable(name) + " already defined");
        vars[name] = v;
        continue;
      }
      if (w == "undefine") {
        ++pos;
        std::vector<Tok> v = statement();
        if (v.empty() || !vars.erase(v[0].s))
          err(head, "undefine of an undefined variable");
        continue;
      }
      std::vector<Tok> st = statement();
      if (budget_spent)
        return;
      command(st, depth);
      if (is("{")) {
        // a block after a command that did not take it
        err(peek(), "unexpected block");
        ++pos;
      }
    }
  }

  // A block "{ ... }" that belongs to a statement starts inside `st`; parse
  // its body. `st` holds tokens up to the end of the statement, braces
  // included (statement() keeps them balanced).
  void command(std::vector<Tok> &st, int depth) {
    if (st.empty())
      return;
    size_t i = 0;
    std::string verb = st[0].s;
    if (verb == "flush" && st.size() >= 2 && st[1].s == "ruleset") {
      // Only tables of the families given (none: all).
      std::string fam = st.size() >= 3 ? st[2].s : "";
      rs.tables.erase(
          std::remove_if(rs.tables.begin(), rs.tables.end(),
                         [&](const Table &t) { return fam.empty() || t.family == fam; }),
          rs.tables.end());
      return;
    }
    if (verb == "table") {
      i = 1;
      table_stmt(st, i, depth);
      return;
    }
    if (verb == "add" || verb == "create" || verb == "insert" || verb == "flush" ||
        verb == "delete" || verb == "destroy" || verb == "replace") {
      if (st.size() < 2) {
        err(st[0], "incomplete command");
        return;
      }
      std::string obj = st[1].s;
      i = 2;
      if (obj == "table") {
        if (verb == "flush" || verb == "delete" || verb == "destroy") {
          std::string fam = family_word(st, i);
          if (i >= st.size()) {
            err(st[0], "missing table name");
            return;
          }
          Table *t = rs.find(fam, st[i].s);
          if (!t) {
            if (verb != "destroy")
              err(st[0], "table " + fam + " " + text::printable(st[i].s) + " does not exist");
            return;
          }
          if (verb == "flush")
            for (auto &[n, c] : t->chains)
              c.rules.clear();
          else
            rs.tables.erase(rs.tables.begin() + (t - rs.tables.data()));
          return;
        }
        table_stmt(st, i, depth);
        return;
      }
      if (obj == "chain") {
        std::string fam = family_word(st, i);
        if (i + 1 >= st.size()) {
          err(st[0], "missing table or chain name");
          return;
        }
        Table *t = table_of(fam, st[i].s, st[0], false);
        if (!t)
          return;
        std::string cname = st[i + 1].s;
        i += 2;
        if (verb == "flush") {
          if (auto it = t->chains.find(cname); it != t->chains.end())
            it->second.rules.clear();
          else
            err(st[0], "chain " + text::printable(cname) + " does not exist");
          return;
        }
        if (verb == "delete" || verb == "destroy") {
          t->chains.erase(cname);
          return;
        }
        Chain &c = t->chains[cname];
        c.name = cname;
        if (i < st.size() && st[i].s == "{") {
          std::vector<Tok> body(st.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                                st.end() - (st.back().s == "}" ? 1 : 0));
          chain_spec(*t, c, body, st[0]);
        }
        return;
      }
      if (obj == "rule") {
        std::string fam = family_word(st, i);
        if (i + 1 >= st.size()) {
          err(st[0], "missing table or chain name");
          return;
        }
        Table *t = table_of(fam, st[i].s, st[0], false);
        if (!t)
          return;
        auto it = t->chains.find(st[i + 1].s);
        if (it == t->chains.end()) {
          err(st[0], "chain " + text::printable(st[i + 1].s) + " does not exist");
          return;
        }
        i += 2;
        size_t at = verb == "insert" ? 0 : it->second.rules.size();
        if (i + 1 < st.size() &&
            (st[i].s == "position" || st[i].s == "index" || st[i].s == "handle"))
          i += 2; // positions refer to a live ruleset: append (insert: first)
        if (verb == "delete" || verb == "replace") {
          warn(st[0], verb + " rule refers to a live handle: ignored");
          return;
        }
        std::vector<Tok> r(st.begin() + static_cast<std::ptrdiff_t>(i), st.end());
        Rule rule = parse_rule(*t, r, st[0]);
        it->second.rules.insert(it->second.rules.begin() + static_cast<std::ptrdiff_t>(at),
                                std::move(rule));
        return;
      }
      if (obj == "set" || obj == "map") {
        std::string fam = family_word(st, i);
        if (i + 1 >= st.size()) {
          err(st[0], "missing table or set name");
          return;
        }
        Table *t = table_of(fam, st[i].s, st[0], false);
        if (!t)
          return;
        std::string name = st[i + 1].s;
        i += 2;
        if (verb == "delete" || verb == "destroy") {
          t->sets.erase(name);
          return;
        }
        if (verb == "flush") {
          t->sets[name].elements.clear();
          return;
        }
        std::vector<Tok> body;
        if (i < st.size() && st[i].s == "{")
          body.assign(st.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                      st.end() - (st.back().s == "}" ? 1 : 0));
        set_spec(*t, name, body, st[0], obj == "map");
        return;
      }
      if (obj == "element") {
        std::string fam = family_word(st, i);
        if (i + 1 >= st.size()) {
          err(st[0], "missing table or set name");
          return;
        }
        Table *t = table_of(fam, st[i].s, st[0], false);
        if (!t)
          return;
        auto it = t->sets.find(st[i + 1].s);
        if (it == t->sets.end()) {
          err(st[0], "set " + text::printable(st[i + 1].s) + " does not exist");
          return;
        }
        i += 2;
        std::vector<Tok> els(st.begin() + static_cast<std::ptrdiff_t>(i), st.end());
        if (verb == "delete" || verb == "destroy")
          return;
        for (auto &e : elements(els))
          it->second.elements.push_back(e), it->second.element_locs.push_back(loc(st[0]));
        return;
      }
      warn(st[0], verb + " " + text::printable(obj) + ": not modelled");
      return;
    }
    if (verb == "list" || verb == "monitor" || verb == "describe" || verb == "reset") {
      warn(st[0], verb + ": not a ruleset command");
      return;
    }
    err(st[0], "unknown command '" + text::printable(verb) + "'");
  }

  // table [family] NAME [{ body }]
  void table_stmt(std::vector<Tok> &st, size_t &i, int depth) {
    (void)depth;
    std::string fam = family_word(st, i);
    static const std::set<std::string, std::less<>> fams = {"ip",  "ip6",    "inet",
                                                            "arp", "bridge", "netdev"};
    if (i >= st.size() || st[i].k == Tok::K::punct) {
      err(st[0], "table without a name");
      return;
    }
    std::string name = st[i].s;
    ++i;
    if (!fams.count(fam)) {
      err(st[0], "unknown family " + text::printable(fam));
      return;
    }
    Table *t = table_of(fam, name, st[0], true);
    if (i < st.size() && st[i].s == "{") {
      // The body was captured with the statement; re-lex it as statements.
      std::vector<Tok> body(st.begin() + static_cast<std::ptrdiff_t>(i) + 1,
                            st.end() - (st.back().s == "}" ? 1 : 0));
      table_body(*t, body);
    } else if (i < st.size()) {
      err(st[i], "unexpected '" + text::printable(st[i].s) + "' after table name");
    }
  }

  void table_body(Table &t, const std::vector<Tok> &body) { block_body(t, nullptr, body); }

  // Splits a captured block body into statements at newlines and ';' of
  // brace depth 0 (statement() kept them as eol tokens inside braces).
  // In a set or map block (`elements_may_close`), parser_bison.y's set_block
  // takes `elements = { ... }` without a separator before the closing brace
  // (`set a { type ipv4_addr; elements = { 10.0.0.1 } }` is valid for nft
  // 1.0.6); every other statement needs one.
  std::vector<std::vector<Tok>> split_statements(const std::vector<Tok> &body,
                                                 bool elements_may_close = false) {
    std::vector<std::vector<Tok>> out;
    std::vector<Tok> cur;
    int depth = 0;
    for (const Tok &t : body) {
      if (t.k == Tok::K::eol && depth == 0) {
        if (!cur.empty())
          out.push_back(std::move(cur));
        cur.clear();
        continue;
      }
      if (t.k == Tok::K::punct && t.s == "{")
        ++depth;
      if (t.k == Tok::K::punct && t.s == "}")
        --depth;
      cur.push_back(t); // eol inside nested braces: the nested block splits there
    }
    if (!cur.empty()) {
      // parser_bison.y: every statement of a block ends with a newline or
      // ';' ("unexpected '}', expecting newline or semicolon").
      if (!(elements_may_close && cur.front().s == "elements"))
        err(cur.back(), "expecting newline or ';' before '}'");
      out.push_back(std::move(cur));
    }
    return out;
  }

  void block_body(Table &t, Chain *c, const std::vector<Tok> &body) {
    for (auto &st : split_statements(body)) {
      if (st.empty())
        continue;
      const std::string &w = st[0].s;
      if (!c && w == "chain") {
        if (st.size() < 2) {
          err(st[0], "chain without a name");
          continue;
        }
        Chain &ch = t.chains[st[1].s];
        ch.name = st[1].s;
        if (st.size() >= 3 && st[2].s == "{") {
          std::vector<Tok> b(st.begin() + 3, st.end() - (st.back().s == "}" ? 1 : 0));
          chain_spec(t, ch, b, st[0]);
        }
        continue;
      }
      if (!c && (w == "set" || w == "map")) {
        if (st.size() < 2) {
          err(st[0], "set without a name");
          continue;
        }
        std::vector<Tok> b;
        if (st.size() >= 3 && st[2].s == "{")
          b.assign(st.begin() + 3, st.end() - (st.back().s == "}" ? 1 : 0));
        set_spec(t, st[1].s, b, st[0], w == "map");
        continue;
      }
      if (!c && w == "flags") {
        for (size_t k = 1; k < st.size(); ++k)
          if (st[k].s == "dormant") {
            // A dormant table registers no hooks: it filters nothing.
            t.families = 0;
            warn(st[0], "table " + t.name + " is dormant: it filters nothing");
          }
        continue;
      }
      if (!c) {
        static const std::set<std::string, std::less<>> skip = {
            "comment", "counter", "quota", "ct", "flowtable", "limit", "secmark", "synproxy"};
        if (!skip.count(w))
          err(st[0], "unexpected '" + text::printable(w) + "' in table " + t.name);
        continue;
      }
    }
  }

  void chain_spec(Table &t, Chain &c, const std::vector<Tok> &body, const Tok &at) {
    (void)at;
    auto stmts = split_statements(body);
    for (auto &st : stmts) {
      if (st.empty())
        continue;
      const std::string &w = st[0].s;
      if (w == "type") {
        // type T hook H [device D] priority P
        if (st.size() < 2) {
          err(st[0], "chain type without a value");
          continue;
        }
        c.type = st[1].s;
        c.base = true;
        size_t k = 2;
        while (k < st.size()) {
          if (st[k].s == "hook" && k + 1 < st.size()) {
            c.hook = st[k + 1].s;
            k += 2;
          } else if (st[k].s == "device" && k + 1 < st.size()) {
            k += 2;
          } else if (st[k].s == "devices") {
            k = st.size();
          } else if (st[k].s == "priority" && k + 1 < st.size()) {
            bool ok = true;
            int prio = 0;
            if (auto n = parse_long(st[k + 1].s))
              prio = static_cast<int>(*n);
            else
              prio = named_priority(st[k + 1].s, ok);
            if (!ok) {
              err(st[k], "unknown priority " + text::printable(st[k + 1].s));
            }
            k += 2;
            if (k + 1 < st.size() && (st[k].s == "+" || st[k].s == "-")) {
              if (auto n = parse_long(st[k + 1].s))
                prio += static_cast<int>(st[k].s == "+" ? *n : -*n);
              k += 2;
            }
            c.priority = prio;
          } else {
            err(st[k], "unexpected '" + text::printable(st[k].s) + "' in chain type");
            break;
          }
        }
        static const std::set<std::string, std::less<>> types = {"filter", "nat", "route"};
        if (!types.count(c.type))
          err(st[0], "unknown chain type " + text::printable(c.type));
        if (c.hook.empty())
          err(st[0], "base chain without a hook");
        c.policy_loc = loc(st[0]);
        continue;
      }
      if (w == "policy") {
        if (st.size() < 2 || (st[1].s != "accept" && st[1].s != "drop")) {
          err(st[0], "policy must be accept or drop");
          continue;
        }
        c.policy = st[1].s == "accept" ? Verdict::accept : Verdict::drop;
        c.policy_loc = loc(st[0]);
        c.policy_default = false;
        continue;
      }
      if (w == "comment" || w == "devices")
        continue;
      c.rules.push_back(parse_rule(t, st, st[0]));
    }
  }

  void set_spec(Table &t, const std::string &name, const std::vector<Tok> &body, const Tok &at,
                bool is_map) {
    Table::Set &s = t.sets[name];
    s.loc = loc(at);
    if (is_map)
      s.type = "map";
    for (auto &st : split_statements(body, true)) {
      if (st.empty())
        continue;
      const std::string &w = st[0].s;
      if (w == "type" || w == "typeof") {
        std::string ty;
        for (size_t k = 1; k < st.size(); ++k)
          ty += (ty.empty() ? "" : " ") + st[k].s;
        if (!is_map)
          s.type = ty;
      } else if (w == "flags") {
        for (size_t k = 1; k < st.size(); ++k)
          if (st[k].s == "dynamic" || st[k].s == "timeout")
            s.dynamic = true;
      } else if (w == "timeout") {
        s.dynamic = true;
      } else if (w == "elements") {
        std::vector<Tok> v(st.begin() + 1, st.end());
        if (!v.empty() && v[0].s == "=")
          v.erase(v.begin());
        for (auto &e : elements(v)) {
          s.elements.push_back(e);
          s.element_locs.push_back(loc(st[0]));
        }
      }
    }
  }

  // "{ a, b-c, d }" or "a" -> element strings (nested braces flattened).
  std::vector<std::string> elements(const std::vector<Tok> &v) {
    std::vector<std::string> out;
    std::string cur;
    for (const Tok &t : v) {
      if (t.k == Tok::K::eol)
        continue;
      if (t.k == Tok::K::punct && (t.s == "{" || t.s == "}" || t.s == ",")) {
        if (!cur.empty())
          out.push_back(cur);
        cur.clear();
        continue;
      }
      if (t.s == "timeout" || t.s == "expires" || t.s == "comment") {
        if (!cur.empty())
          out.push_back(cur);
        cur = "\x01"; // skip the option's value
        continue;
      }
      if (cur == "\x01") {
        cur.clear();
        continue;
      }
      cur += (cur.empty() ? "" : " ") + t.s;
    }
    if (!cur.empty() && cur != "\x01")
      out.push_back(cur);
    return out;
  }

  // ---- rules --------------------------------------------------------------

  struct Cursor {
    const std::vector<Tok> &t;
    size_t i = 0;
    bool end() const { return i >= t.size(); }
    const std::string &s() const {
      static const std::string e;
      return end() ? e : t[i].s;
    }
  };

  // Reads an optional relational operator, then a value: a word, a string,
  // an anonymous set "{...}" or a named set "@x". Returns the element
  // strings; `neg` for != ; `set_ref` for @x; `cmp` for < > <= >=.
  struct Value {
    std::vector<std::string> els;
    bool neg = false;
    std::string set_ref;
    std::string cmp;
    bool ok = true;
  };
  Value value(Cursor &c) {
    Value v;
    if (c.s() == "!=" || c.s() == "ne") {
      v.neg = true;
      ++c.i;
    } else if (c.s() == "==" || c.s() == "eq") {
      ++c.i;
    } else if (c.s() == "<" || c.s() == ">" || c.s() == "<=" || c.s() == ">=" || c.s() == "lt" ||
               c.s() == "gt" || c.s() == "le" || c.s() == "ge") {
      v.cmp = c.s();
      ++c.i;
    }
    if (c.end()) {
      v.ok = false;
      return v;
    }
    if (c.s() == "{") {
      int depth = 0;
      std::vector<Tok> in;
      while (!c.end()) {
        if (c.s() == "{")
          ++depth;
        if (c.s() == "}")
          --depth;
        in.push_back(c.t[c.i]);
        ++c.i;
        if (depth == 0)
          break;
      }
      v.els = elements(in);
      return v;
    }
    if (c.s().size() > 1 && c.s()[0] == '@') {
      v.set_ref = c.s().substr(1);
      ++c.i;
      return v;
    }
    std::string w = c.s();
    ++c.i;
    // "established,related": a comma list without braces (flags types)
    while (!c.end() && c.s() == "," && c.i + 1 < c.t.size()) {
      w += "," + c.t[c.i + 1].s;
      c.i += 2;
    }
    for (auto &p : text::split(w, ','))
      v.els.push_back(p);
    return v;
  }

  bool port_cond(const Value &v, Cond &c, std::string &bad) {
    for (auto &e : v.els) {
      auto dash = e.find('-');
      std::optional<uint32_t> lo, hi;
      if (dash != std::string::npos && dash > 0) {
        lo = nft_service_port(text::trim(e.substr(0, dash)));
        hi = nft_service_port(text::trim(e.substr(dash + 1)));
      } else {
        lo = hi = nft_service_port(text::trim(e));
      }
      if (!lo || !hi || *lo > *hi) {
        bad = e;
        return false;
      }
      uint32_t a = *lo, b = *hi;
      if (v.cmp == "<" || v.cmp == "lt")
        a = 0, b = *lo == 0 ? 0 : *lo - 1;
      else if (v.cmp == "<=" || v.cmp == "le")
        a = 0;
      else if (v.cmp == ">" || v.cmp == "gt")
        a = *lo + 1, b = 65535;
      else if (v.cmp == ">=" || v.cmp == "ge")
        b = 65535;
      c.ranges.push_back({a, b});
    }
    return true;
  }

  bool addr_cond(const Value &v, Cond &c, bool v6, std::string &bad) {
    for (auto &e : v.els) {
      auto dash = e.find('-');
      if (dash != std::string::npos && e.find('/') == std::string::npos) {
        auto lo = Addr::parse(text::trim(e.substr(0, dash)));
        auto hi = Addr::parse(text::trim(e.substr(dash + 1)));
        if (!lo || !hi || lo->v6 != v6 || hi->v6 != v6) {
          bad = e;
          return false;
        }
        c.nets.push_back({*lo, *hi});
        continue;
      }
      auto cidr = Cidr::parse(e);
      if (!cidr || cidr->addr.v6 != v6) {
        bad = e;
        return false;
      }
      AddrRange ar;
      ar.lo = ar.hi = cidr->addr;
      int n = v6 ? 16 : 4;
      for (int byte = 0; byte < n; ++byte)
        for (int bit = 0; bit < 8; ++bit)
          if (byte * 8 + bit >= cidr->prefix) {
            ar.lo.b[byte] &= static_cast<uint8_t>(~(0x80 >> bit));
            ar.hi.b[byte] |= static_cast<uint8_t>(0x80 >> bit);
          }
      c.nets.push_back(ar);
    }
    return true;
  }

  Rule parse_rule(Table &t, const std::vector<Tok> &st, const Tok &at) {
    Rule r;
    r.loc = loc(at);
    for (auto &tk : st)
      if (tk.k != Tok::K::eol)
        r.text += (r.text.empty() ? "" : " ") + (tk.k == Tok::K::str ? "\"" + tk.s + "\"" : tk.s);
    Cursor c{st};
    std::string unknown;
    auto flush_unknown = [&]() {
      if (unknown.empty())
        return;
      Cond u;
      u.kind = Cond::Kind::unknown;
      u.text = unknown;
      r.conds.push_back(u);
      unknown.clear();
    };
    auto bad = [&](const std::string &what) {
      err(st[std::min(c.i, st.size() - 1)], what + " in rule: " + text::printable(r.text));
    };
    // A condition on a value; for "... vmap { k : v }" builds a verdict map.
    auto finish = [&](Cond cond, const Value &v, bool is_port, bool is_addr, bool v6) -> bool {
      cond.neg = v.neg;
      cond.set_ref = v.set_ref;
      cond.loc = r.loc;
      std::string b;
      if (v.set_ref.empty()) {
        if (is_port && !port_cond(v, cond, b)) {
          bad("bad port '" + text::printable(b) + "'");
          return false;
        }
        if (is_addr && !addr_cond(v, cond, v6, b)) {
          bad("bad address '" + text::printable(b) + "'");
          return false;
        }
        if (!is_port && !is_addr)
          cond.names = v.els;
      }
      r.conds.push_back(std::move(cond));
      return true;
    };
    auto vmap_or_value = [&](const Cond &cond, bool is_port, bool is_addr, bool v6) {
      if (c.s() == "vmap") {
        ++c.i;
        Value v = value(c);
        VerdictMap vm;
        vm.key = cond;
        for (auto &e : v.els) {
          auto colon = e.find(" : ");
          if (colon == std::string::npos) {
            bad("verdict map element without ':'");
            continue;
          }
          VerdictMap::Entry en;
          Value ev;
          ev.els = {e.substr(0, colon)};
          en.values = cond;
          std::string b;
          if ((is_port && !port_cond(ev, en.values, b)) ||
              (is_addr && !addr_cond(ev, en.values, v6, b))) {
            bad("bad verdict map key '" + text::printable(e.substr(0, colon)) + "'");
            continue;
          }
          if (!is_port && !is_addr)
            en.values.names = ev.els;
          std::string vs = e.substr(colon + 3);
          auto sp = vs.find(' ');
          std::string verb = vs.substr(0, sp);
          en.target = sp == std::string::npos ? "" : vs.substr(sp + 1);
          en.verdict = verb == "accept"   ? Verdict::accept
                       : verb == "drop"   ? Verdict::drop
                       : verb == "reject" ? Verdict::reject
                       : verb == "jump"   ? Verdict::jump
                       : verb == "goto"   ? Verdict::go
                       : verb == "return" ? Verdict::ret
                                          : Verdict::cont;
          vm.entries.push_back(en);
        }
        if (!v.set_ref.empty()) {
          Cond u;
          u.kind = Cond::Kind::unknown;
          u.text = "vmap @" + v.set_ref;
          r.conds.push_back(u);
          return;
        }
        r.vmap = std::move(vm);
        return;
      }
      Value v = value(c);
      if (!v.ok) {
        bad("missing value");
        return;
      }
      finish(cond, v, is_port, is_addr, v6);
    };
    auto proto_cond = [&](int p) {
      Cond pc;
      pc.kind = Cond::Kind::proto;
      pc.ranges.push_back({static_cast<uint32_t>(p), static_cast<uint32_t>(p)});
      r.conds.push_back(pc);
    };
    auto fam_cond = [&](uint8_t m) {
      Cond fc;
      fc.kind = Cond::Kind::family;
      fc.mask = m;
      r.conds.push_back(fc);
    };
    auto rate = [&](bool over, std::string txt) {
      Cond rc;
      rc.kind = over ? Cond::Kind::rate_block : Cond::Kind::rate_pass;
      rc.text = std::move(txt);
      r.conds.push_back(rc);
    };
    while (!c.end()) {
      std::string w = c.s();
      if (!unknown.empty() && !k_stmt_words.count(w)) {
        unknown += " " + w;
        ++c.i;
        continue;
      }
      flush_unknown();
      ++c.i;
      if (w == "iif" || w == "iifname" || w == "oif" || w == "oifname" ||
          (w == "meta" &&
           (c.s() == "iif" || c.s() == "iifname" || c.s() == "oif" || c.s() == "oifname"))) {
        if (w == "meta")
          w = c.t[c.i++].s;
        Cond ic;
        ic.kind = w[0] == 'i' ? Cond::Kind::iif : Cond::Kind::oif;
        vmap_or_value(ic, false, false, false);
        continue;
      }
      if ((w == "ip" || w == "ip6") && (c.s() == "saddr" || c.s() == "daddr")) {
        bool v6 = w == "ip6";
        Cond ac;
        ac.kind = c.s() == "saddr" ? Cond::Kind::saddr : Cond::Kind::daddr;
        ++c.i;
        if (t.family == "inet")
          fam_cond(v6 ? 2 : 1);
        else if ((t.family == "ip" && v6) || (t.family == "ip6" && !v6)) {
          bad("expression of the other family");
          continue;
        }
        vmap_or_value(ac, false, true, v6);
        continue;
      }
      if ((w == "ip" && c.s() == "protocol") || (w == "ip6" && c.s() == "nexthdr") ||
          (w == "meta" && c.s() == "l4proto")) {
        if (w == "ip" && t.family == "inet")
          fam_cond(1);
        if (w == "ip6" && t.family == "inet")
          fam_cond(2);
        ++c.i;
        Value v = value(c);
        Cond pc;
        pc.kind = Cond::Kind::proto;
        pc.neg = v.neg;
        for (auto &e : v.els) {
          auto n = l4proto(e);
          if (!n) {
            bad("unknown protocol '" + text::printable(e) + "'");
            continue;
          }
          pc.ranges.push_back({static_cast<uint32_t>(*n), static_cast<uint32_t>(*n)});
        }
        if (!v.set_ref.empty() || !v.cmp.empty()) {
          pc.kind = Cond::Kind::unknown;
          pc.text = w + " protocol set";
        }
        r.conds.push_back(pc);
        continue;
      }
      if ((w == "meta" && c.s() == "nfproto") || (w == "meta" && c.s() == "protocol")) {
        ++c.i;
        Value v = value(c);
        uint8_t m = 0;
        for (auto &e : v.els)
          m |= (e == "ipv4" || e == "ip") ? 1 : (e == "ipv6" || e == "ip6") ? 2 : 0;
        Cond fc;
        fc.kind = Cond::Kind::family;
        fc.mask = m;
        fc.neg = v.neg;
        r.conds.push_back(fc);
        continue;
      }
      if ((w == "tcp" || w == "udp" || w == "th" || w == "sctp" || w == "udplite" || w == "dccp") &&
          (c.s() == "dport" || c.s() == "sport")) {
        if (w == "tcp")
          proto_cond(6);
        else if (w == "udp")
          proto_cond(17);
        else if (w == "sctp")
          proto_cond(132);
        else if (w == "udplite")
          proto_cond(136);
        else if (w == "dccp")
          proto_cond(33);
        Cond pc;
        pc.kind = c.s() == "dport" ? Cond::Kind::dport : Cond::Kind::sport;
        ++c.i;
        vmap_or_value(pc, true, false, false);
        continue;
      }
      if (w == "tcp" && c.s() == "flags") {
        // "tcp flags syn", "tcp flags & (syn|ack) == syn": not modelled.
        proto_cond(6);
        unknown = "tcp flags";
        ++c.i;
        continue;
      }
      if ((w == "icmp" || w == "icmpv6") && c.s() == "type") {
        proto_cond(w == "icmp" ? 1 : 58);
        ++c.i;
        if (c.s() == "vmap") {
          ++c.i;
          value(c);
          continue;
        }
        value(c);
        continue;
      }
      if (w == "ct" && c.s() == "state") {
        ++c.i;
        Cond sc;
        sc.kind = Cond::Kind::ctstate;
        if (c.s() == "vmap") {
          ++c.i;
          Value v = value(c);
          VerdictMap vm;
          vm.key = sc;
          for (auto &e : v.els) {
            auto colon = e.find(" : ");
            if (colon == std::string::npos)
              continue;
            VerdictMap::Entry en;
            en.values = sc;
            for (auto &s : text::split(e.substr(0, colon), ','))
              en.values.mask |= ct_bit(text::trim(s));
            std::string vs = e.substr(colon + 3);
            auto sp = vs.find(' ');
            std::string verb = vs.substr(0, sp);
            en.target = sp == std::string::npos ? "" : vs.substr(sp + 1);
            en.verdict = verb == "accept"   ? Verdict::accept
                         : verb == "drop"   ? Verdict::drop
                         : verb == "reject" ? Verdict::reject
                         : verb == "jump"   ? Verdict::jump
                         : verb == "goto"   ? Verdict::go
                         : verb == "return" ? Verdict::ret
                                            : Verdict::cont;
            vm.entries.push_back(en);
          }
          r.vmap = std::move(vm);
          continue;
        }
        Value v = value(c);
        sc.neg = v.neg;
        for (auto &e : v.els) {
          uint8_t b = ct_bit(e);
          if (!b && e != "snat" && e != "dnat")
            bad("unknown ct state '" + text::printable(e) + "'");
          sc.mask |= b;
        }
        r.conds.push_back(sc);
        continue;
      }
      if (w == "ct" && c.s() == "count") {
        ++c.i;
        bool over = false;
        if (c.s() == "over") {
          over = true;
          ++c.i;
        }
        std::string n = c.s();
        ++c.i;
        rate(over, "ct count " + std::string(over ? "over " : "") + n);
        continue;
      }
      if (w == "limit") {
        // limit rate [over] N/unit [burst N packets|bytes]
        std::string txt = "limit";
        bool over = false;
        while (!c.end() && !k_stmt_words.count(c.s())) {
          if (c.s() == "over")
            over = true;
          txt += " " + c.s();
          ++c.i;
        }
        rate(over, txt);
        continue;
      }
      if (w == "meter" || ((w == "add" || w == "update") && !c.end() && c.s()[0] == '@')) {
        // meter NAME [size N] { key limit rate [over] ... }
        std::string txt = w;
        bool has_limit = false, over = false, has_count = false;
        int depth = 0;
        while (!c.end()) {
          const std::string &x = c.s();
          if (x == "{")
            ++depth;
          if (x == "}")
            --depth;
          if (x == "limit")
            has_limit = true;
          if (x == "ct" && c.i + 1 < c.t.size() && c.t[c.i + 1].s == "count")
            has_count = true;
          if (x == "over")
            over = true;
          if (c.t[c.i].k != Tok::K::eol)
            txt += " " + x;
          ++c.i;
          if (depth == 0 && x == "}")
            break;
        }
        if (has_limit || has_count)
          rate(over, txt);
        continue;
      }
      if (w == "fib" && c.s() == "daddr") {
        // fib daddr type local|multicast|broadcast
        ++c.i;
        if (c.s() == "type") {
          ++c.i;
          Value v = value(c);
          Cond fc;
          fc.kind = Cond::Kind::dst_local;
          fc.neg = v.neg;
          for (auto &e : v.els)
            fc.mask |= e == "local" ? 1 : (e == "multicast" || e == "broadcast") ? 2 : 4;
          if (fc.mask & 4)
            fc.kind = Cond::Kind::unknown, fc.text = "fib daddr type";
          r.conds.push_back(fc);
          continue;
        }
        unknown = "fib daddr";
        continue;
      }
      if (w == "counter") {
        while (c.s() == "packets" || c.s() == "bytes" || c.s() == "name")
          c.i += 2;
        continue;
      }
      if (w == "log") {
        while (c.s() == "prefix" || c.s() == "level" || c.s() == "group" || c.s() == "snaplen" ||
               c.s() == "queue-threshold" || c.s() == "flags")
          c.i += 2;
        continue;
      }
      if (w == "comment") {
        ++c.i;
        continue;
      }
      if (w == "notrack")
        continue;
      if (w == "accept" || w == "drop" || w == "return" || w == "continue") {
        r.verdict = w == "accept"   ? Verdict::accept
                    : w == "drop"   ? Verdict::drop
                    : w == "return" ? Verdict::ret
                                    : Verdict::cont;
        continue;
      }
      if (w == "reject") {
        r.verdict = Verdict::reject;
        if (c.s() == "with") {
          c.i += 2;
          if (c.s() == "type" || c.s() == "reset")
            c.i += c.s() == "type" ? 2 : 1;
          else if (!c.end() && !k_stmt_words.count(c.s()))
            ++c.i;
        }
        continue;
      }
      if (w == "queue") {
        r.verdict = Verdict::queue;
        while (!c.end() && !k_stmt_words.count(c.s()))
          ++c.i;
        continue;
      }
      if (w == "jump" || w == "goto") {
        if (c.end()) {
          bad(w + " without a chain");
          continue;
        }
        r.verdict = w == "jump" ? Verdict::jump : Verdict::go;
        r.target = c.s();
        ++c.i;
        continue;
      }
      if (w == "masquerade" || w == "snat" || w == "dnat" || w == "redirect") {
        while (!c.end() && !k_stmt_words.count(c.s()))
          ++c.i;
        continue;
      }
      if ((w == "meta" || w == "ct") && c.i + 1 < c.t.size() && c.t[c.i + 1].s == "set") {
        c.i += 3; // meta mark set X, ct mark set X: no effect on the verdict
        continue;
      }
      if (w == "mark" && c.s() == "set") {
        c.i += 2;
        continue;
      }
      unknown = w;
    }
    flush_unknown();
    return r;
  }

  static uint8_t ct_bit(std::string_view e) {
    if (e == "new")
      return ct_new;
    if (e == "established")
      return ct_established;
    if (e == "related")
      return ct_related;
    if (e == "invalid")
      return ct_invalid;
    if (e == "untracked")
      return ct_untracked;
    return 0;
  }

  // After the whole file: resolve @set references and check jump targets.
  void resolve() {
    for (Table &t : rs.tables)
      if (auto loop = find_jump_loop(t, true))
        rs.diagnostics.push_back({Diagnostic::Level::error, *loop,
                                  "this jump closes a loop of chains (nft: Too many links)"});
    for (Table &t : rs.tables)
      for (auto &[cn, ch] : t.chains)
        for (Rule &r : ch.rules) {
          for (Cond &c : r.conds) {
            if (c.set_ref.empty())
              continue;
            auto it = t.sets.find(c.set_ref);
            if (it == t.sets.end()) {
              rs.diagnostics.push_back(
                  {Diagnostic::Level::error, r.loc,
                   "set @" + text::printable(c.set_ref) + " does not exist in table " + t.name});
              c.runtime_set = true;
              continue;
            }
            if (it->second.dynamic)
              c.runtime_set = true;
            std::string b;
            Value v;
            v.els = it->second.elements;
            bool v6 = it->second.type.find("ipv6") != std::string::npos ||
                      it->second.type.find("ip6") != std::string::npos;
            bool ok = true;
            if (c.kind == Cond::Kind::dport || c.kind == Cond::Kind::sport)
              ok = port_cond(v, c, b);
            else if (c.kind == Cond::Kind::saddr || c.kind == Cond::Kind::daddr)
              ok = addr_cond(v, c, v6, b);
            else
              c.names = v.els;
            if (!ok) {
              rs.diagnostics.push_back(
                  {Diagnostic::Level::error, it->second.loc,
                   "set @" + c.set_ref + ": bad element '" + text::printable(b) + "'"});
              c.runtime_set = true;
            }
          }
          auto check = [&](Verdict v, const std::string &target) {
            if ((v == Verdict::jump || v == Verdict::go) && !t.chains.count(target))
              rs.diagnostics.push_back({Diagnostic::Level::error, r.loc,
                                        "jump to chain " + text::printable(target) +
                                            " that does not exist in table " + t.name});
            if ((v == Verdict::jump || v == Verdict::go) && t.chains.count(target) &&
                t.chains.at(target).base)
              rs.diagnostics.push_back({Diagnostic::Level::error, r.loc,
                                        "jump to base chain " + text::printable(target)});
          };
          check(r.verdict, r.target);
          if (r.vmap)
            for (auto &e : r.vmap->entries)
              check(e.verdict, e.target);
        }
  }
};

} // namespace

Ruleset parse_nft_text(const RootFs &fs, const std::string &path, std::string_view text,
                       const NftOptions &opts) {
  Ruleset rs;
  NftParser p{fs, opts, rs, {}, 0, {}, 0, 0};
  p.load(path, text, 0);
  p.resolve();
  return rs;
}

Ruleset parse_nft_file(const RootFs &fs, const std::string &path, const NftOptions &opts) {
  auto t = fs.read_file(path, opts.max_file_bytes);
  if (!t.ok()) {
    Ruleset rs;
    rs.diagnostics.push_back({Diagnostic::Level::error, {path, 0}, t.error().message});
    return rs;
  }
  return parse_nft_text(fs, path, *t, opts);
}

} // namespace bulwark::fw
