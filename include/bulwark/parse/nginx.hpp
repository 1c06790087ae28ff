#pragma once
// nginx's configuration (nginx 1.22, Debian 12), read as nginx reads it.
//
// - Tokens (ngx_conf_read_token): words split at blanks, `;` ends a
//   directive, `{` opens a block, `}` closes one and must stand alone; `#`
//   at the start of a word comments out the rest of the line; a word may be
//   quoted with " or ' (after the closing quote only a blank, `;` or `{` may
//   follow); a backslash keeps the next character in the word, and `\"`,
//   `\'`, `\\`, `\t`, `\r`, `\n` are then unescaped.
// - `include FILE|GLOB;` is read in place, in any context; a relative path
//   is taken from the configuration prefix (/etc/nginx); glob matches are
//   read in sorted order and a glob matching nothing is not an error. nginx
//   itself has no bound on nesting (a loop ends in "too many open files");
//   here nesting stops at 16 and the total at 1024 files, with an error.
// - Blocks must balance within each file.
// Source: https://github.com/nginx/nginx/blob/release-1.22.1/src/core/ngx_conf_file.c

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/confnode.hpp>
#include <bulwark/parse/tls_endpoint.hpp>

#include <string_view>

namespace bulwark::nginx {

inline constexpr int k_max_include_depth = 16;
inline constexpr int k_max_files = 1024;
inline constexpr int k_max_block_depth = 256;

// One file's text, without following includes (the fuzz entry point).
ConfTree parse_text(std::string_view text, const std::string &path);

// The whole configuration from `main` inside the root. Absent main file:
// present == false. Unreadable files and syntax errors become diagnostics.
ConfTree load(const RootFs &fs, const std::string &main = "/etc/nginx/nginx.conf");

// The http and stream servers with their effective TLS settings after
// http -> server -> location inheritance (nginx 1.22 defaults where unset:
// ssl_protocols "TLSv1 TLSv1.1 TLSv1.2" (TLSv1.3 joined the default only in
// 1.23.4; a live probe of Debian's 1.22.1 confirms it), ssl_ciphers
// "HIGH:!aNULL:!MD5", ssl_prefer_server_ciphers off).
std::vector<TlsEndpoint> endpoints(const ConfTree &tree);

} // namespace bulwark::nginx
