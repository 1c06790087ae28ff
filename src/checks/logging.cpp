// The logging domain: auditd installed and enabled, its rules, logs leaving
// the host, and how long auth and system logs are kept. Each model is parsed
// once per run (Context::model) by the parser that mimics the owning
// program: augenrules + auditctl, rsyslog, logrotate 3.21, systemd 252.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/checks/monitoring_model.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/auditrules.hpp>
#include <bulwark/parse/docker_daemon.hpp>
#include <bulwark/parse/dpkg_status.hpp>
#include <bulwark/parse/journald.hpp>
#include <bulwark/parse/log_shippers.hpp>
#include <bulwark/parse/logrotate.hpp>
#include <bulwark/parse/rsyslog.hpp>

#include <algorithm>
#include <cmath>
#include <functional>

namespace bulwark {

namespace {

struct JournaldModel {
  journald::SystemdConf conf;
};

// Whether a package is installed (the shared dpkg model decides; see
// models.hpp): `error` set when the dpkg database cannot answer.
using Installed = PackageInstalled;
Installed logging_installed(CheckRun &run, const std::string &package,
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
  Installed inst = logging_installed(run, "auditd", {"/sbin/auditd", "/usr/sbin/auditd"});
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

bool logging_path_under(const std::string &dir, const std::string &target) {
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
    return logging_path_under(r.path, target) && perms_write(r.perms);
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
    if (f.name == "dir" && logging_path_under(f.value, target))
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
  Installed inst = logging_installed(run, "auditd", {"/sbin/auditd", "/usr/sbin/auditd"});
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
  Installed inst = logging_installed(run, "rsyslog", {"/usr/sbin/rsyslogd"});
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
  Installed journal = logging_installed(
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

// --- shared by the second-wave audit checks ------------------------------

// The audit rules when auditd is installed and the rules parse; otherwise
// the finding is emitted and nullptr returned.
const audit::AuditRules *usable_rules(CheckRun &run) {
  Installed inst = logging_installed(run, "auditd", {"/sbin/auditd", "/usr/sbin/auditd"});
  if (reported(run, inst, "auditd"))
    return nullptr;
  if (!inst.yes) {
    run.emit(Status::not_applicable, "auditd",
             "auditd is not installed (logging.auditd reports it)", {inst.evidence});
    return nullptr;
  }
  const auto &rules =
      run.ctx().model<audit::AuditRules>([&] { return audit::load_audit_rules(run.ctx().fs()); });
  if (rules.source == audit::AuditRules::Source::none) {
    run.emit(Status::fail, "", "no audit rules: neither /etc/audit/rules.d nor audit.rules",
             {Evidence{"/etc/audit/audit.rules", 0, "absent", "rules in /etc/audit/rules.d", ""}});
    return nullptr;
  }
  if (rules.enabled && *rules.enabled == 0) {
    run.emit(
        Status::fail, "", "auditing is disabled by -e 0",
        {Evidence{rules.enabled_loc.path, rules.enabled_loc.line, "-e 0", "-e 1 or -e 2", ""}});
    return nullptr;
  }
  return &rules;
}

std::vector<Evidence> rule_errors(const audit::AuditRules &rules) {
  std::vector<Evidence> out;
  for (const auto &d : rules.diagnostics)
    if (d.level == audit::AuditDiagnostic::Level::error)
      out.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "parse"});
  return out;
}

std::string rules_file(const audit::AuditRules &rules) {
  return rules.files.empty() ? "/etc/audit/rules.d" : rules.files.back();
}

// Emits the verdict of a list of wanted rules: fail naming what is missing,
// error when the files have errors (auditctl -R stops at the first bad
// rule), else pass.
void rules_verdict(CheckRun &run, const audit::AuditRules &rules, std::vector<Evidence> good,
                   std::vector<Evidence> missing, const std::string &missing_names,
                   const std::string &pass_message) {
  auto errs = rule_errors(rules);
  if (!missing.empty()) {
    missing.insert(missing.end(), errs.begin(), errs.end());
    run.emit(Status::fail, "", "audit rules do not record " + missing_names, missing);
    return;
  }
  if (!errs.empty()) {
    errs.insert(errs.end(), good.begin(), good.end());
    run.emit(Status::error, "",
             "the audit rules have errors, first " + errs.front().path + ":" +
                 std::to_string(errs.front().line) + ": " + errs.front().found,
             errs);
    return;
  }
  run.emit(Status::pass, "", pass_message, good);
}

// A syscall rule on the exit list that records one of `names` for the 64-bit
// ABI (an arch=b64 filter or none), optionally with a failure filter.
bool records_syscalls(const audit::AuditRule &r, std::initializer_list<std::string_view> names,
                      bool failed_only = false) {
  if (!exit_always(r))
    return false;
  bool hit = std::any_of(r.syscalls.begin(), r.syscalls.end(), [&](const std::string &s) {
    return s == "all" || std::find(names.begin(), names.end(), s) != names.end();
  });
  if (!hit)
    return false;
  for (const auto &f : r.fields)
    if (f.name == "arch" && f.value != "b64" && f.value != "x86_64")
      return false;
  if (failed_only) {
    // -F exit=-EACCES / -EPERM, or success=0.
    for (const auto &f : r.fields)
      if ((f.name == "exit" &&
           (f.value == "-EACCES" || f.value == "-EPERM" || f.value == "-13" || f.value == "-1")) ||
          (f.name == "success" && f.value == "0"))
        return true;
    return false;
  }
  return true;
}

// --- logging.audit-rules-extended -----------------------------------------

void audit_rules_extended(CheckRun &run) {
  const audit::AuditRules *rp = usable_rules(run);
  if (!rp)
    return;
  const audit::AuditRules &rules = *rp;
  struct Want {
    const char *label;
    std::function<bool(const audit::AuditRule &)> match;
    const char *rule;
  };
  auto watch_any = [](std::initializer_list<const char *> paths) {
    std::vector<std::string> ps(paths.begin(), paths.end());
    return [ps](const audit::AuditRule &r) {
      return std::any_of(ps.begin(), ps.end(),
                         [&](const std::string &p) { return watches_writes(r, p); });
    };
  };
  const Want wants[] = {
      {"logins (faillog, lastlog, faillock)",
       watch_any({"/var/log/lastlog", "/var/run/faillock", "/run/faillock", "/var/log/faillog"}),
       "-w /var/log/lastlog -p wa -k logins; -w /var/run/faillock -p wa -k logins"},
      {"sessions (utmp, wtmp, btmp)",
       watch_any({"/var/run/utmp", "/run/utmp", "/var/log/wtmp", "/var/log/btmp"}),
       "-w /var/run/utmp -p wa -k session; -w /var/log/wtmp -p wa -k session; -w "
       "/var/log/btmp -p wa -k session"},
      {"time changes",
       [](const audit::AuditRule &r) {
         return records_syscalls(r, {"adjtimex", "settimeofday", "clock_settime"}) ||
                watches_writes(r, "/etc/localtime");
       },
       "-a always,exit -F arch=b64 -S adjtimex,settimeofday,clock_settime -k time-change"},
      {"network environment",
       [](const audit::AuditRule &r) {
         return records_syscalls(r, {"sethostname", "setdomainname"}) ||
                watches_writes(r, "/etc/hosts") || watches_writes(r, "/etc/network") ||
                watches_writes(r, "/etc/hostname");
       },
       "-a always,exit -F arch=b64 -S sethostname,setdomainname -k system-locale; -w /etc/hosts -p "
       "wa -k system-locale"},
      {"permission changes",
       [](const audit::AuditRule &r) {
         return records_syscalls(r, {"chmod", "fchmod", "fchmodat", "chown", "fchown", "fchownat",
                                     "lchown", "setxattr", "lsetxattr", "fsetxattr"});
       },
       "-a always,exit -F arch=b64 -S chmod,fchmod,fchmodat,chown,fchown,fchownat,lchown,setxattr "
       "-F auid>=1000 -F auid!=unset -k perm_mod"},
      {"failed access",
       [](const audit::AuditRule &r) {
         return records_syscalls(
             r, {"open", "openat", "creat", "truncate", "ftruncate", "open_by_handle_at"}, true);
       },
       "-a always,exit -F arch=b64 -S creat,open,openat,truncate,ftruncate -F exit=-EACCES -F "
       "auid>=1000 -F auid!=unset -k access"},
      {"kernel modules",
       [](const audit::AuditRule &r) {
         return records_syscalls(r, {"init_module", "finit_module", "delete_module"});
       },
       "-a always,exit -F arch=b64 -S init_module,finit_module,delete_module -k kernel_modules"},
      {"MAC policy", watch_any({"/etc/apparmor", "/etc/apparmor.d", "/etc/selinux"}),
       "-w /etc/apparmor/ -p wa -k MAC-policy; -w /etc/apparmor.d/ -p wa -k MAC-policy"},
      {"mounts", [](const audit::AuditRule &r) { return records_syscalls(r, {"mount"}); },
       "-a always,exit -F arch=b64 -S mount -F auid>=1000 -F auid!=unset -k mounts"},
      {"deletions",
       [](const audit::AuditRule &r) {
         return records_syscalls(r, {"unlink", "unlinkat", "rename", "renameat", "renameat2"});
       },
       "-a always,exit -F arch=b64 -S unlink,unlinkat,rename,renameat -F auid>=1000 -F "
       "auid!=unset -k delete"},
  };
  std::vector<Evidence> good, missing;
  std::string names;
  for (const Want &w : wants) {
    const audit::AuditRule *hit = nullptr;
    for (const auto &r : rules.rules)
      if (w.match(r)) {
        hit = &r;
        break;
      }
    if (hit) {
      good.push_back(
          Evidence{hit->loc.path, hit->loc.line, text::printable(hit->text), w.label, ""});
    } else {
      missing.push_back(
          Evidence{rules_file(rules), 0, "no rule for " + std::string(w.label), w.rule, w.label});
      names += (names.empty() ? "" : ", ") + std::string(w.label);
    }
  }
  rules_verdict(run, rules, good, missing, names,
                "audit rules record logins, sessions, time and network changes, permission "
                "changes, failed access, kernel modules, MAC policy, mounts and deletions");
}

// --- logging.audit-config-changes -----------------------------------------

const monitoring::DeploymentModel &logging_deployments(CheckRun &run) {
  return run.ctx().model<monitoring::DeploymentModel>(
      [&] { return monitoring::load_deployments(run.ctx().fs()); });
}

void audit_config_changes(CheckRun &run) {
  const audit::AuditRules *rp = usable_rules(run);
  if (!rp)
    return;
  const audit::AuditRules &rules = *rp;
  const RootFs &fs = run.ctx().fs();
  // What the guides harden; only what exists on the target is required.
  std::vector<std::string> targets;
  for (const char *p :
       {"/etc/docker", "/etc/postgresql", "/etc/redis", "/etc/nginx", "/etc/fail2ban", "/etc/ufw",
        "/etc/nftables.conf", "/etc/iptables", "/etc/audit", "/etc/pam.d"})
    if (fs.exists(p))
      targets.push_back(p);
  for (const auto &c : logging_deployments(run).compose_files)
    targets.push_back(c);
  std::vector<Evidence> good, missing;
  std::string names;
  for (const auto &t : targets) {
    const audit::AuditRule *hit = nullptr;
    for (const auto &r : rules.rules)
      if (watches_writes(r, t)) {
        hit = &r;
        break;
      }
    if (hit)
      good.push_back(Evidence{hit->loc.path, hit->loc.line, text::printable(hit->text), t, ""});
    else {
      missing.push_back(Evidence{rules_file(rules), 0, "no write watch on " + t,
                                 "-w " + t + " -p wa -k config", t});
      names += (names.empty() ? "" : ", ") + t;
    }
  }
  if (targets.empty()) {
    run.emit(Status::not_applicable, "", "none of the configurations the guides harden exists");
    return;
  }
  rules_verdict(run, rules, good, missing, "changes to " + names,
                "audit rules watch writes to " + std::to_string(targets.size()) +
                    " hardened configurations");
}

// --- logging.audit-secret-access ------------------------------------------

bool watches_reads(const audit::AuditRule &r, const std::string &target) {
  if (r.kind == audit::AuditRule::Kind::watch)
    return logging_path_under(r.path, target) &&
           (!r.perms || r.perms->find('r') != std::string::npos);
  if (!exit_always(r))
    return false;
  const audit::AuditField *perm = r.field("perm");
  if (!perm || perm->value.find('r') == std::string::npos)
    return false;
  for (const auto &f : r.fields)
    if (f.op == "=" && ((f.name == "path" && strip_slash(f.value) == target) ||
                        (f.name == "dir" && logging_path_under(f.value, target))))
      return true;
  return false;
}

void audit_secret_access(CheckRun &run) {
  const auto &dep = logging_deployments(run);
  std::vector<const monitoring::SecretFile *> files;
  for (const auto &f : dep.files)
    if (!f.error)
      files.push_back(&f);
  if (files.empty()) {
    run.emit(Status::not_applicable, "",
             "no Docker secret files, .env files or private keys were found");
    return;
  }
  const audit::AuditRules *rp = usable_rules(run);
  if (!rp)
    return;
  const audit::AuditRules &rules = *rp;
  std::vector<Evidence> good, missing;
  std::string names;
  for (const auto *f : files) {
    const audit::AuditRule *hit = nullptr;
    for (const auto &r : rules.rules)
      if (watches_reads(r, f->path)) {
        hit = &r;
        break;
      }
    if (hit)
      good.push_back(
          Evidence{hit->loc.path, hit->loc.line, text::printable(hit->text), f->path, ""});
    else {
      missing.push_back(Evidence{f->path, 0, "no read watch", "-w " + f->path + " -p r -k secrets",
                                 rules_file(rules)});
      if (missing.size() <= 5)
        names += (names.empty() ? "" : ", ") + f->path;
    }
  }
  if (missing.size() > 5)
    names += " and " + std::to_string(missing.size() - 5) + " more";
  rules_verdict(run, rules, good, missing, "reads of " + names,
                "audit rules record reads of " + std::to_string(files.size()) + " secret files");
}

// --- logging.auditd-config ------------------------------------------------

void auditd_config(CheckRun &run) {
  Installed inst = logging_installed(run, "auditd", {"/sbin/auditd", "/usr/sbin/auditd"});
  if (reported(run, inst, "auditd"))
    return;
  if (!inst.yes) {
    run.emit(Status::not_applicable, "auditd",
             "auditd is not installed (logging.auditd reports it)", {inst.evidence});
    return;
  }
  const auto &conf =
      run.ctx().model<audit::AuditdConf>([&] { return audit::load_auditd_conf(run.ctx().fs()); });
  std::vector<Evidence> errs;
  for (const auto &d : conf.diagnostics)
    errs.push_back(Evidence{d.loc.path, d.loc.line, d.message, "a file auditd accepts", "parse"});
  if (!errs.empty()) {
    run.emit(Status::error, "auditd",
             "auditd refuses " + conf.path + ": " + errs.front().path + ":" +
                 std::to_string(errs.front().line) + ": " + errs.front().found,
             errs);
    return;
  }
  int64_t days = run.param_int("days");
  // auditd 3.0.9's built-in values (what an absent keyword means).
  auto value = [&](const std::string &k, const char *def) {
    const audit::AuditdSetting *s = conf.get(k);
    std::string v = s ? text::lower(s->value) : def;
    Evidence e{s ? s->loc.path : conf.path, s ? s->loc.line : 0,
               k + " = " + (s ? text::printable(s->value) : std::string(def) + " (default)"), "",
               "auditd.conf"};
    return std::pair<std::string, Evidence>{v, e};
  };
  std::vector<Evidence> good, bad, warn;
  auto [action, action_ev] = value("max_log_file_action", "rotate");
  if (action == "keep_logs") {
    action_ev.expected = "keep_logs";
    good.push_back(action_ev);
  } else if (action == "rotate") {
    auto [num, num_ev] = value("num_logs", "0");
    auto [size, size_ev] = value("max_log_file", "8");
    action_ev.expected = "keep_logs, or rotate sized for " + std::to_string(days) + " days";
    action_ev.found += "; " + num_ev.found + "; " + size_ev.found;
    warn.push_back(action_ev);
  } else {
    action_ev.expected = "keep_logs";
    bad.push_back(action_ev);
  }
  for (const char *k : {"space_left_action", "admin_space_left_action", "disk_full_action"}) {
    const char *def = std::string_view(k) == "disk_full_action" ? "suspend" : "suspend";
    if (std::string_view(k) == "space_left_action")
      def = "ignore";
    auto [v, e] = value(k, def);
    e.expected = "email, exec, single, halt or syslog (not ignore)";
    ((v == "ignore" || v.empty()) ? bad : good).push_back(e);
  }
  if (!bad.empty()) {
    std::string what;
    for (auto &b : bad)
      what += (what.empty() ? "" : "; ") + b.found;
    bad.insert(bad.end(), warn.begin(), warn.end());
    run.emit(Status::fail, "auditd", what, bad);
    return;
  }
  if (!warn.empty()) {
    warn.insert(warn.end(), good.begin(), good.end());
    run.emit(Status::warn, "auditd",
             "audit logs rotate and the oldest are deleted: whether " + std::to_string(days) +
                 " days are kept depends on the volume (" + warn.front().found + ")",
             warn);
    return;
  }
  run.emit(Status::pass, "auditd",
           "audit logs are kept (max_log_file_action = keep_logs) and full disks are handled",
           good);
}

// --- logging.remote-tls ---------------------------------------------------

void remote_tls(CheckRun &run) {
  const auto &rs = rsyslog_model(run);
  const auto &ship = run.ctx().model<shippers::ShipperModel>([&] {
    return shippers::load_shippers(run.ctx().fs(), run.ctx().get<SystemdModel>().files());
  });
  std::optional<bool> rs_active = rsyslog_active(run, rs);
  if (!rs_active)
    return;
  std::vector<Evidence> good, bad, unknown;
  if (*rs_active)
    for (const auto &f : rs.forwards) {
      bool tls = rsyslog::uses_tls(rs, f);
      std::string found = f.type + " " + f.target;
      if (!f.stream_driver.empty() || !f.stream_driver_mode.empty())
        found += " (driver " +
                 (f.stream_driver.empty() ? rs.default_netstream_driver : f.stream_driver) +
                 ", mode " + (f.stream_driver_mode.empty() ? "0" : f.stream_driver_mode) + ")";
      (tls ? good : bad)
          .push_back(Evidence{f.loc.path, f.loc.line, text::printable(found),
                              "StreamDriver=\"gtls\" StreamDriverMode=\"1\" (or omrelp tls=\"on\")",
                              "rsyslog"});
    }
  for (const auto &d : ship.destinations) {
    std::string t = text::lower(d.target);
    Evidence e{d.loc.path, d.loc.line, text::printable(d.target), "an https:// or TLS destination",
               d.agent};
    if (text::starts_with(t, "https://") || text::starts_with(t, "tls://"))
      good.push_back(e);
    else if (text::starts_with(t, "http://"))
      bad.push_back(e);
    else
      unknown.push_back(e);
  }
  if (good.empty() && bad.empty() && unknown.empty()) {
    run.emit(Status::not_applicable, "", "logs are not forwarded (logging.central reports it)");
    return;
  }
  if (!bad.empty()) {
    bad.insert(bad.end(), good.begin(), good.end());
    run.emit(Status::fail, "", "logs leave the host in plain text: " + bad.front().found, bad);
    return;
  }
  if (!unknown.empty()) {
    unknown.insert(unknown.end(), good.begin(), good.end());
    run.emit(Status::warn, "",
             "cannot tell whether " + unknown.front().context + " uses TLS to " +
                 unknown.front().found,
             unknown);
    return;
  }
  run.emit(Status::pass, "", "every log destination is reached over TLS", good);
}

// --- logging.auth-events --------------------------------------------------

void auth_events(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  const auto &rs = rsyslog_model(run);
  std::optional<bool> rs_active = rsyslog_active(run, rs);
  if (!rs_active)
    return;
  std::vector<Evidence> ev;
  if (*rs_active) {
    for (const auto &a : rs.file_actions)
      if ((rsyslog::selector_takes(a.selector, "auth") ||
           rsyslog::selector_takes(a.selector, "authpriv")))
        ev.push_back(Evidence{a.loc.path, a.loc.line, a.selector + " " + a.path,
                              "auth,authpriv.* to a file", "rsyslog"});
    if (!ev.empty()) {
      run.emit(Status::pass, "", "rsyslog writes auth and authpriv messages to " + ev.front().found,
               ev);
      return;
    }
  }
  // The journal keeps them when it is persistent.
  const auto &jm = run.ctx().model<JournaldModel>(
      [&] { return JournaldModel{journald::load_systemd_conf(fs, "systemd/journald.conf")}; });
  const journald::Assignment *storage =
      jm.conf.last_valid("Journal", "Storage", [](const std::string &v) {
        return v == "volatile" || v == "persistent" || v == "auto" || v == "none";
      });
  std::string st = storage ? storage->value : "auto";
  Evidence e = storage ? Evidence{storage->loc.path, storage->loc.line, "Storage=" + st,
                                  "Storage=persistent", "journald"}
                       : Evidence{"/etc/systemd/journald.conf", 0, "Storage not set (auto)",
                                  "Storage=persistent", "journald"};
  if (st == "auto") {
    auto d = fs.stat("/var/log/journal");
    bool persistent = d && d->type == FileInfo::Type::directory;
    e.found += persistent ? "; /var/log/journal exists" : "; /var/log/journal is absent";
    st = persistent ? "persistent" : "volatile";
  }
  if (st == "persistent") {
    run.emit(Status::pass, "", "the persistent journal keeps auth and authpriv messages", {e});
    return;
  }
  std::vector<Evidence> bad{e};
  if (*rs_active)
    bad.push_back(Evidence{"/etc/rsyslog.conf", 0, "no auth or authpriv selector to a file",
                           "auth,authpriv.* /var/log/auth.log", "rsyslog"});
  run.emit(Status::fail, "",
           "authentication events reach no persistent log (no rsyslog auth selector, journal " +
               st + ")",
           bad);
}

// --- logging.container-logs -----------------------------------------------

void container_logs(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  Installed docker = logging_installed(run, "docker.io", {"/usr/bin/dockerd"});
  if (reported(run, docker))
    return;
  Installed ce;
  if (!docker.yes) {
    ce = logging_installed(run, "docker-ce", {"/usr/bin/dockerd"});
    if (reported(run, ce))
      return;
  }
  if (!docker.yes && !ce.yes) {
    run.emit(Status::not_applicable, "", "Docker is not installed", {docker.evidence});
    return;
  }
  auto daemon = docker::load_daemon_json(fs);
  std::string driver = "json-file";
  Evidence e{docker::k_daemon_json, 0, "log-driver not set (default json-file)",
             "syslog, journald, fluentd, gelf, loki, splunk or awslogs", "dockerd"};
  if (!daemon) {
    if (!daemon.error().not_found()) {
      run.emit(Status::error, "", "cannot read daemon.json: " + daemon.error().to_string(),
               {Evidence{daemon.error().path, daemon.error().line, daemon.error().message,
                         "valid JSON", "parse"}});
      return;
    }
  } else if (auto it = daemon->options.find("log-driver");
             it != daemon->options.end() && it->is_string()) {
    driver = text::lower(it->get<std::string>());
    e = Evidence{daemon->path, daemon->line_of("log-driver"), "log-driver " + driver, e.expected,
                 "dockerd"};
  }
  static constexpr std::string_view k_shipping[] = {"syslog",     "journald", "fluentd", "gelf",
                                                    "loki",       "splunk",   "awslogs", "gcplogs",
                                                    "logentries", "etwlogs"};
  if (std::find(std::begin(k_shipping), std::end(k_shipping), driver) != std::end(k_shipping)) {
    run.emit(Status::pass, "", "container logs go to " + driver + " daemon-wide", {e});
    return;
  }
  const auto &ship = run.ctx().model<shippers::ShipperModel>([&] {
    return shippers::load_shippers(run.ctx().fs(), run.ctx().get<SystemdModel>().files());
  });
  if (!ship.destinations.empty()) {
    const auto &d = ship.destinations.front();
    run.emit(Status::warn, "",
             "containers log to " + driver + " files; " + d.agent +
                 " ships logs off the host, but whether it reads /var/lib/docker/containers "
                 "cannot be told from its configuration",
             {e, Evidence{d.loc.path, d.loc.line, d.target, "reads container logs", d.agent}});
    return;
  }
  run.emit(Status::fail, "",
           "container logs stay in " + driver +
               " files that are deleted with their container and are shipped nowhere",
           {e});
}

constexpr CheckImpl k_logging_checks[] = {
    {"logging.auditd", auditd},
    {"logging.audit-rules", audit_rules},
    {"logging.central", central},
    {"logging.retention", retention},
    {"logging.audit-rules-extended", audit_rules_extended},
    {"logging.auditd-config", auditd_config},
    {"logging.audit-config-changes", audit_config_changes},
    {"logging.audit-secret-access", audit_secret_access},
    {"logging.remote-tls", remote_tls},
    {"logging.auth-events", auth_events},
    {"logging.container-logs", container_logs},
};

} // namespace

std::span<const CheckImpl> logging_checks() {
  return k_logging_checks;
}

} // namespace bulwark
