#include <bulwark/core/yaml.hpp>

#include <cstdint>
#include <libfyaml.h>
#include <string>
#include <unordered_set>
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
    std::unordered_set<std::string> seen;
    while (struct fy_node_pair *pair = fy_node_mapping_iterate(fyn, &iter)) {
      Node key = TRY(convert(fy_node_pair_key(pair), text, name, depth + 1));
      if (!key.is_scalar())
        return Error{"mapping keys must be plain strings", name, key.line};
      if (!seen.insert(key.scalar).second)
        return Error{"duplicate key '" + key.scalar + "'", name, key.line};
      if (out.entries.empty())
        out.line = key.line;
      Node value = TRY(convert(fy_node_pair_value(pair), text, name, depth + 1));
      if (value.line == 0)
        value.line = key.line;
      value.key_line = key.line;
      out.entries.emplace_back(key.scalar, std::move(value));
    }
    break;
  }
  }
  return out;
}

// Converts a document built without libfyaml's own resolution: aliases and
// merge keys are applied here, so that an alias bomb is cut off by a node
// budget instead of expanding in memory, and so that a merged value keeps
// the line where its anchor writes it.
class Expander {
public:
  Expander(std::string_view text, const std::string &name, size_t max_nodes)
      : m_text(text), m_name(name), m_budget(max_nodes) {}

  Result<Node> convert(struct fy_node *fyn, int depth) {
    if (fyn != nullptr && fy_node_is_alias(fyn)) {
      int line = token_line(fyn);
      struct fy_node *target = fy_node_resolve_alias(fyn);
      if (target == nullptr) {
        size_t len = 0;
        const char *a = fy_node_get_scalar(fyn, &len);
        return Error{"alias *" + std::string(a ? a : "", a ? len : 0) + " names no anchor", m_name,
                     line};
      }
      if (depth > k_max_depth)
        return Error{"YAML nested too deeply (alias cycle?)", m_name, line};
      m_alias_line = m_alias_line ? m_alias_line : line;
      auto r = convert(target, depth + 1);
      if (m_alias_line == line)
        m_alias_line = 0;
      return r;
    }
    Node out;
    if (fyn == nullptr)
      return out;
    out.line = token_line(fyn);
    if (m_budget != 0 && ++m_nodes > m_budget)
      return Error{"YAML document expands to more than " + std::to_string(m_budget) +
                       " nodes (alias bomb?)",
                   m_name, m_alias_line ? m_alias_line : out.line};
    if (depth > k_max_depth)
      return Error{"YAML nested too deeply", m_name, out.line};
    size_t tlen = 0;
    if (const char *t = fy_node_get_tag(fyn, &tlen))
      out.tag.assign(t, tlen);
    switch (fy_node_get_type(fyn)) {
    case FYNT_SCALAR: {
      // The same decoding as the catalogue reader.
      Node s = TRY(bulwark::yaml::convert(fyn, m_text, m_name, 0));
      out.kind = s.kind;
      out.scalar = std::move(s.scalar);
      enum fy_node_style st = fy_node_get_style(fyn);
      out.quoted = st != FYNS_PLAIN && st != FYNS_ANY;
      // A tagged empty plain scalar (`key: !reset`) is still null.
      break;
    }
    case FYNT_SEQUENCE: {
      out.kind = Node::Kind::sequence;
      void *iter = nullptr;
      while (struct fy_node *item = fy_node_sequence_iterate(fyn, &iter))
        out.items.push_back(TRY(convert(item, depth + 1)));
      if (out.line == 0 && !out.items.empty())
        out.line = out.items.front().line;
      break;
    }
    case FYNT_MAPPING: TRY(mapping(fyn, out, depth)); break;
    }
    return out;
  }

private:
  static int token_line(struct fy_node *fyn) {
    if (struct fy_token *tok = fy_node_get_scalar_token(fyn))
      if (const struct fy_mark *m = fy_token_start_mark(tok))
        return m->line + 1;
    return 0;
  }

  Result<Unit> mapping(struct fy_node *fyn, Node &out, int depth) {
    out.kind = Node::Kind::mapping;
    int count = fy_node_mapping_item_count(fyn);
    if (count > 0)
      out.entries.reserve(static_cast<size_t>(count));
    // The keys so far are exactly out.entries' keys: a linear scan for the
    // small mappings compose files are made of, a hash set past 32 keys (a
    // set per mapping was a fifth of the time spent loading YAML).
    std::unordered_set<std::string_view> seen;
    auto has = [&](std::string_view key) {
      if (out.entries.size() <= 32) {
        for (auto &e : out.entries)
          if (e.first == key)
            return true;
        return false;
      }
      if (seen.empty())
        for (auto &e : out.entries)
          seen.insert(e.first);
      return seen.count(key) != 0;
    };
    auto add = [&](std::string key, Node value) {
      // The set's views point into the entries' strings: a reallocation
      // moves them (short strings live inside the entry), so rebuild it.
      bool moves = out.entries.size() == out.entries.capacity();
      out.entries.emplace_back(std::move(key), std::move(value));
      if (seen.empty())
        return;
      if (moves) {
        seen.clear();
        for (auto &e : out.entries)
          seen.insert(e.first);
      } else {
        seen.insert(out.entries.back().first);
      }
    };
    std::vector<Node> merges; // values of `<<`, in order
    int merge_line = 0;
    void *iter = nullptr;
    while (struct fy_node_pair *pair = fy_node_mapping_iterate(fyn, &iter)) {
      struct fy_node *k = fy_node_pair_key(pair);
      Node key = TRY(convert(k, depth + 1));
      if (!key.is_scalar())
        return Error{"mapping keys must be plain strings", m_name, key.line};
      Node value = TRY(convert(fy_node_pair_value(pair), depth + 1));
      if (value.line == 0)
        value.line = key.line;
      value.key_line = key.line;
      if (out.line == 0 || out.entries.empty())
        out.line = out.line ? out.line : key.line;
      // YAML 1.1's merge key: a plain `<<` (a quoted one is an ordinary key).
      if (key.scalar == "<<" && !key.quoted) {
        if (merge_line != 0)
          return Error{"duplicate key '<<'", m_name, key.line};
        merge_line = key.line;
        if (value.is_mapping())
          merges.push_back(std::move(value));
        else if (value.is_sequence()) {
          for (auto &it : value.items) {
            if (!it.is_mapping())
              return Error{"merge key '<<' takes a mapping or a list of mappings", m_name,
                           it.line ? it.line : key.line};
            merges.push_back(std::move(it));
          }
        } else
          return Error{"merge key '<<' takes a mapping or a list of mappings", m_name, key.line};
        continue;
      }
      if (has(key.scalar))
        return Error{"duplicate key '" + key.scalar + "'", m_name, key.line};
      add(std::move(key.scalar), std::move(value));
    }
    for (auto &src : merges)
      for (auto &e : src.entries)
        if (!has(e.first))
          add(std::move(e.first), std::move(e.second));
    return Unit{};
  }

  std::string_view m_text;
  const std::string &m_name;
  size_t m_budget;
  size_t m_nodes = 0;
  int m_alias_line = 0; // the outermost alias being expanded
};

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

namespace {

// The document of `text` as libfyaml builds it, or the first error.
struct Built {
  struct fy_document *doc = nullptr;
  struct fy_diag *diag = nullptr;
  ~Built() {
    if (doc)
      fy_document_destroy(doc);
    if (diag)
      fy_diag_destroy(diag);
  }
};

Result<Unit> build(Built &b, std::string_view text, const std::string &name, bool resolve) {
  if (int line = first_invalid_utf8_line(text))
    return Error{"invalid YAML: not valid UTF-8 or a control character", name, line};
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = nullptr;
  dcfg.colorize = false;
  b.diag = fy_diag_create(&dcfg);
  if (b.diag == nullptr)
    return Error{"cannot create YAML diagnostics", name};
  fy_diag_set_collect_errors(b.diag, true);
  struct fy_parse_cfg cfg = {};
  unsigned flags = FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2;
  if (resolve)
    flags |= FYPCF_RESOLVE_DOCUMENT;
  else
    // The Expander looks every key up itself (and reports a duplicate with
    // its line), so libfyaml's own duplicate check and lookup accelerators
    // (a hash table per mapping) are work done twice.
    flags |= FYPCF_ALLOW_DUPLICATE_KEYS | FYPCF_DISABLE_ACCELERATORS;
  cfg.flags = static_cast<enum fy_parse_cfg_flags>(flags);
  cfg.diag = b.diag;
  b.doc = fy_document_build_from_string(&cfg, text.data(), text.size());
  if (b.doc == nullptr) {
    Error err{"invalid YAML", name};
    void *prev = nullptr;
    if (struct fy_diag_error *de = fy_diag_errors_iterate(b.diag, &prev)) {
      err.message = std::string("invalid YAML: ") + (de->msg ? de->msg : "");
      err.line = de->line > 0 ? de->line : 1; // libfyaml counts diagnostic lines from 1
    }
    return err;
  }
  return Unit{};
}

} // namespace

Result<Node> parse(std::string_view text, const std::string &name, const ParseOptions &options) {
  if (!options.merge_keys)
    return parse(text, name);
  Built b;
  TRY(build(b, text, name, false));
  Expander ex(text, name, options.max_nodes);
  return ex.convert(fy_document_root(b.doc), 0);
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
      err.line = de->line > 0 ? de->line : 1; // libfyaml counts diagnostic lines from 1
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
