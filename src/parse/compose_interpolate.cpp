// Compose's variable substitution (compose-go v2, template/template.go; the
// compose specification's interpolation.md). A `$` starts a substitution:
// `$$` is a literal dollar, `$NAME` and `${NAME}` the variable, and inside
// braces an operator may follow the name: `:-` / `-` (default when unset or
// empty / unset), `:?` / `?` (error), `:+` / `+` (alternative when set).
// The word after an operator is itself interpolated, so defaults nest.
// A `$` followed by anything else (`$1`, `$(`, `$!`, a `$` at the end) is a
// literal `$` in current Compose v2: compose-go's pattern puts its `invalid`
// group inside the braces, so only a bad `${...}` is an error. Docker
// Compose 1.29 rejected those too; we follow the newest (issue 15: traefik
// rules and shell commands in 19 real projects use them).

#include <bulwark/parse/compose.hpp>

#include <cstdint>

namespace bulwark::compose {

namespace {

bool name_start(char c) {
  return c == '_' || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
}
bool interpolate_name_char(char c) {
  return name_start(c) || (c >= '0' && c <= '9');
}

constexpr int k_interpolate_max_nesting = 32;

Error too_long(size_t max_bytes) {
  return Error{"variable substitution produces more than " + std::to_string(max_bytes) +
               " bytes (the work budget of the project's interpolation is spent)"};
}

Result<std::string> expand(std::string_view t, const std::map<std::string, std::string> &vars,
                           std::vector<std::string> *unset, int depth, size_t max_bytes) {
  if (depth > k_interpolate_max_nesting)
    return Error{"variable substitution nested too deeply"};
  if (t.size() > max_bytes)
    return too_long(max_bytes);
  std::string out;
  out.reserve(t.size());
  size_t i = 0;
  while (i < t.size()) {
    size_t d = t.find('$', i);
    if (d == std::string_view::npos) {
      out.append(t.substr(i));
      break;
    }
    out.append(t.substr(i, d - i));
    if (d + 1 >= t.size()) {
      out += '$'; // a `$` at the end is itself
      break;
    }
    char n = t[d + 1];
    if (n == '$') {
      out += '$';
      i = d + 2;
      continue;
    }
    auto lookup = [&](const std::string &name) -> const std::string * {
      auto it = vars.find(name);
      return it == vars.end() ? nullptr : &it->second;
    };
    if (name_start(n)) {
      size_t e = d + 1;
      while (e < t.size() && interpolate_name_char(t[e]))
        ++e;
      std::string name(t.substr(d + 1, e - d - 1));
      if (const std::string *v = lookup(name)) {
        if (out.size() + v->size() > max_bytes)
          return too_long(max_bytes);
        out += *v;
      } else if (unset) {
        unset->push_back(name);
      }
      i = e;
      continue;
    }
    if (n != '{') {
      out += '$'; // `$1`, `$(`: no substitution starts here
      i = d + 1;
      continue;
    }
    // The closing brace, skipping nested ${...} in the word.
    size_t e = d + 2;
    int level = 1;
    while (e < t.size()) {
      if (t[e] == '$' && e + 1 < t.size() && t[e + 1] == '{') {
        ++level;
        e += 2;
        continue;
      }
      if (t[e] == '$' && e + 1 < t.size() && t[e + 1] == '$') {
        e += 2;
        continue;
      }
      if (t[e] == '}' && --level == 0)
        break;
      ++e;
    }
    if (e >= t.size())
      return Error{"invalid interpolation format: '${' without '}'"};
    std::string_view body = t.substr(d + 2, e - d - 2);
    i = e + 1;
    size_t k = 0;
    while (k < body.size() && interpolate_name_char(body[k]))
      ++k;
    std::string name(body.substr(0, k));
    if (name.empty() || !name_start(name[0]))
      return Error{"invalid interpolation format: '${" + std::string(body.substr(0, 40)) + "}'"};
    std::string_view rest = body.substr(k);
    const std::string *v = lookup(name);
    if (out.size() + (v ? v->size() : 0) > max_bytes)
      return too_long(max_bytes);
    if (rest.empty()) {
      if (v)
        out += *v;
      else if (unset)
        unset->push_back(name);
      continue;
    }
    bool colon = rest[0] == ':';
    if (colon)
      rest.remove_prefix(1);
    if (rest.empty())
      return Error{"invalid interpolation format: '${" + std::string(body.substr(0, 40)) + "}'"};
    char op = rest[0];
    std::string_view word = rest.substr(1);
    bool is_set = v != nullptr;
    bool is_set_nonempty = v != nullptr && !v->empty();
    bool present = colon ? is_set_nonempty : is_set;
    switch (op) {
    case '-':
      if (present)
        out += *v;
      else
        out += TRY(expand(word, vars, unset, depth + 1, max_bytes));
      break;
    case '?':
      if (!present) {
        std::string msg = TRY(expand(word, vars, unset, depth + 1, max_bytes));
        return Error{"required variable " + name + " is missing a value" +
                     (msg.empty() ? std::string() : ": " + msg)};
      }
      out += *v;
      break;
    case '+':
      if (present)
        out += TRY(expand(word, vars, unset, depth + 1, max_bytes));
      break;
    default:
      return Error{"invalid interpolation format: '${" + std::string(body.substr(0, 40)) + "}'"};
    }
    if (out.size() > max_bytes)
      return too_long(max_bytes);
  }
  return out;
}

} // namespace

Result<std::string> interpolate(std::string_view text,
                                const std::map<std::string, std::string> &vars,
                                std::vector<std::string> *unset) {
  return expand(text, vars, unset, 0, SIZE_MAX);
}

Result<std::string> interpolate(std::string_view text,
                                const std::map<std::string, std::string> &vars,
                                std::vector<std::string> *unset, size_t max_bytes) {
  return expand(text, vars, unset, 0, max_bytes);
}

} // namespace bulwark::compose
