// sysctl.d as systemd-sysctl 252 reads it: unit tests on throwaway roots, and
// differential tests against the real systemd-sysctl and sysctl(8).
//
// The differentials only ever run `systemd-sysctl --cat-config` (which lists
// and prints the files, writing nothing) and `sysctl -n KEY` (a read).

#include "../support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/sysctl.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

SysctlModel load(const TempRoot &root, const SysctlOptions &opts = {}) {
  return load_sysctl(RootFs(root.path()), opts);
}

std::string value_of(const SysctlModel &m, const std::string &key) {
  const SysctlSetting *s = m.effective(key);
  return s == nullptr ? "<unset>" : s->value;
}

bool has_diag_at(const SysctlModel &m, const std::string &path, int line,
                 const std::string &needle = "") {
  for (const auto &d : m.diagnostics)
    if (d.loc.path == path && d.loc.line == line && d.message.find(needle) != std::string::npos)
      return true;
  return false;
}

} // namespace

TEST(Sysctl, EmptyRootHasNothing) {
  TempRoot root;
  auto m = load(root);
  EXPECT_TRUE(m.configured.empty());
  EXPECT_TRUE(m.files.empty());
  EXPECT_TRUE(m.diagnostics.empty());
}

TEST(Sysctl, SameNameInEarlierDirectoryWins) {
  TempRoot root;
  root.write("/usr/lib/sysctl.d/10-a.conf", "kernel.a = usr\nkernel.only_usr = 1\n");
  root.write("/lib/sysctl.d/10-a.conf", "kernel.a = lib\n");
  root.write("/usr/local/lib/sysctl.d/10-a.conf", "kernel.a = local\n");
  root.write("/run/sysctl.d/10-a.conf", "kernel.a = run\n");
  root.write("/etc/sysctl.d/10-a.conf", "kernel.a = etc\n");
  auto m = load(root);
  EXPECT_EQ(m.files, std::vector<std::string>{"/etc/sysctl.d/10-a.conf"});
  EXPECT_EQ(value_of(m, "kernel.a"), "etc");
  EXPECT_EQ(value_of(m, "kernel.only_usr"), "<unset>");

  std::filesystem::remove(root.host("/etc/sysctl.d/10-a.conf"));
  EXPECT_EQ(value_of(load(root), "kernel.a"), "run");
  std::filesystem::remove(root.host("/run/sysctl.d/10-a.conf"));
  EXPECT_EQ(value_of(load(root), "kernel.a"), "local");
  std::filesystem::remove(root.host("/usr/local/lib/sysctl.d/10-a.conf"));
  EXPECT_EQ(value_of(load(root), "kernel.a"), "usr");
  std::filesystem::remove(root.host("/usr/lib/sysctl.d/10-a.conf"));
  auto last = load(root);
  EXPECT_EQ(value_of(last, "kernel.a"), "lib");
  EXPECT_EQ(last.files, std::vector<std::string>{"/lib/sysctl.d/10-a.conf"});
}

TEST(Sysctl, LexicalOrderAcrossDirectoriesDecides) {
  TempRoot root;
  root.write("/usr/lib/sysctl.d/90-vendor.conf", "net.ipv4.ip_forward = 1\n");
  root.write("/etc/sysctl.d/10-admin.conf", "net.ipv4.ip_forward = 0\nkernel.x = admin\n");
  root.write("/run/sysctl.d/50-run.conf", "kernel.x = run\n");
  root.write("/etc/sysctl.d/README", "kernel.x = not-a-conf\n");
  root.write("/etc/sysctl.d/.hidden.conf", "kernel.x = hidden\n");
  root.write("/etc/sysctl.d/99-z.conf~", "kernel.x = backup\n");
  auto m = load(root);
  EXPECT_EQ(m.files,
            (std::vector<std::string>{"/etc/sysctl.d/10-admin.conf", "/run/sysctl.d/50-run.conf",
                                      "/usr/lib/sysctl.d/90-vendor.conf"}));
  // The vendor file sorts last, so it beats the administrator's.
  EXPECT_EQ(value_of(m, "net.ipv4.ip_forward"), "1");
  EXPECT_EQ(m.configured.at("net.ipv4.ip_forward").loc,
            (SourceLocation{"/usr/lib/sysctl.d/90-vendor.conf", 1}));
  EXPECT_EQ(value_of(m, "kernel.x"), "run");
}

TEST(Sysctl, DevNullSymlinkMasks) {
  TempRoot root;
  root.write("/usr/lib/sysctl.d/50-vendor.conf", "kernel.masked = 1\n");
  root.symlink("/dev/null", "/etc/sysctl.d/50-vendor.conf");
  root.write("/usr/lib/sysctl.d/60-other.conf", "kernel.other = 1\n");
  root.symlink("../../dev/null", "/run/sysctl.d/60-other.conf");
  auto m = load(root);
  EXPECT_EQ(value_of(m, "kernel.masked"), "<unset>");
  EXPECT_EQ(value_of(m, "kernel.other"), "<unset>");
  EXPECT_EQ(m.masked, (std::vector<std::string>{"/etc/sysctl.d/50-vendor.conf",
                                                "/run/sysctl.d/60-other.conf"}));
  EXPECT_EQ(m.files, m.masked);
  EXPECT_FALSE(m.has_errors());
}

TEST(Sysctl, DevNullMaskWorksWhenTheImageHasADevNullDevice) {
  // The image's /dev/null is not a regular file: still a mask, not an error.
  TempRoot root;
  root.mkdir("/dev");
  ASSERT_EQ(::mkfifo(root.host("/dev/null").c_str(), 0666), 0); // RootFs refuses to read it
  root.write("/usr/lib/sysctl.d/50-vendor.conf", "kernel.masked = 1\n");
  root.symlink("/dev/null", "/etc/sysctl.d/50-vendor.conf");
  auto m = load(root);
  EXPECT_EQ(value_of(m, "kernel.masked"), "<unset>");
  EXPECT_FALSE(m.has_errors());
}

TEST(Sysctl, EmptyFileAndDanglingLinkMaskToo) {
  TempRoot root;
  root.write("/usr/lib/sysctl.d/50-a.conf", "kernel.a = 1\n");
  root.write("/usr/lib/sysctl.d/50-b.conf", "kernel.b = 1\n");
  root.write("/etc/sysctl.d/50-a.conf", "");
  root.symlink("/nowhere/at/all.conf", "/etc/sysctl.d/50-b.conf");
  auto m = load(root);
  EXPECT_EQ(value_of(m, "kernel.a"), "<unset>");
  EXPECT_EQ(value_of(m, "kernel.b"), "<unset>");
  EXPECT_FALSE(m.has_errors());
}

TEST(Sysctl, DebianSysctlConfIsReadThroughTheLinkOnly) {
  TempRoot root;
  root.write("/etc/sysctl.conf", "# comment\nkernel.sysrq = 0\n");
  auto without = load(root);
  EXPECT_EQ(value_of(without, "kernel.sysrq"), "<unset>");
  EXPECT_TRUE(without.files.empty());

  root.symlink("../sysctl.conf", "/etc/sysctl.d/99-sysctl.conf");
  root.write("/usr/lib/sysctl.d/50-x.conf", "kernel.sysrq = 1\n");
  auto with = load(root);
  EXPECT_EQ(with.files, (std::vector<std::string>{"/usr/lib/sysctl.d/50-x.conf",
                                                  "/etc/sysctl.d/99-sysctl.conf"}));
  EXPECT_EQ(value_of(with, "kernel.sysrq"), "0");
  // The location names the file an administrator edits.
  EXPECT_EQ(with.configured.at("kernel.sysrq").loc, (SourceLocation{"/etc/sysctl.conf", 2}));
}

TEST(Sysctl, CommentsWhitespaceAndValues) {
  auto m = parse_sysctl_texts({{"/etc/sysctl.d/a.conf", "# comment = 1\n"
                                                        "; also = 1\n"
                                                        "   \t\n"
                                                        "  kernel.a\t=\t 1  \r\n"
                                                        "kernel.b=two words here\n"
                                                        "kernel.c = x = y\n"
                                                        "kernel.d =\n"
                                                        "kernel.e = 1 # not a comment\n"
                                                        "   # indented comment\n"
                                                        "kernel.f = last"}});
  EXPECT_EQ(value_of(m, "kernel.a"), "1");
  EXPECT_EQ(value_of(m, "kernel.b"), "two words here");
  EXPECT_EQ(value_of(m, "kernel.c"), "x = y");
  EXPECT_EQ(value_of(m, "kernel.d"), "");
  EXPECT_EQ(value_of(m, "kernel.e"), "1 # not a comment");
  EXPECT_EQ(value_of(m, "kernel.f"), "last");
  EXPECT_EQ(m.configured.at("kernel.f").loc.line, 10);
  EXPECT_EQ(m.configured.size(), 6u);
  EXPECT_TRUE(m.diagnostics.empty());
}

TEST(Sysctl, LineEndsAtCrAndNulAsInReadLine) {
  // "\r\n" is one end of line, "\n\n" two, a NUL ends a line by itself.
  std::string text = std::string("kernel.a = 1\r\nkernel.b = 2\rkernel.c = 3\n\nkernel.d = 4") +
                     std::string("\0", 1) + "\nkernel.e = 5\n";
  auto m = parse_sysctl_texts({{"/x.conf", text}});
  EXPECT_EQ(m.configured.at("kernel.a").loc.line, 1);
  EXPECT_EQ(m.configured.at("kernel.b").loc.line, 2);
  EXPECT_EQ(m.configured.at("kernel.c").loc.line, 3);
  EXPECT_EQ(m.configured.at("kernel.d").loc.line, 5);
  EXPECT_EQ(m.configured.at("kernel.e").loc.line, 7);
}

TEST(Sysctl, DashPrefixIgnoresFailureAndExcludesFromGlobs) {
  auto m = parse_sysctl_texts({{"/etc/sysctl.d/20-rp.conf", "net.ipv4.conf.default.rp_filter = 2\n"
                                                            "net.ipv4.conf.*.rp_filter = 2\n"
                                                            "-net.ipv4.conf.all.rp_filter\n"
                                                            "net.ipv4.conf.hub0.rp_filter = 1\n"
                                                            "-kernel.maybe = 7\n"
                                                            "- kernel.spaced = 8\n"}});
  EXPECT_TRUE(m.configured.at("kernel.maybe").ignore_failure);
  EXPECT_EQ(value_of(m, "kernel.spaced"), "8");
  EXPECT_FALSE(m.configured.at("net.ipv4.conf.hub0.rp_filter").ignore_failure);
  EXPECT_EQ(m.excluded.count("net.ipv4.conf.all.rp_filter"), 1u);
  EXPECT_TRUE(m.configured.at("net.ipv4.conf.*.rp_filter").is_glob);
  EXPECT_EQ(value_of(m, "net.ipv4.conf.eth0.rp_filter"), "2"); // from the glob
  EXPECT_EQ(m.effective("net.ipv4.conf.eth0.rp_filter")->loc.line, 2);
  EXPECT_EQ(value_of(m, "net.ipv4.conf.hub0.rp_filter"), "1");      // explicit beats glob
  EXPECT_EQ(value_of(m, "net.ipv4.conf.all.rp_filter"), "<unset>"); // excluded
  EXPECT_EQ(value_of(m, "net.ipv4.conf.eth0.other"), "<unset>");
  EXPECT_EQ(value_of(m, "net.ipv4.conf.a.b.rp_filter"), "<unset>"); // '*' stays in one level
}

TEST(Sysctl, ExclusionRemovesAnEarlierAssignmentAndLaterAssignmentRestores) {
  auto m = parse_sysctl_texts({{"/a.conf", "kernel.x = 1\n"}, {"/b.conf", "-kernel.x\n"}});
  EXPECT_EQ(value_of(m, "kernel.x"), "<unset>");
  auto n = parse_sysctl_texts(
      {{"/a.conf", "kernel.x = 1\n"}, {"/b.conf", "-kernel.x\n"}, {"/c.conf", "kernel.x = 3\n"}});
  EXPECT_EQ(value_of(n, "kernel.x"), "3");
  EXPECT_TRUE(n.excluded.empty());
}

TEST(Sysctl, LaterGlobWinsAndEqualValueKeepsItsPlace) {
  auto m = parse_sysctl_texts({{"/a.conf", "net.ipv6.conf.*.accept_ra = 0\n"
                                           "net.ipv6.conf.eth*.accept_ra = 1\n"}});
  EXPECT_EQ(value_of(m, "net.ipv6.conf.eth0.accept_ra"), "1");
  EXPECT_EQ(value_of(m, "net.ipv6.conf.wlan0.accept_ra"), "0");
  // Re-stating the first glob's value does not move it: systemd keeps the
  // first entry when the value is equal, so the eth* glob still comes later.
  auto n = parse_sysctl_texts({{"/a.conf", "net.ipv6.conf.*.accept_ra = 0\n"
                                           "net.ipv6.conf.eth*.accept_ra = 1\n"},
                               {"/b.conf", "net.ipv6.conf.*.accept_ra = 0\n"}});
  EXPECT_EQ(value_of(n, "net.ipv6.conf.eth0.accept_ra"), "1");
  EXPECT_EQ(n.configured.at("net.ipv6.conf.*.accept_ra").loc, (SourceLocation{"/b.conf", 1}));
  // A different value does move it.
  auto o = parse_sysctl_texts({{"/a.conf", "net.ipv6.conf.*.accept_ra = 0\n"
                                           "net.ipv6.conf.eth*.accept_ra = 1\n"},
                               {"/b.conf", "net.ipv6.conf.*.accept_ra = 2\n"}});
  EXPECT_EQ(value_of(o, "net.ipv6.conf.eth0.accept_ra"), "2");
}

TEST(Sysctl, SlashKeysAreNormalised) {
  auto m = parse_sysctl_texts({{"/a.conf", "net/ipv4/ip_forward = 1\n"
                                           "net.ipv4.ip_forward = 0\n"
                                           "net/ipv4/conf/enp3s0.200/forwarding = 1\n"
                                           "net.ipv4.conf.enp3s0/200.rp_filter = 1\n"
                                           "kernel//core_pattern/ = core\n"}});
  EXPECT_EQ(m.configured.size(), 4u);
  EXPECT_EQ(value_of(m, "net.ipv4.ip_forward"), "0");
  EXPECT_EQ(value_of(m, "net/ipv4/ip_forward"), "0");
  EXPECT_EQ(m.configured.count("net.ipv4.conf.enp3s0/200.forwarding"), 1u);
  EXPECT_EQ(m.configured.count("net.ipv4.conf.enp3s0/200.rp_filter"), 1u);
  EXPECT_EQ(sysctl_key_path("net.ipv4.conf.enp3s0/200.rp_filter"),
            "net/ipv4/conf/enp3s0.200/rp_filter");
  EXPECT_EQ(value_of(m, "kernel.core_pattern"), "core");
  EXPECT_EQ(normalize_sysctl_key("  net/ipv4/tcp_syncookies "), "net.ipv4.tcp_syncookies");
  // A leading '/' makes '/' the first separator: the dots stay literal.
  EXPECT_EQ(sysctl_key_path("/net.ipv4.ip_forward"), "net.ipv4.ip_forward");
}

TEST(Sysctl, MalformedLinesAreDiagnosticsWithFileAndLine) {
  TempRoot root;
  root.write("/etc/sysctl.d/10-bad.conf", "kernel.ok = 1\n"
                                          "this is not an assignment\n"
                                          "= 5\n"
                                          "kernel.also_ok = 2\n");
  auto m = load(root);
  EXPECT_TRUE(has_diag_at(m, "/etc/sysctl.d/10-bad.conf", 2, "not an assignment"));
  EXPECT_TRUE(has_diag_at(m, "/etc/sysctl.d/10-bad.conf", 3, "empty key"));
  EXPECT_EQ(value_of(m, "kernel.ok"), "1");
  EXPECT_EQ(value_of(m, "kernel.also_ok"), "2");
  EXPECT_TRUE(m.has_errors());
}

TEST(Sysctl, HugeFileIsParsedOrRefusedButNeverHangs) {
  TempRoot root;
  std::string big;
  for (int i = 0; i < 200000; ++i)
    big += "kernel.k" + std::to_string(i % 1000) + " = " + std::to_string(i) + "\n";
  root.write("/etc/sysctl.d/10-big.conf", big);
  auto m = load(root);
  EXPECT_EQ(m.configured.size(), 1000u);
  EXPECT_EQ(value_of(m, "kernel.k999"), "199999");

  SysctlOptions small;
  small.max_file_bytes = 1024;
  root.write("/etc/sysctl.d/20-after.conf", "kernel.after = 1\n");
  auto refused = load(root, small);
  EXPECT_TRUE(has_diag_at(refused, "/etc/sysctl.d/10-big.conf", 0, "limit"));
  EXPECT_EQ(value_of(refused, "kernel.after"), "1");
}

TEST(Sysctl, LineOfOneMebibyteStopsTheFile) {
  std::string text =
      "kernel.before = 1\nkernel.long = " + std::string(1024 * 1024, 'x') + "\nkernel.after = 1\n";
  auto m = parse_sysctl_texts({{"/a.conf", text}, {"/b.conf", "kernel.next = 1\n"}});
  EXPECT_EQ(value_of(m, "kernel.before"), "1");
  EXPECT_EQ(value_of(m, "kernel.long"), "<unset>");
  EXPECT_EQ(value_of(m, "kernel.after"), "<unset>");
  EXPECT_EQ(value_of(m, "kernel.next"), "1");
  EXPECT_TRUE(has_diag_at(m, "/a.conf", 2, "1 MiB"));
  // Just under the limit is fine.
  std::string ok = "k = " + std::string(1024 * 1024 - 5, 'y') + "\n";
  auto n = parse_sysctl_texts({{"/a.conf", ok}});
  EXPECT_EQ(n.configured.at("k").value.size(), 1024u * 1024 - 5);
}

TEST(Sysctl, DirectoryWhereAFileShouldBeMasksAndIsAnError) {
  TempRoot root;
  root.mkdir("/etc/sysctl.d/30-dir.conf");
  root.write("/usr/lib/sysctl.d/30-dir.conf", "kernel.vendor = 1\n");
  auto m = load(root);
  EXPECT_EQ(value_of(m, "kernel.vendor"), "<unset>");
  EXPECT_EQ(m.files, std::vector<std::string>{"/etc/sysctl.d/30-dir.conf"});
  EXPECT_TRUE(has_diag_at(m, "/etc/sysctl.d/30-dir.conf", 0, "directory"));
}

TEST(Sysctl, SymlinkLoopIsAnErrorNotAHang) {
  TempRoot root;
  root.symlink("b.conf", "/etc/sysctl.d/a.conf");
  root.symlink("a.conf", "/etc/sysctl.d/b.conf");
  root.write("/etc/sysctl.d/c.conf", "kernel.c = 1\n");
  auto m = load(root);
  EXPECT_TRUE(has_diag_at(m, "/etc/sysctl.d/a.conf", 0));
  EXPECT_TRUE(has_diag_at(m, "/etc/sysctl.d/b.conf", 0));
  EXPECT_EQ(value_of(m, "kernel.c"), "1");
}

TEST(Sysctl, SymlinkedDirectoryIsFollowedInsideTheRoot) {
  TempRoot root;
  root.write("/usr/lib/sysctl.d/10-x.conf", "kernel.x = 1\n");
  root.symlink("usr/lib", "/lib"); // merged /usr: /lib/sysctl.d is the same directory
  auto m = load(root);
  EXPECT_EQ(m.files, std::vector<std::string>{"/usr/lib/sysctl.d/10-x.conf"});
}

TEST(Sysctl, HostileSymlinksOutsideTheRootAreNeverRead) {
  TempRoot outside;
  outside.write("/secret.conf", "kernel.stolen = 1\n");
  TempRoot root;
  root.symlink(outside.host("/secret.conf"), "/etc/sysctl.d/10-abs.conf");
  std::string up;
  for (int i = 0; i < 20; ++i)
    up += "../";
  root.symlink(up + outside.host("/secret.conf").substr(1), "/etc/sysctl.d/20-rel.conf");
  root.symlink(outside.path(), "/run/sysctl.d"); // the directory itself
  auto m = load(root);
  EXPECT_EQ(value_of(m, "kernel.stolen"), "<unset>");
  EXPECT_TRUE(m.configured.empty());
  for (const auto &f : m.files)
    EXPECT_EQ(f.find(outside.path()), std::string::npos) << f;
}

TEST(Sysctl, NoLiveValuesForAnOfflineRoot) {
  TempRoot root;
  root.write("/proc/sys/kernel/randomize_va_space", "0\n");
  root.write("/etc/sysctl.d/10-a.conf", "kernel.randomize_va_space = 2\n");
  RootFs fs(root.path());
  EXPECT_EQ(live_value(fs, "kernel.randomize_va_space"), std::nullopt);
  auto m = load_sysctl(fs);
  EXPECT_TRUE(m.live.empty());
  EXPECT_EQ(m.value("kernel.randomize_va_space"), "2");
}

TEST(Sysctl, LiveValueRefusesKeysThatLeaveProcSys) {
  RootFs fs("/");
  EXPECT_EQ(live_value(fs, "../../etc/hostname"), std::nullopt);
  EXPECT_EQ(live_value(fs, "net/../../../etc/hostname"), std::nullopt);
  EXPECT_EQ(live_value(fs, "kernel.*"), std::nullopt);
  EXPECT_EQ(live_value(fs, ""), std::nullopt);
  EXPECT_EQ(live_value(fs, "kernel.no_such_key_for_bulwark"), std::nullopt);
}

TEST(Sysctl, ValuesEqualIgnoresBlankRuns) {
  EXPECT_TRUE(sysctl_values_equal("4096 16384  4194304", "4096\t16384\t4194304"));
  EXPECT_FALSE(sysctl_values_equal("1", "0"));
}

// ---------------------------------------------------------------------------
// Differential tests against the real tools.

namespace {

std::string find_systemd_sysctl() {
  for (const char *p : {"/lib/systemd/systemd-sysctl", "/usr/lib/systemd/systemd-sysctl"})
    if (::access(p, X_OK) == 0)
      return p;
  return "";
}

// --cat-config prints "# <path>" before each file and a blank line between
// files. A header is such a line naming a .conf under a sysctl.d directory.
std::vector<std::pair<std::string, std::string>> split_cat_config(const std::string &out) {
  std::vector<std::pair<std::string, std::string>> files;
  std::istringstream in(out);
  std::string line, prev = "";
  bool first = true;
  while (std::getline(in, line)) {
    bool header = (first || prev.empty()) && line.rfind("# /", 0) == 0 &&
                  line.find("/sysctl.d/") != std::string::npos && line.size() > 7 &&
                  line.compare(line.size() - 5, 5, ".conf") == 0 &&
                  line.find(' ', 2) == std::string::npos;
    first = false;
    prev = line;
    if (header) {
      files.emplace_back(line.substr(2), "");
      continue;
    }
    if (!files.empty())
      files.back().second += line + "\n";
  }
  return files;
}

// An independent, deliberately plain reading of the printed files: what the
// man page says, for well-formed input.
std::map<std::string, std::string>
reference_effective(const std::vector<std::pair<std::string, std::string>> &files) {
  std::map<std::string, std::string> out;
  for (const auto &[path, content] : files) {
    std::istringstream in(content);
    std::string line;
    while (std::getline(in, line)) {
      auto trim = [](std::string s) {
        s.erase(0, s.find_first_not_of(" \t\r"));
        s.erase(s.find_last_not_of(" \t\r") + 1);
        return s;
      };
      line = trim(line);
      if (line.empty() || line[0] == '#' || line[0] == ';')
        continue;
      auto eq = line.find('=');
      bool dash = line[0] == '-';
      std::string key = trim(line.substr(
          dash ? 1 : 0, eq == std::string::npos ? std::string::npos : eq - (dash ? 1 : 0)));
      auto sep = key.find_first_of("./");
      if (sep != std::string::npos && key[sep] == '/') // to dotted form
        for (char &c : key)
          c = c == '/' ? '.' : c == '.' ? '/' : c;
      if (eq == std::string::npos) {
        if (dash)
          out.erase(key); // an exclusion replaces an assignment
        continue;         // otherwise not an assignment: ignored
      }
      out[key] = trim(line.substr(eq + 1));
    }
  }
  return out;
}

std::map<std::string, std::string> configured_values(const SysctlModel &m) {
  std::map<std::string, std::string> out;
  for (const auto &[k, s] : m.configured)
    out[k] = s.value;
  return out;
}

} // namespace

TEST(SysctlDifferential, LiveValuesMatchSysctlN) {
  BULWARK_REQUIRE(::access("/usr/sbin/sysctl", X_OK) == 0 || ::access("/sbin/sysctl", X_OK) == 0)
      << "sysctl(8) is not installed";
  RootFs fs("/");
  auto model = load_sysctl(fs);
  std::vector<std::string> keys = {"net.ipv4.ip_forward", "kernel.randomize_va_space",
                                   "net.ipv4.tcp_syncookies", "kernel.pid_max",
                                   "net.ipv4.tcp_rmem"};
  for (const auto &[k, v] : model.live)
    if (keys.size() < 12)
      keys.push_back(k);
  int compared = 0;
  for (const auto &key : keys) {
    auto r = test::run_command("sysctl -n '" + key + "'");
    auto mine = live_value(fs, key);
    if (r.exit_code != 0) {
      EXPECT_EQ(mine, std::nullopt) << key;
      continue;
    }
    std::string theirs = r.out;
    if (!theirs.empty() && theirs.back() == '\n')
      theirs.pop_back();
    ASSERT_TRUE(mine.has_value()) << key;
    EXPECT_EQ(*mine, theirs) << key;
    if (auto it = model.live.find(key); it != model.live.end()) {
      EXPECT_EQ(it->second, theirs) << key;
    }
    ++compared;
  }
  EXPECT_GE(compared, 3);
}

// With root and mount namespaces, the real tool can be pointed at a throwaway
// root: bind-mount its sysctl.d directories over the host's in a private
// namespace, and compare the file list and effective values on generated
// cases. Directories and dangling links are left out: --cat-config stops at
// the first file it cannot print.
TEST(SysctlDifferential, GeneratedRootsInAMountNamespace) {
  std::string tool = find_systemd_sysctl();
  BULWARK_REQUIRE(!tool.empty()) << "systemd-sysctl is not installed";
  BULWARK_REQUIRE(!(::geteuid() != 0 || test::run_command("unshare -m true").exit_code != 0 ||
                    ::access("/usr/local/lib", F_OK) != 0 || ::access("/etc/sysctl.d", F_OK) != 0 ||
                    ::access("/usr/lib/sysctl.d", F_OK) != 0))
      << "needs root, unshare -m and the standard directories";

  const std::vector<std::string> dirs = {"/etc/sysctl.d", "/run/sysctl.d",
                                         "/usr/local/lib/sysctl.d", "/usr/lib/sysctl.d"};
  const std::vector<std::string> names = {"10-a.conf", "20-b.conf", "50-c.conf", "99-z.conf",
                                          "A.conf",    "a.conf",    "b.txt",     ".h.conf"};
  const std::vector<std::string> keys = {"kernel.x",
                                         "net/ipv4/y",
                                         "net.ipv4.y",
                                         "vm.z",
                                         "net.ipv4.conf.eth0/1.w",
                                         "net/ipv4/conf/eth0.1/w"};
  std::mt19937 rng(20240601);
  auto pick = [&rng](size_t n) { return static_cast<size_t>(rng() % n); };
  int cases = 40, disagreements = 0;
  for (int c = 0; c < cases; ++c) {
    TempRoot root;
    for (const auto &d : dirs)
      root.mkdir(d);
    bool with_sysctl_conf = pick(2) == 0;
    if (with_sysctl_conf) {
      root.write("/etc/sysctl.conf", "kernel.x = from-sysctl.conf\n");
      root.symlink("../sysctl.conf", "/etc/sysctl.d/99-sysctl.conf");
    }
    for (int f = 0, nf = 1 + static_cast<int>(pick(8)); f < nf; ++f) {
      std::string path = dirs[pick(dirs.size())] + "/" + names[pick(names.size())];
      if (std::filesystem::exists(std::filesystem::symlink_status(root.host(path))))
        continue;
      if (pick(6) == 0) {
        root.symlink("/dev/null", path);
        continue;
      }
      std::string content = "# case " + std::to_string(c) + "\n";
      for (int l = 0, nl = static_cast<int>(pick(5)); l < nl; ++l) {
        std::string key = keys[pick(keys.size())];
        content += (pick(5) == 0 ? "-" : "") + key;
        if (pick(6) != 0)
          content += " = " + std::to_string(pick(3));
        content += "\n";
      }
      root.write(path, content);
    }
    std::string t = root.path();
    std::string script =
        "set -e; mount --bind " + t + "/etc/sysctl.d /etc/sysctl.d; " +
        (with_sysctl_conf ? "mount --bind " + t + "/etc/sysctl.conf /etc/sysctl.conf; " : "") +
        "mount -t tmpfs none /run; mkdir /run/sysctl.d; "
        "mount --bind " +
        t + "/run/sysctl.d /run/sysctl.d; " +
        "mount -t tmpfs none /usr/local/lib; mkdir /usr/local/lib/sysctl.d; "
        "mount --bind " +
        t + "/usr/local/lib/sysctl.d /usr/local/lib/sysctl.d; " + "mount --bind " + t +
        "/usr/lib/sysctl.d /usr/lib/sysctl.d; " + "exec " + tool + " --cat-config --no-pager";
    auto r = test::run_command("unshare -m sh -c '" + script + "'");
    ASSERT_EQ(r.exit_code, 0) << r.err;
    auto printed = split_cat_config(r.out);
    std::vector<std::string> printed_paths;
    for (const auto &f : printed)
      printed_paths.push_back(f.first);
    auto model = load_sysctl(RootFs(root.path()));
    bool same =
        model.files == printed_paths && configured_values(model) == reference_effective(printed);
    if (!same && ++disagreements <= 3)
      ADD_FAILURE() << "case " << c << ": systemd-sysctl printed\n" << r.out;
  }
  EXPECT_EQ(disagreements, 0);
}
