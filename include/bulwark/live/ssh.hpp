#pragma once
// A live look at an SSH server without authenticating (RFC 4253): read the
// identification line, send ours, read the server's first binary packet
// (SSH_MSG_KEXINIT) and close. Nothing is ever authenticated or changed.
// Servers that say nothing or send garbage end in an error within the
// timeout, never a hang.

#include <string>
#include <vector>

namespace bulwark::live {

struct SshProbe {
  std::string address;
  int port = 0;
  std::string error;  // empty on success
  std::string banner; // "SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"
  std::vector<std::string> kex, hostkey, ciphers_c2s, ciphers_s2c, macs_c2s, macs_s2c,
      compression_c2s, compression_s2c;
};

SshProbe probe_ssh(const std::string &address, int port, int timeout_ms = 1500);

// The KEXINIT payload (after the message byte) split into its name-lists;
// false on a malformed payload. Exposed for tests and the fuzzer.
bool parse_kexinit(const std::string &payload, SshProbe &out);

} // namespace bulwark::live
