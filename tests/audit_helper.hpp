#pragma once
// The one way check tests run an audit in-process and read its findings.
//
// Findings are looked up by (check, subject). A lookup of a finding the audit
// did not report FAILS the test (ADD_FAILURE) instead of handing back a
// default-constructed Finding, and a check that reported several subjects
// cannot be read as if it had one: `one()` fails then too. A test that used
// `std::map<std::string, Finding>` and operator[] passed whenever the check
// was missing (a default Finding once had status pass) and saw only the last
// subject of each check.

#include <bulwark/checks/audit.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::test {

struct AuditOptions {
  std::vector<std::string> only;     // --only; empty = every check of the profile
  std::vector<std::string> profiles; // names or files; empty = baseline
  std::vector<std::string> compose;  // --compose, in -f order
  bool live = false;
};

class Findings {
public:
  Findings() = default;
  explicit Findings(AuditReport report) : m_report(std::move(report)) {
    for (const auto &f : m_report.findings)
      m_by_check[f.check].push_back(f);
  }

  const AuditReport &report() const { return m_report; }
  const std::vector<Finding> &all() const { return m_report.findings; }
  bool empty() const { return m_report.findings.empty(); }

  // Every finding of `check`, in report order (possibly none).
  std::vector<const Finding *> of(std::string_view check) const {
    std::vector<const Finding *> out;
    for (const auto &f : m_report.findings)
      if (f.check == check)
        out.push_back(&f);
    return out;
  }

  // Every finding of `check`, in report order. None is a test failure, so a
  // loop over them cannot pass by running zero times.
  const std::vector<Finding> &each(std::string_view check) const {
    auto it = m_by_check.find(check);
    if (it != m_by_check.end())
      return it->second;
    ADD_FAILURE() << check << " reported no finding; the audit reported:\n" << dump();
    static const std::vector<Finding> none;
    return none;
  }

  // Every check that reported, with its findings.
  const std::map<std::string, std::vector<Finding>, std::less<>> &by_check() const {
    return m_by_check;
  }

  bool has(std::string_view check, std::string_view subject) const {
    for (const auto &f : m_report.findings)
      if (f.check == check && f.subject == subject)
        return true;
    return false;
  }

  // The finding of `check` for `subject`. A missing or a repeated finding is
  // a test failure; the placeholder returned then has status error and a
  // message saying it is missing.
  const Finding &get(std::string_view check, std::string_view subject) const {
    const Finding *hit = nullptr;
    int n = 0;
    for (const auto &f : m_report.findings)
      if (f.check == check && f.subject == subject) {
        hit = hit ? hit : &f;
        ++n;
      }
    if (n == 1)
      return *hit;
    ADD_FAILURE() << (n == 0 ? "no finding of " : "several findings of ") << check
                  << " for subject \"" << subject << "\"; the audit reported:\n"
                  << dump();
    return n == 0 ? missing() : *hit;
  }

  // The only finding of `check`, whatever its subject. None or several is a
  // test failure (use get() or of() for a check with several subjects).
  const Finding &one(std::string_view check) const {
    auto all = of(check);
    if (all.size() == 1)
      return *all.front();
    ADD_FAILURE() << check << " reported " << all.size()
                  << " findings where the test expects exactly one:\n"
                  << dump();
    return all.empty() ? missing() : *all.front();
  }
  const Finding &operator[](std::string_view check) const { return one(check); }

  // The subjects `check` reported, sorted.
  std::vector<std::string> subjects(std::string_view check) const {
    std::vector<std::string> out;
    for (const auto *f : of(check))
      out.push_back(f->subject);
    std::sort(out.begin(), out.end());
    return out;
  }

  // Asserts that `check` reported exactly these subjects.
  void expect_subjects(std::string_view check, std::vector<std::string> expected) const {
    std::sort(expected.begin(), expected.end());
    EXPECT_EQ(subjects(check), expected) << check;
  }

  // One line per finding: check, subject, status, message.
  std::string dump() const {
    std::string s;
    for (const auto &f : m_report.findings)
      s += "  " + f.check + " [" + f.subject + "] " + std::string(to_string(f.status)) + ": " +
           f.message + "\n";
    return s.empty() ? "  (no findings)\n" : s;
  }

private:
  static const Finding &missing() {
    static const Finding none = [] {
      Finding f;
      f.status = Status::error;
      f.message = "<missing finding: the test has already failed>";
      return f;
    }();
    return none;
  }

  AuditReport m_report;
  std::map<std::string, std::vector<Finding>, std::less<>> m_by_check;
};

// Runs the audit in-process on `root`. An audit that cannot run (bad
// profile, an --only that names nothing) is a test failure and gives no
// findings.
inline Findings run_checks(const std::string &root, const AuditOptions &opt = {}) {
  AuditRequest req;
  req.root = root;
  req.only = opt.only;
  req.profiles = opt.profiles;
  req.compose_files = opt.compose;
  req.live = opt.live;
  auto rep = run_audit(req);
  EXPECT_TRUE(rep.ok()) << (rep.ok() ? "" : rep.error().to_string());
  if (!rep.ok())
    return Findings{};
  return Findings(std::move(*rep));
}

// The same for the checks `only` selects, with `profiles` (empty: baseline).
inline Findings audit_only(const std::string &root, std::vector<std::string> only,
                           std::vector<std::string> profiles = {}, bool live = false) {
  AuditOptions opt;
  opt.only = std::move(only);
  opt.profiles = std::move(profiles);
  opt.live = live;
  return run_checks(root, opt);
}

} // namespace bulwark::test
