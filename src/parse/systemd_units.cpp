// systemctl is-enabled --root of systemd 252; the semantics are described in
// include/bulwark/parse/systemd_units.hpp. Sources:
// https://github.com/systemd/systemd/blob/v252/src/shared/install.c
// (unit_file_lookup_state, unit_file_search, find_symlinks_in_scope,
// find_symlinks_in_directory, is_symlink_with_known_name) and
// https://github.com/systemd/systemd/blob/v252/src/shared/conf-parser.c
// (config_parse, parse_line).

#include <bulwark/parse/systemd_units.hpp>

#include <bulwark/core/text.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <set>
#include <unistd.h>

namespace bulwark::systemd {

namespace {

constexpr std::string_view k_persistent_config = "/etc/systemd/system";
constexpr size_t k_unit_file_long_line_max = 1024 * 1024; // LONG_LINE_MAX
constexpr int k_max_follow = 64;                          // install_info_traverse's bound
constexpr size_t k_max_unit_bytes = 16 * 1024 * 1024;

const std::vector<std::string> k_search_path = {
    "/etc/systemd/system.control",   "/run/systemd/system.control",  "/run/systemd/transient",
    "/run/systemd/generator.early",  "/etc/systemd/system",          "/etc/systemd/system.attached",
    "/run/systemd/system",           "/run/systemd/system.attached", "/run/systemd/generator",
    "/usr/local/lib/systemd/system", "/lib/systemd/system",          "/usr/lib/systemd/system",
    "/run/systemd/generator.late"};

bool unit_file_path_under(std::string_view path, std::string_view dir) {
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}
bool is_runtime(std::string_view dir) {
  return unit_file_path_under(dir, "/run") || dir == "/run";
}
bool is_generator(std::string_view path) {
  for (std::string_view g :
       {"/run/systemd/generator", "/run/systemd/generator.early", "/run/systemd/generator.late"})
    if (unit_file_path_under(path, g))
      return true;
  return false;
}
bool in_search_path(std::string_view path) {
  return std::any_of(k_search_path.begin(), k_search_path.end(),
                     [&](const std::string &d) { return unit_file_path_under(path, d); });
}

std::string_view unit_file_base_name(std::string_view p) {
  while (p.size() > 1 && p.back() == '/')
    p.remove_suffix(1);
  size_t s = p.rfind('/');
  return s == std::string_view::npos ? p : p.substr(s + 1);
}
std::string_view dir_name(std::string_view p) {
  size_t s = p.rfind('/');
  return s == 0 || s == std::string_view::npos ? std::string_view("/") : p.substr(0, s);
}

std::string_view suffix_of(std::string_view name) {
  size_t dot = name.rfind('.');
  return dot == std::string_view::npos ? std::string_view() : name.substr(dot);
}

// "a@b.service" -> "a@.service"; "" when not an instance.
std::string template_of(std::string_view name) {
  size_t at = name.find('@');
  size_t dot = name.rfind('.');
  if (at == std::string_view::npos || dot == std::string_view::npos || dot <= at + 1)
    return "";
  return std::string(name.substr(0, at + 1)) + std::string(name.substr(dot));
}
bool is_template(std::string_view name) {
  size_t at = name.find('@');
  return at != std::string_view::npos && at + 1 < name.size() && name[at + 1] == '.';
}
bool is_instance(std::string_view name) {
  return !template_of(name).empty();
}
// "a@.service" + "x" -> "a@x.service".
std::string with_instance(std::string_view tmpl, std::string_view instance) {
  size_t at = tmpl.find('@');
  return std::string(tmpl.substr(0, at + 1)) + std::string(instance) +
         std::string(tmpl.substr(at + 1));
}
std::string_view instance_of(std::string_view name) {
  size_t at = name.find('@');
  size_t dot = name.rfind('.');
  return name.substr(at + 1, dot - at - 1);
}

bool utf8_valid(std::string_view s) {
  size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    if (n == 0 || i + n > s.size())
      return false;
    uint32_t cp = n == 1 ? c : n == 2 ? (c & 0x1f) : n == 3 ? (c & 0x0f) : (c & 0x07);
    for (size_t k = 1; k < n; ++k) {
      auto d = static_cast<unsigned char>(s[i + k]);
      if ((d & 0xc0) != 0x80)
        return false;
      cp = (cp << 6) | (d & 0x3f);
    }
    if ((n == 2 && cp < 0x80) || (n == 3 && cp < 0x800) || (n == 4 && cp < 0x10000) ||
        cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
      return false;
    i += n;
  }
  return true;
}

std::string_view unit_file_strip(std::string_view s) {
  constexpr std::string_view ws = " \t\n\r";
  size_t b = s.find_first_not_of(ws);
  if (b == std::string_view::npos)
    return {};
  size_t e = s.find_last_not_of(ws);
  return s.substr(b, e - b + 1);
}

// extract_first_word(EXTRACT_UNQUOTE|EXTRACT_RETAIN_ESCAPE), word by word;
// false on unbalanced quotes (the words before it are kept, as systemd does).
bool unit_file_split_words(std::string_view v, std::vector<std::string> &out) {
  size_t i = 0;
  for (;;) {
    while (i < v.size() && (v[i] == ' ' || v[i] == '\t' || v[i] == '\n' || v[i] == '\r'))
      ++i;
    if (i >= v.size())
      return true;
    std::string word;
    char quote = 0;
    for (; i < v.size(); ++i) {
      char c = v[i];
      if (quote) {
        if (c == quote) {
          quote = 0;
        } else if (c == '\\' && i + 1 < v.size()) {
          word += c;
          word += v[++i];
        } else {
          word += c;
        }
      } else if (c == '\'' || c == '"') {
        quote = c;
      } else if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
        break;
      } else if (c == '\\' && i + 1 < v.size()) {
        word += c;
        word += v[++i];
      } else {
        word += c;
      }
    }
    if (quote)
      return false;
    out.push_back(std::move(word));
  }
}

void assign(InstallSection &sec, const std::string &path, int line, std::string_view key,
            std::string_view value) {
  auto list = [&](std::vector<std::string> &l) {
    if (value.empty()) {
      l.clear();
      return;
    }
    if (!unit_file_split_words(value, l))
      sec.diagnostics.push_back({Diagnostic::Level::warning,
                                 "invalid syntax, ignoring: " + std::string(value),
                                 {path, line}});
  };
  if (key == "WantedBy")
    list(sec.wanted_by);
  else if (key == "RequiredBy")
    list(sec.required_by);
  else if (key == "Alias")
    list(sec.aliases);
  else if (key == "Also") {
    // config_parse_also: words are added, an empty value adds nothing.
    if (!unit_file_split_words(value, sec.also))
      sec.diagnostics.push_back({Diagnostic::Level::warning,
                                 "invalid syntax, ignoring: " + std::string(value),
                                 {path, line}});
  } else if (key == "DefaultInstance")
    sec.default_instance = std::string(value);
  else
    sec.diagnostics.push_back({Diagnostic::Level::warning,
                               "unknown key '" + std::string(key) + "' in section [Install]",
                               {path, line}});
}

// One logical line (continuations joined) per parse_line() of conf-parser.c.
Status_ parse_line(const std::string &path, int line, std::string_view l, std::string &section,
                   bool &in_section, InstallSection &sec) {
  l = unit_file_strip(l);
  if (l.empty())
    return Unit{};
  if (!utf8_valid(l))
    return Error{"string is not UTF-8 clean", path, line, EINVAL};
  if (l.front() == '[') {
    if (l.back() != ']')
      return Error{"invalid section header '" + std::string(l) + "'", path, line, EBADMSG};
    section = std::string(l.substr(1, l.size() - 2));
    in_section = true;
    return Unit{};
  }
  if (!in_section) {
    sec.diagnostics.push_back(
        {Diagnostic::Level::warning, "assignment outside of section, ignored", {path, line}});
    return Unit{};
  }
  size_t eq = l.find('=');
  if (eq == std::string_view::npos || eq == 0) {
    sec.diagnostics.push_back(
        {Diagnostic::Level::warning,
         eq == 0 ? "missing key name before '=', line ignored" : "missing '=', line ignored",
         {path, line}});
    return Unit{};
  }
  if (section == "Install")
    assign(sec, path, line, unit_file_strip(l.substr(0, eq)), unit_file_strip(l.substr(eq + 1)));
  return Unit{};
}

} // namespace

Status_ parse_install_section(const std::string &path, std::string_view text,
                              InstallSection &into) {
  std::string section;
  bool in_section = false;
  std::string continuation;
  bool have_continuation = false;
  int line = 0;
  size_t i = 0;
  if (text.substr(0, 3) == "\xef\xbb\xbf")
    i = 3;
  while (i < text.size()) {
    // read_line(): "\n", "\r", "\r\n" and NUL end a line.
    size_t end = i;
    while (end < text.size() && text[end] != '\n' && text[end] != '\r' && text[end] != '\0')
      ++end;
    std::string_view raw = text.substr(i, end - i);
    i = end;
    if (i < text.size()) {
      if (text[i] == '\r' && i + 1 < text.size() && text[i + 1] == '\n')
        i += 2;
      else
        ++i;
    }
    ++line;
    if (raw.size() > k_unit_file_long_line_max)
      return Error{"line too long", path, line, ENOBUFS};
    std::string_view lead = raw.substr(std::min(raw.size(), raw.find_first_not_of(" \t\n\r")));
    if (!lead.empty() && (lead.front() == '#' || lead.front() == ';'))
      continue;
    std::string logical;
    if (have_continuation) {
      continuation += raw;
      if (continuation.size() > k_unit_file_long_line_max)
        return Error{"continuation line too long", path, line, ENOBUFS};
      logical = continuation;
    } else {
      logical = std::string(raw);
    }
    bool escaped = false;
    for (char c : logical)
      escaped = escaped ? false : c == '\\';
    if (escaped) {
      logical.back() = ' ';
      continuation = std::move(logical);
      have_continuation = true;
      continue;
    }
    have_continuation = false;
    continuation.clear();
    TRY(parse_line(path, line, logical, section, in_section, into));
  }
  if (have_continuation)
    TRY(parse_line(path, line, continuation, section, in_section, into));
  return Unit{};
}

std::string_view to_string(UnitFileState s) {
  switch (s) {
  case UnitFileState::enabled: return "enabled";
  case UnitFileState::enabled_runtime: return "enabled-runtime";
  case UnitFileState::linked: return "linked";
  case UnitFileState::linked_runtime: return "linked-runtime";
  case UnitFileState::alias: return "alias";
  case UnitFileState::masked: return "masked";
  case UnitFileState::masked_runtime: return "masked-runtime";
  case UnitFileState::static_: return "static";
  case UnitFileState::disabled: return "disabled";
  case UnitFileState::indirect: return "indirect";
  case UnitFileState::generated: return "generated";
  case UnitFileState::transient: return "transient";
  case UnitFileState::not_found: return "not-found";
  case UnitFileState::error: return "error";
  }
  return "error";
}

bool UnitState::is_enabled() const {
  switch (state) {
  case UnitFileState::enabled:
  case UnitFileState::enabled_runtime:
  case UnitFileState::static_:
  case UnitFileState::alias:
  case UnitFileState::indirect:
  case UnitFileState::generated: return true;
  default: return false;
  }
}

bool valid_unit_name(std::string_view name) {
  static const std::set<std::string_view> k_suffixes = {
      ".service", ".socket", ".target", ".device", ".mount", ".automount",
      ".swap",    ".timer",  ".path",   ".slice",  ".scope"};
  if (name.empty() || name.size() > 255 || name.front() == '.')
    return false;
  std::string_view suffix = suffix_of(name);
  if (!k_suffixes.count(suffix))
    return false;
  std::string_view prefix = name.substr(0, name.size() - suffix.size());
  if (prefix.empty())
    return false;
  size_t at = prefix.find('@');
  if (at == 0 ||
      (at != std::string_view::npos && prefix.find('@', at + 1) != std::string_view::npos))
    return false;
  for (char c : prefix)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || std::strchr(":-_.\\@", c)))
      return false;
  return true;
}

namespace {

// The text of a symlink inside the root (RootFs::read_link: opened by
// descriptor, never by host path), or nullopt when it is not one.
std::optional<std::string> unit_file_read_link(const RootFs &fs, const std::string &path) {
  auto t = fs.read_link(path);
  if (!t)
    return std::nullopt;
  return std::move(t).value();
}

// A symlink's target as an absolute target path (relative: from its directory).
std::optional<std::string> link_destination(const RootFs &fs, const std::string &path) {
  auto t = unit_file_read_link(fs, path);
  if (!t)
    return std::nullopt;
  return RootFs::join(dir_name(path), *t);
}

// Follows a chain of symlinks (inside the root) to its end; "/dev/null" is
// recognised by name, as null_or_empty_path_with_root() does, so a test root
// without /dev still masks.
struct Chased {
  std::string path;
  std::optional<FileInfo> info; // nullopt: the end does not exist
  bool loop = false;
};
Chased chase(const RootFs &fs, std::string path) {
  for (int hops = 0; hops < 40; ++hops) {
    if (path == "/dev/null")
      return {path, FileInfo{FileInfo::Type::other, 0, 0, 0, 0, 0}, false};
    auto l = fs.lstat(path);
    if (!l)
      return {path, std::nullopt, false};
    if (l->type != FileInfo::Type::symlink) {
      return {path, *l, false};
    }
    auto next = link_destination(fs, path);
    if (!next)
      return {path, std::nullopt, false};
    path = *next;
  }
  return {path, std::nullopt, true};
}

bool null_or_empty(const Chased &c) {
  return c.path == "/dev/null" ||
         (c.info && c.info->type == FileInfo::Type::regular && c.info->size == 0);
}

struct FoundUnitFile {
  bool masked = false;
  std::string name; // the unit's name after aliases
  std::string path; // the unit file (or the mask)
  InstallSection install;
};

Error errno_error(int e, const std::string &what, const std::string &path) {
  return Error{what + ": " + std::strerror(e), path, 0, e};
}

// unit_validate_alias_symlink(): an alias keeps the kind of name (plain,
// template, instance; an instance may point at its template or at an
// instance of the same instance string).
bool valid_alias(std::string_view src, std::string_view dst) {
  if (suffix_of(src) != suffix_of(dst))
    return false;
  if (is_template(src))
    return is_template(dst);
  if (is_instance(src)) {
    if (is_template(dst))
      return true;
    return is_instance(dst) && instance_of(src) == instance_of(dst);
  }
  return !is_template(dst) && !is_instance(dst);
}

// unit_file_search() and install_info_traverse(): the file that defines
// `name`, following aliases.
// A unit linked to a file elsewhere: its own name, the [Install] section of
// the file the link ends at (`real`, already checked to be regular).
Result<FoundUnitFile> linked_unit(const RootFs &fs, const std::string &name,
                                  const std::string &dest, const std::string &real) {
  FoundUnitFile f{false, name, dest, {}};
  auto text = fs.read_file(real, k_max_unit_bytes);
  if (!text)
    return text.error();
  TRY(parse_install_section(dest, *text, f.install));
  return f;
}

Result<FoundUnitFile> discover_unit_file(const RootFs &fs, const std::string &name, int depth) {
  if (depth > k_max_follow)
    return errno_error(ELOOP, "too many aliases", name);
  std::string tmpl = template_of(name);
  for (const std::string &cand : {name, tmpl}) {
    if (cand.empty())
      continue;
    for (const std::string &dir : k_search_path) {
      std::string p = dir + "/" + cand;
      auto l = fs.lstat(p);
      if (!l) {
        int e = l.error().sys_errno;
        if (e == ENOENT || e == ENOTDIR || e == EACCES || l.error().not_found())
          continue;
        return l.error();
      }
      if (l->type == FileInfo::Type::symlink) {
        auto dest = link_destination(fs, p);
        if (!dest)
          return errno_error(EIO, "cannot read symlink", p);
        // unit_file_resolve_symlink(): a link into the search path is an
        // alias, which must change the name and keep the type.
        bool outside = !in_search_path(*dest);
        if (!outside && unit_file_base_name(*dest) == cand)
          return errno_error(ELOOP, "symlink to a unit of its own name in the search path", p);
        if (!outside && !valid_alias(cand, unit_file_base_name(*dest)))
          return errno_error(EXDEV, "alias with another unit type or instance", p);
        Chased end = chase(fs, *dest);
        if (end.loop)
          return errno_error(ELOOP, "symlink loop", p);
        if (null_or_empty(end))
          return FoundUnitFile{true, name, p, {}};
        if (outside) {
          // A linked unit file: its own name, the target's content.
          if (!end.info)
            return errno_error(ENOENT, "dangling symlink", p);
          if (end.info->type == FileInfo::Type::directory)
            return errno_error(EISDIR, "unit file is a directory", *dest);
          if (end.info->type != FileInfo::Type::regular)
            return errno_error(EINVAL, "unit file is not a regular file", *dest);
          return linked_unit(fs, name, *dest, end.path);
        }
        // The alias is looked up again by the target's name, anywhere on the
        // search path; an alias of a template serves the instance asked for.
        // An instance linked to its own template names that file itself.
        std::string target(unit_file_base_name(*dest));
        if (is_instance(name) && is_template(target)) {
          target = with_instance(target, instance_of(name));
          if (target == name) {
            if (!end.info)
              return errno_error(ENOENT, "dangling symlink", p);
            if (end.info->type != FileInfo::Type::regular)
              return errno_error(EISDIR, "unit file is not a regular file", *dest);
            return linked_unit(fs, name, *dest, end.path);
          }
        }
        auto r = discover_unit_file(fs, target, depth + 1);
        if (!r && r.error().sys_errno == ENOENT)
          return errno_error(ENOLINK, "alias of a unit that does not exist", p);
        return r;
      }
      if (l->type == FileInfo::Type::directory)
        return errno_error(EISDIR, "unit file is a directory", p);
      if (l->type == FileInfo::Type::regular && l->size == 0)
        return FoundUnitFile{true, name, p, {}};
      FoundUnitFile f{false, name, p, {}};
      auto text = fs.read_file(p, k_max_unit_bytes);
      if (!text)
        return text.error();
      TRY(parse_install_section(p, *text, f.install));
      return f;
    }
  }
  return errno_error(ENOENT, "no unit file", name);
}

// Drop-ins: NAME.d/*.conf and TEMPLATE.d/*.conf; one per file name, the
// first directory on the search path winning; applied in file-name order.
Status_ load_dropins(const RootFs &fs, FoundUnitFile &f) {
  std::map<std::string, std::string> files; // name -> path
  std::string tmpl = template_of(f.name);
  for (const std::string &base : {f.name, tmpl}) {
    if (base.empty())
      continue;
    for (const std::string &dir : k_search_path) {
      std::string d = dir + "/" + base + ".d";
      auto names = fs.list_dir(d);
      if (!names)
        continue;
      for (const std::string &n : *names)
        if (n.size() > 5 && n.front() != '.' && n.ends_with(".conf") && !files.count(n)) {
          auto l = fs.lstat(d + "/" + n);
          if (l && (l->type == FileInfo::Type::regular || l->type == FileInfo::Type::symlink))
            files.emplace(n, d + "/" + n);
        }
    }
  }
  for (auto &[n, p] : files) {
    Chased end = chase(fs, p);
    if (null_or_empty(end))
      continue;
    if (!end.info)
      return errno_error(end.loop ? ELOOP : ENOENT, "cannot open drop-in", p);
    auto text = fs.read_file(end.path, k_max_unit_bytes);
    if (!text)
      return text.error();
    TRY(parse_install_section(p, *text, f.install));
  }
  return Unit{};
}

bool known_name(const FoundUnitFile &f, std::string_view link_name) {
  if (link_name == f.name)
    return true;
  if (std::find(f.install.aliases.begin(), f.install.aliases.end(), link_name) !=
      f.install.aliases.end())
    return true;
  if (is_template(f.name) && !f.install.default_instance.empty())
    return link_name == with_instance(f.name, f.install.default_instance);
  return false;
}

// find_symlinks_in_directory(): 1 when a link names the unit (match_name:
// by a name [Install] would create).
bool scan_dir(const RootFs &fs, const std::string &dir, bool ignore_destination, bool match_name,
              bool ignore_same_name, const std::string &config_path, const FoundUnitFile &f,
              bool &same_name_link, std::string &hit, std::vector<std::string> &wanted) {
  auto names = fs.list_dir(dir);
  if (!names)
    return false;
  bool result = false;
  for (const std::string &n : *names) {
    std::string p = dir + "/" + n;
    auto l = fs.lstat(p);
    if (!l || l->type != FileInfo::Type::symlink)
      continue;
    bool found_dest = false;
    if (!ignore_destination) {
      auto dest = link_destination(fs, p);
      if (!dest)
        continue;
      found_dest = unit_file_base_name(*dest) == f.name;
    }
    bool found_path = (ignore_destination || !ignore_same_name) && n == f.name;
    if (!found_path && ignore_destination && is_instance(n))
      found_dest = template_of(n) == f.name;
    if (ignore_destination && (found_path || found_dest))
      wanted.push_back(p);
    if (found_path && found_dest && p == config_path + "/" + f.name) {
      same_name_link = true;
    } else if ((found_path || found_dest) && !result && (!match_name || known_name(f, n))) {
      result = true;
      hit = p;
    }
  }
  return result;
}

// find_symlinks(): the .wants/ and .requires/ directories of a config
// directory, then the directory itself.
bool scan_config(const RootFs &fs, const std::string &config, bool match_name,
                 bool ignore_same_name, const FoundUnitFile &f, bool &same_name_link,
                 std::string &hit, std::vector<std::string> &wanted) {
  auto names = fs.list_dir(config);
  if (!names)
    return false;
  bool result = false;
  for (const std::string &n : *names) {
    std::string_view suffix = suffix_of(n);
    if (suffix != ".wants" && suffix != ".requires")
      continue;
    auto l = fs.lstat(config + "/" + n);
    if (!l || l->type != FileInfo::Type::directory)
      continue;
    std::string h;
    if (scan_dir(fs, config + "/" + n, true, match_name, ignore_same_name, config, f,
                 same_name_link, h, wanted) &&
        !result) {
      result = true;
      hit = h;
    }
  }
  if (result)
    return true;
  return scan_dir(fs, config, false, match_name, ignore_same_name, config, f, same_name_link, hit,
                  wanted);
}

// find_symlinks_in_scope(): the state a link gives, if any.
std::optional<UnitFileState> links_state(const RootFs &fs, const FoundUnitFile &f, bool match_name,
                                         std::string &hit, std::vector<std::string> &wanted) {
  bool ignore_same_name = false, runtime = false, same_config = false, same_runtime = false;
  std::string runtime_hit;
  for (const std::string &dir : k_search_path) {
    // 252 counts links in /etc/systemd/system and the directories under /run only.
    if (dir == k_persistent_config || is_runtime(dir)) {
      bool same = false;
      std::string h;
      if (scan_config(fs, dir, match_name, ignore_same_name, f, same, h, wanted)) {
        if (dir == k_persistent_config) {
          hit = h;
          return UnitFileState::enabled;
        }
        if (!runtime)
          runtime_hit = h;
        runtime = true;
      } else if (same) {
        if (dir == k_persistent_config)
          same_config = true;
        else
          same_runtime = true;
      }
    }
    if (!ignore_same_name && unit_file_path_under(f.path, dir))
      ignore_same_name = true;
  }
  if (runtime) {
    hit = runtime_hit;
    return UnitFileState::enabled_runtime;
  }
  if (same_runtime)
    return UnitFileState::linked_runtime;
  if (same_config)
    return UnitFileState::linked;
  return std::nullopt;
}

bool instance_linked_anywhere(const RootFs &fs, const std::string &name) {
  for (const std::string &dir : k_search_path) {
    auto names = fs.list_dir(dir);
    if (!names)
      continue;
    for (const std::string &n : *names) {
      std::string_view suffix = suffix_of(n);
      if (suffix != ".wants" && suffix != ".requires")
        continue;
      auto d = fs.lstat(dir + "/" + n);
      auto l = fs.lstat(dir + "/" + n + "/" + name);
      if (d && d->type == FileInfo::Type::directory && l && l->type == FileInfo::Type::symlink)
        return true;
    }
  }
  return false;
}

} // namespace

UnitState unit_state(const RootFs &fs, std::string_view unit) {
  UnitState s;
  s.name = std::string(unit);
  if (!valid_unit_name(unit)) {
    s.state = UnitFileState::error;
    s.error = Error{"invalid unit name \"" + std::string(unit) + "\"", "", 0, EINVAL};
    return s;
  }
  auto found = discover_unit_file(fs, s.name, 0);
  if (found && !found->masked) {
    if (auto d = load_dropins(fs, *found); !d)
      found = d.error();
  }
  if (!found) {
    s.error = found.error();
    s.state = found.error().sys_errno == ENOENT ? UnitFileState::not_found : UnitFileState::error;
    return s;
  }
  FoundUnitFile &f = *found;
  s.path = f.path;
  if (f.masked) {
    s.state = is_runtime(f.path) ? UnitFileState::masked_runtime : UnitFileState::masked;
    return s;
  }
  s.fragment = f.path;
  s.install = f.install;
  std::string hit;
  std::vector<std::string> ignored;
  if (s.name != unit_file_base_name(f.path) && !is_instance(f.name)) {
    s.state = UnitFileState::alias;
  } else if (is_generator(f.path)) {
    s.state = UnitFileState::generated;
  } else if (unit_file_path_under(f.path, "/run/systemd/transient")) {
    s.state = UnitFileState::transient;
  } else if (auto st = links_state(fs, f, true, hit, ignored)) {
    s.state = *st;
    if (!hit.empty())
      s.path = hit;
  } else if (is_instance(f.name) && instance_linked_anywhere(fs, f.name)) {
    // Observed of systemctl 252: an instance with a .wants/.requires link
    // of its own name in a directory that enables nothing (vendor,
    // /etc/systemd/system.control) is "static".
    s.state = UnitFileState::static_;
  } else if (links_state(fs, f, false, hit, ignored)) {
    s.state = UnitFileState::indirect;
  } else if (!f.install.wanted_by.empty() || !f.install.required_by.empty() ||
             !f.install.aliases.empty()) {
    s.state = UnitFileState::disabled;
  } else if (!f.install.also.empty()) {
    s.state = UnitFileState::indirect;
  } else {
    s.state = UnitFileState::static_;
  }
  // Every .wants/.requires link naming the unit, for evidence (whatever the state).
  std::vector<std::string> wanted;
  for (const std::string &dir : k_search_path) {
    if (dir != k_persistent_config && !is_runtime(dir))
      continue;
    bool same = false;
    std::string h;
    FoundUnitFile only_links = f;
    only_links.install.aliases.clear();
    auto names = fs.list_dir(dir);
    if (!names)
      continue;
    for (const std::string &n : *names) {
      std::string_view suffix = suffix_of(n);
      auto l = fs.lstat(dir + "/" + n);
      if ((suffix == ".wants" || suffix == ".requires") && l &&
          l->type == FileInfo::Type::directory)
        scan_dir(fs, dir + "/" + n, true, false, false, dir, only_links, same, h, wanted);
    }
  }
  std::sort(wanted.begin(), wanted.end());
  s.wanted = std::move(wanted);
  return s;
}

const std::vector<std::string> &UnitFiles::search_path() {
  return k_search_path;
}

const UnitState &UnitFiles::state(std::string_view unit) const {
  std::lock_guard<std::mutex> lock(m_mutex);
  auto it = m_states.find(unit);
  if (it == m_states.end())
    it = m_states.emplace(std::string(unit), std::make_unique<UnitState>(unit_state(*m_fs, unit)))
             .first;
  return *it->second;
}

} // namespace bulwark::systemd
