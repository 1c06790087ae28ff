#pragma once
// A small HTTP/1.1 client over a unix socket, enough for the Docker Engine
// API (https://docs.docker.com/engine/api/v1.41/): GET only, one request per
// connection (`Connection: close`), bounded in time and size. No Docker CLI
// subprocess and no libcurl: dockerd answers plain HTTP/1.1 on its socket,
// with `Content-Length` or `Transfer-Encoding: chunked` (RFC 9112 §7.1),
// and that is all this reads.
//
// Contract: a response is returned only when it is complete (the whole
// Content-Length, or the last chunk) and within the limits; anything else
// (connect failure, timeout, a header or body over its cap, malformed
// framing, EOF before the end) is an Error whose message says which.

#include <bulwark/core/result.hpp>

#include <chrono>
#include <cstddef>
#include <map>
#include <optional>
#include <string>
#include <string_view>

namespace bulwark::live {

struct HttpLimits {
  std::chrono::milliseconds timeout{2000}; // the whole exchange, connect to last byte
  size_t max_header_bytes = 64 * 1024;
  size_t max_body_bytes = 64 * 1024 * 1024; // /containers/json of thousands of containers
};

struct HttpResponse {
  int status = 0;
  std::string reason;
  std::map<std::string, std::string> headers; // names lower-cased; a repeated name: the last
  std::string body;                           // de-chunked
};

// Parses `raw` as one HTTP/1.1 response. nullopt: well-formed so far but
// incomplete (read more); Error: malformed or over a limit. `eof` says the
// peer closed: a body without Content-Length or chunking then ends there,
// and an incomplete one is an error.
Result<std::optional<HttpResponse>> parse_http_response(std::string_view raw,
                                                        const HttpLimits &limits, bool eof);

// GET `target` ("/containers/json?all=1") from the HTTP server on the unix
// socket `socket_path`.
Result<HttpResponse> unix_http_get(const std::string &socket_path, const std::string &target,
                                   const HttpLimits &limits = {});

// "unix:///var/run/docker.sock" -> "/var/run/docker.sock". Error for any
// other scheme (tcp:// engines are out of scope: bulwark audits this host).
Result<std::string> docker_socket_path(std::string_view docker_host);

inline constexpr const char *k_default_docker_socket = "/var/run/docker.sock";

} // namespace bulwark::live
