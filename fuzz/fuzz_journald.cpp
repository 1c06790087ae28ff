// libFuzzer: journald.conf with a drop-in, and the values as time spans
// and sizes.

#include <bulwark/parse/journald.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  size_t half = text.size() / 2;
  auto c = bulwark::journald::parse_systemd_conf_texts(
      {{"/etc/systemd/journald.conf", text.substr(0, half)},
       {"/etc/systemd/journald.conf.d/50-x.conf", text.substr(half)}});
  for (auto &[section, keys] : c.values)
    for (auto &[k, as] : keys)
      for (auto &a : as) {
        (void)bulwark::journald::parse_timespan(a.value);
        (void)bulwark::journald::parse_size(a.value);
      }
  (void)bulwark::journald::parse_timespan(text);
  return 0;
}
