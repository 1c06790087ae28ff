// postgresql.conf, read the way PostgreSQL 15 (Debian 12: 15.x) reads it.
//
// - Lexer (src/backend/utils/misc/guc-file.l): flex picks the longest match,
//   ties going to the earlier rule: ID [A-Za-z_\200-\377][A-Za-z_0-9\200-\377]*,
//   QUALIFIED_ID ID.ID, STRING '...' with '' and backslash escapes (no
//   newline inside), UNQUOTED_STRING (an ID that may also hold - . _ : /),
//   INTEGER [+-]?(digits|0xHEX)letters*, REAL [+-]?digits*.digits*(e[+-]?digits)?,
//   '=', '#' to end of line, blanks " \t\r". Anything else is one error char.
// - ParseConfigFp(): a line is NAME [=] VALUE, NAME an ID or QUALIFIED_ID,
//   VALUE an ID, STRING, INTEGER, REAL or UNQUOTED_STRING; then end of line.
//   A bad line is a syntax error "near token" (or "near end of line"); the
//   parser resynchronises at the next newline and gives up after 100 errors
//   in one file. Any error makes the server refuse to start.
// - DeescapeQuotedString(): \b \f \n \r \t, up to three octal digits, any
//   other escaped char stands for itself, '' is '. A NUL ends the C string.
// - Names compare case-insensitively (guc_name_compare); "include",
//   "include_if_exists" and "include_dir" are directives. Relative paths are
//   relative to the including file's directory (AbsoluteConfigLocation).
//   include_dir reads names of at least 6 bytes ending in ".conf", not
//   starting with '.', not directories, in strcmp order. Depth > 10 is an
//   error. include_if_exists skips a missing file; include and include_dir
//   make a missing one an error.
// - ProcessConfigFileInternal(): postgresql.auto.conf in the data directory
//   is read after the main file; for duplicate names the last one wins.
// - guc.c parse_bool / parse_int / convert_to_base_unit for values.
// Sources:
// https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/utils/misc/guc-file.l and
// guc.c; https://www.postgresql.org/docs/15/config-setting.html

#include <bulwark/core/text.hpp>
#include <bulwark/parse/postgresql_conf.hpp>

#include <algorithm>
#include <cctype>
#include <cerrno>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>

namespace bulwark::pg {

const Setting *Config::get(std::string_view name) const {
  auto it = effective.find(text::lower(name));
  return it == effective.end() ? nullptr : &it->second;
}

bool Config::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic &d) { return d.level == Diagnostic::Level::error; });
}

namespace {

enum class Tok { eol, eof, id, qualified_id, string, unquoted, integer, real, equals, error };

bool is_letter(unsigned char c) {
  return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || c == '_' || c >= 0x80;
}
bool is_letter_or_digit(unsigned char c) {
  return is_letter(c) || (c >= '0' && c <= '9');
}
bool is_digit(unsigned char c) {
  return c >= '0' && c <= '9';
}

// Lengths of the longest match of each pattern at s[0..] (0: no match).
size_t match_id(std::string_view s) {
  if (s.empty() || !is_letter(s[0]))
    return 0;
  size_t i = 1;
  while (i < s.size() && is_letter_or_digit(s[i]))
    i++;
  return i;
}
size_t match_qualified(std::string_view s) {
  size_t a = match_id(s);
  if (a == 0 || a >= s.size() || s[a] != '.')
    return 0;
  size_t b = match_id(s.substr(a + 1));
  return b == 0 ? 0 : a + 1 + b;
}
size_t match_string(std::string_view s) {
  if (s.empty() || s[0] != '\'')
    return 0;
  // The regex is ambiguous only through '' (a doubled quote or an end plus a
  // new start); flex's longest match takes '' as a doubled quote whenever a
  // later closing quote exists. Scanning greedily and remembering the last
  // place the string could close gives the same longest match.
  size_t i = 1, last_close = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\n')
      break;
    if (c == '\\') {
      if (i + 1 >= s.size() || s[i + 1] == '\n')
        break;
      i += 2;
      continue;
    }
    if (c == '\'') {
      last_close = i + 1;
      if (i + 1 < s.size() && s[i + 1] == '\'') {
        i += 2;
        continue;
      }
      break;
    }
    i++;
  }
  return last_close;
}
size_t match_unquoted(std::string_view s) {
  if (s.empty() || !is_letter(s[0]))
    return 0;
  size_t i = 1;
  while (i < s.size() && (is_letter_or_digit(s[i]) || std::strchr("-._:/", s[i]) != nullptr) &&
         s[i] != '\0')
    i++;
  return i;
}
size_t match_integer(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+'))
    i++;
  size_t best = 0;
  auto letters = [&](size_t j) {
    while (j < s.size() && std::isalpha(static_cast<unsigned char>(s[j])))
      j++;
    return j;
  };
  size_t j = i;
  while (j < s.size() && is_digit(s[j]))
    j++;
  if (j > i)
    best = letters(j);
  if (i + 2 < s.size() && s[i] == '0' && s[i + 1] == 'x' &&
      std::isxdigit(static_cast<unsigned char>(s[i + 2]))) {
    size_t k = i + 2;
    while (k < s.size() && std::isxdigit(static_cast<unsigned char>(s[k])))
      k++;
    best = std::max(best, letters(k));
  }
  return best;
}
size_t match_real(std::string_view s) {
  size_t i = 0;
  if (i < s.size() && (s[i] == '-' || s[i] == '+'))
    i++;
  while (i < s.size() && is_digit(s[i]))
    i++;
  if (i >= s.size() || s[i] != '.')
    return 0;
  i++;
  while (i < s.size() && is_digit(s[i]))
    i++;
  if (i < s.size() && (s[i] == 'e' || s[i] == 'E')) {
    size_t k = i + 1;
    if (k < s.size() && (s[k] == '-' || s[k] == '+'))
      k++;
    size_t d = k;
    while (k < s.size() && is_digit(s[k]))
      k++;
    if (k > d)
      i = k;
  }
  return i;
}

struct PostgresqlConfLexer {
  std::string_view text;
  size_t pos = 0;
  int line = 1; // line of the token just returned
  std::string_view yytext;

  Tok next() {
    for (;;) {
      if (pos >= text.size()) {
        yytext = {};
        return Tok::eof;
      }
      char c = text[pos];
      if (c == ' ' || c == '\t' || c == '\r') {
        pos++;
        continue;
      }
      if (c == '#') {
        while (pos < text.size() && text[pos] != '\n')
          pos++;
        continue;
      }
      break;
    }
    std::string_view rest = text.substr(pos);
    if (rest[0] == '\n') {
      yytext = rest.substr(0, 1);
      pos++;
      line++;
      return Tok::eol;
    }
    struct Cand {
      size_t len;
      Tok tok;
    } cands[] = {
        {match_id(rest), Tok::id},
        {match_qualified(rest), Tok::qualified_id},
        {match_string(rest), Tok::string},
        {match_unquoted(rest), Tok::unquoted},
        {match_integer(rest), Tok::integer},
        {match_real(rest), Tok::real},
        {rest[0] == '=' ? 1u : 0u, Tok::equals},
    };
    Cand best{1, Tok::error};
    bool found = false;
    for (auto &c : cands)
      if (c.len > 0 && (!found || c.len > best.len)) {
        best = c;
        found = true;
      }
    yytext = rest.substr(0, best.len);
    pos += best.len;
    return best.tok;
  }
};

std::string deescape(std::string_view s) {
  std::string out;
  // s includes the surrounding quotes.
  for (size_t i = 1; i + 1 < s.size(); i++) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      i++;
      char e = s[i];
      switch (e) {
      case 'b': out += '\b'; break;
      case 'f': out += '\f'; break;
      case 'n': out += '\n'; break;
      case 'r': out += '\r'; break;
      case 't': out += '\t'; break;
      case '0':
      case '1':
      case '2':
      case '3':
      case '4':
      case '5':
      case '6':
      case '7': {
        int k = 0, v = 0;
        while (k < 3 && i + k < s.size() - 1 && s[i + k] >= '0' && s[i + k] <= '7') {
          v = (v << 3) + (s[i + k] - '0');
          k++;
        }
        i += k - 1;
        out += static_cast<char>(v);
        break;
      }
      default: out += e; break;
      }
    } else if (c == '\'' && i + 1 < s.size() && s[i + 1] == '\'') {
      out += '\'';
      i++;
    } else {
      out += c;
    }
  }
  // The server keeps a C string: an escaped NUL ends the value there.
  if (auto z = out.find('\0'); z != std::string::npos)
    out.resize(z);
  return out;
}

std::string postgresql_conf_dir_of(const std::string &path) {
  auto slash = path.rfind('/');
  if (slash == std::string::npos || slash == 0)
    return "/";
  return path.substr(0, slash);
}

// AbsoluteConfigLocation(): absolute stays, relative joins the including
// file's directory.
std::string absolute_location(std::string_view location, const std::string &calling_file) {
  if (!location.empty() && location[0] == '/')
    return RootFs::join("/", location);
  return RootFs::join(postgresql_conf_dir_of(calling_file), location);
}

struct PostgresqlConfParser {
  const RootFs *fs;
  const ConfOptions &opts;
  Config &cfg;
  int files_read = 0;

  void diag(Diagnostic::Level level, std::string msg, const std::string &path, int line) {
    cfg.diagnostics.push_back({level, std::move(msg), {path, line}});
  }

  void parse_text(const std::string &path, std::string_view text, int depth) {
    PostgresqlConfLexer lx;
    lx.text = text;
    int errors = 0;
    for (;;) {
      Tok t = lx.next();
      if (t == Tok::eof)
        break;
      if (t == Tok::eol)
        continue;
      int line = lx.line;
      std::string name, value;
      std::string_view near;
      bool eol_error = false;
      if (t != Tok::id && t != Tok::qualified_id) {
        near = lx.yytext;
        goto parse_error;
      }
      name = std::string(lx.yytext);
      t = lx.next();
      if (t == Tok::equals)
        t = lx.next();
      if (t != Tok::id && t != Tok::string && t != Tok::integer && t != Tok::real &&
          t != Tok::unquoted) {
        eol_error = t == Tok::eol || t == Tok::eof;
        near = lx.yytext;
        goto parse_error;
      }
      value = t == Tok::string ? deescape(lx.yytext) : std::string(lx.yytext);
      t = lx.next();
      if (t != Tok::eol && t != Tok::eof) {
        near = lx.yytext;
        goto parse_error;
      }
      handle(path, line, text::lower(name), std::move(value), depth);
      if (t == Tok::eof)
        break;
      continue;
    parse_error:
      diag(Diagnostic::Level::error,
           eol_error ? "syntax error near end of line"
                     : "syntax error near token \"" + text::printable(near, 40) + "\"",
           path, line);
      if (++errors >= 100) {
        diag(Diagnostic::Level::error, "too many syntax errors found, abandoning file", path, line);
        break;
      }
      while (t != Tok::eol && t != Tok::eof)
        t = lx.next();
      if (t == Tok::eof)
        break;
    }
  }

  void handle(const std::string &path, int line, const std::string &name, std::string value,
              int depth) {
    if (name == "include_dir") {
      include_dir(value, path, line, depth + 1);
    } else if (name == "include_if_exists") {
      include_file(value, false, path, line, depth + 1);
    } else if (name == "include") {
      include_file(value, true, path, line, depth + 1);
    } else {
      Setting s{name, std::move(value), {path, line}};
      cfg.assignments.push_back(s);
      cfg.effective[name] = std::move(s);
    }
  }

  void include_file(const std::string &location, bool strict, const std::string &from,
                    int from_line, int depth) {
    if (location.empty()) {
      diag(Diagnostic::Level::error, "empty configuration file name", from, from_line);
      return;
    }
    file(absolute_location(location, from), strict, from, from_line, depth);
  }

  void file(const std::string &abs, bool strict, const std::string &from, int from_line,
            int depth) {
    if (depth > opts.max_depth) {
      diag(Diagnostic::Level::error,
           "could not open configuration file \"" + abs + "\": maximum nesting depth exceeded",
           from, from_line);
      return;
    }
    if (!fs) {
      diag(Diagnostic::Level::error, "include of \"" + abs + "\" not followed", from, from_line);
      return;
    }
    if (++files_read > opts.max_files) {
      diag(Diagnostic::Level::error,
           "more than " + std::to_string(opts.max_files) + " configuration files: \"" + abs +
               "\" and later ones not read",
           from, from_line);
      return;
    }
    auto content = fs->read_file(abs, opts.max_file_bytes);
    if (!content) {
      if (!strict && content.error().not_found()) {
        diag(Diagnostic::Level::info, "skipping missing configuration file \"" + abs + "\"", from,
             from_line);
        return;
      }
      diag(Diagnostic::Level::error,
           "could not open configuration file \"" + abs + "\": " + content.error().message,
           from.empty() ? abs : from, from.empty() ? 0 : from_line);
      return;
    }
    cfg.files.push_back(abs);
    parse_text(abs, *content, depth);
  }

  void include_dir(const std::string &location, const std::string &from, int from_line, int depth) {
    if (location.empty()) {
      diag(Diagnostic::Level::error, "empty configuration directory name", from, from_line);
      return;
    }
    std::string dir = absolute_location(location, from);
    if (!fs) {
      diag(Diagnostic::Level::error, "include_dir \"" + dir + "\" not followed", from, from_line);
      return;
    }
    auto names = fs->list_dir(dir);
    if (!names) {
      diag(Diagnostic::Level::error,
           "could not open configuration directory \"" + dir + "\": " + names.error().message, from,
           from_line);
      return;
    }
    std::vector<std::string> files;
    for (auto &n : *names) {
      if (n.size() < 6 || n[0] == '.' || n.compare(n.size() - 5, 5, ".conf") != 0)
        continue;
      std::string p = RootFs::join(dir, n);
      auto st = fs->stat(p);
      if (!st) {
        diag(Diagnostic::Level::error, "could not stat file \"" + p + "\"", from, from_line);
        continue;
      }
      if (st->type == FileInfo::Type::directory)
        continue;
      files.push_back(p);
    }
    std::sort(files.begin(), files.end()); // strcmp order
    for (auto &f : files)
      file(f, true, from, from_line, depth);
  }
};

} // namespace

void parse_conf_file(const RootFs &fs, const std::string &path, bool strict, Config &cfg,
                     const ConfOptions &opts) {
  PostgresqlConfParser p{&fs, opts, cfg};
  p.file(RootFs::join("/", path), strict, "", 0, 0);
}

Config load_postgresql_conf(const RootFs &fs, const std::string &conf_path,
                            std::optional<std::string> data_dir, const ConfOptions &opts) {
  Config cfg;
  parse_conf_file(fs, conf_path, true, cfg, opts);
  if (!data_dir)
    if (const Setting *d = cfg.get("data_directory"); d && !d->value.empty())
      data_dir = absolute_location(d->value, conf_path);
  if (data_dir) {
    // data_directory cannot be set from postgresql.auto.conf: keep the
    // main file's value whatever the auto file says.
    std::optional<Setting> keep;
    if (const Setting *d = cfg.get("data_directory"))
      keep = *d;
    PostgresqlConfParser p{&fs, opts, cfg};
    p.file(RootFs::join(*data_dir, "postgresql.auto.conf"), false, "", 0, 0);
    if (keep)
      cfg.effective["data_directory"] = *keep;
  }
  return cfg;
}

Config parse_conf_text(const std::string &path, std::string_view text) {
  Config cfg;
  ConfOptions opts;
  PostgresqlConfParser p{nullptr, opts, cfg};
  cfg.files.push_back(path);
  p.parse_text(path, text, 0);
  return cfg;
}

std::optional<bool> parse_bool(std::string_view v) {
  if (v.empty())
    return std::nullopt;
  auto prefix_of = [&](std::string_view word, size_t min) {
    return v.size() >= min && v.size() <= word.size() && text::iequals(v, word.substr(0, v.size()));
  };
  switch (v[0]) {
  case 't':
  case 'T':
    if (prefix_of("true", 1))
      return true;
    break;
  case 'f':
  case 'F':
    if (prefix_of("false", 1))
      return false;
    break;
  case 'y':
  case 'Y':
    if (prefix_of("yes", 1))
      return true;
    break;
  case 'n':
  case 'N':
    if (prefix_of("no", 1))
      return false;
    break;
  case 'o':
  case 'O':
    if (prefix_of("on", 2))
      return true;
    if (prefix_of("off", 2))
      return false;
    break;
  case '1':
    if (v.size() == 1)
      return true;
    break;
  case '0':
    if (v.size() == 1)
      return false;
    break;
  }
  return std::nullopt;
}

namespace {

struct UnitRow {
  const char *unit;
  double scale; // in bytes or microseconds
};
// guc.c's tables, largest unit first; the row after a unit is the next
// smaller one, to which fractional values are rounded.
constexpr UnitRow k_memory[] = {{"TB", 1099511627776.0}, {"GB", 1073741824.0}, {"MB", 1048576.0},
                                {"kB", 1024.0},          {"B", 1.0},           {nullptr, 0}};
constexpr UnitRow k_time[] = {{"d", 86400e6}, {"h", 3600e6}, {"min", 60e6}, {"s", 1e6},
                              {"ms", 1e3},    {"us", 1.0},   {nullptr, 0}};

bool postgresql_conf_isspace(char c) {
  return std::isspace(static_cast<unsigned char>(c)) != 0;
}

} // namespace

std::optional<int64_t> parse_int(std::string_view v, std::string_view unit) {
  std::string s(v);
  if (s.find('\0') != std::string::npos)
    return std::nullopt;
  const char *begin = s.c_str();
  char *end = nullptr;
  errno = 0;
  double val = static_cast<double>(std::strtol(begin, &end, 0));
  if (*end == '.' || *end == 'e' || *end == 'E' || errno == ERANGE) {
    errno = 0;
    val = std::strtod(begin, &end);
  }
  if (end == begin || errno == ERANGE || std::isnan(val))
    return std::nullopt;
  while (postgresql_conf_isspace(*end))
    end++;
  if (*end != '\0') {
    if (unit.empty())
      return std::nullopt;
    std::string unitstr;
    while (*end != '\0' && !postgresql_conf_isspace(*end) && unitstr.size() < 3)
      unitstr += *end++;
    while (postgresql_conf_isspace(*end))
      end++;
    if (*end != '\0')
      return std::nullopt;
    const UnitRow *table = nullptr;
    double base = 0;
    if (unit == "B" || unit == "kB" || unit == "MB" || unit == "8kB") {
      table = k_memory;
      base = unit == "B" ? 1.0 : unit == "kB" ? 1024.0 : unit == "MB" ? 1048576.0 : 8192.0;
    } else if (unit == "ms" || unit == "s" || unit == "min") {
      table = k_time;
      base = unit == "ms" ? 1e3 : unit == "s" ? 1e6 : 60e6;
    } else {
      return std::nullopt;
    }
    bool found = false;
    for (int i = 0; table[i].unit; i++) {
      if (unitstr != table[i].unit)
        continue;
      double mult = table[i].scale / base;
      double c = val * mult;
      if (table[i + 1].unit) {
        double next = table[i + 1].scale / base;
        c = std::rint(c / next) * next;
      }
      val = c;
      found = true;
      break;
    }
    if (!found)
      return std::nullopt;
  }
  val = std::rint(val);
  if (val > INT_MAX || val < INT_MIN)
    return std::nullopt;
  return static_cast<int64_t>(val);
}

} // namespace bulwark::pg
