#pragma once
// The systemd journal as a log source (libsystemd's sd_journal, systemd 252):
// entries of the configured units (_SYSTEMD_UNIT, set by journald itself) or
// syslog identifiers (SYSLOG_IDENTIFIER, set by the sender: any local process
// can claim "sshd", so prefer units) become lines "TIME HOST IDENT[PID]: MSG"
// for the matchers. The cursor of the last entry read is persisted, so a
// restart neither replays nor skips.

#include <bulwark/core/result.hpp>

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

struct sd_journal;

namespace bulwark::watch {

struct JournalConfig {
  std::vector<std::string> units;
  std::vector<std::string> identifiers;
  std::string directory; // read journal files from here instead of the system journal
  bool enabled() const { return !units.empty() || !identifiers.empty(); }
};

class JournalSource {
public:
  // `cursor`: saved by an earlier run ("" = none: start at the end, or at the
  // start with from_start).
  static Result<std::unique_ptr<JournalSource>> open(const JournalConfig &cfg,
                                                     const std::string &cursor, bool from_start);
  ~JournalSource();
  // Readable when new entries may have arrived.
  int fd() const { return m_fd; }
  // Reads every new entry; returns the number delivered. `unit` is the
  // entry's _SYSTEMD_UNIT (set by journald), `ident` its SYSLOG_IDENTIFIER
  // (set by the sender), for routing the line to the jails that read them.
  using LineFn =
      std::function<void(std::string_view line, std::string_view unit, std::string_view ident)>;
  size_t read(const LineFn &line);
  const std::string &cursor() const { return m_cursor; }

private:
  explicit JournalSource(sd_journal *j) : m_j(j) {}
  sd_journal *m_j;
  int m_fd = -1;
  std::string m_cursor;
};

} // namespace bulwark::watch
