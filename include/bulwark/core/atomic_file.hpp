#pragma once
// Writes that never lose data: a temporary file in the same directory,
// fsync, rename over the destination, fsync of the directory. A reader sees
// the old contents or the new, never a mix; a crash leaves the old file.

#include <bulwark/core/result.hpp>

#include <string>
#include <string_view>

namespace bulwark {

// REQUIRES: the directory of `host_path` exists. Keeps the mode of an
// existing destination, else 0644 (before umask). Writing to "-" or a
// character device (e.g. /dev/stdout, /dev/null) writes straight through.
Result<Unit> write_file_atomic(const std::string &host_path, std::string_view data);

} // namespace bulwark
