// Checks: logging.*.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>

namespace bulwark {

std::span<const CheckImpl> logging_checks() {
  return {};
}

} // namespace bulwark
