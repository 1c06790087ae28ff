// redis.* (issue 5). Scaffold: the area fills the tables and facts.
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/facts.hpp>

namespace bulwark {

std::span<const CheckImpl> redis_checks() {
  return {};
}

nlohmann::ordered_json facts_redis(Context &) {
  return {{"implemented", false}};
}

} // namespace bulwark
