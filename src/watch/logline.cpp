// Log headers as Debian 12's writers produce them (rsyslog 8.2302, systemd
// 252's journalctl, nginx 1.22, PostgreSQL 15, OpenVPN 2.6). See logline.hpp.
#include <bulwark/watch/logline.hpp>

#include <ctime>

namespace bulwark::watch {

namespace {

bool logline_digit(char c) {
  return c >= '0' && c <= '9';
}

// Reads exactly n digits at s[pos].
bool num(std::string_view s, size_t pos, size_t n, int &out) {
  if (pos + n > s.size())
    return false;
  int v = 0;
  for (size_t i = 0; i < n; ++i) {
    char c = s[pos + i];
    if (!logline_digit(c))
      return false;
    v = v * 10 + (c - '0');
  }
  out = v;
  return true;
}

int month_of(std::string_view s) {
  static constexpr std::string_view k_months[] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                                  "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};
  for (int i = 0; i < 12; ++i)
    if (s == k_months[i])
      return i + 1;
  return 0;
}

bool valid_time(int mo, int d, int h, int mi, int se) {
  return mo >= 1 && mo <= 12 && d >= 1 && d <= 31 && h <= 23 && mi <= 59 && se <= 60;
}

int64_t epoch(int64_t y, int mo, int d, int h, int mi, int se) {
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + se;
}

// "YYYY-MM-DD?HH:MM:SS" with `sep` between date and time, then an optional
// fraction. Returns the position after it, or 0.
size_t iso_datetime(std::string_view s, char date_sep, char sep, int64_t &t) {
  int y, mo, d, h, mi, se;
  if (!num(s, 0, 4, y) || s.size() < 19 || s[4] != date_sep || !num(s, 5, 2, mo) ||
      s[7] != date_sep || !num(s, 8, 2, d) || s[10] != sep || !num(s, 11, 2, h) || s[13] != ':' ||
      !num(s, 14, 2, mi) || s[16] != ':' || !num(s, 17, 2, se) || !valid_time(mo, d, h, mi, se))
    return 0;
  size_t p = 19;
  if (p < s.size() && (s[p] == '.' || s[p] == ',')) {
    ++p;
    while (p < s.size() && logline_digit(s[p]))
      ++p;
  }
  t = epoch(y, mo, d, h, mi, se);
  return p;
}

// "Z" or "+hh:mm" / "-hh:mm" / "+hhmm" after an ISO time. Returns the
// position after the zone, or 0 when there is none.
size_t iso_zone(std::string_view s, size_t p, int64_t &t) {
  if (p < s.size() && s[p] == 'Z')
    return p + 1;
  if (p < s.size() && (s[p] == '+' || s[p] == '-')) {
    int hh, mm;
    size_t q = p + 1;
    if (!num(s, q, 2, hh))
      return 0;
    q += 2;
    if (q < s.size() && s[q] == ':')
      ++q;
    if (!num(s, q, 2, mm))
      return 0;
    int64_t off = hh * 3600 + mm * 60;
    t -= s[p] == '+' ? off : -off;
    return q + 2;
  }
  return 0;
}

std::string_view token(std::string_view s, size_t &p) {
  if (p >= s.size()) {
    p = s.size();
    return {};
  }
  size_t b = p;
  while (p < s.size() && s[p] != ' ')
    ++p;
  return s.substr(b, p - b);
}

// "host tag[pid]: msg" (the part after the timestamp of RFC 3164 and RFC 3339
// lines). The tag ends at '[', ':' or a space, as rsyslog's parser does.
void host_tag_msg(std::string_view s, size_t p, LogLine &out) {
  out.host = token(s, p);
  if (p < s.size())
    ++p;
  size_t tb = p;
  while (p < s.size() && s[p] != '[' && s[p] != ':' && s[p] != ' ')
    ++p;
  out.prog = s.substr(tb, p - tb);
  if (p < s.size() && s[p] == '[') {
    size_t pb = ++p;
    while (p < s.size() && s[p] != ']')
      ++p;
    out.pid = s.substr(pb, p - pb);
    if (p < s.size())
      ++p;
  }
  if (p < s.size() && s[p] == ':')
    ++p;
  if (p < s.size() && s[p] == ' ')
    ++p;
  out.msg = s.substr(p);
}

bool rfc5424(std::string_view s, LogLine &out) {
  // "<pri>1 " was checked by the caller; s starts at the timestamp.
  size_t p = 0;
  int64_t t = 0;
  if (!s.empty() && s[0] == '-') {
    p = 1;
  } else {
    p = iso_datetime(s, '-', 'T', t);
    if (p == 0)
      return false;
    p = iso_zone(s, p, t);
    if (p == 0)
      return false;
  }
  if (p >= s.size() || s[p] != ' ')
    return false;
  auto skip = [&] {
    if (p < s.size())
      ++p;
  };
  skip();
  out.host = token(s, p);
  skip();
  out.prog = token(s, p);
  skip();
  out.pid = token(s, p);
  skip();
  (void)token(s, p); // msgid
  skip();
  if (p < s.size() && s[p] == '[') {
    // Structured data: [id k="v" ...]..., values may escape ']' as "\]".
    bool quoted = false;
    while (p < s.size()) {
      char c = s[p];
      if (c == '\\' && quoted) {
        p += 2;
        continue;
      }
      if (c == '"')
        quoted = !quoted;
      ++p;
      if (c == ']' && !quoted && (p >= s.size() || s[p] != '['))
        break;
    }
  } else {
    (void)token(s, p); // "-"
  }
  if (p < s.size() && s[p] == ' ')
    ++p;
  std::string_view msg = s.substr(std::min(p, s.size()));
  if (msg.size() >= 3 && msg.substr(0, 3) == "\xEF\xBB\xBF")
    msg.remove_prefix(3);
  if (out.host == "-")
    out.host = {};
  if (out.prog == "-")
    out.prog = {};
  if (out.pid == "-")
    out.pid = {};
  out.format = LineFormat::syslog;
  out.time = t;
  out.msg = msg;
  return true;
}

bool ip_char(char c) {
  return logline_digit(c) || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F') || c == ':' ||
         c == '.';
}

} // namespace

int64_t days_from_civil(int64_t y, unsigned m, unsigned d) {
  // H. Hinnant's algorithm (public domain), proleptic Gregorian.
  y -= m <= 2;
  const int64_t era = (y >= 0 ? y : y - 399) / 400;
  const unsigned yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<int64_t>(doe) - 719468;
}

YearInference::YearInference(int64_t reference_time) {
  time_t t = static_cast<time_t>(reference_time);
  struct tm tm {};
  gmtime_r(&t, &tm);
  m_year = tm.tm_year + 1900;
  m_ref_month = tm.tm_mon + 1;
}

int64_t YearInference::resolve(int month, int day, int hour, int minute, int second) {
  if (m_last_month == 0) {
    if (month > m_ref_month + 1)
      --m_year;
  } else if (month + 6 < m_last_month) {
    ++m_year;
  } else if (month > m_last_month + 6) {
    // Out-of-order line from before the turn of the year: leave the year
    // of the log as it is but date this line in the previous year.
    return epoch(m_year - 1, month, day, hour, minute, second);
  }
  m_last_month = month;
  return epoch(m_year, month, day, hour, minute, second);
}

LogLine parse_log_line(std::string_view line, YearInference &years) {
  LogLine out;
  out.msg = line;
  std::string_view s = line;
  // A priority "<n>" precedes the header when the line comes from a socket.
  if (s.size() > 2 && s[0] == '<') {
    size_t p = 1;
    while (p < s.size() && p < 5 && logline_digit(s[p]))
      ++p;
    if (p > 1 && p < s.size() && s[p] == '>') {
      s.remove_prefix(p + 1);
      if (s.size() > 2 && s[0] == '1' && s[1] == ' ') {
        if (rfc5424(s.substr(2), out))
          return out;
        out = LogLine{};
        out.msg = line;
        return out;
      }
    }
  }
  if (s.size() < 16)
    return out;
  // RFC 3164: "Mmm dd hh:mm:ss " (day padded with a space).
  if (int mo = month_of(s.substr(0, 3)); mo != 0 && s[3] == ' ') {
    int d = 0, h, mi, se;
    if (s[4] == ' ' && logline_digit(s[5]))
      d = s[5] - '0';
    else if (!num(s, 4, 2, d))
      return out;
    if (s[6] != ' ' || !num(s, 7, 2, h) || s[9] != ':' || !num(s, 10, 2, mi) || s[12] != ':' ||
        !num(s, 13, 2, se) || s[15] != ' ' || !valid_time(mo, d, h, mi, se))
      return out;
    out.format = LineFormat::syslog;
    out.time = years.resolve(mo, d, h, mi, se);
    host_tag_msg(s, 16, out);
    return out;
  }
  int64_t t = 0;
  if (size_t p = iso_datetime(s, '-', 'T', t); p != 0) {
    p = iso_zone(s, p, t);
    if (p == 0 || p >= s.size() || s[p] != ' ')
      return out;
    out.format = LineFormat::syslog;
    out.time = t;
    host_tag_msg(s, p + 1, out);
    return out;
  }
  if (size_t p = iso_datetime(s, '-', ' ', t); p != 0) {
    // PostgreSQL "%m" ends with the zone abbreviation ("UTC", "CEST"); read
    // it as UTC only when it says so, others shift all lines alike.
    if (p < s.size() && s[p] == ' ') {
      size_t q = p + 1;
      while (q < s.size() &&
             ((s[q] >= 'A' && s[q] <= 'Z') || s[q] == '+' || s[q] == '-' || logline_digit(s[q])))
        ++q;
      if (q > p + 1 && q < s.size() && s[q] == ' ' && !logline_digit(s[p + 1]))
        p = q;
    }
    if (p >= s.size() || s[p] != ' ')
      return out;
    ++p;
    out.format = LineFormat::plain_iso;
    out.time = t;
    if (p < s.size() && s[p] == '[') {
      size_t q = p + 1;
      while (q < s.size() && logline_digit(s[q]))
        ++q;
      if (q > p + 1 && q < s.size() && s[q] == ']') {
        out.pid = s.substr(p + 1, q - p - 1);
        p = q + 1;
        if (p < s.size() && s[p] == ' ')
          ++p;
      }
    }
    out.msg = s.substr(p);
    return out;
  }
  if (size_t p = iso_datetime(s, '/', ' ', t); p == 19) {
    if (p < s.size() && s[p] == ' ') {
      out.format = LineFormat::nginx_error;
      out.time = t;
      out.msg = s.substr(p + 1);
    }
    return out;
  }
  // nginx access.log: "addr - user [dd/Mon/yyyy:hh:mm:ss +zzzz] ...".
  size_t a = 0;
  while (a < s.size() && ip_char(s[a]))
    ++a;
  if (a >= 3 && a < s.size() && s[a] == ' ') {
    // nginx escapes '"' in $remote_user and $request (as \x22), so the
    // first quote opens the request and the time sits just before it; a
    // user name cannot forge it.
    size_t q = s.find('"', a);
    if (q == std::string_view::npos || q < a + 30 || s[q - 1] != ' ' || s[q - 2] != ']' ||
        s[q - 29] != '[')
      return out;
    std::string_view ts = s.substr(q - 28, 26);
    int d, y, h, mi, se, mo = month_of(ts.substr(3, 3));
    if (mo == 0 || !num(ts, 0, 2, d) || ts[2] != '/' || ts[6] != '/' || !num(ts, 7, 4, y) ||
        ts[11] != ':' || !num(ts, 12, 2, h) || ts[14] != ':' || !num(ts, 15, 2, mi) ||
        ts[17] != ':' || !num(ts, 18, 2, se) || ts[20] != ' ' || !valid_time(mo, d, h, mi, se))
      return out;
    int64_t tt = epoch(y, mo, d, h, mi, se);
    if (iso_zone(ts, 21, tt) == 0)
      return out;
    out.format = LineFormat::nginx_access;
    out.time = tt;
    out.msg = s;
  }
  return out;
}

} // namespace bulwark::watch
