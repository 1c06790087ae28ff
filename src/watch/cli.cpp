// bulwark watch / bulwark bans (issue 8). Scaffold: no subcommands yet.
#include <bulwark/watch/cli.hpp>

#include <CLI/CLI.hpp>

namespace bulwark::watch {

void add_commands(CLI::App &) {}

std::optional<int> run_commands(CLI::App &) {
  return std::nullopt;
}

} // namespace bulwark::watch
