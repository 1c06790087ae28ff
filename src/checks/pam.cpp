// Checks: accounts.password-policy, accounts.lockout, accounts.mfa: the PAM
// stacks as libpam 1.5.2 (Debian 12) builds and runs them
// (src/parse/pam.cpp). A module counts only where the dispatcher reaches it
// and its failure stops the stack: an `optional` pam_pwquality, a faillock
// without `preauth` before pam_unix, or an OTP module that a jump skips are
// reported as not enforcing, with the deciding line.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/pam.hpp>

#include <algorithm>
#include <set>

namespace bulwark {

namespace {

using pam::Handler;
using pam::Service;
using pam::Type;

constexpr const char *k_pam_pwq_conf = "/etc/security/pwquality.conf";

std::string key_of(const SourceLocation &l) {
  return l.path + ":" + std::to_string(l.line);
}

const PamModel &pam_model(CheckRun &run) {
  return run.ctx().get<PamModel>();
}

// Fail closed: a PAM file that exists but cannot be read (EACCES, ELOOP, EIO)
// is one `error` finding naming it. libpam would fall back to "other"; the
// auditor cannot know what the unread file says. True when it emitted.
bool unreadable(CheckRun &run, const PamModel &m, std::initializer_list<const char *> names) {
  std::vector<Evidence> ev;
  for (const char *name : names) {
    const Service &svc = m.service(name);
    if (svc.read_error)
      ev.push_back(Evidence{svc.read_error->loc.path, 0, svc.read_error->message,
                            "a PAM file bulwark can read", svc.name});
  }
  if (ev.empty())
    return false;
  run.emit(Status::error, "pam", ev.front().path + ": " + ev.front().found, ev);
  return true;
}

std::string pam_where(const SourceLocation &l) {
  return l.path + ":" + std::to_string(l.line);
}

std::string pam_describe_handler(const Handler &h) {
  return std::string(to_string(h.type)) + " " + h.control + " " + h.module +
         (h.args.empty() ? "" : " " + text::join(h.args, " "));
}

Evidence pam_evidence_at(const Handler &h, std::string found, std::string expected,
                         const std::string &ctx) {
  return Evidence{h.loc.path, h.loc.line, std::move(found), std::move(expected), ctx};
}

// A setting's place: its line, or the main file at line 0 for a default.
Evidence pam_evidence_at(const pam::IntSetting &s, const std::string &default_file,
                         std::string found, std::string expected, const std::string &ctx) {
  if (s.loc.path.empty())
    return Evidence{default_file, 0, std::move(found) + " (built-in default)", std::move(expected),
                    ctx};
  return Evidence{s.loc.path, s.loc.line, std::move(found), std::move(expected), ctx};
}

// Evidence lists where several services share the deciding line (every
// Debian service includes common-password): one entry, services joined.
void add_merged(std::vector<Evidence> &list, Evidence e) {
  for (auto &x : list)
    if (x.path == e.path && x.line == e.line && x.found == e.found) {
      if ((", " + x.context + ", ").find(", " + e.context + ", ") == std::string::npos)
        x.context += ", " + e.context;
      return;
    }
  list.push_back(std::move(e));
}

std::string summary(const std::vector<Evidence> &bad) {
  std::string s;
  for (auto &e : bad)
    s += (s.empty() ? "" : "; ") + e.context + ": " + e.found;
  return s;
}

bool aborted(const Service &svc, std::vector<Evidence> &bad) {
  if (!svc.aborted)
    return false;
  add_merged(bad, Evidence{svc.abort_reason.loc.path, svc.abort_reason.loc.line,
                           "pam_start() fails: " + svc.abort_reason.message,
                           "a PAM configuration libpam can load", svc.name});
  return true;
}

void emit_verdict(CheckRun &run, const std::vector<Evidence> &bad,
                  const std::vector<Evidence> &warn, const std::vector<Evidence> &good,
                  const std::string &pass_msg) {
  if (!bad.empty()) {
    std::vector<Evidence> ev = bad;
    ev.insert(ev.end(), warn.begin(), warn.end());
    run.emit(Status::fail, "pam", summary(bad), ev);
  } else if (!warn.empty()) {
    std::vector<Evidence> ev = warn;
    ev.insert(ev.end(), good.begin(), good.end());
    run.emit(Status::warn, "pam", summary(warn), ev);
  } else {
    run.emit(Status::pass, "pam", pass_msg, good);
  }
}

bool is_updater(const Handler &h) {
  static const std::set<std::string> k{"pam_unix", "pam_sss", "pam_ldap", "pam_winbind",
                                       "pam_krb5"};
  return k.count(h.name) > 0;
}

// ---- accounts.password-policy ---------------------------------------------

void pam_judge_password(const PamModel &m, const Service &svc, long min_len, long min_classes,
                        std::vector<Evidence> &bad, std::vector<Evidence> &good) {
  if (aborted(svc, bad))
    return;
  const auto &stack = svc.stack(Type::password);
  auto a = pam::analyse(stack);
  std::optional<size_t> q, unreached, updater;
  for (size_t i = 0; i < stack.size(); ++i) {
    const Handler &h = stack[i];
    if (h.name == "pam_pwquality" || h.name == "pam_cracklib") {
      if (a.reached[i] && !q)
        q = i;
      else if (!a.reached[i] && !unreached)
        unreached = i;
    } else if (is_updater(h) && a.reached[i] && !updater) {
      updater = i;
    }
  }
  if (!q) {
    if (unreached) {
      add_merged(bad,
                 pam_evidence_at(stack[*unreached],
                                 pam_describe_handler(stack[*unreached]) + " is never reached",
                                 "pam_pwquality reached before the password is set", svc.name));
    } else if (updater) {
      add_merged(bad,
                 pam_evidence_at(stack[*updater],
                                 stack[*updater].name + " sets passwords without pam_pwquality or "
                                                        "pam_cracklib before it",
                                 "password requisite pam_pwquality.so", svc.name));
    } else {
      add_merged(bad, Evidence{svc.path, 0, "no pam_pwquality in the password stack",
                               "password requisite pam_pwquality.so", svc.name});
    }
    return;
  }
  const Handler &h = stack[*q];
  if (h.module_missing) {
    add_merged(
        bad, pam_evidence_at(h, h.module + " is not installed: the line returns PAM_MODULE_UNKNOWN",
                             "an installed pam_pwquality", svc.name));
    return;
  }
  // A rejected password must not reach a module that asks for one itself.
  size_t qi = *q;
  std::optional<size_t> leak;
  auto run = pam::analyse(stack, [&](size_t i, int r, uint32_t marks) -> uint32_t {
    if (i == qi && r == pam::ret::success)
      return 1u;
    if (i != qi && is_updater(stack[i]) && !(marks & 1u) && !stack[i].has_arg("use_authtok")) {
      if (!leak)
        leak = i;
      return 2u;
    }
    return 0u;
  });
  for (auto &e : run.endings)
    if (e.marks & 2u) {
      add_merged(
          bad, pam_evidence_at(h,
                               "a password " + h.name + " rejects (control " + h.control +
                                   ") still reaches " + stack[*leak].name + " at " +
                                   pam_where(stack[*leak].loc) + ", which asks for one itself",
                               "password requisite " + h.module + " before the module that sets it",
                               svc.name));
      return;
    }
  pam::PwQuality s = pam::apply_module_args(m.pwquality, h);
  std::string conf = h.name == "pam_cracklib" ? h.loc.path : k_pam_pwq_conf;
  if (s.get("enforcing") == 0) {
    add_merged(bad, pam_evidence_at(s.setting("enforcing"), conf,
                                    "enforcing = 0: weak passwords are only warned about",
                                    "enforcing = 1", svc.name));
    return;
  }
  int shortest = pam::shortest_accepted(s);
  int classes = pam::guaranteed_classes(s);
  auto credits = [&] {
    std::string c;
    for (const char *k : {"dcredit", "ucredit", "lcredit", "ocredit"})
      c += std::string(" ") + k + "=" + std::to_string(s.get(k));
    return c;
  };
  std::string settings = "minlen=" + std::to_string(s.get("minlen")) + credits() +
                         " minclass=" + std::to_string(s.get("minclass"));
  std::string found = settings + ": the shortest accepted password has " +
                      std::to_string(shortest) + " characters and " + std::to_string(classes) +
                      " classes";
  bool ok = true;
  if (shortest < min_len) {
    ok = false;
    // Name the setting that decides: minlen, or the credits that lower it.
    const pam::IntSetting *credit = nullptr;
    for (const char *k : {"dcredit", "ucredit", "lcredit", "ocredit"})
      if (s.get(k) > 0 && !s.setting(k).loc.path.empty())
        credit = &s.setting(k);
    const pam::IntSetting &decider =
        s.get("minlen") >= min_len && credit ? *credit : s.setting("minlen");
    add_merged(bad,
               pam_evidence_at(decider, conf,
                               settings + ": passwords of " + std::to_string(shortest) +
                                   " characters are accepted",
                               "shortest accepted password >= " + std::to_string(min_len) +
                                   " (minlen counts positive credits: set them to 0 or negative)",
                               svc.name));
  }
  if (classes < min_classes) {
    ok = false;
    add_merged(bad, pam_evidence_at(s.setting("minclass"), conf,
                                    settings + ": passwords with " + std::to_string(classes) +
                                        " character classes are accepted",
                                    "minclass >= " + std::to_string(min_classes) +
                                        " (or that many negative credits)",
                                    svc.name));
  }
  if (ok)
    add_merged(good, pam_evidence_at(h, found + " (" + pam_describe_handler(h) + ")",
                                     ">= " + std::to_string(min_len) + " characters, >= " +
                                         std::to_string(min_classes) + " classes",
                                     svc.name));
}

void password_policy(CheckRun &run) {
  const PamModel &m = pam_model(run);
  if (unreadable(run, m, {"passwd", "login", "sshd", "su", "sudo"}))
    return;
  long min_len = run.param_int("min-length");
  long min_classes = run.param_int("min-classes");
  std::vector<Evidence> bad, good, warn;
  int judged = 0;
  for (auto &[name, svc] : m.stacks) {
    if (!svc.exists)
      continue;
    ++judged;
    pam_judge_password(m, svc, min_len, min_classes, bad, good);
  }
  if (judged == 0) {
    run.emit(Status::not_applicable, "pam", "no PAM service file in /etc/pam.d");
    return;
  }
  for (auto &d : m.pwquality.diagnostics)
    warn.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "pwquality"});
  emit_verdict(run, bad, warn, good,
               "pam_pwquality is enforced with at least " + std::to_string(min_len) +
                   " characters and " + std::to_string(min_classes) + " character classes");
}

// ---- accounts.lockout -------------------------------------------------------

// Does sshd run the PAM auth stack at all (UsePAM with passwords or
// keyboard-interactive in some scope)?
std::optional<std::string> sshd_skips_pam_auth(CheckRun &run) {
  const SshModel &ssh = run.ctx().ssh();
  if (ssh.state != SshModel::State::ok)
    return std::nullopt;
  auto first = [](const ssh::Value &v) { return v.args.empty() ? "" : v.args[0]; };
  if (first(ssh.scopes.front().effective.get("usepam")) != "yes")
    return "UsePAM is no: sshd does not use PAM to authenticate";
  for (auto &s : ssh.scopes)
    if (first(s.effective.get("passwordauthentication")) == "yes" ||
        first(s.effective.get("kbdinteractiveauthentication")) == "yes")
      return std::nullopt;
  return "sshd accepts neither passwords nor keyboard-interactive: its PAM auth stack never runs";
}

void judge_lockout(CheckRun &run, const PamModel &m, const Service &svc, long max,
                   std::vector<Evidence> &bad, std::vector<Evidence> &warn,
                   std::vector<Evidence> &good) {
  if (aborted(svc, bad))
    return;
  const auto &stack = svc.stack(Type::auth);
  auto a = pam::analyse(stack);
  std::vector<size_t> preauth, authfail, authsucc, tally;
  std::optional<size_t> checker;
  for (size_t i = 0; i < stack.size(); ++i) {
    if (!a.reached[i])
      continue;
    const Handler &h = stack[i];
    if (h.name == "pam_faillock") {
      auto it = m.faillock.find(key_of(h.loc));
      if (it == m.faillock.end())
        continue;
      auto act = it->second.action;
      (act == pam::Faillock::Action::preauth    ? preauth
       : act == pam::Faillock::Action::authfail ? authfail
                                                : authsucc)
          .push_back(i);
    } else if (h.name == "pam_tally2") {
      tally.push_back(i);
    } else if (h.name == "pam_unix" && !checker) {
      checker = i;
    }
  }
  if (preauth.empty() && authfail.empty() && authsucc.empty() && tally.empty()) {
    if (checker)
      add_merged(bad, pam_evidence_at(stack[*checker],
                                      "passwords are checked by " + stack[*checker].name +
                                          " with no pam_faillock around it: failures never lock",
                                      "auth requisite pam_faillock.so preauth before it, "
                                      "[default=die] pam_faillock.so authfail after it",
                                      svc.name));
    else
      add_merged(bad, Evidence{svc.path, 0, "no pam_faillock in the auth stack",
                               "pam_faillock.so preauth / authfail", svc.name});
    return;
  }
  if (!tally.empty() && preauth.empty() && authfail.empty()) {
    const Handler &h = stack[tally.front()];
    if (h.module_missing) {
      add_merged(bad, pam_evidence_at(
                          h,
                          "pam_tally2 is not part of Linux-PAM 1.5 (Debian 12): the line returns "
                          "PAM_MODULE_UNKNOWN and locks nothing",
                          "pam_faillock.so (preauth / authfail)", svc.name));
      return;
    }
    long deny = 0;
    if (auto d = h.arg("deny"))
      deny = std::strtol(d->c_str(), nullptr, 10);
    bool mandatory = pam::required_for_success(stack, tally.front());
    if (deny > 0 && deny <= max && mandatory)
      add_merged(good, pam_evidence_at(h, "pam_tally2 deny=" + std::to_string(deny),
                                       "deny <= " + std::to_string(max), svc.name));
    else
      add_merged(bad, pam_evidence_at(h,
                                      !mandatory ? "pam_tally2's verdict does not stop a login"
                                                 : "pam_tally2 deny=" + std::to_string(deny) +
                                                       (deny == 0 ? " (never locks)" : ""),
                                      "auth required pam_tally2.so deny<=" + std::to_string(max),
                                      svc.name));
    return;
  }
  // pam_faillock: preauth refuses a locked account before the password is
  // checked, authfail counts a failure. Without preauth the right password
  // still opens a locked account; without authfail nothing is counted.
  bool ok = true;
  std::optional<size_t> enforcing_preauth;
  for (size_t p : preauth)
    if (pam::required_for_success(stack, p))
      enforcing_preauth = p;
  if (!enforcing_preauth) {
    ok = false;
    if (preauth.empty())
      add_merged(bad, pam_evidence_at(
                          stack[authfail.empty() ? authsucc.front() : authfail.front()],
                          "no pam_faillock preauth: a locked account still logs in with the right "
                          "password",
                          "auth requisite pam_faillock.so preauth before " +
                              (checker ? stack[*checker].name : std::string("pam_unix")),
                          svc.name));
    else
      add_merged(bad,
                 pam_evidence_at(stack[preauth.front()],
                                 "pam_faillock preauth (control " + stack[preauth.front()].control +
                                     ") does not stop a locked account",
                                 "auth requisite pam_faillock.so preauth", svc.name));
  }
  if (checker) {
    size_t c = *checker;
    std::set<size_t> fails(authfail.begin(), authfail.end());
    auto runs = pam::analyse(stack, [&](size_t i, int r, uint32_t marks) -> uint32_t {
      if (i == c && r != pam::ret::success && r != pam::ret::ignore)
        return 1u;
      if (fails.count(i) && (marks & 1u))
        return 2u;
      return 0u;
    });
    bool counted = std::all_of(runs.endings.begin(), runs.endings.end(), [](const pam::Ending &e) {
      return !(e.marks & 1u) || (e.marks & 2u);
    });
    if (!counted) {
      ok = false;
      add_merged(bad,
                 pam_evidence_at(
                     stack[c],
                     authfail.empty()
                         ? "no pam_faillock authfail after " + stack[c].name +
                               ": failed passwords are never counted"
                         : "a failure of " + stack[c].name +
                               " can end the stack before pam_faillock authfail at " +
                               pam_where(stack[authfail.front()].loc) + ": it is not counted",
                     "[default=die] pam_faillock.so authfail right after a failed " + stack[c].name,
                     svc.name));
    }
  }
  size_t decider = enforcing_preauth   ? *enforcing_preauth
                   : !preauth.empty()  ? preauth.front()
                   : !authfail.empty() ? authfail.front()
                                       : authsucc.front();
  const pam::Faillock &opt = m.faillock.at(key_of(stack[decider].loc));
  for (auto &d : opt.diagnostics)
    add_merged(opt.conf_broken ? bad : warn,
               Evidence{d.loc.path, d.loc.line, d.message, "", svc.name});
  if (opt.conf_broken)
    ok = false;
  long deny = opt.deny.value;
  std::string found = "deny=" + std::to_string(deny) +
                      " unlock_time=" + std::to_string(opt.unlock_time.value) +
                      " fail_interval=" + std::to_string(opt.fail_interval.value);
  if (deny == 0 || deny > max) {
    ok = false;
    add_merged(bad, pam_evidence_at(opt.deny, opt.conf,
                                    found + (deny == 0 ? " (deny=0 never locks)" : ""),
                                    "deny <= " + std::to_string(max), svc.name));
  }
  if (!ok)
    return;
  // Success resets the count only through the account stack or authsucc.
  bool resets = !authsucc.empty();
  const auto &acct = svc.stack(Type::account);
  auto aa = pam::analyse(acct);
  for (size_t i = 0; i < acct.size(); ++i)
    if (aa.reached[i] && acct[i].name == "pam_faillock")
      resets = true;
  if (!resets)
    add_merged(warn,
               pam_evidence_at(stack[decider],
                               "no pam_faillock in the account stack: a successful login does not "
                               "reset the failure count",
                               "account required pam_faillock.so", svc.name));
  add_merged(
      good, pam_evidence_at(opt.deny, opt.conf, found, "deny <= " + std::to_string(max), svc.name));
  (void)run;
}

void pam_lockout(CheckRun &run) {
  const PamModel &m = pam_model(run);
  if (unreadable(run, m, {"sshd", "login"}))
    return;
  long max = run.param_int("max-failures");
  std::vector<Evidence> bad, warn, good;
  std::vector<std::string> skipped;
  int judged = 0;
  for (const char *name : {"sshd", "login"}) {
    const Service &svc = m.stacks.at(name);
    if (!svc.exists)
      continue;
    if (std::string(name) == "sshd")
      if (auto why = sshd_skips_pam_auth(run)) {
        skipped.push_back(*why);
        continue;
      }
    ++judged;
    judge_lockout(run, m, svc, max, bad, warn, good);
  }
  if (judged == 0) {
    run.emit(Status::not_applicable, "pam",
             skipped.empty() ? "neither /etc/pam.d/sshd nor /etc/pam.d/login exists"
                             : skipped.front());
    return;
  }
  emit_verdict(run, bad, warn, good,
               "pam_faillock locks an account after at most " + std::to_string(max) + " failures" +
                   (skipped.empty() ? "" : " (" + skipped.front() + ")"));
}

// ---- accounts.mfa -----------------------------------------------------------

bool is_otp(const Handler &h) {
  return h.name == "pam_google_authenticator" || h.name == "pam_u2f" || h.name == "pam_oath";
}

bool is_knowledge(const Handler &h) {
  return h.name == "pam_unix" || h.name == "pam_sss" || h.name == "pam_ldap" ||
         h.name == "pam_krb5" || h.name == "pam_winbind";
}

// The sshd PAM auth stack asks for two factors: an OTP module and a
// password module that every successful run passes.
struct PamFactors {
  std::optional<size_t> otp, knowledge, otp_optional;
};

PamFactors pam_factors(const Service &svc) {
  PamFactors f;
  const auto &stack = svc.stack(Type::auth);
  for (size_t i = 0; i < stack.size(); ++i) {
    bool need = pam::required_for_success(stack, i);
    if (is_otp(stack[i])) {
      if (need && !f.otp)
        f.otp = i;
      else if (!need && !f.otp_optional)
        f.otp_optional = i;
    } else if (is_knowledge(stack[i]) && need && !f.knowledge) {
      f.knowledge = i;
    }
  }
  return f;
}

void mfa(CheckRun &run) {
  const SshModel &ssh = run.ctx().ssh();
  if (ssh.state == SshModel::State::absent) {
    run.emit(Status::not_applicable, "sshd",
             ssh.config_path + " does not exist: the OpenSSH server is not installed");
    return;
  }
  if (ssh.state == SshModel::State::unreadable) {
    run.emit(Status::error, "sshd", "cannot read the sshd configuration: " + ssh.error->to_string(),
             {Evidence{ssh.config_path, 0, "", "", ""}});
    return;
  }
  const PamModel &m = pam_model(run);
  if (unreadable(run, m, {"sshd"}))
    return;
  const Service &svc = m.stacks.at("sshd");
  auto first = [](const ssh::Value &v) { return v.args.empty() ? "" : v.args[0]; };
  auto ev = [&](const SshModel::Scope &s, const std::string &kw, const std::string &expected) {
    ssh::Value v = s.effective.get(kw);
    Evidence e{ssh.config_path, 0, kw + " " + text::join(v.args, " "), expected, s.label};
    if (v.is_default())
      e.found += " (OpenSSH 9.2 default; not set)";
    else
      e.path = v.locations.front().path, e.line = v.locations.front().line;
    return e;
  };
  bool usepam = first(ssh.scopes.front().effective.get("usepam")) == "yes";
  std::vector<Evidence> bad, warn, good;
  static const char *k_kws[] = {"authenticationmethods", "pubkeyauthentication",
                                "passwordauthentication", "kbdinteractiveauthentication",
                                "hostbasedauthentication"};
  for (const auto &s : ssh.scopes) {
    if (s.match_line >= 0) {
      bool own = false;
      for (const char *k : k_kws)
        own = own || s.effective.get(k).match_line == s.match_line;
      if (!own)
        continue;
    }
    ssh::Value methods = s.effective.get("authenticationmethods");
    bool any = methods.args.empty() || (methods.args.size() == 1 && methods.args[0] == "any");
    if (!any) {
      // Every list must name two different methods.
      std::optional<std::string> single;
      for (auto &list : methods.args) {
        std::set<std::string> names;
        for (auto &meth : text::split(list, ','))
          names.insert(meth.substr(0, meth.find(':')));
        if (names.size() < 2 && !single)
          single = list;
      }
      auto e = ev(s, "authenticationmethods", "every method list names two methods");
      if (single) {
        e.found += " (\"" + *single + "\" is one factor)";
        bad.push_back(e);
      } else {
        good.push_back(e);
      }
      continue;
    }
    // One method suffices: each enabled method must then be two factors.
    bool pub = first(s.effective.get("pubkeyauthentication")) == "yes";
    bool host = first(s.effective.get("hostbasedauthentication")) == "yes";
    bool pw = first(s.effective.get("passwordauthentication")) == "yes";
    bool kbd = first(s.effective.get("kbdinteractiveauthentication")) == "yes" && usepam;
    std::string expected = "AuthenticationMethods publickey,keyboard-interactive (with an OTP "
                           "module in /etc/pam.d/sshd)";
    if (pub || host) {
      auto e = ev(s, pub ? "pubkeyauthentication" : "hostbasedauthentication", expected);
      e.found += " with AuthenticationMethods any: a key alone logs in";
      bad.push_back(e);
      continue;
    }
    if (pw && !usepam) {
      auto e = ev(s, "passwordauthentication", expected);
      e.found += " with UsePAM no: a password alone logs in";
      bad.push_back(e);
      continue;
    }
    if (!pw && !kbd) {
      warn.push_back(ev(s, "kbdinteractiveauthentication", expected));
      warn.back().found += ": no authentication method is enabled";
      continue;
    }
    if (svc.aborted) {
      aborted(svc, bad);
      continue;
    }
    PamFactors f = pam_factors(svc);
    const auto &stack = svc.stack(Type::auth);
    if (f.otp && f.knowledge) {
      const Handler &o = stack[*f.otp];
      auto e = pam_evidence_at(
          o, pam_describe_handler(o) + " and " + stack[*f.knowledge].name + " are both required",
          expected, s.label);
      (o.has_arg("nullok") || o.has_arg("nouserok") ? warn : good).push_back(e);
      if (o.has_arg("nullok") || o.has_arg("nouserok"))
        warn.back().found += "; but nullok/nouserok lets users without a token in";
    } else if (f.otp_optional) {
      const Handler &o = stack[*f.otp_optional];
      bad.push_back(pam_evidence_at(
          o, pam_describe_handler(o) + " does not stop a login that fails or skips it",
          "auth required " + o.module, s.label));
    } else if (f.otp) {
      bad.push_back(pam_evidence_at(
          stack[*f.otp], "only the one-time code is asked: no password module is required",
          expected, s.label));
    } else {
      auto e = ev(s, kbd ? "kbdinteractiveauthentication" : "passwordauthentication", expected);
      e.found += ": /etc/pam.d/sshd asks for one factor (no pam_google_authenticator, pam_u2f "
                 "or pam_oath is required)";
      bad.push_back(e);
    }
  }
  if (!bad.empty()) {
    std::string msg;
    for (auto &e : bad)
      msg += (msg.empty() ? "" : "; ") + e.found + " in " + e.context;
    bad.insert(bad.end(), warn.begin(), warn.end());
    run.emit(Status::fail, "sshd", "SSH logins with one factor: " + msg, bad);
  } else if (!warn.empty()) {
    run.emit(Status::warn, "sshd", warn.front().found + " in " + warn.front().context, warn);
  } else {
    run.emit(Status::pass, "sshd", "every SSH login needs two factors", good);
  }
}

// ---- second wave: accounts.su-restricted, password-history, central-auth ---

// Whether a failure of the handler at `index` stops the stack: it is
// reached, and no successful run passes through one of its failing returns.
// (pam_wheel answers a member with PAM_IGNORE, not PAM_SUCCESS, so "every
// success passes through its success" is the wrong test.)
bool failure_stops(const std::vector<Handler> &stack, size_t index) {
  auto a = pam::analyse(stack, [index](size_t i, int r, uint32_t) -> uint32_t {
    return i == index && r != pam::ret::success && r != pam::ret::ignore ? 1u : 0u;
  });
  if (!a.reached[index])
    return false;
  for (auto &e : a.endings)
    if (e.success && (e.marks & 1u))
      return false;
  return true;
}

// The group pam_wheel checks (Linux-PAM 1.5.2 pam_wheel.c): group=NAME, else
// "wheel" when that group exists, else the group with gid 0.
std::string wheel_group(CheckRun &run, const Handler &h) {
  if (auto g = h.arg("group"))
    return *g;
  const auto &acc = run.ctx().accounts();
  if (acc.group)
    for (auto &g : *acc.group)
      if (g.name == "wheel")
        return "wheel";
  return "root (gid 0: no group named wheel)";
}

void su_restricted(CheckRun &run) {
  const PamModel &m = pam_model(run);
  const Service &svc = m.service("su");
  std::vector<Evidence> bad;
  if (aborted(svc, bad)) {
    run.emit(Status::error, "su", "the su PAM service cannot be loaded: " + bad.front().found, bad);
    return;
  }
  const auto &stack = svc.stack(Type::auth);
  auto a = pam::analyse(stack);
  std::vector<Evidence> seen;
  for (size_t i = 0; i < stack.size(); ++i) {
    const Handler &h = stack[i];
    if (h.name != "pam_wheel")
      continue;
    if (h.has_arg("deny")) {
      seen.push_back(
          pam_evidence_at(h, pam_describe_handler(h) + ": deny refuses the group's members instead",
                          "auth required pam_wheel.so use_uid group=GROUP", "su"));
      continue;
    }
    if (!a.reached[i]) {
      seen.push_back(
          pam_evidence_at(h, pam_describe_handler(h) + " is never reached", "reached", "su"));
      continue;
    }
    if (!failure_stops(stack, i)) {
      seen.push_back(pam_evidence_at(
          h, pam_describe_handler(h) + ": su succeeds when it fails (" + h.control + ")",
          "auth required pam_wheel.so use_uid group=GROUP", "su"));
      continue;
    }
    run.emit(Status::pass, "su",
             "su needs membership of " + wheel_group(run, h) + " (" + pam_where(h.loc) + ")",
             {pam_evidence_at(h, pam_describe_handler(h), "auth required pam_wheel.so", "su")});
    return;
  }
  if (seen.empty())
    seen.push_back(Evidence{svc.exists ? svc.path : "/etc/pam.d/su", 0,
                            "no pam_wheel in the su auth stack",
                            "auth required pam_wheel.so use_uid group=GROUP", "su"});
  run.emit(Status::fail, "su",
           "any account that knows the target's password can use su: " + summary(seen), seen);
}

// pam_pwhistory of Linux-PAM 1.5.2 (no pwhistory.conf before 1.5.3): the
// arguments remember=N (default 10; 0 turns it off) and enforce_for_root.
// It rejects a reused password only where it runs before the module that
// sets the password and every successful run passes through it.
void password_history(CheckRun &run) {
  const PamModel &m = pam_model(run);
  long min = static_cast<long>(run.param_int("remember"));
  const Service &svc = m.service("passwd");
  std::vector<Evidence> bad;
  if (aborted(svc, bad)) {
    run.emit(Status::error, "pam", "the passwd PAM service cannot be loaded: " + bad.front().found,
             bad);
    return;
  }
  const auto &stack = svc.stack(Type::password);
  auto a = pam::analyse(stack);
  std::optional<size_t> updater;
  for (size_t i = 0; i < stack.size(); ++i)
    if (is_updater(stack[i]) && a.reached[i] && !updater)
      updater = i;
  std::vector<Evidence> seen;
  for (size_t i = 0; i < stack.size(); ++i) {
    const Handler &h = stack[i];
    if (h.name != "pam_pwhistory")
      continue;
    std::string expected = "password requisite pam_pwhistory.so remember=" + std::to_string(min) +
                           " enforce_for_root use_authtok, before " +
                           (updater ? stack[*updater].name : std::string("pam_unix"));
    if (!a.reached[i] || !failure_stops(stack, i) || (updater && *updater < i)) {
      seen.push_back(
          pam_evidence_at(h,
                          pam_describe_handler(h) +
                              (!a.reached[i] ? " is never reached"
                               : updater && *updater < i
                                   ? " runs after " + stack[*updater].name + " has set the password"
                                   : ": a password change succeeds without it"),
                          expected, "passwd"));
      continue;
    }
    long remember = 10;
    if (auto r = h.arg("remember")) {
      char *end = nullptr;
      remember = std::strtol(r->c_str(), &end, 10);
      if (r->empty() || *end != '\0')
        remember = -1;
    }
    std::vector<std::string> problems;
    if (remember < min)
      problems.push_back(
          "remembers " +
          (remember < 0 ? std::string("an unparsable number of") : std::to_string(remember)) +
          " passwords");
    if (!h.has_arg("enforce_for_root"))
      problems.push_back("root is exempt (no enforce_for_root)");
    if (problems.empty()) {
      run.emit(Status::pass, "pam",
               "pam_pwhistory refuses the last " + std::to_string(remember) +
                   " passwords, for root too",
               {pam_evidence_at(h, pam_describe_handler(h), expected, "passwd")});
      return;
    }
    seen.push_back(pam_evidence_at(h, pam_describe_handler(h) + ": " + text::join(problems, "; "),
                                   expected, "passwd"));
  }
  if (seen.empty())
    seen.push_back(Evidence{svc.exists ? svc.path : "/etc/pam.d/passwd", 0,
                            "no pam_pwhistory in the password stack",
                            "password requisite pam_pwhistory.so remember=" + std::to_string(min) +
                                " enforce_for_root use_authtok",
                            "passwd"});
  run.emit(Status::fail, "pam", "old passwords can be reused: " + summary(seen), seen);
}

bool is_central(const Handler &h) {
  static const std::set<std::string> k{"pam_sss",     "pam_ldap",   "pam_krb5",
                                       "pam_winbind", "pam_oauth2", "pam_oauth2_device",
                                       "pam_aad",     "pam_oidc",   "pam_keycloak"};
  return k.count(h.name) > 0;
}

void central_auth(CheckRun &run) {
  const PamModel &m = pam_model(run);
  bool required = run.param_str("required") == "yes";
  std::vector<Evidence> found, broken;
  for (const std::string name : {"sshd", "login"}) {
    const Service &svc = m.service(name);
    if (!svc.exists || aborted(svc, broken))
      continue; // a service without its own file is not the way in judged here
    const auto &stack = svc.stack(Type::auth);
    auto a = pam::analyse(stack);
    for (size_t i = 0; i < stack.size(); ++i)
      if (is_central(stack[i]) && a.reached[i])
        add_merged(found, pam_evidence_at(stack[i], pam_describe_handler(stack[i]),
                                          "a central authentication module", name));
  }
  if (!found.empty()) {
    run.emit(Status::pass, "pam",
             "logins authenticate against a central directory: " + found.front().found, found);
    return;
  }
  if (!broken.empty()) {
    run.emit(Status::error, "pam", "cannot tell: " + summary(broken), broken);
    return;
  }
  Evidence e{"/etc/pam.d/sshd", 0,
             "no central module (pam_sss, pam_ldap, pam_krb5, pam_winbind, an OIDC/OAuth2 module) "
             "in the sshd or login auth stack",
             "e.g. auth [success=end default=ignore] pam_sss.so (sssd)", "sshd, login"};
  if (required)
    run.emit(Status::fail, "pam", "central authentication is required but not configured", {e});
  else
    run.emit(Status::not_applicable, "pam",
             "central authentication is not configured and this profile does not require it", {e});
}

constexpr CheckImpl k_pam_checks[] = {
    {"accounts.password-policy", password_policy},
    {"accounts.lockout", pam_lockout},
    {"accounts.mfa", mfa},
    {"accounts.su-restricted", su_restricted},
    {"accounts.password-history", password_history},
    {"accounts.central-auth", central_auth},
};

} // namespace

std::span<const CheckImpl> pam_checks() {
  return k_pam_checks;
}

} // namespace bulwark
