// Unit recipes (what systemd starts and mounts at boot). unit-enable: a systemd unit that must
// start at boot, unmasked and enabled as `systemctl unmask` and `systemctl enable` of systemd 252
// would leave the root, judged by bulwark's own model of `systemctl is-enabled`
// (parse/systemd_units.hpp, checked against systemctl itself in its tests
// and in tests/fix/fix_units_test.cpp).
//
// unit-enable (set: {unit: NAME}): a mask in /etc/systemd/system (a link to
// /dev/null or an empty file, what `systemctl mask` makes) is removed (the
// `symlink` edit from the link's text to none; the rollback makes it
// again); a mask elsewhere (/run is gone at boot anyway; a vendor directory
// belongs to a package) is refused. Then, unless the unit is already
// enabled, one link per WantedBy= / RequiredBy= of its [Install] section
// goes into /etc/systemd/system/<target>.wants/ (.requires/), pointing at
// the unit file, and one per Alias= at the top of /etc/systemd/system. A
// unit with Also= or without WantedBy=/RequiredBy= is refused (enable would
// do more, or nothing), and so is a template. The result must then be
// "enabled" by the model; the unit is reported as needing a start (never
// started here). A unit that is not installed is refused: installing a
// package is the operator's decision.

#include "enable.hpp"

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <algorithm>
#include <memory>

namespace bulwark::fix {

namespace {

constexpr const char *k_etc_units = "/etc/systemd/system";

std::string units_arg(const RecipeInput &in, const std::string &key) {
  for (auto &[k, v] : in.args.set)
    if (k == key)
      return v;
  return "";
}

} // namespace

Result<EnableLinks> enable_links(const RootFs &fs, const std::string &unit,
                                 const systemd::UnitState &st) {
  auto refused = [](std::string why) { return EnableLinks{{}, std::move(why)}; };
  if (!st.install.also.empty())
    return refused(unit + " has Also= in [Install]: enable it with systemctl");
  if (st.install.wanted_by.empty() && st.install.required_by.empty())
    return refused(unit + " has no WantedBy= or RequiredBy=: nothing enables it at boot");
  if (unit.find('@') != std::string::npos)
    return refused(unit + " is a template instance: enable it with systemctl");
  // Specifiers (%p, %i, ...) are expanded by systemctl; bulwark does not,
  // so it does not guess.
  for (const auto *list : {&st.install.wanted_by, &st.install.required_by, &st.install.aliases})
    for (auto &v : *list)
      if (v.find('%') != std::string::npos)
        return refused(unit + "'s [Install] section uses a specifier (" + v +
                       "): enable it with systemctl");
  auto suffix = [](const std::string &n) { return n.substr(n.rfind('.') + 1); };
  std::string file = st.fragment.empty() ? st.path : st.fragment;
  std::vector<std::string> links;
  auto link = [&](std::string p) { // a target named twice (a drop-in) is one link
    if (std::find(links.begin(), links.end(), p) == links.end())
      links.push_back(std::move(p));
  };
  for (auto &t : st.install.wanted_by)
    link(std::string(k_etc_units) + "/" + t + ".wants/" + unit);
  for (auto &t : st.install.required_by)
    link(std::string(k_etc_units) + "/" + t + ".requires/" + unit);
  for (auto &al : st.install.aliases) {
    if (al == unit)
      continue; // systemctl skips an alias of the unit's own name
    // systemctl refuses an alias of another type, or a template/instance
    // alias of a plain unit ("cannot alias").
    if (!systemd::valid_unit_name(al) || suffix(al) != suffix(unit) ||
        al.find('@') != std::string::npos)
      return refused(unit + " has Alias=" + al + ", which systemctl refuses: fix the unit file");
    link(std::string(k_etc_units) + "/" + al);
  }
  EnableLinks out;
  for (auto &p : links) {
    auto l = fs.lstat(p);
    if (l) {
      // Already there: kept when it is the link enable makes, else the
      // operator decides (a unit of the same name elsewhere, a file).
      if (l->type == FileInfo::Type::symlink) {
        // systemctl keeps a link whose target is the unit file, by text or
        // once resolved in the root (/lib and /usr/lib on a merged /usr).
        auto to = fs.read_link(p);
        auto a = fs.resolve(p);
        auto b = fs.resolve(file);
        if ((to && *to == file) || (a && b && *a == *b))
          continue;
      }
      return refused(p + " exists but does not link to " + file + ": fix by hand");
    }
    if (!l.error().not_found())
      return l.error();
    FileEdit e;
    e.kind = FileEdit::Kind::symlink;
    e.path = p;
    e.after = file;
    out.edits.push_back(std::move(e));
  }
  return out;
}

namespace {

Result<RecipeOutcome> unit_enable(const RecipeInput &in) {
  std::string unit = units_arg(in, "unit");
  if (!systemd::valid_unit_name(unit))
    return Error{"recipe of " + in.spec.id + ": unit-enable wants set: {unit: NAME.service}"};
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, unit, std::move(why)}};
  };
  Action a;
  a.check_id = in.spec.id;
  a.subject = unit;
  // The root as this action's edits so far leave it (on top of the plan's).
  auto overlay = std::make_shared<FsOverlay>(in.fs.overlay() ? *in.fs.overlay() : FsOverlay{});
  auto view = [&] {
    RootFs fs = in.fs;
    fs.set_overlay(overlay);
    return fs;
  };
  auto edit = [&](FileEdit e) {
    overlay_edit(*overlay, e, in.fs);
    a.edits.push_back(std::move(e));
  };
  systemd::UnitState st = systemd::unit_state(in.fs, unit);
  if (st.state == systemd::UnitFileState::error)
    return st.error ? *st.error : Error{"cannot tell the state of " + unit};
  if (st.state == systemd::UnitFileState::not_found)
    return refuse(unit + " is not installed: install its package, then run bulwark fix again");
  std::vector<std::string> did;
  if (st.is_masked()) {
    std::string mask = st.path;
    if (mask != std::string(k_etc_units) + "/" + unit)
      return refuse(unit + " is masked by " + mask +
                    ": only a mask in /etc/systemd/system is removed");
    auto l = TRY(in.fs.lstat(mask));
    FileEdit e;
    e.path = mask;
    if (l.type == FileInfo::Type::symlink) {
      e.kind = FileEdit::Kind::symlink;
      e.before = TRY(in.fs.read_link(mask));
      if (*e.before != "/dev/null")
        return refuse(mask + " links to " + *e.before + ", not /dev/null: fix by hand");
    } else if (l.type == FileInfo::Type::regular && l.size == 0) {
      e.kind = FileEdit::Kind::remove;
      e.before = TRY(in.fs.read_file(mask));
    } else {
      return refuse(mask + " masks " + unit + " but is neither a link nor an empty file");
    }
    edit(std::move(e));
    did.push_back("unmasked (" + mask + " removed)");
    st = systemd::unit_state(view(), unit);
    if (st.state == systemd::UnitFileState::error)
      return st.error ? *st.error : Error{"cannot tell the state of " + unit};
    if (st.is_masked() || st.state == systemd::UnitFileState::not_found)
      return refuse(unit + " is still " + std::string(systemd::to_string(st.state)) + " without " +
                    mask);
  }
  if (!st.is_enabled_by_link()) {
    EnableLinks links = TRY(enable_links(view(), unit, st));
    if (!links.refusal.empty())
      return refuse(std::move(links.refusal));
    for (auto &e : links.edits) {
      did.push_back(e.path + " -> " + e.after);
      edit(std::move(e));
    }
    st = systemd::unit_state(view(), unit);
    if (!st.is_enabled_by_link())
      return refuse(unit + " would be " + std::string(systemd::to_string(st.state)) +
                    ", not enabled, after the links");
  }
  if (a.edits.empty())
    return refuse(unit + " is already unmasked and enabled: the check fails for another reason");
  std::string what;
  for (auto &d : did)
    what += (what.empty() ? "" : "; ") + d;
  a.summary = unit + ": " + what + " (as systemctl unmask and enable)";
  // Started by the next boot, or `systemctl start` (never done here).
  a.restart_units.push_back(unit);
  return RecipeOutcome{std::move(a)};
}

// mount-options (set: {options: "nodev,nosuid,noexec"}): the temporary
// directories fs.tmp-mount-options names get the options they lack where
// systemd 252 takes them from at boot, as the check's evidence locates it:
// - an fstab line of their own: its options field gains the missing ones
//   (mount(8) applies options in order, so "defaults,nodev" is nodev);
// - a mount unit of the administrator (/etc/systemd/system/tmp.mount): a
//   drop-in tmp.mount.d/zz-bulwark.conf with Options= the unit's plus the
//   missing ones (the last Options= assignment wins);
// - /dev/shm with systemd's default (nosuid,nodev): the fstab line "tmpfs
//   /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0" (fstab-generator leaves API
//   file systems alone; systemd-remount-fs.service remounts them with their
//   fstab options);
// - a directory without a mount of its own: the fstab line "DIR DIR none
//   bind,nodev,nosuid,noexec 0 0", a bind mount of the directory onto
//   itself, so its files stay where they are (on disk, /var/tmp kept across
//   boots); a tmpfs would move /tmp into memory, a choice bulwark does not
//   make for the operator.
// Validator: findmnt --verify over the new fstab. It takes effect at the next
// boot (or `systemctl daemon-reload` and starting the mount unit). Refused
// on the running host: the live mounts decide there, and remounting /tmp
// under running programs is done by hand.
Result<RecipeOutcome> mount_options(const RecipeInput &in) {
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, "", std::move(why)}};
  };
  std::string want = units_arg(in, "options");
  if (want.empty())
    want = "nodev,nosuid,noexec";
  if (in.fs.is_host_root())
    return refuse("on the running host the live mounts decide: add the options to /etc/fstab "
                  "and remount (mount -o remount DIR) by hand, when nothing running needs them");
  constexpr const char *k_fstab = "/etc/fstab";
  Working w(in.fs);
  std::string fstab = TRY(w.read(k_fstab, true));
  const std::string fstab_before = fstab;
  bool fstab_exists = in.fs.exists(k_fstab);
  std::vector<std::string> did;
  auto append = [&](const std::string &line) {
    if (!fstab_exists && fstab.empty())
      fstab = "# /etc/fstab: static file system information.\n";
    fstab = insert_line(fstab, 1 << 30, line);
    did.push_back(std::string(k_fstab) + ": " + line);
  };
  for (const Finding *f : in.findings)
    for (auto &e : f->evidence) {
      auto open = e.context.find(" (");
      auto without = e.found.find(": without ");
      if (open == std::string::npos || without == std::string::npos || e.context.back() != ')')
        continue;
      std::string dir = e.context.substr(0, open);
      std::string kind = e.context.substr(open + 2, e.context.size() - open - 3);
      std::string missing = e.found.substr(without + 10);
      if (dir != "/tmp" && dir != "/var/tmp" && dir != "/dev/shm")
        return Error{"fs.tmp-mount-options names an unexpected directory", dir};
      if (kind == "fstab" && e.path == k_fstab && e.line > 0 &&
          e.found.find("has no mount of its own") == std::string::npos) {
        // The 4th whitespace-separated field of the line, edited in place.
        auto lines = text::split(fstab, '\n', true);
        if (static_cast<size_t>(e.line) > lines.size())
          return Error{"the fstab line is past the end of the file", k_fstab, e.line};
        std::string l = lines[static_cast<size_t>(e.line) - 1];
        size_t pos = 0;
        for (int field = 0; field < 3; ++field) {
          pos = l.find_first_not_of(" \t", pos);
          pos = pos == std::string::npos ? pos : l.find_first_of(" \t", pos);
        }
        size_t start = pos == std::string::npos ? pos : l.find_first_not_of(" \t", pos);
        if (start == std::string::npos)
          return refuse(std::string(k_fstab) + ":" + std::to_string(e.line) +
                        " has no options "
                        "field: fix it by hand");
        size_t end = l.find_first_of(" \t", start);
        if (end == std::string::npos)
          end = l.size();
        l.insert(end, "," + missing);
        fstab = replace_line(fstab, e.line, l);
        did.push_back(std::string(k_fstab) + ":" + std::to_string(e.line) + " " + dir + " +" +
                      missing);
      } else if (kind == "fstab") {
        append(dir + " " + dir + " none bind," + want + " 0 0");
      } else if (kind == "systemd" && dir == "/dev/shm") {
        append("tmpfs /dev/shm tmpfs rw,nosuid,nodev,noexec 0 0");
      } else if (kind == "systemd unit") {
        auto sp = e.found.find(" Options=");
        if (sp == std::string::npos || sp > without)
          return Error{"cannot read the mount unit's options from the finding", e.path, e.line};
        std::string unit = e.found.substr(0, sp);
        std::string current = e.found.substr(sp + 9, without - sp - 9);
        if (!systemd::valid_unit_name(unit))
          return Error{"not a unit name: " + unit, e.path, e.line};
        std::string dropin = std::string(k_etc_units) + "/" + unit + ".d/zz-bulwark.conf";
        std::string opts = current.empty() ? missing : current + "," + missing;
        w.write(dropin, "# Written by bulwark fix: read after the unit and its other drop-ins "
                        "(the last Options= wins).\n[Mount]\nOptions=" +
                            opts + "\n");
        did.push_back(dropin + ": Options=" + opts);
      } else {
        return refuse(dir + " is mounted by " + kind + ": fix its options by hand");
      }
    }
  if (did.empty())
    return refuse("no temporary directory lacks an option the recipe can add");
  if (fstab != fstab_before)
    w.write(k_fstab, fstab);
  Action a;
  a.check_id = in.spec.id;
  a.edits = TRY(write_edits(in.fs, w.files()));
  for (auto &d : did)
    a.summary += (a.summary.empty() ? "" : "; ") + d;
  a.summary += " (mounted so at the next boot)";
  if (w.edited(k_fstab))
    a.validators = {Validator::fstab};
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_units_kinds[] = {
    {"unit-enable", unit_enable},
    {"mount-options", mount_options},
};

} // namespace

std::span<const RecipeKind> unit_recipes() {
  return k_units_kinds;
}

} // namespace bulwark::fix
