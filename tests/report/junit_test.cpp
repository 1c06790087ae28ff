// JUnit XML, read back by real XML parsers (libxml2's xmllint, Python's
// xml.etree) and validated against Jenkins' junit-10.xsd when available.

#include "report_fixtures.hpp"

#include <bulwark/report/report.hpp>
#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::slurp;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

// junit-10.xsd from jenkinsci/xunit-plugin (MIT) where BULWARK_JUNIT_XSD
// names it. No Debian package ships it and the build fetches nothing else,
// so schema validation is an extra a developer opts into; the structural
// checks (xmllint's well-formedness, ElementTree's counts) always run.
// "" when not asked for; a named file that is missing fails the test.
std::string junit_xsd() {
  const char *env = std::getenv("BULWARK_JUNIT_XSD");
  if (env == nullptr || *env == '\0')
    return "";
  EXPECT_EQ(::access(env, R_OK), 0) << "BULWARK_JUNIT_XSD=" << env << " cannot be read";
  return env;
}

bool have(const std::string &prog) {
  return run_command("command -v " + prog).exit_code == 0;
}

// Python's ElementTree: prints "suite|tests|failures|errors|skipped" per
// testsuite and "case|classname|name|outcome|message" per testcase.
const char *k_summarise = R"PY(
import sys, xml.etree.ElementTree as ET
root = ET.parse(sys.argv[1]).getroot()
assert root.tag == "testsuites", root.tag
for s in root.findall("testsuite"):
    print("suite|%s|%s|%s|%s|%s" % (s.get("name"), s.get("tests"), s.get("failures"), s.get("errors"), s.get("skipped")))
    for c in s.findall("testcase"):
        outcome, msg = "pass", ""
        for tag in ("failure", "error", "skipped"):
            e = c.find(tag)
            if e is not None:
                outcome, msg = tag, e.get("message") or ""
                break
        print("case|%s|%s|%s|%s" % (c.get("classname"), c.get("name"), outcome, msg.replace("\n", " ")))
)PY";

} // namespace

TEST(Junit, HostileTextStaysWellFormedXml) {
  BULWARK_REQUIRE(have("xmllint") && have("python3"))
      << "needs xmllint (libxml2-utils) and python3";
  TempRoot t;
  std::string xml = report::render_junit(test::hostile_report());
  t.write("/r.xml", xml);
  auto lint = run_command("xmllint --noout " + t.host("/r.xml"));
  EXPECT_EQ(lint.exit_code, 0) << lint.err;
  t.write("/s.py", k_summarise);
  auto py = run_command("python3 " + t.host("/s.py") + " " + t.host("/r.xml"));
  ASSERT_EQ(py.exit_code, 0) << py.err;
  // The markup arrives as text, never as elements.
  EXPECT_EQ(xml.find("<script>"), std::string::npos);
  EXPECT_NE(py.out.find("<script>alert(1)</script>"), std::string::npos);
  // Control characters are visible escapes; invalid UTF-8 is U+FFFD.
  EXPECT_NE(xml.find("\\x01"), std::string::npos);
  EXPECT_NE(xml.find("\\x1b"), std::string::npos);
  EXPECT_NE(xml.find("\xef\xbf\xbd"), std::string::npos);
  // One testcase per check and subject: six subjects, six outcomes.
  EXPECT_NE(py.out.find("suite|ssh|6|1|1|2"), std::string::npos) << py.out;
  std::string xsd = junit_xsd();
  if (xsd.empty())
    return; // schema validation not asked for (see junit_xsd()); all else was checked
  auto valid = run_command("xmllint --noout --schema " + xsd + " " + t.host("/r.xml"));
  EXPECT_EQ(valid.exit_code, 0) << valid.err;
}

TEST(Junit, SuitesCasesAndOutcomesFromARealAudit) {
  BULWARK_REQUIRE(have("python3")) << "needs python3";
  TempRoot r;
  r.write("/etc/hostname", "junit-host\n");
  r.write("/etc/ssh/sshd_config", "PermitRootLogin yes\nX11Forwarding yes\n");
  r.write("/w.yaml", "waivers:\n  - check: ssh.x11-forwarding\n    justification: needed for the "
                     "lab\n    owner: ops\n    expires: 2999-12-31\n");
  auto res = run_command(k_bin + " audit --fail-on none --profile lms-server --root " + r.path() +
                         " --waivers " + r.host("/w.yaml") + " --output junit=" + r.host("/r.xml"));
  ASSERT_EQ(res.exit_code, 0) << res.err;
  r.write("/s.py", k_summarise);
  auto py = run_command("python3 " + r.host("/s.py") + " " + r.host("/r.xml"));
  ASSERT_EQ(py.exit_code, 0) << py.err;
  EXPECT_NE(
      py.out.find(
          "case|bulwark.ssh|ssh.permit-root-login [sshd]|failure|permitrootlogin yes in global"),
      std::string::npos)
      << py.out;
  EXPECT_NE(
      py.out.find("case|bulwark.ssh|ssh.x11-forwarding [sshd]|skipped|waived: needed for the lab"),
      std::string::npos)
      << py.out;
  EXPECT_NE(py.out.find("case|bulwark.ssh|ssh.permit-empty-passwords [sshd]|pass|"),
            std::string::npos);
  // A testsuite per domain that ran.
  EXPECT_NE(py.out.find("suite|ssh|"), std::string::npos);
  EXPECT_NE(py.out.find("suite|accounts|"), std::string::npos);
  // The failure body carries the evidence with file and line.
  std::string xml = slurp(r.host("/r.xml"));
  EXPECT_NE(xml.find("/etc/ssh/sshd_config:1  found: permitrootlogin yes"), std::string::npos);
  std::string xsd = junit_xsd();
  if (!xsd.empty()) { // (xmllint is required by HostileTextStaysWellFormedXml)
    auto valid = run_command("xmllint --noout --schema " + xsd + " " + r.host("/r.xml"));
    EXPECT_EQ(valid.exit_code, 0) << valid.err;
  }
}
