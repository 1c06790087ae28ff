// bulwark fix (issue 18, docs/fix.md): the command line. Without --apply it
// prints the plan; --apply carries it out as one transaction; --rollback and
// --list manage the transactions. Every run first rolls back an apply that
// was interrupted (recover()).

#include <bulwark/core/result.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/fix/ansible.hpp>
#include <bulwark/fix/cli.hpp>
#include <bulwark/fix/diff.hpp>
#include <bulwark/fix/engine.hpp>
#include <bulwark/fix/transaction.hpp>

#include <CLI/CLI.hpp>
#include <iostream>
#include <nlohmann/json.hpp>
#include <spawn.h>
#include <sys/wait.h>
#include <unistd.h> // environ

namespace bulwark::fix {

namespace {

using nlohmann::ordered_json;

// Exit codes (docs/fix.md).
constexpr int k_exit_clean = 0;   // nothing to fix, or everything applied / rolled back
constexpr int k_exit_pending = 1; // fixes planned (not applied), refused or without a recipe
constexpr int k_exit_usage = 2;
constexpr int k_exit_cannot = 3; // the audit, the apply or the rollback failed

struct FixOptions {
  std::string root = "/";
  std::vector<std::string> profiles;
  std::vector<std::string> only, skip;
  std::string format = "text";
  bool apply = false;
  bool restart = false;
  std::string rollback_id;
  bool list = false;
  bool perf = false;
};
FixOptions g_fix_opts;
CLI::App *g_cmd = nullptr;

// The text as a diff shows it: a secret file's second field (shadow's
// password hash) masked on every line, so no hash reaches a terminal or log.
std::optional<std::string> diff_shown_text(const FileEdit &e, std::optional<std::string> text) {
  // A compose project's .env holds its passwords and tokens, and the diff's
  // context lines would print them (into a CI log): every value but
  // Compose's own COMPOSE_* settings is shown as (hidden).
  const bool env = e.path.ends_with("/.env") || e.path == ".env";
  if ((!e.secret && !env) || !text)
    return text;
  std::string out;
  size_t start = 0;
  while (start < text->size()) {
    size_t nl = text->find('\n', start);
    std::string line =
        text->substr(start, nl == std::string::npos ? std::string::npos : nl - start);
    start = nl == std::string::npos ? text->size() : nl + 1;
    if (env) {
      std::string_view t = text::trim(line);
      size_t eq = line.find('=');
      if (!t.empty() && t.front() != '#' && eq != std::string::npos) {
        std::string key(text::trim(std::string_view(line).substr(0, eq)));
        if (key.starts_with("export "))
          key = std::string(text::trim(std::string_view(key).substr(7)));
        if (!key.starts_with("COMPOSE_"))
          line = line.substr(0, eq + 1) + "(hidden)";
      }
    } else {
      size_t c1 = line.find(':');
      size_t c2 = c1 == std::string::npos ? c1 : line.find(':', c1 + 1);
      if (c2 != std::string::npos && c2 > c1 + 1)
        line.replace(c1 + 1, c2 - c1 - 1, "(hash)");
    }
    out += line + (nl == std::string::npos ? "" : "\n");
  }
  return out;
}

void print_text(const Plan &plan, std::ostream &out) {
  for (auto &a : plan.actions) {
    out << "== " << a.check_id << (a.subject.empty() ? "" : " [" + a.subject + "]") << ": "
        << a.summary << "\n";
    for (auto &e : a.edits) {
      if (e.kind == FileEdit::Kind::attributes) {
        out << "   " << e.path << ":";
        if (e.mode)
          out << " mode " << text::octal_mode(*e.mode);
        if (e.owner || e.group)
          out << " owner " << (e.owner ? *e.owner : "-") << ":" << (e.group ? *e.group : "-");
        out << "\n";
        continue;
      }
      if (e.kind == FileEdit::Kind::symlink) {
        if (e.before)
          out << "   " << e.path << " -> " << *e.before << " (symbolic link removed)\n";
        if (!e.after.empty())
          out << "   " << e.path << " -> " << e.after << " (new symbolic link)\n";
        continue;
      }
      std::optional<std::string> after;
      if (e.kind == FileEdit::Kind::write)
        after = e.after;
      out << unified_diff(e.path, diff_shown_text(e, e.before), diff_shown_text(e, after));
    }
    for (auto &c : a.commands) {
      out << "   $";
      for (auto &w : c.argv)
        out << " " << w;
      out << "\n";
    }
    if (!a.validators.empty()) {
      out << "   validated by:";
      for (auto v : a.validators)
        out << " " << validator_name(v);
      out << "\n";
    }
    if (!a.restart_units.empty()) {
      out << "   takes effect after a reload of:";
      for (auto &u : a.restart_units)
        out << " " << u;
      out << "\n";
    }
  }
  for (auto &r : plan.refused)
    out << "refused " << r.check_id << (r.subject.empty() ? "" : " [" + r.subject + "]") << ": "
        << r.reason << "\n";
  if (!plan.unfixable.empty()) {
    out << "no automatic fix (see bulwark explain ID):";
    for (auto &u : plan.unfixable)
      out << " " << u;
    out << "\n";
  }
  out << plan.actions.size() << " fix(es) planned, " << plan.refused.size() << " refused, "
      << plan.unfixable.size() << " without a recipe\n";
}

ordered_json to_json(const Plan &plan) {
  ordered_json j;
  j["schema"] = "bulwark.fix/v1";
  j["root"] = plan.root;
  j["profile"] = plan.profile;
  ordered_json actions = ordered_json::array();
  for (auto &a : plan.actions) {
    ordered_json ja;
    ja["check"] = a.check_id;
    ja["subject"] = a.subject;
    if (!a.subjects.empty())
      ja["subjects"] = a.subjects;
    ja["summary"] = a.summary;
    ordered_json edits = ordered_json::array();
    for (auto &e : a.edits) {
      ordered_json je;
      je["kind"] = e.kind == FileEdit::Kind::write     ? "write"
                   : e.kind == FileEdit::Kind::remove  ? "remove"
                   : e.kind == FileEdit::Kind::symlink ? "symlink"
                                                       : "attributes";
      je["path"] = e.path;
      if (e.kind == FileEdit::Kind::symlink) {
        if (e.before)
          je["target_before"] = *e.before;
        if (!e.after.empty())
          je["target"] = e.after;
      } else if (e.kind != FileEdit::Kind::attributes) {
        std::optional<std::string> after;
        if (e.kind == FileEdit::Kind::write)
          after = e.after;
        je["diff"] = unified_diff(e.path, diff_shown_text(e, e.before), diff_shown_text(e, after));
      }
      if (e.mode)
        je["mode"] = text::octal_mode(*e.mode);
      if (e.owner)
        je["owner"] = *e.owner;
      if (e.group)
        je["group"] = *e.group;
      edits.push_back(je);
    }
    ja["edits"] = edits;
    ordered_json cmds = ordered_json::array();
    for (auto &c : a.commands)
      cmds.push_back(c.argv);
    ja["commands"] = cmds;
    ordered_json vals = ordered_json::array();
    for (auto v : a.validators)
      vals.push_back(validator_name(v));
    ja["validators"] = vals;
    ja["restart_units"] = a.restart_units;
    actions.push_back(ja);
  }
  j["actions"] = actions;
  ordered_json refused = ordered_json::array();
  for (auto &r : plan.refused)
    refused.push_back({{"check", r.check_id}, {"subject", r.subject}, {"reason", r.reason}});
  j["refused"] = refused;
  j["unfixable"] = plan.unfixable;
  return j;
}

// systemctl reload-or-restart UNIT on this host (--restart, root "/").
int restart_unit(const std::string &unit) {
  std::vector<std::string> argv = {"systemctl", "reload-or-restart", unit};
  std::vector<char *> args;
  args.reserve(argv.size() + 1);
  for (auto &a : argv)
    args.push_back(a.data());
  args.push_back(nullptr);
  pid_t pid = 0;
  if (::posix_spawnp(&pid, "systemctl", nullptr, nullptr, args.data(), environ) != 0)
    return -1;
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

int run_fix() {
  const FixOptions &o = g_fix_opts;
  if (o.format != "text" && o.format != "json" && o.format != "ansible") {
    std::cerr << "bulwark fix: --format is text, json or ansible\n";
    return k_exit_usage;
  }
  if (o.restart && !o.apply) {
    std::cerr << "bulwark fix: --restart goes with --apply\n";
    return k_exit_usage;
  }
  if (o.list) {
    auto all = list_transactions(o.root);
    if (!all) {
      std::cerr << "bulwark fix: " << all.error().to_string() << "\n";
      return k_exit_cannot;
    }
    for (auto &t : *all) {
      std::cout << t.id << "  " << t.state << "  " << t.created << " ";
      for (auto &c : t.checks)
        std::cout << " " << c;
      std::cout << "\n";
    }
    return k_exit_clean;
  }
  // An apply that did not finish is undone before anything else.
  auto recovered = recover(o.root);
  if (!recovered) {
    std::cerr << "bulwark fix: cannot roll back an interrupted apply: "
              << recovered.error().to_string() << "\n";
    return k_exit_cannot;
  }
  for (auto &id : *recovered)
    std::cerr << "bulwark fix: rolled back the interrupted transaction " << id << "\n";
  if (!o.rollback_id.empty()) {
    auto ids = rollback(o.root, o.rollback_id);
    if (!ids) {
      std::cerr << "bulwark fix: " << ids.error().to_string() << "\n";
      return k_exit_cannot;
    }
    for (auto &id : *ids)
      std::cout << "rolled back " << id << "\n";
    return k_exit_clean;
  }
  PlanRequest req;
  req.root = o.root;
  req.profiles = o.profiles;
  req.only = o.only;
  req.skip = o.skip;
  PlanStats stats;
  auto plan = make_plan(req, &stats);
  if (!plan) {
    std::cerr << "bulwark fix: " << plan.error().to_string() << "\n";
    return plan.error().path.empty() && plan.error().sys_errno == 0 ? k_exit_usage : k_exit_cannot;
  }
  if (o.perf)
    std::cerr << "bulwark fix: audit " << stats.audit_ms << " ms, plan " << stats.plan_ms << " ms, "
              << stats.reaudits << " re-audit(s), " << stats.failing_checks
              << " failing check(s)\n";
  if (o.format == "json")
    std::cout << to_json(*plan).dump(2) << "\n";
  else if (o.format == "ansible")
    std::cout << render_ansible(*plan);
  else
    print_text(*plan, std::cout);
  bool leftovers = !plan->refused.empty() || !plan->unfixable.empty();
  if (!o.apply)
    return plan->actions.empty() && !leftovers ? k_exit_clean : k_exit_pending;
  if (plan->actions.empty())
    return leftovers ? k_exit_pending : k_exit_clean;
  auto id = apply_plan(*plan);
  if (!id) {
    std::cerr << "bulwark fix: apply failed: " << id.error().to_string() << "\n";
    return k_exit_cannot;
  }
  std::cerr << "bulwark fix: applied transaction " << *id << " (undo: bulwark fix --rollback "
            << *id << ")\n";
  std::vector<std::string> units;
  for (auto &a : plan->actions)
    for (auto &u : a.restart_units)
      if (std::find(units.begin(), units.end(), u) == units.end())
        units.push_back(u);
  for (auto &u : units) {
    if (o.restart && o.root == "/") {
      int rc = restart_unit(u);
      std::cerr << "bulwark fix: systemctl reload-or-restart " << u
                << (rc == 0 ? ": done\n" : ": FAILED\n");
    } else {
      std::cerr << "bulwark fix: " << u << " must be reloaded for the fix to take effect"
                << (o.root == "/" ? " (--restart does it)\n" : "\n");
    }
  }
  return leftovers ? k_exit_pending : k_exit_clean;
}

} // namespace

void add_commands(CLI::App &app) {
  auto *f = app.add_subcommand("fix", "plan, apply and roll back fixes of failing checks");
  g_cmd = f;
  f->add_option("--root", g_fix_opts.root, "an offline root filesystem instead of /");
  f->add_option("--profile", g_fix_opts.profiles, "profile name or file (repeatable)");
  f->add_option("--only", g_fix_opts.only, "only these checks (ids, domains or globs)")
      ->delimiter(',');
  f->add_option("--skip", g_fix_opts.skip, "skip these checks")->delimiter(',');
  f->add_option("--format", g_fix_opts.format, "text, json or ansible");
  f->add_flag("--apply", g_fix_opts.apply, "apply the plan as one transaction");
  f->add_flag("--restart", g_fix_opts.restart, "reload the units the fixes need (root / only)");
  f->add_option("--rollback", g_fix_opts.rollback_id, "roll back transaction ID, or all");
  f->add_flag("--list", g_fix_opts.list, "list the transactions");
  f->add_flag("--perf", g_fix_opts.perf, "print the plan's timings on stderr");
}

std::optional<int> run_commands(CLI::App &app) {
  if (g_cmd == nullptr || !app.got_subcommand(g_cmd))
    return std::nullopt;
  return run_fix();
}

} // namespace bulwark::fix
