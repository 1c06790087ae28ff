// Models for monitoring.*, secrets.*, env.* and data.* (see the header).
//
// Deployments: compose files (compose.yaml, compose.yml, docker-compose.yml,
// docker-compose.yaml and their `*.override`/`docker-compose.prod.yml`-style
// siblings), the .env files next to them and in the application roots, the
// `env_file:` and top-level `secrets: {name: {file: ...}}` entries of the
// compose files (relative to the compose file's directory, as compose
// resolves them), and private keys (/etc/ssl/private/*,
// /etc/letsencrypt/live/*/privkey.pem, and *.key/*.pem holding "PRIVATE
// KEY" in the application roots and in the key folders of TLS and VPN
// services under /etc). The walk does not follow symlinked directories and
// skips dependency trees (node_modules, .git).

#include <bulwark/checks/monitoring_model.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/parse/dpkg_status.hpp>
#include <bulwark/parse/mounts.hpp>

#include <algorithm>
#include <map>
#include <set>

namespace bulwark::monitoring {

namespace {

constexpr size_t k_monitoring_max_key_bytes = 1024 * 1024;
constexpr size_t k_max_compose_bytes = 8 * 1024 * 1024;
constexpr const char *k_key_dirs[] = {
    "/etc/ssl",        "/etc/pki",        "/etc/nginx",       "/etc/apache2", "/etc/haproxy",
    "/etc/postgresql", "/etc/mysql",      "/etc/redis",       "/etc/openvpn", "/etc/ipsec.d",
    "/etc/swanctl",    "/etc/strongswan", "/etc/letsencrypt", "/etc/docker",  "/etc/postfix",
    "/etc/dovecot",    "/etc/prometheus", "/etc/grafana"};

std::string dirname(const std::string &p) {
  size_t s = p.rfind('/');
  return s == 0 || s == std::string::npos ? "/" : p.substr(0, s);
}

bool monitoring_ends_with(std::string_view s, std::string_view suf) {
  return s.size() >= suf.size() && s.substr(s.size() - suf.size()) == suf;
}

bool is_compose_name(std::string_view n) {
  if (n == "compose.yaml" || n == "compose.yml" || n == "docker-compose.yml" ||
      n == "docker-compose.yaml")
    return true;
  // docker-compose.security.yml, compose.prod.yaml: override files of guide 000.
  return (text::starts_with(n, "docker-compose.") || text::starts_with(n, "compose.")) &&
         (monitoring_ends_with(n, ".yml") || monitoring_ends_with(n, ".yaml"));
}

// .env, .env.production, production.env; not the templates a repository
// ships for people to copy (.env.example), which no deployment loads.
bool is_env_name(std::string_view n) {
  bool env = n == ".env" || text::starts_with(n, ".env.") ||
             (n.size() > 4 && monitoring_ends_with(n, ".env"));
  if (!env)
    return false;
  for (std::string_view t : {".example", ".sample", ".template", ".dist", ".tpl", ".defaults"})
    if (monitoring_ends_with(n, t))
      return false;
  return true;
}

bool is_key_candidate(std::string_view n) {
  return monitoring_ends_with(n, ".key") || monitoring_ends_with(n, ".pem");
}

bool skip_dir(std::string_view n) {
  return n == "node_modules" || n == ".git" || n == "vendor" || n == "__pycache__" ||
         n == ".cache" || n == "venv" || n == ".venv" || n == "site-packages" || n == "proc" ||
         n == "certs"; // /etc/ssl/certs: public certificates, hundreds of them
}

class MonitoringModelBuilder {
public:
  explicit MonitoringModelBuilder(const RootFs &fs) : m_fs(fs) {}

  DeploymentModel run() {
    for (const char *root : k_app_roots)
      walk(root, 0, k_app_depth, true);
    // Not all of /etc: each entry costs a path resolution, and keys live in
    // the configuration of the services that serve TLS or VPNs.
    for (const char *d : k_key_dirs)
      walk(d, 0, 3, false);
    if (auto g = m_fs.glob("/etc/ssl/private/*"))
      for (auto &p : *g)
        add(p, SecretFile::Kind::private_key, {});
    if (auto g = m_fs.glob("/etc/letsencrypt/live/*/privkey.pem"))
      for (auto &p : *g)
        add(p, SecretFile::Kind::private_key, {});
    std::sort(m_out.compose_files.begin(), m_out.compose_files.end());
    for (auto &c : m_out.compose_files)
      read_compose(c);
    mark_superseded_certbot_keys();
    for (auto &[path, f] : m_files)
      finish(f);
    for (auto &[path, f] : m_files)
      m_out.files.push_back(std::move(f));
    m_out.ssl_cert_gid = group_id("ssl-cert");
    return std::move(m_out);
  }

private:
  void walk(const std::string &dir, int depth, int max_depth, bool app) {
    auto names = m_fs.list_dir(dir);
    if (!names)
      return;
    for (auto &n : *names) {
      if (++m_visited > k_max_walk_entries) {
        if (m_visited == k_max_walk_entries + 1)
          m_out.diagnostics.push_back(Evidence{
              dir, 0, "search stopped after " + std::to_string(k_max_walk_entries) + " entries", "",
              "walk"});
        return;
      }
      std::string p = dir == "/" ? "/" + n : dir + "/" + n;
      auto st = m_fs.lstat(p);
      if (!st)
        continue;
      if (st->type == FileInfo::Type::directory) {
        if (depth + 1 <= max_depth && !skip_dir(n))
          walk(p, depth + 1, max_depth, app);
        continue;
      }
      if (app && is_compose_name(n)) {
        m_out.compose_files.push_back(p);
      } else if (app && n == "prometheus.yml") {
        m_out.prometheus_configs.push_back(p);
      } else if (app && is_env_name(n)) {
        add(p, SecretFile::Kind::env, {});
      } else if (is_key_candidate(n) && holds_private_key(p)) {
        add(p, SecretFile::Kind::private_key, {});
      }
    }
  }

  // certbot keeps every key it ever issued in archive/NAME/privkeyN.pem and
  // points live/NAME/privkey.pem (a relative symlink) at the current one; the
  // server reads live/. A key of archive/ that no live/NAME/ link names is
  // superseded. When a live link cannot be read, nothing of that NAME is
  // marked (its keys stay judged: fail closed).
  void mark_superseded_certbot_keys() {
    constexpr std::string_view k_archive = "/etc/letsencrypt/archive/";
    std::map<std::string, std::set<std::string>> current; // NAME -> targets
    std::set<std::string> unreadable;
    auto names = m_fs.list_dir("/etc/letsencrypt/live");
    if (!names)
      return;
    for (auto &name : *names) {
      std::string dir = "/etc/letsencrypt/live/" + name;
      auto links = m_fs.list_dir(dir);
      if (!links)
        continue;
      for (auto &l : *links) {
        auto st = m_fs.lstat(dir + "/" + l);
        if (!st || st->type != FileInfo::Type::symlink)
          continue;
        auto to = m_fs.read_link(dir + "/" + l);
        if (!to) {
          unreadable.insert(name);
          continue;
        }
        current[name].insert(RootFs::join(dir, *to));
      }
    }
    for (auto &[path, f] : m_files) {
      if (path.rfind(k_archive, 0) != 0 || f.kind != SecretFile::Kind::private_key)
        continue;
      std::string rest = path.substr(k_archive.size());
      std::string name = rest.substr(0, rest.find('/'));
      auto it = current.find(name);
      if (it == current.end() || unreadable.count(name) || it->second.count(path))
        continue;
      f.superseded_by = "/etc/letsencrypt/live/" + name + "/privkey.pem";
    }
  }

  bool holds_private_key(const std::string &p) {
    auto data = m_fs.read_file(p, k_monitoring_max_key_bytes);
    return data && data->find("PRIVATE KEY-----") != std::string::npos;
  }

  void add(const std::string &path, SecretFile::Kind kind, SourceLocation declared) {
    auto [it, inserted] = m_files.try_emplace(path);
    SecretFile &f = it->second;
    if (inserted) {
      f.path = path;
      f.kind = kind;
    }
    if (f.declared_at.path.empty())
      f.declared_at = std::move(declared);
    // A file that compose names as a secret is one, whatever its name.
    if (kind == SecretFile::Kind::docker_secret)
      f.kind = kind;
  }

  void read_compose(const std::string &path) {
    auto text = m_fs.read_file(path, k_max_compose_bytes);
    if (!text) {
      m_out.diagnostics.push_back(Evidence{path, 0, text.error().message, "", "compose"});
      return;
    }
    auto doc = yaml::parse(*text, path);
    if (!doc) {
      m_out.diagnostics.push_back(
          Evidence{path, doc.error().line, doc.error().message, "", "compose"});
      return;
    }
    if (!doc->is_mapping())
      return;
    const std::string dir = dirname(path);
    // The project's .env: compose reads it from the (first) file's directory.
    if (m_fs.exists(dir + "/.env"))
      add(dir + "/.env", SecretFile::Kind::env, {});
    if (const yaml::Node *secrets = doc->find("secrets"); secrets && secrets->is_mapping()) {
      for (auto &[name, s] : secrets->entries) {
        const yaml::Node *file = s.is_mapping() ? s.find("file") : nullptr;
        if (file && file->is_scalar() && !file->scalar.empty())
          add(RootFs::join(dir, file->scalar), SecretFile::Kind::docker_secret, {path, file->line});
      }
    }
    if (const yaml::Node *services = doc->find("services"); services && services->is_mapping()) {
      for (auto &[name, svc] : services->entries) {
        const yaml::Node *ef = svc.is_mapping() ? svc.find("env_file") : nullptr;
        if (ef == nullptr)
          continue;
        std::vector<const yaml::Node *> items;
        if (ef->is_scalar())
          items.push_back(ef);
        for (auto &i : ef->items)
          items.push_back(i.is_mapping() ? i.find("path") : &i);
        for (const yaml::Node *i : items)
          if (i && i->is_scalar() && !i->scalar.empty())
            add(RootFs::join(dir, i->scalar), SecretFile::Kind::env, {path, i->line});
      }
    }
  }

  void finish(SecretFile &f) {
    auto st = m_fs.stat(f.path);
    if (!st) {
      f.error = st.error();
      return;
    }
    f.info = *st;
    if (auto d = m_fs.stat(dirname(f.path)))
      f.dir_owner = d->uid;
    if (f.kind != SecretFile::Kind::env)
      return;
    auto env = dotenv::parse_dotenv(m_fs, f.path);
    if (env)
      f.env = std::move(*env);
    else
      f.error = env.error();
  }

  std::optional<uint32_t> group_id(std::string_view name) {
    auto g = m_fs.read_file("/etc/group", 4 * 1024 * 1024);
    if (!g)
      return {};
    for (auto &line : text::split(*g, '\n')) {
      auto f = text::split(line, ':', true);
      if (f.size() >= 3 && f[0] == name) {
        char *end = nullptr;
        unsigned long v = std::strtoul(f[2].c_str(), &end, 10);
        if (!f[2].empty() && *end == '\0')
          return static_cast<uint32_t>(v);
      }
    }
    return {};
  }

  const RootFs &m_fs;
  DeploymentModel m_out;
  std::map<std::string, SecretFile> m_files;
  size_t m_visited = 0;
};

std::vector<std::string> monitoring_key_words(std::string_view key) {
  std::vector<std::string> out;
  std::string cur;
  for (char c : key) {
    if (std::isalnum(static_cast<unsigned char>(c))) {
      cur += static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    } else if (!cur.empty()) {
      out.push_back(std::move(cur));
      cur.clear();
    }
  }
  if (!cur.empty())
    out.push_back(std::move(cur));
  return out;
}

} // namespace

DeploymentModel load_deployments(const RootFs &fs) {
  return MonitoringModelBuilder(fs).run();
}

bool secret_key_name(std::string_view key) {
  auto w = monitoring_key_words(key);
  if (w.empty())
    return false;
  // A setting *about* a secret: its length, lifetime, location or switch.
  static const std::set<std::string> k_about = {
      "LENGTH",     "LEN",     "MIN",     "MAX",      "EXPIRE",    "EXPIRES", "EXPIRY",
      "EXPIRATION", "TTL",     "TIMEOUT", "AGE",      "DAYS",      "HOURS",   "MINUTES",
      "SECONDS",    "ENABLED", "ENABLE",  "REQUIRED", "ALGORITHM", "ALG",     "TYPE",
      "PATH",       "FILE",    "DIR",     "NAME",     "HEADER",    "ID",      "ROTATION",
      "POLICY",     "SIZE",    "BITS",    "PUBLIC",   "PUB"};
  if (k_about.count(w.back()))
    return false;
  for (auto &x : w) {
    for (std::string_view part : {"PASSWORD", "PASSWD", "SECRET", "TOKEN", "CREDENTIAL"})
      if (x.find(part) != std::string::npos)
        return true;
    if (x == "KEY" || x == "KEYS" || x == "PASS" || x == "PWD" || x == "APIKEY" ||
        x == "PRIVATEKEY" || x == "ACCESSKEY" || x == "SECRETKEY" || x == "DBPASS")
      return true;
  }
  return false;
}

bool is_reference(std::string_view v) {
  if (dotenv::has_interpolation(v))
    return true;
  std::string l = text::lower(text::trim(v));
  for (std::string_view p :
       {"vault:", "vault://", "op://", "arn:aws:secretsmanager:", "arn:aws:ssm:", "ssm:", "awssm:",
        "gcpsm:", "sm://", "azkv:", "doppler://", "infisical://", "sops:", "@microsoft.keyvault(",
        "secret://", "secrets://", "file:///run/secrets/"})
    if (text::starts_with(l, p))
      return true;
  return false;
}

std::string mask(std::string_view v) {
  std::string len = std::to_string(v.size()) + " chars";
  if (v.size() < 12)
    return "[" + len + "]";
  return text::printable(v.substr(0, 2), 16) + "...[" + len + "]";
}

std::vector<ProcessMatch> find_guard_processes(const procfs::ProcessTable &t) {
  std::vector<ProcessMatch> out;
  for (const procfs::Process &p : t.processes) {
    std::string what;
    if (p.comm == "fail2ban-server")
      what = "fail2ban-server";
    for (auto &a : p.argv)
      if (procfs::base_name(a) == "fail2ban-server")
        what = "fail2ban-server";
    if (what.empty() && !p.argv.empty() && procfs::base_name(p.argv[0]) == "bulwark" &&
        std::find(p.argv.begin() + 1, p.argv.end(), "watch") != p.argv.end())
      what = "bulwark watch";
    if (!what.empty())
      out.push_back({p.pid, what, p.dir + "/cmdline"});
  }
  return out;
}

namespace {

// The target path a directory finally designates, after symlinks.
std::string real_target_path(const RootFs &fs, const std::string &p) {
  auto host = fs.resolve(p);
  if (!host)
    return p;
  if (fs.host_root() == "/")
    return *host;
  const std::string &prefix = fs.host_root();
  if (host->size() <= prefix.size())
    return "/";
  return host->substr(prefix.size());
}

// A dm device is encrypted when its uuid says CRYPT-, or when one of the
// devices beneath it is (LVM on LUKS).
bool dm_encrypted(const RootFs &fs, const std::string &dev_dir, int depth,
                  std::vector<Evidence> &ev) {
  if (depth > 8)
    return false;
  if (auto uuid = fs.read_file(dev_dir + "/dm/uuid", 4096)) {
    std::string u(text::trim(*uuid));
    if (text::starts_with(u, "CRYPT-")) {
      ev.push_back(Evidence{dev_dir + "/dm/uuid", 1, text::printable(u, 60), "CRYPT-...", "live"});
      return true;
    }
  }
  auto slaves = fs.list_dir(dev_dir + "/slaves");
  if (!slaves)
    return false;
  for (auto &s : *slaves)
    if (dm_encrypted(fs, dev_dir + "/slaves/" + s, depth + 1, ev))
      return true;
  return false;
}

void judge_live(const RootFs &fs, DataVolume &v, const mounts::MountInfo &mi,
                const std::string &mi_path, const std::string &sys_dir,
                const mounts::Crypttab &ct) {
  const mounts::MountEntry *m = mounts::covering(mi, v.real_dir);
  if (m == nullptr) {
    v.message = "no mount in " + mi_path + " holds " + v.real_dir;
    v.evidence.push_back(Evidence{mi_path, 0, "no covering mount", "a dm-crypt device", "live"});
    return;
  }
  std::string dev =
      sys_dir + "/dev/block/" + std::to_string(m->major) + ":" + std::to_string(m->minor);
  Evidence mount_ev{mi_path, m->line,
                    text::printable(m->mount_point + " on " + m->source + " (" + m->fstype + ", " +
                                        std::to_string(m->major) + ":" + std::to_string(m->minor) +
                                        ")",
                                    200),
                    "a dm-crypt (LUKS) device", "live"};
  v.evidence.push_back(mount_ev);
  if (dm_encrypted(fs, dev, 0, v.evidence)) {
    v.verdict = DataVolume::Verdict::encrypted;
    std::string name = mounts::mapper_name(m->source);
    v.message = v.real_dir + " is on " + m->source + ", a dm-crypt device";
    if (!name.empty() && ct.find(name) == nullptr && !ct.entries.empty())
      v.message += " (not listed in /etc/crypttab: it will not be unlocked at boot)";
    return;
  }
  v.verdict = DataVolume::Verdict::not_encrypted;
  v.message =
      v.real_dir + " is on " + text::printable(m->source, 80) + ", which is not a dm-crypt device";
}

void judge_offline(DataVolume &v, const mounts::Fstab &fs_tab, const mounts::Crypttab &ct) {
  const mounts::FstabEntry *e = mounts::covering(fs_tab, v.real_dir);
  if (e == nullptr) {
    v.message =
        "no /etc/fstab entry covers " + v.real_dir + " (the root file system is not listed)";
    v.evidence.push_back(Evidence{"/etc/fstab", 0, "no covering entry",
                                  "a /dev/mapper device of /etc/crypttab", ""});
    return;
  }
  v.evidence.push_back(
      Evidence{e->loc.path, e->loc.line,
               text::printable(e->spec + " " + e->mount_point + " " + e->fstype, 200),
               "a /dev/mapper device listed in /etc/crypttab", ""});
  std::string name = mounts::mapper_name(e->spec);
  if (const mounts::CrypttabEntry *c = name.empty() ? nullptr : ct.find(name)) {
    v.verdict = DataVolume::Verdict::encrypted;
    v.evidence.push_back(
        Evidence{c->loc.path, c->loc.line,
                 text::printable(c->name + " " + c->device + " " + c->options, 200), "", ""});
    v.message = v.real_dir + " is on " + e->mount_point + " (" + e->spec +
                "), the dm-crypt mapping of /etc/crypttab:" + std::to_string(c->loc.line);
    return;
  }
  if (!name.empty() && !ct.entries.empty()) {
    v.message = v.real_dir + " is on " + e->spec +
                ", which /etc/crypttab does not list; it may be "
                "a logical volume on an encrypted one (" +
                ct.entries.front().name + "): offline that cannot be told";
    return;
  }
  v.verdict = DataVolume::Verdict::not_encrypted;
  v.message = v.real_dir + " is on " + text::printable(e->spec, 80) + " (" + e->mount_point +
              "), not a dm-crypt mapping listed in /etc/crypttab";
}

} // namespace

std::vector<DataVolume> load_data_volumes(const RootFs &fs, bool live, const std::string &proc_dir,
                                          const std::string &sys_dir) {
  std::vector<DataVolume> out;
  for (const char *d : k_data_dirs) {
    auto st = fs.stat(d);
    if (!st || st->type != FileInfo::Type::directory)
      continue;
    DataVolume v;
    v.dir = d;
    v.real_dir = real_target_path(fs, d);
    out.push_back(std::move(v));
  }
  if (out.empty())
    return out;
  mounts::Crypttab ct;
  if (auto t = fs.read_file("/etc/crypttab", 1024 * 1024))
    ct = mounts::parse_crypttab_text("/etc/crypttab", *t);
  if (live) {
    std::string mi_path = proc_dir + "/self/mountinfo";
    auto t = fs.read_file(mi_path, 16 * 1024 * 1024);
    mounts::MountInfo mi;
    if (t)
      mi = mounts::parse_mountinfo_text(mi_path, *t);
    for (auto &v : out)
      judge_live(fs, v, mi, mi_path, sys_dir, ct);
    return out;
  }
  mounts::Fstab tab;
  if (auto t = fs.read_file("/etc/fstab", 1024 * 1024))
    tab = mounts::parse_fstab_text("/etc/fstab", *t);
  for (auto &v : out)
    judge_offline(v, tab, ct);
  return out;
}

namespace {

int monitoring_line_at(std::string_view text, size_t pos) {
  return 1 + static_cast<int>(
                 std::count(text.begin(), text.begin() + static_cast<std::ptrdiff_t>(pos), '\n'));
}

// XML comments blanked out (newlines kept, so positions keep their lines).
std::string strip_xml_comments(std::string s) {
  size_t i = 0;
  while ((i = s.find("<!--", i)) != std::string::npos) {
    size_t e = s.find("-->", i + 4);
    size_t end = e == std::string::npos ? s.size() : e + 3;
    for (size_t k = i; k < end; ++k)
      if (s[k] != '\n')
        s[k] = ' ';
    i = end;
  }
  return s;
}

// The first <tag>value</tag> in s[from, to): value trimmed, and its offset.
std::optional<std::pair<std::string, size_t>> xml_value(const std::string &s, std::string_view tag,
                                                        size_t from, size_t to) {
  std::string open = "<" + std::string(tag) + ">", close = "</" + std::string(tag) + ">";
  size_t a = s.find(open, from);
  if (a == std::string::npos || a >= to)
    return {};
  size_t b = s.find(close, a);
  if (b == std::string::npos || b > to)
    return {};
  std::string v(text::trim(std::string_view(s).substr(a + open.size(), b - a - open.size())));
  return std::make_pair(v, a);
}

} // namespace

IdsFacts load_ids(const RootFs &fs, const systemd::UnitFiles &units) {
  IdsFacts f;
  const std::string conf = "/var/ossec/etc/ossec.conf";
  auto text = fs.read_file(conf, 4 * 1024 * 1024);
  if (text) {
    f.ossec_conf = true;
    std::string s = strip_xml_comments(*text);
    size_t i = 0;
    while (f.manager.empty() && (i = s.find("<client>", i)) != std::string::npos) {
      size_t end = s.find("</client>", i);
      if (end == std::string::npos)
        end = s.size();
      for (std::string_view tag : {"address", "server-ip", "server-hostname"}) {
        auto v = xml_value(s, tag, i, end);
        // MANAGER_IP is the placeholder of Wazuh's unconfigured template.
        if (v && !v->first.empty() && v->first != "MANAGER_IP") {
          f.manager = v->first;
          f.manager_loc = {conf, monitoring_line_at(s, v->second)};
          break;
        }
      }
      i = end;
    }
    if (s.find("<client>") == std::string::npos) {
      if (size_t r = s.find("<remote>"); r != std::string::npos) {
        f.manager_install = true;
        f.remote_loc = {conf, monitoring_line_at(s, r)};
      }
    }
  } else if (!text.error().not_found()) {
    f.ossec_error = text.error();
  }
  // One definition of enabled and masked: systemctl is-enabled's (models.hpp).
  const systemd::UnitState &st = units.state("bulwark-watch.service");
  f.watch_unit = st.fragment;
  f.watch_masked = st.is_masked();
  if (st.is_enabled_by_link())
    f.watch_wants = st.path;
  if (st.state == systemd::UnitFileState::error)
    f.watch_error = st.error;
  return f;
}

FimFacts load_fim(const RootFs &fs, const DpkgModel &dpkg) {
  FimFacts f;
  if (dpkg.state != DpkgModel::State::absent) {
    auto p = dpkg.installed("aide");
    if (p)
      f.aide_installed = *p != nullptr;
    else
      f.dpkg_error = p.error();
  }
  for (std::string_view conf : {"/etc/aide/aide.conf", "/etc/aide.conf"}) {
    auto text = fs.read_file(conf, 4 * 1024 * 1024);
    if (!text)
      continue;
    f.aide_conf = std::string(conf);
    // aide.conf(5): "@@define VAR value" macros, expanded as @@{VAR};
    // database_in (database before AIDE 0.17) names the baseline as a URL.
    std::map<std::string, std::string> defs;
    int n = 0;
    for (auto &raw : text::split(*text, '\n', true)) {
      ++n;
      std::string line(text::trim(raw));
      if (line.empty() || line[0] == '#')
        continue;
      if (text::starts_with(line, "@@define")) {
        auto w = text::split(line, ' ');
        if (w.size() >= 3)
          defs[w[1]] = w[2];
        continue;
      }
      size_t at;
      while ((at = line.find("@@{")) != std::string::npos) {
        size_t close = line.find('}', at);
        if (close == std::string::npos)
          break;
        auto it = defs.find(line.substr(at + 3, close - at - 3));
        line.replace(at, close - at + 1, it == defs.end() ? "" : it->second);
      }
      size_t eq = line.find('=');
      if (eq == std::string::npos)
        continue;
      std::string key(text::trim(std::string_view(line).substr(0, eq)));
      if (key != "database_in" && key != "database")
        continue;
      std::string v(text::trim(std::string_view(line).substr(eq + 1)));
      if (text::starts_with(v, "file:"))
        v = v.substr(5);
      f.aide_db = RootFs::join("/", v);
      f.aide_db_setting = {std::string(conf), n};
    }
    break;
  }
  if (auto st = fs.stat(f.aide_db); st && st->type == FileInfo::Type::regular && st->size > 0)
    f.aide_db_present = true;
  if (auto g = fs.glob("/var/lib/tripwire/*.twd"))
    f.tripwire_dbs = *g;
  if (auto g = fs.glob("/var/lib/bulwark/fim/baseline*"))
    f.bulwark_baselines = *g;
  for (auto &path : f.bulwark_baselines) {
    FimFacts::Baseline b;
    b.path = path;
    auto bytes = fs.read_file(path, size_t{1} << 30);
    if (!bytes) {
      b.error = bytes.error();
    } else if (auto db = fim::decode(*bytes, path, fim::DecodeOptions{nullptr, true}); !db) {
      b.error = db.error();
    } else {
      b.created = db->created;
      b.entries = db->records.size();
    }
    f.bulwark_checked.push_back(std::move(b));
  }
  return f;
}

FimBaselineRead read_fim_baseline(const RootFs &fs, const std::string &database,
                                  const std::string &pubkey) {
  FimBaselineRead b;
  b.database = database;
  b.pubkey = pubkey;
  std::optional<fim::SigningKey> key;
  if (auto pem = fs.read_file(pubkey, 64 << 10)) {
    b.pubkey_present = true;
    if (auto k = fim::SigningKey::public_from_pem(*pem, pubkey))
      key = std::move(*k);
    else
      b.pubkey_error = k.error();
  } else if (!pem.error().not_found()) {
    b.pubkey_present = true;
    b.pubkey_error = pem.error();
  }
  auto bytes = fs.read_file(database, size_t{1} << 32);
  if (!bytes) {
    if (!bytes.error().not_found()) {
      b.present = true;
      b.error = bytes.error();
    }
    return b;
  }
  b.present = true;
  // Unsigned, or signed without a key to verify it with, is read so that
  // the checks can say which; a signature that does not verify, a checksum
  // that does not match, is an error here.
  auto db = fim::decode(*bytes, database, fim::DecodeOptions{key ? &*key : nullptr, true});
  if (!db)
    b.error = db.error();
  else
    b.db = std::move(*db);
  return b;
}

FimAuditFacts audit_fim(const RootFs &fs, const std::string &database, const std::string &pubkey,
                        const std::string &config, bool allow_unsigned, bool fast) {
  FimAuditFacts f;
  f.baseline = read_fim_baseline(fs, database, pubkey);
  const auto &b = f.baseline;
  if (!b.present || b.error || b.pubkey_error || (!b.db.signed_ && !allow_unsigned))
    return f; // the check says why; nothing is compared with an untrusted baseline
  Result<fim::Policy> policy =
      config.empty() ? fim::Policy::builtin(fs) : fim::Policy::load_aide_config(fs, config);
  if (!policy) {
    f.policy_error = policy.error();
    return f;
  }
  f.warnings = policy->warnings();
  fim::ScanOptions opt;
  std::unordered_map<std::string_view, const fim::Record *> trust;
  if (fast) {
    for (auto &r : b.db.records)
      trust.emplace(r.path, &r);
    opt.trust = &trust;
  }
  auto scanned = fim::scan(fs, *policy, opt);
  if (!scanned) {
    f.scan_error = scanned.error();
    return f;
  }
  f.scanned = true;
  f.entries = scanned->records.size();
  f.unverifiable = std::move(scanned->errors);
  fim::Comparison cmp = fim::compare(b.db.records, scanned->records);
  f.changes.reserve(cmp.changes.size());
  for (auto &c : cmp.changes) {
    FimAuditFacts::Item item;
    const fim::Record &r = c.new_record != nullptr ? *c.new_record : *c.old_record;
    item.path = r.path;
    item.kind = c.kind;
    item.type = std::string(fim::type_name(r.type));
    for (fim::Attr a : c.attributes)
      item.attributes.push_back(
          {a, fim::value_text(*c.old_record, a), fim::value_text(*c.new_record, a)});
    f.changes.push_back(std::move(item));
  }
  return f;
}

AlertFacts load_alerts(const RootFs &fs, const DeploymentModel &deployments) {
  AlertFacts f;
  std::vector<std::string> configs;
  if (auto st = fs.stat("/etc/prometheus/prometheus.yml");
      st && st->type == FileInfo::Type::regular)
    configs.push_back("/etc/prometheus/prometheus.yml");
  for (auto &c : deployments.prometheus_configs)
    configs.push_back(c);
  std::set<std::string> files;
  for (auto &c : configs) {
    auto text = fs.read_file(c, 8 * 1024 * 1024);
    if (!text) {
      f.problems.push_back(Evidence{c, 0, text.error().message, "", "prometheus"});
      continue;
    }
    f.configs.push_back(c);
    auto pats = prom::parse_rule_files_setting(c, *text);
    if (!pats) {
      f.problems.push_back(Evidence{c, pats.error().line, pats.error().message, "", "prometheus"});
      continue;
    }
    for (auto &p : *pats) {
      // Prometheus resolves rule_files against the configuration's directory.
      auto g = fs.glob(RootFs::join(dirname(c), p.pattern));
      if (!g || g->empty()) {
        f.problems.push_back(
            Evidence{c, p.line, "rule_files " + text::printable(p.pattern) + " matches no file", "",
                     "prometheus"});
        continue;
      }
      files.insert(g->begin(), g->end());
    }
  }
  if (f.configs.empty()) {
    f.default_places = true;
    for (const char *pat :
         {"/etc/prometheus/*.rules.yml", "/etc/prometheus/*.rules.yaml", "/etc/prometheus/*.rules"})
      if (auto g = fs.glob(pat))
        files.insert(g->begin(), g->end());
    if (auto g = fs.glob("/etc/prometheus/rules*")) {
      for (auto &p : *g) {
        auto st = fs.stat(p);
        if (st && st->type == FileInfo::Type::regular)
          files.insert(p);
        else if (st && st->type == FileInfo::Type::directory)
          for (const char *ext : {"/*.yml", "/*.yaml", "/*.rules"})
            if (auto in = fs.glob(p + ext))
              files.insert(in->begin(), in->end());
      }
    }
  }
  for (auto &p : files) {
    auto text = fs.read_file(p, 8 * 1024 * 1024);
    if (!text) {
      f.problems.push_back(Evidence{p, 0, text.error().message, "", "rules"});
      continue;
    }
    f.rule_files.push_back(prom::parse_rule_file_text(p, *text));
  }
  return f;
}

} // namespace bulwark::monitoring
