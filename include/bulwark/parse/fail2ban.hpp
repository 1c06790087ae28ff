#pragma once
// fail2ban's jail configuration, read the way fail2ban-client 1.0.2 (Debian 12)
// reads it before it sends a single command to the server.
//
// The format's real semantics (fail2ban/client/configreader.py,
// configparserinc.py, jailreader.py, jailsreader.py on top of Python 3.11's
// configparser; src/parse/fail2ban.cpp has the details):
// - Files: CONFDIR/jail.conf, jail.d/*.conf (sorted), jail.local,
//   jail.d/*.local (sorted), the existing ones only. Each file's [INCLUDES]
//   `before`/`after` lists (one path a line, relative to the including file)
//   are spliced around it, recursively, each include followed by its own
//   `.local` twin when one exists (this is how paths-debian.conf and
//   paths-common.conf set %(sshd_log)s).
// - Each file is parsed alone (duplicate sections or options inside one file,
//   lines outside a section, lines without `=` or `:` abort fail2ban-client),
//   then merged in that order: [DEFAULT] into the defaults, a section's
//   options over the same section's earlier options (the values they replace
//   stay reachable as %(known/option)s).
// - Values are interpolated when read: %(name)s from the section, then
//   [DEFAULT]; %(__name__)s is the section; %(section/option)s,
//   %(default/option)s and %(known/option)s; ten levels at most.
// - A jail is any section but INCLUDES; only enabled jails have their other
//   options read (an undefined %(x)s in a disabled jail is harmless, in an
//   enabled one it stops fail2ban-client).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::f2b {

inline constexpr const char *k_confdir = "/etc/fail2ban";

// One effective option of a jail.
struct Setting {
  bool defined = false; // some file sets it; false: fail2ban's built-in default
  std::string raw;      // as written (after joining continuation lines)
  std::string value;    // interpolated, what fail2ban-client sends
  SourceLocation loc;   // the line that set it; path "" for a built-in default
  std::string section;  // where it was found: the jail's name or "DEFAULT"
  // Lines the interpolation consulted (%(sshd_log)s -> paths-common.conf:33).
  std::vector<SourceLocation> via;
};

struct LogPath {
  std::string pattern;            // one line of logpath, before the tail word
  std::string tail;               // "head" (default) or the word after the last space
  std::vector<std::string> files; // existing files the glob matches, sorted
};

struct Jail {
  std::string name;
  SourceLocation loc; // the first [name] header
  bool enabled = false;
  Setting enabled_setting;
  Setting backend; // "auto" when unset
  Setting filter;
  std::optional<Setting> maxretry, findtime, bantime, logpath; // nullopt: unset
  // `port`: the action parameter the ban applies to ("ssh", "22,2222",
  // "1:65535"); jail.conf's [DEFAULT] sets "0:65535". nullopt: unset.
  std::optional<Setting> port;
  std::optional<Setting> action;           // interpolated: the ban actions with their parameters
  std::optional<long long> maxretry_value; // nullopt: unset or not an int
  std::optional<double> findtime_s, bantime_s; // str2seconds, nullopt if invalid/unset
  std::vector<LogPath> logpaths;               // empty for backend systemd*, which ignores logpath
  // Why fail2ban-client would skip this enabled jail ("config-error"): its
  // filter cannot be read. "" when it would start it.
  std::string config_error;
  // Interpolation errors while reading this jail. For an enabled jail each one
  // also stops fail2ban-client (Config::fatal).
  std::vector<Error> errors;
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Config {
  std::string confdir;
  bool present = false;           // at least one jail file exists
  std::vector<std::string> files; // files merged, in fail2ban's order (repeats kept)
  std::vector<Jail> jails;        // in section order
  std::vector<Diagnostic> diagnostics;
  // Why fail2ban-client would refuse this configuration as a whole (a syntax
  // error, an include loop, an undefined or looping %(x)s in an enabled jail).
  std::optional<Error> fatal;

  const Jail *jail(std::string_view name) const;
};

// Where the loader reads from: the target's RootFs, or memory (tests, fuzzing).
class Source {
public:
  virtual ~Source() = default;
  // The file's bytes; an Error when absent, not a regular file or too big.
  virtual Result<std::string> read(const std::string &path) const = 0;
  virtual bool exists(const std::string &path) const = 0;  // follows symlinks
  virtual bool is_file(const std::string &path) const = 0; // a regular file
  // Existing paths matching a glob (*, ?, [..]), sorted; no match: empty.
  virtual std::vector<std::string> glob(const std::string &pattern) const = 0;
};

class RootFsSource : public Source {
public:
  explicit RootFsSource(const RootFs &fs, size_t max_bytes = 16 * 1024 * 1024)
      : m_fs(fs), m_max(max_bytes) {}
  Result<std::string> read(const std::string &path) const override;
  bool exists(const std::string &path) const override;
  bool is_file(const std::string &path) const override;
  std::vector<std::string> glob(const std::string &pattern) const override;

private:
  const RootFs &m_fs;
  size_t m_max;
};

class MemorySource : public Source {
public:
  std::map<std::string, std::string> files; // absolute path -> content
  Result<std::string> read(const std::string &path) const override;
  bool exists(const std::string &path) const override;
  bool is_file(const std::string &path) const override;
  std::vector<std::string> glob(const std::string &pattern) const override;
};

// Reads the jail configuration under `confdir`. Never fails: problems become
// diagnostics and `fatal`. An absent confdir gives present = false.
Config load_config(const Source &src, const std::string &confdir = k_confdir);
Config load_fail2ban(const RootFs &fs, const std::string &confdir = k_confdir);

// fail2ban's MyTime.str2seconds: "1h", "10m", "600", "-1", "1d 2h",
// "1hour+30min", "1year-6mo". nullopt when fail2ban could not evaluate it.
std::optional<double> str2seconds(std::string_view text);

// fail2ban's _as_bool: 1, on, true, yes (any case); everything else is false.
bool as_bool(std::string_view text);

} // namespace bulwark::f2b
