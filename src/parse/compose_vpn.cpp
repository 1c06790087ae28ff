// The VPN servers inside compose services (see compose_vpn.hpp). Every
// image default relied on here is listed, with its source, in
// data/compose/vpn-images.yaml.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/compose_vpn.hpp>

#include <algorithm>
#include <cctype>

namespace bulwark::compose {

namespace {

Diagnostic vpn_problem(std::string message, SourceLocation loc) {
  return Diagnostic{Diagnostic::Level::error, std::move(message), std::move(loc)};
}

bool vpn_truthy(std::string_view v) {
  std::string l = text::lower(text::trim(v));
  return l == "yes" || l == "true" || l == "1";
}

// Docker's name of the top-level volume `key`: its `name:`, the key itself
// when external, else "<project>_<key>" (compose-go types.VolumeConfig).
// `device` is the host directory of a local volume that is a bind in
// disguise (driver_opts o: bind, device: PATH); `foreign` is set for a
// volume driver other than local, whose data is not on this file system.
struct VolumeRef {
  std::string name;
  std::string device;
  bool foreign = false;
};

VolumeRef volume_ref(const Project &p, const std::string &key) {
  VolumeRef r{p.name + "_" + key, "", false};
  const Value *vols = p.root.find("volumes");
  const Value *v = vols && vols->is_mapping() ? vols->find(key) : nullptr;
  if (!v || !v->is_mapping())
    return r;
  const Value *ext = v->find("external");
  bool external = ext && (ext->is_mapping() || vpn_truthy(ext->str()));
  if (external)
    r.name = key;
  if (const Value *n = v->find("name"); n && n->is_scalar() && !n->str().empty())
    r.name = n->str();
  if (const Value *d = v->find("driver"); d && !d->str().empty() && d->str() != "local")
    r.foreign = true;
  if (const Value *o = v->find("driver_opts"); o && o->is_mapping()) {
    const Value *opt = o->find("o");
    const Value *dev = o->find("device");
    if (opt && dev && dev->is_scalar()) {
      for (auto &w : text::split(opt->str(), ','))
        if (text::trim(w) == "bind" || text::trim(w) == "rbind")
          r.device = dev->str();
    }
  }
  return r;
}

// The directory `container_path` of the service, on the host.
VpnConfigDir config_dir(const Project &p, const Value &svc, const std::string &container_path,
                        const SourceLocation &image_loc, const RootFs &fs,
                        const std::string &docker_root, std::vector<Diagnostic> &problems) {
  VpnConfigDir d;
  d.container_path = container_path;
  d.loc = image_loc;
  if (auto m = mounted_file(p, svc, container_path)) {
    d.kind = VpnConfigDir::Kind::bind;
    d.host_path = m->host_path;
    d.loc = p.where(m->loc);
  } else if (const Value *vols = svc.find("volumes"); vols && vols->is_sequence()) {
    for (auto &item : vols->items) {
      auto v = parse_volume(item);
      if (!v || v->type != "volume" || RootFs::join("/", v->target) != container_path)
        continue;
      d.loc = p.where(item.where());
      if (v->source.empty())
        break; // an anonymous volume: a new random name at every `up`
      VolumeRef ref = volume_ref(p, v->source);
      d.volume = ref.name;
      if (!ref.device.empty()) {
        d.kind = VpnConfigDir::Kind::bind;
        d.host_path = ref.device;
      } else if (ref.foreign) {
        d.kind = VpnConfigDir::Kind::named_volume;
        d.not_visible = "the volume " + ref.name + " at " + container_path +
                        " uses a volume driver other than local: its files are not on this "
                        "file system";
        return d;
      } else {
        d.kind = VpnConfigDir::Kind::named_volume;
        d.host_path = RootFs::join(docker_root, "volumes/" + ref.name + "/_data");
      }
      break;
    }
  }
  if (d.kind == VpnConfigDir::Kind::none) {
    d.not_visible = container_path +
                    " is the image's anonymous volume (no bind mount or named volume in the "
                    "compose file): the configuration the container generated at first start "
                    "cannot be found offline";
    return d;
  }
  auto st = fs.stat(d.host_path);
  if (!st && st.error().not_found()) {
    d.not_visible =
        (d.kind == VpnConfigDir::Kind::bind ? "the bind-mounted directory "
                                            : "the volume " + d.volume + " (") +
        d.host_path + (d.kind == VpnConfigDir::Kind::bind ? "" : ")") +
        " does not exist in the audited file system: the configuration is generated at the "
        "container's first start and is not visible offline";
    return d;
  }
  if (!st) {
    problems.push_back(vpn_problem("cannot look at " + d.host_path + " (" + container_path +
                                       " of the container): " + st.error().message,
                                   d.loc));
    return d;
  }
  if (st->type != FileInfo::Type::directory) {
    problems.push_back(vpn_problem(
        d.host_path + " is mounted at " + container_path + " but is not a directory", d.loc));
    return d;
  }
  d.visible = true;
  return d;
}

// A container path under the configuration directory, on the host.
std::string host_of(const VpnConfigDir &d, const std::string &container_path) {
  if (container_path == d.container_path)
    return d.host_path;
  if (container_path.rfind(d.container_path + "/", 0) == 0)
    return RootFs::join(d.host_path, container_path.substr(d.container_path.size() + 1));
  return "";
}

// A command or entrypoint that replaces the image's: what it starts is not
// the image's documented server.
void replaced_start(const Project &p, const Value &svc, std::string_view own_command,
                    std::vector<Diagnostic> &problems) {
  if (const Value *ep = svc.find("entrypoint"); ep && !ep->is_null())
    problems.push_back(vpn_problem("the entrypoint is replaced: the server it starts, and its "
                                   "configuration, cannot be derived offline",
                                   p.where(ep->where())));
  const Value *cmd = svc.find("command");
  if (!cmd || cmd->is_null())
    return;
  std::string first = cmd->is_sequence() ? (cmd->items.empty() ? "" : cmd->items[0].str())
                                         : std::string(text::trim(cmd->str()));
  bool own = !own_command.empty() && (first == own_command || text::trim(first) == own_command) &&
             (cmd->is_sequence() ? cmd->items.size() == 1 : true);
  if (!own)
    problems.push_back(vpn_problem("the command is replaced: the server's options cannot be "
                                   "derived offline",
                                   p.where(cmd->where())));
}

// Files of a WireGuard configuration directory that hold keys: interface
// and peer configurations, private and preshared keys, wg-easy's JSON and
// database. Public keys, templates and CoreDNS files are left alone.
bool secret_name(const std::string &name0) {
  std::string n = text::lower(name0);
  if (n.find("pub") != std::string::npos)
    return false;
  auto ends = [&](std::string_view s) {
    return n.size() >= s.size() && n.compare(n.size() - s.size(), s.size(), s) == 0;
  };
  return ends(".conf") || ends(".key") || ends(".psk") || ends(".json") || ends(".db") ||
         n.find("priv") != std::string::npos || n.find("preshared") != std::string::npos;
}

std::vector<VpnSecretFile> wireguard_files(const RootFs &fs, const std::string &root,
                                           std::vector<Diagnostic> &problems,
                                           const SourceLocation &loc) {
  std::vector<VpnSecretFile> out;
  std::vector<std::pair<std::string, int>> dirs{{root, 0}};
  for (size_t i = 0; i < dirs.size() && i < 256; ++i) {
    auto names = fs.list_dir(dirs[i].first);
    if (!names) {
      problems.push_back(
          vpn_problem("cannot list " + dirs[i].first + ": " + names.error().message, loc));
      continue;
    }
    std::sort(names->begin(), names->end());
    for (auto &n : *names) {
      std::string path = RootFs::join(dirs[i].first, n);
      auto info = fs.lstat(path);
      if (info && info->type == FileInfo::Type::directory) {
        if (dirs[i].second < 2 && n != "templates" && n != "coredns")
          dirs.push_back({path, dirs[i].second + 1});
        continue;
      }
      if (info && info->type == FileInfo::Type::symlink)
        continue;
      if (secret_name(n))
        out.push_back({path, info});
    }
  }
  return out;
}

void derive_openvpn(const Project &p, const Value &svc, VpnService &s, const RootFs &fs) {
  replaced_start(p, svc, "ovpn_run", s.problems);
  if (!s.config.visible)
    return;
  std::string conf = RootFs::join(s.config.host_path, "openvpn.conf");
  auto st = fs.stat(conf);
  if (!st && st.error().not_found()) {
    s.config.visible = false;
    s.config.not_visible = conf + " does not exist yet: ovpn_genconfig writes it at set-up, "
                                  "so the server's configuration is not visible offline";
    return;
  }
  openvpn::Config c = openvpn::load(fs, conf);
  // Paths the file names in the container (/etc/openvpn/...), or relative
  // to ovpn_run's `cd $OPENVPN`, as the host sees them.
  for (auto &o : c.options)
    if (o.name == "crl-verify" && !o.args.empty() && !o.args[0].empty() && o.args[0][0] == '/') {
      std::string h = host_of(s.config, o.args[0]);
      if (!h.empty())
        o.args[0] = h;
      else
        s.problems.push_back(vpn_problem("crl-verify " + o.args[0] + " is outside " +
                                             s.config.container_path +
                                             ": the CRL the container reads cannot be found",
                                         o.loc));
    }
  // ovpn_run: `--crl-verify $OPENVPN/crl.pem` when pki/crl.pem (copied
  // there) or crl.pem is readable; a command-line option wins over the file.
  for (const char *name : {"pki/crl.pem", "crl.pem"}) {
    auto cst = fs.stat(RootFs::join(s.config.host_path, name));
    if (cst && cst->type == FileInfo::Type::regular) {
      openvpn::Option o;
      o.name = "crl-verify";
      o.args = {RootFs::join(s.config.host_path, name)};
      o.loc = s.image_loc;
      c.options.push_back(std::move(o));
      break;
    }
  }
  s.openvpn = std::move(c);
}

void derive_wireguard(VpnService &s, const std::map<std::string, EnvValue> &env, const RootFs &fs) {
  if (s.image.image == VpnImage::linuxserver_wireguard) {
    // linuxserver's base image: the abc user is PUID:PGID, 911:911 unless set.
    s.owner_uid = 911;
    s.owner_gid = 911;
    if (auto it = env.find("PUID"); it != env.end() && leading_int(it->second.value) > 0)
      s.owner_uid = leading_int(it->second.value);
    if (auto it = env.find("PGID"); it != env.end() && leading_int(it->second.value) > 0)
      s.owner_gid = leading_int(it->second.value);
  }
  if (s.config.visible)
    s.wireguard = wireguard_files(fs, s.config.host_path, s.problems, s.config.loc);
}

void derive_wg_easy(const Project &p, const Value &svc, VpnService &s,
                    const std::map<std::string, EnvValue> &env) {
  int port = 51821;
  if (auto it = env.find("PORT"); it != env.end() && leading_int(it->second.value) > 0)
    port = leading_int(it->second.value);
  s.ui = service_reach(p, svc, port);
  int major = s.image.major;
  // 15 replaced the environment password with an account in its database.
  s.ui_password_var = major == 0 || major >= 15 ? "" : major == 14 ? "PASSWORD_HASH" : "PASSWORD";
  if (!s.ui_password_var.empty())
    if (auto it = env.find(s.ui_password_var); it != env.end() && !it->second.value.empty())
      s.ui_password = it->second.loc;
  if (auto it = env.find("INSECURE"); it != env.end() && it->second.value == "true")
    s.ui_insecure = it->second.loc;
}

// hwdsl2/ipsec-vpn-server's run.sh: `conn shared` (which conn l2tp-psk and
// conn xauth-psk take with also=shared) gets ike=$ike_algs and a fixed
// phase2alg; VPN_ENABLE_MODP1024 / VPN_ENABLE_MODP1536 append groups.
void derive_ipsec(const Project &p, const Value &svc, VpnService &s,
                  const std::map<std::string, EnvValue> &env) {
  replaced_start(p, svc, "/opt/src/run.sh", s.problems);
  auto set = [&](const char *name) -> const EnvValue * {
    auto it = env.find(name);
    return it != env.end() && text::iequals(text::trim(it->second.value), "yes") ? &it->second
                                                                                 : nullptr;
  };
  bool no_l2tp = set("VPN_DISABLE_IPSEC_L2TP") || set("VPN_IKEV2_ONLY");
  bool no_xauth = set("VPN_DISABLE_IPSEC_XAUTH") || set("VPN_IKEV2_ONLY");
  if (no_l2tp && no_xauth) {
    s.ipsec_ikev2_only = true;
    return;
  }
  std::string ike =
      "aes256-sha2;modp2048,aes128-sha2;modp2048,aes256-sha1;modp2048,aes128-sha1;modp2048";
  SourceLocation ike_loc = s.image_loc;
  if (const EnvValue *e = set("VPN_ENABLE_MODP1024")) {
    ike += ",aes256-sha2;modp1024,aes128-sha1;modp1024";
    ike_loc = e->loc;
  }
  if (const EnvValue *e = set("VPN_ENABLE_MODP1536")) {
    ike += ",aes256-sha2;modp1536,aes128-sha1;modp1536";
    ike_loc = e->loc;
  }
  std::string conns = std::string(no_l2tp ? "" : "l2tp-psk") + (no_l2tp || no_xauth ? "" : ", ") +
                      (no_xauth ? "" : "xauth-psk");
  s.ipsec.push_back(
      {"ipsec.conf", "conn shared (" + conns + ") ike, written by run.sh", "ike", ike, ike_loc});
  s.ipsec.push_back({"ipsec.conf", "conn shared (" + conns + ") phase2alg, written by run.sh",
                     "esp",
                     "aes_gcm-null,aes128-sha1,aes256-sha1,aes256-sha2_512,aes128-sha2,aes256-sha2",
                     s.image_loc});
}

} // namespace

std::optional<VpnImageKind> recognise_vpn_image(std::string_view image) {
  auto [raw, tag] = split_image_ref(image);
  std::string name = text::lower(raw);
  VpnImageKind k;
  // wg-easy's tags are "15", "15.1", "14", "7"; linuxserver's "1.0.20250521".
  if (!tag.empty() && tag[0] == 'v')
    tag = tag.substr(1);
  k.major = leading_int(tag);
  if (name == "kylemanna/openvpn")
    k.image = VpnImage::kylemanna_openvpn;
  else if (name == "linuxserver/wireguard")
    k.image = VpnImage::linuxserver_wireguard;
  else if (name == "wg-easy/wg-easy" || name == "weejewel/wg-easy") {
    k.image = VpnImage::wg_easy;
    // weejewel/wg-easy is the project's old name: releases up to 7.
    if (name == "weejewel/wg-easy" && k.major == 0)
      k.major = 7;
  } else if (name == "hwdsl2/ipsec-vpn-server")
    k.image = VpnImage::hwdsl2_ipsec;
  else
    return std::nullopt;
  return k;
}

std::vector<VpnService> derive_vpn_services(const Project &p, const EnvFiles &env_files,
                                            const RootFs &fs, const std::string &docker_root) {
  std::vector<VpnService> out;
  const Value *svcs = p.services();
  if (!svcs || !svcs->is_mapping())
    return out;
  for (auto &[name, svc] : svcs->entries) {
    if (!svc.is_mapping() || svc.find("build"))
      continue;
    const Value *img = svc.find("image");
    if (!img || !img->is_scalar())
      continue;
    auto kind = recognise_vpn_image(img->str());
    if (!kind)
      continue;
    VpnService s;
    s.subject = p.name + "/" + name;
    s.image = *kind;
    s.image_loc = p.where(img->where());
    auto env = service_environment(p, svc, env_files);
    switch (kind->image) {
    case VpnImage::kylemanna_openvpn:
      s.config = config_dir(p, svc, "/etc/openvpn", s.image_loc, fs, docker_root, s.problems);
      derive_openvpn(p, svc, s, fs);
      break;
    case VpnImage::linuxserver_wireguard:
      s.config = config_dir(p, svc, "/config", s.image_loc, fs, docker_root, s.problems);
      derive_wireguard(s, env, fs);
      break;
    case VpnImage::wg_easy:
      s.config = config_dir(p, svc, "/etc/wireguard", s.image_loc, fs, docker_root, s.problems);
      derive_wireguard(s, env, fs);
      derive_wg_easy(p, svc, s, env);
      break;
    case VpnImage::hwdsl2_ipsec:
      s.config = config_dir(p, svc, "/etc/ipsec.d", s.image_loc, fs, docker_root, s.problems);
      derive_ipsec(p, svc, s, env);
      break;
    }
    out.push_back(std::move(s));
  }
  return out;
}

} // namespace bulwark::compose
