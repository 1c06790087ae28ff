#include <bulwark/core/text.hpp>
#include <bulwark/parse/sudoers.hpp>

#include <algorithm>
#include <set>

namespace bulwark::sudoers {

namespace {

constexpr int k_sudoers_max_depth = 128; // sudo's own include depth limit
constexpr size_t k_sudoers_max_bytes = 16 * 1024 * 1024;

const std::set<std::string> k_tags = {"NOPASSWD",   "PASSWD",       "NOEXEC",    "EXEC",
                                      "SETENV",     "NOSETENV",     "LOG_INPUT", "NOLOG_INPUT",
                                      "LOG_OUTPUT", "NOLOG_OUTPUT", "MAIL",      "NOMAIL",
                                      "FOLLOW",     "NOFOLLOW",     "INTERCEPT", "NOINTERCEPT"};

// Splits at `sep` outside parentheses and not escaped with a backslash;
// `keep(text_so_far)` may veto a split (the separator then stays in the text).
template <typename Keep>
std::vector<std::string> split_top(std::string_view s, char sep, Keep keep) {
  std::vector<std::string> out;
  std::string cur;
  int depth = 0;
  for (size_t i = 0; i < s.size(); ++i) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size()) {
      cur += c;
      cur += s[++i];
      continue;
    }
    depth += c == '(' ? 1 : c == ')' && depth > 0 ? -1 : 0;
    if (c == sep && depth == 0 && !keep(cur)) {
      out.emplace_back(text::trim(cur));
      cur.clear();
      continue;
    }
    cur += c;
  }
  out.emplace_back(text::trim(cur));
  return out;
}

std::vector<std::string> split_top(std::string_view s, char sep) {
  return split_top(s, sep, [](const std::string &) { return false; });
}

// Splits a specification's commands at the ':' that starts another
// "hosts = commands" group; a ':' that ends a tag (NOPASSWD:) stays, also
// in a chain without blanks (NOEXEC:NOPASSWD:ALL, which sudo accepts).
std::vector<std::string> split_groups(std::string_view s) {
  return split_top(s, ':', [](const std::string &cur) {
    std::string_view t = text::trim(cur);
    size_t a = t.find_last_of(" \t,):");
    return k_tags.count(std::string(a == std::string_view::npos ? t : t.substr(a + 1))) > 0;
  });
}

struct SudoersReader {
  const RootFs &fs;
  SudoersModel &m;
  std::vector<std::string> stack;

  void diag(std::string msg, const SourceLocation &loc) {
    m.diagnostics.push_back(Diagnostic{std::move(msg), loc});
  }

  void read_file(const std::string &path, const SourceLocation &from, int depth) {
    if (depth > k_sudoers_max_depth || std::find(stack.begin(), stack.end(), path) != stack.end()) {
      diag("include loop: " + path + " is already being read", from);
      return;
    }
    auto text = fs.read_file(path, k_sudoers_max_bytes);
    if (!text) {
      diag("cannot read included file: " + text.error().to_string(), from);
      return;
    }
    parse(path, *text, depth);
  }

  void include_dir(const std::string &dir, const SourceLocation &from, int depth) {
    auto names = fs.list_dir(dir);
    if (!names) {
      diag("cannot read included directory: " + names.error().to_string(), from);
      return;
    }
    for (auto &n : *names) {
      // sudo skips editor backups and anything with a dot (foo.dpkg-old, README.md...).
      if (n.empty() || n.back() == '~' || n.find('.') != std::string::npos)
        continue;
      std::string p = dir + "/" + n;
      auto st = fs.stat(p);
      if (!st || st->type != FileInfo::Type::regular)
        continue;
      read_file(p, from, depth + 1);
    }
  }

  void parse(const std::string &path, std::string_view text, int depth) {
    m.files.push_back(path);
    stack.push_back(path);
    std::string dir = path.substr(0, path.rfind('/'));
    if (dir.empty())
      dir = "/";
    std::string logical;
    int start_line = 0;
    int lineno = 0;
    size_t i = 0;
    while (i <= text.size()) {
      size_t nl = text.find('\n', i);
      bool last = nl == std::string_view::npos;
      if (last && i == text.size())
        break;
      std::string_view line = text.substr(i, last ? std::string_view::npos : nl - i);
      i = last ? text.size() + 1 : nl + 1;
      ++lineno;
      if (logical.empty())
        start_line = lineno;
      if (!line.empty() && line.back() == '\\') {
        logical += std::string(line.substr(0, line.size() - 1)) + " ";
        continue;
      }
      logical += line;
      handle(path, dir, SourceLocation{path, start_line}, logical, depth);
      logical.clear();
    }
    if (!logical.empty())
      handle(path, dir, SourceLocation{path, start_line}, logical, depth);
    stack.pop_back();
  }

  void handle(const std::string &path, const std::string &dir, const SourceLocation &loc,
              const std::string &raw, int depth) {
    std::string_view line = text::trim(raw);
    if (line.empty())
      return;
    auto directive = [&](std::string_view kw) {
      return text::starts_with(line, kw) && line.size() > kw.size() &&
             (line[kw.size()] == ' ' || line[kw.size()] == '\t');
    };
    for (std::string_view kw : {"#includedir", "@includedir", "#include", "@include"}) {
      if (!directive(kw))
        continue;
      std::string target(text::trim(line.substr(kw.size())));
      if (target.size() >= 2 && target.front() == '"' && target.back() == '"')
        target = target.substr(1, target.size() - 2);
      if (target.find("%h") != std::string::npos) {
        diag("include with %h (host name) is not expanded offline: " + target, loc);
        return;
      }
      std::string full = RootFs::join(dir, target);
      if (kw.find("dir") != std::string_view::npos)
        include_dir(full, loc, depth);
      else
        read_file(full, loc, depth + 1);
      return;
    }
    // A comment, unless '#' starts a numeric uid of a user specification.
    if (line[0] == '#' && !(line.size() > 1 && std::isdigit(static_cast<unsigned char>(line[1]))))
      return;
    // Strip a trailing comment (a '#' preceded by whitespace, not a uid).
    std::string body(line);
    for (size_t k = 1; k < body.size(); ++k)
      if (body[k] == '#' && (body[k - 1] == ' ' || body[k - 1] == '\t') &&
          !(k + 1 < body.size() && std::isdigit(static_cast<unsigned char>(body[k + 1])))) {
        body = std::string(text::trim(body.substr(0, k)));
        break;
      }
    if (text::starts_with(body, "Defaults")) {
      parse_defaults(body, loc);
      return;
    }
    for (std::string_view a :
         {"User_Alias", "Runas_Alias", "Host_Alias", "Cmnd_Alias", "Cmd_Alias"}) {
      if (text::starts_with(body, a) && body.size() > a.size() &&
          (body[a.size()] == ' ' || body[a.size()] == '\t')) {
        parse_alias(a, body.substr(a.size()), loc);
        return;
      }
    }
    parse_spec(body, loc);
    (void)path;
  }

  void parse_defaults(const std::string &body, const SourceLocation &loc) {
    std::string rest = body.substr(8);
    std::string scope;
    if (!rest.empty() && std::string_view("@:>!").find(rest[0]) != std::string_view::npos) {
      size_t sp = rest.find_first_of(" \t");
      scope = rest.substr(0, sp);
      rest = sp == std::string::npos ? "" : rest.substr(sp);
    } else if (!rest.empty() && rest[0] != ' ' && rest[0] != '\t') {
      diag("unrecognised Defaults line: " + text::printable(body, 80), loc);
      return;
    }
    for (auto &item : split_top(rest, ',')) {
      if (item.empty())
        continue;
      DefaultsEntry d;
      d.scope = scope;
      d.loc = loc;
      std::string it = item;
      while (!it.empty() && it[0] == '!') {
        d.negated = !d.negated;
        it = std::string(text::trim(it.substr(1)));
      }
      size_t eq = it.find('=');
      if (eq != std::string::npos) {
        std::string name(text::trim(it.substr(0, eq)));
        if (!name.empty() && (name.back() == '+' || name.back() == '-'))
          name.pop_back();
        d.name = name;
        d.value = std::string(text::trim(it.substr(eq + 1)));
        if (d.value.size() >= 2 && d.value.front() == '"' && d.value.back() == '"')
          d.value = d.value.substr(1, d.value.size() - 2);
      } else {
        d.name = it;
      }
      m.defaults.push_back(std::move(d));
    }
  }

  void parse_alias(std::string_view kind, const std::string &rest, const SourceLocation &loc) {
    for (auto &def : split_top(rest, ':')) {
      size_t eq = def.find('=');
      if (eq == std::string::npos) {
        diag("alias definition without '=': " + text::printable(def, 80), loc);
        continue;
      }
      std::string name(text::trim(def.substr(0, eq)));
      if (kind == "Cmnd_Alias" || kind == "Cmd_Alias")
        for (auto &c : split_top(def.substr(eq + 1), ','))
          m.cmnd_aliases[name].push_back(c);
    }
  }

  void parse_spec(const std::string &body, const SourceLocation &loc) {
    size_t eq = body.find('=');
    if (eq == std::string::npos) {
      diag("syntax error: not a user specification, alias or Defaults: " +
               text::printable(body, 80),
           loc);
      return;
    }
    std::string head(text::trim(body.substr(0, eq)));
    size_t sp = head.find_first_of(" \t");
    if (sp == std::string::npos) {
      diag("syntax error: a user specification needs users and hosts before '='", loc);
      return;
    }
    UserSpec spec;
    spec.users = head.substr(0, sp);
    spec.hosts = std::string(text::trim(head.substr(sp)));
    spec.text = body;
    spec.loc = loc;
    // "cmnds : hosts = cmnds : ..." — each ':'-group after the first starts with hosts =.
    auto groups = split_groups(body.substr(eq + 1));
    std::vector<std::string> tags;
    std::string runas;
    for (size_t g = 0; g < groups.size(); ++g) {
      std::string part = groups[g];
      if (g > 0) {
        size_t e2 = part.find('=');
        if (e2 != std::string::npos)
          part = part.substr(e2 + 1);
      }
      for (auto &cmd_raw : split_top(part, ',')) {
        std::string cmd = cmd_raw;
        // (runas) applies to this and the following commands.
        cmd = std::string(text::trim(cmd));
        if (!cmd.empty() && cmd[0] == '(') {
          size_t close = cmd.find(')');
          runas = cmd.substr(0, close == std::string::npos ? cmd.size() : close + 1);
          cmd = close == std::string::npos ? "" : std::string(text::trim(cmd.substr(close + 1)));
        }
        // TAG: prefixes (they persist for the following commands).
        for (;;) {
          size_t colon = cmd.find(':');
          if (colon == std::string::npos)
            break;
          std::string tag(text::trim(cmd.substr(0, colon)));
          if (!k_tags.count(tag))
            break;
          // Tags come in pairs X / NOX; the later of a pair wins.
          std::string base = tag.rfind("NO", 0) == 0 ? tag.substr(2) : tag;
          tags.erase(
              std::remove_if(tags.begin(), tags.end(),
                             [&](const std::string &t) { return t == base || t == "NO" + base; }),
              tags.end());
          tags.push_back(tag);
          cmd = std::string(text::trim(cmd.substr(colon + 1)));
        }
        if (cmd.empty())
          continue;
        spec.commands.push_back(Command{runas, tags, cmd});
      }
    }
    if (spec.commands.empty())
      diag("user specification without a command", loc);
    m.specs.push_back(std::move(spec));
  }
};

} // namespace

bool Command::has_tag(std::string_view t) const {
  return std::find(tags.begin(), tags.end(), t) != tags.end();
}

bool SudoersModel::is_all(const std::string &command) const {
  if (command == "ALL")
    return true;
  auto it = cmnd_aliases.find(command);
  if (it == cmnd_aliases.end())
    return false;
  for (auto &c : it->second)
    if (c == "ALL")
      return true;
  return false;
}

SudoersModel parse_sudoers_text(const RootFs &fs, const std::string &path, std::string_view text) {
  SudoersModel m;
  SudoersReader r{fs, m, {}};
  r.parse(path, text, 0);
  return m;
}

Result<SudoersModel> load_sudoers(const RootFs &fs, const std::string &path) {
  std::string text = TRY(fs.read_file(path, k_sudoers_max_bytes));
  return parse_sudoers_text(fs, path, text);
}

} // namespace bulwark::sudoers
