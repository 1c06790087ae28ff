// Apache's configuration, modestly: includes, VirtualHost inheritance,
// mod_ssl's SSLProtocol arithmetic and mod_headers' HSTS.

#include "../support.hpp"

#include <bulwark/parse/apache.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

TEST(ApacheParse, SslProtocolArithmetic) {
  struct Case {
    const char *value;
    std::vector<std::string> versions;
  } cases[] = {
      {"all -SSLv3", {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"}},
      {"all -SSLv3 -TLSv1 -TLSv1.1", {"TLSv1.2", "TLSv1.3"}},
      {"-all +TLSv1.2", {"TLSv1.2"}},
      {"TLSv1.2 +TLSv1.3", {"TLSv1.2", "TLSv1.3"}},
      {"+TLSv1.3 TLSv1.2", {"TLSv1.2"}}, // a bare word resets
  };
  for (auto &c : cases) {
    std::string conf = std::string("SSLProtocol ") + c.value +
                       "\n<VirtualHost *:443>\n  SSLEngine on\n</VirtualHost>\n";
    auto eps = apache::endpoints(apache::parse_text(conf, "/etc/apache2/apache2.conf"));
    ASSERT_EQ(eps.size(), 1u);
    EXPECT_EQ(eps[0].versions, c.versions) << c.value;
    EXPECT_EQ(eps[0].protocols.loc.line, 1);
  }
}

TEST(ApacheParse, IncludesVirtualHostsAndHeaders) {
  TempRoot r;
  r.write("/etc/apache2/apache2.conf",
          "IncludeOptional mods-enabled/*.conf\nIncludeOptional sites-enabled/*.conf\n"
          "Include ports.conf\nIncludeOptional nothing/*.conf\n");
  r.write("/etc/apache2/ports.conf", "Listen 443\n");
  r.write("/etc/apache2/mods-enabled/ssl.conf", "<IfModule mod_ssl.c>\n  SSLProtocol all -SSLv3\n  "
                                                "SSLCipherSuite HIGH:!aNULL\n</IfModule>\n");
  r.write("/etc/apache2/sites-enabled/site.conf",
          "<VirtualHost *:443>\n"
          "  ServerName www.example\n"
          "  SSLEngine on\n"
          "  SSLProtocol -all +TLSv1.2 \\\n"
          "     +TLSv1.3\n"
          "  SSLCertificateFile /etc/ssl/certs/www.pem\n"
          "  Header always set Strict-Transport-Security \"max-age=63072000; includeSubDomains\"\n"
          "</VirtualHost>\n"
          "<VirtualHost *:80>\n  ServerName plain\n</VirtualHost>\n");
  auto t = apache::load(RootFs(r.path()));
  EXPECT_TRUE(t.diagnostics.empty()) << t.diagnostics[0].message;
  auto eps = apache::endpoints(t);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_TRUE(eps[0].tls);
  EXPECT_EQ(eps[0].subject, "apache VirtualHost www.example:443");
  EXPECT_EQ(eps[0].versions, (std::vector<std::string>{"TLSv1.2", "TLSv1.3"}));
  EXPECT_EQ(eps[0].protocols.loc.path, "/etc/apache2/sites-enabled/site.conf");
  EXPECT_EQ(eps[0].protocols.loc.line, 4);
  EXPECT_EQ(eps[0].ciphers.value, "HIGH:!aNULL");
  EXPECT_EQ(eps[0].ciphers.loc.path, "/etc/apache2/mods-enabled/ssl.conf");
  ASSERT_EQ(eps[0].header_scopes[0].headers.size(), 1u);
  EXPECT_EQ(eps[0].header_scopes[0].headers[0].value, "max-age=63072000; includeSubDomains");
  EXPECT_TRUE(eps[0].header_scopes[0].headers[0].always);
  EXPECT_EQ(eps[0].header_scopes[0].headers[0].loc.line, 7);
  EXPECT_FALSE(eps[1].tls);
}

TEST(ApacheParse, MissingIncludeAndUnclosedSectionAreNamed) {
  TempRoot r;
  r.write("/etc/apache2/apache2.conf",
          "Include missing/*.conf\n<VirtualHost *:443>\nSSLEngine on\n");
  auto t = apache::load(RootFs(r.path()));
  ASSERT_EQ(t.diagnostics.size(), 2u);
  EXPECT_EQ(t.diagnostics[0].loc.line, 1);
  EXPECT_EQ(t.diagnostics[1].loc.path, "/etc/apache2/apache2.conf");
}

TEST(ApacheParse, IncludeLoopIsBounded) {
  TempRoot r;
  r.write("/etc/apache2/apache2.conf", "Include apache2.conf\n");
  auto t = apache::load(RootFs(r.path()));
  ASSERT_FALSE(t.diagnostics.empty());
  EXPECT_NE(t.diagnostics.back().message.find("loop"), std::string::npos);
}

TEST(ApacheParse, UnsetRemovesServerHsts) {
  auto t = apache::parse_text("Header always set Strict-Transport-Security \"max-age=1\"\n"
                              "<VirtualHost *:443>\nSSLEngine on\n"
                              "Header always unset Strict-Transport-Security\n</VirtualHost>\n",
                              "/a.conf");
  auto eps = apache::endpoints(t);
  ASSERT_EQ(eps.size(), 1u);
  EXPECT_TRUE(eps[0].header_scopes[0].headers.empty());
  ASSERT_TRUE(eps[0].header_scopes[0].unset_hsts);
  EXPECT_EQ(eps[0].header_scopes[0].unset_hsts->line, 4);
}
