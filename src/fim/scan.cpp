// The fim scan (see fim.hpp). Cost model: one fstatat per entry, one
// openat + getdents64 per directory, one open + read per selected regular
// file with a hash attribute, and for the extended attributes one
// flistxattr (regular files and directories, on the descriptor already
// open) or llistxattr through /proc/self/fd/<dir>/<name> (other types, so
// that a FIFO or a device is never opened). The work is a LIFO stack shared
// by every core: a directory task lists its directory and cuts its
// non-directory entries into batches that any thread stats and hashes, so
// one directory of large files still spreads over the cores. Reads are
// 1 MiB, with POSIX_FADV_SEQUENTIAL so the kernel reads ahead.
//
// A file that changes while it is read (its inode, size, mtime or ctime
// differ between the stat before and the fstat after, or fewer bytes come
// than its size) is recorded with Record::error and reported; so is one that
// cannot be opened. Nothing selected is skipped silently.

#include <bulwark/core/fd.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/fim/fim.hpp>

#include <algorithm>
#include <atomic>
#include <cerrno>
#include <condition_variable>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <mutex>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <system_error>
#include <thread>
#include <unistd.h>

namespace bulwark::fim {

std::string hex(std::string_view bytes) {
  static constexpr char k[] = "0123456789abcdef";
  std::string out;
  out.reserve(bytes.size() * 2);
  for (unsigned char c : bytes) {
    out += k[c >> 4];
    out += k[c & 15];
  }
  return out;
}

std::string_view type_name(FileType t) {
  switch (t) {
  case FileType::regular: return "file";
  case FileType::directory: return "directory";
  case FileType::symlink: return "symlink";
  case FileType::fifo: return "fifo";
  case FileType::socket: return "socket";
  case FileType::chardev: return "character device";
  case FileType::blockdev: return "block device";
  }
  return "unknown";
}

namespace {

constexpr size_t k_scan_batch = 32;   // names per stat-and-hash batch
constexpr size_t k_read = 1 << 20;    // bytes per read
constexpr size_t k_dirent = 64 << 10; // bytes per getdents64
constexpr unsigned k_scan_max_threads = 64;
constexpr size_t k_max_xattr_list = 1 << 20;

FileType type_of(mode_t m) {
  switch (m & S_IFMT) {
  case S_IFDIR: return FileType::directory;
  case S_IFLNK: return FileType::symlink;
  case S_IFIFO: return FileType::fifo;
  case S_IFSOCK: return FileType::socket;
  case S_IFCHR: return FileType::chardev;
  case S_IFBLK: return FileType::blockdev;
  default: return FileType::regular;
  }
}

const char *openssl_name(Attr a) {
  switch (a) {
  case k_md5: return "MD5";
  case k_sha1: return "SHA1";
  case k_sha256: return "SHA256";
  case k_sha512: return "SHA512";
  case k_rmd160: return "RIPEMD160";
  case k_blake2b512: return "BLAKE2B-512";
  case k_blake2s256: return "BLAKE2S-256";
  default: return nullptr;
  }
}

// Fetched once: EVP_get_digestbyname would fetch on every init.
struct Digests {
  std::vector<std::pair<Attr, EVP_MD *>> mds;
  Digests() {
    for (Attr a : attr_list(k_hashes))
      mds.emplace_back(a, EVP_MD_fetch(nullptr, openssl_name(a), nullptr));
  }
  ~Digests() {
    for (auto &[a, md] : mds)
      EVP_MD_free(md);
  }
  const EVP_MD *get(Attr a) const {
    for (auto &[x, md] : mds)
      if (x == a)
        return md;
    return nullptr;
  }
};

const Digests &digests() {
  static const Digests d;
  return d;
}

std::string sys_message(const char *what, int err) {
  return std::string(what) + ": " + std::strerror(err);
}

void fill_stat(Record &r, const struct stat &st) {
  r.type = type_of(st.st_mode);
  r.mode = st.st_mode;
  r.uid = st.st_uid;
  r.gid = st.st_gid;
  r.dev = st.st_dev;
  r.ino = st.st_ino;
  r.nlink = st.st_nlink;
  r.size = static_cast<uint64_t>(st.st_size);
  r.blocks = static_cast<uint64_t>(st.st_blocks);
  r.mtime_s = st.st_mtim.tv_sec;
  r.mtime_ns = static_cast<uint32_t>(st.st_mtim.tv_nsec);
  r.ctime_s = st.st_ctim.tv_sec;
  r.ctime_ns = static_cast<uint32_t>(st.st_ctim.tv_nsec);
}

bool same_file_state(const struct stat &a, const struct stat &b) {
  return a.st_dev == b.st_dev && a.st_ino == b.st_ino && a.st_size == b.st_size &&
         a.st_mtim.tv_sec == b.st_mtim.tv_sec && a.st_mtim.tv_nsec == b.st_mtim.tv_nsec &&
         a.st_ctim.tv_sec == b.st_ctim.tv_sec && a.st_ctim.tv_nsec == b.st_ctim.tv_nsec;
}

// Which extended attributes a record keeps, by the attributes it asks for.
bool keep_xattr(std::string_view name, AttrSet attrs) {
  bool acl = name == "system.posix_acl_access" || name == "system.posix_acl_default";
  if (acl)
    return (attrs & k_acl) != 0;
  if (name == "security.selinux" && (attrs & k_selinux))
    return true;
  if (name == "security.capability" && (attrs & k_caps))
    return true;
  if (attrs & k_xattrs)
    return name.substr(0, 5) == "user." || name.substr(0, 9) == "security." ||
           name.substr(0, 8) == "trusted.";
  return false;
}

// Lists and reads the extended attributes through `list`/`get` (the f* or
// l* calls), keeping those `attrs` asks for. Returns "" or an error text.
template <typename List, typename Get> std::string scan_read_xattrs(Record &r, List list, Get get) {
  // Per thread, reused: most files have no extended attribute, and a fresh
  // zeroed 4 KiB per file was a measurable part of a scan.
  thread_local std::string names, value;
  if (names.size() < 4096)
    names.resize(4096);
  if (value.size() < 256)
    value.resize(256);
  ssize_t n;
  for (;;) {
    n = list(names.data(), names.size());
    if (n >= 0)
      break;
    if (errno == ERANGE && names.size() < k_max_xattr_list) {
      names.resize(names.size() * 4);
      continue;
    }
    if (errno == ENOTSUP || errno == EOPNOTSUPP)
      return ""; // the file system has none
    return sys_message("cannot list extended attributes", errno);
  }
  const size_t listed = static_cast<size_t>(n);
  for (size_t i = 0; i < listed;) {
    size_t end = names.find('\0', i);
    if (end == std::string::npos || end > listed)
      end = listed;
    std::string name = names.substr(i, end - i);
    i = end + 1;
    if (name.empty() || !keep_xattr(name, r.attrs))
      continue;
    ssize_t v;
    for (;;) {
      v = get(name.c_str(), value.data(), value.size());
      if (v >= 0)
        break;
      if (errno == ERANGE && value.size() < (64u << 10)) {
        value.resize(value.size() * 4);
        continue;
      }
      if (errno == ENODATA)
        break; // removed since it was listed: the next scan sees it
      return sys_message(("cannot read extended attribute " + name).c_str(), errno);
    }
    if (v < 0)
      continue;
    r.xattrs.emplace_back(name, value.substr(0, static_cast<size_t>(v)));
  }
  std::sort(r.xattrs.begin(), r.xattrs.end());
  return "";
}

// The extended attributes of `name` inside `dir`, never opened (a FIFO
// would block, a device would do something). Linux 6.13's listxattrat and
// getxattrat take the directory descriptor and the name, one path component
// to resolve; older kernels answer ENOSYS, and then the l* calls go through
// /proc/self/fd/<dir>/<name>, a walk through procfs that was a tenth of a
// --fast check's CPU (d_lookup, pid revalidation, the magic link).
#if defined(SYS_listxattrat) && defined(SYS_getxattrat)
constexpr long k_sys_getxattrat = SYS_getxattrat;
constexpr long k_sys_listxattrat = SYS_listxattrat;
#elif defined(__x86_64__) || defined(__aarch64__) || defined(__riscv)
constexpr long k_sys_getxattrat = 464;  // the same number on these since 6.13
constexpr long k_sys_listxattrat = 465; // (glibc 2.36's headers predate them)
#else
constexpr long k_sys_getxattrat = -1;
constexpr long k_sys_listxattrat = -1;
#endif

struct XattrArgs { // struct xattr_args (linux/xattr.h, 6.13)
  uint64_t value;
  uint32_t size;
  uint32_t flags;
};

std::atomic<bool> g_no_xattrat{k_sys_listxattrat < 0};

std::string read_xattrs_at(Record &r, int dirfd, const std::string &name) {
  if (!g_no_xattrat.load(std::memory_order_relaxed)) {
    errno = 0;
    ssize_t probe = ::syscall(k_sys_listxattrat, dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW,
                              static_cast<char *>(nullptr), size_t{0});
    // ENOSYS: an older kernel; EPERM: a seccomp filter that does not know
    // the call (Docker's default profile answers EPERM), which would
    // otherwise fail every file. Either way, the /proc route from now on.
    if (probe >= 0 || (errno != ENOSYS && errno != EPERM)) {
      auto list = [&](char *b, size_t n) {
        return static_cast<ssize_t>(
            ::syscall(k_sys_listxattrat, dirfd, name.c_str(), AT_SYMLINK_NOFOLLOW, b, n));
      };
      auto get = [&](const char *xn, char *b, size_t n) {
        XattrArgs args{reinterpret_cast<uintptr_t>(b), static_cast<uint32_t>(n), 0};
        return static_cast<ssize_t>(::syscall(k_sys_getxattrat, dirfd, name.c_str(),
                                              AT_SYMLINK_NOFOLLOW, xn, &args, sizeof args));
      };
      if (probe == 0) { // no extended attributes: the common case, one call
        r.xattrs.clear();
        return "";
      }
      return scan_read_xattrs(r, list, get);
    }
    g_no_xattrat.store(true, std::memory_order_relaxed);
  }
  std::string via = "/proc/self/fd/" + std::to_string(dirfd) + "/" + name;
  return scan_read_xattrs(
      r, [&](char *b, size_t n) { return ::llistxattr(via.c_str(), b, n); },
      [&](const char *xn, char *b, size_t n) { return ::lgetxattr(via.c_str(), xn, b, n); });
}

// A thread's read buffer, not zero-filled: a scan of small files touches
// (and page-faults) only its first pages, where a std::vector<char> zeroed
// all of its 1 MiB per thread at start.
struct ReadBuffer {
  std::unique_ptr<char[]> p{new char[k_read]};
  char *data() { return p.get(); }
  size_t size() const { return k_read; }
};

// The digest contexts of one thread, by attribute, freed with the thread.
struct ContextCache {
  std::vector<std::pair<Attr, EVP_MD_CTX *>> by_attr;
  std::vector<std::pair<Attr, EVP_MD_CTX *>> ctxs; // the current file's
  EVP_MD_CTX *get(Attr a) {
    for (auto &[x, c] : by_attr)
      if (x == a)
        return c;
    EVP_MD_CTX *c = EVP_MD_CTX_new();
    if (c != nullptr)
      by_attr.emplace_back(a, c);
    return c;
  }
  ~ContextCache() {
    for (auto &[a, c] : by_attr)
      EVP_MD_CTX_free(c);
  }
};

struct ScanTask {
  OpenDirPtr parent;
  std::string name;  // a directory to open and list, or
  std::string names; // NUL-separated entries of `parent` to stat and hash
  AttrSet attrs = 0; // for a directory: its rule's attributes
  bool selected = false;
};

// A thread's records in fixed chunks: a growing std::vector<Record> moved
// every record at each doubling and faulted in fresh pages for it (3-7% of
// an init or a --fast check); a chunk is never moved.
class Records {
public:
  void push_back(Record &&r) {
    if (m_chunks.empty() || m_chunks.back().size() == k_chunk) {
      m_chunks.emplace_back();
      m_chunks.back().reserve(k_chunk);
    }
    m_chunks.back().push_back(std::move(r));
    ++m_size;
  }
  size_t size() const { return m_size; }
  template <typename F> void each(F f) {
    for (auto &c : m_chunks)
      for (auto &r : c)
        f(r);
  }

private:
  static constexpr size_t k_chunk = 512;
  std::vector<std::vector<Record>> m_chunks;
  size_t m_size = 0;
};

struct ScanOutput {
  Records records;
  std::vector<Error> errors;
  uint64_t hashed_bytes = 0;
  uint64_t hashed_files = 0;
  uint64_t trusted_files = 0;
};

class FimScanner {
public:
  FimScanner(const Policy &p, const ScanOptions &o) : m_policy(p), m_opt(o) {}

  void run(std::vector<ScanTask> starts, unsigned threads, std::vector<ScanOutput> &outs) {
    outs.resize(threads);
    for (auto &t : starts)
      m_stack.push_back(std::move(t));
    std::vector<std::thread> pool;
    for (unsigned i = 1; i < threads; ++i) {
      try {
        pool.emplace_back([this, &outs, i] { work(outs[i]); });
      } catch (const std::system_error &) {
        break;
      }
    }
    work(outs[0]);
    for (auto &t : pool)
      t.join();
  }

  // The start directory itself: recorded if selected, then listed.
  void start(const OpenDirPtr &dir, const struct stat &st, ScanOutput &out,
             std::vector<char> &buf) {
    auto m = m_policy.match(dir->path, FileType::directory);
    if (m.negative)
      return;
    if (m.selected && in_scope(dir->path))
      record_dir(*dir, st, m.attrs, out);
    read_dir(dir, out, buf);
  }

private:
  bool in_scope(std::string_view path) const {
    if (m_opt.only.empty())
      return true;
    for (auto &o : m_opt.only) {
      if (o == "/" || path == o)
        return true;
      // below `o`, or an ancestor of `o` that must be walked through
      if (path.size() > o.size() && path.compare(0, o.size(), o) == 0 && path[o.size()] == '/')
        return true;
    }
    return false;
  }
  bool on_the_way(std::string_view dir) const {
    if (m_opt.only.empty())
      return true;
    for (auto &o : m_opt.only)
      if (dir == "/" ||
          (o.size() > dir.size() && o.compare(0, dir.size(), dir) == 0 && o[dir.size()] == '/'))
        return true;
    return in_scope(dir);
  }

  void work(ScanOutput &out) {
    std::vector<char> buf(k_dirent);
    ReadBuffer data;
    std::unique_lock lock(m_mu);
    for (;;) {
      while (m_stack.empty() && m_active > 0)
        m_cv.wait(lock);
      if (m_stack.empty()) {
        m_cv.notify_all();
        return;
      }
      ScanTask t = std::move(m_stack.back());
      m_stack.pop_back();
      ++m_active;
      lock.unlock();
      if (t.names.empty())
        list_dir(t, out, buf);
      else
        stat_batch(t.parent, t.names, out, data);
      t = ScanTask{};
      lock.lock();
      --m_active;
      if (m_active == 0 && m_stack.empty())
        m_cv.notify_all();
    }
  }

  void push(ScanTask t) {
    std::lock_guard lock(m_mu);
    m_stack.push_back(std::move(t));
    m_cv.notify_one();
  }

  void record_dir(const OpenDir &dir, const struct stat &st, AttrSet attrs, ScanOutput &out) {
    Record r;
    r.path = dir.path;
    r.attrs = attrs;
    fill_stat(r, st);
    if (attrs & k_extended) {
      int fd = dir.fd;
      r.error = scan_read_xattrs(
          r, [fd](char *b, size_t n) { return ::flistxattr(fd, b, n); },
          [fd](const char *name, char *b, size_t n) { return ::fgetxattr(fd, name, b, n); });
    }
    if (!r.error.empty())
      out.errors.push_back(Error{r.error, r.path});
    out.records.push_back(std::move(r));
  }

  void list_dir(const ScanTask &t, ScanOutput &out, std::vector<char> &buf) {
    const OpenDir &parent = *t.parent;
    std::string path = text::child_path(parent.path, t.name);
    int fd = ::openat(parent.fd, t.name.c_str(),
                      O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    if (fd < 0) {
      int err = errno;
      if (err == ENOENT) {
        out.errors.push_back(Error{"removed while the scan ran", path, 0, err});
        return;
      }
      struct stat st;
      if (::fstatat(parent.fd, t.name.c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
          !S_ISDIR(st.st_mode)) {
        out.errors.push_back(Error{"replaced while the scan ran", path, 0, 0});
        entry(t.parent, t.name, st, out, nullptr);
        return;
      }
      out.errors.push_back(Error{sys_message("cannot open directory", err), path, 0, err});
      return;
    }
    struct stat st;
    if (::fstat(fd, &st) != 0) {
      out.errors.push_back(Error{sys_message("cannot stat", errno), path, 0, errno});
      ::close(fd);
      return;
    }
    auto dir = std::make_shared<const OpenDir>(fd, std::move(path));
    if (t.selected)
      record_dir(*dir, st, t.attrs, out);
    read_dir(dir, out, buf);
  }

  void read_dir(const OpenDirPtr &dir, ScanOutput &out, std::vector<char> &buf) {
    std::string batch;
    size_t in_batch = 0;
    for (;;) {
      ssize_t n = ::getdents64(dir->fd, buf.data(), buf.size());
      if (n < 0) {
        if (errno == EINTR)
          continue;
        out.errors.push_back(
            Error{sys_message("cannot read directory", errno), dir->path, 0, errno});
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
          directory(dir, name, out);
          continue;
        }
        batch.push_back(static_cast<char>(de->d_type)); // the entry's type, for stat_batch
        batch.append(name);
        batch.push_back('\0');
        if (++in_batch == k_scan_batch) {
          push(ScanTask{dir, {}, std::move(batch)});
          batch.clear();
          in_batch = 0;
        }
      }
    }
    if (!batch.empty())
      push(ScanTask{dir, {}, std::move(batch)});
  }

  void directory(const OpenDirPtr &parent, std::string_view name, ScanOutput &out) {
    std::string path = text::child_path(parent->path, name);
    for (auto &p : m_opt.prune)
      if (path == p)
        return;
    if (!on_the_way(path))
      return;
    auto m = m_policy.match(path, FileType::directory);
    if (m.negative)
      return;
    if (!m_policy.could_match_below(path)) {
      if (m.selected && in_scope(path)) { // recorded, not entered
        struct stat st;
        if (::fstatat(parent->fd, std::string(name).c_str(), &st, AT_SYMLINK_NOFOLLOW) == 0 &&
            S_ISDIR(st.st_mode)) {
          Record r;
          r.path = path;
          r.attrs = m.attrs;
          fill_stat(r, st);
          if (m.attrs & k_extended) {
            r.error = read_xattrs_at(r, parent->fd, std::string(name));
          }
          if (!r.error.empty())
            out.errors.push_back(Error{r.error, r.path});
          out.records.push_back(std::move(r));
        }
      }
      return;
    }
    ScanTask t{parent, std::string(name), {}};
    t.selected = m.selected && in_scope(path);
    t.attrs = m.attrs;
    push(std::move(t));
  }

  void stat_batch(const OpenDirPtr &dir, std::string_view names, ScanOutput &out,
                  ReadBuffer &data) {
    while (!names.empty()) {
      auto d_type = static_cast<unsigned char>(names.front());
      names.remove_prefix(1);
      size_t end = names.find('\0');
      std::string name(names.substr(0, end));
      names.remove_prefix(end + 1);
      if (d_type == DT_REG && m_opt.trust == nullptr && open_first(dir, name, out, data))
        continue;
      struct stat st;
      if (::fstatat(dir->fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW) != 0) {
        int err = errno;
        std::string path = text::child_path(dir->path, name);
        out.errors.push_back(Error{err == ENOENT ? std::string("removed while the scan ran")
                                                 : sys_message("cannot stat", err),
                                   path, 0, err});
        continue;
      }
      if (S_ISDIR(st.st_mode)) { // d_type was DT_UNKNOWN
        directory(dir, name, out);
        continue;
      }
      entry(dir, name, st, out, &data);
    }
  }

  void entry(const OpenDirPtr &dir, const std::string &name, const struct stat &st, ScanOutput &out,
             ReadBuffer *data) {
    std::string path = text::child_path(dir->path, name);
    if (!in_scope(path))
      return;
    FileType type = type_of(st.st_mode);
    auto m = m_policy.match(path, type);
    if (!m.selected)
      return;
    Record r;
    r.path = std::move(path);
    r.attrs = m.attrs;
    fill_stat(r, st);
    if (type == FileType::symlink) {
      std::string target(4096, '\0');
      ssize_t n = ::readlinkat(dir->fd, name.c_str(), target.data(), target.size());
      if (n < 0)
        r.error = sys_message("cannot read link", errno);
      else
        r.link.assign(target.data(), static_cast<size_t>(n));
    }
    if (type == FileType::regular && (r.attrs & (k_hashes | k_extended)) && data != nullptr)
      regular(*dir, name, st, r, out, *data);
    else if (r.attrs & k_extended) {
      // Never opened (a FIFO would block, a device would do something):
      // read by name, through the directory's descriptor.
      std::string e = read_xattrs_at(r, dir->fd, name);
      if (r.error.empty())
        r.error = e;
    }
    if (!r.error.empty())
      out.errors.push_back(Error{r.error, r.path});
    out.records.push_back(std::move(r));
  }

  // A regular file by getdents' d_type, outside --fast: opened before it
  // is stat'ed, and fstat'ed through the descriptor, which saves an
  // fstatat per file. Returns false when the entry must take the general
  // path (stat by name, then entry()): it is not selected for its content,
  // the open failed (the general path reports why), or it is no longer a
  // regular file (never read). A FIFO or device swapped in after getdents
  // is opened O_NONBLOCK and closed unread, as in the window between the
  // general path's fstatat and openat.
  bool open_first(const OpenDirPtr &dir, const std::string &name, ScanOutput &out,
                  ReadBuffer &data) {
    std::string path = text::child_path(dir->path, name);
    if (!in_scope(path))
      return true;
    auto m = m_policy.match(path, FileType::regular);
    if (!m.selected)
      return true; // a file that is a file is not selected; as entry() decides
    if ((m.attrs & (k_hashes | k_extended)) == 0)
      return false;
    int fd = open_file(*dir, name);
    if (fd < 0)
      return false;
    struct stat st;
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
      ::close(fd);
      return false;
    }
    Record r;
    r.path = std::move(path);
    r.attrs = m.attrs;
    fill_stat(r, st);
    read_open(fd, st, r, out, data);
    ::close(fd);
    if (!r.error.empty())
      out.errors.push_back(Error{r.error, r.path});
    out.records.push_back(std::move(r));
    return true;
  }

  static int open_file(const OpenDir &dir, const std::string &name) {
    int flags = O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC;
    int fd = ::openat(dir.fd, name.c_str(), flags | O_NOATIME);
    if (fd < 0 && errno == EPERM) // O_NOATIME needs ownership or CAP_FOWNER
      fd = ::openat(dir.fd, name.c_str(), flags);
    return fd;
  }

  void regular(const OpenDir &dir, const std::string &name, const struct stat &st, Record &r,
               ScanOutput &out, ReadBuffer &data) {
    AttrSet want = r.attrs & k_hashes;
    if (m_opt.trust != nullptr && want != 0) {
      auto it = m_opt.trust->find(r.path);
      if (it != m_opt.trust->end()) {
        const Record &o = *it->second;
        bool have_all = true;
        for (Attr a : attr_list(want))
          have_all = have_all && std::any_of(o.hashes.begin(), o.hashes.end(),
                                             [a](auto &h) { return h.first == a; });
        if (o.error.empty() && have_all && o.type == FileType::regular && o.dev == r.dev &&
            o.ino == r.ino && o.size == r.size && o.mtime_s == r.mtime_s &&
            o.mtime_ns == r.mtime_ns && o.ctime_s == r.ctime_s && o.ctime_ns == r.ctime_ns) {
          for (auto &h : o.hashes)
            if (want & h.first)
              r.hashes.push_back(h);
          ++out.trusted_files;
          // Extended attributes change ctime too, but they are cheap to
          // read without opening the file: read them anyway.
          if (r.attrs & k_extended) {
            r.error = read_xattrs_at(r, dir.fd, name);
          }
          return;
        }
      }
    }
    int fd = open_file(dir, name);
    if (fd < 0) {
      r.error = sys_message("cannot open", errno);
      return;
    }
    struct stat before;
    if (::fstat(fd, &before) != 0 || !S_ISREG(before.st_mode) || !same_file_state(st, before)) {
      r.error = "changed while the scan ran (replaced before it was read)";
      ::close(fd);
      return;
    }
    read_open(fd, before, r, out, data);
    ::close(fd);
  }

  // The extended attributes and the digests of the open regular file `fd`,
  // whose fstat is `before`.
  void read_open(int fd, const struct stat &before, Record &r, ScanOutput &out, ReadBuffer &data) {
    const struct stat &st = before;
    AttrSet want = r.attrs & k_hashes;
    if (r.attrs & k_extended) {
      r.error = scan_read_xattrs(
          r, [fd](char *b, size_t n) { return ::flistxattr(fd, b, n); },
          [fd](const char *xn, char *b, size_t n) { return ::fgetxattr(fd, xn, b, n); });
    }
    if (want != 0) {
      // One context per digest and thread, re-initialised per file
      // (EVP_MD_CTX_new/free per file showed in profiles).
      thread_local ContextCache cache;
      std::vector<std::pair<Attr, EVP_MD_CTX *>> &ctxs = cache.ctxs;
      ctxs.clear();
      bool ok = true;
      for (Attr a : attr_list(want)) {
        const EVP_MD *md = digests().get(a);
        EVP_MD_CTX *c = cache.get(a);
        if (md == nullptr || c == nullptr || EVP_DigestInit_ex(c, md, nullptr) != 1) {
          r.error = std::string("OpenSSL cannot compute ") + std::string(attr_name(a));
          ok = false;
          break;
        }
        ctxs.emplace_back(a, c);
      }
      if (ok && st.st_size > static_cast<off_t>(k_read))
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_SEQUENTIAL);
      uint64_t total = 0;
      const auto expected = static_cast<uint64_t>(before.st_size);
      // Reading stops at the size fstat gave: a file that grows meanwhile
      // has another size (or mtime, ctime) in the fstat after the read,
      // which the check below reports, so the read that would return 0 is
      // not needed (it was one system call in six).
      while (ok && (total < expected || expected == 0)) {
        ssize_t n = ::read(fd, data.data(), data.size());
        if (n < 0) {
          if (errno == EINTR)
            continue;
          r.error = sys_message("cannot read", errno);
          ok = false;
          break;
        }
        if (n == 0)
          break;
        total += static_cast<uint64_t>(n);
        for (auto &[a, c] : ctxs)
          EVP_DigestUpdate(c, data.data(), static_cast<size_t>(n));
      }
      if (ok) {
        for (auto &[a, c] : ctxs) {
          unsigned char md[EVP_MAX_MD_SIZE];
          unsigned int len = 0;
          EVP_DigestFinal_ex(c, md, &len);
          r.hashes.emplace_back(a, std::string(reinterpret_cast<char *>(md), len));
        }
        out.hashed_bytes += total;
        ++out.hashed_files;
        struct stat after;
        if (::fstat(fd, &after) != 0 || !same_file_state(before, after) ||
            total != static_cast<uint64_t>(before.st_size)) {
          r.error = "changed while it was read";
          r.hashes.clear();
        }
      }
      if (st.st_size > static_cast<off_t>(k_read))
        ::posix_fadvise(fd, 0, 0, POSIX_FADV_DONTNEED); // do not evict the working set
    }
  }

  const Policy &m_policy;
  const ScanOptions &m_opt;
  std::mutex m_mu;
  std::condition_variable m_cv;
  std::vector<ScanTask> m_stack;
  unsigned m_active = 0;
};

} // namespace

unsigned default_threads() {
  // Twice the cores, at least 4: with a cold cache a thread waits for the
  // disk most of the time, and more reads in flight finished an init of the
  // Debian root in 1.7-1.9 s instead of 2.4-2.8 s (2 cores, 8 threads);
  // with a warm cache the extra threads cost nothing measurable.
  unsigned cores = std::max(1u, std::thread::hardware_concurrency());
  return std::clamp(2 * cores, 4u, k_scan_max_threads);
}

Result<ScanResult> scan(const RootFs &fs, const Policy &policy, const ScanOptions &options) {
  TRY(fs.root_status());
  unsigned threads = options.threads ? options.threads : default_threads();
  threads = std::clamp(threads, 1u, k_scan_max_threads);
  FimScanner scanner(policy, options);
  std::vector<ScanOutput> outs(1);
  ScanResult result;

  // AIDE walks from "/" and descends where a rule could still match; so
  // does this (Policy::could_match_below), so that a rule's own directory
  // being a symbolic link (/bin -> usr/bin) records the link, as AIDE does.
  auto opened = fs.open_dir("/");
  if (!opened)
    return opened.error();
  struct stat st;
  if (::fstat(opened->fd, &st) != 0) {
    int err = errno;
    ::close(opened->fd);
    return Error{sys_message("cannot stat", err), "/", 0, err};
  }
  std::vector<char> buf(k_dirent);
  scanner.start(std::make_shared<const OpenDir>(opened->fd, "/"), st, outs[0], buf);
  scanner.run({}, threads, outs);

  // Sorted by pointer, then each record moved once into place (sorting
  // the records themselves moved each of them log n times).
  size_t total = 0;
  for (auto &o : outs)
    total += o.records.size();
  std::vector<Record *> order;
  order.reserve(total);
  for (auto &o : outs) {
    o.records.each([&](Record &r) { order.push_back(&r); });
    std::move(o.errors.begin(), o.errors.end(), std::back_inserter(result.errors));
    result.hashed_bytes += o.hashed_bytes;
    result.hashed_files += o.hashed_files;
    result.trusted_files += o.trusted_files;
  }
  std::sort(order.begin(), order.end(),
            [](const Record *a, const Record *b) { return a->path < b->path; });
  result.records.reserve(total);
  for (Record *r : order)
    result.records.push_back(std::move(*r));
  std::sort(result.errors.begin(), result.errors.end(), [](const Error &a, const Error &b) {
    return a.path != b.path ? a.path < b.path : a.message < b.message;
  });
  return result;
}

} // namespace bulwark::fim
