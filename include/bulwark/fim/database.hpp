#pragma once
// The fim database: the records of one scan in a compact binary file,
// checksummed and (normally) signed, written atomically.
//
// Layout (integers little-endian):
//   "BULWARK-FIM\n"  magic (12 bytes)
//   u32 version (1)
//   i64 created (seconds since the epoch)
//   str root (the host root the scan read, for the report only)
//   u64 count, then `count` records (see database.cpp)
//   u8[32] SHA-256 of every byte above
//   "SIG" u8 kind (0 unsigned, 1 Ed25519), u16 length, signature
// The signature is Ed25519 (OpenSSL) over every byte before "SIG". A file
// that ends early, has bytes after the signature, a wrong checksum, a
// length that runs past the end, or a signature that does not verify is
// rejected as a whole: nothing of it is trusted.

#include <bulwark/core/result.hpp>
#include <bulwark/fim/fim.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::fim {

struct Database {
  int64_t created = 0;
  std::string root;
  std::vector<Record> records; // sorted by path
  bool signed_ = false;        // set by decode(): the signature verified with the pubkey
  bool has_signature = false;  // set by decode(): a signature is present (verified or not)
};

// An Ed25519 key read from a PEM file (openssl genpkey -algorithm ed25519;
// openssl pkey -pubout). Errors: unreadable, not PEM, not Ed25519.
class SigningKey {
public:
  SigningKey(SigningKey &&) noexcept;
  SigningKey &operator=(SigningKey &&) noexcept;
  ~SigningKey();
  static Result<SigningKey> load_private(const std::string &host_path);
  static Result<SigningKey> load_public(const std::string &host_path);
  // A public key from PEM text already read (`audit` reads it through
  // RootFs); `name` is the file in errors.
  static Result<SigningKey> public_from_pem(std::string_view pem, const std::string &name);
  void *pkey() const { return m_pkey; } // EVP_PKEY*

private:
  explicit SigningKey(void *p) : m_pkey(p) {}
  void *m_pkey = nullptr;
};

// The file's bytes; signed with `key` when it is not null.
Result<std::string> encode(const Database &db, const SigningKey *key);

struct DecodeOptions {
  const SigningKey *pubkey = nullptr; // verify with it (required when signed)
  bool allow_unsigned = false;        // accept a file without a signature
};
// Errors name `name` (the database's path): "truncated", "checksum
// mismatch", "signature does not verify", "unsigned" (unless allowed),
// "signed, but no --pubkey to verify it" (unless allow_unsigned).
Result<Database> decode(std::string_view bytes, const std::string &name,
                        const DecodeOptions &options);

} // namespace bulwark::fim
