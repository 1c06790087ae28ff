// vpn.* on offline roots: OpenVPN syntax (quotes, `--` names, inline
// blocks, `config`), WireGuard modes and owners, strongSwan proposals in
// swanctl.conf and ipsec.conf; each check passes and fails with file:line.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/checks/facts.hpp>
#include <bulwark/parse/openvpn.hpp>
#include <bulwark/parse/strongswan.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <unistd.h>

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
