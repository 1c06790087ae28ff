// Validation before activation (see validate.hpp).
//
// How the overlay is applied without touching the root: a child process
// unshares its mount namespace (CLONE_NEWNS), makes "/" recursively private
// (nothing it mounts propagates back), mounts a tmpfs on a scratch directory
// and places the overlay from there:
// - a changed file that exists as a regular file: its new content is
//   written to the tmpfs and bind-mounted over the root's file (mode and
//   owner copied from it);
// - a created or removed file (or one that exists as a symlink or anything
//   but a regular file): the directory holding it (or, when that is missing
//   too, its nearest existing ancestor) is replaced by a tmpfs copy: every
//   entry bind-mounted from the original (symlinks recreated), the removed
//   entries left out, the new files written in, then the copy bind-mounted
//   over the directory.
// Nothing is ever written through a path of the root. Then, for a --root
// other than "/": when the root has the checker program the child chroots
// into it (with the host's /dev and /proc bound in when the root has those
// directories); else it runs the host's program with the root's
// configuration (e.g. /etc/ssh) bound over the host's, placed the same way.
// The checker then execs with its output on a pipe, in its own process
// group: the parent enforces a timeout (SIGKILL to the group) and an output
// cap. A failure to set up (unshare EPERM, a mount, the exec) comes back on
// a close-on-exec status pipe and is an Error, never an acceptance. The
// namespace and its mounts vanish with the process.

#include <bulwark/fix/validate.hpp>

#include <bulwark/core/rootfs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/compose_deploy.hpp>
#include <bulwark/parse/pg_hba.hpp>
#include <bulwark/parse/postgresql_conf.hpp>
#include <bulwark/parse/sysctl.hpp>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <grp.h>
#include <iterator>
#include <memory>
#include <poll.h>
#include <sched.h>
#include <set>
#include <signal.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace bulwark::fix {

const char *validator_name(Validator v) {
  switch (v) {
  case Validator::sshd: return "sshd";
  case Validator::visudo: return "visudo";
  case Validator::nginx: return "nginx";
  case Validator::nft: return "nft";
  case Validator::postgres: return "postgres";
  case Validator::fail2ban: return "fail2ban";
  case Validator::compose: return "compose";
  case Validator::sysctl: return "sysctl";
  case Validator::redis: return "redis";
  case Validator::pg_hba: return "pg_hba";
  case Validator::pam: return "pam";
  case Validator::fstab: return "fstab";
  case Validator::iptables: return "iptables";
  case Validator::ip6tables: return "ip6tables";
  }
  return "unknown";
}

namespace {

constexpr int k_setup_failed = 126;

// --- Paths -----------------------------------------------------------------

std::string validate_host_path(const std::string &root, const std::string &path) {
  if (root.empty() || root == "/")
    return path;
  std::string r = root;
  while (r.size() > 1 && r.back() == '/')
    r.pop_back();
  return r + path;
}

bool is_under(const std::string &p, const std::string &dir) {
  if (dir == "/")
    return true;
  return p.size() > dir.size() && p.compare(0, dir.size(), dir) == 0 && p[dir.size()] == '/';
}

bool exists_l(const std::string &p, struct stat *st = nullptr) {
  struct stat s;
  bool ok = ::lstat(p.c_str(), &s) == 0;
  if (ok && st != nullptr)
    *st = s;
  return ok;
}

bool is_dir(const std::string &p) {
  struct stat s;
  return ::stat(p.c_str(), &s) == 0 && S_ISDIR(s.st_mode);
}

bool is_executable_file(const std::string &p) {
  struct stat s;
  return ::stat(p.c_str(), &s) == 0 && S_ISREG(s.st_mode) && ::access(p.c_str(), X_OK) == 0;
}

// Rejects what could climb out of the root or name nothing.
Result<Unit> check_overlay_path(const std::string &p) {
  if (p.empty() || p.front() != '/' || p.back() == '/')
    return Error{"overlay path is not an absolute file path", p};
  for (size_t start = 1; start <= p.size();) {
    size_t end = p.find('/', start);
    if (end == std::string::npos)
      end = p.size();
    std::string_view part(p.data() + start, end - start);
    if (part.empty() || part == "." || part == "..")
      return Error{"overlay path has an empty, '.' or '..' component", p};
    start = end + 1;
  }
  return Unit{};
}

// --- The child's side: placing files (runs after fork, in the namespace) ----

// What ends up at a host path in the namespace.
struct Placement {
  std::string target;                 // host path in the namespace
  std::optional<std::string> content; // nullopt with bind_from empty: removed
  std::string bind_from;              // non-empty: bind this host path there
  mode_t new_mode = 0644;             // for a created file
};

struct SetupError {
  std::string message;
  int err = 0;
};

class Stager {
public:
  explicit Stager(std::string scratch) : m_scratch(std::move(scratch)) {}

  std::optional<SetupError> place(const std::vector<Placement> &all) {
    // Which directories need a tmpfs copy, and which files a bind.
    std::vector<std::string> dirs;
    for (const auto &p : all) {
      struct stat st;
      bool exists = exists_l(p.target, &st);
      bool plain = exists && (p.bind_from.empty() ? S_ISREG(st.st_mode)
                                                  : (S_ISREG(st.st_mode) || S_ISDIR(st.st_mode)));
      if (plain && (p.content || !p.bind_from.empty()))
        continue; // mounted over in place
      std::string d = text::parent_dir(p.target);
      while (!is_dir(d) || !exists_l(d))
        d = text::parent_dir(d);
      if (std::find(dirs.begin(), dirs.end(), d) == dirs.end())
        dirs.push_back(d);
    }
    std::sort(dirs.begin(), dirs.end(),
              [](const std::string &a, const std::string &b) { return a.size() < b.size(); });
    for (const auto &d : dirs)
      if (auto e = replace_dir(d, all))
        return e;
    for (const auto &p : all) {
      if (handled(p, dirs))
        continue;
      if (!p.bind_from.empty()) {
        if (::mount(p.bind_from.c_str(), p.target.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
          return SetupError{"bind " + p.bind_from + " over " + p.target, errno};
        continue;
      }
      struct stat st;
      if (::lstat(p.target.c_str(), &st) != 0)
        return SetupError{"stat " + p.target, errno};
      std::string staged = next_name();
      if (auto e = write_file(staged, *p.content, st.st_mode & 07777, st.st_uid, st.st_gid))
        return e;
      if (::mount(staged.c_str(), p.target.c_str(), nullptr, MS_BIND, nullptr) != 0)
        return SetupError{"bind over " + p.target, errno};
    }
    return std::nullopt;
  }

private:
  // Whether the placement went into a replaced directory's copy.
  static bool handled(const Placement &p, const std::vector<std::string> &dirs) {
    for (const auto &d : dirs)
      if (is_under(p.target, d) && covering(p.target, d, dirs))
        return true;
    return false;
  }
  // `d` is the deepest replaced directory above `t`.
  static bool covering(const std::string &t, const std::string &d,
                       const std::vector<std::string> &dirs) {
    for (const auto &o : dirs)
      if (o.size() > d.size() && is_under(o, d) && is_under(t, o))
        return false;
    // Only files created below d through a missing chain, or directly in d.
    std::string rest = t.substr(d == "/" ? 1 : d.size() + 1);
    if (rest.find('/') == std::string::npos)
      return true;
    std::string first =
        d == "/" ? "/" + rest.substr(0, rest.find('/')) : d + "/" + rest.substr(0, rest.find('/'));
    return !exists_l(first); // the chain is created in the copy
  }

  std::string next_name() { return m_scratch + "/s" + std::to_string(m_serial++); }

  static std::optional<SetupError> write_file(const std::string &path, const std::string &content,
                                              mode_t mode, uid_t uid, gid_t gid) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (fd < 0)
      return SetupError{"create " + path, errno};
    size_t off = 0;
    while (off < content.size()) {
      ssize_t n = ::write(fd, content.data() + off, content.size() - off);
      if (n < 0 && errno == EINTR)
        continue;
      if (n <= 0) {
        int e = errno;
        ::close(fd);
        return SetupError{"write " + path, e};
      }
      off += static_cast<size_t>(n);
    }
    if (::fchown(fd, uid, gid) != 0 || ::fchmod(fd, mode) != 0) {
      int e = errno;
      ::close(fd);
      return SetupError{"chown/chmod " + path, e};
    }
    ::close(fd);
    return std::nullopt;
  }

  std::optional<SetupError> replace_dir(const std::string &d, const std::vector<Placement> &all) {
    struct stat dst;
    if (::stat(d.c_str(), &dst) != 0)
      return SetupError{"stat " + d, errno};
    std::string copy = next_name();
    if (::mkdir(copy.c_str(), 0700) != 0)
      return SetupError{"mkdir " + copy, errno};
    auto in_overlay = [&](const std::string &full) {
      return std::any_of(all.begin(), all.end(), [&](const Placement &p) {
        return p.target == full || (is_under(p.target, full) && !is_dir(full));
      });
    };
    DIR *dir = ::opendir(d.c_str());
    if (dir == nullptr)
      return SetupError{"open directory " + d, errno};
    std::vector<std::string> names;
    while (auto *ent = ::readdir(dir)) {
      std::string n = ent->d_name;
      if (n != "." && n != "..")
        names.push_back(n);
    }
    ::closedir(dir);
    for (const auto &n : names) {
      std::string full = d == "/" ? "/" + n : d + "/" + n;
      std::string dest = copy + "/" + n;
      bool bound_over = std::any_of(all.begin(), all.end(), [&](const Placement &p) {
        return p.target == full && !p.bind_from.empty();
      });
      if (in_overlay(full) && !bound_over)
        continue; // removed or written below
      struct stat st;
      if (::lstat(full.c_str(), &st) != 0)
        return SetupError{"stat " + full, errno};
      if (S_ISLNK(st.st_mode)) {
        std::string buf(4096, '\0');
        ssize_t len = ::readlink(full.c_str(), buf.data(), buf.size());
        if (len < 0)
          return SetupError{"readlink " + full, errno};
        buf.resize(static_cast<size_t>(len));
        if (::symlink(buf.c_str(), dest.c_str()) != 0)
          return SetupError{"symlink " + dest, errno};
        continue;
      }
      int rc = S_ISDIR(st.st_mode) ? ::mkdir(dest.c_str(), 0700)
                                   : ::close(::open(dest.c_str(), O_WRONLY | O_CREAT, 0600));
      if (rc != 0)
        return SetupError{"create mount point " + dest, errno};
      if (::mount(full.c_str(), dest.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        return SetupError{"bind " + full, errno};
    }
    // The new files that live in this copy (directly, or below a chain of
    // directories the root does not have).
    for (const auto &p : all) {
      if (!is_under(p.target, d) || !covering(p.target, d, {}))
        continue;
      std::string rel = p.target.substr(d == "/" ? 1 : d.size() + 1);
      std::string dest = copy + "/" + rel;
      for (size_t s = rel.find('/'); s != std::string::npos; s = rel.find('/', s + 1)) {
        std::string sub = copy + "/" + rel.substr(0, s);
        if (!exists_l(sub) && ::mkdir(sub.c_str(), 0755) != 0)
          return SetupError{"mkdir " + sub, errno};
      }
      if (!p.bind_from.empty()) {
        bool dir_source = is_dir(p.bind_from);
        int rc = dir_source ? ::mkdir(dest.c_str(), 0755)
                            : ::close(::open(dest.c_str(), O_WRONLY | O_CREAT, 0600));
        if (rc != 0 && !exists_l(dest))
          return SetupError{"create mount point " + dest, errno};
        if (::mount(p.bind_from.c_str(), dest.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
          return SetupError{"bind " + p.bind_from, errno};
        continue;
      }
      if (!p.content)
        continue; // removed: left out of the copy
      if (auto e = write_file(dest, *p.content, p.new_mode, 0, 0))
        return e;
    }
    if (::chown(copy.c_str(), dst.st_uid, dst.st_gid) != 0 ||
        ::chmod(copy.c_str(), dst.st_mode & 07777) != 0)
      return SetupError{"chown/chmod " + copy, errno};
    if (::mount(copy.c_str(), d.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
      return SetupError{"bind copy over " + d, errno};
    return std::nullopt;
  }

  std::string m_scratch;
  int m_serial = 0;
};

// --- The checkers ----------------------------------------------------------

struct Job {
  std::string program_label;           // for Validation::program
  std::vector<std::string> argv;       // argv[0] absolute (inside the root when chrooted)
  std::vector<std::string> candidates; // where the program may live
  std::vector<std::string> config_paths;
  // The file the checker reads first (inside the root): it must exist in
  // the root or the overlay, else a host-side checker would judge the
  // host's configuration instead.
  std::string main_config;                       // the root's configuration, bound over the host's
  std::string cwd = "/";                         // inside the root
  std::optional<std::pair<uid_t, gid_t>> run_as; // drop root first (postgres refuses it)
  bool in_process_sysctl = false;
  // pg_hba.conf files bulwark's own hba.c reader parses in the namespace.
  std::vector<std::string> in_process_pg_hba;
  // The checker "accepts" by printing this (and may exit non-zero): for
  // redis-server, which has no configuration test.
  std::string accept_output;
  std::string reject_output; // ... unless it also printed this (a bad line is echoed)
  // Runtime directories under /run the checker insists on (sshd's privilege
  // separation directory, made by systemd at service start, so missing in
  // an offline root): a tmpfs on /run in the namespace provides them.
  std::vector<std::string> runtime_dirs;
  // Directories (inside the root) the checker writes: after the overlay is
  // placed each is copied into the scratch tmpfs and the copy mounted over
  // it, so its writes (and renames) land in the copy, never in the root.
  std::vector<std::string> writable_dirs;
};

void validate_write_all(int fd, std::string_view s) {
  while (!s.empty()) {
    ssize_t n = ::write(fd, s.data(), s.size());
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return;
    s.remove_prefix(static_cast<size_t>(n));
  }
}

// A copy of directory `dir` (its files, symlinks and their attributes; no
// subdirectories) in `copy`, mounted over `dir`.
std::optional<SetupError> writable_copy(const std::string &dir, const std::string &copy) {
  struct stat dst;
  if (::stat(dir.c_str(), &dst) != 0)
    return SetupError{"stat " + dir, errno};
  if (::mkdir(copy.c_str(), 0700) != 0)
    return SetupError{"mkdir " + copy, errno};
  DIR *d = ::opendir(dir.c_str());
  if (d == nullptr)
    return SetupError{"open directory " + dir, errno};
  std::vector<std::string> names;
  while (auto *ent = ::readdir(d))
    if (std::strcmp(ent->d_name, ".") != 0 && std::strcmp(ent->d_name, "..") != 0)
      names.emplace_back(ent->d_name);
  ::closedir(d);
  for (const auto &n : names) {
    std::string from = dir + "/" + n, to = copy + "/" + n;
    struct stat st;
    if (::lstat(from.c_str(), &st) != 0)
      return SetupError{"stat " + from, errno};
    if (S_ISLNK(st.st_mode)) {
      std::string buf(4096, '\0');
      ssize_t len = ::readlink(from.c_str(), buf.data(), buf.size());
      if (len < 0)
        return SetupError{"readlink " + from, errno};
      buf.resize(static_cast<size_t>(len));
      if (::symlink(buf.c_str(), to.c_str()) != 0)
        return SetupError{"symlink " + to, errno};
      continue;
    }
    if (!S_ISREG(st.st_mode))
      continue;
    int in = ::open(from.c_str(), O_RDONLY | O_CLOEXEC);
    if (in < 0)
      return SetupError{"open " + from, errno};
    int out = ::open(to.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    if (out < 0) {
      int e = errno;
      ::close(in);
      return SetupError{"create " + to, e};
    }
    char buf[65536];
    ssize_t r;
    while ((r = ::read(in, buf, sizeof buf)) > 0)
      validate_write_all(out, std::string_view(buf, static_cast<size_t>(r)));
    bool ok = r == 0 && ::fchown(out, st.st_uid, st.st_gid) == 0 &&
              ::fchmod(out, st.st_mode & 07777) == 0;
    int e = errno;
    ::close(in);
    ::close(out);
    if (!ok)
      return SetupError{"copy " + from, e};
  }
  if (::chown(copy.c_str(), dst.st_uid, dst.st_gid) != 0 ||
      ::chmod(copy.c_str(), dst.st_mode & 07777) != 0)
    return SetupError{"chown/chmod " + copy, errno};
  if (::mount(copy.c_str(), dir.c_str(), nullptr, MS_BIND, nullptr) != 0)
    return SetupError{"bind copy over " + dir, errno};
  return std::nullopt;
}

[[noreturn]] void child_fail(int status_fd, const SetupError &e) {
  std::string msg = e.message;
  if (e.err != 0)
    msg += std::string(": ") + std::strerror(e.err);
  validate_write_all(status_fd, msg);
  ::_exit(k_setup_failed);
}

// The sysctl "checker": bulwark's own parser over the namespace's view.
[[noreturn]] void run_sysctl_parse(const std::string &root) {
  SysctlOptions opts;
  opts.read_live = false;
  auto model = load_sysctl(RootFs(root), opts);
  std::string out;
  bool bad = false;
  for (const auto &d : model.diagnostics) {
    if (!d.is_error())
      continue;
    bad = true;
    out += d.loc.path;
    if (d.loc.line > 0)
      out += ":" + std::to_string(d.loc.line);
    out += ": " + d.message + "\n";
  }
  if (!bad)
    out = "sysctl.d: " + std::to_string(model.files.size()) + " files parse\n";
  validate_write_all(STDOUT_FILENO, out);
  ::_exit(bad ? 1 : 0);
}

// The pg_hba "checker": bulwark's pg_hba.conf reader (hba.c of the
// cluster's release) over the namespace's view; an error diagnostic (a line
// the server would refuse to load, file:line) rejects.
[[noreturn]] void run_pg_hba_parse(const std::string &root, const std::vector<std::string> &paths) {
  RootFs fs(root);
  std::string out;
  bool bad = false;
  for (const auto &path : paths) {
    pg::HbaOptions opts;
    // /etc/postgresql/16/main/pg_hba.conf: the release decides the syntax.
    if (path.starts_with("/etc/postgresql/")) {
      int v = std::atoi(path.c_str() + std::strlen("/etc/postgresql/"));
      if (v > 0)
        opts.major_version = v;
    }
    pg::HbaFile f = pg::load_pg_hba(fs, path, opts);
    for (const auto &d : f.diagnostics) {
      if (!d.is_error())
        continue;
      bad = true;
      out += d.loc.path;
      if (d.loc.line > 0)
        out += ":" + std::to_string(d.loc.line);
      out += ": " + d.message + "\n";
    }
    if (!bad)
      out += path + ": " + std::to_string(f.rules.size()) + " rules load\n";
  }
  validate_write_all(STDOUT_FILENO, out);
  ::_exit(bad ? 1 : 0);
}

[[noreturn]] void child_main(const Job &job, const std::string &root, bool chroot_into,
                             const std::string &scratch,
                             const std::vector<std::vector<Placement>> &phases, int status_fd) {
  ::setpgid(0, 0);
  if (::unshare(CLONE_NEWNS) != 0)
    child_fail(status_fd, {"unshare(CLONE_NEWNS)", errno});
  if (::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
    child_fail(status_fd, {"make / private", errno});
  if (::mount("bulwark-validate", scratch.c_str(), "tmpfs", MS_NOSUID | MS_NODEV, "mode=0700") != 0)
    child_fail(status_fd, {"mount tmpfs on " + scratch, errno});
  // The overlay first, then the root's configuration over the host's (its
  // sources must already show the overlay).
  Stager stager(scratch);
  for (const auto &placements : phases)
    if (auto e = stager.place(placements))
      child_fail(status_fd, *e);
  for (size_t i = 0; i < job.writable_dirs.size(); ++i) {
    std::string dir = validate_host_path(root, job.writable_dirs[i]);
    if (!is_dir(dir))
      continue;
    if (auto e = writable_copy(dir, scratch + "/w" + std::to_string(i)))
      child_fail(status_fd, *e);
  }
  if (job.in_process_sysctl)
    run_sysctl_parse(root);
  if (!job.in_process_pg_hba.empty())
    run_pg_hba_parse(root, job.in_process_pg_hba);
  if (chroot_into) {
    for (const char *sys : {"/dev", "/proc"}) {
      std::string inside = validate_host_path(root, sys);
      if (is_dir(inside) && ::mount(sys, inside.c_str(), nullptr, MS_BIND | MS_REC, nullptr) != 0)
        child_fail(status_fd, {std::string("bind ") + sys + " into the root", errno});
    }
    if (::chroot(root.c_str()) != 0)
      child_fail(status_fd, {"chroot " + root, errno});
  }
  bool run_replaced = false;
  for (const auto &d : job.runtime_dirs) {
    if (exists_l(d) || !is_dir("/run"))
      continue;
    if (!run_replaced &&
        ::mount("bulwark-run", "/run", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755") != 0)
      child_fail(status_fd, {"mount tmpfs on /run", errno});
    run_replaced = true;
    if (::mkdir(d.c_str(), 0755) != 0)
      child_fail(status_fd, {"mkdir " + d, errno});
  }
  if (::chdir(job.cwd.c_str()) != 0)
    child_fail(status_fd, {"chdir " + job.cwd, errno});
  if (job.run_as) {
    if (::setgroups(0, nullptr) != 0 || ::setgid(job.run_as->second) != 0 ||
        ::setuid(job.run_as->first) != 0)
      child_fail(status_fd, {"drop privileges", errno});
  }
  std::vector<char *> argv;
  for (const auto &a : job.argv)
    argv.push_back(const_cast<char *>(a.c_str()));
  argv.push_back(nullptr);
  ::execv(argv[0], argv.data());
  child_fail(status_fd, {"exec " + job.argv[0], errno});
}

std::string validate_find_program(const std::vector<std::string> &candidates,
                                  const std::string &root) {
  for (const auto &c : candidates)
    if (is_executable_file(validate_host_path(root, c)))
      return c;
  return "";
}

// A throwaway ed25519 host key for sshd -t when the root has none: sshd
// refuses to test a configuration without one. Generated on the host with
// ssh-keygen into a scratch directory and placed in the namespace only.
Result<std::string> throwaway_host_key() {
  char tmpl[] = "/tmp/bulwark-hostkey-XXXXXX";
  if (::mkdtemp(tmpl) == nullptr)
    return Error{"mkdtemp for a throwaway host key", "", 0, errno};
  std::string dir = tmpl;
  std::string key = dir + "/key";
  std::string cmd = "ssh-keygen -q -t ed25519 -N '' -C bulwark-validate -f " + key +
                    " </dev/null >/dev/null 2>&1";
  int rc = std::system(cmd.c_str());
  std::string content;
  if (rc == 0) {
    int fd = ::open(key.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd >= 0) {
      char buf[4096];
      ssize_t n;
      while ((n = ::read(fd, buf, sizeof buf)) > 0)
        content.append(buf, static_cast<size_t>(n));
      ::close(fd);
    }
  }
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
  if (content.empty())
    return Error{"cannot generate a throwaway host key for sshd -t (ssh-keygen failed or is "
                 "missing)"};
  return content;
}

bool root_has_host_key(const std::string &root, const Overlay &overlay) {
  for (const char *t : {"rsa", "ecdsa", "ed25519"}) {
    std::string p = std::string("/etc/ssh/ssh_host_") + t + "_key";
    auto it = overlay.find(p);
    if (it != overlay.end() ? it->second.has_value() : exists_l(validate_host_path(root, p)))
      return true;
  }
  return false;
}

std::string validate_basename_of(const std::string &p) {
  return p.substr(p.find_last_of('/') + 1);
}

// PostgreSQL: the postgresql.conf the overlay touches (or the root's only
// cluster), and how postgres must be pointed at it.
Result<Unit> postgres_job(const std::string &root, const Overlay &overlay, Job &job) {
  std::string conf;
  for (const auto &[path, content] : overlay) {
    std::string dir = text::parent_dir(path);
    if (validate_basename_of(dir) == "conf.d")
      dir = text::parent_dir(dir);
    std::string b = validate_basename_of(path);
    // Only a cluster's directory: one with a postgresql.conf (another
    // daemon's conf.d, or Debian's data directory, which holds
    // postgresql.auto.conf but no postgresql.conf, is not one).
    std::string candidate = dir + "/postgresql.conf";
    auto it = overlay.find(candidate);
    bool has_conf = it != overlay.end() ? it->second.has_value()
                                        : exists_l(validate_host_path(root, candidate));
    if (has_conf && (b == "postgresql.conf" || b == "postgresql.auto.conf" || b == "pg_hba.conf" ||
                     b == "pg_ident.conf" || text::parent_dir(path) != dir)) {
      conf = candidate;
      break;
    }
  }
  if (conf.empty()) {
    std::error_code ec;
    std::vector<std::string> found;
    std::string etc = validate_host_path(root, "/etc/postgresql");
    for (auto &ver : std::filesystem::directory_iterator(etc, ec))
      for (auto &cl : std::filesystem::directory_iterator(ver.path(), ec))
        if (std::filesystem::exists(cl.path() / "postgresql.conf"))
          found.push_back("/etc/postgresql/" + ver.path().filename().string() + "/" +
                          cl.path().filename().string() + "/postgresql.conf");
    if (found.size() != 1)
      return Error{"postgres: the overlay names no postgresql.conf and the root has " +
                   std::to_string(found.size()) + " clusters under /etc/postgresql"};
    conf = found.front();
  }
  std::string conf_dir = text::parent_dir(conf);
  // A data directory (PG_VERSION) is given with -D, which reads its
  // postgresql.conf and postgresql.auto.conf; Debian's /etc/postgresql/V/C
  // with --config-file (its data_directory setting names the data).
  if (exists_l(validate_host_path(root, conf_dir + "/PG_VERSION")))
    job.argv = {"", "-C", "data_directory", "-D", conf_dir};
  else
    job.argv = {"", "-C", "data_directory", "--config-file=" + conf};
  job.config_paths = {conf_dir};
  // postgresql.auto.conf is read from data_directory: the root's, not the
  // host's (Debian keeps it apart from /etc/postgresql).
  {
    pg::Config probe;
    pg::parse_conf_file(RootFs(root), conf, true, probe);
    if (const pg::Setting *d = probe.get("data_directory"); d && !d->value.empty()) {
      std::string data = RootFs::join(conf_dir + "/", d->value);
      if (data != conf_dir && !is_under(data, conf_dir) && is_dir(validate_host_path(root, data)))
        job.config_paths.push_back(data);
    }
  }
  job.main_config = conf;
  // postgres refuses to run as root: run as the owner of the directory.
  struct stat st;
  if (::stat(validate_host_path(root, conf_dir).c_str(), &st) == 0 && st.st_uid != 0)
    job.run_as = std::make_pair(st.st_uid, st.st_gid);
  else
    job.run_as = std::make_pair(uid_t{65534}, gid_t{65534});
  return Unit{};
}

Result<Unit> compose_job(const std::string &root, const Overlay &overlay, Job &job) {
  auto is_compose = [](const std::string &b) {
    return (b.starts_with("docker-compose") || b.starts_with("compose")) &&
           (b.ends_with(".yml") || b.ends_with(".yaml"));
  };
  std::string project;
  for (const auto &[path, content] : overlay)
    if (is_compose(validate_basename_of(path))) {
      project = text::parent_dir(path);
      break;
    }
  if (project.empty())
    return Error{"compose: the overlay has no compose file (docker-compose*.yml, compose*.yaml)"};
  // The user's files first (as compose orders them), then the overlay's
  // others (docker-compose.bulwark.yml), merged after them.
  std::vector<std::string> files;
  for (const char *base :
       {"compose.yaml", "compose.yml", "docker-compose.yml", "docker-compose.yaml"}) {
    std::string p = project + "/" + base;
    auto it = overlay.find(p);
    if (it != overlay.end() ? it->second.has_value() : exists_l(validate_host_path(root, p))) {
      files.push_back(p);
      break;
    }
  }
  for (const char *over : {"docker-compose.override.yml", "docker-compose.override.yaml",
                           "compose.override.yml", "compose.override.yaml"}) {
    std::string p = project + "/" + over;
    auto it = overlay.find(p);
    if (it != overlay.end() ? it->second.has_value() : exists_l(validate_host_path(root, p))) {
      files.push_back(p);
      break;
    }
  }
  for (const auto &[path, content] : overlay)
    if (content && text::parent_dir(path) == project && is_compose(validate_basename_of(path)) &&
        std::find(files.begin(), files.end(), path) == files.end())
      files.push_back(path);
  // The file set a deployment names (a deploy script's -f list, a unit's
  // ExecStart=, COMPOSE_FILE in the .env) with the plan applied, when it
  // holds an overlaid file: docker-compose.bulwark.yml is judged merged over
  // the files the deployment merges it with, which need not be Compose's
  // default names.
  {
    auto ov = std::make_shared<FsOverlay>();
    for (const auto &[path, content] : overlay) {
      FsOverlayEntry &e = (*ov)[path];
      e.removed = !content.has_value();
      e.content = content;
    }
    RootFs fs(root);
    fs.set_overlay(ov);
    for (const auto &s : compose::find_deploy_file_sets(fs, {project})) {
      if (!s.unresolved.empty() || s.files.empty() || text::parent_dir(s.files.front()) != project)
        continue;
      bool overlaid = std::any_of(s.files.begin(), s.files.end(), [&](const std::string &f) {
        auto it = overlay.find(f);
        return it != overlay.end() && it->second.has_value();
      });
      if (overlaid) {
        files = s.files;
        break;
      }
    }
  }
  if (files.empty())
    return Error{"compose: no compose file left in " + project};
  std::vector<std::string> args;
  for (const auto &f : files) {
    args.push_back("-f");
    args.push_back(f);
  }
  job.cwd = project;
  // Debian's docker-compose (the package the tests install) when present,
  // else the Compose plugin of docker.
  if (!validate_find_program({"/usr/bin/docker-compose", "/usr/local/bin/docker-compose"}, "/")
           .empty() ||
      (root != "/" &&
       !validate_find_program({"/usr/bin/docker-compose", "/usr/local/bin/docker-compose"}, root)
            .empty())) {
    job.candidates = {"/usr/bin/docker-compose", "/usr/local/bin/docker-compose"};
    job.argv = {""};
  } else {
    job.candidates = {"/usr/bin/docker", "/usr/local/bin/docker"};
    job.argv = {"", "compose"};
  }
  job.argv.insert(job.argv.end(), args.begin(), args.end());
  job.argv.push_back("config");
  job.argv.push_back("-q");
  return Unit{};
}

// Redis 7.0 has no configuration test. redis-server is started on the
// instance's file with every listener closed (options on its command line
// come after the file and win): it parses the file and its includes
// exactly as at boot (a bad line is "*** FATAL CONFIG FILE ERROR", exit 1),
// initialises the server, and then, having nothing to listen on, logs
// "Configured to not listen anywhere, exiting." before it loads any data,
// module or ACL file (server.c: initServer() before ACLLoadUsersAtStartup()).
// That line is the acceptance. No pid file, log file or syslog is written.
Result<Unit> redis_job(const std::string &root, const Overlay &overlay, Job &job) {
  auto is_instance = [](const std::string &p) {
    std::string b = validate_basename_of(p), d = text::parent_dir(p);
    return b.starts_with("redis") && b.ends_with(".conf") &&
           (d == "/etc/redis" || d == "/etc" || d == "/usr/local/etc" ||
            d == "/usr/local/etc/redis");
  };
  std::string conf;
  for (const auto &[path, content] : overlay)
    if (content && is_instance(path)) {
      conf = path;
      break;
    }
  if (conf.empty()) {
    // The root's instances, as the redis checks find them.
    std::vector<std::string> found;
    std::error_code ec;
    for (auto &de : std::filesystem::directory_iterator(validate_host_path(root, "/etc/redis"), ec))
      if (is_instance("/etc/redis/" + de.path().filename().string()))
        found.push_back("/etc/redis/" + de.path().filename().string());
    // Debian's main instance first, then redis-NAME.conf in name order.
    std::sort(found.begin(), found.end(), [](const std::string &a, const std::string &b) {
      bool am = a == "/etc/redis/redis.conf", bm = b == "/etc/redis/redis.conf";
      return am != bm ? am : a < b;
    });
    for (const char *p :
         {"/etc/redis.conf", "/usr/local/etc/redis.conf", "/usr/local/etc/redis/redis.conf"})
      if (exists_l(validate_host_path(root, p)))
        found.push_back(p);
    if (!found.empty())
      conf = found.front();
  }
  if (conf.empty())
    return Error{"redis: the overlay names no redis.conf and the root has none"};
  job.candidates = {"/usr/bin/redis-server", "/usr/local/bin/redis-server"};
  job.argv = {"",
              conf,
              "--port",
              "0",
              "--tls-port",
              "0",
              "--unixsocket",
              "",
              "--daemonize",
              "no",
              "--supervised",
              "no",
              "--pidfile",
              "",
              "--logfile",
              "",
              "--syslog-enabled",
              "no"};
  job.config_paths = {text::parent_dir(conf) == "/etc" ? conf : text::parent_dir(conf)};
  job.main_config = conf;
  job.accept_output = "Configured to not listen anywhere, exiting.";
  // The fatal message quotes the offending line, which could hold any text.
  job.reject_output = "*** FATAL CONFIG FILE ERROR";
  return Unit{};
}

// pam-auth-update: the files it regenerates leave the overlay and become
// the expectation (under /run/bulwark-pam-expect in the namespace); the
// root's own pam-auth-update --package then runs over the root's files with
// the overlay's profiles, writing into copies of the directories, and must
// write exactly the expected files.
const std::vector<std::string> k_pam_generated = {"/etc/pam.d/common-auth",
                                                  "/etc/pam.d/common-account",
                                                  "/etc/pam.d/common-password",
                                                  "/etc/pam.d/common-session",
                                                  "/etc/pam.d/common-session-noninteractive",
                                                  "/var/lib/pam/auth",
                                                  "/var/lib/pam/account",
                                                  "/var/lib/pam/password",
                                                  "/var/lib/pam/session",
                                                  "/var/lib/pam/session-noninteractive",
                                                  "/var/lib/pam/seen"};
constexpr const char *k_pam_expect = "/run/bulwark-pam-expect";

Result<Unit> pam_job(const std::string &root, Overlay &overlay, Job &job) {
  // Only ever the root's own program, chrooted: the host's would write the
  // host's /etc/pam.d.
  if (root != "/" && (!is_executable_file(validate_host_path(root, "/usr/sbin/pam-auth-update")) ||
                      !is_executable_file(validate_host_path(root, "/bin/sh"))))
    return Error{"pam: the root has no /usr/sbin/pam-auth-update (libpam-runtime) or /bin/sh",
                 root};
  std::string script =
      "DEBIAN_FRONTEND=noninteractive /usr/sbin/pam-auth-update --package || exit 2\n"
      "rc=0\n"
      "for t in";
  for (const auto &path : k_pam_generated) {
    std::optional<std::string> want;
    if (auto it = overlay.find(path); it != overlay.end()) {
      want = it->second;
      overlay.erase(it);
    } else {
      std::ifstream in(validate_host_path(root, path), std::ios::binary);
      if (in)
        want = std::string(std::istreambuf_iterator<char>(in), {});
    }
    if (!want)
      continue;
    overlay[k_pam_expect + path] = *want;
    script += " " + path;
  }
  script += "; do\n"
            "  if ! cmp -s \"$t\" \"" +
            std::string(k_pam_expect) +
            "$t\"; then\n"
            "    echo \"pam-auth-update writes $t differently from the plan:\"\n"
            "    diff -u \"" +
            k_pam_expect +
            "$t\" \"$t\"; rc=1\n"
            "  fi\n"
            "done\n"
            "exit $rc\n";
  job.candidates = {"/bin/sh"};
  job.argv = {"", "-c", script};
  job.writable_dirs = {"/etc/pam.d", "/var/lib/pam", "/var/cache/debconf"};
  job.main_config = "/etc/pam.d/common-auth";
  return Unit{};
}

// findmnt --verify: each line parses, its target exists (in the root, when
// chrooted) and its options are ones mount(8) knows; an error exits
// non-zero. It also rejects a line whose source is a disk this machine does
// not have (UUID=... of an offline image), so only the lines the plan adds
// or changes are verified, as a file of their own placed in the namespace.
Result<Unit> fstab_job(const std::string &root, Overlay &overlay, Job &job) {
  const std::string k_fstab = "/etc/fstab", k_verify = "/etc/fstab.bulwark-verify";
  auto it = overlay.find(k_fstab);
  if (it == overlay.end() || !it->second)
    return Error{"fstab: the overlay does not change /etc/fstab"};
  std::set<std::string> old;
  auto before = RootFs(root).read_file(k_fstab);
  if (!before && !before.error().not_found())
    return before.error();
  if (before)
    for (auto &l : text::split(*before, '\n'))
      old.insert(l);
  std::string changed;
  for (auto &l : text::split(*it->second, '\n'))
    if (!old.count(l))
      changed += l + "\n";
  overlay[k_verify] = changed;
  job.candidates = {"/usr/bin/findmnt", "/bin/findmnt"};
  job.argv = {"", "--verify", "--tab-file", k_verify};
  job.config_paths = {k_verify};
  job.main_config = k_verify;
  return Unit{};
}

Result<Job> make_job(Validator v, const std::string &root, Overlay &overlay) {
  Job job;
  switch (v) {
  case Validator::sshd:
    job.candidates = {"/usr/sbin/sshd", "/usr/local/sbin/sshd"};
    job.argv = {"", "-t", "-f", "/etc/ssh/sshd_config"};
    job.config_paths = {"/etc/ssh"};
    job.main_config = "/etc/ssh/sshd_config";
    job.runtime_dirs = {"/run/sshd"};
    if (!root_has_host_key(root, overlay)) {
      const std::string k_key = "/etc/ssh/bulwark_validate_host_ed25519_key";
      overlay[k_key] = TRY(throwaway_host_key());
      job.argv.push_back("-h");
      job.argv.push_back(k_key);
    }
    break;
  case Validator::visudo:
    job.candidates = {"/usr/sbin/visudo", "/usr/bin/visudo"};
    job.argv = {"", "-c", "-f", "/etc/sudoers"};
    job.config_paths = {"/etc/sudoers", "/etc/sudoers.d"};
    job.main_config = "/etc/sudoers";
    break;
  case Validator::nginx:
    job.candidates = {"/usr/sbin/nginx", "/usr/local/sbin/nginx"};
    // -e stderr: the error log of the test run goes to our pipe, not to a
    // file of the host.
    job.argv = {"", "-t", "-q", "-e", "stderr", "-c", "/etc/nginx/nginx.conf"};
    job.config_paths = {"/etc/nginx"};
    job.main_config = "/etc/nginx/nginx.conf";
    break;
  case Validator::nft: {
    job.candidates = {"/usr/sbin/nft", "/sbin/nft"};
    // Debian's /etc/nftables.conf includes the rest; an overlay that only
    // has a standalone ruleset file is checked as that file.
    std::string file = "/etc/nftables.conf";
    auto main_conf = overlay.find(file);
    bool main_exists = main_conf != overlay.end() ? main_conf->second.has_value()
                                                  : exists_l(validate_host_path(root, file));
    if (!main_exists)
      for (const auto &[path, content] : overlay)
        if (content) {
          file = path;
          break;
        }
    job.argv = {"", "-c", "-f", file};
    job.config_paths = {"/etc/nftables.conf", "/etc/nftables.d", "/etc/nftables"};
    job.main_config = file;
    break;
  }
  case Validator::postgres:
    job.candidates = {"/usr/local/bin/postgres",
                      "/usr/lib/postgresql/17/bin/postgres",
                      "/usr/lib/postgresql/16/bin/postgres",
                      "/usr/lib/postgresql/15/bin/postgres",
                      "/usr/lib/postgresql/14/bin/postgres",
                      "/usr/lib/postgresql/13/bin/postgres"};
    TRY(postgres_job(root, overlay, job));
    break;
  case Validator::fail2ban:
    job.candidates = {"/usr/bin/fail2ban-client", "/usr/local/bin/fail2ban-client"};
    job.argv = {"", "-c", "/etc/fail2ban", "-t"};
    // -t looks for each enabled jail's log files: the root's, not the host's.
    job.config_paths = {"/etc/fail2ban", "/var/log"};
    job.main_config = "/etc/fail2ban/fail2ban.conf";
    break;
  case Validator::compose: TRY(compose_job(root, overlay, job)); break;
  case Validator::sysctl:
    job.in_process_sysctl = true;
    job.program_label = "bulwark's sysctl.d parser";
    break;
  case Validator::redis: TRY(redis_job(root, overlay, job)); break;
  case Validator::pam:
    TRY(pam_job(root, overlay, job));
    job.program_label = "pam-auth-update --package, compared with the plan";
    break;
  case Validator::fstab: TRY(fstab_job(root, overlay, job)); break;
  case Validator::iptables:
  case Validator::ip6tables: {
    // ufw's user rules are iptables-restore input of their own (ufw-init
    // loads them with -n after before.rules): --test parses every rule and
    // asks the kernel for its matches and targets, committing nothing.
    bool v6 = v == Validator::ip6tables;
    std::string tool = v6 ? "ip6tables-restore" : "iptables-restore";
    job.candidates = {"/usr/sbin/" + tool, "/sbin/" + tool};
    std::string file = v6 ? "/etc/ufw/user6.rules" : "/etc/ufw/user.rules";
    job.argv = {"", "--test", file};
    job.config_paths = {"/etc/ufw"};
    job.main_config = file;
    break;
  }
  case Validator::pg_hba:
    for (const auto &[path, content] : overlay)
      if (content && validate_basename_of(path).ends_with("hba.conf"))
        job.in_process_pg_hba.push_back(path);
    if (job.in_process_pg_hba.empty()) {
      // Nothing overlaid: every Debian cluster's file in the root.
      std::error_code ec;
      for (auto &ver :
           std::filesystem::directory_iterator(validate_host_path(root, "/etc/postgresql"), ec))
        for (auto &cl : std::filesystem::directory_iterator(ver.path(), ec))
          if (std::filesystem::exists(cl.path() / "pg_hba.conf"))
            job.in_process_pg_hba.push_back("/etc/postgresql/" + ver.path().filename().string() +
                                            "/" + cl.path().filename().string() + "/pg_hba.conf");
      std::sort(job.in_process_pg_hba.begin(), job.in_process_pg_hba.end());
    }
    if (job.in_process_pg_hba.empty())
      return Error{"pg_hba: the overlay changes no pg_hba.conf and the root has none"};
    job.program_label = "bulwark's pg_hba.conf reader";
    break;
  }
  return job;
}

std::string quote_argv(const std::vector<std::string> &argv) {
  std::string s;
  for (const auto &a : argv) {
    if (!s.empty())
      s += ' ';
    bool plain = !a.empty() && a.find_first_of(" '\"\\$`") == std::string::npos;
    s += plain ? a : "'" + a + "'";
  }
  return s;
}

} // namespace

Result<Validation> validate(Validator v, const std::string &host_root, const Overlay &overlay_in,
                            const ValidateLimits &limits) {
  const int timeout_seconds = std::max(1, limits.timeout_seconds);
  const size_t output_cap = limits.output_cap;
  std::string root = host_root.empty() ? "/" : host_root;
  if (!is_dir(root))
    return Error{"the root is not a directory", root};
  for (const auto &[path, content] : overlay_in)
    TRY(check_overlay_path(path));
  if (v == Validator::compose) {
    // One project a run: with overrides in several project directories,
    // each is judged with the others' left out (their deploy commands name
    // files this run does not look at).
    std::set<std::string> dirs;
    for (const auto &[path, content] : overlay_in)
      if (content && validate_basename_of(path) == "docker-compose.bulwark.yml")
        dirs.insert(text::parent_dir(path));
    if (dirs.size() > 1) {
      Validation all;
      all.accepted = true;
      for (const auto &d : dirs) {
        Overlay one = overlay_in;
        for (const auto &o : dirs)
          if (o != d)
            one.erase(o + "/docker-compose.bulwark.yml");
        Validation r = TRY(validate(v, host_root, one, limits));
        all.program += (all.program.empty() ? "" : "; ") + r.program;
        all.output += r.output;
        if (!r.accepted)
          return r;
      }
      return all;
    }
  }
  Overlay overlay = overlay_in;
  Job job = TRY(make_job(v, root, overlay));

  // In the root or the overlay (not removed by it).
  auto in_root = [&](const std::string &c) {
    for (const auto &[path, content] : overlay)
      if (content && (path == c || is_under(path, c)))
        return true;
    auto it = overlay.find(c);
    return it != overlay.end() ? it->second.has_value() : exists_l(validate_host_path(root, c));
  };
  if (!job.main_config.empty() && !in_root(job.main_config))
    return Error{std::string(validator_name(v)) + ": the root has no " + job.main_config +
                     " to check",
                 job.main_config};

  // Where the program comes from: the root (chroot) or the host.
  bool chroot_into = false;
  std::vector<Placement> placements;
  std::vector<Placement> host_side;
  for (const auto &[path, content] : overlay) {
    Placement p;
    p.target = validate_host_path(root, path);
    p.content = content;
    if (validate_basename_of(path).find("_key") != std::string::npos &&
        path.starts_with("/etc/ssh/"))
      p.new_mode = 0600; // sshd refuses a host key others can read
    else if (path == "/etc/sudoers" || path.starts_with("/etc/sudoers.d/"))
      p.new_mode = 0440; // as visudo and sudo want them
    placements.push_back(std::move(p));
  }
  if (!job.in_process_sysctl && job.in_process_pg_hba.empty()) {
    std::string program;
    if (root != "/") {
      program = validate_find_program(job.candidates, root);
      chroot_into = !program.empty();
    }
    if (program.empty())
      program = validate_find_program(job.candidates, "/");
    if (program.empty())
      return Error{std::string(validator_name(v)) + ": the checker program is not installed (" +
                   job.candidates.front() + ")"};
    job.argv[0] = program;
    if (v != Validator::pam) // its label names the program, not the script
      job.program_label = quote_argv(job.argv);
    if (root != "/" && !chroot_into) {
      // The host's program reads the host's paths: the root's configuration
      // (with the overlay on it) is bound over them in the namespace.
      // What the root lacks is hidden on the host (a removal), so that the
      // host's own files (an included sudoers.d) never take part.
      for (const auto &c : job.config_paths) {
        Placement p;
        p.target = c;
        if (in_root(c))
          p.bind_from = validate_host_path(root, c);
        else if (!exists_l(c))
          continue;
        host_side.push_back(std::move(p));
      }
    }
    if (v == Validator::compose && root != "/" && !chroot_into) {
      // Compose needs no host path: it runs on the root's project where it
      // lies (relative paths in the files resolve against it).
      job.cwd = validate_host_path(root, job.cwd);
      for (size_t i = 1; i + 1 < job.argv.size(); ++i)
        if (job.argv[i] == "-f")
          job.argv[i + 1] = validate_host_path(root, job.argv[i + 1]);
      job.program_label = quote_argv(job.argv);
    }
  }

  char scratch_tmpl[] = "/tmp/bulwark-validate-XXXXXX";
  if (::mkdtemp(scratch_tmpl) == nullptr)
    return Error{"mkdtemp for the validation scratch directory", "", 0, errno};
  std::string scratch = scratch_tmpl;
  struct Cleanup {
    std::string dir;
    ~Cleanup() { ::rmdir(dir.c_str()); }
  } cleanup{scratch};

  int out_pipe[2];
  int status_pipe[2];
  if (::pipe2(out_pipe, O_CLOEXEC) != 0)
    return Error{"pipe", "", 0, errno};
  if (::pipe2(status_pipe, O_CLOEXEC) != 0) {
    int e = errno;
    ::close(out_pipe[0]);
    ::close(out_pipe[1]);
    return Error{"pipe", "", 0, e};
  }
  pid_t pid = ::fork();
  if (pid < 0) {
    int e = errno;
    for (int fd : {out_pipe[0], out_pipe[1], status_pipe[0], status_pipe[1]})
      ::close(fd);
    return Error{"fork", "", 0, e};
  }
  if (pid == 0) {
    ::close(out_pipe[0]);
    ::close(status_pipe[0]);
    int devnull = ::open("/dev/null", O_RDONLY);
    if (devnull >= 0)
      ::dup2(devnull, STDIN_FILENO);
    ::dup2(out_pipe[1], STDOUT_FILENO);
    ::dup2(out_pipe[1], STDERR_FILENO);
    child_main(job, root, chroot_into, scratch, {placements, host_side}, status_pipe[1]);
  }
  ::setpgid(pid, pid); // also in the child: whichever runs first
  ::close(out_pipe[1]);
  ::close(status_pipe[1]);

  std::string output;
  bool truncated = false;
  bool timed_out = false;
  bool reaped = false;
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(timeout_seconds);
  for (;;) {
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      break;
    }
    struct pollfd pfd = {out_pipe[0], POLLIN, 0};
    int pr = ::poll(&pfd, 1, static_cast<int>(std::min<long>(left, 500)));
    if (pr < 0 && errno == EINTR)
      continue;
    if (pr < 0)
      break;
    if (pr == 0) {
      // A grandchild may hold the pipe open after the checker exited.
      if (::waitpid(pid, &status, WNOHANG) == pid) {
        reaped = true;
        break;
      }
      continue;
    }
    char buf[8192];
    ssize_t n = ::read(out_pipe[0], buf, sizeof buf);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      break;
    size_t room = output_cap - std::min(output_cap, output.size());
    output.append(buf, std::min(room, static_cast<size_t>(n)));
    truncated = truncated || static_cast<size_t>(n) > room;
  }
  if (timed_out)
    ::kill(-pid, SIGKILL);
  if (!reaped)
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
  ::kill(-pid, SIGKILL); // anything the checker left behind in its group
  ::close(out_pipe[0]);
  std::string setup_error;
  {
    char buf[1024];
    ssize_t n;
    while ((n = ::read(status_pipe[0], buf, sizeof buf)) > 0)
      setup_error.append(buf, static_cast<size_t>(n));
    ::close(status_pipe[0]);
  }
  if (!setup_error.empty())
    return Error{std::string(validator_name(v)) + ": cannot set up the validation: " + setup_error,
                 root};
  if (timed_out)
    return Error{std::string(validator_name(v)) + ": " + job.program_label + " timed out after " +
                     std::to_string(timeout_seconds) + " s",
                 root};
  if (!WIFEXITED(status))
    return Error{std::string(validator_name(v)) + ": " + job.program_label +
                     " was killed by signal " + std::to_string(WTERMSIG(status)) +
                     (output.empty() ? std::string() : ": " + output),
                 root};
  if (truncated)
    output += "\n[output cut at " + std::to_string(output_cap) + " bytes]\n";
  Validation result;
  result.accepted = job.accept_output.empty()
                        ? WEXITSTATUS(status) == 0
                        : output.find(job.accept_output) != std::string::npos &&
                              output.find(job.reject_output) == std::string::npos;
  result.program = job.program_label;
  result.output = std::move(output);
  return result;
}

} // namespace bulwark::fix
