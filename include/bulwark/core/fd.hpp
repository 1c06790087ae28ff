#pragma once
// Owned file descriptors: closed by their owner, never twice.

#include <memory>
#include <string>
#include <unistd.h>

namespace bulwark {

// A descriptor closed when its owner goes, or at reset(); -1 owns nothing.
struct UniqueFd {
  int fd = -1;
  UniqueFd() = default;
  explicit UniqueFd(int f) : fd(f) {}
  UniqueFd(const UniqueFd &) = delete;
  UniqueFd &operator=(const UniqueFd &) = delete;
  ~UniqueFd() { reset(); }
  void reset() {
    if (fd >= 0)
      ::close(fd);
    fd = -1;
  }
};

// A directory open for the *at() calls of a parallel tree walk, with the
// target path it was opened as. The tasks that list it or stat its entries
// share it (OpenDirPtr); the last one closes it.
struct OpenDir {
  int fd;
  std::string path;
  OpenDir(int f, std::string p) : fd(f), path(std::move(p)) {}
  ~OpenDir() { ::close(fd); }
  OpenDir(const OpenDir &) = delete;
  OpenDir &operator=(const OpenDir &) = delete;
};
using OpenDirPtr = std::shared_ptr<const OpenDir>;

} // namespace bulwark
