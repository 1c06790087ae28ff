#pragma once
// A check is a catalogue entry (data/checks.yaml) plus one function. The
// function reads models from the Context (never files) and emits findings;
// the engine fills in title, severity, fix and references from the catalogue.

#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/profile.hpp>

#include <nlohmann/json_fwd.hpp>

#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

class Context;

class CheckRun {
public:
  CheckRun(Context &ctx, const CheckSpec &spec, const Profile &profile)
      : m_ctx(ctx), m_spec(spec), m_profile(profile), m_title(spec.title), m_fix(spec.fix),
        m_references(spec.references) {}

  Context &ctx() { return m_ctx; }
  const CheckSpec &spec() const { return m_spec; }

  // REQUIRES: the catalogue declares the parameter with that type.
  int64_t param_int(std::string_view name) const;
  std::string param_str(std::string_view name) const;
  std::vector<std::string> param_list(std::string_view name) const;

  // Records one finding. `severity` overrides the catalogue's (rarely: an
  // obsolete setting that is reported for information only).
  void emit(Status status, std::string subject, std::string message,
            std::vector<Evidence> evidence = {}, std::optional<Severity> severity = {});

  std::vector<Finding> &findings() { return m_findings; }

private:
  const ParamValue &param(std::string_view name) const;

  Context &m_ctx;
  const CheckSpec &m_spec;
  const Profile &m_profile;
  // The catalogue's text, once per check run, shared by its findings.
  SharedText m_title;
  SharedText m_fix;
  SharedList m_references;
  std::vector<Finding> m_findings;
};

struct CheckImpl {
  std::string_view id;
  void (*run)(CheckRun &);
};

// One table per domain (src/checks/<domain>.cpp).
std::span<const CheckImpl> ssh_checks();
std::span<const CheckImpl> accounts_checks();
std::span<const CheckImpl> os_checks();
std::span<const CheckImpl> sysctl_checks();
std::span<const CheckImpl> pam_checks();        // accounts.password-policy, lockout, mfa
std::span<const CheckImpl> fs_checks();         // fs.*
std::span<const CheckImpl> patching_checks();   // os.*-updates, mac.*
std::span<const CheckImpl> logging_checks();    // logging.*
std::span<const CheckImpl> monitoring_checks(); // monitoring.*, secrets.*, env.*, data.*
std::span<const CheckImpl> container_checks();  // container.*, network.*, docker.*
std::span<const CheckImpl> firewall_checks();   // firewall.*
std::span<const CheckImpl> fail2ban_checks();   // fail2ban.*
std::span<const CheckImpl> postgres_checks();   // postgres.*
std::span<const CheckImpl> redis_checks();      // redis.*
std::span<const CheckImpl> tls_checks();        // tls.*
std::span<const CheckImpl> vpn_checks();        // vpn.*
std::span<const CheckImpl> backup_checks();     // backup.*
// container.runtime-drift, docker.* of the running engine, firewall.docker-*,
// firewall.forward-policy, accounts.root-equivalent-groups (docker.cpp)
std::span<const CheckImpl> docker_checks();

// The table of domains (registry.cpp): one row per src/checks/<name>.cpp
// table. A row names the domain, its checks, and the `bulwark facts` topic
// that shows the inputs its checks judged, as they were parsed (nullptr
// when the domain has none). The ids of a domain's checks usually share its
// name as prefix, not always: the pam table holds accounts.password-policy.
// The catalogue entries live in data/checks.yaml and data/checks/*.yaml
// (compiled in, globbed by CMake); which file holds an entry does not
// matter, its id does.
struct Domain {
  std::string_view name;
  std::span<const CheckImpl> (*checks)();
  std::string_view facts_name; // "compose" for the container domain
  nlohmann::ordered_json (*facts)(Context &);
};
std::span<const Domain> domains();

// Every implemented check, in the order of the domain table.
std::span<const CheckImpl> all_checks();
const CheckImpl *find_check(std::string_view id);

} // namespace bulwark
