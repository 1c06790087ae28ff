// libFuzzer: os-release(5) assignments and GRUB's /etc/default/grub (the
// two shell-style formats read without a shell) on the same bytes.

#include <bulwark/parse/grub.hpp>
#include <bulwark/parse/os_release.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto r = bulwark::osrelease::parse_os_release(text, "/etc/os-release");
  for (auto &[k, f] : r.fields)
    if (k.empty() || f.loc.line < 1)
      __builtin_trap();
  for (auto &d : r.diagnostics)
    if (d.line < 1)
      __builtin_trap();
  bulwark::grub::DefaultGrub g;
  bulwark::grub::parse_default_grub(text, "/etc/default/grub", g);
  // A second file expands the first one's values: no growth beyond them.
  bulwark::grub::parse_default_grub(text, "/etc/default/grub.d/a.cfg", g);
  for (auto &[k, a] : g.vars)
    if (k.empty() || a.loc.line < 1)
      __builtin_trap();
  (void)bulwark::grub::cmdline_param(g.cmdline(), "apparmor");
  return 0;
}
