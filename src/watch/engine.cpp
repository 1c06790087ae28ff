// Windows, bans and counters of bulwark watch; see engine.hpp. fail2ban's
// semantics (filter.py / failmanager.py, 1.0.2): a ban when maxretry failures
// fall within findtime, the failure list of a source is cleared when it is
// banned, failures of a banned source do not extend its ban.
#include <bulwark/watch/engine.hpp>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>
#include <cstring>
#include <re2/re2.h>
#include <sys/mman.h>

namespace bulwark::watch {

namespace {

uint64_t mix(uint64_t x) {
  x ^= x >> 33;
  x *= 0xff51afd7ed558ccdULL;
  x ^= x >> 33;
  x *= 0xc4ceb9fe1a85ec53ULL;
  x ^= x >> 33;
  return x;
}

uint64_t hash_address(const Address &a) {
  uint64_t lo, hi;
  std::memcpy(&lo, a.bytes.data(), 8);
  std::memcpy(&hi, a.bytes.data() + 8, 8);
  return mix(lo ^ mix(hi ^ a.family));
}

// Anonymous zero pages: a table's memory becomes resident only as it fills.
template <typename T> T *zeroed(size_t n) {
  void *p = ::mmap(nullptr, std::max<size_t>(n * sizeof(T), 1), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED)
    throw std::bad_alloc();
  return static_cast<T *>(p);
}
template <typename T> void release(T *p, size_t n) {
  if (p != nullptr)
    ::munmap(p, std::max<size_t>(n * sizeof(T), 1));
}

// RE2 for "<HOST>": the literal forms of IPv4 and IPv6 addresses (checked
// with inet_pton afterwards). fail2ban's own <HOST> also matches host names;
// bulwark never resolves names.
constexpr std::string_view k_host_re = R"((?P<host>[0-9A-Fa-f:.]{2,45}))";

} // namespace

std::string expand_host(std::string_view regex) {
  std::string out;
  size_t pos = 0;
  for (size_t h; (h = regex.find("<HOST>", pos)) != std::string_view::npos; pos = h + 6) {
    out.append(regex.substr(pos, h - pos));
    out.append(k_host_re);
  }
  out.append(regex.substr(pos));
  return out;
}

bool is_loopback(const Address &a) {
  if (a.family == 4)
    return a.bytes[0] == 127;
  if (a.family == 6) {
    for (int i = 0; i < 15; ++i)
      if (a.bytes[i] != 0)
        return false;
    return a.bytes[15] == 1;
  }
  return false;
}

// --- SourceTable ------------------------------------------------------------
SourceTable::SourceTable(size_t capacity, int maxretry) : m_maxretry(std::max(1, maxretry)) {
  size_t sets = 1;
  while (sets * 2 * k_ways <= std::max(capacity, k_ways))
    sets *= 2;
  m_sets = sets;
  m_slots = zeroed<Slot>(m_sets * k_ways);
  m_times = zeroed<int64_t>(m_sets * k_ways * static_cast<size_t>(m_maxretry));
}

SourceTable::~SourceTable() {
  release(m_slots, m_sets * k_ways);
  release(m_times, m_sets * k_ways * static_cast<size_t>(m_maxretry));
}

SourceTable::Slot *SourceTable::find(const Address &key, bool create) {
  size_t set = hash_address(key) & (m_sets - 1);
  Slot *base = m_slots + set * k_ways;
  Slot *victim = nullptr;
  for (size_t i = 0; i < k_ways; ++i) {
    Slot &s = base[i];
    if (s.family == key.family && s.bytes == key.bytes)
      return &s;
    if (s.family == 0) {
      if (victim == nullptr || victim->family != 0)
        victim = &s;
    } else if (victim == nullptr || (victim->family != 0 && s.last < victim->last)) {
      victim = &s;
    }
  }
  if (!create)
    return nullptr;
  if (victim->family != 0)
    ++m_evicted;
  else
    ++m_used;
  victim->bytes = key.bytes;
  victim->family = key.family;
  victim->n = 0;
  victim->head = 0;
  return victim;
}

int SourceTable::hit(const Address &key, int64_t t, int64_t findtime, int weight) {
  Slot *s = find(key, true);
  s->last = t;
  int64_t *times = m_times + static_cast<size_t>(s - m_slots) * static_cast<size_t>(m_maxretry);
  for (int w = 0; w < std::min(weight, m_maxretry); ++w) {
    times[s->head] = t;
    s->head = static_cast<uint8_t>((s->head + 1) % m_maxretry);
    if (s->n < m_maxretry)
      ++s->n;
  }
  int within = 0;
  for (int i = 0; i < s->n; ++i)
    if (times[i] > t - findtime && times[i] <= t)
      ++within;
  return within;
}

void SourceTable::forget(const Address &key) {
  if (Slot *s = find(key, false)) {
    s->family = 0;
    s->n = 0;
    --m_used;
  }
}

// --- Engine -----------------------------------------------------------------
// The last counted lines of a jail, for the record of a ban.
constexpr size_t k_recent_lines = 1024;
constexpr size_t k_evidence_lines = 10;
constexpr size_t k_evidence_line = 1024;

struct Engine::Jail {
  const JailConfig *cfg;
  SourceTable table;
  // The ring of recent counted lines, with their source's hash: a ban
  // looks for its source's lines by comparing hashes (100,000 bans each
  // comparing 1,024 addresses were a third of a wide attack's CPU).
  struct Recent {
    uint64_t hash;
    Address key;
    std::string line;
  };
  std::vector<Recent> recent; // ring
  size_t recent_next = 0;
  std::vector<std::unique_ptr<RE2>> regexes;
  // The window counts half attempts: an attempt weighs 2, an sshd probe 1.
  Jail(const JailConfig &c, size_t cap) : cfg(&c), table(cap, 2 * c.maxretry) {}
};

size_t Engine::BanKeyHash::operator()(const BanKey &k) const {
  return hash_address(k.addr) ^ mix(k.jail);
}

Engine::Engine(const Config &cfg, int64_t reference_time)
    : m_cfg(cfg), m_matchers(cfg.matchers), m_years(reference_time) {
  size_t enabled = 0;
  for (auto &j : m_cfg.jails)
    enabled += j.enabled ? 1 : 0;
  size_t cap = m_cfg.max_tracked / std::max<size_t>(1, enabled);
  m_by_service.resize(static_cast<size_t>(Service::count));
  for (auto &jc : m_cfg.jails) {
    if (!jc.enabled)
      continue;
    auto j = std::make_unique<Jail>(jc, cap);
    for (auto &m : jc.failregex) {
      RE2::Options o;
      o.set_log_errors(false);
      j->regexes.push_back(std::make_unique<RE2>(expand_host(m.regex), o));
      m_any_custom = true;
    }
    for (Service s : jc.services)
      m_by_service[static_cast<size_t>(s)].push_back(m_jails.size());
    m_jails.push_back(std::move(j));
  }
}

Engine::~Engine() = default;

size_t Engine::jail_index(std::string_view name) const {
  for (size_t i = 0; i < m_jails.size(); ++i)
    if (m_jails[i]->cfg->name == name)
      return i;
  return SIZE_MAX;
}

size_t Engine::tracked() const {
  size_t n = 0;
  for (auto &j : m_jails)
    n += j->table.size();
  return n;
}

uint64_t Engine::evicted() const {
  uint64_t n = 0;
  for (auto &j : m_jails)
    n += j->table.evicted();
  return n;
}

size_t Engine::active_bans(int64_t now) const {
  size_t n = 0;
  for (auto &[k, b] : m_bans)
    n += b.until > now ? 1 : 0;
  return n;
}

void Engine::count(std::string_view service, std::string_view reason, Kind kind, uint64_t n) {
  for (auto &[k, v] : m_counters.by_reason)
    if (k.kind == kind && k.reason == reason && k.service == service) {
      v += n;
      return;
    }
  m_counters.by_reason.push_back({{std::string(service), std::string(reason), kind}, n});
}

void Engine::lift(std::string_view jail, const Address &source, int64_t now) {
  size_t ji = jail_index(jail);
  if (ji == SIZE_MAX)
    return;
  auto it = m_bans.find(BanKey{static_cast<uint32_t>(ji), source});
  if (it != m_bans.end() && it->second.until > now)
    it->second.until = now;
  m_jails[ji]->table.forget(source);
}

void Engine::restore_ban(size_t jail, const Address &source, int64_t until, uint32_t nth) {
  if (jail >= m_jails.size())
    return;
  m_bans[BanKey{static_cast<uint32_t>(jail), source}] = BanState{until, nth};
  m_next_purge = std::min(m_next_purge, until);
}

void Engine::event(Jail &j, size_t ji, const Address &addr, int64_t t, int64_t wall, int weight,
                   std::string_view reason, std::string_view line) {
  const JailConfig &c = *j.cfg;
  if (is_loopback(addr)) {
    ++m_counters.events_ignored;
    return;
  }
  for (auto &cidr : c.ignoreip)
    if (cidr.contains(addr)) {
      ++m_counters.events_ignored;
      return;
    }
  int prefix = addr.family == 4 ? c.ipv4_prefix : c.ipv6_prefix;
  Address key = mask_address(addr, prefix);
  BanKey bk{static_cast<uint32_t>(ji), key};
  auto it = m_bans.find(bk);
  if (it != m_bans.end() && it->second.until > wall) {
    ++m_counters.events_while_banned;
    return;
  }
  int n = j.table.hit(key, t, c.findtime, weight);
  // The jail's recent counted lines, for the ban's record.
  const uint64_t key_hash = hash_address(key);
  if (j.recent.size() < k_recent_lines)
    j.recent.push_back({key_hash, key, std::string(line.substr(0, k_evidence_line))});
  else
    j.recent[j.recent_next] = {key_hash, key, std::string(line.substr(0, k_evidence_line))};
  j.recent_next = (j.recent_next + 1) % k_recent_lines;
  if (n < 2 * c.maxretry)
    return;
  j.table.forget(key);
  // The lines of this source still in the ring, oldest first (under a wide
  // attack the ring may have moved past the earliest).
  std::vector<std::string> lines;
  // Newest first from the slot before recent_next (no division per step).
  size_t idx = j.recent_next % std::max<size_t>(1, j.recent.size());
  for (size_t i = 0; i < j.recent.size() && lines.size() < k_evidence_lines; ++i) {
    idx = idx == 0 ? j.recent.size() - 1 : idx - 1;
    if (j.recent[idx].hash == key_hash && j.recent[idx].key == key)
      lines.push_back(j.recent[idx].line);
  }
  std::reverse(lines.begin(), lines.end());
  // Escalation remembers a source until escalation.forget after its last
  // ban ended; then it starts again at the first ban.
  uint32_t nth =
      it != m_bans.end() && wall - it->second.until < c.escalation_forget ? it->second.nth + 1 : 1;
  double d = static_cast<double>(c.bantime) * std::pow(c.escalation_factor, nth - 1);
  int64_t duration = c.escalation_factor > 1.0
                         ? static_cast<int64_t>(std::min(d, static_cast<double>(c.escalation_max)))
                         : c.bantime;
  if (it == m_bans.end() && m_bans.size() >= m_cfg.max_bans) {
    // Make room: expired records only keep escalation history. One scan
    // finds the earliest expiry of what stays; until then a full table has
    // nothing to purge, so a decision never scans every ban (65,536 active
    // bans under attack cost one scan per expiry, not one per decision).
    if (wall >= m_next_purge) {
      m_next_purge = INT64_MAX;
      for (auto e = m_bans.begin(); e != m_bans.end();) {
        if (e->second.until <= wall) {
          e = m_bans.erase(e);
        } else {
          m_next_purge = std::min(m_next_purge, e->second.until);
          ++e;
        }
      }
    }
    if (m_bans.size() >= m_cfg.max_bans) {
      ++m_counters.bans_dropped;
      return;
    }
  }
  m_bans[bk] = BanState{wall + duration, nth};
  m_next_purge = std::min(m_next_purge, wall + duration);
  ++m_counters.bans;
  if (on_ban)
    on_ban(BanDecision{c.name, key, prefix, wall, duration, nth, (n + 1) / 2, std::string(reason),
                       std::move(lines)});
}

namespace {

bool engine_contains(const std::vector<std::string> &v, std::string_view s) {
  for (auto &e : v)
    if (e == s)
      return true;
  return false;
}

// The matchers' connection key of an origin, and back (expired probes are
// routed by it): "a" anywhere, "f" + file, "j" + unit + NUL + identifier.
void origin_key(const Origin &o, std::string &out) {
  out.clear();
  if (o.any) {
    out = "a";
  } else if (!o.file.empty()) {
    out.append("f").append(o.file);
  } else {
    out.append("j").append(o.unit).append(1, '\0').append(o.ident);
  }
}

Origin origin_from_key(std::string_view k) {
  Origin o;
  if (k.empty() || k[0] == 'a') {
    o.any = true;
  } else if (k[0] == 'f') {
    o.file = k.substr(1);
  } else {
    k.remove_prefix(1);
    size_t z = k.find('\0');
    o.unit = k.substr(0, z);
    o.ident = z == std::string_view::npos ? std::string_view{} : k.substr(z + 1);
  }
  return o;
}

// rsyslog's repeated-message reduction: "message repeated N times: [ MSG]".
bool repeated(std::string_view msg, uint32_t &n, std::string_view &inner) {
  static constexpr std::string_view k_head = "message repeated ";
  if (msg.substr(0, k_head.size()) != k_head)
    return false;
  msg.remove_prefix(k_head.size());
  size_t i = 0;
  uint64_t v = 0;
  while (i < msg.size() && i < 10 && msg[i] >= '0' && msg[i] <= '9')
    v = v * 10 + static_cast<uint64_t>(msg[i++] - '0');
  msg.remove_prefix(i);
  if (i == 0 || v == 0 || msg.size() < 10 || msg.substr(0, 9) != " times: [" || msg.back() != ']')
    return false;
  inner = msg.substr(9, msg.size() - 10);
  if (!inner.empty() && inner[0] == ' ')
    inner.remove_prefix(1);
  n = static_cast<uint32_t>(v);
  return true;
}

} // namespace

bool Engine::accepts(const Jail &j, const Origin &o) const {
  if (o.any)
    return true;
  const JailConfig &c = *j.cfg;
  if (!o.file.empty())
    return engine_contains(c.logs, o.file);
  if (!o.unit.empty() &&
      (engine_contains(c.units, o.unit) || engine_contains(m_cfg.journal.units, o.unit)))
    return true;
  return !o.ident.empty() && (engine_contains(c.identifiers, o.ident) ||
                              engine_contains(m_cfg.journal.identifiers, o.ident));
}

void Engine::dispatch(const Event &ev, const Origin &origin, int64_t t, int64_t wall,
                      std::string_view line) {
  ++m_counters.events;
  if (ev.attempts == 0 && !ev.probe) {
    ++m_counters.events_no_attempt;
    return;
  }
  const auto &jails = m_by_service[static_cast<size_t>(ev.service)];
  bool accepted = false;
  for (size_t ji : jails)
    accepted |= accepts(*m_jails[ji], origin);
  if (!accepted) {
    // No jail of this service reads where the line came from (`logger -t
    // sshd` into /var/log/syslog): it is not sshd's.
    ++m_counters.events_outside_sources;
    return;
  }
  count(service_name(ev.service), ev.reason, ev.kind, ev.probe ? 1 : ev.attempts);
  if (ev.ambiguous)
    ++m_counters.events_ambiguous;
  if (ev.addr.family == 0) {
    ++m_counters.events_without_address;
    return;
  }
  int weight = static_cast<int>(std::min<uint32_t>(event_weight(ev), 1u << 16));
  for (size_t ji : jails)
    if (accepts(*m_jails[ji], origin))
      event(*m_jails[ji], ji, ev.addr, t, wall, weight, ev.reason, line);
}

void Engine::handle(const LogLine &l, std::string_view line, int64_t t, int64_t wall,
                    const Origin &origin) {
  Event ev;
  origin_key(origin, m_origin_key);
  if (m_matchers.match(l, ev, t, m_origin_key))
    dispatch(ev, origin, t, wall, line);
  for (auto &x : m_matchers.take_expired(t))
    dispatch(x.event, origin_from_key(x.origin), t, wall,
             "(probe of a connection without a close line)");
  if (!m_any_custom)
    return;
  std::string_view text = l.format == LineFormat::unknown ? line : l.msg;
  for (size_t ji = 0; ji < m_jails.size(); ++ji) {
    Jail &j = *m_jails[ji];
    if (j.regexes.empty() || !accepts(j, origin))
      continue;
    if (!j.cfg->programs.empty() &&
        std::find(j.cfg->programs.begin(), j.cfg->programs.end(), l.prog) == j.cfg->programs.end())
      continue;
    for (auto &re : j.regexes) {
      // The user's regex may have groups of its own: take "host" by name.
      auto g = re->NamedCapturingGroups().find("host");
      if (g == re->NamedCapturingGroups().end())
        continue;
      re2::StringPiece subs[16];
      int n = std::min(g->second + 1, 16);
      if (g->second >= 16 || !re->Match(re2::StringPiece(text.data(), text.size()), 0, text.size(),
                                        RE2::UNANCHORED, subs, n))
        continue;
      re2::StringPiece host = subs[g->second];
      ++m_counters.events;
      count(j.cfg->name, "custom", Kind::auth_failed, 1);
      Address a;
      if (parse_address(std::string_view(host.data(), host.size()), a))
        event(j, ji, a, t, wall, 2, "custom", line);
      else
        ++m_counters.events_without_address;
      break;
    }
  }
}

void Engine::finish() {
  for (auto &x : m_matchers.take_expired(m_last_time, true))
    dispatch(x.event, origin_from_key(x.origin), m_last_time, m_last_time,
             "(probe of a connection without a close line)");
}

void Engine::process(std::string_view line, int64_t now, Origin origin) {
  ++m_counters.lines;
  m_counters.bytes += line.size() + 1;
  LogLine l = parse_log_line(line, m_years);
  // The log's own time windows the line (a backlog read after a restart is
  // as far apart as it was written); arrival time only when it has none.
  int64_t t = l.time != 0 ? l.time : now != 0 ? now : m_last_time;
  m_last_time = t;
  int64_t wall = now != 0 ? now : t;
  uint32_t n = 0;
  std::string_view inner;
  if (l.format == LineFormat::syslog && repeated(l.msg, n, inner)) {
    // Each repetition is the line again (capped: a forged count must not
    // cost unbounded work; beyond maxretry more changes no decision).
    LogLine r = l;
    r.msg = inner;
    for (uint32_t i = 0; i < std::min<uint32_t>(n, 1000); ++i)
      handle(r, inner, t, wall, origin);
    return;
  }
  handle(l, line, t, wall, origin);
}

} // namespace bulwark::watch
