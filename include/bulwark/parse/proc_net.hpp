#pragma once
// Listening sockets from /proc/net/{tcp,tcp6,udp,udp6} (proc(5);
// net/ipv4/tcp_ipv4.c get_tcp4_sock, net/ipv6/tcp_ipv6.c get_tcp6_sock,
// net/ipv4/udp.c udp4_format_sock).
//
// The first line is a header. Every other line is one socket:
//   "   0: 0100007F:1538 00000000:0000 0A 00000000:00000000 ..."
// The local and remote addresses are the in-kernel bytes printed as %08X per
// 32-bit word, so on a little-endian host 127.0.0.1 reads 0100007F (each
// word's bytes reversed); the port is %04X in host order. IPv6 addresses are
// four such words. The state is the TCP state in hex: 0A is LISTEN. UDP has
// no listening state: an unbound-remote socket (state 07, TCP_CLOSE, with a
// zero remote address) is one that receives from anyone. A line that does
// not have this shape is an error: the kernel writes these files, so a
// malformed line means the reader is wrong, not that the line can be ignored.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/firewall.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::procnet {

struct Listener {
  int proto = 6; // 6 TCP, 17 UDP
  fw::Family family = fw::Family::v4;
  fw::Addr addr;
  uint32_t port = 0;
  std::string source; // "/proc/net/tcp:3"
};

struct Table {
  std::vector<Listener> listeners; // in file order
  std::vector<Error> errors;       // malformed lines, with path and line
};

// One file's text. `proto` 6 or 17, `family` v4 or v6 (the file's), `path`
// for locations.
Table parse_proc_net(std::string_view text, int proto, fw::Family family, const std::string &path);

// Every listening socket of proc_dir/net/{tcp,tcp6,udp,udp6}. An absent
// tcp6/udp6 (IPv6 disabled) contributes nothing; any other file that cannot
// be read, or a malformed line, is an error.
Result<std::vector<Listener>> read_listeners(const RootFs &fs,
                                             const std::string &proc_dir = "/proc");

} // namespace bulwark::procnet
