// libFuzzer: apt.conf text, then the queries the checks make.

#include <bulwark/parse/apt_lists.hpp>
#include <bulwark/parse/aptconf.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  bulwark::apt::AptConfig c;
  bulwark::apt::read_apt_conf_text(c, "/etc/apt/apt.conf.d/fuzz", text);
  (void)c.dump();
  (void)c.value("APT::Periodic::Unattended-Upgrade");
  (void)c.list("Unattended-Upgrade::Origins-Pattern");
  // The same bytes as a Packages list and a Release file.
  (void)bulwark::apt::parse_packages_text("/p", text);
  (void)bulwark::apt::parse_release_text("/r", text);
  (void)bulwark::apt::decompress(size % 2 ? "gz" : "lz4", text, 1 << 20);
  return 0;
}
