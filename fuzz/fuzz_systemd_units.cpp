// libFuzzer: the [Install] section reader of systemd unit files (a unit
// file and a drop-in), and unit-name handling on the same bytes.

#include <bulwark/parse/systemd_units.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  size_t half = text.size() / 2;
  bulwark::systemd::InstallSection s;
  (void)bulwark::systemd::parse_install_section("/lib/systemd/system/x.service",
                                                text.substr(0, half), s);
  (void)bulwark::systemd::parse_install_section("/etc/systemd/system/x.service.d/10-x.conf",
                                                text.substr(half), s);
  for (const std::string &w : s.aliases)
    (void)bulwark::systemd::valid_unit_name(w);
  (void)bulwark::systemd::valid_unit_name(text);
  return 0;
}
