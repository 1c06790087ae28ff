#pragma once
// HostFs: the only way bulwark reads the auditor's own files, the ones the
// user names on the command line (--profile, --waivers, --baseline, and
// --compose/--env-file outside the audited root). The audited system is read
// through RootFs, never through this.
//
// Paths are taken as typed (relative to the current directory, symlinks
// followed: they are the user's), but what they name is not trusted to be a
// sane file: the open does not wait (O_NONBLOCK, so a FIFO returns at once),
// anything but a regular file is refused (/dev/zero would never end), and
// the size is capped twice, from fstat before reading and by counting while
// reading (a file that grows).

#include <bulwark/core/result.hpp>

#include <cstddef>
#include <string>
#include <string_view>

namespace bulwark {

class HostFs {
public:
  // Contents of the regular file at host_path, at most max_bytes. Errors
  // carry host_path and sys_errno (ENOENT only when it is absent); their
  // message starts with `what` ("cannot read waivers: ") unless it is "".
  static Result<std::string> read_file(const std::string &host_path, size_t max_bytes,
                                       std::string_view what = "cannot read");

  // Whether host_path names a regular file (following symlinks).
  static bool is_file(const std::string &host_path);

  // realpath(3) of host_path, or an Error with its errno.
  static Result<std::string> real_path(const std::string &host_path);
};

} // namespace bulwark
