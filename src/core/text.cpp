#include <bulwark/core/text.hpp>

#include <cctype>
#include <cstdio>
#include <ctime>

namespace bulwark::text {

std::string lower(std::string_view s) {
  std::string out(s);
  for (auto &c : out)
    if (c >= 'A' && c <= 'Z')
      c = static_cast<char>(c - 'A' + 'a');
  return out;
}

bool iequals(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i) {
    char x = a[i], y = b[i];
    if (x >= 'A' && x <= 'Z')
      x = static_cast<char>(x - 'A' + 'a');
    if (y >= 'A' && y <= 'Z')
      y = static_cast<char>(y - 'A' + 'a');
    if (x != y)
      return false;
  }
  return true;
}

std::string_view trim(std::string_view s) {
  size_t b = s.find_first_not_of(" \t\r\n\f\v");
  if (b == std::string_view::npos)
    return {};
  size_t e = s.find_last_not_of(" \t\r\n\f\v");
  return s.substr(b, e - b + 1);
}

std::vector<std::string> split(std::string_view s, char sep, bool keep_empty) {
  std::vector<std::string> out;
  size_t i = 0;
  for (;;) {
    size_t j = s.find(sep, i);
    std::string_view part = s.substr(i, j == std::string_view::npos ? s.npos : j - i);
    if (keep_empty || !part.empty())
      out.emplace_back(part);
    if (j == std::string_view::npos)
      break;
    i = j + 1;
  }
  return out;
}

std::string join(const std::vector<std::string> &parts, std::string_view sep) {
  std::string out;
  for (size_t i = 0; i < parts.size(); ++i) {
    if (i)
      out += sep;
    out += parts[i];
  }
  return out;
}

bool starts_with(std::string_view s, std::string_view prefix) {
  return s.substr(0, prefix.size()) == prefix;
}

namespace {

// Length of the valid UTF-8 sequence at s[i] (RFC 3629: no overlongs, no
// surrogates, nothing above U+10FFFF), or 0 when the bytes there are not one.
size_t text_utf8_length(std::string_view s, size_t i, char32_t &cp) {
  auto b = [&](size_t k) { return static_cast<unsigned char>(s[i + k]); };
  unsigned char c = b(0);
  size_t n = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
  if (n == 0 || i + n > s.size())
    return 0;
  cp = n == 1 ? c : n == 2 ? c & 0x1f : n == 3 ? c & 0x0f : c & 0x07;
  for (size_t k = 1; k < n; ++k) {
    if ((b(k) & 0xc0) != 0x80)
      return 0;
    cp = (cp << 6) | (b(k) & 0x3f);
  }
  static constexpr char32_t k_min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < k_min[n] || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return 0;
  return n;
}

// Code points a terminal or a text viewer acts on instead of showing: C0
// and C1 controls (ESC sequences, 8-bit CSI), DEL, and the bidirectional
// formatting characters that make text read in another order than it is
// stored (Trojan Source, CVE-2021-42574), and the line and paragraph
// separators.
bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) || cp == 0x200e || cp == 0x200f ||
         (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2066 && cp <= 0x2069) || cp == 0x061c ||
         cp == 0x2028 || cp == 0x2029;
}

// A crypt(3) hash at s[i] ("$6$salt$hash", "$y$j9T$...", "$2b$12$..."):
// the length of the run to redact, or 0. The formats of libxcrypt's
// crypt(5); only a known prefix followed by a long run of the hash alphabet
// counts, so "$HOME" or "${VAR}" in a message stay as they are.
size_t crypt_hash_length(std::string_view s, size_t i) {
  static constexpr std::string_view k_ids[] = {
      "$1$",  "$2a$", "$2b$",   "$2y$", "$5$",        "$6$",       "$y$",
      "$gy$", "$7$",  "$sha1$", "$md5", "$argon2id$", "$argon2i$", "$argon2d$"};
  for (auto id : k_ids) {
    if (s.substr(i, id.size()) != id)
      continue;
    size_t j = i + id.size();
    while (j < s.size() && (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' ||
                            s[j] == '/' || s[j] == '$' || s[j] == '=' || s[j] == ','))
      ++j;
    return j - (i + id.size()) >= 8 ? j - i : 0;
  }
  return 0;
}

} // namespace

std::string printable(std::string_view s, size_t max_len) {
  std::string out;
  for (size_t i = 0; i < s.size();) {
    if (out.size() >= max_len) {
      out += "...";
      break;
    }
    // Secrets never reach a message: a target whose sshd_config is a link
    // to its shadow file must not print the hashes in "bad option" errors.
    if (s[i] == '$')
      if (size_t n = crypt_hash_length(s, i)) {
        out += s.substr(i, s.find('$', i + 1) - i + 1);
        out += "(hash redacted)";
        i += n;
        continue;
      }
    char32_t cp = 0;
    size_t n = text_utf8_length(s, i, cp);
    char buf[16];
    if (n == 0) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned char>(s[i]));
      out += buf;
      ++i;
      continue;
    }
    if (cp == '\t')
      out += "\\t";
    else if (cp < 0x80 && is_control(cp)) {
      std::snprintf(buf, sizeof buf, "\\x%02x", static_cast<unsigned>(cp));
      out += buf;
    } else if (is_control(cp)) {
      std::snprintf(buf, sizeof buf, "\\u%04x", static_cast<unsigned>(cp));
      out += buf;
    } else
      out.append(s.substr(i, n));
    i += n;
  }
  return out;
}

bool needs_escape(std::string_view s) {
  for (size_t i = 0; i < s.size();) {
    char32_t cp = 0;
    size_t n = text_utf8_length(s, i, cp);
    if (n == 0 || is_control(cp))
      return true;
    i += n;
  }
  return false;
}

std::string octal_mode(uint32_t mode) {
  char buf[8];
  std::snprintf(buf, sizeof buf, "%04o", mode & 07777);
  return buf;
}

std::string child_path(std::string_view dir, std::string_view name) {
  std::string p;
  p.reserve(dir.size() + 1 + name.size());
  if (dir != "/")
    p += dir;
  p += '/';
  p += name;
  return p;
}

std::string parent_dir(const std::string &path) {
  auto slash = path.rfind('/');
  return slash == 0 || slash == std::string::npos ? "/" : path.substr(0, slash);
}

std::string iso_time_utc(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

std::string percent_encode_path(std::string_view path) {
  std::string out;
  for (unsigned char c : path) {
    if (std::isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '/') {
      out += static_cast<char>(c);
    } else {
      char buf[4];
      std::snprintf(buf, sizeof buf, "%%%02X", c);
      out += buf;
    }
  }
  return out;
}

} // namespace bulwark::text
