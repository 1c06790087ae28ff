#pragma once
// The check catalogue: data/checks.yaml, compiled into the binary. Every
// implemented check has exactly one entry; ids are a public interface.

#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>

#include <cstdint>
#include <map>
#include <optional>
#include <span>
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

// How `bulwark fix` remedies a failing finding of a check: a recipe kind
// (src/fix/recipes/: "sshd-option", "sysctl", "file-mode", "login-defs",
// ...) and its arguments. `set` holds the settings in the order written;
// a value "{name}" is the check's profile parameter `name` (checked when the
// catalogue is parsed). Other scalar keys are the kind's options ("mode":
// "0600", "owner": "root").
struct RecipeSpec {
  std::string kind;
  std::vector<std::pair<std::string, std::string>> set;
  std::map<std::string, std::string> options;
  int line = 0; // in the catalogue file, for messages
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
  std::optional<RecipeSpec> recipe; // nullopt: `bulwark fix` cannot fix it
  const ParamSpec *find_param(std::string_view name) const;
  // Does a reference cite guide `guide` ("000", "003")? Under that guide's
  // profile, the checks that do are the guide's; the others are beyond it.
  bool cites_guide(std::string_view guide) const;
};

// A reference to one of the two guides of seeds/, in the one form the
// catalogue allows (the references test reads the cited section of the seed):
//   "003 §4.2"                       guide 003, section 4.2 (or "§8": a chapter)
//   "000 SSH Hardening"              guide 000, the heading "SSH Hardening"
//                                    (## or ###, a leading "2. " numbering dropped)
//   either followed by " (note)"     what the section says, in a few words
// Other references (CIS, Mozilla, docker-bench) are free text that does not
// start with "000 " or "003 ".
struct GuideRef {
  std::string guide;   // "000" or "003"
  std::string section; // "4.2" for 003; a heading title for 000
  std::string note;    // the parenthesised remark, "" if none
};
// nullopt: not a guide reference. An error: it starts like one ("000 ",
// "003 ") but is not of the form above.
Result<std::optional<GuideRef>> parse_guide_ref(std::string_view ref);

// The sections of a guide in document order, as its seed has them (the
// references test compares this table with the seed's headings). 003: id
// "3.2", title "SSH Hardening"; 000: id and title both the heading
// ("SSH Hardening"), numbering such as "2. " dropped. Empty for other ids.
struct GuideSection {
  std::string_view id;
  std::string_view title;
  int level; // 2 for "##", 3 for "###"
};
std::span<const GuideSection> guide_sections(std::string_view guide);

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
