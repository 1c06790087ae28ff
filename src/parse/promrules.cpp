// Prometheus rule files and a PromQL lexer for the metric names an
// expression reads; the header names the semantics followed.

#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/parse/promrules.hpp>

#include <algorithm>
#include <array>

namespace bulwark::prom {

namespace {

struct PromToken {
  enum class Kind { ident, string, number, punct };
  Kind kind = Kind::punct;
  std::string text; // identifiers, punctuation; strings unquoted
};

bool ident_start(char c) {
  return std::isalpha(static_cast<unsigned char>(c)) || c == '_' || c == ':';
}
bool prom_ident_char(char c) {
  return ident_start(c) || std::isdigit(static_cast<unsigned char>(c));
}

// PromQL's lexer (lex.go), reduced to what decides metric names: strings in
// "", '' (backslash escapes) and `` (raw), `#` comments to the end of the
// line, identifiers, numbers and durations (skipped as one token), and
// single-character punctuation (operators need not be told apart).
std::vector<PromToken> tokenize(std::string_view s) {
  std::vector<PromToken> out;
  size_t i = 0;
  while (i < s.size()) {
    char c = s[i];
    if (std::isspace(static_cast<unsigned char>(c))) {
      ++i;
    } else if (c == '#') {
      while (i < s.size() && s[i] != '\n')
        ++i;
    } else if (c == '"' || c == '\'' || c == '`') {
      std::string v;
      size_t j = i + 1;
      for (; j < s.size() && s[j] != c; ++j) {
        if (c != '`' && s[j] == '\\' && j + 1 < s.size())
          ++j;
        v += s[j];
      }
      out.push_back({PromToken::Kind::string, std::move(v)});
      i = j + 1;
    } else if (std::isdigit(static_cast<unsigned char>(c)) ||
               (c == '.' && i + 1 < s.size() &&
                std::isdigit(static_cast<unsigned char>(s[i + 1])))) {
      size_t j = i;
      while (j < s.size() &&
             (std::isalnum(static_cast<unsigned char>(s[j])) || s[j] == '.' || s[j] == '_'))
        ++j;
      out.push_back({PromToken::Kind::number, std::string(s.substr(i, j - i))});
      i = j;
    } else if (ident_start(c)) {
      size_t j = i;
      while (j < s.size() && prom_ident_char(s[j]))
        ++j;
      out.push_back({PromToken::Kind::ident, std::string(s.substr(i, j - i))});
      i = j;
    } else {
      out.push_back({PromToken::Kind::punct, std::string(1, c)});
      ++i;
    }
  }
  return out;
}

bool is_keyword(std::string_view w) {
  static constexpr std::array<std::string_view, 16> k = {
      "by",  "without", "on",     "ignoring", "group_left", "group_right", "bool", "offset",
      "and", "or",      "unless", "atan2",    "start",      "end",         "inf",  "nan"};
  std::string l = text::lower(w);
  return std::find(k.begin(), k.end(), l) != k.end();
}

bool is_grouping(std::string_view w) {
  return w == "by" || w == "without" || w == "on" || w == "ignoring" || w == "group_left" ||
         w == "group_right";
}

bool is_aggregation(std::string_view w) {
  static constexpr std::array<std::string_view, 14> k = {
      "sum",   "min",          "max",     "avg",  "group",    "stddev", "stdvar",
      "count", "count_values", "bottomk", "topk", "quantile", "limitk", "limit_ratio"};
  return std::find(k.begin(), k.end(), w) != k.end();
}

bool is_punct(const std::vector<PromToken> &t, size_t i, char c) {
  return i < t.size() && t[i].kind == PromToken::Kind::punct && t[i].text[0] == c;
}

} // namespace

bool MetricRef::inside(std::string_view fn) const {
  return std::find(functions.begin(), functions.end(), fn) != functions.end();
}

std::vector<MetricRef> metric_refs(std::string_view expr) {
  auto t = tokenize(expr);
  std::vector<MetricRef> out;
  // What each open parenthesis belongs to: a function name, "" for plain
  // grouping of an expression, or "(labels)" for by/without/on lists.
  std::vector<std::string> parens;
  auto functions = [&parens] {
    std::vector<std::string> f;
    for (auto it = parens.rbegin(); it != parens.rend(); ++it)
      if (!it->empty() && *it != "(labels)")
        f.push_back(*it);
    return f;
  };
  bool in_labels = false, in_range = false;
  for (size_t i = 0; i < t.size(); ++i) {
    const PromToken &tok = t[i];
    if (tok.kind == PromToken::Kind::punct) {
      char c = tok.text[0];
      if (c == '[' || c == ']') // a range or subquery: durations, no metric
        in_range = c == '[';
      if (c == '(') {
        std::string owner;
        if (i > 0 && t[i - 1].kind == PromToken::Kind::ident) {
          owner = is_grouping(t[i - 1].text) ? "(labels)" : t[i - 1].text;
        }
        parens.push_back(owner);
      } else if (c == ')' && !parens.empty()) {
        parens.pop_back();
      } else if (c == '{') {
        in_labels = true;
      } else if (c == '}') {
        in_labels = false;
      }
      continue;
    }
    if (tok.kind != PromToken::Kind::ident || in_range)
      continue;
    if (in_labels) {
      // {__name__="metric"} selects by name.
      if (tok.text == "__name__" && is_punct(t, i + 1, '=') && !is_punct(t, i + 2, '~') &&
          i + 2 < t.size() && t[i + 2].kind == PromToken::Kind::string)
        out.push_back({t[i + 2].text, functions()});
      continue;
    }
    if (!parens.empty() && parens.back() == "(labels)")
      continue;
    if (is_keyword(tok.text))
      continue;
    if (is_punct(t, i + 1, '('))
      continue; // a function or aggregation call
    if (is_aggregation(tok.text) && i + 1 < t.size() && t[i + 1].kind == PromToken::Kind::ident &&
        is_grouping(t[i + 1].text))
      continue; // sum by (job) (...)
    out.push_back({tok.text, functions()});
  }
  return out;
}

RuleFile parse_rule_file_text(const std::string &path, std::string_view text) {
  RuleFile out;
  out.path = path;
  auto doc = yaml::parse(text, path);
  if (!doc) {
    out.diagnostics.push_back({doc.error().message, {path, doc.error().line}});
    return out;
  }
  if (doc->kind == yaml::Node::Kind::null)
    return out; // an empty file is valid: no groups
  const yaml::Node *groups = doc->is_mapping() ? doc->find("groups") : nullptr;
  if (groups == nullptr || !groups->is_sequence()) {
    out.diagnostics.push_back({"not a rule file: no `groups:` list", {path, doc->line}});
    return out;
  }
  for (const auto &g : groups->items) {
    const yaml::Node *rules = g.is_mapping() ? g.find("rules") : nullptr;
    if (rules == nullptr)
      continue;
    if (!rules->is_sequence()) {
      out.diagnostics.push_back({"`rules:` is not a list", {path, rules->line}});
      continue;
    }
    const yaml::Node *gname = g.find("name");
    for (const auto &r : rules->items) {
      if (!r.is_mapping())
        continue;
      const yaml::Node *alert = r.find("alert");
      const yaml::Node *record = r.find("record");
      const yaml::Node *expr = r.find("expr");
      const yaml::Node *name = alert ? alert : record;
      if (name == nullptr || !name->is_scalar() || expr == nullptr || !expr->is_scalar()) {
        out.diagnostics.push_back(
            {"a rule needs `alert:` or `record:` and `expr:`", {path, r.line}});
        continue;
      }
      Rule rule;
      rule.kind = alert ? Rule::Kind::alert : Rule::Kind::record;
      rule.name = name->scalar;
      rule.expr = expr->scalar;
      rule.group = gname && gname->is_scalar() ? gname->scalar : "";
      rule.loc = {path, name->line};
      out.rules.push_back(std::move(rule));
    }
  }
  return out;
}

Result<std::vector<Pattern>> parse_rule_files_setting(const std::string &path,
                                                      std::string_view text) {
  yaml::Node doc = TRY(yaml::parse(text, path));
  std::vector<Pattern> out;
  const yaml::Node *rf = doc.is_mapping() ? doc.find("rule_files") : nullptr;
  if (rf == nullptr || !rf->is_sequence())
    return out;
  for (const auto &item : rf->items)
    if (item.is_scalar() && !item.scalar.empty())
      out.push_back({item.scalar, item.line});
  return out;
}

} // namespace bulwark::prom
