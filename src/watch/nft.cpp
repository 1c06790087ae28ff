// nftables bans (libnftables, the same grammar as nft(8)) and their SQLite
// record; see nft.hpp.
#include <bulwark/watch/nft.hpp>

#include <fmt/format.h>
#include <nftables/libnftables.h>
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
  return std::unique_ptr<BanStore>(new BanStore(db));
}

BanStore::~BanStore() {
  sqlite3_close(m_db);
}

Result<Unit> BanStore::record(const BanDecision &b) {
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(m_db, "INSERT OR REPLACE INTO bans VALUES (?1, ?2, ?3, ?4, ?5, ?6)", -1,
                         &st, nullptr) != SQLITE_OK)
    return db_error(m_db, "ban database");
  std::string addr = format_address(b.source);
  sqlite3_bind_text(st, 1, b.jail.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_text(st, 2, addr.c_str(), -1, SQLITE_TRANSIENT);
  sqlite3_bind_int(st, 3, b.prefix);
  sqlite3_bind_int64(st, 4, b.time);
  sqlite3_bind_int64(st, 5, b.time + b.duration);
  sqlite3_bind_int64(st, 6, b.nth);
  int rc = sqlite3_step(st);
  sqlite3_finalize(st);
  if (rc != SQLITE_DONE)
    return db_error(m_db, "ban database");
  return Unit{};
}

Result<std::vector<StoredBan>> BanStore::all() {
  sqlite3_stmt *st = nullptr;
  if (sqlite3_prepare_v2(m_db,
                         "SELECT jail, address, prefix, banned_at, until, nth FROM bans "
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

Result<Unit> Nft::run(const std::string &cmd, std::string *out) {
  if (nft_run_cmd_from_buffer(m_ctx, cmd.c_str()) != 0) {
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

Result<Unit> NftBanner::ban(const BanDecision &b) {
  auto r = m_store->record(b);
  auto n = m_nft->add(b.source, b.prefix, b.duration);
  if (!n)
    return n;
  return r;
}

std::vector<StoredBan> NftBanner::restore(int64_t now) {
  auto all = m_store->all();
  if (!all)
    return {};
  for (auto &b : *all)
    if (b.until > now)
      (void)m_nft->add(b.source, b.prefix, b.until - now);
  return *all;
}

Result<std::unique_ptr<Banner>> make_nft_banner(const Config &cfg) {
  if (::mkdir(cfg.state_dir.c_str(), 0750) != 0 && errno != EEXIST)
    return Error{std::strerror(errno), cfg.state_dir, 0, errno};
  auto store = TRY(BanStore::open(cfg.state_dir + "/bans.sqlite"));
  auto nft = TRY(Nft::open(cfg.nft_table));
  TRY(nft->setup());
  return std::unique_ptr<Banner>(new NftBanner(std::move(nft), std::move(store)));
}

} // namespace bulwark::watch
