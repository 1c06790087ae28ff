#pragma once
// The audit rules the kernel gets at boot on Debian 12 (auditd 3.0.9):
// auditd.service runs `augenrules --load`, which, when /etc/audit/rules.d
// exists, rebuilds /etc/audit/audit.rules from rules.d/*.rules and loads it
// with `auditctl -R`; without rules.d the existing audit.rules is loaded.
//
// augenrules' real semantics (read from the Debian 12 script; the
// differential test runs the script itself):
// - Files: `ls -1v rules.d | grep '\.rules$'`, i.e. GNU version order
//   (filevercmp: "10-a" after "9-a"), names split on blanks by the shell's
//   `for` (a name with a space is lost), concatenated with `cat` (a file
//   without a final newline runs into the next file's first line).
// - Lines go through awk (mawk on Debian, which has no `\s`: the script's
//   "^\s*#" means "^s*#", so an indented comment is kept and an indented
//   `-e 2` is NOT moved). Empty lines and comments are dropped; the LAST
//   bare `-D`, `-b`, `-f` go first (in that order), the last `-e` goes last,
//   everything else keeps its order.
// - auditctl -R then applies the lines in order: `-D` deletes every rule so
//   far, `-e 0|1|2` sets the enabled flag (2 = immutable until reboot).
// Rules are `-w PATH [-p rwxa] [-k KEY]` (a watch: recursive when PATH is a
// directory; no -p means all four permissions) and `-a|-A LIST,ACTION` with
// `-S syscall[,syscall]` and `-F name[op]value` fields.
// Sources: auditd's init.d/augenrules, src/auditctl.c (fileopt, setopt);
// auditctl(8), audit.rules(7).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace bulwark::audit {

struct AuditField {
  std::string name; // "arch", "euid", "path", "perm", ...
  std::string op;   // "=", "!=", ">=", "<=", ">", "<", "&", "&="
  std::string value;
};

struct AuditRule {
  enum class Kind { watch, syscall, other };
  Kind kind = Kind::other;
  std::string text; // the line as auditctl gets it (trimmed)
  SourceLocation loc;
  // watch: -w PATH -p PERMS
  std::string path;
  std::optional<std::string> perms; // nullopt: no -p (all permissions)
  // syscall: -a LIST,ACTION (either order)
  std::string list;                  // "exit", "task", "user", "exclude", "filesystem"
  std::string action;                // "always", "never"
  std::vector<std::string> syscalls; // -S values, split on ','
  std::vector<AuditField> fields;
  std::string key; // -k or -F key=

  const AuditField *field(std::string_view name) const;
};

using AuditDiagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct AuditRules {
  enum class Source { none, augenrules, audit_rules };
  Source source = Source::none;
  std::vector<std::string> files; // read, in order
  std::vector<AuditRule> rules;   // in force after every -D
  std::optional<int> enabled;     // the last -e
  SourceLocation enabled_loc;
  std::vector<AuditDiagnostic> diagnostics;
};

// augenrules' file order: GNU `ls -v` (filevercmp). Exposed for the test.
int filevercmp(std::string_view a, std::string_view b);

// Applies augenrules' reordering to already concatenated lines (each with
// its source location), as the awk of the Debian 12 script does with mawk.
std::vector<std::pair<std::string, SourceLocation>>
augenrules_reorder(const std::vector<std::pair<std::string, SourceLocation>> &lines);

// Interprets the lines auditctl -R gets, in order.
void apply_audit_lines(AuditRules &out,
                       const std::vector<std::pair<std::string, SourceLocation>> &lines);

// Files given as (path, contents): with augenrules=true they are
// concatenated and reordered like rules.d, else each is an audit.rules.
AuditRules parse_audit_rules_texts(const std::vector<std::pair<std::string, std::string>> &files,
                                   bool augenrules);

// Reads the target: rules.d when it exists (what augenrules would compile),
// else /etc/audit/audit.rules. Never fails: problems become diagnostics.
AuditRules load_audit_rules(const RootFs &fs, size_t max_file_bytes = 16 * 1024 * 1024);

// /etc/audit/auditd.conf as auditd 3.0.9 reads it (auditd-config.c):
// `keyword = value` lines, `#` comments, blank lines; keywords matched
// exactly (lower case), values as written (their words are compared
// case-insensitively by auditd). A keyword auditd does not know, or a line
// without `=`, makes auditd refuse the file ("Unknown keyword", "Missing
// equal sign"). The last assignment wins.
struct AuditdSetting {
  std::string value;
  SourceLocation loc;
};
struct AuditdConf {
  std::string path = "/etc/audit/auditd.conf";
  bool present = false;
  std::map<std::string, AuditdSetting> values;
  std::vector<AuditDiagnostic> diagnostics;
  const AuditdSetting *get(const std::string &name) const {
    auto it = values.find(name);
    return it == values.end() ? nullptr : &it->second;
  }
};
AuditdConf parse_auditd_conf_text(const std::string &path, std::string_view text);
// ENOENT: present false; other read errors are error diagnostics.
AuditdConf load_auditd_conf(const RootFs &fs);

} // namespace bulwark::audit
