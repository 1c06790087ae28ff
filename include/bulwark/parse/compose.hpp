#pragma once
// Compose projects as `docker compose config` (Compose v2, compose-go v2)
// builds them, with the file and line that set every final value.
//
// The pipeline (compose-go loader/loader.go, override/merge.go; the compose
// specification's "Merge and override" page):
// 1. Each file is parsed as YAML 1.2 (every document of it, each merged
//    over the one before as compose-go does) with anchors, aliases and YAML 1.1
//    merge keys (`<<: *a`, `<<: [*a, *b]`; the mapping's own keys win, then
//    the first source), `!reset` and `!override` tags kept for step 4.
// 2. Values (never keys) are interpolated: $V, ${V}, ${V:-d}, ${V-d},
//    ${V:?e}, ${V?e}, ${V:+a}, ${V+a}, defaults nested, $$ for a dollar. The
//    variables are the project's .env (or --env-file) with the process
//    environment over it. An unset variable becomes "" with a warning; a
//    `?` form whose variable is missing is an error, as in compose.
// 3. Short syntax is normalised where merging needs keys: environment,
//    labels, sysctls, build.args, extra_hosts lists become mappings;
//    networks and depends_on lists become mappings; `build: dir` becomes
//    {context: dir}. Then `include` (the included project is loaded as its
//    own project: its directory, its own .env under the including project's
//    variables; its resources come in, and a name also defined locally is
//    the local definition merged over the imported one, as compose-go >=
//    2.10 / Docker Compose v5 does, with a warning that older Compose
//    rejects it) and `extends` (same file or another; volumes_from and
//    depends_on are not inherited).
// 4. The files merge in -f order: mappings key by key, scalars replaced,
//    sequences appended, except command, entrypoint and healthcheck.test
//    (replaced); cap_add, cap_drop, expose, profiles, dns*, tmpfs, env_file,
//    security_opt unique by value; volumes and devices by container target;
//    secrets and configs by target; ports by host_ip (default 0.0.0.0) +
//    published + target + protocol; logging merged only when the driver
//    matches. `!reset` removes the value, `!override` replaces it whole.
//    A null in an override keeps the base value (override.MergeYaml), except
//    a bare KEY in environment-like maps (it means "from the shell").
//    Relative paths resolve against the project directory for every -f file
//    (Project::resolve), not against the override's own folder.
// 5. The merged model is validated: a key the compose specification does
//    not allow (data/compose/spec-keys.yaml, generated from compose-go's
//    schema/compose-spec.json) is an error with its file and line; so is a
//    missing env_file unless `required: false`.
// A flow collection whose closing bracket sits left of its items (go-yaml
// accepts it, libfyaml does not) is read by one retry with the closers
// moved right (line numbers unchanged).
// Docker Compose 1.29 (Debian's docker-compose) agrees on everything the
// differential test generates (tests/parse/compose_diff_test.cpp).
// Source: https://github.com/compose-spec/compose-go (v2), the compose
// specification (compose-spec/spec.md, merge.md, interpolation.md).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::compose {

inline constexpr size_t k_max_file_bytes = 4 * 1024 * 1024; // compose files are kilobytes
inline constexpr size_t k_max_nodes = 200000;               // after alias expansion
inline constexpr int k_max_extends_depth = 16;
inline constexpr int k_max_include_depth = 8;

// Where a value was written: an index into Project::files and a 1-based line.
struct Loc {
  int file = -1;
  int line = 0;
};

struct Value {
  // Defined out of line, where Value is complete (entries hold Value itself).
  Value();
  ~Value();
  Value(const Value &);
  Value(Value &&) noexcept;
  Value &operator=(const Value &);
  Value &operator=(Value &&) noexcept;

  enum class Kind { null, scalar, sequence, mapping };
  Kind kind = Kind::null;
  std::string scalar;
  std::vector<Value> items;
  std::vector<std::pair<std::string, Value>> entries;
  Loc loc;     // the value's line (a collection: its first element's)
  Loc key_loc; // a mapping's value: its key's line
  std::string tag;
  std::string raw; // the scalar as written, when interpolation changed it

  bool is_null() const { return kind == Kind::null; }
  bool is_scalar() const { return kind == Kind::scalar; }
  bool is_sequence() const { return kind == Kind::sequence; }
  bool is_mapping() const { return kind == Kind::mapping; }
  const Value *find(std::string_view key) const;
  Value *find(std::string_view key);
  // A scalar's text, "" for anything else.
  const std::string &str() const;
  // The line that best names this value: its own, else its key's.
  Loc where() const { return loc.line ? loc : key_loc; }
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

// What a merge hid: a value an override file changed in a way a reader of
// the base file would not see.
struct MergeNote {
  std::string service;
  std::string what; // "ports", "privileged"
  std::string message;
  Loc loc; // where the override says it
};

struct Project {
  std::string name;
  std::string directory;          // the project directory (of the first file)
  std::vector<std::string> files; // every file read; Loc::file indexes it
  // Parallel to files: the directory a relative path written in that file
  // resolves against (compose-go paths.ResolveRelativePaths): the project
  // directory for every -f file, an included project's own directory for
  // its files, the file's own directory for a file only `extends` names.
  std::vector<std::string> file_dirs;
  size_t main_files = 0;                        // the first main_files are the -f files
  std::map<std::string, std::string> variables; // for interpolation
  std::vector<std::string> env_files;           // .env or --env-file, as read
  Value root;                                   // the merged model (a mapping)
  std::vector<Diagnostic> diagnostics;
  std::vector<MergeNote> notes;

  bool valid() const;
  SourceLocation where(Loc l) const;
  std::string at(Loc l) const; // "file:line"
  std::string at(const SourceLocation &l) const;
  // A diagnostic's location is already a file and line.
  const SourceLocation &where(const SourceLocation &l) const { return l; }
  const Value *services() const;
  // A relative path written at `l` (env_file, build.context, a bind
  // source) joined to the directory it resolves against; absolute paths
  // and "" are returned as they are.
  std::string resolve(Loc l, const std::string &path) const;
};

// How files are read. The target's files go through RootFs; --compose
// names host paths, read as plain, size-capped files (compose_io.cpp).
struct Reader {
  std::function<Result<std::string>(const std::string &path, size_t max)> read;
  std::function<bool(const std::string &path)> is_file;
};
Reader root_reader(const RootFs &fs);
Reader host_reader();

struct LoadOptions {
  std::vector<std::string> env_files; // --env-file; empty: <project dir>/.env
  // The process environment over .env; tests pass their own.
  std::map<std::string, std::string> environment;
  bool use_process_environment = true;
};

// Loads one project from its files in -f order. Never fails: problems are
// diagnostics (with file and line) and the model holds what could be read.
Project load_project(const Reader &reader, const std::vector<std::string> &files,
                     const LoadOptions &options = {});

// Compose files under the target: the directories /srv, /opt, /etc,
// /home/*, /app, /root down to `max_depth`, one project per directory with
// compose.yaml | compose.yml | docker-compose.yml | docker-compose.yaml (the
// first that exists, as compose picks it) and the first of
// compose.override.yml | compose.override.yaml | docker-compose.override.yml
// | docker-compose.override.yaml that exists, whatever the main file's name
// (compose-go cli/options.go WithDefaultConfigPath). `dotenv_dirs`, when
// given, receives the other directories of that walk that hold a `.env`:
// a COMPOSE_FILE there names a project whose files have no default name
// (`docker compose up` run there uses it), which find_deploy_file_sets reads.
std::vector<std::vector<std::string>> discover(const RootFs &fs, int max_depth = 4,
                                               std::vector<std::string> *dotenv_dirs = nullptr);

// Interpolates `text` with `vars`. Unset variables become "" and are
// listed in `unset`; a `?` form whose variable is unset (or empty, for
// `:?`) is an error carrying its message.
Result<std::string> interpolate(std::string_view text,
                                const std::map<std::string, std::string> &vars,
                                std::vector<std::string> *unset = nullptr);
// The same, bounded: an error once the result (or a nested default) would
// pass `max_bytes`, before it is built. load_project() passes what is left
// of its budget of k_max_interpolated_bytes for the whole project.
Result<std::string> interpolate(std::string_view text,
                                const std::map<std::string, std::string> &vars,
                                std::vector<std::string> *unset, size_t max_bytes);
constexpr size_t k_max_interpolated_bytes = 64 * 1024 * 1024;

// Short and long syntax, as the checks need them.
struct Port {
  std::string host_ip;   // "" = every interface
  std::string published; // "" = not published (an ephemeral port when target is given)
  std::string target;
  std::string protocol = "tcp";
  Loc loc;
};
// One `ports` item; nullopt when it does not parse.
std::optional<std::vector<Port>> parse_port(const Value &item);

struct Mount {
  std::string type; // bind, volume, tmpfs, npipe
  std::string source;
  std::string target;
  bool read_only = false;
  std::string options; // the short syntax's mode field ("ro,z")
  Loc loc;
};
std::optional<Mount> parse_volume(const Value &item);

// A key that identifies an item of a merged sequence, or "" when the
// sequence is simply appended.
std::string merge_key(std::string_view field, const Value &item);

// The directory of a compose path as typed ("." for a bare name), and a
// relative path joined to a directory without touching the file system (host
// paths stay as typed; target paths are normalised later by RootFs). Used by
// the loader (include, extends, .env) and the checks (build contexts,
// Dockerfiles, env_file).
std::string dirname_of(const std::string &path);

// The entries of a service's `env_file:` (one path, a list of paths, or a
// list of {path, required} mappings), skipping those without a path: each
// with the item itself (for `required`) and the scalar holding its path.
struct EnvFileEntry {
  const Value *item;
  const Value *path;
};
std::vector<EnvFileEntry> env_file_entries(const Value &service);
std::string join_path(const std::string &dir, const std::string &path);

} // namespace bulwark::compose
