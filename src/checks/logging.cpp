// The logging domain: auditd installed and enabled, its rules, logs leaving
// the host, and how long auth and system logs are kept. Each model is parsed
// once per run (Context::model) by the parser that mimics the owning
// program: augenrules + auditctl, rsyslog, logrotate 3.21, systemd 252.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/auditrules.hpp>
#include <bulwark/parse/dpkg_status.hpp>
#include <bulwark/parse/journald.hpp>
#include <bulwark/parse/log_shippers.hpp>
#include <bulwark/parse/logrotate.hpp>
#include <bulwark/parse/rsyslog.hpp>

#include <algorithm>
#include <cmath>

namespace bulwark {

namespace {

struct JournaldModel {
  journald::SystemdConf conf;
};

// Whether a package is installed (the shared dpkg model decides; see
// models.hpp): `error` set when the dpkg database cannot answer.
using Installed = PackageInstalled;
Installed installed(CheckRun &run, const std::string &package,
                    std::initializer_list<const char *> files) {
  return package_installed(run.ctx(), package,
                           std::vector<std::string>(files.begin(), files.end()));
}

// Reports a dpkg database that cannot answer; true when it did.
bool reported(CheckRun &run, const Installed &inst, const std::string &subject = "") {
  if (!inst.error)
    return false;
  run.emit(Status::error, subject, inst.error->message, {inst.evidence});
  return true;
}

// --- logging.auditd -------------------------------------------------------

void auditd(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  Installed inst = installed(run, "auditd", {"/sbin/auditd", "/usr/sbin/auditd"});
  if (reported(run, inst, "auditd"))
    return;
  if (!inst.yes) {
    run.emit(Status::fail, "auditd", "auditd is not installed", {inst.evidence});
    return;
  }
  // One definition of masked and enabled: systemctl is-enabled's (models.hpp).
  const systemd::UnitState &st = run.ctx().get<SystemdModel>().state("auditd.service");
  if (st.state == systemd::UnitFileState::error) {
    run.emit(Status::error, "auditd",
             "cannot tell whether auditd.service is enabled: " + st.error->to_string(),
             {Evidence{st.error->path, st.error->line, st.error->message, "a readable unit file",
                       "systemd"},
              inst.evidence});
    return;
  }
  if (st.is_masked()) {
    run.emit(
        Status::fail, "auditd", "auditd is installed but its service is masked",
        {Evidence{st.path, 0, std::string(systemd::to_string(st.state)), "not masked", "systemd"},
         inst.evidence});
    return;
  }
  if (st.is_enabled_by_link()) {
    run.emit(Status::pass, "auditd", "auditd is installed and enabled (" + st.path + ")",
             {Evidence{st.path, 0, std::string(systemd::to_string(st.state)), "enabled", "systemd"},
              inst.evidence});
    return;
  }
  // Without a systemd unit, SysV rc links start it (a native unit makes
  // systemd-sysv-generator ignore them).
  if (st.state == systemd::UnitFileState::not_found)
    if (auto m = fs.glob("/etc/rc[2345].d/S[0-9][0-9]auditd"); m && !m->empty()) {
      run.emit(Status::pass, "auditd", "auditd is installed and started by " + m->front(),
               {Evidence{m->front(), 0, "present", "an rc link", "sysv"}, inst.evidence});
      return;
    }
  run.emit(
      Status::fail, "auditd",
      "auditd is installed but not enabled (auditd.service is " +
          std::string(systemd::to_string(st.state)) + ")",
      {Evidence{st.fragment.empty() ? "/etc/systemd/system/multi-user.target.wants/auditd.service"
                                    : st.fragment,
                0, std::string(systemd::to_string(st.state)), "enabled (systemctl enable auditd)",
                "systemd"},
       inst.evidence});
}

// --- logging.audit-rules --------------------------------------------------

bool perms_write(const std::optional<std::string> &p) {
  return !p || p->find('w') != std::string::npos;
}

std::string strip_slash(std::string p) {
  while (p.size() > 1 && p.back() == '/')
    p.pop_back();
  return p;
}

bool under(const std::string &dir, const std::string &target) {
  std::string d = strip_slash(dir);
  return target == d || (target.size() > d.size() && target.compare(0, d.size(), d) == 0 &&
                         (d == "/" || target[d.size()] == '/'));
}

bool exit_always(const audit::AuditRule &r) {
  return r.kind == audit::AuditRule::Kind::syscall && r.list == "exit" && r.action == "always";
}

// A rule that records writes to `target`.
bool watches_writes(const audit::AuditRule &r, const std::string &target) {
  if (r.kind == audit::AuditRule::Kind::watch)
    return under(r.path, target) && perms_write(r.perms);
  if (!exit_always(r))
    return false;
  const audit::AuditField *perm = r.field("perm");
  if (perm && perm->value.find('w') == std::string::npos)
    return false;
  for (const auto &f : r.fields) {
    if (f.op != "=")
      continue;
    if (f.name == "path" && strip_slash(f.value) == target)
      return true;
    if (f.name == "dir" && under(f.value, target))
      return true;
  }
  return false;
}

// A rule that records privileged command execution: execve on the exit
// list for the 64-bit ABI, not narrowed to an unprivileged user; or a
// path=... perm=x rule (a privileged binary's execution).
bool records_exec(const audit::AuditRule &r) {
  if (r.kind == audit::AuditRule::Kind::watch)
    return r.perms && r.perms->find('x') != std::string::npos;
  if (!exit_always(r))
    return false;
  if (const auto *perm = r.field("perm");
      perm && perm->value.find('x') != std::string::npos && (r.field("path") || r.field("dir")))
    return true;
  bool execve = std::any_of(r.syscalls.begin(), r.syscalls.end(), [](const std::string &s) {
    return s == "execve" || s == "execveat" || s == "all";
  });
  if (!execve)
    return false;
  for (const auto &f : r.fields) {
    if (f.name == "arch" && f.value != "b64" && f.value != "x86_64")
      return false;
    if ((f.name == "euid" || f.name == "uid") && f.op == "=" && f.value != "0")
      return false;
  }
  return true;
}

void audit_rules(CheckRun &run) {
  Installed inst = installed(run, "auditd", {"/sbin/auditd", "/usr/sbin/auditd"});
  if (reported(run, inst, "auditd"))
    return;
  if (!inst.yes) {
    run.emit(Status::not_applicable, "auditd",
             "auditd is not installed (logging.auditd reports it)", {inst.evidence});
    return;
  }
  const auto &rules =
      run.ctx().model<audit::AuditRules>([&] { return audit::load_audit_rules(run.ctx().fs()); });
  std::vector<Evidence> diags;
  for (const auto &d : rules.diagnostics)
    if (d.level == audit::AuditDiagnostic::Level::error)
      diags.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "parse"});
  if (rules.source == audit::AuditRules::Source::none) {
    diags.insert(diags.begin(), Evidence{"/etc/audit/audit.rules", 0, "absent",
                                         "rules in /etc/audit/rules.d", ""});
    run.emit(Status::fail, "", "no audit rules: neither /etc/audit/rules.d nor audit.rules", diags);
    return;
  }
  if (rules.enabled && *rules.enabled == 0) {
    run.emit(
        Status::fail, "", "auditing is disabled by -e 0",
        {Evidence{rules.enabled_loc.path, rules.enabled_loc.line, "-e 0", "-e 1 or -e 2", ""}});
    return;
  }
  struct Want {
    const char *label;
    const char *target; // nullptr: privileged execution
    const char *rule;
  };
  static constexpr Want k_wants[] = {
      {"identity", "/etc/passwd", "-w /etc/passwd -p wa -k identity"},
      {"identity", "/etc/shadow", "-w /etc/shadow -p wa -k identity"},
      {"identity", "/etc/group", "-w /etc/group -p wa -k identity"},
      {"identity", "/etc/gshadow", "-w /etc/gshadow -p wa -k identity"},
      {"sudoers", "/etc/sudoers", "-w /etc/sudoers -p wa -k scope"},
      {"sudoers", "/etc/sudoers.d", "-w /etc/sudoers.d -p wa -k scope"},
      {"sshd config", "/etc/ssh/sshd_config", "-w /etc/ssh/sshd_config -p wa -k sshd"},
      {"privileged commands", nullptr,
       "-a always,exit -F arch=b64 -S execve -F euid=0 -F auid>=1000 -F auid!=unset -k "
       "privileged"},
  };
  std::vector<Evidence> good, missing;
  std::string missing_names;
  for (const Want &w : k_wants) {
    const audit::AuditRule *hit = nullptr;
    for (const auto &r : rules.rules)
      if (w.target ? watches_writes(r, w.target) : records_exec(r)) {
        hit = &r;
        break;
      }
    std::string what = w.target ? w.target : "privileged command execution";
    if (hit) {
      good.push_back(
          Evidence{hit->loc.path, hit->loc.line, text::printable(hit->text), what, w.label});
    } else {
      missing.push_back(Evidence{rules.files.empty() ? "/etc/audit/rules.d" : rules.files.back(), 0,
                                 "no rule for " + what, w.rule, w.label});
      missing_names += (missing_names.empty() ? "" : ", ") + what;
    }
  }
  std::string immutable = rules.enabled && *rules.enabled == 2
                              ? "; the rules are immutable (-e 2 at " + rules.enabled_loc.path +
                                    ":" + std::to_string(rules.enabled_loc.line) + ")"
                              : "; note: without -e 2 root can change the rules at run time";
  if (!missing.empty()) {
    missing.insert(missing.end(), diags.begin(), diags.end());
    run.emit(Status::fail, "", "audit rules do not watch " + missing_names, missing);
    return;
  }
  if (!diags.empty()) {
    // Fail closed: auditctl -R stops at the first rule it rejects (without
    // -c), and an unreadable rules file may hold anything, so what the
    // kernel ends up with is not what these files say.
    diags.insert(diags.end(), good.begin(), good.end());
    run.emit(Status::error, "",
             "the audit rules have errors, first " + diags.front().path + ":" +
                 std::to_string(diags.front().line) + ": " + diags.front().found,
             diags);
    return;
  }
  if (rules.enabled && *rules.enabled == 2)
    good.push_back(
        Evidence{rules.enabled_loc.path, rules.enabled_loc.line, "-e 2", "-e 2", "immutable"});
  run.emit(Status::pass, "",
           "audit rules watch identity files, sudoers, sshd_config and privileged execution" +
               immutable,
           good);
}

// --- logging.central ------------------------------------------------------

// nullopt: the dpkg database cannot answer (reported as an error).
std::optional<bool> rsyslog_active(CheckRun &run, const rsyslog::Config &rs,
                                   Evidence *why = nullptr) {
  Installed inst = installed(run, "rsyslog", {"/usr/sbin/rsyslogd"});
  if (reported(run, inst))
    return std::nullopt;
  if (why)
    *why = inst.evidence;
  return inst.yes && rs.present;
}

const rsyslog::Config &rsyslog_model(CheckRun &run) {
  return run.ctx().model<rsyslog::Config>([&] { return rsyslog::load_rsyslog(run.ctx().fs()); });
}

void central(CheckRun &run) {
  const auto &rs = rsyslog_model(run);
  const auto &ship = run.ctx().model<shippers::ShipperModel>([&] {
    return shippers::load_shippers(run.ctx().fs(), run.ctx().get<SystemdModel>().files());
  });
  Evidence rs_inst;
  std::optional<bool> rs_active = rsyslog_active(run, rs, &rs_inst);
  if (!rs_active)
    return;
  bool rs_on = *rs_active;
  std::vector<Evidence> good, rulesets;
  if (rs_on)
    for (const auto &f : rs.forwards) {
      Evidence e{f.loc.path, f.loc.line, f.type + " " + f.target, "a remote destination",
                 f.ruleset.empty() ? "rsyslog" : "rsyslog ruleset " + f.ruleset};
      (f.ruleset.empty() ? good : rulesets).push_back(e);
    }
  for (const auto &d : ship.destinations)
    good.push_back(Evidence{d.loc.path, d.loc.line, d.target, "a remote destination", d.agent});
  if (!good.empty()) {
    std::string who;
    for (const auto &e : good)
      if (who.find(e.context) == std::string::npos)
        who += (who.empty() ? "" : ", ") + e.context;
    good.insert(good.end(), rulesets.begin(), rulesets.end());
    run.emit(Status::pass, "", "logs are forwarded off the host (" + who + ")", good);
    return;
  }
  if (!rulesets.empty()) {
    run.emit(Status::warn, "",
             "rsyslog forwards only inside named rulesets: only the inputs bound to them are "
             "sent off the host",
             rulesets);
    return;
  }
  std::vector<Evidence> bad;
  if (rs.present && !rs_on)
    bad.push_back(rs_inst);
  else if (rs.present)
    bad.push_back(Evidence{"/etc/rsyslog.conf", 0, "no @host, @@host or omfwd action",
                           "*.* @@loghost:514 or action(type=\"omfwd\" ...)", "rsyslog"});
  for (const auto &u : ship.unconfigured)
    bad.push_back(Evidence{u.loc.path, u.loc.line, u.why, "a remote destination", u.agent});
  if (bad.empty())
    bad.push_back(Evidence{"/etc/rsyslog.conf", 0,
                           "no rsyslog, journal upload or log shipper configuration",
                           "a remote destination", ""});
  run.emit(Status::fail, "", "logs are not forwarded off the host", bad);
}

// --- logging.retention ----------------------------------------------------

std::string days_text(double d) {
  if (std::isinf(d))
    return "unlimited";
  char buf[32];
  std::snprintf(buf, sizeof buf, d == std::floor(d) ? "%.0f days" : "%.2f days", d);
  return buf;
}

struct Verdict {
  Status status;
  std::string message;
  Evidence evidence;
};

Verdict judge_file(const logrotate::Config &lr, const std::string &file, int64_t want) {
  const logrotate::Block *b = lr.find(file);
  if (b == nullptr) {
    return {Status::pass, file + " is never rotated (no logrotate block): kept until removed",
            Evidence{lr.present ? "/etc/logrotate.conf" : "/etc/logrotate.d", 0,
                     "no block for " + file, ">= " + std::to_string(want) + " days", file}};
  }
  const logrotate::Settings &s = b->settings;
  auto cite = [](const SourceLocation &l, const SourceLocation &fallback) {
    return l.path.empty() ? fallback : l;
  };
  if (s.criterion == logrotate::Criterion::size) {
    SourceLocation l = cite(s.criterion_loc, b->loc);
    return {
        Status::warn,
        file + " is rotated by size (" + std::to_string(s.size) +
            " bytes): how long it is kept depends on the log volume",
        Evidence{l.path, l.line, "size-based rotation", "daily/weekly/monthly with rotate", file}};
  }
  double period = 0;
  switch (s.criterion) {
  case logrotate::Criterion::hourly: period = 1.0 / 24; break;
  case logrotate::Criterion::daily: period = 1; break;
  case logrotate::Criterion::weekly: period = 7; break;
  case logrotate::Criterion::monthly: period = 30; break;
  case logrotate::Criterion::yearly: period = 365; break;
  case logrotate::Criterion::size: break;
  }
  double by_count = s.rotate < 0 ? INFINITY : static_cast<double>(s.rotate) * period;
  SourceLocation decider = cite(s.rotate_loc, b->loc);
  std::string found = "rotate " + std::to_string(s.rotate) + " x " +
                      std::string(logrotate::to_string(s.criterion)) + " = " + days_text(by_count);
  double kept = by_count;
  if (s.maxage && static_cast<double>(*s.maxage) < by_count) {
    kept = static_cast<double>(*s.maxage);
    decider = cite(s.maxage_loc, b->loc);
    found = "maxage " + std::to_string(*s.maxage) + " (" + found + ")";
  }
  Evidence e{decider.path, decider.line, found, ">= " + std::to_string(want) + " days",
             file + " (block at " + b->loc.path + ":" + std::to_string(b->loc.line) + ")"};
  if (kept < static_cast<double>(want))
    return {Status::fail, file + " is kept " + days_text(kept), e};
  return {Status::pass, file + " is kept " + days_text(kept), e};
}

void retention(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  int64_t want = run.param_int("days");
  const auto &rs = rsyslog_model(run);
  std::optional<bool> rs_active = rsyslog_active(run, rs);
  if (!rs_active)
    return;
  if (*rs_active) {
    const auto &lr = run.ctx().model<logrotate::Config>(
        [&] { return logrotate::load_logrotate(run.ctx().fs()); });
    std::vector<std::string> files;
    auto add = [&](const std::string &f) {
      if (std::find(files.begin(), files.end(), f) == files.end())
        files.push_back(f);
    };
    for (const auto &a : rs.file_actions)
      if (a.path.find('%') == std::string::npos &&
          (rsyslog::selector_takes(a.selector, "auth") ||
           rsyslog::selector_takes(a.selector, "authpriv") ||
           rsyslog::selector_takes(a.selector, "daemon")))
        add(a.path);
    if (files.empty()) {
      add("/var/log/auth.log");
      add("/var/log/syslog");
    }
    Status worst = Status::pass;
    std::vector<Evidence> ev;
    std::string msg;
    for (const auto &f : files) {
      Verdict v = judge_file(lr, f, want);
      if (v.status == Status::fail || (v.status == Status::warn && worst == Status::pass))
        worst = v.status;
      ev.push_back(v.evidence);
      msg += (msg.empty() ? "" : "; ") + v.message;
    }
    std::optional<Evidence> first_error;
    for (const auto &d : lr.diagnostics)
      if (d.level != logrotate::Diagnostic::Level::info) {
        ev.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "logrotate"});
        if (d.level == logrotate::Diagnostic::Level::error && !first_error)
          first_error = ev.back();
      }
    // Fail closed: a logrotate file with errors (unreadable, or one logrotate
    // rejects) may hold the block that decides these logs' rotation.
    if (first_error && worst != Status::fail) {
      run.emit(Status::error, "rsyslog",
               msg + "; but " + first_error->path + ":" + std::to_string(first_error->line) + ": " +
                   first_error->found,
               ev);
      return;
    }
    run.emit(worst, "rsyslog", msg, ev);
    return;
  }
  // Without rsyslog the journal is the log, if there is one.
  Installed journal = installed(
      run, "systemd", {"/lib/systemd/systemd-journald", "/usr/lib/systemd/systemd-journald"});
  if (reported(run, journal))
    return;
  if (!journal.yes) {
    run.emit(Status::fail, "",
             "no system logger: neither rsyslog nor systemd-journald is installed",
             {journal.evidence});
    return;
  }
  const auto &jm = run.ctx().model<JournaldModel>(
      [&] { return JournaldModel{journald::load_systemd_conf(fs, "systemd/journald.conf")}; });
  const auto &conf = jm.conf;
  const journald::Assignment *storage =
      conf.last_valid("Journal", "Storage", [](const std::string &v) {
        return v == "volatile" || v == "persistent" || v == "auto" || v == "none";
      });
  std::string st = storage ? storage->value : "auto";
  Evidence st_ev = storage
                       ? Evidence{storage->loc.path, storage->loc.line, "Storage=" + st,
                                  "Storage=persistent", "journald"}
                       : Evidence{"/etc/systemd/journald.conf", 0, "Storage not set (default auto)",
                                  "Storage=persistent", "journald"};
  if (st == "auto") {
    auto d = fs.stat("/var/log/journal");
    bool persistent = d && d->type == FileInfo::Type::directory;
    st_ev.found += persistent ? "; /var/log/journal exists" : "; /var/log/journal is absent";
    st = persistent ? "persistent" : "volatile";
  }
  if (st != "persistent") {
    run.emit(Status::fail, "journald",
             "the journal is the only log and is " + st + ": it does not survive a reboot",
             {st_ev});
    return;
  }
  const journald::Assignment *ret =
      conf.last_valid("Journal", "MaxRetentionSec",
                      [](const std::string &v) { return journald::parse_timespan(v).ok(); });
  uint64_t usec = ret ? *journald::parse_timespan(ret->value) : 0;
  uint64_t want_usec = static_cast<uint64_t>(want) * journald::k_usec_per_day;
  if (ret && usec != 0 && usec < want_usec) {
    run.emit(Status::fail, "journald",
             "the journal keeps entries for " +
                 days_text(static_cast<double>(usec) / journald::k_usec_per_day) + " only",
             {Evidence{ret->loc.path, ret->loc.line, "MaxRetentionSec=" + ret->value,
                       ">= " + std::to_string(want) + "d", "journald"},
              st_ev});
    return;
  }
  const journald::Assignment *use = conf.last_valid(
      "Journal", "SystemMaxUse", [](const std::string &v) { return journald::parse_size(v).ok(); });
  std::string cap = use ? "SystemMaxUse=" + use->value + " (" + use->loc.path + ":" +
                              std::to_string(use->loc.line) + ")"
                        : "the default size cap (10% of the file system, at most 4G)";
  if (ret && usec != 0) {
    run.emit(Status::pass, "journald",
             "the journal is persistent and keeps entries " +
                 days_text(static_cast<double>(usec) / journald::k_usec_per_day) + " unless " +
                 cap + " fills first",
             {Evidence{ret->loc.path, ret->loc.line, "MaxRetentionSec=" + ret->value,
                       ">= " + std::to_string(want) + "d", "journald"},
              st_ev});
    return;
  }
  run.emit(Status::warn, "journald",
           "the journal is persistent with no time limit: " + cap +
               " decides how long entries last; set MaxRetentionSec to make >= " +
               std::to_string(want) + " days explicit",
           {ret ? Evidence{ret->loc.path, ret->loc.line, "MaxRetentionSec=" + ret->value,
                           ">= " + std::to_string(want) + "d", "journald"}
                : Evidence{"/etc/systemd/journald.conf", 0, "MaxRetentionSec not set",
                           ">= " + std::to_string(want) + "d", "journald"},
            st_ev});
}

constexpr CheckImpl k_checks[] = {
    {"logging.auditd", auditd},
    {"logging.audit-rules", audit_rules},
    {"logging.central", central},
    {"logging.retention", retention},
};

} // namespace

std::span<const CheckImpl> logging_checks() {
  return k_checks;
}

} // namespace bulwark
