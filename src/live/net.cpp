// Socket helpers for the live probes (see net.hpp). Every wait is bounded by
// the caller's deadline, so a peer that accepts and then says nothing costs
// one timeout, never a hang.

#include "net.hpp"

#include <arpa/inet.h>
#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

namespace bulwark::live::net {

int remaining_ms(Clock::time_point deadline) {
  auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
  return left.count() > 0 ? static_cast<int>(left.count()) : 0;
}

bool wait_fd(int fd, short events, Clock::time_point deadline) {
  for (;;) {
    int ms = remaining_ms(deadline);
    if (ms <= 0)
      return false;
    pollfd p{fd, events, 0};
    int r = ::poll(&p, 1, ms);
    if (r < 0 && errno == EINTR)
      continue;
    if (r <= 0)
      return false;
    return (p.revents & (events | POLLHUP | POLLERR)) != 0;
  }
}

int connect_to(const std::string &address, int port, Clock::time_point deadline, std::string &err) {
  addrinfo hints{};
  hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV;
  hints.ai_socktype = SOCK_STREAM;
  addrinfo *res = nullptr;
  std::string service = std::to_string(port);
  if (::getaddrinfo(address.c_str(), service.c_str(), &hints, &res) != 0 || !res) {
    err = "not a numeric address: " + address;
    return -1;
  }
  int fd = ::socket(res->ai_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0) {
    err = std::string("socket: ") + std::strerror(errno);
    ::freeaddrinfo(res);
    return -1;
  }
  int r = ::connect(fd, res->ai_addr, res->ai_addrlen);
  ::freeaddrinfo(res);
  if (r != 0 && errno != EINPROGRESS) {
    err = std::string("connect: ") + std::strerror(errno);
    ::close(fd);
    return -1;
  }
  if (r != 0) {
    if (!wait_fd(fd, POLLOUT, deadline)) {
      err = "connect: timed out";
      ::close(fd);
      return -1;
    }
    int so = 0;
    socklen_t len = sizeof so;
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &len);
    if (so != 0) {
      err = std::string("connect: ") + std::strerror(so);
      ::close(fd);
      return -1;
    }
  }
  return fd;
}

long read_some(int fd, char *buf, size_t max, Clock::time_point deadline) {
  for (;;) {
    ssize_t n = ::recv(fd, buf, max, 0);
    if (n >= 0)
      return static_cast<long>(n);
    if (errno == EINTR)
      continue;
    if (errno != EAGAIN && errno != EWOULDBLOCK)
      return -1;
    if (!wait_fd(fd, POLLIN, deadline))
      return -1;
  }
}

bool write_all(int fd, const std::string &data, Clock::time_point deadline) {
  size_t off = 0;
  while (off < data.size()) {
    ssize_t n = ::send(fd, data.data() + off, data.size() - off, MSG_NOSIGNAL);
    if (n > 0) {
      off += static_cast<size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      if (!wait_fd(fd, POLLOUT, deadline))
        return false;
      continue;
    }
    return false;
  }
  return true;
}

} // namespace bulwark::live::net
