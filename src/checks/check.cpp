#include <bulwark/checks/check.hpp>

namespace bulwark {

const ParamValue &CheckRun::param(std::string_view name) const {
  if (const ParamValue *v = m_profile.param(m_spec.id, name))
    return *v;
  const ParamSpec *ps = m_spec.find_param(name);
  if (ps == nullptr)
    throw FatalError("check " + m_spec.id + " reads undeclared parameter " + std::string(name),
                     exit_code::k_cannot_run);
  return ps->default_value;
}

int64_t CheckRun::param_int(std::string_view name) const {
  const ParamValue &v = param(name);
  if (auto *i = std::get_if<int64_t>(&v))
    return *i;
  throw FatalError("parameter " + m_spec.id + "." + std::string(name) + " is not an integer",
                   exit_code::k_cannot_run);
}

std::string CheckRun::param_str(std::string_view name) const {
  return param_to_string(param(name));
}

std::vector<std::string> CheckRun::param_list(std::string_view name) const {
  const ParamValue &v = param(name);
  if (auto *l = std::get_if<std::vector<std::string>>(&v))
    return *l;
  return {param_to_string(v)};
}

void CheckRun::emit(Status status, std::string subject, std::string message,
                    std::vector<Evidence> evidence, std::optional<Severity> severity) {
  Finding f;
  f.check = m_spec.id;
  f.title = m_title;
  f.severity = severity.value_or(m_spec.severity);
  f.status = status;
  f.subject = std::move(subject);
  f.message = std::move(message);
  f.evidence = std::move(evidence);
  f.fix = m_fix;
  f.references = m_references;
  m_findings.push_back(std::move(f));
}

} // namespace bulwark
