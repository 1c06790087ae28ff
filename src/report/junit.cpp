// JUnit XML in the dialect CI consumers share (Jenkins' junit-10.xsd, GitLab's
// junit report artifacts, GitHub test-report actions): <testsuites> of one
// <testsuite> per domain, one <testcase> per check and subject.
// Outcome of a testcase from its findings, worst first: any fail ->
// <failure>; any error -> <error>; any waived -> <skipped> with the
// justification; warn -> passes, with the warning in <system-out> (warn is
// advice and does not fail --fail-on either); only not_applicable ->
// <skipped>. XML 1.0 cannot carry most control characters even as
// references, so everything from the target goes through xml_escape().

#include <bulwark/report/escape.hpp>
#include <bulwark/report/report.hpp>

#include <fmt/format.h>
#include <map>

namespace bulwark::report {

namespace {

struct Case {
  std::string check;
  std::string subject;
  std::vector<const Finding *> findings;
  bool has(Status s) const {
    for (auto *f : findings)
      if (f->status == s)
        return true;
    return false;
  }
};

std::string junit_describe(const Finding &f) {
  std::string out = fmt::format("[{} {}] {}: {}\n", to_string(f.status), to_string(f.severity),
                                f.check, f.message);
  for (auto &e : f.evidence) {
    out += "  " + (e.path.empty() ? std::string("-") : e.path) +
           (e.line > 0 ? ":" + std::to_string(e.line) : "");
    if (!e.found.empty())
      out += "  found: " + e.found;
    if (!e.expected.empty())
      out += "  expected: " + e.expected;
    if (!e.context.empty() && e.context != "global")
      out += "  [" + e.context + "]";
    out += "\n";
  }
  if (f.waiver)
    out += fmt::format("waiver{}: {} (owner {}, until {}; {})\n",
                       f.waiver->expired ? " (EXPIRED)" : "", f.waiver->justification,
                       f.waiver->owner, f.waiver->expires, f.waiver->source);
  if (f.status == Status::fail || f.status == Status::warn || f.status == Status::waived)
    out += "fix: " + f.fix.str() + "\n";
  return out;
}

std::string first_message(const Case &c, Status s) {
  for (auto *f : c.findings)
    if (f->status == s)
      return f->message;
  return "";
}

} // namespace

std::string render_junit(const AuditReport &r) {
  std::vector<std::string> domains;
  std::map<std::string, std::vector<Case>> cases;
  for (auto &f : r.findings) {
    std::string domain = f.check.substr(0, f.check.find('.'));
    if (!cases.count(domain))
      domains.push_back(domain);
    auto &list = cases[domain];
    Case *c = nullptr;
    for (auto &existing : list)
      if (existing.check == f.check && existing.subject == f.subject)
        c = &existing;
    if (c == nullptr) {
      list.push_back(Case{f.check, f.subject, {}});
      c = &list.back();
    }
    c->findings.push_back(&f);
  }
  std::string suites;
  int all_tests = 0, all_failures = 0, all_errors = 0;
  for (auto &domain : domains) {
    int failures = 0, errors = 0, skipped = 0;
    std::string body;
    for (auto &c : cases[domain]) {
      std::string name = c.check + (c.subject.empty() ? "" : " [" + c.subject + "]");
      std::string details;
      for (auto *f : c.findings)
        details += junit_describe(*f);
      body += fmt::format("    <testcase classname=\"bulwark.{}\" name=\"{}\" time=\"0\">\n",
                          xml_escape(domain, false), xml_escape(name, false));
      Severity sev = c.findings.front()->severity;
      if (c.has(Status::fail)) {
        ++failures;
        body +=
            fmt::format("      <failure type=\"{}\" message=\"{}\">{}</failure>\n", to_string(sev),
                        xml_escape(first_message(c, Status::fail), false), xml_escape(details));
      } else if (c.has(Status::error)) {
        ++errors;
        body +=
            fmt::format("      <error type=\"error\" message=\"{}\">{}</error>\n",
                        xml_escape(first_message(c, Status::error), false), xml_escape(details));
      } else if (c.has(Status::waived)) {
        ++skipped;
        std::string why;
        for (auto *f : c.findings)
          if (f->status == Status::waived && f->waiver)
            why = f->waiver->justification;
        body += fmt::format("      <skipped type=\"waived\" message=\"{}\">{}</skipped>\n",
                            xml_escape("waived: " + why, false), xml_escape(details));
      } else if (c.has(Status::warn)) {
        body += fmt::format("      <system-out>{}</system-out>\n", xml_escape(details));
      } else if (!c.has(Status::pass)) {
        ++skipped;
        body += fmt::format("      <skipped type=\"not_applicable\" message=\"{}\"/>\n",
                            xml_escape(first_message(c, Status::not_applicable), false));
      }
      body += "    </testcase>\n";
    }
    int tests = static_cast<int>(cases[domain].size());
    all_tests += tests;
    all_failures += failures;
    all_errors += errors;
    suites += fmt::format("  <testsuite name=\"{}\" tests=\"{}\" failures=\"{}\" errors=\"{}\" "
                          "skipped=\"{}\" time=\"0\" hostname=\"{}\">\n",
                          xml_escape(domain, false), tests, failures, errors, skipped,
                          xml_escape(r.hostname, false));
    suites += "    <properties>\n";
    suites +=
        fmt::format("      <property name=\"root\" value=\"{}\"/>\n", xml_escape(r.root, false));
    for (auto &p : r.profiles)
      suites +=
          fmt::format("      <property name=\"profile\" value=\"{}\"/>\n", xml_escape(p, false));
    suites += "    </properties>\n" + body + "  </testsuite>\n";
  }
  return fmt::format("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                     "<testsuites name=\"bulwark audit\" tests=\"{}\" failures=\"{}\" "
                     "errors=\"{}\" time=\"{:.3f}\">\n{}</testsuites>\n",
                     all_tests, all_failures, all_errors, r.duration_ms / 1000.0, suites);
}

} // namespace bulwark::report
