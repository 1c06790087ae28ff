#pragma once
// logrotate's configuration as logrotate 3.21 (Debian 12) reads it, reduced
// to what decides how long a log is kept: which block owns a file, and that
// block's rotation criterion, rotate count and maxage.
//
// The real semantics (checked with `logrotate -d` in the differential test):
// - One state of defaults, changed by every directive outside a block, in
//   reading order and ACROSS files: a stray `monthly` after a block in
//   /etc/logrotate.d/x changes the defaults of every later block, including
//   the blocks of logrotate.conf after its `include` line (and none before).
// - A block is `PATH... {` ... `}`; paths may be quoted, may be globs and may
//   span several lines before the `{`; directives may follow `{` on its line.
//   It starts from a copy of the defaults as they are at its `{`.
// - `include FILE|DIR` reads a file, or a directory's regular files in
//   bytewise name order, skipping taboo extensions (.dpkg-old, .disabled,
//   ~, ...). Nesting deeper than 16 is an error at the include line; the rest
//   of the file is still read (a file including itself is read 16 times).
// - The same file twice is "duplicate log entry": a pattern's matches are
//   taken in glob order up to the first file already owned; that file and
//   the pattern's later matches are left out (and the file has an error).
// - A file with an error leaves the defaults as they were before it.
// - Criterion: the last of hourly/daily/weekly/monthly/yearly/size. With
//   none, logrotate rotates at 1 MiB (size). `rotate N` keeps N old logs
//   (default 0; -1 keeps all); `maxage D` removes old logs older than D days.
// - A configuration file writable by group or others is ignored.
// Sources: https://github.com/logrotate/logrotate/blob/3.21.0/config.c
// (readConfigFile, readConfigPath), logrotate(8).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::logrotate {

enum class Criterion { size, hourly, daily, weekly, monthly, yearly };
std::string_view to_string(Criterion c);

struct Settings {
  Criterion criterion = Criterion::size; // logrotate's built-in default
  SourceLocation criterion_loc;          // line 0: built-in default
  uint64_t size = 1024 * 1024;
  int64_t rotate = 0; // -1: old logs are never removed by count
  SourceLocation rotate_loc;
  std::optional<int64_t> maxage; // days
  SourceLocation maxage_loc;
};

struct Block {
  std::vector<std::string> patterns; // as written, quotes removed
  SourceLocation loc;                // the line of the first path
  Settings settings;
  std::vector<std::string> files; // existing files the patterns matched
  // Per pattern: it reached a file already owned, and logrotate left out
  // the rest of its matches ("duplicate log entry").
  std::vector<bool> dropped;
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Config {
  std::vector<Block> blocks; // in reading order
  std::vector<std::string> files;
  std::vector<Diagnostic> diagnostics;
  bool present = false; // the main file exists

  // The block logrotate applies to `path`: the block that owns it when it
  // exists; else the first pattern, not cut short, that would match it
  // (fnmatch). nullptr when none.
  const Block *find(const std::string &path) const;
};

// Reads `main` (inside the target) and what it includes.
Config load_logrotate(const RootFs &fs, const std::string &main = "/etc/logrotate.conf");

} // namespace bulwark::logrotate
