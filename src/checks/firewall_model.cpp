// Which firewall a Debian 12 host gets at boot, and what it does to the
// packets the checks ask about.
//
// Loaders at boot (systemd units enabled and not masked, as systemctl
// is-enabled says: parse/systemd_units.hpp, through the shared SystemdModel):
// - ufw.service runs ufw-init start, which does nothing unless ENABLED=yes
//   in /etc/ufw/ufw.conf (ufw's postinst enables the unit itself);
// - netfilter-persistent.service (iptables-persistent) restores
//   /etc/iptables/rules.v4 and rules.v6 with iptables-restore (no -n);
// - nftables.service runs nft -f /etc/nftables.conf;
// - iptables.service / ip6tables.service (Red Hat layout) restore
//   /etc/sysconfig/iptables and ip6tables.
// A file its loader rejects loads nothing (nft -f and iptables-restore are
// transactional): its rules do not count, and the error is evidence.
// Several loaders at boot all add their hooks; the evaluator walks them all.
// Live (--live on /): `nft list ruleset` is the kernel's ruleset (Debian 12's
// iptables is iptables-nft, so iptables rules appear there too), plus the
// legacy x_tables when the kernel has any (iptables-legacy-save: a host
// switched to iptables-legacy, dockerd's rules among them).

#include <bulwark/checks/firewall_model.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>

#include <algorithm>
#include <set>

namespace bulwark {

using namespace fw;

namespace {

// The link that enables `unit` ("" when the unit is masked or not enabled),
// by systemctl is-enabled's one definition (parse/systemd_units.hpp). A unit
// file systemctl cannot read is an error diagnostic of the source.
std::string enabled_by(const systemd::UnitFiles &units, const std::string &unit,
                       const std::string &source, Ruleset &rs) {
  const systemd::UnitState &st = units.state(unit);
  if (st.state == systemd::UnitFileState::error)
    rs.diagnostics.push_back({Diagnostic::Level::error,
                              {st.error->path.empty() ? source : st.error->path, st.error->line},
                              "cannot tell whether " + unit + " is enabled: " + st.error->message});
  return st.is_enabled_by_link() ? st.path : "";
}

void add_source(FirewallModel &m, FirewallSource s, Ruleset rs) {
  for (auto &d : rs.diagnostics) {
    m.diagnostics.push_back(d);
    if (d.level == Diagnostic::Level::error && !s.first_error)
      s.first_error = d;
  }
  s.rejected = s.first_error.has_value();
  if (s.at_boot && !s.rejected)
    for (auto &t : rs.tables)
      m.ruleset.tables.push_back(std::move(t));
  for (auto &f : rs.files)
    m.ruleset.files.push_back(f);
  m.sources.push_back(std::move(s));
}

} // namespace

bool FirewallModel::any_loaded() const {
  return std::any_of(sources.begin(), sources.end(),
                     [](const FirewallSource &s) { return s.at_boot && !s.rejected; });
}

bool FirewallModel::has_input_chain(Family f) const {
  for (auto &t : ruleset.tables)
    if (t.families & static_cast<uint8_t>(f))
      for (auto &[n, c] : t.chains)
        if (c.base && c.hook == "input" && c.type == "filter")
          return true;
  return false;
}

Addr FirewallModel::world(Family f) const {
  static const char *v4[] = {"203.0.113.77", "198.51.100.77", "192.0.2.77",  "8.8.4.4",
                             "1.1.1.7",      "100.64.77.7",   "172.31.77.7", "45.33.77.7"};
  static const char *v6[] = {"2001:db8:77::77", "2606:4700::7777", "2a00:1450::7777", "fd77::77",
                             "3fff::77"};
  std::vector<AddrRange> named;
  for (auto &t : ruleset.tables)
    for (auto &[n, c] : t.chains)
      for (auto &r : c.rules)
        for (auto &cd : r.conds)
          if (cd.kind == Cond::Kind::saddr)
            for (auto &net : cd.nets) {
              // A /0 (or near) names the whole world: not "singled out".
              bool whole = net.lo.b == Addr{}.b;
              if (!whole)
                named.push_back(net);
            }
  auto pick = [&](auto &list) {
    for (const char *s : list) {
      Addr a = *Addr::parse(s);
      bool hit = std::any_of(named.begin(), named.end(),
                             [&](const AddrRange &r) { return r.contains(a); });
      if (!hit)
        return a;
    }
    return *Addr::parse(list[0]);
  };
  return f == Family::v4 ? pick(v4) : pick(v6);
}

uint32_t FirewallModel::unmentioned_port() const {
  return free_port;
}

namespace {

// The first port from 47123 on that no rule's port range names (ranges
// covering every port do not count: they name nothing in particular).
uint32_t find_free_port(const Ruleset &rs) {
  std::vector<PortRange> named;
  auto take = [&](const Cond &cd) {
    if (cd.kind == Cond::Kind::dport || cd.kind == Cond::Kind::anyport)
      for (auto &rg : cd.ranges)
        if (!(rg.lo <= 1 && rg.hi >= 65535))
          named.push_back(rg);
  };
  for (auto &t : rs.tables)
    for (auto &[n, c] : t.chains)
      for (auto &r : c.rules) {
        for (auto &cd : r.conds)
          take(cd);
        if (r.vmap)
          for (auto &e : r.vmap->entries)
            take(e.values);
      }
  std::sort(named.begin(), named.end(),
            [](const PortRange &a, const PortRange &b) { return a.lo < b.lo; });
  uint32_t p = 47123;
  for (auto &rg : named)
    if (rg.contains(p))
      p = rg.hi + 1;
  if (p > 65535) {
    p = 1024;
    for (auto &rg : named)
      if (rg.contains(p))
        p = rg.hi + 1;
  }
  return p > 65535 ? 47123 : p;
}

} // namespace

std::vector<Addr> FirewallModel::sources_of_interest(Family f) const {
  std::vector<Addr> out{world(f)};
  for (auto &t : ruleset.tables)
    for (auto &[n, c] : t.chains)
      for (auto &r : c.rules)
        for (auto &cd : r.conds)
          if (cd.kind == Cond::Kind::saddr)
            for (auto &net : cd.nets)
              if (net.lo.v6 == (f == Family::v6)) {
                for (const Addr *a : {&net.lo, &net.hi})
                  if (std::none_of(out.begin(), out.end(),
                                   [&](const Addr &x) { return x.b == a->b; }))
                    out.push_back(*a);
                if (out.size() > 256)
                  return out;
              }
  return out;
}

Outcome FirewallModel::inbound(Family f, int proto, uint32_t port, const Addr &src,
                               std::optional<std::string> iif, uint8_t ct) const {
  Packet p;
  p.family = f;
  p.proto = proto;
  p.dport = port;
  p.saddr = src;
  p.iif = std::move(iif);
  p.ct = ct;
  if (p.iif && *p.iif == "lo")
    p.daddr = src;
  return evaluate(ruleset, p);
}

std::vector<PortSpan> FirewallModel::port_table(Family f, int proto, const Addr &src) const {
  Packet p;
  p.family = f;
  p.proto = proto;
  p.saddr = src;
  std::vector<PortSpan> out;
  for (auto &po : evaluate_ports(ruleset, p))
    out.push_back({f, proto, po.lo, po.hi, po.outcome});
  return out;
}

FirewallModel load_firewall_model(const RootFs &fs, live::Probes *probes,
                                  const systemd::UnitFiles &units) {
  FirewallModel m;
  if (probes) {
    if (auto text = probes->nft_ruleset()) {
      m.live = true;
      FirewallSource s;
      s.backend = "live nft";
      s.path = "nft list ruleset";
      s.at_boot = true;
      s.why = {"nft list ruleset", 0};
      add_source(m, s, parse_nft_text(fs, "nft list ruleset", *text));
      // The legacy x_tables hook the same packets as nft's chains: a packet
      // must pass both (dockerd writes there when `iptables` is the legacy
      // one). A table that exists but cannot be listed is an error.
      for (Family fam : {Family::v4, Family::v6}) {
        bool v6 = fam == Family::v6;
        std::string tool = v6 ? "ip6tables-legacy-save" : "iptables-legacy-save";
        FirewallSource l;
        l.backend = v6 ? "live ip6tables-legacy" : "live iptables-legacy";
        l.path = tool;
        l.at_boot = true;
        l.why = {tool, 0};
        auto legacy = probes->iptables_legacy_save(v6);
        Ruleset rs;
        if (!legacy) {
          const Error &e = legacy.error();
          rs.diagnostics.push_back({Diagnostic::Level::error,
                                    {e.path.empty() ? tool : e.path, e.line},
                                    "the legacy iptables rules cannot be read: " + e.message});
        } else if (legacy->empty()) {
          continue;
        } else {
          parse_iptables_save(*legacy, tool, fam, rs);
        }
        add_source(m, l, std::move(rs));
      }
      // Boot files still matter for firewall.enabled.
    } else {
      m.live_note = text.error().message + " (needs root): boot configuration used";
    }
  }
  auto boot = [&](FirewallSource s, Ruleset rs) {
    if (m.live) {
      // The kernel's ruleset decides; boot files only tell what loads at boot.
      s.note = "boot configuration (the live ruleset decides the verdicts)";
      bool at_boot = s.at_boot;
      s.at_boot = false;
      add_source(m, s, std::move(rs));
      m.sources.back().at_boot = at_boot;
      m.sources.back().note = s.note;
      return;
    }
    add_source(m, std::move(s), std::move(rs));
  };

  m.ufw = load_ufw(fs);
  if (m.ufw.present) {
    FirewallSource s;
    s.backend = "ufw";
    s.path = "/etc/ufw/ufw.conf";
    s.why = m.ufw.enabled_loc;
    bool masked = units.state("ufw.service").is_masked();
    s.at_boot = m.ufw.enabled && !masked;
    if (masked)
      s.note = "ufw.service is masked";
    else if (!m.ufw.enabled)
      s.note = "ENABLED is not yes: ufw-init loads nothing";
    boot(s, m.ufw.ruleset);
  }
  struct Persistent {
    const char *path;
    Family fam;
    const char *unit;
  };
  for (const Persistent &p :
       {Persistent{"/etc/iptables/rules.v4", Family::v4, "netfilter-persistent.service"},
        Persistent{"/etc/iptables/rules.v6", Family::v6, "netfilter-persistent.service"},
        Persistent{"/etc/sysconfig/iptables", Family::v4, "iptables.service"},
        Persistent{"/etc/sysconfig/ip6tables", Family::v6, "ip6tables.service"}}) {
    auto text = fs.read_file(p.path, 32 * 1024 * 1024);
    if (!text.ok() && text.error().not_found())
      continue;
    FirewallSource s;
    s.backend = p.fam == Family::v4 ? "iptables" : "ip6tables";
    s.path = p.path;
    Ruleset rs;
    std::string link = enabled_by(units, p.unit, p.path, rs);
    s.at_boot = !link.empty();
    s.why = {link.empty() ? std::string("/etc/systemd/system/") + p.unit : link, 0};
    if (link.empty())
      s.note = std::string(p.unit) + " is not enabled: nothing loads this file at boot";
    if (!text.ok())
      rs.diagnostics.push_back({Diagnostic::Level::error, {p.path, 0}, text.error().message});
    else
      parse_iptables_save(*text, p.path, p.fam, rs, false);
    boot(s, std::move(rs));
  }
  if (fs.exists("/etc/nftables.conf")) {
    FirewallSource s;
    s.backend = "nft";
    s.path = "/etc/nftables.conf";
    Ruleset rs = parse_nft_file(fs, "/etc/nftables.conf");
    std::string link = enabled_by(units, "nftables.service", "/etc/nftables.conf", rs);
    s.at_boot = !link.empty();
    s.why = {link.empty() ? "/etc/systemd/system/nftables.service" : link, 0};
    if (link.empty())
      s.note = "nftables.service is not enabled: nothing loads this file at boot";
    boot(s, std::move(rs));
  }
  m.free_port = find_free_port(m.ruleset);
  return m;
}

} // namespace bulwark
