#pragma once
// /etc/os-release (os-release(5), systemd 252;
// https://www.freedesktop.org/software/systemd/man/os-release.html).
//
// A newline-separated list of shell-compatible assignments, KEY=VALUE, with
// no spaces around "=". Lines starting with "#" are comments, blank lines
// are ignored. A value may be unquoted, 'single-quoted' (taken literally) or
// "double-quoted" (where \$ \" \\ \` escape themselves); nothing is expanded
// (no $VAR, no command substitution). A later assignment of a key replaces
// an earlier one, as sourcing the file would. A line that is none of these
// is not an assignment: it is reported and skipped (systemd's parser does the
// same, with a warning).
//
// /etc/os-release wins; /usr/lib/os-release is read only when the former
// does not exist (an unreadable /etc/os-release is an error, not a reason to
// read the other).

#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::osrelease {

struct Field {
  std::string value;
  SourceLocation loc;
};

struct OsRelease {
  std::string path; // the file read
  std::map<std::string, Field> fields;
  std::vector<Error> diagnostics; // lines that are not assignments, unclosed quotes
  // The value of `key`, "" when unset.
  std::string value(const std::string &key) const;
};

OsRelease parse_os_release(std::string_view text, const std::string &path);

// Error not_found() when neither file exists.
Result<OsRelease> load_os_release(const RootFs &fs);

} // namespace bulwark::osrelease
