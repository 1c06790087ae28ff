// The sysctl domain: kernel parameters as systemd-sysctl applies them at boot
// (src/parse/sysctl.cpp), and, on the live host, as /proc/sys reports them
// now (the running value wins: a setting that never took effect fails).

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>

#include <functional>

namespace bulwark {

namespace {

struct Rule {
  const char *key;
  const char *expected; // for people: "0", "1 or 2", ">= 1"
  bool (*ok)(long long);
  // Linux 6.1's built-in value (Debian 12), used offline when no file sets
  // the key; nullptr when it depends on the kernel build or the interface.
  const char *kernel_default;
};

bool zero(long long v) {
  return v == 0;
}
bool one(long long v) {
  return v == 1;
}
bool two(long long v) {
  return v == 2;
}
bool nonzero(long long v) {
  return v == 1 || v == 2;
}
bool at_least_one(long long v) {
  return v >= 1;
}

constexpr Rule k_network[] = {
    {"net.ipv4.conf.all.rp_filter", "1 (strict) or 2 (loose)", nonzero, "0"},
    {"net.ipv4.conf.default.rp_filter", "1 (strict) or 2 (loose)", nonzero, "0"},
    {"net.ipv4.conf.all.accept_redirects", "0", zero, "1"},
    {"net.ipv4.conf.default.accept_redirects", "0", zero, "1"},
    {"net.ipv6.conf.all.accept_redirects", "0", zero, "1"},
    {"net.ipv6.conf.default.accept_redirects", "0", zero, "1"},
    {"net.ipv4.conf.all.send_redirects", "0", zero, "1"},
    {"net.ipv4.conf.default.send_redirects", "0", zero, "1"},
    {"net.ipv4.tcp_syncookies", "1", one, "1"},
    {"net.ipv4.conf.all.accept_source_route", "0", zero, "0"},
    {"net.ipv4.conf.default.accept_source_route", "0", zero, nullptr},
    {"net.ipv6.conf.all.accept_source_route", "0", zero, "0"},
    {"net.ipv6.conf.default.accept_source_route", "0", zero, "0"},
    {"net.ipv4.ip_forward", "0", zero, "0"},
    {"net.ipv6.conf.all.forwarding", "0", zero, "0"},
};

constexpr Rule k_kernel[] = {
    {"kernel.kptr_restrict", ">= 1", at_least_one, "0"},
    {"kernel.dmesg_restrict", "1", one, "1"}, // Debian builds with DMESG_RESTRICT=y
    {"kernel.randomize_va_space", "2", two, "2"},
    {"fs.protected_symlinks", "1", one, "0"},
    {"fs.protected_hardlinks", "1", one, "0"},
};

// CIS Debian 12 §3.3.3, 3.3.4, 3.3.6, 3.3.9, 3.3.11.
constexpr Rule k_network_extra[] = {
    {"net.ipv4.conf.all.log_martians", "1", one, "0"},
    {"net.ipv4.conf.default.log_martians", "1", one, "0"},
    {"net.ipv4.icmp_echo_ignore_broadcasts", "1", one, "1"},
    {"net.ipv4.icmp_ignore_bogus_error_responses", "1", one, "1"},
    {"net.ipv4.conf.all.secure_redirects", "0", zero, "1"},
    {"net.ipv4.conf.default.secure_redirects", "0", zero, "1"},
    {"net.ipv6.conf.all.accept_ra", "0", zero, "1"},
    {"net.ipv6.conf.default.accept_ra", "0", zero, "1"},
};

// CIS Debian 12 §1.5.2 (ptrace), §1.5.3 (core dumps of set-id programs);
// BPF and the fs.protected_* pair from the kernel self-protection project.
// kernel.unprivileged_bpf_disabled 2 (Debian's CONFIG_BPF_UNPRIV_DEFAULT_OFF)
// is disabled too: only root may set it back to 0.
constexpr Rule k_process[] = {
    {"kernel.yama.ptrace_scope", ">= 1", at_least_one, "0"}, // Debian patches Yama's default to 0
    {"fs.suid_dumpable", "0", zero, "0"},
    {"kernel.unprivileged_bpf_disabled", "1 (or 2)", nonzero, "2"},
    {"net.core.bpf_jit_harden", "2", two, "0"},
    {"fs.protected_fifos", ">= 1", at_least_one, "0"},
    {"fs.protected_regular", ">= 1", at_least_one, "0"},
};

void judge(CheckRun &run, std::span<const Rule> rules,
           const std::function<bool(const Rule &)> &skip) {
  const SysctlModel &m = run.ctx().sysctl();
  std::vector<Evidence> bad, good, unknown;
  for (const Rule &r : rules) {
    if (skip(r))
      continue;
    const SysctlSetting *set = m.effective(r.key);
    // On the live host, /proc/sys decides even for keys no file sets.
    std::optional<std::string> running;
    if (auto it = m.live.find(r.key); it != m.live.end())
      running = it->second;
    else if (run.ctx().fs().is_host_root())
      running = live_value(run.ctx().fs(), r.key);
    Evidence e;
    e.expected = std::string(r.key) + " = " + r.expected;
    e.context = running ? "running kernel" : "boot configuration";
    std::optional<std::string> value;
    if (set) {
      e.path = set->loc.path;
      e.line = set->loc.line;
      e.found = std::string(r.key) + " = " + set->value;
      value = set->value;
    } else {
      e.path = "/etc/sysctl.d";
      e.found = std::string(r.key) + " not set in any sysctl file";
      if (r.kernel_default) {
        value = r.kernel_default;
        e.found += " (kernel default " + std::string(r.kernel_default) + ")";
      }
    }
    if (running) {
      if (!value || !sysctl_values_equal(*value, *running))
        e.found += set ? "; but the running kernel has " + *running : "; running " + *running;
      value = running;
    }
    if (!value) {
      unknown.push_back(e);
      continue;
    }
    char *end = nullptr;
    std::string v(text::trim(*value));
    long long n = std::strtoll(v.c_str(), &end, 10);
    bool parsed = !v.empty() && *end == '\0';
    (parsed && r.ok(n) ? good : bad).push_back(e);
  }
  std::vector<Evidence> diags, unreadable;
  for (auto &d : m.diagnostics)
    if (d.level == SysctlDiagnostic::Level::error) {
      diags.push_back(Evidence{d.loc.path, d.loc.line, d.message, "", "parse"});
      // Line 0: the whole file could not be read, so whatever it sets is
      // unknown (systemd-sysctl fails on it too). A bad line is skipped by
      // systemd-sysctl as well, and the values that count are still known.
      if (d.loc.line == 0)
        unreadable.push_back(diags.back());
    }
  if (!bad.empty()) {
    std::string what;
    for (auto &b : bad)
      what += (what.empty() ? "" : "; ") + b.found;
    bad.insert(bad.end(), unknown.begin(), unknown.end());
    bad.insert(bad.end(), diags.begin(), diags.end());
    run.emit(Status::fail, "", what, bad);
    return;
  }
  if (!unreadable.empty()) {
    // Fail closed: the file that cannot be read may set any of these keys.
    unreadable.insert(unreadable.end(), good.begin(), good.end());
    run.emit(Status::error, "",
             "cannot read " + unreadable.front().path + " (" + unreadable.front().found +
                 "): the values it sets are unknown",
             unreadable);
    return;
  }
  if (!unknown.empty() || !diags.empty()) {
    unknown.insert(unknown.end(), diags.begin(), diags.end());
    run.emit(Status::warn, "",
             "every setting that can be decided holds, but " + unknown.front().found +
                 " (the kernel build decides)",
             unknown);
    return;
  }
  run.emit(Status::pass, "", "every parameter holds", good);
}

// Who turns ip_forward on by design: dockerd sets it at start (its bridge
// networks route), and a VPN server routes its clients. Each is recognised
// by its package (or, without a dpkg database, by its binary).
struct Router {
  const char *kind; // the allow-ip-forward word that admits it
  const char *package;
  const char *binary;
};
constexpr Router k_routers[] = {
    {"docker", "docker.io", "/usr/sbin/dockerd"},
    {"docker", "docker-ce", "/usr/bin/dockerd"},
    {"docker", "moby-engine", "/usr/bin/dockerd"},
    {"vpn", "openvpn", "/usr/sbin/openvpn"},
    {"vpn", "wireguard-tools", "/usr/bin/wg"},
    {"vpn", "strongswan-charon", "/usr/lib/ipsec/charon"},
    {"vpn", "strongswan-swanctl", "/usr/sbin/swanctl"},
};

void network(CheckRun &run) {
  // allow-ip-forward: "no"; "yes" (the host routes, whatever runs);
  // "docker", "vpn" or "docker-or-vpn": allowed when such a router is
  // installed, since it needs forwarding to work.
  std::string allow = run.param_str("allow-ip-forward");
  bool allow_forward = allow == "yes";
  std::string why;
  if (!allow_forward && allow != "no") {
    for (const Router &r : k_routers) {
      if (allow != r.kind && allow != "docker-or-vpn")
        continue;
      PackageInstalled p = package_installed(run.ctx(), r.package, {r.binary});
      if (p.error) {
        // Fail closed: whether forwarding is allowed cannot be decided.
        run.emit(Status::error, "",
                 "cannot tell whether " + std::string(r.package) +
                     " is installed: " + p.error->to_string());
        return;
      }
      if (p.yes) {
        allow_forward = true;
        why = r.package;
        break;
      }
    }
  }
  judge(run, k_network, [allow_forward](const Rule &r) {
    std::string_view k = r.key;
    return allow_forward && (k == "net.ipv4.ip_forward" || k == "net.ipv6.conf.all.forwarding");
  });
  if (!why.empty())
    for (auto &f : run.findings())
      if (f.status == Status::pass)
        f.message += " (ip_forward not judged: " + why + " is installed and routes by design)";
}

void kernel(CheckRun &run) {
  judge(run, k_kernel, [](const Rule &) { return false; });
}

void network_extra(CheckRun &run) {
  // accept_ra only matters to a host that takes its IPv6 address by SLAAC
  // on purpose (allow-accept-ra); a router (forwarding 1) ignores RAs at
  // accept_ra 1 anyway.
  bool allow_ra = run.param_str("allow-accept-ra") == "yes";
  const SysctlModel &m = run.ctx().sysctl();
  auto forwarding = m.value("net.ipv6.conf.all.forwarding");
  bool router = forwarding && text::trim(*forwarding) == "1";
  judge(run, k_network_extra, [&](const Rule &r) {
    std::string_view k = r.key;
    return (allow_ra || router) && k.find(".accept_ra") != std::string_view::npos;
  });
}

void process_hardening(CheckRun &run) {
  judge(run, k_process, [](const Rule &) { return false; });
}

constexpr CheckImpl k_sysctl_checks[] = {
    {"sysctl.network", network},
    {"sysctl.kernel", kernel},
    {"sysctl.network-extra", network_extra},
    {"sysctl.process-hardening", process_hardening},
};

} // namespace

std::span<const CheckImpl> sysctl_checks() {
  return k_sysctl_checks;
}

} // namespace bulwark
