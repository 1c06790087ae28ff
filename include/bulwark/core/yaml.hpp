#pragma once
// A small read-only YAML tree for bulwark's own data (catalogue, profiles)
// and for compose files, built with libfyaml. Every node keeps its line for
// error messages.

#include <bulwark/core/result.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::yaml {

struct Node {
  // Special members are defined out of line, where Node is complete (the
  // vector of pairs below holds Node itself).
  Node();
  ~Node();
  Node(const Node &);
  Node(Node &&) noexcept;
  Node &operator=(const Node &);
  Node &operator=(Node &&) noexcept;

  enum class Kind { null, scalar, sequence, mapping };
  Kind kind = Kind::null;
  std::string scalar;
  std::vector<Node> items;                           // sequence
  std::vector<std::pair<std::string, Node>> entries; // mapping, in order
  int line = 0;
  int key_line = 0; // a mapping's value: the line of its key
  // The node's tag as written ("!reset", "!override", "!!str"), "" if none.
  std::string tag;
  bool quoted = false; // a scalar written in quotes (or a block scalar)

  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_mapping() const { return kind == Kind::mapping; }
  const Node *find(std::string_view key) const; // mapping lookup, or nullptr
};

// How parse(text, name, options) treats a document written by users.
// Aliases are resolved here rather than in libfyaml, and YAML 1.1 merge
// keys applied (`<<: *a`, `<<: [*a, *b]`: keys of the mapping itself win,
// then the first source that has the key). Each node of an alias keeps the
// line where the anchored node is written.
struct ParseOptions {
  // Upper bound on the nodes the document expands to (aliases counted at
  // each use): an alias bomb ("billion laughs") stops with an error at the
  // alias that crosses it, before memory grows. 0: no bound.
  size_t max_nodes = 0;
  // Upper bound on the scalar text the document expands to (aliases counted
  // at each use): a few nodes can still name a long string many times.
  size_t max_bytes = 64 * 1024 * 1024;
};

// The first document (null when the stream has none: an empty or
// comment-only text); later documents must still be valid YAML. Errors:
// invalid YAML, an alias to an undefined anchor (or one that comes before
// it), a duplicate key, a merge key whose value is not a mapping (or a list
// of them), a document over max_nodes; each with the line.
Result<Node> parse(std::string_view text, const std::string &name, const ParseOptions &options);

// The same with a budget of k_default_max_nodes. `name` is used in error
// messages.
inline constexpr size_t k_default_max_nodes = 1000000;
Result<Node> parse(std::string_view text, const std::string &name);

// Every document of the stream, in order (`---` separated); anchors are
// per document, the node budget is for the whole stream.
Result<std::vector<Node>> parse_documents(std::string_view text, const std::string &name,
                                          const ParseOptions &options);

// The same result, built the slower way: libfyaml builds its document and it
// is walked. Kept as the oracle parse(text, name, options) is tested and
// fuzzed against; not for production use.
Result<Node> parse_via_document(std::string_view text, const std::string &name,
                                const ParseOptions &options);

} // namespace bulwark::yaml
