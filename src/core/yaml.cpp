#include <bulwark/core/yaml.hpp>

#include <libfyaml.h>

namespace bulwark::yaml {

namespace {

// Bound the recursion over our own small documents; hostile user profiles
// must not exhaust the stack.
constexpr int k_max_depth = 64;

Result<Node> convert(struct fy_node* fyn, const std::string& name, int depth) {
  Node out;
  if (fyn == nullptr)
    return out;
  // libfyaml 0.7 marks tokens, not nodes: a scalar has its own line, a
  // collection takes the line of its first element (set below).
  if (struct fy_token* tok = fy_node_get_scalar_token(fyn))
    if (const struct fy_mark* m = fy_token_start_mark(tok))
      out.line = m->line + 1;
  if (depth > k_max_depth)
    return Error{"YAML nested too deeply", name, out.line};
  switch (fy_node_get_type(fyn)) {
  case FYNT_SCALAR: {
    size_t len = 0;
    const char* s = fy_node_get_scalar(fyn, &len);
    out.kind = Node::Kind::scalar;
    out.scalar.assign(s ? s : "", s ? len : 0);
    // A plain `~` or `null` is YAML's null.
    if (fy_node_get_style(fyn) == FYNS_PLAIN &&
        (out.scalar == "~" || out.scalar == "null" || out.scalar.empty()))
      out.kind = Node::Kind::null;
    break;
  }
  case FYNT_SEQUENCE: {
    out.kind = Node::Kind::sequence;
    void* iter = nullptr;
    while (struct fy_node* item = fy_node_sequence_iterate(fyn, &iter))
      out.items.push_back(TRY(convert(item, name, depth + 1)));
    if (!out.items.empty())
      out.line = out.items.front().line;
    break;
  }
  case FYNT_MAPPING: {
    out.kind = Node::Kind::mapping;
    void* iter = nullptr;
    while (struct fy_node_pair* pair = fy_node_mapping_iterate(fyn, &iter)) {
      Node key = TRY(convert(fy_node_pair_key(pair), name, depth + 1));
      if (!key.is_scalar())
        return Error{"mapping keys must be plain strings", name, key.line};
      for (auto& e : out.entries)
        if (e.first == key.scalar)
          return Error{"duplicate key '" + key.scalar + "'", name, key.line};
      if (out.entries.empty())
        out.line = key.line;
      Node value = TRY(convert(fy_node_pair_value(pair), name, depth + 1));
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

const Node* Node::find(std::string_view key) const {
  for (auto& e : entries)
    if (e.first == key)
      return &e.second;
  return nullptr;
}

Result<Node> parse(std::string_view text, const std::string& name) {
  struct fy_diag_cfg dcfg;
  fy_diag_cfg_default(&dcfg);
  dcfg.fp = nullptr;
  dcfg.colorize = false;
  struct fy_diag* diag = fy_diag_create(&dcfg);
  if (diag == nullptr)
    return Error{"cannot create YAML diagnostics", name};
  fy_diag_set_collect_errors(diag, true);
  struct fy_parse_cfg cfg = {};
  cfg.flags = static_cast<enum fy_parse_cfg_flags>(FYPCF_QUIET | FYPCF_RESOLVE_DOCUMENT |
                                                   FYPCF_DEFAULT_VERSION_1_2);
  cfg.diag = diag;
  struct fy_document* doc = fy_document_build_from_string(&cfg, text.data(), text.size());
  if (doc == nullptr) {
    Error err{"invalid YAML", name};
    void* prev = nullptr;
    if (struct fy_diag_error* de = fy_diag_errors_iterate(diag, &prev)) {
      err.message = std::string("invalid YAML: ") + (de->msg ? de->msg : "");
      err.line = de->line + 1;
    }
    fy_diag_destroy(diag);
    return err;
  }
  auto result = convert(fy_document_root(doc), name, 0);
  fy_document_destroy(doc);
  fy_diag_destroy(diag);
  return result;
}

} // namespace bulwark::yaml
