// Log shipping agents: where each one sends; see
// include/bulwark/parse/log_shippers.hpp. The formats are the agents' own
// documented ones (promtail "Configuration", fluent-bit "classic mode" and
// YAML, filebeat "Configure the output", vector "Configuration", Wazuh
// "ossec.conf client"), read far enough to find a destination.

#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/parse/journald.hpp>
#include <bulwark/parse/log_shippers.hpp>

#include <algorithm>
#include <optional>

namespace bulwark::shippers {

namespace {

constexpr size_t k_log_shippers_max_bytes = 16 * 1024 * 1024;

bool local_sink(std::string t) {
  t = text::lower(t);
  return t == "stdout" || t == "null" || t == "file" || t == "counter" || t == "exit" ||
         t == "console" || t == "blackhole";
}

std::string_view strip_quotes(std::string_view v) {
  v = text::trim(v);
  if (v.size() >= 2 && (v.front() == '"' || v.front() == '\'') && v.back() == v.front())
    v = v.substr(1, v.size() - 2);
  return v;
}

const yaml::Node *path_find(const yaml::Node &n, std::initializer_list<std::string_view> keys) {
  const yaml::Node *cur = &n;
  for (auto k : keys) {
    if (!cur->is_mapping())
      return nullptr;
    cur = cur->find(k);
    if (cur == nullptr)
      return nullptr;
  }
  return cur;
}

std::string first_scalar(const yaml::Node &n) {
  if (n.is_scalar())
    return n.scalar;
  if (n.is_sequence())
    for (const auto &i : n.items)
      if (i.is_scalar() && !i.scalar.empty())
        return i.scalar;
  return {};
}

void promtail(const std::string &path, const yaml::Node &root, ShipperModel &out) {
  const yaml::Node *clients = path_find(root, {"clients"});
  bool any = false;
  if (clients && clients->is_sequence())
    for (const auto &c : clients->items)
      if (const yaml::Node *url = path_find(c, {"url"});
          url && url->is_scalar() && !url->scalar.empty()) {
        out.destinations.push_back({"promtail", url->scalar, {path, url->line}});
        any = true;
      }
  if (const yaml::Node *client = path_find(root, {"client", "url"});
      client && client->is_scalar()) {
    out.destinations.push_back({"promtail", client->scalar, {path, client->line}});
    any = true;
  }
  if (!any)
    out.unconfigured.push_back({"promtail", "no clients[].url", {path, 0}});
}

void filebeat(const std::string &path, const yaml::Node &root, ShipperModel &out) {
  bool any = false;
  if (const yaml::Node *cloud = path_find(root, {"cloud.id"}); cloud && cloud->is_scalar()) {
    out.destinations.push_back({"filebeat", "Elastic Cloud " + cloud->scalar, {path, cloud->line}});
    any = true;
  }
  auto output = [&](const std::string &type, const yaml::Node &o) {
    if (local_sink(type) || !o.is_mapping())
      return;
    if (const yaml::Node *enabled = o.find("enabled");
        enabled && enabled->is_scalar() && text::lower(enabled->scalar) == "false")
      return;
    for (const char *k : {"hosts", "host", "url"})
      if (const yaml::Node *h = o.find(k)) {
        std::string t = first_scalar(*h);
        if (!t.empty()) {
          out.destinations.push_back({"filebeat", type + " " + t, {path, h->line}});
          any = true;
          return;
        }
      }
  };
  if (root.is_mapping())
    for (const auto &[k, v] : root.entries) {
      if (k.starts_with("output."))
        output(k.substr(7), v);
      else if (k == "output" && v.is_mapping())
        for (const auto &[t, o] : v.entries)
          output(t, o);
    }
  if (!any)
    out.unconfigured.push_back({"filebeat", "no remote output with hosts", {path, 0}});
}

void vector_yaml(const std::string &path, const yaml::Node &root, ShipperModel &out) {
  bool any = false;
  if (const yaml::Node *sinks = path_find(root, {"sinks"}); sinks && sinks->is_mapping())
    for (const auto &[name, s] : sinks->entries)
      if (const yaml::Node *type = s.find("type");
          type && type->is_scalar() && !local_sink(type->scalar)) {
        out.destinations.push_back(
            {"vector", "sink " + name + " (" + type->scalar + ")", {path, type->line}});
        any = true;
      }
  if (!any)
    out.unconfigured.push_back({"vector", "no remote sink", {path, 0}});
}

void fluent_bit_yaml(const std::string &path, const yaml::Node &root, ShipperModel &out) {
  bool any = false;
  if (const yaml::Node *outputs = path_find(root, {"pipeline", "outputs"});
      outputs && outputs->is_sequence())
    for (const auto &o : outputs->items)
      if (const yaml::Node *name = o.is_mapping() ? o.find("name") : nullptr;
          name && name->is_scalar() && !local_sink(name->scalar)) {
        std::string host;
        if (const yaml::Node *h = o.find("host"); h && h->is_scalar())
          host = " " + h->scalar;
        out.destinations.push_back({"fluent-bit", name->scalar + host, {path, name->line}});
        any = true;
      }
  if (!any)
    out.unconfigured.push_back({"fluent-bit", "no remote output", {path, 0}});
}

template <class F> void log_shippers_each_line(std::string_view text, F &&f) {
  size_t pos = 0;
  int lineno = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    std::string_view line =
        text.substr(pos, (nl == std::string_view::npos ? text.size() : nl) - pos);
    pos = nl == std::string_view::npos ? text.size() : nl + 1;
    f(text::trim(line), ++lineno);
  }
}

} // namespace

void parse_yaml_agent(const std::string &agent, const std::string &path, std::string_view text,
                      ShipperModel &out) {
  auto root = yaml::parse(text, path);
  if (!root) {
    out.unconfigured.push_back(
        {agent, "unreadable: " + root.error().message, {path, root.error().line}});
    return;
  }
  if (agent == "promtail")
    promtail(path, *root, out);
  else if (agent == "filebeat")
    filebeat(path, *root, out);
  else if (agent == "vector")
    vector_yaml(path, *root, out);
  else if (agent == "fluent-bit")
    fluent_bit_yaml(path, *root, out);
}

void parse_fluent_bit_classic(const std::string &path, std::string_view text, ShipperModel &out) {
  bool in_output = false, any = false;
  std::string name, host;
  int name_line = 0;
  auto flush = [&] {
    if (in_output && !name.empty() && !local_sink(name)) {
      out.destinations.push_back(
          {"fluent-bit", name + (host.empty() ? "" : " " + host), {path, name_line}});
      any = true;
    }
    name.clear();
    host.clear();
  };
  log_shippers_each_line(text, [&](std::string_view l, int lineno) {
    if (l.empty() || l[0] == '#')
      return;
    if (l[0] == '[') {
      flush();
      in_output = text::iequals(l, "[OUTPUT]");
      return;
    }
    if (!in_output)
      return;
    size_t sp = l.find_first_of(" \t");
    std::string key = text::lower(l.substr(0, sp));
    std::string value(sp == std::string_view::npos ? "" : text::trim(l.substr(sp)));
    if (key == "name") {
      name = value;
      name_line = lineno;
    } else if (key == "host") {
      host = value;
    }
  });
  flush();
  if (!any)
    out.unconfigured.push_back({"fluent-bit", "no remote [OUTPUT]", {path, 0}});
}

void parse_vector_toml(const std::string &path, std::string_view text, ShipperModel &out) {
  std::string sink;
  bool any = false;
  log_shippers_each_line(text, [&](std::string_view l, int lineno) {
    if (l.empty() || l[0] == '#')
      return;
    if (l[0] == '[') {
      sink.clear();
      std::string_view h = strip_quotes(l.substr(1, l.find(']') - 1));
      if (h.starts_with("sinks."))
        sink = std::string(h.substr(6));
      return;
    }
    if (sink.empty())
      return;
    size_t eq = l.find('=');
    if (eq == std::string_view::npos || text::trim(l.substr(0, eq)) != "type")
      return;
    std::string type(strip_quotes(l.substr(eq + 1)));
    if (!local_sink(type)) {
      out.destinations.push_back({"vector", "sink " + sink + " (" + type + ")", {path, lineno}});
      any = true;
    }
  });
  if (!any)
    out.unconfigured.push_back({"vector", "no remote sink", {path, 0}});
}

void parse_ossec_conf(const std::string &path, std::string_view text, ShipperModel &out) {
  // Blank out comments, keeping newlines so that lines stay true.
  std::string t(text);
  for (size_t b = t.find("<!--"); b != std::string::npos; b = t.find("<!--", b)) {
    size_t e = t.find("-->", b + 4);
    e = e == std::string::npos ? t.size() : e + 3;
    for (size_t i = b; i < e; ++i)
      if (t[i] != '\n')
        t[i] = ' ';
    b = e;
  }
  bool any = false;
  size_t client = t.find("<client>");
  while (client != std::string::npos) {
    size_t end = t.find("</client>", client);
    if (end == std::string::npos)
      end = t.size();
    for (const char *tag : {"<address>", "<server-ip>", "<server-hostname>"}) {
      for (size_t a = t.find(tag, client); a != std::string::npos && a < end;
           a = t.find(tag, a + 1)) {
        size_t vb = a + std::string_view(tag).size();
        size_t ve = t.find('<', vb);
        std::string v(text::trim(std::string_view(t).substr(vb, ve - vb)));
        if (v.empty() || v == "MANAGER_IP")
          continue;
        int line = 1 + static_cast<int>(std::count(t.begin(), t.begin() + a, '\n'));
        out.destinations.push_back({"wazuh-agent", v, {path, line}});
        any = true;
      }
    }
    client = t.find("<client>", end);
  }
  if (!any)
    out.unconfigured.push_back({"wazuh-agent", "no <client><server><address>", {path, 0}});
}

ShipperModel load_shippers(const RootFs &fs, const systemd::UnitFiles &units) {
  ShipperModel out;
  auto read = [&](const std::string &p) -> std::optional<std::string> {
    auto c = fs.read_file(p, k_log_shippers_max_bytes);
    if (!c)
      return std::nullopt;
    return std::move(*c);
  };
  for (const char *p : {"/etc/promtail/config.yml", "/etc/promtail/config.yaml"})
    if (auto c = read(p))
      parse_yaml_agent("promtail", p, *c, out);
  if (auto c = read("/etc/fluent-bit/fluent-bit.conf"))
    parse_fluent_bit_classic("/etc/fluent-bit/fluent-bit.conf", *c, out);
  if (auto c = read("/etc/fluent-bit/fluent-bit.yaml"))
    parse_yaml_agent("fluent-bit", "/etc/fluent-bit/fluent-bit.yaml", *c, out);
  if (auto c = read("/etc/filebeat/filebeat.yml"))
    parse_yaml_agent("filebeat", "/etc/filebeat/filebeat.yml", *c, out);
  for (const char *p : {"/etc/vector/vector.yaml", "/etc/vector/vector.yml"})
    if (auto c = read(p))
      parse_yaml_agent("vector", p, *c, out);
  if (auto c = read("/etc/vector/vector.toml"))
    parse_vector_toml("/etc/vector/vector.toml", *c, out);
  if (auto c = read("/var/ossec/etc/ossec.conf"))
    parse_ossec_conf("/var/ossec/etc/ossec.conf", *c, out);

  auto upload = journald::load_systemd_conf(fs, "systemd/journal-upload.conf");
  const journald::Assignment *url =
      upload.last_valid("Upload", "URL", [](const std::string &v) { return !v.empty(); });
  if (url) {
    // The service only runs when enabled (or pulled in by a wants link).
    const systemd::UnitState &st = units.state("systemd-journal-upload.service");
    if (st.state == systemd::UnitFileState::error)
      out.unconfigured.push_back({"systemd-journal-upload",
                                  "URL set but systemctl cannot tell whether "
                                  "systemd-journal-upload.service is enabled: " +
                                      st.error->to_string(),
                                  url->loc});
    else if (st.is_enabled_by_link())
      out.destinations.push_back({"systemd-journal-upload", url->value, url->loc});
    else
      out.unconfigured.push_back({"systemd-journal-upload",
                                  "URL set but systemd-journal-upload.service is not enabled",
                                  url->loc});
  }
  return out;
}

} // namespace bulwark::shippers
