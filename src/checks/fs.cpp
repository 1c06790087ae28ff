// Checks: fs.*: the tree walk.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>

namespace bulwark {

std::span<const CheckImpl> fs_checks() {
  return {};
}

} // namespace bulwark
