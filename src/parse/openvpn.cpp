// OpenVPN 2.6's configuration reader (see include/bulwark/parse/openvpn.hpp).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/openvpn.hpp>

namespace bulwark::openvpn {

namespace {

constexpr int k_openvpn_max_depth = 10;
constexpr size_t k_max_options = 100000;

bool space(char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

// parse_line(): a state machine over the line. A quoted word ends at its
// closing quote; a quote inside an unquoted word is literal; a backslash
// escapes the next character except inside single quotes; `#` or `;` where
// a word would start ends the line (even after a backslash). Returns false
// when the line holds no word.
bool openvpn_split_line(std::string_view line, std::vector<std::string> &out, std::string &error) {
  enum { initial, unquoted, quoted, squoted } state = initial;
  out.clear();
  std::string w;
  bool backslash = false;
  // parse_line walks a C string: a NUL byte ends the line.
  line = line.substr(0, line.find('\0'));
  for (size_t i = 0; i <= line.size(); ++i) {
    bool at_end = i == line.size();
    char c = at_end ? ' ' : line[i];
    if (at_end) {
      if (state == quoted || state == squoted) {
        error = state == quoted ? "no closing quotation (\") in line"
                                : "no closing single quotation (') in line";
        out.clear();
        return false;
      }
      if (state == unquoted)
        out.push_back(std::move(w));
      break;
    }
    if (!backslash && c == '\\' && state != squoted) {
      backslash = true;
      continue;
    }
    bool done = false;
    switch (state) {
    case initial:
      if (!space(c)) {
        if (c == ';' || c == '#')
          return !out.empty();
        if (!backslash && c == '"')
          state = quoted;
        else if (!backslash && c == '\'')
          state = squoted;
        else {
          w += c;
          state = unquoted;
        }
      }
      break;
    case unquoted:
      if (!backslash && space(c))
        done = true;
      else
        w += c;
      break;
    case quoted:
      if (!backslash && c == '"')
        done = true;
      else
        w += c;
      break;
    case squoted:
      if (c == '\'')
        done = true;
      else
        w += c;
      break;
    }
    backslash = false;
    if (done) {
      out.push_back(std::move(w));
      w.clear();
      state = initial;
    }
  }
  return !out.empty();
}

struct OpenvpnReader {
  const RootFs *fs = nullptr;
  Config *cfg = nullptr;

  void diag(std::string msg, const std::string &path, int line) {
    cfg->diagnostics.push_back({std::move(msg), {path, line}});
  }

  void parse(std::string_view text, const std::string &path, int depth) {
    size_t pos = 0;
    int line_no = 0;
    std::vector<std::string> words;
    while (pos < text.size()) {
      size_t nl = text.find('\n', pos);
      std::string_view line =
          text.substr(pos, nl == std::string_view::npos ? std::string_view::npos : nl - pos);
      pos = nl == std::string_view::npos ? text.size() : nl + 1;
      ++line_no;
      if (cfg->options.size() >= k_max_options) {
        diag("more than " + std::to_string(k_max_options) + " options; the rest is not read", path,
             line_no);
        return;
      }
      std::string error;
      if (!openvpn_split_line(line, words, error)) {
        if (!error.empty())
          diag(error, path, line_no);
        continue;
      }
      Option o;
      o.loc = {path, line_no};
      std::string name = words[0];
      // Inline file: <name> on a line of its own, up to </name>.
      if (name.size() > 2 && name.front() == '<' && name.back() == '>' && name[1] != '/') {
        o.name = name.substr(1, name.size() - 2);
        o.is_inline = true;
        std::string end = "</" + o.name + ">";
        bool closed = false;
        while (pos < text.size()) {
          size_t e = text.find('\n', pos);
          std::string_view l =
              text.substr(pos, e == std::string_view::npos ? std::string_view::npos : e - pos);
          pos = e == std::string_view::npos ? text.size() : e + 1;
          ++line_no;
          if (text::trim(l) == end) {
            closed = true;
            break;
          }
          o.inline_text += std::string(l) + "\n";
        }
        if (!closed)
          diag("inline file <" + text::printable(o.name) + "> is not closed by " +
                   text::printable(end),
               path, o.loc.line);
        cfg->options.push_back(std::move(o));
        continue;
      }
      if (name.size() >= 3 && name.compare(0, 2, "--") == 0)
        name = name.substr(2);
      o.name = name;
      o.args.assign(words.begin() + 1, words.end());
      if (o.name == "config" && fs) {
        if (o.args.size() != 1) {
          diag("config takes one file", path, line_no);
          continue;
        }
        if (depth + 1 > k_openvpn_max_depth) {
          diag("config files nested deeper than " + std::to_string(k_openvpn_max_depth) +
                   " (a loop?): " + text::printable(o.args[0]) + " not read",
               path, line_no);
          continue;
        }
        std::string dir = path.substr(0, path.rfind('/') + 1);
        std::string inc = RootFs::join(dir.empty() ? "/" : dir, o.args[0]);
        auto t = fs->read_file(inc, 4 * 1024 * 1024);
        if (!t) {
          diag("cannot read config " + text::printable(inc) + ": " + t.error().message, path,
               line_no);
          continue;
        }
        parse(*t, inc, depth + 1);
        continue;
      }
      cfg->options.push_back(std::move(o));
    }
  }
};

} // namespace

const Option *Config::last(std::string_view name) const {
  for (auto it = options.rbegin(); it != options.rend(); ++it)
    if (it->name == name)
      return &*it;
  return nullptr;
}

bool Config::is_server() const {
  if (has("server") || has("server-bridge") || has("tls-server"))
    return true;
  const Option *m = last("mode");
  return m && !m->args.empty() && m->args[0] == "server";
}

bool Config::is_client() const {
  if (is_server())
    return false;
  return has("client") || has("tls-client") || has("remote");
}

Config parse_text(std::string_view text, const std::string &path) {
  Config c;
  c.path = path;
  OpenvpnReader r;
  r.cfg = &c;
  r.parse(text, path, 0);
  return c;
}

Config load(const RootFs &fs, const std::string &path) {
  Config c;
  c.path = path;
  auto t = fs.read_file(path, 4 * 1024 * 1024);
  if (!t) {
    c.diagnostics.push_back({"cannot read: " + t.error().message, {path, 0}});
    return c;
  }
  OpenvpnReader r;
  r.fs = &fs;
  r.cfg = &c;
  r.parse(*t, path, 0);
  return c;
}

std::vector<Config> load_all(const RootFs &fs) {
  std::vector<Config> out;
  for (const char *pattern : {"/etc/openvpn/server/*.conf", "/etc/openvpn/*.conf"}) {
    auto g = fs.glob(pattern);
    if (!g)
      continue;
    for (auto &p : *g) {
      auto st = fs.stat(p);
      // A dangling link or a directory is no configuration; a file that
      // cannot be looked at (a link loop, no permission) is one that cannot
      // be read, and load() says so (fail closed, not "no OpenVPN").
      if (!st && st.error().not_found())
        continue;
      if (st && st->type != FileInfo::Type::regular)
        continue;
      out.push_back(load(fs, p));
    }
  }
  return out;
}

} // namespace bulwark::openvpn
