#pragma once
// `bulwark facts DOMAIN`: the effective configuration of one domain as
// bulwark parsed it, with the file and line of each value, as JSON. One
// function per domain, named in the domain's row of the domain table
// (registry.cpp). Only the JSON declarations are included here: a check
// file that defines a facts function includes <nlohmann/json.hpp> itself.

#include <bulwark/checks/context.hpp>

#include <nlohmann/json_fwd.hpp>

namespace bulwark {

nlohmann::ordered_json facts_ssh(Context &ctx);      // src/checks/facts.cpp
nlohmann::ordered_json facts_sysctl(Context &ctx);   // src/checks/facts.cpp
nlohmann::ordered_json facts_compose(Context &ctx);  // src/checks/container.cpp
nlohmann::ordered_json facts_firewall(Context &ctx); // src/checks/firewall.cpp
nlohmann::ordered_json facts_fail2ban(Context &ctx); // src/checks/fail2ban.cpp
nlohmann::ordered_json facts_postgres(Context &ctx); // src/checks/postgres.cpp
nlohmann::ordered_json facts_redis(Context &ctx);    // src/checks/redis.cpp
nlohmann::ordered_json facts_tls(Context &ctx);      // src/checks/tls.cpp
nlohmann::ordered_json facts_vpn(Context &ctx);      // src/checks/vpn.cpp

} // namespace bulwark
