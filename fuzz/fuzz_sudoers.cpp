// libFuzzer: sudoers text through the sudoers reader (includes resolve inside
// an empty root) and the NOPASSWD query the checks make.

#include <bulwark/parse/sudoers.hpp>

#include <cstdlib>
#include <string>
#include <unistd.h>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  static std::string dir = [] {
    char tmpl[] = "/tmp/bulwark-fuzz-XXXXXX";
    if (::mkdtemp(tmpl) == nullptr)
      std::abort();
    return std::string(tmpl);
  }();
  static bulwark::RootFs fs(dir);
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto m = bulwark::sudoers::parse_sudoers_text(fs, "/etc/sudoers", text);
  for (auto &s : m.specs)
    for (auto &c : s.commands)
      (void)(c.has_tag("NOPASSWD") && m.is_all(c.command));
  return 0;
}
