// The fs domain: permissions seen by one walk of the target's tree
// (core/walk.cpp), shared by the checks that judge modes and owners.
//
// - fs.world-writable: what CIS Debian 12 §7.1 finds with
//   `find / -xdev -type f -perm -0002` and `-type d -perm -0002 ! -perm -1000`
//   (plus device nodes outside /dev), minus the contents of scratch
//   directories (the `ignore` parameter: /tmp, /var/tmp).
// - fs.app-permissions: guide 003 §8's `find /app -type f ! -perm 644` and
//   `-type d ! -perm 755`, read as "no bit beyond 0644 / 0755".
// - fs.suid-files: `find / -perm /6000 -type f`, each file judged against
//   dpkg's own database: listed in some package's .list (directories
//   resolved, for merged /usr), its MD5 equal to the package's .md5sums,
//   and its set-id bits ones the package ships. dpkg does not record the
//   modes it unpacked (they are in the .deb's data.tar, not on disk), so the
//   modes come from k_shipped_setid, the set-id files of Debian 12's
//   packages, or from dpkg-statoverride's database (an override the admin
//   recorded). A packaged file with a set-id bit neither names is a failure:
//   chmod u+s on an unmodified binary is the classic backdoor. The limit: a
//   package outside Debian 12's main archive that ships a set-id file needs
//   the `allow` parameter.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/core/walk.hpp>
#include <bulwark/parse/dpkg_files.hpp>
#include <bulwark/parse/mounts.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <algorithm>
#include <fnmatch.h>
#include <map>
#include <openssl/evp.h>
#include <set>
#include <sys/stat.h>
#include <unordered_map>
#include <unordered_set>

namespace bulwark {

namespace {

constexpr size_t k_fs_max_listed = 50; // offenders listed per finding; the rest are counted

bool fs_path_under(std::string_view path, std::string_view dir) {
  if (dir == "/")
    return true;
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

bool is_setid_file(uint32_t mode) {
  return S_ISREG(mode) && (mode & (S_ISUID | S_ISGID)) != 0;
}

// The walk of "/" keeping world-writable entries and set-id files, and
// everything under `collect` (the application directory) when asked: the
// shared WalkModel keys walks by these inputs, and fs.app-permissions comes
// first in the catalogue so that one walk serves all three checks.
const TreeWalk &tree(CheckRun &run, const std::string &collect = "") {
  // Unowned entries too, so that fs.unowned-files rides the same walk.
  return run.ctx().get<WalkModel>().walk(run.ctx(), WalkKey{"/", true, collect, true});
}

std::string fs_describe_entry(const WalkEntry &e) {
  return mode_string(e.mode) + " (" + text::octal_mode(e.mode) + ") uid " + std::to_string(e.uid) +
         " gid " + std::to_string(e.gid);
}

std::string plural(size_t n, const char *one, const char *many) {
  return std::to_string(n) + " " + (n == 1 ? one : many);
}

// "a, b, c and 7 more" over the first few display paths of `items`.
std::string first_few(const std::vector<Evidence> &items, size_t total) {
  std::string s;
  size_t shown = std::min<size_t>(items.size(), 3);
  for (size_t i = 0; i < shown; ++i)
    s += (i ? ", " : "") + items[i].path;
  if (total > shown)
    s += " and " + std::to_string(total - shown) + " more";
  return s;
}

// Caps the evidence list; the message carries the total.
void cap(std::vector<Evidence> &ev, size_t total) {
  cap_evidence(ev, total, k_fs_max_listed);
}

// Unreadable directories and failed stats under `scope`: an error finding,
// next to the verdict about what could be read.
void report_walk_errors(CheckRun &run, const WalkResult &w, std::string_view scope) {
  std::vector<Evidence> ev;
  size_t total = 0;
  for (const Error &e : w.errors) {
    if (e.path != scope && !fs_path_under(e.path, scope))
      continue;
    if (++total <= k_fs_max_listed)
      ev.push_back(Evidence{display_path(e.path), 0, e.message, "readable", "walk"});
  }
  if (total == 0)
    return;
  std::string msg =
      plural(total, "entry", "entries") +
      " could not be read; the other findings cover the rest: " + first_few(ev, total);
  cap(ev, total);
  run.emit(Status::error, "", msg, ev);
}

bool walk_started(CheckRun &run, const TreeWalk &t) {
  if (!t.error)
    return true;
  run.emit(Status::error, "", "cannot walk the file system: " + t.error->to_string());
  return false;
}

void world_writable(CheckRun &run) {
  const TreeWalk &t = tree(run);
  if (!walk_started(run, t))
    return;
  std::vector<std::string> ignore;
  for (auto &p : run.param_list("ignore"))
    ignore.push_back(RootFs::join("/", p));
  std::vector<Evidence> bad;
  size_t total = 0;
  for (const WalkEntry &e : t.walk.entries) {
    if (!(e.mode & S_IWOTH))
      continue;
    const char *why = nullptr;
    if (S_ISREG(e.mode))
      why = "file writable by every user";
    else if (S_ISDIR(e.mode) && !(e.mode & S_ISVTX))
      why = "directory writable by every user, without the sticky bit";
    else if (S_ISCHR(e.mode) || S_ISBLK(e.mode))
      why = "device node writable by every user, outside /dev";
    if (!why || std::any_of(ignore.begin(), ignore.end(),
                            [&](const std::string &d) { return fs_path_under(e.path, d); }))
      continue;
    if (++total <= k_fs_max_listed)
      bad.push_back(Evidence{display_path(e.path), 0, fs_describe_entry(e),
                             S_ISDIR(e.mode) ? "o-w, or the sticky bit (+t)" : "o-w", why});
  }
  report_walk_errors(run, t.walk, "/");
  if (total > 0) {
    std::string msg =
        plural(total, "path is", "paths are") + " writable by every user: " + first_few(bad, total);
    cap(bad, total);
    run.emit(Status::fail, "", msg, bad);
    return;
  }
  std::string seen = std::to_string(t.walk.directories) + " directories and " +
                     std::to_string(t.walk.others) + " other entries";
  std::string skipped;
  for (size_t i = 0; i < t.walk.boundaries.size() && i < 10; ++i)
    skipped += (i ? " " : "") + display_path(t.walk.boundaries[i]);
  if (t.walk.boundaries.size() > 10)
    skipped += " and " + std::to_string(t.walk.boundaries.size() - 10) + " more";
  run.emit(Status::pass, "",
           "no world-writable file, and no world-writable directory without the sticky bit, "
           "among " +
               seen + " (absence: line 0)",
           {Evidence{"/", 0, seen + " walked", "no o+w file; o+w directories sticky",
                     skipped.empty() ? "" : "listed, not entered: " + skipped}});
}

Result<uint32_t> octal_param(CheckRun &run, const char *name) {
  std::string v = run.param_str(name);
  if (v.empty() || v.size() > 5 || v.find_first_not_of("01234567") != std::string::npos)
    return Error{std::string("parameter ") + name + " must be an octal mode, got \"" + v + "\""};
  return static_cast<uint32_t>(std::stoul(v, nullptr, 8));
}

void app_permissions(CheckRun &run) {
  const RootFs &fs = run.ctx().fs();
  std::string app = RootFs::join("/", run.param_str("directory"));
  auto fmode = octal_param(run, "file-mode");
  auto dmode = octal_param(run, "dir-mode");
  if (!fmode || !dmode) {
    run.emit(Status::error, "", (!fmode ? fmode.error() : dmode.error()).message);
    return;
  }
  auto host = fs.resolve(app);
  if (!host) {
    if (host.error().not_found())
      run.emit(Status::not_applicable, "", "the application directory " + app + " does not exist");
    else
      run.emit(Status::error, "", "cannot inspect " + app + ": " + host.error().to_string());
    return;
  }
  auto info = fs.stat(app);
  if (info && info->type != FileInfo::Type::directory) {
    run.emit(Status::not_applicable, "", app + " is not a directory");
    return;
  }
  std::string prefix = fs.is_host_root() ? "" : fs.host_root();
  std::string resolved = host->size() > prefix.size() ? host->substr(prefix.size()) : "/";

  const TreeWalk &t = tree(run, resolved);
  if (!walk_started(run, t))
    return;
  // The shared walk serves when it entered this directory; a directory that
  // is a mount point or under a pruned one gets a walk of its own.
  const WalkResult *w = &t.walk;
  bool entered =
      std::none_of(t.walk.boundaries.begin(), t.walk.boundaries.end(), [&](const std::string &b) {
        return b == resolved || fs_path_under(resolved, b);
      });
  if (!entered) {
    const TreeWalk &own =
        run.ctx().get<WalkModel>().walk(run.ctx(), WalkKey{resolved, false, resolved});
    if (own.error) {
      run.emit(Status::error, "", "cannot walk " + app + ": " + own.error->to_string());
      return;
    }
    w = &own.walk;
  }
  std::vector<Evidence> bad;
  size_t total = 0, files = 0, dirs = 0;
  for (const WalkEntry &e : w->entries) {
    if (e.path != resolved && !fs_path_under(e.path, resolved))
      continue;
    uint32_t allowed;
    if (S_ISREG(e.mode)) {
      ++files;
      allowed = *fmode;
    } else if (S_ISDIR(e.mode)) {
      ++dirs;
      allowed = *dmode;
    } else {
      continue;
    }
    uint32_t extra = e.mode & 07777 & ~allowed;
    if (extra == 0)
      continue;
    if (++total <= k_fs_max_listed)
      bad.push_back(Evidence{display_path(e.path), 0, fs_describe_entry(e),
                             "at most " + text::octal_mode(allowed) + " (" +
                                 mode_string((e.mode & S_IFMT) | allowed) + ")",
                             "bits beyond: " + text::octal_mode(extra)});
  }
  report_walk_errors(run, *w, resolved);
  std::string where = app == resolved ? app : app + " (" + resolved + ")";
  if (total > 0) {
    std::string msg = plural(total, "entry", "entries") + " under " + where +
                      " are more permissive than " + text::octal_mode(*fmode) + " (files) / " +
                      text::octal_mode(*dmode) + " (directories): " + first_few(bad, total);
    cap(bad, total);
    run.emit(Status::fail, "", msg, bad);
    return;
  }
  run.emit(Status::pass, "",
           plural(files, "file", "files") + " and " + plural(dirs, "directory", "directories") +
               " under " + where + " are within " + text::octal_mode(*fmode) + " / " +
               text::octal_mode(*dmode),
           {Evidence{display_path(resolved), 0, std::to_string(files + dirs) + " entries checked",
                     "files <= " + text::octal_mode(*fmode) +
                         ", directories <= " + text::octal_mode(*dmode),
                     ""}});
}

// MD5 of a target file, lower-case hex (OpenSSL's EVP, as md5sum prints it).
Result<std::string> md5_of(const RootFs &fs, const std::string &path) {
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

struct Owner {
  std::string package;
  std::string list_path;
  int line = 0;
  std::string shipped_path; // as the .list names it
};

// Which packages list each of `files` (target paths without symlinks),
// reading every .list and resolving the directories of the lines whose
// base name matches (a merged-/usr package lists /bin/su for /usr/bin/su).
std::map<std::string, std::vector<Owner>> owners_of(const RootFs &fs, const DpkgFilesModel &db,
                                                    const std::set<std::string> &files,
                                                    std::vector<Evidence> &diags) {
  std::unordered_set<std::string> bases;
  for (auto &f : files)
    bases.insert(f.substr(f.rfind('/') + 1));
  std::string prefix = fs.is_host_root() ? "" : fs.host_root();
  std::unordered_map<std::string, std::string> dir_cache; // listed dir -> resolved target dir
  auto resolve_dir = [&](const std::string &dir) -> const std::string & {
    auto it = dir_cache.find(dir);
    if (it != dir_cache.end())
      return it->second;
    std::string target;
    if (auto h = fs.resolve(dir))
      target = h->size() > prefix.size() ? h->substr(prefix.size()) : "/";
    return dir_cache.emplace(dir, target).first->second;
  };
  std::map<std::string, std::vector<Owner>> owners;
  for (const deb::FileList &fl : db.lists) {
    const std::string &list = fl.path;
    for (auto &d : fl.diagnostics)
      diags.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "dpkg database"});
    for (const deb::ListedPath &lp : fl.files) {
      size_t slash = lp.path.rfind('/');
      if (slash == std::string::npos || !bases.count(lp.path.substr(slash + 1)))
        continue;
      const std::string &dir = resolve_dir(slash == 0 ? "/" : lp.path.substr(0, slash));
      if (dir.empty())
        continue;
      std::string canonical = (dir == "/" ? "" : dir) + lp.path.substr(slash);
      if (files.count(canonical))
        owners[canonical].push_back(
            Owner{std::string(deb::package_of_info_file(list)), list, lp.line, lp.path});
    }
  }
  return owners;
}

// Set-id files that Debian 12 (bookworm) packages ship, with their modes as
// the .deb's data.tar has them (dpkg -c). Merged /usr: the /usr path.
struct ShippedSetid {
  const char *path;
  uint32_t mode;
};
constexpr ShippedSetid k_shipped_setid[] = {
    {"/usr/bin/chfn", 04755},                               // passwd
    {"/usr/bin/chsh", 04755},                               // passwd
    {"/usr/bin/gpasswd", 04755},                            // passwd
    {"/usr/bin/passwd", 04755},                             // passwd
    {"/usr/bin/chage", 02755},                              // passwd
    {"/usr/bin/expiry", 02755},                             // passwd
    {"/usr/bin/newgrp", 04755},                             // login
    {"/usr/bin/su", 04755},                                 // util-linux
    {"/usr/bin/mount", 04755},                              // mount
    {"/usr/bin/umount", 04755},                             // mount
    {"/usr/bin/sudo", 04755},                               // sudo, sudo-ldap
    {"/usr/sbin/unix_chkpwd", 02755},                       // libpam-modules-bin
    {"/usr/lib/openssh/ssh-keysign", 04755},                // openssh-client
    {"/usr/bin/ssh-agent", 02755},                          // openssh-client
    {"/usr/bin/crontab", 02755},                            // cron
    {"/usr/lib/dbus-1.0/dbus-daemon-launch-helper", 04754}, // dbus-daemon
    {"/usr/lib/polkit-1/polkit-agent-helper-1", 04755},     // polkitd
    {"/usr/bin/pkexec", 04755},                             // pkexec
    {"/usr/sbin/exim4", 04755},                             // exim4-daemon-light, -heavy
    {"/usr/bin/dotlockfile", 02755},                        // liblockfile-bin
    {"/usr/lib/x86_64-linux-gnu/utempter/utempter", 02755}, // libutempter0
    {"/usr/lib/aarch64-linux-gnu/utempter/utempter", 02755},
    {"/usr/bin/fusermount", 04755},               // fuse
    {"/usr/bin/fusermount3", 04755},              // fuse3
    {"/usr/bin/newuidmap", 04755},                // uidmap (rootless Docker)
    {"/usr/bin/newgidmap", 04755},                // uidmap
    {"/usr/bin/ntfs-3g", 04755},                  // ntfs-3g
    {"/usr/lib/xorg/Xorg.wrap", 04755},           // xserver-xorg-legacy
    {"/usr/bin/at", 06755},                       // at
    {"/usr/bin/wall", 02755},                     // bsdextrautils
    {"/usr/bin/write.ul", 02755},                 // bsdextrautils
    {"/usr/bin/plocate", 02755},                  // plocate
    {"/usr/sbin/postdrop", 02555},                // postfix
    {"/usr/sbin/postqueue", 02555},               // postfix
    {"/usr/sbin/pppd", 04754},                    // ppp
    {"/usr/sbin/mount.nfs", 04755},               // nfs-common
    {"/usr/sbin/mount.cifs", 04755},              // cifs-utils
    {"/usr/lib/eject/dmcrypt-get-device", 04755}, // eject
    {"/usr/lib/chromium/chrome-sandbox", 04755},  // chromium-sandbox
    {"/usr/bin/vmware-user-suid-wrapper", 04755}, // open-vm-tools-desktop
    {"/usr/bin/procmail", 06755},                 // procmail
    {"/usr/bin/lockfile", 02755},                 // procmail
};

// Packages of Debian 12 still ship /bin/su, /bin/mount: on a root without
// merged /usr they stay there, so /bin, /sbin and /lib name their /usr twin.
const ShippedSetid *shipped_setid(std::string_view path) {
  std::string merged;
  for (std::string_view top : {"/bin/", "/sbin/", "/lib/"})
    if (path.substr(0, top.size()) == top)
      merged = "/usr" + std::string(path);
  for (auto &s : k_shipped_setid)
    if (path == s.path || (!merged.empty() && merged == s.path))
      return &s;
  return nullptr;
}

// dpkg-statoverride's database, /var/lib/dpkg/statoverride: "user group
// mode path" per line (mode in octal). Path -> (mode, line).
struct StatOverrides {
  std::map<std::string, std::pair<uint32_t, int>> modes;
  std::optional<Error> error; // unreadable (not absent), or a malformed line
};
StatOverrides read_statoverrides(const RootFs &fs) {
  constexpr const char *k_path = "/var/lib/dpkg/statoverride";
  StatOverrides out;
  auto text = fs.read_file(k_path, 16 * 1024 * 1024);
  if (!text) {
    if (!text.error().not_found())
      out.error = text.error();
    return out;
  }
  int n = 0;
  for (auto &line : text::split(*text, '\n', true)) {
    ++n;
    if (text::trim(line).empty())
      continue;
    auto f = text::split(line, ' ');
    char *end = nullptr;
    unsigned long mode = f.size() == 4 ? std::strtoul(f[2].c_str(), &end, 8) : 0;
    if (f.size() != 4 || end == nullptr || *end != '\0' || mode > 07777) {
      // dpkg-statoverride refuses the whole database on such a line.
      out.error = Error{"not \"user group mode path\"", k_path, n};
      return out;
    }
    out.modes[f[3]] = {static_cast<uint32_t>(mode), n};
  }
  return out;
}

void suid_files(CheckRun &run) {
  const TreeWalk &t = tree(run);
  if (!walk_started(run, t))
    return;
  const RootFs &fs = run.ctx().fs();
  std::vector<const WalkEntry *> setid;
  std::set<std::string> paths;
  for (const WalkEntry &e : t.walk.entries)
    if (is_setid_file(e.mode)) {
      setid.push_back(&e);
      paths.insert(e.path);
    }
  report_walk_errors(run, t.walk, "/");
  if (setid.empty()) {
    run.emit(Status::pass, "", "no set-id file on the file system (absence: line 0)",
             {Evidence{"/", 0, "no file with mode 4000 or 2000", "", ""}});
    return;
  }
  std::vector<std::string> allow = run.param_list("allow");
  auto allowed = [&](const std::string &p) {
    return std::any_of(allow.begin(), allow.end(), [&](const std::string &pat) {
      return ::fnmatch(pat.c_str(), p.c_str(), FNM_PATHNAME) == 0;
    });
  };

  std::vector<Evidence> diags;
  const DpkgFilesModel &db = run.ctx().get<DpkgFilesModel>();
  if (db.error) {
    run.emit(Status::error, "", "cannot read dpkg's file lists: " + db.error->to_string());
    return;
  }
  if (!db.unreadable.empty()) {
    // A set-id file's package may be the one whose list cannot be read.
    std::vector<Evidence> ev;
    for (const Error &e : db.unreadable)
      ev.push_back(Evidence{e.path, 0, e.message, "readable", "dpkg database"});
    cap(ev, ev.size());
    run.emit(Status::error, "",
             plural(db.unreadable.size(), "dpkg file list", "dpkg file lists") +
                 " could not be read: " + db.unreadable.front().to_string(),
             ev);
  }
  bool have_db = db.present;
  auto owners = owners_of(fs, db, paths, diags);
  std::map<std::string, Result<deb::Md5Sums>> md5sums; // by .md5sums path
  auto sums_of = [&](const Owner &o) -> const Result<deb::Md5Sums> & {
    std::string p = o.list_path.substr(0, o.list_path.size() - 5) + ".md5sums";
    auto it = md5sums.find(p);
    if (it == md5sums.end()) {
      auto text = fs.read_file(p);
      Result<deb::Md5Sums> r =
          text ? Result<deb::Md5Sums>(deb::parse_md5sums_text(p, *text)) : text.error();
      it = md5sums.emplace(p, std::move(r)).first;
    }
    return it->second;
  };

  std::vector<Evidence> bad, good;
  size_t total_bad = 0;
  StatOverrides overrides;
  bool overrides_read = false;
  for (const WalkEntry *e : setid) {
    std::string shown = display_path(e->path);
    std::string found = fs_describe_entry(*e);
    if (allowed(e->path)) {
      good.push_back(Evidence{shown, 0, found, "", "allowed by the allow parameter"});
      continue;
    }
    auto it = owners.find(e->path);
    if (it == owners.end()) {
      if (++total_bad <= k_fs_max_listed)
        bad.push_back(Evidence{shown, 0, found + "; in no installed package's file list",
                               "shipped by a package, or in the allow list",
                               have_db ? "not packaged" : "no dpkg database"});
      continue;
    }
    const Owner &o = it->second.front();
    const auto &sums = sums_of(o);
    const deb::Md5Entry *rec = nullptr;
    if (sums)
      for (auto &m : sums->entries)
        if (m.path == o.shipped_path)
          rec = &m;
    if (!rec) {
      good.push_back(Evidence{o.list_path, o.line, shown + ": " + found, "",
                              "package " + o.package + " (no MD5 recorded: not verified)"});
      continue;
    }
    auto md5 = md5_of(fs, e->path);
    if (!md5) {
      if (++total_bad <= k_fs_max_listed)
        bad.push_back(Evidence{shown, 0, "cannot verify: " + md5.error().message, "MD5 " + rec->md5,
                               "package " + o.package});
      continue;
    }
    if (*md5 != rec->md5) {
      if (++total_bad <= k_fs_max_listed)
        bad.push_back(
            Evidence{shown, 0, found + "; MD5 " + *md5,
                     "MD5 " + rec->md5 + " (" + sums->path + ":" + std::to_string(rec->line) + ")",
                     "modified since package " + o.package + " installed it"});
      continue;
    }
    // The content is the package's; is the set-id bit? A recorded
    // statoverride, else the mode Debian ships.
    uint32_t bits = e->mode & 06000;
    if (!overrides_read) {
      overrides = read_statoverrides(fs);
      overrides_read = true;
    }
    if (overrides.error) {
      run.emit(Status::error, "",
               "cannot read dpkg's stat overrides: " + overrides.error->to_string());
      return;
    }
    auto so = overrides.modes.find(e->path);
    if (so == overrides.modes.end())
      so = overrides.modes.find(o.shipped_path);
    if (so != overrides.modes.end() && (bits & ~so->second.first) == 0) {
      good.push_back(Evidence{"/var/lib/dpkg/statoverride", so->second.second,
                              shown + ": " + found + "; MD5 matches", "",
                              "package " + o.package + ", mode " +
                                  text::octal_mode(so->second.first) +
                                  " recorded by dpkg-statoverride"});
      continue;
    }
    const ShippedSetid *ship = shipped_setid(e->path);
    if (ship == nullptr)
      ship = shipped_setid(o.shipped_path);
    if (ship == nullptr || (bits & ~ship->mode) != 0) {
      if (++total_bad <= k_fs_max_listed)
        bad.push_back(
            Evidence{shown, 0, found + "; MD5 matches package " + o.package,
                     ship ? "mode " + text::octal_mode(ship->mode) + " as the package ships it"
                          : "no set-id bit: Debian 12's " + o.package + " does not ship it set-id",
                     "set-id bit added after installation (no dpkg-statoverride records it)"});
      continue;
    }
    good.push_back(Evidence{sums->path, rec->line, shown + ": " + found + "; MD5 matches", "",
                            "package " + o.package});
  }
  if (total_bad > 0) {
    std::string msg = plural(total_bad, "set-id file is", "set-id files are") +
                      " outside the distribution's known set: " + first_few(bad, total_bad);
    cap(bad, total_bad);
    if (diags.size() > k_fs_max_listed)
      diags.resize(k_fs_max_listed);
    bad.insert(bad.end(), diags.begin(), diags.end());
    run.emit(Status::fail, "", msg, bad);
    return;
  }
  cap(good, good.size());
  if (diags.size() > k_fs_max_listed)
    diags.resize(k_fs_max_listed);
  good.insert(good.end(), diags.begin(), diags.end());
  run.emit(Status::pass, "",
           plural(setid.size(), "set-id file", "set-id files") +
               ", each shipped unmodified by an installed package or allowed",
           good);
}

// ---- second wave -------------------------------------------------------------

// fs.critical-file-permissions: CIS Debian 12 §7.1.1-7.1.10. Each file's
// owner is root; its group root, or shadow for the hash databases; its mode
// within the maximum ("or stricter": no bit beyond it).
void critical_file_permissions(CheckRun &run) {
  struct Want {
    const char *path;
    uint32_t max_mode;
    bool shadow_group; // group root or shadow
  };
  static constexpr Want k_files[] = {{"/etc/passwd", 0644, false},
                                     {"/etc/passwd-", 0644, false},
                                     {"/etc/group", 0644, false},
                                     {"/etc/group-", 0644, false},
                                     {"/etc/shadow", 0640, true},
                                     {"/etc/shadow-", 0640, true},
                                     {"/etc/gshadow", 0640, true},
                                     {"/etc/gshadow-", 0640, true},
                                     {"/etc/shells", 0644, false},
                                     {"/etc/security/opasswd", 0600, false},
                                     {"/etc/security/opasswd.old", 0600, false}};
  const RootFs &fs = run.ctx().fs();
  const auto &acc = run.ctx().accounts();
  std::optional<long long> shadow_gid;
  if (acc.group)
    for (auto &g : *acc.group)
      if (g.name == "shadow")
        shadow_gid = g.gid;
  std::vector<Evidence> bad, good, errors;
  for (const Want &w : k_files) {
    auto st = fs.lstat(w.path);
    if (!st) {
      if (!st.error().not_found())
        errors.push_back(Evidence{w.path, 0, st.error().message, "readable", ""});
      continue;
    }
    std::string expected = "owner root, group " +
                           std::string(w.shadow_group ? "root or shadow" : "root") + ", mode " +
                           text::octal_mode(w.max_mode) + " or stricter";
    Evidence e{w.path, 0, "", expected, ""};
    e.found = "mode " + text::octal_mode(st->mode) + " uid " + std::to_string(st->uid) + " gid " +
              std::to_string(st->gid);
    if (st->type != FileInfo::Type::regular) {
      e.found += st->type == FileInfo::Type::symlink ? " (a symbolic link)" : " (not a file)";
      bad.push_back(e);
      continue;
    }
    bool group_ok = st->gid == 0 || (w.shadow_group && shadow_gid &&
                                     static_cast<long long>(st->gid) == *shadow_gid);
    bool ok = st->uid == 0 && group_ok && (st->mode & 07777 & ~w.max_mode) == 0;
    (ok ? good : bad).push_back(e);
  }
  if (!errors.empty()) {
    errors.insert(errors.end(), bad.begin(), bad.end());
    run.emit(Status::error, "",
             "cannot inspect " + errors.front().path + ": " + errors.front().found, errors);
    return;
  }
  if (good.empty() && bad.empty()) {
    run.emit(Status::not_applicable, "", "none of the account databases exists in the target");
    return;
  }
  if (bad.empty()) {
    run.emit(Status::pass, "",
             plural(good.size(), "account file has", "account files have") +
                 " root's ownership and the expected mode",
             good);
    return;
  }
  std::string what;
  for (auto &b : bad)
    what += (what.empty() ? "" : "; ") + b.path + " " + b.found;
  run.emit(Status::fail, "", what, bad);
}

// ---- fs.tmp-mount-options ------------------------------------------------------
//
// Where /tmp, /dev/shm and /var/tmp come from at boot (systemd 252): a mount
// unit in /etc/systemd/system or /run/systemd/system overrides the one
// systemd-fstab-generator makes from /etc/fstab, which overrides a vendor
// unit (/usr/lib/systemd/system/tmp.mount, when enabled). /dev/shm is
// mounted by systemd itself with nosuid,nodev (mount-setup.c) unless fstab
// says otherwise. A directory without its own mount has the options of the
// file system that holds it. On the live host /proc/self/mountinfo decides.
struct TmpMounts {
  struct Source {
    std::string dir;
    std::string options;
    Evidence where;
    bool separate = false; // a mount of its own
    std::optional<Error> error;
  };
  std::vector<Source> dirs;
};

// [Mount] Options= of a mount unit and its drop-ins (the last assignment
// wins; an empty one resets).
std::optional<std::pair<std::string, SourceLocation>> unit_options(const RootFs &fs,
                                                                   const std::string &fragment,
                                                                   const std::string &unit,
                                                                   std::optional<Error> &error) {
  std::optional<std::pair<std::string, SourceLocation>> out;
  auto scan = [&](const std::string &path) {
    auto t = fs.read_file(path, 1024 * 1024);
    if (!t) {
      if (!t.error().not_found())
        error = t.error();
      return;
    }
    int n = 0;
    bool in_mount = false;
    for (auto &raw : text::split(*t, '\n', true)) {
      ++n;
      std::string_view l = text::trim(raw);
      if (l.empty() || l[0] == '#' || l[0] == ';')
        continue;
      if (l[0] == '[') {
        in_mount = l == "[Mount]";
        continue;
      }
      if (!in_mount || l.substr(0, 7) != "Options")
        continue;
      auto eq = l.find('=');
      if (eq == std::string_view::npos || text::trim(l.substr(0, eq)) != "Options")
        continue;
      out = std::make_pair(std::string(text::trim(l.substr(eq + 1))), SourceLocation{path, n});
    }
  };
  scan(fragment);
  std::map<std::string, std::string> dropins; // name -> path (earlier directories win)
  for (const std::string &dir : systemd::UnitFiles::search_path()) {
    auto names = fs.list_dir(dir + "/" + unit + ".d");
    if (!names)
      continue;
    for (auto &n : *names)
      if (n.size() > 5 && n.substr(n.size() - 5) == ".conf")
        dropins.emplace(n, dir + "/" + unit + ".d/" + n);
  }
  for (auto &[n, p] : dropins)
    scan(p);
  return out;
}

TmpMounts load_tmp_mounts(Context &ctx) {
  const RootFs &fs = ctx.fs();
  TmpMounts out;
  static constexpr std::pair<const char *, const char *> k_dirs[] = {
      {"/tmp", "tmp.mount"}, {"/dev/shm", "dev-shm.mount"}, {"/var/tmp", "var-tmp.mount"}};
  if (fs.is_host_root()) {
    auto t = fs.read_file("/proc/self/mountinfo", 16 * 1024 * 1024);
    mounts::MountInfo mi;
    std::optional<Error> err;
    if (t)
      mi = mounts::parse_mountinfo_text("/proc/self/mountinfo", *t);
    else
      err = t.error();
    for (auto [dir, unit] : k_dirs) {
      TmpMounts::Source s;
      s.dir = dir;
      s.error = err;
      if (const mounts::MountEntry *e = err ? nullptr : mounts::covering(mi, dir)) {
        s.options = e->options;
        s.separate = e->mount_point == dir;
        s.where = Evidence{"/proc/self/mountinfo", e->line,
                           text::printable(e->mount_point, 80) + " " + e->fstype + " " + e->options,
                           "", "running system"};
      } else if (!err) {
        s.error = Error{"no mount holds " + std::string(dir), "/proc/self/mountinfo"};
      }
      out.dirs.push_back(std::move(s));
    }
    return out;
  }
  mounts::Fstab tab;
  std::optional<Error> fstab_error;
  if (auto t = fs.read_file("/etc/fstab", 1024 * 1024))
    tab = mounts::parse_fstab_text("/etc/fstab", *t);
  else if (!t.error().not_found())
    fstab_error = t.error();
  const SystemdModel &sd = ctx.get<SystemdModel>();
  for (auto [dir, unit] : k_dirs) {
    TmpMounts::Source s;
    s.dir = dir;
    s.error = fstab_error;
    const systemd::UnitState &st = sd.state(unit);
    bool admin_unit = !st.fragment.empty() && (st.fragment.rfind("/etc/systemd/system/", 0) == 0 ||
                                               st.fragment.rfind("/run/systemd/system/", 0) == 0);
    const mounts::FstabEntry *fe = nullptr;
    for (auto &e : tab.entries)
      if (e.mount_point == dir)
        fe = &e;
    // An admin unit replaces the fstab line (or mounts when enabled).
    if (!st.fragment.empty() &&
        ((admin_unit && (fe || st.is_enabled())) || (!fe && st.is_enabled()))) {
      auto o = unit_options(fs, st.fragment, unit, s.error);
      s.separate = true;
      s.options = o ? o->first : "";
      SourceLocation at = o ? o->second : SourceLocation{st.fragment, 0};
      s.where = Evidence{at.path, at.line, std::string(unit) + " Options=" + s.options, "",
                         "systemd unit"};
    } else if (fe) {
      s.separate = true;
      s.options = fe->options;
      s.where = Evidence{
          fe->loc.path, fe->loc.line,
          text::printable(fe->mount_point, 80) + " " + fe->fstype + " " + fe->options, "", "fstab"};
    } else if (std::string_view(dir) == "/dev/shm") {
      s.separate = true;
      s.options = "rw,nosuid,nodev";
      s.where = Evidence{"/etc/fstab", 0, "/dev/shm tmpfs rw,nosuid,nodev (systemd's default)", "",
                         "systemd"};
    } else {
      const mounts::FstabEntry *c = mounts::covering(tab, dir);
      s.options = c ? c->options : "defaults";
      s.where = Evidence{c ? c->loc.path : "/etc/fstab", c ? c->loc.line : 0,
                         std::string(dir) + " has no mount of its own" +
                             (c ? " (on " + c->mount_point + ": " + c->options + ")" : ""),
                         "", "fstab"};
    }
    out.dirs.push_back(std::move(s));
  }
  return out;
}

void tmp_mount_options(CheckRun &run) {
  const TmpMounts &t =
      run.ctx().model<TmpMounts>([&] { return load_tmp_mounts(run.ctx()); }, "temporary mounts");
  std::vector<Evidence> bad, good, errors;
  for (auto &s : t.dirs) {
    if (s.error) {
      errors.push_back(Evidence{s.error->path, s.error->line, s.error->message, "readable", s.dir});
      continue;
    }
    mounts::MountFlags f = mounts::mount_flags(s.options);
    std::vector<std::string> missing;
    if (!f.nodev)
      missing.push_back("nodev");
    if (!f.nosuid)
      missing.push_back("nosuid");
    if (!f.noexec)
      missing.push_back("noexec");
    Evidence e = s.where;
    e.expected = s.dir + " mounted nodev,nosuid,noexec";
    e.context = s.dir + " (" + e.context + ")";
    if (missing.empty()) {
      good.push_back(e);
    } else {
      e.found += ": without " + text::join(missing, ",");
      bad.push_back(e);
    }
  }
  if (!errors.empty()) {
    errors.insert(errors.end(), bad.begin(), bad.end());
    run.emit(Status::error, "",
             "cannot tell how " + errors.front().context + " is mounted: " + errors.front().found,
             errors);
    return;
  }
  if (bad.empty()) {
    run.emit(Status::pass, "", "/tmp, /dev/shm and /var/tmp are mounted nodev,nosuid,noexec", good);
    return;
  }
  std::string what;
  for (auto &b : bad)
    what += (what.empty() ? "" : "; ") + b.found;
  run.emit(Status::fail, "", what, bad);
}

// fs.unowned-files: `find / -xdev \( -nouser -o -nogroup \)` (CIS Debian 12
// §7.1.12), from the shared walk: it keeps such entries when an fs check
// asks for it (WalkKey::unowned), judged against the target's own passwd and
// group. Symlinks are not stat'ed by the walk and are not judged.
void unowned_files(CheckRun &run) {
  const TreeWalk &t = tree(run);
  if (!walk_started(run, t))
    return;
  if (t.owners_error) {
    run.emit(Status::error, "", "cannot tell which owners exist: " + t.owners_error->to_string(),
             {Evidence{t.owners_error->path, 0, t.owners_error->message, "readable", ""}});
    return;
  }
  const auto &acc = run.ctx().accounts();
  std::unordered_set<long long> uids, gids;
  for (auto &p : acc.passwd)
    uids.insert(p.uid);
  for (auto &g : *acc.group)
    gids.insert(g.gid);
  std::vector<std::string> ignore;
  for (auto &p : run.param_list("ignore"))
    ignore.push_back(RootFs::join("/", p));
  std::vector<Evidence> bad;
  size_t total = 0;
  for (const WalkEntry &e : t.walk.entries) {
    bool no_user = !uids.count(e.uid), no_group = !gids.count(e.gid);
    if (S_ISLNK(e.mode) || (!no_user && !no_group))
      continue;
    if (std::any_of(ignore.begin(), ignore.end(),
                    [&](const std::string &d) { return e.path == d || fs_path_under(e.path, d); }))
      continue;
    if (++total <= k_fs_max_listed)
      bad.push_back(Evidence{display_path(e.path), 0, fs_describe_entry(e),
                             "an owner in /etc/passwd and a group in /etc/group",
                             no_user && no_group ? "no such user or group"
                             : no_user           ? "no such user"
                                                 : "no such group"});
  }
  report_walk_errors(run, t.walk, "/");
  if (total > 0) {
    std::string msg = plural(total, "entry has", "entries have") +
                      " an owner or group without an account: " + first_few(bad, total);
    cap(bad, total);
    run.emit(Status::fail, "", msg, bad);
    return;
  }
  std::string seen = std::to_string(t.walk.directories) + " directories and " +
                     std::to_string(t.walk.others) + " other entries";
  run.emit(Status::pass, "",
           "every file has an owner and a group with an account, among " + seen +
               " (absence: line 0)",
           {Evidence{"/", 0, seen + " walked", "owners in /etc/passwd, groups in /etc/group", ""}});
}

constexpr CheckImpl k_fs_checks[] = {
    {"fs.app-permissions", app_permissions},
    {"fs.world-writable", world_writable},
    {"fs.suid-files", suid_files},
    {"fs.critical-file-permissions", critical_file_permissions},
    {"fs.tmp-mount-options", tmp_mount_options},
    {"fs.unowned-files", unowned_files},
};

} // namespace

std::span<const CheckImpl> fs_checks() {
  return k_fs_checks;
}

} // namespace bulwark
