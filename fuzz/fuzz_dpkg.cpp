// libFuzzer: dpkg status text and Debian version strings.

#include <bulwark/parse/debversion.hpp>
#include <bulwark/parse/dpkg_status.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  (void)bulwark::deb::parse_dpkg_status_text("/var/lib/dpkg/status", text);
  size_t nl = text.find('\n');
  if (nl != std::string_view::npos)
    (void)bulwark::deb::compare_deb_versions(text.substr(0, nl), text.substr(nl + 1));
  return 0;
}
