// libFuzzer: the same bytes as a public key, a private key and a moduli file.

#include <bulwark/parse/ssh_keys.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  (void)bulwark::sshkeys::parse_public_key(text);
  (void)bulwark::sshkeys::parse_private_key(text);
  (void)bulwark::sshkeys::parse_key_blob(text);
  (void)bulwark::sshkeys::parse_moduli(text, "/etc/ssh/moduli");
  return 0;
}
