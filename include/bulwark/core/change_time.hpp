#pragma once
// The inode change time (ctime) of a file of the target. FileInfo leaves it
// out; os.package-integrity needs it to tell a file dpkg unpacked and nobody
// touched since (every write, chmod, chown or rename sets ctime to the
// present, and user space cannot set it back) from one it must hash.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <string_view>

namespace bulwark {

// Seconds since the epoch. The directories are resolved inside the root
// (RootFs::open_dir); the last component is not followed: a symbolic link is
// an error (EINVAL), as are ENOENT and the errors of open_dir.
Result<int64_t> change_time(const RootFs &fs, std::string_view target_path);

} // namespace bulwark
