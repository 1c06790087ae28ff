// file-mode: ownership and permission bits of the files a finding names.
//
// `set` maps a path glob to "MODE OWNER GROUP[|GROUP...]": the mode is the
// loosest allowed (the fix only clears bits, never adds any), the owner the
// one wanted, the groups those allowed (the first is set when the file's
// group is none of them). The files are those of the failing findings'
// evidence (or their subject when it is a path); a symlink or a non-regular
// file is left alone and said so (its target is not necessarily the file the
// check means).

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>

#include <fnmatch.h>
#include <set>

namespace bulwark::fix {

namespace {

struct Want {
  uint32_t mode = 0;
  std::string owner;
  std::vector<std::string> groups;
};

Result<Want> parse_want(const std::string &check, const std::string &spec) {
  auto parts = text::split(spec, ' ');
  Want w;
  char *end = nullptr;
  if (parts.size() != 3)
    return Error{"recipe of " + check + ": file-mode wants \"MODE OWNER GROUP\", not '" + spec +
                 "'"};
  unsigned long m = std::strtoul(parts[0].c_str(), &end, 8);
  if (*end != '\0' || m > 07777)
    return Error{"recipe of " + check + ": bad mode '" + parts[0] + "'"};
  w.mode = static_cast<uint32_t>(m);
  w.owner = parts[1];
  w.groups = text::split(parts[2], '|');
  return w;
}

Result<RecipeOutcome> file_mode(const RecipeInput &in) {
  std::set<std::string> paths;
  for (const Finding *f : in.findings) {
    if (!f->subject.empty() && f->subject[0] == '/')
      paths.insert(f->subject);
    for (auto &e : f->evidence)
      if (!e.path.empty() && e.path[0] == '/')
        paths.insert(e.path);
  }
  Action a;
  a.check_id = in.spec.id;
  std::vector<std::string> skipped;
  for (auto &p : paths) {
    const std::string *rule = nullptr;
    for (auto &[glob, spec] : in.args.set)
      if (::fnmatch(glob.c_str(), p.c_str(), FNM_PATHNAME) == 0)
        rule = &spec;
    if (rule == nullptr)
      continue;
    Want w = TRY(parse_want(in.spec.id, *rule));
    auto st = in.fs.lstat(p);
    if (!st) {
      if (st.error().not_found())
        continue;
      return st.error();
    }
    if (st->type != FileInfo::Type::regular) {
      skipped.push_back(p);
      continue;
    }
    FileEdit e;
    e.kind = FileEdit::Kind::attributes;
    e.path = p;
    uint32_t mode = st->mode & w.mode;
    if (mode != st->mode)
      e.mode = mode;
    auto uid = lookup_id(in.fs, "/etc/passwd", w.owner);
    if (!uid)
      return Error{"recipe of " + in.spec.id + ": no user " + w.owner +
                   " in the root's /etc/passwd"};
    if (st->uid != *uid)
      e.owner = w.owner;
    bool group_ok = false;
    for (auto &g : w.groups)
      if (auto gid = lookup_id(in.fs, "/etc/group", g); gid && *gid == st->gid)
        group_ok = true;
    if (!group_ok) {
      if (!lookup_id(in.fs, "/etc/group", w.groups.front()))
        return Error{"recipe of " + in.spec.id + ": no group " + w.groups.front() +
                     " in the root's /etc/group"};
      e.group = w.groups.front();
    }
    if (!e.mode && !e.owner && !e.group)
      continue;
    std::string what;
    if (e.mode)
      what += "mode " + text::octal_mode(*e.mode);
    if (e.owner || e.group)
      what += (what.empty() ? "" : ", ") + std::string("owner ") +
              (e.owner ? *e.owner : std::string("(kept)")) + ":" +
              (e.group ? *e.group : std::string("(kept)"));
    a.summary += (a.summary.empty() ? "" : "; ") + p + ": " + what;
    a.edits.push_back(std::move(e));
  }
  if (a.edits.empty()) {
    std::string why = skipped.empty()
                          ? "the recipe finds no file of the finding to change"
                          : "the finding's files are not regular files (" + skipped.front() +
                                "): a symbolic link is not changed blindly";
    return RecipeOutcome{Refusal{in.spec.id, "", why}};
  }
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_files_kinds[] = {{"file-mode", file_mode}};

} // namespace

std::span<const RecipeKind> file_recipes() {
  return k_files_kinds;
}

} // namespace bulwark::fix
