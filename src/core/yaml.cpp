#include <bulwark/core/yaml.hpp>

#include <algorithm>
#include <cctype>
#include <cstdint>
#include <libfyaml.h>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

namespace bulwark::yaml {

namespace {

// Bound the recursion over our own small documents; hostile user profiles
// must not exhaust the stack.
constexpr int k_yaml_max_depth = 64;

// libfyaml reports an error at the end of the input one line past the last
// (`{ a` says line 2): keep the line within the text.
// YAML's line breaks are LF, CRLF and a lone CR (§5.4), as libfyaml counts.
int clamp_line(std::string_view text, int line) {
  int lines = 1;
  for (size_t i = 0; i < text.size(); ++i)
    if (text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n')))
      if (i + 1 < text.size())
        ++lines;
  return std::max(1, std::min(line, lines));
}

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

// YAML 1.2 §8.1, block scalars (`|` literal, `>` folded), decoded here from
// the source: libfyaml 0.7.12 returns text with an uninitialised tail for
// some of them (a clipped `>` at the end of the input; content indented no
// deeper than its parent, which it also misreads as part of the scalar),
// and those bytes are the process's heap. `content` is the token's span (the
// lines after the header), `header` the header line, `parent` the
// indentation of the node the scalar belongs to (-1 at the top). Returns
// false when the lines are not a well-formed block scalar.
bool decode_block_scalar(std::string_view header, std::string_view content, int parent, bool folded,
                         std::string &out) {
  // Header: the indicator, then an indentation digit and a chomping sign in
  // either order, then white space and perhaps a comment.
  size_t at = std::string_view::npos;
  for (size_t i = 0; i < header.size() && at == std::string_view::npos; ++i) {
    if (header[i] != (folded ? '>' : '|'))
      continue;
    size_t j = i + 1;
    while (j < header.size() && (std::isdigit(static_cast<unsigned char>(header[j])) ||
                                 header[j] == '+' || header[j] == '-'))
      ++j;
    size_t k = j;
    while (k < header.size() && (header[k] == ' ' || header[k] == '\t'))
      ++k;
    if (k == header.size() || header[k] == '\r' || (header[k] == '#' && k > j))
      at = i;
  }
  if (at == std::string_view::npos)
    return false;
  int indicator = 0;
  char chomp = 'c'; // clip
  for (size_t j = at + 1; j < header.size(); ++j) {
    char c = header[j];
    if (c >= '1' && c <= '9' && indicator == 0)
      indicator = c - '0';
    else if ((c == '+' || c == '-') && chomp == 'c')
      chomp = c == '+' ? 'k' : 's';
    else
      break;
  }
  // Lines end at LF, CRLF or a lone CR (§5.4).
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i < content.size(); ++i)
    if (content[i] == '\n' || content[i] == '\r') {
      lines.push_back(content.substr(start, i - start));
      if (content[i] == '\r' && i + 1 < content.size() && content[i + 1] == '\n')
        ++i;
      start = i + 1;
    }
  // A last line without its line break: text there ends without a break;
  // white space there is content only past the indentation (decided below).
  bool last_broken = true;
  std::string_view tail;
  if (start < content.size()) {
    tail = content.substr(start);
    if (tail.find_first_not_of(' ') != std::string_view::npos) {
      lines.push_back(tail);
      last_broken = false;
      tail = {};
    }
  }
  auto spaces = [](std::string_view l) {
    size_t n = 0;
    while (n < l.size() && l[n] == ' ')
      ++n;
    return n;
  };
  auto blank = [](std::string_view l) {
    return l.find_first_not_of(' ') == std::string_view::npos;
  };
  // The content's indentation: the indicator's, else the first non-empty
  // line's; it must be deeper than the parent's.
  long n = 0;
  bool established = indicator != 0; // by the indicator or a content line
  if (indicator != 0) {
    // As libfyaml and PyYAML read it at the top level too (`--- |1`).
    n = std::max(0, parent) + indicator;
  } else {
    size_t lead_max = 0;
    bool found = false;
    for (auto l : lines) {
      if (blank(l)) {
        lead_max = std::max(lead_max, l.size());
        continue;
      }
      n = static_cast<long>(spaces(l));
      found = true;
      established = true;
      break;
    }
    if (!found)
      n = std::max<long>(static_cast<long>(lead_max), parent + 1);
    else if (static_cast<long>(lead_max) > n)
      return false; // a leading empty line deeper than the content
  }
  if (n <= parent)
    return false;
  if (established && static_cast<long>(tail.size()) > n) {
    lines.push_back(tail);
    last_broken = false;
  }
  // Each line: empty, or content at n (more-indented when it starts with
  // white space past n); anything shallower does not belong here.
  struct Line {
    bool empty;
    std::string_view text;
  };
  std::vector<Line> ls;
  for (auto l : lines) {
    if (blank(l) && static_cast<long>(l.size()) <= n) {
      ls.push_back({true, {}});
      continue;
    }
    if (static_cast<long>(spaces(l)) < n)
      return false;
    ls.push_back({false, l.substr(static_cast<size_t>(n))});
  }
  size_t last = ls.size();
  while (last > 0 && ls[last - 1].empty)
    --last;
  size_t trailing = ls.size() - last;
  out.clear();
  bool any = false;
  bool prev_spaced = false;
  size_t empties = 0;
  for (size_t i = 0; i < last; ++i) {
    if (ls[i].empty) {
      ++empties;
      continue;
    }
    bool spaced = !ls[i].text.empty() && (ls[i].text[0] == ' ' || ls[i].text[0] == '\t');
    if (!any)
      out.append(empties, '\n');
    else if (!folded || spaced || prev_spaced)
      out.append(empties + 1, '\n');
    else
      out.append(empties == 0 ? std::string(" ") : std::string(empties, '\n'));
    out += ls[i].text;
    empties = 0;
    any = true;
    prev_spaced = spaced;
  }
  if (chomp == 's')
    return true;
  if (!any) {
    if (chomp == 'k')
      out.append(ls.size(), '\n');
    return true;
  }
  if (!last_broken)
    return true; // the text ends at the end of the input
  out += '\n';
  if (chomp == 'k')
    out.append(trailing, '\n');
  return true;
}

// A single-quoted scalar's text from the source when it holds '' (libfyaml
// 0.7.12 decodes runs of them wrong). The token's marks exclude the quotes.
void fix_single_quoted(struct fy_token *tok, std::string_view text, std::string &scalar) {
  const struct fy_mark *b = tok ? fy_token_start_mark(tok) : nullptr;
  const struct fy_mark *e = tok ? fy_token_end_mark(tok) : nullptr;
  if (b && e && b->input_pos > 0 && b->input_pos <= e->input_pos && e->input_pos < text.size() &&
      text[b->input_pos - 1] == '\'' && text[e->input_pos] == '\'') {
    std::string_view raw = text.substr(b->input_pos, e->input_pos - b->input_pos);
    if (raw.find("''") != std::string_view::npos)
      scalar = decode_single_quoted(raw);
  }
}

// A diagnostics object that collects libfyaml's errors instead of printing.
struct fy_diag *quiet_diag() {
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = nullptr;
  dcfg.colorize = false;
  struct fy_diag *d = fy_diag_create(&dcfg);
  if (d != nullptr)
    fy_diag_set_collect_errors(d, true);
  return d;
}

// libfyaml's first collected error, with its line kept within the text.
Error diag_error(struct fy_diag *diag, std::string_view text, const std::string &name) {
  Error err{"invalid YAML", name, 1};
  void *prev = nullptr;
  if (struct fy_diag_error *de = diag ? fy_diag_errors_iterate(diag, &prev) : nullptr) {
    err.message = std::string("invalid YAML: ") + (de->msg ? de->msg : "");
    err.line = clamp_line(text, de->line); // libfyaml counts diagnostic lines from 1
  }
  return err;
}

// One mapping's entries as they are read, both builders' way: YAML 1.1's
// merge key (a plain `<<`, its mapping or list of mappings applied at
// finish(): the mapping's own keys win, then the first source that has the
// key), and a duplicate key is an error with its line.
class MappingBuilder {
public:
  MappingBuilder(Node &out, const std::string &name) : m_out(out), m_name(name) {
    out.kind = Node::Kind::mapping;
  }

  // REQUIRES: key.is_scalar()
  Result<Unit> entry(Node key, Node value) {
    if (value.line == 0)
      value.line = key.line;
    value.key_line = key.line;
    if (m_out.line == 0)
      m_out.line = key.line;
    if (key.scalar == "<<" && !key.quoted) { // a quoted '<<' is an ordinary key
      if (m_merge_line != 0)
        return Error{"duplicate key '<<'", m_name, key.line};
      m_merge_line = key.line;
      if (value.is_mapping())
        m_merges.push_back(std::move(value));
      else if (value.is_sequence()) {
        for (auto &it : value.items) {
          if (!it.is_mapping())
            return Error{"merge key '<<' takes a mapping or a list of mappings", m_name,
                         it.line ? it.line : key.line};
          m_merges.push_back(std::move(it));
        }
      } else
        return Error{"merge key '<<' takes a mapping or a list of mappings", m_name, key.line};
      return Unit{};
    }
    if (has(key.scalar))
      return Error{"duplicate key '" + key.scalar + "'", m_name, key.line};
    add(std::move(key.scalar), std::move(value));
    return Unit{};
  }

  void finish() {
    for (auto &src : m_merges)
      for (auto &e : src.entries)
        if (!has(e.first))
          add(std::move(e.first), std::move(e.second));
  }

private:
  // The keys so far are exactly the entries' keys: a linear scan for the
  // small mappings compose files are made of, a hash set past 32 keys (a
  // set per mapping was a fifth of the time spent loading YAML).
  bool has(std::string_view key) {
    if (m_out.entries.size() <= 32) {
      for (auto &e : m_out.entries)
        if (e.first == key)
          return true;
      return false;
    }
    if (m_seen.empty())
      for (auto &e : m_out.entries)
        m_seen.insert(e.first);
    return m_seen.count(key) != 0;
  }

  void add(std::string key, Node value) {
    // The set's views point into the entries' strings: a reallocation
    // moves them (short strings live inside the entry), so rebuild it.
    bool moves = m_out.entries.size() == m_out.entries.capacity();
    m_out.entries.emplace_back(std::move(key), std::move(value));
    if (m_seen.empty())
      return;
    if (moves) {
      m_seen.clear();
      for (auto &e : m_out.entries)
        m_seen.insert(e.first);
    } else {
      m_seen.insert(m_out.entries.back().first);
    }
  }

  Node &m_out;
  const std::string &m_name;
  std::unordered_set<std::string_view> m_seen;
  std::vector<Node> m_merges; // values of `<<`, in order
  int m_merge_line = 0;
};

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
      if (depth > k_yaml_max_depth)
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
    if (depth > k_yaml_max_depth)
      return Error{"YAML nested too deeply", m_name, out.line};
    size_t tlen = 0;
    if (const char *t = fy_node_get_tag(fyn, &tlen))
      out.tag.assign(t, tlen);
    switch (fy_node_get_type(fyn)) {
    case FYNT_SCALAR: {
      size_t len = 0;
      const char *text = fy_node_get_scalar(fyn, &len);
      out.kind = Node::Kind::scalar;
      out.scalar.assign(text ? text : "", text ? len : 0);
      enum fy_node_style st = fy_node_get_style(fyn);
      if (st == FYNS_SINGLE_QUOTED)
        fix_single_quoted(fy_node_get_scalar_token(fyn), m_text, out.scalar);
      // A plain `~` or `null` is YAML's null.
      if (st == FYNS_PLAIN && (out.scalar == "~" || out.scalar == "null" || out.scalar.empty()))
        out.kind = Node::Kind::null;
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
    MappingBuilder mb(out, m_name);
    int count = fy_node_mapping_item_count(fyn);
    if (count > 0)
      out.entries.reserve(static_cast<size_t>(count));
    void *iter = nullptr;
    while (struct fy_node_pair *pair = fy_node_mapping_iterate(fyn, &iter)) {
      Node key = TRY(convert(fy_node_pair_key(pair), depth + 1));
      if (!key.is_scalar())
        return Error{"mapping keys must be plain strings", m_name, key.line};
      Node value = TRY(convert(fy_node_pair_value(pair), depth + 1));
      TRY(mb.entry(std::move(key), std::move(value)));
    }
    mb.finish();
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

Result<Unit> build(Built &b, std::string_view text, const std::string &name) {
  if (int line = first_invalid_utf8_line(text))
    return Error{"invalid YAML: not valid UTF-8 or a control character", name, line};
  b.diag = quiet_diag();
  if (b.diag == nullptr)
    return Error{"cannot create YAML diagnostics", name};
  struct fy_parse_cfg cfg = {};
  // The Expander looks every key up itself (and reports a duplicate with its
  // line), so libfyaml's own duplicate check and lookup accelerators (a hash
  // table per mapping) are work done twice.
  cfg.flags =
      static_cast<enum fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2 |
                                           FYPCF_ALLOW_DUPLICATE_KEYS | FYPCF_DISABLE_ACCELERATORS);
  cfg.diag = b.diag;
  b.doc = fy_document_build_from_string(&cfg, text.data(), text.size());
  if (b.doc == nullptr)
    return diag_error(b.diag, text, name);
  return Unit{};
}

} // namespace

namespace {

// The same tree as the Expander, built straight from libfyaml's parser
// events: no fy_document is built and walked again (that was half the time
// spent loading compose files). Anchored nodes are kept as built and copied
// at each alias, counted against the budget as the Expander counts them, so
// an alias bomb still stops at the alias that crosses it. The Expander stays
// as the differential oracle (tests/core/yaml_test.cpp, fuzz_yaml_events).
class EventBuilder {
public:
  EventBuilder(std::string_view text, const std::string &name, const ParseOptions &o)
      : m_text(text), m_name(name), m_budget(o.max_nodes), m_max_bytes(o.max_bytes) {}
  ~EventBuilder() {
    if (m_parser)
      fy_parser_destroy(m_parser);
    if (m_diag)
      fy_diag_destroy(m_diag);
  }
  EventBuilder(const EventBuilder &) = delete;
  EventBuilder &operator=(const EventBuilder &) = delete;

  // Every document of the stream, in order.
  Result<std::vector<Node>> run() {
    if (int line = first_invalid_utf8_line(m_text))
      return Error{"invalid YAML: not valid UTF-8 or a control character", m_name, line};
    m_diag = quiet_diag();
    if (m_diag == nullptr)
      return Error{"cannot create YAML diagnostics", m_name};
    struct fy_parse_cfg cfg = {};
    cfg.flags = static_cast<enum fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_DEFAULT_VERSION_1_2);
    cfg.diag = m_diag;
    m_parser = fy_parser_create(&cfg);
    if (m_parser == nullptr || fy_parser_set_string(m_parser, m_text.data(), m_text.size()) != 0)
      return Error{"cannot create YAML parser", m_name};
    std::vector<Node> docs;
    Event ev = TRY(next());
    if (ev->type != FYET_STREAM_START)
      return parse_error();
    for (;;) {
      ev = TRY(next());
      if (ev->type == FYET_STREAM_END)
        break;
      if (ev->type != FYET_DOCUMENT_START)
        return parse_error();
      m_anchors.clear(); // anchors do not cross documents
      docs.push_back(TRY(node(TRY(next()), 0, -1)));
      ev = TRY(next());
      if (ev->type != FYET_DOCUMENT_END)
        return parse_error();
    }
    return docs;
  }

private:
  // An event owned here, freed when replaced or destroyed.
  class Event {
  public:
    Event() = default;
    Event(struct fy_parser *p, struct fy_event *e) : m_p(p), m_e(e) {}
    Event(Event &&o) noexcept : m_p(o.m_p), m_e(std::exchange(o.m_e, nullptr)) {}
    Event &operator=(Event &&o) noexcept {
      if (this != &o) {
        reset();
        m_p = o.m_p;
        m_e = std::exchange(o.m_e, nullptr);
      }
      return *this;
    }
    ~Event() { reset(); }
    struct fy_event *operator->() const {
      return m_e;
    }
    struct fy_event *get() const {
      return m_e;
    }

  private:
    void reset() {
      if (m_e)
        fy_parser_event_free(m_p, m_e);
      m_e = nullptr;
    }
    struct fy_parser *m_p = nullptr;
    struct fy_event *m_e = nullptr;
  };

  struct Anchored {
    Node node;
    size_t count = 0; // nodes, counted as the budget counts them
    size_t bytes = 0; // scalar bytes in it (keys included)
    int height = 0;   // levels below the node
  };

  Result<Event> next() {
    struct fy_event *e = fy_parser_parse(m_parser);
    if (e == nullptr)
      return parse_error();
    if (struct fy_token *t = fy_event_get_token(e))
      if (const struct fy_mark *m = fy_token_end_mark(t))
        m_last_end = std::max(m_last_end, m->input_pos);
    return Event(m_parser, e);
  }

  Error parse_error() const { return diag_error(m_diag, m_text, m_name); }

  static int line_of(struct fy_token *tok) {
    if (tok != nullptr)
      if (const struct fy_mark *m = fy_token_start_mark(tok))
        return m->line + 1;
    return 0;
  }

  static int column_of(struct fy_token *tok) {
    if (tok != nullptr)
      if (const struct fy_mark *m = fy_token_start_mark(tok))
        return m->column;
    return -1;
  }

  static std::string text_of(struct fy_token *tok) {
    size_t len = 0;
    const char *t = tok ? fy_token_get_text(tok, &len) : nullptr;
    return t ? std::string(t, len) : std::string();
  }

  // `parent`: the indentation of the block the node is in (a mapping
  // value: its key's column; a block sequence entry: its dash's column).
  // `after`: where the text before this node ends (a key's end, a dash): a
  // block scalar's header is looked for after it.
  Result<Node> node(Event ev, int depth, int parent, size_t after = 0) {
    switch (ev->type) {
    case FYET_ALIAS: return alias(ev, depth);
    case FYET_SCALAR:
    case FYET_SEQUENCE_START:
    case FYET_MAPPING_START: break;
    default: return parse_error();
    }
    struct fy_token *anchor = nullptr;
    struct fy_token *tag = nullptr;
    Node out;
    if (ev->type == FYET_SCALAR) {
      anchor = ev->scalar.anchor;
      tag = ev->scalar.tag;
      out.line = line_of(ev->scalar.value);
    } else if (ev->type == FYET_SEQUENCE_START) {
      anchor = ev->sequence_start.anchor;
      tag = ev->sequence_start.tag;
    } else {
      anchor = ev->mapping_start.anchor;
      tag = ev->mapping_start.tag;
    }
    size_t first = m_nodes;
    size_t first_bytes = m_bytes;
    if (m_budget != 0 && ++m_nodes > m_budget)
      return Error{"YAML document expands to more than " + std::to_string(m_budget) +
                       " nodes (alias bomb?)",
                   m_name, out.line ? out.line : line_of(anchor ? anchor : tag)};
    if (depth > k_yaml_max_depth)
      return Error{"YAML nested too deeply", m_name, out.line};
    if (tag != nullptr)
      out.tag = text_of(tag);
    std::string anchor_name = anchor ? text_of(anchor) : std::string();
    int height = 0;
    switch (ev->type) {
    case FYET_SCALAR:
      for (struct fy_token *t : {anchor, tag})
        if (t != nullptr)
          if (const struct fy_mark *m = fy_token_end_mark(t))
            after = std::max(after, m->input_pos);
      TRY(scalar(ev->scalar.value, out, parent, after));
      m_bytes += out.scalar.size();
      if (m_bytes > m_max_bytes)
        return Error{"YAML document expands to more than " + std::to_string(m_max_bytes) +
                         " bytes of text (alias bomb?)",
                     m_name, out.line};
      break;
    case FYET_SEQUENCE_START: {
      int dash = column_of(ev->sequence_start.sequence_start);
      ev = Event();
      out.kind = Node::Kind::sequence;
      for (;;) {
        size_t item_after = m_last_end;
        Event item = TRY(next());
        if (item->type == FYET_SEQUENCE_END)
          break;
        out.items.push_back(TRY(node(std::move(item), depth + 1, dash, item_after)));
        height = std::max(height, m_height + 1);
      }
      if (out.line == 0 && !out.items.empty())
        out.line = out.items.front().line;
      break;
    }
    default: {
      // A block mapping's keys all start at its column (a quoted, anchored,
      // tagged or `?` key included): its values' parent indentation.
      int column = column_of(ev->mapping_start.mapping_start);
      ev = Event();
      TRY(mapping(out, depth, height, column));
      break;
    }
    }
    m_height = height;
    if (anchor != nullptr)
      m_anchors[anchor_name] = Anchored{out, m_nodes - first, m_bytes - first_bytes, height};
    return out;
  }

  Result<Node> alias(const Event &ev, int depth) {
    int line = line_of(ev->alias.anchor);
    std::string name = text_of(ev->alias.anchor);
    auto it = m_anchors.find(name);
    if (it == m_anchors.end())
      return Error{"alias *" + name + " names no anchor", m_name, line};
    const Anchored &a = it->second;
    if (m_budget != 0 && m_nodes + a.count > m_budget)
      return Error{"YAML document expands to more than " + std::to_string(m_budget) +
                       " nodes (alias bomb?)",
                   m_name, line};
    if (m_bytes + a.bytes > m_max_bytes)
      return Error{"YAML document expands to more than " + std::to_string(m_max_bytes) +
                       " bytes of text (alias bomb?)",
                   m_name, line};
    if (depth + a.height > k_yaml_max_depth)
      return Error{"YAML nested too deeply", m_name, line};
    m_nodes += a.count;
    m_bytes += a.bytes;
    m_height = a.height;
    return a.node;
  }

  // The Expander's scalar decoding, from the token; block scalars
  // from the source (see decode_block_scalar).
  Result<Unit> scalar(struct fy_token *value, Node &out, int parent, size_t after) const {
    out.kind = Node::Kind::scalar;
    enum fy_scalar_style st = fy_token_scalar_style(value);
    if (st == FYSS_LITERAL || st == FYSS_FOLDED) {
      const struct fy_mark *b = fy_token_start_mark(value);
      const struct fy_mark *e = fy_token_end_mark(value);
      bool ok = b && e && b->input_pos <= e->input_pos && e->input_pos <= m_text.size();
      if (ok) {
        // The header is the line before the content.
        size_t hb = b->input_pos;
        if (hb > 0 && m_text[hb - 1] == '\n')
          --hb;
        size_t hs = m_text.rfind('\n', hb == 0 ? 0 : hb - 1);
        hs = hs == std::string_view::npos || hb == 0 ? 0 : hs + 1;
        // Not inside the key, anchor or tag before the indicator.
        if (after > hs && after <= hb)
          hs = after;
        ok = decode_block_scalar(m_text.substr(hs, hb - hs),
                                 m_text.substr(b->input_pos, e->input_pos - b->input_pos), parent,
                                 st == FYSS_FOLDED, out.scalar);
      }
      if (!ok)
        return Error{"invalid YAML: block scalar lines are not indented as its header and "
                     "parent require",
                     m_name, out.line};
      out.quoted = true;
      return Unit{};
    }
    size_t len = 0;
    const char *s = fy_token_get_text(value, &len);
    out.scalar.assign(s ? s : "", s ? len : 0);
    if (st == FYSS_SINGLE_QUOTED)
      fix_single_quoted(value, m_text, out.scalar);
    if (st == FYSS_PLAIN && (out.scalar == "~" || out.scalar == "null" || out.scalar.empty()))
      out.kind = Node::Kind::null;
    out.quoted = st != FYSS_PLAIN && st != FYSS_ANY;
    return Unit{};
  }

  Result<Unit> mapping(Node &out, int depth, int &height, int column) {
    MappingBuilder mb(out, m_name);
    for (;;) {
      Event k = TRY(next());
      if (k->type == FYET_MAPPING_END)
        break;
      int key_column = column >= 0              ? column
                       : k->type == FYET_SCALAR ? column_of(k->scalar.value)
                                                : -1;
      Node key = TRY(node(std::move(k), depth + 1, -1));
      size_t key_end = m_last_end;
      height = std::max(height, m_height + 1);
      if (!key.is_scalar())
        return Error{"mapping keys must be plain strings", m_name, key.line};
      Node value = TRY(node(TRY(next()), depth + 1, key_column, key_end));
      height = std::max(height, m_height + 1);
      TRY(mb.entry(std::move(key), std::move(value)));
    }
    mb.finish();
    return Unit{};
  }

  std::string_view m_text;
  const std::string &m_name;
  size_t m_budget;
  size_t m_nodes = 0;
  size_t m_max_bytes;
  size_t m_bytes = 0;    // scalar text in the tree so far, aliases counted at each use
  size_t m_last_end = 0; // where the token of the event read last ends
  int m_height = 0;      // of the node built last
  struct fy_diag *m_diag = nullptr;
  struct fy_parser *m_parser = nullptr;
  std::unordered_map<std::string, Anchored> m_anchors;
};

} // namespace

Result<Node> parse(std::string_view text, const std::string &name, const ParseOptions &options) {
  auto docs = TRY(parse_documents(text, name, options));
  if (docs.empty())
    return Node{}; // no document: null
  return std::move(docs.front());
}

Result<std::vector<Node>> parse_documents(std::string_view text, const std::string &name,
                                          const ParseOptions &options) {
  EventBuilder eb(text, name, options);
  return eb.run();
}

Result<Node> parse_via_document(std::string_view text, const std::string &name,
                                const ParseOptions &options) {
  Built b;
  TRY(build(b, text, name));
  Expander ex(text, name, options.max_nodes);
  return ex.convert(fy_document_root(b.doc), 0);
}

Result<Node> parse(std::string_view text, const std::string &name) {
  // Everything bulwark reads as YAML goes through the events (block scalars
  // decoded from the source, aliases bounded): the target's Prometheus
  // rules and log shipper files are as untrusted as its compose files.
  ParseOptions o;
  o.max_nodes = k_default_max_nodes;
  return parse(text, name, o);
}

} // namespace bulwark::yaml
