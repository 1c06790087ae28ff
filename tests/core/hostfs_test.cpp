// HostFs: the auditor's own files (--profile, --waivers, --baseline,
// --compose outside the root) are read without hanging on a FIFO, without
// reading a device to the end, and within a size limit.

#include "../support.hpp"

#include <bulwark/core/hostfs.hpp>

#include <chrono>
#include <fcntl.h>
#include <future>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

using bulwark::HostFs;
using bulwark::test::TempRoot;

TEST(HostFs, ReadsARegularFile) {
  TempRoot t;
  t.write("/w.yaml", "waivers: []\n");
  auto got = HostFs::read_file(t.host("/w.yaml"), 1024, "cannot read waivers");
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  EXPECT_EQ(*got, "waivers: []\n");
}

TEST(HostFs, AbsenceIsNotFoundAndNamesThePath) {
  TempRoot t;
  auto got = HostFs::read_file(t.host("/missing"), 1024, "cannot read profile");
  ASSERT_FALSE(got.ok());
  EXPECT_TRUE(got.error().not_found());
  EXPECT_EQ(got.error().path, t.host("/missing"));
  EXPECT_EQ(got.error().message, "cannot read profile: No such file or directory");
}

TEST(HostFs, AFifoIsRefusedWithoutWaitingForAWriter) {
  TempRoot t;
  std::string fifo = t.host("/fifo");
  ASSERT_EQ(::mkfifo(fifo.c_str(), 0600), 0);
  auto pending = std::async(std::launch::async, [&] { return HostFs::read_file(fifo, 1024); });
  if (pending.wait_for(bulwark::test::hang_bound(std::chrono::seconds(5))) !=
      std::future_status::ready) {
    // Unblock the reader so that the test can end, then fail.
    int w = ::open(fifo.c_str(), O_WRONLY | O_NONBLOCK);
    if (w >= 0)
      ::close(w);
    FAIL() << "reading a FIFO waited for a writer";
  }
  auto got = pending.get();
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("not a regular file"), std::string::npos);
  EXPECT_FALSE(got.error().not_found());
}

TEST(HostFs, ADeviceIsRefusedBeforeAnyRead) {
  auto got = HostFs::read_file("/dev/zero", 1024 * 1024);
  ASSERT_FALSE(got.ok());
  EXPECT_NE(got.error().message.find("not a regular file"), std::string::npos);
  EXPECT_EQ(got.error().path, "/dev/zero");
}

TEST(HostFs, ADirectoryIsRefused) {
  TempRoot t;
  auto got = HostFs::read_file(t.path(), 1024);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.error().sys_errno, EISDIR);
}

TEST(HostFs, SizeLimitFromFstatAndWhileReading) {
  TempRoot t;
  t.write("/big", std::string(1000, 'x'));
  auto over = HostFs::read_file(t.host("/big"), 999);
  ASSERT_FALSE(over.ok());
  EXPECT_EQ(over.error().sys_errno, EFBIG);
  EXPECT_TRUE(HostFs::read_file(t.host("/big"), 1000).ok());
  // A file whose fstat size says 0 and whose reads go on (procfs): the count
  // while reading stops it. This process's own status is over 16 bytes.
  auto grows = HostFs::read_file("/proc/self/status", 16);
  ASSERT_FALSE(grows.ok());
  EXPECT_EQ(grows.error().sys_errno, EFBIG);
}
