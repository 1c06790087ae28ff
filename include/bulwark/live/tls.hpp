#pragma once
// Live TLS probes of this host's own listeners (bulwark audit --live). A
// probe only connects to an address of this host, gives up after the
// timeout at every step (connect, handshake, read), and only ever performs
// handshakes and one `GET /`: it never changes server state.
//
// Per protocol version the probe forces min = max = that version and lowers
// OpenSSL's security level to 0 for the probe's own context only, so a
// server that still accepts TLS 1.0 is seen doing so. The accepted TLS 1.2
// suites are found the way sslscan does: offer everything, note the suite
// the server picks, remove it, repeat until the server refuses.

#include <bulwark/parse/x509.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::live {

struct TlsProbe {
  std::string address; // as connected to ("127.0.0.1", "::1")
  int port = 0;
  std::string sni;   // "" = none sent
  std::string error; // why nothing could be learnt ("connection refused", "no TLS: ...")
  std::map<std::string, bool> versions;   // "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
  std::vector<std::string> tls12_ciphers; // OpenSSL names, in the order found
  std::vector<x509::Certificate> chain;   // as served (path = "live ADDRESS:PORT")
  bool http = false;                      // an HTTP response came back over TLS
  std::string http_status;                // "HTTP/1.1 200 OK"
  std::optional<std::string> hsts;        // the Strict-Transport-Security value
  double elapsed_ms = 0;
};

struct ProbeOptions {
  int timeout_ms = 1500; // per connection step; stays under the 2 s rule
  bool ciphers = true;   // enumerate TLS 1.2 suites
  bool http = true;      // GET / for the headers
};

// REQUIRES: `address` is a numeric IPv4/IPv6 address of this host (see
// is_local_address); otherwise an error probe is returned and nothing is sent.
TlsProbe probe_tls(const std::string &address, int port, const std::string &sni,
                   const ProbeOptions &opt = {});

// True for loopback and for the addresses of this host's interfaces.
bool is_local_address(const std::string &address);

} // namespace bulwark::live
