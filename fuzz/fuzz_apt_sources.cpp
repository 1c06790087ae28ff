// libFuzzer: apt sources, one-line (sources.list) and deb822 (*.sources).

#include <bulwark/parse/apt_sources.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  bulwark::apt::Sources s;
  bulwark::apt::parse_sources_list_text("/etc/apt/sources.list", text, s);
  bulwark::apt::parse_deb822_sources_text("/etc/apt/sources.list.d/f.sources", text, s);
  return 0;
}
