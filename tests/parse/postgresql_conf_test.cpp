// postgresql.conf: guc-file.l's lexer and ParseConfigFp's line grammar,
// includes, last-wins, auto.conf, and the GUC value helpers. The same trees
// are checked against `postgres -C` in tests/live/postgres_oracle_test.cpp.

#include "../support.hpp"

#include <bulwark/parse/postgresql_conf.hpp>

#include <chrono>
#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

std::string val(const pg::Config &c, const std::string &n) {
  auto *s = c.get(n);
  return s ? s->value : "<unset>";
}

} // namespace

TEST(PostgresqlConf, AssignmentFormsQuotingAndComments) {
  auto c = pg::parse_conf_text("/p.conf", "ssl = on\n"
                                          "Port 5433   # trailing comment\n"
                                          "listen_addresses='*'\n"
                                          "log_line_prefix = '%m [%p] it''s \\'x\\' \\n\\101'\n"
                                          "  # only a comment\n"
                                          "\n"
                                          "search_path = '\"$user\", public'\n"
                                          "my.custom = unquoted/path:x-y.z\n"
                                          "shared_buffers = 128MB\n"
                                          "ratio = -1.5e3\n");
  EXPECT_FALSE(c.has_errors()) << c.diagnostics.front().message;
  EXPECT_EQ(val(c, "ssl"), "on");
  EXPECT_EQ(val(c, "port"), "5433");
  EXPECT_EQ(val(c, "PORT"), "5433"); // names compare case-insensitively
  EXPECT_EQ(c.get("port")->loc.line, 2);
  EXPECT_EQ(val(c, "listen_addresses"), "*");
  EXPECT_EQ(val(c, "log_line_prefix"), "%m [%p] it's 'x' \nA");
  EXPECT_EQ(val(c, "search_path"), "\"$user\", public");
  EXPECT_EQ(val(c, "my.custom"), "unquoted/path:x-y.z");
  EXPECT_EQ(val(c, "shared_buffers"), "128MB");
  EXPECT_EQ(val(c, "ratio"), "-1.5e3");
}

TEST(PostgresqlConf, LastValueWins) {
  auto c = pg::parse_conf_text("/p.conf", "ssl = on\nlog_statement = ddl\nSSL = off\n");
  EXPECT_EQ(val(c, "ssl"), "off");
  EXPECT_EQ(c.get("ssl")->loc.line, 3);
  EXPECT_EQ(c.assignments.size(), 3u);
}

TEST(PostgresqlConf, SyntaxErrorsNameTheLineAndTheRestIsRead) {
  auto c = pg::parse_conf_text("/p.conf", "ssl = on\n"
                                          "= 5\n"                  // no name
                                          "port = 5432 5433\n"     // two values
                                          "work_mem =\n"           // no value
                                          "name = 'unterminated\n" // string never closes
                                          "1abc = 2\n" // a name cannot start with a digit
                                          "max_connections = 50\n");
  std::vector<int> lines;
  for (auto &d : c.diagnostics)
    lines.push_back(d.loc.line);
  EXPECT_EQ(lines, (std::vector<int>{2, 3, 4, 5, 6}));
  EXPECT_NE(c.diagnostics[2].message.find("near end of line"), std::string::npos);
  EXPECT_EQ(val(c, "ssl"), "on");
  EXPECT_EQ(val(c, "max_connections"), "50");
  EXPECT_EQ(val(c, "port"), "<unset>");
}

TEST(PostgresqlConf, HundredErrorsAbandonTheFile) {
  std::string t;
  for (int i = 0; i < 150; i++)
    t += "!!\n";
  t += "ssl = on\n";
  auto c = pg::parse_conf_text("/p.conf", t);
  EXPECT_EQ(c.diagnostics.size(), 101u);
  EXPECT_EQ(val(c, "ssl"), "<unset>");
}

TEST(PostgresqlConf, IncludesAreRelativeToTheIncludingFile) {
  TempRoot r;
  r.write("/etc/postgresql/15/main/postgresql.conf",
          "ssl = off\ninclude 'sub/a.conf'\ninclude_if_exists = 'missing.conf'\n"
          "include_dir 'conf.d'\nport = 5433\n");
  r.write("/etc/postgresql/15/main/sub/a.conf", "ssl = on\ninclude 'b.conf'\n");
  r.write("/etc/postgresql/15/main/sub/b.conf", "log_statement = 'ddl'\n");
  // include_dir: only *.conf, no dot files, strcmp order, directories skipped.
  r.write("/etc/postgresql/15/main/conf.d/10-a.conf", "work_mem = 1MB\nport = 1\n");
  r.write("/etc/postgresql/15/main/conf.d/9-b.conf", "work_mem = 2MB\n");
  r.write("/etc/postgresql/15/main/conf.d/B.conf", "work_mem = 3MB\n");
  r.write("/etc/postgresql/15/main/conf.d/a.conf", "work_mem = 4MB\n");
  r.write("/etc/postgresql/15/main/conf.d/.hidden.conf", "work_mem = 99MB\n");
  r.write("/etc/postgresql/15/main/conf.d/x.conf.bak", "work_mem = 98MB\n");
  r.write("/etc/postgresql/15/main/conf.d/.conf", "work_mem = 97MB\n");
  r.mkdir("/etc/postgresql/15/main/conf.d/dir.conf");
  RootFs fs(r.path());
  auto c = pg::load_postgresql_conf(fs, "/etc/postgresql/15/main/postgresql.conf");
  EXPECT_FALSE(c.has_errors()) << c.diagnostics.front().message;
  EXPECT_EQ(val(c, "ssl"), "on");
  EXPECT_EQ(c.get("ssl")->loc.path, "/etc/postgresql/15/main/sub/a.conf");
  EXPECT_EQ(val(c, "log_statement"), "ddl");
  EXPECT_EQ(val(c, "work_mem"), "4MB");
  EXPECT_EQ(c.get("work_mem")->loc.path, "/etc/postgresql/15/main/conf.d/a.conf");
  EXPECT_EQ(val(c, "port"), "5433"); // after the include_dir
  std::vector<std::string> want = {
      "/etc/postgresql/15/main/postgresql.conf", "/etc/postgresql/15/main/sub/a.conf",
      "/etc/postgresql/15/main/sub/b.conf",      "/etc/postgresql/15/main/conf.d/10-a.conf",
      "/etc/postgresql/15/main/conf.d/9-b.conf", "/etc/postgresql/15/main/conf.d/B.conf",
      "/etc/postgresql/15/main/conf.d/a.conf"};
  EXPECT_EQ(c.files, want);
}

TEST(PostgresqlConf, MissingIncludeIsAnErrorButIncludeIfExistsIsNot) {
  TempRoot r;
  r.write("/p.conf", "include_if_exists 'nope.conf'\ninclude 'gone.conf'\ninclude_dir 'nodir'\n");
  RootFs fs(r.path());
  pg::Config c;
  pg::parse_conf_file(fs, "/p.conf", true, c);
  ASSERT_EQ(c.diagnostics.size(), 3u);
  EXPECT_EQ(c.diagnostics[0].level, pg::Diagnostic::Level::info);
  EXPECT_EQ(c.diagnostics[1].level, pg::Diagnostic::Level::error);
  EXPECT_EQ(c.diagnostics[1].loc.line, 2);
  EXPECT_EQ(c.diagnostics[2].loc.line, 3);
}

TEST(PostgresqlConf, IncludeLoopStopsAtTheDepthLimit) {
  TempRoot r;
  r.write("/a.conf", "ssl = on\ninclude 'b.conf'\n");
  r.write("/b.conf", "include 'a.conf'\n");
  RootFs fs(r.path());
  auto start = std::chrono::steady_clock::now();
  pg::Config c;
  pg::parse_conf_file(fs, "/a.conf", true, c);
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            bulwark::test::hang_bound(std::chrono::seconds(2)));
  ASSERT_TRUE(c.has_errors());
  EXPECT_NE(c.diagnostics.back().message.find("maximum nesting depth"), std::string::npos);
  EXPECT_EQ(val(c, "ssl"), "on");
}

TEST(PostgresqlConf, IncludeCannotLeaveTheRoot) {
  TempRoot r;
  r.write("/etc/p.conf", "include '../../../../../../etc/passwd'\n");
  r.write("/etc/passwd", "ssl = on\n"); // the target's own /etc/passwd, not the host's
  RootFs fs(r.path());
  pg::Config c;
  pg::parse_conf_file(fs, "/etc/p.conf", true, c);
  EXPECT_EQ(val(c, "ssl"), "on");
  EXPECT_EQ(c.files.back(), "/etc/passwd");
}

TEST(PostgresqlConf, AutoConfInTheDataDirectoryWinsButNotForDataDirectory) {
  TempRoot r;
  r.write("/etc/postgresql/15/main/postgresql.conf",
          "data_directory = '/var/lib/postgresql/15/main'\nssl = on\npassword_encryption = "
          "scram-sha-256\n");
  r.write("/var/lib/postgresql/15/main/postgresql.auto.conf",
          "# Do not edit this file manually!\npassword_encryption = 'md5'\ndata_directory = "
          "'/elsewhere'\n");
  RootFs fs(r.path());
  auto c = pg::load_postgresql_conf(fs, "/etc/postgresql/15/main/postgresql.conf");
  EXPECT_EQ(val(c, "password_encryption"), "md5");
  EXPECT_EQ(c.get("password_encryption")->loc.path,
            "/var/lib/postgresql/15/main/postgresql.auto.conf");
  EXPECT_EQ(c.get("password_encryption")->loc.line, 2);
  EXPECT_EQ(val(c, "data_directory"), "/var/lib/postgresql/15/main");
}

TEST(PostgresqlConf, HostileInput) {
  // NUL bytes, invalid UTF-8 (bytes >= 0x80 are letters to the lexer), CR,
  // a very long line.
  std::string t = std::string("ssl = on\0\nport = 1\n", 19) + "n\xff\xfe = v\xc3\r\n" +
                  std::string(200000, 'x') + " = y\n";
  auto c = pg::parse_conf_text("/p.conf", t);
  EXPECT_EQ(val(c, "n\xff\xfe"), "v\xc3");
  EXPECT_EQ(val(c, std::string(200000, 'x')), "y");
  EXPECT_EQ(c.get("port")->loc.line, 2);
  // A file above the size cap is an error, not a read.
  TempRoot r;
  r.write("/big.conf", std::string(17 * 1024 * 1024, '#'));
  RootFs fs(r.path());
  pg::Config big;
  pg::parse_conf_file(fs, "/big.conf", true, big);
  EXPECT_TRUE(big.has_errors());
}

TEST(PostgresqlConf, LargeValidFileIsFast) {
  std::string t;
  while (t.size() < 10 * 1024 * 1024)
    t += "work_mem = '4MB' # comment\n";
  auto start = std::chrono::steady_clock::now();
  auto c = pg::parse_conf_text("/p.conf", t);
  auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                  start)
                .count();
  EXPECT_EQ(val(c, "work_mem"), "4MB");
  EXPECT_LT(std::chrono::milliseconds(ms), bulwark::test::hang_bound(std::chrono::seconds(5)));
}

TEST(PostgresqlConf, BooleansAsParseBool) {
  for (const char *t : {"on", "ON", "true", "t", "TRU", "yes", "y", "1"})
    EXPECT_EQ(pg::parse_bool(t), std::optional<bool>(true)) << t;
  for (const char *f : {"off", "OF", "false", "f", "no", "N", "0"})
    EXPECT_EQ(pg::parse_bool(f), std::optional<bool>(false)) << f;
  for (const char *bad : {"", "o", "onn", "2", "yess", " on", "truee"})
    EXPECT_FALSE(pg::parse_bool(bad).has_value()) << bad;
}

TEST(PostgresqlConf, IntegersWithUnitsAsParseInt) {
  EXPECT_EQ(pg::parse_int("100"), 100);
  EXPECT_EQ(pg::parse_int("0x10"), 16);
  EXPECT_EQ(pg::parse_int("010"), 8); // strtol base 0: octal
  EXPECT_EQ(pg::parse_int("128MB", "8kB"), 16384);
  EXPECT_EQ(pg::parse_int("1GB", "kB"), 1048576);
  EXPECT_EQ(pg::parse_int("1.5MB", "kB"), 1536);
  EXPECT_EQ(pg::parse_int("64 kB", "kB"), 64);
  EXPECT_FALSE(pg::parse_int("64kb", "kB")); // units are case-sensitive
  EXPECT_FALSE(pg::parse_int("64kB"));       // no unit allowed
  EXPECT_EQ(pg::parse_int("1min", "ms"), 60000);
  EXPECT_EQ(pg::parse_int("1h", "s"), 3600);
  EXPECT_EQ(pg::parse_int("1.5s", "ms"), 1500);
  EXPECT_EQ(pg::parse_int("90s", "min"), 2); // 1.5 min rounds to 2
  EXPECT_FALSE(pg::parse_int("abc"));
  EXPECT_FALSE(pg::parse_int("99999999999"));
}
