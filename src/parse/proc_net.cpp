#include <bulwark/parse/proc_net.hpp>

#include <bulwark/core/text.hpp>

#include <cstring>

namespace bulwark::procnet {

namespace {

// A run of hex digits as an unsigned value of at most `digits` digits.
bool procnet_hex_value(std::string_view s, size_t digits, uint32_t &out) {
  if (s.empty() || s.size() > digits)
    return false;
  uint32_t v = 0;
  for (char c : s) {
    int d = c >= '0' && c <= '9'   ? c - '0'
            : c >= 'A' && c <= 'F' ? c - 'A' + 10
            : c >= 'a' && c <= 'f' ? c - 'a' + 10
                                   : -1;
    if (d < 0)
      return false;
    v = v << 4 | static_cast<uint32_t>(d);
  }
  out = v;
  return true;
}

// "0100007F:1538": the address words as the kernel stores them (copied
// back in host byte order, which is how %08X printed them) and the port.
bool parse_endpoint(std::string_view s, fw::Family family, fw::Addr &addr, uint32_t &port) {
  size_t colon = s.find(':');
  if (colon == std::string_view::npos)
    return false;
  std::string_view hex = s.substr(0, colon);
  size_t want = family == fw::Family::v4 ? 8 : 32;
  if (hex.size() != want)
    return false;
  addr = fw::Addr{};
  addr.v6 = family == fw::Family::v6;
  for (size_t w = 0; w < want / 8; ++w) {
    uint32_t word = 0;
    if (!procnet_hex_value(hex.substr(w * 8, 8), 8, word))
      return false;
    std::memcpy(&addr.b[w * 4], &word, 4);
  }
  std::string_view p = s.substr(colon + 1);
  return p.size() == 4 && procnet_hex_value(p, 4, port);
}

} // namespace

Table parse_proc_net(std::string_view text, int proto, fw::Family family, const std::string &path) {
  Table t;
  int line = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++line;
    if (line == 1 || text::trim(raw).empty())
      continue; // the header; the file ends in a newline
    auto f = text::split(raw, ' ');
    // "sl:" local remote state ...
    if (f.size() < 4 || f[0].empty() || f[0].back() != ':') {
      t.errors.push_back(
          Error{"not a socket line: \"" + text::printable(raw, 80) + "\"", path, line});
      continue;
    }
    Listener l;
    l.proto = proto;
    l.family = family;
    fw::Addr remote;
    uint32_t remote_port = 0, state = 0;
    if (!parse_endpoint(f[1], family, l.addr, l.port) ||
        !parse_endpoint(f[2], family, remote, remote_port) || f[3].size() != 2 ||
        !procnet_hex_value(f[3], 2, state)) {
      t.errors.push_back(
          Error{"malformed address or state: \"" + text::printable(raw, 80) + "\"", path, line});
      continue;
    }
    bool listening =
        proto == 6 ? state == 0x0A : state == 0x07 && remote_port == 0 && remote.b == fw::Addr{}.b;
    if (!listening)
      continue;
    l.source = path + ":" + std::to_string(line);
    t.listeners.push_back(std::move(l));
  }
  return t;
}

Result<std::vector<Listener>> read_listeners(const RootFs &fs, const std::string &proc_dir) {
  struct File {
    const char *name;
    int proto;
    fw::Family family;
  };
  std::vector<Listener> out;
  for (const File &f : {File{"tcp", 6, fw::Family::v4}, File{"tcp6", 6, fw::Family::v6},
                        File{"udp", 17, fw::Family::v4}, File{"udp6", 17, fw::Family::v6}}) {
    std::string path = proc_dir + "/net/" + f.name;
    auto text = fs.read_file(path, 64 * 1024 * 1024);
    if (!text) {
      if (f.family == fw::Family::v6 && text.error().not_found())
        continue; // a kernel without IPv6
      return text.error();
    }
    Table t = parse_proc_net(*text, f.proto, f.family, path);
    if (!t.errors.empty())
      return t.errors.front();
    out.insert(out.end(), t.listeners.begin(), t.listeners.end());
  }
  return out;
}

} // namespace bulwark::procnet
