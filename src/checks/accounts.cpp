// The accounts domain: CHECKS.md "os and accounts" rows about local accounts
// and sudo. Verdicts come from the account databases and sudoers as the
// owning programs read them (src/parse/accounts.cpp, src/parse/sudoers.cpp).
// A password hash is never printed: evidence names the account and line.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/pam.hpp>

#include <algorithm>
#include <map>
#include <set>

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

void accounts_password_max_age(CheckRun &run) {
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

// ---- second wave -------------------------------------------------------------

// Whether an account can authenticate with a password: the hash in passwd
// when it is not "x", else the shadow entry's (an account with "x" and no
// shadow entry has no password pam_unix accepts).
struct PasswordState {
  bool usable = false; // a hash that could match some password
  bool empty = false;
  SourceLocation loc;
  std::string hash; // never printed
};

PasswordState password_state(const accounts::AccountsModel &m, const accounts::PasswdEntry &p) {
  PasswordState s;
  std::string_view h = p.password;
  s.loc = p.loc;
  if (p.password == "x") {
    const auto *sh = m.shadow_of(p.name);
    if (!sh)
      return s;
    h = sh->hash;
    s.loc = sh->loc;
  }
  s.hash = std::string(h);
  s.empty = h.empty();
  s.usable = !h.empty() && h[0] != '!' && h[0] != '*';
  return s;
}

bool shadow_usable(CheckRun &run, const accounts::AccountsModel &m) {
  if (m.shadow)
    return true;
  run.emit(Status::error, "",
           "cannot read /etc/shadow: " + (m.shadow_error ? m.shadow_error->to_string() : ""),
           {Evidence{"/etc/shadow", 0, "", "", ""}});
  return false;
}

void root_locked(CheckRun &run) {
  const auto &m = run.ctx().accounts();
  if (!passwd_usable(run, m))
    return;
  const accounts::PasswdEntry *root = nullptr;
  for (auto &p : m.passwd)
    if (p.name == "root" && !root)
      root = &p;
  if (!root) {
    run.emit(Status::not_applicable, "root", "/etc/passwd has no root account");
    return;
  }
  if (root->password == "x" && !shadow_usable(run, m))
    return;
  PasswordState s = password_state(m, *root);
  Evidence e{s.loc.path, s.loc.line,
             s.empty    ? "root: empty password"
             : s.usable ? "root: a usable password hash"
                        : "root: locked (" + s.hash.substr(0, 1) + ")",
             "root's password locked (! or *): passwd -l root", "root"};
  if (s.usable || s.empty)
    run.emit(Status::fail, "root",
             "root has a password: anyone who learns it logs in as root on the console or with "
             "su",
             {e});
  else
    run.emit(Status::pass, "root", "root's password is locked", {e});
}

bool nologin_shell(std::string_view sh) {
  return sh == "/usr/sbin/nologin" || sh == "/sbin/nologin" || sh == "/bin/false" ||
         sh == "/usr/bin/false";
}

long long uid_min(const accounts::AccountsModel &m) {
  auto it = m.login_defs.find("UID_MIN");
  if (it == m.login_defs.end())
    return 1000; // shadow-utils' default
  char *end = nullptr;
  long long v = std::strtoll(it->second.value.c_str(), &end, 10);
  return it->second.value.empty() || *end != '\0' || v <= 0 ? 1000 : v;
}

// CIS Debian 12 §5.4.2.7-8: accounts below UID_MIN (and nobody, 65534) have
// no login shell and a locked password; sync, shutdown and halt keep the
// one command they exist for.
void system_accounts(CheckRun &run) {
  const auto &m = run.ctx().accounts();
  if (!passwd_usable(run, m) || !shadow_usable(run, m))
    return;
  long long min = uid_min(m);
  auto allow = run.param_list("allow");
  static const std::map<std::string, std::string> k_special = {
      {"sync", "/bin/sync"}, {"shutdown", "/sbin/shutdown"}, {"halt", "/sbin/halt"}};
  std::vector<Evidence> bad;
  int judged = 0;
  for (auto &p : m.passwd) {
    if (p.name == "root" || !(p.uid < min || p.uid == 65534))
      continue;
    if (std::find(allow.begin(), allow.end(), p.name) != allow.end())
      continue;
    ++judged;
    auto sp = k_special.find(p.name);
    bool shell_ok = nologin_shell(p.shell) || (sp != k_special.end() && sp->second == p.shell);
    PasswordState s = password_state(m, p);
    std::vector<std::string> why;
    if (!shell_ok)
      why.push_back("login shell " + text::printable(p.shell, 60));
    if (s.usable || s.empty)
      why.push_back(s.empty ? "empty password"
                            : "a usable password (" + s.loc.path + ":" +
                                  std::to_string(s.loc.line) + ")");
    if (!why.empty())
      bad.push_back(
          Evidence{p.loc.path, p.loc.line,
                   p.name + " (uid " + std::to_string(p.uid) + "): " + text::join(why, ", "),
                   "shell /usr/sbin/nologin and a locked password (usermod -s "
                   "/usr/sbin/nologin -L " +
                       p.name + ")",
                   p.name});
  }
  if (bad.empty()) {
    run.emit(Status::pass, "",
             std::to_string(judged) + " system accounts (uid < " + std::to_string(min) +
                 ") have no login shell and a locked password");
    return;
  }
  std::string names;
  for (auto &e : bad)
    names += (names.empty() ? "" : ", ") + e.context;
  run.emit(Status::fail, "", "system accounts that can log in: " + names, bad);
}

// pwck/grpck's consistency, plus what they do not check (duplicate ids):
// CIS Debian 12 §5.4.2.2-3 and §7.2.3, §7.2.5-8.
void unique_ids(CheckRun &run) {
  const auto &m = run.ctx().accounts();
  if (!passwd_usable(run, m))
    return;
  if (!m.group) {
    bool absent = m.group_error && m.group_error->not_found();
    run.emit(Status::error, "",
             absent ? "/etc/group does not exist: no primary group of any account exists"
                    : "cannot read /etc/group: " +
                          (m.group_error ? m.group_error->to_string() : std::string()),
             {Evidence{"/etc/group", 0, "", "", ""}});
    return;
  }
  std::vector<Evidence> bad;
  auto dup = [&](const auto &list, auto key, const char *what, const char *file) {
    std::map<std::string, const SourceLocation *> first;
    for (auto &e : list) {
      std::string k = key(e);
      auto [it, fresh] = first.emplace(k, &e.loc);
      if (!fresh)
        bad.push_back(Evidence{e.loc.path, e.loc.line,
                               std::string("duplicate ") + what + " " + text::printable(k, 60) +
                                   " (first at line " + std::to_string(it->second->line) + ")",
                               std::string("unique ") + what + "s in " + file, k});
    }
  };
  dup(
      m.passwd, [](const accounts::PasswdEntry &p) { return p.name; }, "user name", "/etc/passwd");
  dup(
      m.passwd, [](const accounts::PasswdEntry &p) { return std::to_string(p.uid); }, "uid",
      "/etc/passwd");
  dup(
      *m.group, [](const accounts::GroupEntry &g) { return g.name; }, "group name", "/etc/group");
  dup(
      *m.group, [](const accounts::GroupEntry &g) { return std::to_string(g.gid); }, "gid",
      "/etc/group");
  std::set<long long> gids;
  for (auto &g : *m.group) {
    gids.insert(g.gid);
    if (g.gid == 0 && g.name != "root")
      bad.push_back(Evidence{g.loc.path, g.loc.line, "group " + g.name + " has gid 0",
                             "only the group root has gid 0", g.name});
  }
  for (auto &p : m.passwd) {
    if (p.gid == 0 && p.name != "root")
      bad.push_back(Evidence{p.loc.path, p.loc.line, p.name + " has primary gid 0",
                             "only root has primary group 0", p.name});
    if (!gids.count(p.gid))
      bad.push_back(Evidence{
          p.loc.path, p.loc.line,
          p.name + ": primary group " + std::to_string(p.gid) + " is not in /etc/group",
          "every primary group exists (groupadd -g " + std::to_string(p.gid) + ")", p.name});
  }
  for (auto &d : m.diagnostics)
    if (d.loc.path == "/etc/passwd" || d.loc.path == "/etc/group")
      bad.push_back(Evidence{d.loc.path, d.loc.line, d.message, "a valid record", "parse"});
  if (bad.empty()) {
    run.emit(Status::pass, "",
             std::to_string(m.passwd.size()) + " accounts and " + std::to_string(m.group->size()) +
                 " groups: names and ids unique, gid 0 is root's alone, every primary group "
                 "exists");
    return;
  }
  std::string what;
  for (size_t i = 0; i < bad.size() && i < 5; ++i)
    what += (i ? "; " : "") + bad[i].found;
  if (bad.size() > 5)
    what += " and " + std::to_string(bad.size() - 5) + " more";
  run.emit(Status::fail, "", what, bad);
}

// The crypt(3) method of a hash, by its prefix (libxcrypt 4.4: crypt(5)).
// "strong" follows CHECKS.md (yescrypt, SHA-512) and libxcrypt's own
// recommended set (gost-yescrypt, scrypt, bcrypt).
struct HashMethod {
  std::string name;
  bool strong = false;
};
HashMethod hash_method(std::string_view h) {
  auto starts = [&](std::string_view p) { return h.substr(0, p.size()) == p; };
  if (starts("$y$"))
    return {"yescrypt", true};
  if (starts("$gy$"))
    return {"gost-yescrypt", true};
  if (starts("$7$"))
    return {"scrypt", true};
  if (starts("$6$"))
    return {"SHA-512", true};
  if (starts("$2b$") || starts("$2y$") || starts("$2a$"))
    return {"bcrypt", true};
  if (starts("$5$"))
    return {"SHA-256", false};
  if (starts("$1$"))
    return {"MD5", false};
  if (starts("$md5"))
    return {"Sun MD5", false};
  if (starts("$sha1$"))
    return {"NetBSD SHA-1", false};
  if (starts("$3$"))
    return {"NT hash", false};
  if (starts("_"))
    return {"BSDi DES", false};
  if (h.size() == 13 && h.find('$') == std::string_view::npos)
    return {"DES", false};
  return {"unknown method", false};
}

void password_hashing(CheckRun &run) {
  const auto &m = run.ctx().accounts();
  std::vector<Evidence> bad, good;
  // login.defs: what passwd, chpasswd and useradd use (shadow-utils 4.13:
  // unset means DES).
  if (m.login_defs_present) {
    auto it = m.login_defs.find("ENCRYPT_METHOD");
    if (it == m.login_defs.end()) {
      bad.push_back(Evidence{"/etc/login.defs", 0, "ENCRYPT_METHOD unset (shadow-utils uses DES)",
                             "ENCRYPT_METHOD YESCRYPT (or SHA512)", "login.defs"});
    } else {
      const std::string &v = it->second.value;
      Evidence e{it->second.loc.path, it->second.loc.line, "ENCRYPT_METHOD " + v,
                 "ENCRYPT_METHOD YESCRYPT (or SHA512)", "login.defs"};
      (v == "YESCRYPT" || v == "SHA512" ? good : bad).push_back(e);
    }
  }
  // pam_unix where passwd sets passwords: its hash option, else login.defs's
  // ENCRYPT_METHOD (Linux-PAM 1.5.2 pam_unix support.c).
  const PamModel &pm = run.ctx().get<PamModel>();
  const pam::Service &svc = pm.service("passwd");
  // No /etc/pam.d/passwd: nothing sets passwords through PAM (only
  // login.defs' tools, judged above).
  if (svc.exists && svc.aborted) {
    run.emit(Status::error, "",
             "the passwd PAM service cannot be loaded: " + svc.abort_reason.message,
             {Evidence{svc.abort_reason.loc.path, svc.abort_reason.loc.line,
                       svc.abort_reason.message, "", "passwd"}});
    return;
  }
  static const std::vector<pam::Handler> k_none;
  const auto &stack = svc.exists ? svc.stack(pam::Type::password) : k_none;
  auto a = pam::analyse(stack);
  static const std::map<std::string, bool> k_options = {
      {"yescrypt", true}, {"gost_yescrypt", true}, {"sha512", true},   {"blowfish", true},
      {"sha256", false},  {"md5", false},          {"bigcrypt", false}};
  for (size_t i = 0; i < stack.size(); ++i) {
    const pam::Handler &h = stack[i];
    if (h.name != "pam_unix" || !a.reached[i])
      continue;
    std::string method;
    bool strong = false;
    for (auto &arg : h.args)
      if (auto o = k_options.find(arg); o != k_options.end()) {
        method = arg; // the last option wins, as _set_ctrl applies them in order
        strong = o->second;
      }
    Evidence e{h.loc.path, h.loc.line, "pam_unix " + text::join(h.args, " "),
               "pam_unix with yescrypt or sha512", "passwd"};
    if (method.empty()) {
      auto it = m.login_defs.find("ENCRYPT_METHOD");
      std::string v = it == m.login_defs.end() ? "" : it->second.value;
      strong = v == "YESCRYPT" || v == "SHA512";
      e.found += " (no hash option: ENCRYPT_METHOD " + (v.empty() ? "unset" : v) + ")";
    }
    (strong ? good : bad).push_back(e);
  }
  if (!m.shadow) {
    if (!m.shadow_error || !m.shadow_error->not_found()) {
      run.emit(Status::error, "",
               "cannot read /etc/shadow: " + (m.shadow_error ? m.shadow_error->to_string() : ""),
               {Evidence{"/etc/shadow", 0, "", "", ""}});
      return;
    }
  } else {
    for (auto &s : *m.shadow) {
      if (s.hash.empty() || s.locked())
        continue;
      HashMethod hm = hash_method(s.hash);
      if (!hm.strong)
        bad.push_back(Evidence{s.loc.path, s.loc.line, s.name + ": " + hm.name + " hash",
                               "yescrypt or SHA-512 (passwd " + s.name + " to rehash)", s.name});
    }
  }
  if (bad.empty()) {
    run.emit(Status::pass, "", "passwords are hashed with yescrypt or SHA-512", good);
    return;
  }
  std::string what;
  for (auto &b : bad)
    what += (what.empty() ? "" : "; ") + b.found;
  run.emit(Status::fail, "", "weak password hashing: " + what, bad);
}

// ---- accounts.session-timeout ------------------------------------------------
//
// What a bash or dash login shell sets TMOUT to: /etc/profile, which on
// Debian sources /etc/bash.bashrc (bash) and then /etc/profile.d/*.sh in
// glob order. Statements are read in that order; conditions are not
// evaluated (a guarded assignment counts). `readonly TMOUT=N`,
// `declare -r TMOUT=N`, `typeset -r`, or `TMOUT=N` then `readonly TMOUT`
// make it read-only, after which later assignments fail (bash: "TMOUT:
// readonly variable").
struct ShellTimeout {
  struct Assign {
    SourceLocation loc;
    std::string value; // "" for a bare `readonly TMOUT`
    bool readonly = false;
    bool sets_value = false;
  };
  std::vector<Assign> statements;
  std::vector<std::string> files;
  std::optional<Error> error;
};

// Splits a line into simple commands at ; && || (quotes respected) and
// drops a trailing comment.
std::vector<std::string> accounts_shell_commands(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  for (size_t i = 0; i < line.size(); ++i) {
    char c = line[i];
    if (quote) {
      if (c == quote)
        quote = 0;
      cur += c;
      continue;
    }
    if (c == '\'' || c == '"') {
      quote = c;
      cur += c;
    } else if (c == '#' && (cur.empty() || cur.back() == ' ' || cur.back() == '\t')) {
      break;
    } else if (c == ';' || c == '&' || c == '|') {
      out.push_back(cur);
      cur.clear();
    } else {
      cur += c;
    }
  }
  out.push_back(cur);
  return out;
}

std::string accounts_unquote(std::string v) {
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

void scan_shell_file(const std::string &path, std::string_view text, ShellTimeout &out) {
  int lineno = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++lineno;
    for (auto &cmd : accounts_shell_commands(raw)) {
      std::vector<std::string> words;
      for (auto &w : text::split(text::trim(cmd), ' '))
        for (auto &x : text::split(w, '\t'))
          words.push_back(x);
      // Leading keywords of a compound command: `then TMOUT=900`.
      size_t i = 0;
      while (i < words.size() && (words[i] == "then" || words[i] == "else" || words[i] == "do" ||
                                  words[i] == "{" || words[i] == "fi" || words[i] == "}"))
        ++i;
      if (i >= words.size())
        continue;
      bool ro = false;
      if (words[i] == "readonly" || words[i] == "export" || words[i] == "declare" ||
          words[i] == "typeset" || words[i] == "local") {
        std::string builtin = words[i++];
        ro = builtin == "readonly";
        while (i < words.size() && !words[i].empty() && words[i][0] == '-') {
          if (words[i].find('r') != std::string::npos)
            ro = ro || builtin == "declare" || builtin == "typeset";
          ++i;
        }
        for (; i < words.size(); ++i) {
          std::string_view w = words[i];
          if (w == "TMOUT") {
            if (ro)
              out.statements.push_back({{path, lineno}, "", true, false});
          } else if (w.substr(0, 6) == "TMOUT=") {
            out.statements.push_back(
                {{path, lineno}, accounts_unquote(std::string(w.substr(6))), ro, true});
          }
        }
        continue;
      }
      // Plain assignments (possibly several: A=1 TMOUT=900).
      for (; i < words.size() && words[i].find('=') != std::string::npos; ++i)
        if (std::string_view(words[i]).substr(0, 6) == "TMOUT=")
          out.statements.push_back(
              {{path, lineno}, accounts_unquote(words[i].substr(6)), false, true});
    }
  }
}

ShellTimeout load_shell_timeout(const RootFs &fs) {
  ShellTimeout out;
  std::vector<std::string> files = {"/etc/profile", "/etc/bash.bashrc"};
  auto listed = fs.list_dir("/etc/profile.d");
  if (listed) {
    std::vector<std::string> names = *listed;
    std::sort(names.begin(), names.end());
    for (auto &n : names)
      if (n.size() > 3 && n.substr(n.size() - 3) == ".sh")
        files.push_back("/etc/profile.d/" + n);
  } else if (!listed.error().not_found()) {
    out.error = listed.error();
    return out;
  }
  for (auto &f : files) {
    auto text = fs.read_file(f, 1024 * 1024);
    if (!text) {
      if (text.error().not_found())
        continue;
      out.error = text.error();
      return out;
    }
    out.files.push_back(f);
    scan_shell_file(f, *text, out);
  }
  return out;
}

void session_timeout(CheckRun &run) {
  const ShellTimeout &t = run.ctx().model<ShellTimeout>(
      [&] { return load_shell_timeout(run.ctx().fs()); }, "login shell profile");
  if (t.error) {
    run.emit(Status::error, "", "cannot read the login shell profile: " + t.error->to_string(),
             {Evidence{t.error->path, 0, t.error->message, "readable", ""}});
    return;
  }
  long long max = run.param_int("max");
  // Replay: the value in force at the end, and whether it is read-only.
  std::optional<std::string> value;
  bool readonly = false;
  const ShellTimeout::Assign *decided = nullptr, *locked = nullptr;
  std::vector<Evidence> ignored;
  for (auto &s : t.statements) {
    if (readonly && s.sets_value) {
      ignored.push_back(Evidence{s.loc.path, s.loc.line, "TMOUT=" + s.value, "",
                                 "ignored: TMOUT is already read-only"});
      continue;
    }
    if (s.sets_value) {
      value = s.value;
      decided = &s;
    }
    if (s.readonly && !readonly) {
      readonly = true;
      locked = &s;
    }
  }
  std::string expected = "readonly TMOUT=" + std::to_string(max) + " (or less, above 0)";
  if (!decided) {
    run.emit(
        Status::fail, "", "no login shell file sets TMOUT: idle shells stay open for ever",
        {Evidence{"/etc/profile.d", 0,
                  "TMOUT not set in " + std::to_string(t.files.size()) + " files", expected, ""}});
    return;
  }
  char *end = nullptr;
  long long v = std::strtoll(value->c_str(), &end, 10);
  bool numeric = !value->empty() && *end == '\0';
  std::vector<Evidence> ev{Evidence{decided->loc.path, decided->loc.line, "TMOUT=" + *value,
                                    expected, readonly ? "read-only" : "not read-only"}};
  if (locked && locked != decided)
    ev.push_back(Evidence{locked->loc.path, locked->loc.line, "readonly TMOUT", "", ""});
  ev.insert(ev.end(), ignored.begin(), ignored.end());
  if (numeric && v > 0 && v <= max && readonly) {
    run.emit(Status::pass, "",
             "login shells end after " + std::to_string(v) + " idle seconds (TMOUT, read-only)",
             ev);
    return;
  }
  std::string why = !numeric || v <= 0 ? "TMOUT=" + *value + " does not time out"
                    : v > max          ? "TMOUT=" + *value + " is above " + std::to_string(max)
                                       : "TMOUT is not read-only: a user can unset it";
  run.emit(Status::fail, "", why, ev);
}

constexpr CheckImpl k_accounts_checks[] = {
    {"accounts.uid0", uid0},
    {"accounts.empty-passwords", empty_passwords},
    {"accounts.password-max-age", accounts_password_max_age},
    {"accounts.sudo-nopasswd", sudo_nopasswd},
    {"accounts.sudo-logging", sudo_logging},
    {"accounts.root-locked", root_locked},
    {"accounts.system-accounts", system_accounts},
    {"accounts.unique-ids", unique_ids},
    {"accounts.password-hashing", password_hashing},
    {"accounts.session-timeout", session_timeout},
};

} // namespace

std::span<const CheckImpl> accounts_checks() {
  return k_accounts_checks;
}

} // namespace bulwark
