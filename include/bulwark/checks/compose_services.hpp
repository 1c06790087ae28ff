#pragma once
// The PostgreSQL, Redis, nginx and VPN servers inside the audited compose
// projects (parse/compose_services.hpp), shared by the postgres.*, redis.*
// tls.* and vpn.* checks: each judges these as further subjects
// "<project>/<service>" next to the host's own daemons. Projects that do not load or validate are
// left out: container.compose-valid reports them (an error that fails the run).

#include <bulwark/checks/context.hpp>
#include <bulwark/parse/compose_services.hpp>
#include <bulwark/parse/compose_vpn.hpp>

#include <string_view>
#include <vector>

namespace bulwark {

struct ComposeServicesModel {
  static constexpr std::string_view k_name = "compose services";
  std::vector<compose::RedisService> redis;
  std::vector<compose::PgService> postgres;
  std::vector<compose::NginxService> nginx;
  std::vector<compose::VpnService> vpn; // judged by vpn.* (parse/compose_vpn.hpp)

  // Built from the container area's compose projects (src/checks/container.cpp).
  static ComposeServicesModel load(Context &ctx);
};

} // namespace bulwark
