// redis.*: every Redis instance configured on the target (Debian's
// /etc/redis/redis.conf and redis-NAME.conf instances, /etc/redis.conf),
// read the way redis-server 7.0 reads it (src/parse/redis_conf.cpp), and,
// with --live, what an unauthenticated client actually gets on each bound
// loopback address and the unix socket. Passwords never appear in findings.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/compose_services.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/redis_conf.hpp>
#include <bulwark/parse/tls_policy.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <set>

namespace bulwark {

namespace {

struct RedisInstance {
  std::string path;
  redis::RedisConfig cfg;
  // A compose service's server (subject "<project>/<service>"): the image's
  // defaults, environment, command line and mounted file made one
  // configuration; `path` is the mounted file, else the compose file.
  const compose::RedisService *container = nullptr;
  std::string subject; // the host's: its configuration file
  // tls-key-file as the redis account can open it (Debian's
  // redis-server.service runs User=redis), when one is set.
  std::string key_path;
  std::optional<ReadAccess> key_access;
};
struct RedisModel {
  std::vector<RedisInstance> instances;
};

RedisModel load_redis_model(const RootFs &fs) {
  RedisModel m;
  std::vector<std::string> candidates;
  for (const char *pattern : {"/etc/redis/redis.conf", "/etc/redis/redis-*.conf", "/etc/redis.conf",
                              "/usr/local/etc/redis.conf", "/usr/local/etc/redis/redis.conf"})
    if (auto g = fs.glob(pattern)) {
      std::vector<std::string> found = *g;
      // glob() leaves out a name that cannot be resolved (a link loop, no
      // permission); it is still a configuration, one that cannot be read,
      // and load_redis_conf() says so (fail closed, not "no Redis").
      if (found.empty() && std::string_view(pattern).find('*') == std::string_view::npos)
        if (auto st = fs.stat(pattern); !st && !st.error().not_found() && fs.lstat(pattern))
          found.push_back(pattern);
      for (auto &p : found)
        if (std::find(candidates.begin(), candidates.end(), p) == candidates.end())
          candidates.push_back(p);
    }
  std::set<std::string> included;
  for (auto &p : candidates) {
    if (included.count(p))
      continue;
    RedisInstance i{p, redis::load_redis_conf(fs, p), nullptr, p, "", std::nullopt};
    for (size_t k = 1; k < i.cfg.files.size(); k++)
      included.insert(i.cfg.files[k]);
    if (const redis::Directive *k = i.cfg.get("tls-key-file"); k && !k->args.empty()) {
      // A relative name is opened from redis-server's working directory,
      // which Debian's unit does not set: the configuration's own folder is
      // the closest guess.
      i.key_path = RootFs::join(p.substr(0, p.rfind('/') + 1), k->args[0]);
      i.key_access = read_access(fs, i.key_path, "redis");
    }
    m.instances.push_back(std::move(i));
  }
  // A file another instance includes is a fragment, not an instance.
  m.instances.erase(std::remove_if(m.instances.begin(), m.instances.end(),
                                   [&](const RedisInstance &i) { return included.count(i.path); }),
                    m.instances.end());
  return m;
}

const RedisModel &redis_model(CheckRun &run) {
  return run.ctx().model<RedisModel>([&] {
    RedisModel m = load_redis_model(run.ctx().fs());
    for (auto &s : run.ctx().get<ComposeServicesModel>().redis) {
      RedisInstance i;
      i.path = s.cfg.files.empty() ? s.image_loc.path : s.cfg.files.front();
      i.cfg = s.cfg;
      i.container = &s;
      i.subject = s.subject;
      m.instances.push_back(std::move(i));
    }
    return m;
  });
}

bool for_instances(CheckRun &run, void (*f)(CheckRun &, const RedisInstance &)) {
  const RedisModel &m = redis_model(run);
  if (m.instances.empty()) {
    run.emit(Status::not_applicable, "",
             "no Redis configuration (/etc/redis/redis.conf) and no compose service of a Redis "
             "image");
    return false;
  }
  for (auto &i : m.instances)
    f(run, i);
  return true;
}

std::vector<Evidence> errors(const RedisInstance &i) {
  std::vector<Evidence> out;
  if (i.container)
    for (auto &d : i.container->problems)
      out.push_back({d.loc.path, d.loc.line, d.message,
                     "a configuration bulwark can derive from the compose file", "compose"});
  for (auto &d : i.cfg.diagnostics)
    if (d.level == redis::Diagnostic::Level::error)
      out.push_back({d.loc.path, d.loc.line, d.message,
                     "no errors (redis-server refuses to start with a fatal config error)",
                     "parse"});
  return out;
}

void redis_verdict(CheckRun &run, const RedisInstance &i, bool ok, std::string msg,
                   std::vector<Evidence> ev) {
  auto errs = errors(i);
  if (i.container && !errs.empty()) {
    // What the container runs is not known: its defaults would be a guess,
    // whichever way they point.
    ev.insert(ev.begin(), errs.begin(), errs.end());
    run.emit(Status::error, i.subject,
             "the configuration cannot be derived: " + errs.front().path + ":" +
                 std::to_string(errs.front().line) + ": " + errs.front().found,
             std::move(ev));
    return;
  }
  if (!ok) {
    ev.insert(ev.end(), errs.begin(), errs.end());
    run.emit(Status::fail, i.subject, std::move(msg), std::move(ev));
    return;
  }
  if (!errs.empty()) {
    // Fail closed: redis-server refuses such a file, so what runs is not it.
    ev.insert(ev.end(), errs.begin(), errs.end());
    run.emit(Status::error, i.subject,
             msg + "; but " + errs.front().path + ":" + std::to_string(errs.front().line) + ": " +
                 errs.front().found,
             std::move(ev));
    return;
  }
  run.emit(Status::pass, i.subject, std::move(msg), std::move(ev));
}

struct RedisSetting {
  std::vector<std::string> args;
  SourceLocation loc;
  bool is_default = true;
};

RedisSetting setting(const RedisInstance &i, const std::string &name,
                     std::vector<std::string> def) {
  if (const redis::Directive *d = i.cfg.get(name))
    return {d->args, d->loc, false};
  return {std::move(def), {i.path, 0}, true};
}

std::string redis_shown(const RedisSetting &s, const std::string &name) {
  if (s.is_default)
    return name + " not set (Redis 7.0 default " + text::join(s.args, " ") + ")";
  return name + " " + text::printable(text::join(s.args, " "));
}

int port_of(const RedisSetting &s) {
  char *end = nullptr;
  long v = s.args.empty() ? -1 : std::strtol(s.args[0].c_str(), &end, 10);
  return (s.args.empty() || *end != '\0') ? -1 : static_cast<int>(v);
}

// Addresses a client can reach the instance on (bind with '-' removed).
std::vector<std::string> bind_addresses(const RedisSetting &b) {
  std::vector<std::string> out;
  for (auto &a : b.args)
    if (!a.empty())
      out.push_back(a[0] == '-' ? a.substr(1) : a);
  return out;
}

enum class Scope { loopback, internal, any, public_ };

Scope scope_of(const std::string &a) {
  if (a == "*" || a == "::*" || a == "0.0.0.0" || a == "::")
    return Scope::any;
  if (text::iequals(a, "localhost"))
    return Scope::loopback;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1) {
    uint32_t h = ntohl(v4.s_addr);
    if ((h >> 24) == 127)
      return Scope::loopback;
    if ((h >> 24) == 10 || (h >> 20) == (172u << 4 | 1) || (h >> 16) == (192u << 8 | 168) ||
        (h >> 22) == ((100u << 2) | 1) || (h >> 16) == (169u << 8 | 254))
      return Scope::internal;
    return Scope::public_;
  }
  if (inet_pton(AF_INET6, a.c_str(), &v6) == 1) {
    static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    if (std::memcmp(v6.s6_addr, lo, 16) == 0)
      return Scope::loopback;
    if ((v6.s6_addr[0] & 0xfe) == 0xfc || (v6.s6_addr[0] == 0xfe && (v6.s6_addr[1] & 0xc0) == 0x80))
      return Scope::internal;
    return Scope::public_;
  }
  return Scope::public_; // a host name: cannot be judged offline
}

Evidence user_evidence(const redis::AclUser &u, std::string found, std::string expected) {
  return Evidence{u.loc.path, u.loc.line, std::move(found), std::move(expected),
                  "ACL user " + text::printable(u.name, 40)};
}

// Live probes of one instance: each bound loopback address and the socket.
std::vector<live::RedisProbeResult> redis_probes(Context &ctx, const RedisInstance &i) {
  std::vector<live::RedisProbeResult> out;
  if (i.container)
    return out; // the host's loopback is not the container's
  RedisSetting port = setting(i, "port", {"6379"});
  int p = port_of(port);
  // tls-port listens on the same bound addresses, speaking TLS.
  int tp = port_of(setting(i, "tls-port", {"0"}));
  if (p > 0 || tp > 0) {
    std::set<std::string> hosts;
    for (auto &a : bind_addresses(setting(i, "bind", {"*", "-::*"}))) {
      Scope s = scope_of(a);
      if (s == Scope::any)
        hosts.insert(a.find(':') != std::string::npos ? "::1" : "127.0.0.1");
      else if (s == Scope::loopback)
        hosts.insert(text::iequals(a, "localhost") ? "127.0.0.1" : a);
    }
    for (auto &h : hosts) {
      if (p > 0)
        out.push_back(ctx.probes().redis(h, p));
      if (tp > 0)
        out.push_back(ctx.probes().redis_tls(h, tp));
    }
  }
  if (const redis::Directive *sock = i.cfg.get("unixsocket"); sock && !sock->args[0].empty())
    out.push_back(ctx.probes().redis(sock->args[0], 0));
  return out;
}

void authentication(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    std::vector<Evidence> bad, good;
    const redis::AclUser *def = i.cfg.user("default");
    for (auto &u : i.cfg.users) {
      if (!u.enabled) {
        if (u.name == "default")
          good.push_back(user_evidence(u, "default user is off", "off, or a strong password"));
        continue;
      }
      if (u.nopass) {
        bad.push_back(user_evidence(u,
                                    u.name == "default"
                                        ? "default user: " + u.rules + ": no password at all"
                                        : "user " + u.name + " is on with nopass",
                                    "a strong password (>= 32 random characters)"));
        continue;
      }
      if (u.passwords.empty() && u.hashes == 0) {
        good.push_back(user_evidence(u, "user " + u.name + " has no password: nobody can log in",
                                     "a strong password"));
        continue;
      }
      bool weak = false;
      for (auto &pw : u.passwords) {
        auto s = redis::judge_password(pw);
        if (s.weak) {
          weak = true;
          bad.push_back(user_evidence(
              u, "user " + u.name + " has a weak password: " + s.reason + " " + redis::redact(pw),
              ">= 32 random characters"));
        }
      }
      if (!weak)
        good.push_back(user_evidence(u,
                                     "user " + u.name + " has " +
                                         (u.passwords.empty() ? std::to_string(u.hashes) +
                                                                    " hashed password(s) (strength "
                                                                    "cannot be judged)"
                                                              : "strong password(s)"),
                                     ">= 32 random characters"));
    }
    if (run.ctx().live())
      for (auto &p : redis_probes(run.ctx(), i)) {
        Evidence e{"", 0,
                   p.target + ": " + std::string(live::to_string(p.result)) + " (" + p.detail + ")",
                   "NOAUTH", "live probe"};
        if (p.result == live::RedisProbeResult::Outcome::pong) {
          const RedisSetting pm = setting(i, "protected-mode", {"yes"});
          if (!pm.args.empty() && text::iequals(pm.args[0], "yes") &&
              p.target.rfind("unix:", 0) != 0)
            e.found += "; a loopback client always passes protected mode, remote clients may "
                       "not";
          bad.insert(bad.begin(), e);
        } else if (p.result == live::RedisProbeResult::Outcome::protocol_error) {
          good.push_back(e);
        } else {
          good.push_back(e);
        }
      }
    // The file requires a password but the running server answers without
    // one (edited and never restarted, or started with other options): say
    // that the two disagree, with the file's evidence next to the probe's.
    bool config_bad = std::any_of(bad.begin(), bad.end(),
                                  [](const Evidence &e) { return e.context != "live probe"; });
    if (!bad.empty() && !config_bad) {
      // The file's own word: the line that sets the default user's password
      // (requirepass, a user line or the aclfile).
      std::string conf = def && !def->loc.path.empty() && def->loc.line > 0
                             ? def->loc.path + ":" + std::to_string(def->loc.line)
                             : i.path;
      std::vector<Evidence> ev = bad;
      ev.insert(ev.end(), good.begin(), good.end());
      redis_verdict(run, i, false,
                    "the running server disagrees with its configuration: " + conf +
                        " requires a password, but " + bad.front().found +
                        " (restart redis-server to load the file)",
                    ev);
      return;
    }
    if (!bad.empty()) {
      std::string msg = (bad.front().path.empty()
                             ? ""
                             : bad.front().path + ":" + std::to_string(bad.front().line) + ": ") +
                        bad.front().found;
      redis_verdict(run, i, false, msg, bad);
      return;
    }
    redis_verdict(run, i, true, "unauthenticated clients cannot run commands", good);
  });
}

// A server in a container on its own network: what bind allows inside the
// container matters less than who reaches the container. Ports published on
// every host interface or a public address open it to the network; ports
// published on loopback, or none, leave it to the host and the project's
// networks.
void container_bind(CheckRun &run, const RedisInstance &i, const Evidence &bind_ev) {
  const compose::Reach &r = i.container->reach;
  bool loopback_only = true;
  for (auto &a : bind_addresses(setting(i, "bind", {"*", "-::*"})))
    loopback_only = loopback_only && scope_of(a) == Scope::loopback;
  if (loopback_only) {
    redis_verdict(run, i, true, bind_ev.found + ": only the container itself can connect",
                  {bind_ev});
    return;
  }
  std::vector<Evidence> open, closed;
  for (size_t k = 0; k < r.published.size(); k++) {
    const compose::Port &pt = r.published[k];
    const SourceLocation &at = r.published_at[k];
    std::string host = pt.host_ip.empty() ? "0.0.0.0" : pt.host_ip;
    Evidence e{at.path, at.line,
               "published on " + host + ":" +
                   (pt.published.empty() ? "(ephemeral)" : pt.published) + " -> " +
                   std::to_string(r.port),
               "not published, or published on 127.0.0.1 or an internal address", "compose ports"};
    Scope s = scope_of(host);
    (s == Scope::any || s == Scope::public_ ? open : closed).push_back(e);
  }
  if (!open.empty()) {
    open.push_back(bind_ev);
    redis_verdict(run, i, false, open.front().found + ": every host interface forwards to Redis",
                  open);
    return;
  }
  closed.push_back(bind_ev);
  redis_verdict(run, i, true,
                r.published.empty() ? "port " + std::to_string(r.port) +
                                          " is not published: only the project's networks reach it"
                                    : "published on loopback or internal addresses only",
                closed);
}

void bind(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    RedisSetting b = setting(i, "bind", {"*", "-::*"});
    RedisSetting port = setting(i, "port", {"6379"});
    RedisSetting tls = setting(i, "tls-port", {"0"});
    Evidence e{b.loc.path, b.loc.line, redis_shown(b, "bind"),
               "loopback or internal addresses only", "redis.conf"};
    if (port_of(port) == 0 && port_of(tls) <= 0) {
      redis_verdict(
          run, i, true, "no TCP port (port 0, no tls-port): unix socket only",
          {Evidence{port.loc.path, port.loc.line, redis_shown(port, "port"), "", "redis.conf"}});
      return;
    }
    if (i.container && !i.container->reach.host_network) {
      container_bind(run, i, e);
      return;
    }
    std::vector<std::string> open;
    for (auto &a : bind_addresses(b)) {
      Scope s = scope_of(a);
      if (s == Scope::any || s == Scope::public_)
        open.push_back(a);
    }
    if (!open.empty()) {
      redis_verdict(run, i, false,
                    e.found + ": listens on " + text::join(open, ", ") +
                        (b.is_default ? " (every interface)" : ""),
                    {e});
      return;
    }
    redis_verdict(run, i, true, e.found, {e});
  });
}

void protected_mode(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    RedisSetting pm = setting(i, "protected-mode", {"yes"});
    Evidence e{pm.loc.path, pm.loc.line, redis_shown(pm, "protected-mode"), "protected-mode yes",
               "redis.conf"};
    std::string v = pm.args.empty() ? "" : text::lower(pm.args[0]);
    if (v != "yes" && v != "no") {
      run.emit(Status::error, i.subject,
               "protected-mode '" + text::printable(v) + "' is not yes or no (fatal for Redis)",
               {e});
      return;
    }
    const redis::AclUser *def = i.cfg.user("default");
    bool has_password =
        def && def->enabled && !def->nopass && (!def->passwords.empty() || def->hashes > 0);
    redis_verdict(run, i, v == "yes",
                  v == "yes" ? e.found
                  : has_password
                      ? e.found + ": no effect while the default user has a password, but "
                                  "nothing stops a passwordless default user from every "
                                  "network client if the password goes"
                      : e.found + ": a passwordless default user is open to every network client",
                  {e});
  });
}

void dangerous_commands(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    std::vector<Evidence> bad, good;
    for (const char *cmd : redis::k_dangerous) {
      std::string upper = text::lower(cmd);
      for (auto &c : upper)
        c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
      auto rn = i.cfg.renamed.find(cmd);
      if (rn != i.cfg.renamed.end() && rn->second.args[1].empty()) {
        good.push_back({rn->second.loc.path, rn->second.loc.line,
                        "rename-command " + upper + " \"\"", "disabled", "redis.conf"});
        continue;
      }
      std::string renamed_to;
      if (rn != i.cfg.renamed.end())
        renamed_to = " (renamed to " + text::printable(rn->second.args[1], 40) +
                     ": still callable by whoever knows the name)";
      std::vector<std::string> who;
      SourceLocation at{i.path, 0};
      for (auto &u : i.cfg.users) {
        if (!u.enabled)
          continue;
        auto it = u.may_run.find(cmd);
        if (it != u.may_run.end() && it->second) {
          who.push_back(u.name);
          if (at.line == 0) {
            auto d = u.decided_at.find(cmd);
            at = d != u.decided_at.end() && !d->second.path.empty() ? d->second : u.loc;
            if (at.path.empty())
              at = {i.path, 0};
          }
        }
      }
      if (who.empty()) {
        good.push_back({i.cfg.users.empty() ? i.path : i.cfg.users.front().loc.path, 0,
                        upper + " denied to every enabled ACL user", "disabled", "ACL"});
        continue;
      }
      bad.push_back({at.path, at.line, upper + " allowed for " + text::join(who, ", ") + renamed_to,
                     "rename-command " + upper + " \"\" or -@dangerous", "ACL"});
    }
    if (run.ctx().live())
      for (auto &p : redis_probes(run.ctx(), i))
        if (p.result == live::RedisProbeResult::Outcome::pong)
          for (auto &[cmd, v] : p.commands)
            if (v == "allowed" || v == "present")
              bad.push_back(
                  {"", 0,
                   p.target + ": " + text::lower(cmd) + " " + v + " for an unauthenticated client",
                   "denied or absent", "live probe"});
    if (!bad.empty()) {
      std::string what;
      for (auto &b : bad)
        what += (what.empty() ? "" : "; ") + b.found;
      redis_verdict(run, i, false, what, bad);
      return;
    }
    redis_verdict(run, i, true, "every dangerous command is disabled or denied", good);
  });
}

void acl(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    const redis::Directive *af = i.cfg.get("aclfile");
    if (af && !af->args[0].empty()) {
      redis_verdict(run, i, true, "ACL users come from " + af->args[0],
                    {Evidence{af->loc.path, af->loc.line, "aclfile " + text::printable(af->args[0]),
                              "aclfile or user lines", "redis.conf"}});
      return;
    }
    std::vector<Evidence> users;
    for (auto &d : i.cfg.directives)
      if (d.name == "user")
        users.push_back({d.loc.path, d.loc.line, "user " + text::printable(d.args[0], 40),
                         "aclfile or user lines", "redis.conf"});
    if (!users.empty()) {
      redis_verdict(run, i, true, std::to_string(users.size()) + " ACL user line(s)", users);
      return;
    }
    const redis::Directive *rp = i.cfg.get("requirepass");
    Evidence e = rp ? Evidence{rp->loc.path, rp->loc.line,
                               "requirepass " + redis::redact(rp->args[0]) + " only",
                               "aclfile or user lines", "redis.conf"}
                    : Evidence{i.path, 0, "no aclfile, no user lines, no requirepass",
                               "aclfile or user lines", "redis.conf"};
    redis_verdict(run, i, false,
                  e.found + ": every client shares the default user and its full permissions", {e});
  });
}

void tls(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    RedisSetting tp = setting(i, "tls-port", {"0"});
    RedisSetting port = setting(i, "port", {"6379"});
    Evidence et{tp.loc.path, tp.loc.line, redis_shown(tp, "tls-port"), "a TLS port", "redis.conf"};
    Evidence ep{port.loc.path, port.loc.line, redis_shown(port, "port"), "port 0", "redis.conf"};
    int t = port_of(tp), p = port_of(port);
    if (t <= 0) {
      redis_verdict(run, i, false, et.found + ": Redis speaks only plain text", {et, ep});
      return;
    }
    if (p != 0) {
      redis_verdict(run, i, false, ep.found + ": the plain-text port stays open next to tls-port",
                    {ep, et});
      return;
    }
    // redis-server reads tls-key-file as its own user at start; a key it
    // cannot read ends it with "Failed to configure TLS".
    // An absent key is not judged (images get theirs mounted at deployment).
    if (i.key_access && i.key_access->uid &&
        !(i.key_access->error && i.key_access->error->not_found())) {
      const ReadAccess &a = *i.key_access;
      const redis::Directive *k = i.cfg.get("tls-key-file");
      Evidence ek{k->loc.path, k->loc.line,
                  a.error ? "cannot check " + i.key_path + ": " + a.error->to_string() : a.why,
                  "readable by redis (0640 root:redis or 0600 redis)", "tls-key-file"};
      if (a.error || !a.readable) {
        redis_verdict(
            run, i, false,
            "TLS is configured, but redis-server cannot read its key and does not start: " +
                ek.found,
            {ek, et, ep});
        return;
      }
    }
    redis_verdict(run, i, true, "TLS only (" + et.found + ", port 0)", {et, ep});
  });
}

// --- second wave ----------------------------------------------------------

void redis_config_permissions(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    const RootFs &fs = run.ctx().fs();
    std::optional<long long> redis_uid;
    for (auto &p : run.ctx().accounts().passwd)
      if (p.name == "redis")
        redis_uid = p.uid;
    if (i.container && i.container->cfg.files.empty()) {
      run.emit(
          Status::not_applicable, i.subject,
          "no configuration file is mounted: the settings are in the compose file",
          {Evidence{i.container->image_loc.path, i.container->image_loc.line, "", "", "compose"}});
      return;
    }
    std::vector<std::string> files{i.path};
    if (!i.cfg.aclfile.empty())
      files.push_back(i.cfg.aclfile);
    std::vector<Evidence> bad, good;
    for (auto &f : files) {
      auto st = fs.stat(f);
      if (!st) {
        run.emit(Status::error, i.subject, "cannot stat " + f + ": " + st.error().message,
                 {Evidence{f, 0, st.error().message, "0640 owned by redis", "redis"}});
        return;
      }
      // A mounted file's owner is the host's account, not the container's.
      bool owner_ok = i.container || (redis_uid && static_cast<long long>(st->uid) == *redis_uid) ||
                      st->uid == 0;
      bool mode_ok = (st->mode & 0027) == 0;
      Evidence e{f, 0, "mode " + text::octal_mode(st->mode) + " uid " + std::to_string(st->uid),
                 "0640 or stricter, owned by redis (or root)", "redis"};
      (owner_ok && mode_ok ? good : bad).push_back(e);
    }
    if (!bad.empty()) {
      run.emit(Status::fail, i.subject,
               bad.front().path + " is " + bad.front().found +
                   ": others can read the passwords in it, or a non-root user can change it",
               bad);
      return;
    }
    run.emit(Status::pass, i.subject,
             "redis.conf" + std::string(files.size() > 1 ? " and the ACL file" : "") +
                 " are 0640 or stricter",
             good);
  });
}

void tls_protocols(CheckRun &run) {
  for_instances(run, [](CheckRun &run, const RedisInstance &i) {
    RedisSetting tp = setting(i, "tls-port", {"0"});
    if (port_of(tp) <= 0) {
      run.emit(Status::not_applicable, i.subject, "TLS is off (redis.tls reports it)",
               {Evidence{tp.loc.path, tp.loc.line, redis_shown(tp, "tls-port"), "", "redis.conf"}});
      return;
    }
    // Redis 7.0's default protocols: TLSv1.2 and TLSv1.3.
    RedisSetting pr = setting(i, "tls-protocols", {"TLSv1.2 TLSv1.3"});
    RedisSetting ci = setting(i, "tls-ciphers", {"DEFAULT"});
    RedisSetting cs = setting(i, "tls-ciphersuites", {""});
    std::vector<Evidence> bad, good;
    Evidence pe{pr.loc.path, pr.loc.line, redis_shown(pr, "tls-protocols"), "TLSv1.2 TLSv1.3",
                "redis.conf"};
    bool old = false;
    for (auto &a : pr.args)
      for (auto &w : text::split(a, ' ')) {
        std::string l = text::lower(w);
        old |= l == "tlsv1" || l == "tlsv1.1" || l == "sslv3";
      }
    (old ? bad : good).push_back(pe);
    const tls::Guideline &g = tls::mozilla();
    Evidence ce{ci.loc.path, ci.loc.line, redis_shown(ci, "tls-ciphers"),
                "forward-secret AEAD suites (Mozilla intermediate)", "redis.conf"};
    auto expanded = tls::expand_cipher_string(text::join(ci.args, " "));
    if (!expanded) {
      redis_verdict(run, i, false, "OpenSSL rejects tls-ciphers: " + expanded.error().message,
                    {ce});
      return;
    }
    std::vector<std::string> weak;
    for (auto &c : *expanded)
      if (std::string w = tls::weakness(c, g); !w.empty() && !tls::weakness_is_advice(c, g))
        weak.push_back(c.name + " (" + w + ")");
    if (!weak.empty())
      ce.found += " -> " + text::join(weak, ", ");
    (weak.empty() ? good : bad).push_back(ce);
    if (!cs.is_default) {
      Evidence se{cs.loc.path, cs.loc.line, redis_shown(cs, "tls-ciphersuites"), "TLS 1.3 suites",
                  "redis.conf"};
      auto x = tls::expand_ciphersuites(text::join(cs.args, " "));
      if (!x) {
        se.found += ": " + x.error().message;
        bad.push_back(se);
      } else {
        good.push_back(se);
      }
    }
    if (!bad.empty()) {
      std::string what;
      for (auto &b : bad)
        what += (what.empty() ? "" : "; ") + b.found;
      redis_verdict(run, i, false, what, bad);
      return;
    }
    redis_verdict(run, i, true, "TLS 1.2 and 1.3 only, with strong suites", good);
  });
}

constexpr CheckImpl k_redis_checks[] = {
    {"redis.authentication", authentication},
    {"redis.bind", bind},
    {"redis.protected-mode", protected_mode},
    {"redis.dangerous-commands", dangerous_commands},
    {"redis.acl", acl},
    {"redis.tls", tls},
    {"redis.config-permissions", redis_config_permissions},
    {"redis.tls-protocols", tls_protocols},
};

// Settings whose values are secrets.
bool secret(const std::string &name) {
  return name == "requirepass" || name == "masterauth" || name == "tls-key-file-pass" ||
         name == "tls-client-key-file-pass";
}

} // namespace

std::span<const CheckImpl> redis_checks() {
  return k_redis_checks;
}

nlohmann::ordered_json facts_redis(Context &ctx) {
  using nlohmann::ordered_json;
  RedisModel m = load_redis_model(ctx.fs());
  ordered_json instances = ordered_json::array();
  for (auto &i : m.instances) {
    ordered_json j;
    j["config_file"] = i.path;
    j["files"] = i.cfg.files;
    ordered_json settings = ordered_json::object();
    for (auto &[name, d] : i.cfg.last) {
      ordered_json args = ordered_json::array();
      for (auto &a : d.args)
        args.push_back(secret(name) ? redis::redact(a) : text::printable(a));
      settings[name] = {{"value", args}, {"at", d.loc.path + ":" + std::to_string(d.loc.line)}};
    }
    j["settings"] = settings;
    ordered_json renamed = ordered_json::object();
    for (auto &[cmd, d] : i.cfg.renamed)
      renamed[cmd] = {{"to", d.args[1]}, {"at", d.loc.path + ":" + std::to_string(d.loc.line)}};
    j["renamed_commands"] = renamed;
    ordered_json users = ordered_json::array();
    for (auto &u : i.cfg.users) {
      ordered_json uj;
      uj["name"] = u.name;
      uj["at"] = u.loc.path + ":" + std::to_string(u.loc.line);
      uj["enabled"] = u.enabled;
      uj["nopass"] = u.nopass;
      ordered_json pws = ordered_json::array();
      for (auto &p : u.passwords) {
        auto s = redis::judge_password(p);
        pws.push_back({{"password", redis::redact(p)}, {"weak", s.weak}, {"reason", s.reason}});
      }
      uj["passwords"] = pws;
      uj["hashed_passwords"] = u.hashes;
      uj["rules"] = u.rules;
      ordered_json may = ordered_json::object();
      for (auto &[cmd, ok] : u.may_run)
        may[cmd] = ok;
      uj["dangerous_commands"] = may;
      users.push_back(uj);
    }
    j["users"] = users;
    ordered_json diags = ordered_json::array();
    for (auto &d : i.cfg.diagnostics)
      diags.push_back({{"level", d.level == redis::Diagnostic::Level::error     ? "error"
                                 : d.level == redis::Diagnostic::Level::warning ? "warning"
                                                                                : "info"},
                       {"at", d.loc.path + ":" + std::to_string(d.loc.line)},
                       {"message", d.message}});
    j["diagnostics"] = diags;
    if (ctx.live()) {
      ordered_json pj = ordered_json::array();
      for (auto &p : redis_probes(ctx, i)) {
        ordered_json cmds = ordered_json::object();
        for (auto &[c, v] : p.commands)
          cmds[c] = v;
        pj.push_back({{"target", p.target},
                      {"result", std::string(live::to_string(p.result))},
                      {"detail", p.detail},
                      {"commands", cmds}});
      }
      j["live"] = pj;
    }
    instances.push_back(j);
  }
  return {{"instances", instances}};
}

} // namespace bulwark
