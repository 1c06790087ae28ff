#pragma once
// One OpenSSL operation on a non-blocking socket, driven to completion or to
// the deadline: the TLS and Redis-over-TLS probes share it.

#include "net.hpp"

#include <openssl/ssl.h>
#include <poll.h>

namespace bulwark::live::net {

// Runs `op` (SSL_connect, SSL_read, ...) until it succeeds (> 0), fails for
// another reason than waiting, or the deadline passes (then timed_out).
template <class Op>
int drive(SSL *ssl, int fd, Clock::time_point deadline, Op op, bool &timed_out) {
  for (;;) {
    int r = op();
    if (r > 0)
      return r;
    int e = SSL_get_error(ssl, r);
    short ev = e == SSL_ERROR_WANT_READ ? POLLIN : e == SSL_ERROR_WANT_WRITE ? POLLOUT : 0;
    if (ev == 0)
      return r;
    if (!wait_fd(fd, ev, deadline)) {
      timed_out = true;
      return -1;
    }
  }
}

} // namespace bulwark::live::net
