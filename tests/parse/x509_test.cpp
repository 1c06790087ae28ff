// Certificates and keys through OpenSSL: the dates, key and signature that
// bulwark reads agree with `openssl x509 -noout -dates -text` on the same
// generated files; bad files are errors that name the path.

#include "../support.hpp"
#include "x509_gen.hpp"

#include <bulwark/core/text.hpp>
#include <bulwark/parse/tls_policy.hpp>
#include <bulwark/parse/x509.hpp>

#include <ctime>
#include <gtest/gtest.h>
#include <regex>

using namespace bulwark;
using bulwark::test::CertSpec;
using bulwark::test::make_cert;
using bulwark::test::TempRoot;

namespace {

// "notBefore=Nov 23 14:00:00 2026 GMT" -> epoch seconds.
int64_t openssl_date(const std::string &out, const std::string &field) {
  std::regex re(field + R"(=(\w+)\s+(\d+) (\d+):(\d+):(\d+) (\d+) GMT)");
  std::smatch m;
  if (!std::regex_search(out, m, re))
    return -1;
  static const char *months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                 "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  struct tm tm {};
  for (int i = 0; i < 12; ++i)
    if (m[1] == months[i])
      tm.tm_mon = i;
  tm.tm_mday = std::stoi(m[2]);
  tm.tm_hour = std::stoi(m[3]);
  tm.tm_min = std::stoi(m[4]);
  tm.tm_sec = std::stoi(m[5]);
  tm.tm_year = std::stoi(m[6]) - 1900;
  return timegm(&tm);
}

} // namespace

TEST(X509, AgreesWithOpensslX509) {
  struct Case {
    CertSpec spec;
    const char *key_text; // as `openssl x509 -text` prints it
    const char *sig_text;
  } cases[] = {
      {{"rsa", 2048, -10, 80, "sha256"}, "Public-Key: (2048 bit)", "sha256WithRSAEncryption"},
      {{"rsa", 1024, -200, 400, "sha1"}, "Public-Key: (1024 bit)", "sha1WithRSAEncryption"},
      {{"ec", 256, -1, 30, "sha256"}, "Public-Key: (256 bit)", "ecdsa-with-SHA256"},
      {{"ec", 384, -5, 5, "sha384"}, "Public-Key: (384 bit)", "ecdsa-with-SHA384"},
  };
  for (auto &c : cases) {
    TempRoot r;
    auto g = make_cert(c.spec);
    r.write("/etc/ssl/c.pem", g.cert_pem);
    r.write("/etc/ssl/k.pem", g.key_pem, 0600);
    auto certs = x509::read_certificates(RootFs(r.path()), "/etc/ssl/c.pem");
    ASSERT_TRUE(certs.ok()) << certs.error().to_string();
    ASSERT_EQ(certs->size(), 1u);
    const auto &x = certs->front();
    auto dates = test::run_command("openssl x509 -noout -dates -in " + r.host("/etc/ssl/c.pem"));
    ASSERT_EQ(dates.exit_code, 0);
    EXPECT_EQ(x.not_before, openssl_date(dates.out, "notBefore")) << dates.out;
    EXPECT_EQ(x.not_after, openssl_date(dates.out, "notAfter")) << dates.out;
    auto txt = test::run_command("openssl x509 -noout -text -in " + r.host("/etc/ssl/c.pem"));
    EXPECT_NE(txt.out.find(c.key_text), std::string::npos);
    EXPECT_NE(txt.out.find(std::string("Signature Algorithm: ") + c.sig_text), std::string::npos);
    EXPECT_EQ(x.signature_algorithm, c.sig_text);
    EXPECT_EQ(x.key_bits, c.spec.bits);
    EXPECT_EQ(x.key_type, c.spec.key == "rsa" ? "RSA" : "EC");
    auto fp = test::run_command("openssl x509 -noout -fingerprint -sha256 -in " +
                                r.host("/etc/ssl/c.pem"));
    std::string hex;
    for (char ch : fp.out.substr(fp.out.find('=') + 1))
      if (std::isxdigit(static_cast<unsigned char>(ch)))
        hex += static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    EXPECT_EQ(x.sha256, hex);
    auto k = x509::read_private_key(RootFs(r.path()), "/etc/ssl/k.pem");
    ASSERT_TRUE(k.ok()) << k.error().to_string();
    EXPECT_EQ(k->key_bits, c.spec.bits);
  }
}

TEST(X509, ChainFileAndCombinedKey) {
  auto a = make_cert({"ec", 256, -1, 30});
  auto b = make_cert({"rsa", 2048, -1, 3000});
  auto certs = x509::parse_certificates(a.cert_pem + a.key_pem + b.cert_pem, "/chain.pem");
  ASSERT_TRUE(certs.ok());
  ASSERT_EQ(certs->size(), 2u);
  EXPECT_EQ((*certs)[1].index, 1);
  EXPECT_EQ((*certs)[1].key_type, "RSA");
}

TEST(X509, BadFilesAreErrorsWithThePath) {
  auto g = make_cert({});
  auto not_pem =
      x509::parse_certificates(std::string("\x30\x82\x01\x0a garbage"), "/etc/ssl/der.crt");
  ASSERT_FALSE(not_pem.ok());
  EXPECT_EQ(not_pem.error().path, "/etc/ssl/der.crt");
  EXPECT_NE(not_pem.error().message.find("not a PEM"), std::string::npos);

  auto truncated = x509::parse_certificates(g.cert_pem.substr(0, g.cert_pem.size() / 2), "/t.pem");
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.error().path, "/t.pem");

  auto second_cut = x509::parse_certificates(g.cert_pem + g.cert_pem.substr(0, 200), "/t2.pem");
  ASSERT_FALSE(second_cut.ok());
  EXPECT_NE(second_cut.error().message.find("certificate 2"), std::string::npos);

  std::string key = g.key_pem;
  auto tk = x509::parse_private_key(key.substr(0, key.size() / 2) + "\n-----END PRIVATE KEY-----\n",
                                    "/etc/ssl/private/k.pem");
  ASSERT_FALSE(tk.ok());
  EXPECT_EQ(tk.error().path, "/etc/ssl/private/k.pem");
  EXPECT_NE(tk.error().message.find("truncated"), std::string::npos);

  auto enc = x509::parse_private_key("-----BEGIN ENCRYPTED PRIVATE KEY-----\nMIIB\n"
                                     "-----END ENCRYPTED PRIVATE KEY-----\n",
                                     "/e.pem");
  ASSERT_TRUE(enc.ok());
  EXPECT_TRUE(enc->encrypted);

  static const char k_nul[] = "-----BEGIN CERTIFICATE-----\n\0\0\0\n-----END CERTIFICATE-----\n";
  std::string nul(k_nul, sizeof k_nul - 1);
  EXPECT_FALSE(x509::parse_certificates(nul, "/n.pem").ok());
}

TEST(X509, Rules) {
  x509::Limits lim;
  int64_t now = std::time(nullptr);
  x509::Certificate c;
  c.not_before = now - 100 * 86400;
  c.not_after = now + 10 * 86400;
  EXPECT_NE(x509::too_old(c, now, lim), "");
  EXPECT_NE(x509::too_long_lived(c, lim), "");
  EXPECT_NE(x509::expiring(c, now, lim), "");
  c.not_before = now - 10 * 86400;
  c.not_after = now + 70 * 86400;
  EXPECT_EQ(x509::too_old(c, now, lim), "");
  EXPECT_EQ(x509::too_long_lived(c, lim), "");
  EXPECT_EQ(x509::expiring(c, now, lim), "");
  c.not_after = now - 1;
  EXPECT_NE(x509::expiring(c, now, lim).find("expired"), std::string::npos);
  EXPECT_NE(x509::weak_key("RSA", 1024, lim), "");
  EXPECT_EQ(x509::weak_key("RSA", 2048, lim), "");
  EXPECT_NE(x509::weak_key("EC", 224, lim), "");
  EXPECT_EQ(x509::weak_key("EC", 256, lim), "");
}

TEST(TlsPolicy, CipherStringsExpandedByOpenssl) {
  auto def = tls::expand_cipher_string("HIGH:!aNULL:!MD5");
  ASSERT_TRUE(def.ok());
  bool has_cbc = false, has_rsa_kx = false;
  for (auto &c : *def) {
    EXPECT_FALSE(c.tls13) << c.name;
    has_cbc = has_cbc || (!c.aead && c.broken.empty());
    has_rsa_kx = has_rsa_kx || !c.forward_secret;
  }
  EXPECT_TRUE(has_cbc);
  EXPECT_TRUE(has_rsa_kx);
  // The same list `openssl ciphers` prints, in the same order.
  auto cli = test::run_command("openssl ciphers -s -tls1_2 'HIGH:!aNULL:!MD5'");
  std::vector<std::string> names;
  for (auto &c : *def)
    names.push_back(c.name);
  std::string joined;
  for (auto &n : names)
    joined += (joined.empty() ? "" : ":") + n;
  std::string out = cli.out.substr(0, cli.out.find('\n'));
  // `openssl ciphers -s -tls1_2` lists TLS 1.3 suites first; drop them.
  std::string only12;
  for (auto &n : text::split(out, ':'))
    if (n.rfind("TLS_", 0) != 0)
      only12 += (only12.empty() ? "" : ":") + n;
  EXPECT_EQ(joined, only12);

  const auto &g = tls::mozilla();
  EXPECT_EQ(g.version, "5.7");
  auto inter =
      tls::expand_cipher_string("ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES256-GCM-SHA384:"
                                "DHE-RSA-CHACHA20-POLY1305");
  ASSERT_TRUE(inter.ok());
  for (auto &c : *inter)
    EXPECT_EQ(tls::weakness(c, g), "") << c.name << " (" << c.iana << ")";
  // Debian's OpenSSL 3 is built without 3DES and RC4 suites: a string that
  // names only those selects nothing (the daemon would not start).
  EXPECT_FALSE(tls::expand_cipher_string("DES-CBC3-SHA:RC4-SHA").ok());
  auto weak = tls::expand_cipher_string(
      "NULL-SHA256:AES128-SHA:ECDHE-RSA-AES128-SHA:ADH-AES128-GCM-SHA256:@SECLEVEL=0");
  ASSERT_TRUE(weak.ok());
  std::map<std::string, std::string> why;
  for (auto &c : *weak)
    why[c.name] = tls::weakness(c, g);
  EXPECT_EQ(why["NULL-SHA256"], "NULL encryption");
  EXPECT_EQ(why["AES128-SHA"], "no forward secrecy");
  EXPECT_EQ(why["ECDHE-RSA-AES128-SHA"], "not AEAD (CBC with a MAC)");
  EXPECT_EQ(why["ADH-AES128-GCM-SHA256"], "anonymous (no authentication)");
  auto ccm = tls::expand_cipher_string("ECDHE-ECDSA-AES256-CCM");
  ASSERT_TRUE(ccm.ok());
  EXPECT_TRUE(tls::weakness_is_advice(ccm->front(), g));
  EXPECT_FALSE(tls::expand_cipher_string("NOTACIPHER").ok());
  auto s13 = tls::expand_ciphersuites("TLS_AES_128_CCM_8_SHA256");
  ASSERT_TRUE(s13.ok());
  ASSERT_EQ(s13->size(), 1u);
  EXPECT_TRUE(tls::weakness_is_advice(s13->front(), g));
  EXPECT_EQ(tls::describe_cipher("TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256").name,
            "ECDHE-RSA-AES128-GCM-SHA256");
}
