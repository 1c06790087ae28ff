// The tree walk: what it lists (find's view: symlinks listed, never
// followed), where it stops (pruned pseudo file systems, mount points, the
// root), hostile trees (loops, escapes, odd names, unreadable and huge
// directories), and a differential test against find(1) itself.

#include "../support.hpp"

#include <bulwark/core/walk.hpp>

#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstring>
#include <fcntl.h>
#include <set>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

std::vector<std::string> paths_of(const WalkResult &r) {
  std::vector<std::string> out;
  for (auto &e : r.entries)
    out.push_back(e.path);
  return out;
}

const WalkEntry *find_entry(const WalkResult &r, const std::string &path) {
  for (auto &e : r.entries)
    if (e.path == path)
      return &e;
  return nullptr;
}

// find's NUL-separated output, each path turned into a target path.
std::set<std::string> find_paths(const std::string &root, const std::string &expr) {
  auto r = run_command("find " + root + " " + expr + " -print0");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  std::set<std::string> out;
  size_t i = 0;
  while (i < r.out.size()) {
    size_t j = r.out.find('\0', i);
    std::string p = r.out.substr(i, j - i);
    p = p.substr(root.size());
    out.insert(p.empty() ? "/" : p);
    i = j + 1;
  }
  return out;
}

std::set<std::string> walk_paths(const std::string &root, WalkOptions opt) {
  RootFs fs(root);
  auto r = walk_tree(fs, "/", opt);
  EXPECT_TRUE(r.ok());
  if (!r)
    return {};
  auto v = paths_of(*r);
  return {v.begin(), v.end()};
}

// Creating many files costs far more than walking them, on this ext4 more
// so: the heavy trees are made on tmpfs (/dev/shm) when it is there.
class ShmTmpdir {
public:
  ShmTmpdir() {
    const char *t = std::getenv("TMPDIR");
    m_had = t != nullptr;
    if (m_had)
      m_saved = t;
    m_tmpfs = ::access("/dev/shm", W_OK | X_OK) == 0;
    if (m_tmpfs)
      ::setenv("TMPDIR", "/dev/shm", 1);
  }
  void restore() {
    if (m_had)
      ::setenv("TMPDIR", m_saved.c_str(), 1);
    else
      ::unsetenv("TMPDIR");
  }
  bool tmpfs() const { return m_tmpfs; }

private:
  bool m_had = false, m_tmpfs = false;
  std::string m_saved;
};

struct FastRoot {
  ShmTmpdir tmpdir;
  TempRoot root;
  FastRoot() { tmpdir.restore(); }
};

// n empty files "<prefix><i>" in host directory `dir` (created), mode_of(i).
template <class F>
void make_files(const std::string &dir, int n, const std::string &prefix, F mode_of) {
  ::mkdir(dir.c_str(), 0755);
  int dfd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  ASSERT_GE(dfd, 0);
  for (int i = 0; i < n; ++i) {
    std::string name = prefix + std::to_string(i);
    int fd = ::openat(dfd, name.c_str(), O_CREAT | O_WRONLY | O_CLOEXEC, 0600);
    ASSERT_GE(fd, 0);
    ::fchmod(fd, mode_of(i));
    ::close(fd);
  }
  ::close(dfd);
}

bool world_writable_not_link(std::string_view, std::string_view, uint32_t mode) {
  return (mode & S_IWOTH) && !S_ISLNK(mode);
}
bool setid_file(std::string_view, std::string_view, uint32_t mode) {
  return S_ISREG(mode) && (mode & 06000);
}

} // namespace

TEST(Walk, ListsEveryEntrySortedBytewiseWithModes) {
  TempRoot r;
  r.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
  r.write("/usr/bin/su", "x", 04755);
  r.write("/B", "", 0600);
  r.mkdir("/a/b/c");
  r.symlink("/etc/passwd", "/etc/link");
  ::mkfifo(r.host("/a/fifo").c_str(), 0622);
  ::chmod(r.host("/a/fifo").c_str(), 0622);
  RootFs fs(r.path());
  for (unsigned threads : {1u, 2u, 8u}) {
    WalkOptions opt;
    opt.threads = threads;
    auto w = walk_tree(fs, "/", opt);
    ASSERT_TRUE(w.ok()) << w.error().to_string();
    EXPECT_EQ(paths_of(*w), (std::vector<std::string>{"/", "/B", "/a", "/a/b", "/a/b/c", "/a/fifo",
                                                      "/etc", "/etc/link", "/etc/passwd", "/usr",
                                                      "/usr/bin", "/usr/bin/su"}));
    EXPECT_EQ(w->directories, 7u);
    EXPECT_EQ(w->others, 5u);
    EXPECT_TRUE(w->errors.empty());
    EXPECT_EQ(find_entry(*w, "/usr/bin/su")->mode, S_IFREG | 04755u);
    EXPECT_EQ(find_entry(*w, "/etc/link")->mode, S_IFLNK | 0777u);
    EXPECT_EQ(find_entry(*w, "/a/fifo")->mode, S_IFIFO | 0622u);
    EXPECT_EQ(find_entry(*w, "/etc/passwd")->size, 26u);
  }
}

TEST(Walk, NeverFollowsSymlinksNorLeavesTheRoot) {
  TempRoot r;
  r.mkdir("/etc");
  r.symlink("/", "/etc/to-root");     // absolute: the host's / if followed naively
  r.symlink("../../..", "/etc/up");   // climbs above the root
  r.symlink("loop-b", "/etc/loop-a"); // a loop
  r.symlink("loop-a", "/etc/loop-b");
  r.symlink("/etc", "/etc/self");          // a directory cycle
  r.symlink("/proc/self/root", "/escape"); // the host's root via /proc
  RootFs fs(r.path());
  auto w = walk_tree(fs, "/");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(paths_of(*w),
            (std::vector<std::string>{"/", "/escape", "/etc", "/etc/loop-a", "/etc/loop-b",
                                      "/etc/self", "/etc/to-root", "/etc/up"}));
  EXPECT_TRUE(w->errors.empty());
}

TEST(Walk, PrunedDirectoriesAreListedNotEntered) {
  TempRoot r;
  r.write("/proc/1/status", "x", 0666);
  r.write("/dev/null", "", 0666);
  r.write("/run/lock/x", "", 0666);
  r.write("/sys/kernel/x", "", 0666);
  r.write("/srv/proc/x", "", 0666); // only the target's /proc is pruned
  RootFs fs(r.path());
  auto w = walk_tree(fs, "/");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(paths_of(*w), (std::vector<std::string>{"/", "/dev", "/proc", "/run", "/srv",
                                                    "/srv/proc", "/srv/proc/x", "/sys"}));
  EXPECT_EQ(w->boundaries, (std::vector<std::string>{"/dev", "/proc", "/run", "/sys"}));
  WalkOptions all;
  all.prune.clear();
  auto w2 = walk_tree(fs, "/", all);
  ASSERT_TRUE(w2.ok());
  EXPECT_NE(find_entry(*w2, "/proc/1/status"), nullptr);
}

TEST(Walk, StartIsResolvedInsideTheRoot) {
  TempRoot r;
  r.write("/srv/app/index.php", "<?php", 0644);
  r.symlink("/srv/app", "/app");
  RootFs fs(r.path());
  auto w = walk_tree(fs, "/app");
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->start, "/srv/app");
  EXPECT_EQ(paths_of(*w), (std::vector<std::string>{"/srv/app", "/srv/app/index.php"}));
  auto absent = walk_tree(fs, "/nope");
  ASSERT_FALSE(absent.ok());
  EXPECT_TRUE(absent.error().not_found());
  auto file = walk_tree(fs, "/srv/app/index.php");
  ASSERT_FALSE(file.ok());
  EXPECT_EQ(file.error().sys_errno, ENOTDIR);
}

TEST(Walk, KeepSeesParentAndNameAndFiltersConcurrently) {
  FastRoot fast;
  TempRoot &r = fast.root;
  // More than one stat batch, so other threads stat this directory too.
  make_files(r.host("/big"), 3000, "f", [](int i) { return i % 7 == 0 ? 0666 : 0644; });
  RootFs fs(r.path());
  WalkOptions opt;
  opt.threads = 4;
  std::atomic<int> calls{0};
  opt.keep = [&](std::string_view dir, std::string_view name, uint32_t mode) {
    ++calls;
    if (name.empty())
      EXPECT_EQ(dir, "");
    else if (name == "big")
      EXPECT_EQ(dir, "/");
    else
      EXPECT_EQ(dir, "/big");
    return (mode & S_IWOTH) != 0;
  };
  auto w = walk_tree(fs, "/", opt);
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(calls.load(), 3002);
  EXPECT_EQ(w->entries.size(), 429u); // i = 0, 7, ..., 2996
  EXPECT_TRUE(std::is_sorted(w->entries.begin(), w->entries.end(),
                             [](auto &a, auto &b) { return a.path < b.path; }));
}

TEST(Walk, HostileNamesAreKeptRawAndDisplayedEscaped) {
  TempRoot r;
  std::string nl = "/evil\nroot:x:0:0::/:/bin/sh";
  std::string bad_utf8 = "/caf\xe9";
  std::string esc = "/a\\x0ab";
  r.write(nl, "", 0666);
  r.write(bad_utf8, "", 0666);
  r.write(esc, "", 0666);
  r.write("/caf\xc3\xa9", "", 0666); // valid UTF-8 stays as is
  RootFs fs(r.path());
  auto w = walk_tree(fs, "/");
  ASSERT_TRUE(w.ok());
  ASSERT_NE(find_entry(*w, nl), nullptr);
  ASSERT_NE(find_entry(*w, bad_utf8), nullptr);
  EXPECT_EQ(display_path(nl), "/evil\\x0aroot:x:0:0::/:/bin/sh");
  EXPECT_EQ(display_path(bad_utf8), "/caf\\xe9");
  EXPECT_EQ(display_path(esc), "/a\\\\x0ab"); // cannot pass for an escaped newline
  EXPECT_EQ(display_path("/caf\xc3\xa9"), "/caf\xc3\xa9");
  EXPECT_EQ(display_path("/\xed\xa0\x80"), "/\\xed\\xa0\\x80");      // a UTF-16 surrogate
  EXPECT_EQ(display_path("/\xc0\xaf"), "/\\xc0\\xaf");               // overlong '/'
  EXPECT_EQ(display_path("/\xc2\x9b[2J"), "/\\xc2\\x9b[2J");         // C1 CSI
  EXPECT_EQ(display_path("/\xf0\x9f\x94\x92"), "/\xf0\x9f\x94\x92"); // U+1F512
  EXPECT_EQ(display_path(std::string("/a\0b", 4)), "/a\\x00b");
}

TEST(Walk, ModeStringReadsLikeLs) {
  EXPECT_EQ(mode_string(S_IFREG | 04755), "-rwsr-xr-x");
  EXPECT_EQ(mode_string(S_IFREG | 02644), "-rw-r-Sr--");
  EXPECT_EQ(mode_string(S_IFDIR | 01777), "drwxrwxrwt");
  EXPECT_EQ(mode_string(S_IFDIR | 01776), "drwxrwxrwT");
  EXPECT_EQ(mode_string(S_IFLNK | 0777), "lrwxrwxrwx");
}

// Root reads every directory, so the unreadable case runs in a child that
// has become nobody.
TEST(Walk, UnreadableDirectoryIsAnErrorAndTheWalkGoesOn) {
  TempRoot r;
  ::chmod(r.path().c_str(), 0755);
  r.write("/a/secret/x", "", 0666);
  r.write("/b/open", "", 0666);
  r.write("/c/visible", "", 0644);
  ::chmod(r.host("/a/secret").c_str(), 0700);
  int pipefd[2];
  ASSERT_EQ(::pipe(pipefd), 0);
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::close(pipefd[0]);
    if (::setgid(65534) != 0 || ::setuid(65534) != 0)
      ::_exit(3);
    RootFs fs(r.path());
    auto w = walk_tree(fs, "/");
    if (!w)
      ::_exit(4);
    std::string out;
    for (auto &e : w->entries)
      out += "E " + e.path + "\n";
    for (auto &e : w->errors)
      out += "X " + e.path + " " + std::to_string(e.sys_errno) + "\n";
    (void)!::write(pipefd[1], out.data(), out.size());
    ::_exit(0);
  }
  ::close(pipefd[1]);
  std::string got;
  char buf[4096];
  ssize_t n;
  while ((n = ::read(pipefd[0], buf, sizeof buf)) > 0)
    got.append(buf, static_cast<size_t>(n));
  ::close(pipefd[0]);
  int status = 0;
  ::waitpid(pid, &status, 0);
  ASSERT_TRUE(WIFEXITED(status));
  BULWARK_REQUIRE(WEXITSTATUS(status) != 3) << "cannot switch to uid 65534";
  ASSERT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(got, "E /\nE /a\nE /a/secret\nE /b\nE /b/open\nE /c\nE /c/visible\n"
                 "X /a/secret " +
                     std::to_string(EACCES) + "\n");
}

// A directory of 200,000 entries (a million works the same way: names are
// read in 128 KiB getdents64 chunks and stat'ed in batches of 1024).
TEST(Walk, TwoHundredThousandEntriesInOneDirectory) {
  FastRoot fast;
  TempRoot &r = fast.root;
  bool tmpfs = fast.tmpdir.tmpfs();
  const int n = 200000;
  make_files(r.host("/huge"), n, "file-", [](int i) { return i % 1000 == 0 ? 0666 : 0644; });
  RootFs fs(r.path());
  WalkOptions opt;
  opt.keep = world_writable_not_link;
  auto t0 = std::chrono::steady_clock::now();
  auto w = walk_tree(fs, "/", opt);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  ASSERT_TRUE(w.ok());
  EXPECT_EQ(w->others, static_cast<uint64_t>(n));
  ASSERT_EQ(w->entries.size(), 200u);
  EXPECT_EQ(w->entries.front().path, "/huge/file-0");
  EXPECT_EQ(w->entries.back().path, "/huge/file-99000");
  EXPECT_TRUE(w->errors.empty());
  std::printf("[ walk     ] %d entries in one directory (%s): %.1f ms\n", n,
              tmpfs ? "tmpfs" : "temp dir", ms);
}

TEST(Walk, DeepTreeNeedsNoLongPaths) {
  FastRoot fast;
  TempRoot &r = fast.root;
  // 1500 levels: paths of 3000 bytes; every step is openat on the parent's fd.
  std::string p = r.path();
  int fd = ::open(p.c_str(), O_RDONLY | O_DIRECTORY);
  for (int i = 0; i < 1500; ++i) {
    ASSERT_EQ(::mkdirat(fd, "d", 0755), 0);
    int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY);
    ::close(fd);
    fd = next;
  }
  ::close(::openat(fd, "leaf", O_CREAT | O_WRONLY, 0666));
  ASSERT_EQ(::fchmodat(fd, "leaf", 0666, 0), 0);
  ::close(fd);
  RootFs fs(r.path());
  WalkOptions opt;
  opt.keep = world_writable_not_link;
  auto w = walk_tree(fs, "/", opt);
  ASSERT_TRUE(w.ok());
  ASSERT_EQ(w->entries.size(), 1u);
  EXPECT_EQ(w->entries[0].path.size(), 1500u * 2 + 5);
  EXPECT_EQ(w->directories, 1501u);
}

TEST(Walk, OneFileSystemListsMountPointsWithoutEnteringThem) {
  TempRoot r;
  r.write("/mnt/data/below", "", 0666);
  BULWARK_REQUIRE(::mount("tmpfs", r.host("/mnt/data").c_str(), "tmpfs", 0, "mode=0755") == 0)
      << "cannot mount a tmpfs here: " << std::strerror(errno);
  r.write("/mnt/data/on-tmpfs", "", 0666);
  RootFs fs(r.path());
  WalkOptions opt;
  opt.one_file_system = true;
  auto w = walk_tree(fs, "/", opt);
  opt.one_file_system = false;
  auto w2 = walk_tree(fs, "/", opt);
  ::umount(r.host("/mnt/data").c_str());
  ASSERT_TRUE(w.ok() && w2.ok());
  EXPECT_EQ(paths_of(*w), (std::vector<std::string>{"/", "/mnt", "/mnt/data"}));
  EXPECT_EQ(w->boundaries, (std::vector<std::string>{"/mnt/data"}));
  EXPECT_NE(find_entry(*w2, "/mnt/data/on-tmpfs"), nullptr);
  // A live root ("/") stays on one file system by default: /proc, not
  // pruned here (every other top-level directory is, to keep it short), is
  // listed and not entered because it is another file system.
  RootFs live("/");
  WalkOptions only_proc;
  only_proc.prune.clear();
  auto top = live.list_dir("/");
  ASSERT_TRUE(top.ok());
  for (const std::string &name : top.value())
    if (name != "proc")
      only_proc.prune.push_back("/" + name);
  auto lw = walk_tree(live, "/", only_proc);
  ASSERT_TRUE(lw.ok());
  EXPECT_TRUE(std::binary_search(lw->boundaries.begin(), lw->boundaries.end(), "/proc"));
  EXPECT_EQ(find_entry(*lw, "/proc/self"), nullptr);
  EXPECT_NE(find_entry(*lw, "/proc"), nullptr);
}

// find(1) speaks for itself: the same sets of paths, on the debootstrapped
// Debian 12 root and on planted hostile files.
TEST(WalkDifferential, DebianRootMatchesFind) {
  std::string root = bulwark::test::debian_root();
  BULWARK_REQUIRE(!root.empty())
      << "BULWARK_DEBIAN_ROOT is not a debootstrapped root (run `make debian-root`)";
  WalkOptions ww;
  ww.prune.clear();
  ww.one_file_system = true;
  ww.keep = world_writable_not_link;
  auto want_ww = find_paths(root, "-xdev -perm -0002 ! -type l");
  EXPECT_FALSE(want_ww.empty()); // /tmp, /var/tmp, /dev/null...
  EXPECT_EQ(walk_paths(root, ww), want_ww);
  WalkOptions all_ww = ww;
  all_ww.keep = [](std::string_view, std::string_view, uint32_t mode) {
    return (mode & S_IWOTH) != 0;
  };
  EXPECT_EQ(walk_paths(root, all_ww), find_paths(root, "-xdev -perm -0002"));
  // With the default pruning: find's -prune lists the pruned directory too.
  WalkOptions pruned;
  pruned.keep = world_writable_not_link;
  std::string prune = "\\( -path " + root + "/proc -o -path " + root + "/sys -o -path " + root +
                      "/dev -o -path " + root +
                      "/run \\) -prune -perm -0002 -o -perm -0002 ! -type l";
  EXPECT_EQ(walk_paths(root, pruned), find_paths(root, prune));
  WalkOptions suid;
  suid.prune.clear();
  suid.keep = setid_file;
  auto want_suid = find_paths(root, "-perm /6000 -type f");
  EXPECT_GE(want_suid.size(), 10u); // su, passwd, mount...
  EXPECT_EQ(walk_paths(root, suid), want_suid);
  // Everything, to be sure the walk sees what find sees.
  WalkOptions every;
  every.prune.clear();
  EXPECT_EQ(walk_paths(root, every), find_paths(root, ""));
}

TEST(WalkDifferential, PlantedFilesMatchFind) {
  TempRoot r;
  r.write("/etc/ok", "", 0644);
  r.write("/etc/ww", "", 0666);
  r.write("/etc/new\nline", "", 0666);
  r.write("/etc/\xff\xfe", "", 04755);
  r.write("/usr/bin/sgid", "", 02711);
  r.write("/usr/bin/both", "", 06755);
  r.write("/usr/bin/suid-dir/x", "", 0644);
  ::chmod(r.host("/usr/bin/suid-dir").c_str(), 04755); // a set-id directory is no file
  r.mkdir("/var/shared");
  ::chmod(r.host("/var/shared").c_str(), 0777);
  r.mkdir("/var/tmpdir");
  ::chmod(r.host("/var/tmpdir").c_str(), 01777);
  r.symlink("/etc/ww", "/etc/link-to-ww");
  ::mkfifo(r.host("/var/fifo").c_str(), 0666);
  ::chmod(r.host("/var/fifo").c_str(), 0666);
  WalkOptions ww;
  ww.one_file_system = true;
  ww.prune.clear();
  ww.keep = world_writable_not_link;
  auto got = walk_paths(r.path(), ww);
  EXPECT_EQ(got, find_paths(r.path(), "-xdev -perm -0002 ! -type l"));
  EXPECT_EQ(got.size(), 5u);
  WalkOptions suid;
  suid.prune.clear();
  suid.keep = setid_file;
  auto got_suid = walk_paths(r.path(), suid);
  EXPECT_EQ(got_suid, find_paths(r.path(), "-perm /6000 -type f"));
  EXPECT_EQ(got_suid, (std::set<std::string>{"/etc/\xff\xfe", "/usr/bin/both", "/usr/bin/sgid"}));
}
