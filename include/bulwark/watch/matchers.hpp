#pragma once
// Built-in matchers: hand-written parsers of the fixed text each daemon
// writes around an authentication failure. The source address is taken only
// from a position the daemon fills itself (right-anchored after a
// user-controlled field, or left-anchored before one); where a format puts
// attacker-controlled text on both sides of the address, every candidate is
// collected and a line with two different candidates yields no address.
// docs/watch.md lists the lines each matcher recognises.

#include <bulwark/watch/logline.hpp>

#include <array>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::watch {

struct Address {
  uint8_t family = 0; // 4 or 6; 0 = none
  std::array<uint8_t, 16> bytes{};
  bool operator==(const Address &) const = default;
};

// Parses a literal IPv4 or IPv6 address (no host names, no zone index);
// IPv4-mapped IPv6 (::ffff:a.b.c.d) becomes IPv4.
bool parse_address(std::string_view s, Address &out);
// The address with the host bits beyond `prefix` cleared.
Address mask_address(const Address &a, int prefix);
std::string format_address(const Address &a);

struct Cidr {
  Address net;
  int prefix = 0;
  bool contains(const Address &a) const;
};
bool parse_cidr(std::string_view s, Cidr &out);

enum class Service : uint8_t { sshd, sudo, nginx, postgresql, openvpn, strongswan, custom, count };
std::string_view service_name(Service s);
bool service_from_name(std::string_view name, Service &out);

enum class Kind : uint8_t { auth_failed, unauthorized };

struct Event {
  Service service = Service::custom;
  Kind kind = Kind::auth_failed;
  std::string_view reason; // a label value, static storage
  Address addr;            // family 0 when the line names no (unambiguous) source
  bool ambiguous = false;  // two different candidate addresses, or a possibly truncated line
};

struct MatcherOptions {
  // HTTP statuses of nginx's access.log that count: 401 as a failed
  // authentication, the others as unauthorized access.
  std::vector<int> nginx_statuses = {401, 403};
};

// Stateful only where a daemon names the source on an earlier line of the
// same connection (PostgreSQL's "connection received" by backend pid,
// strongSwan's "is initiating an IKE_SA" by IKE_SA name): a bounded table.
class BuiltinMatchers {
public:
  explicit BuiltinMatchers(MatcherOptions opts = {});
  // True when `line` is an authentication failure of a built-in service.
  bool match(const LogLine &line, Event &out);

private:
  struct Recent {
    std::string key;
    Address addr;
  };
  void remember(std::string_view key, const Address &a);
  const Address *recall(std::string_view key) const;

  bool sshd(std::string_view msg, Event &out);
  bool sudo(std::string_view msg, Event &out);
  bool nginx_error(std::string_view msg, size_t line_size, Event &out);
  bool nginx_access(std::string_view line, Event &out);
  bool postgres(std::string_view pid, std::string_view msg, Event &out);
  bool openvpn(std::string_view msg, Event &out);
  bool strongswan(std::string_view msg, Event &out);

  MatcherOptions m_opts;
  std::vector<Recent> m_recent; // ring, k_recent entries
  size_t m_recent_next = 0;
};

// Whether the syslog tag names one of the services (used to route lines).
bool is_sshd_tag(std::string_view prog);

} // namespace bulwark::watch
