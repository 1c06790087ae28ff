// Debian version parsing and ordering, a transcription of dpkg 1.21's
// lib/dpkg/parsehelp.c parseversion() and lib/dpkg/version.c verrevcmp().
//
// dpkg works on NUL-terminated C strings and the C locale's <c-ctype.h>
// classes, so this file does too: `debversion_at()` yields '\0' past the end, and the
// classes below are ASCII-only whatever the process locale. The error and
// warning texts are dpkg's, so a diagnostic reads like dpkg's own.
// Source: https://git.dpkg.org/cgit/dpkg/dpkg.git/tree/lib/dpkg/version.c

#include <bulwark/parse/debversion.hpp>

#include <climits>

namespace bulwark::deb {

namespace {

bool debversion_c_isdigit(int c) {
  return c >= '0' && c <= '9';
}
bool debversion_c_isalpha(int c) {
  return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool c_isblank(int c) {
  return c == ' ' || c == '\t';
}
// What strtol() skips before the number (isspace() in the C locale).
bool debversion_c_isspace(int c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// The character at i as dpkg's `*p` would read it: a plain char promoted to
// int, and '\0' at the end of the string.
int debversion_at(std::string_view s, size_t i) {
  return i < s.size() ? static_cast<int>(s[i]) : 0;
}

// version.c order(): the weight of a character in a non-digit run.
int debversion_order(int c) {
  if (debversion_c_isdigit(c))
    return 0;
  if (debversion_c_isalpha(c))
    return c;
  if (c == '~')
    return -1;
  if (c != 0)
    return c + 256;
  return 0;
}

Error version_error(std::string message) {
  return Error{std::move(message), "", 0, 0};
}

} // namespace

int compare_deb_version_part(std::string_view a, std::string_view b) {
  size_t i = 0, j = 0;
  while (debversion_at(a, i) != 0 || debversion_at(b, j) != 0) {
    int first_diff = 0;
    while ((debversion_at(a, i) != 0 && !debversion_c_isdigit(debversion_at(a, i))) ||
           (debversion_at(b, j) != 0 && !debversion_c_isdigit(debversion_at(b, j)))) {
      int ac = debversion_order(debversion_at(a, i));
      int bc = debversion_order(debversion_at(b, j));
      if (ac != bc)
        return ac - bc;
      ++i;
      ++j;
    }
    while (debversion_at(a, i) == '0')
      ++i;
    while (debversion_at(b, j) == '0')
      ++j;
    // Equal-length digit runs compare by their first differing digit; a
    // longer run (after its leading zeros) is the bigger number. No integer
    // conversion, so runs of any length are fine.
    while (debversion_c_isdigit(debversion_at(a, i)) && debversion_c_isdigit(debversion_at(b, j))) {
      if (first_diff == 0)
        first_diff = debversion_at(a, i) - debversion_at(b, j);
      ++i;
      ++j;
    }
    if (debversion_c_isdigit(debversion_at(a, i)))
      return 1;
    if (debversion_c_isdigit(debversion_at(b, j)))
      return -1;
    if (first_diff != 0)
      return first_diff;
  }
  return 0;
}

int compare_deb_versions(const DebVersion &a, const DebVersion &b) {
  if (a.epoch > b.epoch)
    return 1;
  if (a.epoch < b.epoch)
    return -1;
  if (int rc = compare_deb_version_part(a.upstream, b.upstream); rc != 0)
    return rc;
  return compare_deb_version_part(a.revision, b.revision);
}

Result<int> compare_deb_versions(std::string_view a, std::string_view b) {
  auto va = parse_deb_version(a);
  if (!va)
    return va.error();
  auto vb = parse_deb_version(b);
  if (!vb)
    return vb.error();
  return compare_deb_versions(*va, *vb);
}

Result<DebVersion> parse_deb_version(std::string_view text, std::string *warning) {
  if (warning != nullptr)
    warning->clear();
  // A C string ends at its first NUL.
  if (size_t nul = text.find('\0'); nul != std::string_view::npos)
    text = text.substr(0, nul);

  size_t start = 0;
  while (start < text.size() && c_isblank(text[start]))
    ++start;
  if (start == text.size())
    return version_error("version string is empty");
  size_t end = start;
  while (end < text.size() && !c_isblank(text[end]))
    ++end;
  for (size_t p = end; p < text.size(); ++p)
    if (!c_isblank(text[p]))
      return version_error("version string has embedded spaces");

  std::string_view s = text.substr(start, end - start);
  DebVersion v;
  if (size_t colon = s.find(':'); colon != std::string_view::npos) {
    // strtol(s, &end, 10): whitespace, a sign, digits. No digits means no
    // conversion (end == s); overflow saturates, which the range checks catch.
    size_t p = 0;
    while (p < colon && debversion_c_isspace(s[p]))
      ++p;
    bool negative = false;
    if (p < colon && (s[p] == '+' || s[p] == '-'))
      negative = s[p++] == '-';
    size_t digits_start = p;
    bool too_big = false;
    uint64_t epoch = 0;
    while (p < s.size() && debversion_c_isdigit(s[p])) {
      if (epoch <= INT_MAX)
        epoch = epoch * 10 + static_cast<uint64_t>(s[p] - '0');
      if (epoch > INT_MAX)
        too_big = true;
      ++p;
    }
    if (p == digits_start)
      return version_error("epoch in version is empty");
    if (p != colon)
      return version_error("epoch in version is not number");
    if (negative && epoch != 0)
      return version_error("epoch in version is negative");
    if (too_big)
      return version_error("epoch in version is too big");
    if (colon + 1 == s.size())
      return version_error("nothing after colon in version number");
    v.epoch = static_cast<uint32_t>(epoch);
    s = s.substr(colon + 1);
  }

  if (size_t hyphen = s.rfind('-'); hyphen != std::string_view::npos) {
    v.revision = std::string(s.substr(hyphen + 1));
    if (v.revision.empty())
      return version_error("revision number is empty");
    s = s.substr(0, hyphen);
  }
  v.upstream = std::string(s);
  if (v.upstream.empty())
    return version_error("version number is empty");

  // Warnings: dpkg reports the first one only and keeps the version.
  std::string warn;
  if (!debversion_c_isdigit(v.upstream[0])) {
    warn = "version number does not start with digit";
  } else {
    for (size_t p = 1; p < v.upstream.size() && warn.empty(); ++p) {
      char c = v.upstream[p];
      if (!debversion_c_isdigit(c) && !debversion_c_isalpha(c) &&
          std::string_view(".-+~:").find(c) == std::string_view::npos)
        warn = "invalid character in version number";
    }
    for (size_t p = 0; p < v.revision.size() && warn.empty(); ++p) {
      char c = v.revision[p];
      if (!debversion_c_isdigit(c) && !debversion_c_isalpha(c) &&
          std::string_view(".+~").find(c) == std::string_view::npos)
        warn = "invalid character in revision number";
    }
  }
  if (warning != nullptr)
    *warning = std::move(warn);
  return v;
}

std::string DebVersion::to_string() const {
  std::string out;
  if (epoch != 0 || upstream.find(':') != std::string::npos)
    out = std::to_string(epoch) + ":";
  out += upstream;
  if (!revision.empty())
    out += "-" + revision;
  return out;
}

} // namespace bulwark::deb
