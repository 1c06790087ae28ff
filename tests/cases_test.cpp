// Tests as data (DuckDB's sqllogictest is the model): every directory
// tests/cases/<domain>/<case>/ is one test. It holds the fixture root in
// root/ and the expected verdicts in expect.yaml:
//
//   about: what the case shows (one line, required)
//   checks: [ssh.permit-root-login, ssh.config-valid]  # --only, required
//   profile: baseline            # optional: a built-in name, or a file of the case
//   compose: [app/compose.yaml]  # optional: --compose files, relative to the case
//   findings: 2                  # optional: exactly this many findings in all
//   score_below: 100             # optional: compute_score() < N
//   fails_at: high               # optional: fails_at(report, high) holds
//   passes_at: critical          # optional: fails_at(report, critical) does not
//   expect:                      # required, at least one entry
//     - check: ssh.permit-root-login
//       subject: sshd            # optional, default ""
//       status: error
//       message: cannot parse    # optional: a substring of the message
//       evidence: /etc/ssh/sshd_config:3  # optional: some evidence has this
//                                         # path (suffix) and line
//
// The audit runs in-process (run_audit) on root/. An expected finding that is
// missing fails, so does a directory without expect.yaml or with nothing to
// expect: a case cannot pass by asserting nothing.

#include "audit_helper.hpp"
#include "support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/yaml.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <string>
#include <vector>

namespace fs = std::filesystem;
using namespace bulwark;

namespace {

const fs::path k_cases = fs::path(BULWARK_SOURCE_DIR) / "tests" / "cases";

struct Case {
  std::string domain;
  std::string name;
  fs::path dir;
};

// Every tests/cases/<domain>/<case>/ directory, sorted.
std::vector<Case> find_cases() {
  std::vector<Case> out;
  std::error_code ec;
  for (auto &d : fs::directory_iterator(k_cases, ec)) {
    if (!d.is_directory())
      continue;
    for (auto &c : fs::directory_iterator(d.path(), ec))
      if (c.is_directory())
        out.push_back({d.path().filename().string(), c.path().filename().string(), c.path()});
  }
  std::sort(out.begin(), out.end(), [](auto &a, auto &b) { return a.dir < b.dir; });
  return out;
}

std::string test_name(const ::testing::TestParamInfo<Case> &info) {
  std::string s = info.param.domain + "_" + info.param.name;
  for (char &c : s)
    if (!std::isalnum(static_cast<unsigned char>(c)))
      c = '_';
  return s;
}

std::string slurp(const fs::path &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

std::vector<std::string> strings(const yaml::Node *n) {
  std::vector<std::string> out;
  if (n == nullptr)
    return out;
  if (n->is_scalar())
    out.push_back(n->scalar);
  for (auto &i : n->items)
    out.push_back(i.scalar);
  return out;
}

std::string scalar(const yaml::Node &n, std::string_view key, std::string dflt = "") {
  const yaml::Node *v = n.find(key);
  return v && v->is_scalar() ? v->scalar : dflt;
}

std::optional<Status> parse_status(std::string_view s) {
  for (Status x : {Status::pass, Status::fail, Status::warn, Status::not_applicable, Status::error,
                   Status::waived})
    if (to_string(x) == s)
      return x;
  return std::nullopt;
}

bool ends_with(std::string_view s, std::string_view tail) {
  return s.size() >= tail.size() && s.substr(s.size() - tail.size()) == tail;
}

// "path:line" or "path": does some evidence of `f` match?
bool has_evidence(const Finding &f, const std::string &want) {
  std::string path = want;
  std::optional<int> line;
  if (auto colon = want.rfind(':');
      colon != std::string::npos && colon + 1 < want.size() &&
      want.find_first_not_of("0123456789", colon + 1) == std::string::npos) {
    path = want.substr(0, colon);
    line = std::stoi(want.substr(colon + 1));
  }
  for (auto &e : f.evidence)
    if (ends_with(e.path, path) && (!line || e.line == *line))
      return true;
  return false;
}

std::string evidence_text(const Finding &f) {
  std::string s;
  for (auto &e : f.evidence)
    s += "    " + e.path + ":" + std::to_string(e.line) + " found=" + e.found + "\n";
  return s;
}

class CaseTest : public ::testing::TestWithParam<Case> {};

TEST_P(CaseTest, VerdictsAsExpected) {
  const Case &c = GetParam();
  const fs::path expect_file = c.dir / "expect.yaml";
  ASSERT_TRUE(fs::is_regular_file(expect_file)) << c.dir << " has no expect.yaml";
  ASSERT_TRUE(fs::is_directory(c.dir / "root")) << c.dir << " has no root/";
  auto doc = yaml::parse(slurp(expect_file), expect_file.string());
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  ASSERT_TRUE(doc->is_mapping()) << expect_file << " is not a mapping";
  static const std::set<std::string, std::less<>> known = {"about",    "checks",    "profile",
                                                           "compose",  "findings",  "score_below",
                                                           "fails_at", "passes_at", "expect"};
  for (auto &[k, v] : doc->entries)
    ASSERT_TRUE(known.count(k)) << expect_file << ": unknown key " << k;
  EXPECT_FALSE(scalar(*doc, "about").empty()) << expect_file << ": say what the case shows";

  test::AuditOptions opt;
  opt.only = strings(doc->find("checks"));
  ASSERT_FALSE(opt.only.empty()) << expect_file << ": checks: names none";
  if (std::string p = scalar(*doc, "profile"); !p.empty())
    opt.profiles = {fs::exists(c.dir / p) ? (c.dir / p).string() : p};
  for (auto &f : strings(doc->find("compose")))
    opt.compose.push_back((c.dir / f).string());

  const yaml::Node *expect = doc->find("expect");
  ASSERT_TRUE(expect && expect->is_sequence() && !expect->items.empty())
      << expect_file << ": expect: lists no finding";

  test::Findings got = test::run_checks((c.dir / "root").string(), opt);
  ASSERT_FALSE(got.empty()) << "the audit reported no finding";

  for (auto &e : expect->items) {
    std::string check = scalar(e, "check");
    std::string subject = scalar(e, "subject");
    auto status = parse_status(scalar(e, "status"));
    ASSERT_FALSE(check.empty()) << expect_file << ":" << e.line << ": no check";
    ASSERT_TRUE(status) << expect_file << ":" << e.line << ": bad status";
    SCOPED_TRACE(expect_file.string() + ":" + std::to_string(e.line) + ": " + check + " [" +
                 subject + "]");
    // A check may report one subject more than once (a parse error beside
    // the verdict): the expected one is the one with the expected status.
    std::vector<const Finding *> same;
    for (const Finding *x : got.of(check))
      if (x->subject == subject)
        same.push_back(x);
    ASSERT_FALSE(same.empty()) << "no finding; the audit reported:\n" << got.dump();
    const Finding *pick = same.front();
    for (const Finding *x : same)
      if (x->status == *status) {
        pick = x;
        break;
      }
    const Finding &f = *pick;
    EXPECT_EQ(to_string(f.status), to_string(*status)) << f.message;
    if (std::string m = scalar(e, "message"); !m.empty()) {
      EXPECT_NE(f.message.find(m), std::string::npos) << "message: " << f.message;
    }
    if (std::string ev = scalar(e, "evidence"); !ev.empty()) {
      EXPECT_TRUE(has_evidence(f, ev)) << "no evidence " << ev << " among:\n" << evidence_text(f);
    }
  }

  if (std::string n = scalar(*doc, "findings"); !n.empty()) {
    EXPECT_EQ(got.all().size(), static_cast<size_t>(std::stoi(n))) << got.dump();
  }
  const AuditReport &rep = got.report();
  if (std::string n = scalar(*doc, "score_below"); !n.empty()) {
    EXPECT_LT(compute_score(rep.findings), std::stoi(n)) << got.dump();
    EXPECT_EQ(rep.score, compute_score(rep.findings));
  }
  if (std::string s = scalar(*doc, "fails_at"); !s.empty()) {
    auto sev = parse_severity(s);
    ASSERT_TRUE(sev) << expect_file << ": fails_at: " << s;
    EXPECT_TRUE(fails_at(rep, *sev)) << "nothing fails at " << s << ":\n" << got.dump();
  }
  if (std::string s = scalar(*doc, "passes_at"); !s.empty()) {
    auto sev = parse_severity(s);
    ASSERT_TRUE(sev) << expect_file << ": passes_at: " << s;
    EXPECT_FALSE(fails_at(rep, *sev)) << "something fails at " << s << ":\n" << got.dump();
  }
}

INSTANTIATE_TEST_SUITE_P(Cases, CaseTest, ::testing::ValuesIn(find_cases()), test_name);

// The parameterised test above runs whatever it finds: this one makes sure it
// finds the cases at all (a wrong path would otherwise run zero of them), and
// that every domain with configuration parsers has its fail-closed case.
TEST(Cases, EveryParsedDomainHasAFailClosedCase) {
  auto cases = find_cases();
  ASSERT_GE(cases.size(), 12u) << "tests/cases not found under " << k_cases;
  std::set<std::string> domains;
  for (auto &c : cases)
    if (c.name.rfind("broken-", 0) == 0)
      domains.insert(c.domain);
  for (const char *d : {"ssh", "sysctl", "pam", "accounts", "logging", "firewall", "fail2ban",
                        "postgres", "redis", "tls", "vpn", "container"})
    EXPECT_TRUE(domains.count(d)) << "no tests/cases/" << d << "/broken-* case";
}

} // namespace
