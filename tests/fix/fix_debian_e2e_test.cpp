// Issue 18, end to end: the debootstrapped Debian 12 root (`make
// debian-root`), as debootstrap leaves it and then broken the way
// tests/checks/host_e2e_test.cpp breaks it (a second uid 0, a NOPASSWD
// drop-in, a short pwquality minlen, an sshd drop-in that permits root and
// forwarding, a foreign-owned file, a world-writable script and an
// unpackaged SUID binary, unattended upgrades off, forwarding on, four weeks
// of log retention, auditd masked), with an administrator who logs in with
// a key (the lockout guard's condition) and also has a password. For each
// profile: `bulwark fix --apply`, then a re-audit finds every check the plan
// fixed passing, still failing exactly the checks the plan said it could not
// fix (refused, or without a recipe), at most a third of the failing checks
// left (issue 18), and no check failing that passed; sshd
// started from the fixed root (its sshd_config, host keys, PAM and accounts,
// chrooted, over an overlay so the tree is not written) in a private network
// namespace accepts the key and refuses the password; `bulwark fix
// --rollback all` restores the tree byte for byte (content, mode, owner).
// Before any fix the same sshd accepts the password: the refusal is the
// fix's doing, not the harness's.
//
// The root is copied once and reused for every profile through the
// rollback, and by both tests.

#include "fix_support.hpp"

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/catalogue.hpp>

#include <algorithm>
#include <ctime>
#include <set>
#include <sstream>

namespace bulwark::fix {
namespace {

using test::run_command;
using test::TempRoot;
using test_support::snapshot;
using test_support::tree_diff;

constexpr const char *k_password = "E2e-Secret-Pass-42";
constexpr int k_port = 22022;

// The login probe, run as `unshare -m -n sh login.sh ROOT KEY PORT SCRATCH`:
// an overlay of ROOT (writes go to a tmpfs: sshd and PAM write utmp, wtmp,
// lastlog and btmp), /dev and /proc bound in, loopback up, the root's own
// sshd chrooted on PORT; then a key login and a password login. Prints
// key_rc=N and password_rc=N, then sshd's log.
constexpr const char *k_login_sh = R"SH(set -u
# ssh sets O_NONBLOCK on a stdin that is not a tty: never on one shared.
exec </dev/null
R=$1; KEY=$2; PORT=$3; T=$4
mount -t tmpfs tmpfs "$T" || exit 90
mkdir "$T/u" "$T/w" "$T/m"
mount -t overlay overlay -o "lowerdir=$R,upperdir=$T/u,workdir=$T/w" "$T/m" || exit 91
M=$T/m
mount --rbind /dev "$M/dev" || exit 92
mount -t proc proc "$M/proc" || exit 93
mount -t tmpfs tmpfs "$M/run" && mkdir -m 755 "$M/run/sshd" || exit 94
ip link set lo up || exit 95
# After the fix: the root's own nft loads the fixed /etc/nftables.conf (as
# nftables.service would at boot) in this namespace, and the logins below
# go through it.
if [ -n "${LOAD_NFT:-}" ]; then
  chroot "$M" /usr/sbin/nft -f /etc/nftables.conf || exit 97
  echo "nft-loaded"
fi
chroot "$M" /usr/sbin/sshd -D -e -p "$PORT" -o ListenAddress=127.0.0.1 >"$T/sshd.log" 2>&1 &
SSHD=$!
i=0
until grep -q "Server listening" "$T/sshd.log"; do
  i=$((i + 1))
  if [ $i -gt 300 ] || ! kill -0 $SSHD 2>/dev/null; then
    echo "sshd did not start"; cat "$T/sshd.log"; kill $SSHD 2>/dev/null; exit 96
  fi
  sleep 0.1
done
O="-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=20 -o LogLevel=ERROR -p $PORT"
ssh $O -o BatchMode=yes -o IdentitiesOnly=yes -i "$KEY" admin@127.0.0.1 'echo key-login-ok'
echo "key_rc=$?"
sshpass -e ssh $O -o PubkeyAuthentication=no -o PreferredAuthentications=password,keyboard-interactive -o NumberOfPasswordPrompts=1 admin@127.0.0.1 'echo password-login-ok'
echo "password_rc=$?"
kill $SSHD; wait $SSHD
echo "--- sshd log"; cat "$T/sshd.log"
)SH";

std::vector<std::string> text_lines(const std::string &s) {
  std::vector<std::string> out;
  std::istringstream in(s);
  for (std::string l; std::getline(in, l);)
    out.push_back(l);
  return out;
}

struct Login {
  int key_rc = -1, password_rc = -1;
  std::string out;
};

class FixDebianE2e : public ::testing::Test {
protected:
  void SetUp() override {
    std::string src;
    BULWARK_REQUIRE_DEBIAN_ROOT(src);
    BULWARK_REQUIRE(::geteuid() == 0) << "needs root (chown, chroot, mount and network namespaces)";
    for (const char *tool : {"unshare", "ssh", "ssh-keygen", "sshpass", "openssl", "ip"})
      BULWARK_REQUIRE_TOOL(tool) << "(openssh-client, sshpass, openssl, iproute2, util-linux)";
    BULWARK_REQUIRE(std::filesystem::exists(src + "/usr/sbin/sshd") &&
                    std::filesystem::exists(src + "/usr/sbin/visudo"))
        << "the Debian root has no sshd or visudo (run `make debian-root`)";
    if (s_shared.reusable("FixDebianE2e"))
      return;
    s_shared.fresh();
    s_keys = std::make_unique<TempRoot>();
    auto cp = run_command("cp -a --reflink=auto '" + src + "/.' '" + root().path() + "/'");
    ASSERT_EQ(cp.exit_code, 0) << cp.err;
    ASSERT_NO_FATAL_FAILURE(administrator());
    ASSERT_NO_FATAL_FAILURE(break_root());
    s_shared.prepared();
  }
  // The broken root is prepared once for the suite (test_support::
  // SharedRoot): each test rolls back all it applied.
  static void TearDownTestSuite() {
    s_shared.reset();
    s_keys.reset();
  }
  static const TempRoot &root() { return s_shared.root(); }
  static const TempRoot &keys() { return *s_keys; }

  std::string read(const std::string &target) const {
    std::ifstream in(root().host(target), std::ios::binary);
    return bulwark::test::read_all(in);
  }
  void append(const std::string &target, const std::string &text) const {
    std::ofstream(root().host(target), std::ios::binary | std::ios::app) << text;
  }

  // admin (uid 1000, in sudo) with a key in authorized_keys and a password.
  void administrator() {
    auto kg = run_command("ssh-keygen -q -t ed25519 -N '' -C admin@e2e -f '" + keys().path() +
                          "/id_ed25519'");
    ASSERT_EQ(kg.exit_code, 0) << kg.err;
    auto hash = run_command(std::string("openssl passwd -6 -salt e2esalt '") + k_password + "'");
    ASSERT_EQ(hash.exit_code, 0) << hash.err;
    std::string h = hash.out.substr(0, hash.out.find('\n'));
    ASSERT_TRUE(h.starts_with("$6$")) << h;
    append("/etc/passwd", "admin:x:1000:1000:Admin:/home/admin:/bin/bash\n");
    append("/etc/group", "admin:x:1000:\n");
    // Changed ten days ago: a 90-day maximum leaves it valid (an older one
    // would be expired by the fix, and the recipe refuses that).
    append("/etc/shadow", "admin:" + h + ":" + std::to_string(std::time(nullptr) / 86400 - 10) +
                              ":0:99999:7:::\n");
    std::string group = read("/etc/group");
    auto at = group.find("\nsudo:x:27:\n");
    ASSERT_NE(at, std::string::npos) << "no empty sudo group in the Debian root";
    group.replace(at, 12, "\nsudo:x:27:admin\n");
    std::ofstream(root().host("/etc/group"), std::ios::binary | std::ios::trunc) << group;
    root().write("/home/admin/.ssh/authorized_keys", read_host(keys().path() + "/id_ed25519.pub"),
                 0600);
    ::chmod(root().host("/home/admin/.ssh").c_str(), 0700);
    ::chmod(root().host("/home/admin").c_str(), 0755);
    for (const char *p : {"/home/admin", "/home/admin/.ssh", "/home/admin/.ssh/authorized_keys"})
      ASSERT_EQ(::chown(root().host(p).c_str(), 1000, 1000), 0) << p;
  }
  static std::string read_host(const std::string &p) {
    std::ifstream in(p, std::ios::binary);
    return bulwark::test::read_all(in);
  }

  // The breaks of host_e2e_test's EachBreakIsNamedWithItsFileAndLine.
  void break_root() {
    append("/etc/passwd", "toor:x:0:0:backdoor:/root:/bin/bash\n");
    root().write("/etc/sudoers.d/90-ops", "# ops team\n%ops ALL=(ALL:ALL) NOPASSWD: ALL\n", 0440);
    append("/etc/security/pwquality.conf", "minlen = 8\n");
    root().write("/etc/ssh/sshd_config.d/10-debug.conf",
                 "PermitRootLogin yes\nDisableForwarding no\n");
    root().write("/srv/import/report.csv", "a,b\n");
    ASSERT_EQ(::chown(root().host("/srv/import/report.csv").c_str(), 4242, 4242), 0);
    root().write("/usr/local/bin/deploy.sh", "#!/bin/sh\n", 0777);
    ASSERT_EQ(run_command("cp -a '" + root().host("/usr/bin/ls") + "' '" +
                          root().host("/usr/local/bin/ls-root") + "' && chmod 4755 '" +
                          root().host("/usr/local/bin/ls-root") + "'")
                  .exit_code,
              0);
    root().write("/etc/apt/apt.conf.d/99-no-upgrades",
                 "APT::Periodic::Unattended-Upgrade \"0\";\n");
    root().write("/etc/sysctl.d/99-forward.conf", "# router\nnet.ipv4.ip_forward = 1\n");
    std::string lr = read("/etc/logrotate.d/rsyslog");
    auto at = lr.find("rotate 4");
    if (at == std::string::npos) {
      at = lr.find("rotate ");
      ASSERT_NE(at, std::string::npos) << "no rotate in /etc/logrotate.d/rsyslog";
      lr.replace(at, lr.find('\n', at) - at, "rotate 4");
      std::ofstream(root().host("/etc/logrotate.d/rsyslog"), std::ios::binary | std::ios::trunc)
          << lr;
    }
    std::filesystem::remove(
        root().host("/etc/systemd/system/multi-user.target.wants/auditd.service"));
    root().symlink("/dev/null", "/etc/systemd/system/auditd.service");
  }

  // check id -> failing (fail or error) for the root under `profile`.
  std::map<std::string, bool> verdicts(const std::string &profile) const {
    AuditRequest ar;
    ar.root = root().path();
    ar.profiles = {profile};
    auto rep = run_audit(ar);
    EXPECT_TRUE(rep.ok()) << (rep ? "" : rep.error().to_string());
    std::map<std::string, bool> out;
    if (!rep)
      return out;
    for (auto &f : rep->findings)
      out[f.check] = out[f.check] || f.status == Status::fail || f.status == Status::error;
    return out;
  }

  Login login(bool load_nft = false) const {
    TempRoot scratch;
    scratch.write("/login.sh", k_login_sh);
    scratch.mkdir("/mnt");
    auto r = run_command(std::string(load_nft ? "LOAD_NFT=1 " : "") + "SSHPASS='" + k_password +
                         "' unshare -m -n sh '" + scratch.host("/login.sh") + "' '" +
                         root().path() + "' '" + keys().path() + "/id_ed25519' " +
                         std::to_string(k_port) + " '" + scratch.host("/mnt") + "'");
    Login l;
    l.out = r.out + r.err;
    auto num = [&](const std::string &key) {
      auto at = r.out.find(key + "=");
      return at == std::string::npos ? -1 : std::atoi(r.out.c_str() + at + key.size() + 1);
    };
    EXPECT_EQ(r.exit_code, 0) << l.out;
    l.key_rc = num("key_rc");
    l.password_rc = num("password_rc");
    return l;
  }

  static inline test_support::SharedRoot s_shared;
  static inline std::unique_ptr<TempRoot> s_keys;
};

TEST_F(FixDebianE2e, EachProfileFixesWhatItCanBreaksNothingKeepsKeyLoginAndRollsBack) {
  auto original = snapshot(root().path());
  ASSERT_GT(original.size(), 5000u) << "not a whole Debian root";

  // The harness can see a password login succeed: before the fix it does.
  Login before = login();
  EXPECT_EQ(before.key_rc, 0) << before.out;
  ASSERT_EQ(before.password_rc, 0) << "the broken root must accept the password\n" << before.out;

  const std::vector<std::string> profiles = {"baseline", "vpn-production", "lms-server"};
  for (const auto &profile : profiles) {
    SCOPED_TRACE("profile " + profile);
    auto was = verdicts(profile);
    std::set<std::string> failing;
    for (auto &[id, bad] : was)
      if (bad)
        failing.insert(id);
    ASSERT_GE(failing.size(), 15u) << "the broken root should fail many checks";

    std::string fix =
        std::string(BULWARK_BINARY) + " fix --root '" + root().path() + "' --profile " + profile;
    auto apply = run_command(fix + " --apply");
    EXPECT_TRUE(apply.exit_code == 0 || apply.exit_code == 1) << apply.out << apply.err;
    EXPECT_NE(apply.err.find("applied transaction"), std::string::npos) << apply.out << apply.err;

    auto now = verdicts(profile);
    std::set<std::string> still, regressed;
    for (auto &[id, bad] : now) {
      if (bad && failing.count(id))
        still.insert(id);
      if (bad && !failing.count(id))
        regressed.insert(id);
    }
    std::string left;
    for (auto &id : still)
      left += " " + id;
    // What the plan could not do: the checks without a recipe and those it
    // refused, as `fix --apply` printed them.
    std::set<std::string> left_alone;
    for (const auto &line : text_lines(apply.out)) {
      if (line.starts_with("refused "))
        left_alone.insert(line.substr(8, line.find(':') - 8));
      if (line.starts_with("no automatic fix")) {
        std::istringstream ids(line.substr(line.find("): ") + 3));
        for (std::string id; ids >> id;)
          left_alone.insert(id);
      }
    }
    std::cout << "[ e2e      ] " << profile << ": " << failing.size() << " failing checks before, "
              << still.size() << " after fix --apply:" << left << "\n";
    // Every check the plan fixed passes now; what still fails is exactly
    // what the plan said it could not fix.
    for (auto &id : still)
      EXPECT_TRUE(left_alone.count(id)) << id << " had a fix applied and still fails";
    for (auto &id : left_alone)
      EXPECT_TRUE(still.count(id)) << id << " was left alone but passes";
    // Issue 18: at most a third remain. Measured (failing before -> after)
    // in a root with nftables (`make debian-root`'s DEBIAN_INCLUDE has it,
    // as every installed Debian server does): baseline 51 -> 14,
    // vpn-production 35 -> 11, lms-server 31 -> 10. What remains is not a
    // tool's to decide: packages that are not installed (fail2ban, AIDE, an
    // IDS, a backup tool, an OTP module for MFA), where logs go, who may log
    // in over SSH (AllowUsers/AllowGroups), the uid 0 backdoor account,
    // forwarding the operator turned on (and what a forward policy must let
    // through). In a root without nftables the 6-7 firewall checks are
    // refused ("apt-get install nftables") and the target is out of reach.
    EXPECT_LE(still.size() * 3, failing.size()) << "more than a third left:" << left;
    for (auto &id : regressed)
      ADD_FAILURE() << id << " passed before the fix and fails after it";

    // The firewall (issue 18: never lock the operator out): fixed when the
    // root has nftables (Debian's installer puts it on every server;
    // debootstrap's minbase does not), refused naming the package otherwise.
    bool has_nft = std::filesystem::exists(root().host("/lib/systemd/system/nftables.service"));
    if (has_nft) {
      for (const char *id : {"firewall.enabled", "firewall.default-deny-incoming",
                             "firewall.ssh-restricted", "firewall.ssh-rate-limited"})
        EXPECT_FALSE(still.count(id)) << id << " still fails with nftables installed";
    } else {
      EXPECT_NE(apply.out.find("refused firewall.enabled: nftables is not installed"),
                std::string::npos)
          << apply.out;
    }
    // Existing accounts' maximum password age (the admin's shadow entry),
    // the masked auditd, the NOPASSWD drop-in (ops has no members), the
    // 2048-bit moduli and the temporary directories' mount options.
    for (const char *id : {"accounts.password-max-age", "logging.auditd", "accounts.sudo-nopasswd",
                           "ssh.host-key-strength", "fs.tmp-mount-options"})
      EXPECT_FALSE(still.count(id)) << id << " still fails";
    // systemd's own answers on the fixed root: auditd enabled, the fstab
    // accepted by util-linux.
    auto enabled =
        run_command("systemctl --root='" + root().path() + "' is-enabled auditd.service");
    EXPECT_EQ(enabled.out, "enabled\n") << enabled.err;
    auto fstab =
        run_command("chroot '" + root().path() + "' findmnt --verify --tab-file /etc/fstab");
    EXPECT_EQ(fstab.exit_code, 0) << fstab.out << fstab.err;

    // sshd from the fixed root, behind its fixed firewall when it has one:
    // the key works, the password does not.
    Login after = login(has_nft);
    if (has_nft) {
      EXPECT_NE(after.out.find("nft-loaded"), std::string::npos) << after.out;
    }
    EXPECT_EQ(after.key_rc, 0) << "the fix locked the administrator out\n" << after.out;
    EXPECT_NE(after.out.find("key-login-ok"), std::string::npos) << after.out;
    EXPECT_NE(after.password_rc, 0) << "the fixed root still accepts a password\n" << after.out;
    EXPECT_EQ(after.out.find("password-login-ok"), std::string::npos) << after.out;

    auto back = run_command(std::string(BULWARK_BINARY) + " fix --root '" + root().path() +
                            "' --rollback all");
    EXPECT_EQ(back.exit_code, 0) << back.out << back.err;
    auto restored = snapshot(root().path());
    ASSERT_TRUE(restored == original) << "rollback must restore the tree byte for byte:\n"
                                      << tree_diff(original, restored);
  }
}

// The host recipes that judge files a fixture cannot fake well (apt's
// configuration, the PAM stack's pwquality, the tree walk's modes and
// owners), one round trip on the broken Debian root: each check fails, the
// plan fixes each, each passes, a second plan is empty, the rollback
// restores the tree. apt itself, chrooted, reads the fixed configuration.
TEST_F(FixDebianE2e, HostRecipesRoundTripOnTheDebianRoot) {
  const std::vector<std::string> checks = {
      "os.auto-security-updates", "os.security-repo",  "accounts.password-policy",
      "fs.world-writable",        "fs.suid-files",     "fs.unowned-files",
      "accounts.sudo-logging",    "logging.retention", "accounts.session-timeout"};
  Plan plan = test_support::round_trip(root().path(), checks);
  ASSERT_EQ(plan.actions.size(), checks.size());
  ASSERT_TRUE(apply_plan(plan).ok());
  auto apt = run_command("chroot '" + root().path() +
                         "' apt-config dump APT::Periodic::Unattended-Upgrade");
  EXPECT_EQ(apt.exit_code, 0) << apt.err;
  EXPECT_EQ(apt.out, "APT::Periodic::Unattended-Upgrade \"1\";\n");
  auto uris = run_command("chroot '" + root().path() + "' apt-get --print-uris update");
  EXPECT_NE(uris.out.find("security.debian.org/debian-security/dists/bookworm-security/"),
            std::string::npos)
      << uris.out << uris.err;
  auto visudo = run_command("chroot '" + root().path() + "' visudo -c");
  EXPECT_EQ(visudo.exit_code, 0) << visudo.out << visudo.err;
  auto dash = run_command("chroot '" + root().path() + "' dash -lc 'echo $TMOUT; TMOUT=0'");
  EXPECT_EQ(dash.out, "900\n") << dash.err;
  EXPECT_NE(dash.err.find("TMOUT"), std::string::npos) << "TMOUT must be read-only: " << dash.err;
  ASSERT_TRUE(rollback(root().path(), "all").ok());
}

} // namespace
} // namespace bulwark::fix
