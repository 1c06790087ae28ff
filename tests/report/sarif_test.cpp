// SARIF output, validated by the real consumer: Microsoft's SARIF Multitool
// (`sarif-multitool validate`), the validator GitHub code scanning points to.

#include "../support.hpp"

#include <bulwark/core/finding.hpp>
#include <gtest/gtest.h>
#include <map>
#include <nlohmann/json.hpp>
#include <set>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

// The Multitool, installed with
//   npm install --prefix /var/tmp/bulwark-sarif-multitool @microsoft/sarif-multitool@5.7.0
// (or wherever BULWARK_SARIF_MULTITOOL points). The native binary is called
// directly: the npm wrapper passes its arguments through a shell.
std::string multitool() {
  const char *env = std::getenv("BULWARK_SARIF_MULTITOOL");
  std::string prefix = env ? env : "/var/tmp/bulwark-sarif-multitool";
  for (std::string p : {prefix + "/node_modules/@microsoft/sarif-multitool-linux/Sarif.Multitool",
                        prefix + "/node_modules/.bin/sarif-multitool"})
    if (::access(p.c_str(), X_OK) == 0)
      return p;
  return "";
}

// A root with failures of several kinds: a line-precise one, an absence
// (line 0), and a path that needs percent-encoding.
void failing_root(const TempRoot &r) {
  r.write("/etc/hostname", "sarif-host\n");
  r.write("/etc/ssh/sshd_config", "# test\nPermitRootLogin yes\nPasswordAuthentication "
                                  "yes\nInclude \"/etc/ssh/conf d/*.conf\"\n");
  r.write("/etc/ssh/conf d/x 100%.conf", "X11Forwarding yes\n");
}

nlohmann::json audit_sarif(const TempRoot &r, const std::string &extra = "") {
  auto res =
      run_command(k_bin + " audit --fail-on none --profile lms-server --format sarif --root " +
                  r.path() + " " + extra);
  EXPECT_EQ(res.exit_code, 0) << res.err;
  return nlohmann::json::parse(res.out);
}

} // namespace

TEST(Sarif, ValidatesWithTheSarifMultitool) {
  std::string tool = multitool();
  BULWARK_REQUIRE(!tool.empty())
      << "SARIF Multitool not installed: npm install --prefix "
         "/var/tmp/bulwark-sarif-multitool @microsoft/sarif-multitool (or set "
         "BULWARK_SARIF_MULTITOOL to its prefix)";
  TempRoot r;
  failing_root(r);
  r.write("/waivers.yaml", "waivers:\n  - check: ssh.x11-forwarding\n    justification: lab "
                           "box\n    owner: ops\n    expires: 2999-12-31\n");
  auto res = run_command(k_bin + " audit --fail-on none --profile lms-server --root " + r.path() +
                         " --waivers " + r.host("/waivers.yaml") +
                         " --output sarif=" + r.host("/out.sarif"));
  ASSERT_EQ(res.exit_code, 0) << res.err;
  auto sarif = nlohmann::json::parse(slurp(r.host("/out.sarif")));
  ASSERT_FALSE(sarif["runs"][0]["results"].empty());
  auto v = run_command(tool + " validate -o " + r.host("/validation.sarif") + " " +
                       r.host("/out.sarif"));
  ASSERT_EQ(v.exit_code, 0) << v.out << v.err;
  auto log = nlohmann::json::parse(slurp(r.host("/validation.sarif")));
  int warnings = 0;
  for (auto &res : log["runs"][0]["results"]) {
    std::string level = res.value("level", "warning");
    EXPECT_NE(level, "error") << res.dump();
    if (level != "warning")
      continue;
    ++warnings;
    // The one accepted warning (explained in src/report/sarif.cpp): no region
    // for a decision made by an absence (evidence line 0).
    EXPECT_EQ(res["ruleId"], "SARIF2017") << res.dump();
  }
  // Each SARIF2017 corresponds to a result whose location has no line.
  int regionless = 0;
  for (auto &res : sarif["runs"][0]["results"])
    if (res.contains("locations") && !res["locations"][0]["physicalLocation"].contains("region"))
      ++regionless;
  EXPECT_EQ(warnings, regionless);
}

TEST(Sarif, RulesResultsAndLocations) {
  TempRoot r;
  failing_root(r);
  auto j = audit_sarif(r);
  EXPECT_EQ(j["version"], "2.1.0");
  auto &run = j["runs"][0];
  EXPECT_EQ(run["tool"]["driver"]["name"], "bulwark");
  EXPECT_EQ(run["tool"]["driver"]["version"], BULWARK_VERSION);
  EXPECT_EQ(run["tool"]["driver"]["informationUri"].get<std::string>(), BULWARK_HOMEPAGE);
  EXPECT_EQ(run["originalUriBaseIds"]["ROOT"]["uri"], "file://" + r.path() + "/");
  auto &rules = run["tool"]["driver"]["rules"];
  std::map<std::string, nlohmann::json> by_id;
  for (auto &rule : rules)
    by_id[rule["id"]] = rule;
  auto &rule = by_id["ssh.permit-root-login"];
  EXPECT_EQ(rule["shortDescription"]["text"], "SSH does not accept root logins.");
  EXPECT_NE(rule["help"]["text"].get<std::string>().find("PermitRootLogin no"), std::string::npos);
  EXPECT_EQ(rule["properties"]["security-severity"], "8.0");
  EXPECT_EQ(rule["properties"]["tags"], nlohmann::json::array({"security", "ssh"}));
  std::map<std::string, nlohmann::json> results;
  for (auto &res : run["results"]) {
    EXPECT_NE(res["level"], "none");
    EXPECT_EQ(rules[res["ruleIndex"].get<size_t>()]["id"], res["ruleId"]);
    results[res["ruleId"]] = res;
  }
  // Only fail and warn become results.
  EXPECT_EQ(results.count("ssh.permit-empty-passwords"), 0u); // passes
  auto &root_login = results["ssh.permit-root-login"];
  EXPECT_EQ(root_login["level"], "error");
  auto &loc = root_login["locations"][0]["physicalLocation"];
  EXPECT_EQ(loc["artifactLocation"]["uri"], "etc/ssh/sshd_config");
  EXPECT_EQ(loc["artifactLocation"]["uriBaseId"], "ROOT");
  EXPECT_EQ(loc["region"]["startLine"], 2);
  auto &x11 = results["ssh.x11-forwarding"]["locations"][0]["physicalLocation"];
  EXPECT_EQ(x11["artifactLocation"]["uri"], "etc/ssh/conf%20d/x%20100%25.conf");
  EXPECT_EQ(x11["region"]["startLine"], 1);
  // An absence (AllowUsers missing) names the file, without a region.
  auto &allow = results["ssh.allow-users-groups"]["locations"][0]["physicalLocation"];
  EXPECT_FALSE(allow.contains("region")) << allow.dump();
}

TEST(Sarif, FingerprintsSurviveLineShiftsAndMessageChanges) {
  TempRoot a, b;
  failing_root(a);
  failing_root(b);
  // Same settings, moved down by comment lines and with a different value
  // that still fails: the identity must not change.
  b.write("/etc/ssh/sshd_config",
          "# one\n# two\n# three\nPermitRootLogin yes\nPasswordAuthentication "
          "yes\nInclude \"/etc/ssh/conf d/*.conf\"\n");
  auto fa = audit_sarif(a), fb = audit_sarif(b);
  std::map<std::string, std::string> pa, pb;
  std::set<std::string> all;
  for (auto &res : fa["runs"][0]["results"]) {
    std::string fp = res["partialFingerprints"]["bulwarkFinding/v1"];
    EXPECT_EQ(fp.size(), 32u);
    EXPECT_TRUE(all.insert(fp).second) << "two results share " << fp;
    pa[res["ruleId"]] = fp;
  }
  for (auto &res : fb["runs"][0]["results"])
    pb[res["ruleId"]] = res["partialFingerprints"]["bulwarkFinding/v1"];
  EXPECT_EQ(pa, pb);
  int line_a = 0, line_b = 0;
  for (auto &res : fa["runs"][0]["results"])
    if (res["ruleId"] == "ssh.permit-root-login")
      line_a = res["locations"][0]["physicalLocation"]["region"]["startLine"];
  for (auto &res : fb["runs"][0]["results"])
    if (res["ruleId"] == "ssh.permit-root-login")
      line_b = res["locations"][0]["physicalLocation"]["region"]["startLine"];
  EXPECT_EQ(line_a, 2);
  EXPECT_EQ(line_b, 4);
  // A different deciding file is a different finding.
  EXPECT_NE(bulwark::fingerprint("ssh.x", "", "/etc/a"),
            bulwark::fingerprint("ssh.x", "", "/etc/b"));
  EXPECT_NE(bulwark::fingerprint("ssh.x", "a", ""), bulwark::fingerprint("ssh.x", "", "a"));
  // Baselines keep fingerprints across versions: the value is SHA-256 of
  // "check NUL subject NUL path", first 16 bytes, as
  // `printf 'ssh.permit-root-login\0global\0/etc/ssh/sshd_config' | sha256sum` says.
  EXPECT_EQ(bulwark::fingerprint("ssh.permit-root-login", "global", "/etc/ssh/sshd_config"),
            "0dfecccf5ceaa43d25bd10b14863fede");
}

TEST(Sarif, WaivedFindingIsASuppressedResult) {
  TempRoot r;
  failing_root(r);
  r.write("/w.yaml", "waivers:\n  - check: ssh.permit-root-login\n    justification: \"break-glass "
                     "<b>\"\n    owner: sec\n    expires: 2999-01-01\n");
  auto j = audit_sarif(r, "--waivers " + r.host("/w.yaml"));
  bool seen = false;
  for (auto &res : j["runs"][0]["results"])
    if (res["ruleId"] == "ssh.permit-root-login") {
      seen = true;
      EXPECT_EQ(res["level"], "error");
      EXPECT_EQ(res["suppressions"][0]["kind"], "external");
      EXPECT_EQ(res["suppressions"][0]["justification"], "break-glass <b>");
    }
  EXPECT_TRUE(seen);
}
