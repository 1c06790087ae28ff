// write_file_atomic and AtomicWriter: the destination holds the old contents
// or the new, never a mix, and nothing is left behind.

#include "../support.hpp"

#include <bulwark/core/atomic_file.hpp>

#include <filesystem>
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/resource.h>
#include <sys/wait.h>

using bulwark::AtomicWriter;
using bulwark::write_file_atomic;
using bulwark::test::TempRoot;

namespace {

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

int entries(const std::string &dir) {
  int n = 0;
  for (auto &e : std::filesystem::directory_iterator(dir))
    (void)e, ++n;
  return n;
}

} // namespace

TEST(AtomicFile, WritesNewFilesAndKeepsAnExistingMode) {
  TempRoot r;
  std::string p = r.host("/a.json");
  ASSERT_TRUE(write_file_atomic(p, "one"));
  EXPECT_EQ(slurp(p), "one");
  ::chmod(p.c_str(), 0600);
  ASSERT_TRUE(write_file_atomic(p, "two"));
  EXPECT_EQ(slurp(p), "two");
  struct stat st;
  ASSERT_EQ(::stat(p.c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0600u);
  EXPECT_EQ(entries(r.path()), 1);
}

TEST(AtomicFile, PiecesAreCommittedTogether) {
  TempRoot r;
  std::string p = r.host("/report.json");
  r.write("/report.json", "OLD");
  AtomicWriter w;
  ASSERT_TRUE(w.open(p));
  std::string expected;
  for (int i = 0; i < 1000; ++i) {
    std::string piece = std::to_string(i) + std::string(997, 'x') + "\n";
    ASSERT_TRUE(w.write(piece));
    expected += piece;
    if (i == 500) { // half written: a reader still sees the old file
      EXPECT_EQ(slurp(p), "OLD");
    }
  }
  ASSERT_TRUE(w.commit());
  EXPECT_EQ(slurp(p), expected);
  EXPECT_EQ(entries(r.path()), 1);
}

TEST(AtomicFile, AnAbandonedWriterLeavesTheOldFileAndNoTemporary) {
  TempRoot r;
  std::string p = r.host("/report.json");
  r.write("/report.json", "OLD");
  {
    AtomicWriter w;
    ASSERT_TRUE(w.open(p));
    ASSERT_TRUE(w.write("half a rep"));
    EXPECT_EQ(entries(r.path()), 2); // the destination and the temporary
  }
  EXPECT_EQ(slurp(p), "OLD");
  EXPECT_EQ(entries(r.path()), 1);
}

TEST(AtomicFile, AFailedWriteFailsTheCommitAndKeepsTheOldFile) {
  // In a child: a file-size limit makes the second piece fail with EFBIG,
  // as a full disk would part way through.
  TempRoot r;
  std::string p = r.host("/report.json");
  r.write("/report.json", "OLD");
  pid_t pid = ::fork();
  ASSERT_GE(pid, 0);
  if (pid == 0) {
    ::signal(SIGXFSZ, SIG_IGN);
    struct rlimit lim {
      4096, 4096
    };
    ::setrlimit(RLIMIT_FSIZE, &lim);
    AtomicWriter w;
    if (!w.open(p) || !w.write(std::string(4000, 'a')))
      ::_exit(10);
    if (w.write(std::string(4000, 'b'))) // over the limit
      ::_exit(11);
    if (w.write("c")) // stays failed
      ::_exit(12);
    auto c = w.commit();
    if (c || c.error().message.find("cannot write") == std::string::npos)
      ::_exit(13);
    ::_exit(0);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(pid, &status, 0), pid);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
  EXPECT_EQ(slurp(p), "OLD");
  EXPECT_EQ(entries(r.path()), 1);
}

TEST(AtomicFile, DevicesAreWrittenThroughAndDirectoriesRefused) {
  TempRoot r;
  EXPECT_TRUE(write_file_atomic("/dev/null", "x"));
  auto full = write_file_atomic("/dev/full", "x");
  ASSERT_FALSE(full);
  EXPECT_NE(full.error().message.find("cannot write"), std::string::npos);
  AtomicWriter w;
  ASSERT_TRUE(w.open("/dev/full"));
  EXPECT_FALSE(w.write("x"));
  EXPECT_FALSE(w.commit());
  auto dir = write_file_atomic(r.path(), "x");
  ASSERT_FALSE(dir);
  EXPECT_EQ(dir.error().sys_errno, EISDIR);
  EXPECT_FALSE(write_file_atomic(r.host("/no/such/dir/f"), "x"));
}

// A report path that is a symbolic link stays a link; the file it names is
// replaced atomically (rename over the link made it a plain file).
TEST(AtomicFile, ASymbolicLinkKeepsPointingAtTheReplacedFile) {
  TempRoot r;
  r.write("/real/report.json", "OLD");
  r.symlink("../real/report.json", "/out/report.json");
  ASSERT_TRUE(write_file_atomic(r.host("/out/report.json"), "NEW"));
  struct stat st;
  ASSERT_EQ(::lstat(r.host("/out/report.json").c_str(), &st), 0);
  EXPECT_TRUE(S_ISLNK(st.st_mode));
  EXPECT_EQ(slurp(r.host("/real/report.json")), "NEW");
  EXPECT_EQ(entries(r.host("/real")), 1);
  EXPECT_EQ(entries(r.host("/out")), 1);
  r.symlink("../real/missing/x.json", "/out/dangling.json");
  EXPECT_FALSE(write_file_atomic(r.host("/out/dangling.json"), "x"));
}
