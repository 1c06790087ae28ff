// The host's probes: src/live's functions, /proc through RootFs("/"), the
// kernel's ruleset through libnftables, and the legacy x_tables through
// iptables-legacy-save when the kernel has any (see probes.hpp).
#include <bulwark/live/probes.hpp>

#include <bulwark/core/hostfs.hpp>
#include <bulwark/core/process.hpp>
#include <bulwark/core/system_libs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/docker.hpp>

#include <chrono>
#include <optional>

namespace bulwark::live {

Result<std::string> nft_list_ruleset() {
  const syslib::Nftables &nft = *TRY(syslib::nftables());
  nft_ctx *ctx = nft.nft_ctx_new(NFT_CTX_DEFAULT);
  if (ctx == nullptr)
    return Error{"libnftables: cannot create a context"};
  nft.nft_ctx_buffer_output(ctx);
  nft.nft_ctx_buffer_error(ctx);
  // nft_run_cmd_from_buffer wants a writable, NUL-terminated buffer.
  char cmd[] = "list ruleset";
  int rc = nft.nft_run_cmd_from_buffer(ctx, cmd);
  std::string out = nft.nft_ctx_get_output_buffer(ctx);
  std::string err = nft.nft_ctx_get_error_buffer(ctx);
  nft.nft_ctx_free(ctx);
  if (rc != 0) {
    while (!err.empty() && (err.back() == '\n' || err.back() == ' '))
      err.pop_back();
    return Error{"nft list ruleset: " + (err.empty() ? std::string("failed") : err)};
  }
  return out;
}

Result<std::string> Probes::docker_get(const std::string &socket, const std::string &) {
  return Error{"no Docker engine in these probes", socket};
}

bool Probes::socket_exists(const std::string &) {
  return false;
}

Result<std::string> Probes::iptables_legacy_save(bool) {
  return std::string();
}

namespace {

Result<std::string> legacy_save(bool v6) {
  // The kernel lists the legacy tables it has (one name a line); with
  // iptables-nft only, the file is empty or x_tables is not loaded at all.
  const std::string names_path = v6 ? "/proc/net/ip6_tables_names" : "/proc/net/ip_tables_names";
  auto names = HostFs::read_file(names_path, 4096, "");
  if (!names.ok() || text::trim(*names).empty())
    return std::string();
  const std::string tool = v6 ? "ip6tables-legacy-save" : "iptables-legacy-save";
  std::string path = find_program(tool);
  if (path.empty())
    return Error{"the kernel has iptables-legacy tables (" +
                     text::join(text::split(text::trim(*names), '\n'), ", ") + ") but " + tool +
                     " is not installed to list them",
                 names_path};
  auto r = run_program({path}, "", std::chrono::seconds(10));
  if (!r)
    return Error{tool + ": " + r.error().message, names_path};
  if (r->exit_code != 0)
    return Error{tool + " failed (exit " + std::to_string(r->exit_code) +
                     "): " + std::string(text::trim(r->err)),
                 names_path};
  return std::move(r->out);
}

} // namespace

namespace {

class HostProbes final : public Probes {
public:
  bool is_local_address(const std::string &address) override {
    return live::is_local_address(address);
  }
  SshProbe ssh(const std::string &address, int port) override { return probe_ssh(address, port); }
  TlsProbe tls(const std::string &address, int port, const std::string &sni) override {
    return probe_tls(address, port, sni);
  }
  std::vector<PgProbeResult> pg_no_password(int port) override {
    return pg_probe_no_password(port);
  }
  PgLiveInfo pg_query(const std::string &dsn) override { return live::pg_query(dsn); }
  RedisProbeResult redis(const std::string &host, int port) override {
    return redis_probe(host, port);
  }
  RedisProbeResult redis_tls(const std::string &host, int port) override {
    return redis_probe_tls(host, port);
  }
  Result<std::string> nft_ruleset() override { return nft_list_ruleset(); }
  Result<std::string> iptables_legacy_save(bool v6) override { return legacy_save(v6); }
  const Result<procfs::ProcessTable> &processes() override {
    if (!m_processes)
      m_processes.emplace(procfs::load_processes(m_host, "/proc"));
    return *m_processes;
  }
  const Result<std::vector<procnet::Listener>> &listeners() override {
    if (!m_listeners)
      m_listeners.emplace(procnet::read_listeners(m_host, "/proc"));
    return *m_listeners;
  }
  Result<FileInfo> stat_in_process_root(int pid, const std::string &path) override {
    return procfs::stat_in_process_root(m_host, "/proc", pid, path);
  }
  Result<std::string> docker_get(const std::string &socket, const std::string &target) override {
    auto r = unix_http_get(socket, target);
    if (!r)
      return r.error();
    if (r.value().status / 100 != 2) {
      std::string body = r.value().body.substr(0, 200);
      return Error{"GET " + target + " on " + socket + ": HTTP " +
                       std::to_string(r.value().status) + " " + body,
                   socket};
    }
    return std::move(r.value().body);
  }
  bool socket_exists(const std::string &path) override {
    // Through the host's RootFs like every other look at it; /var/run is
    // a link to /run on Debian, so the last component's links are followed.
    auto st = m_host.stat(path);
    return st && st.value().type == FileInfo::Type::other;
  }

private:
  RootFs m_host{"/"};
  std::optional<Result<procfs::ProcessTable>> m_processes;
  std::optional<Result<std::vector<procnet::Listener>>> m_listeners;
};

} // namespace

std::shared_ptr<Probes> host_probes() {
  return std::make_shared<HostProbes>();
}

} // namespace bulwark::live
