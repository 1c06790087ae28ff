#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/cli/cli.hpp>
#include <bulwark/core/atomic_file.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/heap.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/fim/cli.hpp>
#include <bulwark/fix/cli.hpp>
#include <bulwark/live/docker.hpp>
#include <bulwark/report/report.hpp>
#include <bulwark/watch/cli.hpp>

#include <CLI/CLI.hpp>
#include <algorithm>
#include <cctype>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fmt/format.h>
#include <iostream>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <tuple>
#include <unistd.h>

namespace bulwark::cli {

namespace {

std::vector<std::string> split_ids(const std::vector<std::string> &in) {
  std::vector<std::string> out;
  for (auto &s : in)
    for (auto &p : text::split(s, ','))
      out.push_back(std::string(text::trim(p)));
  return out;
}

bool use_color(bool to_file) {
  if (to_file || std::getenv("NO_COLOR") != nullptr)
    return false;
  const char *term = std::getenv("TERM");
  if (term != nullptr && std::string_view(term) == "dumb")
    return false;
  return ::isatty(STDOUT_FILENO) == 1;
}

// stdout is a destination like a file: a report that did not reach it (a
// full disk, a closed pipe, `> /dev/full`, a file size limit) is exit 3 with
// a message, never exit 0 with no report.
int finish_stdout() {
  if (std::fflush(stdout) != 0 || std::ferror(stdout)) {
    int err = errno;
    std::cerr << "bulwark: cannot write the report to stdout: " << std::strerror(err ? err : EIO)
              << "\n";
    return exit_code::k_cannot_run;
  }
  return 0;
}

int write_report_output(const std::string &data, const std::string &output) {
  if (output.empty()) {
    std::fwrite(data.data(), 1, data.size(), stdout);
    return finish_stdout();
  }
  auto r = write_file_atomic(output, data);
  if (!r) {
    std::cerr << "bulwark: " << r.error().to_string() << "\n";
    return exit_code::k_cannot_run;
  }
  return 0;
}

constexpr std::string_view k_formats[] = {"text", "json", "sarif", "junit", "markdown", "html"};

bool known_format(std::string_view f) {
  for (auto k : k_formats)
    if (k == f)
      return true;
  return false;
}

std::string render(const AuditReport &r, std::string_view format, bool color) {
  if (format == "json")
    return report::render_json(r);
  if (format == "sarif")
    return report::render_sarif(r);
  if (format == "junit")
    return report::render_junit(r);
  if (format == "markdown")
    return report::render_markdown(r);
  if (format == "html")
    return report::render_html(r);
  return report::render_text(r, color);
}

// A report in `format` to `output` ("" = stdout). JSON is written as it is
// rendered; the other formats are rendered whole first.
int emit_report(const AuditReport &r, std::string_view format, bool color,
                const std::string &output) {
  if (format != "json")
    return write_report_output(render(r, format, color), output);
  if (output.empty()) {
    report::render_json(
        r, [](std::string_view piece) { std::fwrite(piece.data(), 1, piece.size(), stdout); });
    return finish_stdout();
  }
  AtomicWriter w;
  auto r_open = w.open(output);
  if (!r_open) {
    std::cerr << "bulwark: " << r_open.error().to_string() << "\n";
    return exit_code::k_cannot_run;
  }
  report::render_json(r, [&](std::string_view piece) { (void)w.write(piece); });
  if (auto c = w.commit(); !c) {
    std::cerr << "bulwark: " << c.error().to_string() << "\n";
    return exit_code::k_cannot_run;
  }
  return 0;
}

// One destination of the report: `--output FILE` takes --format,
// `--output FORMAT=FILE` names its own.
struct OutputSpec {
  std::string format;
  std::string path;
};

std::vector<OutputSpec> parse_outputs(const std::vector<std::string> &args,
                                      const std::string &format) {
  std::vector<OutputSpec> out;
  for (auto &a : args) {
    auto eq = a.find('=');
    if (eq != std::string::npos && known_format(a.substr(0, eq)))
      out.push_back({a.substr(0, eq), a.substr(eq + 1)});
    else
      out.push_back({format, a});
  }
  return out;
}

std::string facts_names() {
  std::string out;
  for (const Domain &d : domains())
    if (d.facts != nullptr)
      out += (out.empty() ? "" : ", ") + std::string(d.facts_name);
  return out;
}

// Options that describe the target beyond its root, shared by audit and facts.
void add_target_options(CLI::App *cmd, TargetOptions &t) {
  cmd->add_flag("--live", t.live,
                "also probe the running system (processes, listening sockets, local services); "
                "only with the root /");
  // One value per occurrence: `facts --compose f.yml compose` names the
  // domain after the file, as `docker compose -f a -f b` takes one each.
  cmd->add_option("--compose", t.compose_files,
                  "a compose file of one project, in `docker compose -f` order (repeatable); "
                  "default: discover projects under the root")
      ->allow_extra_args(false);
  cmd->add_option("--env-file", t.env_files,
                  "an environment file for compose interpolation, instead of the project's .env "
                  "(repeatable)")
      ->allow_extra_args(false);
  cmd->add_flag("--host-env", t.host_env,
                "interpolate compose files with this process's environment even when the root "
                "is not / (by default only .env and --env-file are used for an offline root)");
  cmd->add_option("--docker", t.docker_host,
                  "the Docker Engine API to read running containers, images and networks from "
                  "(unix:///path/to/docker.sock); default with --live: /var/run/docker.sock "
                  "when it exists");
  cmd->add_option("--postgres-dsn", t.postgres_dsn,
                  "with --live: a libpq connection string for reading pg_settings, "
                  "pg_hba_file_rules and roles (default: the PG* environment variables)");
}

} // namespace

int run(int argc, char **argv) {
  // Past a file size limit (ulimit -f) a write fails with EFBIG, which is
  // reported (exit 3, temporary file removed), instead of SIGXFSZ killing
  // the process half way through a report.
  std::signal(SIGXFSZ, SIG_IGN);
  try {
    CLI::App app{"bulwark: audit Linux servers against their hardening guides"};
    app.require_subcommand(1);
    app.set_version_flag("--version", std::string("bulwark ") + BULWARK_VERSION);

    std::string root = "/";
    std::vector<std::string> profiles, only, skip;
    std::string format = "text", fail_on = "high", waivers_file, baseline_file;
    std::vector<std::string> outputs;
    bool fail_on_new = false, perf = false;
    TargetOptions target;

    auto *audit = app.add_subcommand("audit", "audit the target against the selected profile");
    audit->add_option("--root", root, "audit an offline root filesystem instead of /");
    audit
        ->add_option(
            "--profile", profiles,
            "built-in profile (baseline, vpn-production, lms-server) or YAML file; repeatable")
        ->allow_extra_args(false);
    audit
        ->add_option("--only", only, "run only these checks (ids, domains, globs; comma-separated)")
        ->allow_extra_args(false);
    audit->add_option("--skip", skip, "skip these checks (ids, domains, globs; comma-separated)")
        ->allow_extra_args(false);
    audit
        ->add_option("--format", format,
                     "report format on stdout or for --output FILE: text, json, sarif, junit, "
                     "markdown, html")
        ->check(CLI::IsMember({"text", "json", "sarif", "junit", "markdown", "html"}));
    audit
        ->add_option("--output", outputs,
                     "FILE: write the --format report to FILE instead of stdout; FORMAT=FILE: "
                     "also write that format to FILE (repeatable; each written atomically)")
        ->allow_extra_args(false);
    audit
        ->add_option("--fail-on", fail_on,
                     "exit 1 when a check of this severity or above fails (critical, high, "
                     "medium, low, info, none); waived findings never count")
        ->check(CLI::IsMember({"critical", "high", "medium", "low", "info", "none"}));
    audit->add_option("--waivers", waivers_file,
                      "YAML file of accepted findings (check, subject, justification, owner, "
                      "expires YYYY-MM-DD)");
    audit->add_option("--baseline", baseline_file,
                      "a previous `--format json` report: report new, fixed and remaining "
                      "findings");
    audit->add_flag("--fail-on-new", fail_on_new,
                    "with --baseline: exit 1 only for new failures at or above --fail-on");
    audit->add_flag("--perf", perf,
                    "print on stderr how long each model took to load and each check to run");
    add_target_options(audit, target);

    std::string checks_profile;
    auto *checks =
        app.add_subcommand("checks", "list the catalogue with severities and parameters");
    checks->add_option("--profile", checks_profile, "show parameters as this profile sets them");
    checks->add_option("--format", format, "text or json")->check(CLI::IsMember({"text", "json"}));

    std::string explain_id;
    auto *explain = app.add_subcommand("explain", "rationale, guide references and fix of a check");
    explain->add_option("id", explain_id, "check id")->required();

    std::string facts_domain;
    auto *facts =
        app.add_subcommand("facts", "the effective configuration bulwark parsed, as JSON");
    facts->add_option("--root", root, "an offline root filesystem instead of /");
    facts->add_option("domain", facts_domain, "one of " + facts_names() + " (default: all)");
    add_target_options(facts, target);

    app.add_subcommand("version", "print the version");
    watch::add_commands(app);
    fim::add_commands(app);
    fix::add_commands(app);

    try {
      app.parse(argc, argv);
    } catch (const CLI::ParseError &e) {
      int rc = app.exit(e);
      return rc == 0 ? 0 : exit_code::k_usage;
    }

    // fim needs no catalogue: parsing it was 2-3% of a --fast check.
    if (auto rc = fim::run_commands(app))
      return *rc;

    const Catalogue &cat = Catalogue::builtin();

    if (app.got_subcommand("version")) {
      std::cout << "bulwark " << BULWARK_VERSION << "\n";
      return 0;
    }

    if (app.got_subcommand("explain")) {
      const CheckSpec *c = cat.find(explain_id);
      if (c == nullptr) {
        std::cerr << "bulwark: unknown check '" << explain_id << "' (see `bulwark checks`)\n";
        return exit_code::k_usage;
      }
      std::cout << c->id << " (" << to_string(c->severity) << ")\n  " << c->title << "\n\nWhy:\n  "
                << c->rationale << "\n\nFix:\n  " << c->fix << "\n\nReferences:\n";
      for (auto &r : c->references)
        std::cout << "  - " << r << "\n";
      if (c->recipe) {
        // The automatic fix (`bulwark fix`), as the catalogue has it.
        std::cout << "\nAutomatic fix (bulwark fix): " << c->recipe->kind;
        for (auto &[k, v] : c->recipe->set)
          std::cout << " " << k << "=" << v;
        for (auto &[k, v] : c->recipe->options)
          std::cout << " " << k << "=" << v;
        std::cout << "\n";
      } else {
        std::cout << "\nAutomatic fix (bulwark fix): none; fix it by hand\n";
      }
      std::cout << "\nUnder the guides' profiles:\n";
      for (auto &name : builtin_profile_names()) {
        auto prof = apply_profile(cat, Profile{}, name);
        if (prof && !prof->guide.empty())
          std::cout << "  " << name << " (guide " << prof->guide << "): "
                    << (beyond_guide(*prof, *c) ? "beyond the guide, reported as warn at most"
                                                : "the guide asks for it; it can fail")
                    << "\n";
      }
      if (!c->parameters.empty()) {
        std::cout << "\nParameters (profiles may set them):\n";
        for (auto &p : c->parameters) {
          std::cout << "  " << p.name << " = " << param_to_string(p.default_value) << "  "
                    << p.description;
          for (auto &name : builtin_profile_names()) {
            auto prof = apply_profile(cat, Profile{}, name);
            if (prof)
              if (const ParamValue *v = prof->param(c->id, p.name))
                std::cout << "; " << name << ": " << param_to_string(*v);
          }
          std::cout << "\n";
        }
      }
      return 0;
    }

    if (app.got_subcommand("checks")) {
      // Without --profile, the values an audit without --profile uses: the
      // baseline's, not the catalogue's bare defaults.
      Profile prof;
      {
        auto p = apply_profile(cat, Profile{},
                               checks_profile.empty() ? std::string("baseline") : checks_profile);
        if (!p) {
          std::cerr << "bulwark: " << p.error().to_string() << "\n";
          return exit_code::k_usage;
        }
        prof = *p;
      }
      if (format == "json") {
        nlohmann::ordered_json j = nlohmann::ordered_json::array();
        for (auto &c : cat.checks()) {
          nlohmann::ordered_json params = nlohmann::ordered_json::object();
          for (auto &p : c.parameters)
            if (const ParamValue *v = prof.param(c.id, p.name))
              params[p.name] = param_to_string(*v);
          nlohmann::ordered_json entry = {{"id", c.id},
                                          {"title", c.title},
                                          {"severity", to_string(c.severity)},
                                          {"enabled", prof.disabled.count(c.id) == 0},
                                          {"parameters", params},
                                          {"references", c.references}};
          if (beyond_guide(prof, c))
            entry["beyond_guide"] = prof.guide;
          j.push_back(std::move(entry));
        }
        std::cout << j.dump(2) << "\n";
        return 0;
      }
      for (auto &c : cat.checks()) {
        std::string params;
        for (auto &p : c.parameters)
          if (const ParamValue *v = prof.param(c.id, p.name))
            params += " " + p.name + "=" + param_to_string(*v);
        std::cout << fmt::format(
            "{:<32} {:<8} {}{}{}{}\n", c.id, to_string(c.severity), c.title,
            params.empty() ? "" : "  [" + params.substr(1) + "]",
            prof.disabled.count(c.id) ? "  (disabled)" : "",
            beyond_guide(prof, c) ? "  (beyond guide " + prof.guide + ": at most warn)" : "");
      }
      return 0;
    }

    if (auto rc = watch::run_commands(app))
      return *rc;
    if (auto rc = fix::run_commands(app))
      return *rc;

    if (app.got_subcommand("facts")) {
      RootFs fs(root); // opened once, from its real path (relative: from here)
      if (!fs.root_status()) {
        std::cerr << "bulwark: --root " << root << " is not a directory\n";
        return exit_code::k_usage;
      }
      Context ctx(fs, target);
      nlohmann::ordered_json j;
      bool found = false;
      for (const Domain &d : domains()) {
        if (d.facts == nullptr || (!facts_domain.empty() && facts_domain != d.facts_name))
          continue;
        j[std::string(d.facts_name)] = d.facts(ctx);
        found = true;
      }
      if (!found) {
        std::cerr << "bulwark: no facts for domain '" << facts_domain
                  << "' (known: " << facts_names() << ")\n";
        return exit_code::k_usage;
      }
      std::cout << j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) << "\n";
      std::cout.flush();
      return finish_stdout();
    }

    // audit: request, waivers, evaluation, baseline, reports, exit code.
    if (target.live) {
      char *real = ::realpath(root.c_str(), nullptr);
      bool host = real != nullptr && std::string_view(real) == "/";
      std::free(real);
      if (!host) {
        std::cerr << "bulwark: --live probes the running system; it cannot audit --root " << root
                  << "\n";
        return exit_code::k_usage;
      }
    }
    if (fail_on_new && baseline_file.empty()) {
      std::cerr << "bulwark: --fail-on-new needs --baseline\n";
      return exit_code::k_usage;
    }
    // An option given with nothing in it is a mistake, not "everything":
    // `--only ''` (an unset CI variable) must not run every check.
    for (auto [flag, given, ids] :
         {std::tuple{"--only", audit->count("--only") > 0, split_ids(only)},
          {"--skip", audit->count("--skip") > 0, split_ids(skip)}})
      if (given &&
          (ids.empty() || std::any_of(ids.begin(), ids.end(), [](auto &i) { return i.empty(); }))) {
        std::cerr << "bulwark: " << flag << " with an empty check id\n";
        return exit_code::k_usage;
      }
    if (!target.docker_host.empty()) {
      if (auto sock = live::docker_socket_path(target.docker_host); !sock) {
        std::cerr << "bulwark: " << text::printable(sock.error().message) << "\n";
        return exit_code::k_usage;
      }
    }
    if (!target.env_files.empty() && target.compose_files.empty()) {
      std::cerr << "bulwark: --env-file applies to the project named with --compose; "
                   "give --compose too\n";
      return exit_code::k_usage;
    }
    for (auto &o : outputs) {
      // FORMAT=FILE with a FORMAT that is a word but no format we write is a
      // typo, not a file name with '=' in it (that one is written ./a=b).
      auto eq = o.find('=');
      std::string head = eq == std::string::npos ? "" : o.substr(0, eq);
      if (!head.empty() && !known_format(head) && std::all_of(head.begin(), head.end(), [](char c) {
            return std::isalnum((unsigned char)c);
          })) {
        std::cerr << "bulwark: --output " << text::printable(o) << ": unknown format '"
                  << text::printable(head)
                  << "' (text, json, sarif, junit, markdown, html); a file whose name has '=' is "
                     "written ./NAME\n";
        return exit_code::k_usage;
      }
    }
    std::vector<OutputSpec> dests = parse_outputs(outputs, format);
    for (auto &d : dests)
      if (d.path.empty()) {
        std::cerr << "bulwark: --output " << d.format << "= needs a file name\n";
        return exit_code::k_usage;
      }
    AuditRequest req;
    req.root = root;
    req.profiles = profiles;
    req.only = split_ids(only);
    req.skip = split_ids(skip);
    req.live = target.live;
    req.compose_files = target.compose_files;
    req.env_files = target.env_files;
    req.postgres_dsn = target.postgres_dsn;
    req.host_env = target.host_env;
    req.docker_host = target.docker_host;
    if (!waivers_file.empty()) {
      auto w = load_waivers(waivers_file);
      if (!w) {
        std::cerr << "bulwark: " << w.error().to_string() << "\n";
        return exit_code::k_usage;
      }
      req.waivers = std::move(*w);
    }
    // A large audit builds its report from 100 MB of small objects; grown
    // page by page the heap cost a third of the run in page faults.
    prepare_heap_for_batch();
    auto report = run_audit(req);
    if (!report) {
      std::cerr << "bulwark: " << report.error().to_string() << "\n";
      return exit_code::k_usage;
    }
    if (perf)
      std::cerr << render_perf(report->perf, report->duration_ms);
    if (!baseline_file.empty()) {
      auto b = report::load_baseline(*report, baseline_file);
      if (!b) {
        std::cerr << "bulwark: " << b.error().to_string() << "\n";
        return exit_code::k_usage;
      }
      report->baseline = std::move(*b);
    }
    // stdout carries --format unless a plain `--output FILE` took it.
    bool plain_output = false;
    for (auto &o : outputs)
      plain_output = plain_output || o.find('=') == std::string::npos ||
                     !known_format(o.substr(0, o.find('=')));
    if (!plain_output)
      if (int rc = emit_report(*report, format, use_color(false), ""); rc != 0)
        return rc;
    int write_rc = 0;
    for (auto &d : dests)
      if (int rc = emit_report(*report, d.format, false, d.path); rc != 0)
        write_rc = rc;
    if (write_rc != 0)
      return write_rc;
    if (fail_on == "none")
      return 0;
    Severity threshold = *parse_severity(fail_on);
    bool failed = fail_on_new ? new_fails_at(*report, threshold) : fails_at(*report, threshold);
    return failed ? exit_code::k_findings : 0;
  } catch (const FatalError &e) {
    std::cerr << "bulwark: " << e.what() << "\n";
    return e.exit_code();
  } catch (const std::exception &e) {
    std::cerr << "bulwark: internal error: " << e.what() << "\n";
    return exit_code::k_cannot_run;
  }
}

} // namespace bulwark::cli
