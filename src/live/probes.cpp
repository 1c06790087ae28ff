// The host's probes: src/live's functions, /proc through RootFs("/"), the
// kernel's ruleset through libnftables (see probes.hpp).
#include <bulwark/live/probes.hpp>

#include <bulwark/core/system_libs.hpp>
#include <bulwark/live/docker.hpp>

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
