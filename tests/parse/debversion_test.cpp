// Debian versions and the dpkg status database.
//
// DebVersion.* pins dpkg's documented and undocumented ordering and its
// parse errors/warnings; DebVersion.DifferentialAgainstDpkg compares
// compare_deb_versions() with the real `dpkg --compare-versions` on generated
// pairs biased toward the tricky forms. DpkgStatus.* runs the status parser
// on fixtures (malformed and truncated) and on this machine's own database,
// checked against `dpkg-query`.
//
// Environment:
//   BULWARK_DPKG_PAIRS  number of generated pairs (default 10000)
//   BULWARK_DPKG_SHOW   how many disagreements to print (default 10)

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/debversion.hpp>
#include <bulwark/parse/dpkg_status.hpp>

#include "../support.hpp"

#include <gtest/gtest.h>

#include <chrono>
#include <cstdlib>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <random>
#include <sstream>
#include <string>
#include <vector>

using namespace bulwark;
using namespace bulwark::deb;

namespace {

constexpr const char *k_dpkg = "/usr/bin/dpkg";

int sign(int v) {
  return v < 0 ? -1 : (v > 0 ? 1 : 0);
}

int cmp(std::string_view a, std::string_view b) {
  auto r = compare_deb_versions(a, b);
  EXPECT_TRUE(r.ok()) << a << " vs " << b << ": " << (r.ok() ? "" : r.error().message);
  return r.ok() ? sign(*r) : 99;
}

std::string shell_quote(const std::string &s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'')
      out += "'\\''";
    else
      out += c;
  }
  return out + "'";
}

std::string visible(const std::string &s) {
  std::string out;
  for (unsigned char c : s) {
    if (c < 0x20 || c >= 0x7f) {
      char buf[8];
      std::snprintf(buf, sizeof buf, "\\x%02x", c);
      out += buf;
    } else {
      out += static_cast<char>(c);
    }
  }
  return "\"" + out + "\"";
}

size_t env_size(const char *name, size_t fallback) {
  const char *v = std::getenv(name);
  return v != nullptr && *v != '\0' ? static_cast<size_t>(std::strtoul(v, nullptr, 10)) : fallback;
}

} // namespace

// ---------------------------------------------------------------------------
// Ordering

TEST(DebVersion, ClassicOrderings) {
  struct Case {
    const char *a;
    int expected; // sign of compare(a, b)
    const char *b;
  };
  const Case cases[] = {
      {"1.0~rc1", -1, "1.0"},
      {"1.0~rc1", 1, "1.0~rc1~"},
      {"1.0~~", -1, "1.0~"},
      {"1.0~", -1, "1.0"},
      {"1.0", -1, "1.0a"},
      {"1.0a", -1, "1.0+"},  // letters before non-letters
      {"1.0a", -1, "1.0."},  // and '.' is a non-letter
      {"1.0+", -1, "1.0.1"}, // '+' (43) before '.' (46)
      {"1.0", -1, "1.0.0"},  // the end before '.'
      {"1:0.1", 1, "2.0"},   // epoch first
      {"0:1.0", 0, "1.0"},   // epoch 0 is no epoch
      {"00:1.0", 0, "1.0"},  // ... however written
      {"1.0", 0, "1.00"},    // digit runs are numbers
      {"1.0", 0, "1.0-0"},   // the missing revision orders like "0"
      {"1.001", 0, "1.1"},   // leading zeros ignored
      {"1.10", 1, "1.9"},    // numbers, not strings
      {"1.0-1", -1, "1.0-1+deb12u1"},
      {"1.0-1+deb12u1", -1, "1.0-1+deb12u2"},
      {"1.0-1+deb12u10", 1, "1.0-1+deb12u9"},
      {"2.30-12", 1, "2.30-12~bpo"},
      {"2.30-12~bpo11+1", -1, "2.30-12"},
      {"2.36-9+deb12u4", 1, "2.36-9+deb12u3"},
      {"1:9.2p1-2+deb12u2", 1, "9.9p1-1"},
      {"1.2.3-4-5", 1, "1.2.3-5"}, // revision after the LAST hyphen: 1.2.3-4 > 1.2.3
      {"1:2:3", 1, "1:2:2"},       // colons in upstream with an epoch
      {"7.88.1-10+deb12u5", -1, "7.88.1-10+deb12u12"},
      {"3.0.11-1~deb12u2", 1, "3.0.11-1~deb12u1"},
      {"3.0.11-1~deb12u2", -1, "3.0.11-1"},
      {"1.0-0ubuntu1", 1, "1.0-0"},
      {"a", -1, "b"}, // dpkg only warns about these
      {"1.0~", -1, "1.0-0"},
  };
  for (const Case &c : cases) {
    EXPECT_EQ(cmp(c.a, c.b), c.expected) << c.a << " vs " << c.b;
    EXPECT_EQ(cmp(c.b, c.a), -c.expected) << c.b << " vs " << c.a;
  }
}

TEST(DebVersion, HugeDigitRunsCompareWithoutOverflow) {
  std::string big(5000, '9');
  EXPECT_EQ(cmp("1." + big, "1." + big), 0);
  EXPECT_EQ(cmp("1." + big + "8", "1." + big + "9"), -1);
  EXPECT_EQ(cmp("1." + big, "1.1" + big), -1); // longer run is bigger
  EXPECT_EQ(cmp("1.000000000000000000000000000001", "1.1"), 0);
  EXPECT_EQ(cmp("18446744073709551616", "18446744073709551615"), 1); // 2^64 vs 2^64-1
  EXPECT_EQ(cmp("99999999999999999999999", "100000000000000000000000"), -1);
  EXPECT_EQ(cmp("1-" + big, "1-" + big + "0"), -1);
}

TEST(DebVersion, PartOrderingTildeBeforeEnd) {
  EXPECT_LT(compare_deb_version_part("~", ""), 0);
  EXPECT_LT(compare_deb_version_part("", "a"), 0);
  EXPECT_LT(compare_deb_version_part("Z", "a"), 0); // ASCII within letters
  EXPECT_LT(compare_deb_version_part("z", "+"), 0);
  EXPECT_EQ(compare_deb_version_part("", "0"), 0);
  EXPECT_EQ(compare_deb_version_part("", ""), 0);
}

// ---------------------------------------------------------------------------
// Parsing

TEST(DebVersion, SplitsEpochUpstreamRevision) {
  auto v = parse_deb_version("1:2:3-4-5");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->epoch, 1u);
  EXPECT_EQ(v->upstream, "2:3-4");
  EXPECT_EQ(v->revision, "5");
  EXPECT_EQ(v->to_string(), "1:2:3-4-5");

  v = parse_deb_version(" \t2.36-9+deb12u4\t ");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->epoch, 0u);
  EXPECT_EQ(v->upstream, "2.36");
  EXPECT_EQ(v->revision, "9+deb12u4");
  EXPECT_EQ(v->to_string(), "2.36-9+deb12u4");

  // strtol() semantics of the epoch: a sign, leading zeros, leading space.
  v = parse_deb_version("+3:1.0");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->epoch, 3u);
  v = parse_deb_version("-0:1.0");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->epoch, 0u);
  v = parse_deb_version("\n007:1.0");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->epoch, 7u);
  v = parse_deb_version("2147483647:1");
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->epoch, 2147483647u);

  v = parse_deb_version(std::string_view("1.0\0garbage", 11)); // a C string
  ASSERT_TRUE(v.ok());
  EXPECT_EQ(v->upstream, "1.0");
}

TEST(DebVersion, RejectsWhatDpkgRejects) {
  struct Case {
    const char *input;
    const char *message;
  };
  const Case cases[] = {
      {"", "version string is empty"},
      {" \t ", "version string is empty"},
      {"1.0 beta", "version string has embedded spaces"},
      {"1 :1.0", "version string has embedded spaces"},
      {":1.0", "epoch in version is empty"},
      {"a:1.0", "epoch in version is empty"},
      {"+:1.0", "epoch in version is empty"},
      {"1a:1.0", "epoch in version is not number"},
      {"1.0:", "epoch in version is not number"},
      {"-1:1.0", "epoch in version is negative"},
      {"-99999999999999999999:1.0", "epoch in version is negative"},
      {"2147483648:1.0", "epoch in version is too big"},
      {"99999999999999999999:1.0", "epoch in version is too big"},
      {"1:", "nothing after colon in version number"},
      {"1.0-", "revision number is empty"},
      {"-", "revision number is empty"},
      {"1:-1", "version number is empty"},
      {"-1", "version number is empty"},
  };
  for (const Case &c : cases) {
    auto v = parse_deb_version(c.input);
    ASSERT_FALSE(v.ok()) << visible(c.input);
    EXPECT_EQ(v.error().message, c.message) << visible(c.input);
  }
  EXPECT_FALSE(compare_deb_versions("1.0", "1.0-").ok());
  EXPECT_FALSE(compare_deb_versions("", "1.0").ok());
}

TEST(DebVersion, WarnsWhereDpkgOnlyWarns) {
  struct Case {
    const char *input;
    const char *warning;
  };
  const Case cases[] = {
      {"a1.0", "version number does not start with digit"},
      {"~1", "version number does not start with digit"},
      {"1:a_b", "version number does not start with digit"}, // only the first warning
      {"1_0", "invalid character in version number"},
      {"1.0\xc3\xa9", "invalid character in version number"},
      {"1.0-a_b", "invalid character in revision number"},
      {"1:1.0-1:2", "invalid character in revision number"},
      {"1.0-1-2", ""}, // '-' is fine in upstream
      {"1:1.0:2", ""}, // and so is ':'
  };
  for (const Case &c : cases) {
    std::string warning = "stale";
    auto v = parse_deb_version(c.input, &warning);
    ASSERT_TRUE(v.ok()) << c.input;
    EXPECT_EQ(warning, c.warning) << c.input;
  }
}

// ---------------------------------------------------------------------------
// Differential test against dpkg --compare-versions

namespace {

// Versions biased toward what breaks naive comparisons: tildes, epochs,
// revisions, letters, leading zeros, huge digit runs, and pairs that differ
// by one mutation or are equal but written differently.
class VersionGen {
public:
  explicit VersionGen(uint32_t seed) : m_rng(seed) {}

  std::pair<std::string, std::string> pair() {
    std::string a = version();
    std::string b = chance(0.55) ? mutate(a) : version();
    if (chance(0.3))
      b = mutate(b);
    if (chance(0.06))
      a = malform(a);
    if (chance(0.06))
      b = malform(b);
    return {sanitize(a), sanitize(b)};
  }

private:
  int uni(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_rng); }
  bool chance(double p) { return std::bernoulli_distribution(p)(m_rng); }
  template <typename T> const T &pick(const std::vector<T> &v) {
    return v[static_cast<size_t>(uni(0, static_cast<int>(v.size()) - 1))];
  }

  std::string digits() {
    int r = uni(0, 99);
    if (r < 6) { // a huge run, maybe with leading zeros
      std::string s = chance(0.3) ? std::string(static_cast<size_t>(uni(1, 5)), '0') : "";
      int n = uni(19, 60);
      s += static_cast<char>('1' + uni(0, 8));
      for (int i = 1; i < n; ++i)
        s += static_cast<char>('0' + uni(0, 9));
      return s;
    }
    if (r < 20) // leading zeros
      return std::string(static_cast<size_t>(uni(1, 3)), '0') + std::to_string(uni(0, 12));
    if (r < 80)
      return std::to_string(uni(0, 12));
    return std::to_string(uni(0, 2000));
  }

  std::string word() {
    static const std::vector<std::string> words = {
        "a",   "b",      "z",   "A",    "Z",   "rc", "beta", "alpha",  "dfsg",  "ubuntu",
        "deb", "bpo",    "git", "pre",  "p",   "ds", "svn",  "really", "build", "b",
        "nmu", "debian", "lts", "post", "dev", "RC", "Beta", "esm",    "u",     "x"};
    if (chance(0.8))
      return pick(words);
    std::string s;
    for (int i = uni(1, 3); i > 0; --i)
      s += static_cast<char>(chance(0.8) ? 'a' + uni(0, 25) : 'A' + uni(0, 25));
    return s;
  }

  std::string segment() {
    switch (uni(0, 6)) {
    case 0:
    case 1:
    case 2: return digits();
    case 3: return word();
    case 4: return word() + digits();
    case 5: return digits() + word();
    default: return digits() + word() + digits();
    }
  }

  std::string separator(bool hyphen_ok, bool colon_ok) {
    static const std::vector<std::string> seps = {".", ".",  ".",  ".",  "~",  "~",  "+", "+",
                                                  "",  "~~", ".~", "+~", "~+", "..", "-", ":"};
    std::string s = pick(seps);
    if ((s == "-" && !hyphen_ok) || (s == ":" && !colon_ok))
      s = ".";
    return s;
  }

  std::string upstream(bool hyphen_ok, bool colon_ok) {
    std::string s = chance(0.95) ? digits() : (chance(0.5) ? word() : "~" + digits());
    for (int n = uni(0, 4); n > 0; --n)
      s += separator(hyphen_ok, colon_ok) + segment();
    if (chance(0.12))
      s += pick(std::vector<std::string>{"~", "~rc1", "~beta2", "~~", "+", "+dfsg", "a"});
    return s;
  }

  std::string revision() {
    static const std::vector<std::string> common = {
        "1",        "0",       "2",         "1+deb12u1", "1+deb12u10", "12~bpo11+1",
        "0ubuntu1", "1build1", "1~deb12u1", "3+b1",      "1.1",        "0.1",
        "00",       "01",      "1~",        "1+",        "1~~"};
    if (chance(0.4))
      return pick(common);
    std::string s = chance(0.85) ? digits() : word();
    for (int n = uni(0, 3); n > 0; --n) {
      std::string sep = pick(std::vector<std::string>{".", "+", "~", "", "~~", "+~"});
      s += sep + segment();
    }
    return s;
  }

  std::string version() {
    std::string epoch;
    if (chance(0.22))
      epoch = pick(std::vector<std::string>{"0", "1", "2", "00", "01", "10", "3", "0000"}) + ":";
    bool has_revision = chance(0.6);
    std::string s = epoch + upstream(has_revision, !epoch.empty());
    if (has_revision)
      s += "-" + revision();
    return s;
  }

  // One small change: the pair stays close, or becomes equal in disguise.
  std::string mutate(std::string s) {
    switch (uni(0, 11)) {
    case 0: return s; // identical
    case 1:           // add or drop a zero epoch
      if (s.rfind("0:", 0) == 0)
        return s.substr(2);
      return s.find(':') == std::string::npos ? "0:" + s : s;
    case 2: { // pad or strip leading zeros of one digit run
      std::vector<size_t> starts;
      for (size_t i = 0; i < s.size(); ++i)
        if (std::isdigit(static_cast<unsigned char>(s[i])) &&
            (i == 0 || !std::isdigit(static_cast<unsigned char>(s[i - 1]))))
          starts.push_back(i);
      if (starts.empty())
        return s;
      size_t at = pick(starts);
      if (s[at] == '0' && at + 1 < s.size() && std::isdigit(static_cast<unsigned char>(s[at + 1])))
        return s.erase(at, 1);
      return s.insert(at, std::string(static_cast<size_t>(uni(1, 3)), '0'));
    }
    case 3: // append something
      return s + pick(std::vector<std::string>{"~", "~1", "~rc1", "+1", "+b1", ".0", "0", "a", "-0",
                                               "-1", "~~", ".", "+", "A", "-0~", ".0.0"});
    case 4: { // nudge one digit
      std::vector<size_t> ds;
      for (size_t i = 0; i < s.size(); ++i)
        if (std::isdigit(static_cast<unsigned char>(s[i])))
          ds.push_back(i);
      if (ds.empty())
        return s;
      size_t at = pick(ds);
      s[at] = static_cast<char>(
          s[at] == '9' ? '8' : (s[at] == '0' ? '1' : s[at] + (chance(0.5) ? 1 : -1)));
      return s;
    }
    case 5: { // insert a tilde or plus somewhere
      size_t at = static_cast<size_t>(uni(1, static_cast<int>(s.size())));
      return s.insert(at, chance(0.6) ? "~" : "+");
    }
    case 6: { // cut the end
      if (s.size() < 2)
        return s;
      return s.substr(0, static_cast<size_t>(uni(1, static_cast<int>(s.size()) - 1)));
    }
    case 7: { // swap letter case somewhere
      for (char &c : s)
        if (std::isalpha(static_cast<unsigned char>(c)) && chance(0.5))
          c = static_cast<char>(std::islower(static_cast<unsigned char>(c)) ? std::toupper(c)
                                                                            : std::tolower(c));
      return s;
    }
    case 8: // a tilde before the revision or at the end of upstream
      if (auto h = s.rfind('-'); h != std::string::npos)
        return s.insert(h, "~");
      return s + "~";
    case 9: // add or change a revision
      if (auto h = s.rfind('-'); h != std::string::npos)
        return s.substr(0, h + 1) + revision();
      return s + "-" + revision();
    case 10: // equal in disguise: no revision orders like revision "0"
      return s.find('-') == std::string::npos ? s + "-0" : s;
    default: // a different epoch
      if (auto c = s.find(':'); c != std::string::npos)
        return std::to_string(uni(0, 3)) + s.substr(c);
      return std::to_string(uni(1, 2)) + ":" + s;
    }
  }

  // Something dpkg rejects or warns about, or accepts only after trimming.
  std::string malform(const std::string &s) {
    size_t mid = s.empty() ? 0 : static_cast<size_t>(uni(0, static_cast<int>(s.size())));
    switch (uni(0, 24)) {
    case 0: return s.substr(0, mid) + " " + s.substr(mid); // embedded space
    case 1: return " " + s + "\t";                         // trimmed
    case 2: return "\t" + s;
    case 3: return ":" + s;
    case 4: return s + "-";
    case 5: return "x:" + s;
    case 6: return "1a:" + s;
    case 7: return "99999999999:" + s;
    case 8: return " -1:" + s;
    case 9: return " -0:" + s;
    case 10: return " +3:" + s;
    case 11: return "2147483647:" + s;
    case 12: return "2147483648:" + s;
    case 13: return s.substr(0, mid) + "_" + s.substr(mid);
    case 14: return "a" + s;
    case 15: return s + (s.find('-') == std::string::npos ? "-1%" : "%");
    case 16: return s.substr(0, mid) + "\xc3\xa9" + s.substr(mid);
    case 17: return "\v1:" + s;
    case 18: return s + ":";
    case 19: return "1:-" + s;
    case 20: return "~" + s;
    case 21: return s.substr(0, mid) + "=" + s.substr(mid);
    case 22: return "1:" + s + "-";
    case 23: return s.substr(0, mid) + "\xff" + s.substr(mid);
    default: return "1:" + s.substr(0, mid) + ":" + s.substr(mid);
    }
  }

  // What cannot reach dpkg as an argument the way we mean it: "" and
  // "<unknown>" are dpkg's "no version", a leading '-' an option.
  static std::string sanitize(std::string s) {
    if (s.empty() || s == "<unknown>" || s[0] == '-')
      s = "0" + s;
    return s;
  }

  std::mt19937 m_rng;
};

enum class Verdict { lt, eq, gt, error };

const char *verdict_name(Verdict v) {
  switch (v) {
  case Verdict::lt: return "<<";
  case Verdict::eq: return "=";
  case Verdict::gt: return ">>";
  default: return "error";
  }
}

Verdict predict(const std::string &a, const std::string &b) {
  auto r = compare_deb_versions(a, b);
  if (!r.ok())
    return Verdict::error;
  return *r < 0 ? Verdict::lt : (*r == 0 ? Verdict::eq : Verdict::gt);
}

// dpkg's own verdict, three runs; for printing disagreements only.
Verdict dpkg_verdict(const std::string &a, const std::string &b) {
  auto run = [&](const char *op) {
    return test::run_command(std::string("LC_ALL=C ") + k_dpkg + " --compare-versions " +
                             shell_quote(a) + " " + op + " " + shell_quote(b))
        .exit_code;
  };
  int lt = run("lt");
  if (lt == 2)
    return Verdict::error;
  if (lt == 0)
    return Verdict::lt;
  return run("eq") == 0 ? Verdict::eq : Verdict::gt;
}

} // namespace

TEST(DebVersion, DifferentialAgainstDpkg) {
  BULWARK_REQUIRE(::access(k_dpkg, X_OK) == 0)
      << k_dpkg << " is absent: cannot compare with dpkg --compare-versions";
  const size_t n = env_size("BULWARK_DPKG_PAIRS", bulwark::test::oracle_cases(10000));
  const size_t show = env_size("BULWARK_DPKG_SHOW", 10);
  auto t0 = std::chrono::steady_clock::now();

  VersionGen gen(20240611u);
  std::vector<std::pair<std::string, std::string>> pairs;
  std::vector<Verdict> predicted;
  std::map<Verdict, size_t> tally;
  test::TempRoot tmp;
  {
    // One triple of lines per pair: a, b, and the relation we predict. The
    // pair agrees iff dpkg confirms that relation (exit 0, or exit 2 when we
    // predict a parse error): one dpkg run per pair instead of three.
    std::ofstream in(tmp.path() + "/pairs", std::ios::binary);
    for (size_t i = 0; i < n; ++i) {
      pairs.push_back(gen.pair());
      Verdict v = predict(pairs.back().first, pairs.back().second);
      predicted.push_back(v);
      ++tally[v];
      const char *op = v == Verdict::eq ? "eq" : (v == Verdict::gt ? "gt" : "lt");
      in << pairs.back().first << '\n' << pairs.back().second << '\n' << op << '\n';
    }
  }
  {
    std::ofstream script(tmp.path() + "/run.sh");
    script << "while IFS= read -r a && IFS= read -r b && IFS= read -r op; do\n"
           << "  " << k_dpkg << " --compare-versions \"$a\" \"$op\" \"$b\" 2>/dev/null\n"
           << "  echo $?\n"
           << "done\n";
  }
  auto res = test::run_command("LC_ALL=C sh " + tmp.path() + "/run.sh <" + tmp.path() + "/pairs");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  std::istringstream out(res.out);
  std::vector<int> codes;
  for (std::string line; std::getline(out, line);)
    codes.push_back(std::atoi(line.c_str()));
  ASSERT_EQ(codes.size(), n) << "dpkg loop stopped early: " << res.err;

  size_t disagreements = 0;
  for (size_t i = 0; i < n; ++i) {
    int expected_code = predicted[i] == Verdict::error ? 2 : 0;
    if (codes[i] == expected_code)
      continue;
    if (++disagreements <= show) {
      const auto &[a, b] = pairs[i];
      std::string why;
      if (auto r = compare_deb_versions(a, b); !r.ok())
        why = " (" + r.error().message + ")";
      std::cout << "  disagreement #" << i << ": " << visible(a) << " vs " << visible(b)
                << ": bulwark " << verdict_name(predicted[i]) << why << ", dpkg "
                << verdict_name(dpkg_verdict(a, b)) << "\n";
    }
  }
  double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "dpkg differential: " << n << " pairs, " << disagreements << " disagreements\n"
            << "  (" << tally[Verdict::lt] << " <<, " << tally[Verdict::eq] << " =, "
            << tally[Verdict::gt] << " >>, " << tally[Verdict::error] << " rejected; " << std::fixed
            << std::setprecision(1) << secs << " s)\n";
  EXPECT_EQ(disagreements, 0u);
  // The generator must keep producing the interesting cases.
  if (n >= 1000) {
    EXPECT_GT(tally[Verdict::eq], n / 20);
    EXPECT_GT(tally[Verdict::error], n / 100);
  }
}

// ---------------------------------------------------------------------------
// The dpkg status database

namespace {

const char *k_fixture =                              // line numbers matter: see the test
    "Package: libc6\n"                               // 1
    "Status: install ok installed\n"                 // 2
    "Priority: optional\n"                           // 3
    "Architecture: amd64\n"                          // 4
    "Multi-Arch: same\n"                             // 5
    "Source: glibc\n"                                // 6
    "Version: 2.36-9+deb12u4\n"                      // 7
    "Description: GNU C Library: Shared libraries\n" // 8
    " Contains the standard libraries.\n"            // 9
    " .\n"                                           // 10
    " More text.\n"                                  // 11
    "\n"                                             // 12
    "\n"                                             // 13
    "package: openssh-server\n"                      // 14
    "STATUS: hold ok installed\n"                    // 15
    "Architecture: amd64\n"                          // 16
    "Source: openssh (1:9.2p1-2+deb12u2)\n"          // 17
    "Version: 1:9.2p1-2+deb12u2+b1\n"                // 18
    "Conffiles:\n"                                   // 19
    " /etc/ssh/moduli 1234\n"                        // 20
    "\n"                                             // 21
    "Package: oldpkg\n"                              // 22
    "Status: deinstall ok config-files\n"            // 23
    "Architecture: all\n"                            // 24
    "Version: 0.9-1\n"                               // 25
    "\n"                                             // 26
    "Package: broken\n"                              // 27
    "Status: install ok installed\n"                 // 28
    "this line has no colon\n"                       // 29
    "Version: 1.0\n"                                 // 30
    "\n"                                             // 31
    "Status: install ok installed\n"                 // 32
    "Version: 1.0\n"                                 // 33
    "\n"                                             // 34
    "Package: badstatus\n"                           // 35
    "Status: install ok sideways\n"                  // 36
    "Version: 1.0\n"                                 // 37
    "\n"                                             // 38
    "Package: badversion\n"                          // 39
    "Status: install ok installed\n"                 // 40
    "Version: 1.0-\n"                                // 41
    "\n"                                             // 42
    "Package: dup\n"                                 // 43
    "Status: install ok installed\n"                 // 44
    "Version: 1.0\n"                                 // 45
    "version: 2.0\n"                                 // 46
    "\n"                                             // 47
    "Package: noversion\n"                           // 48
    "Status: install ok unpacked\n"                  // 49
    "Architecture: amd64\n"                          // 50
    "\n"                                             // 51
    "Package: warned\n"                              // 52
    "Status: install reinstreq half-installed\n"     // 53
    "Architecture: amd64\n"                          // 54
    "Version: 1_0\n"                                 // 55
    "\n"                                             // 56
    "Package: zlib1g\n"                              // 57
    "Status: install ok installed\n"                 // 58
    "Architecture: amd64\n"                          // 59
    "Version: 1:1.2.13.dfsg-1\n";                    // 60

bool has_diag(const DpkgStatus &s, int line, const std::string &needle,
              StatusDiagnostic::Level level = StatusDiagnostic::Level::error) {
  for (const auto &d : s.diagnostics)
    if (d.loc.line == line && d.level == level && d.message.find(needle) != std::string::npos)
      return true;
  return false;
}

std::string dump(const DpkgStatus &s) {
  std::string out;
  for (const auto &d : s.diagnostics)
    out += d.loc.path + ":" + std::to_string(d.loc.line) + ": " + d.message + "\n";
  return out;
}

} // namespace

TEST(DpkgStatus, ParsesFixtureAndReportsMalformedStanzas) {
  test::TempRoot root;
  root.write("/var/lib/dpkg/status", k_fixture);
  RootFs fs(root.path());
  auto st = parse_dpkg_status(fs);
  ASSERT_TRUE(st.ok()) << st.error().to_string();

  std::vector<std::string> names;
  for (const auto &p : st->packages)
    names.push_back(p.name);
  EXPECT_EQ(names,
            (std::vector<std::string>{"libc6", "openssh-server", "oldpkg", "warned", "zlib1g"}))
      << dump(*st);

  const InstalledPackage &libc = st->packages[0];
  EXPECT_EQ(libc.loc, (SourceLocation{"/var/lib/dpkg/status", 1}));
  EXPECT_EQ(libc.status, "install ok installed");
  EXPECT_EQ(libc.state, "installed");
  EXPECT_EQ(libc.architecture, "amd64");
  EXPECT_EQ(libc.version_text, "2.36-9+deb12u4");
  ASSERT_TRUE(libc.version.has_value());
  EXPECT_EQ(libc.version->revision, "9+deb12u4");
  EXPECT_EQ(libc.source_name, "glibc");
  EXPECT_EQ(libc.source_version, "2.36-9+deb12u4");

  const InstalledPackage &ssh = st->packages[1];
  EXPECT_EQ(ssh.loc.line, 14);
  EXPECT_EQ(ssh.want, "hold"); // case-insensitive field names
  EXPECT_TRUE(ssh.installed());
  EXPECT_EQ(ssh.version->epoch, 1u);
  EXPECT_EQ(ssh.source_name, "openssh");
  EXPECT_EQ(ssh.source_version, "1:9.2p1-2+deb12u2");

  const InstalledPackage &old = st->packages[2];
  EXPECT_EQ(old.status, "deinstall ok config-files"); // kept as given
  EXPECT_FALSE(old.installed());
  EXPECT_FALSE(old.files_present());

  EXPECT_EQ(st->packages[3].state, "half-installed");
  EXPECT_TRUE(st->packages[3].files_present());
  EXPECT_EQ(st->packages[4].loc.line, 57);

  EXPECT_EQ(st->installed_count(), 3u);
  ASSERT_NE(st->find_installed("openssh-server", "amd64"), nullptr);
  EXPECT_EQ(st->find_installed("openssh-server", "arm64"), nullptr);
  EXPECT_EQ(st->find_installed("oldpkg"), nullptr);

  EXPECT_TRUE(st->has_errors());
  EXPECT_TRUE(has_diag(*st, 29, "field name 'this' must be followed by colon")) << dump(*st);
  EXPECT_TRUE(has_diag(*st, 32, "missing 'Package' field")) << dump(*st);
  EXPECT_TRUE(has_diag(*st, 36, "third (status) word in 'Status' field")) << dump(*st);
  EXPECT_TRUE(has_diag(*st, 41, "revision number is empty")) << dump(*st);
  EXPECT_TRUE(has_diag(*st, 46, "duplicate value for 'version' field")) << dump(*st);
  EXPECT_TRUE(has_diag(*st, 48, "missing 'Version' field")) << dump(*st);
  EXPECT_TRUE(
      has_diag(*st, 55, "invalid character in version number", StatusDiagnostic::Level::warning))
      << dump(*st);
  EXPECT_EQ(st->diagnostics.size(), 7u) << dump(*st);
}

TEST(DpkgStatus, TruncatedFileKeepsTheCompleteStanzas) {
  std::string text = k_fixture;
  text += "\nPackage: cut\nStatus: install ok inst"; // lines 61..63, no final newline
  auto st = parse_dpkg_status_text("/var/lib/dpkg/status", text);
  EXPECT_EQ(st.packages.size(), 5u) << dump(st);
  EXPECT_EQ(st.packages.back().name, "zlib1g");
  EXPECT_TRUE(has_diag(st, 63, "end of file during value of field 'Status'")) << dump(st);

  // Cut inside a field name, and right after the colon.
  st = parse_dpkg_status_text("s", "Package: a\nStatus: install ok installed\nVersion: 1\n\nPack");
  EXPECT_EQ(st.packages.size(), 1u);
  EXPECT_TRUE(has_diag(st, 5, "end of file after field name 'Pack'")) << dump(st);
  st = parse_dpkg_status_text("s", "Package: a\nVersion:");
  EXPECT_TRUE(st.packages.empty());
  EXPECT_TRUE(has_diag(st, 2, "end of file before value of field 'Version'")) << dump(st);
}

TEST(DpkgStatus, SyntaxCornerCases) {
  // A whitespace-only line does not separate stanzas (dpkg's lax parser
  // warns); a continuation line at the start of a stanza is an empty name.
  auto st = parse_dpkg_status_text(
      "s", "Package: a\nStatus: install ok installed\nVersion: 1\nDescription: x\n \n y\n"
           "\n  leading\nPackage: b\n\n-Field: x\nPackage: c\n\nPackage: d\nStatus: install ok "
           "installed extra\nVersion: 1\n\nPackage: Bad_Name!\nVersion: 1\n");
  ASSERT_EQ(st.packages.size(), 1u) << dump(st);
  EXPECT_EQ(st.packages[0].name, "a");
  EXPECT_TRUE(has_diag(st, 5, "blank line in value of field 'Description'",
                       StatusDiagnostic::Level::warning))
      << dump(st);
  EXPECT_TRUE(has_diag(st, 8, "empty field name")) << dump(st);
  EXPECT_TRUE(has_diag(st, 11, "cannot start with hyphen")) << dump(st);
  EXPECT_TRUE(has_diag(st, 15, "has trailing junk")) << dump(st);
  EXPECT_TRUE(has_diag(st, 18, "invalid package name")) << dump(st);

  // CRLF: '\r' is whitespace to dpkg, trimmed from values.
  st =
      parse_dpkg_status_text("s", "Package: a\r\nStatus: install ok installed\r\nVersion: 1.0\r\n");
  ASSERT_EQ(st.packages.size(), 1u) << dump(st);
  EXPECT_EQ(st.packages[0].version_text, "1.0");

  EXPECT_TRUE(parse_dpkg_status_text("s", "").packages.empty());
  EXPECT_TRUE(parse_dpkg_status_text("s", "\n\n\n").diagnostics.empty());
}

TEST(DpkgStatus, AbsentFileIsAnError) {
  test::TempRoot root;
  RootFs fs(root.path());
  auto st = parse_dpkg_status(fs);
  ASSERT_FALSE(st.ok());
  EXPECT_TRUE(st.error().not_found());
}

// The debootstrapped Debian root's database (not this machine's, whose
// packages differ from one host to the next), read by us and by dpkg-query.
TEST(DpkgStatus, DebianRootAgreesWithDpkgQuery) {
  std::string root;
  BULWARK_REQUIRE_DEBIAN_ROOT(root);
  BULWARK_REQUIRE_TOOL("/usr/bin/dpkg-query") << "(Debian package dpkg)";
  RootFs fs(root);
  auto st = parse_dpkg_status(fs);
  ASSERT_TRUE(st.ok()) << st.error().to_string();
  EXPECT_FALSE(st->has_errors()) << dump(*st);
  EXPECT_GT(st->installed_count(), 50u);

  auto q = test::run_command("LC_ALL=C /usr/bin/dpkg-query --admindir=" + root +
                             "/var/lib/dpkg -W -f "
                             "'${db:Status-Status} ${Package} ${Architecture} ${Version}\\n'");
  ASSERT_EQ(q.exit_code, 0) << q.err;
  std::istringstream in(q.out);
  size_t installed = 0;
  for (std::string line; std::getline(in, line);) {
    std::istringstream fields(line);
    std::string state, name, arch, version;
    fields >> state >> name >> arch >> version;
    if (state != "installed")
      continue;
    ++installed;
    const InstalledPackage *p = st->find_installed(name, arch);
    ASSERT_NE(p, nullptr) << line;
    EXPECT_EQ(p->version_text, version) << line;
  }
  EXPECT_EQ(st->installed_count(), installed);
}
