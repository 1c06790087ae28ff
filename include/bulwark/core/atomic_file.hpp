#pragma once
// Writes that never lose data: a temporary file in the same directory,
// fsync, rename over the destination, fsync of the directory. A reader sees
// the old contents or the new, never a mix; a crash leaves the old file.

#include <bulwark/core/result.hpp>

#include <string>
#include <string_view>

namespace bulwark {

// REQUIRES: the directory of `host_path` exists. Keeps the mode of an
// existing destination, else 0644 (before umask). Writing to "-" or a
// character device (e.g. /dev/stdout, /dev/null) writes straight through.
Result<Unit> write_file_atomic(const std::string &host_path, std::string_view data);

// The same, for contents produced in pieces (a large report is written as
// it is rendered, not held whole in memory): open(), write() any number of
// times, commit(). Until commit() succeeds the destination keeps its old
// contents; a writer destroyed without commit() removes its temporary file.
// Devices, pipes and "-" (stdout) are written through as the pieces come.
class AtomicWriter {
public:
  AtomicWriter() = default;
  AtomicWriter(const AtomicWriter &) = delete;
  AtomicWriter &operator=(const AtomicWriter &) = delete;
  ~AtomicWriter();

  Result<Unit> open(const std::string &host_path);
  // After the first failure every later write() and commit() fails too.
  Result<Unit> write(std::string_view data);
  Result<Unit> commit();

private:
  void abandon();

  std::string m_path;
  std::string m_tmp; // "" when writing straight through
  std::string m_dir;
  int m_fd = -1;
  bool m_own_fd = false;
  int m_errno = 0; // the first write error
};

} // namespace bulwark
