#include <bulwark/checks/context.hpp>

#include <bulwark/live/probes.hpp>

#include <cstdlib>
#include <cxxabi.h>

namespace bulwark {

std::string Context::type_name(const std::type_info &t) {
  int status = 0;
  char *d = abi::__cxa_demangle(t.name(), nullptr, nullptr, &status);
  std::string out = status == 0 && d ? d : t.name();
  std::free(d);
  // "bulwark::(anonymous namespace)::ComposeModel" -> "ComposeModel"
  if (auto colon = out.rfind("::"); colon != std::string::npos)
    out = out.substr(colon + 2);
  return out;
}

live::Probes &Context::probes() {
  if (!m_probes)
    m_probes = m_options.probes ? m_options.probes : live::host_probes();
  return *m_probes;
}

SshModel load_ssh_model(const RootFs &fs) {
  SshModel m;
  auto parsed = ssh::parse_sshd_config(fs, m.config_path);
  if (!parsed) {
    m.state = parsed.error().not_found() ? SshModel::State::absent : SshModel::State::unreadable;
    m.error = parsed.error();
    return m;
  }
  m.state = SshModel::State::ok;
  m.config = std::move(parsed).value();
  m.users = ssh::UserDb::load(fs);
  SshModel::Scope global;
  global.label = "global";
  global.loc = SourceLocation{m.config_path, 0};
  global.effective = ssh::evaluate(m.config, ssh::ConnectionSpec{}, m.users);
  m.scopes.push_back(std::move(global));
  for (size_t i = 0; i < m.config.lines.size(); ++i) {
    const auto &l = m.config.lines[i];
    // `Match all` is already part of the global scope (sshd -T applies it).
    if (l.kind != ssh::Line::Kind::match || l.match_all || !l.match_valid)
      continue;
    SshModel::Scope s;
    s.label = "Match " + l.match_text;
    s.match_line = static_cast<int>(i);
    s.loc = l.loc;
    s.effective = ssh::evaluate_block(m.config, static_cast<int>(i));
    m.scopes.push_back(std::move(s));
  }
  return m;
}

const SshModel &Context::ssh() {
  if (!m_ssh) {
    Loading timing(*this, "ssh");
    m_ssh = std::make_unique<SshModel>(load_ssh_model(m_fs));
  }
  return *m_ssh;
}

const accounts::AccountsModel &Context::accounts() {
  if (!m_accounts) {
    Loading timing(*this, "accounts");
    m_accounts = std::make_unique<accounts::AccountsModel>(accounts::load_accounts(m_fs));
  }
  return *m_accounts;
}

const Result<sudoers::SudoersModel> &Context::sudoers() {
  if (!m_sudoers) {
    Loading timing(*this, "sudoers");
    m_sudoers = std::make_unique<Result<sudoers::SudoersModel>>(sudoers::load_sudoers(m_fs));
  }
  return *m_sudoers;
}

const SysctlModel &Context::sysctl() {
  if (!m_sysctl) {
    Loading timing(*this, "sysctl");
    m_sysctl = std::make_unique<SysctlModel>(load_sysctl(m_fs));
  }
  return *m_sysctl;
}

} // namespace bulwark
