#pragma once
// The tree walk: one parallel pass over a target's directory tree, the way
// `find ROOT -xdev -perm ...` (GNU findutils 4.9, Debian 12) sees it: symlinks
// are listed and never followed, a pruned directory and a mount point are
// listed but not entered, unreadable directories are reported and skipped.
//
// It stays inside the root by construction: the start directory is resolved
// once through RootFs, and every step below it is openat(parent_fd, name,
// O_NOFOLLOW | O_DIRECTORY), so no symlink, "..", or rename race can lead the
// walk out of the tree it started in. Paths are target paths.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct WalkEntry {
  std::string path;  // target path, raw bytes (see display_path)
  uint32_t mode = 0; // st_mode: file type and permission bits (S_IFLNK|0777 for symlinks)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
};

struct WalkOptions {
  // Target paths that are listed but not entered (the pseudo file systems).
  std::vector<std::string> prune{"/proc", "/sys", "/dev", "/run"};
  // Stay on the start directory's file system, like find -xdev. Default: on
  // when the root is the live "/", off for an image (whose own mounts count).
  std::optional<bool> one_file_system;
  // Worker threads; 0 = std::thread::hardware_concurrency().
  unsigned threads = 0;
  // Which entries the result keeps. Called concurrently from every thread
  // with the parent's target path, the entry's name and its st_mode
  // (symlinks are never stat'ed: S_IFLNK|0777). nullptr keeps everything.
  std::function<bool(std::string_view dir, std::string_view name, uint32_t mode)> keep;
  // Also keeps an entry (never a symlink: symlinks are not stat'ed) for
  // which this returns true given its owner and group (find -nouser /
  // -nogroup). Called concurrently; nullptr keeps nothing more.
  std::function<bool(uint32_t uid, uint32_t gid)> keep_owner;
};

struct WalkResult {
  std::string start;              // the start directory's target path, symlinks resolved
  std::vector<WalkEntry> entries; // the kept entries, sorted bytewise by path
  std::vector<Error> errors;      // unreadable directories, failed stats; sorted by path
  // Directories listed but not entered: pruned, or on another file system
  // (one_file_system). Sorted.
  std::vector<std::string> boundaries;
  uint64_t directories = 0; // directories seen (entered or not)
  uint64_t others = 0;      // every other entry seen
};

// Walks the tree under `start` (a target path; symlinks in it are resolved
// inside the root). Errors: start absent (not_found()), not a directory, or
// not openable. Everything that fails below `start` goes to `errors` and the
// walk goes on.
Result<WalkResult> walk_tree(const RootFs &fs, std::string_view start,
                             const WalkOptions &options = {});

// A target path as people and JSON read it: valid UTF-8 is kept, a
// backslash becomes "\\", control characters and bytes that are not UTF-8
// become "\xNN", so a name with a newline cannot forge a second line.
std::string display_path(std::string_view path);

// "rwsr-xr-x"-style permission string of st_mode bits, with the type letter.
std::string mode_string(uint32_t mode);

} // namespace bulwark
