#include <bulwark/core/finding.hpp>

namespace bulwark {

std::string_view to_string(Severity s) {
  switch (s) {
  case Severity::info: return "info";
  case Severity::low: return "low";
  case Severity::medium: return "medium";
  case Severity::high: return "high";
  case Severity::critical: return "critical";
  }
  return "info";
}

std::string_view to_string(Status s) {
  switch (s) {
  case Status::pass: return "pass";
  case Status::fail: return "fail";
  case Status::warn: return "warn";
  case Status::not_applicable: return "not_applicable";
  case Status::error: return "error";
  }
  return "error";
}

std::optional<Severity> parse_severity(std::string_view s) {
  for (Severity v :
       {Severity::info, Severity::low, Severity::medium, Severity::high, Severity::critical})
    if (to_string(v) == s)
      return v;
  return std::nullopt;
}

} // namespace bulwark
