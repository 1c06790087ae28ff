#pragma once
// What a check says about the target: the output contract of DESIGN.md.

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

enum class Severity { info, low, medium, high, critical };
enum class Status { pass, fail, warn, not_applicable, error };

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

struct Finding {
  std::string check;
  std::string title;
  Severity severity = Severity::info;
  Status status = Status::pass;
  std::string subject;
  std::string message;
  std::vector<Evidence> evidence;
  std::string fix;
  std::vector<std::string> references;
};

} // namespace bulwark
