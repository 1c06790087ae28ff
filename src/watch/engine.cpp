// Windows, bans and counters of bulwark watch; see engine.hpp. fail2ban's
// semantics (filter.py / failmanager.py, 1.0.2): a ban when maxretry failures
// fall within findtime, the failure list of a source is cleared when it is
// banned, failures of a banned source do not extend its ban.
#include <bulwark/watch/engine.hpp>

#include <algorithm>
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

int SourceTable::hit(const Address &key, int64_t t, int64_t findtime) {
  Slot *s = find(key, true);
  s->last = t;
  int64_t *times = m_times + static_cast<size_t>(s - m_slots) * static_cast<size_t>(m_maxretry);
  times[s->head] = t;
  s->head = static_cast<uint8_t>((s->head + 1) % m_maxretry);
  if (s->n < m_maxretry)
    ++s->n;
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
struct Engine::Jail {
  const JailConfig *cfg;
  SourceTable table;
  std::vector<std::unique_ptr<RE2>> regexes;
  Jail(const JailConfig &c, size_t cap) : cfg(&c), table(cap, c.maxretry) {}
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

void Engine::count(std::string_view service, std::string_view reason, Kind kind) {
  for (auto &[k, v] : m_counters.by_reason)
    if (k.kind == kind && k.reason == reason && k.service == service) {
      ++v;
      return;
    }
  m_counters.by_reason.push_back({{std::string(service), std::string(reason), kind}, 1});
}

void Engine::restore_ban(size_t jail, const Address &source, int64_t until, uint32_t nth) {
  if (jail >= m_jails.size())
    return;
  m_bans[BanKey{static_cast<uint32_t>(jail), source}] = BanState{until, nth};
}

void Engine::event(Jail &j, size_t ji, const Address &addr, int64_t t) {
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
  if (it != m_bans.end() && it->second.until > t) {
    ++m_counters.events_while_banned;
    return;
  }
  int n = j.table.hit(key, t, c.findtime);
  if (n < c.maxretry)
    return;
  j.table.forget(key);
  uint32_t nth = it != m_bans.end() ? it->second.nth + 1 : 1;
  double d = static_cast<double>(c.bantime) * std::pow(c.escalation_factor, nth - 1);
  int64_t duration = c.escalation_factor > 1.0
                         ? static_cast<int64_t>(std::min(d, static_cast<double>(c.escalation_max)))
                         : c.bantime;
  if (it == m_bans.end() && m_bans.size() >= m_cfg.max_bans) {
    // Make room: expired records only keep escalation history.
    for (auto e = m_bans.begin(); e != m_bans.end();)
      e = e->second.until <= t ? m_bans.erase(e) : std::next(e);
    if (m_bans.size() >= m_cfg.max_bans) {
      ++m_counters.bans_dropped;
      return;
    }
  }
  m_bans[bk] = BanState{t + duration, nth};
  ++m_counters.bans;
  if (on_ban)
    on_ban(BanDecision{c.name, key, prefix, t, duration, nth, n});
}

void Engine::process(std::string_view line, int64_t now) {
  ++m_counters.lines;
  m_counters.bytes += line.size() + 1;
  LogLine l = parse_log_line(line, m_years);
  int64_t t = now;
  if (t == 0) {
    if (l.time != 0)
      m_last_time = l.time;
    t = m_last_time;
  } else {
    m_last_time = now;
  }
  Event ev;
  if (m_matchers.match(l, ev)) {
    ++m_counters.events;
    count(service_name(ev.service), ev.reason, ev.kind);
    if (ev.ambiguous)
      ++m_counters.events_ambiguous;
    if (ev.addr.family == 0) {
      ++m_counters.events_without_address;
      return;
    }
    for (size_t ji : m_by_service[static_cast<size_t>(ev.service)])
      event(*m_jails[ji], ji, ev.addr, t);
    return;
  }
  if (!m_any_custom)
    return;
  std::string_view text = l.format == LineFormat::unknown ? line : l.msg;
  for (size_t ji = 0; ji < m_jails.size(); ++ji) {
    Jail &j = *m_jails[ji];
    if (j.regexes.empty())
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
      count(j.cfg->name, "custom", Kind::auth_failed);
      Address a;
      if (parse_address(std::string_view(host.data(), host.size()), a))
        event(j, ji, a, t);
      else
        ++m_counters.events_without_address;
      break;
    }
  }
}

} // namespace bulwark::watch
