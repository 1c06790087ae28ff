#pragma once
// RootFs: the only way bulwark reads the audited system.
//
// Every path given to RootFs is a path *inside the target* (absolute, as the
// audited system would see it). A symlink's target is re-interpreted inside
// the root (absolute targets restart at the root, `..` never climbs above
// it), with at most 40 symlinks followed. So a hostile image whose
// /etc/ssh/sshd_config points at /etc/shadow reads the image's /etc/shadow,
// never the host's. Reads refuse anything but regular files (a FIFO would
// hang, a device would never end) and cap the size.
//
// The root is opened once, and nothing is then looked up by a host path
// string: every access is openat2(RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS)
// from the root's descriptor, or (a kernel or seccomp filter without
// openat2) a walk holding a descriptor per component, opened O_PATH |
// O_NOFOLLOW from its parent's. The target may change while it is read (a
// directory exchanged for a symlink in a loop) and still nothing outside the
// root is reached. /proc-style magic links (/proc/self/root) are refused
// (ELOOP), never followed.
//
// Errors: sys_errno ENOENT (Error::not_found()) only when the thing is
// absent; ENOTDIR (a file where a directory should be), EACCES, ELOOP are
// errors of their own, which callers report as such.

#include <bulwark/core/result.hpp>

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
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

// Files as a plan would leave them, seen through a RootFs without touching
// the disk (bulwark fix re-audits a root with its plan applied). Keys are
// absolute target paths, symlinks already resolved inside the root.
struct FsOverlayEntry {
  bool removed = false;               // the file is gone
  std::optional<std::string> content; // new content; nullopt keeps the file's
  std::optional<uint32_t> mode;       // permission bits; nullopt keeps them
  std::optional<uint32_t> uid;
  std::optional<uint32_t> gid;
};
using FsOverlay = std::map<std::string, FsOverlayEntry>;

class RootFs {
public:
  static constexpr size_t k_default_max_read = 64 * 1024 * 1024;

  // Opens host_root: a relative path is taken from the current directory,
  // then canonicalised with realpath(3), and the directory opened is the one
  // that canonical path names (a symlink swapped into it since is refused).
  // A root that cannot be opened as a directory makes every access an error
  // (never "absent"); root_status() says why.
  explicit RootFs(std::string host_root);

  // The canonical host path of the root ("/" for this host).
  const std::string &host_root() const { return m_root; }
  bool is_host_root() const { return m_prefix.empty(); }
  // Ok when the root is open; otherwise the reason, naming the root.
  Result<Unit> root_status() const;

  // Normalises a target path lexically ("a/../b" -> "/b"), rooted at "/".
  // Relative paths are taken relative to `base` (a target directory).
  static std::string join(std::string_view base, std::string_view path);

  // The host path that `target_path` designates, following symlinks inside
  // the root. With follow_last=false the final component is not followed.
  // Errors: ENOENT when absent, ENOTDIR, EACCES, ELOOP after 40 symlinks.
  // The string is for display and for code that has not moved to
  // descriptors yet; opening it again races with the target.
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

  // A directory opened for reading (O_RDONLY | O_DIRECTORY) inside the root,
  // and the target path it was reached by, symlinks resolved ("/" for the
  // root). The caller owns `fd`. Used by the tree walk for its start.
  struct OpenedDir {
    int fd = -1;
    std::string target;
  };
  Result<OpenedDir> open_dir(std::string_view target_dir) const;

  // Reads see `overlay` over the root: read_file, stat, lstat, exists,
  // list_dir and glob answer for an overlaid path (reached lexically or
  // through symlinks inside the root) as if the plan were applied; a
  // directory that only the overlay's files are in exists. open_dir and the
  // tree walk still see the disk. Nothing is written; the no-escape
  // guarantees are unchanged (the overlay only replaces answers).
  void set_overlay(std::shared_ptr<const FsOverlay> overlay) { m_overlay = std::move(overlay); }
  const std::shared_ptr<const FsOverlay> &overlay() const { return m_overlay; }

  // Tests only: take the descriptor walk instead of openat2, as on a kernel
  // without it. Process-wide.
  static void set_openat2_for_testing(bool enabled);

private:
  struct Walked;
  Result<FileInfo> stat_impl(std::string_view target_path, bool follow) const;
  Result<FileInfo> stat_disk(std::string_view target_path, bool follow) const;
  Result<std::vector<std::string>> list_disk(std::string_view target_dir) const;
  // A descriptor for target_path opened with `flags`, resolved inside the
  // root (openat2, else walk()); `what` words the error ("cannot open").
  Result<int> open_at(std::string_view target_path, int flags, const char *what) const;
  // Resolves target_path one component at a time on held descriptors.
  Result<Walked> walk(std::string_view target_path, bool follow_last) const;
  Error root_error(std::string_view target_path) const;
  // The overlay's entry for target_path (lexically, else after resolving
  // symlinks inside the root when `follow`), or nullptr.
  const FsOverlayEntry *overlaid(std::string_view target_path, bool follow) const;
  // Does the overlay hold a file below the directory target_dir?
  bool overlay_has_children(const std::string &target_dir) const;

  std::string m_root;                         // canonical host path of the root
  std::string m_prefix;                       // m_root without trailing slash, "" for "/"
  std::shared_ptr<const int> m_root_fd;       // O_PATH descriptor of the root, shared by copies
  int m_root_errno = 0;                       // why the root could not be opened
  std::shared_ptr<const FsOverlay> m_overlay; // set_overlay(); null: the disk alone
};

} // namespace bulwark
