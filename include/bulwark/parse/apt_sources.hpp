#pragma once
// apt's package sources on Debian 12 (apt 2.6), read as apt's
// sourcelist.cc reads them:
// - /etc/apt/sources.list and /etc/apt/sources.list.d/*.list: one-line
//   format `deb|deb-src [opt=val ...] URI SUITE [COMPONENT...]`, `#`
//   starting a comment anywhere outside the [options];
// - /etc/apt/sources.list.d/*.sources: deb822 stanzas (Types, URIs,
//   Suites, Components, Enabled: no), blank lines between stanzas, `#`
//   comment lines, continuation lines starting with a blank;
// - file names in sources.list.d: [A-Za-z0-9_.-]+ with the extension, as
//   apt's RunScripts/GetListOfFilesInDir keeps them; others are ignored.
// Each entry keeps the line of its suite. Source:
// https://salsa.debian.org/apt-team/apt/-/blob/2.6.1/apt-pkg/sourcelist.cc,
// sources.list(5).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::apt {

struct SourceEntry {
  std::string type;  // "deb" or "deb-src"
  std::string uri;   // "http://deb.debian.org/debian-security"
  std::string suite; // "bookworm-security"
  std::vector<std::string> components;
  SourceLocation loc; // the line of the suite (one-line: the entry's line)
};

struct Sources {
  std::vector<std::string> files;
  std::vector<SourceEntry> entries; // enabled entries only
  std::vector<Diagnostic> diagnostics;
};

void parse_sources_list_text(const std::string &path, std::string_view text, Sources &out);
void parse_deb822_sources_text(const std::string &path, std::string_view text, Sources &out);
// Every source file of the target (`etc_dir` is /etc/apt). Never fails:
// unreadable files are error diagnostics (only ENOENT is absence).
Sources load_sources(const RootFs &fs, const std::string &etc_dir = "/etc/apt");

} // namespace bulwark::apt
