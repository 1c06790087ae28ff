// libFuzzer: the YAML event builder every bulwark reader uses (aliases,
// merge keys, block scalars decoded from the source, several documents),
// with the compose loader's node budget; every node's line is within the
// text.

#include <bulwark/core/yaml.hpp>

namespace {

void check(const bulwark::yaml::Node &n, int lines) {
  if (n.line < 0 || n.line > lines || n.key_line < 0 || n.key_line > lines)
    __builtin_trap();
  for (auto &i : n.items)
    check(i, lines);
  for (auto &e : n.entries)
    check(e.second, lines);
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  bulwark::yaml::ParseOptions o;
  o.max_nodes = 200000;
  auto docs = bulwark::yaml::parse_documents(text, "fuzz.yaml", o);
  // YAML counts LF, CRLF and a lone CR as line breaks.
  int lines = 1;
  for (size_t i = 0; i < text.size(); ++i)
    lines += text[i] == '\n' || (text[i] == '\r' && (i + 1 == text.size() || text[i + 1] != '\n'));
  if (!docs.ok()) {
    if (docs.error().line < 0 || docs.error().line > lines)
      __builtin_trap();
    return 0;
  }
  for (auto &d : *docs)
    check(d, lines);
  return 0;
}
