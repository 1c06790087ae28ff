#pragma once
// The command line of `bulwark fix` (docs/fix.md), kept with the module so
// that src/cli/cli.cpp only hands the application over (as fim does).

#include <optional>

namespace CLI {
class App;
}

namespace bulwark::fix {

// Registers the `fix` subcommand on the application.
void add_commands(CLI::App &app);

// After parsing: runs `fix` when it was given and returns its exit code
// (docs/fix.md); nullopt when it was not given.
std::optional<int> run_commands(CLI::App &app);

} // namespace bulwark::fix
