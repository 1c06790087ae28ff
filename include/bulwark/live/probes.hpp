#pragma once
// Probes: every look at the running host a check takes (audit --live, and
// the process table on the host's own root). The Context owns one (see
// Context::probes()); checks call it instead of src/live's functions, so a
// check test hands the check a fake whose answers it chooses, and the real
// one stays the only code that opens sockets, runs nft or reads /proc.
//
// The host implementation (host_probes()) keeps src/live's contracts: only
// this host's addresses, deadlines under two seconds, no state change. It
// reads the process table and the socket tables once and keeps them for
// the run.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/live/postgres.hpp>
#include <bulwark/live/redis.hpp>
#include <bulwark/live/ssh.hpp>
#include <bulwark/live/tls.hpp>
#include <bulwark/parse/proc_net.hpp>
#include <bulwark/parse/procfs.hpp>

#include <memory>
#include <string>
#include <vector>

namespace bulwark::live {

class Probes {
public:
  virtual ~Probes() = default;

  // Loopback, or an address of one of this host's interfaces.
  virtual bool is_local_address(const std::string &address) = 0;
  // The SSH banner and KEXINIT (live/ssh.hpp).
  virtual SshProbe ssh(const std::string &address, int port) = 0;
  // TLS versions, suites, chain and headers of one listener (live/tls.hpp).
  virtual TlsProbe tls(const std::string &address, int port, const std::string &sni) = 0;
  // A connection without a password on 127.0.0.1 and ::1 (live/postgres.hpp).
  virtual std::vector<PgProbeResult> pg_no_password(int port) = 0;
  // pg_settings, pg_hba_file_rules, pg_roles with the user's credentials.
  virtual PgLiveInfo pg_query(const std::string &dsn) = 0;
  // An unauthenticated PING (port 0: `host` is a unix socket) (live/redis.hpp).
  virtual RedisProbeResult redis(const std::string &host, int port) = 0;
  virtual RedisProbeResult redis_tls(const std::string &host, int port) = 0;
  // The kernel's nftables ruleset as `nft list ruleset` prints it. Error
  // when it cannot be listed (no CAP_NET_ADMIN).
  virtual Result<std::string> nft_ruleset() = 0;
  // The running processes (parse/procfs.hpp). The same table on every call.
  virtual const Result<procfs::ProcessTable> &processes() = 0;
  // Listening TCP and UDP sockets (parse/proc_net.hpp). The same on every call.
  virtual const Result<std::vector<procnet::Listener>> &listeners() = 0;
  // `path` as process `pid` sees it, through its own root.
  virtual Result<FileInfo> stat_in_process_root(int pid, const std::string &path) = 0;
  // The body of GET `target` from the Docker Engine API on the unix socket
  // `socket` (live/docker.hpp); an error for a failed exchange or a status
  // other than 2xx. The default stands for a host without an engine.
  virtual Result<std::string> docker_get(const std::string &socket, const std::string &target);
  // Whether the socket at `path` exists on this host (lstat; the default
  // /var/run/docker.sock decides whether --live reads the engine). The
  // default: no.
  virtual bool socket_exists(const std::string &path);
  // The legacy x_tables rules (iptables-legacy: dockerd on a host whose
  // `iptables` is the legacy one writes there), which `nft list ruleset`
  // does not show: iptables-legacy-save's text (`v6`: ip6tables-legacy-save),
  // "" when the kernel has no legacy table of that family
  // (/proc/net/ip_tables_names, ip6_tables_names, empty or absent). An error
  // when tables exist but cannot be listed. The default: "".
  virtual Result<std::string> iptables_legacy_save(bool v6);
};

// The probes of this host: src/live's functions, /proc through RootFs("/"),
// the ruleset through libnftables.
std::shared_ptr<Probes> host_probes();

// `nft list ruleset` through libnftables (the same library the nft command
// uses, output buffered in memory rather than a child process).
Result<std::string> nft_list_ruleset();

} // namespace bulwark::live
