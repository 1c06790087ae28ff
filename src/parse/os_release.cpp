#include <bulwark/parse/os_release.hpp>

#include <bulwark/core/text.hpp>

#include <cerrno>
#include <optional>

namespace bulwark::osrelease {

namespace {

bool valid_key(std::string_view k) {
  if (k.empty() || (k[0] >= '0' && k[0] <= '9'))
    return false;
  for (char c : k)
    if (!((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_'))
      return false;
  return true;
}

// A shell word without expansion: quotes removed, backslash escapes of
// double quotes and of unquoted text applied. nullopt when a quote is not
// closed or unquoted whitespace follows the word.
std::optional<std::string> os_release_unquote(std::string_view v) {
  std::string out;
  char quote = 0;
  for (size_t i = 0; i < v.size(); ++i) {
    char c = v[i];
    if (quote == '\'') {
      if (c == '\'')
        quote = 0;
      else
        out += c;
    } else if (quote == '"') {
      if (c == '"')
        quote = 0;
      else if (c == '\\' && i + 1 < v.size() &&
               std::string_view("$\"\\`").find(v[i + 1]) != std::string_view::npos)
        out += v[++i];
      else
        out += c;
    } else if (c == '\'' || c == '"') {
      quote = c;
    } else if (c == '\\' && i + 1 < v.size()) {
      out += v[++i];
    } else if (c == ' ' || c == '\t') {
      // Only a trailing comment may follow a word.
      std::string_view rest = text::trim(v.substr(i));
      if (!rest.empty() && rest[0] != '#')
        return std::nullopt;
      break;
    } else {
      out += c;
    }
  }
  if (quote)
    return std::nullopt;
  return out;
}

} // namespace

std::string OsRelease::value(const std::string &key) const {
  auto it = fields.find(key);
  return it == fields.end() ? "" : it->second.value;
}

OsRelease parse_os_release(std::string_view text, const std::string &path) {
  OsRelease r;
  r.path = path;
  int line_no = 0;
  for (const std::string &raw : text::split(text, '\n', true)) {
    ++line_no;
    std::string_view line = text::trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || !valid_key(line.substr(0, eq))) {
      r.diagnostics.push_back(
          Error{"not an assignment: \"" + text::printable(line, 80) + "\"", path, line_no});
      continue;
    }
    auto v = os_release_unquote(line.substr(eq + 1));
    if (!v) {
      r.diagnostics.push_back(
          Error{"unterminated quote or unquoted space in \"" + text::printable(line, 80) + "\"",
                path, line_no});
      continue;
    }
    r.fields[std::string(line.substr(0, eq))] = Field{std::move(*v), {path, line_no}};
  }
  return r;
}

Result<OsRelease> load_os_release(const RootFs &fs) {
  for (const char *path : {"/etc/os-release", "/usr/lib/os-release"}) {
    auto text = fs.read_file(path, 64 * 1024);
    if (text)
      return parse_os_release(*text, path);
    if (!text.error().not_found())
      return text.error();
  }
  return Error{"neither /etc/os-release nor /usr/lib/os-release exists", "/etc/os-release", 0,
               ENOENT};
}

} // namespace bulwark::osrelease
