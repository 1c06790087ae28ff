#pragma once
// Bans in the kernel through libnftables (nftables 1.0.6 on Debian 12) and
// their record in SQLite (state_dir/bans.sqlite), so that bans survive a
// restart of bulwark (the kernel keeps element timeouts on its own) and
// escalation remembers repeat offenders.

#include <bulwark/core/result.hpp>
#include <bulwark/watch/engine.hpp>
#include <bulwark/watch/live.hpp>

#include <memory>
#include <string>
#include <vector>

struct nft_ctx;
struct sqlite3;

namespace bulwark::watch {

struct StoredBan {
  std::string jail;
  Address source; // masked
  int prefix = 32;
  int64_t banned_at = 0;
  int64_t until = 0;
  uint32_t nth = 1;
};

class BanStore {
public:
  static Result<std::unique_ptr<BanStore>> open(const std::string &path);
  ~BanStore();
  Result<Unit> record(const BanDecision &b);
  // Every ban still remembered (also expired ones: escalation history).
  Result<std::vector<StoredBan>> all();
  // Ends the bans of `source/prefix` now; returns how many there were.
  Result<int> end(const Address &source, int prefix, int64_t now);

private:
  explicit BanStore(sqlite3 *db) : m_db(db) {}
  sqlite3 *m_db;
};

class Nft {
public:
  // REQUIRES: table is [a-z0-9_]+ (checked by the configuration).
  static Result<std::unique_ptr<Nft>> open(const std::string &table);
  ~Nft();
  // Creates the table, sets and rules if missing; keeps existing elements.
  Result<Unit> setup();
  Result<Unit> add(const Address &source, int prefix, int64_t timeout);
  Result<Unit> remove(const Address &source, int prefix);
  // Runs one nft command; output in `out`.
  Result<Unit> run(const std::string &cmd, std::string *out = nullptr);

private:
  Nft(nft_ctx *ctx, std::string table) : m_ctx(ctx), m_table(std::move(table)) {}
  nft_ctx *m_ctx;
  std::string m_table;
};

// The banner run_live uses: records in SQLite, then adds the element.
class NftBanner : public Banner {
public:
  NftBanner(std::unique_ptr<Nft> nft, std::unique_ptr<BanStore> store)
      : m_nft(std::move(nft)), m_store(std::move(store)) {}
  Result<Unit> ban(const BanDecision &b) override;
  std::vector<StoredBan> restore(int64_t now) override;

private:
  std::unique_ptr<Nft> m_nft;
  std::unique_ptr<BanStore> m_store;
};

} // namespace bulwark::watch
