#pragma once
// Reporters render an AuditReport; they never recompute a verdict.

#include <bulwark/checks/audit.hpp>

#include <string>

namespace bulwark::report {

// JSON, schema "bulwark.audit/v1" (DESIGN.md output contract).
std::string render_json(const AuditReport &r);

// Text for people: grouped by domain, failures first, evidence and fix under
// each failure, a summary and the score. `color` adds ANSI colours.
std::string render_text(const AuditReport &r, bool color);

} // namespace bulwark::report
