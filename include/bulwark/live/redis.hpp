#pragma once
// Live Redis probes (--live, this host only): an unauthenticated PING on an
// address or unix socket, and whether the commands redis.dangerous-commands
// asks about are reachable for that unauthenticated client, found with
// ACL DRYRUN or COMMAND INFO (the commands themselves are never sent).
// Every probe gives up after `timeout_ms`.

#include <map>
#include <string>
#include <string_view>

namespace bulwark::live {

struct RedisProbeResult {
  enum class Outcome {
    pong,           // answered PING without authentication
    auth_required,  // NOAUTH
    protected_mode, // DENIED (protected mode refuses this non-loopback client)
    unreachable,    // refused, or no answer within the timeout
    protocol_error, // something answered that is not Redis
  };
  std::string target; // "127.0.0.1:6379", "unix:/run/redis/redis-server.sock"
  Outcome result = Outcome::unreachable;
  std::string detail;
  // With pong: command -> "allowed", "denied", "absent" (renamed or removed),
  // "present" (exists; whether the ACL allows it could not be asked).
  std::map<std::string, std::string> commands;
};
std::string_view to_string(RedisProbeResult::Outcome o);

// host: an address, or a unix socket path starting with '/'.
RedisProbeResult redis_probe(const std::string &host, int port, int timeout_ms = 1500);

// The same PING over TLS, for a `tls-port` (hiredis 0.14 has no TLS): the
// server's certificate is not verified (this host's own server is probed,
// certificates are tls.* checks' business) and no client certificate is
// sent, so a server with tls-auth-clients yes refuses the client
// (unreachable, the detail says why). The commands are not asked about.
RedisProbeResult redis_probe_tls(const std::string &host, int port, int timeout_ms = 1500);

} // namespace bulwark::live
