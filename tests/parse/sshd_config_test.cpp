// sshd_config traps from servconf.c, each a fixture. The differential test
// (sshd_differential_test.cpp) checks the same against sshd -T at scale.

#include "../support.hpp"

#include <bulwark/parse/sshd_config.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using namespace bulwark::ssh;
using bulwark::test::TempRoot;

namespace {

struct Parsed {
  TempRoot root;
  SshdConfig cfg;
  UserDb users;
  explicit Parsed(const std::string &main,
                  std::vector<std::pair<std::string, std::string>> extra = {}) {
    root.write("/etc/ssh/sshd_config", main);
    root.write("/etc/passwd", "root:x:0:0::/root:/bin/sh\nalice:x:1000:1000::/home/alice:/bin/sh\n"
                              "bob:x:1001:1001::/home/bob:/bin/sh\n");
    root.write("/etc/group", "root:x:0:\nalice:x:1000:\nbob:x:1001:\nssh-users:x:2000:alice\n");
    for (auto &[p, c] : extra)
      root.write(p, c);
    RootFs fs(root.path());
    auto r = parse_sshd_config(fs, "/etc/ssh/sshd_config");
    if (!r.ok())
      ADD_FAILURE() << r.error().to_string();
    else
      cfg = std::move(r).value();
    users = UserDb::load(fs);
  }
  std::string get(const std::string &kw, const ConnectionSpec &spec = {}) const {
    auto v = evaluate(cfg, spec, users).get(kw);
    std::string out;
    for (auto &a : v.args)
      out += (out.empty() ? "" : " ") + a;
    return out;
  }
  std::string errors() const {
    std::string out;
    for (auto &d : cfg.diagnostics)
      if (d.level == Diagnostic::Level::error)
        out += d.loc.path + ":" + std::to_string(d.loc.line) + ": " + d.message + "\n";
    return out;
  }
};

ConnectionSpec user(const std::string &u) {
  ConnectionSpec s;
  s.user = u;
  return s;
}

} // namespace

TEST(SshdConfig, DefaultsWhenUnset) {
  Parsed p("# nothing\n\n");
  EXPECT_EQ(p.get("permitrootlogin"), "without-password");
  EXPECT_EQ(p.get("passwordauthentication"), "yes");
  EXPECT_EQ(p.get("maxauthtries"), "6");
  EXPECT_EQ(p.get("allowusers"), "");
  EXPECT_TRUE(evaluate(p.cfg, {}, p.users).get("permitrootlogin").is_default());
}

TEST(SshdConfig, FirstValueWinsAndKeywordsAreCaseInsensitive) {
  Parsed p("PERMITROOTLOGIN No\npermitrootlogin yes\nMaxAuthTries 2\nMaxAuthTries 5\n");
  EXPECT_EQ(p.get("permitrootlogin"), "no");
  EXPECT_EQ(p.get("maxauthtries"), "2");
  auto v = evaluate(p.cfg, {}, p.users).get("permitrootlogin");
  ASSERT_EQ(v.locations.size(), 1u);
  EXPECT_EQ(v.locations[0].line, 1);
}

TEST(SshdConfig, SeparatorsQuotesAndComments) {
  Parsed p("PermitRootLogin=no\nPasswordAuthentication = no\nX11Forwarding\t\"no\"\n"
           "UseDNS 'yes' # trailing comment\n  MaxAuthTries 4\r\nClientAliveInterval 5m\n");
  EXPECT_EQ(p.errors(), "");
  EXPECT_EQ(p.get("permitrootlogin"), "no");
  EXPECT_EQ(p.get("passwordauthentication"), "no");
  EXPECT_EQ(p.get("x11forwarding"), "no");
  EXPECT_EQ(p.get("usedns"), "yes");
  EXPECT_EQ(p.get("maxauthtries"), "4");
  EXPECT_EQ(p.get("clientaliveinterval"), "300");
}

TEST(SshdConfig, HashInsideAWordIsNotAComment) {
  Parsed p("PermitRootLogin no#comment\n");
  EXPECT_NE(p.errors().find("unsupported option"), std::string::npos) << p.errors();
}

TEST(SshdConfig, ProhibitPasswordPrintsAsWithoutPassword) {
  Parsed p("PermitRootLogin prohibit-password\n");
  EXPECT_EQ(p.get("permitrootlogin"), "without-password");
}

TEST(SshdConfig, AccumulatingKeywords) {
  Parsed p("AllowUsers alice bob\nAllowUsers carol\nPort 22\nPort 2222\n");
  EXPECT_EQ(p.get("allowusers"), "alice bob carol");
  EXPECT_EQ(p.get("port"), "22 2222");
}

TEST(SshdConfig, AliasesMapToCurrentNames) {
  Parsed p("ChallengeResponseAuthentication no\nKeepAlive no\n"
           "PubkeyAcceptedKeyTypes ssh-ed25519\n");
  EXPECT_EQ(p.errors(), "");
  EXPECT_EQ(p.get("kbdinteractiveauthentication"), "no");
  EXPECT_EQ(p.get("tcpkeepalive"), "no");
  EXPECT_EQ(p.get("pubkeyacceptedalgorithms"), "ssh-ed25519");
}

TEST(SshdConfig, ProtocolIsIgnoredSilently) {
  Parsed p("Protocol 1\n");
  EXPECT_EQ(p.errors(), "");
  EXPECT_TRUE(p.cfg.diagnostics.empty());
}

TEST(SshdConfig, MatchBeatsGlobalWhereverItAppearsAndFirstMatchWins) {
  Parsed p("Match User alice\n  PermitRootLogin yes\n  MaxAuthTries 2\n"
           "Match all\n  MaxAuthTries 4\n");
  EXPECT_EQ(p.get("permitrootlogin"), "without-password"); // no -C: User blocks do not apply
  EXPECT_EQ(p.get("maxauthtries"), "4");                   // Match all applies to sshd -T
  EXPECT_EQ(p.get("permitrootlogin", user("alice")), "yes");
  EXPECT_EQ(p.get("maxauthtries", user("alice")), "2");
  EXPECT_EQ(p.get("maxauthtries", user("bob")), "4");
}

TEST(SshdConfig, GlobalValueAfterMatchDoesNotEscapeTheBlock) {
  // Everything after a Match line belongs to the block, up to the next Match.
  Parsed p("Match User bob\nPasswordAuthentication no\n");
  EXPECT_EQ(p.get("passwordauthentication"), "yes");
  EXPECT_EQ(p.get("passwordauthentication", user("bob")), "no");
}

TEST(SshdConfig, MatchListReplacesTheGlobalList) {
  Parsed p("AllowUsers u1\nMatch all\nAllowUsers u2\n");
  EXPECT_EQ(p.get("allowusers"), "u2");
}

TEST(SshdConfig, MatchCriteriaFollowOpenSsh) {
  Parsed p("Match User !root,*\n MaxAuthTries 1\n"
           "Match Group ssh-users\n MaxAuthTries 2\n"
           "Match Address 10.0.0.0/8,!10.1.0.0/16\n MaxAuthTries 3\n");
  EXPECT_EQ(p.get("maxauthtries", user("root")), "6");
  EXPECT_EQ(p.get("maxauthtries", user("bob")), "1");
  ConnectionSpec a = user("root");
  a.address = "10.2.3.4";
  EXPECT_EQ(p.get("maxauthtries", a), "3");
  a.address = "10.1.3.4"; // negated: the whole list fails
  EXPECT_EQ(p.get("maxauthtries", a), "6");
}

TEST(SshdConfig, MatchGroupUsesPrimaryAndSupplementaryGroups) {
  Parsed p("Match Group ssh-users\n MaxAuthTries 2\nMatch Group bob\n MaxAuthTries 4\n");
  EXPECT_EQ(p.get("maxauthtries", user("alice")), "2"); // supplementary
  EXPECT_EQ(p.get("maxauthtries", user("bob")), "4");   // primary
  EXPECT_EQ(p.get("maxauthtries", user("nobody-here")), "6");
}

TEST(SshdConfig, KeywordNotAllowedInMatchIsAnError) {
  Parsed p("Match User x\nUseDNS no\n");
  EXPECT_NE(p.errors().find("Directive 'UseDNS' is not allowed within a Match block"),
            std::string::npos);
  EXPECT_NE(p.errors().find(":2:"), std::string::npos);
}

TEST(SshdConfig, GlobalOnlyKeywordAfterMatchAllIsAccepted) {
  Parsed p("Match all\nUseDNS yes\n");
  EXPECT_EQ(p.errors(), "");
  EXPECT_EQ(p.get("usedns"), "yes");
}

TEST(SshdConfig, IncludeRelativeToEtcSshSortedWithGlobs) {
  Parsed p("Include sshd_config.d/*.conf\nMaxAuthTries 9\n",
           {{"/etc/ssh/sshd_config.d/20-b.conf", "MaxAuthTries 2\n"},
            {"/etc/ssh/sshd_config.d/10-a.conf", "MaxAuthTries 1\n"},
            {"/etc/ssh/sshd_config.d/README", "MaxAuthTries 7\n"}});
  EXPECT_EQ(p.get("maxauthtries"), "1");
  auto v = evaluate(p.cfg, {}, p.users).get("maxauthtries");
  EXPECT_EQ(v.locations[0].path, "/etc/ssh/sshd_config.d/10-a.conf");
  EXPECT_EQ(p.cfg.files.size(), 3u);
}

TEST(SshdConfig, IncludedMatchDoesNotLeakIntoTheIncluder) {
  Parsed p("Include /etc/ssh/m.conf\nPermitRootLogin no\n",
           {{"/etc/ssh/m.conf", "Match User bob\nPasswordAuthentication no\n"}});
  EXPECT_EQ(p.errors(), "");
  EXPECT_EQ(p.get("permitrootlogin", user("alice")), "no");
  EXPECT_EQ(p.get("passwordauthentication", user("bob")), "no");
}

TEST(SshdConfig, IncludeInsideMatchBelongsToTheMatch) {
  Parsed p("Match User bob\nInclude /etc/ssh/pa.conf\n",
           {{"/etc/ssh/pa.conf", "PasswordAuthentication no\n"}});
  EXPECT_EQ(p.get("passwordauthentication"), "yes");
  EXPECT_EQ(p.get("passwordauthentication", user("bob")), "no");
}

TEST(SshdConfig, MissingIncludeIsAcceptedButALiteralPathIsWarned) {
  Parsed p("Include /etc/ssh/none.d/*.conf\nInclude /etc/ssh/absent.conf\n");
  EXPECT_EQ(p.errors(), "");
  ASSERT_EQ(p.cfg.diagnostics.size(), 1u);
  EXPECT_EQ(p.cfg.diagnostics[0].level, Diagnostic::Level::warning);
  EXPECT_EQ(p.cfg.diagnostics[0].loc.line, 2);
}

TEST(SshdConfig, IncludeLoopIsAnErrorNotAHang) {
  Parsed p("Include /etc/ssh/sshd_config\n");
  EXPECT_NE(p.errors().find("Too many recursive configuration includes"), std::string::npos);
}

TEST(SshdConfig, BadLinesAreErrorsWithFileAndLine) {
  Parsed p("FooBar yes\nPermitRootLogin\nPermitRootLogin no yes\nMaxAuthTries abc\n"
           "ClientAliveInterval 5x\nCiphers aes128-cbc,nosuch\nMatch Address 10.1.2.3/8\n"
           "Match Colour red\nBanner \"unterminated\n");
  std::string e = p.errors();
  EXPECT_NE(e.find(":1: Bad configuration option: FooBar"), std::string::npos) << e;
  EXPECT_NE(e.find(":2: no argument after keyword"), std::string::npos) << e;
  EXPECT_NE(e.find(":3: keyword PermitRootLogin extra arguments"), std::string::npos) << e;
  EXPECT_NE(e.find(":4: MaxAuthTries: integer value"), std::string::npos) << e;
  EXPECT_NE(e.find(":5: ClientAliveInterval: invalid time"), std::string::npos) << e;
  EXPECT_NE(e.find(":6: Ciphers: bad algorithm \"nosuch\""), std::string::npos) << e;
  EXPECT_NE(e.find(":7: Bad Match condition"), std::string::npos) << e;
  EXPECT_NE(e.find(":8: Bad Match condition"), std::string::npos) << e;
  EXPECT_NE(e.find(":9: invalid quotes"), std::string::npos) << e;
}

TEST(SshdConfig, HugeLineBinaryGarbageAndNulBytes) {
  std::string huge = "Banner " + std::string(10 * 1024 * 1024, 'a') + "\n";
  std::string garbage;
  for (int i = 0; i < 4096; ++i)
    garbage += static_cast<char>((i * 131 + 7) % 256);
  Parsed p(huge + garbage + "\n\nPermitRootLogin no\n");
  // The huge line parses, the garbage yields errors, and what follows still counts.
  EXPECT_TRUE(p.cfg.has_errors());
  EXPECT_EQ(p.get("permitrootlogin"), "no");
  ASSERT_FALSE(p.cfg.lines.empty());
  EXPECT_EQ(p.cfg.lines.front().args.at(0).size(), 10u * 1024 * 1024);
  Parsed nul(std::string("PermitRoot\0junk\nLogin no\n", 25));
  // sshd joins what follows a NUL onto the next line: "PermitRoot" + "Login no".
  EXPECT_EQ(nul.get("permitrootlogin"), "no") << nul.errors();
}

// Issue 20: sshd applies the text after the last line's NUL at end of file;
// bulwark dropped it, so `PasswordAuthentication yes\0` passed.
TEST(SshdConfig, TextCarriedPastANulOnTheLastLineIsApplied) {
  Parsed p(std::string("PermitRootLogin no\nPasswordAuthentication yes\0", 46));
  EXPECT_EQ(p.get("passwordauthentication"), "yes") << p.errors();
  EXPECT_FALSE(p.cfg.has_errors()) << p.errors();
  // A UTF-16 file has a NUL on every line: sshd reads garbage and refuses it.
  std::string utf16 = "\xFF\xFE";
  for (char c : std::string("PermitRootLogin no\n"))
    utf16 += c, utf16 += '\0';
  Parsed u(utf16);
  EXPECT_TRUE(u.cfg.has_errors());
}

// Issue 20: a 128-byte file that includes itself twice read 2^16 files
// (> 60 s, 8.6 GB); the include budget stops it with one error.
TEST(SshdConfig, IncludeFanOutStopsAtTheBudgetWithAnError) {
  TempRoot r;
  r.write("/etc/ssh/sshd_config", "Include /etc/ssh/sshd_config /etc/ssh/sshd_config\n"
                                  "PasswordAuthentication no\n");
  auto res = parse_sshd_config(RootFs(r.path()), "/etc/ssh/sshd_config");
  ASSERT_TRUE(res.ok()) << res.error().to_string();
  ASSERT_TRUE(res->has_errors());
  bool budget = false;
  for (auto &d : res->diagnostics)
    budget = budget || (d.message.find("more than 4096 files") != std::string::npos &&
                        d.loc.path == "/etc/ssh/sshd_config" && d.loc.line == 1);
  EXPECT_TRUE(budget);
  EXPECT_LE(res->files.size(), 4097u);
}

TEST(SshdConfig, DirectoryWhereTheFileShouldBe) {
  TempRoot r;
  r.mkdir("/etc/ssh/sshd_config");
  auto res = parse_sshd_config(RootFs(r.path()), "/etc/ssh/sshd_config");
  ASSERT_FALSE(res.ok());
  EXPECT_EQ(res.error().path, "/etc/ssh/sshd_config");
}

TEST(SshdConfig, AlgorithmModifiers) {
  // The user's order, wildcards expanded in the supported list's order.
  EXPECT_EQ(resolve_algorithms("ciphers", "aes256-gcm@openssh.com,aes128-ctr"),
            (std::vector<std::string>{"aes256-gcm@openssh.com", "aes128-ctr"}));
  EXPECT_EQ(resolve_algorithms("hostkeyalgorithms", "ssh-ed25519*"),
            (std::vector<std::string>{"ssh-ed25519", "ssh-ed25519-cert-v01@openssh.com"}));
  auto plus = resolve_algorithms("ciphers", "+aes128-cbc");
  EXPECT_EQ(plus.back(), "aes128-cbc");
  auto minus = resolve_algorithms("macs", "-hmac-sha1*,umac-64*");
  for (auto &m : minus) {
    EXPECT_NE(m.rfind("hmac-sha1", 0), 0u) << m;
    EXPECT_NE(m.rfind("umac-64", 0), 0u) << m;
  }
  auto caret = resolve_algorithms("kexalgorithms", "^diffie-hellman-group14-sha1");
  EXPECT_EQ(caret.front(), "diffie-hellman-group14-sha1");
  EXPECT_EQ(resolve_algorithms("ciphers", "-*"), resolve_algorithms("ciphers", ""));
  std::string bad;
  EXPECT_FALSE(algorithms_valid("ciphers", "AES128-CTR", &bad));
  EXPECT_TRUE(algorithms_valid("hostkeyalgorithms", "ssh-ed25519*", &bad));
  EXPECT_FALSE(algorithms_valid("ciphers", "aes*", &bad));
}

TEST(SshdConfig, ConvtimeMatchesOpenSsh) {
  EXPECT_EQ(convtime("90"), 90);
  EXPECT_EQ(convtime("5m"), 300);
  EXPECT_EQ(convtime("1h30s"), 3630);
  EXPECT_EQ(convtime("1W"), 604800);
  EXPECT_FALSE(convtime(""));
  EXPECT_FALSE(convtime("5x"));
  EXPECT_FALSE(convtime("m"));
  EXPECT_FALSE(convtime("99999999999"));
}

TEST(SshdConfig, PatternAndAddressMatching) {
  EXPECT_EQ(match_pattern_list("alice", "a*", false), 1);
  EXPECT_EQ(match_pattern_list("alice", "!alice,*", false), -1);
  EXPECT_EQ(match_pattern_list("alice", "!root", false), 0);
  EXPECT_EQ(match_pattern_list("host.EXAMPLE.com", "*.example.com", true), 0); // string not lowered
  EXPECT_EQ(match_pattern_list("host.example.com", "*.EXAMPLE.com", true), 1);
  EXPECT_EQ(addr_match_list(std::string("192.168.1.5"), "192.168.0.0/16"), 1);
  EXPECT_EQ(addr_match_list(std::string("192.168.1.5"), "192.168.1.*"), 1);
  EXPECT_EQ(addr_match_list(std::string("2001:db8::1"), "2001:db8::/32"), 1);
  EXPECT_EQ(addr_match_list(std::string("10.0.0.1"), "10.0.0.1/8"), -2);
  EXPECT_EQ(addr_match_list(std::nullopt, "10.0.0.0/33"), -2); // sshd: invalid Match address
  EXPECT_EQ(addr_match_list(std::nullopt, "10.0.0.0/129"),
            0); // not CIDR at all: a wildcard pattern
}
