#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/yaml.hpp>

namespace bulwark {

namespace embedded {
std::string_view checks_yaml();
std::string_view checks_pam();
std::string_view checks_fs();
std::string_view checks_patching();
std::string_view checks_logging();
std::string_view checks_monitoring();
std::string_view checks_container();
std::string_view checks_firewall();
std::string_view checks_fail2ban();
std::string_view checks_services();
std::string_view checks_tls();
std::string_view checks_backup();
std::string_view checks_docker();
} // namespace embedded

namespace {

Result<std::string> need_scalar(const yaml::Node &m, std::string_view key, const std::string &name,
                                const std::string &id) {
  const yaml::Node *n = m.find(key);
  if (n == nullptr || !n->is_scalar() || n->scalar.empty())
    return Error{"check '" + id + "': missing '" + std::string(key) + "'", name, m.line};
  return n->scalar;
}

Result<ParamValue> parse_param_default(const yaml::Node &n, const std::string &name) {
  if (n.is_sequence()) {
    std::vector<std::string> out;
    for (auto &i : n.items) {
      if (!i.is_scalar())
        return Error{"list parameters hold plain values", name, i.line};
      out.push_back(i.scalar);
    }
    return ParamValue{out};
  }
  if (!n.is_scalar())
    return Error{"a parameter default must be a number, string or list", name, n.line};
  const std::string &s = n.scalar;
  bool numeric =
      !s.empty() && s.find_first_not_of("-0123456789") == std::string::npos && s.size() < 18;
  if (numeric)
    return ParamValue{static_cast<int64_t>(std::stoll(s))};
  return ParamValue{s};
}

} // namespace

std::string param_to_string(const ParamValue &v) {
  if (auto *i = std::get_if<int64_t>(&v))
    return std::to_string(*i);
  if (auto *s = std::get_if<std::string>(&v))
    return *s;
  std::string out;
  for (auto &s : std::get<std::vector<std::string>>(v))
    out += (out.empty() ? "" : ",") + s;
  return out;
}

const ParamSpec *CheckSpec::find_param(std::string_view n) const {
  for (auto &p : parameters)
    if (p.name == n)
      return &p;
  return nullptr;
}

const CheckSpec *Catalogue::find(std::string_view id) const {
  for (auto &c : m_checks)
    if (c.id == id)
      return &c;
  return nullptr;
}

Result<Catalogue> Catalogue::parse(std::string_view text, const std::string &name) {
  yaml::Node root = TRY(yaml::parse(text, name));
  const yaml::Node *checks = root.find("checks");
  if (checks == nullptr || !checks->is_sequence())
    return Error{"expected a top-level 'checks' list", name, root.line};
  Catalogue cat;
  for (auto &n : checks->items) {
    if (!n.is_mapping())
      return Error{"each check is a mapping", name, n.line};
    CheckSpec c;
    c.id = TRY(need_scalar(n, "id", name, "?"));
    if (cat.find(c.id))
      return Error{"duplicate check id '" + c.id + "'", name, n.line};
    auto dot = c.id.find('.');
    if (dot == std::string::npos || dot == 0)
      return Error{"check id '" + c.id + "' is not domain.name", name, n.line};
    c.domain = c.id.substr(0, dot);
    c.title = TRY(need_scalar(n, "title", name, c.id));
    std::string sev = TRY(need_scalar(n, "severity", name, c.id));
    auto s = parse_severity(sev);
    if (!s)
      return Error{"check '" + c.id + "': unknown severity '" + sev + "'", name, n.line};
    c.severity = *s;
    c.rationale = TRY(need_scalar(n, "rationale", name, c.id));
    c.fix = TRY(need_scalar(n, "fix", name, c.id));
    const yaml::Node *refs = n.find("references");
    if (refs == nullptr || !refs->is_sequence() || refs->items.empty())
      return Error{"check '" + c.id + "': needs references", name, n.line};
    for (auto &r : refs->items)
      c.references.push_back(r.scalar);
    if (const yaml::Node *params = n.find("parameters")) {
      if (!params->is_mapping())
        return Error{"check '" + c.id + "': parameters is a mapping", name, params->line};
      for (auto &[pname, pnode] : params->entries) {
        ParamSpec p;
        p.name = pname;
        const yaml::Node *def = pnode.find("default");
        if (!pnode.is_mapping() || def == nullptr)
          return Error{"parameter '" + pname + "' needs a default", name, pnode.line};
        p.default_value = TRY(parse_param_default(*def, name));
        if (const yaml::Node *d = pnode.find("description"))
          p.description = d->scalar;
        c.parameters.push_back(std::move(p));
      }
    }
    cat.m_checks.push_back(std::move(c));
  }
  return cat;
}

const Catalogue &Catalogue::builtin() {
  // One file per area; ids must be unique across all of them.
  static const Catalogue cat = [] {
    struct Part {
      std::string_view (*text)();
      const char *name;
    };
    constexpr Part parts[] = {
        {embedded::checks_yaml, "data/checks.yaml"},
        {embedded::checks_pam, "data/checks/pam.yaml"},
        {embedded::checks_fs, "data/checks/fs.yaml"},
        {embedded::checks_patching, "data/checks/patching.yaml"},
        {embedded::checks_logging, "data/checks/logging.yaml"},
        {embedded::checks_monitoring, "data/checks/monitoring.yaml"},
        {embedded::checks_container, "data/checks/container.yaml"},
        {embedded::checks_firewall, "data/checks/firewall.yaml"},
        {embedded::checks_fail2ban, "data/checks/fail2ban.yaml"},
        {embedded::checks_services, "data/checks/services.yaml"},
        {embedded::checks_tls, "data/checks/tls.yaml"},
        {embedded::checks_backup, "data/checks/backup.yaml"},
        {embedded::checks_docker, "data/checks/docker.yaml"},
    };
    Catalogue all;
    for (auto &part : parts) {
      auto r = parse(part.text(), part.name);
      if (!r)
        throw FatalError("embedded catalogue is broken: " + r.error().to_string(),
                         exit_code::k_cannot_run);
      for (auto &c : r->m_checks) {
        if (all.find(c.id) != nullptr)
          throw FatalError("embedded catalogue is broken: duplicate id " + c.id + " in " +
                               part.name,
                           exit_code::k_cannot_run);
        all.m_checks.push_back(std::move(c));
      }
    }
    return all;
  }();
  return cat;
}

} // namespace bulwark
