#pragma once
// systemd unit files as `systemctl is-enabled --root=DIR UNIT` of systemd 252
// (Debian 12) judges them: one definition of masked, enabled and wanted for
// every check.
//
// The semantics (src/shared/install.c and src/shared/conf-parser.c of
// systemd v252, checked against Debian's 252.39 binary by
// tests/parse/systemd_units_test.cpp on generated roots):
// - The search path, highest priority first: /etc/systemd/system.control,
//   /run/systemd/system.control, /run/systemd/transient,
//   /run/systemd/generator.early, /etc/systemd/system,
//   /etc/systemd/system.attached, /run/systemd/system,
//   /run/systemd/system.attached, /run/systemd/generator,
//   /usr/local/lib/systemd/system, /lib/systemd/system (Debian's
//   SYSTEM_DATA_UNIT_DIR), /usr/lib/systemd/system, /run/systemd/generator.late.
//   A unit is the first file of its name on that path; an instance
//   (getty@tty1.service) without a file of its own is its template's.
// - Masked: that first file is empty (a regular file of size 0; a file of
//   blanks is not) or a symlink whose chain ends at /dev/null. Under /run it
//   is masked-runtime.
// - A symlink with another name inside the search path is an alias: the unit
//   is looked up again under the target's name (state "alias" when asked by
//   the alias's name). A symlink out of the search path is a linked unit
//   file. A symlink into the search path with its own name is ELOOP, one
//   with another suffix EXDEV, an alias whose name has no unit file ENOLINK,
//   a dangling link out of the search path ENOENT: systemctl fails on all
//   of these, and so does this model.
// - Enabled: a symlink named after the unit (or an instance of it, for a
//   template) in a .wants/ or .requires/ directory (a real directory, not a
//   symlink; .upholds/ does not count in 252) of /etc/systemd/system, or an
//   Alias= link there. The same under /run is enabled-runtime. Links in
//   /etc/systemd/system.control or .attached and in the vendor directories
//   enable nothing by this definition. Only the link's name matters, not
//   where it points, nor whether the target it wants exists.
// - Otherwise: a link under another name anywhere there is "indirect"; a
//   same-name link at the top of /etc (systemctl link) "linked"; a file under
//   /run/systemd/generator* "generated", /run/systemd/transient "transient";
//   and by the [Install] section: WantedBy=, RequiredBy= or Alias= make it
//   "disabled", only Also= "indirect", nothing "static".
// - [Install] is read from the unit file and its drop-ins (NAME.d/*.conf and
//   TEMPLATE.d/*.conf in every search directory, one per file name, the
//   higher-priority directory winning, applied in file-name order). Syntax of
//   conf-parser.c: '#'/';' comments, trailing backslash continues (comment
//   lines inside are skipped), keys and section names case-sensitive, an
//   empty value resets a list; an invalid section header ('[' without ']')
//   or a line that is not UTF-8 makes the file unreadable to systemctl
//   (EBADMSG/EINVAL), and to this model.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::systemd {

// systemctl's words (UnitFileState), plus `error` when it fails.
enum class UnitFileState {
  enabled,
  enabled_runtime,
  linked,
  linked_runtime,
  alias,
  masked,
  masked_runtime,
  static_,
  disabled,
  indirect,
  generated,
  transient,
  not_found, // systemctl: "No such file or directory"
  error      // systemctl: any other "Failed to get unit file state"
};
// "enabled", "enabled-runtime", ..., "not-found", "error".
std::string_view to_string(UnitFileState s);

// What an [Install] section (with its drop-ins) says.
struct InstallSection {
  std::vector<std::string> wanted_by;
  std::vector<std::string> required_by;
  std::vector<std::string> aliases;
  std::vector<std::string> also;
  std::string default_instance;
  std::vector<Diagnostic> diagnostics; // lines systemd warns about and ignores
};

// Reads the [Install] assignments of one unit file or drop-in into `into`
// (later assignments append or reset, as in a drop-in). Errors: an invalid
// section header, a line that is not UTF-8, a line over 1 MiB; `into` then
// holds what came before.
Status_ parse_install_section(const std::string &path, std::string_view text, InstallSection &into);

struct UnitState {
  std::string name;
  UnitFileState state = UnitFileState::not_found;
  // Where the decision was made: the masking file, the enabling link, the
  // alias asked about, else the unit file; "" when not found.
  std::string path;
  std::string fragment;            // the unit file read ("" when masked or not found)
  InstallSection install;          // from the fragment and drop-ins
  std::optional<Error> error;      // state == error or not_found: why
  std::vector<std::string> wanted; // every .wants/.requires link naming it in /etc and /run

  // systemctl is-enabled's exit status 0: enabled, enabled-runtime, static,
  // alias, indirect, generated.
  bool is_enabled() const;
  bool is_masked() const {
    return state == UnitFileState::masked || state == UnitFileState::masked_runtime;
  }
  // Started at boot by an enablement link (enabled, enabled-runtime).
  bool is_enabled_by_link() const {
    return state == UnitFileState::enabled || state == UnitFileState::enabled_runtime;
  }
};

// "getty@tty1.service" and the like: a valid unit name of a known type.
bool valid_unit_name(std::string_view name);

// The state of units of one root, computed on first request and kept (the
// audit's shared model; thread-safe).
class UnitFiles {
public:
  explicit UnitFiles(const RootFs &fs) : m_fs(&fs) {}
  const UnitState &state(std::string_view unit) const;

  static const std::vector<std::string> &search_path();

private:
  const RootFs *m_fs;
  mutable std::mutex m_mutex;
  mutable std::map<std::string, std::unique_ptr<UnitState>, std::less<>> m_states;
};

// One unit's state, without a cache.
UnitState unit_state(const RootFs &fs, std::string_view unit);

} // namespace bulwark::systemd
