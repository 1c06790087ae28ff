// The tree walk (see walk.hpp). Cost model, measured against find(1): every
// entry but a symlink costs one fstatat (the mode is what the fs checks
// judge), every directory one openat + fstat + getdents64 until empty; d_type
// spares the stat of symlinks and tells directories apart without one. Work
// is a LIFO stack shared by a few threads: a directory task holds its
// parent's fd only until it has opened itself, so the fds in use stay near
// threads x depth rather than the tree's width, and a directory with very
// many entries is cut into batches of names that other threads stat.

#include <bulwark/core/walk.hpp>

#include <bulwark/core/fd.hpp>
#include <bulwark/core/text.hpp>

#include <algorithm>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <memory>
#include <mutex>
#include <sys/stat.h>
#include <system_error>
#include <thread>
#include <unistd.h>
#include <unordered_set>

namespace bulwark {

namespace {

constexpr size_t k_walk_stat_batch = 1024;    // names per stat batch
constexpr size_t k_dirent_buffer = 128 << 10; // bytes per getdents64 call
constexpr unsigned k_walk_max_threads = 8;

// Open the directory `name` of `parent`, list it, stat its entries.
// Or, when `names` is not empty, stat that batch of `parent`'s entries
// (NUL-separated).
struct WalkTask {
  OpenDirPtr parent;
  std::string name;
  std::string names;
};

struct WalkOutput {
  std::vector<WalkEntry> kept;
  std::vector<Error> errors;
  std::vector<std::string> boundaries;
  uint64_t directories = 0;
  uint64_t others = 0;
};

Error walk_sys_error(std::string what, std::string path, int err) {
  return Error{std::move(what) + ": " + std::strerror(err), std::move(path), 0, err};
}

class TreeWalker {
public:
  TreeWalker(const WalkOptions &o, dev_t root_dev, bool one_fs)
      : m_opt(o), m_root_dev(root_dev), m_one_fs(one_fs), m_prune(o.prune.begin(), o.prune.end()) {}

  // Lists `root` on this thread while the pool starts, then joins the pool.
  void run(OpenDirPtr root, unsigned threads, std::vector<WalkOutput> &outs) {
    outs.resize(threads);
    m_active = 1; // the root's listing: keeps early workers from leaving
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) {
      try {
        pool.emplace_back([this, &outs, i] { work(outs[i]); });
      } catch (const std::system_error &) {
        break; // out of threads: the walk goes on with those it has
      }
    }
    {
      std::vector<char> buf(k_dirent_buffer);
      read_dir(root, outs[0], buf);
    }
    root.reset();
    {
      std::lock_guard lock(m_mu);
      --m_active;
      if (m_waiting > 0)
        m_cv.notify_all();
    }
    work(outs[0]);
    for (auto &t : pool)
      t.join();
  }

private:
  void work(WalkOutput &out) {
    std::vector<char> buf(k_dirent_buffer);
    std::unique_lock lock(m_mu);
    for (;;) {
      while (m_stack.empty() && m_active > 0) {
        ++m_waiting;
        m_cv.wait(lock);
        --m_waiting;
      }
      if (m_stack.empty()) {
        m_cv.notify_all();
        return;
      }
      WalkTask t = std::move(m_stack.back());
      m_stack.pop_back();
      ++m_active;
      lock.unlock();
      if (t.names.empty())
        list_dir(t, out, buf);
      else
        stat_batch(t.parent, t.names, out);
      t = WalkTask{};
      lock.lock();
      --m_active;
      if (m_active == 0 && m_stack.empty() && m_waiting > 0)
        m_cv.notify_all();
    }
  }

  void push(WalkTask t) {
    std::lock_guard lock(m_mu);
    m_stack.push_back(std::move(t));
    if (m_waiting > 0)
      m_cv.notify_one();
  }

  void record(WalkOutput &out, std::string_view dir, std::string_view name, const struct stat &st) {
    if (S_ISDIR(st.st_mode))
      ++out.directories;
    else
      ++out.others;
    bool by_owner =
        m_opt.keep_owner && !S_ISLNK(st.st_mode) && m_opt.keep_owner(st.st_uid, st.st_gid);
    if (!by_owner && m_opt.keep && !m_opt.keep(dir, name, st.st_mode))
      return;
    out.kept.push_back(WalkEntry{text::child_path(dir, name), st.st_mode, st.st_uid, st.st_gid,
                                 static_cast<uint64_t>(st.st_size)});
  }

  void record_symlink(WalkOutput &out, std::string_view dir, std::string_view name) {
    struct stat st {};
    st.st_mode = S_IFLNK | 0777;
    record(out, dir, name, st);
  }

  bool pruned(const std::string &path) const { return m_prune.count(path) != 0; }

  // A directory found in `parent`: prune it, or queue it.
  void directory(const OpenDirPtr &parent, std::string_view name, WalkOutput &out,
                 const struct stat *known) {
    if (!m_prune.empty()) {
      std::string path = text::child_path(parent->path, name);
      if (pruned(path)) {
        struct stat st;
        if (known)
          st = *known;
        else if (::fstatat(parent->fd, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
          out.errors.push_back(walk_sys_error("cannot stat", path, errno));
          return;
        }
        record(out, parent->path, name, st);
        out.boundaries.push_back(std::move(path));
        return;
      }
    }
    push(WalkTask{parent, std::string(name), {}});
  }

  void list_dir(const WalkTask &t, WalkOutput &out, std::vector<char> &buf) {
    const OpenDir &parent = *t.parent;
    std::string path = text::child_path(parent.path, t.name);
    int fd = ::openat(parent.fd, t.name.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      int err = errno;
      struct stat st;
      if (err == ENOENT)
        return; // removed since it was listed
      if (::fstatat(parent.fd, t.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0) {
        if (!S_ISDIR(st.st_mode)) { // replaced since it was listed
          if (S_ISLNK(st.st_mode))
            record_symlink(out, parent.path, t.name);
          else
            record(out, parent.path, t.name, st);
          return;
        }
        record(out, parent.path, t.name, st);
      }
      out.errors.push_back(walk_sys_error("cannot open directory", path, err));
      return;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      out.errors.push_back(walk_sys_error("cannot stat", path, errno));
      ::close(fd);
      return;
    }
    record(out, parent.path, t.name, st);
    if (m_one_fs && st.st_dev != m_root_dev) {
      ::close(fd); // a mount point: listed, not entered (find -xdev)
      out.boundaries.push_back(std::move(path));
      return;
    }
    read_dir(std::make_shared<const OpenDir>(fd, std::move(path)), out, buf);
  }

  void read_dir(const OpenDirPtr &dir, WalkOutput &out, std::vector<char> &buf) {
    std::string batch;
    size_t in_batch = 0;
    for (;;) {
      ssize_t n = ::getdents64(dir->fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR)
          continue;
        out.errors.push_back(walk_sys_error("cannot read directory", dir->path, errno));
        break;
      }
      if (n == 0)
        break;
      for (ssize_t off = 0; off < n;) {
        auto *de = reinterpret_cast<const struct dirent64 *>(buf.data() + off);
        off += de->d_reclen;
        std::string_view name = de->d_name;
        if (name == "." || name == "..")
          continue;
        if (de->d_type == DT_DIR) {
          directory(dir, name, out, nullptr);
        } else if (de->d_type == DT_LNK) {
          record_symlink(out, dir->path, name);
        } else {
          batch.append(name);
          batch.push_back('\0');
          if (++in_batch == k_walk_stat_batch) {
            push(WalkTask{dir, {}, std::move(batch)});
            batch.clear();
            in_batch = 0;
          }
        }
      }
    }
    if (!batch.empty())
      stat_batch(dir, batch, out);
  }

  void stat_batch(const OpenDirPtr &dir, std::string_view names, WalkOutput &out) {
    while (!names.empty()) {
      size_t end = names.find('\0');
      const char *name = names.data();
      std::string_view nv = names.substr(0, end);
      names.remove_prefix(end + 1);
      struct stat st;
      if (::fstatat(dir->fd, name, &st, AT_SYMLINK_NOFOLLOW) != 0) {
        if (errno != ENOENT) // ENOENT: removed since it was listed
          out.errors.push_back(
              walk_sys_error("cannot stat", text::child_path(dir->path, nv), errno));
        continue;
      }
      if (S_ISDIR(st.st_mode)) // d_type was DT_UNKNOWN, or a race
        directory(dir, nv, out, &st);
      else
        record(out, dir->path, nv, st);
    }
  }

  const WalkOptions &m_opt;
  dev_t m_root_dev;
  bool m_one_fs;
  std::unordered_set<std::string> m_prune;

  std::mutex m_mu;
  std::condition_variable m_cv;
  std::vector<WalkTask> m_stack;
  unsigned m_active = 0;
  unsigned m_waiting = 0;
};

bool utf8_continuation(unsigned char c) {
  return (c & 0xC0) == 0x80;
}

// Length of the valid UTF-8 sequence at s[i], 0 if it is not one (RFC 3629:
// no overlongs, no surrogates, nothing above U+10FFFF).
size_t utf8_sequence(std::string_view s, size_t i) {
  auto at = [&](size_t k) { return static_cast<unsigned char>(s[k]); };
  unsigned char c = at(i);
  size_t len = c >= 0xC2 && c <= 0xDF   ? 2
               : c >= 0xE0 && c <= 0xEF ? 3
               : c >= 0xF0 && c <= 0xF4 ? 4
                                        : 0;
  if (len == 0 || i + len > s.size())
    return 0;
  for (size_t k = 1; k < len; ++k)
    if (!utf8_continuation(at(i + k)))
      return 0;
  unsigned char c1 = at(i + 1);
  if ((c == 0xE0 && c1 < 0xA0) || (c == 0xED && c1 > 0x9F) || (c == 0xF0 && c1 < 0x90) ||
      (c == 0xF4 && c1 > 0x8F))
    return 0;
  if (c == 0xC2 && c1 <= 0x9F) // C1 controls (U+0080..U+009F): CSI and friends
    return 0;
  return len;
}

} // namespace

Result<WalkResult> walk_tree(const RootFs &fs, std::string_view start, const WalkOptions &options) {
  std::string norm = RootFs::join("/", start);
  // The start is opened through descriptors inside the root, with the
  // target path it resolved to (symlinks followed inside the root).
  RootFs::OpenedDir start_dir = TRY(fs.open_dir(norm));
  int fd = start_dir.fd;
  std::string target = std::move(start_dir.target);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return walk_sys_error("cannot stat", norm, err);
  }

  bool one_fs = options.one_file_system.value_or(fs.is_host_root());
  unsigned threads = options.threads ? options.threads : std::thread::hardware_concurrency();
  threads = std::clamp(threads, 1u, k_walk_max_threads);

  TreeWalker walker(options, st.st_dev, one_fs);
  std::vector<WalkOutput> outs(1);
  // The start itself is listed, as find lists its starting point; for "/"
  // the keep function sees dir "" and name "".
  {
    std::string_view t = target;
    size_t slash = t.rfind('/');
    std::string_view dir = t == "/" ? "" : slash == 0 ? "/" : t.substr(0, slash);
    std::string_view name = t == "/" ? "" : t.substr(slash + 1);
    ++outs[0].directories;
    if (!options.keep || options.keep(dir, name, st.st_mode) ||
        (options.keep_owner && options.keep_owner(st.st_uid, st.st_gid)))
      outs[0].kept.push_back(
          WalkEntry{target, st.st_mode, st.st_uid, st.st_gid, static_cast<uint64_t>(st.st_size)});
  }
  walker.run(std::make_shared<const OpenDir>(fd, target), threads, outs);

  WalkResult r;
  r.start = target;
  size_t total = 0;
  for (auto &o : outs)
    total += o.kept.size();
  r.entries.reserve(total);
  for (auto &o : outs) {
    std::move(o.kept.begin(), o.kept.end(), std::back_inserter(r.entries));
    std::move(o.errors.begin(), o.errors.end(), std::back_inserter(r.errors));
    std::move(o.boundaries.begin(), o.boundaries.end(), std::back_inserter(r.boundaries));
    r.directories += o.directories;
    r.others += o.others;
  }
  // bulwark fix's re-audit reads the root with the plan overlaid: planned
  // modes and owners replace those on disk, and an entry they take out of
  // the kept set (o-w cleared, an owner given) is dropped. Files the plan
  // creates are not walked: the walk judges what is on disk.
  if (const auto &ov = fs.overlay(); ov && !ov->empty())
    std::erase_if(r.entries, [&](WalkEntry &e) {
      auto it = ov->find(e.path);
      if (it == ov->end())
        return false;
      const FsOverlayEntry &o = it->second;
      if (o.removed)
        return true;
      if (S_ISLNK(e.mode))
        return false;
      if (o.mode)
        e.mode = (e.mode & ~07777u) | (*o.mode & 07777u);
      if (o.uid)
        e.uid = *o.uid;
      if (o.gid)
        e.gid = *o.gid;
      size_t slash = e.path.rfind('/');
      std::string_view p = e.path;
      std::string_view dir = slash == 0 ? "/" : p.substr(0, slash);
      bool kept = !options.keep || options.keep(dir, p.substr(slash + 1), e.mode) ||
                  (options.keep_owner && options.keep_owner(e.uid, e.gid));
      return !kept;
    });
  std::sort(r.entries.begin(), r.entries.end(),
            [](const WalkEntry &a, const WalkEntry &b) { return a.path < b.path; });
  std::sort(r.boundaries.begin(), r.boundaries.end());
  std::sort(r.errors.begin(), r.errors.end(), [](const Error &a, const Error &b) {
    return a.path != b.path ? a.path < b.path : a.message < b.message;
  });
  return r;
}

std::string display_path(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size();) {
    unsigned char c = static_cast<unsigned char>(s[i]);
    if (c >= 0x80) {
      if (size_t len = utf8_sequence(s, i)) {
        out.append(s.substr(i, len));
        i += len;
        continue;
      }
    } else if (c == '\\') {
      out += "\\\\";
      ++i;
      continue;
    } else if (c >= 0x20 && c != 0x7f) {
      out += static_cast<char>(c);
      ++i;
      continue;
    }
    static constexpr char k_hex[] = "0123456789abcdef";
    out += "\\x";
    out += k_hex[c >> 4];
    out += k_hex[c & 15];
    ++i;
  }
  return out;
}

std::string mode_string(uint32_t mode) {
  std::string s(10, '-');
  switch (mode & S_IFMT) {
  case S_IFDIR: s[0] = 'd'; break;
  case S_IFLNK: s[0] = 'l'; break;
  case S_IFCHR: s[0] = 'c'; break;
  case S_IFBLK: s[0] = 'b'; break;
  case S_IFIFO: s[0] = 'p'; break;
  case S_IFSOCK: s[0] = 's'; break;
  default: break;
  }
  const char *rwx = "rwxrwxrwx";
  for (int i = 0; i < 9; ++i)
    if (mode & (0400u >> i))
      s[1 + i] = rwx[i];
  auto special = [&](int pos, uint32_t bit, char lower, char upper) {
    if (mode & bit)
      s[pos] = s[pos] == '-' ? upper : lower;
  };
  special(3, S_ISUID, 's', 'S');
  special(6, S_ISGID, 's', 'S');
  special(9, S_ISVTX, 't', 'T');
  return s;
}

} // namespace bulwark
