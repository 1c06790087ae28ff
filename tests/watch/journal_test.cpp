// The systemd journal as a source: journal files made by systemd's own
// systemd-journal-remote from export-format entries, read by `bulwark watch`
// through sd_journal with unit matches; the cursor persisted so that a
// restart reads only the entries that came after.
#include "../support.hpp"

#include <fmt/format.h>
#include <gtest/gtest.h>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;
const char *k_remote = "/lib/systemd/systemd-journal-remote";

std::string entry(int64_t sec, const std::string &unit, const std::string &ident,
                  const std::string &msg) {
  return fmt::format("__REALTIME_TIMESTAMP={}000000\n__MONOTONIC_TIMESTAMP={}000000\n"
                     "_BOOT_ID=0123456789abcdef0123456789abcdef\n_HOSTNAME=h\n"
                     "SYSLOG_IDENTIFIER={}\n_PID=812\n_SYSTEMD_UNIT={}\nMESSAGE={}\n\n",
                     sec, sec - 1714000000, ident, unit, msg);
}

} // namespace

TEST(WatchJournal, UnitMatchesBanAndCursorSurvivesRestart) {
  BULWARK_REQUIRE(::access(k_remote, X_OK) == 0)
      << "needs " << k_remote << " (Debian package systemd-journal-remote) to write "
      << "journal files";
  TempRoot t;
  t.mkdir("/journal");
  std::string first;
  for (int i = 0; i < 3; ++i)
    first += entry(1714557600 + i, "ssh.service", "sshd",
                   "Failed password for root from 198.51.100.7 port 22 ssh2");
  // A process outside ssh.service claiming to be sshd is not read.
  first += entry(1714557604, "evil.service", "sshd",
                 "Failed password for root from 192.0.2.99 port 22 ssh2");
  t.write("/a.export", first);
  ASSERT_EQ(run_command(fmt::format("{} --output={} {}", k_remote, t.host("/journal/a.journal"),
                                    t.host("/a.export")))
                .exit_code,
            0);
  t.write("/watch.yaml",
          fmt::format("state_dir: {0}/state\nmetrics:\n  listen: ''\n  textfile: {0}/b.prom\n"
                      "journal:\n  units: [ssh.service]\n  directory: {0}/journal\n"
                      "jails:\n  sshd:\n    logs: []\n",
                      t.path()));
  auto slurp = [&](const std::string &f) {
    std::ifstream in(t.host(f));
    return bulwark::test::read_all(in);
  };
  auto run = [&](const std::string &extra) {
    ::unlink(t.host("/err").c_str());
    run_command(fmt::format("{{ {} watch --dry-run {} --config {} >> {} 2> {} & echo $! > {}; }}",
                            k_bin, extra, t.host("/watch.yaml"), t.host("/out"), t.host("/err"),
                            t.host("/pid")));
    for (int i = 0; i < 100 && slurp("/err").find("watching") == std::string::npos; ++i)
      ::usleep(50000);
    ::usleep(700000);
    std::string pid = slurp("/pid");
    while (!pid.empty() && pid.back() == '\n')
      pid.pop_back();
    run_command("kill -TERM " + pid);
    std::string alive = "grep -qv '^[0-9]* ([^)]*) Z' /proc/" + pid + "/stat";
    for (int i = 0; i < 100 && run_command(alive).exit_code == 0; ++i)
      ::usleep(50000);
  };
  run("--from-start");
  EXPECT_NE(slurp("/err").find("and the journal"), std::string::npos) << slurp("/err");
  EXPECT_NE(slurp("/out").find("ban sshd 198.51.100.7/32"), std::string::npos)
      << slurp("/out") << slurp("/err");
  EXPECT_EQ(slurp("/out").find("192.0.2.99"), std::string::npos);
  EXPECT_NE(slurp("/b.prom").find("bulwark_lines_read_total 3\n"), std::string::npos)
      << slurp("/b.prom");
  EXPECT_FALSE(slurp("/state/journal.cursor").empty());

  t.write("/b.export",
          entry(1714557700, "ssh.service", "sshd", "Invalid user x from 198.51.100.8 port 1"));
  ASSERT_EQ(run_command(fmt::format("{} --output={} {}", k_remote, t.host("/journal/b.journal"),
                                    t.host("/b.export")))
                .exit_code,
            0);
  run("");
  EXPECT_NE(slurp("/b.prom").find("bulwark_lines_read_total 1\n"), std::string::npos)
      << "the restart replayed or skipped: " << slurp("/b.prom") << slurp("/err");
}
