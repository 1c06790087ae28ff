#pragma once
// The check catalogue: data/checks.yaml, compiled into the binary. Every
// implemented check has exactly one entry; ids are a public interface.

#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>

#include <cstdint>
#include <map>
#include <string>
#include <variant>
#include <vector>

namespace bulwark {

// A profile parameter: an integer (counts, seconds, days), a string, or a
// list of strings (ports, CIDRs, capability names).
using ParamValue = std::variant<int64_t, std::string, std::vector<std::string>>;
std::string param_to_string(const ParamValue &v);

struct ParamSpec {
  std::string name;
  std::string description;
  ParamValue default_value;
};

struct CheckSpec {
  std::string id;     // "ssh.permit-root-login"
  std::string domain; // "ssh"
  std::string title;
  Severity severity = Severity::info;
  std::string rationale;
  std::string fix;
  std::vector<std::string> references; // "000 SSH Hardening", "003 §3.2", "CIS ..."
  std::vector<ParamSpec> parameters;
  const ParamSpec *find_param(std::string_view name) const;
};

class Catalogue {
public:
  // The embedded catalogue. Throws FatalError if it is broken (a build bug,
  // caught by the unit tests).
  static const Catalogue &builtin();
  static Result<Catalogue> parse(std::string_view yaml_text, const std::string &name);

  const std::vector<CheckSpec> &checks() const { return m_checks; }
  const CheckSpec *find(std::string_view id) const;

private:
  std::vector<CheckSpec> m_checks;
};

} // namespace bulwark
