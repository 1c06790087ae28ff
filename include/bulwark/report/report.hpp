#pragma once
// Reporters render an AuditReport; they never recompute a verdict.

#include <bulwark/checks/audit.hpp>

#include <functional>
#include <string>
#include <string_view>

namespace bulwark::report {

// Receives a rendered report in pieces, in order.
using Sink = std::function<void(std::string_view)>;

// JSON, schema "bulwark.audit/v1" (DESIGN.md output contract).
std::string render_json(const AuditReport &r);
// The same bytes, handed to `sink` in pieces of about 1 MB as they are
// rendered: a report of 100,000 findings is never held whole.
void render_json(const AuditReport &r, const Sink &sink);

// Text for people: grouped by domain, failures first, evidence and fix under
// each failure, a summary and the score. `color` adds ANSI colours.
std::string render_text(const AuditReport &r, bool color);

// SARIF 2.1.0 for code-scanning dashboards: one rule per check that ran, one
// result per fail/warn finding (waived ones carry a suppression), locations
// relative to the target root (uriBaseId ROOT), partialFingerprints from
// fingerprint().
std::string render_sarif(const AuditReport &r);

// JUnit XML: a testsuite per domain, a testcase per check and subject;
// fail and error are <failure>/<error>, not_applicable and waived <skipped>.
std::string render_junit(const AuditReport &r);

// The sign-off checklist's groups, in the guide's order. Under a guide's
// profile: the guide's sections (each finding under the first section of
// that guide its check cites), then "Beyond guide N" for the checks the guide
// does not ask for. Under baseline: 003's sections, then 000's, then the
// checks neither guide asks for.
struct SignoffGroup {
  std::string title; // "003 §3.2 SSH Hardening", "000 SSH Hardening", ...
  std::vector<const Finding *> findings;
};
std::vector<SignoffGroup> signoff_groups(const AuditReport &r);

// The sign-off checklist of guide 003 §10 in Markdown: items grouped by the
// guides' sections, [x]/[ ] with evidence, a summary, a sign-off block.
std::string render_markdown(const AuditReport &r);

// One self-contained HTML file (no external loads; a CSP forbids them):
// score gauge, per-domain chart, filters, findings with evidence and fixes.
std::string render_html(const AuditReport &r);

// Compares the open findings (fail, warn, waived) of `r` with those of a
// previous bulwark.audit/v1 JSON report, by fingerprint. Errors (file:line):
// unreadable, not JSON, not bulwark.audit/v1.
Result<BaselineDiff> compare_with_baseline(const AuditReport &r, std::string_view previous_json,
                                           const std::string &name);
Result<BaselineDiff> load_baseline(const AuditReport &r, const std::string &host_path);

} // namespace bulwark::report
