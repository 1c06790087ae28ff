#pragma once
// One log line split into its syslog header and message. The header formats
// are the ones Debian 12's daemons and loggers write:
//  - RFC 3164 / rsyslog's traditional format: "Mmm dd hh:mm:ss host tag[pid]: msg"
//    (no year: inferred, see YearInference);
//  - RFC 3339 / ISO 8601 (rsyslog's RSYSLOG_FileFormat, journalctl -o short-iso):
//    "2024-05-01T12:00:00.123456+02:00 host tag[pid]: msg";
//  - RFC 5424: "<pri>1 timestamp host app procid msgid [sd] msg";
// and the daemons' own files, which have no syslog header:
//  - nginx error.log "2024/05/01 12:00:00 [error] 1#1: *5 ..." and access.log
//    (combined format: "addr - user [01/May/2024:12:00:00 +0000] ...");
//  - PostgreSQL's stderr log with Debian's log_line_prefix '%m [%p] %q%u@%d ':
//    "2024-05-01 12:00:00.123 UTC [1234] ...";
//  - OpenVPN's --log file: "2024-05-01 12:00:00 ...".
// Times are seconds since the epoch. A header without a zone (RFC 3164, nginx
// error.log, OpenVPN) is read as UTC: windows only compare times of one log,
// so the zone shifts all of them alike.

#include <cstdint>
#include <string_view>

namespace bulwark::watch {

enum class LineFormat {
  unknown,      // no recognised header: msg is the whole line, time is 0
  syslog,       // RFC 3164, RFC 3339 or RFC 5424 header; prog/pid/host set
  nginx_error,  // nginx error.log
  nginx_access, // nginx access.log (combined/common format)
  plain_iso,    // "YYYY-MM-DD HH:MM:SS[.frac][ TZ] " then msg (PostgreSQL, OpenVPN)
};

struct LogLine {
  LineFormat format = LineFormat::unknown;
  int64_t time = 0; // seconds since the epoch, 0 when unknown
  std::string_view host;
  std::string_view prog; // syslog tag without "[pid]"
  std::string_view pid;
  std::string_view msg;
};

// RFC 3164 timestamps carry no year. The year is that of the reference time
// (now, live) and then follows the log: a month lower than the previous line's
// by more than six means the year turned (Dec -> Jan); a first line whose
// month lies more than a month after the reference's is last year's (a log
// from December read in January).
class YearInference {
public:
  explicit YearInference(int64_t reference_time);
  int64_t resolve(int month, int day, int hour, int minute, int second);

private:
  int m_year;
  int m_ref_month;
  int m_last_month = 0;
};

// Splits `line` (no newline). Never fails: an unrecognised line has format
// unknown and msg = line.
LogLine parse_log_line(std::string_view line, YearInference &years);

// Days since 1970-01-01 of a proleptic Gregorian date.
int64_t days_from_civil(int64_t y, unsigned m, unsigned d);

} // namespace bulwark::watch
