// sysctl.d, read the way systemd-sysctl of systemd 252 (Debian 12) reads it.
//
// What a grep of /etc/sysctl.conf gets wrong:
// - Which files. conf_files_list_strv(".conf", flags=0) over CONF_PATHS
//   ("sysctl.d"): /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
//   /usr/lib/sysctl.d and (Debian builds with split-usr) /lib/sysctl.d, in that
//   precedence. Names starting with '.' are skipped. With flags=0 entries are
//   not stat()ed: the first directory holding a name owns it whatever the entry
//   is, so a /dev/null link, an empty file, a dangling link or even a directory
//   named x.conf hides /usr/lib/sysctl.d/x.conf. The owners are then applied in
//   bytewise order of their names, regardless of directory.
// - /etc/sysctl.conf. systemd-sysctl has not read it itself since systemd 207;
//   Debian ships /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf, and without
//   that link the file is ignored at boot (only procps' `sysctl --system`
//   still reads it).
// - Lines. read_line(): '\n', '\r', "\r\n", "\n\r" and NUL each end a line; a
//   line of 1 MiB (LONG_LINE_MAX) or more stops the file there. Whitespace is
//   stripped; '#' or ';' first makes a comment. The first '=' splits key and
//   value. A leading '-' means "ignore a failure to write"; `-key` without '='
//   is a "negative match" that keeps every glob off key. Anything else is
//   "Line is not an assignment" (logged, and the service fails).
// - Keys. sysctl_normalize(): if the first separator is '.', dots and slashes
//   swap ("net.ipv4.conf.eth0/100.rp_filter" is .../eth0.100/rp_filter); if it
//   is '/', everything stays. Then path_simplify() and the leading '/' goes.
// - Overrides. An ordered hashmap by normalised key: an equal value keeps the
//   first entry (or-ing ignore_failure), a different value (or an exclusion)
//   removes it and appends the new one. Globs (* ? [) are expanded against
//   /proc/sys when applied, skipping every key that has an entry of its own;
//   later globs overwrite earlier ones.
// Sources: https://github.com/systemd/systemd/blob/v252/src/sysctl/sysctl.c
// (parse_file, apply_all, apply_glob_option), src/shared/sysctl-util.c
// (sysctl_normalize), src/basic/conf-files.c (files_add), src/basic/fileio.c
// (read_line_full); man sysctl.d(5). The directory list was read from the
// Debian 12 binary itself (/lib/systemd/systemd-sysctl, 252.38-1~deb12u1).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/sysctl.hpp>

#include <algorithm>
#include <cerrno>
#include <fnmatch.h>
#include <unistd.h>

namespace bulwark {

namespace {

constexpr const char *k_dirs[] = {
    "/etc/sysctl.d",     "/run/sysctl.d", "/usr/local/lib/sysctl.d",
    "/usr/lib/sysctl.d", "/lib/sysctl.d",
};
constexpr size_t k_sysctl_conf_long_line_max = 1024 * 1024; // LONG_LINE_MAX
constexpr size_t k_max_live_bytes = 1024 * 1024;
constexpr std::string_view k_proc_sys = "/proc/sys/";

// systemd's strstrip(): its WHITESPACE is " \t\n\r" (no \f or \v, unlike text::trim).
std::string_view sysctl_conf_strip(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\n\r");
  if (b == std::string_view::npos)
    return {};
  size_t e = s.find_last_not_of(" \t\n\r");
  return s.substr(b, e - b + 1);
}

bool sysctl_conf_is_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

// Swaps '.' and '/': turns systemd's path form into sysctl(8)'s dotted form
// and back. A bijection, so either form can key a map.
std::string swap_separators(std::string_view s) {
  std::string out(s);
  for (char &c : out) {
    if (c == '.')
      c = '/';
    else if (c == '/')
      c = '.';
  }
  return out;
}

// sysctl-util.c sysctl_normalize(): the key as a path under /proc/sys.
std::string normalize_to_path(std::string_view key) {
  std::string s(key);
  size_t n = s.find_first_of("/.");
  if (n != std::string::npos && s[n] == '.')
    for (size_t i = n; i < s.size(); ++i) {
      if (s[i] == '.')
        s[i] = '/';
      else if (s[i] == '/')
        s[i] = '.';
    }
  if (s.empty())
    return s;
  // path_simplify(): drop empty and "." components, keep "..".
  bool absolute = s[0] == '/';
  std::string out = absolute ? "/" : "";
  bool first = true;
  for (auto &c : text::split(s, '/')) {
    if (c == ".")
      continue;
    if (!first)
      out += '/';
    out += c;
    first = false;
  }
  if (out.empty())
    out = ".";
  if (out.size() > 1 && out[0] == '/')
    out.erase(0, 1);
  return out;
}

// fileio.c read_line_full() with LONG_LINE_MAX, over a buffer.
class LineReader {
public:
  enum class Status { line, eof, too_long };
  explicit LineReader(std::string_view text) : m_text(text) {}

  Status next(std::string &out) {
    if (m_pos >= m_text.size())
      return Status::eof;
    out.clear();
    unsigned previous_eol = 0;
    for (;;) {
      if (out.size() >= k_sysctl_conf_long_line_max)
        return Status::too_long;
      if (m_pos >= m_text.size())
        break;
      char c = m_text[m_pos];
      unsigned eol = c == '\n' ? 1u : c == '\r' ? 2u : c == '\0' ? 4u : 0u;
      // After a NUL, after the end of a run of EOL characters, or at a
      // repeated EOL character, the line is over.
      if ((previous_eol & 4u) != 0 || (eol == 0 && previous_eol != 0) ||
          (eol != 0 && (previous_eol & eol) != 0))
        break;
      ++m_pos;
      if (eol != 0) {
        previous_eol |= eol;
        continue;
      }
      // Copy the run up to the next special character at once.
      size_t end = m_text.find_first_of(std::string_view("\n\r\0", 3), m_pos);
      if (end == std::string_view::npos)
        end = m_text.size();
      size_t room = k_sysctl_conf_long_line_max - out.size() - 1;
      end = std::min(end, m_pos + room);
      out += c;
      out.append(m_text.substr(m_pos, end - m_pos));
      m_pos = end;
    }
    return Status::line;
  }

private:
  std::string_view m_text;
  size_t m_pos = 0;
};

struct Applier {
  SysctlModel &model;
  uint64_t next_order = 0;

  void diag(SysctlDiagnostic::Level level, std::string message, const std::string &path, int line) {
    model.diagnostics.push_back(SysctlDiagnostic{level, std::move(message), {path, line}});
  }

  // One option, as parse_file() files it into the ordered hashmap.
  void put(const std::string &path_key, std::optional<std::string> value, bool ignore_failure,
           const SourceLocation &loc) {
    std::string key = swap_separators(path_key);
    auto conf = model.configured.find(key);
    auto excl = model.excluded.find(key);
    if (conf != model.configured.end()) {
      if (value && *value == conf->second.value) {
        conf->second.ignore_failure = conf->second.ignore_failure || ignore_failure;
        conf->second.loc = loc; // the line an edit must change to take effect
        return;
      }
      model.configured.erase(conf);
    } else if (excl != model.excluded.end()) {
      if (!value) {
        excl->second = loc;
        return;
      }
      model.excluded.erase(excl);
    }
    if (!value) {
      model.excluded[key] = loc;
      ++next_order;
      return;
    }
    SysctlSetting s;
    s.key = key;
    s.value = std::move(*value);
    s.loc = loc;
    s.ignore_failure = ignore_failure;
    s.is_glob = sysctl_conf_is_glob(path_key);
    s.order = next_order++;
    model.configured[key] = std::move(s);
  }

  void apply(const std::string &path, std::string_view text) {
    LineReader reader(text);
    std::string raw;
    int lineno = 0;
    for (;;) {
      auto st = reader.next(raw);
      if (st == LineReader::Status::eof)
        break;
      if (st == LineReader::Status::too_long) {
        diag(SysctlDiagnostic::Level::error,
             "line of 1 MiB or more: systemd-sysctl stops reading the file here", path, lineno + 1);
        break;
      }
      ++lineno;
      std::string_view p = sysctl_conf_strip(raw);
      if (p.empty() || p[0] == '#' || p[0] == ';')
        continue;
      bool ignore_failure = false;
      std::optional<std::string> value;
      std::string_view key_raw;
      size_t eq = p.find('=');
      if (eq != std::string_view::npos) {
        key_raw = p.substr(0, eq);
        if (p[0] == '-') {
          ignore_failure = true;
          key_raw.remove_prefix(1);
        }
        value = std::string(sysctl_conf_strip(p.substr(eq + 1)));
      } else if (p[0] == '-') {
        key_raw = p.substr(1); // a "negative match": keeps globs off this key
      } else {
        diag(SysctlDiagnostic::Level::error,
             "line is not an assignment, ignoring: " + text::printable(p), path, lineno);
        continue;
      }
      std::string key = normalize_to_path(sysctl_conf_strip(key_raw));
      if (key.empty()) {
        diag(SysctlDiagnostic::Level::error,
             "empty key: systemd-sysctl would fail writing /proc/sys itself", path, lineno);
        continue;
      }
      put(key, std::move(value), ignore_failure, SourceLocation{path, lineno});
    }
  }
};

// The raw target of a symlink inside the root (not followed).
std::optional<std::string> sysctl_conf_read_link(const RootFs &fs, const std::string &path) {
  auto t = fs.read_link(path);
  if (!t)
    return std::nullopt;
  return std::move(t).value();
}

// The path inside the root that a file finally lives at, following links.
std::string physical_path(const RootFs &fs, const std::string &path) {
  auto host = fs.resolve(path);
  if (!host)
    return path;
  if (fs.is_host_root())
    return *host;
  const std::string &root = fs.host_root();
  if (host->size() >= root.size() && host->compare(0, root.size(), root) == 0) {
    std::string rest = host->substr(root.size());
    return rest.empty() ? "/" : rest;
  }
  return path;
}

std::optional<std::string> read_live_path(const RootFs &fs, const std::string &path_key) {
  if (!fs.is_host_root() || path_key.empty() || sysctl_conf_is_glob(path_key))
    return std::nullopt;
  for (auto &c : text::split(path_key, '/', true))
    if (c.empty() || c == "." || c == "..")
      return std::nullopt;
  auto data = fs.read_file(std::string(k_proc_sys) + path_key, k_max_live_bytes);
  if (!data)
    return std::nullopt;
  std::string v = std::move(*data);
  if (!v.empty() && v.back() == '\n')
    v.pop_back();
  return v;
}

} // namespace

std::string normalize_sysctl_key(std::string_view key) {
  return swap_separators(normalize_to_path(sysctl_conf_strip(key)));
}

std::string sysctl_key_path(std::string_view key) {
  return normalize_to_path(sysctl_conf_strip(key));
}

std::optional<std::string> live_value(const RootFs &fs, std::string_view key) {
  return read_live_path(fs, sysctl_key_path(key));
}

bool sysctl_values_equal(std::string_view a, std::string_view b) {
  auto words = [](std::string_view s) {
    std::vector<std::string> out;
    size_t i = 0;
    while (i < s.size()) {
      size_t b0 = s.find_first_not_of(" \t\n", i);
      if (b0 == std::string_view::npos)
        break;
      size_t e = s.find_first_of(" \t\n", b0);
      if (e == std::string_view::npos)
        e = s.size();
      out.emplace_back(s.substr(b0, e - b0));
      i = e;
    }
    return out;
  };
  return words(a) == words(b);
}

const SysctlSetting *SysctlModel::effective(std::string_view key) const {
  std::string path_key = sysctl_key_path(key);
  std::string dotted = swap_separators(path_key);
  if (auto it = configured.find(dotted); it != configured.end())
    return &it->second;
  if (excluded.count(dotted) != 0)
    return nullptr;
  const SysctlSetting *best = nullptr;
  for (const auto &[k, s] : configured) {
    if (!s.is_glob)
      continue;
    std::string pattern = swap_separators(k);
    if (::fnmatch(pattern.c_str(), path_key.c_str(), FNM_PATHNAME | FNM_PERIOD) != 0)
      continue;
    if (best == nullptr || s.order > best->order)
      best = &s;
  }
  return best;
}

std::optional<std::string> SysctlModel::value(std::string_view key) const {
  if (auto it = live.find(normalize_sysctl_key(key)); it != live.end())
    return it->second;
  if (const SysctlSetting *s = effective(key))
    return s->value;
  return std::nullopt;
}

bool SysctlModel::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const SysctlDiagnostic &d) {
    return d.level == SysctlDiagnostic::Level::error;
  });
}

SysctlModel parse_sysctl_texts(const std::vector<std::pair<std::string, std::string>> &files) {
  SysctlModel model;
  Applier applier{model};
  for (const auto &[path, content] : files) {
    model.files.push_back(path);
    applier.apply(path, content);
  }
  return model;
}

SysctlModel load_sysctl(const RootFs &fs, const SysctlOptions &opts) {
  SysctlModel model;
  Applier applier{model};
  using Level = SysctlDiagnostic::Level;

  // conf_files_list: the first directory holding a name owns it.
  std::map<std::string, std::string> owners; // name -> path, sorted bytewise
  for (const char *dir : k_dirs) {
    auto names = fs.list_dir(dir);
    if (!names) {
      if (!names.error().not_found())
        applier.diag(Level::warning, names.error().message + "; skipped", dir, 0);
      continue;
    }
    for (const auto &name : *names) {
      if (name[0] == '.' || name.size() < 5 || name.compare(name.size() - 5, 5, ".conf") != 0)
        continue;
      owners.emplace(name, std::string(dir) + "/" + name);
    }
  }

  for (const auto &[name, path] : owners) {
    model.files.push_back(path);
    auto info = fs.lstat(path);
    if (info && info->type == FileInfo::Type::symlink) {
      // RootFs re-roots /dev/null into the image, where it may be missing
      // or a device: recognise the mask by the link text itself.
      auto target = sysctl_conf_read_link(fs, path);
      if (target && RootFs::join(path.substr(0, path.rfind('/')), *target) == "/dev/null") {
        model.masked.push_back(path);
        continue;
      }
    }
    auto content = fs.read_file(path, opts.max_file_bytes);
    if (!content) {
      const Error &e = content.error();
      if (e.not_found()) {
        // parse_file(ignore_enoent=true): a dangling link is silently a mask.
        model.masked.push_back(path);
        applier.diag(Level::info, "dangling symlink: masks " + name + " and sets nothing", path, 0);
      } else {
        applier.diag(Level::error, e.message + " (systemd-sysctl fails on it too)", path, 0);
      }
      continue;
    }
    applier.apply(physical_path(fs, path), *content);
  }

  if (opts.read_live && fs.is_host_root()) {
    for (const auto &[key, setting] : model.configured) {
      std::string path_key = swap_separators(key);
      if (!setting.is_glob) {
        if (auto v = read_live_path(fs, path_key))
          model.live[key] = *v;
        continue;
      }
      auto matches = fs.glob(std::string(k_proc_sys) + path_key);
      if (!matches)
        continue;
      for (const auto &m : *matches) {
        std::string k = m.substr(k_proc_sys.size());
        if (auto v = read_live_path(fs, k))
          model.live[swap_separators(k)] = *v;
      }
    }
  }
  return model;
}

} // namespace bulwark
