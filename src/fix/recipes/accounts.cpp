// login-defs: keys of /etc/login.defs.
//
// shadow-utils' getdef.c reads the file top to bottom and each assignment
// replaces the previous one: the LAST line of a key decides. The deciding
// line (accounts model) is edited in place; an absent key is appended. Only
// new accounts and password changes read it: existing shadow entries are
// the check's business (the re-audit refuses the fix when they still fail).

#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/accounts.hpp>

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

constexpr RecipeKind k_kinds[] = {{"login-defs", login_defs}};

} // namespace

std::span<const RecipeKind> account_recipes() {
  return k_kinds;
}

} // namespace bulwark::fix
