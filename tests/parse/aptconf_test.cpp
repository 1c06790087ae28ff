// apt.conf parsing: apt 2.6's semantics case by case, hostile input, and a
// differential test against the real `apt-config dump` on generated
// configurations.

#include "../support.hpp"

#include <bulwark/parse/aptconf.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <random>
#include <sstream>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

apt::AptConfig parse(std::string_view text) {
  apt::AptConfig c;
  apt::read_apt_conf_text(c, "/etc/apt/apt.conf.d/t", text);
  return c;
}

std::string dump_string(const apt::AptConfig &c, std::string_view root) {
  std::string out;
  for (auto &[k, v] : c.dump(root))
    out += k + "=" + v + "\n";
  return out;
}

} // namespace

TEST(AptConf, ScopesNestingAndLastValueWins) {
  auto c = parse("APT::Periodic::Update-Package-Lists \"0\";\n"
                 "APT {\n  Periodic {\n    update-package-lists \"1\";\n  };\n};\n");
  const apt::ConfNode *n = c.find("apt::periodic::UPDATE-PACKAGE-LISTS");
  ASSERT_NE(n, nullptr);
  EXPECT_EQ(n->value, "1");
  EXPECT_EQ(n->loc.line, 4);
  // The first spelling of a name is kept.
  EXPECT_EQ(c.full_tag(*n), "APT::Periodic::Update-Package-Lists");
  EXPECT_FALSE(c.has_errors());
}

TEST(AptConf, ListsAndClear) {
  auto c = parse("U::Origins-Pattern { \"a\"; \"b\"; };\nU::Origins-Pattern:: \"c\";\n");
  auto l = c.list("u::origins-pattern");
  ASSERT_EQ(l.size(), 3u);
  EXPECT_EQ(l[2]->value, "c");
  EXPECT_EQ(l[2]->loc.line, 2);
  auto d = parse("A::B \"1\"; A::C { \"x\"; };\n#clear A;\nA::D \"2\";\n");
  EXPECT_EQ(dump_string(d, "A"), "A=\nA::D=2\n");
}

TEST(AptConf, CommentsQuotesAndWords) {
  auto c = parse("A \"x//y\"; // comment \"\nB \"v\" # comment\n;\n"
                 "C /* in\nside */ \"z\";\nD \"a\"  \"b\";\nE%41 w%41;\nF \"p%41\";\n");
  EXPECT_EQ(c.value("A"), "x//y");
  EXPECT_EQ(c.value("B"), "v");
  EXPECT_EQ(c.value("C"), "z");
  EXPECT_EQ(c.value("D"), "a b");
  EXPECT_EQ(c.value("EA"), "wA");  // one word: %XX decoded
  EXPECT_EQ(c.value("F"), "p%41"); // a quoted value is not
  EXPECT_FALSE(c.has_errors());
}

TEST(AptConf, DoubleColonSkipsOneCharacterLikeApt) {
  auto c = parse("a::::b \"1\";\n");
  EXPECT_EQ(dump_string(c, ""), "a=\na::::b=1\n"); // apt-config dump prints the same
}

TEST(AptConf, ErrorsStopTheFileWithLine) {
  struct Case {
    const char *text;
    const char *message;
    int line;
  };
  // Messages and lines as apt-config 2.6 reports them for the same text.
  for (const Case &k : {
           Case{"A \"1\";\nB \"2\" junk;\nC \"3\";\n", "Extra junk after value", 2},
           Case{"A \"1\";\n{ B \"2\"; };\n", "Block starts with no name", 2},
           Case{"A \"1\";\nB \"unterminated;\nC \"2\";\n", "Extra junk after value", 3},
           Case{"A \"1\";\nB \"unterminated;\n", "Extra junk at end of file", 3},
           Case{"A \"1\";\nB { C \"1\";\n", "", 0}, // unclosed brace: apt accepts it
           Case{"A \"1\";\nB { #clear C; };\n", "Directives can only be done at the top level", 2},
           Case{"A \"1\";\n#clear;\n", "clear directive requires an option tree", 2},
           Case{"A \"1\";\n\"#foo\" \"x\";\n", "Unsupported directive 'foo'", 2},
           Case{"A \"ok\";\n#include /nonexistent.conf;\n", "Included from here", 2},
       }) {
    auto c = parse(k.text);
    if (k.line == 0) {
      EXPECT_FALSE(c.has_errors()) << k.text;
      continue;
    }
    ASSERT_TRUE(c.has_errors()) << k.text;
    const auto &d = c.diagnostics.back();
    EXPECT_NE(d.message.find(k.message), std::string::npos) << k.text << " -> " << d.message;
    EXPECT_EQ(d.loc.line, k.line) << k.text;
    EXPECT_EQ(c.value("A").empty(), false) << "values before the error stay: " << k.text;
  }
}

TEST(AptConf, PartNamesFollowAptsFilter) {
  for (const char *ok : {"20auto-upgrades", "50unattended-upgrades", "x.conf", "a:b", "A_1-2"})
    EXPECT_TRUE(apt::apt_conf_part_name_ok(ok)) << ok;
  for (const char *bad : {"x.disabled", "50unattended-upgrades.dpkg-old", ".hidden", "a~", "a b",
                          "x.conf.", "y.ucf-dist", "z.bak"})
    EXPECT_FALSE(apt::apt_conf_part_name_ok(bad)) << bad;
}

TEST(AptConf, LoadOrderPartsThenMainAndIncludesInsideRoot) {
  TempRoot r;
  r.write("/etc/apt/apt.conf.d/10a", "X::V \"parts\";\n#include /etc/apt/inc.conf;\n");
  r.write("/etc/apt/apt.conf.d/20b.dpkg-old", "X::V \"ignored\";\n");
  r.write("/etc/apt/apt.conf", "X::M \"main\";\n");
  r.write("/etc/apt/inc.conf", "X::I \"included\";\n");
  r.symlink("/dev/null", "/etc/apt/apt.conf.d/30masked");
  r.symlink("/etc/apt/inc.conf", "/etc/apt/apt.conf.d/40link");
  RootFs fs(r.path());
  auto c = apt::load_apt_config(fs);
  EXPECT_FALSE(c.has_errors());
  EXPECT_EQ(c.value("X::V"), "parts");
  EXPECT_EQ(c.value("X::I"), "included");
  // A part that is a symlink is read under its own name, as apt names it.
  EXPECT_EQ(c.find("X::I")->loc.path, "/etc/apt/apt.conf.d/40link");
  std::vector<std::string> want = {"/etc/apt/apt.conf.d/10a", "/etc/apt/inc.conf",
                                   "/etc/apt/apt.conf.d/40link", "/etc/apt/apt.conf"};
  EXPECT_EQ(c.files, want);
  // apt.conf is read last, so it wins over the parts.
  r.write("/etc/apt/apt.conf", "X::V \"main\";\n");
  EXPECT_EQ(apt::load_apt_config(fs).value("X::V"), "main");
}

TEST(AptConf, IncludeLoopStopsAtDepthTen) {
  TempRoot r;
  r.write("/etc/apt/apt.conf.d/10loop", "#include /etc/apt/apt.conf.d/10loop;\n");
  RootFs fs(r.path());
  auto c = apt::load_apt_config(fs);
  ASSERT_TRUE(c.has_errors());
  bool too_many = false;
  for (auto &d : c.diagnostics)
    too_many |= d.message.find("Too many nested includes") != std::string::npos;
  EXPECT_TRUE(too_many);
}

TEST(AptConf, IncludeOutsideTheRootIsReRooted) {
  TempRoot r;
  r.write("/etc/apt/apt.conf.d/10x", "#include ../../../../../../etc/hostname;\n");
  RootFs fs(r.path());
  auto c = apt::load_apt_config(fs);
  ASSERT_TRUE(c.has_errors()); // /etc/hostname of the target, which does not exist
  EXPECT_EQ(c.diagnostics.front().loc.path, "/etc/hostname");
}

TEST(AptConf, HostileInputIsBoundedAndFast) {
  auto t0 = std::chrono::steady_clock::now();
  // Deep nesting.
  std::string deep;
  for (int i = 0; i < 100000; ++i)
    deep += "a{";
  auto c1 = parse(deep);
  EXPECT_TRUE(c1.has_errors());
  EXPECT_NE(c1.diagnostics.back().message.find("nested deeper"), std::string::npos);
  // Many list items, a long line of comment markers inside quotes, NUL bytes.
  std::string many = "L {";
  for (int i = 0; i < 300000; ++i)
    many += "\"v\";";
  many += "};\n";
  auto c2 = parse(many);
  EXPECT_TRUE(c2.has_errors()); // the node limit
  std::string quotes = "A \"";
  for (int i = 0; i < 200000; ++i)
    quotes += "//#/*";
  quotes += "\";\n";
  parse(quotes);
  auto c3 = parse(std::string("A \"x\";\0junk\nB \"z\";\n", 19));
  EXPECT_EQ(c3.value("B"), "z");
  EXPECT_FALSE(c3.diagnostics.empty());
  // Unterminated comment swallows the rest without error.
  auto c4 = parse("A \"1\";\n/* never closed\nB \"2\";\n");
  EXPECT_FALSE(c4.has_errors());
  EXPECT_EQ(c4.value("B"), "");
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(5)));
}

// ---- differential against apt-config ----

namespace {

// apt's QuoteString(s, "=\"\n") as `apt-config dump` prints %F and %V.
std::string apt_quote(const std::string &s) {
  std::string out;
  char buf[4];
  for (char ch : s) {
    auto c = static_cast<unsigned char>(ch);
    if (c == '=' || c == '"' || c == '\n' || c == '%' || c <= 0x20 || c >= 0x7f) {
      snprintf(buf, sizeof buf, "%%%02x", c);
      out += buf;
    } else {
      out += ch;
    }
  }
  return out;
}

struct Gen {
  std::mt19937 rng;
  explicit Gen(unsigned seed) : rng(seed) {}
  int pick(int n) { return std::uniform_int_distribution<int>(0, n - 1)(rng); }
  template <class T> const T &one(const std::vector<T> &v) { return v[pick((int)v.size())]; }

  std::string segment() {
    static const std::vector<std::string> segs = {"A",   "a",     "B",     "Key", "key",
                                                  "x-y", "k_1",   "c:d",   "Z9",  "Periodic",
                                                  "n.m", "\"q\"", "[s t]", "p%41"};
    return one(segs);
  }
  std::string name(bool top) {
    std::string n;
    if (top)
      // "APT" exists before any file is read (apt's built-in defaults), so
      // apt keeps that spelling; the case of the names below it varies.
      n = one(std::vector<std::string>{"Bulwark", "bulwark", "BULWARK", "APT::Periodic",
                                       "APT::periodic", "Bulwark::L"});
    int k = pick(3) + (top ? 0 : 1);
    for (int i = 0; i < k; ++i)
      n += (n.empty() ? "" : "::") + segment();
    return n;
  }
  std::string value() {
    static const std::vector<std::string> vals = {"\"1\"",
                                                  "\"0\"",
                                                  "\"yes\"",
                                                  "\"a b\"",
                                                  "\"x//y\"",
                                                  "\"h#t\"",
                                                  "\"p%41\"",
                                                  "\"\"",
                                                  "\"s;c\"",
                                                  "\"b{r}\"",
                                                  "\"a\" \"b\"",
                                                  "word",
                                                  "w%41x",
                                                  "\"x  y\"",
                                                  "\"/*no*/\"",
                                                  "\"always\"",
                                                  "\"origin=Debian,label=Debian-Security\""};
    return one(vals);
  }
  std::string ws() { return one(std::vector<std::string>{" ", "  ", "\t", "\n", " \n\t"}); }

  std::string stmt(int depth, bool top, bool &broken) {
    int kind = pick(depth < 3 ? 12 : 8);
    std::string n = name(top || depth == 0);
    switch (kind) {
    case 0:
    case 1:
    case 2: return n + ws() + value() + ";";
    case 3: return n + ":: " + value() + ";";
    case 4: return top && depth == 0 ? "#clear " + name(true) + ";" : n + " " + value() + ";";
    case 5: return "// c " + value() + "\n";
    case 6: return "# c\n";
    case 7: return "/* c" + ws() + "*/ ";
    default: {
      std::string s = n + (pick(4) == 0 ? " " + value() : "") + ws() + "{" + ws();
      int k = pick(4);
      for (int i = 0; i < k; ++i)
        s += pick(3) == 0 ? value() + ";" + ws() : stmt(depth + 1, false, broken) + ws();
      return s + "};";
    }
    }
    (void)broken;
  }

  std::string file(bool &broken) {
    std::string s;
    int k = pick(8) + 1;
    for (int i = 0; i < k; ++i)
      s += stmt(0, true, broken) + ws();
    // Now and then a fault apt reports (or accepts) somewhere.
    switch (pick(40)) {
    case 0: s += "Bulwark::J \"v\" junk;\n"; break;
    case 1: s += "Bulwark::U \"unterminated;\n"; break;
    case 2: s += "{ Bulwark::N \"1\"; };\n"; break;
    case 3: s += "Bulwark::Open { Bulwark::O \"1\";\n"; break;
    case 4: s += "Bulwark::T \"no semicolon\""; break;
    case 5: s += "}; Bulwark::After \"1\";\n"; break;
    default: break;
    }
    return s;
  }
};

} // namespace

TEST(AptConf, DifferentialAgainstAptConfigDump) {
  BULWARK_REQUIRE(test::run_command("command -v apt-config").exit_code == 0)
      << "apt-config (Debian package apt) is not installed";
  constexpr int k_cases = 400;
  int compared = 0, errors_agreed = 0;
  for (int seed = 1; seed <= k_cases; ++seed) {
    Gen g(static_cast<unsigned>(seed));
    TempRoot r;
    bool broken = false;
    int files = g.pick(4) + 1;
    std::string listing;
    for (int i = 0; i < files; ++i) {
      static const std::vector<std::string> names = {
          "10a", "20b.conf", "30c", "40d.disabled", "50e~", ".60f", "70g.conf", "a:b", "Z1"};
      std::string fname = names[(seed + i * 4) % names.size()];
      std::string text = g.file(broken);
      r.write("/etc/apt/apt.conf.d/" + fname, text);
      listing += "--- " + fname + "\n" + text + "\n";
    }
    if (g.pick(2)) {
      std::string text = g.file(broken);
      r.write("/etc/apt/apt.conf", text);
      listing += "--- apt.conf\n" + text + "\n";
    }
    r.write("/bootstrap.conf", "Dir::Etc::parts \"" + r.host("/etc/apt/apt.conf.d") +
                                   "\";\nDir::Etc::main \"" + r.host("/etc/apt/apt.conf") +
                                   "\";\n");
    auto res = test::run_command("APT_CONFIG=" + r.host("/bootstrap.conf") +
                                 " apt-config -o 'APT::Config::Dump::Format=%F %V%n' dump "
                                 "Bulwark APT::Periodic");
    RootFs fs(r.path());
    auto conf = apt::load_apt_config(fs);
    bool apt_failed = res.exit_code != 0;
    ASSERT_EQ(apt_failed, conf.has_errors())
        << "seed " << seed << "\napt: " << res.err
        << "\nbulwark: " << (conf.diagnostics.empty() ? "" : conf.diagnostics.back().message)
        << "\n"
        << listing;
    if (apt_failed) {
      // apt stops at the first error of a file but goes on with the next
      // file: every "Syntax error FILE:LINE" it prints is one of ours.
      std::istringstream lines(res.err);
      for (std::string l; std::getline(lines, l);) {
        size_t at = l.find("Syntax error ");
        if (at == std::string::npos)
          continue;
        std::string where = l.substr(at + 13);
        where = where.substr(0, where.find(": "));
        bool found = false;
        for (auto &d : conf.diagnostics)
          found |= r.host(d.loc.path) + ":" + std::to_string(d.loc.line) == where;
        EXPECT_TRUE(found) << "seed " << seed << ": apt says " << l << "\n" << listing;
      }
      ++errors_agreed;
      continue;
    }
    std::string ours;
    for (const char *root : {"Bulwark", "APT::Periodic"})
      for (auto &[k, v] : conf.dump(root))
        ours += apt_quote(k) + " " + apt_quote(v) + "\n";
    ASSERT_EQ(res.out, ours) << "seed " << seed << "\n" << listing;
    ++compared;
  }
  // The generator must exercise both outcomes.
  EXPECT_GT(compared, k_cases / 2);
  EXPECT_GT(errors_agreed, 10);
  std::cout << "[          ] " << compared << " dumps equal, " << errors_agreed
            << " errors agreed\n";
}
