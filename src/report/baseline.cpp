// --baseline: the open findings of this run against those of a previous
// bulwark.audit/v1 JSON report. Identity is fingerprint() (check, subject,
// first evidence path), the same key SARIF's partialFingerprints carry, so a
// dashboard and the pipeline agree on what is new. Fingerprints are
// recomputed from the previous report's fields rather than read from it, so
// reports written before the "fingerprint" field existed compare too.

#include <bulwark/core/hostfs.hpp>
#include <bulwark/report/report.hpp>

#include <cstring>
#include <map>
#include <nlohmann/json.hpp>

namespace bulwark::report {

namespace {

bool is_open(std::string_view status) {
  return status == "fail" || status == "warn" || status == "waived";
}

BaselineEntry entry(const Finding &f) {
  return BaselineEntry{fingerprint(f),
                       f.check,
                       f.subject,
                       f.evidence.empty() ? "" : f.evidence.front().path,
                       std::string(to_string(f.severity)),
                       std::string(to_string(f.status)),
                       f.message};
}

int baseline_line_of(std::string_view text, size_t byte) {
  int line = 1;
  for (size_t i = 0; i < byte && i < text.size(); ++i)
    line += text[i] == '\n';
  return line;
}

} // namespace

Result<BaselineDiff> compare_with_baseline(const AuditReport &r, std::string_view previous_json,
                                           const std::string &name) {
  nlohmann::json j;
  try {
    j = nlohmann::json::parse(previous_json);
  } catch (const nlohmann::json::parse_error &e) {
    return Error{std::string("not a JSON report: ") + e.what(), name,
                 baseline_line_of(previous_json, e.byte == 0 ? 0 : e.byte - 1)};
  }
  if (!j.is_object() || !j.contains("schema") || j["schema"] != "bulwark.audit/v1")
    return Error{"not a bulwark.audit/v1 report (no \"schema\": \"bulwark.audit/v1\")", name, 1};
  if (!j.contains("findings") || !j["findings"].is_array())
    return Error{"a bulwark.audit/v1 report without a \"findings\" list", name, 1};
  auto str = [](const nlohmann::json &o, const char *k) {
    auto it = o.find(k);
    return it != o.end() && it->is_string() ? it->get<std::string>() : std::string();
  };
  // Multisets: two open findings with one fingerprint are two findings.
  std::multimap<std::string, BaselineEntry> before;
  for (auto &f : j["findings"]) {
    if (!f.is_object() || !is_open(str(f, "status")))
      continue;
    BaselineEntry e;
    e.check = str(f, "check");
    e.subject = str(f, "subject");
    if (auto ev = f.find("evidence");
        ev != f.end() && ev->is_array() && !ev->empty() && ev->front().is_object())
      e.path = str(ev->front(), "path");
    e.severity = str(f, "severity");
    e.status = str(f, "status");
    e.message = str(f, "message");
    e.fingerprint = fingerprint(e.check, e.subject, e.path);
    before.emplace(e.fingerprint, std::move(e));
  }
  BaselineDiff d;
  d.file = name;
  for (auto &f : r.findings) {
    if (!is_open(to_string(f.status)))
      continue;
    BaselineEntry e = entry(f);
    auto it = before.find(e.fingerprint);
    if (it == before.end()) {
      d.added.push_back(std::move(e));
    } else {
      before.erase(it);
      d.remaining.push_back(std::move(e));
    }
  }
  for (auto &[fp, e] : before)
    d.fixed.push_back(e);
  return d;
}

Result<BaselineDiff> load_baseline(const AuditReport &r, const std::string &host_path) {
  std::string text = TRY(HostFs::read_file(host_path, 256 * 1024 * 1024, "cannot read baseline"));
  return compare_with_baseline(r, text, host_path);
}

} // namespace bulwark::report
