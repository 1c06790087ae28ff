// sysctl.network and sysctl.kernel on offline roots: systemd-sysctl's
// precedence decides, the deciding line is cited, profiles change the rules.

#include "../audit_helper.hpp"
#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const char *k_hardened = R"(net.ipv4.conf.all.rp_filter = 1
net.ipv4.conf.default.rp_filter = 1
net.ipv4.conf.all.accept_redirects = 0
net.ipv4.conf.default.accept_redirects = 0
net.ipv6.conf.all.accept_redirects = 0
net.ipv6.conf.default.accept_redirects = 0
net.ipv4.conf.all.send_redirects = 0
net.ipv4.conf.default.send_redirects = 0
net.ipv4.tcp_syncookies = 1
net.ipv4.conf.all.accept_source_route = 0
net.ipv4.conf.default.accept_source_route = 0
net.ipv6.conf.all.accept_source_route = 0
net.ipv6.conf.default.accept_source_route = 0
net.ipv4.ip_forward = 0
net.ipv6.conf.all.forwarding = 0
kernel.kptr_restrict = 2
kernel.dmesg_restrict = 1
kernel.randomize_va_space = 2
fs.protected_symlinks = 1
fs.protected_hardlinks = 1
)";

test::Findings audit(const TempRoot &r, const std::string &profile = "baseline") {
  return test::run_checks(r.path(), {.only = {"sysctl"}, .profiles = {profile}});
}

} // namespace

TEST(SysctlChecks, HardenedRootPasses) {
  TempRoot r;
  r.write("/etc/sysctl.d/60-hardening.conf", k_hardened);
  auto f = audit(r);
  EXPECT_EQ(f["sysctl.network"].status, Status::pass) << f["sysctl.network"].message;
  EXPECT_EQ(f["sysctl.kernel"].status, Status::pass) << f["sysctl.kernel"].message;
}

TEST(SysctlChecks, LaterFileNameOverridesAndIsCited) {
  TempRoot r;
  r.write("/etc/sysctl.d/60-hardening.conf", k_hardened);
  // Same key in a file whose name sorts later: it wins, whatever the directory.
  r.write("/usr/lib/sysctl.d/99-vendor.conf", "# vendor\nnet.ipv4.conf.all.accept_redirects = 1\n");
  auto f = audit(r);
  ASSERT_EQ(f["sysctl.network"].status, Status::fail);
  ASSERT_EQ(f["sysctl.network"].evidence.size(), 1u);
  EXPECT_EQ(f["sysctl.network"].evidence[0].path, "/usr/lib/sysctl.d/99-vendor.conf");
  EXPECT_EQ(f["sysctl.network"].evidence[0].line, 2);
  // Masked by the same name in /etc: the vendor file no longer counts.
  r.symlink("/dev/null", "/etc/sysctl.d/99-vendor.conf");
  EXPECT_EQ(audit(r)["sysctl.network"].status, Status::pass);
}

TEST(SysctlChecks, UnsetKeysUseTheKernelDefault) {
  TempRoot r;
  r.mkdir("/etc/sysctl.d");
  auto f = audit(r);
  EXPECT_EQ(f["sysctl.network"].status, Status::fail);
  EXPECT_NE(f["sysctl.network"].message.find("kernel default 1"), std::string::npos);
  EXPECT_EQ(f["sysctl.kernel"].status, Status::fail); // kptr_restrict 0, protected links 0
}

TEST(SysctlChecks, IpForwardIsAllowedOnlyForTheVpnProfile) {
  TempRoot r;
  std::string cfg = k_hardened;
  cfg.replace(cfg.find("net.ipv4.ip_forward = 0"), 23, "net.ipv4.ip_forward = 1");
  r.write("/etc/sysctl.conf", cfg);
  r.symlink("../sysctl.conf", "/etc/sysctl.d/99-sysctl.conf");
  auto base = audit(r, "baseline");
  ASSERT_EQ(base["sysctl.network"].status, Status::fail);
  EXPECT_EQ(base["sysctl.network"].evidence[0].path, "/etc/sysctl.conf");
  EXPECT_EQ(base["sysctl.network"].evidence[0].line, 14);
  EXPECT_EQ(audit(r, "vpn-production")["sysctl.network"].status, Status::pass);
}
