// The fim database format (see database.hpp). A record:
//   str path; u8 type; u64 attrs; u32 mode, uid, gid; u64 dev, ino, nlink,
//   size, blocks; i64 mtime_s; u32 mtime_ns; i64 ctime_s; u32 ctime_ns;
//   str link; u8 nhashes, (u8 attr index, str digest)*; u32 nxattrs,
//   (str name, str value)*; str error
// where str is a u32 length and the bytes. Every length is checked against
// what remains before it is used, so a hostile file cannot make the reader
// allocate more than the file's size or read past its end.

#include <bulwark/core/hostfs.hpp>
#include <bulwark/fim/database.hpp>

#include <bit>
#include <cstring>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/sha.h>

namespace bulwark::fim {

namespace {

constexpr std::string_view k_magic = "BULWARK-FIM\n";
constexpr uint32_t k_fim_db_version = 1;
constexpr size_t k_max_key = 64 << 10;

void put_u8(std::string &o, uint8_t v) {
  o += static_cast<char>(v);
}
template <typename T> void put_int(std::string &o, T v) {
  // One append of the little-endian bytes: a += per byte was most of
  // encode(), itself a twentieth of an init.
  auto u = static_cast<std::make_unsigned_t<T>>(v);
  char b[sizeof(T)];
  for (size_t i = 0; i < sizeof(T); ++i)
    b[i] = static_cast<char>((u >> (8 * i)) & 0xff);
  o.append(b, sizeof b);
}
void put_str(std::string &o, std::string_view s) {
  put_int<uint32_t>(o, static_cast<uint32_t>(s.size()));
  o.append(s);
}

class FimDbReader {
public:
  explicit FimDbReader(std::string_view s) : m_s(s) {}
  bool failed() const { return m_failed; }
  size_t remaining() const { return m_s.size(); }
  uint8_t u8() {
    if (m_s.empty())
      return fail<uint8_t>();
    uint8_t v = static_cast<uint8_t>(m_s[0]);
    m_s.remove_prefix(1);
    return v;
  }
  template <typename T> T integer() {
    if (m_s.size() < sizeof(T))
      return fail<T>();
    std::make_unsigned_t<T> u = 0;
    for (size_t i = 0; i < sizeof(T); ++i)
      u |= static_cast<std::make_unsigned_t<T>>(static_cast<uint8_t>(m_s[i])) << (8 * i);
    m_s.remove_prefix(sizeof(T));
    return static_cast<T>(u);
  }
  std::string str() {
    uint32_t n = integer<uint32_t>();
    if (m_failed || n > m_s.size())
      return fail<std::string>();
    std::string out(m_s.substr(0, n));
    m_s.remove_prefix(n);
    return out;
  }

private:
  template <typename T> T fail() {
    m_failed = true;
    m_s = {};
    return T{};
  }
  std::string_view m_s;
  bool m_failed = false;
};

// An upper bound of put_record's bytes, to size the output once.
size_t record_size(const Record &r) {
  size_t n = 4 + r.path.size() + 1 + 8 + 3 * 4 + 5 * 8 + 8 + 4 + 8 + 4 + 4 + r.link.size() + 1 + 4 +
             4 + r.error.size();
  for (auto &h : r.hashes)
    n += 1 + 4 + h.second.size();
  for (auto &[name, value] : r.xattrs)
    n += 8 + name.size() + value.size();
  return n;
}

void put_record(std::string &o, const Record &r) {
  put_str(o, r.path);
  put_u8(o, static_cast<uint8_t>(r.type));
  put_int<uint64_t>(o, r.attrs);
  put_int<uint32_t>(o, r.mode);
  put_int<uint32_t>(o, r.uid);
  put_int<uint32_t>(o, r.gid);
  put_int<uint64_t>(o, r.dev);
  put_int<uint64_t>(o, r.ino);
  put_int<uint64_t>(o, r.nlink);
  put_int<uint64_t>(o, r.size);
  put_int<uint64_t>(o, r.blocks);
  put_int<int64_t>(o, r.mtime_s);
  put_int<uint32_t>(o, r.mtime_ns);
  put_int<int64_t>(o, r.ctime_s);
  put_int<uint32_t>(o, r.ctime_ns);
  put_str(o, r.link);
  put_u8(o, static_cast<uint8_t>(r.hashes.size()));
  for (auto &[a, d] : r.hashes) {
    put_u8(o, static_cast<uint8_t>(std::countr_zero(static_cast<uint64_t>(a))));
    put_str(o, d);
  }
  put_int<uint32_t>(o, static_cast<uint32_t>(r.xattrs.size()));
  for (auto &[n, v] : r.xattrs) {
    put_str(o, n);
    put_str(o, v);
  }
  put_str(o, r.error);
}

bool get_record(FimDbReader &in, Record &r) {
  r.path = in.str();
  uint8_t type = in.u8();
  if (type > static_cast<uint8_t>(FileType::blockdev))
    return false;
  r.type = static_cast<FileType>(type);
  r.attrs = in.integer<uint64_t>();
  r.mode = in.integer<uint32_t>();
  r.uid = in.integer<uint32_t>();
  r.gid = in.integer<uint32_t>();
  r.dev = in.integer<uint64_t>();
  r.ino = in.integer<uint64_t>();
  r.nlink = in.integer<uint64_t>();
  r.size = in.integer<uint64_t>();
  r.blocks = in.integer<uint64_t>();
  r.mtime_s = in.integer<int64_t>();
  r.mtime_ns = in.integer<uint32_t>();
  r.ctime_s = in.integer<int64_t>();
  r.ctime_ns = in.integer<uint32_t>();
  r.link = in.str();
  uint8_t nh = in.u8();
  for (uint8_t i = 0; i < nh && !in.failed(); ++i) {
    uint8_t bit = in.u8();
    if (bit >= 64 || ((1ull << bit) & k_hashes) == 0)
      return false;
    std::string d = in.str();
    r.hashes.emplace_back(static_cast<Attr>(1ull << bit), std::move(d));
  }
  uint32_t nx = in.integer<uint32_t>();
  if (nx > in.remaining() / 8)
    return false;
  for (uint32_t i = 0; i < nx && !in.failed(); ++i) {
    std::string n = in.str();
    std::string v = in.str();
    r.xattrs.emplace_back(std::move(n), std::move(v));
  }
  r.error = in.str();
  return !in.failed() && !r.path.empty() && r.path.front() == '/';
}

std::string fim_db_sha256(std::string_view data) {
  unsigned char md[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char *>(data.data()), data.size(), md);
  return std::string(reinterpret_cast<char *>(md), sizeof md);
}

} // namespace

SigningKey::SigningKey(SigningKey &&o) noexcept : m_pkey(o.m_pkey) {
  o.m_pkey = nullptr;
}
SigningKey &SigningKey::operator=(SigningKey &&o) noexcept {
  std::swap(m_pkey, o.m_pkey);
  return *this;
}
SigningKey::~SigningKey() {
  EVP_PKEY_free(static_cast<EVP_PKEY *>(m_pkey));
}

namespace {

Result<EVP_PKEY *> parse_pem(std::string_view pem, const std::string &path, bool priv) {
  if (pem.size() > k_max_key)
    return Error{"larger than a key", path};
  BIO *bio = BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size()));
  if (bio == nullptr)
    return Error{"out of memory", path};
  EVP_PKEY *k = priv ? PEM_read_bio_PrivateKey(bio, nullptr, nullptr, nullptr)
                     : PEM_read_bio_PUBKEY(bio, nullptr, nullptr, nullptr);
  BIO_free(bio);
  if (k == nullptr)
    return Error{priv ? "not a PEM private key (openssl genpkey -algorithm ed25519)"
                      : "not a PEM public key (openssl pkey -pubout)",
                 path};
  if (EVP_PKEY_id(k) != EVP_PKEY_ED25519) {
    EVP_PKEY_free(k);
    return Error{"not an Ed25519 key", path};
  }
  return k;
}

Result<EVP_PKEY *> read_pem(const std::string &path, bool priv) {
  auto text =
      HostFs::read_file(path, k_max_key, priv ? "cannot read --key: " : "cannot read --pubkey: ");
  if (!text)
    return text.error();
  return parse_pem(*text, path, priv);
}

} // namespace

Result<SigningKey> SigningKey::load_private(const std::string &host_path) {
  EVP_PKEY *k = TRY(read_pem(host_path, true));
  return SigningKey(k);
}

Result<SigningKey> SigningKey::load_public(const std::string &host_path) {
  EVP_PKEY *k = TRY(read_pem(host_path, false));
  return SigningKey(k);
}

Result<SigningKey> SigningKey::public_from_pem(std::string_view pem, const std::string &name) {
  EVP_PKEY *k = TRY(parse_pem(pem, name, false));
  return SigningKey(k);
}

Result<std::string> encode(const Database &db, const SigningKey *key) {
  std::string o;
  size_t size = k_magic.size() + 4 + 8 + 4 + db.root.size() + 8 + 32 + 6 + 64;
  for (auto &r : db.records)
    size += record_size(r);
  o.reserve(size);
  o.append(k_magic);
  put_int<uint32_t>(o, k_fim_db_version);
  put_int<int64_t>(o, db.created);
  put_str(o, db.root);
  put_int<uint64_t>(o, db.records.size());
  for (auto &r : db.records)
    put_record(o, r);
  o += fim_db_sha256(o);
  o += "SIG";
  if (key == nullptr) {
    put_u8(o, 0);
    put_int<uint16_t>(o, 0);
    return o;
  }
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  unsigned char sig[64];
  size_t len = sizeof sig;
  size_t signed_len = o.size() - 3;
  bool ok = ctx != nullptr &&
            EVP_DigestSignInit(ctx, nullptr, nullptr, nullptr,
                               static_cast<EVP_PKEY *>(key->pkey())) == 1 &&
            EVP_DigestSign(ctx, sig, &len, reinterpret_cast<const unsigned char *>(o.data()),
                           signed_len) == 1;
  EVP_MD_CTX_free(ctx);
  if (!ok || len != sizeof sig)
    return Error{"OpenSSL could not sign the database"};
  put_u8(o, 1);
  put_int<uint16_t>(o, static_cast<uint16_t>(len));
  o.append(reinterpret_cast<char *>(sig), len);
  return o;
}

Result<Database> decode(std::string_view bytes, const std::string &name,
                        const DecodeOptions &options) {
  auto bad = [&](const std::string &why) {
    return Error{"not a valid fim database (" + why + "); it is not trusted", name};
  };
  if (bytes.size() < k_magic.size() || bytes.substr(0, k_magic.size()) != k_magic)
    return bad("no bulwark fim header");
  // The trailer: "SIG" kind u16 length signature, at the end.
  size_t sig_at = 0;
  if (bytes.size() < k_magic.size() + 4 + 8 + 4 + 8 + 32 + 6)
    return bad("truncated");
  size_t tail = bytes.size();
  // Unsigned trailer is 6 bytes, Ed25519's 6 + 64.
  size_t unsigned_at = tail - 6, signed_at = tail >= 70 ? tail - 70 : 0;
  bool is_signed;
  if (bytes.substr(unsigned_at, 3) == "SIG" && bytes[unsigned_at + 3] == 0 &&
      bytes[unsigned_at + 4] == 0 && bytes[unsigned_at + 5] == 0) {
    sig_at = unsigned_at;
    is_signed = false;
  } else if (signed_at > 0 && bytes.substr(signed_at, 3) == "SIG" && bytes[signed_at + 3] == 1 &&
             static_cast<uint8_t>(bytes[signed_at + 4]) == 64 && bytes[signed_at + 5] == 0) {
    sig_at = signed_at;
    is_signed = true;
  } else {
    return bad("truncated, or bytes after its signature");
  }
  std::string_view body = bytes.substr(0, sig_at - 32);
  std::string_view checksum = bytes.substr(sig_at - 32, 32);
  if (fim_db_sha256(body) != checksum)
    return bad("checksum mismatch: truncated or modified");
  if (is_signed) {
    if (options.pubkey == nullptr) {
      if (!options.allow_unsigned)
        return Error{"the database is signed; give --pubkey to verify it (or --allow-unsigned "
                     "to read it unverified)",
                     name};
    } else {
      EVP_MD_CTX *ctx = EVP_MD_CTX_new();
      bool ok =
          ctx != nullptr &&
          EVP_DigestVerifyInit(ctx, nullptr, nullptr, nullptr,
                               static_cast<EVP_PKEY *>(options.pubkey->pkey())) == 1 &&
          EVP_DigestVerify(ctx, reinterpret_cast<const unsigned char *>(bytes.data() + sig_at + 6),
                           64, reinterpret_cast<const unsigned char *>(bytes.data()), sig_at) == 1;
      EVP_MD_CTX_free(ctx);
      if (!ok)
        return Error{"the database's signature does not verify with --pubkey: it was modified or "
                     "signed with another key; it is not trusted",
                     name};
    }
  } else if (!options.allow_unsigned) {
    return Error{"the database is not signed; refusing it (sign it with `fim init --key`, or "
                 "give --allow-unsigned)",
                 name};
  }
  FimDbReader in(body.substr(k_magic.size()));
  Database db;
  db.signed_ = is_signed && options.pubkey != nullptr;
  db.has_signature = is_signed;
  uint32_t version = in.integer<uint32_t>();
  if (version != k_fim_db_version)
    return bad("version " + std::to_string(version) + ", this bulwark reads 1");
  db.created = in.integer<int64_t>();
  db.root = in.str();
  uint64_t count = in.integer<uint64_t>();
  if (in.failed() || count > in.remaining() / 16)
    return bad("record count larger than the file");
  db.records.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    Record r;
    if (!get_record(in, r))
      return bad("record " + std::to_string(i + 1) + " is malformed");
    if (!db.records.empty() && !(db.records.back().path < r.path))
      return bad("records out of order");
    db.records.push_back(std::move(r));
  }
  if (in.remaining() != 0)
    return bad("bytes after the last record");
  return db;
}

} // namespace bulwark::fim
