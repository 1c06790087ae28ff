#pragma once
// sshd_config, read the way OpenSSH 9.2's sshd reads it (servconf.c).
//
// The format's real semantics, which a line-oriented grep gets wrong:
// - Lines: leading " \t\r" and trailing whitespace are dropped. The keyword
//   ends at whitespace, a quote or '=' (one '=' may stand between keyword and
//   value: `Port=22`, `Port = 22`). Arguments are split by argv_split(): single
//   and double quotes, backslash escapes, and '#' starts a comment only at the
//   start of a word (`yes#x` is one word). Keywords are case-insensitive;
//   unknown keywords, missing or extra arguments are fatal to sshd.
// - First obtained value wins for single-valued keywords; AllowUsers,
//   DenyUsers, AllowGroups, DenyGroups, AcceptEnv, Port, ListenAddress,
//   HostKey (and a few others) accumulate.
// - `Include` takes globs (relative paths are under /etc/ssh), sorted, and
//   splices the files in place, to depth 16. An included file cannot leak its
//   Match state into the including file.
// - `Match` starts a block that runs to the next Match or the end of the file.
//   sshd parses twice: once with no connection (only `Match all` applies, and a
//   keyword not allowed in Match inside an inactive block is fatal), then once
//   more for the connection (`-T` alone uses a blank one, `-C` a given one):
//   values set by satisfied Match blocks override the global ones, the first
//   satisfied block winning.
// Source: https://github.com/openssh/openssh-portable/blob/V_9_2_P1/servconf.c
// (process_server_config_line_depth, match_cfg_line, parse_server_config_depth)
// and misc.c (argv_split, strdelim).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::ssh {

enum class ValueKind {
  flag,       // yes | no
  multistate, // one of Keyword::choices
  integer,    // 0..INT_MAX
  time,       // sshd's convtime(): 90, 5m, 1h30m
  text,       // exactly one free-form argument
  words,      // one or more arguments, kept as given
  rest,       // the raw rest of the line (ForceCommand)
  algorithms, // comma list with + - ^ modifiers (Ciphers, MACs, ...)
  ignored,    // deprecated / unsupported: accepted with a message, no effect
};

enum class Store { first, last, accumulate };

struct Keyword {
  const char *name;      // lowercase, as written in files
  const char *canonical; // lowercase, as printed by `sshd -T`
  ValueKind kind;
  Store store;
  bool match_ok;       // allowed inside a Match block
  const char *choices; // multistate: "yes,no,..." ; algorithms: the family
  int min_args;
  int max_args; // -1 = unbounded
};

// nullptr when sshd 9.2 does not know the keyword.
const Keyword *find_keyword(std::string_view lowercase_name);

struct MatchCriterion {
  std::string attribute; // lowercase: user, group, host, address, localaddress, localport, rdomain
  std::string argument;
};

struct Line {
  enum class Kind { directive, match, include_begin, include_end };
  Kind kind = Kind::directive;
  SourceLocation loc;
  const Keyword *keyword = nullptr; // directive
  std::string raw_keyword;          // as written
  std::vector<std::string> args;    // directive arguments after unquoting
  // match
  bool match_all = false;
  std::vector<MatchCriterion> criteria;
  std::string match_text; // "User alice,bob Address 10.0.0.0/8" as written
  bool match_valid = true;
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct SshdConfig {
  std::string main_path;
  std::vector<Line> lines; // flattened, includes spliced in place
  std::vector<Diagnostic> diagnostics;
  std::vector<std::string> files; // every file read, in order
  bool has_errors() const;
};

struct ParseOptions {
  std::string include_base = "/etc/ssh"; // where relative Include paths live
  size_t max_file_bytes = 16 * 1024 * 1024;
  // The work budget of one configuration, includes and all: sshd's depth
  // limit of 16 alone lets a 128-byte file that includes itself twice read
  // 2^16 files. Past either limit the rest is not read, and one error says
  // where (fail closed: the configuration is not known).
  size_t max_total_bytes = 64 * 1024 * 1024;
  size_t max_included_files = 4096;
};

// Reads `path` (inside the target) and its includes. An absent or unreadable
// main file is an Error; everything else (bad lines, missing includes, loops)
// becomes a Diagnostic with file and line, and parsing goes on.
Result<SshdConfig> parse_sshd_config(const RootFs &fs, const std::string &path,
                                     const ParseOptions &opts = {});
// Parses text that claims to come from `path` (includes still read from fs).
SshdConfig parse_sshd_config_text(const RootFs &fs, const std::string &path, std::string_view text,
                                  const ParseOptions &opts = {});

// The connection a configuration is evaluated for, as `sshd -T -C`.
// Absent fields never satisfy a criterion (sshd's test mode).
struct ConnectionSpec {
  std::optional<std::string> user, host, address, laddress, rdomain;
  std::optional<int> lport;
};

// Users and groups of the target, for `Match Group`.
struct UserDb {
  struct User {
    std::string name;
    uint32_t gid = 0;
  };
  std::vector<User> users;
  std::map<std::string, std::vector<std::string>> groups_of_member; // user -> supplementary
  std::map<uint32_t, std::string> group_names;
  static UserDb load(const RootFs &fs); // /etc/passwd, /etc/group; absent -> empty
  std::optional<std::vector<std::string>> groups(std::string_view user) const;
};

struct Value {
  std::vector<std::string> args;         // the effective arguments
  std::vector<SourceLocation> locations; // the lines that set them; empty = default
  int match_line = -1;                   // index of the Match line, -1 = global
  bool is_default() const { return locations.empty(); }
};

struct Effective {
  std::map<std::string, Value> values; // by canonical keyword; only what was set
  // The value of a keyword, falling back to OpenSSH 9.2's compiled default.
  Value get(std::string_view canonical) const;
};

// Evaluate as sshd does for a connection; a blank spec is `sshd -T`.
Effective evaluate(const SshdConfig &cfg, const ConnectionSpec &spec, const UserDb &users);

// Evaluate as if the Match line at `match_line` (and every `Match all`) were
// satisfied and no other Match block: the context a check judges per block.
Effective evaluate_block(const SshdConfig &cfg, int match_line);

// Compiled-in defaults of OpenSSH 9.2 on Debian 12 (`sshd -T` of an empty
// file), as argument lists.
const std::map<std::string, std::vector<std::string>> &defaults();

// Resolves an algorithm list with + - ^ modifiers against the defaults and
// the supported set, as kex_assemble_names() does. `family` is one of
// ciphers, macs, kexalgorithms, hostkeyalgorithms, pubkeyacceptedalgorithms,
// hostbasedacceptedalgorithms, casignaturealgorithms.
std::vector<std::string> resolve_algorithms(std::string_view family, std::string_view spec);
// Names sshd accepts for the family (for validation).
bool algorithms_valid(std::string_view family, std::string_view spec, std::string *bad);

// OpenSSH's match_pattern_list(): comma list of * ? patterns with ! negation.
// Returns 1 on match, 0 on no match, -1 on a negated match.
int match_pattern_list(std::string_view s, std::string_view list, bool dolower);
// addr_match_list(): 1 match, 0 none, -1 negated match, -2 bad list.
int addr_match_list(const std::optional<std::string> &addr, std::string_view list);

// Seconds from sshd's convtime() syntax, or nullopt.
std::optional<long long> convtime(std::string_view s);

} // namespace bulwark::ssh
