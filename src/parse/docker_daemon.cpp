#include <bulwark/parse/docker_daemon.hpp>

#include <algorithm>

namespace bulwark::docker {

namespace {

int docker_daemon_line_at(std::string_view text, size_t byte) {
  byte = std::min(byte, text.size());
  return 1 +
         static_cast<int>(std::count(text.begin(), text.begin() + static_cast<long>(byte), '\n'));
}

// The lines of the top-level object's keys: a string at depth 1 followed by
// ':' is a key (a string value is followed by ',' or '}'). Runs on text
// nlohmann::json has accepted, so strings and nesting are well formed.
std::map<std::string, int> top_level_keys(std::string_view text) {
  std::map<std::string, int> out;
  int depth = 0, line = 1;
  for (size_t i = 0; i < text.size(); ++i) {
    char c = text[i];
    if (c == '\n') {
      ++line;
    } else if (c == '{' || c == '[') {
      ++depth;
    } else if (c == '}' || c == ']') {
      --depth;
    } else if (c == '"') {
      size_t start = i + 1, end = start;
      while (end < text.size() && text[end] != '"')
        end += text[end] == '\\' ? 2 : 1;
      int at = line;
      i = std::min(end, text.size());
      if (depth != 1)
        continue;
      size_t j = i + 1;
      while (j < text.size() &&
             (text[j] == ' ' || text[j] == '\t' || text[j] == '\r' || text[j] == '\n'))
        ++j;
      if (j < text.size() && text[j] == ':') {
        // Keys with escapes are compared decoded.
        std::string raw(text.substr(start - 1, end - start + 2));
        auto key = nlohmann::json::parse(raw, nullptr, false);
        if (key.is_string())
          out[key.get<std::string>()] = at;
      }
    }
  }
  return out;
}

} // namespace

int DaemonConfig::line_of(const std::string &key) const {
  auto it = key_lines.find(key);
  return it == key_lines.end() ? 0 : it->second;
}

Result<DaemonConfig> parse_daemon_json(std::string_view text, const std::string &path) {
  DaemonConfig c;
  c.path = path;
  // nlohmann::json ends its input at a NUL byte ("{}\0garbage" is {}); JSON
  // has no raw NUL anywhere, and Go's encoding/json refuses one.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos)
    return Error{"invalid JSON: a NUL byte", path, docker_daemon_line_at(text, nul)};
  try {
    c.options = nlohmann::json::parse(text);
  } catch (const nlohmann::json::parse_error &e) {
    return Error{std::string("invalid JSON: ") + e.what(), path,
                 docker_daemon_line_at(text, e.byte)};
  } catch (const nlohmann::json::exception &e) {
    // A number beyond a double (out_of_range 406) has no position; dockerd's
    // encoding/json refuses it too.
    return Error{std::string("invalid JSON: ") + e.what(), path, 0};
  }
  if (!c.options.is_object())
    return Error{std::string("not a JSON object but ") + c.options.type_name(), path, 1};
  c.key_lines = top_level_keys(text);
  return c;
}

Result<DaemonConfig> load_daemon_json(const RootFs &fs, const std::string &path) {
  auto text = fs.read_file(path, 1024 * 1024);
  if (!text)
    return text.error();
  return parse_daemon_json(*text, path);
}

} // namespace bulwark::docker
