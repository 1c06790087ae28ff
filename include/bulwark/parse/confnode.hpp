#pragma once
// A directive tree with source locations, shared by the block-structured web
// server configurations (nginx, Apache): a directive is a name with
// arguments, optionally opening a block of child directives. Includes are
// spliced in place, so each node keeps the file and line it came from.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>

#include <string>
#include <vector>

namespace bulwark {

struct ConfNode {
  std::string name; // as written (nginx: case-sensitive; Apache: compare case-insensitively)
  std::vector<std::string> args;
  SourceLocation loc;
  bool block = false; // `name args { ... }` / `<Name args> ... </Name>`
  std::vector<ConfNode> children;
};

using ConfDiagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

// A whole configuration as its daemon would read it at start.
struct ConfTree {
  bool present = false;  // the main file exists
  std::string main_path; // /etc/nginx/nginx.conf, /etc/apache2/apache2.conf
  std::vector<ConfNode> nodes;
  std::vector<ConfDiagnostic> diagnostics; // errors with file and line; parsing goes on
  std::vector<std::string> files;          // every file read, in reading order
};

} // namespace bulwark
