// bulwark fix, the nftables recipe (src/fix/recipes/firewall.cpp): a root
// without a firewall -> plan (nft -c judges) -> apply -> every firewall.*
// check passes -> a second plan is empty -> rollback restores the tree byte
// for byte; the ruleset, loaded by the kernel in a network namespace, admits
// SSH from the admin network and refuses it (and closed ports) from
// elsewhere; a host that already passes gets nothing; roots without
// nftables and a masked nftables.service are refused. A ufw host gets the
// same settings in ufw's own files, byte for byte what ufw 0.36.2 itself
// writes for the same commands (run on a scratch copy with --datadir).

#include "../watch/netns.hpp"
#include "fix_support.hpp"

#include <bulwark/core/catalogue.hpp>
#include <bulwark/fix/ansible.hpp>
#include <bulwark/fix/recipe.hpp>

#include <fmt/format.h>

namespace bulwark::fix {
namespace {

using test::run_command;
using test::TempRoot;
using test_support::action_of;
using test_support::plan_only;
using test_support::round_trip;
using test_support::snapshot;
using test_support::status_of;

// Debian 12's /lib/systemd/system/nftables.service (nftables 1.0.6-2).
constexpr const char *k_unit = R"([Unit]
Description=nftables
Documentation=man:nft(8) http://wiki.nftables.org
Wants=network-pre.target
Before=network-pre.target shutdown.target
Conflicts=shutdown.target
DefaultDependencies=no

[Service]
Type=oneshot
RemainAfterExit=yes
StandardInput=null
ProtectSystem=full
ProtectHome=true
ExecStart=/usr/sbin/nft -f /etc/nftables.conf
ExecReload=/usr/sbin/nft -f /etc/nftables.conf
ExecStop=/usr/sbin/nft flush ruleset

[Install]
WantedBy=sysinit.target
)";

// Debian 12's /etc/nftables.conf as the package installs it.
constexpr const char *k_debian_conf = R"(#!/usr/sbin/nft -f

flush ruleset

table inet filter {
	chain input {
		type filter hook input priority filter;
	}
	chain forward {
		type filter hook forward priority filter;
	}
	chain output {
		type filter hook output priority filter;
	}
}
)";

const std::vector<std::string> k_checks = {
    "firewall.enabled",          "firewall.default-deny-incoming", "firewall.ssh-restricted",
    "firewall.ssh-rate-limited", "firewall.allowed-ports",         "firewall.egress-filtering"};

class FixNftables : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE(::geteuid() == 0) << "nft -c runs in a mount namespace (needs root)";
    BULWARK_REQUIRE_TOOL("/usr/sbin/nft") << "(Debian package nftables)";
    r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    r.write("/etc/group", "root:x:0:\n");
    r.write("/etc/ssh/sshd_config", "Port 2222\nPasswordAuthentication no\n");
    r.write("/lib/systemd/system/nftables.service", k_unit);
  }
  TempRoot r;
};

const FileEdit *edit_of(const Action &a, const std::string &path) {
  for (auto &e : a.edits)
    if (e.path == path)
      return &e;
  return nullptr;
}

TEST_F(FixNftables, EveryFirewallCheckRoundTripsThroughOneRulesetThatNftAccepts) {
  Plan plan = round_trip(r.path(), k_checks);
  const Action *first = action_of(plan, "firewall.enabled");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->validators, std::vector<Validator>{Validator::nft});
  EXPECT_EQ(first->restart_units, std::vector<std::string>{"nftables.service"});
  const FileEdit *table = edit_of(*first, "/etc/nftables.d/bulwark.nft");
  const FileEdit *conf = edit_of(*first, "/etc/nftables.conf");
  const FileEdit *link =
      edit_of(*first, "/etc/systemd/system/sysinit.target.wants/nftables.service");
  ASSERT_TRUE(table && conf && link);
  EXPECT_EQ(link->kind, FileEdit::Kind::symlink);
  EXPECT_EQ(link->after, "/lib/systemd/system/nftables.service");
  EXPECT_FALSE(conf->before.has_value());
  EXPECT_NE(conf->after.find("include \"/etc/nftables.d/bulwark.nft\""), std::string::npos);
  // sshd's own port, from the admin network (baseline: 10.0.0.0/8), rate limited.
  EXPECT_NE(table->after.find("ip saddr 10.0.0.0/8 tcp dport 2222 ct state new meter"),
            std::string::npos)
      << table->after;
  EXPECT_EQ(table->after.find("dport 22 "), std::string::npos) << "sshd does not listen on 22";
  EXPECT_NE(table->after.find("policy drop;"), std::string::npos);
  EXPECT_NE(table->after.find("packet-too-big"), std::string::npos) << "PMTU needs it";
  EXPECT_EQ(table->after.find("forward"), std::string::npos) << "forward is left to Docker";
  // The other checks are judged on the same file: no second copy of it.
  for (auto &c : k_checks)
    if (c != "firewall.enabled") {
      const Action *a = action_of(plan, c);
      ASSERT_NE(a, nullptr) << c;
      EXPECT_TRUE(a->edits.empty()) << c;
    }

  // The applied files, judged by nft itself, and the link as systemd reads it.
  ASSERT_TRUE(apply_plan(plan).ok());
  auto nft = run_command("/usr/sbin/nft -c -f '" + r.host("/etc/nftables.d/bulwark.nft") + "'");
  EXPECT_EQ(nft.exit_code, 0) << nft.out << nft.err;
  auto target = std::filesystem::read_symlink(
      r.host("/etc/systemd/system/sysinit.target.wants/nftables.service"));
  EXPECT_EQ(target.string(), "/lib/systemd/system/nftables.service");
  struct stat st;
  ASSERT_EQ(::stat(r.host("/etc/nftables.conf").c_str(), &st), 0);
  EXPECT_EQ(st.st_mode & 07777, 0755u);
  ASSERT_TRUE(rollback(r.path(), "all").ok());
  EXPECT_FALSE(std::filesystem::exists(
      std::filesystem::symlink_status(r.host("/etc/systemd/system/sysinit.target.wants/"
                                             "nftables.service"))))
      << "the rollback removes the enablement link";
}

TEST_F(FixNftables, DebiansOwnNftablesConfIsKeptAndIncludesTheTable) {
  r.write("/etc/nftables.conf", k_debian_conf, 0755);
  Plan plan = round_trip(r.path(), {"firewall.enabled", "firewall.default-deny-incoming"});
  const Action *a = action_of(plan, "firewall.enabled");
  ASSERT_NE(a, nullptr);
  const FileEdit *conf = edit_of(*a, "/etc/nftables.conf");
  ASSERT_NE(conf, nullptr);
  EXPECT_EQ(conf->after, std::string(k_debian_conf) + "include \"/etc/nftables.d/bulwark.nft\"\n");
}

TEST_F(FixNftables, PassingConfigurationGetsNoAction) {
  r.write("/etc/nftables.conf", R"(#!/usr/sbin/nft -f
flush ruleset
table inet filter {
	chain input {
		type filter hook input priority filter; policy drop;
		iif "lo" accept
		ct state established,related accept
		ip saddr 10.0.0.0/8 tcp dport 2222 ct state new limit rate 3/minute accept
		tcp dport 443 accept
		udp dport 443 accept
	}
	chain output {
		type filter hook output priority filter; policy drop;
		oif "lo" accept
		ct state established,related accept
		udp dport 53 accept
	}
}
)",
          0755);
  r.symlink("/lib/systemd/system/nftables.service",
            "/etc/systemd/system/sysinit.target.wants/nftables.service");
  for (auto &c : k_checks)
    EXPECT_EQ(status_of(r.path(), c), Status::pass) << c;
  auto before = snapshot(r.path());
  PlanRequest req;
  req.root = r.path();
  req.only = k_checks;
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  EXPECT_TRUE(plan->actions.empty());
  EXPECT_TRUE(plan->refused.empty());
  auto now = snapshot(r.path());
  EXPECT_TRUE(now == before) << test_support::tree_diff(before, now);
}

TEST_F(FixNftables, WithoutNftablesOrWithItMaskedTheFixIsRefused) {
  std::filesystem::remove(r.host("/lib/systemd/system/nftables.service"));
  Plan none = plan_only(r, {"firewall.enabled"});
  EXPECT_TRUE(none.actions.empty());
  ASSERT_EQ(none.refused.size(), 1u);
  EXPECT_NE(none.refused[0].reason.find("apt-get install nftables"), std::string::npos)
      << none.refused[0].reason;
  r.write("/lib/systemd/system/nftables.service", k_unit);
  r.symlink("/dev/null", "/etc/systemd/system/nftables.service");
  Plan masked = plan_only(r, {"firewall.enabled"});
  EXPECT_TRUE(masked.actions.empty());
  ASSERT_EQ(masked.refused.size(), 1u);
  EXPECT_NE(masked.refused[0].reason.find("masked"), std::string::npos) << masked.refused[0].reason;
}

TEST_F(FixNftables, AnAdminListThatAdmitsNobodyIsRefused) {
  r.write("/profile.yaml", "name: nobody\nparameters:\n"
                           "  firewall.ssh-restricted: {admin-sources: [], "
                           "rate-limit-suffices: \"no\"}\n");
  Plan plan = plan_only(r, {"firewall.enabled"}, {r.host("/profile.yaml")});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("lock every operator out"), std::string::npos)
      << plan.refused[0].reason;
}

// Every "{check:param}" of a recipe names a parameter of a check.
TEST(FixRecipeCatalogue, CrossCheckParametersExist) {
  int seen = 0;
  for (auto &c : Catalogue::builtin().checks()) {
    if (!c.recipe)
      continue;
    for (auto &[k, v] : c.recipe->set) {
      auto colon = v.find(':');
      if (v.size() < 3 || v.front() != '{' || v.back() != '}' || colon == std::string::npos)
        continue;
      ++seen;
      const CheckSpec *other = Catalogue::builtin().find(v.substr(1, colon - 1));
      ASSERT_NE(other, nullptr) << c.id << ": " << v;
      EXPECT_NE(other->find_param(v.substr(colon + 1, v.size() - colon - 2)), nullptr)
          << c.id << ": " << v;
    }
  }
  EXPECT_GE(seen, 4);
}

// The kernel's verdict: the generated table loaded in namespace S; peer A is
// the admin network (the profile's admin source), peer B is not.
struct Namespaces : test::PeerNamespaces {
  Namespaces() : PeerNamespaces("fixfw", 202, 'x') {}
  bool setup(std::string &why) {
    return PeerNamespaces::setup(fmt::format("ip netns exec {} nft list ruleset >/dev/null", s),
                                 why);
  }
};

TEST_F(FixNftables, TheLoadedRulesetAdmitsSshFromTheAdminNetworkOnlyAndClosesTheRest) {
  BULWARK_REQUIRE_TOOL("ip") << "(iproute2)";
  BULWARK_REQUIRE_TOOL("curl") << "(curl)";
  Namespaces ns;
  std::string why;
  BULWARK_REQUIRE(ns.setup(why)) << "cannot create network namespaces with nftables: " << why;
  // A's /30 is the admin network; B (.6) lies outside it.
  r.write("/profile.yaml", fmt::format("name: netns\nparameters:\n"
                                       "  firewall.ssh-restricted: {{admin-sources: [\"{}/30\"], "
                                       "rate-limit-suffices: \"no\"}}\n"
                                       "  firewall.allowed-ports: {{ports: [\"443/tcp\"]}}\n",
                                       ns.ip(0)));
  PlanRequest req;
  req.root = r.path();
  req.profiles = {r.host("/profile.yaml")};
  req.only = k_checks;
  auto plan = make_plan(req);
  ASSERT_TRUE(plan.ok()) << plan.error().to_string();
  for (auto &ref : plan->refused)
    ADD_FAILURE() << "refused " << ref.check_id << ": " << ref.reason;
  ASSERT_TRUE(apply_plan(*plan).ok());

  // Servers in S on the SSH port, an allowed port and a port no rule opens.
  for (int port : {2222, 443, 8080}) {
    std::string pid = r.host("/http" + std::to_string(port) + ".pid");
    ns.pidfiles.push_back(pid);
    run_command(fmt::format("{{ ip netns exec {} python3 -m http.server {} --bind 0.0.0.0 "
                            "--directory {} >/dev/null 2>&1 & echo $! > {}; }}",
                            ns.s, port, r.path(), pid));
  }
  // A DROP is seen by one request with a 2 s deadline; a connection that
  // must work gets 10 s (three Python servers answer late under CI's load),
  // in one request: SSH is rate limited per source, so retries would count.
  auto connects = [&](const std::string &from, const std::string &to, int port, int deadline = 2) {
    return run_command(fmt::format("ip netns exec {} curl -s -o /dev/null -m {} http://{}:{}/",
                                   from, deadline, to, port))
               .exit_code == 0;
  };
  ASSERT_TRUE(test::wait_for([&] { return connects(ns.b, ns.ip(5), 8080); }, 20000))
      << "the servers did not start";
  auto load =
      run_command(ns.in_s("/usr/sbin/nft -f '" + r.host("/etc/nftables.d/bulwark.nft") + "'"));
  ASSERT_EQ(load.exit_code, 0) << load.out << load.err;

  EXPECT_TRUE(connects(ns.a, ns.ip(1), 2222, 10)) << "the admin network lost SSH";
  EXPECT_FALSE(connects(ns.b, ns.ip(5), 2222)) << "SSH is open outside the admin network";
  EXPECT_TRUE(connects(ns.b, ns.ip(5), 443, 10)) << "the allowed port is closed";
  EXPECT_FALSE(connects(ns.a, ns.ip(1), 8080)) << "a port no rule opens is reachable";
  EXPECT_FALSE(connects(ns.b, ns.ip(5), 8080)) << "a port no rule opens is reachable";
  // Loading it again replaces the table (no duplicate, no error).
  auto again =
      run_command(ns.in_s("/usr/sbin/nft -f '" + r.host("/etc/nftables.d/bulwark.nft") + "'"));
  EXPECT_EQ(again.exit_code, 0) << again.err;
  auto tables = run_command(ns.in_s("/usr/sbin/nft list tables"));
  EXPECT_EQ(tables.out, "table inet bulwark_filter\n");
  EXPECT_TRUE(connects(ns.a, ns.ip(1), 2222, 10));
  ASSERT_TRUE(rollback(r.path(), "all").ok());
}

// ---------------------------------------------------------------------------
// ufw hosts.

// Debian 12's /etc/default/ufw (ufw 0.36.2-1), but with the default input
// policy someone opened ("ufw default allow incoming").
constexpr const char *k_ufw_defaults = R"(# /etc/default/ufw
#

# Set to yes to apply rules to support IPv6 (no means only IPv6 on loopback
# accepted). You will need to 'disable' and then 'enable' the firewall for
# the changes to take affect.
IPV6=yes

# Set the default input policy to ACCEPT, DROP, or REJECT. Please note that if
# you change this you will most likely want to adjust your rules.
DEFAULT_INPUT_POLICY="ACCEPT"

# Set the default output policy to ACCEPT, DROP, or REJECT. Please note that if
# you change this you will most likely want to adjust your rules.
DEFAULT_OUTPUT_POLICY="ACCEPT"

# Set the default forward policy to ACCEPT, DROP or REJECT.  Please note that
# if you change this you will most likely want to adjust your rules
DEFAULT_FORWARD_POLICY="DROP"

# Set the default application policy to ACCEPT, DROP, REJECT or SKIP. Please
# note that setting this to ACCEPT may be a security risk. See 'man ufw' for
# details
DEFAULT_APPLICATION_POLICY="SKIP"

# By default, ufw only touches its own chains. Set this to 'yes' to have ufw
# manage the built-in chains too. Warning: setting this to 'yes' will break
# non-ufw managed firewall rules
MANAGE_BUILTINS=no

#
# IPT backend
#
# only enable if using iptables backend
IPT_SYSCTL=/etc/ufw/sysctl.conf

# Extra connection tracking modules to load. IPT_MODULES should typically be
# empty for new installations and modules added only as needed. See
# 'CONNECTION HELPERS' from 'man ufw-framework' for details. Complete list can
# be found in net/netfilter/Kconfig of your kernel source. Some common modules:
# nf_conntrack_irc, nf_nat_irc: DCC (Direct Client to Client) support
# nf_conntrack_netbios_ns: NetBIOS (samba) client support
# nf_conntrack_pptp, nf_nat_pptp: PPTP over stateful firewall/NAT
# nf_conntrack_ftp, nf_nat_ftp: active FTP support
# nf_conntrack_tftp, nf_nat_tftp: TFTP support (server side)
# nf_conntrack_sane: sane support
IPT_MODULES=""
)";

std::string read_host(const std::string &path) {
  std::ifstream in(path, std::ios::binary);
  EXPECT_TRUE(in.good()) << path;
  return test::read_all(in);
}

// A root as the ufw package installs it (its pristine files from
// /usr/share/ufw), never enabled: every firewall.* check fails.
class FixUfw : public ::testing::Test {
protected:
  void SetUp() override {
    BULWARK_REQUIRE(::geteuid() == 0) << "ufw and iptables-restore --test need root";
    BULWARK_REQUIRE_TOOL("/usr/sbin/ufw") << "(Debian package ufw)";
    BULWARK_REQUIRE_TOOL("/usr/sbin/iptables-restore") << "(Debian package iptables)";
    BULWARK_REQUIRE_TOOL("unshare") << "(util-linux)";
    r.write("/etc/passwd", "root:x:0:0:root:/root:/bin/bash\n");
    r.write("/etc/group", "root:x:0:\n");
    r.write("/etc/ssh/sshd_config", "Port 2222\nPasswordAuthentication no\n");
    r.write("/lib/systemd/system/ufw.service", read_host("/lib/systemd/system/ufw.service"));
    r.write("/etc/default/ufw", k_ufw_defaults);
    r.write("/etc/ufw/ufw.conf", read_host("/usr/share/ufw/ufw.conf"));
    for (const char *f : {"before", "before6", "after", "after6", "user", "user6"})
      r.write(std::string("/etc/ufw/") + f + ".rules",
              read_host(std::string("/usr/share/ufw/iptables/") + f + ".rules"), 0640);
  }
  // ufw itself on `dir` (a root's copy): --datadir relocates /etc/ufw and
  // /etc/default/ufw (and its lock, /lib/ufw); a network namespace of its
  // own, so the capability probes never touch the host's tables.
  test::RunResult ufw(const std::string &dir, const std::string &args) {
    std::filesystem::create_directories(dir + "/lib/ufw");
    std::filesystem::create_directories(dir + "/etc/ufw/applications.d"); // ufw needs it
    auto res = run_command("unshare -n /usr/sbin/ufw --datadir=" + dir + " " + args);
    EXPECT_EQ(res.exit_code, 0) << "ufw " << args << ": " << res.out << res.err;
    return res;
  }
  // A copy of the root's ufw files in a scratch directory.
  void copy_ufw(const std::string &from, const std::string &to) {
    std::filesystem::create_directories(to + "/etc/default");
    std::filesystem::copy(from + "/etc/ufw", to + "/etc/ufw",
                          std::filesystem::copy_options::recursive);
    std::filesystem::copy_file(from + "/etc/default/ufw", to + "/etc/default/ufw");
  }
  TempRoot r;
};

// What the recipe must do, as ufw commands (the baseline profile: SSH from
// 10.0.0.0/8, 443/tcp and 443/udp open, egress filtered).
const std::vector<std::string> k_ufw_commands = {"default deny incoming",
                                                 "default deny outgoing",
                                                 "limit from 10.0.0.0/8 to any port 2222 proto tcp",
                                                 "allow 443/tcp",
                                                 "allow 443/udp",
                                                 "allow out 53/tcp",
                                                 "allow out 53/udp",
                                                 "allow out 123/udp",
                                                 "allow out 80/tcp",
                                                 "allow out 443/tcp"};

TEST_F(FixUfw, EveryFirewallCheckRoundTripsThroughUfwsOwnFilesAsUfwWritesThem) {
  TempRoot scratch;
  copy_ufw(r.path(), scratch.path() + "/ufw-original");
  Plan plan = round_trip(r.path(), k_checks);
  const Action *first = action_of(plan, "firewall.enabled");
  ASSERT_NE(first, nullptr);
  EXPECT_EQ(first->validators, (std::vector<Validator>{Validator::iptables, Validator::ip6tables}));
  EXPECT_EQ(first->restart_units, std::vector<std::string>{"ufw.service"});
  for (const char *p :
       {"/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw", "/etc/ufw/ufw.conf"})
    EXPECT_NE(edit_of(*first, p), nullptr) << p;
  const FileEdit *link = edit_of(*first, "/etc/systemd/system/multi-user.target.wants/ufw.service");
  ASSERT_NE(link, nullptr);
  EXPECT_EQ(link->kind, FileEdit::Kind::symlink);
  EXPECT_EQ(link->after, "/lib/systemd/system/ufw.service");
  for (auto &e : first->edits)
    EXPECT_FALSE(e.path.starts_with("/etc/nftables")) << "a second firewall beside ufw: " << e.path;
  for (auto &c : k_checks)
    if (c != "firewall.enabled") {
      const Action *a = action_of(plan, c);
      ASSERT_NE(a, nullptr) << c;
      EXPECT_TRUE(a->edits.empty()) << c;
    }
  // A playbook checks the rules files with the same programs before it
  // puts them in place.
  std::string playbook = render_ansible(plan);
  EXPECT_NE(playbook.find("validate: !unsafe \"/usr/sbin/iptables-restore --test %s\""),
            std::string::npos);
  EXPECT_NE(playbook.find("validate: !unsafe \"/usr/sbin/ip6tables-restore --test %s\""),
            std::string::npos);
  ASSERT_TRUE(apply_plan(plan).ok());

  // The kernel's parser accepts both rules files as they stand.
  for (auto [tool, file] : {std::pair{"iptables-restore", "/etc/ufw/user.rules"},
                            std::pair{"ip6tables-restore", "/etc/ufw/user6.rules"}}) {
    auto t = run_command(std::string("unshare -n ") + tool + " --test '" + r.host(file) + "'");
    EXPECT_EQ(t.exit_code, 0) << tool << ": " << t.out << t.err;
  }
  // ufw, told the same on the original files, writes the same bytes.
  std::string by_ufw = scratch.path() + "/ufw-original";
  for (auto &cmd : k_ufw_commands)
    ufw(by_ufw, cmd);
  for (const char *f : {"/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw"})
    EXPECT_EQ(read_host(r.host(f)), read_host(by_ufw + f)) << f << " differs from ufw's own";
  // `ufw enable` loads the rules at once (not offline): ENABLED=yes is the
  // only line of ufw.conf that changes.
  std::string conf = read_host(by_ufw + "/etc/ufw/ufw.conf");
  auto at = conf.find("\nENABLED=no\n");
  ASSERT_NE(at, std::string::npos) << conf;
  conf.replace(at, 12, "\nENABLED=yes\n");
  EXPECT_EQ(read_host(r.host("/etc/ufw/ufw.conf")), conf);

  // ufw reads the fixed root back: its own listing of the added rules.
  std::string fixed = scratch.path() + "/ufw-fixed";
  copy_ufw(r.path(), fixed);
  auto added = ufw(fixed, "show added");
  for (auto &cmd : k_ufw_commands)
    if (!cmd.starts_with("default")) {
      EXPECT_NE(added.out.find("ufw " + cmd + "\n"), std::string::npos) << cmd << " not listed:\n"
                                                                        << added.out;
    }
  auto verbose = ufw(fixed, "status verbose");
  EXPECT_NE(verbose.out.find("Status: "), std::string::npos) << verbose.out;
  // And keeps working on it: a later `ufw allow` adds its rule after ours.
  // (With ENABLED=yes ufw would also insert it into the running tables,
  // which the scratch network namespace does not have: the copy says no.)
  std::string copy_conf = read_host(fixed + "/etc/ufw/ufw.conf");
  copy_conf.replace(copy_conf.find("\nENABLED=yes\n"), 13, "\nENABLED=no\n");
  std::ofstream(fixed + "/etc/ufw/ufw.conf", std::ios::trunc) << copy_conf;
  ufw(fixed, "allow from 10.0.0.0/8 to any port 5432 proto tcp");
  auto more = ufw(fixed, "show added");
  EXPECT_NE(more.out.find("ufw allow from 10.0.0.0/8 to any port 5432 proto tcp"),
            std::string::npos)
      << more.out;
  ASSERT_TRUE(rollback(r.path(), "all").ok());
}

// Rules the administrator added with ufw stay, byte for byte, in their
// place; the logging section follows the LOGLEVEL as ufw writes it.
TEST_F(FixUfw, TheUsersOwnUfwRulesAndLogLevelAreKept) {
  for (const char *level : {"off", "medium", "high", "full"}) {
    SCOPED_TRACE(level);
    TempRoot root, scratch;
    for (auto &entry : std::filesystem::recursive_directory_iterator(r.path())) {
      std::string rel = entry.path().string().substr(r.path().size());
      if (entry.is_directory())
        std::filesystem::create_directories(root.host(rel));
      else
        std::filesystem::copy_file(entry.path(), root.host(rel));
    }
    // The administrator's earlier ufw commands, run by ufw on the root.
    ufw(root.path(), std::string("logging ") + level);
    ufw(root.path(), "allow from 10.1.2.0/24 to any port 5432 proto tcp");
    ufw(root.path(), "allow from 2001:db8::/32 to any port 5432 proto tcp");
    std::filesystem::remove_all(root.host("/lib/ufw"));
    std::string by_ufw = scratch.path() + "/ufw";
    copy_ufw(root.path(), by_ufw);

    Plan plan = round_trip(root.path(), k_checks);
    ASSERT_TRUE(apply_plan(plan).ok());
    for (auto &cmd : k_ufw_commands)
      ufw(by_ufw, cmd);
    for (const char *f : {"/etc/ufw/user.rules", "/etc/ufw/user6.rules", "/etc/default/ufw"})
      EXPECT_EQ(read_host(root.host(f)), read_host(by_ufw + f)) << f << " differs from ufw's own";
    std::string rules = read_host(root.host("/etc/ufw/user.rules"));
    EXPECT_LT(rules.find("--dport 5432 -s 10.1.2.0/24"), rules.find("--dport 2222"))
        << "the user's rule first, as ufw appends";
  }
}

TEST_F(FixUfw, ARuleUfwDidNotWriteIsRefusedNotDropped) {
  std::string user = read_host("/usr/share/ufw/iptables/user.rules");
  auto at = user.find("### RULES ###\n");
  ASSERT_NE(at, std::string::npos);
  user.insert(at + 14, "-A ufw-user-input -p tcp --dport 8080 -j ACCEPT\n");
  r.write("/etc/ufw/user.rules", user, 0640);
  Plan plan = plan_only(r, {"firewall.enabled"});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("a rule ufw did not write"), std::string::npos)
      << plan.refused[0].reason;
}

// ufw with IPV6=no filters IPv4 only (and drops IPv6): IPv6 admin sources
// alone would leave no way in.
TEST_F(FixUfw, OnlyIpv6AdminSourcesWithIpv6OffAreRefused) {
  std::string defaults = k_ufw_defaults;
  defaults.replace(defaults.find("IPV6=yes"), 8, "IPV6=no");
  r.write("/etc/default/ufw", defaults);
  r.write("/profile.yaml", "name: v6\nparameters:\n"
                           "  firewall.ssh-restricted: {admin-sources: [\"2001:db8::/32\"], "
                           "rate-limit-suffices: \"no\"}\n");
  Plan plan = plan_only(r, {"firewall.enabled"}, {r.host("/profile.yaml")});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("lock every operator out"), std::string::npos)
      << plan.refused[0].reason;
}

TEST_F(FixUfw, AMaskedUfwIsRefused) {
  r.symlink("/dev/null", "/etc/systemd/system/ufw.service");
  Plan plan = plan_only(r, {"firewall.enabled"});
  EXPECT_TRUE(plan.actions.empty());
  ASSERT_EQ(plan.refused.size(), 1u);
  EXPECT_NE(plan.refused[0].reason.find("masked"), std::string::npos) << plan.refused[0].reason;
}

} // namespace
} // namespace bulwark::fix
