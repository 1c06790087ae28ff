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
#include <unordered_map>
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
// The text inet_ntop(3) writes ("-" for no address).
std::string format_address(const Address &a);
// The same into `buf` (at least k_address_text_max bytes, NUL-terminated);
// returns its length. No allocation: for the batches of a restore.
inline constexpr size_t k_address_text_max = 48;
size_t format_address_to(const Address &a, char *buf);

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
  // How many authentication attempts the line stands for: 1 for most, N for
  // sudo's "N incorrect password attempts", 0 for a line that only repeats
  // what another line of the same connection counted (sshd's PAM and
  // preauth-close lines, "maximum authentication attempts exceeded").
  uint32_t attempts = 1;
  // An sshd connection that named an unknown user and tried no password
  // ("Invalid user" without a "Failed" line): weighs half an attempt.
  bool probe = false;
};

// Window weight of an event in half attempts: an attempt is 2, a probe 1.
inline uint32_t event_weight(const Event &e) {
  return e.probe ? 1 : 2 * e.attempts;
}

// Which nginx log counts basic-auth failures (each failure is written to
// both; counting both would count it twice). access_log: a 401 whose
// request carried a user ($remote_user set); error_log: "password mismatch"
// and "was not found in". A 401 without credentials is the challenge every
// client gets before it sends them (git, curl --anyauth): never a failure.
enum class NginxFailures : uint8_t { access_log, error_log };

struct MatcherOptions {
  // HTTP statuses of nginx's access.log that count: 401 (with a user) as a
  // failed authentication, the others as unauthorized access.
  std::vector<int> nginx_statuses = {401, 403};
  NginxFailures nginx_failures = NginxFailures::access_log;
};

// Stateful only where a daemon names the source on an earlier line of the
// same connection (PostgreSQL's "connection received" by backend pid,
// strongSwan's "is initiating an IKE_SA" by IKE_SA name): a bounded table.
//
// sshd's lines are correlated per connection (the per-connection sshd[pid],
// sshd-session[pid] from OpenSSH 9.8, within one origin and host) into
// attempts: each "Failed <method>" but "none" is one; "error: PAM:
// Authentication failure" is one and the "Failed keyboard-interactive/pam"
// that follows it (logged only for invalid users or late failures) adds
// nothing; pam_unix's line, "maximum authentication attempts exceeded",
// "Too many authentication failures" and the [preauth] close add nothing;
// "Invalid user" is a probe unless an attempt of the same connection
// follows: the probe is emitted with the close of the connection (or when
// the connection has been idle for 10 minutes of log time).
class BuiltinMatchers {
public:
  explicit BuiltinMatchers(MatcherOptions opts = {});
  // True when `line` is an authentication failure of a built-in service.
  // `t`: the line's time (for idle connections); `origin`: where the line
  // came from (a file, a journal unit), so that one source cannot touch the
  // connections of another.
  bool match(const LogLine &line, Event &out, int64_t t = 0, std::string_view origin = {});
  // Probes of connections that ended without a close line, expired since
  // the last call (idle beyond 10 minutes before `t`, or all with `all`).
  struct Expired {
    Event event;
    std::string origin;
  };
  std::vector<Expired> take_expired(int64_t t, bool all = false);

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

  struct SshConn {
    Address addr;
    int64_t last = 0;
    bool probe = false;        // "Invalid user" seen, no attempt yet
    uint32_t pam_unpaired = 0; // "error: PAM" attempts a Failed line may still repeat
    std::string_view reason;   // of the probe: invalid_user or not_allowed
    std::string origin;
  };
  void correlate_sshd(const LogLine &l, std::string_view origin, int64_t t, Event &out);
  void expire(int64_t cutoff);

  MatcherOptions m_opts;
  std::vector<Recent> m_recent; // ring, k_recent entries
  size_t m_recent_next = 0;
  std::unordered_map<std::string, SshConn> m_ssh;
  std::vector<Expired> m_expired;
  int64_t m_last_sweep = 0;
};

// Whether the syslog tag names one of the services (used to route lines).
bool is_sshd_tag(std::string_view prog);

} // namespace bulwark::watch
