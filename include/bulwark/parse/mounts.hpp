#pragma once
// The tables that say where a directory's data lives: /etc/fstab (fstab(5),
// util-linux 2.38), /etc/crypttab (crypttab(5), systemd 252 and Debian's
// cryptsetup 2.6) and, on a live host, /proc/self/mountinfo (proc(5)).
//
// fstab and crypttab: one entry per line, fields separated by blanks, `#`
// starts a comment line, blank lines are ignored; spaces inside a field are
// written \040 (octal escapes, as getmntent(3) decodes them). fstab's
// fs_freq and fs_passno and crypttab's key file and options are optional.
// mountinfo: `ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTS [OPTIONAL...] - FSTYPE
// SOURCE SUPEROPTS`, escaped the same way; a later line mounted over an
// earlier one at the same point hides it.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::mounts {

using LineDiagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct FstabEntry {
  std::string spec;        // /dev/mapper/data, UUID=..., LABEL=...
  std::string mount_point; // /var/lib/postgresql
  std::string fstype;
  std::string options;
  SourceLocation loc;
};

struct CrypttabEntry {
  std::string name;   // the mapping: /dev/mapper/<name>
  std::string device; // the encrypted block device (UUID=..., /dev/sdb1)
  std::string keyfile;
  std::string options;
  SourceLocation loc;
};

struct MountEntry {
  unsigned major = 0, minor = 0;
  std::string root, mount_point, fstype, source;
  int line = 0;
  std::string options; // the per-mount options (field 6: rw,nosuid,nodev,...)
};

struct Fstab {
  std::string path;
  std::vector<FstabEntry> entries;
  std::vector<LineDiagnostic> diagnostics;
};
struct Crypttab {
  std::string path;
  std::vector<CrypttabEntry> entries;
  std::vector<LineDiagnostic> diagnostics;
  const CrypttabEntry *find(std::string_view name) const;
};
struct MountInfo {
  std::vector<MountEntry> entries;
  std::vector<LineDiagnostic> diagnostics;
};

Fstab parse_fstab_text(const std::string &path, std::string_view text);
Crypttab parse_crypttab_text(const std::string &path, std::string_view text);
MountInfo parse_mountinfo_text(const std::string &path, std::string_view text);

// The per-mount flags an option list leaves in force, read left to right as
// mount(8) of util-linux 2.38 does: "defaults" is rw,suid,dev,exec; "user"
// and "users" imply noexec,nosuid,nodev; a later option overrides an earlier
// one ("noexec,exec" is exec).
struct MountFlags {
  bool nodev = false, nosuid = false, noexec = false;
};
MountFlags mount_flags(std::string_view options);

// Decodes getmntent's octal escapes (\040 space, \011 tab, \012, \134).
std::string unescape_octal(std::string_view field);

// Is `dir` at or below `mount_point` (path components, not characters)?
bool covers(std::string_view mount_point, std::string_view dir);

// The fstab entry whose mount point is the longest one covering `dir`
// (swap and non-path mount points ignored); nullptr when none does.
const FstabEntry *covering(const Fstab &fstab, std::string_view dir);
// The mount that holds `dir`: the longest covering mount point, and of
// several at that point the last one mounted.
const MountEntry *covering(const MountInfo &mi, std::string_view dir);

// The crypttab name an fstab device refers to: /dev/mapper/NAME or
// /dev/disk/by-id/dm-name-NAME; "" otherwise (UUID=, LABEL=, /dev/sdX).
std::string mapper_name(std::string_view spec);

} // namespace bulwark::mounts
