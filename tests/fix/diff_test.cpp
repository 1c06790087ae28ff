// unified_diff() against GNU diffutils and patch: the same text as `diff -u`
// where the shortest edit is unique, an equally short edit elsewhere, and
// `patch -p1` always turns `before` into `after`.

#include <bulwark/fix/diff.hpp>

#include "../support.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>

namespace bulwark::fix {
namespace {

using bulwark::test::run_command;
using bulwark::test::TempRoot;

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

void spit(const std::string &p, const std::string &s) {
  std::ofstream out(p, std::ios::binary | std::ios::trunc);
  out << s;
}

// What `diff -u` prints for the two contents, with our labels.
std::string gnu_diff(const std::optional<std::string> &before,
                     const std::optional<std::string> &after, bool minimal = false) {
  TempRoot tmp;
  spit(tmp.path() + "/old", before.value_or(""));
  spit(tmp.path() + "/new", after.value_or(""));
  std::string cmd = std::string("diff -u") + (minimal ? " --minimal" : "") + " --label " +
                    (before ? "a/f" : "/dev/null") + " --label " + (after ? "b/f" : "/dev/null") +
                    " " + tmp.path() + "/old " + tmp.path() + "/new";
  return run_command(cmd).out;
}

// Applies `patch_text` with `patch -p1` in a directory holding `before` as
// "f"; returns the file afterwards (nullopt: removed).
std::optional<std::string> apply_patch(const std::optional<std::string> &before,
                                       const std::string &patch_text, int &rc) {
  TempRoot tmp;
  if (before)
    spit(tmp.path() + "/f", *before);
  spit(tmp.path() + "/p.diff", patch_text);
  auto r = run_command("cd " + tmp.path() + " && patch -p1 -s --no-backup-if-mismatch -i p.diff");
  rc = r.exit_code;
  if (!std::filesystem::exists(tmp.path() + "/f"))
    return std::nullopt;
  return slurp(tmp.path() + "/f");
}

size_t changed_lines(const std::string &diff) {
  size_t n = 0;
  size_t start = 0;
  while (start < diff.size()) {
    size_t end = diff.find('\n', start);
    if (end == std::string::npos)
      end = diff.size();
    std::string_view line(diff.data() + start, end - start);
    if ((line.starts_with("+") && !line.starts_with("+++ ")) ||
        (line.starts_with("-") && !line.starts_with("--- ")))
      ++n;
    start = end + 1;
  }
  return n;
}

// A random edit of `lines`: `unique` edits insert only lines never seen
// before (so the shortest edit, and diff's output, are unique).
std::vector<std::string> edit(std::vector<std::string> lines, std::mt19937 &rng, bool unique,
                              int &serial) {
  int edits = static_cast<int>(rng() % 6);
  auto fresh = [&]() {
    if (unique)
      return "new line " + std::to_string(serial++);
    static const char *k_words[] = {"a", "b", "", "# c", "x = 1"};
    return std::string(k_words[rng() % 5]);
  };
  for (int e = 0; e < edits; ++e) {
    size_t pos = lines.empty() ? 0 : rng() % (lines.size() + 1);
    switch (rng() % 3) {
    case 0: lines.insert(lines.begin() + static_cast<long>(pos), fresh()); break;
    case 1:
      if (pos < lines.size())
        lines.erase(lines.begin() + static_cast<long>(pos));
      break;
    default:
      if (pos < lines.size())
        lines[pos] = fresh();
      break;
    }
  }
  return lines;
}

std::string join_lines(const std::vector<std::string> &lines, bool final_newline) {
  std::string s;
  for (size_t i = 0; i < lines.size(); ++i) {
    s += lines[i];
    if (i + 1 < lines.size() || final_newline)
      s += '\n';
  }
  return s;
}

class DiffDifferential : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE_TOOL("diff") << "(Debian package diffutils)";
    BULWARK_REQUIRE_TOOL("patch") << "(Debian package patch)";
  }
};

TEST_F(DiffDifferential, SameTextAsGnuDiffWhenTheEditIsUnique) {
  std::mt19937 rng(18);
  int serial = 0;
  int nonempty = 0;
  for (int c = 0; c < 250; ++c) {
    std::vector<std::string> base;
    size_t n = rng() % 40;
    for (size_t i = 0; i < n; ++i)
      base.push_back("line " + std::to_string(i));
    auto changed = edit(base, rng, true, serial);
    std::optional<std::string> before = join_lines(base, rng() % 5 != 0);
    std::optional<std::string> after = join_lines(changed, rng() % 5 != 0);
    if (rng() % 20 == 0)
      before = std::nullopt;
    else if (rng() % 20 == 0)
      after = std::nullopt;
    std::string ours = unified_diff("/f", before, after);
    ASSERT_EQ(ours, gnu_diff(before, after)) << "case " << c;
    if (ours.empty())
      continue;
    ++nonempty;
    int rc = 0;
    ASSERT_EQ(apply_patch(before, ours, rc), after) << "case " << c << "\n" << ours;
    EXPECT_EQ(rc, 0);
  }
  EXPECT_GT(nonempty, 200);
}

TEST_F(DiffDifferential, ShortestEditThatPatchAppliesWithRepeatedLines) {
  std::mt19937 rng(1806);
  int serial = 0;
  int nonempty = 0;
  for (int c = 0; c < 250; ++c) {
    std::vector<std::string> base;
    size_t n = rng() % 60;
    static const char *k_words[] = {"a", "b", "", "# c", "x = 1", "}"};
    for (size_t i = 0; i < n; ++i)
      base.push_back(k_words[rng() % 6]);
    auto changed = edit(base, rng, false, serial);
    std::optional<std::string> before = join_lines(base, rng() % 4 != 0);
    std::optional<std::string> after = join_lines(changed, rng() % 4 != 0);
    std::string ours = unified_diff("/f", before, after);
    std::string theirs = gnu_diff(before, after, true);
    ASSERT_EQ(ours.empty(), theirs.empty()) << "case " << c;
    if (ours.empty())
      continue;
    ++nonempty;
    EXPECT_EQ(changed_lines(ours), changed_lines(theirs)) << "case " << c << "\n"
                                                          << ours << "\n"
                                                          << theirs;
    int rc = 0;
    ASSERT_EQ(apply_patch(before, ours, rc), after) << "case " << c << "\n" << ours;
    EXPECT_EQ(rc, 0);
  }
  EXPECT_GT(nonempty, 150);
}

TEST_F(DiffDifferential, RealConfigFilesEditedAsFixesEditThem) {
  // Configuration files of this machine, edited the way recipes edit them.
  const char *k_files[] = {"/etc/ssh/sshd_config", "/etc/nginx/nginx.conf", "/etc/sudoers",
                           "/etc/login.defs", "/etc/fail2ban/jail.conf"};
  std::mt19937 rng(42);
  int used = 0;
  for (const char *file : k_files) {
    std::string text = slurp(file);
    if (text.empty())
      continue;
    ++used;
    std::vector<std::string> lines;
    size_t start = 0;
    while (start < text.size()) {
      size_t end = text.find('\n', start);
      lines.push_back(text.substr(start, end - start));
      start = end == std::string::npos ? text.size() : end + 1;
    }
    int serial = 0;
    for (int c = 0; c < 20; ++c) {
      auto changed = edit(lines, rng, c % 2 == 0, serial);
      changed.insert(changed.begin(), "Include /etc/ssh/sshd_config.d/00-bulwark.conf");
      std::string after = join_lines(changed, true);
      std::string ours = unified_diff("/f", text, after);
      EXPECT_EQ(changed_lines(ours), changed_lines(gnu_diff(text, after, true))) << file;
      int rc = 0;
      ASSERT_EQ(apply_patch(text, ours, rc), after) << file << "\n" << ours;
      EXPECT_EQ(rc, 0);
    }
  }
  BULWARK_REQUIRE(used >= 3) << "fewer than 3 of the configuration files are installed";
}

} // namespace

TEST(UnifiedDiff, HeadersRangesAndMissingNewline) {
  EXPECT_EQ(unified_diff("/etc/x", std::string("a\nb\n"), std::string("a\nb\n")), "");
  EXPECT_EQ(unified_diff("/etc/x", std::string("a\n"), std::string("a")),
            "--- a/etc/x\n+++ b/etc/x\n@@ -1 +1 @@\n-a\n+a\n\\ No newline at end of file\n");
  EXPECT_EQ(unified_diff("/etc/x", std::nullopt, std::string("k\n")),
            "--- /dev/null\n+++ b/etc/x\n@@ -0,0 +1 @@\n+k\n");
  EXPECT_EQ(unified_diff("/etc/x", std::string("k\nl\n"), std::nullopt),
            "--- a/etc/x\n+++ /dev/null\n@@ -1,2 +0,0 @@\n-k\n-l\n");
}

TEST(UnifiedDiff, HugeUnrelatedInputsAreBounded) {
  // Two 10 MB files with nothing in common: past the edit bound the middle
  // is one deletion and one insertion; it must not take quadratic time.
  std::string a;
  std::string b;
  for (int i = 0; a.size() < 10'000'000; ++i)
    a += "old line number " + std::to_string(i) + "\n";
  for (int i = 0; b.size() < 10'000'000; ++i)
    b += "new line number " + std::to_string(i) + "\n";
  // And two that differ in many scattered places among repeated lines.
  std::string c(10'000'000 / 2, 'x');
  for (size_t i = 1; i < c.size(); i += 2)
    c[i] = '\n';
  std::string d = c;
  for (size_t i = 0; i < d.size(); i += 1001 * 2)
    d[i] = 'y';
  auto t0 = std::chrono::steady_clock::now();
  std::string ab = unified_diff("/f", a, b);
  std::string cd = unified_diff("/f", c, d);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  EXPECT_LT(elapsed, bulwark::test::hang_bound(std::chrono::seconds(60)));
  EXPECT_EQ(changed_lines(ab),
            std::count(a.begin(), a.end(), '\n') + std::count(b.begin(), b.end(), '\n'));
  // Past the edit bound the in-place substitutions still match up.
  EXPECT_EQ(changed_lines(cd), 2 * ((c.size() + 2001) / 2002));
  // Both still apply.
  int rc = 0;
  if (bulwark::test::have_program("patch")) {
    EXPECT_EQ(apply_patch(c, cd, rc), std::optional<std::string>(d));
    EXPECT_EQ(rc, 0);
  }
}

} // namespace bulwark::fix
