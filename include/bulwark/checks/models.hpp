#pragma once
// The shared host models: facts about the target that several areas need,
// each worked out once per run by one loader and shared through
// `ctx.get<T>()` by every check and by `bulwark facts`. Each names itself
// (`k_name`, for `bulwark audit --perf`) and its loader (`load`).
//
// Errors are part of a model: a database that exists but cannot be read is
// an `error` for every check that asks it a question, never "absent".

#include <bulwark/checks/context.hpp>
#include <bulwark/core/walk.hpp>
#include <bulwark/parse/dpkg_files.hpp>
#include <bulwark/parse/dpkg_status.hpp>
#include <bulwark/parse/pam.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

// /var/lib/dpkg/status. Only ENOENT of the status file (or of a directory
// above it) means "no dpkg database"; a status file that is a directory, is
// unreadable or too large is an error.
struct DpkgModel {
  static constexpr std::string_view k_name = "dpkg status";
  enum class State { ok, absent, error };
  State state = State::absent;
  std::optional<deb::DpkgStatus> status; // state ok
  std::optional<Error> error;            // state error: why; state absent: the ENOENT

  bool present() const { return state == State::ok; }
  // The first error diagnostic of the status file (a stanza dpkg would
  // refuse, a file cut short): a package missing from `packages` may be one
  // that stanza describes.
  std::optional<Error> first_status_error() const;

  // Whether `package` is installed, as a check may rely on it: the package
  // when installed; nullptr when the database says it is not; an Error when
  // the database cannot answer (state error, or not found while the status
  // file has error diagnostics). REQUIRES: state != absent.
  Result<const deb::InstalledPackage *> installed(std::string_view package) const;

  static DpkgModel load(Context &ctx);
};
DpkgModel load_dpkg_model(const RootFs &fs);

// Whether a package is installed, as the checks that need it decide it: dpkg
// decides when the target has a database; without one (ENOENT), the presence
// of one of `files` does. `error` is set (and `yes` false) when the database
// exists but cannot answer: the check reports `error`.
struct PackageInstalled {
  bool yes = false;
  Evidence evidence;
  const deb::InstalledPackage *package = nullptr; // dpkg's stanza, when installed
  bool by_dpkg = false;                           // the target has a dpkg database
  std::optional<Error> error;
};
PackageInstalled package_installed(Context &ctx, const std::string &package,
                                   const std::vector<std::string> &files);

// Can the target's account `user` open `path` for reading, as the kernel
// decides it for a process of that user (no capabilities): every directory
// on the way searchable (x) and the file readable, each by the owner bits
// (uid), else the group bits (the primary group of /etc/passwd or a
// supplementary one of /etc/group), else the other bits. root reads
// everything. Symlinks are followed inside the root. A daemon that drops to
// its own user before reading its TLS key (PostgreSQL, Redis) cannot start
// when this is false.
struct ReadAccess {
  std::string user;
  std::optional<uint32_t> uid;  // nullopt: no such account in /etc/passwd
  std::optional<FileInfo> info; // the file, when it could be stat'ed
  std::optional<Error> error;   // the file or the account databases cannot be read
  bool readable = false;
  std::string why; // "root:root 0600: redis (uid 104) is neither owner nor in group 0, and others
                   // may not read"
};
ReadAccess read_access(const RootFs &fs, const std::string &path, const std::string &user);

// dpkg's file lists, /var/lib/dpkg/info/*.list: which package shipped
// which path. The .md5sums files are read on demand by the checks that
// need them (one package's at a time).
struct DpkgFilesModel {
  static constexpr std::string_view k_name = "dpkg file lists";
  bool present = false;             // any .list file exists
  std::optional<Error> error;       // the info directory could not be listed
  std::vector<deb::FileList> lists; // every readable .list, by file name
  std::vector<Error> unreadable;    // .list files that could not be read

  static DpkgFilesModel load(Context &ctx);
};

// systemd unit-file states (systemctl is-enabled --root semantics, see
// parse/systemd_units.hpp), computed per unit on first request.
struct SystemdModel {
  static constexpr std::string_view k_name = "systemd units";
  std::shared_ptr<systemd::UnitFiles> units;
  const systemd::UnitState &state(std::string_view unit) const { return units->state(unit); }
  const systemd::UnitFiles &files() const { return *units; }

  static SystemdModel load(Context &ctx);
};

// The PAM stacks of the services the checks judge, pwquality.conf, and the
// options of every pam_faillock line.
struct PamModel {
  static constexpr std::string_view k_name = "pam";
  // passwd, login, sshd, su, sudo.
  static const std::vector<std::string> &services();
  std::map<std::string, pam::Service> stacks;
  pam::PwQuality pwquality;
  // The options of every pam_faillock line, by "path:line".
  std::map<std::string, pam::Faillock> faillock;

  // REQUIRES: `name` is one of services().
  const pam::Service &service(const std::string &name) const { return stacks.at(name); }

  static PamModel load(Context &ctx);
};

// The tree walk, cached by what determines its result: the start directory
// and the entries it keeps. A request is served by a cached walk of the same
// start whose kept set includes the request's, so the answer never depends
// on which check asked first.
struct WalkKey {
  std::string start = "/";
  // Entries always kept: world-writable (not symlinks) and set-id files.
  bool special = true;
  // Everything (but symlinks) at or under this directory; "" for nothing.
  std::string collect;
  // Also entries whose owner or group has no account (find -nouser -o
  // -nogroup), judged against /etc/passwd and /etc/group of the target.
  bool unowned = false;
  bool operator<(const WalkKey &o) const {
    return std::tie(start, special, collect, unowned) <
           std::tie(o.start, o.special, o.collect, o.unowned);
  }
};

struct TreeWalk {
  WalkKey key;
  std::optional<Error> error; // the walk could not start
  // key.unowned: why owners were not judged (passwd or group unreadable;
  // then no entry was kept for its owner).
  std::optional<Error> owners_error;
  WalkResult walk;
};

struct WalkModel {
  static constexpr std::string_view k_name = "tree walks";
  // Walks (or returns the cached walk that serves) `key`. Timed as
  // "tree walk <start>" under --perf.
  const TreeWalk &walk(Context &ctx, const WalkKey &key) const;

  static WalkModel load(Context &ctx);

private:
  struct Cache {
    std::mutex mutex;
    std::map<WalkKey, std::unique_ptr<TreeWalk>> walks;
  };
  std::shared_ptr<Cache> m_cache = std::make_shared<Cache>();
};

} // namespace bulwark
