// compose_services: which images are servers, and the configuration each
// container starts with (image defaults, environment, command, mounted
// files), with the compose line or the mounted file's line as evidence.

#include "../support.hpp"

#include <bulwark/core/text.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_services.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using namespace bulwark::compose;

namespace {

Services derive_in(const test::TempRoot &r, const std::string &compose) {
  r.write("/srv/app/compose.yaml", compose);
  RootFs fs(r.path());
  LoadOptions lo;
  lo.use_process_environment = false;
  Project p = load_project(root_reader(fs), {"/srv/app/compose.yaml"}, lo);
  EXPECT_TRUE(p.valid()) << (p.diagnostics.empty() ? "" : p.diagnostics.front().message);
  EnvFiles env;
  for (const char *f : {"/srv/app/redis.env"})
    if (auto d = dotenv::parse_dotenv(fs, f))
      env.emplace(f, *d);
  return derive_services(p, env, fs);
}

} // namespace

TEST(ComposeServices, RecognisesOnlyTheImagesItKnows) {
  EXPECT_EQ(recognise_image("postgres:16-alpine")->kind, ServiceKind::postgres);
  EXPECT_EQ(recognise_image("postgres:16-alpine")->major, 16);
  EXPECT_EQ(recognise_image("docker.io/library/redis:7.2@sha256:abc")->kind, ServiceKind::redis);
  EXPECT_EQ(recognise_image("localhost:5000/redis")->kind, ServiceKind::redis);
  EXPECT_TRUE(recognise_image("bitnami/redis:7.2")->bitnami);
  EXPECT_EQ(recognise_image("postgres")->major, 0);
  EXPECT_EQ(recognise_image("nginx:1.21.6-alpine")->kind, ServiceKind::nginx);
  EXPECT_EQ(recognise_image("nginx:1.21.6-alpine")->minor, 21);
  EXPECT_EQ(recognise_image("nginx:stable")->minor, -1);
  EXPECT_TRUE(recognise_image("nginxinc/nginx-unprivileged:1.27")->unprivileged);
  EXPECT_TRUE(recognise_image("valkey/valkey:8.1")->valkey);
  EXPECT_EQ(recognise_image("valkey/valkey:8.1")->kind, ServiceKind::redis);
  EXPECT_TRUE(recognise_image("docker.io/bitnami/postgresql:16")->bitnami);
  EXPECT_EQ(recognise_image("docker.io/bitnami/postgresql:16")->kind, ServiceKind::postgres);
  for (const char *other : {"bitnami/nginx:1.25", "redis/redis-stack-server", "myorg/postgres:16",
                            "postgres-exporter", "rediscommander/redis-commander", ""})
    EXPECT_FALSE(recognise_image(other)) << other;
}

TEST(ComposeServices, ShellSplitQuotesAndEscapes) {
  auto words = shell_split("redis-server --requirepass 'a b' \"c\\\"d\" e\\ f");
  ASSERT_TRUE(words);
  EXPECT_EQ(text::join(*words, "|"), "redis-server|--requirepass|a b|c\"d|e f");
  EXPECT_FALSE(shell_split("redis-server 'open"));
}

TEST(ComposeServices, RedisCommandOptionsWinOverTheMountedFileAndTheImageDefault) {
  test::TempRoot r;
  r.write("/srv/app/conf/redis.conf", "protected-mode yes\nrequirepass from-file\n");
  auto s = derive_in(r, "services:\n"
                        "  cache:\n"
                        "    image: redis:7\n"
                        "    command: [\"redis-server\", \"/usr/local/etc/redis/redis.conf\",\n"
                        "              \"--protected-mode\", \"no\"]\n"
                        "    volumes:\n"
                        "      - ./conf:/usr/local/etc/redis:ro\n");
  ASSERT_EQ(s.redis.size(), 1u);
  const RedisService &c = s.redis[0];
  EXPECT_EQ(c.subject, "app/cache");
  EXPECT_TRUE(c.problems.empty());
  const redis::Directive *pm = c.cfg.get("protected-mode");
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->args[0], "no");
  EXPECT_EQ(pm->loc.path, "/srv/app/compose.yaml");
  EXPECT_EQ(pm->loc.line, 5);
  const redis::Directive *rp = c.cfg.get("requirepass");
  ASSERT_TRUE(rp);
  EXPECT_EQ(rp->loc.path, "/srv/app/conf/redis.conf");
  EXPECT_EQ(rp->loc.line, 2);
}

TEST(ComposeServices, RedisImageDefaultIsProtectedModeNoOnTheImageLine) {
  test::TempRoot r;
  auto s = derive_in(r, "services:\n  cache:\n    image: redis:7-alpine\n");
  ASSERT_EQ(s.redis.size(), 1u);
  const redis::Directive *pm = s.redis[0].cfg.get("protected-mode");
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->args[0], "no");
  EXPECT_EQ(pm->loc.line, 3);
  ASSERT_FALSE(s.redis[0].cfg.users.empty());
  EXPECT_TRUE(s.redis[0].cfg.users[0].nopass);
}

TEST(ComposeServices, ShellCommandTakesVariablesFromTheContainerEnvironment) {
  test::TempRoot r;
  r.write("/srv/app/redis.env", "REDIS_PASSWORD=Zq8vN3rT6yLw1pXc5mBd9sKe2hGf7aJu\n");
  auto s = derive_in(r, "services:\n"
                        "  cache:\n"
                        "    image: redis:7\n"
                        "    env_file: redis.env\n"
                        "    command: [\"sh\", \"-c\", \"exec redis-server --requirepass "
                        "\\\"$${REDIS_PASSWORD:?not set}\\\"\"]\n"
                        "  piped:\n"
                        "    image: redis:7\n"
                        "    command: sh -c \"redis-server; echo done\"\n"
                        "  cli:\n"
                        "    image: redis:7\n"
                        "    command: redis-cli -h cache ping\n");
  ASSERT_EQ(s.redis.size(), 2u); // redis-cli is not a server
  const RedisService &c = s.redis[0];
  EXPECT_TRUE(c.problems.empty()) << c.problems.front().message;
  const redis::Directive *rp = c.cfg.get("requirepass");
  ASSERT_TRUE(rp);
  EXPECT_EQ(rp->args[0], "Zq8vN3rT6yLw1pXc5mBd9sKe2hGf7aJu");
  ASSERT_EQ(s.redis[1].problems.size(), 1u);
  EXPECT_NE(s.redis[1].problems[0].message.find("more than one simple command"), std::string::npos);
  EXPECT_EQ(s.redis[1].problems[0].loc.line, 8);
}

TEST(ComposeServices, UnmountedConfigurationFileIsAProblemOnTheCommandLine) {
  test::TempRoot r;
  auto s = derive_in(r, "services:\n"
                        "  cache:\n"
                        "    image: redis:7\n"
                        "    command: redis-server /etc/redis.conf\n");
  ASSERT_EQ(s.redis.size(), 1u);
  ASSERT_EQ(s.redis[0].problems.size(), 1u);
  EXPECT_EQ(s.redis[0].problems[0].loc.line, 4);
}

TEST(ComposeServices, BitnamiRedisFromItsEnvironment) {
  test::TempRoot r;
  auto s = derive_in(r, "services:\n"
                        "  cache:\n"
                        "    image: bitnami/redis:7.2\n"
                        "    environment:\n"
                        "      - ALLOW_EMPTY_PASSWORD=yes\n"
                        "      - REDIS_DISABLE_COMMANDS=FLUSHDB,FLUSHALL\n"
                        "  strict:\n"
                        "    image: bitnami/redis:7.2\n"
                        "    environment:\n"
                        "      REDIS_PASSWORD_FILE: /run/secrets/redis\n");
  ASSERT_EQ(s.redis.size(), 2u);
  const redis::Directive *pm = s.redis[0].cfg.get("protected-mode");
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->args[0], "no");
  EXPECT_EQ(pm->loc.line, 5);
  EXPECT_EQ(s.redis[0].cfg.renamed.count("flushdb"), 1u);
  EXPECT_EQ(s.redis[0].cfg.get("bind")->args, (std::vector<std::string>{"0.0.0.0", "::"}));
  ASSERT_FALSE(s.redis[1].cfg.users.empty());
  EXPECT_FALSE(s.redis[1].cfg.users[0].nopass);
  EXPECT_EQ(s.redis[1].cfg.users[0].hashes, 1);
  EXPECT_EQ(s.redis[1].cfg.get("protected-mode")->args[0], "yes");
}

TEST(ComposeServices, PostgresGeneratedHbaFollowsTheEnvironment) {
  test::TempRoot r;
  auto s = derive_in(r, "services:\n"
                        "  db:\n"
                        "    image: postgres:16\n"
                        "    environment:\n"
                        "      POSTGRES_HOST_AUTH_METHOD: trust\n"
                        "      POSTGRES_INITDB_ARGS: --auth-local=peer --auth-host=scram-sha-256\n"
                        "    command: -c ssl=on -p 5433\n"
                        "    ports: [\"5433:5433\", \"127.0.0.1:5432:5432\"]\n");
  ASSERT_EQ(s.postgres.size(), 1u);
  const PgService &d = s.postgres[0];
  EXPECT_TRUE(d.problems.empty());
  ASSERT_EQ(d.hba.rules.size(), 7u);
  EXPECT_EQ(d.hba.rules[0].method, "peer");
  EXPECT_EQ(d.hba.rules[0].loc.line, 6);
  EXPECT_EQ(d.hba.rules[1].method, "scram-sha-256");
  EXPECT_EQ(d.hba.rules[6].method, "trust");
  EXPECT_EQ(d.hba.rules[6].loc.line, 5);
  EXPECT_EQ(d.conf.get("ssl")->value, "on");
  EXPECT_EQ(d.conf.get("listen_addresses")->value, "*");
  EXPECT_EQ(d.conf.get("listen_addresses")->loc.line, 3);
  EXPECT_EQ(d.reach.port, 5433);
  ASSERT_EQ(d.reach.published.size(), 1u);
  EXPECT_EQ(public_ports(d.reach).size(), 1u);
}

TEST(ComposeServices, PostgresMountedHbaAndMissingOne) {
  test::TempRoot r;
  r.write("/srv/app/hba.conf", "host all all 0.0.0.0/0 md5\n");
  auto s = derive_in(r, "services:\n"
                        "  db:\n"
                        "    image: postgres:15\n"
                        "    command: postgres -c hba_file=/etc/pg/hba.conf\n"
                        "    volumes: [\"./hba.conf:/etc/pg/hba.conf\"]\n"
                        "  gone:\n"
                        "    image: postgres:15\n"
                        "    command: postgres -c hba_file=/etc/pg/hba.conf\n"
                        "    volumes: [\"./missing/hba.conf:/etc/pg/hba.conf\"]\n");
  ASSERT_EQ(s.postgres.size(), 2u);
  ASSERT_EQ(s.postgres[0].hba.rules.size(), 1u);
  EXPECT_EQ(s.postgres[0].hba.rules[0].loc.path, "/srv/app/hba.conf");
  EXPECT_TRUE(s.postgres[1].hba.rules.empty());
  ASSERT_FALSE(s.postgres[1].hba.diagnostics.empty());
  EXPECT_EQ(s.postgres[1].hba.diagnostics[0].level, Diagnostic::Level::error);
}

TEST(ComposeServices, HostileCommandsAreProblemsWithTheirLineNeverCrashes) {
  test::TempRoot r;
  std::string many = "redis-server";
  for (int i = 0; i < 20000; i++)
    many += " --maxmemory " + std::to_string(i);
  auto s = derive_in(r, "services:\n"
                        "  a:\n"
                        "    image: redis:7\n"
                        "    command: [\"sh\", \"-c\", \"redis-server --requirepass $${X\"]\n"
                        "  b:\n"
                        "    image: redis:7\n"
                        "    command: [\"sh\", \"-c\", \"redis-server --requirepass $$\"]\n"
                        "  c:\n"
                        "    image: redis:7\n"
                        "    command: [\"redis-server\", \"--requirepass \\\"open\"]\n"
                        "  d:\n"
                        "    image: redis:7\n"
                        "    entrypoint: [\"/bin/bash\", \"-c\"]\n"
                        "    command: [\"exec redis-server `id`\"]\n"
                        "  e:\n"
                        "    image: redis:7\n"
                        "    command: " +
                            many + "\n");
  ASSERT_EQ(s.redis.size(), 5u);
  for (size_t i = 0; i < 4; i++) {
    ASSERT_FALSE(s.redis[i].problems.empty() && !s.redis[i].cfg.has_errors()) << i;
    const Diagnostic &d = s.redis[i].problems.empty() ? s.redis[i].cfg.diagnostics.front()
                                                      : s.redis[i].problems.front();
    EXPECT_EQ(d.loc.path, "/srv/app/compose.yaml") << i;
    EXPECT_GT(d.loc.line, 0) << i;
  }
  EXPECT_TRUE(s.redis[4].problems.empty());
  EXPECT_EQ(s.redis[4].cfg.get("maxmemory")->args[0], "19999");
}

// The container's view: the image's nginx.conf includes conf.d/*.conf; a
// mounted directory hides the image's default.conf; a mounted file over one
// image file keeps the others; templates are rendered with the service's
// variables; certificate paths resolve to the bind mounts' host files.
TEST(ComposeServices, NginxReadsTheImageFilesUnderTheBindMounts) {
  test::TempRoot r;
  r.write("/srv/app/conf.d/site.conf",
          "server {\n  listen 443 ssl;\n  server_name a.example;\n"
          "  ssl_certificate /etc/ssl/site/cert.pem;\n  ssl_certificate_key tls/key.pem;\n}\n");
  auto s = derive_in(r, "services:\n"
                        "  web:\n"
                        "    image: nginx:1.21.6-alpine\n"
                        "    volumes:\n"
                        "      - ./conf.d:/etc/nginx/conf.d:ro\n"
                        "      - ./certs:/etc/ssl/site\n");
  ASSERT_EQ(s.nginx.size(), 1u);
  const NginxService &n = s.nginx[0];
  EXPECT_TRUE(n.tree.diagnostics.empty())
      << (n.tree.diagnostics.empty() ? "" : n.tree.diagnostics[0].message);
  // default.conf is hidden by the mounted directory: one server.
  ASSERT_EQ(n.endpoints.size(), 1u);
  const TlsEndpoint &e = n.endpoints[0];
  EXPECT_EQ(e.service, "app/web");
  EXPECT_EQ(e.subject, "app/web nginx server a.example:443");
  EXPECT_EQ(e.loc.path, "/srv/app/conf.d/site.conf");
  EXPECT_TRUE(e.tls);
  // nginx 1.21: the old ssl_protocols default, cited at the image line.
  EXPECT_EQ(e.protocols.value, "TLSv1 TLSv1.1 TLSv1.2");
  EXPECT_EQ(e.protocols.loc.path, "/srv/app/compose.yaml");
  EXPECT_EQ(e.protocols.loc.line, 3);
  EXPECT_EQ(n.view.host_path("/etc/ssl/site/cert.pem"), "/srv/app/certs/cert.pem");
  EXPECT_FALSE(n.view.host_path("/etc/nginx/tls/key.pem"));
}

TEST(ComposeServices, NginxDefaultImageHasNoTlsServerAndNewDefaults) {
  test::TempRoot r;
  r.write("/srv/app/extra.conf", "server {\n  listen 8443 ssl;\n}\n");
  auto s = derive_in(r, "services:\n"
                        "  web:\n"
                        "    image: nginx\n"
                        "    volumes:\n"
                        "      - ./extra.conf:/etc/nginx/conf.d/extra.conf\n");
  ASSERT_EQ(s.nginx.size(), 1u);
  const NginxService &n = s.nginx[0];
  EXPECT_TRUE(n.tree.diagnostics.empty());
  // The image's default.conf (port 80, plain) and the mounted file.
  ASSERT_EQ(n.endpoints.size(), 2u);
  EXPECT_FALSE(n.endpoints[0].tls);
  EXPECT_EQ(n.endpoints[0].loc.path, "/srv/app/compose.yaml");
  EXPECT_TRUE(n.endpoints[1].tls);
  EXPECT_EQ(n.endpoints[1].protocols.value, "TLSv1.2 TLSv1.3");
}

TEST(ComposeServices, NginxTemplatesAreRenderedWithTheServiceEnvironment) {
  test::TempRoot r;
  r.write("/srv/app/templates/default.conf.template",
          "server {\n  listen 443 ssl;\n  server_name ${DOMAIN};\n"
          "  ssl_protocols ${TLS_PROTOCOLS};\n  return 200 $host;\n}\n");
  auto s = derive_in(r, "services:\n"
                        "  web:\n"
                        "    image: nginx:1.27\n"
                        "    environment:\n"
                        "      DOMAIN: shop.example\n"
                        "      TLS_PROTOCOLS: TLSv1.1 TLSv1.2\n"
                        "    volumes:\n"
                        "      - ./templates:/etc/nginx/templates:ro\n");
  ASSERT_EQ(s.nginx.size(), 1u);
  const NginxService &n = s.nginx[0];
  EXPECT_TRUE(n.problems.empty());
  // The rendered file replaces the image's default.conf of the same name.
  ASSERT_EQ(n.endpoints.size(), 1u);
  EXPECT_EQ(n.endpoints[0].names.at(0), "shop.example");
  EXPECT_EQ(n.endpoints[0].protocols.value, "TLSv1.1 TLSv1.2");
  EXPECT_EQ(n.endpoints[0].protocols.loc.path, "/srv/app/templates/default.conf.template");
  EXPECT_EQ(n.endpoints[0].protocols.loc.line, 4);
}

TEST(ComposeServices, NginxMissingAndGarbledMountedFilesAreDiagnosticsWithTheirLine) {
  test::TempRoot r;
  r.write("/srv/app/nginx.conf", "events {}\nhttp {\n  include /etc/nginx/sites/*.conf;\n"
                                 "  include /etc/nginx/none.conf;\n  server {\n");
  auto s = derive_in(r, "services:\n"
                        "  web:\n"
                        "    image: nginx\n"
                        "    command: [\"nginx\", \"-c\", \"/etc/nginx/custom.conf\", \"-g\",\n"
                        "              \"daemon off;\"]\n"
                        "    volumes:\n"
                        "      - ./nginx.conf:/etc/nginx/custom.conf\n");
  ASSERT_EQ(s.nginx.size(), 1u);
  const auto &d = s.nginx[0].tree.diagnostics;
  ASSERT_EQ(d.size(), 2u);
  // No file at /etc/nginx/none.conf: nginx -t fails on it.
  EXPECT_EQ(d[0].loc.path, "/srv/app/nginx.conf");
  EXPECT_EQ(d[0].loc.line, 4);
  EXPECT_NE(d[0].message.find("no bind mount"), std::string::npos) << d[0].message;
  EXPECT_EQ(d[1].loc.line, 6);
  EXPECT_NE(d[1].message.find("unexpected end of file"), std::string::npos) << d[1].message;
}

TEST(ComposeServices, ValkeyAndBitnamiPostgresql) {
  test::TempRoot r;
  auto s = derive_in(r, "services:\n"
                        "  kv:\n"
                        "    image: valkey/valkey:8\n"
                        "    environment:\n"
                        "      VALKEY_EXTRA_FLAGS: --requirepass s3cr3t-but-long-enough-0123\n"
                        "  db:\n"
                        "    image: bitnami/postgresql:16\n"
                        "    environment:\n"
                        "      POSTGRES_PASSWORD: pw\n"
                        "      POSTGRESQL_ENABLE_TLS: \"yes\"\n"
                        "      POSTGRESQL_TLS_CERT_FILE: /certs/c.pem\n");
  ASSERT_EQ(s.redis.size(), 1u);
  const redis::Directive *pm = s.redis[0].cfg.get("protected-mode");
  ASSERT_TRUE(pm);
  EXPECT_EQ(pm->args[0], "no");
  const redis::Directive *rp = s.redis[0].cfg.get("requirepass");
  ASSERT_TRUE(rp);
  EXPECT_EQ(rp->loc.line, 5);
  ASSERT_EQ(s.postgres.size(), 1u);
  const PgService &g = s.postgres[0];
  EXPECT_TRUE(g.problems.empty()) << (g.problems.empty() ? "" : g.problems[0].message);
  // POSTGRES_PASSWORD is read as POSTGRESQL_PASSWORD: trust became md5.
  ASSERT_EQ(g.hba.rules.size(), 5u);
  for (auto &rule : g.hba.rules) {
    EXPECT_EQ(rule.method, "md5");
    EXPECT_EQ(rule.loc.line, 9);
  }
  ASSERT_TRUE(g.conf.get("ssl"));
  EXPECT_EQ(g.conf.get("ssl")->loc.line, 10);
  EXPECT_EQ(g.conf.get("ssl_cert_file")->value, "/certs/c.pem");
  EXPECT_EQ(g.conf.get("listen_addresses")->value, "*");
}

TEST(ComposeServices, BuiltImagesAreNotTakenForTheOfficialOnes) {
  test::TempRoot r;
  r.write("/srv/app/proxy/Dockerfile", "FROM nginx:1.27\nCOPY nginx.conf /etc/nginx/nginx.conf\n");
  auto s = derive_in(r, "services:\n"
                        "  proxy:\n"
                        "    build: ./proxy\n"
                        "    image: nginx:1.27\n"
                        "  web:\n"
                        "    image: nginx:1.27\n");
  ASSERT_EQ(s.nginx.size(), 1u);
  EXPECT_EQ(s.nginx[0].subject, "app/web");
}
