// The JSON reporter writes findings straight into its output. Its oracle is
// the tree-based writer it replaced (nlohmann's own dump(2)), kept here: the
// two must agree byte for byte on random reports full of hostile bytes, and
// the output must parse back to the same values.

#include "../support.hpp"
#include "report_fixtures.hpp"

#include <bulwark/report/report.hpp>

#include <cmath>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <random>

using namespace bulwark;

namespace {

// The writer render_json used until it streamed (report/json.cpp before the
// change), unchanged.
std::string reference_render_json(const AuditReport &r) {
  using nlohmann::ordered_json;
  ordered_json j;
  j["schema"] = "bulwark.audit/v1";
  j["tool"] = {{"name", "bulwark"}, {"version", BULWARK_VERSION}};
  j["target"] = {{"root", r.root}, {"live", r.live}, {"hostname", r.hostname}};
  j["profiles"] = r.profiles;
  j["duration_ms"] = std::round(r.duration_ms * 10) / 10;
  j["score"] = r.score;
  ordered_json summary = ordered_json::object();
  for (Status s : {Status::pass, Status::fail, Status::warn, Status::not_applicable, Status::error,
                   Status::waived}) {
    auto it = r.summary.find(s);
    summary[std::string(to_string(s))] = it == r.summary.end() ? 0 : it->second;
  }
  j["summary"] = summary;
  ordered_json findings = ordered_json::array();
  for (auto &f : r.findings) {
    ordered_json fj;
    fj["check"] = f.check;
    fj["title"] = f.title.str();
    fj["severity"] = to_string(f.severity);
    fj["status"] = to_string(f.status);
    fj["subject"] = f.subject;
    fj["message"] = f.message;
    ordered_json ev = ordered_json::array();
    for (auto &e : f.evidence)
      ev.push_back({{"path", e.path},
                    {"line", e.line},
                    {"found", e.found},
                    {"expected", e.expected},
                    {"context", e.context}});
    fj["evidence"] = ev;
    fj["fix"] = f.fix.str();
    fj["references"] = f.references.items();
    fj["fingerprint"] = fingerprint(f);
    if (f.waiver)
      fj["waiver"] = {{"justification", f.waiver->justification},
                      {"owner", f.waiver->owner},
                      {"expires", f.waiver->expires},
                      {"source", f.waiver->source},
                      {"expired", f.waiver->expired},
                      {"original_status", to_string(f.waiver->original)}};
    findings.push_back(fj);
  }
  j["findings"] = findings;
  if (r.waivers) {
    ordered_json ws = ordered_json::array();
    for (auto &u : *r.waivers)
      ws.push_back(
          {{"check", u.waiver.check},
           {"subject", u.waiver.subject ? ordered_json(*u.waiver.subject) : ordered_json()},
           {"justification", u.waiver.justification},
           {"owner", u.waiver.owner},
           {"expires", u.waiver.expires},
           {"source", u.waiver.source},
           {"state", to_string(u.state)},
           {"matched", u.matched}});
    j["waivers"] = ws;
  }
  if (r.baseline) {
    auto list = [](const std::vector<BaselineEntry> &es) {
      ordered_json a = ordered_json::array();
      for (auto &e : es)
        a.push_back({{"fingerprint", e.fingerprint},
                     {"check", e.check},
                     {"subject", e.subject},
                     {"path", e.path},
                     {"severity", e.severity},
                     {"status", e.status},
                     {"message", e.message}});
      return a;
    };
    j["baseline"] = {{"file", r.baseline->file},
                     {"counts",
                      {{"new", r.baseline->added.size()},
                       {"fixed", r.baseline->fixed.size()},
                       {"remaining", r.baseline->remaining.size()}}},
                     {"new", list(r.baseline->added)},
                     {"fixed", list(r.baseline->fixed)},
                     {"remaining", list(r.baseline->remaining)}};
  }
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

// Strings from plain ASCII to every kind of bad byte.
std::string random_text(std::mt19937 &rng) {
  static const std::vector<std::string> pieces = {"",
                                                  "PermitRootLogin yes",
                                                  "/etc/ssh/sshd_config",
                                                  "\"",
                                                  "\\",
                                                  "\n",
                                                  "\t",
                                                  "\x01",
                                                  "\x7f",
                                                  "é",
                                                  "\xff",
                                                  "\xc3",
                                                  "\xe2\x82",
                                                  "\xf0\x9f\x92\xa9",
                                                  "\xed\xa0\x80",
                                                  "\xef\xbf\xbe",
                                                  "</script>",
                                                  "{\"a\": [1]}",
                                                  std::string(1, '\0'),
                                                  "ok",
                                                  "§",
                                                  "—",
                                                  "\x1f\b\f\r",
                                                  "\xc2\x80",
                                                  "\xe0\xa0\x80",
                                                  "\xe0\x80\x80",
                                                  "\xf4\x8f\xbf\xbf",
                                                  "\xf4\x90\x80\x80",
                                                  "\xc0\xaf",
                                                  "\xf8\x88\x80\x80\x80"};
  std::string s;
  int n = static_cast<int>(rng() % 5);
  for (int i = 0; i < n; ++i)
    s += pieces[rng() % pieces.size()];
  return s;
}

AuditReport random_report(std::mt19937 &rng) {
  AuditReport r;
  r.root = random_text(rng);
  r.live = rng() % 2;
  r.hostname = random_text(rng);
  for (int i = static_cast<int>(rng() % 3); i > 0; --i)
    r.profiles.push_back(random_text(rng));
  r.duration_ms = static_cast<double>(rng() % 100000) / 7.0;
  r.score = static_cast<int>(rng() % 101);
  const Status statuses[] = {Status::pass,           Status::fail,  Status::warn,
                             Status::not_applicable, Status::error, Status::waived};
  for (int i = static_cast<int>(rng() % 8); i > 0; --i) {
    Finding f;
    f.check = rng() % 4 ? "container.privileged" : random_text(rng);
    f.title = random_text(rng);
    f.severity = static_cast<Severity>(rng() % 5);
    f.status = statuses[rng() % 6];
    f.subject = random_text(rng);
    f.message = random_text(rng);
    for (int e = static_cast<int>(rng() % 4); e > 0; --e)
      f.evidence.push_back(Evidence{random_text(rng), static_cast<int>(rng() % 5000),
                                    random_text(rng), random_text(rng), random_text(rng)});
    f.fix = random_text(rng);
    std::vector<std::string> refs;
    for (int k = static_cast<int>(rng() % 4); k > 0; --k)
      refs.push_back(random_text(rng));
    f.references = std::move(refs);
    if (rng() % 4 == 0)
      f.waiver = std::make_shared<const WaiverNote>(WaiverNote{random_text(rng), random_text(rng),
                                                               "2999-01-01", random_text(rng),
                                                               rng() % 2 == 0, Status::fail});
    ++r.summary[f.status];
    r.findings.push_back(std::move(f));
  }
  if (rng() % 3 == 0) {
    r.waivers.emplace();
    for (int i = static_cast<int>(rng() % 3); i > 0; --i) {
      WaiverUse u;
      u.waiver.check = random_text(rng);
      if (rng() % 2)
        u.waiver.subject = random_text(rng);
      u.waiver.justification = random_text(rng);
      u.state = static_cast<WaiverUse::State>(rng() % 3);
      u.matched = static_cast<int>(rng() % 4);
      r.waivers->push_back(u);
    }
  }
  if (rng() % 3 == 0) {
    r.baseline.emplace();
    r.baseline->file = random_text(rng);
    for (int i = static_cast<int>(rng() % 3); i > 0; --i)
      r.baseline->added.push_back(BaselineEntry{"ab", random_text(rng), random_text(rng), "",
                                                "high", "fail", random_text(rng)});
    for (int i = static_cast<int>(rng() % 2); i > 0; --i)
      r.baseline->fixed.push_back(BaselineEntry{"cd", "x", "", "", "low", "warn", ""});
  }
  return r;
}

} // namespace

TEST(JsonReport, SameBytesAsTheTreeWriterOnRandomHostileReports) {
  std::mt19937 rng(20261123);
  for (int i = 0; i < static_cast<int>(bulwark::test::oracle_cases(2000)); ++i) {
    AuditReport r = random_report(rng);
    std::string got = report::render_json(r);
    ASSERT_EQ(got, reference_render_json(r)) << "report " << i;
    // And it is JSON that reads back.
    auto j = nlohmann::json::parse(got, nullptr, false);
    ASSERT_FALSE(j.is_discarded()) << "report " << i;
    ASSERT_EQ(j["findings"].size(), r.findings.size());
  }
}

TEST(JsonReport, EmptyAndHostileReports) {
  AuditReport empty;
  EXPECT_EQ(report::render_json(empty), reference_render_json(empty));
  AuditReport h = test::hostile_report();
  EXPECT_EQ(report::render_json(h), reference_render_json(h));
}

TEST(JsonReport, StringEscapingAgreesWithNlohmannOnRandomBytes) {
  // Short strings over an alphabet biased towards the bytes that matter:
  // controls, quote, backslash, DEL, lead and continuation bytes.
  static const unsigned char alphabet[] = {0x00, 0x01, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x1f, 0x20,
                                           '"',  '\\', 'a',  0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0,
                                           0xbf, 0xc0, 0xc1, 0xc2, 0xdf, 0xe0, 0xe1, 0xec, 0xed,
                                           0xee, 0xef, 0xf0, 0xf1, 0xf3, 0xf4, 0xf5, 0xff};
  std::mt19937 rng(7);
  for (int i = 0; i < static_cast<int>(bulwark::test::oracle_cases(20000)); ++i) {
    std::string s;
    for (int n = static_cast<int>(rng() % 9); n > 0; --n)
      s.push_back(static_cast<char>(alphabet[rng() % sizeof alphabet]));
    AuditReport r;
    Finding f;
    f.message = s;
    r.findings.push_back(f);
    ASSERT_EQ(report::render_json(r), reference_render_json(r)) << testing::PrintToString(s);
  }
}
