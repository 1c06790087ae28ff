#pragma once
// Debian package versions, parsed and ordered exactly as dpkg 1.21 does.
//
// The format's real semantics (deb-version(7)), which a string or "natural"
// comparison gets wrong:
// - `[epoch:]upstream[-revision]`. The epoch is everything before the FIRST
//   ':' and must be a decimal number (dpkg uses strtol: leading whitespace
//   and a sign are accepted, so ` +1:2` is epoch 1 and `-0:2` epoch 0); the
//   revision is everything after the LAST '-', so the upstream part may hold
//   hyphens and (with an epoch) colons: `1:2:3-4-5` is 1 / `2:3-4` / `5`.
// - Blanks (space, tab) around the string are ignored; a blank inside it is
//   an error. Upstream not starting with a digit, or a character outside
//   [A-Za-z0-9.+~-:] (upstream) / [A-Za-z0-9.+~] (revision), is only a
//   WARNING for dpkg: `dpkg --compare-versions` compares such versions, and
//   the status file holds them.
// - Ordering: epochs numerically, then upstream, then revision, each with
//   verrevcmp(): alternate runs of non-digits (compared character by
//   character, '~' before the end of the string, the end before letters,
//   letters before everything else, in ASCII order within each class) and
//   runs of digits (compared as numbers of any length: leading zeros are
//   ignored, so 1.0 == 1.00 and 1.0 == 1.0-0, and 0:1.0 == 1.0).
// - Bytes >= 0x80 are "everything else" and ordered as dpkg's C code orders
//   them: as a `char` promoted to int plus 256. On platforms where char is
//   signed (amd64, i386) they sort between letters and ASCII punctuation;
//   where it is unsigned (arm64) after the punctuation. We do the same as a
//   dpkg built for the platform bulwark runs on.
// Source: https://git.dpkg.org/cgit/dpkg/dpkg.git/tree/lib/dpkg/version.c
// (verrevcmp, dpkg_version_compare) and lib/dpkg/parsehelp.c (parseversion).

#include <bulwark/core/result.hpp>

#include <cstdint>
#include <string>
#include <string_view>

namespace bulwark::deb {

struct DebVersion {
  uint32_t epoch = 0;   // 0..INT_MAX, as dpkg accepts
  std::string upstream; // never empty once parsed
  std::string revision; // "" when absent (orders like "0")
  // As dpkg prints it: the epoch only when non-zero or when upstream holds
  // a ':', the revision only when non-empty.
  std::string to_string() const;
};

// Parses like dpkg's parseversion(). Errors (message as dpkg words it) for:
// an empty or blank string, embedded blanks, an empty, non-numeric, negative
// or too big (> INT_MAX) epoch, nothing after the colon, an empty revision
// (trailing '-') or an empty upstream version. dpkg's warnings (upstream not
// starting with a digit, invalid characters) do not fail: the version is
// returned and, when `warning` is given, the message is stored there ("" when
// there was none). A NUL byte ends the string, as it does for dpkg.
Result<DebVersion> parse_deb_version(std::string_view text, std::string *warning = nullptr);

// <0, 0, >0 as a sorts before, equal to, or after b (dpkg_version_compare).
int compare_deb_versions(const DebVersion &a, const DebVersion &b);

// Both strings parsed with parse_deb_version(); the first parse error is
// returned. Unlike `dpkg --compare-versions`, an empty string is an error,
// not the "no version" that sorts before every version.
Result<int> compare_deb_versions(std::string_view a, std::string_view b);

// verrevcmp() on one part (upstream or revision): <0, 0, >0.
int compare_deb_version_part(std::string_view a, std::string_view b);

} // namespace bulwark::deb
