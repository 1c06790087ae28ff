#pragma once
// The command line of `bulwark fim init|check|update`, kept with the module
// so that src/cli/cli.cpp only hands the application over (as watch does).

#include <optional>

namespace CLI {
class App;
}

namespace bulwark::fim {

// Registers the `fim` subcommand on the application.
void add_commands(CLI::App &app);

// After parsing: runs `fim` when it was given and returns its exit code
// (0 unchanged, 1 changed or not verifiable, 2 usage, 3 cannot run);
// nullopt when it was not given.
std::optional<int> run_commands(CLI::App &app);

} // namespace bulwark::fim
