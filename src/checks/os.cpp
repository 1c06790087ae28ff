// The os domain: CHECKS.md "os and accounts" rows about the system itself.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/core/text.hpp>

namespace bulwark {

namespace {

void reboot_required(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  // update-notifier-common and unattended-upgrades write this flag file;
  // /var/run is a symlink to /run on Debian 12, resolved inside the target.
  const std::string flag = "/var/run/reboot-required";
  auto st = fs.stat(flag);
  if (!st) {
    if (st.error().not_found()) {
      run.emit(Status::pass, "", "no reboot is pending (" + flag + " is absent)");
      return;
    }
    run.emit(Status::error, "", "cannot inspect " + flag + ": " + st.error().to_string());
    return;
  }
  std::string pkgs;
  if (auto p = fs.read_file("/var/run/reboot-required.pkgs", 1024 * 1024)) {
    for (auto &line : text::split(*p, '\n'))
      if (!text::trim(line).empty())
        pkgs += (pkgs.empty() ? "" : ", ") + text::printable(text::trim(line), 60);
  }
  run.emit(Status::fail, "",
           "a reboot is pending" + (pkgs.empty() ? std::string() : " for " + pkgs) +
               ": updated components are not running yet",
           {Evidence{flag, 0, "present", "absent", ""}});
}

constexpr CheckImpl k_checks[] = {
    {"os.reboot-required", reboot_required},
};

} // namespace

std::span<const CheckImpl> os_checks() {
  return k_checks;
}

} // namespace bulwark
