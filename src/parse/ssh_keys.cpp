// SSH keys and moduli (see ssh_keys.hpp for the format notes). Sources:
// OpenSSH 9.2 sshkey.c (sshkey_from_blob_internal, sshkey_parse_private2),
// sshbuf-getput-basic.c (string and mpint encoding), dh.c (parse_prime).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/ssh_keys.hpp>

#include <array>
#include <cstdint>
#include <memory>
#include <openssl/bio.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

namespace bulwark::sshkeys {

namespace {

constexpr size_t k_max_blob = 64 * 1024; // sshbuf's SSHBUF_MAX_BIGNUM is 16 KiB

// Strict base64 (RFC 4648, padding allowed at the end), whitespace skipped.
Result<std::string> base64_decode(std::string_view in) {
  static const auto k_table = [] {
    std::array<int, 256> t{};
    t.fill(-1);
    const char *a = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    for (int i = 0; i < 64; ++i)
      t[static_cast<unsigned char>(a[i])] = i;
    return t;
  }();
  std::string out;
  uint32_t acc = 0;
  int bits = 0;
  bool padding = false;
  for (char c : in) {
    if (c == ' ' || c == '\n' || c == '\r' || c == '\t')
      continue;
    if (c == '=') {
      padding = true;
      continue;
    }
    int v = k_table[static_cast<unsigned char>(c)];
    if (v < 0 || padding)
      return Error{"not base64"};
    acc = (acc << 6) | static_cast<uint32_t>(v);
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out.push_back(static_cast<char>((acc >> bits) & 0xff));
    }
    if (out.size() > 4 * k_max_blob)
      return Error{"key data too large"};
  }
  return out;
}

class SshKeyReader {
public:
  explicit SshKeyReader(std::string_view b) : m_b(b) {}
  Result<uint32_t> u32() {
    if (m_b.size() < 4)
      return Error{"key blob truncated"};
    uint32_t v = (uint32_t(uint8_t(m_b[0])) << 24) | (uint32_t(uint8_t(m_b[1])) << 16) |
                 (uint32_t(uint8_t(m_b[2])) << 8) | uint32_t(uint8_t(m_b[3]));
    m_b.remove_prefix(4);
    return v;
  }
  Result<std::string_view> str() {
    uint32_t n = TRY(u32());
    if (n > m_b.size())
      return Error{"key blob truncated"};
    std::string_view s = m_b.substr(0, n);
    m_b.remove_prefix(n);
    return s;
  }

private:
  std::string_view m_b;
};

// Significant bits of an SSH mpint (big-endian, two's complement; a
// leading zero byte keeps a positive number positive).
long mpint_bits(std::string_view m) {
  size_t i = 0;
  while (i < m.size() && m[i] == 0)
    ++i;
  if (i == m.size())
    return 0;
  long bits = static_cast<long>(m.size() - i - 1) * 8;
  for (uint8_t top = static_cast<uint8_t>(m[i]); top; top >>= 1)
    ++bits;
  return bits;
}

std::string_view strip_cert(std::string_view type) {
  constexpr std::string_view k_cert = "-cert-v01@openssh.com";
  if (type.size() > k_cert.size() && type.substr(type.size() - k_cert.size()) == k_cert)
    return type.substr(0, type.size() - k_cert.size());
  return type;
}

Result<KeyInfo> pem_key(std::string_view text) {
  std::unique_ptr<BIO, decltype(&BIO_free)> bio(
      BIO_new_mem_buf(text.data(), static_cast<int>(text.size())), BIO_free);
  if (!bio)
    return Error{"out of memory"};
  // An empty passphrase: an encrypted key fails, as it does for sshd.
  auto no_pass = [](char *, int, int, void *) -> int { return 0; };
  std::unique_ptr<EVP_PKEY, decltype(&EVP_PKEY_free)> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_pass, nullptr), EVP_PKEY_free);
  if (!key)
    return Error{"not an OpenSSH or PEM private key, or encrypted"};
  KeyInfo k;
  k.bits = EVP_PKEY_get_bits(key.get());
  switch (EVP_PKEY_get_base_id(key.get())) {
  case EVP_PKEY_RSA:
    k.type = "ssh-rsa";
    k.family = "rsa";
    break;
  case EVP_PKEY_DSA:
    k.type = "ssh-dss";
    k.family = "dsa";
    break;
  case EVP_PKEY_EC:
    k.type = "ecdsa-sha2-nistp" + std::to_string(k.bits);
    k.family = "ecdsa";
    break;
  case EVP_PKEY_ED25519:
    k.type = "ssh-ed25519";
    k.family = "ed25519";
    k.bits = 256;
    break;
  default: return Error{"a PEM private key of a type sshd does not use"};
  }
  return k;
}

} // namespace

Result<KeyInfo> parse_key_blob(std::string_view blob) {
  SshKeyReader r(blob);
  std::string_view type = TRY(r.str());
  std::string_view base = strip_cert(type);
  KeyInfo k;
  k.type = std::string(type);
  if (base != type)
    (void)TRY(r.str()); // a certificate's nonce comes before the key
  if (base == "ssh-rsa") {
    (void)TRY(r.str()); // e
    std::string_view n = TRY(r.str());
    k.family = "rsa";
    k.bits = mpint_bits(n);
  } else if (base == "ssh-dss") {
    std::string_view p = TRY(r.str());
    k.family = "dsa";
    k.bits = mpint_bits(p);
  } else if (base.substr(0, 11) == "ecdsa-sha2-" || base == "sk-ecdsa-sha2-nistp256@openssh.com") {
    std::string_view curve = TRY(r.str());
    k.family = "ecdsa";
    if (curve == "nistp256")
      k.bits = 256;
    else if (curve == "nistp384")
      k.bits = 384;
    else if (curve == "nistp521")
      k.bits = 521;
    else
      return Error{"unknown ECDSA curve " + text::printable(curve, 40)};
  } else if (base == "ssh-ed25519" || base == "sk-ssh-ed25519@openssh.com") {
    k.family = "ed25519";
    k.bits = 256;
  } else {
    return Error{"unknown key type " + text::printable(type, 60)};
  }
  return k;
}

Result<KeyInfo> parse_public_key(std::string_view text) {
  for (auto &raw : text::split(text, '\n')) {
    std::string_view line = text::trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    auto fields = text::split(line, ' ');
    if (fields.size() < 2)
      return Error{"a public key line needs a type and base64 data"};
    std::string blob = TRY(base64_decode(fields[1]));
    KeyInfo k = TRY(parse_key_blob(blob));
    if (k.type != fields[0])
      return Error{"the key type " + text::printable(fields[0], 60) +
                   " does not match the key data (" + k.type + ")"};
    return k;
  }
  return Error{"no public key in the file"};
}

Result<KeyInfo> parse_private_key(std::string_view text) {
  constexpr std::string_view k_begin = "-----BEGIN OPENSSH PRIVATE KEY-----";
  constexpr std::string_view k_end = "-----END OPENSSH PRIVATE KEY-----";
  size_t b = text.find(k_begin);
  if (b == std::string_view::npos)
    return pem_key(text);
  size_t e = text.find(k_end, b);
  if (e == std::string_view::npos)
    return Error{"the OpenSSH private key has no END line"};
  std::string data = TRY(base64_decode(text.substr(b + k_begin.size(), e - b - k_begin.size())));
  constexpr std::string_view k_magic{"openssh-key-v1\0", 15};
  if (std::string_view(data).substr(0, k_magic.size()) != k_magic)
    return Error{"not an openssh-key-v1 private key"};
  SshKeyReader r(std::string_view(data).substr(k_magic.size()));
  (void)TRY(r.str()); // cipher
  (void)TRY(r.str()); // kdf
  (void)TRY(r.str()); // kdf options
  uint32_t n = TRY(r.u32());
  if (n != 1)
    return Error{"a private key file with " + std::to_string(n) + " keys (sshd reads exactly one)"};
  std::string_view blob = TRY(r.str());
  return parse_key_blob(blob);
}

Moduli parse_moduli(std::string_view text, const std::string &path) {
  Moduli m;
  int lineno = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++lineno;
    std::string_view line = text::trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    std::vector<std::string> f;
    for (auto &x : text::split(line, ' '))
      for (auto &y : text::split(x, '\t'))
        f.push_back(y);
    const std::string *size = f.size() == 7 ? &f[4] : nullptr;
    if (!size || size->empty() || size->size() > 6 ||
        size->find_first_not_of("0123456789") != std::string::npos) {
      m.diagnostics.push_back(
          Diagnostic{"malformed moduli line (sshd skips it)", SourceLocation{path, lineno}});
      continue;
    }
    m.groups.emplace_back(lineno, std::stol(*size));
  }
  return m;
}

} // namespace bulwark::sshkeys
