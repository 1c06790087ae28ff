#pragma once
// Bounded waits for tests that start processes: never a fixed sleep that a
// loaded CI machine or the sanitizer build can outlast. In a header of its
// own so that support.hpp, which nearly every test includes, stays stable.

#include "support.hpp"

#include <chrono>
#include <filesystem>
#include <functional>
#include <string>
#include <sys/types.h>
#include <thread>
#include <unistd.h>

namespace bulwark::test {

// `cond` within `ms` on an idle machine; hang_bound() stretches it under the
// sanitizers (and BULWARK_TEST_TIME_SCALE), where the daemon and every `ip
// netns exec` start several times slower and a loaded CI machine misses
// plain deadlines.
// Polls `cond` every 50 ms until it holds or `ms` (scaled by hang_bound)
// have passed, by the clock: a condition that itself takes a second (a curl
// to a dropped port) must not stretch the wait twentyfold.
inline bool wait_for(const std::function<bool()> &cond, int ms) {
  const auto deadline =
      std::chrono::steady_clock::now() + hang_bound(std::chrono::milliseconds(ms));
  while (std::chrono::steady_clock::now() < deadline) {
    if (cond())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return cond();
}

// Waits until the forked child `pid` has exec'd `exe` (its /proc/PID/exe
// names it), instead of a fixed sleep: forking the large sanitizer process
// on a loaded machine can take longer than any fixed pause, and until the
// exec the child is still a copy of the test binary. False when the bound
// (2 s, scaled by hang_bound) passes first.
inline bool wait_for_exec(pid_t pid, const std::string &exe) {
  auto until = std::chrono::steady_clock::now() + hang_bound(std::chrono::milliseconds(2000));
  std::string link = "/proc/" + std::to_string(pid) + "/exe";
  std::error_code cec;
  auto want = std::filesystem::weakly_canonical(exe, cec); // /bin/x is /usr/bin/x
  while (std::chrono::steady_clock::now() < until) {
    std::error_code ec;
    auto target = std::filesystem::read_symlink(link, ec);
    if (!ec && (target == want || target == std::filesystem::path(exe)))
      return true;
    ::usleep(5 * 1000);
  }
  return false;
}

} // namespace bulwark::test
