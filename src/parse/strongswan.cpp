// strongSwan's swanctl.conf and ipsec.conf, for IKE/ESP proposals (see
// include/bulwark/parse/strongswan.hpp for the syntax followed).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/strongswan.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace bulwark::strongswan {

namespace {

constexpr int k_strongswan_max_depth = 10;
constexpr int k_max_files = 512;

bool strongswan_blank(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

std::string strongswan_unquote(std::string_view v) {
  v = text::trim(v);
  if (v.size() >= 2 && v.front() == '"' && v.back() == '"') {
    std::string out;
    for (size_t i = 1; i + 1 < v.size(); ++i) {
      if (v[i] == '\\' && i + 2 < v.size())
        ++i;
      out += v[i];
    }
    return out;
  }
  return std::string(v);
}

// ---- swanctl.conf (settings syntax) ----

struct SettingsReader {
  const RootFs *fs = nullptr;
  ConfTree *tree = nullptr;
  int files = 0;

  void diag(std::string m, const std::string &p, int l) {
    tree->diagnostics.push_back({std::move(m), {p, l}});
  }

  void include(const std::string &arg, const std::string &path, int line, int depth,
               std::vector<ConfNode> &out) {
    if (!fs)
      return;
    std::string dir = path.substr(0, path.rfind('/') + 1);
    std::string pattern = RootFs::join(dir.empty() ? "/" : dir, arg);
    auto g = fs->glob(pattern);
    if (!g)
      return;
    for (auto &p : *g) {
      if (depth + 1 > k_strongswan_max_depth) {
        diag("include nesting deeper than " + std::to_string(k_strongswan_max_depth) + " (a loop?)",
             path, line);
        return;
      }
      if (++files > k_max_files) {
        diag("too many included files", path, line);
        return;
      }
      auto t = fs->read_file(p, 4 * 1024 * 1024);
      if (!t) {
        diag("cannot read " + text::printable(p) + ": " + t.error().message, path, line);
        continue;
      }
      tree->files.push_back(p);
      parse(*t, p, depth + 1, out);
    }
  }

  void parse(std::string_view text, const std::string &path, int depth,
             std::vector<ConfNode> &out) {
    std::vector<std::vector<ConfNode> *> stack{&out};
    size_t pos = 0;
    int line = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string_view l =
          text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
      ++line;
      // Comments start at `#` outside quotes.
      bool inq = false;
      size_t cut = l.size();
      for (size_t i = 0; i < l.size(); ++i) {
        if (l[i] == '"' && (i == 0 || l[i - 1] != '\\'))
          inq = !inq;
        if (l[i] == '#' && !inq) {
          cut = i;
          break;
        }
      }
      std::string_view s = text::trim(l.substr(0, cut));
      // A line may hold several statements: "a { b = 1 }" is rare; handle
      // the common shapes: "name {", "}", "key = value", "include x",
      // and "name { key = value }" on one line.
      while (!s.empty()) {
        if (s.front() == '}') {
          if (stack.size() == 1)
            diag("unexpected '}'", path, line);
          else
            stack.pop_back();
          s = text::trim(s.substr(1));
          continue;
        }
        size_t eq = s.find('=');
        size_t br = s.find('{');
        if (text::starts_with(s, "include") && s.size() > 7 && strongswan_blank(s[7]) &&
            (eq == std::string_view::npos)) {
          include(strongswan_unquote(s.substr(8)), path, line, depth, *stack.back());
          break;
        }
        if (br != std::string_view::npos && (eq == std::string_view::npos || br < eq)) {
          std::string name(text::trim(s.substr(0, br)));
          if (size_t colon = name.find(':'); colon != std::string::npos)
            name = std::string(text::trim(std::string_view(name).substr(0, colon)));
          if (name.empty()) {
            diag("section without a name", path, line);
            break;
          }
          if (stack.size() > 64) {
            diag("sections nested too deeply", path, line);
            return;
          }
          ConfNode n;
          n.name = name;
          n.loc = {path, line};
          n.block = true;
          stack.back()->push_back(std::move(n));
          stack.push_back(&stack.back()->back().children);
          s = text::trim(s.substr(br + 1));
          continue;
        }
        if (eq != std::string_view::npos) {
          ConfNode n;
          n.name = std::string(text::trim(s.substr(0, eq)));
          std::string_view rest = s.substr(eq + 1);
          size_t close = rest.find('}');
          std::string_view value =
              close == std::string_view::npos || rest.find('"') != std::string_view::npos
                  ? rest
                  : rest.substr(0, close);
          n.args.push_back(strongswan_unquote(value));
          n.loc = {path, line};
          stack.back()->push_back(std::move(n));
          if (value.size() < rest.size()) {
            s = text::trim(rest.substr(value.size()));
            continue;
          }
          break;
        }
        diag("syntax error: \"" + text::printable(s, 60) +
                 "\" is neither a section nor key = value",
             path, line);
        break;
      }
    }
    if (stack.size() > 1)
      diag("section not closed at end of file", path, line);
  }
};

const ConfNode *child(const std::vector<ConfNode> &level, std::string_view name, bool block) {
  const ConfNode *found = nullptr;
  for (auto &n : level)
    if (n.name == name && n.block == block)
      found = &n; // later definitions win (and sections merge; the last key is what counts)
  return found;
}

void swanctl_proposals(const ConfTree &t, std::vector<Proposal> &out) {
  // Sections of the same name merge; collect every `connections` section.
  for (auto &top : t.nodes) {
    if (!top.block || top.name != "connections")
      continue;
    for (auto &conn : top.children) {
      if (!conn.block)
        continue;
      Proposal p;
      p.source = "swanctl";
      p.kind = "ike";
      p.context = "connections." + conn.name + " (IKE)";
      if (const ConfNode *k = child(conn.children, "proposals", false)) {
        p.value = k->args.empty() ? "" : k->args[0];
        p.loc = k->loc;
      } else {
        p.value = "default";
        p.loc = {conn.loc.path, 0};
      }
      out.push_back(p);
      const ConfNode *children = child(conn.children, "children", true);
      if (!children)
        continue;
      for (auto &c : children->children) {
        if (!c.block)
          continue;
        Proposal e;
        e.source = "swanctl";
        e.kind = "esp";
        e.context = "connections." + conn.name + ".children." + c.name + " (ESP)";
        const ConfNode *ah = child(c.children, "ah_proposals", false);
        const ConfNode *esp = child(c.children, "esp_proposals", false);
        if (ah) {
          Proposal a = e;
          a.kind = "ah";
          a.context = "connections." + conn.name + ".children." + c.name + " (AH)";
          a.value = ah->args.empty() ? "" : ah->args[0];
          a.loc = ah->loc;
          out.push_back(a);
        }
        if (esp) {
          e.value = esp->args.empty() ? "" : esp->args[0];
          e.loc = esp->loc;
          out.push_back(e);
        } else if (!ah) {
          e.value = "default";
          e.loc = {c.loc.path, 0};
          out.push_back(e);
        }
      }
    }
  }
}

// ---- ipsec.conf ----

struct IpsecReader {
  const RootFs *fs = nullptr;
  ConfTree *tree = nullptr;
  int files = 0;

  void parse(std::string_view text, const std::string &path, int depth) {
    ConfNode *section = nullptr;
    size_t pos = 0;
    int line = 0;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string_view l =
          text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
      ++line;
      bool indented = !l.empty() && strongswan_blank(l[0]);
      size_t hash = std::string_view::npos;
      bool inq = false;
      for (size_t i = 0; i < l.size(); ++i) {
        if (l[i] == '"')
          inq = !inq;
        if (l[i] == '#' && !inq) {
          hash = i;
          break;
        }
      }
      std::string_view s = text::trim(l.substr(0, hash));
      if (s.empty())
        continue;
      if (!indented) {
        section = nullptr;
        auto w = text::split(s, ' ');
        std::vector<std::string> words;
        for (auto &x : w)
          if (!text::trim(x).empty())
            words.push_back(std::string(text::trim(x)));
        if (words.empty())
          continue;
        if (words[0] == "include" && words.size() == 2) {
          include(words[1], path, line, depth);
          continue;
        }
        if ((words[0] == "conn" || words[0] == "ca" || words[0] == "config") && words.size() == 2) {
          ConfNode n;
          n.name = words[0];
          n.args = {words[1]};
          n.loc = {path, line};
          n.block = true;
          tree->nodes.push_back(std::move(n));
          section = &tree->nodes.back();
          continue;
        }
        tree->diagnostics.push_back(
            {"unexpected \"" + text::printable(s, 60) + "\" outside a section", {path, line}});
        continue;
      }
      if (!section) {
        tree->diagnostics.push_back(
            {"parameter outside a section: " + text::printable(s, 60), {path, line}});
        continue;
      }
      size_t eq = s.find('=');
      if (eq == std::string_view::npos) {
        tree->diagnostics.push_back(
            {"expected key=value: " + text::printable(s, 60), {path, line}});
        continue;
      }
      ConfNode n;
      n.name = std::string(text::trim(s.substr(0, eq)));
      n.args = {strongswan_unquote(s.substr(eq + 1))};
      n.loc = {path, line};
      section->children.push_back(std::move(n));
    }
  }

  void include(const std::string &arg, const std::string &path, int line, int depth) {
    if (!fs)
      return;
    if (depth + 1 > k_strongswan_max_depth) {
      tree->diagnostics.push_back({"include nesting deeper than 10 (a loop?)", {path, line}});
      return;
    }
    std::string dir = path.substr(0, path.rfind('/') + 1);
    auto g = fs->glob(RootFs::join(dir.empty() ? "/" : dir, arg));
    if (!g)
      return;
    for (auto &p : *g) {
      if (++files > k_max_files)
        return;
      auto t = fs->read_file(p, 4 * 1024 * 1024);
      if (!t)
        continue;
      tree->files.push_back(p);
      parse(*t, p, depth + 1);
    }
  }
};

// A conn's value for key after %default and also= (depth-limited).
const ConfNode *lookup(const ConfTree &t, const ConfNode &conn, std::string_view key,
                       std::set<std::string> &seen, int depth) {
  if (depth > 16 || conn.args.empty() || !seen.insert(conn.args[0]).second)
    return nullptr;
  const ConfNode *own = nullptr;
  for (auto &n : conn.children)
    if (n.name == key)
      own = &n;
  if (own)
    return own;
  for (auto &n : conn.children) {
    if (n.name != "also" || n.args.empty())
      continue;
    for (auto &name : text::split(n.args[0], ' ')) {
      for (auto &other : t.nodes)
        if (other.block && other.name == "conn" && !other.args.empty() && other.args[0] == name)
          if (auto *v = lookup(t, other, key, seen, depth + 1))
            return v;
    }
  }
  return nullptr;
}

void strongswan_parse_ipsec_proposals(const ConfTree &t, std::vector<Proposal> &out) {
  const ConfNode *dflt = nullptr;
  for (auto &n : t.nodes)
    if (n.block && n.name == "conn" && !n.args.empty() && n.args[0] == "%default")
      dflt = &n;
  for (auto &conn : t.nodes) {
    if (!conn.block || conn.name != "conn" || conn.args.empty() || conn.args[0] == "%default")
      continue;
    for (const char *key : {"ike", "esp", "ah"}) {
      std::set<std::string> seen;
      const ConfNode *v = lookup(t, conn, key, seen, 0);
      if (!v && dflt) {
        std::set<std::string> s2;
        v = lookup(t, *dflt, key, s2, 0);
      }
      if (!v && std::string_view(key) == "ah")
        continue;
      Proposal p;
      p.source = "ipsec.conf";
      p.kind = key;
      p.context = "conn " + text::printable(conn.args[0], 60) + " " + key;
      if (v) {
        p.value = v->args.empty() ? "" : v->args[0];
        p.loc = v->loc;
      } else {
        p.value = "default";
        p.loc = {conn.loc.path, 0};
      }
      out.push_back(p);
    }
  }
}

} // namespace

ConfTree parse_settings_text(std::string_view text, const std::string &path) {
  ConfTree t;
  t.present = true;
  t.main_path = path;
  SettingsReader r;
  r.tree = &t;
  r.parse(text, path, 0, t.nodes);
  return t;
}

ConfTree parse_ipsec_text(std::string_view text, const std::string &path) {
  ConfTree t;
  t.present = true;
  t.main_path = path;
  IpsecReader r;
  r.tree = &t;
  r.parse(text, path, 0);
  return t;
}

Model load(const RootFs &fs, const std::string &swanctl, const std::string &ipsec) {
  Model m;
  if (auto t = fs.read_file(swanctl, 4 * 1024 * 1024); t) {
    ConfTree tree;
    tree.present = true;
    tree.main_path = swanctl;
    tree.files.push_back(swanctl);
    SettingsReader r;
    r.fs = &fs;
    r.tree = &tree;
    r.parse(*t, swanctl, 0, tree.nodes);
    m.swanctl_present = true;
    swanctl_proposals(tree, m.proposals);
    m.diagnostics.insert(m.diagnostics.end(), tree.diagnostics.begin(), tree.diagnostics.end());
    m.files.insert(m.files.end(), tree.files.begin(), tree.files.end());
  }
  if (auto t = fs.read_file(ipsec, 4 * 1024 * 1024); t) {
    ConfTree tree;
    tree.present = true;
    tree.main_path = ipsec;
    tree.files.push_back(ipsec);
    IpsecReader r;
    r.fs = &fs;
    r.tree = &tree;
    r.parse(*t, ipsec, 0);
    m.ipsec_present = true;
    strongswan_parse_ipsec_proposals(tree, m.proposals);
    m.diagnostics.insert(m.diagnostics.end(), tree.diagnostics.begin(), tree.diagnostics.end());
    m.files.insert(m.files.end(), tree.files.begin(), tree.files.end());
  }
  return m;
}

std::vector<std::string> weak_algorithms(std::string_view proposals) {
  static const std::set<std::string> k_weak = {"3des",    "des",     "md5",      "md5_128",
                                               "sha",     "sha1",    "sha1_160", "prfmd5",
                                               "prfsha1", "modp768", "modp1024", "modp1024s160"};
  std::vector<std::string> out;
  for (auto &prop : text::split(proposals, ',')) {
    std::string p = text::lower(text::trim(prop));
    while (!p.empty() && p.back() == '!')
      p.pop_back();
    // Libreswan writes the DH group after a ';' ("aes256-sha1;modp2048").
    std::replace(p.begin(), p.end(), ';', '-');
    for (auto &alg : text::split(p, '-')) {
      std::string a(text::trim(alg));
      if (k_weak.count(a) && std::find(out.begin(), out.end(), a) == out.end())
        out.push_back(a);
    }
  }
  return out;
}

} // namespace bulwark::strongswan
