#pragma once
// The command line of `bulwark watch` and `bulwark bans`, kept with the
// watcher so that src/cli/cli.cpp only hands the application over.

#include <optional>

namespace CLI {
class App;
}

namespace bulwark::watch {

// Registers the watcher's subcommands (watch, bans) on the application.
void add_commands(CLI::App &app);

// After parsing: runs the watcher's subcommand that was given and returns
// its exit code; nullopt when none of them was given.
std::optional<int> run_commands(CLI::App &app);

} // namespace bulwark::watch
