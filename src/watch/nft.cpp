// nftables bans (libnftables, the same grammar as nft(8)) and their SQLite
// record; see nft.hpp.
#include <bulwark/watch/nft.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <iostream>
#include <nftables/libnftables.h>
#include <nlohmann/json.hpp>
#include <sqlite3.h>

#include <cerrno>
#include <cstring>
#include <ctime>
#include <sys/stat.h>

namespace bulwark::watch {

namespace {

std::string element(const Address &a, int prefix) {
  return fmt::format("{}/{}", format_address(a), prefix);
}

std::string set_of(const Address &a) {
  return a.family == 4 ? "v4" : "v6";
}

Error db_error(sqlite3 *db, const std::string &what) {
  return Error{what + ": " + sqlite3_errmsg(db)};
}

} // namespace

// --- SQLite -------------------------------------------------------------------
Result<std::unique_ptr<BanStore>> BanStore::open(const std::string &path) {
  sqlite3 *db = nullptr;
  if (sqlite3_open_v2(path.c_str(), &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, nullptr) !=
      SQLITE_OK) {
    Error e{std::string("cannot open ban database: ") + (db ? sqlite3_errmsg(db) : "out of memory"),
            path};
    sqlite3_close(db);
    return e;
  }
  sqlite3_busy_timeout(db, 2000);
  char *err = nullptr;
  if (sqlite3_exec(db,
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
    sqlite3_free(err);
    sqlite3_close(db);
    return e;
  }
  // Columns added later: a database from an earlier version gains them
  // (the error of a column that exists is expected).
  for (const char *col : {"ALTER TABLE bans ADD COLUMN reason TEXT NOT NULL DEFAULT ''",
                          "ALTER TABLE bans ADD COLUMN lines TEXT NOT NULL DEFAULT ''"})
    (void)sqlite3_exec(db, col, nullptr, nullptr, nullptr);
  if (sqlite3_exec(db, "SELECT reason, lines FROM bans LIMIT 0", nullptr, nullptr, &err) !=
      SQLITE_OK) {
    Error e{std::string("ban database: ") + (err ? err : "?"), path};
    sqlite3_free(err);
    sqlite3_close(db);
    return e;
  }
  return std::unique_ptr<BanStore>(new BanStore(db));
}

BanStore::~BanStore() {
  sqlite3_close(m_db);
}

Result<Unit> BanStore::record(const BanDecision &b) {
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(
          m_db,
          "INSERT OR REPLACE INTO bans (jail, address, prefix, banned_at, until, nth,"
          " reason, lines) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
          -1, &st, nullptr) != SQLITE_OK)
    return db_error(m_db, "ban database");
  std::string addr = format_address(b.source);
  sqlite3_bind_text(st, 1, b.jail.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, addr.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 3, b.prefix);
  sqlite3_bind_int64(st, 4, b.time);
  sqlite3_bind_int64(st, 5, b.time + b.duration);
  sqlite3_bind_int64(st, 6, b.nth);
  std::string lines;
  for (auto &l : b.lines)
    lines.append(l).append(1, '\n');
  sqlite3_bind_text(st, 7, b.reason.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 8, lines.c_str(), -1, SQLITE_TRANSIENT);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return db_error(m_db, "ban database");
  return Unit{};
}

Result<std::vector<StoredBan>> BanStore::all() {
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(
          m_db,
          "SELECT jail, address, prefix, banned_at, until, nth, reason, lines FROM bans "
          "ORDER BY until DESC",
          -1, &st, nullptr) != SQLITE_OK)
    return db_error(m_db, "ban database");
  std::vector<StoredBan> out;
  while (sqlite3_step(st) == SQLITE_ROW) {
    StoredBan b;
    b.jail = reinterpret_cast<const char *>(sqlite3_column_text(st, 0));
    const char *a = reinterpret_cast<const char *>(sqlite3_column_text(st, 1));
    if (a == nullptr || !parse_address(a, b.source))
      continue;
    b.prefix = sqlite3_column_int(st, 2);
    b.banned_at = sqlite3_column_int64(st, 3);
    b.until = sqlite3_column_int64(st, 4);
    b.nth = static_cast<uint32_t>(sqlite3_column_int64(st, 5));
    if (const char *r = reinterpret_cast<const char *>(sqlite3_column_text(st, 6)))
      b.reason = r;
    if (const char *l = reinterpret_cast<const char *>(sqlite3_column_text(st, 7))) {
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
  sqlite3_finalize(st);
  return out;
}

Result<int> BanStore::end(const Address &source, int prefix, int64_t now) {
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(m_db,
                         "UPDATE bans SET until = ?1 WHERE address = ?2 AND prefix = ?3 AND "
                         "until > ?1",
                         -1, &st, nullptr) != SQLITE_OK)
    return db_error(m_db, "ban database");
  std::string addr = format_address(source);
  sqlite3_bind_int64(st, 1, now);
  sqlite3_bind_text(st, 2, addr.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 3, prefix);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return db_error(m_db, "ban database");
  return sqlite3_changes(m_db);
}

// --- nftables -----------------------------------------------------------------
Result<std::unique_ptr<Nft>> Nft::open(const std::string &table) {
  nft_ctx *ctx = nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr)
    return Error{"libnftables: cannot create a context"};
  nft_ctx_buffer_output(ctx);
  nft_ctx_buffer_error(ctx);
  return std::unique_ptr<Nft>(new Nft(ctx, table));
}

Nft::~Nft() {
  nft_ctx_free(m_ctx);
}

Result<Unit> Nft::run(const std::string &cmd, std::string *out, bool json) {
  unsigned flags = nft_ctx_output_get_flags(m_ctx);
  nft_ctx_output_set_flags(m_ctx,
                           json ? (flags | NFT_CTX_OUTPUT_JSON) : (flags & ~NFT_CTX_OUTPUT_JSON));
  int rc = nft_run_cmd_from_buffer(m_ctx, cmd.c_str());
  nft_ctx_output_set_flags(m_ctx, flags);
  if (rc != 0) {
    std::string err = nft_ctx_get_error_buffer(m_ctx);
    while (!err.empty() && err.back() == '\n')
      err.pop_back();
    return Error{"nft: " + err};
  }
  if (out != nullptr)
    *out = nft_ctx_get_output_buffer(m_ctx);
  else
    (void)nft_ctx_get_output_buffer(m_ctx);
  return Unit{};
}

Result<Unit> Nft::setup() {
  // One transaction. The chain is flushed and refilled (a restart must not
  // duplicate rules); the sets, and so the bans in force, are kept.
  const std::string &t = m_table;
  return run(fmt::format(
      "add table inet {t}\n"
      "add set inet {t} v4 {{ type ipv4_addr; flags interval, timeout; }}\n"
      "add set inet {t} v6 {{ type ipv6_addr; flags interval, timeout; }}\n"
      "add chain inet {t} input {{ type filter hook input priority filter - 10; policy accept; "
      "}}\n"
      "flush chain inet {t} input\n"
      "add rule inet {t} input ip saddr @v4 drop\n"
      "add rule inet {t} input ip6 saddr @v6 drop\n",
      fmt::arg("t", t)));
}

Result<Unit> Nft::add(const Address &source, int prefix, int64_t timeout) {
  std::string cmd =
      fmt::format("add element inet {} {} {{ {} timeout {}s }}", m_table, set_of(source),
                  element(source, prefix), std::max<int64_t>(1, timeout));
  if (run(cmd))
    return Unit{};
  // Already there (a restored ban, or one not yet expired): replace it.
  (void)run(fmt::format("delete element inet {} {} {{ {} }}", m_table, set_of(source),
                        element(source, prefix)));
  return run(cmd);
}

Result<Unit> Nft::remove(const Address &source, int prefix) {
  return run(fmt::format("delete element inet {} {} {{ {} }}", m_table, set_of(source),
                         element(source, prefix)));
}

Result<std::vector<std::pair<std::string, int64_t>>> Nft::elements(const std::string &set) {
  std::string out;
  TRY(run(fmt::format("list set inet {} {}", m_table, set), &out, true));
  auto doc = nlohmann::json::parse(out, nullptr, false);
  if (doc.is_discarded() || !doc.is_object() || !doc.contains("nftables") ||
      !doc["nftables"].is_array())
    return Error{"nft: unreadable JSON listing of set " + set};
  std::vector<std::pair<std::string, int64_t>> els;
  const int full = set == "v4" ? 32 : 128;
  for (auto &item : doc["nftables"]) {
    if (!item.is_object() || !item.contains("set") || !item["set"].is_object() ||
        !item["set"].contains("elem") || !item["set"]["elem"].is_array())
      continue;
    for (auto &e : item["set"]["elem"]) {
      // {"elem": {"val": V, "expires": N}}, V an address or
      // {"prefix": {"addr": A, "len": L}}; a bare V without a timeout.
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
      std::string text;
      if (val->is_string()) {
        text = val->get<std::string>() + "/" + std::to_string(full);
      } else if (val->is_object() && val->contains("prefix") && (*val)["prefix"].is_object()) {
        const auto &p = (*val)["prefix"];
        if (!p.contains("addr") || !p["addr"].is_string() || !p.contains("len") ||
            !p["len"].is_number_integer())
          continue;
        text = p["addr"].get<std::string>() + "/" + std::to_string(p["len"].get<int>());
      } else {
        continue;
      }
      els.emplace_back(std::move(text), left);
    }
  }
  return els;
}

bool Nft::rules_intact() {
  std::string out;
  if (!run(fmt::format("list chain inet {} input", m_table), &out))
    return false;
  return out.find("ip saddr @v4 drop") != std::string::npos &&
         out.find("ip6 saddr @v6 drop") != std::string::npos;
}

bool BanStore::changed_elsewhere() {
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(m_db, "PRAGMA data_version", -1, &st, nullptr) != SQLITE_OK)
    return false;
  int64_t v = sqlite3_step(st) == SQLITE_ROW ? sqlite3_column_int64(st, 0) : m_data_version;
  sqlite3_finalize(st);
  bool changed = m_data_version >= 0 && v != m_data_version;
  m_data_version = v;
  return changed;
}

namespace {

std::string element_key(const Address &a, int prefix) {
  return set_of(a) + " " + element(a, prefix);
}

// A batch of element deletions and additions, written as one command per
// set and verb ("add element inet T v4 { a timeout 1s, b timeout 2s, ... }"):
// nft evaluates an interval set once per command, so 65,536 one-element
// commands cost many times what one command of 65,536 elements does.
struct Batch {
  std::vector<std::string> del[2], add[2];
  static int idx(const std::string &set) { return set == "v4" ? 0 : 1; }
  void remove(const std::string &set, const std::string &text) { del[idx(set)].push_back(text); }
  void insert(const std::string &set, const std::string &text, int64_t timeout) {
    add[idx(set)].push_back(fmt::format("{} timeout {}s", text, std::max<int64_t>(1, timeout)));
  }
  bool empty() const {
    return del[0].empty() && del[1].empty() && add[0].empty() && add[1].empty();
  }
  std::string commands(const std::string &table) const {
    std::string out;
    auto emit = [&](const char *verb, const char *set, const std::vector<std::string> &v) {
      static constexpr size_t k_chunk = 8192;
      for (size_t i = 0; i < v.size(); i += k_chunk) {
        out += fmt::format("{} element inet {} {} {{ ", verb, table, set);
        for (size_t j = i; j < std::min(v.size(), i + k_chunk); ++j) {
          if (j > i)
            out += ", ";
          out += v[j];
        }
        out += " }\n";
      }
    };
    emit("delete", "v4", del[0]);
    emit("delete", "v6", del[1]);
    emit("add", "v4", add[0]);
    emit("add", "v6", add[1]);
    return out;
  }
};

} // namespace

Result<Unit> NftBanner::ban(const BanDecision &b) {
  auto r = m_store->record(b);
  const std::string key = element_key(b.source, b.prefix);
  const int64_t until = b.time + b.duration;
  m_records[b.jail + "\n" + key] = until;
  Element &e = m_elements[key];
  if (e.text.empty()) {
    e.set = set_of(b.source);
    e.text = element(b.source, b.prefix);
  }
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

size_t NftBanner::flush(int64_t now) {
  size_t failed = 0;
  if (!m_pending.empty()) {
    Batch batch;
    size_t n = 0;
    std::sort(m_pending.begin(), m_pending.end());
    m_pending.erase(std::unique(m_pending.begin(), m_pending.end()), m_pending.end());
    for (auto &k : m_pending) {
      Element &e = m_elements[k];
      if (e.until <= now)
        continue;
      // Replace, not add: an element that exists keeps its old timeout on
      // kernels before 6.x. Only elements we added and that have at least
      // two seconds left: deleting one the kernel just expired would fail
      // the whole transaction (reconcile() then takes over).
      if (e.in_kernel)
        batch.remove(e.set, e.text);
      batch.insert(e.set, e.text, e.until - now);
      ++n;
    }
    bool ok = batch.empty() || m_nft->run(batch.commands(m_nft->table()));
    if (!ok)
      ok = reconcile(now);
    if (ok) {
      for (auto &k : m_pending)
        m_elements[k].in_kernel = true;
    } else {
      failed = n;
    }
    m_pending.clear();
  }
  if (now - m_last_check >= m_check_interval) {
    m_last_check = now;
    (void)reconcile(now);
  }
  return failed;
}

bool NftBanner::reconcile(int64_t now) {
  // Expired elements: the kernel dropped them on time.
  for (auto it = m_elements.begin(); it != m_elements.end();)
    it = it->second.until <= now ? m_elements.erase(it) : std::next(it);
  std::unordered_map<std::string, int64_t> present;
  bool rebuilt = false;
  for (const char *set : {"v4", "v6"}) {
    auto els = m_nft->elements(set);
    if (!els) {
      rebuilt = true;
      break;
    }
    for (auto &[text, left] : *els)
      present[std::string(set) + " " + text] = left;
  }
  if (rebuilt || !m_nft->rules_intact()) {
    // The table, a set or the rules are gone: setup() recreates them
    // (keeping the elements of sets that survived).
    if (!m_nft->setup())
      return false;
    if (rebuilt)
      present.clear();
    std::cerr << "bulwark: nftables table " << m_nft->table()
              << " was flushed or deleted: restored with " << m_elements.size() << " bans\n";
  }
  Batch batch;
  for (auto &[k, e] : m_elements) {
    auto p = present.find(k);
    const int64_t left = e.until - now;
    if (p != present.end() && p->second + 5 >= left) {
      e.in_kernel = true;
      continue;
    }
    if (p != present.end())
      batch.remove(e.set, e.text);
    batch.insert(e.set, e.text, left);
    e.in_kernel = true;
  }
  if (batch.empty())
    return true;
  if (auto r = m_nft->run(batch.commands(m_nft->table())); !r) {
    std::cerr << "bulwark: restoring bans: " << r.error().to_string() << "\n";
    for (auto &[k, e] : m_elements)
      e.in_kernel = present.count(k) != 0;
    return false;
  }
  return true;
}

std::vector<StoredBan> NftBanner::restore(int64_t now) {
  auto all = m_store->all();
  if (!all)
    return {};
  // One listing and one transaction for all of them: a restart with 65,536
  // bans must not cost 65,536 nft commands.
  for (auto &b : *all) {
    const std::string key = element_key(b.source, b.prefix);
    m_records[b.jail + "\n" + key] = b.until;
    if (b.until <= now)
      continue;
    Element &e = m_elements[key];
    if (e.text.empty()) {
      e.set = set_of(b.source);
      e.text = element(b.source, b.prefix);
    }
    e.until = std::max(e.until, b.until);
  }
  (void)reconcile(now);
  m_last_check = now;
  (void)m_store->changed_elsewhere(); // the version to compare against
  return *all;
}

std::vector<StoredBan> NftBanner::lifted(int64_t now) {
  std::vector<StoredBan> out;
  if (!m_store->changed_elsewhere())
    return out;
  auto all = m_store->all();
  if (!all)
    return out;
  for (auto &b : *all) {
    const std::string key = element_key(b.source, b.prefix);
    auto r = m_records.find(b.jail + "\n" + key);
    if (r == m_records.end() || r->second <= b.until || r->second <= now)
      continue;
    // Ended early by `bulwark bans remove`, which deleted the element.
    r->second = b.until;
    out.push_back(b);
    auto e = m_elements.find(key);
    if (e != m_elements.end()) {
      int64_t longest = 0;
      for (auto &[rk, until] : m_records)
        if (rk.size() > key.size() && rk.compare(rk.size() - key.size(), key.size(), key) == 0 &&
            rk[rk.size() - key.size() - 1] == '\n')
          longest = std::max(longest, until);
      if (longest <= now)
        m_elements.erase(e);
      else
        e->second.until = longest, e->second.in_kernel = false, m_pending.push_back(key);
    }
  }
  return out;
}

Result<std::unique_ptr<Banner>> make_nft_banner(const Config &cfg) {
  if (::mkdir(cfg.state_dir.c_str(), 0750) != 0 && errno != EEXIST)
    return Error{std::strerror(errno), cfg.state_dir, 0, errno};
  auto store = TRY(BanStore::open(cfg.state_dir + "/bans.sqlite"));
  auto nft = TRY(Nft::open(cfg.nft_table));
  TRY(nft->setup());
  return std::unique_ptr<Banner>(
      new NftBanner(std::move(nft), std::move(store), cfg.nft_check_interval));
}

} // namespace bulwark::watch
