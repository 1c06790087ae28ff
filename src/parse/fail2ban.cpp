// fail2ban's jail configuration as fail2ban-client 1.0.2 (Debian 12) reads it.
//
// Sources (read from the installed package, /usr/lib/python3/dist-packages/
// fail2ban/client/, and Python 3.11's Lib/configparser.py):
// - configreader.py ConfigReaderUnshared.read(): the file list CONFDIR/jail.conf,
//   jail.d/*.conf (sorted), jail.local, jail.d/*.local (sorted), existing ones.
// - configparserinc.py SafeConfigParserWithIncludes: Python's ConfigParser with
//   inline_comment_prefixes=";" and BasicInterpolation extended by
//   %(__name__)s and %(section/option)s (_map_section_options: `known/` looks
//   in KNOWN/<section>, the values a later file replaced, then [DEFAULT];
//   `default/` in [DEFAULT]; other names in that section, then [DEFAULT]).
//   _getIncludes(): every file is parsed alone; its [INCLUDES] before/after
//   lines (interpolated within that file) are expanded recursively, each
//   followed by its `.local` twin if that is a file; a path already on the
//   chain of includers is skipped (compared as written, so "./x" and "x"
//   differ and fail2ban recurses until Python's stack overflows: we stop at
//   k_fail2ban_max_include_depth). The expanded list is cached by the list of names,
//   whatever the chain was, and so are we. read(): merges the files in order:
//   [DEFAULT] into the defaults; a section `name?cond` renames its options
//   `opt?cond`; a section seen before keeps the values it loses in
//   KNOWN/<name>.
// - Python 3.11 RawConfigParser._read(): universal newlines; a line whose
//   stripped text starts with '#' or ';' is a comment; ';' at the start or
//   after whitespace starts an inline comment ('#' does not); a line indented
//   deeper than the option line continues its value (comment lines do not
//   break a value, an empty line adds an empty line to it); `[header]` is
//   matched at the start of the line up to its last ']'; `name = value` splits
//   at the first '=' or ':'; names are lower-cased; duplicate sections or
//   options in one file, text before the first header, and lines that are
//   neither abort fail2ban-client ("Failed during configuration"). Files are
//   decoded as strict UTF-8: an undecodable file is logged and skipped.
// - BasicInterpolation: %% is '%', %(name)s is looked up lower-cased in the
//   section, then [DEFAULT]; depth > 10 is an error, as is a missing name or
//   a lone '%'. Errors only matter where a value is read: jailreader.py reads
//   enabled, backend and filter of every section but INCLUDES, and the rest
//   of _configOpts only for enabled jails.
// - jailreader.py convert(): logpath lines are split at their last space into
//   glob and "tail"/"head"; globs that match nothing are skipped (the server
//   then refuses the jail); backend systemd* ignores logpath.
// - server/mytime.py str2seconds(): unit words become "*N", digits separated
//   by blanks get a '+', and the result is evaluated as a Python expression.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/fail2ban.hpp>

#include <algorithm>
#include <cmath>
#include <deque>
#include <fnmatch.h>
#include <set>
#include <utility>

namespace bulwark::f2b {

namespace {

constexpr int k_max_interpolation_depth = 10; // configparser.MAX_INTERPOLATION_DEPTH
constexpr int k_fail2ban_max_include_depth = 32;
constexpr size_t k_max_include_entries = 4096;
// Our own cap on interpolation work for the whole configuration (bytes of
// values substituted plus the names in scope at each substitution): the
// depth limit alone lets b = %(a)s%(a)s%(a)s%(a)s, c = four b, ... ten deep
// make 4^10 substitutions per option, for every option of every jail.
constexpr size_t k_max_interpolation_work = 32 * 1024 * 1024;
constexpr const char *k_fail2ban_version = "1.0.2";

// --- Python's notion of whitespace (str.isspace / str.strip) over UTF-8 -----

size_t space_at(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if ((c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20))
    return 1;
  auto at = [&](size_t k) { return i + k < s.size() ? static_cast<unsigned char>(s[i + k]) : 0; };
  if (c == 0xc2 && (at(1) == 0x85 || at(1) == 0xa0))
    return 2;
  if (c == 0xe1 && at(1) == 0x9a && at(2) == 0x80)
    return 3;
  if (c == 0xe2 && at(1) == 0x80 &&
      ((at(2) >= 0x80 && at(2) <= 0x8a) || at(2) == 0xa8 || at(2) == 0xa9 || at(2) == 0xaf))
    return 3;
  if (c == 0xe2 && at(1) == 0x81 && at(2) == 0x9f)
    return 3;
  if (c == 0xe3 && at(1) == 0x80 && at(2) == 0x80)
    return 3;
  return 0;
}

// Length of the whitespace character that ends just before `end`, 0 if none.
size_t space_before(std::string_view s, size_t end) {
  for (size_t len = 1; len <= 3 && len <= end; ++len)
    if (space_at(s, end - len) == len)
      return len;
  return 0;
}

std::string_view pystrip(std::string_view s) {
  size_t b = 0;
  while (b < s.size()) {
    size_t n = space_at(s, b);
    if (n == 0)
      break;
    b += n;
  }
  size_t e = s.size();
  while (e > b) {
    size_t n = space_before(s, e);
    if (n == 0)
      break;
    e -= n;
  }
  return s.substr(b, e - b);
}

std::string_view pyrstrip(std::string_view s) {
  size_t e = s.size();
  while (e > 0) {
    size_t n = space_before(s, e);
    if (n == 0)
      break;
    e -= n;
  }
  return s.substr(0, e);
}

bool is_word(unsigned char c) {
  return std::isalnum(c) || c == '_' || c >= 0x80;
}

// Offset of the first byte Python's strict UTF-8 decoder rejects, or npos.
size_t invalid_utf8(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c < 0x80) {
      ++i;
      continue;
    }
    size_t n;
    uint32_t cp;
    if (c >= 0xc2 && c <= 0xdf) {
      n = 2;
      cp = c & 0x1f;
    } else if (c >= 0xe0 && c <= 0xef) {
      n = 3;
      cp = c & 0x0f;
    } else if (c >= 0xf0 && c <= 0xf4) {
      n = 4;
      cp = c & 0x07;
    } else {
      return i;
    }
    if (i + n > s.size())
      return i;
    for (size_t k = 1; k < n; ++k) {
      unsigned char d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80)
        return i;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 3 && (cp < 0x800 || (cp >= 0xd800 && cp <= 0xdfff))) ||
        (n == 4 && (cp < 0x10000 || cp > 0x10ffff)))
      return i;
    i += n;
  }
  return std::string_view::npos;
}

// --- paths as os.path spells them --------------------------------------------

std::string py_dirname(const std::string &p) {
  size_t i = p.rfind('/');
  std::string head = i == std::string::npos ? "" : p.substr(0, i + 1);
  if (!head.empty() && head.find_first_not_of('/') != std::string::npos)
    while (!head.empty() && head.back() == '/')
      head.pop_back();
  return head;
}

std::string py_join(const std::string &a, const std::string &b) {
  if (!b.empty() && b[0] == '/')
    return b;
  if (a.empty() || a.back() == '/')
    return a + b;
  return a + "/" + b;
}

std::string local_twin(const std::string &p) {
  size_t sep = p.rfind('/');
  size_t dot = p.rfind('.');
  size_t start = sep == std::string::npos ? 0 : sep + 1;
  std::string stem = p;
  if (dot != std::string::npos && (sep == std::string::npos || dot > sep))
    for (size_t k = start; k < dot; ++k)
      if (p[k] != '.') {
        stem = p.substr(0, dot);
        break;
      }
  return stem + ".local";
}

// --- one file, as configparser reads it ---------------------------------------

struct Opt {
  std::string value;
  SourceLocation loc;
};
using OptMap = std::map<std::string, Opt>;

struct IniSection {
  std::string name;
  SourceLocation loc;
  OptMap opts;
};

struct IniFile {
  OptMap defaults;
  std::deque<IniSection> sections; // a deque: `cursect` points into it while it grows
  std::vector<Diagnostic> warnings;
};

std::vector<std::string_view> fail2ban_split_lines(std::string_view text) {
  std::vector<std::string_view> out;
  size_t i = 0;
  while (i < text.size()) {
    size_t e = text.find_first_of("\r\n", i);
    if (e == std::string_view::npos) {
      out.push_back(text.substr(i));
      break;
    }
    out.push_back(text.substr(i, e - i));
    i = e + (text[e] == '\r' && e + 1 < text.size() && text[e + 1] == '\n' ? 2 : 1);
  }
  return out;
}

Result<IniFile> parse_ini(const std::string &path, std::string_view text) {
  IniFile file;
  std::optional<Error> parse_error; // ParsingError is raised at the end of the file
  int parse_errors = 0;
  OptMap *cursect = nullptr;
  std::string sectname;
  std::string optname;
  bool have_opt = false;
  size_t indent_level = 0;
  std::set<std::string> added_sections;
  std::set<std::pair<std::string, std::string>> added_opts;
  std::map<OptMap *, std::map<std::string, std::vector<std::string>>> parts;
  auto lines = fail2ban_split_lines(text);
  bool nul_reported = false;
  for (size_t n = 0; n < lines.size(); ++n) {
    int lineno = static_cast<int>(n) + 1;
    std::string_view line = lines[n];
    if (!nul_reported && line.find('\0') != std::string_view::npos) {
      file.warnings.push_back({Diagnostic::Level::warning,
                               "NUL byte: fail2ban keeps it as part of the text",
                               {path, lineno}});
      nul_reported = true;
    }
    size_t comment_start = std::string_view::npos;
    for (size_t idx = line.find(';'); idx != std::string_view::npos; idx = line.find(';', idx + 1))
      if (idx == 0 || space_before(line, idx) != 0) {
        comment_start = idx;
        break;
      }
    std::string_view stripped = pystrip(line);
    if (!stripped.empty() && (stripped[0] == '#' || stripped[0] == ';'))
      comment_start = 0;
    std::string_view value =
        pystrip(comment_start == std::string_view::npos ? line : line.substr(0, comment_start));
    if (value.empty()) {
      if (comment_start == std::string_view::npos && cursect && have_opt && !optname.empty())
        parts[cursect][optname].emplace_back();
      continue;
    }
    size_t indent = 0; // in characters, as Python counts
    for (size_t i = 0; i < line.size();) {
      size_t w = space_at(line, i);
      if (w == 0)
        break;
      i += w;
      ++indent;
    }
    if (cursect && have_opt && !optname.empty() && indent > indent_level) {
      parts[cursect][optname].emplace_back(value);
      continue;
    }
    indent_level = indent;
    size_t close = value.rfind(']');
    if (value[0] == '[' && close != std::string_view::npos && close >= 2) {
      sectname = std::string(value.substr(1, close - 1));
      if (added_sections.count(sectname) != 0)
        return Error{"section [" + text::printable(sectname) +
                         "] appears twice in this file (fail2ban-client stops)",
                     path, lineno};
      if (sectname == "DEFAULT") {
        cursect = &file.defaults;
      } else {
        added_sections.insert(sectname);
        file.sections.push_back(IniSection{sectname, {path, lineno}, {}});
        cursect = &file.sections.back().opts;
      }
      have_opt = false;
      continue;
    }
    if (!cursect)
      return Error{"text before the first [section] header: " + text::printable(value) +
                       " (fail2ban-client stops)",
                   path, lineno};
    size_t delim = value.find_first_of("=:");
    if (delim == std::string_view::npos) {
      ++parse_errors;
      if (!parse_error)
        parse_error = Error{"not a `name = value` line: " + text::printable(value) +
                                " (fail2ban-client stops)",
                            path, lineno};
      continue;
    }
    std::string name = text::lower(pyrstrip(value.substr(0, delim)));
    if (name.empty()) {
      ++parse_errors;
      if (!parse_error)
        parse_error = Error{"option without a name (fail2ban-client stops)", path, lineno};
    }
    if (!added_opts.insert({sectname, name}).second)
      return Error{"option '" + text::printable(name) + "' appears twice in [" +
                       text::printable(sectname) + "] of this file (fail2ban-client stops)",
                   path, lineno};
    optname = name;
    have_opt = true;
    (*cursect)[name] = Opt{"", {path, lineno}};
    parts[cursect][name] = {std::string(pystrip(value.substr(delim + 1)))};
  }
  for (auto &[sect, opts] : parts)
    for (auto &[name, p] : opts) {
      std::string joined;
      for (size_t i = 0; i < p.size(); ++i) {
        if (i)
          joined += '\n';
        joined += p[i];
      }
      (*sect)[name].value = std::string(pyrstrip(joined));
    }
  if (parse_error) {
    if (parse_errors > 1)
      parse_error->message += " and " + std::to_string(parse_errors - 1) + " more bad line(s)";
    return *parse_error;
  }
  return file;
}

// --- the merged configuration and its interpolation ---------------------------

struct Merged {
  OptMap defaults;
  std::vector<std::string> order;
  std::map<std::string, OptMap> sections;
  std::map<std::string, SourceLocation> first_loc;

  void add_section(const std::string &name, const SourceLocation &loc) {
    if (sections.emplace(name, OptMap{}).second) {
      order.push_back(name);
      first_loc[name] = loc;
    }
  }
};

bool conditional_section(const std::string &n, std::string &base, std::string &cond) {
  size_t q = n.find('?');
  if (q == std::string::npos || q == 0 || q + 1 >= n.size())
    return false;
  for (size_t i = 0; i < q; ++i)
    if (!is_word(static_cast<unsigned char>(n[i])))
      return false;
  base = n.substr(0, q);
  cond = n.substr(q);
  return true;
}

void merge_file(Merged &m, const IniFile &f) {
  for (auto &[k, v] : f.defaults)
    m.defaults[k] = v;
  for (const auto &s : f.sections) {
    std::string name = s.name, cond;
    OptMap opts = s.opts;
    std::string base;
    if (conditional_section(s.name, base, cond)) {
      name = base;
      OptMap renamed;
      for (auto &[k, v] : opts)
        renamed[k + cond] = v;
      opts = std::move(renamed);
    }
    auto it = m.sections.find(name);
    if (it != m.sections.end()) {
      m.add_section("KNOWN/" + name, {});
      OptMap &known = m.sections["KNOWN/" + name];
      for (auto &[k, v] : opts)
        if (auto old = it->second.find(k); old != it->second.end())
          known[k] = old->second;
      for (auto &[k, v] : opts)
        it->second[k] = v;
    } else {
      m.add_section(name, s.loc);
      m.sections[name] = std::move(opts);
    }
  }
}

struct Entry {
  std::string value;
  std::optional<SourceLocation> loc;
};

class Interpolator {
public:
  // `budget` (optional) is the work left, shared by every interpolation of
  // one configuration; running out is an error of the option being read.
  explicit Interpolator(const Merged &m, size_t *budget = nullptr) : m_m(m), m_budget(budget) {}

  // configparser's get(section, option): NoOption -> nullopt.
  std::optional<Result<std::string>> get(const std::string &section, const std::string &option,
                                         const Opt **found, std::vector<SourceLocation> *via) {
    const Opt *o = lookup(section, option);
    if (found)
      *found = o;
    if (!o)
      return std::nullopt;
    std::string out;
    m_via = via;
    std::map<std::string, Entry> overlay;
    auto st = some(section, option, out, o->value, overlay, 1, o->loc);
    if (!st)
      return Result<std::string>(st.error());
    return Result<std::string>(std::move(out));
  }

private:
  const Opt *lookup(const std::string &section, const std::string &key) const {
    if (auto s = m_m.sections.find(section); s != m_m.sections.end())
      if (auto o = s->second.find(key); o != s->second.end())
        return &o->second;
    if (auto o = m_m.defaults.find(key); o != m_m.defaults.end())
      return &o->second;
    return nullptr;
  }

  bool in_map(const std::string &section, const std::map<std::string, Entry> &overlay,
              const std::string &key) const {
    return overlay.count(key) != 0 || lookup(section, key) != nullptr;
  }

  // _map_section_options(): %(sec/opt)s names that the map lacks.
  void map_section_options(const std::string &section, std::string_view rest,
                           std::map<std::string, Entry> &overlay) const {
    if (rest.find('/') == std::string_view::npos || rest.find("%(") == std::string_view::npos)
      return;
    size_t i = 0;
    while ((i = rest.find("%(", i)) != std::string_view::npos) {
      size_t j = i + 2;
      size_t sec_begin = j;
      while (j < rest.size() && (is_word(static_cast<unsigned char>(rest[j])) || rest[j] == '-'))
        ++j;
      if (j == sec_begin || j >= rest.size() || rest[j] != '/') {
        ++i;
        continue;
      }
      std::string sec(rest.substr(sec_begin, j - sec_begin));
      size_t opt_begin = ++j;
      while (j < rest.size() && rest[j] != ')')
        ++j;
      if (j == opt_begin || j + 1 >= rest.size() || rest[j + 1] != 's') {
        ++i;
        continue;
      }
      std::string opt(rest.substr(opt_begin, j - opt_begin));
      std::string sopt = sec + "/" + opt;
      i = j + 2;
      if (in_map(section, overlay, sopt))
        continue;
      std::string seclwr = text::lower(sec);
      const Opt *v = nullptr;
      bool usedef = false;
      if (seclwr == "default") {
        usedef = true;
      } else if (seclwr == "known") {
        auto s = m_m.sections.find("KNOWN/" + section);
        if (s != m_m.sections.end())
          if (auto o = s->second.find(opt); o != s->second.end())
            v = &o->second;
        usedef = v == nullptr;
      } else {
        auto s = m_m.sections.find(sec);
        if (s == m_m.sections.end())
          continue;
        if (auto o = s->second.find(opt); o != s->second.end())
          v = &o->second;
        usedef = v == nullptr;
      }
      if (usedef) {
        auto o = m_m.defaults.find(opt);
        if (o == m_m.defaults.end())
          continue;
        v = &o->second;
      }
      overlay[sopt] = Entry{v->value, v->loc};
    }
  }

  Status_ some(const std::string &section, const std::string &option, std::string &acc,
               std::string_view rest, std::map<std::string, Entry> overlay, int depth,
               const SourceLocation &at) {
    overlay["__name__"] = Entry{section, std::nullopt};
    map_section_options(section, rest, overlay);
    auto where = [&](const std::string &msg) {
      return Error{"option '" + text::printable(option) + "' of [" + text::printable(section) +
                       "]: " + msg + " (fail2ban-client stops)",
                   at.path, at.line};
    };
    if (depth > k_max_interpolation_depth)
      return where("interpolation deeper than 10 levels (a %(name)s loop?)");
    while (!rest.empty()) {
      size_t p = rest.find('%');
      if (p == std::string_view::npos) {
        acc.append(rest);
        return Unit{};
      }
      acc.append(rest.substr(0, p));
      rest.remove_prefix(p);
      char c = rest.size() > 1 ? rest[1] : '\0';
      if (rest.size() > 1 && c == '%') {
        acc += '%';
        rest.remove_prefix(2);
      } else if (rest.size() > 1 && c == '(') {
        size_t close = rest.find(')', 2);
        if (close == std::string_view::npos || close == 2 || close + 1 >= rest.size() ||
            rest[close + 1] != 's')
          return where("bad interpolation reference " + text::printable(rest, 40));
        std::string var = text::lower(rest.substr(2, close - 2));
        rest.remove_prefix(close + 2);
        const Entry *e = nullptr;
        Entry tmp;
        if (auto it = overlay.find(var); it != overlay.end()) {
          e = &it->second;
        } else if (const Opt *o = lookup(section, var)) {
          tmp = Entry{o->value, o->loc};
          e = &tmp;
        }
        if (!e)
          return where("%(" + text::printable(var) + ")s is not defined");
        if (m_budget) {
          size_t cost = 1 + overlay.size() + e->value.size();
          if (cost > *m_budget) {
            *m_budget = 0;
            return where("interpolation needs more than " +
                         std::to_string(k_max_interpolation_work / (1024 * 1024)) +
                         " MiB of substitutions in all (a %(name)s chain?)");
          }
          *m_budget -= cost;
        }
        if (e->loc && m_via && m_via->size() < 64)
          m_via->push_back(*e->loc);
        if (e->value.find('%') != std::string::npos) {
          std::string v = e->value; // `overlay` is copied below; keep the text alive
          auto st = some(section, option, acc, v, overlay, depth + 1, at);
          if (!st)
            return st;
        } else {
          acc += e->value;
        }
      } else {
        return where("'%' must be followed by '%' or '(': " + text::printable(rest, 40));
      }
    }
    return Unit{};
  }

  const Merged &m_m;
  size_t *m_budget = nullptr;
  std::vector<SourceLocation> *m_via = nullptr;
};

// --- the reader -------------------------------------------------------------

// The option names jailreader.py reads for an enabled jail (_configOpts and
// FilterReader._configOpts): an interpolation error in any of them stops it.
constexpr const char *k_jail_opts[] = {
    "enabled",
    "backend",
    "maxretry",
    "maxmatches",
    "findtime",
    "bantime",
    "bantime.increment",
    "bantime.factor",
    "bantime.formula",
    "bantime.multipliers",
    "bantime.maxtime",
    "bantime.rndtime",
    "bantime.overalljails",
    "ignorecommand",
    "ignoreself",
    "ignoreip",
    "ignorecache",
    "filter",
    "logtimezone",
    "logencoding",
    "logpath",
    "action",
    "usedns",
    "prefregex",
    "ignoreregex",
    "failregex",
    "maxlines",
    "datepattern",
    "journalmatch",
};

// Python's int(): optional sign, decimal digits with single underscores
// between them, surrounding whitespace.
std::optional<long long> py_int(std::string_view s) {
  s = pystrip(s);
  bool neg = false;
  if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    neg = s[0] == '-';
    s.remove_prefix(1);
  }
  if (s.empty() || !std::isdigit(static_cast<unsigned char>(s[0])) ||
      !std::isdigit(static_cast<unsigned char>(s.back())))
    return std::nullopt;
  long long v = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '_') {
      if (s[i - 1] == '_')
        return std::nullopt;
      continue;
    }
    if (!std::isdigit(static_cast<unsigned char>(c)))
      return std::nullopt;
    if (v > (INT64_MAX - 9) / 10)
      return std::nullopt; // too big to matter; callers treat it as invalid
    v = v * 10 + (c - '0');
  }
  return neg ? -v : v;
}

class Fail2banReader {
public:
  Fail2banReader(const Source &src, Config &cfg) : m_src(src), m_cfg(cfg) {}

  void run(const std::string &confdir_in) {
    std::string confdir = confdir_in;
    while (confdir.size() > 1 && confdir.back() == '/')
      confdir.pop_back();
    m_cfg.confdir = confdir;
    std::string base = confdir + "/jail";
    std::vector<std::string> candidates{base + ".conf"};
    for (auto &p : m_src.glob(base + ".d/*.conf"))
      candidates.push_back(p);
    candidates.push_back(base + ".local");
    for (auto &p : m_src.glob(base + ".d/*.local"))
      candidates.push_back(p);
    std::vector<std::string> files;
    std::optional<Error> unreadable;
    for (auto &c : candidates) {
      if (m_src.exists(c)) {
        files.push_back(c);
        continue;
      }
      // Fail closed: a jail file that is there but cannot be opened (a
      // symlink loop, EACCES, EIO) is not an absent one. fail2ban would skip
      // it; the auditor cannot know what it says, so the configuration is
      // unknown: present, and fatal (every jail check says error).
      auto r = m_src.read(c);
      if (!r && !r.error().not_found() && !unreadable)
        unreadable = Error{"cannot read " + RootFs::join("/", c) + ": " + r.error().message,
                           RootFs::join("/", c), 0};
    }
    if (unreadable) {
      m_cfg.present = true;
      diag(Diagnostic::Level::error, unreadable->message, unreadable->path, 0);
      m_cfg.fatal = std::move(unreadable);
      return;
    }
    if (files.empty())
      return;
    m_cfg.present = true;
    std::vector<std::string> full = includes(files, {}, 0);
    if (m_cfg.fatal)
      return;
    for (const auto &f : full) {
      const IniFile *ini = parsed(f);
      if (!ini)
        continue;
      m_cfg.files.push_back(RootFs::join("/", f));
      merge_file(m_merged, *ini);
    }
    // jailreader.py merge_defaults(): these two always win.
    m_merged.defaults["fail2ban_version"] = Opt{k_fail2ban_version, {}};
    m_merged.defaults["fail2ban_confpath"] = Opt{confdir, {}};
    jails();
  }

private:
  // The parsed file, nullptr when fail2ban would skip it (unreadable,
  // undecodable) or it stops fail2ban (syntax error: m_cfg.fatal is set).
  const IniFile *parsed(const std::string &raw) {
    auto it = m_files.find(raw);
    if (it == m_files.end()) {
      std::optional<IniFile> out;
      std::string path = RootFs::join("/", raw);
      auto data = m_src.read(raw);
      if (!data) {
        // Missing files and directories (a blank include line names the
        // directory) are skipped silently, as open() failing is.
        if (!data.error().not_found() && !(m_src.exists(raw) && !m_src.is_file(raw)))
          diag(Diagnostic::Level::error, data.error().message + "; fail2ban skips it", path, 0);
      } else if (size_t bad = invalid_utf8(*data); bad != std::string::npos) {
        int line = 1 + static_cast<int>(std::count(data->begin(), data->begin() + bad, '\n'));
        diag(Diagnostic::Level::error,
             "not valid UTF-8 at byte " + std::to_string(bad) +
                 ": fail2ban logs a decoding error and skips the whole file",
             path, line);
      } else {
        auto ini = parse_ini(path, *data);
        if (!ini) {
          if (!m_cfg.fatal)
            m_cfg.fatal = ini.error();
          diag(Diagnostic::Level::error, ini.error().message, path, ini.error().line);
        } else {
          for (auto &w : ini->warnings)
            m_cfg.diagnostics.push_back(w);
          out = std::move(*ini);
        }
      }
      it = m_files.emplace(raw, std::move(out)).first;
    }
    return it->second ? &*it->second : nullptr;
  }

  void diag(Diagnostic::Level level, std::string msg, const std::string &path, int line) {
    m_cfg.diagnostics.push_back({level, std::move(msg), {path, line}});
  }

  void fatal(std::string msg, const std::string &path, int line) {
    diag(Diagnostic::Level::error, msg, path, line);
    if (!m_cfg.fatal)
      m_cfg.fatal = Error{std::move(msg), path, line};
  }

  std::vector<std::string> includes(std::vector<std::string> names,
                                    const std::vector<std::string> &seen, int depth) {
    std::vector<std::string> expanded;
    for (auto &n : names) {
      expanded.push_back(n);
      std::string twin = local_twin(n);
      if (std::find(names.begin(), names.end(), twin) == names.end() && is_file(twin))
        expanded.push_back(twin);
    }
    std::string key;
    for (auto &n : expanded)
      key += n + '\x01';
    if (auto c = m_inc_cache.find(key); c != m_inc_cache.end())
      return c->second;
    std::vector<std::string> out;
    for (auto &n : expanded) {
      auto part = includes_uncached(n, seen, depth);
      out.insert(out.end(), part.begin(), part.end());
      if (m_cfg.fatal)
        return {};
    }
    m_inc_cache[key] = out;
    return out;
  }

  bool is_file(const std::string &p) { return m_src.is_file(p); }

  std::vector<std::string> includes_uncached(const std::string &resource,
                                             const std::vector<std::string> &seen, int depth) {
    const IniFile *ini = parsed(resource);
    if (!ini)
      return {};
    std::string path = RootFs::join("/", resource);
    std::vector<std::string> before, after;
    auto sec = std::find_if(ini->sections.begin(), ini->sections.end(),
                            [](const IniSection &s) { return s.name == "INCLUDES"; });
    if (sec != ini->sections.end()) {
      Merged single;
      merge_file(single, *ini);
      Interpolator interp(single, &m_interpolation_left);
      for (auto [name, list] : {std::pair{"before", &before}, std::pair{"after", &after}}) {
        const Opt *o = nullptr;
        auto v = interp.get("INCLUDES", name, &o, nullptr);
        if (!v)
          continue;
        if (!*v) {
          if (m_interpolation_left == 0 && std::exchange(m_budget_reported, true))
            return {}; // the budget's one diagnostic is out already
          fatal(v->error().message, v->error().path, v->error().line);
          return {};
        }
        for (auto &line : text::split(**v, '\n', true)) {
          std::string r = py_join(py_dirname(resource), line);
          if (std::find(seen.begin(), seen.end(), r) != seen.end())
            continue;
          if (depth >= k_fail2ban_max_include_depth) {
            fatal("includes nest deeper than " + std::to_string(k_fail2ban_max_include_depth) +
                      " levels at " + text::printable(line) +
                      " (a loop through differently spelled paths? fail2ban-client recurses "
                      "until Python gives up)",
                  o->loc.path, o->loc.line);
            return {};
          }
          std::vector<std::string> s = seen;
          s.push_back(resource);
          auto part = includes({r}, s, depth + 1);
          if (m_cfg.fatal)
            return {};
          list->insert(list->end(), part.begin(), part.end());
          if (list->size() > k_max_include_entries) {
            fatal("includes expand to more than " + std::to_string(k_max_include_entries) +
                      " files",
                  o->loc.path, o->loc.line);
            return {};
          }
        }
      }
    }
    std::vector<std::string> out = std::move(before);
    out.push_back(resource);
    out.insert(out.end(), after.begin(), after.end());
    return out;
  }

  // One option of a jail: its raw definition and interpolated value.
  std::optional<Setting> read(const std::string &jail, const std::string &opt, Jail &j,
                              bool enabled_jail) {
    Interpolator interp(m_merged, &m_interpolation_left);
    const Opt *o = nullptr;
    Setting s;
    auto v = interp.get(jail, opt, &o, &s.via);
    if (v && !*v && m_interpolation_left == 0 && !m_budget_reported) {
      // Fail closed whether or not the jail is enabled: past the budget no
      // option is known. One diagnostic, at the option that ran it out.
      m_budget_reported = true;
      fatal(v->error().message, v->error().path, v->error().line);
    }
    if (!v)
      return std::nullopt;
    s.defined = true;
    s.raw = o->value;
    s.loc = o->loc;
    auto sec = m_merged.sections.find(jail);
    s.section = sec != m_merged.sections.end() && sec->second.count(opt) ? jail : "DEFAULT";
    if (!*v) {
      j.errors.push_back(v->error());
      if (enabled_jail && !m_cfg.fatal)
        m_cfg.fatal = v->error();
      s.value = s.raw;
      return s;
    }
    s.value = std::move(**v);
    return s;
  }

  // jailreader.py: an enabled jail reads filter.d/NAME(.conf|.d/*.conf|.local|
  // .d/*.local); when none exists the jail is skipped as a config-error.
  void check_filter(Jail &j) {
    const std::string &f = j.filter.value;
    std::string name = f.substr(0, f.find('['));
    if (name.empty()) {
      j.config_error = "invalid filter definition " + text::printable(f);
      return;
    }
    std::string base = py_join(m_cfg.confdir, py_join("filter.d", name));
    if (m_src.exists(base + ".conf") || m_src.exists(base + ".local") ||
        !m_src.glob(base + ".d/*.conf").empty() || !m_src.glob(base + ".d/*.local").empty())
      return;
    j.config_error = "unable to read the filter " + text::printable(name) + " (no " +
                     RootFs::join("/", base) + ".conf)";
  }

  void jails() {
    for (const auto &name : m_merged.order) {
      if (name == "INCLUDES" || name.rfind("KNOWN/", 0) == 0)
        continue;
      Jail j;
      j.name = name;
      j.loc = m_merged.first_loc[name];
      // First pass (every section): enabled, backend, filter.
      if (auto s = read(name, "enabled", j, true))
        j.enabled_setting = *s;
      else
        j.enabled_setting.value = "false";
      j.enabled = as_bool(j.enabled_setting.value);
      if (auto s = read(name, "backend", j, true))
        j.backend = *s;
      else
        j.backend.value = "auto";
      if (auto s = read(name, "filter", j, true))
        j.filter = *s;
      // Second pass: fail2ban reads the rest only for enabled jails; we read
      // them for every jail (facts, checks), but errors stop fail2ban only
      // in enabled ones.
      for (const char *opt : k_jail_opts) {
        std::string o = opt;
        if (o == "enabled" || o == "backend" || o == "filter")
          continue;
        auto s = read(name, o, j, j.enabled);
        if (!s)
          continue;
        if (o == "maxretry") {
          j.maxretry = s;
          j.maxretry_value = py_int(s->value);
        } else if (o == "findtime") {
          j.findtime = s;
          j.findtime_s = str2seconds(s->value);
        } else if (o == "bantime") {
          j.bantime = s;
          j.bantime_s = str2seconds(s->value);
        } else if (o == "logpath") {
          j.logpath = s;
        } else if (o == "action") {
          j.action = s;
        }
      }
      // `port` is an action parameter, read when the actions are built;
      // an interpolation problem in it is not one of jailreader's options.
      j.port = read(name, "port", j, false);
      if (j.logpath && j.backend.value.rfind("systemd", 0) != 0)
        for (auto &line : text::split(j.logpath->value, '\n', true)) {
          LogPath lp;
          size_t sp = line.rfind(' ');
          lp.pattern = sp == std::string::npos ? line : line.substr(0, sp);
          lp.tail = sp == std::string::npos ? "head" : line.substr(sp + 1);
          if (!lp.pattern.empty() && lp.pattern[0] == '/')
            lp.files = m_src.glob(lp.pattern);
          j.logpaths.push_back(std::move(lp));
        }
      if (j.enabled && !j.filter.value.empty())
        check_filter(j);
      m_cfg.jails.push_back(std::move(j));
    }
  }

  const Source &m_src;
  Config &m_cfg;
  std::map<std::string, std::optional<IniFile>> m_files;
  std::map<std::string, std::vector<std::string>> m_inc_cache;
  Merged m_merged;
  size_t m_interpolation_left = k_max_interpolation_work;
  bool m_budget_reported = false;
};

// --- str2seconds ------------------------------------------------------------

bool ieq_at(std::string_view s, size_t i, std::string_view w) {
  if (i + w.size() > s.size())
    return false;
  for (size_t k = 0; k < w.size(); ++k)
    if (std::tolower(static_cast<unsigned char>(s[i + k])) != w[k])
      return false;
  return true;
}

// One `(?i)(?<=[\d\s])(alternatives)\b` substitution pass.
std::string replace_units(const std::string &s, std::initializer_list<std::string_view> alts,
                          std::string_view repl) {
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    bool prev_ok =
        i > 0 && (std::isdigit(static_cast<unsigned char>(s[i - 1])) || space_before(s, i) != 0);
    size_t len = 0;
    if (prev_ok)
      for (auto a : alts) {
        if (!ieq_at(s, i, a))
          continue;
        size_t e = i + a.size();
        if (e < s.size() && is_word(static_cast<unsigned char>(s[e])))
          continue;
        len = a.size();
        break;
      }
    if (len) {
      out.append(repl);
      i += len;
    } else {
      out += s[i++];
    }
  }
  return out;
}

class Expr {
public:
  explicit Expr(std::string_view s) : m_s(s) {}
  std::optional<double> parse() {
    auto v = sum();
    skip();
    if (!v || m_i != m_s.size())
      return std::nullopt;
    return v;
  }

private:
  void skip() {
    while (m_i < m_s.size() && (m_s[m_i] == ' ' || m_s[m_i] == '\t' || m_s[m_i] == '\f'))
      ++m_i;
  }
  bool eat(std::string_view t) {
    skip();
    if (m_s.substr(m_i, t.size()) == t) {
      m_i += t.size();
      return true;
    }
    return false;
  }
  std::optional<double> sum() {
    auto v = term();
    while (v) {
      if (eat("+")) {
        auto r = term();
        if (!r)
          return r;
        *v += *r;
      } else if (eat("-")) {
        auto r = term();
        if (!r)
          return r;
        *v -= *r;
      } else {
        break;
      }
    }
    return v;
  }
  std::optional<double> term() {
    auto v = unary();
    while (v) {
      skip();
      if (m_s.substr(m_i, 2) == "**")
        break;
      if (eat("//")) {
        auto r = unary();
        if (!r || *r == 0)
          return std::nullopt;
        *v = std::floor(*v / *r);
      } else if (eat("*")) {
        auto r = unary();
        if (!r)
          return r;
        *v *= *r;
      } else if (eat("/")) {
        auto r = unary();
        if (!r || *r == 0)
          return std::nullopt;
        *v /= *r;
      } else if (eat("%")) {
        auto r = unary();
        if (!r || *r == 0)
          return std::nullopt;
        *v = *v - *r * std::floor(*v / *r);
      } else {
        break;
      }
    }
    return v;
  }
  std::optional<double> unary() {
    if (++m_depth > 200)
      return std::nullopt;
    std::optional<double> v;
    if (eat("-")) {
      v = unary();
      if (v)
        *v = -*v;
    } else if (eat("+")) {
      v = unary();
    } else {
      v = power();
    }
    --m_depth;
    return v;
  }
  std::optional<double> power() {
    auto v = atom();
    if (v && eat("**")) {
      auto r = unary();
      if (!r)
        return r;
      *v = std::pow(*v, *r);
    }
    return v;
  }
  std::optional<double> atom() {
    skip();
    if (eat("(")) {
      if (++m_depth > 200)
        return std::nullopt;
      auto v = sum();
      --m_depth;
      if (!v || !eat(")"))
        return std::nullopt;
      return v;
    }
    size_t b = m_i;
    while (m_i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[m_i])))
      ++m_i;
    size_t int_end = m_i;
    bool is_float = false;
    if (m_i < m_s.size() && m_s[m_i] == '.') {
      is_float = true;
      ++m_i;
      while (m_i < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[m_i])))
        ++m_i;
    }
    if (m_i == b || (is_float && m_i == b + 1))
      return std::nullopt;
    if (m_i < m_s.size() && (m_s[m_i] == 'e' || m_s[m_i] == 'E')) {
      size_t k = m_i + 1;
      if (k < m_s.size() && (m_s[k] == '+' || m_s[k] == '-'))
        ++k;
      if (k < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[k]))) {
        is_float = true;
        while (k < m_s.size() && std::isdigit(static_cast<unsigned char>(m_s[k])))
          ++k;
        m_i = k;
      }
    }
    if (m_i < m_s.size() && is_word(static_cast<unsigned char>(m_s[m_i])))
      return std::nullopt; // "1x", "0x10": not a plain number
    std::string tok(m_s.substr(b, m_i - b));
    // Python 3 rejects leading zeros in integer literals ("010").
    if (!is_float && int_end - b > 1 && tok[0] == '0' &&
        tok.find_first_not_of('0') != std::string::npos)
      return std::nullopt;
    return std::strtod(tok.c_str(), nullptr);
  }

  std::string_view m_s;
  size_t m_i = 0;
  int m_depth = 0;
};

} // namespace

// --- public -----------------------------------------------------------------

std::optional<double> str2seconds(std::string_view text_in) {
  if (text_in.size() > 4096)
    return std::nullopt;
  std::string s;
  // (?i)(?<=[a-z])(\d) -> " \1"
  for (size_t i = 0; i < text_in.size(); ++i) {
    unsigned char c = static_cast<unsigned char>(text_in[i]);
    if (i > 0 && std::isdigit(c) && std::isalpha(static_cast<unsigned char>(text_in[i - 1])))
      s += ' ';
    s += static_cast<char>(c);
  }
  s = replace_units(s, {"days", "day", "da", "dd", "d"}, "*86400");
  s = replace_units(s, {"weeks", "week", "wee", "we", "ww", "w"}, "*604800");
  s = replace_units(s, {"months", "month", "mon", "mo"}, "*2629800.0");
  s = replace_units(s, {"years", "year", "yea", "ye", "yy", "y"}, "*31557600.0");
  s = replace_units(s, {"seconds", "second", "sec", "se", "ss", "s"}, "*1");
  s = replace_units(s, {"minutes", "minute", "min", "mi", "mm", "m"}, "*60");
  s = replace_units(s, {"hours", "hour", "hou", "ho", "hh", "h"}, "*3600");
  // (\d)\s+(\d) -> "\1+\2", left to right, without overlaps.
  std::string out;
  size_t i = 0;
  while (i < s.size()) {
    if (std::isdigit(static_cast<unsigned char>(s[i]))) {
      size_t j = i + 1;
      size_t k = j;
      while (k < s.size()) {
        size_t w = space_at(s, k);
        if (!w)
          break;
        k += w;
      }
      if (k > j && k < s.size() && std::isdigit(static_cast<unsigned char>(s[k]))) {
        out += s[i];
        out += '+';
        out += s[k];
        i = k + 1;
        continue;
      }
    }
    out += s[i++];
  }
  // eval() ignores leading blanks and a trailing newline-free tail of blanks.
  std::string_view e = pystrip(out);
  if (e.find_first_of("\n\r") != std::string_view::npos)
    return std::nullopt;
  auto v = Expr(e).parse();
  if (v && !std::isfinite(*v))
    return std::nullopt;
  return v;
}

bool as_bool(std::string_view t) {
  std::string l = text::lower(t);
  return l == "1" || l == "on" || l == "true" || l == "yes";
}

const Jail *Config::jail(std::string_view name) const {
  for (auto &j : jails)
    if (j.name == name)
      return &j;
  return nullptr;
}

Result<std::string> RootFsSource::read(const std::string &path) const {
  return m_fs.read_file(path, m_max);
}
bool RootFsSource::exists(const std::string &path) const {
  return m_fs.exists(path);
}
bool RootFsSource::is_file(const std::string &path) const {
  auto st = m_fs.stat(path);
  return st && st->type == FileInfo::Type::regular;
}
std::vector<std::string> RootFsSource::glob(const std::string &pattern) const {
  auto g = m_fs.glob(pattern);
  if (!g)
    return {};
  std::vector<std::string> out;
  for (auto &p : *g)
    if (m_fs.exists(p)) // dangling links are skipped, as jailreader's _glob does
      out.push_back(p);
  return out;
}

Result<std::string> MemorySource::read(const std::string &path) const {
  auto it = files.find(RootFs::join("/", path));
  if (it == files.end())
    return Error{"no such file", path, 0, ENOENT};
  return it->second;
}
bool MemorySource::exists(const std::string &path) const {
  return files.count(RootFs::join("/", path)) != 0;
}
bool MemorySource::is_file(const std::string &path) const {
  return exists(path);
}
std::vector<std::string> MemorySource::glob(const std::string &pattern) const {
  std::vector<std::string> out;
  std::string p = RootFs::join("/", pattern);
  for (auto &[k, v] : files)
    if (::fnmatch(p.c_str(), k.c_str(), FNM_PATHNAME | FNM_PERIOD) == 0)
      out.push_back(k);
  return out;
}

Config load_config(const Source &src, const std::string &confdir) {
  Config cfg;
  Fail2banReader r(src, cfg);
  r.run(confdir);
  return cfg;
}

Config load_fail2ban(const RootFs &fs, const std::string &confdir) {
  RootFsSource src(fs);
  return load_config(src, confdir);
}

} // namespace bulwark::f2b
