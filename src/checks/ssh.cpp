// The ssh domain: CHECKS.md "ssh". Every verdict comes from the effective
// configuration as sshd computes it (src/parse/sshd_config.cpp): the global
// scope is `sshd -T`, and each Match block is judged as its own scope, so a
// block that re-enables root or password login fails and is named.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/pam.hpp>

#include <algorithm>
#include <functional>
#include <optional>

namespace bulwark {

namespace {

using Scope = SshModel::Scope;

// Returns the model if the checks can run; otherwise emits the reason.
const SshModel *usable(CheckRun &run) {
  const SshModel &m = run.ctx().ssh();
  if (m.state == SshModel::State::absent) {
    run.emit(Status::not_applicable, "sshd",
             m.config_path + " does not exist: the OpenSSH server is not installed");
    return nullptr;
  }
  if (m.state == SshModel::State::unreadable) {
    run.emit(Status::error, "sshd", "cannot read the sshd configuration: " + m.error->to_string(),
             {Evidence{m.config_path, 0, "", "", ""}});
    return nullptr;
  }
  return &m;
}

std::string refused_note(const SshModel &m) {
  return m.config.has_errors()
             ? " (sshd would refuse this configuration as it stands: see ssh.config-valid)"
             : "";
}

// Evidence for a keyword's value in a scope: the line that set it, or the
// main file with the compiled-in default.
Evidence evidence_for(const SshModel &m, const Scope &s, const std::string &keyword,
                      const ssh::Value &v, const std::string &expected) {
  Evidence e;
  e.found = keyword + " " + text::join(v.args, " ");
  e.expected = expected;
  e.context = s.label;
  if (v.is_default()) {
    e.path = m.config_path;
    e.line = 0;
    e.found += " (OpenSSH 9.2 default; not set)";
  } else {
    e.path = v.locations.front().path;
    e.line = v.locations.front().line;
  }
  return e;
}

// The scopes where `keyword` is decided: the global scope, and each Match
// block that sets the keyword itself (elsewhere it inherits the global value).
template <typename Fn>
void for_each_deciding_scope(const SshModel &m, const std::string &keyword, Fn fn) {
  for (const Scope &s : m.scopes) {
    ssh::Value v = s.effective.get(keyword);
    if (s.match_line >= 0 && v.match_line != s.match_line)
      continue;
    fn(s, v);
  }
}

// Emits pass with the good evidence when nothing is bad, else fail listing
// each bad value (and the scope that decided it).
void verdict(CheckRun &run, const SshModel &m, const std::vector<Evidence> &bad,
             const std::vector<Evidence> &good, const std::string &pass_msg,
             const std::string &fail_prefix = "", bool name_scope = true) {
  if (bad.empty()) {
    run.emit(Status::pass, "sshd", pass_msg + refused_note(m), good);
    return;
  }
  std::string where;
  for (auto &e : bad)
    where += (where.empty() ? "" : "; ") + e.found + (name_scope ? " in " + e.context : "");
  run.emit(Status::fail, "sshd", fail_prefix + where + refused_note(m), bad);
}

// The common shape: `keyword` must satisfy `ok` in every scope.
void require_every_scope(CheckRun &run, const std::string &keyword, const std::string &expected,
                         const std::function<bool(const ssh::Value &)> &ok,
                         const std::string &pass_msg) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  std::vector<Evidence> bad;
  std::vector<Evidence> good;
  for_each_deciding_scope(*m, keyword, [&](const Scope &s, const ssh::Value &v) {
    (ok(v) ? good : bad).push_back(evidence_for(*m, s, keyword, v, expected));
  });
  verdict(run, *m, bad, good, pass_msg);
}

std::string first(const ssh::Value &v) {
  return v.args.empty() ? "" : v.args[0];
}

long long as_int(const ssh::Value &v) {
  return v.args.empty() ? 0 : std::strtoll(v.args[0].c_str(), nullptr, 10);
}

void permit_root_login(CheckRun &run) {
  require_every_scope(
      run, "permitrootlogin", "permitrootlogin no",
      [](const ssh::Value &v) { return first(v) == "no"; }, "PermitRootLogin is no in every scope");
}

// Keyboard-interactive through PAM asks whatever sshd's PAM auth stack asks.
// It offers passwords unless no module that asks for one can be reached
// (a stack of pam_google_authenticator alone asks for a code). When the
// stack cannot be read, assume it does: that is Debian's default.
struct KbdPam {
  bool offers_passwords = true;
  std::string note;
};

KbdPam kbd_pam(const pam::Service &svc) {
  static constexpr std::string_view k_password_modules[] = {
      "pam_unix", "pam_sss", "pam_ldap", "pam_krb5", "pam_winbind", "pam_userdb", "pam_pwdfile"};
  if (!svc.exists || svc.aborted)
    return {};
  const auto &stack = svc.stack(pam::Type::auth);
  pam::Analysis a = pam::analyse(stack);
  for (size_t i = 0; i < stack.size(); ++i) {
    if (!a.reached[i])
      continue;
    for (auto name : k_password_modules)
      if (stack[i].name == name)
        return {true, stack[i].name + " at " + stack[i].loc.path + ":" +
                          std::to_string(stack[i].loc.line) + " asks for the password"};
  }
  return {false, "the PAM auth stack of " + svc.path + " reaches no password module"};
}

void password_authentication(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  std::vector<Evidence> bad, good;
  // usepam is global-only: keyboard-interactive offers passwords through PAM.
  ssh::Value usepam = m->scopes.front().effective.get("usepam");
  std::optional<KbdPam> pam_kbd;
  for (const Scope &s : m->scopes) {
    ssh::Value pw = s.effective.get("passwordauthentication");
    ssh::Value kbd = s.effective.get("kbdinteractiveauthentication");
    bool own_pw = s.match_line < 0 || pw.match_line == s.match_line;
    bool own_kbd = s.match_line < 0 || kbd.match_line == s.match_line;
    if (own_pw) {
      auto e = evidence_for(*m, s, "passwordauthentication", pw, "passwordauthentication no");
      (first(pw) == "no" ? good : bad).push_back(e);
    }
    if (own_kbd) {
      bool offers = first(kbd) == "yes" && first(usepam) == "yes";
      auto e =
          evidence_for(*m, s, "kbdinteractiveauthentication", kbd,
                       "kbdinteractiveauthentication no (UsePAM yes lets it ask for passwords)");
      if (offers) {
        if (!pam_kbd)
          pam_kbd = kbd_pam(run.ctx().get<PamModel>().service("sshd"));
        offers = pam_kbd->offers_passwords;
        if (!pam_kbd->note.empty())
          e.found += " (" + pam_kbd->note + ")";
      }
      (offers ? bad : good).push_back(e);
    }
  }
  verdict(run, *m, bad, good,
          "passwords are not accepted: PasswordAuthentication no and keyboard-interactive "
          "does not offer them",
          "password logins are possible: ");
}

void pubkey_authentication(CheckRun &run) {
  require_every_scope(
      run, "pubkeyauthentication", "pubkeyauthentication yes",
      [](const ssh::Value &v) { return first(v) == "yes"; }, "PubkeyAuthentication is yes");
}

void permit_empty_passwords(CheckRun &run) {
  require_every_scope(
      run, "permitemptypasswords", "permitemptypasswords no",
      [](const ssh::Value &v) { return first(v) == "no"; }, "PermitEmptyPasswords is no");
}

void max_auth_tries(CheckRun &run) {
  long long max = run.param_int("max");
  require_every_scope(
      run, "maxauthtries", "maxauthtries <= " + std::to_string(max),
      [max](const ssh::Value &v) { return as_int(v) <= max; },
      "MaxAuthTries is at most " + std::to_string(max));
}

void client_alive(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  long long interval_max = run.param_int("interval-max");
  long long count_max = run.param_int("count-max");
  std::vector<Evidence> bad, good;
  for_each_deciding_scope(*m, "clientaliveinterval", [&](const Scope &s, const ssh::Value &v) {
    long long i = as_int(v);
    auto e = evidence_for(*m, s, "clientaliveinterval", v,
                          "0 < clientaliveinterval <= " + std::to_string(interval_max));
    (i > 0 && i <= interval_max ? good : bad).push_back(e);
  });
  for_each_deciding_scope(*m, "clientalivecountmax", [&](const Scope &s, const ssh::Value &v) {
    auto e = evidence_for(*m, s, "clientalivecountmax", v,
                          "clientalivecountmax <= " + std::to_string(count_max));
    (as_int(v) <= count_max ? good : bad).push_back(e);
  });
  verdict(run, *m, bad, good,
          "idle sessions are dropped: ClientAliveInterval and CountMax within limits");
}

void allow_users_groups(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  const Scope &g = m->scopes.front();
  ssh::Value users = g.effective.get("allowusers");
  ssh::Value groups = g.effective.get("allowgroups");
  std::vector<Evidence> ev;
  if (!users.is_default())
    ev.push_back(evidence_for(*m, g, "allowusers", users, "AllowUsers or AllowGroups set"));
  if (!groups.is_default())
    ev.push_back(evidence_for(*m, g, "allowgroups", groups, "AllowUsers or AllowGroups set"));
  // sshd matches each entry as one pattern: a comma does not separate users,
  // so "AllowUsers deploy,admin" admits nobody (guide 003 shows that form).
  std::vector<std::string> comma;
  for (const ssh::Value *v : {&users, &groups})
    for (auto &a : v->args)
      if (a.find(',') != std::string::npos)
        comma.push_back(a);
  if (!comma.empty()) {
    run.emit(Status::warn, "sshd",
             "entries " + text::join(comma, " ") +
                 " contain commas: sshd reads each as a single pattern that matches no account; "
                 "separate names with spaces" +
                 refused_note(*m),
             ev);
    return;
  }
  if (!ev.empty()) {
    run.emit(Status::pass, "sshd",
             "logins are restricted by " + std::string(!users.is_default() ? "AllowUsers" : "") +
                 (!users.is_default() && !groups.is_default() ? " and " : "") +
                 (!groups.is_default() ? "AllowGroups" : "") + refused_note(*m),
             ev);
    return;
  }
  run.emit(Status::fail, "sshd",
           "neither AllowUsers nor AllowGroups is set: every account with a valid credential may "
           "log in" +
               refused_note(*m),
           {Evidence{m->config_path, 0, "(not set)", "AllowUsers or AllowGroups", "global"}});
}

void x11_forwarding(CheckRun &run) {
  require_every_scope(
      run, "x11forwarding", "x11forwarding no",
      [](const ssh::Value &v) { return first(v) == "no"; }, "X11Forwarding is no");
}

void use_dns(CheckRun &run) {
  require_every_scope(
      run, "usedns", "usedns no", [](const ssh::Value &v) { return first(v) == "no"; },
      "UseDNS is no");
}

void tcp_keepalive(CheckRun &run) {
  require_every_scope(
      run, "tcpkeepalive", "tcpkeepalive yes",
      [](const ssh::Value &v) { return first(v) == "yes"; }, "TCPKeepAlive is yes");
}

void protocol(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  std::vector<Evidence> ev;
  bool v1 = false;
  for (auto &l : m->config.lines) {
    if (l.kind != ssh::Line::Kind::directive || l.keyword == nullptr ||
        std::string_view(l.keyword->canonical) != "protocol")
      continue;
    std::string val = text::join(l.args, " ");
    bool has1 = false;
    for (auto &p : text::split(val, ','))
      if (text::trim(p) == "1")
        has1 = true;
    v1 = v1 || has1;
    ev.push_back(Evidence{l.loc.path, l.loc.line, l.raw_keyword + " " + val,
                          "no Protocol line (obsolete since OpenSSH 7.6)", ""});
  }
  if (ev.empty()) {
    run.emit(Status::pass, "sshd", "no Protocol line: only SSH-2 is possible");
    return;
  }
  if (!v1) {
    run.emit(
        Status::pass, "sshd",
        "Protocol 2 only (the keyword is obsolete: OpenSSH 9.2 ignores it and speaks only SSH-2)",
        ev);
    return;
  }
  run.emit(Status::warn, "sshd",
           "Protocol 1 is requested, but OpenSSH 9.2 ignores the keyword and speaks only SSH-2; "
           "remove the misleading line",
           ev, Severity::info);
}

struct WeakRule {
  const char *keyword;
  bool (*weak)(std::string_view);
};

bool weak_cipher(std::string_view a) {
  return a.find("cbc") != std::string_view::npos || a.find("arcfour") != std::string_view::npos ||
         a.find("3des") != std::string_view::npos || a.find("blowfish") != std::string_view::npos ||
         a.find("cast128") != std::string_view::npos;
}
bool weak_mac(std::string_view a) {
  if (a.find("md5") != std::string_view::npos)
    return true;
  bool sha1 = a.substr(0, 9) == "hmac-sha1";
  bool etm = a.find("-etm@") != std::string_view::npos;
  return sha1 && !etm;
}
bool weak_kex(std::string_view a) {
  return a == "diffie-hellman-group1-sha1" || a == "diffie-hellman-group14-sha1" ||
         a == "diffie-hellman-group-exchange-sha1";
}
bool weak_hostkey(std::string_view a) {
  return a.substr(0, 7) == "ssh-dss";
}

constexpr WeakRule k_weak_rules[] = {
    {"ciphers", weak_cipher},
    {"macs", weak_mac},
    {"kexalgorithms", weak_kex},
    {"hostkeyalgorithms", weak_hostkey},
};

// --live: what the running sshd offers in its KEXINIT, read without
// authenticating on the first configured port of this host (loopback when
// sshd listens on every address). A server that was not reloaded after a
// configuration change shows here.
void live_kexinit(live::Probes &probes, const SshModel &m, std::vector<Evidence> &bad,
                  std::vector<Evidence> &good, std::string &note) {
  const Scope &g = m.scopes.front();
  ssh::Value port = g.effective.get("port");
  int p = port.args.empty() ? 22 : std::atoi(port.args[0].c_str());
  std::string addr = "127.0.0.1";
  ssh::Value la = g.effective.get("listenaddress");
  if (!la.is_default() && !la.args.empty()) {
    std::string a = la.args[0];
    if (!a.empty() && a[0] == '[')
      a = a.substr(1, a.find(']') == std::string::npos ? std::string::npos : a.find(']') - 1);
    else if (std::count(a.begin(), a.end(), ':') == 1)
      a = a.substr(0, a.find(':'));
    if (a == "::")
      addr = "::1";
    else if (a != "0.0.0.0" && probes.is_local_address(a))
      addr = a;
  }
  live::SshProbe probe = probes.ssh(addr, p);
  std::string label = "live " + (addr.find(':') != std::string::npos ? "[" + addr + "]" : addr) +
                      ":" + std::to_string(p);
  if (!probe.error.empty()) {
    note = label + ": " + probe.error;
    return;
  }
  auto merge = [](std::vector<std::string> a, const std::vector<std::string> &b) {
    for (auto &x : b)
      if (std::find(a.begin(), a.end(), x) == a.end())
        a.push_back(x);
    return a;
  };
  const std::pair<const char *, std::vector<std::string>> lists[] = {
      {"ciphers", merge(probe.ciphers_s2c, probe.ciphers_c2s)},
      {"macs", merge(probe.macs_s2c, probe.macs_c2s)},
      {"kexalgorithms", probe.kex},
      {"hostkeyalgorithms", probe.hostkey}};
  for (auto &[keyword, offered] : lists) {
    const WeakRule *rule = nullptr;
    for (auto &r : k_weak_rules)
      if (std::string_view(r.keyword) == keyword)
        rule = &r;
    std::vector<std::string> weak;
    for (auto &a : offered)
      if (rule->weak(a))
        weak.push_back(a);
    Evidence e{"", 0, "", "no weak algorithm", label + " (" + probe.banner + ")"};
    if (weak.empty()) {
      e.found = label + " KEXINIT " + keyword + " " + text::join(offered, ",");
      good.push_back(e);
    } else {
      e.found = label + " KEXINIT " + keyword + " offers " + text::join(weak, ",");
      bad.push_back(e);
    }
  }
}

void weak_algorithms(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  const Scope &g = m->scopes.front();
  std::vector<Evidence> bad, good;
  for (auto &rule : k_weak_rules) {
    ssh::Value v = g.effective.get(rule.keyword);
    std::vector<std::string> weak;
    for (auto &a : text::split(first(v), ','))
      if (rule.weak(a))
        weak.push_back(a);
    Evidence e = evidence_for(*m, g, rule.keyword, v, "");
    if (weak.empty()) {
      e.expected = "no weak algorithm";
      good.push_back(e);
    } else {
      e.found = std::string(rule.keyword) + " offers " + text::join(weak, ",") +
                (v.is_default() ? " (OpenSSH 9.2 default; not set)" : "");
      std::vector<std::string> keep;
      for (auto &a : text::split(first(v), ','))
        if (!rule.weak(a))
          keep.push_back(a);
      e.expected = std::string(rule.keyword) + " " + text::join(keep, ",");
      bad.push_back(e);
    }
  }
  std::string live_note;
  if (run.ctx().live())
    live_kexinit(run.ctx().probes(), *m, bad, good, live_note);
  if (!live_note.empty() && bad.empty()) {
    good.push_back({"", 0, live_note, "a KEXINIT", "live"});
    run.emit(Status::warn, "sshd",
             "the configuration offers no weak algorithm, but the live check failed: " + live_note,
             good);
    return;
  }
  verdict(run, *m, bad, good, "no weak cipher, MAC, key exchange or host key algorithm is offered",
          "", false);
}

std::string octal(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

void host_key_permissions(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  const Scope &g = m->scopes.front();
  ssh::Value keys = g.effective.get("hostkey");
  const RootFs &fs = run.ctx().fs();
  std::optional<uint32_t> ssh_keys_gid;
  for (auto &[gid, name] : m->users.group_names)
    if (name == "ssh_keys")
      ssh_keys_gid = gid;
  int checked = 0;
  for (size_t i = 0; i < keys.args.size(); ++i) {
    const std::string &key = keys.args[i];
    SourceLocation where =
        i < keys.locations.size() ? keys.locations[i] : SourceLocation{m->config_path, 0};
    std::string subject = key;
    auto st = fs.stat(key);
    Evidence e{where.path, where.line, "", "mode 0600 (or 0640 group ssh_keys), owner root", key};
    if (!st) {
      if (st.error().not_found()) {
        e.found = "absent";
        run.emit(Status::warn, subject, "HostKey " + key + " does not exist: sshd cannot load it",
                 {e});
      } else {
        e.found = st.error().message;
        run.emit(Status::error, subject, "cannot inspect host key: " + st.error().to_string(), {e});
      }
      continue;
    }
    ++checked;
    uint32_t mode = st->mode & 0777;
    bool mode_ok = (mode & 077) == 0 || (mode == 0640 && ssh_keys_gid && st->gid == *ssh_keys_gid);
    bool owner_ok = st->uid == 0;
    e.found = "mode " + octal(st->mode) + ", uid " + std::to_string(st->uid) + ", gid " +
              std::to_string(st->gid);
    if (mode_ok && owner_ok) {
      run.emit(Status::pass, subject,
               "private host key is mode " + octal(st->mode) + " and owned by root", {e});
    } else {
      std::string why = !mode_ok ? "is readable by other users (mode " + octal(st->mode) + ")" : "";
      if (!owner_ok)
        why += std::string(why.empty() ? "" : " and ") + "is not owned by root (uid " +
               std::to_string(st->uid) + ")";
      run.emit(Status::fail, subject, "private host key " + why, {e});
    }
  }
  if (keys.args.empty())
    run.emit(Status::not_applicable, "sshd", "no HostKey is configured");
  (void)checked;
}

void config_valid(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  std::vector<Evidence> errors, warnings;
  for (auto &d : m->config.diagnostics) {
    Evidence e{d.loc.path, d.loc.line, d.message, "", ""};
    if (d.level == ssh::Diagnostic::Level::error)
      errors.push_back(e);
    else if (d.level == ssh::Diagnostic::Level::warning)
      warnings.push_back(e);
  }
  std::string files =
      std::to_string(m->config.files.size()) + " file" + (m->config.files.size() == 1 ? "" : "s");
  if (!errors.empty()) {
    std::string msg = std::to_string(errors.size()) + " error" + (errors.size() == 1 ? "" : "s") +
                      " that make sshd refuse to start, first: " + errors.front().path + ":" +
                      std::to_string(errors.front().line) + ": " + errors.front().found;
    errors.insert(errors.end(), warnings.begin(), warnings.end());
    run.emit(Status::fail, "sshd", msg, errors);
    return;
  }
  if (!warnings.empty()) {
    run.emit(Status::warn, "sshd",
             "the configuration (" + files + ") is accepted, with " +
                 std::to_string(warnings.size()) + " warning" + (warnings.size() == 1 ? "" : "s") +
                 ": " + warnings.front().found,
             warnings);
    return;
  }
  run.emit(Status::pass, "sshd", "the configuration (" + files + ") parses as sshd parses it",
           {Evidence{m->config_path, 0, files + " read", "", ""}});
}

constexpr CheckImpl k_checks[] = {
    {"ssh.permit-root-login", permit_root_login},
    {"ssh.password-authentication", password_authentication},
    {"ssh.pubkey-authentication", pubkey_authentication},
    {"ssh.permit-empty-passwords", permit_empty_passwords},
    {"ssh.max-auth-tries", max_auth_tries},
    {"ssh.client-alive", client_alive},
    {"ssh.allow-users-groups", allow_users_groups},
    {"ssh.x11-forwarding", x11_forwarding},
    {"ssh.use-dns", use_dns},
    {"ssh.tcp-keepalive", tcp_keepalive},
    {"ssh.protocol", protocol},
    {"ssh.weak-algorithms", weak_algorithms},
    {"ssh.host-key-permissions", host_key_permissions},
    {"ssh.config-valid", config_valid},
};

} // namespace

std::span<const CheckImpl> ssh_checks() {
  return k_checks;
}

} // namespace bulwark
