#include <bulwark/core/hostfs.hpp>

#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {

namespace {

Error host_error(std::string_view what, const std::string &path, std::string_view why, int err) {
  std::string message =
      what.empty() ? std::string(why) : std::string(what) + ": " + std::string(why);
  return Error{std::move(message), path, 0, err};
}

std::string too_large(size_t max_bytes) {
  return "larger than the " + std::to_string(max_bytes) + "-byte limit";
}

} // namespace

Result<std::string> HostFs::read_file(const std::string &host_path, size_t max_bytes,
                                      std::string_view what) {
  int fd = ::open(host_path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOCTTY);
  if (fd < 0)
    return host_error(what, host_path, std::strerror(errno), errno);
  struct stat st;
  if (::fstat(fd, &st) != 0) {
    int err = errno;
    ::close(fd);
    return host_error(what, host_path, std::strerror(err), err);
  }
  if (!S_ISREG(st.st_mode)) {
    ::close(fd);
    bool dir = S_ISDIR(st.st_mode);
    return host_error(what, host_path, dir ? "is a directory, not a file" : "not a regular file",
                      dir ? EISDIR : EINVAL);
  }
  if (static_cast<uint64_t>(st.st_size) > max_bytes) {
    ::close(fd);
    return host_error(what, host_path, too_large(max_bytes), EFBIG);
  }
  std::string out;
  out.reserve(static_cast<size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n < 0) {
      int err = errno;
      ::close(fd);
      return host_error(what, host_path, std::strerror(err), err);
    }
    if (n == 0)
      break;
    out.append(buf, static_cast<size_t>(n));
    if (out.size() > max_bytes) {
      ::close(fd);
      return host_error(what, host_path, too_large(max_bytes), EFBIG);
    }
  }
  ::close(fd);
  return out;
}

bool HostFs::is_file(const std::string &host_path) {
  struct stat st;
  return ::stat(host_path.c_str(), &st) == 0 && S_ISREG(st.st_mode);
}

Result<std::string> HostFs::real_path(const std::string &host_path) {
  char *real = ::realpath(host_path.c_str(), nullptr);
  if (real == nullptr)
    return host_error("cannot resolve", host_path, std::strerror(errno), errno);
  std::string out = real;
  std::free(real);
  return out;
}

} // namespace bulwark
