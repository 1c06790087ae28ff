// fs.world-writable, fs.app-permissions and fs.suid-files on built roots:
// each passes and fails on real files, names the offending path, caps long
// lists, escapes hostile names, and judges set-id files against a dpkg
// database whose md5sums come from md5sum(1) itself.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/parse/dpkg_files.hpp>

#include <gtest/gtest.h>
#include <map>
#include <sstream>

#include <sys/stat.h>
#include <sys/sysmacros.h>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

struct Audit {
  TempRoot root;
  TempRoot etc; // profiles live outside the audited root
  AuditReport report;

  void run(const std::string &only = "fs", const std::string &profile_yaml = "") {
    AuditRequest req;
    req.root = root.path();
    req.only = {only};
    if (!profile_yaml.empty()) {
      etc.write("/p.yaml", profile_yaml);
      req.profiles = {etc.host("/p.yaml")};
    }
    auto r = run_audit(req);
    ASSERT_TRUE(r.ok()) << r.error().to_string();
    report = *r;
  }
  // The verdict (pass/fail/n.a.) of a check, not its error findings.
  const Finding &verdict(const std::string &id) const {
    for (auto &f : report.findings)
      if (f.check == id && f.status != Status::error)
        return f;
    static Finding none;
    ADD_FAILURE() << "no verdict for " << id;
    return none;
  }
  const Finding *error(const std::string &id) const {
    for (auto &f : report.findings)
      if (f.check == id && f.status == Status::error)
        return &f;
    return nullptr;
  }
};

std::vector<std::string> evidence_paths(const Finding &f) {
  std::vector<std::string> out;
  for (auto &e : f.evidence)
    out.push_back(e.path);
  return out;
}

// A minimal dpkg database: `pkg` installed `files` (shipped paths); the
// md5sums are written by md5sum(1) run in the root, like dh_md5sums does.
void install_package(const TempRoot &r, const std::string &pkg,
                     const std::vector<std::string> &files) {
  std::string list = "/.\n";
  std::string rel;
  for (auto &f : files) {
    list += f + "\n";
    rel += " '" + f.substr(1) + "'";
  }
  r.write("/var/lib/dpkg/info/" + pkg + ".list", list);
  auto md5 = run_command("cd " + r.path() + " && md5sum" + rel);
  ASSERT_EQ(md5.exit_code, 0) << md5.err;
  r.write("/var/lib/dpkg/info/" + pkg + ".md5sums", md5.out);
}

} // namespace

TEST(FsChecksWorldWritable, CleanRootPasses) {
  Audit a;
  a.root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\n", 0644);
  a.root.mkdir("/tmp");
  ::chmod(a.root.host("/tmp").c_str(), 01777);
  a.root.write("/tmp/scratch", "", 0666);       // contents of a scratch directory
  a.root.write("/dev/null", "", 0666);          // pruned
  a.root.write("/proc/sys/kernel/x", "", 0666); // pruned
  a.root.symlink("/etc/passwd", "/etc/link");   // symlinks are always 0777
  ::mkfifo(a.root.host("/etc/fifo").c_str(), 0666);
  ::chmod(a.root.host("/etc/fifo").c_str(), 0666); // IPC permissions, not judged
  a.run("fs.world-writable");
  const Finding &f = a.verdict("fs.world-writable");
  EXPECT_EQ(f.status, Status::pass) << f.message;
  ASSERT_EQ(f.evidence.size(), 1u);
  EXPECT_EQ(f.evidence[0].path, "/");
  EXPECT_EQ(f.evidence[0].line, 0);
}

TEST(FsChecksWorldWritable, FilesAndNonStickyDirectoriesFail) {
  Audit a;
  a.root.write("/etc/cron.d/job", "* * * * * root /x\n", 0666);
  a.root.mkdir("/srv/upload");
  ::chmod(a.root.host("/srv/upload").c_str(), 0777);
  a.root.mkdir("/srv/shared");
  ::chmod(a.root.host("/srv/shared").c_str(), 01777); // sticky: passes
  a.root.mkdir("/tmp");
  ::chmod(a.root.host("/tmp").c_str(), 0777); // the scratch directory itself is judged
  ::mknod(a.root.host("/srv/disk").c_str(), S_IFBLK | 0666, makedev(8, 0));
  ::chmod(a.root.host("/srv/disk").c_str(), 0666);
  a.run("fs.world-writable");
  const Finding &f = a.verdict("fs.world-writable");
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(evidence_paths(f),
            (std::vector<std::string>{"/etc/cron.d/job", "/srv/disk", "/srv/upload", "/tmp"}));
  EXPECT_EQ(f.evidence[0].line, 0);
  EXPECT_EQ(f.evidence[0].found, "-rw-rw-rw- (0666) uid 0 gid 0");
  EXPECT_NE(f.message.find("4 paths are writable by every user"), std::string::npos) << f.message;
}

TEST(FsChecksWorldWritable, IgnoreParameterComesFromTheProfile) {
  Audit a;
  a.root.write("/var/cache/app/x", "", 0666);
  a.run("fs.world-writable");
  EXPECT_EQ(a.verdict("fs.world-writable").status, Status::fail);
  a.run("fs.world-writable", "parameters:\n  fs.world-writable: {ignore: [/var/cache/app]}\n");
  EXPECT_EQ(a.verdict("fs.world-writable").status, Status::pass);
}

TEST(FsChecksWorldWritable, LongListsAreCappedAndCounted) {
  Audit a;
  for (int i = 0; i < 75; ++i)
    a.root.write("/data/f" + std::to_string(100 + i), "", 0666);
  a.run("fs.world-writable");
  const Finding &f = a.verdict("fs.world-writable");
  ASSERT_EQ(f.status, Status::fail);
  ASSERT_EQ(f.evidence.size(), 51u);
  EXPECT_EQ(f.evidence[0].path, "/data/f100");
  EXPECT_EQ(f.evidence[49].path, "/data/f149");
  EXPECT_EQ(f.evidence[50].found, "and 25 more");
  EXPECT_NE(f.message.find("75 paths"), std::string::npos);
  EXPECT_NE(f.message.find("and 72 more"), std::string::npos) << f.message;
}

TEST(FsChecksWorldWritable, HostileNamesAreEscapedInFindings) {
  Audit a;
  a.root.write("/srv/x\nFAIL fake line", "", 0666);
  a.root.write("/srv/\xe9t\xe9", "", 0666);
  a.run("fs.world-writable");
  const Finding &f = a.verdict("fs.world-writable");
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(evidence_paths(f),
            (std::vector<std::string>{"/srv/x\\x0aFAIL fake line", "/srv/\\xe9t\\xe9"}));
  EXPECT_EQ(f.message.find('\n'), std::string::npos);
}

// As nobody, a root-only directory cannot be read: an error finding names
// it, and the verdict still covers the rest (the built binary, black box).
TEST(FsChecksWorldWritable, UnreadableDirectoryIsReportedAndTheRestJudged) {
  BULWARK_REQUIRE(::access("/usr/bin/setpriv", X_OK) == 0) << "setpriv (util-linux) is missing";
  TempRoot r;
  ::chmod(r.path().c_str(), 0755);
  r.write("/root/.ssh/authorized_keys", "", 0600);
  ::chmod(r.host("/root").c_str(), 0700);
  r.write("/srv/open", "", 0666);
  auto res = run_command("/usr/bin/setpriv --reuid=65534 --regid=65534 --clear-groups " +
                         std::string(BULWARK_BINARY) + " audit --root " + r.path() +
                         " --only fs.world-writable --format json");
  ASSERT_NE(res.out.find("\"status\": \"error\""), std::string::npos) << res.out << res.err;
  EXPECT_NE(res.out.find("\"path\": \"/root\""), std::string::npos);
  EXPECT_NE(res.out.find("Permission denied"), std::string::npos);
  EXPECT_NE(res.out.find("\"path\": \"/srv/open\""), std::string::npos);
  EXPECT_NE(res.out.find("\"status\": \"fail\""), std::string::npos);
}

TEST(FsChecksAppPermissions, AbsentDirectoryIsNotApplicable) {
  Audit a;
  a.root.mkdir("/srv");
  a.run("fs.app-permissions");
  EXPECT_EQ(a.verdict("fs.app-permissions").status, Status::not_applicable);
}

TEST(FsChecksAppPermissions, GuideModesAndStricterPass) {
  Audit a;
  a.root.write("/app/index.php", "<?php", 0644);
  a.root.write("/app/config/secret.env", "K=V", 0600);
  ::chmod(a.root.host("/app/config").c_str(), 0750);
  a.root.symlink("/etc/passwd", "/app/link"); // symlinks are not judged
  a.run("fs");
  const Finding &f = a.verdict("fs.app-permissions");
  EXPECT_EQ(f.status, Status::pass) << f.message;
  EXPECT_EQ(f.message, "2 files and 2 directories under /app are within 0644 / 0755");
  EXPECT_EQ(f.evidence.at(0).path, "/app");
}

TEST(FsChecksAppPermissions, MorePermissiveModesFailWithThePath) {
  Audit a;
  a.root.write("/app/index.php", "<?php", 0664);
  a.root.write("/app/run.sh", "#!/bin/sh", 0755);
  a.root.write("/app/ok.txt", "", 0644);
  a.root.mkdir("/app/uploads");
  ::chmod(a.root.host("/app/uploads").c_str(), 0775);
  a.root.write("/app/other/ww", "", 0666); // also a world-writable finding
  a.run("fs");
  const Finding &f = a.verdict("fs.app-permissions");
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(evidence_paths(f), (std::vector<std::string>{"/app/index.php", "/app/other/ww",
                                                         "/app/run.sh", "/app/uploads"}));
  EXPECT_EQ(f.evidence[0].context, "bits beyond: 0020");
  EXPECT_EQ(f.evidence[3].expected, "at most 0755 (drwxr-xr-x)");
  EXPECT_EQ(a.verdict("fs.world-writable").status, Status::fail);
  // The profile can allow executables.
  a.run("fs.app-permissions", "parameters:\n  fs.app-permissions: {file-mode: \"0755\"}\n");
  EXPECT_EQ(evidence_paths(a.verdict("fs.app-permissions")),
            (std::vector<std::string>{"/app/index.php", "/app/other/ww", "/app/uploads"}));
}

TEST(FsChecksAppPermissions, SymlinkedDirectoryIsFollowedInsideTheRoot) {
  Audit a;
  a.root.write("/srv/lms/index.php", "", 0666);
  a.root.symlink("/srv/lms", "/app");
  a.run("fs.app-permissions");
  const Finding &f = a.verdict("fs.app-permissions");
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(evidence_paths(f), (std::vector<std::string>{"/srv/lms/index.php"}));
  EXPECT_NE(f.message.find("/app (/srv/lms)"), std::string::npos) << f.message;
  // Escaping the root through the link is impossible: it resolves inside.
  Audit b;
  b.root.symlink("/../../../../etc", "/app");
  b.run("fs.app-permissions");
  EXPECT_EQ(b.verdict("fs.app-permissions").status, Status::not_applicable);
}

// The shared walk does not enter /run; an application directory there gets
// a walk of its own, with the same verdicts.
TEST(FsChecksAppPermissions, DirectoryTheSharedWalkSkipsGetsItsOwnWalk) {
  Audit a;
  a.root.write("/run/app/a", "", 0664);
  a.root.write("/run/app/b", "", 0644);
  a.run("fs", "parameters:\n  fs.app-permissions: {directory: /run/app}\n");
  const Finding &f = a.verdict("fs.app-permissions");
  ASSERT_EQ(f.status, Status::fail);
  EXPECT_EQ(evidence_paths(f), (std::vector<std::string>{"/run/app/a"}));
  EXPECT_EQ(a.verdict("fs.world-writable").status, Status::pass); // /run is not judged
}

TEST(FsChecksSuid, PackagedUnmodifiedBinaryPassesThroughMergedUsr) {
  Audit a;
  a.root.write("/usr/bin/su", "ELF su", 04755);
  a.root.write("/usr/bin/chage", "ELF chage", 02755);
  a.root.symlink("usr/bin", "/bin"); // merged /usr: the package lists /bin/su
  install_package(a.root, "util-linux", {"/bin/su"});
  install_package(a.root, "passwd", {"/usr/bin/chage"});
  a.run("fs.suid-files");
  const Finding &f = a.verdict("fs.suid-files");
  ASSERT_EQ(f.status, Status::pass) << f.message;
  ASSERT_EQ(f.evidence.size(), 2u);
  EXPECT_EQ(f.evidence[0].path, "/var/lib/dpkg/info/passwd.md5sums");
  EXPECT_EQ(f.evidence[0].line, 1);
  EXPECT_EQ(f.evidence[1].path, "/var/lib/dpkg/info/util-linux.md5sums");
  EXPECT_NE(f.evidence[1].found.find("/usr/bin/su: -rwsr-xr-x"), std::string::npos);
}

TEST(FsChecksSuid, UnpackagedOrModifiedBinaryFails) {
  Audit a;
  a.root.write("/usr/bin/su", "ELF su", 04755);
  a.root.write("/usr/local/bin/backdoor", "ELF", 04755);
  install_package(a.root, "util-linux", {"/usr/bin/su"});
  a.root.write("/usr/bin/su", "ELF su, patched", 04755); // after installation
  a.run("fs.suid-files");
  const Finding &f = a.verdict("fs.suid-files");
  ASSERT_EQ(f.status, Status::fail);
  ASSERT_GE(f.evidence.size(), 2u);
  EXPECT_EQ(f.evidence[0].path, "/usr/bin/su");
  EXPECT_EQ(f.evidence[0].context, "modified since package util-linux installed it");
  EXPECT_NE(f.evidence[0].expected.find("/var/lib/dpkg/info/util-linux.md5sums:1"),
            std::string::npos);
  EXPECT_EQ(f.evidence[1].path, "/usr/local/bin/backdoor");
  EXPECT_EQ(f.evidence[1].context, "not packaged");
  // The allow list covers the local one, not the modified one.
  a.run("fs.suid-files", "parameters:\n  fs.suid-files: {allow: [\"/usr/local/bin/*\"]}\n");
  EXPECT_EQ(evidence_paths(a.verdict("fs.suid-files")).front(), "/usr/bin/su");
  EXPECT_EQ(a.verdict("fs.suid-files").evidence.front().context,
            "modified since package util-linux installed it");
}

TEST(FsChecksSuid, NoDpkgDatabaseFailsUnlessAllowed) {
  Audit a;
  a.root.write("/usr/bin/su", "ELF su", 04755);
  a.run("fs.suid-files");
  EXPECT_EQ(a.verdict("fs.suid-files").status, Status::fail);
  EXPECT_EQ(a.verdict("fs.suid-files").evidence.at(0).context, "no dpkg database");
  a.run("fs.suid-files", "parameters:\n  fs.suid-files: {allow: [/usr/bin/su]}\n");
  EXPECT_EQ(a.verdict("fs.suid-files").status, Status::pass);
  Audit none;
  none.root.write("/usr/bin/ls", "", 0755);
  none.run("fs.suid-files");
  EXPECT_EQ(none.verdict("fs.suid-files").status, Status::pass);
}

TEST(FsChecksSuid, MalformedDatabaseLinesAreReportedWithTheirLine) {
  Audit a;
  a.root.write("/usr/bin/su", "ELF su", 04755);
  a.root.write("/var/lib/dpkg/info/util-linux.list", "/.\n\n/usr/bin/su"); // no final newline
  a.run("fs.suid-files");
  const Finding &f = a.verdict("fs.suid-files");
  EXPECT_EQ(f.status, Status::pass) << f.message; // packaged, no md5sums: not verified
  bool empty = false, final_nl = false;
  for (auto &e : f.evidence) {
    empty |= e.path == "/var/lib/dpkg/info/util-linux.list" && e.line == 2 &&
             e.found == "files list file contains empty filename";
    final_nl |= e.line == 3 && e.found == "files list file missing final newline";
  }
  EXPECT_TRUE(empty && final_nl);
}

TEST(FsChecksSuid, DpkgFileParsersFollowDpkg) {
  auto l = deb::parse_file_list_text("/x.list", "/.\n/usr/\n/usr/bin/su\n");
  ASSERT_EQ(l.files.size(), 3u);
  EXPECT_EQ(l.files[1].path, "/usr");
  auto m =
      deb::parse_md5sums_text("/x.md5sums", "0123456789ABCDEF0123456789abcdef  usr/bin/su\n"
                                            "0123456789abcdef0123456789abcdef usr/bin/one-space\n"
                                            "short\n"
                                            "zz23456789abcdef0123456789abcdef  usr/bin/nothex\n");
  ASSERT_EQ(m.entries.size(), 1u);
  EXPECT_EQ(m.entries[0].path, "/usr/bin/su");
  EXPECT_EQ(m.entries[0].md5, "0123456789abcdef0123456789abcdef");
  ASSERT_EQ(m.diagnostics.size(), 3u);
  EXPECT_EQ(m.diagnostics[0].loc.line, 2);
  EXPECT_EQ(m.diagnostics[0].message, "control file 'md5sums' is missing value separator");
  EXPECT_EQ(deb::package_of_info_file("/var/lib/dpkg/info/libc6:amd64.list"), "libc6:amd64");
}

// The debootstrapped Debian 12 root: every set-id file is dpkg's and intact,
// and the whole fs domain runs clean.
TEST(FsChecksSuid, DebianRootIsWithinTheKnownSet) {
  std::string root = bulwark::test::debian_root();
  BULWARK_REQUIRE(!root.empty())
      << "BULWARK_DEBIAN_ROOT is not a debootstrapped root (run `make debian-root`)";
  AuditRequest req;
  req.root = root;
  req.only = {"fs"};
  auto r = run_audit(req);
  ASSERT_TRUE(r.ok());
  std::map<std::string, Status> got;
  size_t verified = 0;
  for (auto &f : r->findings) {
    got[f.check] = f.status;
    if (f.check == "fs.suid-files")
      for (auto &e : f.evidence)
        verified += e.found.find("MD5 matches") != std::string::npos;
  }
  EXPECT_EQ(got.at("fs.suid-files"), Status::pass);
  EXPECT_EQ(got.at("fs.world-writable"), Status::pass);
  EXPECT_EQ(got.at("fs.app-permissions"), Status::not_applicable);
  auto find = run_command("find " + root + " -perm /6000 -type f | wc -l");
  EXPECT_EQ(verified, std::stoul(find.out));
}

// Issue 16: a set-id bit added to a packaged binary whose content is
// unchanged. The MD5 matches, so only the mode tells.
TEST(FsChecksSuid, SetidBitAddedToAnUnmodifiedPackagedBinaryFails) {
  Audit a;
  a.root.write("/usr/bin/find", "ELF find", 0755);
  a.root.write("/usr/bin/passwd", "ELF passwd", 04755);
  install_package(a.root, "findutils", {"/usr/bin/find"});
  install_package(a.root, "passwd", {"/usr/bin/passwd"});
  a.run("fs.suid-files");
  ASSERT_EQ(a.verdict("fs.suid-files").status, Status::pass) << a.verdict("fs.suid-files").message;
  // chmod u+s after installation: same bytes, same MD5.
  a.root.write("/usr/bin/find", "ELF find", 04755);
  a.run("fs.suid-files");
  const Finding &f = a.verdict("fs.suid-files");
  ASSERT_EQ(f.status, Status::fail) << f.message;
  ASSERT_EQ(f.evidence.at(0).path, "/usr/bin/find");
  EXPECT_EQ(f.evidence[0].context,
            "set-id bit added after installation (no dpkg-statoverride records it)");
  EXPECT_NE(f.evidence[0].found.find("MD5 matches package findutils"), std::string::npos);
  // A set-gid bit on a binary shipped set-uid only is a bit beyond it as well.
  a.root.write("/usr/bin/find", "ELF find", 0755);
  a.root.write("/usr/bin/passwd", "ELF passwd", 06755);
  a.run("fs.suid-files");
  EXPECT_EQ(a.verdict("fs.suid-files").status, Status::fail);
  EXPECT_EQ(a.verdict("fs.suid-files").evidence.at(0).expected,
            "mode 4755 as the package ships it");
}

TEST(FsChecksSuid, StatOverrideRecordsTheAdminsMode) {
  Audit a;
  a.root.write("/usr/bin/find", "ELF find", 04750);
  install_package(a.root, "findutils", {"/usr/bin/find"});
  a.root.write("/var/lib/dpkg/statoverride", "root staff 4750 /usr/bin/find\n");
  a.run("fs.suid-files");
  const Finding &f = a.verdict("fs.suid-files");
  ASSERT_EQ(f.status, Status::pass) << f.message;
  EXPECT_EQ(f.evidence.at(0).path, "/var/lib/dpkg/statoverride");
  EXPECT_EQ(f.evidence.at(0).line, 1);
  // A malformed database: dpkg refuses it, and so the mode is unknown (fail closed).
  a.root.write("/var/lib/dpkg/statoverride", "root staff 4750 /usr/bin/find\nroot 4750\n");
  a.run("fs.suid-files");
  const Finding *e = a.error("fs.suid-files");
  ASSERT_NE(e, nullptr);
  EXPECT_NE(e->message.find("/var/lib/dpkg/statoverride:2"), std::string::npos) << e->message;
}

// The table of shipped set-id modes against dpkg's own data: every set-id
// entry of the .debs the Debian root was built from (dpkg-deb -c), written
// with the mode the .deb has, passes; the same files one set-id bit higher,
// and a non-set-id binary of those packages made set-uid, fail.
TEST(FsChecksSuid, ShippedModesAgreeWithDpkgDeb) {
  std::string debian;
  BULWARK_REQUIRE_DEBIAN_ROOT(debian);
  BULWARK_REQUIRE_TOOL("dpkg-deb");
  auto listing = run_command("for d in " + debian +
                             "/var/cache/apt/archives/*.deb; do p=$(dpkg-deb -f \"$d\" Package); "
                             "dpkg-deb -c \"$d\" | sed \"s|^|$p |\"; done");
  ASSERT_EQ(listing.exit_code, 0) << listing.err;
  struct Entry {
    std::string pkg, path;
    uint32_t mode;
  };
  std::vector<Entry> setid;
  Entry plain{"", "", 0};
  std::istringstream in(listing.out);
  std::string line;
  auto mode_of = [](const std::string &perm) {
    uint32_t m = 0;
    for (int i = 0; i < 9; ++i)
      if (perm[1 + i] != '-')
        m |= 1u << (8 - i);
    if (perm[3] == 's' || perm[3] == 'S')
      m |= 04000;
    if (perm[6] == 's' || perm[6] == 'S')
      m |= 02000;
    return m;
  };
  while (std::getline(in, line)) {
    std::istringstream w(line);
    std::string pkg, perm, owner, size, date, time, path;
    w >> pkg >> perm >> owner >> size >> date >> time >> path;
    if (perm.size() != 10 || perm[0] != '-' || path.size() < 2)
      continue;
    path = path.substr(1); // "./usr/bin/su"
    uint32_t m = mode_of(perm);
    if (m & 06000)
      setid.push_back({pkg, path, m});
    else if (plain.path.empty() && path == "/usr/bin/find")
      plain = {pkg, path, m};
  }
  ASSERT_GE(setid.size(), 10u) << "dpkg-deb listed too few set-id files";
  ASSERT_EQ(plain.pkg, "findutils");
  Audit a;
  std::map<std::string, std::vector<std::string>> by_pkg;
  for (auto &e : setid) {
    a.root.write(e.path, "ELF " + e.path, e.mode);
    by_pkg[e.pkg].push_back(e.path);
  }
  a.root.write(plain.path, "ELF find", plain.mode);
  by_pkg[plain.pkg].push_back(plain.path);
  for (auto &[pkg, files] : by_pkg)
    install_package(a.root, pkg, files);
  a.run("fs.suid-files");
  ASSERT_EQ(a.verdict("fs.suid-files").status, Status::pass) << a.verdict("fs.suid-files").message;
  for (auto &e : setid) {
    SCOPED_TRACE(e.path);
    if ((e.mode & 06000) == 06000)
      continue; // no set-id bit left to add
    uint32_t more = (e.mode & 04000) ? 02000 : 04000;
    a.root.write(e.path, "ELF " + e.path, e.mode | more);
    a.run("fs.suid-files");
    const Finding &f = a.verdict("fs.suid-files");
    EXPECT_EQ(f.status, Status::fail);
    EXPECT_EQ(f.evidence.at(0).path, e.path);
    a.root.write(e.path, "ELF " + e.path, e.mode);
  }
  a.root.write(plain.path, "ELF find", plain.mode | 04000);
  a.run("fs.suid-files");
  EXPECT_EQ(a.verdict("fs.suid-files").status, Status::fail);
}
