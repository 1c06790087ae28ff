// ctime of a target file (see change_time.hpp): fstatat on the parent
// directory's descriptor, which RootFs opened inside the root, so a hostile
// image cannot point the lookup at a host file.

#include <bulwark/core/change_time.hpp>

#include <cerrno>
#include <cstring>
#include <fcntl.h>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {

Result<int64_t> change_time(const RootFs &fs, std::string_view target_path) {
  std::string path = RootFs::join("/", target_path);
  size_t slash = path.rfind('/');
  std::string dir = slash == 0 ? "/" : path.substr(0, slash);
  std::string name = path.substr(slash + 1);
  if (name.empty())
    return Error{"not a file", path};
  auto d = TRY(fs.open_dir(dir));
  struct stat st {};
  int rc = ::fstatat(d.fd, name.c_str(), &st, AT_SYMLINK_NOFOLLOW);
  int err = errno;
  ::close(d.fd);
  if (rc != 0) {
    Error e{std::strerror(err), path};
    e.sys_errno = err;
    return e;
  }
  if (S_ISLNK(st.st_mode))
    return Error{"a symbolic link", path};
  return static_cast<int64_t>(st.st_ctime);
}

} // namespace bulwark
