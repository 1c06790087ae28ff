// Black-box tests of the built binary: exit codes, formats, atomic output.

#include "../support.hpp"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

using bulwark::test::run_command;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

void minimal_root(const TempRoot &r, const std::string &sshd) {
  r.write("/etc/ssh/sshd_config", sshd);
  r.write("/etc/hostname", "image-host\n");
}

} // namespace

TEST(Cli, JsonFollowsTheOutputContract) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin yes\n");
  auto res =
      run_command(k_bin + " audit --root " + r.path() + " --format json --profile lms-server");
  EXPECT_EQ(res.exit_code, 1) << res.err; // a high failure with the default --fail-on high
  auto j = nlohmann::json::parse(res.out);
  EXPECT_EQ(j["schema"], "bulwark.audit/v1");
  EXPECT_EQ(j["tool"]["name"], "bulwark");
  EXPECT_EQ(j["target"]["root"], r.path());
  EXPECT_EQ(j["target"]["live"], false);
  EXPECT_EQ(j["target"]["hostname"], "image-host");
  EXPECT_EQ(j["profiles"], nlohmann::json::array({"lms-server"}));
  EXPECT_TRUE(j["duration_ms"].is_number());
  EXPECT_TRUE(j["score"].is_number_integer());
  for (auto k : {"pass", "fail", "warn", "not_applicable", "error"})
    EXPECT_TRUE(j["summary"][k].is_number_integer()) << k;
  bool seen = false;
  for (auto &f : j["findings"]) {
    for (auto k : {"check", "title", "severity", "status", "subject", "message", "evidence", "fix",
                   "references"})
      EXPECT_TRUE(f.contains(k)) << k;
    if (f["check"] == "ssh.permit-root-login") {
      seen = true;
      EXPECT_EQ(f["status"], "fail");
      EXPECT_EQ(f["evidence"][0]["path"], "/etc/ssh/sshd_config"); // inside the target
      EXPECT_EQ(f["evidence"][0]["line"], 1);
      EXPECT_EQ(f["evidence"][0]["found"], "permitrootlogin yes");
      EXPECT_EQ(f["evidence"][0]["expected"], "permitrootlogin no");
      EXPECT_EQ(f["evidence"][0]["context"], "global");
    }
  }
  EXPECT_TRUE(seen);
}

TEST(Cli, ExitCodes) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\n");
  std::string base = k_bin + " audit --root " + r.path();
  EXPECT_EQ(run_command(base + " --fail-on none").exit_code, 0);
  EXPECT_EQ(run_command(base + " --only ssh.permit-root-login").exit_code, 0);
  EXPECT_EQ(run_command(base + " --only ssh.password-authentication").exit_code, 1);
  EXPECT_EQ(run_command(base + " --only ssh.password-authentication --fail-on critical").exit_code,
            0);
  EXPECT_EQ(run_command(base + " --only ssh.max-auth-tries --fail-on medium").exit_code, 1);
  auto bad = run_command(base + " --only ssh.nosuch");
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("matches no check"), std::string::npos);
  EXPECT_EQ(run_command(base + " --format yaml").exit_code, 2);
  EXPECT_EQ(run_command(base + " --profile nosuch").exit_code, 2);
  EXPECT_EQ(run_command(k_bin + " audit --root /nonexistent/root").exit_code, 2);
  EXPECT_EQ(run_command(k_bin + " frobnicate").exit_code, 2);
  EXPECT_EQ(run_command(k_bin).exit_code, 2);
}

TEST(Cli, OnlySkipAndDomains) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\n");
  auto only = run_command(k_bin + " audit --fail-on none --format json --root " + r.path() +
                          " --only 'ssh.permit-*,ssh.use-dns'");
  auto j = nlohmann::json::parse(only.out);
  std::set<std::string> ids;
  for (auto &f : j["findings"])
    ids.insert(f["check"]);
  EXPECT_EQ(ids, (std::set<std::string>{"ssh.permit-root-login", "ssh.permit-empty-passwords",
                                        "ssh.use-dns"}));
  auto skip = run_command(k_bin + " audit --fail-on none --format json --root " + r.path() +
                          " --skip ssh --skip '*'");
  EXPECT_TRUE(nlohmann::json::parse(skip.out)["findings"].empty()) << skip.out;
  auto domain =
      run_command(k_bin + " audit --fail-on none --format json --root " + r.path() + " --skip ssh");
  auto domain_json = nlohmann::json::parse(domain.out); // outlives the loop
  for (auto &f : domain_json["findings"])
    EXPECT_NE(f["check"].get<std::string>().rfind("ssh.", 0), 0u);
}

TEST(Cli, OutputIsWrittenAtomicallyAndReplacesTheOldReport) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\n");
  r.write("/out/report.json", "OLD");
  auto res = run_command(k_bin + " audit --fail-on none --format json --root " + r.path() +
                         " --output " + r.host("/out/report.json"));
  EXPECT_EQ(res.exit_code, 0) << res.err;
  EXPECT_TRUE(res.out.empty());
  std::ifstream in(r.host("/out/report.json"));
  std::string text = bulwark::test::read_all(in);
  EXPECT_EQ(nlohmann::json::parse(text)["schema"], "bulwark.audit/v1");
  // No temporary file is left behind.
  int files = 0;
  for (auto &e : std::filesystem::directory_iterator(r.host("/out")))
    (void)e, ++files;
  EXPECT_EQ(files, 1);
  // An unwritable destination is exit 3, and the old file stays.
  auto bad = run_command(k_bin + " audit --fail-on none --root " + r.path() +
                         " --output /nonexistent-dir/report.json");
  EXPECT_EQ(bad.exit_code, 3);
}

TEST(Cli, AReportThatCannotBeWrittenWholeLeavesTheOldOneInPlace) {
  // A file-size limit stands in for a disk that fills up part way through
  // the report: the write fails with EFBIG (SIGXFSZ ignored), after some of
  // the report has gone to the temporary file. JSON is written in pieces as
  // it is rendered, the other formats whole: both keep the old file.
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\n");
  for (std::string format : {"json", "sarif", "html"}) {
    r.write("/out/report", "OLD");
    auto res = run_command("sh -c \"trap '' XFSZ; ulimit -f 2; exec " + k_bin +
                           " audit --fail-on none --format " + format + " --root " + r.path() +
                           " --output " + r.host("/out/report") + "\"");
    EXPECT_EQ(res.exit_code, 3) << format << ": " << res.err;
    EXPECT_NE(res.err.find("cannot write"), std::string::npos) << res.err;
    std::ifstream in(r.host("/out/report"));
    EXPECT_EQ(bulwark::test::read_all(in), "OLD") << format;
    int files = 0;
    for (auto &e : std::filesystem::directory_iterator(r.host("/out")))
      (void)e, ++files;
    EXPECT_EQ(files, 1) << format << ": a temporary file was left behind";
  }
}

TEST(Cli, TextOutputHasNoColourWhenNotATerminal) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin yes\n");
  auto res = run_command(k_bin + " audit --root " + r.path());
  EXPECT_EQ(res.out.find('\033'), std::string::npos);
  EXPECT_NE(res.out.find("FAIL"), std::string::npos);
  EXPECT_NE(res.out.find("/etc/ssh/sshd_config:1"), std::string::npos);
  EXPECT_NE(res.out.find("fix:"), std::string::npos);
  EXPECT_NE(res.out.find("score"), std::string::npos);
  // Failures come before passes within a domain.
  EXPECT_LT(res.out.find("FAIL"), res.out.find("PASS"));
  // Colour only on a terminal, and never with NO_COLOR: `script` gives a tty.
  auto tty = run_command("script -qec '" + k_bin + " audit --root " + r.path() + "' /dev/null");
  if (tty.exit_code != 127) {
    EXPECT_NE(tty.out.find('\033'), std::string::npos);
  }
  auto nocolor =
      run_command("NO_COLOR=1 script -qec '" + k_bin + " audit --root " + r.path() + "' /dev/null");
  EXPECT_EQ(nocolor.out.find('\033'), std::string::npos);
}

TEST(Cli, ChecksExplainFactsVersion) {
  auto checks = run_command(k_bin + " checks --profile lms-server");
  EXPECT_EQ(checks.exit_code, 0);
  EXPECT_NE(checks.out.find("ssh.client-alive"), std::string::npos);
  EXPECT_NE(checks.out.find("count-max=3"), std::string::npos);
  auto explain = run_command(k_bin + " explain ssh.permit-root-login");
  EXPECT_EQ(explain.exit_code, 0);
  EXPECT_NE(explain.out.find("003 §3.2"), std::string::npos);
  EXPECT_EQ(run_command(k_bin + " explain nosuch.check").exit_code, 2);
  TempRoot r;
  minimal_root(r, "Include /etc/ssh/d/*.conf\nMatch User alice\n  PasswordAuthentication no\n");
  r.write("/etc/ssh/d/a.conf", "MaxAuthTries 2\n");
  auto facts = run_command(k_bin + " facts --root " + r.path() + " ssh");
  ASSERT_EQ(facts.exit_code, 0) << facts.err;
  auto j = nlohmann::json::parse(facts.out);
  EXPECT_EQ(j["ssh"]["scopes"][0]["settings"]["maxauthtries"]["value"], "2");
  EXPECT_EQ(j["ssh"]["scopes"][0]["settings"]["maxauthtries"]["source"][0], "/etc/ssh/d/a.conf:1");
  EXPECT_EQ(j["ssh"]["scopes"][1]["scope"], "Match User alice");
  EXPECT_EQ(j["ssh"]["scopes"][1]["settings"]["passwordauthentication"]["value"], "no");
  EXPECT_EQ(run_command(k_bin + " version").out.rfind("bulwark ", 0), 0u);
}

TEST(Cli, UserProfileFileFromTheCommandLine) {
  TempRoot r;
  minimal_root(r, "MaxAuthTries 5\n");
  r.write("/site.yaml", "extends: vpn-production\nparameters:\n  ssh.max-auth-tries: {max: 5}\n");
  auto ok = run_command(k_bin + " audit --fail-on medium --only ssh.max-auth-tries --root " +
                        r.path() + " --profile " + r.host("/site.yaml"));
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
  r.write("/broken.yaml", "parameters:\n  ssh.max-auth-tries: {max: lots}\n");
  auto bad =
      run_command(k_bin + " audit --root " + r.path() + " --profile " + r.host("/broken.yaml"));
  EXPECT_EQ(bad.exit_code, 2);
  EXPECT_NE(bad.err.find("broken.yaml:2"), std::string::npos) << bad.err;
}

TEST(Cli, FactsSysctlCitesTheDecidingLine) {
  TempRoot r;
  r.write("/usr/lib/sysctl.d/50-vendor.conf", "net.ipv4.ip_forward = 1\n");
  r.write("/etc/sysctl.d/60-site.conf", "# site\nnet.ipv4.ip_forward = 0\n");
  auto facts = run_command(k_bin + " facts --root " + r.path() + " sysctl");
  ASSERT_EQ(facts.exit_code, 0) << facts.err;
  auto j = nlohmann::json::parse(facts.out);
  EXPECT_EQ(j["sysctl"]["settings"]["net.ipv4.ip_forward"]["value"], "0");
  EXPECT_EQ(j["sysctl"]["settings"]["net.ipv4.ip_forward"]["source"],
            "/etc/sysctl.d/60-site.conf:2");
  EXPECT_FALSE(j["sysctl"]["settings"]["net.ipv4.ip_forward"].contains("live")); // offline root
  EXPECT_EQ(run_command(k_bin + " facts nosuch").exit_code, 2);
}

TEST(Cli, SeveralFormatsAtOnceEachWrittenAtomically) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin yes\n");
  r.write("/out/report.sarif", "OLD");
  auto res = run_command(k_bin + " audit --fail-on none --root " + r.path() +
                         " --output sarif=" + r.host("/out/report.sarif") +
                         " --output junit=" + r.host("/out/report.xml") + " --output markdown=" +
                         r.host("/out/report.md") + " --output html=" + r.host("/out/report.html") +
                         " --output json=" + r.host("/out/report.json"));
  ASSERT_EQ(res.exit_code, 0) << res.err;
  // stdout still carries --format (text) when only FORMAT=FILE outputs are given.
  EXPECT_NE(res.out.find("summary:"), std::string::npos);
  auto slurp = [&](const std::string &p) {
    std::ifstream in(r.host(p), std::ios::binary);
    return bulwark::test::read_all(in);
  };
  EXPECT_EQ(nlohmann::json::parse(slurp("/out/report.sarif"))["version"], "2.1.0");
  EXPECT_EQ(slurp("/out/report.xml").rfind("<?xml", 0), 0u);
  EXPECT_EQ(slurp("/out/report.md").rfind("# Server hardening checklist", 0), 0u);
  EXPECT_EQ(slurp("/out/report.html").rfind("<!DOCTYPE html>", 0), 0u);
  EXPECT_EQ(nlohmann::json::parse(slurp("/out/report.json"))["schema"], "bulwark.audit/v1");
  int files = 0;
  for (auto &e : std::filesystem::directory_iterator(r.host("/out")))
    (void)e, ++files;
  EXPECT_EQ(files, 5); // no temporary files left behind
  // Plain --output FILE keeps working with --format, and takes stdout's place.
  auto plain =
      run_command(k_bin + " audit --fail-on none --format sarif --root " + r.path() + " --output " +
                  r.host("/out/plain.sarif") + " --output json=" + r.host("/out/also.json"));
  EXPECT_EQ(plain.exit_code, 0) << plain.err;
  EXPECT_TRUE(plain.out.empty());
  EXPECT_EQ(nlohmann::json::parse(slurp("/out/plain.sarif"))["version"], "2.1.0");
  EXPECT_EQ(nlohmann::json::parse(slurp("/out/also.json"))["schema"], "bulwark.audit/v1");
  // Each --format value works on stdout.
  for (auto f : {"text", "json", "sarif", "junit", "markdown", "html"})
    EXPECT_EQ(run_command(k_bin + " audit --fail-on none --format " + f + " --root " + r.path())
                  .exit_code,
              0)
        << f;
  // One unwritable destination is exit 3; an empty file name is a usage error.
  EXPECT_EQ(run_command(k_bin + " audit --fail-on none --root " + r.path() +
                        " --output sarif=/nonexistent-dir/x.sarif")
                .exit_code,
            3);
  EXPECT_EQ(run_command(k_bin + " audit --fail-on none --root " + r.path() + " --output sarif=")
                .exit_code,
            2);
}

TEST(Cli, JsonAddsFieldsWithoutRenamingAny) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin yes\n");
  auto j = nlohmann::json::parse(
      run_command(k_bin + " audit --fail-on none --format json --root " + r.path()).out);
  std::vector<std::string> keys;
  for (auto &[k, v] : j.items())
    keys.push_back(k);
  // nlohmann::json sorts keys; the contract's keys are all present, and
  // "waivers"/"baseline" appear only when asked for.
  for (auto k :
       {"schema", "tool", "target", "profiles", "duration_ms", "score", "summary", "findings"})
    EXPECT_TRUE(j.contains(k)) << k;
  EXPECT_FALSE(j.contains("waivers"));
  EXPECT_FALSE(j.contains("baseline"));
  EXPECT_EQ(j["summary"]["waived"], 0);
  EXPECT_EQ(j["findings"][0]["fingerprint"].get<std::string>().size(), 32u);
}

// Issue 14 (fail closed): a compose file bulwark cannot read, beside a
// privileged service, used to make every container check not_applicable:
// score 100, exit 0. Now every format shows the error and the run fails.
TEST(Cli, AnInvalidComposeFileBesideAPrivilegedServiceFailsInEveryFormat) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\nPasswordAuthentication no\n");
  r.write("/srv/app/docker-compose.yml", "services:\n"
                                         "  web:\n"
                                         "    image: nginx:1.25\n"
                                         "    privileged: true\n"
                                         "  db: [unclosed\n");
  std::string base = k_bin + " audit --root " + r.path() + " --only container";
  auto json = run_command(base + " --fail-on low --format json");
  EXPECT_EQ(json.exit_code, 1) << json.err;
  auto j = nlohmann::json::parse(json.out);
  EXPECT_LT(j["score"].get<int>(), 100);
  EXPECT_GT(j["summary"]["error"].get<int>(), 0);
  bool privileged_error = false;
  for (auto &f : j["findings"])
    if (f["check"] == "container.no-privileged") {
      EXPECT_EQ(f["status"], "error") << f.dump();
      EXPECT_EQ(f["evidence"][0]["path"], "/srv/app/docker-compose.yml") << f.dump();
      EXPECT_GT(f["evidence"][0]["line"].get<int>(), 0) << f.dump();
      privileged_error = true;
    }
  EXPECT_TRUE(privileged_error) << json.out.substr(0, 2000);
  struct Shown {
    const char *format;
    const char *needle; // how the format says "this could not be checked"
  };
  // The other formats from one run (text on stdout, the rest through
  // --output FORMAT=FILE, the same renderers): a sanitizer-built bulwark
  // costs half a CPU second to start.
  const std::vector<Shown> shown = {Shown{"text", "ERROR"}, Shown{"sarif", "could not be checked"},
                                    Shown{"junit", "<error "}, Shown{"markdown", "error"},
                                    Shown{"html", "ERROR"}};
  TempRoot out;
  std::string outputs;
  for (auto [format, needle] : shown)
    if (std::string_view(format) != "text")
      outputs +=
          std::string(" --output ") + format + "=" + out.host(std::string("/report.") + format);
  auto res = run_command(base + " --fail-on low --format text" + outputs);
  EXPECT_EQ(res.exit_code, 1) << res.err;
  for (auto [format, needle] : shown) {
    std::string text = res.out;
    if (std::string_view(format) != "text") {
      std::ifstream in(out.host(std::string("/report.") + format), std::ios::binary);
      EXPECT_TRUE(in.good()) << format << " was not written: " << res.err;
      text = bulwark::test::read_all(in);
    }
    EXPECT_NE(text.find(needle), std::string::npos) << format;
    EXPECT_NE(text.find("docker-compose.yml"), std::string::npos) << format;
    EXPECT_EQ(text.find("100/100"), std::string::npos) << format;
  }
  // --fail-on none is the one way to a green run, and says so itself.
  EXPECT_EQ(run_command(base + " --fail-on none --format json").exit_code, 0);
}

// Issue 20: usage mistakes that used to do something else silently.
TEST(Cli, EmptySelectorsUnknownOutputFormatsAndStrayEnvFilesAreUsageErrors) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\n");
  std::string base = k_bin + " audit --root " + r.path();
  EXPECT_EQ(run_command(base + " --only ''").exit_code, 2);
  EXPECT_EQ(run_command(base + " --skip ''").exit_code, 2);
  EXPECT_EQ(run_command(base + " --only ,").exit_code, 2);
  auto xml = run_command("cd " + r.path() + " && " + base + " --output xml=foo.xml");
  EXPECT_EQ(xml.exit_code, 2);
  EXPECT_NE(xml.err.find("unknown format 'xml'"), std::string::npos) << xml.err;
  EXPECT_FALSE(std::filesystem::exists(r.path() + "/xml=foo.xml"));
  EXPECT_EQ(run_command(base + " --env-file " + r.path() + "/x.env").exit_code, 2);
  EXPECT_EQ(run_command(k_bin + " facts --root " + r.path() + "/nonexistent").exit_code, 2);
}

// Issue 20: a report that did not reach stdout is exit 3, never exit 0.
TEST(Cli, AReportThatCannotBeWrittenToStdoutIsExit3) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\n");
  for (const char *format : {"text", "json"}) {
    // In a subshell: run_command's own redirection of stdout comes last.
    auto res = run_command("(" + k_bin + " audit --fail-on none --root " + r.path() + " --format " +
                           format + " >/dev/full)");
    EXPECT_EQ(res.exit_code, 3) << format;
    EXPECT_NE(res.err.find("cannot write the report to stdout"), std::string::npos) << res.err;
  }
}

// Issue 20: past `ulimit -f` the write fails (EFBIG) and is reported; no
// SIGXFSZ kill, no temporary file left beside the old report.
TEST(Cli, AFileSizeLimitIsAnErrorAndLeavesNoTemporaryFile) {
  TempRoot r;
  minimal_root(r, "PermitRootLogin no\n");
  std::string out = r.path() + "/out";
  std::filesystem::create_directories(out);
  auto res = run_command("ulimit -f 1; " + k_bin + " audit --fail-on none --root " + r.path() +
                         " --format json --output " + out + "/report.json");
  EXPECT_EQ(res.exit_code, 3) << res.err;
  size_t entries = 0;
  for (auto &e : std::filesystem::directory_iterator(out))
    ++entries, ADD_FAILURE() << "left behind: " << e.path();
  EXPECT_EQ(entries, 0u);
}

// Issue 20: the text report is for a terminal; a hostile root's hostname,
// subjects and paths must not carry escape sequences or bidi overrides.
TEST(Cli, TextReportEscapesWhatTheTargetControls) {
  TempRoot r;
  r.write("/etc/ssh/sshd_config", "PermitRootLogin yes\n");
  r.write("/etc/hostname", "evil\x1b]0;owned\x07\xe2\x80\xaehost\n");
  auto res = run_command(k_bin + " audit --root " + r.path() + " --only ssh --format text");
  EXPECT_EQ(res.out.find('\x1b'), std::string::npos);
  EXPECT_EQ(res.out.find("\xe2\x80\xae"), std::string::npos);
  EXPECT_NE(res.out.find("evil\\x1b]0;owned\\x07\\u202ehost"), std::string::npos) << res.out;
}

// Issue 16: without --profile, `bulwark checks` shows the values an audit
// without --profile uses (the baseline's), and a guide's profile marks the
// checks beyond its guide.
TEST(Cli, ChecksShowBaselineValuesAndWhatIsBeyondAGuide) {
  auto line_of = [](const std::string &out, const std::string &id) {
    size_t at = out.find(id + " ");
    return at == std::string::npos ? std::string() : out.substr(at, out.find('\n', at) - at);
  };
  auto plain = run_command(k_bin + " checks");
  ASSERT_EQ(plain.exit_code, 0);
  // The catalogue's default is "yes" (003's); baseline takes 000's stricter "no".
  EXPECT_NE(line_of(plain.out, "firewall.ssh-restricted").find("rate-limit-suffices=no"),
            std::string::npos)
      << line_of(plain.out, "firewall.ssh-restricted");
  EXPECT_EQ(plain.out.find("beyond guide"), std::string::npos);
  auto lms = run_command(k_bin + " checks --profile lms-server --format json");
  ASSERT_EQ(lms.exit_code, 0);
  auto j = nlohmann::json::parse(lms.out);
  int beyond = 0, own = 0;
  for (auto &c : j) {
    if (c["id"] == "accounts.mfa") {
      EXPECT_EQ(c["beyond_guide"], "003");
    }
    if (c["id"] == "ssh.x11-forwarding") {
      EXPECT_FALSE(c.contains("beyond_guide"));
    }
    (c.contains("beyond_guide") ? beyond : own)++;
  }
  EXPECT_GT(beyond, 20);
  EXPECT_GT(own, 50);
  auto vpn = run_command(k_bin + " checks --profile vpn-production");
  EXPECT_NE(line_of(vpn.out, "ssh.x11-forwarding").find("(beyond guide 000: at most warn)"),
            std::string::npos);
  auto explain = run_command(k_bin + " explain accounts.mfa");
  EXPECT_NE(explain.out.find("lms-server (guide 003): beyond the guide"), std::string::npos)
      << explain.out;
  EXPECT_NE(explain.out.find("vpn-production (guide 000): the guide asks for it"),
            std::string::npos);
}
