#pragma once
// GRUB's defaults: /etc/default/grub, then /etc/default/grub.d/*.cfg in glob
// order, as grub-mkconfig (grub 2.06, util/grub-mkconfig.in) sources them
// into one shell. So the last assignment of a variable wins; "export VAR=..."
// assigns too; $VAR and ${VAR} are expanded from the assignments read so far
// outside single quotes; an unquoted "#" after a blank starts a comment, and
// an unquoted blank ends the value (what follows would be a command). The
// kernel command line is GRUB_CMDLINE_LINUX followed by
// GRUB_CMDLINE_LINUX_DEFAULT (10_linux's normal entry).
//
// Only assignments are understood: conditionals, command substitution and
// other shell are not run. A line whose quote is not closed on that line is
// reported (a multi-line value is rare in these files and not followed).

#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::grub {

struct Assignment {
  std::string value; // after quote removal and expansion
  SourceLocation loc;
};

struct DefaultGrub {
  std::vector<std::string> files;         // read, in order
  std::map<std::string, Assignment> vars; // the last assignment of each
  std::vector<Error> diagnostics;         // unclosed quotes, ${ without }
  std::vector<Error> read_errors;         // files that exist but cannot be read
  // GRUB_CMDLINE_LINUX + " " + GRUB_CMDLINE_LINUX_DEFAULT.
  std::string cmdline() const;
};

// One file's text, assigning into `into` (expanding with what it holds).
void parse_default_grub(std::string_view text, const std::string &path, DefaultGrub &into);

// Both places, in grub-mkconfig's order. Absent files are skipped.
DefaultGrub load_default_grub(const RootFs &fs);

// The value of the last `key=` word of a kernel command line, nullopt when
// absent.
std::optional<std::string> cmdline_param(const std::string &cmdline, const std::string &key);

} // namespace bulwark::grub
