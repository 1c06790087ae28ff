#pragma once
// The audit driver: resolve the target, load the profile, select checks,
// evaluate (models parsed on demand), summarise. Reporters render the result.

#include <bulwark/core/finding.hpp>
#include <bulwark/core/perf.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace bulwark {

// One entry of a waiver file (--waivers): accept a known fail or warn of
// `check` (for one subject, or every subject when `subject` is absent) until
// the end of `expires`.
struct Waiver {
  std::string check;
  std::optional<std::string> subject;
  std::string justification;
  std::string owner;
  std::string expires; // YYYY-MM-DD, inclusive
  std::string source;  // "file:line" of the entry
};

// What became of a waiver in this run.
struct WaiverUse {
  enum class State { applied, expired, unused };
  Waiver waiver;
  State state = State::unused;
  int matched = 0; // findings it matched (for expired: that it would have waived)
};
std::string_view to_string(WaiverUse::State s);

// A finding as the --baseline comparison sees it.
struct BaselineEntry {
  std::string fingerprint;
  std::string check;
  std::string subject;
  std::string path; // first evidence path
  std::string severity;
  std::string status;
  std::string message;
};

// The open findings (fail, warn, waived) of this run compared with those of a
// previous bulwark.audit/v1 report, by fingerprint (core/finding.hpp).
struct BaselineDiff {
  std::string file;
  std::vector<BaselineEntry> added;     // open now, not before ("new")
  std::vector<BaselineEntry> fixed;     // open before, not now
  std::vector<BaselineEntry> remaining; // open in both
};

struct AuditRequest {
  std::string root = "/";
  std::vector<std::string> profiles; // names or files; empty = baseline
  std::vector<std::string> only;     // ids, domains or globs ("ssh.*")
  std::vector<std::string> skip;
  std::optional<std::vector<Waiver>> waivers; // --waivers, already parsed
  std::string today;                          // YYYY-MM-DD; "" = today's UTC date
  bool live = false;                          // --live
  std::vector<std::string> compose_files;     // --compose, in -f order
  std::vector<std::string> env_files;         // --env-file
  std::string postgres_dsn;                   // --postgres-dsn
  bool host_env = false;                      // --host-env
  std::string docker_host;                    // --docker unix:///path
  // bulwark fix: the root is read with these files as a plan leaves them
  // (core/rootfs.hpp); null reads the disk alone.
  std::shared_ptr<const FsOverlay> overlay;
};

struct AuditReport {
  std::string root;
  bool live = false;
  std::string hostname;
  std::vector<std::string> profiles;
  std::string guide; // the profile's guide ("000", "003"), "" under baseline
  double duration_ms = 0;
  int score = 100;
  std::map<Status, int> summary;
  std::vector<Finding> findings;
  std::optional<std::vector<WaiverUse>> waivers; // with --waivers
  std::optional<BaselineDiff> baseline;          // with --baseline
  std::vector<PerfEntry> perf; // model loads and check runs (--perf); not in any report
};

// Errors: a bad profile, an --only/--skip that names nothing, a root that is
// not a directory. Each is a usage error for the CLI.
Result<AuditReport> run_audit(const AuditRequest &req);

// Under a guide's profile, the findings of a check that guide does not ask
// for (core/profile.hpp): each is marked beyond `guide`, and a fail or an
// error becomes a warn whose message says so. Only the guide's own checks can
// fail a guide's profile.
void cap_beyond_guide(std::vector<Finding> &findings, const std::string &guide);

// Score: 100 x sum(weight x credit) / sum(weight) over pass, warn, fail and
// error findings, with weights critical 10, high 5, medium 3, low 1, info 0
// and credit pass 1, warn 0.5, fail 0, error 0 (fail closed: an input that
// could not be read or parsed is credited as a failure of its check's
// severity). not_applicable and waived findings do not count. With nothing
// to count the score is 100.
int compute_score(const std::vector<Finding> &findings);

// A fail or an error (fail closed). Waived findings are neither; an error
// cannot be waived (waivers accept fail and warn only).
bool counts_as_failure(const Finding &f);

// Does the report contain a failure or an error at or above `threshold`?
// Waived findings do not count.
bool fails_at(const AuditReport &report, Severity threshold);

// The same, counting only failures that are new against the baseline.
// REQUIRES: report.baseline.
bool new_fails_at(const AuditReport &report, Severity threshold);

// Parses a waiver file. `name` is used in errors ("name:line: message").
// Errors: not YAML, not a list of waivers, a missing or unknown field, an
// unknown check id, a date that is not YYYY-MM-DD.
Result<std::vector<Waiver>> parse_waivers(std::string_view text, const std::string &name);
// Reads and parses a waiver file of the host (not of the target).
Result<std::vector<Waiver>> load_waivers(const std::string &host_path);

// Marks matching fail/warn findings as waived (or notes an expired waiver on
// them) and returns what became of each waiver. Summary and score are the
// caller's (run_audit recomputes them).
std::vector<WaiverUse> apply_waivers(std::vector<Finding> &findings,
                                     const std::vector<Waiver> &waivers, std::string_view today);

// Today's date in UTC, YYYY-MM-DD.
std::string today_utc();

// Matches an id against a selector: an exact id, a domain ("ssh"), or a
// glob ("ssh.*", "*.tls-*").
bool selector_matches(std::string_view selector, std::string_view id);

} // namespace bulwark
