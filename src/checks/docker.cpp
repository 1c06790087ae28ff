// docker.daemon-tls, docker.socket-permissions, docker.daemon-options,
// docker.image-age, container.runtime-drift and
// accounts.root-equivalent-groups (issue 15): dockerd as it is configured
// (daemon.json, its systemd units, the socket and key files) and as it runs
// (the Engine API through DockerEngineModel, dockerd's command line in the
// process table), and who may talk to it.
//
// Subjects: "dockerd" for the daemon, "container NAME" for running
// containers, the path for files, "group NAME" for groups.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/docker_engine.hpp>
#include <bulwark/checks/firewall_model.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>
#include <bulwark/parse/docker_daemon.hpp>

#include <algorithm>
#include <ctime>
#include <set>

namespace bulwark {

using namespace bulwark::text;
using nlohmann::json;

namespace {

// ---- the host side of dockerd: a model private to this file -----------------

struct GroupEntry {
  std::string name;
  long long gid = -1;
  std::vector<std::string> members;
  SourceLocation loc;
};

struct FileFact {
  std::string path;
  std::string what; // "the Docker socket", "daemon.json", ...
  Result<FileInfo> info = Error{"not read"};
};

// One `-H`/`--host` (or daemon.json "hosts") value and where it was said.
struct HostSetting {
  std::string value;
  SourceLocation loc;
};

struct DockerHost {
  bool installed = false; // dockerd's binary, unit or configuration exists
  std::optional<Result<docker::DaemonConfig>> daemon_json; // nullopt: absent
  std::string unit_path;                                   // docker.service's fragment
  std::vector<std::string> exec_start;                     // its effective ExecStart, split
  SourceLocation exec_loc;
  std::vector<HostSetting> hosts; // every -H of the unit, the daemon.json and the live argv
  bool tlsverify = false;         // --tlsverify / "tlsverify": true anywhere
  SourceLocation tlsverify_loc;
  bool live_argv = false; // a running dockerd's argv was read
  std::vector<GroupEntry> groups;
  std::optional<Error> group_error;
  std::vector<FileFact> files;
};

std::vector<std::string> split_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  bool have = false;
  for (char c : s) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      have = true;
      continue;
    }
    if (c == ' ' || c == '\t') {
      if (have || !cur.empty())
        out.push_back(cur);
      cur.clear();
      have = false;
      continue;
    }
    cur += c;
  }
  if (have || !cur.empty())
    out.push_back(cur);
  return out;
}

// dockerd's -H/--host values and --tlsverify in an argv.
void scan_argv(const std::vector<std::string> &argv, const SourceLocation &loc, DockerHost &h) {
  for (size_t i = 0; i < argv.size(); ++i) {
    const std::string &a = argv[i];
    if ((a == "-H" || a == "--host") && i + 1 < argv.size())
      h.hosts.push_back({argv[++i], loc});
    else if (starts_with(a, "-H=") || starts_with(a, "--host="))
      h.hosts.push_back({a.substr(a.find('=') + 1), loc});
    else if (starts_with(a, "-H") && a.size() > 2 && a[2] != '-')
      h.hosts.push_back({a.substr(2), loc});
    else if (a == "--tlsverify" || a == "--tlsverify=true") {
      h.tlsverify = true;
      h.tlsverify_loc = loc;
    }
  }
}

// The ExecStart of a unit file text (the last one after an empty reset,
// as systemd reads a service's ExecStart list: a drop-in's `ExecStart=`
// clears it).
void scan_unit(std::string_view text, const std::string &path, std::vector<std::string> &exec,
               SourceLocation &loc) {
  int line = 0;
  bool in_service = false;
  size_t pos = 0;
  std::string pending;
  int pending_line = 0;
  while (pos <= text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l =
        text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
    ++line;
    std::string_view t = trim(l);
    if (!pending.empty() || (!t.empty() && t.back() == '\\')) {
      if (pending.empty())
        pending_line = line;
      pending += std::string(t.substr(0, t.size() - (t.ends_with("\\") ? 1 : 0))) + " ";
      if (t.ends_with("\\"))
        continue;
      t = pending;
    } else
      pending_line = line;
    std::string joined(t);
    pending.clear();
    if (joined.empty() || joined[0] == '#' || joined[0] == ';')
      continue;
    if (joined[0] == '[') {
      in_service = joined == "[Service]";
      continue;
    }
    if (!in_service || !starts_with(joined, "ExecStart="))
      continue;
    std::string v(trim(std::string_view(joined).substr(10)));
    if (v.empty()) {
      exec.clear();
      continue;
    }
    while (!v.empty() && (v[0] == '-' || v[0] == '@' || v[0] == ':' || v[0] == '+' || v[0] == '!'))
      v.erase(0, 1);
    exec = split_words(v);
    loc = SourceLocation{path, pending_line};
  }
}

std::vector<GroupEntry> parse_groups(std::string_view text, const std::string &path) {
  std::vector<GroupEntry> out;
  int line = 0;
  size_t pos = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view l =
        text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line;
    auto f = split(l, ':', true);
    if (f.size() != 4 || f[0].empty() || f[0][0] == '+' || f[0][0] == '-')
      continue;
    GroupEntry g;
    g.name = f[0];
    try {
      g.gid = std::stoll(f[2]);
    } catch (...) {
      continue;
    }
    for (auto &m : split(f[3], ','))
      if (!m.empty())
        g.members.push_back(m);
    g.loc = SourceLocation{path, line};
    out.push_back(std::move(g));
  }
  return out;
}

DockerHost load_docker_host(Context &ctx) {
  DockerHost h;
  const RootFs &fs = ctx.fs();
  auto dj = docker::load_daemon_json(fs);
  if (dj || !dj.error().not_found())
    h.daemon_json = std::move(dj);
  const auto &units = ctx.get<SystemdModel>();
  const auto &svc = units.state("docker.service");
  h.unit_path = svc.fragment;
  if (!svc.fragment.empty()) {
    std::vector<std::string> paths{svc.fragment};
    for (const char *dir :
         {"/lib/systemd/system/docker.service.d", "/usr/lib/systemd/system/docker.service.d",
          "/etc/systemd/system/docker.service.d", "/run/systemd/system/docker.service.d"})
      if (auto ls = fs.list_dir(dir)) {
        std::vector<std::string> names = ls.value();
        std::sort(names.begin(), names.end());
        for (auto &n : names)
          if (n.ends_with(".conf"))
            paths.push_back(std::string(dir) + "/" + n);
      }
    for (auto &p : paths)
      if (auto t = fs.read_file(p, 1024 * 1024))
        scan_unit(t.value(), p, h.exec_start, h.exec_loc);
    scan_argv(h.exec_start, h.exec_loc, h);
  }
  if (h.daemon_json && *h.daemon_json) {
    const auto &cfg = h.daemon_json->value();
    if (auto it = cfg.options.find("hosts"); it != cfg.options.end() && it->is_array())
      for (auto &v : *it)
        if (v.is_string())
          h.hosts.push_back({v.get<std::string>(), {cfg.path, cfg.line_of("hosts")}});
    if (auto it = cfg.options.find("tlsverify");
        it != cfg.options.end() && it->is_boolean() && it->get<bool>()) {
      h.tlsverify = true;
      h.tlsverify_loc = {cfg.path, cfg.line_of("tlsverify")};
    }
  }
  if (ctx.live()) {
    const auto &procs = ctx.probes().processes();
    if (procs)
      for (auto &p : procs.value().processes)
        if (p.comm == "dockerd" && !p.argv.empty()) {
          h.live_argv = true;
          scan_argv(p.argv, {p.dir + "/cmdline", 0}, h);
        }
  }
  h.installed = h.daemon_json.has_value() || !svc.fragment.empty() ||
                fs.exists("/usr/bin/dockerd") || fs.exists("/usr/sbin/dockerd") ||
                fs.exists("/etc/docker") || h.live_argv;
  auto gt = fs.read_file("/etc/group", 16 * 1024 * 1024);
  if (gt)
    h.groups = parse_groups(gt.value(), "/etc/group");
  else if (!gt.error().not_found())
    h.group_error = gt.error();
  auto add = [&](std::string path, std::string what) {
    FileFact f;
    f.path = std::move(path);
    f.what = std::move(what);
    f.info = fs.stat(f.path);
    h.files.push_back(std::move(f));
  };
  add("/etc/docker", "dockerd's configuration directory");
  add(docker::k_daemon_json, "daemon.json");
  if (!svc.fragment.empty())
    add(svc.fragment, "docker.service");
  if (const auto &sock = units.state("docker.socket"); !sock.fragment.empty())
    add(sock.fragment, "docker.socket");
  add("/run/docker.sock", "the Docker socket");
  if (h.daemon_json && *h.daemon_json) {
    const auto &o = h.daemon_json->value().options;
    for (const char *k : {"tlscacert", "tlscert", "tlskey"})
      if (auto it = o.find(k); it != o.end() && it->is_string())
        add(it->get<std::string>(), std::string("TLS file (") + k + ")");
  }
  return h;
}

std::string str_of_json(const json &j, const char *key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_string())
    return {};
  return j[key].get<std::string>();
}

const DockerHost &docker_host(CheckRun &run) {
  return run.ctx().model<DockerHost>([&] { return load_docker_host(run.ctx()); }, "docker host");
}

const DockerEngineModel &engine(CheckRun &run) {
  return run.ctx().get<DockerEngineModel>();
}

// Fail closed on the engine: true when it was read (or not asked for).
bool engine_judged(CheckRun &run, const DockerEngineModel &e) {
  if (e.state != DockerEngineModel::State::error)
    return true;
  run.emit(Status::error, "docker engine",
           "the Docker engine could not be read: " + (e.error ? e.error->message : std::string()),
           {Evidence{e.socket, 0, e.error ? e.error->message : "unreadable",
                     "an Engine API that answers", "docker engine"}});
  return false;
}

// ---- docker.daemon-tls --------------------------------------------------------

// dockerd's ParseDaemonHost (opts/hosts.go): tcp://, or a bare host:port
// (":2375", "0.0.0.0:2375"), is TCP; unix://, fd:// and a path are not.
bool is_tcp_host(const std::string &v) {
  std::string l = lower(v);
  if (starts_with(l, "tcp://"))
    return true;
  if (l.find("://") != std::string::npos || starts_with(l, "/"))
    return false;
  return l.find(':') != std::string::npos;
}

void daemon_tls(CheckRun &run) {
  const DockerHost &h = docker_host(run);
  if (h.daemon_json && !*h.daemon_json) {
    const Error &e = h.daemon_json->error();
    run.emit(Status::error, "dockerd", "daemon.json cannot be read: " + e.to_string(),
             {Evidence{e.path.empty() ? docker::k_daemon_json : e.path, e.line, e.message,
                       "a JSON object", "dockerd"}});
    return;
  }
  if (!h.installed) {
    run.emit(Status::not_applicable, "dockerd", "dockerd is not installed");
    return;
  }
  std::vector<Evidence> tcp;
  for (auto &hs : h.hosts)
    if (is_tcp_host(hs.value))
      tcp.push_back(Evidence{hs.loc.path, hs.loc.line, "-H " + hs.value,
                             "unix socket only, or --tlsverify with certificates", "dockerd"});
  if (tcp.empty()) {
    std::vector<Evidence> ev;
    if (!h.unit_path.empty())
      ev.push_back(Evidence{h.exec_loc.path.empty() ? h.unit_path : h.exec_loc.path,
                            h.exec_loc.line, join(h.exec_start, " "), "no tcp:// host", "dockerd"});
    run.emit(Status::pass, "dockerd",
             std::string("dockerd listens on no TCP socket") +
                 (h.live_argv ? " (its unit, daemon.json and the running daemon's arguments)"
                              : " (its unit and daemon.json)"),
             ev);
    return;
  }
  if (h.tlsverify) {
    tcp.push_back(
        Evidence{h.tlsverify_loc.path, h.tlsverify_loc.line, "tlsverify", "tlsverify", "dockerd"});
    run.emit(Status::pass, "dockerd",
             "dockerd listens on TCP with --tlsverify (clients must present a certificate)", tcp);
    return;
  }
  run.emit(Status::fail, "dockerd",
           "dockerd listens on TCP without --tlsverify: anyone who reaches the port is root on "
           "this host",
           tcp);
}

// ---- docker.socket-permissions ---------------------------------------------------

void socket_permissions(CheckRun &run) {
  const DockerHost &h = docker_host(run);
  if (!h.installed) {
    run.emit(Status::not_applicable, "dockerd", "dockerd is not installed");
    return;
  }
  long long docker_gid = -1;
  for (auto &g : h.groups)
    if (g.name == "docker")
      docker_gid = g.gid;
  for (auto &f : h.files) {
    if (!f.info) {
      if (f.info.error().not_found())
        continue; // absent: nothing to protect (the socket exists only while dockerd runs)
      run.emit(Status::error, f.path, f.what + " cannot be examined: " + f.info.error().to_string(),
               {Evidence{f.path, 0, f.info.error().message, "readable metadata", f.what}});
      continue;
    }
    const FileInfo &st = f.info.value();
    bool sock = f.what == "the Docker socket";
    bool key = f.what.find("tlskey") != std::string::npos;
    std::vector<std::string> why;
    if (st.uid != 0)
      why.push_back("owner uid " + std::to_string(st.uid) + " is not root");
    if (sock) {
      // containerd and dockerd's own default: root:docker 0660 (CIS 3.15, 3.16).
      if (st.gid != 0 && static_cast<long long>(st.gid) != docker_gid)
        why.push_back("group gid " + std::to_string(st.gid) + " is neither root nor docker");
      if (st.mode & 0117)
        why.push_back("mode " + text::octal_mode(st.mode) + " is wider than 0660");
    } else if (key) {
      if (st.mode & 0077)
        why.push_back("mode " + text::octal_mode(st.mode) +
                      " lets others read the private key (0400)");
    } else if (st.mode & 0022)
      why.push_back("mode " + text::octal_mode(st.mode) + " is group- or world-writable");
    std::string expected = sock ? "root:docker 0660" : key ? "root 0400" : "root-owned, 0644/0755";
    Evidence e{f.path, 0,
               "uid " + std::to_string(st.uid) + " gid " + std::to_string(st.gid) + " " +
                   text::octal_mode(st.mode),
               expected, f.what};
    if (why.empty())
      run.emit(Status::pass, f.path, f.what + " is " + e.found, {e});
    else
      run.emit(Status::fail, f.path, f.what + ": " + join(why, "; "), {e});
  }
  if (run.findings().empty())
    run.emit(Status::not_applicable, "dockerd", "no Docker file found to examine");
}

// ---- docker.daemon-options -----------------------------------------------------

void daemon_options(CheckRun &run) {
  const DockerHost &h = docker_host(run);
  const DockerEngineModel &e = engine(run);
  if (h.daemon_json && !*h.daemon_json) {
    const Error &er = h.daemon_json->error();
    run.emit(Status::error, "dockerd", "daemon.json cannot be read: " + er.to_string(),
             {Evidence{er.path.empty() ? docker::k_daemon_json : er.path, er.line, er.message,
                       "a JSON object", "dockerd"}});
    return;
  }
  if (!engine_judged(run, e))
    return;
  if (!h.installed && e.state != DockerEngineModel::State::ok) {
    run.emit(Status::not_applicable, "dockerd", "dockerd is not installed");
    return;
  }
  static const json k_empty = json::object();
  const json &o = h.daemon_json ? h.daemon_json->value().options : k_empty;
  std::string path = docker::k_daemon_json;
  auto line = [&](const char *k) { return h.daemon_json ? h.daemon_json->value().line_of(k) : 0; };
  std::vector<Evidence> bad, good;
  auto judge = [&](bool ok, const char *key, std::string found, std::string expected) {
    (ok ? good : bad)
        .push_back(Evidence{path, line(key), std::move(found), std::move(expected), key});
  };
  // insecure-registries: dockerd always trusts 127.0.0.0/8 itself; only
  // what the configuration adds is a finding.
  std::vector<std::string> insecure;
  if (auto it = o.find("insecure-registries"); it != o.end() && it->is_array())
    for (auto &v : *it)
      if (v.is_string())
        insecure.push_back(v.get<std::string>());
  judge(insecure.empty(), "insecure-registries", insecure.empty() ? "none" : join(insecure, ", "),
        "none");
  auto boolean = [&](const char *k) -> std::optional<bool> {
    auto it = o.find(k);
    if (it == o.end() || !it->is_boolean())
      return std::nullopt;
    return it->get<bool>();
  };
  auto up = boolean("userland-proxy");
  judge(up && !*up, "userland-proxy", up ? (*up ? "true" : "false") : "not set (default true)",
        "false");
  auto ex = boolean("experimental");
  judge(!ex || !*ex, "experimental", ex ? (*ex ? "true" : "false") : "not set (default false)",
        "false");
  auto ipt = boolean("iptables");
  judge(!ipt || *ipt, "iptables", ipt ? (*ipt ? "true" : "false") : "not set (default true)",
        "true");
  auto lr = boolean("live-restore");
  judge(lr && *lr, "live-restore", lr ? (*lr ? "true" : "false") : "not set (default false)",
        "true");
  // The running daemon has the last word where /info says it.
  if (e.state == DockerEngineModel::State::ok) {
    std::string ep = e.socket + " GET /info";
    if (e.info.contains("ExperimentalBuild") && e.info["ExperimentalBuild"].is_boolean() &&
        e.info["ExperimentalBuild"].get<bool>())
      bad.push_back(Evidence{ep, 0, "ExperimentalBuild: true", "false", "experimental"});
    if (e.info.contains("LiveRestoreEnabled") && e.info["LiveRestoreEnabled"].is_boolean() &&
        !e.info["LiveRestoreEnabled"].get<bool>() && lr && *lr)
      bad.push_back(Evidence{ep, 0, "LiveRestoreEnabled: false",
                             "true (the running daemon disagrees with its configuration)",
                             "live-restore"});
    if (e.info.contains("RegistryConfig") && e.info["RegistryConfig"].is_object()) {
      const json &rc = e.info["RegistryConfig"];
      if (rc.contains("InsecureRegistryCIDRs") && rc["InsecureRegistryCIDRs"].is_array())
        for (auto &c : rc["InsecureRegistryCIDRs"])
          if (c.is_string() && c.get<std::string>() != "127.0.0.0/8" &&
              c.get<std::string>() != "::1/128")
            bad.push_back(Evidence{ep, 0, "InsecureRegistryCIDRs: " + c.get<std::string>(),
                                   "none beyond loopback", "insecure-registries"});
    }
  }
  if (bad.empty())
    run.emit(Status::pass, "dockerd",
             "no insecure registries, userland-proxy off, experimental off, iptables on, "
             "live-restore on",
             good);
  else {
    std::vector<std::string> keys;
    keys.reserve(bad.size());
    for (auto &b : bad)
      keys.push_back(b.context + " " + b.found);
    run.emit(Status::fail, "dockerd", "dockerd options: " + join(keys, "; "), bad);
  }
}

// ---- docker.image-age -----------------------------------------------------------

void image_age(CheckRun &run) {
  const DockerEngineModel &e = engine(run);
  if (e.state == DockerEngineModel::State::absent) {
    run.emit(Status::not_applicable, "docker engine",
             "no Docker engine was read (" + e.absent_why + "; give --live or --docker)");
    return;
  }
  if (!engine_judged(run, e))
    return;
  int64_t days = run.param_int("days");
  int64_t now = static_cast<int64_t>(std::time(nullptr));
  bool any = false;
  for (auto &c : e.containers) {
    if (c.state != "running")
      continue;
    any = true;
    std::string subj = "container " + c.name;
    Evidence where{DockerEngineModel::evidence_path(c.name), 0, "", "", c.image};
    const DockerImage *img = e.image(c.image_id);
    if (!img || img->created <= 0) {
      where.found = "image " + c.image_id + " not in /images/json";
      where.expected = "an image with a creation date";
      run.emit(Status::error, subj, "the image of " + c.name + " is not listed by the engine",
               {where});
      continue;
    }
    int64_t age = (now - img->created) / 86400;
    where.found = "image " + c.image + " built " + std::to_string(age) + " days ago";
    where.expected = "built within " + std::to_string(days) + " days";
    run.emit(age > days ? Status::fail : Status::pass, subj,
             "container " + c.name + " runs an image built " + std::to_string(age) + " days ago",
             {where});
  }
  if (!any)
    run.emit(Status::not_applicable, "docker engine", "no running container");
}

// ---- accounts.root-equivalent-groups ----------------------------------------------

void root_equivalent_groups(CheckRun &run) {
  const DockerHost &h = docker_host(run);
  if (h.group_error) {
    run.emit(Status::error, "/etc/group",
             "/etc/group cannot be read: " + h.group_error->to_string(),
             {Evidence{"/etc/group", 0, h.group_error->message, "readable", "groups"}});
    return;
  }
  auto admins = run.param_list("admins");
  std::set<std::string> allowed(admins.begin(), admins.end());
  const auto &acc = run.ctx().accounts();
  bool any = false;
  for (auto &g : h.groups) {
    if (g.name != "docker" && g.name != "lxd" && g.name != "disk")
      continue;
    any = true;
    // Members by /etc/group and by primary group (passwd's gid).
    std::vector<std::pair<std::string, SourceLocation>> members;
    for (auto &m : g.members)
      members.push_back({m, g.loc});
    for (auto &p : acc.passwd)
      if (p.gid == g.gid &&
          std::find(g.members.begin(), g.members.end(), p.name) == g.members.end())
        members.push_back({p.name, p.loc});
    std::vector<Evidence> bad;
    std::vector<std::string> names;
    for (auto &[m, loc] : members)
      if (m != "root" && !allowed.count(m)) {
        bad.push_back(Evidence{loc.path, loc.line, m + " in " + g.name,
                               "only [admins]: " + (admins.empty() ? "none" : join(admins, ", ")),
                               "group " + g.name});
        names.push_back(m);
      }
    if (bad.empty())
      run.emit(Status::pass, "group " + g.name,
               "group " + g.name + " has no member outside the admins list",
               {Evidence{g.loc.path, g.loc.line, g.name + ":" + join(g.members, ","), "only admins",
                         "group " + g.name}});
    else
      run.emit(Status::fail, "group " + g.name,
               "members of " + g.name + " (root-equivalent" +
                   (g.name == "docker" ? ": the Docker socket is root" : "") +
                   ") that are not admins: " + join(names, ", "),
               bad);
  }
  if (!any)
    run.emit(Status::not_applicable, "groups", "no docker, lxd or disk group");
}

// ---- container.runtime-drift --------------------------------------------------

std::string upper_cap(std::string c) {
  c = std::string(trim(c));
  for (auto &ch : c)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (starts_with(c, "CAP_"))
    c.erase(0, 4);
  return c;
}

// security_opt as dockerd stores it: "seccomp=unconfined", "no-new-privileges=true".
std::string norm_secopt(std::string s) {
  s = lower(std::string(trim(s)));
  if (s == "no-new-privileges")
    return "no-new-privileges=true";
  if (auto c = s.find(':'); c != std::string::npos && s.find('=') == std::string::npos)
    s[c] = '=';
  return s;
}

bool truthy(const compose::Value *v) {
  if (!v || !v->is_scalar())
    return false;
  std::string s = lower(v->scalar);
  return s == "true" || s == "yes" || s == "on" || s == "1";
}

std::set<std::string> set_of(const compose::Value *v, std::string (*norm)(std::string)) {
  std::set<std::string> out;
  if (v && v->is_sequence())
    for (auto &i : v->items)
      if (i.is_scalar())
        out.insert(norm(i.scalar));
  return out;
}

std::string port_key(const compose::Port &p) {
  std::string ip = p.host_ip.empty() || p.host_ip == "0.0.0.0" ? "" : p.host_ip;
  return (ip.empty() ? "" : ip + ":") + (p.published.empty() ? "" : p.published + ":") + p.target +
         "/" + lower(p.protocol);
}

std::set<std::string> ports_of(const compose::Value *v) {
  std::set<std::string> out;
  if (v && v->is_sequence())
    for (auto &i : v->items)
      if (auto ps = compose::parse_port(i))
        for (auto &p : *ps)
          out.insert(port_key(p));
  return out;
}

// Mounts by container path: "target (ro|rw)" and the bind source when absolute.
std::map<std::string, std::string> mounts_of(const compose::Value *v, bool runtime) {
  std::map<std::string, std::string> out;
  if (!v || !v->is_sequence())
    return out;
  for (auto &i : v->items) {
    auto m = compose::parse_volume(i);
    if (!m)
      continue;
    // An image's VOLUME gives a running container an anonymous volume
    // (a 64-hex name) that no compose file names: not drift.
    if (runtime && m->type == "volume" && m->source.size() == 64 &&
        std::all_of(m->source.begin(), m->source.end(),
                    [](char c) { return std::isxdigit((unsigned char)c); }))
      continue;
    std::string d = m->type + (m->read_only ? " ro" : " rw");
    if (m->type == "bind" && !m->source.empty() && m->source[0] == '/')
      d += " from " + m->source;
    out[m->target] = d;
  }
  return out;
}

template <class T> std::string show(const std::set<T> &s) {
  return s.empty() ? "none" : join(std::vector<std::string>(s.begin(), s.end()), ", ");
}

// An image reference as swarm stores and compose writes it, compared
// alike: `docker stack deploy` pins the digest it resolved
// (nginx:1.25@sha256:...), Docker Hub's implicit docker.io/library/ and
// :latest are spelled or not.
std::string norm_image(std::string s) {
  s = std::string(trim(s));
  if (auto at = s.find('@'); at != std::string::npos)
    s.erase(at);
  for (std::string_view pre : {"docker.io/library/", "index.docker.io/library/", "docker.io/",
                               "index.docker.io/", "library/"})
    if (starts_with(s, pre)) {
      s.erase(0, pre.size());
      break;
    }
  size_t slash = s.rfind('/'), colon = s.rfind(':');
  if (colon == std::string::npos || (slash != std::string::npos && colon < slash))
    s += ":latest";
  return s;
}

// Published ports as a swarm service has them: docker/cli's stack convert
// drops a host IP (the routing mesh publishes on every address), so only
// published:target/protocol count.
std::set<std::string> swarm_ports_of(const compose::Value *v) {
  std::set<std::string> out;
  if (v && v->is_sequence())
    for (auto &i : v->items)
      if (auto ps = compose::parse_port(i))
        for (auto &p : *ps)
          out.insert((p.published.empty() || p.published == "0" ? "" : p.published + ":") +
                     p.target + "/" + lower(p.protocol));
  return out;
}

// The environment keys whose values differ between the files (`want`) and
// the service (`have`), or that only one side has. A key with no value in
// the files takes the deployer's environment at deploy time: not judged.
// With `from_env_file` (the service has env_file:, which docker stack
// deploy folds into the service's Env), a key only the service has may
// come from that file: not drift.
std::set<std::string> env_drift(const compose::Value *want, const compose::Value *have,
                                bool from_env_file) {
  std::map<std::string, std::string> w, h;
  if (want && want->is_mapping())
    for (auto &[k, v] : want->entries)
      if (!v.is_null())
        w[k] = v.str();
  if (have && have->is_mapping())
    for (auto &[k, v] : have->entries)
      h[k] = v.str();
  std::set<std::string> out;
  for (auto &[k, v] : w)
    if (auto it = h.find(k); it == h.end() || it->second != v)
      out.insert(k);
  for (auto &[k, v] : h)
    if (!from_env_file && !w.count(k) && !(want && want->is_mapping() && want->find(k)))
      out.insert(k);
  return out;
}

// Swarm services of stacks the target deploys (`docker stack deploy -c
// F... STACK`) against the stack's merged files: image, user, read_only,
// cap_add, cap_drop, security_opt (what swarm supports of privileges;
// privileged itself does not exist in a service), published ports and the
// environment (keys only: values are secrets). Subject `service NAME`.
// Returns whether any stack service was judged.
bool swarm_drift(CheckRun &run, const DockerEngineModel &e,
                 const std::map<std::string, const compose::Project *> &stacks) {
  const compose::Value *ssvcs = swarm_project(e).services();
  std::map<std::string, std::string> stack_of; // service name -> namespace
  for (auto &sv : e.services) {
    if (!sv.is_object() || !sv.contains("Spec") || !sv["Spec"].is_object())
      continue;
    const auto &spec = sv["Spec"];
    if (!spec.contains("Name") || !spec["Name"].is_string() || !spec.contains("Labels") ||
        !spec["Labels"].is_object())
      continue;
    auto ns = spec["Labels"].find("com.docker.stack.namespace");
    if (ns != spec["Labels"].end() && ns->is_string())
      stack_of[spec["Name"].get<std::string>()] = ns->get<std::string>();
  }
  bool any = false;
  // Services are listed by a swarm manager only; a worker's audit says so
  // elsewhere (swarm_unlisted), and a node outside a swarm runs no stack.
  if (!e.swarm_active || !e.swarm_unlisted.empty())
    return false;
  for (auto &[stack, p] : stacks) {
    std::string spath = p->files.empty() ? std::string() : p->files.front();
    if (!p->valid()) {
      any = true;
      run.emit(Status::error, "stack " + stack,
               "stack " + stack +
                   "'s compose files could not be read, so its services' drift "
                   "could not be judged",
               {Evidence{spath, 0, "invalid project", "a valid compose file", stack}});
      continue;
    }
    const compose::Value *svcs = p->services();
    std::set<std::string> defined;
    if (svcs)
      for (auto &[name, want] : svcs->entries) {
        std::string full = stack + "_" + name;
        defined.insert(full);
        any = true;
        std::string subj = "service " + full,
                    rpath = DockerEngineModel::service_evidence_path(full);
        const compose::Value *have = ssvcs ? ssvcs->find(full) : nullptr;
        if (!have || !stack_of.count(full)) {
          SourceLocation s = p->where(want.where());
          run.emit(
              Status::fail, subj,
              "service " + name + " of stack " + stack +
                  " is not running in the swarm (the stack was not redeployed from its "
                  "files)",
              {Evidence{s.path, s.line, "no swarm service " + full, "a running service", full}});
          continue;
        }
        std::vector<Evidence> diffs;
        // Structured bindings named through init-captures (clang before 16
        // cannot capture them by default).
        auto differ = [&, &p = p, &want = want](const char *field, const compose::Value *wv,
                                                const std::string &want_s,
                                                const std::string &have_s) {
          if (want_s == have_s)
            return;
          SourceLocation s = p->where(wv ? wv->where() : want.key_loc);
          diffs.push_back(Evidence{rpath, 0, std::string(field) + ": " + have_s,
                                   std::string(field) + ": " + want_s + " (" + s.path + ":" +
                                       std::to_string(s.line) + ")",
                                   full});
        };
        const compose::Value *wi = want.find("image"), *hi = have->find("image");
        differ("image", wi, wi ? norm_image(wi->str()) : "(none)",
               hi ? norm_image(hi->str()) : "(none)");
        if (const compose::Value *u = want.find("user"); u && !u->str().empty()) {
          const compose::Value *ru = have->find("user");
          differ("user", u, u->str(), ru ? ru->str() : "(image default)");
        }
        differ("read_only", want.find("read_only"),
               truthy(want.find("read_only")) ? "true" : "false",
               truthy(have->find("read_only")) ? "true" : "false");
        differ("cap_add", want.find("cap_add"), show(set_of(want.find("cap_add"), upper_cap)),
               show(set_of(have->find("cap_add"), upper_cap)));
        differ("cap_drop", want.find("cap_drop"), show(set_of(want.find("cap_drop"), upper_cap)),
               show(set_of(have->find("cap_drop"), upper_cap)));
        differ("security_opt", want.find("security_opt"),
               show(set_of(want.find("security_opt"), norm_secopt)),
               show(set_of(have->find("security_opt"), norm_secopt)));
        differ("ports", want.find("ports"), show(swarm_ports_of(want.find("ports"))),
               show(swarm_ports_of(have->find("ports"))));
        if (auto keys = env_drift(want.find("environment"), have->find("environment"),
                                  want.find("env_file") != nullptr);
            !keys.empty())
          differ("environment", want.find("environment"), "as the files set it",
                 "differs on " + show(keys));
        if (diffs.empty()) {
          run.emit(Status::pass, subj,
                   "service " + full + " matches service " + name + " of stack " + stack,
                   {Evidence{rpath, 0, "as defined", "as defined", full}});
          continue;
        }
        std::vector<std::string> what;
        what.reserve(diffs.size());
        for (auto &d : diffs)
          what.push_back(d.found.substr(0, d.found.find(':')));
        run.emit(Status::fail, subj,
                 "service " + full + " differs from service " + name + " of stack " + stack +
                     " on " + join(what, ", ") +
                     " (the running service is not what the stack files say)",
                 diffs);
      }
    for (auto &[full, ns] : stack_of)
      if (ns == stack && !defined.count(full)) {
        any = true;
        run.emit(Status::fail, "service " + full,
                 "service " + full + " runs in stack " + stack +
                     ", whose files no longer define it (docker stack deploy --prune removes it)",
                 {Evidence{DockerEngineModel::service_evidence_path(full), 0,
                           "com.docker.stack.namespace=" + stack, "a service of the stack files",
                           full}});
      }
  }
  return any;
}

void runtime_drift(CheckRun &run) {
  const DockerEngineModel &e = engine(run);
  if (e.state == DockerEngineModel::State::absent) {
    run.emit(Status::not_applicable, "docker engine",
             "no Docker engine was read (" + e.absent_why + "; give --live or --docker)");
    return;
  }
  if (!engine_judged(run, e))
    return;
  const auto &projects = audited_compose_projects(run);
  // Stacks by the name their deploy command gives them, which need not be
  // a project's (directory's) name.
  const auto stacks = audited_stack_projects(run);
  const compose::Project &rt = engine_project(e);
  const compose::Value *rsvcs = rt.services();
  bool any = false;
  for (auto &c : e.containers) {
    std::string proj = c.compose_project(), svc_name = c.compose_service();
    if (proj.empty()) {
      auto ns = c.labels.find("com.docker.stack.namespace");
      auto sn = c.labels.find("com.docker.swarm.service.name");
      if (ns != c.labels.end() && sn != c.labels.end()) {
        proj = ns->second;
        svc_name =
            starts_with(sn->second, proj + "_") ? sn->second.substr(proj.size() + 1) : sn->second;
      }
    }
    if (proj.empty() || svc_name.empty())
      continue;
    any = true;
    std::string subj = "container " + c.name;
    std::string rpath = DockerEngineModel::evidence_path(c.name);
    const compose::Project *p = nullptr;
    for (auto &cand : projects)
      if (cand.name == proj)
        p = &cand;
    if (auto st = stacks.find(proj); st != stacks.end() && c.compose_project().empty())
      p = st->second;
    if (!p) {
      run.emit(
          Status::warn, subj,
          "container " + c.name + " belongs to compose project " + proj +
              ", whose files were not audited (give them with --compose)",
          {Evidence{rpath, 0, "com.docker.compose.project=" + proj, "an audited project", c.name}});
      continue;
    }
    if (!p->valid()) {
      run.emit(Status::error, subj,
               "container " + c.name + "'s compose project " + proj +
                   " could not be read, so drift could not be judged",
               {Evidence{p->files.empty() ? std::string() : p->files.front(), 0, "invalid project",
                         "a valid compose file", proj}});
      continue;
    }
    const compose::Value *svcs = p->services();
    const compose::Value *want = svcs ? svcs->find(svc_name) : nullptr;
    const compose::Value *have = rsvcs ? rsvcs->find(c.name) : nullptr;
    if (!want || !have) {
      run.emit(Status::fail, subj,
               "container " + c.name + " runs service " + svc_name + ", which project " + proj +
                   " no longer defines",
               {Evidence{rpath, 0, "com.docker.compose.service=" + svc_name,
                         "a service of the merged project", c.name}});
      continue;
    }
    std::vector<Evidence> diffs;
    auto where = [&](const compose::Value *v) {
      SourceLocation s = p->where(v ? v->where() : want->key_loc);
      return s;
    };
    auto differ = [&](const char *field, const compose::Value *wv, const std::string &want_s,
                      const std::string &have_s) {
      if (want_s == have_s)
        return;
      SourceLocation s = where(wv);
      diffs.push_back(Evidence{rpath, 0, std::string(field) + ": " + have_s,
                               std::string(field) + ": " + want_s + " (" + s.path + ":" +
                                   std::to_string(s.line) + ")",
                               c.name});
    };
    if (const compose::Value *u = want->find("user"); u && !u->str().empty()) {
      const compose::Value *ru = have->find("user");
      differ("user", u, u->str(), ru ? ru->str() : "(image default)");
    }
    differ("privileged", want->find("privileged"),
           truthy(want->find("privileged")) ? "true" : "false",
           truthy(have->find("privileged")) ? "true" : "false");
    differ("read_only", want->find("read_only"), truthy(want->find("read_only")) ? "true" : "false",
           truthy(have->find("read_only")) ? "true" : "false");
    differ("cap_add", want->find("cap_add"), show(set_of(want->find("cap_add"), upper_cap)),
           show(set_of(have->find("cap_add"), upper_cap)));
    differ("cap_drop", want->find("cap_drop"), show(set_of(want->find("cap_drop"), upper_cap)),
           show(set_of(have->find("cap_drop"), upper_cap)));
    differ("security_opt", want->find("security_opt"),
           show(set_of(want->find("security_opt"), norm_secopt)),
           show(set_of(have->find("security_opt"), norm_secopt)));
    differ("ports", want->find("ports"), show(ports_of(want->find("ports"))),
           show(ports_of(have->find("ports"))));
    auto wm = mounts_of(want->find("volumes"), false), hm = mounts_of(have->find("volumes"), true);
    std::set<std::string> targets;
    for (auto &[t, _] : wm)
      targets.insert(t);
    for (auto &[t, _] : hm)
      targets.insert(t);
    for (auto &t : targets) {
      auto a = wm.find(t), b = hm.find(t);
      std::string ws = a == wm.end() ? "absent" : a->second,
                  hs = b == hm.end() ? "absent" : b->second;
      // A compose bind with a relative source is resolved by compose at
      // deploy: compare type and mode only.
      if (a != wm.end() && b != hm.end() && a->second.find(" from ") == std::string::npos)
        hs = hs.substr(0, hs.find(" from "));
      differ(("volume " + t).c_str(), want->find("volumes"), ws, hs);
    }
    if (diffs.empty())
      run.emit(Status::pass, subj,
               "container " + c.name + " matches service " + svc_name + " of project " + proj,
               {Evidence{rpath, 0, "as defined", "as defined", c.name}});
    else {
      std::vector<std::string> what;
      what.reserve(diffs.size());
      for (auto &d : diffs)
        what.push_back(d.found.substr(0, d.found.find(':')));
      run.emit(Status::fail, subj,
               "container " + c.name + " differs from service " + svc_name + " of project " + proj +
                   " on " + join(what, ", ") +
                   " (the running container is not what the compose files say)",
               diffs);
    }
  }
  if (swarm_drift(run, e, stacks))
    any = true;
  if (!any)
    run.emit(Status::not_applicable, "docker engine", "no container of a compose project");
}

// ---- Docker's firewall path: firewall.docker-published-ports, forward-policy --
//
// dockerd (libnetwork's bridge driver, iptables.go and
// port_mapping_linux.go, 20.10 to 26) publishes a port with
//   nat    PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
//          DOCKER [-d HOSTIP] ! -i BRIDGE -p P --dport HOSTPORT -j DNAT --to-destination CIP:CPORT
//   filter FORWARD -j DOCKER-USER; FORWARD -j DOCKER-ISOLATION-STAGE-1;
//          FORWARD -o BRIDGE -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT;
//          FORWARD -o BRIDGE -j DOCKER; ...
//          DOCKER -d CIP/32 ! -i BRIDGE -o BRIDGE -p P --dport CPORT -j ACCEPT
// (tests/data/docker/ holds what a real dockerd wrote). The DNATed packet
// goes to the FORWARD hook, never INPUT: that is why ufw does not see it.
// A published port is therefore judged by evaluating the packet after DNAT
// (daddr CIP, dport CPORT, out through BRIDGE) on the FORWARD hook.

struct Published {
  std::string host_ip; // "" all addresses
  uint32_t host_port = 0;
  int proto = 6;
  std::string container_ip;
  uint32_t container_port = 0;
  std::string bridge;
  std::string who; // container or project/service
  Evidence where;  // the DNAT rule, or the compose line
};

const FirewallModel &firewall(CheckRun &run) {
  Context &ctx = run.ctx();
  return ctx.model<FirewallModel>([&] {
    return load_firewall_model(ctx.fs(), ctx.live() ? &ctx.probes() : nullptr,
                               ctx.get<SystemdModel>().files());
  });
}

bool loopback(const std::string &ip) {
  return starts_with(ip, "127.") || ip == "::1" || ip == "localhost";
}

// The DNAT rules of the kernel's nat tables (iptables-nft and nft alike).
std::vector<Published> dnat_rules(const fw::Ruleset &rs) {
  std::vector<Published> out;
  for (auto &t : rs.tables)
    for (auto &[name, c] : t.chains)
      for (auto &r : c.rules) {
        std::string text = r.text;
        size_t at = text.find("--to-destination ");
        size_t skip = 17;
        if (at == std::string::npos) {
          at = text.find("dnat to ");
          skip = 8;
        }
        if (at == std::string::npos)
          continue;
        std::string dest = text.substr(at + skip);
        dest = dest.substr(0, dest.find(' '));
        size_t colon = dest.rfind(':');
        if (colon == std::string::npos)
          continue;
        Published p;
        p.container_ip = dest.substr(0, colon);
        try {
          p.container_port = static_cast<uint32_t>(std::stoul(dest.substr(colon + 1)));
        } catch (...) {
          continue;
        }
        for (auto &cd : r.conds) {
          if (cd.kind == fw::Cond::Kind::dport && !cd.ranges.empty())
            p.host_port = cd.ranges[0].lo;
          else if (cd.kind == fw::Cond::Kind::proto && !cd.ranges.empty())
            p.proto = static_cast<int>(cd.ranges[0].lo);
          else if (cd.kind == fw::Cond::Kind::daddr && !cd.neg && !cd.nets.empty())
            p.host_ip = cd.nets[0].lo.str();
          else if (cd.kind == fw::Cond::Kind::iif && cd.neg && !cd.names.empty())
            p.bridge = cd.names[0];
        }
        if (p.host_port == 0)
          continue;
        p.where = Evidence{r.loc.path, r.loc.line, text::printable(r.text, 160), "", name};
        out.push_back(std::move(p));
      }
  return out;
}

bool has_docker_chain(const fw::Ruleset &rs) {
  for (auto &t : rs.tables)
    if (t.chains.count("DOCKER"))
      return true;
  return false;
}

// What dockerd will publish, from the compose files (offline): each
// published port of each service, on an address of Docker's default pool
// and a bridge named after the project (any name: the rules dockerd writes
// name it both ways).
std::vector<Published> compose_published(CheckRun &run, std::string &default_ip) {
  std::vector<Published> out;
  int n = 2;
  for (auto &p : audited_compose_projects(run)) {
    if (!p.valid())
      continue;
    const compose::Value *svcs = p.services();
    if (!svcs)
      continue;
    for (auto &[name, svc] : svcs->entries) {
      const compose::Value *ports = svc.find("ports");
      if (!ports || !ports->is_sequence())
        continue;
      if (const compose::Value *nm = svc.find("network_mode"); nm && nm->str() == "host")
        continue; // no NAT: the service listens on the host, INPUT decides
      for (auto &item : ports->items) {
        auto ps = compose::parse_port(item);
        if (!ps)
          continue;
        for (auto &port : *ps) {
          if (port.published.empty())
            continue;
          Published pub;
          pub.host_ip = port.host_ip.empty() ? default_ip : port.host_ip;
          try {
            pub.host_port = static_cast<uint32_t>(std::stoul(port.published));
            pub.container_port = static_cast<uint32_t>(std::stoul(port.target));
          } catch (...) {
            continue;
          }
          pub.proto = lower(port.protocol) == "udp" ? 17 : 6;
          pub.container_ip = "172.31.255." + std::to_string(n++ % 250 + 2);
          pub.bridge = "br-" + p.name.substr(0, 12);
          pub.who = p.name + "/" + name;
          SourceLocation s = p.where(port.loc.line ? port.loc : item.where());
          pub.where =
              Evidence{s.path, s.line, "ports: " + port.published + ":" + port.target, "", pub.who};
          out.push_back(std::move(pub));
        }
      }
    }
  }
  return out;
}

// The rules dockerd adds at start for `pubs`, as iptables-save text.
std::string dockerd_rules(const std::vector<Published> &pubs, bool docker_user_exists) {
  std::set<std::string> bridges;
  for (auto &p : pubs)
    bridges.insert(p.bridge);
  std::string t = "*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n:OUTPUT ACCEPT [0:0]\n"
                  ":DOCKER - [0:0]\n:DOCKER-ISOLATION-STAGE-1 - [0:0]\n"
                  ":DOCKER-ISOLATION-STAGE-2 - [0:0]\n";
  if (!docker_user_exists)
    t += ":DOCKER-USER - [0:0]\n";
  t += "-A FORWARD -j DOCKER-USER\n-A FORWARD -j DOCKER-ISOLATION-STAGE-1\n";
  for (auto &b : bridges)
    t += "-A FORWARD -o " + b + " -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT\n" +
         "-A FORWARD -o " + b + " -j DOCKER\n" + "-A FORWARD -i " + b + " ! -o " + b +
         " -j ACCEPT\n" + "-A FORWARD -i " + b + " -o " + b + " -j ACCEPT\n";
  for (auto &p : pubs) {
    std::string pr = p.proto == 17 ? "udp" : "tcp";
    t += "-A DOCKER -d " + p.container_ip + "/32 ! -i " + p.bridge + " -o " + p.bridge + " -p " +
         pr + " -m " + pr + " --dport " + std::to_string(p.container_port) + " -j ACCEPT\n";
  }
  for (auto &b : bridges)
    t += "-A DOCKER-ISOLATION-STAGE-1 -i " + b + " ! -o " + b + " -j DOCKER-ISOLATION-STAGE-2\n" +
         "-A DOCKER-ISOLATION-STAGE-2 -o " + b + " -j DROP\n";
  t += "-A DOCKER-ISOLATION-STAGE-1 -j RETURN\n-A DOCKER-ISOLATION-STAGE-2 -j RETURN\n";
  if (!docker_user_exists)
    t += "-A DOCKER-USER -j RETURN\n";
  t += "COMMIT\n";
  return t;
}

// The boot ruleset with dockerd's rules as it adds them at start: its
// FORWARD rules first (it inserts), its chains added, an existing
// DOCKER-USER kept (iptables-persistent saves it, dockerd leaves it).
fw::Ruleset with_dockerd(const fw::Ruleset &boot, const std::vector<Published> &pubs) {
  fw::Ruleset rs = boot;
  fw::Table *filter = nullptr;
  for (auto &t : rs.tables)
    if (t.name == "filter" && (t.backend == "iptables" || t.backend == "ufw") &&
        (t.families & static_cast<uint8_t>(fw::Family::v4)))
      filter = &t;
  bool user_exists = filter && filter->chains.count("DOCKER-USER");
  fw::Ruleset add;
  fw::parse_iptables_save(dockerd_rules(pubs, user_exists), "dockerd (the rules it adds at start)",
                          fw::Family::v4, add);
  if (add.tables.empty())
    return rs;
  fw::Table &d = add.tables.front();
  if (!filter) {
    rs.tables.push_back(std::move(d));
    return rs;
  }
  for (auto &[name, c] : d.chains) {
    if (name == "FORWARD") {
      fw::Chain &fwd = filter->chains["FORWARD"];
      if (fwd.name.empty()) {
        fwd = c;
        continue;
      }
      fwd.rules.insert(fwd.rules.begin(), c.rules.begin(), c.rules.end());
    } else if (name != "DOCKER-USER" || !filter->chains.count(name))
      filter->chains[name] = c; // dockerd flushes and rewrites its own chains at start
  }
  return rs;
}

fw::Packet forward_packet(const FirewallModel &m, const Published &p) {
  fw::Packet pk;
  pk.family = p.container_ip.find(':') != std::string::npos ? fw::Family::v6 : fw::Family::v4;
  pk.hook = "forward";
  pk.proto = p.proto;
  pk.dport = p.container_port;
  pk.saddr = m.world(pk.family);
  pk.daddr = fw::Addr::parse(p.container_ip);
  pk.iif = "eth0";
  if (!p.bridge.empty())
    pk.oif = p.bridge;
  return pk;
}

std::string port_name(uint32_t port, int proto) {
  return std::to_string(port) + "/" + (proto == 17 ? "udp" : "tcp");
}

void docker_published_ports(CheckRun &run) {
  const FirewallModel &m = firewall(run);
  const DockerEngineModel &e = engine(run);
  const DockerHost &h = docker_host(run);
  if (!engine_judged(run, e))
    return;
  if (h.daemon_json && !*h.daemon_json) {
    const Error &er = h.daemon_json->error();
    run.emit(Status::error, "dockerd", "daemon.json cannot be read: " + er.to_string(),
             {Evidence{er.path.empty() ? docker::k_daemon_json : er.path, er.line, er.message,
                       "a JSON object", "dockerd"}});
    return;
  }
  for (auto &d : m.diagnostics)
    if (d.level == fw::Diagnostic::Level::error && m.live) {
      run.emit(Status::error, "", "the live ruleset cannot be read: " + d.message,
               {Evidence{d.loc.path, d.loc.line, d.message, "a readable ruleset", "firewall"}});
      return;
    }
  auto allowed_list = run.param_list("allowed");
  std::set<std::string> allowed(allowed_list.begin(), allowed_list.end());
  static const json k_empty = json::object();
  const json &o = h.daemon_json ? h.daemon_json->value().options : k_empty;
  bool iptables_off =
      o.contains("iptables") && o["iptables"].is_boolean() && !o["iptables"].get<bool>();
  std::string default_ip =
      o.contains("ip") && o["ip"].is_string() ? o["ip"].get<std::string>() : "";
  std::vector<Published> pubs;
  fw::Ruleset evaluated;
  std::string basis;
  if (m.live) {
    pubs = dnat_rules(m.ruleset);
    evaluated = m.ruleset;
    basis = "the kernel's ruleset";
    if (pubs.empty() && e.state == DockerEngineModel::State::ok && !has_docker_chain(m.ruleset)) {
      // Containers publish ports but no DNAT is visible in nft's ruleset
      // nor in the legacy x_tables (firewall_model.cpp reads both): the
      // rules are somewhere bulwark cannot see. Not judged, never passed.
      bool publishes = false;
      for (auto &c : e.containers)
        if (c.state == "running" && c.inspect.contains("NetworkSettings") &&
            c.inspect["NetworkSettings"].contains("Ports") &&
            c.inspect["NetworkSettings"]["Ports"].is_object())
          for (auto &[k, v] : c.inspect["NetworkSettings"]["Ports"].items())
            publishes = publishes || (v.is_array() && !v.empty());
      if (publishes && !iptables_off) {
        run.emit(Status::error, "",
                 "containers publish ports but neither the kernel's nftables ruleset nor its "
                 "iptables-legacy tables have a DOCKER chain: Docker's firewall path could not "
                 "be evaluated",
                 {Evidence{e.socket, 0, "published ports, no DOCKER chain", "Docker's rules", ""}});
        return;
      }
    }
    // Name the container a DNAT leads to.
    for (auto &p : pubs) {
      p.who = p.container_ip + ":" + std::to_string(p.container_port);
      for (auto &c : e.containers) {
        const json &ns =
            c.inspect.contains("NetworkSettings") ? c.inspect["NetworkSettings"] : k_empty;
        if (!ns.contains("Networks") || !ns["Networks"].is_object())
          continue;
        for (auto &[nn, net] : ns["Networks"].items())
          if (str_of_json(net, "IPAddress") == p.container_ip)
            p.who = "container " + c.name;
      }
    }
  } else {
    if (iptables_off) {
      // No DNAT at all: docker-proxy listens on the host and INPUT decides
      // (firewall.open-ports judges that path).
      run.emit(Status::not_applicable, "dockerd",
               "daemon.json sets \"iptables\": false: dockerd writes no DNAT, its proxy listens on "
               "the host and the INPUT rules decide (see firewall.open-ports)",
               {Evidence{docker::k_daemon_json, h.daemon_json->value().line_of("iptables"),
                         "iptables: false", "", "dockerd"}});
      return;
    }
    pubs = compose_published(run, default_ip);
    evaluated = with_dockerd(m.ruleset, pubs);
    basis = "the boot ruleset with the rules dockerd adds at start";
  }
  if (pubs.empty()) {
    run.emit(Status::not_applicable, "",
             m.live ? "Docker publishes no port (no DNAT rule in the kernel's ruleset)"
                    : "no compose service publishes a port");
    return;
  }
  for (auto &p : pubs) {
    std::string subj = p.who.empty() ? port_name(p.host_port, p.proto) : p.who;
    std::string pn = port_name(p.host_port, p.proto);
    Evidence pub = p.where;
    pub.expected = "bound to an address, or restricted in DOCKER-USER";
    if (loopback(p.host_ip)) {
      pub.found += " (bound to " + p.host_ip + ")";
      run.emit(Status::pass, subj,
               "port " + pn + " is published on loopback only (" + p.host_ip +
                   "): not reachable from other hosts",
               {pub});
      continue;
    }
    fw::Outcome out = fw::evaluate(evaluated, forward_packet(m, p));
    Evidence dec;
    dec.path = out.decided.path;
    dec.line = out.decided.line;
    dec.context =
        "FORWARD hook, after DNAT to " + p.container_ip + ":" + std::to_string(p.container_port);
    dec.found = out.no_chain ? "no chain on the forward hook: routed through"
                             : std::string(fw::to_string(out.verdict)) +
                                   (out.by_policy ? " by policy: " : " by: ") +
                                   text::printable(out.decided_text, 160);
    dec.expected = "drop, unless " + pn + " is allowed";
    if (!out.accepted()) {
      run.emit(Status::pass, subj,
               "published port " + pn + " is dropped on the FORWARD hook (" + basis + ")",
               {pub, dec});
    } else if (allowed.count(pn)) {
      run.emit(Status::pass, subj,
               "published port " + pn + " is reachable from anywhere, and allowed", {pub, dec});
    } else {
      run.emit(Status::fail, subj,
               "published port " + pn +
                   " is reachable from anywhere through Docker's DNAT and FORWARD path, which "
                   "bypasses INPUT and ufw (" +
                   basis + ")",
               {pub, dec});
    }
  }
}

void forward_policy(CheckRun &run) {
  const FirewallModel &m = firewall(run);
  for (auto &d : m.diagnostics)
    if (d.level == fw::Diagnostic::Level::error && m.live) {
      run.emit(Status::error, "", "the live ruleset cannot be read: " + d.message,
               {Evidence{d.loc.path, d.loc.line, d.message, "a readable ruleset", "firewall"}});
      return;
    }
  bool any = false;
  for (fw::Family f : {fw::Family::v4, fw::Family::v6}) {
    fw::Packet pk;
    pk.family = f;
    pk.hook = "forward";
    pk.proto = 6;
    pk.dport = m.unmentioned_port();
    pk.saddr = m.world(f);
    pk.daddr = fw::Addr::parse(f == fw::Family::v4 ? "198.51.100.77" : "2001:db8:77::77");
    pk.iif = "eth0";
    pk.oif = "eth1";
    fw::Outcome out = fw::evaluate(m.ruleset, pk);
    std::string fam = f == fw::Family::v4 ? "IPv4" : "IPv6";
    Evidence e;
    e.path = out.decided.path;
    e.line = out.decided.line;
    e.context = fam + " forward";
    e.expected = "drop (policy or a final rule)";
    e.found = out.no_chain ? "no chain on the forward hook"
                           : std::string(fw::to_string(out.verdict)) +
                                 (out.by_policy ? " by policy: " : " by: ") +
                                 text::printable(out.decided_text, 160);
    any = true;
    // A kernel that forwards nothing has nothing to filter there: the
    // forwarding switch (live /proc/sys, else what sysctl.d sets, else the
    // kernel's default 0), unless dockerd is there to turn it on.
    const char *key = f == fw::Family::v4 ? "net.ipv4.ip_forward" : "net.ipv6.conf.all.forwarding";
    auto fwd = run.ctx().sysctl().value(key);
    // dockerd's chains in the ruleset: it ran, and turned forwarding on.
    bool dockerd = docker_host(run).installed || has_docker_chain(m.ruleset);
    bool forwarding_off = (!fwd || std::string(trim(*fwd)) == "0") && !dockerd;
    if (out.accepted() && forwarding_off) {
      const SysctlSetting *set = run.ctx().sysctl().effective(key);
      run.emit(Status::pass, fam,
               "the host does not forward " + fam + " (" + key + " = " +
                   (fwd ? *fwd : "0, the default") + ") and dockerd is not installed",
               {Evidence{set ? set->loc.path : "/etc/sysctl.conf", set ? set->loc.line : 0,
                         std::string(key) + " = " + (fwd ? *fwd : "not set (0)"),
                         "0, or a drop policy", fam + " forward"},
                e});
      continue;
    }
    if (out.no_chain && !m.any_loaded())
      run.emit(Status::fail, fam,
               "no firewall is loaded: forwarded " + fam + " traffic is not filtered", {e});
    else if (out.accepted())
      run.emit(Status::fail, fam,
               "forwarded " + fam + " traffic that no rule names is accepted" +
                   (out.no_chain ? " (no forward chain)" : ""),
               {e});
    else
      run.emit(Status::pass, fam, "forwarded " + fam + " traffic that no rule names is dropped",
               {e});
  }
  (void)any;
}

constexpr CheckImpl k_checks[] = {
    {"container.runtime-drift", runtime_drift},
    {"docker.daemon-tls", daemon_tls},
    {"docker.socket-permissions", socket_permissions},
    {"docker.daemon-options", daemon_options},
    {"docker.image-age", image_age},
    {"accounts.root-equivalent-groups", root_equivalent_groups},
    {"firewall.docker-published-ports", docker_published_ports},
    {"firewall.forward-policy", forward_policy},
};

} // namespace

std::span<const CheckImpl> docker_checks() {
  return k_checks;
}

} // namespace bulwark
