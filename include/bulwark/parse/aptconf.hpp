#pragma once
// APT's configuration (apt.conf(5)), read the way apt 2.6 (Debian 12) reads
// it: apt-pkg/contrib/configuration.cc (ReadConfigFile, ReadConfigDir,
// Configuration::Lookup/Set/Clear), strutl.cc (ParseQuoteWord, ParseCWord)
// and fileutl.cc (GetListOfFilesInDir); apt-pkg/init.cc (pkgInitConfig) for
// the order of the files.
//
// The format's real semantics, which a grep for `APT::Periodic` gets wrong:
// - Files: every file of /etc/apt/apt.conf.d in bytewise order of name, THEN
//   /etc/apt/apt.conf (so apt.conf wins over the parts). A part is read only
//   when it is a regular file (a symlink to one counts, to /dev/null does
//   not), its name does not start with '.', has no extension or the
//   extension "conf", and has only [A-Za-z0-9_:.-] characters and no final
//   '.': `50unattended-upgrades.dpkg-old`, `x.disabled`, `a~` are ignored.
// - The configuration is a tree of case-insensitive names (the first
//   spelling is kept); `A::B "v";` and `A { B "v"; };` set the same node;
//   the last assignment wins. `A { "x"; "y"; };` appends unnamed list items,
//   as `A:: "x";` does. A node may have a value and children at once.
// - Lines: tabs become 8 spaces; `//` and `#` start a comment unless an odd
//   number of '"' precedes them on the line; `#clear`, `#include` (and
//   `#x-apt-configure-index`) are directives, not comments; `/* ... */`
//   spans lines and is cut out without a space. Statements end at `;`, `{`
//   or `}` outside quotes and may span lines.
// - A name is one word: '"' quotes and `[...]` may hold spaces, the quotes
//   are removed and `%XX` hex escapes decoded. A value is either a sequence
//   of "quoted strings" separated by blanks (joined by one space, no `%XX`
//   decoding) or, failing that, one such word. Anything after is "Extra junk
//   after value", an error. Words are cut to 1024 bytes as apt's buffers do.
// - `#clear A::B;` empties a subtree; `#include FILE;` (a directory when it
//   ends with '/') reads another file at that point, at most 10 deep;
//   directives are only allowed at the top level.
// - An error stops reading that file (what was set before stays set) and
//   apt, apt-get and unattended-upgrades then refuse to run at all.
// Source: https://salsa.debian.org/apt-team/apt/-/blob/2.6.1/apt-pkg/contrib/configuration.cc
//
// Deliberate differences (hostile input): a file is read up to 4 MiB, braces
// nest at most 64 deep and the tree holds at most 200,000 nodes (each an
// error, where apt would exhaust memory); a NUL byte ends its line (apt's
// line reader then joins the line with the next one); relative #include
// paths are taken from "/" (apt takes them from its working directory).

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>

#include <cstdint>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

namespace bulwark::apt {

struct ConfNode {
  std::string tag;    // as first spelled; "" for a list item
  std::string value;  // "" when never set (or cleared)
  SourceLocation loc; // where the value was last set; path "" when never set
  uint32_t parent = 0;
  std::vector<uint32_t> children;                  // in creation order
  std::unordered_map<std::string, uint32_t> index; // lower-cased tag -> child
};

using ConfDiagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

class AptConfig {
public:
  AptConfig();

  // The node of a `::`-scoped name (case-insensitive), nullptr when absent.
  const ConfNode *find(std::string_view name) const;
  // Its value, "" when absent or empty (Configuration::Find).
  std::string value(std::string_view name) const;
  // The list under a name: its children with a value, in order (what
  // python-apt's value_list returns).
  std::vector<const ConfNode *> list(std::string_view name) const;
  // `A::B::` of a node, as `apt-config dump` prints it.
  std::string full_tag(const ConfNode &n) const;
  // Every node below `root` ("" for all), depth first, as `apt-config dump
  // ROOT` walks them: pairs of full tag and value.
  std::vector<std::pair<std::string, std::string>> dump(std::string_view root = {}) const;

  void set(std::string_view name, std::string value, SourceLocation loc);
  void clear(std::string_view name);

  bool has_errors() const;
  size_t size() const { return m_nodes.size(); }

  std::vector<std::string> files; // read, in order (included files too)
  std::vector<ConfDiagnostic> diagnostics;

  static constexpr size_t k_max_nodes = 200000;

private:
  uint32_t lookup(uint32_t head, std::string_view tag, bool create);
  uint32_t lookup_const(uint32_t head, std::string_view tag) const;
  uint32_t lookup_path(std::string_view name, bool create);
  uint32_t lookup_path_const(std::string_view name) const;

  std::vector<ConfNode> m_nodes; // [0] is the root
};

// Reads `text` (claimed to come from `path`) into `conf` as ReadConfigFile
// does. `fs` (may be null) serves #include; `depth` is the include depth.
// Returns false after an error (recorded in conf.diagnostics).
bool read_apt_conf_text(AptConfig &conf, const std::string &path, std::string_view text,
                        const RootFs *fs = nullptr, unsigned depth = 0);

// Whether apt's directory reader takes a file of that name from
// apt.conf.d (GetListOfFilesInDir with extension "conf", no extension allowed).
bool apt_conf_part_name_ok(std::string_view name);

// The files of a parts directory that apt reads, in order (target paths).
std::vector<std::string> apt_conf_parts(const RootFs &fs, const std::string &dir,
                                        std::vector<ConfDiagnostic> *notes = nullptr);

// The whole configuration of a target: `etc_dir`/apt.conf.d/*, then
// `etc_dir`/apt.conf. Absent files are not errors.
AptConfig load_apt_config(const RootFs &fs, const std::string &etc_dir = "/etc/apt");

} // namespace bulwark::apt
