#pragma once
// A TLS endpoint as a web server's configuration defines it: the effective
// protocol list, cipher strings, certificates and response headers of one
// server (nginx `server {}`, Apache `<VirtualHost>`), after inheritance.
// The parsers (nginx.cpp, apache.cpp) fill it; the tls.* checks judge it.

#include <bulwark/core/finding.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bulwark {

// One effective setting: the value and the line that decided it. When no
// line sets it, `loc.line` is 0 and `value` is the daemon's compiled-in
// default (`is_default`).
struct TlsSetting {
  std::string value;
  SourceLocation loc;
  bool is_default = true;
};

struct TlsListen {
  std::string address; // "" = every address; "[::]" forms without brackets
  int port = 0;
  bool ssl = false;
  bool default_server = false; // nginx `default_server` (or the old `default`)
  SourceLocation loc;
};

// The response headers one scope (server or location) sends, and where they
// come from: the level whose own add_header/Header lines apply.
struct HeaderScope {
  std::string label; // "server", "location /api"
  SourceLocation loc;
  struct Header {
    std::string name, value;
    bool always = false; // nginx `always`, Apache `Header always`
    SourceLocation loc;
  };
  std::vector<Header> headers;
  // nginx: the level's own add_header lines replaced inherited ones that
  // held a Strict-Transport-Security header (set when that happened).
  std::optional<SourceLocation> dropped_hsts;
  // Apache: `Header unset Strict-Transport-Security` took it away here.
  std::optional<SourceLocation> unset_hsts;
};

struct TlsEndpoint {
  std::string daemon;  // "nginx", "apache"
  std::string subject; // "nginx server example.com:443"
  // A server inside a compose service: "<project>/<service>", the subject
  // its findings are reported under ("" for the host's own servers).
  std::string service;
  SourceLocation loc; // the server / VirtualHost line
  std::vector<std::string> names;
  std::vector<TlsListen> listens;
  bool tls = false;     // some listener speaks TLS
  TlsSetting protocols; // as written ("TLSv1.2 TLSv1.3", "all -SSLv3")
  // nginx: the server whose ssl_protocols this one's TLS listeners negotiate
  // (the default server of a shared address:port), "" when its own.
  std::string protocols_from;
  std::vector<std::string> versions; // effective: "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"
  TlsSetting ciphers;                // OpenSSL cipher string (TLS 1.2 and below)
  TlsSetting ciphersuites;           // TLS 1.3 suites ("" = OpenSSL's default)
  TlsSetting prefer_server_ciphers;
  std::vector<TlsSetting> certificates;
  std::vector<TlsSetting> keys;
  std::vector<HeaderScope> header_scopes; // server first, then each location
};

} // namespace bulwark
