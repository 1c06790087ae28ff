// Live log following with rotation and restart; see follower.hpp.
#include <bulwark/watch/follower.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <set>
#include <sys/inotify.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark::watch {

namespace {

constexpr size_t k_head = 4096;
constexpr size_t k_chunk = 1 << 16;

uint64_t fnv1a(std::string_view s) {
  uint64_t h = 0xcbf29ce484222325ULL;
  for (unsigned char c : s) {
    h ^= c;
    h *= 0x100000001b3ULL;
  }
  return h | 1; // never 0, which means "unknown"
}

// Hash of the file's first line; 0 while the first line is incomplete.
uint64_t head_hash(int fd) {
  char buf[k_head];
  ssize_t n = ::pread(fd, buf, sizeof buf, 0);
  if (n <= 0)
    return 0;
  std::string_view s(buf, static_cast<size_t>(n));
  size_t nl = s.find('\n');
  if (nl == std::string_view::npos)
    return static_cast<size_t>(n) == k_head ? fnv1a(s) : 0;
  return fnv1a(s.substr(0, nl));
}

std::string follower_dir_of(const std::string &p) {
  size_t s = p.rfind('/');
  if (s == std::string::npos)
    return ".";
  return s == 0 ? "/" : p.substr(0, s);
}

// A file in `dir` with this inode (a log renamed by rotation while we were
// down: auth.log -> auth.log.1). Compressed copies have new inodes.
std::string find_inode(const std::string &dir, uint64_t dev, uint64_t inode) {
  DIR *d = ::opendir(dir.c_str());
  if (d == nullptr)
    return {};
  std::string found;
  while (struct dirent *e = ::readdir(d)) {
    if (e->d_ino != inode)
      continue;
    std::string p = dir + "/" + e->d_name;
    struct stat st {};
    if (::stat(p.c_str(), &st) == 0 && S_ISREG(st.st_mode) && st.st_dev == dev &&
        st.st_ino == inode) {
      found = p;
      break;
    }
  }
  ::closedir(d);
  return found;
}

} // namespace

struct Follower::File {
  std::string path;
  int fd = -1;
  uint64_t dev = 0, inode = 0, offset = 0, read_pos = 0, hash = 0;
  std::string partial;
  bool skipping = false;
  bool ever_existed = false; // a later appearance of the path is a new file: read it whole
  // The previous file after a rotation, drained until it stays quiet.
  int old_fd = -1;
  uint64_t old_dev = 0, old_inode = 0, old_offset = 0, old_read_pos = 0;
  std::string old_partial;
  bool old_skipping = false;
  int old_quiet = 0;
};

std::string positions_to_json(const std::vector<FilePosition> &ps) {
  nlohmann::json j = nlohmann::json::array();
  for (auto &p : ps)
    j.push_back({{"path", p.path},
                 {"dev", p.dev},
                 {"inode", p.inode},
                 {"offset", p.offset},
                 {"head_hash", p.head_hash}});
  return nlohmann::json{{"version", 1}, {"files", j}}.dump(1) + "\n";
}

std::vector<FilePosition> positions_from_json(std::string_view text) {
  std::vector<FilePosition> out;
  auto j = nlohmann::json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object() || !j.contains("files") || !j["files"].is_array())
    return out;
  for (auto &e : j["files"]) {
    if (!e.is_object())
      continue;
    try {
      FilePosition p;
      p.path = e.at("path").get<std::string>();
      p.dev = e.at("dev").get<uint64_t>();
      p.inode = e.at("inode").get<uint64_t>();
      p.offset = e.at("offset").get<uint64_t>();
      p.head_hash = e.at("head_hash").get<uint64_t>();
      out.push_back(std::move(p));
    } catch (const nlohmann::json::exception &) {
      continue;
    }
  }
  return out;
}

Follower::Follower(const std::vector<std::string> &paths, const std::vector<FilePosition> &saved,
                   size_t max_line, bool from_start)
    : m_max_line(max_line) {
  std::set<std::string> seen;
  for (auto &p : paths) {
    if (!seen.insert(p).second)
      continue;
    auto f = std::make_unique<File>();
    f->path = p;
    struct stat st {};
    bool exists = ::stat(p.c_str(), &st) == 0;
    bool had_position = false;
    for (auto &s : saved) {
      if (s.path != p)
        continue;
      had_position = true;
      if (exists && s.dev == st.st_dev && s.inode == st.st_ino) {
        // Same file: resume, unless it was truncated or rewritten meanwhile.
        open_current(*f, false);
        if (f->fd >= 0 && f->inode == s.inode && (s.head_hash == 0 || f->hash == s.head_hash) &&
            static_cast<uint64_t>(st.st_size) >= s.offset)
          f->offset = f->read_pos = s.offset;
      } else if (f->old_fd < 0) {
        // Rotated while we were down: finish the renamed file first.
        std::string moved = find_inode(follower_dir_of(p), s.dev, s.inode);
        int fd = moved.empty() ? -1 : ::open(moved.c_str(), O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
          struct stat ost {};
          if (::fstat(fd, &ost) == 0 && static_cast<uint64_t>(ost.st_size) >= s.offset &&
              (s.head_hash == 0 || head_hash(fd) == s.head_hash)) {
            f->old_fd = fd;
            f->old_dev = s.dev;
            f->old_inode = s.inode;
            f->old_offset = f->old_read_pos = s.offset;
          } else {
            ::close(fd);
          }
        }
      }
    }
    if (f->fd < 0 && exists)
      open_current(*f, !had_position && !from_start);
    f->ever_existed = exists;
    m_files.push_back(std::move(f));
  }
  m_inotify = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  add_watches();
}

Follower::~Follower() {
  for (auto &f : m_files) {
    if (f->fd >= 0)
      ::close(f->fd);
    if (f->old_fd >= 0)
      ::close(f->old_fd);
  }
  if (m_inotify >= 0)
    ::close(m_inotify);
}

void Follower::add_watches() {
  if (m_inotify < 0)
    return;
  std::set<std::string> dirs;
  for (auto &f : m_files)
    dirs.insert(follower_dir_of(f->path));
  for (auto &d : dirs)
    ::inotify_add_watch(m_inotify, d.c_str(),
                        IN_MODIFY | IN_CREATE | IN_MOVED_TO | IN_MOVED_FROM | IN_DELETE |
                            IN_CLOSE_WRITE | IN_ATTRIB);
}

void Follower::drain_events() {
  if (m_inotify < 0)
    return;
  alignas(struct inotify_event) char buf[8192];
  while (::read(m_inotify, buf, sizeof buf) > 0) {
  }
}

void Follower::open_current(File &f, bool at_end) {
  int fd = ::open(f.path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
  if (fd < 0)
    return;
  struct stat st {};
  if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
    ::close(fd);
    return;
  }
  f.fd = fd;
  f.dev = st.st_dev;
  f.inode = st.st_ino;
  f.hash = head_hash(fd);
  f.partial.clear();
  f.skipping = false;
  f.offset = f.read_pos = 0;
  if (at_end) {
    // Start after the last complete line.
    uint64_t size = static_cast<uint64_t>(st.st_size);
    uint64_t from = size > m_max_line ? size - m_max_line : 0;
    std::string tail(size - from, '\0');
    ssize_t n = ::pread(fd, tail.data(), tail.size(), static_cast<off_t>(from));
    if (n > 0) {
      size_t nl = std::string_view(tail.data(), static_cast<size_t>(n)).rfind('\n');
      f.offset = f.read_pos = nl == std::string_view::npos ? from : from + nl + 1;
    }
  }
}

size_t Follower::read_fd(int fd, uint64_t &offset, uint64_t &pos, std::string &partial,
                         bool &skipping, const LineFn &line) {
  size_t lines = 0;
  std::string buf(k_chunk, '\0');
  for (;;) {
    ssize_t n = ::pread(fd, buf.data(), buf.size(), static_cast<off_t>(pos));
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    std::string_view data(buf.data(), static_cast<size_t>(n));
    pos += static_cast<uint64_t>(n);
    while (!data.empty()) {
      size_t nl = data.find('\n');
      size_t take = nl == std::string_view::npos ? data.size() : nl;
      if (skipping) {
        // The rest of a line over the limit: its start is the saved offset,
        // so a restart skips it again instead of reading its tail as a line.
      } else if (partial.size() + take > m_max_line) {
        partial.clear();
        partial.shrink_to_fit();
        skipping = true;
        ++m_too_long;
      } else {
        partial.append(data.data(), take);
      }
      if (nl == std::string_view::npos)
        break;
      if (!skipping) {
        line(partial);
        ++lines;
      }
      data.remove_prefix(nl + 1);
      skipping = false;
      partial.clear();
      offset = pos - data.size();
    }
  }
  return lines;
}

size_t Follower::poll(const LineFn &line) {
  size_t lines = 0;
  for (auto &fp : m_files) {
    File &f = *fp;
    m_current = f.path;
    // 1. The previous file of a rotation: lines written to it before the
    //    writer reopened come before the new file's.
    if (f.old_fd >= 0) {
      size_t n =
          read_fd(f.old_fd, f.old_offset, f.old_read_pos, f.old_partial, f.old_skipping, line);
      lines += n;
      f.old_quiet = n == 0 ? f.old_quiet + 1 : 0;
      struct stat st {};
      bool new_has_data = f.fd >= 0 && ::fstat(f.fd, &st) == 0 && st.st_size > 0;
      if (f.old_quiet >= 2 && (new_has_data || f.fd < 0)) {
        if (!f.old_partial.empty() && !f.old_skipping) {
          line(f.old_partial); // the writer is gone: a last line without newline
          ++lines;
        }
        ::close(f.old_fd);
        f.old_fd = -1;
        f.old_partial.clear();
      }
    }
    // 2. A path that (re)appeared.
    if (f.fd < 0) {
      open_current(f, false);
      if (f.fd < 0)
        continue;
      f.ever_existed = true;
    }
    // 3. copytruncate: the file shrank, or its first line changed.
    struct stat st {};
    if (::fstat(f.fd, &st) == 0) {
      uint64_t h = f.hash;
      if (h == 0 || static_cast<uint64_t>(st.st_size) < f.offset + f.partial.size() || f.offset > 0)
        h = head_hash(f.fd);
      bool truncated = static_cast<uint64_t>(st.st_size) < f.offset + f.partial.size() ||
                       (f.hash != 0 && h != 0 && h != f.hash);
      if (truncated) {
        f.offset = f.read_pos = 0;
        f.partial.clear();
        f.skipping = false;
      }
      f.hash = h;
    }
    lines += read_fd(f.fd, f.offset, f.read_pos, f.partial, f.skipping, line);
    // 4. rename / delete-and-recreate: the path names another inode.
    struct stat pst {};
    if (::stat(f.path.c_str(), &pst) == 0 && (pst.st_ino != f.inode || pst.st_dev != f.dev)) {
      if (f.old_fd >= 0) {
        lines +=
            read_fd(f.old_fd, f.old_offset, f.old_read_pos, f.old_partial, f.old_skipping, line);
        ::close(f.old_fd);
      }
      f.old_fd = f.fd;
      f.old_dev = f.dev;
      f.old_inode = f.inode;
      f.old_offset = f.offset;
      f.old_read_pos = f.read_pos;
      f.old_partial = std::move(f.partial);
      f.old_skipping = f.skipping;
      f.old_quiet = 0;
      f.fd = -1;
      open_current(f, false);
      if (f.fd >= 0)
        lines += read_fd(f.fd, f.offset, f.read_pos, f.partial, f.skipping, line);
    }
  }
  return lines;
}

std::vector<FilePosition> Follower::positions() const {
  std::vector<FilePosition> out;
  for (auto &f : m_files) {
    if (f->old_fd >= 0)
      out.push_back({f->path, f->old_dev, f->old_inode, f->old_offset, 0});
    if (f->fd >= 0)
      out.push_back({f->path, f->dev, f->inode, f->offset, f->hash});
  }
  return out;
}

} // namespace bulwark::watch
