// Live Redis probes through hiredis (Debian 12: libhiredis 0.14). The
// connection and every reply are bounded by the timeout (hiredis applies
// it to connect and, with redisSetTimeout, to each read), so a server that
// accepts and stays silent costs one timeout, and garbage is a protocol
// error, not a hang. Only PING, ACL DRYRUN and COMMAND INFO are sent: none
// changes server state.

#include <bulwark/core/system_libs.hpp>
#include <bulwark/live/redis.hpp>
#include <bulwark/parse/redis_conf.hpp>

#include "net.hpp"
#include "ssl_drive.hpp"

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <unistd.h>
#include <vector>

namespace bulwark::live {

std::string_view to_string(RedisProbeResult::Outcome o) {
  switch (o) {
  case RedisProbeResult::Outcome::pong: return "pong-without-auth";
  case RedisProbeResult::Outcome::auth_required: return "auth-required";
  case RedisProbeResult::Outcome::protected_mode: return "protected-mode";
  case RedisProbeResult::Outcome::unreachable: return "unreachable";
  case RedisProbeResult::Outcome::protocol_error: return "protocol-error";
  }
  return "?";
}

namespace {

std::string redis_one_line(std::string s) {
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  if (s.size() > 200)
    s = s.substr(0, 200) + "...";
  return s;
}

} // namespace

RedisProbeResult redis_probe(const std::string &host, int port, int timeout_ms) {
  RedisProbeResult r;
  bool unix_socket = !host.empty() && host[0] == '/';
  r.target = unix_socket ? "unix:" + host
                         : (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
                               std::to_string(port);
  auto api = syslib::hiredis();
  if (!api) {
    r.result = RedisProbeResult::Outcome::protocol_error;
    r.detail = api.error().message;
    return r;
  }
  const syslib::Hiredis &rd = **api;
  timeval tv{timeout_ms / 1000, (timeout_ms % 1000) * 1000};
  redisContext *c = unix_socket ? rd.redisConnectUnixWithTimeout(host.c_str(), tv)
                                : rd.redisConnectWithTimeout(host.c_str(), port, tv);
  if (!c) {
    r.detail = "out of memory";
    return r;
  }
  if (c->err) {
    r.result = RedisProbeResult::Outcome::unreachable;
    r.detail = redis_one_line(c->errstr);
    rd.redisFree(c);
    return r;
  }
  rd.redisSetTimeout(c, tv);
  auto *reply = static_cast<redisReply *>(rd.redisCommand(c, "PING"));
  if (!reply) {
    std::string e = redis_one_line(c->errstr);
    // Only the read timeout (SO_RCVTIMEO: EAGAIN) is "no answer". Any other
    // I/O error after the connection was accepted (a reset: the peer closed
    // with PING unread) means something that is not a working Redis answered,
    // like a close without a reply. Whether a reset or an EOF arrives is a
    // race on the peer's side.
    bool timeout = c->err == REDIS_ERR_IO && (e.find("Resource temporarily") != std::string::npos ||
                                              e.find("timed out") != std::string::npos);
    r.result = timeout ? RedisProbeResult::Outcome::unreachable
                       : RedisProbeResult::Outcome::protocol_error;
    r.detail = c->err == REDIS_ERR_EOF ? "connection closed without an answer"
               : timeout ? "no answer within " + std::to_string(timeout_ms) + " ms (" + e + ")"
               : c->err == REDIS_ERR_IO ? "connection closed without an answer (" + e + ")"
                                        : e;
    rd.redisFree(c);
    return r;
  }
  std::string text = reply->str ? std::string(reply->str, reply->len) : "";
  if ((reply->type == REDIS_REPLY_STATUS || reply->type == REDIS_REPLY_STRING) && text == "PONG") {
    r.result = RedisProbeResult::Outcome::pong;
    r.detail = "PONG without authentication";
  } else if (reply->type == REDIS_REPLY_ERROR && text.rfind("NOAUTH", 0) == 0) {
    r.result = RedisProbeResult::Outcome::auth_required;
    r.detail = redis_one_line(text);
  } else if (reply->type == REDIS_REPLY_ERROR && text.rfind("DENIED", 0) == 0) {
    r.result = RedisProbeResult::Outcome::protected_mode;
    r.detail = "DENIED (protected mode)";
  } else {
    r.result = RedisProbeResult::Outcome::protocol_error;
    r.detail = "unexpected reply to PING: " + redis_one_line(text);
  }
  rd.freeReplyObject(reply);
  if (r.result == RedisProbeResult::Outcome::pong) {
    // DRYRUN checks arity: give each command valid arguments. Nothing runs.
    static const std::map<std::string, std::string> k_dry = {
        {"flushdb", "ACL DRYRUN default FLUSHDB"},
        {"flushall", "ACL DRYRUN default FLUSHALL"},
        {"config", "ACL DRYRUN default CONFIG GET maxmemory"},
        {"debug", "ACL DRYRUN default DEBUG HELP"},
        {"shutdown", "ACL DRYRUN default SHUTDOWN"},
        {"keys", "ACL DRYRUN default KEYS *"}};
    for (const char *cmd : redis::k_dangerous) {
      std::vector<std::string> words;
      for (size_t a = 0, b; a < k_dry.at(cmd).size(); a = b + 1) {
        b = k_dry.at(cmd).find(' ', a);
        if (b == std::string::npos)
          b = k_dry.at(cmd).size();
        words.push_back(k_dry.at(cmd).substr(a, b - a));
      }
      std::vector<const char *> argv;
      std::vector<size_t> lens;
      for (auto &w : words) {
        argv.push_back(w.c_str());
        lens.push_back(w.size());
      }
      auto *d = static_cast<redisReply *>(
          rd.redisCommandArgv(c, static_cast<int>(argv.size()), argv.data(), lens.data()));
      std::string verdict;
      if (d && d->type == REDIS_REPLY_STATUS && std::string(d->str, d->len) == "OK")
        verdict = "allowed";
      else if (d && d->type == REDIS_REPLY_ERROR &&
               std::string(d->str, d->len).find("no permissions") != std::string::npos &&
               std::string(d->str, d->len).find("'acl") == std::string::npos)
        verdict = "denied"; // (not: this client may not run ACL DRYRUN itself)
      else if (d && d->type == REDIS_REPLY_ERROR &&
               std::string(d->str, d->len).find("not found") != std::string::npos)
        verdict = "absent";
      if (d)
        rd.freeReplyObject(d);
      if (verdict.empty()) {
        // ACL itself is not allowed (or renamed): ask whether the command exists.
        auto *i = static_cast<redisReply *>(rd.redisCommand(c, "COMMAND INFO %s", cmd));
        if (i && i->type == REDIS_REPLY_ARRAY && i->elements == 1)
          verdict = i->element[0]->type == REDIS_REPLY_NIL ? "absent" : "present";
        else
          verdict = "unknown";
        if (i)
          rd.freeReplyObject(i);
      }
      r.commands[cmd] = verdict;
      if (c->err)
        break;
    }
  }
  rd.redisFree(c);
  return r;
}

RedisProbeResult redis_probe_tls(const std::string &host, int port, int timeout_ms) {
  RedisProbeResult r;
  r.target = (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" +
             std::to_string(port) + " (TLS)";
  auto deadline = net::Clock::now() + std::chrono::milliseconds(timeout_ms);
  std::string err;
  int fd = net::connect_to(host, port, deadline, err);
  if (fd < 0) {
    r.result = RedisProbeResult::Outcome::unreachable;
    r.detail = redis_one_line(err);
    return r;
  }
  ERR_clear_error();
  SSL_CTX *ctx = SSL_CTX_new(TLS_client_method());
  if (ctx)
    SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, nullptr);
  SSL *ssl = ctx ? SSL_new(ctx) : nullptr;
  auto done = [&] {
    if (ssl)
      SSL_free(ssl);
    if (ctx)
      SSL_CTX_free(ctx);
    ::close(fd);
    ERR_clear_error();
    return r;
  };
  if (!ssl) {
    r.detail = "OpenSSL could not make a client";
    return done();
  }
  SSL_set_fd(ssl, fd);
  auto reason = [] {
    unsigned long e = ERR_peek_last_error();
    char buf[256];
    ERR_error_string_n(e, buf, sizeof buf);
    return e ? std::string(ERR_reason_error_string(e) ? ERR_reason_error_string(e) : buf)
             : std::string("connection closed");
  };
  bool timed_out = false;
  auto timeout = [&] { return "no answer within " + std::to_string(timeout_ms) + " ms"; };
  if (net::drive(
          ssl, fd, deadline, [&] { return SSL_connect(ssl); }, timed_out) <= 0) {
    r.result = RedisProbeResult::Outcome::unreachable;
    r.detail = timed_out ? timeout() : "TLS handshake refused: " + reason();
    return done();
  }
  static const std::string ping = "*1\r\n$4\r\nPING\r\n";
  if (net::drive(
          ssl, fd, deadline,
          [&] { return SSL_write(ssl, ping.data(), static_cast<int>(ping.size())); },
          timed_out) <= 0) {
    r.result = RedisProbeResult::Outcome::unreachable;
    r.detail = timed_out ? timeout() : "TLS write failed: " + reason();
    return done();
  }
  // One reply line; with TLS 1.3 a missing client certificate shows here,
  // as the server's alert on the first read.
  std::string line;
  char buf[512];
  while (line.size() < 4096 && line.find("\r\n") == std::string::npos) {
    int n = net::drive(
        ssl, fd, deadline, [&] { return SSL_read(ssl, buf, sizeof buf); }, timed_out);
    if (n <= 0) {
      r.result = line.empty() ? RedisProbeResult::Outcome::unreachable
                              : RedisProbeResult::Outcome::protocol_error;
      r.detail = timed_out ? timeout() : "TLS connection refused: " + reason();
      return done();
    }
    line.append(buf, static_cast<size_t>(n));
  }
  line = line.substr(0, line.find("\r\n"));
  if (line == "+PONG") {
    r.result = RedisProbeResult::Outcome::pong;
    r.detail = "PONG without authentication";
  } else if (line.rfind("-NOAUTH", 0) == 0) {
    r.result = RedisProbeResult::Outcome::auth_required;
    r.detail = redis_one_line(line.substr(1));
  } else if (line.rfind("-DENIED", 0) == 0) {
    r.result = RedisProbeResult::Outcome::protected_mode;
    r.detail = "DENIED (protected mode)";
  } else {
    r.result = RedisProbeResult::Outcome::protocol_error;
    r.detail = "unexpected reply to PING: " + redis_one_line(line);
  }
  bool to = false;
  (void)net::drive(
      ssl, fd, deadline, [&] { return SSL_shutdown(ssl) >= 0 ? 1 : -1; }, to);
  return done();
}

} // namespace bulwark::live
