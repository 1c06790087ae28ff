// The SSH identification exchange and the server's KEXINIT (RFC 4253 §4.2,
// §6, §7.1), read without authenticating; see include/bulwark/live/ssh.hpp.

#include <bulwark/core/text.hpp>
#include <bulwark/live/ssh.hpp>
#include <bulwark/live/tls.hpp>

#include "net.hpp"

#include <cstdint>
#include <unistd.h>

namespace bulwark::live {

namespace {

uint32_t be32(const std::string &s, size_t at) {
  return (static_cast<uint32_t>(static_cast<unsigned char>(s[at])) << 24) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 1])) << 16) |
         (static_cast<uint32_t>(static_cast<unsigned char>(s[at + 2])) << 8) |
         static_cast<uint32_t>(static_cast<unsigned char>(s[at + 3]));
}

// RFC 4253 §6.1: implementations must handle packets of 35000 bytes.
constexpr uint32_t k_max_packet = 35000;

} // namespace

bool parse_kexinit(const std::string &payload, SshProbe &out) {
  size_t at = 16; // cookie
  std::vector<std::string> *lists[] = {
      &out.kex,      &out.hostkey,  &out.ciphers_c2s,     &out.ciphers_s2c,
      &out.macs_c2s, &out.macs_s2c, &out.compression_c2s, &out.compression_s2c};
  for (int i = 0; i < 10; ++i) {
    if (at + 4 > payload.size())
      return false;
    uint32_t len = be32(payload, at);
    at += 4;
    if (len > payload.size() - at)
      return false;
    std::string names = payload.substr(at, len);
    at += len;
    if (i < 8)
      *lists[i] = text::split(names, ',');
  }
  return true;
}

SshProbe probe_ssh(const std::string &address, int port, int timeout_ms) {
  SshProbe p;
  p.address = address;
  p.port = port;
  if (!is_local_address(address)) {
    p.error = address + " is not an address of this host; not probed";
    return p;
  }
  auto deadline = net::Clock::now() + std::chrono::milliseconds(timeout_ms);
  int fd = net::connect_to(address, port, deadline, p.error);
  if (fd < 0)
    return p;
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  std::string buf;
  char chunk[4096];
  auto fill = [&](size_t need) {
    while (buf.size() < need) {
      long n = net::read_some(fd, chunk, sizeof chunk, deadline);
      if (n <= 0)
        return false;
      buf.append(chunk, static_cast<size_t>(n));
    }
    return true;
  };
  // §4.2: lines before the identification are allowed; each at most 255 bytes.
  for (int lines = 0;; ++lines) {
    size_t nl;
    while ((nl = buf.find('\n')) == std::string::npos) {
      if (buf.size() > 255) {
        p.error =
            "not an SSH server: a line longer than 255 bytes (" + text::printable(buf, 40) + ")";
        return p;
      }
      if (!fill(buf.size() + 1)) {
        p.error = buf.empty() ? "accepts TCP but sends no SSH identification within " +
                                    std::to_string(timeout_ms) + " ms"
                              : "not an SSH server: " + text::printable(buf, 40);
        return p;
      }
    }
    std::string line = buf.substr(0, nl);
    buf.erase(0, nl + 1);
    if (!line.empty() && line.back() == '\r')
      line.pop_back();
    if (text::starts_with(line, "SSH-")) {
      p.banner = text::printable(line, 255);
      break;
    }
    if (lines > 50) {
      p.error = "not an SSH server: no identification in the first 50 lines";
      return p;
    }
  }
  if (!text::starts_with(p.banner, "SSH-2.0-") && !text::starts_with(p.banner, "SSH-1.99-")) {
    p.error = "server speaks " + p.banner + ", not SSH 2";
    return p;
  }
  if (!net::write_all(fd, "SSH-2.0-bulwark_probe\r\n", deadline)) {
    p.error = "cannot send the identification";
    return p;
  }
  if (!fill(5)) {
    p.error = "no KEXINIT within " + std::to_string(timeout_ms) + " ms";
    return p;
  }
  uint32_t len = be32(buf, 0);
  if (len < 2 || len > k_max_packet) {
    p.error = "malformed packet length " + std::to_string(len);
    return p;
  }
  if (!fill(4 + static_cast<size_t>(len))) {
    p.error = "truncated KEXINIT packet";
    return p;
  }
  unsigned pad = static_cast<unsigned char>(buf[4]);
  if (pad + 1 > len) {
    p.error = "malformed padding length";
    return p;
  }
  std::string payload = buf.substr(5, len - pad - 1);
  if (payload.empty() || payload[0] != 20) {
    p.error = "first packet is not KEXINIT";
    return p;
  }
  if (!parse_kexinit(payload.substr(1), p))
    p.error = "malformed KEXINIT";
  return p;
}

} // namespace bulwark::live
