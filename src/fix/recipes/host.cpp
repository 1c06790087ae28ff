// Host recipes: sudoers Defaults, audit rules, the idle shell timeout, log
// retention, permission bits and owners of the files a finding names,
// pwquality, APT options and the security suite; each change placed where
// the program that reads it lets it win (the sections below say where and
// why; docs/fix.md has the table).
//
// sudoers-dropin: sudo 1.9 reads /etc/sudoers top to bottom, an
// `@includedir /etc/sudoers.d` (or `#includedir`) in place, the directory's
// files in lexical order, skipping names that contain '.' or end in '~'
// (sudoers(5), "Including other files from within sudoers"); for a Defaults
// setting the last assignment wins. So the settings go into
// /etc/sudoers.d/zz-bulwark (mode 0440, as visudo wants), read after the
// usual names; parsed again through the root's own includes, the file must
// be read (else the root's sudoers has no includedir and the fix is refused)
// and the wanted value must be the one in force. `set` maps a Defaults name
// to its value ("" for a flag). visudo -c judges the result.
//
// auditd-rule: Debian's auditd.service runs `augenrules --load`, which
// compiles /etc/audit/rules.d/*.rules (ls -v order; the last -D, -b, -f go
// first and the last -e last, so a file's position does not matter) into
// audit.rules. The rules the failing findings ask for (their evidence's
// `expected`: "-w ..." or "-a ..." lines, several joined by "; ") go into
// /etc/audit/rules.d/bulwark.rules (0640, as Debian ships rules.d). A root
// without rules.d loads /etc/audit/audit.rules as it is, so the rules are
// inserted there, before its last -e line (after `-e 2` the kernel refuses
// every change). auditd has no checker that runs without the kernel (auditctl
// loads rules into the running one), so the result is parsed as augenrules
// and auditctl read it (parse/auditrules.hpp): rules that already have an
// error are refused (auditctl -R stops at the first), and an error in the
// recipe's own lines refuses it; the re-audit then proves the check passes.
//
// shell-timeout: CIS Debian 12 5.4.3.2's `TMOUT=N; readonly TMOUT; export
// TMOUT` in /etc/profile.d/zz-bulwark-tmout.sh, sourced by /etc/profile after
// the other profile.d files. A TMOUT made read-only earlier wins over it, and
// the re-audit refuses the fix then.
//
// logrotate: logrotate 3.21 keeps a log `rotate` x period days, capped by
// `maxage`; the block that owns the log decides. The owning block of each
// log the finding names gets its own `rotate` raised to cover the days at
// its period (or a line added after its `{`), and a smaller `maxage` raised;
// the global defaults are left alone (other logs keep theirs). A block
// rotated by size is refused: how long it keeps a log depends on the volume.

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/auditrules.hpp>
#include <bulwark/parse/logrotate.hpp>
#include <bulwark/parse/sudoers.hpp>

#include <algorithm>
#include <cmath>
#include <map>
#include <memory>

namespace bulwark::fix {

namespace {

constexpr const char *k_host_sudoers = "/etc/sudoers";
constexpr const char *k_sudo_dropin = "/etc/sudoers.d/zz-bulwark";
constexpr const char *k_audit_dropin = "/etc/audit/rules.d/bulwark.rules";
constexpr const char *k_audit_rules_d = "/etc/audit/rules.d";
constexpr const char *k_audit_rules = "/etc/audit/audit.rules";
constexpr const char *k_tmout_dropin = "/etc/profile.d/zz-bulwark-tmout.sh";
constexpr int k_end = 1 << 30; // insert_line past the end: append

// The root as it reads with `path` holding `content` (on top of the plan so
// far).
RootFs with_file(const RootFs &base, const std::string &path, const std::string &content,
                 std::optional<uint32_t> mode = std::nullopt) {
  auto ov = std::make_shared<FsOverlay>(base.overlay() ? *base.overlay() : FsOverlay{});
  FsOverlayEntry &e = (*ov)[path];
  e.removed = false;
  e.content = content;
  if (mode)
    e.mode = mode;
  RootFs fs = base;
  fs.set_overlay(std::move(ov));
  return fs;
}

// Reads `path` of the root; an absent file is empty.
Result<std::string> read_or_empty(const RootFs &fs, const std::string &path) {
  auto r = fs.read_file(path);
  if (!r && r.error().not_found())
    return std::string();
  return r;
}

// The recipe's `set` value of `key` as a number > 0.
Result<long long> positive(const RecipeInput &in, const std::string &key) {
  std::string v;
  for (auto &[k, val] : in.args.set)
    if (k == key)
      v = val;
  char *end = nullptr;
  long long n = std::strtoll(v.c_str(), &end, 10);
  if (v.empty() || *end != '\0' || n <= 0)
    return Error{"recipe of " + in.spec.id + ": " + in.args.kind + " wants set: {" + key +
                 ": a number above 0}, not '" + v + "'"};
  return n;
}

// --- sudoers-dropin ----------------------------------------------------------

// "Defaults name" or "Defaults name=value", the value double-quoted when
// sudoers would split it (sudoers(5): a value with blanks, ',' or '"' is
// quoted, '"' and '\' escaped).
std::string defaults_line(const std::string &name, const std::string &value) {
  if (value.empty())
    return "Defaults " + name;
  bool quote = value.find_first_of(" \t,\"\\:=#") != std::string::npos;
  if (!quote)
    return "Defaults " + name + "=" + value;
  std::string q;
  for (char c : value) {
    if (c == '"' || c == '\\')
      q += '\\';
    q += c;
  }
  return "Defaults " + name + "=\"" + q + "\"";
}

// Is `name` in force with `value` ("" a flag) in the global Defaults? The
// last unscoped assignment wins.
bool defaults_holds(const sudoers::SudoersModel &m, const std::string &name,
                    const std::string &value) {
  const sudoers::DefaultsEntry *last = nullptr;
  for (const auto &d : m.defaults)
    if (d.scope.empty() && d.name == name)
      last = &d;
  return last != nullptr && !last->negated && last->value == value;
}

// The drop-in's line that sets `name` (1-based), 0 when none: our own
// earlier line is replaced, never repeated.
int line_of_default(const std::string &text, const std::string &name) {
  int n = 0;
  for (const auto &l : text::split(text, '\n', true)) {
    ++n;
    auto t = text::trim(l);
    if (!t.starts_with("Defaults "))
      continue;
    auto rest = text::trim(t.substr(9));
    auto bang = rest.starts_with("!") ? rest.substr(1) : rest;
    auto end = bang.find_first_of("= \t");
    if (bang.substr(0, end) == name)
      return n;
  }
  return 0;
}

Result<RecipeOutcome> sudoers_dropin(const RecipeInput &in) {
  auto model = sudoers::load_sudoers(in.fs, k_host_sudoers);
  if (!model) {
    if (model.error().not_found())
      return RecipeOutcome{Refusal{in.spec.id, "", "the root has no /etc/sudoers"}};
    return model.error();
  }
  std::string text = TRY(read_or_empty(in.fs, k_sudo_dropin));
  if (text.empty())
    text = "# Written by bulwark fix: sudo Defaults, read after the other drop-ins (last wins).\n";
  std::vector<std::string> summary;
  for (auto &[name, value] : in.args.set) {
    if (defaults_holds(*model, name, value))
      continue;
    std::string line = defaults_line(name, value);
    int at = line_of_default(text, name);
    text = at ? replace_line(text, at, line) : insert_line(text, k_end, line);
    summary.push_back(line);
  }
  if (summary.empty())
    return RecipeOutcome{Refusal{in.spec.id, "", "the Defaults are already in force"}};
  // Parsed again through the root's includes: the drop-in is read and its
  // values are the ones in force.
  auto after = sudoers::load_sudoers(with_file(in.fs, k_sudo_dropin, text, 0440), k_host_sudoers);
  if (!after)
    return after.error();
  if (std::find(after->files.begin(), after->files.end(), k_sudo_dropin) == after->files.end())
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "/etc/sudoers does not include /etc/sudoers.d (no @includedir): "
                                 "add the Defaults to /etc/sudoers by hand, with visudo"}};
  for (auto &[name, value] : in.args.set)
    if (!defaults_holds(*after, name, value))
      return RecipeOutcome{Refusal{in.spec.id, "",
                                   "a later sudoers line still overrides Defaults " + name +
                                       " after " + std::string(k_sudo_dropin) + "; fix by hand"}};
  Action a;
  a.check_id = in.spec.id;
  FileEdit e = TRY(write_edit(in.fs, k_sudo_dropin, text));
  e.mode = 0440;
  e.owner = "root";
  e.group = "root";
  a.edits.push_back(std::move(e));
  for (auto &s : summary)
    a.summary += (a.summary.empty() ? "" : "; ") + s;
  a.summary += " in " + std::string(k_sudo_dropin);
  a.validators = {Validator::visudo};
  return RecipeOutcome{std::move(a)};
}

// --- auditd-rule ---------------------------------------------------------------

// The rules the failing findings ask for, in order, without repeats.
std::vector<std::string> wanted_rules(const std::vector<const Finding *> &findings) {
  std::vector<std::string> out;
  for (const Finding *f : findings)
    for (auto &e : f->evidence) {
      if (e.context == "parse")
        continue;
      size_t start = 0;
      while (start <= e.expected.size()) {
        size_t end = e.expected.find("; ", start);
        if (end == std::string::npos)
          end = e.expected.size();
        std::string r(text::trim(std::string_view(e.expected).substr(start, end - start)));
        if ((r.starts_with("-w ") || r.starts_with("-a ")) &&
            r.find_first_of("\n\r") == std::string::npos &&
            std::find(out.begin(), out.end(), r) == out.end())
          out.push_back(r);
        start = end + 2;
      }
    }
  return out;
}

Result<RecipeOutcome> auditd_rule(const RecipeInput &in) {
  std::vector<std::string> rules = wanted_rules(in.findings);
  if (rules.empty())
    return RecipeOutcome{
        Refusal{in.spec.id, "", "the finding names no audit rule to add; fix by hand"}};
  audit::AuditRules current = audit::load_audit_rules(in.fs);
  for (const auto &d : current.diagnostics)
    if (d.level == audit::AuditDiagnostic::Level::error)
      return RecipeOutcome{Refusal{in.spec.id, "",
                                   "the audit rules have errors (" + d.loc.path + ":" +
                                       std::to_string(d.loc.line) + ": " + d.message +
                                       "); fix them first"}};
  auto rules_d = in.fs.lstat(k_audit_rules_d);
  if (!rules_d && !rules_d.error().not_found())
    return rules_d.error();
  bool augenrules = rules_d.ok() && rules_d->type == FileInfo::Type::directory;
  if (!augenrules && rules_d.ok())
    return RecipeOutcome{Refusal{in.spec.id, "", "/etc/audit/rules.d is not a directory"}};
  // Without rules.d but with an audit.rules, auditd loads audit.rules as it
  // is; creating rules.d would make augenrules overwrite it.
  std::string path = augenrules || current.source == audit::AuditRules::Source::none
                         ? k_audit_dropin
                         : k_audit_rules;
  std::string text = TRY(read_or_empty(in.fs, path));
  if (text.empty() && path == k_audit_dropin)
    text = "# Written by bulwark fix: audit rules the checks ask for (augenrules --load).\n";
  // Before the last -e of audit.rules; the drop-in's end otherwise
  // (augenrules moves the last -e to the end of everything).
  int at = k_end;
  if (path == k_audit_rules) {
    int n = 0;
    for (const auto &l : text::split(text, '\n', true)) {
      ++n;
      if (text::trim(l).starts_with("-e "))
        at = n;
    }
  }
  std::vector<std::string> added;
  for (const auto &r : rules) {
    bool present = false;
    for (const auto &l : text::split(text, '\n', true))
      present = present || text::trim(l) == r;
    if (present)
      continue;
    text = insert_line(text, at, r);
    if (at != k_end)
      ++at;
    added.push_back(r);
  }
  if (added.empty())
    return RecipeOutcome{
        Refusal{in.spec.id, "",
                "the rules are already in " + path + " but the check still fails; fix by hand"}};
  audit::AuditRules after = audit::load_audit_rules(with_file(in.fs, path, text, 0640));
  for (const auto &d : after.diagnostics)
    if (d.level == audit::AuditDiagnostic::Level::error && d.loc.path == path)
      return RecipeOutcome{Refusal{in.spec.id, "",
                                   "auditctl would reject the rule at " + path + ":" +
                                       std::to_string(d.loc.line) + ": " + d.message}};
  Action a;
  a.check_id = in.spec.id;
  FileEdit e = TRY(write_edit(in.fs, path, text));
  if (!e.before) {
    e.mode = 0640;
    e.owner = "root";
    e.group = "root";
  }
  a.edits.push_back(std::move(e));
  a.summary = std::to_string(added.size()) + " audit rule(s) in " + path + ": " + added.front() +
              (added.size() > 1 ? " ..." : "");
  // auditd.service has no reload; its start runs `augenrules --load`.
  a.restart_units = {"auditd.service"};
  return RecipeOutcome{std::move(a)};
}

// --- shell-timeout -------------------------------------------------------------

Result<RecipeOutcome> shell_timeout(const RecipeInput &in) {
  long long secs = TRY(positive(in, "TMOUT"));
  std::string text = "# Written by bulwark fix: idle login shells end (read-only, exported).\n"
                     "TMOUT=" +
                     std::to_string(secs) + "\nreadonly TMOUT\nexport TMOUT\n";
  FileEdit e = TRY(write_edit(in.fs, k_tmout_dropin, text));
  if (e.before && *e.before == e.after)
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 std::string(k_tmout_dropin) +
                                     " already sets TMOUT but an earlier file wins; fix by hand"}};
  e.mode = 0644;
  e.owner = "root";
  e.group = "root";
  Action a;
  a.check_id = in.spec.id;
  a.edits.push_back(std::move(e));
  a.summary = "TMOUT=" + std::to_string(secs) + ", read-only, in " + k_tmout_dropin;
  return RecipeOutcome{std::move(a)};
}

// --- logrotate -------------------------------------------------------------------

bool script_start(std::string_view t) {
  return t == "prerotate" || t == "postrotate" || t == "firstaction" || t == "lastaction" ||
         t == "preremove";
}

// The lines (1-based) of a block's `{` and `}` in its file, the block's
// first path at line `first`; shell scripts (postrotate ... endscript) are
// skipped. 0 when not found.
struct BlockLines {
  int open = 0, close = 0;
};

BlockLines block_lines(const std::vector<std::string> &lines, int first) {
  BlockLines b;
  bool script = false;
  for (int n = first; n <= static_cast<int>(lines.size()); ++n) {
    auto t = text::trim(lines[static_cast<size_t>(n) - 1]);
    if (b.open == 0) {
      if (t.find('{') != std::string_view::npos)
        b.open = n;
      continue;
    }
    if (script) {
      script = t != "endscript";
      continue;
    }
    script = script_start(t);
    if (!script && t.starts_with("}")) {
      b.close = n;
      break;
    }
  }
  return b;
}

// The block's own line for `directive`, 0 when none.
int directive_line(const std::vector<std::string> &lines, BlockLines b,
                   std::string_view directive) {
  bool script = false;
  for (int n = b.open + 1; n < b.close; ++n) {
    auto t = text::trim(lines[static_cast<size_t>(n) - 1]);
    if (script) {
      script = t != "endscript";
      continue;
    }
    script = script_start(t);
    auto sp = t.find_first_of(" \t");
    if (t.substr(0, sp) == directive)
      return n;
  }
  return 0;
}

double period_days(logrotate::Criterion c) {
  switch (c) {
  case logrotate::Criterion::hourly: return 1.0 / 24;
  case logrotate::Criterion::daily: return 1;
  case logrotate::Criterion::weekly: return 7;
  case logrotate::Criterion::monthly: return 30;
  case logrotate::Criterion::yearly: return 365;
  case logrotate::Criterion::size: return 0;
  }
  return 0;
}

Result<RecipeOutcome> logrotate_keep(const RecipeInput &in) {
  long long days = TRY(positive(in, "days"));
  logrotate::Config lr = logrotate::load_logrotate(in.fs);
  for (const auto &d : lr.diagnostics)
    if (d.level == logrotate::Diagnostic::Level::error)
      return RecipeOutcome{Refusal{in.spec.id, "",
                                   "the logrotate configuration has errors (" + d.loc.path + ":" +
                                       std::to_string(d.loc.line) + ": " + d.message +
                                       "); fix them first"}};
  // The logs the findings name: evidence context "FILE (block at PATH:LINE)".
  std::vector<const logrotate::Block *> blocks;
  for (const Finding *f : in.findings)
    for (auto &e : f->evidence) {
      auto at = e.context.find(" (block at ");
      if (at == std::string::npos)
        continue;
      const logrotate::Block *b = lr.find(e.context.substr(0, at));
      if (b != nullptr && std::find(blocks.begin(), blocks.end(), b) == blocks.end())
        blocks.push_back(b);
    }
  if (blocks.empty())
    return RecipeOutcome{
        Refusal{in.spec.id, "", "the finding names no logrotate block to change; fix by hand"}};
  std::map<std::string, std::vector<std::string>> files;
  std::vector<std::string> summary;
  for (const logrotate::Block *b : blocks) {
    std::string where = b->loc.path + ":" + std::to_string(b->loc.line);
    const logrotate::Settings &s = b->settings;
    double period = period_days(s.criterion);
    if (period == 0)
      return RecipeOutcome{Refusal{in.spec.id, "",
                                   "the block at " + where +
                                       " rotates by size: how long that keeps a log depends on "
                                       "its volume; choose a period by hand"}};
    if (!files.count(b->loc.path)) {
      std::string t = TRY(in.fs.read_file(b->loc.path));
      std::vector<std::string> lines = text::split(t, '\n', true);
      if (!lines.empty() && lines.back().empty())
        lines.pop_back();
      files[b->loc.path] = std::move(lines);
    }
    auto &lines = files[b->loc.path];
    BlockLines bl = block_lines(lines, b->loc.line);
    if (bl.open == 0 || bl.close == 0)
      return RecipeOutcome{
          Refusal{in.spec.id, "", "cannot find the braces of the block at " + where}};
    auto indent_of = [&](int n) {
      const std::string &l = lines[static_cast<size_t>(n) - 1];
      return l.substr(0, l.find_first_not_of(" \t"));
    };
    std::string indent = bl.close > bl.open + 1 ? indent_of(bl.open + 1) : "\t";
    auto set_line = [&](const std::string &directive, int64_t value, int64_t current) {
      if (current >= value)
        return;
      std::string line = directive + " " + std::to_string(value);
      if (int n = directive_line(lines, bl, directive)) {
        lines[static_cast<size_t>(n) - 1] = indent_of(n) + line;
      } else {
        lines.insert(lines.begin() + bl.open, indent + line);
        ++bl.close;
      }
      summary.push_back(line + " in the block at " + where);
    };
    // rotate -1 keeps every old log: nothing to raise.
    if (s.rotate >= 0)
      set_line("rotate", static_cast<int64_t>(std::ceil(static_cast<double>(days) / period)),
               s.rotate);
    if (s.maxage)
      set_line("maxage", days, *s.maxage);
  }
  Action a;
  a.check_id = in.spec.id;
  for (auto &[path, lines] : files) {
    std::string t;
    for (auto &l : lines)
      t += l + "\n";
    FileEdit e = TRY(write_edit(in.fs, path, t));
    if (e.before && *e.before == e.after)
      continue;
    a.edits.push_back(std::move(e));
  }
  if (a.edits.empty())
    return RecipeOutcome{
        Refusal{in.spec.id, "", "the blocks already keep the logs long enough; fix by hand"}};
  for (auto &s : summary)
    a.summary += (a.summary.empty() ? "" : "; ") + s;
  return RecipeOutcome{std::move(a)};
}

// --- file-bits, file-owner -----------------------------------------------------------

// The absolute paths of the failing findings' evidence, in order.
std::vector<std::string> evidence_paths(const std::vector<const Finding *> &findings) {
  std::vector<std::string> out;
  for (const Finding *f : findings)
    for (auto &e : f->evidence)
      if (!e.path.empty() && e.path[0] == '/' &&
          std::find(out.begin(), out.end(), e.path) == out.end())
        out.push_back(e.path);
  return out;
}

// Does the root's `db` ("/etc/passwd", "/etc/group") have an entry with id
// `id`? Errors: the database cannot be read.
Result<bool> has_id(const RootFs &fs, const std::string &db, uint32_t id) {
  std::string text = TRY(fs.read_file(db));
  for (const auto &l : text::split(text, '\n')) {
    auto f = text::split(l, ':', true);
    if (f.size() >= 3 && f[2] == std::to_string(id))
      return true;
  }
  return false;
}

// file-bits: `set: {clear: "0002"}` clears those permission bits on the
// regular files and directories the finding names (world-writable: o-w;
// set-id files outside the distribution: u-s,g-s). Only clears, never adds;
// a link is left alone (its target is not necessarily what the check means).
Result<RecipeOutcome> file_bits(const RecipeInput &in) {
  std::string clear_s;
  for (auto &[k, v] : in.args.set)
    if (k == "clear")
      clear_s = v;
  char *end = nullptr;
  unsigned long clear = std::strtoul(clear_s.c_str(), &end, 8);
  if (clear_s.empty() || *end != '\0' || clear == 0 || clear > 07777)
    return Error{"recipe of " + in.spec.id + ": file-bits wants set: {clear: OCTAL}, not '" +
                 clear_s + "'"};
  Action a;
  a.check_id = in.spec.id;
  for (const auto &p : evidence_paths(in.findings)) {
    auto st = in.fs.lstat(p);
    if (!st) {
      if (st.error().not_found())
        continue;
      return st.error();
    }
    if (st->type != FileInfo::Type::regular && st->type != FileInfo::Type::directory)
      continue;
    uint32_t mode = st->mode & ~static_cast<uint32_t>(clear);
    if (mode == st->mode)
      continue;
    FileEdit e;
    e.kind = FileEdit::Kind::attributes;
    e.path = p;
    e.mode = mode;
    a.summary += (a.summary.empty() ? "" : "; ") + p + ": mode " + text::octal_mode(mode);
    a.edits.push_back(std::move(e));
  }
  if (a.edits.empty())
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "the finding names no regular file or directory with those "
                                 "bits; fix by hand"}};
  return RecipeOutcome{std::move(a)};
}

// file-owner: `set: {owner: root, group: root}` gives the files the finding
// names whose owner (group) has no account in the root's /etc/passwd
// (/etc/group) that owner (group). An owner that exists is kept: whose file
// it is stays a decision for a human.
Result<RecipeOutcome> file_owner(const RecipeInput &in) {
  std::string owner, group;
  for (auto &[k, v] : in.args.set) {
    if (k == "owner")
      owner = v;
    if (k == "group")
      group = v;
  }
  if (owner.empty() || group.empty())
    return Error{"recipe of " + in.spec.id + ": file-owner wants set: {owner: U, group: G}"};
  if (!lookup_id(in.fs, "/etc/passwd", owner) || !lookup_id(in.fs, "/etc/group", group))
    return RecipeOutcome{
        Refusal{in.spec.id, "", "the root has no account " + owner + " or group " + group}};
  Action a;
  a.check_id = in.spec.id;
  for (const auto &p : evidence_paths(in.findings)) {
    auto st = in.fs.lstat(p);
    if (!st) {
      if (st.error().not_found())
        continue;
      return st.error();
    }
    if (st->type != FileInfo::Type::regular && st->type != FileInfo::Type::directory)
      continue;
    FileEdit e;
    e.kind = FileEdit::Kind::attributes;
    e.path = p;
    if (!TRY(has_id(in.fs, "/etc/passwd", st->uid)))
      e.owner = owner;
    if (!TRY(has_id(in.fs, "/etc/group", st->gid)))
      e.group = group;
    if (!e.owner && !e.group)
      continue;
    a.summary += (a.summary.empty() ? "" : "; ") + p + ": owner " + (e.owner ? owner : "(kept)") +
                 ":" + (e.group ? group : "(kept)");
    a.edits.push_back(std::move(e));
  }
  if (a.edits.empty())
    return RecipeOutcome{
        Refusal{in.spec.id, "", "the finding names no file without an owner to change"}};
  return RecipeOutcome{std::move(a)};
}

// --- pwquality -----------------------------------------------------------------------

// libpwquality 1.4 reads /etc/security/pwquality.conf.d/*.conf and then
// /etc/security/pwquality.conf, the last assignment of a key winning: so
// pwquality.conf's last line of the key is edited in place, or the key is
// appended to it. `set` maps keys to values.
Result<RecipeOutcome> pwquality(const RecipeInput &in) {
  const std::string path = "/etc/security/pwquality.conf";
  std::string text = TRY(read_or_empty(in.fs, path));
  std::vector<std::string> summary;
  for (auto &[key, value] : in.args.set) {
    int at = 0, n = 0;
    std::string current;
    for (const auto &l : text::split(text, '\n', true)) {
      ++n;
      auto t = text::trim(l);
      if (t.empty() || t[0] == '#')
        continue;
      auto eq = t.find('=');
      if (eq != std::string_view::npos && text::trim(t.substr(0, eq)) == key) {
        at = n;
        current = std::string(text::trim(t.substr(eq + 1)));
      }
    }
    if (at && current == value)
      continue;
    std::string line = key + " = " + value;
    text = at ? replace_line(text, at, line) : insert_line(text, k_end, line);
    summary.push_back(line);
  }
  FileEdit e = TRY(write_edit(in.fs, path, text));
  if (summary.empty() || (e.before && *e.before == e.after))
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "the values are already set in " + path +
                                     "; the PAM stack must use pam_pwquality (pam-auth-update)"}};
  if (!e.before)
    e.mode = 0644;
  Action a;
  a.check_id = in.spec.id;
  a.edits.push_back(std::move(e));
  for (auto &s : summary)
    a.summary += (a.summary.empty() ? "" : "; ") + s;
  a.summary += " in " + path;
  return RecipeOutcome{std::move(a)};
}

// --- apt-conf, apt-source ----------------------------------------------------------------

// APT reads /etc/apt/apt.conf.d in name order and a later assignment wins:
// `set` maps option names to values, written as `Name "value";` into
// /etc/apt/apt.conf.d/99zz-bulwark (after "99-..." and "99foo" names).
Result<RecipeOutcome> recipe_apt_conf(const RecipeInput &in) {
  const std::string path = "/etc/apt/apt.conf.d/99zz-bulwark";
  std::string text = TRY(read_or_empty(in.fs, path));
  if (text.empty())
    text = "// Written by bulwark fix: read after the other apt.conf.d parts (last wins).\n";
  for (auto &[key, value] : in.args.set) {
    if (key.find_first_of(" \t\";{}") != std::string::npos ||
        value.find_first_of("\"\n") != std::string::npos)
      return Error{"recipe of " + in.spec.id + ": bad apt option " + key};
    std::string line = key + " \"" + value + "\";";
    int at = 0, n = 0;
    for (const auto &l : text::split(text, '\n', true)) {
      ++n;
      auto t = text::trim(l);
      if (t.starts_with(key) && t.size() > key.size() && (t[key.size()] == ' '))
        at = n;
    }
    text = at ? replace_line(text, at, line) : insert_line(text, k_end, line);
  }
  FileEdit e = TRY(write_edit(in.fs, path, text));
  if (e.before && *e.before == e.after)
    return RecipeOutcome{
        Refusal{in.spec.id, "", path + " already sets the options but the check still fails"}};
  if (!e.before)
    e.mode = 0644;
  Action a;
  a.check_id = in.spec.id;
  a.summary = "";
  for (auto &[key, value] : in.args.set)
    a.summary += (a.summary.empty() ? "" : "; ") + key + " \"" + value + "\"";
  a.summary += " in " + path;
  a.edits.push_back(std::move(e));
  return RecipeOutcome{std::move(a)};
}

// os.security-repo on Debian: the release's security suite in a list file
// of its own, /etc/apt/sources.list.d/bulwark-security.list, with the
// codename from /etc/os-release and the components of the main suite's
// first line. Other distributions are refused (their security archive is
// not Debian's).
Result<RecipeOutcome> apt_source(const RecipeInput &in) {
  std::string mirror;
  for (auto &[k, v] : in.args.set)
    if (k == "debian")
      mirror = v;
  if (mirror.empty())
    return Error{"recipe of " + in.spec.id + ": apt-source wants set: {debian: MIRROR}"};
  auto osr = in.fs.read_file("/etc/os-release");
  if (!osr && osr.error().not_found())
    osr = in.fs.read_file("/usr/lib/os-release");
  if (!osr)
    return osr.error();
  std::string id, codename;
  for (const auto &l : text::split(*osr, '\n')) {
    auto eq = l.find('=');
    if (eq == std::string::npos)
      continue;
    std::string k = l.substr(0, eq), v = l.substr(eq + 1);
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    if (k == "ID")
      id = v;
    if (k == "VERSION_CODENAME")
      codename = v;
  }
  if (id != "debian" || codename.empty() ||
      codename.find_first_not_of("abcdefghijklmnopqrstuvwxyz") != std::string::npos)
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "not a Debian release with a codename (ID=" + id +
                                     "): add its security archive by hand"}};
  // The components of the first "deb ... CODENAME ..." line.
  std::string components = "main";
  auto list = in.fs.read_file("/etc/apt/sources.list");
  if (list)
    for (const auto &l : text::split(*list, '\n')) {
      auto w = text::split(text::trim(l), ' ');
      if (w.size() >= 4 && w[0] == "deb" && w[2] == codename) {
        components.clear();
        for (size_t i = 3; i < w.size(); ++i)
          components += (components.empty() ? "" : " ") + w[i];
        break;
      }
    }
  std::string line = "deb " + mirror + " " + codename + "-security " + components;
  const std::string path = "/etc/apt/sources.list.d/bulwark-security.list";
  FileEdit e = TRY(write_edit(in.fs, path,
                              "# Written by bulwark fix: the release's security "
                              "updates.\n" +
                                  line + "\n"));
  if (e.before && *e.before == e.after)
    return RecipeOutcome{
        Refusal{in.spec.id, "", path + " already lists the suite but the check still fails"}};
  e.mode = 0644;
  Action a;
  a.check_id = in.spec.id;
  a.summary = line + " in " + path;
  a.edits.push_back(std::move(e));
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_host_kinds[] = {
    {"sudoers-dropin", sudoers_dropin}, {"auditd-rule", auditd_rule},
    {"shell-timeout", shell_timeout},   {"logrotate", logrotate_keep},
    {"file-bits", file_bits},           {"file-owner", file_owner},
    {"pwquality", pwquality},           {"apt-conf", recipe_apt_conf},
    {"apt-source", apt_source}};

} // namespace

std::span<const RecipeKind> host_recipes() {
  return k_host_kinds;
}

} // namespace bulwark::fix
