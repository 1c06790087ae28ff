// Running a program; see process.hpp.
#include <bulwark/core/process.hpp>

#include <bulwark/core/fd.hpp>

#include <fmt/format.h>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <csignal>
#include <cstring>
#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/mman.h>
#include <sys/wait.h>
#include <unistd.h> // environ

namespace bulwark {

Result<ProgramResult> run_program(const std::vector<std::string> &argv, const std::string &input,
                                  std::chrono::milliseconds timeout) {
  // The input goes through a memfd, not a pipe: a program that exits
  // before reading all of it cannot raise SIGPIPE in the daemon, and a
  // batch of megabytes needs no writer loop.
  UniqueFd in(::memfd_create("bulwark-input", MFD_CLOEXEC));
  if (in.fd < 0)
    return Error{std::string("memfd_create: ") + std::strerror(errno)};
  for (size_t off = 0; off < input.size();) {
    ssize_t n = ::write(in.fd, input.data() + off, input.size() - off);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return Error{std::string("memfd write: ") + std::strerror(errno)};
    off += static_cast<size_t>(n);
  }
  if (::lseek(in.fd, 0, SEEK_SET) != 0)
    return Error{std::string("memfd seek: ") + std::strerror(errno)};
  int outp[2], errp[2];
  if (::pipe2(outp, O_CLOEXEC) != 0)
    return Error{std::string("pipe: ") + std::strerror(errno)};
  UniqueFd out_r(outp[0]), out_w(outp[1]);
  if (::pipe2(errp, O_CLOEXEC) != 0)
    return Error{std::string("pipe: ") + std::strerror(errno)};
  UniqueFd err_r(errp[0]), err_w(errp[1]);

  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, in.fd, STDIN_FILENO);
  posix_spawn_file_actions_adddup2(&fa, out_w.fd, STDOUT_FILENO);
  posix_spawn_file_actions_adddup2(&fa, err_w.fd, STDERR_FILENO);
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  // The daemon blocks TERM, INT and HUP (signalfd): the program must not
  // inherit that mask, nor an ignored SIGPIPE.
  sigset_t none, def;
  sigemptyset(&none);
  sigemptyset(&def);
  sigaddset(&def, SIGPIPE);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setsigdefault(&attr, &def);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
  std::vector<char *> args;
  args.reserve(argv.size() + 1);
  for (auto &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0].c_str(), &fa, &attr, args.data(), environ);
  posix_spawn_file_actions_destroy(&fa);
  posix_spawnattr_destroy(&attr);
  if (rc != 0)
    return Error{fmt::format("cannot run {}: {}", argv[0], std::strerror(rc)), argv[0]};
  out_w.reset();
  err_w.reset();
  in.reset();

  ProgramResult res;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  bool timed_out = false;
  while (out_r.fd >= 0 || err_r.fd >= 0) {
    pollfd fds[2];
    nfds_t n = 0;
    if (out_r.fd >= 0)
      fds[n++] = {out_r.fd, POLLIN, 0};
    if (err_r.fd >= 0)
      fds[n++] = {err_r.fd, POLLIN, 0};
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
        deadline - std::chrono::steady_clock::now());
    if (left.count() <= 0) {
      timed_out = true;
      break;
    }
    int r = ::poll(fds, n, static_cast<int>(std::min<int64_t>(left.count(), INT_MAX)));
    if (r < 0 && errno == EINTR)
      continue;
    if (r < 0)
      break;
    for (nfds_t i = 0; i < n; ++i) {
      if (fds[i].revents == 0)
        continue;
      char buf[65536];
      ssize_t got = ::read(fds[i].fd, buf, sizeof buf);
      if (got < 0 && errno == EINTR)
        continue;
      bool is_out = fds[i].fd == out_r.fd;
      if (got <= 0) {
        (is_out ? out_r : err_r).reset();
        continue;
      }
      std::string &dst = is_out ? res.out : res.err;
      // A runaway program does not grow the daemon without bound.
      if (dst.size() < (256u << 20))
        dst.append(buf, static_cast<size_t>(got));
    }
  }
  if (timed_out)
    ::kill(pid, SIGKILL);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  res.exit_code = !timed_out && WIFEXITED(status) ? WEXITSTATUS(status) : -1;
  if (timed_out)
    res.err +=
        fmt::format("{} did not finish within {} ms and was killed", argv[0], timeout.count());
  return res;
}

std::string find_program(const std::string &name) {
  for (const char *dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    std::string p = dir + name;
    if (::access(p.c_str(), X_OK) == 0)
      return p;
  }
  return {};
}

} // namespace bulwark
