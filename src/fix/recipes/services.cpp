// Service recipes: Redis, PostgreSQL (postgresql.conf and pg_hba.conf) and
// fail2ban, each change placed where the daemon's own reading order makes it
// win, and checked by parsing the result again the way the checks do.
//
// A `set` entry is applied to a failing finding only when the finding's
// evidence names it (a `found` or `expected` that starts with the key and a
// blank): "protected-mode no", "log_statement = none", "rename-command
// FLUSHALL \"\" or -@dangerous", "maxretry = 5". So a check with several
// settings changes only those that fail, and a right value is never
// rewritten (never punish the innocent).
//
// redis-option (redis.conf, Redis 7.0 config.c): lines are read in order,
// `include` splices a file in place, and the last line of a directive wins.
// So the line that wins now is edited in place (in whichever file it is: an
// include that re-sets the value later is where the fix goes), and an unset
// directive is appended to the instance's file, after every include.
// `rename-command CMD` is keyed by its command (a second rename of a removed
// command is fatal in Redis, so an existing line is edited, never doubled).
// `bind` keeps the loopback and private addresses already bound and drops
// the rest (the recipe's value when none is left), so internal clients keep
// their address. A value "<secret>" is never invented: a refusal.
//
// postgres-option (PostgreSQL 15 guc-file.l, see src/parse/postgresql_conf.cpp):
// postgresql.conf with its includes, then postgresql.auto.conf in the data
// directory, the last assignment winning. A setting decided in
// postgresql.auto.conf (ALTER SYSTEM) is edited there in place; otherwise
// the cluster's conf.d/zz-bulwark.conf (Debian's postgresql.conf ends with
// include_dir = 'conf.d'), kept only when, parsed again, it is the
// assignment that wins; else the winning line in place; else a line
// appended to postgresql.conf. Guards: ssl = on only when the certificate
// and key it will load exist; listen_addresses = 'localhost' only when
// pg_hba.conf admits no remote client (no reachable rule for an address
// that is not this host), so nobody is cut off.
//
// pg-hba-rule (hba.c: first matching rule wins): the rules the finding's
// evidence names (path:line) get the method or connection type the recipe
// maps theirs to (trust -> scram-sha-256, host -> hostssl), in place, so the
// order of the rules, and every local rule (the postgres account's peer
// rule), stays as it was. scram-sha-256 only when password_encryption is
// scram-sha-256 (with the plan so far); hostssl only when ssl is on.
//
// fail2ban-jail (fail2ban-client 1.0.2, src/parse/fail2ban.cpp): jail.conf,
// jail.d/*.conf, jail.local, jail.d/*.local are merged in that order, a
// section's option over the same section's earlier ones. The options go
// under [JAIL] in /etc/fail2ban/jail.d/bulwark.local (our own earlier line
// replaced, never doubled: a duplicate option aborts fail2ban-client); when,
// parsed again, a later file still decides, that line is edited in place.
// backend = systemd only when the root has python3-systemd (fail2ban's
// systemd backend imports it).

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/fail2ban.hpp>
#include <bulwark/parse/pg_hba.hpp>
#include <bulwark/parse/postgresql_conf.hpp>
#include <bulwark/parse/redis_conf.hpp>

#include <arpa/inet.h>

#include <algorithm>
#include <map>
#include <memory>
#include <set>

namespace bulwark::fix {

namespace {

constexpr const char *k_secret = "<secret>";
constexpr const char *k_pg_dropin = "conf.d/zz-bulwark.conf";
constexpr const char *k_f2b_dropin = "/etc/fail2ban/jail.d/bulwark.local";
constexpr const char *k_python_systemd = "/usr/lib/python3/dist-packages/systemd/journal.py";

// Does the finding's evidence name `key` ("key ..." in found or expected)?
bool names(const Finding &f, std::string_view key) {
  auto starts = [&](const std::string &s) {
    return s.size() > key.size() && text::iequals(std::string_view(s).substr(0, key.size()), key) &&
           (s[key.size()] == ' ' || s[key.size()] == '\t');
  };
  for (auto &e : f.evidence)
    if (e.context != "parse" && (starts(e.found) || starts(e.expected)))
      return true;
  return false;
}

std::string services_line_of(std::string_view text, int line) {
  auto lines = text::split(text, '\n', true);
  if (line < 1 || static_cast<size_t>(line) > lines.size())
    return "";
  return lines[static_cast<size_t>(line) - 1];
}

// The Action of the recipe's edits, or a refusal when nothing changes.
RecipeOutcome finish(const RecipeInput &in, const Working &w,
                     const std::vector<std::string> &summary, std::vector<Validator> validators,
                     std::vector<std::string> units, const std::string &nothing_reason) {
  Action a;
  a.check_id = in.spec.id;
  auto edits = write_edits(in.fs, w.files());
  if (!edits)
    return Refusal{in.spec.id, "", edits.error().to_string()};
  a.edits = std::move(*edits);
  if (a.edits.empty())
    return Refusal{in.spec.id, "", nothing_reason};
  for (auto &s : summary)
    a.summary += (a.summary.empty() ? "" : "; ") + s;
  a.validators = std::move(validators);
  std::sort(units.begin(), units.end());
  units.erase(std::unique(units.begin(), units.end()), units.end());
  a.restart_units = std::move(units);
  return a;
}

// ---- redis-option -------------------------------------------------------------

bool loopback_or_private(std::string a) {
  if (!a.empty() && a[0] == '-')
    a = a.substr(1); // "-::1": optional, the same address
  if (text::iequals(a, "localhost"))
    return true;
  in_addr v4{};
  in6_addr v6{};
  if (inet_pton(AF_INET, a.c_str(), &v4) == 1) {
    uint32_t h = ntohl(v4.s_addr);
    return (h >> 24) == 127 || (h >> 24) == 10 || (h >> 20) == (172u << 4 | 1) ||
           (h >> 16) == (192u << 8 | 168) || (h >> 22) == ((100u << 2) | 1) ||
           (h >> 16) == (169u << 8 | 254);
  }
  if (inet_pton(AF_INET6, a.c_str(), &v6) == 1) {
    static const uint8_t lo[16] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1};
    return std::equal(v6.s6_addr, v6.s6_addr + 16, lo) || (v6.s6_addr[0] & 0xfe) == 0xfc ||
           (v6.s6_addr[0] == 0xfe && (v6.s6_addr[1] & 0xc0) == 0x80);
  }
  return false; // "*", "0.0.0.0", a public address or a host name
}

// Debian's units: redis-server.service reads /etc/redis/redis.conf,
// redis-server@NAME.service /etc/redis/redis-NAME.conf.
std::string redis_unit(const std::string &conf) {
  const std::string prefix = "/etc/redis/redis-";
  if (conf.starts_with(prefix) && conf.ends_with(".conf"))
    return "redis-server@" + conf.substr(prefix.size(), conf.size() - prefix.size() - 5) +
           ".service";
  return "redis-server.service";
}

// The directive that decides `key` ("protected-mode", "rename-command CONFIG").
const redis::Directive *redis_winner(const redis::RedisConfig &cfg, const std::string &name,
                                     const std::string &arg) {
  if (name == "rename-command") {
    auto it = cfg.renamed.find(text::lower(arg));
    return it == cfg.renamed.end() ? nullptr : &it->second;
  }
  return cfg.get(name);
}

Result<RecipeOutcome> redis_option(const RecipeInput &in) {
  for (auto &[key, value] : in.args.set)
    if (value == k_secret)
      return RecipeOutcome{Refusal{
          in.spec.id, "",
          key + " needs a secret, and bulwark does not invent one (every client must be given "
                "it): generate it (openssl rand -hex 32), set it in redis.conf or an ACL user, "
                "configure the clients, then restart redis-server"}};
  Working w(in.fs);
  std::vector<std::string> summary, units, elsewhere;
  for (const Finding *f : in.findings) {
    const std::string &conf = f->subject;
    if (conf.empty() || conf[0] != '/') {
      // A compose service: its configuration is the image's defaults, the
      // command line and the mounted file together.
      elsewhere.push_back(conf.empty() ? "(no subject)" : conf);
      continue;
    }
    for (auto &[key, value] : in.args.set) {
      if (!names(*f, key))
        continue;
      auto words = text::split(key, ' ');
      std::string name = text::lower(words.at(0));
      std::string arg = words.size() > 1 ? words[1] : "";
      redis::RedisConfig cfg = redis::load_redis_conf(w.view(), conf);
      if (cfg.has_errors()) {
        const redis::Diagnostic *d = &cfg.diagnostics.front();
        for (auto &x : cfg.diagnostics)
          if (x.is_error()) {
            d = &x;
            break;
          }
        return RecipeOutcome{Refusal{in.spec.id, conf,
                                     conf + " has errors (" + d->loc.path + ":" +
                                         std::to_string(d->loc.line) + ": " + d->message +
                                         "): fix them first"}};
      }
      std::string want = value;
      if (name == "rename-command") {
        // A command an ACL rule names (+config, -debug) makes the ACL
        // unloadable once it is gone: Redis then refuses to start.
        std::string cmd = text::lower(arg);
        for (auto &u : cfg.users) {
          std::string rules = text::lower(u.rules);
          for (const char *sign : {"+", "-"}) {
            size_t at = rules.find(sign + cmd);
            size_t end = at == std::string::npos ? at : at + 1 + cmd.size();
            if (at != std::string::npos &&
                (end == rules.size() || rules[end] == ' ' || rules[end] == '|'))
              return RecipeOutcome{
                  Refusal{in.spec.id, conf,
                          "ACL user " + u.name + " names " + sign + cmd +
                              ": with the command removed Redis refuses its ACL and does not "
                              "start; deny it in the ACL (-@dangerous) instead"}};
          }
        }
        if (cmd == "config" && in.fs.exists("/etc/redis/sentinel.conf"))
          return RecipeOutcome{Refusal{
              in.spec.id, conf,
              "Redis Sentinel (/etc/redis/sentinel.conf) reconfigures the servers it watches "
              "with CONFIG: deny CONFIG to the application users in the ACL instead"}};
      }
      const redis::Directive *win = redis_winner(cfg, name, arg);
      if (name == "bind" && win != nullptr) {
        // Internal clients keep the addresses they use; loopback stays
        // reachable (a wildcard that goes included it).
        std::vector<std::string> kept;
        bool loopback = false;
        for (auto &a : win->args)
          if (loopback_or_private(a)) {
            kept.push_back(a);
            std::string b = a[0] == '-' ? a.substr(1) : a;
            loopback =
                loopback || b.starts_with("127.") || b == "::1" || text::iequals(b, "localhost");
          }
        if (!loopback)
          kept.insert(kept.begin(), value);
        want = text::join(kept, " ");
      }
      std::string line = key + " " + want;
      auto wanted_args = redis::split_args(line);
      if (!wanted_args)
        return Error{"recipe of " + in.spec.id + ": '" + line + "' does not tokenise"};
      if (win != nullptr) {
        // The line that wins now: edited where it is.
        std::string text = TRY(w.read(win->loc.path));
        std::string old = services_line_of(text, win->loc.line);
        size_t indent = old.find_first_not_of(" \t");
        w.write(win->loc.path,
                replace_line(text, win->loc.line,
                             old.substr(0, indent == std::string::npos ? 0 : indent) + line));
        summary.push_back(line + " at " + win->loc.path + ":" + std::to_string(win->loc.line));
      } else {
        std::string text = TRY(w.read(conf));
        w.write(conf, insert_line(text, 1 << 30, line));
        summary.push_back(line + " appended to " + conf);
      }
      // Parsed again, the line must be the one that wins, with our value.
      redis::RedisConfig again = redis::load_redis_conf(w.view(), conf);
      const redis::Directive *now = redis_winner(again, name, arg);
      std::vector<std::string> expect(wanted_args->begin() + 1, wanted_args->end());
      if (name == "bind" && expect.size() == 1)
        expect = text::split(expect[0], ' '); // as the parser splits one argument
      bool same = now != nullptr && now->args.size() == expect.size();
      for (size_t k = 0; same && k < expect.size(); ++k)
        same = text::iequals(now->args[k], expect[k]);
      if (again.has_errors() || !same)
        return RecipeOutcome{
            Refusal{in.spec.id, conf, "cannot place '" + line + "' where it wins in " + conf}};
      units.push_back(redis_unit(conf));
    }
  }
  if (w.files().empty() && !elsewhere.empty())
    return RecipeOutcome{
        Refusal{in.spec.id, elsewhere.front(),
                "Redis in a compose service (" + text::join(elsewhere, ", ") +
                    "): its configuration is the compose file's and the image's; fix by hand"}};
  return finish(in, w, summary, {Validator::redis}, units,
                "the values are already in place; the check fails for another reason (see the "
                "audit's evidence)");
}

// ---- postgres-option --------------------------------------------------------------

struct PgTarget {
  std::string subject;
  std::string conf; // postgresql.conf
  std::string dir;  // its directory
  std::string data_dir;
  std::string unit; // "postgresql@15-main.service"
};

// The cluster of a finding, as src/checks/postgres.cpp finds it; nullopt for
// a compose service.
std::optional<PgTarget> pg_target(const RootFs &fs, const std::string &subject) {
  PgTarget t;
  t.subject = subject;
  std::optional<std::string> default_data;
  if (!subject.empty() && subject[0] == '/') {
    t.conf = subject + "/postgresql.conf";
    default_data = subject;
    t.unit = "postgresql.service";
  } else {
    auto parts = text::split(subject, '/');
    if (parts.size() != 2)
      return std::nullopt;
    t.conf = "/etc/postgresql/" + subject + "/postgresql.conf";
    default_data = "/var/lib/postgresql/" + subject;
    t.unit = "postgresql@" + parts[0] + "-" + parts[1] + ".service";
  }
  if (!fs.exists(t.conf))
    return std::nullopt;
  t.dir = t.conf.substr(0, t.conf.rfind('/'));
  pg::Config first;
  pg::parse_conf_file(fs, t.conf, true, first);
  if (const pg::Setting *d = first.get("data_directory"); d && !d->value.empty())
    t.data_dir = RootFs::join(t.dir + "/", d->value);
  else
    t.data_dir = *default_data;
  return t;
}

std::string unquote_pg(const std::string &v) {
  if (v.size() >= 2 && v.front() == '\'' && v.back() == '\'')
    return v.substr(1, v.size() - 2);
  return v;
}

bool pg_equal(const std::string &a, const std::string &b) {
  auto ba = pg::parse_bool(a), bb = pg::parse_bool(b);
  if (ba && bb)
    return *ba == *bb;
  return text::iequals(a, b);
}

// Guards that keep the server starting and its clients connected.
std::optional<std::string> pg_guard(const RootFs &fs, const PgTarget &t, const pg::Config &cfg,
                                    const std::string &key, const std::string &value) {
  if (text::iequals(key, "ssl") && pg::parse_bool(value).value_or(false)) {
    for (auto [name, def] :
         {std::pair{"ssl_cert_file", "server.crt"}, {"ssl_key_file", "server.key"}}) {
      const pg::Setting *s = cfg.get(name);
      std::string p = RootFs::join(t.data_dir + "/", s && !s->value.empty() ? s->value : def);
      if (!fs.exists(p))
        return std::string("ssl = on needs ") + name + " " + p +
               ", which does not exist: the server would refuse to start; install a certificate "
               "(Debian: ssl-cert's snakeoil, or your CA's) and set ssl_cert_file/ssl_key_file";
    }
  }
  if (text::iequals(key, "listen_addresses")) {
    const pg::Setting *h = cfg.get("hba_file");
    std::string hba =
        RootFs::join(t.data_dir + "/", h && !h->value.empty() ? h->value : "pg_hba.conf");
    pg::HbaFile f = pg::load_pg_hba(fs, hba);
    if (f.files.empty())
      return "listen_addresses: " + hba +
             " cannot be read, so who connects from elsewhere is unknown";
    for (auto &r : f.rules)
      if (r.type != pg::ConnType::local && r.method != "reject" && !pg::address_is_local(r.address))
        return "listen_addresses = " + value + " would cut off the remote clients " + r.loc.path +
               ":" + std::to_string(r.loc.line) + " admits (" + r.address.text +
               "): set listen_addresses to localhost plus the address they use, by hand";
  }
  return std::nullopt;
}

Result<RecipeOutcome> postgres_option(const RecipeInput &in) {
  Working w(in.fs);
  std::vector<std::string> summary, units, elsewhere;
  for (const Finding *f : in.findings) {
    auto t = pg_target(w.view(), f->subject);
    if (!t) {
      elsewhere.push_back(f->subject);
      continue;
    }
    // Not a structured binding: the lambdas below capture the key (clang 14,
    // which clang-tidy runs on, cannot capture a binding).
    for (const auto &kv : in.args.set) {
      const std::string &key = kv.first;
      const std::string &value = kv.second;
      if (!names(*f, key))
        continue;
      std::string want = unquote_pg(value);
      std::string line = key + " = " + value;
      pg::Config cfg = pg::load_postgresql_conf(w.view(), t->conf, t->data_dir);
      if (cfg.has_errors())
        return RecipeOutcome{
            Refusal{in.spec.id, t->subject,
                    t->conf + " (or a file it includes) has errors: fix them first"}};
      if (auto why = pg_guard(w.view(), *t, cfg, key, want))
        return RecipeOutcome{Refusal{in.spec.id, t->subject, *why}};
      const pg::Setting *win = cfg.get(key);
      std::string auto_conf = RootFs::join(t->data_dir + "/", "postgresql.auto.conf");
      auto wins = [&](const std::string &path) {
        pg::Config again = pg::load_postgresql_conf(w.view(), t->conf, t->data_dir);
        const pg::Setting *s = again.get(key);
        return !again.has_errors() && s != nullptr && pg_equal(s->value, want) &&
               (path.empty() || s->loc.path == path);
      };
      auto in_place = [&](const pg::Setting &s) -> Result<Unit> {
        std::string text = TRY(w.read(s.loc.path));
        w.write(s.loc.path, replace_line(text, s.loc.line, line));
        summary.push_back(line + " at " + s.loc.path + ":" + std::to_string(s.loc.line));
        return Unit{};
      };
      bool placed = false;
      if (win != nullptr && win->loc.path == auto_conf) {
        // ALTER SYSTEM's file decides: it is where the value must change.
        TRY(in_place(*win));
        placed = wins(auto_conf);
      } else {
        // 1. conf.d/zz-bulwark.conf, when the cluster reads it and it wins.
        std::string dropin = t->dir + "/" + k_pg_dropin;
        auto before = w.edited(dropin);
        std::string text = TRY(w.read(dropin, true));
        if (text.empty())
          text = "# Written by bulwark fix: settings that win over postgresql.conf.\n";
        int own = 0, n = 0;
        for (auto &l : text::split(text, '\n', true)) {
          ++n;
          auto tl = text::trim(l);
          if (tl.size() > key.size() && text::iequals(tl.substr(0, key.size()), key) &&
              (tl[key.size()] == ' ' || tl[key.size()] == '='))
            own = n;
        }
        w.write(dropin, own ? replace_line(text, own, line) : insert_line(text, 1 << 30, line));
        if (wins(dropin)) {
          placed = true;
          summary.push_back(line + " in " + dropin);
        } else {
          w.restore(dropin, before);
          pg::Config cur = pg::load_postgresql_conf(w.view(), t->conf, t->data_dir);
          if (const pg::Setting *s = cur.get(key)) {
            // 2. The winning line, in place.
            TRY(in_place(*s));
          } else {
            // 3. The end of postgresql.conf.
            std::string main = TRY(w.read(t->conf));
            w.write(t->conf, insert_line(main, 1 << 30, line));
            summary.push_back(line + " appended to " + t->conf);
          }
          placed = wins("");
        }
      }
      if (!placed)
        return RecipeOutcome{Refusal{in.spec.id, t->subject,
                                     "cannot place '" + line + "' where it wins for " + t->conf}};
      units.push_back(t->unit);
    }
  }
  if (w.files().empty() && !elsewhere.empty())
    return RecipeOutcome{Refusal{in.spec.id, elsewhere.front(),
                                 "PostgreSQL in a compose service or an unknown layout (" +
                                     text::join(elsewhere, ", ") + "): fix by hand"}};
  return finish(in, w, summary, {Validator::postgres}, units,
                "the values are already in place; the check fails for another reason (see the "
                "audit's evidence)");
}

// ---- pg-hba-rule ---------------------------------------------------------------------

// The blank-separated fields of a pg_hba line with where each starts.
std::vector<std::pair<size_t, std::string>> hba_fields(const std::string &line) {
  std::vector<std::pair<size_t, std::string>> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    if (i >= line.size() || line[i] == '#')
      break;
    size_t start = i;
    bool quoted = false;
    while (i < line.size() && (quoted || (line[i] != ' ' && line[i] != '\t' && line[i] != '#'))) {
      if (line[i] == '"')
        quoted = !quoted;
      ++i;
    }
    out.emplace_back(start, line.substr(start, i - start));
  }
  return out;
}

Result<RecipeOutcome> pg_hba_rule(const RecipeInput &in) {
  Working w(in.fs);
  std::vector<std::string> summary, units, elsewhere;
  for (const Finding *f : in.findings) {
    auto t = pg_target(w.view(), f->subject);
    if (!t) {
      elsewhere.push_back(f->subject);
      continue;
    }
    pg::Config cfg = pg::load_postgresql_conf(w.view(), t->conf, t->data_dir);
    const pg::Setting *hf = cfg.get("hba_file");
    std::string hba =
        RootFs::join(t->data_dir + "/", hf && !hf->value.empty() ? hf->value : "pg_hba.conf");
    pg::HbaFile file = pg::load_pg_hba(w.view(), hba);
    for (auto &e : f->evidence) {
      if (e.path.empty() || e.line <= 0 || !e.context.starts_with("pg_hba.conf rule"))
        continue;
      const pg::HbaRule *rule = nullptr;
      for (auto &r : file.rules)
        if (r.loc.path == e.path && r.loc.line == e.line)
          rule = &r;
      if (rule == nullptr || rule->type == pg::ConnType::local)
        continue; // local rules (the postgres account's peer rule) stay
      std::string type(pg::to_string(rule->type));
      for (auto &[from, to] : in.args.set) {
        bool is_type = from == type;
        if (!is_type && from != rule->method)
          continue;
        if (to == "scram-sha-256") {
          const pg::Setting *pe = cfg.get("password_encryption");
          if (pe && !text::iequals(pe->value, "scram-sha-256"))
            return RecipeOutcome{Refusal{
                in.spec.id, t->subject,
                "password_encryption = " + pe->value + " (" + pe->loc.path + ":" +
                    std::to_string(pe->loc.line) +
                    "): passwords stored as md5 cannot log in with scram-sha-256; set "
                    "password_encryption = scram-sha-256 (postgres.password-encryption) and reset "
                    "the passwords first"}};
        }
        if (to == "hostssl") {
          const pg::Setting *ssl = cfg.get("ssl");
          if (!ssl || !pg::parse_bool(ssl->value).value_or(false))
            return RecipeOutcome{Refusal{in.spec.id, t->subject,
                                         "hostssl rules never match while ssl is off: turn ssl on "
                                         "first (postgres.ssl)"}};
        }
        std::string text = TRY(w.read(rule->loc.path));
        std::string old = services_line_of(text, rule->loc.line);
        auto fields = hba_fields(old);
        // The type is the first field; the method the first field after the
        // address (and its mask) that spells it.
        size_t idx = 0;
        if (!is_type) {
          for (idx = 4; idx < fields.size() && fields[idx].second != rule->method; ++idx) {
          }
        }
        if (idx >= fields.size() || fields[idx].second != from)
          return RecipeOutcome{Refusal{in.spec.id, t->subject,
                                       "cannot find '" + from + "' on " + rule->loc.path + ":" +
                                           std::to_string(rule->loc.line) + ": fix by hand"}};
        std::string now =
            old.substr(0, fields[idx].first) + to + old.substr(fields[idx].first + from.size());
        w.write(rule->loc.path, replace_line(text, rule->loc.line, now));
        summary.push_back(from + " -> " + to + " at " + rule->loc.path + ":" +
                          std::to_string(rule->loc.line));
        units.push_back(t->unit);
        break;
      }
    }
  }
  if (w.files().empty() && !elsewhere.empty())
    return RecipeOutcome{Refusal{in.spec.id, elsewhere.front(),
                                 "PostgreSQL in a compose service or an unknown layout (" +
                                     text::join(elsewhere, ", ") + "): fix by hand"}};
  return finish(in, w, summary, {Validator::pg_hba}, units,
                "no rule the finding names has a method or type the recipe replaces (address "
                "lists and other rules are fixed by hand)");
}

// ---- fail2ban-jail ---------------------------------------------------------------------

const f2b::Setting *jail_setting(const f2b::Jail &j, const std::string &key) {
  if (key == "enabled")
    return &j.enabled_setting;
  if (key == "backend")
    return &j.backend;
  if (key == "filter")
    return &j.filter;
  const std::optional<f2b::Setting> *o = key == "maxretry"   ? &j.maxretry
                                         : key == "findtime" ? &j.findtime
                                         : key == "bantime"  ? &j.bantime
                                         : key == "logpath"  ? &j.logpath
                                         : key == "port"     ? &j.port
                                         : key == "action"   ? &j.action
                                                             : nullptr;
  return o != nullptr && o->has_value() ? &**o : nullptr;
}

// `key = value` under [section] of an INI text: our own line replaced, else
// added at the section's end, else a new section appended.
std::string ini_set(const std::string &text, const std::string &section, const std::string &key,
                    const std::string &value) {
  auto lines = text::split(text, '\n', true);
  if (!lines.empty() && lines.back().empty())
    lines.pop_back();
  int header = -1, own = -1, end = static_cast<int>(lines.size());
  for (int i = 0; i < static_cast<int>(lines.size()); ++i) {
    auto t = text::trim(lines[static_cast<size_t>(i)]);
    if (t.starts_with("[")) {
      if (header >= 0 && end == static_cast<int>(lines.size()))
        end = i;
      if (t == "[" + section + "]")
        header = i, end = static_cast<int>(lines.size());
      continue;
    }
    auto eq = t.find_first_of("=:");
    if (header >= 0 && end == static_cast<int>(lines.size()) && eq != std::string_view::npos &&
        text::lower(text::trim(t.substr(0, eq))) == key)
      own = i;
  }
  std::string line = key + " = " + value;
  if (own >= 0)
    lines[static_cast<size_t>(own)] = line;
  else if (header >= 0) {
    int at = end;
    while (at > header + 1 && text::trim(lines[static_cast<size_t>(at - 1)]).empty())
      --at;
    lines.insert(lines.begin() + at, line);
  } else {
    if (!lines.empty())
      lines.push_back("");
    lines.push_back("[" + section + "]");
    lines.push_back(line);
  }
  std::string out;
  for (auto &l : lines)
    out += l + "\n";
  return out;
}

Result<RecipeOutcome> fail2ban_jail(const RecipeInput &in) {
  std::string jail = in.args.options.count("jail") ? in.args.options.at("jail") : "sshd";
  Working w(in.fs);
  std::vector<std::string> summary;
  for (auto &[key_raw, value] : in.args.set) {
    std::string key = text::lower(key_raw);
    bool named = false;
    for (const Finding *f : in.findings)
      named = named || names(*f, key);
    if (!named)
      continue;
    if (key == "backend" && value.starts_with("systemd") && !in.fs.exists(k_python_systemd))
      return RecipeOutcome{Refusal{in.spec.id, jail,
                                   "backend = systemd needs python3-systemd (" +
                                       std::string(k_python_systemd) +
                                       " is missing): apt-get install python3-systemd first"}};
    f2b::Config before = f2b::load_fail2ban(w.view());
    if (before.fatal)
      return RecipeOutcome{Refusal{in.spec.id, jail,
                                   "fail2ban-client refuses the configuration (" +
                                       before.fatal->path + ":" +
                                       std::to_string(before.fatal->line) + ": " +
                                       before.fatal->message + "): fix it first"}};
    std::string text = TRY(w.read(k_f2b_dropin, true));
    if (text.empty())
      text = "# Written by bulwark fix: jail settings read after jail.conf and jail.local.\n";
    w.write(k_f2b_dropin, ini_set(text, jail, key, value));
    // A later file (jail.d/zz.local) still decides: its line is edited in place.
    f2b::Config mid = f2b::load_fail2ban(w.view());
    const f2b::Jail *mj = mid.jail(jail);
    const f2b::Setting *ms = mj ? jail_setting(*mj, key) : nullptr;
    if (!mid.fatal && ms != nullptr && ms->defined && ms->loc.path != k_f2b_dropin &&
        ms->loc.line > 0 && ms->section == jail) {
      std::string t = TRY(w.read(ms->loc.path));
      w.write(ms->loc.path, replace_line(t, ms->loc.line, key + " = " + value));
      summary.push_back(key + " = " + value + " at " + ms->loc.path + ":" +
                        std::to_string(ms->loc.line));
    } else {
      summary.push_back(key + " = " + value + " under [" + jail + "] in " + k_f2b_dropin);
    }
    f2b::Config c = f2b::load_fail2ban(w.view());
    const f2b::Jail *j = c.jail(jail);
    const f2b::Setting *s = j ? jail_setting(*j, key) : nullptr;
    if (c.fatal || s == nullptr || s->value != value)
      return RecipeOutcome{Refusal{in.spec.id, jail,
                                   "cannot make '" + key + " = " + value + "' the value of [" +
                                       jail + "]" +
                                       (c.fatal ? ": " + c.fatal->message : std::string())}};
  }
  return finish(in, w, summary, {Validator::fail2ban}, {"fail2ban.service"},
                "the values are already in place; the check fails for another reason (see the "
                "audit's evidence)");
}

// ---- nginx-directive -----------------------------------------------------------------

constexpr const char *k_nginx_snippet = "/etc/nginx/conf.d/bulwark.conf";

// nginx: a directive set in a server block overrides the http block's, and
// one context may not set it twice ("directive is duplicate"). So a value
// the evidence locates (file:line) is edited there, in its own context; a
// default (the directive set nowhere) goes into /etc/nginx/conf.d/bulwark.conf,
// which Debian's nginx.conf includes inside http{}, where every server that
// does not set its own inherits it. nginx -t and the re-audit judge.
Result<RecipeOutcome> nginx_directive(const RecipeInput &in) {
  Working w(in.fs);
  std::vector<std::string> summary;
  std::set<std::pair<std::string, int>> done;
  std::set<std::string> snippet_keys;
  for (const Finding *f : in.findings)
    for (auto &e : f->evidence)
      for (auto &[key, value] : in.args.set) {
        if (!e.found.starts_with(key + " "))
          continue;
        std::string line = key + " " + value + ";";
        bool is_default = e.found.find("default; " + key + " not set)") != std::string::npos;
        if (!is_default) {
          if (e.line <= 0 || !e.path.starts_with("/etc/nginx/") ||
              !done.insert({e.path, e.line}).second)
            continue;
          std::string text = TRY(w.read(e.path));
          std::string old = services_line_of(text, e.line);
          size_t at = old.find(key);
          size_t semi = at == std::string::npos ? at : old.find(';', at);
          if (semi == std::string::npos)
            return RecipeOutcome{Refusal{in.spec.id, f->subject,
                                         key + " at " + e.path + ":" + std::to_string(e.line) +
                                             " does not end on its line: fix by hand"}};
          w.write(e.path,
                  replace_line(text, e.line, old.substr(0, at) + line + old.substr(semi + 1)));
          summary.push_back(line + " at " + e.path + ":" + std::to_string(e.line));
          continue;
        }
        if (!snippet_keys.insert(key).second)
          continue;
        std::string text = TRY(w.read(k_nginx_snippet, true));
        if (text.empty())
          text = "# Written by bulwark fix: http-level settings every server inherits.\n";
        int own = 0, n = 0;
        for (auto &l : text::split(text, '\n', true)) {
          ++n;
          auto t = text::trim(l);
          if (t.starts_with(key + " ") || t.starts_with(key + "\t"))
            own = n;
        }
        w.write(k_nginx_snippet,
                own ? replace_line(text, own, line) : insert_line(text, 1 << 30, line));
        summary.push_back(line + " in " + k_nginx_snippet + " (http level)");
      }
  return finish(in, w, summary, {Validator::nginx}, {"nginx.service"},
                "the finding names no nginx line the recipe sets (Apache is fixed by hand)");
}

constexpr RecipeKind k_services_kinds[] = {
    {"redis-option", redis_option},       {"postgres-option", postgres_option},
    {"pg-hba-rule", pg_hba_rule},         {"fail2ban-jail", fail2ban_jail},
    {"nginx-directive", nginx_directive},
};

} // namespace

std::span<const RecipeKind> service_recipes() {
  return k_services_kinds;
}

} // namespace bulwark::fix
