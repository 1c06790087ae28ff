// OpenSSH's pattern and address matching (match.c, addrmatch.c), so that
// `Match` blocks are satisfied by exactly the connections sshd would say.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/sshd_config.hpp>

#include <arpa/inet.h>
#include <cstring>

namespace bulwark::ssh {

namespace {

// match.c match_pattern(): '*' and '?' wildcards, iterative with one
// backtrack point (linear in practice, no recursion on hostile patterns).
bool match_pattern(std::string_view s, std::string_view p) {
  size_t si = 0, pi = 0, star = std::string_view::npos, mark = 0;
  while (si < s.size()) {
    if (pi < p.size() && (p[pi] == '?' || p[pi] == s[si])) {
      ++si;
      ++pi;
    } else if (pi < p.size() && p[pi] == '*') {
      star = pi++;
      mark = si;
    } else if (star != std::string_view::npos) {
      pi = star + 1;
      si = ++mark;
    } else {
      return false;
    }
  }
  while (pi < p.size() && p[pi] == '*')
    ++pi;
  return pi == p.size();
}

struct XAddr {
  int af = 0;
  unsigned char bytes[16] = {};
  int len() const { return af == AF_INET ? 4 : 16; }
};

// addr_pton(): numeric host only (getaddrinfo AI_NUMERICHOST: inet_aton's
// forms for IPv4, so "127.1" is 127.0.0.1).
bool addr_pton(const std::string &s, XAddr &out) {
  if (s.empty())
    return false;
  struct in_addr a4;
  if (s.find(':') == std::string::npos && ::inet_aton(s.c_str(), &a4) != 0) {
    out.af = AF_INET;
    std::memcpy(out.bytes, &a4, 4);
    return true;
  }
  struct in6_addr a6;
  std::string s6 = s.substr(0, s.find('%'));
  if (::inet_pton(AF_INET6, s6.c_str(), &a6) == 1) {
    out.af = AF_INET6;
    std::memcpy(out.bytes, &a6, 16);
    return true;
  }
  return false;
}

// addr_pton_cidr(): 0 ok, -1 not an address (the caller then tries a
// wildcard match), -2 a mask too long for the family or host bits set past
// the mask (both fatal in a Match line).
int addr_pton_cidr(const std::string &p, XAddr &out, int &masklen) {
  if (p.size() >= 64)
    return -1;
  std::string addr = p;
  long mask = -1;
  size_t slash = p.find('/');
  if (slash != std::string::npos) {
    addr = p.substr(0, slash);
    std::string m = p.substr(slash + 1);
    if (m.empty() || m.find_first_not_of("0123456789") != std::string::npos)
      return -1;
    mask = m.size() > 4 ? 999 : std::stol(m);
    if (mask > 128)
      return -1;
  }
  if (!addr_pton(addr, out))
    return -1;
  int max = out.af == AF_INET ? 32 : 128;
  masklen = mask < 0 ? max : static_cast<int>(mask);
  if (masklen > max)
    return -2;
  for (int bit = masklen; bit < max; ++bit)
    if (out.bytes[bit / 8] & (0x80 >> (bit % 8)))
      return -2;
  return 0;
}

bool addr_netmatch(const XAddr &host, const XAddr &net, int masklen) {
  if (host.af != net.af)
    return false;
  for (int bit = 0; bit < masklen; ++bit) {
    bool h = host.bytes[bit / 8] & (0x80 >> (bit % 8));
    bool n = net.bytes[bit / 8] & (0x80 >> (bit % 8));
    if (h != n)
      return false;
  }
  return true;
}

} // namespace

int match_pattern_list(std::string_view s, std::string_view list, bool dolower) {
  bool got_positive = false;
  for (auto &raw : text::split(list, ',', true)) {
    std::string sub = dolower ? text::lower(raw) : raw;
    bool negated = !sub.empty() && sub[0] == '!';
    if (negated)
      sub.erase(0, 1);
    if (match_pattern(s, sub)) {
      if (negated)
        return -1;
      got_positive = true;
    }
  }
  return got_positive ? 1 : 0;
}

int addr_match_list(const std::optional<std::string> &addr, std::string_view list) {
  XAddr try_addr;
  if (addr && !addr_pton(*addr, try_addr))
    return 0;
  int ret = 0;
  for (auto &raw : text::split(list, ',', true)) {
    std::string cp = raw;
    bool neg = !cp.empty() && cp[0] == '!';
    if (neg)
      cp.erase(0, 1);
    if (cp.empty())
      return -2;
    XAddr net;
    int masklen = 0;
    int r = addr_pton_cidr(cp, net, masklen);
    bool found = false;
    if (r == -2)
      return -2;
    if (r == 0)
      found = addr && addr_netmatch(try_addr, net, masklen);
    else
      found = addr && match_pattern(*addr, cp);
    if (found) {
      if (neg)
        return -1;
      ret = 1;
    }
  }
  return ret;
}

} // namespace bulwark::ssh
