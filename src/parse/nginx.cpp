// nginx 1.22's configuration reader (see include/bulwark/parse/nginx.hpp for
// the format's semantics). The tokenizer follows ngx_conf_read_token state
// for state; the endpoint model follows the http and stream modules' merge
// functions: a setting not made at a level is inherited from the enclosing
// one, and add_header is an all-or-nothing array (ngx_http_headers_filter's
// merge_conf: a level with any add_header of its own inherits none).
// Sources: src/core/ngx_conf_file.c, src/http/ngx_http_core_module.c
// (listen), src/http/modules/ngx_http_ssl_module.c (defaults),
// src/http/modules/ngx_http_headers_filter_module.c (release-1.22.1).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/nginx.hpp>

#include <algorithm>
#include <functional>
#include <set>

#include <fnmatch.h>

namespace bulwark::nginx {

namespace {

enum class Rc { ok, block_start, block_done, file_done, error };

bool nginx_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

// The copy loop of ngx_conf_read_token: a backslash before " ' \ drops the
// backslash; \t \r \n become the control character; other pairs stay.
std::string unescape(std::string_view w) {
  std::string out;
  out.reserve(w.size());
  for (size_t i = 0; i < w.size();) {
    if (w[i] == '\\' && i + 1 < w.size()) {
      char n = w[i + 1];
      if (n == '"' || n == '\'' || n == '\\') {
        out += n;
        i += 2;
        continue;
      }
      if (n == 't' || n == 'r' || n == 'n') {
        out += n == 't' ? '\t' : n == 'r' ? '\r' : '\n';
        i += 2;
        continue;
      }
    }
    out += w[i++];
  }
  return out;
}

struct NginxReader {
  std::string_view s;
  size_t pos = 0;
  int line = 1;
  std::string error;
  int error_line = 0;

  Rc fail(std::string msg) {
    error = std::move(msg);
    error_line = line;
    return Rc::error;
  }

  // One statement: its words, and how it ended.
  Rc read(std::vector<std::string> &args, int &first_line) {
    args.clear();
    first_line = line;
    bool need_space = false, last_space = true, sharp = false, variable = false;
    bool quoted = false, s_quoted = false, d_quoted = false;
    size_t start = pos;
    int start_line = line;
    for (;;) {
      if (pos >= s.size()) {
        if (!args.empty() || !last_space)
          return fail("unexpected end of file, expecting \";\" or \"}\"");
        return Rc::file_done;
      }
      char ch = s[pos++];
      if (ch == '\n') {
        ++line;
        sharp = false;
      }
      if (sharp)
        continue;
      if (quoted) {
        quoted = false;
        continue;
      }
      if (need_space) {
        if (nginx_blank(ch)) {
          last_space = true;
          need_space = false;
          continue;
        }
        if (ch == ';')
          return Rc::ok;
        if (ch == '{')
          return Rc::block_start;
        if (ch == ')') {
          last_space = true;
          need_space = false;
        } else {
          return fail(std::string("unexpected \"") + text::printable(std::string(1, ch)) + "\"");
        }
      }
      if (last_space) {
        start = pos - 1;
        start_line = line;
        if (nginx_blank(ch))
          continue;
        switch (ch) {
        case ';':
        case '{':
          if (args.empty())
            return fail(std::string("unexpected \"") + ch + "\"");
          return ch == '{' ? Rc::block_start : Rc::ok;
        case '}':
          if (!args.empty())
            return fail("unexpected \"}\"");
          return Rc::block_done;
        case '#': sharp = true; continue;
        case '\\':
          quoted = true;
          last_space = false;
          continue;
        case '"':
          ++start;
          d_quoted = true;
          last_space = false;
          continue;
        case '\'':
          ++start;
          s_quoted = true;
          last_space = false;
          continue;
        case '$':
          variable = true;
          last_space = false;
          continue;
        default: last_space = false;
        }
      } else {
        if (ch == '{' && variable)
          continue;
        variable = false;
        if (ch == '\\') {
          quoted = true;
          continue;
        }
        if (ch == '$') {
          variable = true;
          continue;
        }
        bool found = false;
        if (d_quoted) {
          if (ch == '"') {
            d_quoted = false;
            need_space = true;
            found = true;
          }
        } else if (s_quoted) {
          if (ch == '\'') {
            s_quoted = false;
            need_space = true;
            found = true;
          }
        } else if (nginx_blank(ch) || ch == ';' || ch == '{') {
          last_space = true;
          found = true;
        }
        if (found) {
          if (args.empty())
            first_line = start_line;
          args.push_back(unescape(s.substr(start, pos - 1 - start)));
          if (ch == ';')
            return Rc::ok;
          if (ch == '{')
            return Rc::block_start;
        }
      }
    }
  }
};

struct NginxLoader {
  const RootFs *fs = nullptr; // null: parse_text, includes are recorded only
  ConfTree *tree = nullptr;
  int files = 0;
  // Inside a container: paths are the container's (see ContainerView).
  const ContainerView *view = nullptr;

  // The container paths a glob matches: the image's files no mount hides,
  // bind-mounted files, and files inside bind-mounted directories.
  Result<std::vector<std::string>> container_glob(const std::string &pattern) {
    std::set<std::string> out;
    for (auto &[path, f] : view->files)
      if (::fnmatch(pattern.c_str(), path.c_str(), FNM_PATHNAME) == 0 && view->image_file(path))
        out.insert(path);
    for (auto &[target, host] : view->mounts) {
      if (::fnmatch(pattern.c_str(), target.c_str(), FNM_PATHNAME) == 0) {
        out.insert(target);
        continue;
      }
      // A mounted directory the pattern reaches into: its files, by the
      // host path the pattern's rest names.
      std::string prefix = target == "/" ? "/" : target + "/";
      if (pattern.compare(0, prefix.size(), prefix) != 0)
        continue;
      std::string rest = pattern.substr(prefix.size());
      if (prefix.find_first_of("*?[") != std::string::npos)
        continue;
      auto g = fs->glob(RootFs::join(host, rest));
      if (!g)
        return g.error();
      for (auto &h : *g) {
        std::string c = prefix + h.substr(host.size() + (host == "/" ? 0 : 1));
        // A deeper mount may hide it; host_path says which one wins.
        if (view->host_path(c) == h)
          out.insert(c);
      }
    }
    return std::vector<std::string>(out.begin(), out.end());
  }

  void diag(std::string msg, const std::string &path, int line) {
    tree->diagnostics.push_back({std::move(msg), {path, line}});
  }

  void include(const ConfNode &inc, int depth, std::vector<ConfNode> &out) {
    if (!fs)
      return;
    if (inc.args.size() != 1) {
      diag("invalid number of arguments in \"include\" directive", inc.loc.path, inc.loc.line);
      return;
    }
    std::string pattern = RootFs::join("/etc/nginx", inc.args[0]);
    std::vector<std::string> paths;
    if (pattern.find_first_of("*?[") == std::string::npos) {
      paths.push_back(pattern);
    } else {
      auto g = view ? container_glob(pattern) : fs->glob(pattern);
      if (!g) {
        diag("include \"" + text::printable(inc.args[0]) + "\": " + g.error().message, inc.loc.path,
             inc.loc.line);
        return;
      }
      paths = *g;
    }
    for (auto &p : paths) {
      if (depth + 1 > k_max_include_depth) {
        diag("include nesting deeper than " + std::to_string(k_max_include_depth) +
                 " (an include loop?): \"" + text::printable(p) + "\" not read",
             inc.loc.path, inc.loc.line);
        return;
      }
      parse_file(p, depth + 1, out, &inc.loc);
    }
  }

  void parse_file(const std::string &path, int depth, std::vector<ConfNode> &out,
                  const SourceLocation *from) {
    if (++files > k_max_files) {
      if (files == k_max_files + 1)
        diag("more than " + std::to_string(k_max_files) + " files included; the rest is not read",
             from ? from->path : path, from ? from->line : 0);
      return;
    }
    if (view) {
      parse_container_file(path, depth, out, from);
      return;
    }
    auto text = fs->read_file(path);
    if (!text) {
      diag("cannot read \"" + text::printable(path) + "\": " + text.error().message,
           from ? from->path : path, from ? from->line : 0);
      return;
    }
    tree->files.push_back(path);
    parse(*text, path, depth, out);
  }

  // Image files are parsed under a marked name, then their nodes are
  // reported at the compose file's image: line (load_in_container).
  static constexpr std::string_view k_image_mark = "\x01image:";

  void parse_container_file(const std::string &path, int depth, std::vector<ConfNode> &out,
                            const SourceLocation *from) {
    if (auto host = view->host_path(path)) {
      auto text = fs->read_file(*host);
      if (!text) {
        diag("cannot read \"" + text::printable(*host) + "\" (mounted at " + text::printable(path) +
                 "): " + text.error().message,
             from ? from->path : *host, from ? from->line : 0);
        return;
      }
      tree->files.push_back(*host);
      parse(*text, *host, depth, out);
      return;
    }
    if (const ContainerView::File *f = view->image_file(path)) {
      std::string shown = f->shown_as.empty() ? std::string(k_image_mark) + path : f->shown_as;
      tree->files.push_back(f->shown_as.empty() ? "(image) " + path : f->shown_as);
      parse(f->text, shown, depth, out);
      return;
    }
    diag("cannot read \"" + text::printable(path) +
             "\": the image ships no such file and no bind mount of the service provides it",
         from ? from->path : path, from ? from->line : 0);
  }

  void parse(std::string_view text, const std::string &path, int depth,
             std::vector<ConfNode> &out) {
    NginxReader r;
    r.s = text;
    std::vector<std::vector<ConfNode> *> stack{&out};
    std::vector<std::string> args;
    int first_line = 0;
    for (;;) {
      Rc rc = r.read(args, first_line);
      if (rc == Rc::error) {
        diag(r.error, path, r.error_line);
        return;
      }
      if (rc == Rc::file_done) {
        if (stack.size() > 1)
          diag("unexpected end of file, expecting \"}\"", path, r.line);
        return;
      }
      if (rc == Rc::block_done) {
        if (stack.size() == 1) {
          diag("unexpected \"}\"", path, r.line);
          return;
        }
        stack.pop_back();
        continue;
      }
      ConfNode n;
      n.name = args.front();
      n.args.assign(args.begin() + 1, args.end());
      n.loc = {path, first_line};
      if (rc == Rc::block_start) {
        if (stack.size() > static_cast<size_t>(k_max_block_depth)) {
          diag("blocks nested deeper than " + std::to_string(k_max_block_depth), path, first_line);
          return;
        }
        n.block = true;
        stack.back()->push_back(std::move(n));
        stack.push_back(&stack.back()->back().children);
        continue;
      }
      if (n.name == "include" && fs) {
        include(n, depth, *stack.back());
        continue;
      }
      stack.back()->push_back(std::move(n));
    }
  }
};

// ---- effective settings ----

const ConfNode *own(const std::vector<ConfNode> &level, std::string_view name) {
  for (auto &n : level)
    if (!n.block && n.name == name)
      return &n;
  return nullptr;
}

TlsSetting setting_from(const ConfNode *n) {
  TlsSetting s;
  if (n) {
    s.value = text::join(n->args, " ");
    s.loc = n->loc;
    s.is_default = false;
  }
  return s;
}

// A level's value, or the enclosing level's.
TlsSetting inherit(const std::vector<ConfNode> &level, std::string_view name,
                   const TlsSetting &parent) {
  const ConfNode *n = own(level, name);
  return n ? setting_from(n) : parent;
}

std::vector<TlsSetting> inherit_all(const std::vector<ConfNode> &level, std::string_view name,
                                    const std::vector<TlsSetting> &parent) {
  std::vector<TlsSetting> out;
  for (auto &n : level)
    if (!n.block && n.name == name)
      out.push_back(setting_from(&n));
  return out.empty() ? parent : out;
}

// `ssl_conf_command Ciphersuites ...` is how nginx sets TLS 1.3 suites.
TlsSetting inherit_suites(const std::vector<ConfNode> &level, const TlsSetting &parent) {
  for (auto &n : level)
    if (!n.block && n.name == "ssl_conf_command" && n.args.size() == 2 &&
        text::iequals(n.args[0], "Ciphersuites")) {
      TlsSetting s;
      s.value = n.args[1];
      s.loc = n.loc;
      s.is_default = false;
      return s;
    }
  return parent;
}

using Headers = std::vector<HeaderScope::Header>;

std::optional<Headers> own_headers(const std::vector<ConfNode> &level) {
  std::optional<Headers> out;
  for (auto &n : level) {
    if (n.block || n.name != "add_header")
      continue;
    if (!out)
      out.emplace();
    HeaderScope::Header h;
    h.name = n.args.size() > 0 ? n.args[0] : "";
    h.value = n.args.size() > 1 ? n.args[1] : "";
    h.always = n.args.size() > 2 && n.args[2] == "always";
    h.loc = n.loc;
    out->push_back(std::move(h));
  }
  return out;
}

const HeaderScope::Header *find_hsts(const Headers &hs) {
  for (auto &h : hs)
    if (text::iequals(h.name, "Strict-Transport-Security"))
      return &h;
  return nullptr;
}

HeaderScope scope_for(const std::vector<ConfNode> &level, const Headers &inherited,
                      std::string label, SourceLocation loc) {
  HeaderScope s;
  s.label = std::move(label);
  s.loc = std::move(loc);
  if (auto mine = own_headers(level)) {
    s.headers = *mine;
    const HeaderScope::Header *before = find_hsts(inherited);
    if (before && !find_hsts(*mine))
      s.dropped_hsts = before->loc;
  } else {
    s.headers = inherited;
  }
  return s;
}

void add_locations(const std::vector<ConfNode> &level, const Headers &inherited,
                   const std::string &prefix, std::vector<HeaderScope> &out, int depth) {
  if (depth > k_max_block_depth)
    return;
  for (auto &n : level) {
    if (!n.block || (n.name != "location" && n.name != "if"))
      continue;
    std::string label = (prefix.empty() ? "" : prefix + " > ") + n.name + " " +
                        text::printable(text::join(n.args, " "), 80);
    HeaderScope s = scope_for(n.children, inherited, label, n.loc);
    Headers mine = s.headers;
    out.push_back(std::move(s));
    add_locations(n.children, mine, label, out, depth + 1);
  }
}

TlsListen parse_listen(const ConfNode &n) {
  TlsListen l;
  l.loc = n.loc;
  if (n.args.empty())
    return l;
  std::string a = n.args[0];
  if (text::starts_with(a, "unix:")) {
    l.address = a;
  } else if (!a.empty() && a[0] == '[') {
    size_t close = a.find(']');
    l.address = a.substr(1, close == std::string::npos ? std::string::npos : close - 1);
    if (close != std::string::npos && close + 1 < a.size() && a[close + 1] == ':')
      l.port = std::atoi(a.c_str() + close + 2);
    else
      l.port = 80;
  } else if (size_t c = a.rfind(':'); c != std::string::npos) {
    l.address = a.substr(0, c);
    l.port = std::atoi(a.c_str() + c + 1);
    if (l.address == "*")
      l.address.clear();
  } else if (!a.empty() && std::all_of(a.begin(), a.end(), ::isdigit)) {
    l.port = std::atoi(a.c_str());
  } else {
    l.address = a == "*" ? "" : a;
    l.port = 80;
  }
  for (size_t i = 1; i < n.args.size(); ++i) {
    if (n.args[i] == "ssl")
      l.ssl = true;
    else if (n.args[i] == "default_server" || n.args[i] == "default")
      l.default_server = true;
  }
  return l;
}

struct Inherited {
  TlsSetting protocols, ciphers, suites, prefer, ssl_on;
  std::vector<TlsSetting> certs, keys;
  Headers headers;
};

Inherited merge(const std::vector<ConfNode> &level, const Inherited &p) {
  Inherited i;
  i.protocols = inherit(level, "ssl_protocols", p.protocols);
  i.ciphers = inherit(level, "ssl_ciphers", p.ciphers);
  i.suites = inherit_suites(level, p.suites);
  i.prefer = inherit(level, "ssl_prefer_server_ciphers", p.prefer);
  i.ssl_on = inherit(level, "ssl", p.ssl_on);
  i.certs = inherit_all(level, "ssl_certificate", p.certs);
  i.keys = inherit_all(level, "ssl_certificate_key", p.keys);
  auto mine = own_headers(level);
  i.headers = mine ? *mine : p.headers;
  return i;
}

std::vector<std::string> versions_of(const std::string &protocols) {
  std::vector<std::string> out;
  for (auto &w : text::split(protocols, ' '))
    if (w == "TLSv1" || w == "TLSv1.1" || w == "TLSv1.2" || w == "TLSv1.3" || w == "SSLv3" ||
        w == "SSLv2")
      out.push_back(w);
  return out;
}

void add_servers(const ConfNode &top, bool http, std::string_view default_protocols,
                 std::vector<TlsEndpoint> &out) {
  Inherited base;
  base.protocols.value = std::string(default_protocols);
  base.protocols.loc = top.loc;
  base.protocols.loc.line = 0;
  base.ciphers.value = "HIGH:!aNULL:!MD5";
  base.ciphers.loc = base.protocols.loc;
  base.prefer.value = "off";
  base.prefer.loc = base.protocols.loc;
  base.ssl_on.value = "off";
  Inherited ctx = merge(top.children, base);
  for (auto &srv : top.children) {
    if (!srv.block || srv.name != "server")
      continue;
    Inherited s = merge(srv.children, ctx);
    TlsEndpoint e;
    e.daemon = "nginx";
    e.loc = srv.loc;
    for (auto &n : srv.children) {
      if (n.block)
        continue;
      if (n.name == "listen")
        e.listens.push_back(parse_listen(n));
      else if (n.name == "server_name")
        e.names.insert(e.names.end(), n.args.begin(), n.args.end());
    }
    if (e.listens.empty() && http) {
      TlsListen l;
      l.port = 80;
      l.loc = srv.loc;
      e.listens.push_back(l);
    }
    bool ssl_on = s.ssl_on.value == "on";
    for (auto &l : e.listens) {
      l.ssl = l.ssl || ssl_on;
      e.tls = e.tls || l.ssl;
    }
    e.protocols = s.protocols;
    e.versions = versions_of(s.protocols.value);
    e.ciphers = s.ciphers;
    e.ciphersuites = s.suites;
    e.prefer_server_ciphers = s.prefer;
    e.certificates = s.certs;
    e.keys = s.keys;
    std::string name = e.names.empty() || e.names.front().empty() ? "_" : e.names.front();
    std::string port;
    for (auto &l : e.listens)
      if (l.ssl || !e.tls) {
        port = std::to_string(l.port);
        break;
      }
    e.subject = std::string(http ? "nginx server " : "nginx stream server ") +
                text::printable(name, 60) + (port.empty() ? "" : ":" + port);
    if (http) {
      HeaderScope server_scope = scope_for(srv.children, ctx.headers, "server", srv.loc);
      Headers mine = server_scope.headers;
      e.header_scopes.push_back(std::move(server_scope));
      add_locations(srv.children, mine, "", e.header_scopes, 0);
    }
    out.push_back(std::move(e));
  }
}

// The TLS handshake of a connection is made with the SSL_CTX of the default
// server of the address:port it arrived on (the server whose listen has
// `default_server`, else the first server listening there). SNI then selects
// the name-based server's certificate (ngx_http_ssl_servername() calls
// SSL_set_SSL_CTX), but the protocol version is negotiated before, from the
// default server's ssl_protocols: a name-based server's own ssl_protocols
// line has no effect. Each TLS server's protocols and versions become those
// of the default servers of its listeners (all versions any of them allows).
// Source: src/http/ngx_http.c (ngx_http_add_addresses: default_server),
// src/http/ngx_http_request.c (ngx_http_ssl_servername), and nginx's ticket
// #844; tests/parse/nginx_default_server_test.cpp checks it against nginx.
void negotiate_from_default_servers(std::vector<TlsEndpoint> &eps, size_t first) {
  auto same_socket = [](const TlsListen &a, const TlsListen &b) {
    auto norm = [](const std::string &addr) {
      return addr == "0.0.0.0" || addr == "*" ? std::string() : addr;
    };
    return a.port == b.port && norm(a.address) == norm(b.address);
  };
  auto default_of = [&](const TlsListen &l) -> size_t {
    size_t first_server = SIZE_MAX;
    for (size_t i = first; i < eps.size(); ++i)
      for (auto &o : eps[i].listens)
        if (same_socket(o, l)) {
          if (o.default_server)
            return i;
          if (first_server == SIZE_MAX)
            first_server = i;
        }
    return first_server;
  };
  std::vector<std::pair<TlsSetting, std::vector<std::string>>> decided(eps.size());
  std::vector<std::string> from(eps.size());
  for (size_t i = first; i < eps.size(); ++i) {
    TlsEndpoint &e = eps[i];
    std::vector<size_t> defaults;
    for (auto &l : e.listens)
      if (l.ssl)
        if (size_t d = default_of(l);
            d != SIZE_MAX && std::find(defaults.begin(), defaults.end(), d) == defaults.end())
          defaults.push_back(d);
    decided[i] = {e.protocols, e.versions};
    if (defaults.empty() || (defaults.size() == 1 && defaults.front() == i))
      continue;
    // The versions a client can get on any of its sockets.
    std::vector<std::string> versions;
    const TlsEndpoint *widest = nullptr;
    for (size_t d : defaults) {
      for (auto &v : eps[d].versions)
        if (std::find(versions.begin(), versions.end(), v) == versions.end())
          versions.push_back(v);
      if (widest == nullptr || eps[d].versions.size() > widest->versions.size())
        widest = &eps[d];
    }
    decided[i] = {widest->protocols, versions};
    if (widest != &e)
      from[i] = widest->subject + " (the default server of its address and port, " +
                widest->loc.path + ":" + std::to_string(widest->loc.line) + ")";
  }
  for (size_t i = first; i < eps.size(); ++i) {
    eps[i].protocols = decided[i].first;
    eps[i].versions = decided[i].second;
    eps[i].protocols_from = from[i];
  }
}

} // namespace

ConfTree parse_text(std::string_view text, const std::string &path) {
  ConfTree tree;
  tree.present = true;
  tree.main_path = path;
  tree.files.push_back(path);
  NginxLoader l;
  l.tree = &tree;
  l.parse(text, path, 0, tree.nodes);
  return tree;
}

ConfTree load(const RootFs &fs, const std::string &main) {
  ConfTree tree;
  tree.main_path = main;
  auto st = fs.stat(main);
  // Absent: no nginx. Present but unresolvable (a link loop, no permission):
  // an nginx whose configuration cannot be read, which the read below
  // reports as a diagnostic (fail closed, not "nginx is not configured").
  if (!st && st.error().not_found())
    return tree;
  tree.present = true;
  NginxLoader l;
  l.fs = &fs;
  l.tree = &tree;
  l.parse_file(main, 0, tree.nodes, nullptr);
  return tree;
}

std::vector<TlsEndpoint> endpoints(const ConfTree &tree, std::string_view default_protocols) {
  std::vector<TlsEndpoint> out;
  for (auto &n : tree.nodes) {
    if (n.block && n.name == "http") {
      size_t first = out.size();
      add_servers(n, true, default_protocols, out);
      negotiate_from_default_servers(out, first);
    } else if (n.block && n.name == "stream")
      add_servers(n, false, default_protocols, out);
  }
  return out;
}

std::optional<std::string> ContainerView::host_path(const std::string &container_path) const {
  std::string want = RootFs::join("/", container_path);
  const std::pair<std::string, std::string> *best = nullptr;
  for (auto &m : mounts) {
    const std::string &t = m.first;
    bool covers =
        want == t || t == "/" ||
        (want.size() > t.size() && want.compare(0, t.size(), t) == 0 && want[t.size()] == '/');
    // The longest target wins (the kernel stacks the mounts); among equal
    // ones, the later item (compose mounts them in order).
    if (covers && (!best || t.size() >= best->first.size()))
      best = &m;
  }
  if (!best)
    return std::nullopt;
  if (want == best->first)
    return best->second;
  std::string rest = want.substr(best->first == "/" ? 1 : best->first.size() + 1);
  return RootFs::join(best->second, rest);
}

const ContainerView::File *ContainerView::image_file(const std::string &container_path) const {
  std::string want = RootFs::join("/", container_path);
  if (host_path(want))
    return nullptr;
  auto it = files.find(want);
  return it == files.end() ? nullptr : &it->second;
}

namespace {

void relocate(std::vector<ConfNode> &nodes, const SourceLocation &to) {
  for (auto &n : nodes) {
    if (text::starts_with(n.loc.path, NginxLoader::k_image_mark))
      n.loc = to;
    relocate(n.children, to);
  }
}

} // namespace

ConfTree load_in_container(const RootFs &fs, const ContainerView &view, const std::string &main) {
  ConfTree tree;
  tree.main_path = main;
  tree.present = true;
  NginxLoader l;
  l.fs = &fs;
  l.tree = &tree;
  l.view = &view;
  l.parse_file(RootFs::join("/", main), 0, tree.nodes, nullptr);
  relocate(tree.nodes, view.image_loc);
  for (auto &d : tree.diagnostics)
    if (text::starts_with(d.loc.path, NginxLoader::k_image_mark))
      d.loc = view.image_loc;
  return tree;
}

} // namespace bulwark::nginx
