// bulwark fim against AIDE 0.18.3 (Debian 12's aide), on the same tree with
// the same attribute set and the same selection lines:
// - selection: `aide --dry-init` lists the entries it would add; bulwark's
//   baseline must hold exactly those;
// - change detection: after generated mutations (content, mode, owner,
//   setuid, hard link, symlink retarget, xattr, ACL, capability, a rewrite
//   that restores size and mtime, additions, removals) both must report the
//   same set of added, removed and changed paths.

#include "support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/fim/fim.hpp>

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <thread>

namespace bulwark::test {
namespace {

// One shell command line; braced, so that run_command's own redirection of
// the output does not replace the command's (`printf x >> file`).
void sh(const std::string &cmd) {
  auto r = run_command("{ " + cmd + "; }");
  ASSERT_EQ(r.exit_code, 0) << cmd << "\n" << r.out << r.err;
}

using ChangeSet = std::set<std::pair<std::string, std::string>>; // (kind, path)

std::string describe(const ChangeSet &s) {
  std::string out;
  for (auto &[k, p] : s)
    out += "  " + k + " " + p + "\n";
  return out;
}

// AIDE 0.18's report_format=json: {"added": {path: summary}, "removed":
// {...}, "changed": {...}, ...}.
ChangeSet aide_changes(const std::string &json_text) {
  ChangeSet out;
  auto j = nlohmann::json::parse(json_text);
  for (const char *kind : {"added", "removed", "changed"})
    if (j.contains(kind))
      for (auto &[path, v] : j[kind].items())
        out.emplace(kind, path);
  return out;
}

ChangeSet bulwark_changes(const std::string &json_text) {
  ChangeSet out;
  auto j = nlohmann::json::parse(json_text);
  EXPECT_EQ(j["schema"], "bulwark.fim/v1");
  for (auto &c : j["changes"])
    out.emplace(c["change"].get<std::string>(), c["path"].get<std::string>());
  return out;
}

class FimAide : public ::testing::Test {
protected:
  void SetUp() override {
    ::chmod(m_tmp.path().c_str(), 0755);
    m_tree = m_tmp.path() + "/tree";
    ::mkdir(m_tree.c_str(), 0755);
  }

  // An aide.conf whose selection lines bulwark reads too (--aide-config).
  std::string write_conf(const std::string &rules) {
    std::string conf = m_tmp.path() + "/aide.conf";
    std::ofstream(conf) << "database_in=file:" << m_tmp.path() << "/aide.db\n"
                        << "database_out=file:" << m_tmp.path()
                        << "/aide.db.new\n"
                        // report options apply to the report_url lines after them
                        << "report_format=json\nreport_level=list_entries\nreport_url=stdout\n"
                        << "log_level=error\n"
                        << rules;
    return conf;
  }

  TempRoot m_tmp;
  std::string m_tree;
};

TEST_F(FimAide, SelectionEqualsAideDryInit) {
  BULWARK_REQUIRE_TOOL("aide") << "(Debian package aide)";
  const std::string t = m_tree;
  sh("mkdir -p " + t + "/etc/ssh " + t + "/etc/cron.d " + t + "/var/log/app " + t + "/usr/bin " +
     t + "/usr/lib/x " + t + "/home/u/.cache " + t + "/eq/sub");
  for (auto f : {"/etc/passwd", "/etc/ssh/sshd_config", "/etc/ssh/moduli", "/etc/cron.d/job",
                 "/etc/mtab.x", "/var/log/app/a.log", "/var/log/app/a.log.1", "/usr/bin/ls",
                 "/usr/lib/x/lib.so", "/home/u/.bashrc", "/home/u/.cache/c", "/eq/f", "/eq/sub/g"})
    sh("echo data > " + t + f);
  sh("ln -s passwd " + t + "/etc/link && mkfifo " + t + "/etc/fifo");
  std::string conf = write_conf("ALL = p+ftype+i+n+u+g+s+m+c+l+sha256\n"
                                "@@define TREE " +
                                t.substr(1) +
                                "\n"
                                "/@@{TREE}/etc ALL\n"
                                "!/@@{TREE}/etc/mtab\\.x$\n"
                                "!/@@{TREE}/etc/fifo$ p\n"
                                "/@@{TREE}/etc/ssh/ f ALL-sha256+sha512\n"
                                "@@ifdef NOT_DEFINED\n"
                                "/@@{TREE}/home ALL\n"
                                "@@else\n"
                                "/@@{TREE}/home/u/\\.bashrc$ f ALL\n"
                                "@@endif\n"
                                "/@@{TREE}/var/log/app/[^/]+\\.log$ f ALL\n"
                                "/@@{TREE}/usr/(bin|lib) ALL\n"
                                "!/@@{TREE}/usr/lib/x/.*\\.so$\n"
                                "=/@@{TREE}/eq/ ALL\n");
  auto aide = run_command("aide -c " + conf + " --dry-init");
  ASSERT_TRUE(aide.exit_code == 0 || !aide.out.empty()) << aide.err;
  std::set<std::string> want;
  std::istringstream lines(aide.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[X] ", 0) != 0)
      continue;
    size_t q1 = line.find('\''), q2 = line.find("':", q1 + 1);
    want.insert(line.substr(q1 + 1, q2 - q1 - 1));
  }
  ASSERT_GE(want.size(), 10u) << aide.out;

  auto policy = fim::Policy::load_aide_config(conf);
  ASSERT_TRUE(policy) << policy.error().to_string();
  RootFs fs("/");
  fim::ScanOptions opt;
  opt.only = {t};
  auto scanned = fim::scan(fs, *policy, opt);
  ASSERT_TRUE(scanned) << scanned.error().to_string();
  std::set<std::string> got;
  for (auto &r : scanned->records)
    got.insert(r.path);
  EXPECT_EQ(got, want);
  EXPECT_TRUE(scanned->errors.empty());
  // The restricted rule gave the sshd files SHA-512 and not SHA-256.
  for (auto &r : scanned->records)
    if (r.path == t + "/etc/ssh/sshd_config") {
      ASSERT_EQ(r.hashes.size(), 1u);
      EXPECT_EQ(r.hashes[0].first, fim::k_sha512);
    }
}

// Debian's own /etc/aide/aide.conf (1,900 rules in aide.conf.d) on the
// debootstrapped Debian 12 root: AIDE with root_prefix, bulwark with --root.
// AIDE also runs the executable includes bulwark skips; on this root no rule
// that uses their variables selects anything, so the sets must be equal.
TEST_F(FimAide, DebiansAideConfOnTheDebianRootSelectsWhatAideSelects) {
  BULWARK_REQUIRE_TOOL("aide") << "(Debian package aide)";
  std::string root;
  BULWARK_REQUIRE_DEBIAN_ROOT(root);
  std::string deb_conf = "/etc/aide/aide.conf";
  BULWARK_REQUIRE(::access(deb_conf.c_str(), R_OK) == 0) << deb_conf << " (aide-common)";
  std::string conf = m_tmp.path() + "/debian.conf";
  sh("{ echo 'root_prefix=" + root + "'; sed -e 's|^database_in=.*|database_in=file:" +
     m_tmp.path() + "/db|' -e 's|^database_out=.*|database_out=file:" + m_tmp.path() +
     "/db.new|' -e '/^database_new=/d' " + deb_conf + "; } > " + conf);
  auto aide = run_command("aide -c " + conf + " --dry-init");
  std::set<std::string> want;
  std::istringstream lines(aide.out);
  for (std::string line; std::getline(lines, line);) {
    if (line.rfind("[X] ", 0) != 0)
      continue;
    size_t q1 = line.find('\''), q2 = line.rfind("': ");
    want.insert(line.substr(q1 + 1, q2 - q1 - 1));
  }
  ASSERT_GT(want.size(), 5000u) << aide.err;

  auto policy = fim::Policy::load_aide_config(deb_conf);
  ASSERT_TRUE(policy) << policy.error().to_string();
  auto scanned = fim::scan(RootFs(root), *policy);
  ASSERT_TRUE(scanned) << scanned.error().to_string();
  std::set<std::string> got;
  for (auto &r : scanned->records)
    got.insert(r.path);
  std::vector<std::string> only_aide, only_bulwark;
  std::set_difference(want.begin(), want.end(), got.begin(), got.end(),
                      std::back_inserter(only_aide));
  std::set_difference(got.begin(), got.end(), want.begin(), want.end(),
                      std::back_inserter(only_bulwark));
  EXPECT_TRUE(only_aide.empty() && only_bulwark.empty())
      << only_aide.size() << " only in AIDE (first: " << (only_aide.empty() ? "" : only_aide[0])
      << "), " << only_bulwark.size()
      << " only in bulwark (first: " << (only_bulwark.empty() ? "" : only_bulwark[0]) << ")";
}

TEST_F(FimAide, SameChangesAsAideAfterMutations) {
  BULWARK_REQUIRE_TOOL("aide") << "(Debian package aide)";
  BULWARK_REQUIRE_TOOL("setfacl") << "(Debian package acl)";
  BULWARK_REQUIRE_TOOL("setcap") << "(Debian package libcap2-bin)";
  BULWARK_REQUIRE_TOOL("setfattr") << "(Debian package attr)";
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root (chown, setcap)";
  const std::string t = m_tree;
  sh("mkdir -p " + t + "/bin " + t + "/etc/sub " + t + "/gone.d " + t + "/keep");
  for (auto f : {"/bin/content", "/bin/mode", "/bin/owner", "/bin/suid", "/bin/linked",
                 "/bin/xattr", "/bin/acl", "/bin/cap", "/bin/restored", "/etc/removed",
                 "/etc/target1", "/etc/target2", "/keep/same", "/gone.d/x"})
    sh("printf 'contents of %s\\n' " + std::string(f) + " > " + t + f);
  sh("ln -s target1 " + t + "/etc/link && mkfifo " + t + "/keep/fifo");
  sh("printf 'same size A\\n' > " + t + "/etc/sub/rewritten && chmod 0755 " + t + "/bin/*");
  std::string conf =
      write_conf("ATTRS = p+ftype+i+n+u+g+s+m+c+l+sha256+acl+xattrs+caps\n" + t + " ATTRS\n");
  std::string db = m_tmp.path() + "/bulwark.db";

  sh("aide -c " + conf + " --init >/dev/null");
  sh("mv " + m_tmp.path() + "/aide.db.new " + m_tmp.path() + "/aide.db");
  sh(std::string(BULWARK_BINARY) + " fim init --aide-config " + conf + " --db " + db + " " + t);

  // Directory changes are seen through mtime/ctime, which have one-second
  // resolution in AIDE's database.
  std::this_thread::sleep_for(std::chrono::milliseconds(1100));
  sh("printf 'different content\\n' >> " + t + "/bin/content");
  sh("chmod 0700 " + t + "/bin/mode");
  sh("chown 1234:1234 " + t + "/bin/owner");
  sh("chmod u+s " + t + "/bin/suid");
  sh("ln " + t + "/bin/linked " + t + "/etc/hardlink");
  sh("ln -sfn target2 " + t + "/etc/link");
  sh("setfattr -n user.bulwark -v tampered " + t + "/bin/xattr");
  sh("setfacl -m u:1234:rwx " + t + "/bin/acl");
  sh("setcap cap_net_raw+ep " + t + "/bin/cap");
  // Same size, mtime put back: only the hash and ctime can tell.
  sh("touch -r " + t + "/etc/sub/rewritten " + m_tmp.path() + "/ref && printf 'same size B\\n' > " +
     t + "/etc/sub/rewritten && touch -r " + m_tmp.path() + "/ref " + t + "/etc/sub/rewritten");
  sh("rm " + t + "/etc/removed && rm -r " + t + "/gone.d");
  sh("echo new > " + t + "/etc/added && mkdir " + t + "/etc/newdir");

  auto aide = run_command("aide -c " + conf + " --check");
  ASSERT_NE(aide.exit_code, 0) << "AIDE saw no change: " << aide.err;
  ChangeSet want = aide_changes(aide.out);

  auto ours = run_command(std::string(BULWARK_BINARY) + " fim check --aide-config " + conf +
                          " --db " + db + " --allow-unsigned --format json " + t);
  ASSERT_EQ(ours.exit_code, 1) << ours.err << ours.out;
  ChangeSet got = bulwark_changes(ours.out);

  EXPECT_EQ(got, want) << "bulwark:\n" << describe(got) << "AIDE:\n" << describe(want);
  // The mutations themselves are all there (not only agreement).
  for (auto p : {"/bin/content", "/bin/mode", "/bin/owner", "/bin/suid", "/bin/linked",
                 "/bin/xattr", "/bin/acl", "/bin/cap", "/etc/link", "/etc/sub/rewritten"})
    EXPECT_TRUE(got.count({"changed", t + p})) << p << "\n" << describe(got);
  EXPECT_TRUE(got.count({"added", t + "/etc/hardlink"}));
  EXPECT_TRUE(got.count({"added", t + "/etc/added"}));
  EXPECT_TRUE(got.count({"added", t + "/etc/newdir"}));
  EXPECT_TRUE(got.count({"removed", t + "/etc/removed"}));
  EXPECT_TRUE(got.count({"removed", t + "/gone.d/x"}));
  EXPECT_FALSE(got.count({"changed", t + "/keep/same"}));
  EXPECT_FALSE(got.count({"changed", t + "/keep/fifo"}));

  // The rewrite that restored size and mtime: changed by sha256 and ctime.
  auto j = nlohmann::json::parse(ours.out);
  for (auto &c : j["changes"])
    if (c["path"] == t + "/etc/sub/rewritten") {
      EXPECT_EQ(c["attributes"], nlohmann::json::array({"ctime", "sha256"})) << c.dump();
    }
}

} // namespace
} // namespace bulwark::test
