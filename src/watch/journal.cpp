// sd_journal reading for bulwark watch; see journal.hpp and sd_journal(3),
// sd_journal_seek_cursor(3), sd_journal_get_fd(3). libsystemd is loaded on
// first use (core/system_libs.hpp): only watch reads the journal.
#include <bulwark/core/system_libs.hpp>
#include <bulwark/watch/journal.hpp>

#include <cstring>
#include <ctime>

namespace bulwark::watch {

namespace {

// libsystemd's journal functions. REQUIRES: loaded; open() loads them before
// a JournalSource exists.
const syslib::Journal &loaded_api() {
  return *syslib::journal().value();
}

std::string_view field(sd_journal *j, const char *name) {
  const syslib::Journal &sd = loaded_api();
  const void *data = nullptr;
  size_t len = 0;
  if (sd.sd_journal_get_data(j, name, &data, &len) < 0)
    return {};
  std::string_view v(static_cast<const char *>(data), len);
  size_t eq = v.find('=');
  return eq == std::string_view::npos ? std::string_view{} : v.substr(eq + 1);
}

Error journal_error(const std::string &what, int r) {
  return Error{"journal: " + what + ": " + std::strerror(-r), "", 0, -r};
}

} // namespace

Result<std::unique_ptr<JournalSource>>
JournalSource::open(const JournalConfig &cfg, const std::string &cursor, bool from_start) {
  const syslib::Journal &sd = *TRY(syslib::journal());
  sd_journal *j = nullptr;
  int r = cfg.directory.empty() ? sd.sd_journal_open(&j, SD_JOURNAL_LOCAL_ONLY)
                                : sd.sd_journal_open_directory(&j, cfg.directory.c_str(), 0);
  if (r < 0)
    return journal_error("cannot open", r);
  // Whole fields: a message cut at the default 64 KiB threshold could end in
  // text of the client's (the engine's max_line still applies).
  sd.sd_journal_set_data_threshold(j, 0);
  std::unique_ptr<JournalSource> src(new JournalSource(j));
  bool first = true;
  auto add = [&](const std::string &m) -> Result<Unit> {
    if (!first && (r = sd.sd_journal_add_disjunction(j)) < 0)
      return journal_error("match", r);
    first = false;
    if ((r = sd.sd_journal_add_match(j, m.c_str(), m.size())) < 0)
      return journal_error("match " + m, r);
    return Unit{};
  };
  for (auto &u : cfg.units)
    TRY(add("_SYSTEMD_UNIT=" + u));
  for (auto &i : cfg.identifiers)
    TRY(add("SYSLOG_IDENTIFIER=" + i));
  bool resumed = false;
  if (!cursor.empty() && sd.sd_journal_seek_cursor(j, cursor.c_str()) >= 0) {
    // The saved entry was read: step past it when it is still there.
    if (sd.sd_journal_next(j) > 0 && sd.sd_journal_test_cursor(j, cursor.c_str()) <= 0)
      sd.sd_journal_previous(j);
    src->m_cursor = cursor;
    resumed = true;
  }
  if (!resumed) {
    if (from_start) {
      sd.sd_journal_seek_head(j);
    } else {
      sd.sd_journal_seek_tail(j);
      sd.sd_journal_previous(j);
    }
  }
  src->m_fd = sd.sd_journal_get_fd(j);
  return src;
}

JournalSource::~JournalSource() {
  try { // loaded before the source existed (open()): value() cannot throw
    loaded_api().sd_journal_close(m_j);
  } catch (...) {
  }
}

size_t JournalSource::read(const LineFn &line) {
  const syslib::Journal &sd = loaded_api();
  if (m_fd >= 0)
    sd.sd_journal_process(m_j);
  size_t n = 0;
  std::string buf;
  while (sd.sd_journal_next(m_j) > 0) {
    uint64_t usec = 0;
    sd.sd_journal_get_realtime_usec(m_j, &usec);
    time_t t = static_cast<time_t>(usec / 1000000);
    struct tm tm {};
    gmtime_r(&t, &tm);
    char ts[32];
    std::strftime(ts, sizeof ts, "%Y-%m-%dT%H:%M:%SZ", &tm);
    // Copies: a field's data may be a decompression buffer the next
    // sd_journal_get_data() reuses.
    std::string host(field(m_j, "_HOSTNAME")), ident(field(m_j, "SYSLOG_IDENTIFIER")),
        pid(field(m_j, "_PID")), unit(field(m_j, "_SYSTEMD_UNIT"));
    std::string_view msg = field(m_j, "MESSAGE");
    buf.assign(ts);
    buf += ' ';
    buf.append(host.empty() ? std::string_view("-") : std::string_view(host));
    buf += ' ';
    buf.append(ident.empty() ? std::string_view("-") : std::string_view(ident));
    if (!pid.empty()) {
      buf += '[';
      buf.append(pid);
      buf += ']';
    }
    buf += ": ";
    buf.append(msg);
    line(buf, unit, ident);
    ++n;
    char *c = nullptr;
    if (sd.sd_journal_get_cursor(m_j, &c) >= 0) {
      m_cursor = c;
      free(c);
    }
  }
  return n;
}

} // namespace bulwark::watch
