#include <bulwark/core/rootfs.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <deque>
#include <dirent.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <linux/openat2.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

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

Error sys_error(std::string_view what, std::string_view path, int err) {
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
  return fi;
}

bool has_glob_magic(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

} // namespace

bool Error::not_found() const {
  return sys_errno == ENOENT || sys_errno == ENOTDIR;
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

RootFs::RootFs(std::string host_root) {
  std::string norm = join("/", host_root);
  m_root = norm;
  m_prefix = norm == "/" ? "" : norm;
  int fd = ::open(m_root.c_str(), O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (fd >= 0)
    m_root_fd = std::shared_ptr<const int>(new int(fd), [](const int *p) {
      ::close(*p);
      delete p;
    });
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

Result<std::string> RootFs::resolve(std::string_view target_path, bool follow_last) const {
  std::deque<std::string> todo;
  for (auto &c : split_components(target_path))
    todo.push_back(std::move(c));
  std::vector<std::string> done;
  int links = 0;
  std::string host;
  auto host_of = [this](const std::vector<std::string> &parts) {
    std::string h = m_prefix;
    for (auto &p : parts)
      h += "/" + p;
    return h.empty() ? std::string("/") : h;
  };
  while (!todo.empty()) {
    std::string c = std::move(todo.front());
    todo.pop_front();
    if (c == ".")
      continue;
    if (c == "..") {
      if (!done.empty())
        done.pop_back();
      continue;
    }
    done.push_back(c);
    host = host_of(done);
    struct stat st;
    if (::lstat(host.c_str(), &st) != 0)
      return sys_error("cannot resolve", target_path, errno);
    if (!S_ISLNK(st.st_mode) || (todo.empty() && !follow_last))
      continue;
    if (++links > k_max_symlinks)
      return sys_error("cannot resolve", target_path, ELOOP);
    std::string link(4096, '\0');
    ssize_t n = ::readlink(host.c_str(), link.data(), link.size());
    if (n < 0)
      return sys_error("cannot read symlink", target_path, errno);
    link.resize(static_cast<size_t>(n));
    done.pop_back();
    if (!link.empty() && link[0] == '/')
      done.clear(); // absolute targets restart at the root, not the host's /
    auto comps = split_components(link);
    todo.insert(todo.begin(), comps.begin(), comps.end());
  }
  return host_of(done);
}

int RootFs::open_in_root(std::string_view target_path) const {
  if (!m_root_fd || *m_root_fd < 0)
    return -1;
  std::string rel(target_path);
  struct open_how how {};
  how.flags = O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY;
  how.resolve = RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS;
  long fd = ::syscall(SYS_openat2, *m_root_fd, rel.c_str(), &how, sizeof how);
  return fd < 0 ? -1 : static_cast<int>(fd);
}

Result<std::string> RootFs::read_file(std::string_view target_path, size_t max_bytes) const {
  // The kernel resolves inside the root in one call (openat2, Linux 5.6),
  // with the same rules as resolve() and a quarter of the time of walking the
  // path one lstat at a time. Whatever it refuses (an absent file, a magic
  // link, an old kernel, a seccomp filter) takes the walk, which also gives
  // the error its wording.
  int fd = open_in_root(target_path);
  if (fd < 0) {
    std::string host = TRY(resolve(target_path));
    // O_NONBLOCK: opening a FIFO must not wait for a writer. O_NOFOLLOW: the
    // last component was resolved above; a symlink swapped in since is refused.
    fd = ::open(host.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY);
    if (fd < 0)
      return sys_error("cannot open", target_path, errno);
  }
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return sys_error("cannot stat", target_path, err);
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
      return sys_error("cannot read", target_path, err);
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
  std::string host = TRY(resolve(target_path, follow));
  struct stat st;
  if (::lstat(host.c_str(), &st) != 0)
    return sys_error("cannot stat", target_path, errno);
  return to_info(st);
}

Result<FileInfo> RootFs::stat(std::string_view target_path) const {
  return stat_impl(target_path, true);
}

Result<FileInfo> RootFs::lstat(std::string_view target_path) const {
  return stat_impl(target_path, false);
}

bool RootFs::exists(std::string_view target_path) const {
  return resolve(target_path).ok();
}

Result<std::vector<std::string>> RootFs::list_dir(std::string_view target_dir) const {
  std::string host = TRY(resolve(target_dir));
  int fd = ::open(host.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return sys_error("cannot open directory", target_dir, errno);
  DIR *dir = ::fdopendir(fd);
  if (dir == nullptr) {
    int err = errno;
    ::close(fd);
    return sys_error("cannot open directory", target_dir, err);
  }
  std::vector<std::string> names;
  while (struct dirent *de = ::readdir(dir)) {
    std::string_view n = de->d_name;
    if (n == "." || n == "..")
      continue;
    names.emplace_back(n);
  }
  ::closedir(dir);
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
