// fail2ban.* (guide 003 §3.3): the sshd jail as fail2ban-client 1.0.2 would
// configure it (src/parse/fail2ban.cpp), each verdict citing the line that set
// the effective value (or the built-in default it falls back to).

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/dpkg_status.hpp>
#include <bulwark/parse/fail2ban.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <map>

namespace bulwark {

namespace {

constexpr const char *k_jail = "sshd";

struct Fail2banModel {
  f2b::Config config;
  // Whether fail2ban is installed: dpkg decides when the target has a
  // database (a removed package leaves its jail files behind); without one,
  // the jail files do. `error`: the database cannot answer.
  PackageInstalled package;
};

const Fail2banModel &fail2ban_model(Context &ctx) {
  return ctx.model<Fail2banModel>([&] {
    Fail2banModel m;
    m.config = f2b::load_fail2ban(ctx.fs());
    m.package = package_installed(ctx, "fail2ban", {});
    if (!m.package.by_dpkg) {
      m.package.yes = m.config.present;
      m.package.evidence =
          Evidence{m.config.confdir + "/jail.conf", 0,
                   m.package.yes ? "present (no dpkg database)" : "absent (no dpkg database)",
                   "installed", ""};
    }
    return m;
  });
}

std::string fail2ban_where(const SourceLocation &l) {
  if (l.path.empty())
    return "fail2ban's built-in default";
  return l.path + ":" + std::to_string(l.line);
}

// The trail of an interpolated value: "%(sshd_log)s = /var/log/auth.log via
// /etc/fail2ban/paths-common.conf:33".
std::string via_text(const f2b::Setting &s) {
  if (s.via.empty())
    return "";
  std::string out = " (via";
  for (auto &v : s.via)
    out += " " + fail2ban_where(v);
  return out + ")";
}

Evidence evidence_of(const f2b::Setting &s, const std::string &name, const std::string &expected) {
  Evidence e;
  e.path = s.loc.path;
  e.line = s.loc.line;
  e.found = name + " = " + text::printable(s.value) + via_text(s);
  if (!s.defined)
    e.found += " (not set: " + fail2ban_where(s.loc) + ")";
  else if (s.raw != s.value)
    e.found += " [written " + text::printable(s.raw) + "]";
  e.expected = expected;
  e.context = std::string("jail ") + k_jail + (s.section == "DEFAULT" ? " (from [DEFAULT])" : "");
  return e;
}

// Common preamble: not applicable without fail2ban, error when fail2ban-client
// would refuse the configuration. Returns the sshd jail, or nullptr when the
// finding has been emitted already.
const f2b::Jail *sshd_jail(CheckRun &run, bool report_missing) {
  const Fail2banModel &m = fail2ban_model(run.ctx());
  const f2b::Config &c = m.config;
  if (m.package.error) {
    run.emit(Status::error, k_jail, m.package.error->message, {m.package.evidence});
    return nullptr;
  }
  if (!m.package.yes) {
    run.emit(Status::not_applicable, k_jail, "fail2ban is not installed",
             {m.package.by_dpkg
                  ? Evidence{deb::k_dpkg_status_path, 0, "fail2ban not installed", "", "dpkg"}
                  : Evidence{c.confdir + "/jail.conf", 0, "absent", "", ""}});
    return nullptr;
  }
  if (c.fatal) {
    run.emit(Status::error, k_jail,
             "fail2ban-client would refuse this configuration: " + c.fatal->message,
             {Evidence{c.fatal->path, c.fatal->line, c.fatal->message,
                       "a configuration fail2ban "
                       "accepts",
                       "parse"}});
    return nullptr;
  }
  const f2b::Jail *j = c.jail(k_jail);
  if (!j && report_missing)
    run.emit(
        Status::fail, k_jail, "no [sshd] jail in any jail file",
        {Evidence{c.confdir + "/jail.local", 0, "no [sshd] section", "[sshd] enabled = true", ""}});
  else if (!j)
    run.emit(Status::fail, k_jail, "no [sshd] jail: nothing to judge (see fail2ban.sshd-jail)",
             {Evidence{c.confdir + "/jail.local", 0, "no [sshd] section", "[sshd]", ""}});
  return j;
}

std::string disabled_note(const f2b::Jail &j) {
  return j.enabled ? "" : " (the jail is disabled: see fail2ban.sshd-jail)";
}

// --- checks -----------------------------------------------------------------

// A fail2ban-server process: argv[0], or argv[1] under an interpreter
// (python3 /usr/bin/fail2ban-server).
std::optional<Evidence> running_server(const procfs::ProcessTable &t) {
  for (const procfs::Process &p : t.processes)
    for (size_t i = 0; i < p.argv.size() && i < 2; ++i)
      if (procfs::base_name(p.argv[i]) == "fail2ban-server")
        return Evidence{p.dir + "/cmdline", 0,
                        "fail2ban-server (pid " + std::to_string(p.pid) + ")", "running", "live"};
  return std::nullopt;
}

void check_installed(CheckRun &run) {
  const Fail2banModel &m = fail2ban_model(run.ctx());
  if (m.package.error) {
    run.emit(Status::error, "", m.package.error->message, {m.package.evidence});
    return;
  }
  Evidence pkg = m.package.evidence;
  bool yes = m.package.yes;
  if (!yes) {
    run.emit(Status::fail, "", "fail2ban is not installed", {pkg});
    return;
  }
  if (!run.ctx().live()) {
    run.emit(Status::pass, "", "fail2ban is installed (offline: whether it runs is not checked)",
             {pkg});
    return;
  }
  const auto &procs = run.ctx().probes().processes();
  if (!procs) {
    run.emit(Status::error, "",
             "fail2ban is installed, but the running processes cannot be read: " +
                 procs.error().to_string(),
             {pkg, Evidence{procs.error().path, 0, procs.error().message, "", "live"}});
    return;
  }
  if (auto proc = running_server(*procs)) {
    run.emit(Status::pass, "", "fail2ban is installed and fail2ban-server is running",
             {pkg, *proc});
    return;
  }
  run.emit(Status::fail, "", "fail2ban is installed but no fail2ban-server process is running",
           {pkg, Evidence{"/proc", 0, "no fail2ban-server process",
                          "running (systemctl enable --now fail2ban)", "live"}});
}

void check_sshd_jail(CheckRun &run) {
  const f2b::Jail *j = sshd_jail(run, true);
  if (!j)
    return;
  Evidence e = evidence_of(j->enabled_setting, "enabled", "enabled = true");
  if (e.path.empty()) {
    e.path = j->loc.path;
    e.line = 0;
  }
  if (j->enabled && !j->config_error.empty()) {
    Evidence fe = evidence_of(j->filter, "filter", "a filter in filter.d");
    run.emit(Status::fail, k_jail,
             "the sshd jail is enabled at " + fail2ban_where(j->enabled_setting.loc) +
                 ", but fail2ban skips it: " + j->config_error,
             {fe, e});
    return;
  }
  if (j->enabled)
    run.emit(Status::pass, k_jail,
             "the sshd jail is enabled at " + fail2ban_where(j->enabled_setting.loc), {e});
  else
    run.emit(Status::fail, k_jail,
             "the sshd jail is disabled: enabled = " + text::printable(j->enabled_setting.value) +
                 " at " + fail2ban_where(j->enabled_setting.loc),
             {e});
}

void check_maxretry(CheckRun &run) {
  const f2b::Jail *j = sshd_jail(run, false);
  if (!j)
    return;
  int64_t max = run.param_int("max");
  std::string expected = "maxretry <= " + std::to_string(max);
  if (!j->maxretry) {
    // fail2ban-server's FailManager starts with maxRetry = 3.
    f2b::Setting def;
    def.value = "3";
    Evidence e = evidence_of(def, "maxretry", expected);
    e.path = j->loc.path;
    bool ok = 3 <= max;
    run.emit(ok ? Status::pass : Status::fail, k_jail,
             "maxretry is not set; fail2ban-server uses 3" + disabled_note(*j), {e});
    return;
  }
  Evidence e = evidence_of(*j->maxretry, "maxretry", expected);
  if (!j->maxretry_value) {
    run.emit(Status::fail, k_jail,
             "maxretry = " + text::printable(j->maxretry->value) +
                 " is not an integer: fail2ban-client sends None and the jail fails to start",
             {e});
    return;
  }
  long long v = *j->maxretry_value;
  std::string msg = "maxretry = " + std::to_string(v) + " at " + fail2ban_where(j->maxretry->loc);
  if (v <= max)
    run.emit(Status::pass, k_jail, msg + disabled_note(*j), {e});
  else
    run.emit(Status::fail, k_jail, msg + ", above " + std::to_string(max) + disabled_note(*j), {e});
}

// bantime and findtime: str2seconds of the effective value against a minimum.
void judge_time(CheckRun &run, const char *name, bool negative_ok) {
  const f2b::Jail *j = sshd_jail(run, false);
  if (!j)
    return;
  std::string min_text = run.param_str("min");
  auto min = f2b::str2seconds(min_text);
  if (!min) {
    run.emit(Status::error, k_jail, "parameter min = " + min_text + " is not a fail2ban time");
    return;
  }
  const auto &opt = std::string(name) == "bantime" ? j->bantime : j->findtime;
  const auto &secs = std::string(name) == "bantime" ? j->bantime_s : j->findtime_s;
  std::string expected = std::string(name) + " >= " + min_text + (negative_ok ? " or < 0" : "");
  if (!opt) {
    // fail2ban-server defaults: BanManager banTime 600, FailManager maxTime 600.
    f2b::Setting def;
    def.value = "600";
    Evidence e = evidence_of(def, name, expected);
    e.path = j->loc.path;
    run.emit(600 >= *min ? Status::pass : Status::fail, k_jail,
             std::string(name) + " is not set; fail2ban-server uses 600 seconds" +
                 disabled_note(*j),
             {e});
    return;
  }
  Evidence e = evidence_of(*opt, name, expected);
  if (!secs) {
    run.emit(Status::fail, k_jail,
             std::string(name) + " = " + text::printable(opt->value) + " at " +
                 fail2ban_where(opt->loc) +
                 " is not a time fail2ban can evaluate: the jail fails to start",
             {e});
    return;
  }
  // bantime goes through int() on the server; findtime stays a float.
  double v = std::string(name) == "bantime" ? std::trunc(*secs) : *secs;
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f", v);
  std::string msg = std::string(name) + " = " + text::printable(opt->value) + " (" + buf +
                    " s) at " + fail2ban_where(opt->loc);
  if (negative_ok && v < 0)
    run.emit(Status::pass, k_jail, msg + ": permanent bans" + disabled_note(*j), {e});
  else if (v >= *min)
    run.emit(Status::pass, k_jail, msg + disabled_note(*j), {e});
  else
    run.emit(Status::fail, k_jail, msg + ", shorter than " + min_text + disabled_note(*j), {e});
}

void check_bantime(CheckRun &run) {
  judge_time(run, "bantime", true);
}
void check_findtime(CheckRun &run) {
  judge_time(run, "findtime", false);
}

void check_log_source(CheckRun &run) {
  const f2b::Jail *j = sshd_jail(run, false);
  if (!j)
    return;
  Evidence be = evidence_of(j->backend, "backend", "backend = systemd, or a logpath that exists");
  if (be.path.empty())
    be.path = j->loc.path;
  if (j->backend.value.rfind("systemd", 0) == 0) {
    run.emit(Status::pass, k_jail,
             "backend = " + j->backend.value + " at " + fail2ban_where(j->backend.loc) +
                 ": the jail reads the journal" + disabled_note(*j),
             {be});
    return;
  }
  if (!j->logpath) {
    run.emit(Status::fail, k_jail,
             "backend = " + text::printable(j->backend.value) +
                 " and no logpath: fail2ban has nothing to read for the sshd jail",
             {be});
    return;
  }
  Evidence le = evidence_of(*j->logpath, "logpath", "an existing file, or backend = systemd");
  std::vector<std::string> found, missing;
  for (auto &lp : j->logpaths) {
    if (lp.pattern.empty())
      continue;
    if (lp.files.empty())
      missing.push_back(lp.pattern);
    for (auto &f : lp.files)
      found.push_back(f);
  }
  if (!found.empty()) {
    le.found += "; exists: " + text::join(found, ", ");
    run.emit(Status::pass, k_jail,
             "the sshd jail reads " + text::join(found, ", ") + " (backend " +
                 text::printable(j->backend.value) + ")" + disabled_note(*j),
             {le, be});
    return;
  }
  std::string paths = text::printable(text::join(missing, ", "));
  std::string msg = "backend = " + text::printable(j->backend.value) + " (" +
                    fail2ban_where(j->backend.loc) + ") watches logpath " + paths + " (" +
                    fail2ban_where(j->logpath->loc) + "), and no such file exists";
  bool auth_log = std::find(missing.begin(), missing.end(), "/var/log/auth.log") != missing.end();
  std::string stops = j->enabled ? "fail2ban-client stops with \"Have not found any log file for "
                                   "sshd jail\" and starts no jail at all"
                                 : "enabling the jail would stop fail2ban-client (\"Have not "
                                   "found any log file for sshd jail\")";
  if (auth_log)
    msg += ": on Debian 12 without rsyslog sshd logs only to the journal; " + stops +
           "; set backend = systemd under [sshd]";
  else
    msg += ": " + stops;
  le.found += "; no such file";
  run.emit(Status::fail, k_jail, msg, {le, be});
}

// --- fail2ban.port-matches-sshd -------------------------------------------

// /etc/services of the target: service name (and alias) -> tcp port, as
// getservbyname(3) resolves the names fail2ban's actions hand to iptables
// and nftables.
std::map<std::string, int> services_of(const RootFs &fs) {
  std::map<std::string, int> out;
  auto t = fs.read_file("/etc/services", 4 * 1024 * 1024);
  if (!t)
    return out;
  for (auto &line : text::split(*t, '\n')) {
    std::string l = line.substr(0, line.find('#'));
    std::vector<std::string> w;
    for (auto &x : text::split(l, ' '))
      for (auto &y : text::split(x, '\t'))
        if (!y.empty())
          w.push_back(y);
    if (w.size() < 2)
      continue;
    auto slash = w[1].find('/');
    if (slash == std::string::npos || w[1].substr(slash + 1) != "tcp")
      continue;
    int port = std::atoi(w[1].substr(0, slash).c_str());
    for (size_t i = 0; i < w.size(); ++i)
      if (i != 1)
        out.emplace(w[i], port);
  }
  return out;
}

// The TCP ports sshd listens on (sshd -T's port and listenaddress): a
// ListenAddress with a port listens there, one without it on every Port.
std::vector<std::pair<int, Evidence>> fail2ban_sshd_ports(const SshModel &ssh) {
  std::vector<std::pair<int, Evidence>> out;
  const auto &eff = ssh.scopes.front().effective;
  ssh::Value ports = eff.get("port");
  ssh::Value la = eff.get("listenaddress");
  auto loc_of = [&](const ssh::Value &v, size_t i) {
    if (v.locations.empty())
      return SourceLocation{ssh.config_path, 0};
    return v.locations[std::min(i, v.locations.size() - 1)];
  };
  bool bare = la.is_default() || la.args.empty();
  for (size_t i = 0; !bare && i < la.args.size(); ++i) {
    const std::string &a = la.args[i];
    std::string port;
    if (!a.empty() && a[0] == '[') {
      auto close = a.find("]:");
      if (close != std::string::npos)
        port = a.substr(close + 2);
    } else if (std::count(a.begin(), a.end(), ':') == 1) {
      port = a.substr(a.find(':') + 1);
    }
    if (port.empty()) {
      bare = true;
      continue;
    }
    SourceLocation l = loc_of(la, i);
    out.push_back({std::atoi(port.c_str()),
                   Evidence{l.path, l.line, "ListenAddress " + text::printable(a), "", "sshd"}});
  }
  if (bare)
    for (size_t i = 0; i < ports.args.size(); ++i) {
      SourceLocation l = loc_of(ports, i);
      out.push_back({std::atoi(ports.args[i].c_str()),
                     Evidence{l.path, l.line,
                              "Port " + ports.args[i] + (ports.is_default() ? " (default)" : ""),
                              "", "sshd"}});
    }
  return out;
}

void check_port_matches_sshd(CheckRun &run) {
  const f2b::Jail *j = sshd_jail(run, false);
  if (!j)
    return;
  const SshModel &ssh = run.ctx().ssh();
  if (ssh.state == SshModel::State::absent || ssh.scopes.empty()) {
    run.emit(Status::not_applicable, k_jail, "no sshd configuration");
    return;
  }
  if (ssh.state == SshModel::State::unreadable) {
    run.emit(Status::error, k_jail,
             "cannot read the sshd configuration: " + (ssh.error ? ssh.error->to_string() : ""));
    return;
  }
  // An all-ports ban action blocks the address whatever `port` says.
  if (j->action && j->action->value.find("allports") != std::string::npos) {
    run.emit(
        Status::pass, k_jail,
        "the sshd jail bans on every port (" + text::printable(j->action->value, 80) + ")",
        {evidence_of(*j->action, "action", "an allports action or a port list covering sshd")});
    return;
  }
  std::string spec = j->port ? j->port->value : "0:65535";
  Evidence pe = j->port ? evidence_of(*j->port, "port", "every port sshd listens on")
                        : Evidence{j->loc.path, j->loc.line, "port not set (0:65535)",
                                   "every port sshd listens on", "jail sshd"};
  auto services = services_of(run.ctx().fs());
  struct Range {
    int lo, hi;
  };
  std::vector<Range> ranges;
  std::vector<std::string> unknown;
  for (auto &raw : text::split(spec, ',')) {
    std::string p(text::trim(raw));
    if (p.empty())
      continue;
    auto colon = p.find(':');
    auto num = [&](const std::string &s) -> int {
      if (!s.empty() && std::all_of(s.begin(), s.end(), ::isdigit))
        return std::atoi(s.c_str());
      auto it = services.find(s);
      return it == services.end() ? -1 : it->second;
    };
    int lo = num(colon == std::string::npos ? p : p.substr(0, colon));
    int hi = colon == std::string::npos ? lo : num(p.substr(colon + 1));
    if (lo < 0 || hi < 0)
      unknown.push_back(p);
    else
      ranges.push_back({lo, hi});
  }
  std::vector<Evidence> bad, good{pe};
  for (auto &[sshd_port, e] : fail2ban_sshd_ports(ssh)) {
    // A copy: a lambda cannot capture a structured binding before C++20's
    // P1091 (clang 14, which clang-tidy runs on, does not have it).
    const auto port = sshd_port;
    bool covered = std::any_of(ranges.begin(), ranges.end(),
                               [&](const Range &r) { return port >= r.lo && port <= r.hi; });
    e.expected = "covered by the jail's port " + text::printable(spec);
    (covered ? good : bad).push_back(e);
  }
  if (!unknown.empty()) {
    run.emit(Status::error, k_jail,
             "the jail's port names " + text::join(unknown, ", ") +
                 ", which /etc/services does not define: the ban action fails",
             {pe});
    return;
  }
  if (!bad.empty()) {
    bad.push_back(pe);
    run.emit(Status::fail, k_jail,
             "sshd listens on " + bad.front().found + " but the sshd jail bans port " +
                 text::printable(spec) + ": banned addresses keep reaching sshd" +
                 disabled_note(*j),
             bad);
    return;
  }
  run.emit(Status::pass, k_jail,
           "the sshd jail's port " + text::printable(spec) + " covers every port sshd listens on" +
               disabled_note(*j),
           good);
}

// --- fail2ban.enabled-at-boot ---------------------------------------------

void check_enabled_at_boot(CheckRun &run) {
  const Fail2banModel &m = fail2ban_model(run.ctx());
  if (m.package.error) {
    run.emit(Status::error, "", m.package.error->message, {m.package.evidence});
    return;
  }
  if (!m.package.yes) {
    run.emit(Status::not_applicable, "",
             "fail2ban is not installed (fail2ban.installed reports it)", {m.package.evidence});
    return;
  }
  const systemd::UnitState &st = run.ctx().get<SystemdModel>().state("fail2ban.service");
  Evidence e{st.path.empty() ? "/etc/systemd/system/multi-user.target.wants/fail2ban.service"
                             : st.path,
             0, "fail2ban.service " + std::string(systemd::to_string(st.state)),
             "enabled, not masked", "systemd"};
  if (st.state == systemd::UnitFileState::error) {
    run.emit(Status::error, "",
             "cannot tell whether fail2ban.service is enabled: " +
                 (st.error ? st.error->to_string() : std::string("error")),
             {e});
    return;
  }
  if (st.is_masked()) {
    run.emit(Status::fail, "", "fail2ban.service is masked: it never starts", {e});
    return;
  }
  if (!st.is_enabled_by_link()) {
    run.emit(Status::fail, "",
             "fail2ban.service is " + std::string(systemd::to_string(st.state)) +
                 ": fail2ban does not start at boot",
             {e});
    return;
  }
  run.emit(Status::pass, "", "fail2ban.service is enabled (" + st.path + ")", {e});
}

constexpr CheckImpl k_fail2ban_checks[] = {
    {"fail2ban.installed", check_installed},
    {"fail2ban.sshd-jail", check_sshd_jail},
    {"fail2ban.maxretry", check_maxretry},
    {"fail2ban.bantime", check_bantime},
    {"fail2ban.findtime", check_findtime},
    {"fail2ban.log-source", check_log_source},
    {"fail2ban.port-matches-sshd", check_port_matches_sshd},
    {"fail2ban.enabled-at-boot", check_enabled_at_boot},
};

nlohmann::ordered_json loc_json(const SourceLocation &l) {
  return l.path.empty() ? nlohmann::ordered_json("built-in")
                        : nlohmann::ordered_json(l.path + ":" + std::to_string(l.line));
}

nlohmann::ordered_json fail2ban_setting_json(const f2b::Setting &s) {
  nlohmann::ordered_json o;
  o["value"] = s.value;
  if (s.raw != s.value)
    o["raw"] = s.raw;
  o["at"] = loc_json(s.loc);
  if (s.defined)
    o["section"] = s.section;
  if (!s.via.empty()) {
    auto v = nlohmann::ordered_json::array();
    for (auto &l : s.via)
      v.push_back(loc_json(l));
    o["via"] = v;
  }
  return o;
}

} // namespace

std::span<const CheckImpl> fail2ban_checks() {
  return k_fail2ban_checks;
}

nlohmann::ordered_json facts_fail2ban(Context &ctx) {
  const Fail2banModel &m = fail2ban_model(ctx);
  const f2b::Config &c = m.config;
  nlohmann::ordered_json out;
  out["confdir"] = c.confdir;
  out["present"] = c.present;
  out["installed"] = m.package.yes;
  out["files"] = c.files;
  if (c.fatal)
    out["fatal"] = c.fatal->to_string();
  auto diags = nlohmann::ordered_json::array();
  for (auto &d : c.diagnostics)
    diags.push_back({{"level", d.level == f2b::Diagnostic::Level::error ? "error" : "warning"},
                     {"at", loc_json(d.loc)},
                     {"message", d.message}});
  out["diagnostics"] = diags;
  auto jails = nlohmann::ordered_json::array();
  for (auto &j : c.jails) {
    nlohmann::ordered_json o;
    o["name"] = j.name;
    o["at"] = loc_json(j.loc);
    o["enabled"] = j.enabled;
    o["enabled_setting"] = fail2ban_setting_json(j.enabled_setting);
    o["backend"] = fail2ban_setting_json(j.backend);
    o["filter"] = fail2ban_setting_json(j.filter);
    if (!j.config_error.empty())
      o["config_error"] = j.config_error;
    if (j.maxretry) {
      o["maxretry"] = fail2ban_setting_json(*j.maxretry);
      if (j.maxretry_value)
        o["maxretry"]["int"] = *j.maxretry_value;
    }
    if (j.findtime) {
      o["findtime"] = fail2ban_setting_json(*j.findtime);
      if (j.findtime_s)
        o["findtime"]["seconds"] = *j.findtime_s;
    }
    if (j.bantime) {
      o["bantime"] = fail2ban_setting_json(*j.bantime);
      if (j.bantime_s)
        o["bantime"]["seconds"] = *j.bantime_s;
    }
    if (j.logpath) {
      o["logpath"] = fail2ban_setting_json(*j.logpath);
      auto lps = nlohmann::ordered_json::array();
      for (auto &lp : j.logpaths)
        lps.push_back({{"glob", lp.pattern}, {"tail", lp.tail}, {"files", lp.files}});
      o["logpath"]["files"] = lps;
    }
    if (!j.errors.empty()) {
      auto e = nlohmann::ordered_json::array();
      for (auto &err : j.errors)
        e.push_back(err.to_string());
      o["errors"] = e;
    }
    jails.push_back(o);
  }
  out["jails"] = jails;
  return out;
}

} // namespace bulwark
