// bulwark fim on hostile trees and databases: FIFOs and devices (never
// opened), names with newlines, 10,000-deep directories, unreadable files,
// files that change while they are read, a truncated or bit-flipped
// database (exit 3, never trusted), signing through the command line.

#include "support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/fim/fim.hpp>

#include <atomic>
#include <cstring>
#include <fcntl.h>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <sys/sysmacros.h>
#include <sys/xattr.h>
#include <thread>
#include <unordered_map>

namespace bulwark::test {
namespace {

const std::string k_bin = BULWARK_BINARY;

std::string everything_conf(const TempRoot &dir) {
  std::string conf = dir.path() + "/policy.conf";
  std::ofstream(conf) << "ALL = p+ftype+i+n+u+g+s+m+c+l+sha256+X\n/ ALL\n";
  return conf;
}

fim::Policy everything() {
  auto p = fim::Policy::parse("/ p+ftype+i+n+u+g+s+m+c+l+sha256+X\n", "t");
  if (!p)
    std::abort();
  return std::move(p).value();
}

TEST(FimHostile, FifosAndDevicesAreNeverOpened) {
  TempRoot root;
  root.write("/etc/a", "x");
  ASSERT_EQ(::mkfifo(root.host("/etc/fifo").c_str(), 0644), 0);
  bool dev = ::mknod(root.host("/etc/null").c_str(), S_IFCHR | 0666, makedev(1, 3)) == 0;
  // A reader of the FIFO would block for ever; a writer would too. The
  // scan must finish, and record the FIFO by its stat.
  auto start = std::chrono::steady_clock::now();
  auto r = fim::scan(RootFs(root.path()), everything());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_LT(std::chrono::steady_clock::now() - start, hang_bound(std::chrono::seconds(10)));
  bool fifo = false, null = false;
  for (auto &rec : r->records) {
    if (rec.path == "/etc/fifo") {
      fifo = true;
      EXPECT_EQ(rec.type, fim::FileType::fifo);
      EXPECT_TRUE(rec.hashes.empty());
      EXPECT_EQ(rec.error, "");
    }
    if (rec.path == "/etc/null") {
      null = true;
      EXPECT_EQ(rec.type, fim::FileType::chardev);
    }
  }
  EXPECT_TRUE(fifo);
  EXPECT_EQ(null, dev);
  EXPECT_TRUE(r->errors.empty());
}

TEST(FimHostile, NamesWithNewlinesAreRecordedAndReportedEscaped) {
  TempRoot root, work;
  root.write("/etc/evil\nchanged /etc/passwd", "1");
  root.write("/etc/passwd", "root");
  std::string conf = everything_conf(work), db = work.path() + "/db";
  auto init =
      run_command(k_bin + " fim init --root " + root.path() + " --config " + conf + " --db " + db);
  ASSERT_EQ(init.exit_code, 0) << init.err;
  root.write("/etc/evil\nchanged /etc/passwd", "2");
  auto check = run_command(k_bin + " fim check --root " + root.path() + " --config " + conf +
                           " --db " + db + " --allow-unsigned --format json");
  ASSERT_EQ(check.exit_code, 1) << check.err;
  auto j = nlohmann::json::parse(check.out);
  ASSERT_EQ(j["changes"].size(), 1u) << check.out;
  EXPECT_EQ(j["changes"][0]["path"], "/etc/evil\\x0achanged /etc/passwd");
  auto attrs = j["changes"][0]["attributes"];
  EXPECT_NE(std::find(attrs.begin(), attrs.end(), "sha256"), attrs.end()) << attrs.dump();
  // The text report cannot be made to show a forged line either.
  auto text = run_command(k_bin + " fim check --root " + root.path() + " --config " + conf +
                          " --db " + db + " --allow-unsigned");
  EXPECT_EQ(text.out.find("\nchanged /etc/passwd"), std::string::npos) << text.out;
}

TEST(FimHostile, TenThousandDeepDirectories) {
  // On tmpfs when there is one: removing 10,000 nested directories from
  // ext4 takes a minute of journal writes, the scan itself a second.
  std::string base = "/dev/shm/bulwark-fim-deep-XXXXXX";
  if (::mkdtemp(base.data()) == nullptr)
    base.clear();
  TempRoot fallback;
  std::string top = base.empty() ? fallback.path() : base;
  struct Cleanup {
    std::string dir;
    ~Cleanup() {
      if (!dir.empty())
        run_command("rm -rf " + dir);
    }
  } cleanup{base.empty() ? fallback.path() + "/d" : base};
  constexpr int k_depth = 10000;
  {
    int fd = ::open(top.c_str(), O_RDONLY | O_DIRECTORY);
    ASSERT_GE(fd, 0);
    for (int i = 0; i < k_depth; ++i) {
      ASSERT_EQ(::mkdirat(fd, "d", 0755), 0);
      int next = ::openat(fd, "d", O_RDONLY | O_DIRECTORY);
      ::close(fd);
      ASSERT_GE(next, 0);
      fd = next;
    }
    int f = ::openat(fd, "bottom", O_WRONLY | O_CREAT, 0644);
    ASSERT_GE(f, 0);
    ASSERT_EQ(::write(f, "x", 1), 1);
    ::close(f);
    ::close(fd);
  }
  auto r = fim::scan(RootFs(top), everything());
  ASSERT_TRUE(r) << r.error().to_string();
  EXPECT_EQ(r->records.size(), static_cast<size_t>(k_depth) + 2); // "/", the dirs, bottom
  EXPECT_TRUE(r->errors.empty());
  bool bottom = false;
  for (auto &rec : r->records)
    bottom = bottom || (rec.path.size() == 2 * k_depth + 7 && rec.type == fim::FileType::regular &&
                        !rec.hashes.empty());
  EXPECT_TRUE(bottom);
}

TEST(FimHostile, UnreadableFilesAreReportedNotSkipped) {
  BULWARK_REQUIRE_TOOL("setpriv") << "(Debian package util-linux)";
  TempRoot root, work;
  ::chmod(root.path().c_str(), 0755);
  ::chmod(work.path().c_str(), 0777);
  root.write("/etc/readable", "ok", 0644);
  root.write("/etc/secret", "no", 0600);
  std::string conf = everything_conf(work), db = work.path() + "/db";
  ::chmod(conf.c_str(), 0644);
  std::string as_nobody = "setpriv --reuid=65534 --regid=65534 --clear-groups ";
  auto init = run_command(as_nobody + k_bin + " fim init --root " + root.path() + " --config " +
                          conf + " --db " + db);
  EXPECT_EQ(init.exit_code, 1) << init.err; // written, but not everything could be read
  EXPECT_NE(init.err.find("/etc/secret: cannot open: Permission denied"), std::string::npos)
      << init.err;
  auto check = run_command(as_nobody + k_bin + " fim check --root " + root.path() + " --config " +
                           conf + " --db " + db + " --allow-unsigned --format json");
  EXPECT_EQ(check.exit_code, 1) << check.err;
  auto j = nlohmann::json::parse(check.out);
  ASSERT_EQ(j["errors"].size(), 1u) << check.out;
  EXPECT_EQ(j["errors"][0]["path"], "/etc/secret");
  EXPECT_TRUE(j["changes"].empty());
}

TEST(FimHostile, AFileThatChangesWhileItIsReadIsReported) {
  TempRoot root;
  root.write("/var/grows", std::string(32 << 20, 'x'));
  std::atomic<bool> stop{false};
  std::thread writer([&] {
    int fd = ::open(root.host("/var/grows").c_str(), O_WRONLY | O_APPEND);
    while (!stop && fd >= 0) {
      if (::write(fd, "y", 1) != 1)
        break;
    }
    if (fd >= 0)
      ::close(fd);
  });
  auto r = fim::scan(RootFs(root.path()), everything());
  stop = true;
  writer.join();
  ASSERT_TRUE(r) << r.error().to_string();
  bool reported = false;
  for (auto &e : r->errors)
    reported = reported ||
               (e.path == "/var/grows" && e.message.find("changed while") != std::string::npos);
  EXPECT_TRUE(reported);
  for (auto &rec : r->records)
    if (rec.path == "/var/grows") {
      EXPECT_TRUE(rec.hashes.empty()) << "a hash of a moving file is not a baseline";
    }
}

TEST(FimHostile, TruncatedOrFlippedDatabaseExitsThree) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  TempRoot root, work;
  root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n");
  std::string conf = everything_conf(work), db = work.path() + "/db";
  std::string key = work.path() + "/k.pem", pub = work.path() + "/k.pub";
  ASSERT_EQ(run_command("openssl genpkey -algorithm ed25519 -out " + key + " && openssl pkey -in " +
                        key + " -pubout -out " + pub)
                .exit_code,
            0);
  std::string common = " --root " + root.path() + " --config " + conf + " --db " + db;
  ASSERT_EQ(run_command(k_bin + " fim init" + common + " --key " + key).exit_code, 0);
  auto ok = run_command(k_bin + " fim check" + common + " --pubkey " + pub);
  EXPECT_EQ(ok.exit_code, 0) << ok.err << ok.out;
  EXPECT_NE(ok.out.find("signature verified"), std::string::npos);
  // Unsigned use of a signed baseline needs the flag; so does no key.
  EXPECT_EQ(run_command(k_bin + " fim check" + common).exit_code, 3);

  std::string bytes;
  {
    std::ifstream in(db, std::ios::binary);
    bytes = bulwark::test::read_all(in);
  }
  ASSERT_GT(bytes.size(), 100u);
  auto with = [&](const std::string &content) {
    std::ofstream(db, std::ios::binary | std::ios::trunc) << content;
    return run_command(k_bin + " fim check" + common + " --pubkey " + pub + " --format json");
  };
  auto truncated = with(bytes.substr(0, bytes.size() / 2));
  EXPECT_EQ(truncated.exit_code, 3);
  EXPECT_NE(truncated.err.find("not trusted"), std::string::npos) << truncated.err;
  EXPECT_TRUE(truncated.out.empty());
  std::string flipped = bytes;
  flipped[flipped.size() / 2] ^= 0x10;
  auto f = with(flipped);
  EXPECT_EQ(f.exit_code, 3);
  EXPECT_NE(f.err.find("not trusted"), std::string::npos) << f.err;
  // Even --allow-unsigned does not make a corrupt file readable.
  std::ofstream(db, std::ios::binary | std::ios::trunc) << flipped;
  EXPECT_EQ(run_command(k_bin + " fim check" + common + " --allow-unsigned").exit_code, 3);
  // An intruder's re-baseline without the key is refused.
  std::ofstream(db, std::ios::binary | std::ios::trunc) << bytes;
  root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nevil:x:0:0::/:/bin/sh\n");
  EXPECT_EQ(run_command(k_bin + " fim init" + common).exit_code, 0);
  auto rebaselined = run_command(k_bin + " fim check" + common + " --pubkey " + pub);
  EXPECT_EQ(rebaselined.exit_code, 3) << rebaselined.err;
  EXPECT_NE(rebaselined.err.find("not signed"), std::string::npos) << rebaselined.err;
}

TEST(FimHostile, FastCheckTrustsUnchangedStatAndSeesChanges) {
  TempRoot root, work;
  root.write("/usr/bin/a", "aaaa");
  root.write("/usr/bin/b", "bbbb");
  std::string conf = everything_conf(work), db = work.path() + "/db";
  std::string common = " --root " + root.path() + " --config " + conf + " --db " + db;
  ASSERT_EQ(run_command(k_bin + " fim init" + common).exit_code, 0);
  auto same = run_command(k_bin + " fim check --fast --allow-unsigned" + common);
  EXPECT_EQ(same.exit_code, 0) << same.out << same.err;
  root.write("/usr/bin/b", "BBBB"); // same size; mtime and ctime move
  auto changed = run_command(k_bin + " fim check --fast --allow-unsigned --format json" + common);
  EXPECT_EQ(changed.exit_code, 1);
  auto j = nlohmann::json::parse(changed.out);
  ASSERT_EQ(j["changes"].size(), 1u);
  EXPECT_EQ(j["changes"][0]["path"], "/usr/bin/b");
  EXPECT_TRUE(j["fast"].get<bool>());
}

// --fast reads the extended attributes of a file it trusts without opening
// it, and those of FIFOs, symbolic links and leaf directories in every scan,
// by name through the directory's descriptor (listxattrat/getxattrat, or
// /proc/self/fd on kernels before 6.13). They must read what the opened
// file's flistxattr/fgetxattr read: every name, values longer than the first
// buffer, and nothing on a file that has none.
TEST(FimHostile, XattrsReadByNameEqualThoseReadThroughTheOpenFile) {
  TempRoot root;
  root.write("/usr/bin/x", "x");
  root.write("/usr/bin/plain", "p");
  std::string big(3000, 'v'); // beyond the 256-byte first value buffer
  ASSERT_EQ(::setxattr(root.host("/usr/bin/x").c_str(), "user.one", "1", 1, 0), 0);
  ASSERT_EQ(::setxattr(root.host("/usr/bin/x").c_str(), "user.big", big.data(), big.size(), 0), 0);
  ASSERT_EQ(::mkfifo(root.host("/usr/bin/fifo").c_str(), 0644), 0);
  // trusted.* is the namespace root may set on a FIFO (user.* is for files
  // and directories only); the tests run as root.
  BULWARK_REQUIRE(::setxattr(root.host("/usr/bin/fifo").c_str(), "trusted.fim", "f", 1, 0) == 0)
      << "cannot set trusted.* extended attributes (not root?): " << std::strerror(errno);
  auto full = fim::scan(RootFs(root.path()), everything());
  ASSERT_TRUE(full) << full.error().to_string();
  std::unordered_map<std::string_view, const fim::Record *> trust;
  for (auto &r : full->records)
    trust.emplace(r.path, &r);
  fim::ScanOptions fast;
  fast.trust = &trust;
  auto trusted = fim::scan(RootFs(root.path()), everything(), fast);
  ASSERT_TRUE(trusted) << trusted.error().to_string();
  EXPECT_EQ(trusted->trusted_files, 2u); // x and plain: neither opened
  EXPECT_EQ(trusted->hashed_files, 0u);
  using Xattrs = std::vector<std::pair<std::string, std::string>>;
  std::map<std::string, Xattrs> by_path;
  for (auto &r : trusted->records)
    by_path[r.path] = r.xattrs;
  EXPECT_EQ(by_path["/usr/bin/x"], (Xattrs{{"user.big", big}, {"user.one", "1"}}));
  EXPECT_EQ(by_path["/usr/bin/plain"], Xattrs{});
  EXPECT_EQ(by_path["/usr/bin/fifo"], (Xattrs{{"trusted.fim", "f"}}));
  ASSERT_EQ(full->records.size(), trusted->records.size());
  for (size_t i = 0; i < full->records.size(); ++i)
    EXPECT_EQ(full->records[i].xattrs, trusted->records[i].xattrs) << full->records[i].path;
  EXPECT_TRUE(trusted->errors.empty());
}

TEST(FimCli, UsageErrorsExitTwoAndMetricsAreWritten) {
  TempRoot root, work;
  root.write("/etc/x", "1");
  EXPECT_EQ(run_command(k_bin + " fim frobnicate").exit_code, 2);
  EXPECT_EQ(run_command(k_bin + " fim check --format xml").exit_code, 2);
  EXPECT_EQ(run_command(k_bin + " fim check --root /nonexistent-root").exit_code, 2);
  std::string conf = everything_conf(work), db = work.path() + "/db";
  std::string common = " --root " + root.path() + " --config " + conf + " --db " + db;
  EXPECT_EQ(run_command(k_bin + " fim check --allow-unsigned" + common).exit_code, 3); // no db
  ASSERT_EQ(run_command(k_bin + " fim init" + common).exit_code, 0);
  root.write("/etc/y", "2");
  std::string prom = work.path() + "/fim.prom";
  auto r =
      run_command(k_bin + " fim check --allow-unsigned --format sarif --metrics " + prom + common);
  EXPECT_EQ(r.exit_code, 1);
  auto sarif = nlohmann::json::parse(r.out);
  bool added = false;
  for (auto &res : sarif["runs"][0]["results"])
    added =
        added || (res["ruleId"] == "fim.added" &&
                  res["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == "etc/y");
  EXPECT_TRUE(added) << r.out;
  std::ifstream in(prom);
  std::string metrics = bulwark::test::read_all(in);
  EXPECT_NE(metrics.find("bulwark_fim_changes{change=\"added\"} 1\n"), std::string::npos)
      << metrics;
  // update takes the change into the baseline; the next check is clean.
  EXPECT_EQ(run_command(k_bin + " fim update --allow-unsigned" + common).exit_code, 1);
  EXPECT_EQ(run_command(k_bin + " fim check --allow-unsigned" + common).exit_code, 0);
}

// The SARIF Multitool, where the report tests install it
// (tests/report/sarif_test.cpp): no error; the one warning accepted is
// SARIF2017, a location without a region (a change is about a whole file).
TEST(FimCli, SarifValidatesWithTheSarifMultitool) {
  const char *env = std::getenv("BULWARK_SARIF_MULTITOOL");
  std::string tool = std::string(env ? env : "/var/tmp/bulwark-sarif-multitool") +
                     "/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool";
  BULWARK_REQUIRE(::access(tool.c_str(), X_OK) == 0)
      << "SARIF Multitool not installed (see tests/report/sarif_test.cpp)";
  TempRoot root, work;
  root.write("/etc/a", "1");
  root.write("/etc/b 100%", "2");
  std::string conf = everything_conf(work), db = work.path() + "/db";
  std::string common = " --root " + root.path() + " --config " + conf + " --db " + db;
  ASSERT_EQ(run_command(k_bin + " fim init" + common).exit_code, 0);
  root.write("/etc/a", "changed");
  root.write("/etc/new", "3");
  std::string out = work.path() + "/fim.sarif";
  auto r =
      run_command(k_bin + " fim check --allow-unsigned --format sarif --output " + out + common);
  ASSERT_EQ(r.exit_code, 1) << r.err;
  auto v = run_command(tool + " validate -o " + work.path() + "/v.sarif " + out);
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  std::ifstream in(work.path() + "/v.sarif");
  auto log = nlohmann::json::parse(bulwark::test::read_all(in));
  for (auto &res : log["runs"][0]["results"]) {
    EXPECT_NE(res.value("level", "warning"), "error") << res.dump();
    EXPECT_EQ(res["ruleId"], "SARIF2017") << res.dump();
  }
}

} // namespace
} // namespace bulwark::test
