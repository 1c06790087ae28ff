#include <bulwark/core/yaml.hpp>

#include <cstdint>
#include <libfyaml.h>
#include <string>
#include <vector>

namespace bulwark::yaml {

namespace {

// Bound the recursion over our own small documents; hostile user profiles
// must not exhaust the stack.
constexpr int k_max_depth = 64;

// YAML 1.2 §7.3.2, single-quoted scalars: '' is a quote; line folding trims
// the white space around each line break, one break becomes a space and n+1
// breaks become n newlines. libfyaml 0.7.12 gets runs of '' wrong
// ('x''''y' gives "x'''"), so such scalars are decoded here from the source.
// `raw` is the text between the quotes.
std::string decode_single_quoted(std::string_view raw) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i <= raw.size(); ++i) {
    if (i == raw.size() || raw[i] == '\n') {
      std::string_view l = raw.substr(start, i - start);
      if (!l.empty() && l.back() == '\r')
        l.remove_suffix(1);
      lines.push_back(l);
      start = i + 1;
    }
  }
  auto is_space = [](char c) { return c == ' ' || c == '\t'; };
  std::string out;
  int breaks = 0;
  for (size_t n = 0; n < lines.size(); ++n) {
    std::string_view l = lines[n];
    if (n > 0)
      while (!l.empty() && is_space(l.front()))
        l.remove_prefix(1);
    if (n + 1 < lines.size())
      while (!l.empty() && is_space(l.back()))
        l.remove_suffix(1);
    if (n > 0 && l.empty() && n + 1 < lines.size()) {
      ++breaks; // an empty line inside the scalar
      continue;
    }
    if (n > 0)
      out += breaks == 0 ? std::string(" ") : std::string(static_cast<size_t>(breaks), '\n');
    breaks = 0;
    for (size_t i = 0; i < l.size(); ++i) {
      out += l[i];
      if (l[i] == '\'' && i + 1 < l.size() && l[i + 1] == '\'')
        ++i;
    }
  }
  return out;
}

Result<Node> convert(struct fy_node *fyn, std::string_view text, const std::string &name,
                     int depth) {
  Node out;
  if (fyn == nullptr)
    return out;
  // libfyaml 0.7 marks tokens, not nodes: a scalar has its own line, a
  // collection takes the line of its first element (set below).
  if (struct fy_token *tok = fy_node_get_scalar_token(fyn))
    if (const struct fy_mark *m = fy_token_start_mark(tok))
      out.line = m->line + 1;
  if (depth > k_max_depth)
    return Error{"YAML nested too deeply", name, out.line};
  switch (fy_node_get_type(fyn)) {
  case FYNT_SCALAR: {
    size_t len = 0;
    const char *s = fy_node_get_scalar(fyn, &len);
    out.kind = Node::Kind::scalar;
    out.scalar.assign(s ? s : "", s ? len : 0);
    if (fy_node_get_style(fyn) == FYNS_SINGLE_QUOTED) {
      struct fy_token *tok = fy_node_get_scalar_token(fyn);
      const struct fy_mark *b = tok ? fy_token_start_mark(tok) : nullptr;
      const struct fy_mark *e = tok ? fy_token_end_mark(tok) : nullptr;
      // libfyaml's marks of a quoted scalar exclude the quotes.
      if (b && e && b->input_pos > 0 && b->input_pos <= e->input_pos &&
          e->input_pos < text.size() && text[b->input_pos - 1] == '\'' &&
          text[e->input_pos] == '\'') {
        std::string_view raw = text.substr(b->input_pos, e->input_pos - b->input_pos);
        if (raw.find("''") != std::string_view::npos)
          out.scalar = decode_single_quoted(raw);
      }
    }
    // A plain `~` or `null` is YAML's null.
    if (fy_node_get_style(fyn) == FYNS_PLAIN &&
        (out.scalar == "~" || out.scalar == "null" || out.scalar.empty()))
      out.kind = Node::Kind::null;
    break;
  }
  case FYNT_SEQUENCE: {
    out.kind = Node::Kind::sequence;
    void *iter = nullptr;
    while (struct fy_node *item = fy_node_sequence_iterate(fyn, &iter))
      out.items.push_back(TRY(convert(item, text, name, depth + 1)));
    if (!out.items.empty())
      out.line = out.items.front().line;
    break;
  }
  case FYNT_MAPPING: {
    out.kind = Node::Kind::mapping;
    void *iter = nullptr;
    while (struct fy_node_pair *pair = fy_node_mapping_iterate(fyn, &iter)) {
      Node key = TRY(convert(fy_node_pair_key(pair), text, name, depth + 1));
      if (!key.is_scalar())
        return Error{"mapping keys must be plain strings", name, key.line};
      for (auto &e : out.entries)
        if (e.first == key.scalar)
          return Error{"duplicate key '" + key.scalar + "'", name, key.line};
      if (out.entries.empty())
        out.line = key.line;
      Node value = TRY(convert(fy_node_pair_value(pair), text, name, depth + 1));
      if (value.line == 0)
        value.line = key.line;
      out.entries.emplace_back(key.scalar, std::move(value));
    }
    break;
  }
  }
  return out;
}

} // namespace

Node::Node() = default;
Node::~Node() = default;
Node::Node(const Node &) = default;
Node::Node(Node &&) noexcept = default;
Node &Node::operator=(const Node &) = default;
Node &Node::operator=(Node &&) noexcept = default;

const Node *Node::find(std::string_view key) const {
  for (auto &e : entries)
    if (e.first == key)
      return &e.second;
  return nullptr;
}

// The line of the first byte that is not well-formed UTF-8 or not in YAML's
// printable set (c-printable: tab, LF, CR, U+0020..U+007E, U+0085,
// U+00A0..U+D7FF, U+E000..U+FFFD, U+10000..U+10FFFF), or 0.
int first_invalid_utf8_line(std::string_view s) {
  int line = 1;
  size_t i = 0;
  while (i < s.size()) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c == '\n')
      ++line;
    size_t len = c < 0x80           ? 1
                 : (c >> 5) == 0x6  ? 2
                 : (c >> 4) == 0xe  ? 3
                 : (c >> 3) == 0x1e ? 4
                                    : 0;
    if (len == 0 || i + len > s.size())
      return line;
    uint32_t cp = len == 1 ? c : c & (0xff >> (len + 1));
    for (size_t k = 1; k < len; ++k) {
      unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc >> 6) != 0x2)
        return line;
      cp = (cp << 6) | (cc & 0x3f);
    }
    // Overlong forms, surrogates and values past U+10FFFF are not UTF-8.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff)
      return line;
    bool printable =
        cp == 0x9 || cp == 0xa || cp == 0xd || (cp >= 0x20 && cp <= 0x7e) || cp == 0x85 ||
        (cp >= 0xa0 && cp <= 0xfffd && !(cp >= 0xd800 && cp <= 0xdfff)) || cp >= 0x10000;
    if (!printable || (cp == 0xfeff && i != 0))
      return line;
    i += len;
  }
  return 0;
}

Result<Node> parse(std::string_view text, const std::string &name) {
  // libfyaml 0.7.12 loops forever on some invalid UTF-8 (a directive "%"
  // followed by 0xf4 0xf4) and crashes on some control characters
  // (tests/data/yaml/malformed, both found by fuzz_profile). YAML allows
  // neither, so such bytes are refused before the parser sees them.
  if (int line = first_invalid_utf8_line(text))
    return Error{"invalid YAML: not valid UTF-8 or a control character", name, line};
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = nullptr;
  dcfg.colorize = false;
  struct fy_diag *diag = fy_diag_create(&dcfg);
  if (diag == nullptr)
    return Error{"cannot create YAML diagnostics", name};
  fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg cfg = {};
  cfg.flags = static_cast<enum fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT |
                                                   FYPCF_DEFAULT_VERSION_1_2);
  cfg.diag = diag;
  struct fy_document *doc = fy_document_build_from_string(&cfg, text.data(), text.size());
  if (doc == nullptr) {
    Error err{"invalid YAML", name};
    void *prev = nullptr;
    if (struct fy_diag_error *de = fy_diag_errors_iterate(diag, &prev)) {
      err.message = std::string("invalid YAML: ") + (de->msg ? de->msg : "");
      err.line = de->line + 1;
    }
    fy_diag_destroy(diag);
    return err;
  }
  auto result = convert(fy_document_root(doc), text, name, 0);
  fy_document_destroy(doc);
  fy_diag_destroy(diag);
  return result;
}

} // namespace bulwark::yaml
