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
#include <bulwark/parse/ssh_keys.hpp>

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
void ssh_verdict(CheckRun &run, const SshModel &m, const std::vector<Evidence> &bad,
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
  ssh_verdict(run, *m, bad, good, pass_msg);
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
  ssh_verdict(run, *m, bad, good,
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
  ssh_verdict(run, *m, bad, good,
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
  ssh_verdict(run, *m, bad, good,
              "no weak cipher, MAC, key exchange or host key algorithm is offered", "", false);
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
    e.found = "mode " + text::octal_mode(st->mode) + ", uid " + std::to_string(st->uid) + ", gid " +
              std::to_string(st->gid);
    if (mode_ok && owner_ok) {
      run.emit(Status::pass, subject,
               "private host key is mode " + text::octal_mode(st->mode) + " and owned by root",
               {e});
    } else {
      std::string why =
          !mode_ok ? "is readable by other users (mode " + text::octal_mode(st->mode) + ")" : "";
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

// The files around sshd_config that the second-wave checks judge, read once
// per run: the owner and mode of each configuration file and public host
// key, each host key's type and size, and /etc/ssh/moduli.
struct SshFiles {
  struct Stat {
    std::string path;
    std::string role; // "sshd_config", "drop-in directory", "public host key", ...
    bool public_key = false;
    Result<FileInfo> info = Error{"not inspected"};
  };
  struct HostKey {
    std::string path; // as HostKey names it
    std::string from; // the file the size was read from
    Result<sshkeys::KeyInfo> info = Error{"not inspected"};
  };
  std::vector<Stat> stats;
  std::vector<HostKey> keys;
  std::vector<std::pair<int, long>> moduli; // (line, SIZE)
  std::optional<Error> moduli_error;
};

constexpr size_t k_ssh_max_key_bytes = 1024 * 1024;

SshFiles load_ssh_files(const RootFs &fs, const SshModel &m) {
  SshFiles out;
  auto add = [&](const std::string &path, const std::string &role, bool pub) {
    for (auto &s : out.stats)
      if (s.path == path)
        return;
    out.stats.push_back(SshFiles::Stat{path, role, pub, fs.stat(path)});
  };
  add("/etc/ssh", "configuration directory", false);
  for (auto &f : m.config.files)
    add(f, f == m.config_path ? "sshd_config" : "included file", false);
  if (fs.exists("/etc/ssh/sshd_config.d"))
    add("/etc/ssh/sshd_config.d", "drop-in directory", false);
  ssh::Value keys = m.scopes.front().effective.get("hostkey");
  for (auto &k : keys.args) {
    add(k + ".pub", "public host key", true);
    SshFiles::HostKey hk{k, k, Error{""}};
    auto priv = fs.read_file(k, k_ssh_max_key_bytes);
    if (priv) {
      hk.info = sshkeys::parse_private_key(*priv);
    } else if (priv.error().not_found()) {
      hk.info = priv.error();
    } else {
      // Unreadable (not root): the public half says what the key is.
      auto pub = fs.read_file(k + ".pub", k_ssh_max_key_bytes);
      hk.from = k + ".pub";
      hk.info = pub ? sshkeys::parse_public_key(*pub) : Result<sshkeys::KeyInfo>(priv.error());
    }
    if (!hk.info && !hk.info.error().not_found() && hk.info.error().path.empty())
      hk.info = Error{hk.info.error().message, hk.from};
    out.keys.push_back(std::move(hk));
  }
  auto moduli = fs.read_file("/etc/ssh/moduli", 16 * 1024 * 1024);
  if (!moduli)
    out.moduli_error = moduli.error();
  else
    out.moduli = sshkeys::parse_moduli(*moduli, "/etc/ssh/moduli").groups;
  return out;
}

const SshFiles &ssh_files(Context &ctx, const SshModel &m) {
  return ctx.model<SshFiles>([&] { return load_ssh_files(ctx.fs(), m); }, "ssh files");
}

// ---- second wave -----------------------------------------------------------

// The scopes where any of `keywords` is decided: the global scope, and each
// Match block that sets one of them (elsewhere the global verdict holds).
template <typename Fn>
void for_each_scope_setting(const SshModel &m, std::initializer_list<const char *> keywords,
                            Fn fn) {
  for (const Scope &s : m.scopes) {
    bool own = s.match_line < 0;
    for (const char *k : keywords)
      own = own || s.effective.get(k).match_line == s.match_line;
    if (own)
      fn(s);
  }
}

std::string lower_first(const ssh::Value &v) {
  return text::lower(first(v));
}

// DisableForwarding yes overrides every other forwarding keyword
// (OpenSSH 9.2 session.c, serverloop.c: each forwarding path tests
// options.disable_forwarding first). GatewayPorts only concerns remote
// forwardings, so it is moot where AllowTcpForwarding admits none.
void forwarding(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  static constexpr const char *k_keys[] = {"allowtcpforwarding", "allowagentforwarding",
                                           "allowstreamlocalforwarding", "gatewayports",
                                           "permittunnel"};
  std::vector<Evidence> bad, good;
  for_each_scope_setting(
      *m,
      {"disableforwarding", "allowtcpforwarding", "allowagentforwarding",
       "allowstreamlocalforwarding", "gatewayports", "permittunnel"},
      [&](const Scope &s) {
        ssh::Value df = s.effective.get("disableforwarding");
        if (lower_first(df) == "yes") {
          good.push_back(evidence_for(*m, s, "disableforwarding", df, "disableforwarding yes"));
          return;
        }
        std::string tcp = lower_first(s.effective.get("allowtcpforwarding"));
        size_t bad_before = bad.size();
        for (const char *k : k_keys) {
          ssh::Value v = s.effective.get(k);
          std::string val = lower_first(v);
          bool moot = std::string_view(k) == "gatewayports" && (tcp == "no" || tcp == "local");
          auto e = evidence_for(*m, s, k, v, std::string(k) + " no (or disableforwarding yes)");
          (val == "no" || moot ? good : bad).push_back(e);
        }
        // The line that turned DisableForwarding off is part of the cause.
        if (bad.size() > bad_before && !df.is_default())
          bad.push_back(evidence_for(*m, s, "disableforwarding", df, "disableforwarding yes"));
      });
  ssh_verdict(run, *m, bad, good,
              "no forwarding is allowed (DisableForwarding, or each keyword no)",
              "forwarding is allowed: ");
}

void log_level(CheckRun &run) {
  require_every_scope(
      run, "loglevel", "loglevel INFO or VERBOSE",
      [](const ssh::Value &v) {
        return text::iequals(first(v), "info") || text::iequals(first(v), "verbose");
      },
      "LogLevel is INFO or VERBOSE");
}

// MaxStartups as sshd reads it (servconf.c): "start:rate:full", or "start"
// alone, which makes full equal to start (the rate keeps its default 30).
struct Startups {
  long long begin = 0, rate = 0, full = 0;
};
std::optional<Startups> parse_startups(std::string_view s) {
  auto parts = text::split(s, ':', true);
  auto num = [](const std::string &p) -> std::optional<long long> {
    if (p.empty() || p.size() > 9 || p.find_first_not_of("0123456789") != std::string::npos)
      return std::nullopt;
    return std::stoll(p);
  };
  if (parts.size() == 1) {
    auto b = num(parts[0]);
    if (!b)
      return std::nullopt;
    return Startups{*b, 30, *b};
  }
  if (parts.size() != 3)
    return std::nullopt;
  auto b = num(parts[0]), r = num(parts[1]), f = num(parts[2]);
  if (!b || !r || !f)
    return std::nullopt;
  return Startups{*b, *r, *f};
}

void login_limits(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  long long grace_max = run.param_int("grace-time-max");
  long long sessions_max = run.param_int("max-sessions");
  auto limit = parse_startups(run.param_str("max-startups"));
  if (!limit) {
    run.emit(Status::error, "sshd",
             "parameter max-startups must be start:rate:full, got \"" +
                 run.param_str("max-startups") + "\"");
    return;
  }
  std::vector<Evidence> bad, good;
  const Scope &g = m->scopes.front();
  // LoginGraceTime and MaxStartups are global-only keywords.
  ssh::Value grace = g.effective.get("logingracetime");
  long long gt = as_int(grace);
  auto eg = evidence_for(*m, g, "logingracetime", grace,
                         "0 < logingracetime <= " + std::to_string(grace_max));
  (gt > 0 && gt <= grace_max ? good : bad).push_back(eg);
  ssh::Value st = g.effective.get("maxstartups");
  auto es = evidence_for(*m, g, "maxstartups", st,
                         "maxstartups start <= " + std::to_string(limit->begin) +
                             " and full <= " + std::to_string(limit->full));
  auto have = parse_startups(first(st));
  if (have)
    es.found += " (sshd -T: " + std::to_string(have->begin) + ":" + std::to_string(have->rate) +
                ":" + std::to_string(have->full) + ")";
  // The rate is the chance of dropping a connection between start and full:
  // a higher rate admits fewer, so it is not capped.
  (have && have->begin <= limit->begin && have->full <= limit->full ? good : bad).push_back(es);
  for_each_deciding_scope(*m, "maxsessions", [&](const Scope &s, const ssh::Value &v) {
    auto e =
        evidence_for(*m, s, "maxsessions", v, "maxsessions <= " + std::to_string(sessions_max));
    (as_int(v) <= sessions_max ? good : bad).push_back(e);
  });
  ssh_verdict(run, *m, bad, good,
              "unauthenticated connections and sessions are limited (LoginGraceTime, MaxStartups, "
              "MaxSessions)");
}

void legacy_auth(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  struct Want {
    const char *keyword;
    const char *value;
  };
  static constexpr Want k_want[] = {{"hostbasedauthentication", "no"},
                                    {"ignorerhosts", "yes"},
                                    {"permituserenvironment", "no"},
                                    {"gssapiauthentication", "no"},
                                    {"kerberosauthentication", "no"}};
  std::vector<Evidence> bad, good;
  for (const Want &w : k_want)
    for_each_deciding_scope(*m, w.keyword, [&](const Scope &s, const ssh::Value &v) {
      auto e = evidence_for(*m, s, w.keyword, v, std::string(w.keyword) + " " + w.value);
      (lower_first(v) == w.value ? good : bad).push_back(e);
    });
  ssh_verdict(run, *m, bad, good,
              "host-based, rhosts, GSSAPI and Kerberos authentication are off and users cannot set "
              "the environment sshd passes");
}

void use_pam(CheckRun &run) {
  require_every_scope(
      run, "usepam", "usepam yes", [](const ssh::Value &v) { return lower_first(v) == "yes"; },
      "UsePAM is yes: sshd runs the PAM account and session stacks (faillock, MFA)");
}

// A file sshd reads for its configuration: owned by root and writable by
// nobody else (mode & 022 == 0); a public host key at most 0644.
void ssh_config_permissions(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  const SshFiles &f = ssh_files(run.ctx(), *m);
  std::vector<Evidence> bad, good, errors;
  for (const SshFiles::Stat &s : f.stats) {
    if (!s.info) {
      if (s.info.error().not_found())
        continue; // a missing Include or key: ssh.config-valid / host-key-permissions say so
      errors.push_back(Evidence{s.path, 0, s.info.error().message, "readable", s.role});
      continue;
    }
    const FileInfo &st = *s.info;
    uint32_t forbidden = s.public_key ? 0133 : 022;
    Evidence e{s.path, 0,
               "mode " + text::octal_mode(st.mode) + ", uid " + std::to_string(st.uid) + ", gid " +
                   std::to_string(st.gid),
               s.public_key ? "owner root, mode 0644 or stricter"
                            : "owner root, not writable by group or others",
               s.role};
    ((st.mode & forbidden) == 0 && st.uid == 0 ? good : bad).push_back(e);
  }
  if (!errors.empty()) {
    errors.insert(errors.end(), bad.begin(), bad.end());
    run.emit(Status::error, "sshd",
             "cannot inspect " + errors.front().path + ": " + errors.front().found, errors);
    return;
  }
  if (bad.empty()) {
    run.emit(Status::pass, "sshd",
             std::to_string(good.size()) +
                 " configuration files, directories and public keys are root's and not writable "
                 "by others",
             good);
    return;
  }
  std::string what;
  for (auto &b : bad)
    what += (what.empty() ? "" : "; ") + b.path + " " + b.found;
  run.emit(Status::fail, "sshd", "files that configure sshd can be changed by others: " + what,
           bad);
}

void host_key_strength(CheckRun &run) {
  const SshModel *m = usable(run);
  if (!m)
    return;
  long long rsa_min = run.param_int("rsa-min-bits");
  const SshFiles &f = ssh_files(run.ctx(), *m);
  std::vector<Evidence> bad, good, errors;
  for (const SshFiles::HostKey &k : f.keys) {
    if (!k.info) {
      if (!k.info.error().not_found())
        errors.push_back(Evidence{k.path, 0, k.info.error().message, "a readable key", "HostKey"});
      continue; // absent: ssh.host-key-permissions reports it
    }
    Evidence e{k.from, 0, std::to_string(k.info->bits) + " bits " + k.info->type,
               "RSA >= " + std::to_string(rsa_min) + " bits, ECDSA, Ed25519; no DSA",
               "HostKey " + k.path};
    bool ok = k.info->family == "rsa"   ? k.info->bits >= rsa_min
              : k.info->family == "dsa" ? false
                                        : true;
    (ok ? good : bad).push_back(e);
  }
  const Scope &g = m->scopes.front();
  std::string kex = first(g.effective.get("kexalgorithms"));
  bool gex = kex.find("diffie-hellman-group-exchange-") != std::string::npos;
  if (gex) {
    if (f.moduli_error && !f.moduli_error->not_found()) {
      errors.push_back(Evidence{"/etc/ssh/moduli", f.moduli_error->line, f.moduli_error->message,
                                "readable", "moduli"});
    } else if (f.moduli_error) {
      good.push_back(Evidence{"/etc/ssh/moduli", 0,
                              "absent: sshd uses its built-in groups (2048-8192 bits)", "",
                              "moduli"});
    } else {
      size_t weak = 0;
      Evidence first_weak;
      for (auto &[line, size] : f.moduli)
        if (size < 3071 && weak++ == 0)
          first_weak =
              Evidence{"/etc/ssh/moduli", line, "group of " + std::to_string(size + 1) + " bits",
                       "no group under 3072 bits (size field >= 3071)", "moduli"};
      if (weak > 0) {
        first_weak.found += " (" + std::to_string(weak) + " such groups)";
        bad.push_back(first_weak);
      } else {
        good.push_back(Evidence{"/etc/ssh/moduli", 0,
                                std::to_string(f.moduli.size()) + " groups, none under 3072 bits",
                                "", "moduli"});
      }
    }
  } else {
    good.push_back(Evidence{m->config_path, 0,
                            "no diffie-hellman-group-exchange key exchange: /etc/ssh/moduli is "
                            "not used",
                            "", "moduli"});
  }
  if (!errors.empty()) {
    errors.insert(errors.end(), bad.begin(), bad.end());
    run.emit(Status::error, "sshd",
             "cannot read " + errors.front().path + ": " + errors.front().found, errors);
    return;
  }
  ssh_verdict(run, *m, bad, good, "host keys and Diffie-Hellman groups are strong",
              "weak host keys or groups: ", false);
}

constexpr CheckImpl k_ssh_checks[] = {
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
    {"ssh.forwarding", forwarding},
    {"ssh.log-level", log_level},
    {"ssh.config-permissions", ssh_config_permissions},
    {"ssh.login-limits", login_limits},
    {"ssh.legacy-auth", legacy_auth},
    {"ssh.use-pam", use_pam},
    {"ssh.host-key-strength", host_key_strength},
};

} // namespace

std::span<const CheckImpl> ssh_checks() {
  return k_ssh_checks;
}

} // namespace bulwark
