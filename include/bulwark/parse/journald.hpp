#pragma once
// systemd's configuration files with drop-ins, as systemd 252 (Debian 12)
// reads journald.conf and journal-upload.conf, and systemd's time spans and
// sizes.
//
// The real semantics (systemd 252: src/shared/conf-parser.c
// config_parse_many_nulstr, src/basic/conf-files.c, src/basic/time-util.c
// parse_time/extract_multiplier, src/basic/format-util/parse_size):
// - The main file is /etc/systemd/NAME only (252 does not look in /usr/lib).
//   Drop-ins are NAME.d/*.conf in /etc/systemd, /run/systemd,
//   /usr/local/lib/systemd, /usr/lib/systemd and /lib/systemd (split-usr),
//   in that precedence: the first directory holding a file name owns it (a
//   /dev/null link masks it); the owners apply after the main file, in
//   bytewise name order. The last valid assignment wins; an invalid value is
//   logged and ignored (the earlier value stays).
// - Lines: '#' or ';' first is a comment, `[Section]`, `Key=Value` (both
//   stripped), a trailing backslash continues the line.
// - Time spans: "90d", "3month", "1y 2M", "1.5h", bare numbers in seconds;
//   units (first prefix match in this order): seconds second sec s minutes
//   minute min months month M msec ms m hours hour hr h days day d weeks
//   week w years year y usec us; a month is 30.44 days, a year 365.25 days;
//   "infinity" is the largest value.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bulwark::journald {

inline constexpr uint64_t k_usec_infinity = UINT64_MAX;
inline constexpr uint64_t k_usec_per_sec = 1000000;
inline constexpr uint64_t k_usec_per_day = 86400 * k_usec_per_sec;

// parse_time(): microseconds. `default_unit` applies to bare numbers.
Result<uint64_t> parse_timespan(std::string_view s, uint64_t default_unit = k_usec_per_sec);
// parse_size(base 1024): bytes. Suffixes B K M G T P E.
Result<uint64_t> parse_size(std::string_view s);

struct Assignment {
  std::string value;
  SourceLocation loc;
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct SystemdConf {
  std::vector<std::string> files;  // applied, in order
  std::vector<std::string> masked; // drop-ins masked by /dev/null or empty
  // section -> key -> every assignment in order.
  std::map<std::string, std::map<std::string, std::vector<Assignment>>> values;
  std::vector<Diagnostic> diagnostics;
  bool main_present = false;

  // The last assignment `valid` accepts; nullptr when none.
  template <class F>
  const Assignment *last_valid(const std::string &section, const std::string &key,
                               F &&valid) const {
    auto s = values.find(section);
    if (s == values.end())
      return nullptr;
    auto k = s->second.find(key);
    if (k == s->second.end())
      return nullptr;
    for (auto it = k->second.rbegin(); it != k->second.rend(); ++it)
      if (valid(it->value))
        return &*it;
    return nullptr;
  }
};

// Applies (path, contents) in order, as the main file and its drop-ins.
SystemdConf parse_systemd_conf_texts(const std::vector<std::pair<std::string, std::string>> &files);

// `name` as "systemd/journald.conf".
SystemdConf load_systemd_conf(const RootFs &fs, const std::string &name,
                              size_t max_file_bytes = 16 * 1024 * 1024);

} // namespace bulwark::journald
