#pragma once
// nginx's configuration (nginx 1.22, Debian 12), read as nginx reads it.
//
// - Tokens (ngx_conf_read_token): words split at blanks, `;` ends a
//   directive, `{` opens a block, `}` closes one and must stand alone; `#`
//   at the start of a word comments out the rest of the line; a word may be
//   quoted with " or ' (after the closing quote only a blank, `;` or `{` may
//   follow); a backslash keeps the next character in the word, and `\"`,
//   `\'`, `\\`, `\t`, `\r`, `\n` are then unescaped.
// - `include FILE|GLOB;` is read in place, in any context; a relative path
//   is taken from the configuration prefix (/etc/nginx); glob matches are
//   read in sorted order and a glob matching nothing is not an error. nginx
//   itself has no bound on nesting (a loop ends in "too many open files");
//   here nesting stops at 16 and the total at 1024 files, with an error.
// - Blocks must balance within each file.
// Source: https://github.com/nginx/nginx/blob/release-1.22.1/src/core/ngx_conf_file.c

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/confnode.hpp>
#include <bulwark/parse/tls_endpoint.hpp>

#include <map>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

namespace bulwark::nginx {

inline constexpr int k_max_include_depth = 16;
inline constexpr int k_max_files = 1024;
inline constexpr int k_max_block_depth = 256;

// One file's text, without following includes (the fuzz entry point).
ConfTree parse_text(std::string_view text, const std::string &path);

// The whole configuration from `main` inside the root. Absent main file:
// present == false. Unreadable files and syntax errors become diagnostics.
ConfTree load(const RootFs &fs, const std::string &main = "/etc/nginx/nginx.conf");

// The files an nginx inside a container sees (compose services): a path
// resolves to the bind mount whose target is that path or the nearest
// directory above it (the host file, read through the RootFs), else to a
// file the image ships or its entrypoint generates (`files`), else to
// nothing. A mount hides the image's files below its target, as the
// kernel's mount does.
struct ContainerView {
  struct File {
    std::string text;
    // The path its lines are reported under; "" for a file of the image,
    // whose nodes and diagnostics are reported at `image_loc` instead.
    std::string shown_as;
  };
  std::map<std::string, File> files;                       // by container path
  std::vector<std::pair<std::string, std::string>> mounts; // container target, host path
  SourceLocation image_loc;                                // the compose `image:` line

  // The host path of a container path that a bind mount provides.
  std::optional<std::string> host_path(const std::string &container_path) const;
  // The image's (or generated) file at the path, when no mount hides it.
  const File *image_file(const std::string &container_path) const;
};

// The configuration an nginx in a container reads from `main` (a container
// path). Includes are container paths too; a glob matches the image's files,
// the bind-mounted files and the files of bind-mounted directories. A file
// that neither the image nor a mount provides is a diagnostic (nginx -t
// fails on it), so are unreadable mounted files. Limit: a wildcard in a
// directory component above a mount's target (/etc/nginx/*/x.conf) does
// not reach into the mounted directory.
ConfTree load_in_container(const RootFs &fs, const ContainerView &view,
                           const std::string &main = "/etc/nginx/nginx.conf");

// ssl_protocols' compiled-in default by nginx version: TLSv1.3 joined and
// TLSv1/TLSv1.1 left the default in 1.23.4 (CHANGES: "the default value of
// the ssl_protocols directive was changed").
inline constexpr std::string_view k_default_protocols_before_1_23_4 = "TLSv1 TLSv1.1 TLSv1.2";
inline constexpr std::string_view k_default_protocols_since_1_23_4 = "TLSv1.2 TLSv1.3";

// The http and stream servers with their effective TLS settings after
// http -> server -> location inheritance (nginx 1.22 defaults where unset:
// ssl_protocols "TLSv1 TLSv1.1 TLSv1.2" (TLSv1.3 joined the default only in
// 1.23.4; a live probe of Debian's 1.22.1 confirms it), ssl_ciphers
// "HIGH:!aNULL:!MD5", ssl_prefer_server_ciphers off).
std::vector<TlsEndpoint>
endpoints(const ConfTree &tree,
          std::string_view default_protocols = k_default_protocols_before_1_23_4);

} // namespace bulwark::nginx
