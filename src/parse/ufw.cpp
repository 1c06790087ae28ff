// ufw 0.36.2 (Debian 12) as its boot script loads it: ufw.service runs
// /lib/ufw/ufw-init start, whose ufw_start() (ufw-init-functions) does, per
// family (ip6tables only with IPV6=yes):
//   1. the primary chains and INPUT -> ufw-before-logging-input,
//      ufw-before-input, ufw-after-input, ufw-after-logging-input,
//      ufw-reject-input, ufw-track-input (same for OUTPUT, FORWARD);
//   2. "-A ufw-reject-input -j REJECT" when DEFAULT_INPUT_POLICY=REJECT,
//      "-A ufw-track-input -p tcp|udp -m conntrack --ctstate NEW -j ACCEPT"
//      when it is ACCEPT;
//   3. ufw-skip-to-policy-* chains jumping to the policies;
//   4. iptables-restore -n of before.rules, after.rules, user.rules (a
//      chain declared in a file is flushed, others are kept);
//   5. "-A ufw-before-input -j ufw-user-input" (and output, forward);
//   6. the built-in policies last (REJECT becomes DROP plus step 2).
// With IPV6=no, ip6tables gets INPUT/OUTPUT/FORWARD DROP and lo accepted.
// ENABLED=yes in /etc/ufw/ufw.conf makes ufw-init start do anything at all.
// ufw-init sources /etc/default/ufw and /etc/ufw/ufw.conf as shell: the
// last assignment of a variable wins; quotes are removed.
// `ufw limit` writes "-m recent --set" and "-m recent --update --seconds 30
// --hitcount 6 -j ufw-user-limit" before the accept: throttled, not closed.
// Sources: ufw 0.36.2 src/ufw-init-functions, src/backend_iptables.py.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/firewall.hpp>

#include <algorithm>

namespace bulwark::fw {

namespace {

constexpr const char *k_init = "/usr/lib/ufw/ufw-init-functions";

struct ShellVar {
  std::string value;
  SourceLocation loc;
};

std::map<std::string, ShellVar> shell_vars(const RootFs &fs, const std::string &path, Ruleset &rs) {
  std::map<std::string, ShellVar> out;
  auto t = fs.read_file(path, 1024 * 1024);
  if (!t.ok()) {
    if (!t.error().not_found())
      rs.diagnostics.push_back({Diagnostic::Level::error, {path, 0}, t.error().message});
    return out;
  }
  int line = 0;
  for (auto &raw : text::split(*t, '\n', true)) {
    ++line;
    std::string_view s = text::trim(raw);
    if (s.empty() || s[0] == '#')
      continue;
    if (text::starts_with(s, "export "))
      s = text::trim(s.substr(7));
    auto eq = s.find('=');
    if (eq == std::string_view::npos || eq == 0)
      continue;
    std::string key(s.substr(0, eq));
    if (key.find_first_of(" \t") != std::string::npos)
      continue;
    std::string v(s.substr(eq + 1));
    if (auto hash = v.find(" #"); hash != std::string::npos)
      v = v.substr(0, hash);
    v = std::string(text::trim(v));
    if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
      v = v.substr(1, v.size() - 2);
    out[key] = {v, {path, line}};
  }
  return out;
}

void load_family(const RootFs &fs, UfwConfig &u, Family fam) {
  Ruleset &rs = u.ruleset;
  std::string type = fam == Family::v6 ? "6" : "";
  std::string pre = "ufw" + type;
  auto framework = [&](const std::string &text) {
    parse_iptables_save(text, k_init, fam, rs, true);
  };
  std::string t = "*filter\n";
  for (const char *dir : {"input", "output", "forward"})
    for (const char *c : {"before-logging", "before", "after", "after-logging", "reject", "track"})
      t += ":" + pre + "-" + c + "-" + dir + " - [0:0]\n";
  for (const char *dir : {"input", "output", "forward"}) {
    std::string up = text::lower(dir);
    for (auto &ch : up)
      ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    for (const char *c : {"before-logging", "before", "after", "after-logging", "reject", "track"})
      t += "-A " + up + " -j " + pre + "-" + c + "-" + dir + "\n";
  }
  if (u.input_policy == "REJECT")
    t += "-A " + pre + "-reject-input -j REJECT\n";
  if (u.output_policy == "REJECT")
    t += "-A " + pre + "-reject-output -j REJECT\n";
  if (u.input_policy == "ACCEPT")
    t += "-A " + pre + "-track-input -p tcp -m conntrack --ctstate NEW -j ACCEPT\n-A " + pre +
         "-track-input -p udp -m conntrack --ctstate NEW -j ACCEPT\n";
  if (u.output_policy == "ACCEPT")
    t += "-A " + pre + "-track-output -p tcp -m conntrack --ctstate NEW -j ACCEPT\n-A " + pre +
         "-track-output -p udp -m conntrack --ctstate NEW -j ACCEPT\n";
  auto pol = [](const std::string &p) { return p == "ACCEPT" ? std::string("ACCEPT") : "DROP"; };
  t += ":" + pre + "-logging-deny - [0:0]\n:" + pre + "-logging-allow - [0:0]\n";
  t += ":" + pre + "-skip-to-policy-input - [0:0]\n:" + pre +
       "-skip-to-policy-output - [0:0]\n:" + pre + "-skip-to-policy-forward - [0:0]\n";
  t += "-A " + pre + "-skip-to-policy-input -j " + pol(u.input_policy) + "\n";
  t += "-A " + pre + "-skip-to-policy-output -j " + pol(u.output_policy) + "\n";
  t += "-A " + pre + "-skip-to-policy-forward -j " + pol(u.forward_policy) + "\n";
  t += "COMMIT\n";
  framework(t);

  bool have_user = false;
  for (const char *f : {"before", "after", "user"}) {
    std::string path = std::string("/etc/ufw/") + f + type + ".rules";
    auto text = fs.read_file(path, 32 * 1024 * 1024);
    if (!text.ok() || text->empty()) {
      rs.diagnostics.push_back({Diagnostic::Level::error,
                                {path, 0},
                                "ufw-init: couldn't find " + path +
                                    (text.ok() ? " (empty)" : ": " + text.error().message)});
      continue;
    }
    if (std::string(f) == "user") {
      have_user = true;
      framework("*filter\n:" + pre + "-user-input - [0:0]\n:" + pre + "-user-output - [0:0]\n:" +
                pre + "-user-forward - [0:0]\n:" + pre + "-user-logging-input - [0:0]\n:" + pre +
                "-user-logging-output - [0:0]\n:" + pre + "-user-logging-forward - [0:0]\n:" + pre +
                "-user-limit - [0:0]\n:" + pre + "-user-limit-accept - [0:0]\nCOMMIT\n");
    }
    parse_iptables_save(*text, path, fam, rs, true);
  }
  if (have_user)
    framework("*filter\n-A " + pre + "-before-input -j " + pre + "-user-input\n-A " + pre +
              "-before-output -j " + pre + "-user-output\n-A " + pre + "-before-forward -j " + pre +
              "-user-forward\nCOMMIT\n");
  framework("*filter\n:INPUT " + pol(u.input_policy) + " [0:0]\n:FORWARD " + pol(u.forward_policy) +
            " [0:0]\n:OUTPUT " + pol(u.output_policy) + " [0:0]\nCOMMIT\n");
}

} // namespace

UfwConfig load_ufw(const RootFs &fs) {
  UfwConfig u;
  if (!fs.exists("/etc/ufw/ufw.conf"))
    return u;
  u.present = true;
  auto vars = shell_vars(fs, "/etc/default/ufw", u.ruleset);
  for (auto &[k, v] : shell_vars(fs, "/etc/ufw/ufw.conf", u.ruleset))
    vars[k] = v;
  auto get = [&](const char *k, std::string &out, SourceLocation &loc) {
    auto it = vars.find(k);
    if (it == vars.end())
      return;
    out = it->second.value;
    loc = it->second.loc;
  };
  std::string enabled = "no", ipv6 = "yes";
  get("ENABLED", enabled, u.enabled_loc);
  u.enabled = enabled == "yes" || enabled == "YES";
  if (u.enabled_loc.path.empty())
    u.enabled_loc = {"/etc/ufw/ufw.conf", 0};
  get("IPV6", ipv6, u.ipv6_loc);
  u.ipv6 = ipv6 == "yes" || ipv6 == "YES";
  get("DEFAULT_INPUT_POLICY", u.input_policy, u.input_loc);
  get("DEFAULT_OUTPUT_POLICY", u.output_policy, u.output_loc);
  get("DEFAULT_FORWARD_POLICY", u.forward_policy, u.forward_loc);
  if (u.input_loc.path.empty())
    u.input_loc = {"/etc/default/ufw", 0};
  if (u.output_loc.path.empty())
    u.output_loc = {"/etc/default/ufw", 0};

  load_family(fs, u, Family::v4);
  if (u.ipv6) {
    load_family(fs, u, Family::v6);
  } else {
    parse_iptables_save("*filter\n:INPUT DROP [0:0]\n:FORWARD DROP [0:0]\n:OUTPUT DROP [0:0]\n"
                        "-A INPUT -i lo -j ACCEPT\n-A OUTPUT -o lo -j ACCEPT\nCOMMIT\n",
                        k_init, Family::v6, u.ruleset, false);
  }
  // Framework rules have no line of their own in the target: line 0 of the
  // init script. The built-in policies come from /etc/default/ufw.
  // The rules ufw-init derives from a DEFAULT_*_POLICY (track-*, reject-*,
  // skip-to-policy-*) are that policy's line.
  if (u.forward_loc.path.empty())
    u.forward_loc = {"/etc/default/ufw", 0};
  auto ends = [](const std::string &n, const char *suffix) {
    std::string_view sv(n), sf(suffix);
    return sv.size() >= sf.size() && sv.substr(sv.size() - sf.size()) == sf;
  };
  for (Table &t : u.ruleset.tables) {
    t.backend = "ufw";
    bool v6_off = t.family == "ip6" && !u.ipv6;
    for (auto &[n, c] : t.chains) {
      const SourceLocation &pol = ends(n, "OUTPUT") || ends(n, "-output")     ? u.output_loc
                                  : ends(n, "FORWARD") || ends(n, "-forward") ? u.forward_loc
                                                                              : u.input_loc;
      bool derived = n.find("-track-") != std::string::npos ||
                     n.find("-reject-") != std::string::npos ||
                     n.find("-skip-to-policy-") != std::string::npos;
      for (Rule &r : c.rules)
        if (r.loc.path == k_init)
          r.loc = derived && !v6_off ? pol : SourceLocation{k_init, 0};
      if (c.base && c.policy_loc.path == k_init) {
        c.policy_loc = v6_off ? u.ipv6_loc : pol;
        if (c.policy_loc.path.empty())
          c.policy_loc = {"/etc/default/ufw", 0};
      }
    }
  }
  std::vector<std::string> files;
  for (auto &f : u.ruleset.files)
    if (f != k_init && std::find(files.begin(), files.end(), f) == files.end())
      files.push_back(f);
  u.ruleset.files = files;
  return u;
}

} // namespace bulwark::fw
