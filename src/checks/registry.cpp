// The explicit table of check domains. A new domain is one line here; no
// static-initialisation registration (the linker drops it from static
// libraries, and it hides the order).

#include <bulwark/checks/check.hpp>

#include <vector>

namespace bulwark {

namespace {

using DomainTable = std::span<const CheckImpl> (*)();

constexpr DomainTable k_domains[] = {
    ssh_checks,        accounts_checks,  os_checks,       sysctl_checks,
    pam_checks,        fs_checks,        patching_checks, logging_checks,
    monitoring_checks, container_checks, firewall_checks, fail2ban_checks,
    postgres_checks,   redis_checks,     tls_checks,      vpn_checks,
    backup_checks,
    docker_checks, // issue 15: the engine, docker.*, Docker's firewall path
};

} // namespace

std::span<const CheckImpl> all_checks() {
  static const std::vector<CheckImpl> all = [] {
    std::vector<CheckImpl> out;
    for (auto table : k_domains)
      for (auto &c : table())
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
