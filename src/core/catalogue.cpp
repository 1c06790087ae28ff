#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/yaml.hpp>

#include <cctype>

namespace bulwark {

// embedded::checks_*() and k_catalogue_parts: every data/checks*.yaml.
#include <bulwark/generated/catalogue_parts.inc>

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

Result<std::optional<GuideRef>> parse_guide_ref(std::string_view ref) {
  if (ref.size() < 4 || (ref.substr(0, 4) != "000 " && ref.substr(0, 4) != "003 "))
    return std::optional<GuideRef>{};
  GuideRef g;
  g.guide = std::string(ref.substr(0, 3));
  std::string_view rest = ref.substr(4);
  if (auto open = rest.find(" ("); open != std::string_view::npos) {
    if (rest.back() != ')')
      return Error{"guide reference '" + std::string(ref) + "': a note ends with ')'"};
    g.note = std::string(rest.substr(open + 2, rest.size() - open - 3));
    rest = rest.substr(0, open);
  }
  if (g.guide == "003") {
    // "§N" or "§N.N": guide 003 numbers its sections.
    constexpr std::string_view k_sect = "§";
    bool ok = rest.substr(0, k_sect.size()) == k_sect;
    std::string_view num = ok ? rest.substr(k_sect.size()) : rest;
    ok = ok && !num.empty() && std::isdigit(static_cast<unsigned char>(num.front())) &&
         std::isdigit(static_cast<unsigned char>(num.back())) &&
         num.find_first_not_of("0123456789.") == std::string_view::npos &&
         num.find("..") == std::string_view::npos;
    if (!ok)
      return Error{"guide reference '" + std::string(ref) +
                   "': guide 003 is cited by section number, as \"003 §4.2\""};
    g.section = std::string(num);
  } else {
    // Guide 000 has no numbers: a heading title, without '/' paths or '§'.
    if (rest.empty() || rest.find('/') != std::string_view::npos ||
        rest.find("§") != std::string_view::npos || rest.find('(') != std::string_view::npos)
      return Error{"guide reference '" + std::string(ref) +
                   "': guide 000 is cited by one heading title, as \"000 SSH Hardening\""};
    g.section = std::string(rest);
  }
  return std::optional<GuideRef>{std::move(g)};
}

namespace {

// seeds/003_a4ae804f704a6773.txt
constexpr GuideSection k_003[] = {
    {"1", "Overview", 2},
    {"2", "Operating System Hardening", 2},
    {"2.1", "Patch Management", 3},
    {"2.2", "User Account Management", 3},
    {"2.3", "File System Security", 3},
    {"3", "Network Security", 2},
    {"3.1", "Firewall Configuration", 3},
    {"3.2", "SSH Hardening", 3},
    {"3.3", "Fail2Ban Configuration", 3},
    {"4", "Service Hardening", 2},
    {"4.1", "Docker Security", 3},
    {"4.2", "PostgreSQL Hardening", 3},
    {"4.3", "Redis Hardening", 3},
    {"5", "Monitoring and Logging", 2},
    {"5.1", "Log Collection", 3},
    {"5.2", "Security Monitoring", 3},
    {"6", "Production Deployment Checklist", 2},
    {"6.1", "Pre-deployment", 3},
    {"6.2", "Post-deployment", 3},
    {"7", "Compliance Requirements", 2},
    {"7.1", "GDPR/Privacy Compliance", 3},
    {"7.2", "ISO 27001 Controls", 3},
    {"8", "Verification Commands", 2},
    {"9", "Emergency Response", 2},
    {"9.1", "Incident Response Plan", 3},
    {"9.2", "Backup Security", 3},
    {"10", "Documentation Requirements", 2},
};

// seeds/000_7e7611aba1e6ff40.txt (its "Table of Contents" heading left out)
constexpr GuideSection k_000[] = {
    {"Container Security", "Container Security", 2},
    {"Base Image Security", "Base Image Security", 3},
    {"Container Runtime Security", "Container Runtime Security", 3},
    {"Example Configuration", "Example Configuration", 3},
    {"Network Security", "Network Security", 2},
    {"Network Isolation", "Network Isolation", 3},
    {"TLS Configuration", "TLS Configuration", 3},
    {"Firewall Rules", "Firewall Rules", 3},
    {"Data Security", "Data Security", 2},
    {"Secrets Management", "Secrets Management", 3},
    {"Data Encryption", "Data Encryption", 3},
    {"Database Security", "Database Security", 3},
    {"Access Control", "Access Control", 2},
    {"Authentication", "Authentication", 3},
    {"Authorization", "Authorization", 3},
    {"SSH Hardening", "SSH Hardening", 3},
    {"Monitoring & Auditing", "Monitoring & Auditing", 2},
    {"Security Monitoring", "Security Monitoring", 3},
    {"Audit Requirements", "Audit Requirements", 3},
    {"Security Metrics", "Security Metrics", 3},
    {"Deployment Checklist", "Deployment Checklist", 2},
    {"Pre-Deployment", "Pre-Deployment", 3},
    {"Deployment", "Deployment", 3},
    {"Post-Deployment", "Post-Deployment", 3},
    {"Security Configuration Files", "Security Configuration Files", 2},
    {"Docker Compose Security Override", "Docker Compose Security Override", 3},
    {"Environment Variables", "Environment Variables", 3},
    {"Deploy Script", "Deploy Script", 3},
    {"Compliance Considerations", "Compliance Considerations", 2},
    {"GDPR Compliance", "GDPR Compliance", 3},
    {"SOC 2 Requirements", "SOC 2 Requirements", 3},
    {"Incident Response", "Incident Response", 2},
    {"Security Incident Checklist", "Security Incident Checklist", 3},
    {"Security Resources", "Security Resources", 2},
    {"Regular Security Tasks", "Regular Security Tasks", 2},
    {"Daily", "Daily", 3},
    {"Weekly", "Weekly", 3},
    {"Monthly", "Monthly", 3},
    {"Quarterly", "Quarterly", 3},
};

} // namespace

std::span<const GuideSection> guide_sections(std::string_view guide) {
  if (guide == "003")
    return k_003;
  if (guide == "000")
    return k_000;
  return {};
}

bool CheckSpec::cites_guide(std::string_view guide) const {
  for (auto &r : references)
    if (r.size() > 4 && std::string_view(r).substr(0, 3) == guide && r[3] == ' ')
      return true;
  return false;
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

namespace {

// A `recipe:` mapping (RecipeSpec). Every "{name}" must be a parameter of
// the check: a typo would otherwise write the braces into a daemon's file.
Result<RecipeSpec> parse_recipe(const CheckSpec &c, const yaml::Node &r, const std::string &name) {
  if (!r.is_mapping())
    return Error{"check '" + c.id + "': recipe is a mapping", name, r.line};
  RecipeSpec spec;
  spec.line = r.line;
  auto check_value = [&](const std::string &v, int line) -> Result<Unit> {
    // "{check.id:param}" names another check's parameter; the catalogue
    // test proves each one exists (the other check may come later).
    if (v.size() > 2 && v.front() == '{' && v.back() == '}' && v.find(':') == std::string::npos &&
        c.find_param(std::string_view(v).substr(1, v.size() - 2)) == nullptr)
      return Error{"check '" + c.id + "': recipe names an unknown parameter " + v, name, line};
    return Unit{};
  };
  for (auto &[key, val] : r.entries) {
    if (key == "set") {
      if (!val.is_mapping())
        return Error{"check '" + c.id + "': recipe 'set' is a mapping", name, val.line};
      for (auto &[k, v] : val.entries) {
        if (!v.is_scalar())
          return Error{"check '" + c.id + "': recipe value of '" + k + "' is a scalar", name,
                       v.line};
        TRY(check_value(v.scalar, v.line));
        spec.set.emplace_back(k, v.scalar);
      }
      continue;
    }
    if (!val.is_scalar())
      return Error{"check '" + c.id + "': recipe option '" + key + "' is a scalar", name, val.line};
    TRY(check_value(val.scalar, val.line));
    if (key == "kind")
      spec.kind = val.scalar;
    else
      spec.options[key] = val.scalar;
  }
  if (spec.kind.empty())
    return Error{"check '" + c.id + "': recipe needs a kind", name, r.line};
  return spec;
}

} // namespace

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
    for (auto &r : refs->items) {
      // A guide reference must be one the references test (and the sign-off
      // checklist) can read: a malformed one is a catalogue bug.
      auto g = parse_guide_ref(r.scalar);
      if (!g)
        return Error{"check '" + c.id + "': " + g.error().message, name, r.line};
      if (*g) {
        bool known = false;
        for (auto &sec : guide_sections((*g)->guide))
          known = known || sec.id == (*g)->section;
        if (!known)
          return Error{"check '" + c.id + "': guide " + (*g)->guide + " has no section '" +
                           (*g)->section + "'",
                       name, r.line};
      }
      c.references.push_back(r.scalar);
    }
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
    if (const yaml::Node *r = n.find("recipe"))
      c.recipe = TRY(parse_recipe(c, *r, name));
    cat.m_checks.push_back(std::move(c));
  }
  return cat;
}

const Catalogue &Catalogue::builtin() {
  // One file per area; ids must be unique across all of them.
  static const Catalogue cat = [] {
    Catalogue all;
    for (const CataloguePart &part : k_catalogue_parts) {
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
