// nftables bans (libnftables, the same grammar as nft(8)) and their SQLite
// record; see nft.hpp. libnftables and SQLite are loaded on first use
// (core/system_libs.hpp): only watch and bans need them.
#include <bulwark/core/system_libs.hpp>
#include <bulwark/watch/ipset.hpp>
#include <bulwark/watch/nft.hpp>

#include <algorithm>
#include <charconv>
#include <chrono>
#include <fmt/format.h>
#include <iostream>
#include <iterator>
#include <map>
#include <nlohmann/json.hpp>
#include <unordered_set>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/stat.h>

namespace bulwark::watch {

namespace {

// The loaded tables. REQUIRES: loaded; BanStore::open() and Nft::open()
// load them before a BanStore or an Nft exists.
const syslib::Sqlite &loaded_sqlite() {
  return *syslib::sqlite().value();
}
const syslib::Nftables &loaded_nftables() {
  return *syslib::nftables().value();
}

Error db_error(sqlite3 *db, const std::string &what) {
  const syslib::Sqlite &sq = loaded_sqlite();
  return Error{what + ": " + sq.sqlite3_errmsg(db)};
}

int full_prefix(int family) {
  return family == 4 ? 32 : 128;
}

// The mask of a prefix as nft writes it (255.255.255.0, ffff:ffff:ffff:ffff::).
std::string mask_text(int family, int prefix) {
  Address m;
  m.family = static_cast<uint8_t>(family);
  for (int i = 0; i < full_prefix(family) / 8; ++i)
    m.bytes[static_cast<size_t>(i)] = 0xff;
  return format_address(mask_address(m, prefix));
}

} // namespace

std::string nft_set_name(int family, int prefix) {
  return fmt::format("v{}_{}", family, prefix);
}

// --- SQLite -------------------------------------------------------------------
Result<std::unique_ptr<BanStore>> BanStore::open(const std::string &path) {
  auto api = syslib::sqlite();
  if (!api)
    return Error{"cannot open ban database: " + api.error().message, path};
  const syslib::Sqlite &sq = **api;
  sqlite3 *db = nullptr;
  if (sq.sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Error e{std::string("cannot open ban database: ") +
                (db ? sq.sqlite3_errmsg(db) : "out of memory"),
            path};
    sq.sqlite3_close(db);
    return e;
  }
  sq.sqlite3_busy_timeout(db, 2000);
  char *err = nullptr;
  if (sq.sqlite3_exec(db,
                      "PRAGMA journal_mode=WAL;"
                      // all()'s ORDER BY over 65,536 rows sorted in a temp file
                      // took seconds of a restart.
                      "PRAGMA temp_store=MEMORY;"
                      "CREATE TABLE IF NOT EXISTS bans ("
                      " jail TEXT NOT NULL, address TEXT NOT NULL, prefix INTEGER NOT NULL,"
                      " banned_at INTEGER NOT NULL, until INTEGER NOT NULL, nth INTEGER NOT NULL,"
                      " PRIMARY KEY (jail, address, prefix));",
                      nullptr, nullptr, &err) != SQLITE_OK) {
    Error e{std::string("ban database: ") + (err ? err : "?"), path};
    sq.sqlite3_free(err);
    sq.sqlite3_close(db);
    return e;
  }
  // Columns added later: a database from an earlier version gains them
  // (the error of a column that exists is expected).
  for (const char *col : {"ALTER TABLE bans ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
                          "ALTER TABLE bans ADD COLUMN lines TEXT NOT NULL DEFAULT ''"})
    (void)sq.sqlite3_exec(db, col, nullptr, nullptr, nullptr);
  if (sq.sqlite3_exec(db, "SELECT reason, lines FROM bans LIMIT 0", nullptr, nullptr, &err) !=
      SQLITE_OK) {
    Error e{std::string("ban database: ") + (err ? err : "?"), path};
    sq.sqlite3_free(err);
    sq.sqlite3_close(db);
    return e;
  }
  return std::unique_ptr<BanStore>(new BanStore(db));
}

BanStore::~BanStore() {
  // The library was loaded before the store existed (open()), so value()
  // cannot throw here; the try keeps a destructor from ever throwing.
  try {
    const syslib::Sqlite &sq = loaded_sqlite();
    sq.sqlite3_finalize(m_insert);
    if (m_in_transaction)
      (void)sq.sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr);
    sq.sqlite3_close(m_db);
  } catch (...) {
  }
}

Result<Unit> BanStore::commit() {
  const syslib::Sqlite &sq = loaded_sqlite();
  if (!m_in_transaction)
    return Unit{};
  m_in_transaction = false;
  if (sq.sqlite3_exec(m_db, "COMMIT", nullptr, nullptr, nullptr) != SQLITE_OK) {
    Error e = db_error(m_db, "ban database");
    (void)sq.sqlite3_exec(m_db, "ROLLBACK", nullptr, nullptr, nullptr);
    return e;
  }
  return Unit{};
}

Result<Unit> BanStore::record(const BanDecision &b) {
  const syslib::Sqlite &sq = loaded_sqlite();
  // One transaction (one fsync) for the bans of a tick, committed by
  // commit() before they reach nftables: 100,000 bans in autocommit were
  // 100,000 fsyncs.
  if (!m_in_transaction) {
    if (sq.sqlite3_exec(m_db, "BEGIN IMMEDIATE", nullptr, nullptr, nullptr) != SQLITE_OK)
      return db_error(m_db, "ban database");
    m_in_transaction = true;
  }
  // Prepared once: parsing the statement per ban was a fifth of SQLite's
  // time under a wide attack.
  if (m_insert == nullptr &&
      sq.sqlite3_prepare_v2(
          m_db,
          "INSERT OR REPLACE INTO bans (jail, address, prefix, banned_at, until, nth,"
          " reason, lines) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
          -1, &m_insert, nullptr) != SQLITE_OK)
    return db_error(m_db, "ban database");
  sqlite3_stmt *st = m_insert;
  std::string addr = format_address(b.source);
  sq.sqlite3_bind_text(st, 1, b.jail.c_str(), -1, SQLITE_TRANSIENT);
  sq.sqlite3_bind_text(st, 2, addr.c_str(), -1, SQLITE_TRANSIENT);
  sq.sqlite3_bind_int(st, 3, b.prefix);
  sq.sqlite3_bind_int64(st, 4, b.time);
  sq.sqlite3_bind_int64(st, 5, b.time + b.duration);
  sq.sqlite3_bind_int64(st, 6, b.nth);
  std::string lines;
  for (auto &l : b.lines)
    lines.append(l).append(1, '\n');
  sq.sqlite3_bind_text(st, 7, b.reason.c_str(), -1, SQLITE_TRANSIENT);
  sq.sqlite3_bind_text(st, 8, lines.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sq.sqlite3_step(st);
  sq.sqlite3_reset(st);
  sq.sqlite3_clear_bindings(st);
  if (rc != SQLITE_DONE)
    return db_error(m_db, "ban database");
  return Unit{};
}

Result<std::vector<StoredBan>> BanStore::all(bool with_lines) {
  const syslib::Sqlite &sq = loaded_sqlite();
  sqlite3_stmt *st = nullptr;
  if (sq.sqlite3_prepare_v2(
          m_db,
          with_lines ? "SELECT jail, address, prefix, banned_at, until, nth, reason, lines "
                       "FROM bans ORDER BY until DESC"
                     : "SELECT jail, address, prefix, banned_at, until, nth, '', '' "
                       "FROM bans",
          -1, &st, nullptr) != SQLITE_OK)
    return db_error(m_db, "ban database");
  std::vector<StoredBan> out;
  while (sq.sqlite3_step(st) == SQLITE_ROW) {
    StoredBan b;
    const char *j = reinterpret_cast<const char *>(sq.sqlite3_column_text(st, 0));
    const char *a = reinterpret_cast<const char *>(sq.sqlite3_column_text(st, 1));
    if (j == nullptr || a == nullptr ||
        !parse_address(std::string_view(a, static_cast<size_t>(sq.sqlite3_column_bytes(st, 1))),
                       b.source))
      continue;
    b.jail.assign(j, static_cast<size_t>(sq.sqlite3_column_bytes(st, 0)));
    b.prefix = sq.sqlite3_column_int(st, 2);
    b.banned_at = sq.sqlite3_column_int64(st, 3);
    b.until = sq.sqlite3_column_int64(st, 4);
    b.nth = static_cast<uint32_t>(sq.sqlite3_column_int64(st, 5));
    if (const char *r = reinterpret_cast<const char *>(sq.sqlite3_column_text(st, 6)))
      b.reason.assign(r, static_cast<size_t>(sq.sqlite3_column_bytes(st, 6)));
    const char *l = reinterpret_cast<const char *>(sq.sqlite3_column_text(st, 7));
    if (l != nullptr && *l != '\0') {
      std::string_view all(l);
      for (size_t p = 0; p < all.size();) {
        size_t nl = all.find('\n', p);
        if (nl == std::string_view::npos)
          nl = all.size();
        b.lines.emplace_back(all.substr(p, nl - p));
        p = nl + 1;
      }
    }
    out.push_back(std::move(b));
  }
  sq.sqlite3_finalize(st);
  return out;
}

Result<int> BanStore::end(const Address &source, int prefix, int64_t now) {
  const syslib::Sqlite &sq = loaded_sqlite();
  sqlite3_stmt *st = nullptr;
  if (sq.sqlite3_prepare_v2(m_db,
                            "UPDATE bans SET until = ?1 WHERE address = ?2 AND prefix = ?3 AND "
                            "until > ?1",
                            -1, &st, nullptr) != SQLITE_OK)
    return db_error(m_db, "ban database");
  std::string addr = format_address(source);
  sq.sqlite3_bind_int64(st, 1, now);
  sq.sqlite3_bind_text(st, 2, addr.c_str(), -1, SQLITE_TRANSIENT);
  sq.sqlite3_bind_int(st, 3, prefix);
  int rc = sq.sqlite3_step(st);
  sq.sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return db_error(m_db, "ban database");
  return sq.sqlite3_changes(m_db);
}

bool BanStore::changed_elsewhere(bool consume) {
  const syslib::Sqlite &sq = loaded_sqlite();
  sqlite3_stmt *st = nullptr;
  if (sq.sqlite3_prepare_v2(m_db, "PRAGMA data_version", -1, &st, nullptr) != SQLITE_OK)
    return false;
  int64_t v = sq.sqlite3_step(st) == SQLITE_ROW ? sq.sqlite3_column_int64(st, 0) : m_data_version;
  sq.sqlite3_finalize(st);
  bool changed = m_data_version >= 0 && v != m_data_version;
  if (consume)
    m_data_version = v;
  return changed;
}

// --- nftables -----------------------------------------------------------------
Result<std::unique_ptr<Nft>> Nft::open(const std::string &table) {
  const syslib::Nftables &nft = *TRY(syslib::nftables());
  nft_ctx *ctx = nft.nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr)
    return Error{"libnftables: cannot create a context"};
  nft.nft_ctx_buffer_output(ctx);
  nft.nft_ctx_buffer_error(ctx);
  return std::unique_ptr<Nft>(new Nft(ctx, table));
}

Nft::~Nft() {
  try { // loaded before the Nft existed (open()): value() cannot throw
    loaded_nftables().nft_ctx_free(m_ctx);
  } catch (...) {
  }
}

Result<Unit> Nft::run(const std::string &cmd, std::string *out, bool json) {
  const syslib::Nftables &nft = loaded_nftables();
  unsigned flags = nft.nft_ctx_output_get_flags(m_ctx);
  nft.nft_ctx_output_set_flags(m_ctx, json ? (flags | NFT_CTX_OUTPUT_JSON)
                                           : (flags & ~NFT_CTX_OUTPUT_JSON));
  int rc = nft.nft_run_cmd_from_buffer(m_ctx, cmd.c_str());
  nft.nft_ctx_output_set_flags(m_ctx, flags);
  if (rc != 0) {
    std::string err = nft.nft_ctx_get_error_buffer(m_ctx);
    while (!err.empty() && err.back() == '\n')
      err.pop_back();
    return Error{"nft: " + err};
  }
  if (out != nullptr)
    *out = nft.nft_ctx_get_output_buffer(m_ctx);
  else
    (void)nft.nft_ctx_get_output_buffer(m_ctx);
  return Unit{};
}

bool Nft::want(int family, int prefix) {
  return m_sets.insert({family, prefix}).second;
}

std::vector<std::string> Nft::sets() const {
  std::vector<std::string> out;
  for (auto &[family, prefix] : m_sets)
    out.push_back(nft_set_name(family, prefix));
  return out;
}

Result<Unit> Nft::setup() {
  // One transaction. The chain is flushed and refilled (a restart must not
  // duplicate rules); the sets, and so the bans in force, are kept. The
  // interval sets v4 and v6 of earlier versions are dropped with their
  // rules (restore() puts their bans into the new sets from SQLite): adding
  // them first makes the deletion valid whether they exist or not.
  const std::string &t = m_table;
  std::string cmd = fmt::format("add table inet {}\n", t);
  for (auto &[family, prefix] : m_sets)
    cmd += fmt::format("add set inet {} {} {{ type ipv{}_addr; flags timeout; }}\n", t,
                       nft_set_name(family, prefix), family);
  cmd += fmt::format("add chain inet {t} input {{ type filter hook input priority filter - 10; "
                     "policy accept; }}\n"
                     "flush chain inet {t} input\n",
                     fmt::arg("t", t));
  for (auto &[family, prefix] : m_sets)
    cmd +=
        fmt::format("add rule inet {} input {} saddr{} @{} drop\n", t, family == 4 ? "ip" : "ip6",
                    prefix == full_prefix(family) ? "" : " & " + mask_text(family, prefix),
                    nft_set_name(family, prefix));
  for (int family : {4, 6})
    cmd += fmt::format("add set inet {t} v{f} {{ type ipv{f}_addr; flags interval, timeout; }}\n"
                       "delete set inet {t} v{f}\n",
                       fmt::arg("t", t), fmt::arg("f", family));
  return run(cmd);
}

Result<Unit> Nft::add(const Address &source, int prefix, int64_t timeout) {
  const std::string set = nft_set_name(source.family, prefix);
  const std::string addr = format_address(source);
  std::string cmd = fmt::format("add element inet {} {} {{ {} timeout {}s }}", m_table, set, addr,
                                std::max<int64_t>(1, timeout));
  if (run(cmd))
    return Unit{};
  // Already there (a restored ban, or one not yet expired): replace it.
  (void)run(fmt::format("delete element inet {} {} {{ {} }}", m_table, set, addr));
  return run(cmd);
}

Result<Unit> Nft::remove(const Address &source, int prefix) {
  return run(fmt::format("delete element inet {} {} {{ {} }}", m_table,
                         nft_set_name(source.family, prefix), format_address(source)));
}

Result<std::vector<std::pair<std::string, int64_t>>> Nft::elements(const std::string &set) {
  std::string out;
  TRY(run(fmt::format("list set inet {} {}", m_table, set), &out, true));
  auto doc = nlohmann::json::parse(out, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array())
    return Error{"nft: unreadable JSON listing of set " + set};
  std::vector<std::pair<std::string, int64_t>> els;
  for (auto &item : doc["nftables"]) {
    if (!item.is_object() || !item.contains("set") || !item["set"].is_object() ||
        !item["set"].contains("elem") || !item["set"]["elem"].is_array())
      continue;
    for (auto &e : item["set"]["elem"]) {
      // {"elem": {"val": ADDR, "timeout": N, "expires": N}}; a bare ADDR
      // without a timeout (added by hand).
      const nlohmann::json *val = &e;
      int64_t left = 0;
      if (e.is_object() && e.contains("elem") && e["elem"].is_object()) {
        const auto &inner = e["elem"];
        if (!inner.contains("val"))
          continue;
        val = &inner["val"];
        if (inner.contains("expires") && inner["expires"].is_number_integer())
          left = inner["expires"].get<int64_t>();
      }
      if (val->is_string())
        els.emplace_back(val->get<std::string>(), left);
    }
  }
  return els;
}

bool Nft::sets_present() {
  const syslib::Nftables &nft = loaded_nftables();
  // Terse: without the elements, which nft would otherwise fetch from the
  // kernel (listing the chain fetches them too: 0.6 s of CPU at 65,536).
  unsigned flags = nft.nft_ctx_output_get_flags(m_ctx);
  nft.nft_ctx_output_set_flags(m_ctx, flags | NFT_CTX_OUTPUT_TERSE);
  std::string out;
  bool ok = static_cast<bool>(run(fmt::format("list sets table inet {}", m_table), &out));
  nft.nft_ctx_output_set_flags(m_ctx, flags);
  if (!ok)
    return false;
  for (auto &set : sets())
    if (out.find("set " + set + " {") == std::string::npos)
      return false;
  return true;
}

bool Nft::rules_intact() {
  std::string out;
  if (!run(fmt::format("list chain inet {} input", m_table), &out))
    return false;
  for (auto &set : sets())
    if (out.find("@" + set + " drop") == std::string::npos)
      return false;
  return true;
}

Result<Unit> Nft::apply(const ElementBatch &batch) {
  if (batch.empty())
    return Unit{};
  // One command per set and verb ("add element inet T v4_32 { a timeout
  // 1s, b timeout 2s, ... }") in chunks of 8,192 elements, all in one
  // transaction; the deletions first.
  // Built by appending, without a formatted string per element.
  std::string out;
  size_t elements = 0;
  for (const auto &entry : batch.sets)
    elements += entry.second.del.size() + entry.second.add.size();
  out.reserve(elements * 40 + 256);
  static constexpr size_t k_chunk = 8192;
  auto emit = [&](const char *verb, const std::string &set, size_t n, auto &&item) {
    for (size_t i = 0; i < n; i += k_chunk) {
      out.append(verb)
          .append(" element inet ")
          .append(m_table)
          .append(1, ' ')
          .append(set)
          .append(" { ");
      for (size_t j = i; j < std::min(n, i + k_chunk); ++j) {
        if (j > i)
          out += ", ";
        item(j);
      }
      out += " }\n";
    }
  };
  // Pairs, not structured bindings: the lambdas capture them (clang 14).
  for (const auto &entry : batch.sets) {
    const auto &ops = entry.second;
    emit("delete", entry.first, ops.del.size(), [&](size_t j) { out += ops.del[j]; });
  }
  for (const auto &entry : batch.sets) {
    const auto &ops = entry.second;
    emit("add", entry.first, ops.add.size(), [&](size_t j) {
      char num[24];
      auto [end, ec] = std::to_chars(num, num + sizeof num, ops.add[j].timeout);
      (void)ec; // 24 bytes hold any int64_t
      out.append(ops.add[j].text).append(" timeout ").append(num, end).append(1, 's');
    });
  }
  return run(out);
}

namespace {

double seconds_since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

size_t FirewallBanner::ElementKeyHash::operator()(const ElementKey &k) const noexcept {
  uint64_t a, b;
  std::memcpy(&a, k.source.bytes.data(), 8);
  std::memcpy(&b, k.source.bytes.data() + 8, 8);
  uint64_t h = (a ^ (b * 0x9e3779b97f4a7c15ull)) * 0xff51afd7ed558ccdull;
  h ^= (static_cast<uint64_t>(k.source.family) << 8 | k.prefix) * 0xc4ceb9fe1a85ec53ull;
  return static_cast<size_t>(h ^ (h >> 29));
}

size_t FirewallBanner::RecordKeyHash::operator()(const RecordKey &k) const noexcept {
  return ElementKeyHash{}(k.element) ^ (static_cast<size_t>(k.jail) * 0x9e3779b97f4a7c15ull);
}

const std::string &FirewallBanner::set_of(const ElementKey &k) {
  const int id = k.source.family * 256 + k.prefix;
  auto it = m_set_names.find(id);
  if (it == m_set_names.end())
    it = m_set_names.emplace(id, m_fw->set_name(k.source.family, k.prefix)).first;
  return it->second;
}

uint32_t FirewallBanner::jail_id(std::string_view jail) {
  for (size_t i = 0; i < m_jails.size(); ++i)
    if (m_jails[i] == jail)
      return static_cast<uint32_t>(i);
  m_jails.emplace_back(jail);
  return static_cast<uint32_t>(m_jails.size() - 1);
}

void FirewallBanner::put(ElementBatch &batch, const ElementKey &k, Element &e, int64_t now) {
  // Replace, not add: an element that exists keeps its old timeout on
  // kernels before 6.x.
  ElementBatch::Ops &ops = batch.of(set_of(k));
  std::string text = text_of(k);
  if (e.in_kernel && !m_fw->replaces_in_place())
    ops.del.push_back(text);
  ops.add.push_back({std::move(text), std::max<int64_t>(1, e.until - now)});
}

Result<Unit> FirewallBanner::ban(const BanDecision &b) {
  auto r = m_store->record(b);
  if (m_fw->want(b.source.family, b.prefix))
    m_setup_needed = true; // a prefix no set holds yet (a reloaded configuration)
  const ElementKey key{b.source, static_cast<uint8_t>(b.prefix)};
  const int64_t until = b.time + b.duration;
  m_records[RecordKey{jail_id(b.jail), key}] = until;
  Element &e = m_elements[key];
  if (e.until <= b.time + 2)
    e.in_kernel = false; // expired in the kernel (or about to): add, not replace
  // The longest ban of any jail is the element's timeout: a shorter one
  // changes nothing in the kernel.
  if (e.until < until) {
    e.until = until;
    m_pending.push_back(key);
  }
  return r;
}

size_t FirewallBanner::flush(int64_t now) {
  // The database first: a ban in the firewall is always in SQLite, so a
  // crash between the two leaves bans the next start puts back (restore()),
  // never firewall elements nobody remembers.
  if (auto r = m_store->commit(); !r)
    std::cerr << "bulwark: bans not recorded: " << r.error().to_string() << "\n";
  if (m_setup_needed && m_fw->setup())
    m_setup_needed = false;
  size_t failed = 0;
  // New bans first, then the next chunk of a restore. The new bans are
  // made unique (a tick may ban an address twice); the restore's keys are
  // unique already.
  const size_t restore_end = std::min(m_restore.size(), m_restore_next + k_restore_chunk);
  if (!m_pending.empty() || m_restore_next < restore_end) {
    ElementBatch batch;
    std::vector<Element *> applied; // one lookup per element, not two
    std::unordered_set<ElementKey, ElementKeyHash> fresh;
    for (auto &k : m_pending)
      if (fresh.insert(k).second)
        m_pending[fresh.size() - 1] = k;
    m_pending.resize(fresh.size());
    auto take = [&](const ElementKey &k) {
      auto it = m_elements.find(k);
      if (it == m_elements.end() || it->second.until <= now)
        return;
      // Only elements we added and that have at least two seconds left
      // are deleted first: deleting one the kernel just expired would fail
      // the whole transaction (reconcile() then takes over).
      put(batch, k, it->second, now);
      applied.push_back(&it->second);
    };
    for (auto &k : m_pending)
      take(k);
    for (; m_restore_next < restore_end; ++m_restore_next)
      if (fresh.empty() || fresh.count(m_restore[m_restore_next]) == 0)
        take(m_restore[m_restore_next]);
    bool ok = static_cast<bool>(m_fw->apply(batch));
    if (ok) {
      for (Element *e : applied)
        e->in_kernel = true;
    } else if (reconcile(now)) {
      // reconcile() put back all of them (and may have erased expired
      // elements: `applied` is not used after it).
      ok = true;
      m_restore_next = m_restore.size();
    } else {
      failed = applied.size();
    }
    m_pending.clear();
  }
  if (!m_restore.empty() && m_restore_next >= m_restore.size()) {
    std::cerr << "bulwark: restored " << m_restore.size() << " bans into " << m_fw->kind() << " in "
              << fmt::format("{:.2f}", seconds_since(m_restore_start)) << " s\n";
    m_restore.clear();
    m_restore.shrink_to_fit();
    m_restore_next = 0;
  }
  if (m_restore.empty() && now - m_last_check >= m_check_interval) {
    m_last_check = now;
    // Every check_interval: the table and its sets (a flushed ruleset, a
    // deleted table), cheap whatever the number of bans. The rules and the
    // elements one by one only every k_full_check_every checks when there
    // are many: listing 65,536 elements costs about a second and a half of
    // CPU.
    if (m_elements.size() <= k_cheap_listing || ++m_checks % k_full_check_every == 0)
      (void)reconcile(now);
    else if (!m_fw->sets_present())
      (void)reconcile(now);
  }
  return failed;
}

bool FirewallBanner::busy() const {
  return m_restore_next < m_restore.size() || m_setup_needed;
}

std::unordered_map<std::string, int64_t> FirewallBanner::present(bool &missing) {
  std::unordered_map<std::string, int64_t> out;
  missing = false;
  for (auto &set : m_fw->sets()) {
    auto els = m_fw->elements(set);
    if (!els) {
      missing = true;
      return {};
    }
    for (auto &[text, left] : *els)
      out[set + " " + text] = left;
  }
  return out;
}

bool FirewallBanner::reconcile(int64_t now) {
  // Expired elements: the kernel dropped them on time.
  for (auto it = m_elements.begin(); it != m_elements.end();)
    it = it->second.until <= now ? m_elements.erase(it) : std::next(it);
  bool rebuilt = false;
  auto in_kernel = present(rebuilt);
  // `bulwark bans remove` ends the ban in the database, then deletes the
  // element. An element missing from this listing may be one it just
  // deleted, of a ban lifted() has not seen yet: putting it back would keep
  // the address banned while `bans list` says it is not. So a change by
  // another connection defers the repair to the next tick, after lifted().
  // (Checked after the listing: a deletion the listing saw was preceded by
  // its database change.)
  if (m_store->changed_elsewhere(false))
    return true;
  if (rebuilt || !m_fw->rules_intact()) {
    // The table, a set or the rules are gone: setup() recreates them
    // (keeping the elements of sets that survived).
    if (!m_fw->setup())
      return false;
    std::cerr << "bulwark: " << m_fw->where() << " was flushed or deleted: "
              << "restored with " << m_elements.size() << " bans\n";
  }
  ElementBatch batch;
  std::vector<Element *> before; // in_kernel as the listing found it, for a failure
  for (auto &[k, e] : m_elements) {
    auto p = in_kernel.find(set_of(k) + " " + text_of(k));
    const int64_t left = e.until - now;
    e.in_kernel = p != in_kernel.end();
    if (e.in_kernel && p->second + 5 >= left)
      continue;
    put(batch, k, e, now);
    before.push_back(&e);
  }
  if (batch.empty())
    return true;
  if (auto r = m_fw->apply(batch); !r) {
    std::cerr << "bulwark: restoring bans: " << r.error().to_string() << "\n";
    return false;
  }
  for (Element *e : before)
    e->in_kernel = true;
  return true;
}

std::vector<StoredBan> FirewallBanner::restore(int64_t now) {
  m_restore_start = std::chrono::steady_clock::now();
  auto all = m_store->all(false);
  if (!all) {
    std::cerr << "bulwark: bans not restored: " << all.error().to_string() << "\n";
    return {};
  }
  bool new_sets = false;
  m_records.reserve(all->size());
  m_elements.reserve(all->size());
  m_restore.reserve(all->size());
  uint32_t last_jail = UINT32_MAX;
  const std::string *last_name = nullptr;
  for (auto &b : *all) {
    const ElementKey key{b.source, static_cast<uint8_t>(b.prefix)};
    if (last_name == nullptr || *last_name != b.jail)
      last_jail = jail_id(b.jail), last_name = &b.jail;
    m_records[RecordKey{last_jail, key}] = b.until;
    if (b.until <= now)
      continue;
    new_sets = m_fw->want(b.source.family, b.prefix) || new_sets;
    auto [it, fresh] = m_elements.try_emplace(key);
    it->second.until = std::max(it->second.until, b.until);
    // Every ban in force is added again, k_restore_chunk per flush() (one
    // transaction each) between reads of the logs: the daemon decides
    // bans while a large restore proceeds, and new bans go first. No
    // listing of the sets first: listing 65,536 elements costs libnftables
    // more than adding them, and an add of an element the kernel still
    // holds (bulwark restarted, not the host) changes nothing and is no
    // error; an element someone shortened by hand is found by the next
    // full reconcile().
    if (fresh)
      m_restore.push_back(key);
  }
  if (new_sets)
    m_setup_needed = !m_fw->setup();
  m_restore_next = 0;
  m_last_check = now;
  (void)m_store->changed_elsewhere(); // the version to compare against
  return std::move(*all);
}

std::vector<StoredBan> FirewallBanner::lifted(int64_t now) {
  std::vector<StoredBan> out;
  if (!m_store->changed_elsewhere())
    return out;
  auto all = m_store->all(false);
  if (!all)
    return out;
  for (auto &b : *all) {
    const ElementKey key{b.source, static_cast<uint8_t>(b.prefix)};
    auto r = m_records.find(RecordKey{jail_id(b.jail), key});
    if (r == m_records.end() || r->second <= b.until || r->second <= now)
      continue;
    // Ended early by `bulwark bans remove`, which deleted the element.
    r->second = b.until;
    out.push_back(b);
    auto e = m_elements.find(key);
    if (e != m_elements.end()) {
      // The longest ban of another jail still in force keeps the element.
      int64_t longest = 0;
      for (uint32_t j = 0; j < m_jails.size(); ++j)
        if (auto o = m_records.find(RecordKey{j, key}); o != m_records.end())
          longest = std::max(longest, o->second);
      if (longest <= now)
        m_elements.erase(e);
      else
        e->second.until = longest, e->second.in_kernel = false, m_pending.push_back(key);
    }
  }
  return out;
}

Result<std::unique_ptr<Firewall>> make_firewall(const Config &cfg) {
  std::unique_ptr<Firewall> fw;
  if (cfg.action == "iptables-ipset")
    fw = TRY(Ipset::open(cfg.ipset_name, cfg.max_bans));
  else
    fw = TRY(Nft::open(cfg.nft_table));
  // A set for each prefix the jails ban (restore() adds those of older bans).
  for (auto &j : cfg.jails)
    if (j.enabled) {
      (void)fw->want(4, j.ipv4_prefix);
      (void)fw->want(6, j.ipv6_prefix);
    }
  return fw;
}

Result<std::unique_ptr<Banner>> make_banner(const Config &cfg) {
  if (::mkdir(cfg.state_dir.c_str(), 0750) != 0 && errno != EEXIST)
    return Error{std::strerror(errno), cfg.state_dir, 0, errno};
  auto store = TRY(BanStore::open(cfg.state_dir + "/bans.sqlite"));
  auto fw = TRY(make_firewall(cfg));
  TRY(fw->setup());
  const int64_t interval =
      cfg.action == "iptables-ipset" ? cfg.ipset_check_interval : cfg.nft_check_interval;
  return std::unique_ptr<Banner>(new FirewallBanner(std::move(fw), std::move(store), interval));
}

} // namespace bulwark::watch
