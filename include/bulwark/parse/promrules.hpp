#pragma once
// Prometheus alerting: which rule files the server loads (prometheus.yml's
// `rule_files`, globs relative to the configuration file's directory, as
// Prometheus 2.x resolves them), the rules in them (`groups: [{name, rules:
// [{alert|record, expr, ...}]}]`, YAML) and which metrics an expression
// reads (a PromQL lexer: a metric named inside a string, a comment, a label
// matcher or a `by (...)` grouping is not read; a function call is not a
// metric).
// Sources: https://prometheus.io/docs/prometheus/latest/configuration/alerting_rules/
// and promql/parser/lex.go of Prometheus 2.45.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::prom {

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Rule {
  enum class Kind { alert, record };
  Kind kind = Kind::alert;
  std::string name; // the alert or record name
  std::string expr;
  std::string group;
  SourceLocation loc; // the `alert:` / `record:` line
};

struct RuleFile {
  std::string path;
  std::vector<Rule> rules;
  std::vector<Diagnostic> diagnostics;
};

RuleFile parse_rule_file_text(const std::string &path, std::string_view text);

struct Pattern {
  std::string pattern; // as written
  int line = 0;
};

// `rule_files` of a prometheus.yml; an Error when the YAML is invalid.
Result<std::vector<Pattern>> parse_rule_files_setting(const std::string &path,
                                                      std::string_view text);

// One metric selector in an expression and the functions around it,
// innermost first ("rate", "sum").
struct MetricRef {
  std::string name;
  std::vector<std::string> functions;
  bool inside(std::string_view fn) const;
};

// The metric selectors an expression reads. Never fails: what the lexer does
// not understand is skipped, as it cannot name a metric.
std::vector<MetricRef> metric_refs(std::string_view expr);

} // namespace bulwark::prom
