// container.*, network.*, docker.daemon-hardening (issue 3). Scaffold: the area fills the tables
// and facts.
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/facts.hpp>

namespace bulwark {

std::span<const CheckImpl> container_checks() {
  return {};
}

nlohmann::ordered_json facts_compose(Context &) {
  return {{"implemented", false}};
}

} // namespace bulwark
