#pragma once
// The jobs cron runs on Debian 12 (cron 3.0pl1-162), read as cron reads
// them, and the run-parts directories it calls from /etc/crontab.
//
// - /etc/crontab and /etc/cron.d/*: system crontabs, six fields (five time
//   fields or one @keyword, then the user, then the command). cron.d names
//   that are not run-parts' LSB names ([A-Za-z0-9_-]+: "backup.dpkg-old",
//   "x.sh") are ignored by Debian's cron, as are editor backups.
// - /var/spool/cron/crontabs/USER: a user's crontab, without the user field.
// - Lines: blank, `#` comments (leading blanks allowed), NAME=VALUE
//   environment settings (skipped), jobs. cron keeps the command's rest of
//   line verbatim; a `%` not escaped ends the command (the rest is stdin).
// - /etc/cron.{hourly,daily,weekly,monthly}/NAME: scripts run-parts runs
//   (LSB names only); each is a job whose command is the script.
// Source: cron's entry.c (load_entry), database.c (valid_name); run-parts(8).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::cron {

struct Job {
  std::string schedule; // "0 3 * * *", "@daily", "cron.daily"
  std::string user;     // the user it runs as ("" when unknown)
  std::string command;  // the command as cron hands it to /bin/sh
  SourceLocation loc;   // the crontab line (line 0: a run-parts script)
};

struct Crontabs {
  std::vector<std::string> files; // read, in order
  std::vector<Job> jobs;
  std::vector<Diagnostic> diagnostics; // unreadable files, malformed lines
};

// run-parts' and cron.d's file-name rule: [A-Za-z0-9_-]+.
bool valid_part_name(std::string_view name);

// One crontab's text. `system`: the user field is present. `user`: the owner
// of a user crontab.
void parse_crontab_text(const std::string &path, std::string_view text, bool system,
                        const std::string &user, Crontabs &out);

// Every crontab and run-parts script of the target. Never fails: unreadable
// files are error diagnostics (only ENOENT is absence).
Crontabs load_crontabs(const RootFs &fs);

} // namespace bulwark::cron
