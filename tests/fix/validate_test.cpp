// validate() with the real checkers: for each validator an overlay the
// daemon accepts, one it rejects (its message names the file and line), and
// proof that the root is byte for byte (content, mode, owner, mtime) the
// same afterwards.

#include <bulwark/fix/validate.hpp>

#include "../support.hpp"

#include <chrono>
#include <filesystem>
#include <fstream>
#include <map>
#include <sys/stat.h>

namespace bulwark::fix {
namespace {

using bulwark::test::TempRoot;

// Everything about a tree that a write would change.
std::map<std::string, std::string> snapshot(const std::string &dir) {
  std::map<std::string, std::string> out;
  std::error_code ec;
  auto describe = [](const std::filesystem::path &p) {
    struct stat st;
    if (::lstat(p.c_str(), &st) != 0)
      return std::string("?");
    std::string s = std::to_string(st.st_mode) + ":" + std::to_string(st.st_uid) + ":" +
                    std::to_string(st.st_gid) + ":" + std::to_string(st.st_mtim.tv_sec) + "." +
                    std::to_string(st.st_mtim.tv_nsec) + ":";
    if (S_ISREG(st.st_mode)) {
      std::ifstream in(p, std::ios::binary);
      s += bulwark::test::read_all(in);
    } else if (S_ISLNK(st.st_mode)) {
      s += std::filesystem::read_symlink(p).string();
    }
    return s;
  };
  out[dir] = describe(dir);
  for (auto it = std::filesystem::recursive_directory_iterator(
           dir, std::filesystem::directory_options::skip_permission_denied, ec);
       it != std::filesystem::recursive_directory_iterator(); it.increment(ec))
    out[it->path().string()] = describe(it->path());
  return out;
}

// Validates and checks the root did not change; returns the verdict.
Validation run(Validator v, const std::string &root, const Overlay &overlay,
               const std::string &watched) {
  auto before = snapshot(watched);
  auto r = validate(v, root, overlay);
  auto after = snapshot(watched);
  EXPECT_EQ(before, after) << "validate() changed " << watched;
  EXPECT_GT(before.size(), 1u);
  if (!r.ok()) {
    ADD_FAILURE() << r.error().to_string();
    return {};
  }
  EXPECT_FALSE(r->program.empty());
  return *r;
}

class Validate : public ::testing::Test {
protected:
  void SetUp() override { BULWARK_REQUIRE(::geteuid() == 0) << "needs root (mount namespaces)"; }
  TempRoot m_root;
};

TEST_F(Validate, SshdAcceptsADropInAndRejectsABadValueByLine) {
  BULWARK_REQUIRE_TOOL("/usr/sbin/sshd") << "(openssh-server)";
  m_root.write("/etc/ssh/sshd_config",
               "Include /etc/ssh/sshd_config.d/*.conf\nPermitRootLogin yes\n");
  // No host key in the root: a throwaway one is placed in the namespace.
  auto ok =
      run(Validator::sshd, m_root.path(),
          {{"/etc/ssh/sshd_config.d/00-bulwark.conf", "PermitRootLogin no\n"}}, m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  auto bad = run(Validator::sshd, m_root.path(),
                 {{"/etc/ssh/sshd_config.d/00-bulwark.conf", "X11Forwarding no\nPermitRootLogin "
                                                             "maybe\n"}},
                 m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("00-bulwark.conf line 2"), std::string::npos) << bad.output;
  // The overlay really is what sshd reads: the same text in the main file.
  auto main_bad = run(Validator::sshd, m_root.path(),
                      {{"/etc/ssh/sshd_config", "PermitRootLogin maybe\n"}}, m_root.path());
  EXPECT_FALSE(main_bad.accepted);
  EXPECT_NE(main_bad.output.find("sshd_config line 1"), std::string::npos) << main_bad.output;
  EXPECT_FALSE(std::filesystem::exists(m_root.host("/etc/ssh/sshd_config.d")));
}

TEST_F(Validate, TheCheckersOutputIsCapped) {
  BULWARK_REQUIRE_TOOL("/usr/sbin/sshd") << "(openssh-server)";
  m_root.write("/etc/ssh/sshd_config", "PermitRootLogin no\n");
  std::string many;
  for (int i = 0; i < 4000; ++i)
    many += "BogusOption" + std::to_string(i) + " yes\n";
  auto bad = run(Validator::sshd, m_root.path(), {{"/etc/ssh/sshd_config", many}}, m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("line 1: Bad configuration option"), std::string::npos);
  EXPECT_NE(bad.output.find("[output cut at 65536 bytes]"), std::string::npos);
  EXPECT_LT(bad.output.size(), 65536u + 100u);
}

TEST_F(Validate, AHangingCheckerIsKilledAndIsAnError) {
  BULWARK_REQUIRE_TOOL("nginx") << "(nginx)";
  // nginx opens the included FIFO and blocks: no writer ever comes.
  m_root.write("/etc/nginx/nginx.conf", "events {}\ninclude /etc/nginx/fifo;\n");
  ASSERT_EQ(::mkfifo(m_root.host("/etc/nginx/fifo").c_str(), 0644), 0);
  auto before = snapshot(m_root.path());
  auto t0 = std::chrono::steady_clock::now();
  ValidateLimits limits;
  limits.timeout_seconds = 2;
  auto r = validate(Validator::nginx, m_root.path(), {{"/etc/nginx/conf.d/x.conf", "\n"}}, limits);
  auto elapsed = std::chrono::steady_clock::now() - t0;
  ASSERT_FALSE(r.ok()) << "a hang must never be an acceptance";
  EXPECT_NE(r.error().message.find("timed out after 2 s"), std::string::npos)
      << r.error().to_string();
  EXPECT_LT(elapsed, bulwark::test::hang_bound(std::chrono::seconds(20)));
  EXPECT_EQ(before, snapshot(m_root.path()));
}

TEST_F(Validate, SshdOnTheHostRootLeavesItAlone) {
  BULWARK_REQUIRE_TOOL("/usr/sbin/sshd") << "(openssh-server)";
  BULWARK_REQUIRE(std::filesystem::exists("/etc/ssh/sshd_config")) << "no /etc/ssh/sshd_config";
  auto bad = run(Validator::sshd, "/",
                 {{"/etc/ssh/sshd_config.d/zz-bulwark-validate-test.conf", "Port notaport\n"}},
                 "/etc/ssh");
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("zz-bulwark-validate-test.conf line 1"), std::string::npos)
      << bad.output;
}

TEST_F(Validate, SshdChrootedIntoARootThatHasIt) {
  std::string debian;
  BULWARK_REQUIRE_DEBIAN_ROOT(debian);
  BULWARK_REQUIRE(std::filesystem::exists(debian + "/usr/sbin/sshd")) << "no sshd in the root";
  auto bad = run(Validator::sshd, debian, {{"/etc/ssh/sshd_config", "PermitRootLogin maybe\n"}},
                 debian + "/etc/ssh");
  EXPECT_FALSE(bad.accepted);
  // The root's own program judged it, inside the root.
  EXPECT_EQ(bad.program.rfind("/usr/sbin/sshd -t", 0), 0u) << bad.program;
  EXPECT_NE(bad.output.find("line 1"), std::string::npos) << bad.output;
  auto ok = run(Validator::sshd, debian, {{"/etc/ssh/sshd_config", "PermitRootLogin no\n"}},
                debian + "/etc/ssh");
  EXPECT_TRUE(ok.accepted) << ok.output;
}

TEST_F(Validate, VisudoFollowsIncludes) {
  BULWARK_REQUIRE_TOOL("visudo") << "(sudo)";
  m_root.write("/etc/sudoers",
               "Defaults env_reset\nroot ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n", 0440);
  m_root.write("/etc/sudoers.d/README", "# nothing\n", 0440);
  auto ok =
      run(Validator::visudo, m_root.path(),
          {{"/etc/sudoers.d/bulwark", "Defaults use_pty\nDefaults logfile=/var/log/sudo.log\n"}},
          m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  auto bad =
      run(Validator::visudo, m_root.path(),
          {{"/etc/sudoers.d/bulwark", "Defaults use_pty\nalice ALL=(ALL ALL\n"}}, m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("/etc/sudoers.d/bulwark:2:"), std::string::npos) << bad.output;
}

TEST_F(Validate, NginxTestsTheWholeConfiguration) {
  BULWARK_REQUIRE_TOOL("nginx") << "(nginx)";
  m_root.write("/etc/nginx/nginx.conf",
               "events {}\nhttp {\n  access_log off;\n  include /etc/nginx/conf.d/*.conf;\n"
               "  server { listen 127.0.0.1:18080; }\n}\n");
  m_root.mkdir("/etc/nginx/conf.d");
  auto ok = run(Validator::nginx, m_root.path(),
                {{"/etc/nginx/conf.d/bulwark.conf", "server_tokens off;\n"}}, m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  auto bad = run(Validator::nginx, m_root.path(),
                 {{"/etc/nginx/conf.d/bulwark.conf", "\nserver_tokens maybe;\n"}}, m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("/etc/nginx/conf.d/bulwark.conf:2"), std::string::npos) << bad.output;
}

TEST_F(Validate, NftChecksTheRuleset) {
  BULWARK_REQUIRE_TOOL("nft") << "(nftables)";
  const std::string head = "flush ruleset\ntable inet filter {\n  chain input {\n"
                           "    type filter hook input priority 0; policy accept;\n";
  m_root.write("/etc/nftables.conf", head + "  }\n}\n");
  auto ok =
      run(Validator::nft, m_root.path(),
          {{"/etc/nftables.conf", head + "    tcp dport 22 accept\n  }\n}\n"}}, m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  auto bad =
      run(Validator::nft, m_root.path(),
          {{"/etc/nftables.conf", head + "    tcp dport 22 acept\n  }\n}\n"}}, m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("/etc/nftables.conf:5:"), std::string::npos) << bad.output;
}

// ufw's user rules: iptables-restore --test judges each family's file; a
// rule it rejects (an unknown match) is named by line. (iptables-nft's
// --test does not resolve jumps: a jump to an undeclared chain passes.)
TEST_F(Validate, IptablesRestoreTestsUfwsUserRules) {
  BULWARK_REQUIRE_TOOL("iptables-restore") << "(iptables)";
  const std::string head = "*filter\n:ufw-user-input - [0:0]\n### RULES ###\n";
  m_root.write("/etc/ufw/user.rules", head + "COMMIT\n", 0640);
  m_root.write("/etc/ufw/user6.rules", "*filter\n:ufw6-user-input - [0:0]\nCOMMIT\n", 0640);
  auto ok = run(Validator::iptables, m_root.path(),
                {{"/etc/ufw/user.rules",
                  head + "-A ufw-user-input -p tcp --dport 22 -s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n"}},
                m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  auto bad = run(Validator::iptables, m_root.path(),
                 {{"/etc/ufw/user.rules",
                   head + "-A ufw-user-input -p tcp --dport 22 -m recnt --set\nCOMMIT\n"}},
                 m_root.path());
  EXPECT_FALSE(bad.accepted) << bad.output;
  EXPECT_NE(bad.output.find("line: 4"), std::string::npos) << bad.output;
  // An IPv4 address in the IPv6 file: ip6tables-restore rejects it.
  auto v6 = run(Validator::ip6tables, m_root.path(),
                {{"/etc/ufw/user6.rules", "*filter\n:ufw6-user-input - [0:0]\n-A ufw6-user-input "
                                          "-s 10.0.0.0/8 -j ACCEPT\nCOMMIT\n"}},
                m_root.path());
  EXPECT_FALSE(v6.accepted) << v6.output;
}

TEST_F(Validate, PostgresParsesTheConfAndItsConfD) {
  BULWARK_REQUIRE_TOOL("postgres") << "(postgresql; /usr/local/bin/postgres here)";
  const std::string dir = "/etc/postgresql/15/main";
  m_root.write(dir + "/postgresql.conf", "data_directory = '/var/lib/postgresql/15/main'\n"
                                         "hba_file = '/etc/postgresql/15/main/pg_hba.conf'\n"
                                         "ident_file = '/etc/postgresql/15/main/pg_ident.conf'\n"
                                         "include_dir = 'conf.d'\n");
  m_root.write(dir + "/pg_hba.conf", "local all postgres peer\n");
  m_root.mkdir(dir + "/conf.d");
  ::chmod(m_root.path().c_str(), 0755); // postgres runs unprivileged
  auto ok = run(Validator::postgres, m_root.path(),
                {{dir + "/conf.d/90-bulwark.conf", "log_connections = on\n"}}, m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  auto bad =
      run(Validator::postgres, m_root.path(),
          {{dir + "/conf.d/90-bulwark.conf", "log_connections = on\nssl = = on\n"}}, m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("90-bulwark.conf\" line 2"), std::string::npos) << bad.output;
}

TEST_F(Validate, Fail2banTestsTheConfiguration) {
  BULWARK_REQUIRE_TOOL("fail2ban-client") << "(fail2ban)";
  BULWARK_REQUIRE(std::filesystem::exists("/etc/fail2ban/jail.conf")) << "no /etc/fail2ban";
  std::filesystem::create_directories(m_root.host("/etc"));
  std::filesystem::copy("/etc/fail2ban", m_root.host("/etc/fail2ban"),
                        std::filesystem::copy_options::recursive |
                            std::filesystem::copy_options::copy_symlinks);
  // Debian's default enables the sshd jail on /var/log/auth.log, which a
  // Debian 12 host without rsyslog lacks; the journal is what it has.
  m_root.write("/etc/fail2ban/jail.d/defaults-debian.conf",
               "[sshd]\nenabled = true\nbackend = systemd\n");
  auto ok = run(Validator::fail2ban, m_root.path(),
                {{"/etc/fail2ban/jail.d/bulwark.local", "[DEFAULT]\nbantime = 1h\nmaxretry = 3\n"}},
                m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  auto bad = run(Validator::fail2ban, m_root.path(),
                 {{"/etc/fail2ban/jail.d/bulwark.local", "[DEFAULT]\nbantime = 1h\n[sshd\n"}},
                 m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("bulwark.local"), std::string::npos) << bad.output;
  EXPECT_NE(bad.output.find("[line  3]"), std::string::npos) << bad.output;
}

TEST_F(Validate, ComposeMergesTheOverrideAfterTheUsersFiles) {
  BULWARK_REQUIRE(bulwark::test::have_program("docker-compose") ||
                  bulwark::test::have_program("docker"))
      << "neither docker-compose nor docker is installed";
  m_root.write("/srv/app/docker-compose.yml", "services:\n  web:\n    image: nginx:1.25\n");
  auto ok =
      run(Validator::compose, m_root.path(),
          {{"/srv/app/docker-compose.bulwark.yml", "services:\n  web:\n    read_only: true\n"}},
          m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.program << "\n" << ok.output;
  EXPECT_NE(ok.program.find("docker-compose.bulwark.yml"), std::string::npos);
  auto bad = run(Validator::compose, m_root.path(),
                 {{"/srv/app/docker-compose.bulwark.yml",
                   "services:\n  web:\n    read_only: true\n   privileged: [\n"}},
                 m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("line 4"), std::string::npos) << bad.output;
}

TEST_F(Validate, SysctlParsesTheDropIns) {
  m_root.write("/etc/sysctl.d/10-base.conf", "kernel.kptr_restrict = 1\n");
  auto ok = run(Validator::sysctl, m_root.path(),
                {{"/etc/sysctl.d/90-bulwark.conf", "net.ipv4.ip_forward = 0\n"}}, m_root.path());
  EXPECT_TRUE(ok.accepted) << ok.output;
  auto bad = run(Validator::sysctl, m_root.path(),
                 {{"/etc/sysctl.d/90-bulwark.conf", "net.ipv4.ip_forward = 0\nthis is not one\n"}},
                 m_root.path());
  EXPECT_FALSE(bad.accepted);
  EXPECT_NE(bad.output.find("/etc/sysctl.d/90-bulwark.conf:2"), std::string::npos) << bad.output;
  // A removal: the root's file is gone in the namespace only.
  auto removed =
      run(Validator::sysctl, m_root.path(),
          {{"/etc/sysctl.d/10-base.conf", std::nullopt}, {"/etc/sysctl.d/bad.conf", "garbage\n"}},
          m_root.path());
  EXPECT_FALSE(removed.accepted);
  EXPECT_EQ(removed.output.find("10-base.conf"), std::string::npos) << removed.output;
}

TEST_F(Validate, ARootWithoutTheConfigurationIsAnErrorNotTheHostsVerdict) {
  BULWARK_REQUIRE_TOOL("/usr/sbin/sshd") << "(openssh-server)";
  m_root.mkdir("/etc");
  auto r =
      validate(Validator::sshd, m_root.path(), {{"/etc/ssh/sshd_config.d/x.conf", "Port 22\n"}});
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().to_string().find("/etc/ssh/sshd_config"), std::string::npos);
}

TEST_F(Validate, TheHostsFilesTakeNoPartWhenTheRootLacksThem) {
  BULWARK_REQUIRE_TOOL("visudo") << "(sudo)";
  std::vector<std::string> host_entries;
  std::error_code ec;
  for (auto &e : std::filesystem::directory_iterator("/etc/sudoers.d", ec))
    host_entries.push_back(e.path().filename().string());
  BULWARK_REQUIRE(!host_entries.empty()) << "the host has no /etc/sudoers.d entries";
  // The root includes /etc/sudoers.d but has none: the host's must not be read.
  m_root.write("/etc/sudoers", "root ALL=(ALL:ALL) ALL\n@includedir /etc/sudoers.d\n", 0440);
  auto alone = run(Validator::visudo, m_root.path(), {}, m_root.path());
  EXPECT_TRUE(alone.accepted) << alone.output;
  auto created = run(Validator::visudo, m_root.path(),
                     {{"/etc/sudoers.d/zz-bulwark", "Defaults use_pty\n"}}, m_root.path());
  EXPECT_TRUE(created.accepted) << created.output;
  EXPECT_NE(created.output.find("/etc/sudoers.d/zz-bulwark: parsed OK"), std::string::npos)
      << created.output;
  for (const auto &name : host_entries) {
    EXPECT_EQ(alone.output.find(name), std::string::npos) << alone.output;
    EXPECT_EQ(created.output.find(name), std::string::npos) << created.output;
  }
}

TEST_F(Validate, HostileOverlayPathsAreErrors) {
  for (const char *p : {"etc/x", "/etc/../../x", "/etc/ssh/", "/etc//x"}) {
    auto r = validate(Validator::sysctl, m_root.path(), {{p, "x\n"}});
    ASSERT_FALSE(r.ok()) << p;
    EXPECT_NE(r.error().to_string().find(p), std::string::npos) << r.error().to_string();
  }
  auto missing = validate(Validator::sysctl, m_root.path() + "/nope", {});
  EXPECT_FALSE(missing.ok());
}

} // namespace
} // namespace bulwark::fix
