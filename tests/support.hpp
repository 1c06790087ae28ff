#pragma once
// Test helpers: a throwaway root directory built from strings, running the
// built bulwark binary, and BULWARK_REQUIRE: what a test needs from the
// machine (an oracle program, the Debian root, root privileges).

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <gtest/gtest.h>
#include <sstream>
#include <string>
#include <string_view>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bulwark::test {

class TempRoot {
public:
  TempRoot() {
    std::string tmpl = (std::filesystem::temp_directory_path() / "bulwark-test-XXXXXX").string();
    if (::mkdtemp(tmpl.data()) == nullptr)
      std::abort();
    m_path = tmpl;
  }
  ~TempRoot() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempRoot(const TempRoot &) = delete;
  TempRoot &operator=(const TempRoot &) = delete;

  const std::string &path() const { return m_path; }
  std::string host(const std::string &target) const { return m_path + target; }

  // Writes a file inside the root (parents created), with a mode.
  void write(const std::string &target, const std::string &content, mode_t mode = 0644) const {
    auto p = std::filesystem::path(host(target));
    std::filesystem::create_directories(p.parent_path());
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << content;
    }
    ::chmod(p.c_str(), mode);
  }
  void mkdir(const std::string &target) const { std::filesystem::create_directories(host(target)); }
  void symlink(const std::string &target_of_link, const std::string &link) const {
    auto p = std::filesystem::path(host(link));
    std::filesystem::create_directories(p.parent_path());
    if (::symlink(target_of_link.c_str(), p.c_str()) != 0)
      std::abort(); // a fixture that cannot be built is a broken test
  }

private:
  std::string m_path;
};

// The rest of a stream, read in the stream buffer's chunks. (A string built
// from istreambuf_iterators reads one character per call: in the -O0
// sanitizer build that was most of FixDebianE2e's time, hashing a 305 MB
// Debian root twice.)
inline std::string read_all(std::istream &in) {
  std::ostringstream out;
  if (in.peek() != std::char_traits<char>::eof())
    out << in.rdbuf();
  return std::move(out).str();
}

struct RunResult {
  int exit_code = -1;
  std::string out;
  std::string err;
};

// Runs a shell command line, capturing stdout and stderr.
inline RunResult run_command(const std::string &cmd) {
  TempRoot tmp;
  std::string full = cmd + " >" + tmp.path() + "/out 2>" + tmp.path() + "/err";
  int status = std::system(full.c_str());
  RunResult r;
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  auto slurp = [](const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return read_all(in);
  };
  r.out = slurp(tmp.path() + "/out");
  r.err = slurp(tmp.path() + "/err");
  return r;
}

// BULWARK_REQUIRE_ORACLES=1 (set by `make test`, `make unit`, `make
// asan-test` and so by CI): a test whose oracle or environment is missing
// fails instead of skipping. Without it (a developer's quick run) it skips.
// The Debian-root tests once skipped for weeks with nobody noticing.
inline bool oracles_required() {
  const char *env = std::getenv("BULWARK_REQUIRE_ORACLES");
  return env != nullptr && std::string_view(env) == "1";
}

inline ::testing::TestPartResult::Type missing_requirement_result() {
  return oracles_required() ? ::testing::TestPartResult::kFatalFailure
                            : ::testing::TestPartResult::kSkip;
}

inline const char *missing_requirement_prefix() {
  return oracles_required() ? "BULWARK_REQUIRE_ORACLES=1 and a requirement of this test is missing"
                            : "skipped (BULWARK_REQUIRE_ORACLES=1 makes this a failure)";
}

// Is `name` an executable program: an absolute path, or a name found on
// PATH or in /usr/sbin, /sbin, /usr/bin, /bin (root's PATH has the sbin
// directories, a user's may not)?
inline bool have_program(const std::string &name) {
  if (name.empty())
    return false;
  if (name.front() == '/')
    return ::access(name.c_str(), X_OK) == 0;
  std::string dirs = std::getenv("PATH") ? std::getenv("PATH") : "";
  dirs += ":/usr/sbin:/sbin:/usr/bin:/bin";
  size_t start = 0;
  while (start <= dirs.size()) {
    size_t end = dirs.find(':', start);
    if (end == std::string::npos)
      end = dirs.size();
    std::string dir = dirs.substr(start, end - start);
    if (!dir.empty() && ::access((dir + "/" + name).c_str(), X_OK) == 0)
      return true;
    start = end + 1;
  }
  return false;
}

} // namespace bulwark::test

// BULWARK_REQUIRE(condition) << "why";
// In a test body or SetUp(): when `condition` is false the test stops there,
// as skipped, or as failed under BULWARK_REQUIRE_ORACLES=1. Use it for what
// the machine must provide (a program, the Debian root, root privileges,
// network namespaces), never for the behaviour under test. The switch keeps
// an enclosing if/else unambiguous (gtest's own idiom).
#define BULWARK_REQUIRE(condition)                                                                 \
  switch (0)                                                                                       \
  case 0:                                                                                          \
  default:                                                                                         \
    if (condition)                                                                                 \
      ;                                                                                            \
    else                                                                                           \
      return ::testing::internal::AssertHelper(                                                    \
                 ::bulwark::test::missing_requirement_result(), __FILE__, __LINE__,                \
                 ::bulwark::test::missing_requirement_prefix()) = ::testing::Message()

// BULWARK_REQUIRE_TOOL("sshd") << "(Debian package openssh-server)";
#define BULWARK_REQUIRE_TOOL(name)                                                                 \
  BULWARK_REQUIRE(::bulwark::test::have_program(name)) << (name) << " is not installed "

namespace bulwark::test {

// The debootstrapped Debian 12 root the Makefile builds (`make debian-root`)
// and names in BULWARK_DEBIAN_ROOT, or "" when there is none. Tests that need
// it say BULWARK_REQUIRE_DEBIAN_ROOT(root), which fails under
// BULWARK_REQUIRE_ORACLES=1.
inline std::string debian_root() {
  const char *env = std::getenv("BULWARK_DEBIAN_ROOT");
  if (env == nullptr || *env == '\0')
    return "";
  struct stat st;
  std::string etc = std::string(env) + "/etc/debian_version";
  return ::stat(etc.c_str(), &st) == 0 ? std::string(env) : "";
}

} // namespace bulwark::test

// std::string root; BULWARK_REQUIRE_DEBIAN_ROOT(root); sets `root` to the
// Debian root or stops the test (skipped, or failed when oracles are required).
#define BULWARK_REQUIRE_DEBIAN_ROOT(var)                                                           \
  BULWARK_REQUIRE(!((var) = ::bulwark::test::debian_root()).empty())                               \
      << "BULWARK_DEBIAN_ROOT is not a debootstrapped Debian 12 root (run `make debian-root`)"

namespace bulwark::test {

// A wall-time bound for tests that guard against hangs and blow-ups on
// hostile input (a regex that backtracks, an include loop, a probe that never
// times out). It is never a performance claim: bench/ measures speed. The
// sanitizer build runs several times slower and CI machines are shared, so the
// bound is generous and scales: x10 under AddressSanitizer, and times
// BULWARK_TEST_TIME_SCALE when that is set.
constexpr bool under_sanitizer() {
#if defined(__SANITIZE_ADDRESS__)
  return true;
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
  return true;
#else
  return false;
#endif
#else
  return false;
#endif
}

inline std::chrono::milliseconds hang_bound(std::chrono::milliseconds base) {
  long scale = under_sanitizer() ? 10 : 1;
  if (const char *env = std::getenv("BULWARK_TEST_TIME_SCALE")) {
    long s = std::strtol(env, nullptr, 10);
    if (s > 0)
      scale *= s;
  }
  return base * scale;
}

// How many generated cases a differential test compares with its oracle.
// The sanitizer build looks for memory errors, not for disagreements: it
// runs a quarter of them (each is several times slower there), the normal
// build all of them.
constexpr size_t oracle_cases(size_t n) {
  return under_sanitizer() ? (n + 3) / 4 : n;
}

} // namespace bulwark::test
