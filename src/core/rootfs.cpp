#include <bulwark/core/rootfs.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <utility>

namespace bulwark {

namespace {

constexpr int k_max_symlinks = 40; // the kernel's MAXSYMLINKS

std::vector<std::string> split_components(std::string_view path) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < path.size()) {
    size_t j = path.find('/', i);
    if (j == std::string_view::npos)
      j = path.size();
    if (j > i)
      out.emplace_back(path.substr(i, j - i));
    i = j + 1;
  }
  return out;
}

Error rootfs_sys_error(std::string_view what, std::string_view path, int err) {
  Error e;
  e.message = std::string(what) + ": " + std::strerror(err);
  e.path = std::string(path);
  e.sys_errno = err;
  return e;
}

FileInfo to_info(const struct stat &st) {
  FileInfo fi;
  if (S_ISREG(st.st_mode))
    fi.type = FileInfo::Type::regular;
  else if (S_ISDIR(st.st_mode))
    fi.type = FileInfo::Type::directory;
  else if (S_ISLNK(st.st_mode))
    fi.type = FileInfo::Type::symlink;
  fi.mode = st.st_mode & 07777;
  fi.uid = st.st_uid;
  fi.gid = st.st_gid;
  fi.size = static_cast<uint64_t>(st.st_size);
  fi.mtime = st.st_mtime;
  fi.dev = static_cast<uint64_t>(st.st_dev);
  fi.ino = static_cast<uint64_t>(st.st_ino);
  return fi;
}

bool has_glob_magic(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

} // namespace

bool Error::not_found() const {
  // ENOTDIR is not absence: a file where a directory should be is a broken
  // system, and a check must say so rather than "not installed".
  return sys_errno == ENOENT;
}

std::string Error::to_string() const {
  std::string out;
  if (!path.empty()) {
    out += path;
    if (line > 0)
      out += ":" + std::to_string(line);
    out += ": ";
  }
  out += message;
  return out;
}

namespace {

// Where openat2 is missing (Linux < 5.6) or filtered (ENOSYS from seccomp),
// every later call takes the walk at once.
std::atomic<bool> g_no_openat2{false};

// openat2 gives EAGAIN or EXDEV when a rename or mount elsewhere raced its
// `..` handling; it is retried, and then the walk answers.
constexpr int k_openat2_attempts = 4;

// A path for openat2 and the walk: "" is the root, and trailing slashes go
// (the walk never gave them meaning: "link/" is not followed by lstat).
std::string in_root(std::string_view target_path) {
  while (target_path.size() > 1 && target_path.back() == '/')
    target_path.remove_suffix(1);
  return target_path.empty() ? std::string("/") : std::string(target_path);
}

int dup_fd(int fd) {
  return ::fcntl(fd, F_DUPFD_CLOEXEC, 0);
}

// A descriptor opened with openat2 from `root` inside it, or -1 with errno.
long open_in_root(int root, const std::string &path, int flags, uint64_t resolve) {
  struct open_how how {};
  how.flags = static_cast<uint64_t>(flags | O_CLOEXEC);
  how.resolve = resolve;
  return ::syscall(SYS_openat2, root, path.c_str(), &how, sizeof how);
}

} // namespace

// What walk() reached: the last component's own O_PATH descriptor, the
// directory it was found in, and the path the walk took.
struct RootFs::Walked {
  int parent = -1;    // the directory holding `name` (owned)
  int self = -1;      // O_PATH | O_NOFOLLOW descriptor of the last component (owned)
  mode_t mode = 0;    // its type, from fstat of `self`
  std::string name;   // the last component, "." for the root
  std::string target; // the resolved target path, "/" for the root

  Walked() = default;
  Walked(Walked &&o) noexcept
      : parent(std::exchange(o.parent, -1)), self(std::exchange(o.self, -1)), mode(o.mode),
        name(std::move(o.name)), target(std::move(o.target)) {}
  Walked &operator=(Walked &&) = delete;
  Walked(const Walked &) = delete;
  ~Walked() {
    if (parent >= 0)
      ::close(parent);
    if (self >= 0)
      ::close(self);
  }
};

RootFs::RootFs(std::string host_root) {
  // realpath(3) takes a relative root from the current directory and
  // collapses `..` after the symlinks before it, as the kernel would.
  if (char *real = ::realpath(host_root.c_str(), nullptr)) {
    m_root = real;
    std::free(real);
  } else {
    m_root_errno = errno;
    std::string cwd;
    if (host_root.empty() || host_root[0] != '/')
      if (char *c = ::getcwd(nullptr, 0)) {
        cwd = c;
        std::free(c);
      }
    m_root = join(cwd.empty() ? "/" : cwd, host_root); // for messages only
  }
  m_prefix = m_root == "/" ? "" : m_root;
  if (m_root_errno != 0)
    return;
  // The canonical path has no symlinks: one swapped in since realpath() is
  // refused, so the directory opened is the one the path names.
  long fd = g_no_openat2.load(std::memory_order_relaxed)
                ? -1
                : open_in_root(AT_FDCWD, m_root, O_PATH | O_DIRECTORY,
                               RESOLVE_NO_SYMLINKS | RESOLVE_NO_MAGICLINKS);
  if (fd < 0 &&
      (g_no_openat2.load(std::memory_order_relaxed) || errno == ENOSYS || errno == EPERM)) {
    if (errno == ENOSYS)
      g_no_openat2.store(true, std::memory_order_relaxed);
    fd = ::open(m_root.c_str(), O_PATH | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
  }
  if (fd < 0) {
    m_root_errno = errno;
    return;
  }
  m_root_fd = std::shared_ptr<const int>(new int(static_cast<int>(fd)), [](const int *p) {
    ::close(*p);
    delete p;
  });
}

void RootFs::set_openat2_for_testing(bool enabled) {
  g_no_openat2.store(!enabled, std::memory_order_relaxed);
}

Result<Unit> RootFs::root_status() const {
  if (m_root_fd)
    return Unit{};
  return Error{"cannot open the root directory " + m_root + ": " + std::strerror(m_root_errno), "",
               0, m_root_errno};
}

Error RootFs::root_error(std::string_view target_path) const {
  // Not the root's errno: an absent root must not make every file "absent".
  return Error{"cannot open the root directory " + m_root + ": " + std::strerror(m_root_errno),
               std::string(target_path), 0, EBADF};
}

std::string RootFs::join(std::string_view base, std::string_view path) {
  std::vector<std::string> parts;
  auto push = [&parts](std::string_view p) {
    for (auto &c : split_components(p)) {
      if (c == ".")
        continue;
      if (c == "..") {
        if (!parts.empty())
          parts.pop_back();
        continue;
      }
      parts.push_back(c);
    }
  };
  if (path.empty() || path[0] != '/')
    push(base);
  push(path);
  std::string out;
  for (auto &p : parts)
    out += "/" + p;
  return out.empty() ? "/" : out;
}

Result<RootFs::Walked> RootFs::walk(std::string_view target_path, bool follow_last) const {
  if (!m_root_fd)
    return root_error(target_path);
  const int root = *m_root_fd;
  std::deque<std::string> todo;
  for (auto &c : split_components(target_path))
    todo.push_back(std::move(c));
  // fds[i] is the O_PATH descriptor of done[i], opened from fds[i - 1] (or
  // the root) without following: each step looks at what it opened, never at
  // a name again.
  std::vector<int> fds;
  std::vector<std::string> done;
  std::vector<mode_t> modes;
  struct Closer {
    std::vector<int> &fds;
    ~Closer() {
      for (int f : fds)
        ::close(f);
    }
  } closer{fds};
  auto pop = [&] {
    ::close(fds.back());
    fds.pop_back();
    done.pop_back();
    modes.pop_back();
  };
  int links = 0;
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == "." || c == "..") {
      if (!modes.empty() && !S_ISDIR(modes.back()))
        return rootfs_sys_error("cannot open", target_path, ENOTDIR);
      if (c == ".." && !fds.empty())
        pop(); // at the root, `..` stays there
      continue;
    }
    int fd = ::openat(fds.empty() ? root : fds.back(), c.c_str(), O_PATH | O_NOFOLLOW | O_CLOEXEC);
    if (fd < 0)
      return rootfs_sys_error("cannot open", target_path, errno);
    struct stat st;
    if (::fstatat(fd, "", &st, AT_EMPTY_PATH) != 0) {
      int err = errno;
      ::close(fd);
      return rootfs_sys_error("cannot stat", target_path, err);
    }
    if (!S_ISLNK(st.st_mode) || (todo.empty() && !follow_last)) {
      fds.push_back(fd);
      done.push_back(std::move(c));
      modes.push_back(st.st_mode);
      continue;
    }
    if (++links > k_max_symlinks) {
      ::close(fd);
      return rootfs_sys_error("cannot open", target_path, ELOOP);
    }
    std::string link(4096, '\0');
    ssize_t n = ::readlinkat(fd, "", link.data(), link.size());
    int err = errno;
    ::close(fd);
    if (n < 0)
      return rootfs_sys_error("cannot read symlink", target_path, err);
    link.resize(static_cast<size_t>(n));
    if (!link.empty() && link[0] == '/')
      while (!fds.empty())
        pop(); // absolute targets restart at the root, not the host's /
    auto comps = split_components(link);
    todo.insert(todo.begin(), comps.begin(), comps.end());
  }
  Walked w;
  for (auto &d : done)
    w.target += "/" + d;
  if (done.empty()) {
    w.target = "/";
    w.name = ".";
    w.mode = S_IFDIR;
    w.self = dup_fd(root);
    w.parent = dup_fd(root);
  } else {
    w.name = done.back();
    w.mode = modes.back();
    w.self = fds.back();
    fds.pop_back();
    if (fds.empty()) {
      w.parent = dup_fd(root);
    } else {
      w.parent = fds.back();
      fds.pop_back();
    }
  }
  if (w.self < 0 || w.parent < 0)
    return rootfs_sys_error("cannot open", target_path, errno);
  return w;
}

Result<std::string> RootFs::resolve(std::string_view target_path, bool follow_last) const {
  Walked w = TRY(walk(target_path, follow_last));
  if (m_prefix.empty())
    return w.target;
  return w.target == "/" ? m_prefix : m_prefix + w.target;
}

Result<int> RootFs::open_at(std::string_view target_path, int flags, const char *what) const {
  if (!m_root_fd)
    return root_error(target_path);
  std::string path = in_root(target_path);
  // One openat2 call resolves the whole path inside the root with the same
  // rules as walk(), at a quarter of its cost.
  if (!g_no_openat2.load(std::memory_order_relaxed)) {
    for (int attempt = 0; attempt < k_openat2_attempts; ++attempt) {
      long fd = open_in_root(*m_root_fd, path, flags, RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS);
      if (fd >= 0)
        return static_cast<int>(fd);
      int err = errno;
      if (err == EAGAIN || err == EXDEV || err == EINTR)
        continue;
      if (err == ENOSYS)
        g_no_openat2.store(true, std::memory_order_relaxed);
      if (err == ENOSYS || err == EPERM)
        break; // a seccomp filter's refusal: the walk asks the file system
      return rootfs_sys_error(what, target_path, err);
    }
  }
  Walked w = TRY(walk(path, (flags & O_NOFOLLOW) == 0));
  if (flags & O_PATH)
    return std::exchange(w.self, -1);
  // A directory is reopened through its own descriptor; anything else by
  // name from its parent, refusing a symlink swapped in since the walk.
  int fd = S_ISDIR(w.mode) ? ::openat(w.self, ".", (flags & ~O_NOFOLLOW) | O_CLOEXEC)
                           : ::openat(w.parent, w.name.c_str(), flags | O_NOFOLLOW | O_CLOEXEC);
  if (fd < 0)
    return rootfs_sys_error(what, target_path, errno);
  return fd;
}

Result<RootFs::OpenedDir> RootFs::open_dir(std::string_view target_dir) const {
  Walked w = TRY(walk(target_dir, true));
  if (!S_ISDIR(w.mode))
    return rootfs_sys_error("cannot open directory", target_dir, ENOTDIR);
  int fd = ::openat(w.self, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOCTTY);
  if (fd < 0)
    return rootfs_sys_error("cannot open directory", target_dir, errno);
  return OpenedDir{fd, std::move(w.target)};
}

namespace {

// An overlay entry whose mode carries S_IFLNK is a symbolic link whose text
// is `content` (bulwark fix's enablement links, FileEdit::Kind::symlink).
bool overlay_link(const FsOverlayEntry &o) {
  return o.mode && (*o.mode & S_IFMT) == S_IFLNK && o.content;
}

// The target path such a link names (relative: from its directory). A link
// of the overlay onto another overlay link is not followed: the recipes
// link to unit files only, and a loop must not recurse.
std::string overlay_link_target(const FsOverlay *ov, std::string_view target_path,
                                const FsOverlayEntry &o) {
  std::string self = RootFs::join("/", target_path);
  std::string target = RootFs::join(self.substr(0, self.rfind('/') + 1), *o.content);
  if (ov != nullptr)
    if (auto it = ov->find(target); it != ov->end() && overlay_link(it->second))
      return "/nonexistent/overlay-link-to-link";
  return target;
}

} // namespace

const FsOverlayEntry *RootFs::overlaid(std::string_view target_path, bool follow) const {
  if (!m_overlay || m_overlay->empty())
    return nullptr;
  std::string norm = join("/", target_path);
  if (auto it = m_overlay->find(norm); it != m_overlay->end())
    return &it->second;
  // /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf: the overlay holds the
  // file the link resolves to.
  auto w = walk(norm, follow);
  if (!w)
    return nullptr;
  if (auto it = m_overlay->find(w->target); it != m_overlay->end())
    return &it->second;
  return nullptr;
}

bool RootFs::overlay_has_children(const std::string &target_dir) const {
  if (!m_overlay)
    return false;
  std::string prefix = target_dir == "/" ? "/" : target_dir + "/";
  for (auto it = m_overlay->lower_bound(prefix);
       it != m_overlay->end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it)
    if (!it->second.removed)
      return true;
  return false;
}

Result<std::string> RootFs::read_file(std::string_view target_path, size_t max_bytes) const {
  if (const FsOverlayEntry *o = overlaid(target_path, true)) {
    if (o->removed)
      return rootfs_sys_error("cannot open", target_path, ENOENT);
    if (overlay_link(*o))
      return read_file(overlay_link_target(m_overlay.get(), target_path, *o), max_bytes);
    if (o->content) {
      if (o->content->size() > max_bytes)
        return Error{"file is larger than the " + std::to_string(max_bytes) + "-byte limit",
                     std::string(target_path), 0, EFBIG};
      return *o->content;
    }
  }
  // O_NONBLOCK: opening a FIFO must not wait for a writer.
  int fd = TRY(open_at(target_path, O_RDONLY | O_NONBLOCK | O_NOCTTY, "cannot open"));
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return rootfs_sys_error("cannot stat", target_path, err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    Error e{S_ISDIR(st.st_mode) ? "is a directory, not a file" : "is not a regular file",
            std::string(target_path), 0, S_ISDIR(st.st_mode) ? EISDIR : EINVAL};
    return e;
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return Error{"file is larger than the " + std::to_string(max_bytes) + "-byte limit",
                 std::string(target_path), 0, EFBIG};
  }
  std::string data;
  data.resize(static_cast<size_t>(st.st_size));
  size_t got = 0;
  char probe[16384];
  for (;;) {
    // Once the size fstat gave is read, the file may have grown: read on into
    // a small buffer (growing the string first would zero-fill it on every
    // call, a tenth of the time of loading many small files).
    bool past_size = got == data.size();
    if (past_size && data.size() >= max_bytes + 1)
      break;
    ssize_t n = past_size ? ::read(fd, probe, sizeof probe)
                          : ::read(fd, data.data() + got, data.size() - got);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = errno;
      ::close(fd);
      return rootfs_sys_error("cannot read", target_path, err);
    }
    if (n == 0)
      break;
    if (past_size)
      data.append(probe, static_cast<size_t>(n));
    got += static_cast<size_t>(n);
  }
  ::close(fd);
  if (got > max_bytes)
    return Error{"file is larger than the " + std::to_string(max_bytes) + "-byte limit",
                 std::string(target_path), 0, EFBIG};
  data.resize(got);
  return data;
}

Result<FileInfo> RootFs::stat_impl(std::string_view target_path, bool follow) const {
  if (m_overlay && !m_overlay->empty()) {
    const FsOverlayEntry *o = overlaid(target_path, follow);
    if (o != nullptr && o->removed)
      return rootfs_sys_error("cannot stat", target_path, ENOENT);
    if (o != nullptr && overlay_link(*o)) {
      if (follow)
        return stat_impl(overlay_link_target(m_overlay.get(), target_path, *o), true);
      FileInfo link;
      link.type = FileInfo::Type::symlink;
      link.mode = 0777;
      link.size = o->content->size();
      return link;
    }
    auto disk = stat_disk(target_path, follow);
    if (o == nullptr) {
      if (!disk && disk.error().not_found() && overlay_has_children(join("/", target_path))) {
        FileInfo dir;
        dir.type = FileInfo::Type::directory;
        dir.mode = 0755;
        return dir;
      }
      return disk;
    }
    FileInfo info;
    if (disk)
      info = *disk;
    else if (!disk.error().not_found() || !o->content)
      return disk;
    else {
      info.type = FileInfo::Type::regular;
      info.mode = 0644;
    }
    if (o->content)
      info.size = o->content->size();
    if (o->mode)
      info.mode = *o->mode;
    if (o->uid)
      info.uid = *o->uid;
    if (o->gid)
      info.gid = *o->gid;
    return info;
  }
  return stat_disk(target_path, follow);
}

Result<FileInfo> RootFs::stat_disk(std::string_view target_path, bool follow) const {
  // O_PATH opens nothing (a FIFO does not block, a device is not touched);
  // with O_NOFOLLOW it names a final symlink itself.
  int fd = TRY(open_at(target_path, O_PATH | (follow ? 0 : O_NOFOLLOW), "cannot stat"));
  struct stat st;
  int rc = ::fstatat(fd, "", &st, AT_EMPTY_PATH);
  int err = errno;
  ::close(fd);
  if (rc != 0)
    return rootfs_sys_error("cannot stat", target_path, err);
  return to_info(st);
}

Result<FileInfo> RootFs::stat(std::string_view target_path) const {
  return stat_impl(target_path, true);
}

Result<FileInfo> RootFs::lstat(std::string_view target_path) const {
  return stat_impl(target_path, false);
}

Result<std::string> RootFs::read_link(std::string_view target_path) const {
  if (m_overlay && !m_overlay->empty())
    if (auto it = m_overlay->find(join("/", target_path)); it != m_overlay->end()) {
      if (it->second.removed)
        return rootfs_sys_error("cannot open", target_path, ENOENT);
      if (overlay_link(it->second))
        return *it->second.content;
      if (it->second.content)
        return Error{"is not a symbolic link", std::string(target_path), 0, EINVAL};
    }
  // An O_PATH|O_NOFOLLOW descriptor of the link itself, opened inside the
  // root as every other access is (openat2, else the descriptor walk; never
  // a host path string), then readlinkat(fd, "").
  int fd = TRY(open_at(target_path, O_PATH | O_NOFOLLOW, "cannot open"));
  // readlinkat(fd, "") on anything but a link says ENOENT: ask first.
  struct stat st;
  if (::fstatat(fd, "", &st, AT_EMPTY_PATH) != 0) {
    int err = errno;
    ::close(fd);
    return rootfs_sys_error("cannot stat", target_path, err);
  }
  if (!S_ISLNK(st.st_mode)) {
    ::close(fd);
    return Error{"is not a symbolic link", std::string(target_path), 0, EINVAL};
  }
  std::string buf(4096, '\0');
  ssize_t n = ::readlinkat(fd, "", buf.data(), buf.size());
  int err = errno;
  ::close(fd);
  if (n < 0)
    return rootfs_sys_error("cannot read symlink", target_path, err);
  if (static_cast<size_t>(n) >= buf.size())
    return rootfs_sys_error("cannot read symlink", target_path, ENAMETOOLONG);
  buf.resize(static_cast<size_t>(n));
  return buf;
}

bool RootFs::exists(std::string_view target_path) const {
  return stat_impl(target_path, true).ok();
}

Result<std::vector<std::string>> RootFs::list_dir(std::string_view target_dir) const {
  if (!m_overlay || m_overlay->empty())
    return list_disk(target_dir);
  std::string dir = join("/", target_dir);
  auto disk = list_disk(dir);
  if (!disk && !(disk.error().not_found() && overlay_has_children(dir)))
    return disk;
  std::vector<std::string> names = disk ? std::move(*disk) : std::vector<std::string>{};
  std::string prefix = dir == "/" ? "/" : dir + "/";
  for (auto it = m_overlay->lower_bound(prefix);
       it != m_overlay->end() && it->first.compare(0, prefix.size(), prefix) == 0; ++it) {
    std::string rest = it->first.substr(prefix.size());
    std::string name = rest.substr(0, rest.find('/'));
    bool direct = name.size() == rest.size();
    auto pos = std::lower_bound(names.begin(), names.end(), name);
    bool present = pos != names.end() && *pos == name;
    if (direct && it->second.removed) {
      if (present)
        names.erase(pos);
    } else if (!present && !it->second.removed) {
      names.insert(pos, name);
    }
  }
  return names;
}

Result<std::vector<std::string>> RootFs::list_disk(std::string_view target_dir) const {
  int fd = TRY(open_at(target_dir, O_RDONLY | O_DIRECTORY | O_NOCTTY, "cannot open directory"));
  DIR *dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return rootfs_sys_error("cannot open directory", target_dir, err);
  }
  std::vector<std::string> names;
  errno = 0;
  while (struct dirent *de = ::readdir(dir)) {
    std::string_view n = de->d_name;
    if (n != "." && n != "..")
      names.emplace_back(n);
    errno = 0;
  }
  int err = errno;
  ::closedir(dir);
  if (err != 0)
    return rootfs_sys_error("cannot read directory", target_dir, err);
  std::sort(names.begin(), names.end());
  return names;
}

Result<std::vector<std::string>> RootFs::glob(std::string_view pattern) const {
  std::string norm = join("/", pattern);
  std::vector<std::string> current{"/"};
  auto comps = split_components(norm);
  for (size_t i = 0; i < comps.size(); ++i) {
    const std::string &comp = comps[i];
    std::vector<std::string> next;
    for (const auto &dir : current) {
      std::string prefix = dir == "/" ? "" : dir;
      if (!has_glob_magic(comp)) {
        std::string p = prefix + "/" + comp;
        // As glob(3), a name that is there matches even when it cannot be
        // resolved (a link loop, no permission): the caller's read then
        // fails with the reason, instead of the file silently not existing.
        // A dangling link is still no match.
        if (exists(p))
          next.push_back(p);
        else if (auto st = stat(p); !st && !st.error().not_found() && lstat(p))
          next.push_back(p);
        continue;
      }
      auto names = list_dir(dir);
      if (!names)
        continue; // like glob(3) without GLOB_ERR: unreadable dirs match nothing
      for (const auto &n : *names) {
        // A leading '.' must be matched explicitly, as in glob(3).
        if (::fnmatch(comp.c_str(), n.c_str(), FNM_PERIOD) == 0)
          next.push_back(prefix + "/" + n);
      }
    }
    current = std::move(next);
    if (current.empty())
      break;
  }
  if (comps.empty())
    return current;
  std::sort(current.begin(), current.end());
  return current;
}

} // namespace bulwark
