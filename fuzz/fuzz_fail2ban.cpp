// libFuzzer: fail2ban jail files. The input is split at "\n----\n" into
// jail.conf, jail.d/a.conf, jail.local, inc.conf and jail.d/b.local of an
// in-memory /c, so includes, merging and interpolation all see fuzzed text.

#include <bulwark/parse/fail2ban.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static const char *k_names[] = {"/c/jail.conf", "/c/jail.d/a.conf", "/c/jail.local",
                                  "/c/inc.conf", "/c/jail.d/b.local"};
  std::string text(reinterpret_cast<const char *>(data), size);
  bulwark::f2b::MemorySource src;
  size_t pos = 0;
  for (const char *name : k_names) {
    size_t next = text.find("\n----\n", pos);
    src.files[name] = text.substr(pos, next == std::string::npos ? std::string::npos : next - pos);
    if (next == std::string::npos)
      break;
    pos = next + 6;
  }
  auto c = bulwark::f2b::load_config(src, "/c");
  for (auto &j : c.jails) {
    if (j.bantime)
      (void)bulwark::f2b::str2seconds(j.bantime->value);
    (void)bulwark::f2b::as_bool(j.enabled_setting.value);
  }
  (void)bulwark::f2b::str2seconds(text.substr(0, 64));
  return 0;
}
