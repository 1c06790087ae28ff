// PEM certificates and keys through OpenSSL 3 (see x509.hpp). The text comes
// from RootFs; OpenSSL only ever sees memory BIOs, never a target path.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/x509.hpp>

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <ctime>
#include <memory>

namespace bulwark::x509 {

namespace {

struct BioFree {
  void operator()(BIO *b) const { BIO_free(b); }
};
struct X509Free {
  void operator()(X509 *x) const { X509_free(x); }
};
struct KeyFree {
  void operator()(EVP_PKEY *k) const { EVP_PKEY_free(k); }
};

std::string ssl_error() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0)
    return "undecodable";
  const char *r = ERR_reason_error_string(e);
  return r ? r : "undecodable";
}

// Never prompt for a passphrase: an encrypted key stays encrypted.
int no_passphrase(char *, int, int, void *) {
  return -1;
}

std::string name_of(const X509_NAME *n) {
  std::unique_ptr<BIO, BioFree> b(BIO_new(BIO_s_mem()));
  X509_NAME_print_ex(b.get(), n, 0, XN_FLAG_RFC2253);
  char *data = nullptr;
  long len = BIO_get_mem_data(b.get(), &data);
  return text::printable(std::string(data, len > 0 ? len : 0), 200);
}

int64_t to_epoch(const ASN1_TIME *t) {
  struct tm tm {};
  if (!t || ASN1_TIME_to_tm(t, &tm) != 1)
    return 0;
  return static_cast<int64_t>(timegm(&tm));
}

void key_info(EVP_PKEY *k, std::string &type, int &bits) {
  int id = EVP_PKEY_get_base_id(k);
  switch (id) {
  case EVP_PKEY_RSA:
  case EVP_PKEY_RSA_PSS: type = "RSA"; break;
  case EVP_PKEY_EC: type = "EC"; break;
  case EVP_PKEY_ED25519: type = "ED25519"; break;
  case EVP_PKEY_ED448: type = "ED448"; break;
  case EVP_PKEY_DSA: type = "DSA"; break;
  default: type = OBJ_nid2sn(id) ? OBJ_nid2sn(id) : "unknown";
  }
  bits = EVP_PKEY_get_bits(k);
}

Certificate x509_describe_certificate(X509 *x, const std::string &path, int index) {
  Certificate c;
  c.path = path;
  c.index = index;
  c.subject = name_of(X509_get_subject_name(x));
  c.issuer = name_of(X509_get_issuer_name(x));
  c.not_before = to_epoch(X509_get0_notBefore(x));
  c.not_after = to_epoch(X509_get0_notAfter(x));
  int sig_nid = X509_get_signature_nid(x);
  c.signature_algorithm = OBJ_nid2ln(sig_nid) ? OBJ_nid2ln(sig_nid) : "unknown";
  int md_nid = NID_undef, pk_nid = NID_undef;
  if (OBJ_find_sigid_algs(sig_nid, &md_nid, &pk_nid) && md_nid != NID_undef)
    c.signature_hash = text::lower(OBJ_nid2sn(md_nid) ? OBJ_nid2sn(md_nid) : "");
  for (auto &ch : c.signature_hash)
    ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  if (EVP_PKEY *k = X509_get0_pubkey(x))
    key_info(k, c.key_type, c.key_bits);
  c.self_signed = X509_check_issued(x, x) == X509_V_OK;
  c.is_ca = X509_check_ca(x) > 0;
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int n = 0;
  if (X509_digest(x, EVP_sha256(), md, &n) == 1) {
    static const char *hex = "0123456789abcdef";
    for (unsigned i = 0; i < n; ++i) {
      c.sha256 += hex[md[i] >> 4];
      c.sha256 += hex[md[i] & 15];
    }
  }
  return c;
}

int64_t days(int64_t seconds) {
  return seconds / 86400;
}

} // namespace

Result<std::vector<Certificate>> parse_certificates(std::string_view pem, const std::string &path) {
  if (pem.find("-----BEGIN ") == std::string_view::npos)
    return Error{"not a PEM file (no \"-----BEGIN\" line; DER or something else)", path};
  if (pem.size() > static_cast<size_t>(INT32_MAX))
    return Error{"file too large", path};
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::vector<Certificate> out;
  for (int i = 0; i < 64; ++i) {
    std::unique_ptr<X509, X509Free> x(
        PEM_read_bio_X509(bio.get(), nullptr, no_passphrase, nullptr));
    if (!x) {
      unsigned long e = ERR_peek_last_error();
      if (ERR_GET_REASON(e) == PEM_R_NO_START_LINE && !out.empty()) {
        ERR_clear_error();
        break;
      }
      std::string why = ssl_error();
      if (out.empty())
        return Error{"no certificate could be read (" + why + ")", path};
      return Error{"certificate " + std::to_string(out.size() + 1) +
                       " in the file does not decode (" + why + "; truncated?)",
                   path};
    }
    out.push_back(x509_describe_certificate(x.get(), path, i));
  }
  return out;
}

Result<std::vector<Certificate>> read_certificates(const RootFs &fs, const std::string &path) {
  auto text = fs.read_file(path, 16 * 1024 * 1024);
  if (!text)
    return text.error();
  return parse_certificates(*text, path);
}

Result<PrivateKey> parse_private_key(std::string_view pem, const std::string &path) {
  if (pem.find("-----BEGIN ") == std::string_view::npos)
    return Error{"not a PEM file (no \"-----BEGIN\" line)", path};
  if (pem.size() > static_cast<size_t>(INT32_MAX))
    return Error{"file too large", path};
  PrivateKey k;
  k.path = path;
  if (pem.find("-----BEGIN ENCRYPTED PRIVATE KEY-----") != std::string_view::npos ||
      pem.find("Proc-Type: 4,ENCRYPTED") != std::string_view::npos) {
    k.encrypted = true;
    return k;
  }
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())));
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(bio.get(), nullptr, no_passphrase, nullptr));
  if (!key)
    return Error{"the private key does not decode (" + ssl_error() + "; truncated?)", path};
  key_info(key.get(), k.key_type, k.key_bits);
  return k;
}

Result<PrivateKey> read_private_key(const RootFs &fs, const std::string &path) {
  auto text = fs.read_file(path, 1024 * 1024);
  if (!text)
    return text.error();
  return parse_private_key(*text, path);
}

Result<Crl> parse_crl(std::string_view data, const std::string &path) {
  if (data.size() > static_cast<size_t>(INT32_MAX))
    return Error{"file too large", path};
  ERR_clear_error();
  std::unique_ptr<BIO, BioFree> bio(BIO_new_mem_buf(data.data(), static_cast<int>(data.size())));
  X509_CRL *raw = nullptr;
  if (data.find("-----BEGIN ") != std::string_view::npos) {
    raw = PEM_read_bio_X509_CRL(bio.get(), nullptr, no_passphrase, nullptr);
  } else {
    const auto *p = reinterpret_cast<const unsigned char *>(data.data());
    raw = d2i_X509_CRL(nullptr, &p, static_cast<long>(data.size()));
  }
  if (!raw)
    return Error{"not a certificate revocation list (" + ssl_error() + "; truncated?)", path};
  std::unique_ptr<X509_CRL, decltype(&X509_CRL_free)> crl(raw, X509_CRL_free);
  Crl c;
  c.path = path;
  c.issuer = name_of(X509_CRL_get_issuer(crl.get()));
  c.last_update = to_epoch(X509_CRL_get0_lastUpdate(crl.get()));
  c.next_update = to_epoch(X509_CRL_get0_nextUpdate(crl.get()));
  STACK_OF(X509_REVOKED) *rev = X509_CRL_get_REVOKED(crl.get());
  c.revoked = rev ? sk_X509_REVOKED_num(rev) : 0;
  return c;
}

Result<Crl> read_crl(const RootFs &fs, const std::string &path) {
  auto text = fs.read_file(path, 64 * 1024 * 1024);
  if (!text)
    return text.error();
  return parse_crl(*text, path);
}

std::string format_time(int64_t t) {
  time_t tt = static_cast<time_t>(t);
  struct tm tm {};
  gmtime_r(&tt, &tm);
  char buf[40];
  std::strftime(buf, sizeof buf, "%Y-%m-%d %H:%M:%S UTC", &tm);
  return buf;
}

std::string too_old(const Certificate &c, int64_t now, const Limits &l) {
  int64_t age = days(now - c.not_before);
  if (age > l.max_age_days)
    return "issued " + std::to_string(age) + " days ago (" + format_time(c.not_before) +
           "), more than " + std::to_string(l.max_age_days);
  return "";
}

std::string too_long_lived(const Certificate &c, const Limits &l) {
  int64_t life = days(c.not_after - c.not_before);
  if (life > l.max_lifetime_days)
    return "valid for " + std::to_string(life) + " days, so it cannot be on a " +
           std::to_string(l.max_lifetime_days) + "-day rotation";
  return "";
}

std::string expiring(const Certificate &c, int64_t now, const Limits &l) {
  if (c.not_after <= now)
    return "expired on " + format_time(c.not_after);
  if (c.not_before > now)
    return "not valid before " + format_time(c.not_before);
  int64_t left = days(c.not_after - now);
  if (left < l.expiry_days)
    return "expires in " + std::to_string(left) + " days (" + format_time(c.not_after) + ")";
  return "";
}

std::string weak_key(const std::string &type, int bits, const Limits &l) {
  if (type == "RSA" && bits < l.rsa_min_bits)
    return "RSA " + std::to_string(bits) + " bits (< " + std::to_string(l.rsa_min_bits) + ")";
  if (type == "EC" && bits < l.ec_min_bits)
    return "EC " + std::to_string(bits) + " bits (< " + std::to_string(l.ec_min_bits) + ")";
  if (type == "DSA")
    return "DSA " + std::to_string(bits) + " bits (DSA is obsolete in TLS)";
  return "";
}

std::string weak_signature(const Certificate &c) {
  // A self-signed root in a chain file is trusted for its key, not its
  // signature; a leaf's signature always counts.
  if (c.index > 0 && c.self_signed && c.is_ca)
    return "";
  if (c.signature_hash == "SHA1" || c.signature_hash == "MD5" || c.signature_hash == "MD4" ||
      c.signature_hash == "MD2")
    return "signed with " + c.signature_algorithm;
  return "";
}

} // namespace bulwark::x509
