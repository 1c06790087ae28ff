// SARIF 2.1.0 (OASIS, errata 01) as GitHub code scanning and the SARIF
// Multitool read it. Choices that the validator's warnings ask about:
// - locations: the target root is the uriBaseId "ROOT" (run.originalUriBaseIds,
//   an absolute file: URI ending in "/"); artifact URIs are relative to it,
//   percent-encoded. A finding whose evidence names no file (a built-in
//   default, a probe) has no location: SARIF allows it; inventing one would
//   point a reviewer at the wrong file.
// - region.startLine only when the line is known. Line 0 means the decision
//   was an absence (a setting missing from the file where it belongs), so
//   there is no line to point at: the location names the file without a
//   region. The Multitool's SARIF2017 warning ("region is absent") is that
//   case; its suggested whole-file region would need the file's length, and
//   a reporter does not read the target (DESIGN.md: reporters never touch
//   models or files).
// - partialFingerprints["bulwarkFinding/v1"] = fingerprint() (check, subject,
//   path): stable across edits above the setting and reworded messages.
// - results for fail and warn only; a waived finding is a result with an
//   external suppression carrying the justification.
// The Multitool's notes (not warnings) are deliberate too: message.text
// instead of message strings (SARIF2002: the messages carry values from the
// target); no versionControlProvenance (SARIF2003: the target is a
// filesystem, not a repository); the $schema URI is GitHub's documented one
// (SARIF2006 only checks it is reachable); rule ids are bulwark's public
// check ids (SARIF2009: docs/CHECKS.md, never renamed); no snippets or
// context regions (SARIF2010/2011: the reporter does not read target files;
// the found value is in result.properties.evidence);
// - rule.helpUri is absent (SARIF2012): the catalogue's fix and rationale travel in
//   help.text/help.markdown and fullDescription, and the rule has no page of
//   its own to link.

#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/report/escape.hpp>
#include <bulwark/report/report.hpp>

#include <map>
#include <nlohmann/json.hpp>

namespace bulwark::report {

namespace {

using nlohmann::ordered_json;

// RFC 3986: keep unreserved characters and "/", percent-encode every other
// byte.
std::string sentence(std::string s) {
  while (!s.empty() && (s.back() == ' ' || s.back() == '\n'))
    s.pop_back();
  if (s.empty())
    return "(no message).";
  if (s.back() != '.' && s.back() != '!' && s.back() != '?')
    s += '.';
  return s;
}

std::string security_severity(Severity s) {
  // GitHub's bands: critical > 9.0, high 7.0-8.9, medium 4.0-6.9, low 0.1-3.9.
  switch (s) {
  case Severity::critical: return "9.5";
  case Severity::high: return "8.0";
  case Severity::medium: return "5.5";
  case Severity::low: return "3.0";
  case Severity::info: return "0.0";
  }
  return "0.0";
}

// "ssh.permit-root-login" -> "SshPermitRootLogin": SARIF's rule name is an
// identifier-like friendly name, distinct from the opaque id.
std::string friendly_name(std::string_view id) {
  std::string out;
  bool up = true;
  for (char c : id) {
    if (!std::isalnum(static_cast<unsigned char>(c))) {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(c))) : c;
    up = false;
  }
  return out;
}

ordered_json rule_json(const std::string &id, const Finding &f, const CheckSpec *spec) {
  std::string title = spec ? spec->title : f.title.str();
  std::string rationale = spec ? spec->rationale : f.title.str();
  std::string fix = spec ? spec->fix : f.fix.str();
  const auto &refs = spec ? spec->references : f.references.items();
  std::string domain = id.substr(0, id.find('.'));
  std::string md =
      "**Fix:** " + markdown_escape(fix) + "\n\n**Why:** " + markdown_escape(rationale);
  if (!refs.empty()) {
    md += "\n\n**References:**\n";
    for (auto &ref : refs)
      md += "\n- " + markdown_escape(ref);
  }
  std::string text = "Fix: " + fix + "\n\nWhy: " + rationale;
  for (auto &ref : refs)
    text += "\nReference: " + ref;
  ordered_json tags = ordered_json::array({"security", domain});
  return {{"id", id},
          {"name", friendly_name(id)},
          {"shortDescription", {{"text", sentence(title)}}},
          {"fullDescription", {{"text", sentence(rationale)}}},
          {"help", {{"text", text}, {"markdown", md}}},
          {"defaultConfiguration", {{"level", "error"}}},
          {"properties",
           {{"security-severity", security_severity(spec ? spec->severity : f.severity)},
            {"problem.severity", "error"},
            {"precision", "very-high"},
            {"tags", tags},
            {"references", refs}}}};
}

} // namespace

std::string render_sarif(const AuditReport &r) {
  const Catalogue &cat = Catalogue::builtin();
  ordered_json rules = ordered_json::array();
  std::map<std::string, size_t> rule_index;
  for (auto &f : r.findings) {
    if (rule_index.count(f.check))
      continue;
    rule_index[f.check] = rules.size();
    rules.push_back(rule_json(f.check, f, cat.find(f.check)));
  }
  ordered_json results = ordered_json::array();
  for (auto &f : r.findings) {
    Status shown = f.status == Status::waived && f.waiver ? f.waiver->original : f.status;
    // An error (input unreadable or unparsable) is a problem too: fail closed.
    if (shown != Status::fail && shown != Status::warn && shown != Status::error)
      continue;
    ordered_json res;
    res["ruleId"] = f.check;
    res["ruleIndex"] = rule_index[f.check];
    res["level"] = shown == Status::warn ? "warning" : "error";
    std::string msg = shown == Status::error ? "could not be checked: " + f.message : f.message;
    if (!f.subject.empty())
      msg = "[" + f.subject + "] " + msg;
    res["message"] = {{"text", sentence(msg)}};
    ordered_json locations = ordered_json::array();
    for (auto &e : f.evidence) {
      if (e.path.empty() || e.path.front() != '/')
        continue;
      ordered_json phys = {
          {"artifactLocation",
           {{"uri", text::percent_encode_path(e.path.substr(1))}, {"uriBaseId", "ROOT"}}}};
      if (e.line > 0)
        phys["region"] = {{"startLine", e.line}};
      locations.push_back({{"physicalLocation", phys}});
      break; // the deciding place; the rest go in relatedLocations
    }
    ordered_json related = ordered_json::array();
    bool first = true;
    for (auto &e : f.evidence) {
      if (e.path.empty() || e.path.front() != '/')
        continue;
      if (first) {
        first = false;
        continue;
      }
      ordered_json phys = {
          {"artifactLocation",
           {{"uri", text::percent_encode_path(e.path.substr(1))}, {"uriBaseId", "ROOT"}}}};
      if (e.line > 0)
        phys["region"] = {{"startLine", e.line}};
      related.push_back({{"id", related.size() + 1},
                         {"physicalLocation", phys},
                         {"message", {{"text", sentence("found: " + e.found)}}}});
    }
    if (!locations.empty())
      res["locations"] = locations;
    if (!related.empty())
      res["relatedLocations"] = related;
    res["partialFingerprints"] = {{"bulwarkFinding/v1", fingerprint(f)}};
    ordered_json evidence = ordered_json::array();
    for (auto &e : f.evidence)
      evidence.push_back({{"path", e.path},
                          {"line", e.line},
                          {"found", e.found},
                          {"expected", e.expected},
                          {"context", e.context}});
    res["properties"] = {{"subject", f.subject},
                         {"severity", to_string(f.severity)},
                         {"status", to_string(f.status)},
                         {"evidence", evidence}};
    if (f.status == Status::waived && f.waiver)
      res["suppressions"] = ordered_json::array({{{"kind", "external"},
                                                  {"status", "accepted"},
                                                  {"justification", f.waiver->justification},
                                                  {"properties",
                                                   {{"owner", f.waiver->owner},
                                                    {"expires", f.waiver->expires},
                                                    {"source", f.waiver->source}}}}});
    results.push_back(res);
  }
  std::string root = r.root.empty() ? "/" : r.root;
  if (root.back() != '/')
    root += '/';
  ordered_json run;
  run["tool"] = {{"driver",
                  {{"name", "bulwark"},
                   {"version", BULWARK_VERSION},
                   {"semanticVersion", BULWARK_VERSION},
                   {"informationUri", BULWARK_HOMEPAGE},
                   {"rules", rules}}}};
  run["originalUriBaseIds"] = {
      {"ROOT",
       {{"uri", "file://" + text::percent_encode_path(root)},
        {"description", {{"text", "The root of the audited filesystem."}}}}}};
  run["invocations"] = ordered_json::array({{{"executionSuccessful", true}}});
  run["results"] = results;
  run["properties"] = {{"score", r.score}, {"profiles", r.profiles}, {"hostname", r.hostname}};
  ordered_json j;
  j["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  j["version"] = "2.1.0";
  j["runs"] = ordered_json::array({run});
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

} // namespace bulwark::report
