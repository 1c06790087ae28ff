#pragma once
// Prometheus text exposition (format 0.0.4) of the watcher's counters, with
// the metric names guide 000's alert rules use: auth_failed_total{service,
// reason}, unauthorized_access_total{service}; bulwark_* for the watcher
// itself. No label carries an address (unbounded cardinality, and personal data).

#include <bulwark/watch/engine.hpp>

#include <functional>
#include <memory>
#include <string>

namespace bulwark::watch {

std::string render_metrics(const Engine &engine, int64_t now);

// Guide 000's TooManyFailedLogins and UnauthorizedAccess rules, and a ban
// rate rule, as a Prometheus rule file.
std::string alert_rules();

} // namespace bulwark::watch

namespace bulwark::watch {

// A minimal HTTP/1.0 endpoint for GET /metrics on a loopback address, served
// from the watcher's poll loop (one short request at a time).
class MetricsServer {
public:
  // "127.0.0.1:9617" or "[::1]:9617"; port 0 picks a free one.
  static Result<std::unique_ptr<MetricsServer>> listen(const std::string &addr);
  ~MetricsServer();
  int fd() const { return m_fd; }
  int port() const { return m_port; }
  // Accepts one connection and answers it with `body` for GET /metrics.
  void serve_one(const std::function<std::string()> &body);

private:
  MetricsServer(int fd, int port) : m_fd(fd), m_port(port) {}
  int m_fd;
  int m_port;
};

} // namespace bulwark::watch
