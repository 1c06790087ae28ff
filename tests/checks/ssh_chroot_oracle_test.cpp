// The "done" criterion of the SSH domain: on a debootstrapped Debian 12 root,
// however its sshd configuration is arranged, `bulwark audit --root ROOT
// --profile lms-server --format json` gives ssh.* verdicts that agree with
// what the root's own sshd says (`chroot ROOT sshd -T`, with and without -C).
// Every arrangement is audited by run_audit in this process; every eighth
// also by the command line, which must agree with it.
//
// For each generated arrangement (main file, drop-ins under sshd_config.d
// through absolute and relative Includes, Match blocks each for its own user)
// the expected verdict of every check is computed from sshd's output alone:
// the global `sshd -T`, plus one `sshd -T -C user=blkN,...` per Match block.
//
// Needs BULWARK_DEBIAN_ROOT=DIR (make test builds one with debootstrap when
// it can); skips with a message otherwise. It works on a copy of the root.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <filesystem>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>

using bulwark::test::run_command;

namespace {

namespace fs = std::filesystem;

std::map<std::string, std::vector<std::string>> sshd_dump(const std::string &root,
                                                          const std::string &spec) {
  auto r =
      run_command("chroot " + root + " /usr/sbin/sshd -T" + (spec.empty() ? "" : " -C " + spec));
  std::map<std::string, std::vector<std::string>> out;
  if (r.exit_code != 0) {
    ADD_FAILURE() << "sshd -T " << spec << " failed: " << r.err;
    return out;
  }
  std::istringstream in(r.out);
  std::string line;
  while (std::getline(in, line)) {
    auto sp = line.find(' ');
    out[line.substr(0, sp)].push_back(sp == std::string::npos ? "" : line.substr(sp + 1));
  }
  return out;
}

std::string one(const std::map<std::string, std::vector<std::string>> &d, const std::string &k) {
  auto it = d.find(k);
  return it == d.end() || it->second.empty() ? "" : it->second[0];
}

bool weak_listed(const std::string &list, bool (*weak)(const std::string &)) {
  std::istringstream in(list);
  std::string a;
  while (std::getline(in, a, ','))
    if (weak(a))
      return true;
  return false;
}

// Verdicts (true = pass) from one sshd -T dump, for the checks that are
// judged in every scope.
std::map<std::string, bool>
scoped_verdicts(const std::map<std::string, std::vector<std::string>> &d) {
  std::map<std::string, bool> v;
  v["ssh.permit-root-login"] = one(d, "permitrootlogin") == "no";
  v["ssh.password-authentication"] =
      one(d, "passwordauthentication") == "no" &&
      !(one(d, "kbdinteractiveauthentication") == "yes" && one(d, "usepam") == "yes");
  v["ssh.pubkey-authentication"] = one(d, "pubkeyauthentication") == "yes";
  v["ssh.permit-empty-passwords"] = one(d, "permitemptypasswords") == "no";
  v["ssh.max-auth-tries"] = std::stoi(one(d, "maxauthtries")) <= 3;
  int interval = std::stoi(one(d, "clientaliveinterval"));
  v["ssh.client-alive"] =
      interval > 0 && interval <= 300 && std::stoi(one(d, "clientalivecountmax")) <= 3;
  v["ssh.x11-forwarding"] = one(d, "x11forwarding") == "no";
  return v;
}

std::map<std::string, bool>
global_verdicts(const std::map<std::string, std::vector<std::string>> &d) {
  std::map<std::string, bool> v;
  v["ssh.use-dns"] = one(d, "usedns") == "no";
  v["ssh.tcp-keepalive"] = one(d, "tcpkeepalive") == "yes";
  v["ssh.allow-users-groups"] = d.count("allowusers") || d.count("allowgroups");
  auto cbc = [](const std::string &a) {
    return a.find("cbc") != std::string::npos || a.find("3des") != std::string::npos;
  };
  auto mac = [](const std::string &a) {
    return a.find("md5") != std::string::npos ||
           (a.rfind("hmac-sha1", 0) == 0 && a.find("-etm@") == std::string::npos);
  };
  auto kex = [](const std::string &a) { return a.find("sha1") != std::string::npos; };
  auto hk = [](const std::string &a) { return a.rfind("ssh-dss", 0) == 0; };
  v["ssh.weak-algorithms"] =
      !weak_listed(one(d, "ciphers"), cbc) && !weak_listed(one(d, "macs"), mac) &&
      !weak_listed(one(d, "kexalgorithms"), kex) && !weak_listed(one(d, "hostkeyalgorithms"), hk);
  return v;
}

struct Arrangement {
  std::map<std::string, std::string> files; // path inside the root -> content
  int blocks = 0;
};

template <typename T> const T &pick(std::mt19937 &g, const std::vector<T> &v) {
  return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(g)];
}

std::string scoped_setting(std::mt19937 &g) {
  std::vector<std::string> s = {
      "PermitRootLogin " +
          pick<std::string>(g, {"no", "yes", "prohibit-password", "forced-commands-only"}),
      "PasswordAuthentication " + pick<std::string>(g, {"yes", "no"}),
      "KbdInteractiveAuthentication " + pick<std::string>(g, {"yes", "no"}),
      "PubkeyAuthentication " + pick<std::string>(g, {"yes", "no"}),
      "PermitEmptyPasswords " + pick<std::string>(g, {"yes", "no"}),
      "MaxAuthTries " + pick<std::string>(g, {"2", "3", "4", "6"}),
      "ClientAliveInterval " + pick<std::string>(g, {"0", "60", "300", "5m", "10m"}),
      "ClientAliveCountMax " + pick<std::string>(g, {"1", "2", "3", "4"}),
      "X11Forwarding " + pick<std::string>(g, {"yes", "no"}),
      "AllowGroups " + pick<std::string>(g, {"ssh-users", "root adm"}),
  };
  return pick(g, s);
}

std::string global_setting(std::mt19937 &g) {
  std::vector<std::string> s = {
      scoped_setting(g),
      "UseDNS " + pick<std::string>(g, {"yes", "no"}),
      "TCPKeepAlive " + pick<std::string>(g, {"yes", "no"}),
      "UsePAM " + pick<std::string>(g, {"yes", "no"}),
      "Ciphers " + pick<std::string>(g, {"+aes128-cbc", "-*-cbc",
                                         "aes256-gcm@openssh.com,aes128-ctr", "^3des-cbc"}),
      "MACs " + pick<std::string>(g, {"-hmac-sha1*",
                                      "hmac-sha2-256-etm@openssh.com,umac-128-etm@openssh.com",
                                      "+hmac-md5", "-umac-64*"}),
      "KexAlgorithms " + pick<std::string>(g, {"+diffie-hellman-group14-sha1", "curve25519-sha256",
                                               "-diffie-hellman-group*"}),
      "HostKeyAlgorithms " + pick<std::string>(g, {"+ssh-dss", "ssh-ed25519*", "-ssh-rsa*"}),
      "AllowUsers " + pick<std::string>(g, {"deploy admin", "root"}),
  };
  return pick(g, s);
}

Arrangement arrange(std::mt19937 &g, const std::string &debian_main) {
  Arrangement a;
  std::string main;
  bool keep_debian = g() % 2 == 0;
  if (keep_debian) {
    main = debian_main; // Debian's file: Include of sshd_config.d at the top
  } else {
    main = pick<std::string>(
        g, {"Include /etc/ssh/sshd_config.d/*.conf\n", "Include sshd_config.d/*.conf\n", ""});
  }
  for (int i = 0, n = static_cast<int>(g() % 6); i < n; ++i)
    main += global_setting(g) + "\n";
  int dropins = static_cast<int>(g() % 4);
  for (int i = 0; i < dropins; ++i) {
    std::string body;
    for (int j = 0, n = 1 + static_cast<int>(g() % 3); j < n; ++j)
      body += global_setting(g) + "\n";
    a.files["/etc/ssh/sshd_config.d/" + std::to_string(10 + 10 * i) + "-part.conf"] = body;
  }
  a.blocks = static_cast<int>(g() % 3);
  for (int b = 0; b < a.blocks; ++b) {
    main += "Match User blk" + std::to_string(b) + "\n";
    for (int j = 0, n = 1 + static_cast<int>(g() % 3); j < n; ++j)
      main += "  " + scoped_setting(g) + "\n";
  }
  a.files["/etc/ssh/sshd_config"] = main;
  return a;
}

} // namespace

TEST(SshChrootOracle, VerdictsAgreeWithTheRootsOwnSshd) {
  const char *env = std::getenv("BULWARK_DEBIAN_ROOT");
  BULWARK_REQUIRE(!(env == nullptr || !fs::exists(std::string(env) + "/usr/sbin/sshd")))
      << "set BULWARK_DEBIAN_ROOT to a debootstrapped Debian 12 root with openssh-server "
         "(make test does when debootstrap can reach a mirror)";
  BULWARK_REQUIRE(::geteuid() == 0) << "chroot needs root";
  // Work on a copy: the cached root is shared with other tests that may run
  // at the same time (ctest -j), and must never see our generated configs.
  bulwark::test::TempRoot copy;
  auto cp = bulwark::test::run_command("cp -a --reflink=auto '" + std::string(env) + "/.' '" +
                                       copy.path() + "/'");
  ASSERT_EQ(cp.exit_code, 0) << cp.err;
  std::string root = copy.path();
  fs::create_directories(root + "/run/sshd");
  std::ifstream in(root + "/etc/ssh/sshd_config");
  std::string debian_main = bulwark::test::read_all(in);

  int cases = 40;
  if (const char *n = std::getenv("BULWARK_CHROOT_CASES"))
    cases = std::atoi(n);
  std::mt19937 g(20261123);
  int compared = 0, disagreements = 0, expected_pass = 0, cli_runs = 0;
  for (int c = 0; c < cases; ++c) {
    Arrangement a = arrange(g, debian_main);
    fs::remove_all(root + "/etc/ssh/sshd_config.d");
    fs::create_directories(root + "/etc/ssh/sshd_config.d");
    for (auto &[p, content] : a.files) {
      std::ofstream out(root + p, std::ios::trunc);
      out << content;
    }
    // What sshd says: the global scope, then each Match block's user.
    auto global = sshd_dump(root, "");
    if (global.empty())
      continue;
    auto expect = scoped_verdicts(global);
    for (auto &[k, v] : global_verdicts(global))
      expect[k] = v;
    for (int b = 0; b < a.blocks; ++b) {
      auto d = sshd_dump(root, "user=blk" + std::to_string(b) + ",host=h,addr=192.0.2.1");
      for (auto &[k, v] : scoped_verdicts(d))
        expect[k] = expect[k] && v;
    }
    // What bulwark says: the audit in this process for every arrangement,
    // and for every eighth also the command line, whose JSON verdicts must
    // be the same (a `bulwark` process costs the sanitizer build half a CPU
    // second to start: 40 of them were two thirds of this test).
    bulwark::AuditRequest ar;
    ar.root = root;
    ar.profiles = {"lms-server"};
    ar.only = {"ssh"};
    auto rep = bulwark::run_audit(ar);
    ASSERT_TRUE(rep.ok()) << rep.error().to_string();
    std::map<std::string, bool> got;
    for (auto &f : rep->findings) {
      bool pass = f.status == bulwark::Status::pass;
      got[f.check] = got.count(f.check) ? got[f.check] && pass : pass;
    }
    ASSERT_FALSE(got.empty()) << "case " << c << ": no ssh finding";
    if (c % 8 == 0) {
      auto r = run_command(std::string(BULWARK_BINARY) + " audit --root " + root +
                           " --profile lms-server --format json --fail-on none --only ssh");
      ASSERT_EQ(r.exit_code, 0) << r.err;
      auto j = nlohmann::json::parse(r.out);
      std::map<std::string, bool> cli;
      for (auto &f : j["findings"]) {
        std::string id = f["check"];
        bool pass = f["status"] == "pass";
        cli[id] = cli.count(id) ? cli[id] && pass : pass;
      }
      EXPECT_EQ(cli, got) << "case " << c << ": the command line and run_audit differ";
      ++cli_runs;
    }
    for (auto &[id, want] : expect) {
      ++compared;
      expected_pass += want ? 1 : 0;
      if (got.count(id) == 0 || got[id] != want) {
        ++disagreements;
        std::string files;
        for (auto &[p, content] : a.files)
          files += "--- " + p + "\n" + content;
        ADD_FAILURE() << "case " << c << ": " << id << " sshd says " << (want ? "pass" : "fail")
                      << ", bulwark says "
                      << (got.count(id) ? (got[id] ? "pass" : "fail/warn") : "nothing") << "\n"
                      << files;
      }
    }
  }
  EXPECT_GT(cli_runs, 0) << "no arrangement went through the command line";
  std::cout << "[chroot oracle] " << cases << " arrangements (" << cli_runs
            << " also through the command line), " << compared << " verdicts compared ("
            << expected_pass << " pass, " << compared - expected_pass
            << " fail by sshd's own values), " << disagreements << " disagreements\n";
}
