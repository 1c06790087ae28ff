// The Markdown sign-off checklist, rendered by a real GFM renderer
// (cmark-gfm, Debian package cmark-gfm, with GitHub's extensions) to prove
// that hostile target text stays text.

#include "report_fixtures.hpp"

#include <bulwark/report/report.hpp>
#include <gtest/gtest.h>
#include <regex>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::slurp;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

bool have_cmark() {
  return run_command("command -v cmark-gfm").exit_code == 0;
}

std::string to_html(const TempRoot &t, const std::string &markdown) {
  t.write("/in.md", markdown);
  auto res = run_command("cmark-gfm --unsafe -e table -e autolink -e tasklist -e strikethrough " +
                         t.host("/in.md"));
  EXPECT_EQ(res.exit_code, 0) << res.err;
  return res.out;
}

size_t count(const std::string &s, const std::string &needle) {
  size_t n = 0;
  for (size_t p = s.find(needle); p != std::string::npos; p = s.find(needle, p + 1))
    ++n;
  return n;
}

} // namespace

TEST(Markdown, HostileTextCannotInjectLinksHtmlOrBlocks) {
  BULWARK_REQUIRE(have_cmark()) << "cmark-gfm not installed (apt-get install cmark-gfm)";
  TempRoot t;
  std::string md = report::render_markdown(test::hostile_report());
  // --unsafe: raw HTML would pass through, so any tag below would be ours.
  std::string html = to_html(t, md);
  EXPECT_EQ(html.find("<script"), std::string::npos);
  EXPECT_EQ(html.find("<img"), std::string::npos);
  EXPECT_EQ(html.find("<a "), std::string::npos) << "a link was injected";
  EXPECT_EQ(html.find("<em>em</em>"), std::string::npos);
  EXPECT_EQ(html.find("<h1>heading"), std::string::npos);
  EXPECT_EQ(html.find("</details>"), std::string::npos);
  // The text is there, as text.
  EXPECT_NE(html.find("&lt;script&gt;alert(1)&lt;/script&gt;"), std::string::npos);
  EXPECT_NE(html.find("[link](https://evil.example/)"), std::string::npos);
  // Exactly our headings: title, summary, §6 (+2), checks, one section,
  // waivers absent (no --waivers), sign-off.
  EXPECT_EQ(count(html, "<h1>"), 1u);
  // Six findings, six task items, three of them checked (pass, n/a, waived).
  // Plus the nine §6 items (none checked: "ssh" failed, others not audited).
  EXPECT_EQ(count(html, "type=\"checkbox\""), 15u);
  EXPECT_EQ(count(html, "checked=\"\""), 3u);
  // Tables keep their shape: a hostile "|" does not open a cell.
  std::regex row("<tr>");
  EXPECT_EQ(count(html, "<td>Target</td>"), 1u);
}

TEST(Markdown, ChecklistFromARealAuditGroupedByGuideSection) {
  TempRoot r;
  r.write("/etc/hostname", "lms-1\n");
  r.write("/etc/ssh/sshd_config", "PermitRootLogin yes\nPasswordAuthentication no\n");
  r.write("/w.yaml", "waivers:\n  - check: ssh.use-dns\n    justification: x\n    owner: o\n    "
                     "expires: 2000-01-01\n");
  auto res = run_command(k_bin + " audit --fail-on none --profile lms-server --root " + r.path() +
                         " --waivers " + r.host("/w.yaml") + " --format markdown");
  ASSERT_EQ(res.exit_code, 0) << res.err;
  const std::string &md = res.out;
  EXPECT_EQ(md.rfind("# Server hardening checklist: lms-1\n", 0), 0u) << md.substr(0, 200);
  EXPECT_NE(md.find("## Summary"), std::string::npos);
  EXPECT_NE(md.find("### 003 §3.2 SSH Hardening"), std::string::npos);
  EXPECT_NE(md.find("### 003 §2.2 User Account Management"), std::string::npos);
  // Sections follow the guide's order: 2.2 before 3.2.
  EXPECT_LT(md.find("### 003 §2.2"), md.find("### 003 §3.2"));
  // A failing item is open, with evidence file:line and the fix.
  auto fail = md.find("- [ ] **ssh.permit-root-login** \\[sshd\\] (high)");
  ASSERT_NE(fail, std::string::npos) << md;
  EXPECT_NE(md.find("evidence: /etc/ssh/sshd_config:1; found: permitrootlogin yes", fail),
            std::string::npos);
  EXPECT_NE(md.find("- [x] **ssh.password-authentication** \\[sshd\\]"), std::string::npos);
  // §6: SSH hardening is not confirmed while an ssh check fails.
  EXPECT_NE(md.find("- [ ] Confirm SSH hardening settings: "), std::string::npos);
  // No fail2ban in the root: the item stays open on fail2ban.installed.
  EXPECT_NE(md.find("- [ ] Validate fail2ban is running and configured: 1 of 8 findings open "
                    "(fail2ban.installed)"),
            std::string::npos)
      << md;
  // The expired waiver says so.
  EXPECT_NE(md.find("**expired**, no longer applies"), std::string::npos);
  EXPECT_NE(md.find("## Sign-off"), std::string::npos);
  EXPECT_NE(md.find("| Reviewer | | | |"), std::string::npos);
  EXPECT_NE(md.find("Signature: ____"), std::string::npos);
  if (have_cmark()) {
    TempRoot t;
    std::string html = to_html(t, md);
    EXPECT_NE(html.find("<strong>ssh.permit-root-login</strong>"), std::string::npos);
    EXPECT_NE(html.find("/etc/ssh/sshd_config:1"), std::string::npos);
  }
}

// Issue 16: the sign-off checklist groups each check under the section of
// the profile's guide it cites, and puts the checks beyond that guide last,
// as warnings at most.
TEST(Markdown, ChecklistGroupsUnderTheProfilesGuideAndBeyondItLast) {
  TempRoot r;
  r.write("/etc/hostname", "vpn-1\n");
  r.write("/etc/ssh/sshd_config", "PermitRootLogin no\nX11Forwarding yes\n");
  auto lms = run_command(k_bin + " audit --fail-on none --profile lms-server --root " + r.path() +
                         " --only ssh,accounts --format markdown");
  ASSERT_EQ(lms.exit_code, 0) << lms.err;
  size_t beyond = lms.out.find("### Beyond guide 003 (reported as warn at most)");
  ASSERT_NE(beyond, std::string::npos) << lms.out;
  // 003 §3.2 asks for X11Forwarding no: an open item in its section.
  size_t x11 = lms.out.find("- [ ] **ssh.x11-forwarding**");
  ASSERT_NE(x11, std::string::npos) << lms.out;
  EXPECT_LT(lms.out.find("### 003 §3.2 SSH Hardening"), x11);
  EXPECT_LT(x11, beyond);
  // 003 asks for no MFA: after the beyond heading, a warning.
  size_t mfa = lms.out.find("**accounts.mfa**");
  ASSERT_NE(mfa, std::string::npos);
  EXPECT_GT(mfa, beyond);
  EXPECT_NE(lms.out.find("**WARN**: beyond guide 003", mfa), std::string::npos) << lms.out;
  EXPECT_EQ(lms.out.find("### 000 "), std::string::npos) << "000's sections under lms-server";

  auto vpn = run_command(k_bin + " audit --fail-on none --profile vpn-production --root " +
                         r.path() + " --only ssh,accounts --format markdown");
  ASSERT_EQ(vpn.exit_code, 0) << vpn.err;
  size_t vb = vpn.out.find("### Beyond guide 000 (reported as warn at most)");
  ASSERT_NE(vb, std::string::npos) << vpn.out;
  EXPECT_NE(vpn.out.find("### 000 SSH Hardening"), std::string::npos);
  EXPECT_NE(vpn.out.find("### 000 Authentication"), std::string::npos);
  // Guide 000's order: Authentication before SSH Hardening.
  EXPECT_LT(vpn.out.find("### 000 Authentication"), vpn.out.find("### 000 SSH Hardening"));
  EXPECT_GT(vpn.out.find("**ssh.x11-forwarding**"), vb);
  EXPECT_EQ(vpn.out.find("### 003 §3.2"), std::string::npos)
      << "003's sections under vpn-production";

  // The HTML report has the same groups.
  auto html = run_command(k_bin + " audit --fail-on none --profile lms-server --root " + r.path() +
                          " --only ssh,accounts --format html");
  ASSERT_EQ(html.exit_code, 0) << html.err;
  size_t so = html.out.find("<section id=\"signoff\">");
  ASSERT_NE(so, std::string::npos);
  EXPECT_NE(html.out.find("<h3>003 §3.2 SSH Hardening</h3>", so), std::string::npos);
  EXPECT_NE(html.out.find("<h3>Beyond guide 003 (reported as warn at most)</h3>", so),
            std::string::npos);
  EXPECT_NE(html.out.find(">ssh.x11-forwarding</span>", so), std::string::npos);
}
