#pragma once
// strongSwan 5.9 (Debian 12: 5.9.8) IKE/ESP proposals from swanctl.conf and
// the legacy ipsec.conf.
//
// - swanctl.conf uses libstrongswan's settings syntax (settings_parser.y):
//   `name { ... }` sections, `key = value` to the end of the line (or a
//   "quoted" value), `#` comments, `include GLOB` relative to the including
//   file's directory. Proposals live in connections.<conn>.proposals (IKE)
//   and connections.<conn>.children.<child>.esp_proposals / ah_proposals.
//   An absent key means strongSwan's compiled-in default proposals, as does
//   the keyword `default` inside a list.
// - ipsec.conf (starter's confread.c): `conn NAME` / `config setup` /
//   `ca NAME` sections, indented `key=value` lines, `also=NAME` pulls in
//   another conn, `conn %default` applies to all, `include GLOB` at the top
//   level. `ike=` and `esp=` hold proposals; a trailing `!` makes the list
//   strict, otherwise the defaults are appended (defaults hold no weak
//   algorithm in 5.9, so that changes nothing here).
// Sources:
// https://github.com/strongswan/strongswan/blob/5.9.8/src/libstrongswan/settings/settings_parser.y,
// src/starter/confread.c, docs "Proposals" (IKEv2 Cipher Suites).

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/confnode.hpp>

#include <string_view>

namespace bulwark::strongswan {

struct Proposal {
  std::string source;  // "swanctl", "ipsec.conf"
  std::string context; // "connections.site-a (IKE)", "conn site-a esp"
  std::string kind;    // "ike", "esp", "ah"
  std::string value;   // as written; "default" when absent
  SourceLocation loc;  // line 0: absent (the default applies)
};

struct Model {
  bool swanctl_present = false;
  bool ipsec_present = false;
  std::vector<Proposal> proposals;
  std::vector<ConfDiagnostic> diagnostics;
  std::vector<std::string> files;
};

// swanctl's settings text as a tree (sections are blocks, `key = value`
// nodes carry the value as their one argument). Includes are recorded
// only. The fuzz entry point.
ConfTree parse_settings_text(std::string_view text, const std::string &path);
ConfTree parse_ipsec_text(std::string_view text, const std::string &path);

Model load(const RootFs &fs, const std::string &swanctl = "/etc/swanctl/swanctl.conf",
           const std::string &ipsec = "/etc/ipsec.conf");

// The weak algorithms of one proposal list (3DES, DES, MD5, SHA-1, MODP-1024
// and smaller groups), e.g. {"3des", "modp1024"}; empty when none.
std::vector<std::string> weak_algorithms(std::string_view proposals);

} // namespace bulwark::strongswan
