#include <bulwark/core/atomic_file.hpp>

#include <cerrno>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <limits.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {

namespace {

Error io_error(std::string_view what, const std::string &path, int err) {
  return Error{std::string(what) + ": " + std::strerror(err), path, 0, err};
}

bool atomic_write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    if (n == 0) {
      errno = EIO;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

// Temporary files in flight, removed by the SIGINT/SIGTERM/SIGHUP handler
// before the signal takes the process down (the handler may only call
// async-signal-safe functions: unlink, sigaction, raise). A slot whose first
// byte is 0 is free.
constexpr int k_slots = 16;
char g_tmp_paths[k_slots][PATH_MAX];
volatile sig_atomic_t g_handlers_installed = 0;

extern "C" void remove_temporaries(int sig) {
  for (auto &slot : g_tmp_paths)
    if (slot[0] != 0)
      ::unlink(slot);
  struct sigaction sa {};
  sa.sa_handler = SIG_DFL;
  ::sigaction(sig, &sa, nullptr);
  ::raise(sig);
}

void install_handlers() {
  if (g_handlers_installed)
    return;
  g_handlers_installed = 1;
  for (int sig : {SIGINT, SIGTERM, SIGHUP}) {
    struct sigaction old {};
    ::sigaction(sig, nullptr, &old);
    if (old.sa_handler != SIG_DFL) // someone else's (or ignored): keep it
      continue;
    struct sigaction sa {};
    sa.sa_handler = remove_temporaries;
    sigemptyset(&sa.sa_mask);
    ::sigaction(sig, &sa, nullptr);
  }
}

void track(const std::string &path, bool on) {
  sigset_t all, old;
  sigfillset(&all);
  ::pthread_sigmask(SIG_BLOCK, &all, &old);
  for (auto &slot : g_tmp_paths) {
    if (on && slot[0] == 0 && path.size() < PATH_MAX) {
      std::memcpy(slot, path.c_str(), path.size() + 1);
      break;
    }
    if (!on && slot[0] != 0 && path == slot) {
      slot[0] = 0;
      break;
    }
  }
  ::pthread_sigmask(SIG_SETMASK, &old, nullptr);
}

} // namespace

AtomicWriter::~AtomicWriter() {
  abandon();
}

void AtomicWriter::abandon() {
  if (m_own_fd && m_fd >= 0)
    ::close(m_fd);
  if (!m_tmp.empty()) {
    ::unlink(m_tmp.c_str());
    track(m_tmp, false);
  }
  m_fd = -1;
  m_own_fd = false;
  m_tmp.clear();
}

Result<Unit> AtomicWriter::open(const std::string &host_path) {
  abandon();
  m_path = host_path;
  m_errno = 0;
  if (host_path == "-") {
    m_path = "<stdout>";
    m_fd = STDOUT_FILENO;
    return Unit{};
  }
  // A symbolic link stays a link: the file it names is replaced. Links in
  // /dev and /proc (/dev/stdout -> /proc/self/fd/1) name whatever the
  // process writes to, and are written through.
  std::string path = host_path;
  struct stat lst;
  if (::lstat(host_path.c_str(), &lst) == 0 && S_ISLNK(lst.st_mode)) {
    bool special = host_path.rfind("/dev/", 0) == 0 || host_path.rfind("/proc/", 0) == 0;
    char *real = special ? nullptr : ::realpath(host_path.c_str(), nullptr);
    if (real != nullptr) {
      path = real;
      std::free(real);
    } else if (!special) {
      return io_error("cannot resolve symbolic link", host_path, errno);
    } else {
      m_fd = ::open(host_path.c_str(), O_WRONLY | O_CLOEXEC);
      if (m_fd < 0)
        return io_error("cannot open", host_path, errno);
      m_own_fd = true;
      return Unit{};
    }
  }
  struct stat st;
  bool exists = ::stat(path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode))
      return io_error("cannot write", host_path, EISDIR);
    // Devices and pipes cannot be replaced by rename: write through.
    m_fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (m_fd < 0)
      return io_error("cannot open", host_path, errno);
    m_own_fd = true;
    return Unit{};
  }
  m_path = path;
  size_t slash = path.rfind('/');
  m_dir = slash == std::string::npos ? "." : path.substr(0, slash);
  if (m_dir.empty())
    m_dir = "/";
  std::string tmpl = path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return io_error("cannot create temporary file", host_path, errno);
  m_fd = fd;
  m_own_fd = true;
  m_tmp = std::move(tmpl);
  install_handlers();
  track(m_tmp, true);
  ::fchmod(
      fd, exists ? (st.st_mode & 07777) : 0644 & ~[] {
        mode_t m = ::umask(0);
        ::umask(m);
        return m;
      }());
  return Unit{};
}

Result<Unit> AtomicWriter::write(std::string_view data) {
  if (m_fd < 0)
    return io_error("cannot write", m_path, m_errno ? m_errno : EBADF);
  if (m_errno == 0 && !atomic_write_all(m_fd, data))
    m_errno = errno ? errno : EIO;
  if (m_errno != 0)
    return io_error("cannot write", m_path, m_errno);
  return Unit{};
}

Result<Unit> AtomicWriter::commit() {
  if (m_fd < 0 || m_errno != 0) {
    int err = m_errno ? m_errno : EBADF;
    abandon();
    return io_error("cannot write", m_path, err);
  }
  if (m_tmp.empty()) { // written through
    if (m_own_fd)
      ::close(m_fd);
    m_fd = -1;
    m_own_fd = false;
    return Unit{};
  }
  if (::fsync(m_fd) != 0) {
    int err = errno;
    abandon();
    return io_error("cannot write", m_path, err);
  }
  ::close(m_fd);
  m_fd = -1;
  m_own_fd = false;
  if (::rename(m_tmp.c_str(), m_path.c_str()) != 0) {
    int err = errno;
    ::unlink(m_tmp.c_str());
    track(m_tmp, false);
    m_tmp.clear();
    return io_error("cannot rename into place", m_path, err);
  }
  track(m_tmp, false);
  m_tmp.clear();
  int dfd = ::open(m_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Unit{};
}

Result<Unit> write_file_atomic(const std::string &host_path, std::string_view data) {
  AtomicWriter w;
  TRY(w.open(host_path));
  TRY(w.write(data));
  return w.commit();
}

} // namespace bulwark
