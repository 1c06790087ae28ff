#pragma once
// Log shipping agents other than rsyslog, found by their Debian/vendor
// package configuration paths, each reduced to "where does it send":
// - promtail: /etc/promtail/config.yml (clients[].url)
// - fluent-bit: /etc/fluent-bit/fluent-bit.conf ([OUTPUT] sections whose
//   Name is not stdout/null/file/counter/exit) or fluent-bit.yaml
//   (pipeline.outputs[].name)
// - filebeat: /etc/filebeat/filebeat.yml (output.<type>.hosts, either as
//   the dotted key or nested; cloud.id)
// - vector: /etc/vector/vector.yaml|.yml|.toml (sinks whose type is not
//   console/file/blackhole)
// - Wazuh / OSSEC agent: /var/ossec/etc/ossec.conf
//   (<client><server><address>, outside <!-- --> comments)
// - systemd-journal-upload: /etc/systemd/journal-upload.conf [Upload] URL=
//   (drop-ins included), and whether the service is enabled.
// Each finding keeps the file and line of its destination.

#include <bulwark/core/finding.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/systemd_units.hpp>

#include <string>
#include <vector>

namespace bulwark::shippers {

struct Destination {
  std::string agent;  // "promtail", "fluent-bit", ...
  std::string target; // URL or host
  SourceLocation loc;
};

struct Unconfigured {
  std::string agent;
  std::string why; // "no clients", "only stdout outputs", ...
  SourceLocation loc;
};

struct ShipperModel {
  std::vector<Destination> destinations;
  std::vector<Unconfigured> unconfigured; // configuration present, no destination
};

// Text-only parsers (tests, fuzzing).
void parse_fluent_bit_classic(const std::string &path, std::string_view text, ShipperModel &out);
void parse_ossec_conf(const std::string &path, std::string_view text, ShipperModel &out);
void parse_vector_toml(const std::string &path, std::string_view text, ShipperModel &out);
void parse_yaml_agent(const std::string &agent, const std::string &path, std::string_view text,
                      ShipperModel &out);

// `units` answers whether systemd-journal-upload.service is enabled.
ShipperModel load_shippers(const RootFs &fs, const systemd::UnitFiles &units);

} // namespace bulwark::shippers
