// apt's sources (see apt_sources.hpp for the semantics).

#include <bulwark/core/text.hpp>
#include <bulwark/parse/apt_sources.hpp>

#include <map>

namespace bulwark::apt {

namespace {

constexpr size_t k_apt_sources_max_bytes = 4 * 1024 * 1024;

std::vector<std::string> apt_sources_words(std::string_view s) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : s) {
    if (c == ' ' || c == '\t') {
      if (!cur.empty())
        out.push_back(std::move(cur));
      cur.clear();
    } else {
      cur += c;
    }
  }
  if (!cur.empty())
    out.push_back(std::move(cur));
  return out;
}

bool name_ok(std::string_view n, std::string_view ext) {
  if (n.size() <= ext.size() || n.substr(n.size() - ext.size()) != ext)
    return false;
  for (char c : n.substr(0, n.size() - ext.size()))
    if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.'))
      return false;
  return true;
}

} // namespace

void parse_sources_list_text(const std::string &path, std::string_view text, Sources &out) {
  int lineno = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++lineno;
    std::string line(text::trim(raw));
    if (line.empty() || line[0] == '#')
      continue;
    // [options] may hold a '#' no more than anything else; a '#' after
    // them starts a comment.
    std::string opts;
    size_t type_end = line.find_first_of(" \t");
    std::string type = line.substr(0, type_end);
    std::string rest = type_end == std::string::npos ? "" : line.substr(type_end);
    std::string_view r = text::trim(rest);
    if (!r.empty() && r[0] == '[') {
      size_t close = r.find(']');
      if (close == std::string_view::npos) {
        out.diagnostics.push_back(Diagnostic{
            "malformed entry (unterminated option): apt refuses the file", {path, lineno}});
        continue;
      }
      r = r.substr(close + 1);
    }
    std::string body(r);
    if (size_t hash = body.find('#'); hash != std::string::npos)
      body.resize(hash);
    auto w = apt_sources_words(body);
    if (type != "deb" && type != "deb-src") {
      out.diagnostics.push_back(Diagnostic{
          "type " + text::printable(type) + " is not known: apt refuses the file", {path, lineno}});
      continue;
    }
    if (w.size() < 2) {
      out.diagnostics.push_back(
          Diagnostic{"malformed entry (no URI or suite): apt refuses the file", {path, lineno}});
      continue;
    }
    SourceEntry e{type, w[0], w[1], {w.begin() + 2, w.end()}, {path, lineno}};
    out.entries.push_back(std::move(e));
  }
}

void parse_deb822_sources_text(const std::string &path, std::string_view text, Sources &out) {
  struct Field {
    std::string value;
    int line = 0;
  };
  std::map<std::string, Field> stanza;
  int start = 0;
  std::string last;
  auto flush = [&] {
    if (stanza.empty())
      return;
    auto get = [&](const char *k) -> const Field * {
      auto it = stanza.find(k);
      return it == stanza.end() ? nullptr : &it->second;
    };
    const Field *en = get("enabled");
    bool enabled = !en || !(text::iequals(text::trim(en->value), "no") ||
                            text::iequals(text::trim(en->value), "false"));
    const Field *types = get("types"), *uris = get("uris"), *suites = get("suites");
    if (!types || !uris || !suites) {
      out.diagnostics.push_back(
          Diagnostic{"stanza without Types, URIs or Suites: apt refuses the file", {path, start}});
    } else if (enabled) {
      const Field *comps = get("components");
      for (auto &t : apt_sources_words(types->value))
        for (auto &u : apt_sources_words(uris->value))
          for (auto &s : apt_sources_words(suites->value))
            out.entries.push_back(
                SourceEntry{t,
                            u,
                            s,
                            comps ? apt_sources_words(comps->value) : std::vector<std::string>{},
                            {path, suites->line}});
    }
    stanza.clear();
    last.clear();
  };
  int lineno = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++lineno;
    std::string_view line = raw;
    if (!line.empty() && line.back() == '\r')
      line.remove_suffix(1);
    if (text::trim(line).empty()) {
      flush();
      continue;
    }
    if (line[0] == '#')
      continue;
    if (line[0] == ' ' || line[0] == '\t') {
      if (last.empty()) {
        out.diagnostics.push_back(
            Diagnostic{"continuation line outside a field: apt refuses the file", {path, lineno}});
        continue;
      }
      stanza[last].value += " " + std::string(text::trim(line));
      continue;
    }
    size_t colon = line.find(':');
    if (colon == std::string_view::npos) {
      out.diagnostics.push_back(
          Diagnostic{"line without a field name: apt refuses the file", {path, lineno}});
      continue;
    }
    if (stanza.empty())
      start = lineno;
    last = text::lower(text::trim(line.substr(0, colon)));
    stanza[last] = Field{std::string(text::trim(line.substr(colon + 1))), lineno};
  }
  flush();
}

Sources load_sources(const RootFs &fs, const std::string &etc_dir) {
  Sources out;
  auto read = [&](const std::string &p, bool deb822) {
    auto t = fs.read_file(p, k_apt_sources_max_bytes);
    if (!t) {
      if (!t.error().not_found())
        out.diagnostics.push_back(Diagnostic{"cannot read: " + t.error().message, {p, 0}});
      return;
    }
    out.files.push_back(p);
    if (deb822)
      parse_deb822_sources_text(p, *t, out);
    else
      parse_sources_list_text(p, *t, out);
  };
  read(etc_dir + "/sources.list", false);
  std::string dir = etc_dir + "/sources.list.d";
  auto names = fs.list_dir(dir);
  if (!names) {
    if (!names.error().not_found())
      out.diagnostics.push_back(Diagnostic{"cannot list: " + names.error().message, {dir, 0}});
    return out;
  }
  for (auto &n : *names) {
    if (name_ok(n, ".list"))
      read(dir + "/" + n, false);
    else if (name_ok(n, ".sources"))
      read(dir + "/" + n, true);
  }
  return out;
}

} // namespace bulwark::apt
