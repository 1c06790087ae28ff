#pragma once
// bulwark watch's configuration (YAML). Defaults are guide 003 §3.3's
// fail2ban values: maxretry 3, findtime 10m, bantime 1h; IPv6 sources are
// grouped by /64. docs/watch.md documents every key.

#include <bulwark/core/result.hpp>
#include <bulwark/watch/journal.hpp>
#include <bulwark/watch/matchers.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace bulwark::watch {

struct CustomMatcher {
  std::string regex; // as written, with <HOST>
  int line = 0;
};

struct JailConfig {
  std::string name;
  int line = 0;
  bool enabled = true;
  std::vector<Service> services;        // built-in matchers feeding this jail
  std::vector<CustomMatcher> failregex; // user-defined, <HOST> placeholder
  std::vector<std::string> programs;    // failregex only for these syslog tags ("" = any)
  std::vector<std::string> logs;        // files followed live
  // Journal entries this jail reads: by _SYSTEMD_UNIT (set by journald:
  // trustworthy) and, only when asked, by SYSLOG_IDENTIFIER (chosen by the
  // sender: any local process can claim "sshd").
  std::vector<std::string> units;
  std::vector<std::string> identifiers;
  bool configured = false; // named in the configuration file (not only a built-in default)
  int maxretry = 3;
  int64_t findtime = 600;
  int64_t bantime = 3600;
  double escalation_factor = 1.0; // bantime * factor^(n-1) for the n-th ban
  int64_t escalation_max = 7 * 86400;
  // A source whose last ban ended longer ago than this starts again at the
  // first ban (escalation history decays).
  int64_t escalation_forget = 7 * 86400;
  int ipv4_prefix = 32;
  int ipv6_prefix = 64;
  std::vector<Cidr> ignoreip; // loopback is always ignored in addition
};

struct Config {
  std::string path;
  std::vector<JailConfig> jails;
  MatcherOptions matchers;
  size_t max_tracked = 1u << 20; // sources in windows, all jails together
  size_t max_bans = 1u << 16;    // ban records kept (active and for escalation)
  size_t max_line = 1u << 20;    // longer lines are skipped whole, and counted
  std::string state_dir = "/var/lib/bulwark";
  std::string metrics_listen = "127.0.0.1:9617"; // "" = no HTTP endpoint
  std::string textfile;                          // node_exporter textfile path
  // Where bans go: "nftables" (libnftables, table inet nft_table) or
  // "iptables-ipset" (ipsets ipset_name-v4/-v6 and iptables rules, for
  // hosts without nftables: ipset.hpp).
  std::string action = "nftables";
  std::string nft_table = "bulwark";
  std::string ipset_name = "bulwark";
  int64_t nft_check_interval = 30;    // seconds between checks that the table holds the bans
  int64_t ipset_check_interval = 30;  // the same for the sets and rules of iptables-ipset
  JournalConfig journal;              // off unless units or identifiers are given
  std::vector<std::string> hook_exec; // hook.exec: PROGRAM ARG... per ban (hook.hpp)
};

// The defaults: jails sshd, nginx, postgresql, openvpn, strongswan (each
// its own service, Debian's log paths) and sudo (counted, never banned: sudo
// names no remote address).
Config default_config();

// "90", "90s", "10m", "1h", "1d", "1w" -> seconds.
bool parse_duration(std::string_view s, int64_t &out);

// A user regex with each <HOST> replaced by the capture group (?P<host>...)
// of a literal address (RE2 syntax).
std::string expand_host(std::string_view regex);

// Parses a configuration file's text. Errors carry `path` and the line.
Result<Config> parse_config(std::string_view text, const std::string &path);

} // namespace bulwark::watch
