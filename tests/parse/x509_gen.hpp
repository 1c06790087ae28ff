#pragma once
// Test helper: self-signed certificates made with the OpenSSL API, with the
// validity window, key and digest a test asks for (`openssl req` cannot
// back-date notBefore).

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include <cstdlib>
#include <string>

namespace bulwark::test {

struct GenCert {
  std::string cert_pem;
  std::string key_pem;
};

struct CertSpec {
  std::string key = "rsa";   // "rsa" or "ec"
  int bits = 2048;           // RSA bits, or EC curve size (256, 384)
  long not_before_days = -1; // relative to now
  long not_after_days = 60;
  std::string digest = "sha256";
  std::string cn = "test.example";
};

inline GenCert make_cert(const CertSpec &s) {
  EVP_PKEY *key = nullptr;
  if (s.key == "rsa")
    key = EVP_RSA_gen(static_cast<unsigned>(s.bits));
  else
    key = EVP_EC_gen(s.bits == 384 ? "P-384" : s.bits == 224 ? "P-224" : "P-256");
  if (!key)
    std::abort();
  X509 *x = X509_new();
  X509_set_version(x, 2);
  ASN1_INTEGER_set(X509_get_serialNumber(x), 4242);
  X509_gmtime_adj(X509_getm_notBefore(x), s.not_before_days * 86400L);
  X509_gmtime_adj(X509_getm_notAfter(x), s.not_after_days * 86400L);
  X509_set_pubkey(x, key);
  X509_NAME *name = X509_get_subject_name(x);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char *>(s.cn.c_str()), -1, -1, 0);
  X509_set_issuer_name(x, name);
  const EVP_MD *md = s.digest == "sha1"     ? EVP_sha1()
                     : s.digest == "sha384" ? EVP_sha384()
                                            : EVP_sha256();
  if (X509_sign(x, key, md) == 0)
    std::abort();
  GenCert g;
  BIO *b = BIO_new(BIO_s_mem());
  PEM_write_bio_X509(b, x);
  char *data = nullptr;
  long len = BIO_get_mem_data(b, &data);
  g.cert_pem.assign(data, static_cast<size_t>(len));
  BIO_free(b);
  b = BIO_new(BIO_s_mem());
  PEM_write_bio_PrivateKey(b, key, nullptr, nullptr, 0, nullptr, nullptr);
  len = BIO_get_mem_data(b, &data);
  g.key_pem.assign(data, static_cast<size_t>(len));
  BIO_free(b);
  X509_free(x);
  EVP_PKEY_free(key);
  return g;
}

} // namespace bulwark::test
