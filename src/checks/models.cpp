// The shared host models (include/bulwark/checks/models.hpp).

#include <bulwark/checks/models.hpp>

#include <bulwark/core/text.hpp>
#include <bulwark/parse/accounts.hpp>

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <set>
#include <sys/stat.h>
#include <unordered_set>

namespace bulwark {

// --- dpkg status ---------------------------------------------------------

DpkgModel load_dpkg_model(const RootFs &fs) {
  DpkgModel m;
  auto r = deb::parse_dpkg_status(fs);
  if (r) {
    m.state = DpkgModel::State::ok;
    m.status = std::move(r).value();
  } else {
    // Only ENOENT is absence: ENOTDIR (a file where /var/lib/dpkg should be),
    // EISDIR, EACCES or an oversized file leave the question open.
    m.state = r.error().sys_errno == ENOENT ? DpkgModel::State::absent : DpkgModel::State::error;
    m.error = r.error();
    if (m.error->path.empty())
      m.error->path = deb::k_dpkg_status_path;
  }
  return m;
}

DpkgModel DpkgModel::load(Context &ctx) {
  return load_dpkg_model(ctx.fs());
}

std::optional<Error> DpkgModel::first_status_error() const {
  if (!status)
    return std::nullopt;
  for (const auto &d : status->diagnostics)
    if (d.level == deb::StatusDiagnostic::Level::error)
      return Error{d.message, d.loc.path, d.loc.line};
  return std::nullopt;
}

Result<const deb::InstalledPackage *> DpkgModel::installed(std::string_view package) const {
  if (state == State::error)
    return Error{"cannot read the dpkg database: " + error->to_string(), error->path, error->line,
                 error->sys_errno};
  if (!status)
    return Error{"no dpkg database", deb::k_dpkg_status_path};
  if (const deb::InstalledPackage *p = status->find_installed(package))
    return p;
  if (auto e = first_status_error())
    return Error{"cannot tell whether " + std::string(package) +
                     " is installed: the dpkg status file has a broken stanza (" + e->message + ")",
                 e->path, e->line};
  return static_cast<const deb::InstalledPackage *>(nullptr);
}

PackageInstalled package_installed(Context &ctx, const std::string &package,
                                   const std::vector<std::string> &files) {
  const DpkgModel &d = ctx.get<DpkgModel>();
  PackageInstalled out;
  if (d.state != DpkgModel::State::absent) {
    out.by_dpkg = true;
    auto p = d.installed(package);
    if (!p) {
      out.error = p.error();
      out.evidence = Evidence{p.error().path, p.error().line, p.error().message,
                              package + " installed or not", "dpkg"};
      return out;
    }
    out.package = *p;
    out.yes = *p != nullptr;
    out.evidence =
        out.yes
            ? Evidence{out.package->loc.path, out.package->loc.line,
                       package + " " + out.package->version_text, "installed", "dpkg"}
            : Evidence{deb::k_dpkg_status_path, 0, package + " not installed", "installed", "dpkg"};
    return out;
  }
  for (const std::string &f : files)
    if (ctx.fs().exists(f)) {
      out.yes = true;
      out.evidence = Evidence{f, 0, "present (no dpkg database)", "installed", ""};
      return out;
    }
  out.evidence = Evidence{files.empty() ? std::string(deb::k_dpkg_status_path) : files.front(), 0,
                          "absent (no dpkg database)", "installed", ""};
  return out;
}

// --- dpkg file lists -----------------------------------------------------

DpkgFilesModel DpkgFilesModel::load(Context &ctx) {
  const RootFs &fs = ctx.fs();
  DpkgFilesModel m;
  auto names = fs.list_dir(deb::k_dpkg_info_dir);
  if (!names) {
    if (names.error().sys_errno != ENOENT)
      m.error = names.error();
    return m;
  }
  for (const std::string &n : *names) {
    if (n.size() <= 5 || !n.ends_with(".list"))
      continue;
    m.present = true;
    std::string path = std::string(deb::k_dpkg_info_dir) + "/" + n;
    auto text = fs.read_file(path);
    if (!text) {
      m.unreadable.push_back(text.error());
      continue;
    }
    m.lists.push_back(deb::parse_file_list_text(path, *text));
  }
  return m;
}

// --- systemd units -------------------------------------------------------

SystemdModel SystemdModel::load(Context &ctx) {
  return SystemdModel{std::make_shared<systemd::UnitFiles>(ctx.fs())};
}

// --- PAM -----------------------------------------------------------------

const std::vector<std::string> &PamModel::services() {
  // The services whose stacks guard passwords (a PAM file of a service that
  // is not installed is never started).
  static const std::vector<std::string> k_services = {"passwd", "login", "sshd", "su", "sudo"};
  return k_services;
}

PamModel PamModel::load(Context &ctx) {
  const RootFs &fs = ctx.fs();
  PamModel m;
  for (const std::string &s : services())
    m.stacks.emplace(s, pam::load_service(fs, s));
  m.pwquality = pam::load_pwquality(fs);
  pam::FileReader reader = [&fs](const std::string &p) { return fs.read_file(p, 1024 * 1024); };
  auto key_of = [](const SourceLocation &l) { return l.path + ":" + std::to_string(l.line); };
  for (auto &[name, svc] : m.stacks)
    for (auto *lists : {&svc.conf, &svc.other})
      for (auto &stack : *lists)
        for (auto &h : stack)
          if (h.name == "pam_faillock" && !m.faillock.count(key_of(h.loc)))
            m.faillock.emplace(key_of(h.loc), pam::faillock_options(h, reader));
  return m;
}

// --- the tree walk -------------------------------------------------------

namespace {

bool under_dir(std::string_view path, std::string_view dir) {
  if (dir == "/")
    return true;
  return path.size() > dir.size() && path.substr(0, dir.size()) == dir && path[dir.size()] == '/';
}

bool serves(const WalkKey &have, const WalkKey &want) {
  return have.start == want.start && (have.special || !want.special) &&
         (want.collect.empty() || have.collect == want.collect) && (have.unowned || !want.unowned);
}

// The uids and gids that have an account (find -nouser/-nogroup ask
// getpwuid/getgrgid, which read these files through nss_files).
struct KnownIds {
  std::unordered_set<uint32_t> uids, gids;
};

TreeWalk run_walk(Context &ctx, const WalkKey &key) {
  const RootFs &fs = ctx.fs();
  TreeWalk t;
  t.key = key;
  WalkOptions opt;
  auto known = std::make_shared<KnownIds>();
  if (key.unowned) {
    const accounts::AccountsModel &a = ctx.accounts();
    if (a.passwd_error)
      t.owners_error = *a.passwd_error;
    else if (a.group_error)
      t.owners_error = *a.group_error;
    else {
      for (auto &p : a.passwd)
        if (p.uid >= 0 && p.uid <= UINT32_MAX)
          known->uids.insert(static_cast<uint32_t>(p.uid));
      for (auto &g : *a.group)
        if (g.gid >= 0 && g.gid <= UINT32_MAX)
          known->gids.insert(static_cast<uint32_t>(g.gid));
      opt.keep_owner = [known](uint32_t uid, uint32_t gid) {
        return !known->uids.count(uid) || !known->gids.count(gid);
      };
    }
  }
  const WalkKey &k = t.key;
  opt.keep = [&k](std::string_view dir, std::string_view name, uint32_t mode) {
    if (S_ISLNK(mode))
      return false;
    if (k.special && ((mode & S_IWOTH) || (S_ISREG(mode) && (mode & (S_ISUID | S_ISGID)))))
      return true;
    if (k.collect.empty())
      return false;
    if (dir == k.collect || under_dir(dir, k.collect))
      return true;
    // The collected directory itself.
    size_t slash = k.collect.rfind('/');
    std::string_view parent = slash == 0 ? "/" : std::string_view(k.collect).substr(0, slash);
    return dir == parent && name == std::string_view(k.collect).substr(slash + 1);
  };
  auto r = walk_tree(fs, key.start, opt);
  if (!r)
    t.error = r.error();
  else
    t.walk = std::move(r).value();
  return t;
}

} // namespace

WalkModel WalkModel::load(Context &) {
  return WalkModel{};
}

const TreeWalk &WalkModel::walk(Context &ctx, const WalkKey &key) const {
  std::lock_guard<std::mutex> lock(m_cache->mutex);
  for (auto &[k, w] : m_cache->walks)
    if (serves(k, key))
      return *w;
  std::string name = "tree walk " + key.start;
  if (!key.collect.empty())
    name += " (collecting " + key.collect + ")";
  auto w = ctx.timed_load(name, [&] { return std::make_unique<TreeWalk>(run_walk(ctx, key)); });
  return *m_cache->walks.emplace(key, std::move(w)).first->second;
}

ReadAccess read_access(const RootFs &fs, const std::string &path, const std::string &user) {
  ReadAccess a;
  a.user = user;
  auto passwd = fs.read_file("/etc/passwd", 16 * 1024 * 1024);
  if (!passwd) {
    a.error = passwd.error();
    return a;
  }
  std::vector<Diagnostic> diags;
  std::optional<uint32_t> gid;
  for (auto &e : accounts::parse_passwd(*passwd, "/etc/passwd", diags))
    if (e.name == user && e.uid >= 0 && e.gid >= 0) {
      a.uid = static_cast<uint32_t>(e.uid);
      gid = static_cast<uint32_t>(e.gid);
      break;
    }
  if (!a.uid) {
    a.why = "no account " + user + " in /etc/passwd";
    return a;
  }
  std::set<uint32_t> groups{*gid};
  auto group = fs.read_file("/etc/group", 16 * 1024 * 1024);
  if (!group && !group.error().not_found()) {
    a.error = group.error();
    return a;
  }
  if (group)
    for (auto &line : text::split(*group, '\n')) {
      // name:password:gid:member,member
      auto f = text::split(line, ':', true);
      if (f.size() < 4)
        continue;
      char *end = nullptr;
      unsigned long g = std::strtoul(f[2].c_str(), &end, 10);
      if (f[2].empty() || *end != '\0')
        continue;
      for (auto &m : text::split(f[3], ','))
        if (m == user)
          groups.insert(static_cast<uint32_t>(g));
    }
  // `bit` (4 read, 1 search) of `info` for this user.
  auto allows = [&](const FileInfo &i, uint32_t bit) {
    if (*a.uid == 0)
      return true;
    if (i.uid == *a.uid)
      return (i.mode & (bit << 6)) != 0;
    if (groups.count(i.gid))
      return (i.mode & (bit << 3)) != 0;
    return (i.mode & bit) != 0;
  };
  auto describe = [&](const FileInfo &i) {
    return std::to_string(i.uid) + ":" + std::to_string(i.gid) + " " + text::octal_mode(i.mode);
  };
  auto st = fs.stat(path);
  if (!st) {
    a.error = st.error();
    return a;
  }
  a.info = *st;
  // The directories on the way, as the daemon's open() walks them.
  std::string dir;
  for (auto &part : text::split(RootFs::join("/", path), '/')) {
    if (dir.size() + part.size() + 1 >= RootFs::join("/", path).size())
      break;
    dir += "/" + part;
    auto d = fs.stat(dir);
    if (d && !allows(*d, 1)) {
      a.why = dir + " (uid:gid " + describe(*d) + ") is not searchable by " + user + " (uid " +
              std::to_string(*a.uid) + ")";
      return a;
    }
  }
  a.readable = allows(*st, 4);
  a.why = path + " (uid:gid " + describe(*st) + ") is " + (a.readable ? "" : "not ") +
          "readable by " + user + " (uid " + std::to_string(*a.uid) + ")";
  return a;
}

} // namespace bulwark
