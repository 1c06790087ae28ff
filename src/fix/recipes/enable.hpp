#pragma once
// What `systemctl enable` of systemd 252 writes for one installed unit, as
// the edits of a fix action: shared by unit-enable (units.cpp) and the
// firewall recipes that enable ufw.service and nftables.service, so that
// "enable" means one thing in every plan.

#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <string>
#include <vector>

namespace bulwark::fix {

struct EnableLinks {
  std::vector<FileEdit> edits; // one symlink edit (path -> unit file) per link to make
  std::string refusal;         // non-empty: enable would do more, or nothing; no edits
};

// The links for `unit` (state `st`, read from `fs`): one per WantedBy= in
// /etc/systemd/system/<target>.wants/, one per RequiredBy= in .requires/,
// one per Alias= at the top of /etc/systemd/system, each pointing at the
// unit file; a target named twice is one link, an alias of the unit's own
// name none (as systemctl). Refused: Also= (enable would enable other
// units), no WantedBy=/RequiredBy= (nothing enables it at boot), a
// template, a specifier (%p...; not expanded here), an alias systemctl
// refuses (another type, a template or instance name), and a path already
// taken by something that does not point at the unit file. A link already
// there is kept. An lstat that fails other than "not found" is an error.
Result<EnableLinks> enable_links(const RootFs &fs, const std::string &unit,
                                 const systemd::UnitState &st);

} // namespace bulwark::fix
