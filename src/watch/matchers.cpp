// Authentication-failure lines of Debian 12's daemons: OpenSSH 9.2 (auth.c,
// auth2.c, sshd.c, packet.c; user names are logged as "%.100s"), sudo 1.9.13,
// nginx 1.22 (ngx_http_auth_basic_module, ngx_http_log_error), PostgreSQL 15
// (auth.c: ClientAuthentication, log_connections), OpenVPN 2.6 (ssl_verify.c,
// ssl.c), strongSwan 5.9 (charon's IKE messages). Each parser checks the
// daemon's fixed text around the fields and takes the address from where the
// daemon put it; see matchers.hpp for the rules and docs/watch.md for lines.
#include <bulwark/watch/matchers.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <climits>
#include <cstring>

namespace bulwark::watch {

namespace {

constexpr size_t k_recent = 4096;
// OpenSSH formats a log message into a 1024-byte buffer (log.c, MSGBUFSIZ)
// and nginx into 2048 bytes (NGX_MAX_ERROR_STR): a longer-looking message may
// have been cut, and a cut line's tail could be text the client chose.
constexpr size_t k_sshd_max_msg = 1000;
constexpr size_t k_nginx_max_line = 2000;
// sshd connections kept for correlation; LoginGraceTime is 2 minutes by
// default, so a preauth connection idle for 10 minutes of log time is over.
constexpr size_t k_ssh_conns = 65536;
constexpr int64_t k_ssh_idle = 600;

bool matchers_digit(char c) {
  return c >= '0' && c <= '9';
}

bool matchers_all_digits(std::string_view s) {
  if (s.empty())
    return false;
  for (char c : s)
    if (!matchers_digit(c))
      return false;
  return true;
}

bool consume(std::string_view &s, std::string_view prefix) {
  if (s.substr(0, prefix.size()) != prefix)
    return false;
  s.remove_prefix(prefix.size());
  return true;
}

bool strip_suffix(std::string_view &s, std::string_view suffix) {
  if (s.size() < suffix.size() || s.substr(s.size() - suffix.size()) != suffix)
    return false;
  s.remove_suffix(suffix.size());
  return true;
}

bool matchers_ends_with(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// `s` ends with " ADDR port N": takes them off. Right-anchored: the address
// is the token the daemon wrote after the user name.
bool take_addr_port_suffix(std::string_view &s, Address &a) {
  size_t sp = s.rfind(' ');
  if (sp == std::string_view::npos || !matchers_all_digits(s.substr(sp + 1)))
    return false;
  std::string_view rest = s.substr(0, sp);
  if (!strip_suffix(rest, " port"))
    return false;
  size_t sp2 = rest.rfind(' ');
  if (sp2 == std::string_view::npos || !parse_address(rest.substr(sp2 + 1), a))
    return false;
  s = rest.substr(0, sp2);
  return true;
}

// The rightmost " from ADDR" followed by exactly `tail_ok`'s accepted text.
template <typename TailOk> bool rightmost_from(std::string_view s, Address &a, TailOk tail_ok) {
  size_t pos = s.size();
  while (pos > 0) {
    size_t f = s.rfind(" from ", pos - 1);
    if (f == std::string_view::npos)
      return false;
    std::string_view after = s.substr(f + 6);
    size_t sp = after.find(' ');
    std::string_view addr = after.substr(0, sp);
    std::string_view tail = sp == std::string_view::npos ? std::string_view{} : after.substr(sp);
    if (parse_address(addr, a) && tail_ok(tail))
      return true;
    if (f == 0)
      return false;
    pos = f;
  }
  return false;
}

// " port N ssh2" then nothing, or ": " and the key's type and fingerprint.
bool port_ssh2_tail(std::string_view t) {
  if (!consume(t, " port "))
    return false;
  size_t i = 0;
  while (i < t.size() && matchers_digit(t[i]))
    ++i;
  if (i == 0)
    return false;
  t.remove_prefix(i);
  if (!consume(t, " ssh2"))
    return false;
  return t.empty() || t.substr(0, 2) == ": ";
}

bool port_tail(std::string_view t) {
  if (!consume(t, " port "))
    return false;
  return matchers_all_digits(t);
}

// Candidates "KEY ADDR" + `after` anywhere in `s`; one address or none.
bool unique_candidate(std::string_view s, std::string_view key, char end1, char end2, Address &a,
                      bool &ambiguous) {
  bool found = false;
  size_t pos = 0;
  while ((pos = s.find(key, pos)) != std::string_view::npos) {
    pos += key.size();
    size_t e = pos;
    while (e < s.size() && s[e] != end1 && s[e] != end2)
      ++e;
    Address c;
    if (parse_address(s.substr(pos, e - pos), c)) {
      if (found && !(c == a)) {
        ambiguous = true;
        a = Address{};
        return false;
      }
      a = c;
      found = true;
    }
  }
  return found;
}

} // namespace

bool parse_address(std::string_view s, Address &out) {
  if (s.size() < 2 || s.size() > 45)
    return false;
  char buf[64];
  std::memcpy(buf, s.data(), s.size());
  buf[s.size()] = '\0';
  Address a;
  if (s.find(':') == std::string_view::npos) {
    if (inet_pton(AF_INET, buf, a.bytes.data()) != 1)
      return false;
    a.family = 4;
  } else {
    if (inet_pton(AF_INET6, buf, a.bytes.data()) != 1)
      return false;
    static constexpr uint8_t k_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};
    if (std::memcmp(a.bytes.data(), k_mapped, 12) == 0) {
      std::memmove(a.bytes.data(), a.bytes.data() + 12, 4);
      std::memset(a.bytes.data() + 4, 0, 12);
      a.family = 4;
    } else {
      a.family = 6;
    }
  }
  out = a;
  return true;
}

Address mask_address(const Address &a, int prefix) {
  Address m = a;
  int bits = a.family == 4 ? 32 : 128;
  for (int i = 0; i < 16; ++i) {
    int lo = i * 8;
    if (lo >= bits) {
      m.bytes[i] = 0;
    } else if (lo + 8 > prefix) {
      int keep = prefix - lo;
      m.bytes[i] = keep <= 0 ? 0 : static_cast<uint8_t>(m.bytes[i] & (0xff << (8 - keep)));
    }
  }
  return m;
}

namespace {

char *put_dec(char *p, unsigned v) {
  if (v >= 100)
    *p++ = static_cast<char>('0' + v / 100);
  if (v >= 10)
    *p++ = static_cast<char>('0' + v / 10 % 10);
  *p++ = static_cast<char>('0' + v % 10);
  return p;
}

char *put_v4(char *p, const uint8_t *b) {
  for (int i = 0; i < 4; ++i) {
    if (i > 0)
      *p++ = '.';
    p = put_dec(p, b[i]);
  }
  return p;
}

} // namespace

size_t format_address_to(const Address &a, char *buf) {
  // glibc's inet_ntop (resolv/inet_ntop.c) step by step, so that the text is
  // the same (it is the key of the SQLite records and of the firewall's
  // elements), without its sprintf per byte or group: inet_ntop was a
  // quarter of the CPU of a restart with 65,536 bans.
  char *p = buf;
  const uint8_t *b = a.bytes.data();
  if (a.family == 4) {
    p = put_v4(p, b);
  } else if (a.family == 6) {
    unsigned words[8];
    for (int i = 0; i < 8; ++i)
      words[i] = static_cast<unsigned>(b[2 * i] << 8 | b[2 * i + 1]);
    // The longest run of zero groups (the first of equal ones), if >= 2.
    int best = -1, best_len = 0, cur = -1, cur_len = 0;
    for (int i = 0; i < 8; ++i) {
      if (words[i] == 0) {
        if (cur < 0)
          cur = i, cur_len = 1;
        else
          ++cur_len;
      } else if (cur >= 0) {
        if (best < 0 || cur_len > best_len)
          best = cur, best_len = cur_len;
        cur = -1;
      }
    }
    if (cur >= 0 && (best < 0 || cur_len > best_len))
      best = cur, best_len = cur_len;
    if (best >= 0 && best_len < 2)
      best = -1;
    static constexpr char k_hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; ++i) {
      if (best >= 0 && i >= best && i < best + best_len) {
        if (i == best)
          *p++ = ':';
        continue;
      }
      if (i != 0)
        *p++ = ':';
      // ::a.b.c.d and ::ffff:a.b.c.d, as inet_ntop writes them.
      if (i == 6 && best == 0 && (best_len == 6 || (best_len == 5 && words[5] == 0xffff))) {
        p = put_v4(p, b + 12);
        break;
      }
      bool started = false;
      for (int shift = 12; shift >= 0; shift -= 4) {
        unsigned d = words[i] >> shift & 0xf;
        if (d != 0 || started || shift == 0) {
          *p++ = k_hex[d];
          started = true;
        }
      }
    }
    if (best >= 0 && best + best_len == 8)
      *p++ = ':';
  } else {
    *p++ = '-';
  }
  *p = '\0';
  return static_cast<size_t>(p - buf);
}

std::string format_address(const Address &a) {
  char buf[k_address_text_max];
  return std::string(buf, format_address_to(a, buf));
}

bool Cidr::contains(const Address &a) const {
  return a.family == net.family && mask_address(a, prefix) == net;
}

bool parse_cidr(std::string_view s, Cidr &out) {
  size_t slash = s.find('/');
  Address a;
  if (!parse_address(s.substr(0, slash), a))
    return false;
  int max = a.family == 4 ? 32 : 128;
  int p = max;
  if (slash != std::string_view::npos) {
    std::string_view ps = s.substr(slash + 1);
    if (!matchers_all_digits(ps) || ps.size() > 3)
      return false;
    p = std::stoi(std::string(ps));
    if (p > max)
      return false;
  }
  out.net = mask_address(a, p);
  out.prefix = p;
  return true;
}

std::string_view service_name(Service s) {
  switch (s) {
  case Service::sshd: return "sshd";
  case Service::sudo: return "sudo";
  case Service::nginx: return "nginx";
  case Service::postgresql: return "postgresql";
  case Service::openvpn: return "openvpn";
  case Service::strongswan: return "strongswan";
  default: return "custom";
  }
}

bool service_from_name(std::string_view name, Service &out) {
  for (int i = 0; i < static_cast<int>(Service::custom); ++i)
    if (service_name(static_cast<Service>(i)) == name) {
      out = static_cast<Service>(i);
      return true;
    }
  return false;
}

bool is_sshd_tag(std::string_view prog) {
  return prog == "sshd" || prog == "sshd-session";
}

BuiltinMatchers::BuiltinMatchers(MatcherOptions opts) : m_opts(std::move(opts)) {}

void BuiltinMatchers::remember(std::string_view key, const Address &a) {
  if (m_recent.size() < k_recent) {
    m_recent.push_back({std::string(key), a});
    return;
  }
  m_recent[m_recent_next] = {std::string(key), a};
  m_recent_next = (m_recent_next + 1) % k_recent;
}

const Address *BuiltinMatchers::recall(std::string_view key) const {
  // Newest first: a pid is reused only after the earlier backend exited.
  for (size_t i = 0; i < m_recent.size(); ++i) {
    size_t idx = (m_recent_next + m_recent.size() - 1 - i) % m_recent.size();
    if (m_recent[idx].key == key)
      return &m_recent[idx].addr;
  }
  return nullptr;
}

bool BuiltinMatchers::match(const LogLine &l, Event &out, int64_t t, std::string_view origin) {
  switch (l.format) {
  case LineFormat::syslog:
    if (l.prog.empty())
      return false;
    switch (l.prog[0]) {
    case 's':
      if (is_sshd_tag(l.prog)) {
        if (!sshd(l.msg, out))
          return false;
        correlate_sshd(l, origin, t, out);
        return true;
      }
      if (l.prog == "sudo")
        return sudo(l.msg, out);
      return false;
    case 'o':
      if (l.prog == "openvpn" || l.prog.substr(0, 8) == "openvpn@" ||
          l.prog.substr(0, 5) == "ovpn-")
        return openvpn(l.msg, out);
      return false;
    case 'c':
      if (l.prog == "charon" || l.prog == "charon-systemd")
        return strongswan(l.msg, out);
      return false;
    case 'p':
      if (l.prog == "postgres" || l.prog == "postgresql")
        return postgres(l.pid, l.msg, out);
      return false;
    default: return false;
    }
  case LineFormat::nginx_error: return nginx_error(l.msg, l.msg.size() + 20, out);
  case LineFormat::nginx_access: return nginx_access(l.msg, out);
  case LineFormat::plain_iso:
    if (!l.pid.empty())
      return postgres(l.pid, l.msg, out);
    return openvpn(l.msg, out);
  default: return false;
  }
}

// --- sshd connections -------------------------------------------------------
void BuiltinMatchers::expire(int64_t cutoff) {
  for (auto it = m_ssh.begin(); it != m_ssh.end();) {
    if (it->second.last >= cutoff) {
      ++it;
      continue;
    }
    if (it->second.probe) {
      Event e;
      e.service = Service::sshd;
      e.reason = it->second.reason;
      e.addr = it->second.addr;
      e.probe = true;
      e.attempts = 0;
      m_expired.push_back({e, std::move(it->second.origin)});
    }
    it = m_ssh.erase(it);
  }
}

std::vector<BuiltinMatchers::Expired> BuiltinMatchers::take_expired(int64_t t, bool all) {
  if (all)
    expire(INT64_MAX);
  else if (t > 0 && t - m_last_sweep >= 60) {
    m_last_sweep = t;
    expire(t - k_ssh_idle);
  }
  std::vector<Expired> out;
  out.swap(m_expired);
  return out;
}

void BuiltinMatchers::correlate_sshd(const LogLine &l, std::string_view origin, int64_t t,
                                     Event &out) {
  std::string_view r = out.reason;
  std::string_view msg = l.msg;
  const bool probe_line = r == "invalid_user" || r == "not_allowed";
  const bool pam_error = r == "pam_failure" && msg.substr(0, 4) != "pam_";
  const bool failed = r.substr(0, 7) == "failed_";
  const bool failed_none = failed && msg.substr(0, 12) == "Failed none ";
  const bool failed_kbd = failed && msg.substr(0, 28) == "Failed keyboard-interactive/";
  // Lines that never are an attempt of their own.
  out.attempts = (failed && !failed_none) || pam_error ? 1 : 0;
  if (l.pid.empty() || out.addr.family == 0) {
    // Nothing to correlate by: each line alone ("Invalid user" is a probe now).
    if (probe_line) {
      out.probe = true;
      out.attempts = 0;
    }
    return;
  }
  std::string key;
  key.reserve(origin.size() + l.host.size() + l.pid.size() + 2);
  key.append(origin).append(1, '\0').append(l.host).append(1, '\0').append(l.pid);
  auto it = m_ssh.find(key);
  if (it != m_ssh.end() && !(it->second.addr == out.addr)) {
    // A reused pid: the earlier connection ended without a close line.
    if (it->second.probe) {
      Event e;
      e.service = Service::sshd;
      e.reason = it->second.reason;
      e.addr = it->second.addr;
      e.probe = true;
      e.attempts = 0;
      m_expired.push_back({e, std::move(it->second.origin)});
    }
    m_ssh.erase(it);
    it = m_ssh.end();
  }
  const bool close = r == "preauth_disconnect";
  if (close) {
    if (it != m_ssh.end()) {
      if (it->second.probe) {
        out.probe = true;
        out.reason = it->second.reason;
      }
      m_ssh.erase(it);
    }
    return;
  }
  if (!probe_line && !pam_error && !(failed_kbd && it != m_ssh.end())) {
    if (it != m_ssh.end()) {
      it->second.last = t;
      if (out.attempts > 0)
        it->second.probe = false;
    }
    return;
  }
  if (it == m_ssh.end()) {
    if (m_ssh.size() >= k_ssh_conns) {
      expire(t - 60);
      if (m_ssh.size() >= k_ssh_conns)
        expire(INT64_MAX);
    }
    SshConn c;
    c.addr = out.addr;
    c.origin = std::string(origin);
    it = m_ssh.emplace(std::move(key), std::move(c)).first;
  }
  SshConn &c = it->second;
  c.last = t;
  if (probe_line) {
    c.probe = true;
    c.reason = r;
    out.attempts = 0;
  } else if (pam_error) {
    c.probe = false;
    ++c.pam_unpaired;
  } else if (failed_kbd) {
    c.probe = false;
    if (c.pam_unpaired > 0) {
      --c.pam_unpaired;
      out.attempts = 0; // the "error: PAM" line before it was this attempt
    }
  }
}

// --- sshd -------------------------------------------------------------------
bool BuiltinMatchers::sshd(std::string_view m, Event &out) {
  if (m.size() < 12)
    return false;
  out = Event{};
  out.service = Service::sshd;
  out.kind = Kind::auth_failed;
  bool truncated = m.size() >= k_sshd_max_msg;
  std::string_view s = m;
  strip_suffix(s, " [preauth]");
  Address a;
  bool ok = false;
  if (consume(s, "Failed ")) {
    // auth.c auth_log(): "Failed %s for %s%.100s from %.200s port %d ssh2%s%s"
    if (s.substr(0, 9) == "password ")
      out.reason = "failed_password";
    else if (s.substr(0, 10) == "publickey ")
      out.reason = "failed_publickey";
    else
      out.reason = "failed_other";
    size_t sp = s.find(' ');
    if (sp == std::string_view::npos || s.substr(sp, 5) != " for ")
      return false;
    ok = rightmost_from(s, a, port_ssh2_tail);
  } else if (consume(s, "Invalid user ")) {
    // auth.c: "Invalid user %.100s from %.100s port %d"
    out.reason = "invalid_user";
    ok = rightmost_from(s, a, port_tail);
  } else if (consume(s, "User ")) {
    // auth.c allowed_user(): "User %.100s from %.100s not allowed because ..."
    if (s.find(" not allowed because ") == std::string_view::npos)
      return false;
    out.reason = "not_allowed";
    ok = rightmost_from(
        s, a, [](std::string_view t) { return t.substr(0, 21) == " not allowed because "; });
    // What follows "because" names the rule, or a login shell from the
    // password database: never text of the client's.
  } else if (consume(s, "error: maximum authentication attempts exceeded for ")) {
    out.reason = "max_attempts";
    ok = rightmost_from(s, a, port_ssh2_tail);
  } else if (consume(s, "Disconnecting ")) {
    // packet.c: "Disconnecting %s %s port %d: %s" with "authenticating user X"
    if (!(consume(s, "authenticating user ") || consume(s, "invalid user ")) ||
        !strip_suffix(s, ": Too many authentication failures"))
      return false;
    out.reason = "max_attempts";
    ok = take_addr_port_suffix(s, a);
  } else if (consume(s, "Connection closed by ") || consume(s, "Connection reset by ") ||
             consume(s, "Disconnected from ")) {
    // Only before authentication completed: "authenticating user" / "invalid user".
    if (!(consume(s, "authenticating user ") || consume(s, "invalid user ")))
      return false;
    out.reason = "preauth_disconnect";
    ok = take_addr_port_suffix(s, a);
  } else if (consume(s, "error: PAM: Authentication failure for ") ||
             consume(s, "PAM: Authentication failure for ")) {
    // auth-pam.c: "PAM: %s for %s%.100s from %.100s" (user then host).
    out.reason = "pam_failure";
    ok = rightmost_from(s, a, [](std::string_view t) { return t.empty(); });
  } else if (consume(s, "pam_unix(sshd:auth): authentication failure; logname=")) {
    // pam_unix: "logname=%s uid=%d euid=%d tty=%s ruser=%s rhost=%s  user=%s";
    // for sshd the fields before rhost are the daemon's, the user comes last.
    out.reason = "pam_failure";
    size_t sp = s.find(' ');
    if (sp == std::string_view::npos)
      return false;
    s.remove_prefix(sp);
    auto field = [&](std::string_view name, std::string_view &val) {
      if (!consume(s, name))
        return false;
      size_t e = s.find(' ');
      val = s.substr(0, e);
      s.remove_prefix(e == std::string_view::npos ? s.size() : e);
      return true;
    };
    std::string_view uid, euid, tty, ruser, rhost;
    if (!field(" uid=", uid) || !field(" euid=", euid) || !field(" tty=", tty) ||
        !field(" ruser=", ruser) || !field(" rhost=", rhost))
      return false;
    if (!matchers_all_digits(uid) || !matchers_all_digits(euid))
      return false;
    ok = parse_address(rhost, a) && (s.empty() || s.substr(0, 1) == " ");
  } else {
    return false;
  }
  if (ok && !truncated)
    out.addr = a;
  else if (ok)
    out.ambiguous = true;
  return true;
}

// --- sudo -------------------------------------------------------------------
bool BuiltinMatchers::sudo(std::string_view m, Event &out) {
  // plugins/sudoers/logging.c: "USER : MESSAGE ; TTY=... ; PWD=... ; USER=... ; COMMAND=..."
  size_t i = 0;
  while (i < m.size() && m[i] == ' ')
    ++i;
  size_t c = m.find(" : ", i);
  if (c == std::string_view::npos)
    return false;
  std::string_view s = m.substr(c + 3);
  out = Event{};
  out.service = Service::sudo;
  auto next_is_field = [](std::string_view t) { return t.substr(0, 3) == " ; " || t.empty(); };
  size_t d = 0;
  while (d < s.size() && matchers_digit(s[d]))
    ++d;
  if (d > 0 && (s.substr(d, 28) == " incorrect password attempts" ||
                s.substr(d, 27) == " incorrect password attempt")) {
    out.kind = Kind::auth_failed;
    out.reason = "incorrect_password";
    // sudo's passwd_tries is 3 by default; a larger count is still N
    // attempts, capped so that a forged line cannot cost unbounded work.
    uint32_t n = 0;
    for (size_t i = 0; i < d && n < 1000; ++i)
      n = n * 10 + static_cast<uint32_t>(s[i] - '0');
    out.attempts = std::min<uint32_t>(n, 1000);
    return true;
  }
  if (consume(s, "user NOT in sudoers") && next_is_field(s)) {
    out.kind = Kind::unauthorized;
    out.reason = "not_in_sudoers";
    return true;
  }
  if (consume(s, "user NOT authorized on host") && next_is_field(s)) {
    out.kind = Kind::unauthorized;
    out.reason = "not_authorized_on_host";
    return true;
  }
  if (consume(s, "command not allowed") && next_is_field(s)) {
    out.kind = Kind::unauthorized;
    out.reason = "command_not_allowed";
    return true;
  }
  return false;
}

// --- nginx ------------------------------------------------------------------
bool BuiltinMatchers::nginx_error(std::string_view m, size_t line_size, Event &out) {
  // "[error] PID#TID: *CID user \"NAME\": password mismatch, client: ADDR, server: ..."
  std::string_view s = m;
  if (!consume(s, "["))
    return false;
  size_t rb = s.find("] ");
  if (rb == std::string_view::npos || rb > 6)
    return false;
  s.remove_prefix(rb + 2);
  size_t colon = s.find(": ");
  if (colon == std::string_view::npos || colon > 24)
    return false;
  s.remove_prefix(colon + 2);
  if (consume(s, "*")) {
    size_t sp = s.find(' ');
    if (sp == std::string_view::npos || !matchers_all_digits(s.substr(0, sp)))
      return false;
    s.remove_prefix(sp + 1);
  }
  out = Event{};
  out.service = Service::nginx;
  out.kind = Kind::auth_failed;
  // "no user/password was provided for basic authentication" is the
  // challenge every client gets before it sends credentials: not a failure.
  if (m_opts.nginx_failures != NginxFailures::error_log || !consume(s, "user \""))
    return false;
  // The name is the client's, unescaped: it may contain '"' and ", client:".
  if (s.find("\": password mismatch, client: ") != std::string_view::npos)
    out.reason = "basic_auth_mismatch";
  else if (s.find("\" was not found in \"") != std::string_view::npos)
    out.reason = "basic_auth_unknown_user";
  else
    return false;
  Address a;
  bool ambiguous = false;
  if (unique_candidate(m, ", client: ", ',', ',', a, ambiguous) && line_size < k_nginx_max_line)
    out.addr = a;
  else
    out.ambiguous = true;
  return true;
}

bool BuiltinMatchers::nginx_access(std::string_view line, Event &out) {
  // $remote_addr is nginx's own; $remote_user and $request escape '"' as \x22.
  size_t sp = line.find(' ');
  Address a;
  if (sp == std::string_view::npos || !parse_address(line.substr(0, sp), a))
    return false;
  size_t q1 = line.find('"', sp);
  if (q1 == std::string_view::npos)
    return false;
  size_t q2 = line.find('"', q1 + 1);
  if (q2 == std::string_view::npos || q2 + 5 > line.size() || line[q2 + 1] != ' ')
    return false;
  std::string_view st = line.substr(q2 + 2, 3);
  if (!matchers_all_digits(st) || (q2 + 5 < line.size() && line[q2 + 5] != ' '))
    return false;
  int status = (st[0] - '0') * 100 + (st[1] - '0') * 10 + (st[2] - '0');
  if (status == 401) {
    // A 401 is a failure only when the request carried credentials
    // ($remote_user, between "ADDR - " and " ["), and only when the access
    // log is the one that counts them.
    std::string_view user = line.substr(sp);
    if (m_opts.nginx_failures != NginxFailures::access_log || !consume(user, " - ") ||
        user.substr(0, 3) == "- [")
      return false;
  }
  bool counted = false;
  for (int s : m_opts.nginx_statuses)
    counted |= s == status;
  if (!counted)
    return false;
  out = Event{};
  out.service = Service::nginx;
  out.kind = status == 401 ? Kind::auth_failed : Kind::unauthorized;
  static constexpr std::string_view k_reasons[] = {"http_401", "http_403", "http_other"};
  out.reason = status == 401 ? k_reasons[0] : status == 403 ? k_reasons[1] : k_reasons[2];
  out.addr = a;
  return true;
}

// --- PostgreSQL -------------------------------------------------------------
bool BuiltinMatchers::postgres(std::string_view pid, std::string_view m, Event &out) {
  // Debian's log_line_prefix '%m [%p] %q%u@%d ': after "[pid] " comes
  // "user@db " (client-chosen) for a session, nothing for other processes.
  size_t lvl = m.find("FATAL:  ");
  if (lvl == std::string_view::npos) {
    // log_connections: "LOG:  connection received: host=ADDR port=N",
    // logged before the user is known ("[unknown]@[unknown] " or nothing).
    std::string_view s = m;
    consume(s, "[unknown]@[unknown] ");
    if (!consume(s, "LOG:  connection received: host="))
      return false;
    size_t sp = s.find(" port=");
    Address a;
    if (sp != std::string_view::npos && matchers_all_digits(s.substr(sp + 6)) &&
        parse_address(s.substr(0, sp), a) && !pid.empty())
      remember(pid, a);
    return false;
  }
  std::string_view s = m.substr(lvl + 8);
  out = Event{};
  out.service = Service::postgresql;
  out.kind = Kind::auth_failed;
  if (s.substr(0, 38) == "password authentication failed for use") {
    out.reason = "password_failed";
    if (const Address *a = pid.empty() ? nullptr : recall(pid))
      out.addr = *a;
    return true;
  }
  if (s.substr(0, 22) == "no pg_hba.conf entry f") {
    // "no pg_hba.conf entry for host \"%s\", user \"%s\", database \"%s\"":
    // the prefix and the message both carry client-chosen names, so every
    // candidate is weighed.
    out.kind = Kind::unauthorized;
    out.reason = "no_hba_entry";
    Address a;
    bool ambiguous = false;
    if (unique_candidate(m, "FATAL:  no pg_hba.conf entry for host \"", '"', '"', a, ambiguous))
      out.addr = a;
    out.ambiguous = ambiguous;
    return true;
  }
  return false;
}

// --- OpenVPN ----------------------------------------------------------------
bool BuiltinMatchers::openvpn(std::string_view m, Event &out) {
  // Per-client messages start with "ADDR:PORT " before TLS authentication and
  // "CN/ADDR:PORT " after it (the CN from a certificate our CA signed).
  size_t sp = m.find(' ');
  if (sp == std::string_view::npos)
    return false;
  std::string_view peer = m.substr(0, sp), s = m.substr(sp + 1);
  out = Event{};
  out.service = Service::openvpn;
  out.kind = Kind::auth_failed;
  if (s.substr(0, 30) == "TLS Error: TLS handshake faile" ||
      s.substr(0, 36) == "TLS Error: TLS key negotiation faile" || s.substr(0, 10) == "TLS_ERROR:")
    out.reason = "tls_error";
  else if (s.substr(0, 14) == "VERIFY ERROR: ")
    out.reason = "verify_error";
  else if (s.substr(0, 15) == "TLS Auth Error:" ||
           (s.substr(0, 14) == "SENT CONTROL [" &&
            s.find("]: 'AUTH_FAILED") != std::string_view::npos))
    out.reason = "auth_failed";
  else
    return false;
  size_t slash = peer.rfind('/');
  if (slash != std::string_view::npos)
    peer.remove_prefix(slash + 1);
  // "[AF_INET6]" prefixes and "[ADDR]:PORT" are both seen for IPv6 peers.
  if (peer.substr(0, 10) == "[AF_INET6]")
    peer.remove_prefix(10);
  if (peer.substr(0, 9) == "[AF_INET]")
    peer.remove_prefix(9);
  size_t colon = peer.rfind(':');
  if (colon == std::string_view::npos || !matchers_all_digits(peer.substr(colon + 1)))
    return true;
  std::string_view host = peer.substr(0, colon);
  if (host.size() > 2 && host.front() == '[' && host.back() == ']')
    host = host.substr(1, host.size() - 2);
  Address a;
  if (parse_address(host, a))
    out.addr = a;
  return true;
}

// --- strongSwan -------------------------------------------------------------
bool BuiltinMatchers::strongswan(std::string_view m, Event &out) {
  // charon: "NN[IKE] <name|id> message" (the <name|id> with ike_name = yes).
  std::string_view s = m;
  size_t i = 0;
  while (i < s.size() && matchers_digit(s[i]))
    ++i;
  if (i == 0 || !consume(s = s.substr(i), "[IKE] "))
    return false;
  std::string_view sa;
  if (!s.empty() && s[0] == '<') {
    size_t e = s.find("> ");
    if (e == std::string_view::npos)
      return false;
    sa = s.substr(0, e + 1);
    s.remove_prefix(e + 2);
  }
  out = Event{};
  out.service = Service::strongswan;
  out.kind = Kind::auth_failed;
  // "ADDR is initiating an IKE_SA" / "... a Main Mode IKE_SA": remember the peer.
  if (size_t sp = s.find(' '); sp != std::string_view::npos &&
                               s.substr(sp, 15) == " is initiating " &&
                               matchers_ends_with(s, "IKE_SA")) {
    Address a;
    if (!sa.empty() && parse_address(s.substr(0, sp), a))
      remember(sa, a);
    return false;
  }
  if (consume(s, "EAP method ")) {
    // "EAP method %N failed for peer %H": the address ends the line.
    size_t f = s.rfind(" failed for peer ");
    if (f == std::string_view::npos)
      return false;
    out.reason = "eap_failed";
    Address a;
    if (parse_address(s.substr(f + 17), a))
      out.addr = a;
    return true;
  }
  if (s.substr(0, 18) == "authentication of " && matchers_ends_with(s, " failed"))
    out.reason = "auth_failed";
  else if (s.substr(0, 6) == "tried " && matchers_ends_with(s, "but MAC mismatched"))
    out.reason = "psk_mismatch";
  else if (s == "sending AUTHENTICATION_FAILED notify" ||
           s == "peer requested EAP, config inacceptable")
    out.reason = "auth_failed";
  else
    return false;
  if (const Address *a = sa.empty() ? nullptr : recall(sa))
    out.addr = *a;
  return true;
}

} // namespace bulwark::watch
