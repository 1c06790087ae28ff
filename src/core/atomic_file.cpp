#include <bulwark/core/atomic_file.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {

namespace {

Error io_error(std::string_view what, const std::string &path, int err) {
  return Error{std::string(what) + ": " + std::strerror(err), path, 0, err};
}

bool write_all(int fd, std::string_view data) {
  while (!data.empty()) {
    ssize_t n = ::write(fd, data.data(), data.size());
    if (n < 0) {
      if (errno == EINTR)
        continue;
      return false;
    }
    data.remove_prefix(static_cast<size_t>(n));
  }
  return true;
}

} // namespace

Result<Unit> write_file_atomic(const std::string &host_path, std::string_view data) {
  if (host_path == "-") {
    if (!write_all(STDOUT_FILENO, data))
      return io_error("cannot write", "<stdout>", errno);
    return Unit{};
  }
  struct stat st;
  bool exists = ::stat(host_path.c_str(), &st) == 0;
  if (exists && !S_ISREG(st.st_mode)) {
    if (S_ISDIR(st.st_mode))
      return io_error("cannot write", host_path, EISDIR);
    // Devices and pipes cannot be replaced by rename: write through.
    int fd = ::open(host_path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0)
      return io_error("cannot open", host_path, errno);
    bool ok = write_all(fd, data);
    int err = errno;
    ::close(fd);
    if (!ok)
      return io_error("cannot write", host_path, err);
    return Unit{};
  }
  size_t slash = host_path.rfind('/');
  std::string dir = slash == std::string::npos ? "." : host_path.substr(0, slash);
  if (dir.empty())
    dir = "/";
  std::string tmpl = host_path + ".tmp.XXXXXX";
  int fd = ::mkstemp(tmpl.data());
  if (fd < 0)
    return io_error("cannot create temporary file", host_path, errno);
  ::fchmod(
      fd, exists ? (st.st_mode & 07777) : 0644 & ~[] {
        mode_t m = ::umask(0);
        ::umask(m);
        return m;
      }());
  if (!write_all(fd, data) || ::fsync(fd) != 0) {
    int err = errno;
    ::close(fd);
    ::unlink(tmpl.c_str());
    return io_error("cannot write", host_path, err);
  }
  ::close(fd);
  if (::rename(tmpl.c_str(), host_path.c_str()) != 0) {
    int err = errno;
    ::unlink(tmpl.c_str());
    return io_error("cannot rename into place", host_path, err);
  }
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (dfd >= 0) {
    ::fsync(dfd);
    ::close(dfd);
  }
  return Unit{};
}

} // namespace bulwark
