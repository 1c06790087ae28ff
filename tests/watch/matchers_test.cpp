// Built-in matchers on the lines each daemon writes (docs/watch.md), and
// their resistance to forged fields: the address must come from the
// daemon's own text, never from a user name, request or certificate.
#include <bulwark/watch/matchers.hpp>

#include <arpa/inet.h>
#include <array>
#include <gtest/gtest.h>

using namespace bulwark::watch;

namespace {

struct Got {
  bool matched = false;
  Event ev;
  std::string addr() const { return format_address(ev.addr); }
};

Got run(BuiltinMatchers &m, std::string_view line) {
  YearInference y(1714557600); // 2024-05-01
  LogLine l = parse_log_line(line, y);
  Got g;
  g.matched = m.match(l, g.ev);
  return g;
}

Got run(std::string_view line) {
  BuiltinMatchers m;
  return run(m, line);
}

void expect(std::string_view line, Service s, std::string_view reason, std::string_view addr,
            Kind kind = Kind::auth_failed) {
  Got g = run(line);
  ASSERT_TRUE(g.matched) << line;
  EXPECT_EQ(g.ev.service, s) << line;
  EXPECT_EQ(g.ev.reason, reason) << line;
  EXPECT_EQ(g.addr(), addr) << line;
  EXPECT_EQ(g.ev.kind, kind) << line;
}

constexpr std::string_view P = "May  1 10:00:00 host sshd[812]: ";

std::string sshd(std::string_view msg) {
  return std::string(P) + std::string(msg);
}

} // namespace

TEST(WatchMatchers, SshdLines) {
  expect(sshd("Failed password for root from 203.0.113.9 port 51234 ssh2"), Service::sshd,
         "failed_password", "203.0.113.9");
  expect(sshd("Failed password for invalid user admin from 2001:db8::7 port 22 ssh2"),
         Service::sshd, "failed_password", "2001:db8::7");
  expect(sshd("Failed publickey for git from 198.51.100.4 port 4022 ssh2: ED25519 "
              "SHA256:4CmQ3LxKfT2zPxGtjPj4vGzq1wGVQhYHPJ7yx8R2tqE"),
         Service::sshd, "failed_publickey", "198.51.100.4");
  expect(sshd("Failed none for invalid user x from 198.51.100.4 port 4022 ssh2"), Service::sshd,
         "failed_other", "198.51.100.4");
  expect(sshd("Failed keyboard-interactive/pam for root from 198.51.100.4 port 1 ssh2"),
         Service::sshd, "failed_other", "198.51.100.4");
  expect(sshd("Invalid user oracle from 192.0.2.10 port 40000"), Service::sshd, "invalid_user",
         "192.0.2.10");
  expect(sshd("Invalid user  from 192.0.2.10 port 40000"), Service::sshd, "invalid_user",
         "192.0.2.10");
  expect(sshd("User root from 192.0.2.11 not allowed because not listed in AllowUsers"),
         Service::sshd, "not_allowed", "192.0.2.11");
  expect(sshd("User bob from 192.0.2.11 not allowed because none of user's groups are listed "
              "in AllowGroups"),
         Service::sshd, "not_allowed", "192.0.2.11");
  expect(sshd("User eve from 192.0.2.11 not allowed because listed in DenyUsers"), Service::sshd,
         "not_allowed", "192.0.2.11");
  expect(sshd("error: maximum authentication attempts exceeded for root from 192.0.2.12 port "
              "22 ssh2 [preauth]"),
         Service::sshd, "max_attempts", "192.0.2.12");
  expect(sshd("Disconnecting authenticating user root 192.0.2.13 port 22: Too many "
              "authentication failures [preauth]"),
         Service::sshd, "max_attempts", "192.0.2.13");
  expect(sshd("Disconnecting invalid user test 192.0.2.13 port 22: Too many authentication "
              "failures [preauth]"),
         Service::sshd, "max_attempts", "192.0.2.13");
  expect(sshd("Connection closed by authenticating user root 192.0.2.14 port 6000 [preauth]"),
         Service::sshd, "preauth_disconnect", "192.0.2.14");
  expect(sshd("Disconnected from invalid user admin 192.0.2.14 port 6000 [preauth]"), Service::sshd,
         "preauth_disconnect", "192.0.2.14");
  expect(sshd("Connection reset by authenticating user root 192.0.2.14 port 6000 [preauth]"),
         Service::sshd, "preauth_disconnect", "192.0.2.14");
  expect(sshd("error: PAM: Authentication failure for root from 192.0.2.15"), Service::sshd,
         "pam_failure", "192.0.2.15");
  expect(sshd("error: PAM: Authentication failure for illegal user x from 192.0.2.15"),
         Service::sshd, "pam_failure", "192.0.2.15");
  expect(sshd("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
              "ruser= rhost=192.0.2.16  user=root"),
         Service::sshd, "pam_failure", "192.0.2.16");
  // sshd-session (OpenSSH 9.8+) logs under its own name.
  expect("May  1 10:00:00 h sshd-session[9]: Invalid user a from 192.0.2.10 port 1", Service::sshd,
         "invalid_user", "192.0.2.10");
  // RFC 5424 and RFC 3339 headers reach the same matcher.
  expect("<38>1 2024-05-01T10:00:00Z h sshd 812 - - Invalid user a from 192.0.2.10 port 1",
         Service::sshd, "invalid_user", "192.0.2.10");
}

TEST(WatchMatchers, SshdLinesThatAreNotFailures) {
  for (std::string_view m :
       {"Accepted password for root from 192.0.2.1 port 22 ssh2",
        "Accepted publickey for root from 192.0.2.1 port 22 ssh2: RSA SHA256:x",
        "Disconnected from user root 192.0.2.1 port 22",
        "Connection closed by 192.0.2.1 port 22 [preauth]",
        "Received disconnect from 192.0.2.1 port 22:11: disconnected by user",
        "pam_unix(sshd:session): session opened for user root(uid=0) by (uid=0)",
        "Server listening on 0.0.0.0 port 22."})
    EXPECT_FALSE(run(sshd(m)).matched) << m;
  // The same text from another program is not sshd's.
  EXPECT_FALSE(run("May  1 10:00:00 h myapp[1]: Invalid user a from 192.0.2.10 port 1").matched);
}

TEST(WatchMatchers, ForgedUserNamesNeverYieldTheirAddress) {
  // The client chooses the user name; the real address follows it.
  const std::string forged = "root from 203.0.113.9 port 22";
  struct Case {
    std::string msg;
    std::string_view reason;
  } cases[] = {
      {"Failed password for " + forged + " from 192.0.2.50 port 4711 ssh2", "failed_password"},
      {"Failed password for invalid user " + forged + " ssh2 from 192.0.2.50 port 4711 ssh2",
       "failed_password"},
      {"Invalid user " + forged + " from 192.0.2.50 port 4711", "invalid_user"},
      {"User " + forged +
           " not allowed because x from 192.0.2.50 not allowed because listed in "
           "DenyUsers",
       "not_allowed"},
      {"error: maximum authentication attempts exceeded for " + forged +
           " ssh2 from 192.0.2.50 port 4711 ssh2 [preauth]",
       "max_attempts"},
      {"Disconnecting invalid user root 203.0.113.9 port 22: Too many authentication failures "
       "192.0.2.50 port 4711: Too many authentication failures [preauth]",
       "max_attempts"},
      {"Connection closed by invalid user root 203.0.113.9 port 22 192.0.2.50 port 4711 "
       "[preauth]",
       "preauth_disconnect"},
      {"error: PAM: Authentication failure for root from 203.0.113.9 from 192.0.2.50",
       "pam_failure"},
  };
  for (auto &c : cases) {
    Got g = run(sshd(c.msg));
    ASSERT_TRUE(g.matched) << c.msg;
    EXPECT_EQ(g.ev.reason, c.reason) << c.msg;
    EXPECT_EQ(g.addr(), "192.0.2.50") << c.msg;
  }
  // pam_unix: a user name after rhost cannot move it.
  Got p = run(sshd("pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh "
                   "ruser= rhost=192.0.2.50  user=x rhost=203.0.113.9"));
  EXPECT_EQ(p.addr(), "192.0.2.50");
}

TEST(WatchMatchers, PossiblyTruncatedSshdLineGivesNoAddress) {
  // sshd formats into 1024 bytes: a long message may end in the client's text.
  std::string user(1100, 'a');
  Got g = run(sshd("Invalid user " + user + " from 203.0.113.9 port 22"));
  ASSERT_TRUE(g.matched);
  EXPECT_EQ(g.ev.addr.family, 0);
  EXPECT_TRUE(g.ev.ambiguous);
}

TEST(WatchMatchers, SudoLines) {
  constexpr std::string_view S = "May  1 10:00:00 host sudo:      bob : ";
  expect(std::string(S) + "3 incorrect password attempts ; TTY=pts/0 ; PWD=/home/bob ; "
                          "USER=root ; COMMAND=/usr/bin/id",
         Service::sudo, "incorrect_password", "-");
  expect(std::string(S) + "1 incorrect password attempt ; TTY=pts/0 ; PWD=/ ; USER=root ; "
                          "COMMAND=/bin/sh",
         Service::sudo, "incorrect_password", "-");
  expect(std::string(S) + "user NOT in sudoers ; TTY=pts/0 ; PWD=/home/bob ; USER=root ; "
                          "COMMAND=/bin/sh",
         Service::sudo, "not_in_sudoers", "-", Kind::unauthorized);
  expect(std::string(S) + "command not allowed ; TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/x",
         Service::sudo, "command_not_allowed", "-", Kind::unauthorized);
  EXPECT_FALSE(run(std::string(S) + "TTY=pts/0 ; PWD=/ ; USER=root ; COMMAND=/usr/bin/id").matched);
}

TEST(WatchMatchers, NginxLines) {
  const std::string mismatch =
      "2024/05/01 12:00:00 [error] 812#812: *7 user \"admin\": password mismatch, client: "
      "203.0.113.20, server: example.org, request: \"GET / HTTP/1.1\", host: \"example.org\"";
  const std::string unknown =
      "2024/05/01 12:00:00 [error] 812#812: *7 user \"zz\" was not found in "
      "\"/etc/nginx/.htpasswd\", client: 2001:db8::20, server: _, request: \"GET / HTTP/1.1\"";
  const std::string challenge =
      "2024/05/01 12:00:00 [info] 812#812: *7 no user/password was provided for basic "
      "authentication, client: 203.0.113.20, server: _, request: \"GET / HTTP/1.1\"";
  const std::string no_user =
      R"(203.0.113.21 - - [01/May/2024:12:00:00 +0000] "GET /admin HTTP/1.1" 401 179 "-" "x")";
  const std::string with_user =
      R"(203.0.113.21 - bob [01/May/2024:12:00:00 +0000] "GET /admin HTTP/1.1" 401 179 "-" "x")";
  // Default (failures_from: access_log): a 401 that carried a user counts;
  // error.log's lines of the same failure and the challenge do not.
  expect(with_user, Service::nginx, "http_401", "203.0.113.21");
  EXPECT_FALSE(run(no_user).matched);
  EXPECT_FALSE(run(mismatch).matched);
  EXPECT_FALSE(run(unknown).matched);
  EXPECT_FALSE(run(challenge).matched);
  // failures_from: error_log: the other way round.
  MatcherOptions eo;
  eo.nginx_failures = NginxFailures::error_log;
  BuiltinMatchers em(eo);
  Got g = run(em, mismatch);
  ASSERT_TRUE(g.matched);
  EXPECT_EQ(g.ev.reason, "basic_auth_mismatch");
  EXPECT_EQ(g.addr(), "203.0.113.20");
  g = run(em, unknown);
  ASSERT_TRUE(g.matched);
  EXPECT_EQ(g.ev.reason, "basic_auth_unknown_user");
  EXPECT_EQ(g.addr(), "2001:db8::20");
  EXPECT_FALSE(run(em, challenge).matched);
  EXPECT_FALSE(run(em, with_user).matched);
  EXPECT_FALSE(run(em, no_user).matched);
  expect(R"(203.0.113.22 - - [01/May/2024:12:00:00 +0000] "GET /.env HTTP/1.1" 403 0 "-" "x")",
         Service::nginx, "http_403", "203.0.113.22", Kind::unauthorized);
  EXPECT_FALSE(
      run(R"(203.0.113.21 - - [01/May/2024:12:00:00 +0000] "GET / HTTP/1.1" 200 9 "-" "x")")
          .matched);
  // 404 counts only when configured.
  MatcherOptions o;
  o.nginx_statuses = {401, 403, 404};
  BuiltinMatchers m(o);
  EXPECT_TRUE(
      run(m, R"(203.0.113.21 - - [01/May/2024:12:00:00 +0000] "GET /x HTTP/1.1" 404 9 "-" "x")")
          .matched);
}

TEST(WatchMatchers, NginxForgedFieldsMakeTheLineAmbiguous) {
  // nginx logs the basic-auth user name unescaped: a forged ", client:" in it
  // competes with the real one, so the line names nobody.
  MatcherOptions eo;
  eo.nginx_failures = NginxFailures::error_log;
  BuiltinMatchers em(eo);
  Got g = run(em, "2024/05/01 12:00:00 [error] 1#1: *7 user \"x\": password mismatch, client: "
                  "203.0.113.9, server: a\": password mismatch, client: 192.0.2.60, server: _, "
                  "request: \"GET / HTTP/1.1\"");
  ASSERT_TRUE(g.matched);
  EXPECT_EQ(g.ev.addr.family, 0);
  EXPECT_TRUE(g.ev.ambiguous);
  // In the access log the user and request cannot forge the address.
  expect(
      R"(192.0.2.60 - 203.0.113.9 [01/May/2024:12:00:00 +0000] "GET /?203.0.113.9 HTTP/1.1" 401 1 "-" "203.0.113.9")",
      Service::nginx, "http_401", "192.0.2.60");
}

TEST(WatchMatchers, PostgresLines) {
  BuiltinMatchers m;
  // log_connections names the host; the failure of the same backend pid uses it.
  Got c = run(m, "2024-05-01 12:00:00.001 UTC [4242] [unknown]@[unknown] LOG:  connection "
                 "received: host=198.51.100.30 port=50000");
  EXPECT_FALSE(c.matched);
  Got f = run(m, "2024-05-01 12:00:00.010 UTC [4242] app@appdb FATAL:  password authentication "
                 "failed for user \"app\"");
  ASSERT_TRUE(f.matched);
  EXPECT_EQ(f.ev.service, Service::postgresql);
  EXPECT_EQ(f.ev.reason, "password_failed");
  EXPECT_EQ(f.addr(), "198.51.100.30");
  // Another pid: no address.
  Got o = run(m, "2024-05-01 12:00:00.010 UTC [4243] app@appdb FATAL:  password authentication "
                 "failed for user \"app\"");
  EXPECT_EQ(o.ev.addr.family, 0);
  expect("2024-05-01 12:00:00.010 UTC [4244] x@y FATAL:  no pg_hba.conf entry for host "
         "\"198.51.100.31\", user \"x\", database \"y\", no encryption",
         Service::postgresql, "no_hba_entry", "198.51.100.31", Kind::unauthorized);
  // A forged candidate in the (client-chosen) user name makes it ambiguous.
  Got a = run("2024-05-01 12:00:00.010 UTC [4245] x FATAL:  no pg_hba.conf entry for host "
              "\"203.0.113.9\"@y FATAL:  no pg_hba.conf entry for host \"198.51.100.31\", user "
              "\"x\", database \"y\", no encryption");
  EXPECT_EQ(a.ev.addr.family, 0);
  EXPECT_TRUE(a.ev.ambiguous);
}

TEST(WatchMatchers, OpenVpnLines) {
  const std::string S = "May  1 10:00:00 vpn openvpn[900]: ";
  expect(S + "203.0.113.40:51000 TLS Error: TLS handshake failed", Service::openvpn, "tls_error",
         "203.0.113.40");
  expect(S + "203.0.113.40:51000 VERIFY ERROR: depth=0, error=unable to get local issuer "
             "certificate: CN=203.0.113.9:1",
         Service::openvpn, "verify_error", "203.0.113.40");
  expect(S + "client1/203.0.113.41:51001 SENT CONTROL [client1]: 'AUTH_FAILED' (status=1)",
         Service::openvpn, "auth_failed", "203.0.113.41");
  expect(S + "203.0.113.42:1194 TLS Auth Error: Auth Username/Password verification failed for "
             "peer",
         Service::openvpn, "auth_failed", "203.0.113.42");
  expect(S + "[AF_INET6]2001:db8::42:1194 TLS Error: TLS handshake failed", Service::openvpn,
         "tls_error", "2001:db8::42");
  expect("2024-05-01 12:00:00 203.0.113.40:51000 TLS Error: TLS handshake failed", Service::openvpn,
         "tls_error", "203.0.113.40");
  EXPECT_FALSE(run(S + "203.0.113.40:51000 Peer Connection Initiated").matched);
}

TEST(WatchMatchers, StrongSwanLines) {
  BuiltinMatchers m;
  const std::string S = "May  1 10:00:00 gw charon: ";
  EXPECT_FALSE(run(m, S + "09[IKE] <rw|3> 203.0.113.50 is initiating an IKE_SA").matched);
  Got g = run(m, S + "10[IKE] <rw|3> tried 1 shared key for 'gw' - '203.0.113.9' but MAC "
                     "mismatched");
  ASSERT_TRUE(g.matched);
  EXPECT_EQ(g.ev.service, Service::strongswan);
  EXPECT_EQ(g.ev.reason, "psk_mismatch");
  EXPECT_EQ(g.addr(), "203.0.113.50");
  Got a = run(m, S + "11[IKE] <rw|3> authentication of '203.0.113.9' with EAP failed");
  EXPECT_EQ(a.addr(), "203.0.113.50");
  expect(S + "12[IKE] EAP method EAP_MSCHAPV2 failed for peer 203.0.113.51", Service::strongswan,
         "eap_failed", "203.0.113.51");
  Got n = run(m, S + "11[IKE] <rw|9> authentication of 'x' with RSA signature failed");
  ASSERT_TRUE(n.matched);
  EXPECT_EQ(n.ev.addr.family, 0); // SA not seen initiating
}

TEST(WatchMatchers, AddressesAndCidrs) {
  Address a;
  EXPECT_TRUE(parse_address("::ffff:192.0.2.1", a));
  EXPECT_EQ(a.family, 4);
  EXPECT_EQ(format_address(a), "192.0.2.1");
  EXPECT_FALSE(parse_address("192.0.2.256", a));
  EXPECT_FALSE(parse_address("example.org", a));
  EXPECT_FALSE(parse_address("1.2.3.4%eth0", a));
  Cidr c;
  ASSERT_TRUE(parse_cidr("2001:db8:1::/48", c));
  ASSERT_TRUE(parse_address("2001:db8:1:ffff::1", a));
  EXPECT_TRUE(c.contains(a));
  ASSERT_TRUE(parse_address("2001:db8:2::1", a));
  EXPECT_FALSE(c.contains(a));
  EXPECT_FALSE(parse_cidr("10.0.0.0/33", c));
  EXPECT_EQ(format_address(mask_address(a, 64)), "2001:db8:2::");
  ASSERT_TRUE(parse_address("198.51.100.77", a));
  EXPECT_EQ(format_address(mask_address(a, 24)), "198.51.100.0");
}

// format_address is its own formatter (inet_ntop's sprintf per group was a
// quarter of a restart's CPU) and its text is the key of the SQLite records:
// it must write exactly what glibc's inet_ntop writes. Compared on every
// shape of zero runs (each group zero, 0x0001, 0x00ff, 0x0abc or 0xffff:
// 5^8 IPv6 addresses, so every run position, tie and the ::a.b.c.d and
// ::ffff:a.b.c.d forms), and on IPv4 addresses of every octet width.
TEST(WatchMatchers, FormatAddressWritesWhatInetNtopWrites) {
  static constexpr uint16_t k_groups[] = {0, 0x1, 0xff, 0xabc, 0xffff};
  size_t compared = 0;
  char want[INET6_ADDRSTRLEN];
  for (uint32_t n = 0; n < 390625; ++n) {
    Address a;
    a.family = 6;
    uint32_t m = n;
    for (int g = 0; g < 8; ++g, m /= 5) {
      a.bytes[static_cast<size_t>(2 * g)] = static_cast<uint8_t>(k_groups[m % 5] >> 8);
      a.bytes[static_cast<size_t>(2 * g + 1)] = static_cast<uint8_t>(k_groups[m % 5]);
    }
    ASSERT_NE(inet_ntop(AF_INET6, a.bytes.data(), want, sizeof want), nullptr);
    ASSERT_EQ(format_address(a), want) << n;
    ++compared;
  }
  for (uint32_t n = 0; n < 4096; ++n) {
    Address a;
    a.family = 4;
    for (size_t i = 0; i < 4; ++i)
      a.bytes[i] = static_cast<uint8_t>(
          std::array<int, 8>{0, 1, 9, 10, 99, 100, 199, 255}[(n >> (3 * i)) & 7]);
    ASSERT_NE(inet_ntop(AF_INET, a.bytes.data(), want, sizeof want), nullptr);
    ASSERT_EQ(format_address(a), want) << n;
    ++compared;
  }
  EXPECT_EQ(compared, 390625u + 4096u);
  EXPECT_EQ(format_address(Address{}), "-");
}
