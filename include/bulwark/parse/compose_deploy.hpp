#pragma once
// The compose files a deployment uses, as its own commands name them:
// deploy scripts (`docker stack deploy --compose-file a -c b`, `docker
// compose -f a -f b`, `docker-compose --file=a`), systemd units' Exec*=
// lines, and COMPOSE_FILE (split on COMPOSE_PATH_SEPARATOR, default ':')
// in a project directory's .env, which compose-go's cli/options.go
// WithConfigFileEnv reads when no -f is given. Relative paths resolve
// against where the command runs: the last `cd DIR` before it in a script,
// else the script's directory; a unit's WorkingDirectory=, else /; the
// .env's directory.

#include <bulwark/core/rootfs.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::compose {

struct DeployFileSet {
  std::string source; // the script, unit or .env that names the files (target path)
  int line = 0;       // the command's first line
  std::string how;    // "docker stack deploy", "docker compose", "docker-compose", "COMPOSE_FILE"
  std::vector<std::string> files;      // target paths, in -f order
  std::vector<std::string> unresolved; // names with a shell variable, as written
  // `docker stack deploy`: the STACK argument (the swarm services'
  // com.docker.stack.namespace); "" for compose, or when it is a variable.
  std::string stack;
  // COMPOSE_FILE set to the empty string (`COMPOSE_FILE=` in the .env or
  // the command's environment): `files` is empty and `directory` is where
  // Compose runs. The versions disagree: docker-compose 1.29 takes it as
  // unset and runs the default names there; Compose v2 (compose-go
  // cli/options.go: strings.Split gives one empty entry, made absolute as
  // the working directory) reads the directory as a file and refuses.
  bool empty_compose_file = false;
  std::string directory;
};

// The -f / --file / -c / --compose-file arguments of every docker compose,
// docker-compose and docker stack deploy command in `script` (shell text:
// quotes, backslash continuations, `;`, `&&`, `||`, `|` separate commands),
// as written, with the 1-based line each command starts on and its tool.
struct ComposeCommand {
  int line = 0;
  std::string how;
  std::string cwd; // the last `cd DIR` before it, "" when none
  std::vector<std::string> files;
  std::string stack;               // `docker stack deploy`'s STACK, as written ("" when absent)
  bool empty_compose_file = false; // COMPOSE_FILE="" in its environment, no -f
};
// COMPOSE_FILE from the environment: `export COMPOSE_FILE=a:b` (or
// `X=v` then `export X`, `declare -x`) before a command, or a prefix
// `COMPOSE_FILE=a:b docker compose up`, gives a `docker compose` or
// `docker-compose` command without -f its files (compose-go cli/options.go
// WithConfigFileEnv; -f wins over it), `how` then ending in " with
// COMPOSE_FILE"; `docker stack deploy` ignores the variable. `initial` is
// what the commands inherit (a unit's Environment=). A value with a shell
// variable is one file "$..." (unresolved downstream). `bare_dirs`, when
// given, receives the `cd` directory ("" for none) of each compose command
// that names no file at all: Compose reads COMPOSE_FILE from the .env there.
using ShellEnv = std::map<std::string, std::string>;
std::vector<ComposeCommand> compose_commands(std::string_view script, const ShellEnv &initial = {},
                                             std::vector<std::string> *bare_dirs = nullptr);

// COMPOSE_FILE split as compose-go splits it (strings.Split): an empty
// entry (`a.yml::b.yml`, a trailing separator) is kept as "", which Compose
// (v2 and 1.29 alike) resolves to the working directory and then refuses
// to read as a file; callers resolve it so. An empty value is one empty
// entry, as in compose-go (docker-compose 1.29 took it as unset).
std::vector<std::string> split_compose_file(const std::string &value, const std::string &separator);

// File sets named inside the target: scripts (*.sh, Makefile in
// `project_dirs` and their deploy/, scripts/, bin/; every file of
// /usr/local/bin and /usr/local/sbin; /root/*.sh), systemd units under
// /etc/systemd/system and /usr/local/lib/systemd/system (their Exec*=
// commands with Environment= and EnvironmentFile= COMPOSE_FILE), and
// COMPOSE_FILE in the .env of each project directory and of each directory
// a script or unit runs `docker compose` in without -f (its ${VAR}s
// resolved from the assignments above it in that .env, as Compose's dotenv
// interpolates them; a variable the .env does not set stays unresolved).
// Sets that name the same files in the same order are one (the first, or
// the `docker stack deploy` among them).
std::vector<DeployFileSet> find_deploy_file_sets(const RootFs &fs,
                                                 const std::vector<std::string> &project_dirs);

} // namespace bulwark::compose
