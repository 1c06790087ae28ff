#include <bulwark/core/text.hpp>
#include <bulwark/parse/sshd_config.hpp>

#include <algorithm>
#include <climits>
#include <cstring>
#include <set>

namespace bulwark::ssh {

namespace {

constexpr int k_sshd_config_max_include_depth = 16; // SERVCONF_MAX_DEPTH
constexpr const char *k_sshd_config_whitespace = " \t\r\n";

// misc.c strdelim(): the next token of `s` from `pos`, split at whitespace,
// a double quote or (split_equals) one '='. Returns nullopt on an unmatched
// quote; sets pos to npos when the string is used up.
std::optional<std::string> strdelim(const std::string &s, size_t &pos, bool split_equals = true) {
  if (pos == std::string::npos)
    return std::nullopt;
  size_t start = pos;
  const char *delims = split_equals ? " \t\r\n\"=" : " \t\r\n\"";
  size_t d = s.find_first_of(delims, pos);
  if (d == std::string::npos) {
    pos = std::string::npos;
    return s.substr(start);
  }
  if (s[d] == '"') {
    // The token is what follows the quote up to the next quote; text before
    // the opening quote is dropped by memmove in the C code only when the
    // quote is the first delimiter, so keep it.
    std::string head = s.substr(start, d - start);
    size_t close = s.find('"', d + 1);
    if (close == std::string::npos)
      return std::nullopt;
    std::string tok = head + s.substr(d + 1, close - d - 1);
    size_t next = close + 1;
    while (next < s.size() && std::strchr(k_sshd_config_whitespace, s[next]) != nullptr)
      ++next;
    pos = next;
    return tok;
  }
  bool wspace = split_equals && s[d] == '=';
  std::string tok = s.substr(start, d - start);
  size_t next = d + 1;
  while (next < s.size() && std::strchr(k_sshd_config_whitespace, s[next]) != nullptr)
    ++next;
  if (split_equals && next < s.size() && s[next] == '=' && !wspace) {
    ++next;
    while (next < s.size() && std::strchr(k_sshd_config_whitespace, s[next]) != nullptr)
      ++next;
  }
  pos = next;
  return tok;
}

// misc.c argv_split(s, ..., terminate_on_comment=1). nullopt on bad quotes.
std::optional<std::vector<std::string>> argv_split(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    if (s[i] == ' ' || s[i] == '\t') {
      ++i;
      continue;
    }
    if (s[i] == '#')
      break;
    char quote = 0;
    std::string arg;
    for (; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\\') {
        char n = i + 1 < s.size() ? s[i + 1] : '\0';
        if (n == '\'' || n == '"' || n == '\\' || (quote == 0 && n == ' ')) {
          ++i;
          arg += s[i];
        } else {
          arg += c;
        }
      } else if (quote == 0 && (c == ' ' || c == '\t')) {
        break;
      } else if (quote == 0 && (c == '"' || c == '\'')) {
        quote = c;
      } else if (quote != 0 && c == quote) {
        quote = 0;
      } else {
        arg += c;
      }
    }
    if (quote != 0)
      return std::nullopt;
    out.push_back(std::move(arg));
  }
  return out;
}

bool sshd_config_parse_int(std::string_view s, long long &out) {
  // strtonum(s, 0, INT_MAX): decimal, optional sign, no trailing garbage.
  if (s.empty())
    return false;
  std::string tmp(s);
  errno = 0;
  char *end = nullptr;
  long long v = std::strtoll(tmp.c_str(), &end, 10);
  if (end == tmp.c_str() || *end != '\0' || errno == ERANGE || v < 0 || v > INT_MAX)
    return false;
  out = v;
  return true;
}

struct SshdConfigParser {
  const RootFs &fs;
  const ParseOptions &opts;
  SshdConfig &cfg;
  size_t total_bytes = 0;
  size_t included_files = 0;
  bool budget_spent = false;

  void diag(Diagnostic::Level lvl, std::string msg, const SourceLocation &loc) {
    cfg.diagnostics.push_back(Diagnostic{lvl, std::move(msg), loc});
  }

  void parse_text(const std::string &path, std::string_view text, int depth);
  void parse_line(const std::string &path, int lineno, std::string line, int depth);
  void do_include(const Line &inc_line, const std::vector<std::string> &args, int depth);
  bool validate(const Keyword &kw, const std::vector<std::string> &args, const SourceLocation &loc,
                const std::string &raw_kw);
  void parse_match(Line &l, const std::string &rest);
};

void SshdConfigParser::parse_text(const std::string &path, std::string_view text, int depth) {
  cfg.files.push_back(path);
  int lineno = 0;
  size_t i = 0;
  std::string carry;  // sshd appends a line up to its NUL without the newline
  int carry_line = 0; // physical line where the carried text began
  while (i <= text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos) {
      if (i == text.size())
        break;
      nl = text.size();
    }
    ++lineno;
    std::string_view raw = text.substr(i, nl - i);
    i = nl + 1;
    // load_server_config() copies each line with strlen(): a NUL cuts the
    // line and its newline, so what follows joins the next line.
    size_t b = raw.find_first_not_of(" \t\r");
    std::string_view kept = b == std::string_view::npos ? std::string_view() : raw.substr(b);
    size_t nul = kept.find('\0');
    if (nul != std::string_view::npos) {
      if (carry.empty())
        carry_line = lineno;
      carry += std::string(kept.substr(0, nul));
      continue;
    }
    int at = carry.empty() ? lineno : carry_line;
    std::string line = std::move(carry);
    carry.clear();
    line += kept;
    if (line.empty())
      continue;
    parse_line(path, at, std::move(line), depth);
  }
  // Text carried past a NUL on the last line is still in sshd's buffer at
  // end of file, and parse_server_config() applies it as the file's last
  // line: dropping it let `PasswordAuthentication yes\0` pass unseen (and a
  // UTF-16 file, whose every line has a NUL, parse as empty).
  if (!carry.empty())
    parse_line(path, carry_line, std::move(carry), depth);
}

bool SshdConfigParser::validate(const Keyword &kw, const std::vector<std::string> &args,
                                const SourceLocation &loc, const std::string &raw_kw) {
  auto bad = [&](const std::string &m) {
    diag(Diagnostic::Level::error, m, loc);
    return false;
  };
  if (kw.kind == ValueKind::rest || kw.kind == ValueKind::ignored)
    return true;
  if (args.empty() || (args[0].empty() && kw.kind != ValueKind::words))
    return bad("missing argument for " + raw_kw);
  if (static_cast<int>(args.size()) < kw.min_args)
    return bad(raw_kw + ": missing argument");
  const std::string &a = args[0];
  switch (kw.kind) {
  case ValueKind::flag:
  case ValueKind::multistate: {
    std::string choices = kw.kind == ValueKind::flag ? "yes,no" : kw.choices;
    bool ok = false;
    for (auto &c : text::split(choices, ','))
      if (text::iequals(c.substr(0, c.find(':')), a))
        ok = true;
    if (!ok)
      return bad("unsupported option \"" + text::printable(a) + "\" for " + raw_kw);
    break;
  }
  case ValueKind::integer: {
    long long v;
    if (!sshd_config_parse_int(a, v))
      return bad(raw_kw + ": integer value \"" + text::printable(a) + "\" is invalid");
    break;
  }
  case ValueKind::time:
    if (!convtime(a))
      return bad(raw_kw + ": invalid time value \"" + text::printable(a) + "\"");
    break;
  case ValueKind::words:
    if (std::string_view(kw.canonical) == "authenticationmethods") {
      // auth2_methods_valid(): comma lists of known methods; "any" alone.
      static const std::set<std::string> methods = {
          "gssapi-with-mic", "publickey", "keyboard-interactive", "password", "hostbased", "none"};
      for (auto &list : args) {
        if (list == "any")
          continue;
        for (auto &m : text::split(list, ',', true))
          if (methods.count(m.substr(0, m.find(':'))) == 0)
            return bad("invalid " + raw_kw + " method list \"" + text::printable(list) + "\"");
      }
    }
    break;
  case ValueKind::algorithms: {
    std::string which;
    if (a.empty())
      return bad(raw_kw + ": missing argument");
    if (!algorithms_valid(kw.choices, a, &which))
      return bad(raw_kw + ": bad algorithm \"" + text::printable(which) + "\" in \"" +
                 text::printable(a) + "\"");
    break;
  }
  default: break;
  }
  if (kw.max_args >= 0 && static_cast<int>(args.size()) > kw.max_args)
    return bad("keyword " + raw_kw + " extra arguments at end of line");
  return true;
}

void SshdConfigParser::parse_match(Line &l, const std::string &rest) {
  size_t pos = 0;
  int attributes = 0;
  auto fail = [&](const std::string &m) {
    l.match_valid = false;
    diag(Diagnostic::Level::error, "Bad Match condition: " + m, l.loc);
  };
  while (true) {
    auto attr = strdelim(rest, pos);
    if (!attr || attr->empty())
      break;
    if ((*attr)[0] == '#')
      break;
    ++attributes;
    std::string a = text::lower(*attr);
    if (a == "all") {
      size_t p2 = pos;
      auto arg = strdelim(rest, p2);
      if (attributes > 1 || (arg && !arg->empty() && (*arg)[0] != '#')) {
        fail("'all' cannot be combined with other Match attributes");
        return;
      }
      l.match_all = true;
      return;
    }
    auto arg = strdelim(rest, pos);
    if (!arg || arg->empty() || (*arg)[0] == '#') {
      fail("missing Match criteria for " + *attr);
      return;
    }
    static const std::set<std::string> known = {"user",         "group",     "host",   "address",
                                                "localaddress", "localport", "rdomain"};
    if (known.count(a) == 0) {
      fail("unsupported Match attribute " + text::printable(*attr));
      return;
    }
    if (a == "localport") {
      long long v;
      if (!sshd_config_parse_int(*arg, v) || v <= 0 || v > 65535) {
        fail("invalid LocalPort '" + text::printable(*arg) + "'");
        return;
      }
    }
    if ((a == "address" || a == "localaddress") && addr_match_list(std::nullopt, *arg) == -2) {
      fail("invalid " + *attr + " list '" + text::printable(*arg) + "'");
      return;
    }
    l.criteria.push_back(MatchCriterion{a, *arg});
  }
  if (attributes == 0)
    fail("one or more attributes required for Match");
}

void SshdConfigParser::parse_line(const std::string &path, int lineno, std::string line,
                                  int depth) {
  SourceLocation loc{path, lineno};
  // Trailing whitespace (and form feeds) go.
  while (line.size() > 1 && std::strchr(" \t\r\n\f", line.back()) != nullptr)
    line.pop_back();
  size_t pos = 0;
  auto keyword = strdelim(line, pos);
  if (keyword && keyword->empty())
    keyword = strdelim(line, pos);
  if (!keyword) {
    // An unmatched quote in the keyword position: sshd sees no keyword.
    return;
  }
  if (keyword->empty() || (*keyword)[0] == '#')
    return;
  std::string rest = pos == std::string::npos ? std::string() : line.substr(pos);
  if (rest.empty()) {
    diag(Diagnostic::Level::error,
         "no argument after keyword \"" + text::printable(*keyword) + "\"", loc);
    return;
  }
  std::string lk = text::lower(*keyword);
  const Keyword *kw = find_keyword(lk);
  if (kw == nullptr) {
    diag(Diagnostic::Level::error, "Bad configuration option: " + text::printable(*keyword), loc);
    return;
  }
  auto args = argv_split(rest);
  if (!args) {
    diag(Diagnostic::Level::error, "invalid quotes", loc);
    return;
  }
  Line l;
  l.loc = loc;
  l.keyword = kw;
  l.raw_keyword = *keyword;
  if (lk == "match") {
    l.kind = Line::Kind::match;
    l.match_text = std::string(text::trim(rest));
    parse_match(l, rest);
    cfg.lines.push_back(std::move(l));
    return;
  }
  if (lk == "include") {
    l.args = *args;
    cfg.lines.push_back(l); // the Include directive itself, for evidence
    if (depth >= k_sshd_config_max_include_depth) {
      diag(Diagnostic::Level::error,
           "Too many recursive configuration includes (Include loop through " +
               text::printable(path) + "?)",
           loc);
      return;
    }
    do_include(l, *args, depth);
    return;
  }
  if (kw->kind == ValueKind::rest) {
    size_t b = rest.find_first_not_of(k_sshd_config_whitespace);
    l.args = {b == std::string::npos ? std::string() : rest.substr(b)};
  } else {
    l.args = std::move(*args);
  }
  if (kw->kind == ValueKind::ignored) {
    std::string_view why = kw->choices;
    if (why == "fatal")
      diag(Diagnostic::Level::error,
           "setting " + text::printable(*keyword) + " not supported on this platform", loc);
    else if (why != "silent")
      diag(Diagnostic::Level::warning,
           std::string(why == "unsupported" ? "Unsupported" : "Deprecated") + " option " +
               text::printable(*keyword) + " (ignored by OpenSSH 9.2)",
           loc);
  }
  if (!validate(*kw, l.args, loc, *keyword))
    return; // sshd refuses the file; the line has no effect we could model
  cfg.lines.push_back(std::move(l));
}

void SshdConfigParser::do_include(const Line &inc_line, const std::vector<std::string> &args,
                                  int depth) {
  if (args.empty()) {
    diag(Diagnostic::Level::error, "Include missing filename argument", inc_line.loc);
    return;
  }
  for (const auto &a : args) {
    if (a.empty()) {
      diag(Diagnostic::Level::error, "Include: empty argument", inc_line.loc);
      return;
    }
    std::string pattern = a[0] == '/' ? a : opts.include_base + "/" + a;
    auto matches = fs.glob(pattern);
    if (!matches || matches->empty()) {
      bool magic = a.find_first_of("*?[") != std::string::npos;
      // sshd silently accepts an Include that matches nothing; a literal
      // path that is absent is still worth a warning.
      if (!magic)
        diag(Diagnostic::Level::warning,
             "Include " + text::printable(a) + " names a file that does not exist", inc_line.loc);
      continue;
    }
    for (const auto &file : *matches) {
      if (budget_spent)
        return;
      if (++included_files > opts.max_included_files) {
        budget_spent = true;
        diag(Diagnostic::Level::error,
             "Include: the configuration includes more than " +
                 std::to_string(opts.max_included_files) +
                 " files (an Include fan-out or loop); the rest is not read",
             inc_line.loc);
        return;
      }
      auto content = fs.read_file(file, opts.max_file_bytes);
      if (!content) {
        if (content.error().sys_errno == EISDIR) {
          // fopen() of a directory succeeds and getline() returns nothing.
          diag(Diagnostic::Level::warning, "Include " + file + " is a directory (read as empty)",
               inc_line.loc);
          content = std::string();
        } else {
          diag(Diagnostic::Level::error,
               "cannot read included file: " + content.error().to_string(), inc_line.loc);
          continue;
        }
      }
      total_bytes += content->size();
      if (total_bytes > opts.max_total_bytes) {
        budget_spent = true;
        diag(Diagnostic::Level::error,
             "Include: the configuration and its includes exceed " +
                 std::to_string(opts.max_total_bytes / (1024 * 1024)) +
                 " MiB in all; the rest is not read",
             inc_line.loc);
        return;
      }
      Line begin;
      begin.kind = Line::Kind::include_begin;
      begin.loc = SourceLocation{file, 0};
      cfg.lines.push_back(begin);
      parse_text(file, *content, depth + 1);
      Line end;
      end.kind = Line::Kind::include_end;
      end.loc = SourceLocation{file, 0};
      cfg.lines.push_back(end);
    }
  }
}

// One of sshd's two passes over the configuration.
struct Pass {
  const SshdConfig &cfg;
  const ConnectionSpec *ci; // nullptr: the first pass, no connection
  const UserDb *users;
  int forced_block = -2; // evaluate_block(): the Match line treated as satisfied
  std::map<std::string, Value> values;
  // First pass only: where sshd's own first-pass errors are recorded.
  std::vector<Diagnostic> *diagnostics = nullptr;

  // Errors servconf.c raises while reading without a connection: a keyword
  // that Match does not allow in a block that is not active (a `Match all`
  // block is), and AuthenticationMethods "any" once a list was applied
  // (checked against the value already set, whether this line is active
  // or not) or followed by other methods.
  void first_pass_errors(const Line &l, bool active) {
    auto error = [&](std::string msg) {
      diagnostics->push_back(Diagnostic{Diagnostic::Level::error, std::move(msg), l.loc});
    };
    if (!active && !l.keyword->match_ok) {
      error("Directive '" + l.raw_keyword + "' is not allowed within a Match block");
      return;
    }
    if (std::string_view(l.keyword->canonical) != "authenticationmethods")
      return;
    bool set = values.count("authenticationmethods") > 0;
    size_t count = set ? 1 : 0;
    bool seen_any = false;
    for (auto &a : l.args) {
      if (a == "any" ? count > 0 : seen_any) {
        error("\"any\" must appear alone in " + l.raw_keyword);
        return;
      }
      seen_any = seen_any || a == "any";
      if (!set && active)
        ++count;
    }
  }

  bool matches(const Line &m) const {
    if (!m.match_valid)
      return false;
    if (m.match_all)
      return true;
    if (forced_block != -2)
      return false; // decided by line index in run()
    if (ci == nullptr)
      return false;
    bool result = true;
    for (auto &c : m.criteria) {
      if (c.attribute == "user") {
        if (!ci->user || match_pattern_list(*ci->user, c.argument, false) != 1)
          result = false;
      } else if (c.attribute == "group") {
        if (!ci->user) {
          result = false;
          continue;
        }
        auto groups = users ? users->groups(*ci->user) : std::nullopt;
        bool any = false;
        if (groups) {
          // ga_match_pattern_list(): a negated match on any group fails all.
          for (auto &g : *groups) {
            int r = match_pattern_list(g, c.argument, false);
            if (r == -1) {
              any = false;
              break;
            }
            if (r == 1)
              any = true;
          }
        }
        if (!any)
          result = false;
      } else if (c.attribute == "host") {
        // match_hostname(): the host name is lowercased, and so is the pattern.
        if (!ci->host || match_pattern_list(text::lower(*ci->host), c.argument, true) != 1)
          result = false;
      } else if (c.attribute == "address") {
        if (!ci->address || addr_match_list(ci->address, c.argument) != 1)
          result = false;
      } else if (c.attribute == "localaddress") {
        if (!ci->laddress || addr_match_list(ci->laddress, c.argument) != 1)
          result = false;
      } else if (c.attribute == "localport") {
        if (!ci->lport || std::to_string(*ci->lport) != c.argument)
          result = false;
      } else if (c.attribute == "rdomain") {
        if (!ci->rdomain || match_pattern_list(*ci->rdomain, c.argument, false) != 1)
          result = false;
      }
    }
    return result;
  }

  void apply(const Line &l, int match_line) {
    const Keyword &kw = *l.keyword;
    if (kw.kind == ValueKind::ignored)
      return;
    std::string key = kw.canonical;
    auto it = values.find(key);
    if (kw.store == Store::accumulate) {
      Value &v = values[key];
      if (it == values.end())
        v.match_line = match_line;
      for (auto &a : l.args)
        v.args.push_back(a);
      v.locations.push_back(l.loc);
      return;
    }
    if (it != values.end() && kw.store == Store::first)
      return; // first obtained value wins (a few keywords: the last)
    if (it != values.end())
      values.erase(it);
    Value v;
    v.args = l.args;
    v.locations.push_back(l.loc);
    v.match_line = match_line;
    values.emplace(key, std::move(v));
  }

  // Walks the flattened lines as parse_server_config_depth() does.
  void run() {
    bool match_only = ci != nullptr; // SSHCFG_MATCH_ONLY in the test-mode reparse
    bool active = ci == nullptr;
    bool nevermatch = false;
    int current_match = -1;
    struct Frame {
      bool active, match_only, nevermatch;
      int current_match;
    };
    std::vector<Frame> frames;
    for (size_t i = 0; i < cfg.lines.size(); ++i) {
      const Line &l = cfg.lines[i];
      switch (l.kind) {
      case Line::Kind::include_begin: {
        frames.push_back(Frame{active, match_only, nevermatch, current_match});
        nevermatch = match_only ? false : !active;
        break;
      }
      case Line::Kind::include_end: {
        if (frames.empty())
          break;
        Frame f = frames.back();
        frames.pop_back();
        active = f.active;
        match_only = f.match_only;
        nevermatch = f.nevermatch;
        current_match = f.current_match;
        break;
      }
      case Line::Kind::match: {
        bool m = forced_block != -2
                     ? (l.match_valid && (l.match_all || static_cast<int>(i) == forced_block))
                     : matches(l);
        active = nevermatch ? false : m;
        match_only = false;
        current_match = static_cast<int>(i);
        break;
      }
      case Line::Kind::directive:
        if (l.keyword->canonical == std::string_view("include"))
          break;
        if (diagnostics != nullptr && ci == nullptr)
          first_pass_errors(l, active);
        if (!active)
          break;
        if (ci != nullptr && !l.keyword->match_ok)
          break; // the reparse keeps only what Match may override
        apply(l, current_match);
        break;
      }
    }
  }
};

} // namespace

bool SshdConfig::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic &d) { return d.level == Diagnostic::Level::error; });
}

SshdConfig parse_sshd_config_text(const RootFs &fs, const std::string &path, std::string_view text,
                                  const ParseOptions &opts) {
  SshdConfig cfg;
  cfg.main_path = path;
  SshdConfigParser p{fs, opts, cfg};
  p.parse_text(path, text, 0);
  Pass first{cfg, nullptr, nullptr, -2, {}, &cfg.diagnostics};
  first.run();
  return cfg;
}

Result<SshdConfig> parse_sshd_config(const RootFs &fs, const std::string &path,
                                     const ParseOptions &opts) {
  std::string text = TRY(fs.read_file(path, opts.max_file_bytes));
  return parse_sshd_config_text(fs, path, text, opts);
}

Value Effective::get(std::string_view canonical) const {
  const Keyword *kw = find_keyword(canonical);
  auto it = values.find(std::string(canonical));
  Value v;
  if (it != values.end()) {
    v = it->second;
  } else {
    auto &d = defaults();
    auto dt = d.find(std::string(canonical));
    if (dt != d.end())
      v.args = dt->second;
    return v;
  }
  if (kw == nullptr)
    return v;
  // Normalise to what `sshd -T` prints.
  if (kw->kind == ValueKind::flag && !v.args.empty()) {
    v.args = {text::lower(v.args[0])};
  } else if (kw->kind == ValueKind::multistate && !v.args.empty()) {
    for (auto &c : text::split(kw->choices, ',')) {
      auto colon = c.find(':');
      if (text::iequals(c.substr(0, colon), v.args[0])) {
        v.args = {colon == std::string::npos ? c : c.substr(colon + 1)};
        break;
      }
    }
  } else if (kw->kind == ValueKind::time && !v.args.empty()) {
    if (auto t = convtime(v.args[0]))
      v.args = {std::to_string(*t)};
  } else if (kw->kind == ValueKind::integer && !v.args.empty()) {
    v.args = {std::to_string(std::strtoll(v.args[0].c_str(), nullptr, 10))};
  } else if (kw->kind == ValueKind::algorithms && !v.args.empty()) {
    v.args = {text::join(resolve_algorithms(kw->choices, v.args[0]), ",")};
  }
  return v;
}

namespace {

// sshd's two passes: the first without a connection, then the reparse for
// the connection, whose Match-set values override (copy_set_server_options).
Effective two_passes(const SshdConfig &cfg, const ConnectionSpec &spec, const UserDb *users,
                     int forced_block) {
  Pass first{cfg, nullptr, users, -2, {}};
  first.run();
  Pass second{cfg, &spec, users, forced_block, {}};
  second.run();
  Effective e;
  e.values = std::move(first.values);
  for (auto &[k, v] : second.values)
    e.values[k] = v;
  return e;
}

} // namespace

Effective evaluate(const SshdConfig &cfg, const ConnectionSpec &spec, const UserDb &users) {
  return two_passes(cfg, spec, &users, -2);
}

Effective evaluate_block(const SshdConfig &cfg, int match_line) {
  return two_passes(cfg, ConnectionSpec{}, nullptr, match_line);
}

std::optional<long long> convtime(std::string_view s) {
  // misc.c convtime(): a sequence of NUMBER[smhdwSMHDW]; a bare number is
  // seconds. Empty or overflowing input is invalid.
  if (s.empty())
    return std::nullopt;
  long long total = 0;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = i;
    while (j < s.size() && s[j] >= '0' && s[j] <= '9')
      ++j;
    if (j == i)
      return std::nullopt;
    if (j - i > 10)
      return std::nullopt;
    long long secs = std::stoll(std::string(s.substr(i, j - i)));
    long long mult = 1;
    if (j < s.size()) {
      switch (s[j]) {
      case 's':
      case 'S':
        mult = 1;
        ++j;
        break;
      case 'm':
      case 'M':
        mult = 60;
        ++j;
        break;
      case 'h':
      case 'H':
        mult = 3600;
        ++j;
        break;
      case 'd':
      case 'D':
        mult = 86400;
        ++j;
        break;
      case 'w':
      case 'W':
        mult = 604800;
        ++j;
        break;
      default: return std::nullopt;
      }
    }
    if (secs > INT_MAX / mult)
      return std::nullopt;
    total += secs * mult;
    if (total > INT_MAX)
      return std::nullopt;
    i = j;
  }
  return total;
}

} // namespace bulwark::ssh
