// HTTP/1.1 over a unix socket for the Docker Engine API (see docker.hpp).
//
// Framing as RFC 9112 §6.3 orders it: a 1xx, 204 or 304 response has no
// body; then Transfer-Encoding chunked (chunk-size in hex, optional
// extensions after ';', CRLF, data, CRLF, ..., a zero-size chunk, optional
// trailer fields, CRLF); then Content-Length; else the body runs to EOF.
// dockerd (Go's net/http) chunks every JSON body it streams and sends a
// Content-Length for short ones; both are read here, and nothing is trusted
// beyond the caps: a chunk size is parsed with an overflow check and
// compared with what is left of the body budget before any byte is kept.
#include <bulwark/live/docker.hpp>

#include "net.hpp"

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

namespace bulwark::live {

namespace {

std::string docker_lower(std::string s) {
  for (auto &c : s)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::string_view docker_trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t'))
    s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t'))
    s.remove_suffix(1);
  return s;
}

// A decimal Content-Length; nullopt when not one (or absurdly long).
std::optional<size_t> parse_length(std::string_view s) {
  if (s.empty() || s.size() > 18)
    return std::nullopt;
  size_t v = 0;
  for (char c : s) {
    if (c < '0' || c > '9')
      return std::nullopt;
    v = v * 10 + static_cast<size_t>(c - '0');
  }
  return v;
}

// A chunk size: hex digits, then optional extensions. nullopt when none or
// when it overflows 60 bits (no cap we accept is near that).
std::optional<size_t> parse_chunk_size(std::string_view line) {
  size_t v = 0;
  size_t i = 0;
  for (; i < line.size(); ++i) {
    char c = line[i];
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                   : -1;
    if (d < 0)
      break;
    if (v >> 56)
      return std::nullopt;
    v = v * 16 + static_cast<size_t>(d);
  }
  if (i == 0)
    return std::nullopt;
  std::string_view rest = docker_trim(line.substr(i));
  if (!rest.empty() && rest.front() != ';')
    return std::nullopt;
  return v;
}

} // namespace

Result<std::optional<HttpResponse>> parse_http_response(std::string_view raw,
                                                        const HttpLimits &limits, bool eof) {
  size_t head_end = raw.find("\r\n\r\n");
  if (head_end == std::string_view::npos) {
    if (raw.size() > limits.max_header_bytes)
      return Error{"HTTP response header over " + std::to_string(limits.max_header_bytes) +
                   " bytes"};
    if (eof)
      return Error{raw.empty() ? "the server closed the connection without a response"
                               : "the server closed the connection inside the response header"};
    return std::optional<HttpResponse>{};
  }
  if (head_end + 4 > limits.max_header_bytes)
    return Error{"HTTP response header over " + std::to_string(limits.max_header_bytes) + " bytes"};
  HttpResponse r;
  std::string_view head = raw.substr(0, head_end);
  size_t eol = head.find("\r\n");
  std::string_view status_line = head.substr(0, eol);
  // HTTP/1.1 200 OK
  if (status_line.size() < 12 || status_line.substr(0, 7) != "HTTP/1." || status_line[8] != ' ' ||
      !std::isdigit((unsigned char)status_line[9]) ||
      !std::isdigit((unsigned char)status_line[10]) ||
      !std::isdigit((unsigned char)status_line[11]))
    return Error{"not an HTTP/1.x status line: " + std::string(status_line.substr(0, 80))};
  r.status = (status_line[9] - '0') * 100 + (status_line[10] - '0') * 10 + (status_line[11] - '0');
  if (status_line.size() > 13)
    r.reason = std::string(status_line.substr(13));
  size_t pos = eol == std::string_view::npos ? head.size() : eol + 2;
  while (pos < head.size()) {
    size_t e = head.find("\r\n", pos);
    std::string_view line =
        head.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos);
    pos = e == std::string_view::npos ? head.size() : e + 2;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0)
      return Error{"malformed HTTP header line: " + std::string(line.substr(0, 80))};
    r.headers[docker_lower(std::string(line.substr(0, colon)))] =
        std::string(docker_trim(line.substr(colon + 1)));
  }
  std::string_view rest = raw.substr(head_end + 4);
  if (r.status / 100 == 1 || r.status == 204 || r.status == 304)
    return std::optional<HttpResponse>{std::move(r)};
  auto te = r.headers.find("transfer-encoding");
  if (te != r.headers.end()) {
    if (docker_lower(te->second) != "chunked")
      return Error{"unsupported Transfer-Encoding: " + te->second};
    size_t p = 0;
    for (;;) {
      size_t le = rest.find("\r\n", p);
      if (le == std::string_view::npos) {
        if (rest.size() - p > 1024)
          return Error{"malformed chunked body: a chunk-size line over 1024 bytes"};
        break; // incomplete
      }
      auto size = parse_chunk_size(rest.substr(p, le - p));
      if (!size)
        return Error{"malformed chunked body: bad chunk size '" +
                     std::string(rest.substr(p, std::min<size_t>(le - p, 40))) + "'"};
      if (*size > limits.max_body_bytes || r.body.size() + *size > limits.max_body_bytes)
        return Error{"HTTP response body over " + std::to_string(limits.max_body_bytes) + " bytes"};
      size_t data = le + 2;
      if (*size == 0) {
        // Trailer fields up to an empty line.
        size_t q = data;
        for (;;) {
          size_t te2 = rest.find("\r\n", q);
          if (te2 == std::string_view::npos)
            break;
          if (te2 == q)
            return std::optional<HttpResponse>{std::move(r)};
          q = te2 + 2;
        }
        if (rest.size() - data > limits.max_header_bytes)
          return Error{"chunked trailer over " + std::to_string(limits.max_header_bytes) +
                       " bytes"};
        break; // incomplete
      }
      if (rest.size() < data + *size + 2)
        break; // incomplete
      if (rest.substr(data + *size, 2) != "\r\n")
        return Error{"malformed chunked body: a chunk not followed by CRLF"};
      r.body.append(rest.substr(data, *size));
      p = data + *size + 2;
    }
    if (eof)
      return Error{"the server closed the connection inside a chunked body"};
    return std::optional<HttpResponse>{};
  }
  auto cl = r.headers.find("content-length");
  if (cl != r.headers.end()) {
    auto len = parse_length(cl->second);
    if (!len)
      return Error{"malformed Content-Length: " + cl->second.substr(0, 40)};
    if (*len > limits.max_body_bytes)
      return Error{"HTTP response body over " + std::to_string(limits.max_body_bytes) +
                   " bytes (Content-Length " + cl->second + ")"};
    if (rest.size() < *len) {
      if (eof)
        return Error{"the server closed the connection after " + std::to_string(rest.size()) +
                     " of " + std::to_string(*len) + " body bytes"};
      return std::optional<HttpResponse>{};
    }
    r.body.assign(rest.substr(0, *len));
    return std::optional<HttpResponse>{std::move(r)};
  }
  if (rest.size() > limits.max_body_bytes)
    return Error{"HTTP response body over " + std::to_string(limits.max_body_bytes) + " bytes"};
  if (!eof)
    return std::optional<HttpResponse>{};
  r.body.assign(rest);
  return std::optional<HttpResponse>{std::move(r)};
}

Result<HttpResponse> unix_http_get(const std::string &socket_path, const std::string &target,
                                   const HttpLimits &limits) {
  auto deadline = net::Clock::now() + limits.timeout;
  std::string where = "unix://" + socket_path + target;
  sockaddr_un sa{};
  sa.sun_family = AF_UNIX;
  if (socket_path.empty() || socket_path.size() >= sizeof(sa.sun_path))
    return Error{"GET " + where + ": socket path empty or too long", socket_path};
  std::memcpy(sa.sun_path, socket_path.data(), socket_path.size());
  int fd = ::socket(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    return Error{"GET " + where + ": socket: " + std::strerror(errno), socket_path, 0, errno};
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  // A unix socket whose listen backlog is full refuses a non-blocking
  // connect with EAGAIN (nothing is queued, unlike TCP): try again until
  // the deadline.
  int rc;
  while ((rc = ::connect(fd, reinterpret_cast<sockaddr *>(&sa), sizeof(sa))) != 0 &&
         (errno == EAGAIN || errno == EINTR) && net::remaining_ms(deadline) > 0)
    ::usleep(2000);
  if (rc != 0) {
    int e = errno;
    if (e == EAGAIN)
      return Error{"cannot connect to " + socket_path + ": its backlog stayed full (timed out)",
                   socket_path};
    if (e != EINPROGRESS)
      return Error{"cannot connect to " + socket_path + ": " + std::strerror(e), socket_path, 0, e};
    if (!net::wait_fd(fd, POLLOUT, deadline))
      return Error{"cannot connect to " + socket_path + ": timed out", socket_path};
    int so = 0;
    socklen_t sl = sizeof(so);
    ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &so, &sl);
    if (so != 0)
      return Error{"cannot connect to " + socket_path + ": " + std::strerror(so), socket_path, 0,
                   so};
  }
  std::string req = "GET " + target +
                    " HTTP/1.1\r\nHost: docker\r\nUser-Agent: bulwark\r\nAccept: "
                    "application/json\r\nConnection: close\r\n\r\n";
  if (!net::write_all(fd, req, deadline))
    return Error{"GET " + where + ": write failed or timed out", socket_path};
  std::string raw;
  size_t next_parse = 0;
  char buf[65536];
  for (;;) {
    long n = net::read_some(fd, buf, sizeof(buf), deadline);
    if (n < 0)
      return Error{"GET " + where + ": no complete response within " +
                       std::to_string(limits.timeout.count()) + " ms",
                   socket_path};
    bool eof = n == 0;
    raw.append(buf, static_cast<size_t>(n));
    // Re-parse when the data has doubled since the last try, at EOF, or
    // when it ends as a response ends (the last chunk, a JSON body's last
    // byte): a large body costs linear time, and a server that keeps the
    // connection open despite `Connection: close` is not waited for.
    std::string_view tail = std::string_view(raw).substr(raw.size() > 8 ? raw.size() - 8 : 0);
    bool looks_done = tail.ends_with("0\r\n\r\n") || tail.ends_with("}") || tail.ends_with("]") ||
                      tail.ends_with("}\n") || tail.ends_with("]\n");
    if (!eof && raw.size() < next_parse && !looks_done)
      continue;
    next_parse = std::max<size_t>(raw.size() * 2, 4096);
    auto parsed = parse_http_response(raw, limits, eof);
    if (!parsed)
      return Error{"GET " + where + ": " + parsed.error().message, socket_path};
    if (parsed.value())
      return std::move(*parsed.value());
    if (eof)
      return Error{"GET " + where + ": the server closed the connection early", socket_path};
    // A server that streams past every cap without framing is cut here.
    if (raw.size() > limits.max_header_bytes + limits.max_body_bytes + 1024 * 1024)
      return Error{"GET " + where + ": response over its size cap", socket_path};
  }
}

Result<std::string> docker_socket_path(std::string_view host) {
  constexpr std::string_view k_unix = "unix://";
  if (host.substr(0, k_unix.size()) != k_unix)
    return Error{"--docker " + std::string(host) +
                 ": only unix:///path/to/docker.sock is supported (bulwark audits this host)"};
  std::string p(host.substr(k_unix.size()));
  if (p.empty() || p.front() != '/')
    return Error{"--docker " + std::string(host) + ": the socket path must be absolute"};
  return p;
}

} // namespace bulwark::live
