#pragma once
// What a check says about the target: the output contract of DESIGN.md.

#include <initializer_list>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

enum class Severity { info, low, medium, high, critical };
// `waived`: a fail or warn that a waiver (--waivers) accepts until its expiry
// date. It counts neither for --fail-on nor for the score.
enum class Status { pass, fail, warn, not_applicable, error, waived };

std::string_view to_string(Severity s);
std::string_view to_string(Status s);
std::optional<Severity> parse_severity(std::string_view s);

// A place in a file of the target: where a setting was decided.
struct SourceLocation {
  std::string path; // path inside the target
  int line = 0;     // 1-based, 0 = the file as a whole
  bool operator==(const SourceLocation &) const = default;
};

struct Evidence {
  std::string path; // inside the target; "" for built-in defaults or probes
  int line = 0;
  std::string found;
  std::string expected;
  std::string context; // "global", "Match User alice", a service name...
};

// The waiver that matched a finding (checks/audit.hpp applies them).
struct WaiverNote {
  std::string justification;
  std::string owner;
  std::string expires;            // YYYY-MM-DD, the last day it applies
  std::string source;             // "waivers.yaml:12"
  bool expired = false;           // matched, but past its date: the finding keeps its status
  Status original = Status::fail; // the status the check reported
};

// Text that is the same in every finding of one check (title, fix and
// references come from the catalogue): findings share one copy instead of
// each holding its own, which was half the memory of a large report. Reads
// as a const std::string (str()) or vector of them (items()).
class SharedText {
public:
  SharedText() = default;
  SharedText(std::string s) : m_p(std::make_shared<const std::string>(std::move(s))) {}
  SharedText(const char *s) : SharedText(std::string(s)) {}
  const std::string &str() const { return m_p ? *m_p : empty_string(); }
  operator const std::string &() const { return str(); }
  bool empty() const { return str().empty(); }
  friend bool operator==(const SharedText &a, std::string_view b) { return a.str() == b; }

private:
  static const std::string &empty_string();
  std::shared_ptr<const std::string> m_p;
};

class SharedList {
public:
  SharedList() = default;
  SharedList(std::vector<std::string> v)
      : m_p(std::make_shared<const std::vector<std::string>>(std::move(v))) {}
  SharedList(std::initializer_list<std::string> l) : SharedList(std::vector<std::string>(l)) {}
  const std::vector<std::string> &items() const { return m_p ? *m_p : empty_list(); }
  operator const std::vector<std::string> &() const { return items(); }
  auto begin() const { return items().begin(); }
  auto end() const { return items().end(); }
  size_t size() const { return items().size(); }
  bool empty() const { return items().empty(); }
  const std::string &operator[](size_t i) const { return items()[i]; }

private:
  static const std::vector<std::string> &empty_list();
  std::shared_ptr<const std::vector<std::string>> m_p;
};

struct Finding {
  std::string check;
  SharedText title;
  Severity severity = Severity::info;
  // error until a check sets it: a Finding nobody filled in must never read
  // as a pass (fail closed).
  Status status = Status::error;
  std::string subject;
  std::string message;
  std::vector<Evidence> evidence;
  SharedText fix;
  SharedList references;
  // Under a guide's profile, the guide ("000", "003") this check goes beyond:
  // the guide does not ask for it, so it reports at most warn (JSON
  // "beyond_guide"). "" for the guide's own checks and under baseline.
  std::string beyond_guide;
  // Set when a waiver matched. Shared and immutable: most findings have
  // none, and an inline optional made every Finding 40% larger.
  std::shared_ptr<const WaiverNote> waiver;
};

// The identity of a finding across runs (SARIF partialFingerprints, the
// --baseline comparison): SHA-256 of check id, subject and the first
// evidence path, as 32 hex digits. Line numbers and messages are left out on
// purpose: an edit above a setting or a reworded message must not make an
// old finding look new.
std::string fingerprint(std::string_view check, std::string_view subject, std::string_view path);
std::string fingerprint(const Finding &f);

// A finding names at most this many places; the rest are counted.
constexpr size_t k_max_evidence = 50;

// Keeps the first `max` entries of `ev` and, when `total` (what the check
// found, which may be more than it collected) exceeds them, one last entry
// "and N more" (context "not listed"). Every format shows the same list.
void cap_evidence(std::vector<Evidence> &ev, size_t total, size_t max = k_max_evidence);

} // namespace bulwark
