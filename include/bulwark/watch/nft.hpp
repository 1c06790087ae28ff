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
#include <unordered_map>
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
  std::string reason;             // of the event that completed the window
  std::vector<std::string> lines; // the lines that caused it
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
  // True when another connection (`bulwark bans remove`) has committed a
  // change since the last call (SQLite's PRAGMA data_version).
  bool changed_elsewhere();

private:
  explicit BanStore(sqlite3 *db) : m_db(db) {}
  sqlite3 *m_db;
  int64_t m_data_version = -1;
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
  // Runs one nft command (or several, one per line: one transaction);
  // output in `out` (JSON with `json`).
  Result<Unit> run(const std::string &cmd, std::string *out = nullptr, bool json = false);
  // The elements of set v4 or v6 with their remaining seconds: "ADDR/PREFIX"
  // -> expires. An error when the table or the set does not exist.
  Result<std::vector<std::pair<std::string, int64_t>>> elements(const std::string &set);
  // Whether the input chain still holds its two drop rules.
  bool rules_intact();
  const std::string &table() const { return m_table; }

private:
  Nft(nft_ctx *ctx, std::string table) : m_ctx(ctx), m_table(std::move(table)) {}
  nft_ctx *m_ctx;
  std::string m_table;
};

// The banner run_live uses: records in SQLite; one nftables element per
// address, whose timeout is the longest of the bans of its jails (a 2-minute
// ban of one jail never shortens a 1-hour ban of another); elements are
// added in one transaction per flush; every nftables.check_interval (and whenever
// a transaction fails) the sets are listed and what is missing or shorter
// than it should be is put back, after recreating the table, sets and rules
// when they are gone (`nft flush ruleset`, a restart of nftables.service).
class NftBanner : public Banner {
public:
  NftBanner(std::unique_ptr<Nft> nft, std::unique_ptr<BanStore> store, int64_t check_interval)
      : m_nft(std::move(nft)), m_store(std::move(store)), m_check_interval(check_interval) {}
  Result<Unit> ban(const BanDecision &b) override;
  std::vector<StoredBan> restore(int64_t now) override;
  size_t flush(int64_t now) override;
  std::vector<StoredBan> lifted(int64_t now) override;
  // Lists the sets and restores missing or shortened elements (and the
  // table, sets and rules). Returns false when nftables refused.
  bool reconcile(int64_t now);

private:
  struct Element {
    std::string set;  // v4 or v6
    std::string text; // ADDR/PREFIX
    int64_t until = 0;
    bool in_kernel = false; // added by us and not yet expired
  };
  std::unique_ptr<Nft> m_nft;
  std::unique_ptr<BanStore> m_store;
  std::unordered_map<std::string, Element> m_elements; // "set ADDR/PREFIX"
  std::vector<std::string> m_pending;                  // keys to (re)apply
  // Each jail's ban of an element ("jail\nset ADDR/PREFIX" -> until), to see
  // bans that `bulwark bans remove` ended.
  std::unordered_map<std::string, int64_t> m_records;
  int64_t m_check_interval;
  int64_t m_last_check = 0;
};

} // namespace bulwark::watch
