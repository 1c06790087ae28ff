// Escaping for the report formats. The rules are those of XML 1.0 (§2.2
// Char, §2.4 character data), CommonMark 0.30 (§2.4 backslash escapes: any
// ASCII punctuation) and GFM's autolink extension (which looks for "www.",
// "http://", "https://" and "@" in plain text).

#include <bulwark/report/escape.hpp>

#include <fmt/format.h>
#include <openssl/evp.h>
#include <stdexcept>
#include <vector>

namespace bulwark::report {

namespace {

// Calls `cp(codepoint, bytes)` for each UTF-8 sequence; invalid bytes are
// reported as U+FFFD with the replacement's own bytes.
template <typename F> void each_codepoint(std::string_view s, F cp) {
  size_t i = 0;
  const auto *u = reinterpret_cast<const unsigned char *>(s.data());
  while (i < s.size()) {
    unsigned char c = u[i];
    size_t len = c < 0x80 ? 1 : (c >> 5) == 6 ? 2 : (c >> 4) == 14 ? 3 : (c >> 3) == 30 ? 4 : 0;
    char32_t v = len == 1 ? c : len == 2 ? c & 0x1f : len == 3 ? c & 0x0f : c & 0x07;
    bool ok = len != 0 && i + len <= s.size();
    for (size_t k = 1; ok && k < len; ++k) {
      ok = (u[i + k] & 0xc0) == 0x80;
      v = (v << 6) | (u[i + k] & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are invalid too.
    if (ok && ((len == 2 && v < 0x80) || (len == 3 && v < 0x800) || (len == 4 && v < 0x10000) ||
               (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff))
      ok = false;
    if (!ok) {
      cp(char32_t{0xfffd}, std::string_view("\xef\xbf\xbd"));
      ++i;
      continue;
    }
    cp(v, s.substr(i, len));
    i += len;
  }
}

// Characters a viewer acts on instead of showing: C1 controls and the
// bidirectional formatting characters that make text read in another order
// than it is stored (Trojan Source, CVE-2021-42574). Shown as \uXXXX.
bool invisible_control(char32_t c) {
  return (c >= 0x80 && c <= 0x9f) || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
         (c >= 0x2066 && c <= 0x2069) || c == 0x061c || c == 0x2028 || c == 0x2029;
}

} // namespace

std::string valid_utf8(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  each_codepoint(s, [&](char32_t, std::string_view bytes) { out.append(bytes); });
  return out;
}

std::string xml_escape(std::string_view s, bool keep_newlines) {
  std::string out;
  out.reserve(s.size() + 16);
  each_codepoint(s, [&](char32_t c, std::string_view bytes) {
    switch (c) {
    case '&': out += "&amp;"; return;
    case '<': out += "&lt;"; return;
    case '>': out += "&gt;"; return;
    case '"': out += "&quot;"; return;
    case '\'': out += "&#39;"; return;
    case '\t':
    case '\n':
    case '\r':
      if (keep_newlines)
        out += static_cast<char>(c);
      else
        out += fmt::format("&#{};", static_cast<int>(c));
      return;
    default: break;
    }
    if (c < 0x20 || c == 0x7f)
      out += fmt::format("\\x{:02x}", static_cast<unsigned>(c));
    else if (c == 0xfffe || c == 0xffff || invisible_control(c))
      out += fmt::format("\\u{:04X}", static_cast<unsigned>(c));
    else
      out.append(bytes);
  });
  return out;
}

std::string markdown_escape(std::string_view s) {
  // Collect the code points first: whether a character can start markup
  // depends on its neighbours.
  std::vector<std::pair<char32_t, std::string_view>> cps;
  cps.reserve(s.size());
  each_codepoint(s, [&](char32_t c, std::string_view bytes) { cps.emplace_back(c, bytes); });
  auto at = [&](size_t k) -> char32_t { return k < cps.size() ? cps[k].first : 0; };
  auto alnum = [](char32_t c) {
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
  };
  std::string out;
  out.reserve(s.size() + 16);
  for (size_t i = 0; i < cps.size(); ++i) {
    char32_t c = cps[i].first;
    if (c == '\n') {
      out += "\\\\n"; // a visible "\n", never a line break
      continue;
    }
    if (c < 0x20 || c == 0x7f) {
      out += fmt::format("\\\\x{:02x}", static_cast<unsigned>(c));
      continue;
    }
    if (invisible_control(c)) {
      out += fmt::format("\\\\u{:04X}", static_cast<unsigned>(c));
      continue;
    }
    bool escape = false;
    switch (c) {
    // Emphasis, code, links and images, raw HTML and entities,
    // strikethrough, table cells, a heading's closing sequence.
    case '\\':
    case '`':
    case '*':
    case '[':
    case ']':
    case '<':
    case '>':
    case '&':
    case '~':
    case '|':
    case '#': escape = true; break;
    // An underscore between two letters or digits cannot open or close
    // emphasis (CommonMark's flanking rules): sshd_config stays as it is.
    case '_': escape = !(i > 0 && alnum(at(i - 1)) && alnum(at(i + 1))); break;
    // GFM's extended autolinks: "http://", "https://", "ftp://" (the colon
    // before "//"), "www." (the dot after a word "www"), and e-mail
    // addresses and "mailto:"/"xmpp:" (the "@").
    case ':': escape = at(i + 1) == '/' && at(i + 2) == '/'; break;
    case '.':
      escape = i >= 3 && (at(i - 1) == 'w' || at(i - 1) == 'W') &&
               (at(i - 2) == 'w' || at(i - 2) == 'W') && (at(i - 3) == 'w' || at(i - 3) == 'W');
      break;
    case '@': escape = true; break;
    default: break;
    }
    if (escape)
      out += '\\';
    out.append(cps[i].second);
  }
  return out;
}

std::string sha256_base64(std::string_view data) {
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), md, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

} // namespace bulwark::report
