#pragma once
// Kernel parameters as systemd-sysctl (systemd 252, Debian 12) sets them at
// boot, plus, on the live system, the values the kernel reports now.
//
// The format's real semantics (checked against the Debian 12 binary; see
// src/parse/sysctl.cpp for the details and the source links):
// - Files: `*.conf` in /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d,
//   /usr/lib/sysctl.d, /lib/sysctl.d, in that precedence. A name found in an
//   earlier directory hides the same name in later ones, whatever the earlier
//   entry is (a /dev/null link, an empty file, a dangling link, even a
//   directory). The survivors are applied in bytewise order of their names.
//   /etc/sysctl.conf is NOT read by systemd-sysctl itself: only through
//   Debian's /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf link.
// - Lines: `key = value`; '#' or ';' first is a comment. A leading '-' makes a
//   write failure harmless; `-key` without '=' excludes key from every glob.
//   Keys use '.' or '/' separators (if the first separator is '.', dots and
//   slashes swap). Later assignments override earlier ones.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark {

struct SysctlSetting {
  // Dotted form as sysctl(8) prints it: "net.ipv4.ip_forward",
  // "net.ipv4.conf.eth0/100.forwarding". May be a glob pattern.
  std::string key;
  std::string value; // as written, surrounding whitespace removed
  // The line that decides the value (the last of equal assignments).
  SourceLocation loc;
  bool ignore_failure = false; // written as `-key = value`
  bool is_glob = false;        // key contains * ? or [
  uint64_t order = 0;          // position in systemd-sysctl's write order
};

using SysctlDiagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct SysctlModel {
  // Every assignment that survives, by dotted key: explicit keys and glob
  // patterns (offline a glob stays a pattern; see effective()).
  std::map<std::string, SysctlSetting> configured;
  // `-key` lines without '=': keys no glob may set.
  std::map<std::string, SourceLocation> excluded;
  // Host root only: the value /proc/sys reports now, by dotted key, for every
  // configured key and every current match of a configured glob. Absent when
  // the kernel has no such entry or it cannot be read.
  std::map<std::string, std::string> live;
  // The files systemd-sysctl reads, in the order it applies them (what
  // `systemd-sysctl --cat-config` lists), including masks.
  std::vector<std::string> files;
  // The entries of `files` that are links to /dev/null (or dangling links):
  // they only hide the same name in later directories.
  std::vector<std::string> masked;
  std::vector<SysctlDiagnostic> diagnostics;

  // The setting systemd-sysctl writes to the concrete key (either separator
  // form): the explicit assignment, else the last glob in write order that
  // matches it, unless the key is excluded. nullptr when nothing writes it.
  const SysctlSetting *effective(std::string_view key) const;
  // The value that holds now: the live one when known (it wins), else the
  // configured one. nullopt when neither is known.
  std::optional<std::string> value(std::string_view key) const;
  bool has_errors() const;
};

struct SysctlOptions {
  size_t max_file_bytes = 32 * 1024 * 1024; // bigger files become diagnostics
  bool read_live = true;                    // only ever on the host root
};

// Reads the configuration of the target. Never fails: absent directories are
// empty, unreadable files and bad lines become diagnostics with file and line.
SysctlModel load_sysctl(const RootFs &fs, const SysctlOptions &opts = {});

// Applies files given as (path, contents), in order, as load_sysctl() does
// after choosing them. For tests and the fuzz harness.
SysctlModel parse_sysctl_texts(const std::vector<std::pair<std::string, std::string>> &files);

// systemd's key normalisation, in dotted form ("net/ipv4/ip_forward" ->
// "net.ipv4.ip_forward"; "net.ipv4.conf.eth0/100.x" stays).
std::string normalize_sysctl_key(std::string_view key);
// The path under /proc/sys that a key names ("net/ipv4/ip_forward").
std::string sysctl_key_path(std::string_view key);

// The kernel's current value of a concrete key, without the trailing newline.
// nullopt unless fs.is_host_root() (an offline root has no live kernel), and
// when the key is a glob, climbs out of /proc/sys, is absent or unreadable.
std::optional<std::string> live_value(const RootFs &fs, std::string_view key);

// Whether two values are the same to the kernel for comparison purposes:
// equal after collapsing runs of blanks ("4096 16384" vs "4096\t16384").
bool sysctl_values_equal(std::string_view a, std::string_view b);

} // namespace bulwark
