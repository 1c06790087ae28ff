// libFuzzer: /etc/docker/daemon.json (parse/docker_daemon.hpp): the JSON
// object and the key-line scanner that runs on whatever the JSON parser took.

#include <bulwark/parse/docker_daemon.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto c = bulwark::docker::parse_daemon_json(text, "/etc/docker/daemon.json");
  if (!c.ok()) {
    if (c.error().line < 0 || c.error().message.empty() || c.error().path.empty())
      __builtin_trap();
    return 0;
  }
  if (!c->options.is_object())
    __builtin_trap();
  for (auto &[k, line] : c->key_lines)
    if (line < 1 || !c->options.contains(k))
      __builtin_trap(); // every key found is one of the object's
  return 0;
}
