// The Docker engine model (checks/docker_engine.hpp): the Engine API's
// answers, read through the Context's probes, and the running containers
// as a compose project so that every container.* check judges them with the
// code that judges compose services.
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/docker_engine.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/docker.hpp>
#include <bulwark/live/probes.hpp>

#include <algorithm>
#include <atomic>
#include <cmath>
#include <thread>

namespace bulwark {

using compose::Loc;
using compose::Value;
using nlohmann::json;

std::string DockerContainer::compose_project() const {
  auto it = labels.find("com.docker.compose.project");
  return it == labels.end() ? std::string() : it->second;
}

std::string DockerContainer::compose_service() const {
  auto it = labels.find("com.docker.compose.service");
  return it == labels.end() ? std::string() : it->second;
}

const DockerImage *DockerEngineModel::image(const std::string &id) const {
  for (auto &i : images)
    if (i.id == id)
      return &i;
  return nullptr;
}

std::string DockerEngineModel::evidence_path(const std::string &container) {
  return "docker:/containers/" + container + "/json";
}

std::string DockerEngineModel::service_evidence_path(const std::string &service) {
  return "docker:/services/" + service;
}

namespace {

// A string member, "" when absent or not a string.
std::string str_of(const json &j, const char *key) {
  if (!j.is_object())
    return {};
  auto it = j.find(key);
  return it != j.end() && it->is_string() ? it->get<std::string>() : std::string();
}

Result<json> get_json(const DockerGet &get, const std::string &socket, const std::string &target,
                      json::value_t expected) {
  auto body = get(target);
  if (!body)
    return Error{body.error().message, socket};
  json j = json::parse(body.value(), nullptr, false);
  if (j.is_discarded())
    return Error{"GET " + target + ": the engine's answer is not JSON", socket};
  if (j.type() != expected)
    return Error{"GET " + target + std::string(": expected a JSON ") +
                     (expected == json::value_t::array ? "array" : "object") + ", got " +
                     j.type_name(),
                 socket};
  return j;
}

constexpr size_t k_parallel = 8;

// Container ids go into a URL path: only what dockerd makes (64 hex digits).
bool plausible_id(const std::string &id) {
  return !id.empty() && id.size() <= 128 && std::all_of(id.begin(), id.end(), [](char c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f');
  });
}

Result<Unit> fill(DockerEngineModel &m, const DockerGet &get) {
  const std::string &s = m.socket;
  m.info = TRY(get_json(get, s, "/info", json::value_t::object));
  json list = TRY(get_json(get, s, "/containers/json?all=1", json::value_t::array));
  std::vector<std::string> ids;
  for (auto &c : list) {
    std::string id = str_of(c, "Id");
    if (!plausible_id(id))
      return Error{"GET /containers/json: a container without a valid Id", s};
    ids.push_back(id);
  }
  // One inspect per container, k_parallel at a time (dockerd serves
  // concurrent requests; a host with hundreds of containers would otherwise
  // wait for each round trip in turn). The first error, in list order, wins.
  std::vector<std::optional<Result<json>>> inspected(ids.size());
  {
    std::atomic<size_t> next{0};
    auto worker = [&] {
      for (size_t i; (i = next++) < ids.size();)
        inspected[i] = get_json(get, s, "/containers/" + ids[i] + "/json", json::value_t::object);
    };
    std::vector<std::thread> pool;
    size_t n = std::min<size_t>(k_parallel, ids.size());
    for (size_t t = 1; t < n; ++t)
      pool.emplace_back(worker);
    worker();
    for (auto &t : pool)
      t.join();
  }
  for (size_t i = 0; i < ids.size(); ++i) {
    const std::string &id = ids[i];
    if (!*inspected[i])
      return inspected[i]->error();
    json in = std::move(inspected[i]->value());
    DockerContainer dc;
    dc.id = id;
    dc.name = str_of(in, "Name");
    if (!dc.name.empty() && dc.name.front() == '/')
      dc.name.erase(0, 1);
    if (dc.name.empty())
      dc.name = id.substr(0, 12);
    const json &cfg = in.contains("Config") ? in["Config"] : json::object();
    dc.image = str_of(cfg, "Image");
    dc.image_id = str_of(in, "Image");
    if (in.contains("State"))
      dc.state = str_of(in["State"], "Status");
    if (cfg.is_object() && cfg.contains("Labels") && cfg["Labels"].is_object())
      for (auto &[k, v] : cfg["Labels"].items())
        if (v.is_string())
          dc.labels[k] = v.get<std::string>();
    dc.inspect = std::move(in);
    m.containers.push_back(std::move(dc));
  }
  json images = TRY(get_json(get, s, "/images/json", json::value_t::array));
  for (auto &i : images) {
    DockerImage di;
    di.id = str_of(i, "Id");
    if (i.contains("RepoTags") && i["RepoTags"].is_array())
      for (auto &t : i["RepoTags"])
        if (t.is_string())
          di.tags.push_back(t.get<std::string>());
    if (i.contains("Created") && i["Created"].is_number_integer())
      di.created = i["Created"].get<int64_t>();
    m.images.push_back(std::move(di));
  }
  json nets = TRY(get_json(get, s, "/networks", json::value_t::array));
  for (auto &n : nets) {
    DockerNetwork dn;
    dn.id = str_of(n, "Id");
    dn.name = str_of(n, "Name");
    dn.driver = str_of(n, "Driver");
    dn.scope = str_of(n, "Scope");
    dn.internal = n.contains("Internal") && n["Internal"].is_boolean() && n["Internal"].get<bool>();
    if (n.contains("Options") && n["Options"].is_object())
      for (auto &[k, v] : n["Options"].items())
        if (v.is_string())
          dn.options[k] = v.get<std::string>();
    m.networks.push_back(std::move(dn));
  }
  // Services and secrets are a manager's to list; a worker answers 503.
  const json &swarm = m.info.contains("Swarm") ? m.info["Swarm"] : json::object();
  m.swarm_active = str_of(swarm, "LocalNodeState") == "active" &&
                   swarm.contains("ControlAvailable") && swarm["ControlAvailable"].is_boolean() &&
                   swarm["ControlAvailable"].get<bool>();
  if (m.swarm_active) {
    m.services = TRY(get_json(get, s, "/services", json::value_t::array));
    m.secrets = TRY(get_json(get, s, "/secrets", json::value_t::array));
  } else if (std::string state = str_of(swarm, "LocalNodeState");
             state == "active" || state == "locked") {
    // A worker's answer is 503: its words are the evidence. Asked rather
    // than assumed, so that the message is the engine's own.
    auto r = get_json(get, s, "/services", json::value_t::array);
    m.swarm_unlisted =
        r ? "LocalNodeState " + state + ", ControlAvailable false" : r.error().message;
  }
  return Unit{};
}

} // namespace

DockerEngineModel load_docker_engine(const std::string &socket, const DockerGet &get) {
  DockerEngineModel m;
  m.socket = socket;
  auto r = fill(m, get);
  if (!r) {
    m.state = DockerEngineModel::State::error;
    m.error = r.error();
    if (m.error->path.empty())
      m.error->path = socket;
    m.containers.clear();
    m.project = make_engine_project(m);
    return m;
  }
  m.state = DockerEngineModel::State::ok;
  m.project = make_engine_project(m);
  m.swarm = make_swarm_project(m);
  return m;
}

DockerEngineModel DockerEngineModel::load(Context &ctx) {
  std::string socket;
  const auto &opt = ctx.options();
  if (!opt.docker_host.empty()) {
    auto p = live::docker_socket_path(opt.docker_host);
    if (!p) {
      DockerEngineModel m;
      m.state = State::error;
      m.error = p.error();
      m.project = make_engine_project(m);
      return m;
    }
    socket = p.value();
  } else if (ctx.live()) {
    if (!ctx.probes().socket_exists(live::k_default_docker_socket)) {
      DockerEngineModel m;
      m.absent_why = std::string(live::k_default_docker_socket) + " does not exist";
      return m;
    }
    socket = live::k_default_docker_socket;
  } else {
    DockerEngineModel m;
    m.absent_why = "no --live and no --docker";
    return m;
  }
  live::Probes &probes = ctx.probes();
  return load_docker_engine(
      socket, [&](const std::string &target) { return probes.docker_get(socket, target); });
}

// ---- the running containers as a compose project ---------------------------

namespace {

struct DockerEngineBuilder {
  Loc at;
  Value scalar(std::string s) const {
    Value v;
    v.kind = Value::Kind::scalar;
    v.scalar = std::move(s);
    v.loc = at;
    v.key_loc = at;
    return v;
  }
  Value seq() const {
    Value v;
    v.kind = Value::Kind::sequence;
    v.loc = at;
    v.key_loc = at;
    return v;
  }
  Value map() const {
    Value v;
    v.kind = Value::Kind::mapping;
    v.loc = at;
    v.key_loc = at;
    return v;
  }
  void put(Value &m, std::string key, Value v) const {
    v.key_loc = at;
    m.entries.emplace_back(std::move(key), std::move(v));
  }
  Value strings(const json &a) const {
    Value v = seq();
    if (a.is_array())
      for (auto &i : a)
        if (i.is_string())
          v.items.push_back(scalar(i.get<std::string>()));
    return v;
  }
};

bool non_empty_array(const json &j, const char *key) {
  return j.is_object() && j.contains(key) && j[key].is_array() && !j[key].empty();
}

int64_t int_of(const json &j, const char *key) {
  if (!j.is_object() || !j.contains(key) || !j[key].is_number())
    return 0;
  return j[key].get<int64_t>();
}

bool bool_of(const json &j, const char *key) {
  return j.is_object() && j.contains(key) && j[key].is_boolean() && j[key].get<bool>();
}

// The keys a container's Config and a swarm service's ContainerSpec spell
// alike: Env as `environment`, Healthcheck.Test as `healthcheck` (["NONE"]
// as `disable: true`), Ulimits as `ulimits`.
void put_environment_and_healthcheck(const DockerEngineBuilder &b, Value &svc, const json &spec) {
  if (non_empty_array(spec, "Env")) {
    Value env = b.map();
    for (const auto &e : spec["Env"]) {
      if (!e.is_string())
        continue;
      std::string s = e.get<std::string>();
      size_t eq = s.find('=');
      b.put(env, s.substr(0, eq), b.scalar(eq == std::string::npos ? "" : s.substr(eq + 1)));
    }
    b.put(svc, "environment", std::move(env));
  }
  if (!spec.is_object() || !spec.contains("Healthcheck"))
    return;
  if (const json &h = spec["Healthcheck"]; non_empty_array(h, "Test")) {
    Value hv = b.map();
    if (h["Test"][0] == "NONE")
      b.put(hv, "disable", b.scalar("true"));
    else
      b.put(hv, "test", b.strings(h["Test"]));
    b.put(svc, "healthcheck", std::move(hv));
  }
}

void put_ulimits(const DockerEngineBuilder &b, Value &svc, const json &spec) {
  if (!non_empty_array(spec, "Ulimits"))
    return;
  Value u = b.map();
  for (const auto &l : spec["Ulimits"]) {
    Value one = b.map();
    b.put(one, "soft", b.scalar(std::to_string(int_of(l, "Soft"))));
    b.put(one, "hard", b.scalar(std::to_string(int_of(l, "Hard"))));
    b.put(u, str_of(l, "Name"), std::move(one));
  }
  b.put(svc, "ulimits", std::move(u));
}

Value service_of(const DockerContainer &c, const DockerEngineBuilder &b) {
  const json &in = c.inspect;
  const json &cfg =
      in.contains("Config") && in["Config"].is_object() ? in["Config"] : json::object();
  const json &hc =
      in.contains("HostConfig") && in["HostConfig"].is_object() ? in["HostConfig"] : json::object();
  Value svc = b.map();
  b.put(svc, "image", b.scalar(c.image));
  if (std::string u = str_of(cfg, "User"); !u.empty())
    b.put(svc, "user", b.scalar(u));
  // Booleans are always known at run time: false is a value, not absence.
  b.put(svc, "privileged", b.scalar(bool_of(hc, "Privileged") ? "true" : "false"));
  b.put(svc, "read_only", b.scalar(bool_of(hc, "ReadonlyRootfs") ? "true" : "false"));
  if (non_empty_array(hc, "CapAdd"))
    b.put(svc, "cap_add", b.strings(hc["CapAdd"]));
  if (non_empty_array(hc, "CapDrop"))
    b.put(svc, "cap_drop", b.strings(hc["CapDrop"]));
  if (non_empty_array(hc, "SecurityOpt"))
    b.put(svc, "security_opt", b.strings(hc["SecurityOpt"]));
  if (std::string nm = str_of(hc, "NetworkMode"); !nm.empty() && nm != "default")
    b.put(svc, "network_mode", b.scalar(nm));
  for (auto [key, field] : {std::pair{"pid", "PidMode"},
                            {"ipc", "IpcMode"},
                            {"userns_mode", "UsernsMode"},
                            {"cgroup", "CgroupnsMode"}})
    if (std::string v = str_of(hc, field); !v.empty())
      b.put(svc, key, b.scalar(v));
  // Mounts: what the container really has (binds, volumes, tmpfs mounts of
  // --mount), in compose's long syntax.
  if (non_empty_array(in, "Mounts")) {
    Value vols = b.seq();
    for (auto &m : in["Mounts"]) {
      Value v = b.map();
      std::string type = str_of(m, "Type");
      b.put(v, "type", b.scalar(type.empty() ? "volume" : type));
      std::string src = type == "volume" ? str_of(m, "Name") : str_of(m, "Source");
      if (!src.empty())
        b.put(v, "source", b.scalar(src));
      b.put(v, "target", b.scalar(str_of(m, "Destination")));
      bool rw = !m.contains("RW") || bool_of(m, "RW");
      b.put(v, "read_only", b.scalar(rw ? "false" : "true"));
      if (std::string prop = str_of(m, "Propagation"); !prop.empty() && type == "bind") {
        Value bind = b.map();
        b.put(bind, "propagation", b.scalar(prop));
        b.put(v, "bind", std::move(bind));
      }
      vols.items.push_back(std::move(v));
    }
    b.put(svc, "volumes", std::move(vols));
  }
  if (hc.contains("Tmpfs") && hc["Tmpfs"].is_object() && !hc["Tmpfs"].empty()) {
    Value t = b.seq();
    for (auto &[path, opts] : hc["Tmpfs"].items()) {
      std::string o = opts.is_string() ? opts.get<std::string>() : std::string();
      t.items.push_back(b.scalar(o.empty() ? path : path + ":" + o));
    }
    b.put(svc, "tmpfs", std::move(t));
  }
  if (non_empty_array(hc, "Devices")) {
    Value d = b.seq();
    for (auto &dev : hc["Devices"]) {
      std::string s = str_of(dev, "PathOnHost") + ":" + str_of(dev, "PathInContainer");
      if (std::string p = str_of(dev, "CgroupPermissions"); !p.empty())
        s += ":" + p;
      d.items.push_back(b.scalar(s));
    }
    b.put(svc, "devices", std::move(d));
  }
  if (non_empty_array(hc, "DeviceCgroupRules"))
    b.put(svc, "device_cgroup_rules", b.strings(hc["DeviceCgroupRules"]));
  // Published ports: HostConfig.PortBindings is what was asked for and
  // holds for a stopped container too ("5432/tcp": [{HostIp, HostPort}]).
  if (hc.contains("PortBindings") && hc["PortBindings"].is_object()) {
    Value ports = b.seq();
    for (auto &[key, binds] : hc["PortBindings"].items()) {
      std::string target = key.substr(0, key.find('/'));
      std::string proto =
          key.find('/') == std::string::npos ? "tcp" : key.substr(key.find('/') + 1);
      if (!binds.is_array())
        continue;
      for (auto &bd : binds) {
        Value p = b.map();
        b.put(p, "target", b.scalar(target));
        std::string hp = str_of(bd, "HostPort");
        if (!hp.empty())
          b.put(p, "published", b.scalar(hp));
        std::string ip = str_of(bd, "HostIp");
        if (!ip.empty())
          b.put(p, "host_ip", b.scalar(ip));
        b.put(p, "protocol", b.scalar(proto));
        ports.items.push_back(std::move(p));
      }
    }
    if (!ports.items.empty())
      b.put(svc, "ports", std::move(ports));
  }
  put_environment_and_healthcheck(b, svc, cfg);
  if (hc.contains("RestartPolicy") && hc["RestartPolicy"].is_object()) {
    std::string name = str_of(hc["RestartPolicy"], "Name");
    int64_t max = int_of(hc["RestartPolicy"], "MaximumRetryCount");
    if (!name.empty())
      b.put(svc, "restart",
            b.scalar(name == "on-failure" && max > 0 ? name + ":" + std::to_string(max) : name));
  }
  if (int64_t mem = int_of(hc, "Memory"); mem > 0)
    b.put(svc, "mem_limit", b.scalar(std::to_string(mem)));
  double cpus = static_cast<double>(int_of(hc, "NanoCpus")) / 1e9;
  if (cpus <= 0 && int_of(hc, "CpuQuota") > 0 && int_of(hc, "CpuPeriod") > 0)
    cpus =
        static_cast<double>(int_of(hc, "CpuQuota")) / static_cast<double>(int_of(hc, "CpuPeriod"));
  if (cpus > 0) {
    char buf[32];
    std::snprintf(buf, sizeof buf, "%g", cpus);
    b.put(svc, "cpus", b.scalar(buf));
  }
  if (int64_t pids = int_of(hc, "PidsLimit"); pids > 0)
    b.put(svc, "pids_limit", b.scalar(std::to_string(pids)));
  put_ulimits(b, svc, hc);
  if (!c.labels.empty()) {
    Value l = b.map();
    for (auto &[k, v] : c.labels)
      b.put(l, k, b.scalar(v));
    b.put(svc, "labels", std::move(l));
  }
  return svc;
}

} // namespace

compose::Project make_engine_project(const DockerEngineModel &m) {
  compose::Project p;
  p.name = k_engine_project;
  p.root.kind = Value::Kind::mapping;
  if (m.state == DockerEngineModel::State::error) {
    std::string path = m.error && !m.error->path.empty() ? m.error->path : m.socket;
    p.files.push_back(path);
    p.main_files = 1;
    p.diagnostics.push_back({compose::Diagnostic::Level::error,
                             "the Docker engine could not be read: " +
                                 (m.error ? m.error->message : std::string("unknown error")),
                             SourceLocation{path, 0}});
    return p;
  }
  Value services;
  services.kind = Value::Kind::mapping;
  for (auto &c : m.containers) {
    DockerEngineBuilder b{Loc{static_cast<int>(p.files.size()), 0}};
    p.files.push_back(DockerEngineModel::evidence_path(c.name));
    Value svc = service_of(c, b);
    svc.key_loc = b.at;
    services.entries.emplace_back(c.name, std::move(svc));
  }
  p.main_files = p.files.size();
  p.root.entries.emplace_back("services", std::move(services));
  return p;
}

// ---- the swarm's services as a compose project ------------------------------

namespace {

std::string decimal(int64_t v) {
  return std::to_string(v);
}

const json &member(const json &j, const char *key) {
  static const json k_null;
  if (!j.is_object())
    return k_null;
  auto it = j.find(key);
  return it == j.end() ? k_null : *it;
}

// ContainerSpec.Privileges in security_opt's spellings (docker/cli
// service/opts: --security-opt is not a service flag; the Engine API's
// Privileges.Seccomp/AppArmor (API 1.44+), SELinuxContext and
// NoNewPrivileges (API 1.46+) are what a stack's security_opt becomes).
Value privileges_of(const json &cs, const DockerEngineBuilder &b) {
  Value out = b.seq();
  const json &pr = member(cs, "Privileges");
  if (std::string mode = text::lower(str_of(member(pr, "Seccomp"), "Mode")); mode == "unconfined")
    out.items.push_back(b.scalar("seccomp=unconfined"));
  if (std::string mode = text::lower(str_of(member(pr, "AppArmor"), "Mode")); mode == "disabled")
    out.items.push_back(b.scalar("apparmor=unconfined"));
  if (bool_of(member(pr, "SELinuxContext"), "Disable"))
    out.items.push_back(b.scalar("label=disable"));
  if (bool_of(pr, "NoNewPrivileges"))
    out.items.push_back(b.scalar("no-new-privileges:true"));
  return out;
}

Value swarm_service_of(const json &spec, const std::map<std::string, std::string> &net_names,
                       const DockerEngineBuilder &b) {
  const json &tt = member(spec, "TaskTemplate");
  const json &cs = member(tt, "ContainerSpec");
  Value svc = b.map();
  b.put(svc, "image", b.scalar(str_of(cs, "Image")));
  if (std::string u = str_of(cs, "User"); !u.empty())
    b.put(svc, "user", b.scalar(u));
  // The service API has no privileged mode.
  b.put(svc, "privileged", b.scalar("false"));
  b.put(svc, "read_only", b.scalar(bool_of(cs, "ReadOnly") ? "true" : "false"));
  if (non_empty_array(cs, "CapabilityAdd"))
    b.put(svc, "cap_add", b.strings(cs["CapabilityAdd"]));
  if (non_empty_array(cs, "CapabilityDrop"))
    b.put(svc, "cap_drop", b.strings(cs["CapabilityDrop"]));
  if (Value so = privileges_of(cs, b); !so.items.empty())
    b.put(svc, "security_opt", std::move(so));
  if (non_empty_array(cs, "Mounts")) {
    Value vols = b.seq();
    for (auto &mt : cs["Mounts"]) {
      Value v = b.map();
      std::string type = str_of(mt, "Type");
      b.put(v, "type", b.scalar(type.empty() ? "volume" : type));
      if (std::string src = str_of(mt, "Source"); !src.empty())
        b.put(v, "source", b.scalar(src));
      b.put(v, "target", b.scalar(str_of(mt, "Target")));
      b.put(v, "read_only", b.scalar(bool_of(mt, "ReadOnly") ? "true" : "false"));
      if (std::string prop = str_of(member(mt, "BindOptions"), "Propagation"); !prop.empty()) {
        Value bind = b.map();
        b.put(bind, "propagation", b.scalar(prop));
        b.put(v, "bind", std::move(bind));
      }
      vols.items.push_back(std::move(v));
    }
    b.put(svc, "volumes", std::move(vols));
  }
  const json &ep = member(spec, "EndpointSpec");
  if (non_empty_array(ep, "Ports")) {
    Value ports = b.seq();
    for (auto &pt : ep["Ports"]) {
      Value v = b.map();
      b.put(v, "target", b.scalar(decimal(int_of(pt, "TargetPort"))));
      if (int64_t pub = int_of(pt, "PublishedPort"); pub > 0)
        b.put(v, "published", b.scalar(decimal(pub)));
      std::string proto = str_of(pt, "Protocol");
      b.put(v, "protocol", b.scalar(proto.empty() ? "tcp" : proto));
      std::string mode = str_of(pt, "PublishMode");
      b.put(v, "mode", b.scalar(mode.empty() ? "ingress" : mode));
      ports.items.push_back(std::move(v));
    }
    b.put(svc, "ports", std::move(ports));
  }
  put_environment_and_healthcheck(b, svc, cs);
  for (auto [key, field] : {std::pair{"secrets", "Secrets"}, {"configs", "Configs"}})
    if (non_empty_array(cs, field)) {
      Value list = b.seq();
      for (auto &sc : cs[field]) {
        Value v = b.map();
        b.put(v, "source",
              b.scalar(str_of(sc, field == std::string("Secrets") ? "SecretName" : "ConfigName")));
        if (std::string t = str_of(member(sc, "File"), "Name"); !t.empty())
          b.put(v, "target", b.scalar(t));
        list.items.push_back(std::move(v));
      }
      b.put(svc, key, std::move(list));
    }
  if (non_empty_array(tt, "Networks")) {
    Value nets = b.map();
    bool host = false;
    for (auto &n : tt["Networks"]) {
      std::string target = str_of(n, "Target");
      auto it = net_names.find(target);
      std::string name = it == net_names.end() ? target : it->second;
      if (name == "host")
        host = true;
      else
        b.put(nets, name, b.map());
    }
    if (host)
      b.put(svc, "network_mode", b.scalar("host"));
    else if (!nets.entries.empty())
      b.put(svc, "networks", std::move(nets));
  }
  if (const json &sc = member(cs, "Sysctls"); sc.is_object() && !sc.empty()) {
    Value v = b.map();
    for (auto &[k, val] : sc.items())
      if (val.is_string())
        b.put(v, k, b.scalar(val.get<std::string>()));
    b.put(svc, "sysctls", std::move(v));
  }
  put_ulimits(b, svc, cs);
  auto labels = [&](const json &l) {
    Value v = b.map();
    if (l.is_object())
      for (auto &[k, val] : l.items())
        if (val.is_string())
          b.put(v, k, b.scalar(val.get<std::string>()));
    return v;
  };
  if (Value l = labels(member(cs, "Labels")); !l.entries.empty())
    b.put(svc, "labels", std::move(l));
  Value deploy = b.map();
  const json &mode = member(spec, "Mode");
  if (mode.contains("Global")) {
    b.put(deploy, "mode", b.scalar("global"));
  } else if (mode.contains("Replicated")) {
    b.put(deploy, "mode", b.scalar("replicated"));
    b.put(deploy, "replicas", b.scalar(decimal(int_of(mode["Replicated"], "Replicas"))));
  }
  if (Value l = labels(member(spec, "Labels")); !l.entries.empty())
    b.put(deploy, "labels", std::move(l));
  // The engine fills RestartPolicy in (condition any, MaxAttempts 0:
  // unlimited); 0 is no max_attempts, as in a stack file without one.
  if (const json &rp = member(tt, "RestartPolicy"); rp.is_object()) {
    Value v = b.map();
    if (std::string c = str_of(rp, "Condition"); !c.empty())
      b.put(v, "condition", b.scalar(c));
    if (int64_t ma = int_of(rp, "MaxAttempts"); ma > 0)
      b.put(v, "max_attempts", b.scalar(decimal(ma)));
    b.put(deploy, "restart_policy", std::move(v));
  }
  if (const json &lim = member(member(tt, "Resources"), "Limits"); lim.is_object()) {
    Value v = b.map();
    if (int64_t mem = int_of(lim, "MemoryBytes"); mem > 0)
      b.put(v, "memory", b.scalar(decimal(mem)));
    if (int64_t nano = int_of(lim, "NanoCPUs"); nano > 0) {
      char buf[32];
      std::snprintf(buf, sizeof buf, "%g", static_cast<double>(nano) / 1e9);
      b.put(v, "cpus", b.scalar(buf));
    }
    if (int64_t pids = int_of(lim, "Pids"); pids > 0)
      b.put(v, "pids", b.scalar(decimal(pids)));
    if (!v.entries.empty()) {
      Value res = b.map();
      b.put(res, "limits", std::move(v));
      b.put(deploy, "resources", std::move(res));
    }
  }
  for (auto [key, field] :
       {std::pair{"update_config", "UpdateConfig"}, {"rollback_config", "RollbackConfig"}})
    if (const json &uc = member(spec, field); uc.is_object()) {
      Value v = b.map();
      if (std::string fa = str_of(uc, "FailureAction"); !fa.empty())
        b.put(v, "failure_action", b.scalar(fa));
      if (std::string o = str_of(uc, "Order"); !o.empty())
        b.put(v, "order", b.scalar(o));
      b.put(deploy, key, std::move(v));
    }
  b.put(svc, "deploy", std::move(deploy));
  return svc;
}

} // namespace

compose::Project make_swarm_project(const DockerEngineModel &m) {
  compose::Project p;
  p.name = k_swarm_project;
  p.root.kind = Value::Kind::mapping;
  if (m.state != DockerEngineModel::State::ok || !m.swarm_active)
    return p;
  // Services name their networks by id (Spec.TaskTemplate.Networks[].Target;
  // a name where the client sent one).
  std::map<std::string, std::string> net_names;
  for (auto &n : m.networks)
    net_names[n.id] = n.name;
  Value nets = DockerEngineBuilder{Loc{0, 0}}.map();
  {
    DockerEngineBuilder b{Loc{static_cast<int>(p.files.size()), 0}};
    p.files.push_back("docker:/networks");
    for (auto &n : m.networks) {
      if (n.scope != "swarm")
        continue;
      Value v = b.map();
      b.put(v, "driver", b.scalar(n.driver));
      b.put(v, "internal", b.scalar(n.internal ? "true" : "false"));
      if (n.name == "ingress" || n.options.count("com.docker.network.ingress") ||
          n.options.count("ingress"))
        b.put(v, "ingress", b.scalar("true"));
      if (!n.options.empty()) {
        Value o = b.map();
        for (auto &[k, val] : n.options)
          b.put(o, k, b.scalar(k == "encrypted" && val.empty() ? "true" : val));
        b.put(v, "driver_opts", std::move(o));
      }
      b.put(nets, n.name, std::move(v));
    }
  }
  Value secrets = DockerEngineBuilder{Loc{0, 0}}.map();
  {
    DockerEngineBuilder b{Loc{static_cast<int>(p.files.size()), 0}};
    p.files.push_back("docker:/secrets");
    for (auto &s : m.secrets) {
      std::string name = str_of(member(s, "Spec"), "Name");
      if (name.empty())
        continue;
      Value v = b.map();
      b.put(v, "external", b.scalar("true"));
      b.put(secrets, name, std::move(v));
    }
  }
  Value services;
  services.kind = Value::Kind::mapping;
  for (auto &s : m.services) {
    const json &spec = member(s, "Spec");
    std::string name = str_of(spec, "Name");
    if (name.empty())
      name = str_of(s, "ID");
    DockerEngineBuilder b{Loc{static_cast<int>(p.files.size()), 0}};
    p.files.push_back(DockerEngineModel::service_evidence_path(name));
    Value svc = swarm_service_of(spec, net_names, b);
    svc.key_loc = b.at;
    services.entries.emplace_back(name, std::move(svc));
  }
  p.main_files = p.files.size();
  p.root.entries.emplace_back("services", std::move(services));
  if (!nets.entries.empty())
    p.root.entries.emplace_back("networks", std::move(nets));
  if (!secrets.entries.empty())
    p.root.entries.emplace_back("secrets", std::move(secrets));
  return p;
}

} // namespace bulwark
