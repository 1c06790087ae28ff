#pragma once
// `.env` files as Docker Compose v2 reads them (compose-go v2, package
// dotenv, parser.go): the project `.env`, `--env-file` and `env_file:`.
//
// The format's real semantics, which a line-by-line `KEY=VALUE` split gets
// wrong:
// - Statements, not lines. Whitespace (newlines included) and `#` comment
//   lines between statements are skipped. A statement is an optional
//   `export` + whitespace, a key, then `=` (or `:`, a YAML-ish form compose
//   accepts), or a newline (a bare `KEY`: inherited from the environment).
// - A key is letters, digits, `_`, `.`, `-`, `[`, `]`; spaces and tabs
//   inside it are skipped while scanning, but a key that still contains a
//   space after trimming is an error, as is any other character.
// - After `=`, blanks are skipped. A value starting with `'` or `"` runs to
//   the matching unescaped quote, across newlines (multi-line values). A
//   backslash before the quote character drops the backslash; before
//   anything else it is kept. Double-quoted values then decode \a \b \f \n
//   \r \t \v \" \\ and \0NNN (octal), and turn \$ into $$ (compose's escape
//   for a literal dollar). Single-quoted values are literal. Whatever
//   follows the closing quote on the same line is the next statement (or a
//   comment).
// - An unquoted value runs to the end of the line, is cut at the first
//   " #" (space, hash: `a#b` keeps its hash) and right-trimmed.
// - Interpolation ($VAR, ${VAR:-default}, $$) happens in unquoted and
//   double-quoted values; this parser leaves it as written (a check needs to
//   know that a value *is* a reference, not what it resolves to).
// - The last assignment of a key wins.
// compose-go aborts the whole file at the first error; an auditor must still
// see the other lines, so here an error becomes a diagnostic with its line
// and parsing resumes at the next line. Docker Compose 1.29 (Debian's
// docker-compose, python-dotenv 0.21) differs in documented ways, listed in
// tests/parse/dotenv_test.cpp next to the differential test.
// Diagnostics never quote a value: .env files hold secrets.
// Source: https://github.com/compose-spec/compose-go/blob/main/dotenv/parser.go

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::dotenv {

inline constexpr size_t k_max_dotenv_bytes = 16 * 1024 * 1024;

enum class Quoting { none, single, double_ };

struct Entry {
  std::string key;
  // After quote removal and escape decoding; interpolation as written.
  std::string value;
  Quoting quoting = Quoting::none;
  bool exported = false;
  bool has_value = true; // false for a bare `KEY` (inherited)
  SourceLocation loc;    // the line of the key
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct DotenvFile {
  std::string path;
  std::vector<Entry> entries; // in file order, repeated keys kept
  std::vector<Diagnostic> diagnostics;

  // The assignment that wins (the last one with a value); nullptr if none.
  const Entry *find(std::string_view key) const;
};

DotenvFile parse_dotenv_text(const std::string &path, std::string_view text);

// Reads `path` inside the target. Errors: absent, not a regular file (a
// FIFO is refused, never opened for a blocking read), over max_bytes.
Result<DotenvFile> parse_dotenv(const RootFs &fs, const std::string &path,
                                size_t max_bytes = k_max_dotenv_bytes);

// True when the value refers to another variable ($NAME or ${...}), which
// compose substitutes; `$$` is a literal dollar and does not count.
bool has_interpolation(std::string_view value);

} // namespace bulwark::dotenv
