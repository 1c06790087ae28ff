#pragma once
// sudoers, read as sudo 1.9 reads it (sudoers(5), plugins/sudoers/gram.y and
// toke.l), as far as the security checks need:
//
// - A backslash at the end of a line continues it. '#' starts a comment,
//   except `#include` / `#includedir` and "#<digits>" used as a uid in a user
//   list (`#1000 ALL=(ALL) ALL` is a rule, not a comment).
// - `@include FILE` / `#include FILE` read FILE in place (a relative path is
//   relative to the including file's directory); `@includedir DIR` /
//   `#includedir DIR` read every file of DIR in lexical order, skipping names
//   that end in '~' or contain a '.'. Include loops and depth are bounded.
// - `Defaults[@host|:user|>runas|!cmnd] a, b=c, !d` set flags and values.
// - Aliases: `User_Alias`, `Runas_Alias`, `Host_Alias`, `Cmnd_Alias` (also
//   `Cmd_Alias`): `NAME = items [: NAME2 = items]`.
// - User specifications: `users hosts = [(runas)] [TAG:]... cmnd, ... [: hosts = ...]`.
//   Tags (NOPASSWD, PASSWD, NOEXEC, ...) carry on to the following commands of
//   the same specification until changed.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <string>
#include <vector>

namespace bulwark::sudoers {

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct DefaultsEntry {
  std::string scope; // "" global, "@host", ":user", ">runas", "!cmnd"
  std::string name;  // e.g. "use_pty", "logfile", "authenticate"
  std::string value; // "" for flags
  bool negated = false;
  SourceLocation loc;
};

struct Command {
  std::string runas;             // "(ALL : ALL)" as written, "" if none
  std::vector<std::string> tags; // in effect for this command, e.g. {"NOPASSWD"}
  std::string command;           // as written (aliases not expanded), "!" kept
  bool has_tag(std::string_view t) const;
};

struct UserSpec {
  std::string users; // as written
  std::string hosts;
  std::vector<Command> commands;
  std::string text; // the whole specification, continuation lines joined
  SourceLocation loc;
};

struct SudoersModel {
  std::vector<std::string> files; // read, in order
  std::vector<DefaultsEntry> defaults;
  std::map<std::string, std::vector<std::string>> cmnd_aliases;
  std::vector<UserSpec> specs;
  std::vector<Diagnostic> diagnostics;

  // Does a command (possibly a Cmnd_Alias) allow every command?
  bool is_all(const std::string &command) const;
};

// Reads /etc/sudoers (or `path`) and its includes. An absent main file is an
// Error (not_found): sudo is not installed.
Result<SudoersModel> load_sudoers(const RootFs &fs, const std::string &path = "/etc/sudoers");
// Parses text claiming to come from `path`; includes are read through fs.
SudoersModel parse_sudoers_text(const RootFs &fs, const std::string &path, std::string_view text);

} // namespace bulwark::sudoers
