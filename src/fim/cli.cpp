// bulwark fim init|check|update (issue 17): the command line. init scans
// and writes a (signed) baseline; check scans and compares with it; update
// does both, replacing the baseline with what it found.

#include <bulwark/core/atomic_file.hpp>
#include <bulwark/core/hostfs.hpp>
#include <bulwark/core/walk.hpp>
#include <bulwark/fim/cli.hpp>
#include <bulwark/fim/compare.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/fim/fim.hpp>

#include <CLI/CLI.hpp>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <fmt/format.h>
#include <iostream>
#include <sys/stat.h>

namespace bulwark::fim {

namespace {

// monitoring.file-integrity looks for /var/lib/bulwark/fim/baseline*.
constexpr const char *k_default_db = "/var/lib/bulwark/fim/baseline.db";
constexpr size_t k_max_db = size_t{4} << 30;

struct FimOptions {
  std::string command;
  std::vector<std::string> paths;
  std::string root = "/";
  std::string config;
  std::string aide_config;
  std::string db = k_default_db;
  std::string key;
  std::string pubkey;
  bool allow_unsigned = false;
  bool fast = false;
  std::string format = "text";
  std::string output;
  std::string metrics;
  unsigned threads = 0;
};

FimOptions g_fim_opts;

int fail(const std::string &msg, int code) {
  std::cerr << "bulwark fim: " << msg << "\n";
  return code;
}

Result<Policy> load_policy() {
  if (!g_fim_opts.aide_config.empty())
    return Policy::load_aide_config(g_fim_opts.aide_config);
  if (!g_fim_opts.config.empty())
    return Policy::load_aide_config(g_fim_opts.config);
  return Policy::builtin(RootFs(g_fim_opts.root));
}

bool in_scope(const std::string &path) {
  if (g_fim_opts.paths.empty())
    return true;
  for (auto &o : g_fim_opts.paths)
    if (o == "/" || path == o ||
        (path.size() > o.size() && path.compare(0, o.size(), o) == 0 && path[o.size()] == '/'))
      return true;
  return false;
}

std::string metrics_text(const Comparison &c, size_t errors, int64_t baseline) {
  size_t added = 0, removed = 0, changed = 0;
  for (auto &ch : c.changes)
    ++(ch.kind == Change::Kind::added     ? added
       : ch.kind == Change::Kind::removed ? removed
                                          : changed);
  std::string s;
  s += "# HELP bulwark_fim_changes Entries that differ from the file-integrity baseline.\n";
  s += "# TYPE bulwark_fim_changes gauge\n";
  s += fmt::format("bulwark_fim_changes{{change=\"added\"}} {}\n", added);
  s += fmt::format("bulwark_fim_changes{{change=\"removed\"}} {}\n", removed);
  s += fmt::format("bulwark_fim_changes{{change=\"changed\"}} {}\n", changed);
  s += "# HELP bulwark_fim_unverifiable Entries that could not be read or changed while read.\n";
  s += "# TYPE bulwark_fim_unverifiable gauge\n";
  s += fmt::format("bulwark_fim_unverifiable {}\n", errors);
  s += "# HELP bulwark_fim_entries Entries checked.\n# TYPE bulwark_fim_entries gauge\n";
  s += fmt::format("bulwark_fim_entries {}\n", c.entries);
  s += "# HELP bulwark_fim_baseline_timestamp_seconds When the baseline was written.\n";
  s += "# TYPE bulwark_fim_baseline_timestamp_seconds gauge\n";
  s += fmt::format("bulwark_fim_baseline_timestamp_seconds {}\n", baseline);
  s += "# HELP bulwark_fim_last_check_timestamp_seconds When this check ran.\n";
  s += "# TYPE bulwark_fim_last_check_timestamp_seconds gauge\n";
  s += fmt::format("bulwark_fim_last_check_timestamp_seconds {}\n",
                   static_cast<int64_t>(std::time(nullptr)));
  return s;
}

Result<Unit> write_db(const Database &db, const SigningKey *key) {
  std::string bytes = TRY(encode(db, key));
  // The baseline's directory, created private when it is missing.
  size_t slash = g_fim_opts.db.rfind('/');
  if (slash != std::string::npos && slash > 0) {
    std::string dir = g_fim_opts.db.substr(0, slash);
    struct stat st;
    if (::stat(dir.c_str(), &st) != 0 && ::mkdir(dir.c_str(), 0700) != 0)
      return Error{std::string("cannot create the database's directory: ") + std::strerror(errno),
                   dir, 0, errno};
  }
  // Private: the baseline lists what is in /root/.ssh and the hashes of
  // secrets. (Single-threaded here: the scan has ended.)
  mode_t old_mask = ::umask(077);
  auto written = write_file_atomic(g_fim_opts.db, bytes);
  ::umask(old_mask);
  return written;
}

int run_fim() {
  auto started = std::chrono::steady_clock::now();
  if (!g_fim_opts.config.empty() && !g_fim_opts.aide_config.empty())
    return fail("--config and --aide-config are alternatives; give one", exit_code::k_usage);
  for (auto &p : g_fim_opts.paths) {
    if (p.empty() || p.front() != '/')
      return fail("PATH must be an absolute path inside the target: " + p, exit_code::k_usage);
    p = RootFs::join("/", p);
  }
  bool init = g_fim_opts.command == "init";
  bool update = g_fim_opts.command == "update";
  if (init && (g_fim_opts.fast || !g_fim_opts.pubkey.empty()))
    return fail("--fast and --pubkey are for check and update", exit_code::k_usage);

  RootFs fs(g_fim_opts.root);
  if (!fs.root_status())
    return fail("--root " + g_fim_opts.root + ": " + fs.root_status().error().to_string(),
                exit_code::k_usage);
  auto policy = load_policy();
  if (!policy)
    return fail(policy.error().to_string(), exit_code::k_cannot_run);
  for (auto &w : policy->warnings())
    std::cerr << "bulwark fim: warning: " << w << "\n";

  std::optional<SigningKey> key;
  if (!g_fim_opts.key.empty()) {
    auto k = SigningKey::load_private(g_fim_opts.key);
    if (!k)
      return fail(k.error().to_string(), exit_code::k_cannot_run);
    key = std::move(*k);
  }

  Database old;
  if (!init) {
    auto bytes = HostFs::read_file(g_fim_opts.db, k_max_db, "cannot read the fim database: ");
    if (!bytes)
      return fail(bytes.error().to_string(), exit_code::k_cannot_run);
    std::optional<SigningKey> pub;
    if (!g_fim_opts.pubkey.empty()) {
      auto k = SigningKey::load_public(g_fim_opts.pubkey);
      if (!k)
        return fail(k.error().to_string(), exit_code::k_cannot_run);
      pub = std::move(*k);
    }
    DecodeOptions dopt;
    dopt.pubkey = pub ? &*pub : nullptr;
    dopt.allow_unsigned = g_fim_opts.allow_unsigned;
    auto db = decode(*bytes, g_fim_opts.db, dopt);
    if (!db)
      return fail(db.error().to_string(), exit_code::k_cannot_run);
    old = std::move(*db);
    if (update && !key && old.signed_ && !g_fim_opts.allow_unsigned)
      return fail("update would replace a signed baseline with an unsigned one; give --key",
                  exit_code::k_usage);
  }

  ScanOptions sopt;
  sopt.threads = g_fim_opts.threads;
  sopt.only = g_fim_opts.paths;
  std::unordered_map<std::string_view, const Record *> trust;
  if (g_fim_opts.fast) {
    trust.reserve(old.records.size());
    for (auto &r : old.records)
      trust.emplace(r.path, &r);
    sopt.trust = &trust;
  }
  auto scanned = scan(fs, *policy, sopt);
  if (!scanned)
    return fail(scanned.error().to_string(), exit_code::k_cannot_run);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - started).count();

  if (init) {
    Database db;
    db.created = static_cast<int64_t>(std::time(nullptr));
    db.root = fs.host_root();
    db.records = std::move(scanned->records);
    auto w = write_db(db, key ? &*key : nullptr);
    if (!w)
      return fail(w.error().to_string(), exit_code::k_cannot_run);
    for (auto &e : scanned->errors)
      std::cerr << "bulwark fim: " << display_path(e.path) << ": " << e.message << "\n";
    std::cerr << fmt::format("bulwark fim: {} entries, {} files hashed ({:.1f} MB) in {:.2f} s; "
                             "{} written{}\n",
                             db.records.size(), scanned->hashed_files,
                             static_cast<double>(scanned->hashed_bytes) / 1e6, ms / 1000,
                             display_path(g_fim_opts.db),
                             key ? ", signed" : ", UNSIGNED (check needs --allow-unsigned)");
    return scanned->errors.empty() ? exit_code::k_ok : exit_code::k_findings;
  }

  // Only the requested paths are compared; the rest of the baseline stays.
  // (Without PATHs all of it: copying every old record was a twentieth of
  // a --fast check.)
  std::vector<Record> old_in_scope;
  if (!g_fim_opts.paths.empty())
    for (auto &r : old.records)
      if (in_scope(r.path))
        old_in_scope.push_back(r);
  Comparison cmp = compare(g_fim_opts.paths.empty() ? old.records : old_in_scope, scanned->records);
  ReportContext ctx;
  ctx.root = fs.host_root();
  ctx.database = g_fim_opts.db;
  ctx.baseline_created = old.created;
  ctx.baseline_signed = old.signed_;
  ctx.fast = g_fim_opts.fast;
  ctx.errors = scanned->errors;
  ctx.warnings = policy->warnings();
  ctx.duration_ms = ms;
  std::string report = g_fim_opts.format == "json"    ? render_json(cmp, ctx)
                       : g_fim_opts.format == "sarif" ? render_sarif(cmp, ctx)
                                                      : render_text(cmp, ctx);
  if (g_fim_opts.output.empty()) {
    std::fwrite(report.data(), 1, report.size(), stdout);
    if (std::fflush(stdout) != 0 || std::ferror(stdout))
      return fail("cannot write the report to stdout", exit_code::k_cannot_run);
  } else if (auto w = write_file_atomic(g_fim_opts.output, report); !w) {
    return fail(w.error().to_string(), exit_code::k_cannot_run);
  }
  if (!g_fim_opts.metrics.empty())
    if (auto w = write_file_atomic(g_fim_opts.metrics,
                                   metrics_text(cmp, scanned->errors.size(), old.created));
        !w)
      return fail(w.error().to_string(), exit_code::k_cannot_run);

  if (update) {
    Database db;
    db.created = static_cast<int64_t>(std::time(nullptr));
    db.root = fs.host_root();
    for (auto &r : old.records)
      if (!in_scope(r.path))
        db.records.push_back(r);
    for (auto &r : scanned->records)
      db.records.push_back(r);
    std::sort(db.records.begin(), db.records.end(),
              [](const Record &a, const Record &b) { return a.path < b.path; });
    auto w = write_db(db, key ? &*key : nullptr);
    if (!w)
      return fail(w.error().to_string(), exit_code::k_cannot_run);
  }
  return cmp.changes.empty() && scanned->errors.empty() ? exit_code::k_ok : exit_code::k_findings;
}

} // namespace

void add_commands(CLI::App &app) {
  auto *f = app.add_subcommand(
      "fim", "file integrity: init a signed baseline, check the tree against it, update it");
  f->add_option("command", g_fim_opts.command, "init, check or update")
      ->required()
      ->check(CLI::IsMember({"init", "check", "update"}));
  f->add_option("paths", g_fim_opts.paths, "only these target paths (and below)");
  f->add_option("--root", g_fim_opts.root, "an offline root filesystem instead of /");
  f->add_option("--config", g_fim_opts.config,
                "selection policy in aide.conf syntax (default: built in)");
  f->add_option("--aide-config", g_fim_opts.aide_config,
                "use an AIDE configuration's selection lines (e.g. /etc/aide/aide.conf)");
  f->add_option("--db", g_fim_opts.db, std::string("the baseline (default ") + k_default_db + ")");
  f->add_option("--key", g_fim_opts.key, "Ed25519 private key (PEM) to sign the baseline with");
  f->add_option("--pubkey", g_fim_opts.pubkey,
                "Ed25519 public key (PEM) to verify the baseline with");
  f->add_flag("--allow-unsigned", g_fim_opts.allow_unsigned,
              "accept a baseline without a verified signature");
  f->add_flag("--fast", g_fim_opts.fast,
              "trust files whose inode, size, mtime and ctime are unchanged (no re-hash); run a "
              "full check periodically");
  f->add_option("--format", g_fim_opts.format, "report format: text, json, sarif")
      ->check(CLI::IsMember({"text", "json", "sarif"}));
  f->add_option("--output", g_fim_opts.output, "write the report to FILE (atomically)");
  f->add_option("--metrics", g_fim_opts.metrics,
                "write bulwark_fim_* metrics for the node exporter's textfile collector");
  f->add_option("--threads", g_fim_opts.threads,
                "scan threads (default: twice the cores, at least 4)");
}

std::optional<int> run_commands(CLI::App &app) {
  CLI::App *f = app.get_subcommand("fim");
  if (f == nullptr || !f->parsed())
    return std::nullopt;
  try {
    return run_fim();
  } catch (const std::bad_alloc &) {
    return fail("out of memory", exit_code::k_cannot_run);
  }
}

} // namespace bulwark::fim
