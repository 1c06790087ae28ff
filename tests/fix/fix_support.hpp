#pragma once
// Helpers of the fix tests that take a whole root: a snapshot of the tree
// (every entry's kind, mode, owner and content digest) to prove a rollback
// restores it byte for byte, and a plan -> apply -> pass -> replan empty ->
// rollback round trip with the real validators.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/fix/engine.hpp>
#include <bulwark/fix/transaction.hpp>
#include <bulwark/report/escape.hpp>

#include <cerrno>
#include <fcntl.h>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <memory>
#include <openssl/evp.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>
#include <vector>

namespace bulwark::fix::test_support {

struct Entry {
  std::string kind;    // file, dir, link, other
  std::string content; // a file's SHA-256 (base64), a link's target, a device's numbers
  uint32_t mode = 0, uid = 0, gid = 0;
  bool operator==(const Entry &) const = default;
};

// The SHA-256 (base64, as report::sha256_base64 gives it) of the file at
// `path`, read in 256 KiB blocks: a 305 MB root hashed through one string
// per file cost FixDebianE2e more than its audits (each file grown in a
// stringbuf, then a fresh sanitizer mapping per large file). Empty on a
// read error (snapshot() fails the test then).
inline std::string file_digest(const std::string &path) {
  int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
  if (fd < 0)
    return {};
  std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
  bool ok = ctx && EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) == 1;
  static thread_local std::vector<char> buf(256 * 1024);
  for (ssize_t n; ok && (n = ::read(fd, buf.data(), buf.size())) != 0;) {
    if (n < 0) {
      ok = errno == EINTR;
      continue;
    }
    ok = EVP_DigestUpdate(ctx.get(), buf.data(), static_cast<size_t>(n)) == 1;
  }
  ::close(fd);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (!ok || EVP_DigestFinal_ex(ctx.get(), md, &len) != 1)
    return {};
  std::string out(4 * ((len + 2) / 3) + 1, '\0');
  int n = EVP_EncodeBlock(reinterpret_cast<unsigned char *>(out.data()), md, static_cast<int>(len));
  out.resize(static_cast<size_t>(n));
  return out;
}

// Every entry under `root` by its path inside the root; bulwark's own
// transaction directory (/var/lib/bulwark) and the directory entries of its
// parents left out. A root of a few
// thousand files is hashed, not held.
inline std::map<std::string, Entry> snapshot(const std::string &root) {
  std::map<std::string, Entry> out;
  std::error_code ec;
  for (auto it = std::filesystem::recursive_directory_iterator(root, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec)) {
    std::string rel = it->path().string().substr(root.size());
    if (rel == "/var/lib/bulwark") {
      it.disable_recursion_pending();
      continue;
    }
    // Its parents, which the first apply creates in a small fixture root
    // and no rollback removes (the transactions stay listed).
    if (rel == "/var/lib" || rel == "/var")
      continue;
    struct stat st;
    if (::lstat(it->path().c_str(), &st) != 0) {
      ADD_FAILURE() << "lstat " << rel;
      continue;
    }
    Entry e;
    e.mode = st.st_mode & 07777;
    e.uid = st.st_uid;
    e.gid = st.st_gid;
    if (S_ISLNK(st.st_mode)) {
      e.kind = "link";
      e.content = std::filesystem::read_symlink(it->path()).string();
    } else if (S_ISDIR(st.st_mode)) {
      e.kind = "dir";
    } else if (S_ISREG(st.st_mode)) {
      e.kind = "file";
      e.content = file_digest(it->path());
      EXPECT_FALSE(e.content.empty()) << "cannot read " << rel;
    } else {
      e.kind = "other";
      e.content = std::to_string(st.st_mode & S_IFMT) + ":" + std::to_string(major(st.st_rdev)) +
                  ":" + std::to_string(minor(st.st_rdev));
    }
    out[rel] = e;
  }
  EXPECT_FALSE(ec) << root << ": " << ec.message();
  return out;
}

// The entries that differ between two snapshots, for a readable failure.
inline std::string tree_diff(const std::map<std::string, Entry> &a,
                             const std::map<std::string, Entry> &b, size_t max = 10) {
  std::string out;
  size_t n = 0;
  auto note = [&](const std::string &p, const char *what) {
    if (n++ < max)
      out += "  " + p + ": " + what + "\n";
  };
  for (auto &[p, e] : a) {
    auto it = b.find(p);
    if (it == b.end())
      note(p, "gone");
    else if (it->second.kind != e.kind || it->second.content != e.content)
      note(p, "content");
    else if (!(it->second == e))
      note(p, "mode or owner");
  }
  for (auto &[p, e] : b)
    if (!a.count(p))
      note(p, "added");
  if (n > max)
    out += "  ... " + std::to_string(n - max) + " more\n";
  return out;
}

// A prepared copy of a whole root shared by the tests of one suite (a copy
// of the Debian root costs 4 CPU-s and 7 s of the disk's time). Each test
// leaves the tree as it found it; reusable() proves that against the
// snapshot prepared() took, after removing bulwark's transaction records
// (which snapshots leave out) so that no test sees an earlier one's
// history. A tree that differs (a test that failed half way) is printed and
// dropped, and the suite's SetUp prepares a new copy in fresh().
class SharedRoot {
public:
  bool reusable(const std::string &suite) {
    if (!m_root)
      return false;
    std::filesystem::remove_all(m_root->host("/var/lib/bulwark"));
    auto now = snapshot(m_root->path());
    if (now == m_pristine)
      return true;
    std::cout << "[ " << suite << " ] the shared root changed; copying it again:\n"
              << tree_diff(m_pristine, now);
    reset();
    return false;
  }
  const test::TempRoot &fresh() {
    m_pristine.clear();
    m_root = std::make_unique<test::TempRoot>();
    return *m_root;
  }
  void prepared() { m_pristine = snapshot(m_root->path()); }
  void reset() {
    m_root.reset();
    m_pristine.clear();
  }
  const test::TempRoot &root() const { return *m_root; }

private:
  std::unique_ptr<test::TempRoot> m_root;
  std::map<std::string, Entry> m_pristine;
};

// The plan's action (refusal) for `check`; nullptr when there is none.
inline const Action *action_of(const Plan &p, const std::string &check) {
  for (auto &a : p.actions)
    if (a.check_id == check)
      return &a;
  return nullptr;
}
inline const Refusal *refusal_of(const Plan &p, const std::string &check) {
  for (auto &r : p.refused)
    if (r.check_id == check)
      return &r;
  return nullptr;
}

// The plan for the checks `only` of `r`, under `profiles` (host paths; none:
// baseline). A failed plan is a test failure and an empty plan.
inline Plan plan_only(const test::TempRoot &r, std::vector<std::string> only,
                      std::vector<std::string> profiles = {}) {
  PlanRequest req;
  req.root = r.path();
  req.only = std::move(only);
  req.profiles = std::move(profiles);
  auto plan = make_plan(req);
  EXPECT_TRUE(plan.ok()) << (plan ? "" : plan.error().to_string());
  return plan ? *plan : Plan{};
}

// The worst status of `check` in a fresh audit of `root` (pass when every
// finding passes or does not apply).
inline Status status_of(const std::string &root, const std::string &check) {
  AuditRequest ar;
  ar.root = root;
  ar.only = {check};
  auto rep = run_audit(ar);
  EXPECT_TRUE(rep.ok());
  if (!rep)
    return Status::error;
  bool seen = false;
  Status worst = Status::pass;
  for (auto &f : rep->findings)
    if (f.check == check) {
      seen = true;
      if (f.status != Status::pass && f.status != Status::not_applicable)
        worst = f.status;
    }
  EXPECT_TRUE(seen) << check << " reported nothing";
  return seen ? worst : Status::error;
}

// plan -> apply -> every check passes -> a second plan is empty -> rollback
// restores the tree. The real validators judge (req.validate unset) unless
// `validate` is given. Returns the first plan.
inline Plan round_trip(const std::string &root, const std::vector<std::string> &checks,
                       ValidateFn validate = {}) {
  auto original = snapshot(root);
  for (auto &c : checks)
    EXPECT_EQ(status_of(root, c), Status::fail) << c << " must fail before the fix";
  PlanRequest req;
  req.root = root;
  req.only = checks;
  req.validate = validate;
  auto plan = make_plan(req);
  EXPECT_TRUE(plan.ok()) << (plan ? "" : plan.error().to_string());
  if (!plan)
    return {};
  EXPECT_EQ(plan->actions.size(), checks.size());
  for (auto &ref : plan->refused)
    ADD_FAILURE() << "refused " << ref.check_id << ": " << ref.reason;
  auto id = apply_plan(*plan);
  EXPECT_TRUE(id.ok()) << (id ? "" : id.error().to_string());
  for (auto &c : checks)
    EXPECT_EQ(status_of(root, c), Status::pass) << c << " must pass after the fix";
  auto again = make_plan(req);
  EXPECT_TRUE(again.ok());
  if (again) {
    EXPECT_TRUE(again->actions.empty()) << "a second run plans " << again->actions.size();
    EXPECT_TRUE(again->refused.empty());
  }
  auto fixed = snapshot(root);
  EXPECT_NE(fixed, original);
  auto back = rollback(root, id ? *id : "all");
  EXPECT_TRUE(back.ok()) << (back ? "" : back.error().to_string());
  auto restored = snapshot(root);
  EXPECT_TRUE(restored == original) << "rollback must restore the tree byte for byte:\n"
                                    << tree_diff(original, restored);
  return *plan;
}

} // namespace bulwark::fix::test_support
