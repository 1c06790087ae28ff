// bulwark fix --apply under faults: a write past `ulimit -f`, a read-only
// file system under one of the files, SIGKILL between two files. Each leaves
// the root as it was: the apply rolls itself back, or the next run's
// recover() does. The plan has two files in two directories (an sshd drop-in
// and a sysctl drop-in) so that the fault comes after a first change.

#include "../support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/fix/engine.hpp>
#include <bulwark/fix/transaction.hpp>

#include <csignal>
#include <filesystem>
#include <map>
#include <sched.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>

namespace bulwark::fix {
namespace {

using test::TempRoot;

std::map<std::string, std::string> files_of(const std::string &root) {
  std::map<std::string, std::string> out;
  for (auto &de : std::filesystem::recursive_directory_iterator(root)) {
    std::string rel = de.path().string().substr(root.size());
    if (rel.rfind("/var", 0) == 0)
      continue;
    struct stat st;
    ::lstat(de.path().c_str(), &st);
    std::string v = std::to_string(st.st_mode) + ":" + std::to_string(st.st_uid) + ":" +
                    std::to_string(st.st_gid) + ":";
    if (S_ISREG(st.st_mode))
      v += *RootFs(root).read_file(rel);
    out[rel] = v;
  }
  return out;
}

void fixture(const TempRoot &r) {
  r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
  r.write("/etc/group", "root:x:0:\n");
  r.write("/etc/ssh/sshd_config", "X11Forwarding yes\n");
  r.write("/etc/sysctl.conf", "kernel.kptr_restrict = 0\n");
  r.symlink("../sysctl.conf", "/etc/sysctl.d/99-sysctl.conf");
}

Plan plan_for(const TempRoot &r) {
  PlanRequest req;
  req.root = r.path();
  req.only = {"ssh.x11-forwarding", "sysctl.kernel"};
  req.validate = [](Validator, const std::string &, const Overlay &) -> Result<Validation> {
    return Validation{true, "test", ""};
  };
  auto plan = make_plan(req);
  EXPECT_TRUE(plan.ok());
  EXPECT_EQ(plan->actions.size(), 2u);
  return plan ? *plan : Plan{};
}

// Runs `body` in a child process; returns its wait status.
template <class F> int in_child(F body) {
  pid_t pid = ::fork();
  if (pid == 0) {
    body();
    ::_exit(0);
  }
  int status = 0;
  ::waitpid(pid, &status, 0);
  return status;
}

TEST(FixFaults, WritePastUlimitFIsRolledBackByTheNextRun) {
  TempRoot r;
  fixture(r);
  auto original = files_of(r.path());
  Plan plan = plan_for(r);
  int status = in_child([&] {
    ApplyOptions opts;
    // After the first file, the process may write no more than 1 byte.
    opts.after_write = [](size_t i) {
      if (i == 0) {
        struct rlimit lim {
          1, 1
        };
        ::setrlimit(RLIMIT_FSIZE, &lim);
      }
    };
    auto id = apply_plan(plan, opts);
    ::_exit(id.ok() ? 10 : (id.error().sys_errno == EFBIG ? 20 : 30));
  });
  ASSERT_TRUE(WIFEXITED(status)) << "SIGXFSZ must not kill the apply";
  EXPECT_EQ(WEXITSTATUS(status), 20) << "the write must fail with EFBIG";
  // Under the same limit the immediate rollback cannot write either: the
  // transaction stays "applying" and the next run (without the limit)
  // rolls it back.
  auto list = list_transactions(r.path());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().state, "applying");
  auto rec = recover(r.path());
  ASSERT_TRUE(rec.ok()) << rec.error().to_string();
  EXPECT_EQ(rec->size(), 1u);
  EXPECT_EQ(files_of(r.path()), original);
  EXPECT_EQ(list_transactions(r.path())->front().state, "rolled-back");
}

TEST(FixFaults, SigkillBetweenTwoFilesIsRolledBackByTheNextRun) {
  TempRoot r;
  fixture(r);
  auto original = files_of(r.path());
  Plan plan = plan_for(r);
  int status = in_child([&] {
    ApplyOptions opts;
    opts.after_write = [](size_t i) {
      if (i == 0)
        ::raise(SIGKILL);
    };
    (void)apply_plan(plan, opts);
  });
  ASSERT_TRUE(WIFSIGNALED(status));
  EXPECT_NE(files_of(r.path()), original) << "the first file was written before the kill";
  auto list = list_transactions(r.path());
  ASSERT_TRUE(list.ok());
  ASSERT_EQ(list->size(), 1u);
  EXPECT_EQ(list->front().state, "applying");
  auto rec = recover(r.path());
  ASSERT_TRUE(rec.ok()) << rec.error().to_string();
  EXPECT_EQ(rec->size(), 1u);
  EXPECT_EQ(files_of(r.path()), original);
  EXPECT_EQ(list_transactions(r.path())->front().state, "rolled-back");
  // Recovering again finds nothing to do.
  EXPECT_TRUE(recover(r.path())->empty());
}

TEST(FixFaults, ReadOnlyFileSystemUnderTheSecondFileIsRolledBack) {
  BULWARK_REQUIRE(::geteuid() == 0) << "a read-only bind mount needs root";
  TempRoot r;
  fixture(r);
  auto original = files_of(r.path());
  Plan plan = plan_for(r);
  // The plan writes /etc/ssh/... first, then /etc/sysctl.conf: /etc/sysctl.d
  // and /etc/sysctl.conf's directory... make /etc/sysctl.d read-only, which
  // the sysctl drop-in needs.
  int status = in_child([&] {
    if (::unshare(CLONE_NEWNS) != 0 ||
        ::mount(nullptr, "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0)
      ::_exit(40);
    std::string d = r.host("/etc/sysctl.d");
    if (::mount(d.c_str(), d.c_str(), nullptr, MS_BIND, nullptr) != 0 ||
        ::mount(nullptr, d.c_str(), nullptr, MS_BIND | MS_REMOUNT | MS_RDONLY, nullptr) != 0)
      ::_exit(41);
    auto id = apply_plan(plan);
    ::_exit(id.ok() ? 10 : (id.error().sys_errno == EROFS ? 20 : 30));
  });
  ASSERT_TRUE(WIFEXITED(status));
  BULWARK_REQUIRE(WEXITSTATUS(status) != 40 && WEXITSTATUS(status) != 41)
      << "cannot make a private mount namespace here";
  EXPECT_EQ(WEXITSTATUS(status), 20);
  EXPECT_EQ(files_of(r.path()), original);
}

TEST(FixFaults, AFileChangedSinceThePlanIsNotOverwritten) {
  TempRoot r;
  fixture(r);
  Plan plan = plan_for(r);
  r.write("/etc/ssh/sshd_config", "X11Forwarding yes\n# edited meanwhile\n");
  auto changed = files_of(r.path());
  auto id = apply_plan(plan);
  ASSERT_FALSE(id.ok());
  EXPECT_NE(id.error().message.find("changed since the plan"), std::string::npos);
  EXPECT_EQ(files_of(r.path()), changed);
}

TEST(FixFaults, ASymlinkOutOfTheRootIsNeverWrittenThrough) {
  TempRoot outside;
  outside.write("/victim", "keep\n");
  TempRoot r;
  fixture(r);
  // The drop-in the plan creates is, by the time of the apply, a link to a
  // host file.
  Plan plan = plan_for(r);
  r.symlink(outside.host("/victim"), "/etc/sysctl.d/99-zz-bulwark.conf");
  auto id = apply_plan(plan);
  EXPECT_FALSE(id.ok());
  EXPECT_EQ(*RootFs(outside.path()).read_file("/victim"), "keep\n");
}

} // namespace
} // namespace bulwark::fix
