// Users and groups of the target from /etc/passwd and /etc/group, enough to
// answer `Match Group` the way sshd's ga_init() (getgrouplist) does.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/accounts.hpp>
#include <bulwark/parse/sshd_config.hpp>

#include <algorithm>

namespace bulwark::ssh {

UserDb UserDb::load(const RootFs &fs) {
  UserDb db;
  if (auto passwd = fs.read_file("/etc/passwd", 32 * 1024 * 1024)) {
    // The same reader as the accounts checks (nss_files' rules); its
    // diagnostics are reported there, not here.
    std::vector<accounts::Diagnostic> ignored;
    for (auto &p : accounts::parse_passwd(*passwd, "/etc/passwd", ignored))
      db.users.push_back(User{p.name, static_cast<uint32_t>(p.gid)});
  }
  if (auto group = fs.read_file("/etc/group", 32 * 1024 * 1024)) {
    for (auto &line : text::split(*group, '\n')) {
      auto f = text::split(line, ':', true);
      if (f.size() < 4 || f[0].empty())
        continue;
      char *end = nullptr;
      unsigned long gid = std::strtoul(f[2].c_str(), &end, 10);
      if (f[2].empty() || *end != '\0')
        continue;
      db.group_names.emplace(static_cast<uint32_t>(gid), f[0]);
      for (auto &member : text::split(f[3], ','))
        db.groups_of_member[member].push_back(f[0]);
    }
  }
  return db;
}

std::optional<std::vector<std::string>> UserDb::groups(std::string_view user) const {
  for (auto &u : users) {
    if (u.name != user)
      continue;
    std::vector<std::string> out;
    auto primary = group_names.find(u.gid);
    if (primary != group_names.end())
      out.push_back(primary->second);
    auto it = groups_of_member.find(u.name);
    if (it != groups_of_member.end())
      for (auto &g : it->second)
        if (std::find(out.begin(), out.end(), g) == out.end())
          out.push_back(g);
    return out;
  }
  return std::nullopt;
}

} // namespace bulwark::ssh
