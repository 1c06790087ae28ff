#pragma once
// Live-test helpers: a free loopback port, a daemon run in the foreground
// and killed when the test ends (also on failure), waiting for a listener.

#include "../support.hpp"

#include <arpa/inet.h>
#include <chrono>
#include <csignal>
#include <netinet/in.h>
#include <string>
#include <sys/socket.h>
#include <sys/wait.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bulwark::test {

inline int free_port() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

inline bool port_open(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_port = htons(static_cast<uint16_t>(port));
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  bool ok = ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

class Daemon {
public:
  Daemon(const std::vector<std::string> &argv, const std::string &log) {
    m_pid = ::fork();
    if (m_pid == 0) {
      FILE *f = std::freopen(log.c_str(), "w", stderr);
      (void)f;
      std::vector<char *> a;
      for (auto &s : argv)
        a.push_back(const_cast<char *>(s.c_str()));
      a.push_back(nullptr);
      ::execv(a[0], a.data());
      ::_exit(127);
    }
  }
  ~Daemon() {
    if (m_pid > 0) {
      ::kill(m_pid, SIGTERM);
      int st = 0;
      for (int i = 0; i < 50 && ::waitpid(m_pid, &st, WNOHANG) == 0; ++i)
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      ::kill(m_pid, SIGKILL);
      ::waitpid(m_pid, &st, 0);
    }
  }
  Daemon(const Daemon &) = delete;
  Daemon &operator=(const Daemon &) = delete;

  // Waits up to 5 s (scaled by hang_bound: a loaded CI machine) for the
  // port to accept connections.
  bool wait(int port) const {
    const long rounds = hang_bound(std::chrono::milliseconds(5000)).count() / 20;
    for (long i = 0; i < rounds; ++i) {
      if (port_open(port))
        return true;
      int st = 0;
      if (::waitpid(m_pid, &st, WNOHANG) == m_pid) {
        m_pid = -1; // reaped: nothing to kill later
        return false;
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    return false;
  }

private:
  mutable pid_t m_pid = -1;
};

} // namespace bulwark::test
