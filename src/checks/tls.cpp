// The tls domain: CHECKS.md "tls". TLS endpoints come from nginx
// (src/parse/nginx.cpp) and Apache (src/parse/apache.cpp) after
// inheritance; cipher strings are expanded by OpenSSL and judged against
// Mozilla's guideline (src/parse/tls_policy.cpp); certificates and keys are
// those the endpoints name plus /etc/letsencrypt/live/*/ (src/parse/x509.cpp).
// With --live, each TLS listener is also probed (src/live/tls.cpp) and the
// running server's answer is reported next to the configuration's, with a
// note when they disagree.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/compose_services.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/apache.hpp>
#include <bulwark/parse/docker_daemon.hpp>
#include <bulwark/parse/nginx.hpp>
#include <bulwark/parse/openvpn.hpp>
#include <bulwark/parse/postgresql_conf.hpp>
#include <bulwark/parse/redis_conf.hpp>
#include <bulwark/parse/tls_policy.hpp>
#include <bulwark/parse/x509.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <ctime>
#include <set>

namespace bulwark {

namespace {

struct CertFile {
  std::string path;
  std::string subject; // its findings' subject: the path, or a compose service's "project/service"
  bool is_key = false;
  bool on_host = false;    // a --compose project's own file outside the target root
  SourceLocation named_at; // the directive that names it (line 0: letsencrypt/live)
  std::string named_by;    // endpoint subject or "letsencrypt"
  std::optional<Result<std::vector<x509::Certificate>>> certs;
  std::optional<Result<x509::PrivateKey>> key;
};

struct LiveResult {
  size_t endpoint = SIZE_MAX; // index into endpoints; SIZE_MAX: a listener no config names
  live::TlsProbe probe;
};

// A compose service's nginx configuration errors (and what could not be
// derived about it).
struct ServiceProblems {
  std::string subject;
  std::vector<Diagnostic> diagnostics;
};

struct TlsModel {
  ConfTree nginx, apache;
  std::vector<ServiceProblems> services;
  std::vector<TlsEndpoint> endpoints; // TLS ones only
  std::vector<CertFile> files;
  bool live = false;
  std::vector<LiveResult> probes;
};

// nginx and Apache take relative certificate paths from their prefix.
std::string cert_path(const TlsEndpoint &e, const std::string &value) {
  return RootFs::join(e.daemon == "nginx" ? "/etc/nginx" : "/etc/apache2", value);
}

// The new entry (valid until the next one), or null for a file already named.
CertFile *add_file(TlsModel &m, std::set<std::string> &seen, const std::string &path,
                   const SourceLocation &at, const std::string &by, bool key) {
  if (!seen.insert((key ? "k:" : "c:") + path).second)
    return nullptr;
  CertFile f;
  f.path = path;
  f.subject = path;
  f.is_key = key;
  f.named_at = at;
  f.named_by = by;
  m.files.push_back(std::move(f));
  return &m.files.back();
}

// The subject of an endpoint's findings: a compose service's name, else
// the server's.
const std::string &finding_subject(const TlsEndpoint &e) {
  return e.service.empty() ? e.subject : e.service;
}

std::string sni_of(const TlsEndpoint &e) {
  for (auto &n : e.names)
    if (!n.empty() && n != "_" && n != "localhost" && n.find_first_of("*~$^") == std::string::npos)
      return n;
  return "";
}

void probe_live(live::Probes &probes, TlsModel &m) {
  std::set<std::pair<std::string, int>> covered;
  std::set<std::tuple<std::string, int, std::string>> done;
  // TCP listeners as numeric addresses ("0.0.0.0" / "::" for any).
  std::vector<std::pair<std::string, int>> listeners;
  const auto &table = probes.listeners();
  if (table)
    for (auto &l : *table)
      if (l.proto == 6)
        listeners.emplace_back(l.addr.str(), static_cast<int>(l.port));
  auto listening = [&](int port) {
    if (!table)
      return true; // unknown: the probe itself finds out
    for (auto &l : listeners)
      if (l.second == port)
        return true;
    return false;
  };
  for (size_t i = 0; i < m.endpoints.size(); ++i) {
    const TlsEndpoint &e = m.endpoints[i];
    for (auto &l : e.listens) {
      if (!l.ssl || l.port <= 0 || !listening(l.port))
        continue;
      std::string addr = l.address;
      if (addr.empty() || addr == "0.0.0.0")
        addr = "127.0.0.1";
      else if (addr == "::")
        addr = "::1";
      if (!probes.is_local_address(addr))
        continue;
      std::string sni = sni_of(e);
      if (!done.insert({addr, l.port, sni}).second)
        continue;
      covered.insert({addr, l.port});
      m.probes.push_back({i, probes.tls(addr, l.port, sni)});
    }
  }
  // Listeners on the usual HTTPS ports that no configuration explains.
  for (auto &[address, port] : listeners) {
    if (port != 443 && port != 8443)
      continue;
    std::string addr = address == "0.0.0.0" ? "127.0.0.1" : address == "::" ? "::1" : address;
    if (covered.count({addr, port}) || !probes.is_local_address(addr))
      continue;
    covered.insert({addr, port});
    m.probes.push_back({SIZE_MAX, probes.tls(addr, port, "")});
  }
}

TlsModel load_tls_model(Context &ctx) {
  const RootFs &fs = ctx.fs();
  TlsModel m;
  m.nginx = nginx::load(fs);
  m.apache = apache::load(fs);
  std::vector<TlsEndpoint> all = nginx::endpoints(m.nginx);
  for (auto &e : apache::endpoints(m.apache))
    all.push_back(std::move(e));
  std::set<std::string> seen;
  for (auto &e : all) {
    if (!e.tls)
      continue;
    for (auto &c : e.certificates)
      if (c.value.find('$') == std::string::npos && !text::starts_with(c.value, "data:"))
        add_file(m, seen, cert_path(e, c.value), c.loc, e.subject, false);
    for (auto &k : e.keys)
      if (k.value.find('$') == std::string::npos && !text::starts_with(k.value, "data:") &&
          !text::starts_with(k.value, "engine:"))
        add_file(m, seen, cert_path(e, k.value), k.loc, e.subject, true);
    m.endpoints.push_back(std::move(e));
  }
  if (auto dirs = fs.glob("/etc/letsencrypt/live/*"); dirs) {
    for (auto &d : *dirs) {
      auto st = fs.stat(d);
      if (!st || st->type != FileInfo::Type::directory)
        continue;
      std::string cert = fs.exists(d + "/fullchain.pem") ? d + "/fullchain.pem" : d + "/cert.pem";
      add_file(m, seen, cert, {cert, 0}, "letsencrypt", false);
      add_file(m, seen, d + "/privkey.pem", {d + "/privkey.pem", 0}, "letsencrypt", true);
    }
  }
  // Probed live: the host's own servers only (a container's port is not
  // the host's, and may not be published at all).
  if (ctx.live()) {
    m.live = true;
    probe_live(ctx.probes(), m);
  }
  // The nginx servers inside compose services: their certificates are the
  // bind-mounted host files the container paths resolve to; a file no bind
  // mount provides (the image's, a named volume's) cannot be read offline.
  std::optional<RootFs> host;
  for (const compose::NginxService &svc : ctx.get<ComposeServicesModel>().nginx) {
    ServiceProblems sp{svc.subject, svc.problems};
    sp.diagnostics.insert(sp.diagnostics.end(), svc.tree.diagnostics.begin(),
                          svc.tree.diagnostics.end());
    if (!sp.diagnostics.empty())
      m.services.push_back(std::move(sp));
    for (const TlsEndpoint &e : svc.endpoints) {
      if (!e.tls)
        continue;
      auto name = [&](const TlsSetting &c, bool key) {
        if (c.value.find('$') != std::string::npos || text::starts_with(c.value, "data:") ||
            text::starts_with(c.value, "engine:"))
          return;
        std::string in_container = RootFs::join("/etc/nginx", c.value);
        auto mapped = svc.view.host_path(in_container);
        CertFile *f = add_file(m, seen, mapped ? *mapped : svc.subject + ":" + in_container, c.loc,
                               e.subject, key);
        if (!f)
          return;
        f->subject = svc.subject;
        f->on_host = svc.files_on_host;
        if (mapped)
          return;
        f->path = in_container;
        Error why{"no bind mount of " + svc.subject + " provides " + in_container +
                      " (the image's own file or a named volume): it cannot be read offline",
                  "", 0};
        if (key)
          f->key = why;
        else
          f->certs = why;
      };
      for (auto &c : e.certificates)
        name(c, false);
      for (auto &k : e.keys)
        name(k, true);
      m.endpoints.push_back(e);
    }
  }
  // Keys and certificates are told apart by how they were named.
  for (auto &f : m.files) {
    if (f.certs || f.key)
      continue;
    bool is_key = f.is_key;
    if (f.named_by == "letsencrypt")
      is_key = f.path.size() >= 11 && f.path.compare(f.path.size() - 11, 11, "privkey.pem") == 0;
    if (f.on_host && !host)
      host.emplace("/");
    const RootFs &rfs = f.on_host ? *host : fs;
    if (is_key)
      f.key = x509::read_private_key(rfs, f.path);
    else
      f.certs = x509::read_certificates(rfs, f.path);
  }
  return m;
}

const TlsModel &tls_model(CheckRun &run) {
  Context &ctx = run.ctx();
  return ctx.model<TlsModel>([&] { return load_tls_model(ctx); });
}

std::string tls_where(const SourceLocation &l) {
  return l.line > 0 ? l.path + ":" + std::to_string(l.line) : l.path;
}

std::string live_label(const live::TlsProbe &p) {
  std::string a = p.address.find(':') != std::string::npos ? "[" + p.address + "]" : p.address;
  return "live " + a + ":" + std::to_string(p.port) + (p.sni.empty() ? "" : " (SNI " + p.sni + ")");
}

// Parse errors of the web server configurations: reported by each config
// check as `error`, the other findings still follow.
void report_diagnostics(CheckRun &run, const TlsModel &m) {
  for (auto &sp : m.services) {
    std::vector<Evidence> ev;
    for (auto &d : sp.diagnostics)
      ev.push_back({d.loc.path, d.loc.line, d.message, "", "parse"});
    const Diagnostic &first = sp.diagnostics.front();
    run.emit(Status::error, sp.subject,
             sp.subject + ": the nginx configuration of the container has " +
                 std::to_string(ev.size()) + " error(s); first: " + tls_where(first.loc) + ": " +
                 first.message,
             ev);
  }
  for (const ConfTree *t : {&m.nginx, &m.apache}) {
    if (t->diagnostics.empty())
      continue;
    std::vector<Evidence> ev;
    for (auto &d : t->diagnostics)
      ev.push_back({d.loc.path, d.loc.line, d.message, "", "parse"});
    std::string daemon = t == &m.nginx ? "nginx" : "apache";
    run.emit(Status::error, daemon,
             daemon + " configuration has " + std::to_string(ev.size()) + " error(s); first: " +
                 tls_where(t->diagnostics.front().loc) + ": " + t->diagnostics.front().message,
             ev);
  }
}

bool applicable(CheckRun &run, const TlsModel &m) {
  if (!m.endpoints.empty() || !m.probes.empty())
    return true;
  std::string what = !m.nginx.present && !m.apache.present
                         ? "neither nginx (/etc/nginx/nginx.conf) nor Apache "
                           "(/etc/apache2/apache2.conf) is configured"
                         : "no nginx server or Apache VirtualHost listens with TLS";
  run.emit(Status::not_applicable, "", what);
  return false;
}

const char *k_old[] = {"SSLv2", "SSLv3", "TLSv1", "TLSv1.1"};

bool is_old(const std::string &v) {
  return std::find(std::begin(k_old), std::end(k_old), v) != std::end(k_old);
}

std::string default_note(const TlsEndpoint &e, const TlsSetting &s, const std::string &directive) {
  if (!s.is_default)
    return "";
  return " (" + e.daemon + " default; " + directive + " not set)";
}

void min_version(CheckRun &run) {
  const TlsModel &m = tls_model(run);
  report_diagnostics(run, m);
  if (!applicable(run, m))
    return;
  for (size_t i = 0; i < m.endpoints.size(); ++i) {
    const TlsEndpoint &e = m.endpoints[i];
    std::vector<std::string> old;
    for (auto &v : e.versions)
      if (is_old(v))
        old.push_back(v);
    std::string directive = e.daemon == "nginx" ? "ssl_protocols" : "SSLProtocol";
    Evidence ev{e.protocols.loc.path, e.protocols.loc.line,
                directive + " " + e.protocols.value + default_note(e, e.protocols, directive),
                directive + " TLSv1.2 TLSv1.3", e.subject};
    std::vector<Evidence> evs{ev};
    std::vector<std::string> live_old;
    for (auto &p : m.probes) {
      if (p.endpoint != i)
        continue;
      if (!p.probe.error.empty())
        continue; // reported below as its own warning
      std::vector<std::string> acc;
      for (auto &[v, ok] : p.probe.versions)
        if (ok)
          acc.push_back(v);
      for (auto &v : acc)
        if (is_old(v))
          live_old.push_back(v);
      evs.push_back({"", 0, live_label(p.probe) + " accepts " + text::join(acc, " "),
                     "TLSv1.2 TLSv1.3 only", e.subject});
    }
    int level = tls::security_level(e.ciphers.value);
    std::vector<std::string> old_effective;
    // Whether OpenSSL refuses old versions at its security level is the
    // build's: bulwark's own for the host, the image's (not known offline)
    // for a container, whose listed versions count as enabled.
    for (auto &v : e.service.empty() ? tls::effective_versions(e.versions, level) : e.versions)
      if (is_old(v))
        old_effective.push_back(v);
    std::string msg;
    Status st;
    if (!old_effective.empty()) {
      st = Status::fail;
      msg =
          e.subject + " enables " + text::join(old_effective, ", ") + " (" +
          tls_where(e.protocols.loc) +
          (e.protocols.is_default ? ", " + e.daemon + "'s default" : "") + ")" +
          (level == 0 ? "; the cipher string lowers OpenSSL to @SECLEVEL=0, which lets them through"
           : e.service.empty()
               ? ""
               : "; the image's OpenSSL build decides whether its security level refuses them");
    } else if (!live_old.empty()) {
      st = Status::fail;
      msg = e.subject +
            ": the configuration allows only TLS 1.2+, but the running server accepts " +
            text::join(live_old, ", ") + " (configuration not reloaded?)";
    } else if (!old.empty()) {
      st = Status::warn;
      msg = e.subject + " lists " + text::join(old, ", ") + " (" + tls_where(e.protocols.loc) +
            (e.protocols.is_default ? ", " + e.daemon + "'s default" : "") +
            "), which OpenSSL 3 refuses at security level " + std::to_string(level) +
            "; a cipher string with @SECLEVEL=0 or another OpenSSL build would enable them";
      evs[0].found += " (refused at OpenSSL security level " + std::to_string(level) + ")";
    } else {
      st = Status::pass;
      msg = e.subject + " allows " + text::join(e.versions, " ");
    }
    if (m.live && !old_effective.empty() && live_old.empty() && evs.size() > 1)
      msg += "; live the server refuses them (the running configuration differs)";
    if (!e.protocols_from.empty())
      msg += "; it negotiates the versions of " + e.protocols_from +
             ", whatever its own ssl_protocols says";
    run.emit(st, finding_subject(e), msg, evs);
  }
  // A listener that accepts TCP and then says nothing, or says something
  // else than TLS: the live half of the check could not run there.
  for (auto &p : m.probes) {
    if (p.probe.error.empty())
      continue;
    std::string subject =
        p.endpoint == SIZE_MAX ? live_label(p.probe) : m.endpoints[p.endpoint].subject;
    const SourceLocation *at = p.endpoint == SIZE_MAX ? nullptr : &m.endpoints[p.endpoint].loc;
    run.emit(Status::warn, subject, live_label(p.probe) + ": " + p.probe.error,
             {{at ? at->path : "", at ? at->line : 0, live_label(p.probe) + ": " + p.probe.error,
               "a TLS handshake", "live"}});
  }
  for (auto &p : m.probes) {
    if (p.endpoint != SIZE_MAX || !p.probe.error.empty())
      continue;
    std::vector<std::string> acc, old;
    for (auto &[v, ok] : p.probe.versions)
      if (ok) {
        acc.push_back(v);
        if (is_old(v))
          old.push_back(v);
      }
    run.emit(old.empty() ? Status::pass : Status::fail, live_label(p.probe),
             live_label(p.probe) + " (no configuration read names it) accepts " +
                 text::join(acc, " "),
             {{"", 0, "accepts " + text::join(acc, " "), "TLSv1.2 TLSv1.3 only", "live"}});
  }
}

// The weak suites grouped by reason, worst first, a few names per group:
// "no forward secrecy: AES256-GCM-SHA384, AES128-SHA (+12 more); not AEAD ...".
std::string list_weak(const std::vector<tls::CipherInfo> &cs, const tls::Guideline &g,
                      bool advice) {
  std::vector<std::pair<std::string, std::vector<std::string>>> groups;
  for (auto &c : cs) {
    std::string w = tls::weakness(c, g);
    if (w.empty() || tls::weakness_is_advice(c, g) != advice)
      continue;
    auto it = std::find_if(groups.begin(), groups.end(), [&](auto &p) { return p.first == w; });
    if (it == groups.end())
      groups.push_back({w, {c.name}});
    else
      it->second.push_back(c.name);
  }
  auto rank = [](const std::string &w) {
    return w == "no forward secrecy"          ? 1
           : text::starts_with(w, "not AEAD") ? 2
           : text::starts_with(w, "outside")  ? 3
                                              : 0;
  };
  std::stable_sort(groups.begin(), groups.end(),
                   [&](auto &a, auto &b) { return rank(a.first) < rank(b.first); });
  std::vector<std::string> parts;
  for (auto &[why, names] : groups) {
    std::vector<std::string> shown(names.begin(),
                                   names.begin() + std::min<size_t>(names.size(), 4));
    std::string more = names.size() > 4 ? " (+" + std::to_string(names.size() - 4) + " more)" : "";
    parts.push_back(why + ": " + text::join(shown, ", ") + more);
  }
  return text::join(parts, "; ");
}

void strong_ciphers(CheckRun &run) {
  const TlsModel &m = tls_model(run);
  report_diagnostics(run, m);
  if (!applicable(run, m))
    return;
  const tls::Guideline &g = tls::mozilla();
  std::string expected_12 =
      "forward-secret AEAD suites (Mozilla " + g.level + " " + g.version + ")";
  for (size_t i = 0; i < m.endpoints.size(); ++i) {
    const TlsEndpoint &e = m.endpoints[i];
    std::string directive = e.daemon == "nginx" ? "ssl_ciphers" : "SSLCipherSuite";
    bool has12 = false, has13 = false;
    for (auto &v : e.versions) {
      has13 = has13 || v == "TLSv1.3";
      has12 = has12 || v != "TLSv1.3";
    }
    std::vector<Evidence> bad, advice, good;
    std::vector<std::string> fail_msgs, warn_msgs;
    if (has12) {
      auto cs = tls::expand_cipher_string(e.ciphers.value);
      Evidence ev{e.ciphers.loc.path, e.ciphers.loc.line,
                  directive + " " + e.ciphers.value + default_note(e, e.ciphers, directive),
                  expected_12, e.subject};
      if (!cs) {
        run.emit(Status::error, finding_subject(e), e.subject + ": " + cs.error().message, {ev});
        continue;
      }
      std::string weak = list_weak(*cs, g, false);
      std::string outside = list_weak(*cs, g, true);
      if (!weak.empty()) {
        ev.found += " -> " + weak;
        bad.push_back(ev);
        fail_msgs.push_back(directive + " enables " + weak);
      } else if (!outside.empty()) {
        ev.found += " -> " + outside;
        advice.push_back(ev);
        warn_msgs.push_back(directive + " enables " + outside);
      } else {
        ev.found += " -> " + std::to_string(cs->size()) + " suites, all in Mozilla " + g.level;
        good.push_back(ev);
      }
    }
    if (has13) {
      auto cs = tls::expand_ciphersuites(e.ciphersuites.value);
      Evidence ev{e.ciphersuites.loc.path.empty() ? e.loc.path : e.ciphersuites.loc.path,
                  e.ciphersuites.loc.line,
                  "TLS 1.3 suites " + (e.ciphersuites.is_default ? std::string("(OpenSSL default)")
                                                                 : e.ciphersuites.value),
                  "TLS 1.3 suites of Mozilla " + g.level, e.subject};
      if (!cs) {
        ev.found += ": " + cs.error().message;
        bad.push_back(ev);
        fail_msgs.push_back(cs.error().message);
      } else if (std::string o = list_weak(*cs, g, true) + list_weak(*cs, g, false); !o.empty()) {
        ev.found += " -> " + o;
        advice.push_back(ev);
        warn_msgs.push_back("TLS 1.3 " + o);
      } else {
        good.push_back(ev);
      }
    }
    for (auto &p : m.probes) {
      if (p.endpoint != i || !p.probe.error.empty() || p.probe.tls12_ciphers.empty())
        continue;
      std::vector<tls::CipherInfo> served;
      for (auto &n : p.probe.tls12_ciphers)
        served.push_back(tls::describe_cipher(n));
      std::string weak = list_weak(served, g, false);
      Evidence lv{"", 0, live_label(p.probe) + " accepts " + text::join(p.probe.tls12_ciphers, ":"),
                  expected_12, e.subject};
      if (!weak.empty()) {
        bad.push_back(lv);
        fail_msgs.push_back(live_label(p.probe) + " accepts " + weak);
      } else {
        good.push_back(lv);
      }
    }
    if (!bad.empty()) {
      bad.insert(bad.end(), advice.begin(), advice.end());
      run.emit(Status::fail, finding_subject(e), e.subject + ": " + text::join(fail_msgs, "; "),
               bad);
    } else if (!advice.empty()) {
      run.emit(Status::warn, finding_subject(e), e.subject + ": " + text::join(warn_msgs, "; "),
               advice);
    } else {
      run.emit(Status::pass, finding_subject(e),
               e.subject + ": every enabled suite is forward-secret AEAD in Mozilla " + g.level +
                   " " + g.version,
               good);
    }
  }
}

struct HstsVerdict {
  std::string problem; // "" when good
  bool advice = false; // only `always` missing
};

HstsVerdict judge_hsts(const std::string &value, bool always, bool nginx) {
  long long age = -1;
  bool sub = false, preload = false;
  for (auto &part : text::split(value, ';')) {
    std::string p(text::trim(part));
    std::string low = text::lower(p);
    if (text::starts_with(low, "max-age")) {
      size_t eq = p.find('=');
      if (eq != std::string::npos) {
        std::string v(text::trim(std::string_view(p).substr(eq + 1)));
        if (v.size() >= 2 && v.front() == '"' && v.back() == '"')
          v = v.substr(1, v.size() - 2);
        char *end = nullptr;
        long long n = std::strtoll(v.c_str(), &end, 10);
        if (!v.empty() && *end == '\0')
          age = n;
      }
    } else if (low == "includesubdomains") {
      sub = true;
    } else if (low == "preload") {
      preload = true;
    }
  }
  std::vector<std::string> miss;
  if (age < 31536000)
    miss.push_back(age < 0 ? "no max-age" : "max-age=" + std::to_string(age) + " < 31536000");
  if (!sub)
    miss.push_back("no includeSubDomains");
  if (!preload)
    miss.push_back("no preload");
  if (!miss.empty())
    return {text::join(miss, ", "), false};
  if (nginx && !always)
    return {"without `always`, nginx sends it only with 2xx/3xx responses", true};
  return {"", false};
}

const char *k_hsts_expected = "Strict-Transport-Security \"max-age=31536000; includeSubDomains; "
                              "preload\" always";

void hsts(CheckRun &run) {
  const TlsModel &m = tls_model(run);
  report_diagnostics(run, m);
  if (!applicable(run, m))
    return;
  for (size_t i = 0; i < m.endpoints.size(); ++i) {
    const TlsEndpoint &e = m.endpoints[i];
    if (e.header_scopes.empty())
      continue; // a stream (TCP) server sends no HTTP headers
    std::vector<Evidence> bad, advice, good;
    std::vector<std::string> msgs;
    for (auto &s : e.header_scopes) {
      const HeaderScope::Header *h = nullptr;
      for (auto &x : s.headers)
        if (text::iequals(x.name, "Strict-Transport-Security"))
          h = &x;
      if (!h) {
        Evidence ev{s.loc.path, s.loc.line, "", k_hsts_expected, e.subject + " " + s.label};
        if (s.dropped_hsts) {
          ev.found = s.label +
                     " has add_header lines of its own, so it does not inherit "
                     "Strict-Transport-Security from " +
                     tls_where(*s.dropped_hsts);
          msgs.push_back(s.label + " (" + tls_where(s.loc) + ") drops the inherited HSTS header");
        } else if (s.unset_hsts) {
          ev.path = s.unset_hsts->path;
          ev.line = s.unset_hsts->line;
          ev.found = "Header unset Strict-Transport-Security";
          msgs.push_back(s.label + " unsets HSTS (" + tls_where(*s.unset_hsts) + ")");
        } else {
          ev.found = "no Strict-Transport-Security header";
          msgs.push_back(s.label + " (" + tls_where(s.loc) + ") sends no HSTS header");
        }
        bad.push_back(ev);
        continue;
      }
      HstsVerdict v = judge_hsts(h->value, h->always, e.daemon == "nginx");
      Evidence ev{h->loc.path, h->loc.line,
                  "Strict-Transport-Security \"" + text::printable(h->value) + "\"" +
                      (h->always ? " always" : ""),
                  k_hsts_expected, e.subject + " " + s.label};
      if (v.problem.empty()) {
        good.push_back(ev);
      } else if (v.advice) {
        advice.push_back(ev);
        msgs.push_back(s.label + ": " + v.problem);
      } else {
        bad.push_back(ev);
        msgs.push_back(s.label + ": " + v.problem + " (" + tls_where(h->loc) + ")");
      }
    }
    for (auto &p : m.probes) {
      if (p.endpoint != i || !p.probe.error.empty() || !p.probe.http)
        continue;
      Evidence lv{"", 0,
                  live_label(p.probe) + " GET / -> " + p.probe.http_status +
                      (p.probe.hsts ? ", Strict-Transport-Security: " + *p.probe.hsts
                                    : ", no Strict-Transport-Security"),
                  k_hsts_expected, e.subject};
      HstsVerdict v =
          p.probe.hsts ? judge_hsts(*p.probe.hsts, true, false) : HstsVerdict{"no header", false};
      if (v.problem.empty()) {
        good.push_back(lv);
      } else {
        bad.push_back(lv);
        msgs.push_back(live_label(p.probe) + ": " + v.problem);
      }
    }
    if (!bad.empty()) {
      bad.insert(bad.end(), advice.begin(), advice.end());
      run.emit(Status::fail, finding_subject(e), e.subject + ": " + text::join(msgs, "; "), bad);
    } else if (!advice.empty()) {
      run.emit(Status::warn, finding_subject(e), e.subject + ": " + text::join(msgs, "; "), advice);
    } else {
      run.emit(Status::pass, finding_subject(e),
               e.subject + " sends HSTS with max-age >= 31536000, includeSubDomains and preload "
                           "in every location",
               good);
    }
  }
}

// ---- certificates ----

bool certs_applicable(CheckRun &run, const TlsModel &m) {
  if (!m.files.empty() || !m.probes.empty())
    return true;
  run.emit(Status::not_applicable, "",
           "no certificate is named by an nginx or Apache TLS server and /etc/letsencrypt/live is "
           "empty or absent");
  return false;
}

Evidence file_evidence(const CertFile &f, std::string found, std::string expected) {
  return {f.path, 0, std::move(found), std::move(expected),
          f.named_by + (f.named_at.line > 0 ? " (named at " + tls_where(f.named_at) + ")" : "")};
}

// Certificate files whose reading failed: one error each.
bool report_unreadable(CheckRun &run, const CertFile &f) {
  if (f.certs && !f.certs->ok()) {
    run.emit(Status::error, f.subject, "cannot read certificate " + f.certs->error().to_string(),
             {file_evidence(f, f.certs->error().message, "a PEM certificate")});
    return true;
  }
  if (f.key && !f.key->ok()) {
    run.emit(Status::error, f.subject, "cannot read private key " + f.key->error().to_string(),
             {file_evidence(f, f.key->error().message, "a PEM private key")});
    return true;
  }
  return false;
}

std::string tls_describe_cert(const x509::Certificate &c) {
  return "certificate " + std::to_string(c.index + 1) + " (" + text::printable(c.subject, 80) + ")";
}

// The live chains as certificates to judge, labelled with the endpoint.
std::vector<std::pair<std::string, const x509::Certificate *>> live_chains(const TlsModel &m) {
  std::vector<std::pair<std::string, const x509::Certificate *>> out;
  for (auto &p : m.probes)
    for (auto &c : p.probe.chain)
      out.push_back({live_label(p.probe), &c});
  return out;
}

void cert_rotation(CheckRun &run) {
  const TlsModel &m = tls_model(run);
  if (!certs_applicable(run, m))
    return;
  x509::Limits lim;
  lim.max_age_days = static_cast<int>(run.param_int("max-age-days"));
  lim.max_lifetime_days = lim.max_age_days;
  int64_t now = std::time(nullptr);
  auto judge = [&](const std::string &subject, const Evidence &base, const x509::Certificate &c) {
    Evidence ev = base;
    ev.found = tls_describe_cert(c) + ": notBefore " + x509::format_time(c.not_before) +
               ", notAfter " + x509::format_time(c.not_after);
    ev.expected = "issued within " + std::to_string(lim.max_age_days) +
                  " days, lifetime <= " + std::to_string(lim.max_lifetime_days) + " days";
    if (auto old = x509::too_old(c, now, lim); !old.empty())
      run.emit(Status::fail, subject, subject + ": " + tls_describe_cert(c) + " " + old, {ev});
    else if (auto life = x509::too_long_lived(c, lim); !life.empty())
      run.emit(Status::warn, subject, subject + ": " + tls_describe_cert(c) + " is " + life, {ev});
    else
      run.emit(Status::pass, subject,
               subject + ": " + tls_describe_cert(c) + " is " +
                   std::to_string((now - c.not_before) / 86400) + " days old",
               {ev});
  };
  for (auto &f : m.files) {
    if (report_unreadable(run, f) || !f.certs)
      continue;
    // Rotation is about the leaf; CA certificates in the chain live longer.
    if (!(*f.certs)->empty())
      judge(f.subject, file_evidence(f, "", ""), (*f.certs)->front());
  }
  for (auto &[label, c] : live_chains(m))
    if (c->index == 0)
      judge(label, Evidence{"", 0, "", "", "live"}, *c);
}

void cert_expiry(CheckRun &run) {
  const TlsModel &m = tls_model(run);
  if (!certs_applicable(run, m))
    return;
  x509::Limits lim;
  lim.expiry_days = static_cast<int>(run.param_int("days"));
  int64_t now = std::time(nullptr);
  auto judge = [&](const std::string &subject, const Evidence &base,
                   const std::vector<const x509::Certificate *> &chain) {
    std::vector<Evidence> bad, good;
    std::vector<std::string> msgs;
    for (auto *c : chain) {
      Evidence ev = base;
      ev.found = tls_describe_cert(*c) + ": notAfter " + x509::format_time(c->not_after);
      ev.expected = "valid for more than " + std::to_string(lim.expiry_days) + " days";
      if (auto why = x509::expiring(*c, now, lim); !why.empty()) {
        bad.push_back(ev);
        msgs.push_back(tls_describe_cert(*c) + " " + why);
      } else {
        good.push_back(ev);
      }
    }
    if (!bad.empty())
      run.emit(Status::fail, subject, subject + ": " + text::join(msgs, "; "), bad);
    else if (!good.empty())
      run.emit(Status::pass, subject,
               subject + ": every certificate is valid for more than " +
                   std::to_string(lim.expiry_days) + " days",
               good);
  };
  for (auto &f : m.files) {
    if (report_unreadable(run, f) || !f.certs)
      continue;
    std::vector<const x509::Certificate *> chain;
    for (auto &c : **f.certs)
      chain.push_back(&c);
    judge(f.subject, file_evidence(f, "", ""), chain);
  }
  std::map<std::string, std::vector<const x509::Certificate *>> live;
  for (auto &[label, c] : live_chains(m))
    live[label].push_back(c);
  for (auto &[label, chain] : live)
    judge(label, Evidence{"", 0, "", "", "live"}, chain);
}

void key_strength(CheckRun &run) {
  const TlsModel &m = tls_model(run);
  if (!certs_applicable(run, m))
    return;
  x509::Limits lim;
  auto judge_chain = [&](const std::string &subject, const Evidence &base,
                         const std::vector<const x509::Certificate *> &chain) {
    std::vector<Evidence> bad, good;
    std::vector<std::string> msgs;
    for (auto *c : chain) {
      Evidence ev = base;
      ev.found = tls_describe_cert(*c) + ": " + c->key_type + " " + std::to_string(c->key_bits) +
                 " bits, " + c->signature_algorithm;
      ev.expected = "RSA >= 2048 or EC >= 256 bits, no SHA-1 signature";
      std::string k =
          c->index == 0 || !c->self_signed ? x509::weak_key(c->key_type, c->key_bits, lim) : "";
      std::string s = x509::weak_signature(*c);
      if (!k.empty() || !s.empty()) {
        bad.push_back(ev);
        msgs.push_back(tls_describe_cert(*c) + ": " +
                       (k.empty()   ? s
                        : s.empty() ? k
                                    : k + ", " + s));
      } else {
        good.push_back(ev);
      }
    }
    if (!bad.empty())
      run.emit(Status::fail, subject, subject + ": " + text::join(msgs, "; "), bad);
    else if (!good.empty())
      run.emit(Status::pass, subject, subject + ": keys and signatures are strong", good);
  };
  for (auto &f : m.files) {
    if (report_unreadable(run, f))
      continue;
    if (f.certs) {
      std::vector<const x509::Certificate *> chain;
      for (auto &c : **f.certs)
        chain.push_back(&c);
      judge_chain(f.subject, file_evidence(f, "", ""), chain);
    } else if (f.key) {
      const x509::PrivateKey &k = **f.key;
      Evidence ev = file_evidence(f, "", "RSA >= 2048 or EC >= 256 bits");
      if (k.encrypted) {
        ev.found = "encrypted private key (its size is judged on the certificate)";
        run.emit(Status::pass, f.subject, f.path + " is an encrypted key", {ev});
        continue;
      }
      ev.found = k.key_type + " " + std::to_string(k.key_bits) + " bits";
      std::string w = x509::weak_key(k.key_type, k.key_bits, lim);
      run.emit(w.empty() ? Status::pass : Status::fail, f.subject,
               f.path + ": private key " + (w.empty() ? ev.found : w), {ev});
    }
  }
  std::map<std::string, std::vector<const x509::Certificate *>> live;
  for (auto &[label, c] : live_chains(m))
    live[label].push_back(c);
  for (auto &[label, chain] : live)
    judge_chain(label, Evidence{"", 0, "", "", "live"}, chain);
}

// --- tls.service-certificates ---------------------------------------------

// A certificate a service other than the web server presents: where it is
// configured and the file (or inline text) it names.
struct ServiceCert {
  std::string service; // "postgresql 15/main", "openvpn /etc/openvpn/server/s.conf"
  std::string path;    // the certificate file ("" for inline)
  std::string inline_pem;
  SourceLocation setting; // the line that names it (line 0: a default or a directory)
};

struct ServiceCerts {
  std::vector<ServiceCert> certs;
  std::vector<Evidence> errors; // configurations that could not be read
};

ServiceCerts load_service_certs(const RootFs &fs) {
  ServiceCerts out;
  // PostgreSQL (Debian's layout): ssl_cert_file when ssl is on.
  if (auto confs = fs.glob("/etc/postgresql/*/*/postgresql.conf"))
    for (auto &p : *confs) {
      auto parts = text::split(p, '/');
      if (parts.size() < 5)
        continue;
      std::string data = "/var/lib/postgresql/" + parts[2] + "/" + parts[3];
      pg::Config c = pg::load_postgresql_conf(fs, p, data);
      for (auto &d : c.diagnostics)
        if (d.level == Diagnostic::Level::error)
          out.errors.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "postgresql"});
      const pg::Setting *ssl = c.get("ssl");
      if (!ssl || !pg::parse_bool(ssl->value).value_or(false))
        continue;
      const pg::Setting *cf = c.get("ssl_cert_file");
      std::string file = cf ? cf->value : "server.crt";
      out.certs.push_back({"postgresql " + parts[2] + "/" + parts[3], RootFs::join(data, file), "",
                           cf ? cf->loc : SourceLocation{p, 0}});
    }
  // Redis: tls-cert-file.
  for (const char *pattern : {"/etc/redis/redis.conf", "/etc/redis/redis-*.conf"})
    if (auto g = fs.glob(pattern))
      for (auto &p : *g) {
        redis::RedisConfig c = redis::load_redis_conf(fs, p);
        if (const redis::Directive *d = c.get("tls-cert-file"); d && !d->args.empty())
          out.certs.push_back({"redis " + p, RootFs::join("/", d->args[0]), "", d->loc});
      }
  // OpenVPN servers: cert (relative to the unit's working directory, the
  // configuration's own directory on Debian), or inline <cert>.
  for (auto &c : openvpn::load_all(fs)) {
    if (c.options.empty() && !c.diagnostics.empty()) {
      out.errors.push_back(Evidence{c.path, 0, c.diagnostics.front().message, "", "openvpn"});
      continue;
    }
    if (c.is_client())
      continue;
    const openvpn::Option *o = c.last("cert");
    if (!o)
      continue;
    std::string dir = c.path.substr(0, c.path.rfind('/'));
    if (o->is_inline)
      out.certs.push_back({"openvpn " + c.path, "", o->inline_text, o->loc});
    else if (!o->args.empty())
      out.certs.push_back({"openvpn " + c.path, RootFs::join(dir, o->args[0]), "", o->loc});
  }
  // strongSwan: the certificates swanctl and ipsec load from their folders.
  for (const char *pattern : {"/etc/swanctl/x509/*", "/etc/ipsec.d/certs/*"})
    if (auto g = fs.glob(pattern))
      for (auto &p : *g)
        out.certs.push_back({"strongswan", p, "", {p, 0}});
  // dockerd's TLS socket.
  if (auto d = docker::load_daemon_json(fs)) {
    if (auto it = d->options.find("tlscert"); it != d->options.end() && it->is_string())
      out.certs.push_back({"dockerd",
                           RootFs::join("/", it->get<std::string>()),
                           "",
                           {d->path, d->line_of("tlscert")}});
  } else if (!d.error().not_found()) {
    out.errors.push_back(
        Evidence{d.error().path, d.error().line, d.error().message, "", "dockerd"});
  }
  return out;
}

void service_certificates(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  const auto &m =
      run.ctx().model<ServiceCerts>([&] { return load_service_certs(fs); }, "service certificates");
  for (auto &e : m.errors)
    run.emit(Status::error, e.context,
             "cannot read the " + e.context + " configuration: " + e.found, {e});
  if (m.certs.empty()) {
    if (m.errors.empty())
      run.emit(Status::not_applicable, "",
               "no PostgreSQL, Redis, OpenVPN, strongSwan or dockerd certificate is configured");
    return;
  }
  x509::Limits lim;
  lim.max_age_days = static_cast<int>(run.param_int("days"));
  int64_t now = std::time(nullptr);
  for (auto &sc : m.certs) {
    Evidence setting{sc.setting.path, sc.setting.line,
                     sc.path.empty() ? "inline certificate" : sc.path, "", sc.service};
    auto certs = sc.path.empty() ? x509::parse_certificates(sc.inline_pem, sc.setting.path)
                                 : x509::read_certificates(fs, sc.path);
    if (!certs) {
      run.emit(Status::error, sc.service,
               sc.service + ": cannot read its certificate " + certs.error().to_string(),
               {setting, Evidence{certs.error().path, certs.error().line, certs.error().message,
                                  "a PEM certificate", sc.service}});
      continue;
    }
    const x509::Certificate &c = certs->front();
    Evidence ev{sc.path.empty() ? sc.setting.path : sc.path, sc.path.empty() ? sc.setting.line : 0,
                "notBefore " + x509::format_time(c.not_before) + ", notAfter " +
                    x509::format_time(c.not_after) + ", " + c.key_type + " " +
                    std::to_string(c.key_bits) + " bits, " + c.signature_algorithm,
                "valid, issued within " + std::to_string(lim.max_age_days) +
                    " days, RSA >= 2048 / EC >= 256 bits, no SHA-1",
                sc.service};
    std::vector<std::string> why;
    if (c.not_after < now)
      why.push_back("expired on " + x509::format_time(c.not_after));
    if (auto old = x509::too_old(c, now, lim); !old.empty())
      why.push_back(old);
    if (auto weak = x509::weak_key(c.key_type, c.key_bits, lim); !weak.empty())
      why.push_back(weak);
    if (auto sig = x509::weak_signature(c); !sig.empty())
      why.push_back(sig);
    if (!why.empty()) {
      run.emit(Status::fail, sc.service,
               sc.service + ": " + text::printable(c.subject, 80) + " " + text::join(why, "; "),
               {ev, setting});
      continue;
    }
    run.emit(Status::pass, sc.service,
             sc.service + ": the certificate is valid, " +
                 std::to_string((now - c.not_before) / 86400) + " days old, with a strong key",
             {ev, setting});
  }
}

constexpr CheckImpl k_tls_checks[] = {
    {"tls.min-version", min_version},
    {"tls.strong-ciphers", strong_ciphers},
    {"tls.hsts", hsts},
    {"tls.cert-rotation", cert_rotation},
    {"tls.cert-expiry", cert_expiry},
    {"tls.key-strength", key_strength},
    {"tls.service-certificates", service_certificates},
};

std::string loc_str(const SourceLocation &l) {
  return l.path + ":" + std::to_string(l.line);
}

nlohmann::ordered_json tls_setting_json(const TlsSetting &s) {
  return {{"value", s.value}, {"at", loc_str(s.loc)}, {"default", s.is_default}};
}

} // namespace

std::span<const CheckImpl> tls_checks() {
  return k_tls_checks;
}

nlohmann::ordered_json facts_tls(Context &ctx) {
  const TlsModel &m = ctx.model<TlsModel>([&] { return load_tls_model(ctx); });
  nlohmann::ordered_json out;
  out["mozilla_guideline"] = {{"version", tls::mozilla().version}, {"level", tls::mozilla().level}};
  out["nginx"] = {{"present", m.nginx.present}, {"files", m.nginx.files}};
  out["apache"] = {{"present", m.apache.present}, {"files", m.apache.files}};
  nlohmann::ordered_json diags = nlohmann::ordered_json::array();
  for (const ConfTree *t : {&m.nginx, &m.apache})
    for (auto &d : t->diagnostics)
      diags.push_back({{"at", loc_str(d.loc)}, {"message", d.message}});
  out["diagnostics"] = diags;
  nlohmann::ordered_json eps = nlohmann::ordered_json::array();
  for (auto &e : m.endpoints) {
    nlohmann::ordered_json j;
    j["subject"] = e.subject;
    j["at"] = loc_str(e.loc);
    nlohmann::ordered_json ls = nlohmann::ordered_json::array();
    for (auto &l : e.listens)
      ls.push_back(
          {{"address", l.address}, {"port", l.port}, {"ssl", l.ssl}, {"at", loc_str(l.loc)}});
    j["listen"] = ls;
    j["protocols"] = tls_setting_json(e.protocols);
    j["versions"] = e.versions;
    j["ciphers"] = tls_setting_json(e.ciphers);
    if (auto cs = tls::expand_cipher_string(e.ciphers.value); cs) {
      std::vector<std::string> names;
      for (auto &c : *cs)
        names.push_back(c.name);
      j["ciphers_expanded"] = names;
    }
    j["ciphersuites"] = tls_setting_json(e.ciphersuites);
    j["prefer_server_ciphers"] = tls_setting_json(e.prefer_server_ciphers);
    nlohmann::ordered_json certs = nlohmann::ordered_json::array();
    for (auto &c : e.certificates)
      certs.push_back(tls_setting_json(c));
    j["certificates"] = certs;
    nlohmann::ordered_json keys = nlohmann::ordered_json::array();
    for (auto &k : e.keys)
      keys.push_back(tls_setting_json(k));
    j["keys"] = keys;
    nlohmann::ordered_json hs = nlohmann::ordered_json::array();
    for (auto &s : e.header_scopes) {
      nlohmann::ordered_json sj{{"scope", s.label}, {"at", loc_str(s.loc)}};
      nlohmann::ordered_json h = nlohmann::ordered_json::array();
      for (auto &x : s.headers)
        h.push_back(
            {{"name", x.name}, {"value", x.value}, {"always", x.always}, {"at", loc_str(x.loc)}});
      sj["headers"] = h;
      if (s.dropped_hsts)
        sj["dropped_hsts_from"] = loc_str(*s.dropped_hsts);
      hs.push_back(sj);
    }
    j["headers"] = hs;
    eps.push_back(j);
  }
  out["endpoints"] = eps;
  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  for (auto &f : m.files) {
    nlohmann::ordered_json j{{"path", f.path}, {"named_at", loc_str(f.named_at)}};
    if (f.certs) {
      if (!f.certs->ok()) {
        j["error"] = f.certs->error().message;
      } else {
        nlohmann::ordered_json cs = nlohmann::ordered_json::array();
        for (auto &c : **f.certs)
          cs.push_back({{"subject", c.subject},
                        {"issuer", c.issuer},
                        {"not_before", x509::format_time(c.not_before)},
                        {"not_after", x509::format_time(c.not_after)},
                        {"key", c.key_type + " " + std::to_string(c.key_bits)},
                        {"signature", c.signature_algorithm},
                        {"sha256", c.sha256}});
        j["certificates"] = cs;
      }
    } else if (f.key) {
      if (!f.key->ok())
        j["error"] = f.key->error().message;
      else
        j["key"] = (*f.key)->encrypted
                       ? std::string("encrypted")
                       : (*f.key)->key_type + " " + std::to_string((*f.key)->key_bits);
    }
    files.push_back(j);
  }
  out["files"] = files;
  if (m.live) {
    nlohmann::ordered_json ps = nlohmann::ordered_json::array();
    for (auto &p : m.probes) {
      nlohmann::ordered_json j{{"at", live_label(p.probe)}};
      if (!p.probe.error.empty())
        j["error"] = p.probe.error;
      nlohmann::ordered_json vs;
      for (auto &[v, ok] : p.probe.versions)
        vs[v] = ok;
      j["versions"] = vs;
      j["tls12_ciphers"] = p.probe.tls12_ciphers;
      if (p.probe.hsts)
        j["hsts"] = *p.probe.hsts;
      ps.push_back(j);
    }
    out["live"] = ps;
  }
  return out;
}

} // namespace bulwark
