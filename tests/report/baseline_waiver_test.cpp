// Waivers (--waivers) and baselines (--baseline, --fail-on-new): parsing with
// file:line errors, what a waiver does to status, summary, score and exit
// code, and new/fixed/remaining against a previous JSON report.

#include "report_fixtures.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/report/report.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::slurp;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

Finding finding(std::string check, Status s, std::string subject = "", std::string path = "/a",
                int line = 1) {
  Finding f;
  f.check = std::move(check);
  f.status = s;
  f.severity = Severity::high;
  f.subject = std::move(subject);
  f.evidence = {Evidence{std::move(path), line, "x", "y", ""}};
  return f;
}

} // namespace

TEST(Waivers, ParseErrorsCarryFileAndLine) {
  struct Case {
    const char *yaml;
    int line;
    const char *message;
  } cases[] = {
      {"waivers:\n  - check: ssh.use-dns\n    justification: j\n    owner: o\n", 2,
       "without 'expires'"},
      {"waivers:\n  - check: ssh.nosuch\n    justification: j\n    owner: o\n    expires: "
       "2030-01-01\n",
       2, "unknown check 'ssh.nosuch'"},
      {"waivers:\n  - check: ssh.use-dns\n    justification: j\n    owner: o\n    expires: "
       "2030-02-30\n",
       5, "YYYY-MM-DD"},
      {"waivers:\n  - check: ssh.use-dns\n    justification: j\n    owner: o\n    expires: "
       "2030-01-01\n    colour: red\n",
       6, "unknown waiver field 'colour'"},
      {"waivers:\n  - check: [a]\n", 2, "'check' must be a string"},
      {"waivers: 3\n", 1, "must be a list"},
      {"waiver:\n  - check: ssh.use-dns\n", 2, "unknown key 'waiver'"},
      {"waivers:\n  - check: ssh.use-dns\n  justification: : :\n", 0, ""},
  };
  for (auto &c : cases) {
    auto r = parse_waivers(c.yaml, "w.yaml");
    ASSERT_FALSE(r.ok()) << c.yaml;
    EXPECT_EQ(r.error().path, "w.yaml");
    if (c.line > 0) {
      EXPECT_EQ(r.error().line, c.line) << c.yaml << " -> " << r.error().to_string();
      EXPECT_NE(r.error().message.find(c.message), std::string::npos) << r.error().to_string();
    }
  }
  auto ok = parse_waivers("waivers:\n  - check: ssh.use-dns\n    subject: sshd\n    "
                          "justification: j\n    owner: o\n    expires: 2024-02-29\n",
                          "w.yaml");
  ASSERT_TRUE(ok.ok()) << ok.error().to_string();
  EXPECT_EQ((*ok)[0].source, "w.yaml:2");
  EXPECT_EQ(*(*ok)[0].subject, "sshd");
  EXPECT_TRUE(parse_waivers("waivers: []\n", "w").ok());
  EXPECT_TRUE(parse_waivers("", "w").ok());
}

TEST(Waivers, AppliedExpiredAndUnused) {
  std::vector<Finding> fs = {finding("ssh.use-dns", Status::fail, "sshd"),
                             finding("ssh.x11-forwarding", Status::warn, "sshd"),
                             finding("ssh.tcp-keepalive", Status::fail, "a"),
                             finding("ssh.tcp-keepalive", Status::fail, "b"),
                             finding("ssh.protocol", Status::pass)};
  std::vector<Waiver> ws = {
      {"ssh.use-dns", std::nullopt, "dns ok", "ops", "2030-01-01", "w:1"},
      {"ssh.x11-forwarding", std::string("sshd"), "old", "ops", "2020-01-01", "w:2"},
      {"ssh.tcp-keepalive", std::string("b"), "only b", "ops", "2030-01-01", "w:3"},
      {"ssh.protocol", std::nullopt, "passes anyway", "ops", "2030-01-01", "w:4"},
      {"ssh.use-dns", std::nullopt, "shadowed", "ops", "2030-01-01", "w:5"},
  };
  auto uses = apply_waivers(fs, ws, "2025-06-01");
  EXPECT_EQ(fs[0].status, Status::waived);
  EXPECT_EQ(fs[0].waiver->justification, "dns ok");
  EXPECT_EQ(fs[0].waiver->original, Status::fail);
  // Expired: the finding keeps its status and carries the note.
  EXPECT_EQ(fs[1].status, Status::warn);
  ASSERT_TRUE(fs[1].waiver);
  EXPECT_TRUE(fs[1].waiver->expired);
  // Subject-specific.
  EXPECT_EQ(fs[2].status, Status::fail);
  EXPECT_EQ(fs[3].status, Status::waived);
  // A pass is never waived.
  EXPECT_EQ(fs[4].status, Status::pass);
  EXPECT_EQ(uses[0].state, WaiverUse::State::applied);
  EXPECT_EQ(uses[1].state, WaiverUse::State::expired);
  EXPECT_EQ(uses[1].matched, 1);
  EXPECT_EQ(uses[2].state, WaiverUse::State::applied);
  EXPECT_EQ(uses[3].state, WaiverUse::State::unused);
  EXPECT_EQ(uses[4].state, WaiverUse::State::unused);
  // The expiry date itself still applies.
  std::vector<Finding> last = {finding("ssh.use-dns", Status::fail)};
  apply_waivers(last, {ws[0]}, "2030-01-01");
  EXPECT_EQ(last[0].status, Status::waived);
}

TEST(Waivers, CliExitCodeSummaryScoreAndJson) {
  TempRoot r;
  r.write("/etc/ssh/sshd_config", "PermitRootLogin yes\nPasswordAuthentication no\n"
                                  "KbdInteractiveAuthentication no\n");
  std::string base =
      k_bin +
      " audit --only ssh.permit-root-login,ssh.max-auth-tries,ssh.permit-empty-passwords --root " +
      r.path();
  EXPECT_EQ(run_command(base).exit_code, 1);
  r.write("/w.yaml", "waivers:\n  - check: ssh.permit-root-login\n    justification: \"migration, "
                     "ticket 42\"\n    owner: alice\n    expires: 2999-12-31\n  - check: "
                     "ssh.x11-forwarding\n    justification: stale\n    owner: bob\n    expires: "
                     "2999-12-31\n");
  auto res = run_command(base + " --format json --waivers " + r.host("/w.yaml"));
  EXPECT_EQ(res.exit_code, 0) << res.err; // waived findings do not count for --fail-on
  auto j = nlohmann::json::parse(res.out);
  EXPECT_EQ(j["summary"]["waived"], 1);
  EXPECT_EQ(j["summary"]["fail"], 1); // max-auth-tries
  for (auto &f : j["findings"])
    if (f["check"] == "ssh.permit-root-login") {
      EXPECT_EQ(f["status"], "waived");
      EXPECT_EQ(f["waiver"]["justification"], "migration, ticket 42");
      EXPECT_EQ(f["waiver"]["owner"], "alice");
      EXPECT_EQ(f["waiver"]["original_status"], "fail");
    }
  EXPECT_EQ(j["waivers"][0]["state"], "applied");
  EXPECT_EQ(j["waivers"][1]["state"], "unused");
  EXPECT_EQ(j["waivers"][1]["source"], r.host("/w.yaml") + ":6");
  // Score: the waived high failure no longer counts (only max-auth-tries fails).
  auto plain = nlohmann::json::parse(run_command(base + " --format json").out);
  // Weights high 5, medium 3: without the waiver 5/(5+5+3), with it 5/(5+3).
  EXPECT_EQ(plain["score"], 38);
  EXPECT_EQ(j["score"], 63);
  // Text says what became of each waiver.
  auto text = run_command(base + " --waivers " + r.host("/w.yaml"));
  EXPECT_NE(text.out.find("WAIVE"), std::string::npos);
  EXPECT_NE(text.out.find("waived: migration, ticket 42 (owner alice"), std::string::npos);
  EXPECT_NE(text.out.find("matches no open finding"), std::string::npos);
  EXPECT_NE(text.out.find(", 1 waived; score"), std::string::npos);
  // Expired: the failure is back, and the report says why.
  r.write("/old.yaml", "waivers:\n  - check: ssh.permit-root-login\n    justification: j\n    "
                       "owner: o\n    expires: 2001-01-01\n");
  auto expired = run_command(base + " --waivers " + r.host("/old.yaml"));
  EXPECT_EQ(expired.exit_code, 1);
  EXPECT_NE(expired.out.find("EXPIRED on 2001-01-01, no longer applies"), std::string::npos);
  // Errors in the waiver file: file:line, exit 2.
  r.write("/bad.yaml", "waivers:\n  - check: ssh.permit-root-login\n    owner: o\n");
  auto bad = run_command(base + " --waivers " + r.host("/bad.yaml"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("bad.yaml:2: waiver without 'justification'"), std::string::npos)
      << bad.err;
  EXPECT_EQ(run_command(base + " --waivers /nonexistent.yaml").exit_code, 2);
}

TEST(Baseline, NewFixedRemainingAndFailOnNew) {
  TempRoot r;
  r.write("/etc/ssh/sshd_config", "PermitRootLogin yes\nX11Forwarding yes\n");
  std::string base = k_bin +
                     " audit --only ssh.permit-root-login,ssh.x11-forwarding,ssh.use-dns --root " +
                     r.path();
  ASSERT_EQ(run_command(base + " --output json=" + r.host("/before.json")).exit_code, 1);
  // Fix X11, break UseDNS, and shift every line down: root login remains.
  r.write("/etc/ssh/sshd_config", "# moved\n\nUseDNS yes\nPermitRootLogin yes\n");
  auto res = run_command(base + " --format json --baseline " + r.host("/before.json"));
  EXPECT_EQ(res.exit_code, 1);
  auto j = nlohmann::json::parse(res.out);
  auto &b = j["baseline"];
  EXPECT_EQ(b["counts"]["new"], 1);
  EXPECT_EQ(b["counts"]["fixed"], 1);
  EXPECT_EQ(b["counts"]["remaining"], 1);
  EXPECT_EQ(b["new"][0]["check"], "ssh.use-dns");
  EXPECT_EQ(b["fixed"][0]["check"], "ssh.x11-forwarding");
  EXPECT_EQ(b["remaining"][0]["check"], "ssh.permit-root-login");
  // Same fingerprint as SARIF and as the finding's own field.
  for (auto &f : j["findings"])
    if (f["check"] == "ssh.use-dns") {
      EXPECT_EQ(f["fingerprint"], b["new"][0]["fingerprint"]);
    }
  auto text = run_command(base + " --baseline " + r.host("/before.json"));
  EXPECT_NE(text.out.find("1 new, 1 fixed, 1 remaining"), std::string::npos) << text.out;
  EXPECT_NE(text.out.find("NEW   low      ssh.use-dns"), std::string::npos) << text.out;
  // --fail-on-new: the remaining high failure does not fail the run; the new
  // one is low, so it fails only with --fail-on low.
  EXPECT_EQ(
      run_command(base + " --baseline " + r.host("/before.json") + " --fail-on-new").exit_code, 0);
  EXPECT_EQ(
      run_command(base + " --baseline " + r.host("/before.json") + " --fail-on-new --fail-on low")
          .exit_code,
      1);
  // Errors: not JSON (with the line), not our schema, missing --baseline.
  r.write("/broken.json", "{\n  \"schema\": \"bulwark.audit/v1\",\n  oops\n}\n");
  auto broken = run_command(base + " --baseline " + r.host("/broken.json"));
  EXPECT_EQ(broken.exit_code, 2);
  EXPECT_NE(broken.err.find("broken.json:3:"), std::string::npos) << broken.err;
  r.write("/other.json", "{\"schema\": \"something/v2\", \"findings\": []}");
  EXPECT_EQ(run_command(base + " --baseline " + r.host("/other.json")).exit_code, 2);
  EXPECT_EQ(run_command(base + " --fail-on-new").exit_code, 2);
}

TEST(Baseline, DuplicatesCountAsSeparateFindings) {
  AuditReport now;
  now.findings = {finding("ssh.use-dns", Status::fail), finding("ssh.use-dns", Status::fail),
                  finding("ssh.use-dns", Status::pass, "", "/b")};
  nlohmann::json before = {{"schema", "bulwark.audit/v1"},
                           {"findings",
                            {{{"check", "ssh.use-dns"},
                              {"subject", ""},
                              {"status", "fail"},
                              {"evidence", {{{"path", "/a"}}}}},
                             {{"check", "ssh.gone"}, {"subject", ""}, {"status", "waived"}}}}};
  auto d = report::compare_with_baseline(now, before.dump(), "b.json");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->added.size(), 1u);
  EXPECT_EQ(d->remaining.size(), 1u);
  ASSERT_EQ(d->fixed.size(), 1u);
  EXPECT_EQ(d->fixed[0].check, "ssh.gone");
}
