#pragma once
// Certificates and private keys read through OpenSSL 3 from PEM files inside
// the target (what nginx's ssl_certificate, Apache's SSLCertificateFile,
// PostgreSQL's ssl_cert_file and Redis's tls-cert-file load). A file may hold
// a chain; other PEM blocks in it (a key in a combined file) are skipped, as
// PEM_read_bio_X509 skips them. Encrypted keys are never decrypted (no
// passphrase prompt): their type and size are read from the certificate.
//
// For other areas (PostgreSQL, Redis): read_certificates() and
// read_private_key() take a target path and return everything the tls.*
// checks judge; judge_certificate() applies the same rules.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::x509 {

struct Certificate {
  std::string path;
  int index = 0;                         // position in the file: 0 is the leaf of a chain file
  std::string subject, issuer;           // one-line RFC 2253 forms
  int64_t not_before = 0, not_after = 0; // seconds since the epoch (UTC)
  std::string signature_algorithm;       // "sha256WithRSAEncryption", "ecdsa-with-SHA256"
  std::string signature_hash;            // "SHA256", "SHA1", "MD5"; "" for Ed25519
  std::string key_type;                  // "RSA", "EC", "ED25519", "ED448", "DSA"
  int key_bits = 0;
  bool self_signed = false;
  bool is_ca = false;
  std::string sha256; // fingerprint, hex
};

struct PrivateKey {
  std::string path;
  std::string key_type; // as Certificate::key_type; "" when encrypted
  int key_bits = 0;
  bool encrypted = false;
};

// Every certificate in a PEM file, in file order. Errors (with the path): not
// a PEM file, no certificate in it, a block that does not decode (truncated).
Result<std::vector<Certificate>> read_certificates(const RootFs &fs, const std::string &path);
Result<std::vector<Certificate>> parse_certificates(std::string_view pem, const std::string &path);

Result<PrivateKey> read_private_key(const RootFs &fs, const std::string &path);
Result<PrivateKey> parse_private_key(std::string_view pem, const std::string &path);

// A certificate revocation list (OpenVPN's crl-verify FILE): PEM
// (X509 CRL) or DER, as OpenSSL's d2i_X509_CRL/PEM_read_bio_X509_CRL read it.
struct Crl {
  std::string path;
  std::string issuer;
  int64_t last_update = 0;
  int64_t next_update = 0; // 0: the CRL names no next update
  int revoked = 0;         // entries
};
Result<Crl> parse_crl(std::string_view data, const std::string &path);
Result<Crl> read_crl(const RootFs &fs, const std::string &path);

// The tls.* rules for one certificate, at time `now`. Each returns "" when the
// rule holds, else why not.
struct Limits {
  int max_age_days = 90;      // tls.cert-rotation
  int max_lifetime_days = 90; // tls.cert-rotation (warn)
  int expiry_days = 14;       // tls.cert-expiry
  int rsa_min_bits = 2048;    // tls.key-strength
  int ec_min_bits = 256;
};
std::string too_old(const Certificate &c, int64_t now, const Limits &l);
std::string too_long_lived(const Certificate &c, const Limits &l);
std::string expiring(const Certificate &c, int64_t now, const Limits &l);
std::string weak_key(const std::string &key_type, int key_bits, const Limits &l);
std::string weak_signature(const Certificate &c); // SHA-1/MD5 on anything but a self-signed root

std::string format_time(int64_t t); // "2026-11-23 14:00:00 UTC"

} // namespace bulwark::x509
