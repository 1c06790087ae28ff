#pragma once
// dpkg's per-package file database: /var/lib/dpkg/info/<pkg>[:<arch>].list
// (the paths a package installed) and <pkg>[:<arch>].md5sums (the MD5 of
// each regular file as shipped), read the way dpkg 1.21 reads them.
//
// - .list (lib/dpkg/db-fsys-files.c, ensure_packagefiles_available): one
//   absolute path per line, no quoting (dpkg cannot ship a name holding a
//   newline); a trailing '/' is dropped; an empty line is "files list file
//   contains empty filename" and a missing final newline "files list file
//   missing final newline" (fatal to dpkg, a diagnostic here: the line is
//   still taken).
// - .md5sums (lib/dpkg/db-fsys-digest.c, parse_filehash_buffer, and
//   deb-md5sums(5)): "<32 hex digits><two spaces><path>", the path relative
//   to / (dpkg adds the leading '/'), trailing '/' dropped. A line that is
//   too short or lacks the two-space separator is an error dpkg would stop
//   on; here it costs only that line.
// Paths are as the package shipped them: on a merged-/usr system
// "/bin/login" names /usr/bin/login, so callers resolve the directories.
// Source: https://git.dpkg.org/cgit/dpkg/dpkg.git/tree/lib/dpkg/

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::deb {

inline constexpr const char *k_dpkg_info_dir = "/var/lib/dpkg/info";

using FileDiagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct ListedPath {
  std::string path; // absolute, as dpkg stores it
  int line = 0;
};

struct FileList {
  std::string path; // the .list file
  std::vector<ListedPath> files;
  std::vector<FileDiagnostic> diagnostics;
};

struct Md5Entry {
  std::string md5;  // 32 lower-case hex digits as written
  std::string path; // absolute ("/" prepended)
  int line = 0;
};

struct Md5Sums {
  std::string path; // the .md5sums file
  std::vector<Md5Entry> entries;
  std::vector<FileDiagnostic> diagnostics;
};

FileList parse_file_list_text(const std::string &path, std::string_view text);
Md5Sums parse_md5sums_text(const std::string &path, std::string_view text);

// "login.list" -> "login", "libc6:amd64.md5sums" -> "libc6:amd64".
std::string_view package_of_info_file(std::string_view file_name);

} // namespace bulwark::deb
