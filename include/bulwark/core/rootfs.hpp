#pragma once
// RootFs: the only way bulwark reads the audited system.
//
// Every path given to RootFs is a path *inside the target* (absolute, as the
// audited system would see it). Resolution walks the path one component at a
// time, the way the kernel's openat2(RESOLVE_IN_ROOT) does: a symlink's target
// is re-interpreted inside the root (absolute targets restart at the root,
// `..` never climbs above it), with at most 40 symlinks followed. So a hostile
// image whose /etc/ssh/sshd_config points at /etc/shadow reads the image's
// /etc/shadow, never the host's. Reads refuse anything but regular files
// (a FIFO would hang, a device would never end) and cap the size.

#include <bulwark/core/result.hpp>

#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct FileInfo {
  enum class Type { regular, directory, symlink, other };
  Type type = Type::other;
  uint32_t mode = 0; // permission bits incl. setuid/setgid/sticky (07777)
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t size = 0;
  int64_t mtime = 0; // seconds since the epoch
  uint64_t dev = 0;  // st_dev and st_ino: whether two paths name one file
  uint64_t ino = 0;
};

class RootFs {
public:
  static constexpr size_t k_default_max_read = 64 * 1024 * 1024;

  // REQUIRES: host_root is an existing directory on the host ("/" for live).
  explicit RootFs(std::string host_root);

  const std::string &host_root() const { return m_root; }
  bool is_host_root() const { return m_prefix.empty(); }

  // Normalises a target path lexically ("a/../b" -> "/b"), rooted at "/".
  // Relative paths are taken relative to `base` (a target directory).
  static std::string join(std::string_view base, std::string_view path);

  // The host path that `target_path` designates, following symlinks inside
  // the root. With follow_last=false the final component is not followed.
  // Errors: ENOENT/ENOTDIR when absent, ELOOP after 40 symlinks.
  Result<std::string> resolve(std::string_view target_path, bool follow_last = true) const;

  // Contents of a regular file. Errors name the target path.
  Result<std::string> read_file(std::string_view target_path,
                                size_t max_bytes = k_default_max_read) const;

  Result<FileInfo> stat(std::string_view target_path) const;  // follows
  Result<FileInfo> lstat(std::string_view target_path) const; // does not

  // The text of the symbolic link at target_path, as readlink(2) gives it:
  // the last component is not followed, the directories before it are
  // resolved inside the root. Errors: not_found() when absent, EINVAL when
  // the path is not a symbolic link, ENAMETOOLONG beyond 4095 bytes.
  Result<std::string> read_link(std::string_view target_path) const;

  // Entry names of a directory, sorted bytewise, without "." and "..".
  Result<std::vector<std::string>> list_dir(std::string_view target_dir) const;

  // Target paths matching a glob (*, ?, [..] within one component), sorted
  // bytewise like glob(3) in the C locale. No match is an empty list.
  Result<std::vector<std::string>> glob(std::string_view pattern) const;

  bool exists(std::string_view target_path) const;

private:
  Result<FileInfo> stat_impl(std::string_view target_path, bool follow) const;
  // A descriptor for target_path opened by openat2(RESOLVE_IN_ROOT), or -1.
  int open_in_root(std::string_view target_path) const;

  std::string m_root;                   // normalised host path of the root
  std::string m_prefix;                 // m_root without trailing slash, "" for "/"
  std::shared_ptr<const int> m_root_fd; // O_PATH descriptor of the root, shared by copies
};

} // namespace bulwark
