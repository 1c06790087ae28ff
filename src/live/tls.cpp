// Live TLS probes (see include/bulwark/live/tls.hpp). OpenSSL 3 client
// contexts at security level 0, on non-blocking sockets with a deadline per
// connection; certificate verification is off on purpose (the probe reports
// what is served, it does not trust it).

#include <bulwark/core/fd.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/tls.hpp>
#include <bulwark/parse/tls_policy.hpp>

#include "net.hpp"
#include "ssl_drive.hpp"

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <arpa/inet.h>
#include <cstring>
#include <ifaddrs.h>
#include <memory>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sstream>
#include <unistd.h>

namespace bulwark::live {

namespace {

struct TlsCtxFree {
  void operator()(SSL_CTX *c) const { SSL_CTX_free(c); }
};
struct SslFree {
  void operator()(SSL *s) const { SSL_free(s); }
};

const char *k_all12 = "ALL:COMPLEMENTOFALL:@SECLEVEL=0";
const char *k_all13 = "TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:"
                      "TLS_AES_128_CCM_SHA256:TLS_AES_128_CCM_8_SHA256";

struct Attempt {
  bool ok = false;
  bool timed_out = false; // the peer sent nothing in time
  std::string error;
  std::string cipher;
  std::string version;
  std::vector<x509::Certificate> chain;
  bool http = false;
  std::string status;
  std::optional<std::string> hsts;
};

std::string ssl_reason() {
  unsigned long e = ERR_peek_last_error();
  ERR_clear_error();
  if (e == 0)
    return "handshake failed";
  const char *r = ERR_reason_error_string(e);
  return r ? r : "handshake failed";
}

void read_http(SSL *ssl, int fd, const std::string &host, net::Clock::time_point deadline,
               Attempt &a) {
  std::string req = "GET / HTTP/1.1\r\nHost: " + host +
                    "\r\nUser-Agent: bulwark-probe\r\nConnection: close\r\n\r\n";
  bool to = false;
  int w = net::drive(
      ssl, fd, deadline, [&] { return SSL_write(ssl, req.data(), static_cast<int>(req.size())); },
      to);
  if (w <= 0)
    return;
  std::string resp;
  char buf[4096];
  while (resp.size() < 65536 && resp.find("\r\n\r\n") == std::string::npos) {
    int n = net::drive(
        ssl, fd, deadline, [&] { return SSL_read(ssl, buf, sizeof buf); }, to);
    if (n <= 0)
      break;
    resp.append(buf, static_cast<size_t>(n));
  }
  size_t end = resp.find("\r\n\r\n");
  if (!text::starts_with(resp, "HTTP/"))
    return;
  a.http = true;
  std::string head = resp.substr(0, end);
  std::istringstream in(head);
  std::string line;
  bool first = true;
  while (std::getline(in, line)) {
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (first) {
      a.status = text::printable(line, 80);
      first = false;
      continue;
    }
    size_t c = line.find(':');
    if (c == std::string::npos)
      continue;
    if (text::iequals(text::trim(std::string_view(line).substr(0, c)), "Strict-Transport-Security"))
      a.hsts = text::printable(text::trim(std::string_view(line).substr(c + 1)), 200);
  }
}

// One connection and handshake. version 0 = any of TLS 1.0..1.3.
Attempt handshake(const std::string &addr, int port, const std::string &sni, int version,
                  const std::string &ciphers, const ProbeOptions &opt, bool want_chain,
                  bool want_http) {
  Attempt a;
  auto deadline = net::Clock::now() + std::chrono::milliseconds(opt.timeout_ms);
  ERR_clear_error();
  std::unique_ptr<SSL_CTX, TlsCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx) {
    a.error = "OpenSSL: " + ssl_reason();
    return a;
  }
  SSL_CTX_set_security_level(ctx.get(), 0);
  SSL_CTX_set_verify(ctx.get(), SSL_VERIFY_NONE, nullptr);
  SSL_CTX_set_options(ctx.get(), SSL_OP_LEGACY_SERVER_CONNECT);
  SSL_CTX_set_min_proto_version(ctx.get(), version ? version : TLS1_VERSION);
  SSL_CTX_set_max_proto_version(ctx.get(), version ? version : TLS1_3_VERSION);
  if (SSL_CTX_set_cipher_list(ctx.get(), ciphers.empty() ? k_all12 : ciphers.c_str()) != 1 ||
      SSL_CTX_set_ciphersuites(ctx.get(), k_all13) != 1) {
    a.error = "OpenSSL: " + ssl_reason();
    return a;
  }
  UniqueFd fd;
  fd.fd = net::connect_to(addr, port, deadline, a.error);
  if (fd.fd < 0)
    return a;
  std::unique_ptr<SSL, SslFree> ssl(SSL_new(ctx.get()));
  SSL_set_fd(ssl.get(), fd.fd);
  if (!sni.empty())
    SSL_set_tlsext_host_name(ssl.get(), sni.c_str());
  int r = net::drive(
      ssl.get(), fd.fd, deadline, [&] { return SSL_connect(ssl.get()); }, a.timed_out);
  if (r <= 0) {
    a.error =
        a.timed_out ? "no answer within " + std::to_string(opt.timeout_ms) + " ms" : ssl_reason();
    return a;
  }
  a.ok = true;
  a.cipher = SSL_get_cipher_name(ssl.get());
  a.version = SSL_get_version(ssl.get());
  if (want_chain) {
    STACK_OF(X509) *chain = SSL_get_peer_cert_chain(ssl.get());
    std::string pem;
    for (int i = 0; chain && i < sk_X509_num(chain); ++i) {
      BIO *b = BIO_new(BIO_s_mem());
      PEM_write_bio_X509(b, sk_X509_value(chain, i));
      char *data = nullptr;
      long len = BIO_get_mem_data(b, &data);
      pem.append(data, static_cast<size_t>(len > 0 ? len : 0));
      BIO_free(b);
    }
    std::string label = "live " + addr + ":" + std::to_string(port);
    if (auto certs = x509::parse_certificates(pem, label); certs)
      a.chain = *certs;
  }
  if (want_http) {
    std::string host =
        sni.empty() ? (addr.find(':') != std::string::npos ? "[" + addr + "]" : addr) : sni;
    read_http(ssl.get(), fd.fd, host, deadline, a);
  }
  bool to = false;
  (void)net::drive(
      ssl.get(), fd.fd, deadline, [&] { return SSL_shutdown(ssl.get()) >= 0 ? 1 : -1; }, to);
  ERR_clear_error();
  return a;
}

std::vector<std::string> tls12_candidates() {
  std::vector<std::string> out;
  std::unique_ptr<SSL_CTX, TlsCtxFree> ctx(SSL_CTX_new(TLS_client_method()));
  if (!ctx || SSL_CTX_set_cipher_list(ctx.get(), k_all12) != 1)
    return out;
  STACK_OF(SSL_CIPHER) *sk = SSL_CTX_get_ciphers(ctx.get());
  for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); ++i) {
    const SSL_CIPHER *c = sk_SSL_CIPHER_value(sk, i);
    if (SSL_CIPHER_get_kx_nid(c) != NID_kx_any)
      out.push_back(SSL_CIPHER_get_name(c));
  }
  return out;
}

} // namespace

TlsProbe probe_tls(const std::string &address, int port, const std::string &sni,
                   const ProbeOptions &opt) {
  TlsProbe p;
  p.address = address;
  p.port = port;
  p.sni = sni;
  auto start = net::Clock::now();
  if (!is_local_address(address)) {
    p.error = address + " is not an address of this host; not probed";
    return p;
  }
  // First any version: tells a TLS server from a silent or foreign one, so
  // that a silent peer costs one timeout, not one per version.
  Attempt any = handshake(address, port, sni, 0, "", opt, true, opt.http);
  if (!any.ok) {
    p.error = any.timed_out ? "accepts TCP but sends no TLS handshake (" + any.error + ")"
                            : "no TLS handshake: " + any.error;
    p.elapsed_ms = std::chrono::duration<double, std::milli>(net::Clock::now() - start).count();
    return p;
  }
  p.chain = any.chain;
  p.http = any.http;
  p.http_status = any.status;
  p.hsts = any.hsts;
  const std::pair<const char *, int> versions[] = {{"TLSv1", TLS1_VERSION},
                                                   {"TLSv1.1", TLS1_1_VERSION},
                                                   {"TLSv1.2", TLS1_2_VERSION},
                                                   {"TLSv1.3", TLS1_3_VERSION}};
  for (auto &[name, v] : versions) {
    if (any.version == name) {
      p.versions[name] = true;
      continue;
    }
    p.versions[name] = handshake(address, port, sni, v, "", opt, false, false).ok;
  }
  if (opt.ciphers && p.versions["TLSv1.2"]) {
    std::vector<std::string> left = tls12_candidates();
    for (int i = 0; i < 256 && !left.empty(); ++i) {
      std::string list = text::join(left, ":") + ":@SECLEVEL=0";
      Attempt a = handshake(address, port, sni, TLS1_2_VERSION, list, opt, false, false);
      if (!a.ok)
        break;
      auto it = std::find(left.begin(), left.end(), a.cipher);
      if (it == left.end())
        break; // the server chose something we did not offer: stop rather than loop
      p.tls12_ciphers.push_back(a.cipher);
      left.erase(it);
    }
  }
  p.elapsed_ms = std::chrono::duration<double, std::milli>(net::Clock::now() - start).count();
  return p;
}

bool is_local_address(const std::string &address) {
  in6_addr a6{};
  in_addr a4{};
  bool v4 = ::inet_pton(AF_INET, address.c_str(), &a4) == 1;
  bool v6 = !v4 && ::inet_pton(AF_INET6, address.c_str(), &a6) == 1;
  if (!v4 && !v6)
    return false;
  if (v4 && (ntohl(a4.s_addr) >> 24) == 127)
    return true;
  if (v6 && IN6_IS_ADDR_LOOPBACK(&a6))
    return true;
  ifaddrs *ifs = nullptr;
  if (::getifaddrs(&ifs) != 0)
    return false;
  bool found = false;
  for (ifaddrs *i = ifs; i && !found; i = i->ifa_next) {
    if (!i->ifa_addr)
      continue;
    if (v4 && i->ifa_addr->sa_family == AF_INET)
      found = reinterpret_cast<sockaddr_in *>(i->ifa_addr)->sin_addr.s_addr == a4.s_addr;
    else if (v6 && i->ifa_addr->sa_family == AF_INET6)
      found = IN6_ARE_ADDR_EQUAL(&reinterpret_cast<sockaddr_in6 *>(i->ifa_addr)->sin6_addr, &a6);
  }
  ::freeifaddrs(ifs);
  return found;
}

} // namespace bulwark::live
