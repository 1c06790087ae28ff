// libFuzzer: sysctl.d text, split into two files to exercise precedence.

#include <bulwark/parse/sysctl.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  size_t half = text.size() / 2;
  auto m = bulwark::parse_sysctl_texts({{"/usr/lib/sysctl.d/50-a.conf", text.substr(0, half)},
                                        {"/etc/sysctl.d/60-b.conf", text.substr(half)}});
  for (auto &[k, v] : m.configured)
    (void)m.effective(k);
  (void)m.effective("net.ipv4.ip_forward");
  return 0;
}
