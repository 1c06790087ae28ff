// Live probes against real servers on loopback ports:
// - nginx with a generated certificate and protocol/cipher settings: the
//   protocols and TLS 1.2 suites bulwark's probe finds agree with
//   `sslscan --no-colour --xml=-`, and the configuration-only verdicts of
//   tls.min-version / tls.strong-ciphers agree with the live ones; the HSTS
//   header per location agrees with what nginx sends (curl).
// - sshd: the KEXINIT lists agree with `ssh-audit -j`.
// - servers that accept and say nothing, or send garbage: an error within
//   the timeout, no hang.

#include "../parse/x509_gen.hpp"
#include "../support.hpp"
#include "live_support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/ssh.hpp>
#include <bulwark/live/tls.hpp>
#include <bulwark/parse/nginx.hpp>
#include <bulwark/parse/tls_policy.hpp>

#include <atomic>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <regex>
#include <set>

using namespace bulwark;
using bulwark::test::Daemon;
using bulwark::test::TempRoot;

namespace {

struct Scan {
  std::set<std::string> versions;  // "TLSv1.2"
  std::set<std::string> ciphers12; // OpenSSL names
};

Scan sslscan(int port) {
  auto r =
      test::run_command("timeout 60 sslscan --no-colour --no-heartbleed --no-renegotiation "
                        "--no-compression --no-fallback --no-check-certificate --xml=- 127.0.0.1:" +
                        std::to_string(port));
  Scan s;
  std::regex proto(R"re(<protocol type="tls" version="([0-9.]+)" enabled="1")re");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), proto), end; it != end; ++it)
    s.versions.insert((*it)[1] == "1.0" ? "TLSv1" : "TLSv" + (*it)[1].str());
  std::regex cipher(
      R"re(<cipher status="(accepted|preferred)" sslversion="TLSv1\.2"[^>]*cipher="([^"]+)")re");
  for (std::sregex_iterator it(r.out.begin(), r.out.end(), cipher), end; it != end; ++it)
    s.ciphers12.insert((*it)[2]);
  return s;
}

struct Nginx {
  TempRoot root;
  int port = 0;
  std::unique_ptr<Daemon> d;
};

bool have(const char *p) {
  return ::access(p, X_OK) == 0;
}

// nginx on 127.0.0.1:<port> with `servers` (server blocks; "PORT" in them is
// replaced by the port) in its http block, certificates cert.pem/key.pem.
std::unique_ptr<Nginx> start_nginx_servers(std::string servers) {
  auto n = std::make_unique<Nginx>();
  n->port = test::free_port();
  for (size_t at; (at = servers.find("PORT")) != std::string::npos;)
    servers.replace(at, 4, std::to_string(n->port));
  std::string dir = n->root.host("/etc/nginx");
  auto g = test::make_cert({"rsa", 2048, -1, 60, "sha256", "localhost"});
  n->root.write("/etc/nginx/cert.pem", g.cert_pem);
  n->root.write("/etc/nginx/key.pem", g.key_pem, 0600);
  std::string tmp = n->root.host("/tmp");
  n->root.mkdir("/tmp");
  n->root.write("/etc/nginx/nginx.conf",
                "daemon off;\nmaster_process off;\npid " + tmp + "/nginx.pid;\nerror_log " + tmp +
                    "/error.log;\nevents {}\nhttp {\n  access_log off;\n  client_body_temp_path " +
                    tmp + "/b;\n  proxy_temp_path " + tmp + "/p;\n  fastcgi_temp_path " + tmp +
                    "/f;\n  uwsgi_temp_path " + tmp + "/u;\n  scgi_temp_path " + tmp + "/s;\n" +
                    servers + "}\n");
  n->d = std::make_unique<Daemon>(
      std::vector<std::string>{"/usr/sbin/nginx", "-p", dir + "/", "-c", dir + "/nginx.conf"},
      tmp + "/stderr.log");
  if (!n->d->wait(n->port))
    return nullptr;
  return n;
}

std::unique_ptr<Nginx> start_nginx(const std::string &server_body) {
  return start_nginx_servers("  server {\n    listen 127.0.0.1:PORT ssl;\n    server_name "
                             "localhost;\n    ssl_certificate cert.pem;\n"
                             "    ssl_certificate_key key.pem;\n" +
                             server_body + "  }\n");
}

std::map<std::string, Status> config_verdicts(const TempRoot &r) {
  AuditRequest req;
  req.root = r.path();
  req.only = {"tls.min-version", "tls.strong-ciphers"};
  auto rep = run_audit(req);
  std::map<std::string, Status> out;
  for (auto &f : rep->findings)
    out[f.check] = f.status;
  return out;
}

} // namespace

class NginxLive : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE(have("/usr/sbin/nginx")) << "nginx is not installed (apt-get install nginx)";
    BULWARK_REQUIRE(have("/usr/bin/sslscan"))
        << "sslscan is not installed (apt-get install sslscan)";
  }
};

TEST_F(NginxLive, ProbeAgreesWithSslscanAndConfiguration) {
  struct Case {
    const char *name;
    std::string body;
  } cases[] = {
      {"mozilla intermediate",
       "    ssl_protocols TLSv1.2 TLSv1.3;\n    ssl_ciphers "
       "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-GCM-SHA384:"
       "ECDHE-RSA-AES256-GCM-SHA384:ECDHE-ECDSA-CHACHA20-POLY1305:ECDHE-RSA-CHACHA20-POLY1305;\n"},
      {"legacy with tls 1.0",
       "    ssl_protocols TLSv1 TLSv1.1 TLSv1.2;\n    ssl_ciphers "
       "ECDHE-RSA-AES128-SHA:AES128-SHA:ECDHE-RSA-AES256-GCM-SHA384:@SECLEVEL=0;\n"},
      {"nginx defaults", ""},
      {"tls 1.2 only, cbc", "    ssl_protocols TLSv1.2;\n    ssl_ciphers "
                            "ECDHE-RSA-AES256-SHA384:ECDHE-RSA-AES128-GCM-SHA256;\n"},
  };
  for (auto &c : cases) {
    SCOPED_TRACE(c.name);
    auto n = start_nginx(c.body);
    ASSERT_TRUE(n) << "nginx did not start";
    live::TlsProbe p = live::probe_tls("127.0.0.1", n->port, "localhost");
    ASSERT_EQ(p.error, "");
    EXPECT_LT(std::chrono::milliseconds(static_cast<long>(p.elapsed_ms)),
              bulwark::test::hang_bound(std::chrono::seconds(10)));
    std::set<std::string> mine;
    for (auto &[v, ok] : p.versions)
      if (ok)
        mine.insert(v);
    Scan s = sslscan(n->port);
    EXPECT_EQ(mine, s.versions);
    std::set<std::string> mine12(p.tls12_ciphers.begin(), p.tls12_ciphers.end());
    EXPECT_EQ(mine12, s.ciphers12);
    // The certificate served is the one configured.
    ASSERT_FALSE(p.chain.empty());
    auto file = x509::read_certificates(RootFs(n->root.path()), "/etc/nginx/cert.pem");
    ASSERT_TRUE(file.ok());
    EXPECT_EQ(p.chain[0].sha256, file->front().sha256);
    // Configuration-only verdicts agree with the live ones.
    auto cfg = config_verdicts(n->root);
    bool live_old = p.versions["TLSv1"] || p.versions["TLSv1.1"];
    bool live_weak = false;
    for (auto &name : p.tls12_ciphers) {
      auto ci = tls::describe_cipher(name);
      live_weak = live_weak || (!tls::weakness(ci, tls::mozilla()).empty() &&
                                !tls::weakness_is_advice(ci, tls::mozilla()));
    }
    bool listed_old = false;
    auto listed = nginx::endpoints(nginx::load(RootFs(n->root.path())));
    for (auto &v : listed[0].versions)
      listed_old = listed_old || v == "TLSv1" || v == "TLSv1.1";
    // Listed but refused by OpenSSL's security level is a warning; accepted live is a failure.
    EXPECT_EQ(cfg.at("tls.min-version"), live_old     ? Status::fail
                                         : listed_old ? Status::warn
                                                      : Status::pass);
    EXPECT_EQ(cfg.at("tls.strong-ciphers"), live_weak ? Status::fail : Status::pass);
    // Every suite served is one the configuration enables, and the versions
    // predicted from the configuration are exactly the ones served.
    auto ep = nginx::endpoints(nginx::load(RootFs(n->root.path())));
    auto predicted =
        tls::effective_versions(ep[0].versions, tls::security_level(ep[0].ciphers.value));
    EXPECT_EQ(std::set<std::string>(predicted.begin(), predicted.end()), mine);
    auto configured = tls::expand_cipher_string(ep[0].ciphers.value);
    ASSERT_TRUE(configured.ok());
    std::set<std::string> cfg12;
    for (auto &ci : *configured)
      cfg12.insert(ci.name);
    for (auto &x : mine12)
      EXPECT_TRUE(cfg12.count(x)) << x << " served but not configured";
  }
}

TEST_F(NginxLive, HstsPerLocationAgreesWithNginx) {
  BULWARK_REQUIRE(have("/usr/bin/curl")) << "curl is not installed";
  auto n = start_nginx("    add_header Strict-Transport-Security \"max-age=63072000; "
                       "includeSubDomains; preload\" always;\n"
                       "    location / { return 200 ok; }\n"
                       "    location /api { add_header X-Frame-Options DENY; return 200 api; }\n");
  ASSERT_TRUE(n);
  auto ep = nginx::endpoints(nginx::load(RootFs(n->root.path())));
  ASSERT_EQ(ep.size(), 1u);
  for (auto &scope : ep[0].header_scopes) {
    if (scope.label == "server")
      continue;
    std::string path = scope.label.substr(scope.label.find(' ') + 1);
    auto r = test::run_command(
        "curl -sk -D - -o /dev/null https://127.0.0.1:" + std::to_string(n->port) + path);
    bool served = text::lower(r.out).find("strict-transport-security:") != std::string::npos;
    bool predicted = false;
    for (auto &h : scope.headers)
      predicted = predicted || text::iequals(h.name, "Strict-Transport-Security");
    EXPECT_EQ(served, predicted) << scope.label << "\n" << r.out;
  }
  live::TlsProbe p = live::probe_tls("127.0.0.1", n->port, "localhost");
  ASSERT_TRUE(p.http);
  ASSERT_TRUE(p.hsts);
  EXPECT_EQ(*p.hsts, "max-age=63072000; includeSubDomains; preload");
}

namespace {

// A TCP server that accepts and then says nothing, or says `reply`.
class FakeServer {
public:
  explicit FakeServer(std::string reply) : m_reply(std::move(reply)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ::bind(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
    socklen_t len = sizeof a;
    ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&a), &len);
    m_port = ntohs(a.sin_port);
    ::listen(m_fd, 16);
    m_thread = std::thread([this] {
      while (!m_stop) {
        int c = ::accept(m_fd, nullptr, nullptr);
        if (c < 0)
          return;
        if (!m_reply.empty())
          (void)!::write(c, m_reply.data(), m_reply.size());
        m_open.push_back(c);
      }
    });
  }
  ~FakeServer() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_thread.join();
    for (int c : m_open)
      ::close(c);
  }
  int port() const { return m_port; }

private:
  std::string m_reply;
  int m_fd = -1;
  int m_port = 0;
  std::atomic<bool> m_stop{false};
  std::vector<int> m_open;
  std::thread m_thread;
};

} // namespace

TEST(LiveProbes, SilentAndGarbageServersEndInAnErrorWithinTheTimeout) {
  live::ProbeOptions opt;
  opt.timeout_ms = 500;
  {
    FakeServer silent("");
    auto t0 = std::chrono::steady_clock::now();
    auto p = live::probe_tls("127.0.0.1", silent.port(), "", opt);
    auto ms =
        std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
            .count();
    EXPECT_NE(p.error.find("sends no TLS handshake"), std::string::npos) << p.error;
    EXPECT_LT(std::chrono::milliseconds(ms), bulwark::test::hang_bound(std::chrono::seconds(3)));
    auto s = live::probe_ssh("127.0.0.1", silent.port(), 500);
    EXPECT_NE(s.error.find("no SSH identification"), std::string::npos) << s.error;
  }
  {
    static const char k_garbage[] = "\x16\x03\x01\xff\xff garbage \0\1\2";
    FakeServer garbage(std::string(k_garbage, sizeof k_garbage - 1) + std::string(300, 'x'));
    auto p = live::probe_tls("127.0.0.1", garbage.port(), "", opt);
    EXPECT_NE(p.error.find("no TLS handshake"), std::string::npos) << p.error;
    auto s = live::probe_ssh("127.0.0.1", garbage.port(), 500);
    EXPECT_NE(s.error.find("not an SSH server"), std::string::npos) << s.error;
  }
  {
    // A valid identification and then a hostile packet length.
    FakeServer liar(std::string("SSH-2.0-fake\r\n\xff\xff\xff\xff\x05", 19));
    auto s = live::probe_ssh("127.0.0.1", liar.port(), 500);
    EXPECT_NE(s.error.find("malformed packet length"), std::string::npos) << s.error;
  }
  auto closed = live::probe_tls("127.0.0.1", test::free_port(), "", opt);
  EXPECT_NE(closed.error.find("refused"), std::string::npos) << closed.error;
  auto remote = live::probe_tls("192.0.2.1", 443, "", opt);
  EXPECT_NE(remote.error.find("not an address of this host"), std::string::npos);
}

TEST(LiveProbes, KexinitParserRejectsTruncation) {
  live::SshProbe p;
  std::string payload(16, '\0');
  EXPECT_FALSE(live::parse_kexinit(payload, p));
  for (int i = 0; i < 10; ++i)
    payload += std::string("\0\0\0\3abc", 7);
  EXPECT_TRUE(live::parse_kexinit(payload, p));
  EXPECT_EQ(p.kex, std::vector<std::string>{"abc"});
  payload[16 + 3] = 100; // a name-list longer than the payload
  live::SshProbe q;
  EXPECT_FALSE(live::parse_kexinit(payload, q));
}

TEST(SshLive, KexinitAgreesWithSshAudit) {
  BULWARK_REQUIRE(have("/usr/sbin/sshd") && have("/usr/bin/ssh-keygen"))
      << "sshd is not installed (apt-get install openssh-server)";
  BULWARK_REQUIRE(have("/usr/bin/ssh-audit"))
      << "ssh-audit is not installed (apt-get install ssh-audit)";
  BULWARK_REQUIRE(::geteuid() == 0) << "sshd needs root to start (privilege separation)";
  ::mkdir("/run/sshd", 0755);
  TempRoot r;
  std::string key = r.host("/hostkey");
  ASSERT_EQ(test::run_command("ssh-keygen -q -t ed25519 -N '' -f " + key).exit_code, 0);
  const char *configs[] = {
      "",
      "Ciphers aes128-cbc,aes256-gcm@openssh.com\nMACs hmac-sha1,hmac-sha2-256-etm@openssh.com\n"
      "KexAlgorithms diffie-hellman-group14-sha1,curve25519-sha256\n",
  };
  for (const char *extra : configs) {
    int port = test::free_port();
    r.write("/sshd_config", std::string("ListenAddress 127.0.0.1\nPort ") + std::to_string(port) +
                                "\nHostKey " + key + "\nPidFile none\nUsePAM no\n" + extra);
    Daemon d({"/usr/sbin/sshd", "-D", "-e", "-f", r.host("/sshd_config")}, r.host("/sshd.log"));
    ASSERT_TRUE(d.wait(port)) << test::run_command("cat " + r.host("/sshd.log")).out;
    auto p = live::probe_ssh("127.0.0.1", port);
    ASSERT_EQ(p.error, "");
    EXPECT_EQ(p.banner.rfind("SSH-2.0-OpenSSH_", 0), 0u) << p.banner;
    auto a = test::run_command("ssh-audit -j -p " + std::to_string(port) + " 127.0.0.1");
    auto j = nlohmann::json::parse(a.out, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << a.out << a.err;
    auto names = [&](const char *k) {
      std::vector<std::string> out;
      for (auto &x : j[k])
        out.push_back(x.is_string() ? x.get<std::string>() : x["algorithm"].get<std::string>());
      return out;
    };
    EXPECT_EQ(p.kex, names("kex"));
    EXPECT_EQ(p.hostkey, names("key"));
    EXPECT_EQ(p.ciphers_s2c, names("enc"));
    EXPECT_EQ(p.macs_s2c, names("mac"));
    EXPECT_EQ(j["banner"]["raw"].get<std::string>(), p.banner);
  }
}

// Issue 16: servers sharing a listen socket negotiate the protocol versions
// of that socket's default server (explicit default_server, else the first),
// whatever a name-based server's own ssl_protocols says. openssl s_client,
// asking for one version with each server name, is the judge.
TEST_F(NginxLive, NameBasedServersNegotiateTheDefaultServersProtocols) {
  BULWARK_REQUIRE(have("/usr/bin/openssl")) << "openssl is not installed";
  // Both servers allow the old versions' ciphers, so that only ssl_protocols differs.
  auto server = [](const std::string &name, const std::string &protocols, bool is_default) {
    return "  server {\n    listen 127.0.0.1:PORT ssl" +
           std::string(is_default ? " default_server" : "") + ";\n    server_name " + name +
           ";\n    ssl_certificate cert.pem;\n    ssl_certificate_key key.pem;\n"
           "    ssl_ciphers HIGH:AES128-SHA:ECDHE-RSA-AES128-SHA:@SECLEVEL=0;\n"
           "    ssl_protocols " +
           protocols + ";\n  }\n";
  };
  const std::string modern = "TLSv1.2 TLSv1.3", legacy = "TLSv1 TLSv1.1 TLSv1.2";
  struct Case {
    const char *name;
    std::string servers;
    bool b_gets_tls1; // what nginx does for b.test
  } cases[] = {
      {"first is default (modern), b lists TLSv1",
       server("a.test", modern, false) + server("b.test", legacy, false), false},
      {"first is default (legacy), b lists TLS 1.2+",
       server("a.test", legacy, false) + server("b.test", modern, false), true},
      {"explicit default_server (legacy) second, b first lists TLS 1.2+",
       server("b.test", modern, false) + server("a.test", legacy, true), true},
      {"explicit default_server (modern) second, b first lists TLSv1",
       server("b.test", legacy, false) + server("a.test", modern, true), false},
  };
  for (auto &c : cases) {
    SCOPED_TRACE(c.name);
    auto n = start_nginx_servers(c.servers);
    ASSERT_TRUE(n) << "nginx did not start";
    auto accepts = [&](const std::string &name, const char *flag) {
      auto r = test::run_command(
          "timeout 20 openssl s_client -connect 127.0.0.1:" + std::to_string(n->port) +
          " -servername " + name + " " + flag + " -cipher DEFAULT:@SECLEVEL=0 </dev/null");
      return r.out.find("Cipher is (NONE)") == std::string::npos &&
             r.out.find("New, TLSv1") != std::string::npos;
    };
    bool nginx_tls1 = accepts("b.test", "-tls1");
    EXPECT_EQ(nginx_tls1, c.b_gets_tls1) << "nginx itself disagrees with the case";
    EXPECT_TRUE(accepts("b.test", "-tls1_2")) << "TLS 1.2 must work in every case";
    // bulwark's view of b.test.
    auto eps = nginx::endpoints(nginx::load(RootFs(n->root.path())));
    const TlsEndpoint *b = nullptr;
    for (auto &e : eps)
      if (!e.names.empty() && e.names.front() == "b.test")
        b = &e;
    ASSERT_NE(b, nullptr);
    auto predicted = tls::effective_versions(b->versions, tls::security_level(b->ciphers.value));
    bool bulwark_tls1 = std::find(predicted.begin(), predicted.end(), "TLSv1") != predicted.end();
    EXPECT_EQ(bulwark_tls1, nginx_tls1);
    // And the verdict of tls.min-version on b.test follows nginx.
    AuditRequest req;
    req.root = n->root.path();
    req.only = {"tls.min-version"};
    auto rep = run_audit(req);
    ASSERT_TRUE(rep.ok());
    bool found = false;
    for (auto &f : rep->findings)
      if (f.subject.find("b.test") != std::string::npos) {
        found = true;
        EXPECT_EQ(f.status, nginx_tls1 ? Status::fail : Status::pass) << f.message;
      }
    EXPECT_TRUE(found);
  }
}
