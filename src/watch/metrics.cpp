// Prometheus text format 0.0.4 (prometheus/docs exposition_formats.md).
#include <bulwark/watch/metrics.hpp>

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fmt/format.h>
#include <map>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bulwark::watch {

namespace {

std::string label(std::string_view v) {
  std::string out;
  for (char c : v) {
    if (c == '\\' || c == '"')
      out += '\\', out += c;
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void family(std::string &out, std::string_view name, std::string_view type, std::string_view help) {
  out += fmt::format("# HELP {} {}\n# TYPE {} {}\n", name, help, name, type);
}

} // namespace

std::string render_metrics(const Engine &e, int64_t now) {
  const Counters &c = e.counters();
  std::string out;
  family(out, "auth_failed_total", "counter",
         "Failed authentication attempts (not lines) seen in the logs, by service and reason.");
  std::map<std::string, uint64_t> unauthorized;
  for (auto &[k, v] : c.by_reason) {
    if (k.kind == Kind::auth_failed)
      out += fmt::format("auth_failed_total{{service=\"{}\",reason=\"{}\"}} {}\n", label(k.service),
                         label(k.reason), v);
    else
      unauthorized[k.service] += v;
  }
  family(out, "unauthorized_access_total", "counter",
         "Attempts to use something the user is not allowed to (sudo without a sudoers entry, "
         "HTTP 403, no pg_hba.conf entry), by service.");
  for (auto &[s, v] : unauthorized)
    out += fmt::format("unauthorized_access_total{{service=\"{}\"}} {}\n", label(s), v);
  auto counter = [&](std::string_view name, std::string_view help, uint64_t v) {
    family(out, name, "counter", help);
    out += fmt::format("{} {}\n", name, v);
  };
  auto gauge = [&](std::string_view name, std::string_view help, uint64_t v) {
    family(out, name, "gauge", help);
    out += fmt::format("{} {}\n", name, v);
  };
  counter("bulwark_lines_read_total", "Log lines read.", c.lines);
  counter("bulwark_bytes_read_total", "Log bytes read.", c.bytes);
  counter("bulwark_lines_too_long_total", "Lines skipped because they exceed limits.max_line.",
          c.lines_too_long);
  counter("bulwark_events_without_address_total",
          "Failures whose line names no unambiguous source address (not bannable).",
          c.events_without_address);
  counter("bulwark_events_ambiguous_total",
          "Failures whose line has conflicting candidate addresses or may be truncated.",
          c.events_ambiguous);
  counter("bulwark_events_ignored_total", "Failures from loopback or ignoreip sources.",
          c.events_ignored);
  counter("bulwark_events_without_attempt_total",
          "Recognised lines that repeat an attempt another line of the connection counted "
          "(sshd's PAM, preauth-close and maximum-attempts lines).",
          c.events_no_attempt);
  counter("bulwark_events_outside_sources_total",
          "Failure lines from a file or journal unit no jail of their service reads (ignored).",
          c.events_outside_sources);
  counter("bulwark_bans_total", "Ban decisions.", c.bans);
  counter("bulwark_bans_dropped_total", "Bans not made because the ban table was full.",
          c.bans_dropped);
  counter("bulwark_bans_failed_total",
          "Bans decided but not applied: nftables refused them (retried by the reconciler).",
          c.bans_failed);
  counter("bulwark_hook_failed_total",
          "hook.exec runs that could not start or exited with a failure status.", c.hooks_failed);
  counter("bulwark_evicted_sources_total",
          "Sources dropped from the full tracking table (least recently seen first).", e.evicted());
  gauge("bulwark_active_bans", "Bans in force.", e.active_bans(now));
  gauge("bulwark_tracked_sources", "Sources with failures in their window.", e.tracked());
  return out;
}

std::string alert_rules() {
  return R"(# Prometheus alerting rules for bulwark watch's metrics (guide 000,
# "Security Monitoring": TooManyFailedLogins, UnauthorizedAccess).
groups:
  - name: security
    rules:
      - alert: TooManyFailedLogins
        expr: sum by (service) (rate(auth_failed_total[5m])) > 10
        labels:
          severity: warning
        annotations:
          summary: "High rate of failed authentication attempts"
          description: "{{ $labels.service }}: {{ $value }} failed authentications per second over 5 minutes."
      - alert: UnauthorizedAccess
        expr: sum by (service) (increase(unauthorized_access_total[5m])) > 0
        labels:
          severity: critical
        annotations:
          summary: "Unauthorized access attempt detected"
          description: "{{ $labels.service }}: {{ $value }} unauthorized access attempts in 5 minutes."
      - alert: BulwarkBanRateHigh
        expr: rate(bulwark_bans_total[15m]) * 60 > 5
        labels:
          severity: warning
        annotations:
          summary: "bulwark is banning more than 5 sources a minute"
          description: "A distributed attack, or a matcher banning legitimate clients."
      - alert: BulwarkBanFailed
        expr: increase(bulwark_bans_failed_total[15m]) > 0
        labels:
          severity: critical
        annotations:
          summary: "bulwark decided bans it could not apply"
          description: "nftables refused the ban (table deleted, nftables restarted, no CAP_NET_ADMIN): attackers are not blocked."
      - alert: BulwarkHookFailed
        expr: increase(bulwark_hook_failed_total[15m]) > 0
        labels:
          severity: warning
        annotations:
          summary: "bulwark's ban hook failed"
          description: "hook.exec could not start or exited non-zero: its notifications (or actions) for some bans did not happen."
      - alert: BulwarkSourcesEvicted
        expr: increase(bulwark_evicted_sources_total[15m]) > 0
        labels:
          severity: warning
        annotations:
          summary: "bulwark's source table is full and evicting"
          description: "Raise limits.max_tracked, or the attack is wider than the table."
)";
}

Result<std::unique_ptr<MetricsServer>> MetricsServer::listen(const std::string &addr) {
  size_t colon = addr.rfind(':');
  if (colon == std::string::npos)
    return Error{"metrics.listen: expected ADDRESS:PORT, got \"" + addr + "\""};
  std::string host = addr.substr(0, colon), port_s = addr.substr(colon + 1);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  if (port_s.empty() || port_s.size() > 5 ||
      port_s.find_first_not_of("0123456789") != std::string::npos || std::stoi(port_s) > 65535)
    return Error{"metrics.listen: bad port in \"" + addr + "\""};
  int port = std::stoi(port_s);
  sockaddr_storage ss{};
  socklen_t len;
  int family;
  if (inet_pton(AF_INET, host.c_str(), &reinterpret_cast<sockaddr_in &>(ss).sin_addr) == 1) {
    auto &sin = reinterpret_cast<sockaddr_in &>(ss);
    sin.sin_family = family = AF_INET;
    sin.sin_port = htons(static_cast<uint16_t>(port));
    len = sizeof sin;
  } else if (inet_pton(AF_INET6, host.c_str(), &reinterpret_cast<sockaddr_in6 &>(ss).sin6_addr) ==
             1) {
    auto &sin6 = reinterpret_cast<sockaddr_in6 &>(ss);
    sin6.sin6_family = family = AF_INET6;
    sin6.sin6_port = htons(static_cast<uint16_t>(port));
    len = sizeof sin6;
  } else {
    return Error{"metrics.listen: \"" + host + "\" is not an IP address"};
  }
  int fd = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0)
    return Error{std::string("metrics: socket: ") + std::strerror(errno), "", 0, errno};
  int one = 1;
  ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (::bind(fd, reinterpret_cast<sockaddr *>(&ss), len) != 0 || ::listen(fd, 16) != 0) {
    int e = errno;
    ::close(fd);
    return Error{"metrics: cannot listen on " + addr + ": " + std::strerror(e), "", 0, e};
  }
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&ss), &len);
  port = ntohs(family == AF_INET ? reinterpret_cast<sockaddr_in &>(ss).sin_port
                                 : reinterpret_cast<sockaddr_in6 &>(ss).sin6_port);
  return std::unique_ptr<MetricsServer>(new MetricsServer(fd, port));
}

MetricsServer::~MetricsServer() {
  ::close(m_fd);
}

void MetricsServer::serve_one(const std::function<std::string()> &body) {
  int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
  if (c < 0)
    return;
  // The request line only; a client that does not send it within 200 ms is
  // dropped so that the watcher's loop never waits on it.
  std::string req;
  char buf[2048];
  while (req.find("\r\n") == std::string::npos && req.find('\n') == std::string::npos &&
         req.size() < 8192) {
    pollfd p{c, POLLIN, 0};
    if (::poll(&p, 1, 200) <= 0)
      break;
    ssize_t n = ::recv(c, buf, sizeof buf, 0);
    if (n <= 0)
      break;
    req.append(buf, static_cast<size_t>(n));
  }
  std::string resp;
  if (req.rfind("GET /metrics ", 0) == 0 || req.rfind("GET /metrics?", 0) == 0) {
    std::string b = body();
    resp = fmt::format("HTTP/1.0 200 OK\r\nContent-Type: text/plain; version=0.0.4; "
                       "charset=utf-8\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
                       b.size(), b);
  } else {
    resp = "HTTP/1.0 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n";
  }
  size_t off = 0;
  while (off < resp.size()) {
    pollfd p{c, POLLOUT, 0};
    if (::poll(&p, 1, 200) <= 0)
      break;
    ssize_t n = ::send(c, resp.data() + off, resp.size() - off, MSG_NOSIGNAL);
    if (n <= 0)
      break;
    off += static_cast<size_t>(n);
  }
  ::close(c);
}

} // namespace bulwark::watch
