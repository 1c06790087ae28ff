#pragma once
// `bulwark facts DOMAIN`: the effective configuration of one domain as
// bulwark parsed it, with the file and line of each value, as JSON. One
// function per domain, defined next to the domain's checks; the CLI lists
// them in one table.

#include <bulwark/checks/context.hpp>

#include <nlohmann/json.hpp>

namespace bulwark {

nlohmann::ordered_json facts_compose(Context &ctx);  // src/checks/container.cpp
nlohmann::ordered_json facts_firewall(Context &ctx); // src/checks/firewall.cpp
nlohmann::ordered_json facts_fail2ban(Context &ctx); // src/checks/fail2ban.cpp
nlohmann::ordered_json facts_postgres(Context &ctx); // src/checks/postgres.cpp
nlohmann::ordered_json facts_redis(Context &ctx);    // src/checks/redis.cpp
nlohmann::ordered_json facts_tls(Context &ctx);      // src/checks/tls.cpp
nlohmann::ordered_json facts_vpn(Context &ctx);      // src/checks/vpn.cpp

} // namespace bulwark
