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
// A host with ufw (/etc/ufw/ufw.conf) gets no second firewall beside it: the
// same settings go into ufw's own files, as ufw 0.36.2 itself writes them
// (backend_iptables.py's _write_rules, set_default), so `ufw status`, `ufw
// allow` and `ufw delete` keep working: ENABLED=yes in ufw.conf,
// DEFAULT_INPUT_POLICY="DROP" (and DEFAULT_OUTPUT_POLICY="DROP" for egress)
// in /etc/default/ufw, and in user.rules / user6.rules the `### tuple ###`
// blocks of `ufw limit from SRC to any port P proto tcp` (SSH, per admin
// source, or from anywhere when a rate limit suffices), `ufw allow P/tcp`
// (the allowed ports) and `ufw allow out` (DNS, NTP, HTTP(S)) after the
// user's own blocks, which are kept byte for byte; the logging section is
// regenerated for the LOGLEVEL and policies, as ufw does on every write.
// ufw.service is enabled by its [Install] link. iptables-restore --test and
// ip6tables-restore --test judge the rules files; nothing is loaded.

#include "enable.hpp"

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/firewall.hpp>
#include <bulwark/parse/sshd_config.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <array>
#include <cstdlib>
#include <map>
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

std::string firewall_arg(const RecipeInput &in, const std::string &key) {
  for (auto &[k, v] : in.args.set)
    if (k == key)
      return v;
  return "";
}

std::vector<std::string> list_arg(const RecipeInput &in, const std::string &key) {
  std::vector<std::string> out;
  for (auto &s : text::split(firewall_arg(in, key), ','))
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
std::optional<Error> firewall_sshd_ports(const RootFs &fs, bool &installed,
                                         std::set<uint32_t> &ports) {
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

// ---------------------------------------------------------------------------
// ufw (0.36.2, Debian 12): the same settings, stored the way ufw stores them,
// so that `ufw status`, `ufw allow` and `ufw delete` keep working.

constexpr const char *k_ufw_conf = "/etc/ufw/ufw.conf";
constexpr const char *k_ufw_defaults = "/etc/default/ufw";
constexpr const char *k_ufw_unit = "ufw.service";

// One `### tuple ###` block of user.rules / user6.rules: the tuple line and
// the iptables-restore lines ufw derived from it, each ending in "\n".
struct UfwBlock {
  std::string tuple; // "### tuple ### limit tcp 22 0.0.0.0/0 any 10.0.0.0/8 in"
  std::string text;  // the tuple line and its rules
};

// The value of the last assignment of `key` in a shell file ufw-init
// sources (quotes removed), or "" when unset.
std::string shell_value(std::string_view file, std::string_view key) {
  std::string out;
  for (auto &raw : text::split(file, '\n')) {
    auto s = text::trim(raw);
    if (!s.starts_with(key) || s.size() <= key.size() || s[key.size()] != '=')
      continue;
    std::string v(text::trim(s.substr(key.size() + 1)));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    out = v;
  }
  return out;
}

// What ufw's set_default() writes: every `KEY=` line replaced by
// `KEY=value` (value as given, quotes included), or the line appended.
std::string set_shell_value(std::string_view file, std::string_view key, const std::string &value) {
  std::string out;
  bool found = false;
  for (size_t start = 0; start < file.size();) {
    size_t nl = file.find('\n', start);
    std::string_view line = file.substr(start, nl == file.npos ? file.npos : nl - start);
    start = nl == file.npos ? file.size() : nl + 1;
    if (line.starts_with(key) && line.size() > key.size() && line[key.size()] == '=') {
      out += std::string(key) + "=" + value + "\n";
      found = true;
    } else {
      out += std::string(line) + "\n";
    }
  }
  if (!found)
    out += std::string(key) + "=" + value + "\n";
  return out;
}

// An address as ufw's normalize_address() stores it: inet_ntop's form, no
// host netmask (/32, /128), an IPv4 network's host bits cleared.
std::optional<std::string> ufw_address(const std::string &s, bool &v6) {
  auto slash = s.find('/');
  std::string addr = s.substr(0, slash);
  v6 = addr.find(':') != std::string::npos;
  unsigned char buf[16];
  if (::inet_pton(v6 ? AF_INET6 : AF_INET, addr.c_str(), buf) != 1)
    return std::nullopt;
  int prefix = v6 ? 128 : 32;
  if (slash != std::string::npos) {
    std::string p = s.substr(slash + 1);
    char *end = nullptr;
    long n = std::strtol(p.c_str(), &end, 10);
    if (p.empty() || *end != '\0' || n < 0 || n > prefix)
      return std::nullopt;
    prefix = static_cast<int>(n);
  }
  if (!v6)
    for (int bit = prefix; bit < 32; ++bit)
      buf[bit / 8] &= static_cast<unsigned char>(~(0x80u >> (bit % 8)));
  char text[INET6_ADDRSTRLEN];
  if (::inet_ntop(v6 ? AF_INET6 : AF_INET, buf, text, sizeof text) == nullptr)
    return std::nullopt;
  std::string out = text;
  if (prefix != (v6 ? 128 : 32))
    out += "/" + std::to_string(prefix);
  return out;
}

// The tuple blocks of a user.rules ufw wrote, in order. Errors (as a
// refusal reason): a rule in the RULES section outside any tuple, which
// ufw would drop the next time it writes the file.
std::optional<std::string> ufw_blocks(std::string_view file, const std::string &prefix,
                                      std::vector<UfwBlock> &out) {
  bool in_rules = false;
  UfwBlock *cur = nullptr;
  int line_no = 0;
  for (auto &raw : text::split(file, '\n', true)) {
    ++line_no;
    std::string_view l = raw;
    if (l == "### RULES ###") {
      in_rules = true;
      continue;
    }
    if (!in_rules)
      continue;
    if (l == "### END RULES ###" || l == "COMMIT")
      break;
    if (l.starts_with("### tuple ### ")) {
      out.push_back({std::string(l), std::string(l) + "\n"});
      cur = &out.back();
      continue;
    }
    if (text::trim(l).empty()) {
      cur = nullptr;
      continue;
    }
    if (cur) {
      cur->text += std::string(l) + "\n";
      continue;
    }
    // The package's user.rules carries the rate limiting rules here.
    if (l.starts_with("-A " + prefix + "-user-limit"))
      continue;
    return "line " + std::to_string(line_no) + " is a rule ufw did not write (no ### tuple ###); " +
           "ufw would drop it on its next change: move it to before.rules or add it with ufw";
  }
  return std::nullopt;
}

// ufw's _get_logging_rules() for the chains of one family (backend_iptables.py),
// as _write_rules() prints them. `policy` of input, output, forward: "DROP",
// "REJECT" or "ACCEPT".
std::string ufw_logging(const std::string &prefix, const std::string &level,
                        const std::array<std::string, 3> &policy) {
  static const char *k_dirs[] = {"input", "output", "forward"};
  std::string out;
  if (level == "off") {
    for (const char *d : k_dirs)
      out += "-I " + prefix + "-user-logging-" + d + " -j RETURN\n";
    return out;
  }
  const std::map<std::string, int> k_levels = {
      {"low", 100}, {"medium", 200}, {"high", 300}, {"full", 400}};
  int lv = k_levels.at(level);
  const std::string limit = " -m limit --limit 3/min --limit-burst 10";
  std::string largs = lv < 300 ? limit : "";
  for (int i = 0; i < 3; ++i) {
    std::string chain = prefix + "-after-logging-" + k_dirs[i];
    if (policy[i] != "ACCEPT")
      out += "-A " + chain + " -j LOG --log-prefix \"[UFW BLOCK] \"" + largs + "\n";
    else if (lv >= 200)
      out += "-A " + chain + " -j LOG --log-prefix \"[UFW ALLOW] \"" + largs + "\n";
  }
  std::string deny = prefix + "-logging-deny";
  if (lv < 200)
    out += "-I " + deny + " -m conntrack --ctstate INVALID -j RETURN" + largs + "\n";
  else
    out += "-A " + deny + " -m conntrack --ctstate INVALID -j LOG --log-prefix \"[UFW AUDIT " +
           "INVALID] \"" + largs + "\n";
  out += "-A " + deny + " -j LOG --log-prefix \"[UFW BLOCK] \"" + largs + "\n";
  out += "-A " + prefix + "-logging-allow -j LOG --log-prefix \"[UFW ALLOW] \"" + largs + "\n";
  if (lv >= 200) {
    std::string audit = lv >= 400 ? "" : lv >= 300 ? limit : " -m conntrack --ctstate NEW" + limit;
    for (const char *d : k_dirs)
      out += "-I " + prefix + "-before-logging-" + d + " -j LOG --log-prefix \"[UFW AUDIT] \"" +
             audit + "\n";
  }
  return out;
}

// user.rules (prefix "ufw") or user6.rules ("ufw6") as ufw's _write_rules()
// writes it, with `blocks` in order.
std::string ufw_user_rules(const std::string &prefix, const std::vector<UfwBlock> &blocks,
                           const std::string &level, const std::array<std::string, 3> &policy) {
  std::string t = "*filter\n";
  for (const char *c : {"user-input", "user-output", "user-forward", "before-logging-input",
                        "before-logging-output", "before-logging-forward", "user-logging-input",
                        "user-logging-output", "user-logging-forward", "after-logging-input",
                        "after-logging-output", "after-logging-forward", "logging-deny",
                        "logging-allow", "user-limit", "user-limit-accept"})
    t += ":" + prefix + "-" + c + " - [0:0]\n";
  t += "### RULES ###\n";
  for (auto &b : blocks)
    t += "\n" + b.text;
  t += "\n### END RULES ###\n\n### LOGGING ###\n" + ufw_logging(prefix, level, policy) +
       "### END LOGGING ###\n\n### RATE LIMITING ###\n";
  if (level != "off")
    t += "-A " + prefix + "-user-limit -m limit --limit 3/minute -j LOG --log-prefix \"[UFW " +
         "LIMIT BLOCK] \"\n";
  t += "-A " + prefix + "-user-limit -j REJECT\n-A " + prefix +
       "-user-limit-accept -j ACCEPT\n### END RATE LIMITING ###\nCOMMIT\n";
  return t;
}

// The block ufw writes for `ufw ACTION [in|out] [from SRC] to any port PORT
// proto PROTO` (action allow or limit; src "" for anywhere).
UfwBlock ufw_rule(const std::string &prefix, bool v6, const std::string &action,
                  const std::string &proto, uint32_t port, const std::string &src, bool out) {
  std::string any = v6 ? "::/0" : "0.0.0.0/0";
  std::string port_s = std::to_string(port);
  UfwBlock b;
  b.tuple = "### tuple ### " + action + " " + proto + " " + port_s + " " + any + " any " +
            (src.empty() ? any : src) + (out ? " out" : " in");
  std::string head = "-A " + prefix + (out ? "-user-output" : "-user-input") + " -p " + proto +
                     " --dport " + port_s + (src.empty() ? "" : " -s " + src);
  b.text = b.tuple + "\n";
  if (action == "limit")
    b.text += head + " -m conntrack --ctstate NEW -m recent --set\n" + head +
              " -m conntrack --ctstate NEW -m recent --update --seconds 30 --hitcount 6 -j " +
              prefix + "-user-limit\n" + head + " -j " + prefix + "-user-limit-accept\n";
  else
    b.text += head + " -j ACCEPT\n";
  return b;
}

Result<RecipeOutcome> ufw(const RecipeInput &in, const Settings &s, bool sshd) {
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, "", std::move(why)}};
  };
  systemd::UnitState unit = systemd::unit_state(in.fs, k_ufw_unit);
  if (unit.state == systemd::UnitFileState::not_found)
    return refuse("/etc/ufw/ufw.conf exists but ufw.service does not: the ufw package is not "
                  "installed completely (\"apt-get install --reinstall ufw\")");
  if (unit.state == systemd::UnitFileState::error)
    return unit.error ? *unit.error : Error{"cannot tell whether ufw.service is enabled"};
  if (unit.is_masked())
    return refuse("ufw.service is masked (" + unit.path +
                  "): someone chose not to load it; unmask it by hand");
  if (!in.fs.exists(k_ufw_defaults))
    return refuse(std::string(k_ufw_defaults) + " is missing: ufw's default policies are not "
                                                "known (\"apt-get install --reinstall ufw\")");

  Working w(in.fs);
  std::string conf = TRY(w.read(k_ufw_conf));
  std::string defaults = TRY(w.read(k_ufw_defaults));
  std::string level = shell_value(conf, "LOGLEVEL");
  if (level.empty())
    level = "low";
  if (level != "off" && level != "low" && level != "medium" && level != "high" && level != "full")
    return refuse("LOGLEVEL=" + level + " in " + k_ufw_conf + " is not one ufw knows");
  bool ipv6 = shell_value(defaults, "IPV6") != "no";
  if (auto v = shell_value(conf, "IPV6"); !v.empty())
    ipv6 = v != "no";

  // The policies as ufw-init will load them: ACCEPT becomes DROP where a
  // check asks for a deny; DROP or REJECT stay.
  auto policy_of = [&](const char *key) {
    std::string v = shell_value(defaults, key);
    return v.empty() ? std::string("DROP") : v;
  };
  std::array<std::string, 3> policy = {policy_of("DEFAULT_INPUT_POLICY"),
                                       policy_of("DEFAULT_OUTPUT_POLICY"),
                                       policy_of("DEFAULT_FORWARD_POLICY")};
  if (auto v = shell_value(defaults, "DEFAULT_INPUT_POLICY"); v != "DROP" && v != "REJECT") {
    policy[0] = "DROP";
    defaults = set_shell_value(defaults, "DEFAULT_INPUT_POLICY", "\"DROP\"");
  }
  if (s.egress && policy[1] == "ACCEPT") {
    policy[1] = "DROP";
    defaults = set_shell_value(defaults, "DEFAULT_OUTPUT_POLICY", "\"DROP\"");
  }
  if (shell_value(conf, "ENABLED") != "yes")
    conf = set_shell_value(conf, "ENABLED", "yes");
  w.write(k_ufw_conf, conf);
  w.write(k_ufw_defaults, defaults);

  // The rules each family needs, in the order `ufw` would be told them.
  std::vector<std::string> files = {"/etc/ufw/user.rules"};
  if (ipv6)
    files.push_back("/etc/ufw/user6.rules");
  std::map<std::string, std::string> generated;
  bool ssh_open = false; // some rule admits SSH (lockout guard)
  for (const std::string &path : files) {
    bool v6 = path.ends_with("6.rules");
    std::string prefix = v6 ? "ufw6" : "ufw";
    std::string current = TRY(w.read(path, true));
    std::vector<UfwBlock> blocks;
    if (auto bad = ufw_blocks(current, prefix, blocks))
      return refuse(path + ": " + *bad);
    std::set<std::string> have;
    for (auto &b : blocks)
      have.insert(b.tuple);
    auto add = [&](UfwBlock b) {
      if (have.insert(b.tuple).second)
        blocks.push_back(std::move(b));
    };
    auto limit_ssh = [&](const std::set<uint32_t> &ports, const std::string &src) {
      for (uint32_t p : ports) {
        add(ufw_rule(prefix, v6, "limit", "tcp", p, src, false));
        ssh_open = true;
      }
    };
    if (s.session && s.session->client.v6 == v6) {
      bool dummy = false;
      std::set<uint32_t> ports = s.ssh_ports;
      ports.insert(s.session->server_port);
      if (auto a = ufw_address(s.session->client.addr, dummy))
        limit_ssh(ports, *a);
    }
    if (sshd) {
      if (s.ssh_from_anywhere) {
        limit_ssh(s.ssh_ports, "");
      } else {
        for (const Source &src : s.ssh_sources) {
          bool src_v6 = false;
          auto a = ufw_address(src.addr, src_v6);
          if (!a)
            return Error{"recipe of " + in.spec.id + ": admin source '" + src.addr +
                         "' is not an address ufw accepts"};
          if (src_v6 == v6)
            limit_ssh(s.ssh_ports, *a);
        }
      }
    }
    for (uint32_t p : s.tcp)
      add(ufw_rule(prefix, v6, "allow", "tcp", p, "", false));
    for (uint32_t p : s.udp)
      add(ufw_rule(prefix, v6, "allow", "udp", p, "", false));
    if (s.egress) {
      // DNS, NTP, package mirrors and HTTPS APIs (as the nftables output chain).
      add(ufw_rule(prefix, v6, "allow", "tcp", 53, "", true));
      add(ufw_rule(prefix, v6, "allow", "udp", 53, "", true));
      add(ufw_rule(prefix, v6, "allow", "udp", 123, "", true));
      add(ufw_rule(prefix, v6, "allow", "tcp", 80, "", true));
      add(ufw_rule(prefix, v6, "allow", "tcp", 443, "", true));
    }
    generated[path] = ufw_user_rules(prefix, blocks, level, policy);
    w.write(path, generated[path]);
  }
  if (sshd && !ssh_open)
    return refuse("no admin source of the profile is of a family ufw filters (IPV6=no and only "
                  "IPv6 sources): the firewall would lock every operator out");

  Action a;
  a.check_id = in.spec.id;
  std::vector<std::string> order = {k_ufw_defaults, k_ufw_conf};
  order.insert(order.begin(), files.begin(), files.end());
  for (const std::string &path : order) {
    FileEdit e = TRY(write_edit(in.fs, path, *w.edited(path)));
    if (e.before && *e.before == e.after)
      continue;
    if (!e.before) {
      e.mode = 0640; // as ufw's postinst installs user.rules
      e.owner = "root";
      e.group = "root";
    }
    a.edits.push_back(std::move(e));
  }
  if (!unit.is_enabled_by_link()) {
    EnableLinks links = TRY(enable_links(in.fs, k_ufw_unit, unit));
    if (!links.refusal.empty())
      return refuse(std::move(links.refusal));
    for (auto &e : links.edits)
      a.edits.push_back(std::move(e));
  }
  a.restart_units = {k_ufw_unit};
  if (a.edits.empty()) {
    RootFs disk = in.fs;
    disk.set_overlay(nullptr);
    bool on_disk = true;
    for (auto &[path, content] : generated) {
      auto d = disk.read_file(path);
      on_disk = on_disk && d && *d == content;
    }
    if (on_disk)
      return refuse("ufw is already configured with bulwark's rules (/etc/ufw/user.rules) and the "
                    "check still fails: another rule decides (see the evidence)");
    a.summary = "covered by the ufw configuration planned above";
    return RecipeOutcome{std::move(a)};
  }
  std::string ssh_what = !sshd ? "no sshd"
                         : s.ssh_from_anywhere
                             ? "\"ufw limit\" SSH (" + port_set(s.ssh_ports) + ") from anywhere"
                             : "\"ufw limit\" SSH (" + port_set(s.ssh_ports) + ") from " +
                                   firewall_arg(in, "admin-sources");
  a.summary = "ufw: ENABLED=yes, default deny incoming, " + ssh_what;
  if (s.session)
    a.summary += ", the current session's source " + s.session->client.addr + " kept open";
  if (!s.tcp.empty())
    a.summary += ", allow tcp " + port_set(s.tcp);
  if (!s.udp.empty())
    a.summary += ", allow udp " + port_set(s.udp);
  if (s.egress)
    a.summary += "; default deny outgoing but DNS, NTP, HTTP(S)";
  a.summary += "; in /etc/ufw/user*.rules as ufw writes them, loaded at boot by ufw.service";
  a.validators = {Validator::iptables};
  if (ipv6)
    a.validators.push_back(Validator::ip6tables);
  return RecipeOutcome{std::move(a)};
}

Result<RecipeOutcome> recipe_nftables(const RecipeInput &in) {
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, "", std::move(why)}};
  };
  Settings s;
  bool sshd = false;
  if (auto err = firewall_sshd_ports(in.fs, sshd, s.ssh_ports))
    return *err;
  s.session = current_session(in.fs);
  s.ssh_from_anywhere = firewall_arg(in, "rate-limit-suffices") == "yes";
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
  s.egress = firewall_arg(in, "egress") == "yes";
  // ufw owns the firewall of a host that has it: its own files, never a
  // second firewall beside it.
  if (in.fs.exists(k_ufw_conf))
    return ufw(in, s, sshd);
  systemd::UnitState unit = systemd::unit_state(in.fs, k_unit);
  if (unit.state == systemd::UnitFileState::not_found)
    return refuse("nftables is not installed in the root (no nftables.service): \"apt-get "
                  "install nftables\", then run bulwark fix again");
  if (unit.state == systemd::UnitFileState::error)
    return unit.error ? *unit.error : Error{"cannot tell whether nftables.service is enabled"};
  if (unit.is_masked())
    return refuse("nftables.service is masked (" + unit.path +
                  "): someone chose not to load it; unmask it by hand");

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
    EnableLinks links = TRY(enable_links(in.fs, k_unit, unit));
    if (!links.refusal.empty())
      return refuse(std::move(links.refusal));
    for (auto &e : links.edits)
      a.edits.push_back(std::move(e));
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
          : "SSH (" + port_set(s.ssh_ports) + ") from " + firewall_arg(in, "admin-sources") +
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

constexpr RecipeKind k_firewall_kinds[] = {{"nftables", recipe_nftables}};

} // namespace

std::span<const RecipeKind> firewall_recipes() {
  return k_firewall_kinds;
}

} // namespace bulwark::fix
