// The dpkg status database, parsed like dpkg 1.21's parse_stanza() and
// pkg_parse_verify() with the status file's lax flags (pdb_parse_status:
// a blank line inside a value and version syntax warnings are warnings).
//
// dpkg treats any error as fatal to the whole database. An auditor must keep
// going, so an error costs only its stanza: the stanza is skipped up to the
// next empty line and reported with the file and line dpkg would name.
// Messages use dpkg's wording. ^Z (MSDOS EOF) handling is not reproduced: a
// status file written by dpkg never holds one.
// Source: https://git.dpkg.org/cgit/dpkg/dpkg.git/tree/lib/dpkg/parse.c

#include <bulwark/core/text.hpp>
#include <bulwark/parse/dpkg_status.hpp>

#include <algorithm>
#include <array>

namespace bulwark::deb {

namespace {

// <c-ctype.h> c_isspace(): what ends a field name and what dpkg trims.
bool dpkg_status_c_isspace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}
bool c_isalnum(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}

std::string_view trim_space(std::string_view s) {
  while (!s.empty() && dpkg_status_c_isspace(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && dpkg_status_c_isspace(s.back()))
    s.remove_suffix(1);
  return s;
}

constexpr std::array<std::string_view, 5> k_wants = {"unknown", "install", "hold", "deinstall",
                                                     "purge"};
constexpr std::array<std::string_view, 2> k_error_flags = {"ok", "reinstreq"};
constexpr std::array<std::string_view, 8> k_states = {
    "not-installed",   "config-files",     "half-installed",   "unpacked",
    "half-configured", "triggers-awaited", "triggers-pending", "installed"};

template <size_t N> bool one_of(const std::array<std::string_view, N> &set, std::string_view w) {
  return std::find(set.begin(), set.end(), w) != set.end();
}

// pkg-spec.c pkg_name_is_illegal(): "" when the name is acceptable.
std::string package_name_problem(std::string_view name) {
  if (name.empty())
    return "may not be empty string";
  if (!c_isalnum(name[0]))
    return "must start with an alphanumeric character";
  for (char c : name)
    if (!c_isalnum(c) && std::string_view("-+._").find(c) == std::string_view::npos)
      return "character '" + text::printable(std::string_view(&c, 1)) +
             "' not allowed (only letters, digits and characters '-+._')";
  return "";
}

struct Field {
  std::string name; // as written
  std::string value;
  int line = 0;
};

struct PhysicalLine {
  std::string_view text; // without the newline
  int number = 0;
  bool terminated = true; // followed by '\n'
};

std::vector<PhysicalLine> split_dpkg_status_lines(std::string_view text) {
  std::vector<PhysicalLine> lines;
  size_t i = 0;
  int number = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    bool terminated = nl != std::string_view::npos;
    if (!terminated)
      nl = text.size();
    lines.push_back(PhysicalLine{text.substr(i, nl - i), ++number, terminated});
    i = nl + 1;
  }
  return lines;
}

class StatusParser {
public:
  StatusParser(const std::string &path, DpkgStatus &out) : m_path(path), m_out(out) {}

  void parse(std::string_view text) {
    auto lines = split_dpkg_status_lines(text);
    size_t i = 0;
    while (i < lines.size()) {
      if (lines[i].text.empty()) { // stanza separators, any number
        ++i;
        continue;
      }
      size_t end = i;
      while (end < lines.size() && !lines[end].text.empty())
        ++end;
      parse_stanza(lines, i, end);
      i = end;
    }
  }

private:
  void diag(StatusDiagnostic::Level level, std::string message, int line) {
    m_out.diagnostics.push_back(StatusDiagnostic{level, std::move(message), {m_path, line}});
  }
  void error(std::string message, int line) {
    diag(StatusDiagnostic::Level::error, std::move(message), line);
  }
  void warn(std::string message, int line) {
    diag(StatusDiagnostic::Level::warning, std::move(message), line);
  }

  // Splits lines [begin, end) into fields. false (and one error) when the
  // stanza's syntax is broken.
  bool read_fields(const std::vector<PhysicalLine> &lines, size_t begin, size_t end,
                   std::vector<Field> &fields) {
    for (size_t k = begin; k < end; ++k) {
      const PhysicalLine &l = lines[k];
      std::string_view t = l.text;
      if (dpkg_status_c_isspace(t[0]) && !fields.empty()) {
        Field &f = fields.back();
        if (!l.terminated) {
          error("end of file during value of field '" + f.name + "' (missing final newline)",
                l.number);
          return false;
        }
        if (trim_space(t).empty())
          warn("blank line in value of field '" + f.name + "'", l.number);
        f.value += '\n';
        f.value += t;
        continue;
      }
      size_t n = 0;
      while (n < t.size() && !dpkg_status_c_isspace(t[n]) && t[n] != ':')
        ++n;
      std::string name(t.substr(0, n));
      std::string shown = text::printable(name);
      if (name.empty()) {
        error("empty field name", l.number);
        return false;
      }
      if (name[0] == '-') {
        error("field name '" + shown + "' cannot start with hyphen", l.number);
        return false;
      }
      size_t p = n;
      while (p < t.size() && dpkg_status_c_isspace(t[p]))
        ++p;
      if (p == t.size()) {
        error(l.terminated ? "newline in field name '" + shown + "'"
                           : "end of file after field name '" + shown + "'",
              l.number);
        return false;
      }
      if (t[p] != ':') {
        error("field name '" + shown + "' must be followed by colon", l.number);
        return false;
      }
      std::string_view value = t.substr(p + 1);
      while (!value.empty() && dpkg_status_c_isspace(value.front()))
        value.remove_prefix(1);
      if (!l.terminated) {
        error(value.empty()
                  ? "end of file before value of field '" + shown + "' (missing final newline)"
                  : "end of file during value of field '" + shown + "' (missing final newline)",
              l.number);
        return false;
      }
      for (const Field &f : fields)
        if (text::iequals(f.name, name)) {
          error("duplicate value for '" + shown + "' field", l.number);
          return false;
        }
      if (name.size() < 2) {
        error("user-defined field name '" + shown + "' too short", l.number);
        return false;
      }
      fields.push_back(Field{name, std::string(value), l.number});
    }
    return true;
  }

  void parse_stanza(const std::vector<PhysicalLine> &lines, size_t begin, size_t end) {
    std::vector<Field> fields;
    if (!read_fields(lines, begin, end, fields))
      return;
    for (Field &f : fields) // a value loses trailing whitespace only
      while (!f.value.empty() && dpkg_status_c_isspace(f.value.back()))
        f.value.pop_back();

    InstalledPackage pkg;
    pkg.loc = SourceLocation{m_path, lines[begin].number};
    const Field *package = nullptr, *status = nullptr, *version = nullptr, *source = nullptr;
    for (const Field &f : fields) {
      if (text::iequals(f.name, "Package"))
        package = &f;
      else if (text::iequals(f.name, "Status"))
        status = &f;
      else if (text::iequals(f.name, "Version"))
        version = &f;
      else if (text::iequals(f.name, "Architecture"))
        pkg.architecture = f.value;
      else if (text::iequals(f.name, "Source"))
        source = &f;
    }

    if (package == nullptr) {
      error("missing 'Package' field", pkg.loc.line);
      return;
    }
    pkg.name = package->value;
    if (auto problem = package_name_problem(pkg.name); !problem.empty()) {
      error("invalid package name in 'Package' field: " + problem, package->line);
      return;
    }

    if (status == nullptr) {
      // dpkg leaves such a package not-installed, with want unknown.
      warn("missing 'Status' field for package '" + pkg.name + "'", pkg.loc.line);
      pkg.want = "unknown";
      pkg.error_flag = "ok";
      pkg.state = "not-installed";
    } else if (!parse_status(*status, pkg)) {
      return;
    }

    bool needs_version = pkg.state != "not-installed" && pkg.state != "half-installed";
    if (version != nullptr) {
      pkg.version_text = version->value;
      std::string warning;
      auto v = parse_deb_version(version->value, &warning);
      if (!v) {
        error("'Version' field value '" + text::printable(version->value) +
                  "': " + v.error().message,
              version->line);
        return;
      }
      if (!warning.empty())
        warn("'Version' field value '" + text::printable(version->value) + "': " + warning,
             version->line);
      pkg.version = std::move(v).value();
    } else if (needs_version) {
      error("missing 'Version' field for package '" + pkg.name + "'", pkg.loc.line);
      return;
    }
    if (pkg.architecture.empty() && needs_version)
      warn("missing 'Architecture' field for package '" + pkg.name + "'", pkg.loc.line);

    pkg.source_name = pkg.name;
    pkg.source_version = pkg.version_text;
    if (source != nullptr && !source->value.empty()) {
      std::string_view s = source->value;
      size_t sp = s.find_first_of(" \t(");
      pkg.source_name = std::string(s.substr(0, sp));
      size_t open = s.find('(');
      size_t close = s.rfind(')');
      if (open != std::string_view::npos && close != std::string_view::npos && close > open)
        pkg.source_version = std::string(trim_space(s.substr(open + 1, close - open - 1)));
    }
    m_out.packages.push_back(std::move(pkg));
  }

  // fields.c f_status(): three words from fixed sets, nothing after them.
  bool parse_status(const Field &f, InstalledPackage &pkg) {
    pkg.status = f.value;
    std::vector<std::string> words;
    for (auto &w : text::split(f.value, ' '))
      for (auto &x : text::split(w, '\t'))
        words.push_back(x);
    auto bad = [&](const char *which, const std::string &detail) {
      error(std::string(which) + " word in 'Status' field: " + detail, f.line);
      return false;
    };
    if (words.empty())
      return bad("first (want)", "is missing");
    if (!one_of(k_wants, words[0]))
      return bad("first (want)", "'" + text::printable(words[0]) + "' is not allowed");
    if (words.size() < 2)
      return bad("second (error)", "is missing");
    if (!one_of(k_error_flags, words[1]))
      return bad("second (error)", "'" + text::printable(words[1]) + "' is not allowed");
    if (words.size() < 3)
      return bad("third (status)", "is missing");
    if (!one_of(k_states, words[2]))
      return bad("third (status)", "'" + text::printable(words[2]) + "' is not allowed");
    if (words.size() > 3)
      return bad("third (status)", "has trailing junk");
    pkg.want = words[0];
    pkg.error_flag = words[1];
    pkg.state = words[2];
    return true;
  }

  const std::string &m_path;
  DpkgStatus &m_out;
};

} // namespace

bool InstalledPackage::files_present() const {
  return !state.empty() && state != "not-installed" && state != "config-files";
}

bool DpkgStatus::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const StatusDiagnostic &d) {
    return d.level == StatusDiagnostic::Level::error;
  });
}

size_t DpkgStatus::installed_count() const {
  return static_cast<size_t>(std::count_if(
      packages.begin(), packages.end(), [](const InstalledPackage &p) { return p.installed(); }));
}

const InstalledPackage *DpkgStatus::find_installed(std::string_view name,
                                                   std::string_view architecture) const {
  for (const InstalledPackage &p : packages)
    if (p.installed() && p.name == name && (architecture.empty() || p.architecture == architecture))
      return &p;
  return nullptr;
}

DpkgStatus parse_dpkg_status_text(const std::string &path, std::string_view text) {
  DpkgStatus out;
  out.path = path;
  StatusParser(out.path, out).parse(text);
  return out;
}

Result<DpkgStatus> parse_dpkg_status(const RootFs &fs, const std::string &path, size_t max_bytes) {
  auto text = fs.read_file(path, max_bytes);
  if (!text)
    return text.error();
  return parse_dpkg_status_text(path, *text);
}

} // namespace bulwark::deb
