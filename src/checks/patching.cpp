// Checks: os.auto-security-updates, os.pending-security-updates, mac.*.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>

namespace bulwark {

std::span<const CheckImpl> patching_checks() {
  return {};
}

} // namespace bulwark
