// Every test process reads its own /dev/null as standard input, opened
// before main(). CTest hands all tests it runs at once the same open stdin
// (libuv UV_INHERIT_FD), so a flag one process sets on it reaches every
// other: OpenSSH's client sets O_NONBLOCK on a stdin that is not a tty
// while its session is open (channels.c), and ansible-playbook exits 1 at
// start when its stdin is non-blocking (ansible/cli/__init__.py,
// check_blocking_io). That is how FixDebianE2e's ssh logins once failed
// Ansible's syntax check in CI, with nothing printed. No test reads stdin.

#include <fcntl.h>
#include <unistd.h>

namespace {

const bool k_private_stdin = [] {
  int fd = ::open("/dev/null", O_RDONLY);
  if (fd > 0) { // 0: stdin was closed and /dev/null now is stdin
    ::dup2(fd, 0);
    ::close(fd);
  }
  return true;
}();

} // namespace
