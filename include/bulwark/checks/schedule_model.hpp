#pragma once
// What the host runs on a schedule: enabled systemd timers (with the
// ExecStart lines and environment of the service each one starts) and cron
// jobs (crontabs and run-parts scripts), each with the text of the scripts it
// calls, so that a check can ask "does anything run restic, aide, ...
// periodically" and cite the line that does. Shared by backup.* and
// monitoring.file-integrity-scheduled (`ctx.get<ScheduleModel>()`).

#include <bulwark/checks/context.hpp>
#include <bulwark/core/finding.hpp>

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark {

struct ScheduledJob {
  // One line the job runs or reads: an ExecStart=, a crontab command, a line
  // of a script the command calls (followed one level, text files under
  // 1 MiB), an Environment= or a line of an EnvironmentFile=.
  struct Step {
    std::string text;
    SourceLocation loc;
    bool assignment = false; // a line of an EnvironmentFile: NAME=value, never run
  };
  std::string name;                       // "restic-backup.timer", "/etc/cron.d/backup:3"
  std::string kind;                       // "systemd timer", "cron"
  std::string schedule;                   // "OnCalendar=daily", "0 3 * * *", "cron.daily"
  SourceLocation where;                   // the enabling link or the crontab line
  std::string stamp;                      // systemd's stamp file of a Persistent= timer
  std::vector<Step> steps;                // in reading order
  std::vector<std::string> files;         // scripts and environment files read, besides units
  std::map<std::string, std::string> env; // NAME=value assignments seen (last wins)

  // The first step that runs `program` (a word whose base name is it,
  // outside comments), or nullptr.
  const Step *runs(std::string_view program) const;
  // `$NAME` / `${NAME}` replaced from `env` (one pass), quotes removed.
  std::string expand(std::string_view word) const;
};

struct ScheduleModel {
  static constexpr std::string_view k_name = "scheduled jobs";
  std::vector<ScheduledJob> jobs;
  // Timers present but not enabled, by name (what a check may mention).
  std::vector<std::string> disabled_timers;
  // Inputs that could not be read: a crontab, a unit the state of which
  // systemctl could not tell. A check that finds nothing reports them.
  std::vector<Evidence> errors;

  static ScheduleModel load(Context &ctx);
};

// Words of a shell line, split at blanks and at | ; & ( ) ` and quotes
// removed: enough to find programs and their arguments.
std::vector<std::string> shell_words(std::string_view line);

} // namespace bulwark
