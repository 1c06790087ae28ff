// systemd configuration files with drop-ins, time spans and sizes, as
// systemd 252 reads them; see include/bulwark/parse/journald.hpp. Sources:
// https://github.com/systemd/systemd/blob/v252/src/basic/time-util.c
// (parse_time, extract_multiplier), src/basic/parse-util.c (parse_size),
// src/shared/conf-parser.c (parse_line, config_parse_many_nulstr).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/journald.hpp>

#include <cerrno>
#include <unistd.h>

namespace bulwark::journald {

namespace {

constexpr const char *k_journald_whitespace = " \t\n\r";

std::string_view journald_strip(std::string_view s) {
  size_t b = s.find_first_not_of(k_journald_whitespace);
  if (b == std::string_view::npos)
    return {};
  size_t e = s.find_last_not_of(k_journald_whitespace);
  return s.substr(b, e - b + 1);
}

size_t span(std::string_view s, size_t pos, std::string_view set) {
  size_t e = s.find_first_not_of(set, pos);
  return e == std::string_view::npos ? s.size() : e;
}

struct Unit {
  std::string_view suffix;
  uint64_t usec;
};
constexpr uint64_t k_min = 60 * k_usec_per_sec, k_hour = 60 * k_min, k_day = 24 * k_hour,
                   k_week = 7 * k_day, k_month = 2629800 * k_usec_per_sec,
                   k_year = 31557600 * k_usec_per_sec;
constexpr Unit k_units[] = {
    {"seconds", k_usec_per_sec},
    {"second", k_usec_per_sec},
    {"sec", k_usec_per_sec},
    {"s", k_usec_per_sec},
    {"minutes", k_min},
    {"minute", k_min},
    {"min", k_min},
    {"months", k_month},
    {"month", k_month},
    {"M", k_month},
    {"msec", 1000},
    {"ms", 1000},
    {"m", k_min},
    {"hours", k_hour},
    {"hour", k_hour},
    {"hr", k_hour},
    {"h", k_hour},
    {"days", k_day},
    {"day", k_day},
    {"d", k_day},
    {"weeks", k_week},
    {"week", k_week},
    {"w", k_week},
    {"years", k_year},
    {"year", k_year},
    {"y", k_year},
    {"usec", 1},
    {"us", 1},
    {"\xce\xbcs", 1},
};

Error bad(std::string_view s) {
  return Error{"invalid time span or size: " + text::printable(s)};
}

} // namespace

Result<uint64_t> parse_timespan(std::string_view t, uint64_t default_unit) {
  size_t p = span(t, 0, k_journald_whitespace);
  if (t.substr(p).starts_with("infinity")) {
    size_t s = span(t, p + 8, k_journald_whitespace);
    if (s != t.size())
      return bad(t);
    return k_usec_infinity;
  }
  uint64_t usec = 0;
  bool something = false;
  for (;;) {
    p = span(t, p, k_journald_whitespace);
    if (p == t.size()) {
      if (!something)
        return bad(t);
      break;
    }
    if (t[p] == '-')
      return bad(t);
    // strtoll(base 10): an optional '+', then digits.
    size_t e = p;
    if (t[e] == '+')
      ++e;
    size_t digits = span(t, e, "0123456789");
    if (digits == e)
      return bad(t);
    unsigned __int128 l = 0;
    for (size_t i = e; i < digits; ++i) {
      l = l * 10 + static_cast<unsigned>(t[i] - '0');
      if (l > static_cast<unsigned __int128>(INT64_MAX))
        return bad(t); // ERANGE
    }
    e = digits;
    size_t frac_begin = std::string_view::npos;
    if (e < t.size() && t[e] == '.') {
      frac_begin = e + 1;
      p = span(t, e + 1, "0123456789");
    } else {
      p = e;
    }
    uint64_t multiplier = default_unit;
    size_t q = span(t, p, k_journald_whitespace);
    size_t s = q;
    for (const Unit &u : k_units)
      if (t.substr(q).starts_with(u.suffix)) {
        multiplier = u.usec;
        s = q + u.suffix.size();
        break;
      }
    if (s == p && s != t.size())
      return bad(t); // "12.34.56"
    p = s;
    if (l >= k_usec_infinity / multiplier)
      return bad(t);
    uint64_t k = static_cast<uint64_t>(l) * multiplier;
    if (k >= k_usec_infinity - usec)
      return bad(t);
    usec += k;
    something = true;
    if (frac_begin != std::string_view::npos) {
      uint64_t m = multiplier / 10;
      size_t b = frac_begin;
      for (; b < t.size() && t[b] >= '0' && t[b] <= '9'; ++b, m /= 10) {
        uint64_t add = static_cast<uint64_t>(t[b] - '0') * m;
        if (add >= k_usec_infinity - usec)
          return bad(t);
        usec += add;
      }
      if (b == frac_begin)
        return bad(t); // "3.sec"
    }
  }
  return usec;
}

Result<uint64_t> parse_size(std::string_view t) {
  struct Suffix {
    char c;
    uint64_t factor;
  };
  constexpr Suffix k_suffixes[] = {
      {'E', 1ull << 60}, {'P', 1ull << 50}, {'T', 1ull << 40}, {'G', 1ull << 30},
      {'M', 1ull << 20}, {'K', 1ull << 10}, {'B', 1},
  };
  size_t p = 0;
  uint64_t r = 0;
  bool something = false;
  for (;;) {
    p = span(t, p, k_journald_whitespace);
    if (p == t.size())
      break;
    if (t[p] == '-')
      return bad(t);
    size_t e = span(t, p, "0123456789");
    if (e == p)
      return bad(t);
    unsigned __int128 l = 0;
    for (size_t i = p; i < e; ++i) {
      l = l * 10 + static_cast<unsigned>(t[i] - '0');
      if (l > UINT64_MAX)
        return bad(t);
    }
    unsigned __int128 frac = 0, frac_div = 1;
    if (e < t.size() && t[e] == '.') {
      size_t f = span(t, e + 1, "0123456789");
      if (f == e + 1)
        return bad(t);
      for (size_t i = e + 1; i < f && i < e + 19; ++i) {
        frac = frac * 10 + static_cast<unsigned>(t[i] - '0');
        frac_div *= 10;
      }
      e = f;
    }
    e = span(t, e, k_journald_whitespace);
    uint64_t factor = 1;
    bool found = e == t.size();
    if (!found)
      for (const Suffix &s : k_suffixes)
        if (t[e] == s.c) {
          factor = s.factor;
          ++e;
          found = true;
          break;
        }
    if (!found)
      return bad(t);
    unsigned __int128 v = l * factor + frac * factor / frac_div;
    if (v > UINT64_MAX || r + v > UINT64_MAX)
      return bad(t);
    r += static_cast<uint64_t>(v);
    something = true;
    p = e;
    if (factor == 1)
      break;
  }
  if (!something || span(t, p, k_journald_whitespace) != t.size())
    return bad(t);
  return r;
}

SystemdConf
parse_systemd_conf_texts(const std::vector<std::pair<std::string, std::string>> &files) {
  SystemdConf conf;
  for (const auto &[path, content] : files) {
    conf.files.push_back(path);
    std::string section;
    std::string continued;
    int continued_line = 0;
    int lineno = 0;
    size_t pos = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      std::string_view raw(content.data() + pos,
                           (nl == std::string::npos ? content.size() : nl) - pos);
      pos = nl == std::string::npos ? content.size() : nl + 1;
      ++lineno;
      std::string_view l = journald_strip(raw);
      if (continued.empty() && (l.empty() || l[0] == '#' || l[0] == ';'))
        continue;
      if (!l.empty() && l.back() == '\\') {
        if (continued.empty())
          continued_line = lineno;
        continued.append(l.substr(0, l.size() - 1));
        continued += ' ';
        if (continued.size() > 1024 * 1024) {
          conf.diagnostics.push_back(
              {Diagnostic::Level::error, "continued line too long", {path, continued_line}});
          continued.clear();
        }
        continue;
      }
      std::string line;
      int at = lineno;
      if (!continued.empty()) {
        line = continued + std::string(l);
        at = continued_line;
        continued.clear();
      } else {
        line = std::string(l);
      }
      std::string_view s = journald_strip(line);
      if (s.empty())
        continue;
      if (s[0] == '[') {
        if (s.back() != ']' || s.size() < 3) {
          conf.diagnostics.push_back({Diagnostic::Level::error,
                                      "invalid section header: " + text::printable(s),
                                      {path, at}});
          section.clear();
          continue;
        }
        section = std::string(s.substr(1, s.size() - 2));
        continue;
      }
      size_t eq = s.find('=');
      if (eq == std::string_view::npos) {
        conf.diagnostics.push_back({Diagnostic::Level::error,
                                    "missing '=', ignoring line: " + text::printable(s),
                                    {path, at}});
        continue;
      }
      if (section.empty()) {
        conf.diagnostics.push_back({Diagnostic::Level::warning,
                                    "assignment outside of any section, ignoring",
                                    {path, at}});
        continue;
      }
      std::string key(journald_strip(s.substr(0, eq)));
      std::string value(journald_strip(s.substr(eq + 1)));
      conf.values[section][key].push_back(Assignment{std::move(value), {path, at}});
    }
  }
  return conf;
}

SystemdConf load_systemd_conf(const RootFs &fs, const std::string &name, size_t max_file_bytes) {
  static constexpr const char *k_dirs[] = {"/etc/", "/run/", "/usr/local/lib/", "/usr/lib/",
                                           "/lib/"};
  std::vector<std::pair<std::string, std::string>> files;
  SystemdConf errors;
  const std::string main = "/etc/" + name;
  if (auto c = fs.read_file(main, max_file_bytes)) {
    files.emplace_back(main, std::move(*c));
    errors.main_present = true;
  } else if (!c.error().not_found()) {
    errors.diagnostics.push_back({Diagnostic::Level::error, c.error().message, {main, 0}});
  }
  std::map<std::string, std::string> owners;
  for (const char *dir : k_dirs) {
    std::string d = std::string(dir) + name + ".d";
    auto names = fs.list_dir(d);
    if (!names)
      continue;
    for (const auto &n : *names)
      if (n[0] != '.' && n.ends_with(".conf"))
        owners.emplace(n, d + "/" + n);
  }
  for (const auto &[n, path] : owners) {
    auto st = fs.lstat(path);
    if (st && st->type == FileInfo::Type::symlink) {
      auto link = fs.read_link(path);
      if (link && !link->empty() &&
          RootFs::join(path.substr(0, path.rfind('/')), *link) == "/dev/null") {
        errors.masked.push_back(path);
        continue;
      }
    }
    auto c = fs.read_file(path, max_file_bytes);
    if (!c) {
      if (c.error().not_found())
        errors.masked.push_back(path);
      else
        errors.diagnostics.push_back({Diagnostic::Level::error, c.error().message, {path, 0}});
      continue;
    }
    if (c->empty()) {
      errors.masked.push_back(path);
      continue;
    }
    files.emplace_back(path, std::move(*c));
  }
  SystemdConf conf = parse_systemd_conf_texts(files);
  conf.main_present = errors.main_present;
  conf.masked = std::move(errors.masked);
  conf.diagnostics.insert(conf.diagnostics.begin(), errors.diagnostics.begin(),
                          errors.diagnostics.end());
  return conf;
}

} // namespace bulwark::journald
