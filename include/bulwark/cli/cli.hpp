#pragma once
// Argument parsing and the commands. main() calls run() and nothing else.

namespace bulwark::cli {

// Returns the process exit code (DESIGN.md): 0 ok, 1 failures at or above
// --fail-on, 2 usage error, 3 the audit could not run.
int run(int argc, char **argv);

} // namespace bulwark::cli
