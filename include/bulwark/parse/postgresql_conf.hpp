#pragma once
// postgresql.conf as PostgreSQL 15 (Debian 12) reads it: guc-file.l's lexer
// and ParseConfigFp(), include / include_if_exists / include_dir, last value
// wins, then postgresql.auto.conf in the data directory. Values are kept as
// the server receives them (quotes and escapes removed); the helpers below
// interpret them as the GUC machinery does (booleans, integers with units).
// See src/parse/postgresql_conf.cpp for the details and sources.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::pg {

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Setting {
  std::string name;  // lower case, as guc_name_compare() compares
  std::string value; // quotes and escapes removed
  SourceLocation loc;
};

struct Config {
  // Every assignment in the order the server processes them.
  std::vector<Setting> assignments;
  // The last assignment of each name (lower case).
  std::map<std::string, Setting> effective;
  std::vector<std::string> files; // files read, in order (includes too)
  std::vector<Diagnostic> diagnostics;

  const Setting *get(std::string_view name) const; // nullptr when unset
  bool has_errors() const;
};

struct ConfOptions {
  size_t max_file_bytes = 16 * 1024 * 1024; // bigger files are an error
  int max_depth = 10;                       // CONF_FILE_MAX_DEPTH
  int max_files = 1000;                     // a bound on include fan-out
};

// Reads `path` (a target path) and everything it includes, appending to
// `cfg`. strict=false is include_if_exists: a missing file is only noted.
void parse_conf_file(const RootFs &fs, const std::string &path, bool strict, Config &cfg,
                     const ConfOptions &opts = {});

// postgresql.conf then, when the data directory is known (argument, else the
// file's data_directory), postgresql.auto.conf in it. Never fails: problems
// are diagnostics.
Config load_postgresql_conf(const RootFs &fs, const std::string &conf_path,
                            std::optional<std::string> data_dir = std::nullopt,
                            const ConfOptions &opts = {});

// One file's text, without following includes (they become diagnostics).
// For tests and the fuzz harness.
Config parse_conf_text(const std::string &path, std::string_view text);

// GUC value interpretation (PostgreSQL 15 guc.c).
// parse_bool(): on/off, true/false, yes/no, 1/0 and unique prefixes, any case.
std::optional<bool> parse_bool(std::string_view v);
// An integer setting whose base unit is `unit` ("", "B", "kB", "MB", "8kB"
// (blocks), "ms", "s", "min"): value in base units, as parse_int() computes
// it (strtol base 0, fractions rounded, units case-sensitive). nullopt when
// the server would reject it.
std::optional<int64_t> parse_int(std::string_view v, std::string_view unit = "");

} // namespace bulwark::pg
