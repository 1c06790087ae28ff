// Dockerfiles for the container checks; the header gives the semantics.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/dockerfile.hpp>

#include <cctype>
#include <map>
#include <utility>
#include <vector>

namespace bulwark::dockerfile {

using namespace bulwark::text;

namespace {

std::string substitute(std::string_view s, const std::map<std::string, std::string> &args) {
  std::string out;
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] != '$' || i + 1 >= s.size()) {
      out += s[i];
      continue;
    }
    size_t b = i + 1;
    bool braced = s[b] == '{';
    if (braced)
      ++b;
    size_t e = b;
    while (e < s.size() && (std::isalnum(static_cast<unsigned char>(s[e])) || s[e] == '_'))
      ++e;
    std::string name(s.substr(b, e - b));
    std::string def;
    bool has_def = false;
    if (braced) {
      size_t close = s.find('}', e);
      if (close == std::string_view::npos) {
        out += s[i];
        continue;
      }
      std::string_view mod = s.substr(e, close - e);
      if (starts_with(mod, ":-") || starts_with(mod, "-")) {
        def = std::string(mod.substr(mod[0] == ':' ? 2 : 1));
        has_def = true;
      }
      e = close + 1;
    }
    auto it = args.find(name);
    if (it != args.end() && !it->second.empty())
      out += it->second;
    else if (has_def)
      out += def;
    i = e - 1;
  }
  return out;
}

// The here-documents an instruction opens (BuildKit, Dockerfile syntax 1.4:
// RUN, COPY and ADD take `<<WORD`, `<<-WORD`, `<<"WORD"`, several per line,
// their bodies following in order): each delimiter, and whether leading tabs
// are stripped before comparing (`<<-`).
std::vector<std::pair<std::string, bool>> heredocs(std::string_view ins) {
  std::vector<std::pair<std::string, bool>> out;
  size_t i = 0;
  while ((i = ins.find("<<", i)) != std::string_view::npos) {
    if (i > 0 && ins[i - 1] != ' ' && ins[i - 1] != '\t') {
      i += 2;
      continue;
    }
    size_t j = i + 2;
    bool strip = j < ins.size() && ins[j] == '-';
    if (strip)
      ++j;
    char quote = j < ins.size() && (ins[j] == '"' || ins[j] == '\'') ? ins[j] : '\0';
    if (quote)
      ++j;
    size_t e = j;
    while (e < ins.size() && (std::isalnum(static_cast<unsigned char>(ins[e])) || ins[e] == '_' ||
                              ins[e] == '-' || ins[e] == '.'))
      ++e;
    if (e > j && (!quote || (e < ins.size() && ins[e] == quote)))
      out.emplace_back(std::string(ins.substr(j, e - j)), strip);
    i = e + (quote ? 1 : 0);
  }
  return out;
}

} // namespace

const Stage *Dockerfile::base_of_final() const {
  const Stage *s = final_stage();
  for (int hops = 0; s && hops < 64; ++hops) {
    const Stage *parent = nullptr;
    for (auto &o : stages) {
      if (&o == s)
        break;
      if (!o.name.empty() && o.name == lower(s->image))
        parent = &o;
    }
    if (!parent)
      return s;
    s = parent;
  }
  return s;
}

Dockerfile parse_dockerfile(const std::string &path, std::string_view text) {
  Dockerfile df;
  df.path = path;
  char escape = '\\';
  std::map<std::string, std::string> args;
  std::vector<std::string_view> lines;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == '\n') {
      lines.push_back(text.substr(start, i - start));
      start = i + 1;
    }
  bool directives = true;
  for (size_t n = 0; n < lines.size(); ++n) {
    int line = static_cast<int>(n + 1);
    std::string_view l = trim(lines[n]);
    if (l.empty())
      continue;
    if (l[0] == '#') {
      if (directives) {
        std::string d = lower(std::string(trim(l.substr(1))));
        if (starts_with(d, "escape=") && d.size() > 7)
          escape = d[7];
      }
      continue;
    }
    directives = false;
    // Join continuation lines (comment lines inside are skipped).
    std::string ins(l);
    while (!ins.empty() && ins.back() == escape && n + 1 < lines.size()) {
      ins.pop_back();
      ++n;
      while (n < lines.size() && !trim(lines[n]).empty() && trim(lines[n])[0] == '#')
        ++n;
      if (n < lines.size())
        ins += std::string(trim(lines[n]));
      if (ins.size() > 1 << 20)
        break;
    }
    size_t sp = ins.find_first_of(" \t");
    std::string kw = lower(ins.substr(0, sp));
    std::string rest = sp == std::string::npos ? "" : std::string(trim(ins.substr(sp)));
    // Here-document bodies are data, not instructions: a `USER root` line
    // inside `RUN <<EOF` sets no user.
    if (kw == "run" || kw == "copy" || kw == "add")
      for (auto &[word, strip] : heredocs(rest))
        while (++n < lines.size()) {
          std::string_view body = lines[n];
          if (!body.empty() && body.back() == '\r')
            body.remove_suffix(1);
          if (strip)
            while (!body.empty() && body.front() == '\t')
              body.remove_prefix(1);
          if (body == word)
            break;
        }
    if (kw == "arg" && df.stages.empty()) {
      size_t eq = rest.find('=');
      if (eq != std::string::npos)
        args[rest.substr(0, eq)] = std::string(trim(rest.substr(eq + 1)));
      else
        args.emplace(rest, "");
    } else if (kw == "from") {
      std::vector<std::string> w;
      for (auto &t : split(rest, ' '))
        if (!t.empty() && !starts_with(t, "--"))
          w.push_back(t);
      Stage s;
      s.line = line;
      if (!w.empty()) {
        s.image = substitute(w[0], args);
        for (auto &x : w)
          if (x.find('\t') != std::string::npos)
            x = std::string(trim(x));
      }
      if (w.size() >= 3 && lower(w[1]) == "as")
        s.name = lower(w[2]);
      // A stage built on an earlier one inherits its user and healthcheck.
      for (auto &o : df.stages)
        if (!o.name.empty() && o.name == lower(s.image)) {
          s.user = o.user;
          s.healthcheck = o.healthcheck;
        }
      df.stages.push_back(std::move(s));
    } else if (kw == "user" && !df.stages.empty()) {
      df.stages.back().user = Instruction{rest, line};
    } else if (kw == "healthcheck" && !df.stages.empty()) {
      std::string v = rest;
      if (lower(std::string(trim(v))) == "none")
        v = "NONE";
      df.stages.back().healthcheck = Instruction{v, line};
    }
  }
  return df;
}

} // namespace bulwark::dockerfile
