// libFuzzer: the same bytes as passwd, shadow, group and login.defs.

#include <bulwark/parse/accounts.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  std::vector<bulwark::accounts::Diagnostic> d;
  (void)bulwark::accounts::parse_passwd(text, "/etc/passwd", d);
  (void)bulwark::accounts::parse_shadow(text, "/etc/shadow", d);
  (void)bulwark::accounts::parse_group(text, "/etc/group", d);
  (void)bulwark::accounts::parse_login_defs(text, "/etc/login.defs");
  return 0;
}
