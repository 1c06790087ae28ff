// The os domain: CHECKS.md "os and accounts" rows about the system itself:
// a pending reboot, apt's security suite, and packaged programs against
// dpkg's MD5 sums (the method of fs.suid-files, over dpkg's file lists: no
// tree walk).

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/change_time.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/apt_sources.hpp>
#include <bulwark/parse/dpkg_files.hpp>

#include <openssl/evp.h>

#include <algorithm>
#include <map>
#include <set>

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

// --- os.security-repo -----------------------------------------------------

void security_repo(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  if (!fs.exists("/etc/apt")) {
    run.emit(Status::not_applicable, "", "no /etc/apt: not a Debian-family system");
    return;
  }
  const auto &src =
      run.ctx().model<apt::Sources>([&] { return apt::load_sources(fs); }, "apt sources");
  std::vector<Evidence> good, errs;
  for (auto &e : src.entries)
    if (e.type == "deb" &&
        (e.suite.size() > 9 && e.suite.compare(e.suite.size() - 9, 9, "-security") == 0))
      good.push_back(Evidence{e.loc.path, e.loc.line, "deb " + e.uri + " " + e.suite,
                              "the security suite", "apt"});
  for (auto &d : src.diagnostics)
    if (d.level == Diagnostic::Level::error)
      errs.push_back(Evidence{d.loc.path, d.loc.line, d.message, "a source apt accepts", "parse"});
  if (!errs.empty()) {
    errs.insert(errs.end(), good.begin(), good.end());
    // apt refuses to run with a malformed source file: nothing is updated.
    run.emit(Status::error, "",
             "apt refuses its sources: " + errs.front().path + ":" +
                 std::to_string(errs.front().line) + ": " + errs.front().found,
             errs);
    return;
  }
  if (!good.empty()) {
    run.emit(Status::pass, "", "apt's sources include " + good.front().found, good);
    return;
  }
  std::vector<Evidence> ev;
  for (auto &e : src.entries)
    if (e.type == "deb")
      ev.push_back(Evidence{e.loc.path, e.loc.line, "deb " + e.uri + " " + e.suite,
                            "also a <codename>-security suite", "apt"});
  if (ev.empty())
    ev.push_back(Evidence{"/etc/apt/sources.list", 0, "no deb source at all",
                          "deb http://security.debian.org/debian-security bookworm-security main",
                          "apt"});
  run.emit(Status::fail, "",
           "apt's sources have no security suite: security updates are never offered", ev);
}

// --- os.package-integrity -------------------------------------------------

// The directories whose packaged programs must be unmodified.
constexpr std::string_view k_program_dirs[] = {"/usr/bin/", "/usr/sbin/", "/bin/", "/sbin/"};

// dpkg's diversions (/var/lib/dpkg/diversions: triplets of lines "from",
// "to", "package"): a file a package shipped at `from` now lives at `to`
// unless the package is the diverting one.
std::map<std::string, std::pair<std::string, std::string>> diversions(const RootFs &fs) {
  std::map<std::string, std::pair<std::string, std::string>> out;
  auto t = fs.read_file("/var/lib/dpkg/diversions", 16 * 1024 * 1024);
  if (!t)
    return out;
  auto lines = text::split(*t, '\n');
  for (size_t i = 0; i + 2 < lines.size() + 0 && i + 2 < lines.size(); i += 3)
    out[lines[i]] = {lines[i + 1], lines[i + 2]};
  return out;
}

Result<std::string> md5_hex(const RootFs &fs, const std::string &path) {
  std::string data = TRY(fs.read_file(path));
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr) != 1)
    return Error{"MD5 is not available from OpenSSL", path};
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned i = 0; i < len; ++i) {
    hex += k_hex[md[i] >> 4];
    hex += k_hex[md[i] & 15];
  }
  return hex;
}

void package_integrity(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  const DpkgModel &dpkg = run.ctx().get<DpkgModel>();
  if (dpkg.state == DpkgModel::State::absent) {
    run.emit(Status::not_applicable, "", "no dpkg database (/var/lib/dpkg/status)");
    return;
  }
  if (dpkg.state == DpkgModel::State::error) {
    run.emit(Status::error, "", "cannot read dpkg's status: " + dpkg.error->to_string());
    return;
  }
  const DpkgFilesModel &db = run.ctx().get<DpkgFilesModel>();
  if (db.error) {
    run.emit(Status::error, "", "cannot read dpkg's file lists: " + db.error->to_string());
    return;
  }
  auto div = diversions(fs);
  struct Item {
    std::string shipped, actual;
    std::string md5;
    std::string sums_path;
    int line = 0;
    std::string package;
    int64_t installed_at = 0; // the mtime of the package's .list (dpkg wrote it)
  };
  std::vector<Item> items;
  std::vector<Evidence> errs;
  std::set<std::string> seen;
  for (const deb::FileList &l : db.lists) {
    std::string sums_path = l.path.substr(0, l.path.size() - 5) + ".md5sums";
    std::string pkg(deb::package_of_info_file(sums_path.substr(sums_path.rfind('/') + 1)));
    auto text = fs.read_file(sums_path);
    if (!text) {
      if (!text.error().not_found())
        errs.push_back(Evidence{sums_path, 0, text.error().message, "readable", "dpkg"});
      continue;
    }
    deb::Md5Sums sums = deb::parse_md5sums_text(sums_path, *text);
    auto list_st = fs.stat(l.path);
    int64_t installed_at = list_st ? list_st->mtime : 0;
    for (auto &m : sums.entries) {
      if (!std::any_of(std::begin(k_program_dirs), std::end(k_program_dirs),
                       [&](std::string_view d) { return text::starts_with(m.path, d); }))
        continue;
      std::string actual = m.path;
      if (auto it = div.find(m.path);
          it != div.end() && it->second.second != pkg &&
          it->second.second.substr(0, it->second.second.find(':')) != pkg.substr(0, pkg.find(':')))
        actual = it->second.first;
      // On merged /usr, /bin/x and /usr/bin/x are one file: judge it once.
      auto r = fs.resolve(actual);
      if (r && !seen.insert(*r).second)
        continue;
      items.push_back({m.path, actual, m.md5, sums_path, m.line, pkg, installed_at});
    }
  }
  std::vector<Evidence> bad;
  size_t checked = 0, missing = 0, modified = 0;
  // A file whose inode has not changed since dpkg wrote its package's file
  // list has the content dpkg unpacked: every write, chmod, chown or rename
  // onto it sets ctime to the current time, and user space cannot set ctime
  // back (only by moving the system clock). Those are not read again unless
  // the profile asks for every file (hash: all, what dpkg --verify does).
  bool hash_all = text::lower(run.param_str("hash")) == "all";
  size_t by_ctime = 0;
  for (auto &it : items) {
    if (!hash_all && it.installed_at > 0)
      if (auto ct = change_time(fs, it.actual); ct && *ct <= it.installed_at) {
        ++by_ctime;
        ++checked;
        continue;
      }
    auto md5 = md5_hex(fs, it.actual);
    if (!md5) {
      if (md5.error().not_found()) {
        ++missing;
        continue;
      }
      errs.push_back(Evidence{it.actual, 0, "cannot verify: " + md5.error().message,
                              "MD5 " + it.md5, "package " + it.package});
      continue;
    }
    ++checked;
    if (*md5 != it.md5) {
      if (++modified <= 20)
        bad.push_back(
            Evidence{it.actual, 0, "MD5 " + *md5,
                     "MD5 " + it.md5 + " (" + it.sums_path + ":" + std::to_string(it.line) + ")",
                     "package " + it.package});
    }
  }
  if (modified > 0) {
    std::string names;
    for (size_t i = 0; i < bad.size() && i < 5; ++i)
      names += (i ? ", " : "") + bad[i].path;
    bad.insert(bad.end(), errs.begin(), errs.end());
    run.emit(Status::fail, "",
             std::to_string(modified) + " packaged program" +
                 (modified == 1 ? " differs" : "s differ") + " from what dpkg installed: " + names,
             bad);
    return;
  }
  if (!errs.empty()) {
    run.emit(Status::error, "",
             "some packaged programs could not be verified: " + errs.front().path + ": " +
                 errs.front().found,
             errs);
    return;
  }
  run.emit(
      Status::pass, "",
      std::to_string(checked) +
          " packaged programs in /usr/bin, /usr/sbin, /bin and /sbin "
          "match dpkg's MD5 sums (" +
          std::to_string(checked - by_ctime) + " hashed, " + std::to_string(by_ctime) +
          " unchanged since their package was installed)" +
          (missing ? " (" + std::to_string(missing) + " listed but absent)" : ""),
      {Evidence{deb::k_dpkg_info_dir, 0, std::to_string(checked) + " files verified", "", "dpkg"}});
}

constexpr CheckImpl k_os_checks[] = {
    {"os.reboot-required", reboot_required},
    {"os.security-repo", security_repo},
    {"os.package-integrity", package_integrity},
};

} // namespace

std::span<const CheckImpl> os_checks() {
  return k_os_checks;
}

} // namespace bulwark
