#pragma once
// /etc/docker/daemon.json, the Docker Engine's configuration file (dockerd
// 24, daemon/config/config.go: getConflictFreeConfiguration; documented in
// https://docs.docker.com/reference/cli/dockerd/#daemon-configuration-file).
//
// One JSON object whose keys are dockerd's long option names ("icc",
// "no-new-privileges", "log-opts", ...). dockerd refuses to start when the
// file is not a JSON object, so such a file is an error here too, with the
// line where the JSON stops making sense. A key given twice takes its last
// value (Go's encoding/json into a map, and nlohmann::json, agree). Unknown
// keys are kept: dockerd refuses them, but judging option names is the
// checks' business.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <nlohmann/json.hpp>

#include <map>
#include <string>
#include <string_view>

namespace bulwark::docker {

inline constexpr const char *k_daemon_json = "/etc/docker/daemon.json";

struct DaemonConfig {
  std::string path;
  nlohmann::json options = nlohmann::json::object();
  std::map<std::string, int> key_lines; // top-level key -> line of its last occurrence
  // The line of a top-level key, 0 when absent.
  int line_of(const std::string &key) const;
};

// Error (path, line) when the text is not one JSON object.
Result<DaemonConfig> parse_daemon_json(std::string_view text, const std::string &path);

// Error not_found() when the file is absent.
Result<DaemonConfig> load_daemon_json(const RootFs &fs, const std::string &path = k_daemon_json);

} // namespace bulwark::docker
