// sudoers-passwd: a user specification that grants ALL commands with
// NOPASSWD asks for the password again.
//
// sudoers(5): a tag (NOPASSWD:, PASSWD:, NOEXEC:, ...) holds for the
// command it precedes and every later command of the same specification
// until another tag of its pair; the default is PASSWD (unless Defaults
// !authenticate). So the NOPASSWD: tags of the specification the finding
// names (its evidence's file:line) are deleted in place, which makes its
// ALL ask for a password and keeps the rule's users, hosts, runas and other
// tags. Refused, to be done by hand:
// - a specification that also grants specific commands without a password
//   (deleting the tag would take that away too: split the rule with visudo);
// - one that continues on the next line (a trailing backslash);
// - `Defaults !authenticate` (it may be the point of a drop-in; its scope
//   needs reading);
// - the lockout guard: every account the rule names (users, %group members
//   by /etc/group and primary gid, #uid) must have a usable password in
//   /etc/shadow, else it would lose sudo altogether (a key-only
//   administrator); ALL, negations, netgroups and User_Alias names cannot
//   be resolved offline and are refused. An account that does not exist is
//   nobody (a rule for a group that does not exist grants no one).
// Validator: visudo -c. Whether the finding passes is the re-audit's.

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/accounts.hpp>
#include <bulwark/parse/sudoers.hpp>

#include <cctype>
#include <set>

namespace bulwark::fix {

namespace {

constexpr const char *k_sudo_sudoers = "/etc/sudoers";

// "" when every account `users` names has a usable password; else why not.
// Errors: the account databases cannot be read.
Result<std::string> sudo_lockout(const accounts::AccountsModel &acc, const std::string &users) {
  std::set<std::string> names;
  for (auto &raw : text::split(users, ',')) {
    std::string item(text::trim(raw));
    if (item.empty())
      continue;
    bool alias = std::isupper(static_cast<unsigned char>(item[0])) &&
                 item.find_first_not_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_") == item.npos;
    if (item == "ALL" || item[0] == '!' || item[0] == '+' || item.starts_with("%:") ||
        item.starts_with("%#") || item.starts_with("%+") || alias)
      return "the rule names " + item + ", which bulwark cannot resolve to accounts offline";
    if (item[0] == '%') {
      std::string g = item.substr(1);
      if (!acc.group)
        return std::string("the root's /etc/group cannot be read");
      for (auto &ge : *acc.group) {
        if (ge.name != g)
          continue;
        names.insert(ge.members.begin(), ge.members.end());
        for (auto &pw : acc.passwd)
          if (pw.gid == ge.gid)
            names.insert(pw.name);
      }
    } else if (item[0] == '#') {
      for (auto &pw : acc.passwd)
        if (std::to_string(pw.uid) == item.substr(1))
          names.insert(pw.name);
    } else {
      names.insert(item);
    }
  }
  for (auto &n : names) {
    bool exists = false;
    for (auto &pw : acc.passwd)
      exists = exists || pw.name == n;
    if (!exists)
      continue;
    const accounts::ShadowEntry *s = acc.shadow_of(n);
    if (!s || s->hash.empty() || s->locked())
      return n + " has no usable password (it logs in by key?): without NOPASSWD it could not "
                 "use sudo at all; give it a password first";
  }
  return std::string();
}

// `line` without its NOPASSWD: tags (each with the blanks after it).
std::string without_nopasswd(std::string_view line) {
  static constexpr std::string_view k_tag = "NOPASSWD:";
  std::string out;
  size_t i = 0;
  while (i < line.size()) {
    bool boundary = i == 0 || std::string_view(" \t=),:").find(line[i - 1]) != std::string::npos;
    if (boundary && line.substr(i, k_tag.size()) == k_tag) {
      i += k_tag.size();
      while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
        ++i;
      continue;
    }
    out += line[i++];
  }
  return out;
}

Result<RecipeOutcome> sudoers_passwd(const RecipeInput &in) {
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, "sudo", std::move(why)}};
  };
  auto model = sudoers::load_sudoers(in.fs, k_sudo_sudoers);
  if (!model) {
    if (model.error().not_found())
      return refuse("the root has no /etc/sudoers");
    return model.error();
  }
  accounts::AccountsModel acc = accounts::load_accounts(in.fs);
  if (acc.passwd_error)
    return *acc.passwd_error;
  if (acc.shadow_error)
    return *acc.shadow_error;
  Working w(in.fs);
  std::vector<std::string> did;
  for (const Finding *f : in.findings)
    for (auto &e : f->evidence) {
      if (e.context == "parse")
        continue;
      if (e.found.starts_with("Defaults"))
        return refuse(e.path + ":" + std::to_string(e.line) + " sets " + e.found +
                      ": remove it by hand with visudo (its scope says whom it was meant for)");
      const sudoers::UserSpec *spec = nullptr;
      for (auto &s : model->specs)
        if (s.loc.path == e.path && s.loc.line == e.line)
          spec = &s;
      if (!spec)
        return Error{"no sudoers rule at the finding's line", e.path, e.line};
      for (auto &c : spec->commands)
        if (c.has_tag("NOPASSWD") && !model->is_all(c.command))
          return refuse(e.path + ":" + std::to_string(e.line) + " also grants " + c.command +
                        " without a password: split the rule by hand with visudo");
      std::string why = TRY(sudo_lockout(acc, spec->users));
      if (!why.empty())
        return refuse(e.path + ":" + std::to_string(e.line) + ": " + why);
      std::string text = TRY(w.read(e.path));
      auto lines = text::split(text, '\n', true);
      if (e.line < 1 || static_cast<size_t>(e.line) > lines.size())
        return Error{"the sudoers rule's line is past the end of the file", e.path, e.line};
      std::string_view l = lines[static_cast<size_t>(e.line) - 1];
      if (text::trim(l).ends_with("\\"))
        return refuse(e.path + ":" + std::to_string(e.line) +
                      " continues on the next line: edit it by hand with visudo");
      std::string fixed = without_nopasswd(l);
      if (fixed == l)
        return refuse(e.path + ":" + std::to_string(e.line) +
                      " has no NOPASSWD: tag on its line (an alias or Defaults grants it): edit "
                      "it by hand with visudo");
      w.write(e.path, replace_line(text, e.line, fixed));
      did.push_back(e.path + ":" + std::to_string(e.line) + " \"" + std::string(text::trim(fixed)) +
                    "\"");
    }
  if (did.empty())
    return refuse("no NOPASSWD rule to change");
  Action a;
  a.check_id = in.spec.id;
  a.subject = "sudo";
  a.edits = TRY(write_edits(in.fs, w.files()));
  for (auto &d : did)
    a.summary += (a.summary.empty() ? "" : "; ") + d;
  a.summary = "sudo asks for the password: " + a.summary;
  a.validators = {Validator::visudo};
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_sudo_kinds[] = {{"sudoers-passwd", sudoers_passwd}};

} // namespace

std::span<const RecipeKind> sudo_recipes() {
  return k_sudo_kinds;
}

} // namespace bulwark::fix
