// Which compose files a deployment uses (parse/compose_deploy.hpp). The
// commands are read as a shell reads words: single quotes literal, double
// quotes with backslash escapes, a backslash-newline joins lines, `#` at a
// word's start comments to the end of the line. The options are the Docker
// CLI's: `docker compose -f/--file`, `docker-compose -f/--file`, `docker
// stack deploy -c/--compose-file` (docker/cli cli/command/stack/options.go),
// each repeatable, `--opt=value` and `-fvalue` forms included.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_deploy.hpp>
#include <bulwark/parse/dotenv.hpp>

#include <algorithm>
#include <map>
#include <optional>
#include <set>

namespace bulwark::compose {

using namespace bulwark::text;

namespace {

struct Word {
  std::string text;
  bool had_dollar = false; // an unquoted or double-quoted `$`: expanded by the shell
};

struct Command {
  int line = 0;
  std::vector<Word> words;
};

// Shell text into commands of words.
std::vector<Command> shell_commands(std::string_view s) {
  std::vector<Command> out;
  Command cur;
  Word w;
  bool in_word = false;
  int line = 1;
  auto end_word = [&] {
    if (in_word) {
      if (cur.words.empty())
        cur.line = line;
      cur.words.push_back(std::move(w));
      w = Word{};
      in_word = false;
    }
  };
  auto end_command = [&] {
    end_word();
    if (!cur.words.empty())
      out.push_back(std::move(cur));
    cur = Command{};
  };
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (c == '\\' && i + 1 < s.size() && s[i + 1] == '\n') {
      i += 2;
      ++line;
      continue;
    }
    if (c == '\n') {
      end_command();
      ++line;
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      end_word();
      ++i;
      continue;
    }
    if (c == ';' || c == '&' || c == '|' || c == '(' || c == ')' || c == '`') {
      end_command();
      ++i;
      continue;
    }
    if (c == '#' && !in_word) {
      while (i < s.size() && s[i] != '\n')
        ++i;
      continue;
    }
    in_word = true;
    if (c == '\'') {
      size_t e = s.find('\'', i + 1);
      if (e == std::string_view::npos)
        e = s.size();
      for (size_t k = i + 1; k < e; ++k)
        line += s[k] == '\n';
      w.text.append(s.substr(i + 1, e - i - 1));
      i = e + 1;
      continue;
    }
    if (c == '"') {
      size_t k = i + 1;
      while (k < s.size() && s[k] != '"') {
        if (s[k] == '\\' && k + 1 < s.size()) {
          if (s[k + 1] == '\n')
            ++line;
          else
            w.text += s[k + 1];
          k += 2;
          continue;
        }
        if (s[k] == '$')
          w.had_dollar = true;
        if (s[k] == '\n')
          ++line;
        w.text += s[k++];
      }
      i = k + 1;
      continue;
    }
    if (c == '\\' && i + 1 < s.size()) {
      w.text += s[i + 1];
      i += 2;
      continue;
    }
    if (c == '$')
      w.had_dollar = true;
    w.text += c;
    ++i;
  }
  end_command();
  return out;
}

std::string base_name(const std::string &p) {
  size_t s = p.rfind('/');
  return s == std::string::npos ? p : p.substr(s + 1);
}

// The value of an option at words[i] (`-f X`, `-fX`, `--file=X`, `--file X`),
// advancing i past it; nullopt when words[i] is not that option.
std::optional<Word> option_value(const std::vector<Word> &words, size_t &i, const char *shrt,
                                 const char *lng) {
  const std::string &t = words[i].text;
  std::string l = std::string("--") + lng;
  std::string sh = std::string("-") + shrt;
  if (t == l || t == sh) {
    if (i + 1 >= words.size())
      return std::nullopt;
    ++i;
    return words[i];
  }
  if (starts_with(t, l + "=")) {
    Word w = words[i];
    w.text = t.substr(l.size() + 1);
    return w;
  }
  if (starts_with(t, sh) && t.size() > 2 && t[1] != '-') {
    Word w = words[i];
    w.text = t.substr(2);
    if (starts_with(w.text, "="))
      w.text = w.text.substr(1);
    return w;
  }
  return std::nullopt;
}

std::string normalise(const std::string &p) {
  return RootFs::join("/", p);
}

} // namespace

namespace {

// Bounds what resolving COMPOSE_FILE through its .env may build, all
// values together (`B=$A$A`, `C=$B$B`... doubles at each line).
constexpr size_t k_max_resolved_dotenv_bytes = 4 * 1024 * 1024;

bool env_name(std::string_view n) {
  if (n.empty() || (n[0] >= '0' && n[0] <= '9'))
    return false;
  return std::all_of(n.begin(), n.end(), [](char c) {
    return c == '_' || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  });
}

// "NAME=value" as (NAME, value); nullopt for anything else.
std::optional<std::pair<std::string, Word>> assignment(const Word &w) {
  size_t eq = w.text.find('=');
  if (eq == std::string::npos || !env_name(std::string_view(w.text).substr(0, eq)))
    return std::nullopt;
  Word v = w;
  v.text = w.text.substr(eq + 1);
  return std::pair{w.text.substr(0, eq), v};
}

// An .env entry's value as Compose uses it: compose-go's dotenv
// interpolates unquoted and double-quoted values ($VAR, ${VAR:-d}) with the
// process environment first, then the assignments above it in the file
// (1.29's python-dotenv does the same with the file's own values); single
// quotes are literal. Offline the process environment is unknown, so a
// value resolves only when every variable it names is assigned earlier in
// the .env; otherwise it stays as written (a `$` in it: unresolved).
std::string dotenv_value(const dotenv::DotenvFile &df, const dotenv::Entry &e) {
  if (e.quoting == dotenv::Quoting::single || e.value.find('$') == std::string::npos)
    return e.value;
  std::map<std::string, std::string> vars;
  size_t budget = k_max_resolved_dotenv_bytes;
  // One value resolved from `vars`; nullopt when a variable is not set
  // there or the budget is spent.
  auto resolve = [&](const dotenv::Entry &x) -> std::optional<std::string> {
    if (x.quoting == dotenv::Quoting::single)
      return x.value;
    std::vector<std::string> unset;
    auto v = interpolate(x.value, vars, &unset, budget);
    if (!v.ok() || !unset.empty())
      return std::nullopt;
    budget -= std::min(budget, v->size());
    return std::move(*v);
  };
  for (auto &x : df.entries) {
    if (&x == &e)
      break;
    if (!x.has_value || budget == 0)
      continue;
    if (auto v = resolve(x))
      vars[x.key] = std::move(*v);
    else
      vars.erase(x.key); // depends on the environment: not known offline
  }
  auto v = budget == 0 ? std::nullopt : resolve(e);
  return v ? *v : e.value;
}

// The variables Compose takes its file list from (compose-go
// cli/options.go: COMPOSE_FILE split on COMPOSE_PATH_SEPARATOR).
bool compose_variable(const std::string &n) {
  return n == "COMPOSE_FILE" || n == "COMPOSE_PATH_SEPARATOR";
}

} // namespace

std::vector<ComposeCommand> compose_commands(std::string_view script, const ShellEnv &initial,
                                             std::vector<std::string> *bare_dirs) {
  std::vector<ComposeCommand> out;
  std::string cwd;
  // What the script's commands inherit (export, a unit's Environment=) and
  // its own unexported variables, for COMPOSE_FILE and its separator only.
  std::map<std::string, Word> exported, shell;
  for (auto &[k, v] : initial)
    exported[k] = Word{v, false};
  for (auto &cmd : shell_commands(script)) {
    const auto &w = cmd.words;
    if (w.empty())
      continue;
    if (w[0].text == "cd" || w[0].text == "pushd") {
      cwd = w.size() > 1 && !w[1].had_dollar ? w[1].text : "";
      continue;
    }
    // Assignments: `X=v` alone (a shell variable, unless X is exported
    // already), `export X=v`, `export X`, `declare -x X=v`, `unset X`.
    // `X=v cmd` sets X for cmd alone: handled with the command below.
    size_t lead = 0;
    while (lead < w.size() && assignment(w[lead]))
      ++lead;
    if (lead == w.size()) {
      for (auto &x : w)
        if (auto a = assignment(x); a && compose_variable(a->first))
          (exported.count(a->first) ? exported : shell)[a->first] = a->second;
      continue;
    }
    if (lead == 0 && (w[0].text == "export" || w[0].text == "declare" || w[0].text == "typeset" ||
                      w[0].text == "unset")) {
      bool unset = w[0].text == "unset";
      bool exporting =
          w[0].text == "export" || std::any_of(w.begin() + 1, w.end(), [](const Word &x) {
            return starts_with(x.text, "-") && x.text.find('x') != std::string::npos;
          });
      for (size_t i = 1; i < w.size(); ++i) {
        if (starts_with(w[i].text, "-"))
          continue;
        if (unset) {
          exported.erase(w[i].text);
          shell.erase(w[i].text);
        } else if (auto a = assignment(w[i])) {
          if (compose_variable(a->first))
            (exporting || exported.count(a->first) ? exported : shell)[a->first] = a->second;
        } else if (auto it = shell.find(w[i].text); exporting && it != shell.end()) {
          exported[it->first] = it->second;
          shell.erase(it);
        }
      }
      continue;
    }
    size_t d = 0;
    std::map<std::string, Word> env = exported;
    while (d < w.size() && base_name(w[d].text) != "docker" &&
           base_name(w[d].text) != "docker-compose") {
      // `COMPOSE_FILE=a docker compose`, `sudo X=v docker`, `env X=v docker`
      if (auto a = assignment(w[d]); a && compose_variable(a->first))
        env[a->first] = a->second;
      ++d;
    }
    if (d == w.size())
      continue;
    ComposeCommand cc;
    cc.line = cmd.line;
    cc.cwd = cwd;
    size_t i = d + 1;
    const char *shrt = "f";
    const char *lng = "file";
    bool stack = false;
    if (base_name(w[d].text) == "docker-compose")
      cc.how = "docker-compose";
    else {
      // docker [global options] compose|stack deploy; these global
      // options take a value (docker/cli cli/flags/options.go).
      static const std::set<std::string> k_valued = {
          "--context", "-c",          "--config",    "-H",        "--host",
          "-l",        "--log-level", "--tlscacert", "--tlscert", "--tlskey"};
      while (i < w.size() && starts_with(w[i].text, "-"))
        i += k_valued.count(w[i].text) && i + 1 < w.size() ? 2 : 1;
      if (i < w.size() && w[i].text == "compose")
        cc.how = "docker compose";
      else if (i + 1 < w.size() && w[i].text == "stack" &&
               (w[i + 1].text == "deploy" || w[i + 1].text == "up")) {
        cc.how = "docker stack deploy";
        shrt = "c";
        lng = "compose-file";
        stack = true;
        ++i;
      } else
        continue;
      ++i;
    }
    // docker/cli cli/command/stack/deploy.go: `deploy [OPTIONS] STACK`;
    // these of its options take a value.
    static const std::set<std::string> k_stack_valued = {"--resolve-image", "--orchestrator",
                                                         "--namespace", "--kubeconfig"};
    for (; i < w.size(); ++i) {
      if (auto v = option_value(w, i, shrt, lng))
        cc.files.push_back(v->text);
      else if (stack && k_stack_valued.count(w[i].text))
        ++i;
      else if (stack && !starts_with(w[i].text, "-") && cc.stack.empty())
        cc.stack = w[i].text;
    }
    // No -f: Compose (v2 and 1.x) takes COMPOSE_FILE from the environment;
    // `docker stack deploy` has no such variable (-c is required).
    if (cc.files.empty() && !stack) {
      if (auto cf = env.find("COMPOSE_FILE"); cf != env.end()) {
        auto sep = env.find("COMPOSE_PATH_SEPARATOR");
        if (cf->second.had_dollar)
          cc.files.push_back(cf->second.text.empty() ? "$COMPOSE_FILE" : cf->second.text);
        else if (cf->second.text.empty())
          cc.empty_compose_file = true; // the versions disagree (DeployFileSet)
        else
          cc.files = split_compose_file(cf->second.text, sep == env.end() ? "" : sep->second.text);
        cc.how += " with COMPOSE_FILE";
      } else if (bare_dirs) {
        bare_dirs->push_back(cwd);
      }
    }
    if (!cc.files.empty() || cc.empty_compose_file)
      out.push_back(std::move(cc));
  }
  return out;
}

std::vector<std::string> split_compose_file(const std::string &value,
                                            const std::string &separator) {
  // As Go's strings.Split, which compose-go uses: "" is one empty entry
  // (the working directory). The callers treat a wholly empty value apart,
  // where the Compose versions disagree (DeployFileSet::empty_compose_file).
  std::vector<std::string> out;
  std::string sep = separator.empty() ? ":" : separator;
  size_t start = 0;
  while (start <= value.size()) {
    size_t e = value.find(sep, start);
    out.push_back(value.substr(start, e == std::string::npos ? std::string::npos : e - start));
    if (e == std::string::npos)
      break;
    start = e + sep.size();
  }
  return out;
}

std::vector<DeployFileSet> find_deploy_file_sets(const RootFs &fs,
                                                 const std::vector<std::string> &project_dirs) {
  constexpr size_t k_max_script = 1024 * 1024;
  std::vector<DeployFileSet> out;
  std::set<std::vector<std::string>> seen;
  // One set per file list; `docker stack deploy` wins over a `config`
  // check of the same files (the stack is what runs).
  std::set<std::string> empty_in;
  auto add = [&](DeployFileSet s) {
    if (s.empty_compose_file) {
      if (empty_in.insert(s.directory).second)
        out.push_back(std::move(s));
      return;
    }
    if (s.files.empty() && s.unresolved.empty())
      return;
    if (!s.unresolved.empty() || seen.insert(s.files).second) {
      out.push_back(std::move(s));
      return;
    }
    if (s.how != "docker stack deploy")
      return;
    for (auto &o : out)
      if (o.files == s.files && o.unresolved.empty() && o.how != "docker stack deploy") {
        o = std::move(s);
        return;
      }
  };
  // Directories where a compose command without -f or COMPOSE_FILE runs:
  // Compose reads COMPOSE_FILE from the .env there.
  std::set<std::string> bare;
  auto from_commands = [&](const std::string &source, std::string_view text,
                           const std::string &default_dir, int line_offset,
                           const ShellEnv &env = {}) {
    std::vector<std::string> bare_cwds;
    for (auto &c : compose_commands(text, env, &bare_cwds)) {
      std::string dir = default_dir;
      if (!c.cwd.empty())
        dir = c.cwd[0] == '/' ? c.cwd : join_path(default_dir, c.cwd);
      DeployFileSet s;
      s.source = source;
      s.line = c.line + line_offset;
      s.how = c.how;
      s.directory = normalise(dir);
      s.empty_compose_file = c.empty_compose_file;
      if (c.stack.find('$') == std::string::npos)
        s.stack = c.stack;
      for (auto &f : c.files) {
        if (f.find('$') != std::string::npos || starts_with(f, "~") || f == "-")
          s.unresolved.push_back(f);
        else // "" (an empty COMPOSE_FILE entry) is the directory itself
          s.files.push_back(normalise(f.empty() ? dir : join_path(dir, f)));
      }
      add(std::move(s));
    }
    for (auto &c : bare_cwds)
      if (c.find('$') == std::string::npos && !starts_with(c, "~"))
        bare.insert(normalise(c.empty() ? default_dir : join_path(default_dir, c)));
  };
  std::vector<std::string> scripts;
  std::set<std::string> dirs(project_dirs.begin(), project_dirs.end());
  for (auto &d : dirs) {
    auto top = fs.list_dir(d);
    for (std::string sub : {"", "/deploy", "/scripts", "/bin"}) {
      // A subdirectory the project directory's listing lacks is not opened
      // (three failed opens a project otherwise).
      if (!sub.empty() && top.ok() && !std::binary_search(top->begin(), top->end(), sub.substr(1)))
        continue;
      auto names = sub.empty() ? top : fs.list_dir(d + sub);
      if (!names.ok())
        continue;
      for (auto &n : *names)
        if (n.ends_with(".sh") || n == "Makefile" || n == "makefile" || n == "GNUmakefile")
          scripts.push_back(d + sub + "/" + n);
    }
  }
  for (const char *d : {"/usr/local/bin", "/usr/local/sbin"})
    if (auto names = fs.list_dir(d); names.ok())
      for (auto &n : *names)
        scripts.push_back(std::string(d) + "/" + n);
  // An administrator's own deploy scripts in root's home.
  if (auto names = fs.list_dir("/root"); names.ok())
    for (auto &n : *names)
      if (n.ends_with(".sh"))
        scripts.push_back("/root/" + n);
  for (auto &path : scripts) {
    auto st = fs.stat(path);
    if (!st.ok() || st->type != FileInfo::Type::regular || st->size > k_max_script)
      continue;
    auto text = fs.read_file(path, k_max_script);
    if (!text.ok() || text->find("docker") == std::string::npos)
      continue;
    from_commands(path, *text, dirname_of(path), 0);
  }
  // systemd units: Exec*= lines, relative to WorkingDirectory= (else /).
  for (const char *g :
       {"/etc/systemd/system/*.service", "/usr/local/lib/systemd/system/*.service"}) {
    auto units = fs.glob(g);
    if (!units.ok())
      continue;
    for (auto &u : *units) {
      auto text = fs.read_file(u, k_max_script);
      if (!text.ok() || text->find("docker") == std::string::npos)
        continue;
      std::string wd = "/";
      std::vector<std::pair<int, std::string>> execs;
      // Environment= and EnvironmentFile= (systemd.exec), for COMPOSE_FILE:
      // systemd applies the files after the Environment= lines, later
      // assignments win.
      ShellEnv env, file_env;
      int ln = 0;
      std::string pending;
      int pending_line = 0;
      for (const auto &raw : split(*text, '\n', true)) {
        ++ln;
        std::string l(trim(raw));
        if (!pending.empty()) {
          pending += " " + l;
        } else {
          pending = l;
          pending_line = ln;
        }
        if (!pending.empty() && pending.back() == '\\') {
          pending.pop_back();
          continue;
        }
        std::string entry = std::move(pending);
        pending.clear();
        size_t eq = entry.find('=');
        if (eq == std::string::npos || entry[0] == '#' || entry[0] == ';')
          continue;
        std::string key(trim(entry.substr(0, eq)));
        std::string value(trim(entry.substr(eq + 1)));
        if (key == "WorkingDirectory") {
          while (!value.empty() && value[0] == '-')
            value = value.substr(1);
          if (!value.empty() && value[0] == '/')
            wd = value;
        } else if (key == "Environment") {
          // Quoted assignments as the shell splits words (systemd's own
          // quoting is close enough for NAME=value pairs).
          for (auto &c : shell_commands(value))
            for (auto &word : c.words)
              if (auto a = assignment(word); a && compose_variable(a->first))
                env[a->first] = a->second.text;
        } else if (key == "EnvironmentFile") {
          bool optional = starts_with(value, "-");
          std::string path = optional ? value.substr(1) : value;
          if (path.empty() || path[0] != '/')
            continue;
          auto body = fs.read_file(path, dotenv::k_max_dotenv_bytes);
          if (!body.ok())
            continue; // systemd refuses to start the unit unless optional
          auto df = dotenv::parse_dotenv_text(path, *body);
          for (const char *n : {"COMPOSE_FILE", "COMPOSE_PATH_SEPARATOR"})
            if (const auto *e = df.find(n); e && e->has_value)
              file_env[n] = e->value;
        } else if (starts_with(key, "ExecStart") || key == "ExecReload") {
          while (!value.empty() && std::string_view("-@:+!").find(value[0]) != std::string::npos)
            value = value.substr(1);
          execs.push_back({pending_line, value});
        }
      }
      for (auto &[k, v] : file_env)
        env[k] = v;
      for (auto &[line, cmd] : execs)
        from_commands(u, cmd, wd, line - 1, env);
    }
  }
  // COMPOSE_FILE in a project directory's .env, or in the .env of a
  // directory a script or unit runs `docker compose` in without -f:
  // Compose there uses it.
  dirs.insert(bare.begin(), bare.end());
  for (auto &d : dirs) {
    std::string env = join_path(d, ".env");
    auto text = fs.read_file(env, dotenv::k_max_dotenv_bytes);
    if (!text.ok())
      continue;
    auto df = dotenv::parse_dotenv_text(env, *text);
    const auto *cf = df.find("COMPOSE_FILE");
    if (!cf || !cf->has_value)
      continue;
    const auto *sep = df.find("COMPOSE_PATH_SEPARATOR");
    DeployFileSet s;
    s.source = env;
    s.line = cf->loc.line;
    s.how = "COMPOSE_FILE";
    s.directory = d;
    std::string value = dotenv_value(df, *cf);
    std::string separator = sep && sep->has_value ? dotenv_value(df, *sep) : ":";
    if (value.empty()) {
      s.empty_compose_file = true; // the versions disagree (DeployFileSet)
      add(std::move(s));
      continue;
    }
    for (auto &f : split_compose_file(value, separator)) {
      if (f.find('$') != std::string::npos || starts_with(f, "~"))
        s.unresolved.push_back(f);
      else // "" (an empty entry) is the directory itself, as Compose resolves it
        s.files.push_back(normalise(f.empty() ? d : join_path(d, f)));
    }
    add(std::move(s));
  }
  return out;
}

} // namespace bulwark::compose
