// login-defs: keys of /etc/login.defs.
//
// shadow-utils' getdef.c reads the file top to bottom and each assignment
// replaces the previous one: the LAST line of a key decides. The deciding
// line (accounts model) is edited in place; an absent key is appended. Only
// new accounts and password changes read it: existing shadow entries are
// the check's business (the re-audit refuses the fix when they still fail).
//
// password-max-age: login-defs' PASS_MAX_DAYS, and for each existing account
// the finding names (its evidence on /etc/shadow: accounts with a usable
// password, never locked ones) the maximum age, field 5 of shadow(5), set as
// `chage -M N USER` sets it. Only that field changes: the hash, the other
// fields and the file's mode and group (root:shadow 0640) stay. A system
// account (uid 1 .. UID_MIN-1) with a usable password is refused: that is a
// question for a human (lock it?), not an ageing setting. The result is
// parsed again and every named account must have the new maximum and its
// own hash. No pwck validator: it judges the whole file, and a root that
// already has a complaint (a passwd line without shadow) would refuse a fix
// that changes none of it; the tests run pwck and chage on the result. The
// playbook runs chage (no hash goes into it).

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/accounts.hpp>

#include <algorithm>
#include <cstdlib>
#include <ctime>

namespace bulwark::fix {

namespace {

constexpr const char *k_login_defs = "/etc/login.defs";

Result<RecipeOutcome> login_defs(const RecipeInput &in) {
  auto text = in.fs.read_file(k_login_defs);
  if (!text)
    return text.error(); // absent or unreadable: nothing to edit safely
  std::string after = *text;
  std::string summary;
  for (auto &[key, value] : in.args.set) {
    auto defs = accounts::parse_login_defs(after, k_login_defs);
    std::string line = key + " " + value;
    auto it = defs.find(key);
    if (it != defs.end() && it->second.value == value)
      continue;
    if (it != defs.end() && it->second.loc.line > 0)
      after = replace_line(after, it->second.loc.line, line);
    else
      after = insert_line(after, 1 << 30, line);
    summary += (summary.empty() ? "" : "; ") + line + " in " + k_login_defs;
  }
  if (after == *text)
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "login.defs already says so; the check fails for another reason "
                                 "(existing accounts: see the evidence)"}};
  Action a;
  a.check_id = in.spec.id;
  a.summary = summary;
  a.edits.push_back(TRY(write_edit(in.fs, k_login_defs, after)));
  return RecipeOutcome{std::move(a)};
}

constexpr const char *k_shadow = "/etc/shadow";

Result<RecipeOutcome> recipe_password_max_age(const RecipeInput &in) {
  std::string max;
  for (auto &[k, v] : in.args.set)
    if (k == "PASS_MAX_DAYS")
      max = v;
  char *end = nullptr;
  long long days = std::strtoll(max.c_str(), &end, 10);
  if (max.empty() || *end != '\0' || days < 1 || days > 99999)
    return Error{"recipe of " + in.spec.id +
                 ": password-max-age wants set: {PASS_MAX_DAYS: 1..99999}"};
  Action a;
  a.check_id = in.spec.id;
  std::vector<std::string> summary;
  // login.defs, for the accounts made from now on.
  auto defs_out = TRY(login_defs(in));
  if (auto *act = std::get_if<Action>(&defs_out)) {
    a.edits = std::move(act->edits);
    summary.push_back(act->summary);
  }
  // The accounts the finding names in shadow.
  std::vector<std::string> names;
  for (const Finding *f : in.findings)
    for (auto &e : f->evidence)
      if (e.path == k_shadow && !e.context.empty() &&
          std::find(names.begin(), names.end(), e.context) == names.end())
        names.push_back(e.context);
  if (!names.empty()) {
    auto acc = accounts::load_accounts(in.fs);
    long long uid_min = 1000;
    if (auto it = acc.login_defs.find("UID_MIN"); it != acc.login_defs.end())
      if (long long v = std::strtoll(it->second.value.c_str(), &end, 10); *end == '\0' && v > 0)
        uid_min = v;
    for (auto &n : names) {
      auto pw = std::find_if(acc.passwd.begin(), acc.passwd.end(),
                             [&](const accounts::PasswdEntry &p) { return p.name == n; });
      if (pw != acc.passwd.end() && pw->uid > 0 && pw->uid < uid_min)
        return RecipeOutcome{Refusal{in.spec.id, n,
                                     "system account " + n + " (uid " + std::to_string(pw->uid) +
                                         ") has a usable password: lock it (passwd -l " + n +
                                         ") or decide its ageing by hand"}};
    }
    std::string text = TRY(in.fs.read_file(k_shadow));
    // Lockout guard: a password last changed more than N days ago expires
    // the moment the maximum is set, and pam_unix then demands a new one
    // even at a key login (a non-interactive session fails).
    long long today = static_cast<long long>(std::time(nullptr) / 86400);
    for (const auto &l : text::split(text, '\n')) {
      auto f = text::split(l, ':', true);
      if (f.size() < 5 || std::find(names.begin(), names.end(), f[0]) == names.end())
        continue;
      long long last = std::strtoll(f[2].c_str(), &end, 10);
      if (!f[2].empty() && *end == '\0' && last > 0 && last + days < today)
        return RecipeOutcome{
            Refusal{in.spec.id, f[0],
                    f[0] + "'s password was last changed " + std::to_string(today - last) +
                        " days ago: a maximum of " + std::to_string(days) +
                        " would expire it now, and PAM would demand a new one even at a key login; "
                        "change it first (passwd " +
                        f[0] + "), then run bulwark fix again"}};
    }
    std::string after;
    std::vector<std::string> changed;
    auto lines = text::split(text, '\n', true);
    for (size_t i = 0; i < lines.size(); ++i) {
      std::string line = lines[i];
      auto fields = text::split(line, ':', true);
      if (fields.size() >= 5 && std::find(names.begin(), names.end(), fields[0]) != names.end() &&
          fields[4] != std::to_string(days)) {
        // Only field 5 is rebuilt; fields 1-4 (the hash too) are the same bytes.
        size_t at = 0;
        for (int c = 0; c < 4; ++c)
          at = line.find(':', at) + 1;
        size_t stop = line.find(':', at);
        line.replace(at, stop == std::string::npos ? std::string::npos : stop - at,
                     std::to_string(days));
        changed.push_back(fields[0]);
      }
      after += line;
      if (i + 1 < lines.size())
        after += '\n';
    }
    if (!changed.empty()) {
      // Parsed again: the new maximum, and the same hash, for each account.
      Working w(in.fs);
      w.write(k_shadow, after);
      auto again = accounts::load_accounts(w.view());
      if (!acc.shadow || !again.shadow)
        return Error{"cannot read /etc/shadow back", k_shadow};
      for (auto &n : changed) {
        const accounts::ShadowEntry *was = nullptr, *now = nullptr;
        for (auto &e : *acc.shadow)
          was = e.name == n ? &e : was;
        for (auto &e : *again.shadow)
          now = e.name == n ? &e : now;
        if (!was || !now || now->hash != was->hash || now->max_days != days)
          return Error{"the edited /etc/shadow does not read back as planned for " + n, k_shadow};
      }
      FileEdit e = TRY(write_edit(in.fs, k_shadow, after));
      e.secret = true;
      for (auto &n : changed)
        e.ansible_commands.push_back({"chage", "-M", std::to_string(days), n});
      a.edits.push_back(std::move(e));
      std::string who;
      for (auto &n : changed)
        who += (who.empty() ? "" : ", ") + n;
      summary.push_back("maximum password age " + std::to_string(days) + " days for " + who +
                        " in " + k_shadow + " (chage -M)");
    }
  }
  if (a.edits.empty())
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "login.defs and the named accounts already say so; the check "
                                 "fails for another reason (see the evidence)"}};
  for (auto &s : summary)
    a.summary += (a.summary.empty() ? "" : "; ") + s;
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_accounts_kinds[] = {{"login-defs", login_defs},
                                           {"password-max-age", recipe_password_max_age}};

} // namespace

std::span<const RecipeKind> account_recipes() {
  return k_accounts_kinds;
}

} // namespace bulwark::fix
