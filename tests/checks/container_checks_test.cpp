// container.*, network.*, docker.daemon-hardening on compose projects:
// guide 000's own three-file deployment (the merge key counts for the
// service it is merged into and no other), each check passing and failing
// with the file and line asserted, Docker's spellings, Dockerfiles of
// build:, and what a merge hides.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <random>
#include <set>
#include <tuple>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const std::string k_guide = std::string(BULWARK_SOURCE_DIR) + "/tests/data/compose/guide000";

struct Audit {
  std::vector<Finding> findings;
  const Finding &get(const std::string &check, const std::string &subject) const {
    for (auto &f : findings)
      if (f.check == check && f.subject == subject)
        return f;
    static Finding none;
    ADD_FAILURE() << "no finding " << check << " for " << subject;
    return none;
  }
};

Audit audit(const std::string &root, std::vector<std::string> files = {},
            std::string profile = "baseline") {
  AuditRequest req;
  req.root = root;
  req.only = {"container", "network", "docker"};
  req.profiles = {profile};
  req.compose_files = std::move(files);
  auto rep = run_audit(req);
  EXPECT_TRUE(rep.ok()) << (rep.ok() ? "" : rep.error().to_string());
  Audit a;
  if (rep.ok())
    a.findings = rep->findings;
  return a;
}

void expect_at(const Finding &f, Status s, const std::string &path_suffix, int line) {
  EXPECT_EQ(f.status, s) << f.check << " " << f.subject << ": " << f.message;
  ASSERT_FALSE(f.evidence.empty()) << f.check << " " << f.subject;
  const std::string &p = f.evidence[0].path;
  EXPECT_TRUE(p.size() >= path_suffix.size() &&
              p.compare(p.size() - path_suffix.size(), path_suffix.size(), path_suffix) == 0)
      << f.check << " " << f.subject << ": " << p;
  EXPECT_EQ(f.evidence[0].line, line) << f.check << " " << f.subject << ": " << f.message;
}

// One service in /srv/app/compose.yaml of a fresh root.
struct One {
  TempRoot r;
  explicit One(const std::string &service_body, const std::string &extra = "") {
    r.write("/srv/app/compose.yaml", "services:\n  s:\n" + service_body + extra);
  }
  Audit run(const std::string &profile = "baseline") { return audit(r.path(), {}, profile); }
};

} // namespace

TEST(ContainerChecks, Guide000ThreeFileDeployment) {
  TempRoot r;
  std::vector<std::string> files = {k_guide + "/docker-compose.yml",
                                    k_guide + "/docker-compose.security.yml",
                                    k_guide + "/environments/production.yml"};
  // Guide 000's deployment, judged with guide 000's profile (NET_ADMIN allowed).
  Audit a = audit(r.path(), files, "vpn-production");
  const std::string sec = "/docker-compose.security.yml";
  const std::string base = "/docker-compose.yml";
  const std::string prod = "/environments/production.yml";
  expect_at(a.get("container.compose-valid", "guide000"), Status::pass, base, 0);
  // The security defaults count for vpn-server, at the anchor's lines...
  expect_at(a.get("container.no-new-privileges", "guide000/vpn-server"), Status::pass, sec, 5);
  expect_at(a.get("container.cap-drop-all", "guide000/vpn-server"), Status::pass, sec, 7);
  expect_at(a.get("container.read-only-rootfs", "guide000/vpn-server"), Status::pass, sec, 8);
  expect_at(a.get("container.cap-add-minimal", "guide000/vpn-server"), Status::pass, sec, 14);
  // ...and for no other service.
  for (const char *s : {"guide000/api", "guide000/db"}) {
    int line = std::string(s) == "guide000/api" ? 17 : 26;
    expect_at(a.get("container.no-new-privileges", s), Status::fail, base, line);
    expect_at(a.get("container.cap-drop-all", s), Status::fail, base, line);
    expect_at(a.get("container.read-only-rootfs", s), Status::fail, base, line);
  }
  expect_at(a.get("container.non-root-user", "guide000/vpn-server"), Status::pass, base, 8);
  expect_at(a.get("container.resource-limits", "guide000/vpn-server"), Status::pass, prod, 11);
  expect_at(a.get("container.resource-limits", "guide000/api"), Status::fail, base, 17);
  expect_at(a.get("container.auto-rollback", "guide000/vpn-server"), Status::pass, prod, 14);
  expect_at(a.get("container.healthcheck", "guide000/vpn-server"), Status::pass, prod, 20);
  expect_at(a.get("container.tmpfs-hardened", "guide000/vpn-server"), Status::pass, base, 13);
  expect_at(a.get("container.image-pinned", "guide000/vpn-server"), Status::warn, base, 7);
  expect_at(a.get("container.minimal-base-image", "guide000/db"), Status::pass, base, 27);
  expect_at(a.get("container.minimal-base-image", "guide000/vpn-server"), Status::fail, base, 7);
  // DB_PASSWORD=${DB_PASSWORD} pulls a literal from .env.
  expect_at(a.get("container.secrets-not-in-env", "guide000/api"), Status::fail, "/.env", 2);
  expect_at(a.get("container.secrets-not-in-env", "guide000/db"), Status::pass, base, 29);
  expect_at(a.get("network.internal", "guide000/db"), Status::pass, base, 40);
  expect_at(a.get("network.segmentation", "guide000"), Status::pass, base, 37);
  // Every finding names its service (or project), a file and a line.
  for (auto &f : a.findings) {
    if (f.status == Status::not_applicable)
      continue;
    EXPECT_FALSE(f.subject.empty()) << f.check;
    ASSERT_FALSE(f.evidence.empty()) << f.check << " " << f.subject;
    if (f.check != "container.compose-valid" && f.check != "container.content-trust" &&
        f.check != "docker.daemon-hardening" && f.check != "docker.image-vulnerability-scan") {
      EXPECT_GT(f.evidence[0].line, 0) << f.check << " " << f.subject << ": " << f.message;
    }
  }
}

TEST(ContainerChecks, NonRootUserSpellings) {
  for (auto [u, st] : std::vector<std::pair<std::string, Status>>{{"\"1000\"", Status::pass},
                                                                  {"\"1000:1000\"", Status::pass},
                                                                  {"app", Status::pass},
                                                                  {"root", Status::fail},
                                                                  {"\"0\"", Status::fail},
                                                                  {"\"0:0\"", Status::fail},
                                                                  {"root:wheel", Status::fail}}) {
    One o("    image: x:1\n    user: " + u + "\n");
    expect_at(o.run().get("container.non-root-user", "app/s"), st, "/srv/app/compose.yaml", 4);
  }
  One none("    image: x:1\n");
  expect_at(none.run().get("container.non-root-user", "app/s"), Status::fail,
            "/srv/app/compose.yaml", 2);
}

TEST(ContainerChecks, DockerfileOfBuildDecidesUserHealthcheckAndBase) {
  One o("    build: ./img\n");
  o.r.write("/srv/app/img/Dockerfile",
            "# syntax=docker/dockerfile:1\n"
            "ARG BASE=python:3.12-slim\n"
            "FROM golang:1.22 AS build\n"
            "RUN go build\n"
            "FROM ${BASE}\n"
            "HEALTHCHECK --interval=30s \\\n  CMD curl -f http://localhost/\n"
            "USER 10001\n");
  Audit a = o.run();
  expect_at(a.get("container.non-root-user", "app/s"), Status::pass, "/srv/app/img/Dockerfile", 8);
  expect_at(a.get("container.healthcheck", "app/s"), Status::pass, "/srv/app/img/Dockerfile", 6);
  expect_at(a.get("container.minimal-base-image", "app/s"), Status::pass, "/srv/app/img/Dockerfile",
            5);
  expect_at(a.get("container.image-pinned", "app/s"), Status::warn, "/srv/app/img/Dockerfile", 3);
  One root("    build: {context: ., dockerfile: Dockerfile.prod}\n");
  root.r.write("/srv/app/Dockerfile.prod", "FROM ubuntu\nUSER root\nHEALTHCHECK NONE\n");
  Audit b = root.run();
  expect_at(b.get("container.non-root-user", "app/s"), Status::fail, "/srv/app/Dockerfile.prod", 2);
  expect_at(b.get("container.healthcheck", "app/s"), Status::fail, "/srv/app/Dockerfile.prod", 3);
  expect_at(b.get("container.image-pinned", "app/s"), Status::fail, "/srv/app/Dockerfile.prod", 1);
  expect_at(b.get("container.minimal-base-image", "app/s"), Status::fail,
            "/srv/app/Dockerfile.prod", 1);
}

// Here-document bodies are data (BuildKit); ONBUILD applies to images built
// from this one, not to it.
TEST(ContainerChecks, DockerfileHeredocsAndOnbuildSetNoUser) {
  One o("    build: ./img\n");
  o.r.write("/srv/app/img/Dockerfile", "FROM debian:12\n"
                                       "USER root\n"
                                       "RUN <<EOF bash\n"
                                       "set -e\n"
                                       "USER app\n"
                                       "EOF\n"
                                       "COPY <<-\"CONF\" <<'MORE' /etc/app/\n"
                                       "\tUSER 1000\n"
                                       "\tCONF\n"
                                       "HEALTHCHECK NONE\n"
                                       "MORE\n"
                                       "ONBUILD USER 1000\n");
  Audit a = o.run();
  expect_at(a.get("container.non-root-user", "app/s"), Status::fail, "/srv/app/img/Dockerfile", 2);
  EXPECT_NE(a.get("container.healthcheck", "app/s").status, Status::pass);
  o.r.write("/srv/app/img/Dockerfile", "FROM debian:12\nRUN <<EOF\nUSER root\nEOF\nUSER 1000\n");
  expect_at(o.run().get("container.non-root-user", "app/s"), Status::pass,
            "/srv/app/img/Dockerfile", 5);
}

TEST(ContainerChecks, NoNewPrivilegesSpellings) {
  for (auto [s, st] :
       std::vector<std::pair<std::string, Status>>{{"no-new-privileges", Status::pass},
                                                   {"no-new-privileges:true", Status::pass},
                                                   {"no-new-privileges=true", Status::pass},
                                                   {"no-new-privileges:false", Status::fail},
                                                   {"seccomp:unconfined", Status::fail}}) {
    One o("    image: x:1\n    security_opt:\n      - " + s + "\n");
    expect_at(o.run().get("container.no-new-privileges", "app/s"), st, "/srv/app/compose.yaml",
              st == Status::pass || s.find("false") != std::string::npos ? 5 : 5);
  }
}

TEST(ContainerChecks, CapabilitiesAllAndAllowedList) {
  One o("    image: x:1\n    cap_drop: [all]\n    cap_add:\n      - NET_ADMIN\n      - "
        "CAP_SYS_ADMIN\n");
  // Guide 000 allows NET_ADMIN (a VPN server needs it), so SYS_ADMIN decides;
  // the baseline (the stricter of both guides) allows nothing, so NET_ADMIN does.
  Audit a = o.run("vpn-production");
  expect_at(a.get("container.cap-drop-all", "app/s"), Status::pass, "/srv/app/compose.yaml", 4);
  expect_at(a.get("container.cap-add-minimal", "app/s"), Status::fail, "/srv/app/compose.yaml", 7);
  expect_at(o.run().get("container.cap-add-minimal", "app/s"), Status::fail,
            "/srv/app/compose.yaml", 6);
  One d("    image: x:1\n    cap_drop: [NET_RAW]\n");
  expect_at(d.run().get("container.cap-drop-all", "app/s"), Status::fail, "/srv/app/compose.yaml",
            4);
}

TEST(ContainerChecks, PrivilegedAddedByAnOverrideIsNamed) {
  TempRoot r;
  r.write("/srv/app/docker-compose.yml", "services:\n  s:\n    image: x:1\n");
  r.write("/srv/app/docker-compose.override.yml", "services:\n  s:\n    privileged: true\n");
  Audit a = audit(r.path());
  const Finding &f = a.get("container.no-privileged", "app/s");
  expect_at(f, Status::fail, "/srv/app/docker-compose.override.yml", 3);
  EXPECT_NE(f.message.find("merged over"), std::string::npos) << f.message;
  r.write("/srv/app/docker-compose.override.yml", "services:\n  s:\n    privileged: false\n");
  expect_at(audit(r.path()).get("container.no-privileged", "app/s"), Status::pass,
            "/srv/app/docker-compose.override.yml", 3);
}

TEST(ContainerChecks, OverrideDroppingLoopbackBindingIsReported) {
  TempRoot r;
  r.write("/srv/app/docker-compose.yml",
          "services:\n  web:\n    image: x:1\n    ports: ['127.0.0.1:8080:80']\n");
  r.write("/srv/app/docker-compose.override.yml",
          "services:\n  web:\n    ports: !override\n      - '8080:80'\n");
  Audit a = audit(r.path());
  const Finding &f = a.get("container.published-ports", "app/web");
  expect_at(f, Status::fail, "/srv/app/docker-compose.override.yml", 4);
  EXPECT_NE(f.message.find("drops the 127.0.0.1 binding"), std::string::npos) << f.message;
  // A plain override appends: the loopback binding stays and 8080 is added.
  r.write("/srv/app/docker-compose.override.yml",
          "services:\n  web:\n    ports: ['127.0.0.1:8080:80']\n");
  expect_at(audit(r.path()).get("container.published-ports", "app/web"), Status::pass,
            "/srv/app/docker-compose.yml", 4);
}

TEST(ContainerChecks, HostNamespacesSocketAndSensitiveMounts) {
  One o("    image: x:1\n    network_mode: host\n    pid: host\n    volumes:\n"
        "      - /var/run/docker.sock:/var/run/docker.sock\n      - /etc:/host/etc\n"
        "      - /proc:/host/proc:ro\n");
  Audit a = o.run();
  expect_at(a.get("container.no-host-namespaces", "app/s"), Status::fail, "/srv/app/compose.yaml",
            4);
  EXPECT_EQ(a.get("container.no-host-namespaces", "app/s").evidence.size(), 2u);
  expect_at(a.get("container.no-docker-socket", "app/s"), Status::fail, "/srv/app/compose.yaml", 7);
  const Finding &sm = a.get("container.sensitive-mounts", "app/s");
  // The socket is under /var/run; /proc read-only counts too: it still
  // discloses the host.
  expect_at(sm, Status::fail, "/srv/app/compose.yaml", 7);
  EXPECT_EQ(sm.evidence.size(), 3u);
  One ok("    image: x:1\n    volumes:\n      - type: bind\n        source: /etc/localtime\n"
         "        target: /etc/localtime\n        read_only: true\n");
  Audit b = ok.run();
  expect_at(b.get("container.sensitive-mounts", "app/s"), Status::pass, "/srv/app/compose.yaml", 2);
  expect_at(b.get("container.no-docker-socket", "app/s"), Status::pass, "/srv/app/compose.yaml", 2);
  expect_at(b.get("container.no-host-namespaces", "app/s"), Status::pass, "/srv/app/compose.yaml",
            2);
}

TEST(ContainerChecks, TmpfsOptions) {
  One o("    image: x:1\n    tmpfs:\n      - /tmp:noexec,nosuid,size=100M\n      - /run:size=1M\n");
  expect_at(o.run().get("container.tmpfs-hardened", "app/s"), Status::fail, "/srv/app/compose.yaml",
            6);
  One g("    image: x:1\n    tmpfs: /tmp:noexec,nosuid,size=64m\n");
  expect_at(g.run().get("container.tmpfs-hardened", "app/s"), Status::pass, "/srv/app/compose.yaml",
            4);
}

TEST(ContainerChecks, ResourceLimitsEitherSpelling) {
  One o("    image: x:1\n    mem_limit: 256m\n    cpus: 0.5\n    pids_limit: 100\n"
        "    ulimits:\n      nofile: 1024\n");
  expect_at(o.run().get("container.resource-limits", "app/s"), Status::pass,
            "/srv/app/compose.yaml", 4);
  One d("    image: x:1\n    deploy:\n      resources:\n        limits: {memory: 1G, cpus: '1'}\n");
  Audit a = d.run();
  const Finding &f = a.get("container.resource-limits", "app/s");
  expect_at(f, Status::fail, "/srv/app/compose.yaml", 2);
  EXPECT_NE(f.message.find("pids"), std::string::npos);
  EXPECT_EQ(f.message.find("memory"), std::string::npos) << f.message;
  // lms-server does not ask for file-descriptor limits... the profile
  // decides; baseline does.
  EXPECT_NE(f.message.find("file descriptors"), std::string::npos);
}

TEST(ContainerChecks, ImagePinning) {
  for (auto [img, st] : std::vector<std::pair<std::string, Status>>{
           {"nginx", Status::fail},
           {"nginx:latest", Status::fail},
           {"registry:5000/team/nginx", Status::fail},
           {"nginx:1.25-alpine", Status::warn},
           {"nginx:1.25@sha256:0123456789abcdef", Status::pass}}) {
    One o("    image: " + img + "\n");
    expect_at(o.run().get("container.image-pinned", "app/s"), st, "/srv/app/compose.yaml", 3);
  }
}

TEST(ContainerChecks, SecretsInEnvironmentAndEnvFile) {
  One o("    image: x:1\n    environment:\n      API_TOKEN: abc123\n      DB_PASSWORD_FILE: "
        "/run/secrets/db\n"
        "    env_file: app.env\n");
  o.r.write("/srv/app/app.env", "# app\nLOG=1\nSTRIPE_SECRET_KEY=sk_live_x\n");
  Audit a = o.run();
  const Finding &f = a.get("container.secrets-not-in-env", "app/s");
  expect_at(f, Status::fail, "/srv/app/compose.yaml", 5);
  ASSERT_EQ(f.evidence.size(), 2u);
  EXPECT_EQ(f.evidence[1].path, "/srv/app/app.env");
  EXPECT_EQ(f.evidence[1].line, 3);
  for (auto &e : f.evidence)
    EXPECT_EQ(e.found.find("abc123"), std::string::npos); // values are never shown
  One ok("    image: x:1\n    environment:\n      - DB_PASSWORD_FILE=/run/secrets/db\n      - "
         "DB_PASSWORD=\n");
  expect_at(ok.run().get("container.secrets-not-in-env", "app/s"), Status::pass,
            "/srv/app/compose.yaml", 5);
}

TEST(ContainerChecks, PublishedDatabasePorts) {
  One o("    image: postgres:16\n    ports:\n      - '5432:5432'\n");
  expect_at(o.run().get("container.published-ports", "app/s"), Status::fail,
            "/srv/app/compose.yaml", 5);
  One r("    image: redis:7\n    ports:\n      - target: 6379\n        host_ip: 0.0.0.0\n");
  expect_at(r.run().get("container.published-ports", "app/s"), Status::fail,
            "/srv/app/compose.yaml", 5);
  One l("    image: postgres:16\n    ports:\n      - '127.0.0.1:5432:5432'\n");
  expect_at(l.run().get("container.published-ports", "app/s"), Status::pass,
            "/srv/app/compose.yaml", 5);
}

TEST(ContainerChecks, HealthcheckAndRollback) {
  One o("    image: x:1\n    healthcheck:\n      disable: true\n    deploy:\n      update_config:\n"
        "        failure_action: pause\n");
  Audit a = o.run();
  expect_at(a.get("container.healthcheck", "app/s"), Status::fail, "/srv/app/compose.yaml", 5);
  expect_at(a.get("container.auto-rollback", "app/s"), Status::fail, "/srv/app/compose.yaml", 8);
  One n("    image: x:1\n    healthcheck:\n      test: [NONE]\n");
  Audit b = n.run();
  expect_at(b.get("container.healthcheck", "app/s"), Status::fail, "/srv/app/compose.yaml", 5);
  EXPECT_EQ(b.get("container.auto-rollback", "app/s").status, Status::not_applicable);
}

TEST(ContainerChecks, ContentTrust) {
  One o("    image: x:1\n");
  expect_at(o.run().get("container.content-trust", "app"), Status::fail, "/srv/app/.env", 0);
  o.r.write("/srv/app/.env", "X=1\nDOCKER_CONTENT_TRUST=1\n");
  expect_at(o.run().get("container.content-trust", "app"), Status::pass, "/srv/app/.env", 2);
}

TEST(ContainerChecks, NetworksInternalSegmentationOverlay) {
  TempRoot r;
  r.write("/srv/app/compose.yaml", R"(services:
  web:
    image: nginx:1.25
    ports: ["443:443"]
  db:
    image: postgres:16
networks:
  mesh:
    driver: overlay
)");
  Audit a = audit(r.path());
  expect_at(a.get("network.internal", "app/db"), Status::fail, "/srv/app/compose.yaml", 5);
  expect_at(a.get("network.segmentation", "app"), Status::fail, "/srv/app/compose.yaml", 1);
  expect_at(a.get("network.encrypted-overlay", "app/network mesh"), Status::fail,
            "/srv/app/compose.yaml", 9);
  r.write("/srv/app/compose.yaml", R"(services:
  web:
    image: nginx:1.25
    ports: ["443:443"]
    networks: [front, back]
  db:
    image: postgres:16
    networks: [back]
networks:
  front: {}
  back:
    internal: true
  mesh:
    driver: overlay
    driver_opts:
      encrypted: "true"
)");
  Audit b = audit(r.path());
  expect_at(b.get("network.internal", "app/db"), Status::pass, "/srv/app/compose.yaml", 12);
  expect_at(b.get("network.encrypted-overlay", "app/network mesh"), Status::pass,
            "/srv/app/compose.yaml", 16);
  // web publishes and bridges front and the internal back network with db:
  // the segmented three-tier layout (issue 15), which passes.
  expect_at(b.get("network.segmentation", "app"), Status::pass, "/srv/app/compose.yaml", 9);
}

TEST(ContainerChecks, DaemonJson) {
  TempRoot r;
  EXPECT_EQ(audit(r.path()).get("docker.daemon-hardening", "dockerd").status,
            Status::not_applicable);
  r.write("/etc/docker/daemon.json", "{\n  \"icc\": true,\n  \"live-restore\": true,\n"
                                     "  \"no-new-privileges\": true\n}\n");
  Audit a = audit(r.path());
  const Finding &f = a.get("docker.daemon-hardening", "dockerd");
  expect_at(f, Status::fail, "/etc/docker/daemon.json", 2);
  r.write("/etc/docker/daemon.json",
          "{\"icc\": false, \"live-restore\": true, \"no-new-privileges\": true,\n"
          " \"log-driver\": \"json-file\", \"log-opts\": {\"max-size\": \"10m\"}}\n");
  EXPECT_EQ(audit(r.path()).get("docker.daemon-hardening", "dockerd").status, Status::warn);
  r.write("/etc/docker/daemon.json",
          "{\"icc\": false, \"live-restore\": true, \"no-new-privileges\": true,\n"
          " \"log-driver\": \"local\", \"userns-remap\": \"default\"}\n");
  expect_at(audit(r.path()).get("docker.daemon-hardening", "dockerd"), Status::pass,
            "/etc/docker/daemon.json", 1);
}

TEST(ContainerChecks, InvalidProjectReportsErrorAndOthersGoOn) {
  TempRoot r;
  r.write("/srv/bad/compose.yaml", "services:\n  s:\n    image: x:1\n    image: y:1\n");
  r.write("/opt/good/compose.yaml", "services:\n  s:\n    image: x:1\n    privileged: true\n");
  Audit a = audit(r.path());
  expect_at(a.get("container.compose-valid", "bad"), Status::error, "/srv/bad/compose.yaml", 4);
  expect_at(a.get("container.compose-valid", "good"), Status::pass, "/opt/good/compose.yaml", 0);
  expect_at(a.get("container.no-privileged", "good/s"), Status::fail, "/opt/good/compose.yaml", 4);
  for (auto &f : a.findings)
    EXPECT_NE(f.subject, "bad/s");
}

TEST(ContainerChecks, NoComposeProjectIsNotApplicable) {
  TempRoot r;
  Audit a = audit(r.path());
  EXPECT_EQ(a.get("container.non-root-user", "compose").status, Status::not_applicable);
  EXPECT_EQ(a.get("container.compose-valid", "compose").status, Status::not_applicable);
}

TEST(ContainerChecks, FactsComposePrintsLocations) {
  auto r = bulwark::test::run_command(std::string(BULWARK_BINARY) + " facts compose --compose " +
                                      k_guide + "/docker-compose.yml --compose " + k_guide +
                                      "/docker-compose.security.yml");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  EXPECT_NE(r.out.find("docker-compose.security.yml:8"), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("\"read_only\""), std::string::npos);
}

TEST(ContainerChecks, SeccompAndMacUnconfined) {
  One o("    image: x:1\n    security_opt:\n      - no-new-privileges:true\n"
        "      - seccomp=unconfined\n      - apparmor:unconfined\n      - label=disable\n");
  Audit a = o.run();
  expect_at(a.get("container.no-unconfined-seccomp", "app/s"), Status::fail,
            "/srv/app/compose.yaml", 6);
  const Finding &mac = a.get("container.no-unconfined-mac", "app/s");
  expect_at(mac, Status::fail, "/srv/app/compose.yaml", 7);
  EXPECT_EQ(mac.evidence.size(), 2u);
  // Right: the default profiles, or a custom seccomp profile file.
  One ok("    image: x:1\n    security_opt:\n      - no-new-privileges:true\n"
         "      - seccomp:/etc/docker/seccomp.json\n      - apparmor:docker-default\n"
         "      - label:type:container_t\n");
  Audit b = ok.run();
  EXPECT_EQ(b.get("container.no-unconfined-seccomp", "app/s").status, Status::pass);
  EXPECT_EQ(b.get("container.no-unconfined-mac", "app/s").status, Status::pass);
  One spc("    image: x:1\n    security_opt: [\"label:type:spc_t\"]\n");
  EXPECT_EQ(spc.run().get("container.no-unconfined-mac", "app/s").status, Status::fail);
}

TEST(ContainerChecks, HostDevicesAgainstTheProfileAllowList) {
  One vpn("    image: x:1\n    devices:\n      - /dev/net/tun:/dev/net/tun\n");
  // Guide 000's VPN server needs the tun device: vpn-production allows it.
  EXPECT_EQ(vpn.run("vpn-production").get("container.no-host-devices", "app/s").status,
            Status::pass);
  expect_at(vpn.run("baseline").get("container.no-host-devices", "app/s"), Status::fail,
            "/srv/app/compose.yaml", 5);
  One disk("    image: x:1\n    devices:\n      - source: /dev/sda\n        target: /dev/sda\n"
           "        permissions: rwm\n    device_cgroup_rules: ['b 8:* rmw']\n");
  // Guide 000 does not ask for this check (the references test decides), so
  // under vpn-production a device beyond the allow list is a warning beyond
  // the guide; baseline fails it.
  Audit disk_result = disk.run("vpn-production");
  const Finding &f = disk_result.get("container.no-host-devices", "app/s");
  expect_at(f, Status::warn, "/srv/app/compose.yaml", 5);
  EXPECT_EQ(f.evidence.size(), 2u);
  expect_at(disk.run("baseline").get("container.no-host-devices", "app/s"), Status::fail,
            "/srv/app/compose.yaml", 5);
  One none("    image: x:1\n");
  EXPECT_EQ(none.run().get("container.no-host-devices", "app/s").status, Status::pass);
}

TEST(ContainerChecks, PortsBoundToAnInterface) {
  One o("    image: x:1\n    ports:\n      - '443:443'\n      - '443:443/udp'\n"
        "      - '8080:80'\n      - '127.0.0.1:9000:9000'\n      - '9090'\n");
  // vpn-production: 443/tcp and 443/udp are public by design.
  Audit o_result = o.run("vpn-production");
  const Finding &f = o_result.get("container.ports-bound-to-interface", "app/s");
  expect_at(f, Status::fail, "/srv/app/compose.yaml", 7);
  ASSERT_EQ(f.evidence.size(), 2u); // 8080 and the ephemeral 9090
  EXPECT_EQ(f.evidence[1].line, 9);
  // lms-server: 80 and 443 whatever the protocol; 8080 is still not public.
  One l("    image: x:1\n    ports:\n      - '80:80'\n      - '443:443'\n"
        "      - '10.0.0.5:5432:5432'\n");
  EXPECT_EQ(l.run("lms-server").get("container.ports-bound-to-interface", "app/s").status,
            Status::pass);
  One none("    image: x:1\n");
  EXPECT_EQ(none.run().get("container.ports-bound-to-interface", "app/s").status,
            Status::not_applicable);
}

TEST(ContainerChecks, RestartPolicies) {
  for (auto [body, st, line] : std::vector<std::tuple<std::string, Status, int>>{
           {"    restart: on-failure:5\n", Status::pass, 4},
           {"    restart: unless-stopped\n", Status::pass, 4},
           {"    restart: always\n", Status::fail, 4},
           {"    restart: on-failure\n", Status::fail, 4},
           {"    restart: \"no\"\n", Status::fail, 4},
           {"", Status::fail, 2},
           {"    restart: always\n    deploy:\n      restart_policy:\n        condition: "
            "on-failure\n"
            "        max_attempts: 3\n",
            Status::pass, 8},
           {"    deploy:\n      restart_policy:\n        condition: any\n", Status::fail, 6}}) {
    One o("    image: x:1\n" + body);
    expect_at(o.run().get("container.restart-policy", "app/s"), st, "/srv/app/compose.yaml", line);
  }
}

TEST(ContainerChecks, MountPropagation) {
  One o("    image: x:1\n    volumes:\n      - /srv/app/data:/data:rshared\n"
        "      - type: bind\n        source: /srv/app/x\n        target: /x\n"
        "        bind:\n          propagation: slave\n      - ./cfg:/cfg:ro,rprivate\n");
  Audit o_result = o.run();
  const Finding &f = o_result.get("container.mount-propagation", "app/s");
  expect_at(f, Status::fail, "/srv/app/compose.yaml", 5);
  EXPECT_EQ(f.evidence.size(), 2u);
  One ok("    image: x:1\n    volumes:\n      - ./data:/data:z\n");
  EXPECT_EQ(ok.run().get("container.mount-propagation", "app/s").status, Status::pass);
}

TEST(ContainerChecks, SensitiveMountPrefixesReadOnlyIncluded) {
  One o("    image: x:1\n    volumes:\n      - /:/host:ro\n      - /var/run:/var/run:ro\n"
        "      - /home/alice/.ssh:/keys:ro\n      - ../../etc/shadow:/s:ro\n"
        "      - ./data:/data\n      - /etc/letsencrypt:/certs:ro\n"
        "      - /etc/letsencrypt/live:/live\n      - dbdata:/var/lib/postgresql/data\n");
  Audit o_result = o.run();
  const Finding &f = o_result.get("container.sensitive-mounts", "app/s");
  expect_at(f, Status::fail, "/srv/app/compose.yaml", 5);
  ASSERT_EQ(f.evidence.size(), 5u);
  EXPECT_EQ(f.evidence[3].line, 8); // ../../etc/shadow is /etc/shadow
  EXPECT_NE(f.evidence[3].found.find("/etc/shadow"), std::string::npos);
  EXPECT_EQ(f.evidence[4].line, 11); // an allowed path read-write
  // The project's own folder under /home is the project's.
  TempRoot r;
  r.write("/home/deploy/app/compose.yaml",
          "services:\n  s:\n    image: x:1\n    volumes:\n      - ./data:/data\n"
          "      - /home/deploy/app/conf:/conf:ro\n      - /etc/localtime:/etc/localtime:ro\n");
  EXPECT_EQ(audit(r.path()).get("container.sensitive-mounts", "app/s").status, Status::pass);
}

TEST(ContainerChecks, SecretsFalsePositivesAndMisses) {
  // Right: none of these is a secret in the environment.
  One ok("    image: mysql:8.0\n    environment:\n      MYSQL_RANDOM_ROOT_PASSWORD: 'yes'\n"
         "      JWT_TOKEN_LIFETIME: 3600\n      ACCESS_TOKEN_TTL: 15m\n"
         "      TLS_PRIVATE_KEY_PATH: /run/secrets/key\n"
         "      DATABASE_PASSWORD: /run/secrets/db_password\n"
         "      DB_PASSWORD_FILE: /run/secrets/db\n      PASSWORD_MIN_LENGTH: 12\n"
         "      DATABASE_URL: postgres://app@db:5432/app\n");
  Audit ok_result = ok.run();
  const Finding &p = ok_result.get("container.secrets-not-in-env", "app/s");
  EXPECT_EQ(p.status, Status::pass) << p.message << (p.evidence.empty() ? "" : p.evidence[0].found);
  // Misses the check now catches.
  One bad("    image: x:1\n    environment:\n      SMTP_PASS: hunter2hunter2\n"
          "      DATABASE_URL: postgres://app:s3cret@db:5432/app\n"
          "      REDIS_URL: redis://:pw@cache:6379/0\n"
          "      API_TOKEN: ${API_TOKEN:-tok_live_abcdef}\n"
          "      ADMIN_PASSWORD: ${ADMIN_PASSWORD}\n");
  Audit bad_result = bad.run();
  const Finding &f = bad_result.get("container.secrets-not-in-env", "app/s");
  expect_at(f, Status::fail, "/srv/app/compose.yaml", 5);
  ASSERT_EQ(f.evidence.size(), 5u);
  EXPECT_NE(f.evidence[1].found.find("URL with an embedded password"), std::string::npos);
  EXPECT_NE(f.evidence[3].found.find("literal default"), std::string::npos);
  EXPECT_NE(f.evidence[4].found.find("from the shell"), std::string::npos);
  for (auto &e : f.evidence) {
    EXPECT_EQ(e.found.find("hunter2"), std::string::npos);
    EXPECT_EQ(e.found.find("s3cret"), std::string::npos);
    EXPECT_EQ(e.found.find("tok_live"), std::string::npos);
  }
}

TEST(ContainerChecks, SegmentationIgnoresLoopbackPortsAndFollowsServiceNetworkMode) {
  TempRoot r;
  r.write("/srv/app/compose.yaml", R"(services:
  web:
    image: nginx:1.25
    ports: ["127.0.0.1:8080:80"]
    networks: [front, other]
  db:
    image: postgres:16
    network_mode: service:web
  sidecar:
    image: x:1
    network_mode: service:host-net
  host-net:
    image: x:1
    network_mode: host
networks:
  front: {}
  other: {}
)");
  Audit a = audit(r.path());
  // web is reachable from the host alone: no front door shares with db.
  EXPECT_EQ(a.get("network.segmentation", "app").status, Status::pass);
  // db joins web's namespace: its networks are web's, which are not
  // internal (the evidence is front's definition).
  expect_at(a.get("network.internal", "app/db"), Status::fail, "/srv/app/compose.yaml", 16);
  // sidecar shares host-net's namespace, which is the host's.
  expect_at(a.get("container.no-host-namespaces", "app/sidecar"), Status::fail,
            "/srv/app/compose.yaml", 11);
}

TEST(ContainerChecks, HealthcheckDisableFalseIsNotNoTest) {
  One o("    image: x:1\n    healthcheck:\n      disable: false\n      interval: 10s\n");
  Audit o_result = o.run();
  const Finding &f = o_result.get("container.healthcheck", "app/s");
  EXPECT_EQ(f.status, Status::warn) << f.message;
  EXPECT_NE(f.message.find("the image's own HEALTHCHECK applies"), std::string::npos) << f.message;
  // With a Dockerfile HEALTHCHECK the image's test runs with these timings.
  One b("    build: .\n    healthcheck:\n      disable: false\n");
  b.r.write("/srv/app/Dockerfile", "FROM alpine:3.19\nHEALTHCHECK CMD wget -q -O- localhost\n");
  EXPECT_EQ(b.run().get("container.healthcheck", "app/s").status, Status::pass);
}

TEST(ContainerChecks, Guide000DeployLayoutIsAuditedAsOneMergedProjectByDefault) {
  // Guide 000's files and deploy script inside a root, no --compose: the
  // stack is what secure-deploy.sh deploys, not docker-compose.yml alone.
  TempRoot r;
  for (std::string f : {"docker-compose.yml", "docker-compose.security.yml",
                        "environments/production.yml", ".env"}) {
    std::ifstream in(k_guide + "/" + f);
    r.write("/srv/vpn/" + f, bulwark::test::read_all(in));
  }
  r.write(
      "/srv/vpn/secure-deploy.sh",
      "#!/bin/bash\n# secure-deploy.sh\n\nset -euo pipefail\n\n"
      "# Verify security configurations\ndocker-compose -f docker-compose.yml \\\n"
      "  -f docker-compose.security.yml \\\n  -f environments/production.yml \\\n"
      "  config --quiet\n\n# Deploy with security overrides\ndocker stack deploy \\\n"
      "  --compose-file docker-compose.yml \\\n  --compose-file docker-compose.security.yml \\\n"
      "  --compose-file environments/production.yml \\\n  --with-registry-auth \\\n"
      "  vpn-stack\n");
  Audit a = audit(r.path(), {}, "vpn-production");
  const Finding &set = a.get("container.deploy-file-set", "vpn");
  // The config check (line 7) and the stack deploy (line 13) name the same
  // files; the deployment is the stack.
  expect_at(set, Status::pass, "/srv/vpn/secure-deploy.sh", 13);
  size_t projects = 0;
  for (auto &f : a.findings)
    if (f.check == "container.deploy-file-set")
      ++projects;
  EXPECT_EQ(projects, 1u); // docker-compose.yml is not audited alone
  // The merged settings count: the security override and production.yml.
  EXPECT_EQ(a.get("container.no-new-privileges", "vpn/vpn-server").status, Status::pass);
  EXPECT_EQ(a.get("container.cap-drop-all", "vpn/vpn-server").status, Status::pass);
  EXPECT_EQ(a.get("container.auto-rollback", "vpn/vpn-server").status, Status::pass);
  // A stack's networks are overlays, driver: or not.
  EXPECT_EQ(a.get("network.encrypted-overlay", "vpn/network frontend").status, Status::fail);
  // A named file that is absent fails.
  std::filesystem::remove(r.host("/srv/vpn/environments/production.yml"));
  Audit b = audit(r.path(), {}, "vpn-production");
  const Finding &gone = b.get("container.deploy-file-set", "vpn");
  expect_at(gone, Status::fail, "/srv/vpn/secure-deploy.sh", 13);
  EXPECT_NE(gone.message.find("/srv/vpn/environments/production.yml"), std::string::npos);
}

TEST(ContainerChecks, ComposeOptionInsideTheRootIsComparedWithTheDeployment) {
  TempRoot r;
  r.write("/srv/app/compose.yaml", "services:\n  s:\n    image: x:1\n");
  r.write("/srv/app/prod.yaml", "services:\n  s:\n    read_only: true\n");
  r.write("/srv/app/deploy.sh", "docker compose -f compose.yaml -f prod.yaml up -d\n");
  Audit a = audit(r.path(), {r.host("/srv/app/compose.yaml")});
  expect_at(a.get("container.deploy-file-set", "app"), Status::fail, "/srv/app/deploy.sh", 1);
  Audit b = audit(r.path(), {r.host("/srv/app/compose.yaml"), r.host("/srv/app/prod.yaml")});
  expect_at(b.get("container.deploy-file-set", "app"), Status::pass, "/srv/app/deploy.sh", 1);
  // Discovery: COMPOSE_FILE in the project's .env.
  r.write("/srv/app/deploy.sh", "echo nothing\n");
  r.write("/srv/app/.env", "COMPOSE_FILE=compose.yaml:prod.yaml\n");
  Audit c = audit(r.path());
  expect_at(c.get("container.deploy-file-set", "app"), Status::pass, "/srv/app/.env", 1);
  EXPECT_EQ(c.get("container.read-only-rootfs", "app/s").status, Status::pass);
}

// /srv/app: one privileged service, and `env_line` as the second line of
// the project's .env.
Audit audit_with_dotenv_line(const std::string &env_line) {
  TempRoot r;
  r.write("/srv/app/compose.yaml", "services:\n  s:\n    image: x:1\n    privileged: true\n");
  r.write("/srv/app/.env", "TZ=UTC\n" + env_line + "\n");
  return audit(r.path());
}

TEST(ContainerChecks, AnEmptyComposeFileEntryIsRefusedAsComposeRefusesIt) {
  // compose-go makes an empty entry the directory itself and cannot read it
  // (and so does 1.29 for an empty entry of a longer list): the deployment
  // is broken, never "audited by default".
  for (std::string line :
       {"COMPOSE_FILE=compose.yaml:", "COMPOSE_FILE=compose.yaml::compose.yaml"}) {
    Audit a = audit_with_dotenv_line(line);
    const Finding &f = a.get("container.deploy-file-set", "app");
    expect_at(f, Status::fail, "/srv/app/.env", 2);
    EXPECT_NE(f.message.find("an empty entry of COMPOSE_FILE is the working directory itself"),
              std::string::npos)
        << line << ": " << f.message;
    EXPECT_EQ(a.get("container.no-privileged", "app").status, Status::error) << line;
  }
}

TEST(ContainerChecks, AWhollyEmptyComposeFileWarnsAndTheDefaultFilesAreAudited) {
  // COMPOSE_FILE="" : docker-compose 1.29 (Debian 12's) runs the default
  // names, Compose v2 refuses the project. A warning that says so, never a
  // failure of a deployment 1.29 runs, and the files 1.29 runs are judged.
  for (std::string line : {"COMPOSE_FILE=", "COMPOSE_FILE=\"\"", "export COMPOSE_FILE=''"}) {
    Audit a = audit_with_dotenv_line(line);
    const Finding &f = a.get("container.deploy-file-set", "app");
    expect_at(f, Status::warn, "/srv/app/.env", 2);
    EXPECT_NE(f.message.find("COMPOSE_FILE is empty"), std::string::npos) << line << f.message;
    EXPECT_NE(f.message.find("Compose v2 reads the empty entry as the directory itself"),
              std::string::npos)
        << line << f.message;
    EXPECT_EQ(a.get("container.no-privileged", "app/s").status, Status::fail) << line;
  }
  // The same from a deploy script's environment.
  TempRoot r;
  r.write("/srv/app/compose.yaml", "services:\n  s:\n    image: x:1\n");
  r.write("/srv/app/deploy.sh", "#!/bin/sh\nCOMPOSE_FILE= docker-compose up -d\n");
  Audit a = audit(r.path());
  const Finding &f = a.get("container.deploy-file-set", "app");
  expect_at(f, Status::warn, "/srv/app/deploy.sh", 2);
}

TEST(ContainerChecks, MisspeltKeyIsAnErrorNotANotPrivilegedPass) {
  One o("    image: x:1\n    privilege: true\n");
  Audit a = o.run();
  const Finding &v = a.get("container.compose-valid", "app");
  expect_at(v, Status::error, "/srv/app/compose.yaml", 4);
  EXPECT_EQ(a.get("container.no-privileged", "app").status, Status::error);
}

TEST(ContainerChecks, GeneratedServicesAgainstATableOfDockerSpellings) {
  // Each item is written the way Docker accepts it, with the verdict Docker's
  // meaning implies (docker/cli opts/security options, compose-spec ports,
  // restart policies); random services combine them and every check of the
  // table must give the verdict of its worst item.
  struct Item {
    const char *check;
    std::string yaml; // under the service
    bool bad;
  };
  const std::vector<Item> k_items = {
      {"container.no-unconfined-seccomp", "security_opt: [\"seccomp:unconfined\"]", true},
      {"container.no-unconfined-seccomp", "security_opt: [\"seccomp=unconfined\"]", true},
      {"container.no-unconfined-seccomp", "security_opt: [\"seccomp=/etc/sc.json\"]", false},
      {"container.no-unconfined-mac", "security_opt: [\"apparmor=unconfined\"]", true},
      {"container.no-unconfined-mac", "security_opt: [\"label=disable\"]", true},
      {"container.no-unconfined-mac", "security_opt: [\"label:level:s0:c100,c200\"]", false},
      {"container.no-unconfined-mac", "security_opt: [\"apparmor:my-profile\"]", false},
      {"container.ports-bound-to-interface", "ports: [\"0.0.0.0:8080:80\"]", true},
      {"container.ports-bound-to-interface", "ports: [\"[::]:8080:80\"]", true},
      {"container.ports-bound-to-interface", "ports: [\"3000\"]", true},
      {"container.ports-bound-to-interface", "ports: [\"127.0.0.1:8080:80\"]", false},
      {"container.ports-bound-to-interface", "ports: [\"443:443\"]", false},
      {"container.ports-bound-to-interface",
       "ports: [{target: 80, published: \"8081\", host_ip: \"10.1.2.3\"}]", false},
      {"container.restart-policy", "restart: always", true},
      {"container.restart-policy", "restart: on-failure:3", false},
      {"container.restart-policy", "restart: unless-stopped", false},
      {"container.mount-propagation", "volumes: [\"/srv/x:/x:rslave\"]", true},
      {"container.mount-propagation", "volumes: [\"/srv/x:/x:ro,private\"]", false},
      {"container.no-host-devices", "devices: [\"/dev/kvm:/dev/kvm\"]", true},
      {"container.no-host-devices", "devices: [\"/dev/net/tun:/dev/net/tun:rwm\"]", false},
  };
  std::mt19937 rng(15);
  for (int round = 0; round < 40; ++round) {
    TempRoot r;
    std::string yaml = "services:\n";
    std::map<std::string, std::map<std::string, bool>> want; // service -> check -> bad
    for (int s = 0; s < 3; ++s) {
      std::string name = "s" + std::to_string(s);
      yaml += "  " + name + ":\n    image: x:1\n";
      std::set<std::string> keys;
      for (int k = 0; k < 3; ++k) {
        const Item &it = k_items[rng() % k_items.size()];
        std::string key = it.yaml.substr(0, it.yaml.find(':'));
        if (!keys.insert(key).second)
          continue; // one of each key per service
        yaml += "    " + it.yaml + "\n";
        want[name][it.check] = want[name][it.check] || it.bad;
      }
    }
    r.write("/srv/gen/compose.yaml", yaml);
    // vpn-production's allow lists (443 public, /dev/net/tun); a check
    // beyond guide 000 reports its failure as warn (References.* prove
    // which checks those are).
    Audit a = audit(r.path(), {}, "vpn-production");
    for (auto &[svc, checks] : want)
      for (auto &[check, bad] : checks)
        EXPECT_EQ(
            a.get(check, "gen/" + svc).status,
            !bad ? Status::pass
                 : (a.get(check, "gen/" + svc).beyond_guide.empty() ? Status::fail : Status::warn))
            << check << " " << svc << "\n"
            << yaml;
  }
}
