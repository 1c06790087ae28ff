#pragma once
// The models behind monitoring.*, secrets.*, env.* and data.*: what the
// checks of that area read, built once per run from the target's RootFs.
// Loaders that read live facts take the directory to read them from
// (/proc, /sys), so that tests can hand them a fake one.

#include <bulwark/checks/models.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/fim/compare.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/parse/dotenv.hpp>
#include <bulwark/parse/procfs.hpp>
#include <bulwark/parse/promrules.hpp>

#include <optional>
#include <string>
#include <vector>

namespace bulwark::monitoring {

// Where deployments live: searched to a bounded depth for compose files,
// .env files, private keys and prometheus.yml.
inline constexpr const char *k_app_roots[] = {"/app", "/srv", "/opt", "/var/www", "/home", "/root"};
inline constexpr int k_app_depth = 4;
inline constexpr size_t k_max_walk_entries = 100000;

struct SecretFile {
  enum class Kind { env, docker_secret, private_key };
  Kind kind = Kind::env;
  std::string path;                      // inside the target
  std::optional<FileInfo> info;          // nullopt: could not stat
  std::optional<uint32_t> dir_owner;     // uid of the containing directory
  SourceLocation declared_at;            // compose file:line that names it, if any
  std::optional<dotenv::DotenvFile> env; // Kind::env, when readable
  std::optional<Error> error;            // absent, unreadable, not a regular file
  // certbot: a key of /etc/letsencrypt/archive/NAME/ that no link of
  // live/NAME/ points to any more (a renewal superseded it); the live link
  // that now decides. "" for every other file.
  std::string superseded_by;
};

struct DeploymentModel {
  std::vector<std::string> compose_files;
  std::vector<std::string> prometheus_configs; // prometheus.yml found in app roots
  std::vector<SecretFile> files;               // unique by path, sorted
  std::vector<Evidence> diagnostics;           // compose YAML errors, walk limits
  std::optional<uint32_t> ssl_cert_gid;        // Debian's key-access group
};

DeploymentModel load_deployments(const RootFs &fs);

// Is a .env key a secret by its name (PASSWORD, SECRET, TOKEN, KEY, PASS,
// CREDENTIAL as a word of it), and not a setting about secrets
// (..._LENGTH, ..._EXPIRY, ..._FILE, ...)?
bool secret_key_name(std::string_view key);
// Is the value a literal, or a reference to a secret stored elsewhere
// (${VAR}, $VAR, vault:..., op://..., arn:aws:secretsmanager:...)?
bool is_reference(std::string_view value);
// A value as findings may show it: at most its first two characters (only
// when it is long enough that they give little away) and its length.
std::string mask(std::string_view value);

// The processes of a process table that guard against brute force.
struct ProcessMatch {
  int pid = 0;
  std::string what; // "fail2ban-server", "bulwark watch"
  std::string path; // proc_dir/PID/cmdline
};
std::vector<ProcessMatch> find_guard_processes(const procfs::ProcessTable &t);

// Where a database directory's data lives, and whether that is encrypted.
struct DataVolume {
  std::string dir;      // as looked for: /var/lib/postgresql
  std::string real_dir; // after symlinks, inside the target
  enum class Verdict { encrypted, not_encrypted, unknown };
  Verdict verdict = Verdict::unknown;
  std::string message;
  std::vector<Evidence> evidence;
};
inline constexpr const char *k_data_dirs[] = {"/var/lib/postgresql", "/var/lib/mysql",
                                              "/var/lib/redis", "/var/lib/mongodb",
                                              "/var/lib/docker/volumes"};
// live: judge from proc_dir/self/mountinfo and sys_dir/dev/block, else from
// /etc/fstab and /etc/crypttab.
std::vector<DataVolume> load_data_volumes(const RootFs &fs, bool live,
                                          const std::string &proc_dir = "/proc",
                                          const std::string &sys_dir = "/sys");

// An IDS/HIDS: a Wazuh or OSSEC agent (/var/ossec/etc/ossec.conf with a
// manager address in <client>, XML comments ignored), or bulwark's own
// watch service (bulwark-watch.service enabled in /etc/systemd/system).
struct IdsFacts {
  bool ossec_conf = false;
  std::optional<Error> ossec_error;
  std::string manager;          // <address>, <server-ip> or <server-hostname>
  SourceLocation manager_loc;   // its line
  bool manager_install = false; // no <client>, a <remote> block: the server itself
  SourceLocation remote_loc;
  std::string watch_unit;  // the unit file, "" when absent
  std::string watch_wants; // the *.wants/ link that enables it, "" when none
  bool watch_masked = false;
  std::optional<Error> watch_error; // systemctl could not tell its state
};
IdsFacts load_ids(const RootFs &fs, const systemd::UnitFiles &units);

// File integrity baselines: AIDE's database (database_in of aide.conf,
// with @@define macros; Debian 12 default /var/lib/aide/aide.db), Tripwire's
// /var/lib/tripwire/*.twd, bulwark's /var/lib/bulwark/fim/baseline*.
struct FimFacts {
  bool aide_installed = false;     // dpkg status: aide
  std::optional<Error> dpkg_error; // the dpkg database cannot tell
  std::string aide_conf;           // the file read, "" when none
  std::string aide_db = "/var/lib/aide/aide.db";
  SourceLocation aide_db_setting; // line 0: the default
  bool aide_db_present = false;
  std::vector<std::string> tripwire_dbs;
  std::vector<std::string> bulwark_baselines;
  // Each of bulwark_baselines read as a `bulwark fim` database (structure
  // and checksum; the signature needs the key, which `fim check` has):
  // when it is one, when it was written and how many entries it holds.
  struct Baseline {
    std::string path;
    int64_t created = 0;
    size_t entries = 0;
    std::optional<Error> error; // not a valid database: why
  };
  std::vector<Baseline> bulwark_checked;
};
FimFacts load_fim(const RootFs &fs, const DpkgModel &dpkg);

// One bulwark fim baseline of the target as `audit` trusts it: read through
// RootFs, its structure and checksum checked, and its signature verified
// with the public key at `pubkey` (a target path) when a file is there.
struct FimBaselineRead {
  std::string database; // target path
  std::string pubkey;   // target path
  bool present = false; // false: ENOENT (nothing configured); error unset
  // Unreadable, truncated, modified, or a signature that does not verify:
  // nothing of it is trusted (db is empty).
  std::optional<Error> error;
  bool pubkey_present = false;
  std::optional<Error> pubkey_error; // present, but unreadable or not an Ed25519 key
  fim::Database db;                  // has_signature: signed; signed_: and verified with pubkey
};
FimBaselineRead read_fim_baseline(const RootFs &fs, const std::string &database,
                                  const std::string &pubkey);

// monitoring.file-integrity-changes: the target scanned with the policy the
// baseline was made with (`config`: an aide.conf-syntax file of the target,
// "" = bulwark's built-in policy) and compared with the baseline, as `bulwark
// fim check [--fast]` does. The scan runs only when the baseline is present
// and trusted (verified, or unsigned while `allow_unsigned`).
struct FimAuditFacts {
  FimBaselineRead baseline;
  bool scanned = false;
  std::optional<Error> policy_error; // the config cannot be read or parsed
  std::optional<Error> scan_error;   // the tree cannot be walked at all
  std::vector<std::string> warnings; // the policy's
  struct Attribute {
    fim::Attr attr;
    std::string old_value, new_value; // as `fim check` prints them
  };
  struct Item {
    std::string path; // target path, raw bytes
    fim::Change::Kind kind = fim::Change::Kind::changed;
    std::string type;                  // "file", "directory", ...
    std::vector<Attribute> attributes; // kind == changed
  };
  std::vector<Item> changes;       // sorted by path
  std::vector<Error> unverifiable; // unreadable, or changed while read
  size_t entries = 0;              // entries scanned
};
FimAuditFacts audit_fim(const RootFs &fs, const std::string &database, const std::string &pubkey,
                        const std::string &config, bool allow_unsigned, bool fast);

// Prometheus alert rules: the rule_files of /etc/prometheus/prometheus.yml
// and of every prometheus.yml in the application roots; without any, the
// usual places (/etc/prometheus/rules*, /etc/prometheus/*.rules.yml).
struct AlertFacts {
  std::vector<std::string> configs;
  bool default_places = false; // no prometheus.yml: the usual places searched
  std::vector<prom::RuleFile> rule_files;
  std::vector<Evidence> problems; // unreadable or invalid files, globs matching nothing
};
AlertFacts load_alerts(const RootFs &fs, const DeploymentModel &deployments);

} // namespace bulwark::monitoring
