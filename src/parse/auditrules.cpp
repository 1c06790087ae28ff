// Audit rules as augenrules compiles them and auditctl -R loads them
// (auditd 3.0.9 on Debian 12). See include/bulwark/parse/auditrules.hpp for
// the semantics; sources: https://github.com/linux-audit/audit-userspace
// (init.d/augenrules, src/auditctl.c) and gnulib's lib/filevercmp.c for the
// `ls -v` order (coreutils 9.1).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/auditrules.hpp>

#include <algorithm>
#include <climits>

namespace bulwark::audit {

namespace {

bool auditrules_c_isdigit(char c) {
  return c >= '0' && c <= '9';
}
bool auditrules_c_isalpha(char c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

// The length of the name without its suffix, the longest match of
// (\.[A-Za-z~][A-Za-z0-9~]*)*$ (gnulib file_prefixlen).
size_t file_prefixlen(std::string_view s) {
  size_t n = s.size();
  size_t prefixlen = 0;
  for (size_t i = 0;;) {
    if (i == n)
      return prefixlen;
    ++i;
    prefixlen = i;
    while (i + 1 < n && s[i] == '.' && (auditrules_c_isalpha(s[i + 1]) || s[i + 1] == '~'))
      for (i += 2;
           i < n && (auditrules_c_isalpha(s[i]) || auditrules_c_isdigit(s[i]) || s[i] == '~'); ++i)
        continue;
  }
}

int auditrules_order(std::string_view s, size_t pos) {
  if (pos == s.size())
    return -1;
  unsigned char c = static_cast<unsigned char>(s[pos]);
  if (auditrules_c_isdigit(static_cast<char>(c)))
    return 0;
  if (auditrules_c_isalpha(static_cast<char>(c)))
    return c;
  if (c == '~')
    return -1;
  return static_cast<int>(c) + UCHAR_MAX + 1;
}

int verrevcmp(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (i < a.size() || j < b.size()) {
    int first_diff = 0;
    while ((i < a.size() && !auditrules_c_isdigit(a[i])) ||
           (j < b.size() && !auditrules_c_isdigit(b[j]))) {
      int ac = auditrules_order(a, i), bc = auditrules_order(b, j);
      if (ac != bc)
        return ac - bc;
      ++i;
      ++j;
    }
    while (i < a.size() && a[i] == '0')
      ++i;
    while (j < b.size() && b[j] == '0')
      ++j;
    while (i < a.size() && j < b.size() && auditrules_c_isdigit(a[i]) &&
           auditrules_c_isdigit(b[j])) {
      if (!first_diff)
        first_diff = static_cast<unsigned char>(a[i]) - static_cast<unsigned char>(b[j]);
      ++i;
      ++j;
    }
    if (i < a.size() && auditrules_c_isdigit(a[i]))
      return 1;
    if (j < b.size() && auditrules_c_isdigit(b[j]))
      return -1;
    if (first_diff)
      return first_diff;
  }
  return 0;
}

// mawk has no `\s`: the script's "^\\s*X" is "^s*X" to it.
std::string_view skip_s(std::string_view line) {
  size_t i = 0;
  while (i < line.size() && line[i] == 's')
    ++i;
  return line.substr(i);
}

std::vector<std::string> split_blanks(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && (s[i] == ' ' || s[i] == '\t'))
      ++i;
    size_t b = i;
    while (i < s.size() && s[i] != ' ' && s[i] != '\t')
      ++i;
    if (i > b)
      out.emplace_back(s.substr(b, i - b));
  }
  return out;
}

std::optional<AuditField> parse_field(std::string_view f) {
  static constexpr std::string_view k_ops[] = {"!=", ">=", "<=", "&=", "=", ">", "<", "&"};
  size_t pos = f.find_first_of("!=<>&");
  if (pos == std::string_view::npos || pos == 0)
    return std::nullopt;
  for (auto op : k_ops)
    if (f.substr(pos, op.size()) == op)
      return AuditField{std::string(f.substr(0, pos)), std::string(op),
                        std::string(f.substr(pos + op.size()))};
  return std::nullopt;
}

void diag(AuditRules &out, AuditDiagnostic::Level level, std::string msg,
          const SourceLocation &loc) {
  out.diagnostics.push_back(AuditDiagnostic{level, std::move(msg), loc});
}

} // namespace

const AuditField *AuditRule::field(std::string_view name) const {
  for (const auto &f : fields)
    if (f.name == name)
      return &f;
  return nullptr;
}

int filevercmp(std::string_view a, std::string_view b) {
  if (a.empty())
    return b.empty() ? 0 : -1;
  if (b.empty())
    return 1;
  if (a[0] == '.') {
    if (b[0] != '.')
      return -1;
    bool adot = a.size() == 1, bdot = b.size() == 1;
    if (adot)
      return bdot ? 0 : -1;
    if (bdot)
      return 1;
    bool adotdot = a == "..", bdotdot = b == "..";
    if (adotdot)
      return bdotdot ? 0 : -1;
    if (bdotdot)
      return 1;
  } else if (b[0] == '.') {
    return 1;
  }
  size_t ap = file_prefixlen(a), bp = file_prefixlen(b);
  bool one_pass = ap == a.size() && bp == b.size();
  int r = verrevcmp(a.substr(0, ap), b.substr(0, bp));
  return r || one_pass ? r : verrevcmp(a, b);
}

std::vector<std::pair<std::string, SourceLocation>>
augenrules_reorder(const std::vector<std::pair<std::string, SourceLocation>> &lines) {
  using Line = std::pair<std::string, SourceLocation>;
  std::optional<Line> minus_e, minus_D, minus_f, minus_b;
  std::vector<Line> rest;
  for (const auto &l : lines) {
    std::string_view s = l.first;
    if (s.empty())
      continue;
    std::string_view t = skip_s(s);
    if (t.starts_with("#"))
      continue;
    if (t.starts_with("-e")) {
      minus_e = l;
      continue;
    }
    if (t.starts_with("-D")) {
      // "^\\s*-D\\s*$" under mawk: -D followed only by 's' characters.
      std::string_view after = t.substr(2);
      if (after.find_first_not_of('s') == std::string_view::npos) {
        minus_D = l;
        continue;
      }
    }
    if (t.starts_with("-f")) {
      minus_f = l;
      continue;
    }
    if (t.starts_with("-b")) {
      minus_b = l;
      continue;
    }
    rest.push_back(l);
  }
  std::vector<Line> out;
  auto put = [&](const std::optional<Line> &l) {
    if (l)
      out.push_back(*l);
  };
  put(minus_D);
  put(minus_b);
  put(minus_f);
  out.insert(out.end(), rest.begin(), rest.end());
  put(minus_e);
  return out;
}

void apply_audit_lines(AuditRules &out,
                       const std::vector<std::pair<std::string, SourceLocation>> &lines) {
  using Level = AuditDiagnostic::Level;
  for (const auto &[raw, loc] : lines) {
    std::string_view line = text::trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    auto argv = split_blanks(line);
    if (argv.empty())
      continue;
    const std::string &opt = argv[0];
    if (opt == "-D" && argv.size() == 1) {
      out.rules.clear();
      continue;
    }
    if (opt == "-e") {
      if (argv.size() < 2 || (argv[1] != "0" && argv[1] != "1" && argv[1] != "2")) {
        diag(out, Level::error, "-e needs 0, 1 or 2: " + text::printable(line), loc);
        continue;
      }
      out.enabled = argv[1][0] - '0';
      out.enabled_loc = loc;
      continue;
    }
    AuditRule r;
    r.text = std::string(line);
    r.loc = loc;
    bool bad = false;
    for (size_t i = 0; i < argv.size() && !bad; ++i) {
      const std::string &a = argv[i];
      bool has_arg = i + 1 < argv.size();
      if (a == "-w" || a == "-p" || a == "-k" || a == "-a" || a == "-A" || a == "-S" || a == "-F" ||
          a == "-W") {
        if (!has_arg) {
          diag(out, Level::error, a + " needs an argument", loc);
          bad = true;
          break;
        }
        const std::string &v = argv[++i];
        if (a == "-w") {
          r.kind = AuditRule::Kind::watch;
          r.path = v;
        } else if (a == "-W") {
          r.kind = AuditRule::Kind::other; // removes a watch
          r.path = v;
        } else if (a == "-p") {
          r.perms = v;
        } else if (a == "-k") {
          r.key = v;
        } else if (a == "-a" || a == "-A") {
          r.kind = AuditRule::Kind::syscall;
          auto parts = text::split(v, ',');
          for (const auto &p : parts) {
            if (p == "always" || p == "never")
              r.action = p;
            else
              r.list = p;
          }
          if (parts.size() != 2 || r.action.empty() || r.list.empty()) {
            diag(out, Level::error, "bad list,action: " + text::printable(v), loc);
            bad = true;
          }
        } else if (a == "-S") {
          for (auto &s : text::split(v, ','))
            r.syscalls.push_back(s);
        } else if (a == "-F") {
          auto f = parse_field(v);
          if (!f) {
            diag(out, Level::error, "bad field: " + text::printable(v), loc);
            bad = true;
          } else {
            if (f->name == "key" || f->name == "k")
              r.key = f->value;
            r.fields.push_back(std::move(*f));
          }
        }
      }
    }
    if (bad)
      continue;
    if (r.kind == AuditRule::Kind::other && argv[0] != "-W" && argv[0] != "-D")
      continue; // -b, -f, -r, --backlog_wait_time...: settings, not rules
    if (r.kind == AuditRule::Kind::other) {
      if (argv[0] == "-W") {
        // -W removes the watch of the same path and permissions.
        std::erase_if(out.rules, [&](const AuditRule &w) {
          return w.kind == AuditRule::Kind::watch && w.path == r.path;
        });
      }
      continue;
    }
    out.rules.push_back(std::move(r));
  }
}

AuditRules parse_audit_rules_texts(const std::vector<std::pair<std::string, std::string>> &files,
                                   bool augenrules) {
  AuditRules out;
  out.source = augenrules ? AuditRules::Source::augenrules : AuditRules::Source::audit_rules;
  std::vector<std::pair<std::string, SourceLocation>> lines;
  bool continues = false; // the previous file ended without a newline
  for (const auto &[path, content] : files) {
    out.files.push_back(path);
    int lineno = 0;
    size_t pos = 0;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      std::string_view piece(content.data() + pos,
                             (nl == std::string::npos ? content.size() : nl) - pos);
      ++lineno;
      if (augenrules && continues && lineno == 1 && !lines.empty())
        lines.back().first.append(piece); // `cat` runs the files together
      else
        lines.emplace_back(std::string(piece), SourceLocation{path, lineno});
      pos = nl == std::string::npos ? content.size() : nl + 1;
    }
    if (!content.empty())
      continues = content.back() != '\n';
  }
  if (augenrules)
    lines = augenrules_reorder(lines);
  apply_audit_lines(out, lines);
  return out;
}

AuditRules load_audit_rules(const RootFs &fs, size_t max_file_bytes) {
  const std::string dir = "/etc/audit/rules.d";
  std::vector<std::pair<std::string, std::string>> files;
  AuditRules errors;
  auto info = fs.stat(dir);
  bool augenrules = info && info->type == FileInfo::Type::directory;
  if (augenrules) {
    auto names = fs.list_dir(dir);
    std::vector<std::string> picked;
    if (names) {
      for (const auto &n : *names) {
        if (n[0] == '.' || n.size() < 6 || !n.ends_with(".rules"))
          continue;
        if (n.find_first_of(" \t\n") != std::string::npos) {
          diag(errors, AuditDiagnostic::Level::warning,
               "augenrules splits this name on blanks and never reads it", {dir + "/" + n, 0});
          continue;
        }
        picked.push_back(n);
      }
    }
    std::stable_sort(picked.begin(), picked.end(), [](const std::string &a, const std::string &b) {
      int c = filevercmp(a, b);
      return c != 0 ? c < 0 : a < b;
    });
    for (const auto &n : picked) {
      std::string path = dir + "/" + n;
      auto content = fs.read_file(path, max_file_bytes);
      if (!content) {
        diag(errors, AuditDiagnostic::Level::error, content.error().message, {path, 0});
        continue;
      }
      files.emplace_back(path, std::move(*content));
    }
  } else {
    const std::string path = "/etc/audit/audit.rules";
    auto content = fs.read_file(path, max_file_bytes);
    if (!content) {
      if (!content.error().not_found())
        diag(errors, AuditDiagnostic::Level::error, content.error().message, {path, 0});
      errors.source = AuditRules::Source::none;
      return errors;
    }
    files.emplace_back(path, std::move(*content));
  }
  AuditRules out = parse_audit_rules_texts(files, augenrules);
  out.diagnostics.insert(out.diagnostics.begin(), errors.diagnostics.begin(),
                         errors.diagnostics.end());
  return out;
}

// --- auditd.conf ------------------------------------------------------------

namespace {

// auditd 3.0.9's keyword table (auditd-config.c, kw_table).
constexpr std::string_view k_auditd_keywords[] = {
    "local_events",
    "write_logs",
    "log_file",
    "log_group",
    "log_format",
    "flush",
    "freq",
    "num_logs",
    "name_format",
    "name",
    "max_log_file",
    "max_log_file_action",
    "verify_email",
    "action_mail_acct",
    "space_left",
    "space_left_action",
    "admin_space_left",
    "admin_space_left_action",
    "disk_full_action",
    "disk_error_action",
    "tcp_listen_port",
    "tcp_listen_queue",
    "tcp_max_per_addr",
    "use_libwrap",
    "tcp_client_ports",
    "tcp_client_max_idle",
    "transport",
    "enable_krb5",
    "krb5_principal",
    "krb5_key_file",
    "distribute_network",
    "q_depth",
    "overflow_action",
    "max_restarts",
    "plugin_dir",
    "end_of_event_timeout",
    "dispatcher",
    "disp_qos",
    "priority_boost",
};

} // namespace

AuditdConf parse_auditd_conf_text(const std::string &path, std::string_view text) {
  AuditdConf c;
  c.path = path;
  c.present = true;
  int lineno = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++lineno;
    std::string_view line = text::trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos) {
      c.diagnostics.push_back(
          AuditDiagnostic{"missing equal sign: auditd refuses the file", {path, lineno}});
      continue;
    }
    std::string key(text::trim(line.substr(0, eq)));
    std::string value(text::trim(line.substr(eq + 1)));
    if (std::find(std::begin(k_auditd_keywords), std::end(k_auditd_keywords), key) ==
        std::end(k_auditd_keywords)) {
      c.diagnostics.push_back(AuditDiagnostic{
          "unknown keyword " + text::printable(key) + ": auditd refuses the file", {path, lineno}});
      continue;
    }
    c.values[key] = AuditdSetting{value, {path, lineno}};
  }
  return c;
}

AuditdConf load_auditd_conf(const RootFs &fs) {
  const std::string path = "/etc/audit/auditd.conf";
  auto t = fs.read_file(path, 1024 * 1024);
  if (!t) {
    AuditdConf c;
    if (!t.error().not_found()) {
      c.present = true;
      c.diagnostics.push_back(AuditDiagnostic{"cannot read: " + t.error().message, {path, 0}});
    }
    return c;
  }
  return parse_auditd_conf_text(path, *t);
}

} // namespace bulwark::audit
