// redis.conf and ACL files, read the way Redis 7.0 (Debian 12: 7.0.15) reads
// them.
//
// - Lines (config.c, loadServerConfigFromString): split at '\n', trimmed of
//   " \t\r\n"; empty lines and lines starting with '#' are skipped (a '#'
//   later on the line is NOT a comment: `port 6379 # x` is a fatal "wrong
//   number of arguments"). Tokens by sdssplitargs() (sds.c): blanks separate;
//   "..." takes \xHH and \n \r \t \b \a escapes, any other escaped char
//   stands for itself; '...' takes only \'; a closing quote must be followed
//   by a blank or the end ("Unbalanced quotes", fatal); a quote inside a bare
//   word opens a quoted part of the same token. The name is lower-cased.
// - `include FILE` is read in place (relative paths are relative to the
//   server's working directory, "/" under Debian's unit; globs allowed since
//   7.0). For ordinary settings the last line wins; a multi-argument
//   setting given as one quoted argument (bind "a b") is split at spaces.
// - `rename-command NAME NEW` moves a command ("" removes it); `user` lines
//   are collected and applied after the whole file (ACLLoadConfiguredUsers):
//   `user default ...` resets the default user first, so it overrides
//   requirepass wherever the lines are; a user defined twice is fatal.
//   requirepass sets the default user's only password. `aclfile` and `user`
//   lines together are fatal; an aclfile replaces every user, and a default
//   user it does not define is re-created as `on nopass ~* &* +@all`, so
//   requirepass is then ignored.
// - ACL rules (acl.c, ACLSetUser) apply left to right: on/off, nopass,
//   resetpass, >pass, <pass, #sha256, !sha256, ~pattern, %R~/%W~, allkeys,
//   resetkeys, &pattern, allchannels, resetchannels, +cmd, -cmd, +cmd|sub,
//   +@category, -@category, allcommands, nocommands, reset, (selector),
//   clearselectors. A new user starts off, without passwords, -@all.
// Verified against redis-server 7.0.15 (tests/live/redis_oracle_test.cpp).
// Sources: https://github.com/redis/redis/blob/7.0/src/config.c, src/sds.c,
// src/acl.c; https://redis.io/docs/management/security/acl/

#include <bulwark/core/text.hpp>
#include <bulwark/parse/redis_conf.hpp>

#include <algorithm>
#include <cctype>
#include <cmath>
#include <set>

namespace bulwark::redis {

const Directive *RedisConfig::get(std::string_view name) const {
  auto it = last.find(std::string(name));
  return it == last.end() ? nullptr : &it->second;
}

const AclUser *RedisConfig::user(std::string_view name) const {
  for (auto &u : users)
    if (u.name == name)
      return &u;
  return nullptr;
}

bool RedisConfig::has_errors() const {
  return std::any_of(diagnostics.begin(), diagnostics.end(),
                     [](const Diagnostic &d) { return d.level == Diagnostic::Level::error; });
}

std::optional<std::vector<std::string>> split_args(std::string_view line) {
  std::vector<std::string> out;
  // A C string: stop at NUL.
  if (auto z = line.find('\0'); z != std::string_view::npos)
    line = line.substr(0, z);
  size_t p = 0, n = line.size();
  auto at = [&](size_t i) -> char { return i < n ? line[i] : '\0'; };
  auto hexval = [](char c) -> int {
    if (c >= '0' && c <= '9')
      return c - '0';
    if (c >= 'a' && c <= 'f')
      return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
      return c - 'A' + 10;
    return -1;
  };
  for (;;) {
    while (p < n && std::isspace(static_cast<unsigned char>(line[p])))
      p++;
    if (p >= n)
      return out;
    std::string cur;
    bool inq = false, insq = false, done = false;
    while (!done) {
      char c = at(p);
      if (inq) {
        if (c == '\\' && at(p + 1) == 'x' && hexval(at(p + 2)) >= 0 && hexval(at(p + 3)) >= 0) {
          cur += static_cast<char>(hexval(at(p + 2)) * 16 + hexval(at(p + 3)));
          p += 3;
        } else if (c == '\\' && at(p + 1) != '\0') {
          p++;
          char e = at(p);
          switch (e) {
          case 'n': cur += '\n'; break;
          case 'r': cur += '\r'; break;
          case 't': cur += '\t'; break;
          case 'b': cur += '\b'; break;
          case 'a': cur += '\a'; break;
          default: cur += e; break;
          }
        } else if (c == '"') {
          if (at(p + 1) != '\0' && !std::isspace(static_cast<unsigned char>(at(p + 1))))
            return std::nullopt;
          done = true;
        } else if (c == '\0') {
          return std::nullopt;
        } else {
          cur += c;
        }
      } else if (insq) {
        if (c == '\\' && at(p + 1) == '\'') {
          p++;
          cur += '\'';
        } else if (c == '\'') {
          if (at(p + 1) != '\0' && !std::isspace(static_cast<unsigned char>(at(p + 1))))
            return std::nullopt;
          done = true;
        } else if (c == '\0') {
          return std::nullopt;
        } else {
          cur += c;
        }
      } else {
        switch (c) {
        case ' ':
        case '\n':
        case '\r':
        case '\t':
        case '\0': done = true; break;
        case '"': inq = true; break;
        case '\'': insq = true; break;
        default: cur += c; break;
        }
      }
      if (at(p) != '\0')
        p++;
    }
    out.push_back(std::move(cur));
  }
}

namespace {

// Category membership in Redis 7.0's command table of the commands the
// checks ask about (COMMAND INFO; verified in the oracle test with ACL CAT).
const std::map<std::string, std::set<std::string>> &categories() {
  static const std::map<std::string, std::set<std::string>> m = {
      {"flushdb", {"keyspace", "write", "slow", "dangerous"}},
      {"flushall", {"keyspace", "write", "slow", "dangerous"}},
      {"config", {"admin", "slow", "dangerous"}},
      {"debug", {"admin", "slow", "dangerous"}},
      {"shutdown", {"admin", "slow", "dangerous"}},
      {"keys", {"keyspace", "read", "slow", "dangerous"}},
  };
  return m;
}

const std::set<std::string> k_known_categories = {
    "keyspace", "read",        "write",      "set",         "sortedset", "list",  "hash", "string",
    "bitmap",   "hyperloglog", "geo",        "stream",      "pubsub",    "admin", "fast", "slow",
    "blocking", "dangerous",   "connection", "transaction", "scripting", "all"};

bool is_hex64(std::string_view s) {
  return s.size() == 64 && std::all_of(s.begin(), s.end(), [](char c) {
           return std::isxdigit(static_cast<unsigned char>(c)) &&
                  !std::isupper(static_cast<unsigned char>(c));
         });
}

struct AclState {
  AclUser u;
  std::vector<std::map<std::string, bool>> selectors; // commands each selector allows
};

void set_all(std::map<std::string, bool> &m, bool v, const SourceLocation &loc,
             std::map<std::string, SourceLocation> *at) {
  for (const char *c : k_dangerous) {
    m[c] = v;
    if (at)
      (*at)[c] = loc;
  }
}

// Applies one rule to the command map (root or a selector). "" on success.
std::string apply_command_rule(std::string_view op, std::map<std::string, bool> &m,
                               const SourceLocation &loc,
                               std::map<std::string, SourceLocation> *at) {
  bool allow = op[0] == '+';
  std::string rest = text::lower(op.substr(1));
  if (!rest.empty() && rest[0] == '@') {
    std::string cat = rest.substr(1);
    if (!k_known_categories.count(cat))
      return "Unknown command or category name in ACL";
    for (auto &[cmd, cats] : categories())
      if (cat == "all" || cats.count(cat)) {
        m[cmd] = allow;
        if (at)
          (*at)[cmd] = loc;
      }
    return "";
  }
  if (rest.empty())
    return "Unknown command or category name in ACL";
  auto bar = rest.find('|');
  std::string cmd = rest.substr(0, bar);
  if (bar != std::string::npos) {
    if (!allow)
      return ""; // removing one subcommand leaves the others reachable
    if (bar + 1 >= rest.size())
      return "Unknown command or category name in ACL";
  }
  if (categories().count(cmd)) {
    m[cmd] = allow;
    if (at)
      (*at)[cmd] = loc;
  }
  return "";
}

// ACLSetUser for one rule. Returns "" or Redis's error text.
std::string apply_rule(AclState &s, std::string_view op, const SourceLocation &loc) {
  AclUser &u = s.u;
  std::string l = text::lower(op);
  if (op.empty())
    return "Syntax error";
  if (l == "on")
    u.enabled = true;
  else if (l == "off")
    u.enabled = false;
  else if (l == "skip-sanitize-payload" || l == "sanitize-payload") {
  } else if (l == "allkeys" || op == "~*")
    u.all_keys = true;
  else if (l == "resetkeys")
    u.all_keys = false;
  else if (l == "allchannels" || l == "resetchannels" || op[0] == '&') {
  } else if (op[0] == '~' || op[0] == '%') {
    if (op[0] == '%' && op.find('~') == std::string_view::npos)
      return "Syntax error";
  } else if (l == "allcommands") {
    set_all(u.may_run, true, loc, &u.decided_at);
  } else if (l == "nocommands") {
    set_all(u.may_run, false, loc, &u.decided_at);
  } else if (l == "nopass") {
    u.nopass = true;
    u.passwords.clear();
    u.hashes = 0;
  } else if (l == "resetpass") {
    u.nopass = false;
    u.passwords.clear();
    u.hashes = 0;
  } else if (op[0] == '>') {
    std::string p(op.substr(1));
    if (std::find(u.passwords.begin(), u.passwords.end(), p) == u.passwords.end())
      u.passwords.push_back(p);
    u.nopass = false;
  } else if (op[0] == '#') {
    if (!is_hex64(op.substr(1)))
      return "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters";
    u.hashes++;
    u.nopass = false;
  } else if (op[0] == '<') {
    std::string p(op.substr(1));
    auto it = std::find(u.passwords.begin(), u.passwords.end(), p);
    if (it == u.passwords.end())
      return "The password you are trying to remove from the user does not exist";
    u.passwords.erase(it);
  } else if (op[0] == '!') {
    if (!is_hex64(op.substr(1)))
      return "The password hash must be exactly 64 characters and contain only lowercase "
             "hexadecimal characters";
    if (u.hashes > 0)
      u.hashes--;
  } else if (op[0] == '(' && op.back() == ')') {
    std::map<std::string, bool> sel;
    set_all(sel, false, loc, nullptr);
    for (auto &part : text::split(op.substr(1, op.size() - 2), ' ')) {
      if (part.empty())
        continue;
      if (part[0] == '+' || part[0] == '-') {
        if (auto e = apply_command_rule(part, sel, loc, nullptr); !e.empty())
          return e;
      } else if (part[0] != '~' && part[0] != '%' && part[0] != '&' &&
                 text::lower(part) != "allkeys" && text::lower(part) != "allchannels" &&
                 text::lower(part) != "resetkeys" && text::lower(part) != "resetchannels" &&
                 text::lower(part) != "allcommands" && text::lower(part) != "nocommands") {
        return "Syntax error";
      } else if (text::lower(part) == "allcommands") {
        set_all(sel, true, loc, nullptr);
      }
    }
    s.selectors.push_back(sel);
  } else if (l == "clearselectors") {
    s.selectors.clear();
  } else if (l == "reset") {
    u.nopass = false;
    u.passwords.clear();
    u.hashes = 0;
    u.all_keys = false;
    u.enabled = false;
    s.selectors.clear();
    set_all(u.may_run, false, loc, &u.decided_at);
  } else if (op[0] == '+' || op[0] == '-') {
    return apply_command_rule(op, u.may_run, loc, &u.decided_at);
  } else {
    return "Syntax error";
  }
  return "";
}

// Joins "(" ... ")" selector arguments the way ACLMergeSelectorArguments does.
std::vector<std::string> merge_selectors(const std::vector<std::string> &args, bool &unbalanced) {
  std::vector<std::string> out;
  unbalanced = false;
  std::string acc;
  bool open = false;
  for (auto &a : args) {
    if (!open && !a.empty() && a[0] == '(' && a.back() != ')') {
      acc = a;
      open = true;
    } else if (open) {
      acc += " " + a;
      if (!a.empty() && a.back() == ')') {
        out.push_back(acc);
        open = false;
      }
    } else {
      out.push_back(a);
    }
  }
  if (open)
    unbalanced = true;
  return out;
}

std::string redacted_rules(const std::vector<std::string> &rules) {
  std::string s;
  for (auto &r : rules) {
    std::string shown = r;
    if (!r.empty() && (r[0] == '>' || r[0] == '<'))
      shown = std::string(1, r[0]) + "<redacted>";
    s += (s.empty() ? "" : " ") + text::printable(shown, 80);
  }
  return s;
}

AclUser default_user() {
  AclUser u;
  u.name = "default";
  u.enabled = true;
  u.nopass = true;
  u.all_keys = true;
  set_all(u.may_run, true, {}, &u.decided_at);
  u.rules = "on nopass ~* &* +@all (built-in)";
  return u;
}

struct UserLine {
  std::vector<std::string> args; // name first
  SourceLocation loc;
};

struct RedisConfLoader {
  const RootFs *fs;
  const RedisOptions &opts;
  RedisConfig &cfg;
  std::vector<UserLine> user_lines;
  int files_read = 0;

  void diag(Diagnostic::Level lv, std::string m, const SourceLocation &loc) {
    cfg.diagnostics.push_back({lv, std::move(m), loc});
  }

  std::string absolute(const std::string &p) const {
    return p.empty() || p[0] != '/' ? RootFs::join(opts.cwd, p) : RootFs::join("/", p);
  }

  void file(const std::string &path, const SourceLocation &from, int depth) {
    if (depth > opts.max_depth)
      return diag(Diagnostic::Level::error,
                  "include of \"" + path + "\" nested more than " + std::to_string(opts.max_depth) +
                      " deep (an include loop: redis-server would recurse until it crashes)",
                  from);
    if (++files_read > opts.max_files)
      return diag(Diagnostic::Level::error,
                  "more than " + std::to_string(opts.max_files) + " files: \"" + path +
                      "\" not read",
                  from);
    auto content = fs->read_file(path, opts.max_file_bytes);
    if (!content)
      return diag(Diagnostic::Level::error,
                  "Fatal error, can't open config file '" + path + "': " + content.error().message,
                  from.path.empty() ? SourceLocation{path, 0} : from);
    text_(path, *content, depth);
  }

  void include(const std::string &target, const SourceLocation &from, int depth) {
    std::string p = absolute(target);
    if (!fs)
      return diag(Diagnostic::Level::warning, "include \"" + p + "\" not followed", from);
    if (p.find_first_of("*?[") != std::string::npos) {
      auto matches = fs->glob(p);
      if (!matches) {
        diag(Diagnostic::Level::error, "include \"" + p + "\": " + matches.error().message, from);
        return;
      }
      for (auto &m : *matches)
        file(m, from, depth + 1);
      return;
    }
    file(p, from, depth + 1);
  }

  void text_(const std::string &path, std::string_view text, int depth) {
    cfg.files.push_back(path);
    size_t pos = 0;
    int lineno = 0;
    while (pos <= text.size()) {
      size_t nl = text.find('\n', pos);
      std::string_view raw =
          text.substr(pos, nl == std::string_view::npos ? text.size() - pos : nl - pos);
      pos = nl == std::string_view::npos ? text.size() + 1 : nl + 1;
      lineno++;
      SourceLocation loc{path, lineno};
      size_t b = raw.find_first_not_of(" \t\r\n");
      if (b == std::string_view::npos)
        continue;
      size_t e = raw.find_last_not_of(" \t\r\n");
      std::string_view line = raw.substr(b, e - b + 1);
      if (line[0] == '#' || line[0] == '\0')
        continue;
      auto argv = split_args(line);
      if (!argv) {
        diag(Diagnostic::Level::error, "Unbalanced quotes in configuration line", loc);
        continue;
      }
      if (argv->empty())
        continue;
      Directive d;
      d.name = text::lower((*argv)[0]);
      d.args.assign(argv->begin() + 1, argv->end());
      d.loc = loc;
      handle(d, depth);
    }
  }

  void handle(Directive &d, int depth) {
    static const std::set<std::string> k_single = {"port",
                                                   "tls-port",
                                                   "protected-mode",
                                                   "requirepass",
                                                   "aclfile",
                                                   "unixsocket",
                                                   "unixsocketperm",
                                                   "tls-cert-file",
                                                   "tls-key-file",
                                                   "tls-ca-cert-file",
                                                   "tls-auth-clients",
                                                   "tls-protocols",
                                                   "tls-replication",
                                                   "tls-cluster",
                                                   "masterauth",
                                                   "masteruser",
                                                   "daemonize",
                                                   "dir",
                                                   "logfile"};
    if (k_single.count(d.name) && d.args.size() != 1) {
      diag(Diagnostic::Level::error, "wrong number of arguments", d.loc);
      return;
    }
    if (d.name == "include") {
      if (d.args.size() != 1) {
        diag(Diagnostic::Level::error, "Bad directive or wrong number of arguments", d.loc);
        return;
      }
      cfg.directives.push_back(d);
      include(d.args[0], d.loc, depth);
      return;
    }
    if (d.name == "rename-command") {
      if (d.args.size() != 2) {
        diag(Diagnostic::Level::error, "Bad directive or wrong number of arguments", d.loc);
        return;
      }
      std::string cmd = text::lower(d.args[0]);
      if (cfg.renamed.count(cmd) && cfg.renamed[cmd].args[1].empty()) {
        diag(Diagnostic::Level::error, "No such command in rename-command", d.loc);
        return;
      }
      cfg.renamed[cmd] = d;
      cfg.directives.push_back(d);
      return;
    }
    if (d.name == "user") {
      if (d.args.empty()) {
        diag(Diagnostic::Level::error, "Bad directive or wrong number of arguments", d.loc);
        return;
      }
      for (auto &u : user_lines)
        if (u.args[0] == d.args[0]) {
          diag(Diagnostic::Level::error,
               "Error in user declaration '" + text::printable(d.args[0], 40) +
                   "': Duplicate user found. A user can only be defined once in config files",
               d.loc);
          return;
        }
      user_lines.push_back({d.args, d.loc});
      Directive shown = d;
      shown.args = {d.args[0], redacted_rules({d.args.begin() + 1, d.args.end()})};
      cfg.directives.push_back(shown);
      return;
    }
    if (d.name == "bind" && d.args.size() == 1) {
      // A multi-argument setting given as one argument is split at spaces.
      d.args = text::split(d.args[0], ' ');
    }
    cfg.directives.push_back(d);
    cfg.last[d.name] = d;
  }

  // Builds the users: requirepass, then user lines, then the aclfile.
  void users() {
    AclUser def = default_user();
    if (const Directive *rp = cfg.get("requirepass")) {
      def.passwords.clear();
      def.nopass = rp->args[0].empty();
      if (!rp->args[0].empty())
        def.passwords.push_back(rp->args[0]);
      def.loc = rp->loc;
      def.rules = rp->args[0].empty()
                      ? "on nopass ~* &* +@all (requirepass \"\")"
                      : "on >" + std::string("<redacted>") + " ~* &* +@all (requirepass)";
    }
    cfg.users.push_back(def);
    const Directive *af = cfg.get("aclfile");
    std::string aclfile = af ? af->args[0] : "";
    if (!aclfile.empty() && !user_lines.empty()) {
      diag(Diagnostic::Level::error,
           "Configuring Redis with users defined in redis.conf and at the same setting an ACL "
           "file path is invalid",
           af->loc);
    }
    for (auto &ul : user_lines)
      add_user(ul.args, ul.loc);
    if (!aclfile.empty()) {
      std::string p = absolute(aclfile);
      cfg.aclfile = p;
      if (!fs) {
        diag(Diagnostic::Level::warning, "aclfile \"" + p + "\" not read", af->loc);
        return;
      }
      auto content = fs->read_file(p, opts.max_file_bytes);
      if (!content) {
        diag(Diagnostic::Level::error,
             "Error loading ACLs, opening file '" + p + "': " + content.error().message, af->loc);
        return;
      }
      cfg.files.push_back(p);
      // The file replaces every user; a default it does not define is new.
      cfg.users.clear();
      cfg.users.push_back(default_user());
      cfg.users.back().loc = {p, 0};
      cfg.users.back().rules = "on nopass ~* &* +@all (re-created: the aclfile does not define "
                               "default, requirepass is ignored)";
      std::set<std::string> seen;
      int lineno = 0;
      size_t pos = 0;
      std::string_view t = *content;
      while (pos <= t.size()) {
        size_t nl = t.find('\n', pos);
        std::string_view raw =
            t.substr(pos, nl == std::string_view::npos ? t.size() - pos : nl - pos);
        pos = nl == std::string_view::npos ? t.size() + 1 : nl + 1;
        lineno++;
        SourceLocation loc{p, lineno};
        std::string line(text::trim(raw));
        if (line.empty() || line[0] == '#')
          continue;
        auto argv = split_args(line);
        if (!argv) {
          diag(Diagnostic::Level::error, "Unbalanced quotes in ACL file line", loc);
          continue;
        }
        if (argv->empty())
          continue;
        if ((*argv)[0] != "user" || argv->size() < 2) {
          diag(Diagnostic::Level::error, "line should start with user keyword", loc);
          continue;
        }
        if (!seen.insert((*argv)[1]).second) {
          diag(Diagnostic::Level::error,
               "Duplicate user '" + text::printable((*argv)[1], 40) + "' found", loc);
          continue;
        }
        add_user({argv->begin() + 1, argv->end()}, loc);
      }
    }
  }

  // The built-in default user is decided by the absence of settings: cite
  // the main file, line 0.
  void locate_builtin(const std::string &main) {
    for (auto &u : cfg.users)
      if (u.loc.path.empty())
        u.loc = {main, 0};
  }

  void add_user(const std::vector<std::string> &args, const SourceLocation &loc) {
    const std::string &name = args[0];
    bool unbalanced = false;
    auto rules = merge_selectors({args.begin() + 1, args.end()}, unbalanced);
    if (unbalanced) {
      diag(Diagnostic::Level::error, "Unmatched parenthesis in acl selector starting at '('", loc);
      return;
    }
    AclState s;
    s.u.name = name;
    set_all(s.u.may_run, false, loc, &s.u.decided_at);
    if (name.find_first_of(" \t\r\n") != std::string::npos) {
      diag(Diagnostic::Level::error, "Spaces not allowed in ACL usernames", loc);
      return;
    }
    for (auto &r : rules)
      if (auto e = apply_rule(s, r, loc); !e.empty()) {
        std::string shown =
            !r.empty() && (r[0] == '>' || r[0] == '<') ? r.substr(0, 1) + "<redacted>" : r;
        diag(Diagnostic::Level::error,
             "Error in user declaration '" + text::printable(shown, 60) + "': " + e, loc);
        return;
      }
    for (auto &sel : s.selectors)
      for (auto &[cmd, ok] : sel)
        if (ok && !s.u.may_run[cmd]) {
          s.u.may_run[cmd] = true;
          s.u.decided_at[cmd] = loc;
        }
    s.u.loc = loc;
    s.u.rules = redacted_rules(rules);
    if (!s.u.enabled)
      diag(Diagnostic::Level::info,
           "The user '" + text::printable(name, 40) + "' is disabled (there is no 'on' modifier)",
           loc);
    auto it = std::find_if(cfg.users.begin(), cfg.users.end(),
                           [&](const AclUser &u) { return u.name == name; });
    if (it != cfg.users.end())
      *it = s.u;
    else
      cfg.users.push_back(s.u);
  }
};

} // namespace

RedisConfig load_redis_conf(const RootFs &fs, const std::string &path, const RedisOptions &opts) {
  RedisConfig cfg;
  RedisConfLoader l{&fs, opts, cfg, {}, 0};
  l.file(RootFs::join("/", path), {}, 0);
  l.users();
  l.locate_builtin(RootFs::join("/", path));
  return cfg;
}

RedisConfig parse_redis_text(const std::string &path, std::string_view text,
                             const RedisOptions &opts) {
  RedisConfig cfg;
  RedisConfLoader l{nullptr, opts, cfg, {}, 0};
  l.text_(path, text, 0);
  l.users();
  l.locate_builtin(path);
  return cfg;
}

RedisConfig load_redis_layers(const RootFs &fs, const std::vector<Directive> &before,
                              const std::optional<std::string> &path,
                              const std::vector<Directive> &after, const RedisOptions &opts) {
  RedisConfig cfg;
  RedisConfLoader l{&fs, opts, cfg, {}, 0};
  for (Directive d : before)
    l.handle(d, 0);
  if (path)
    l.file(RootFs::join("/", *path), {}, 0);
  for (Directive d : after)
    l.handle(d, 0);
  l.users();
  if (path)
    l.locate_builtin(RootFs::join("/", *path));
  else if (!after.empty() || !before.empty())
    l.locate_builtin((after.empty() ? before : after).front().loc.path);
  return cfg;
}

std::vector<Directive> server_options(const std::vector<Arg> &args,
                                      std::vector<Diagnostic> &diags) {
  std::vector<Directive> out;
  bool handled_last = true; // the line before has an argument (or there is none)
  for (size_t j = 0; j < args.size(); j++) {
    const std::string &a = args[j].text;
    if (handled_last && a.size() >= 2 && a[0] == '-' && a[1] == '-') {
      auto words = split_args(std::string_view(a).substr(2));
      if (!words || words->empty()) {
        diags.push_back(
            {Diagnostic::Level::error,
             "Unbalanced quotes in the command line option '" + text::printable(a, 60) + "'",
             args[j].loc});
        handled_last = true;
        continue;
      }
      Directive d;
      d.name = text::lower((*words)[0]);
      d.args.assign(words->begin() + 1, words->end());
      d.loc = args[j].loc;
      out.push_back(std::move(d));
      handled_last = words->size() > 1;
      if (!handled_last && out.back().name == "save") {
        bool next_is_option = j + 1 < args.size() && args[j + 1].text.rfind("--", 0) == 0;
        if (j + 1 == args.size() || next_is_option) {
          out.back().args.push_back("");
          handled_last = true;
        }
      }
      continue;
    }
    if (out.empty()) {
      // A word before any option: redis-server reads it as a configuration
      // file name only in the first position, which the caller took.
      diags.push_back({Diagnostic::Level::error,
                       "'" + text::printable(a, 60) +
                           "' is not an option: redis-server reads it as a configuration line "
                           "and refuses to start",
                       args[j].loc});
      continue;
    }
    out.back().args.push_back(a);
    handled_last = true;
  }
  return out;
}

Strength judge_password(std::string_view pw) {
  static const std::set<std::string> k_common = {
      "foobared",      "password",   "redis",    "admin",    "changeme", "secret", "123456",
      "12345678",      "default",    "letmein",  "qwerty",   "root",     "pass",   "test",
      "redispassword", "mypassword", "passw0rd", "p@ssw0rd", "welcome",  "master"};
  Strength s;
  std::string l = text::lower(pw);
  std::string stripped;
  for (char c : l)
    if (std::isalpha(static_cast<unsigned char>(c)))
      stripped += c;
  if (k_common.count(l) ||
      (!stripped.empty() && k_common.count(stripped) && stripped.size() * 2 >= l.size())) {
    s.weak = true;
    s.reason = "a well-known password";
    return s;
  }
  if (pw.size() < 32) {
    s.weak = true;
    s.reason = std::to_string(pw.size()) + " characters (< 32)";
    return s;
  }
  std::map<char, int> freq;
  for (char c : pw)
    freq[c]++;
  double h = 0;
  for (auto &[c, n] : freq) {
    double p = static_cast<double>(n) / static_cast<double>(pw.size());
    h -= p * std::log2(p);
  }
  // Random hex (what `openssl rand -hex` and ACL GENPASS give) shows about
  // 3.7 bits per character over 32+ characters and 12+ distinct ones.
  if (freq.size() < 10 || h < 3.0) {
    s.weak = true;
    s.reason = "low entropy (" + std::to_string(freq.size()) + " distinct characters)";
  }
  return s;
}

std::string redact(std::string_view password) {
  return "<redacted: " + std::to_string(password.size()) + " characters>";
}

} // namespace bulwark::redis
