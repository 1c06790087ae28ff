// libFuzzer: rsyslog.conf text (legacy and RainerScript mixed).

#include <bulwark/parse/rsyslog.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto c = bulwark::rsyslog::parse_rsyslog_text("/etc/rsyslog.conf", text);
  for (auto &a : c.file_actions)
    (void)bulwark::rsyslog::selector_takes(a.selector, "auth");
  return 0;
}
