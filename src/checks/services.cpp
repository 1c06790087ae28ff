// postgres.*, redis.*, tls.*, vpn.* (issue 5). Scaffold: the area fills the tables and facts.
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/facts.hpp>

namespace bulwark {

std::span<const CheckImpl> postgres_checks() {
  return {};
}

std::span<const CheckImpl> redis_checks() {
  return {};
}

std::span<const CheckImpl> tls_checks() {
  return {};
}

std::span<const CheckImpl> vpn_checks() {
  return {};
}

nlohmann::ordered_json facts_postgres(Context &) {
  return {{"implemented", false}};
}

nlohmann::ordered_json facts_redis(Context &) {
  return {{"implemented", false}};
}

nlohmann::ordered_json facts_tls(Context &) {
  return {{"implemented", false}};
}

nlohmann::ordered_json facts_vpn(Context &) {
  return {{"implemented", false}};
}

} // namespace bulwark
