// The accounts domain: CHECKS.md "os and accounts" rows about local accounts
// and sudo. Verdicts come from the account databases and sudoers as the
// owning programs read them (src/parse/accounts.cpp, src/parse/sudoers.cpp).
// A password hash is never printed: evidence names the account and line.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/core/text.hpp>

namespace bulwark {

namespace {

bool passwd_usable(CheckRun &run, const accounts::AccountsModel &m) {
  if (!m.passwd_error)
    return true;
  if (m.passwd_error->not_found())
    run.emit(Status::not_applicable, "", "/etc/passwd does not exist in the target");
  else
    run.emit(Status::error, "", "cannot read /etc/passwd: " + m.passwd_error->to_string(),
             {Evidence{"/etc/passwd", 0, "", "", ""}});
  return false;
}

void uid0(CheckRun &run) {
  const auto &m = run.ctx().accounts();
  if (!passwd_usable(run, m))
    return;
  std::vector<Evidence> extra;
  bool root_seen = false;
  for (auto &p : m.passwd) {
    if (p.uid != 0)
      continue;
    if (p.name == "root") {
      root_seen = true;
      continue;
    }
    extra.push_back(
        Evidence{p.loc.path, p.loc.line, p.name + " has uid 0", "only root has uid 0", p.name});
  }
  if (!extra.empty()) {
    std::string names;
    for (auto &e : extra)
      names += (names.empty() ? "" : ", ") + e.context;
    run.emit(Status::fail, "", "accounts other than root have uid 0: " + names, extra);
    return;
  }
  run.emit(Status::pass, "",
           root_seen ? "root is the only account with uid 0"
                     : "no account has uid 0 (not even root)");
}

void empty_passwords(CheckRun &run) {
  const auto &m = run.ctx().accounts();
  if (!passwd_usable(run, m))
    return;
  std::vector<Evidence> bad;
  // An empty password field in passwd itself (no shadow indirection).
  for (auto &p : m.passwd)
    if (p.password.empty())
      bad.push_back(Evidence{p.loc.path, p.loc.line, p.name + ": empty password field",
                             "x (shadowed) or a locked hash", p.name});
  if (m.shadow) {
    for (auto &s : *m.shadow)
      if (s.hash.empty())
        bad.push_back(Evidence{s.loc.path, s.loc.line, s.name + ": empty password hash",
                               "a hash, or ! / * to lock", s.name});
  }
  if (!bad.empty()) {
    std::string names;
    for (auto &e : bad)
      names += (names.empty() ? "" : ", ") + e.context;
    run.emit(Status::fail, "", "accounts that log in without a password: " + names, bad);
    return;
  }
  if (!m.shadow) {
    run.emit(Status::error, "",
             "cannot read /etc/shadow: " + (m.shadow_error ? m.shadow_error->to_string() : "") +
                 " (passwd itself has no empty password field)",
             {Evidence{"/etc/shadow", 0, "", "", ""}});
    return;
  }
  run.emit(Status::pass, "", "no account has an empty password");
}

void password_max_age(CheckRun &run) {
  const auto &m = run.ctx().accounts();
  long long max = run.param_int("max-days");
  auto it = m.login_defs.find("PASS_MAX_DAYS");
  if (!m.login_defs_present) {
    run.emit(Status::not_applicable, "", "/etc/login.defs does not exist in the target");
    return;
  }
  std::vector<Evidence> bad, good;
  long long value = 99999; // shadow-utils' default when unset: no limit
  Evidence e{"/etc/login.defs", 0, "PASS_MAX_DAYS unset (no limit)",
             "PASS_MAX_DAYS <= " + std::to_string(max), ""};
  if (it != m.login_defs.end()) {
    char *end = nullptr;
    value = std::strtoll(it->second.value.c_str(), &end, 10);
    if (it->second.value.empty() || *end != '\0' || value < 0)
      value = 99999; // getdef treats an unparsable or negative value as no limit
    e = Evidence{it->second.loc.path, it->second.loc.line, "PASS_MAX_DAYS " + it->second.value,
                 "PASS_MAX_DAYS <= " + std::to_string(max), ""};
  }
  (value <= max ? good : bad).push_back(e);
  // login.defs only applies to accounts created later: existing accounts
  // with a usable password keep their own maximum in shadow.
  if (m.shadow)
    for (auto &s : *m.shadow) {
      if (s.hash.empty() || s.locked())
        continue;
      if (!s.max_days || *s.max_days > max)
        bad.push_back(Evidence{
            s.loc.path, s.loc.line,
            s.name + ": maximum password age " +
                (s.max_days ? std::to_string(*s.max_days) : std::string("unset")),
            "<= " + std::to_string(max) + " (chage -M " + std::to_string(max) + " " + s.name + ")",
            s.name});
    }
  if (bad.empty()) {
    run.emit(Status::pass, "", "passwords expire within " + std::to_string(max) + " days", good);
    return;
  }
  std::string what;
  for (auto &b : bad)
    what += (what.empty() ? "" : "; ") + b.found;
  run.emit(Status::fail, "", what, bad);
}

const sudoers::SudoersModel *sudo_usable(CheckRun &run) {
  const auto &s = run.ctx().sudoers();
  if (s.ok())
    return &s.value();
  if (s.error().not_found())
    run.emit(Status::not_applicable, "sudo", "/etc/sudoers does not exist: sudo is not installed");
  else
    run.emit(Status::error, "sudo", "cannot read sudoers: " + s.error().to_string(),
             {Evidence{"/etc/sudoers", 0, "", "", ""}});
  return nullptr;
}

void sudo_nopasswd(CheckRun &run) {
  const auto *m = sudo_usable(run);
  if (!m)
    return;
  std::vector<Evidence> bad;
  for (auto &spec : m->specs)
    for (auto &c : spec.commands)
      if (c.has_tag("NOPASSWD") && m->is_all(c.command))
        bad.push_back(Evidence{spec.loc.path, spec.loc.line, text::printable(spec.text, 200),
                               "no NOPASSWD grant of ALL commands", spec.users});
  for (auto &d : m->defaults)
    if (d.name == "authenticate" && d.negated)
      bad.push_back(Evidence{d.loc.path, d.loc.line,
                             "Defaults" + (d.scope.empty() ? "" : d.scope) + " !authenticate",
                             "authentication required", d.scope.empty() ? "everyone" : d.scope});
  std::vector<Evidence> notes;
  for (auto &d : m->diagnostics)
    notes.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "parse"});
  if (!bad.empty()) {
    std::string who;
    for (auto &b : bad)
      who += (who.empty() ? "" : ", ") + b.context;
    bad.insert(bad.end(), notes.begin(), notes.end());
    run.emit(Status::fail, "sudo", "sudo grants every command without a password to: " + who, bad);
    return;
  }
  if (!notes.empty()) {
    run.emit(Status::warn, "sudo",
             "no NOPASSWD: ALL grant found, but part of sudoers could not be read: " +
                 notes.front().found,
             notes);
    return;
  }
  run.emit(Status::pass, "sudo",
           "no NOPASSWD: ALL grant in " + std::to_string(m->files.size()) + " sudoers file" +
               (m->files.size() == 1 ? "" : "s"));
}

void sudo_logging(CheckRun &run) {
  const auto *m = sudo_usable(run);
  if (!m)
    return;
  // Global Defaults only: a per-user or per-host setting leaves the rest out.
  const sudoers::DefaultsEntry *log = nullptr;
  const sudoers::DefaultsEntry *pty = nullptr;
  for (auto &d : m->defaults) {
    if (!d.scope.empty())
      continue;
    if (d.name == "logfile" || d.name == "log_output")
      log = d.negated ? nullptr : &d;
    if (d.name == "use_pty")
      pty = d.negated ? nullptr : &d;
  }
  std::vector<Evidence> ev;
  std::string missing;
  if (log)
    ev.push_back(Evidence{log->loc.path, log->loc.line,
                          "Defaults " + log->name + (log->value.empty() ? "" : "=" + log->value),
                          "", ""});
  else
    missing = "neither Defaults logfile nor log_output";
  if (pty)
    ev.push_back(Evidence{pty->loc.path, pty->loc.line, "Defaults use_pty", "", ""});
  else
    missing += std::string(missing.empty() ? "" : "; ") + "no Defaults use_pty";
  if (missing.empty()) {
    run.emit(Status::pass, "sudo", "sudo keeps its own log and runs commands on a pseudo-terminal",
             ev);
    return;
  }
  ev.push_back(Evidence{"/etc/sudoers", 0, missing,
                        "Defaults logfile=/var/log/sudo.log and Defaults use_pty", ""});
  run.emit(Status::fail, "sudo", missing, ev);
}

constexpr CheckImpl k_checks[] = {
    {"accounts.uid0", uid0},
    {"accounts.empty-passwords", empty_passwords},
    {"accounts.password-max-age", password_max_age},
    {"accounts.sudo-nopasswd", sudo_nopasswd},
    {"accounts.sudo-logging", sudo_logging},
};

} // namespace

std::span<const CheckImpl> accounts_checks() {
  return k_checks;
}

} // namespace bulwark
