#include <bulwark/report/report.hpp>

#include <cmath>
#include <nlohmann/json.hpp>

namespace bulwark::report {

std::string render_json(const AuditReport &r) {
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
    fj["title"] = f.title;
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
    fj["fix"] = f.fix;
    fj["references"] = f.references;
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
  // Untrusted bytes from the target (file contents in "found") may be
  // invalid UTF-8: replace rather than throw.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace bulwark::report
