#pragma once
// Cipher strings as OpenSSL 3 (Debian 12: 3.0) expands them, and Mozilla's
// Server Side TLS guideline (data/tls/mozilla-guidelines.yaml, embedded).
//
// A configured `ssl_ciphers` / `SSLCipherSuite` value is an OpenSSL cipher
// string ("HIGH:!aNULL:!MD5", "ECDHE+AESGCM", "@SECLEVEL=0"): the suites it
// enables are whatever SSL_CTX_set_cipher_list makes of it, so the string is
// handed to OpenSSL and the resulting list judged suite by suite. TLS 1.3
// suites are configured apart (SSL_CTX_set_ciphersuites) and judged apart.

#include <bulwark/core/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::tls {

struct CipherInfo {
  std::string name;               // OpenSSL's name: ECDHE-RSA-AES128-GCM-SHA256
  std::string iana;               // IANA's: TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256
  std::string kx, auth, enc, mac; // OpenSSL's descriptions ("ECDH", "RSA", "AESGCM(128)", "AEAD")
  bool tls13 = false;
  bool forward_secret = false;
  bool aead = false;
  // Broken outright: NULL, EXPORT, RC4, DES, 3DES, MD5, anonymous. Empty: not broken.
  std::string broken;
};

// The TLS 1.2-and-below suites a cipher string enables, in OpenSSL's order.
// Error when OpenSSL rejects the string (the daemon would refuse to start).
Result<std::vector<CipherInfo>> expand_cipher_string(std::string_view s);
// The TLS 1.3 suites of a Ciphersuites value ("" = OpenSSL's default).
Result<std::vector<CipherInfo>> expand_ciphersuites(std::string_view s);
// OpenSSL's security level for a server using this cipher string: its
// last @SECLEVEL=n, else the library's default (Debian 12 builds OpenSSL 3.0
// with level 2; the host's openssl.cnf may change it).
int security_level(std::string_view cipher_string);
// The versions a server can really speak: OpenSSL 3.0 refuses SSLv3, TLS 1.0
// and TLS 1.1 handshakes at security level 1 and above (their MD5+SHA-1
// handshake signatures fall below 80 bits), whatever the protocol list says.
// SSLv2 is gone from OpenSSL altogether.
std::vector<std::string> effective_versions(const std::vector<std::string> &configured, int level);
// One suite by OpenSSL or IANA name (the live probe reports them).
CipherInfo describe_cipher(std::string_view openssl_or_iana_name);

struct Guideline {
  std::string version; // "5.7"
  std::string source;
  std::string level; // "intermediate"
  std::vector<std::string> protocols;
  std::vector<std::string> ciphers;      // TLS 1.2, IANA names
  std::vector<std::string> ciphersuites; // TLS 1.3
  int rsa_key_size = 2048;
  int ecdh_param_size = 256;
};
// Parsed once from the embedded data. REQUIRES: the embedded file is valid
// (a unit test parses it).
const Guideline &mozilla(std::string_view level = "intermediate");
Result<std::vector<Guideline>> parse_guidelines(std::string_view yaml_text);

// Why a TLS 1.2 suite falls short of the guideline: "" when it is in
// Mozilla's list; otherwise the broken property, "no forward secrecy",
// "not AEAD", or "outside Mozilla intermediate 5.7" (strong, not listed).
std::string weakness(const CipherInfo &c, const Guideline &g);
bool weakness_is_advice(const CipherInfo &c, const Guideline &g); // only "outside ..."

} // namespace bulwark::tls
