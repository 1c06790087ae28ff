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
  virtual Result<Unit> ban(const BanDecision &b) = 0;
  // Bans remembered from earlier runs (for escalation and to not re-ban);
  // unexpired ones are put back in force.
  virtual std::vector<StoredBan> restore(int64_t now) = 0;
};

struct LiveOptions {
  bool dry_run = false;
  bool from_start = false; // read files without a saved position from their start
};

// Runs until SIGTERM/SIGINT. Returns the process exit code.
int run_live(const Config &cfg, const LiveOptions &opts, Banner *banner);

} // namespace bulwark::watch

#include <memory>

namespace bulwark::watch {

// Bans through libnftables (nft.cpp): creates table inet <nftables.table>
// with sets v4/v6 (flags interval, timeout) and drop rules; each ban is an
// element with a timeout. Restores unexpired bans from the SQLite state.
Result<std::unique_ptr<Banner>> make_nft_banner(const Config &cfg);

} // namespace bulwark::watch
