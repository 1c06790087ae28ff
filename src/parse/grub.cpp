#include <bulwark/parse/grub.hpp>

#include <bulwark/core/text.hpp>

#include <algorithm>
#include <cctype>
#include <optional>

namespace bulwark::grub {

namespace {

bool grub_name_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_';
}

} // namespace

std::string DefaultGrub::cmdline() const {
  auto get = [this](const char *k) {
    auto it = vars.find(k);
    return it == vars.end() ? std::string() : it->second.value;
  };
  return get("GRUB_CMDLINE_LINUX") + " " + get("GRUB_CMDLINE_LINUX_DEFAULT");
}

void parse_default_grub(std::string_view text, const std::string &path, DefaultGrub &g) {
  int line_no = 0;
  auto lookup = [&g](std::string_view name) {
    auto it = g.vars.find(std::string(name));
    return it == g.vars.end() ? std::string() : it->second.value;
  };
  for (const std::string &raw : text::split(text, '\n', true)) {
    ++line_no;
    std::string_view line = text::trim(raw);
    if (line.starts_with("export "))
      line = text::trim(line.substr(7));
    size_t eq = line.find('=');
    if (eq == std::string_view::npos || line.starts_with("#"))
      continue;
    std::string_view name = line.substr(0, eq);
    if (name.empty() || std::isdigit(static_cast<unsigned char>(name[0])) ||
        !std::all_of(name.begin(), name.end(), grub_name_char))
      continue; // not an assignment: a command the shell would run
    std::string_view v = line.substr(eq + 1);
    std::string out;
    char quote = 0;
    bool broken = false;
    for (size_t i = 0; i < v.size(); ++i) {
      char c = v[i];
      if (quote == '\'') {
        if (c == '\'')
          quote = 0;
        else
          out += c;
      } else if (c == '\'' && !quote) {
        quote = '\'';
      } else if (c == '"') {
        quote = quote == '"' ? 0 : '"';
      } else if (c == '\\' && i + 1 < v.size() &&
                 (!quote || std::string_view("$`\"\\").find(v[i + 1]) != std::string_view::npos)) {
        out += v[++i]; // inside double quotes only these are escapes
      } else if (c == '$' && i + 1 < v.size() && (v[i + 1] == '{' || grub_name_char(v[i + 1]))) {
        size_t s = i + 1;
        if (v[s] == '{') {
          size_t e = v.find('}', s);
          if (e == std::string_view::npos) {
            broken = true;
            break;
          }
          out += lookup(v.substr(s + 1, e - s - 1));
          i = e;
        } else {
          size_t e = s;
          while (e < v.size() && grub_name_char(v[e]))
            ++e;
          out += lookup(v.substr(s, e - s));
          i = e - 1;
        }
      } else if (!quote && (c == ' ' || c == '\t')) {
        break; // the value ends; a comment or a command follows
      } else {
        out += c;
      }
    }
    if (broken || quote) {
      g.diagnostics.push_back(Error{std::string(broken ? "${ without }" : "unclosed quote") +
                                        " in the value of " + std::string(name),
                                    path, line_no});
      continue;
    }
    g.vars[std::string(name)] = Assignment{std::move(out), {path, line_no}};
  }
}

DefaultGrub load_default_grub(const RootFs &fs) {
  DefaultGrub g;
  std::vector<std::string> files = {"/etc/default/grub"};
  if (auto more = fs.glob("/etc/default/grub.d/*.cfg"))
    files.insert(files.end(), more->begin(), more->end());
  for (const std::string &f : files) {
    auto text = fs.read_file(f, 1024 * 1024);
    if (!text) {
      if (!text.error().not_found())
        g.read_errors.push_back(text.error());
      continue;
    }
    g.files.push_back(f);
    parse_default_grub(*text, f, g);
  }
  return g;
}

std::optional<std::string> cmdline_param(const std::string &cmdline, const std::string &key) {
  std::optional<std::string> out;
  for (const std::string &w : text::split(cmdline, ' '))
    if (w.starts_with(key + "="))
      out = w.substr(key.size() + 1);
  return out;
}

} // namespace bulwark::grub
