#pragma once
// Profiles: which checks run and with which parameters.
//
// Built-in: baseline (the stricter of the two guides), vpn-production (guide
// 000), lms-server (guide 003). A user profile is a YAML file:
//
//   extends: lms-server          # a built-in profile (default: baseline)
//   parameters:
//     ssh.max-auth-tries: {max: 4}
//   disable: [ssh.use-dns]
//   guide: "003"                 # inherited from the built-in; "none" drops it
//
// A guide's profile is that guide (vpn-production: 000, lms-server: 003):
// the checks whose catalogue references cite the guide are the guide's; every
// other check still runs, but under that profile it reports at most `warn`
// and is marked beyond the guide (the audit driver caps it, see
// checks/audit.hpp). baseline has no guide: every check can fail.
//
// Unknown keys, checks, parameters, or values of the wrong type are errors
// with file and line.

#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/result.hpp>

#include <map>
#include <set>
#include <string>
#include <vector>

namespace bulwark {

struct Profile {
  std::vector<std::string> names; // the chain, e.g. {"lms-server", "site.yaml"}
  std::set<std::string> disabled;
  std::string guide; // "000", "003", or "" (baseline: no cap)
  // check id -> parameter name -> value (catalogue defaults already applied)
  std::map<std::string, std::map<std::string, ParamValue>> params;

  const ParamValue *param(std::string_view check, std::string_view name) const;
};

std::vector<std::string> builtin_profile_names();

// Applies one profile (built-in name, or a host path to a YAML file) on top of
// `base`. An empty `base` starts from the catalogue defaults.
Result<Profile> apply_profile(const Catalogue &cat, Profile base, const std::string &name_or_path);

// Is `check` beyond the profile's guide? False when the profile has none.
bool beyond_guide(const Profile &p, const CheckSpec &check);

// The catalogue defaults alone.
Profile default_profile(const Catalogue &cat);

} // namespace bulwark
