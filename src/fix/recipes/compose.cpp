// Compose overrides: container.* settings that are safe to add to a running
// service, written as an override file `docker-compose.bulwark.yml` in the
// project directory, merged after the user's files, and the deploy command
// changed to name it. The user's own compose files are never edited.
//
// The merge is Compose v2's (compose-go override/merge.go; the compose
// specification's merge.md): `security_opt` and `cap_drop` are sets merged
// by value, so the override's items are added to the service's own and
// remove nothing (no `!reset`/`!override` is written). Debian's
// docker-compose 1.29 merges these two keys the same way
// (merge_unique_items_lists), and it judges the merged files before
// anything is written (Validator::compose).
//
// What is added, and why only this:
//   no-new-privileges  `security_opt: ["no-new-privileges:true"]`. It stops
//                      a process from gaining privileges through execve of a
//                      setuid or file-capability binary; the official images
//                      drop root with gosu/su-exec/setpriv, which need no
//                      such exec. A service that turns it off itself
//                      (`no-new-privileges:false`) made a choice and is left
//                      for a hand fix. A `docker stack deploy` project is
//                      refused: swarm services have no security_opt (the
//                      stack ignores it); daemon.json's no-new-privileges
//                      (docker.daemon-hardening) is where a swarm honours it.
//   cap-drop-all       `cap_drop: [ALL]`, only for services that run as a
//                      non-root `user:`. Docker gives such a process no
//                      effective capability (no ambient set), so ALL only
//                      removes what a setuid or file-capability binary could
//                      regain; `cap_add` stays (Docker drops ALL, then adds
//                      the service's cap_add). Low ports need no capability
//                      (Docker >= 20.10 sets ip_unprivileged_port_start=0).
//                      A service that starts as root (no `user:`, or uid 0)
//                      is left: the entrypoints of postgres, redis, nginx
//                      switch user with CHOWN, SETUID, SETGID, DAC_OVERRIDE,
//                      and dropping them stops the container. So is a
//                      privileged one.
// Never touched: read_only (a service writes where it writes), privileged,
// the Docker socket, devices, host namespaces, seccomp/AppArmor opt-outs:
// removing one of them can stop a service that needs it, and an override
// can only remove through `!reset`, which hides the user's intent.
//
// Where the deploy command names the files (the discovery of
// parse/compose_deploy.hpp, as container.deploy-file-set reads it):
//   a deploy script or a systemd unit's Exec*= line (`docker compose -f a
//     -f b`, `docker-compose --file=a`, `docker stack deploy -c a`): the
//     override's flag is added after the last file flag of every command
//     that names the project's file set;
//   COMPOSE_FILE in the project's .env: the override appended to the list
//     (COMPOSE_PATH_SEPARATOR kept);
//   Compose's default names (no deployment names them): COMPOSE_FILE with
//     the default files and the override added to the project's .env (created
//     when absent), which `docker compose` and docker-compose read there.
// COMPOSE_FILE exported by a script, or a file named through a shell
// variable, is refused: bulwark cannot tell which value runs.
//
// Each check is one action; a service the recipe leaves alone stays failing
// and is named in the action's summary (Action::subjects lists the fixed
// ones, which the re-audit judges). A second run finds only those and
// refuses them with the reason.

#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_deploy.hpp>
#include <bulwark/parse/dotenv.hpp>

#include <algorithm>
#include <set>

namespace bulwark::fix {

namespace {

using compose::Project;
using compose::Value;

constexpr const char *k_override = "docker-compose.bulwark.yml";
constexpr const char *k_marker = "# Written by bulwark fix";
constexpr const char *k_nnp = "no-new-privileges:true";
// Commands naming one file set that a recipe will edit, at most.
constexpr int k_max_commands = 64;

enum class ComposeSetting { no_new_privileges, cap_drop_all };

// A project as the container checks load it (checks/container.cpp's
// load_model without --compose): each file set a deployment names, then
// Compose's default files of a directory no deployment covers.
struct FoundComposeProject {
  Project project;
  std::optional<compose::DeployFileSet> deploy; // nullopt: Compose's default names
  // Default names only: a command in the project's directory that names
  // its files through a shell variable ("deploy.sh:4"), which the
  // deployment may use instead of the default names.
  std::string unknown_command;
};

std::vector<FoundComposeProject> load_projects(const RootFs &fs) {
  std::vector<FoundComposeProject> out;
  compose::Reader reader = compose::root_reader(fs);
  std::vector<std::string> dirs; // .env without default names: COMPOSE_FILE's projects
  auto defaults = compose::discover(fs, 4, &dirs);
  for (auto &d : defaults)
    dirs.push_back(compose::dirname_of(d.front()));
  std::set<std::string> covered_files, covered_dirs;
  compose::LoadOptions lo;
  lo.use_process_environment = fs.is_host_root();
  auto sets = compose::find_deploy_file_sets(fs, dirs);
  for (auto &s : sets) {
    if (!s.unresolved.empty() || s.files.empty())
      continue;
    covered_files.insert(s.files.begin(), s.files.end());
    if (s.how == "COMPOSE_FILE")
      covered_dirs.insert(compose::dirname_of(s.source));
    out.push_back({compose::load_project(reader, s.files, lo), s, ""});
  }
  for (auto &files : defaults) {
    if (covered_files.count(files.front()) ||
        covered_dirs.count(compose::dirname_of(files.front())))
      continue;
    std::string dir = compose::dirname_of(files.front()), unknown;
    for (auto &s : sets) {
      bool here = compose::dirname_of(s.source) == dir || s.source.starts_with(dir + "/");
      for (auto &f : s.files)
        here = here || compose::dirname_of(f) == dir;
      if (!s.unresolved.empty() && here && unknown.empty())
        unknown = s.source + ":" + std::to_string(s.line);
    }
    out.push_back({compose::load_project(reader, files, lo), std::nullopt, unknown});
  }
  return out;
}

std::vector<const Value *> compose_items_of(const Value *v) {
  std::vector<const Value *> out;
  if (v && v->is_sequence())
    for (auto &i : v->items)
      out.push_back(&i);
  else if (v && !v->is_null())
    out.push_back(v);
  return out;
}

bool compose_truthy(const Value *v) {
  std::string s = v && v->is_scalar() ? text::lower(v->scalar) : "";
  return s == "true" || s == "yes" || s == "on" || s == "1";
}

// Why the setting cannot be added safely to `svc`; "" when it can.
std::string unsafe_reason(ComposeSetting s, const FoundComposeProject &f, const Value &svc) {
  if (s == ComposeSetting::no_new_privileges) {
    if (f.deploy && f.deploy->how == "docker stack deploy")
      return "deployed with docker stack deploy, which ignores security_opt: set "
             "\"no-new-privileges\": true in /etc/docker/daemon.json (docker.daemon-hardening)";
    for (auto *i : compose_items_of(svc.find("security_opt"))) {
      std::string o = text::lower(std::string(text::trim(i->str())));
      if ((o.starts_with("no-new-privileges:") || o.starts_with("no-new-privileges=")) &&
          o != "no-new-privileges:true" && o != "no-new-privileges=true")
        return "turns no-new-privileges off itself (" + i->str() + ")";
    }
    return "";
  }
  if (compose_truthy(svc.find("privileged")))
    return "runs privileged";
  const Value *u = svc.find("user");
  std::string user = u ? std::string(text::trim(u->str())) : "";
  std::string uid = user.substr(0, user.find(':'));
  if (uid.empty())
    return "runs as the image's user (no user:), usually root, whose entrypoint needs CHOWN, "
           "SETUID and SETGID to switch user";
  if (uid == "root" || uid.find_first_not_of('0') == std::string::npos)
    return "runs as root (user: " + user + ")";
  if (uid.find('$') != std::string::npos)
    return "its user (" + user + ") is a variable";
  return "";
}

// The settings our override file already gives each service. Errors: the
// file is not ours (no marker) or does not parse.
Result<std::map<std::string, std::set<ComposeSetting>>> read_override(const std::string &path,
                                                                      const std::string &text) {
  std::map<std::string, std::set<ComposeSetting>> out;
  if (text.empty())
    return out;
  if (!text.starts_with(k_marker))
    return Error{"the file exists and was not written by bulwark fix; rename it and run again",
                 path, 1};
  auto doc = yaml::parse(text, path);
  if (!doc)
    return doc.error();
  const yaml::Node *svcs = doc->find("services");
  if (!svcs || !svcs->is_mapping())
    return out;
  for (auto &[name, svc] : svcs->entries) {
    auto &set = out[name];
    if (const yaml::Node *so = svc.find("security_opt"))
      for (auto &i : so->items)
        if (i.scalar == k_nnp)
          set.insert(ComposeSetting::no_new_privileges);
    if (const yaml::Node *cd = svc.find("cap_drop"))
      for (auto &i : cd->items)
        if (i.scalar == "ALL")
          set.insert(ComposeSetting::cap_drop_all);
  }
  return out;
}

std::string quoted(const std::string &s) {
  std::string out = "\"";
  for (char c : s) {
    if (c == '"' || c == '\\')
      out += '\\';
    out += c;
  }
  return out + "\"";
}

std::string render_override(const std::map<std::string, std::set<ComposeSetting>> &services) {
  std::string t = std::string(k_marker) +
                  " (container.*): merged after this project's own compose\n"
                  "# files. Compose merges security_opt and cap_drop by value, so these items\n"
                  "# add to each service's own; nothing of the project is removed. Undo with\n"
                  "# bulwark fix --rollback, or delete this file and its name in the deploy "
                  "command.\n"
                  "services:\n";
  for (auto &[name, set] : services) {
    if (set.empty())
      continue;
    t += "  " + quoted(name) + ":\n";
    if (set.count(ComposeSetting::no_new_privileges))
      t += "    security_opt:\n      - " + quoted(k_nnp) + "\n";
    if (set.count(ComposeSetting::cap_drop_all))
      t += "    cap_drop:\n      - \"ALL\"\n";
  }
  return t;
}

// --- the deploy command --------------------------------------------------------

struct ComposeShellToken {
  std::string value; // unquoted
  size_t begin = 0, end = 0;
  bool separator = false; // ; & | (a new command starts after it)
};

// Shell words of `text` (quotes, backslashes; `\` + newline joins lines),
// with their byte ranges. Enough to find file flags and their arguments.
std::vector<ComposeShellToken> shell_tokens(std::string_view text) {
  std::vector<ComposeShellToken> out;
  size_t i = 0;
  while (i < text.size()) {
    char c = text[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '\\' && i + 1 < text.size() && text[i + 1] == '\n') {
      i += 2;
      continue;
    }
    if (c == ';' || c == '&' || c == '|') {
      ComposeShellToken t;
      t.begin = i;
      while (i < text.size() && (text[i] == ';' || text[i] == '&' || text[i] == '|'))
        ++i;
      t.end = i;
      t.separator = true;
      out.push_back(t);
      continue;
    }
    ComposeShellToken t;
    t.begin = i;
    while (i < text.size()) {
      c = text[i];
      if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == ';' || c == '&' || c == '|')
        break;
      if (c == '\\' && i + 1 < text.size()) {
        if (text[i + 1] != '\n')
          t.value += text[i + 1];
        i += 2;
        continue;
      }
      if (c == '\'' || c == '"') {
        size_t close = text.find(c, i + 1);
        if (close == std::string_view::npos)
          close = text.size();
        t.value += text.substr(i + 1, close - i - 1);
        i = std::min(text.size(), close + 1);
        continue;
      }
      t.value += c;
      ++i;
    }
    t.end = i;
    out.push_back(t);
  }
  return out;
}

// The byte range of line `line` (1-based) of `text` and the lines joined
// to it by a trailing backslash.
std::pair<size_t, size_t> logical_line(std::string_view text, int line) {
  size_t begin = 0;
  for (int l = 1; l < line && begin != std::string_view::npos; ++l) {
    begin = text.find('\n', begin);
    if (begin != std::string_view::npos)
      ++begin;
  }
  if (begin == std::string_view::npos)
    return {text.size(), text.size()};
  size_t end = begin;
  while (true) {
    size_t nl = text.find('\n', end);
    if (nl == std::string_view::npos)
      return {begin, text.size()};
    size_t back = nl;
    if (back > begin && text[back - 1] == '\r')
      --back;
    if (back > begin && text[back - 1] == '\\') {
      end = nl + 1;
      continue;
    }
    return {begin, nl};
  }
}

bool plain_word(const std::string &s) {
  return !s.empty() && s.find_first_not_of("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                           "0123456789._-/+@%:,=") == std::string::npos;
}

std::string shell_quote(const std::string &s) {
  if (plain_word(s))
    return s;
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

// The override's path written as the file `first` was (its directory as
// typed; "." and bare names stay relative).
std::string override_as_written(const std::string &first) {
  auto slash = first.rfind('/');
  return slash == std::string::npos ? std::string(k_override)
                                    : first.substr(0, slash + 1) + k_override;
}

// `text` with the override's flag after the last file flag of each command
// on `line` (and its continuation lines) whose last file is written `last`.
// Unchanged when there is none.
std::string add_to_commands(const std::string &text, int line, bool stack, const std::string &first,
                            const std::string &last) {
  auto [begin, end] = logical_line(text, line);
  auto toks = shell_tokens(std::string_view(text).substr(begin, end - begin));
  auto is_flag = [&](const std::string &v) {
    return stack ? v == "-c" || v == "--compose-file" : v == "-f" || v == "--file";
  };
  auto eq_flag = [&](const std::string &v) {
    return v.starts_with(stack ? "--compose-file=" : "--file=");
  };
  std::string add_path = override_as_written(first);
  // (offset after the argument, text to insert) of each command's last flag.
  std::vector<std::pair<size_t, std::string>> inserts;
  std::optional<std::pair<size_t, std::string>> pending;
  auto close = [&] {
    if (pending)
      inserts.push_back(*pending);
    pending.reset();
  };
  for (size_t i = 0; i < toks.size(); ++i) {
    const ComposeShellToken &t = toks[i];
    if (t.separator) {
      close();
      continue;
    }
    if (is_flag(t.value) && i + 1 < toks.size() && !toks[i + 1].separator) {
      const ComposeShellToken &a = toks[i + 1];
      pending.reset();
      if (a.value == last)
        pending = std::make_pair(a.end, " " + t.value + " " + shell_quote(add_path));
      ++i;
    } else if (eq_flag(t.value)) {
      pending.reset();
      std::string v = t.value.substr(t.value.find('=') + 1);
      if (v == last)
        pending = std::make_pair(t.end, " " + t.value.substr(0, t.value.find('=') + 1) +
                                            shell_quote(add_path));
    }
  }
  close();
  std::string out = text;
  std::sort(inserts.begin(), inserts.end(), [](auto &a, auto &b) { return a.first > b.first; });
  for (auto &[at, s] : inserts)
    out.insert(begin + at, s);
  return out;
}

// The command's files as written (compose_commands of its source), for the
// command that starts on `line` and names `count` files.
std::optional<compose::ComposeCommand> command_at(std::string_view text, int line,
                                                  const std::string &how, size_t count) {
  // A unit's Exec*= line is read alone; a script's command by its line.
  for (auto &c : compose::compose_commands(text))
    if (c.line == line && c.how == how && c.files.size() == count)
      return c;
  return std::nullopt;
}

// The dotenv line `line` of .env with `entry` appended to its
// COMPOSE_FILE value (before a closing quote or a trailing comment).
std::optional<std::string> append_to_compose_file(const std::string &text, int line,
                                                  const std::string &sep,
                                                  const std::string &entry) {
  auto [begin, end] = logical_line(text, line);
  std::string l = text.substr(begin, end - begin);
  size_t eq = l.find('=');
  if (eq == std::string::npos || l.find("COMPOSE_FILE") > eq)
    return std::nullopt;
  size_t v = eq + 1;
  size_t at;
  if (v < l.size() && (l[v] == '"' || l[v] == '\'')) {
    at = l.find(l[v], v + 1);
    if (at == std::string::npos)
      return std::nullopt; // a multi-line quoted value: not a file list
  } else {
    at = l.find(" #", v);
    if (at == std::string::npos)
      at = l.size();
    while (at > v && (l[at - 1] == ' ' || l[at - 1] == '\t' || l[at - 1] == '\r'))
      --at;
  }
  std::string value = l.substr(v, at - v);
  if (!value.empty() && (value[0] == '"' || value[0] == '\''))
    value = value.substr(1);
  l.insert(at, (value.empty() || value.ends_with(sep) ? "" : sep) + entry);
  return text.substr(0, begin) + l + text.substr(end);
}

// The working root with the deployment of `f` naming the override last.
// "" on success, else why it cannot be done.
Result<std::string> name_override(Working &w, const FoundComposeProject &f,
                                  const std::string &over) {
  const std::vector<std::string> old =
      f.deploy ? f.deploy->files
               : std::vector<std::string>(f.project.files.begin(),
                                          f.project.files.begin() +
                                              static_cast<long>(f.project.main_files));
  std::vector<std::string> wanted = old;
  wanted.push_back(over);
  std::string dir = f.project.directory;
  auto sets_now = [&] {
    RootFs view = w.view();
    return compose::find_deploy_file_sets(view, {dir});
  };
  if (!f.deploy) {
    // Compose's default names: COMPOSE_FILE in the project's .env, unless
    // a command there names its files through a variable (its -f would
    // win over COMPOSE_FILE, and which files it names is not known).
    if (!f.unknown_command.empty())
      return std::string(f.unknown_command + " names compose files through a shell variable: " +
                         "add " + over + " to that command by hand");
    std::string env = dir + "/.env";
    std::string text = TRY(w.read(env, true));
    auto df = dotenv::parse_dotenv_text(env, text);
    if (df.find("COMPOSE_FILE"))
      return std::string(env + " sets COMPOSE_FILE through a variable; add " + over +
                         " to it by hand");
    const auto *sep_e = df.find("COMPOSE_PATH_SEPARATOR");
    std::string sep = sep_e && sep_e->has_value ? sep_e->value : ":";
    std::string list;
    for (auto &p : wanted) {
      if (compose::dirname_of(p) != dir)
        return std::string(p + " lies outside the project directory; name the files by hand");
      list += (list.empty() ? "" : sep) + p.substr(dir.size() + 1);
    }
    // One line added to an existing .env (it may hold secrets): the
    // playbook then adds it with lineinfile instead of carrying the file.
    if (!text.empty() && !text.ends_with('\n'))
      text += '\n';
    if (text.empty())
      text = "# bulwark fix: the project's files, with its security override last\n";
    text += "COMPOSE_FILE=" + list + "\n";
    w.write(env, text);
  } else {
    for (int n = 0; n < k_max_commands; ++n) {
      const compose::DeployFileSet *s = nullptr;
      auto sets = sets_now();
      for (auto &c : sets)
        if (c.files == old && c.unresolved.empty()) {
          s = &c;
          break;
        }
      if (s == nullptr)
        break;
      std::string text = TRY(w.read(s->source));
      std::string edited;
      if (s->how == "COMPOSE_FILE") {
        auto df = dotenv::parse_dotenv_text(s->source, text);
        const auto *sep_e = df.find("COMPOSE_PATH_SEPARATOR");
        std::string sep = sep_e && sep_e->has_value ? sep_e->value : ":";
        std::string env_dir = compose::dirname_of(s->source);
        std::string entry = env_dir == dir ? std::string(k_override) : over;
        edited = append_to_compose_file(text, s->line, sep, entry).value_or(text);
      } else if (s->how.ends_with("with COMPOSE_FILE")) {
        return std::string(s->source + ":" + std::to_string(s->line) +
                           " takes its files from COMPOSE_FILE in the environment; add " + over +
                           " to it by hand");
      } else {
        // A unit's Exec*= value is its own command; a script's by its line.
        bool unit = s->source.ends_with(".service");
        int line = s->line;
        std::optional<compose::ComposeCommand> cmd;
        if (unit) {
          auto [b, e] = logical_line(text, line);
          std::string exec = text.substr(b, e - b);
          auto eq = exec.find('=');
          if (eq != std::string::npos)
            for (auto &c : compose::compose_commands(exec.substr(eq + 1)))
              if (c.how == s->how && c.files.size() == old.size())
                cmd = c;
        } else {
          cmd = command_at(text, line, s->how, old.size());
        }
        if (!cmd || cmd->files.empty())
          return std::string("cannot find the command at " + s->source + ":" +
                             std::to_string(s->line) + "; add " + over + " to it by hand");
        edited = add_to_commands(text, line, s->how == "docker stack deploy", cmd->files.front(),
                                 cmd->files.back());
      }
      if (edited == text)
        return std::string("cannot add " + over + " to " + s->how + " at " + s->source + ":" +
                           std::to_string(s->line) + "; add it by hand");
      w.write(s->source, edited);
    }
  }
  // The deployment now names the override, last.
  for (auto &c : sets_now())
    if (c.files == wanted)
      return std::string();
  return std::string("after the edit no deploy command names " + compose::join_path(dir, "") +
                     " with " + over + " last; add it by hand");
}

Result<RecipeOutcome> override_recipe(const RecipeInput &in, ComposeSetting setting) {
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, "", std::move(why)}};
  };
  std::set<std::string> failing;
  for (const Finding *f : in.findings)
    failing.insert(f->subject);
  std::vector<FoundComposeProject> projects = load_projects(in.fs);

  Working w(in.fs);
  Action a;
  a.check_id = in.spec.id;
  a.validators = {Validator::compose};
  std::vector<std::string> left, done, where;
  std::set<std::string> written_dirs;
  for (const FoundComposeProject &f : projects) {
    const Project &p = f.project;
    const Value *svcs = p.services();
    if (!p.valid() || !svcs || p.directory.empty() || p.directory[0] != '/')
      continue;
    std::vector<std::string> fix;
    for (auto &[name, svc] : svcs->entries) {
      std::string subject = p.name + "/" + name;
      if (!failing.count(subject) || !svc.is_mapping())
        continue;
      if (std::string why = unsafe_reason(setting, f, svc); !why.empty())
        left.push_back(subject + " (" + why + ")");
      else
        fix.push_back(name);
    }
    if (fix.empty())
      continue;
    if (written_dirs.count(p.directory))
      return refuse("two file sets of " + p.directory +
                    " fail; one override cannot serve both: fix by hand");
    written_dirs.insert(p.directory);
    std::string over = compose::join_path(p.directory, k_override);
    std::string current = TRY(w.read(over, true));
    auto settings = read_override(over, current);
    if (!settings)
      return refuse(over + ": " + settings.error().to_string());
    for (auto &n : fix) {
      (*settings)[n].insert(setting);
      a.subjects.push_back(p.name + "/" + n);
      done.push_back(p.name + "/" + n);
    }
    w.write(over, render_override(*settings));
    bool named = std::find(p.files.begin(), p.files.begin() + static_cast<long>(p.main_files),
                           over) != p.files.begin() + static_cast<long>(p.main_files);
    if (!named) {
      std::string why = TRY(name_override(w, f, over));
      if (!why.empty())
        return refuse(why);
    }
    std::string how =
        f.deploy ? f.deploy->how + " at " + f.deploy->source + ":" + std::to_string(f.deploy->line)
                 : "COMPOSE_FILE in " + p.directory + "/.env";
    where.push_back(over + " (" + how + ")");
    if (f.deploy && f.deploy->source.ends_with(".service"))
      a.restart_units.push_back(f.deploy->source.substr(f.deploy->source.rfind('/') + 1));
  }
  if (done.empty())
    return refuse(left.empty() ? "no failing service of a compose project bulwark found in the "
                                 "root (a project named by --compose is fixed by hand)"
                               : "left for a hand fix: " + text::join(left, "; "));
  a.subject = done.front();
  a.edits = TRY(write_edits(in.fs, w.files()));
  // A project's .env often holds secrets: its edit is one COMPOSE_FILE line,
  // which the playbook sets with lineinfile (when that reproduces the plan
  // exactly) instead of a copy of the whole file.
  for (FileEdit &e : a.edits) {
    if (!e.path.ends_with("/.env") || !e.before)
      continue;
    for (auto &l : text::split(e.after, '\n'))
      if (std::string t(text::trim(l));
          t.starts_with("COMPOSE_FILE=") || t.starts_with("export COMPOSE_FILE="))
        if (e.before->find(l + "\n") == std::string::npos)
          e.line = l;
    if (e.line)
      e.line_regexp = "^[ \\t]*(export[ \\t]+)?COMPOSE_FILE=";
  }
  a.summary = std::string(setting == ComposeSetting::no_new_privileges
                              ? "security_opt no-new-privileges:true"
                              : "cap_drop ALL") +
              " for " + text::join(done, ", ") + " in " + text::join(where, ", ") +
              "; recreate the containers (docker compose up -d / the deploy script)" +
              (left.empty() ? "" : "; left for a hand fix: " + text::join(left, "; "));
  return RecipeOutcome{std::move(a)};
}

Result<RecipeOutcome> compose_override(const RecipeInput &in) {
  std::string s;
  for (auto &[k, v] : in.args.set)
    if (k == "setting")
      s = v;
  if (s == "no-new-privileges")
    return override_recipe(in, ComposeSetting::no_new_privileges);
  if (s == "cap-drop-all")
    return override_recipe(in, ComposeSetting::cap_drop_all);
  return Error{"recipe compose-override of " + in.spec.id + ": unknown setting '" + s +
               "' (no-new-privileges, cap-drop-all)"};
}

constexpr RecipeKind k_compose_kinds[] = {
    {"compose-override", compose_override},
};

} // namespace

std::span<const RecipeKind> compose_recipes() {
  return k_compose_kinds;
}

} // namespace bulwark::fix
