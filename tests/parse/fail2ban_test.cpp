// fail2ban's jail files read the way fail2ban-client 1.0.2 reads them: file
// order, [DEFAULT], [INCLUDES], interpolation, Python configparser syntax,
// time values, and hostile input.

#include "../support.hpp"

#include <bulwark/parse/fail2ban.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const f2b::Jail &jail(const f2b::Config &c, const std::string &name) {
  const f2b::Jail *j = c.jail(name);
  if (!j)
    throw std::runtime_error("no jail " + name);
  return *j;
}

f2b::Config load(const TempRoot &r) {
  RootFs fs(r.path());
  return f2b::load_fail2ban(fs);
}

// The stock Debian 12 configuration of the fail2ban package.
void debian_stock(const TempRoot &r) {
  for (const char *f :
       {"jail.conf", "paths-common.conf", "paths-debian.conf", "jail.d/defaults-debian.conf"}) {
    std::ifstream in(std::string("/etc/fail2ban/") + f);
    ASSERT_TRUE(in) << "fail2ban is not installed here (/etc/fail2ban/" << f << ")";
    r.write(std::string("/etc/fail2ban/") + f, bulwark::test::read_all(in));
  }
}

} // namespace

TEST(Fail2banParse, ReadingOrderLastFileWins) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[DEFAULT]\nmaxretry = 5\n[sshd]\nenabled = false\n");
  r.write("/etc/fail2ban/jail.d/20-b.conf", "[sshd]\nmaxretry = 8\n");
  r.write("/etc/fail2ban/jail.d/10-a.conf", "[sshd]\nmaxretry = 7\nenabled = true\n");
  r.write("/etc/fail2ban/jail.local", "[sshd]\n\nmaxretry = 4\n");
  // jail.d/*.local come after jail.local, sorted.
  r.write("/etc/fail2ban/jail.d/00-z.local", "[sshd]\nmaxretry = 2\n");
  r.write("/etc/fail2ban/jail.d/50-a.local", "# c\n[sshd]\nmaxretry = 3\n");
  auto c = load(r);
  ASSERT_FALSE(c.fatal) << c.fatal->to_string();
  auto &j = jail(c, "sshd");
  EXPECT_TRUE(j.enabled);
  EXPECT_EQ(j.enabled_setting.loc, (SourceLocation{"/etc/fail2ban/jail.d/10-a.conf", 3}));
  ASSERT_TRUE(j.maxretry_value);
  EXPECT_EQ(*j.maxretry_value, 3);
  EXPECT_EQ(j.maxretry->loc, (SourceLocation{"/etc/fail2ban/jail.d/50-a.local", 3}));
  EXPECT_EQ(j.loc, (SourceLocation{"/etc/fail2ban/jail.conf", 3}));
  std::vector<std::string> order{
      "/etc/fail2ban/jail.conf",         "/etc/fail2ban/jail.d/10-a.conf",
      "/etc/fail2ban/jail.d/20-b.conf",  "/etc/fail2ban/jail.local",
      "/etc/fail2ban/jail.d/00-z.local", "/etc/fail2ban/jail.d/50-a.local"};
  EXPECT_EQ(c.files, order);
}

TEST(Fail2banParse, SectionBeatsDefaultWhateverTheFileOrder) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[DEFAULT]\nbantime = 10m\n[sshd]\nbantime = 2h\n");
  r.write("/etc/fail2ban/jail.local", "[DEFAULT]\nbantime = 1m\nfindtime = 1d\n");
  auto c = load(r);
  auto &j = jail(c, "sshd");
  EXPECT_EQ(j.bantime->value, "2h");
  EXPECT_EQ(j.bantime->section, "sshd");
  EXPECT_EQ(j.findtime->value, "1d");
  EXPECT_EQ(j.findtime->section, "DEFAULT");
  EXPECT_EQ(j.findtime->loc, (SourceLocation{"/etc/fail2ban/jail.local", 3}));
  EXPECT_DOUBLE_EQ(*j.bantime_s, 7200);
  EXPECT_FALSE(j.enabled); // no enabled anywhere: fail2ban's default is false
  EXPECT_EQ(j.backend.value, "auto");
  EXPECT_FALSE(j.backend.defined);
}

TEST(Fail2banParse, DebianStockSshdJailReadsAuthLogThroughPathsDebian) {
  TempRoot r;
  debian_stock(r);
  auto c = load(r);
  ASSERT_FALSE(c.fatal) << c.fatal->to_string();
  EXPECT_EQ(c.files.front(), "/etc/fail2ban/paths-common.conf");
  auto &j = jail(c, "sshd");
  EXPECT_TRUE(j.enabled);
  EXPECT_EQ(j.enabled_setting.loc.path, "/etc/fail2ban/jail.d/defaults-debian.conf");
  ASSERT_TRUE(j.logpath);
  EXPECT_EQ(j.logpath->value, "/var/log/auth.log");
  EXPECT_EQ(j.logpath->raw, "%(sshd_log)s");
  EXPECT_EQ(j.logpath->loc, (SourceLocation{"/etc/fail2ban/jail.conf", 281}));
  // sshd_log (paths-common.conf:33) -> syslog_authpriv (paths-common.conf:21)
  ASSERT_EQ(j.logpath->via.size(), 2u);
  EXPECT_EQ(j.logpath->via[0], (SourceLocation{"/etc/fail2ban/paths-common.conf", 33}));
  EXPECT_EQ(j.logpath->via[1], (SourceLocation{"/etc/fail2ban/paths-common.conf", 21}));
  // backend: sshd_backend -> default_backend -> %(default/backend)s = auto
  EXPECT_EQ(j.backend.value, "auto");
  ASSERT_FALSE(j.backend.via.empty());
  EXPECT_EQ(j.backend.via.back(), (SourceLocation{"/etc/fail2ban/jail.conf", 132}));
  ASSERT_EQ(j.logpaths.size(), 1u);
  EXPECT_TRUE(j.logpaths[0].files.empty()); // no /var/log/auth.log in this root
  EXPECT_EQ(*j.maxretry_value, 5);
  EXPECT_EQ(j.bantime->value, "10m");
  // Every other stock jail is disabled, and none of them breaks anything.
  EXPECT_FALSE(jail(c, "apache-auth").enabled);
  EXPECT_GT(c.jails.size(), 50u);
}

TEST(Fail2banParse, IncludesBeforeAfterRelativeToTheFileAndLocalTwins) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf",
          "[INCLUDES]\nbefore = inc/a.conf\nafter = /etc/fail2ban/z.conf\n"
          "[DEFAULT]\nx = conf\n[j]\nenabled = true\nlogpath = %(x)s\n");
  r.write("/etc/fail2ban/inc/a.conf", "[DEFAULT]\nx = a\ny = 1\n");
  r.write("/etc/fail2ban/inc/a.local", "[DEFAULT]\ny = 2\n");
  r.write("/etc/fail2ban/z.conf", "[DEFAULT]\nx = z\n[INCLUDES]\nbefore = missing.conf\n");
  auto c = load(r);
  ASSERT_FALSE(c.fatal) << c.fatal->to_string();
  std::vector<std::string> order{"/etc/fail2ban/inc/a.conf", "/etc/fail2ban/inc/a.local",
                                 "/etc/fail2ban/jail.conf", "/etc/fail2ban/z.conf"};
  EXPECT_EQ(c.files, order);
  EXPECT_EQ(jail(c, "j").logpath->value, "z");
}

TEST(Fail2banParse, IncludeLoopsStopWithAnError) {
  TempRoot r;
  // A file including itself, or a pair including each other, is skipped by
  // fail2ban's chain check.
  r.write("/etc/fail2ban/jail.conf", "[INCLUDES]\nbefore = jail.conf\n         b.conf\n"
                                     "[j]\nenabled = true\n");
  r.write("/etc/fail2ban/b.conf", "[INCLUDES]\nbefore = jail.conf\n");
  auto c = load(r);
  EXPECT_FALSE(c.fatal);
  EXPECT_TRUE(jail(c, "j").enabled);
  // "./loop.conf" is a new string at every level: fail2ban recurses until
  // Python gives up; we stop with the line that does it.
  r.write("/etc/fail2ban/jail.local", "[INCLUDES]\nafter = ./loop.conf\n");
  r.write("/etc/fail2ban/loop.conf", "[INCLUDES]\n\nafter = ./loop.conf\n");
  auto t0 = std::chrono::steady_clock::now();
  c = load(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(2)));
  ASSERT_TRUE(c.fatal);
  EXPECT_EQ(c.fatal->path, "/etc/fail2ban/loop.conf");
  EXPECT_EQ(c.fatal->line, 3);
}

TEST(Fail2banParse, IncludeFanOutIsBounded) {
  TempRoot r;
  // Each level includes the next twice: 2^30 paths without a bound.
  std::string j = "[INCLUDES]\nbefore = l0.conf\n";
  r.write("/etc/fail2ban/jail.conf", j);
  for (int i = 0; i < 30; ++i)
    r.write("/etc/fail2ban/l" + std::to_string(i) + ".conf",
            "[INCLUDES]\nbefore = l" + std::to_string(i + 1) + ".conf\n    ./l" +
                std::to_string(i + 1) + ".conf\n");
  auto t0 = std::chrono::steady_clock::now();
  auto c = load(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(5)));
  ASSERT_TRUE(c.fatal);
  EXPECT_FALSE(c.fatal->path.empty());
  EXPECT_GT(c.fatal->line, 0);
}

TEST(Fail2banParse, InterpolationForms) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf",
          "[DEFAULT]\nlogdir = /var/log\nmaxretry = 6\nbantime = 1h\n"
          "[web]\nport = 80\n"
          "[sshd]\nmaxretry = 9\nbantime = 2h\nfindtime = %(web/port)sm\n");
  r.write("/etc/fail2ban/jail.local",
          "[sshd]\nenabled = TRUE\nlogpath = %(logdir)s/%(__name__)s.log\n"
          "maxretry = %(known/maxretry)s\n"
          "bantime = %(default/bantime)s\n"
          "filter = 100%%\n");
  auto c = load(r);
  ASSERT_FALSE(c.fatal) << c.fatal->to_string();
  auto &j = jail(c, "sshd");
  EXPECT_TRUE(j.enabled);
  EXPECT_EQ(j.logpath->value, "/var/log/sshd.log");
  EXPECT_EQ(j.maxretry->value, "9"); // the value jail.local replaced
  EXPECT_EQ(j.bantime->value, "1h");
  EXPECT_EQ(j.findtime->value, "80m");
  EXPECT_EQ(j.filter.value, "100%");
  EXPECT_EQ(j.maxretry->via.front(), (SourceLocation{"/etc/fail2ban/jail.conf", 8}));
}

TEST(Fail2banParse, InterpolationErrorsStopOnlyEnabledJails) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[off]\nbantime = %(nope)s\n"
                                     "[on]\nenabled = true\n\nbantime = %(a)s\na = %(bantime)s\n");
  auto c = load(r);
  EXPECT_EQ(jail(c, "off").errors.size(), 1u);
  ASSERT_TRUE(c.fatal);
  EXPECT_NE(c.fatal->message.find("deeper than 10"), std::string::npos) << c.fatal->message;
  EXPECT_EQ(c.fatal->path, "/etc/fail2ban/jail.conf");
  EXPECT_EQ(c.fatal->line, 6);
  r.write("/etc/fail2ban/jail.conf", "[off]\nbantime = %(nope)s\n[on]\nenabled = true\n");
  c = load(r);
  EXPECT_FALSE(c.fatal);
  // enabled is read for every section: an error there always stops fail2ban.
  r.write("/etc/fail2ban/jail.conf", "[off]\nenabled = %(nope)s\n");
  c = load(r);
  ASSERT_TRUE(c.fatal);
  EXPECT_EQ(c.fatal->line, 2);
  r.write("/etc/fail2ban/jail.conf", "[on]\nenabled = 1\nbantime = 5%\n");
  c = load(r);
  ASSERT_TRUE(c.fatal);
  EXPECT_EQ(c.fatal->line, 3);
}

TEST(Fail2banParse, PythonConfigparserSyntax) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "# comment\n"
                                     "; comment\n"
                                     "[sshd]   trailing text after the header is ignored\n"
                                     "Enabled: yes ; inline comment\n"
                                     "MaxRetry = 4#not a comment\n"
                                     "logpath = /a.log\n"
                                     "   /b.log tail\n"
                                     "# a comment line does not end the value\n"
                                     "\n"
                                     "\t/c.log\n"
                                     "bantime=1h;no space: not a comment\n"
                                     "findtime =\n"
                                     "  10m\n"
                                     "\r\n"
                                     "[weird]name]\r\n"
                                     "a = b\r");
  auto c = load(r);
  ASSERT_FALSE(c.fatal) << c.fatal->to_string();
  auto &j = jail(c, "sshd");
  EXPECT_TRUE(j.enabled);
  EXPECT_EQ(j.enabled_setting.loc.line, 4);
  EXPECT_EQ(j.maxretry->value, "4#not a comment");
  EXPECT_FALSE(j.maxretry_value); // int() fails: fail2ban sends None
  EXPECT_EQ(j.logpath->value, "/a.log\n/b.log tail\n\n/c.log");
  ASSERT_EQ(j.logpaths.size(), 4u);
  EXPECT_EQ(j.logpaths[1].pattern, "/b.log");
  EXPECT_EQ(j.logpaths[1].tail, "tail");
  EXPECT_EQ(j.logpaths[0].tail, "head");
  EXPECT_EQ(j.bantime->value, "1h;no space: not a comment");
  EXPECT_EQ(j.findtime->value, "\n10m"); // the empty first line stays
  EXPECT_DOUBLE_EQ(*j.findtime_s, 600);
  EXPECT_EQ(j.findtime->loc.line, 12);
  EXPECT_NE(c.jail("weird]name"), nullptr);
}

TEST(Fail2banParse, SyntaxErrorsAreFatalWithFileAndLine) {
  struct Case {
    const char *text;
    int line;
    const char *what;
  } cases[] = {
      {"[sshd]\nenabled = true\nenabled = false\n", 3, "twice"},
      {"[a]\n[b]\n[a]\n", 3, "twice"},
      {"x = 1\n[sshd]\n", 1, "before the first"},
      {"[sshd]\nok = 1\njunk line\nmore junk\n", 3, "not a `name = value`"},
      {"[sshd]\n = 1\n", 2, "without a name"},
      {"\xef\xbb\xbf[sshd]\n", 1, "before the first"}, // a BOM is not whitespace to Python
      {"[DEFAULT]\na = 1\n[DEFAULT]\na = 2\n", 4, "twice"},
  };
  for (auto &tc : cases) {
    TempRoot r;
    r.write("/etc/fail2ban/jail.conf", "[ok]\n");
    r.write("/etc/fail2ban/jail.local", tc.text);
    auto c = load(r);
    ASSERT_TRUE(c.fatal) << tc.text;
    EXPECT_EQ(c.fatal->path, "/etc/fail2ban/jail.local") << tc.text;
    EXPECT_EQ(c.fatal->line, tc.line) << tc.text;
    EXPECT_NE(c.fatal->message.find(tc.what), std::string::npos) << c.fatal->message;
  }
}

TEST(Fail2banParse, InvalidUtf8FileIsSkippedLikeFail2banDoes) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[sshd]\nenabled = true\nmaxretry = 3\n");
  r.write("/etc/fail2ban/jail.local", "[sshd]\nmaxretry = 9\n# \xff\xfe\n");
  auto c = load(r);
  EXPECT_FALSE(c.fatal);
  EXPECT_EQ(*jail(c, "sshd").maxretry_value, 3);
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].loc, (SourceLocation{"/etc/fail2ban/jail.local", 3}));
}

TEST(Fail2banParse, NulBytesAreKeptAndReported) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", std::string("[sshd]\nenabled = true\nfoo = a\0b\n", 32));
  auto c = load(r);
  EXPECT_FALSE(c.fatal);
  EXPECT_TRUE(jail(c, "sshd").enabled);
  ASSERT_EQ(c.diagnostics.size(), 1u);
  EXPECT_EQ(c.diagnostics[0].loc.line, 3);
}

TEST(Fail2banParse, HugeFileIsAnErrorNotAHang) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[sshd]\nenabled = true\n");
  std::string big = "[DEFAULT]\n";
  while (big.size() < 20 * 1024 * 1024)
    big += "x" + std::to_string(big.size()) + " = " + std::string(100, 'v') + "\n";
  r.write("/etc/fail2ban/jail.local", big);
  auto t0 = std::chrono::steady_clock::now();
  auto c = load(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(5)));
  ASSERT_FALSE(c.diagnostics.empty());
  EXPECT_EQ(c.diagnostics[0].loc.path, "/etc/fail2ban/jail.local");
  EXPECT_TRUE(jail(c, "sshd").enabled);
}

TEST(Fail2banParse, LogpathGlobsStayInsideTheRoot) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf",
          "[sshd]\nenabled = true\nlogpath = /var/log/auth*.log\n  /var/log/link.log\n");
  r.write("/var/log/auth.log", "");
  r.write("/var/log/auth2.log", "");
  r.write("/var/log/.auth3.log", "");                 // hidden: '*' does not match a leading '.'
  r.symlink("/var/log/missing", "/var/log/link.log"); // dangling: skipped
  auto c = load(r);
  auto &j = jail(c, "sshd");
  ASSERT_EQ(j.logpaths.size(), 2u);
  std::vector<std::string> want{"/var/log/auth.log", "/var/log/auth2.log"};
  EXPECT_EQ(j.logpaths[0].files, want);
  EXPECT_TRUE(j.logpaths[1].files.empty());
  // backend systemd ignores logpath altogether.
  r.write("/etc/fail2ban/jail.local", "[sshd]\nbackend = systemd\n");
  EXPECT_TRUE(jail(load(r), "sshd").logpaths.empty());
}

TEST(Fail2banParse, NoConfigurationIsNotPresent) {
  TempRoot r;
  r.mkdir("/etc");
  auto c = load(r);
  EXPECT_FALSE(c.present);
  EXPECT_TRUE(c.jails.empty());
  EXPECT_FALSE(c.fatal);
}

TEST(Fail2banTime, Str2secondsSpellings) {
  struct Case {
    const char *text;
    double seconds;
  } ok[] = {
      {"600", 600},
      {"10m", 600},
      {"1h", 3600},
      {"-1", -1},
      {"1d 2h", 93600},
      {"1d2h", 93600},
      {"1h30m", 5400},
      {"1hour+30min", 5400},
      {"0d 1h 30m", 5400},
      {"2w", 1209600},
      {"1mo", 2629800},
      {"1y", 31557600},
      {"1year-6mo", 15778800},
      {"1.5h", 5400},
      {" 10 m ", 600},
      {"48h", 172800},
      {"3 days", 259200},
      {"1D", 86400},
      {"5s", 5},
      {"1 2", 3},
  };
  for (auto &c : ok) {
    auto v = f2b::str2seconds(c.text);
    ASSERT_TRUE(v) << c.text;
    EXPECT_DOUBLE_EQ(*v, c.seconds) << c.text;
  }
  for (const char *bad : {"", "forever", "1x", "10 mins please", "1 2 3", "010", "1/0", "h"})
    EXPECT_FALSE(f2b::str2seconds(bad)) << bad;
}

TEST(Fail2banParse, SymlinkLoopsAndEscapesStayInsideTheRoot) {
  TempRoot r;
  r.write("/etc/fail2ban/jail.conf", "[INCLUDES]\nbefore = /../../../../etc/passwd\n"
                                     "[sshd]\nenabled = true\n");
  r.symlink("loop.conf", "/etc/fail2ban/jail.d/loop.conf");
  // Re-rooted: the root's /etc/passwd (absent), never the host's, which would
  // be a syntax error to fail2ban.
  r.symlink("/../../../../../etc/passwd", "/etc/fail2ban/jail.d/escape.conf");
  auto c = load(r);
  EXPECT_FALSE(c.fatal) << c.fatal->to_string();
  EXPECT_TRUE(jail(c, "sshd").enabled);
  std::vector<std::string> files{"/etc/fail2ban/jail.conf"};
  EXPECT_EQ(c.files, files);
}

// Issue 20: %(name)s chains ten deep, each level four copies of the one
// below, read by every option of 64 jails: 4^9 substitutions per option.
// The interpolation budget stops it with one error at the option reached,
// and the configuration is refused (fail closed).
TEST(Fail2banParse, InterpolationChainStopsAtTheBudgetWithOneError) {
  TempRoot r;
  std::string conf = "[DEFAULT]\nenabled = true\nv0 = xxxxxxxx\n";
  for (int i = 1; i < 10; i++) {
    std::string p = "%(v" + std::to_string(i - 1) + ")s";
    conf += "v" + std::to_string(i) + " = " + p + p + p + p + "\n";
  }
  conf += "bantime = %(v9)s\nfindtime = %(v9)s\nlogpath = %(v9)s\nignoreip = %(v9)s\n";
  conf += "[early]\nenabled = false\nmaxretry = 3\n";
  for (int i = 0; i < 64; i++)
    conf += "[j" + std::to_string(i) + "]\n";
  r.write("/etc/fail2ban/jail.conf", conf);
  auto t0 = std::chrono::steady_clock::now();
  f2b::Config c = load(r);
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(10)));
  ASSERT_TRUE(c.fatal);
  EXPECT_NE(c.fatal->message.find("MiB of substitutions"), std::string::npos) << c.fatal->message;
  size_t budget = 0;
  for (auto &d : c.diagnostics)
    if (d.message.find("MiB of substitutions") != std::string::npos) {
      budget++;
      EXPECT_EQ(d.level, f2b::Diagnostic::Level::error);
      EXPECT_EQ(d.loc.path, "/etc/fail2ban/jail.conf");
      EXPECT_GE(d.loc.line, 13); // one of the four options that use v9
      EXPECT_LE(d.loc.line, 16);
    }
  EXPECT_EQ(budget, 1u);
  // What was read before the budget ran out counts.
  EXPECT_FALSE(jail(c, "early").enabled);
}
