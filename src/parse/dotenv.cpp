// .env files with Docker Compose v2's semantics (compose-go dotenv/parser.go);
// the header describes the format. Non-ASCII key characters: compose accepts
// Unicode letters and digits; here every valid non-space code point above
// U+007F is taken as one (no Unicode tables), so a key with a non-ASCII
// symbol is accepted where compose refuses it.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/dotenv.hpp>

#include <cstring>

namespace bulwark::dotenv {

namespace {

struct Rune {
  uint32_t cp = 0;
  size_t len = 1;
  bool valid = true;
};

// One UTF-8 sequence at s[i]; invalid bytes decode as one invalid rune of
// length 1, as Go's range loop does.
Rune dotenv_decode(std::string_view s, size_t i) {
  unsigned char c = static_cast<unsigned char>(s[i]);
  if (c < 0x80)
    return {c, 1, true};
  size_t len = c >= 0xF0 ? 4 : c >= 0xE0 ? 3 : c >= 0xC2 ? 2 : 0;
  if (len == 0 || c > 0xF4 || i + len > s.size())
    return {0xFFFD, 1, false};
  uint32_t cp = c & (0x7F >> len);
  for (size_t k = 1; k < len; ++k) {
    unsigned char d = static_cast<unsigned char>(s[i + k]);
    if ((d & 0xC0) != 0x80)
      return {0xFFFD, 1, false};
    cp = (cp << 6) | (d & 0x3F);
  }
  static constexpr uint32_t k_min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < k_min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return {0xFFFD, 1, false};
  return {cp, len, true};
}

// compose-go's isSpace: blanks, but not the line break.
bool dotenv_is_blank(uint32_t cp) {
  return cp == '\t' || cp == '\v' || cp == '\f' || cp == '\r' || cp == ' ' || cp == 0x85 ||
         cp == 0xA0;
}

// Go's unicode.IsSpace (the White_Space property).
bool dotenv_is_space(uint32_t cp) {
  return dotenv_is_blank(cp) || cp == '\n' || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200A) ||
         cp == 0x2028 || cp == 0x2029 || cp == 0x202F || cp == 0x205F || cp == 0x3000;
}

bool is_key_rune(const Rune &r) {
  if (!r.valid)
    return false;
  if (r.cp < 0x80)
    return r.cp != 0 && (std::isalnum(static_cast<int>(r.cp)) ||
                         std::strchr("_.-[]", static_cast<int>(r.cp)) != nullptr);
  return r.cp != 0xFFFD && !dotenv_is_space(r.cp);
}

std::string_view trim_right_space(std::string_view s) {
  // Walk forward to find the end of the last non-space rune (UTF-8 cannot be
  // decoded backwards reliably when it is invalid).
  size_t end = 0;
  for (size_t i = 0; i < s.size();) {
    Rune r = dotenv_decode(s, i);
    i += r.len;
    if (!(r.valid && dotenv_is_space(r.cp)))
      end = i;
  }
  return s.substr(0, end);
}

void append_utf8(std::string &out, uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
  } else {
    out += static_cast<char>(0xC0 | (cp >> 6));
    out += static_cast<char>(0x80 | (cp & 0x3F));
  }
}

// compose-go's expandEscapes: the escapes of `\\(?:[abcfnrtv$"\\]|0\d{0,3})`,
// each decoded like Go's strconv.UnquoteChar; one that does not decode stays
// as written.
std::string expand_escapes(std::string_view raw) {
  std::string out;
  out.reserve(raw.size());
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i] != '\\' || i + 1 >= raw.size()) {
      out += raw[i];
      continue;
    }
    char c = raw[i + 1];
    switch (c) {
    case 'a':
      out += '\a';
      ++i;
      continue;
    case 'b':
      out += '\b';
      ++i;
      continue;
    case 'f':
      out += '\f';
      ++i;
      continue;
    case 'n':
      out += '\n';
      ++i;
      continue;
    case 'r':
      out += '\r';
      ++i;
      continue;
    case 't':
      out += '\t';
      ++i;
      continue;
    case 'v':
      out += '\v';
      ++i;
      continue;
    case '"':
      out += '"';
      ++i;
      continue;
    case '\\':
      out += '\\';
      ++i;
      continue;
    case '$':
      out += "$$";
      ++i;
      continue;
    case 'c':
      out += "\\c";
      ++i;
      continue; // matched, but not a Go escape
    case '0': {
      size_t d = 0;
      while (d < 3 && i + 2 + d < raw.size() &&
             std::isdigit(static_cast<unsigned char>(raw[i + 2 + d])))
        ++d;
      std::string_view digits = raw.substr(i + 2, d);
      bool octal = d == 3 && digits.find_first_of("89") == std::string_view::npos;
      uint32_t v = octal ? static_cast<uint32_t>(std::stoul(std::string(digits), nullptr, 8)) : 0;
      if (octal && v <= 255)
        append_utf8(out, v);
      else
        out.append(raw.substr(i, 2 + d));
      i += 1 + d;
      continue;
    }
    default: out += '\\'; continue;
    }
  }
  return out;
}

class DotenvParser {
public:
  DotenvParser(const std::string &path, std::string_view text) : m_text(text) { m_out.path = path; }

  DotenvFile run() {
    if (m_text.substr(0, 3) == "\xEF\xBB\xBF")
      m_i = 3;
    while (next_statement())
      statement();
    return std::move(m_out);
  }

private:
  // Skips whitespace and comment lines; false at the end of the text.
  bool next_statement() {
    for (;;) {
      while (m_i < m_text.size()) {
        Rune r = dotenv_decode(m_text, m_i);
        if (!(r.valid && dotenv_is_space(r.cp)))
          break;
        if (r.cp == '\n')
          ++m_line;
        m_i += r.len;
      }
      if (m_i >= m_text.size())
        return false;
      if (m_text[m_i] != '#')
        return true;
      size_t nl = m_text.find('\n', m_i);
      m_i = nl == std::string_view::npos ? m_text.size() : nl;
    }
  }

  void skip_blanks() {
    while (m_i < m_text.size()) {
      Rune r = dotenv_decode(m_text, m_i);
      if (!(r.valid && dotenv_is_blank(r.cp)))
        return;
      m_i += r.len;
    }
  }

  // Recovery after an error: resume at the next line.
  void skip_line(size_t from) {
    size_t nl = m_text.find('\n', from);
    m_i = nl == std::string_view::npos ? m_text.size() : nl;
  }

  void error(int line, std::string message) {
    m_out.diagnostics.push_back(Diagnostic{std::move(message), {m_out.path, line}});
  }

  void statement() {
    const int line = m_line;
    Entry e;
    e.loc = {m_out.path, line};
    // compose-go matches `^export\s+` (RE2's \s: tab, newline, FF, CR, space).
    if (m_text.substr(m_i, 6) == "export" && m_i + 6 < m_text.size() && m_text[m_i + 6] != '\0' &&
        std::strchr("\t\n\f\r ", m_text[m_i + 6]) != nullptr) {
      e.exported = true;
      m_i += 6;
      skip_blanks();
    }
    size_t start = m_i, j = m_i;
    char term = 0;
    while (j < m_text.size()) {
      Rune r = dotenv_decode(m_text, j);
      if (r.valid && dotenv_is_blank(r.cp)) {
        j += r.len;
        continue;
      }
      if (r.cp == '=' || r.cp == ':' || r.cp == '\n') {
        term = static_cast<char>(r.cp);
        break;
      }
      if (!is_key_rune(r)) {
        std::string what = r.valid && r.cp >= 0x20 && r.cp < 0x7F
                               ? "'" + std::string(1, static_cast<char>(r.cp)) + "'"
                               : "byte 0x" + hex(static_cast<unsigned char>(m_text[j]));
        error(line, "unexpected character " + what + " in a variable name");
        skip_line(j);
        return;
      }
      j += r.len;
    }
    if (term == 0) {
      error(line, "a name without '=' or a newline at the end of the file "
                  "(docker compose reads it as an empty name)");
      m_i = m_text.size();
      return;
    }
    e.key = std::string(trim_right_space(m_text.substr(start, j - start)));
    if (e.key.find(' ') != std::string::npos) {
      // The "key" may be a secret pasted on its own line: never quote it.
      error(line, "a variable name cannot contain a space");
      skip_line(j);
      return;
    }
    if (term == '\n') {
      e.has_value = false;
      m_i = j; // the newline is counted by next_statement()
      m_out.entries.push_back(std::move(e));
      return;
    }
    m_i = j + 1;
    skip_blanks();
    if (m_i < m_text.size() && (m_text[m_i] == '"' || m_text[m_i] == '\'')) {
      char q = m_text[m_i];
      std::string raw;
      bool escaped = false, closed = false;
      int newlines = 0;
      size_t k = m_i + 1;
      for (; k < m_text.size(); ++k) {
        char c = m_text[k];
        if (c == '\n')
          ++newlines;
        if (escaped) {
          escaped = false;
          if (c != q)
            raw += '\\';
          raw += c;
          continue;
        }
        if (c == '\\') {
          escaped = true;
          continue;
        }
        if (c == q) {
          closed = true;
          break;
        }
        raw += c;
      }
      if (!closed) {
        error(line, "unterminated quoted value of " + text::printable(e.key, 80));
        skip_line(m_i);
        return;
      }
      m_line += newlines;
      m_i = k + 1;
      e.quoting = q == '"' ? Quoting::double_ : Quoting::single;
      e.value = q == '"' ? expand_escapes(raw) : std::move(raw);
    } else {
      size_t nl = m_text.find('\n', m_i);
      size_t end = nl == std::string_view::npos ? m_text.size() : nl;
      std::string_view v = m_text.substr(m_i, end - m_i);
      if (size_t c = v.find(" #"); c != std::string_view::npos)
        v = v.substr(0, c);
      e.value = std::string(trim_right_space(v));
      m_i = end;
    }
    m_out.entries.push_back(std::move(e));
  }

  static std::string hex(unsigned char c) {
    static const char *digits = "0123456789abcdef";
    return {digits[c >> 4], digits[c & 15]};
  }

  std::string_view m_text;
  size_t m_i = 0;
  int m_line = 1;
  DotenvFile m_out;
};

} // namespace

const Entry *DotenvFile::find(std::string_view key) const {
  for (auto it = entries.rbegin(); it != entries.rend(); ++it)
    if (it->key == key && it->has_value)
      return &*it;
  return nullptr;
}

DotenvFile parse_dotenv_text(const std::string &path, std::string_view text) {
  return DotenvParser(path, text).run();
}

Result<DotenvFile> parse_dotenv(const RootFs &fs, const std::string &path, size_t max_bytes) {
  std::string data = TRY(fs.read_file(path, max_bytes));
  return parse_dotenv_text(path, data);
}

bool has_interpolation(std::string_view v) {
  for (size_t i = 0; i + 1 < v.size(); ++i) {
    if (v[i] != '$')
      continue;
    char n = v[i + 1];
    if (n == '$') {
      ++i;
      continue;
    }
    if (n == '{' || n == '_' || std::isalpha(static_cast<unsigned char>(n)))
      return true;
  }
  return false;
}

} // namespace bulwark::dotenv
