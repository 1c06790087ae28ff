// The servers inside compose services (see compose_services.hpp). Every
// image default relied on here is listed, with its source, in
// data/compose/service-images.yaml:
// - docker-library/redis: the Dockerfile compiles redis-server with
//   protected-mode's default flipped to no (a sed of src/config.c's
//   createBoolConfig("protected-mode", ..., 1, ...)); older tags' entrypoint
//   appended `--protected-mode no` unless the configuration file named
//   sets protected-mode. Either way: no, unless a file line or an option
//   says otherwise. No configuration file: bind "* -::*", no password.
//   docker-entrypoint.sh runs `redis-server "$@"` when the first argument
//   starts with '-' or ends in ".conf".
// - docker-library/postgres: the Dockerfile sets listen_addresses = '*' in
//   postgresql.conf.sample (the file initdb copies); docker-entrypoint.sh
//   runs initdb with $POSTGRES_INITDB_ARGS (initdb's default method is trust
//   for local and loopback connections unless --auth/-A, --auth-local or
//   --auth-host say otherwise), then pg_setup_hba_conf() appends
//   `host all all all $POSTGRES_HOST_AUTH_METHOD`, whose default is
//   `postgres -C password_encryption` (scram-sha-256 from PostgreSQL 14,
//   md5 before). The entrypoint prepends `postgres` when the first argument
//   starts with '-'.
// - bitnami/redis (libredis.sh, redis_configure_default): a mounted
//   /opt/bitnami/redis/mounted-etc/redis.conf replaces the configuration;
//   otherwise the packaged redis.conf (upstream's: bind 127.0.0.1 -::1,
//   protected-mode yes), REDIS_ALLOW_REMOTE_CONNECTIONS (default yes) sets
//   bind 0.0.0.0 ::, ALLOW_EMPTY_PASSWORD=yes sets protected-mode no,
//   REDIS_PASSWORD sets requirepass, REDIS_DISABLE_COMMANDS renames each to
//   "". Without a password and without ALLOW_EMPTY_PASSWORD=yes the
//   container refuses to start.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/compose_services.hpp>

#include <algorithm>
#include <cctype>

namespace bulwark::compose {

namespace {

std::string services_basename_of(std::string_view p) {
  size_t s = p.rfind('/');
  return std::string(s == std::string_view::npos ? p : p.substr(s + 1));
}

// Whether a file is there to be read: anything but ENOENT counts, so that
// an unreadable one is read, and reported, rather than taken for absent.
bool present(const RootFs &fs, const std::string &path) {
  auto st = fs.lstat(path);
  return st.ok() || !st.error().not_found();
}

Diagnostic services_problem(std::string message, SourceLocation loc) {
  return Diagnostic{Diagnostic::Level::error, std::move(message), std::move(loc)};
}

// The words of command:/entrypoint:, each with its line. A string is split
// as compose splits it; its words all carry the string's line.
std::optional<std::vector<redis::Arg>> words_of(const Project &p, const Value *v,
                                                std::vector<Diagnostic> &problems) {
  std::vector<redis::Arg> out;
  if (!v || v->is_null())
    return out;
  if (v->is_sequence()) {
    for (auto &i : v->items)
      out.push_back({i.str(), p.where(i.where())});
    return out;
  }
  auto split = shell_split(v->str());
  if (!split) {
    problems.push_back(services_problem("unterminated quote in the command", p.where(v->where())));
    return std::nullopt;
  }
  for (auto &w : *split)
    out.push_back({w, p.where(v->where())});
  return out;
}

bool is_shell(const std::string &w) {
  std::string b = services_basename_of(w);
  return b == "sh" || b == "bash" || b == "ash" || b == "dash";
}

// `sh -c "exec redis-server --x y"`: the words of a simple shell command,
// with $NAME and ${NAME} taken from the container's environment. nullopt
// (with a problem) for anything a shell would do more with.
std::optional<std::vector<redis::Arg>> shell_command(const std::vector<redis::Arg> &argv,
                                                     const std::map<std::string, EnvValue> &env,
                                                     std::vector<Diagnostic> &problems) {
  if (argv.size() != 3 || argv[1].text != "-c") {
    problems.push_back(services_problem(
        "the command runs a shell in a way bulwark cannot follow offline", argv.front().loc));
    return std::nullopt;
  }
  const std::string &script = argv[2].text;
  std::string expanded;
  for (size_t i = 0; i < script.size(); i++) {
    char c = script[i];
    if (c == ';' || c == '|' || c == '&' || c == '<' || c == '>' || c == '`' || c == '\n' ||
        c == '(' || c == ')') {
      problems.push_back(
          services_problem("the shell command '" + text::printable(script, 80) +
                               "' is more than one simple command: the server's options "
                               "cannot be derived offline",
                           argv[2].loc));
      return std::nullopt;
    }
    if (c != '$') {
      expanded += c;
      continue;
    }
    bool braced = i + 1 < script.size() && script[i + 1] == '{';
    size_t b = i + (braced ? 2 : 1), e = b;
    while (e < script.size() &&
           (std::isalnum(static_cast<unsigned char>(script[e])) || script[e] == '_'))
      e++;
    if (e == b || (braced && e >= script.size())) {
      problems.push_back(services_problem(
          "the shell command uses '$' in a way bulwark cannot follow", argv[2].loc));
      return std::nullopt;
    }
    std::string name = script.substr(b, e - b);
    auto it = env.find(name);
    // ${NAME:-default}, ${NAME-default}, ${NAME:?message}, ${NAME?message}.
    std::string op, word;
    size_t end = e;
    if (braced && script[e] != '}') {
      size_t close = script.find('}', e);
      bool colon = script[e] == ':';
      size_t k = e + (colon ? 1 : 0);
      char kind = k < script.size() ? script[k] : '\0';
      if (close == std::string::npos || (kind != '-' && kind != '?')) {
        problems.push_back(services_problem(
            "the shell command uses '$' in a way bulwark cannot follow", argv[2].loc));
        return std::nullopt;
      }
      op = std::string(colon ? ":" : "") + kind;
      word = script.substr(e + op.size(), close - e - op.size());
      end = close;
    }
    bool set = it != env.end() && (op.empty() || op[0] != ':' || !it->second.value.empty());
    if (set) {
      expanded += it->second.value;
    } else if (!op.empty() && op.back() == '-') {
      expanded += word;
    } else {
      problems.push_back(services_problem(
          "the shell command uses $" + name + ", which the service's environment does not set" +
              (op.empty() || op.back() != '?' ? std::string() : " (the shell stops the container)"),
          argv[2].loc));
      return std::nullopt;
    }
    i = braced ? end : e - 1;
  }
  auto split = shell_split(expanded);
  if (!split) {
    problems.push_back(services_problem("unterminated quote in the shell command", argv[2].loc));
    return std::nullopt;
  }
  std::vector<redis::Arg> out;
  for (auto &w : *split)
    if (!(out.empty() && w == "exec"))
      out.push_back({w, argv[2].loc});
  return out;
}

// The program and arguments the container runs: entrypoint + command, with
// the image's entrypoint rules (`first` prepended when the first argument
// is an option, or `conf_suffix` names a file).
std::optional<std::vector<redis::Arg>> container_argv(const Project &p, const Value &svc,
                                                      const std::map<std::string, EnvValue> &env,
                                                      const std::string &program,
                                                      std::string_view conf_suffix,
                                                      std::vector<Diagnostic> &problems) {
  const Value *ep = svc.find("entrypoint");
  auto entry = words_of(p, ep, problems);
  auto cmd = words_of(p, svc.find("command"), problems);
  if (!entry || !cmd)
    return std::nullopt;
  std::vector<redis::Arg> argv;
  bool own_entrypoint =
      !entry->empty() && services_basename_of(entry->front().text) != "docker-entrypoint.sh";
  if (own_entrypoint)
    argv = *entry;
  else if (!entry->empty())
    argv.assign(entry->begin() + 1, entry->end());
  argv.insert(argv.end(), cmd->begin(), cmd->end());
  if (argv.empty()) {
    SourceLocation at = p.where(svc.find("image") ? svc.find("image")->where() : svc.where());
    return std::vector<redis::Arg>{{program, at}};
  }
  if (is_shell(argv.front().text)) {
    auto inner = shell_command(argv, env, problems);
    if (!inner)
      return std::nullopt;
    argv = *inner;
    if (argv.empty())
      return argv;
  }
  if (!own_entrypoint) {
    const std::string &first = argv.front().text;
    bool option = !first.empty() && first[0] == '-';
    bool conf =
        !conf_suffix.empty() && first.size() > conf_suffix.size() &&
        first.compare(first.size() - conf_suffix.size(), conf_suffix.size(), conf_suffix) == 0;
    if (option || conf)
      argv.insert(argv.begin(), redis::Arg{program, argv.front().loc});
  }
  return argv;
}

Reach reach_of(const Project &p, const Value &svc, int port) {
  Reach r;
  r.port = port;
  if (const Value *nm = svc.find("network_mode"); nm && nm->str() == "host") {
    r.host_network = true;
    r.network_mode = p.where(nm->where());
  }
  if (const Value *ports = svc.find("ports"); ports && ports->is_sequence())
    for (auto &item : ports->items) {
      auto parsed = parse_port(item);
      if (!parsed) {
        // A ports item that does not parse may publish anything: taken as
        // every interface, so that it can only make a verdict stricter.
        Port unknown;
        unknown.published = "(unparsed: " + text::printable(item.str(), 40) + ")";
        unknown.target = std::to_string(port);
        r.published.push_back(unknown);
        r.published_at.push_back(p.where(item.where()));
        continue;
      }
      for (auto &pt : *parsed) {
        // "6379-6380:6379-6380" ranges: the target may be a range.
        std::string t = pt.target;
        size_t dash = t.find('-');
        int lo = leading_int(t),
            hi = dash == std::string::npos ? lo : leading_int(std::string_view(t).substr(dash + 1));
        if (port >= lo && port <= hi && pt.protocol == "tcp") {
          r.published.push_back(pt);
          r.published_at.push_back(p.where(item.where()));
        }
      }
    }
  return r;
}

// --- Redis ------------------------------------------------------------------

std::optional<RedisService> derive_redis(const Project &p, const std::string &name,
                                         const Value &svc, const ImageKind &image,
                                         const EnvFiles &env_files, const RootFs &fs) {
  RedisService s;
  s.subject = p.name + "/" + name;
  s.image = image;
  const Value *img = svc.find("image");
  s.image_loc = p.where(img->where());
  auto env = service_environment(p, svc, env_files);
  std::vector<redis::Directive> before, after;
  std::optional<std::string> conf_path;
  auto directive = [](std::string n, std::vector<std::string> args, SourceLocation loc) {
    return redis::Directive{std::move(n), std::move(args), std::move(loc)};
  };
  if (image.bitnami) {
    // The packaged redis.conf's own values (upstream's redis.conf).
    before.push_back(directive("bind", {"127.0.0.1", "-::1"}, s.image_loc));
    before.push_back(directive("protected-mode", {"yes"}, s.image_loc));
    if (auto m = mounted_file(p, svc, "/opt/bitnami/redis/mounted-etc/redis.conf")) {
      before.clear();
      conf_path = m->host_path;
    } else {
      auto remote = env.find("REDIS_ALLOW_REMOTE_CONNECTIONS");
      if (remote == env.end() || text::iequals(remote->second.value, "yes") ||
          remote->second.value == "true" || remote->second.value == "1")
        before.push_back(directive("bind", {"0.0.0.0", "::"},
                                   remote == env.end() ? s.image_loc : remote->second.loc));
      auto empty = env.find("ALLOW_EMPTY_PASSWORD");
      bool allow_empty =
          empty != env.end() && (text::iequals(empty->second.value, "yes") ||
                                 empty->second.value == "true" || empty->second.value == "1");
      if (allow_empty)
        before.push_back(directive("protected-mode", {"no"}, empty->second.loc));
      auto pw = env.find("REDIS_PASSWORD");
      auto pwf = env.find("REDIS_PASSWORD_FILE");
      if (pw != env.end() && !pw->second.value.empty()) {
        before.push_back(directive("requirepass", {pw->second.value}, pw->second.loc));
      } else if (pwf != env.end() && !pwf->second.value.empty()) {
        before.push_back(directive("requirepass", {"<from file>"}, pwf->second.loc));
        s.password_from_file = pwf->second.loc;
      } else if (!allow_empty) {
        s.problems.push_back(
            services_problem("bitnami/redis refuses to start without REDIS_PASSWORD (or "
                             "ALLOW_EMPTY_PASSWORD=yes)",
                             s.image_loc));
      }
      if (auto dc = env.find("REDIS_DISABLE_COMMANDS"); dc != env.end())
        for (auto &c : text::split(dc->second.value, ','))
          if (auto t = std::string(text::trim(c)); !t.empty())
            before.push_back(directive("rename-command", {t, ""}, dc->second.loc));
    }
    // The image's CMD is run.sh, which passes its arguments to redis-server
    // after the configuration file.
    std::vector<Diagnostic> cmd_problems;
    auto cmd = words_of(p, svc.find("command"), cmd_problems);
    s.problems.insert(s.problems.end(), cmd_problems.begin(), cmd_problems.end());
    if (svc.find("entrypoint")) {
      s.problems.push_back(
          services_problem("the image's entrypoint is replaced: the Redis configuration "
                           "cannot be derived offline",
                           p.where(svc.find("entrypoint")->where())));
    } else if (cmd && !cmd->empty()) {
      if (services_basename_of(cmd->front().text) != "run.sh") {
        s.problems.push_back(services_problem(
            "the command replaces the image's run.sh: the Redis configuration cannot be derived",
            cmd->front().loc));
      } else {
        std::vector<redis::Arg> opts(cmd->begin() + 1, cmd->end());
        after = redis::server_options(opts, s.problems);
      }
    }
    if (auto extra = env.find("REDIS_EXTRA_FLAGS"); extra != env.end()) {
      std::vector<redis::Arg> opts;
      if (auto w = shell_split(extra->second.value))
        for (auto &x : *w)
          opts.push_back({x, extra->second.loc});
      auto more = redis::server_options(opts, s.problems);
      after.insert(after.end(), more.begin(), more.end());
    }
  } else {
    // Compiled default of the official image (see the top of this file).
    // valkey/valkey patches valkey's config.c the same way and its
    // entrypoint has the same rule, with valkey-server (redis-server is a
    // compatibility link to it).
    before.push_back(directive("protected-mode", {"no"}, s.image_loc));
    std::string program = image.valkey ? "valkey-server" : "redis-server";
    auto argv = container_argv(p, svc, env, program, ".conf", s.problems);
    if (argv) {
      std::string b = argv->empty() ? std::string() : services_basename_of(argv->front().text);
      if (b != "redis-server" && b != "valkey-server")
        return std::nullopt; // another program of the image (redis-cli, sentinel): not a server
      size_t first_opt = 1;
      if (argv->size() > 1 && !(*argv)[1].text.empty() && (*argv)[1].text[0] != '-') {
        first_opt = 2;
        const redis::Arg &cf = (*argv)[1];
        if (auto m = mounted_file(p, svc, cf.text)) {
          conf_path = m->host_path;
        } else {
          s.problems.push_back(
              services_problem("redis-server reads " + cf.text +
                                   ", which no bind mount of the service provides: its "
                                   "settings cannot be read",
                               cf.loc));
        }
      }
      std::vector<redis::Arg> opts(argv->begin() + static_cast<long>(first_opt), argv->end());
      // valkey's entrypoint ends in `exec "$@" $VALKEY_EXTRA_FLAGS`: the
      // unquoted variable adds its blank-separated words (no quoting).
      if (auto extra = env.find("VALKEY_EXTRA_FLAGS"); image.valkey && extra != env.end())
        for (const auto &w : text::split(extra->second.value, ' '))
          if (auto t = std::string(text::trim(w)); !t.empty())
            opts.push_back({t, extra->second.loc});
      after = redis::server_options(opts, s.problems);
    }
  }
  s.cfg = redis::load_redis_layers(fs, before, conf_path, after);
  // Without a file, the built-in default user is the image's: cite its line.
  if (!conf_path)
    for (auto &u : s.cfg.users)
      if (u.loc.line == 0)
        u.loc = s.image_loc;
  if (s.password_from_file)
    for (auto &u : s.cfg.users)
      if (u.name == "default" && !u.passwords.empty() && u.passwords.front() == "<from file>") {
        u.passwords.clear();
        u.hashes = 1; // a password exists; its strength is not known offline
      }
  int port = 6379;
  if (const redis::Directive *d = s.cfg.get("port"); d && !d->args.empty())
    port = leading_int(d->args[0]);
  s.reach = reach_of(p, svc, port);
  return s;
}

// --- PostgreSQL -------------------------------------------------------------

// initdb's rules (src/bin/initdb/initdb.c with pg_hba.conf.sample) for the
// given methods, as the official image writes them, then the entrypoint's
// line.
std::string generated_hba(const std::string &local, const std::string &host,
                          const std::string &all_method) {
  return "local all all " + local + "\nhost all all 127.0.0.1/32 " + host +
         "\nhost all all ::1/128 " + host + "\nlocal replication all " + local +
         "\nhost replication all 127.0.0.1/32 " + host + "\nhost replication all ::1/128 " + host +
         "\nhost all all all " + all_method + "\n";
}

void set_setting(pg::Config &c, std::string name, std::string value, SourceLocation loc) {
  name = text::lower(name);
  pg::Setting s{name, std::move(value), std::move(loc)};
  c.assignments.push_back(s);
  c.effective[name] = std::move(s);
}

// bitnami/postgresql (postgresql-env.sh, libpostgresql.sh, setup.sh; see
// data/compose/service-images.yaml): every POSTGRESQL_X also reads
// POSTGRES_X, and X_FILE fills X from a file. The configuration lives in
// /opt/bitnami/postgresql/conf; files in the mounted /bitnami/postgresql/conf
// are copied over it at start.
std::optional<PgService> derive_bitnami_postgres(const Project &p, const std::string &name,
                                                 const Value &svc, const ImageKind &image,
                                                 const EnvFiles &env_files, const RootFs &fs) {
  PgService s;
  s.subject = p.name + "/" + name;
  s.image = image;
  s.image_loc = p.where(svc.find("image")->where());
  s.major = image.major ? image.major : 17;
  auto env = service_environment(p, svc, env_files);
  // The variable's value and line: POSTGRESQL_X, else POSTGRES_X; a set
  // X_FILE counts as a value whose content is not known offline.
  struct Var {
    std::string value;
    SourceLocation loc;
    bool from_file = false;
  };
  auto var = [&](const std::string &x) -> std::optional<Var> {
    for (const std::string &n : {"POSTGRESQL_" + x, "POSTGRES_" + x}) {
      auto it = env.find(n);
      if (it != env.end() && !it->second.value.empty())
        return Var{it->second.value, it->second.loc};
      auto f = env.find(n + "_FILE");
      if (f != env.end() && !f->second.value.empty())
        return Var{"<from file>", f->second.loc, true};
    }
    return std::nullopt;
  };
  auto yes = [](const std::optional<Var> &v, bool def) {
    if (!v)
      return def;
    return text::iequals(v->value, "yes") || text::iequals(v->value, "true") || v->value == "1";
  };
  auto allow_empty_it = env.find("ALLOW_EMPTY_PASSWORD");
  std::optional<Var> allow_empty;
  if (allow_empty_it != env.end())
    allow_empty = Var{allow_empty_it->second.value, allow_empty_it->second.loc};
  auto password = var("PASSWORD");
  auto remote = var("ALLOW_REMOTE_CONNECTIONS");
  auto tls = var("ENABLE_TLS");
  if (!password && !yes(allow_empty, false))
    s.problems.push_back(
        services_problem("bitnami/postgresql refuses to start without POSTGRESQL_PASSWORD "
                         "(or ALLOW_EMPTY_PASSWORD=yes)",
                         s.image_loc));
  // The image's CMD is run.sh; another command skips the setup.
  std::vector<Diagnostic> cmd_problems;
  auto cmd = words_of(p, svc.find("command"), cmd_problems);
  s.problems.insert(s.problems.end(), cmd_problems.begin(), cmd_problems.end());
  if (svc.find("entrypoint"))
    s.problems.push_back(services_problem("the image's entrypoint is replaced: the PostgreSQL "
                                          "configuration cannot be derived offline",
                                          p.where(svc.find("entrypoint")->where())));
  else if (cmd && !cmd->empty() && services_basename_of(cmd->front().text) != "run.sh")
    s.problems.push_back(services_problem(
        "the command replaces the image's run.sh: the PostgreSQL configuration cannot "
        "be derived offline",
        cmd->front().loc));
  if (auto extra = var("EXTRA_FLAGS"))
    s.problems.push_back(
        services_problem("POSTGRESQL_EXTRA_FLAGS passes options bulwark does not follow "
                         "offline",
                         extra->loc));
  auto mounted = [&](const std::string &file) -> std::optional<MountedFile> {
    for (const char *dir : {"/opt/bitnami/postgresql/conf/", "/bitnami/postgresql/conf/"})
      if (auto m = mounted_file(p, svc, dir + file); m && present(fs, m->host_path))
        return m;
    return std::nullopt;
  };
  // postgresql.conf: the mounted one as it is, else the sample with the
  // settings the scripts write.
  s.conf_path = s.image_loc.path;
  if (auto m = mounted("postgresql.conf")) {
    s.conf_path = m->host_path;
    s.conf = pg::load_postgresql_conf(fs, m->host_path, std::string("/nonexistent-data-dir"));
    s.conf.diagnostics.erase(std::remove_if(s.conf.diagnostics.begin(), s.conf.diagnostics.end(),
                                            [](const Diagnostic &d) {
                                              return d.loc.path.find("/nonexistent-data-dir") !=
                                                     std::string::npos;
                                            }),
                             s.conf.diagnostics.end());
  } else {
    if (yes(remote, true))
      set_setting(s.conf, "listen_addresses", "*", remote ? remote->loc : s.image_loc);
    if (auto port = var("PORT_NUMBER"))
      set_setting(s.conf, "port", port->value, port->loc);
    if (auto pe = var("PASSWORD_ENCRYPTION"))
      set_setting(s.conf, "password_encryption", pe->value, pe->loc);
    else if (s.major < 14)
      set_setting(s.conf, "password_encryption", "md5", s.image_loc);
    if (yes(tls, false)) {
      set_setting(s.conf, "ssl", "on", tls->loc);
      if (!yes(var("TLS_PREFER_SERVER_CIPHERS"), true))
        set_setting(s.conf, "ssl_prefer_server_ciphers", "off",
                    var("TLS_PREFER_SERVER_CIPHERS")->loc);
      for (auto [x, setting] : {std::pair{"TLS_CERT_FILE", "ssl_cert_file"},
                                {"TLS_KEY_FILE", "ssl_key_file"},
                                {"TLS_CA_FILE", "ssl_ca_file"},
                                {"TLS_CRL_FILE", "ssl_crl_file"}})
        if (auto v = var(x))
          set_setting(s.conf, setting, v->value, v->loc);
    }
    // include_dir = 'conf.d', after the lines above in the sample: the
    // mounted conf.d files win.
    if (auto d = mounted_file(p, svc, "/bitnami/postgresql/conf/conf.d"))
      if (auto files = fs.glob(RootFs::join(d->host_path, "*.conf"))) {
        for (auto &f : *files) {
          pg::Config c = pg::load_postgresql_conf(fs, f, std::string("/nonexistent-data-dir"));
          for (auto &a : c.assignments)
            set_setting(s.conf, a.name, a.value, a.loc);
          for (auto &dg : c.diagnostics)
            if (dg.loc.path.find("/nonexistent-data-dir") == std::string::npos)
              s.conf.diagnostics.push_back(dg);
        }
      }
  }
  pg::HbaOptions ho;
  ho.major_version = s.major;
  const pg::Setting *ssl = s.conf.get("ssl");
  ho.ssl_enabled = ssl && pg::parse_bool(ssl->value).value_or(false);
  auto custom = env.find("POSTGRESQL_USE_CUSTOM_PGHBA_INITIALIZATION");
  bool custom_hba = custom != env.end() && text::iequals(custom->second.value, "yes");
  auto mhba = mounted("pg_hba.conf");
  if (mhba && (custom_hba || !yes(remote, true))) {
    s.hba_path = mhba->host_path;
    s.hba = pg::load_pg_hba(fs, mhba->host_path, ho);
  } else if (!yes(remote, true)) {
    s.hba_path = s.image_loc.path;
    s.problems.push_back(services_problem(
        "POSTGRESQL_ALLOW_REMOTE_CONNECTIONS=no keeps the image's packaged pg_hba.conf, "
        "which bulwark does not know: mount one",
        remote->loc));
  } else {
    // postgresql_create_pghba + allow_local_connection, then
    // postgresql_restrict_pghba (trust -> md5 when a password is set), the
    // replication lines, and the TLS client-certificate lines in front.
    std::string method = password ? "md5" : "trust";
    SourceLocation method_loc =
        password ? password->loc : (allow_empty ? allow_empty->loc : s.image_loc);
    std::vector<std::pair<std::string, SourceLocation>> lines;
    auto ldap = var("ENABLE_LDAP");
    if (auto ca = var("TLS_CA_FILE"); yes(tls, false) && ca) {
      lines.push_back({"hostssl all all 0.0.0.0/0 cert", ca->loc});
      lines.push_back({"hostssl all all ::/0 cert", ca->loc});
    }
    if (yes(ldap, false)) {
      lines.push_back({"host all postgres 0.0.0.0/0 " + method, method_loc});
      lines.push_back({"host all postgres ::/0 " + method, method_loc});
      lines.push_back({"host all all 0.0.0.0/0 ldap", ldap->loc});
      lines.push_back({"host all all ::/0 ldap", ldap->loc});
    } else {
      lines.push_back({"host all all 0.0.0.0/0 " + method, method_loc});
      lines.push_back({"host all all ::/0 " + method, method_loc});
    }
    lines.push_back({"local all all " + method, method_loc});
    lines.push_back({"host all all 127.0.0.1/32 " + method, method_loc});
    lines.push_back({"host all all ::1/128 " + method, method_loc});
    auto mode = var("REPLICATION_MODE");
    if (auto ru = var("REPLICATION_USER"); ru && (!mode || mode->value == "master")) {
      std::string rm = var("REPLICATION_PASSWORD") ? "md5" : "trust";
      lines.push_back({"host replication all 0.0.0.0/0 " + rm, ru->loc});
      lines.push_back({"host replication all ::/0 " + rm, ru->loc});
    }
    std::string textv;
    for (auto &l : lines)
      textv += l.first + "\n";
    s.hba_path = s.image_loc.path;
    s.hba = pg::parse_pg_hba_text(s.image_loc.path, textv, ho);
    for (auto &r : s.hba.rules)
      if (r.loc.line >= 1 && static_cast<size_t>(r.loc.line) <= lines.size())
        r.loc = lines[static_cast<size_t>(r.loc.line) - 1].second;
    for (auto &d : s.hba.diagnostics)
      d.loc = method_loc;
    if (auto rf = var("PGHBA_REMOVE_FILTERS"))
      s.problems.push_back(
          services_problem("POSTGRESQL_PGHBA_REMOVE_FILTERS edits pg_hba.conf in a way "
                           "bulwark does not follow offline",
                           rf->loc));
  }
  int port = 5432;
  if (const pg::Setting *pt = s.conf.get("port"))
    port = leading_int(pt->value);
  s.reach = reach_of(p, svc, port);
  return s;
}

std::optional<PgService> derive_postgres(const Project &p, const std::string &name,
                                         const Value &svc, const ImageKind &image,
                                         const EnvFiles &env_files, const RootFs &fs) {
  PgService s;
  s.subject = p.name + "/" + name;
  s.image = image;
  s.image_loc = p.where(svc.find("image")->where());
  s.major = image.major ? image.major : 17;
  auto env = service_environment(p, svc, env_files);
  auto argv = container_argv(p, svc, env, "postgres", "", s.problems);
  // Settings of the command line, in order: -c name=value, --name=value
  // and the short options postgres(1) documents.
  std::vector<pg::Setting> args;
  if (argv) {
    if (argv->empty() || services_basename_of(argv->front().text) != "postgres")
      return std::nullopt;
    const auto &a = *argv;
    for (size_t i = 1; i < a.size(); i++) {
      const std::string &w = a[i].text;
      auto next = [&](std::string_view opt) -> std::optional<std::string> {
        if (w.size() > opt.size())
          return w.substr(opt.size());
        if (i + 1 < a.size())
          return a[++i].text;
        s.problems.push_back(services_problem("postgres option " + w + " needs a value", a[i].loc));
        return std::nullopt;
      };
      auto kv = [&](const std::string &t, const SourceLocation &loc) {
        size_t eq = t.find('=');
        if (eq == std::string::npos) {
          s.problems.push_back(services_problem(
              "postgres: -c " + text::printable(t, 60) + " requires a value", loc));
          return;
        }
        std::string n = t.substr(0, eq);
        std::replace(n.begin(), n.end(), '-', '_');
        args.push_back({text::lower(n), t.substr(eq + 1), loc});
      };
      if (w.rfind("--", 0) == 0 && w.size() > 2) {
        kv(w.substr(2), a[i].loc);
      } else if (w.rfind("-c", 0) == 0) {
        if (auto v = next("-c"))
          kv(*v, a[i].loc);
      } else if (w.rfind("-p", 0) == 0) {
        if (auto v = next("-p"))
          args.push_back({"port", *v, a[i].loc});
      } else if (w.rfind("-h", 0) == 0) {
        if (auto v = next("-h"))
          args.push_back({"listen_addresses", *v, a[i].loc});
      } else if (w.rfind("-N", 0) == 0) {
        if (auto v = next("-N"))
          args.push_back({"max_connections", *v, a[i].loc});
      } else if (w.rfind("-B", 0) == 0 || w.rfind("-D", 0) == 0 || w.rfind("-k", 0) == 0 ||
                 w.rfind("-r", 0) == 0 || w.rfind("-S", 0) == 0 || w.rfind("-d", 0) == 0) {
        next(w.substr(0, 2)); // not a setting the checks read
      } else if (w == "-i") {
        args.push_back({"listen_addresses", "*", a[i].loc});
      } else if (w == "-l") {
        args.push_back({"ssl", "on", a[i].loc});
      } else if (w == "-F" || w == "-e" || w == "-O" || w == "-P" || w == "-s" || w == "-n") {
        continue;
      } else {
        s.problems.push_back(services_problem("postgres: argument '" + text::printable(w, 60) +
                                                  "' is not an option bulwark knows",
                                              a[i].loc));
      }
    }
  }
  auto arg = [&](std::string_view n) -> const pg::Setting * {
    const pg::Setting *found = nullptr;
    for (auto &x : args)
      if (x.name == n)
        found = &x;
    return found;
  };
  // The configuration file: a mounted one named by config_file, else the
  // one initdb wrote from the image's sample (listen_addresses = '*').
  s.conf_path = p.where(svc.where()).path;
  std::string pgdata = "/var/lib/postgresql/data";
  if (auto pd = env.find("PGDATA"); pd != env.end() && !pd->second.value.empty())
    pgdata = RootFs::join("/", pd->second.value);
  if (const pg::Setting *cf = arg("config_file")) {
    if (auto m = mounted_file(p, svc, cf->value)) {
      s.conf_path = m->host_path;
      s.conf = pg::load_postgresql_conf(fs, m->host_path, std::string("/nonexistent-data-dir"));
      // The data directory is a volume: its postgresql.auto.conf is not
      // read offline, and a missing one is not an error.
      s.conf.diagnostics.erase(std::remove_if(s.conf.diagnostics.begin(), s.conf.diagnostics.end(),
                                              [](const Diagnostic &d) {
                                                return d.loc.path.find("/nonexistent-data-dir") !=
                                                       std::string::npos;
                                              }),
                               s.conf.diagnostics.end());
    } else {
      s.problems.push_back(services_problem("postgres reads config_file " + cf->value +
                                                ", which no bind mount of the service provides",
                                            cf->loc));
    }
  } else if (auto pc = mounted_file(p, svc, pgdata + "/postgresql.conf");
             pc && present(fs, pc->host_path)) {
    // The data directory is bind-mounted and initialised: its own file
    // (and postgresql.auto.conf next to it) is what the server reads.
    s.conf_path = pc->host_path;
    s.conf = pg::load_postgresql_conf(fs, pc->host_path,
                                      pc->host_path.substr(0, pc->host_path.rfind('/')));
  } else {
    set_setting(s.conf, "listen_addresses", "*", s.image_loc);
  }
  // password_encryption's built-in default before PostgreSQL 14 (the checks'
  // own default is 15's).
  if (s.major < 14 && !s.conf.get("password_encryption") && !arg("password_encryption"))
    set_setting(s.conf, "password_encryption", "md5", s.image_loc);
  for (auto &x : args)
    set_setting(s.conf, x.name, x.value, x.loc);
  // pg_hba.conf: a mounted one named by hba_file, else the entrypoint's.
  pg::HbaOptions ho;
  ho.major_version = s.major;
  const pg::Setting *ssl = s.conf.get("ssl");
  ho.ssl_enabled = ssl && pg::parse_bool(ssl->value).value_or(false);
  if (const pg::Setting *hf = s.conf.get("hba_file")) {
    if (auto m = mounted_file(p, svc, hf->value)) {
      s.hba_path = m->host_path;
      s.hba = pg::load_pg_hba(fs, m->host_path, ho);
    } else {
      s.hba_path = hf->loc.path;
      s.problems.push_back(services_problem("postgres reads hba_file " + hf->value +
                                                ", which no bind mount of the service provides",
                                            hf->loc));
    }
  } else if (auto ph = mounted_file(p, svc, pgdata + "/pg_hba.conf");
             ph && present(fs, ph->host_path)) {
    s.hba_path = ph->host_path;
    s.hba = pg::load_pg_hba(fs, ph->host_path, ho);
  } else {
    std::string local = "trust", host = "trust";
    SourceLocation initdb_loc = s.image_loc;
    if (auto ia = env.find("POSTGRES_INITDB_ARGS"); ia != env.end()) {
      auto words = shell_split(ia->second.value).value_or(std::vector<std::string>{});
      for (size_t i = 0; i < words.size(); i++) {
        const std::string &w = words[i];
        auto value = [&](std::string_view opt) -> std::string {
          if (w.size() > opt.size() && w[opt.size()] == '=')
            return w.substr(opt.size() + 1);
          if (w.size() > opt.size() && opt.size() == 2)
            return w.substr(2);
          return i + 1 < words.size() ? words[++i] : "";
        };
        if (w.rfind("--auth-local", 0) == 0) {
          local = value("--auth-local");
        } else if (w.rfind("--auth-host", 0) == 0) {
          host = value("--auth-host");
        } else if (w.rfind("--auth", 0) == 0) {
          local = host = value("--auth");
        } else if (w.rfind("-A", 0) == 0) {
          local = host = value("-A");
        } else {
          continue;
        }
        initdb_loc = ia->second.loc;
      }
    }
    std::string method;
    SourceLocation method_loc = s.image_loc;
    if (auto m = env.find("POSTGRES_HOST_AUTH_METHOD");
        m != env.end() && !m->second.value.empty()) {
      method = m->second.value;
      method_loc = m->second.loc;
    } else if (const pg::Setting *pe = s.conf.get("password_encryption")) {
      method = pe->value;
      method_loc = pe->loc;
    } else {
      method = s.major && s.major < 14 ? "md5" : "scram-sha-256";
    }
    s.hba_path = s.image_loc.path;
    s.hba = pg::parse_pg_hba_text(s.image_loc.path, generated_hba(local, host, method), ho);
    for (auto &r : s.hba.rules)
      r.loc = r.loc.line == 7 ? method_loc : initdb_loc;
    for (auto &d : s.hba.diagnostics)
      d.loc = method_loc;
  }
  int port = 5432;
  if (const pg::Setting *pt = s.conf.get("port"))
    port = leading_int(pt->value);
  s.reach = reach_of(p, svc, port);
  return s;
}

// --- nginx ------------------------------------------------------------------

// /etc/nginx/nginx.conf as the official image ships it (nginx.org's
// package; `docker run nginx cat /etc/nginx/nginx.conf`): no TLS directive,
// conf.d/*.conf included inside http.
constexpr std::string_view k_nginx_conf = R"(user  nginx;
worker_processes  auto;
error_log  /var/log/nginx/error.log notice;
pid        /run/nginx.pid;
events {
    worker_connections  1024;
}
http {
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log  /var/log/nginx/access.log;
    sendfile        on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
)";

// nginxinc/nginx-unprivileged's Dockerfile deletes `user`, moves the pid
// file and the temp paths to /tmp (nothing TLS-related changes).
constexpr std::string_view k_nginx_conf_unprivileged = R"(worker_processes  auto;
error_log  /var/log/nginx/error.log notice;
pid        /tmp/nginx.pid;
events {
    worker_connections  1024;
}
http {
    proxy_temp_path /tmp/proxy_temp;
    client_body_temp_path /tmp/client_temp;
    fastcgi_temp_path /tmp/fastcgi_temp;
    uwsgi_temp_path /tmp/uwsgi_temp;
    scgi_temp_path /tmp/scgi_temp;
    include       /etc/nginx/mime.types;
    default_type  application/octet-stream;
    access_log  /var/log/nginx/access.log;
    sendfile        on;
    keepalive_timeout  65;
    include /etc/nginx/conf.d/*.conf;
}
)";

// conf.d/default.conf: one plain-HTTP server (port 8080 in the
// unprivileged image), no TLS listener.
std::string default_conf(bool unprivileged) {
  std::string port = unprivileged ? "8080" : "80";
  return "server {\n    listen       " + port + ";\n    listen  [::]:" + port +
         ";\n    server_name  localhost;\n    location / {\n        root   "
         "/usr/share/nginx/html;\n        index  index.html index.htm;\n    }\n}\n";
}

// The envsubst of 20-envsubst-on-templates.sh: `$NAME` and `${NAME}` whose
// NAME starts with $NGINX_ENVSUBST_FILTER and is set in the environment
// become its value; anything else stays as written (nginx's own $host).
std::string envsubst(std::string_view t, const std::map<std::string, EnvValue> &env,
                     const std::string &filter) {
  std::string out;
  for (size_t i = 0; i < t.size(); i++) {
    if (t[i] != '$') {
      out += t[i];
      continue;
    }
    bool braced = i + 1 < t.size() && t[i + 1] == '{';
    size_t b = i + (braced ? 2 : 1), e = b;
    while (e < t.size() && (std::isalnum(static_cast<unsigned char>(t[e])) || t[e] == '_'))
      e++;
    std::string name(t.substr(b, e - b));
    auto it = env.find(name);
    bool ok = name.compare(0, filter.size(), filter) == 0 && it != env.end() &&
              (!braced || (e < t.size() && t[e] == '}'));
    if (!ok) {
      out += '$';
      continue;
    }
    out += it->second.value;
    i = braced ? e : e - 1;
  }
  return out;
}

std::optional<NginxService> derive_nginx(const Project &p, const std::string &name,
                                         const Value &svc, const ImageKind &image,
                                         const EnvFiles &env_files, const RootFs &fs) {
  NginxService s;
  s.subject = p.name + "/" + name;
  s.image = image;
  s.image_loc = p.where(svc.find("image")->where());
  auto env = service_environment(p, svc, env_files);
  nginx::ContainerView &v = s.view;
  v.image_loc = s.image_loc;
  // The bind mounts, in order, each target resolved in the container.
  if (const Value *vols = svc.find("volumes"); vols && vols->is_sequence())
    for (auto &item : vols->items) {
      auto m = parse_volume(item);
      if (!m || m->type != "bind" || m->target.empty() || m->target[0] != '/')
        continue;
      v.mounts.emplace_back(RootFs::join("/", m->target),
                            p.resolve(m->loc.line ? m->loc : item.where(), m->source));
    }
  v.files["/etc/nginx/nginx.conf"] = {
      std::string(image.unprivileged ? k_nginx_conf_unprivileged : k_nginx_conf), ""};
  v.files["/etc/nginx/conf.d/default.conf"] = {default_conf(image.unprivileged), ""};
  // Files the package ships that configurations include; their contents
  // (MIME types, FastCGI parameters, charset maps) hold no TLS setting.
  for (const char *f : {"mime.types", "fastcgi_params", "fastcgi.conf", "scgi_params",
                        "uwsgi_params", "koi-utf", "koi-win", "win-utf"})
    v.files[std::string("/etc/nginx/") + f] = {"", ""};

  // The program the container runs: the image's entrypoint execs the
  // command; `nginx -c FILE` names another main file. Other programs (a
  // shell that starts nginx among other things) still read the default
  // file unless they say -c, which is looked for in their words.
  std::vector<Diagnostic> cmd_problems;
  auto entry = words_of(p, svc.find("entrypoint"), cmd_problems);
  auto cmd = words_of(p, svc.find("command"), cmd_problems);
  s.problems.insert(s.problems.end(), cmd_problems.begin(), cmd_problems.end());
  bool own_entrypoint = entry && !entry->empty() &&
                        services_basename_of(entry->front().text) != "docker-entrypoint.sh";
  std::string main = "/etc/nginx/nginx.conf";
  std::vector<redis::Arg> words;
  if (entry && own_entrypoint)
    words = *entry;
  if (cmd)
    words.insert(words.end(), cmd->begin(), cmd->end());
  // A shell's script: its words, as far as they split.
  std::vector<redis::Arg> expanded;
  for (size_t i = 0; i < words.size(); i++) {
    if (is_shell(words[i].text) && i + 2 < words.size() && words[i + 1].text == "-c") {
      if (auto w = shell_split(words[i + 2].text))
        for (auto &x : *w)
          expanded.push_back({x, words[i + 2].loc});
      i += 2;
      continue;
    }
    expanded.push_back(words[i]);
  }
  bool seen_nginx = false;
  for (size_t i = 0; i < expanded.size(); i++) {
    std::string b = services_basename_of(expanded[i].text);
    if (b == "nginx" || b == "nginx-debug")
      seen_nginx = true;
    else if (seen_nginx && expanded[i].text == "-c" && i + 1 < expanded.size())
      main = RootFs::join("/etc/nginx", expanded[i + 1].text);
    else if (seen_nginx && expanded[i].text.rfind("-c", 0) == 0 && expanded[i].text.size() > 2 &&
             expanded[i].text[2] != '-')
      main = RootFs::join("/etc/nginx", expanded[i].text.substr(2));
  }

  // Templates the entrypoint renders into conf.d at start (the image's
  // 20-envsubst-on-templates.sh), read from a bind-mounted template dir.
  if (!own_entrypoint) {
    auto var = [&](const char *n, const char *def) {
      auto it = env.find(n);
      return it == env.end() || it->second.value.empty() ? std::string(def) : it->second.value;
    };
    std::string tdir =
        RootFs::join("/", var("NGINX_ENVSUBST_TEMPLATE_DIR", "/etc/nginx/templates"));
    std::string suffix = var("NGINX_ENVSUBST_TEMPLATE_SUFFIX", ".template");
    std::string odir = RootFs::join("/", var("NGINX_ENVSUBST_OUTPUT_DIR", "/etc/nginx/conf.d"));
    std::string filter;
    if (auto f = env.find("NGINX_ENVSUBST_FILTER"); f != env.end())
      filter = f->second.value;
    if (auto host = v.host_path(tdir)) {
      auto list = fs.glob(RootFs::join(*host, "*" + suffix));
      if (!list) {
        s.problems.push_back(services_problem("cannot list the nginx templates in " + *host + ": " +
                                                  list.error().message,
                                              s.image_loc));
      } else {
        if (list->size() > static_cast<size_t>(nginx::k_max_files)) {
          s.problems.push_back(services_problem("more than " + std::to_string(nginx::k_max_files) +
                                                    " nginx templates in " + *host +
                                                    "; the rest is not read",
                                                s.image_loc));
          list->resize(static_cast<size_t>(nginx::k_max_files));
        }
        for (auto &h : *list) {
          auto text = fs.read_file(h);
          if (!text) {
            s.problems.push_back(services_problem(
                "cannot read the nginx template " + h + ": " + text.error().message, {h, 0}));
            continue;
          }
          std::string rel = h.substr(host->size() + (*host == "/" ? 0 : 1));
          rel = rel.substr(0, rel.size() - suffix.size());
          v.files[RootFs::join(odir, rel)] = {envsubst(*text, env, filter), h};
        }
      }
    }
  }
  s.tree = nginx::load_in_container(fs, v, main);
  // TLSv1.3 in and TLSv1/TLSv1.1 out of the default since 1.23.4: a tag
  // that names an older version keeps the old default; no version (latest,
  // stable, alpine, mainline) is a current one.
  bool old = image.major == 1 && image.minor >= 0 && image.minor < 23;
  s.endpoints = nginx::endpoints(s.tree, old ? nginx::k_default_protocols_before_1_23_4
                                             : nginx::k_default_protocols_since_1_23_4);
  for (auto &e : s.endpoints) {
    e.service = s.subject;
    e.subject = s.subject + " " + e.subject;
    // Defaults are the image's: cite its line.
    for (TlsSetting *t : {&e.protocols, &e.ciphers, &e.ciphersuites, &e.prefer_server_ciphers})
      if (t->is_default)
        t->loc = s.image_loc;
  }
  return s;
}

} // namespace

int leading_int(std::string_view s) {
  int v = 0;
  size_t i = 0;
  for (; i < s.size() && std::isdigit(static_cast<unsigned char>(s[i])) && v < 100000; i++)
    v = v * 10 + (s[i] - '0');
  return i == 0 ? 0 : v;
}

ImageRef split_image_ref(std::string_view image) {
  std::string_view ref = image;
  if (size_t at = ref.find('@'); at != std::string_view::npos)
    ref = ref.substr(0, at);
  std::string_view tag;
  size_t slash = ref.rfind('/');
  size_t colon = ref.rfind(':');
  if (colon != std::string_view::npos && (slash == std::string_view::npos || colon > slash)) {
    tag = ref.substr(colon + 1);
    ref = ref.substr(0, colon);
  }
  // A first component with a dot or a port, or "localhost", is a registry.
  std::string name(ref);
  if (size_t first = name.find('/'); first != std::string::npos) {
    std::string reg = name.substr(0, first);
    if (reg.find_first_of(".:") != std::string::npos || reg == "localhost")
      name = name.substr(first + 1);
  }
  return {std::move(name), tag};
}

std::optional<ImageKind> recognise_image(std::string_view image) {
  auto [name, tag] = split_image_ref(image);
  if (name.rfind("library/", 0) == 0)
    name = name.substr(8);
  ImageKind k;
  k.major = leading_int(tag);
  if (size_t dot = tag.find('.'); k.major && dot != std::string_view::npos &&
                                  dot + 1 < tag.size() &&
                                  std::isdigit(static_cast<unsigned char>(tag[dot + 1])))
    k.minor = leading_int(tag.substr(dot + 1));
  if (name == "nginx" || name == "nginxinc/nginx-unprivileged") {
    k.kind = ServiceKind::nginx;
    k.unprivileged = name != "nginx";
    return k;
  }
  if (name == "valkey/valkey") {
    k.kind = ServiceKind::redis;
    k.valkey = true;
    return k;
  }
  if (name == "bitnami/postgresql") {
    k.kind = ServiceKind::postgres;
    k.bitnami = true;
    return k;
  }
  if (name == "postgres") {
    k.kind = ServiceKind::postgres;
    return k;
  }
  if (name == "redis") {
    k.kind = ServiceKind::redis;
    return k;
  }
  if (name == "bitnami/redis") {
    k.kind = ServiceKind::redis;
    k.bitnami = true;
    return k;
  }
  return std::nullopt;
}

std::optional<std::vector<std::string>> shell_split(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  bool in_word = false;
  for (size_t i = 0; i < s.size(); i++) {
    char c = s[i];
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r') {
      if (in_word)
        out.push_back(std::move(cur));
      cur.clear();
      in_word = false;
      continue;
    }
    in_word = true;
    if (c == '\\' && i + 1 < s.size()) {
      cur += s[++i];
    } else if (c == '\'') {
      size_t e = s.find('\'', i + 1);
      if (e == std::string_view::npos)
        return std::nullopt;
      cur += s.substr(i + 1, e - i - 1);
      i = e;
    } else if (c == '"') {
      // Inside double quotes a backslash escapes only " \ $ (and `).
      size_t k = i + 1;
      for (; k < s.size() && s[k] != '"'; k++) {
        if (s[k] == '\\' && k + 1 < s.size() &&
            (s[k + 1] == '"' || s[k + 1] == '\\' || s[k + 1] == '$' || s[k + 1] == '`'))
          k++;
        cur += s[k];
      }
      if (k >= s.size())
        return std::nullopt;
      i = k;
    } else {
      cur += c;
    }
  }
  if (in_word)
    out.push_back(std::move(cur));
  return out;
}

std::optional<MountedFile> mounted_file(const Project &p, const Value &service,
                                        std::string_view container_path) {
  const Value *vols = service.find("volumes");
  if (!vols || !vols->is_sequence() || container_path.empty() || container_path[0] != '/')
    return std::nullopt;
  std::string want = RootFs::join("/", container_path);
  std::optional<MountedFile> best;
  size_t best_len = 0;
  for (auto &item : vols->items) {
    auto m = parse_volume(item);
    if (!m || m->type != "bind" || m->target.empty())
      continue;
    std::string target = RootFs::join("/", m->target);
    std::string rest;
    if (want == target) {
      rest = "";
    } else if (want.size() > target.size() && want.compare(0, target.size(), target) == 0 &&
               (target == "/" || want[target.size()] == '/')) {
      rest = want.substr(target == "/" ? 1 : target.size() + 1);
    } else {
      continue;
    }
    // The longest target wins, as the kernel stacks the mounts.
    if (best && target.size() < best_len)
      continue;
    std::string source = p.resolve(m->loc.line ? m->loc : item.where(), m->source);
    best = MountedFile{rest.empty() ? source : join_path(source, rest), item.where()};
    best_len = target.size();
  }
  return best;
}

std::map<std::string, EnvValue> service_environment(const Project &p, const Value &service,
                                                    const EnvFiles &env_files) {
  std::map<std::string, EnvValue> out;
  for (const compose::EnvFileEntry &ef : env_file_entries(service)) {
    auto it = env_files.find(p.resolve(ef.path->where(), ef.path->str()));
    if (it == env_files.end())
      continue;
    for (auto &e : it->second.entries)
      if (e.has_value)
        out[e.key] = EnvValue{e.value, e.loc};
  }
  if (const Value *env = service.find("environment"); env && env->is_mapping())
    for (auto &[k, v] : env->entries)
      if (!v.is_null())
        out[k] = EnvValue{v.str(), p.where(v.where())};
  return out;
}

Reach service_reach(const Project &p, const Value &service, int port) {
  return reach_of(p, service, port);
}

std::vector<size_t> public_ports(const Reach &r) {
  std::vector<size_t> out;
  for (size_t k = 0; k < r.published.size(); k++) {
    std::string h = r.published[k].host_ip;
    if (h.size() > 2 && h.front() == '[' && h.back() == ']')
      h = h.substr(1, h.size() - 2);
    bool closed = h.rfind("127.", 0) == 0 || h == "::1" || text::iequals(h, "localhost") ||
                  h.rfind("10.", 0) == 0 || h.rfind("192.168.", 0) == 0 ||
                  (h.rfind("172.", 0) == 0 && leading_int(h.substr(4)) >= 16 &&
                   leading_int(h.substr(4)) <= 31) ||
                  h.rfind("fd", 0) == 0 || h.rfind("fc", 0) == 0;
    if (!closed)
      out.push_back(k);
  }
  return out;
}

Services derive_services(const Project &p, const EnvFiles &env_files, const RootFs &fs) {
  Services out;
  const Value *svcs = p.services();
  if (!svcs || !svcs->is_mapping())
    return out;
  for (auto &[name, svc] : svcs->entries) {
    if (!svc.is_mapping())
      continue;
    const Value *img = svc.find("image");
    if (!img || !img->is_scalar())
      continue;
    // With `build:`, `image:` names what the Dockerfile builds (FROM the
    // official image, often with its own configuration COPYed in): the
    // official image's defaults are not that image's.
    if (svc.find("build"))
      continue;
    auto kind = recognise_image(img->str());
    if (!kind)
      continue;
    if (kind->kind == ServiceKind::nginx) {
      if (auto n = derive_nginx(p, name, svc, *kind, env_files, fs))
        out.nginx.push_back(std::move(*n));
    } else if (kind->kind == ServiceKind::redis) {
      if (auto r = derive_redis(p, name, svc, *kind, env_files, fs))
        out.redis.push_back(std::move(*r));
    } else if (kind->bitnami) {
      if (auto g = derive_bitnami_postgres(p, name, svc, *kind, env_files, fs))
        out.postgres.push_back(std::move(*g));
    } else if (auto g = derive_postgres(p, name, svc, *kind, env_files, fs)) {
      out.postgres.push_back(std::move(*g));
    }
  }
  return out;
}

} // namespace bulwark::compose
