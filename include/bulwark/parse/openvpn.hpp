#pragma once
// OpenVPN 2.6 configuration files (Debian 12: 2.6.3), read as options.c
// reads them (read_config_file, parse_line, read_inline_file).
//
// - One option per line: the name, then arguments split at blanks. `#` or
//   `;` where a word would start begins a comment. "double quotes" group a
//   word and take backslash escapes; 'single quotes' are literal; a
//   backslash outside quotes escapes the next character.
// - A leading `--` on the option name is allowed in files and dropped
//   (`--cipher AES-256-GCM` is `cipher AES-256-GCM`).
// - Inline files: `<tls-crypt>` ... `</tls-crypt>` give the option its file
//   content inline (ca, cert, key, tls-auth, tls-crypt, tls-crypt-v2, ...).
// - `config FILE` reads another file in place (nesting stops at 10).
// - For single-valued options the last occurrence wins.
// Source: https://github.com/OpenVPN/openvpn/blob/release/2.6/src/openvpn/options.c

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/confnode.hpp>

#include <string_view>

namespace bulwark::openvpn {

struct Option {
  std::string name; // without a leading "--"
  std::vector<std::string> args;
  SourceLocation loc;
  bool is_inline = false; // from <name> ... </name>
  std::string inline_text;
};

struct Config {
  std::string path;
  std::vector<Option> options; // in reading order, `config` files spliced in
  std::vector<ConfDiagnostic> diagnostics;

  const Option *last(std::string_view name) const;
  bool has(std::string_view name) const { return last(name) != nullptr; }
  // A server: `server`, `server-bridge`, `mode server` or `tls-server`.
  bool is_server() const;
  bool is_client() const; // `client`, `tls-client`, or a `remote` without server options
};

Config parse_text(std::string_view text, const std::string &path);
Config load(const RootFs &fs, const std::string &path);

// The configurations Debian's openvpn@ and openvpn-server@ units start:
// /etc/openvpn/server/*.conf and /etc/openvpn/*.conf (client/ is left out).
std::vector<Config> load_all(const RootFs &fs);

} // namespace bulwark::openvpn
