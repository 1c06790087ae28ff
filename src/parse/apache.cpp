// Apache httpd 2.4's configuration reader, limited to what the tls.* checks
// need (see include/bulwark/parse/apache.hpp for the semantics followed).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/apache.hpp>

#include <algorithm>

namespace bulwark::apache {

namespace {

bool apache_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// ap_getword_conf: one word, quotes stripped, \" (or \') unescaped inside.
std::vector<std::string> apache_words(std::string_view s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    while (i < s.size() && apache_blank(s[i]))
      ++i;
    if (i >= s.size())
      break;
    std::string w;
    if (s[i] == '"' || s[i] == '\'') {
      char q = s[i++];
      while (i < s.size() && s[i] != q) {
        if (s[i] == '\\' && i + 1 < s.size() && s[i + 1] == q)
          ++i;
        w += s[i++];
      }
      if (i < s.size())
        ++i;
    } else {
      while (i < s.size() && !apache_blank(s[i]))
        w += s[i++];
    }
    out.push_back(std::move(w));
  }
  return out;
}

bool conditional(std::string_view name) {
  return text::iequals(name, "IfModule") || text::iequals(name, "IfDefine") ||
         text::iequals(name, "IfVersion") || text::iequals(name, "IfFile") ||
         text::iequals(name, "IfDirective") || text::iequals(name, "IfSection");
}

struct ApacheLoader {
  const RootFs *fs = nullptr;
  ConfTree *tree = nullptr;
  int files = 0;
  std::string server_root = "/etc/apache2";

  void diag(std::string msg, const SourceLocation &loc) {
    tree->diagnostics.push_back({std::move(msg), loc});
  }

  void include(const ConfNode &n, bool optional, int depth, std::vector<ConfNode> &out) {
    if (n.args.size() != 1) {
      diag(n.name + " takes one argument", n.loc);
      return;
    }
    std::string pattern = RootFs::join(server_root, n.args[0]);
    std::vector<std::string> paths;
    if (pattern.find_first_of("*?[") != std::string::npos) {
      auto g = fs->glob(pattern);
      if (g)
        paths = *g;
      if (paths.empty() && !optional)
        diag("No matches for the wildcard '" + text::printable(n.args[0]) + "'", n.loc);
    } else {
      auto st = fs->stat(pattern);
      if (!st) {
        if (!optional)
          diag("Could not open configuration file " + text::printable(pattern) + ": " +
                   st.error().message,
               n.loc);
        return;
      }
      paths.push_back(pattern);
    }
    for (auto &p : paths)
      read_path(p, depth + 1, out, n.loc);
  }

  void read_path(const std::string &path, int depth, std::vector<ConfNode> &out,
                 const SourceLocation &from) {
    if (depth > k_max_include_depth) {
      diag("include nesting deeper than " + std::to_string(k_max_include_depth) +
               " (an include loop?): " + text::printable(path) + " not read",
           from);
      return;
    }
    auto st = fs->stat(path);
    if (st && st->type == FileInfo::Type::directory) {
      auto names = fs->list_dir(path);
      if (!names)
        return;
      for (auto &name : *names)
        read_path(RootFs::join(path, name), depth, out, from);
      return;
    }
    if (++files > k_max_files) {
      if (files == k_max_files + 1)
        diag("more than " + std::to_string(k_max_files) + " files included; the rest is not read",
             from);
      return;
    }
    auto text = fs->read_file(path);
    if (!text) {
      diag("cannot read " + text::printable(path) + ": " + text.error().message, from);
      return;
    }
    tree->files.push_back(path);
    parse(*text, path, depth, out);
  }

  void parse(std::string_view text, const std::string &path, int depth,
             std::vector<ConfNode> &out) {
    struct Open {
      std::vector<ConfNode> *list;
      std::string name;
    };
    std::vector<Open> stack{{&out, ""}};
    size_t pos = 0;
    int line = 0;
    while (pos < text.size()) {
      // One logical line: physical lines joined at a trailing backslash.
      std::string logical;
      int first = line + 1;
      for (;;) {
        size_t nl = text.find('\n', pos);
        std::string_view phys =
            text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
        pos = nl == std::string_view::npos ? text.size() : nl + 1;
        ++line;
        std::string_view t = phys;
        while (!t.empty() && apache_blank(t.back()))
          t.remove_suffix(1);
        if (!t.empty() && t.back() == '\\' && pos < text.size()) {
          logical += t.substr(0, t.size() - 1);
          continue;
        }
        logical += t;
        break;
      }
      std::string_view l = text::trim(logical);
      if (l.empty() || l[0] == '#')
        continue;
      SourceLocation loc{path, first};
      if (l[0] == '<' && l.size() > 1 && l[1] == '/') {
        std::string name(text::trim(l.substr(
            2, l.find('>') == std::string_view::npos ? std::string_view::npos : l.find('>') - 2)));
        if (stack.size() == 1) {
          diag("</" + text::printable(name) + "> without matching <" + text::printable(name) +
                   "> section",
               loc);
          continue;
        }
        if (!text::iequals(stack.back().name, name))
          diag("Expected </" + text::printable(stack.back().name) + "> but saw </" +
                   text::printable(name) + ">",
               loc);
        stack.pop_back();
        continue;
      }
      if (l[0] == '<') {
        if (l.back() != '>') {
          diag("section directive missing closing '>'", loc);
          continue;
        }
        auto w = apache_words(l.substr(1, l.size() - 2));
        if (w.empty()) {
          diag("empty section name", loc);
          continue;
        }
        if (stack.size() > 64) {
          diag("sections nested too deeply", loc);
          return;
        }
        ConfNode n;
        n.name = w[0];
        n.args.assign(w.begin() + 1, w.end());
        n.loc = loc;
        n.block = true;
        stack.back().list->push_back(std::move(n));
        stack.push_back({&stack.back().list->back().children, w[0]});
        continue;
      }
      auto w = apache_words(l);
      ConfNode n;
      n.name = w[0];
      n.args.assign(w.begin() + 1, w.end());
      n.loc = loc;
      if (fs && (text::iequals(n.name, "Include") || text::iequals(n.name, "IncludeOptional"))) {
        include(n, text::iequals(n.name, "IncludeOptional"), depth, *stack.back().list);
        continue;
      }
      if (text::iequals(n.name, "ServerRoot") && n.args.size() == 1)
        server_root = n.args[0];
      stack.back().list->push_back(std::move(n));
    }
    if (stack.size() > 1)
      diag("<" + text::printable(stack.back().name) + "> was not closed", {path, line});
  }
};

// Directives of one server level: conditionals are entered, other sections
// (VirtualHost, Directory, Location...) are not.
void flatten(const std::vector<ConfNode> &level, std::vector<const ConfNode *> &out, int depth) {
  if (depth > 64)
    return;
  for (auto &n : level) {
    if (n.block) {
      if (conditional(n.name))
        flatten(n.children, out, depth + 1);
      continue;
    }
    out.push_back(&n);
  }
}

void virtual_hosts(const std::vector<ConfNode> &level, std::vector<const ConfNode *> &out,
                   int depth) {
  if (depth > 64)
    return;
  for (auto &n : level) {
    if (!n.block)
      continue;
    if (text::iequals(n.name, "VirtualHost"))
      out.push_back(&n);
    else if (conditional(n.name))
      virtual_hosts(n.children, out, depth + 1);
  }
}

struct Level {
  TlsSetting protocols, ciphers, suites, honor, engine;
  std::vector<TlsSetting> certs, keys;
  std::vector<const ConfNode *> header_ops;
};

TlsSetting set_from(const ConfNode &n, size_t from = 0) {
  TlsSetting s;
  std::vector<std::string> a(n.args.begin() + std::min(from, n.args.size()), n.args.end());
  s.value = text::join(a, " ");
  s.loc = n.loc;
  s.is_default = false;
  return s;
}

Level read_level(const std::vector<const ConfNode *> &ds, const Level &base) {
  Level l = base;
  bool own_certs = false, own_keys = false;
  l.header_ops.clear();
  for (auto *n : ds) {
    const std::string &k = n->name;
    if (text::iequals(k, "SSLProtocol")) {
      l.protocols = set_from(*n);
    } else if (text::iequals(k, "SSLCipherSuite")) {
      if (n->args.size() == 2 && text::iequals(n->args[0], "TLSv1.3"))
        l.suites = set_from(*n, 1);
      else if (n->args.size() == 2 && text::iequals(n->args[0], "SSL"))
        l.ciphers = set_from(*n, 1);
      else
        l.ciphers = set_from(*n);
    } else if (text::iequals(k, "SSLHonorCipherOrder")) {
      l.honor = set_from(*n);
    } else if (text::iequals(k, "SSLEngine")) {
      l.engine = set_from(*n);
    } else if (text::iequals(k, "SSLCertificateFile")) {
      if (!own_certs)
        l.certs.clear();
      own_certs = true;
      l.certs.push_back(set_from(*n));
    } else if (text::iequals(k, "SSLCertificateKeyFile")) {
      if (!own_keys)
        l.keys.clear();
      own_keys = true;
      l.keys.push_back(set_from(*n));
    } else if (text::iequals(k, "Header")) {
      l.header_ops.push_back(n);
    }
  }
  return l;
}

// mod_ssl's ssl_cmd_protocol_parse. Returns the enabled versions.
std::vector<std::string> protocol_versions(const std::string &value) {
  static const char *k_all[] = {"TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"};
  std::vector<std::string> on;
  for (auto &w0 : apache_words(value)) {
    std::string_view w = w0;
    char action = 0;
    if (!w.empty() && (w[0] == '+' || w[0] == '-')) {
      action = w[0];
      w.remove_prefix(1);
    }
    std::vector<std::string> these;
    if (w == "all")
      these.assign(std::begin(k_all), std::end(k_all));
    else if (w == "TLSv1" || w == "TLSv1.1" || w == "TLSv1.2" || w == "TLSv1.3" || w == "SSLv3")
      these.push_back(std::string(w));
    else
      continue;
    if (action == 0)
      on.clear();
    for (auto &t : these) {
      auto it = std::find(on.begin(), on.end(), t);
      if (action == '-') {
        if (it != on.end())
          on.erase(it);
      } else if (it == on.end()) {
        on.push_back(t);
      }
    }
  }
  std::vector<std::string> ordered;
  for (const char *v : {"SSLv3", "TLSv1", "TLSv1.1", "TLSv1.2", "TLSv1.3"})
    if (std::find(on.begin(), on.end(), v) != on.end())
      ordered.push_back(v);
  return ordered;
}

// The headers after the server's then the vhost's operations.
HeaderScope header_scope(const std::vector<const ConfNode *> &ops, const SourceLocation &loc) {
  HeaderScope s;
  s.label = "VirtualHost";
  s.loc = loc;
  for (auto *n : ops) {
    std::vector<std::string> a = n->args;
    bool always = false;
    if (!a.empty() && (text::iequals(a[0], "always") || text::iequals(a[0], "onsuccess"))) {
      always = text::iequals(a[0], "always");
      a.erase(a.begin());
    }
    if (a.size() < 2)
      continue;
    std::string action = text::lower(a[0]);
    const std::string &name = a[1];
    auto same = [&](const HeaderScope::Header &h) { return text::iequals(h.name, name); };
    if (action == "unset") {
      auto it = std::remove_if(s.headers.begin(), s.headers.end(), same);
      if (it != s.headers.end() && text::iequals(name, "Strict-Transport-Security"))
        s.unset_hsts = n->loc;
      s.headers.erase(it, s.headers.end());
      continue;
    }
    if (action != "set" && action != "add" && action != "append" && action != "merge")
      continue;
    if (a.size() < 3)
      continue;
    if (action == "set")
      s.headers.erase(std::remove_if(s.headers.begin(), s.headers.end(), same), s.headers.end());
    s.headers.push_back({name, a[2], always, n->loc});
    if (text::iequals(name, "Strict-Transport-Security"))
      s.unset_hsts.reset();
  }
  return s;
}

TlsListen parse_vhost_addr(const std::string &a, const SourceLocation &loc) {
  TlsListen l;
  l.loc = loc;
  std::string host = a;
  if (!a.empty() && a[0] == '[') {
    size_t c = a.find(']');
    host = a.substr(1, c == std::string::npos ? std::string::npos : c - 1);
    if (c != std::string::npos && c + 1 < a.size() && a[c + 1] == ':')
      l.port = std::atoi(a.c_str() + c + 2);
  } else if (size_t c = a.rfind(':'); c != std::string::npos) {
    host = a.substr(0, c);
    l.port = std::atoi(a.c_str() + c + 1);
  }
  l.address = host == "*" || host == "_default_" ? "" : host;
  return l;
}

TlsEndpoint make(const Level &lv, const std::vector<const ConfNode *> &ops,
                 const SourceLocation &loc, std::vector<TlsListen> listens,
                 std::vector<std::string> names) {
  TlsEndpoint e;
  e.daemon = "apache";
  e.loc = loc;
  e.names = std::move(names);
  e.listens = std::move(listens);
  e.tls = text::iequals(lv.engine.value, "on");
  for (auto &l : e.listens)
    l.ssl = e.tls;
  e.protocols = lv.protocols;
  e.versions = protocol_versions(lv.protocols.value);
  e.ciphers = lv.ciphers;
  e.ciphersuites = lv.suites;
  e.prefer_server_ciphers = lv.honor;
  e.certificates = lv.certs;
  e.keys = lv.keys;
  e.header_scopes.push_back(header_scope(ops, loc));
  std::string port = e.listens.empty() ? "" : std::to_string(e.listens.front().port);
  e.subject = "apache VirtualHost " +
              text::printable(e.names.empty() ? std::string("_default_") : e.names.front(), 60) +
              (port.empty() || port == "0" ? "" : ":" + port);
  return e;
}

} // namespace

ConfTree parse_text(std::string_view text, const std::string &path) {
  ConfTree tree;
  tree.present = true;
  tree.main_path = path;
  tree.files.push_back(path);
  ApacheLoader l;
  l.tree = &tree;
  l.parse(text, path, 0, tree.nodes);
  return tree;
}

ConfTree load(const RootFs &fs, const std::string &main) {
  ConfTree tree;
  tree.main_path = main;
  if (!fs.stat(main))
    return tree;
  tree.present = true;
  ApacheLoader l;
  l.fs = &fs;
  l.tree = &tree;
  l.read_path(main, 0, tree.nodes, {main, 0});
  return tree;
}

std::vector<TlsEndpoint> endpoints(const ConfTree &tree) {
  std::vector<const ConfNode *> global;
  flatten(tree.nodes, global, 0);
  Level base;
  SourceLocation dflt{tree.main_path, 0};
  base.protocols = {"all -SSLv3", dflt, true};
  base.ciphers = {"DEFAULT", dflt, true};
  base.honor = {"off", dflt, true};
  base.engine = {"off", dflt, true};
  Level server = read_level(global, base);
  std::vector<TlsEndpoint> out;
  std::vector<const ConfNode *> vhosts;
  virtual_hosts(tree.nodes, vhosts, 0);
  for (auto *vh : vhosts) {
    std::vector<const ConfNode *> ds;
    flatten(vh->children, ds, 0);
    Level lv = read_level(ds, server);
    std::vector<const ConfNode *> ops = server.header_ops;
    ops.insert(ops.end(), lv.header_ops.begin(), lv.header_ops.end());
    std::vector<TlsListen> listens;
    for (auto &a : vh->args)
      listens.push_back(parse_vhost_addr(a, vh->loc));
    std::vector<std::string> names;
    for (auto *d : ds)
      if (text::iequals(d->name, "ServerName") || text::iequals(d->name, "ServerAlias"))
        names.insert(names.end(), d->args.begin(), d->args.end());
    out.push_back(make(lv, ops, vh->loc, std::move(listens), std::move(names)));
  }
  if (text::iequals(server.engine.value, "on") && !server.engine.is_default)
    out.push_back(make(server, server.header_ops, server.engine.loc, {}, {"main server"}));
  return out;
}

} // namespace bulwark::apache
