#pragma once
// The audit driver: resolve the target, load the profile, select checks,
// evaluate (models parsed on demand), summarise. Reporters render the result.

#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>

#include <map>
#include <string>
#include <vector>

namespace bulwark {

struct AuditRequest {
  std::string root = "/";
  std::vector<std::string> profiles; // names or files; empty = baseline
  std::vector<std::string> only;     // ids, domains or globs ("ssh.*")
  std::vector<std::string> skip;
};

struct AuditReport {
  std::string root;
  bool live = false;
  std::string hostname;
  std::vector<std::string> profiles;
  double duration_ms = 0;
  int score = 100;
  std::map<Status, int> summary;
  std::vector<Finding> findings;
};

// Errors: a bad profile, an --only/--skip that names nothing, a root that is
// not a directory. Each is a usage error for the CLI.
Result<AuditReport> run_audit(const AuditRequest &req);

// Score: 100 x sum(weight x credit) / sum(weight) over pass, warn and fail
// findings, with weights critical 10, high 5, medium 3, low 1, info 0 and
// credit pass 1, warn 0.5, fail 0. not_applicable and error findings do not
// count. With nothing to count the score is 100.
int compute_score(const std::vector<Finding> &findings);

// Does the report contain a failure at or above `threshold`?
bool fails_at(const AuditReport &report, Severity threshold);

// Matches an id against a selector: an exact id, a domain ("ssh"), or a
// glob ("ssh.*", "*.tls-*").
bool selector_matches(std::string_view selector, std::string_view id);

} // namespace bulwark
