// container.*, network.*, docker.daemon-hardening (issue 3): compose
// projects as `docker compose config` merges them (parse/compose.hpp), the
// Dockerfiles their services build (parse/dockerfile.hpp), and dockerd's
// /etc/docker/daemon.json (Docker Engine 24+ option names).
//
// Subjects: "<project>/<service>" for service checks, "<project>" for
// project checks, "<project>/network <name>" for networks: a host with
// several projects can have the same service name twice. Evidence names
// the file and line that decided; when a setting is absent, the line where
// the service is defined (the place the setting belongs), said so in the
// message. A project whose files do not load or validate reports only
// container.compose-valid: judging half a model would mislead.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/compose_services.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/docker_engine.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/core/hostfs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_deploy.hpp>
#include <bulwark/parse/docker_daemon.hpp>
#include <bulwark/parse/dockerfile.hpp>
#include <bulwark/parse/dotenv.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <iterator>
#include <optional>
#include <set>
#include <unistd.h>

namespace bulwark {

using namespace bulwark::text;

namespace {

using compose::Loc;
using compose::Project;
using compose::Value;

struct ProjectExtras {
  std::map<std::string, dockerfile::Dockerfile> dockerfiles; // by service
  std::map<std::string, dotenv::DotenvFile> env_files;       // env_file: and .env, by path
  std::optional<Evidence> content_trust;                     // where DOCKER_CONTENT_TRUST=1 is
  std::vector<std::pair<std::string, std::string>> ci_files; // deploy scripts, CI files: path, text
};

// Where a project's file set comes from.
struct ProjectOrigin {
  enum class Kind { command_line, deployment, default_files } kind = Kind::default_files;
  std::optional<compose::DeployFileSet> deploy; // kind == deployment
  bool inside_root = false;                     // command_line: the files are the target's
  std::vector<std::string> missing;             // main files that do not exist
};

struct ComposeModel {
  std::vector<Project> projects;
  std::vector<ProjectExtras> extras;  // parallel to projects
  std::vector<ProjectOrigin> origins; // parallel to projects
  // Every file set the target's deploy scripts, units and .env name,
  // including those not audited (a shell variable in a path).
  std::vector<compose::DeployFileSet> deploy_sets;
  // The running containers (--live, --docker) as one more project whose
  // services are containers (checks/docker_engine.hpp); judged by the
  // per-service checks, with subject "container NAME".
  std::optional<Project> engine;
  // The swarm's services (a manager with swarm active), judged by the same
  // per-service checks with subject "service NAME".
  std::optional<Project> swarm;
  // This node is in a swarm whose services it cannot list (a worker, a
  // locked manager): why, as the engine says it; "" otherwise.
  std::string swarm_unlisted;
  std::string engine_socket;
};

using compose::dirname_of;
using compose::join_path;

// Looks for DOCKER_CONTENT_TRUST=1 in `text`; the line, or 0.
int content_trust_line(std::string_view text) {
  int line = 1;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l =
        text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    size_t k = l.find("DOCKER_CONTENT_TRUST");
    if (k != std::string_view::npos) {
      std::string_view rest = l.substr(k + std::strlen("DOCKER_CONTENT_TRUST"));
      if (!rest.empty() && (rest[0] == '=' || rest[0] == ':')) {
        rest.remove_prefix(1);
        rest = trim(rest);
        while (!rest.empty() && (rest[0] == '"' || rest[0] == '\''))
          rest.remove_prefix(1);
        if (!rest.empty() && rest[0] == '1')
          return line;
      }
    }
    if (nl == std::string_view::npos)
      break;
    pos = nl + 1;
    ++line;
  }
  return 0;
}

// DOCKER_CONTENT_TRUST=1 set host-wide: /etc/environment, dockerd's
// defaults, login profiles, docker.service drop-ins. Read once per run.
std::optional<Evidence> host_content_trust(const RootFs &fs) {
  std::vector<std::string> host_files = {"/etc/environment", "/etc/default/docker"};
  for (auto &g : {"/etc/profile.d/*.sh", "/etc/systemd/system/docker.service.d/*.conf"})
    if (auto m = fs.glob(g); m.ok())
      host_files.insert(host_files.end(), m->begin(), m->end());
  for (auto &f : host_files)
    if (auto text = fs.read_file(f, 1024 * 1024); text.ok())
      if (int l = content_trust_line(*text))
        return Evidence{f, l, "DOCKER_CONTENT_TRUST=1", "DOCKER_CONTENT_TRUST=1", ""};
  return std::nullopt;
}

// Deploy scripts and CI definitions a project directory usually holds,
// read for docker.image-vulnerability-scan.
constexpr const char *k_ci_files[] = {"deploy.sh",
                                      "secure-deploy.sh",
                                      "Makefile",
                                      ".gitlab-ci.yml",
                                      "Jenkinsfile",
                                      ".drone.yml",
                                      "bitbucket-pipelines.yml",
                                      ".github/workflows/deploy.yml",
                                      ".github/workflows/ci.yml",
                                      ".github/workflows/main.yml",
                                      ".github/workflows/build.yml",
                                      ".github/workflows/docker.yml",
                                      ".github/workflows/release.yml"};

// `fs`, when the project is the target's (not --compose host files), lists
// its directory.
ProjectExtras load_extras(const Project &p, const compose::Reader &reader,
                          const std::optional<Evidence> &host_trust, const RootFs *fs) {
  ProjectExtras x;
  const Value *svcs = p.services();
  if (svcs)
    for (auto &[name, svc] : svcs->entries) {
      if (!svc.is_mapping())
        continue;
      if (const Value *b = svc.find("build"); b && b->is_mapping()) {
        const Value *ctx = b->find("context");
        std::string context =
            ctx ? p.resolve(ctx->where(), ctx->str()) : p.resolve(b->where(), ".");
        // A remote context (git URL) cannot be read offline.
        if (context.find("://") == std::string::npos && !starts_with(context, "git@")) {
          const Value *df = b->find("dockerfile");
          std::string path = join_path(context, df ? df->str() : "Dockerfile");
          auto text = reader.read(path, 1024 * 1024);
          if (text.ok())
            x.dockerfiles.emplace(name, dockerfile::parse_dockerfile(path, *text));
        }
      }
      for (const compose::EnvFileEntry &ef : env_file_entries(svc)) {
        std::string path = p.resolve(ef.path->where(), ef.path->str());
        if (x.env_files.count(path))
          continue;
        auto text = reader.read(path, dotenv::k_max_dotenv_bytes);
        if (text.ok())
          x.env_files.emplace(path, dotenv::parse_dotenv_text(path, *text));
      }
    }
  for (auto &ef : p.env_files) {
    if (x.env_files.count(ef))
      continue;
    auto text = reader.read(ef, dotenv::k_max_dotenv_bytes);
    if (text.ok())
      x.env_files.emplace(ef, dotenv::parse_dotenv_text(ef, *text));
  }
  // The project directory listed once: probing the usual names one by one
  // was 17 failed opens a project, a tenth of a 1,000-project audit. A name
  // is tried when its first component is listed, or when nothing could be
  // listed (then every name is tried, as before).
  // list_dir sorts bytewise, as find_deploy_file_sets relies on too.
  std::optional<std::vector<std::string>> listed;
  if (fs != nullptr)
    if (auto names = fs->list_dir(p.directory); names.ok())
      listed = std::move(*names);
  auto maybe_there = [&](std::string_view rel) {
    return !listed ||
           std::binary_search(listed->begin(), listed->end(), rel.substr(0, rel.find('/')));
  };
  for (const char *f : k_ci_files)
    if (maybe_there(f))
      if (auto text = reader.read(join_path(p.directory, f), 1024 * 1024); text.ok())
        x.ci_files.emplace_back(join_path(p.directory, f), *text);
  // DOCKER_CONTENT_TRUST=1 where a deployment sets it: the project's env
  // files, its deploy scripts, the host's environment and dockerd's unit.
  for (auto &ef : p.env_files)
    if (auto it = x.env_files.find(ef); it != x.env_files.end())
      if (const auto *e = it->second.find("DOCKER_CONTENT_TRUST"); e && e->value == "1") {
        x.content_trust =
            Evidence{ef, e->loc.line, "DOCKER_CONTENT_TRUST=1", "DOCKER_CONTENT_TRUST=1", ""};
        return x;
      }
  for (const char *s : {"deploy.sh", "secure-deploy.sh", "Makefile", ".envrc"}) {
    if (!maybe_there(s))
      continue;
    std::string f = join_path(p.directory, s);
    if (auto text = reader.read(f, 1024 * 1024); text.ok())
      if (int l = content_trust_line(*text)) {
        x.content_trust = Evidence{f, l, "DOCKER_CONTENT_TRUST=1", "DOCKER_CONTENT_TRUST=1", ""};
        return x;
      }
  }
  x.content_trust = host_trust;
  return x;
}

// The target path of a host path that leads into the offline root, or
// nullopt when it does not. The path is taken from the current directory and
// cut at the first prefix whose real path lies inside the root: what comes
// after belongs to the target (its symlinks and `..` are the image's), so
// RootFs resolves it, never the host.
std::optional<std::string> target_path_of(const RootFs &fs, const std::string &host_path) {
  std::string abs = host_path;
  if (abs.empty() || abs[0] != '/') {
    char *cwd = ::getcwd(nullptr, 0);
    if (cwd == nullptr)
      return std::nullopt;
    abs = std::string(cwd) + "/" + abs;
    std::free(cwd);
  }
  const std::string &root = fs.host_root();
  auto parts = split(abs, '/');
  std::string prefix;
  for (size_t i = 0; i <= parts.size(); ++i) {
    if (i > 0)
      prefix += "/" + std::string(parts[i - 1]);
    auto real = HostFs::real_path(prefix.empty() ? "/" : prefix);
    if (!real)
      return std::nullopt;
    bool inside =
        *real == root || (real->size() > root.size() && real->compare(0, root.size(), root) == 0 &&
                          (*real)[root.size()] == '/');
    if (!inside)
      continue;
    std::string rest = real->substr(root.size());
    for (size_t j = i; j < parts.size(); ++j)
      rest += "/" + std::string(parts[j]);
    return rest.empty() ? std::string("/") : rest;
  }
  return std::nullopt;
}

// A project that cannot be loaded for a reason of the command line.
Project unloadable(const std::vector<std::string> &files, std::string message) {
  Project p;
  p.files = files;
  p.main_files = files.size();
  p.diagnostics.push_back({compose::Diagnostic::Level::error, std::move(message),
                           SourceLocation{files.empty() ? std::string() : files.front(), 0}});
  return p;
}

ComposeModel load_model(Context &ctx) {
  ComposeModel m;
  const auto &opt = ctx.options();
  const RootFs &fs = ctx.fs();
  // The auditor's environment (a CI token, say) is the target's only when
  // the target is this host, or when --host-env says so; otherwise a
  // ${VAR:-default} must not carry it into the report.
  bool process_env = fs.is_host_root() || opt.host_env;
  if (!opt.compose_files.empty()) {
    compose::LoadOptions lo;
    lo.env_files = opt.env_files;
    lo.use_process_environment = process_env;
    std::vector<std::string> files = opt.compose_files;
    compose::Reader reader = compose::host_reader();
    // A --compose file inside an offline root is the target's: its .env,
    // env_file, extends and include are read through RootFs, so `../` and
    // absolute symlinks stay inside the root.
    size_t inside = 0;
    if (!fs.is_host_root())
      for (auto &f : files)
        if (auto t = target_path_of(fs, f)) {
          f = *t;
          ++inside;
        }
    if (inside > 0 && inside < files.size()) {
      m.projects.push_back(
          unloadable(opt.compose_files, "--compose files must all lie inside --root " +
                                            fs.host_root() + " or all outside it"));
      m.extras.emplace_back();
      m.origins.push_back({ProjectOrigin::Kind::command_line, std::nullopt, false, {}});
      return m;
    }
    if (inside > 0) {
      // --env-file outside the root is the user's own file; inside, the
      // target's.
      std::set<std::string> host_env_files;
      for (auto &ef : lo.env_files) {
        if (auto t = target_path_of(fs, ef))
          ef = *t;
        else
          host_env_files.insert(ef);
      }
      reader.read = [&fs, host_env_files](const std::string &path, size_t max) {
        return host_env_files.count(path) ? HostFs::read_file(path, max, "")
                                          : fs.read_file(path, max);
      };
      reader.is_file = compose::root_reader(fs).is_file;
    }
    m.projects.push_back(compose::load_project(reader, files, lo));
    m.extras.push_back(
        load_extras(m.projects.back(), reader, host_content_trust(fs), inside > 0 ? &fs : nullptr));
    ProjectOrigin o{ProjectOrigin::Kind::command_line, std::nullopt, inside > 0, {}};
    // The target's own deployment, to compare with what --compose names
    // (only when those are the target's files: host paths are not).
    if (o.inside_root)
      m.deploy_sets = compose::find_deploy_file_sets(fs, {dirname_of(files.front())});
    m.origins.push_back(std::move(o));
    return m;
  }
  compose::Reader reader = compose::root_reader(fs);
  auto trust = host_content_trust(fs);
  // Directories with a .env and no default-named file: COMPOSE_FILE there
  // names the project (find_deploy_file_sets reads it).
  std::vector<std::string> dirs;
  auto defaults = compose::discover(fs, 4, &dirs);
  for (auto &d : defaults)
    dirs.push_back(dirname_of(d.front()));
  // The deployment's own file sets come first: guide 000 deploys three
  // --compose-file files as one stack, and auditing docker-compose.yml
  // alone would judge a project nobody runs. A default set is audited only
  // when no deployment names its main file (or sets COMPOSE_FILE in its
  // directory, which replaces Compose's default names there).
  m.deploy_sets = compose::find_deploy_file_sets(fs, dirs);
  std::set<std::string> covered_files, covered_dirs;
  auto load = [&](const std::vector<std::string> &files, ProjectOrigin o) {
    compose::LoadOptions lo;
    lo.use_process_environment = process_env;
    for (auto &f : files)
      if (auto st = fs.stat(f); !st.ok() && st.error().not_found())
        o.missing.push_back(f);
    m.projects.push_back(compose::load_project(reader, files, lo));
    m.extras.push_back(load_extras(m.projects.back(), reader, trust, &fs));
    m.origins.push_back(std::move(o));
  };
  for (auto &s : m.deploy_sets) {
    if (!s.unresolved.empty() || s.files.empty())
      continue; // a path from a shell variable: the set is not known offline
    covered_files.insert(s.files.begin(), s.files.end());
    if (s.how == "COMPOSE_FILE")
      covered_dirs.insert(dirname_of(s.source));
    load(s.files, {ProjectOrigin::Kind::deployment, s, false, {}});
  }
  for (auto &files : defaults) {
    if (covered_files.count(files.front()) || covered_dirs.count(dirname_of(files.front())))
      continue;
    load(files, {ProjectOrigin::Kind::default_files, std::nullopt, false, {}});
  }
  return m;
}

const ComposeModel &model(Context &ctx) {
  return ctx.model<ComposeModel>([&] {
    ComposeModel m = load_model(ctx);
    const auto &engine = ctx.get<DockerEngineModel>();
    if (engine.state != DockerEngineModel::State::absent)
      m.engine = engine_project(engine);
    if (engine.state == DockerEngineModel::State::ok && engine.swarm_active)
      m.swarm = swarm_project(engine);
    if (engine.state == DockerEngineModel::State::ok) {
      m.swarm_unlisted = engine.swarm_unlisted;
      m.engine_socket = engine.socket;
    }
    return m;
  });
}

const ComposeModel &model(CheckRun &run) {
  return model(run.ctx());
}

Evidence ev(const Project &p, Loc l, std::string found, std::string expected, std::string context) {
  SourceLocation s = p.where(l);
  return Evidence{s.path, s.line, std::move(found), std::move(expected), std::move(context)};
}

// Fail closed: a project that could not be read or merged is an `error` of
// every check that would have judged it, naming the file and line of its
// first error. Its services are unknown, so no verdict about them can pass.
// Returns true when the project is valid.
bool judged(CheckRun &run, const Project &p) {
  if (p.valid())
    return true;
  std::vector<Evidence> evidence;
  std::string first;
  for (auto &d : p.diagnostics) {
    if (d.level != compose::Diagnostic::Level::error)
      continue;
    SourceLocation s = p.where(d.loc);
    if (first.empty())
      first = s.path + ":" + std::to_string(s.line) + ": " + d.message;
    if (evidence.size() < 5)
      evidence.push_back(Evidence{s.path, s.line, d.message, "a valid compose file", p.name});
  }
  if (first.empty()) {
    std::string f = p.files.empty() ? std::string() : p.files.front();
    first = f + ": the project could not be loaded";
    evidence.push_back(Evidence{f, 0, "not loaded", "a valid compose file", p.name});
  }
  if (p.name == k_engine_project)
    run.emit(Status::error, "docker engine",
             "the running containers could not be checked: " + first, std::move(evidence));
  else
    run.emit(Status::error, p.name,
             "the compose project could not be read, so its services could not be checked: " +
                 first,
             std::move(evidence));
  return false;
}

// Runs `f(project, extras, name, service)` for each service of each valid
// project and each running container (the engine project, first); an invalid
// project or an unreadable engine is an error (judged()); a run with no
// project at all says not_applicable once.
template <class F> void each_service(CheckRun &run, F f) {
  const ComposeModel &m = model(run);
  bool any = false;
  if (m.engine) {
    static const ProjectExtras k_none;
    const Project &p = *m.engine;
    any = true;
    if (judged(run, p))
      if (const Value *svcs = p.services())
        for (auto &[name, svc] : svcs->entries)
          f(p, k_none, name, svc);
  }
  if (m.swarm) {
    static const ProjectExtras k_none;
    const Project &p = *m.swarm;
    if (const Value *svcs = p.services())
      for (auto &[name, svc] : svcs->entries) {
        any = true;
        f(p, k_none, name, svc);
      }
  }
  if (!m.swarm_unlisted.empty()) {
    // Never a silent pass: the stacks this node runs tasks of are judged
    // only on a manager.
    any = true;
    run.emit(Status::warn, "swarm",
             "this node is part of a swarm but its services cannot be listed here (" +
                 m.swarm_unlisted +
                 "): they are not judged; run the audit with --live on a manager node",
             {Evidence{m.engine_socket, 0, m.swarm_unlisted, "a swarm manager's GET /services",
                       "docker engine"}});
  }
  for (size_t i = 0; i < m.projects.size(); ++i) {
    const Project &p = m.projects[i];
    if (!judged(run, p)) {
      any = true;
      continue;
    }
    const Value *svcs = p.services();
    if (!svcs)
      continue;
    for (auto &[name, svc] : svcs->entries) {
      if (!svc.is_mapping())
        continue;
      any = true;
      f(p, m.extras[i], name, svc);
    }
  }
  if (!any)
    run.emit(Status::not_applicable, "compose",
             m.projects.empty() ? "no compose project found (give --compose to name one)"
                                : "no valid compose project with services");
}

std::string subject(const Project &p, const std::string &service) {
  if (p.name == k_engine_project)
    return "container " + service;
  if (p.name == k_swarm_project)
    return "service " + service;
  return p.name + "/" + service;
}

bool truthy(const Value *v) {
  if (!v || !v->is_scalar())
    return false;
  std::string s = lower(v->scalar);
  return s == "true" || s == "yes" || s == "on" || s == "1";
}

std::vector<const Value *> items_of(const Value *v) {
  std::vector<const Value *> out;
  if (!v)
    return out;
  if (v->is_sequence())
    for (auto &i : v->items)
      out.push_back(&i);
  else if (!v->is_null())
    out.push_back(v);
  return out;
}

std::string cap_name(std::string c) {
  c = lower(std::string(trim(c)));
  if (starts_with(c, "cap_"))
    c = c.substr(4);
  std::transform(c.begin(), c.end(), c.begin(), ::toupper);
  return c;
}

// --- container.compose-valid ------------------------------------------------

void compose_valid(CheckRun &run) {
  const ComposeModel &m = model(run);
  if (m.projects.empty()) {
    run.emit(Status::not_applicable, "compose",
             "no compose project found (give --compose to name one)");
    return;
  }
  for (auto &p : m.projects) {
    bool bad = false;
    for (auto &d : p.diagnostics) {
      SourceLocation s = p.where(d.loc);
      bool err = d.level == compose::Diagnostic::Level::error;
      bad = bad || err;
      run.emit(err ? Status::error : Status::warn, p.name,
               s.path + ":" + std::to_string(s.line) + ": " + d.message,
               {Evidence{s.path, s.line, d.message, "a valid compose file", p.name}});
    }
    if (p.diagnostics.empty())
      run.emit(Status::pass, p.name,
               "the project's " + std::to_string(p.main_files) + " compose file(s) parse and merge",
               {Evidence{p.files.front(), 0, "valid", "valid", p.name}});
    (void)bad;
  }
}

// --- user, privileges, capabilities -----------------------------------------

bool root_user(const std::string &u) {
  std::string user = u.substr(0, u.find(':'));
  return user.empty() || user == "root" || user == "0";
}

void non_root_user(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &x, const std::string &n, const Value &svc) {
        if (const Value *u = svc.find("user"); u && !u->str().empty()) {
          bool root = root_user(u->str());
          run.emit(root ? Status::fail : Status::pass, subject(p, n),
                   root ? "service " + n + " runs as root (user: " + u->str() + ")"
                        : "service " + n + " runs as " + u->str(),
                   {ev(p, u->where(), "user: " + u->str(), "a non-root user", n)});
          return;
        }
        if (auto it = x.dockerfiles.find(n); it != x.dockerfiles.end()) {
          const auto *st = it->second.final_stage();
          if (st && st->user && !st->user->value.empty()) {
            bool root = root_user(st->user->value);
            run.emit(root ? Status::fail : Status::pass, subject(p, n),
                     "service " + n + " sets no user:; its Dockerfile's USER is " + st->user->value,
                     {Evidence{it->second.path, st->user->line, "USER " + st->user->value,
                               "a non-root USER", n}});
            return;
          }
        }
        run.emit(Status::fail, subject(p, n),
                 "service " + n +
                     " sets no user: (and no Dockerfile USER is known): the "
                     "image's default user, "
                     "usually root, runs; the line is where the service is defined",
                 {ev(p, svc.key_loc, "user: not set", "user: \"1000:1000\" (non-root)", n)});
      });
}

void read_only_rootfs(CheckRun &run) {
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    const Value *r = svc.find("read_only");
    if (truthy(r))
      run.emit(Status::pass, subject(p, n), "service " + n + " has a read-only root file system",
               {ev(p, r->where(), "read_only: " + r->str(), "read_only: true", n)});
    else
      run.emit(Status::fail, subject(p, n),
               r ? "service " + n + " sets read_only: " + r->str()
                 : "service " + n +
                       " does not set read_only (default false); the line is where "
                       "the service is defined",
               {ev(p, r ? r->where() : svc.key_loc, r ? "read_only: " + r->str() : "not set",
                   "read_only: true", n)});
  });
}

void no_new_privileges(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &, const std::string &n, const Value &svc) {
        const Value *so = svc.find("security_opt");
        const Value *hit = nullptr;
        const Value *off = nullptr;
        for (auto *i : items_of(so)) {
          std::string s = lower(std::string(trim(i->str())));
          // Docker accepts "no-new-privileges", "no-new-privileges:true" and
          // "no-new-privileges=true" (daemon/container_operations_unix.go).
          if (s == "no-new-privileges" || s == "no-new-privileges:true" ||
              s == "no-new-privileges=true")
            hit = i;
          else if (starts_with(s, "no-new-privileges:") || starts_with(s, "no-new-privileges="))
            off = i;
        }
        if (hit && !off)
          run.emit(Status::pass, subject(p, n), "service " + n + " sets no-new-privileges",
                   {ev(p, hit->where(), hit->str(), "no-new-privileges:true", n)});
        else if (off)
          run.emit(Status::fail, subject(p, n), "service " + n + " turns no-new-privileges off",
                   {ev(p, off->where(), off->str(), "no-new-privileges:true", n)});
        else
          run.emit(Status::fail, subject(p, n),
                   "service " + n + " does not set security_opt no-new-privileges; the line is " +
                       (so ? "its security_opt" : "where the service is defined"),
                   {ev(p, so ? so->where() : svc.key_loc, so ? "no no-new-privileges" : "not set",
                       "security_opt: [\"no-new-privileges:true\"]", n)});
      });
}

void cap_drop_all(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &, const std::string &n, const Value &svc) {
        const Value *cd = svc.find("cap_drop");
        for (auto *i : items_of(cd))
          if (cap_name(i->str()) == "ALL") {
            run.emit(Status::pass, subject(p, n), "service " + n + " drops all capabilities",
                     {ev(p, i->where(), "cap_drop: " + i->str(), "cap_drop: [ALL]", n)});
            return;
          }
        run.emit(Status::fail, subject(p, n),
                 cd ? "service " + n + " drops some capabilities but not ALL"
                    : "service " + n +
                          " drops no capabilities; the line is where the service is "
                          "defined",
                 {ev(p, cd ? cd->where() : svc.key_loc, cd ? "cap_drop without ALL" : "not set",
                     "cap_drop: [ALL]", n)});
      });
}

void cap_add_minimal(CheckRun &run) {
  std::set<std::string> allowed;
  for (auto &c : run.param_list("allowed"))
    allowed.insert(cap_name(c));
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    const Value *ca = svc.find("cap_add");
    std::vector<Evidence> bad;
    for (auto *i : items_of(ca))
      if (!allowed.count(cap_name(i->str())))
        bad.push_back(
            ev(p, i->where(), "cap_add: " + i->str(),
               allowed.empty()
                   ? "none"
                   : "only " + join(std::vector<std::string>(allowed.begin(), allowed.end()), ", "),
               n));
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " adds capabilities outside the allowed list", bad);
    else
      run.emit(Status::pass, subject(p, n),
               ca ? "service " + n + " adds only allowed capabilities"
                  : "service " + n + " adds no capabilities",
               {ev(p, ca ? ca->where() : svc.key_loc, ca ? "allowed capabilities" : "no cap_add",
                   "allowed capabilities only", n)});
  });
}

// The service's first definition: the file a reader of the base looks at.
int defining_file(const Value &svc) {
  return svc.key_loc.file;
}

void no_privileged(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &, const std::string &n, const Value &svc) {
        const Value *pr = svc.find("privileged");
        if (truthy(pr)) {
          std::string msg = "service " + n + " runs privileged";
          if (pr->where().file != defining_file(svc))
            msg += " — set by " + p.at(pr->where()) +
                   ", a file merged over the service's definition at " + p.at(svc.key_loc) +
                   " (the merge hides it from a reader of that file)";
          run.emit(
              Status::fail, subject(p, n), msg,
              {ev(p, pr->where(), "privileged: " + pr->str(), "privileged: false (or absent)", n)});
        } else
          run.emit(Status::pass, subject(p, n), "service " + n + " is not privileged",
                   {ev(p, pr ? pr->where() : svc.key_loc,
                       pr ? "privileged: " + pr->str() : "privileged: not set (default false)",
                       "privileged: false (or absent)", n)});
      });
}

void no_host_namespaces(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &, const std::string &n, const Value &svc) {
        std::vector<Evidence> bad;
        for (const char *k : {"network_mode", "pid", "ipc", "userns_mode", "uts", "cgroup"}) {
          const Value *v = svc.find(k);
          if (v && lower(v->str()) == "host")
            bad.push_back(ev(p, v->where(), std::string(k) + ": host", "not host", n));
        }
        // network_mode: service:X shares X's namespace: X's host network too.
        const Value *nm = svc.find("network_mode");
        std::set<std::string> followed;
        while (nm && starts_with(nm->str(), "service:") && p.services() && followed.size() < 8) {
          std::string other = nm->str().substr(std::strlen("service:"));
          if (!followed.insert(other).second)
            break;
          const Value *o = p.services()->find(other);
          const Value *onm = o ? o->find("network_mode") : nullptr;
          if (onm && lower(onm->str()) == "host") {
            bad.push_back(ev(p, svc.find("network_mode")->where(),
                             "network_mode: " + svc.find("network_mode")->str() + " (" + other +
                                 " uses network_mode: host at " + p.at(onm->where()) + ")",
                             "not host", n));
            break;
          }
          nm = onm;
        }
        if (!bad.empty())
          run.emit(Status::fail, subject(p, n), "service " + n + " shares a host namespace", bad);
        else
          run.emit(Status::pass, subject(p, n), "service " + n + " shares no host namespace",
                   {ev(p, svc.key_loc, "no host namespace", "no host namespace", n)});
      });
}

std::string norm_path(std::string s) {
  while (s.size() > 1 && s.back() == '/')
    s.pop_back();
  return RootFs::join("/", s);
}

void no_docker_socket(CheckRun &run) {
  static const std::set<std::string> k_sockets = {"/var/run/docker.sock",
                                                  "/run/docker.sock",
                                                  "/var/run",
                                                  "/run",
                                                  "/run/containerd/containerd.sock",
                                                  "/var/run/containerd/containerd.sock",
                                                  "/run/podman/podman.sock"};
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    for (auto *i : items_of(svc.find("volumes"))) {
      auto m = compose::parse_volume(*i);
      if (m && m->type == "bind" && !m->source.empty() && m->source[0] == '/' &&
          k_sockets.count(norm_path(m->source)))
        bad.push_back(ev(p, m->loc, m->source + " -> " + m->target, "no Docker socket", n));
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " mounts the container runtime's socket (root on the host)", bad);
    else
      run.emit(Status::pass, subject(p, n), "service " + n + " does not mount the Docker socket",
               {ev(p, svc.key_loc, "no socket mount", "no Docker socket", n)});
  });
}

// The host path a bind's source names: relative sources resolve against
// the project directory (or the including project's), so `../../etc` is
// /etc; "" when the source is not a host path (a named volume, ~, $).
std::string bind_source(const Project &p, const compose::Mount &m) {
  if (m.type != "bind" || m.source.empty() || m.source[0] == '~' || m.source[0] == '$')
    return "";
  std::string abs = p.resolve(m.loc, m.source);
  if (abs.empty() || abs[0] != '/')
    return ""; // a --compose project in the current directory: a relative path stays relative
  return norm_path(abs);
}

bool at_or_under(const std::string &path, const std::string &prefix) {
  if (prefix == "/")
    return path == "/";
  return path == prefix || starts_with(path, prefix + "/");
}

void sensitive_mounts(CheckRun &run) {
  static const char *k_sensitive[] = {"/",    "/etc",  "/root", "/boot",    "/proc",
                                      "/sys", "/home", "/run",  "/var/run", "/var/lib/docker"};
  std::vector<std::string> allowed = run.param_list("allowed");
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    std::string project_dir = norm_path(
        p.directory.empty() || p.directory[0] != '/' ? "/nonexistent-project-dir" : p.directory);
    for (auto *i : items_of(svc.find("volumes"))) {
      auto m = compose::parse_volume(*i);
      if (!m)
        continue;
      std::string src = bind_source(p, *m);
      if (src.empty())
        continue;
      // The project's own folder (./data, ./config) is the project's, even
      // when it lives under /home or /etc.
      if (project_dir != "/" && at_or_under(src, project_dir))
        continue;
      const char *hit = nullptr;
      for (const char *k : k_sensitive)
        if (at_or_under(src, k))
          hit = k;
      if (!hit)
        continue;
      bool listed = false;
      for (auto &a : allowed)
        if (at_or_under(src, norm_path(a)))
          listed = true;
      // An allowed path passes read-only; read-write it is still a way in.
      if (listed && m->read_only)
        continue;
      bad.push_back(ev(p, m->loc,
                       m->source + ":" + m->target + (m->read_only ? " read-only" : " read-write") +
                           (m->source != src ? " (" + src + ")" : std::string()) + ", under " + hit,
                       listed ? "read-only (:ro)" : "no bind of a sensitive host path", n));
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n +
                   " bind-mounts a sensitive host path (read-only binds count: they "
                   "still disclose the host)",
               bad);
    else
      run.emit(Status::pass, subject(p, n),
               "service " + n + " has no bind mount of a sensitive host path",
               {ev(p, svc.key_loc, "none", "no sensitive mount", n)});
  });
}

void tmpfs_hardened(CheckRun &run) {
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad, good;
    for (auto *i : items_of(svc.find("tmpfs"))) {
      std::string s = i->str();
      size_t c = s.find(':');
      std::set<std::string> opts;
      if (c != std::string::npos)
        for (auto &o : split(s.substr(c + 1), ','))
          opts.insert(lower(o.substr(0, o.find('='))));
      std::vector<std::string> missing;
      for (const char *o : {"noexec", "nosuid", "size"})
        if (!opts.count(o))
          missing.push_back(o);
      (missing.empty() ? good : bad)
          .push_back(ev(p, i->where(), "tmpfs: " + s,
                        missing.empty() ? "noexec,nosuid,size" : "add " + join(missing, ","), n));
    }
    for (auto *i : items_of(svc.find("volumes"))) {
      auto m = compose::parse_volume(*i);
      if (m && m->type == "tmpfs")
        // The long syntax has no mount options: noexec and nosuid cannot be
        // asked for.
        bad.push_back(ev(p, m->loc, "volumes: tmpfs " + m->target + " (long syntax)",
                         "tmpfs: [\"" + m->target + ":noexec,nosuid,size=...\"]", n));
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " has a tmpfs mount without noexec, nosuid or a size", bad);
    else if (!good.empty())
      run.emit(Status::pass, subject(p, n), "service " + n + "'s tmpfs mounts are hardened", good);
    else
      run.emit(Status::not_applicable, subject(p, n), "service " + n + " has no tmpfs mount");
  });
}

void resource_limits(CheckRun &run) {
  bool nofile = lower(run.param_str("require-nofile")) == "yes";
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    const Value *limits = nullptr;
    if (const Value *d = svc.find("deploy"))
      if (const Value *r = d->find("resources"))
        limits = r->find("limits");
    auto pick = [&](std::initializer_list<const char *> keys, const char *dkey) -> const Value * {
      for (const char *k : keys)
        if (const Value *v = svc.find(k); v && !v->str().empty() && v->str() != "0")
          return v;
      if (limits)
        if (const Value *v = limits->find(dkey); v && !v->str().empty() && v->str() != "0")
          return v;
      return nullptr;
    };
    struct Need {
      const char *what;
      const Value *v;
      const char *fix;
    };
    std::vector<Need> needs = {
        {"memory", pick({"mem_limit"}, "memory"), "mem_limit or deploy.resources.limits.memory"},
        {"CPU", pick({"cpus", "cpu_quota"}, "cpus"), "cpus or deploy.resources.limits.cpus"},
        {"pids", pick({"pids_limit"}, "pids"), "pids_limit or deploy.resources.limits.pids"}};
    if (nofile) {
      const Value *nf = nullptr;
      if (const Value *u = svc.find("ulimits"))
        nf = u->find("nofile");
      needs.push_back({"file descriptors", nf, "ulimits.nofile"});
    }
    std::vector<Evidence> bad, good;
    for (auto &nd : needs) {
      if (nd.v)
        good.push_back(
            ev(p, nd.v->where(), std::string(nd.what) + " limit " + nd.v->str(), nd.fix, n));
      else
        bad.push_back(ev(p, svc.key_loc, std::string(nd.what) + ": no limit", nd.fix, n));
    }
    if (!bad.empty()) {
      std::vector<std::string> w;
      for (auto &nd : needs)
        if (!nd.v)
          w.push_back(nd.what);
      run.emit(Status::fail, subject(p, n),
               "service " + n + " has no " + join(w, ", ") +
                   " limit; the line is where the service is defined",
               bad);
    } else
      run.emit(Status::pass, subject(p, n), "service " + n + " has resource limits", good);
  });
}

// --- images ---------------------------------------------------------------

struct ImageRef {
  std::string name, tag, digest;
};
ImageRef parse_image(const std::string &s) {
  ImageRef r;
  std::string rest = s;
  if (size_t at = rest.find('@'); at != std::string::npos) {
    r.digest = rest.substr(at + 1);
    rest = rest.substr(0, at);
  }
  size_t slash = rest.rfind('/');
  size_t colon = rest.rfind(':');
  if (colon != std::string::npos && (slash == std::string::npos || colon > slash)) {
    r.tag = rest.substr(colon + 1);
    rest = rest.substr(0, colon);
  }
  r.name = rest;
  return r;
}

// The images a service runs or builds from, with where each is written.
std::vector<Evidence> images_of(const Project &p, const ProjectExtras &x, const std::string &n,
                                const Value &svc, bool base_only) {
  std::vector<Evidence> out;
  auto it = x.dockerfiles.find(n);
  if (it != x.dockerfiles.end()) {
    const auto &df = it->second;
    if (base_only) {
      if (const auto *b = df.base_of_final())
        out.push_back(Evidence{df.path, b->line, b->image, "", n});
    } else
      for (auto &st : df.stages) {
        bool stage_ref = false;
        for (auto &o : df.stages)
          if (&o != &st && !o.name.empty() && o.name == lower(st.image))
            stage_ref = true;
        if (!stage_ref && lower(st.image) != "scratch")
          out.push_back(Evidence{df.path, st.line, st.image, "", n});
      }
    return out;
  }
  if (const Value *img = svc.find("image"))
    out.push_back(ev(p, img->where(), img->str(), "", n));
  return out;
}

void image_pinned(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &x, const std::string &n, const Value &svc) {
        auto imgs = images_of(p, x, n, svc, false);
        if (imgs.empty()) {
          run.emit(Status::not_applicable, subject(p, n),
                   "service " + n + " names no image and its Dockerfile could not be read");
          return;
        }
        Status worst = Status::pass;
        std::vector<Evidence> evs;
        for (auto &e : imgs) {
          ImageRef r = parse_image(e.found);
          Status s = !r.digest.empty()                    ? Status::pass
                     : r.tag.empty() || r.tag == "latest" ? Status::fail
                                                          : Status::warn;
          e.expected = "name:tag@sha256:digest";
          if (s == Status::fail)
            worst = Status::fail;
          else if (s == Status::warn && worst == Status::pass)
            worst = Status::warn;
          if (s != Status::pass || worst == Status::pass)
            evs.push_back(e);
        }
        std::string msg =
            worst == Status::fail   ? "service " + n + " uses an image without a tag or with latest"
            : worst == Status::warn ? "service " + n + "'s image is pinned by tag, not by digest"
                                    : "service " + n + "'s image is pinned by digest";
        run.emit(worst, subject(p, n), msg, evs);
      });
}

void minimal_base_image(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &x, const std::string &n, const Value &svc) {
        auto imgs = images_of(p, x, n, svc, true);
        if (imgs.empty()) {
          run.emit(Status::not_applicable, subject(p, n),
                   "service " + n + " names no image and its Dockerfile could not be read");
          return;
        }
        Evidence e = imgs.front();
        std::string l = lower(e.found);
        bool minimal = false;
        for (const char *k : {"alpine", "distroless", "slim", "scratch"})
          if (l.find(k) != std::string::npos)
            minimal = true;
        e.expected = "an Alpine, distroless, slim or scratch base";
        run.emit(minimal ? Status::pass : Status::fail, subject(p, n),
                 minimal ? "service " + n + " uses a minimal base image (" + e.found + ")"
                         : "service " + n + "'s image " + e.found + " is not a minimal base",
                 {e});
      });
}

// --- secrets ----------------------------------------------------------------

// Whether an environment key names a secret. Keys that name where a
// secret is (*_FILE, *_PATH, *_DIR), how long one lives (lifetimes, TTLs,
// expiry) or a policy about one (length, algorithm, rotation) do not.
bool secret_key(const std::string &k) {
  std::string u = k;
  std::transform(u.begin(), u.end(), u.begin(), ::toupper);
  for (const char *suffix : {"_FILE", "_PATH", "_DIR", "_LIFETIME", "_TTL", "_EXPIRY", "_EXPIRES",
                             "_EXPIRATION", "_TIMEOUT", "_LENGTH", "_ALGORITHM", "_ALG", "_AGE",
                             "_ROTATION", "_HEADER", "_NAME", "_USER", "_ENABLED"})
    if (u.size() > std::strlen(suffix) && u.ends_with(suffix))
      return false;
  for (const char *s : {"LIFETIME", "EXPIR", "_TTL"})
    if (u.find(s) != std::string::npos)
      return false;
  for (const char *s : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "API_KEY", "APIKEY", "PRIVATE_KEY",
                        "ACCESS_KEY", "CREDENTIAL", "PASSPHRASE"})
    if (u.find(s) != std::string::npos)
      return true;
  // *_PASS, *_PWD and a bare PASS as a word of the key (DB_PASS, SMTP_PASS_X).
  for (auto &w : split(u, '_'))
    if (w == "PASS" || w == "PWD" || w == "PW")
      return true;
  return false;
}

// Values that are no secret whatever the key: booleans and flags
// (MYSQL_RANDOM_ROOT_PASSWORD=yes, POSTGRES_HOST_AUTH_METHOD is not one
// either but its key is not secret), and a path into Docker's secrets.
bool harmless_value(const std::string &v) {
  std::string l = lower(std::string(trim(v)));
  static const std::set<std::string> k_flags = {"yes", "no", "true", "false", "1",
                                                "0",   "on", "off",  "y",     "n"};
  return l.empty() || k_flags.count(l) || starts_with(l, "/run/secrets/") ||
         starts_with(l, "/var/run/secrets/");
}

// A URL or DSN with a password in it (scheme://user:password@host); the
// password's length, or 0. A password that is a ${VAR} reference counts
// (it lands in the environment all the same).
size_t url_password(const std::string &v) {
  size_t scheme = v.find("://");
  if (scheme == std::string::npos)
    return 0;
  size_t start = scheme + 3;
  size_t end = v.find_first_of("/?#", start);
  std::string auth = v.substr(start, end == std::string::npos ? std::string::npos : end - start);
  size_t at = auth.rfind('@');
  if (at == std::string::npos)
    return 0;
  std::string userinfo = auth.substr(0, at);
  size_t colon = userinfo.find(':');
  if (colon == std::string::npos)
    return 0;
  return userinfo.size() - colon - 1;
}

// The variable a value is nothing but a reference to ("${DB_PASS}",
// "$DB_PASS", "${DB_PASS:-x}"), or "".
std::string sole_reference(const std::string &raw) {
  std::string s(trim(raw));
  if (s.size() < 2 || s[0] != '$')
    return "";
  size_t b = s[1] == '{' ? 2 : 1;
  size_t e = b;
  while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_'))
    ++e;
  if (e == b)
    return "";
  if (b == 1 && e != s.size())
    return "";
  if (b == 2 && s.back() != '}')
    return "";
  return s.substr(b, e - b);
}

// The literal default of "${VAR:-literal}" / "${VAR-literal}", or "".
std::string literal_default(const std::string &raw) {
  std::string s(trim(raw));
  if (!starts_with(s, "${") || s.back() != '}')
    return "";
  size_t op = s.find_first_of(":-}", 2);
  if (op == std::string::npos || s[op] == '}')
    return "";
  size_t d = s[op] == ':' ? op + 1 : op;
  if (d >= s.size() || s[d] != '-')
    return "";
  std::string def = s.substr(d + 1, s.size() - d - 2);
  return def.find('$') == std::string::npos ? def : "";
}

void secrets_not_in_env(CheckRun &run) {
  each_service(run, [&](const Project &p, const ProjectExtras &x, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    auto in_dotenv = [&](const std::string &var) -> std::optional<Evidence> {
      for (auto &ef : p.env_files) {
        auto it = x.env_files.find(ef);
        if (it == x.env_files.end())
          continue;
        if (const auto *e = it->second.find(var); e && e->has_value && !harmless_value(e->value))
          return Evidence{
              ef, e->loc.line,
              var + " = a literal of " + std::to_string(e->value.size()) + " characters", "", n};
      }
      return std::nullopt;
    };
    const std::string fix_for = "a Docker secret and ";
    if (const Value *env = svc.find("environment"); env && env->is_mapping())
      for (auto &[k, v] : env->entries) {
        std::string expected = fix_for + k + "_FILE=/run/secrets/...";
        // A URL or DSN with credentials leaks them whatever the key says.
        if (size_t pw = url_password(v.str()); pw > 0 && !v.is_null()) {
          bad.push_back(
              ev(p, v.where(),
                 k + " = a URL with an embedded password of " + std::to_string(pw) + " characters",
                 "a URL without credentials, the password from a Docker secret", n));
          continue;
        }
        if (!secret_key(k))
          continue;
        if (v.is_null()) {
          // `- DB_PASSWORD`: compose copies it from the shell (or .env).
          if (auto e = in_dotenv(k)) {
            e->expected = expected;
            bad.push_back(*e);
          } else if (p.variables.count(k) && !harmless_value(p.variables.at(k)))
            bad.push_back(ev(p, v.where(),
                             k + " passed through from the environment compose runs in", expected,
                             n));
          continue;
        }
        // A reference is judged by what fills it, not by its offline value:
        // a variable unset here is filled from the shell at deploy time.
        bool reference =
            !v.raw.empty() && (!literal_default(v.raw).empty() || !sole_reference(v.raw).empty());
        if (harmless_value(v.str()) && !(reference && v.str().empty()))
          continue;
        if (std::string def = literal_default(v.raw); !def.empty() && !harmless_value(def))
          bad.push_back(ev(p, v.where(),
                           k + " has a literal default of " + std::to_string(def.size()) +
                               " characters (${...:-literal})",
                           expected, n));
        else if (std::string ref = sole_reference(v.raw); !ref.empty()) {
          if (auto e = in_dotenv(ref)) {
            e->found = k + " from " + e->found;
            e->expected = expected;
            bad.push_back(*e);
          } else
            bad.push_back(ev(p, v.where(),
                             k + " = ${" + ref +
                                 "} from the shell compose runs in (it lands in "
                                 "the container's environment all the same)",
                             expected, n));
        } else if (v.raw.empty())
          bad.push_back(ev(p, v.where(),
                           k + " = a literal of " + std::to_string(v.str().size()) + " characters",
                           expected, n));
        else
          bad.push_back(ev(p, v.where(), k + " = a value built from variables", expected, n));
      }
    // env_file: files hand every assignment to the container.
    std::set<std::string> seen;
    for (auto *i : items_of(svc.find("env_file"))) {
      const Value *pv = i->is_mapping() ? i->find("path") : i;
      if (!pv)
        continue;
      std::string path = p.resolve(pv->where(), pv->str());
      auto it = x.env_files.find(path);
      if (it == x.env_files.end() || !seen.insert(path).second)
        continue;
      for (auto &e : it->second.entries) {
        if (!e.has_value)
          continue;
        if (size_t pw = url_password(e.value); pw > 0)
          bad.push_back(Evidence{path, e.loc.line,
                                 e.key + " = a URL with an embedded password of " +
                                     std::to_string(pw) + " characters",
                                 "a URL without credentials", n});
        else if (secret_key(e.key) && !harmless_value(e.value))
          bad.push_back(
              Evidence{path, e.loc.line,
                       e.key + " = a literal of " + std::to_string(e.value.size()) + " characters",
                       fix_for + e.key + "_FILE=/run/secrets/...", n});
      }
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " receives a secret through its environment", bad);
    else
      run.emit(Status::pass, subject(p, n),
               "service " + n + " receives no secret in its environment",
               {ev(p, svc.find("environment") ? svc.find("environment")->where() : svc.key_loc,
                   "no secret", "secrets via Docker secrets or *_FILE", n)});
  });
}

// --- ports, health, deploy
// ----------------------------------------------------

bool all_interfaces(const std::string &ip) {
  return ip.empty() || ip == "0.0.0.0" || ip == "::" || ip == "[::]";
}

bool range_has(const std::string &r, long port) {
  size_t d = r.find('-');
  char *end = nullptr;
  long a = std::strtol(r.c_str(), &end, 10);
  long b = a;
  if (d != std::string::npos)
    b = std::strtol(r.c_str() + d + 1, &end, 10);
  return port >= a && port <= b;
}

void published_ports(CheckRun &run) {
  std::vector<long> dbports;
  for (auto &s : run.param_list("ports"))
    dbports.push_back(std::strtol(s.c_str(), nullptr, 10));
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    std::vector<compose::Port> ports;
    for (auto *i : items_of(svc.find("ports")))
      if (auto ps = compose::parse_port(*i))
        ports.insert(ports.end(), ps->begin(), ps->end());
    for (auto &pt : ports) {
      if (!all_interfaces(pt.host_ip))
        continue;
      for (long d : dbports)
        if (range_has(pt.target, d)) {
          bad.push_back(ev(p, pt.loc,
                           (pt.published.empty() ? std::string("(ephemeral)") : pt.published) +
                               ":" + pt.target + " on all interfaces",
                           "127.0.0.1:" + (pt.published.empty() ? pt.target : pt.published) + ":" +
                               pt.target + " or no ports: entry",
                           n));
          break;
        }
    }
    std::string hidden;
    for (auto &note : p.notes) {
      if (note.service != n || note.what != "ports")
        continue;
      for (auto &pt : ports)
        if (all_interfaces(pt.host_ip) &&
            note.message.find("container port " + pt.target + " ") != std::string::npos) {
          bad.push_back(ev(p, pt.loc, pt.target + " published on all interfaces",
                           "keep the 127.0.0.1 binding", n));
          hidden += (hidden.empty() ? "" : "; ") + note.message;
        }
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " publishes a database/cache port on all interfaces" +
                   (hidden.empty() ? std::string() : " (" + hidden + ")"),
               bad);
    else
      run.emit(
          Status::pass, subject(p, n),
          "service " + n + " publishes no database/cache port on all interfaces",
          {ev(p, svc.find("ports") ? svc.find("ports")->where() : svc.key_loc,
              ports.empty() ? "no ports" : "ports bound safely", "no public database port", n)});
  });
}

void healthcheck(CheckRun &run) {
  each_service(run, [&](const Project &p, const ProjectExtras &x, const std::string &n,
                        const Value &svc) {
    if (const Value *h = svc.find("healthcheck"); h && h->is_mapping()) {
      const Value *dis = h->find("disable");
      const Value *test = h->find("test");
      bool none = false;
      if (test) {
        std::string first =
            test->is_sequence() && !test->items.empty() ? test->items[0].str() : test->str();
        none = lower(first) == "none";
      }
      if (truthy(dis) || none)
        run.emit(Status::fail, subject(p, n), "service " + n + " disables its healthcheck",
                 {ev(p, (dis ? dis : test)->where(), dis ? "disable: true" : "test: NONE",
                     "a healthcheck test", n)});
      if (test) {
        run.emit(Status::pass, subject(p, n), "service " + n + " defines a healthcheck",
                 {ev(p, test->where(), "healthcheck test", "a healthcheck test", n)});
        return;
      }
      // No test (`{disable: false}`, or only timings): the image's own
      // HEALTHCHECK runs with these settings, so the Dockerfile decides.
      if (auto it = x.dockerfiles.find(n); it == x.dockerfiles.end() || !it->second.final_stage() ||
                                           !it->second.final_stage()->healthcheck) {
        run.emit(Status::warn, subject(p, n),
                 "service " + n +
                     "'s healthcheck sets no test: the image's own HEALTHCHECK applies, and "
                     "whether it has one is not known offline",
                 {ev(p, h->key_loc, "healthcheck without test", "a healthcheck test", n)});
        return;
      }
    }
    if (auto it = x.dockerfiles.find(n); it != x.dockerfiles.end())
      if (const auto *st = it->second.final_stage(); st && st->healthcheck) {
        bool none = st->healthcheck->value == "NONE";
        run.emit(none ? Status::fail : Status::pass, subject(p, n),
                 none ? "service " + n + "'s Dockerfile disables the healthcheck"
                      : "service " + n + "'s Dockerfile defines a HEALTHCHECK",
                 {Evidence{it->second.path, st->healthcheck->line,
                           "HEALTHCHECK " + st->healthcheck->value, "HEALTHCHECK CMD ...", n}});
        return;
      }
    run.emit(Status::fail, subject(p, n),
             "service " + n + " defines no healthcheck; the line is where the service is defined",
             {ev(p, svc.key_loc, "no healthcheck", "healthcheck: {test: [...]}", n)});
  });
}

void auto_rollback(CheckRun &run) {
  each_service(
      run, [&](const Project &p, const ProjectExtras &, const std::string &n, const Value &svc) {
        if (p.name == k_engine_project)
          return; // a container is no swarm service: the API's container has no deploy:
        const Value *d = svc.find("deploy");
        if (!d || !d->is_mapping()) {
          run.emit(Status::not_applicable, subject(p, n),
                   "service " + n + " has no deploy: section (not a swarm service)");
          return;
        }
        const Value *uc = d->find("update_config");
        const Value *fa = uc ? uc->find("failure_action") : nullptr;
        bool ok = fa && lower(fa->str()) == "rollback";
        run.emit(ok ? Status::pass : Status::fail, subject(p, n),
                 ok ? "service " + n + " rolls back a failed update"
                    : "service " + n + "'s failed update " +
                          (fa ? "does " + fa->str() : std::string("pauses (the default)")),
                 {ev(p, fa ? fa->where() : (uc ? uc->key_loc : d->key_loc),
                     fa ? "failure_action: " + fa->str() : "failure_action: not set",
                     "deploy.update_config.failure_action: rollback", n)});
      });
  if (run.findings().empty()) // running containers only: none is a swarm service's definition
    run.emit(Status::not_applicable, "compose", "no compose service to judge");
}

void content_trust(CheckRun &run) {
  const ComposeModel &m = model(run);
  bool any = false;
  for (size_t i = 0; i < m.projects.size(); ++i) {
    const Project &p = m.projects[i];
    any = true;
    if (!judged(run, p))
      continue;
    if (const auto &e = m.extras[i].content_trust) {
      Evidence x = *e;
      x.context = p.name;
      run.emit(Status::pass, p.name, "the deployment sets DOCKER_CONTENT_TRUST=1", {x});
    } else
      run.emit(Status::fail, p.name,
               "no DOCKER_CONTENT_TRUST=1 in the project's .env, its deploy "
               "scripts, "
               "/etc/environment, /etc/profile.d or dockerd's unit (line 0: absent)",
               {Evidence{p.env_files.empty() ? p.directory + "/.env" : p.env_files.front(), 0,
                         "not set", "DOCKER_CONTENT_TRUST=1", p.name}});
  }
  if (!any)
    run.emit(Status::not_applicable, "compose", "no valid compose project");
}

// --- networks
// -----------------------------------------------------------------

bool is_data_service(const Project &p, const ProjectExtras &x, const std::string &n,
                     const Value &svc) {
  static const char *k_names[] = {"postgres",      "postgis",    "mysql",     "mariadb",
                                  "redis",         "valkey",     "keydb",     "mongo",
                                  "elasticsearch", "opensearch", "memcached", "cassandra",
                                  "couchdb",       "influxdb",   "clickhouse"};
  for (auto &e : images_of(p, x, n, svc, true)) {
    ImageRef r = parse_image(lower(e.found));
    std::string base = r.name.substr(r.name.rfind('/') + 1);
    for (const char *k : k_names)
      if (base.find(k) != std::string::npos)
        return true;
  }
  return false;
}

// The networks a service joins: (name, where it says so); "default" when
// it names none.
// `network_mode: service:X` joins X's network namespace, so X's networks
// (followed a few steps; a loop joins none).
std::vector<std::pair<std::string, Loc>> networks_of(const Project &p, const Value &svc,
                                                     int depth = 0) {
  std::vector<std::pair<std::string, Loc>> out;
  if (const Value *nm = svc.find("network_mode")) {
    std::string mode = nm->str();
    if (starts_with(mode, "service:") && depth < 8 && p.services())
      if (const Value *other = p.services()->find(mode.substr(std::strlen("service:"))))
        return networks_of(p, *other, depth + 1);
    return out;
  }
  if (const Value *nw = svc.find("networks"); nw && nw->is_mapping() && !nw->entries.empty()) {
    for (auto &[k, v] : nw->entries)
      out.push_back({k, v.key_loc.line ? v.key_loc : v.loc});
    return out;
  }
  out.push_back({"default", svc.key_loc});
  return out;
}

void network_internal(CheckRun &run) {
  bool any = false;
  each_service(run, [&](const Project &p, const ProjectExtras &x, const std::string &n,
                        const Value &svc) {
    if (p.name == k_engine_project || !is_data_service(p, x, n, svc))
      return; // a container has no networks: section; the project's decides
    any = true;
    const Value *top = p.root.find("networks");
    std::vector<Evidence> bad, good;
    for (auto &[net, at] : networks_of(p, svc)) {
      const Value *def = top ? top->find(net) : nullptr;
      const Value *internal = def ? def->find("internal") : nullptr;
      if (truthy(internal))
        good.push_back(ev(p, internal->where(), net + ": internal: true", "internal: true", n));
      else
        bad.push_back(ev(p, def && def->key_loc.line ? def->key_loc : at,
                         net != "default" ? net + " is not internal"
                         : p.name == k_swarm_project
                             ? "no swarm network: its tasks reach out "
                               "through docker_gwbridge"
                             : "the project's default network (not internal)",
                         "internal: true", n));
    }
    if (networks_of(p, svc).empty())
      bad.push_back(ev(p, svc.find("network_mode")->where(),
                       "network_mode: " + svc.find("network_mode")->str(), "internal networks", n));
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "data service " + n + " sits on a network with outside access", bad);
    else
      run.emit(Status::pass, subject(p, n), "data service " + n + " sits only on internal networks",
               good);
  });
  if (!any && run.findings().empty())
    run.emit(Status::not_applicable, "compose", "no database or cache service");
}

// Whether a service publishes a port beyond loopback (a 127.0.0.1 or ::1
// binding is reachable from the host alone: no front door).
bool publishes(const Value &svc) {
  for (auto *i : items_of(svc.find("ports")))
    if (auto ps = compose::parse_port(*i))
      for (auto &pt : *ps) {
        std::string ip = pt.host_ip;
        if (!(ip == "127.0.0.1" || ip == "::1" || ip == "localhost" || starts_with(ip, "127.")))
          return true;
      }
  return false;
}

bool internal_network(const Project &p, const std::string &net) {
  const Value *top = p.root.find("networks");
  const Value *def = top ? top->find(net) : nullptr;
  return def && truthy(def->find("internal"));
}

void network_segmentation(CheckRun &run) {
  const ComposeModel &m = model(run);
  bool any = false;
  for (size_t i = 0; i < m.projects.size(); ++i) {
    const Project &p = m.projects[i];
    const Value *svcs = p.services();
    if (!judged(run, p)) {
      any = true;
      continue;
    }
    if (!svcs || svcs->entries.size() < 2)
      continue;
    any = true;
    std::map<std::string, std::vector<std::string>> front, data;
    std::map<std::string, Loc> where;
    std::set<std::string> nets;
    for (auto &[n, svc] : svcs->entries) {
      if (!svc.is_mapping())
        continue;
      bool d = is_data_service(p, m.extras[i], n, svc);
      bool f = !d && publishes(svc);
      for (auto &[net, at] : networks_of(p, svc)) {
        nets.insert(net);
        if (d) {
          data[net].push_back(n);
          where.emplace(net, at);
        }
        if (f)
          front[net].push_back(n);
      }
    }
    std::vector<Evidence> bad;
    // A published application that bridges a front network and an
    // `internal` data network is the segmented three-tier layout: the
    // internal network has no route out, so sharing it is the design.
    for (auto &[net, fs] : front)
      if (data.count(net) && !internal_network(p, net))
        bad.push_back(ev(p, where[net],
                         "network " + net + " joins " + join(fs, ", ") + " (published) and " +
                             join(data[net], ", ") + " (data)",
                         "separate front and data networks", p.name));
    if (nets.size() < 2)
      run.emit(Status::fail, p.name,
               "every service shares one network (" +
                   (nets.empty() ? std::string("none") : *nets.begin()) + ")",
               {ev(p, svcs->key_loc, std::to_string(nets.size()) + " network",
                   "more than one network", p.name)});
    else if (!bad.empty())
      run.emit(Status::fail, p.name, "a published service shares a network with the data tier",
               bad);
    else
      run.emit(Status::pass, p.name,
               "the project uses " + std::to_string(nets.size()) +
                   " networks and keeps the data tier off the front network",
               {ev(p, p.root.find("networks") ? p.root.find("networks")->key_loc : svcs->key_loc,
                   std::to_string(nets.size()) + " networks", "segmented networks", p.name)});
  }
  if (!any)
    run.emit(Status::not_applicable, "compose",
             "no valid compose project with two services or more");
}

void encrypted_overlay(CheckRun &run) {
  const ComposeModel &m = model(run);
  bool any = false;
  for (size_t pi = 0; pi < m.projects.size(); ++pi) {
    const Project &p = m.projects[pi];
    const Value *nets = p.root.find("networks");
    if (!judged(run, p)) {
      any = true;
      continue;
    }
    // `docker stack deploy` creates every network of the stack as an
    // overlay, `driver:` or not (docker/cli stack/loader: the default
    // driver of a stack is overlay), the implicit default network included.
    const ProjectOrigin &o = m.origins[pi];
    bool stack = o.deploy && o.deploy->how == "docker stack deploy";
    if (nets && nets->is_mapping())
      for (auto &[name, net] : nets->entries) {
        const Value *drv = net.is_mapping() ? net.find("driver") : nullptr;
        bool overlay = drv ? lower(drv->str()) == "overlay" : stack;
        if (!overlay || (net.is_mapping() && truthy(net.find("external"))))
          continue;
        any = true;
        const Value *opts = net.is_mapping() ? net.find("driver_opts") : nullptr;
        const Value *enc = opts ? opts->find("encrypted") : nullptr;
        bool ok = enc && lower(enc->str()) != "false" && enc->str() != "0";
        std::string kind = drv ? "overlay network " : "network (overlay in a swarm stack) ";
        run.emit(ok ? Status::pass : Status::fail, p.name + "/network " + name,
                 ok ? kind + name + " is encrypted"
                    : kind + name + " does not set driver_opts.encrypted",
                 {ev(p, enc ? enc->where() : (drv ? drv->where() : net.where()),
                     enc ? "encrypted: " + enc->str()
                         : (drv ? "driver: overlay" : "no driver (stack: overlay)") +
                               std::string(", no encrypted option"),
                     "driver_opts: {encrypted: \"true\"}", name)});
      }
    if (stack && p.services()) {
      bool uses_default = false;
      for (auto &[n, svc] : p.services()->entries)
        if (svc.is_mapping())
          for (auto &[net, at] : networks_of(p, svc))
            if (net == "default" && !(nets && nets->find("default")))
              uses_default = true;
      if (uses_default) {
        any = true;
        run.emit(Status::fail, p.name + "/network default",
                 "the stack's default network is an unencrypted overlay (services that name no "
                 "network join it)",
                 {ev(p, p.services()->key_loc, "default network, no encrypted option",
                     "networks: {default: {driver_opts: {encrypted: \"true\"}}}", "default")});
      }
    }
  }
  // The swarm's own overlay networks, as the engine lists them (a stack's
  // networks among them, named STACK_NET). The ingress network carries the
  // routing mesh's published traffic, which reaches it from outside anyway.
  if (m.swarm)
    if (const Value *nets = m.swarm->root.find("networks"))
      for (auto &[name, net] : nets->entries) {
        const Value *drv = net.find("driver");
        if (!drv || drv->str() != "overlay" || truthy(net.find("ingress")))
          continue;
        any = true;
        const Value *opts = net.find("driver_opts");
        const Value *enc = opts ? opts->find("encrypted") : nullptr;
        bool ok = enc && lower(enc->str()) != "false" && enc->str() != "0";
        run.emit(ok ? Status::pass : Status::fail, "network " + name,
                 ok ? "swarm overlay network " + name + " is encrypted"
                    : "swarm overlay network " + name +
                          " was created without --opt encrypted (its traffic between nodes is "
                          "plain VXLAN)",
                 {ev(*m.swarm, net.loc, ok ? "encrypted" : "driver: overlay, no encrypted option",
                     "docker network create -d overlay --opt encrypted", name)});
      }
  if (!any)
    run.emit(Status::not_applicable, "compose", "no overlay network");
}

// --- the deployment's file set ------------------------------------------------

std::string files_text(const std::vector<std::string> &files) {
  return join(files, " ");
}

void deploy_file_set(CheckRun &run) {
  const ComposeModel &m = model(run);
  if (m.projects.empty() && m.deploy_sets.empty()) {
    run.emit(Status::not_applicable, "compose",
             "no compose project found (give --compose to name one)");
    return;
  }
  // Sets that name files through shell variables cannot be followed
  // offline: said once each, so the user can name the files with --compose.
  for (auto &s : m.deploy_sets)
    if (!s.unresolved.empty())
      run.emit(Status::warn, s.source,
               s.how + " at " + s.source + ":" + std::to_string(s.line) + " names " +
                   join(s.unresolved, ", ") +
                   " through shell variables: that file set is not known offline and was not "
                   "audited as one project (name its files with --compose)",
               {Evidence{s.source, s.line, join(s.unresolved, " "), "literal file paths", ""}});
  for (size_t i = 0; i < m.projects.size(); ++i) {
    const Project &p = m.projects[i];
    const ProjectOrigin &o = m.origins[i];
    std::vector<std::string> mains(p.files.begin(),
                                   p.files.begin() + static_cast<long>(p.main_files));
    if (o.kind == ProjectOrigin::Kind::command_line) {
      if (!o.inside_root) {
        run.emit(Status::not_applicable, p.name,
                 "the files were named by --compose as host paths (" + files_text(mains) +
                     "); the target's deployment cannot be compared with them",
                 {Evidence{mains.empty() ? std::string() : mains.front(), 0, files_text(mains), "",
                           p.name}});
        continue;
      }
      const compose::DeployFileSet *other = nullptr;
      const compose::DeployFileSet *same = nullptr;
      for (auto &s : m.deploy_sets) {
        if (s.files.empty() || mains.empty())
          continue;
        bool shares = std::find(s.files.begin(), s.files.end(), mains.front()) != s.files.end();
        if (!shares)
          continue;
        if (s.files == mains)
          same = &s;
        else if (!other)
          other = &s;
      }
      if (other && !same)
        run.emit(Status::fail, p.name,
                 "--compose names " + files_text(mains) + " but the deployment (" + other->how +
                     " at " + other->source + ":" + std::to_string(other->line) + ") uses " +
                     files_text(other->files) + ": the audit judges a project nobody runs",
                 {Evidence{other->source, other->line, files_text(other->files), files_text(mains),
                           p.name}});
      else
        run.emit(Status::pass, p.name,
                 same ? "--compose names the files the deployment uses (" + same->source + ":" +
                            std::to_string(same->line) + ")"
                      : "--compose names " + files_text(mains) +
                            "; no deploy script, unit or COMPOSE_FILE in the target names "
                            "another set for them",
                 {same ? Evidence{same->source, same->line, files_text(mains),
                                  files_text(same->files), p.name}
                       : Evidence{mains.front(), 0, files_text(mains), "", p.name}});
      continue;
    }
    if (o.kind == ProjectOrigin::Kind::default_files) {
      const compose::DeployFileSet *empty = nullptr;
      for (auto &s : m.deploy_sets)
        if (s.empty_compose_file && s.directory == p.directory && !empty)
          empty = &s;
      if (empty) {
        // Compose versions disagree here (DeployFileSet::empty_compose_file):
        // a warning, and the default files, which 1.29 runs, are audited.
        run.emit(
            Status::warn, p.name,
            "COMPOSE_FILE is empty at " + empty->source + ":" + std::to_string(empty->line) + " (" +
                empty->how +
                "): docker-compose 1.29 takes it as unset and runs the default files, "
                "audited here (" +
                files_text(mains) +
                "); Compose v2 reads the empty entry as the directory itself and refuses "
                "the project. Remove the empty assignment, or name the files",
            {Evidence{empty->source, empty->line, "COMPOSE_FILE=", files_text(mains), p.name}});
        continue;
      }
      run.emit(Status::pass, p.name,
               "no deploy script, systemd unit or COMPOSE_FILE names the files of " + p.directory +
                   ": the files Compose picks there by default are audited (" + files_text(mains) +
                   ")",
               {Evidence{mains.front(), 0, files_text(mains), "", p.name}});
      continue;
    }
    const compose::DeployFileSet &s = *o.deploy;
    if (!o.missing.empty()) {
      run.emit(Status::fail, p.name,
               s.how + " at " + s.source + ":" + std::to_string(s.line) + " names " +
                   join(o.missing, ", ") + ", which does not exist: the deployment fails",
               {Evidence{s.source, s.line, files_text(s.files), "files that exist", p.name}});
      continue;
    }
    if (!p.valid()) {
      std::string first;
      for (auto &d : p.diagnostics)
        if (d.level == compose::Diagnostic::Level::error) {
          first = p.at(d.loc) + ": " + d.message;
          break;
        }
      // An empty entry of a COMPOSE_FILE list (`a.yml:`, `a.yml::b.yml`) is
      // the working directory itself (compose-go's cli/options.go splits,
      // then makes each entry absolute), which neither Compose version can
      // read as a file. A wholly empty value is DeployFileSet's
      // empty_compose_file, handled above.
      if (s.how.find("COMPOSE_FILE") != std::string::npos &&
          first.find("is a directory") != std::string::npos)
        first += " (an empty entry of COMPOSE_FILE is the working directory itself, which "
                 "Compose v2 reads as a file and refuses; remove the empty entry, or the line)";
      run.emit(Status::fail, p.name,
               "the files " + s.how + " at " + s.source + ":" + std::to_string(s.line) +
                   " names do not merge into a valid project: " + first,
               {Evidence{s.source, s.line, files_text(s.files), "a valid merged project", p.name}});
      continue;
    }
    run.emit(Status::pass, p.name,
             "audited as the deployment runs it: " + s.how + " at " + s.source + ":" +
                 std::to_string(s.line) + " with " + files_text(s.files),
             {Evidence{s.source, s.line, files_text(s.files), files_text(s.files), p.name}});
  }
}

// --- security options, devices, ports, restarts, propagation ---------------------

// security_opt items as (key, value): "seccomp:unconfined", "seccomp=x",
// "label:type:spc_t" (docker/cli opts: the first ':' or '=' splits).
std::pair<std::string, std::string> security_opt(const std::string &raw) {
  std::string s(trim(raw));
  size_t c = s.find_first_of(":=");
  if (c == std::string::npos)
    return {lower(s), ""};
  return {lower(s.substr(0, c)), s.substr(c + 1)};
}

void no_unconfined_seccomp(CheckRun &run) {
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    for (auto *i : items_of(svc.find("security_opt"))) {
      auto [k, v] = security_opt(i->str());
      if (k == "seccomp" && lower(v) == "unconfined")
        bad.push_back(
            ev(p, i->where(), i->str(), "the default seccomp profile (or a custom one)", n));
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " runs without a seccomp filter (every system call reachable)",
               bad);
    else
      run.emit(Status::pass, subject(p, n), "service " + n + " keeps a seccomp profile",
               {ev(p, svc.find("security_opt") ? svc.find("security_opt")->where() : svc.key_loc,
                   "no seccomp:unconfined", "no seccomp:unconfined", n)});
  });
}

void no_unconfined_mac(CheckRun &run) {
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    for (auto *i : items_of(svc.find("security_opt"))) {
      auto [k, v] = security_opt(i->str());
      std::string lv = lower(v);
      if ((k == "apparmor" && lv == "unconfined") || (k == "label" && lv == "disable") ||
          (k == "label" && lv == "type:spc_t"))
        bad.push_back(ev(p, i->where(), i->str(), "the default AppArmor/SELinux confinement", n));
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " turns off its AppArmor or SELinux confinement", bad);
    else
      run.emit(Status::pass, subject(p, n), "service " + n + " keeps its MAC confinement",
               {ev(p, svc.find("security_opt") ? svc.find("security_opt")->where() : svc.key_loc,
                   "no apparmor:unconfined / label:disable", "confined", n)});
  });
}

void no_host_devices(CheckRun &run) {
  std::set<std::string> allowed;
  for (auto &d : run.param_list("allowed"))
    allowed.insert(d);
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    for (auto *i : items_of(svc.find("devices"))) {
      std::string src;
      if (i->is_mapping())
        src = i->find("source") ? i->find("source")->str() : "";
      else
        src = split(i->str(), ':', true).front();
      if (!allowed.count(src))
        bad.push_back(
            ev(p, i->where(), "devices: " + (i->is_mapping() ? src : i->str()),
               allowed.empty()
                   ? "no host device"
                   : "only " + join(std::vector<std::string>(allowed.begin(), allowed.end()), ", "),
               n));
    }
    for (auto *i : items_of(svc.find("device_cgroup_rules")))
      if (!allowed.count(i->str()))
        bad.push_back(
            ev(p, i->where(), "device_cgroup_rules: " + i->str(), "no device cgroup rule", n));
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " is given host devices beyond the allowed list", bad);
    else
      run.emit(Status::pass, subject(p, n),
               svc.find("devices") ? "service " + n + " is given only allowed devices"
                                   : "service " + n + " is given no host device",
               {ev(p, svc.find("devices") ? svc.find("devices")->where() : svc.key_loc,
                   "no device beyond the list", "no host devices", n)});
  });
}

// "443/tcp" or "443" (any protocol) in the list.
bool public_port_allowed(const std::vector<std::string> &list, const compose::Port &pt) {
  std::string port = pt.published.empty() ? pt.target : pt.published;
  for (auto &e : list) {
    size_t sl = e.find('/');
    std::string num = e.substr(0, sl);
    std::string proto = sl == std::string::npos ? "" : lower(e.substr(sl + 1));
    if (num == port && (proto.empty() || proto == pt.protocol))
      return true;
  }
  return false;
}

void ports_bound_to_interface(CheckRun &run) {
  std::vector<std::string> public_ports = run.param_list("public-ports");
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    std::vector<Evidence> bad;
    size_t count = 0;
    for (auto *i : items_of(svc.find("ports"))) {
      auto ps = compose::parse_port(*i);
      if (!ps)
        continue;
      for (auto &pt : *ps) {
        ++count;
        if (!all_interfaces(pt.host_ip) || public_port_allowed(public_ports, pt))
          continue;
        bad.push_back(
            ev(p, pt.loc,
               (pt.published.empty() ? "an ephemeral host port" : pt.published) +
                   std::string(" -> ") + pt.target + "/" + pt.protocol + " on every interface",
               "a host address (\"127.0.0.1:" + (pt.published.empty() ? pt.target : pt.published) +
                   ":" + pt.target + "\") or a port of the public list",
               n));
      }
    }
    if (!bad.empty())
      run.emit(Status::fail, subject(p, n),
               "service " + n + " publishes ports on every interface that are not public by design",
               bad);
    else
      run.emit(count ? Status::pass : Status::not_applicable, subject(p, n),
               count ? "service " + n +
                           "'s published ports name a host address or are public by design"
                     : "service " + n + " publishes no port",
               {ev(p, svc.find("ports") ? svc.find("ports")->where() : svc.key_loc,
                   count ? "ports bound" : "no ports", "ports bound to an interface", n)});
  });
}

void restart_policy(CheckRun &run) {
  each_service(run, [&](const Project &p, const ProjectExtras &, const std::string &n,
                        const Value &svc) {
    // A swarm stack ignores `restart:` and applies deploy.restart_policy
    // (default: any condition, unlimited attempts).
    if (const Value *d = svc.find("deploy"))
      if (const Value *rp = d->find("restart_policy"); rp && rp->is_mapping()) {
        const Value *ma = rp->find("max_attempts");
        const Value *cond = rp->find("condition");
        bool none = cond && lower(cond->str()) == "none";
        bool ok = (ma && !ma->str().empty() && ma->str() != "0") && !none;
        run.emit(ok ? Status::pass : Status::fail, subject(p, n),
                 ok ? "service " + n + " restarts at most " + ma->str() +
                          " times (deploy.restart_policy)"
                 : none ? "service " + n + "'s deploy.restart_policy never restarts it"
                        : "service " + n +
                              "'s deploy.restart_policy sets no max_attempts (restarts forever)",
                 {ev(p, ma ? ma->where() : (cond ? cond->where() : rp->key_loc),
                     ma ? "max_attempts: " + ma->str() : "max_attempts: not set",
                     "deploy.restart_policy: {condition: on-failure, max_attempts: 5}", n)});
        return;
      }
    const Value *r = svc.find("restart");
    std::string v = r ? lower(std::string(trim(r->str()))) : "";
    bool ok = v == "unless-stopped";
    std::string why;
    if (starts_with(v, "on-failure:")) {
      std::string count = v.substr(std::strlen("on-failure:"));
      ok = !count.empty() && count != "0" &&
           count.find_first_not_of("0123456789") == std::string::npos;
      why = ok ? "" : "on-failure with an unusable count";
    } else if (v == "on-failure")
      why = "on-failure without a limit restarts a crashing container forever";
    else if (v == "always")
      why = "always restarts even a container stopped on purpose, without a limit";
    else if (v.empty() || v == "no")
      why = "it is not restarted after a failure or a reboot";
    else if (!ok)
      why = "restart: " + v + " is not a restart policy";
    run.emit(ok ? Status::pass : Status::fail, subject(p, n),
             ok ? "service " + n + " restarts with " + r->str()
                : "service " + n +
                      (r ? " sets restart: " + r->str() : std::string(" sets no restart policy")) +
                      ": " + why + (r ? "" : "; the line is where the service is defined"),
             {ev(p, r ? r->where() : svc.key_loc, r ? "restart: " + r->str() : "restart: not set",
                 "restart: on-failure:5 or unless-stopped", n)});
  });
}

void mount_propagation(CheckRun &run) {
  static const std::set<std::string> k_shared = {"shared", "rshared", "slave", "rslave"};
  each_service(
      run, [&](const Project &p, const ProjectExtras &, const std::string &n, const Value &svc) {
        std::vector<Evidence> bad;
        for (auto *i : items_of(svc.find("volumes"))) {
          std::string prop;
          if (i->is_mapping()) {
            if (const Value *b = i->find("bind"))
              if (const Value *pr = b->find("propagation"))
                prop = lower(pr->str());
          } else if (auto m = compose::parse_volume(*i)) {
            for (auto &o : split(m->options, ','))
              if (k_shared.count(lower(o)))
                prop = lower(o);
          }
          if (k_shared.count(prop))
            bad.push_back(ev(p, i->where(),
                             (i->is_mapping() ? "bind.propagation: " : "volume ") +
                                 (i->is_mapping() ? prop : i->str()),
                             "private or rprivate (the default)", n));
        }
        if (!bad.empty())
          run.emit(Status::fail, subject(p, n),
                   "service " + n + " shares mount events with the host (shared/slave propagation)",
                   bad);
        else
          run.emit(Status::pass, subject(p, n), "service " + n + " has no shared mount propagation",
                   {ev(p, svc.find("volumes") ? svc.find("volumes")->where() : svc.key_loc,
                       "private propagation", "private propagation", n)});
      });
}

// --- dockerd
// ------------------------------------------------------------------

void daemon_hardening(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  const std::string path = "/etc/docker/daemon.json";
  bool installed =
      fs.exists("/usr/bin/dockerd") || fs.exists("/usr/sbin/dockerd") || fs.exists("/etc/docker");
  if (!installed) {
    run.emit(Status::not_applicable, "dockerd", "Docker Engine is not installed");
    return;
  }
  auto cfg = docker::load_daemon_json(fs, path);
  if (!cfg.ok()) {
    const Error &e = cfg.error();
    if (e.not_found())
      run.emit(Status::fail, "dockerd",
               "Docker is installed and " + path +
                   " does not exist: every default applies "
                   "(icc on, no no-new-privileges, no live-restore, unrotated "
                   "json-file logs)",
               {Evidence{path, 0, "absent",
                         "icc: false, no-new-privileges: true, live-restore: "
                         "true, log rotation",
                         "dockerd"}});
    else if (e.sys_errno != 0)
      run.emit(Status::error, "dockerd", e.to_string(),
               {Evidence{path, 0, "unreadable", "", "dockerd"}});
    else
      run.emit(Status::error, "dockerd", path + " is not a JSON object (dockerd refuses to start)",
               {Evidence{path, e.line, e.message, "a JSON object", "dockerd"}});
    return;
  }
  const nlohmann::json &j = cfg->options;
  std::vector<Evidence> bad, good;
  auto want_bool = [&](const char *key, bool want) {
    bool ok = j.contains(key) && j[key].is_boolean() && j[key].get<bool>() == want;
    std::string found =
        j.contains(key) ? std::string(key) + ": " + j[key].dump() : std::string(key) + ": not set";
    (ok ? good : bad)
        .push_back(Evidence{path, cfg->line_of(key), found,
                            std::string(key) + ": " + (want ? "true" : "false"), "dockerd"});
  };
  want_bool("icc", false);
  want_bool("no-new-privileges", true);
  want_bool("live-restore", true);
  std::string driver = j.contains("log-driver") && j["log-driver"].is_string()
                           ? j["log-driver"].get<std::string>()
                           : "json-file";
  bool rotated = false;
  if (driver == "local" || driver == "journald" || driver == "syslog" || driver == "fluentd" ||
      driver == "gelf" || driver == "awslogs" || driver == "splunk" || driver == "loki")
    rotated = true; // the driver rotates (local) or ships the logs away
  else if (j.contains("log-opts") && j["log-opts"].is_object() &&
           j["log-opts"].contains("max-size"))
    rotated = true;
  (rotated ? good : bad)
      .push_back(
          Evidence{path, cfg->line_of(j.contains("log-opts") ? "log-opts" : "log-driver"),
                   "log-driver " + driver + (rotated ? " with rotation" : " without max-size"),
                   "log-opts: {max-size: \"10m\", max-file: \"3\"}", "dockerd"});
  if (!bad.empty()) {
    run.emit(Status::fail, "dockerd", "dockerd's daemon.json misses hardening options", bad);
    return;
  }
  if (!j.contains("userns-remap")) {
    run.emit(Status::warn, "dockerd",
             "daemon.json is hardened but sets no userns-remap (root in a "
             "container is root on the host)",
             {Evidence{path, 0, "userns-remap: not set", "userns-remap: default", "dockerd"}});
    return;
  }
  run.emit(Status::pass, "dockerd", "daemon.json is hardened", good);
}

// --- docker.image-vulnerability-scan ---------------------------------------

struct ScanFinding {
  Evidence evidence;
  bool gates = false; // a failing severity threshold
};

// The first image scanner a file runs, and whether it fails the run on
// findings: trivy with --exit-code N (N != 0) or the trivy action's
// exit-code, grype with --fail-on/-f, docker scout with --exit-code, snyk
// container test (fails by default), anchore's scan-action (fail-build
// defaults to true).
std::optional<ScanFinding> find_scanner(const std::string &path, std::string_view text) {
  std::optional<ScanFinding> out;
  bool action_gate = false;
  int line = 0;
  for (auto &raw : split(text, '\n', true)) {
    ++line;
    std::string l = lower(trim(raw));
    if (l.empty() || l[0] == '#')
      continue;
    bool trivy = l.find("trivy ") != std::string::npos &&
                 (l.find(" image") != std::string::npos || l.find("trivy i ") != std::string::npos);
    bool trivy_action = l.find("aquasecurity/trivy-action") != std::string::npos;
    bool grype =
        l.find("grype ") != std::string::npos || l.find("anchore/scan-action") != std::string::npos;
    bool scout = l.find("docker scout cves") != std::string::npos ||
                 l.find("docker scout quickview") != std::string::npos;
    bool snyk = l.find("snyk container test") != std::string::npos;
    if (l.find("exit-code: '1'") != std::string::npos ||
        l.find("exit-code: \"1\"") != std::string::npos ||
        l.find("exit-code: 1") != std::string::npos ||
        l.find("fail-build: true") != std::string::npos)
      action_gate = true;
    if (!(trivy || trivy_action || grype || scout || snyk) || out)
      continue;
    bool gates = false;
    if (trivy || scout) {
      auto k = l.find("--exit-code");
      if (k != std::string::npos) {
        std::string rest = l.substr(k + 11);
        rest.erase(0, rest.find_first_not_of(" ="));
        gates = !rest.empty() && rest[0] >= '1' && rest[0] <= '9';
      }
    }
    if (grype)
      gates = l.find("--fail-on") != std::string::npos || l.find(" -f ") != std::string::npos ||
              l.find("anchore/scan-action") != std::string::npos;
    if (snyk)
      gates = true;
    out = ScanFinding{Evidence{path, line, std::string(trim(raw)).substr(0, 160),
                               "an image scan with a failing severity threshold", ""},
                      gates};
  }
  if (out && action_gate && !out->gates)
    out->gates = out->evidence.found.find("action") != std::string::npos;
  return out;
}

void image_vulnerability_scan(CheckRun &run) {
  const ComposeModel &m = model(run);
  const RootFs &fs = run.ctx().fs();
  if (m.projects.empty()) {
    run.emit(Status::not_applicable, "compose",
             "no compose project: nothing is deployed as images");
    return;
  }
  for (size_t i = 0; i < m.projects.size(); ++i) {
    const Project &p = m.projects[i];
    std::vector<std::pair<std::string, std::string>> files = m.extras[i].ci_files;
    // In the target, any script and workflow of the project directory.
    for (const std::string pat : {"/*.sh", "/.github/workflows/*.yml", "/.github/workflows/*.yaml"})
      if (auto g = fs.glob(p.directory + pat))
        for (auto &f : *g)
          if (std::none_of(files.begin(), files.end(), [&](auto &x) { return x.first == f; }))
            if (auto t = fs.read_file(f, 1024 * 1024))
              files.emplace_back(f, *t);
    std::optional<ScanFinding> best;
    for (auto &[path, text] : files)
      if (auto s = find_scanner(path, text); s && (!best || (s->gates && !best->gates)))
        best = s;
    if (best && best->gates) {
      best->evidence.context = p.name;
      run.emit(Status::pass, p.name, "images are scanned before deploying and findings stop it",
               {best->evidence});
    } else if (best) {
      best->evidence.context = p.name;
      run.emit(Status::warn, p.name,
               "an image scanner runs but never fails the deployment (no --exit-code 1 / "
               "--fail-on)",
               {best->evidence});
    } else {
      run.emit(Status::fail, p.name,
               "no deploy script or CI file of the project runs an image scanner (trivy, grype, "
               "docker scout)",
               {Evidence{p.directory + "/deploy.sh", 0,
                         "no scanner in " + std::to_string(files.size()) + " deploy/CI files",
                         "trivy image --exit-code 1 --severity HIGH,CRITICAL IMAGE", p.name}});
    }
  }
}

constexpr CheckImpl k_checks[] = {
    {"container.compose-valid", compose_valid},
    {"container.non-root-user", non_root_user},
    {"container.read-only-rootfs", read_only_rootfs},
    {"container.no-new-privileges", no_new_privileges},
    {"container.cap-drop-all", cap_drop_all},
    {"container.cap-add-minimal", cap_add_minimal},
    {"container.no-privileged", no_privileged},
    {"container.no-host-namespaces", no_host_namespaces},
    {"container.no-docker-socket", no_docker_socket},
    {"container.sensitive-mounts", sensitive_mounts},
    {"container.tmpfs-hardened", tmpfs_hardened},
    {"container.resource-limits", resource_limits},
    {"container.image-pinned", image_pinned},
    {"container.minimal-base-image", minimal_base_image},
    {"container.secrets-not-in-env", secrets_not_in_env},
    {"container.published-ports", published_ports},
    {"container.healthcheck", healthcheck},
    {"container.auto-rollback", auto_rollback},
    {"container.content-trust", content_trust},
    {"network.internal", network_internal},
    {"network.segmentation", network_segmentation},
    {"network.encrypted-overlay", encrypted_overlay},
    {"docker.daemon-hardening", daemon_hardening},
    {"docker.image-vulnerability-scan", image_vulnerability_scan},
    {"container.deploy-file-set", deploy_file_set},
    {"container.no-unconfined-seccomp", no_unconfined_seccomp},
    {"container.no-unconfined-mac", no_unconfined_mac},
    {"container.no-host-devices", no_host_devices},
    {"container.ports-bound-to-interface", ports_bound_to_interface},
    {"container.restart-policy", restart_policy},
    {"container.mount-propagation", mount_propagation},
};

nlohmann::ordered_json value_json(const Project &p, const Value &v) {
  switch (v.kind) {
  case Value::Kind::null: return {{"value", nullptr}, {"at", p.at(v.where())}};
  case Value::Kind::scalar: return {{"value", v.scalar}, {"at", p.at(v.where())}};
  case Value::Kind::sequence: {
    auto a = nlohmann::ordered_json::array();
    for (auto &i : v.items)
      a.push_back(value_json(p, i));
    return a;
  }
  case Value::Kind::mapping: {
    auto o = nlohmann::ordered_json::object();
    for (auto &[k, c] : v.entries)
      o[k] = value_json(p, c);
    return o;
  }
  }
  return nullptr;
}

} // namespace

ComposeServicesModel ComposeServicesModel::load(Context &ctx) {
  ComposeServicesModel out;
  const ComposeModel &m = model(ctx);
  // --compose files outside the root are the user's own: so are the files
  // their bind mounts name.
  std::optional<RootFs> host;
  // Named volumes live under dockerd's data-root (daemon.json "data-root").
  std::string docker_root = "/var/lib/docker";
  if (auto dj = docker::load_daemon_json(ctx.fs());
      dj && dj->options.contains("data-root") && dj->options["data-root"].is_string())
    docker_root = dj->options["data-root"].get<std::string>();
  for (size_t i = 0; i < m.projects.size(); i++) {
    const Project &p = m.projects[i];
    if (!p.valid())
      continue;
    const ProjectOrigin &o = m.origins[i];
    const RootFs *fs = &ctx.fs();
    if (o.kind == ProjectOrigin::Kind::command_line && !o.inside_root && !ctx.fs().is_host_root()) {
      if (!host)
        host.emplace("/");
      fs = &*host;
    }
    auto s = compose::derive_services(p, m.extras[i].env_files, *fs);
    std::move(s.redis.begin(), s.redis.end(), std::back_inserter(out.redis));
    std::move(s.postgres.begin(), s.postgres.end(), std::back_inserter(out.postgres));
    for (auto &n : s.nginx)
      n.files_on_host = fs != &ctx.fs();
    std::move(s.nginx.begin(), s.nginx.end(), std::back_inserter(out.nginx));
    for (auto &v : compose::derive_vpn_services(
             p, m.extras[i].env_files, *fs, fs == &ctx.fs() ? docker_root : "/var/lib/docker")) {
      v.files_on_host = fs != &ctx.fs();
      out.vpn.push_back(std::move(v));
    }
  }
  return out;
}

const std::vector<compose::Project> &audited_compose_projects(CheckRun &run) {
  return model(run).projects;
}

std::map<std::string, const compose::Project *> audited_stack_projects(CheckRun &run) {
  const ComposeModel &m = model(run);
  std::map<std::string, const compose::Project *> out;
  for (size_t i = 0; i < m.projects.size(); ++i)
    if (const auto &d = m.origins[i].deploy;
        d && d->how == "docker stack deploy" && !d->stack.empty())
      out.emplace(d->stack, &m.projects[i]);
  return out;
}

std::span<const CheckImpl> container_checks() {
  return k_checks;
}

nlohmann::ordered_json facts_compose(Context &ctx) {
  const ComposeModel &m = ctx.model<ComposeModel>([&] { return load_model(ctx); });
  auto projects = nlohmann::ordered_json::array();
  for (size_t i = 0; i < m.projects.size(); ++i) {
    const Project &p = m.projects[i];
    nlohmann::ordered_json j;
    j["name"] = p.name;
    // Why these files: the deployment that names them, --compose, or
    // Compose's default names.
    const ProjectOrigin &o = m.origins[i];
    if (o.deploy)
      j["origin"] = {{"how", o.deploy->how},
                     {"at", o.deploy->source + ":" + std::to_string(o.deploy->line)}};
    else
      j["origin"] = {
          {"how", o.kind == ProjectOrigin::Kind::command_line ? "--compose" : "default files"}};
    j["directory"] = p.directory;
    j["files"] = std::vector<std::string>(p.files.begin(),
                                          p.files.begin() + static_cast<long>(p.main_files));
    j["env_files"] = p.env_files;
    auto diags = nlohmann::ordered_json::array();
    for (auto &d : p.diagnostics)
      diags.push_back(
          {{"level", d.level == compose::Diagnostic::Level::error ? "error" : "warning"},
           {"message", d.message},
           {"at", p.at(d.loc)}});
    j["diagnostics"] = diags;
    auto notes = nlohmann::ordered_json::array();
    for (auto &n : p.notes)
      notes.push_back({{"service", n.service}, {"message", n.message}, {"at", p.at(n.loc)}});
    j["merge_notes"] = notes;
    j["model"] = value_json(p, p.root);
    projects.push_back(j);
  }
  return {{"projects", projects}};
}

} // namespace bulwark
