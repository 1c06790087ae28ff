// `bulwark facts` for the domains whose inputs are shared models of the
// Context (ssh, sysctl): the same objects the checks judged, as JSON. The
// other domains define their facts function next to their checks.

#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/sysctl.hpp>

#include <nlohmann/json.hpp>

#include <set>
#include <string>

namespace bulwark {

nlohmann::ordered_json facts_ssh(Context &ctx) {
  using nlohmann::ordered_json;
  const SshModel &m = ctx.ssh(); // the model the ssh checks judged
  ordered_json j;
  j["config"] = m.config_path;
  if (m.state != SshModel::State::ok) {
    j["state"] = m.state == SshModel::State::absent ? "absent" : "unreadable";
    j["error"] = m.error ? m.error->to_string() : "";
    return j;
  }
  j["state"] = "ok";
  j["files"] = m.config.files;
  ordered_json diags = ordered_json::array();
  for (auto &d : m.config.diagnostics)
    diags.push_back({{"level", d.level == ssh::Diagnostic::Level::error     ? "error"
                               : d.level == ssh::Diagnostic::Level::warning ? "warning"
                                                                            : "info"},
                     {"path", d.loc.path},
                     {"line", d.loc.line},
                     {"message", d.message}});
  j["diagnostics"] = diags;
  ordered_json scopes = ordered_json::array();
  std::set<std::string> keys;
  for (auto &[k, v] : ssh::defaults())
    keys.insert(k);
  for (auto &s : m.scopes)
    for (auto &[k, v] : s.effective.values)
      keys.insert(k);
  for (auto &s : m.scopes) {
    ordered_json sj;
    sj["scope"] = s.label;
    if (s.match_line >= 0)
      sj["match"] = {{"path", s.loc.path}, {"line", s.loc.line}};
    ordered_json settings = ordered_json::object();
    for (auto &k : keys) {
      ssh::Value v = s.effective.get(k);
      if (s.match_line >= 0 && v.match_line != s.match_line)
        continue; // a Match scope lists only what the block itself decides
      ordered_json vj;
      vj["value"] = text::join(v.args, " ");
      if (v.is_default()) {
        vj["source"] = "default";
      } else {
        ordered_json locs = ordered_json::array();
        for (auto &l : v.locations)
          locs.push_back(l.path + ":" + std::to_string(l.line));
        vj["source"] = locs;
      }
      settings[k] = vj;
    }
    sj["settings"] = settings;
    scopes.push_back(sj);
  }
  j["scopes"] = scopes;
  return j;
}

nlohmann::ordered_json facts_sysctl(Context &ctx) {
  using nlohmann::ordered_json;
  const SysctlModel &m = ctx.sysctl(); // the model the sysctl checks judged
  ordered_json j;
  j["files"] = m.files;
  j["masked"] = m.masked;
  ordered_json settings = ordered_json::object();
  for (auto &[k, v] : m.configured) {
    ordered_json sj = {{"value", v.value},
                       {"source", v.loc.path + ":" + std::to_string(v.loc.line)}};
    if (auto it = m.live.find(k); it != m.live.end())
      sj["live"] = it->second;
    settings[k] = sj;
  }
  j["settings"] = settings;
  ordered_json diags = ordered_json::array();
  for (auto &d : m.diagnostics)
    diags.push_back({{"path", d.loc.path}, {"line", d.loc.line}, {"message", d.message}});
  j["diagnostics"] = diags;
  return j;
}

} // namespace bulwark
