// Attempts, not lines (issue 19): the lines one sshd connection writes are
// correlated by sshd[pid] into the attempts the client made; sudo's and
// nginx's lines count once each; windows use the log's own time; a jail's
// matchers see only its own sources. The sshd lines are the ones a real
// OpenSSH 9.2 with PAM wrote for each scenario (sshd_live_test.cpp makes
// them again from a running sshd).
#include <bulwark/watch/engine.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace bulwark::watch;

namespace {

constexpr int64_t k_ref = 1733453400; // 2024-12-06T02:50:00Z

struct Feed {
  Config cfg = default_config();
  std::vector<BanDecision> bans;
  std::unique_ptr<Engine> engine;
  Feed() { start(); }
  void start() {
    engine = std::make_unique<Engine>(cfg, k_ref);
    engine->on_ban = [this](const BanDecision &b) { bans.push_back(b); };
  }
  void lines(std::string_view text, int64_t now = 0, Origin o = Origin::anywhere()) {
    size_t pos = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      if (nl == std::string_view::npos)
        nl = text.size();
      if (nl > pos)
        engine->process(text.substr(pos, nl - pos), now, o);
      pos = nl + 1;
    }
  }
  // auth_failed_total of a service, all reasons (or one).
  uint64_t attempts(std::string_view service, std::string_view reason = {}) const {
    uint64_t n = 0;
    for (auto &[k, v] : engine->counters().by_reason)
      if (k.kind == Kind::auth_failed && k.service == service &&
          (reason.empty() || k.reason == reason))
        n += v;
    return n;
  }
};

uint64_t attempts_of(std::string_view log, std::string_view reason = {}) {
  Feed r;
  r.lines(log);
  r.engine->finish();
  return r.attempts("sshd", reason);
}

// Real OpenSSH 9.2 lines (Debian 12, UsePAM yes), one connection each.
constexpr std::string_view k_one_wrong_password = R"(
Dec  6 02:50:16 bwhost sshd[8091]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.77.0.11  user=alice
Dec  6 02:50:18 bwhost sshd[8091]: Failed password for alice from 10.77.0.11 port 49393 ssh2
Dec  6 02:50:20 bwhost sshd[8091]: Connection closed by authenticating user alice 10.77.0.11 port 49393 [preauth]
)";

constexpr std::string_view k_invalid_user_wrong_password = R"(
Dec  6 02:50:21 bwhost sshd[8387]: Invalid user mallory from 10.77.0.12 port 46727
Dec  6 02:50:21 bwhost sshd[8387]: pam_unix(sshd:auth): check pass; user unknown
Dec  6 02:50:21 bwhost sshd[8387]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.77.0.12 
Dec  6 02:50:22 bwhost sshd[8387]: Failed password for invalid user mallory from 10.77.0.12 port 46727 ssh2
Dec  6 02:50:23 bwhost sshd[8387]: Connection closed by invalid user mallory 10.77.0.12 port 46727 [preauth]
)";

// keyboard-interactive, valid user: "Failed keyboard-interactive/pam" is
// logged at VERBOSE only, "error: PAM" is the attempt.
constexpr std::string_view k_kbd_valid_user = R"(
Dec  6 02:50:24 bwhost sshd[8559]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.77.0.13  user=alice
Dec  6 02:50:26 bwhost sshd[8543]: error: PAM: Authentication failure for alice from 10.77.0.13
Dec  6 02:50:26 bwhost sshd[8543]: Connection closed by authenticating user alice 10.77.0.13 port 57765 [preauth]
)";

// keyboard-interactive, invalid user: both the PAM error and the Failed line.
constexpr std::string_view k_kbd_invalid_user = R"(
Dec  6 02:48:47 bwhost sshd[3455]: Invalid user alice from 10.77.0.13 port 53035
Dec  6 02:48:47 bwhost sshd[3455]: Postponed keyboard-interactive for invalid user alice from 10.77.0.13 port 53035 ssh2 [preauth]
Dec  6 02:48:47 bwhost sshd[3506]: pam_unix(sshd:auth): check pass; user unknown
Dec  6 02:48:47 bwhost sshd[3506]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.77.0.13 
Dec  6 02:48:49 bwhost sshd[3455]: error: PAM: Authentication failure for illegal user alice from 10.77.0.13
Dec  6 02:48:49 bwhost sshd[3455]: Failed keyboard-interactive/pam for invalid user alice from 10.77.0.13 port 53035 ssh2
Dec  6 02:48:49 bwhost sshd[3455]: Connection closed by invalid user alice 10.77.0.13 port 53035 [preauth]
)";

// A BatchMode job whose key is not authorized: nothing but the close.
constexpr std::string_view k_batchmode_missing_key = R"(
Dec  6 02:50:27 bwhost sshd[8707]: Connection closed by authenticating user alice 10.77.0.14 port 42065 [preauth]
)";

constexpr std::string_view k_invalid_user_probe = R"(
Dec  6 02:50:28 bwhost sshd[8745]: Invalid user mallory from 10.77.0.15 port 52557
Dec  6 02:50:28 bwhost sshd[8745]: Connection closed by invalid user mallory 10.77.0.15 port 52557 [preauth]
)";

constexpr std::string_view k_max_auth_tries = R"(
Dec  6 02:50:40 bwhost sshd[9388]: pam_unix(sshd:auth): authentication failure; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.77.0.17  user=alice
Dec  6 02:50:42 bwhost sshd[9388]: Failed password for alice from 10.77.0.17 port 48493 ssh2
Dec  6 02:50:44 bwhost sshd[9388]: Failed password for alice from 10.77.0.17 port 48493 ssh2
Dec  6 02:50:48 bwhost sshd[9388]: Failed password for alice from 10.77.0.17 port 48493 ssh2
Dec  6 02:50:52 bwhost sshd[9388]: Failed password for alice from 10.77.0.17 port 48493 ssh2
Dec  6 02:50:55 bwhost sshd[9388]: Failed password for alice from 10.77.0.17 port 48493 ssh2
Dec  6 02:50:57 bwhost sshd[9388]: Failed password for alice from 10.77.0.17 port 48493 ssh2
Dec  6 02:50:57 bwhost sshd[9388]: error: maximum authentication attempts exceeded for alice from 10.77.0.17 port 48493 ssh2 [preauth]
Dec  6 02:50:57 bwhost sshd[9388]: Disconnecting authenticating user alice 10.77.0.17 port 48493: Too many authentication failures [preauth]
Dec  6 02:50:57 bwhost sshd[9388]: PAM 5 more authentication failures; logname= uid=0 euid=0 tty=ssh ruser= rhost=10.77.0.17  user=alice
Dec  6 02:50:57 bwhost sshd[9388]: PAM service(sshd) ignoring max retries; 6 > 3
)";

} // namespace

TEST(WatchAttempts, OneMistypedPasswordIsOneAttempt) {
  EXPECT_EQ(attempts_of(k_one_wrong_password), 1u);
  EXPECT_EQ(attempts_of(k_one_wrong_password, "failed_password"), 1u);
  // Three such logins (three connections, one typo each) are three.
  Feed r;
  r.lines(k_one_wrong_password);
  EXPECT_TRUE(r.bans.empty());
  r.lines(k_one_wrong_password);
  EXPECT_TRUE(r.bans.empty());
  r.lines(k_one_wrong_password);
  EXPECT_EQ(r.attempts("sshd"), 3u);
  ASSERT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(r.bans[0].failures, 3);
  EXPECT_EQ(r.bans[0].reason, "failed_password");
  EXPECT_EQ(r.engine->counters().events_no_attempt, 6u); // 3 pam_unix, 3 closes
}

TEST(WatchAttempts, InvalidUserWithOneWrongPasswordIsOneAttempt) {
  EXPECT_EQ(attempts_of(k_invalid_user_wrong_password), 1u);
  EXPECT_EQ(attempts_of(k_invalid_user_wrong_password, "invalid_user"), 0u);
}

TEST(WatchAttempts, KeyboardInteractiveIsOneAttempt) {
  EXPECT_EQ(attempts_of(k_kbd_valid_user), 1u);
  EXPECT_EQ(attempts_of(k_kbd_valid_user, "pam_failure"), 1u);
  EXPECT_EQ(attempts_of(k_kbd_invalid_user), 1u);
}

TEST(WatchAttempts, StandalonePreauthCloseIsNoFailure) {
  Feed r;
  for (int i = 0; i < 10; ++i)
    r.lines(k_batchmode_missing_key);
  r.engine->finish();
  EXPECT_EQ(r.attempts("sshd"), 0u);
  EXPECT_TRUE(r.bans.empty());
}

TEST(WatchAttempts, MaximumAttemptsAddNothingBeyondTheFailedLines) {
  Feed r;
  r.lines(k_max_auth_tries);
  EXPECT_EQ(r.attempts("sshd"), 6u);
  EXPECT_EQ(r.attempts("sshd", "max_attempts"), 0u);
  ASSERT_EQ(r.bans.size(), 1u); // at the third Failed line
  EXPECT_EQ(r.bans[0].failures, 3);
}

TEST(WatchAttempts, InvalidUserWithoutAttemptIsAHalfWeightProbe) {
  EXPECT_EQ(attempts_of(k_invalid_user_probe, "invalid_user"), 1u);
  // maxretry 3: five probes (2.5 attempts) do not ban, the sixth does.
  Feed r;
  std::string probe(k_invalid_user_probe);
  for (int i = 0; i < 5; ++i)
    r.lines(probe);
  EXPECT_TRUE(r.bans.empty());
  r.lines(probe);
  ASSERT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(r.bans[0].reason, "invalid_user");
  EXPECT_EQ(format_address(r.bans[0].source), "10.77.0.15");
  // Without a close line the probe counts when the connection has been
  // idle for 10 minutes of log time, or at the end of a replay.
  Feed open;
  open.lines("Dec  6 02:50:28 bwhost sshd[8745]: Invalid user mallory from 10.77.0.15 port 52557");
  EXPECT_EQ(open.attempts("sshd"), 0u);
  open.lines("Dec  6 03:01:00 bwhost sshd[9999]: Server listening on 0.0.0.0 port 22.");
  EXPECT_EQ(open.attempts("sshd", "invalid_user"), 1u);
  Feed end;
  end.lines("Dec  6 02:50:28 bwhost sshd[8745]: Invalid user mallory from 10.77.0.15 port 52557");
  end.engine->finish();
  EXPECT_EQ(end.attempts("sshd", "invalid_user"), 1u);
}

TEST(WatchAttempts, OpenSsh98SshdSessionIsCorrelatedToo) {
  std::string log(k_invalid_user_wrong_password);
  for (size_t p; (p = log.find("sshd[")) != std::string::npos;)
    log.replace(p, 5, "sshd-session[");
  EXPECT_EQ(attempts_of(log), 1u);
}

TEST(WatchAttempts, RsyslogRepeatedMessagesExpand) {
  Feed r;
  r.lines(
      "Dec  6 02:50:31 bwhost sshd[8786]: Failed password for alice from 10.77.0.16 port 54239 "
      "ssh2\n"
      "Dec  6 02:50:38 bwhost sshd[8786]: message repeated 2 times: [ Failed password for alice "
      "from 10.77.0.16 port 54239 ssh2]\n");
  EXPECT_EQ(r.attempts("sshd"), 3u);
  ASSERT_EQ(r.bans.size(), 1u);
  // Not a repetition: text after the bracket, or no count.
  Feed n;
  n.lines("Dec  6 02:50:38 bwhost sshd[1]: message repeated 2 times: [ Failed password for a from "
          "10.0.0.1 port 1 ssh2] x\n"
          "Dec  6 02:50:38 bwhost sshd[1]: message repeated times: [ Failed password for a from "
          "10.0.0.1 port 1 ssh2]\n");
  EXPECT_EQ(n.attempts("sshd"), 0u);
}

TEST(WatchAttempts, SudoCountsItsIncorrectPasswordAttempts) {
  Feed r;
  r.lines("Dec  6 02:50:38 bwhost sudo[77]:    alice : 3 incorrect password attempts ; TTY=pts/0 ; "
          "PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id\n"
          "Dec  6 02:51:38 bwhost sudo[78]:    alice : 1 incorrect password attempt ; TTY=pts/0 ; "
          "PWD=/home/alice ; USER=root ; COMMAND=/usr/bin/id\n");
  EXPECT_EQ(r.attempts("sudo", "incorrect_password"), 4u);
}

TEST(WatchAttempts, NginxChallengeIsNoFailureAndAWrongPasswordCountsOnce) {
  // git and curl --anyauth: a 401 without credentials, then the request
  // with them (200). Three times: no failure, no ban.
  constexpr std::string_view k_challenge = R"(
192.0.2.50 - - [06/Dec/2024:02:50:00 +0000] "GET /repo.git/info/refs HTTP/1.1" 401 179 "-" "git/2.39.5"
192.0.2.50 - alice [06/Dec/2024:02:50:00 +0000] "GET /repo.git/info/refs HTTP/1.1" 200 59 "-" "git/2.39.5"
2024/12/06 02:50:00 [error] 12#12: *1 no user/password was provided for basic authentication, client: 192.0.2.50, server: _, request: "GET /repo.git/info/refs HTTP/1.1", host: "h"
)";
  Feed r;
  for (int i = 0; i < 3; ++i)
    r.lines(k_challenge);
  EXPECT_EQ(r.attempts("nginx"), 0u);
  EXPECT_TRUE(r.bans.empty());
  // A wrong password is written to both logs: counted once.
  constexpr std::string_view k_wrong = R"(
2024/12/06 02:51:00 [error] 12#12: *2 user "alice": password mismatch, client: 192.0.2.51, server: _, request: "GET / HTTP/1.1", host: "h"
192.0.2.51 - alice [06/Dec/2024:02:51:00 +0000] "GET / HTTP/1.1" 401 179 "-" "curl/7.88.1"
)";
  Feed w;
  w.lines(k_wrong);
  EXPECT_EQ(w.attempts("nginx"), 1u);
  EXPECT_EQ(w.attempts("nginx", "http_401"), 1u);
  // failures_from: error_log counts the error.log line instead.
  Feed e;
  e.cfg.matchers.nginx_failures = NginxFailures::error_log;
  e.start();
  e.lines(k_wrong);
  EXPECT_EQ(e.attempts("nginx"), 1u);
  EXPECT_EQ(e.attempts("nginx", "basic_auth_mismatch"), 1u);
}

TEST(WatchAttempts, LiveWindowsUseTheLogsOwnTime) {
  // Three failures 40 minutes apart, read at once after a restart: the
  // log says they were never within findtime.
  Feed r;
  int64_t now = k_ref + 7200;
  r.lines("Dec  6 01:00:00 bwhost sshd[1]: Failed password for a from 192.0.2.7 port 1 ssh2\n"
          "Dec  6 01:40:00 bwhost sshd[2]: Failed password for a from 192.0.2.7 port 1 ssh2\n"
          "Dec  6 02:20:00 bwhost sshd[3]: Failed password for a from 192.0.2.7 port 1 ssh2\n",
          now);
  EXPECT_EQ(r.attempts("sshd"), 3u);
  EXPECT_TRUE(r.bans.empty());
  // Within 10 minutes by the log: a ban, recorded at arrival time.
  r.lines("Dec  6 02:21:00 bwhost sshd[4]: Failed password for a from 192.0.2.7 port 1 ssh2\n"
          "Dec  6 02:22:00 bwhost sshd[5]: Failed password for a from 192.0.2.7 port 1 ssh2\n",
          now);
  ASSERT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(r.bans[0].time, now);
}

TEST(WatchAttempts, JailsSeeOnlyTheirOwnSources) {
  Feed r;
  const std::string forged =
      "Dec  6 02:50:00 bwhost sshd[1]: Failed password for a from 192.0.2.9 port 1 ssh2";
  // `logger -t sshd` lands in /var/log/syslog, which the sshd jail does not read.
  Origin syslog;
  syslog.file = "/var/log/syslog";
  for (int i = 0; i < 5; ++i)
    r.engine->process(forged, k_ref, syslog);
  EXPECT_EQ(r.attempts("sshd"), 0u);
  EXPECT_EQ(r.engine->counters().events_outside_sources, 5u);
  EXPECT_TRUE(r.bans.empty());
  Origin auth;
  auth.file = "/var/log/auth.log";
  for (int i = 0; i < 3; ++i)
    r.engine->process(forged, k_ref, auth);
  EXPECT_EQ(r.attempts("sshd"), 3u);
  EXPECT_EQ(r.bans.size(), 1u);

  // The journal: _SYSTEMD_UNIT by default; an identifier only when a jail
  // asks for it.
  Feed j;
  j.cfg.jails[0].logs.clear();
  j.cfg.jails[0].units = {"ssh.service"};
  j.start();
  Origin evil;
  evil.unit = "evil.service";
  evil.ident = "sshd";
  Origin ssh;
  ssh.unit = "ssh.service";
  ssh.ident = "sshd";
  j.engine->process(forged, k_ref, evil);
  EXPECT_EQ(j.attempts("sshd"), 0u);
  j.engine->process(forged, k_ref, ssh);
  EXPECT_EQ(j.attempts("sshd"), 1u);
  Feed i;
  i.cfg.jails[0].logs.clear();
  i.cfg.jails[0].identifiers = {"sshd"};
  i.start();
  i.engine->process(forged, k_ref, evil);
  EXPECT_EQ(i.attempts("sshd"), 1u);
}

TEST(WatchAttempts, CustomPatternsSeeLinesABuiltinMatcherClaimed) {
  Feed r;
  JailConfig c = r.cfg.jails[0];
  c.name = "sshd-root";
  c.services.clear();
  c.failregex = {{R"(^Failed password for root from <HOST> port)", 1}};
  c.maxretry = 1;
  r.cfg.jails.push_back(c);
  r.start();
  r.lines("Dec  6 02:50:00 bwhost sshd[1]: Failed password for root from 192.0.2.10 port 1 ssh2");
  EXPECT_EQ(r.attempts("sshd"), 1u);
  ASSERT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(r.bans[0].jail, "sshd-root");
}
