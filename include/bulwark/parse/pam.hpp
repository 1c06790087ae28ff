#pragma once
// PAM stacks as libpam 1.5.2 of Debian 12 (pam 1.5.2-6) builds and runs them,
// plus the settings of the modules the checks judge: pam_pwquality
// (libpwquality 1.4.5), pam_faillock (Linux-PAM 1.5.2) and pam_tally2.
//
// The semantics (libpam/pam_handlers.c, pam_misc.c, pam_dispatch.c of
// Linux-PAM 1.5.2 with Debian's patches 031_pam_include and
// 045_pam_dispatch_jump_is_ignore; see src/parse/pam.cpp for the details):
// - /etc/pam.d/<service> holds `type control module args`; the handlers of
//   /etc/pam.d/other are loaded too and serve each type the service has none of.
// - `include` and `substack` controls and Debian's `@include file` splice in
//   another file (only the lines of the including type, except `@include` at
//   the top level, which takes every type). A missing included file gives a
//   handler that always fails, or (for `@include` at the top) makes
//   pam_start() fail. libpam 1.5.2 has no depth limit for includes: a loop
//   recurses until file descriptors run out.
// - The dispatcher walks a stack with ok/done/bad/die/reset/ignore actions
//   and forward jumps (`[success=1 default=ignore]`), substacks confining
//   done/die and jumps. analyse() explores every path abstractly.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <array>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::pam {

enum class Type { auth = 0, account = 1, password = 2, session = 3 };
std::string_view to_string(Type t);

// libpam return codes the model uses (security/_pam_types.h).
namespace ret {
inline constexpr int success = 0;
inline constexpr int service_err = 3;
inline constexpr int perm_denied = 6; // also what a broken line returns
inline constexpr int auth_err = 7;
inline constexpr int user_unknown = 10;
inline constexpr int maxtries = 11;
inline constexpr int session_err = 14;
inline constexpr int authtok_err = 20;
inline constexpr int ignore = 25;
inline constexpr int module_unknown = 28;
inline constexpr int count = 32; // _PAM_RETURN_VALUES
} // namespace ret

// Actions: > 0 is a jump over that many handlers.
namespace act {
inline constexpr int ignore = 0;
inline constexpr int ok = -1;
inline constexpr int done = -2;
inline constexpr int bad = -3;
inline constexpr int die = -4;
inline constexpr int reset = -5;
} // namespace act
std::string action_name(int action);

struct Handler {
  Type type = Type::auth;
  int stack_level = 0;
  bool silent = false;         // `-type`: a missing module is not logged
  bool must_fail = false;      // a broken line or a failed include: returns PAM_PERM_DENIED
  bool substack = false;       // the entry of a substack (skipped when run)
  bool module_missing = false; // the module file does not exist in the target
  std::array<int, ret::count> actions{};
  std::string control; // as written ("required", "[success=1 default=ignore]")
  std::string module;  // as written ("pam_unix.so", "/lib/security/x.so")
  std::string name;    // "pam_unix": the file name without directory and ".so"
  std::vector<std::string> args;
  SourceLocation loc;
  std::vector<SourceLocation> via; // include lines leading here, outermost first
  std::string problem;             // why it must fail

  bool has_arg(std::string_view a) const;
  // The value of the last `key=value` argument, nullopt when absent.
  std::optional<std::string> arg(std::string_view key) const;
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Service {
  std::string name;
  std::string path; // /etc/pam.d/<name>
  bool exists = false;
  // pam_start() fails for this service (libpam returns PAM_ABORT): nobody
  // can use it. The reason and where.
  bool aborted = false;
  Diagnostic abort_reason;
  std::array<std::vector<Handler>, 4> conf;  // the service's own handlers
  std::array<std::vector<Handler>, 4> other; // /etc/pam.d/other's
  std::vector<Diagnostic> diagnostics;
  std::vector<std::string> files; // every file read, in order
  // The service's own file (or /etc/pam.d/other) exists but cannot be read
  // (EACCES, ELOOP, EIO, ...): libpam would fall back to "other", but the
  // auditor cannot know what the file says, so the checks fail closed on it.
  std::optional<Diagnostic> read_error;

  // The stack libpam runs for `t`: the service's own, else "other"'s.
  const std::vector<Handler> &stack(Type t) const;
  bool uses_other(Type t) const;
};

// Reads a file of the target; errors keep errno (not_found()).
using FileReader = std::function<Result<std::string>(const std::string &path)>;
// Whether a module file exists: true, false, or nullopt when unknown.
using ModuleProbe = std::function<std::optional<bool>(const std::string &module)>;

struct LoadOptions {
  size_t max_file_bytes = 16 * 1024 * 1024;
  // Our own cap: libpam 1.5.2 recurses until it runs out of descriptors.
  int max_include_depth = 32;
  // The work budget of one service, its includes, substacks and "other":
  // the depth cap alone lets 32 spellings of one file (/etc/pam.d/./x,
  // /etc/pam.d//x, ...) each including all the others read 32! files. Lines
  // are the statements of included files (each may become a handler carrying
  // its include chain); a Debian service has about 60. Past any limit one
  // error names the line and the service aborts (fail closed: its stacks are
  // not known).
  size_t max_included_files = 4096;
  size_t max_total_bytes = 16 * 1024 * 1024;
  size_t max_included_lines = 20000;
};

// The service as libpam loads it from `files` (reader) and /etc/pam.d.
Service load_service(std::string_view name, const FileReader &read, const ModuleProbe &probe,
                     const LoadOptions &opts = {});
// The same on a target root; modules are looked up in the multiarch
// security directories (unknown when the root has none).
Service load_service(const RootFs &fs, std::string_view name, const LoadOptions &opts = {});
ModuleProbe module_probe(const RootFs &fs);

// ---- the dispatcher, abstractly -------------------------------------------

// What a handler may return when run (by module name and type).
std::vector<int> possible_returns(const Handler &h);

// One way a run can end: its result and the marks collected on the way.
struct Ending {
  bool success = false;
  uint32_t marks = 0;
  bool operator<(const Ending &o) const {
    return success != o.success ? success < o.success : marks < o.marks;
  }
};

struct Analysis {
  std::vector<bool> reached; // per handler of the stack
  std::vector<Ending> endings;
  bool can_succeed() const;
};

// Explores every run of `stack` as _pam_dispatch_aux() does (Debian's jump
// semantics). `mark(index, retval, marks)` returns bits to add when the
// handler at `index` returns `retval`.
using Marker = std::function<uint32_t(size_t index, int retval, uint32_t marks)>;
Analysis analyse(const std::vector<Handler> &stack, const Marker &mark = {});

// Every successful run passes through a PAM_SUCCESS of handler `index`.
bool required_for_success(const std::vector<Handler> &stack, size_t index);

// ---- pam_pwquality (libpwquality 1.4.5) -----------------------------------

struct IntSetting {
  long value = 0;
  SourceLocation loc; // path "" = built-in default
};

struct PwQuality {
  // Keyed by lower-case setting name: minlen, dcredit, ucredit, lcredit,
  // ocredit, minclass, enforcing, retry, enforce_for_root, ...
  std::map<std::string, IntSetting> ints;
  std::vector<std::string> files; // read, in libpwquality's order
  std::vector<Diagnostic> diagnostics;
  long get(const std::string &key) const;
  const IntSetting &setting(const std::string &key) const;
};

// libpwquality's defaults, then /etc/security/pwquality.conf.d/*.conf (name
// order), then /etc/security/pwquality.conf: the main file is read LAST and
// overrides the directory. An error (unknown name, bad number, over-long
// line) stops reading: later files are not read.
PwQuality load_pwquality(const FileReader &read, const std::vector<std::string> &dropins);
PwQuality load_pwquality(const RootFs &fs);
// The module's arguments on top (they override the files), as
// pam_pwquality's _pam_parse() applies them; pam_cracklib's arguments on
// cracklib's defaults when `h` is pam_cracklib.
PwQuality apply_module_args(PwQuality base, const Handler &h);
PwQuality cracklib_defaults();

// The rules of libpwquality's simple(): length with credits, required
// classes, minclass. Bytes, as strlen() counts them.
bool accepts_length_and_classes(const PwQuality &q, std::string_view password);
// The shortest password those rules accept, and how many character classes
// every accepted password has at least.
int shortest_accepted(const PwQuality &q);
int guaranteed_classes(const PwQuality &q);

// ---- pam_faillock (Linux-PAM 1.5.2) and pam_tally2 ------------------------

struct Faillock {
  enum class Action { preauth, authsucc, authfail };
  Action action = Action::preauth;
  IntSetting deny{3, {}};
  IntSetting unlock_time{600, {}};
  IntSetting fail_interval{900, {}};
  std::string conf = "/etc/security/faillock.conf";
  bool conf_broken = false; // unreadable or malformed: the module fails
  std::vector<Diagnostic> diagnostics;
};

// The options of one pam_faillock line: defaults, the file (conf= or the
// default), then its arguments.
Faillock faillock_options(const Handler &h, const FileReader &read);

} // namespace bulwark::pam
