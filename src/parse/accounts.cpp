#include <bulwark/core/text.hpp>
#include <bulwark/parse/accounts.hpp>

#include <cerrno>
#include <cstdlib>

namespace bulwark::accounts {

namespace {

constexpr size_t k_max_db_bytes = 64 * 1024 * 1024;

// Calls fn(line_number, line) for each line, without the newline.
template <typename Fn> void for_each_account_line(std::string_view text, Fn fn) {
  int lineno = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    if (nl == std::string_view::npos)
      nl = text.size();
    fn(++lineno, text.substr(i, nl - i));
    i = nl + 1;
  }
}

std::optional<long long> parse_number(std::string_view s) {
  if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return std::strtoll(std::string(s).c_str(), nullptr, 10);
}

} // namespace

const ShadowEntry *AccountsModel::shadow_of(std::string_view user) const {
  if (!shadow)
    return nullptr;
  for (auto &s : *shadow)
    if (s.name == user)
      return &s;
  return nullptr;
}

std::vector<PasswdEntry> parse_passwd(std::string_view text, const std::string &path,
                                      std::vector<Diagnostic> &diags) {
  std::vector<PasswdEntry> out;
  for_each_account_line(text, [&](int lineno, std::string_view line) {
    if (line.empty() || line[0] == '+' || line[0] == '-' || line[0] == '#')
      return;
    auto f = text::split(line, ':', true);
    SourceLocation loc{path, lineno};
    if (f.size() != 7) {
      diags.push_back(
          {"passwd record has " + std::to_string(f.size()) +
               " fields instead of 7 (ignored, as glibc does): " + text::printable(line, 80),
           loc});
      return;
    }
    auto uid = parse_number(f[2]);
    auto gid = parse_number(f[3]);
    if (f[0].empty() || !uid || !gid) {
      diags.push_back({"passwd record with an empty name or a non-numeric uid/gid (ignored): " +
                           text::printable(line, 80),
                       loc});
      return;
    }
    out.push_back(PasswdEntry{f[0], f[1], *uid, *gid, f[5], f[6], loc});
  });
  return out;
}

std::vector<ShadowEntry> parse_shadow(std::string_view text, const std::string &path,
                                      std::vector<Diagnostic> &diags) {
  std::vector<ShadowEntry> out;
  for_each_account_line(text, [&](int lineno, std::string_view line) {
    if (line.empty() || line[0] == '+' || line[0] == '-' || line[0] == '#')
      return;
    auto f = text::split(line, ':', true);
    SourceLocation loc{path, lineno};
    if (f.size() != 9 || f[0].empty()) {
      diags.push_back({"shadow record has " + std::to_string(f.size()) +
                           " fields instead of 9 (ignored, as glibc does)",
                       loc}); // never print the line: it holds a hash
      return;
    }
    ShadowEntry e;
    e.name = f[0];
    e.hash = f[1];
    e.max_days = parse_number(f[4]);
    e.loc = loc;
    out.push_back(std::move(e));
  });
  return out;
}

std::vector<GroupEntry> parse_group(std::string_view text, const std::string &path,
                                    std::vector<Diagnostic> &diags) {
  std::vector<GroupEntry> out;
  for_each_account_line(text, [&](int lineno, std::string_view line) {
    if (line.empty() || line[0] == '+' || line[0] == '-' || line[0] == '#')
      return;
    auto f = text::split(line, ':', true);
    SourceLocation loc{path, lineno};
    if (f.size() != 4) {
      diags.push_back(
          {"group record has " + std::to_string(f.size()) +
               " fields instead of 4 (ignored, as glibc does): " + text::printable(line, 80),
           loc});
      return;
    }
    auto gid = parse_number(f[2]);
    if (f[0].empty() || !gid) {
      diags.push_back({"group record with an empty name or a non-numeric gid (ignored): " +
                           text::printable(line, 80),
                       loc});
      return;
    }
    GroupEntry g{f[0], *gid, {}, loc};
    for (auto &m : text::split(f[3], ','))
      if (!m.empty())
        g.members.push_back(m);
    out.push_back(std::move(g));
  });
  return out;
}

std::map<std::string, LoginDef> parse_login_defs(std::string_view text, const std::string &path) {
  std::map<std::string, LoginDef> out;
  for_each_account_line(text, [&](int lineno, std::string_view raw) {
    std::string_view line = text::trim(raw);
    if (line.empty() || line[0] == '#')
      return;
    size_t sp = line.find_first_of(" \t");
    std::string name(line.substr(0, sp));
    std::string value(sp == std::string_view::npos ? "" : text::trim(line.substr(sp)));
    if (value.size() >= 2 && value.front() == '"' && value.back() == '"')
      value = value.substr(1, value.size() - 2);
    out[name] = LoginDef{value, SourceLocation{path, lineno}}; // the last one wins
  });
  return out;
}

AccountsModel load_accounts(const RootFs &fs) {
  AccountsModel m;
  if (auto p = fs.read_file("/etc/passwd", k_max_db_bytes))
    m.passwd = parse_passwd(*p, "/etc/passwd", m.diagnostics);
  else
    m.passwd_error = p.error();
  if (auto s = fs.read_file("/etc/shadow", k_max_db_bytes))
    m.shadow = parse_shadow(*s, "/etc/shadow", m.diagnostics);
  else
    m.shadow_error = s.error();
  if (auto g = fs.read_file("/etc/group", k_max_db_bytes))
    m.group = parse_group(*g, "/etc/group", m.diagnostics);
  else
    m.group_error = g.error();
  if (auto d = fs.read_file("/etc/login.defs", 4 * 1024 * 1024)) {
    m.login_defs_present = true;
    m.login_defs = parse_login_defs(*d, "/etc/login.defs");
  }
  return m;
}

} // namespace bulwark::accounts
