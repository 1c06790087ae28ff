#pragma once
// The VPN servers a compose project runs, so that the vpn.* checks judge
// them as they judge the host's own (subject "<project>/<service>"). The
// images users deploy, each default relied on written, with its source, in
// data/compose/vpn-images.yaml:
//   - kylemanna/openvpn: ovpn_genconfig writes /etc/openvpn/openvpn.conf
//     (the image's VOLUME); ovpn_run starts `openvpn --config
//     /etc/openvpn/openvpn.conf` and adds `--crl-verify
//     /etc/openvpn/crl.pem` when pki/crl.pem or crl.pem exists;
//   - linuxserver/wireguard (lscr.io, ghcr.io): keys and configurations
//     under /config (wg_confs/*.conf, server/, peer*/), owned by PUID:PGID;
//   - wg-easy (ghcr.io/wg-easy/wg-easy, weejewel/wg-easy): keys in
//     /etc/wireguard (wg0.json, wg0.conf; wg-easy.db from 15), and a web UI
//     (PORT, default 51821) that hands out every client's private key:
//     PASSWORD up to 13, PASSWORD_HASH in 14, an account in the database
//     made by the setup wizard from 15;
//   - hwdsl2/ipsec-vpn-server: run.sh writes /etc/ipsec.conf (Libreswan)
//     from the environment at every start, so its proposals are known.
//
// The configuration directory is found as the container sees it: a bind
// mount (the host path, read through the RootFs given), a named volume of
// the local driver (<data-root>/volumes/<name>/_data, or the device of a
// `driver_opts: {o: bind}` volume), or nothing (the image's anonymous
// volume). A directory that does not exist in the audited file system (a
// container that never started, a repository audited in CI, an anonymous
// volume) is not visible: `config.visible` is false with the reason, and
// the checks say so (never a pass). A file that exists and cannot be read,
// a replaced command or entrypoint, is an error diagnostic.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_services.hpp>
#include <bulwark/parse/openvpn.hpp>
#include <bulwark/parse/strongswan.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::compose {

enum class VpnImage { kylemanna_openvpn, linuxserver_wireguard, wg_easy, hwdsl2_ipsec };

struct VpnImageKind {
  VpnImage image = VpnImage::kylemanna_openvpn;
  int major = 0; // from the tag; 0 when the tag does not say ("latest", none)
};
// nullopt for an image that is not one of the above.
std::optional<VpnImageKind> recognise_vpn_image(std::string_view image);

// Where the container's configuration directory lives on the host.
struct VpnConfigDir {
  enum class Kind { bind, named_volume, none };
  Kind kind = Kind::none;
  std::string container_path; // "/etc/openvpn", "/config", "/etc/wireguard"
  std::string host_path;      // "" for Kind::none
  std::string volume;         // Docker's name of the named volume
  SourceLocation loc;         // the volumes: item (the image line for none)
  bool visible = false;       // host_path is a directory of the audited file system
  std::string not_visible;    // why not, as a sentence naming where it would be
};

struct VpnSecretFile {
  std::string path; // in the audited file system
  Result<FileInfo> info{Error{}};
};

struct VpnService {
  std::string subject; // "<project>/<service>"
  VpnImageKind image;
  SourceLocation image_loc;
  VpnConfigDir config;
  // kylemanna/openvpn: openvpn.conf with ovpn_run's own arguments appended
  // (their location: the image line); crl-verify names a host path.
  std::optional<openvpn::Config> openvpn;
  // WireGuard images: files that hold private or preshared keys.
  std::vector<VpnSecretFile> wireguard;
  long owner_uid = 0; // besides root, who may own them (linuxserver's PUID, default 911)
  long owner_gid = 0; // besides root's group, whose group may read them (PGID)
  // hwdsl2/ipsec-vpn-server: the proposals of the ipsec.conf run.sh writes.
  std::vector<strongswan::Proposal> ipsec;
  bool ipsec_ikev2_only = false; // VPN_IKEV2_ONLY: only /etc/ipsec.d's IKEv2 connection
  // wg-easy: the web UI and how it is protected.
  Reach ui;
  std::string ui_password_var;               // "PASSWORD", "PASSWORD_HASH", "" (15: database)
  std::optional<SourceLocation> ui_password; // where it is set, if it is
  std::optional<SourceLocation> ui_insecure; // INSECURE=true (15: the UI over plain HTTP)
  std::vector<Diagnostic> problems;          // what could not be derived (error level)
  // The mounted files are the user's own (a --compose project outside the
  // target root), read through the host's file system.
  bool files_on_host = false;
};

// The VPN services of one loaded project. `fs` reads the mounted files
// (as for derive_services); `docker_root` is dockerd's data-root inside
// it. REQUIRES: p.valid().
std::vector<VpnService> derive_vpn_services(const Project &p, const EnvFiles &env_files,
                                            const RootFs &fs,
                                            const std::string &docker_root = "/var/lib/docker");

} // namespace bulwark::compose
