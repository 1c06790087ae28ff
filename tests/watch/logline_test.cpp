// Syslog and daemon log headers: RFC 3164 with the year inferred across the
// turn of the year, RFC 3339/5424, nginx, PostgreSQL, OpenVPN.
#include <bulwark/watch/logline.hpp>

#include <gtest/gtest.h>

using namespace bulwark::watch;

namespace {

int64_t utc(int y, int mo, int d, int h, int mi, int s) {
  return days_from_civil(y, static_cast<unsigned>(mo), static_cast<unsigned>(d)) * 86400 +
         h * 3600 + mi * 60 + s;
}

} // namespace

TEST(WatchLogLine, Rfc3164TakesTheReferenceYear) {
  YearInference y(utc(2024, 3, 10, 0, 0, 0));
  LogLine l = parse_log_line("Mar  5 10:00:01 web1 sshd[812]: Invalid user x from 1.2.3.4", y);
  EXPECT_EQ(l.format, LineFormat::syslog);
  EXPECT_EQ(l.time, utc(2024, 3, 5, 10, 0, 1));
  EXPECT_EQ(l.host, "web1");
  EXPECT_EQ(l.prog, "sshd");
  EXPECT_EQ(l.pid, "812");
  EXPECT_EQ(l.msg, "Invalid user x from 1.2.3.4");
}

TEST(WatchLogLine, Rfc3164TurnOfTheYear) {
  // Read on 2 January: December lines are last year's, January lines this year's.
  YearInference y(utc(2025, 1, 2, 12, 0, 0));
  LogLine a = parse_log_line("Dec 31 23:59:59 h sshd[1]: a", y);
  LogLine b = parse_log_line("Jan  1 00:00:01 h sshd[1]: b", y);
  EXPECT_EQ(a.time, utc(2024, 12, 31, 23, 59, 59));
  EXPECT_EQ(b.time, utc(2025, 1, 1, 0, 0, 1));
  EXPECT_EQ(b.time - a.time, 2);
}

TEST(WatchLogLine, Rfc3164LogSpanningNewYearReadLater) {
  // Followed from December into January: the year moves on with the log.
  YearInference y(utc(2025, 12, 20, 0, 0, 0));
  LogLine a = parse_log_line("Dec 30 10:00:00 h sshd[1]: a", y);
  LogLine b = parse_log_line("Jan  2 10:00:00 h sshd[1]: b", y);
  EXPECT_EQ(a.time, utc(2025, 12, 30, 10, 0, 0));
  EXPECT_EQ(b.time, utc(2026, 1, 2, 10, 0, 0));
}

TEST(WatchLogLine, Rfc3339WithOffsetAndFraction) {
  YearInference y(0);
  LogLine l = parse_log_line("2024-05-01T12:00:00.123456+02:00 h sudo:   bob : x", y);
  EXPECT_EQ(l.format, LineFormat::syslog);
  EXPECT_EQ(l.time, utc(2024, 5, 1, 10, 0, 0));
  EXPECT_EQ(l.prog, "sudo");
  EXPECT_EQ(l.pid, "");
  EXPECT_EQ(l.msg, "  bob : x");
  LogLine z = parse_log_line("2024-05-01T12:00:00Z h sshd[9]: m", y);
  EXPECT_EQ(z.time, utc(2024, 5, 1, 12, 0, 0));
}

TEST(WatchLogLine, Rfc5424WithStructuredData) {
  YearInference y(0);
  LogLine l = parse_log_line(
      R"(<38>1 2024-05-01T12:00:00Z host sshd 812 - [meta x="a\]b" y="c"][o k="v"] Failed)", y);
  EXPECT_EQ(l.format, LineFormat::syslog);
  EXPECT_EQ(l.time, utc(2024, 5, 1, 12, 0, 0));
  EXPECT_EQ(l.prog, "sshd");
  EXPECT_EQ(l.pid, "812");
  EXPECT_EQ(l.msg, "Failed");
  LogLine n = parse_log_line("<38>1 - - sshd - - - hello", y);
  EXPECT_EQ(n.format, LineFormat::syslog);
  EXPECT_EQ(n.msg, "hello");
}

TEST(WatchLogLine, DaemonFiles) {
  YearInference y(0);
  LogLine e =
      parse_log_line("2024/05/01 12:00:00 [error] 7#7: *1 user \"a\": password mismatch", y);
  EXPECT_EQ(e.format, LineFormat::nginx_error);
  EXPECT_EQ(e.time, utc(2024, 5, 1, 12, 0, 0));
  LogLine a = parse_log_line(
      R"(203.0.113.9 - bob [01/May/2024:12:00:00 +0200] "GET / HTTP/1.1" 401 179 "-" "curl")", y);
  EXPECT_EQ(a.format, LineFormat::nginx_access);
  EXPECT_EQ(a.time, utc(2024, 5, 1, 10, 0, 0));
  LogLine p = parse_log_line(
      "2024-05-01 12:00:00.123 UTC [4242] bob@db FATAL:  password authentication failed", y);
  EXPECT_EQ(p.format, LineFormat::plain_iso);
  EXPECT_EQ(p.pid, "4242");
  EXPECT_EQ(p.msg, "bob@db FATAL:  password authentication failed");
  LogLine o = parse_log_line("2024-05-01 12:00:00 1.2.3.4:5 TLS Error: TLS handshake failed", y);
  EXPECT_EQ(o.format, LineFormat::plain_iso);
  EXPECT_EQ(o.msg, "1.2.3.4:5 TLS Error: TLS handshake failed");
}

TEST(WatchLogLine, GarbageIsUnknownNotACrash) {
  YearInference y(0);
  for (std::string_view s :
       {"", "<", "<999999>", "<1>1 ", "Jan", "Jan 99 99:99:99 x", "Foo  1 00:00:00 h p: m",
        "2024-13-01T00:00:00Z h p: m", "2024/05/01 12:00:00", "1.2.3.4 - - [", "\0\0\0\0",
        // fuzz_watch_matchers: an RFC 5424 header cut after the procid
        "<38>1 2024-05-01T10:00:00Z h sshd 810 [preauth]", "<38>1 - h"}) {
    LogLine l = parse_log_line(s, y);
    EXPECT_TRUE(l.format == LineFormat::unknown || l.format == LineFormat::syslog) << s;
  }
  EXPECT_EQ(parse_log_line("Feb 30 99:00:00 h p: m", y).format, LineFormat::unknown);
}
