// The patching and MAC domain: os.auto-security-updates,
// os.pending-security-updates and mac.enabled on Debian 12.
//
// Automatic updates on Debian 12 are a chain, and each link can break it:
// the unattended-upgrades package; apt.systemd.daily, started by
// apt-daily.timer (update) and apt-daily-upgrade.timer (install), which
// does nothing unless APT::Periodic::Update-Package-Lists and
// APT::Periodic::Unattended-Upgrade are non-zero (and APT::Periodic::Enable
// is not 0); and unattended-upgrade itself, which installs only from origins
// matched by Unattended-Upgrade::Origins-Pattern / Allowed-Origins. The
// apt configuration is read as apt 2.6 reads it (src/parse/aptconf.cpp);
// a syntax error in it stops apt and unattended-upgrades altogether.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/apt_lists.hpp>
#include <bulwark/parse/aptconf.hpp>
#include <bulwark/parse/dpkg_status.hpp>
#include <bulwark/parse/grub.hpp>
#include <bulwark/parse/os_release.hpp>

#include <fnmatch.h>

#include <map>
#include <optional>
#include <unordered_map>

namespace bulwark {

namespace {

constexpr size_t k_patching_max_listed = 20; // pending updates shown as evidence

const DpkgModel &dpkg_model(CheckRun &run) {
  return run.ctx().get<DpkgModel>();
}

// The dpkg database is absent: not a Debian system, stated as such.
void not_debian(CheckRun &run, const DpkgModel &dpkg) {
  const RootFs &fs = run.ctx().fs();
  if (fs.exists("/etc/dnf") || fs.exists("/etc/yum.repos.d"))
    run.emit(Status::not_applicable, "",
             "not a Debian system (an RPM system: dnf-automatic is not checked by bulwark)");
  else
    run.emit(Status::not_applicable, "",
             "no dpkg database (" + dpkg.error->to_string() + "): not a Debian system");
}

// A dpkg database that exists but cannot be read: an error, never "absent".
void dpkg_unreadable(CheckRun &run, const Error &e) {
  run.emit(Status::error, "", e.message,
           {Evidence{e.path, e.line, e.message, "a readable dpkg status file", "dpkg"}});
}

struct AptConfModel {
  apt::AptConfig conf;
};

const apt::AptConfig &patching_apt_conf(CheckRun &run) {
  return run.ctx()
      .model<AptConfModel>([&] { return AptConfModel{apt::load_apt_config(run.ctx().fs())}; })
      .conf;
}

struct ListsModel {
  std::optional<Error> error; // the lists directory itself
  std::vector<apt::ListFile> files;
};

const ListsModel &lists_model(CheckRun &run) {
  return run.ctx().model<ListsModel>([&] {
    ListsModel m;
    auto r = apt::find_package_lists(run.ctx().fs());
    if (r)
      m.files = std::move(r).value();
    else
      m.error = r.error();
    return m;
  });
}

Evidence dpkg_evidence(const deb::InstalledPackage *p, const std::string &name) {
  if (p)
    return Evidence{p->loc.path, p->loc.line, name + " " + p->version_text + " installed",
                    name + " installed", ""};
  return Evidence{deb::k_dpkg_status_path, 0, name + " not installed (no installed stanza)",
                  name + " installed", ""};
}

// An apt.systemd.daily interval: "always", or a number with an optional
// s/m/h/d suffix; 0 (the default when unset) means never.
enum class Interval { never, enabled, invalid };
Interval parse_interval(std::string_view v) {
  v = text::trim(v);
  if (v.empty())
    return Interval::never;
  if (v == "always")
    return Interval::enabled;
  std::string_view digits = v;
  if (std::string_view("smhd").find(digits.back()) != std::string_view::npos)
    digits.remove_suffix(1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string_view::npos)
    return Interval::invalid;
  return digits.find_first_not_of('0') == std::string_view::npos ? Interval::never
                                                                 : Interval::enabled;
}

// What unattended-upgrade matches patterns against (python-apt's Origin).
struct Origin {
  std::string origin, label, archive, codename, component = "main", site;
};

// match_whitelist_string() of unattended-upgrades 2.9: comma-separated
// key=value tokens, all must fnmatch; "\," escapes a comma.
std::optional<bool> pattern_matches(std::string pattern, const Origin &o) {
  pattern = std::string(text::trim(pattern));
  if (pattern.empty())
    return false;
  std::string escaped;
  for (size_t i = 0; i < pattern.size(); ++i) {
    if (pattern[i] == '\\' && i + 1 < pattern.size() && pattern[i + 1] == ',') {
      escaped += '\x01';
      ++i;
    } else {
      escaped += pattern[i];
    }
  }
  for (std::string token : text::split(escaped, ',', true)) {
    for (char &c : token)
      if (c == '\x01')
        c = ',';
    auto parts = text::split(token, '=', true);
    if (parts.size() != 2)
      return std::nullopt; // u-u fails to unpack the token
    std::string what(text::trim(parts[0]));
    std::string value(text::trim(parts[1]));
    const std::string *field = nullptr;
    if (what == "o" || what == "origin")
      field = &o.origin;
    else if (what == "l" || what == "label")
      field = &o.label;
    else if (what == "a" || what == "suite" || what == "archive")
      field = &o.archive;
    else if (what == "c" || what == "component")
      field = &o.component;
    else if (what == "site")
      field = &o.site;
    else if (what == "n" || what == "codename")
      field = &o.codename;
    else
      return std::nullopt; // UnknownMatcherError
    if (::fnmatch(value.c_str(), field->c_str(), 0) != 0)
      return false;
  }
  return true;
}

std::string patching_substitute(std::string s, const std::string &distro_id,
                                const std::string &codename) {
  auto replace = [&](const std::string &from, const std::string &to) {
    for (size_t at = s.find(from); at != std::string::npos; at = s.find(from, at + to.size()))
      s.replace(at, from.size(), to);
  };
  replace("${distro_id}", distro_id);
  replace("${distro_codename}", codename);
  return s;
}

void auto_security_updates(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  const DpkgModel &dpkg = dpkg_model(run);
  if (dpkg.state == DpkgModel::State::absent)
    return not_debian(run, dpkg);
  auto uu_r = dpkg.installed("unattended-upgrades");
  if (!uu_r)
    return dpkg_unreadable(run, uu_r.error());
  std::vector<Evidence> ok, bad;
  const deb::InstalledPackage *uu = *uu_r;
  (uu ? ok : bad).push_back(dpkg_evidence(uu, "unattended-upgrades"));

  const apt::AptConfig &conf = patching_apt_conf(run);
  for (const apt::ConfDiagnostic &d : conf.diagnostics)
    if (d.level == apt::ConfDiagnostic::Level::error)
      bad.push_back(Evidence{d.loc.path, d.loc.line, d.message, "apt configuration without errors",
                             "apt refuses to run"});

  auto setting = [&](const char *name, bool interval) {
    const apt::ConfNode *n = conf.find(name);
    std::string v = n ? n->value : "";
    Evidence e{n && !n->loc.path.empty() ? n->loc.path : "/etc/apt/apt.conf.d", n ? n->loc.line : 0,
               std::string(name) + " " + (n ? "\"" + v + "\"" : "not set"), "",
               "apt.systemd.daily"};
    if (interval) {
      e.expected = std::string(name) + " \"1\" (a non-zero interval)";
      Interval i = parse_interval(v);
      if (!n)
        e.found += " (default 0: never)";
      else if (i == Interval::invalid)
        e.found += " (not an interval)";
      (i == Interval::enabled ? ok : bad).push_back(e);
    } else {
      // APT::Periodic::Enable: only an explicit 0 stops the script.
      e.expected = std::string(name) + " not \"0\"";
      bool off = n && text::trim(v) == "0";
      if (n || off)
        (off ? bad : ok).push_back(e);
    }
  };
  setting("APT::Periodic::Enable", false);
  setting("APT::Periodic::Update-Package-Lists", true);
  setting("APT::Periodic::Unattended-Upgrade", true);

  // The timers that run apt.systemd.daily (update, then install).
  bool systemd = fs.exists("/etc/systemd/system") || fs.exists("/lib/systemd/systemd");
  const SystemdModel &units = run.ctx().get<SystemdModel>();
  for (const char *timer : {"apt-daily.timer", "apt-daily-upgrade.timer"}) {
    const systemd::UnitState &u = units.state(timer);
    std::string state(systemd::to_string(u.state));
    if (u.state == systemd::UnitFileState::error) {
      run.emit(Status::error, "",
               std::string("cannot tell whether ") + timer + " is enabled: " + u.error->to_string(),
               {Evidence{u.error->path, u.error->line, u.error->message, "a readable unit file",
                         "systemd"}});
      return;
    }
    if (u.is_masked()) {
      bad.push_back(Evidence{u.path, 0, std::string(timer) + " " + state,
                             std::string(timer) + " enabled", "systemd"});
    } else if (u.is_enabled_by_link()) {
      ok.push_back(Evidence{u.path, 0, std::string(timer) + " " + state,
                            std::string(timer) + " enabled", "systemd"});
    } else if (!systemd && fs.exists("/etc/cron.daily/apt-compat")) {
      ok.push_back(Evidence{"/etc/cron.daily/apt-compat", 0,
                            "no systemd: cron runs apt.systemd.daily",
                            std::string(timer) + " enabled", "cron"});
    } else {
      bad.push_back(Evidence{"/etc/systemd/system/timers.target.wants/" + std::string(timer), 0,
                             std::string(timer) + (u.state == systemd::UnitFileState::not_found
                                                       ? " not installed"
                                                       : " not enabled (" + state + ")"),
                             std::string(timer) + " enabled", "systemd"});
    }
  }

  // The security suite must be an allowed origin.
  auto osr = osrelease::load_os_release(fs);
  if (!osr && !osr.error().not_found())
    bad.push_back(Evidence{osr.error().path, 0, osr.error().message,
                           "a readable os-release (the distribution's security suite)", ""});
  std::string codename = osr ? osr->value("VERSION_CODENAME") : "";
  std::string id = osr && !osr->value("ID").empty() ? osr->value("ID") : "debian";
  std::string distro_id = id == "debian" ? "Debian" : id == "ubuntu" ? "Ubuntu" : id;
  if (!distro_id.empty() && distro_id == id)
    distro_id[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(distro_id[0])));
  std::vector<Origin> security;
  const ListsModel &lists = lists_model(run);
  for (const apt::ListFile &f : lists.files) {
    if (!f.security || f.release.path.empty())
      continue;
    std::string name = f.path.substr(f.path.rfind('/') + 1);
    security.push_back(Origin{f.release.origin, f.release.label, f.release.suite,
                              f.release.codename, "main", name.substr(0, name.find('_'))});
  }
  if (security.empty() && id == "debian" && !codename.empty())
    security.push_back(Origin{"Debian", "Debian-Security", codename + "-security",
                              codename + "-security", "main", "deb.debian.org"});
  std::vector<std::pair<std::string, const apt::ConfNode *>> patterns;
  for (const apt::ConfNode *n : conf.list("Unattended-Upgrade::Allowed-Origins")) {
    // Legacy "origin:archive" (or "origin archive") becomes o=..,a=..
    std::string s = n->value;
    size_t colon = s.find(':');
    std::string o, a;
    if (colon != std::string::npos) {
      o = s.substr(0, colon);
      a = s.substr(colon + 1);
    } else {
      auto words = text::split(s, ' ');
      if (words.size() == 2) {
        o = words[0];
        a = words[1];
      }
    }
    patterns.emplace_back("o=" + o + ",a=" + a, n);
  }
  for (const apt::ConfNode *n : conf.list("Unattended-Upgrade::Origins-Pattern"))
    patterns.emplace_back(n->value, n);
  if (uu) {
    if (security.empty()) {
      bad.push_back(Evidence{"/etc/os-release", 0, "the security suite is unknown",
                             "a security suite to match", "Unattended-Upgrade::Origins-Pattern"});
    } else {
      const apt::ConfNode *hit = nullptr;
      for (auto &[p, n] : patterns) {
        std::string sub = patching_substitute(p, distro_id, codename);
        for (const Origin &o : security)
          if (pattern_matches(sub, o).value_or(false))
            hit = n;
        if (hit)
          break;
      }
      const Origin &o = security.front();
      std::string want =
          "a pattern matching origin=" + o.origin + ",label=" + o.label + ",archive=" + o.archive;
      if (hit)
        ok.push_back(Evidence{hit->loc.path, hit->loc.line, "\"" + hit->value + "\"", want,
                              "Unattended-Upgrade::Origins-Pattern"});
      else
        bad.push_back(Evidence{
            patterns.empty() ? "/etc/apt/apt.conf.d" : patterns[0].second->loc.path,
            patterns.empty() ? 0 : patterns[0].second->loc.line,
            patterns.empty()
                ? "no Origins-Pattern or Allowed-Origins"
                : std::to_string(patterns.size()) + " patterns, none matches the security suite",
            want, "Unattended-Upgrade::Origins-Pattern"});
    }
  }

  if (!bad.empty()) {
    std::string what;
    for (auto &b : bad)
      what += (what.empty() ? "" : "; ") + b.found;
    bad.insert(bad.end(), ok.begin(), ok.end());
    run.emit(Status::fail, "", "security updates are not installed automatically: " + what, bad);
    return;
  }
  run.emit(Status::pass, "",
           "unattended-upgrades is installed, enabled by APT::Periodic and its timers, and "
           "allowed to install from the security suite",
           ok);
}

void pending_security_updates(CheckRun &run) {
  const DpkgModel &dpkg = dpkg_model(run);
  if (dpkg.state == DpkgModel::State::absent)
    return not_debian(run, dpkg);
  if (dpkg.state == DpkgModel::State::error)
    return dpkg_unreadable(run, *dpkg.error);
  // A broken stanza may be an installed package with a pending update.
  if (auto e = dpkg.first_status_error())
    return dpkg_unreadable(
        run, Error{"cannot tell which packages are installed: the dpkg status file has a broken "
                   "stanza (" +
                       e->message + ")",
                   e->path, e->line});
  const ListsModel &lists = lists_model(run);
  std::vector<const apt::ListFile *> sec;
  for (const apt::ListFile &f : lists.files)
    if (f.security)
      sec.push_back(&f);
  if (sec.empty()) {
    run.emit(Status::warn, "",
             lists.error ? "cannot tell: " + lists.error->to_string()
                         : "cannot tell: no package list of a security suite under " +
                               std::string(apt::k_lists_dir) +
                               " (the sources lack the security suite, or apt-get update never "
                               "ran)",
             {Evidence{apt::k_lists_dir, 0, "no security suite list",
                       "*-security_*_Packages from apt-get update", ""}});
    return;
  }
  // Installed packages by name; a list entry counts for the same
  // architecture, or when either side is "all".
  std::unordered_map<std::string_view, std::vector<const deb::InstalledPackage *>> installed;
  for (const deb::InstalledPackage &p : dpkg.status->packages)
    if (p.installed() && p.version)
      installed[p.name].push_back(&p);

  struct Pending {
    const deb::InstalledPackage *pkg;
    deb::DebVersion newest;
    std::string text;
    std::string path;
    int line;
  };
  std::map<std::string, Pending> pending; // name:arch -> newest
  std::vector<Evidence> unreadable;
  size_t compared = 0;
  for (const apt::ListFile *f : sec) {
    auto list = apt::read_packages_list(run.ctx().fs(), *f);
    if (!list) {
      unreadable.push_back(
          Evidence{f->path, 0, "unreadable: " + list.error().message, "a readable list", ""});
      continue;
    }
    for (const apt::ListPackage &lp : list->packages) {
      auto it = installed.find(lp.name);
      if (it == installed.end())
        continue;
      auto v = deb::parse_deb_version(lp.version);
      if (!v)
        continue;
      for (const deb::InstalledPackage *p : it->second) {
        if (p->architecture != lp.architecture && lp.architecture != "all" &&
            p->architecture != "all")
          continue;
        ++compared;
        if (deb::compare_deb_versions(*v, *p->version) <= 0)
          continue;
        std::string key = p->name + ":" + p->architecture;
        auto found = pending.find(key);
        if (found == pending.end() || deb::compare_deb_versions(*v, found->second.newest) > 0)
          pending[key] = Pending{p, *v, lp.version, list->path, lp.line};
      }
    }
  }
  if (unreadable.size() == sec.size()) {
    run.emit(Status::error, "", "no security list could be read: " + unreadable[0].found,
             unreadable);
    return;
  }
  if (!pending.empty()) {
    std::vector<Evidence> ev;
    std::string names;
    for (auto &[key, p] : pending) {
      if (ev.size() < k_patching_max_listed) {
        ev.push_back(Evidence{p.path, p.line,
                              p.pkg->name + " " + p.pkg->version_text + " installed",
                              p.pkg->name + " " + p.text + " (security)", p.pkg->name});
        names +=
            (names.empty() ? "" : ", ") + p.pkg->name + " " + p.pkg->version_text + " -> " + p.text;
      }
    }
    if (pending.size() > k_patching_max_listed)
      names += ", and " + std::to_string(pending.size() - k_patching_max_listed) + " more";
    ev.insert(ev.end(), unreadable.begin(), unreadable.end());
    run.emit(Status::fail, "",
             std::to_string(pending.size()) + " installed package" +
                 (pending.size() == 1 ? " has" : "s have") +
                 " a newer version in the security suite: " + names,
             ev);
    return;
  }
  std::vector<Evidence> ev;
  ev.reserve(sec.size() + unreadable.size());
  for (const apt::ListFile *f : sec)
    ev.push_back(Evidence{f->path, 0, "no newer version of an installed package",
                          "no newer version of an installed package", f->why_security});
  ev.insert(ev.end(), unreadable.begin(), unreadable.end());
  run.emit(unreadable.empty() ? Status::pass : Status::warn, "",
           "no installed package has a newer version in the security suite (" +
               std::to_string(compared) + " versions compared in " + std::to_string(sec.size()) +
               " list" + (sec.size() == 1 ? "" : "s") + ")" +
               (unreadable.empty() ? "" : ", but some lists could not be read"),
           ev);
}

// ---- mac.enabled ----

struct AppArmorProfiles {
  int enforce = 0, complain = 0, disabled = 0;
  std::string first_enforcing;
};

AppArmorProfiles apparmor_profiles(const RootFs &fs) {
  AppArmorProfiles p;
  auto names = fs.list_dir("/etc/apparmor.d");
  if (!names)
    return p;
  for (const std::string &n : *names) {
    std::string path = "/etc/apparmor.d/" + n;
    auto st = fs.stat(path);
    // Directories hold abstractions, tunables, local overrides; dpkg leftovers
    // and dotfiles are skipped by apparmor_parser's directory walk too.
    if (!st || st->type != FileInfo::Type::regular || n[0] == '.' || n == "README" ||
        n.find(".dpkg-") != std::string::npos || n.ends_with("~"))
      continue;
    if (fs.exists("/etc/apparmor.d/disable/" + n)) {
      ++p.disabled;
      continue;
    }
    auto text = fs.read_file(path, 4 * 1024 * 1024);
    bool complain = fs.exists("/etc/apparmor.d/force-complain/" + n);
    if (text) {
      for (size_t at = text->find("flags"); at != std::string::npos && !complain;
           at = text->find("flags", at + 5)) {
        size_t open = text->find('(', at), close = text->find(')', at);
        if (open != std::string::npos && close != std::string::npos && open < close &&
            text->substr(open, close - open).find("complain") != std::string::npos &&
            text->substr(at, open - at).find('\n') == std::string::npos)
          complain = true;
      }
      if (text->find("profile") == std::string::npos && text->find('{') == std::string::npos)
        continue; // not a profile
    }
    if (complain) {
      ++p.complain;
    } else {
      if (p.enforce++ == 0)
        p.first_enforcing = path;
    }
  }
  return p;
}

void mac_enabled(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  std::vector<Evidence> ev;

  // Live: the running kernel decides.
  if (fs.is_host_root()) {
    if (auto e = fs.read_file("/sys/fs/selinux/enforce", 64)) {
      bool enforcing = text::trim(*e) == "1";
      run.emit(enforcing ? Status::pass : Status::fail, "",
               enforcing ? "SELinux is enforcing in the running kernel"
                         : "SELinux is loaded but permissive in the running kernel",
               {Evidence{"/sys/fs/selinux/enforce", 0, std::string(text::trim(*e)), "1",
                         "running kernel"}});
      return;
    }
    auto enabled = fs.read_file("/sys/module/apparmor/parameters/enabled", 64);
    if (enabled && text::trim(*enabled) == "Y") {
      if (auto prof = fs.read_file("/sys/kernel/security/apparmor/profiles", 16 * 1024 * 1024)) {
        int enforce = 0, other = 0;
        for (auto &l : text::split(*prof, '\n'))
          (l.ends_with("(enforce)") ? enforce : other)++;
        Evidence e{"/sys/kernel/security/apparmor/profiles", 0,
                   std::to_string(enforce) + " profiles enforcing, " + std::to_string(other) +
                       " in other modes",
                   "at least one profile enforcing", "running kernel"};
        run.emit(enforce > 0 ? Status::pass : Status::fail, "",
                 enforce > 0
                     ? "AppArmor is enabled with " + std::to_string(enforce) + " profiles enforcing"
                     : "AppArmor is enabled but no profile is enforcing",
                 {e});
        return;
      }
      ev.push_back(
          Evidence{"/sys/module/apparmor/parameters/enabled", 0, "Y", "Y",
                   "running kernel (loaded profiles unreadable: needs root and securityfs)"});
    } else if (!enabled && fs.exists("/sys/module")) {
      // sysfs is there but the kernel has no AppArmor module: nothing the
      // boot configuration says can make it enforce now.
      run.emit(Status::fail, "", "the running kernel has neither SELinux nor AppArmor",
               {Evidence{"/sys/module/apparmor", 0, "absent", "present with enabled=Y",
                         "running kernel"}});
      return;
    } else if (enabled) {
      run.emit(Status::fail, "", "AppArmor is disabled in the running kernel",
               {Evidence{"/sys/module/apparmor/parameters/enabled", 0,
                         std::string(text::trim(*enabled)), "Y", "running kernel"}});
      return;
    }
  }

  // Offline (or live without securityfs): the boot configuration.
  grub::DefaultGrub grub = grub::load_default_grub(fs);
  if (!grub.read_errors.empty()) {
    const Error &e = grub.read_errors.front();
    run.emit(
        Status::error, "", "the boot configuration cannot be read: " + e.to_string(),
        {Evidence{e.path, 0, e.message, "a readable GRUB configuration", "kernel command line"}});
    return;
  }
  const std::string cmdline = grub.cmdline();
  auto grub_ev = [&](const std::string &found, const std::string &expected) {
    auto it = grub.vars.find("GRUB_CMDLINE_LINUX");
    auto it2 = grub.vars.find("GRUB_CMDLINE_LINUX_DEFAULT");
    const SourceLocation *loc = it != grub.vars.end()    ? &it->second.loc
                                : it2 != grub.vars.end() ? &it2->second.loc
                                                         : nullptr;
    return Evidence{loc ? loc->path : "/etc/default/grub", loc ? loc->line : 0, found, expected,
                    "kernel command line"};
  };
  auto security = grub::cmdline_param(cmdline, "security");
  auto lsm = grub::cmdline_param(cmdline, "lsm");

  // SELinux: /etc/selinux/config and a kernel told to use it (Debian's
  // kernel starts AppArmor unless security=selinux or lsm= says otherwise).
  if (auto cfg = fs.read_file("/etc/selinux/config", 64 * 1024)) {
    int line_no = 0;
    for (auto &raw : text::split(*cfg, '\n', true)) {
      ++line_no;
      std::string_view l = text::trim(raw);
      if (!l.starts_with("SELINUX="))
        continue;
      std::string mode(text::trim(l.substr(8)));
      bool kernel_on = (security && *security == "selinux") ||
                       (lsm && lsm->find("selinux") != std::string::npos);
      auto off = grub::cmdline_param(cmdline, "selinux");
      if (off && *off == "0")
        kernel_on = false;
      if (mode == "enforcing" && kernel_on) {
        run.emit(Status::pass, "",
                 "SELinux is configured enforcing and selected on the kernel command line",
                 {Evidence{"/etc/selinux/config", line_no, "SELINUX=enforcing", "SELINUX=enforcing",
                           "boot configuration"},
                  grub_ev(std::string(text::trim(cmdline)), "security=selinux")});
        return;
      }
      ev.push_back(Evidence{"/etc/selinux/config", line_no, "SELINUX=" + mode,
                            "SELINUX=enforcing and security=selinux on the kernel command line",
                            "boot configuration"});
    }
  }

  // AppArmor.
  const DpkgModel &dpkg = dpkg_model(run);
  const deb::InstalledPackage *aa = nullptr;
  if (dpkg.state != DpkgModel::State::absent) {
    auto r = dpkg.installed("apparmor");
    if (!r)
      return dpkg_unreadable(run, r.error());
    aa = *r;
  }
  auto aa_param = grub::cmdline_param(cmdline, "apparmor");
  bool kernel_off = (aa_param && *aa_param == "0") ||
                    (security && !security->empty() && *security != "apparmor") ||
                    (lsm && lsm->find("apparmor") == std::string::npos);
  AppArmorProfiles prof = apparmor_profiles(fs);
  std::vector<Evidence> bad;
  if (kernel_off)
    bad.push_back(grub_ev(std::string(text::trim(cmdline)),
                          "no apparmor=0, security= or lsm= without apparmor"));
  if (!aa)
    bad.push_back(dpkg_evidence(nullptr, "apparmor"));
  if (prof.enforce == 0)
    bad.push_back(Evidence{"/etc/apparmor.d", 0,
                           "no enforcing profile (" + std::to_string(prof.complain) +
                               " complain, " + std::to_string(prof.disabled) + " disabled)",
                           "at least one profile in enforce mode", "boot configuration"});
  if (bad.empty()) {
    ev.insert(ev.begin(), {dpkg_evidence(aa, "apparmor"),
                           Evidence{prof.first_enforcing, 0,
                                    std::to_string(prof.enforce) + " enforcing profiles",
                                    "at least one profile in enforce mode", "boot configuration"},
                           grub_ev(grub.vars.empty() ? "no kernel command line setting (line 0: "
                                                       "Debian's kernel enables AppArmor)"
                                                     : std::string(text::trim(cmdline)),
                                   "no apparmor=0, security= or lsm= without apparmor")});
    run.emit(Status::pass, "",
             "AppArmor is enabled at boot with " + std::to_string(prof.enforce) +
                 " profiles in enforce mode",
             ev);
    return;
  }
  std::string what;
  for (auto &b : bad)
    what += (what.empty() ? "" : "; ") + b.found;
  bad.insert(bad.end(), ev.begin(), ev.end());
  run.emit(Status::fail, "", "no mandatory access control is enforcing: " + what, bad);
}

constexpr CheckImpl k_patching_checks[] = {
    {"os.auto-security-updates", auto_security_updates},
    {"os.pending-security-updates", pending_security_updates},
    {"mac.enabled", mac_enabled},
};

} // namespace

std::span<const CheckImpl> patching_checks() {
  return k_patching_checks;
}

} // namespace bulwark
