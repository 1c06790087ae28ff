// os-release(5) and GRUB's defaults: shell-style assignments without a
// shell, compared with what sh itself makes of the same lines.

#include "../support.hpp"

#include <bulwark/parse/grub.hpp>
#include <bulwark/parse/os_release.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

TEST(OsRelease, DebianFileWithQuotesEscapesAndComments) {
  auto r = osrelease::parse_os_release("PRETTY_NAME=\"Debian GNU/Linux 12 (bookworm)\"\n"
                                       "# a comment\n"
                                       "\n"
                                       "ID=debian\n"
                                       "VERSION_CODENAME=bookworm\n"
                                       "NAME='single $HOME \\n'\n"
                                       "VARIANT=\"a \\\"b\\\" \\$c \\\\ \\x\"\n"
                                       "ID=ubuntu\n",
                                       "/etc/os-release");
  EXPECT_TRUE(r.diagnostics.empty());
  EXPECT_EQ(r.value("PRETTY_NAME"), "Debian GNU/Linux 12 (bookworm)");
  EXPECT_EQ(r.value("NAME"), "single $HOME \\n");     // literal in single quotes
  EXPECT_EQ(r.value("VARIANT"), "a \"b\" $c \\ \\x"); // \x is no escape in "..."
  EXPECT_EQ(r.value("ID"), "ubuntu");                 // the later assignment wins
  EXPECT_EQ(r.fields.at("ID").loc.line, 8);
  EXPECT_EQ(r.value("ABSENT"), "");
}

TEST(OsRelease, MalformedLinesAreReportedWithTheirLine) {
  auto r = osrelease::parse_os_release("ID=debian\n"
                                       "not an assignment\n"
                                       "NAME=\"unclosed\n"
                                       "1KEY=x\n"
                                       "KEY=two words\n"
                                       "VERSION_ID=\"12\"",
                                       "/etc/os-release");
  ASSERT_EQ(r.diagnostics.size(), 4u);
  EXPECT_EQ(r.diagnostics[0].line, 2);
  EXPECT_EQ(r.diagnostics[1].line, 3);
  EXPECT_EQ(r.diagnostics[2].line, 4);
  EXPECT_EQ(r.diagnostics[3].line, 5);
  EXPECT_EQ(r.value("ID"), "debian");
  EXPECT_EQ(r.value("VERSION_ID"), "12"); // the last line without its newline
  EXPECT_EQ(r.value("NAME"), "");
  // Huge values and many lines are read whole.
  std::string big(200000, 'a');
  auto h = osrelease::parse_os_release("X=" + big + "\n", "/p");
  EXPECT_EQ(h.value("X").size(), big.size());
}

TEST(OsRelease, EtcWinsUsrLibOnlyWhenEtcIsAbsent) {
  TempRoot r;
  r.write("/usr/lib/os-release", "ID=debian\nVERSION_CODENAME=bookworm\n");
  RootFs fs(r.path());
  auto lib = osrelease::load_os_release(fs);
  ASSERT_TRUE(lib.ok());
  EXPECT_EQ(lib->path, "/usr/lib/os-release");
  r.symlink("../usr/lib/os-release", "/etc/os-release"); // Debian's layout
  EXPECT_EQ(osrelease::load_os_release(fs)->value("VERSION_CODENAME"), "bookworm");
  ::unlink(r.host("/etc/os-release").c_str());
  r.mkdir("/etc/os-release"); // exists but cannot be read as a file
  auto bad = osrelease::load_os_release(fs);
  ASSERT_FALSE(bad.ok());
  EXPECT_FALSE(bad.error().not_found());
  TempRoot empty;
  auto none = osrelease::load_os_release(RootFs(empty.path()));
  ASSERT_FALSE(none.ok());
  EXPECT_TRUE(none.error().not_found());
}

TEST(OsRelease, ValuesEqualWhatShSources) {
  // The real shell on the same lines (os-release is meant to be sourceable).
  TempRoot r;
  std::string text = "A=\"x \\\"y\\\" \\$z\"\nB='q $w'\nC=plain\nD=\"\"\nE=a\\ b\n";
  r.write("/os-release", text);
  auto sh = test::run_command(". " + r.host("/os-release") +
                              " && printf '%s|%s|%s|%s|%s' \"$A\" \"$B\" \"$C\" \"$D\" \"$E\"");
  ASSERT_EQ(sh.exit_code, 0) << sh.err;
  auto ours = osrelease::parse_os_release(text, "/os-release");
  EXPECT_EQ(ours.value("A") + "|" + ours.value("B") + "|" + ours.value("C") + "|" +
                ours.value("D") + "|" + ours.value("E"),
            sh.out);
}

TEST(DefaultGrub, LastAssignmentWinsAndVariablesExpandOutsideSingleQuotes) {
  grub::DefaultGrub g;
  grub::parse_default_grub("GRUB_CMDLINE_LINUX=\"quiet\"\n"
                           "export GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX apparmor=1\"\n"
                           "GRUB_CMDLINE_LINUX_DEFAULT='${GRUB_CMDLINE_LINUX} x' # comment\n"
                           "GRUB_TIMEOUT=5 echo ignored\n"
                           "if [ -x /bin/true ]; then :; fi\n"
                           "GRUB_X=a#b\n",
                           "/etc/default/grub", g);
  EXPECT_TRUE(g.diagnostics.empty());
  EXPECT_EQ(g.vars.at("GRUB_CMDLINE_LINUX").value, "quiet apparmor=1");
  EXPECT_EQ(g.vars.at("GRUB_CMDLINE_LINUX").loc.line, 2);
  EXPECT_EQ(g.vars.at("GRUB_CMDLINE_LINUX_DEFAULT").value, "${GRUB_CMDLINE_LINUX} x");
  EXPECT_EQ(g.vars.at("GRUB_TIMEOUT").value, "5");
  EXPECT_EQ(g.vars.at("GRUB_X").value, "a#b"); // '#' starts a comment only after a blank
  EXPECT_EQ(g.cmdline(), "quiet apparmor=1 ${GRUB_CMDLINE_LINUX} x");
  EXPECT_EQ(grub::cmdline_param(g.cmdline(), "apparmor"), "1");
  EXPECT_EQ(grub::cmdline_param(g.cmdline(), "security"), std::nullopt);
}

TEST(DefaultGrub, UnclosedQuotesAndBracesAreReported) {
  grub::DefaultGrub g;
  grub::parse_default_grub("GRUB_CMDLINE_LINUX=\"quiet\n"
                           "GRUB_CMDLINE_LINUX_DEFAULT=${GRUB_CMDLINE_LINUX\n"
                           "GRUB_TIMEOUT='5",
                           "/etc/default/grub", g);
  ASSERT_EQ(g.diagnostics.size(), 3u);
  EXPECT_EQ(g.diagnostics[0].line, 1);
  EXPECT_EQ(g.diagnostics[1].line, 2);
  EXPECT_EQ(g.diagnostics[2].line, 3);
  EXPECT_TRUE(g.vars.empty());
}

TEST(DefaultGrub, GrubDFilesFollowInGlobOrderAndUnreadableOnesAreErrors) {
  TempRoot r;
  r.write("/etc/default/grub", "GRUB_CMDLINE_LINUX=\"a\"\n");
  r.write("/etc/default/grub.d/50-b.cfg", "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX b\"\n");
  r.write("/etc/default/grub.d/10-c.cfg", "GRUB_CMDLINE_LINUX=\"$GRUB_CMDLINE_LINUX c\"\n");
  r.write("/etc/default/grub.d/ignored.conf", "GRUB_CMDLINE_LINUX=\"no\"\n");
  RootFs fs(r.path());
  auto g = grub::load_default_grub(fs);
  EXPECT_TRUE(g.read_errors.empty());
  EXPECT_EQ(g.vars.at("GRUB_CMDLINE_LINUX").value, "a c b");
  EXPECT_EQ(g.vars.at("GRUB_CMDLINE_LINUX").loc.path, "/etc/default/grub.d/50-b.cfg");
  r.mkdir("/etc/default/grub.d/60-dir.cfg");
  auto bad = grub::load_default_grub(fs);
  ASSERT_EQ(bad.read_errors.size(), 1u);
  EXPECT_EQ(bad.read_errors[0].path, "/etc/default/grub.d/60-dir.cfg");
}

TEST(DefaultGrub, ValuesEqualWhatShSources) {
  TempRoot r;
  std::string text = "A=\"x y\"\nB=\"$A z\"\nC='$A'\nD=\"q\\\"r\\\\s\\t\"\nE=a#b\n";
  r.write("/grub", text);
  auto sh = test::run_command(". " + r.host("/grub") +
                              " && printf '%s|%s|%s|%s|%s' \"$A\" \"$B\" \"$C\" \"$D\" \"$E\"");
  ASSERT_EQ(sh.exit_code, 0) << sh.err;
  grub::DefaultGrub g;
  grub::parse_default_grub(text, "/grub", g);
  std::string ours;
  for (const char *k : {"A", "B", "C", "D", "E"})
    ours += (ours.empty() ? "" : "|") + g.vars.at(k).value;
  EXPECT_EQ(ours, sh.out);
}
