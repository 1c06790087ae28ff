// libFuzzer: dpkg's per-package .list and .md5sums files.

#include <bulwark/parse/dpkg_files.hpp>

#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  (void)bulwark::deb::parse_file_list_text("/var/lib/dpkg/info/x.list", text);
  (void)bulwark::deb::parse_md5sums_text("/var/lib/dpkg/info/x.md5sums", text);
  (void)bulwark::deb::package_of_info_file(text);
  return 0;
}
