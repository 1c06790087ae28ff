// firewall.* (issue 4; guides 000 "Firewall Rules", 003 §3.1): verdicts
// reasoned from the ruleset the host loads at boot (src/checks/
// firewall_model.cpp), by evaluating packets the way netfilter does
// (src/parse/firewall_eval.cpp), never by grepping for DROP. Every verdict
// cites the rule or policy line that decided it.

#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/checks/firewall_model.hpp>
#include <bulwark/checks/models.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/live/probes.hpp>

#include <nlohmann/json.hpp>

#include <algorithm>

namespace bulwark {

using namespace fw;

namespace {

const FirewallModel &model(CheckRun &run) {
  Context &ctx = run.ctx();
  return ctx.model<FirewallModel>([&] {
    return load_firewall_model(ctx.fs(), ctx.live() ? &ctx.probes() : nullptr,
                               ctx.get<SystemdModel>().files());
  });
}

const char *fam_name(Family f) {
  return f == Family::v4 ? "IPv4" : "IPv6";
}
const char *proto_name(int p) {
  return p == 6 ? "tcp" : p == 17 ? "udp" : "?";
}

Evidence decided(const Outcome &o, const std::string &expected, const std::string &context) {
  Evidence e;
  e.path = o.decided.path;
  e.line = o.decided.line;
  e.expected = expected;
  e.context = context;
  if (o.no_chain)
    e.found = "no firewall filters " + context + " (no input chain is loaded)";
  else
    e.found = std::string(to_string(o.verdict)) + (o.by_policy ? " by policy: " : " by: ") +
              text::printable(o.decided_text, 160);
  if (!o.uncertain.empty())
    e.found += " (assumed through " + std::to_string(o.uncertain.size()) +
               " rule(s) with matches bulwark does not model, first " + o.uncertain[0].path + ":" +
               std::to_string(o.uncertain[0].line) + ")";
  return e;
}

// Evidence for "no firewall loads at boot", with the files that exist.
std::vector<Evidence> why_nothing(const FirewallModel &m) {
  std::vector<Evidence> ev;
  for (auto &s : m.sources) {
    if (s.rejected && s.first_error)
      ev.push_back({s.first_error->loc.path, s.first_error->loc.line, s.first_error->message,
                    "a file its loader accepts", s.backend});
    else if (!s.at_boot)
      ev.push_back({s.why.path, s.why.line, s.note, "loaded at boot", s.backend});
  }
  if (ev.empty())
    ev.push_back({"/etc/nftables.conf", 0, "no ufw, iptables-persistent or nftables configuration",
                  "a host firewall", ""});
  return ev;
}

bool nothing_loaded(CheckRun &run, const FirewallModel &m) {
  if (m.any_loaded())
    return false;
  run.emit(Status::fail, "", "no host firewall is loaded at boot: nothing filters inbound traffic",
           why_nothing(m));
  return true;
}

void enabled(CheckRun &run) {
  const FirewallModel &m = model(run);
  std::vector<Evidence> good;
  for (auto &s : m.sources)
    if (s.at_boot && !s.rejected)
      good.push_back({s.why.path, s.why.line,
                      s.backend + " loads " + s.path + " at boot" +
                          (s.note.empty() ? "" : " (" + s.note + ")"),
                      "", s.backend});
  if (good.empty()) {
    std::vector<Evidence> ev = why_nothing(m);
    run.emit(Status::fail, "", "no host firewall is configured to load at boot", ev);
    return;
  }
  std::string what;
  for (auto &e : good)
    what += (what.empty() ? "" : ", ") + e.context;
  // A rejected file next to a working one: the working one still loads.
  for (auto &s : m.sources)
    if (s.at_boot && s.rejected && s.first_error)
      good.push_back({s.first_error->loc.path, s.first_error->loc.line,
                      s.first_error->message + " (this file loads nothing)", "", s.backend});
  run.emit(Status::pass, "", "a firewall loads at boot: " + what, good);
}

void default_deny(CheckRun &run) {
  const FirewallModel &m = model(run);
  if (nothing_loaded(run, m))
    return;
  uint32_t port = m.unmentioned_port();
  std::vector<Evidence> bad, good;
  bool guess = false;
  for (Family f : {Family::v4, Family::v6})
    for (int proto : {6, 17}) {
      Outcome o = m.inbound(f, proto, port, m.world(f));
      std::string ctx = std::string(fam_name(f)) + " " + proto_name(proto);
      Evidence e = decided(o, "drop or reject", ctx);
      e.found = "new " + ctx + " to port " + std::to_string(port) + " (no rule names it) from " +
                m.world(f).str() + ": " + e.found;
      if (o.accepted()) {
        guess = guess || !o.uncertain.empty();
        bad.push_back(e);
      } else {
        good.push_back(e);
      }
    }
  if (!bad.empty()) {
    run.emit(guess ? Status::warn : Status::fail, "",
             "inbound traffic that matches no rule is accepted (" + bad[0].context + ")", bad);
    return;
  }
  run.emit(Status::pass, "", "unmatched inbound traffic is dropped for IPv4 and IPv6", good);
}

void loopback(CheckRun &run) {
  const FirewallModel &m = model(run);
  if (!m.any_loaded()) {
    run.emit(Status::not_applicable, "", "no firewall loads at boot (firewall.enabled fails)");
    return;
  }
  uint32_t port = m.unmentioned_port();
  std::vector<Evidence> bad, good;
  for (Family f : {Family::v4, Family::v6}) {
    Addr lo = *Addr::parse(f == Family::v4 ? "127.0.0.1" : "::1");
    Outcome o = m.inbound(f, 6, port, lo, "lo");
    Evidence e = decided(o, "accept", fam_name(f));
    e.found = "new tcp on lo to port " + std::to_string(port) + ": " + e.found;
    (o.accepted() ? good : bad).push_back(e);
  }
  if (!bad.empty()) {
    run.emit(Status::fail, "", "traffic on lo is not accepted (" + bad[0].context + ")", bad);
    return;
  }
  run.emit(Status::pass, "", "traffic on lo is accepted", good);
}

// Does the host originate no connection of family `f` beyond lo? Every new
// outbound packet to the world and to each address the rules name, at every
// port a rule names and one no rule names, tcp and udp, is dropped. Then no
// reply of that family can exist, and dropping replies is no failure (ufw's
// IPV6=no: ip6tables drops everything but lo, both ways).
std::optional<Evidence> originates_nothing(const FirewallModel &m, Family f) {
  std::vector<uint32_t> ports{m.unmentioned_port()};
  for (auto &t : m.ruleset.tables)
    for (auto &[n, c] : t.chains)
      for (auto &r : c.rules)
        for (auto &cd : r.conds)
          if (cd.kind == fw::Cond::Kind::dport || cd.kind == fw::Cond::Kind::anyport)
            for (auto &rg : cd.ranges)
              ports.push_back(rg.lo), ports.push_back(rg.hi);
  std::sort(ports.begin(), ports.end());
  ports.erase(std::unique(ports.begin(), ports.end()), ports.end());
  std::vector<Addr> dests = m.sources_of_interest(f);
  dests.push_back(m.world(f));
  std::optional<Evidence> first;
  for (int proto : {6, 17})
    for (uint32_t port : ports)
      for (const Addr &d : dests) {
        Packet p;
        p.family = f;
        p.hook = "output";
        p.proto = proto;
        p.dport = port;
        p.saddr = *Addr::parse(f == Family::v4 ? "192.0.2.1" : "2001:db8::1");
        p.daddr = d;
        Outcome o = evaluate(m.ruleset, p);
        if (o.accepted() || !o.uncertain.empty())
          return std::nullopt;
        if (!first) {
          first = decided(o, "", std::string(fam_name(f)));
          first->found = "every new outbound " + std::string(fam_name(f)) +
                         " connection is dropped (" + first->found +
                         "): the host makes none, so there is no reply to allow";
        }
      }
  return first;
}

void established(CheckRun &run) {
  const FirewallModel &m = model(run);
  if (!m.any_loaded()) {
    run.emit(Status::not_applicable, "", "no firewall loads at boot (firewall.enabled fails)");
    return;
  }
  uint32_t port = m.unmentioned_port();
  std::vector<Evidence> bad, good;
  for (Family f : {Family::v4, Family::v6}) {
    std::optional<Evidence> silent;
    bool checked_silent = false;
    for (int proto : {6, 17}) {
      Outcome o = m.inbound(f, proto, port, m.world(f), std::nullopt, ct_established);
      std::string ctx = std::string(fam_name(f)) + " " + proto_name(proto);
      Evidence e = decided(o, "accept", ctx);
      e.found = "reply (ESTABLISHED) " + ctx + " to port " + std::to_string(port) + ": " + e.found;
      if (!o.accepted() && !checked_silent) {
        silent = originates_nothing(m, f);
        checked_silent = true;
      }
      if (!o.accepted() && silent) {
        good.push_back(*silent);
        break;
      }
      (o.accepted() ? good : bad).push_back(e);
    }
  }
  if (!bad.empty()) {
    run.emit(Status::fail, "",
             "replies to the host's own connections are dropped (" + bad[0].context + ")", bad);
    return;
  }
  run.emit(Status::pass, "", "ESTABLISHED,RELATED traffic is accepted", good);
}

std::vector<uint32_t> ssh_ports(CheckRun &run) {
  std::vector<uint32_t> out;
  const SshModel &ssh = run.ctx().ssh();
  if (ssh.state == SshModel::State::ok && !ssh.scopes.empty())
    for (auto &a : ssh.scopes[0].effective.get("port").args) {
      char *end = nullptr;
      unsigned long v = std::strtoul(a.c_str(), &end, 10);
      if (end && *end == '\0' && v > 0 && v < 65536)
        out.push_back(static_cast<uint32_t>(v));
    }
  if (out.empty())
    out.push_back(22);
  return out;
}

struct SshPath {
  Family f;
  uint32_t port;
  Addr src;
  bool world;
  Outcome o;
};

std::vector<SshPath> ssh_paths(CheckRun &run, const FirewallModel &m) {
  std::vector<SshPath> out;
  for (uint32_t port : ssh_ports(run))
    for (Family f : {Family::v4, Family::v6}) {
      Addr w = m.world(f);
      for (const Addr &src : m.sources_of_interest(f)) {
        Outcome o = m.inbound(f, 6, port, src);
        if (o.accepted())
          out.push_back({f, port, src, src.b == w.b, o});
      }
    }
  return out;
}

bool in_nets(const Addr &a, const std::vector<std::string> &nets) {
  for (auto &n : nets)
    if (auto c = Cidr::parse(n); c && c->contains(a))
      return true;
  return false;
}

void ssh_restricted(CheckRun &run) {
  const FirewallModel &m = model(run);
  if (run.ctx().ssh().state == SshModel::State::absent) {
    run.emit(Status::not_applicable, "", "no SSH server is installed");
    return;
  }
  if (nothing_loaded(run, m))
    return;
  std::vector<std::string> admin = run.param_list("admin-sources");
  bool limit_ok = run.param_str("rate-limit-suffices") == "yes";
  std::vector<Evidence> bad, good;
  for (const SshPath &p : ssh_paths(run, m)) {
    std::string ctx = std::string(fam_name(p.f)) + " tcp/" + std::to_string(p.port) + " from " +
                      (p.world ? "the world (" + p.src.str() + ")" : p.src.str());
    Evidence e = decided(p.o,
                         "admitted only from " + text::join(admin, ", ") +
                             (limit_ok ? ", or rate limited" : ""),
                         ctx);
    e.found = ctx + ": " + e.found + (p.o.throttled ? " (rate limited)" : "");
    if (!p.world && in_nets(p.src, admin))
      good.push_back(e);
    else if (limit_ok && p.o.throttled)
      good.push_back(e);
    else
      bad.push_back(e);
  }
  if (!bad.empty()) {
    run.emit(Status::fail, "", "SSH is admitted from outside the admin sources: " + bad[0].context,
             bad);
    return;
  }
  if (good.empty()) {
    run.emit(Status::pass, "", "SSH is admitted from no source bulwark tried",
             {Evidence{"", 0, "every source dropped", "", "ssh"}});
    return;
  }
  run.emit(Status::pass, "", "SSH is admitted only from admin sources or rate limited", good);
}

void ssh_rate_limited(CheckRun &run) {
  const FirewallModel &m = model(run);
  if (run.ctx().ssh().state == SshModel::State::absent) {
    run.emit(Status::not_applicable, "", "no SSH server is installed");
    return;
  }
  if (nothing_loaded(run, m))
    return;
  std::vector<Evidence> bad, good;
  for (const SshPath &p : ssh_paths(run, m)) {
    std::string ctx = std::string(fam_name(p.f)) + " tcp/" + std::to_string(p.port) + " from " +
                      (p.world ? "the world (" + p.src.str() + ")" : p.src.str());
    Evidence e =
        decided(p.o, "a rate limit (limit, hashlimit, recent, ufw limit, nft limit/meter)", ctx);
    e.found = ctx + ": " + e.found;
    if (p.o.throttled) {
      e.path = p.o.throttle_locs[0].path;
      e.line = p.o.throttle_locs[0].line;
      e.found += " (rate limited here)";
      good.push_back(e);
    } else {
      e.found += " (no rate limit on the path)";
      bad.push_back(e);
    }
  }
  if (!bad.empty()) {
    run.emit(Status::fail, "", "new SSH connections are not rate limited: " + bad[0].context, bad);
    return;
  }
  if (good.empty()) {
    run.emit(Status::pass, "", "SSH is admitted from no source bulwark tried");
    return;
  }
  run.emit(Status::pass, "", "new SSH connections are rate limited", good);
}

bool port_allowed(const std::vector<std::string> &allowed, int proto, uint32_t lo, uint32_t hi) {
  for (uint32_t p = lo; p <= hi; ++p) {
    bool ok = false;
    for (auto &a : allowed) {
      auto slash = a.find('/');
      std::string num = a.substr(0, slash);
      std::string pr = slash == std::string::npos ? "" : text::lower(a.substr(slash + 1));
      if (std::to_string(p) == num && (pr.empty() || pr == proto_name(proto))) {
        ok = true;
        break;
      }
    }
    if (!ok)
      return false;
    if (p - lo > 64)
      return false; // a wide range cannot be an allowed list of single ports
  }
  return true;
}

std::string span_str(const PortSpan &s) {
  std::string r = std::to_string(s.lo);
  if (s.hi != s.lo)
    r += "-" + std::to_string(s.hi);
  return r + "/" + proto_name(s.proto);
}

void allowed_ports(CheckRun &run) {
  const FirewallModel &m = model(run);
  if (nothing_loaded(run, m))
    return;
  std::vector<std::string> allowed = run.param_list("ports");
  std::vector<Evidence> bad, good;
  for (Family f : {Family::v4, Family::v6})
    for (int proto : {6, 17})
      for (const PortSpan &s : m.port_table(f, proto, m.world(f))) {
        if (!s.outcome.accepted())
          continue;
        std::string ctx = std::string(fam_name(f)) + " " + span_str(s);
        Evidence e = decided(s.outcome, "one of " + text::join(allowed, ", "), ctx);
        e.found = span_str(s) + " open to the world (" + fam_name(f) + "): " + e.found +
                  (s.outcome.throttled ? " (rate limited)" : "");
        (port_allowed(allowed, proto, s.lo, s.hi) ? good : bad).push_back(e);
      }
  if (!bad.empty()) {
    std::string what;
    for (auto &e : bad)
      if (what.size() < 200)
        what += (what.empty() ? "" : ", ") + e.context;
    run.emit(Status::fail, "", "ports open to the world beyond the allowed list: " + what, bad);
    return;
  }
  run.emit(Status::pass, "",
           good.empty() ? "no port is open to the world"
                        : "every port open to the world is allowed",
           good);
}

void egress(CheckRun &run) {
  const FirewallModel &m = model(run);
  if (run.param_str("required") != "yes") {
    run.emit(Status::not_applicable, "",
             "the profile allows all outgoing traffic (guide 003 §3.1: default allow outgoing)");
    return;
  }
  if (nothing_loaded(run, m))
    return;
  std::vector<Evidence> bad, good;
  uint32_t port = m.unmentioned_port();
  for (Family f : {Family::v4, Family::v6})
    for (int proto : {6, 17}) {
      Packet p;
      p.family = f;
      p.hook = "output";
      p.proto = proto;
      p.dport = port;
      p.saddr = *Addr::parse(f == Family::v4 ? "192.0.2.1" : "2001:db8::1");
      p.daddr = m.world(f);
      Outcome o = evaluate(m.ruleset, p);
      std::string ctx = std::string(fam_name(f)) + " " + proto_name(proto);
      Evidence e = decided(o, "drop or reject", ctx);
      e.found = "new outbound " + ctx + " to " + p.daddr->str() + " port " + std::to_string(port) +
                ": " + e.found;
      (o.accepted() ? bad : good).push_back(e);
    }
  if (!bad.empty()) {
    run.emit(Status::fail, "",
             "outbound traffic is accepted to any destination (" + bad[0].context + ")", bad);
    return;
  }
  run.emit(Status::pass, "", "outbound traffic is filtered", good);
}

void exposed_listeners(CheckRun &run) {
  if (!run.ctx().live()) {
    run.emit(Status::not_applicable, "",
             "listening sockets are only known live (--live on the host's own root)");
    return;
  }
  const FirewallModel &m = model(run);
  const auto &ls = run.ctx().probes().listeners();
  if (!ls) {
    run.emit(Status::error, "", "the listening sockets cannot be read: " + ls.error().to_string(),
             {Evidence{ls.error().path, ls.error().line, ls.error().message, "", "live"}});
    return;
  }
  std::vector<Evidence> bad, good;
  for (const procnet::Listener &l : *ls) {
    bool loopback =
        l.family == Family::v4 ? l.addr.b[0] == 127 : (l.addr.b == Addr::parse("::1")->b);
    if (loopback)
      continue;
    Outcome o = m.inbound(l.family, l.proto, l.port, m.world(l.family));
    std::string what =
        std::string(proto_name(l.proto)) + "/" + std::to_string(l.port) + " on " + l.addr.str();
    Evidence e = decided(o, "blocked, or admitted by a rule on purpose", what);
    e.found = what + " (" + l.source + "): " + e.found;
    bool db = l.port == 5432 || l.port == 6379;
    if (!o.accepted())
      good.push_back(e);
    else if (db || o.by_policy || o.no_chain)
      bad.push_back(e);
    else
      good.push_back(e);
  }
  if (!bad.empty()) {
    run.emit(Status::fail, "", "listening sockets exposed to the world: " + bad[0].context, bad);
    return;
  }
  run.emit(Status::pass, "", "every listening socket is blocked or admitted on purpose", good);
}

constexpr CheckImpl k_checks[] = {
    {"firewall.enabled", enabled},
    {"firewall.default-deny-incoming", default_deny},
    {"firewall.loopback-allowed", loopback},
    {"firewall.established-allowed", established},
    {"firewall.ssh-restricted", ssh_restricted},
    {"firewall.ssh-rate-limited", ssh_rate_limited},
    {"firewall.allowed-ports", allowed_ports},
    {"firewall.egress-filtering", egress},
    {"firewall.exposed-listeners", exposed_listeners},
};

std::string where(const SourceLocation &l) {
  return l.path + ":" + std::to_string(l.line);
}

nlohmann::ordered_json outcome_json(const Outcome &o) {
  nlohmann::ordered_json j;
  j["verdict"] = std::string(to_string(o.verdict));
  j["decided_by"] = o.no_chain ? "no input chain" : where(o.decided);
  j["rule"] = o.decided_text;
  if (o.throttled)
    j["rate_limited_at"] = where(o.throttle_locs[0]);
  if (!o.uncertain.empty()) {
    auto &u = j["assumed_through"] = nlohmann::ordered_json::array();
    for (auto &l : o.uncertain)
      u.push_back(where(l));
  }
  return j;
}

} // namespace

std::span<const CheckImpl> firewall_checks() {
  return k_checks;
}

nlohmann::ordered_json facts_firewall(Context &ctx) {
  const FirewallModel &m = ctx.model<FirewallModel>([&] {
    return load_firewall_model(ctx.fs(), ctx.live() ? &ctx.probes() : nullptr,
                               ctx.get<SystemdModel>().files());
  });
  nlohmann::ordered_json j;
  j["live"] = m.live;
  if (!m.live_note.empty())
    j["live_note"] = m.live_note;
  auto &src = j["sources"] = nlohmann::ordered_json::array();
  for (auto &s : m.sources) {
    nlohmann::ordered_json o;
    o["backend"] = s.backend;
    o["file"] = s.path;
    o["at_boot"] = s.at_boot;
    o["because"] = where(s.why);
    o["rejected"] = s.rejected;
    if (s.first_error)
      o["error"] = where(s.first_error->loc) + ": " + s.first_error->message;
    if (!s.note.empty())
      o["note"] = s.note;
    src.push_back(o);
  }
  auto &tabs = j["tables"] = nlohmann::ordered_json::array();
  for (auto &t : m.ruleset.tables) {
    nlohmann::ordered_json o;
    o["backend"] = t.backend;
    o["family"] = t.family;
    o["name"] = t.name;
    auto &chains = o["chains"] = nlohmann::ordered_json::array();
    for (auto &[n, c] : t.chains) {
      if (c.rules.empty() && !c.base)
        continue;
      nlohmann::ordered_json co;
      co["name"] = n;
      if (c.base) {
        co["hook"] = c.hook;
        co["priority"] = c.priority;
        co["policy"] = std::string(to_string(c.policy));
        co["policy_at"] = where(c.policy_loc);
      }
      auto &rules = co["rules"] = nlohmann::ordered_json::array();
      for (auto &r : c.rules)
        rules.push_back(where(r.loc) + ": " + text::printable(r.text, 200));
      chains.push_back(co);
    }
    tabs.push_back(o);
  }
  auto &diag = j["diagnostics"] = nlohmann::ordered_json::array();
  for (auto &d : m.diagnostics)
    diag.push_back(std::string(d.level == Diagnostic::Level::error ? "error " : "warning ") +
                   where(d.loc) + ": " + d.message);
  uint32_t port = m.unmentioned_port();
  auto &fams = j["inbound"] = nlohmann::ordered_json::object();
  for (Family f : {Family::v4, Family::v6}) {
    nlohmann::ordered_json o;
    Addr w = m.world(f);
    o["world_source"] = w.str();
    o["unmatched_tcp"] = outcome_json(m.inbound(f, 6, port, w));
    o["unmatched_udp"] = outcome_json(m.inbound(f, 17, port, w));
    o["loopback"] = outcome_json(
        m.inbound(f, 6, port, *Addr::parse(f == Family::v4 ? "127.0.0.1" : "::1"), "lo"));
    o["established"] = outcome_json(m.inbound(f, 6, port, w, std::nullopt, ct_established));
    auto &open = o["open_to_world"] = nlohmann::ordered_json::array();
    for (int proto : {6, 17})
      for (const PortSpan &s : m.port_table(f, proto, w))
        if (s.outcome.accepted()) {
          nlohmann::ordered_json p = outcome_json(s.outcome);
          p["ports"] = span_str(s);
          open.push_back(p);
        }
    fams[fam_name(f)] = o;
  }
  return j;
}

} // namespace bulwark
