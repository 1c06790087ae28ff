// postgres.*: every PostgreSQL cluster of the target, from its files as the
// server reads them (postgresql.conf with includes and postgresql.auto.conf,
// last value wins; pg_hba.conf, first matching rule wins), and, with --live,
// from the running server. Clusters are found in Debian's layout
// (/etc/postgresql/VERSION/CLUSTER/, subject "15/main") and in the data
// directories other distributions and the official image use.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/compose_services.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/pg_hba.hpp>
#include <bulwark/parse/postgresql_conf.hpp>
#include <bulwark/parse/tls_policy.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <optional>
#include <set>

namespace bulwark {

namespace {

struct PgCluster {
  std::string subject; // "15/main", or the data directory elsewhere
  int major = 15;
  std::string conf_path; // postgresql.conf
  std::string data_dir;
  std::string hba_path;
  pg::Config conf;
  pg::HbaFile hba;
  pg::HbaOptions hba_opts;
  // pg::shadowed_by() of each rule, computed once (near-linear); when the
  // analysis ran out of budget its error is among hba.diagnostics.
  std::vector<int> hba_shadowed_by;
  // With ssl on: the server key (ssl_key_file, relative to the data
  // directory) as the postgres account can open it.
  std::string key_path;
  std::optional<ReadAccess> key_access;
  // A compose service's server (subject "<project>/<service>"): the image's
  // defaults, environment, command line and mounted files made one
  // configuration. Its data directory is a volume, not read offline.
  const compose::PgService *container = nullptr;
};

struct PgModel {
  std::vector<PgCluster> clusters;
};

// PostgreSQL 15's built-in values of the settings the checks read.
struct Default {
  const char *name;
  const char *value;
};
constexpr Default k_postgres_defaults[] = {
    {"ssl", "off"},
    {"ssl_min_protocol_version", "TLSv1.2"},
    {"password_encryption", "scram-sha-256"},
    {"listen_addresses", "localhost"},
    {"max_connections", "100"},
    {"log_connections", "off"},
    {"log_disconnections", "off"},
    {"log_statement", "none"},
    {"port", "5432"},
};

int parse_major(std::string_view s) {
  int v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      break;
    v = v * 10 + (c - '0');
  }
  return v;
}

PgCluster load_cluster(const RootFs &fs, const std::string &conf_path, std::string subject,
                       int major, std::optional<std::string> default_data_dir) {
  PgCluster c;
  c.subject = std::move(subject);
  c.conf_path = conf_path;
  c.major = major;
  // The first pass finds data_directory; auto.conf is read from it.
  pg::Config first;
  pg::parse_conf_file(fs, conf_path, true, first);
  std::string data_dir;
  if (const pg::Setting *d = first.get("data_directory"); d && !d->value.empty())
    data_dir = RootFs::join(conf_path.substr(0, conf_path.rfind('/') + 1), d->value);
  else if (default_data_dir)
    data_dir = *default_data_dir;
  else
    data_dir = conf_path.substr(0, conf_path.rfind('/'));
  c.data_dir = data_dir;
  c.conf = pg::load_postgresql_conf(fs, conf_path, data_dir);
  if (c.major == 0)
    if (auto v = fs.read_file(RootFs::join(data_dir, "PG_VERSION"), 64))
      c.major = parse_major(*v);
  if (c.major == 0)
    c.major = 15;
  if (const pg::Setting *h = c.conf.get("hba_file"); h && !h->value.empty())
    c.hba_path = RootFs::join(data_dir, h->value);
  else
    c.hba_path = RootFs::join(data_dir, "pg_hba.conf");
  c.hba_opts.major_version = c.major;
  const pg::Setting *ssl = c.conf.get("ssl");
  c.hba_opts.ssl_enabled = ssl && pg::parse_bool(ssl->value).value_or(false);
  if (c.hba_opts.ssl_enabled) {
    const pg::Setting *k = c.conf.get("ssl_key_file");
    c.key_path = RootFs::join(data_dir, k && !k->value.empty() ? k->value : "server.key");
    // Debian's clusters run as the postgres account (pg_ctlcluster: the
    // owner of the data directory, which the packages make postgres).
    c.key_access = read_access(fs, c.key_path, "postgres");
  }
  c.hba = pg::load_pg_hba(fs, c.hba_path, c.hba_opts);
  pg::HbaShadowing sh = pg::shadowing(c.hba, c.hba_opts);
  c.hba_shadowed_by = std::move(sh.by);
  if (sh.exhausted)
    c.hba.diagnostics.push_back(std::move(*sh.exhausted));
  return c;
}

PgModel load_postgres_model(const RootFs &fs) {
  PgModel m;
  std::set<std::string> seen;
  if (auto confs = fs.glob("/etc/postgresql/*/*/postgresql.conf"))
    for (auto &p : *confs) {
      // /etc/postgresql/15/main/postgresql.conf
      auto parts = text::split(p, '/');
      if (parts.size() < 5)
        continue;
      std::string version = parts[2], name = parts[3];
      seen.insert(p);
      m.clusters.push_back(load_cluster(fs, p, version + "/" + name, parse_major(version),
                                        "/var/lib/postgresql/" + version + "/" + name));
    }
  // Red Hat's layout, the official container image, source installs.
  for (const char *pattern :
       {"/var/lib/pgsql/data/postgresql.conf", "/var/lib/pgsql/*/data/postgresql.conf",
        "/var/lib/postgresql/data/postgresql.conf", "/usr/local/pgsql/data/postgresql.conf"})
    if (auto confs = fs.glob(pattern))
      for (auto &p : *confs)
        if (seen.insert(p).second) {
          std::string dir = p.substr(0, p.rfind('/'));
          m.clusters.push_back(load_cluster(fs, p, dir, 0, dir));
        }
  return m;
}

const PgModel &postgres_model(CheckRun &run) {
  return run.ctx().model<PgModel>([&] {
    PgModel m = load_postgres_model(run.ctx().fs());
    for (auto &s : run.ctx().get<ComposeServicesModel>().postgres) {
      PgCluster c;
      c.subject = s.subject;
      c.major = s.major;
      c.conf_path = s.conf_path;
      c.hba_path = s.hba_path;
      c.conf = s.conf;
      c.hba = s.hba;
      c.hba_opts.major_version = s.major;
      const pg::Setting *ssl = c.conf.get("ssl");
      c.hba_opts.ssl_enabled = ssl && pg::parse_bool(ssl->value).value_or(false);
      pg::HbaShadowing sh = pg::shadowing(c.hba, c.hba_opts);
      c.hba_shadowed_by = std::move(sh.by);
      if (sh.exhausted)
        c.hba.diagnostics.push_back(std::move(*sh.exhausted));
      c.container = &s;
      m.clusters.push_back(std::move(c));
    }
    return m;
  });
}

// A container on its own network, not published on a public address: the
// project's networks (and the host, through loopback) are all that reach it.
bool container_closed(const PgCluster &c) {
  return c.container && !c.container->reach.host_network &&
         compose::public_ports(c.container->reach).empty();
}

// Evidence of the ports that publish a container's server publicly.
std::vector<Evidence> public_port_evidence(const PgCluster &c) {
  std::vector<Evidence> out;
  const compose::Reach &r = c.container->reach;
  for (size_t k : compose::public_ports(r)) {
    const compose::Port &pt = r.published[k];
    out.push_back({r.published_at[k].path, r.published_at[k].line,
                   "published on " + (pt.host_ip.empty() ? std::string("0.0.0.0") : pt.host_ip) +
                       ":" + (pt.published.empty() ? "(ephemeral)" : pt.published) + " -> " +
                       std::to_string(r.port),
                   "not published, or on 127.0.0.1 / an internal address", "compose ports"});
  }
  return out;
}

// The effective value of a setting: the deciding line, or the default.
struct Value {
  std::string value;
  SourceLocation loc; // line 0 with the main file: the built-in default
  bool is_default = true;
};

Value value_of(const PgCluster &c, const std::string &name) {
  if (const pg::Setting *s = c.conf.get(name))
    return {s->value, s->loc, false};
  for (auto &d : k_postgres_defaults)
    if (name == d.name)
      return {d.value, {c.conf_path, 0}, true};
  return {"", {c.conf_path, 0}, true};
}

// --live with credentials (--postgres-dsn, or the PG* variables libpq reads):
// the running server's settings, roles and hba rules, asked once per run.
struct PgLive {
  bool asked = false;
  live::PgLiveInfo info;
};

bool have_credentials(const Context &ctx) {
  if (!ctx.options().postgres_dsn.empty())
    return true;
  for (const char *v : {"PGHOST", "PGUSER", "PGDATABASE", "PGSERVICE", "PGPASSWORD"})
    if (std::getenv(v))
      return true;
  return false;
}

// The running server of this cluster (matched by port), or nullptr.
const live::PgLiveInfo *live_info(CheckRun &run, const PgCluster &c) {
  if (!run.ctx().live() || c.container)
    return nullptr;
  const PgLive &l = run.ctx().model<PgLive>([&] {
    PgLive out;
    if (have_credentials(run.ctx())) {
      out.asked = true;
      out.info = run.ctx().probes().pg_query(run.ctx().options().postgres_dsn);
    }
    return out;
  });
  if (!l.asked || !l.info.ok)
    return nullptr;
  auto port = l.info.settings.find("port");
  auto want = pg::parse_int(value_of(c, "port").value);
  if (port == l.info.settings.end() || !want || port->second.first != std::to_string(*want))
    return nullptr;
  return &l.info;
}

// The running value when it differs from the files (a reload or restart is
// pending, or a setting comes from the command line): evidence is added.
std::optional<std::string> running(CheckRun &run, const PgCluster &c, const std::string &name,
                                   const std::string &file_value, std::vector<Evidence> &ev) {
  const live::PgLiveInfo *info = live_info(run, c);
  if (!info)
    return std::nullopt;
  auto it = info->settings.find(name);
  if (it == info->settings.end())
    return std::nullopt;
  const std::string &live_value = it->second.first;
  auto fb = pg::parse_bool(file_value), lb = pg::parse_bool(live_value);
  bool same = (fb && lb) ? *fb == *lb : text::iequals(file_value, live_value);
  if (same)
    return std::nullopt;
  ev.push_back(Evidence{"", 0,
                        "running server (" + info->server + "): " + name + " = " + live_value +
                            " from " + it->second.second + "; the files say " +
                            (file_value.empty() ? "''" : file_value),
                        "the same value in the files and the server", "live: pg_settings"});
  return live_value;
}

Evidence evidence(const Value &v, const std::string &name, std::string expected,
                  const std::string &context) {
  std::string found = name + " = " + v.value;
  if (v.is_default)
    found = name + " not set (PostgreSQL default " + (v.value.empty() ? "''" : v.value) + ")";
  return Evidence{v.loc.path, v.loc.line, found, std::move(expected), context};
}

// Parse problems of a cluster's postgresql.conf as evidence.
std::vector<Evidence> conf_errors(const PgCluster &c) {
  std::vector<Evidence> out;
  if (c.container)
    for (auto &d : c.container->problems)
      out.push_back({d.loc.path, d.loc.line, d.message,
                     "a configuration bulwark can derive from the compose file", "compose"});
  for (auto &d : c.conf.diagnostics)
    if (d.level == pg::Diagnostic::Level::error)
      out.push_back(
          {d.loc.path, d.loc.line, d.message, "no errors (the server refuses to start)", "parse"});
  return out;
}

std::vector<Evidence> hba_errors(const PgCluster &c) {
  std::vector<Evidence> out;
  if (c.container)
    for (auto &d : c.container->problems)
      out.push_back({d.loc.path, d.loc.line, d.message,
                     "a configuration bulwark can derive from the compose file", "compose"});
  for (auto &d : c.hba.diagnostics)
    if (d.level == pg::Diagnostic::Level::error)
      out.push_back({d.loc.path, d.loc.line, d.message,
                     "no errors (the server refuses to start; a reload keeps the old rules)",
                     "parse"});
  return out;
}

// Emits pass/fail for one cluster; a pass over a file with errors is an
// error (fail closed: the server refuses to start, or a reload keeps rules
// that are not in the file, so what runs is unknown).
void postgres_verdict(CheckRun &run, const PgCluster &c, bool ok, std::string message,
                      std::vector<Evidence> ev, const std::vector<Evidence> &errors) {
  // A file that could not be opened (as the server words it) leaves every
  // value unknown: judging PostgreSQL's defaults would be a guess, so it is
  // an error whatever the defaults say.
  auto unread = std::find_if(errors.begin(), errors.end(), [](const Evidence &e) {
    return e.found.rfind("could not open", 0) == 0;
  });
  if (c.container && !errors.empty())
    unread = errors.begin(); // what the container runs is not known
  if (unread != errors.end()) {
    ev.insert(ev.end(), errors.begin(), errors.end());
    run.emit(Status::error, c.subject, "cannot read " + unread->path + ": " + unread->found,
             std::move(ev));
    return;
  }
  if (!ok) {
    ev.insert(ev.end(), errors.begin(), errors.end());
    run.emit(Status::fail, c.subject, std::move(message), std::move(ev));
    return;
  }
  if (!errors.empty()) {
    ev.insert(ev.end(), errors.begin(), errors.end());
    run.emit(Status::error, c.subject,
             message + "; but " + errors.front().path + ":" + std::to_string(errors.front().line) +
                 ": " + errors.front().found,
             std::move(ev));
    return;
  }
  run.emit(Status::pass, c.subject, std::move(message), std::move(ev));
}

bool for_clusters(CheckRun &run, void (*f)(CheckRun &, const PgCluster &)) {
  const PgModel &m = postgres_model(run);
  if (m.clusters.empty()) {
    run.emit(Status::not_applicable, "",
             "no PostgreSQL cluster (no /etc/postgresql/*/*/postgresql.conf or data directory) "
             "and no compose service of a PostgreSQL image");
    return false;
  }
  for (auto &c : m.clusters)
    f(run, c);
  return true;
}

// Why PostgreSQL 15 would refuse its ssl_key_file, or nullopt: the postgres
// account must be able to read it, and check_ssl_key_file_permissions()
// (src/backend/libpq/be-secure-common.c) wants a regular file owned by the
// database user with no group or other bits, or owned by root with at most
// group read. Either refusal stops the server at start.
std::optional<Evidence> key_refused(const PgCluster &c) {
  const ReadAccess &a = *c.key_access;
  auto ev = [&](std::string found, std::string expected) {
    return Evidence{c.key_path, 0, std::move(found), std::move(expected), "ssl_key_file"};
  };
  const std::string want =
      "0600 owned by postgres, or 0640 root:ssl-cert with postgres in ssl-cert";
  // An absent key is not judged here: images and CI roots often get theirs
  // mounted at deployment.
  if (a.error && a.error->not_found() && !a.info)
    return std::nullopt;
  if (a.error)
    return ev("cannot check the key: " + a.error->to_string(), want);
  if (!a.uid)
    return std::nullopt; // no postgres account: another layout; nothing to judge by
  const FileInfo &i = *a.info;
  if (i.type != FileInfo::Type::regular)
    return ev(c.key_path + " is not a regular file", want);
  if (!a.readable)
    return ev(a.why, want);
  if (i.uid == *a.uid && (i.mode & 077) != 0)
    return ev(a.why + ", but has group or world access (PostgreSQL refuses it)", want);
  if (i.uid == 0 && (i.mode & 037) != 0)
    return ev(a.why + ", but root-owned with more than group read (PostgreSQL refuses it)", want);
  if (i.uid != 0 && i.uid != *a.uid)
    return ev(a.why + ", but owned by neither postgres nor root (PostgreSQL refuses it)", want);
  return std::nullopt;
}

void ssl(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    Value v = value_of(c, "ssl");
    auto b = pg::parse_bool(v.value);
    Evidence e = evidence(v, "ssl", "ssl = on", "postgresql.conf");
    if (!b) {
      run.emit(Status::error, c.subject,
               "ssl = '" + text::printable(v.value) + "' is not a boolean (the server refuses it)",
               {e});
      return;
    }
    std::vector<Evidence> ev{e};
    bool good = *b;
    if (auto r = running(run, c, "ssl", v.value, ev))
      good = good && pg::parse_bool(*r).value_or(false);
    if (good && c.key_access) {
      if (auto bad = key_refused(c)) {
        ev.push_back(*bad);
        postgres_verdict(run, c, false,
                         "ssl is on, but the server cannot load its key and refuses to start: " +
                             bad->found,
                         ev, conf_errors(c));
        return;
      }
    }
    postgres_verdict(run, c, good,
                     good ? "ssl is on"
                          : (*b ? ev.back().found : e.found + ": connections are not encrypted"),
                     ev, conf_errors(c));
  });
}

void ssl_min_version(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    Value v = value_of(c, "ssl_min_protocol_version");
    Evidence e = evidence(v, "ssl_min_protocol_version", ">= TLSv1.2", "postgresql.conf");
    std::string l = text::lower(v.value);
    static const std::set<std::string> ok = {"tlsv1.2", "tlsv1.3"};
    static const std::set<std::string> weak = {"", "tlsv1", "tlsv1.1"};
    if (!ok.count(l) && !weak.count(l)) {
      run.emit(Status::error, c.subject,
               "ssl_min_protocol_version = '" + text::printable(v.value) +
                   "' is not a valid value (the server refuses it)",
               {e});
      return;
    }
    bool good = ok.count(l) > 0;
    std::vector<Evidence> ev{e};
    if (auto r = running(run, c, "ssl_min_protocol_version", v.value, ev))
      good = good && ok.count(text::lower(*r)) > 0;
    postgres_verdict(run, c, good,
                     good ? e.found : e.found + ": clients may negotiate TLS older than 1.2", ev,
                     conf_errors(c));
  });
}

void password_encryption(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    Value v = value_of(c, "password_encryption");
    Evidence e = evidence(v, "password_encryption", "scram-sha-256", "postgresql.conf");
    bool good = text::iequals(v.value, "scram-sha-256");
    std::vector<Evidence> ev{e};
    if (auto r = running(run, c, "password_encryption", v.value, ev))
      good = good && text::iequals(*r, "scram-sha-256");
    postgres_verdict(run, c, good,
                     good ? e.found
                          : e.found + ": new passwords are stored as MD5 hashes (replayable, weak)",
                     ev, conf_errors(c));
  });
}

Evidence rule_evidence(const pg::HbaRule &r, std::string expected,
                       const std::string &context = "") {
  std::string found = std::string(pg::to_string(r.type));
  auto list = [](const std::vector<pg::HbaToken> &ts) {
    std::string s;
    for (auto &t : ts)
      s += (s.empty() ? "" : ",") + (t.quoted ? "\"" + t.text + "\"" : t.text);
    return s;
  };
  found += " " + list(r.databases) + " " + list(r.users);
  if (r.type != pg::ConnType::local)
    found += " " + r.address.text;
  found += " " + r.method;
  return Evidence{r.loc.path, r.loc.line, text::printable(found, 200), std::move(expected),
                  context.empty() ? "pg_hba.conf rule " + std::to_string(r.rule_number) : context};
}

// Walks the reachable rules; `judge` returns "" for fine, "fail", or "warn".
struct HbaVerdict {
  std::vector<Evidence> fails, warns, shadowed;
};

template <class F> HbaVerdict walk_hba(const PgCluster &c, const std::string &expected, F judge) {
  HbaVerdict v;
  for (size_t i = 0; i < c.hba.rules.size(); i++) {
    const pg::HbaRule &r = c.hba.rules[i];
    std::string j = judge(r);
    if (j.empty())
      continue;
    int by = c.hba_shadowed_by[i];
    if (by == -1) {
      (j == "fail" ? v.fails : v.warns).push_back(rule_evidence(r, expected));
    } else {
      std::string why = by == -2
                            ? "unreachable: hostssl while ssl is off"
                            : "unreachable: line " +
                                  std::to_string(c.hba.rules[static_cast<size_t>(by)].loc.line) +
                                  " matches every connection it would";
      v.shadowed.push_back(rule_evidence(r, expected, why));
    }
  }
  return v;
}

bool hba_present(CheckRun &run, const PgCluster &c) {
  if (c.hba.files.empty()) {
    auto errs = hba_errors(c);
    run.emit(Status::error, c.subject,
             "cannot read " + c.hba_path + (errs.empty() ? "" : ": " + errs.front().found), errs);
    return false;
  }
  return true;
}

std::string postgres_where(const Evidence &e) {
  return e.path.empty() ? e.context + ": " : e.path + ":" + std::to_string(e.line) + ": ";
}

void emit_hba(CheckRun &run, const PgCluster &c, const HbaVerdict &v, const std::string &what,
              const std::string &ok_message) {
  auto errs = hba_errors(c);
  if (c.container && !errs.empty()) {
    postgres_verdict(run, c, true, ok_message, {}, errs); // an error: the rules are not known
    return;
  }
  if (!v.fails.empty()) {
    std::vector<Evidence> ev = v.fails;
    ev.insert(ev.end(), v.warns.begin(), v.warns.end());
    ev.insert(ev.end(), errs.begin(), errs.end());
    run.emit(
        Status::fail, c.subject,
        postgres_where(ev.front()) + ev.front().found + " " + what +
            (v.fails.size() > 1 ? " (and " + std::to_string(v.fails.size() - 1) + " more)" : ""),
        ev);
    return;
  }
  if (!v.warns.empty()) {
    std::vector<Evidence> ev = v.warns;
    ev.insert(ev.end(), errs.begin(), errs.end());
    run.emit(Status::warn, c.subject, postgres_where(ev.front()) + ev.front().found + " " + what,
             ev);
    return;
  }
  std::vector<Evidence> ev = v.shadowed;
  std::string msg = ok_message;
  if (!v.shadowed.empty())
    msg += " (" + std::to_string(v.shadowed.size()) + " weaker rule(s) can never be reached)";
  if (ev.empty())
    ev.push_back(
        Evidence{c.hba_path, 0, std::to_string(c.hba.rules.size()) + " rules", "", "pg_hba.conf"});
  postgres_verdict(run, c, true, msg, ev, errs);
}

void hba_no_trust(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    if (!hba_present(run, c))
      return;
    auto v = walk_hba(c, "no trust rule", [&c](const pg::HbaRule &r) -> std::string {
      if (r.method != "trust")
        return "";
      // Inside a container, the socket and loopback are the container's
      // own (the official image's initdb rules): nothing else reaches them.
      if (c.container && !c.container->reach.host_network &&
          (r.type == pg::ConnType::local || pg::address_is_local(r.address)))
        return "";
      return r.type == pg::ConnType::local ? "warn" : "fail";
    });
    if (run.ctx().live() && !c.container) {
      // What the running server does: it may have loaded other rules than
      // the file says (pg_hba.conf edited without a reload).
      bool file_fails = !v.fails.empty();
      int port = static_cast<int>(pg::parse_int(value_of(c, "port").value).value_or(5432));
      std::vector<Evidence> accepted;
      for (auto &p : run.ctx().probes().pg_no_password(port)) {
        Evidence e{"", 0,
                   p.target + ": " + std::string(live::to_string(p.result)) + " (" + p.detail + ")",
                   "a password is required", "live probe"};
        if (p.result == live::PgProbeResult::Outcome::accepted)
          accepted.push_back(e);
        else if (p.result == live::PgProbeResult::Outcome::protocol_error)
          v.warns.push_back(e);
      }
      if (!accepted.empty() && !file_fails) {
        // The file has no trust rule for TCP, the server trusts anyway.
        std::vector<Evidence> ev = accepted;
        std::string shadowed =
            v.shadowed.empty() ? ""
                               : " (" + std::to_string(v.shadowed.size()) + " judged unreachable)";
        ev.push_back(Evidence{c.hba_path, 0,
                              std::to_string(c.hba.rules.size()) +
                                  " rules, none reachable trusts TCP" + shadowed,
                              "", "pg_hba.conf"});
        ev.insert(ev.end(), v.warns.begin(), v.warns.end());
        ev.insert(ev.end(), v.shadowed.begin(), v.shadowed.end());
        auto errs = hba_errors(c);
        ev.insert(ev.end(), errs.begin(), errs.end());
        run.emit(Status::fail, c.subject,
                 "the running server disagrees with its configuration: " + c.hba_path +
                     " has no trust rule for network connections, but " + accepted.front().found +
                     " (the server loaded other rules: reload it, SELECT pg_reload_conf(), or "
                     "check which data directory it runs from)",
                 ev);
        return;
      }
      v.fails.insert(v.fails.begin(), accepted.rbegin(), accepted.rend());
    }
    emit_hba(run, c, v,
             v.fails.empty() ? "lets every local account connect as any database user without a "
                               "password"
                             : "lets network clients connect without any password",
             "no reachable trust rule for TCP connections");
  });
}

void hba_strong_auth(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    if (!hba_present(run, c))
      return;
    auto v = walk_hba(c, "scram-sha-256, cert or gss", [](const pg::HbaRule &r) -> std::string {
      if (r.type == pg::ConnType::local)
        return "";
      if (r.method == "md5" || r.method == "password")
        return "fail";
      if (r.method == "ident" || r.method == "pam" || r.method == "ldap" || r.method == "radius")
        return "warn";
      return "";
    });
    emit_hba(run, c, v,
             v.fails.empty() ? "sends the password in clear text to the server or trusts the "
                               "client's word"
                             : "accepts md5 or clear-text passwords",
             "every reachable host rule uses scram-sha-256, cert, gss or reject");
  });
}

void hba_ssl_only(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    if (!hba_present(run, c))
      return;
    auto v = walk_hba(c, "hostssl for remote clients", [](const pg::HbaRule &r) -> std::string {
      if (r.method == "reject")
        return "";
      if (r.type != pg::ConnType::host && r.type != pg::ConnType::hostnossl)
        return "";
      return pg::address_is_local(r.address) ? "" : "fail";
    });
    emit_hba(run, c, v, "admits remote clients without TLS",
             "every reachable rule for remote clients is hostssl (or GSSAPI-encrypted)");
  });
}

void hba_restricted_sources(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    if (!hba_present(run, c))
      return;
    bool closed = container_closed(c);
    auto v = walk_hba(c, "specific application server addresses",
                      [closed](const pg::HbaRule &r) -> std::string {
                        if (r.type == pg::ConnType::local || r.method == "reject" ||
                            r.method == "cert" || r.method == "gss" || closed)
                          return "";
                        return pg::address_is_any(r.address) ? "fail" : "";
                      });
    emit_hba(run, c, v, "admits every address on the network",
             closed ? "the container is not published on a public address: only the project's "
                      "networks reach it"
                    : "no reachable rule admits every address with a password");
  });
}

void listen_addresses(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    Value v = value_of(c, "listen_addresses");
    Evidence e =
        evidence(v, "listen_addresses", "localhost or named addresses, not *", "postgresql.conf");
    auto is_any = [](const std::string &value) {
      for (auto &a : text::split(value, ','))
        if (auto t = text::trim(a); t == "*" || t == "0.0.0.0" || t == "::")
          return true;
      return false;
    };
    bool any = is_any(v.value);
    std::vector<Evidence> ev{e};
    if (c.container && !c.container->reach.host_network) {
      // Every interface of the container is not every interface of the
      // host: what is published decides who reaches it.
      auto open = public_port_evidence(c);
      if (any && !open.empty()) {
        open.push_back(e);
        postgres_verdict(run, c, false,
                         open.front().found + ": every host interface forwards to the server", open,
                         conf_errors(c));
        return;
      }
      postgres_verdict(run, c, true,
                       any ? e.found +
                                 " inside the container, which is not published on a public address"
                           : e.found,
                       ev, conf_errors(c));
      return;
    }
    if (auto r = running(run, c, "listen_addresses", v.value, ev))
      any = any || is_any(*r);
    postgres_verdict(run, c, !any,
                     any ? e.found + ": the server listens on every interface" : e.found, ev,
                     conf_errors(c));
  });
}

void connection_limits(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    Value v = value_of(c, "max_connections");
    Evidence e = evidence(v, "max_connections", "set explicitly", "postgresql.conf");
    if (!v.is_default && !pg::parse_int(v.value)) {
      run.emit(Status::error, c.subject,
               "max_connections = '" + text::printable(v.value) + "' is not an integer", {e});
      return;
    }
    std::vector<Evidence> ev{e};
    std::string msg = v.is_default ? e.found : e.found;
    bool ok = !v.is_default;
    const live::PgLiveInfo *info = ok ? live_info(run, c) : nullptr;
    if (info) {
      {
        int limited = 0, login = 0;
        for (auto &r : info->roles)
          if (r.can_login && !r.superuser) {
            login++;
            if (r.conn_limit >= 0)
              limited++;
          }
        ev.push_back(Evidence{"", 0,
                              std::to_string(limited) + " of " + std::to_string(login) +
                                  " login roles have a CONNECTION LIMIT",
                              "every application role has one", "live: pg_roles"});
        if (login > 0 && limited == 0) {
          run.emit(Status::warn, c.subject,
                   e.found + ", but no login role has a CONNECTION LIMIT (live)", ev);
          return;
        }
      }
    } else if (ok) {
      msg += " (per-role CONNECTION LIMITs are checked with --live --postgres-dsn)";
    }
    postgres_verdict(run, c, ok, ok ? msg : msg + ": the limit is left to the default", ev,
                     conf_errors(c));
  });
}

void audit_logging(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    std::vector<Evidence> bad, good;
    for (const char *name : {"log_connections", "log_disconnections"}) {
      Value v = value_of(c, name);
      Evidence e = evidence(v, name, "on", "postgresql.conf");
      std::vector<Evidence> live_ev;
      bool on = pg::parse_bool(v.value).value_or(false);
      if (auto r = running(run, c, name, v.value, live_ev))
        on = on && pg::parse_bool(*r).value_or(false);
      (on ? good : bad).push_back(e);
      (on ? good : bad).insert((on ? good : bad).end(), live_ev.begin(), live_ev.end());
    }
    Value st = value_of(c, "log_statement");
    Evidence e = evidence(st, "log_statement", "ddl, mod or all", "postgresql.conf");
    auto enough = [](const std::string &v) {
      std::string l = text::lower(v);
      return l == "ddl" || l == "mod" || l == "all";
    };
    std::vector<Evidence> live_ev;
    bool logged = enough(st.value);
    if (auto r = running(run, c, "log_statement", st.value, live_ev))
      logged = logged && enough(*r);
    (logged ? good : bad).push_back(e);
    (logged ? good : bad).insert((logged ? good : bad).end(), live_ev.begin(), live_ev.end());
    if (!bad.empty()) {
      std::string what;
      for (auto &b : bad)
        what += (what.empty() ? "" : "; ") + b.found;
      postgres_verdict(run, c, false, what, bad, conf_errors(c));
      return;
    }
    postgres_verdict(run, c, true, "connections, disconnections and DDL are logged", good,
                     conf_errors(c));
  });
}

// --- second wave ----------------------------------------------------------

std::optional<long long> uid_of(Context &ctx, const std::string &user) {
  for (auto &p : ctx.accounts().passwd)
    if (p.name == user)
      return p.uid;
  return std::nullopt;
}

void postgres_config_permissions(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    const RootFs &fs = run.ctx().fs();
    std::optional<long long> pg_uid = uid_of(run.ctx(), "postgres");
    std::vector<Evidence> bad, good, errs;
    auto judge_file = [&](const std::string &path, const std::string &what) {
      auto st = fs.stat(path);
      if (!st) {
        if (!st.error().not_found())
          errs.push_back(Evidence{path, 0, "cannot stat: " + st.error().message,
                                  "not readable by others", what});
        return;
      }
      Evidence e{path, 0, "mode " + text::octal_mode(st->mode) + " uid " + std::to_string(st->uid),
                 "not readable by others (0640 or stricter)", what};
      ((st->mode & 0007) ? bad : good).push_back(e);
    };
    if (c.container) {
      // Only mounted files are the target's; the rest live in a volume.
      bool conf_mounted = !c.container->conf.files.empty();
      bool hba_mounted =
          !c.container->hba.files.empty() && c.container->hba_path != c.container->image_loc.path;
      if (!conf_mounted && !hba_mounted) {
        run.emit(Status::not_applicable, c.subject,
                 "no configuration file is mounted: the settings are in the compose file",
                 {Evidence{c.container->image_loc.path, c.container->image_loc.line, "", "",
                           "compose"}});
        return;
      }
      if (conf_mounted)
        judge_file(c.conf_path, "postgresql.conf");
      if (hba_mounted)
        judge_file(c.hba_path, "pg_hba.conf");
    } else {
      judge_file(c.conf_path, "postgresql.conf");
      judge_file(c.hba_path, "pg_hba.conf");
    }
    // The key: PostgreSQL's own rule (be-secure-common.c,
    // check_ssl_key_file_permissions): owned by the server's user and 0600,
    // or owned by root and 0640 at most (Debian's ssl-cert group).
    Value ssl = value_of(c, "ssl");
    // A container's key is a path inside the container.
    if (!c.container && pg::parse_bool(ssl.value).value_or(false)) {
      Value kf = value_of(c, "ssl_key_file");
      std::string key = RootFs::join(c.data_dir, kf.value.empty() ? "server.key" : kf.value);
      auto st = fs.stat(key);
      if (!st) {
        errs.push_back(Evidence{key, 0, "cannot stat: " + st.error().message,
                                "0600 postgres or 0640 root:ssl-cert", "ssl_key_file"});
      } else {
        bool by_pg = pg_uid && static_cast<long long>(st->uid) == *pg_uid;
        bool ok = (by_pg && (st->mode & 0077) == 0) || (st->uid == 0 && (st->mode & 0037) == 0);
        Evidence e{key, 0, "mode " + text::octal_mode(st->mode) + " uid " + std::to_string(st->uid),
                   "0600 owned by postgres, or 0640 owned by root (group ssl-cert)",
                   "ssl_key_file" + (kf.is_default ? std::string(" (default)")
                                                   : " (" + kf.loc.path + ":" +
                                                         std::to_string(kf.loc.line) + ")")};
        (ok ? good : bad).push_back(e);
      }
    }
    if (!errs.empty()) {
      errs.insert(errs.end(), bad.begin(), bad.end());
      run.emit(Status::error, c.subject, errs.front().path + ": " + errs.front().found, errs);
      return;
    }
    if (!bad.empty()) {
      std::string what;
      for (auto &b : bad)
        what += (what.empty() ? "" : ", ") + b.path + " (" + b.found + ")";
      bad.insert(bad.end(), good.begin(), good.end());
      run.emit(Status::fail, c.subject, "readable by others or refused by the server: " + what,
               bad);
      return;
    }
    run.emit(Status::pass, c.subject,
             "postgresql.conf, pg_hba.conf" +
                 std::string(good.size() > 2 ? " and the server key" : "") +
                 " are not readable by others",
             good);
  });
}

void ssl_ciphers(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    Value ssl = value_of(c, "ssl");
    if (!pg::parse_bool(ssl.value).value_or(false)) {
      run.emit(Status::not_applicable, c.subject, "ssl is off (postgres.ssl reports it)",
               {evidence(ssl, "ssl", "on", "postgresql.conf")});
      return;
    }
    Value v = value_of(c, "ssl_ciphers");
    if (v.is_default)
      v.value = "HIGH:MEDIUM:+3DES:!aNULL"; // PostgreSQL 15's built-in value
    Evidence e =
        evidence(v, "ssl_ciphers", "only forward-secret AEAD suites (Mozilla intermediate)",
                 "postgresql.conf");
    auto cs = tls::expand_cipher_string(v.value);
    if (!cs) {
      run.emit(Status::error, c.subject,
               "OpenSSL rejects ssl_ciphers (the server refuses to start): " + cs.error().message,
               {e});
      return;
    }
    const tls::Guideline &g = tls::mozilla();
    std::vector<std::string> weak, advice;
    for (auto &ci : *cs) {
      std::string w = tls::weakness(ci, g);
      if (w.empty())
        continue;
      (tls::weakness_is_advice(ci, g) ? advice : weak).push_back(ci.name + " (" + w + ")");
    }
    if (!weak.empty()) {
      e.found += " -> " + text::join(weak, ", ");
      postgres_verdict(run, c, false,
                       "ssl_ciphers enables " + std::to_string(weak.size()) + " weak suites", {e},
                       conf_errors(c));
      return;
    }
    if (!advice.empty()) {
      e.found += " -> " + text::join(advice, ", ");
      run.emit(Status::warn, c.subject, "ssl_ciphers enables suites outside Mozilla " + g.level,
               {e});
      return;
    }
    e.found += " -> " + std::to_string(cs->size()) + " suites, all in Mozilla " + g.level;
    postgres_verdict(run, c, true, "ssl_ciphers enables only strong suites", {e}, conf_errors(c));
  });
}

void data_access_logging(CheckRun &run) {
  for_clusters(run, [](CheckRun &run, const PgCluster &c) {
    Value st = value_of(c, "log_statement");
    Evidence se = evidence(st, "log_statement", "all (or pgaudit.log covering read and write)",
                           "postgresql.conf");
    if (text::lower(st.value) == "all") {
      postgres_verdict(run, c, true, "every statement is logged (log_statement = all)", {se},
                       conf_errors(c));
      return;
    }
    Value pl = value_of(c, "pgaudit.log");
    Value spl = value_of(c, "shared_preload_libraries");
    bool loaded = false;
    for (auto &lib : text::split(spl.value, ','))
      loaded |= text::lower(text::trim(lib)) == "pgaudit";
    auto classes = text::split(text::lower(pl.value), ',');
    bool read = false, write = false;
    for (auto &cl : classes) {
      std::string x(text::trim(cl));
      read |= x == "read" || x == "all";
      write |= x == "write" || x == "all";
    }
    Evidence pe = evidence(pl, "pgaudit.log", "read, write (or all)", "postgresql.conf");
    Evidence le = evidence(spl, "shared_preload_libraries", "includes pgaudit", "postgresql.conf");
    if (loaded && read && write) {
      postgres_verdict(run, c, true,
                       "pgaudit logs reads and writes (pgaudit.log = " + pl.value + ")", {pe, le},
                       conf_errors(c));
      return;
    }
    postgres_verdict(
        run, c, false,
        "data access is not logged: " + se.found +
            (loaded ? "; " + pe.found : "; pgaudit is not in shared_preload_libraries"),
        {se, pe, le}, conf_errors(c));
  });
}

constexpr CheckImpl k_postgres_checks[] = {
    {"postgres.ssl", ssl},
    {"postgres.ssl-min-version", ssl_min_version},
    {"postgres.password-encryption", password_encryption},
    {"postgres.hba-no-trust", hba_no_trust},
    {"postgres.hba-strong-auth", hba_strong_auth},
    {"postgres.hba-ssl-only", hba_ssl_only},
    {"postgres.hba-restricted-sources", hba_restricted_sources},
    {"postgres.listen-addresses", listen_addresses},
    {"postgres.connection-limits", connection_limits},
    {"postgres.audit-logging", audit_logging},
    {"postgres.config-permissions", postgres_config_permissions},
    {"postgres.ssl-ciphers", ssl_ciphers},
    {"postgres.data-access-logging", data_access_logging},
};

nlohmann::ordered_json diag_json(const std::vector<pg::Diagnostic> &ds) {
  nlohmann::ordered_json a = nlohmann::ordered_json::array();
  for (auto &d : ds)
    a.push_back({{"level", d.level == pg::Diagnostic::Level::error     ? "error"
                           : d.level == pg::Diagnostic::Level::warning ? "warning"
                                                                       : "info"},
                 {"at", d.loc.path + ":" + std::to_string(d.loc.line)},
                 {"message", d.message}});
  return a;
}

} // namespace

std::span<const CheckImpl> postgres_checks() {
  return k_postgres_checks;
}

nlohmann::ordered_json facts_postgres(Context &ctx) {
  using nlohmann::ordered_json;
  PgModel m = load_postgres_model(ctx.fs());
  ordered_json clusters = ordered_json::array();
  for (auto &c : m.clusters) {
    ordered_json j;
    j["cluster"] = c.subject;
    j["version"] = c.major;
    j["config_file"] = c.conf_path;
    j["data_directory"] = c.data_dir;
    j["hba_file"] = c.hba_path;
    j["files"] = c.conf.files;
    ordered_json settings = ordered_json::object();
    for (auto &[name, s] : c.conf.effective)
      settings[name] = {{"value", s.value}, {"at", s.loc.path + ":" + std::to_string(s.loc.line)}};
    j["settings"] = settings;
    j["diagnostics"] = diag_json(c.conf.diagnostics);
    ordered_json rules = ordered_json::array();
    for (size_t i = 0; i < c.hba.rules.size(); i++) {
      auto &r = c.hba.rules[i];
      ordered_json rj;
      rj["rule_number"] = r.rule_number;
      rj["at"] = r.loc.path + ":" + std::to_string(r.loc.line);
      rj["type"] = std::string(pg::to_string(r.type));
      ordered_json dbs = ordered_json::array(), users = ordered_json::array();
      for (auto &t : r.databases)
        dbs.push_back(t.quoted ? "\"" + t.text + "\"" : t.text);
      for (auto &t : r.users)
        users.push_back(t.quoted ? "\"" + t.text + "\"" : t.text);
      rj["databases"] = dbs;
      rj["users"] = users;
      if (r.type != pg::ConnType::local)
        rj["address"] = r.address.text;
      rj["method"] = r.method;
      ordered_json opts = ordered_json::object();
      for (auto &[k, v] : r.options)
        opts[k] = v;
      rj["options"] = opts;
      int by = c.hba_shadowed_by[i];
      rj["reachable"] = by == -1;
      if (by >= 0)
        rj["shadowed_by"] = c.hba.rules[static_cast<size_t>(by)].loc.path + ":" +
                            std::to_string(c.hba.rules[static_cast<size_t>(by)].loc.line);
      rules.push_back(rj);
    }
    j["hba_rules"] = rules;
    j["hba_files"] = c.hba.files;
    j["hba_diagnostics"] = diag_json(c.hba.diagnostics);
    clusters.push_back(j);
  }
  ordered_json out;
  out["clusters"] = clusters;
  if (ctx.live()) {
    ordered_json probes = ordered_json::array();
    for (auto &c : m.clusters) {
      Value port = value_of(c, "port");
      auto p = pg::parse_int(port.value).value_or(5432);
      for (auto &r : ctx.probes().pg_no_password(static_cast<int>(p)))
        probes.push_back({{"target", r.target},
                          {"result", std::string(live::to_string(r.result))},
                          {"detail", r.detail}});
    }
    out["live"] = probes;
    if (have_credentials(ctx)) {
      auto info = ctx.probes().pg_query(ctx.options().postgres_dsn);
      ordered_json sj;
      sj["ok"] = info.ok;
      if (!info.ok)
        sj["error"] = info.error;
      sj["server"] = info.server;
      ordered_json settings = ordered_json::object();
      for (auto &d : k_postgres_defaults)
        if (auto it = info.settings.find(d.name); it != info.settings.end())
          settings[d.name] = {{"value", it->second.first}, {"source", it->second.second}};
      sj["settings"] = settings;
      ordered_json hba = ordered_json::array();
      for (auto &r : info.hba)
        hba.push_back({{"line", r.line},
                       {"type", r.type},
                       {"database", r.database},
                       {"user_name", r.user_name},
                       {"address", r.address},
                       {"netmask", r.netmask},
                       {"auth_method", r.auth_method},
                       {"error", r.error}});
      sj["pg_hba_file_rules"] = hba;
      ordered_json roles = ordered_json::array();
      for (auto &r : info.roles)
        roles.push_back({{"name", r.name},
                         {"superuser", r.superuser},
                         {"login", r.can_login},
                         {"connection_limit", r.conn_limit},
                         {"valid_until", r.valid_until}});
      sj["roles"] = roles;
      out["live_server"] = sj;
    }
  }
  return out;
}

} // namespace bulwark
