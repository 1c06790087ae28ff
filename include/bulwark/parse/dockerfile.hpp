#pragma once
// The parts of a Dockerfile that container checks read: the stages (FROM),
// their USER and HEALTHCHECK, as BuildKit's frontend reads them
// (moby/buildkit frontend/dockerfile/parser and instructions): a `#` line
// is a comment (parser directives such as `# escape=` at the top), the
// escape character (`\` by default) at the end of a line continues the
// instruction, instructions are case-insensitive, `FROM [--platform=..]
// image [AS name]`, ARG defaults before the first FROM substitute into FROM
// (`$V`, `${V}`, `${V:-d}`), a stage FROM an earlier stage inherits its
// USER and HEALTHCHECK, here-documents of RUN/COPY/ADD (`<<EOF`, `<<-EOF`,
// quoted delimiters, several per instruction) are skipped as data, and
// ONBUILD instructions do not apply to the image they are written in.

#include <bulwark/core/finding.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::dockerfile {

struct Instruction {
  std::string value;
  int line = 0;
};

struct Stage {
  std::string image;               // as written after substitution ("alpine:3.19", "builder")
  std::string name;                // AS name, lower case
  int line = 0;                    // the FROM line
  std::optional<Instruction> user; // the last USER (inherited through stages)
  std::optional<Instruction> healthcheck; // the last HEALTHCHECK: "NONE" or the command
};

struct Dockerfile {
  std::string path;
  std::vector<Stage> stages; // in order; the last one is the image
  const Stage *final_stage() const { return stages.empty() ? nullptr : &stages.back(); }
  // The external base of the final stage (following FROM <stage> chains).
  const Stage *base_of_final() const;
};

Dockerfile parse_dockerfile(const std::string &path, std::string_view text);

} // namespace bulwark::dockerfile
