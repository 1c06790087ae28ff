// Checks: accounts.password-policy, accounts.lockout, accounts.mfa: the PAM stacks.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>

namespace bulwark {

std::span<const CheckImpl> pam_checks() {
  return {};
}

} // namespace bulwark
