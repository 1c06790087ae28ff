// libFuzzer: the servers a compose project runs, configured from their
// environment (compose_services.hpp): the input is the env_file: of services
// running the official postgres, redis and valkey images and Bitnami's
// postgresql and redis (POSTGRESQL_*, REDIS_*, ALLOW_EMPTY_PASSWORD,
// REDIS_EXTRA_FLAGS, POSTGRES_HOST_AUTH_METHOD, ...), and the project's .env,
// so that `command:` interpolates from it too. No file is mounted: whatever
// a service names must become a problem with a location, never a crash.

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_services.hpp>
#include <bulwark/parse/dotenv.hpp>

#include <cerrno>
#include <cstdlib>
#include <string>

namespace {

const char *k_compose = R"(services:
  bpg:
    image: bitnami/postgresql:16
    env_file: ./app.env
  bredis:
    image: bitnami/redis:7.2
    env_file: ./app.env
  pg:
    image: postgres:16-alpine
    env_file: ./app.env
    command: ${PG_CMD:-postgres}
  redis:
    image: redis:7
    env_file: ./app.env
    command: ${REDIS_CMD:-redis-server}
  valkey:
    image: valkey/valkey:8
    env_file: [./app.env]
    environment:
      VALKEY_EXTRA_FLAGS: ${VALKEY_FLAGS:-}
)";

// An empty directory as the target root: nothing the services name exists.
const bulwark::RootFs &empty_root() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/bulwark-fuzz-env-XXXXXX";
    const char *d = ::mkdtemp(tmpl);
    return std::string(d ? d : "/nonexistent");
  }();
  static const bulwark::RootFs fs(dir);
  return fs;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  bulwark::compose::Reader r;
  r.read = [&](const std::string &p, size_t) -> bulwark::Result<std::string> {
    if (p == "/srv/app/compose.yaml")
      return std::string(k_compose);
    if (p == "/srv/app/.env" || p == "/srv/app/app.env")
      return text;
    return bulwark::Error{"absent", p, 0, ENOENT};
  };
  r.is_file = [](const std::string &p) {
    return p == "/srv/app/compose.yaml" || p == "/srv/app/.env" || p == "/srv/app/app.env";
  };
  bulwark::compose::LoadOptions o;
  o.use_process_environment = false;
  auto p = bulwark::compose::load_project(r, {"/srv/app/compose.yaml"}, o);
  if (!p.valid())
    return 0; // a .env Compose would refuse (an interpolation error): the loader's fuzzer
  bulwark::compose::EnvFiles env;
  env.emplace("/srv/app/app.env", bulwark::dotenv::parse_dotenv_text("/srv/app/app.env", text));
  auto s = bulwark::compose::derive_services(p, env, empty_root());
  for (auto &x : s.postgres) {
    (void)x.conf.effective.size();
    (void)x.hba.rules.size();
    for (auto &d : x.problems)
      if (d.loc.path.empty())
        __builtin_trap();
  }
  for (auto &x : s.redis) {
    (void)x.cfg.directives.size();
    for (auto &d : x.problems)
      if (d.loc.path.empty())
        __builtin_trap();
  }
  return 0;
}
