// The scheduled jobs of a host (see schedule_model.hpp): enabled systemd
// timers through the shared SystemdModel (systemctl is-enabled's verdict),
// cron jobs through parse/crontab, and the scripts both call.

#include <bulwark/checks/models.hpp>
#include <bulwark/checks/schedule_model.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/parse/crontab.hpp>

#include <algorithm>
#include <set>

namespace bulwark {

namespace {

constexpr size_t k_max_script_bytes = 1024 * 1024;
constexpr size_t k_max_files_per_job = 32;

std::string_view schedule_base_name(std::string_view p) {
  size_t s = p.rfind('/');
  return s == std::string_view::npos ? p : p.substr(s + 1);
}

// A unit file's assignments of the sections wanted, continuation lines
// joined (systemd's config_parse: a trailing backslash continues the line;
// `#` and `;` start comment lines).
struct UnitLine {
  std::string section, key, value;
  SourceLocation loc;
};
std::vector<UnitLine> unit_lines(const std::string &path, std::string_view text) {
  std::vector<UnitLine> out;
  std::string section, pending;
  int start = 0, lineno = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++lineno;
    std::string_view l = text::trim(raw);
    if (pending.empty()) {
      if (l.empty() || l[0] == '#' || l[0] == ';')
        continue;
      if (l[0] == '[') {
        section = std::string(l.substr(
            1, l.find(']') == std::string_view::npos ? std::string_view::npos : l.find(']') - 1));
        continue;
      }
      start = lineno;
    }
    if (!l.empty() && l.back() == '\\') {
      pending += std::string(l.substr(0, l.size() - 1)) + " ";
      continue;
    }
    pending += std::string(l);
    size_t eq = pending.find('=');
    if (eq != std::string::npos)
      out.push_back(UnitLine{section,
                             std::string(text::trim(pending.substr(0, eq))),
                             std::string(text::trim(pending.substr(eq + 1))),
                             {path, start}});
    pending.clear();
  }
  return out;
}

void note_assignments(ScheduledJob &job, std::string_view line) {
  // NAME=value words (shell assignments, export NAME=..., Environment= values).
  for (auto &w : shell_words(line)) {
    size_t eq = w.find('=');
    if (eq == std::string::npos || eq == 0)
      continue;
    std::string name = w.substr(0, eq);
    if (!std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
        }))
      continue;
    job.env[name] = w.substr(eq + 1);
  }
}

// Reads a text file the job uses (a script, an environment file): its lines
// become steps. Binaries, directories and large files are left alone.
void read_into(const RootFs &fs, ScheduledJob &job, const std::string &path,
               std::vector<Evidence> &errors, std::set<std::string> &seen, bool env_file = false) {
  if (seen.size() >= k_max_files_per_job || !seen.insert(path).second)
    return;
  auto st = fs.stat(path);
  if (!st) {
    if (!st.error().not_found())
      errors.push_back(
          Evidence{path, 0, "cannot stat: " + st.error().message, "a readable file", job.name});
    return;
  }
  if (st->type != FileInfo::Type::regular || st->size > k_max_script_bytes)
    return;
  auto t = fs.read_file(path, k_max_script_bytes);
  if (!t) {
    errors.push_back(
        Evidence{path, 0, "cannot read: " + t.error().message, "a readable file", job.name});
    return;
  }
  if (t->find('\0') != std::string::npos)
    return; // a binary program, not a script
  job.files.push_back(path);
  int lineno = 0;
  for (auto &raw : text::split(*t, '\n', true)) {
    ++lineno;
    std::string_view l = text::trim(raw);
    if (l.empty() || l[0] == '#')
      continue;
    job.steps.push_back({std::string(l), {path, lineno}, env_file});
    note_assignments(job, l);
  }
}

// Follows the absolute paths a job's own lines name (its scripts, the files
// they source), one level deep.
// A script is a word in command position (the first word, or after
// sh/bash/dash, `.` or `source`) that names an executable text file; data
// files, key files and the backups themselves are arguments, never read.
void follow_scripts(const RootFs &fs, ScheduledJob &job, std::vector<Evidence> &errors) {
  std::set<std::string> seen;
  size_t own = job.steps.size();
  for (size_t i = 0; i < own; ++i) {
    if (job.steps[i].assignment || text::starts_with(job.steps[i].text, "Environment"))
      continue;
    auto words = shell_words(job.steps[i].text);
    std::string prev;
    bool command_position = true;
    for (auto &w : words) {
      std::string p = job.expand(w);
      bool sourced = prev == "." || prev == "source" || prev == "sh" || prev == "bash" ||
                     prev == "dash" || prev == "/bin/sh" || prev == "/bin/bash";
      bool assignment = p.find('=') != std::string::npos && p[0] != '/';
      if ((command_position || sourced) && p.size() > 1 && p[0] == '/' &&
          p.find("..") == std::string::npos && !text::starts_with(p, "/dev/") &&
          !text::starts_with(p, "/proc/")) {
        auto st = fs.stat(p);
        if (sourced || (st && (st->mode & 0111)))
          read_into(fs, job, p, errors, seen);
      }
      // After a prefix assignment (VAR=x cmd), `exec`, `nice` or `env` the
      // next word is still a command.
      command_position = assignment && command_position;
      if (p == "exec" || p == "nice" || p == "env" || p == "ionice" || p == "sudo" ||
          p == "/usr/bin/env" || p == "flock")
        command_position = true;
      prev = p;
    }
  }
}

void load_timers(Context &ctx, ScheduleModel &m) {
  const RootFs &fs = ctx.fs();
  const SystemdModel &sd = ctx.get<SystemdModel>();
  std::set<std::string> names;
  for (const std::string &dir : systemd::UnitFiles::search_path()) {
    auto list = fs.list_dir(dir);
    if (!list) {
      if (!list.error().not_found())
        m.errors.push_back(Evidence{dir, 0, "cannot list: " + list.error().message,
                                    "a readable unit directory", "systemd"});
      continue;
    }
    for (auto &n : *list)
      if (n.size() > 6 && n.compare(n.size() - 6, 6, ".timer") == 0 &&
          n.find('@') == std::string::npos)
        names.insert(n);
  }
  for (const std::string &name : names) {
    const systemd::UnitState &st = sd.state(name);
    if (st.state == systemd::UnitFileState::error) {
      m.errors.push_back(
          Evidence{st.error ? st.error->path : st.path, st.error ? st.error->line : 0,
                   st.error ? st.error->message : "error", "a readable unit file", name});
      continue;
    }
    if (!st.is_enabled_by_link() || st.fragment.empty()) {
      m.disabled_timers.push_back(name);
      continue;
    }
    ScheduledJob job;
    job.name = name;
    job.kind = "systemd timer";
    job.where = {st.path, 0};
    job.stamp = "/var/lib/systemd/timers/stamp-" + name;
    std::string service = name.substr(0, name.size() - 6) + ".service";
    if (auto t = fs.read_file(st.fragment, k_max_script_bytes)) {
      for (auto &l : unit_lines(st.fragment, *t)) {
        if (l.section != "Timer")
          continue;
        if (l.key == "Unit" && !l.value.empty())
          service = l.value;
        else if (text::starts_with(l.key, "On"))
          job.schedule += (job.schedule.empty() ? "" : ", ") + l.key + "=" + l.value;
      }
    } else {
      m.errors.push_back(Evidence{st.fragment, 0, "cannot read: " + t.error().message,
                                  "a readable unit file", name});
    }
    const systemd::UnitState &svc = sd.state(service);
    std::vector<std::string> unit_files;
    if (!svc.fragment.empty())
      unit_files.push_back(svc.fragment);
    for (const char *d : {"/etc/systemd/system/", "/run/systemd/system/"})
      if (auto g = fs.glob(std::string(d) + service + ".d/*.conf"))
        unit_files.insert(unit_files.end(), g->begin(), g->end());
    if (unit_files.empty()) {
      m.errors.push_back(Evidence{"/etc/systemd/system/" + service, 0,
                                  "the service the timer starts is not found", "a unit file",
                                  name});
    }
    std::vector<std::string> env_files;
    for (auto &uf : unit_files) {
      auto t = fs.read_file(uf, k_max_script_bytes);
      if (!t) {
        m.errors.push_back(
            Evidence{uf, 0, "cannot read: " + t.error().message, "a readable unit file", name});
        continue;
      }
      for (auto &l : unit_lines(uf, *t)) {
        if (l.section != "Service")
          continue;
        if (text::starts_with(l.key, "ExecStart") || l.key == "ExecStopPost") {
          std::string v = l.value;
          // Exec prefixes: @ - : + ! !!
          while (!v.empty() && std::string_view("@-:+!").find(v[0]) != std::string_view::npos)
            v.erase(0, 1);
          job.steps.push_back({v, l.loc});
        } else if (l.key == "Environment") {
          job.steps.push_back({"Environment=" + l.value, l.loc});
          note_assignments(job, l.value);
        } else if (l.key == "EnvironmentFile") {
          std::string f = l.value;
          if (!f.empty() && f[0] == '-')
            f.erase(0, 1);
          env_files.push_back(f);
          job.steps.push_back({"EnvironmentFile=" + l.value, l.loc});
        }
      }
    }
    std::set<std::string> seen;
    for (auto &f : env_files)
      read_into(fs, job, f, m.errors, seen, true);
    follow_scripts(fs, job, m.errors);
    m.jobs.push_back(std::move(job));
  }
}

void load_cron(Context &ctx, ScheduleModel &m) {
  const RootFs &fs = ctx.fs();
  cron::Crontabs tabs = cron::load_crontabs(fs);
  for (auto &d : tabs.diagnostics)
    if (d.level == Diagnostic::Level::error && d.loc.line == 0)
      m.errors.push_back(Evidence{d.loc.path, d.loc.line, d.message, "a readable crontab", "cron"});
  for (auto &j : tabs.jobs) {
    // Debian's /etc/crontab runs the cron.* directories through run-parts;
    // those scripts are jobs of their own (below), not this line's.
    if (j.loc.path == "/etc/crontab" && j.command.find("run-parts") != std::string::npos)
      continue;
    ScheduledJob job;
    job.kind = "cron";
    job.schedule = j.schedule;
    if (j.loc.line > 0) {
      job.name = j.loc.path + ":" + std::to_string(j.loc.line);
      job.steps.push_back({j.command, j.loc});
      note_assignments(job, j.command);
    } else {
      job.name = j.loc.path; // a run-parts script: the script is the job
    }
    job.where = j.loc;
    std::set<std::string> seen;
    if (j.loc.line == 0)
      read_into(fs, job, j.loc.path, m.errors, seen);
    else
      follow_scripts(fs, job, m.errors);
    m.jobs.push_back(std::move(job));
  }
}

} // namespace

std::vector<std::string> shell_words(std::string_view line) {
  std::vector<std::string> out;
  std::string cur;
  char quote = 0;
  auto flush = [&] {
    if (!cur.empty())
      out.push_back(std::move(cur));
    cur.clear();
  };
  for (char c : line) {
    if (quote) {
      if (c == quote)
        quote = 0;
      else
        cur += c;
      continue;
    }
    if (c == '"' || c == '\'') {
      quote = c;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '|' || c == ';' || c == '&' || c == '(' || c == ')' ||
        c == '`' || c == '<' || c == '>') {
      flush();
      continue;
    }
    cur += c;
  }
  flush();
  return out;
}

const ScheduledJob::Step *ScheduledJob::runs(std::string_view program) const {
  for (auto &s : steps) {
    if (s.assignment || text::starts_with(s.text, "Environment"))
      continue;
    for (auto &w : shell_words(s.text))
      if (schedule_base_name(w) == program)
        return &s;
  }
  return nullptr;
}

std::string ScheduledJob::expand(std::string_view word) const {
  std::string out;
  for (size_t i = 0; i < word.size(); ++i) {
    if (word[i] != '$' || i + 1 == word.size()) {
      out += word[i];
      continue;
    }
    size_t start = i + 1;
    bool brace = word[start] == '{';
    if (brace)
      ++start;
    size_t end = start;
    while (end < word.size() &&
           (std::isalnum(static_cast<unsigned char>(word[end])) || word[end] == '_'))
      ++end;
    std::string name(word.substr(start, end - start));
    if (brace) {
      // ${NAME:-default} and the like: keep only the name's value.
      size_t close = word.find('}', end);
      end = close == std::string_view::npos ? word.size() : close + 1;
    }
    auto it = env.find(name);
    out += it != env.end() ? it->second : std::string(word.substr(i, end - i));
    i = end - 1;
  }
  return out;
}

ScheduleModel ScheduleModel::load(Context &ctx) {
  ScheduleModel m;
  load_timers(ctx, m);
  load_cron(ctx, m);
  return m;
}

} // namespace bulwark
