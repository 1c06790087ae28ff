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
  for (Status s :
       {Status::pass, Status::fail, Status::warn, Status::not_applicable, Status::error}) {
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
    findings.push_back(fj);
  }
  j["findings"] = findings;
  // Untrusted bytes from the target (file contents in "found") may be
  // invalid UTF-8: replace rather than throw.
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace bulwark::report
