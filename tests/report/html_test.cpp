// The HTML report in a real browser: headless Chromium (Debian package
// chromium) loads the file, runs its script under its own CSP, and dumps the
// DOM, which Python's html.parser reads back. Filters are set through the
// URL fragment, as a shared link would.

#include "report_fixtures.hpp"

#include <bulwark/report/report.hpp>
#include <gtest/gtest.h>
#include <nlohmann/json.hpp>
#include <sstream>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::slurp;
using bulwark::test::TempRoot;

namespace {

const std::string k_bin = BULWARK_BINARY;

std::string chromium() {
  for (std::string p : {"/usr/bin/chromium", "/usr/bin/chromium-browser"})
    if (::access(p.c_str(), X_OK) == 0)
      return p;
  return "";
}

// Summarises a dumped DOM: "finding|status|severity|domain|hidden" per
// finding, "form|hidden", "shown|text", and "tag|name" for every element
// that could load or run something.
const char *k_summarise = R"PY(
import sys
from html.parser import HTMLParser
class P(HTMLParser):
    def __init__(self):
        super().__init__(); self.shown = False
    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "details" and "finding" in (a.get("class") or ""):
            print("finding|%s|%s|%s|%s" % (a.get("data-status"), a.get("data-severity"), a.get("data-domain"), "hidden" in a))
        if tag == "form" and a.get("id") == "filters":
            print("form|%s" % ("hidden" in a))
        if tag in ("script", "img", "iframe", "object", "embed", "link", "a", "base"):
            print("tag|%s|%s" % (tag, a.get("src") or a.get("href") or ""))
        for k in a:
            if k.startswith("on"):
                print("handler|%s|%s" % (tag, k))
        self.shown = tag == "span" and a.get("id") == "shown"
    def handle_data(self, data):
        if self.shown:
            print("shown|%s" % data); self.shown = False
P().feed(open(sys.argv[1], encoding="utf-8", errors="replace").read())
)PY";

struct Dom {
  std::string summary;
  int visible(const std::string &status = "") const {
    int n = 0;
    std::istringstream in(summary);
    for (std::string line; std::getline(in, line);)
      if (line.rfind("finding|", 0) == 0 && line.size() > 5 &&
          line.substr(line.size() - 5) == "False" &&
          (status.empty() || line.rfind("finding|" + status + "|", 0) == 0))
        ++n;
    return n;
  }
  bool has(const std::string &s) const { return summary.find(s) != std::string::npos; }
};

Dom dump(const TempRoot &t, const std::string &html_path, const std::string &fragment) {
  std::string dom_path = t.host("/dom" + std::to_string(std::rand()) + ".html");
  auto res = run_command(chromium() + " --headless --no-sandbox --disable-gpu " +
                         "--user-data-dir=" + t.host("/profile") + " --dump-dom 'file://" +
                         html_path + fragment + "'");
  EXPECT_EQ(res.exit_code, 0) << res.err;
  t.write(dom_path.substr(t.path().size()), res.out);
  t.write("/s.py", k_summarise);
  auto py = run_command("python3 " + t.host("/s.py") + " " + dom_path);
  EXPECT_EQ(py.exit_code, 0) << py.err;
  return Dom{py.out};
}

void failing_root(const TempRoot &r) {
  r.write("/etc/hostname", "html-host\n");
  r.write("/etc/ssh/sshd_config", "PermitRootLogin yes\nX11Forwarding no\nUseDNS no\n");
}

} // namespace

TEST(Html, SelfContainedWithAStrictCsp) {
  TempRoot r;
  failing_root(r);
  auto res = run_command(k_bin + " audit --fail-on none --format html --root " + r.path());
  ASSERT_EQ(res.exit_code, 0) << res.err;
  const std::string &html = res.out;
  EXPECT_NE(html.find("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'"),
            std::string::npos);
  // No external loads of any kind.
  for (auto needle : {"src=", "href=", "@import", "url(", "http://", "https://"})
    EXPECT_EQ(html.find(needle), std::string::npos) << needle;
  EXPECT_NE(html.find("<svg class=\"gauge\""), std::string::npos);
  EXPECT_NE(html.find("<svg class=\"chart\""), std::string::npos);
  EXPECT_NE(html.find("<details class=\"finding\""), std::string::npos);
}

TEST(Html, RendersInChromiumAndFiltersWork) {
  BULWARK_REQUIRE(!chromium().empty()) << "chromium not installed (apt-get install chromium)";
  TempRoot r;
  failing_root(r);
  std::string path = r.host("/report.html");
  auto res = run_command(k_bin + " audit --fail-on none --profile lms-server --root " + r.path() +
                         " --output html=" + path + " --output json=" + r.host("/r.json"));
  ASSERT_EQ(res.exit_code, 0) << res.err;
  auto json = nlohmann::json::parse(slurp(r.host("/r.json")));
  int total = static_cast<int>(json["findings"].size()), fails = json["summary"]["fail"];
  ASSERT_GT(fails, 0);

  // No fragment: the script ran (the CSP hash admits it), the form is
  // shown, everything is visible.
  Dom all = dump(r, path, "");
  EXPECT_TRUE(all.has("form|False")) << all.summary;
  EXPECT_EQ(all.visible(), total);
  EXPECT_TRUE(all.has("shown|" + std::to_string(total) + " of " + std::to_string(total)));
  // #status=fail shows exactly the failures.
  Dom failed = dump(r, path, "#status=fail");
  EXPECT_EQ(failed.visible(), fails) << failed.summary;
  EXPECT_EQ(failed.visible("fail"), fails);
  // Filters combine: failures of the ssh domain at high severity.
  int ssh_high_fails = 0;
  for (auto &f : json["findings"])
    if (f["status"] == "fail" && f["severity"] == "high" &&
        f["check"].get<std::string>().rfind("ssh.", 0) == 0)
      ++ssh_high_fails;
  Dom combined = dump(r, path, "#status=fail&severity=high&domain=ssh");
  EXPECT_EQ(combined.visible(), ssh_high_fails);
  EXPECT_GT(ssh_high_fails, 0);
  // Without JavaScript the DOM is the parsed file itself (headless
  // Chromium's --dump-dom needs scripts, so Python's parser reads it): every
  // finding is listed and the form stays hidden.
  r.write("/s.py", k_summarise);
  auto parsed = run_command("python3 " + r.host("/s.py") + " " + path);
  Dom nojs{parsed.out};
  EXPECT_TRUE(nojs.has("form|True")) << nojs.summary;
  EXPECT_EQ(nojs.visible(), total);
  // A screenshot renders.
  auto shot = run_command(
      chromium() + " --headless --no-sandbox --disable-gpu --user-data-dir=" + r.host("/profile") +
      " --window-size=1200,1600 --screenshot=" + r.host("/shot.png") + " file://" + path);
  EXPECT_EQ(shot.exit_code, 0) << shot.err;
  std::string png = slurp(r.host("/shot.png"));
  EXPECT_GT(png.size(), 10000u);
  EXPECT_EQ(png.substr(1, 3), "PNG");
}

TEST(Html, HostileTextIsEscapedInTheBrowser) {
  BULWARK_REQUIRE(!chromium().empty()) << "chromium not installed (apt-get install chromium)";
  TempRoot t;
  t.write("/h.html", report::render_html(test::hostile_report()));
  Dom dom = dump(t, t.host("/h.html"), "");
  // Only our own script element; no image, link or handler from the target.
  EXPECT_TRUE(dom.has("tag|script|")) << dom.summary;
  EXPECT_FALSE(dom.has("tag|img")) << dom.summary;
  EXPECT_FALSE(dom.has("tag|a|")) << dom.summary;
  EXPECT_FALSE(dom.has("handler|")) << dom.summary;
  // Six findings, all visible; the script still ran.
  EXPECT_EQ(dom.visible(), 6);
  EXPECT_TRUE(dom.has("form|False"));
}
