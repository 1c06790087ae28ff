#pragma once
// The exec hook of bulwark watch (configuration `hook: {exec: [PROGRAM,
// ARG...]}`): for each ban, PROGRAM runs with its arguments (no shell:
// "{address}", "{prefix}", "{jail}", "{duration}" inside an argument are
// replaced, nothing else is interpreted) and the ban as one JSON object on
// stdin (jail, address, prefix, banned_at, duration, ban, failures,
// reason, lines). For notifications (a chat message, a ticket) or a
// firewall bulwark has no action for.

#include <bulwark/watch/engine.hpp>

#include <string>
#include <sys/types.h>
#include <vector>

namespace bulwark::watch {

class Hook {
public:
  // REQUIRES: argv non-empty, argv[0] an absolute path (the configuration
  // checks both).
  explicit Hook(std::vector<std::string> argv) : m_argv(std::move(argv)) {}
  ~Hook();
  Hook(const Hook &) = delete;
  Hook &operator=(const Hook &) = delete;
  // Starts the hook for a ban without waiting for it (ban decisions never
  // wait on a notification). Returns false when it could not start (no
  // such program, k_max_running hooks still running under a wide attack):
  // that ban's hook is lost, and counted.
  bool run(const BanDecision &b);
  // Reaps hooks that ended; returns how many failed (exit status not 0,
  // killed by a signal).
  size_t reap();
  // Hooks started and not yet reaped.
  size_t running() const { return m_running.size(); }
  // The arguments of a ban's run (exposed for tests).
  std::vector<std::string> arguments(const BanDecision &b) const;
  static std::string json(const BanDecision &b);
  static constexpr size_t k_max_running = 64;

private:
  std::vector<std::string> m_argv;
  std::vector<pid_t> m_running;
};

} // namespace bulwark::watch
