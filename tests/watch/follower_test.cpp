// Following live files: every line exactly once across logrotate's three
// rotations (rename, copytruncate, delete-and-recreate), partial lines, and
// restarts from a saved position (also across a rotation while stopped).
#include <bulwark/watch/follower.hpp>

#include "../support.hpp"

#include <cstdio>
#include <filesystem>
#include <gtest/gtest.h>

using namespace bulwark::watch;
using bulwark::test::TempRoot;

namespace {

void append(const std::string &path, const std::string &text) {
  FILE *f = std::fopen(path.c_str(), "ab");
  ASSERT_NE(f, nullptr);
  std::fwrite(text.data(), 1, text.size(), f);
  std::fclose(f);
}

std::vector<std::string> poll_all(Follower &f) {
  std::vector<std::string> out;
  f.poll([&](std::string_view l) { out.emplace_back(l); });
  return out;
}

using Lines = std::vector<std::string>;

} // namespace

TEST(WatchFollower, AppendsAndPartialLines) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "old1\nold2\n");
  Follower f({log}, {}, 1 << 20);
  // A first start begins at the end: history is not replayed.
  EXPECT_EQ(poll_all(f), Lines{});
  append(log, "a1\na2\npart");
  EXPECT_EQ(poll_all(f), (Lines{"a1", "a2"}));
  append(log, "ial\n");
  EXPECT_EQ(poll_all(f), (Lines{"partial"}));
  EXPECT_GE(f.wait_fd(), 0);
}

TEST(WatchFollower, RotationByRename) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "");
  Follower f({log}, {}, 1 << 20);
  append(log, "a1\na2\n");
  EXPECT_EQ(poll_all(f), (Lines{"a1", "a2"}));
  append(log, "a3\n");
  std::filesystem::rename(log, log + ".1");
  append(log + ".1", "a4\n"); // the writer has not reopened yet
  append(log, "b1\n");
  EXPECT_EQ(poll_all(f), (Lines{"a3", "a4", "b1"}));
  append(log + ".1", "a5\n"); // a late line to the old file
  append(log, "b2\n");
  EXPECT_EQ(poll_all(f), (Lines{"a5", "b2"}));
  append(log, "b3\n");
  EXPECT_EQ(poll_all(f), (Lines{"b3"}));
  EXPECT_EQ(poll_all(f), Lines{});
}

TEST(WatchFollower, RotationByCopytruncate) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "");
  Follower f({log}, {}, 1 << 20);
  append(log, "c1 first line of the old file\nc2\n");
  EXPECT_EQ(poll_all(f), (Lines{"c1 first line of the old file", "c2"}));
  std::filesystem::copy_file(log, log + ".1");
  std::filesystem::resize_file(log, 0);
  append(log, "d1\n");
  EXPECT_EQ(poll_all(f), (Lines{"d1"}));
  // Truncated and refilled beyond the old offset before we look again: the
  // first line changed, so reading restarts at 0.
  std::filesystem::resize_file(log, 0);
  append(log, "e1 a new first line, longer than before\ne2\ne3\n");
  EXPECT_EQ(poll_all(f), (Lines{"e1 a new first line, longer than before", "e2", "e3"}));
}

TEST(WatchFollower, RotationByDeleteAndRecreate) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "");
  Follower f({log}, {}, 1 << 20);
  append(log, "x1\n");
  EXPECT_EQ(poll_all(f), (Lines{"x1"}));
  append(log, "x2\n");
  std::filesystem::remove(log);
  EXPECT_EQ(poll_all(f), (Lines{"x2"})); // still readable through the open descriptor
  append(log, "y1\n");
  EXPECT_EQ(poll_all(f), (Lines{"y1"}));
  append(log, "y2\n");
  EXPECT_EQ(poll_all(f), (Lines{"y2"}));
}

TEST(WatchFollower, RestartResumesAtSavedPosition) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "");
  std::vector<FilePosition> saved;
  {
    Follower f({log}, {}, 1 << 20);
    append(log, "r1\nr2\nhalf");
    EXPECT_EQ(poll_all(f), (Lines{"r1", "r2"}));
    saved = positions_from_json(positions_to_json(f.positions()));
  }
  ASSERT_EQ(saved.size(), 1u);
  EXPECT_EQ(saved[0].offset, 6u); // after "r2\n": the half line is not read yet
  append(log, "-line\nr3\n");
  Follower g({log}, saved, 1 << 20);
  EXPECT_EQ(poll_all(g), (Lines{"half-line", "r3"}));
}

TEST(WatchFollower, RestartAfterRotationWhileStopped) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "");
  std::vector<FilePosition> saved;
  {
    Follower f({log}, {}, 1 << 20);
    append(log, "s1\n");
    EXPECT_EQ(poll_all(f), (Lines{"s1"}));
    saved = f.positions();
  }
  append(log, "s2\n");
  std::filesystem::rename(log, log + ".1");
  append(log, "t1\n");
  Follower g({log}, saved, 1 << 20);
  // The renamed file is finished first, then the new one is read whole.
  EXPECT_EQ(poll_all(g), (Lines{"s2", "t1"}));
  EXPECT_EQ(poll_all(g), Lines{});
  append(log, "t2\n");
  EXPECT_EQ(poll_all(g), (Lines{"t2"}));
}

TEST(WatchFollower, RestartAfterCopytruncateWhileStopped) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "");
  std::vector<FilePosition> saved;
  {
    Follower f({log}, {}, 1 << 20);
    append(log, "u1 the first line\nu2\n");
    EXPECT_EQ(poll_all(f), (Lines{"u1 the first line", "u2"}));
    saved = f.positions();
  }
  std::filesystem::resize_file(log, 0);
  append(log, "v1 another first line entirely\n");
  Follower g({log}, saved, 1 << 20);
  EXPECT_EQ(poll_all(g), (Lines{"v1 another first line entirely"}));
}

TEST(WatchFollower, OverlongLineSkippedAlsoAcrossRestart) {
  TempRoot t;
  std::string log = t.host("/auth.log");
  append(log, "");
  std::vector<FilePosition> saved;
  {
    Follower f({log}, {}, 1024);
    append(log, "ok1\n" + std::string(3000, 'z'));
    EXPECT_EQ(poll_all(f), (Lines{"ok1"}));
    EXPECT_EQ(f.lines_too_long(), 1u);
    saved = f.positions();
  }
  // The saved offset is the start of the long line: its tail is never a line.
  append(log, " from 203.0.113.9 port 22\nok2\n");
  Follower g({log}, saved, 1024);
  EXPECT_EQ(poll_all(g), (Lines{"ok2"}));
}

TEST(WatchFollower, MalformedPositionsAreIgnored) {
  EXPECT_TRUE(positions_from_json("").empty());
  EXPECT_TRUE(positions_from_json("{\"files\": 3}").empty());
  EXPECT_TRUE(positions_from_json("{\"files\": [{\"path\": 1}]}").empty());
  EXPECT_EQ(positions_from_json("{\"files\": [{\"path\": \"/x\", \"dev\": 1, \"inode\": 2, "
                                "\"offset\": 3, \"head_hash\": 4}]}")
                .size(),
            1u);
}
