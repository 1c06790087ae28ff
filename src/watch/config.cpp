// bulwark watch's YAML configuration (docs/watch.md): defaults from guide 003
// §3.3, Debian 12's log paths for the default jails.
#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/watch/config.hpp>

#include <re2/re2.h>

namespace bulwark::watch {

namespace {

JailConfig jail(std::string name, std::vector<Service> services, std::vector<std::string> logs) {
  JailConfig j;
  j.name = std::move(name);
  j.services = std::move(services);
  j.logs = std::move(logs);
  return j;
}

struct WatchConfigParser {
  std::string path;
  Error error(const yaml::Node &n, std::string msg) { return Error{std::move(msg), path, n.line}; }

  Result<std::string> scalar(const yaml::Node &n, std::string_view key) {
    if (!n.is_scalar())
      return error(n, std::string(key) + ": expected a single value");
    return n.scalar;
  }
  Result<int64_t> integer(const yaml::Node &n, std::string_view key, int64_t lo, int64_t hi) {
    std::string s = TRY(scalar(n, key));
    int64_t v = 0;
    if (s.empty() || s.size() > 18 || s.find_first_not_of("0123456789") != std::string::npos)
      return error(n, std::string(key) + ": \"" + s + "\" is not a whole number");
    v = std::stoll(s);
    if (v < lo || v > hi)
      return error(n, std::string(key) + ": " + s + " is outside " + std::to_string(lo) + ".." +
                          std::to_string(hi));
    return v;
  }
  Result<int64_t> duration(const yaml::Node &n, std::string_view key) {
    std::string s = TRY(scalar(n, key));
    int64_t v;
    if (!parse_duration(s, v) || v <= 0)
      return error(n, std::string(key) + ": \"" + s +
                          "\" is not a duration (a number with s, m, h, d or w)");
    return v;
  }
  Result<std::vector<std::string>> list(const yaml::Node &n, std::string_view key) {
    std::vector<std::string> out;
    if (n.is_scalar()) {
      out.push_back(n.scalar);
      return out;
    }
    if (!n.is_sequence())
      return error(n, std::string(key) + ": expected a list");
    for (auto &i : n.items)
      out.push_back(TRY(scalar(i, key)));
    return out;
  }

  // Keys shared by `defaults` and each jail.
  Result<bool> jail_key(const std::string &k, const yaml::Node &v, JailConfig &j) {
    if (k == "maxretry") {
      j.maxretry = static_cast<int>(TRY(integer(v, k, 1, 100)));
    } else if (k == "findtime") {
      j.findtime = TRY(duration(v, k));
    } else if (k == "bantime") {
      j.bantime = TRY(duration(v, k));
    } else if (k == "ipv4_prefix") {
      j.ipv4_prefix = static_cast<int>(TRY(integer(v, k, 8, 32)));
    } else if (k == "ipv6_prefix") {
      j.ipv6_prefix = static_cast<int>(TRY(integer(v, k, 16, 128)));
    } else if (k == "ignoreip") {
      j.ignoreip.clear();
      const yaml::Node *items = &v;
      std::vector<yaml::Node> one;
      if (v.is_scalar()) {
        one.push_back(v);
      } else if (!v.is_sequence()) {
        return error(v, "ignoreip: expected a list of addresses or CIDRs");
      }
      for (auto &i : v.is_scalar() ? one : items->items) {
        std::string s = TRY(scalar(i, k));
        Cidr c;
        if (!parse_cidr(s, c))
          return error(i, "ignoreip: \"" + s + "\" is not an address or CIDR");
        j.ignoreip.push_back(c);
      }
    } else if (k == "escalation") {
      if (!v.is_mapping())
        return error(v, "escalation: expected a mapping with factor and max");
      for (auto &[ek, ev] : v.entries) {
        if (ek == "factor") {
          std::string s = TRY(scalar(ev, ek));
          char *end = nullptr;
          double f = std::strtod(s.c_str(), &end);
          if (s.empty() || *end != '\0' || !(f >= 1.0 && f <= 100.0))
            return error(ev, "escalation.factor: \"" + s + "\" is not a number in 1..100");
          j.escalation_factor = f;
        } else if (ek == "max") {
          j.escalation_max = TRY(duration(ev, ek));
        } else if (ek == "forget") {
          j.escalation_forget = TRY(duration(ev, ek));
        } else {
          return error(ev, "escalation: unknown key \"" + ek + "\" (factor, max, forget)");
        }
      }
    } else {
      return false;
    }
    return true;
  }
};

} // namespace

bool parse_duration(std::string_view s, int64_t &out) {
  if (s.empty() || s.size() > 12)
    return false;
  size_t i = 0;
  int64_t v = 0;
  while (i < s.size() && s[i] >= '0' && s[i] <= '9')
    v = v * 10 + (s[i++] - '0');
  if (i == 0)
    return false;
  int64_t mult = 1;
  if (i < s.size()) {
    if (i + 1 != s.size())
      return false;
    switch (s[i]) {
    case 's': break;
    case 'm': mult = 60; break;
    case 'h': mult = 3600; break;
    case 'd': mult = 86400; break;
    case 'w': mult = 7 * 86400; break;
    default: return false;
    }
  }
  out = v * mult;
  return out <= int64_t{100} * 365 * 86400;
}

Config default_config() {
  Config c;
  c.jails.push_back(jail("sshd", {Service::sshd}, {"/var/log/auth.log"}));
  c.jails.push_back(jail("sudo", {Service::sudo}, {"/var/log/auth.log"}));
  c.jails.push_back(
      jail("nginx", {Service::nginx}, {"/var/log/nginx/error.log", "/var/log/nginx/access.log"}));
  c.jails.push_back(
      jail("postgresql", {Service::postgresql}, {"/var/log/postgresql/postgresql-15-main.log"}));
  c.jails.push_back(jail("openvpn", {Service::openvpn}, {"/var/log/syslog"}));
  c.jails.push_back(jail("strongswan", {Service::strongswan}, {"/var/log/syslog"}));
  return c;
}

Result<Config> parse_config(std::string_view text, const std::string &path) {
  Config c = default_config();
  c.path = path;
  // A file of only comments (or /dev/null) means the defaults; libfyaml
  // sees no document in it.
  bool blank = true;
  for (auto &l : text::split(text, '\n')) {
    std::string_view t = text::trim(l);
    if (!t.empty() && t[0] != '#')
      blank = false;
  }
  if (blank)
    return c;
  yaml::Node root = TRY(yaml::parse(text, path));
  WatchConfigParser p{path};
  if (root.kind == yaml::Node::Kind::null)
    return c;
  if (!root.is_mapping())
    return p.error(root, "expected a mapping at the top level");
  // Defaults first, whatever their place in the file, so that jails inherit.
  JailConfig defaults;
  if (const yaml::Node *d = root.find("defaults")) {
    if (!d->is_mapping())
      return p.error(*d, "defaults: expected a mapping");
    for (auto &[k, v] : d->entries)
      if (!TRY(p.jail_key(k, v, defaults)))
        return p.error(v, "defaults: unknown key \"" + k + "\"");
  }
  for (auto &j : c.jails) {
    std::string name = j.name;
    auto services = j.services;
    auto logs = j.logs;
    auto units = j.units;
    j = defaults;
    j.name = name;
    j.services = services;
    j.logs = logs;
    j.units = units;
  }
  for (auto &[k, v] : root.entries) {
    if (k == "defaults") {
      continue;
    } else if (k == "state_dir") {
      c.state_dir = TRY(p.scalar(v, k));
    } else if (k == "limits") {
      if (!v.is_mapping())
        return p.error(v, "limits: expected a mapping");
      for (auto &[lk, lv] : v.entries) {
        if (lk == "max_tracked")
          c.max_tracked = static_cast<size_t>(TRY(p.integer(lv, lk, 1024, int64_t{1} << 28)));
        else if (lk == "max_bans")
          c.max_bans = static_cast<size_t>(TRY(p.integer(lv, lk, 16, int64_t{1} << 24)));
        else if (lk == "max_line")
          c.max_line = static_cast<size_t>(TRY(p.integer(lv, lk, 1024, int64_t{1} << 26)));
        else
          return p.error(lv, "limits: unknown key \"" + lk + "\"");
      }
    } else if (k == "metrics") {
      if (!v.is_mapping())
        return p.error(v, "metrics: expected a mapping");
      for (auto &[mk, mv] : v.entries) {
        if (mk == "listen")
          c.metrics_listen = TRY(p.scalar(mv, mk));
        else if (mk == "textfile")
          c.textfile = TRY(p.scalar(mv, mk));
        else
          return p.error(mv, "metrics: unknown key \"" + mk + "\"");
      }
    } else if (k == "journal") {
      if (!v.is_mapping())
        return p.error(v, "journal: expected a mapping (units, identifiers, directory)");
      for (auto &[jk, jv] : v.entries) {
        if (jk == "units")
          c.journal.units = TRY(p.list(jv, jk));
        else if (jk == "identifiers")
          c.journal.identifiers = TRY(p.list(jv, jk));
        else if (jk == "directory")
          c.journal.directory = TRY(p.scalar(jv, jk));
        else
          return p.error(jv, "journal: unknown key \"" + jk + "\"");
      }
    } else if (k == "nftables") {
      if (!v.is_mapping())
        return p.error(v, "nftables: expected a mapping");
      for (auto &[nk, nv] : v.entries) {
        if (nk == "check_interval") {
          c.nft_check_interval = TRY(p.duration(nv, nk));
          continue;
        }
        if (nk != "table")
          return p.error(nv, "nftables: unknown key \"" + nk + "\" (table, check_interval)");
        c.nft_table = TRY(p.scalar(nv, nk));
        if (c.nft_table.empty() || c.nft_table.size() > 32 ||
            c.nft_table.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
                std::string::npos)
          return p.error(nv, "nftables.table: use lower-case letters, digits and _");
      }
    } else if (k == "action") {
      c.action = TRY(p.scalar(v, k));
      if (c.action != "nftables" && c.action != "iptables-ipset")
        return p.error(v, "action: \"" + c.action + "\" is not nftables or iptables-ipset");
    } else if (k == "ipset") {
      if (!v.is_mapping())
        return p.error(v, "ipset: expected a mapping (name, check_interval)");
      for (auto &[ik, iv] : v.entries) {
        if (ik == "check_interval") {
          c.ipset_check_interval = TRY(p.duration(iv, ik));
        } else if (ik == "name") {
          c.ipset_name = TRY(p.scalar(iv, ik));
          // Set names are at most 31 characters: NAME-v4net must fit.
          if (c.ipset_name.empty() || c.ipset_name.size() > 20 ||
              c.ipset_name.find_first_not_of("abcdefghijklmnopqrstuvwxyz0123456789_") !=
                  std::string::npos)
            return p.error(iv, "ipset.name: use at most 20 lower-case letters, digits and _");
        } else {
          return p.error(iv, "ipset: unknown key \"" + ik + "\" (name, check_interval)");
        }
      }
    } else if (k == "hook") {
      if (!v.is_mapping())
        return p.error(v, "hook: expected a mapping (exec)");
      for (auto &[hk, hv] : v.entries) {
        if (hk != "exec")
          return p.error(hv, "hook: unknown key \"" + hk + "\" (exec)");
        c.hook_exec = TRY(p.list(hv, hk));
        // No shell: the program is run directly, so it must be a path.
        if (c.hook_exec.empty() || c.hook_exec[0].empty() || c.hook_exec[0][0] != '/')
          return p.error(hv, "hook.exec: [PROGRAM, ARG...] with PROGRAM an absolute path "
                             "(run without a shell)");
      }
    } else if (k == "nginx") {
      if (!v.is_mapping())
        return p.error(v, "nginx: expected a mapping");
      for (auto &[nk, nv] : v.entries) {
        if (nk == "failures_from") {
          std::string f = TRY(p.scalar(nv, nk));
          if (f == "access_log")
            c.matchers.nginx_failures = NginxFailures::access_log;
          else if (f == "error_log")
            c.matchers.nginx_failures = NginxFailures::error_log;
          else
            return p.error(nv, "nginx.failures_from: \"" + f + "\" is not access_log or error_log");
          continue;
        }
        if (nk != "statuses")
          return p.error(nv, "nginx: unknown key \"" + nk + "\" (statuses, failures_from)");
        c.matchers.nginx_statuses.clear();
        if (!nv.is_sequence())
          return p.error(nv, "nginx.statuses: expected a list of HTTP statuses");
        for (auto &i : nv.items)
          c.matchers.nginx_statuses.push_back(static_cast<int>(TRY(p.integer(i, nk, 100, 599))));
      }
    } else if (k == "jails") {
      if (!v.is_mapping())
        return p.error(v, "jails: expected a mapping of jail names");
      for (auto &[name, jv] : v.entries) {
        if (!jv.is_mapping())
          return p.error(jv, "jail " + name + ": expected a mapping");
        JailConfig *j = nullptr;
        for (auto &e : c.jails)
          if (e.name == name)
            j = &e;
        if (j == nullptr) {
          c.jails.push_back(defaults);
          j = &c.jails.back();
          j->name = name;
        }
        j->line = jv.line;
        j->configured = true;
        for (auto &[jk, jvv] : jv.entries) {
          if (TRY(p.jail_key(jk, jvv, *j)))
            continue;
          if (jk == "enabled") {
            std::string s = TRY(p.scalar(jvv, jk));
            if (s != "true" && s != "false")
              return p.error(jvv, "enabled: expected true or false");
            j->enabled = s == "true";
          } else if (jk == "logs") {
            j->logs = TRY(p.list(jvv, jk));
          } else if (jk == "units") {
            j->units = TRY(p.list(jvv, jk));
          } else if (jk == "identifiers") {
            j->identifiers = TRY(p.list(jvv, jk));
          } else if (jk == "programs") {
            j->programs = TRY(p.list(jvv, jk));
          } else if (jk == "services") {
            j->services.clear();
            for (auto &s : TRY(p.list(jvv, jk))) {
              Service sv;
              if (!service_from_name(s, sv))
                return p.error(jvv, "services: unknown service \"" + s +
                                        "\" (sshd, sudo, nginx, postgresql, openvpn, strongswan)");
              j->services.push_back(sv);
            }
          } else if (jk == "failregex") {
            if (!jvv.is_sequence() && !jvv.is_scalar())
              return p.error(jvv, "failregex: expected a list of regular expressions");
            std::vector<yaml::Node> one{jvv};
            for (auto &i : jvv.is_scalar() ? one : jvv.items) {
              std::string re = TRY(p.scalar(i, jk));
              size_t h = re.find("<HOST>");
              if (h == std::string::npos || re.find("<HOST>", h + 1) != std::string::npos)
                return p.error(i, "failregex: needs exactly one <HOST>");
              if (re.find("(?P<host>") != std::string::npos)
                return p.error(i, "failregex: the group name \"host\" is reserved for <HOST>");
              RE2::Options o;
              o.set_log_errors(false);
              RE2 compiled(expand_host(re), o);
              if (!compiled.ok())
                return p.error(i, "failregex: " + compiled.error());
              j->failregex.push_back({re, i.line});
            }
          } else {
            return p.error(jvv, "jail " + name + ": unknown key \"" + jk + "\"");
          }
        }
      }
    } else {
      return p.error(v, "unknown key \"" + k + "\"");
    }
  }
  return c;
}

} // namespace bulwark::watch
