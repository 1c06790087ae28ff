#pragma once
// pg_hba.conf as PostgreSQL reads it (hba.c of release 15, Debian 12; the
// include directives and backslash continuation of release 16 when the
// cluster is 16 or newer), and the server's first-match rule selection
// (check_hba), so that checks judge only the rules a connection can reach.
// See src/parse/pg_hba.cpp for the details and sources.

#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/postgresql_conf.hpp>

#include <array>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::pg {

struct HbaToken {
  std::string text;
  bool quoted = false; // began with a double quote: never a keyword
  bool is_keyword(std::string_view k) const { return !quoted && text == k; }
};

enum class ConnType { local, host, hostssl, hostnossl, hostgssenc, hostnogssenc };
std::string_view to_string(ConnType t);

struct HbaAddress {
  enum class Kind { none, all, samehost, samenet, mask, hostname };
  Kind kind = Kind::none;
  std::string text; // as written (address[/bits] or "addr mask")
  int family = 0;   // AF_INET / AF_INET6 for mask
  std::array<uint8_t, 16> addr{};
  std::array<uint8_t, 16> mask{};
  int prefix = -1; // number of leading one bits of a contiguous mask, else -1
};

struct HbaRule {
  ConnType type = ConnType::host;
  std::vector<HbaToken> databases; // @files expanded
  std::vector<HbaToken> users;
  HbaAddress address;
  std::string method; // as written: trust, md5, scram-sha-256, ...
  std::vector<std::pair<std::string, std::string>> options;
  SourceLocation loc;
  int rule_number = 0; // 1-based among valid rules, as pg_hba_file_rules
  std::string warning; // e.g. hostssl while ssl is off (the rule loads, never matches)
};

struct HbaFile {
  std::vector<HbaRule> rules; // valid rules in file order
  std::vector<Diagnostic> diagnostics;
  std::vector<std::string> files;
};

struct HbaOptions {
  int major_version = 15;  // 16+: include directives and '\' continuation
  bool ssl_enabled = true; // ssl = on: hostssl rules can match
  size_t max_file_bytes = 16 * 1024 * 1024;
  int max_depth = 10;
  // The work budget of shadowing(): exact rule-against-rule tests. Its index
  // makes realistic and most adversarial files near-linear; this stops the
  // rest (rules crafted to share every bucket) from running quadratic.
  size_t max_shadow_tests = 20'000'000;
};

// Reads the file (a target path). A missing file is an error diagnostic.
HbaFile load_pg_hba(const RootFs &fs, const std::string &path, const HbaOptions &opts = {});
// One text; @file and include lines become diagnostics. For tests and fuzzing.
HbaFile parse_pg_hba_text(const std::string &path, std::string_view text,
                          const HbaOptions &opts = {});

// A connection as check_hba() sees it.
struct HbaClient {
  bool local = false; // unix socket
  bool ssl = false;
  bool gssenc = false;
  int family = 0; // AF_INET / AF_INET6 for TCP
  std::array<uint8_t, 16> addr{};
  std::string database;
  std::string user;
  bool replication = false;       // a physical replication connection
  std::vector<std::string> roles; // roles the user is a member of (not superuser magic)
  bool from_this_host = true;     // samehost / samenet: the client address is local
};
// Parses "127.0.0.1" / "::1" into the client's family and address.
bool set_client_address(HbaClient &c, std::string_view ip);

// Index into file.rules of the first rule that matches, or -1 (implicit
// reject). Host name rules never match here (no DNS in an audit).
int first_match(const HbaFile &file, const HbaClient &c);

// Whether some earlier rule matches every connection this rule matches (so
// it can never be reached), or it is hostssl with ssl off. Returns the index
// of the shadowing rule, -1 when the rule is reachable, -2 when it can never
// match by itself (hostssl without ssl).
int shadowed_by(const HbaFile &file, size_t index, const HbaOptions &opts);

// shadowed_by() for every rule at once, in near-linear time: earlier rules
// are indexed by the users, databases and addresses they can cover, and only
// the smallest candidate list is tested. `by[i]` equals shadowed_by(file, i).
// When opts.max_shadow_tests runs out, `exhausted` is an error naming the
// rule reached, and that rule and the rest count as reachable (-1): a check
// then judges them as if nothing shadowed them (fail closed).
struct HbaShadowing {
  std::vector<int> by;
  std::optional<Diagnostic> exhausted;
};
HbaShadowing shadowing(const HbaFile &file, const HbaOptions &opts);

// Whether the address can only be this host (loopback, samehost).
bool address_is_local(const HbaAddress &a);
// Whether it admits every address of a family (all, 0.0.0.0/0, ::/0).
bool address_is_any(const HbaAddress &a);

} // namespace bulwark::pg
