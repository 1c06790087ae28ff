#pragma once
// One Diagnostic type for every parser: something wrong (or worth saying)
// about the input, with the file and line it is about. A parser that keeps
// going past bad input records it here; whether it decides a check's verdict
// is the check's business (an `error` diagnostic in a file a check depends
// on makes that check report `error`: fail closed).

#include <bulwark/core/finding.hpp>

#include <string>
#include <utility>

namespace bulwark {

struct Diagnostic {
  // error: the input is wrong and the program that reads it would reject or
  // skip it; warning: accepted, but probably not what was meant; info: a
  // note (an obsolete keyword, a deprecated form).
  enum class Level { error, warning, info };
  Level level = Level::error;
  std::string message;
  SourceLocation loc; // line 0: about the file as a whole

  Diagnostic() = default;
  Diagnostic(Level l, std::string m, SourceLocation where)
      : level(l), message(std::move(m)), loc(std::move(where)) {}
  // The same, location first (as the firewall parsers write it).
  Diagnostic(Level l, SourceLocation where, std::string m)
      : level(l), message(std::move(m)), loc(std::move(where)) {}
  // An error (the parsers whose diagnostics are all errors build them so).
  Diagnostic(std::string m, SourceLocation where) : message(std::move(m)), loc(std::move(where)) {}

  bool is_error() const { return level == Level::error; }
};

} // namespace bulwark
