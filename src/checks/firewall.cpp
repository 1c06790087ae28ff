// firewall.* (issue 4). Scaffold: the area fills the tables and facts.
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/facts.hpp>

namespace bulwark {

std::span<const CheckImpl> firewall_checks() {
  return {};
}

nlohmann::ordered_json facts_firewall(Context &) {
  return {{"implemented", false}};
}

} // namespace bulwark
