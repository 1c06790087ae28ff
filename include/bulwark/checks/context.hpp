#pragma once
// The Context of one audit run: the target's RootFs and the models parsed
// from it. Each model is parsed at most once, and only when a selected check
// asks for it.

#include <bulwark/core/perf.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/accounts.hpp>
#include <bulwark/parse/sshd_config.hpp>
#include <bulwark/parse/sudoers.hpp>
#include <bulwark/parse/sysctl.hpp>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <typeindex>
#include <vector>

namespace bulwark {

namespace live {
class Probes; // <bulwark/live/probes.hpp>
}

// The SSH server as the checks see it.
struct SshModel {
  enum class State { ok, absent, unreadable };
  State state = State::absent;
  std::string config_path = "/etc/ssh/sshd_config";
  std::optional<Error> error; // unreadable: why
  ssh::SshdConfig config;
  ssh::UserDb users;

  // A context is `sshd -T` (global) or one Match block taken as satisfied.
  struct Scope {
    std::string label;   // "global", "Match User alice"
    int match_line = -1; // index into config.lines, -1 for global
    SourceLocation loc;  // where the Match line is
    ssh::Effective effective;
  };
  std::vector<Scope> scopes; // global first
};

// What the user said about the target beyond its root (DESIGN.md, Targets).
struct TargetOptions {
  bool live = false; // --live: probe the running system (only when the root is /)
  // --compose FILE...: one project's files in -f order, host paths as typed
  // (they may lie outside the root). Empty: discover projects under the root.
  std::vector<std::string> compose_files;
  std::vector<std::string> env_files; // --env-file (host paths), in order
  std::string postgres_dsn;           // --postgres-dsn (live PostgreSQL probes)
  bool host_env = false; // --host-env: compose interpolation sees this process's environment
  // --docker unix:///path: the Docker Engine API to read (with or without
  // --live). Empty: /var/run/docker.sock under --live when it exists.
  std::string docker_host;
  // The live probes. Null: the host's own (live::host_probes()). A test's
  // fake stands for the host, so with it --live holds on any root.
  std::shared_ptr<live::Probes> probes;
};

class Context {
public:
  explicit Context(const RootFs &fs, TargetOptions options = {})
      : m_fs(fs), m_options(std::move(options)) {}
  const RootFs &fs() const { return m_fs; }
  const TargetOptions &options() const { return m_options; }
  // Live probes run only for --live on the host's own root (or on a test's
  // root with fake probes).
  bool live() const { return m_options.live && (m_fs.is_host_root() || m_options.probes); }
  // Every look at the running system goes through these (live/probes.hpp).
  live::Probes &probes();

  const SshModel &ssh();
  const accounts::AccountsModel &accounts();
  // Error (not_found) when sudo is not installed.
  const Result<sudoers::SudoersModel> &sudoers();
  const SysctlModel &sysctl();

  // The model layer. A model type names its own loader:
  //   static constexpr std::string_view k_name = "dpkg";   (for --perf)
  //   static T load(Context &ctx);   reads through ctx.fs() and other models
  // get<T>() builds it at most once per Context, times it, and every check
  // and `bulwark facts` share the one instance.
  template <class T> const T &get() {
    std::shared_ptr<void> &slot = m_models[std::type_index(typeid(T))];
    if (!slot) {
      Loading timing(*this, std::string(T::k_name));
      slot = std::make_shared<T>(T::load(*this));
    }
    return *static_cast<const T *>(slot.get());
  }

  // A model private to one domain's file (the type is the key; `make`,
  // returning a T, runs at most once per Context). `name` is for --perf.
  template <class T, class F> const T &model(F &&make, std::string_view name = {}) {
    std::shared_ptr<void> &slot = m_models[std::type_index(typeid(T))];
    if (!slot) {
      Loading timing(*this, name.empty() ? type_name(typeid(T)) : std::string(name));
      slot = std::make_shared<T>(make());
    }
    return *static_cast<const T *>(slot.get());
  }

  // Runs `load()` timed as a model load named `name`: for a model cached by
  // key rather than by type (WalkModel's walks).
  template <class F> auto timed_load(std::string name, F &&load) {
    Loading timing(*this, std::move(name));
    return load();
  }

  // Model load times of this run, in load order (checks/audit.cpp adds the
  // checks' own times to the report).
  const std::vector<PerfEntry> &perf() const { return m_perf; }

private:
  // Times one model load, nested under the load that asked for it.
  class Loading {
  public:
    Loading(Context &ctx, std::string name)
        : m_ctx(ctx), m_timer(ctx.m_perf, PerfEntry::Kind::model, std::move(name), ctx.m_depth++) {}
    ~Loading() { --m_ctx.m_depth; }
    Loading(const Loading &) = delete;
    Loading &operator=(const Loading &) = delete;

  private:
    Context &m_ctx;
    PerfTimer m_timer;
  };
  static std::string type_name(const std::type_info &t);

  const RootFs &m_fs;
  TargetOptions m_options;
  std::unique_ptr<SshModel> m_ssh;
  std::unique_ptr<accounts::AccountsModel> m_accounts;
  std::unique_ptr<Result<sudoers::SudoersModel>> m_sudoers;
  std::unique_ptr<SysctlModel> m_sysctl;
  std::map<std::type_index, std::shared_ptr<void>> m_models;
  std::shared_ptr<live::Probes> m_probes; // options.probes, or the host's on first use
  std::vector<PerfEntry> m_perf;
  int m_depth = 0;
};

// Builds the SSH model of a target (also used by `bulwark facts ssh`).
SshModel load_ssh_model(const RootFs &fs);

} // namespace bulwark
