// nginx's configuration reader: ngx_conf_read_token's tokens, includes and
// their bounds, and http -> server -> location inheritance (add_header's
// all-or-nothing trap). `nginx -t` is the oracle for what parses.

#include "../support.hpp"

#include <bulwark/parse/nginx.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const ConfNode *find(const std::vector<ConfNode> &v, const std::string &name) {
  for (auto &n : v)
    if (n.name == name)
      return &n;
  return nullptr;
}

} // namespace

TEST(NginxParse, TokensQuotesEscapesAndComments) {
  auto t = nginx::parse_text("a \"b c\" 'd;e' f\\;g h#i; # comment ; {\n"
                             "x \"q\\\"t\" \"tab\\there\" \\\\;\n",
                             "/etc/nginx/nginx.conf");
  ASSERT_TRUE(t.diagnostics.empty()) << t.diagnostics[0].message;
  ASSERT_EQ(t.nodes.size(), 2u);
  EXPECT_EQ(t.nodes[0].name, "a");
  // nginx unescapes only \" \' \\ \t \r \n: "f\;g" keeps its backslash.
  EXPECT_EQ(t.nodes[0].args, (std::vector<std::string>{"b c", "d;e", "f\\;g", "h#i"}));
  EXPECT_EQ(t.nodes[1].args, (std::vector<std::string>{"q\"t", "tab\there", "\\"}));
  EXPECT_EQ(t.nodes[1].loc.line, 2);
}

TEST(NginxParse, BlocksAndLines) {
  auto t = nginx::parse_text("http {\n  server {\n    listen 443 ssl;\n  }\n}\n", "/n.conf");
  ASSERT_TRUE(t.diagnostics.empty());
  const ConfNode *http = find(t.nodes, "http");
  ASSERT_TRUE(http && http->block);
  const ConfNode *srv = find(http->children, "server");
  ASSERT_TRUE(srv);
  EXPECT_EQ(srv->loc.line, 2);
  EXPECT_EQ(srv->children[0].loc.line, 3);
}

TEST(NginxParse, SyntaxErrorsCarryTheLine) {
  struct Case {
    const char *text;
    int line;
    const char *msg;
  } cases[] = {
      {"a b;\n}\n", 2, "unexpected \"}\""},   {"http {\n a b;\n", 3, "unexpected end of file"},
      {"a \"b\"c;\n", 1, "unexpected \"c\""}, {"a b\n", 2, "unexpected end of file"},
      {";\n", 1, "unexpected \";\""},         {"a {\n b c }\n}\n", 2, "unexpected \"}\""},
  };
  for (auto &c : cases) {
    auto t = nginx::parse_text(c.text, "/etc/nginx/nginx.conf");
    ASSERT_FALSE(t.diagnostics.empty()) << c.text;
    EXPECT_EQ(t.diagnostics[0].loc.line, c.line) << c.text;
    EXPECT_NE(t.diagnostics[0].message.find(c.msg), std::string::npos)
        << c.text << ": " << t.diagnostics[0].message;
  }
}

// nginx -t on the same files decides what parses; bulwark's diagnostics
// agree (syntax only: the configurations use only known directives).
TEST(NginxParse, AgreesWithNginxTestOnSyntax) {
  BULWARK_REQUIRE(::access("/usr/sbin/nginx", X_OK) == 0)
      << "nginx is not installed (apt-get install nginx)";
  const char *cases[] = {
      "events {}\nhttp { server { listen 127.0.0.1:1; add_header X \"a b\"; } }\n",
      "events {}\nhttp { server { listen 127.0.0.1:1; add_header X 'a;b'; } }\n",
      "events {}\nhttp { server { listen 127.0.0.1:1; add_header X a\\;b; } }\n",
      "events {}\nhttp { server { listen 127.0.0.1:1; } \n",
      "events {}\nhttp { server { listen 127.0.0.1:1; } } }\n",
      "events {}\nhttp { server { listen 127.0.0.1:1; add_header X \"a\"b; } }\n",
      "events {}\nhttp { server { listen 127.0.0.1:1; add_header X \"a\"; # c }\n } }\n",
      "events {}\nhttp { server { listen 127.0.0.1:1; add_header X#y z; } }\n",
      "events {}\nhttp { server { listen 127.0.0.1:1; add_header X y }\n",
      "events {}\nhttp {server{listen 127.0.0.1:1;add_header X y;}}\n",
  };
  int n = 0;
  for (const char *text : cases) {
    TempRoot r;
    r.write("/etc/nginx/nginx.conf",
            std::string("pid ") + r.path() + "/pid;\nerror_log stderr;\n" + text);
    auto res = test::run_command("/usr/sbin/nginx -t -p " + r.path() + " -c " + r.path() +
                                 "/etc/nginx/nginx.conf");
    auto t = nginx::parse_text(std::string("pid x;\nerror_log stderr;\n") + text, "/x");
    bool nginx_ok = res.exit_code == 0;
    EXPECT_EQ(nginx_ok, t.diagnostics.empty())
        << text << "\nnginx: " << res.err
        << (t.diagnostics.empty() ? "" : "\nbulwark: " + t.diagnostics[0].message);
    ++n;
  }
  EXPECT_EQ(n, 10);
}

TEST(NginxParse, IncludeGlobsRelativeToPrefixInOrder) {
  TempRoot r;
  r.write("/etc/nginx/nginx.conf",
          "http {\n  include conf.d/*.conf;\n  include /etc/nginx/none/*.conf;\n}\n");
  r.write("/etc/nginx/conf.d/b.conf", "server { listen 2 ssl; }\n");
  r.write("/etc/nginx/conf.d/a.conf", "server { listen 1 ssl; }\n");
  r.write("/etc/nginx/conf.d/.hidden.conf", "server { listen 3; }\n");
  auto t = nginx::load(RootFs(r.path()));
  EXPECT_TRUE(t.diagnostics.empty());
  auto eps = nginx::endpoints(t);
  ASSERT_EQ(eps.size(), 2u);
  EXPECT_EQ(eps[0].listens[0].port, 1);
  EXPECT_EQ(eps[0].loc.path, "/etc/nginx/conf.d/a.conf");
  EXPECT_EQ(eps[1].listens[0].port, 2);
}

TEST(NginxParse, IncludeLoopIsBoundedAndNamed) {
  TempRoot r;
  r.write("/etc/nginx/nginx.conf", "include self.conf;\n");
  r.write("/etc/nginx/self.conf", "# loops\ninclude self.conf;\n");
  auto t = nginx::load(RootFs(r.path()));
  ASSERT_FALSE(t.diagnostics.empty());
  EXPECT_EQ(t.diagnostics[0].loc.path, "/etc/nginx/self.conf");
  EXPECT_EQ(t.diagnostics[0].loc.line, 2);
  EXPECT_NE(t.diagnostics[0].message.find("loop"), std::string::npos);
}

TEST(NginxParse, IncludeFanOutIsBounded) {
  TempRoot r;
  // Each file includes the whole directory twice: 2^16 reads unbounded.
  r.write("/etc/nginx/nginx.conf", "include d/*.conf;\n");
  for (int i = 0; i < 4; ++i)
    r.write("/etc/nginx/d/" + std::to_string(i) + ".conf",
            "include d/*.conf;\ninclude d/*.conf;\n");
  auto t = nginx::load(RootFs(r.path()));
  EXPECT_LE(t.files.size(), static_cast<size_t>(nginx::k_max_files));
  EXPECT_FALSE(t.diagnostics.empty());
}

TEST(NginxParse, SymlinkOutsideTheRootStaysInside) {
  TempRoot r;
  r.write("/etc/nginx/nginx.conf", "include evil.conf;\n");
  r.symlink("/../../../../etc/passwd", "/etc/nginx/evil.conf");
  auto t = nginx::load(RootFs(r.path()));
  // The link re-roots to <root>/etc/passwd, which does not exist in the root.
  ASSERT_FALSE(t.diagnostics.empty());
  EXPECT_EQ(t.diagnostics[0].loc.line, 1);
  EXPECT_TRUE(t.nodes.empty());
}

TEST(NginxParse, HostileBytesDoNotCrash) {
  std::string junk;
  for (int i = 0; i < 4096; ++i)
    junk += static_cast<char>((i * 131 + 7) % 256);
  auto t = nginx::parse_text(junk, "/x");
  (void)nginx::endpoints(t);
  std::string deep(100000, '{');
  auto d = nginx::parse_text("a " + deep, "/x");
  EXPECT_FALSE(d.diagnostics.empty());
  std::string big;
  for (int i = 0; i < 200000; ++i)
    big += "add_header X-" + std::to_string(i) + " v;\n";
  auto b = nginx::parse_text("http { server { listen 443 ssl;\n" + big + "} }\n", "/x");
  EXPECT_TRUE(b.diagnostics.empty());
  EXPECT_EQ(nginx::endpoints(b)[0].header_scopes[0].headers.size(), 200000u);
}

TEST(NginxEndpoints, InheritanceAndDefaults) {
  auto t = nginx::parse_text(R"(http {
  ssl_protocols TLSv1.2 TLSv1.3;
  ssl_ciphers ECDHE+AESGCM;
  server {
    listen 443 ssl;
    server_name a.example;
    ssl_certificate /etc/ssl/a.pem;
  }
  server {
    listen [::]:8443 ssl;
    ssl_protocols TLSv1 TLSv1.2;
  }
  server { listen 80; }
}
)",
                             "/etc/nginx/nginx.conf");
  auto eps = nginx::endpoints(t);
  ASSERT_EQ(eps.size(), 3u);
  EXPECT_EQ(eps[0].protocols.value, "TLSv1.2 TLSv1.3");
  EXPECT_EQ(eps[0].protocols.loc.line, 2);
  EXPECT_EQ(eps[0].ciphers.loc.line, 3);
  EXPECT_EQ(eps[0].certificates[0].value, "/etc/ssl/a.pem");
  EXPECT_EQ(eps[0].subject, "nginx server a.example:443");
  EXPECT_EQ(eps[1].protocols.loc.line, 11);
  EXPECT_EQ(eps[1].versions, (std::vector<std::string>{"TLSv1", "TLSv1.2"}));
  EXPECT_EQ(eps[1].listens[0].address, "::");
  EXPECT_EQ(eps[1].listens[0].port, 8443);
  EXPECT_FALSE(eps[2].tls);

  auto d = nginx::endpoints(nginx::parse_text("http { server { listen 443 ssl; } }", "/n"));
  EXPECT_TRUE(d[0].protocols.is_default);
  EXPECT_EQ(d[0].protocols.loc.line, 0);
  EXPECT_EQ(d[0].versions, (std::vector<std::string>{"TLSv1", "TLSv1.1", "TLSv1.2"}));
  EXPECT_EQ(d[0].ciphers.value, "HIGH:!aNULL:!MD5");
}

TEST(NginxEndpoints, AddHeaderInLocationDropsServerHsts) {
  auto t = nginx::parse_text(R"(http {
  server {
    listen 443 ssl;
    add_header Strict-Transport-Security "max-age=63072000; includeSubDomains; preload" always;
    location / { }
    location /api {
      add_header X-Frame-Options DENY;
      location /api/v2 { }
    }
  }
}
)",
                             "/etc/nginx/nginx.conf");
  auto eps = nginx::endpoints(t);
  ASSERT_EQ(eps.size(), 1u);
  auto &hs = eps[0].header_scopes;
  ASSERT_EQ(hs.size(), 4u);
  EXPECT_EQ(hs[0].label, "server");
  EXPECT_EQ(hs[0].headers.size(), 1u);
  EXPECT_TRUE(hs[0].headers[0].always);
  EXPECT_EQ(hs[1].label, "location /");
  EXPECT_EQ(hs[1].headers.size(), 1u); // inherits
  EXPECT_EQ(hs[2].label, "location /api");
  ASSERT_EQ(hs[2].headers.size(), 1u);
  EXPECT_EQ(hs[2].headers[0].name, "X-Frame-Options");
  ASSERT_TRUE(hs[2].dropped_hsts);
  EXPECT_EQ(hs[2].dropped_hsts->line, 4);
  EXPECT_EQ(hs[2].loc.line, 6);
  // The nested location inherits /api's set, which has no HSTS.
  EXPECT_EQ(hs[3].headers.size(), 1u);
  EXPECT_EQ(hs[3].headers[0].name, "X-Frame-Options");
}
