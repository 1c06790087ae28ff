#pragma once
// The PostgreSQL, Redis and nginx servers a compose project runs, with the
// configuration each container starts with, so that the postgres.*,
// redis.* and tls.* checks judge them as they judge the host's own daemons (subject
// "<project>/<service>").
//
// A service is judged only when it runs an image we know rather than one it
// builds (`build:`): recognise_image knows the official postgres, redis and
// nginx images, valkey/valkey, nginxinc/nginx-unprivileged and Bitnami's
// postgresql and redis; data/compose/service-images.yaml lists them with the
// sources of every default relied on. Its configuration is built in the order the
// container builds it:
//   1. the image's defaults (the official redis image runs with
//      protected-mode no; the official postgres image's postgresql.conf has
//      listen_addresses = '*' and its entrypoint writes pg_hba.conf from
//      initdb's rules plus `host all all all $POSTGRES_HOST_AUTH_METHOD`),
//   2. the environment (`environment:` and `env_file:` files; the compose
//      line, or the env file's line, is the evidence),
//   3. a configuration file the command names, read through RootFs from the
//      host file bind-mounted at that path (evidence: the mounted file's
//      line),
//   4. the command line (`command:` after the image's entrypoint: redis-
//      server's `--name value` options, postgres's `-c name=value`,
//      `--name=value`, -p, -h, -i, -l, -N), which wins over the file.
// What cannot be derived (a shell pipeline as the command, a replaced
// entrypoint, a named configuration file no bind mount provides, a mounted
// file that cannot be read) is an error diagnostic with the compose line:
// the checks report `error`, never a pass on a guess.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/dotenv.hpp>
#include <bulwark/parse/nginx.hpp>
#include <bulwark/parse/pg_hba.hpp>
#include <bulwark/parse/postgresql_conf.hpp>
#include <bulwark/parse/redis_conf.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::compose {

enum class ServiceKind { postgres, redis, nginx };

struct ImageKind {
  ServiceKind kind = ServiceKind::redis;
  bool bitnami = false;      // bitnami/postgresql, bitnami/redis
  bool valkey = false;       // valkey/valkey (redis-compatible, valkey-server)
  bool unprivileged = false; // nginxinc/nginx-unprivileged
  int major = 0;             // from the tag ("16-alpine" -> 16); 0 when the tag does not say
  int minor = -1;            // "1.21-alpine" -> 21; -1 when the tag does not say
};
// The kind of server an image runs, from its reference ([registry/]name[:tag]
// [@digest]); nullopt for an image we do not know: nothing is judged then.
std::optional<ImageKind> recognise_image(std::string_view image);

// An image reference split as Docker reads it: the digest dropped, the tag
// (after a ':' that follows the last '/'; "" when none), and the name with a
// registry host removed (a first component holding '.' or ':', or
// "localhost"). "ghcr.io/wg-easy/wg-easy:15@sha256:..." -> {"wg-easy/wg-easy",
// "15"}. The name keeps its case and a "library/" prefix.
struct ImageRef {
  std::string name;
  std::string_view tag; // a view into the argument
};
ImageRef split_image_ref(std::string_view image);

// The number a string starts with ("16-alpine" -> 16), 0 when it starts
// with no digit; stops growing past 100,000.
int leading_int(std::string_view s);

// Splits a command given as one string as compose does (go-shellwords: blanks
// separate, single and double quotes group, backslash escapes); nullopt for
// an unterminated quote.
std::optional<std::vector<std::string>> shell_split(std::string_view s);

// The host file a container sees at `container_path`: the bind mount whose
// target is that path or a directory above it. nullopt when no bind mount
// covers it (the file is the image's own, or a named volume's).
struct MountedFile {
  std::string host_path; // resolved against the project directory
  Loc loc;               // the volumes: item
};
std::optional<MountedFile> mounted_file(const Project &p, const Value &service,
                                        std::string_view container_path);

// A variable of the container's environment: the last env_file assignment,
// then `environment:` over it (compose's order).
struct EnvValue {
  std::string value;
  SourceLocation loc;
};
using EnvFiles = std::map<std::string, dotenv::DotenvFile>; // by resolved path
std::map<std::string, EnvValue> service_environment(const Project &p, const Value &service,
                                                    const EnvFiles &env_files);

// Who can reach the server's port from outside its container.
struct Reach {
  bool host_network = false; // network_mode: host: the container's addresses are the host's
  SourceLocation network_mode;
  std::vector<Port> published;              // ports: items whose target is the server's port
  std::vector<SourceLocation> published_at; // parallel: each item's line
  int port = 0;                             // the server's port inside the container
};

// Who reaches TCP `port` of the service's container: network_mode: host
// and the ports: items that publish it.
Reach service_reach(const Project &p, const Value &service, int port);

// Indices of r.published bound on every host interface (no host_ip,
// 0.0.0.0, ::) or on an address that is not loopback or private.
std::vector<size_t> public_ports(const Reach &r);

struct RedisService {
  std::string subject; // "<project>/<service>"
  ImageKind image;
  SourceLocation image_loc;
  redis::RedisConfig cfg;
  // The default user's password comes from a file or secret: it exists, its
  // strength cannot be judged offline.
  std::optional<SourceLocation> password_from_file;
  Reach reach;
  std::vector<Diagnostic> problems; // what could not be derived (error level)
};

struct PgService {
  std::string subject;
  ImageKind image;
  SourceLocation image_loc;
  std::string conf_path; // the mounted postgresql.conf, or the compose file
  pg::Config conf;       // file settings, then the image's, then the command line's
  std::string hba_path;  // the mounted pg_hba.conf, or the compose file (generated rules)
  pg::HbaFile hba;
  int major = 0;
  Reach reach;
  std::vector<Diagnostic> problems;
};

// An nginx (the official image or nginxinc/nginx-unprivileged): the
// configuration the container reads, from the image's files
// (data/compose/service-images.yaml) under the bind mounts of the service.
struct NginxService {
  std::string subject; // "<project>/<service>"
  ImageKind image;
  SourceLocation image_loc;
  nginx::ContainerView view; // to find the files the configuration names
  ConfTree tree;
  // Every server, each endpoint's `service` set to `subject`; ssl_protocols'
  // default follows the image's nginx version.
  std::vector<TlsEndpoint> endpoints;
  std::vector<Diagnostic> problems; // what could not be derived (error level)
  // The bind mounts' host paths are the user's own files (a --compose
  // project outside the target root), not the target's.
  bool files_on_host = false;
};

struct Services {
  std::vector<RedisService> redis;
  std::vector<PgService> postgres;
  std::vector<NginxService> nginx;
};

// The servers of one loaded project. `fs` reads the mounted files: the
// target's root for the target's projects, the host for --compose files
// outside it. REQUIRES: p.valid().
Services derive_services(const Project &p, const EnvFiles &env_files, const RootFs &fs);

} // namespace bulwark::compose
