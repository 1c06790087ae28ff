// libFuzzer: OpenVPN configuration text, strongSwan's two formats and the
// SSH KEXINIT payload parser on the same bytes.

#include <bulwark/live/ssh.hpp>
#include <bulwark/parse/openvpn.hpp>
#include <bulwark/parse/strongswan.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto c = bulwark::openvpn::parse_text(text, "/etc/openvpn/server/server.conf");
  (void)c.is_server();
  (void)c.last("cipher");
  auto s = bulwark::strongswan::parse_settings_text(text, "/etc/swanctl/swanctl.conf");
  auto i = bulwark::strongswan::parse_ipsec_text(text, "/etc/ipsec.conf");
  (void)bulwark::strongswan::weak_algorithms(text);
  bulwark::live::SshProbe p;
  (void)bulwark::live::parse_kexinit(text, p);
  return 0;
}
