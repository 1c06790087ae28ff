// Debian cron's crontab reading (see crontab.hpp for the semantics).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/crontab.hpp>

namespace bulwark::cron {

namespace {

// cron refuses crontabs above this size (Debian's MAXTABSIZE is 10000
// lines; bytes are capped for the same reason: a hostile file).
constexpr size_t k_max_crontab_bytes = 4 * 1024 * 1024;
constexpr size_t k_max_jobs = 100000;

bool is_env_line(std::string_view line) {
  // NAME=VALUE or NAME = VALUE with NAME a word: cron's load_env().
  size_t eq = line.find('=');
  if (eq == std::string_view::npos || eq == 0)
    return false;
  std::string_view name = text::trim(line.substr(0, eq));
  if (name.empty())
    return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '"' || c == '\''))
      return false;
  return true;
}

// Splits off the next blank-separated word of `s`.
std::string_view next_word(std::string_view &s) {
  s = text::trim(s);
  size_t end = s.find_first_of(" \t");
  std::string_view w = s.substr(0, end);
  s = end == std::string_view::npos ? std::string_view() : s.substr(end);
  return w;
}

void read_crontab_file(const RootFs &fs, const std::string &path, bool system,
                       const std::string &user, Crontabs &out) {
  auto text = fs.read_file(path, k_max_crontab_bytes);
  if (!text) {
    if (!text.error().not_found())
      out.diagnostics.push_back(Diagnostic{"cannot read: " + text.error().message, {path, 0}});
    return;
  }
  out.files.push_back(path);
  parse_crontab_text(path, *text, system, user, out);
}

} // namespace

bool valid_part_name(std::string_view name) {
  if (name.empty())
    return false;
  for (char c : name)
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-'))
      return false;
  return true;
}

void parse_crontab_text(const std::string &path, std::string_view text, bool system,
                        const std::string &user, Crontabs &out) {
  int lineno = 0;
  for (std::string_view rest = text; !rest.empty();) {
    size_t nl = rest.find('\n');
    std::string_view raw = rest.substr(0, nl);
    rest = nl == std::string_view::npos ? std::string_view() : rest.substr(nl + 1);
    ++lineno;
    if (!raw.empty() && raw.back() == '\r')
      raw.remove_suffix(1);
    std::string_view line = text::trim(raw);
    if (line.empty() || line[0] == '#')
      continue;
    if (line.find('\0') != std::string_view::npos) {
      out.diagnostics.push_back(Diagnostic{"a NUL byte: cron rejects the crontab", {path, lineno}});
      continue;
    }
    Job j;
    j.loc = {path, lineno};
    std::string_view s = line;
    if (line[0] == '@') {
      j.schedule = std::string(next_word(s));
      static constexpr std::string_view k_keywords[] = {"@reboot",   "@yearly", "@annually",
                                                        "@monthly",  "@weekly", "@daily",
                                                        "@midnight", "@hourly"};
      bool known = false;
      for (auto k : k_keywords)
        known |= text::iequals(k, j.schedule);
      if (!known) {
        out.diagnostics.push_back(Diagnostic{"bad time specifier " + text::printable(j.schedule) +
                                                 ": cron skips the line",
                                             {path, lineno}});
        continue;
      }
    } else if (is_env_line(line)) {
      continue;
    } else {
      std::string sched;
      bool ok = true;
      for (int i = 0; i < 5; ++i) {
        std::string_view w = next_word(s);
        if (w.empty() ||
            w.find_first_not_of("0123456789*/,-abcdefghijklmnopqrstuvwxyz"
                                "ABCDEFGHIJKLMNOPQRSTUVWXYZ") != std::string_view::npos) {
          ok = false;
          break;
        }
        sched += (i ? " " : "") + std::string(w);
      }
      if (!ok) {
        out.diagnostics.push_back(Diagnostic{
            "not a crontab line (five time fields expected): cron skips it", {path, lineno}});
        continue;
      }
      j.schedule = sched;
    }
    if (system) {
      j.user = std::string(next_word(s));
      if (j.user.empty()) {
        out.diagnostics.push_back(Diagnostic{"no user field: cron skips the line", {path, lineno}});
        continue;
      }
    } else {
      j.user = user;
    }
    std::string cmd(text::trim(s));
    // An unescaped % ends the command; the rest becomes its standard input.
    for (size_t i = 0; i < cmd.size(); ++i) {
      if (cmd[i] == '\\' && i + 1 < cmd.size() && cmd[i + 1] == '%') {
        cmd.erase(i, 1);
        continue;
      }
      if (cmd[i] == '%') {
        cmd.resize(i);
        break;
      }
    }
    if (cmd.empty()) {
      out.diagnostics.push_back(Diagnostic{"no command: cron skips the line", {path, lineno}});
      continue;
    }
    j.command = std::move(cmd);
    if (out.jobs.size() >= k_max_jobs) {
      out.diagnostics.push_back(Diagnostic{"too many jobs; the rest is not read", {path, lineno}});
      return;
    }
    out.jobs.push_back(std::move(j));
  }
}

Crontabs load_crontabs(const RootFs &fs) {
  Crontabs out;
  read_crontab_file(fs, "/etc/crontab", true, "", out);
  auto list = [&](const std::string &dir) -> std::vector<std::string> {
    auto names = fs.list_dir(dir);
    if (!names) {
      if (!names.error().not_found())
        out.diagnostics.push_back(Diagnostic{"cannot list: " + names.error().message, {dir, 0}});
      return {};
    }
    return *names;
  };
  for (auto &n : list("/etc/cron.d"))
    if (valid_part_name(n))
      read_crontab_file(fs, "/etc/cron.d/" + n, true, "", out);
  for (auto &n : list("/var/spool/cron/crontabs"))
    if (n[0] != '.' && n.find('~') == std::string::npos)
      read_crontab_file(fs, "/var/spool/cron/crontabs/" + n, false, n, out);
  for (const char *period : {"hourly", "daily", "weekly", "monthly"}) {
    std::string dir = std::string("/etc/cron.") + period;
    for (auto &n : list(dir)) {
      if (!valid_part_name(n))
        continue;
      std::string p = dir + "/" + n;
      auto st = fs.stat(p);
      if (!st) {
        if (!st.error().not_found())
          out.diagnostics.push_back(Diagnostic{"cannot stat: " + st.error().message, {p, 0}});
        continue;
      }
      // run-parts runs regular files with an execute bit only.
      if (st->type != FileInfo::Type::regular || (st->mode & 0111) == 0)
        continue;
      out.jobs.push_back(Job{std::string("cron.") + period, "root", p, {p, 0}});
    }
  }
  return out;
}

} // namespace bulwark::cron
