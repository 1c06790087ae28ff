#pragma once
// The decision core of bulwark watch: lines in, counters and ban decisions
// out. Per jail and source (the address masked to the jail's IPv4/IPv6
// prefix) a sliding window of the last maxretry failure times; maxretry
// failures within findtime ban the source for bantime (times factor^(n-1) for
// the n-th ban with escalation, capped). Memory is bounded: sources live in a
// fixed-size set-associative table that evicts the least recently seen source
// of a set (counted), and ban records in a capped map.

#include <bulwark/watch/config.hpp>
#include <bulwark/watch/logline.hpp>
#include <bulwark/watch/matchers.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace re2 {
class RE2;
}

namespace bulwark::watch {

// Fixed-capacity table of sources with their recent failure times.
class SourceTable {
public:
  SourceTable(size_t capacity, int maxretry);
  ~SourceTable();
  SourceTable(const SourceTable &) = delete;
  SourceTable &operator=(const SourceTable &) = delete;

  // Records `weight` units of failure of `key` at time t (an attempt is 2,
  // a probe 1); returns how many of its recorded units (at most the
  // capacity given as `maxretry`) lie within (t - findtime, t].
  int hit(const Address &key, int64_t t, int64_t findtime, int weight = 1);
  void forget(const Address &key);
  size_t size() const { return m_used; }
  size_t capacity() const { return m_sets * k_ways; }
  uint64_t evicted() const { return m_evicted; }

private:
  static constexpr size_t k_ways = 8;
  struct Slot {
    std::array<uint8_t, 16> bytes;
    uint8_t family;
    uint8_t n;
    uint8_t head;
    uint8_t pad[5];
    int64_t last;
  };
  Slot *find(const Address &key, bool create);

  size_t m_sets = 0;
  int m_maxretry;
  Slot *m_slots = nullptr;
  int64_t *m_times = nullptr;
  size_t m_used = 0;
  uint64_t m_evicted = 0;
};

struct BanDecision {
  std::string jail;
  Address source; // masked to the prefix
  int prefix = 32;
  int64_t time = 0;               // when it was decided (line time in replay, arrival time live)
  int64_t duration = 0;           // seconds
  uint32_t nth = 1;               // 1 = first ban of this source in memory
  int failures = 0;               // attempts in the window (probes count half, rounded up)
  std::string reason;             // of the event that completed the window
  std::vector<std::string> lines; // the source's counted lines (at most 10, oldest first)
};

// Where a line comes from. A jail's matchers see a line only when it comes
// from one of the jail's own sources; `any` (replay) reaches every jail.
struct Origin {
  std::string_view file;  // a followed file (its configured path)
  std::string_view unit;  // journal: _SYSTEMD_UNIT
  std::string_view ident; // journal: SYSLOG_IDENTIFIER
  bool any = false;
  static Origin anywhere() {
    Origin o;
    o.any = true;
    return o;
  }
};

struct CounterKey {
  std::string service; // label value: built-in service name or custom jail name
  std::string reason;
  Kind kind;
};

struct Counters {
  uint64_t lines = 0;
  uint64_t bytes = 0;
  uint64_t lines_too_long = 0;
  uint64_t events = 0;
  uint64_t events_without_address = 0;
  uint64_t events_ambiguous = 0;
  uint64_t events_ignored = 0; // ignoreip / loopback
  uint64_t events_while_banned = 0;
  uint64_t events_no_attempt = 0;      // recognised lines that repeat an attempt counted elsewhere
  uint64_t events_outside_sources = 0; // from a source no jail of their service reads
  uint64_t bans = 0;
  uint64_t bans_dropped = 0; // ban table full of active bans
  uint64_t bans_failed = 0;  // decided, but the firewall refused them
  uint64_t hooks_failed = 0; // hook.exec runs that did not start or exited non-zero
  std::vector<std::pair<CounterKey, uint64_t>> by_reason;
};

class Engine {
public:
  // REQUIRES: cfg validated by parse_config (custom regexes compile).
  Engine(const Config &cfg, int64_t reference_time);
  ~Engine();

  // One line without its newline. Windows use the line's own time; `now` is
  // the arrival time when following live (used for a line without a time,
  // and for ban records), 0 in replay. `origin`: where the line came from.
  void process(std::string_view line, int64_t now = 0, Origin origin = Origin::anywhere());
  // End of input (replay): sshd probes of connections without a close line
  // are counted now.
  void finish();
  // A line longer than the limit: skipped whole (its tail may be the
  // client's text), only counted.
  void skip_too_long() { ++m_counters.lines_too_long; }
  // A ban the firewall refused (counted for bulwark_bans_failed_total).
  void ban_failed(uint64_t n = 1) { m_counters.bans_failed += n; }
  // A hook.exec run that failed (bulwark_hook_failed_total).
  void hook_failed(uint64_t n = 1) { m_counters.hooks_failed += n; }
  // A ban lifted by hand (`bulwark bans remove`): it ends now (its history
  // stays for escalation) and the source's window starts empty.
  void lift(std::string_view jail, const Address &source, int64_t now);

  std::function<void(const BanDecision &)> on_ban;

  const Counters &counters() const { return m_counters; }
  size_t tracked() const;
  uint64_t evicted() const;
  size_t active_bans(int64_t now) const;
  int64_t last_time() const { return m_last_time; }
  const Config &config() const { return m_cfg; }

  // Restores a ban (from the state database): it counts for escalation and
  // suppresses re-banning until it expires.
  void restore_ban(size_t jail, const Address &source, int64_t until, uint32_t nth);
  size_t jail_index(std::string_view name) const;

private:
  struct Jail;
  struct BanKey {
    uint32_t jail;
    Address addr;
    bool operator==(const BanKey &) const = default;
  };
  struct BanKeyHash {
    size_t operator()(const BanKey &k) const;
  };
  struct BanState {
    int64_t until;
    uint32_t nth;
  };

  void count(std::string_view service, std::string_view reason, Kind kind, uint64_t n);
  void handle(const LogLine &l, std::string_view line, int64_t t, int64_t wall,
              const Origin &origin);
  void dispatch(const Event &ev, const Origin &origin, int64_t t, int64_t wall,
                std::string_view line);
  void event(Jail &j, size_t ji, const Address &addr, int64_t t, int64_t wall, int weight,
             std::string_view reason, std::string_view line);
  bool accepts(const Jail &j, const Origin &o) const;

  Config m_cfg;
  std::vector<std::unique_ptr<Jail>> m_jails;
  std::vector<std::vector<size_t>> m_by_service; // Service -> jail indices
  BuiltinMatchers m_matchers;
  YearInference m_years;
  Counters m_counters;
  int64_t m_last_time = 0;
  std::string m_origin_key; // scratch: the origin as the matchers' connection key
  std::unordered_map<BanKey, BanState, BanKeyHash> m_bans;
  int64_t m_next_purge = 0; // no expired ban record before this time
  bool m_any_custom = false;
};

// Loopback sources are never banned (127.0.0.0/8, ::1).
bool is_loopback(const Address &a);

} // namespace bulwark::watch
