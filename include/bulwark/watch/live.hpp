#pragma once
// `bulwark watch` without --replay: follow the jails' logs, decide bans by
// arrival time, apply them (or print them with --dry-run), serve /metrics,
// write the node_exporter textfile, persist read positions.

#include <bulwark/watch/config.hpp>
#include <bulwark/watch/engine.hpp>

#include <string>
#include <vector>

namespace bulwark::watch {

struct StoredBan;

// Where bans go. REQUIRES of implementations: ban() never blocks for long.
class Banner {
public:
  virtual ~Banner() = default;
  // Records the ban; the firewall gets it at the next flush().
  virtual Result<Unit> ban(const BanDecision &b) = 0;
  // Bans remembered from earlier runs (for escalation and to not re-ban);
  // unexpired ones are put back in force.
  virtual std::vector<StoredBan> restore(int64_t now) = 0;
  // Applies the bans recorded since the last call in one transaction, and
  // now and then checks that the firewall still holds every ban in force
  // (a flushed ruleset, a deleted table or set) and restores it. Returns
  // how many bans could not be applied.
  virtual size_t flush(int64_t now) = 0;
  // Bans lifted by someone else (`bulwark bans remove`) since the last
  // call: the daemon forgets their sources' windows.
  virtual std::vector<StoredBan> lifted(int64_t now) = 0;
  // True while work remains that the next flush() continues (a restore in
  // chunks): the caller reads its logs and flushes again without sleeping.
  virtual bool busy() const { return false; }
};

struct LiveOptions {
  bool dry_run = false;
  bool from_start = false; // read files without a saved position from their start
};

// The jails as they will run: a built-in jail the configuration does not
// name is dropped (with a note) when none of its files exists and it reads
// no journal; a configured jail whose file does not exist is an error with
// its line, or a note with `allow_missing` (the file is followed once it
// appears); no jail left is an error.
Result<Config> resolve_sources(Config cfg, bool allow_missing, std::vector<std::string> &notes);

// What run_live returns on SIGHUP: the caller re-reads the configuration
// and runs again (positions, cursor and bans were saved).
constexpr int k_live_reload = -2;

// Runs until SIGTERM/SIGINT (or SIGHUP: k_live_reload). Returns the
// process exit code.
int run_live(const Config &cfg, const LiveOptions &opts, Banner *banner);

} // namespace bulwark::watch

#include <memory>

namespace bulwark::watch {

// Bans through the configured action (nft.cpp): libnftables ("nftables":
// table inet <nftables.table> with a set per family and prefix, v4_32,
// v6_64: nft_set_name(), and drop rules) or ipset and iptables
// ("iptables-ipset": ipset.hpp); each ban is an element with a timeout.
// Restores unexpired bans from the SQLite state.
Result<std::unique_ptr<Banner>> make_banner(const Config &cfg);

class Firewall;
// The configured action's firewall with the sets the jails ban into
// wanted, not yet set up (bulwark bans remove).
Result<std::unique_ptr<Firewall>> make_firewall(const Config &cfg);

} // namespace bulwark::watch
