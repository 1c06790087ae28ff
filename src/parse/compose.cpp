// The compose loader: per-file parse, interpolation, normalisation,
// include and extends, then the -f merge (the header describes the rules
// and their source). Every Value keeps the file and line it came from, so a
// merged setting names the override that set it.

#include <bulwark/core/hostfs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/dotenv.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <memory>
#include <set>
#include <unordered_map>

namespace bulwark::embedded {
std::string_view compose_spec_keys(); // data/compose/spec-keys.yaml
}

namespace bulwark::compose {

using namespace bulwark::text;

Value::Value() = default;
Value::~Value() = default;
Value::Value(const Value &) = default;
Value::Value(Value &&) noexcept = default;
Value &Value::operator=(const Value &) = default;
Value &Value::operator=(Value &&) noexcept = default;

const Value *Value::find(std::string_view key) const {
  for (auto &e : entries)
    if (e.first == key)
      return &e.second;
  return nullptr;
}
Value *Value::find(std::string_view key) {
  for (auto &e : entries)
    if (e.first == key)
      return &e.second;
  return nullptr;
}
std::vector<EnvFileEntry> env_file_entries(const Value &service) {
  std::vector<EnvFileEntry> out;
  const Value *ef = service.find("env_file");
  if (ef == nullptr)
    return out;
  auto add = [&](const Value &i) {
    const Value *pv = i.is_mapping() ? i.find("path") : &i;
    if (pv != nullptr && !pv->str().empty())
      out.push_back({&i, pv});
  };
  if (ef->is_sequence())
    for (auto &i : ef->items)
      add(i);
  else
    add(*ef);
  return out;
}

const std::string &Value::str() const {
  static const std::string empty;
  return kind == Kind::scalar ? scalar : empty;
}

bool Project::valid() const {
  for (auto &d : diagnostics)
    if (d.level == Diagnostic::Level::error)
      return false;
  return true;
}
SourceLocation Project::where(Loc l) const {
  if (l.file < 0 || static_cast<size_t>(l.file) >= files.size())
    return {files.empty() ? std::string() : files.front(), 0};
  return {files[static_cast<size_t>(l.file)], l.line};
}
std::string Project::at(Loc l) const {
  return at(where(l));
}
std::string Project::at(const SourceLocation &s) const {
  return s.path + ":" + std::to_string(s.line);
}
std::string Project::resolve(Loc l, const std::string &path) const {
  if (path.empty() || path[0] == '/')
    return path;
  std::string dir = l.file >= 0 && static_cast<size_t>(l.file) < file_dirs.size()
                        ? file_dirs[static_cast<size_t>(l.file)]
                        : directory;
  return join_path(dir, path);
}
const Value *Project::services() const {
  const Value *s = root.find("services");
  return s && s->is_mapping() ? s : nullptr;
}

// --- readers -------------------------------------------------------------

Reader root_reader(const RootFs &fs) {
  Reader r;
  r.read = [&fs](const std::string &path, size_t max) { return fs.read_file(path, max); };
  r.is_file = [&fs](const std::string &path) {
    auto st = fs.stat(path);
    return st.ok() && st->type == FileInfo::Type::regular;
  };
  return r;
}

Reader host_reader() {
  Reader r;
  // --compose paths outside the target are the user's own: read as plain
  // files, never a FIFO or device, capped (HostFs).
  r.read = [](const std::string &path, size_t max) { return HostFs::read_file(path, max, ""); };
  r.is_file = [](const std::string &path) { return HostFs::is_file(path); };
  return r;
}

std::string dirname_of(const std::string &p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos)
    return ".";
  return s == 0 ? "/" : p.substr(0, s);
}

std::string join_path(const std::string &dir, const std::string &p) {
  if (!p.empty() && p[0] == '/')
    return p;
  std::string rel = p;
  while (starts_with(rel, "./"))
    rel = rel.substr(2);
  if (rel.empty() || rel == ".")
    return dir;
  if (dir.empty() || dir == ".")
    return rel;
  return dir.back() == '/' ? dir + rel : dir + "/" + rel;
}

// --- short syntax ----------------------------------------------------------

namespace {

bool is_true(const Value *v) {
  if (!v || !v->is_scalar())
    return false;
  std::string s = lower(v->scalar);
  return s == "true" || s == "yes" || s == "on" || s == "1";
}

} // namespace

std::optional<Port> parse_port_item(const Value &item);

std::optional<std::vector<Port>> parse_port(const Value &item) {
  auto p = parse_port_item(item);
  if (!p)
    return std::nullopt;
  return std::vector<Port>{*p};
}

std::optional<Port> parse_port_item(const Value &item) {
  Port p;
  p.loc = item.where();
  if (item.is_mapping()) {
    if (auto *v = item.find("target"))
      p.target = v->str();
    if (auto *v = item.find("published"))
      p.published = v->str();
    if (auto *v = item.find("host_ip"))
      p.host_ip = v->str();
    if (auto *v = item.find("protocol"); v && !v->str().empty())
      p.protocol = lower(v->str());
    if (p.target.empty())
      return std::nullopt;
    return p;
  }
  if (!item.is_scalar() || item.scalar.empty())
    return std::nullopt;
  std::string s = item.scalar;
  if (size_t sl = s.rfind('/'); sl != std::string::npos) {
    p.protocol = lower(s.substr(sl + 1));
    s = s.substr(0, sl);
  }
  // docker/go-connections nat.ParsePortSpec: the last field is the
  // container port, the one before it the host port, the rest the IP.
  std::vector<std::string> parts;
  size_t start = 0;
  for (size_t i = 0; i <= s.size(); ++i)
    if (i == s.size() || s[i] == ':') {
      parts.push_back(s.substr(start, i - start));
      start = i + 1;
    }
  size_t n = parts.size();
  p.target = parts[n - 1];
  if (n >= 2)
    p.published = parts[n - 2];
  if (n == 3)
    p.host_ip = parts[0];
  else if (n > 3) {
    std::vector<std::string> ip(parts.begin(), parts.end() - 2);
    p.host_ip = join(ip, ":");
  }
  if (p.host_ip.size() >= 2 && p.host_ip.front() == '[' && p.host_ip.back() == ']')
    p.host_ip = p.host_ip.substr(1, p.host_ip.size() - 2);
  if (p.target.empty())
    return std::nullopt;
  return p;
}

std::optional<Mount> parse_volume(const Value &item) {
  Mount m;
  m.loc = item.where();
  if (item.is_mapping()) {
    m.type = item.find("type") ? item.find("type")->str() : "volume";
    if (auto *v = item.find("source"))
      m.source = v->str();
    if (auto *v = item.find("target"))
      m.target = v->str();
    m.read_only = is_true(item.find("read_only"));
    if (m.target.empty())
      return std::nullopt;
    return m;
  }
  if (!item.is_scalar() || item.scalar.empty())
    return std::nullopt;
  const std::string &s = item.scalar;
  // SOURCE:TARGET[:MODE] or TARGET (an anonymous volume).
  std::vector<std::string> parts = split(s, ':', true);
  if (parts.size() == 1) {
    m.type = "volume";
    m.target = parts[0];
  } else {
    m.source = parts[0];
    m.target = parts[1];
    if (parts.size() >= 3) {
      std::vector<std::string> rest(parts.begin() + 2, parts.end());
      m.options = join(rest, ":");
    }
    bool path = !m.source.empty() && (m.source[0] == '/' || m.source[0] == '.' ||
                                      m.source[0] == '~' || m.source[0] == '$');
    m.type = path ? "bind" : "volume";
    for (auto &o : split(m.options, ','))
      if (o == "ro")
        m.read_only = true;
  }
  if (m.target.empty())
    return std::nullopt;
  return m;
}

std::string merge_key(std::string_view field, const Value &item) {
  if (field == "ports") {
    auto p = parse_port_item(item);
    if (!p)
      return "?" + item.str();
    return (p->host_ip.empty() ? std::string("0.0.0.0") : p->host_ip) + "|" + p->published + "|" +
           p->target + "|" + p->protocol;
  }
  if (field == "volumes") {
    auto m = parse_volume(item);
    return m ? m->target : "?" + item.str();
  }
  if (field == "devices") {
    if (item.is_mapping())
      return item.find("target") ? item.find("target")->str() : "";
    auto parts = split(item.str(), ':', true);
    return parts.size() >= 2 ? parts[1] : item.str();
  }
  if (field == "secrets" || field == "configs") {
    if (item.is_mapping()) {
      if (auto *t = item.find("target"); t && !t->str().empty())
        return t->str();
      return item.find("source") ? item.find("source")->str() : "";
    }
    return item.str();
  }
  if (field == "tmpfs")
    return split(item.str(), ':', true).front();
  if (field == "env_file") {
    if (item.is_mapping())
      return item.find("path") ? item.find("path")->str() : "";
    return item.str();
  }
  static const std::set<std::string_view> k_unique = {
      "cap_add", "cap_drop",     "expose",    "profiles",       "dns",   "dns_search",
      "dns_opt", "security_opt", "group_add", "external_links", "links", "volumes_from"};
  if (k_unique.count(field))
    return item.is_scalar() ? item.scalar : "";
  return "";
}

// --- loading -------------------------------------------------------------

namespace {

// The text with every line that starts (after blanks) with `]` or `}`
// while a flow collection is open indented one column deeper than the line
// that opened the outermost collection; nullopt when there is none. Quotes
// and comments are skipped as YAML's flow context has them.
std::optional<std::string> indent_flow_closers(std::string_view text) {
  std::string out;
  out.reserve(text.size() + 64);
  int depth = 0;
  size_t open_indent = 0;
  bool changed = false;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    size_t indent = line.find_first_not_of(' ');
    if (indent == std::string_view::npos)
      indent = line.size();
    if (depth > 0 && indent < line.size() && (line[indent] == ']' || line[indent] == '}') &&
        indent <= open_indent) {
      out.append(open_indent + 1 - indent, ' ');
      changed = true;
    }
    char quote = 0;
    for (size_t i = 0; i < line.size(); ++i) {
      char c = line[i];
      if (quote) {
        if (c == quote) {
          if (quote == '\'' && i + 1 < line.size() && line[i + 1] == '\'')
            ++i;
          else
            quote = 0;
        } else if (c == '\\' && quote == '"')
          ++i;
        continue;
      }
      if (c == '#' && (i == 0 || line[i - 1] == ' ' || line[i - 1] == '\t'))
        break;
      if ((c == '"' || c == '\'') && (depth > 0 || i == 0 || line[i - 1] == ' '))
        quote = c;
      else if (c == '[' || c == '{') {
        if (depth == 0)
          open_indent = indent;
        ++depth;
      } else if ((c == ']' || c == '}') && depth > 0)
        --depth;
    }
    out.append(line);
    if (nl == std::string_view::npos)
      break;
    out += '\n';
    pos = nl + 1;
  }
  if (!changed)
    return std::nullopt;
  return out;
}

class Loader {
public:
  Loader(const Reader &reader, Project &p) : m_reader(reader), m_p(p), m_vars(&p.variables) {}

  void diag(Diagnostic::Level lv, std::string msg, Loc loc) {
    // Bounded: a hostile file must not grow the list without end.
    if (m_p.diagnostics.size() < 200)
      m_p.diagnostics.push_back({lv, std::move(msg), m_p.where(loc)});
  }
  void error(std::string msg, Loc loc) { diag(Diagnostic::Level::error, std::move(msg), loc); }

  // interpolate() within what is left of the project's budget. Running out
  // is one error, at `loc`, recorded even past the diagnostics cap; after it
  // nothing more is interpolated (nullopt: the project is not known).
  std::optional<Result<std::string>>
  interpolate_budgeted(const std::string &text, const std::map<std::string, std::string> &vars,
                       std::vector<std::string> *unset, Loc loc) {
    if (m_interpolation_spent)
      return std::nullopt;
    auto r = interpolate(text, vars, unset, m_interpolation_left);
    if (r.ok()) {
      m_interpolation_left -= r->size();
      return r;
    }
    if (r.error().message.find("work budget") == std::string::npos)
      return r;
    m_interpolation_spent = true;
    m_p.diagnostics.push_back({Diagnostic::Level::error,
                               "variables expand to more than " +
                                   std::to_string(k_max_interpolated_bytes / (1024 * 1024)) +
                                   " MiB in all (a chain of variables that double?); the rest is "
                                   "not interpolated",
                               m_p.where(loc)});
    return std::nullopt;
  }

  // The index of `path` in Project::files; a new file resolves its
  // relative paths against the directory being loaded (m_dir).
  int file_index(const std::string &path) {
    for (size_t i = 0; i < m_p.files.size(); ++i)
      if (m_p.files[i] == path)
        return static_cast<int>(i);
    m_p.files.push_back(path);
    m_p.file_dirs.push_back(m_dir.empty() ? dirname_of(path) : m_dir);
    return static_cast<int>(m_p.files.size() - 1);
  }
  std::string dir_of(int fi) const { return m_p.file_dirs[static_cast<size_t>(fi)]; }
  void set_dir(std::string d) { m_dir = std::move(d); }

  // Reads env files as compose-go's dotenv.GetEnvFromFile: each value
  // interpolated with the values before it and `env` over them. Entries
  // already in `env` are not replaced (`env` wins). `implicit`: a missing
  // file is no error (a project's own .env).
  void read_env_files(const std::vector<std::string> &files, bool implicit,
                      const std::map<std::string, std::string> &env,
                      std::map<std::string, std::string> &out, std::vector<std::string> *read) {
    std::map<std::string, std::string> scope = env;
    for (auto &ef : files) {
      auto text = m_reader.read(ef, dotenv::k_max_dotenv_bytes);
      if (!text.ok() && implicit && text.error().not_found())
        continue; // no .env: nothing to read
      int fi = file_index(ef);
      if (!text.ok()) {
        error("cannot read env file: " + text.error().message, {fi, 0});
        continue;
      }
      if (read)
        read->push_back(ef);
      dotenv::DotenvFile df = dotenv::parse_dotenv_text(ef, *text);
      for (auto &d : df.diagnostics)
        diag(Diagnostic::Level::warning, d.message, {fi, d.loc.line});
      for (auto &e : df.entries) {
        if (!e.has_value) {
          if (auto it = env.find(e.key); it != env.end())
            out[e.key] = it->second;
          continue;
        }
        std::string value = e.value;
        if (e.quoting != dotenv::Quoting::single) {
          auto r = interpolate_budgeted(e.value, scope, nullptr, {fi, e.loc.line});
          if (!r)
            return; // the budget is spent: one error says where
          if (r->ok())
            value = std::move(**r);
        }
        if (!env.count(e.key))
          scope[e.key] = value;
        out[e.key] = std::move(value);
      }
    }
  }

  // One file through steps 1-3: nullopt when it cannot be read or parsed.
  std::optional<Value> load_file(const std::string &path, int include_depth) {
    int fi = file_index(path);
    auto text = m_reader.read(path, k_max_file_bytes);
    if (!text.ok()) {
      error("cannot read compose file: " + text.error().message, {fi, 0});
      return std::nullopt;
    }
    yaml::ParseOptions po;
    po.max_nodes = k_max_nodes;
    auto docs = yaml::parse_documents(*text, path, po);
    if (!docs.ok()) {
      // go-yaml (and libyaml) accept a flow collection whose closing
      // bracket sits left of its items; libfyaml does not. Retry once with
      // such closers moved right: lines keep their numbers, and a file
      // that fails for another reason fails with its first error.
      if (auto fixed = indent_flow_closers(*text))
        if (auto again = yaml::parse_documents(*fixed, path, po); again.ok())
          docs = std::move(again);
    }
    if (!docs.ok()) {
      error(docs.error().message, {fi, docs.error().line});
      return std::nullopt;
    }
    if (docs->empty()) { // an empty file is an empty project
      Value v;
      v.kind = Value::Kind::mapping;
      return v;
    }
    // Each document of the file is read as compose-go reads it (loader.go:
    // interpolation, extends, include, then a merge into what came before),
    // so a second document is an override inside the same file.
    std::optional<Value> acc;
    for (auto &doc : *docs) {
      auto v = load_document(std::move(doc), fi, path, include_depth);
      if (!v)
        return std::nullopt;
      if (docs->size() > 1)
        resolve_extends(*v, path);
      if (!acc)
        acc = std::move(*v);
      else
        merge(*acc, std::move(*v), "", "");
    }
    return acc;
  }

  // One document of a file through steps 1-3.
  std::optional<Value> load_document(yaml::Node &&doc, int fi, const std::string &path,
                                     int include_depth) {
    Value v = convert(std::move(doc), fi);
    if (v.is_null()) // an empty document is an empty project
      v.kind = Value::Kind::mapping;
    if (!v.is_mapping()) {
      error("a compose file must be a mapping", {fi, v.loc.line ? v.loc.line : 1});
      return std::nullopt;
    }
    interpolate_tree(v, fi);
    if (!normalise(v, fi))
      return std::nullopt;
    if (auto *inc = v.find("include")) {
      include(v, *inc, path, include_depth);
      v.entries.erase(std::remove_if(v.entries.begin(), v.entries.end(),
                                     [](auto &e) { return e.first == "include"; }),
                      v.entries.end());
    }
    return v;
  }

  // A file's services with `extends` resolved.
  void resolve_extends(Value &file_root, const std::string &path) {
    Value *svcs = file_root.find("services");
    if (!svcs || !svcs->is_mapping())
      return;
    for (auto &[name, svc] : svcs->entries) {
      if (!svc.is_mapping() || !svc.find("extends"))
        continue;
      std::vector<std::string> stack;
      auto r = extend(svc, path, file_root, name, 0, stack);
      if (r)
        svc = std::move(*r);
    }
  }

  // Moves the parsed tree into Values (the yaml::Node is consumed).
  static Value convert(yaml::Node &&n, int fi) {
    Value v;
    v.loc = {fi, n.line};
    v.key_loc = {fi, n.key_line};
    v.tag = std::move(n.tag);
    switch (n.kind) {
    case yaml::Node::Kind::null: v.kind = Value::Kind::null; break;
    case yaml::Node::Kind::scalar:
      v.kind = Value::Kind::scalar;
      v.scalar = std::move(n.scalar);
      break;
    case yaml::Node::Kind::sequence:
      v.kind = Value::Kind::sequence;
      v.items.reserve(n.items.size());
      for (auto &i : n.items)
        v.items.push_back(convert(std::move(i), fi));
      break;
    case yaml::Node::Kind::mapping:
      v.kind = Value::Kind::mapping;
      v.entries.reserve(n.entries.size());
      for (auto &[k, c] : n.entries)
        v.entries.emplace_back(std::move(k), convert(std::move(c), fi));
      break;
    }
    return v;
  }

  void interpolate_tree(Value &v, int fi) {
    if (v.is_scalar()) {
      if (v.scalar.find('$') == std::string::npos)
        return;
      std::vector<std::string> unset;
      Loc at{fi, v.where().line};
      auto budgeted = interpolate_budgeted(v.scalar, *m_vars, &unset, at);
      if (!budgeted)
        return;
      auto &r = *budgeted;
      if (!r.ok()) {
        error(r.error().message, at);
        return;
      }
      for (auto &u : unset)
        diag(Diagnostic::Level::warning, "variable " + u + " is not set: it becomes a blank string",
             at);
      if (*r != v.scalar) {
        v.raw = std::move(v.scalar);
        v.scalar = std::move(*r);
      }
      return;
    }
    for (auto &i : v.items)
      interpolate_tree(i, fi);
    for (auto &e : v.entries)
      interpolate_tree(e.second, fi);
  }

  // A `K=V` / `K` list as a mapping (environment, labels, sysctls, args).
  static void list_to_map(Value &v, char sep) {
    if (!v.is_sequence())
      return;
    Value m;
    m.kind = Value::Kind::mapping;
    m.loc = v.loc;
    m.key_loc = v.key_loc;
    m.tag = v.tag;
    for (auto &it : v.items) {
      std::string s = it.str();
      size_t eq = s.find(sep);
      Value val;
      val.loc = it.loc;
      val.key_loc = it.loc;
      std::string key = eq == std::string::npos ? s : s.substr(0, eq);
      if (eq != std::string::npos) {
        val.kind = Value::Kind::scalar;
        val.scalar = s.substr(eq + 1);
        if (!it.raw.empty()) {
          size_t req = it.raw.find(sep);
          if (req != std::string::npos)
            val.raw = it.raw.substr(req + 1);
        }
      }
      if (Value *old = m.find(key))
        *old = std::move(val);
      else
        m.entries.emplace_back(key, std::move(val));
    }
    v = std::move(m);
  }

  static void names_to_map(Value &v) {
    if (!v.is_sequence())
      return;
    Value m;
    m.kind = Value::Kind::mapping;
    m.loc = v.loc;
    m.key_loc = v.key_loc;
    m.tag = v.tag;
    for (auto &it : v.items) {
      Value val;
      val.loc = it.loc;
      val.key_loc = it.loc;
      if (!m.find(it.str()))
        m.entries.emplace_back(it.str(), std::move(val));
    }
    v = std::move(m);
  }

  bool normalise(Value &root, int fi) {
    Value *svcs = root.find("services");
    if (!svcs)
      return true;
    if (svcs->is_null()) {
      svcs->kind = Value::Kind::mapping;
      return true;
    }
    if (!svcs->is_mapping()) {
      error("services must be a mapping of service names", {fi, svcs->where().line});
      return false;
    }
    for (auto &[name, svc] : svcs->entries) {
      if (svc.is_null() && svc.tag.empty()) {
        svc.kind = Value::Kind::mapping;
        svc.loc = svc.key_loc;
      }
      if (!svc.is_mapping()) {
        if (svc.tag == "!reset")
          continue;
        error("service " + name + " must be a mapping", {fi, svc.where().line});
        return false;
      }
      if (svc.loc.line == 0)
        svc.loc = svc.key_loc;
      normalise_service(svc);
    }
    return true;
  }

  static void normalise_service(Value &svc) {
    for (auto &[k, v] : svc.entries) {
      if (k == "environment" || k == "labels" || k == "annotations")
        list_to_map(v, '=');
      else if (k == "sysctls")
        list_to_map(v, '=');
      else if (k == "networks" || k == "depends_on")
        names_to_map(v);
      else if (k == "build") {
        if (v.is_scalar()) {
          Value m;
          m.kind = Value::Kind::mapping;
          m.loc = v.loc;
          m.key_loc = v.key_loc;
          Value c = v;
          c.key_loc = v.loc;
          m.entries.emplace_back("context", std::move(c));
          v = std::move(m);
        } else if (Value *args = v.find("args"))
          list_to_map(*args, '=');
      }
    }
  }

  void include(Value &root, const Value &inc, const std::string &path, int depth) {
    Loc at = inc.where();
    if (depth >= k_max_include_depth) {
      error("include nested more than " + std::to_string(k_max_include_depth) + " deep", at);
      return;
    }
    if (!inc.is_sequence()) {
      error("include must be a list", at);
      return;
    }
    // compose-go loader/include.go: paths, project_directory and env_file
    // are relative to the including project's directory; the included
    // project is its own project (its directory is its first file's unless
    // project_directory says otherwise, its .env is its own, under the
    // including project's variables, which win: types.Mapping.Merge).
    // A copy: loading the included files grows file_dirs.
    const std::string here = dir_of(file_index(path));
    for (auto &item : inc.items) {
      std::vector<std::string> paths;
      const Value *p = item.is_mapping() ? item.find("path") : &item;
      if (p && p->is_scalar())
        paths.push_back(join_path(here, p->scalar));
      else if (p && p->is_sequence())
        for (auto &s : p->items)
          paths.push_back(join_path(here, s.str()));
      if (paths.empty()) {
        error("include entry without a path", item.where());
        continue;
      }
      bool loop = false;
      for (auto &q : paths)
        if (std::find(m_include_stack.begin(), m_include_stack.end(), q) != m_include_stack.end())
          loop = true;
      if (loop) {
        error("include loop: " + paths.front() + " includes itself", item.where());
        continue;
      }
      std::string project_dir = dirname_of(paths.front());
      std::vector<std::string> env_files;
      if (item.is_mapping()) {
        if (const Value *pd = item.find("project_directory"); pd && !pd->str().empty())
          project_dir = join_path(here, pd->str());
        if (const Value *ef = item.find("env_file")) {
          if (ef->is_scalar())
            env_files.push_back(join_path(here, ef->scalar));
          for (auto &e : ef->items)
            if (e.str() != "/dev/null")
              env_files.push_back(join_path(here, e.str()));
        }
      }
      bool implicit = env_files.empty();
      if (implicit)
        env_files.push_back(join_path(project_dir, ".env"));
      // m_vars is the including project's scope; it wins over the .env.
      auto vars = std::make_unique<std::map<std::string, std::string>>();
      std::map<std::string, std::string> own;
      read_env_files(env_files, implicit, *m_vars, own, nullptr);
      *vars = *m_vars;
      for (auto &[k, v] : own)
        vars->emplace(k, v);
      const auto *saved_vars = m_vars;
      std::string saved_dir = m_dir;
      m_vars = vars.get();
      m_dir = project_dir;
      m_include_stack.push_back(path);
      Value sub = load_files(paths, depth + 1);
      m_include_stack.pop_back();
      m_vars = saved_vars;
      m_dir = saved_dir;
      for (const char *kind : {"services", "networks", "volumes", "secrets", "configs"}) {
        Value *from = sub.find(kind);
        if (!from || !from->is_mapping())
          continue;
        Value *to = root.find(kind);
        if (!to) {
          root.entries.emplace_back(kind, Value{});
          to = &root.entries.back().second;
          to->kind = Value::Kind::mapping;
        }
        if (!to->is_mapping())
          continue;
        std::string singular = std::string(kind).substr(0, std::strlen(kind) - 1);
        for (auto &[n, v] : from->entries) {
          Value *mine = to->find(n);
          if (!mine) {
            to->entries.emplace_back(n, std::move(v));
            continue;
          }
          // compose-go >= 2.10 (Docker Compose v5) merges the local
          // definition over the imported one (importResource); older
          // releases rejected the file. We follow the newest and say so.
          diag(Diagnostic::Level::warning,
               singular + " " + n + " is defined at " + m_p.at(mine->key_loc) +
                   " and imported by include: the local definition is merged over the "
                   "imported one (compose-go >= 2.10, Docker Compose v5; older Compose "
                   "releases reject this project)",
               item.where());
          Loc own_key = mine->key_loc;
          Value merged = std::move(v);
          merge(merged, std::move(*mine), std::string(kind) == "services" ? "services.*" : "",
                std::string(kind) == "services" ? n : "");
          merged.key_loc = own_key;
          *mine = std::move(merged);
        }
      }
    }
  }

  std::optional<Value> extend(const Value &svc, const std::string &path, const Value &file_root,
                              const std::string &name, int depth, std::vector<std::string> &stack) {
    const Value *ext = svc.find("extends");
    if (!ext)
      return svc;
    Loc at = ext->where();
    std::string key = path + "#" + name;
    if (depth > k_max_extends_depth || std::find(stack.begin(), stack.end(), key) != stack.end()) {
      error("extends loop or chain too long at service " + name, at);
      return std::nullopt;
    }
    stack.push_back(key);
    std::string base_name, base_file;
    if (ext->is_scalar())
      base_name = ext->scalar;
    else if (ext->is_mapping()) {
      if (auto *s = ext->find("service"))
        base_name = s->str();
      if (auto *f = ext->find("file"))
        base_file = f->str();
    }
    if (base_name.empty()) {
      error("extends of service " + name + " names no service", at);
      return std::nullopt;
    }
    const Value *base_root = &file_root;
    std::string base_path = path;
    if (!base_file.empty()) {
      base_path = join_path(dir_of(file_index(path)), base_file);
      auto it = m_extends_cache.find(base_path);
      if (it == m_extends_cache.end()) {
        // compose-go loader/extends.go: the other file's relative paths
        // resolve against its own directory.
        std::string saved_dir = m_dir;
        m_dir = dirname_of(base_path);
        auto loaded = load_file(base_path, k_max_include_depth);
        m_dir = saved_dir;
        if (!loaded) {
          error("extends: cannot load " + base_path, at);
          return std::nullopt;
        }
        it = m_extends_cache.emplace(base_path, std::move(*loaded)).first;
      }
      base_root = &it->second;
    }
    const Value *bsvcs = base_root->find("services");
    const Value *bsvc = bsvcs ? bsvcs->find(base_name) : nullptr;
    if (!bsvc || !bsvc->is_mapping()) {
      error("extends: service " + base_name + " not found in " + base_path, at);
      return std::nullopt;
    }
    auto base = extend(*bsvc, base_path, *base_root, base_name, depth + 1, stack);
    if (!base)
      return std::nullopt;
    Value out = std::move(*base);
    out.entries.erase(std::remove_if(out.entries.begin(), out.entries.end(),
                                     [](auto &e) {
                                       return e.first == "volumes_from" ||
                                              e.first == "depends_on" || e.first == "extends";
                                     }),
                      out.entries.end());
    Value mine = svc;
    mine.entries.erase(std::remove_if(mine.entries.begin(), mine.entries.end(),
                                      [](auto &e) { return e.first == "extends"; }),
                       mine.entries.end());
    Loc own = svc.loc;
    Loc own_key = svc.key_loc;
    merge(out, std::move(mine), "services.*", name);
    out.loc = own;
    out.key_loc = own_key;
    return out;
  }

  // Steps 1-4 for a list of files: the merged root.
  Value load_files(const std::vector<std::string> &paths, int include_depth) {
    Value acc;
    acc.kind = Value::Kind::mapping;
    for (auto &path : paths) {
      auto v = load_file(path, include_depth);
      if (!v)
        continue;
      resolve_extends(*v, path);
      merge(acc, std::move(*v), "", "");
    }
    return acc;
  }

  // Merges `over` into `base` (compose-go override.Merge). `path` is the
  // dotted position with service names as "*"; `service` names the service
  // for notes.
  void merge(Value &base, Value over, const std::string &path, const std::string &service) {
    if (over.tag == "!override") {
      if (path == "services.*.ports")
        note_dropped_loopback(base, over, service);
      over.tag.clear();
      base = std::move(over);
      return;
    }
    over.tag.clear();
    // compose-go override.MergeYaml: a null in the override keeps the base
    // value (`privileged:` with no value does not undo `privileged: true`).
    // Not in the KEY=VALUE maps, where a bare KEY means "from the shell"
    // and merges as a sequence item (mergeToSequence).
    if (over.is_null() && !base.is_null() && !in_key_value_map(path))
      return;
    if (base.kind != over.kind || over.is_scalar() || over.is_null()) {
      base = std::move(over);
      return;
    }
    if (over.is_mapping()) {
      if (path == "services.*.logging") {
        const Value *bd = base.find("driver");
        const Value *od = over.find("driver");
        if (bd && od && bd->str() != od->str()) {
          base = std::move(over);
          return;
        }
      }
      // Nested mappings keep their first location; the keys carry their own.
      for (auto &[k, v] : over.entries) {
        if (v.tag == "!reset") {
          const std::string &key = k;
          base.entries.erase(std::remove_if(base.entries.begin(), base.entries.end(),
                                            [&](auto &e) { return e.first == key; }),
                             base.entries.end());
          continue;
        }
        std::string sub = path.empty() ? k : (path == "services" ? path + ".*" : path + "." + k);
        std::string svc = path == "services" ? k : service;
        if (Value *b = base.find(k))
          merge(*b, std::move(v), sub, svc);
        else {
          strip_tags(v);
          base.entries.emplace_back(k, std::move(v));
        }
      }
      return;
    }
    // Sequences.
    std::string field = path.substr(path.rfind('.') + 1);
    if (path == "services.*.command" || path == "services.*.entrypoint" ||
        path == "services.*.healthcheck.test") {
      base = std::move(over);
      return;
    }
    bool in_service = starts_with(path, "services.*.") &&
                      path.find('.', std::strlen("services.*.")) == std::string::npos;
    if (!in_service) {
      for (auto &i : over.items)
        base.items.push_back(std::move(i));
      return;
    }
    std::unordered_map<std::string, size_t> index;
    for (size_t i = 0; i < base.items.size(); ++i) {
      std::string k = merge_key(field, base.items[i]);
      if (!k.empty())
        index.emplace(k, i);
    }
    for (auto &i : over.items) {
      std::string k = merge_key(field, i);
      if (!k.empty()) {
        auto it = index.find(k);
        if (it != index.end()) {
          base.items[it->second] = std::move(i);
          continue;
        }
        index.emplace(k, base.items.size());
      }
      base.items.push_back(std::move(i));
    }
  }

  // A key of environment, labels, sysctls, annotations or build.args.
  static bool in_key_value_map(const std::string &path) {
    size_t dot = path.rfind('.');
    if (dot == std::string::npos)
      return false;
    std::string parent = path.substr(0, dot);
    for (const char *m : {"services.*.environment", "services.*.labels", "services.*.sysctls",
                          "services.*.annotations", "services.*.build.args"})
      if (parent == m)
        return true;
    return false;
  }

  static void strip_tags(Value &v) {
    v.tag.clear();
    for (auto &i : v.items)
      strip_tags(i);
    for (auto &e : v.entries)
      strip_tags(e.second);
  }

  void note_dropped_loopback(const Value &base, const Value &over, const std::string &service) {
    if (!base.is_sequence())
      return;
    std::vector<Port> now;
    if (over.is_sequence())
      for (auto &i : over.items)
        if (auto p = parse_port_item(i))
          now.push_back(*p);
    for (auto &i : base.items) {
      auto p = parse_port_item(i);
      if (!p || !(p->host_ip == "127.0.0.1" || p->host_ip == "::1" || p->host_ip == "localhost"))
        continue;
      bool kept = false;
      for (auto &q : now)
        if (q.target == p->target && q.host_ip == p->host_ip)
          kept = true;
      if (kept)
        continue;
      m_p.notes.push_back({service, "ports",
                           "ports: !override at " + m_p.at(over.key_loc) + " drops the " +
                               p->host_ip + " binding of container port " + p->target + " set at " +
                               m_p.at(p->loc),
                           over.key_loc});
    }
  }

private:
  const Reader &m_reader;
  Project &m_p;
  // The variables the file being loaded is interpolated with: the
  // project's, or an included project's (its own .env under the parent's).
  const std::map<std::string, std::string> *m_vars;
  std::string m_dir; // the directory relative paths of new files resolve against
  std::map<std::string, Value> m_extends_cache;
  std::vector<std::string> m_include_stack;
  size_t m_interpolation_left = k_max_interpolated_bytes;
  bool m_interpolation_spent = false;
};

std::string project_name_from(const std::string &s) {
  std::string out;
  for (char c : lower(s))
    if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_' || c == '-')
      out += c;
  return out;
}

// The compose specification's key sets (data/compose/spec-keys.yaml,
// generated from compose-go's schema/compose-spec.json): path -> keys.
const std::map<std::string, std::set<std::string>> &spec_keys() {
  static const std::map<std::string, std::set<std::string>> keys = [] {
    std::map<std::string, std::set<std::string>> out;
    auto doc = yaml::parse(embedded::compose_spec_keys(), "data/compose/spec-keys.yaml");
    if (!doc.ok())
      throw FatalError("data/compose/spec-keys.yaml: " + doc.error().message, 3);
    if (const yaml::Node *objs = doc->find("objects"))
      for (auto &[path, list] : objs->entries)
        for (auto &k : list.items)
          out[path].insert(k.scalar);
    return out;
  }();
  return keys;
}

// An unknown key is an error, as `docker compose config` rejects it
// ("additional properties 'privilege' not allowed"): a misspelt
// `privilege:` or `cap-add:` would otherwise be ignored and the service
// judged by what it does not say. x- extensions are allowed everywhere the
// specification allows them.
void validate_keys(Loader &ld, const Value &v, const std::string &path, const std::string &shown) {
  if (v.is_mapping()) {
    const auto &keys = spec_keys();
    auto it = keys.find(path);
    for (auto &[k, c] : v.entries) {
      std::string at = shown.empty() ? k : shown + "." + k;
      if (it != keys.end() && !it->second.count(k) && !starts_with(k, "x-")) {
        ld.error((shown.empty() ? std::string("the top level") : shown) + ": key '" + k +
                     "' is not allowed by the compose specification (docker compose config "
                     "rejects the file; a misspelt setting takes no effect)",
                 c.key_loc.line ? c.key_loc : c.where());
        continue;
      }
      if (starts_with(k, "x-"))
        continue;
      std::string sub = path.empty() ? k : path + "." + k;
      // Names of services, networks, volumes... match "*" in the key sets.
      if (path == "" && (k == "services" || k == "networks" || k == "volumes" || k == "secrets" ||
                         k == "configs" || k == "models")) {
        if (c.is_mapping())
          for (auto &[n, d] : c.entries)
            validate_keys(ld, d, k + ".*", k + "." + n);
        continue;
      }
      if (keys.count(sub + ".*") && c.is_mapping()) {
        for (auto &[n, d] : c.entries)
          validate_keys(ld, d, sub + ".*", at + "." + n);
        continue;
      }
      validate_keys(ld, c, sub, at);
    }
    return;
  }
  if (v.is_sequence())
    for (size_t i = 0; i < v.items.size(); ++i)
      validate_keys(ld, v.items[i], path + "[]", shown + "[" + std::to_string(i) + "]");
}

void validate(Loader &ld, Project &p, const Reader &reader) {
  validate_keys(ld, p.root, "", "");
  const Value *svcs = p.root.find("services");
  if (!svcs)
    return;
  for (auto &[name, svc] : svcs->entries) {
    if (!svc.is_mapping())
      continue;
    if (!svc.find("image") && !svc.find("build"))
      ld.error("service " + name + " has neither an image nor a build context", svc.key_loc);
    // compose-go loader: a missing env_file is an error unless the entry
    // says `required: false`.
    for (auto [i, pv] : env_file_entries(svc)) {
      bool required = true;
      if (i->is_mapping())
        if (const Value *r = i->find("required"); r && r->is_scalar())
          required = !(lower(r->scalar) == "false" || r->scalar == "0" ||
                       lower(r->scalar) == "no" || lower(r->scalar) == "off");
      std::string path = p.resolve(pv->where(), pv->scalar);
      auto text = reader.read(path, dotenv::k_max_dotenv_bytes);
      if (text.ok() || (!required && text.error().not_found()))
        continue;
      ld.error("service " + name + ": env_file " + path +
                   (text.error().not_found() ? " does not exist"
                                             : " cannot be read: " + text.error().message) +
                   (text.error().not_found() ? " (compose refuses to start the service; "
                                               "`required: false` makes it optional)"
                                             : ""),
               pv->where());
    }
  }
}

} // namespace

Project load_project(const Reader &reader, const std::vector<std::string> &files,
                     const LoadOptions &options) {
  Project p;
  if (files.empty())
    return p;
  p.directory = dirname_of(files.front());
  Loader ld(reader, p);
  // Every -f file resolves relative paths against the project directory
  // (the first file's), not its own folder: compose-go's loader resolves
  // the merged model against the working directory.
  ld.set_dir(p.directory);
  p.main_files = files.size();
  for (auto &f : files)
    ld.file_index(f);

  // Variables: .env (or --env-file), then the process environment over it.
  std::map<std::string, std::string> env = options.environment;
  if (options.use_process_environment)
    for (char **e = environ; e && *e; ++e) {
      std::string_view kv(*e);
      size_t eq = kv.find('=');
      if (eq != std::string_view::npos)
        env.emplace(std::string(kv.substr(0, eq)), std::string(kv.substr(eq + 1)));
    }
  std::vector<std::string> env_files = options.env_files;
  bool implicit = env_files.empty();
  if (implicit)
    env_files.push_back(join_path(p.directory, ".env"));
  ld.read_env_files(env_files, implicit, env, p.variables, &p.env_files);
  for (auto &[k, v] : env)
    p.variables[k] = v;

  p.root = ld.load_files(files, 0);
  validate(ld, p, reader);

  std::string name;
  if (auto it = p.variables.find("COMPOSE_PROJECT_NAME"); it != p.variables.end())
    name = it->second;
  else if (const Value *n = p.root.find("name"); n && n->is_scalar())
    name = n->scalar;
  else {
    std::string dir = p.directory;
    if (dir == "." || dir.empty()) {
      char buf[4096];
      if (::getcwd(buf, sizeof buf))
        dir = buf;
    }
    name = dir.substr(dir.rfind('/') + 1);
  }
  p.name = project_name_from(name);
  if (p.name.empty())
    p.name = "default";
  return p;
}

std::vector<std::vector<std::string>> discover(const RootFs &fs, int max_depth,
                                               std::vector<std::string> *dotenv_dirs) {
  static const char *k_names[] = {"compose.yaml", "compose.yml", "docker-compose.yml",
                                  "docker-compose.yaml"};
  static const char *k_overrides[] = {"compose.override.yml", "compose.override.yaml",
                                      "docker-compose.override.yml",
                                      "docker-compose.override.yaml"};
  static const std::set<std::string> k_skip = {"node_modules",  ".git",        "proc",
                                               "sys",           "dev",         ".cache",
                                               "site-packages", "__pycache__", "vendor"};
  constexpr size_t k_max_dirs = 20000;
  std::vector<std::vector<std::string>> out;
  std::vector<std::string> starts = {"/srv", "/opt", "/etc", "/app", "/root"};
  if (auto homes = fs.list_dir("/home"); homes.ok())
    for (auto &h : *homes)
      starts.push_back("/home/" + h);
  size_t visited = 0;
  std::set<std::string> seen;
  for (auto &s : starts) {
    std::vector<std::pair<std::string, int>> todo = {{s, 0}};
    while (!todo.empty() && visited < k_max_dirs) {
      auto [dir, depth] = todo.back();
      todo.pop_back();
      auto st = fs.lstat(dir);
      if (!st.ok() || st->type != FileInfo::Type::directory || !seen.insert(dir).second)
        continue;
      ++visited;
      auto names = fs.list_dir(dir);
      if (!names.ok())
        continue;
      std::set<std::string> have(names->begin(), names->end());
      for (const char *n : k_names) {
        if (!have.count(n))
          continue;
        std::string f = dir + "/" + n;
        auto fst = fs.stat(f);
        if (!fst.ok() || fst->type != FileInfo::Type::regular)
          continue;
        std::vector<std::string> project = {f};
        // compose-go cli/options.go WithDefaultConfigPath: the first
        // override of DefaultOverrideFileNames that exists, whatever the
        // main file is called (docker-compose.yaml + compose.override.yaml).
        for (const char *o : k_overrides)
          if (have.count(o)) {
            auto ost = fs.stat(dir + "/" + o);
            if (ost.ok() && ost->type == FileInfo::Type::regular) {
              project.push_back(dir + "/" + o);
              break;
            }
          }
        out.push_back(std::move(project));
        break;
      }
      if (dotenv_dirs && have.count(".env") &&
          (out.empty() || dirname_of(out.back().front()) != dir))
        dotenv_dirs->push_back(dir);
      if (depth >= max_depth)
        continue;
      for (auto it = names->rbegin(); it != names->rend(); ++it)
        if (!k_skip.count(*it))
          todo.push_back({dir + "/" + *it, depth + 1});
    }
  }
  return out;
}

} // namespace bulwark::compose
