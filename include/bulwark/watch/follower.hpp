#pragma once
// Following log files live, the way `tail -F` should: every line once, across
// the three rotations logrotate performs (Debian 12's logrotate 3.21):
//  - rename (the default `create`): the old inode is drained to its end, also
//    of lines written after the rename until the writer reopens; the new file
//    is read from its start;
//  - copytruncate: the file shrinks under us; reading restarts at 0;
//  - delete and recreate: like rename, the open descriptor is drained first.
// The read position (device, inode, offset, a hash of the first line) is
// saved atomically; at start a file with the same inode and first line
// resumes at the offset, a file rotated while we were down is found again by
// its inode in the same directory and finished before the new one.
// These are live files of the running host: read with open(2), not RootFs.

#include <bulwark/core/result.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::watch {

struct FilePosition {
  std::string path;
  uint64_t dev = 0;
  uint64_t inode = 0;
  uint64_t offset = 0;    // of the first byte not yet delivered as a line
  uint64_t head_hash = 0; // FNV-1a of the first line (up to 4 KiB), 0 if none yet
};

// Serialises positions as JSON, and back (unknown or malformed entries are
// dropped: a position is an optimisation, never a reason not to start).
std::string positions_to_json(const std::vector<FilePosition> &p);
std::vector<FilePosition> positions_from_json(std::string_view text);

class Follower {
public:
  using LineFn = std::function<void(std::string_view line)>;

  // `saved`: positions from a previous run (may be empty). A file without a
  // saved position is read from its end (live history is not replayed), or
  // from its start when `from_start`.
  Follower(const std::vector<std::string> &paths, const std::vector<FilePosition> &saved,
           size_t max_line, bool from_start = false);
  ~Follower();
  Follower(const Follower &) = delete;
  Follower &operator=(const Follower &) = delete;

  // Reads everything new in every file and calls `line` for each complete
  // line. Non-blocking; returns the number of lines delivered.
  size_t poll(const LineFn &line);
  // Inside poll's callback: the configured path of the file the line comes
  // from (its rotated predecessor included), so that a line reaches only the
  // jails that read that file.
  std::string_view current() const { return m_current; }
  // Positions to persist: only whole lines count as read.
  std::vector<FilePosition> positions() const;

  // An inotify descriptor that becomes readable when a followed file or its
  // directory changes (-1 if inotify is unavailable: poll on a timer then).
  int wait_fd() const { return m_inotify; }
  // Drains pending inotify events (call when wait_fd() is readable).
  void drain_events();
  uint64_t lines_too_long() const { return m_too_long; }

private:
  struct File;
  void open_current(File &f, bool at_end);
  size_t read_fd(int fd, uint64_t &offset, uint64_t &pos, std::string &partial, bool &skipping,
                 const LineFn &line);
  void add_watches();

  std::vector<std::unique_ptr<File>> m_files;
  size_t m_max_line;
  int m_inotify = -1;
  uint64_t m_too_long = 0;
  std::string_view m_current;
};

} // namespace bulwark::watch
