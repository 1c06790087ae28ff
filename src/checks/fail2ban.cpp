// fail2ban.* (issue 4). Scaffold: the area fills the tables and facts.
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/facts.hpp>

namespace bulwark {

std::span<const CheckImpl> fail2ban_checks() {
  return {};
}

nlohmann::ordered_json facts_fail2ban(Context &) {
  return {{"implemented", false}};
}

} // namespace bulwark
