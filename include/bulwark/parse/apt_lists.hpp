#pragma once
// APT's downloaded package lists (/var/lib/apt/lists), as apt 2.6 stores and
// reads them.
//
// - File names: a URI turned into a file name by URItoFileName (scheme and
//   credentials dropped, '/' -> '_', '_' itself escaped as %5f):
//   deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages
//   and, per suite, ..._dists_bookworm-security_InRelease (or _Release). With
//   Acquire::GzipIndexes (Debian's container images) the Packages file is
//   kept compressed: .lz4, .gz, .xz, .zst or .bz2 appended.
// - Packages and Release are deb822: stanzas of `Field: value` lines split
//   by empty lines, continuation lines start with a blank, field names are
//   case-insensitive (apt's pkgTagFile). We keep Package, Version,
//   Architecture and Source of each stanza; a Release (or the signed body of
//   an InRelease) gives Origin, Label, Suite, Codename.
// - The security suite is the one whose Release says `Label: Debian-Security`
//   or whose Suite/Codename ends in "-security" (Ubuntu: jammy-security), or
//   whose host/path says "security" (security.debian.org buster/updates).
// Source: apt-pkg/tagfile.cc, apt-pkg/contrib/strutl.cc (URItoFileName),
// apt-pkg/acquire-item.cc; deb822(5).
//
// Compressed lists: .gz (zlib) and .lz4 (liblz4, when bulwark is built with
// it) are decompressed in memory up to 256 MiB; .xz, .zst and .bz2 are
// reported as unreadable.

#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::apt {

inline constexpr const char *k_lists_dir = "/var/lib/apt/lists";

struct ListPackage {
  std::string name;
  std::string version;
  std::string architecture;
  std::string source; // "" when absent
  int line = 0;       // the stanza's first line
};

struct PackagesList {
  std::string path;
  std::vector<ListPackage> packages;
  // Stanzas without Package or Version, lines that are not fields.
  std::vector<std::pair<int, std::string>> problems;
};

// Parses Packages text (already decompressed).
PackagesList parse_packages_text(const std::string &path, std::string_view text);

struct ReleaseInfo {
  std::string path; // "" when no Release/InRelease was found
  std::string origin, label, suite, codename;
};

// The first stanza of a Release file, or of the signed text of an InRelease.
ReleaseInfo parse_release_text(const std::string &path, std::string_view text);

struct ListFile {
  std::string path;         // target path of the Packages file
  std::string compression;  // "", "gz", "lz4", "xz", "zst", "bz2"
  ReleaseInfo release;      // of its suite, when found
  bool security = false;    // belongs to a security suite
  std::string why_security; // "Label: Debian-Security", "file name", ...
};

// Every Packages file under `dir` with its suite's Release.
Result<std::vector<ListFile>> find_package_lists(const RootFs &fs,
                                                 const std::string &dir = k_lists_dir);

// Reads (and decompresses) one list. Errors name the file: unreadable,
// unsupported compression, corrupt data, over the size cap.
Result<PackagesList> read_packages_list(const RootFs &fs, const ListFile &file);

// Decompression on its own (tests, fuzzing). `kind` is "gz" or "lz4".
Result<std::string> decompress(std::string_view kind, std::string_view data, size_t max_out);

} // namespace bulwark::apt
