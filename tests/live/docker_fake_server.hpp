#pragma once
// An HTTP/1.1 server on a unix socket that answers from recorded responses:
// the Engine API as far as the client and the checks need it, without a
// dockerd. Used by the client's tests (framing, limits, hostile answers) and
// by bench/docker_runtime_bench.cpp (500 containers).
//
// Each connection reads one request head, looks its target up in `routes`
// and writes the raw bytes recorded for it (status line, headers, body, as
// the test wrote them), then closes. An unknown target gets a 404 as dockerd
// sends it.

#include <atomic>
#include <cstring>
#include <map>
#include <mutex>
#include <string>
#include <sys/socket.h>
#include <sys/un.h>
#include <thread>
#include <unistd.h>

namespace bulwark::test {

class FakeDockerServer {
public:
  // REQUIRES: `socket_path` fits in sun_path and does not exist.
  explicit FakeDockerServer(std::string socket_path) : m_path(std::move(socket_path)) {
    m_fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_un sa{};
    sa.sun_family = AF_UNIX;
    std::memcpy(sa.sun_path, m_path.data(), m_path.size());
    ::unlink(m_path.c_str());
    if (::bind(m_fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa)) != 0 || ::listen(m_fd, 64) != 0)
      m_ok = false;
    m_thread = std::thread([this] { serve(); });
  }
  ~FakeDockerServer() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    if (m_thread.joinable())
      m_thread.join();
    ::unlink(m_path.c_str());
  }
  FakeDockerServer(const FakeDockerServer &) = delete;
  FakeDockerServer &operator=(const FakeDockerServer &) = delete;

  bool ok() const { return m_ok; }
  const std::string &path() const { return m_path; }

  // The raw answer to GET `target`.
  void route(const std::string &target, std::string raw) {
    std::lock_guard lock(m_mutex);
    m_routes[target] = std::move(raw);
  }
  // A 200 with a JSON body, as dockerd sends it: chunked, or with a length.
  static std::string json_response(const std::string &body, bool chunked = true) {
    std::string head = "HTTP/1.1 200 OK\r\nApi-Version: 1.41\r\nContent-Type: application/json\r\n";
    if (!chunked)
      return head + "Content-Length: " + std::to_string(body.size()) + "\r\n\r\n" + body;
    std::string out = head + "Transfer-Encoding: chunked\r\n\r\n";
    // Chunks of uneven sizes, as Go's net/http flushes them.
    size_t pos = 0, size = 7;
    while (pos < body.size()) {
      size_t n = std::min(size, body.size() - pos);
      char hex[32];
      std::snprintf(hex, sizeof hex, "%zx\r\n", n);
      out += hex + body.substr(pos, n) + "\r\n";
      pos += n;
      size = size * 3 + 1;
    }
    return out + "0\r\n\r\n";
  }
  // Milliseconds to wait before answering (a hung engine).
  std::atomic<int> delay_ms{0};
  std::atomic<int> requests{0};

private:
  void serve() {
    while (!m_stop) {
      int c = ::accept4(m_fd, nullptr, nullptr, SOCK_CLOEXEC);
      if (c < 0) {
        if (m_stop)
          return;
        continue;
      }
      std::string req;
      char buf[4096];
      while (req.find("\r\n\r\n") == std::string::npos) {
        ssize_t n = ::recv(c, buf, sizeof buf, 0);
        if (n <= 0)
          break;
        req.append(buf, static_cast<size_t>(n));
      }
      ++requests;
      std::string target;
      if (req.rfind("GET ", 0) == 0)
        target = req.substr(4, req.find(' ', 4) - 4);
      std::string raw;
      {
        std::lock_guard lock(m_mutex);
        auto it = m_routes.find(target);
        static const std::string k_404 = "{\"message\":\"page not found\"}";
        raw = it != m_routes.end()
                  ? it->second
                  : "HTTP/1.1 404 Not Found\r\nContent-Type: application/json\r\nContent-Length: " +
                        std::to_string(k_404.size()) + "\r\n\r\n" + k_404;
      }
      if (delay_ms > 0)
        std::this_thread::sleep_for(std::chrono::milliseconds(delay_ms.load()));
      size_t off = 0;
      while (off < raw.size()) {
        ssize_t n = ::send(c, raw.data() + off, raw.size() - off, MSG_NOSIGNAL);
        if (n <= 0)
          break;
        off += static_cast<size_t>(n);
      }
      ::close(c);
    }
  }

  std::string m_path;
  int m_fd = -1;
  bool m_ok = true;
  std::atomic<bool> m_stop{false};
  std::mutex m_mutex;
  std::map<std::string, std::string> m_routes;
  std::thread m_thread;
};

} // namespace bulwark::test
