#pragma once
// A small read-only YAML tree for bulwark's own data (catalogue, profiles),
// built with libfyaml. Every node keeps its line for error messages.

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

  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_mapping() const { return kind == Kind::mapping; }
  const Node *find(std::string_view key) const; // mapping lookup, or nullptr
};

// Parses one YAML document. `name` is used in error messages.
Result<Node> parse(std::string_view text, const std::string &name);

} // namespace bulwark::yaml
