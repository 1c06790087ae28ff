#pragma once
// Bans in the kernel through libnftables (nftables 1.0.6 on Debian 12), or
// through ipset and iptables (ipset.hpp), and their record in SQLite (state_dir/bans.sqlite), so
// that bans survive a restart of bulwark (the kernel keeps element timeouts on its own) and
// escalation remembers repeat offenders.

#include <bulwark/core/result.hpp>
#include <bulwark/watch/engine.hpp>
#include <bulwark/watch/live.hpp>

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <map>
#include <memory>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

struct nft_ctx;
struct sqlite3;
struct sqlite3_stmt;

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
  // Every ban still remembered (also expired ones: escalation history),
  // the latest to end first. Without `with_lines` neither the lines nor
  // the reason are read and the bans come in no particular order (a
  // restart needs the bans, not up to ten log lines of each, megabytes at
  // 65,536 bans, nor a sort of them).
  Result<std::vector<StoredBan>> all(bool with_lines = true);
  // Ends the bans of `source/prefix` now; returns how many there were.
  Result<int> end(const Address &source, int prefix, int64_t now);
  // True when another connection (`bulwark bans remove`) has committed a
  // change since the last call (SQLite's PRAGMA data_version). With
  // `consume` false the change stays to be seen by the next call.
  bool changed_elsewhere(bool consume = true);
  // record() opens a transaction that lasts until commit() (the bans of a
  // tick in one fsync); the destructor commits what is left.
  Result<Unit> commit();

private:
  explicit BanStore(sqlite3 *db) : m_db(db) {}
  sqlite3 *m_db;
  sqlite3_stmt *m_insert = nullptr; // record()'s statement
  int64_t m_data_version = -1;
  bool m_in_transaction = false;
};

// Element additions (with their timeouts) and deletions, per set, that a
// Firewall applies as one batch (one nftables transaction, one ipset
// restore).
struct ElementBatch {
  struct Add {
    std::string text;
    int64_t timeout = 1;
  };
  struct Ops {
    std::vector<std::string> del;
    std::vector<Add> add;
  };
  std::map<std::string, Ops> sets;
  Ops &of(const std::string &set) { return sets[set]; }
  void remove(const std::string &set, const std::string &text) { sets[set].del.push_back(text); }
  void insert(const std::string &set, const std::string &text, int64_t timeout) {
    sets[set].add.push_back({text, std::max<int64_t>(1, timeout)});
  }
  bool empty() const { return sets.empty(); }
};

// Where bans live in the kernel: sets of addresses with per-element
// timeouts and one drop rule per set. Implemented by Nft (nftables) and
// Ipset (ipset + iptables/ip6tables, ipset.hpp).
class Firewall {
public:
  virtual ~Firewall() = default;
  // Adds the set for bans of `family` and `prefix` (made by the next
  // setup()); true when a set is new.
  virtual bool want(int family, int prefix) = 0;
  // The set holding bans of `family`/`prefix`, and an element's text in it
  // as elements() lists it.
  virtual std::string set_name(int family, int prefix) const = 0;
  virtual std::string element_text(const Address &source, int prefix) const = 0;
  // The names of the sets want() asked for.
  virtual std::vector<std::string> sets() const = 0;
  // Creates the sets and rules if missing; keeps existing elements; never
  // duplicates a rule.
  virtual Result<Unit> setup() = 0;
  // Applies a batch at once. An element that exists may be re-added with
  // another timeout only after its deletion in the same batch, unless
  // replaces_in_place().
  virtual Result<Unit> apply(const ElementBatch &batch) = 0;
  virtual bool replaces_in_place() const { return false; }
  // The elements of a set with their remaining seconds: TEXT -> expires
  // (an element without a timeout: 2^40 for ipset, 0 for nft). An
  // error when the set does not exist.
  virtual Result<std::vector<std::pair<std::string, int64_t>>> elements(const std::string &set) = 0;
  // Whether every set exists (no listing of elements: cheap with any
  // number of bans).
  virtual bool sets_present() = 0;
  // Whether the drop rule of every set is in place.
  virtual bool rules_intact() = 0;
  // Deletes the element of `source/prefix` (bulwark bans remove).
  virtual Result<Unit> remove(const Address &source, int prefix) = 0;
  // "nftables", "ipset": in messages.
  virtual std::string kind() const = 0;
  // "nftables table inet bulwark", "the ipset action (sets ...)".
  virtual std::string where() const = 0;
};

// The set of the bans of one address family and prefix length: v4_32,
// v6_64, ... Its elements are the masked addresses; the rule masks the
// source address (ip6 saddr & ffff:ffff:ffff:ffff:: @v6_64 drop). Plain
// sets (a hash in the kernel) and not one interval set per family: nft
// 1.0.6 lists the whole interval set on every element batch, and a restore
// of 65,536 elements took three times as long.
std::string nft_set_name(int family, int prefix);

class Nft : public Firewall {
public:
  // REQUIRES: table is [a-z0-9_]+ (checked by the configuration).
  static Result<std::unique_ptr<Nft>> open(const std::string &table);
  ~Nft() override;
  bool want(int family, int prefix) override;
  std::string set_name(int family, int prefix) const override {
    return nft_set_name(family, prefix);
  }
  std::string element_text(const Address &source, int) const override {
    return format_address(source);
  }
  std::vector<std::string> sets() const override;
  // Creates the table, sets and rules if missing; keeps existing elements;
  // drops the interval sets v4 and v6 of earlier versions.
  Result<Unit> setup() override;
  // One transaction: "delete element ... { a, b }" then "add element ...
  // { a timeout 1s, ... }" per set, in chunks of 8,192 elements.
  Result<Unit> apply(const ElementBatch &batch) override;
  Result<Unit> add(const Address &source, int prefix, int64_t timeout);
  Result<Unit> remove(const Address &source, int prefix) override;
  // Runs one nft command (or several, one per line: one transaction);
  // output in `out` (JSON with `json`).
  Result<Unit> run(const std::string &cmd, std::string *out = nullptr, bool json = false);
  Result<std::vector<std::pair<std::string, int64_t>>> elements(const std::string &set) override;
  bool rules_intact() override;
  bool sets_present() override;
  std::string kind() const override { return "nftables"; }
  std::string where() const override { return "nftables table inet " + m_table; }
  const std::string &table() const { return m_table; }

private:
  Nft(nft_ctx *ctx, std::string table) : m_ctx(ctx), m_table(std::move(table)) {}
  nft_ctx *m_ctx;
  std::string m_table;
  std::set<std::pair<int, int>> m_sets; // (family, prefix)
};

// The banner run_live uses, over either Firewall: records in SQLite; one
// set element per address, whose timeout is the longest of the bans of its
// jails (a 2-minute ban of one jail never shortens a 1-hour ban of
// another); elements are added in one batch per flush; every
// check_interval (and whenever a batch fails) the sets are listed and what
// is missing or shorter than it should be is put back, after recreating the
// sets and rules when they are gone (`nft flush ruleset`, a restart of
// nftables.service, `ipset flush`, `iptables -F`). A restart's bans are put
// back k_restore_chunk per flush, after that tick's new bans (busy()
// meanwhile: the caller reads its logs and flushes again without waiting).
class FirewallBanner : public Banner {
public:
  FirewallBanner(std::unique_ptr<Firewall> fw, std::unique_ptr<BanStore> store,
                 int64_t check_interval)
      : m_fw(std::move(fw)), m_store(std::move(store)), m_check_interval(check_interval) {}
  Result<Unit> ban(const BanDecision &b) override;
  std::vector<StoredBan> restore(int64_t now) override;
  size_t flush(int64_t now) override;
  std::vector<StoredBan> lifted(int64_t now) override;
  bool busy() const override;
  // Lists the sets and restores missing or shortened elements (and the
  // sets and rules). Returns false when the firewall refused.
  bool reconcile(int64_t now);

private:
  static constexpr size_t k_restore_chunk = 16384;
  static constexpr size_t k_cheap_listing = 4096;    // elements listed at every check
  static constexpr uint64_t k_full_check_every = 10; // checks, with more elements
  // An element of the firewall: the masked address and the prefix (which
  // names its set). Keys are these 18 bytes, not "set TEXT" strings: a
  // restart with 65,536 bans formatted and hashed three strings per ban.
  struct ElementKey {
    Address source;
    uint8_t prefix = 0;
    bool operator==(const ElementKey &) const = default;
  };
  struct ElementKeyHash {
    size_t operator()(const ElementKey &k) const noexcept;
  };
  struct Element {
    int64_t until = 0;
    bool in_kernel = false; // added by us and not yet expired
  };
  // One jail's ban of an element (jail: an index into m_jails).
  struct RecordKey {
    uint32_t jail = 0;
    ElementKey element;
    bool operator==(const RecordKey &) const = default;
  };
  struct RecordKeyHash {
    size_t operator()(const RecordKey &k) const noexcept;
  };
  std::unique_ptr<Firewall> m_fw;
  std::unique_ptr<BanStore> m_store;
  // The set of an element's key (Firewall::set_name, computed once per
  // family and prefix) and the text of the element in it.
  const std::string &set_of(const ElementKey &k);
  std::string text_of(const ElementKey &k) const { return m_fw->element_text(k.source, k.prefix); }
  uint32_t jail_id(std::string_view jail);
  // Adds the element to `batch` (its deletion first when it is in the
  // kernel and the firewall cannot replace in place).
  void put(ElementBatch &batch, const ElementKey &k, Element &e, int64_t now);
  // The elements in the kernel ("set TEXT" -> remaining seconds); `missing`
  // when a set cannot be listed (gone).
  std::unordered_map<std::string, int64_t> present(bool &missing);
  std::unordered_map<ElementKey, Element, ElementKeyHash> m_elements;
  std::vector<ElementKey> m_pending; // to (re)apply
  // Each jail's ban of an element -> until, to see bans that `bulwark bans
  // remove` ended.
  std::unordered_map<RecordKey, int64_t, RecordKeyHash> m_records;
  std::vector<std::string> m_jails;
  std::map<int, std::string> m_set_names; // family * 256 + prefix -> name (stable references)
  int64_t m_check_interval;
  int64_t m_last_check = 0;
  bool m_setup_needed = false;
  uint64_t m_checks = 0;
  std::vector<ElementKey> m_restore; // keys restore() found in force
  size_t m_restore_next = 0;         // the first not yet applied
  std::chrono::steady_clock::time_point m_restore_start;
};

} // namespace bulwark::watch
