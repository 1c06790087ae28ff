// vpn.* (issue 5). Scaffold: the area fills the tables and facts.
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/facts.hpp>

namespace bulwark {

std::span<const CheckImpl> vpn_checks() {
  return {};
}

nlohmann::ordered_json facts_vpn(Context &) {
  return {{"implemented", false}};
}

} // namespace bulwark
