#pragma once
// Real PostgreSQL 15 and redis-server instances for the differential and
// live tests: each in a temporary directory, on a loopback port the test
// picks, stopped (and the directory removed) by the destructor, also when
// the test fails. PostgreSQL refuses to run as root: under root everything
// runs as the `postgres` account (runuser) in a directory it owns.

#include "../support.hpp"

#include <arpa/inet.h>
#include <atomic>
#include <chrono>
#include <csignal>
#include <filesystem>
#include <netinet/in.h>
#include <poll.h>
#include <pwd.h>
#include <string>
#include <sys/socket.h>
#include <thread>
#include <unistd.h>
#include <vector>

namespace bulwark::test {

inline const std::string k_pg_bin = "/usr/lib/postgresql/15/bin";

// A TCP port that was free a moment ago on 127.0.0.1 and ::1.
inline int free_port() {
  for (int attempt = 0; attempt < 50; attempt++) {
    int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
    if (fd < 0)
      return 0;
    int off = 0;
    ::setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof off);
    sockaddr_in6 a{};
    a.sin6_family = AF_INET6;
    a.sin6_addr = in6addr_any;
    socklen_t len = sizeof a;
    int port = 0;
    if (::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0 &&
        ::getsockname(fd, reinterpret_cast<sockaddr *>(&a), &len) == 0)
      port = ntohs(a.sin6_port);
    ::close(fd);
    if (port > 1024)
      return port;
  }
  return 0;
}

inline bool have_ipv6_loopback() {
  int fd = ::socket(AF_INET6, SOCK_STREAM, 0);
  if (fd < 0)
    return false;
  sockaddr_in6 a{};
  a.sin6_family = AF_INET6;
  a.sin6_addr = in6addr_loopback;
  bool ok = ::bind(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// Prefix that runs a command as the postgres account when we are root.
inline std::string as_postgres() {
  return ::geteuid() == 0 ? "runuser -u postgres -- " : "";
}

// A directory the server account owns (removed by the destructor).
class ServerDir {
public:
  ServerDir() {
    std::string tmpl = "/tmp/bw-db-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
      std::abort();
    m_path = tmpl;
    if (::geteuid() == 0)
      if (passwd *pw = ::getpwnam("postgres"))
        if (::chown(m_path.c_str(), pw->pw_uid, pw->pw_gid) != 0)
          std::abort();
  }
  ~ServerDir() {
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  const std::string &path() const { return m_path; }
  // Writes a file the server account can read.
  void write(const std::string &rel, const std::string &content) const {
    auto p = std::filesystem::path(m_path) / rel;
    std::filesystem::create_directories(p.parent_path());
    {
      std::ofstream out(p, std::ios::binary | std::ios::trunc);
      out << content;
    }
    if (::geteuid() == 0)
      if (passwd *pw = ::getpwnam("postgres")) {
        for (auto d = p; d.string().size() > m_path.size(); d = d.parent_path())
          if (::chown(d.c_str(), pw->pw_uid, pw->pw_gid) != 0)
            std::abort();
      }
  }

private:
  std::string m_path;
};

// Why a PostgreSQL server cannot run here, or "" when it can.
inline std::string postgres_unavailable() {
  if (!std::filesystem::exists(k_pg_bin + "/postgres"))
    return "PostgreSQL 15 is not installed (" + k_pg_bin + "/postgres; Debian package postgresql)";
  if (::geteuid() == 0 && ::getpwnam("postgres") == nullptr)
    return "running as root without a postgres account to run the server as";
  if (::geteuid() == 0 && run_command("command -v runuser").exit_code != 0)
    return "runuser is missing";
  return "";
}

// initdb + pg_ctl start on 127.0.0.1 and ::1 (and a socket in the directory).
class PgServer {
public:
  // Empty error(): running. The initial pg_hba.conf trusts the unix socket.
  PgServer() {
    m_port = free_port();
    std::string init = as_postgres() + k_pg_bin + "/initdb -D " + data() +
                       " -U postgres -A trust --no-sync --no-instructions -E UTF8 --locale=C";
    auto r = run_command(init);
    if (r.exit_code != 0) {
      m_error = "initdb failed: " + r.err;
      return;
    }
    m_dir.write("data/pg_hba.conf", "local all all trust\n");
    std::string listen = have_ipv6_loopback() ? "127.0.0.1,::1" : "127.0.0.1";
    std::string start = as_postgres() + k_pg_bin + "/pg_ctl -D " + data() + " -l " + m_dir.path() +
                        "/log -w -t 30 -o \"-p " + std::to_string(m_port) + " -k " + m_dir.path() +
                        " -c listen_addresses=" + listen + " -c fsync=off\" start";
    r = run_command(start);
    if (r.exit_code != 0) {
      m_error = "pg_ctl start failed: " + r.out + r.err;
      return;
    }
    m_running = true;
  }
  ~PgServer() {
    if (m_running)
      (void)run_command(as_postgres() + k_pg_bin + "/pg_ctl -D " + data() + " -m immediate stop");
  }
  const std::string &error() const { return m_error; }
  int port() const { return m_port; }
  std::string data() const { return m_dir.path() + "/data"; }
  const std::string &socket_dir() const { return m_dir.path(); }
  const ServerDir &dir() const { return m_dir; }

private:
  ServerDir m_dir;
  int m_port = 0;
  bool m_running = false;
  std::string m_error;
};

// redis-server on a loopback port with a given configuration.
class RedisServer {
public:
  // `config` without port/daemonize/dir lines: those are added. `args`
  // (shell-quoted) follow the file on redis-server's command line.
  RedisServer(const std::string &config, int port = 0, const std::string &args = "") {
    m_port = port ? port : free_port();
    m_conf = m_dir.path() + "/redis.conf";
    m_dir.write("redis.conf", config + "\nport " + std::to_string(m_port) +
                                  "\ndaemonize yes\npidfile " + m_dir.path() + "/redis.pid\ndir " +
                                  m_dir.path() + "\nlogfile " + m_dir.path() +
                                  "/log\nsave \"\"\nappendonly no\n");
    auto r = run_command("cd " + m_dir.path() + " && redis-server " + m_conf +
                         (args.empty() ? "" : " " + args));
    if (r.exit_code != 0) {
      m_error = "redis-server failed: " + r.out + r.err;
      return;
    }
    // Wait until it answers (or the log says why not).
    for (int i = 0; i < 100; i++) {
      if (std::filesystem::exists(m_dir.path() + "/redis.pid"))
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    m_running = std::filesystem::exists(m_dir.path() + "/redis.pid");
    if (!m_running) {
      m_error = "redis-server did not start";
      return;
    }
    // The pid file can exist before its content is written: an empty read
    // is not an exited server.
    pid_t pid = this->pid();
    for (int i = 0; i < 100 && pid <= 0; i++) {
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
      pid = this->pid();
    }
    // Some fatal errors (ACL rules) come after daemonizing: wait until the
    // port accepts, or the process is gone.
    for (int i = 0; i < 200; i++) {
      if (!alive(pid)) {
        m_running = false;
        std::ifstream log(m_dir.path() + "/log");
        m_error = "redis-server exited: " + bulwark::test::read_all(log);
        return;
      }
      int fd = ::socket(AF_INET, SOCK_STREAM, 0);
      sockaddr_in a{};
      a.sin_family = AF_INET;
      a.sin_port = htons(static_cast<uint16_t>(m_port));
      a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
      bool up = ::connect(fd, reinterpret_cast<sockaddr *>(&a), sizeof a) == 0;
      // The ACL load happens after listening, before the event loop serves
      // anyone: any reply (+PONG, or -NOAUTH with requirepass) means startup
      // is over (a fixed pause was a race on a loaded machine); a close means
      // it exited.
      bool pong = false;
      if (up && ::write(fd, "PING\r\n", 6) == 6) {
        pollfd p{fd, POLLIN, 0};
        char buf[16] = {};
        if (::poll(&p, 1, 10000) == 1 && ::read(fd, buf, sizeof buf - 1) > 0)
          pong = buf[0] == '+' || buf[0] == '-';
      }
      ::close(fd);
      if (pong)
        return;
      std::this_thread::sleep_for(std::chrono::milliseconds(10));
    }
  }
  // kill(pid, 0) succeeds on a zombie (a container's init may not reap).
  static bool alive(pid_t pid) {
    if (pid <= 0 || ::kill(pid, 0) != 0)
      return false;
    std::ifstream st("/proc/" + std::to_string(pid) + "/stat");
    std::string line;
    std::getline(st, line);
    auto close = line.rfind(')');
    return close == std::string::npos || close + 2 >= line.size() || line[close + 2] != 'Z';
  }
  pid_t pid() const {
    std::ifstream in(m_dir.path() + "/redis.pid");
    pid_t pid = 0;
    in >> pid;
    return pid;
  }
  ~RedisServer() {
    if (m_running) {
      pid_t pid = this->pid();
      if (pid > 0) {
        ::kill(pid, SIGKILL);
        for (int i = 0; i < 100 && alive(pid); i++)
          std::this_thread::sleep_for(std::chrono::milliseconds(10));
      }
    }
  }
  const std::string &error() const { return m_error; }
  int port() const { return m_port; }
  const std::string &conf() const { return m_conf; }
  const std::string &dir() const { return m_dir.path(); }

private:
  ServerDir m_dir;
  int m_port = 0;
  bool m_running = false;
  std::string m_conf;
  std::string m_error;
};

// A TCP server on 127.0.0.1 that accepts and then stays silent, or answers
// garbage and closes.
class FakeServer {
public:
  // silent: accept and never answer. reset: wait for the client's first
  // bytes, then close with them unread and SO_LINGER 0 (a reset, always).
  explicit FakeServer(std::string reply, bool silent, bool reset = false)
      : m_reply(std::move(reply)) {
    m_fd = ::socket(AF_INET, SOCK_STREAM, 0);
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t len = sizeof a;
    if (::bind(m_fd, reinterpret_cast<sockaddr *>(&a), sizeof a) != 0 || ::listen(m_fd, 8) != 0 ||
        ::getsockname(m_fd, reinterpret_cast<sockaddr *>(&a), &len) != 0)
      std::abort();
    m_port = ntohs(a.sin_port);
    m_thread = std::thread([this, silent, reset] {
      for (;;) {
        int c = ::accept(m_fd, nullptr, nullptr);
        if (c < 0)
          return;
        if (m_stop) {
          ::close(c);
          return;
        }
        if (silent) {
          m_held.push_back(c); // keep it open, say nothing
          continue;
        }
        if (reset) {
          char one;
          (void)::recv(c, &one, 1, MSG_PEEK); // the request is there, unread
          linger l{1, 0};
          (void)::setsockopt(c, SOL_SOCKET, SO_LINGER, &l, sizeof l);
          ::close(c);
          continue;
        }
        char buf[512];
        (void)::recv(c, buf, sizeof buf, MSG_DONTWAIT);
        (void)::send(c, m_reply.data(), m_reply.size(), MSG_NOSIGNAL);
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        ::close(c);
      }
    });
  }
  ~FakeServer() {
    m_stop = true;
    ::shutdown(m_fd, SHUT_RDWR);
    ::close(m_fd);
    m_thread.join();
    for (int c : m_held)
      ::close(c);
  }
  int port() const { return m_port; }

private:
  int m_fd = -1;
  int m_port = 0;
  std::string m_reply;
  std::atomic<bool> m_stop{false};
  std::vector<int> m_held;
  std::thread m_thread;
};

} // namespace bulwark::test
