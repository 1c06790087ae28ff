// Unit recipes: a systemd unit that must start at boot, unmasked and
// enabled as `systemctl unmask` and `systemctl enable` of systemd 252 would
// leave the root, judged by bulwark's own model of `systemctl is-enabled`
// (parse/systemd_units.hpp, checked against systemctl itself in its tests).
//
// unit-enable (set: {unit: NAME}): a mask in /etc/systemd/system (a link to
// /dev/null or an empty file, what `systemctl mask` makes) is removed; a
// mask elsewhere (/run is gone at boot anyway; a vendor directory belongs
// to a package) is refused. Then, unless the unit is already enabled, one
// link per WantedBy= / RequiredBy= of its [Install] section goes into
// /etc/systemd/system/<target>.wants/ (.requires/), pointing at the unit
// file, and one per Alias= at the top of /etc/systemd/system. A unit with
// Also= or without an [Install] section is refused (enable would do more,
// or nothing). The result must then be "enabled" by the model; the unit is
// reported as needing a start (never started here).

#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <memory>

namespace bulwark::fix {

namespace {

constexpr const char *k_etc_units = "/etc/systemd/system";

std::string arg(const RecipeInput &in, const std::string &key) {
  for (auto &[k, v] : in.args.set)
    if (k == key)
      return v;
  return "";
}

Result<RecipeOutcome> unit_enable(const RecipeInput &in) {
  std::string unit = arg(in, "unit");
  if (!systemd::valid_unit_name(unit))
    return Error{"recipe of " + in.spec.id + ": unit-enable wants set: {unit: NAME.service}"};
  auto refuse = [&](std::string why) { return RecipeOutcome{Refusal{in.spec.id, unit, why}}; };
  Action a;
  a.check_id = in.spec.id;
  a.subject = unit;
  auto overlay = std::make_shared<FsOverlay>(in.fs.overlay() ? *in.fs.overlay() : FsOverlay{});
  auto view = [&] {
    RootFs fs = in.fs;
    fs.set_overlay(overlay);
    return fs;
  };
  systemd::UnitState st = systemd::unit_state(in.fs, unit);
  if (st.state == systemd::UnitFileState::error)
    return st.error ? *st.error : Error{"cannot tell the state of " + unit};
  if (st.state == systemd::UnitFileState::not_found)
    return refuse(unit + " is not installed");
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
      e.kind = FileEdit::Kind::unlink;
      e.before = TRY(in.fs.read_link(mask));
    } else if (l.type == FileInfo::Type::regular && l.size == 0) {
      e.kind = FileEdit::Kind::remove;
      e.before = std::string();
    } else {
      return refuse(mask + " masks " + unit + " but is neither a link nor an empty file");
    }
    overlay_edit(*overlay, e, in.fs);
    a.edits.push_back(std::move(e));
    did.push_back("unmasked (" + mask + " removed)");
    st = systemd::unit_state(view(), unit);
    if (st.state == systemd::UnitFileState::error)
      return st.error ? *st.error : Error{"cannot tell the state of " + unit};
    if (st.is_masked() || st.state == systemd::UnitFileState::not_found)
      return refuse(unit + " is still " + std::string(systemd::to_string(st.state)) + " without " +
                    mask);
  }
  if (!st.is_enabled_by_link()) {
    if (!st.install.also.empty())
      return refuse(unit + " has Also= in [Install]: enable it with systemctl");
    if (st.install.wanted_by.empty() && st.install.required_by.empty())
      return refuse(unit + " has no WantedBy= or RequiredBy=: nothing enables it at boot");
    if (unit.find('@') != std::string::npos)
      return refuse(unit + " is a template instance: enable it with systemctl");
    std::vector<std::string> links;
    for (auto &t : st.install.wanted_by)
      links.push_back(std::string(k_etc_units) + "/" + t + ".wants/" + unit);
    for (auto &t : st.install.required_by)
      links.push_back(std::string(k_etc_units) + "/" + t + ".requires/" + unit);
    for (auto &al : st.install.aliases)
      links.push_back(std::string(k_etc_units) + "/" + al);
    for (auto &p : links) {
      auto l = view().lstat(p);
      if (l)
        continue; // already there (a link of another target is left alone)
      if (!l.error().not_found())
        return l.error();
      FileEdit e;
      e.kind = FileEdit::Kind::link;
      e.path = p;
      e.after = st.fragment;
      overlay_edit(*overlay, e, in.fs);
      a.edits.push_back(std::move(e));
      did.push_back(p + " -> " + st.fragment);
    }
    st = systemd::unit_state(view(), unit);
    if (!st.is_enabled_by_link())
      return refuse(unit + " would be " + std::string(systemd::to_string(st.state)) +
                    ", not enabled, after the links");
  }
  if (a.edits.empty())
    return refuse(unit + " is already unmasked and enabled");
  for (auto &d : did)
    a.summary += (a.summary.empty() ? "" : "; ") + d;
  a.summary = unit + ": " + a.summary + " (as systemctl unmask and enable)";
  a.restart_units.push_back(unit);
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_kinds[] = {
    {"unit-enable", unit_enable},
};

} // namespace

std::span<const RecipeKind> unit_recipes() {
  return k_kinds;
}

} // namespace bulwark::fix
