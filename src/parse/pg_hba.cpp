// pg_hba.conf, read and matched the way PostgreSQL 15's hba.c does.
//
// - Tokens (next_token): blanks and commas separate; '#' outside quotes
//   ends the line; inside double quotes blanks, commas and '#' are literal
//   and "" is a literal quote. A token whose first character is a quote is
//   "quoted": it is never a keyword, so "all" names a database called all.
//   Keywords and methods compare case-sensitively (strcmp). A field is a
//   comma list of tokens; an unquoted token @file is replaced by the tokens
//   of that file (relative to the including file's directory; a missing file
//   is only logged).
// - Records (parse_hba_line): TYPE DATABASE USER [ADDRESS [MASK]] METHOD
//   [name=value...]. TYPE local|host|hostssl|hostnossl|hostgssenc|
//   hostnogssenc. ADDRESS all|samehost|samenet|numeric address[/bits] (a
//   numeric address without /bits takes the next field as its mask)|host
//   name (".example.com" is a suffix). A bad line is an error and the server
//   refuses to start with it (a reload keeps the old rules); hostssl while
//   ssl is off only logs "cannot match" and loads.
// - Matching (check_hba): the first rule whose type, address, database and
//   user match decides; none is an implicit reject. `all` does not match a
//   physical replication connection, which only `replication` matches. An
//   IPv4 rule never matches an IPv6 client, not even an IPv4-mapped one
//   (check_ip compares the families first).
// - PostgreSQL 16 adds include, include_if_exists and include_dir records
//   and lines continued by a trailing backslash; 15 rejects them.
// Sources: https://github.com/postgres/postgres/blob/REL_15_STABLE/src/backend/libpq/hba.c
// and REL_16_STABLE for includes; https://www.postgresql.org/docs/15/auth-pg-hba-conf.html

#include <bulwark/core/text.hpp>
#include <bulwark/parse/pg_hba.hpp>

#include <algorithm>
#include <arpa/inet.h>
#include <climits>
#include <cstdint>
#include <cstring>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unordered_map>

namespace bulwark::pg {

std::string_view to_string(ConnType t) {
  switch (t) {
  case ConnType::local: return "local";
  case ConnType::host: return "host";
  case ConnType::hostssl: return "hostssl";
  case ConnType::hostnossl: return "hostnossl";
  case ConnType::hostgssenc: return "hostgssenc";
  case ConnType::hostnogssenc: return "hostnogssenc";
  }
  return "?";
}

namespace {

constexpr size_t k_max_token = 256; // MAX_TOKEN: longer tokens make the line an error

bool pg_hba_is_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

struct Line {
  std::vector<std::vector<HbaToken>> fields;
  int line = 0;
  std::string error;
};

struct PgHbaReader {
  const RootFs *fs;
  const HbaOptions &opts;
  HbaFile &out;

  void diag(Diagnostic::Level lv, std::string msg, const std::string &path, int line) {
    out.diagnostics.push_back({lv, std::move(msg), {path, line}});
  }

  // next_token(): false at end of line; sets quoted / comma.
  static bool next_token(std::string_view s, size_t &p, std::string &buf, bool &initial_quote,
                         bool &comma, bool &too_long) {
    buf.clear();
    initial_quote = false;
    comma = false;
    too_long = false;
    while (p < s.size() && (pg_hba_is_blank(s[p]) || s[p] == ','))
      p++;
    bool in_quote = false, was_quote = false, saw_quote = false;
    while (p < s.size() && (!pg_hba_is_blank(s[p]) || in_quote)) {
      char c = s[p];
      if (c == '#' && !in_quote) {
        p = s.size();
        break;
      }
      if (buf.size() >= k_max_token - 1) {
        too_long = true;
        p = s.size();
        return false;
      }
      if (c == ',' && !in_quote) {
        comma = true;
        p++;
        break;
      }
      if (c != '"' || was_quote)
        buf += c;
      if (in_quote && c == '"')
        was_quote = !was_quote;
      else
        was_quote = false;
      if (c == '"') {
        in_quote = !in_quote;
        saw_quote = true;
        if (buf.empty())
          initial_quote = true;
      }
      p++;
    }
    return saw_quote || !buf.empty();
  }

  // The tokens of a secondary (@) file, every line and field flattened.
  void inc_file(const std::string &from, const std::string &name, std::vector<HbaToken> &into,
                int line, int depth) {
    std::string full = name[0] == '/' ? RootFs::join("/", name)
                                      : RootFs::join(from.substr(0, from.rfind('/') + 1), name);
    if (depth > opts.max_depth) {
      diag(Diagnostic::Level::error,
           "could not open secondary authentication file \"@" + name +
               "\": maximum nesting depth exceeded",
           from, line);
      return;
    }
    if (!fs) {
      diag(Diagnostic::Level::warning, "secondary authentication file \"@" + name + "\" not read",
           from, line);
      return;
    }
    auto content = fs->read_file(full, opts.max_file_bytes);
    if (!content) {
      diag(Diagnostic::Level::warning,
           "could not open secondary authentication file \"@" + name + "\" as \"" + full +
               "\": " + content.error().message + " (its names match nothing)",
           from, line);
      return;
    }
    out.files.push_back(full);
    for (auto &l : tokenize(full, *content, depth))
      for (auto &f : l.fields)
        for (auto &t : f)
          into.push_back(t);
  }

  std::vector<Line> tokenize(const std::string &path, std::string_view text, int depth) {
    std::vector<Line> lines;
    size_t pos = 0;
    int lineno = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string raw(
          text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos));
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
      lineno++;
      int first = lineno;
      if (opts.major_version >= 16) {
        // A trailing backslash joins the next line (after comment removal
        // the server does this on the raw line).
        while (!raw.empty() && raw.back() == '\\' && pos < text.size()) {
          raw.pop_back();
          size_t n2 = text.find('\n', pos);
          raw += std::string(
              text.substr(pos, n2 == std::string_view::npos ? std::string_view::npos : n2 - pos));
          pos = n2 == std::string_view::npos ? text.size() : n2 + 1;
          lineno++;
        }
      }
      // The server reads C strings: a NUL ends the line.
      if (auto z = raw.find('\0'); z != std::string::npos)
        raw.resize(z);
      Line l;
      l.line = first;
      size_t p = 0;
      while (p < raw.size() && l.error.empty()) {
        std::vector<HbaToken> field;
        std::string buf;
        bool quoted = false, comma = false, too_long = false;
        do {
          if (!next_token(raw, p, buf, quoted, comma, too_long)) {
            if (too_long)
              l.error = "authentication file token too long, skipping: \"" +
                        text::printable(buf, 40) + "\"";
            break;
          }
          if (!quoted && buf.size() > 1 && buf[0] == '@')
            inc_file(path, buf.substr(1), field, first, depth + 1);
          else
            field.push_back({buf, quoted});
        } while (comma && l.error.empty());
        if (!field.empty())
          l.fields.push_back(std::move(field));
      }
      if (!l.fields.empty() || !l.error.empty())
        lines.push_back(std::move(l));
    }
    return lines;
  }

  bool parse_numeric(const std::string &s, HbaAddress &a) {
    in_addr v4{};
    in6_addr v6{};
    // getaddrinfo(AI_NUMERICHOST) takes inet_aton's IPv4 forms ("127.1").
    if (s.find(':') == std::string::npos && inet_aton(s.c_str(), &v4) == 1) {
      a.family = AF_INET;
      std::memcpy(a.addr.data(), &v4, 4);
      return true;
    }
    if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
      a.family = AF_INET6;
      std::memcpy(a.addr.data(), &v6, 16);
      return true;
    }
    return false;
  }

  static int contiguous_prefix(const HbaAddress &a) {
    int len = a.family == AF_INET ? 4 : 16, bits = 0;
    bool ended = false;
    for (int i = 0; i < len; i++)
      for (int b = 7; b >= 0; b--) {
        bool one = (a.mask[i] >> b) & 1;
        if (one && ended)
          return -1;
        if (one)
          bits++;
        else
          ended = true;
      }
    return bits;
  }

  static void set_prefix(HbaAddress &a, int bits) {
    a.mask.fill(0);
    for (int i = 0; i < bits; i++)
      a.mask[i / 8] |= static_cast<uint8_t>(0x80 >> (i % 8));
    a.prefix = bits;
  }

  void parse_rule(const std::string &path, Line &l, int depth) {
    auto err = [&](const std::string &m) { diag(Diagnostic::Level::error, m, path, l.line); };
    if (!l.error.empty())
      return err(l.error);
    auto &f = l.fields;
    size_t i = 0;
    if (f[0].size() > 1)
      return err("multiple values specified for connection type");
    const std::string &type = f[0][0].text;
    if (opts.major_version >= 16 && !f[0][0].quoted &&
        (type == "include" || type == "include_if_exists" || type == "include_dir")) {
      if (f.size() != 2 || f[1].size() != 1)
        return err("invalid number of arguments for \"" + type + "\"");
      return include(path, l.line, type, f[1][0].text, depth + 1);
    }
    HbaRule r;
    r.loc = {path, l.line};
    if (type == "local")
      r.type = ConnType::local;
    else if (type == "host")
      r.type = ConnType::host;
    else if (type == "hostssl")
      r.type = ConnType::hostssl;
    else if (type == "hostnossl")
      r.type = ConnType::hostnossl;
    else if (type == "hostgssenc")
      r.type = ConnType::hostgssenc;
    else if (type == "hostnogssenc")
      r.type = ConnType::hostnogssenc;
    else
      return err("invalid connection type \"" + text::printable(type, 40) + "\"");
    if (r.type == ConnType::hostssl && !opts.ssl_enabled)
      r.warning = "hostssl record cannot match because SSL is disabled";
    if (++i >= f.size())
      return err("end-of-line before database specification");
    r.databases = f[i];
    if (++i >= f.size())
      return err("end-of-line before role specification");
    r.users = f[i];
    if (r.type != ConnType::local) {
      if (++i >= f.size())
        return err("end-of-line before IP address specification");
      if (f[i].size() > 1)
        return err("multiple values specified for host address");
      const HbaToken &t = f[i][0];
      r.address.text = t.text;
      if (t.is_keyword("all")) {
        r.address.kind = HbaAddress::Kind::all;
      } else if (t.is_keyword("samehost")) {
        r.address.kind = HbaAddress::Kind::samehost;
      } else if (t.is_keyword("samenet")) {
        r.address.kind = HbaAddress::Kind::samenet;
      } else {
        std::string str = t.text;
        auto slash = str.find('/');
        std::string host = str.substr(0, slash);
        if (parse_numeric(host, r.address)) {
          r.address.kind = HbaAddress::Kind::mask;
        } else if (!host.empty() && host.find_first_of(":%") == std::string::npos) {
          r.address.kind = HbaAddress::Kind::hostname;
        } else {
          return err("invalid IP address \"" + text::printable(host, 60) + "\"");
        }
        if (slash != std::string::npos) {
          if (r.address.kind == HbaAddress::Kind::hostname)
            return err("specifying both host name and CIDR mask is invalid: \"" +
                       text::printable(str, 60) + "\"");
          std::string bits = str.substr(slash + 1);
          char *end = nullptr;
          long n = std::strtol(bits.c_str(), &end, 10);
          int maxbits = r.address.family == AF_INET ? 32 : 128;
          if (bits.empty() || *end != '\0' || n < 0 || n > maxbits)
            return err("invalid CIDR mask in address \"" + text::printable(str, 60) + "\"");
          set_prefix(r.address, static_cast<int>(n));
        } else if (r.address.kind == HbaAddress::Kind::mask) {
          if (++i >= f.size())
            return err("end-of-line before netmask specification");
          if (f[i].size() > 1)
            return err("multiple values specified for netmask");
          HbaAddress m;
          if (!parse_numeric(f[i][0].text, m))
            return err("invalid IP mask \"" + text::printable(f[i][0].text, 60) + "\"");
          if (m.family != r.address.family)
            return err("IP address and mask do not match");
          r.address.mask = m.addr;
          r.address.prefix = contiguous_prefix(r.address);
          r.address.text += " " + f[i][0].text;
        }
      }
    }
    if (++i >= f.size())
      return err("end-of-line before authentication method");
    if (f[i].size() > 1)
      return err("multiple values specified for authentication type");
    r.method = f[i][0].text;
    static constexpr std::string_view k_methods[] = {"trust", "ident",  "peer",   "password",
                                                     "gss",   "reject", "md5",    "scram-sha-256",
                                                     "pam",   "ldap",   "radius", "cert"};
    if (r.method == "sspi" || r.method == "bsd")
      return err("invalid authentication method \"" + r.method + "\": not supported by this build");
    if (std::find(std::begin(k_methods), std::end(k_methods), r.method) == std::end(k_methods))
      return err("invalid authentication method \"" + text::printable(r.method, 40) + "\"");
    if (r.type == ConnType::local && r.method == "gss")
      return err("gssapi authentication is not supported on local sockets");
    if (r.type != ConnType::local && r.method == "peer")
      return err("peer authentication is only supported on local sockets");
    if (r.type != ConnType::hostssl && r.method == "cert")
      return err("cert authentication is only supported on hostssl connections");
    for (++i; i < f.size(); i++)
      for (auto &t : f[i]) {
        auto eq = t.text.find('=');
        if (eq == std::string::npos)
          return err("authentication option not in name=value format: " +
                     text::printable(t.text, 60));
        r.options.emplace_back(t.text.substr(0, eq), t.text.substr(eq + 1));
      }
    if (r.method == "ldap" && std::none_of(r.options.begin(), r.options.end(), [](auto &o) {
          return o.first == "ldapserver" || o.first == "ldapurl";
        }))
      return err("authentication method \"ldap\" requires argument \"ldapserver\" to be set");
    if (r.method == "radius" && std::none_of(r.options.begin(), r.options.end(),
                                             [](auto &o) { return o.first == "radiusservers"; }))
      return err("list of RADIUS servers cannot be empty");
    r.rule_number = static_cast<int>(out.rules.size()) + 1;
    if (!r.warning.empty())
      diag(Diagnostic::Level::warning, r.warning, path, l.line);
    out.rules.push_back(std::move(r));
  }

  void include(const std::string &from, int line, const std::string &kind,
               const std::string &target, int depth) {
    std::string full = target[0] == '/' ? RootFs::join("/", target)
                                        : RootFs::join(from.substr(0, from.rfind('/') + 1), target);
    if (kind == "include_dir") {
      if (!fs)
        return diag(Diagnostic::Level::warning, "include_dir not followed", from, line);
      auto names = fs->list_dir(full);
      if (!names)
        return diag(Diagnostic::Level::error,
                    "could not open directory \"" + full + "\": " + names.error().message, from,
                    line);
      std::vector<std::string> files;
      for (auto &n : *names)
        if (n.size() >= 6 && n[0] != '.' && n.compare(n.size() - 5, 5, ".conf") == 0) {
          auto st = fs->stat(RootFs::join(full, n));
          if (st && st->type != FileInfo::Type::directory)
            files.push_back(RootFs::join(full, n));
        }
      std::sort(files.begin(), files.end());
      for (auto &p : files)
        file(p, true, from, line, depth);
      return;
    }
    file(full, kind == "include", from, line, depth);
  }

  void file(const std::string &path, bool strict, const std::string &from, int from_line,
            int depth) {
    if (depth > opts.max_depth)
      return diag(Diagnostic::Level::error,
                  "could not open file \"" + path + "\": maximum nesting depth exceeded", from,
                  from_line);
    if (!fs)
      return diag(Diagnostic::Level::warning, "include of \"" + path + "\" not followed", from,
                  from_line);
    auto content = fs->read_file(path, opts.max_file_bytes);
    if (!content) {
      if (!strict && content.error().not_found())
        return diag(Diagnostic::Level::info,
                    "skipping missing authentication file \"" + path + "\"", from, from_line);
      return diag(Diagnostic::Level::error,
                  "could not open file \"" + path + "\": " + content.error().message,
                  from.empty() ? path : from, from.empty() ? 0 : from_line);
    }
    parse(path, *content, depth);
  }

  void parse(const std::string &path, std::string_view text, int depth) {
    out.files.push_back(path);
    for (auto &l : tokenize(path, text, depth))
      parse_rule(path, l, depth);
  }
};

bool in_prefix(const HbaAddress &net, int family, const std::array<uint8_t, 16> &a) {
  if (net.family != family)
    return false;
  int len = family == AF_INET ? 4 : 16;
  for (int i = 0; i < len; i++)
    if ((a[i] & net.mask[i]) != (net.addr[i] & net.mask[i]))
      return false;
  return true;
}

bool pg_hba_is_loopback(int family, const std::array<uint8_t, 16> &a) {
  if (family == AF_INET)
    return a[0] == 127;
  if (family == AF_INET6) {
    for (int i = 0; i < 15; i++)
      if (a[i] != 0)
        return false;
    return a[15] == 1;
  }
  return false;
}

bool db_matches(const std::vector<HbaToken> &dbs, const HbaClient &c) {
  for (auto &t : dbs) {
    if (c.replication) {
      if (t.is_keyword("replication"))
        return true;
    } else if (t.is_keyword("all")) {
      return true;
    } else if (t.is_keyword("sameuser")) {
      if (c.database == c.user)
        return true;
    } else if (t.is_keyword("samegroup") || t.is_keyword("samerole")) {
      if (c.database == c.user ||
          std::find(c.roles.begin(), c.roles.end(), c.database) != c.roles.end())
        return true;
    } else if (t.is_keyword("replication")) {
      continue;
    } else if (t.text == c.database) {
      return true;
    }
  }
  return false;
}

bool user_matches(const std::vector<HbaToken> &users, const HbaClient &c) {
  for (auto &t : users) {
    if (!t.quoted && !t.text.empty() && t.text[0] == '+') {
      std::string g = t.text.substr(1);
      if (g == c.user || std::find(c.roles.begin(), c.roles.end(), g) != c.roles.end())
        return true;
    } else if (t.text == c.user || t.is_keyword("all")) {
      return true;
    }
  }
  return false;
}

// Whether every token of `inner` is matched whenever... i.e. `outer` admits
// every connection `inner` admits, token by token.
bool dbs_cover(const std::vector<HbaToken> &outer, const std::vector<HbaToken> &inner) {
  bool outer_all =
      std::any_of(outer.begin(), outer.end(), [](auto &t) { return t.is_keyword("all"); });
  for (auto &t : inner) {
    if (t.is_keyword("replication")) {
      if (std::none_of(outer.begin(), outer.end(),
                       [](auto &o) { return o.is_keyword("replication"); }))
        return false;
      continue;
    }
    if (outer_all)
      continue;
    if (std::none_of(outer.begin(), outer.end(),
                     [&](auto &o) { return o.text == t.text && o.quoted == t.quoted; }))
      return false;
  }
  return true;
}

bool users_cover(const std::vector<HbaToken> &outer, const std::vector<HbaToken> &inner) {
  if (std::any_of(outer.begin(), outer.end(), [](auto &t) { return t.is_keyword("all"); }))
    return true;
  for (auto &t : inner)
    if (std::none_of(outer.begin(), outer.end(), [&](auto &o) {
          bool og = !o.quoted && !o.text.empty() && o.text[0] == '+';
          bool tg = !t.quoted && !t.text.empty() && t.text[0] == '+';
          return o.text == t.text && og == tg;
        }))
      return false;
  return true;
}

bool address_covers(const HbaAddress &o, const HbaAddress &i) {
  using K = HbaAddress::Kind;
  if (o.kind == K::all)
    return true;
  if (o.kind != i.kind)
    return false;
  switch (o.kind) {
  case K::mask: {
    if (o.family != i.family)
      return false;
    // o covers i when o's mask bits are a subset of i's and i's network
    // lies in o's.
    int len = o.family == AF_INET ? 4 : 16;
    for (int b = 0; b < len; b++) {
      if ((o.mask[b] & i.mask[b]) != o.mask[b])
        return false;
      if ((i.addr[b] & o.mask[b]) != (o.addr[b] & o.mask[b]))
        return false;
    }
    return true;
  }
  case K::hostname: return o.text == i.text;
  default: return true; // samehost/samehost, samenet/samenet
  }
}

bool type_covers(ConnType o, ConnType i, bool ssl_enabled) {
  if (o == i)
    return true;
  if (o == ConnType::local || i == ConnType::local)
    return false;
  if (o == ConnType::host)
    return true;
  // With ssl off every TCP connection is a non-SSL one.
  if (o == ConnType::hostnossl && !ssl_enabled)
    return i != ConnType::hostssl;
  return false;
}

// Whether the earlier rule `e` matches every connection `r` matches.
bool shadows(const HbaRule &e, const HbaRule &r, const HbaOptions &opts) {
  if (!type_covers(e.type, r.type, opts.ssl_enabled))
    return false;
  if (e.type == ConnType::hostssl && !opts.ssl_enabled)
    return false;
  if (r.type != ConnType::local && !address_covers(e.address, r.address))
    return false;
  return dbs_cover(e.databases, r.databases) && users_cover(e.users, r.users);
}

} // namespace

HbaFile load_pg_hba(const RootFs &fs, const std::string &path, const HbaOptions &opts) {
  HbaFile out;
  PgHbaReader r{&fs, opts, out};
  r.file(RootFs::join("/", path), true, "", 0, 0);
  return out;
}

HbaFile parse_pg_hba_text(const std::string &path, std::string_view text, const HbaOptions &opts) {
  HbaFile out;
  PgHbaReader r{nullptr, opts, out};
  r.parse(path, text, 0);
  return out;
}

bool set_client_address(HbaClient &c, std::string_view ip) {
  std::string s(ip);
  in_addr v4{};
  in6_addr v6{};
  c.addr.fill(0);
  if (inet_pton(AF_INET, s.c_str(), &v4) == 1) {
    c.family = AF_INET;
    std::memcpy(c.addr.data(), &v4, 4);
    return true;
  }
  if (inet_pton(AF_INET6, s.c_str(), &v6) == 1) {
    c.family = AF_INET6;
    std::memcpy(c.addr.data(), &v6, 16);
    return true;
  }
  return false;
}

int first_match(const HbaFile &file, const HbaClient &c) {
  for (size_t i = 0; i < file.rules.size(); i++) {
    const HbaRule &r = file.rules[i];
    if (r.type == ConnType::local) {
      if (!c.local)
        continue;
    } else {
      if (c.local)
        continue;
      if (c.ssl ? r.type == ConnType::hostnossl : r.type == ConnType::hostssl)
        continue;
      if (c.gssenc ? r.type == ConnType::hostnogssenc : r.type == ConnType::hostgssenc)
        continue;
      using K = HbaAddress::Kind;
      switch (r.address.kind) {
      case K::all: break;
      case K::mask:
        if (!in_prefix(r.address, c.family, c.addr))
          continue;
        break;
      case K::samehost:
      case K::samenet:
        if (!c.from_this_host)
          continue;
        break;
      default: continue;
      }
    }
    if (!db_matches(r.databases, c) || !user_matches(r.users, c))
      continue;
    return static_cast<int>(i);
  }
  return -1;
}

int shadowed_by(const HbaFile &file, size_t index, const HbaOptions &opts) {
  const HbaRule &r = file.rules[index];
  if (r.type == ConnType::hostssl && !opts.ssl_enabled)
    return -2;
  for (size_t j = 0; j < index; j++)
    if (shadows(file.rules[j], r, opts))
      return static_cast<int>(j);
  return -1;
}

namespace {

// The earlier rules, indexed by what they can cover. A rule that shadows r
// covers r's type, every user, every database and the address, so it is in
// the list of each: the candidates for one of r's users (rules naming it, or
// `all`), for one database, for r's type, or for r's address (`all`, the same
// kind, and for a mask each of the <= 33/129 prefixes that contain it). Any
// one dimension's lists hold every shadowing rule; the smallest is scanned.
class ShadowIndex {
public:
  using List = std::vector<int>;
  using Lists = std::vector<const List *>;

  void add(const HbaRule &e, int j) {
    push(m_type[static_cast<size_t>(e.type)], j);
    if (std::any_of(e.users.begin(), e.users.end(), [](auto &t) { return t.is_keyword("all"); }))
      push(m_user_all, j);
    else
      for (auto &t : e.users)
        push(m_user[user_key(t)], j);
    bool db_all = std::any_of(e.databases.begin(), e.databases.end(),
                              [](auto &t) { return t.is_keyword("all"); });
    if (db_all)
      push(m_db_all, j);
    for (auto &t : e.databases) {
      if (t.is_keyword("replication"))
        push(m_db_replication, j);
      if (!db_all)
        push(m_db[db_key(t)], j);
    }
    if (e.type == ConnType::local)
      return;
    const HbaAddress &a = e.address;
    using K = HbaAddress::Kind;
    if (a.kind == K::all)
      push(m_addr_all, j);
    else if (a.kind == K::hostname)
      push(m_hostname[a.text], j);
    else if (a.kind == K::mask && a.prefix >= 0)
      push(m_prefix[prefix_key(a.family, a.prefix, a.addr)], j);
    else if (a.kind == K::mask)
      push(m_odd_mask, j);
    else
      push(m_kind[static_cast<size_t>(a.kind)], j);
  }

  // The lists holding every earlier rule that may shadow `r`: the smallest
  // dimension's. Empty lists are left out; no dimension (an empty user and
  // database list on a local rule cannot occur) means scan everything.
  Lists candidates(const HbaRule &r, bool ssl_enabled) {
    Lists best;
    size_t best_size = SIZE_MAX;
    auto consider = [&](Lists &&ls) {
      size_t n = 0;
      for (auto *l : ls)
        n += l->size();
      if (n < best_size) {
        best_size = n;
        best = std::move(ls);
      }
    };
    Lists types;
    for (size_t t = 0; t < m_type.size(); t++)
      if (type_covers(static_cast<ConnType>(t), r.type, ssl_enabled))
        types.push_back(&m_type[t]);
    consider(std::move(types));
    for (auto &t : r.users)
      consider({&m_user_all, find(m_user, user_key(t))});
    for (auto &t : r.databases)
      consider(t.is_keyword("replication") ? Lists{&m_db_replication}
                                           : Lists{&m_db_all, find(m_db, db_key(t))});
    if (r.type != ConnType::local) {
      const HbaAddress &a = r.address;
      using K = HbaAddress::Kind;
      Lists ls{&m_addr_all};
      if (a.kind == K::hostname) {
        ls.push_back(find(m_hostname, a.text));
      } else if (a.kind == K::mask) {
        ls.push_back(&m_odd_mask);
        int bits = a.family == AF_INET ? 32 : 128;
        int ones = 0;
        while (ones < bits && (a.mask[static_cast<size_t>(ones / 8)] & (0x80 >> (ones % 8))))
          ones++;
        for (int p = 0; p <= ones; p++)
          ls.push_back(find(m_prefix, prefix_key(a.family, p, a.addr)));
      } else {
        ls.push_back(&m_kind[static_cast<size_t>(a.kind)]);
      }
      consider(std::move(ls));
    }
    return best;
  }

private:
  static void push(List &l, int j) {
    if (l.empty() || l.back() != j)
      l.push_back(j);
  }
  static std::string user_key(const HbaToken &t) {
    bool group = !t.quoted && !t.text.empty() && t.text[0] == '+';
    return (group ? "g" : "n") + t.text;
  }
  static std::string db_key(const HbaToken &t) { return (t.quoted ? "q" : "u") + t.text; }
  // The family, the prefix length and the address's first `prefix` bits.
  static std::string prefix_key(int family, int prefix, const std::array<uint8_t, 16> &addr) {
    std::string k;
    k += static_cast<char>(family);
    k += static_cast<char>(prefix);
    for (int b = 0; b * 8 < prefix; b++) {
      int keep = std::min(8, prefix - b * 8);
      k += static_cast<char>(addr[static_cast<size_t>(b)] & (0xff00 >> keep));
    }
    return k;
  }
  const List *find(const std::unordered_map<std::string, List> &m, const std::string &k) const {
    auto it = m.find(k);
    return it == m.end() ? &m_none : &it->second;
  }

  const List m_none{};
  std::array<List, 6> m_type;
  List m_user_all, m_db_all, m_db_replication, m_addr_all, m_odd_mask;
  std::array<List, 6> m_kind;
  std::unordered_map<std::string, List> m_user, m_db, m_hostname, m_prefix;
};

} // namespace

HbaShadowing shadowing(const HbaFile &file, const HbaOptions &opts) {
  HbaShadowing out;
  out.by.assign(file.rules.size(), -1);
  ShadowIndex index;
  size_t tests = 0;
  for (size_t i = 0; i < file.rules.size(); i++) {
    const HbaRule &r = file.rules[i];
    if (r.type == ConnType::hostssl && !opts.ssl_enabled) {
      out.by[i] = -2;
      continue; // it never matches, so it shadows nothing either
    }
    int best = INT_MAX;
    for (const auto *list : index.candidates(r, opts.ssl_enabled))
      for (int j : *list) {
        if (j >= best)
          break;
        if (++tests > opts.max_shadow_tests) {
          out.by[i] = -1;
          out.exhausted = Diagnostic{
              Diagnostic::Level::error,
              "reachability analysis stopped here after " + std::to_string(opts.max_shadow_tests) +
                  " rule-against-rule tests: this rule and the ones after it are judged as "
                  "reachable",
              r.loc};
          return out;
        }
        if (shadows(file.rules[static_cast<size_t>(j)], r, opts)) {
          best = j;
          break;
        }
      }
    out.by[i] = best == INT_MAX ? -1 : best;
    index.add(r, static_cast<int>(i));
  }
  return out;
}

bool address_is_local(const HbaAddress &a) {
  using K = HbaAddress::Kind;
  if (a.kind == K::samehost)
    return true;
  if (a.kind == K::hostname)
    return a.text == "localhost";
  if (a.kind != K::mask)
    return false;
  if (a.family == AF_INET)
    return a.addr[0] == 127 && (a.mask[0] == 0xff);
  return a.prefix == 128 && pg_hba_is_loopback(AF_INET6, a.addr);
}

bool address_is_any(const HbaAddress &a) {
  using K = HbaAddress::Kind;
  if (a.kind == K::all)
    return true;
  if (a.kind != K::mask)
    return false;
  int len = a.family == AF_INET ? 4 : 16;
  for (int i = 0; i < len; i++)
    if (a.mask[i] != 0)
      return false;
  return true;
}

} // namespace bulwark::pg
