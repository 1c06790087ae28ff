#pragma once
// SSH host keys and Diffie-Hellman group files, as OpenSSH 9.2 reads them.
//
// - A public key line (sshkey.c sshkey_read): `TYPE BASE64 [COMMENT]`; the
//   base64 is the key blob of RFC 4253 §6.6: string type, then for ssh-rsa
//   mpint e, mpint n; ssh-dss mpint p, q, g, y; ecdsa-sha2-* string curve,
//   string Q; ssh-ed25519 string key (and the sk- and -cert variants).
// - A private key (sshkey.c sshkey_parse_private2): "-----BEGIN OPENSSH
//   PRIVATE KEY-----", base64 of "openssh-key-v1\0", string cipher, string
//   kdf, string kdf options, uint32 N, N public key blobs (not encrypted),
//   then the private part. Older PEM keys (RSA, DSA, EC, PKCS#8) are read
//   with OpenSSL, as ssh-keygen does. An encrypted PEM key is an error.
// - Sizes are what `ssh-keygen -l` prints: the modulus bits of RSA, p of
//   DSA, the curve of ECDSA (256, 384, 521), 256 for Ed25519.
// - /etc/ssh/moduli (moduli(5)): `TIME TYPE TESTS TRIES SIZE GENERATOR
//   MODULUS`, '#' comments; SIZE is the modulus bit length minus one.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/result.hpp>

#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::sshkeys {

struct KeyInfo {
  std::string type;   // the blob's type name: "ssh-rsa", "ssh-ed25519", ...
  std::string family; // "rsa", "dsa", "ecdsa", "ed25519"
  long bits = 0;
};

// A public key line (the first non-comment line of a .pub file).
Result<KeyInfo> parse_public_key(std::string_view text);
// A private key file: OpenSSH's own format, else PEM through OpenSSL.
Result<KeyInfo> parse_private_key(std::string_view text);
// The key blob itself.
Result<KeyInfo> parse_key_blob(std::string_view blob);

struct Moduli {
  std::vector<std::pair<int, long>> groups; // (line, SIZE field)
  std::vector<Diagnostic> diagnostics;      // malformed lines (sshd skips them)
};
Moduli parse_moduli(std::string_view text, const std::string &path);

} // namespace bulwark::sshkeys
