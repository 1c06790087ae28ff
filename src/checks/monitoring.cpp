// Checks: monitoring.* (IDS, file integrity, Prometheus alerts, fail2ban
// running), secrets.* (.env files, Docker secret files, private keys),
// env.security-flags (guide 000 §2 `.env.production`) and
// data.encryption-at-rest. Models in monitoring_model.cpp. No finding ever
// carries a secret value: .env values appear masked (monitoring::mask).

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/checks/monitoring_model.hpp>
#include <bulwark/checks/schedule_model.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/procfs.hpp>

#include <algorithm>
#include <ctime>
#include <set>

namespace bulwark {

namespace {

using monitoring::SecretFile;

const monitoring::DeploymentModel &monitoring_deployments(CheckRun &run) {
  return run.ctx().model<monitoring::DeploymentModel>(
      [&] { return monitoring::load_deployments(run.ctx().fs()); });
}

std::string searched_places() {
  std::string s;
  for (const char *r : monitoring::k_app_roots)
    s += std::string(s.empty() ? "" : ", ") + r;
  return s + " (depth " + std::to_string(monitoring::k_app_depth) +
         "), /etc/ssl, /etc/letsencrypt and other key folders under /etc";
}

const char *secret_kind_name(SecretFile::Kind k) {
  switch (k) {
  case SecretFile::Kind::env: return ".env file";
  case SecretFile::Kind::docker_secret: return "Docker secret file";
  case SecretFile::Kind::private_key: return "private key";
  }
  return "";
}

// --- monitoring.* ----------------------------------------------------------

void intrusion_detection(CheckRun &run) {
  auto f = monitoring::load_ids(run.ctx().fs(), run.ctx().get<SystemdModel>().files());
  std::vector<Evidence> good, bad;
  if (!f.manager.empty())
    good.push_back(Evidence{f.manager_loc.path, f.manager_loc.line,
                            "manager " + text::printable(f.manager), "a manager address",
                            "Wazuh/OSSEC agent"});
  if (f.manager_install)
    good.push_back(Evidence{f.remote_loc.path, f.remote_loc.line, "<remote> (manager install)", "",
                            "Wazuh/OSSEC manager"});
  if (!f.watch_unit.empty() && !f.watch_wants.empty() && !f.watch_masked)
    good.push_back(Evidence{f.watch_wants, 0, "bulwark-watch.service enabled", "", "systemd"});
  if (!good.empty()) {
    run.emit(Status::pass, "", "an intrusion detection system is configured: " + good.front().found,
             good);
    return;
  }
  if (f.ossec_error) {
    run.emit(Status::error, "",
             "cannot read /var/ossec/etc/ossec.conf: " + f.ossec_error->to_string());
    return;
  }
  if (f.watch_error) {
    run.emit(Status::error, "",
             "cannot tell whether bulwark-watch.service is enabled: " + f.watch_error->to_string());
    return;
  }
  if (f.ossec_conf)
    bad.push_back(Evidence{"/var/ossec/etc/ossec.conf", 0,
                           "no manager address in <client> (<address>, <server-ip>)",
                           "<client><server><address>MANAGER</address>", "Wazuh/OSSEC agent"});
  else
    bad.push_back(Evidence{"/var/ossec/etc/ossec.conf", 0, "absent",
                           "a Wazuh or OSSEC agent configuration", ""});
  std::string watch = f.watch_unit.empty() ? "absent"
                      : f.watch_masked     ? "masked"
                                           : "installed but not enabled";
  bad.push_back(
      Evidence{f.watch_unit.empty() ? "/etc/systemd/system/bulwark-watch.service" : f.watch_unit, 0,
               "bulwark-watch.service " + watch, "enabled", "systemd"});
  run.emit(Status::fail, "",
           std::string(f.ossec_conf ? "the Wazuh/OSSEC agent has no manager address"
                                    : "no Wazuh/OSSEC agent") +
               " and bulwark-watch.service is " + watch,
           bad);
}

// YYYY-MM-DD (UTC) of a time in seconds since the epoch; "?" when out of range.
std::string utc_day(int64_t seconds) {
  char when[32] = "?";
  time_t t = static_cast<time_t>(seconds);
  struct tm tm {};
  if (gmtime_r(&t, &tm) != nullptr)
    std::strftime(when, sizeof when, "%Y-%m-%d", &tm);
  return when;
}

void file_integrity(CheckRun &run) {
  auto f = monitoring::load_fim(run.ctx().fs(), run.ctx().get<DpkgModel>());
  if (f.aide_db_present) {
    run.emit(Status::pass, "", "the AIDE database " + f.aide_db + " exists",
             {Evidence{f.aide_db_setting.path.empty() ? f.aide_db : f.aide_db_setting.path,
                       f.aide_db_setting.line, "database_in " + f.aide_db + " (present)", "",
                       f.aide_db_setting.line == 0 ? "AIDE default" : "aide.conf"}});
    return;
  }
  if (!f.bulwark_baselines.empty()) {
    // A bulwark baseline counts when `bulwark fim check` could trust it:
    // intact, signed, the signature verified with the public key, and
    // younger than `days`.
    const std::string pubkey = run.param_str("pubkey");
    const int64_t days = run.param_int("days");
    const int64_t now = static_cast<int64_t>(std::time(nullptr));
    std::vector<Evidence> ev;
    std::optional<std::string> error, failure;
    for (auto &path : f.bulwark_baselines) {
      auto b = monitoring::read_fim_baseline(run.ctx().fs(), path, pubkey);
      if (b.error) {
        ev.push_back(Evidence{path, 0, b.error->message, "an intact, signed bulwark fim database",
                              "bulwark fim"});
        error = error.value_or("bulwark's file-integrity baseline " + path +
                               " is not trusted: " + b.error->message);
        continue;
      }
      if (!b.present)
        continue; // gone since the glob
      std::string when = utc_day(b.db.created);
      if (!b.db.has_signature) {
        ev.push_back(Evidence{path, 0, "unsigned, written " + when,
                              "signed (bulwark fim init --key)", "bulwark fim"});
        failure = failure.value_or("bulwark's file-integrity baseline " + path +
                                   " is not signed: an intruder can re-baseline it quietly");
        continue;
      }
      if (b.pubkey_error) {
        ev.push_back(Evidence{pubkey, 0, b.pubkey_error->message, "an Ed25519 public key (PEM)",
                              "bulwark fim"});
        error = error.value_or("cannot verify " + path + ": " + b.pubkey_error->to_string());
        continue;
      }
      if (!b.db.signed_) {
        ev.push_back(Evidence{pubkey, 0, "absent", "the baseline's Ed25519 public key (PEM)",
                              "bulwark fim"});
        failure = failure.value_or("bulwark's file-integrity baseline " + path +
                                   " is signed, but there is no public key at " + pubkey +
                                   " to verify it");
        continue;
      }
      if (now - b.db.created > days * 86400) {
        ev.push_back(Evidence{path, 0, "written " + when,
                              "younger than " + std::to_string(days) + " days", "bulwark fim"});
        failure = failure.value_or("bulwark's file-integrity baseline " + path + " is older than " +
                                   std::to_string(days) + " days (written " + when + ")");
        continue;
      }
      run.emit(Status::pass, "",
               "bulwark's file-integrity baseline " + path + " is valid and signed (" +
                   std::to_string(b.db.records.size()) + " entries, written " + when + ")",
               {Evidence{path, 0, "valid, signed, written " + when, "", "bulwark fim"},
                Evidence{pubkey, 0, "the signature verifies", "", "bulwark fim"}});
      return;
    }
    if (error || failure) {
      // A baseline that cannot be trusted is an error (fail closed) unless
      // the only problems are ones the owner must fix (unsigned, stale).
      run.emit(error ? Status::error : Status::fail, "",
               (error ? *error : *failure) + "; run `bulwark fim init --key KEY`", ev);
      return;
    }
  }
  if (!f.tripwire_dbs.empty()) {
    run.emit(Status::pass, "", "the Tripwire database " + f.tripwire_dbs.front() + " exists",
             {Evidence{f.tripwire_dbs.front(), 0, "present", "", "tripwire"}});
    return;
  }
  std::vector<Evidence> ev{
      Evidence{f.aide_db_setting.path.empty() ? f.aide_db : f.aide_db_setting.path,
               f.aide_db_setting.line, f.aide_db + " absent", "an AIDE database",
               f.aide_db_setting.line == 0 ? "AIDE default" : "aide.conf"},
      Evidence{"/var/lib/bulwark/fim", 0, "no baseline*", "a bulwark baseline", ""}};
  if (f.dpkg_error) // only the message's wording depends on it
    ev.push_back(Evidence{f.dpkg_error->path, f.dpkg_error->line, f.dpkg_error->message,
                          "whether aide is installed", "dpkg"});
  run.emit(
      Status::fail, "",
      f.aide_installed || !f.aide_conf.empty()
          ? "AIDE is installed but has no database at " + f.aide_db + " (never initialised)"
          : "no file-integrity baseline: no AIDE database, Tripwire database or bulwark baseline",
      ev);
}

// monitoring.file-integrity-changes: `bulwark fim check` inside the audit.
void file_integrity_changes(CheckRun &run) {
  const std::string database = run.param_str("database");
  const std::string pubkey = run.param_str("pubkey");
  const std::string config = run.param_str("config");
  auto f = monitoring::audit_fim(run.ctx().fs(), database, pubkey, config,
                                 run.param_int("allow-unsigned") != 0, run.param_int("fast") != 0);
  const auto &b = f.baseline;
  if (!b.present) {
    run.emit(Status::not_applicable, "",
             "no bulwark fim baseline at " + database +
                 " (`bulwark fim init` writes one; monitoring.file-integrity says whether any "
                 "baseline exists)",
             {Evidence{database, 0, "absent", "a bulwark fim baseline", "bulwark fim"}});
    return;
  }
  // Nothing is compared with a baseline that is not trusted (fail closed):
  // an intruder who can rewrite it can hide any change.
  auto untrusted = [&](const std::string &why, Evidence ev) {
    run.emit(Status::error, "", "the file-integrity baseline " + database + " " + why,
             {std::move(ev)});
  };
  if (b.error) {
    untrusted("is not trusted: " + b.error->message,
              Evidence{database, 0, b.error->message, "an intact, signed bulwark fim database",
                       "bulwark fim"});
    return;
  }
  if (b.pubkey_error) {
    untrusted(
        "cannot be verified: " + b.pubkey_error->to_string(),
        Evidence{pubkey, 0, b.pubkey_error->message, "an Ed25519 public key (PEM)", "bulwark fim"});
    return;
  }
  if (!b.db.signed_ && run.param_int("allow-unsigned") == 0) {
    if (b.db.has_signature)
      untrusted(
          "is signed, but there is no public key at " + pubkey + " to verify it",
          Evidence{pubkey, 0, "absent", "the baseline's Ed25519 public key (PEM)", "bulwark fim"});
    else
      untrusted(
          "is not signed: an intruder could have re-baselined it (sign it with `bulwark "
          "fim update --key KEY`, or set allow-unsigned)",
          Evidence{database, 0, "unsigned", "signed (bulwark fim init --key)", "bulwark fim"});
    return;
  }
  if (f.policy_error) {
    run.emit(Status::error, "", "cannot read the fim policy: " + f.policy_error->to_string(),
             {Evidence{f.policy_error->path, f.policy_error->line, f.policy_error->message,
                       "an aide.conf-syntax policy", "bulwark fim"}});
    return;
  }
  if (f.scan_error) {
    run.emit(Status::error, "", "cannot scan the target: " + f.scan_error->to_string(),
             {Evidence{f.scan_error->path, 0, f.scan_error->message, "", "bulwark fim"}});
    return;
  }
  const std::string when = utc_day(b.db.created);
  // allow-unsigned compares with a baseline nobody verified: every finding
  // says so.
  const std::string trust = b.db.signed_         ? "signed"
                            : b.db.has_signature ? "signature NOT verified"
                                                 : "UNSIGNED";
  const std::string source = "bulwark fim baseline (" + trust + ")";
  // The baseline comes first in each finding's evidence: it is what the
  // path is compared with.
  const Evidence baseline_ev{database, 0, "baseline written " + when, "", source};
  for (auto &c : f.changes) {
    std::vector<Evidence> ev{baseline_ev};
    std::string what;
    switch (c.kind) {
    case fim::Change::Kind::added:
      what = "added " + c.type + " (not in the baseline of " + when + ")";
      ev.push_back(Evidence{c.path, 0, "present", "absent (as in the baseline)", source});
      break;
    case fim::Change::Kind::removed:
      what = "removed " + c.type + " (in the baseline of " + when + ")";
      ev.push_back(Evidence{c.path, 0, "absent", "present (as in the baseline)", source});
      break;
    case fim::Change::Kind::changed: {
      std::string names;
      for (auto &a : c.attributes) {
        std::string name(fim::attr_name(a.attr));
        names += (names.empty() ? "" : ", ") + name;
        ev.push_back(Evidence{c.path, 0, name + " " + text::printable(a.new_value),
                              name + " " + text::printable(a.old_value), source});
      }
      what = "changed " + c.type + " since the baseline of " + when + ": " + names;
      break;
    }
    }
    run.emit(Status::fail, c.path, text::printable(c.path) + ": " + what, std::move(ev));
  }
  for (auto &e : f.unverifiable)
    run.emit(Status::error, e.path, text::printable(e.path) + ": cannot be verified: " + e.message,
             {baseline_ev, Evidence{e.path, 0, e.message, "readable and stable", "bulwark fim"}});
  if (f.changes.empty() && f.unverifiable.empty())
    run.emit(Status::pass, "",
             std::to_string(f.entries) + " entries match the file-integrity baseline " + database +
                 " (" + trust + ", written " + when + ")",
             {baseline_ev});
}

bool metric_matches(std::string_view name, const std::vector<std::string> &wanted) {
  for (auto &w : wanted)
    if (name == w || (name.size() > w.size() && name.substr(name.size() - w.size()) == w &&
                      name[name.size() - w.size() - 1] == '_'))
      return true;
  return false;
}

void security_alerts(CheckRun &run) {
  const auto &d = monitoring_deployments(run);
  auto f = monitoring::load_alerts(run.ctx().fs(), d);
  auto failed_names = run.param_list("failed-auth-metrics");
  auto unauth_names = run.param_list("unauthorized-metrics");
  if (f.configs.empty() && f.rule_files.empty() && f.problems.empty()) {
    run.emit(Status::not_applicable, "",
             "no Prometheus configuration or rule files on this host (/etc/prometheus, "
             "prometheus.yml in the application directories); audit the monitoring server");
    return;
  }
  std::optional<Evidence> failed, unauth;
  std::vector<Evidence> notes;
  for (auto &rf : f.rule_files) {
    for (auto &dg : rf.diagnostics)
      notes.push_back(Evidence{dg.loc.path, dg.loc.line, dg.message, "", "rules"});
    for (auto &r : rf.rules) {
      if (r.kind != prom::Rule::Kind::alert || r.name.empty())
        continue;
      for (auto &ref : prom::metric_refs(r.expr)) {
        bool rated = ref.inside("rate") || ref.inside("irate") || ref.inside("increase");
        Evidence e{r.loc.path, r.loc.line,
                   "alert " + text::printable(r.name) + ": " +
                       text::printable(text::trim(r.expr), 160),
                   "", "group " + text::printable(r.group)};
        if (!failed && rated && metric_matches(ref.name, failed_names))
          failed = e;
        if (!unauth && metric_matches(ref.name, unauth_names))
          unauth = e;
      }
    }
  }
  notes.insert(notes.end(), f.problems.begin(), f.problems.end());
  if (failed && unauth) {
    run.emit(Status::pass, "", "alerts fire on the failed-login rate and on unauthorized access",
             {*failed, *unauth});
    return;
  }
  std::vector<Evidence> ev;
  std::string missing;
  std::string where = f.configs.empty() ? std::string("/etc/prometheus") : f.configs.front();
  if (failed) {
    ev.push_back(*failed);
  } else {
    missing =
        "no alert on the rate of failed logins (rate/increase of " + failed_names.front() + ")";
    ev.push_back(Evidence{where, 0, "no such alert",
                          "expr: rate(" + failed_names.front() + "[5m]) > 10", ""});
  }
  if (unauth) {
    ev.push_back(*unauth);
  } else {
    missing += std::string(missing.empty() ? "" : "; ") + "no alert on " + unauth_names.front();
    ev.push_back(Evidence{where, 0, "no such alert", "expr: " + unauth_names.front() + " > 0", ""});
  }
  ev.insert(ev.end(), notes.begin(), notes.end());
  run.emit(Status::fail, "",
           missing + " in " + std::to_string(f.rule_files.size()) + " rule file(s)", ev);
}

void fail2ban_running(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  if (!fs.is_host_root()) {
    run.emit(Status::not_applicable, "", "an offline root has no running processes (live check)");
    return;
  }
  const auto &procs = run.ctx().probes().processes();
  if (!procs) {
    run.emit(Status::error, "",
             "the running processes cannot be read: " + procs.error().to_string(),
             {Evidence{procs.error().path, 0, procs.error().message, "", "live"}});
    return;
  }
  auto found = monitoring::find_guard_processes(*procs);
  if (!found.empty()) {
    run.emit(Status::pass, "",
             found.front().what + " is running (pid " + std::to_string(found.front().pid) + ")",
             {Evidence{found.front().path, 0, found.front().what, "", "live"}});
    return;
  }
  run.emit(Status::fail, "", "neither fail2ban-server nor bulwark watch is running",
           {Evidence{"/proc", 0, "no fail2ban-server or bulwark watch process",
                     "fail2ban-server (systemctl enable --now fail2ban)", "live"}});
}

// --- second wave: scheduled integrity checks, IDS at boot, alert routing --

bool is_fim_job(const ScheduledJob &j) {
  if (j.runs("aide") || j.runs("aide.wrapper") || j.runs("dailyaidecheck") ||
      j.name.find("aide") != std::string::npos)
    return true;
  for (auto &s : j.steps)
    if (s.text.find("bulwark") != std::string::npos && s.text.find("fim") != std::string::npos &&
        s.text.find("check") != std::string::npos)
      return true;
  return false;
}

void file_integrity_scheduled(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  const ScheduleModel &sched = run.ctx().get<ScheduleModel>();
  int64_t days = run.param_int("days");
  std::vector<Evidence> good, bad;
  const ScheduledJob *job = nullptr;
  for (auto &j : sched.jobs)
    if (is_fim_job(j)) {
      job = &j;
      break;
    }
  // Wazuh/OSSEC's syscheck runs inside the agent on its own schedule.
  std::optional<Evidence> syscheck;
  if (auto t = fs.read_file("/var/ossec/etc/ossec.conf", 4 * 1024 * 1024)) {
    int lineno = 0;
    bool in_comment = false;
    for (auto &l : text::split(*t, '\n', true)) {
      ++lineno;
      if (l.find("<!--") != std::string::npos)
        in_comment = l.find("-->") == std::string::npos;
      else if (in_comment && l.find("-->") != std::string::npos)
        in_comment = false;
      else if (!in_comment && l.find("<syscheck>") != std::string::npos && !syscheck)
        syscheck = Evidence{"/var/ossec/etc/ossec.conf", lineno, "<syscheck>", "", "Wazuh/OSSEC"};
      if (syscheck && !in_comment && l.find("<disabled>yes</disabled>") != std::string::npos) {
        syscheck.reset();
        break;
      }
    }
  } else if (!t.error().not_found()) {
    bad.push_back(Evidence{"/var/ossec/etc/ossec.conf", 0, "cannot read: " + t.error().message,
                           "a readable file", "Wazuh/OSSEC"});
  }
  if (!job && !syscheck) {
    std::vector<Evidence> ev{Evidence{"/etc/systemd/system/timers.target.wants", 0,
                                      "no enabled dailyaidecheck.timer, cron.daily/aide, bulwark "
                                      "fim timer or Wazuh syscheck",
                                      "systemctl enable --now dailyaidecheck.timer", ""}};
    ev.insert(ev.end(), bad.begin(), bad.end());
    ev.insert(ev.end(), sched.errors.begin(), sched.errors.end());
    if (!bad.empty() || !sched.errors.empty()) {
      run.emit(Status::error, "",
               "no periodic integrity check found, but some inputs could not be read", ev);
      return;
    }
    run.emit(Status::fail, "", "file integrity is never checked on a schedule", ev);
    return;
  }
  if (job)
    good.push_back(Evidence{job->where.path, job->where.line, job->kind + " " + job->name,
                            "a periodic integrity check", job->schedule});
  if (syscheck)
    good.push_back(*syscheck);
  // The baseline the check compares against must be recent.
  auto f = monitoring::load_fim(fs, run.ctx().get<DpkgModel>());
  std::optional<std::string> baseline;
  if (f.aide_db_present)
    baseline = f.aide_db;
  else if (!f.bulwark_baselines.empty())
    baseline = f.bulwark_baselines.front();
  if (!baseline && !syscheck) {
    good.push_back(Evidence{f.aide_db, 0, "absent", "an initialised database (aideinit)", "AIDE"});
    run.emit(Status::fail, "",
             "an integrity check is scheduled but has no baseline to compare with (" + f.aide_db +
                 " is absent)",
             good);
    return;
  }
  if (baseline) {
    auto st = fs.stat(*baseline);
    if (!st) {
      run.emit(Status::error, "", "cannot stat " + *baseline + ": " + st.error().message, good);
      return;
    }
    int64_t age = (static_cast<int64_t>(std::time(nullptr)) - st->mtime) / 86400;
    Evidence e{*baseline, 0, "baseline " + std::to_string(age) + " days old",
               "<= " + std::to_string(days) + " days", "baseline"};
    if (age > days) {
      good.insert(good.begin(), e);
      run.emit(Status::fail, "",
               "the integrity baseline " + *baseline + " is " + std::to_string(age) +
                   " days old: changes since then are accepted as normal",
               good);
      return;
    }
    good.push_back(e);
  }
  run.emit(Status::pass, "", "file integrity is checked periodically (" + good.front().found + ")",
           good);
}

void ids_running(CheckRun &run) {
  const SystemdModel &sd = run.ctx().get<SystemdModel>();
  std::vector<Evidence> good, seen;
  for (const char *unit :
       {"wazuh-agent.service", "ossec.service", "ossec-hids.service", "bulwark-watch.service"}) {
    const systemd::UnitState &st = sd.state(unit);
    if (st.state == systemd::UnitFileState::not_found)
      continue;
    if (st.state == systemd::UnitFileState::error) {
      run.emit(Status::error, "",
               std::string("cannot tell whether ") + unit +
                   " is enabled: " + (st.error ? st.error->to_string() : "error"),
               {Evidence{st.error ? st.error->path : st.path, st.error ? st.error->line : 0,
                         "error", "enabled", unit}});
      return;
    }
    Evidence e{st.path.empty() ? "/etc/systemd/system/" + std::string(unit) : st.path, 0,
               std::string(unit) + " " + std::string(systemd::to_string(st.state)), "enabled",
               "systemd"};
    (st.is_enabled_by_link() ? good : seen).push_back(e);
  }
  if (good.empty()) {
    if (seen.empty())
      seen.push_back(Evidence{"/etc/systemd/system", 0,
                              "no wazuh-agent, ossec or bulwark-watch unit",
                              "wazuh-agent.service or bulwark-watch.service enabled", "systemd"});
    run.emit(Status::fail, "",
             "no intrusion detection agent starts at boot (" + seen.front().found + ")", seen);
    return;
  }
  if (run.ctx().live()) {
    const auto &procs = run.ctx().probes().processes();
    if (!procs) {
      run.emit(Status::error, "",
               "the running processes cannot be read: " + procs.error().to_string(), good);
      return;
    }
    for (const procfs::Process &p : procs->processes)
      for (size_t i = 0; i < p.argv.size() && i < 2; ++i) {
        std::string_view b = procfs::base_name(p.argv[i]);
        bool watch = b == "bulwark" && p.argv.size() > i + 1 && p.argv[i + 1] == "watch";
        if (b == "wazuh-agentd" || b == "ossec-agentd" || b == "wazuh-syscheckd" || watch) {
          good.push_back(Evidence{p.dir + "/cmdline", 0,
                                  std::string(b) + " (pid " + std::to_string(p.pid) + ")",
                                  "running", "live"});
          run.emit(Status::pass, "", good.front().found + " and running", good);
          return;
        }
      }
    run.emit(Status::fail, "",
             good.front().found + " but no wazuh-agentd, ossec-agentd or bulwark watch is running",
             good);
    return;
  }
  run.emit(Status::pass, "",
           "the intrusion detection agent starts at boot (" + good.front().found + ")", good);
}

// The prometheus.yml files of the host (the ones AlertFacts found), parsed.
struct PromConfigs {
  struct One {
    std::string path;
    std::optional<yaml::Node> root;
    std::optional<Error> error;
  };
  std::vector<One> files;
};

const PromConfigs &prom_configs(CheckRun &run, const monitoring::AlertFacts &f) {
  return run.ctx().model<PromConfigs>([&] {
    PromConfigs out;
    for (auto &p : f.configs) {
      PromConfigs::One o{p, {}, {}};
      auto t = run.ctx().fs().read_file(p, 16 * 1024 * 1024);
      if (!t)
        o.error = t.error();
      else if (auto n = yaml::parse(*t, p))
        o.root = std::move(*n);
      else
        o.error = n.error();
      out.files.push_back(std::move(o));
    }
    return out;
  });
}

const monitoring::AlertFacts &alert_facts(CheckRun &run) {
  return run.ctx().model<monitoring::AlertFacts>(
      [&] { return monitoring::load_alerts(run.ctx().fs(), monitoring_deployments(run)); },
      "prometheus rules");
}

void alert_routing(CheckRun &run) {
  const auto &f = alert_facts(run);
  if (f.configs.empty()) {
    run.emit(Status::not_applicable, "",
             "no prometheus.yml on this host (/etc/prometheus, application directories)");
    return;
  }
  const RootFs &fs = run.ctx().fs();
  const auto &pc = prom_configs(run, f);
  std::vector<Evidence> good, bad;
  std::vector<std::string> targets;
  for (auto &o : pc.files) {
    if (o.error) {
      run.emit(Status::error, o.path, "cannot read " + o.path + ": " + o.error->to_string(),
               {Evidence{o.error->path, o.error->line, o.error->message, "valid YAML", "parse"}});
      return;
    }
    const yaml::Node *am = o.root->find("alerting");
    am = am ? am->find("alertmanagers") : nullptr;
    bool any = false;
    if (am && am->is_sequence())
      for (auto &m : am->items) {
        const yaml::Node *sc = m.find("static_configs");
        if (sc && sc->is_sequence())
          for (auto &s : sc->items)
            if (const yaml::Node *t = s.find("targets"); t && t->is_sequence())
              for (auto &x : t->items)
                if (x.is_scalar() && !x.scalar.empty()) {
                  any = true;
                  targets.push_back(x.scalar);
                  good.push_back(Evidence{o.path, x.line,
                                          "alertmanager " + text::printable(x.scalar),
                                          "an Alertmanager", "prometheus.yml"});
                }
        // Service discovery (dns_sd_configs, file_sd_configs, ...) also names one.
        for (auto &[k, v] : m.entries)
          if (k.size() > 11 && k.compare(k.size() - 11, 11, "_sd_configs") == 0) {
            any = true;
            good.push_back(Evidence{o.path, v.key_line, k, "an Alertmanager", "prometheus.yml"});
          }
      }
    if (!any)
      bad.push_back(Evidence{o.path, am ? am->key_line : 0, "no alerting.alertmanagers target",
                             "alerting: {alertmanagers: [{static_configs: [{targets: "
                             "['alertmanager:9093']}]}]}",
                             "prometheus.yml"});
  }
  if (!bad.empty()) {
    run.emit(Status::fail, "", "Prometheus evaluates alerts but sends them nowhere", bad);
    return;
  }
  // An Alertmanager configured on this host must have a receiver that sends.
  for (const char *p : {"/etc/prometheus/alertmanager.yml", "/etc/alertmanager/alertmanager.yml"}) {
    auto t = fs.read_file(p, 16 * 1024 * 1024);
    if (!t) {
      if (!t.error().not_found()) {
        run.emit(Status::error, "", "cannot read " + std::string(p) + ": " + t.error().message);
        return;
      }
      continue;
    }
    auto n = yaml::parse(*t, p);
    if (!n) {
      run.emit(Status::error, "", "cannot parse " + std::string(p) + ": " + n.error().to_string(),
               {Evidence{p, n.error().line, n.error().message, "valid YAML", "parse"}});
      return;
    }
    const yaml::Node *recv = n->find("receivers");
    std::optional<Evidence> sender;
    if (recv && recv->is_sequence())
      for (auto &r : recv->items)
        for (auto &[k, v] : r.entries)
          if (k.size() > 8 && k.compare(k.size() - 8, 8, "_configs") == 0 && v.is_sequence() &&
              !v.items.empty() && !sender)
            sender = Evidence{p, v.key_line, k, "a receiver that notifies someone", "alertmanager"};
    if (!sender) {
      good.insert(good.begin(), Evidence{p, recv ? recv->key_line : 0,
                                         "no receiver with email/webhook/slack/pagerduty configs",
                                         "a receiver that notifies someone", "alertmanager"});
      run.emit(Status::fail, "", "Alertmanager on this host has no receiver that notifies anyone",
               good);
      return;
    }
    good.push_back(*sender);
  }
  run.emit(Status::pass, "", "alerts go to " + good.front().found, good);
}

void resource_alerts(CheckRun &run) {
  const auto &f = alert_facts(run);
  if (f.configs.empty() && f.rule_files.empty()) {
    run.emit(Status::not_applicable, "",
             "no Prometheus configuration or rule files on this host; audit the monitoring server");
    return;
  }
  std::vector<Evidence> good, bad;
  // Node metrics are scraped: a job named node* or a target on port 9100.
  std::optional<Evidence> scrape;
  for (auto &o : prom_configs(run, f).files) {
    if (o.error || !o.root)
      continue;
    const yaml::Node *sc = o.root->find("scrape_configs");
    if (sc && sc->is_sequence())
      for (auto &job : sc->items) {
        const yaml::Node *name = job.find("job_name");
        bool node = name && name->is_scalar() &&
                    text::lower(name->scalar).find("node") != std::string::npos;
        if (const yaml::Node *st = job.find("static_configs"); st && st->is_sequence())
          for (auto &s : st->items)
            if (const yaml::Node *t = s.find("targets"); t && t->is_sequence())
              for (auto &x : t->items)
                node |= x.is_scalar() && x.scalar.size() > 5 &&
                        x.scalar.compare(x.scalar.size() - 5, 5, ":9100") == 0;
        if (node && !scrape)
          scrape = Evidence{o.path, name ? name->line : 0,
                            "job_name " + (name ? text::printable(name->scalar) : std::string()),
                            "node_exporter scraped", "prometheus.yml"};
      }
  }
  if (scrape)
    good.push_back(*scrape);
  else
    bad.push_back(Evidence{f.configs.empty() ? "/etc/prometheus/prometheus.yml" : f.configs.front(),
                           0, "no scrape job for node_exporter",
                           "scrape_configs: [{job_name: node, static_configs: [{targets: "
                           "['localhost:9100']}]}]",
                           "prometheus.yml"});
  struct Want {
    const char *what;
    std::vector<const char *> prefixes;
  };
  const Want wants[] = {
      {"CPU", {"node_cpu_seconds_total", "node_load1", "node_load5", "node_load15"}},
      {"memory", {"node_memory_"}},
      {"disk", {"node_filesystem_avail", "node_filesystem_free", "node_filesystem_size"}}};
  for (const Want &w : wants) {
    std::optional<Evidence> hit;
    for (auto &rf : f.rule_files)
      for (auto &r : rf.rules) {
        if (hit || r.kind != prom::Rule::Kind::alert)
          continue;
        for (auto &ref : prom::metric_refs(r.expr))
          for (auto *p : w.prefixes)
            if (!hit && text::starts_with(ref.name, p))
              hit = Evidence{r.loc.path, r.loc.line, "alert " + text::printable(r.name), w.what,
                             "group " + text::printable(r.group)};
      }
    if (hit)
      good.push_back(*hit);
    else
      bad.push_back(Evidence{f.configs.empty() ? "/etc/prometheus" : f.configs.front(), 0,
                             std::string("no alert on ") + w.what,
                             std::string("an alert on ") + w.prefixes.front() + "...", w.what});
  }
  if (!bad.empty()) {
    std::string what;
    for (auto &b : bad)
      what += (what.empty() ? "" : "; ") + b.found;
    bad.insert(bad.end(), good.begin(), good.end());
    run.emit(Status::fail, "", what, bad);
    return;
  }
  run.emit(Status::pass, "", "node metrics are scraped and CPU, memory and disk alerts exist",
           good);
}

// --- secrets.* -------------------------------------------------------------

void file_permissions(CheckRun &run) {
  const auto &d = monitoring_deployments(run);
  std::vector<Evidence> bad, good, missing;
  for (auto &f : d.files) {
    if (!f.info) {
      if (!f.declared_at.path.empty())
        missing.push_back(Evidence{f.path, 0, "absent: " + f.error->message, "",
                                   "declared at " + f.declared_at.path + ":" +
                                       std::to_string(f.declared_at.line)});
      continue;
    }
    const FileInfo &i = *f.info;
    std::vector<std::string> why;
    if (i.mode & 0006)
      why.push_back(i.mode & 0004 ? "world-readable" : "world-writable");
    bool group_ok = i.gid == 0 || (f.kind == SecretFile::Kind::private_key && d.ssl_cert_gid &&
                                   i.gid == *d.ssl_cert_gid);
    if ((i.mode & 0040) && !group_ok)
      why.push_back("group-readable (gid " + std::to_string(i.gid) + ")");
    if (i.mode & 0020)
      why.push_back("group-writable");
    if (i.uid != 0 && (!f.dir_owner || i.uid != *f.dir_owner))
      why.push_back("owned by uid " + std::to_string(i.uid) +
                    ", neither root nor the directory's owner");
    Evidence e{f.path, 0,
               "mode " + text::octal_mode(i.mode) + ", owner " + std::to_string(i.uid) + ":" +
                   std::to_string(i.gid),
               "mode 0600 or stricter (0640 with group root or ssl-cert for keys), owner root "
               "or the directory's owner",
               secret_kind_name(f.kind)};
    if (why.empty()) {
      good.push_back(std::move(e));
      continue;
    }
    e.found += " (" + text::join(why, ", ") + ")";
    bad.push_back(std::move(e));
  }
  if (!bad.empty()) {
    std::string msg = std::to_string(bad.size()) +
                      " secret file(s) readable or writable by others: " + bad.front().path;
    bad.insert(bad.end(), missing.begin(), missing.end());
    run.emit(Status::fail, "", msg, bad);
    return;
  }
  if (good.empty() && missing.empty()) {
    run.emit(Status::not_applicable, "",
             "no .env file, Docker secret file or private key found in " + searched_places());
    return;
  }
  if (!missing.empty()) {
    run.emit(Status::warn, "",
             "a secret file that a compose file declares is absent: " + missing.front().path,
             missing);
    return;
  }
  run.emit(Status::pass, "", std::to_string(good.size()) + " secret file(s), none open to others",
           good);
}

struct PlainSecret {
  const dotenv::Entry *entry;
  std::string why;
};

// The literal secrets of an .env file (never their values).
std::vector<PlainSecret> plaintext_secrets(const dotenv::DotenvFile &env) {
  std::vector<PlainSecret> out;
  for (auto &e : env.entries) {
    if (!e.has_value || e.value.empty() || monitoring::is_reference(e.value))
      continue;
    if (monitoring::secret_key_name(e.key)) {
      out.push_back({&e, "secret-named key with a literal value"});
      continue;
    }
    // A password inside a URL: scheme://user:password@host.
    size_t scheme = e.value.find("://");
    if (scheme != std::string::npos) {
      size_t at = e.value.find('@', scheme);
      size_t slash = e.value.find('/', scheme + 3);
      size_t colon = e.value.find(':', scheme + 3);
      if (at != std::string::npos && (slash == std::string::npos || at < slash) &&
          colon != std::string::npos && colon < at && colon + 1 < at)
        out.push_back({&e, "credentials in a URL"});
    }
  }
  return out;
}

void rotation_age(CheckRun &run) {
  const auto &d = monitoring_deployments(run);
  const int64_t max_days = run.param_int("max-days");
  const int64_t now = static_cast<int64_t>(std::time(nullptr));
  std::vector<Evidence> old, young;
  size_t superseded = 0;
  for (auto &f : d.files) {
    if (!f.info)
      continue;
    if (!f.superseded_by.empty()) {
      ++superseded; // certbot's history: what live/ points to is the key in use
      continue;
    }
    if (f.kind == SecretFile::Kind::env && (!f.env || plaintext_secrets(*f.env).empty()))
      continue; // no secret in it to rotate
    int64_t days = std::max<int64_t>(0, (now - f.info->mtime) / 86400);
    char date[32] = "?";
    std::time_t t = static_cast<std::time_t>(f.info->mtime);
    struct tm tm_buf;
    if (gmtime_r(&t, &tm_buf))
      std::strftime(date, sizeof date, "%Y-%m-%d", &tm_buf);
    Evidence e{f.path, 0,
               "modified " + std::string(date) + " (" + std::to_string(days) + " days ago)",
               "modified within " + std::to_string(max_days) + " days", secret_kind_name(f.kind)};
    (days > max_days ? old : young).push_back(std::move(e));
  }
  if (!old.empty()) {
    std::string msg = std::to_string(old.size()) + " secret file(s) older than " +
                      std::to_string(max_days) + " days: " + old.front().path;
    run.emit(Status::fail, "", msg, old);
    return;
  }
  if (young.empty()) {
    run.emit(Status::not_applicable, "", "no secret file found in " + searched_places());
    return;
  }
  run.emit(Status::pass, "",
           std::to_string(young.size()) + " secret file(s), all changed within " +
               std::to_string(max_days) + " days (by modification time)" +
               (superseded ? "; " + std::to_string(superseded) +
                                 " superseded certbot key(s) in /etc/letsencrypt/archive not judged"
                           : ""),
           young);
}

void env_files(CheckRun &run) {
  const auto &d = monitoring_deployments(run);
  std::vector<Evidence> bad, errors;
  int files = 0;
  for (auto &f : d.files) {
    if (f.kind != SecretFile::Kind::env)
      continue;
    if (!f.env) {
      if (f.error)
        errors.push_back(
            Evidence{f.path, f.error->line, "cannot read: " + f.error->message, "", "dotenv"});
      continue;
    }
    ++files;
    for (auto &dg : f.env->diagnostics)
      errors.push_back(Evidence{dg.loc.path, dg.loc.line, dg.message, "", "dotenv"});
    for (auto &s : plaintext_secrets(*f.env))
      bad.push_back(Evidence{f.path, s.entry->loc.line,
                             text::printable(s.entry->key, 80) + "=" +
                                 monitoring::mask(s.entry->value) + " (" + s.why + ")",
                             "a reference: " + text::printable(s.entry->key, 80) +
                                 "_FILE=/run/secrets/..., ${VAR} or a Docker secret",
                             "dotenv"});
  }
  if (!bad.empty()) {
    std::string msg = std::to_string(bad.size()) + " plaintext secret(s) in .env files, first " +
                      bad.front().found.substr(0, bad.front().found.find('=')) + " in " +
                      bad.front().path + ":" + std::to_string(bad.front().line);
    bad.insert(bad.end(), errors.begin(), errors.end());
    run.emit(Status::fail, "", msg, bad);
    return;
  }
  if (files == 0 && errors.empty()) {
    run.emit(Status::not_applicable, "", "no .env file found in " + searched_places());
    return;
  }
  if (!errors.empty()) {
    run.emit(Status::error, "",
             "no plaintext secret in what could be read, but " + errors.front().path + ": " +
                 errors.front().found,
             errors);
    return;
  }
  run.emit(Status::pass, "", "no plaintext secret in " + std::to_string(files) + " .env file(s)");
}

// --- env.security-flags ----------------------------------------------------

// SSL_PROTOCOLS as nginx (ssl_protocols: a list) or Apache (SSLProtocol:
// all, +X, -X, in order) write it: the set of protocols it enables.
std::set<std::string> enabled_protocols(std::string_view v) {
  std::set<std::string> on;
  std::string tok;
  auto apply = [&on](std::string t) {
    if (t.empty())
      return;
    char sign = '+';
    if (t[0] == '+' || t[0] == '-') {
      sign = t[0];
      t = t.substr(1);
    }
    std::string l = text::lower(t);
    std::vector<std::string> which;
    if (l == "all")
      which = {"tlsv1", "tlsv1.1", "tlsv1.2", "tlsv1.3"};
    else
      which = {l == "tlsv1.0" ? "tlsv1" : l};
    for (auto &w : which) {
      if (sign == '-')
        on.erase(w);
      else
        on.insert(w);
    }
  };
  for (char c : v) {
    if (c == ' ' || c == '\t' || c == ',' || c == ':' || c == ';') {
      apply(tok);
      tok.clear();
    } else {
      tok += c;
    }
  }
  apply(tok);
  return on;
}

void security_flags(CheckRun &run) {
  const auto &d = monitoring_deployments(run);
  bool any = false;
  for (auto &f : d.files) {
    if (f.kind != SecretFile::Kind::env ||
        f.path.substr(f.path.rfind('/') + 1) != ".env.production")
      continue;
    any = true;
    if (!f.env) {
      run.emit(Status::error, f.path,
               "cannot read " + f.path + ": " + (f.error ? f.error->message : ""));
      continue;
    }
    std::vector<Evidence> bad, good;
    for (const char *k : {"ENABLE_AUDIT_LOG", "ENABLE_SECURITY_HEADERS", "ENABLE_RATE_LIMITING"}) {
      const dotenv::Entry *e = f.env->find(k);
      if (e == nullptr) {
        bad.push_back(
            Evidence{f.path, 0, std::string(k) + " not set", std::string(k) + "=true", ""});
        continue;
      }
      std::string v = text::lower(text::trim(e->value));
      Evidence ev{f.path, e->loc.line, std::string(k) + "=" + text::printable(e->value, 40),
                  std::string(k) + "=true", ""};
      (v == "true" || v == "1" ? good : bad).push_back(std::move(ev));
    }
    const dotenv::Entry *p = f.env->find("SSL_PROTOCOLS");
    if (p == nullptr) {
      bad.push_back(
          Evidence{f.path, 0, "SSL_PROTOCOLS not set", "SSL_PROTOCOLS=\"TLSv1.2 TLSv1.3\"", ""});
    } else {
      auto on = enabled_protocols(p->value);
      std::vector<std::string> weak;
      for (const char *w : {"sslv2", "sslv3", "tlsv1", "tlsv1.1"})
        if (on.count(w))
          weak.push_back(w);
      Evidence ev{f.path, p->loc.line, "SSL_PROTOCOLS=" + text::printable(p->value, 80),
                  "SSL_PROTOCOLS=\"TLSv1.2 TLSv1.3\" (no TLSv1, TLSv1.1)", ""};
      if (!weak.empty()) {
        ev.found += " (enables " + text::join(weak, ", ") + ")";
        bad.push_back(std::move(ev));
      } else if (!on.count("tlsv1.2") && !on.count("tlsv1.3")) {
        ev.found += " (enables no TLS version)";
        bad.push_back(std::move(ev));
      } else {
        good.push_back(std::move(ev));
      }
    }
    if (!bad.empty()) {
      std::string what;
      for (auto &b : bad)
        what += (what.empty() ? "" : "; ") + b.found;
      run.emit(Status::fail, f.path, what, bad);
    } else {
      run.emit(Status::pass, f.path,
               "audit log, security headers and rate limiting on; TLS 1.2+ only", good);
    }
  }
  if (!any)
    run.emit(Status::not_applicable, "", "no .env.production found in " + searched_places());
}

// --- data.encryption-at-rest -------------------------------------------------

void encryption_at_rest(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  auto vols = monitoring::load_data_volumes(fs, fs.is_host_root());
  if (vols.empty()) {
    std::string dirs;
    for (const char *d : monitoring::k_data_dirs)
      dirs += std::string(dirs.empty() ? "" : ", ") + d;
    run.emit(Status::not_applicable, "", "no database directory (" + dirs + ")");
    return;
  }
  for (auto &v : vols)
    run.emit(v.verdict == monitoring::DataVolume::Verdict::encrypted ? Status::pass : Status::warn,
             v.dir, v.message, v.evidence);
}

constexpr CheckImpl k_monitoring_checks[] = {
    {"secrets.file-permissions", file_permissions},
    {"secrets.rotation-age", rotation_age},
    {"secrets.env-files", env_files},
    {"env.security-flags", security_flags},
    {"data.encryption-at-rest", encryption_at_rest},
    {"monitoring.intrusion-detection", intrusion_detection},
    {"monitoring.file-integrity", file_integrity},
    {"monitoring.file-integrity-changes", file_integrity_changes},
    {"monitoring.security-alerts", security_alerts},
    {"monitoring.fail2ban-running", fail2ban_running},
    {"monitoring.file-integrity-scheduled", file_integrity_scheduled},
    {"monitoring.ids-running", ids_running},
    {"monitoring.alert-routing", alert_routing},
    {"monitoring.resource-alerts", resource_alerts},
};

} // namespace

std::span<const CheckImpl> monitoring_checks() {
  return k_monitoring_checks;
}

} // namespace bulwark
