// The compose loader: YAML anchors and merge keys with their lines,
// interpolation, the -f merge rules, short and long syntax, !reset,
// !override, include, extends, and hostile input (each an error with file
// and line, memory bounded).

#include "../support.hpp"

#include <bulwark/parse/compose.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <random>

using namespace bulwark;
using namespace bulwark::compose;

namespace {

// Files in memory: path -> text.
struct Mem {
  std::map<std::string, std::string> files;
  Reader reader() const {
    Reader r;
    r.read = [this](const std::string &p, size_t max) -> Result<std::string> {
      auto it = files.find(p);
      if (it == files.end())
        return Error{"No such file or directory", p, 0, ENOENT};
      if (it->second.size() > max)
        return Error{"file is larger than " + std::to_string(max / (1024 * 1024)) + " MiB", p};
      return it->second;
    };
    r.is_file = [this](const std::string &p) { return files.count(p) > 0; };
    return r;
  }
};

Project load(const Mem &m, std::vector<std::string> files,
             std::map<std::string, std::string> env = {}) {
  LoadOptions o;
  o.use_process_environment = false;
  o.environment = std::move(env);
  return load_project(m.reader(), files, o);
}

const Value &svc(const Project &p, const std::string &name) {
  static Value none;
  const Value *s = p.services();
  const Value *v = s ? s->find(name) : nullptr;
  return v ? *v : none;
}

std::string errors(const Project &p) {
  std::string out;
  for (auto &d : p.diagnostics)
    out += p.at(d.loc) + ": " + d.message + "\n";
  return out;
}

} // namespace

TEST(Compose, MergeKeyLocalKeysWinAndLinesAreTheAnchors) {
  Mem m;
  m.files["/p/compose.yaml"] = R"(x-defaults: &defaults
  read_only: true
  user: "0"
  cap_drop: [ALL]
x-more: &more
  user: "2000"
  privileged: false
services:
  a:
    <<: [*defaults, *more]
    image: alpine:3.19
    user: "1000"
  b:
    image: alpine:3.19
)";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &a = svc(p, "a");
  EXPECT_EQ(a.find("user")->str(), "1000"); // local key wins
  EXPECT_EQ(a.find("user")->loc.line, 12);
  EXPECT_EQ(a.find("read_only")->str(), "true");
  EXPECT_EQ(a.find("read_only")->loc.line, 2); // the anchor's line
  EXPECT_EQ(a.find("privileged")->loc.line, 7);
  EXPECT_EQ(a.find("cap_drop")->items[0].loc.line, 4);
  // The defaults count for the service they are merged into, no other.
  EXPECT_EQ(svc(p, "b").find("read_only"), nullptr);
  EXPECT_EQ(svc(p, "b").find("cap_drop"), nullptr);
}

TEST(Compose, MergeKeyListFirstSourceWins) {
  Mem m;
  m.files["/p/compose.yaml"] = "x-a: &a {user: '1'}\nx-b: &b {user: '2', read_only: true}\n"
                               "services:\n  s:\n    image: x:1\n    <<: [*a, *b]\n";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(svc(p, "s").find("user")->str(), "1");
  EXPECT_EQ(svc(p, "s").find("read_only")->str(), "true");
}

TEST(Compose, Interpolation) {
  std::map<std::string, std::string> vars = {{"SET", "v"}, {"EMPTY", ""}, {"N", "SET"}};
  auto I = [&](const char *t) {
    auto r = interpolate(t, vars);
    return r.ok() ? *r : "ERR:" + r.error().message;
  };
  EXPECT_EQ(I("$SET/${SET}"), "v/v");
  EXPECT_EQ(I("${UNSET:-d}|${EMPTY:-d}|${EMPTY-d}|${UNSET-d}"), "d|d||d");
  EXPECT_EQ(I("${SET:+alt}|${EMPTY:+alt}|${EMPTY+alt}|${UNSET+alt}"), "alt||alt|");
  EXPECT_EQ(I("${UNSET:-${SET}-x}"), "v-x"); // nesting
  EXPECT_EQ(I("${UNSET:-${ALSO:-deep}}"), "deep");
  EXPECT_EQ(I("$$SET and $${SET}"), "$SET and ${SET}");
  EXPECT_EQ(I("${SET:?boom}"), "v");
  EXPECT_NE(I("${EMPTY:?boom}").find("ERR:required variable EMPTY"), std::string::npos);
  EXPECT_EQ(I("${EMPTY?boom}"), "");
  EXPECT_NE(I("${UNSET?boom}").find("boom"), std::string::npos);
  // Issue 15: a `$` that starts no substitution is itself in Compose v2
  // (compose-go's `invalid` group is inside the braces); 1.29 refused it.
  EXPECT_EQ(I("price $5"), "price $5");
  EXPECT_EQ(I("Host(`a`) && PathRegexp(`^/x$`)"), "Host(`a`) && PathRegexp(`^/x$`)");
  EXPECT_EQ(I("sh -c 'echo $(date) $! $1'"), "sh -c 'echo $(date) $! $1'");
  EXPECT_EQ(I("trailing $"), "trailing $");
  EXPECT_EQ(I("$5$SET"), "$5v");
  EXPECT_NE(I("${SET").find("ERR:invalid"), std::string::npos);
  EXPECT_NE(I("${1x}").find("ERR:invalid"), std::string::npos);
  std::vector<std::string> unset;
  ASSERT_TRUE(interpolate("a${NOPE}b$ALSO_NOPE", vars, &unset).ok());
  EXPECT_EQ(unset, (std::vector<std::string>{"NOPE", "ALSO_NOPE"}));
}

TEST(Compose, InterpolationFromDotenvAndEnvironmentWithWarnings) {
  Mem m;
  m.files["/p/compose.yaml"] = "services:\n  s:\n    image: \"nginx:${TAG}\"\n"
                               "    user: \"${UID_:-1000}\"\n    labels:\n      a: $MISSING\n";
  m.files["/p/.env"] = "TAG=1.25\nUID_=0\n";
  Project p = load(m, {"/p/compose.yaml"}, {{"UID_", "33"}});
  EXPECT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(svc(p, "s").find("image")->str(), "nginx:1.25");
  EXPECT_EQ(svc(p, "s").find("image")->raw, "nginx:${TAG}");
  EXPECT_EQ(svc(p, "s").find("user")->str(), "33"); // the environment beats .env
  ASSERT_EQ(p.diagnostics.size(), 1u);
  EXPECT_EQ(p.diagnostics[0].level, Diagnostic::Level::warning);
  EXPECT_EQ(p.at(p.diagnostics[0].loc), "/p/compose.yaml:6");
  EXPECT_NE(p.diagnostics[0].message.find("MISSING"), std::string::npos);
}

TEST(Compose, RequiredVariableIsAnErrorWithLine) {
  Mem m;
  m.files["/p/compose.yaml"] = "services:\n  s:\n    image: x:1\n    environment:\n"
                               "      K: ${NEED:?set NEED first}\n";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_FALSE(p.valid());
  EXPECT_EQ(p.at(p.diagnostics[0].loc), "/p/compose.yaml:5");
  EXPECT_NE(p.diagnostics[0].message.find("set NEED first"), std::string::npos);
}

TEST(Compose, MultiFileMergeRules) {
  Mem m;
  m.files["/p/a.yml"] = R"(services:
  web:
    image: nginx:1.24
    command: ["a", "b"]
    environment: [A=1, B=2]
    cap_add: [NET_ADMIN]
    ports: ["127.0.0.1:8080:80", "443:443"]
    volumes: ["/srv/a:/data", "logs:/var/log"]
    ulimits: {nofile: {soft: 10, hard: 20}}
    networks: [front]
    logging: {driver: json-file, options: {max-size: 1m}}
    healthcheck: {test: ["CMD", "a"], interval: 10s}
)";
  m.files["/p/b.yml"] = R"(services:
  web:
    image: nginx:1.25
    command: ["c"]
    environment: {B: "3", C: "4"}
    cap_add: [NET_ADMIN, SYS_TIME]
    ports: ["8080:80", "443:443"]
    volumes: ["/srv/b:/data"]
    ulimits: {nproc: 5}
    networks: {back: {}}
    logging: {driver: syslog}
    healthcheck: {test: ["CMD", "b"]}
)";
  Project p = load(m, {"/p/a.yml", "/p/b.yml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &w = svc(p, "web");
  EXPECT_EQ(w.find("image")->str(), "nginx:1.25");
  EXPECT_EQ(p.at(w.find("image")->loc), "/p/b.yml:3");
  ASSERT_EQ(w.find("command")->items.size(), 1u); // replaced
  auto *env = w.find("environment");
  ASSERT_TRUE(env->is_mapping());
  EXPECT_EQ(env->entries.size(), 3u);
  EXPECT_EQ(env->entries[1].first, "B"); // later value, earlier position
  EXPECT_EQ(env->find("B")->str(), "3");
  EXPECT_EQ(p.at(env->find("B")->loc), "/p/b.yml:5");
  EXPECT_EQ(p.at(env->find("A")->loc), "/p/a.yml:5");
  EXPECT_EQ(w.find("cap_add")->items.size(), 2u); // unique
  // 127.0.0.1:8080:80 and 0.0.0.0:8080:80 differ; 443 is de-duplicated.
  EXPECT_EQ(w.find("ports")->items.size(), 3u);
  ASSERT_EQ(w.find("volumes")->items.size(), 2u); // by target
  EXPECT_EQ(w.find("volumes")->items[0].str(), "/srv/b:/data");
  EXPECT_EQ(w.find("ulimits")->entries.size(), 2u);
  EXPECT_EQ(w.find("networks")->entries.size(), 2u);
  EXPECT_EQ(w.find("logging")->find("options"), nullptr); // other driver: replaced
  EXPECT_EQ(w.find("healthcheck")->find("test")->items[1].str(), "b");
  EXPECT_EQ(w.find("healthcheck")->find("interval")->str(), "10s");
}

TEST(Compose, LoggingOptionsMergeWhenTheDriverMatches) {
  Mem m;
  m.files["/p/a.yml"] = "services:\n  s:\n    image: x:1\n    logging:\n      driver: json-file\n"
                        "      options: {max-size: 1m}\n";
  m.files["/p/b.yml"] = "services:\n  s:\n    logging:\n      options: {max-file: '3'}\n";
  Project p = load(m, {"/p/a.yml", "/p/b.yml"});
  auto *o = svc(p, "s").find("logging")->find("options");
  EXPECT_EQ(o->entries.size(), 2u);
}

TEST(Compose, ResetAndOverrideTags) {
  Mem m;
  m.files["/p/a.yml"] = "services:\n  s:\n    image: x:1\n    privileged: true\n"
                        "    ports: ['127.0.0.1:5432:5432']\n    cap_add: [A]\n";
  m.files["/p/b.yml"] = "services:\n  s:\n    privileged: !reset null\n"
                        "    ports: !override\n      - '5432:5432'\n    cap_add: !override [B]\n";
  Project p = load(m, {"/p/a.yml", "/p/b.yml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &s = svc(p, "s");
  EXPECT_EQ(s.find("privileged"), nullptr);
  ASSERT_EQ(s.find("ports")->items.size(), 1u);
  EXPECT_EQ(s.find("ports")->items[0].str(), "5432:5432");
  ASSERT_EQ(s.find("cap_add")->items.size(), 1u);
  EXPECT_EQ(s.find("cap_add")->items[0].str(), "B");
  ASSERT_EQ(p.notes.size(), 1u);
  EXPECT_EQ(p.notes[0].service, "s");
  EXPECT_NE(p.notes[0].message.find("127.0.0.1"), std::string::npos);
  EXPECT_NE(p.notes[0].message.find("/p/b.yml:4"), std::string::npos);
}

TEST(Compose, NoVersionKeyAndPidsLimit) {
  Mem m;
  m.files["/p/compose.yaml"] = "services:\n  s:\n    image: x:1\n    pids_limit: 100\n";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(svc(p, "s").find("pids_limit")->str(), "100");
  EXPECT_EQ(p.name, "p");
}

TEST(Compose, ExtendsSameFileAndOtherFile) {
  Mem m;
  m.files["/p/compose.yaml"] = R"(services:
  base:
    image: x:1
    user: "1000"
    depends_on: [other]
    cap_drop: [ALL]
  other:
    image: y:1
  child:
    extends: base
    read_only: true
  remote:
    extends: {file: common/base.yml, service: hardened}
)";
  m.files["/p/common/base.yml"] = "services:\n  hardened:\n    image: z:2\n"
                                  "    security_opt: [no-new-privileges:true]\n";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &c = svc(p, "child");
  EXPECT_EQ(c.find("user")->str(), "1000");
  EXPECT_EQ(c.find("user")->loc.line, 4);
  EXPECT_EQ(c.find("depends_on"), nullptr); // not inherited
  EXPECT_EQ(c.find("extends"), nullptr);
  EXPECT_EQ(c.find("read_only")->str(), "true");
  const Value &r = svc(p, "remote");
  EXPECT_EQ(r.find("image")->str(), "z:2");
  EXPECT_EQ(p.at(r.find("security_opt")->items[0].loc), "/p/common/base.yml:4");
}

// compose-go v2 resolves `extends` file by file, before the -f merge
// (loader.go: ApplyExtends on each file's own services; extends.go: "service
// not found" otherwise). So an override cannot extend a service that only an
// earlier -f file defines, and a base changed by an override does not change
// the services that extend it. (Compose 1.29 differs on the first: it merges
// the files, then looks the base up in the first file; bulwark follows v2.)
TEST(Compose, ExtendsIsResolvedWithinEachFileBeforeTheMerge) {
  Mem m;
  m.files["/p/compose.yaml"] = "services:\n  base:\n    image: x:1\n  web:\n    extends: base\n";
  m.files["/p/override.yaml"] = "services:\n  base:\n    privileged: true\n";
  Project p = load(m, {"/p/compose.yaml", "/p/override.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(svc(p, "base").find("privileged")->str(), "true");
  EXPECT_EQ(svc(p, "web").find("privileged"), nullptr); // extended before the override
  EXPECT_EQ(svc(p, "web").find("image")->str(), "x:1");

  m.files["/p/override.yaml"] = "services:\n  api:\n    extends: base\n    command: [x]\n";
  Project q = load(m, {"/p/compose.yaml", "/p/override.yaml"});
  ASSERT_FALSE(q.valid());
  bool named = false;
  for (auto &d : q.diagnostics)
    if (d.message.find("service base not found in /p/override.yaml") != std::string::npos) {
      named = true;
      EXPECT_EQ(q.at(d.loc), "/p/override.yaml:3");
    }
  EXPECT_TRUE(named) << errors(q);
  // The first file's services are still there.
  EXPECT_EQ(svc(q, "web").find("image")->str(), "x:1");
}

// compose-go reads every document of a file and merges each into what came
// before (loader.go, loadYamlFile); an empty file or document adds nothing.
TEST(Compose, EveryDocumentOfAFileIsMergedInOrder) {
  Mem m;
  m.files["/p/compose.yaml"] = "services:\n  web:\n    image: x:1\n    ports: ['127.0.0.1:80:80']\n"
                               "---\n"
                               "services:\n  web:\n    privileged: true\n    cap_add: [NET_ADMIN]\n"
                               "---\n";
  m.files["/p/empty.yaml"] = "# nothing here yet\n";
  Project p = load(m, {"/p/compose.yaml", "/p/empty.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &web = svc(p, "web");
  EXPECT_EQ(web.find("image")->str(), "x:1");
  EXPECT_EQ(web.find("privileged")->str(), "true");
  EXPECT_EQ(p.at(web.find("privileged")->loc), "/p/compose.yaml:8");
  EXPECT_EQ(web.find("cap_add")->items.size(), 1u);
  // A broken later document is an error at its line; the first file's
  // content is not half-applied.
  m.files["/p/compose.yaml"] = "services:\n  web:\n    image: x:1\n---\nservices: [\n";
  Project q = load(m, {"/p/compose.yaml"});
  ASSERT_FALSE(q.valid());
  EXPECT_EQ(q.diagnostics.front().loc.line, 5);
}

TEST(Compose, ExtendsLoopIsAnError) {
  Mem m;
  m.files["/p/compose.yaml"] =
      "services:\n  a:\n    image: x:1\n    extends: b\n  b:\n    image: x:1\n    extends: a\n";
  Project p = load(m, {"/p/compose.yaml"});
  EXPECT_FALSE(p.valid());
}

TEST(Compose, IncludeBringsServicesAndDetectsConflicts) {
  Mem m;
  m.files["/p/compose.yaml"] = "include:\n  - db/compose.yaml\nservices:\n  web:\n    image: x:1\n";
  m.files["/p/db/compose.yaml"] = "services:\n  db:\n    image: postgres:16\n";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(p.at(svc(p, "db").find("image")->loc), "/p/db/compose.yaml:3");
  // A service defined both locally and in the included file: compose-go
  // >= 2.10 merges the local definition over the imported one (a warning
  // says older Compose rejects it).
  m.files["/p/compose.yaml"] =
      "include:\n  - db/compose.yaml\nservices:\n  db:\n    user: \"999\"\n";
  m.files["/p/db/compose.yaml"] =
      "services:\n  db:\n    image: postgres:16\n    privileged: true\n    user: root\n";
  Project merged = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(merged.valid()) << errors(merged);
  EXPECT_EQ(svc(merged, "db").find("image")->str(), "postgres:16");
  EXPECT_EQ(svc(merged, "db").find("privileged")->str(), "true");
  EXPECT_EQ(merged.at(svc(merged, "db").find("privileged")->loc), "/p/db/compose.yaml:4");
  EXPECT_EQ(svc(merged, "db").find("user")->str(), "999");
  EXPECT_EQ(merged.at(svc(merged, "db").find("user")->loc), "/p/compose.yaml:5");
  ASSERT_EQ(merged.diagnostics.size(), 1u) << errors(merged);
  EXPECT_NE(merged.diagnostics[0].message.find("compose-go >= 2.10"), std::string::npos);
  m.files["/p/db/compose.yaml"] = "include: [../compose.yaml]\nservices: {}\n";
  EXPECT_FALSE(load(m, {"/p/compose.yaml"}).valid()); // include loop
}

TEST(Compose, ShortAndLongSyntax) {
  Value v;
  v.kind = Value::Kind::scalar;
  v.scalar = "127.0.0.1:5432:5432/tcp";
  auto p = parse_port(v);
  ASSERT_TRUE(p);
  EXPECT_EQ((*p)[0].host_ip, "127.0.0.1");
  EXPECT_EQ((*p)[0].published, "5432");
  v.scalar = "[::1]:80:8080";
  EXPECT_EQ((*parse_port(v))[0].host_ip, "::1");
  v.scalar = "6379";
  EXPECT_EQ((*parse_port(v))[0].published, "");
  v.scalar = "/var/run/docker.sock:/var/run/docker.sock:ro";
  auto mnt = parse_volume(v);
  ASSERT_TRUE(mnt);
  EXPECT_EQ(mnt->type, "bind");
  EXPECT_TRUE(mnt->read_only);
  Mem m;
  m.files["/p/compose.yaml"] = R"(services:
  s:
    image: x:1
    ports:
      - target: 5432
        published: "5432"
        host_ip: 0.0.0.0
    volumes:
      - type: bind
        source: /etc
        target: /host-etc
        read_only: true
)";
  Project pr = load(m, {"/p/compose.yaml"});
  auto *port = &svc(pr, "s").find("ports")->items[0];
  EXPECT_EQ((*parse_port(*port))[0].target, "5432");
  EXPECT_EQ(pr.at((*parse_port(*port))[0].loc), "/p/compose.yaml:5");
  auto vol = parse_volume(svc(pr, "s").find("volumes")->items[0]);
  EXPECT_TRUE(vol->read_only);
  EXPECT_EQ(vol->source, "/etc");
}

// --- bad input: an error with file and line, nothing else breaks ----------

struct Bad {
  const char *name;
  std::string text;
  int line;
};

TEST(Compose, BadInputIsAnErrorWithFileAndLine) {
  std::string laughs = "a: &a [x, x, x, x, x, x, x, x, x, x]\n";
  for (char c = 'b'; c <= 'j'; ++c) {
    std::string prev(1, static_cast<char>(c - 1));
    laughs += std::string(1, c) + ": &" + c + " [*" + prev;
    for (int i = 0; i < 9; ++i)
      laughs += ", *" + prev;
    laughs += "]\n";
  }
  laughs += "services:\n  s:\n    image: x:1\n    labels: *j\n";
  std::vector<Bad> cases = {
      {"invalid", "services:\n  s:\n    image: [x\n", 3}, // the bracket's line, not past the end
      {"tabs", "services:\n\ts:\n\t\timage: x\n", 2},
      {"duplicate", "services:\n  s:\n    image: x:1\n    image: y:1\n", 4},
      {"undefined alias", "services:\n  s:\n    <<: *nope\n    image: x:1\n", 3},
      {"billion laughs", laughs, 0},
      {"services not a mapping", "services:\n  - a\n  - b\n", 2},
      {"service not a mapping", "services:\n  s: nginx\n", 2},
      {"no image", "services:\n  s:\n    user: '1'\n", 2},
      {"top-level list", "- a\n- b\n", 1},
  };
  for (auto &c : cases) {
    Mem m;
    m.files["/p/compose.yaml"] = c.text;
    m.files["/p/b.yml"] = "services:\n  other:\n    image: y:1\n";
    Project p = load(m, {"/p/compose.yaml", "/p/b.yml"});
    ASSERT_FALSE(p.valid()) << c.name;
    auto &d = p.diagnostics.front();
    EXPECT_EQ(p.where(d.loc).path, "/p/compose.yaml") << c.name;
    if (c.line)
      EXPECT_EQ(d.loc.line, c.line) << c.name << ": " << d.message;
    else
      EXPECT_GT(d.loc.line, 0) << c.name << ": " << d.message;
    // The other file still loads.
    EXPECT_NE(svc(p, "other").find("image"), nullptr) << c.name;
  }
}

TEST(Compose, HugeFileIsRefusedBeforeParsing) {
  bulwark::test::TempRoot r;
  std::string big = "services:\n  s:\n    image: x:1\n    labels:\n";
  big.reserve(50u << 20);
  for (int i = 0; big.size() < (50u << 20); ++i)
    big += "      k" + std::to_string(i) + ": v\n";
  r.write("/srv/app/compose.yaml", big);
  RootFs fs(r.path());
  Project p = load_project(root_reader(fs), {"/srv/app/compose.yaml"});
  ASSERT_FALSE(p.valid());
  EXPECT_NE(p.diagnostics[0].message.find("larger than"), std::string::npos);
  EXPECT_EQ(p.where(p.diagnostics[0].loc).path, "/srv/app/compose.yaml");
}

TEST(Compose, DiscoveryFindsProjectsAndOverridePartners) {
  bulwark::test::TempRoot r;
  r.write("/srv/vpn/docker-compose.yml", "services: {}\n");
  r.write("/srv/vpn/docker-compose.override.yml", "services: {}\n");
  r.write("/opt/a/b/compose.yaml", "services: {}\n");
  r.write("/opt/a/b/docker-compose.yml", "services: {}\n"); // compose.yaml is picked first
  r.write("/home/alice/app/compose.yml", "services: {}\n");
  r.write("/usr/share/compose.yaml", "services: {}\n");     // not a place we look
  r.write("/opt/1/2/3/4/5/compose.yaml", "services: {}\n"); // too deep
  RootFs fs(r.path());
  auto found = discover(fs);
  std::set<std::vector<std::string>> got(found.begin(), found.end());
  std::set<std::vector<std::string>> want = {
      {"/srv/vpn/docker-compose.yml", "/srv/vpn/docker-compose.override.yml"},
      {"/opt/a/b/compose.yaml"},
      {"/home/alice/app/compose.yml"}};
  EXPECT_EQ(got, want);
}

TEST(Compose, DiscoveryPicksTheOverrideComposeWouldWhateverTheMainName) {
  // compose-go cli/options.go: the first of compose.override.yml,
  // compose.override.yaml, docker-compose.override.yml,
  // docker-compose.override.yaml, independent of the main file's name.
  bulwark::test::TempRoot r;
  r.write("/srv/a/docker-compose.yaml", "services: {}\n");
  r.write("/srv/a/compose.override.yaml", "services: {}\n");
  r.write("/srv/b/compose.yaml", "services: {}\n");
  r.write("/srv/b/docker-compose.override.yml", "services: {}\n");
  r.write("/srv/b/compose.override.yml", "services: {}\n"); // first in Compose's order
  RootFs fs(r.path());
  auto found = discover(fs);
  std::set<std::vector<std::string>> got(found.begin(), found.end());
  std::set<std::vector<std::string>> want = {
      {"/srv/a/docker-compose.yaml", "/srv/a/compose.override.yaml"},
      {"/srv/b/compose.yaml", "/srv/b/compose.override.yml"}};
  EXPECT_EQ(got, want);
}

TEST(Compose, EnvFileOptionReplacesDotenvAndNamesTheProject) {
  Mem m;
  m.files["/p/compose.yaml"] = "services:\n  s:\n    image: \"x:${TAG}\"\n";
  m.files["/p/.env"] = "TAG=from-dotenv\n";
  m.files["/cfg/prod.env"] = "TAG=from-env-file\nCOMPOSE_PROJECT_NAME=Prod_VPN\n";
  LoadOptions o;
  o.use_process_environment = false;
  o.env_files = {"/cfg/prod.env"};
  Project p = load_project(m.reader(), {"/p/compose.yaml"}, o);
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(svc(p, "s").find("image")->str(), "x:from-env-file");
  EXPECT_EQ(p.name, "prod_vpn");
  o.env_files = {"/cfg/absent.env"};
  EXPECT_FALSE(load_project(m.reader(), {"/p/compose.yaml"}, o).valid()); // named, so required
}

// Issue 20: a .env whose every variable is four copies of the previous one,
// 30 deep, is 16 * 4^30 bytes. The project's interpolation budget stops it
// with one error at the .env line reached; the variables before it count,
// and the project is not valid (fail closed).
TEST(Compose, DotenvExpansionChainStopsAtTheBudgetWithOneError) {
  Mem m;
  std::string env = "V0=xxxxxxxxxxxxxxxx\n";
  for (int i = 1; i <= 30; i++) {
    std::string p = "${V" + std::to_string(i - 1) + "}";
    env += "V" + std::to_string(i) + "=" + p + p + p + p + "\n";
  }
  m.files["/p/.env"] = env;
  m.files["/p/compose.yaml"] = "services:\n  s:\n    image: \"x:${V1}\"\n";
  auto t0 = std::chrono::steady_clock::now();
  Project p = load(m, {"/p/compose.yaml"});
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(10)));
  EXPECT_FALSE(p.valid());
  ASSERT_EQ(p.diagnostics.size(), 1u) << errors(p);
  EXPECT_EQ(p.diagnostics[0].level, Diagnostic::Level::error);
  EXPECT_NE(p.diagnostics[0].message.find("more than 64 MiB"), std::string::npos);
  // V11 is 64 MiB by itself: with V0..V10 spent it passes the budget.
  EXPECT_EQ(p.at(p.diagnostics[0].loc), "/p/.env:12");
  ASSERT_TRUE(p.variables.count("V10"));
  EXPECT_EQ(p.variables.at("V10").size(), 16u << 20);
  EXPECT_FALSE(p.variables.count("V11"));
}

// The same budget covers the compose file's values: a 4 MiB variable used
// on twenty lines stops at the line that passes 64 MiB in all.
TEST(Compose, InterpolationBudgetCoversTheComposeFile) {
  Mem m;
  std::string env = "V0=xxxxxxxxxxxxxxxx\n";
  for (int i = 1; i <= 9; i++) {
    std::string p = "${V" + std::to_string(i - 1) + "}";
    env += "V" + std::to_string(i) + "=" + p + p + p + p + "\n";
  }
  m.files["/p/.env"] = env;
  std::string yaml = "services:\n  s:\n    image: x\n    environment:\n";
  for (int i = 0; i < 20; i++)
    yaml += "      - E" + std::to_string(i) + "=${V9}\n";
  m.files["/p/compose.yaml"] = yaml;
  Project p = load(m, {"/p/compose.yaml"});
  EXPECT_FALSE(p.valid());
  ASSERT_EQ(p.diagnostics.size(), 1u) << errors(p);
  // 64 MiB less V0..V9 (5.3 MiB) leaves room for 14 copies of V9 (4 MiB).
  EXPECT_EQ(p.at(p.diagnostics[0].loc), "/p/compose.yaml:19") << errors(p);
}

TEST(Compose, NullInAnOverrideKeepsTheBaseValue) {
  // compose-go override.MergeYaml: `if o == nil { return e }`. An override
  // that says `privileged:` with no value hides nothing.
  Mem m;
  m.files["/p/compose.yaml"] = R"(services:
  db:
    image: postgres:16
    privileged: true
    volumes:
      - /var/run/docker.sock:/var/run/docker.sock
    ports:
      - "5432:5432"
    environment:
      A: "1"
)";
  m.files["/p/override.yaml"] = R"(services:
  db:
    privileged:
    volumes:
    ports:
    environment:
      A:
)";
  Project p = load(m, {"/p/compose.yaml", "/p/override.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &db = svc(p, "db");
  ASSERT_TRUE(db.find("privileged"));
  EXPECT_EQ(db.find("privileged")->str(), "true");
  EXPECT_EQ(p.at(db.find("privileged")->loc), "/p/compose.yaml:4");
  ASSERT_TRUE(db.find("volumes") && db.find("volumes")->is_sequence());
  EXPECT_EQ(db.find("volumes")->items.size(), 1u);
  ASSERT_TRUE(db.find("ports") && db.find("ports")->is_sequence());
  EXPECT_EQ(db.find("ports")->items.at(0).str(), "5432:5432");
  // A bare KEY in environment means "from the shell": it replaces.
  ASSERT_TRUE(db.find("environment")->find("A"));
  EXPECT_TRUE(db.find("environment")->find("A")->is_null());
  // !reset still removes.
  m.files["/p/override.yaml"] = "services:\n  db:\n    privileged: !reset null\n";
  Project r = load(m, {"/p/compose.yaml", "/p/override.yaml"});
  ASSERT_TRUE(r.valid()) << errors(r);
  EXPECT_EQ(svc(r, "db").find("privileged"), nullptr);
}

TEST(Compose, RelativePathsOfEveryFileResolveAgainstTheProjectDirectory) {
  Mem m;
  m.files["/p/compose.yaml"] = "services:\n  web:\n    image: nginx:1.25\n";
  m.files["/p/deploy/prod.yaml"] = R"(services:
  web:
    env_file: ./prod.env
    build: ./ctx
    volumes:
      - ./data:/data
)";
  m.files["/p/prod.env"] = "A=1\n";
  Project p = load(m, {"/p/compose.yaml", "/p/deploy/prod.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &web = svc(p, "web");
  EXPECT_EQ(p.resolve(web.find("env_file")->loc, "./prod.env"), "/p/prod.env");
  EXPECT_EQ(p.resolve(web.find("build")->find("context")->loc, "./ctx"), "/p/ctx");
  EXPECT_EQ(p.resolve(web.find("volumes")->items.at(0).loc, "./data"), "/p/data");
  // The override's own folder is not where Compose looks: a file only there
  // is missing.
  m.files.erase("/p/prod.env");
  m.files["/p/deploy/prod.env"] = "A=1\n";
  Project q = load(m, {"/p/compose.yaml", "/p/deploy/prod.yaml"});
  EXPECT_FALSE(q.valid());
  EXPECT_NE(
      errors(q).find("/p/deploy/prod.yaml:3: service web: env_file /p/prod.env does not exist"),
      std::string::npos)
      << errors(q);
}

TEST(Compose, IncludedProjectIsInterpolatedWithItsOwnDotenv) {
  Mem m;
  m.files["/p/compose.yaml"] =
      "include:\n  - sub/compose.yaml\nservices:\n  web:\n    image: ${WEB}\n";
  m.files["/p/.env"] = "WEB=nginx:1.25\nSHARED=parent\n";
  m.files["/p/sub/compose.yaml"] = R"(services:
  db:
    image: ${DB_IMAGE}
    env_file: db.env
    labels:
      shared: ${SHARED}
)";
  m.files["/p/sub/.env"] = "DB_IMAGE=postgres:16\nSHARED=child\n";
  m.files["/p/sub/db.env"] = "X=1\n";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  EXPECT_EQ(svc(p, "web").find("image")->str(), "nginx:1.25");
  EXPECT_EQ(svc(p, "db").find("image")->str(), "postgres:16");
  // The including project's variables win (types.Mapping.Merge).
  EXPECT_EQ(svc(p, "db").find("labels")->find("shared")->str(), "parent");
  // The included project's relative paths are its own directory's.
  EXPECT_EQ(p.resolve(svc(p, "db").find("env_file")->loc, "db.env"), "/p/sub/db.env");
  // The parent project does not see the child's .env.
  EXPECT_EQ(p.variables.count("DB_IMAGE"), 0u);
}

TEST(Compose, UnknownKeysAreErrorsWithFileAndLine) {
  Mem m;
  m.files["/p/compose.yaml"] = R"(x-top: {a: 1}
services:
  web:
    image: nginx:1.25
    privilege: true
    cap-add: [SYS_ADMIN]
    x-mine: ok
    deploy:
      resources:
        limit: {memory: 1g}
    healthcheck:
      disable: false
    ports:
      - target: 80
        hostip: 0.0.0.0
networks:
  front:
    internal: true
    encrypted: true
sevices: {}
)";
  Project p = load(m, {"/p/compose.yaml"});
  EXPECT_FALSE(p.valid());
  std::string e = errors(p);
  EXPECT_NE(e.find("/p/compose.yaml:5: services.web: key 'privilege' is not allowed"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("/p/compose.yaml:6: services.web: key 'cap-add' is not allowed"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("/p/compose.yaml:10: services.web.deploy.resources: key 'limit'"),
            std::string::npos)
      << e;
  EXPECT_NE(e.find("/p/compose.yaml:15: services.web.ports[0]: key 'hostip'"), std::string::npos)
      << e;
  EXPECT_NE(e.find("/p/compose.yaml:19: networks.front: key 'encrypted'"), std::string::npos) << e;
  EXPECT_NE(e.find("/p/compose.yaml:20: the top level: key 'sevices'"), std::string::npos) << e;
  EXPECT_EQ(e.find("x-mine"), std::string::npos) << e;
  EXPECT_EQ(e.find("x-top"), std::string::npos) << e;
  EXPECT_EQ(e.find("disable"), std::string::npos) << e;
  EXPECT_EQ(p.diagnostics.size(), 6u) << e;
}

TEST(Compose, MissingEnvFileIsAnErrorUnlessNotRequired) {
  Mem m;
  m.files["/p/compose.yaml"] = R"(services:
  web:
    image: nginx:1.25
    env_file:
      - path: ./optional.env
        required: false
      - ./present.env
)";
  m.files["/p/present.env"] = "A=1\n";
  Project p = load(m, {"/p/compose.yaml"});
  EXPECT_TRUE(p.valid()) << errors(p);
  m.files.erase("/p/present.env");
  Project q = load(m, {"/p/compose.yaml"});
  ASSERT_FALSE(q.valid());
  EXPECT_NE(
      errors(q).find("/p/compose.yaml:7: service web: env_file /p/present.env does not exist"),
      std::string::npos)
      << errors(q);
}

TEST(Compose, FlowSequenceClosedLeftOfItsItemsParsesAsGoYamlReadsIt) {
  // Sentry's self-hosted compose file: libfyaml rejects the `]` at the key's
  // column, go-yaml and libyaml accept it.
  Mem m;
  m.files["/p/compose.yaml"] = R"(services:
  web:
    image: nginx:1.25
    command: [
      "nginx",
      "-g", "daemon off;",
    ]
    cap_drop: [
      ALL
    ]
    user: "101"
)";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  const Value &web = svc(p, "web");
  ASSERT_TRUE(web.find("command") && web.find("command")->is_sequence());
  EXPECT_EQ(web.find("command")->items.size(), 3u);
  EXPECT_EQ(web.find("command")->items.at(2).str(), "daemon off;");
  EXPECT_EQ(web.find("cap_drop")->items.at(0).str(), "ALL");
  EXPECT_EQ(p.at(web.find("user")->loc), "/p/compose.yaml:11"); // lines unchanged
  // Other errors still fail, with their own line.
  m.files["/p/compose.yaml"] = "services:\n  web:\n    command: [\n      a,\n    ]\n  bad: [\n";
  Project q = load(m, {"/p/compose.yaml"});
  EXPECT_FALSE(q.valid());
}

TEST(Compose, SeveralIncludesKeepTheIncludersDirectory) {
  // Regression: the includer's directory was held by reference into the
  // file list while each include appended to it (a use after free).
  Mem m;
  std::string inc;
  for (int i = 0; i < 20; ++i) {
    inc += "  - i" + std::to_string(i) + "/compose.yaml\n";
    m.files["/p/i" + std::to_string(i) + "/compose.yaml"] =
        "services:\n  s" + std::to_string(i) + ":\n    image: x:1\n";
  }
  m.files["/p/compose.yaml"] = "include:\n" + inc + "services: {}\n";
  Project p = load(m, {"/p/compose.yaml"});
  ASSERT_TRUE(p.valid()) << errors(p);
  ASSERT_EQ(p.services()->entries.size(), 20u);
  EXPECT_EQ(p.at(svc(p, "s19").find("image")->loc), "/p/i19/compose.yaml:3");
}

TEST(Compose, GeneratedNullOverridesNeverHideABaseValue) {
  // compose-go semantics (Docker Compose 1.29 refuses a null where a
  // boolean or list belongs, so it cannot be the oracle here): for random
  // services and random keys, an override that sets the key to null leaves
  // the merged value and its line exactly as the base wrote them; a key the
  // override sets to a value takes the override's.
  const std::vector<std::pair<std::string, std::string>> k_keys = {
      {"privileged", "true"},       {"user", "\"0\""},
      {"network_mode", "host"},     {"read_only", "false"},
      {"ports", "[\"5432:5432\"]"}, {"volumes", "[\"/var/run/docker.sock:/var/run/docker.sock\"]"},
      {"cap_add", "[SYS_ADMIN]"},   {"security_opt", "[\"seccomp:unconfined\"]"}};
  std::mt19937 rng(2026);
  for (int round = 0; round < 200; ++round) {
    Mem m;
    std::string base = "services:\n  s:\n    image: x:1\n";
    std::string over = "services:\n  s:\n";
    std::map<std::string, int> base_line;
    std::map<std::string, bool> nulled, replaced;
    int line = 4;
    for (auto &[k, v] : k_keys) {
      if (rng() % 2 == 0)
        continue;
      base += "    " + k + ": " + v + "\n";
      base_line[k] = line++;
      switch (rng() % 3) {
      case 0:
        over += "    " + k + ":\n";
        nulled[k] = true;
        break;
      case 1:
        over += "    " + k + ": ~\n";
        nulled[k] = true;
        break;
      default:
        if (k == "user") {
          over += "    user: \"1000\"\n";
          replaced[k] = true;
        }
      }
    }
    if (over == "services:\n  s:\n")
      over += "    image: x:1\n";
    m.files["/p/a.yaml"] = base;
    m.files["/p/b.yaml"] = over;
    Project p = load(m, {"/p/a.yaml", "/p/b.yaml"});
    ASSERT_TRUE(p.valid()) << errors(p) << base << over;
    const Value &s = svc(p, "s");
    for (auto &[k, l] : base_line) {
      const Value *v = s.find(k);
      ASSERT_NE(v, nullptr) << k << "\n" << base << over;
      ASSERT_FALSE(v->is_null()) << k << "\n" << base << over;
      if (replaced.count(k)) {
        EXPECT_EQ(v->str(), "1000");
        continue;
      }
      Loc at = v->is_sequence() ? v->items.at(0).loc : v->loc;
      EXPECT_EQ(p.at(at), "/p/a.yaml:" + std::to_string(l)) << k << "\n" << base << over;
    }
  }
}
