// The explicit table of check domains (check.hpp's Domain). A new domain is
// one row here; no static-initialisation registration (the linker drops it from static
// libraries, and it hides the order).

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/facts.hpp>

#include <vector>

namespace bulwark {

namespace {

// One row per domain, in the order audits run and reports list them.
constexpr Domain k_domains[] = {
    {"ssh", ssh_checks, "ssh", facts_ssh},
    {"accounts", accounts_checks, "", nullptr},
    {"os", os_checks, "", nullptr},
    {"sysctl", sysctl_checks, "sysctl", facts_sysctl},
    {"pam", pam_checks, "", nullptr},
    {"fs", fs_checks, "", nullptr},
    {"patching", patching_checks, "", nullptr},
    {"logging", logging_checks, "", nullptr},
    {"monitoring", monitoring_checks, "", nullptr},
    {"container", container_checks, "compose", facts_compose},
    {"firewall", firewall_checks, "firewall", facts_firewall},
    {"fail2ban", fail2ban_checks, "fail2ban", facts_fail2ban},
    {"postgres", postgres_checks, "postgres", facts_postgres},
    {"redis", redis_checks, "redis", facts_redis},
    {"tls", tls_checks, "tls", facts_tls},
    {"vpn", vpn_checks, "vpn", facts_vpn},
    {"backup", backup_checks, "", nullptr},
    // The running engine, docker.*, Docker's firewall path (issue 15).
    {"docker", docker_checks, "", nullptr},
};

} // namespace

std::span<const Domain> domains() {
  return k_domains;
}

std::span<const CheckImpl> all_checks() {
  static const std::vector<CheckImpl> all = [] {
    std::vector<CheckImpl> out;
    for (const Domain &d : k_domains)
      for (auto &c : d.checks())
        out.push_back(c);
    return out;
  }();
  return all;
}

const CheckImpl *find_check(std::string_view id) {
  for (auto &c : all_checks())
    if (c.id == id)
      return &c;
  return nullptr;
}

} // namespace bulwark
