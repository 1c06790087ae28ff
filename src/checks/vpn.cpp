// The vpn domain: CHECKS.md "vpn", the VPN server guide 000 hardens.
// OpenVPN server configurations (src/parse/openvpn.cpp, OpenVPN 2.6
// defaults where an option is absent), WireGuard's files by mode and owner
// (through RootFs stat), strongSwan proposals (src/parse/strongswan.cpp).

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/compose_services.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/openvpn.hpp>
#include <bulwark/parse/sshd_config.hpp>
#include <bulwark/parse/strongswan.hpp>
#include <bulwark/parse/x509.hpp>

#include <nlohmann/json.hpp>

#include <ctime>

#include <algorithm>

namespace bulwark {

namespace {

struct WgFile {
  std::string path;
  Result<FileInfo> info{Error{}};
};

struct VpnModel {
  std::vector<openvpn::Config> openvpn;
  bool wireguard_present = false;
  std::vector<WgFile> wireguard;
  strongswan::Model strongswan;
};

// Files under /etc/wireguard that hold secrets: interface configurations
// (their PrivateKey) and key files; public keys are left alone.
bool wireguard_secret(const std::string &name) {
  std::string n = text::lower(name);
  if (n.find("pub") != std::string::npos)
    return false;
  auto ends = [&](std::string_view s) {
    return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".conf") || ends(".key") || ends(".psk") || n.find("priv") != std::string::npos ||
         n.find("preshared") != std::string::npos || n.find("psk") != std::string::npos;
}

VpnModel load_vpn(const RootFs &fs) {
  VpnModel m;
  m.openvpn = openvpn::load_all(fs);
  if (auto st = fs.stat("/etc/wireguard"); st && st->type == FileInfo::Type::directory) {
    m.wireguard_present = true;
    std::vector<std::string> dirs{"/etc/wireguard"};
    for (size_t i = 0; i < dirs.size() && i < 64; ++i) {
      auto names = fs.list_dir(dirs[i]);
      if (!names)
        continue;
      for (auto &n : *names) {
        std::string p = dirs[i] + "/" + n;
        auto info = fs.stat(p);
        if (info && info->type == FileInfo::Type::directory) {
          if (dirs.size() < 64)
            dirs.push_back(p);
          continue;
        }
        if (wireguard_secret(n))
          m.wireguard.push_back({p, info});
      }
    }
  }
  m.strongswan = strongswan::load(fs);
  return m;
}

const VpnModel &vpn_model(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  return run.ctx().model<VpnModel>([&] { return load_vpn(fs); });
}

std::string vpn_where(const SourceLocation &l) {
  return l.path + (l.line > 0 ? ":" + std::to_string(l.line) : "");
}

// An OpenVPN server to judge: a host configuration (subject: its path) or
// the one a compose service runs (subject "<project>/<service>").
struct Server {
  const openvpn::Config *config = nullptr;
  std::string subject;
  bool files_on_host = false; // the compose project's files are the user's own
  // The OpenVPN of an image whose version the compose file does not fix
  // (kylemanna/openvpn: FROM alpine:latest, last changed 2020-12): the
  // defaults before 2.6 are assumed, the stricter ones.
  bool version_unknown = false;
};

void emit_parse_errors(CheckRun &run, const std::string &subject, const openvpn::Config &c) {
  for (auto &d : c.diagnostics)
    run.emit(Status::error, subject, vpn_where(d.loc) + ": " + d.message,
             {{d.loc.path, d.loc.line, d.message, "", "parse"}});
}

// Emits error for what a container's configuration could not be derived
// from; true when there was any.
bool container_problems(CheckRun &run, const compose::VpnService &s) {
  if (s.problems.empty())
    return false;
  std::vector<Evidence> ev;
  for (auto &d : s.problems)
    ev.push_back({d.loc.path, d.loc.line, d.message,
                  "a configuration bulwark can derive from the compose file", "compose"});
  run.emit(Status::error, s.subject,
           "the configuration cannot be derived: " + vpn_where(s.problems.front().loc) + ": " +
               s.problems.front().message,
           std::move(ev));
  return true;
}

// The compose services of one VPN image.
std::vector<const compose::VpnService *>
containers(CheckRun &run, std::initializer_list<compose::VpnImage> kinds) {
  std::vector<const compose::VpnService *> out;
  for (auto &s : run.ctx().get<ComposeServicesModel>().vpn)
    if (std::find(kinds.begin(), kinds.end(), s.image.image) != kinds.end())
      out.push_back(&s);
  return out;
}

// A container whose configuration directory cannot be seen: said, with
// where it would be, never passed.
void not_visible(CheckRun &run, const compose::VpnService &s) {
  run.emit(Status::not_applicable, s.subject, s.subject + ": " + s.config.not_visible,
           {{s.config.loc.path, s.config.loc.line,
             s.config.host_path.empty() ? s.config.container_path : s.config.host_path,
             "the configuration, readable in the audited file system", "compose"}});
}

// The server configurations to judge, the host's and the compose
// services'; emits not_applicable when there is none, error for a
// configuration that cannot be read.
std::vector<Server> servers(CheckRun &run, const VpnModel &m) {
  std::vector<Server> out;
  bool unreadable = false;
  for (auto &c : m.openvpn) {
    emit_parse_errors(run, c.path, c);
    // A file that could not be read at all has nothing to judge: its error
    // is the verdict, never a pass on built-in defaults.
    if (c.options.empty() && !c.diagnostics.empty()) {
      unreadable = true;
      continue;
    }
    if (!c.is_client())
      out.push_back({&c, c.path, false, false});
  }
  auto ctrs = containers(run, {compose::VpnImage::kylemanna_openvpn});
  for (const compose::VpnService *s : ctrs) {
    if (container_problems(run, *s))
      continue;
    if (!s->openvpn) {
      not_visible(run, *s);
      continue;
    }
    emit_parse_errors(run, s->subject, *s->openvpn);
    if (s->openvpn->options.empty() && !s->openvpn->diagnostics.empty())
      continue;
    out.push_back({&*s->openvpn, s->subject, s->files_on_host, true});
  }
  if (out.empty() && !unreadable && ctrs.empty())
    run.emit(Status::not_applicable, "",
             m.openvpn.empty() ? "no OpenVPN configuration in /etc/openvpn/server or /etc/openvpn"
                               : "the OpenVPN configurations are client configurations");
  return out;
}

Evidence option_evidence(const openvpn::Config &c, const openvpn::Option *o,
                         const std::string &absent, const std::string &expected) {
  if (!o)
    return {c.path, 0, absent, expected, c.path};
  std::string found = o->name + (o->args.empty() ? "" : " " + text::join(o->args, " "));
  if (o->is_inline)
    found = "<" + o->name + "> inline";
  return {o->loc.path, o->loc.line, found, expected, c.path};
}

// Data-channel ciphers OpenVPN 2.6 never negotiates safely.
std::string legacy_cipher(const std::string &c0) {
  std::string c = text::lower(c0);
  if (c == "none")
    return "no encryption";
  for (const char *bad : {"bf-", "des", "rc2", "cast", "seed", "idea", "rc4"})
    if (c.find(bad) != std::string::npos)
      return "legacy cipher";
  if (c.find("-cbc") != std::string::npos || c.find("-cfb") != std::string::npos ||
      c.find("-ofb") != std::string::npos)
    return "not AEAD";
  return "";
}

void openvpn_tls(CheckRun &run) {
  const VpnModel &m = vpn_model(run);
  for (const Server &sv : servers(run, m)) {
    const openvpn::Config *c = sv.config;
    std::vector<Evidence> bad, good;
    std::vector<std::string> msgs;
    if (const openvpn::Option *secret = c->last("secret")) {
      bad.push_back(option_evidence(*c, secret, "", "TLS mode (no --secret)"));
      msgs.push_back("static-key mode (secret at " + vpn_where(secret->loc) +
                     "): no TLS, no forward secrecy");
    }
    const openvpn::Option *min = c->last("tls-version-min");
    Evidence ev = option_evidence(*c, min,
                                  "tls-version-min not set (OpenVPN 2.6 default 1.2; 2.5 and "
                                  "older default to 1.0)",
                                  "tls-version-min 1.2");
    if (min) {
      std::string v = min->args.empty() ? "" : min->args[0];
      bool ok = v == "1.2" || v == "1.3";
      (ok ? good : bad).push_back(ev);
      if (!ok)
        msgs.push_back("tls-version-min " + text::printable(v) + " (" + vpn_where(min->loc) + ")");
    } else if (sv.version_unknown) {
      ev.found = "tls-version-min not set (the image's OpenVPN version is not known: before 2.6 "
                 "the default is 1.0)";
      bad.push_back(ev);
      msgs.push_back("tls-version-min not set and the image's OpenVPN may predate 2.6, which "
                     "accepts TLS 1.0 by default");
    } else {
      good.push_back(ev);
    }
    if (const openvpn::Option *max = c->last("tls-version-max");
        max && !max->args.empty() && (max->args[0] == "1.0" || max->args[0] == "1.1")) {
      bad.push_back(option_evidence(*c, max, "", "no tls-version-max below 1.2"));
      msgs.push_back("tls-version-max " + max->args[0] + " (" + vpn_where(max->loc) + ")");
    }
    // Offered data ciphers: data-ciphers (or its old name ncp-ciphers), plus
    // `cipher` and data-ciphers-fallback, which 2.6 still accepts from peers.
    const openvpn::Option *dc = c->last("data-ciphers");
    if (!dc)
      dc = c->last("ncp-ciphers");
    std::vector<std::pair<std::string, const openvpn::Option *>> offered;
    if (dc && !dc->args.empty())
      for (auto &x : text::split(dc->args[0], ':'))
        offered.push_back({x, dc});
    else
      for (const char *x : {"AES-256-GCM", "AES-128-GCM", "CHACHA20-POLY1305"})
        offered.push_back({x, nullptr});
    // Before 2.6 `cipher` defaulted to BF-CBC, still offered to peers
    // without negotiation (2.4's NCP, 2.5's fallback).
    if (sv.version_unknown && !c->last("cipher") && !c->last("data-ciphers-fallback"))
      offered.push_back({"BF-CBC", nullptr});
    for (const char *name : {"cipher", "data-ciphers-fallback"})
      if (const openvpn::Option *o = c->last(name); o && !o->args.empty())
        offered.push_back({o->args[0], o});
    bool modern = false;
    for (auto &[name, o] : offered) {
      std::string u = text::lower(name);
      modern = modern || u == "aes-256-gcm" || u == "chacha20-poly1305";
      if (std::string why = legacy_cipher(name); !why.empty()) {
        Evidence e = option_evidence(*c, o, "", "data-ciphers AES-256-GCM:CHACHA20-POLY1305");
        e.found += " (" + name + ": " + why + ")";
        bad.push_back(e);
        msgs.push_back(name + " is offered (" + why + (o ? ", " + vpn_where(o->loc) : "") + ")");
      }
    }
    Evidence dce = option_evidence(*c, dc,
                                   "data-ciphers not set (OpenVPN 2.6 default "
                                   "AES-256-GCM:AES-128-GCM:CHACHA20-POLY1305)",
                                   "data-ciphers AES-256-GCM:CHACHA20-POLY1305");
    if (!modern) {
      bad.push_back(dce);
      msgs.push_back("neither AES-256-GCM nor CHACHA20-POLY1305 is offered");
    } else {
      good.push_back(dce);
    }
    if (!bad.empty())
      run.emit(Status::fail, sv.subject, c->path + ": " + text::join(msgs, "; "), bad);
    else
      run.emit(Status::pass, sv.subject,
               c->path + ": TLS 1.2 or newer and only AEAD data ciphers" +
                   (min ? "" : " (tls-version-min not set: OpenVPN 2.6's default 1.2 applies)"),
               good);
  }
}

void openvpn_hmac_firewall(CheckRun &run) {
  const VpnModel &m = vpn_model(run);
  for (const Server &sv : servers(run, m)) {
    const openvpn::Config *c = sv.config;
    const openvpn::Option *o = nullptr;
    for (const char *n : {"tls-crypt-v2", "tls-crypt", "tls-auth"})
      if (!o)
        o = c->last(n);
    Evidence ev = option_evidence(*c, o, "no tls-crypt, tls-crypt-v2 or tls-auth",
                                  "tls-crypt /etc/openvpn/server/ta.key");
    if (o)
      run.emit(Status::pass, sv.subject,
               c->path + ": the control channel is protected by " + o->name + " (" +
                   vpn_where(o->loc) + ")",
               {ev});
    else
      run.emit(Status::fail, sv.subject,
               c->path + " has no tls-crypt, tls-crypt-v2 or tls-auth: any client can start a "
                         "TLS handshake with the server (line 0: absent)",
               {ev});
  }
}

bool privileged(const std::string &v) {
  return v == "root" || v == "0" || v == "wheel" || v == "sudo" || v == "adm";
}

// A running OpenVPN daemon (live): the configuration file it was started
// with and the user and group it runs as now.
struct OpenVpnProcess {
  int pid = 0;
  std::string config; // absolute, as the process sees it; "" when none is named
  // The file itself, through the process's own root (/proc/PID/root): a
  // daemon in a container whose path happens to equal a host file's is not
  // that file. 0/0 when it cannot be stat'ed.
  uint64_t dev = 0;
  uint64_t ino = 0;
  long euid = -1;
  long egid = -1;
};

std::string join_dir(const std::string &dir, const std::string &p) {
  if (p.empty() || p[0] == '/')
    return RootFs::join("/", p);
  return RootFs::join(dir.empty() ? "/" : dir, p);
}

// Every process named "openvpn" in the process table: its --config (or the
// single file argument OpenVPN also accepts), taken relative to --cd when
// given and to the process's working directory otherwise, and its
// effective ids.
struct OpenVpnRunning {
  std::optional<Error> error; // the process table could not be read
  std::vector<OpenVpnProcess> procs;
};

OpenVpnRunning running_openvpn(live::Probes &probes) {
  OpenVpnRunning out;
  const auto &table = probes.processes();
  if (!table) {
    out.error = table.error();
    return out;
  }
  for (const procfs::Process &proc : table->processes) {
    if (proc.comm != "openvpn")
      continue;
    OpenVpnProcess p;
    p.pid = proc.pid;
    const std::vector<std::string> &argv = proc.argv;
    std::string dir = proc.cwd.empty() ? "/" : proc.cwd;
    std::string config;
    std::string cd;
    for (size_t i = 1; i < argv.size(); ++i) {
      if ((argv[i] == "--config" || argv[i] == "--cd") && i + 1 < argv.size()) {
        (argv[i] == "--config" ? config : cd) = argv[i + 1];
        ++i;
      } else if (argv.size() == 2 && argv[i].rfind("--", 0) != 0) {
        config = argv[i]; // `openvpn server.conf`
      }
    }
    // OpenVPN changes into --cd while reading its options, so the working
    // directory already is that directory; an absolute --cd says it even
    // after --daemon moved a daemon without --cd to "/".
    if (!cd.empty() && cd[0] == '/')
      dir = cd;
    if (!config.empty()) {
      p.config = join_dir(dir, config);
      if (auto st = probes.stat_in_process_root(p.pid, p.config)) {
        p.dev = st->dev;
        p.ino = st->ino;
      }
    }
    p.euid = proc.uid.effective;
    p.egid = proc.gid.effective;
    out.procs.push_back(p);
  }
  return out;
}

// "1000 (alice)": the id with its name in the target's passwd or group file.
std::string id_name(Context &ctx, long id, bool user) {
  if (user) {
    for (auto &e : ctx.accounts().passwd)
      if (e.uid == id)
        return std::to_string(id) + " (" + e.name + ")";
    return std::to_string(id);
  }
  const auto &db = ctx.model<ssh::UserDb>([&] { return ssh::UserDb::load(ctx.fs()); }, "userdb");
  if (auto it = db.group_names.find(static_cast<uint32_t>(id)); it != db.group_names.end())
    return std::to_string(id) + " (" + it->second + ")";
  return std::to_string(id);
}

void openvpn_privileges(CheckRun &run) {
  const VpnModel &m = vpn_model(run);
  for (const Server &sv : servers(run, m)) {
    const openvpn::Config *c = sv.config;
    std::vector<Evidence> bad, good;
    std::vector<std::string> msgs;
    bool drops = true; // the file's user and group are both unprivileged
    for (const char *name : {"user", "group"}) {
      const openvpn::Option *o = c->last(name);
      Evidence ev = option_evidence(*c, o, std::string(name) + " not set: OpenVPN keeps root",
                                    std::string(name) + " nobody / nogroup");
      std::string v = o && !o->args.empty() ? o->args[0] : "";
      if (!o || privileged(v)) {
        drops = false;
        bad.push_back(ev);
        msgs.push_back(o ? std::string(name) + " " + v + " (" + vpn_where(o->loc) + ")"
                         : std::string(name) + " not set");
      } else {
        good.push_back(ev);
      }
    }
    for (const char *name : {"persist-key", "persist-tun"}) {
      const openvpn::Option *o = c->last(name);
      Evidence ev = option_evidence(*c, o, std::string(name) + " not set", name);
      if (!o) {
        bad.push_back(ev);
        msgs.push_back(std::string(name) + " not set");
      } else {
        good.push_back(ev);
      }
    }
    // What the running daemon does: it dropped privileges at start-up only
    // if the file said so then (edited since and never restarted, it still
    // runs as root). The file's user/group verdict alone decides whether the
    // two disagree; persist-key/tun problems are reported with it.
    std::vector<Evidence> drift;
    if (run.ctx().live()) {
      Context &ctx = run.ctx();
      auto mine = ctx.fs().stat(c->path);
      const OpenVpnRunning &running = ctx.model<OpenVpnRunning>(
          [&] { return running_openvpn(ctx.probes()); }, "openvpn processes");
      if (running.error) {
        run.emit(Status::error, sv.subject,
                 "the running processes cannot be read: " + running.error->to_string(),
                 {Evidence{running.error->path, 0, running.error->message, "", "live"}});
        continue;
      }
      for (auto &p : running.procs) {
        if (!mine || p.ino == 0 || p.dev != mine->dev || p.ino != mine->ino)
          continue;
        Evidence e{"", 0,
                   "openvpn pid " + std::to_string(p.pid) + " runs as uid " +
                       id_name(ctx, p.euid, true) + ", gid " + id_name(ctx, p.egid, false),
                   "an unprivileged user and group", "live process"};
        if (p.euid != 0 && p.egid != 0)
          good.push_back(e);
        else if (drops)
          drift.push_back(e);
        else
          bad.push_back(e);
      }
    }
    if (!drift.empty()) {
      std::vector<Evidence> ev = drift;
      ev.insert(ev.end(), bad.begin(), bad.end());
      ev.insert(ev.end(), good.begin(), good.end());
      run.emit(Status::fail, sv.subject,
               "the running server disagrees with its configuration: " + c->path +
                   " drops to an unprivileged user and group, but " + drift.front().found +
                   " (restart it: OpenVPN drops privileges only at start-up)" +
                   (msgs.empty() ? "" : "; also " + text::join(msgs, "; ")),
               ev);
      continue;
    }
    if (!bad.empty())
      run.emit(Status::fail, sv.subject, c->path + ": " + text::join(msgs, "; "), bad);
    else
      run.emit(Status::pass, sv.subject,
               c->path + " drops to an unprivileged user and group and keeps key and tun", good);
  }
}

// A key file of a container: others never read it; its group only when
// that is root's or the container user's own (linuxserver's PGID; wg-easy
// writes wg0.json 0660 as root:root); its owner is root or the container
// user (linuxserver's PUID: the image chowns /config to it).
std::vector<std::string> container_file_problems(const compose::VpnService &s, const FileInfo &i) {
  std::vector<std::string> why;
  if (i.mode & 007)
    why.push_back("mode " + text::octal_mode(i.mode) + " lets others read it");
  if ((i.mode & 070) && i.gid != 0 && static_cast<long>(i.gid) != s.owner_gid)
    why.push_back("mode " + text::octal_mode(i.mode) + " lets group " + std::to_string(i.gid) +
                  " read it");
  if (i.uid != 0 && static_cast<long>(i.uid) != s.owner_uid)
    why.push_back("owned by uid " + std::to_string(i.uid) + ", not root" +
                  (s.owner_uid ? " or the container's PUID " + std::to_string(s.owner_uid) : ""));
  return why;
}

std::string ui_address(const compose::Reach &r, size_t k) {
  const compose::Port &pt = r.published[k];
  return (pt.host_ip.empty() ? std::string("0.0.0.0") : pt.host_ip) + ":" +
         (pt.published.empty() ? "(ephemeral)" : pt.published);
}

// A WireGuard container: its key files as the host holds them and, for
// wg-easy, the web UI that hands every client's private key to whoever
// logs in.
void wireguard_container(CheckRun &run, const compose::VpnService &s) {
  if (container_problems(run, s))
    return;
  std::vector<Evidence> bad, good;
  std::vector<std::string> why;
  bool warn = false;
  for (auto &f : s.wireguard) {
    if (!f.info) {
      run.emit(Status::error, s.subject, "cannot stat " + f.path + ": " + f.info.error().message,
               {{f.path, 0, f.info.error().message, "", s.subject}});
      return;
    }
    Evidence ev{f.path, 0,
                "mode " + text::octal_mode(f.info->mode) + ", owner uid " +
                    std::to_string(f.info->uid) + ", gid " + std::to_string(f.info->gid),
                "not readable by others; owner root or the container's user", s.subject};
    auto w = container_file_problems(s, *f.info);
    if (w.empty()) {
      good.push_back(ev);
    } else {
      bad.push_back(ev);
      why.push_back(f.path + ": " + text::join(w, "; "));
    }
  }
  if (s.image.image == compose::VpnImage::wg_easy) {
    const compose::Reach &r = s.ui;
    auto pub = compose::public_ports(r);
    std::vector<Evidence> at;
    at.reserve(pub.size() + 1);
    for (size_t k : pub)
      at.push_back({r.published_at[k].path, r.published_at[k].line,
                    "web UI published on " + ui_address(r, k) + " -> " + std::to_string(r.port),
                    "127.0.0.1:" + std::to_string(r.port) + " behind a TLS reverse proxy",
                    "compose ports"});
    if (r.host_network)
      at.push_back(
          {r.network_mode.path, r.network_mode.line,
           "network_mode: host (the UI listens on the host's port " + std::to_string(r.port) + ")",
           "a bridge network, the UI published on 127.0.0.1", "compose"});
    std::string ui = r.host_network ? "the host's port " + std::to_string(r.port)
                     : pub.empty()  ? ""
                                    : ui_address(r, pub.front());
    if (at.empty()) {
      good.push_back({s.image_loc.path, s.image_loc.line,
                      "web UI not published on a public address",
                      "the UI on loopback or a private address", "compose ports"});
    } else if (!s.ui_password_var.empty()) {
      if (s.ui_password) {
        good.push_back({s.ui_password->path, s.ui_password->line, s.ui_password_var + " is set",
                        "a password on the web UI", "compose environment"});
      } else {
        bad.insert(bad.end(), at.begin(), at.end());
        why.push_back("the wg-easy web UI (" + ui + ") has no " + s.ui_password_var +
                      ": anyone who reaches it downloads every client's configuration with its "
                      "private key");
      }
    } else if (s.ui_insecure) {
      bad.push_back({s.ui_insecure->path, s.ui_insecure->line, "INSECURE=true",
                     "INSECURE unset (the UI requires HTTPS)", "compose environment"});
      bad.insert(bad.end(), at.begin(), at.end());
      why.push_back("the wg-easy web UI (" + ui +
                    ") is served over plain HTTP (INSECURE=true) on a public address: the admin "
                    "password and every client's private key cross the network in clear");
    } else {
      warn = true;
      bad.insert(bad.end(), at.begin(), at.end());
      why.push_back("the wg-easy web UI (" + ui +
                    ") is public; from wg-easy 15 its login is an account in wg-easy.db that the "
                    "setup wizard creates for whoever reaches it first, which cannot be checked "
                    "offline: publish it on 127.0.0.1 behind a TLS reverse proxy");
    }
  }
  if (!s.config.visible)
    why.push_back(s.config.not_visible);
  else if (s.wireguard.empty())
    why.push_back(s.config.host_path + " holds no key or configuration file yet");
  bool files_bad = std::any_of(bad.begin(), bad.end(),
                               [&](const Evidence &e) { return e.context == s.subject; });
  if (!bad.empty() && (!warn || files_bad)) {
    bad.insert(bad.end(), good.begin(), good.end());
    run.emit(Status::fail, s.subject, s.subject + ": " + text::join(why, "; "), bad);
  } else if (warn) {
    bad.insert(bad.end(), good.begin(), good.end());
    run.emit(Status::warn, s.subject, s.subject + ": " + text::join(why, "; "), bad);
  } else if (!s.config.visible) {
    good.push_back({s.config.loc.path, s.config.loc.line,
                    s.config.host_path.empty() ? s.config.container_path : s.config.host_path,
                    "the configuration, readable in the audited file system", "compose"});
    run.emit(Status::not_applicable, s.subject, s.subject + ": " + text::join(why, "; "), good);
  } else {
    run.emit(Status::pass, s.subject,
             s.subject + ": the key files under " + s.config.host_path +
                 " are readable by root and the container's user only" +
                 (why.empty() ? "" : " (" + text::join(why, "; ") + ")"),
             good);
  }
}

void wireguard_key_permissions(CheckRun &run) {
  const VpnModel &m = vpn_model(run);
  auto ctrs =
      containers(run, {compose::VpnImage::linuxserver_wireguard, compose::VpnImage::wg_easy});
  if (!m.wireguard_present) {
    if (ctrs.empty())
      run.emit(Status::not_applicable, "",
               "/etc/wireguard does not exist: WireGuard is not set up");
  } else if (m.wireguard.empty()) {
    run.emit(Status::not_applicable, "/etc/wireguard",
             "/etc/wireguard holds no configuration or key file");
  }
  for (auto &f : m.wireguard) {
    if (!f.info) {
      run.emit(Status::error, f.path, "cannot stat " + f.path + ": " + f.info.error().message,
               {{f.path, 0, f.info.error().message, "", ""}});
      continue;
    }
    const FileInfo &i = *f.info;
    Evidence ev{f.path, 0,
                "mode " + text::octal_mode(i.mode) + ", owner uid " + std::to_string(i.uid),
                "mode 0600 (or stricter), owner root", "wireguard"};
    std::vector<std::string> why;
    if (i.mode & 077)
      why.push_back("mode " + text::octal_mode(i.mode) + " lets group or others read it");
    if (i.uid != 0)
      why.push_back("owned by uid " + std::to_string(i.uid) + ", not root");
    if (why.empty())
      run.emit(Status::pass, f.path,
               f.path + " is mode " + text::octal_mode(i.mode) + ", owned by root", {ev});
    else
      run.emit(Status::fail, f.path, f.path + ": " + text::join(why, "; "), {ev});
  }
  for (const compose::VpnService *s : ctrs)
    wireguard_container(run, *s);
}

// hwdsl2/ipsec-vpn-server: the proposals its run.sh writes into
// /etc/ipsec.conf, one finding for the service.
void ipsec_container(CheckRun &run, const compose::VpnService &s) {
  if (container_problems(run, s))
    return;
  if (s.ipsec_ikev2_only) {
    run.emit(Status::not_applicable, s.subject,
             s.subject +
                 ": IKEv2 only (VPN_IKEV2_ONLY or both IPsec/L2TP and XAuth disabled): the IKEv2 "
                 "connection is written into /etc/ipsec.d/ikev2.conf at first start and is not "
                 "judged offline",
             {{s.image_loc.path, s.image_loc.line, "IKEv2 only", "", "compose"}});
    return;
  }
  std::vector<Evidence> ev;
  std::vector<std::string> weak_all;
  for (auto &p : s.ipsec) {
    auto weak = strongswan::weak_algorithms(p.value);
    ev.push_back({p.loc.path, p.loc.line,
                  p.kind == "ike" ? "ike=" + p.value : "phase2alg=" + p.value,
                  "ike=aes256-sha2;modp2048 only (no SHA-1, MD5, 3DES, MODP-1024)", p.context});
    for (auto &w : weak)
      if (std::find(weak_all.begin(), weak_all.end(), w) == weak_all.end())
        weak_all.push_back(w);
  }
  if (weak_all.empty())
    run.emit(Status::pass, s.subject,
             s.subject + ": the proposals run.sh writes hold no weak algorithm", ev);
  else
    run.emit(Status::fail, s.subject,
             s.subject + ": the ipsec.conf that hwdsl2/ipsec-vpn-server's run.sh writes offers " +
                 text::join(weak_all, ", ") +
                 " (IPsec/L2TP and XAuth; set VPN_IKEV2_ONLY=yes to drop them)",
             ev);
}

void vpn_ipsec_proposals(CheckRun &run) {
  const VpnModel &m = vpn_model(run);
  const strongswan::Model &s = m.strongswan;
  auto ctrs = containers(run, {compose::VpnImage::hwdsl2_ipsec});
  for (const compose::VpnService *c : ctrs)
    ipsec_container(run, *c);
  if (!s.swanctl_present && !s.ipsec_present) {
    if (ctrs.empty())
      run.emit(Status::not_applicable, "",
               "strongSwan is not configured (no /etc/swanctl/swanctl.conf, no /etc/ipsec.conf)");
    return;
  }
  for (auto &d : s.diagnostics)
    run.emit(Status::error, d.loc.path, vpn_where(d.loc) + ": " + d.message,
             {{d.loc.path, d.loc.line, d.message, "", "parse"}});
  if (s.proposals.empty()) {
    run.emit(Status::not_applicable, "", "no strongSwan connection is defined");
    return;
  }
  for (auto &p : s.proposals) {
    std::string key =
        p.source == "swanctl" ? (p.kind == "ike" ? "proposals" : p.kind + "_proposals") : p.kind;
    Evidence ev{p.loc.path, p.loc.line,
                p.loc.line == 0 ? key + " not set (strongSwan 5.9 default proposals)"
                                : key + " = " + p.value,
                key + " = aes256gcm16-prfsha384-ecp384 (no 3DES, MD5, SHA-1, MODP-1024)",
                p.context};
    auto weak = strongswan::weak_algorithms(p.value);
    if (weak.empty())
      run.emit(Status::pass, p.context,
               p.context + ": " + (p.loc.line == 0 ? "strongSwan's default proposals" : p.value),
               {ev});
    else
      run.emit(Status::fail, p.context,
               p.context + " offers " + text::join(weak, ", ") + " (" + vpn_where(p.loc) + ")",
               {ev});
  }
}

// --- vpn.openvpn-revocation -----------------------------------------------

void openvpn_revocation(CheckRun &run) {
  const RootFs &root_fs = run.ctx().fs();
  // A --compose project outside the root mounts the user's own files.
  const RootFs host_fs("/");
  bool c2c_allowed = text::lower(run.param_str("allow-client-to-client")) == "yes";
  int64_t now = std::time(nullptr);
  for (const Server &sv : servers(run, vpn_model(run))) {
    const openvpn::Config *c = sv.config;
    const RootFs &fs = sv.files_on_host ? host_fs : root_fs;
    std::vector<Evidence> bad, good;
    std::vector<std::string> why;
    const openvpn::Option *crl = c->last("crl-verify");
    if (!crl || crl->args.empty()) {
      bad.push_back(
          option_evidence(*c, crl, "no crl-verify", "crl-verify /etc/openvpn/server/crl.pem"));
      why.push_back("no crl-verify: a revoked client certificate still connects");
    } else if (crl->args.size() > 1 && crl->args[1] == "dir") {
      // A directory of revoked serials: nothing expires.
      good.push_back(option_evidence(*c, crl, "", "a CRL that is current"));
    } else {
      std::string dir = c->path.substr(0, c->path.rfind('/'));
      std::string path = RootFs::join(dir, crl->args[0]);
      Evidence oe = option_evidence(*c, crl, "", "a CRL that is current");
      auto r = x509::read_crl(fs, path);
      if (!r) {
        // OpenVPN refuses every client when it cannot load the CRL.
        run.emit(Status::error, sv.subject,
                 "cannot read the CRL " + path + ": " + r.error().message,
                 {oe, Evidence{path, 0, r.error().message, "a PEM or DER CRL", c->path}});
        continue;
      }
      Evidence ce{path, 0,
                  "CRL of " + text::printable(r->issuer, 80) + ", " + std::to_string(r->revoked) +
                      " revoked, nextUpdate " +
                      (r->next_update ? x509::format_time(r->next_update) : std::string("none")),
                  "nextUpdate in the future", c->path};
      if (r->next_update && r->next_update < now) {
        bad.push_back(oe);
        bad.push_back(ce);
        why.push_back("the CRL expired on " + x509::format_time(r->next_update) +
                      " (OpenVPN then refuses every client; regenerate it with easyrsa gen-crl)");
      } else {
        good.push_back(oe);
        good.push_back(ce);
      }
    }
    if (const openvpn::Option *d = c->last("duplicate-cn")) {
      bad.push_back(option_evidence(*c, d, "", "no duplicate-cn"));
      why.push_back("duplicate-cn lets one certificate connect many times at once");
    }
    if (const openvpn::Option *d = c->last("client-to-client")) {
      Evidence e = option_evidence(*c, d, "", "no client-to-client");
      if (c2c_allowed) {
        e.context += " (allowed by the profile)";
        good.push_back(e);
      } else {
        bad.push_back(e);
        why.push_back("client-to-client routes clients to each other inside OpenVPN, past the "
                      "host firewall");
      }
    }
    if (!bad.empty()) {
      bad.insert(bad.end(), good.begin(), good.end());
      run.emit(Status::fail, sv.subject, text::join(why, "; "), bad);
      continue;
    }
    run.emit(Status::pass, sv.subject,
             "revoked certificates are refused (crl-verify current); no duplicate-cn or "
             "client-to-client",
             good);
  }
}

constexpr CheckImpl k_vpn_checks[] = {
    {"vpn.openvpn-tls", openvpn_tls},
    {"vpn.openvpn-hmac-firewall", openvpn_hmac_firewall},
    {"vpn.openvpn-privileges", openvpn_privileges},
    {"vpn.wireguard-key-permissions", wireguard_key_permissions},
    {"vpn.ipsec-proposals", vpn_ipsec_proposals},
    {"vpn.openvpn-revocation", openvpn_revocation},
};

std::string vpn_json_at(const SourceLocation &l) {
  return l.path + ":" + std::to_string(l.line);
}

} // namespace

std::span<const CheckImpl> vpn_checks() {
  return k_vpn_checks;
}

nlohmann::ordered_json facts_vpn(Context &ctx) {
  const RootFs &fs = ctx.fs();
  const VpnModel &m = ctx.model<VpnModel>([&] { return load_vpn(fs); });
  nlohmann::ordered_json out;
  nlohmann::ordered_json ovpn = nlohmann::ordered_json::array();
  for (auto &c : m.openvpn) {
    nlohmann::ordered_json j{{"path", c.path},
                             {"role", c.is_server()   ? "server"
                                      : c.is_client() ? "client"
                                                      : "unknown"}};
    nlohmann::ordered_json opts = nlohmann::ordered_json::array();
    for (auto &o : c.options) {
      // Inline blocks hold keys: their presence is a fact, their text is not.
      nlohmann::ordered_json oj{{"name", o.name}, {"at", vpn_json_at(o.loc)}};
      if (o.is_inline)
        oj["inline"] = true;
      else
        oj["args"] = o.args;
      opts.push_back(oj);
    }
    j["options"] = opts;
    nlohmann::ordered_json d = nlohmann::ordered_json::array();
    for (auto &x : c.diagnostics)
      d.push_back({{"at", vpn_json_at(x.loc)}, {"message", x.message}});
    j["diagnostics"] = d;
    ovpn.push_back(j);
  }
  out["openvpn"] = ovpn;
  nlohmann::ordered_json wg = nlohmann::ordered_json::array();
  for (auto &f : m.wireguard) {
    nlohmann::ordered_json j{{"path", f.path}};
    if (f.info)
      j.update(
          {{"mode", text::octal_mode(f.info->mode)}, {"uid", f.info->uid}, {"gid", f.info->gid}});
    else
      j["error"] = f.info.error().message;
    wg.push_back(j);
  }
  out["wireguard"] = {{"present", m.wireguard_present}, {"files", wg}};
  nlohmann::ordered_json props = nlohmann::ordered_json::array();
  for (auto &p : m.strongswan.proposals)
    props.push_back({{"source", p.source},
                     {"context", p.context},
                     {"kind", p.kind},
                     {"value", p.value},
                     {"at", vpn_json_at(p.loc)}});
  out["strongswan"] = {{"files", m.strongswan.files}, {"proposals", props}};
  return out;
}

} // namespace bulwark
