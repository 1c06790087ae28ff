// Issue 20: the auditor is not an attack surface. A hostile root (symlinks
// and `../` aimed at the host, compose files that include and read host
// files) and the auditor's own environment must never reach any report, and
// no file outside the root may even be opened or stat'ed while it is
// audited (strace).

#include "../support.hpp"

#include <cstdlib>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;
// In every canary file outside the root, and in the auditor's environment.
const std::string k_canary = "CANARY7f3a";
const std::string k_secret = "SECRET9c1e";
const char *const k_formats[] = {"text", "json", "sarif", "junit", "markdown", "html"};

std::string real(const std::string &p) {
  char *r = ::realpath(p.c_str(), nullptr);
  std::string out = r ? r : "";
  std::free(r);
  return out;
}

// Host files the hostile root aims at; none of their text may come back.
struct Canaries {
  TempRoot dir;
  Canaries() {
    dir.write("/secret.txt", k_canary + "-host-file\nPermitRootLogin yes\n");
    dir.write("/secret.env", k_canary + "_PASSWORD=hunter2hunter2\n");
    dir.write("/evil.yaml", "services:\n  web:\n    image: " + k_canary + "\n");
    dir.write("/dir/" + k_canary + "-name.conf", k_canary + "\n");
  }
  std::string up(const std::string &name) const {
    std::string climb;
    for (int i = 0; i < 20; ++i)
      climb += "../";
    return climb + dir.host(name).substr(1);
  }
};

// A root whose files point at the canaries every way a path can.
void hostile_root(const TempRoot &r, const Canaries &c) {
  r.write("/etc/hostname", "image-host\n");
  r.symlink(c.dir.host("/secret.txt"), "/etc/ssh/sshd_config");
  r.symlink(c.dir.host("/dir"), "/etc/ssh/sshd_config.d");
  r.symlink(c.up("/secret.txt"), "/etc/passwd");
  r.symlink(c.up("/secret.txt"), "/etc/shadow");
  r.symlink(c.dir.host("/dir"), "/etc/sysctl.d");
  r.symlink(c.dir.host("/dir"), "/var/log");
  r.write("/srv/clean/compose.yaml",
          "services:\n  web:\n    image: \"nginx:${BULWARK_TEST_SECRET:-1.25}\"\n");
  r.write("/srv/hostile/compose.yaml",
          "include:\n  - " + c.dir.host("/evil.yaml") + "\n  - " + c.up("/evil.yaml") +
              "\nservices:\n  app:\n    image: nginx:1.25\n    env_file:\n      - " +
              c.up("/secret.env") + "\n      - " + c.dir.host("/secret.env") +
              "\n  ext:\n    extends:\n      file: " + c.up("/evil.yaml") +
              "\n      service: web\n");
  r.symlink(c.dir.host("/secret.env"), "/srv/hostile/.env");
}

void expect_clean(const bulwark::test::RunResult &res, const std::string &what) {
  EXPECT_EQ(res.out.find(k_canary), std::string::npos) << what << "\n" << res.out;
  EXPECT_EQ(res.err.find(k_canary), std::string::npos) << what << "\n" << res.err;
  EXPECT_EQ(res.out.find(k_secret), std::string::npos) << what << "\n" << res.out;
  EXPECT_EQ(res.err.find(k_secret), std::string::npos) << what << "\n" << res.err;
}

std::string env_secret() {
  return "env BULWARK_TEST_SECRET=" + k_secret + " ";
}

// One audit of `r` (with the auditor's secret in its environment) in every
// format: text on stdout, the others through --output FORMAT=FILE, the same
// renderers (a sanitizer-built bulwark costs half a CPU second to start).
// Each format's output by name, with the run's stderr; the run must exit 0.
std::map<std::string, bulwark::test::RunResult> every_format(const TempRoot &r,
                                                             const std::string &args) {
  TempRoot out;
  std::string outputs;
  for (const std::string fmt : k_formats)
    if (fmt != "text")
      outputs += " --output " + fmt + "=" + out.host("/report." + fmt);
  auto res = run_command(env_secret() + k_bin + " audit --root " + r.path() + args +
                         " --format text" + outputs + " --fail-on none");
  EXPECT_EQ(res.exit_code, 0) << args << ": " << res.err;
  std::map<std::string, bulwark::test::RunResult> by_format;
  for (const std::string fmt : k_formats) {
    auto &f = by_format[fmt];
    f.exit_code = res.exit_code;
    f.err = res.err;
    if (fmt == "text") {
      f.out = res.out;
      continue;
    }
    std::ifstream in(out.host("/report." + fmt), std::ios::binary);
    EXPECT_TRUE(in.good()) << fmt << " was not written: " << res.err;
    f.out = bulwark::test::read_all(in);
  }
  return by_format;
}

} // namespace

// Issue 20, item 3: `--root .` from a subdirectory audits that directory,
// not the host's /; a relative root is taken from the current directory;
// `..` after a symlink is the kernel's.
TEST(HostileRoot, RelativeRootIsTakenFromTheCurrentDirectory) {
  TempRoot r;
  r.write("/etc/hostname", "image-host\n");
  r.write("/etc/ssh/sshd_config", "PermitRootLogin no\n");
  std::string parent = r.path().substr(0, r.path().rfind('/'));
  std::string base = r.path().substr(r.path().rfind('/') + 1);
  auto root_of = [](const bulwark::test::RunResult &res) {
    auto j = nlohmann::json::parse(res.out, nullptr, false);
    return j.is_discarded() ? std::string("<no json>: ") + res.err
                            : j["target"]["root"].get<std::string>() + " " +
                                  j["target"]["hostname"].get<std::string>();
  };
  std::string want = real(r.path()) + " image-host";
  auto dot = run_command("cd " + r.path() + " && " + k_bin +
                         " audit --root . --only ssh --format json --fail-on none");
  EXPECT_EQ(dot.exit_code, 0) << dot.err;
  EXPECT_EQ(root_of(dot), want);
  auto up = run_command("cd " + r.host("/etc") + " && " + k_bin +
                        " audit --root .. --only ssh --format json --fail-on none");
  EXPECT_EQ(root_of(up), want);
  auto rel = run_command("cd " + parent + " && " + k_bin + " audit --root " + base +
                         " --only ssh --format json --fail-on none");
  EXPECT_EQ(root_of(rel), want);
  // facts takes its root the same way.
  auto facts = run_command("cd " + r.path() + " && " + k_bin + " facts --root . ssh");
  EXPECT_EQ(facts.exit_code, 0) << facts.err;
  EXPECT_NE(facts.out.find("\"state\": \"ok\""), std::string::npos) << facts.out;

  // link/.. is the parent of the link's target, not the link's directory.
  TempRoot a;
  a.write("/x/etc/hostname", "x-host\n");
  a.mkdir("/x/y");
  r.symlink(a.host("/x/y"), "/link");
  auto dotdot = run_command("cd " + r.path() + " && " + k_bin +
                            " audit --root link/.. --only ssh --format json --fail-on none");
  EXPECT_EQ(root_of(dotdot), real(a.host("/x")) + " x-host");
  auto none = run_command(k_bin + " audit --root " + r.host("/nowhere") + " --only ssh");
  EXPECT_EQ(none.exit_code, 2);
  EXPECT_NE(none.err.find("is not a directory"), std::string::npos) << none.err;
}

// Issue 20, items 1, 2 and 4: nothing of the host's files nor of the
// auditor's environment reaches any output format, whether compose projects
// are discovered or named with --compose inside the root.
TEST(HostileRoot, NoHostFileNorAuditorEnvironmentReachesAnyOutput) {
  Canaries c;
  TempRoot r;
  hostile_root(r, c);
  for (const auto &[fmt, res] : every_format(r, "")) {
    EXPECT_GT(res.out.size(), 100u) << fmt;
    expect_clean(res, fmt);
  }
  auto facts = run_command(env_secret() + k_bin + " facts --root " + r.path());
  EXPECT_EQ(facts.exit_code, 0) << facts.err;
  expect_clean(facts, "facts");
  // The clean project's image is there, with the default, not the secret.
  EXPECT_NE(facts.out.find("nginx:1.25"), std::string::npos) << facts.out;

  // --compose FILE inside the root: read through the root, its includes,
  // env_file and extends stay inside it.
  for (const std::string &compose : std::vector<std::string>{r.host("/srv/hostile/compose.yaml"),
                                                             r.host("/srv/clean/compose.yaml")}) {
    for (const auto &[fmt, res] : every_format(r, " --compose " + compose))
      expect_clean(res, compose + " " + fmt);
    auto f = run_command(env_secret() + k_bin + " facts --root " + r.path() + " --compose " +
                         compose + " compose");
    expect_clean(f, "facts --compose " + compose);
  }
  // The same from inside the root, with relative paths.
  auto rel = run_command("cd " + r.host("/srv/hostile") + " && " + env_secret() + k_bin +
                         " facts --root ../.. --compose compose.yaml compose");
  EXPECT_EQ(rel.exit_code, 0) << rel.err;
  expect_clean(rel, "relative --compose");
  EXPECT_NE(rel.out.find("/srv/hostile/compose.yaml"), std::string::npos) << rel.out;
}

// --host-env is the one way the auditor's environment interpolates an
// offline root's compose files (and the check above would see it).
TEST(HostileRoot, HostEnvFlagOptsIntoTheAuditorsEnvironment) {
  TempRoot r;
  r.write("/srv/clean/compose.yaml",
          "services:\n  web:\n    image: \"nginx:${BULWARK_TEST_SECRET:-1.25}\"\n");
  auto off = run_command(env_secret() + k_bin + " facts --root " + r.path() + " compose");
  EXPECT_EQ(off.out.find(k_secret), std::string::npos) << off.out;
  EXPECT_NE(off.out.find("nginx:1.25"), std::string::npos) << off.out;
  auto on = run_command(env_secret() + k_bin + " facts --root " + r.path() + " --host-env compose");
  EXPECT_NE(on.out.find("nginx:" + k_secret), std::string::npos) << on.out;
}

// Issue 20, item 7: host-side inputs are regular files of bounded size; a
// FIFO or a device is an error at once, not a hang or an endless read.
TEST(HostileRoot, ProfileWaiversAndBaselineRefuseFifosAndDevices) {
  TempRoot r;
  r.write("/etc/hostname", "image-host\n");
  TempRoot t;
  std::string fifo = t.host("/fifo.yaml");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  std::string base = "timeout 20 " + k_bin + " audit --only ssh --root " + r.path();
  for (const std::string opt : {"--profile", "--waivers", "--baseline"})
    for (const std::string &file : {fifo, std::string("/dev/zero")}) {
      auto res = run_command(base + " " + opt + " " + file);
      EXPECT_EQ(res.exit_code, 2) << opt << " " << file << ": " << res.err; // not 124 (timeout)
      EXPECT_NE(res.err.find("not a regular file"), std::string::npos)
          << opt << " " << file << ": " << res.err;
    }
}

// Issue 20: strace shows every file system call by path. During an audit of
// the hostile root, with discovery and with --compose inside the root, none
// names a path outside the root, except the ancestors of the root itself
// (realpath) and what the C++ runtime and loader read.
TEST(HostileRoot, StraceSeesNoOpenOrStatOutsideTheRoot) {
  BULWARK_REQUIRE_TOOL("strace") << "(make deps)";
  Canaries c;
  TempRoot r;
  hostile_root(r, c);
  TempRoot t;
  std::string root = real(r.path());
  const std::string cwd = real(".");
  // The loader, the C++ runtime and the TLS libraries' own configuration.
  std::vector<std::string> allowed = {"/etc/ld.so.cache",
                                      "/etc/ld.so.preload",
                                      "/lib/",
                                      "/lib64/",
                                      "/usr/lib/",
                                      "/sys/devices/system/cpu/",
                                      "/etc/localtime",
                                      "/usr/share/zoneinfo/",
                                      "/etc/gnutls/",
                                      "/etc/ssl/",
                                      "/proc/self/"};
  std::regex call(R"(^(?:\[pid +\d+\] |\d+ +)?(\w+)\((AT_FDCWD, )?"((?:[^"\\]|\\.)*)\")");
  for (const std::string &args : std::vector<std::string>{
           " --format json", " --format sarif --compose " + r.host("/srv/hostile/compose.yaml")}) {
    std::string trace = t.host("/trace");
    // LeakSanitizer cannot run under ptrace: off for the traced binary.
    auto res = run_command(env_secret() +
                           "ASAN_OPTIONS=detect_leaks=0 strace -f -qq -e trace=%file,%process -o " +
                           trace + " " + k_bin + " audit --fail-on none --root " + r.path() + args);
    ASSERT_EQ(res.exit_code, 0) << res.err;
    expect_clean(res, args);
    std::ifstream in(trace);
    std::string line;
    size_t calls = 0, inside = 0;
    std::set<std::string> outside;
    while (std::getline(in, line)) {
      std::smatch m;
      if (!std::regex_search(line, m, call))
        continue;
      // Only lookups by path from the current directory match (a first
      // argument "path" or AT_FDCWD, "path"): *at calls from a descriptor
      // resolve inside it, and the trace shows a directory fd there.
      std::string name = m[1], path = m[3];
      ++calls;
      if (path.empty() || path[0] != '/')
        path = cwd + "/" + path;
      if (path == root || path.rfind(root + "/", 0) == 0) {
        ++inside;
        continue;
      }
      bool ok = path == k_bin || root.rfind(path + "/", 0) == 0 || path == "/";
      for (auto &a : allowed)
        ok = ok || path.rfind(a, 0) == 0;
      if (!ok)
        outside.insert(name + " " + path);
    }
    EXPECT_GT(calls, 5u) << "the trace recorded no file calls: " << trace;
    EXPECT_GT(inside, 0u) << "the root was never named: " << trace;
    EXPECT_TRUE(outside.empty()) << args << ": " << [&] {
      std::string s;
      for (auto &o : outside)
        s += "\n  " + o;
      return s;
    }();
  }
}
