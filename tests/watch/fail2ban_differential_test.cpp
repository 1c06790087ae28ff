// Differential test against fail2ban 1.0.2's own sshd filter: on 3,000
// generated auth.log lines (bench/watch/gen-authlog.py; every sshd line has
// its own pid) `fail2ban-regex -o row` names the address it took from each
// line it matched. Wherever both match a line, the address must be the same;
// the lines only one of them counts must be of the kinds documented in
// docs/watch.md.
#include <bulwark/watch/matchers.hpp>

#include "../support.hpp"

#include <gtest/gtest.h>
#include <map>
#include <sstream>

using namespace bulwark::watch;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

TEST(WatchFail2banDifferential, SshdAddressesAgree) {
  const char *filter = "/etc/fail2ban/filter.d/sshd.conf";
  BULWARK_REQUIRE(
      !(run_command("command -v fail2ban-regex").exit_code != 0 || ::access(filter, R_OK) != 0))
      << "fail2ban-regex and its sshd filter are needed (Debian package fail2ban)";
  BULWARK_REQUIRE(run_command("command -v python3").exit_code == 0)
      << "python3 is needed to generate the log";
  TempRoot t;
  std::string log = t.host("/auth.log");
  auto gen = run_command(std::string("{ python3 ") + BULWARK_SOURCE_DIR +
                         "/bench/watch/gen-authlog.py --lines 3000 --seed 3 > " + log + "; }");
  ASSERT_EQ(gen.exit_code, 0) << gen.err;
  auto f2b = run_command(std::string("fail2ban-regex -o row ") + log + " " + filter);
  ASSERT_EQ(f2b.exit_code, 0) << f2b.err;
  // "['1.2.3.4',\t1777586400.0,\t{'mlfid': ' bastion sshd[20002]: ', ...}],"
  std::map<std::string, std::string> theirs;  // pid -> address
  std::istringstream rows(f2b.out + f2b.err); // fail2ban-regex -o writes to either
  for (std::string row; std::getline(rows, row);) {
    size_t q = row.find("['"), qe = row.find("',", 2);
    size_t p = row.find("sshd["), pe = row.find(']', p);
    if (q != 0 || qe == std::string::npos || p == std::string::npos || pe == std::string::npos)
      continue;
    theirs[row.substr(p + 5, pe - p - 5)] = row.substr(2, qe - 2);
  }
  ASSERT_GT(theirs.size(), 500u) << f2b.out.substr(0, 2000);

  std::ifstream in(log);
  BuiltinMatchers m;
  YearInference years(1714557600);
  size_t both = 0, only_ours = 0, only_theirs = 0;
  for (std::string line; std::getline(in, line);) {
    LogLine l = parse_log_line(line, years);
    if (l.prog != "sshd")
      continue;
    Event ev;
    bool ours = m.match(l, ev) && ev.addr.family != 0;
    auto it = theirs.find(std::string(l.pid));
    if (ours && it != theirs.end()) {
      ++both;
      Address a;
      ASSERT_TRUE(parse_address(it->second, a)) << it->second;
      EXPECT_EQ(format_address(ev.addr), format_address(a)) << line;
    } else if (ours) {
      // fail2ban's "normal" mode leaves preauth closes to its aggressive mode
      // and pam_unix lines to its pam-generic filter; bulwark counts both.
      ++only_ours;
      EXPECT_TRUE(ev.reason == "preauth_disconnect" || ev.reason == "pam_failure")
          << "only bulwark counts: " << line;
    } else if (it != theirs.end()) {
      ++only_theirs;
      ADD_FAILURE() << "only fail2ban counts: " << line;
    }
  }
  std::cout << "both " << both << ", only bulwark " << only_ours << ", only fail2ban "
            << only_theirs << "\n";
  EXPECT_GT(both, 500u);
}
