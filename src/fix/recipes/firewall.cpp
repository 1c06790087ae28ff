// nftables: the host firewall every firewall.* check judges, written so that
// it never locks the operator out.
//
// Debian 12's nftables.service runs `nft -f /etc/nftables.conf` at boot
// (WantedBy=sysinit.target); it is installed but not enabled by default. The
// recipe writes one table of its own, `table inet bulwark_filter`, in
// /etc/nftables.d/bulwark.nft, included at the end of /etc/nftables.conf
// (created when absent), and enables nftables.service with the link its
// [Install] section names. The file opens with the idiom `table inet
// bulwark_filter` + `delete table inet bulwark_filter`, so loading it again
// replaces this table only: Docker's tables (iptables-nft), bulwark watch's
// ban table (`inet bulwark`) and the user's are left alone,
// and no forward chain is written (neither guide asks for one, and Docker
// routes its containers through forward).
//
// With several base chains on one hook a packet must pass every one of them
// (an accept ends only its own chain), so the table's `policy drop` decides
// on its own. Its input chain accepts lo, established/related, the ICMP that
// path MTU discovery and IPv6 neighbour discovery need, SSH on every port
// sshd listens on (bulwark's own reading of sshd_config: Port and
// ListenAddress) -- from the profile's admin sources, or from anywhere when
// the profile accepts a rate limit -- each new SSH connection through a
// per-source meter (rate limited, and one source's flood never uses up
// another's), the current session's source when bulwark runs on the host
// over SSH (SSH_CONNECTION: never dropped whatever the profile says), and the
// profile's allowed ports. When the profile asks for egress filtering, an
// output chain (policy drop) lets out lo, replies, DNS, NTP, HTTP(S) and ICMP.
//
// Every firewall.* check's recipe names the same settings (the other checks'
// parameters, "{check:param}"), so they all produce the same file: the
// first failing check's action writes it, the later ones are covered by it
// (an action without edits). nft -c judges the files in the root, the
// re-audit judges every check; nothing is loaded (a reload of nftables.service
// is reported, never run).
//
// ufw owns its own files (user.rules, ufw.conf): a host with ufw is refused
// with the ufw commands, never given a second firewall beside it.

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/firewall.hpp>
#include <bulwark/parse/sshd_config.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <cstdlib>
#include <set>

namespace bulwark::fix {

namespace {

constexpr const char *k_conf = "/etc/nftables.conf";
constexpr const char *k_table_file = "/etc/nftables.d/bulwark.nft";
constexpr const char *k_unit = "nftables.service";
constexpr const char *k_sshd = "/etc/ssh/sshd_config";
// New SSH connections per source: enough for an operator's scripts, slow
// for password guessing (guide 003 §3.1's `ufw limit` allows 6 in 30 s).
constexpr const char *k_ssh_rate = "limit rate 10/minute burst 10 packets";

std::string arg(const RecipeInput &in, const std::string &key) {
  for (auto &[k, v] : in.args.set)
    if (k == key)
      return v;
  return "";
}

std::vector<std::string> list_arg(const RecipeInput &in, const std::string &key) {
  std::vector<std::string> out;
  for (auto &s : text::split(arg(in, key), ','))
    if (auto t = std::string(text::trim(s)); !t.empty())
      out.push_back(t);
  return out;
}

struct Source {
  std::string addr; // "10.0.0.0/8", "2001:db8::/32", "198.51.100.7"
  bool v6 = false;
};

// An address or network as nft writes it; nullopt when it is not one.
std::optional<Source> parse_source(const std::string &s) {
  auto c = fw::Cidr::parse(s);
  if (!c)
    return std::nullopt;
  return Source{s, s.find(':') != std::string::npos};
}

// The ports sshd listens on: Port, and the port of each ListenAddress that
// names one ("[::]:2222", "0.0.0.0:2222"), into `ports`. Errors:
// sshd_config cannot be read or has errors (guessing the port could lock
// the operator out).
std::optional<Error> sshd_ports(const RootFs &fs, bool &installed, std::set<uint32_t> &ports) {
  installed = fs.exists(k_sshd);
  if (!installed)
    return std::nullopt;
  auto cfg = ssh::parse_sshd_config(fs, k_sshd);
  if (!cfg)
    return cfg.error();
  if (cfg->has_errors())
    return Error{"sshd_config has errors: the port sshd listens on is not known; fix them first",
                 cfg->diagnostics.front().loc.path, cfg->diagnostics.front().loc.line};
  ssh::UserDb users = ssh::UserDb::load(fs);
  ssh::Effective eff = ssh::evaluate(*cfg, ssh::ConnectionSpec{}, users);
  auto number = [](std::string_view s) -> std::optional<uint32_t> {
    std::string t(s);
    char *end = nullptr;
    unsigned long v = std::strtoul(t.c_str(), &end, 10);
    if (t.empty() || *end != '\0' || v == 0 || v > 65535)
      return std::nullopt;
    return static_cast<uint32_t>(v);
  };
  for (auto &p : eff.get("port").args)
    if (auto n = number(p))
      ports.insert(*n);
  for (auto &l : cfg->lines) {
    if (l.kind != ssh::Line::Kind::directive || l.keyword == nullptr ||
        std::string_view(l.keyword->name) != "listenaddress" || l.args.empty())
      continue;
    const std::string &a = l.args[0];
    auto colon = a.rfind(':');
    bool bracketed = a.starts_with("[") && a.find("]:") != std::string::npos;
    bool v4_port = a.find(':') == colon && colon != std::string::npos;
    if (bracketed || v4_port)
      if (auto n = number(std::string_view(a).substr(colon + 1)))
        ports.insert(*n);
  }
  if (ports.empty())
    ports.insert(22);
  return std::nullopt;
}

// The current session (SSH_CONNECTION="client port server port") when
// bulwark runs on the host it fixes; nullopt offline or without one.
struct Session {
  Source client;
  uint32_t server_port = 0;
};
std::optional<Session> current_session(const RootFs &fs) {
  const char *env = std::getenv("SSH_CONNECTION");
  if (!fs.is_host_root() || env == nullptr)
    return std::nullopt;
  auto w = text::split(text::trim(env), ' ');
  if (w.size() != 4)
    return std::nullopt;
  unsigned char buf[16];
  bool v6 = w[0].find(':') != std::string::npos;
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, w[0].c_str(), buf) != 1)
    return std::nullopt;
  char *end = nullptr;
  unsigned long port = std::strtoul(w[3].c_str(), &end, 10);
  if (*end != '\0' || port == 0 || port > 65535)
    return std::nullopt;
  return Session{Source{w[0], v6}, static_cast<uint32_t>(port)};
}

std::string port_set(const std::set<uint32_t> &ports) {
  std::string out;
  for (uint32_t p : ports)
    out += (out.empty() ? "" : ", ") + std::to_string(p);
  return ports.size() == 1 ? out : "{ " + out + " }";
}

struct Settings {
  std::set<uint32_t> ssh_ports; // empty: no sshd
  std::vector<Source> ssh_sources;
  bool ssh_from_anywhere = false; // the profile accepts a rate limit
  std::optional<Session> session;
  std::set<uint32_t> tcp, udp; // allowed ports other than SSH
  bool egress = false;
};

std::string ruleset(const Settings &s) {
  std::string t =
      "#!/usr/sbin/nft -f\n"
      "# Written by bulwark fix (firewall.*): the host's inbound filter, a table of its own.\n"
      "# Loading this file again replaces this table only; Docker's and other tables stay.\n"
      "\n"
      "table inet bulwark_filter\n"
      "delete table inet bulwark_filter\n"
      "\n"
      "table inet bulwark_filter {\n"
      "\tchain input {\n"
      "\t\ttype filter hook input priority filter; policy drop;\n"
      "\t\tiif \"lo\" accept\n"
      "\t\tct state established,related accept\n"
      "\t\tct state invalid drop\n"
      "\t\t# Errors, path MTU discovery (packet-too-big) and IPv6 neighbour discovery.\n"
      "\t\ticmp type { destination-unreachable, time-exceeded, "
      "parameter-problem, echo-request } accept\n"
      "\t\ticmpv6 type { destination-unreachable, packet-too-big, "
      "time-exceeded, parameter-problem, echo-request, nd-router-solicit, nd-router-advert, "
      "nd-neighbor-solicit, nd-neighbor-advert } accept\n";
  int meter = 0;
  auto ssh_rule = [&](const std::string &match, bool v6, const std::set<uint32_t> &ports) {
    t += "\t\t" + match + (match.empty() ? "" : " ") + "tcp dport " + port_set(ports) +
         " ct state new meter bulwark-ssh-" + std::to_string(++meter) + " { " +
         (v6 ? "ip6" : "ip") + " saddr " + k_ssh_rate + " } accept\n";
  };
  if (s.session) {
    std::set<uint32_t> ports = s.ssh_ports;
    ports.insert(s.session->server_port);
    t += "\t\t# The SSH session bulwark fix ran in (SSH_CONNECTION): kept open.\n";
    ssh_rule(std::string(s.session->client.v6 ? "ip6" : "ip") + " saddr " + s.session->client.addr,
             s.session->client.v6, ports);
  }
  if (!s.ssh_ports.empty()) {
    if (s.ssh_from_anywhere) {
      t += "\t\t# SSH from anywhere, each source rate limited.\n";
      ssh_rule("meta nfproto ipv4", false, s.ssh_ports);
      ssh_rule("meta nfproto ipv6", true, s.ssh_ports);
    } else {
      t += "\t\t# SSH from the admin networks only, each source rate limited.\n";
      for (const Source &src : s.ssh_sources)
        ssh_rule(std::string(src.v6 ? "ip6" : "ip") + " saddr " + src.addr, src.v6, s.ssh_ports);
    }
  }
  if (!s.tcp.empty() || !s.udp.empty())
    t += "\t\t# The ports the profile allows to the world.\n";
  if (!s.tcp.empty())
    t += "\t\ttcp dport " + port_set(s.tcp) + " accept\n";
  if (!s.udp.empty())
    t += "\t\tudp dport " + port_set(s.udp) + " accept\n";
  t += "\t}\n";
  if (s.egress)
    t += "\n"
         "\tchain output {\n"
         "\t\ttype filter hook output priority filter; policy drop;\n"
         "\t\toif \"lo\" accept\n"
         "\t\tct state established,related accept\n"
         "\t\t# DNS, NTP, package mirrors and HTTPS APIs; add what else the host must reach.\n"
         "\t\tudp dport { 53, 123 } accept\n"
         "\t\ttcp dport { 53, 80, 443 } accept\n"
         "\t\t# ICMP and ICMPv6 by number: a minimal root has no /etc/protocols.\n"
         "\t\tmeta l4proto { 1, 58 } accept\n"
         "\t}\n";
  t += "}\n";
  return t;
}

bool includes_table_file(std::string_view conf) {
  for (auto &l : text::split(conf, '\n')) {
    auto t = text::trim(l);
    if (t.starts_with("include") && t.find(std::string("\"") + k_table_file + "\"") != t.npos)
      return true;
  }
  return false;
}

Result<RecipeOutcome> nftables(const RecipeInput &in) {
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, "", std::move(why)}};
  };
  if (in.fs.exists("/etc/ufw/ufw.conf"))
    return refuse("ufw manages this host's firewall (/etc/ufw): bulwark does not add a second "
                  "one beside it; use \"ufw default deny incoming\", \"ufw limit ssh\" and \"ufw "
                  "enable\"");
  systemd::UnitState unit = systemd::unit_state(in.fs, k_unit);
  if (unit.state == systemd::UnitFileState::not_found)
    return refuse("nftables is not installed in the root (no nftables.service): \"apt-get "
                  "install nftables\", then run bulwark fix again");
  if (unit.state == systemd::UnitFileState::error)
    return unit.error ? *unit.error : Error{"cannot tell whether nftables.service is enabled"};
  if (unit.is_masked())
    return refuse("nftables.service is masked (" + unit.path +
                  "): someone chose not to load it; unmask it by hand");

  Settings s;
  bool sshd = false;
  if (auto err = sshd_ports(in.fs, sshd, s.ssh_ports))
    return *err;
  s.session = current_session(in.fs);
  s.ssh_from_anywhere = arg(in, "rate-limit-suffices") == "yes";
  for (auto &a : list_arg(in, "admin-sources")) {
    auto src = parse_source(a);
    if (!src)
      return Error{"recipe of " + in.spec.id + ": admin source '" + a + "' is not an address"};
    s.ssh_sources.push_back(*src);
  }
  if (sshd && !s.ssh_from_anywhere && s.ssh_sources.empty() && !s.session)
    return refuse("the profile admits SSH from no admin source and no rate-limited world: the "
                  "firewall would lock every operator out; set firewall.ssh-restricted's "
                  "admin-sources");
  for (auto &p : list_arg(in, "ports")) {
    auto slash = p.find('/');
    std::string num = p.substr(0, slash), proto = slash == p.npos ? "" : p.substr(slash + 1);
    char *end = nullptr;
    unsigned long n = std::strtoul(num.c_str(), &end, 10);
    if (num.empty() || *end != '\0' || n == 0 || n > 65535 ||
        (!proto.empty() && proto != "tcp" && proto != "udp"))
      return Error{"recipe of " + in.spec.id + ": allowed port '" + p + "' is not PORT[/tcp|udp]"};
    auto port = static_cast<uint32_t>(n);
    // SSH's ports are opened by the SSH rules (restricted, rate limited).
    if (s.ssh_ports.count(port))
      continue;
    // A bare number opens TCP: the guides' services (80, 443) are TCP ones.
    if (proto != "udp")
      s.tcp.insert(port);
    if (proto == "udp")
      s.udp.insert(port);
  }
  s.egress = arg(in, "egress") == "yes";

  Working w(in.fs);
  w.write(k_table_file, ruleset(s));
  std::string conf = TRY(w.read(k_conf, true));
  bool conf_exists = in.fs.exists(k_conf);
  if (!conf_exists)
    conf = "#!/usr/sbin/nft -f\n# Written by bulwark fix: nftables.service loads this file at "
           "boot.\n";
  if (!includes_table_file(conf))
    conf = insert_line(conf, 1 << 30, std::string("include \"") + k_table_file + "\"");
  w.write(k_conf, conf);

  Action a;
  a.check_id = in.spec.id;
  // The table before the file that includes it (a playbook writes and
  // checks them in this order).
  for (const char *path : {k_table_file, k_conf}) {
    FileEdit e = TRY(write_edit(in.fs, path, *w.edited(path)));
    if (e.before && *e.before == e.after)
      continue;
    if (!e.before) {
      e.mode = path == k_conf ? 0755 : 0644; // Debian ships nftables.conf executable
      e.owner = "root";
      e.group = "root";
    }
    a.edits.push_back(std::move(e));
  }
  if (!unit.is_enabled_by_link()) {
    std::string target = unit.install.wanted_by.empty() ? std::string("sysinit.target")
                                                        : unit.install.wanted_by.front();
    FileEdit link;
    link.kind = FileEdit::Kind::symlink;
    link.path = "/etc/systemd/system/" + target + ".wants/" + k_unit;
    link.after = unit.fragment.empty() ? unit.path : unit.fragment;
    if (in.fs.lstat(link.path))
      return refuse(link.path + " exists but does not enable nftables.service; fix by hand");
    a.edits.push_back(std::move(link));
  }

  std::string where = std::string(k_table_file) + " (table inet bulwark_filter)";
  if (a.edits.empty()) {
    // Nothing to write: either the plan already writes it (an earlier
    // firewall check's action), or it was written before and the check
    // still fails because of something else in the loaded ruleset.
    RootFs disk = in.fs;
    disk.set_overlay(nullptr);
    auto on_disk = disk.read_file(k_table_file);
    if (on_disk && *on_disk == ruleset(s))
      return refuse("bulwark's ruleset is already in " + where +
                    " and the check still fails: another loaded ruleset decides (see the "
                    "evidence)");
    a.summary = "covered by the firewall planned above in " + where;
    a.restart_units = {k_unit};
    return RecipeOutcome{std::move(a)};
  }
  std::string ssh_what =
      !sshd ? "no sshd"
      : s.ssh_from_anywhere
          ? "SSH (" + port_set(s.ssh_ports) + ") from anywhere, rate limited per source"
          : "SSH (" + port_set(s.ssh_ports) + ") from " + arg(in, "admin-sources") +
                ", rate limited per source";
  a.summary = "nftables input policy drop with lo, replies, ICMP, " + ssh_what;
  if (s.session)
    a.summary += ", the current session's source " + s.session->client.addr + " kept open";
  if (!s.tcp.empty())
    a.summary += ", tcp " + port_set(s.tcp);
  if (!s.udp.empty())
    a.summary += ", udp " + port_set(s.udp);
  if (s.egress)
    a.summary += "; output policy drop but DNS, NTP, HTTP(S), ICMP";
  a.summary += "; in " + where + ", loaded at boot by nftables.service";
  a.validators = {Validator::nft};
  // `systemctl reload nftables` (or a reboot) loads it; never done here.
  a.restart_units = {k_unit};
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_kinds[] = {{"nftables", nftables}};

} // namespace

std::span<const RecipeKind> firewall_recipes() {
  return k_kinds;
}

} // namespace bulwark::fix
