// APT's configuration files, read as apt 2.6's ReadConfigFile does (see
// aptconf.hpp for the format's semantics and the source it follows).

#include <bulwark/parse/aptconf.hpp>

#include <bulwark/core/text.hpp>

#include <algorithm>

namespace bulwark::apt {

namespace {

constexpr size_t k_word_max = 1024;                  // apt's ParseQuoteWord/ParseCWord buffers
constexpr size_t k_max_file = 4 * 1024 * 1024;       // per configuration file
constexpr size_t k_aptconf_max_nesting = 64;         // braces
constexpr unsigned k_aptconf_max_include_depth = 10; // apt: "Too many nested includes"

bool aptconf_is_space(char c) {
  return c == ' ' || c == '\t' || c == '\n' || c == '\v' || c == '\f' || c == '\r';
}

bool is_xdigit(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

int aptconf_hex_value(char c) {
  if (c >= '0' && c <= '9')
    return c - '0';
  return (c | 0x20) - 'a' + 10;
}

char lower_ascii(char c) {
  return (c >= 'A' && c <= 'Z') ? static_cast<char>(c + 32) : c;
}

std::string lower_ascii(std::string_view s) {
  std::string out(s);
  for (char &c : out)
    c = lower_ascii(c);
  return out;
}

// ParseQuoteWord: one word, quotes and [..] may hold blanks; quotes removed,
// %XX decoded, cut to 1024 bytes and at a decoded NUL. On failure `pos` and
// `res` are left alone.
bool parse_quote_word(std::string_view s, size_t &pos, std::string &res) {
  size_t c = pos;
  while (c < s.size() && s[c] == ' ')
    ++c;
  if (c == s.size())
    return false;
  for (; c < s.size() && !aptconf_is_space(s[c]); ++c) {
    if (s[c] == '"') {
      size_t e = s.find('"', c + 1);
      if (e == std::string_view::npos)
        return false;
      c = e;
    }
    if (s[c] == '[') {
      size_t e = s.find(']', c + 1);
      if (e == std::string_view::npos)
        return false;
      c = e;
    }
  }
  std::string out;
  for (size_t i = pos; i != c && out.size() < k_word_max;) {
    if (s[i] == '%' && i + 2 < c && is_xdigit(s[i + 1]) && is_xdigit(s[i + 2])) {
      out += static_cast<char>(aptconf_hex_value(s[i + 1]) * 16 + aptconf_hex_value(s[i + 2]));
      i += 3;
      continue;
    }
    if (s[i] != '"')
      out += s[i];
    ++i;
  }
  if (size_t nul = out.find('\0'); nul != std::string::npos)
    out.resize(nul);
  while (c < s.size() && aptconf_is_space(s[c]))
    ++c;
  res = std::move(out);
  pos = c;
  return true;
}

// ParseCWord: "a" "b" -> "a b"; fails on anything unquoted but blanks.
bool parse_c_word(std::string_view s, size_t &pos, std::string &res) {
  size_t c = pos;
  while (c < s.size() && s[c] == ' ')
    ++c;
  if (c == s.size())
    return false;
  if (s.size() - pos >= k_word_max)
    return false;
  std::string buf;
  for (; c < s.size(); ++c) {
    if (s[c] == '"') {
      for (++c; c < s.size() && s[c] != '"'; ++c)
        buf += s[c];
      if (c == s.size())
        return false;
      continue;
    }
    if (c != pos && aptconf_is_space(s[c]) && aptconf_is_space(s[c - 1]))
      continue;
    if (!aptconf_is_space(s[c]))
      return false;
    buf += ' ';
  }
  res = std::move(buf);
  pos = c;
  return true;
}

std::string_view aptconf_strip(std::string_view s) {
  while (!s.empty() && aptconf_is_space(s.front()))
    s.remove_prefix(1);
  while (!s.empty() && aptconf_is_space(s.back()))
    s.remove_suffix(1);
  return s;
}

// Position of the first `needle` at or after `from` with an even number of
// '"' before it in `line`, npos when none. `quotes_before` counts the quotes
// in line[0, from).
size_t find_unquoted(std::string_view line, std::string_view needle, size_t from = 0) {
  size_t quotes = static_cast<size_t>(std::count(line.begin(), line.begin() + from, '"'));
  size_t scanned = from;
  for (size_t at = line.find(needle, from); at != std::string_view::npos;
       at = line.find(needle, at + 1)) {
    quotes += static_cast<size_t>(std::count(line.begin() + scanned, line.begin() + at, '"'));
    scanned = at;
    if (quotes % 2 == 0)
      return at;
  }
  return std::string_view::npos;
}

struct AptconfReader {
  AptConfig &conf;
  const RootFs *fs;

  bool error(const std::string &path, int line, std::string message) {
    conf.diagnostics.push_back({ConfDiagnostic::Level::error, std::move(message), {path, line}});
    return false;
  }

  bool read_file(const std::string &path, unsigned depth, const std::string &from, int from_line);
  bool read_dir(const std::string &dir, unsigned depth, const std::string &from, int from_line);
  bool read_text(const std::string &path, std::string_view text, unsigned depth);
};

bool AptconfReader::read_file(const std::string &path, unsigned depth, const std::string &from,
                              int from_line) {
  if (!fs)
    return error(from, from_line, "cannot open " + path + ": no file system to include from");
  auto data = fs->read_file(path, k_max_file);
  if (!data)
    return error(path, 0, "cannot read configuration file: " + data.error().message);
  return read_text(path, *data, depth);
}

bool AptconfReader::read_dir(const std::string &dir, unsigned depth, const std::string &from,
                             int from_line) {
  if (!fs)
    return error(from, from_line, "cannot read directory " + dir + ": no file system");
  auto st = fs->stat(dir);
  if (!st || st->type != FileInfo::Type::directory)
    return error(dir, 0, "List of files can't be created as '" + dir + "' is not a directory");
  bool good = true;
  for (const std::string &f : apt_conf_parts(*fs, dir, &conf.diagnostics))
    good = read_file(f, depth, from, from_line) && good;
  return good;
}

bool AptconfReader::read_text(const std::string &path, std::string_view text, unsigned depth) {
  conf.files.push_back(path);
  std::string line_buffer;
  std::vector<std::string> stack;
  std::string parent_tag;
  auto leave_scope = [&] {
    if (stack.empty()) {
      parent_tag.clear();
    } else {
      parent_tag = std::move(stack.back());
      stack.pop_back();
    }
  };

  int cur_line = 0;
  bool in_comment = false;
  size_t at = 0;
  // apt's loop reads one more (empty) line after a final newline.
  bool more = true;
  while (more) {
    std::string_view raw;
    size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos) {
      raw = text.substr(at);
      more = false;
    } else {
      raw = text.substr(at, nl - at);
      at = nl + 1;
    }
    ++cur_line;
    if (size_t nul = raw.find('\0'); nul != std::string_view::npos) {
      conf.diagnostics.push_back({ConfDiagnostic::Level::warning,
                                  "NUL byte: the rest of the line is ignored",
                                  {path, cur_line}});
      raw = raw.substr(0, nul);
    }
    std::string expanded;
    expanded.reserve(raw.size());
    for (char ch : raw) {
      if (ch == '\t')
        expanded.append(8, ' ');
      else
        expanded += ch;
    }
    std::string_view line = aptconf_strip(expanded);

    if (in_comment) {
      size_t end = line.find("*/");
      if (end == std::string_view::npos)
        continue;
      line.remove_prefix(end + 2);
      in_comment = false;
    }
    if (size_t c = find_unquoted(line, "//"); c != std::string_view::npos)
      line = line.substr(0, c);
    for (size_t from = 0;;) {
      size_t c = find_unquoted(line, "#", from);
      if (c == std::string_view::npos)
        break;
      std::string_view rest = line.substr(c + 1);
      if (rest.starts_with("clear") || rest.starts_with("include") ||
          rest.starts_with("x-apt-configure-index")) {
        from = c + 1;
        continue;
      }
      line = line.substr(0, c);
      break;
    }
    std::string fragment;
    for (;;) {
      size_t c = find_unquoted(line, "/*");
      if (c == std::string_view::npos)
        break;
      fragment.append(line.substr(0, c));
      size_t end = line.find("*/", c + 2);
      if (end == std::string_view::npos) {
        line = {};
        in_comment = true;
        break;
      }
      line.remove_prefix(end + 2);
    }
    fragment.append(line);
    if (fragment.empty())
      continue;

    bool in_quote = false;
    size_t start = 0;
    for (size_t i = 0; i < fragment.size(); ++i) {
      char ch = fragment[i];
      if (ch == '"')
        in_quote = !in_quote;
      if (in_quote || (ch != '{' && ch != ';' && ch != '}'))
        continue;
      std::string_view piece = aptconf_strip(std::string_view(fragment).substr(start, i - start));
      if (!line_buffer.empty() && !piece.empty())
        line_buffer += ' ';
      line_buffer += piece;
      char term = ch;
      start = i + 1;

      if (term == '{' && line_buffer.empty())
        return error(path, cur_line, "Syntax error: Block starts with no name.");
      if (line_buffer.empty()) {
        if (term == '}')
          leave_scope();
        continue;
      }

      size_t pos = 0;
      std::string tag;
      if (!parse_quote_word(line_buffer, pos, tag))
        return error(path, cur_line, "Syntax error: Malformed tag");
      std::string word;
      bool no_word = false;
      if (!parse_c_word(line_buffer, pos, word) && !parse_quote_word(line_buffer, pos, word)) {
        if (term != '{') {
          word = std::move(tag);
          tag.clear();
        } else {
          no_word = true;
        }
      }
      if (pos != line_buffer.size())
        return error(path, cur_line, "Syntax error: Extra junk after value");

      if (term == '{') {
        if (stack.size() >= k_aptconf_max_nesting)
          return error(path, cur_line,
                       "blocks nested deeper than " + std::to_string(k_aptconf_max_nesting) +
                           " (bulwark's limit)");
        stack.push_back(parent_tag);
        if (parent_tag.empty())
          parent_tag = tag;
        else
          parent_tag.append("::").append(tag);
        tag.clear();
      }

      std::string item;
      if (parent_tag.empty())
        item = tag;
      else if (term != '{' || !tag.empty())
        item = parent_tag + "::" + tag;
      else
        item = parent_tag;

      if (!tag.empty() && tag[0] == '#') {
        if (!parent_tag.empty())
          return error(path, cur_line,
                       "Syntax error: Directives can only be done at the top level");
        std::string directive = tag.substr(1);
        if (directive == "clear") {
          conf.clear(word);
        } else if (directive == "include") {
          if (depth > k_aptconf_max_include_depth)
            return error(path, cur_line, "Syntax error: Too many nested includes");
          std::string target = RootFs::join("/", word);
          bool ok = (word.size() > 2 && word.back() == '/')
                        ? read_dir(target, depth + 1, path, cur_line)
                        : read_file(target, depth + 1, path, cur_line);
          if (!ok)
            return error(path, cur_line, "Syntax error: Included from here");
        } else if (directive == "x-apt-configure-index") {
          conf.diagnostics.push_back({ConfDiagnostic::Level::warning,
                                      "#x-apt-configure-index is not evaluated",
                                      {path, cur_line}});
        } else {
          return error(path, cur_line,
                       "Syntax error: Unsupported directive '" + text::printable(directive) + "'");
        }
      } else if (tag.empty() && !no_word && word == "#clear") {
        return error(path, cur_line,
                     "Syntax error: clear directive requires an option tree as argument");
      } else if (!no_word) {
        if (conf.size() >= AptConfig::k_max_nodes)
          return error(path, cur_line,
                       "more than " + std::to_string(AptConfig::k_max_nodes) +
                           " configuration nodes (bulwark's limit)");
        conf.set(item, std::move(word), {path, cur_line});
      }

      line_buffer.clear();
      if (term == '}')
        leave_scope();
    }
    std::string_view rest = aptconf_strip(std::string_view(fragment).substr(start));
    if (!rest.empty() && !line_buffer.empty())
      line_buffer += ' ';
    line_buffer += rest;
  }
  if (!line_buffer.empty())
    return error(path, cur_line, "Syntax error: Extra junk at end of file");
  return true;
}

} // namespace

AptConfig::AptConfig() {
  m_nodes.emplace_back();
}

uint32_t AptConfig::lookup_const(uint32_t head, std::string_view tag) const {
  if (tag.empty())
    return 0;
  const ConfNode &h = m_nodes[head];
  auto it = h.index.find(lower_ascii(tag));
  return it == h.index.end() ? 0 : it->second;
}

uint32_t AptConfig::lookup(uint32_t head, std::string_view tag, bool create) {
  if (uint32_t found = lookup_const(head, tag))
    return found;
  if (!create)
    return 0;
  auto id = static_cast<uint32_t>(m_nodes.size());
  ConfNode n;
  n.tag = std::string(tag);
  n.parent = head;
  m_nodes.push_back(std::move(n));
  m_nodes[head].children.push_back(id);
  if (!tag.empty())
    m_nodes[head].index.emplace(lower_ascii(tag), id);
  return id;
}

// Configuration::Lookup(Name, Create): split at each "::" scanning left to
// right; an empty final part creates a new list item.
uint32_t AptConfig::lookup_path(std::string_view name, bool create) {
  uint32_t itm = 0;
  size_t start = 0;
  // As apt does, the character right after a "::" is never the start of
  // the next one: "a::::b" is "a" then "::b".
  for (size_t end = 0; end + 2 <= name.size(); ++end) {
    if (name[end] == ':' && name[end + 1] == ':') {
      itm = lookup(itm, name.substr(start, end - start), create);
      if (itm == 0)
        return 0;
      start = end + 2;
      end = start;
    }
  }
  if (name.size() == start && !create)
    return 0;
  return lookup(itm, name.substr(start), create);
}

uint32_t AptConfig::lookup_path_const(std::string_view name) const {
  uint32_t itm = 0;
  size_t start = 0;
  for (size_t end = 0; end + 2 <= name.size(); ++end) {
    if (name[end] == ':' && name[end + 1] == ':') {
      itm = lookup_const(itm, name.substr(start, end - start));
      if (itm == 0)
        return 0;
      start = end + 2;
      end = start;
    }
  }
  return lookup_const(itm, name.substr(start));
}

const ConfNode *AptConfig::find(std::string_view name) const {
  uint32_t id = lookup_path_const(name);
  return id == 0 ? nullptr : &m_nodes[id];
}

std::string AptConfig::value(std::string_view name) const {
  const ConfNode *n = find(name);
  return n ? n->value : std::string();
}

std::vector<const ConfNode *> AptConfig::list(std::string_view name) const {
  std::vector<const ConfNode *> out;
  if (const ConfNode *n = find(name))
    for (uint32_t c : n->children)
      if (!m_nodes[c].value.empty())
        out.push_back(&m_nodes[c]);
  return out;
}

std::string AptConfig::full_tag(const ConfNode &n) const {
  std::vector<const ConfNode *> chain;
  for (const ConfNode *p = &n; p != &m_nodes[0]; p = &m_nodes[p->parent])
    chain.push_back(p);
  std::string out;
  for (auto it = chain.rbegin(); it != chain.rend(); ++it) {
    if (it != chain.rbegin())
      out += "::";
    out += (*it)->tag;
  }
  return out;
}

std::vector<std::pair<std::string, std::string>> AptConfig::dump(std::string_view root) const {
  std::vector<std::pair<std::string, std::string>> out;
  uint32_t top = 0;
  if (!root.empty()) {
    top = lookup_path_const(root);
    if (top == 0)
      return out;
  }
  // Depth first without recursion: the tree may be thousands deep.
  std::vector<uint32_t> todo;
  if (top != 0)
    todo.push_back(top);
  else
    for (auto it = m_nodes[0].children.rbegin(); it != m_nodes[0].children.rend(); ++it)
      todo.push_back(*it);
  while (!todo.empty()) {
    uint32_t id = todo.back();
    todo.pop_back();
    out.emplace_back(full_tag(m_nodes[id]), m_nodes[id].value);
    for (auto it = m_nodes[id].children.rbegin(); it != m_nodes[id].children.rend(); ++it)
      todo.push_back(*it);
  }
  return out;
}

void AptConfig::set(std::string_view name, std::string value, SourceLocation loc) {
  uint32_t id = lookup_path(name, true);
  if (id == 0)
    return;
  m_nodes[id].value = std::move(value);
  m_nodes[id].loc = std::move(loc);
}

// Configuration::Clear(Name): the node stays, its value and subtree go.
// Removed nodes stay in the vector, unreachable (ids must stay stable).
void AptConfig::clear(std::string_view name) {
  uint32_t id = lookup_path_const(name);
  if (id == 0)
    return;
  m_nodes[id].value.clear();
  m_nodes[id].loc = {};
  m_nodes[id].children.clear();
  m_nodes[id].index.clear();
}

bool AptConfig::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(), [](const ConfDiagnostic &d) {
    return d.level == ConfDiagnostic::Level::error;
  });
}

bool read_apt_conf_text(AptConfig &conf, const std::string &path, std::string_view text,
                        const RootFs *fs, unsigned depth) {
  AptconfReader r{conf, fs};
  return r.read_text(path, text, depth);
}

bool apt_conf_part_name_ok(std::string_view name) {
  if (name.empty() || name[0] == '.')
    return false;
  size_t dot = name.rfind('.');
  if (dot != std::string_view::npos && name.substr(dot + 1) != "conf")
    return false;
  for (char c : name) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '-' || c == ':' || c == '.';
    if (!ok)
      return false;
  }
  return name.back() != '.';
}

std::vector<std::string> apt_conf_parts(const RootFs &fs, const std::string &dir,
                                        std::vector<ConfDiagnostic> *notes) {
  std::vector<std::string> out;
  auto names = fs.list_dir(dir);
  if (!names)
    return out;
  for (const std::string &name : *names) {
    std::string path = RootFs::join(dir, name);
    if (name.empty() || name[0] == '.')
      continue;
    auto st = fs.stat(path); // follows symlinks, inside the root
    if (!st || st->type != FileInfo::Type::regular) {
      if (notes && (!st || st->type != FileInfo::Type::directory))
        notes->push_back({ConfDiagnostic::Level::warning,
                          "ignored: not a regular file (apt skips it)",
                          {path, 0}});
      continue;
    }
    if (!apt_conf_part_name_ok(name)) {
      if (notes)
        notes->push_back({ConfDiagnostic::Level::warning,
                          "ignored: apt reads only names of [A-Za-z0-9_:.-] with no extension "
                          "or \".conf\"",
                          {path, 0}});
      continue;
    }
    out.push_back(path);
  }
  std::sort(out.begin(), out.end());
  return out;
}

AptConfig load_apt_config(const RootFs &fs, const std::string &etc_dir) {
  AptConfig conf;
  AptconfReader r{conf, &fs};
  std::string parts = RootFs::join(etc_dir, "apt.conf.d");
  if (auto st = fs.stat(parts); st && st->type == FileInfo::Type::directory)
    for (const std::string &f : apt_conf_parts(fs, parts, &conf.diagnostics))
      r.read_file(f, 0, f, 0);
  std::string main = RootFs::join(etc_dir, "apt.conf");
  if (auto st = fs.stat(main); st && st->type == FileInfo::Type::regular)
    r.read_file(main, 0, main, 0);
  return conf;
}

} // namespace bulwark::apt
