// Differential test: bulwark's compose model against Docker Compose 1.29
// (Debian's docker-compose) on generated multi-file projects, within what
// 1.29 understands: version 3.8 files, anchors and merge keys (`<<: *a`,
// `<<: [*a, *b]`), overrides, interpolation ($V, ${V}, ${V:-d}, ${V-d}, $$)
// from the environment and .env, environment as list or map and its
// de-duplication, ports (short syntax, host IPs) and volumes by target,
// cap_add/cap_drop unique, command replaced. For each service the values the
// checks read must agree: image, user, privileged, read_only, command,
// cap_add, cap_drop, environment, ports, volumes.
//
// 1.29 is asked through tests/parse/compose129_config.py: one Python
// process for the whole corpus (the same config.find/config.load that
// `docker-compose -f A -f B config` runs), because each docker-compose
// call costs ~0.5 s. k_projects projects, 2 or 3 files each.
//
// Known differences, kept out of the generator: 1.29 replaces security_opt
// where compose v2 appends it; 1.29 has no ${V:+alt}, no nested defaults,
// no !reset / !override, include or pids_limit in version 3 files (the
// fixtures in compose_test.cpp cover those).

#include "../support.hpp"

#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_deploy.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <random>
#include <set>
#include <sstream>

using namespace bulwark;
using namespace bulwark::compose;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

constexpr int k_projects = 60;

const std::map<std::string, std::string> k_env = {
    {"PATH", "/usr/bin:/bin"}, {"HOME", "/nonexistent"}, {"TAG", "2.1"},
    {"SET_A", "alpha"},        {"SET_B", "b-value"},     {"EMPTY", ""}};

struct Gen {
  std::mt19937 rng;
  explicit Gen(unsigned seed) : rng(seed) {}
  size_t pick(size_t n) { return std::uniform_int_distribution<size_t>(0, n - 1)(rng); }
  bool coin(int percent = 50) { return static_cast<int>(pick(100)) < percent; }
  template <class T> const T &one(const std::vector<T> &v) { return v[pick(v.size())]; }
};

const std::vector<std::string> k_values = {
    "plain",       "${SET_A}",       "$SET_B",       "${UNSET_X:-dflt}",
    "${EMPTY:-e}", "${EMPTY-e}",     "${UNSET_Y-u}", "pre-${SET_A}-post",
    "$$literal",   "${FROM_DOTENV}", "x${TAG}y",     "with space",
    "100"};
const std::vector<std::string> k_ports = {
    "127.0.0.1:8080:80",   "8080:80",   "443:443",           "9000:9000/udp",
    "127.0.0.1:5432:5432", "5432:5432", "0.0.0.0:6379:6379", "3000"};
const std::vector<std::string> k_vols = {"/srv/data:/data",   "/srv/other:/data:ro",
                                         "cache:/cache",      "/etc/app:/etc/app:ro",
                                         "logs:/var/log/app", "/srv/logs:/var/log/app"};
const std::vector<std::string> k_caps = {"NET_ADMIN", "NET_BIND_SERVICE", "SYS_TIME", "CHOWN",
                                         "ALL"};

std::string q(const std::string &s) {
  return "\"" + s + "\"";
}

void emit_env(Gen &g, std::ostringstream &o, const std::string &indent) {
  size_t n = 1 + g.pick(4);
  std::set<std::string> keys;
  for (size_t i = 0; i < n; ++i)
    keys.insert("K" + std::to_string(g.pick(5)));
  if (g.coin()) {
    o << indent << "environment:\n";
    for (auto &k : keys)
      o << indent << "  - " << q(k + "=" + g.one(k_values)) << "\n";
  } else {
    o << indent << "environment:\n";
    for (auto &k : keys)
      o << indent << "  " << k << ": " << q(g.one(k_values)) << "\n";
  }
}

std::string split_target(const std::string &v) {
  size_t a = v.find(':');
  size_t b = v.find(':', a + 1);
  return v.substr(a + 1, b == std::string::npos ? std::string::npos : b - a - 1);
}

void emit_list(Gen &g, std::ostringstream &o, const std::string &indent, const char *key,
               const std::vector<std::string> &pool) {
  size_t n = 1 + g.pick(3);
  std::set<std::string> chosen;
  for (size_t i = 0; i < n; ++i)
    chosen.insert(g.one(pool));
  // Two items with the same target in one file are a 1.29 error: keep one.
  std::set<std::string> targets;
  o << indent << key << ":\n";
  for (auto &c : chosen) {
    std::string t = std::string(key) == "volumes" ? split_target(c) : c;
    if (!targets.insert(t).second)
      continue;
    o << indent << "  - " << q(c) << "\n";
  }
}

// One service body (without the name line).
void emit_service(Gen &g, std::ostringstream &o, bool base, bool anchors) {
  const std::string in = "    ";
  if (anchors && g.coin(60))
    o << in << (g.coin() ? "<<: *defaults\n" : "<<: [*extra, *defaults]\n");
  if (base || g.coin(40))
    o << in << "image: " << q(std::string("repo/app:") + (g.coin() ? "${TAG:-1.0}" : "1.2"))
      << "\n";
  if (g.coin(40))
    o << in << "user: "
      << q(g.one(std::vector<std::string>{"1000", "0", "1000:1000", "${UID_:-33}", "app"})) << "\n";
  if (g.coin(30))
    o << in << "privileged: " << (g.coin() ? "true" : "false") << "\n";
  if (g.coin(30))
    o << in << "read_only: " << (g.coin() ? "true" : "false") << "\n";
  if (g.coin(30))
    o << in << "command: [" << q("run") << ", " << q(g.one(k_values)) << "]\n";
  if (g.coin(60))
    emit_env(g, o, in);
  if (g.coin(50))
    emit_list(g, o, in, "ports", k_ports);
  if (g.coin(40))
    emit_list(g, o, in, "volumes", k_vols);
  if (g.coin(40))
    emit_list(g, o, in, "cap_add", k_caps);
  if (g.coin(30))
    emit_list(g, o, in, "cap_drop", k_caps);
}

std::string gen_file(Gen &g, bool base, const std::vector<std::string> &services) {
  std::ostringstream o;
  o << "version: \"3.8\"\n";
  bool anchors = g.coin(70);
  if (anchors) {
    o << "x-defaults: &defaults\n  read_only: true\n  cap_drop: [ALL]\n  user: \"1000\"\n"
         "  environment:\n    COMMON: \"1\"\n    K1: \"from-anchor\"\n";
    o << "x-extra: &extra\n  user: \"2000\"\n  privileged: false\n";
  }
  o << "services:\n";
  // An override names at least one service (1.29 refuses `services:` null).
  size_t keep = g.pick(services.size());
  for (size_t i = 0; i < services.size(); ++i) {
    const std::string &s = services[i];
    if (!base && i != keep && g.coin(40))
      continue;
    o << "  " << s << ":\n";
    std::ostringstream body;
    emit_service(g, body, base, anchors);
    o << (body.str().empty() ? std::string("    image: \"repo/other:3\"\n") : body.str());
  }
  o << "volumes:\n  cache: {}\n  logs: {}\n";
  return o.str();
}

std::string as_text(const nlohmann::json &j) {
  if (j.is_string())
    return j.get<std::string>();
  if (j.is_boolean())
    return j.get<bool>() ? "true" : "false";
  if (j.is_null())
    return "<null>";
  return j.dump();
}

std::string norm_bool(const std::string &s) {
  return s == "True" || s == "true" ? "true" : s == "False" || s == "false" ? "false" : s;
}

// The checked fields of one service, as comparable strings.
std::map<std::string, std::string> ours(const Value &svc) {
  std::map<std::string, std::string> m;
  for (const char *k : {"image", "user"})
    if (auto *v = svc.find(k))
      m[k] = v->str();
  for (const char *k : {"privileged", "read_only"})
    if (auto *v = svc.find(k))
      m[k] = norm_bool(v->str());
  if (auto *v = svc.find("command")) {
    std::string s;
    for (auto &i : v->items)
      s += i.str() + "\x1f";
    m["command"] = s;
  }
  for (const char *k : {"cap_add", "cap_drop"})
    if (auto *v = svc.find(k)) {
      std::multiset<std::string> set; // a duplicate must show
      for (auto &i : v->items)
        set.insert(i.str());
      std::string s;
      for (auto &x : set)
        s += x + ",";
      m[k] = s;
    }
  if (auto *v = svc.find("environment")) {
    std::map<std::string, std::string> env;
    for (auto &[k, x] : v->entries)
      env[k] = x.is_null() ? "<null>" : x.str();
    std::string s;
    for (auto &[k, x] : env)
      s += k + "=" + x + "\n";
    m["environment"] = s;
  }
  if (auto *v = svc.find("ports")) {
    std::multiset<std::string> set;
    for (auto &i : v->items)
      if (auto p = parse_port(i))
        set.insert((*p)[0].host_ip + "|" + (*p)[0].published + "|" + (*p)[0].target + "|" +
                   (*p)[0].protocol);
    std::string s;
    for (auto &x : set)
      s += x + "\n";
    m["ports"] = s;
  }
  if (auto *v = svc.find("volumes")) {
    std::multimap<std::string, std::string> vols;
    for (auto &i : v->items)
      if (auto mt = parse_volume(i))
        vols.emplace(mt->target, mt->source + (mt->read_only ? ":ro" : ""));
    std::string s;
    for (auto &[t, x] : vols)
      s += t + "<-" + x + "\n";
    m["volumes"] = s;
  }
  return m;
}

std::map<std::string, std::string> theirs(const nlohmann::json &svc) {
  std::map<std::string, std::string> m;
  for (const char *k : {"image", "user"})
    if (svc.contains(k))
      m[k] = as_text(svc[k]);
  for (const char *k : {"privileged", "read_only"})
    if (svc.contains(k))
      m[k] = norm_bool(as_text(svc[k]));
  if (svc.contains("command")) {
    std::string s;
    for (auto &i : svc["command"])
      s += as_text(i) + "\x1f";
    m["command"] = s;
  }
  for (const char *k : {"cap_add", "cap_drop"})
    if (svc.contains(k)) {
      std::multiset<std::string> set;
      for (auto &i : svc[k])
        set.insert(as_text(i));
      std::string s;
      for (auto &x : set)
        s += x + ",";
      m[k] = s;
    }
  if (svc.contains("environment")) {
    std::map<std::string, std::string> env;
    for (auto &[k, x] : svc["environment"].items())
      env[k] = as_text(x);
    std::string s;
    for (auto &[k, x] : env)
      s += k + "=" + x + "\n";
    m["environment"] = s;
  }
  if (svc.contains("ports")) {
    std::multiset<std::string> set;
    for (auto &p : svc["ports"])
      set.insert(as_text(p["host_ip"]) + "|" + as_text(p["published"]) + "|" +
                 as_text(p["target"]) + "|" + as_text(p["protocol"]));
    std::string s;
    for (auto &x : set)
      s += x + "\n";
    m["ports"] = s;
  }
  if (svc.contains("volumes")) {
    std::multimap<std::string, std::string> vols;
    for (auto &v : svc["volumes"])
      vols.emplace(as_text(v["target"]),
                   as_text(v["source"]) + (v["read_only"].get<bool>() ? ":ro" : ""));
    std::string s;
    for (auto &[t, x] : vols)
      s += t + "<-" + x + "\n";
    m["volumes"] = s;
  }
  return m;
}

} // namespace

TEST(ComposeDiff, AgreesWithDockerCompose129) {
  BULWARK_REQUIRE(run_command("/usr/bin/python3 -c 'import compose.config.config'").exit_code == 0)
      << "Debian's docker-compose (1.29) is not installed";
  TempRoot dir;
  Gen g(20261123);
  std::ostringstream manifest;
  std::vector<std::vector<std::string>> projects;
  for (int i = 0; i < k_projects; ++i) {
    std::string d = dir.path() + "/p" + std::to_string(i);
    std::vector<std::string> services;
    size_t ns = 1 + g.pick(3);
    for (size_t s = 0; s < ns; ++s)
      services.push_back("svc" + std::to_string(s));
    size_t nf = 2 + g.pick(2);
    std::vector<std::string> files;
    for (size_t f = 0; f < nf; ++f) {
      std::string path = d + "/f" + std::to_string(f) + ".yml";
      dir.write(path.substr(dir.path().size()), gen_file(g, f == 0, services));
      files.push_back(path);
    }
    if (g.coin(70))
      dir.write(d.substr(dir.path().size()) + "/.env",
                "FROM_DOTENV=dotenv-value\nTAG=9.9\nUID_=4242\n");
    projects.push_back(files);
    manifest << d;
    for (auto &f : files)
      manifest << "\t" << f;
    manifest << "\n";
  }
  dir.write("/manifest", manifest.str());
  std::string env = "env -i";
  for (auto &[k, v] : k_env)
    env += " " + k + "='" + v + "'";
  auto r = run_command(env + " /usr/bin/python3 " + BULWARK_SOURCE_DIR +
                       "/tests/parse/compose129_config.py < " + dir.path() + "/manifest");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int compared = 0, refused = 0, fields = 0;
  for (int i = 0; i < k_projects; ++i) {
    ASSERT_TRUE(std::getline(lines, line))
        << "1.29 answered " << i << " projects of " << k_projects;
    auto j = nlohmann::json::parse(line);
    LoadOptions o;
    o.use_process_environment = false;
    o.environment = k_env;
    Project p = load_project(host_reader(), projects[static_cast<size_t>(i)], o);
    std::string where = "project p" + std::to_string(i);
    if (j.contains("error")) {
      // What 1.29 refuses must not be silently accepted either... unless it
      // is a 1.29-only restriction; the generator avoids those, so count.
      ++refused;
      std::string texts;
      for (auto &f : projects[static_cast<size_t>(i)]) {
        std::ifstream in(f);
        texts += "--- " + f + "\n" + bulwark::test::read_all(in);
      }
      ADD_FAILURE() << where << ": 1.29 refuses: " << j["error"] << "\n" << texts;
      continue;
    }
    ASSERT_TRUE(p.valid()) << where;
    const Value *svcs = p.services();
    ASSERT_NE(svcs, nullptr) << where;
    ASSERT_EQ(svcs->entries.size(), j["services"].size()) << where;
    for (auto &[name, svc] : svcs->entries) {
      ASSERT_TRUE(j["services"].contains(name)) << where << " " << name;
      auto a = ours(svc);
      auto b = theirs(j["services"][name]);
      for (auto &[k, v] : b) {
        EXPECT_EQ(a[k], v) << where << " service " << name << " field " << k;
        ++fields;
      }
      for (auto &[k, v] : a)
        EXPECT_TRUE(b.count(k)) << where << " service " << name << " field " << k << " = " << v;
    }
    ++compared;
  }
  EXPECT_EQ(compared, k_projects);
  EXPECT_EQ(refused, 0);
  EXPECT_GT(fields, k_projects * 3);
  RecordProperty("projects", compared);
  RecordProperty("fields", fields);
}

// Where 1.29 and Compose v2 agree on refusing: a key the specification does
// not know (a misspelling such as `privilege:` or `cap-add:`), and an
// env_file that does not exist where Compose looks for it, which for every
// -f file is the project directory (the first file's), not the override's
// own folder. Generated projects, the verdict (refused or not) compared.
TEST(ComposeDiff, AgreesWithDockerCompose129OnUnknownKeysAndEnvFilePaths) {
  BULWARK_REQUIRE(run_command("/usr/bin/python3 -c 'import compose.config.config'").exit_code == 0)
      << "Debian's docker-compose (1.29) is not installed";
  TempRoot dir;
  Gen g(15);
  const std::vector<std::string> k_good = {"privileged: true", "read_only: true",
                                           "user: \"1000\"",   "cap_add: [NET_ADMIN]",
                                           "cap_drop: [ALL]",  "mem_limit: 256m"};
  const std::vector<std::string> k_bad = {"privilege: true", "cap-add: [NET_ADMIN]",
                                          "read-only: true", "capdrop: [ALL]",
                                          "mem-limit: 256m", "users: \"1000\""};
  constexpr int k_cases = 40;
  std::ostringstream manifest;
  std::vector<std::vector<std::string>> projects;
  std::vector<bool> planted_bad;
  for (int i = 0; i < k_cases; ++i) {
    std::string d = "/q" + std::to_string(i);
    bool bad_key = g.coin(35);
    // env_file in the override (in a subfolder); the file lies in the
    // project directory, in the override's folder, or nowhere.
    size_t where = g.pick(3);
    std::string base =
        "version: '3.8'\nservices:\n  s:\n    image: alpine:3.19\n    " + g.one(k_good) + "\n";
    std::string over = "version: '3.8'\nservices:\n  s:\n    env_file: ./app.env\n    " +
                       (bad_key ? g.one(k_bad) : g.one(k_good)) + "\n";
    dir.write(d + "/compose.yml", base);
    dir.write(d + "/deploy/override.yml", over);
    if (where == 0)
      dir.write(d + "/app.env", "A=1\n");
    else if (where == 1)
      dir.write(d + "/deploy/app.env", "A=1\n");
    planted_bad.push_back(bad_key || where != 0);
    projects.push_back({dir.path() + d + "/compose.yml", dir.path() + d + "/deploy/override.yml"});
    manifest << dir.path() + d << "\t" << projects.back()[0] << "\t" << projects.back()[1] << "\n";
  }
  dir.write("/manifest", manifest.str());
  auto r =
      run_command("env -i PATH=/usr/bin:/bin /usr/bin/python3 " + std::string(BULWARK_SOURCE_DIR) +
                  "/tests/parse/compose129_config.py < " + dir.path() + "/manifest");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  std::istringstream lines(r.out);
  std::string line;
  int refused = 0, accepted = 0;
  for (int i = 0; i < k_cases; ++i) {
    ASSERT_TRUE(std::getline(lines, line)) << "1.29 answered " << i << " of " << k_cases;
    auto j = nlohmann::json::parse(line);
    LoadOptions o;
    o.use_process_environment = false;
    Project p = load_project(host_reader(), projects[static_cast<size_t>(i)], o);
    bool theirs_refused = j.contains("error");
    std::string diags;
    for (auto &dg : p.diagnostics)
      diags += p.at(dg.loc) + ": " + dg.message + "\n";
    EXPECT_EQ(!p.valid(), theirs_refused)
        << "case q" << i << ": 1.29 says " << (theirs_refused ? j["error"].dump() : "ok")
        << "; bulwark says\n"
        << diags;
    EXPECT_EQ(!p.valid(), planted_bad[static_cast<size_t>(i)]) << "case q" << i << "\n" << diags;
    (theirs_refused ? refused : accepted)++;
  }
  // Both verdicts occur, so the comparison says something either way.
  EXPECT_GT(refused, 5);
  EXPECT_GT(accepted, 5);
}

// The file set a project directory's .env names through COMPOSE_FILE, as
// `docker-compose config` run there with no -f finds it (the runner's
// directory-only line: cli/command.py get_config_path_from_options, then
// config.find), against bulwark's discovery (find_deploy_file_sets) and
// merge (load_project). Generated .env files: the default `:` separator or
// COMPOSE_PATH_SEPARATOR=; (before or after, quoted or not), paths relative
// (`x.yml`, `./x.yml`, `sub/x.yml`) and absolute, overrides in any order, a
// missing file, an empty entry (`a::b`, a trailing separator), a ${VAR} set
// earlier in the .env, every line form .env allows (export, quotes,
// ` # comment`, blanks around `=`, indentation), decoy comment lines and an
// earlier COMPOSE_FILE the last one replaces, and no COMPOSE_FILE at all
// (Compose's default names, which hold a decoy service). Compose v2
// (compose-go cli/options.go WithConfigFileEnv, absoluteComposeFilePaths;
// dotenv's interpolation of unquoted and double-quoted values) agrees with
// 1.29 on each of these: an empty entry resolves to the working directory,
// which both refuse to read as a file. Differences kept out: 1.29 takes
// the first file's directory as the project directory only for paths, v2
// also reads that directory's .env, so the first file stays in the
// project directory; COMPOSE_FILE from the process environment (the
// runner's is empty).
TEST(ComposeDiff, ComposeFileDiscoveryAgreesWithDockerCompose129) {
  BULWARK_REQUIRE(run_command("/usr/bin/python3 -c 'import compose.config.config'").exit_code == 0)
      << "Debian's docker-compose (1.29) is not installed";
  TempRoot dir;
  Gen g(1529);
  constexpr int k_cases = 48;
  const std::string base =
      "services:\n  app:\n    image: \"base/app:1\"\n    ports: [\"8001:80\"]\n"
      "  db:\n    image: \"base/db:1\"\n";
  const std::string over = "services:\n  app:\n    image: \"over/app:2\"\n    environment:\n"
                           "      FROM_OVER: \"yes\"\n";
  const std::string prod = "services:\n  db:\n    ports: [\"127.0.0.1:5432:5432\"]\n  worker:\n"
                           "    image: \"prod/worker:3\"\n";
  std::ostringstream manifest;
  std::vector<std::string> dirs, envs;
  for (int i = 0; i < k_cases; ++i) {
    std::string rel = "/c" + std::to_string(i);
    std::string d = dir.path() + rel;
    dir.write(rel + "/base.yml", base);
    dir.write(rel + "/sub/over.yml", over);
    dir.write(rel + "/prod.yml", prod);
    // Compose's default names: what a project without COMPOSE_FILE runs.
    dir.write(rel + "/docker-compose.yml", "services:\n  decoy:\n    image: \"decoy:default\"\n");
    dir.write(rel + "/docker-compose.override.yml",
              "services:\n  decoy:\n    ports: [\"9999:9999\"]\n");
    bool semicolon = g.coin(40);
    std::string sep = semicolon ? ";" : ":";
    // How each file is named: relative in two spellings, or absolute.
    auto name = [&](const std::string &f) {
      size_t how = g.pick(3);
      return how == 0 ? f : how == 1 ? "./" + f : d + "/" + f;
    };
    std::vector<std::string> entries = {name("base.yml")};
    std::vector<std::string> rest = {"sub/over.yml", "prod.yml"};
    if (g.coin())
      std::swap(rest[0], rest[1]);
    bool var = false;
    for (auto &f : rest)
      if (g.coin(70)) {
        if (f == "sub/over.yml" && g.coin(25)) {
          entries.push_back("${SUBDIR}/over.yml");
          var = true;
        } else {
          entries.push_back(name(f));
        }
      }
    if (g.coin(10))
      entries.insert(entries.begin() + 1 + static_cast<long>(g.pick(entries.size())), "nope.yml");
    std::string value;
    for (size_t k = 0; k < entries.size(); ++k)
      value += (k ? sep : "") + entries[k];
    if (g.coin(8))
      value = entries.size() == 1 || g.coin()
                  ? value + sep
                  : entries[0] + sep + sep + value.substr(entries[0].size() + sep.size());
    std::string env = "# deployment settings\nTZ=UTC\n";
    if (g.coin(30))
      env += "# COMPOSE_FILE=docker-compose.yml\n";
    if (g.coin(20))
      env += "COMPOSE_FILE=docker-compose.yml\n"; // replaced by the last assignment below
    if (var)
      env += "SUBDIR=sub\n";
    std::string sep_line =
        g.one(std::vector<std::string>{"COMPOSE_PATH_SEPARATOR=;\n", "COMPOSE_PATH_SEPARATOR=';'\n",
                                       "export COMPOSE_PATH_SEPARATOR=\";\"\n"});
    bool sep_first = g.coin();
    if (semicolon && sep_first)
      env += sep_line;
    if (g.coin(92)) {
      // Single quotes keep `$` literal in both versions: not with ${SUBDIR}.
      size_t form = g.pick(var ? 6 : 7);
      std::vector<std::string> forms = {"COMPOSE_FILE=" + value,
                                        "export COMPOSE_FILE=" + value,
                                        "COMPOSE_FILE=\"" + value + "\"",
                                        "COMPOSE_FILE=" + value + "   # the production set",
                                        "  COMPOSE_FILE = " + value + "  ",
                                        "\tCOMPOSE_FILE=\"" + value + "\" # quoted",
                                        "COMPOSE_FILE='" + value + "'"};
      env += forms[form] + "\n";
    }
    if (semicolon && !sep_first)
      env += sep_line;
    if (g.coin(30))
      env += "\n# trailing comment\nOTHER=1\n";
    dir.write(rel + "/.env", env);
    dirs.push_back(d);
    envs.push_back(env);
    manifest << d << "\n";
  }
  dir.write("/manifest", manifest.str());
  auto r =
      run_command("env -i PATH=/usr/bin:/bin /usr/bin/python3 " + std::string(BULWARK_SOURCE_DIR) +
                  "/tests/parse/compose129_config.py < " + dir.path() + "/manifest");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  RootFs fs("/"); // the paths COMPOSE_FILE names absolutely are host paths, for both
  std::istringstream lines(r.out);
  std::string line;
  int refused = 0, merged = 0, defaults = 0, fields = 0;
  for (size_t i = 0; i < dirs.size(); ++i) {
    ASSERT_TRUE(std::getline(lines, line)) << "1.29 answered " << i << " of " << k_cases;
    auto j = nlohmann::json::parse(line);
    std::string where = "case c" + std::to_string(i) + ", .env:\n" + envs[i];
    std::optional<DeployFileSet> set;
    for (auto &s : find_deploy_file_sets(fs, {dirs[i]}))
      if (s.source == dirs[i] + "/.env")
        set = s;
    if (!set) {
      // No COMPOSE_FILE: Compose's default names, which bulwark's default
      // discovery audits (container.cpp) when no deployment names a set.
      ASSERT_FALSE(j.contains("error")) << where << j["error"];
      EXPECT_EQ(j["services"].size(), 1u) << where;
      EXPECT_TRUE(j["services"].contains("decoy")) << where << j.dump();
      ++defaults;
      continue;
    }
    EXPECT_EQ(set->how, "COMPOSE_FILE") << where;
    EXPECT_TRUE(set->unresolved.empty())
        << where << "unresolved: " << (set->unresolved.empty() ? "" : set->unresolved[0]);
    LoadOptions o;
    o.use_process_environment = false;
    o.environment = {{"PATH", "/usr/bin:/bin"}};
    bool missing = false;
    for (auto &f : set->files)
      missing = missing || !std::filesystem::exists(f);
    Project p = load_project(root_reader(fs), set->files, o);
    bool ours_refused = missing || !p.valid();
    std::string diags;
    for (auto &dg : p.diagnostics)
      diags += p.at(dg.loc) + ": " + dg.message + "\n";
    EXPECT_EQ(ours_refused, j.contains("error"))
        << where << "1.29: " << j.dump() << "\nbulwark: " << diags;
    if (ours_refused || j.contains("error")) {
      ++refused;
      continue;
    }
    const Value *svcs = p.services();
    ASSERT_NE(svcs, nullptr) << where;
    ASSERT_EQ(svcs->entries.size(), j["services"].size()) << where << j.dump();
    for (auto &[sname, svc] : svcs->entries) {
      ASSERT_TRUE(j["services"].contains(sname)) << where << sname;
      auto a = ours(svc);
      auto b = theirs(j["services"][sname]);
      for (auto &[k, v] : b) {
        EXPECT_EQ(a[k], v) << where << "service " << sname << " field " << k;
        ++fields;
      }
      for (auto &[k, v] : a)
        EXPECT_TRUE(b.count(k)) << where << "service " << sname << " field " << k << " = " << v;
    }
    ++merged;
  }
  // Every kind of outcome occurs, so each comparison says something.
  EXPECT_GT(merged, k_cases / 2);
  EXPECT_GT(refused, 2);
  EXPECT_GT(defaults, 0);
  EXPECT_GT(fields, k_cases * 2);
  RecordProperty("merged", merged);
  RecordProperty("refused", refused);
  RecordProperty("defaults", defaults);
  RecordProperty("fields", fields);
}
