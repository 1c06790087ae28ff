#pragma once
// rsyslog's configuration (rsyslog 8.2302, Debian 12), read far enough to
// know where messages go: forwarding actions (off the host) and file
// actions (which file gets auth and system messages).
//
// The format mixes three syntaxes in one file (rsyslog's grammar.y/lexer.l):
// - legacy `$Directive value` lines; `$IncludeConfig PATH|GLOB` reads the
//   matching files (a directory: its files) right there;
// - sysklogd selector lines `facility[,facility].priority[;...]  ACTION`,
//   with `& ACTION` repeating the previous selector; ACTION `@host[:port]`
//   (UDP), `@@host` (TCP), `@(o,z9)host`, `:omrelp:host:port`, a file
//   (`/path`, `-/path`), or a RainerScript `action(...)`;
// - RainerScript objects `name(param="value" ...)` (strings in '' or "",
//   backslash escapes, `#` and `/* */` comments), `ruleset(name=...) {...}`
//   blocks, `if ... then ...` statements; `include(file="GLOB")` reads files
//   like $IncludeConfig (mode="optional" tolerates a missing file).
// A forward inside a named ruleset only sees the messages of the inputs
// bound to it; the model records the ruleset.
// Sources: https://github.com/rsyslog/rsyslog/blob/v8.2302.0/grammar/lexer.l,
// rsyslog.conf(5), rsyslog docs "include()", "omfwd", "$IncludeConfig".

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>

#include <string>
#include <utility>
#include <vector>

namespace bulwark::rsyslog {

struct Forward {
  std::string type;     // "@" (udp), "@@" (tcp), "omfwd", "omrelp", "omelasticsearch", ...
  std::string target;   // host (and port) it sends to
  std::string selector; // legacy selector, "" for an `if` or unknown filter
  std::string ruleset;  // "" for the default ruleset
  SourceLocation loc;
  // Transport security: omfwd's StreamDriver / StreamDriverMode (legacy
  // $ActionSendStreamDriver / $ActionSendStreamDriverMode in force at the
  // action), omrelp's tls, omelasticsearch/omhttp's usehttps; "" when unset.
  std::string stream_driver, stream_driver_mode, tls_param;
};

struct FileAction {
  std::string selector; // "auth,authpriv.*"
  std::string path;     // "/var/log/auth.log"
  SourceLocation loc;
};

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct Config {
  bool present = false; // the main file exists
  std::vector<std::string> files;
  std::vector<Forward> forwards;
  std::vector<FileAction> file_actions;
  // global(DefaultNetstreamDriver=...) or $DefaultNetstreamDriver, wherever
  // it is written (it is global); "" when unset (ptcp, plain text).
  std::string default_netstream_driver;
  SourceLocation default_netstream_driver_loc;
  std::vector<Diagnostic> diagnostics;
};

// Reads `main` and what it includes (nesting limited to 16).
Config load_rsyslog(const RootFs &fs, const std::string &main = "/etc/rsyslog.conf");
// One file's text, includes recorded as diagnostics only (fuzzing, tests).
Config parse_rsyslog_text(const std::string &path, std::string_view text);

// Whether a legacy selector ("auth,authpriv.*", "*.*;auth,authpriv.none")
// takes messages of `facility` at some priority.
bool selector_takes(std::string_view selector, std::string_view facility);

// Whether a forward is sent over TLS as rsyslog 8.2302 would send it: omfwd
// and @@ with the gtls or ossl driver in mode 1 (TLS; mode 0 is plain
// text), :omrelp:/omrelp with tls="on", HTTP outputs with usehttps="on" or
// an https:// server. UDP (@) never is.
bool uses_tls(const Config &cfg, const Forward &f);

} // namespace bulwark::rsyslog
