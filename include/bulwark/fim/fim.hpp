#pragma once
// bulwark fim: file-integrity baselines (issue 17). This header holds what
// the three commands share: the attributes a record can carry (AIDE 0.18's
// names), the record itself, the selection policy (aide.conf's rules, see
// policy.cpp for the format's real semantics) and the scan that turns a
// target tree into records.
//
// The scan reads the target through RootFs: the start directories are
// opened inside the root, every step below is openat(parent, name,
// O_NOFOLLOW), so a symlink or a rename race cannot lead it outside the
// tree. FIFOs, sockets and devices are fstatat'ed, never opened. Regular
// files are opened O_RDONLY|O_NOFOLLOW|O_NOATIME (without O_NOATIME when
// the kernel says EPERM: a file we do not own) and hashed on every core.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

namespace bulwark::fim {

// One bit per attribute. The names (attr_name) are AIDE 0.18's, so an
// aide.conf group means what it means to AIDE.
enum Attr : uint64_t {
  k_ftype = 1ull << 0,
  k_perm = 1ull << 1,   // p
  k_inode = 1ull << 2,  // i
  k_nlink = 1ull << 3,  // n
  k_uid = 1ull << 4,    // u
  k_gid = 1ull << 5,    // g
  k_size = 1ull << 6,   // s
  k_blocks = 1ull << 7, // b
  k_mtime = 1ull << 8,  // m
  k_atime = 1ull << 9,  // a
  k_ctime = 1ull << 10, // c
  k_link = 1ull << 11,  // l: the target of a symbolic link
  k_md5 = 1ull << 12,
  k_sha1 = 1ull << 13,
  k_sha256 = 1ull << 14,
  k_sha512 = 1ull << 15,
  k_rmd160 = 1ull << 16,
  k_blake2b512 = 1ull << 17,    // bulwark's own: BLAKE2b-512 (OpenSSL)
  k_blake2s256 = 1ull << 18,    // bulwark's own: BLAKE2s-256 (OpenSSL)
  k_acl = 1ull << 19,           // system.posix_acl_access / _default
  k_xattrs = 1ull << 20,        // user.*, security.*, trusted.* (as AIDE lists them)
  k_selinux = 1ull << 21,       // security.selinux
  k_caps = 1ull << 22,          // security.capability
  k_growing = 1ull << 23,       // size, mtime, ctime may grow (a log)
  k_allow_new = 1ull << 24,     // ANF: an added entry is not reported
  k_allow_removed = 1ull << 25, // ARF: a removed entry is not reported
};
using AttrSet = uint64_t;

constexpr AttrSet k_hashes =
    k_md5 | k_sha1 | k_sha256 | k_sha512 | k_rmd160 | k_blake2b512 | k_blake2s256;
constexpr AttrSet k_extended = k_acl | k_xattrs | k_selinux | k_caps;

// The attribute's name as the JSON report and aide.conf spell it ("perm",
// "sha256"); "" for a set of more than one bit.
std::string_view attr_name(Attr a);
// Every single attribute of `set`, in bit order.
std::vector<Attr> attr_list(AttrSet set);

enum class FileType : uint8_t { regular, directory, symlink, fifo, socket, chardev, blockdev };
std::string_view type_name(FileType t);

// What the scan recorded about one entry. Every stat field is always
// recorded (they are free); hashes and extended attributes only when the
// entry's rule asks for them. Times keep nanoseconds: --fast compares them
// exactly; AIDE-compatible comparison uses whole seconds.
struct Record {
  std::string path; // target path, raw bytes
  FileType type = FileType::regular;
  AttrSet attrs = 0; // the rule's attributes
  uint32_t mode = 0; // st_mode
  uint32_t uid = 0;
  uint32_t gid = 0;
  uint64_t dev = 0;
  uint64_t ino = 0;
  uint64_t nlink = 0;
  uint64_t size = 0;
  uint64_t blocks = 0;
  int64_t mtime_s = 0;
  uint32_t mtime_ns = 0;
  int64_t ctime_s = 0;
  uint32_t ctime_ns = 0;
  std::string link;                                        // symlink target
  std::vector<std::pair<Attr, std::string>> hashes;        // raw digests, by attribute
  std::vector<std::pair<std::string, std::string>> xattrs; // sorted by name
  // Why the content or the extended attributes could not be recorded
  // ("" when they were): unreadable, or changed while it was read.
  std::string error;
};

// --- Selection -------------------------------------------------------------

struct PolicyRule {
  enum class Kind { selective, equals, negative };
  Kind kind = Kind::selective;
  std::string regex;        // after variable expansion and unescaping
  uint32_t restriction = 0; // bit per FileType; 0 = any type
  AttrSet attrs = 0;
  std::string file; // where it was written
  int line = 0;
};

// The selection rules of an aide.conf (or of bulwark's own policy, which is
// written in the same syntax), evaluated the way AIDE 0.18 evaluates them.
class Policy {
public:
  Policy();
  ~Policy();
  Policy(Policy &&) noexcept;
  Policy &operator=(Policy &&) noexcept;

  // Reads an aide.conf from the host (the user's file, HostFs) with its
  // @@include/@@x_include files. Errors: unreadable files, syntax errors,
  // bad regular expressions, with file and line. Recoverable oddities
  // (an attribute bulwark does not compute, an executable include it
  // refuses to run) become warnings().
  static Result<Policy> load_aide_config(const std::string &host_path);
  // The same from a target's file (`audit`): the file, its includes and
  // `@@if exists` are read through `fs`, target paths.
  static Result<Policy> load_aide_config(const RootFs &fs, const std::string &target_path);
  // The same syntax from a string; `name` is the file name in errors.
  // @@include is refused (there is no directory to resolve it against)
  // unless `allow_includes`.
  static Result<Policy> parse(std::string_view text, const std::string &name,
                              bool allow_includes = false);
  // bulwark's default policy: what the guides name (binaries, libraries,
  // /etc, sshd/sudo/PAM, cron and systemd units, /boot, root's keys).
  static Policy builtin();
  static std::string_view builtin_text();
  // The default policy of a root: builtin() plus the compose projects
  // compose::discover finds in it (outside /etc and /opt, which builtin()
  // covers): each project directory's own files, every compose and env file
  // the project reads, and its secrets' and configs' `file:`s.
  // Errors: a selection line that does not parse (a path the escaping
  // missed), never a quiet fallback.
  static Result<Policy> builtin(const RootFs &fs);
  static std::string compose_text(const RootFs &fs);

  struct Match {
    bool selected = false;
    bool negative = false; // a negative rule matched: no descent
    AttrSet attrs = 0;
    const PolicyRule *rule = nullptr;
  };
  // AIDE's check_seltree(): deepest node first for selective rules, equals
  // rules only in the node of the entry's own directory, negative rules of
  // every node on the path last and strongest.
  Match match(std::string_view path, FileType type) const;

  // Whether a selective or equals rule could match something below the
  // directory `dir` (AIDE descends on PCRE2's partial matches; bulwark
  // compares `dir/` with each rule's literal prefix, which never prunes a
  // directory AIDE would enter).
  bool could_match_below(std::string_view dir) const;

  const std::vector<PolicyRule> &rules() const;
  const std::vector<std::string> &warnings() const;

  struct Impl;

private:
  std::unique_ptr<Impl> m;
};

// --- Scan ------------------------------------------------------------------

// The scan's threads when ScanOptions::threads is 0: twice the cores, at
// least 4 (reads in flight for a cold cache).
unsigned default_threads();

struct ScanOptions {
  unsigned threads = 0; // 0: default_threads()
  // Restrict the scan to these target paths (and below); empty: everything
  // the policy selects.
  std::vector<std::string> only;
  // --fast: an old record whose dev, inode, size, mtime and ctime (to the
  // nanosecond) equal the new stat lends its hashes; the file is not read.
  // Keyed by views of the old records' paths (they outlive the scan).
  const std::unordered_map<std::string_view, const Record *> *trust = nullptr;
  // Target paths not descended into (pseudo file systems).
  std::vector<std::string> prune{"/proc", "/sys"};
};

struct ScanResult {
  std::vector<Record> records; // sorted bytewise by path
  std::vector<Error> errors;   // what could not be walked or read, sorted by path
  uint64_t hashed_bytes = 0;
  uint64_t hashed_files = 0;
  uint64_t trusted_files = 0; // --fast: files not read
};

// Walks policy.start_dirs() inside fs. Errors: only when nothing can be
// walked at all (the root cannot be opened); everything below goes to
// ScanResult::errors or Record::error and the scan goes on.
Result<ScanResult> scan(const RootFs &fs, const Policy &policy, const ScanOptions &options = {});

// A digest as lower-case hex.
std::string hex(std::string_view bytes);

} // namespace bulwark::fim
