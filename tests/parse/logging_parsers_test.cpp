// The logging parsers: audit rules (augenrules + auditctl), logrotate 3.21,
// rsyslog, systemd conf files and time spans. Where the real program is on
// the machine it speaks for itself: `logrotate -d`, the augenrules script,
// `ls -1v`, `systemd-analyze timespan`.

#include "../support.hpp"

#include <bulwark/core/text.hpp>
#include <bulwark/parse/auditrules.hpp>
#include <bulwark/parse/journald.hpp>
#include <bulwark/parse/log_shippers.hpp>
#include <bulwark/parse/logrotate.hpp>
#include <bulwark/parse/rsyslog.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <chrono>
#include <random>
#include <sstream>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

bool have(const std::string &program) {
  return run_command("command -v " + program).exit_code == 0;
}

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

} // namespace

// --- systemd time spans -----------------------------------------------------

TEST(JournaldTimespan, KnownValues) {
  EXPECT_EQ(*journald::parse_timespan("90d"), 90ull * journald::k_usec_per_day);
  EXPECT_EQ(*journald::parse_timespan("3month"), 7889400000000ull);
  EXPECT_EQ(*journald::parse_timespan("1y"), 31557600000000ull);
  EXPECT_EQ(*journald::parse_timespan("5 6"), 11000000ull);
  EXPECT_EQ(*journald::parse_timespan("infinity"), journald::k_usec_infinity);
  EXPECT_FALSE(journald::parse_timespan("1.d").ok());
  EXPECT_FALSE(journald::parse_timespan("12.34.56").ok());
  EXPECT_FALSE(journald::parse_timespan("-1").ok());
  EXPECT_FALSE(journald::parse_timespan("").ok());
  EXPECT_EQ(*journald::parse_size("1.5G"), 1610612736ull);
  EXPECT_EQ(*journald::parse_size("512M"), 536870912ull);
}

TEST(JournaldTimespan, DifferentialAgainstSystemdAnalyze) {
  BULWARK_REQUIRE(have("systemd-analyze")) << "systemd-analyze not installed (package systemd)";
  const char *units[] = {"",       "s",   "sec",   "min", "m",     "h",     "hr",
                         "d",      "day", "days",  "w",   "weeks", "M",     "month",
                         "months", "y",   "years", "ms",  "us",    "minute"};
  std::mt19937 rng(6);
  std::vector<std::string> spans = {"1.d", "12.34.56", "3.5h", "0",         "1y 2M 3w", "infinity",
                                    "5 6", " 7d ",     "1.5",  "2.25month", "+3d",      "3 d"};
  for (int i = 0; i < 60; ++i) {
    std::string s;
    int parts = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < parts; ++p) {
      s += std::to_string(rng() % 400);
      if (rng() % 4 == 0)
        s += "." + std::to_string(rng() % 100);
      if (rng() % 5 == 0)
        s += " ";
      s += units[rng() % std::size(units)];
      if (p + 1 < parts && rng() % 2)
        s += " ";
    }
    spans.push_back(s);
  }
  // One systemd-analyze run for all spans (a failing span stops it, so
  // each runs alone when the batch fails).
  for (const auto &s : spans) {
    auto r = run_command("systemd-analyze timespan '" + s + "'");
    auto ours = journald::parse_timespan(s);
    size_t at = r.out.find("\xce\xbcs: ");
    if (r.exit_code != 0 || at == std::string::npos) {
      EXPECT_FALSE(ours.ok()) << "'" << s << "' is rejected by systemd";
      continue;
    }
    ASSERT_TRUE(ours.ok()) << "'" << s << "': " << ours.error().message;
    EXPECT_EQ(std::to_string(*ours),
              std::string(text::trim(r.out.substr(at + 4, r.out.find('\n', at) - at - 4))))
        << "'" << s << "'";
  }
}

// --- systemd conf with drop-ins -------------------------------------------

TEST(JournaldConf, DropInsOverrideAndMask) {
  TempRoot r;
  r.write("/etc/systemd/journald.conf", "[Journal]\nStorage=volatile\nMaxRetentionSec=1w\n");
  r.write("/usr/lib/systemd/journald.conf.d/50-vendor.conf", "[Journal]\nStorage=persistent\n");
  r.write("/usr/lib/systemd/journald.conf.d/60-x.conf", "[Journal]\nMaxRetentionSec=1y\n");
  r.symlink("/dev/null", "/etc/systemd/journald.conf.d/60-x.conf");
  r.write("/run/systemd/journald.conf.d/70-bad.conf",
          "[Journal]\nMaxRetentionSec=bogus\nno equals\n");
  RootFs fs(r.path());
  auto c = journald::load_systemd_conf(fs, "systemd/journald.conf");
  auto valid = [](const std::string &v) { return journald::parse_timespan(v).ok(); };
  const auto *st = c.last_valid("Journal", "Storage", [](auto &) { return true; });
  ASSERT_NE(st, nullptr);
  EXPECT_EQ(st->value, "persistent");
  EXPECT_EQ(st->loc.path, "/usr/lib/systemd/journald.conf.d/50-vendor.conf");
  // 60-x is masked; 70-bad's value is invalid: the main file's 1w stays.
  const auto *ret = c.last_valid("Journal", "MaxRetentionSec", valid);
  ASSERT_NE(ret, nullptr);
  EXPECT_EQ(ret->value, "1w");
  EXPECT_EQ(ret->loc.line, 3);
  EXPECT_EQ(c.masked.size(), 1u);
  ASSERT_FALSE(c.diagnostics.empty());
  EXPECT_EQ(c.diagnostics.back().loc.line, 3);
}

// --- audit rules ------------------------------------------------------------

TEST(AuditRules, AugenrulesOrderDashDBAndE) {
  auto r = audit::parse_audit_rules_texts(
      {{"/etc/audit/rules.d/10-base.rules", "-D\n-b 8192\n-w /etc/passwd -p wa\n-e 2\n"},
       {"/etc/audit/rules.d/20-more.rules", "-w /etc/shadow -p wa -k identity\n-D\n"
                                            "-a always,exit -F arch=b64 -S execve -F euid=0\n"}},
      true);
  // The last bare -D goes first: nothing is deleted after the rules.
  ASSERT_EQ(r.rules.size(), 3u);
  EXPECT_EQ(r.rules[0].path, "/etc/passwd");
  EXPECT_EQ(r.rules[1].key, "identity");
  EXPECT_EQ(r.rules[2].syscalls, std::vector<std::string>{"execve"});
  ASSERT_TRUE(r.enabled);
  EXPECT_EQ(*r.enabled, 2);
  EXPECT_EQ(r.enabled_loc, (SourceLocation{"/etc/audit/rules.d/10-base.rules", 4}));
  // As audit.rules (no augenrules), -D in the middle deletes what came before.
  auto plain = audit::parse_audit_rules_texts(
      {{"/etc/audit/audit.rules", "-w /etc/passwd -p wa\n-D\n-w /etc/shadow\n"}}, false);
  ASSERT_EQ(plain.rules.size(), 1u);
  EXPECT_EQ(plain.rules[0].path, "/etc/shadow");
  EXPECT_FALSE(plain.rules[0].perms);
}

TEST(AuditRules, MawkHasNoBackslashS) {
  // Debian's awk is mawk: "^\s*-e" is "^s*-e", so an indented -e stays put
  // and the later bare -e wins.
  auto r = audit::parse_audit_rules_texts(
      {{"/etc/audit/rules.d/a.rules", "-e 1\n-w /etc/passwd\n  -e 2\n"}}, true);
  // gawk would move "  -e 2" last (enabled 2); mawk moves "-e 1" after it.
  ASSERT_TRUE(r.enabled);
  EXPECT_EQ(*r.enabled, 1);
  EXPECT_EQ(r.enabled_loc.line, 1);
}

TEST(AuditRules, FileWithoutNewlineRunsIntoTheNext) {
  auto r = audit::parse_audit_rules_texts(
      {{"/r/a.rules", "-w /etc/passwd -p wa"}, {"/r/b.rules", " -k joined\n-w /etc/group\n"}},
      true);
  ASSERT_EQ(r.rules.size(), 2u);
  EXPECT_EQ(r.rules[0].key, "joined");
  EXPECT_EQ(r.rules[0].loc.path, "/r/a.rules");
}

TEST(AuditRules, FilevercmpMatchesLsV) {
  std::vector<std::string> names = {
      "10-a.rules",   "9-a.rules", "99-finalize.rules", "1.rules",      "01.rules",
      "a.rules",      "A.rules",   "x~.rules",          "50-x.1.rules", "50-x.10.rules",
      "50-x.2.rules", "zz.rules",  "-1.rules",          "10a.rules",    "10-a.rules.rules"};
  TempRoot t;
  for (auto &n : names)
    t.write("/d/" + n, "");
  auto r = run_command("cd " + t.path() + "/d && LC_ALL=C /bin/ls -1v");
  ASSERT_EQ(r.exit_code, 0);
  auto expected = text::split(r.out, '\n');
  std::sort(names.begin(), names.end(), [](const std::string &a, const std::string &b) {
    int c = audit::filevercmp(a, b);
    return c != 0 ? c < 0 : a < b;
  });
  EXPECT_EQ(names, expected);
}

// The Debian 12 augenrules script itself, pointed at a temporary rules.d.
TEST(AuditRules, DifferentialAgainstAugenrulesScript) {
  // This machine's (make deps installs auditd), else the Debian root's.
  std::string script;
  std::string droot = bulwark::test::debian_root();
  for (std::string p : {std::string("/sbin/augenrules"), std::string("/usr/sbin/augenrules"),
                        droot.empty() ? std::string() : droot + "/sbin/augenrules"})
    if (!p.empty() && std::filesystem::exists(p)) {
      script = p;
      break;
    }
  BULWARK_REQUIRE(!script.empty()) << "augenrules not found (package auditd)";
  TempRoot t;
  std::string s = slurp(script);
  auto repl = [&](const std::string &from, const std::string &to) {
    size_t at = s.find(from);
    ASSERT_NE(at, std::string::npos) << from;
    s.replace(at, from.size(), to);
  };
  repl("DestinationFile=/etc/audit/audit.rules", "DestinationFile=" + t.path() + "/audit.rules");
  repl("SourceRulesDir=/etc/audit/rules.d", "SourceRulesDir=" + t.path() + "/rules.d");
  t.write("/augenrules", s, 0755);
  const char *lines[] = {"-D",
                         "-b 8192",
                         "-b 320",
                         "-f 1",
                         "-e 2",
                         "-e 1",
                         "  -e 2",
                         "--backlog_wait_time 60000",
                         "-w /etc/passwd -p wa -k identity",
                         "-w /etc/shadow -p wa",
                         "## comment",
                         "  # indented comment",
                         "",
                         "-D -k old",
                         "-a always,exit -F arch=b64 -S execve -F euid=0 -k priv",
                         "-a never,exit -F arch=b32",
                         "sss# odd"};
  std::mt19937 rng(12);
  for (int round = 0; round < 25; ++round) {
    std::filesystem::remove_all(t.host("/rules.d"));
    std::filesystem::remove(t.host("/audit.rules"));
    std::vector<std::pair<std::string, std::string>> files;
    int n = 1 + static_cast<int>(rng() % 4);
    std::vector<std::string> names;
    for (int i = 0; i < n; ++i)
      names.push_back(std::to_string(rng() % 30) + "-r" + std::to_string(i) + ".rules");
    for (auto &name : names) {
      std::string c;
      int k = static_cast<int>(rng() % 6);
      for (int j = 0; j < k; ++j)
        c += std::string(lines[rng() % std::size(lines)]) + "\n";
      if (rng() % 5 == 0 && !c.empty())
        c.pop_back(); // no final newline
      t.write("/rules.d/" + name, c);
    }
    std::sort(names.begin(), names.end(), [](const std::string &a, const std::string &b) {
      int c = audit::filevercmp(a, b);
      return c != 0 ? c < 0 : a < b;
    });
    for (auto &name : names)
      files.emplace_back("/etc/audit/rules.d/" + name, slurp(t.host("/rules.d/" + name)));
    auto r = run_command("sh " + t.host("/augenrules"));
    ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
    std::string theirs = slurp(t.host("/audit.rules"));
    // Ours: the same concatenation and reordering, rendered like the awk END.
    std::vector<std::pair<std::string, SourceLocation>> cat;
    bool cont = false;
    for (auto &[p, c] : files) {
      auto ls = text::split(c, '\n', true);
      if (!c.empty() && c.back() == '\n')
        ls.pop_back();
      for (size_t i = 0; i < ls.size(); ++i) {
        if (i == 0 && cont && !cat.empty())
          cat.back().first += ls[i];
        else
          cat.emplace_back(ls[i], SourceLocation{p, static_cast<int>(i + 1)});
      }
      if (!c.empty())
        cont = c.back() != '\n';
    }
    auto ordered = audit::augenrules_reorder(cat);
    // The script prints four fixed slots (-D, -b, -f, -e) even when empty.
    auto is = [](const std::string &l, std::string_view p) {
      return std::string_view(l)
          .substr(l.find_first_not_of('s') == std::string::npos ? l.size()
                                                                : l.find_first_not_of('s'))
          .starts_with(p);
    };
    std::string D, b, f, e, rest;
    for (auto &[l, loc] : ordered) {
      if (is(l, "-D") && l.find_first_not_of("s", l.find("-D") + 2) == std::string::npos)
        D = l;
      else if (is(l, "-b"))
        b = l;
      else if (is(l, "-f"))
        f = l;
      else if (is(l, "-e"))
        e = l;
      else
        rest += l + "\n";
    }
    std::string ours = "## This file is automatically generated from " + t.path() + "/rules.d\n" +
                       D + "\n" + b + "\n" + f + "\n" + rest + e + "\n";
    EXPECT_EQ(ours, theirs) << "round " << round;
  }
}

TEST(AuditRules, HostileInput) {
  std::string big(10 * 1024 * 1024, 'a');
  big += std::string("\n-w /etc/passwd -p wa\n\xff\xfe-w\x00/x\n-F\n-a bogus\n-F arch\n", 50);
  auto r = audit::parse_audit_rules_texts({{"/r/big.rules", big}}, true);
  EXPECT_EQ(r.rules.size(), 1u);
  EXPECT_FALSE(r.diagnostics.empty());
  for (auto &d : r.diagnostics)
    EXPECT_GT(d.loc.line, 0);
}

// --- logrotate ----------------------------------------------------------------

namespace {

struct Applied {
  std::string criterion; // "daily", ..., "size"
  int64_t rotate = 0;
};

// Parses `logrotate -d` output: for each "considering log X", the
// criterion and count of the "rotating pattern" above it.
std::map<std::string, Applied> logrotate_debug(const std::string &out) {
  std::map<std::string, Applied> m;
  Applied cur;
  std::istringstream in(out);
  std::string line, header;
  bool in_header = false;
  auto finish = [&] {
    cur = Applied{};
    for (auto c : {"hourly", "weekly", "monthly", "yearly"})
      if (header.find(std::string("  ") + c) != std::string::npos)
        cur.criterion = c;
    if (header.find("after 1 days") != std::string::npos)
      cur.criterion = "daily";
    if (header.find(" bytes (") != std::string::npos ||
        (header.find(" bytes") != std::string::npos && cur.criterion.empty()))
      cur.criterion = "size";
    size_t p = header.rfind('(');
    if (header.find("no old logs will be kept") != std::string::npos)
      cur.rotate = 0;
    else if (p != std::string::npos && header.find("rotations)", p) != std::string::npos)
      cur.rotate = std::stoll(header.substr(p + 1));
    else
      cur.rotate = -1;
  };
  while (std::getline(in, line)) {
    if (line.starts_with("rotating pattern: ")) {
      header = line;
      in_header = line.find("rotations)") == std::string::npos &&
                  line.find("kept)") == std::string::npos &&
                  line.find("empty log") == std::string::npos;
      if (!in_header)
        finish();
      continue;
    }
    if (in_header) {
      header += " " + line;
      if (line.find(')') != std::string::npos || line.find("empty log") != std::string::npos) {
        in_header = false;
        finish();
      }
      continue;
    }
    if (line.starts_with("considering log "))
      m[line.substr(16)] = cur;
  }
  return m;
}

} // namespace

TEST(LogRotate, DifferentialAgainstLogrotate) {
  BULWARK_REQUIRE(have("logrotate")) << "logrotate not installed (apt-get install logrotate)";
  std::mt19937 rng(2024);
  const char *freqs[] = {"daily", "weekly", "monthly", "yearly", "hourly", "size 10k", ""};
  for (int round = 0; round < 120; ++round) {
    TempRoot t;
    std::string logs = t.path() + "/logs";
    std::vector<std::string> files = {"auth.log", "syslog", "a.log", "b.log", "c.txt"};
    for (auto &f : files)
      t.write("/logs/" + f, "x\n");
    auto random_block = [&]() {
      std::string b;
      int np = 1 + static_cast<int>(rng() % 2);
      for (int i = 0; i < np; ++i) {
        int k = static_cast<int>(rng() % 7);
        std::string p = k < 5 ? logs + "/" + files[k] : k == 5 ? logs + "/*.log" : logs + "/[as]*";
        b += (rng() % 3 == 0 ? "\"" + p + "\"" : p) + (rng() % 3 == 0 ? "\n" : " ");
      }
      b += "{";
      if (rng() % 3 == 0)
        b += " rotate " + std::to_string(rng() % 20);
      b += "\n";
      if (rng() % 2)
        b += "    " + std::string(freqs[rng() % std::size(freqs)]) + "\n";
      if (rng() % 2)
        b += "\trotate " + std::to_string(static_cast<int>(rng() % 30) - 1) + "\n";
      if (rng() % 3 == 0)
        b += "  postrotate\n    rotate 99\n    daily\n  endscript\n";
      if (rng() % 4 == 0)
        b += "  maxage " + std::to_string(rng() % 200) + "\n";
      b += "}\n";
      return b;
    };
    auto random_globals = [&]() {
      std::string g;
      if (rng() % 2)
        g += std::string(freqs[rng() % std::size(freqs)]) + "\n";
      if (rng() % 2)
        g += "rotate " + std::to_string(rng() % 15) + "\n";
      if (rng() % 4 == 0)
        g += "# rotate 77\n";
      return g;
    };
    std::string main = random_globals() + random_block() + "include " + t.path() + "/d\n" +
                       random_globals() + random_block();
    t.write("/main.conf", main);
    int nd = static_cast<int>(rng() % 3);
    for (int i = 0; i < nd; ++i)
      t.write("/d/f" + std::to_string(i), random_block() + random_globals() + random_block());
    if (rng() % 4 == 0)
      t.write("/d/x.dpkg-old", random_block());

    auto r = run_command("logrotate -d -s " + t.path() + "/state " + t.path() + "/main.conf");
    for (int i = 0; i < nd; ++i)
      main += "---- d/f" + std::to_string(i) + "\n" + slurp(t.host("/d/f" + std::to_string(i)));
    auto theirs = logrotate_debug(r.out + r.err);
    RootFs fs("/");
    auto cfg = logrotate::load_logrotate(fs, t.path() + "/main.conf");
    for (auto &f : files) {
      std::string path = logs + "/" + f;
      const logrotate::Block *b = cfg.find(path);
      auto it = theirs.find(path);
      if (it == theirs.end()) {
        EXPECT_EQ(b, nullptr) << "round " << round << " " << f << "\n" << main;
        continue;
      }
      ASSERT_NE(b, nullptr) << "round " << round << " " << f << "\n" << main << r.err;
      EXPECT_EQ(std::string(logrotate::to_string(b->settings.criterion)), it->second.criterion)
          << "round " << round << " " << f << "\n"
          << main;
      EXPECT_EQ(b->settings.rotate, it->second.rotate) << "round " << round << " " << f << "\n"
                                                       << main;
    }
  }
}

TEST(LogRotate, GlobalsInIncludedFilesChangeLaterBlocks) {
  TempRoot t;
  t.write("/etc/logrotate.conf", "weekly\nrotate 4\ninclude /etc/logrotate.d\n"
                                 "/var/log/wtmp {\n}\n");
  t.write("/etc/logrotate.d/rsyslog", "/var/log/syslog\n/var/log/auth.log\n{\n\trotate 13\n}\n"
                                      "monthly\n");
  RootFs fs(t.path());
  auto cfg = logrotate::load_logrotate(fs);
  const auto *auth = cfg.find("/var/log/auth.log");
  ASSERT_NE(auth, nullptr);
  EXPECT_EQ(auth->settings.criterion, logrotate::Criterion::weekly);
  EXPECT_EQ(auth->settings.rotate, 13);
  EXPECT_EQ(auth->settings.rotate_loc, (SourceLocation{"/etc/logrotate.d/rsyslog", 4}));
  EXPECT_EQ(auth->loc, (SourceLocation{"/etc/logrotate.d/rsyslog", 1}));
  const auto *wtmp = cfg.find("/var/log/wtmp");
  ASSERT_NE(wtmp, nullptr);
  EXPECT_EQ(wtmp->settings.criterion, logrotate::Criterion::monthly);
  EXPECT_EQ(wtmp->settings.criterion_loc, (SourceLocation{"/etc/logrotate.d/rsyslog", 6}));
}

TEST(LogRotate, IncludeLoopStopsAtDepth16) {
  TempRoot t;
  t.write("/etc/logrotate.conf", "include /etc/logrotate.conf\n/var/log/syslog { daily\n}\n");
  RootFs fs(t.path());
  auto start = std::chrono::steady_clock::now();
  auto cfg = logrotate::load_logrotate(fs);
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            bulwark::test::hang_bound(std::chrono::seconds(2)));
  EXPECT_EQ(cfg.files.size(), 17u); // depth 0..16, like logrotate
  bool nest = false;
  for (auto &d : cfg.diagnostics)
    nest = nest || (d.message == "include nesting too deep" && d.loc.line == 1);
  EXPECT_TRUE(nest);
  ASSERT_NE(cfg.find("/var/log/syslog"), nullptr);
  EXPECT_EQ(cfg.find("/var/log/syslog")->settings.criterion, logrotate::Criterion::daily);
}

TEST(LogRotate, HostileInput) {
  TempRoot t;
  std::string big = "/var/log/syslog {\n rotate 9\n daily\n}\n";
  big += std::string(10 * 1024 * 1024, '{');
  big += std::string("\n\xff\xfe rotate \x00 7\n}}}\n", 19);
  t.write("/etc/logrotate.conf", big);
  t.write("/etc/logrotate.d/ww", "/var/log/auth.log { rotate 1\n}\n", 0666);
  RootFs fs(t.path());
  auto cfg = logrotate::load_logrotate(fs);
  ASSERT_NE(cfg.find("/var/log/syslog"), nullptr);
  EXPECT_EQ(cfg.find("/var/log/syslog")->settings.rotate, 9);
  EXPECT_FALSE(cfg.diagnostics.empty());
}

// --- rsyslog ------------------------------------------------------------------

TEST(Rsyslog, LegacyAndRainerScriptForwards) {
  auto c = rsyslog::parse_rsyslog_text("/etc/rsyslog.conf", R"(# *.* @@commented:514
module(load="imuxsock")
auth,authpriv.*			/var/log/auth.log
*.*;auth,authpriv.none		-/var/log/syslog
*.* @@(o)logs.example.net:6514;RSYSLOG_ForwardFormat
mail.* @10.0.0.1
/* action(type="omfwd" target="hidden") */
if $programname == 'sshd' then {
  action(type="omfwd"
         Target="siem.example.net" port="514" protocol="tcp")
}
ruleset(name="remote") { action(type="omrelp" target="relp.example.net" port="2514") }
action(type="omfile" file="/var/log/all.log")
template(name="t" type="list") { constant(value="x") }
)");
  ASSERT_EQ(c.forwards.size(), 4u);
  EXPECT_EQ(c.forwards[0].type, "@@");
  EXPECT_EQ(c.forwards[0].target, "logs.example.net:6514");
  EXPECT_EQ(c.forwards[0].loc.line, 5);
  EXPECT_EQ(c.forwards[1].target, "10.0.0.1");
  EXPECT_EQ(c.forwards[2].type, "omfwd");
  EXPECT_EQ(c.forwards[2].target, "siem.example.net:514");
  EXPECT_EQ(c.forwards[2].loc.line, 9);
  EXPECT_EQ(c.forwards[3].ruleset, "remote");
  ASSERT_GE(c.file_actions.size(), 2u);
  EXPECT_EQ(c.file_actions[0].path, "/var/log/auth.log");
  EXPECT_TRUE(rsyslog::selector_takes(c.file_actions[0].selector, "authpriv"));
  EXPECT_FALSE(rsyslog::selector_takes(c.file_actions[1].selector, "auth"));
  EXPECT_TRUE(rsyslog::selector_takes(c.file_actions[1].selector, "daemon"));
}

TEST(Rsyslog, IncludesAndLoops) {
  TempRoot t;
  t.write("/etc/rsyslog.conf", "$IncludeConfig /etc/rsyslog.d/*.conf\n"
                               "include(file=\"/etc/extra.conf\" mode=\"optional\")\n"
                               "include(file=\"/etc/rsyslog.conf\")\n");
  t.write("/etc/rsyslog.d/50-fwd.conf", "\n*.* @@central:514\n");
  RootFs fs(t.path());
  auto c = rsyslog::load_rsyslog(fs);
  // The self-include loops until the nesting limit, then stops with an error.
  ASSERT_FALSE(c.forwards.empty());
  EXPECT_EQ(c.forwards[0].loc, (SourceLocation{"/etc/rsyslog.d/50-fwd.conf", 2}));
  bool loop = false;
  for (auto &d : c.diagnostics)
    loop = loop || d.message.find("nested too deep") != std::string::npos;
  EXPECT_TRUE(loop);
}

TEST(Rsyslog, HostileInput) {
  std::string s = "action(type=\"omfwd\" target=\"x\"\n" + std::string(10 * 1024 * 1024, '(') +
                  "\xff\"unterminated\n/* never closed";
  auto c = rsyslog::parse_rsyslog_text("/etc/rsyslog.conf", s);
  EXPECT_FALSE(c.diagnostics.empty());
  std::string braces(100000, '{');
  auto d = rsyslog::parse_rsyslog_text("/etc/rsyslog.conf", braces + "\n*.* @h\n");
  EXPECT_EQ(d.forwards.size(), 1u);
}

// --- shippers -----------------------------------------------------------------

TEST(Shippers, AgentsPointingSomewhere) {
  shippers::ShipperModel m;
  shippers::parse_fluent_bit_classic("/etc/fluent-bit/fluent-bit.conf",
                                     "[INPUT]\n Name tail\n[OUTPUT]\n Name stdout\n[OUTPUT]\n"
                                     "    Name  forward\n    Host  10.1.1.1\n",
                                     m);
  shippers::parse_ossec_conf("/var/ossec/etc/ossec.conf",
                             "<ossec_config>\n<!-- <client><server><address>no</address> -->\n"
                             "<client>\n <server>\n  <address>wazuh.example</address>\n",
                             m);
  shippers::parse_yaml_agent("promtail", "/etc/promtail/config.yml",
                             "server: {}\nclients:\n  - url: http://loki:3100/loki/api/v1/push\n",
                             m);
  shippers::parse_vector_toml("/etc/vector/vector.toml",
                              "[sinks.out]\ntype = \"console\"\n[sinks.loki]\ntype = \"loki\"\n",
                              m);
  ASSERT_EQ(m.destinations.size(), 4u);
  EXPECT_EQ(m.destinations[0].loc.line, 6);
  EXPECT_EQ(m.destinations[1].target, "wazuh.example");
  EXPECT_EQ(m.destinations[1].loc.line, 5);
  EXPECT_EQ(m.destinations[2].loc.line, 3);
  EXPECT_EQ(m.destinations[3].loc.line, 4);
  shippers::ShipperModel none;
  shippers::parse_yaml_agent("filebeat", "/etc/filebeat/filebeat.yml",
                             "output.console:\n  pretty: true\n", none);
  EXPECT_TRUE(none.destinations.empty());
  EXPECT_EQ(none.unconfigured.size(), 1u);
}

// Includes that fan out: each file includes its own directory (or itself)
// twice, so the nesting limit alone allows 2^16 reads. The loaders bound the
// number of reads (found by fuzz_logrotate as a timeout).
TEST(LogRotate, IncludeFanOutIsBounded) {
  TempRoot t;
  t.write("/etc/logrotate.conf", "include /etc/logrotate.d\n");
  t.write("/etc/logrotate.d/x", "include /etc/logrotate.d\ninclude /etc/logrotate.d\n");
  RootFs fs(t.path());
  auto start = std::chrono::steady_clock::now();
  auto c = logrotate::load_logrotate(fs);
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            bulwark::test::hang_bound(std::chrono::seconds(5)));
  // Reads stop at the bound (the diagnostics, capped, name the nesting).
  EXPECT_EQ(c.files.size(), 2048u);
  EXPECT_FALSE(c.diagnostics.empty());
}

TEST(Rsyslog, IncludeFanOutIsBounded) {
  TempRoot t;
  t.write("/etc/rsyslog.conf",
          "$IncludeConfig /etc/rsyslog.conf\n$IncludeConfig /etc/rsyslog.conf\n"
          "*.* @@central:514\n");
  RootFs fs(t.path());
  auto start = std::chrono::steady_clock::now();
  auto c = rsyslog::load_rsyslog(fs);
  EXPECT_LT(std::chrono::steady_clock::now() - start,
            bulwark::test::hang_bound(std::chrono::seconds(5)));
  // Reads stop at the bound (the diagnostics, capped, name the nesting).
  EXPECT_EQ(c.files.size(), 2048u);
  EXPECT_FALSE(c.diagnostics.empty());
  EXPECT_FALSE(c.forwards.empty());
}
