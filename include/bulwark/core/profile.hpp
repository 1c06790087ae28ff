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
  // check id -> parameter name -> value (catalogue defaults already applied)
  std::map<std::string, std::map<std::string, ParamValue>> params;

  const ParamValue *param(std::string_view check, std::string_view name) const;
};

std::vector<std::string> builtin_profile_names();

// Applies one profile (built-in name, or a host path to a YAML file) on top of
// `base`. An empty `base` starts from the catalogue defaults.
Result<Profile> apply_profile(const Catalogue &cat, Profile base, const std::string &name_or_path);

// The catalogue defaults alone.
Profile default_profile(const Catalogue &cat);

} // namespace bulwark
