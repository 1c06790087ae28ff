// vpn.* on offline roots: OpenVPN syntax (quotes, `--` names, inline
// blocks, `config`), WireGuard modes and owners, strongSwan proposals in
// swanctl.conf and ipsec.conf; each check passes and fails with file:line.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/parse/compose_vpn.hpp>
#include <bulwark/parse/openvpn.hpp>
#include <bulwark/parse/strongswan.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sys/stat.h>
#include <unistd.h>

#include <optional>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

test::Findings audit(const TempRoot &r) {
  return test::audit_only(r.path(), {"vpn"});
}

const char *k_server = R"(# hardened
port 1194
proto udp
dev tun
server 10.8.0.0 255.255.255.0
ca ca.crt
cert server.crt
key server.key
dh none
tls-version-min 1.2
data-ciphers AES-256-GCM:CHACHA20-POLY1305
user nobody
group nogroup
persist-key
persist-tun
<tls-crypt>
-----BEGIN OpenVPN Static key V1-----
00112233
-----END OpenVPN Static key V1-----
</tls-crypt>
)";

} // namespace

TEST(OpenvpnParse, SyntaxLikeOptionsC) {
  auto c = openvpn::parse_text("--cipher \"AES 256\" ; comment\n"
                               "push \"route 10.0.0.0 255.0.0.0\" 'x y' a\\ b\n"
                               "  # comment\n"
                               "; comment\n"
                               "tls-auth ta.key 0 # trailing\n"
                               "x \"unterminated\n"
                               "<ca>\nAAA\n</ca>\n"
                               "<key>\nnever closed\n",
                               "/etc/openvpn/server/s.conf");
  ASSERT_GE(c.options.size(), 5u);
  EXPECT_EQ(c.options[0].name, "cipher");
  EXPECT_EQ(c.options[0].args, std::vector<std::string>{"AES 256"});
  EXPECT_EQ(c.options[1].args,
            (std::vector<std::string>{"route 10.0.0.0 255.0.0.0", "x y", "a b"}));
  EXPECT_EQ(c.options[2].name, "tls-auth");
  EXPECT_EQ(c.options[2].loc.line, 5);
  EXPECT_EQ(c.options[2].args.size(), 2u);
  EXPECT_TRUE(c.options[3].is_inline);
  EXPECT_EQ(c.options[3].inline_text, "AAA\n");
  ASSERT_EQ(c.diagnostics.size(), 2u);
  EXPECT_EQ(c.diagnostics[0].loc.line, 6);
  EXPECT_EQ(c.diagnostics[1].loc.line, 10);
}

TEST(OpenvpnParse, ConfigIncludeAndLoop) {
  TempRoot r;
  r.write("/etc/openvpn/server/a.conf", "server 10.8.0.0 255.255.255.0\nconfig common.inc\n");
  r.write("/etc/openvpn/server/common.inc", "user nobody\nconfig common.inc\n");
  auto c = openvpn::load(RootFs(r.path()), "/etc/openvpn/server/a.conf");
  ASSERT_NE(c.last("user"), nullptr);
  EXPECT_EQ(c.last("user")->loc.path, "/etc/openvpn/server/common.inc");
  ASSERT_FALSE(c.diagnostics.empty());
  EXPECT_NE(c.diagnostics[0].message.find("loop"), std::string::npos);
}

TEST(VpnChecks, NotApplicableWhenAbsent) {
  TempRoot r;
  r.mkdir("/etc");
  auto f = audit(r);
  ASSERT_EQ(f.by_check().size(), 6u) << f.dump();
  for (auto &[id, v] : f.by_check()) {
    ASSERT_EQ(v.size(), 1u) << id;
    EXPECT_EQ(v[0].status, Status::not_applicable) << id;
  }
}

TEST(VpnChecks, HardenedOpenvpnPasses) {
  TempRoot r;
  r.write("/etc/openvpn/server/server.conf", k_server);
  r.write("/etc/openvpn/client/c.conf", "client\nremote vpn.example 1194\ncipher BF-CBC\n");
  auto f = audit(r);
  for (const char *id :
       {"vpn.openvpn-tls", "vpn.openvpn-hmac-firewall", "vpn.openvpn-privileges"}) {
    ASSERT_EQ(f.each(id).size(), 1u) << id;
    EXPECT_EQ(f.one(id).status, Status::pass) << id << ": " << f.one(id).message;
    EXPECT_EQ(f.one(id).subject, "/etc/openvpn/server/server.conf");
  }
  EXPECT_EQ(f.one("vpn.openvpn-hmac-firewall").evidence[0].line, 16);
}

TEST(VpnChecks, WeakOpenvpnFailsWithLines) {
  TempRoot r;
  r.write("/etc/openvpn/server.conf",
          "mode server\ntls-server\n--tls-version-min 1.0\ncipher BF-CBC\n"
          "data-ciphers AES-128-GCM:AES-256-CBC\nuser root\n");
  auto f = audit(r);
  auto &t = f.one("vpn.openvpn-tls");
  EXPECT_EQ(t.status, Status::fail);
  std::set<int> lines;
  for (auto &e : t.evidence)
    lines.insert(e.line);
  EXPECT_TRUE(lines.count(3)) << t.message;
  EXPECT_TRUE(lines.count(4));
  EXPECT_TRUE(lines.count(5));
  EXPECT_NE(t.message.find("BF-CBC"), std::string::npos);
  EXPECT_NE(t.message.find("neither AES-256-GCM"), std::string::npos);
  auto &h = f.one("vpn.openvpn-hmac-firewall");
  EXPECT_EQ(h.status, Status::fail);
  EXPECT_EQ(h.evidence[0].line, 0);
  auto &p = f.one("vpn.openvpn-privileges");
  EXPECT_EQ(p.status, Status::fail);
  EXPECT_EQ(p.evidence[0].line, 6);
  EXPECT_NE(p.message.find("group not set"), std::string::npos);
  EXPECT_NE(p.message.find("persist-key not set"), std::string::npos);
}

TEST(VpnChecks, OpenvpnDefaultsAndStaticKey) {
  TempRoot r;
  r.write("/etc/openvpn/server/s.conf", "server 10.8.0.0 255.255.255.0\n");
  auto f = audit(r);
  EXPECT_EQ(f.one("vpn.openvpn-tls").status, Status::pass);
  EXPECT_EQ(f.one("vpn.openvpn-tls").evidence[0].line, 0);
  r.write("/etc/openvpn/server/s.conf", "server 10.8.0.0 255.255.255.0\nsecret static.key\n");
  EXPECT_EQ(audit(r).each("vpn.openvpn-tls").at(0).status, Status::fail);
}

TEST(VpnChecks, WireguardModesAndOwners) {
  TempRoot r;
  r.write("/etc/wireguard/wg0.conf", "[Interface]\nPrivateKey = x\n", 0600);
  r.write("/etc/wireguard/private.key", "x\n", 0600);
  r.write("/etc/wireguard/public.key", "y\n", 0644);
  auto f = audit(r);
  ASSERT_EQ(f.each("vpn.wireguard-key-permissions").size(), 2u);
  bool running_as_root = ::geteuid() == 0;
  for (auto &x : f.each("vpn.wireguard-key-permissions"))
    EXPECT_EQ(x.status, running_as_root ? Status::pass : Status::fail) << x.message;
  ::chmod(r.host("/etc/wireguard/wg0.conf").c_str(), 0644);
  f = audit(r);
  bool failed = false;
  for (auto &x : f.each("vpn.wireguard-key-permissions"))
    if (x.subject == "/etc/wireguard/wg0.conf") {
      failed = x.status == Status::fail;
      EXPECT_NE(x.message.find("0644"), std::string::npos);
      EXPECT_EQ(x.evidence[0].path, "/etc/wireguard/wg0.conf");
    }
  EXPECT_TRUE(failed);
  if (running_as_root) {
    ::chmod(r.host("/etc/wireguard/wg0.conf").c_str(), 0600);
    ASSERT_EQ(::chown(r.host("/etc/wireguard/private.key").c_str(), 1000, 1000), 0);
    f = audit(r);
    for (auto &x : f.each("vpn.wireguard-key-permissions"))
      if (x.subject == "/etc/wireguard/private.key") {
        EXPECT_EQ(x.status, Status::fail);
        EXPECT_NE(x.message.find("uid 1000"), std::string::npos);
      }
  }
}

TEST(StrongswanParse, WeakAlgorithms) {
  EXPECT_EQ(strongswan::weak_algorithms("aes256gcm16-prfsha384-ecp384"),
            std::vector<std::string>{});
  EXPECT_EQ(strongswan::weak_algorithms("aes128-sha1-modp1024!"),
            (std::vector<std::string>{"sha1", "modp1024"}));
  EXPECT_EQ(strongswan::weak_algorithms("aes256-sha256-modp2048,3des-md5-modp768"),
            (std::vector<std::string>{"3des", "md5", "modp768"}));
  EXPECT_EQ(strongswan::weak_algorithms("default"), std::vector<std::string>{});
}

TEST(VpnChecks, SwanctlProposals) {
  TempRoot r;
  r.write("/etc/swanctl/swanctl.conf", R"(# swanctl
connections {
  good {
    proposals = aes256gcm16-prfsha384-ecp384
    children {
      net { esp_proposals = aes256gcm16-ecp384 }
    }
  }
  bad {
    proposals = "aes128-sha1-modp1024"
    children {
      net {
        esp_proposals = 3des-md5
      }
    }
  }
}
include conf.d/*.conf
)");
  r.write("/etc/swanctl/conf.d/extra.conf",
          "connections {\n  dflt {\n    children {\n      c { }\n    }\n  }\n}\n");
  auto f = audit(r);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.good (IKE)").status, Status::pass);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.good.children.net (ESP)").status,
            Status::pass);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.good.children.net (ESP)").evidence[0].line,
            6);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.bad (IKE)").status, Status::fail);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.bad (IKE)").evidence[0].line, 10);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.bad.children.net (ESP)").status,
            Status::fail);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.bad.children.net (ESP)").evidence[0].line,
            13);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.dflt (IKE)").status, Status::pass);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.dflt (IKE)").evidence[0].line, 0);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "connections.dflt (IKE)").evidence[0].path,
            "/etc/swanctl/conf.d/extra.conf");
}

TEST(VpnChecks, IpsecConfProposalsWithAlsoAndDefault) {
  TempRoot r;
  r.write("/etc/ipsec.conf", R"(config setup
    charondebug="ike 1"

conn %default
    ike=aes256-sha256-modp2048!

conn base
    esp=aes128-sha1!

conn site
    also=base
    right=192.0.2.1

conn modern
    ike=aes256gcm16-prfsha384-ecp384!
    esp=aes256gcm16!
)");
  auto f = audit(r);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "conn site ike").status, Status::pass);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "conn site ike").evidence[0].line, 5);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "conn site esp").status, Status::fail);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "conn site esp").evidence[0].line, 8);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "conn modern esp").status, Status::pass);
  EXPECT_EQ(f.get("vpn.ipsec-proposals", "conn modern esp").evidence[0].line, 16);
}

TEST(VpnChecks, FactsCarryFileAndLine) {
  TempRoot r;
  r.write("/etc/openvpn/server/server.conf", k_server);
  RootFs fs(r.path());
  Context ctx(fs);
  auto j = facts_vpn(ctx);
  ASSERT_EQ(j["openvpn"].size(), 1u);
  EXPECT_EQ(j["openvpn"][0]["role"], "server");
  EXPECT_EQ(j["openvpn"][0]["options"][8]["at"], "/etc/openvpn/server/server.conf:10");
  // Inline key material is never printed.
  EXPECT_EQ(j.dump().find("00112233"), std::string::npos);
}

// ---- VPN servers inside compose services (parse/compose_vpn.hpp) -----------

TEST(ComposeVpn, ImagesAreRecognisedWithTheirRegistryAndTag) {
  using compose::VpnImage;
  struct Case {
    const char *ref;
    std::optional<VpnImage> image;
    int major;
  } cases[] = {
      {"kylemanna/openvpn", VpnImage::kylemanna_openvpn, 0},
      {"docker.io/kylemanna/openvpn:2.4", VpnImage::kylemanna_openvpn, 2},
      {"lscr.io/linuxserver/wireguard:latest", VpnImage::linuxserver_wireguard, 0},
      {"ghcr.io/linuxserver/wireguard:1.0.20250521", VpnImage::linuxserver_wireguard, 1},
      {"ghcr.io/wg-easy/wg-easy:14", VpnImage::wg_easy, 14},
      {"ghcr.io/wg-easy/wg-easy:v15.1.0", VpnImage::wg_easy, 15},
      {"weejewel/wg-easy", VpnImage::wg_easy, 7},
      {"hwdsl2/ipsec-vpn-server@sha256:0123", VpnImage::hwdsl2_ipsec, 0},
      {"linuxserver/openvpn-as", std::nullopt, 0},
      {"wireguard", std::nullopt, 0},
  };
  for (auto &c : cases) {
    auto k = compose::recognise_vpn_image(c.ref);
    ASSERT_EQ(k.has_value(), c.image.has_value()) << c.ref;
    if (k) {
      EXPECT_EQ(k->image, *c.image) << c.ref;
      EXPECT_EQ(k->major, c.major) << c.ref;
    }
  }
}

// The key files of a linuxserver/wireguard /config bind mount: 0600 and
// owned by PUID pass; a peer key others can read fails, named; templates
// and public keys are not judged.
TEST(ComposeVpn, LinuxserverWireguardKeysJudgedOnTheBindMount) {
  TempRoot r;
  std::string uid = std::to_string(::geteuid()), gid = std::to_string(::getegid());
  r.write("/srv/wg/compose.yaml", "services:\n"
                                  "  wireguard:\n"
                                  "    image: lscr.io/linuxserver/wireguard:latest\n"
                                  "    environment:\n"
                                  "      - PUID=" +
                                      uid + "\n      - PGID=" + gid +
                                      "\n      - PEERS=2\n"
                                      "    volumes:\n"
                                      "      - ./config:/config\n");
  r.write("/srv/wg/config/wg_confs/wg0.conf", "[Interface]\nPrivateKey = x\n", 0600);
  r.write("/srv/wg/config/server/privatekey-server", "x\n", 0600);
  r.write("/srv/wg/config/server/publickey-server", "y\n", 0644);
  r.write("/srv/wg/config/peer1/privatekey-peer1", "x\n", 0600);
  r.write("/srv/wg/config/peer1/peer1.conf", "[Interface]\nPrivateKey = x\n", 0600);
  r.write("/srv/wg/config/templates/server.conf", "[Interface]\n", 0644);
  r.write("/srv/wg/config/coredns/Corefile", ". {\n}\n", 0644);
  auto f = audit(r);
  const Finding &ok = f.get("vpn.wireguard-key-permissions", "wg/wireguard");
  EXPECT_EQ(ok.status, Status::pass) << ok.message;
  EXPECT_EQ(ok.evidence.size(), 4u) << ok.message; // the four key files, not templates or pubs
  ::chmod(r.host("/srv/wg/config/peer1/peer1.conf").c_str(), 0644);
  f = audit(r);
  const Finding &bad = f.get("vpn.wireguard-key-permissions", "wg/wireguard");
  EXPECT_EQ(bad.status, Status::fail);
  EXPECT_NE(bad.message.find("/srv/wg/config/peer1/peer1.conf: mode 0644 lets others read it"),
            std::string::npos)
      << bad.message;
}

// wg-easy: the web UI on loopback with the key files 0600 passes; the same
// UI on every interface with no PASSWORD fails (7), passes with one; wg-easy
// 15 keeps its login in the database: a public UI is a warning, INSECURE a
// failure.
TEST(ComposeVpn, WgEasyWebUiAndKeys) {
  TempRoot r;
  auto project = [&](const std::string &image, const std::string &port, const std::string &env) {
    r.write("/srv/wg/docker-compose.yml", "services:\n"
                                          "  wg-easy:\n"
                                          "    image: " +
                                              image +
                                              "\n"
                                              "    environment:\n"
                                              "      - WG_HOST=vpn.example.com\n" +
                                              env +
                                              "    volumes:\n"
                                              "      - ./data:/etc/wireguard\n"
                                              "    ports:\n"
                                              "      - \"51820:51820/udp\"\n"
                                              "      - \"" +
                                              port + "\"\n");
  };
  r.write("/srv/wg/data/wg0.json", "{}\n", 0600);
  r.write("/srv/wg/data/wg0.conf", "[Interface]\n", 0600);
  auto verdict = [&] {
    auto f = audit(r);
    const Finding &x = f.get("vpn.wireguard-key-permissions", "wg/wg-easy");
    return std::make_pair(x.status, x.message);
  };
  bool root = ::geteuid() == 0;
  project("weejewel/wg-easy:7", "127.0.0.1:51821:51821/tcp", "");
  auto [s1, m1] = verdict();
  EXPECT_EQ(s1, root ? Status::pass : Status::fail) << m1;
  project("weejewel/wg-easy:7", "51821:51821/tcp", "");
  auto [s2, m2] = verdict();
  EXPECT_EQ(s2, Status::fail) << m2;
  EXPECT_NE(m2.find("has no PASSWORD"), std::string::npos) << m2;
  project("weejewel/wg-easy:7", "51821:51821/tcp", "      - PASSWORD=${WG_UI_PASSWORD}\n");
  r.write("/srv/wg/.env", "WG_UI_PASSWORD=long-and-random-enough\n");
  auto [s3, m3] = verdict();
  EXPECT_EQ(s3, root ? Status::pass : Status::fail) << m3;
  project("ghcr.io/wg-easy/wg-easy:15", "0.0.0.0:51821:51821/tcp", "");
  auto [s4, m4] = verdict();
  if (root) {
    EXPECT_EQ(s4, Status::warn) << m4;
  }
  EXPECT_NE(m4.find("wg-easy.db"), std::string::npos) << m4;
  project("ghcr.io/wg-easy/wg-easy:15", "0.0.0.0:51821:51821/tcp", "      - INSECURE=true\n");
  auto [s5, m5] = verdict();
  EXPECT_EQ(s5, Status::fail) << m5;
  EXPECT_NE(m5.find("plain HTTP"), std::string::npos) << m5;
  // A key file others can read fails even behind loopback.
  project("ghcr.io/wg-easy/wg-easy:14", "127.0.0.1:51821:51821/tcp", "");
  ::chmod(r.host("/srv/wg/data/wg0.json").c_str(), 0664);
  auto [s6, m6] = verdict();
  EXPECT_EQ(s6, Status::fail) << m6;
  EXPECT_NE(m6.find("wg0.json: mode 0664 lets others read it"), std::string::npos) << m6;
}

// kylemanna/openvpn: a named volume found under dockerd's data-root is
// read; ovpn_run's --crl-verify is added when pki/crl.pem exists (a CRL
// that cannot be parsed is an error, never a pass); a replaced command is
// an error.
TEST(ComposeVpn, KylemannaNamedVolumeUnderDataRootAndOvpnRunArguments) {
  TempRoot r;
  r.write("/srv/ovpn/compose.yaml", "name: edge\n"
                                    "services:\n"
                                    "  openvpn:\n"
                                    "    image: kylemanna/openvpn\n"
                                    "    volumes:\n"
                                    "      - data:/etc/openvpn\n"
                                    "volumes:\n"
                                    "  data:\n");
  r.write("/etc/docker/daemon.json", "{\"data-root\": \"/srv/docker\"}\n");
  const std::string vol = "/srv/docker/volumes/edge_data/_data";
  r.write(vol + "/openvpn.conf", "server 192.168.255.0 255.255.255.0\n"
                                 "tls-auth /etc/openvpn/pki/ta.key\n"
                                 "user nobody\ngroup nogroup\npersist-key\npersist-tun\n"
                                 "client-to-client\n");
  auto f = audit(r);
  const Finding &rev = f.get("vpn.openvpn-revocation", "edge/openvpn");
  EXPECT_EQ(rev.status, Status::fail) << rev.message;
  EXPECT_NE(rev.message.find("no crl-verify"), std::string::npos) << rev.message;
  EXPECT_NE(rev.message.find("client-to-client"), std::string::npos) << rev.message;
  EXPECT_EQ(f.get("vpn.openvpn-hmac-firewall", "edge/openvpn").status, Status::pass);
  r.write(vol + "/pki/crl.pem", "not a CRL\n");
  f = audit(r);
  const Finding &crl = f.get("vpn.openvpn-revocation", "edge/openvpn");
  EXPECT_EQ(crl.status, Status::error) << crl.message;
  EXPECT_NE(crl.message.find(vol + "/pki/crl.pem"), std::string::npos) << crl.message;
  r.write("/srv/ovpn/compose.yaml", "name: edge\n"
                                    "services:\n"
                                    "  openvpn:\n"
                                    "    image: kylemanna/openvpn\n"
                                    "    command: [\"openvpn\", \"--config\", \"/x.conf\"]\n"
                                    "    volumes:\n"
                                    "      - data:/etc/openvpn\n"
                                    "volumes:\n"
                                    "  data:\n");
  f = audit(r);
  const Finding &cmd = f.get("vpn.openvpn-tls", "edge/openvpn");
  EXPECT_EQ(cmd.status, Status::error) << cmd.message;
  EXPECT_NE(cmd.message.find("compose.yaml:5"), std::string::npos) << cmd.message;
}

TEST(ComposeVpn, LibreswanProposalsSplitAtTheDhSeparator) {
  EXPECT_EQ(strongswan::weak_algorithms("aes256-sha2;modp2048,aes128-sha1;modp1024"),
            (std::vector<std::string>{"sha1", "modp1024"}));
  EXPECT_TRUE(strongswan::weak_algorithms("aes256-sha2;modp2048,aes_gcm-null").empty());
}

// The shapes of real compose files from public repositories (the
// images' own examples and users' deployments), audited as a repository
// is, before any container ran: what is not on disk yet is said
// (not_applicable), never failed or passed; wg-easy 15's own example
// publishes its UI on every interface: a warning, not a failure.
TEST(ComposeVpn, RealComposeFilesBeforeFirstStartAreNotJudgedOnGuesses) {
  TempRoot r;
  // linuxserver/docker-wireguard's README example, with ./config absent.
  r.write("/srv/lsio/docker-compose.yml", "---\n"
                                          "services:\n"
                                          "  wireguard:\n"
                                          "    image: lscr.io/linuxserver/wireguard:latest\n"
                                          "    container_name: wireguard\n"
                                          "    cap_add:\n"
                                          "      - NET_ADMIN\n"
                                          "      - SYS_MODULE #optional\n"
                                          "    environment:\n"
                                          "      - PUID=1000\n"
                                          "      - PGID=1000\n"
                                          "      - TZ=Etc/UTC\n"
                                          "      - SERVERURL=wireguard.domain.com #optional\n"
                                          "      - SERVERPORT=51820 #optional\n"
                                          "      - PEERS=1 #optional\n"
                                          "      - PEERDNS=auto #optional\n"
                                          "      - INTERNAL_SUBNET=10.13.13.0 #optional\n"
                                          "      - ALLOWEDIPS=0.0.0.0/0 #optional\n"
                                          "    volumes:\n"
                                          "      - /path/to/wireguard/config:/config\n"
                                          "      - /lib/modules:/lib/modules #optional\n"
                                          "    ports:\n"
                                          "      - 51820:51820/udp\n"
                                          "    sysctls:\n"
                                          "      - net.ipv4.conf.all.src_valid_mark=1\n"
                                          "    restart: unless-stopped\n");
  // A user's host-network deployment on a named volume, variables unset.
  r.write("/srv/hostnet/compose.yaml", "services:\n"
                                       "  wireguard:\n"
                                       "    network_mode: \"host\"\n"
                                       "    image: linuxserver/wireguard\n"
                                       "    environment:\n"
                                       "      - PUID=${USER_ID}\n"
                                       "      - PEERS=${WIREGUARD_PEERS}\n"
                                       "    volumes:\n"
                                       "      - wireguard-config:/config\n"
                                       "volumes:\n"
                                       "  wireguard-config:\n");
  // wg-easy's own docker-compose.yml (15).
  r.write("/srv/wgeasy/docker-compose.yml", "volumes:\n"
                                            "  etc_wireguard:\n"
                                            "services:\n"
                                            "  wg-easy:\n"
                                            "    image: ghcr.io/wg-easy/wg-easy:15\n"
                                            "    volumes:\n"
                                            "      - etc_wireguard:/etc/wireguard\n"
                                            "      - /lib/modules:/lib/modules:ro\n"
                                            "    ports:\n"
                                            "      - \"51820:51820/udp\"\n"
                                            "      - \"51821:51821/tcp\"\n"
                                            "    restart: unless-stopped\n"
                                            "    cap_add:\n"
                                            "      - NET_ADMIN\n"
                                            "      - SYS_MODULE\n");
  // kylemanna/docker-openvpn's docs/docker-compose.md.
  r.write("/srv/ovpn/docker-compose.yml", "version: '2'\n"
                                          "services:\n"
                                          "  openvpn:\n"
                                          "    cap_add:\n"
                                          "     - NET_ADMIN\n"
                                          "    image: kylemanna/openvpn\n"
                                          "    container_name: openvpn\n"
                                          "    ports:\n"
                                          "     - \"1194:1194/udp\"\n"
                                          "    restart: always\n"
                                          "    volumes:\n"
                                          "     - ./openvpn-data/conf:/etc/openvpn\n");
  auto f = audit(r);
  for (const char *subject : {"lsio/wireguard", "hostnet/wireguard"}) {
    const Finding &x = f.get("vpn.wireguard-key-permissions", subject);
    EXPECT_EQ(x.status, Status::not_applicable) << subject << ": " << x.message;
    EXPECT_NE(x.message.find("not visible offline"), std::string::npos) << x.message;
  }
  EXPECT_NE(f.get("vpn.wireguard-key-permissions", "hostnet/wireguard")
                .message.find("/var/lib/docker/volumes/hostnet_wireguard-config/_data"),
            std::string::npos);
  const Finding &easy = f.get("vpn.wireguard-key-permissions", "wgeasy/wg-easy");
  EXPECT_EQ(easy.status, Status::warn) << easy.message;
  for (const char *check : {"vpn.openvpn-tls", "vpn.openvpn-hmac-firewall",
                            "vpn.openvpn-privileges", "vpn.openvpn-revocation"})
    EXPECT_EQ(f.get(check, "ovpn/openvpn").status, Status::not_applicable) << check;
}
