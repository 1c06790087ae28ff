#pragma once
// Validation before activation: a changed configuration is handed to the
// daemon's own checker (sshd -t, visudo -c, nginx -t, nft -c, postgres,
// fail2ban-client, docker compose config) exactly as the daemon would read
// it after the plan, before any file of the root is touched.

#include <bulwark/core/result.hpp>
#include <bulwark/fix/plan.hpp>

#include <cstddef>
#include <map>
#include <optional>
#include <string>

namespace bulwark::fix {

// The files as the plan leaves them: absolute path inside the root ->
// content (nullopt: removed). Everything else is read from the root as is.
using Overlay = std::map<std::string, std::optional<std::string>>;

struct Validation {
  bool accepted = false;
  std::string program; // the command line that judged, for the report
  std::string output;  // what it said (stderr and stdout, bounded)
};

// Runs `v` over `host_root` ("/" or a --root directory) with `overlay`
// applied, without modifying `host_root`: the checker runs in a private
// mount namespace in which the overlay's files are mounted over the root's
// (and, for a --root other than "/", chrooted into it, or with the root's
// configuration directories mounted over the host's when the root has no
// copy of the program). Errors (the program is missing, a namespace cannot
// be made) are errors, never an acceptance.
//
// The checker is killed (with its process group) after `limits.timeout`
// (an error), and its output is cut at `limits.output_cap` bytes.
struct ValidateLimits {
  int timeout_seconds = 60;
  size_t output_cap = 64 * 1024;
};
Result<Validation> validate(Validator v, const std::string &host_root, const Overlay &overlay,
                            const ValidateLimits &limits = {});

} // namespace bulwark::fix
