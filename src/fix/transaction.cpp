// Transactions of `bulwark fix --apply` (fix/transaction.hpp): backups and a
// manifest written before the first change, atomic writes, rollback and
// recovery of an apply that was interrupted.
//
// Every path is a path inside the root. A host path is only ever made by
// resolving the parent directory inside the root (RootFs::resolve: symlinks
// re-rooted, `..` never above the root) and appending a final component that
// is checked not to be a symbolic link: a hostile root cannot make the fix
// write outside it.

#include <bulwark/core/atomic_file.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/fix/transaction.hpp>

#include <algorithm>
#include <cerrno>
#include <csignal>
#include <cstring>
#include <ctime>
#include <fcntl.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sys/stat.h>
#include <sys/xattr.h>
#include <unistd.h>

namespace bulwark::fix {

namespace {

using nlohmann::ordered_json;

constexpr const char *k_fix_dir = "/var/lib/bulwark/fix";

Error tx_sys_error(const std::string &what, const std::string &path, int err) {
  return Error{what + ": " + std::strerror(err), path, 0, err};
}

std::string base_of(const std::string &p) {
  return p.substr(p.rfind('/') + 1);
}

// The host path of target `path`: its parent resolved inside the root, the
// last component appended. Errors: the parent is absent or not a directory,
// the file itself is a symbolic link (it would be written through).
// `link_ok`: the path may be a link (to be removed, never written through).
Result<std::string> tx_host_path(const RootFs &fs, const std::string &path, bool link_ok = false) {
  std::string dir = TRY(fs.resolve(text::parent_dir(path)));
  auto st = fs.lstat(path);
  if (!link_ok && st && st->type == FileInfo::Type::symlink)
    return Error{"is a symbolic link: bulwark fix does not write through links", path, 0, ELOOP};
  return (dir == "/" ? "" : dir) + "/" + base_of(path);
}

// Missing directories above `path`, outermost first (target paths).
std::vector<std::string> missing_dirs(const RootFs &fs, const std::string &path) {
  std::vector<std::string> out;
  for (std::string d = text::parent_dir(path); d != "/"; d = text::parent_dir(d)) {
    auto st = fs.lstat(d);
    if (st)
      break;
    out.push_back(d);
  }
  std::reverse(out.begin(), out.end());
  return out;
}

std::string hex(std::string_view s) {
  static const char *k = "0123456789abcdef";
  std::string out;
  for (unsigned char c : s) {
    out += k[c >> 4];
    out += k[c & 15];
  }
  return out;
}
std::string unhex(std::string_view s) {
  auto v = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
  std::string out;
  for (size_t i = 0; i + 1 < s.size(); i += 2)
    out += static_cast<char>(v(s[i]) * 16 + v(s[i + 1]));
  return out;
}

Result<std::map<std::string, std::string>> tx_read_xattrs(const std::string &host) {
  std::map<std::string, std::string> out;
  ssize_t n = ::llistxattr(host.c_str(), nullptr, 0);
  if (n < 0) {
    if (errno == ENOTSUP)
      return out;
    return tx_sys_error("cannot list extended attributes", host, errno);
  }
  std::string names(static_cast<size_t>(n), '\0');
  n = ::llistxattr(host.c_str(), names.data(), names.size());
  if (n < 0)
    return tx_sys_error("cannot list extended attributes", host, errno);
  names.resize(static_cast<size_t>(n));
  for (size_t i = 0; i < names.size();) {
    std::string name(names.c_str() + i);
    i += name.size() + 1;
    ssize_t len = ::lgetxattr(host.c_str(), name.c_str(), nullptr, 0);
    if (len < 0)
      return tx_sys_error("cannot read extended attribute " + name, host, errno);
    std::string value(static_cast<size_t>(len), '\0');
    len = ::lgetxattr(host.c_str(), name.c_str(), value.data(), value.size());
    if (len < 0)
      return tx_sys_error("cannot read extended attribute " + name, host, errno);
    value.resize(static_cast<size_t>(len));
    out[name] = value;
  }
  return out;
}

Result<Unit> write_xattrs(const std::string &host, const std::map<std::string, std::string> &want) {
  auto have = TRY(tx_read_xattrs(host));
  for (auto &[name, value] : have)
    if (!want.count(name) && ::lremovexattr(host.c_str(), name.c_str()) != 0)
      return tx_sys_error("cannot remove extended attribute " + name, host, errno);
  for (auto &[name, value] : want) {
    auto it = have.find(name);
    if (it != have.end() && it->second == value)
      continue;
    if (::lsetxattr(host.c_str(), name.c_str(), value.data(), value.size(), 0) != 0)
      return tx_sys_error("cannot set extended attribute " + name, host, errno);
  }
  return Unit{};
}

Result<Unit> set_attributes(const std::string &host, uint32_t mode, uint32_t uid, uint32_t gid) {
  // chown first: it clears set-id bits, which chmod then sets as wanted.
  if (::lchown(host.c_str(), uid, gid) != 0)
    return tx_sys_error("cannot change owner", host, errno);
  if (::chmod(host.c_str(), mode) != 0)
    return tx_sys_error("cannot change mode", host, errno);
  return Unit{};
}

std::string now_iso() {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

// Time, process and a sequence number: two applies in one second (tests,
// scripts) never share a directory, and ids sort by time.
std::string new_id(const RootFs &fs) {
  std::time_t t = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&t, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y%m%dT%H%M%SZ", &tm);
  for (int seq = 0;; ++seq) {
    char id[96];
    std::snprintf(id, sizeof id, "%s-%d-%03d", buf, static_cast<int>(::getpid()), seq);
    if (!fs.exists(std::string(k_fix_dir) + "/" + id))
      return id;
  }
}

// Creates the directories of target `dir` (mkdir -p inside the root).
Result<Unit> make_dirs(const RootFs &fs, const std::string &dir) {
  for (auto &d : missing_dirs(fs, dir + "/x")) {
    std::string host = TRY(tx_host_path(fs, d));
    if (::mkdir(host.c_str(), 0755) != 0 && errno != EEXIST)
      return tx_sys_error("cannot create directory", d, errno);
  }
  return Unit{};
}

// nlohmann::json member: the implicit special members are not noexcept.
struct Tx {         // NOLINT(bugprone-exception-escape)
  std::string root; // host root
  std::string id;
  ordered_json manifest;
  std::string dir_target() const { return std::string(k_fix_dir) + "/" + id; }
};

Result<Unit> save(const RootFs &fs, Tx &tx) {
  std::string host = TRY(tx_host_path(fs, tx.dir_target() + "/manifest.json"));
  // write_file_atomic fsyncs the file and its directory before returning:
  // the state is on disk before the next change is made.
  return write_file_atomic(host, tx.manifest.dump(2) + "\n");
}

Result<Tx> load_tx(const RootFs &fs, const std::string &id) {
  Tx tx;
  tx.root = fs.host_root();
  tx.id = id;
  std::string text = TRY(fs.read_file(tx.dir_target() + "/manifest.json"));
  try {
    tx.manifest = ordered_json::parse(text);
  } catch (const std::exception &e) {
    return Error{std::string("manifest is not JSON: ") + e.what(),
                 tx.dir_target() + "/manifest.json"};
  }
  if (!tx.manifest.is_object() || !tx.manifest.contains("entries") ||
      !tx.manifest["entries"].is_array())
    return Error{"manifest has no entries", tx.dir_target() + "/manifest.json"};
  return tx;
}

// Restores every entry, newest change first, then removes the directories
// the apply created. Keeps going past a failure and reports the first.
Result<Unit> undo(const RootFs &fs, Tx &tx) {
  std::optional<Error> first;
  auto &entries = tx.manifest["entries"];
  for (auto it = entries.rbegin(); it != entries.rend(); ++it) {
    auto &e = *it;
    std::string path = e.value("path", "");
    // A created entry is unlinked: it may be a link the apply made; a
    // removed link is made again.
    bool link = e.contains("link");
    auto host = tx_host_path(fs, path, !e.value("existed", false) || link);
    if (!host) {
      if (!first)
        first = host.error();
      continue;
    }
    if (link) {
      std::string text = e["link"].get<std::string>();
      if (::unlink(host->c_str()) != 0 && errno != ENOENT) {
        if (!first)
          first = tx_sys_error("cannot remove", path, errno);
      } else if (::symlink(text.c_str(), host->c_str()) != 0) {
        if (!first)
          first = tx_sys_error("cannot restore the symbolic link", path, errno);
      } else if (::lchown(host->c_str(), e.value("uid", 0u), e.value("gid", 0u)) != 0) {
        if (!first)
          first = tx_sys_error("cannot change owner", path, errno);
      }
      continue;
    }
    if (!e.value("existed", false)) {
      if (::unlink(host->c_str()) != 0 && errno != ENOENT && !first)
        first = tx_sys_error("cannot remove", path, errno);
      continue;
    }
    auto backup = fs.read_file(tx.dir_target() + "/" + e.value("backup", ""));
    if (!backup) {
      if (!first)
        first = backup.error();
      continue;
    }
    std::map<std::string, std::string> xattrs;
    for (auto &[k, v] : e["xattrs"].items())
      xattrs[k] = unhex(v.get<std::string>());
    Result<Unit> r = write_file_atomic(*host, *backup);
    if (r)
      r = set_attributes(*host, e.value("mode", 0644u), e.value("uid", 0u), e.value("gid", 0u));
    if (r)
      r = write_xattrs(*host, xattrs);
    if (!r && !first)
      first = r.error();
  }
  auto &dirs = tx.manifest["created_dirs"];
  for (auto it = dirs.rbegin(); it != dirs.rend(); ++it) {
    auto host = fs.resolve(it->get<std::string>());
    if (host && ::rmdir(host->c_str()) != 0 && errno != ENOENT && errno != ENOTEMPTY && !first)
      first = tx_sys_error("cannot remove directory", it->get<std::string>(), errno);
  }
  if (first)
    return *first;
  tx.manifest["state"] = "rolled-back";
  tx.manifest["rolled_back"] = now_iso();
  return save(fs, tx);
}

// Ignores SIGXFSZ while it lives: past `ulimit -f` a write must fail with
// EFBIG (and be rolled back), not kill the process half way.
class IgnoreXfsz {
public:
  IgnoreXfsz() { m_old = std::signal(SIGXFSZ, SIG_IGN); }
  ~IgnoreXfsz() { std::signal(SIGXFSZ, m_old); }
  IgnoreXfsz(const IgnoreXfsz &) = delete;
  IgnoreXfsz &operator=(const IgnoreXfsz &) = delete;

private:
  void (*m_old)(int);
};

} // namespace

Result<std::string> apply_plan(const Plan &plan, const ApplyOptions &opts) {
  RootFs fs(plan.root);
  TRY(fs.root_status());
  IgnoreXfsz xfsz;
  Tx tx;
  tx.root = fs.host_root();
  tx.id = new_id(fs);
  // The files as they are now must be the files the plan was made from.
  std::vector<const FileEdit *> edits;
  std::map<std::string, bool> first_seen; // path -> existed before the plan
  std::vector<std::string> paths;
  for (auto &a : plan.actions)
    for (auto &e : a.edits) {
      edits.push_back(&e);
      if (first_seen.count(e.path))
        continue;
      if (e.kind == FileEdit::Kind::symlink) {
        // The link (or its absence) the plan saw, never followed.
        auto st = fs.lstat(e.path);
        if (!st && !st.error().not_found())
          return st.error();
        std::optional<std::string> now;
        if (st && st->type == FileInfo::Type::symlink)
          now = TRY(fs.read_link(e.path));
        if ((st && !now) || now != e.before)
          return Error{"changed since the plan was made; run bulwark fix again", e.path};
        first_seen[e.path] = st.ok();
        paths.push_back(e.path);
        continue;
      }
      auto cur = fs.read_file(e.path);
      if (!cur && !cur.error().not_found() && e.kind != FileEdit::Kind::attributes)
        return cur.error();
      bool exists = cur.ok() || e.kind == FileEdit::Kind::attributes;
      if (e.kind != FileEdit::Kind::attributes &&
          (exists != e.before.has_value() || (exists && *cur != *e.before)))
        return Error{"changed since the plan was made; run bulwark fix again", e.path};
      first_seen[e.path] = exists;
      paths.push_back(e.path);
    }
  if (edits.empty())
    return Error{"the plan changes nothing"};
  // Backups and the manifest, on disk before the first change.
  TRY(make_dirs(fs, tx.dir_target() + "/backup"));
  ordered_json entries = ordered_json::array();
  ordered_json created = ordered_json::array();
  std::set<std::string> dirs_seen;
  for (size_t i = 0; i < paths.size(); ++i) {
    const std::string &p = paths[i];
    ordered_json e;
    e["path"] = p;
    e["existed"] = first_seen[p];
    auto st_link = first_seen[p] ? fs.lstat(p) : Result<FileInfo>(FileInfo{});
    if (first_seen[p] && st_link && st_link->type == FileInfo::Type::symlink) {
      // A link is backed up as its text and owner (the rollback makes it
      // again); its target is never read.
      e["link"] = TRY(fs.read_link(p));
      e["uid"] = st_link->uid;
      e["gid"] = st_link->gid;
    } else if (first_seen[p]) {
      auto st = TRY(fs.lstat(p));
      if (st.type != FileInfo::Type::regular)
        return Error{"is not a regular file", p};
      std::string host = TRY(tx_host_path(fs, p));
      std::string content = TRY(fs.read_file(p));
      auto xattrs = TRY(tx_read_xattrs(host));
      std::string backup = "backup/" + std::to_string(i);
      std::string bhost = TRY(tx_host_path(fs, tx.dir_target() + "/" + backup));
      TRY(write_file_atomic(bhost, content));
      e["backup"] = backup;
      e["mode"] = st.mode & 07777;
      e["uid"] = st.uid;
      e["gid"] = st.gid;
      ordered_json x = ordered_json::object();
      for (auto &[k, v] : xattrs)
        x[k] = hex(v);
      e["xattrs"] = x;
    } else {
      for (auto &d : missing_dirs(fs, p))
        if (dirs_seen.insert(d).second)
          created.push_back(d);
    }
    entries.push_back(e);
  }
  tx.manifest["schema"] = "bulwark.fix-transaction/v1";
  tx.manifest["id"] = tx.id;
  tx.manifest["state"] = "applying";
  tx.manifest["created"] = now_iso();
  tx.manifest["profile"] = plan.profile;
  ordered_json checks = ordered_json::array();
  for (auto &a : plan.actions)
    checks.push_back(a.check_id);
  tx.manifest["checks"] = checks;
  tx.manifest["entries"] = entries;
  tx.manifest["created_dirs"] = created;
  TRY(save(fs, tx));
  // The changes, one atomic write each.
  auto fail = [&](Error err) -> Result<std::string> {
    if (auto r = undo(fs, tx); !r)
      err.message += "; the rollback failed too (" + r.error().to_string() +
                     "); the next bulwark fix run retries it";
    else
      err.message += "; every change was rolled back (transaction " + tx.id + ")";
    return err;
  };
  for (size_t i = 0; i < edits.size(); ++i) {
    const FileEdit &e = *edits[i];
    if (auto r = make_dirs(fs, text::parent_dir(e.path)); !r)
      return fail(r.error());
    // A link the plan removes is the one path that may be a link.
    auto host = tx_host_path(fs, e.path, e.kind == FileEdit::Kind::symlink && e.before.has_value());
    if (!host)
      return fail(host.error());
    auto before = fs.lstat(e.path);
    Result<Unit> r = Unit{};
    if (e.kind == FileEdit::Kind::remove) {
      if (::unlink(host->c_str()) != 0 && errno != ENOENT)
        r = tx_sys_error("cannot remove", e.path, errno);
    } else if (e.kind == FileEdit::Kind::symlink) {
      if (e.before && ::unlink(host->c_str()) != 0 && errno != ENOENT)
        r = tx_sys_error("cannot remove", e.path, errno);
      else if (!e.after.empty() && ::symlink(e.after.c_str(), host->c_str()) != 0)
        r = tx_sys_error("cannot create symbolic link", e.path, errno);
    } else if (e.kind == FileEdit::Kind::write) {
      std::optional<std::map<std::string, std::string>> xattrs;
      if (before) {
        auto x = tx_read_xattrs(*host);
        if (!x)
          return fail(x.error());
        xattrs = std::move(*x);
      }
      r = write_file_atomic(*host, e.after);
      // A replaced file keeps its owner, mode and attributes; a new one is
      // root:root 0644 unless the edit says otherwise.
      if (r) {
        uint32_t mode = before ? before->mode : 0644;
        uint32_t uid = before ? before->uid : 0, gid = before ? before->gid : 0;
        r = set_attributes(*host, mode, uid, gid);
      }
      if (r && xattrs)
        r = write_xattrs(*host, *xattrs);
    }
    if (r && e.kind != FileEdit::Kind::symlink && (e.mode || e.owner || e.group)) {
      auto st = fs.lstat(e.path);
      if (!st)
        return fail(st.error());
      uint32_t uid = st->uid, gid = st->gid;
      if (e.owner) {
        auto id = lookup_id(fs, "/etc/passwd", *e.owner);
        if (!id)
          return fail(Error{"no user " + *e.owner + " in the root's /etc/passwd", e.path});
        uid = *id;
      }
      if (e.group) {
        auto id = lookup_id(fs, "/etc/group", *e.group);
        if (!id)
          return fail(Error{"no group " + *e.group + " in the root's /etc/group", e.path});
        gid = *id;
      }
      r = set_attributes(*host, e.mode ? *e.mode : st->mode, uid, gid);
    }
    if (!r)
      return fail(r.error());
    if (opts.after_write)
      opts.after_write(i);
  }
  tx.manifest["state"] = "applied";
  tx.manifest["applied"] = now_iso();
  if (auto r = save(fs, tx); !r)
    return fail(r.error());
  return tx.id;
}

Result<std::vector<TransactionInfo>> list_transactions(const std::string &root) {
  RootFs fs(root);
  TRY(fs.root_status());
  std::vector<TransactionInfo> out;
  auto names = fs.list_dir(k_fix_dir);
  if (!names) {
    if (names.error().not_found())
      return out;
    return names.error();
  }
  for (auto &id : *names) {
    auto tx = load_tx(fs, id);
    if (!tx)
      return tx.error();
    TransactionInfo info;
    info.id = id;
    info.state = tx->manifest.value("state", "");
    info.created = tx->manifest.value("created", "");
    for (auto &c : tx->manifest["checks"])
      info.checks.push_back(c.get<std::string>());
    for (auto &e : tx->manifest["entries"])
      info.paths.push_back(e.value("path", ""));
    out.push_back(std::move(info));
  }
  return out;
}

Result<std::vector<std::string>> rollback(const std::string &root, const std::string &id) {
  RootFs fs(root);
  TRY(fs.root_status());
  auto all = TRY(list_transactions(root));
  std::vector<std::string> ids;
  if (id == "all") {
    for (auto it = all.rbegin(); it != all.rend(); ++it)
      if (it->state == "applied" || it->state == "applying")
        ids.push_back(it->id);
  } else {
    bool found = false;
    for (auto &t : all)
      if (t.id == id) {
        found = true;
        if (t.state == "rolled-back")
          return Error{"transaction " + id + " is already rolled back"};
      }
    if (!found)
      return Error{"no transaction " + id + " (see bulwark fix --list)"};
    ids.push_back(id);
  }
  for (auto &i : ids) {
    Tx tx = TRY(load_tx(fs, i));
    TRY(undo(fs, tx));
  }
  return ids;
}

Result<std::vector<std::string>> recover(const std::string &root) {
  RootFs fs(root);
  TRY(fs.root_status());
  auto all = TRY(list_transactions(root));
  std::vector<std::string> ids;
  for (auto it = all.rbegin(); it != all.rend(); ++it)
    if (it->state == "applying") {
      Tx tx = TRY(load_tx(fs, it->id));
      TRY(undo(fs, tx));
      ids.push_back(it->id);
    }
  return ids;
}

} // namespace bulwark::fix
