// The exec hook; see hook.hpp.
#include <bulwark/watch/hook.hpp>
#include <bulwark/watch/matchers.hpp>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h> // environ

namespace bulwark::watch {

namespace {

void replace_all(std::string &s, const std::string &what, const std::string &with) {
  for (size_t p = 0; (p = s.find(what, p)) != std::string::npos; p += with.size())
    s.replace(p, what.size(), with);
}

} // namespace

Hook::~Hook() {
  // Hooks still running are left to finish on their own (reparented to
  // init when bulwark exits); the ended ones are reaped.
  (void)reap();
}

std::vector<std::string> Hook::arguments(const BanDecision &b) const {
  std::vector<std::string> out = m_argv;
  for (size_t i = 1; i < out.size(); ++i) {
    // One pass per placeholder over the configured text: a value never
    // contains braces (addresses, numbers, jail names), so a replacement
    // cannot create another placeholder.
    replace_all(out[i], "{address}", format_address(b.source));
    replace_all(out[i], "{prefix}", std::to_string(b.prefix));
    replace_all(out[i], "{jail}", b.jail);
    replace_all(out[i], "{duration}", std::to_string(b.duration));
  }
  return out;
}

std::string Hook::json(const BanDecision &b) {
  nlohmann::ordered_json j = {{"jail", b.jail},         {"address", format_address(b.source)},
                              {"prefix", b.prefix},     {"banned_at", b.time},
                              {"duration", b.duration}, {"ban", b.nth},
                              {"failures", b.failures}, {"reason", b.reason},
                              {"lines", b.lines}};
  return j.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

bool Hook::run(const BanDecision &b) {
  (void)reap();
  if (m_running.size() >= k_max_running)
    return false;
  // A socket pair, not a pipe: send(MSG_NOSIGNAL) to a hook that exited
  // without reading is EPIPE, where write() to a pipe raises SIGPIPE and
  // kills the daemon (or a test) that has not ignored it.
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return false;
  posix_spawn_file_actions_t fa;
  posix_spawn_file_actions_init(&fa);
  posix_spawn_file_actions_adddup2(&fa, fds[0], STDIN_FILENO);
  std::vector<std::string> args = arguments(b);
  std::vector<char *> argv;
  argv.reserve(args.size() + 1);
  for (auto &a : args)
    argv.push_back(a.data());
  argv.push_back(nullptr);
  // The daemon blocks SIGTERM, SIGINT and SIGHUP (it reads them from a
  // signalfd); the hook starts with none blocked.
  posix_spawnattr_t attr;
  posix_spawnattr_init(&attr);
  sigset_t none;
  sigemptyset(&none);
  posix_spawnattr_setsigmask(&attr, &none);
  posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, argv[0], &fa, &attr, argv.data(), environ);
  posix_spawnattr_destroy(&attr);
  posix_spawn_file_actions_destroy(&fa);
  ::close(fds[0]);
  if (rc != 0) {
    ::close(fds[1]);
    return false;
  }
  m_running.push_back(pid);
  // The JSON (at most 10 lines of 1 KiB) fits the socket's buffer:
  // written at once, non-blocking so that a hook that never reads cannot
  // stall the daemon.
  const std::string doc = json(b);
  ssize_t n = ::send(fds[1], doc.data(), doc.size(), MSG_NOSIGNAL | MSG_DONTWAIT);
  ::close(fds[1]);
  (void)n; // a hook that exits without reading stdin is its business
  return true;
}

size_t Hook::reap() {
  size_t failed = 0;
  for (auto it = m_running.begin(); it != m_running.end();) {
    int status = 0;
    pid_t r = ::waitpid(*it, &status, WNOHANG);
    if (r == 0) {
      ++it;
      continue;
    }
    if (r < 0 || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
      ++failed;
    it = m_running.erase(it);
  }
  return failed;
}

} // namespace bulwark::watch
