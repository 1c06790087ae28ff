#pragma once
// Small string helpers shared by the parsers.

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::text {

std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep, bool keep_empty = false);
std::string join(const std::vector<std::string> &parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
// Printable rendering of untrusted bytes for messages and the terminal:
// C0/C1 controls and DEL as \xNN, bidirectional overrides and isolates and
// the Unicode line separators as \uNNNN, invalid UTF-8 bytes as \xNN, tab
// as \t; cut to about max_len bytes with "...". Nothing a terminal would
// act on (an escape sequence, a forged line, text shown reversed) survives,
// and crypt(3) password hashes ("$6$salt$...") are redacted.
std::string printable(std::string_view s, size_t max_len = 120);
// True when printable(s) would change s (beyond cutting it).
bool needs_escape(std::string_view s);
// A file mode's permission bits as four octal digits ("0640").
std::string octal_mode(uint32_t mode);
// The path of `name` in directory `dir` ("/etc" + "passwd", "/" + "etc").
std::string child_path(std::string_view dir, std::string_view name);
// The directory part of a path: "/" for "/x", "x" and "".
std::string parent_dir(const std::string &path);
// Seconds since the epoch as UTC, ISO 8601 ("2026-12-06T22:09:25Z").
std::string iso_time_utc(int64_t t);
// A path as a URI path: every byte but unreserved characters and '/' as %XX.
std::string percent_encode_path(std::string_view path);

} // namespace bulwark::text
