#pragma once
// The running Docker engine as the checks see it (issue 15): what the Engine
// API answers on its unix socket (live/docker.hpp, through Context::probes()),
// read once per run.
//
// Which engine: `--docker unix:///path` (with or without --live), else under
// --live /var/run/docker.sock when that socket exists; otherwise the model is
// `absent` and the checks judge compose files only. Fail closed: an engine
// that was asked for and cannot be read (no connection, a timeout, an HTTP
// error, a body that is not the JSON the API documents) is `error`, and every
// check that would judge running containers reports that error.
//
// Endpoints (Engine API v1.41, unversioned paths: the daemon's own version):
// GET /info, /containers/json?all=1, /containers/{id}/json for each,
// /images/json, /networks, and with swarm active (Info.Swarm.LocalNodeState
// "active" on a manager) /services and /secrets.

#include <bulwark/core/result.hpp>
#include <bulwark/parse/compose.hpp>

#include <nlohmann/json.hpp>

#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

class Context;

// nlohmann::json members: the implicit special members are not noexcept.
struct DockerContainer { // NOLINT(bugprone-exception-escape)
  std::string id;
  std::string name;  // without the leading '/'
  std::string image; // Config.Image, as the container was created with it
  std::string image_id;
  std::string state; // running, created, exited, ...
  std::map<std::string, std::string> labels;
  nlohmann::json inspect; // the whole /containers/{id}/json
  // com.docker.compose.project / .service, "" when not a compose container.
  std::string compose_project() const;
  std::string compose_service() const;
};

struct DockerImage {
  std::string id;
  std::vector<std::string> tags;
  int64_t created = 0; // seconds since the epoch
};

struct DockerNetwork {
  std::string id, name, driver, scope;
  bool internal = false;
  std::map<std::string, std::string> options;
};

struct DockerEngineModel {
  static constexpr std::string_view k_name = "docker-engine";
  static DockerEngineModel load(Context &ctx);

  enum class State { absent, ok, error };
  State state = State::absent;
  std::string socket;     // the socket read (or that could not be)
  std::string absent_why; // absent: why no engine was read
  std::optional<Error> error;
  nlohmann::json info = nlohmann::json::object();
  std::vector<DockerContainer> containers;
  std::vector<DockerImage> images;
  std::vector<DockerNetwork> networks;
  bool swarm_active = false;
  // In a swarm (LocalNodeState active or locked) without its services: a
  // worker (the Engine API answers GET /services with 503 "This node is not
  // a swarm manager") or a locked manager. What the engine said; "" when
  // not in a swarm or when the services were listed.
  std::string swarm_unlisted;
  nlohmann::json services = nlohmann::json::array(); // GET /services (swarm managers)
  nlohmann::json secrets = nlohmann::json::array();  // GET /secrets: metadata, never data
  compose::Project project; // the containers as a compose project (engine_project())
  // The swarm's services as a compose project (swarm_project()); empty (no
  // services, no diagnostics) when swarm is not active on a manager.
  compose::Project swarm;

  const DockerImage *image(const std::string &id) const;
  // "docker:/containers/NAME/json": the evidence path of a container's fields.
  static std::string evidence_path(const std::string &container);
  // "docker:/services/NAME": the evidence path of a swarm service's spec.
  static std::string service_evidence_path(const std::string &service);
};

// Builds the model from the answers of `get` (the probe, or a test's fake).
// REQUIRES: `get` may be called from several threads at once (the
// per-container inspects run eight at a time; Probes::docker_get opens one
// connection per call: the host's probes allow it).
using DockerGet = std::function<Result<std::string>(const std::string &target)>;
DockerEngineModel load_docker_engine(const std::string &socket, const DockerGet &get);

// The running containers as one compose project named k_engine_project, each
// container a service named after it, its inspect data in compose's keys
// (user, privileged, cap_add, cap_drop, read_only, security_opt, volumes in
// long syntax from Mounts, ports in long syntax from HostConfig.PortBindings,
// tmpfs, devices, network_mode, pid, ipc, userns_mode, environment, image,
// healthcheck, restart, mem_limit, cpus, pids_limit, ulimits, labels). Every
// value's file is the container's evidence_path, line 0. An engine in error
// gives a project whose one diagnostic is that error.
inline constexpr const char *k_engine_project = "docker engine";
compose::Project make_engine_project(const DockerEngineModel &m);
// The model's own, built once by load_docker_engine().
inline const compose::Project &engine_project(const DockerEngineModel &m) {
  return m.project;
}

// The swarm services (GET /services) as one compose project named
// k_swarm_project, each service under its Spec.Name, its spec in the keys a
// stack file would use: image, user, read_only, cap_add, cap_drop,
// security_opt (from ContainerSpec.Privileges: seccomp/apparmor modes,
// SELinux disable, NoNewPrivileges), volumes (Mounts, long syntax), tmpfs
// mounts among them, ports (EndpointSpec.Ports, long syntax with mode:
// swarm publishes on every interface, so no host_ip), environment,
// healthcheck, secrets, configs, networks (a mapping by name; the host network as
// network_mode: host), sysctls, ulimits, labels (ContainerSpec.Labels) and
// deploy: {mode, replicas, labels, restart_policy, resources.limits,
// update_config, rollback_config}. privileged is "false": a swarm service
// cannot be privileged. The top-level networks: are the swarm-scoped
// networks (driver, internal, ingress, driver_opts) and
// secrets: the swarm's secrets (external: true). Every value's file is the
// service's service_evidence_path (networks and secrets:
// "docker:/networks" and "docker:/secrets"), line 0. Not active, or the
// engine in error: an empty project (the error is the engine project's).
inline constexpr const char *k_swarm_project = "docker swarm";
compose::Project make_swarm_project(const DockerEngineModel &m);
inline const compose::Project &swarm_project(const DockerEngineModel &m) {
  return m.swarm;
}

class CheckRun;
// The compose projects the container checks audit (container.cpp's model),
// for container.runtime-drift.
const std::vector<compose::Project> &audited_compose_projects(CheckRun &run);
// The audited projects a `docker stack deploy ... STACK` of the target
// deploys, by STACK (its services' com.docker.stack.namespace).
std::map<std::string, const compose::Project *> audited_stack_projects(CheckRun &run);

} // namespace bulwark
