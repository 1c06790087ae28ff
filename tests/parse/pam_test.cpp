// The PAM reader against libpam 1.5.2's rules: Debian 12's real files, line
// assembly traps, controls, includes, dispatch, pwquality and faillock
// settings; libpwquality itself (pwscore in a chroot) as the oracle for the
// password rules.

#include "../support.hpp"

#include <bulwark/parse/pam.hpp>

#include <gtest/gtest.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <random>
#include <sstream>

using namespace bulwark;
using namespace bulwark::pam;
using bulwark::test::TempRoot;

namespace {

const std::string k_fixtures = std::string(BULWARK_SOURCE_DIR) + "/tests/data/pam/debian12";

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

// A root with Debian 12's /etc/pam.d.
void debian_pamd(const TempRoot &r) {
  for (auto &e : std::filesystem::directory_iterator(k_fixtures)) {
    std::string n = e.path().filename().string();
    if (n.find('.') == std::string::npos)
      r.write("/etc/pam.d/" + n, slurp(e.path().string()));
  }
}

Service load(const TempRoot &r, const std::string &svc) {
  RootFs fs(r.path());
  return load_service(fs, svc);
}

std::vector<std::string> names(const std::vector<Handler> &s) {
  std::vector<std::string> out;
  for (auto &h : s)
    out.push_back(h.name);
  return out;
}

} // namespace

TEST(PamParse, Debian12SshdStacksWithIncludesAndLines) {
  TempRoot r;
  debian_pamd(r);
  Service s = load(r, "sshd");
  ASSERT_FALSE(s.aborted) << s.abort_reason.message;
  EXPECT_EQ(names(s.stack(Type::auth)),
            (std::vector<std::string>{"pam_unix", "pam_deny", "pam_permit"}));
  const Handler &unix_auth = s.stack(Type::auth)[0];
  EXPECT_EQ(unix_auth.loc, (SourceLocation{"/etc/pam.d/common-auth", 17}));
  ASSERT_EQ(unix_auth.via.size(), 1u);
  EXPECT_EQ(unix_auth.via[0], (SourceLocation{"/etc/pam.d/sshd", 4}));
  EXPECT_EQ(unix_auth.actions[ret::success], 1); // [success=1 default=ignore]
  EXPECT_EQ(unix_auth.actions[ret::auth_err], act::ignore);
  EXPECT_EQ(names(s.stack(Type::password)),
            (std::vector<std::string>{"pam_unix", "pam_deny", "pam_permit"}));
  // The jump skips pam_deny on success; pam_deny is reached on failure.
  auto a = analyse(s.stack(Type::auth));
  EXPECT_TRUE(a.reached[1]);
  EXPECT_TRUE(a.can_succeed());
  EXPECT_TRUE(required_for_success(s.stack(Type::auth), 0));
  EXPECT_FALSE(required_for_success(s.stack(Type::auth), 1));
}

TEST(PamParse, ServiceWithoutOwnStackUsesOther) {
  TempRoot r;
  debian_pamd(r);
  Service s = load(r, "sudo"); // sudo has no password lines
  EXPECT_TRUE(s.uses_other(Type::password));
  ASSERT_FALSE(s.stack(Type::password).empty());
  EXPECT_EQ(s.stack(Type::password)[0].loc.path, "/etc/pam.d/common-password");
  EXPECT_EQ(s.stack(Type::password)[0].via[0], (SourceLocation{"/etc/pam.d/other", 15}));
  Service missing = load(r, "no-such-service");
  EXPECT_FALSE(missing.exists);
  EXPECT_FALSE(missing.aborted);
  EXPECT_TRUE(missing.uses_other(Type::auth));
}

TEST(PamParse, LineAssemblyContinuationCommentsAndCarriageReturn) {
  TempRoot r;
  r.write("/etc/pam.d/t", "# comment\n"
                          "auth required \\\n"
                          "# a comment inside a continuation does not end it\n"
                          "\n"
                          "   pam_env.so   readenv=1 # trailing comment \\\n"
                          "auth required pam_unix.so\r\n"
                          "AUTH Sufficient pam_permit.so #\tx\n");
  Service s = load(r, "t");
  ASSERT_FALSE(s.aborted) << s.abort_reason.message;
  const auto &st = s.conf[0];
  ASSERT_EQ(st.size(), 3u);
  EXPECT_EQ(st[0].name, "pam_env");
  EXPECT_EQ(st[0].loc.line, 2);
  EXPECT_EQ(st[0].args, (std::vector<std::string>{"readenv=1"}));
  // '\r' is not a separator for libpam: the module name keeps it.
  EXPECT_EQ(st[1].module, "pam_unix.so\r");
  EXPECT_EQ(st[1].loc.line, 6);
  EXPECT_EQ(st[2].actions[ret::success], act::done);
}

TEST(PamParse, FileEndingInContinuationAbortsTheService) {
  TempRoot r;
  r.write("/etc/pam.d/other", "auth required pam_deny.so\n");
  r.write("/etc/pam.d/t", "auth required pam_unix.so\nauth required pam_env.so \\\n");
  Service s = load(r, "t");
  EXPECT_TRUE(s.aborted);
  EXPECT_EQ(s.abort_reason.loc, (SourceLocation{"/etc/pam.d/t", 2}));
}

TEST(PamParse, BracketControlsAndArgs) {
  TempRoot r;
  r.write("/etc/pam.d/t",
          "auth [success=2 new_authtok_reqd=done default=ignore] pam_unix.so\n"
          "auth [ success = ok default=die ] pam_x.so [query=select x from t where y=\\]z] b\n"
          "auth [succes=ok] pam_y.so\n"
          "auth [success=0] pam_z.so\n"
          "-session optional pam_systemd.so\n");
  Service s = load(r, "t");
  const auto &st = s.conf[0];
  ASSERT_EQ(st.size(), 4u);
  EXPECT_EQ(st[0].actions[ret::success], 2);
  EXPECT_EQ(st[0].actions[12], act::done);
  EXPECT_EQ(st[0].actions[ret::auth_err], act::ignore);
  EXPECT_EQ(st[1].actions[ret::success], act::ok);
  EXPECT_EQ(st[1].actions[ret::auth_err], act::die);
  EXPECT_EQ(st[1].args, (std::vector<std::string>{"query=select x from t where y=]z", "b"}));
  // A bad control makes every result "bad"; a zero jump is an error too.
  EXPECT_EQ(st[2].actions[ret::success], act::bad);
  EXPECT_EQ(st[3].actions[ret::success], act::bad);
  EXPECT_TRUE(s.conf[3][0].silent);
  EXPECT_GE(s.diagnostics.size(), 2u);
}

TEST(PamParse, IncludeOnlyTakesItsTypeButAtIncludeTakesAll) {
  TempRoot r;
  r.write("/etc/pam.d/mixed", "auth required pam_a.so\npassword required pam_b.so\n");
  r.write("/etc/pam.d/t1", "auth include mixed\n");
  r.write("/etc/pam.d/t2", "@include mixed\n");
  EXPECT_EQ(load(r, "t1").conf[2].size(), 0u);
  Service t2 = load(r, "t2");
  EXPECT_EQ(t2.conf[0].size(), 1u);
  EXPECT_EQ(t2.conf[2].size(), 1u);
}

TEST(PamParse, MissingIncludes) {
  TempRoot r;
  r.write("/etc/pam.d/other", "auth required pam_deny.so\n");
  // `auth include` of a missing file: a handler that always fails.
  r.write("/etc/pam.d/t1", "auth include nothere\nauth required pam_permit.so\n");
  Service t1 = load(r, "t1");
  ASSERT_FALSE(t1.aborted);
  ASSERT_EQ(t1.conf[0].size(), 2u);
  EXPECT_TRUE(t1.conf[0][0].must_fail);
  EXPECT_FALSE(analyse(t1.conf[0]).can_succeed());
  // A top-level @include of a missing file: pam_start() fails.
  r.write("/etc/pam.d/t2", "@include nothere\n");
  Service t2 = load(r, "t2");
  EXPECT_TRUE(t2.aborted);
  EXPECT_EQ(t2.abort_reason.loc, (SourceLocation{"/etc/pam.d/t2", 1}));
}

TEST(PamParse, IncludeLoopTerminatesWithADiagnostic) {
  TempRoot r;
  r.write("/etc/pam.d/a", "auth required pam_unix.so\nauth include b\n");
  r.write("/etc/pam.d/b", "auth include a\n");
  Service s = load(r, "a");
  EXPECT_FALSE(s.aborted);
  bool loop = false;
  for (auto &d : s.diagnostics)
    loop = loop || d.message.find("include loop") != std::string::npos;
  EXPECT_TRUE(loop);
  EXPECT_FALSE(analyse(s.stack(Type::auth)).can_succeed());
  // @include loop at the top: the failed include has no type, libpam aborts.
  r.write("/etc/pam.d/c", "@include c\n");
  EXPECT_TRUE(load(r, "c").aborted);
}

TEST(PamParse, HostileInputHugeLinesNulBytesAndBigFiles) {
  TempRoot r;
  r.write("/etc/pam.d/other", "auth required pam_deny.so\n");
  // A 3000-byte line is cut by fgets(): its rest becomes more lines.
  r.write("/etc/pam.d/long", "auth required pam_unix.so " + std::string(3000, 'x') + "\n");
  Service l = load(r, "long");
  EXPECT_FALSE(l.aborted);
  EXPECT_GE(l.conf[0].size(), 2u);
  // Long continuations are cut by fgets() too, and then not continued...
  std::string cont;
  for (int i = 0; i < 40; ++i)
    cont += "auth required pam_unix.so aaaaaaaaaaaaaaaaaaaaaaaaaaaaaa \\\n";
  r.write("/etc/pam.d/cont", cont + "x\n");
  EXPECT_FALSE(load(r, "cont").aborted);
  // ...but a backslash in the buffer's last byte makes libpam spin.
  std::string head = "auth required pam_unix.so ";
  r.write("/etc/pam.d/spin", head + std::string(1022 - head.size(), 'a') + "\\\nauth x y\n");
  Service spin = load(r, "spin");
  EXPECT_TRUE(spin.aborted);
  EXPECT_NE(spin.abort_reason.message.find("forever"), std::string::npos);
  // NUL ends the line's text.
  r.write("/etc/pam.d/nul",
          std::string("auth required pam_unix.so\0 evil\nauth required pam_env.so\n", 52));
  Service n = load(r, "nul");
  ASSERT_EQ(n.conf[0].size(), 2u);
  EXPECT_TRUE(n.conf[0][0].args.empty());
  // 20 MB: beyond our cap, reported rather than parsed.
  std::string big;
  while (big.size() < 20u * 1024 * 1024)
    big += "session optional pam_env.so\n";
  r.write("/etc/pam.d/big", big);
  Service b = load(r, "big");
  EXPECT_TRUE(b.aborted);
  EXPECT_NE(b.abort_reason.message.find("limit"), std::string::npos);
  // A file of 10 MB under the cap parses in reasonable time.
  r.write("/etc/pam.d/ten", big.substr(0, 10u * 1024 * 1024));
  Service t = load(r, "ten");
  EXPECT_FALSE(t.aborted);
  EXPECT_GT(t.conf[3].size(), 300000u);
}

TEST(PamParse, DispatchSubstackConfinesDoneAndJumpPastEndFails) {
  TempRoot r;
  r.write("/etc/pam.d/sub", "auth sufficient pam_permit.so\nauth required pam_deny.so\n");
  r.write("/etc/pam.d/t", "auth substack sub\nauth required pam_oath.so\n");
  Service s = load(r, "t");
  const auto &st = s.stack(Type::auth);
  ASSERT_EQ(names(st), (std::vector<std::string>{"sub", "pam_permit", "pam_deny", "pam_oath"}));
  auto a = analyse(st);
  EXPECT_FALSE(a.reached[2]); // done ends the substack only
  EXPECT_TRUE(a.reached[3]);
  EXPECT_TRUE(required_for_success(st, 3));
  r.write("/etc/pam.d/j",
          "auth [success=5 default=ignore] pam_unix.so\nauth required pam_permit.so\n");
  Service j = load(r, "j");
  // On success the jump runs off the end ("bad jump"); on failure permit runs.
  EXPECT_FALSE(required_for_success(j.stack(Type::auth), 0));
}

TEST(PamParse, ModuleProbeMarksMissingModules) {
  TempRoot r;
  r.write("/lib/x86_64-linux-gnu/security/pam_unix.so", "");
  r.write("/etc/pam.d/t", "auth required pam_tally2.so deny=3\nauth required pam_unix.so\n");
  Service s = load(r, "t");
  EXPECT_TRUE(s.conf[0][0].module_missing);
  EXPECT_FALSE(s.conf[0][1].module_missing);
  EXPECT_EQ(possible_returns(s.conf[0][0]), (std::vector<int>{ret::module_unknown}));
}

// ---- pwquality ----

TEST(PamPwquality, MainFileOverridesDropinsAndArgsOverrideBoth) {
  TempRoot r;
  r.write("/etc/security/pwquality.conf.d/10-a.conf", "minlen = 14\nminclass=3\n");
  r.write("/etc/security/pwquality.conf.d/x.conf.conf", "minlen = 40\n"); // filtered out
  r.write("/etc/security/pwquality.conf", "# comment\nminlen=10\n");
  RootFs fs(r.path());
  PwQuality q = load_pwquality(fs);
  EXPECT_EQ(q.get("minlen"), 10);
  EXPECT_EQ(q.setting("minlen").loc, (SourceLocation{"/etc/security/pwquality.conf", 2}));
  EXPECT_EQ(q.get("minclass"), 3);
  Handler h;
  h.name = "pam_pwquality";
  h.args = {"retry=3", "minlen=16", "use_authtok", "enforce_for_root"};
  h.loc = {"/etc/pam.d/common-password", 25};
  PwQuality a = apply_module_args(q, h);
  EXPECT_EQ(a.get("minlen"), 16);
  EXPECT_EQ(a.setting("minlen").loc, h.loc);
  EXPECT_EQ(a.get("enforce_for_root"), 1);
}

TEST(PamPwquality, AnErrorStopsReadingLaterFiles) {
  TempRoot r;
  r.write("/etc/security/pwquality.conf.d/10-a.conf", "minlen = 14\nbogus = 1\nminclass = 4\n");
  r.write("/etc/security/pwquality.conf", "minlen=20\n");
  RootFs fs(r.path());
  PwQuality q = load_pwquality(fs);
  EXPECT_EQ(q.get("minlen"), 14); // the main file is never read
  EXPECT_EQ(q.get("minclass"), 0);
  ASSERT_EQ(q.diagnostics.size(), 1u);
  EXPECT_EQ(q.diagnostics[0].loc.line, 2);
  r.write("/etc/security/pwquality.conf.d/10-a.conf",
          std::string("minlen = 14\0x\nminclass = 4\n", 28));
  PwQuality n = load_pwquality(fs);
  EXPECT_EQ(n.get("minclass"), 0); // NUL inside a line: malformed
}

TEST(PamPwquality, CreditsLowerTheShortestPassword) {
  PwQuality q = cracklib_defaults(); // minlen 9, credits 1
  EXPECT_EQ(shortest_accepted(q), 5);
  q.ints["minlen"].value = 12;
  EXPECT_EQ(shortest_accepted(q), 8);
  q.ints["dcredit"].value = -1;
  q.ints["ucredit"].value = -1;
  q.ints["lcredit"].value = 0;
  q.ints["ocredit"].value = 0;
  EXPECT_EQ(shortest_accepted(q), 12);
  EXPECT_EQ(guaranteed_classes(q), 2);
  // The closed form equals a search over class counts with the predicate.
  std::mt19937 rng(7);
  auto any_of_length = [](const PwQuality &c, int n) {
    for (int d = 0; d <= n; ++d)
      for (int u = 0; d + u <= n; ++u)
        for (int l = 0; d + u + l <= n; ++l) {
          std::string pw = std::string(d, '1') + std::string(u, 'A') + std::string(l, 'a') +
                           std::string(n - d - u - l, '!');
          if (accepts_length_and_classes(c, pw))
            return true;
        }
    return false;
  };
  for (int round = 0; round < 200; ++round) {
    PwQuality c = cracklib_defaults();
    c.ints["minlen"].value = 6 + static_cast<long>(rng() % 10);
    for (const char *k : {"dcredit", "ucredit", "lcredit", "ocredit"})
      c.ints[k].value = static_cast<long>(rng() % 5) - 2;
    c.ints["minclass"].value = static_cast<long>(rng() % 5);
    int shortest = shortest_accepted(c);
    EXPECT_TRUE(any_of_length(c, shortest)) << "round " << round;
    EXPECT_FALSE(shortest > 0 && any_of_length(c, shortest - 1)) << "round " << round;
  }
}

// Differential: libpwquality 1.4.5 itself (pwscore, in a chroot so that it
// reads our generated /etc/security/pwquality.conf{,.d}) against
// load_pwquality() + accepts_length_and_classes().
TEST(PamPwquality, DifferentialAgainstPwscore) {
  BULWARK_REQUIRE(::geteuid() == 0 && std::filesystem::exists("/usr/bin/pwscore"))
      << "needs root (chroot) and pwscore (Debian package libpwquality-tools)";
  TempRoot r;
  auto ldd = test::run_command("ldd /usr/bin/pwscore");
  ASSERT_EQ(ldd.exit_code, 0);
  std::filesystem::create_directories(r.host("/usr/bin"));
  std::filesystem::copy_file("/usr/bin/pwscore", r.host("/usr/bin/pwscore"));
  std::istringstream lines(ldd.out);
  std::string word;
  while (lines >> word)
    if (word.size() > 1 && word[0] == '/') {
      std::filesystem::create_directories(r.host(std::filesystem::path(word).parent_path()));
      std::filesystem::copy_file(word, r.host(word),
                                 std::filesystem::copy_options::overwrite_existing);
    }
  std::mt19937 rng(12345);
  const std::string classes[4] = {"0123456789", "ABCDEFGHIJKLMNOPQRSTUVWXYZ",
                                  "abcdefghijklmnopqrstuvwxyz", "!%&*+,-.:;=?@^_~"};
  int compared = 0, disagreements = 0;
  for (int round = 0; round < 80; ++round) {
    std::filesystem::remove_all(r.host("/etc/security"));
    auto setting = [&](const char *k) {
      long v = k[0] == 'm' ? (std::string(k) == "minlen" ? 4 + long(rng() % 14) : long(rng() % 6))
                           : long(rng() % 7) - 3;
      return std::string(k) + (rng() % 2 ? " = " : "=") + std::to_string(v) + "\n";
    };
    std::string base = "dictcheck = 0\nusercheck=0\n";
    std::string main_file = base, dropin;
    for (const char *k : {"minlen", "dcredit", "ucredit", "lcredit", "ocredit", "minclass"}) {
      switch (rng() % 3) {
      case 0: main_file += setting(k); break;
      case 1: dropin += setting(k); break;
      default: main_file += setting(k); dropin += setting(k);
      }
    }
    r.write("/etc/security/pwquality.conf", main_file);
    if (!dropin.empty())
      r.write("/etc/security/pwquality.conf.d/50-x.conf", dropin);
    RootFs fs(r.path());
    PwQuality q = load_pwquality(fs);
    ASSERT_TRUE(q.diagnostics.empty());
    // The round's five passwords through pwscore in one shell (a
    // run_command per password cost twice what pwscore itself does): each
    // run's stderr, then its exit code after a marker.
    std::vector<std::string> pws;
    std::string script;
    for (int k = 0; k < 5; ++k) {
      std::string pw;
      size_t len = 3 + rng() % 14;
      while (pw.size() < len) {
        const std::string &c = classes[rng() % 4];
        char ch = c[rng() % c.size()];
        if (pw.find(ch) == std::string::npos) // no repeats: other rules stay quiet
          pw += ch;
      }
      pws.push_back(pw);
      script += "printf '%s\\n' '" + pw + "' | chroot " + r.path() +
                " /usr/bin/pwscore 2>&1 >/dev/null; echo \"#pwscore-rc=$?\"\n";
    }
    auto all = test::run_command("{\n" + script + "}"); // run_command redirects the group
    ASSERT_EQ(all.exit_code, 0) << all.err;
    size_t at = 0;
    for (const std::string &pw : pws) {
      size_t mark = all.out.find("#pwscore-rc=", at);
      ASSERT_NE(mark, std::string::npos) << "no exit code for " << pw << ":\n" << all.out;
      const std::string err = all.out.substr(at, mark - at);
      const int rc = std::atoi(all.out.c_str() + mark + 12);
      at = all.out.find('\n', mark);
      at = at == std::string::npos ? all.out.size() : at + 1;
      bool accepted = rc == 0;
      bool other_rule = err.find("palindrome") != std::string::npos ||
                        err.find("monotonic") != std::string::npos ||
                        err.find("simplistic") != std::string::npos ||
                        err.find("systematic") != std::string::npos;
      if (other_rule)
        continue;
      ++compared;
      if (accepted != accepts_length_and_classes(q, pw)) {
        ++disagreements;
        ADD_FAILURE() << "pw " << pw << " pwscore " << accepted << ": " << err << "\nmain:\n"
                      << main_file << "dropin:\n"
                      << dropin;
      }
    }
  }
  EXPECT_GT(compared, 300);
  EXPECT_EQ(disagreements, 0);
}

// ---- faillock ----

TEST(PamFaillock, ConfThenArgsAndConfArgument) {
  std::map<std::string, std::string> files{
      {"/etc/security/faillock.conf", "# deny = 3\n deny=4\nunlock_time = never\n"},
      {"/etc/f2.conf", "deny = 7\n"}};
  FileReader rd = [&](const std::string &p) -> Result<std::string> {
    auto it = files.find(p);
    if (it == files.end())
      return Error{"absent", p, 0, ENOENT};
    return it->second;
  };
  Handler h;
  h.name = "pam_faillock";
  h.loc = {"/etc/pam.d/common-auth", 3};
  h.args = {"preauth"};
  Faillock f = faillock_options(h, rd);
  EXPECT_EQ(f.deny.value, 4);
  EXPECT_EQ(f.deny.loc, (SourceLocation{"/etc/security/faillock.conf", 2}));
  EXPECT_EQ(f.unlock_time.value, 0);
  h.args = {"authfail", "deny=2", "conf=/etc/f2.conf"};
  Faillock g = faillock_options(h, rd);
  EXPECT_EQ(g.action, Faillock::Action::authfail);
  EXPECT_EQ(g.deny.value, 2);
  EXPECT_EQ(g.deny.loc, h.loc);
  h.args = {"conf=/etc/missing.conf"};
  EXPECT_TRUE(faillock_options(h, rd).conf_broken);
  h.args = {"deny=-1"}; // sscanf("%hu") wraps
  EXPECT_EQ(faillock_options(h, rd).deny.value, 65535);
}

// Issue 20: twelve spellings of one file (/etc/pam.d/./common, ...), each
// including all twelve, escape loop detection and read 12! files; the
// budget stops the service with one error at the include line.
TEST(PamParse, IncludeFanOutStopsAtTheBudgetWithOneError) {
  TempRoot r;
  std::string fan;
  for (int k = 0; k < 12; k++) {
    std::string alias = "/etc/pam.d/";
    for (int i = 0; i < k; i++)
      alias += "./";
    fan += "auth include " + alias + "common\n";
  }
  r.write("/etc/pam.d/svc", "auth required pam_unix.so\n@include common\n");
  r.write("/etc/pam.d/common", fan);
  auto t0 = std::chrono::steady_clock::now();
  Service s = load(r, "svc");
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(10)));
  ASSERT_TRUE(s.aborted); // fail closed: the stacks are not known
  size_t budget = 0;
  for (auto &d : s.diagnostics)
    if (d.message.find("include fan-out") != std::string::npos) {
      budget++;
      EXPECT_EQ(d.level, Diagnostic::Level::error);
      EXPECT_NE(d.loc.path.find("common"), std::string::npos) << d.loc.path;
      EXPECT_GE(d.loc.line, 1);
      EXPECT_LE(d.loc.line, 12);
    }
  EXPECT_EQ(budget, 1u);
  // 12 lines a file: the 20000 lines run out before the 4096 files.
  EXPECT_NE(s.abort_reason.message.find("more than 20000 lines"), std::string::npos)
      << s.abort_reason.message;
  EXPECT_LE(s.files.size(), 4098u);
  // What was read before the budget ran out is kept.
  ASSERT_FALSE(s.conf[static_cast<size_t>(Type::auth)].empty());
  EXPECT_EQ(s.conf[static_cast<size_t>(Type::auth)][0].name, "pam_unix");
}

TEST(PamParse, IncludedBytesBudgetIsAnErrorAtTheIncludeLine) {
  TempRoot r;
  r.write("/etc/pam.d/svc", "@include common-a\n@include common-b\n");
  r.write("/etc/pam.d/common-a", "auth required pam_unix.so\n" + std::string(100, '#') + "\n");
  r.write("/etc/pam.d/common-b", "auth required pam_deny.so\n" + std::string(100, '#') + "\n");
  LoadOptions opts;
  opts.max_total_bytes = 200;
  Service s = load_service(RootFs(r.path()), "svc", opts);
  ASSERT_TRUE(s.aborted);
  EXPECT_EQ(s.abort_reason.level, Diagnostic::Level::error);
  EXPECT_EQ(s.abort_reason.loc.path, "/etc/pam.d/svc");
  EXPECT_EQ(s.abort_reason.loc.line, 2);
  EXPECT_NE(s.abort_reason.message.find("more than 200 bytes"), std::string::npos);
  EXPECT_EQ(names(s.conf[static_cast<size_t>(Type::auth)]), std::vector<std::string>{"pam_unix"});
  // Within the budget the same files load.
  opts.max_total_bytes = 400;
  Service ok = load_service(RootFs(r.path()), "svc", opts);
  EXPECT_FALSE(ok.aborted) << ok.abort_reason.message;
  // The count of files, likewise.
  opts.max_included_files = 1;
  Service files = load_service(RootFs(r.path()), "svc", opts);
  ASSERT_TRUE(files.aborted);
  EXPECT_EQ(files.abort_reason.loc.line, 2);
  EXPECT_NE(files.abort_reason.message.find("more than 1 files"), std::string::npos);
}

TEST(PamParse, LinesBudgetIsAnErrorAtTheLineReached) {
  TempRoot r;
  r.write("/etc/pam.d/svc", "auth required pam_unix.so\n@include common\n");
  r.write("/etc/pam.d/common", "auth required pam_env.so\nauth required pam_deny.so\n");
  LoadOptions opts;
  opts.max_included_lines = 1;
  Service s = load_service(RootFs(r.path()), "svc", opts);
  ASSERT_TRUE(s.aborted);
  EXPECT_EQ(s.abort_reason.level, Diagnostic::Level::error);
  EXPECT_EQ(s.abort_reason.loc.path, "/etc/pam.d/common");
  EXPECT_EQ(s.abort_reason.loc.line, 2);
  EXPECT_NE(s.abort_reason.message.find("more than 1 lines"), std::string::npos);
  EXPECT_EQ(names(s.conf[static_cast<size_t>(Type::auth)]),
            (std::vector<std::string>{"pam_unix", "pam_env"}));
}
