#pragma once
// Apache httpd 2.4's configuration (Debian 12: 2.4.62), read the way
// ap_build_config reads it, for the TLS settings of mod_ssl and mod_headers.
//
// - Lines: a trailing backslash joins the next line; `#` first (after
//   blanks) is a comment, and only there. Arguments follow ap_getword_conf:
//   blank-separated, "double" or 'single' quoted with \" and \' escapes.
// - Sections `<Name args>` ... `</Name>`; directive names are
//   case-insensitive. <IfModule>, <IfDefine>, <IfVersion> are taken as true.
// - Include / IncludeOptional: relative to ServerRoot (/etc/apache2), globs
//   in any component, a directory reads every file below it in sorted order;
//   Include of a glob with no match is an error, IncludeOptional is silent.
//   Nesting stops at 16 (Apache's own AP_MAX_INCLUDE_DEPTH is 128).
// - mod_ssl: SSLProtocol is parsed from nothing on every occurrence: a bare
//   word (TLSv1.2, all) sets, +/- add and remove; `all` is TLSv1 to TLSv1.3.
//   Unset, it is `all -SSLv3`; SSLCipherSuite unset is OpenSSL's DEFAULT;
//   a first argument TLSv1.3 sets the TLS 1.3 suites. A VirtualHost inherits
//   what it does not set from the main server (SSLEngine included).
// - mod_headers: the server's Header operations run before the vhost's.
// Sources: server/config.c, server/util.c (ap_getword_conf),
// modules/ssl/ssl_engine_config.c, modules/metadata/mod_headers.c (2.4.x).

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/confnode.hpp>
#include <bulwark/parse/tls_endpoint.hpp>

#include <string_view>

namespace bulwark::apache {

inline constexpr int k_max_include_depth = 16;
inline constexpr int k_max_files = 1024;

ConfTree parse_text(std::string_view text, const std::string &path);
ConfTree load(const RootFs &fs, const std::string &main = "/etc/apache2/apache2.conf");

// VirtualHosts (and the main server when it enables SSL itself).
std::vector<TlsEndpoint> endpoints(const ConfTree &tree);

} // namespace bulwark::apache
