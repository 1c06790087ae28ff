#pragma once
// /var/lib/dpkg/status: what dpkg believes is installed, read the way dpkg
// 1.21's database parser (lib/dpkg/parse.c) reads it.
//
// The format's real semantics, which a grep for "^Package:" gets wrong:
// - Stanzas of `Field: value` lines, separated by one or more EMPTY lines (a
//   line holding only spaces is not a separator: inside a stanza it is a
//   "blank line in value", at its start an empty field name).
// - A line starting with a space or tab continues the previous field's value.
//   Field names are case-insensitive, run to whitespace or ':', may not start
//   with '-', and may not repeat within a stanza. Values lose surrounding
//   whitespace. The file must end with a newline: a file cut mid-value is
//   "EOF during value" to dpkg, which then refuses to run at all.
// - `Status: <want> <error-flag> <state>`: want is unknown|install|hold|
//   deinstall|purge, the flag ok|reinstreq, the state not-installed|
//   config-files|half-installed|unpacked|half-configured|triggers-awaited|
//   triggers-pending|installed. Only `installed` is fully installed; a
//   removed package with conffiles left (`deinstall ok config-files`) or a
//   purged one (`purge ok not-installed`) still has a stanza.
// - Version is required unless the state is not-installed or half-installed
//   (dpkg's lax version parser: only parse errors fail, warnings pass).
//   Source is `name` or `name (version)`; absent means the binary package's
//   own name and version. The same Package may appear once per Architecture
//   (Multi-Arch: same).
// Source: https://git.dpkg.org/cgit/dpkg/dpkg.git/tree/lib/dpkg/parse.c
// (parse_stanza, pkg_parse_verify) and lib/dpkg/fields.c (f_status);
// deb-status(5), deb822(5).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/debversion.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::deb {

inline constexpr const char *k_dpkg_status_path = "/var/lib/dpkg/status";

struct InstalledPackage {
  std::string name;         // Package
  std::string architecture; // "" when absent
  std::string status;       // the Status value as given, "" when absent
  std::string want;         // its three words ("" when absent)
  std::string error_flag;
  std::string state;
  std::string version_text;          // Version as given, "" when absent
  std::optional<DebVersion> version; // parsed Version, nullopt when absent
  std::string source_name;           // from Source, else the package name
  std::string source_version;        // from Source "(...)", else version_text
  SourceLocation loc;                // the stanza's first line

  // The state is `installed` (whatever the want: `hold ok installed` too).
  bool installed() const { return state == "installed"; }
  // Some of the package's files are on disk: any state but not-installed
  // and config-files.
  bool files_present() const;
};

using StatusDiagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct DpkgStatus {
  std::string path;
  // Every well-formed stanza, in file order, whatever its state.
  std::vector<InstalledPackage> packages;
  // A stanza with an error (bad syntax, missing Package, bad Status, bad
  // Version, truncated) is left out of `packages` and reported here; a
  // warning keeps the stanza.
  std::vector<StatusDiagnostic> diagnostics;

  bool has_errors() const;
  size_t installed_count() const;
  // The first package of that name (and architecture, when given) whose
  // state is `installed`; nullptr when none.
  const InstalledPackage *find_installed(std::string_view name,
                                         std::string_view architecture = {}) const;
};

// Reads `path` (inside the target). An absent or unreadable file is an Error
// (the caller decides whether that means "not a dpkg system"); everything
// wrong inside it becomes a diagnostic with file and line.
Result<DpkgStatus> parse_dpkg_status(const RootFs &fs, const std::string &path = k_dpkg_status_path,
                                     size_t max_bytes = RootFs::k_default_max_read);
// Parses text that claims to come from `path`.
DpkgStatus parse_dpkg_status_text(const std::string &path, std::string_view text);

} // namespace bulwark::deb
