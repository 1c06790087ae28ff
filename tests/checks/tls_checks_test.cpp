// tls.* on offline roots: each check passes and fails on real nginx/Apache
// configurations and generated certificates, naming the deciding file and
// line (line 0 for defaults and absences).

#include "../audit_helper.hpp"
#include "../parse/x509_gen.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace bulwark;
using bulwark::test::CertSpec;
using bulwark::test::make_cert;
using bulwark::test::TempRoot;

namespace {

test::Findings audit(const TempRoot &r, const std::string &only = "tls") {
  return test::audit_only(r.path(), {only});
}

const char *k_good_server = R"(http {
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES128-GCM-SHA256:DHE-RSA-AES256-GCM-SHA384:DHE-RSA-CHACHA20-POLY1305;
  server {
    listen 443 ssl;
    server_name www.example;
    ssl_certificate certs/www.pem;
    ssl_certificate_key certs/www.key;
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains; preload" always;
    location / { }
  }
}
)";

void write_good(const TempRoot &r, const CertSpec &spec = {}) {
  auto g = make_cert(spec);
  r.write("/etc/nginx/nginx.conf", k_good_server);
  r.write("/etc/nginx/certs/www.pem", g.cert_pem);
  r.write("/etc/nginx/certs/www.key", g.key_pem, 0600);
}

} // namespace

TEST(TlsChecks, NotApplicableWithoutWebServer) {
  TempRoot r;
  r.mkdir("/etc");
  auto f = audit(r);
  for (const char *id : {"tls.min-version", "tls.strong-ciphers", "tls.hsts", "tls.cert-expiry"}) {
    ASSERT_EQ(f.each(id).size(), 1u) << id;
    EXPECT_EQ(f.one(id).status, Status::not_applicable) << id;
  }
}

TEST(TlsChecks, HardenedNginxPasses) {
  TempRoot r;
  write_good(r);
  auto f = audit(r);
  for (const char *id : {"tls.min-version", "tls.strong-ciphers", "tls.hsts", "tls.cert-rotation",
                         "tls.cert-expiry", "tls.key-strength"}) {
    ASSERT_FALSE(f.each(id).empty()) << id;
    for (auto &x : f.each(id))
      EXPECT_EQ(x.status, Status::pass) << id << ": " << x.message;
  }
  EXPECT_EQ(f.one("tls.min-version").evidence[0].path, "/etc/nginx/nginx.conf");
  EXPECT_EQ(f.one("tls.min-version").evidence[0].line, 2);
  EXPECT_EQ(f.one("tls.strong-ciphers").evidence[0].line, 3);
  EXPECT_EQ(f.one("tls.hsts").evidence[0].line, 9);
}

TEST(TlsChecks, DebianDefaultNginxWithTlsFails) {
  TempRoot r;
  auto g = make_cert({});
  // Debian's nginx.conf sets ssl_protocols with TLSv1 in http.
  r.write("/etc/nginx/nginx.conf",
          "events {}\nhttp {\n\tssl_protocols TLSv1 TLSv1.1 TLSv1.2 TLSv1.3; # Dropping SSLv3, "
          "ref: POODLE\n"
          "\tssl_prefer_server_ciphers on;\n\tinclude /etc/nginx/sites-enabled/*;\n}\n");
  r.write("/etc/nginx/sites-enabled/default",
          "server {\n\tlisten 443 ssl default_server;\n\tssl_certificate /etc/ssl/c.pem;\n"
          "\tssl_certificate_key /etc/ssl/k.pem;\n}\n");
  r.write("/etc/ssl/c.pem", g.cert_pem);
  r.write("/etc/ssl/k.pem", g.key_pem, 0600);
  auto f = audit(r);
  ASSERT_EQ(f.each("tls.min-version").size(), 1u);
  // Listed, but OpenSSL 3 at Debian's security level 2 refuses them: warn.
  auto &mv = f.one("tls.min-version");
  EXPECT_EQ(mv.status, Status::warn) << mv.message;
  EXPECT_EQ(mv.evidence[0].path, "/etc/nginx/nginx.conf");
  EXPECT_EQ(mv.evidence[0].line, 3);
  EXPECT_NE(mv.message.find("TLSv1, TLSv1.1"), std::string::npos) << mv.message;
  EXPECT_NE(mv.message.find("security level 2"), std::string::npos) << mv.message;
  // ssl_ciphers unset: nginx's HIGH:!aNULL:!MD5 has CBC and static-RSA suites.
  auto &sc = f.one("tls.strong-ciphers");
  EXPECT_EQ(sc.status, Status::fail);
  EXPECT_EQ(sc.evidence[0].line, 0);
  EXPECT_NE(sc.evidence[0].found.find("nginx default"), std::string::npos);
  EXPECT_NE(sc.message.find("no forward secrecy"), std::string::npos) << sc.message;
  auto &h = f.one("tls.hsts");
  EXPECT_EQ(h.status, Status::fail);
  EXPECT_EQ(h.evidence[0].path, "/etc/nginx/sites-enabled/default");
  EXPECT_EQ(h.evidence[0].line, 1);
}

TEST(TlsChecks, SeclevelZeroLetsOldVersionsThrough) {
  TempRoot r;
  write_good(r);
  std::string conf = k_good_server;
  conf.replace(conf.find("TLSv1.2 TLSv1.3"), 15, "TLSv1.1 TLSv1.2");
  conf.replace(conf.find("DHE-RSA-CHACHA20-POLY1305;"), 26,
               "DHE-RSA-CHACHA20-POLY1305:@SECLEVEL=0;");
  r.write("/etc/nginx/nginx.conf", conf);
  auto findings = audit(r); // the findings must outlive the reference
  auto &mv = findings.one("tls.min-version");
  EXPECT_EQ(mv.status, Status::fail) << mv.message;
  EXPECT_EQ(mv.evidence[0].line, 2);
  EXPECT_NE(mv.message.find("@SECLEVEL=0"), std::string::npos) << mv.message;
}

TEST(TlsChecks, LocationAddHeaderDropsHsts) {
  TempRoot r;
  write_good(r);
  std::string conf = k_good_server;
  conf.replace(conf.find("location / { }"), 14,
               "location /api {\n      add_header X-Frame-Options DENY;\n    }");
  r.write("/etc/nginx/nginx.conf", conf);
  auto f = audit(r);
  auto &h = f.one("tls.hsts");
  ASSERT_EQ(h.status, Status::fail) << h.message;
  ASSERT_EQ(h.evidence.size(), 1u);
  EXPECT_EQ(h.evidence[0].line, 10);
  EXPECT_NE(h.evidence[0].found.find("/etc/nginx/nginx.conf:9"), std::string::npos)
      << h.evidence[0].found;
  EXPECT_NE(h.message.find("location /api"), std::string::npos);
}

TEST(TlsChecks, HstsValues) {
  struct Case {
    const char *header;
    Status expected;
  } cases[] = {
      {"\"max-age=31536000; includeSubDomains; preload\" always", Status::pass},
      {"\"max-age=31536000; includeSubDomains; preload\"", Status::warn},
      {"\"max-age=300; includeSubDomains; preload\" always", Status::fail},
      {"\"max-age=63072000; includeSubDomains\" always", Status::fail},
      {"'max-age=\"63072000\"; INCLUDESUBDOMAINS; Preload' always", Status::pass},
  };
  for (auto &c : cases) {
    TempRoot r;
    write_good(r);
    std::string conf = k_good_server;
    size_t at = conf.find("\"max-age=63072000");
    conf.replace(at, conf.find(";\n", at) - at, c.header);
    r.write("/etc/nginx/nginx.conf", conf);
    auto f = audit(r);
    EXPECT_EQ(f.one("tls.hsts").status, c.expected)
        << c.header << ": " << f.one("tls.hsts").message;
    EXPECT_EQ(f.one("tls.hsts").evidence[0].line, 9);
  }
}

TEST(TlsChecks, WeakCiphersNamedAndStrongOutsideListWarns) {
  TempRoot r;
  write_good(r);
  std::string conf = k_good_server;
  size_t at = conf.find("ssl_ciphers ") + 12;
  std::string strong_outside = conf;
  strong_outside.replace(at, conf.find(';', at) - at,
                         "ECDHE-ECDSA-AES256-CCM:ECDHE-RSA-AES128-GCM-SHA256");
  r.write("/etc/nginx/nginx.conf", strong_outside);
  EXPECT_EQ(audit(r).each("tls.strong-ciphers").at(0).status, Status::warn);
  std::string weak = conf;
  weak.replace(at, conf.find(';', at) - at, "ECDHE-RSA-AES128-GCM-SHA256:NULL-SHA256:@SECLEVEL=0");
  r.write("/etc/nginx/nginx.conf", weak);
  auto f = audit(r).each("tls.strong-ciphers").at(0);
  EXPECT_EQ(f.status, Status::fail);
  EXPECT_NE(f.message.find("NULL encryption: NULL-SHA256"), std::string::npos) << f.message;
  EXPECT_EQ(f.evidence[0].line, 3);
  std::string broken = conf;
  broken.replace(at, conf.find(';', at) - at, "NOSUCHCIPHER");
  r.write("/etc/nginx/nginx.conf", broken);
  EXPECT_EQ(audit(r).each("tls.strong-ciphers").at(0).status, Status::error);
}

TEST(TlsChecks, TlsOnlyThirteenIgnoresTheTwelveList) {
  TempRoot r;
  write_good(r);
  std::string conf = k_good_server;
  conf.replace(conf.find("TLSv1.2 TLSv1.3"), 15, "TLSv1.3");
  conf.replace(conf.find("ssl_ciphers ") + 12,
               conf.find(';', conf.find("ssl_ciphers ")) - conf.find("ssl_ciphers ") - 12,
               "ALL:@SECLEVEL=0");
  r.write("/etc/nginx/nginx.conf", conf);
  EXPECT_EQ(audit(r).each("tls.strong-ciphers").at(0).status, Status::pass);
}

TEST(TlsChecks, ApacheDefaultsFail) {
  TempRoot r;
  r.write("/etc/apache2/apache2.conf", "IncludeOptional sites-enabled/*.conf\n");
  r.write("/etc/apache2/sites-enabled/s.conf",
          "<VirtualHost *:443>\nServerName a\nSSLEngine on\n</VirtualHost>\n");
  auto f = audit(r);
  auto &mv = f.one("tls.min-version");
  EXPECT_EQ(mv.status, Status::warn);
  EXPECT_EQ(mv.evidence[0].path, "/etc/apache2/apache2.conf");
  EXPECT_EQ(mv.evidence[0].line, 0);
  EXPECT_NE(mv.evidence[0].found.find("apache default"), std::string::npos);
  EXPECT_EQ(f.one("tls.hsts").status, Status::fail);
}

TEST(TlsChecks, CertificateRules) {
  struct Case {
    CertSpec spec;
    Status rotation, expiry, key;
  } cases[] = {
      {{"ec", 256, -10, 70}, Status::pass, Status::pass, Status::pass},
      {{"ec", 256, -100, 200}, Status::fail, Status::pass, Status::pass},
      {{"rsa", 2048, -10, 355}, Status::warn, Status::pass, Status::pass},
      {{"rsa", 2048, -80, 5}, Status::pass, Status::fail, Status::pass},
      {{"rsa", 2048, -89, -1}, Status::pass, Status::fail, Status::pass},
      {{"rsa", 1024, -1, 60}, Status::pass, Status::pass, Status::fail},
      {{"rsa", 2048, -1, 60, "sha1"}, Status::pass, Status::pass, Status::fail},
      {{"ec", 224, -1, 60}, Status::pass, Status::pass, Status::fail},
  };
  for (auto &c : cases) {
    TempRoot r;
    write_good(r, c.spec);
    auto f = audit(r);
    std::string label = c.spec.key + std::to_string(c.spec.bits) + " " +
                        std::to_string(c.spec.not_before_days) + ".." +
                        std::to_string(c.spec.not_after_days) + " " + c.spec.digest;
    ASSERT_EQ(f.each("tls.cert-rotation").size(), 1u) << label;
    EXPECT_EQ(f.one("tls.cert-rotation").status, c.rotation)
        << label << f.one("tls.cert-rotation").message;
    EXPECT_EQ(f.one("tls.cert-rotation").evidence[0].path, "/etc/nginx/certs/www.pem");
    EXPECT_NE(f.one("tls.cert-rotation").evidence[0].context.find("/etc/nginx/nginx.conf:7"),
              std::string::npos);
    EXPECT_EQ(f.one("tls.cert-expiry").status, c.expiry)
        << label << f.one("tls.cert-expiry").message;
    Status key = Status::pass;
    for (auto &k : f.each("tls.key-strength"))
      if (k.status == Status::fail)
        key = Status::fail;
    EXPECT_EQ(key, c.key) << label;
  }
}

TEST(TlsChecks, LetsencryptLiveAndBadFiles) {
  TempRoot r;
  auto g = make_cert({"ec", 256, -100, -10});
  r.write("/etc/letsencrypt/archive/ex/fullchain1.pem", g.cert_pem);
  r.write("/etc/letsencrypt/archive/ex/privkey1.pem", g.key_pem, 0600);
  r.symlink("../../archive/ex/fullchain1.pem", "/etc/letsencrypt/live/ex/fullchain.pem");
  r.symlink("../../archive/ex/privkey1.pem", "/etc/letsencrypt/live/ex/privkey.pem");
  r.write("/etc/letsencrypt/live/bad/fullchain.pem", "this is not PEM\n");
  r.write("/etc/letsencrypt/live/bad/privkey.pem", g.key_pem.substr(0, 80));
  auto f = audit(r);
  bool expired = false, not_pem = false, bad_key = false;
  for (auto &x : f.each("tls.cert-expiry")) {
    expired = expired ||
              (x.status == Status::fail && x.subject == "/etc/letsencrypt/live/ex/fullchain.pem" &&
               x.message.find("expired") != std::string::npos);
    not_pem = not_pem ||
              (x.status == Status::error && x.subject == "/etc/letsencrypt/live/bad/fullchain.pem");
  }
  for (auto &x : f.each("tls.key-strength"))
    bad_key = bad_key || (x.status == Status::error &&
                          x.evidence[0].path == "/etc/letsencrypt/live/bad/privkey.pem");
  EXPECT_TRUE(expired);
  EXPECT_TRUE(not_pem);
  EXPECT_TRUE(bad_key);
}

TEST(TlsChecks, ParseErrorsAreReportedAndTheRestGoesOn) {
  TempRoot r;
  write_good(r);
  r.write("/etc/nginx/nginx.conf", std::string(k_good_server) + "include broken.conf;\n");
  r.write("/etc/nginx/broken.conf", "server {\n  listen 8443 ssl\n");
  auto f = audit(r);
  bool err = false, pass = false;
  for (auto &x : f.each("tls.min-version")) {
    err = err || (x.status == Status::error && x.evidence[0].path == "/etc/nginx/broken.conf");
    pass = pass || x.status == Status::pass;
  }
  EXPECT_TRUE(err);
  EXPECT_TRUE(pass);
}

TEST(TlsChecks, FactsCarryFileAndLine) {
  TempRoot r;
  write_good(r);
  RootFs fs(r.path());
  Context ctx(fs);
  auto j = facts_tls(ctx);
  ASSERT_EQ(j["endpoints"].size(), 1u);
  EXPECT_EQ(j["endpoints"][0]["protocols"]["at"], "/etc/nginx/nginx.conf:2");
  EXPECT_EQ(j["files"].size(), 2u);
  EXPECT_EQ(j["mozilla_guideline"]["version"], "5.7");
}

// The same hardened server inside a compose service of the official nginx
// image: every tls.* check judges it under "project/service", the mounted
// certificate and key are read from the bind mount's host files, and a
// certificate in a named volume (not readable offline) is an error.
TEST(TlsChecks, NginxInsideAComposeServiceIsJudgedWithItsMountedFiles) {
  TempRoot r;
  auto g = make_cert({});
  r.write("/srv/shop/nginx/nginx.conf", std::string("events {}\n") + k_good_server);
  r.write("/srv/shop/tls/www.pem", g.cert_pem);
  r.write("/srv/shop/tls/www.key", g.key_pem, 0600);
  r.write("/srv/shop/compose.yaml", "services:\n"
                                    "  proxy:\n"
                                    "    image: nginx:1.27-alpine\n"
                                    "    ports: [\"443:443\"]\n"
                                    "    volumes:\n"
                                    "      - ./nginx/nginx.conf:/etc/nginx/nginx.conf:ro\n"
                                    "      - ./tls:/etc/nginx/certs:ro\n"
                                    "  other:\n"
                                    "    image: nginx\n"
                                    "    volumes:\n"
                                    "      - ./other.conf:/etc/nginx/conf.d/default.conf\n"
                                    "      - certs:/etc/ssl/private\n"
                                    "volumes:\n"
                                    "  certs:\n");
  r.write("/srv/shop/other.conf", "server {\n  listen 443 ssl;\n"
                                  "  ssl_certificate /etc/ssl/private/cert.pem;\n"
                                  "  ssl_certificate_key /etc/ssl/private/key.pem;\n}\n");
  auto f = audit(r);
  for (const char *id : {"tls.min-version", "tls.strong-ciphers", "tls.hsts", "tls.cert-rotation",
                         "tls.cert-expiry"}) {
    const Finding &x = f.get(id, "shop/proxy");
    EXPECT_EQ(x.status, Status::pass) << id << ": " << x.message;
  }
  // key-strength judges the certificate's chain and the key file apart.
  int keys = 0;
  for (const Finding *x : f.of("tls.key-strength"))
    if (x->subject == "shop/proxy") {
      EXPECT_EQ(x->status, Status::pass) << x->message;
      ++keys;
    }
  EXPECT_EQ(keys, 2);
  const Finding &exp = f.get("tls.cert-expiry", "shop/proxy");
  ASSERT_FALSE(exp.evidence.empty());
  EXPECT_EQ(exp.evidence[0].path, "/srv/shop/tls/www.pem");
  EXPECT_EQ(f.get("tls.min-version", "shop/proxy").evidence[0].path, "/srv/shop/nginx/nginx.conf");
  // The second service's defaults: nginx's ssl_ciphers (HIGH:!aNULL:!MD5)
  // fails, cited at the image line; its certificate cannot be read.
  const Finding &weak = f.get("tls.strong-ciphers", "shop/other");
  EXPECT_EQ(weak.status, Status::fail) << weak.message;
  EXPECT_EQ(weak.evidence[0].path, "/srv/shop/compose.yaml");
  EXPECT_EQ(weak.evidence[0].line, 9);
  bool unreadable = false;
  for (const Finding *x : f.of("tls.cert-expiry"))
    if (x->subject == "shop/other") {
      EXPECT_EQ(x->status, Status::error);
      EXPECT_NE(x->message.find("named volume"), std::string::npos) << x->message;
      unreadable = true;
    }
  EXPECT_TRUE(unreadable);
}
