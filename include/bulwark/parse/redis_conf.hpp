#pragma once
// redis.conf as Redis 7.0 (Debian 12: 7.0.15) reads it, and the ACL users it
// ends up with: sdssplitargs() tokens, include in place, last value wins,
// rename-command, requirepass, `user` lines, aclfile (which replaces every
// user, the default one included). See src/parse/redis_conf.cpp.
//
// Passwords are kept only to judge their strength; nothing that prints a
// model (facts, findings) may print them: use redact().

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::redis {

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Directive {
  std::string name;              // lower case
  std::vector<std::string> args; // sdssplitargs() tokens after the name
  SourceLocation loc;
};

// The commands redis.dangerous-commands asks about.
inline constexpr const char *k_dangerous[] = {"flushdb", "flushall", "config",
                                              "debug",   "shutdown", "keys"};

struct AclUser {
  std::string name;
  bool enabled = false;
  bool nopass = false;
  std::vector<std::string> passwords; // clear text (>pass); never print
  int hashes = 0;                     // #sha256 entries: strength unknown
  bool all_keys = false;
  // For each of k_dangerous: whether the user may run it (or a subcommand).
  std::map<std::string, bool> may_run;
  std::map<std::string, SourceLocation> decided_at; // the line that decided may_run
  std::string rules;  // the rules as written, passwords replaced by "<redacted>"
  SourceLocation loc; // the line that defined it; line 0 for the built-in default
};

struct RedisConfig {
  std::vector<Directive> directives;        // every line, in order
  std::map<std::string, Directive> last;    // the last directive of each name
  std::map<std::string, Directive> renamed; // original command (lower) -> rename-command line
  std::vector<AclUser> users;               // after requirepass, user lines and aclfile
  std::string aclfile;                      // the aclfile that was read, "" if none
  std::vector<std::string> files;           // files read (includes, aclfile)
  std::vector<Diagnostic> diagnostics;

  const Directive *get(std::string_view name) const;
  const AclUser *user(std::string_view name) const;
  bool has_errors() const;
};

struct RedisOptions {
  std::string cwd = "/"; // relative include / aclfile paths (Debian's unit has no WorkingDirectory)
  size_t max_file_bytes = 16 * 1024 * 1024;
  int max_depth = 16;
  int max_files = 1000;
};

RedisConfig load_redis_conf(const RootFs &fs, const std::string &path,
                            const RedisOptions &opts = {});
// One text; include and aclfile become diagnostics. For tests and fuzzing.
RedisConfig parse_redis_text(const std::string &path, std::string_view text,
                             const RedisOptions &opts = {});

// redis-server's configuration as a container starts it: `before` (an
// image's built-in defaults, as directives with their own locations), then
// the configuration file when `path` is set (read through `fs`, includes
// followed), then `after`: the command line's options, which Redis 7.0's
// main() appends after the file (loadServerConfig(file, stdin, options)),
// so they win. The default user and ACLs are built from the result.
RedisConfig load_redis_layers(const RootFs &fs, const std::vector<Directive> &before,
                              const std::optional<std::string> &path,
                              const std::vector<Directive> &after, const RedisOptions &opts = {});

// One word of a command line and where it was written.
struct Arg {
  std::string text;
  SourceLocation loc;
};
// The options of `redis-server [configfile] [options]` as Redis 7.0.15's
// main() turns them into configuration lines (src/server.c): `args` is what
// follows the program name and the configuration file. "--name" starts a
// line when the line before has an argument (else it is that argument);
// "--name value" in one word is split as a configuration line; other words
// are arguments, each one whole (sdscatrepr); `--save` with nothing after
// it is `save ""`. Lines that do not tokenise are diagnostics in `diags`.
std::vector<Directive> server_options(const std::vector<Arg> &args, std::vector<Diagnostic> &diags);

// sdssplitargs(): nullopt for unbalanced quotes.
std::optional<std::vector<std::string>> split_args(std::string_view line);

// Strength of a password as redis.authentication judges it.
struct Strength {
  bool weak = false;
  std::string reason; // "12 characters (< 32)", "a well-known password", "low entropy"
};
Strength judge_password(std::string_view password);
// "<redacted: 12 characters>"
std::string redact(std::string_view password);

} // namespace bulwark::redis
