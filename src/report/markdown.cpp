// The sign-off checklist of guide 003 §10 ("Server hardening checklist
// completed and signed off") in Markdown (CommonMark + GFM task lists and
// tables, as GitHub, GitLab and cmark-gfm render it).
// Layout: header table, summary, the deployment checklist of 003 §6 judged
// from the domains that cover each item, then every check grouped by the
// guide section it cites first (003 before 000), [x] for pass (also
// not_applicable and waived, said in words), [ ] otherwise, evidence under
// each item, and a sign-off block. Everything that comes from the target
// (paths, found values, host name, subjects, messages) goes through
// markdown_escape(): no code spans, because a backtick inside one cannot be
// escaped.

#include <bulwark/core/text.hpp>
#include <bulwark/report/escape.hpp>
#include <bulwark/report/report.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace bulwark::report {

namespace {

using E = std::string (*)(std::string_view);
const E md = markdown_escape;

// Section titles of guide 003 (seeds/003_a4ae804f704a6773.txt).
constexpr std::pair<std::string_view, std::string_view> k_003_sections[] = {
    {"1", "Overview"},
    {"2", "Operating System Hardening"},
    {"2.1", "Patch Management"},
    {"2.2", "User Account Management"},
    {"2.3", "File System Security"},
    {"3", "Network Security"},
    {"3.1", "Firewall Configuration"},
    {"3.2", "SSH Hardening"},
    {"3.3", "Fail2Ban Configuration"},
    {"4", "Service Hardening"},
    {"4.1", "Docker Security"},
    {"4.2", "PostgreSQL Hardening"},
    {"4.3", "Redis Hardening"},
    {"5", "Monitoring and Logging"},
    {"5.1", "Log Collection"},
    {"5.2", "Security Monitoring"},
    {"6", "Production Deployment Checklist"},
    {"7", "Compliance Requirements"},
    {"7.1", "GDPR/Privacy Compliance"},
    {"7.2", "ISO 27001 Controls"},
    {"8", "Verification Commands"},
    {"9", "Emergency Response"},
    {"10", "Documentation Requirements"},
};

// 003 §6, item by item, with the domains whose checks decide it; items no
// check can decide are left to the reviewer.
struct DeployItem {
  std::string_view section;
  std::string_view text;
  std::vector<std::string_view> domains;
};
const DeployItem k_deploy[] = {
    {"6.1", "Verify firewall rules are configured correctly", {"firewall"}},
    {"6.1", "Confirm SSH hardening settings", {"ssh"}},
    {"6.1", "Validate fail2ban is running and configured", {"fail2ban"}},
    {"6.1", "Check OS patch levels", {"os"}},
    {"6.1", "Verify container security settings", {"container", "docker"}},
    {"6.2", "Test security configurations", {}},
    {"6.2", "Verify logging and monitoring setup", {"logging", "monitoring"}},
    {"6.2", "Run vulnerability scan", {}},
    {"6.2", "Document security configuration", {}},
};

struct Section {
  int guide = 0;           // 3 for 003, 0 for 000, 99 for none
  std::vector<int> number; // 003: {3, 2}
  std::string title;
  bool operator<(const Section &o) const {
    if (guide != o.guide)
      return guide == 3 ? true : o.guide == 3 ? false : guide < o.guide;
    if (number != o.number)
      return number < o.number;
    return title < o.title;
  }
};

Section section_of(const Finding &f) {
  for (auto &ref : f.references) {
    if (ref.rfind("003 §", 0) != 0)
      continue;
    std::string num;
    for (size_t i = std::string_view("003 §").size();
         i < ref.size() && (std::isdigit(static_cast<unsigned char>(ref[i])) || ref[i] == '.'); ++i)
      num += ref[i];
    while (!num.empty() && num.back() == '.')
      num.pop_back();
    Section s{3, {}, ""};
    for (auto &part : text::split(num, '.'))
      s.number.push_back(std::atoi(part.c_str()));
    std::string title;
    for (auto &[n, t] : k_003_sections)
      if (n == num)
        title = t;
    s.title = "003 §" + num + (title.empty() ? "" : " " + title);
    return s;
  }
  for (auto &ref : f.references) {
    if (ref.rfind("000 ", 0) != 0)
      continue;
    std::string t = ref.substr(4);
    t = t.substr(0, std::min(t.find(" /"), t.find(" (")));
    return Section{0, {}, "000 " + t};
  }
  return Section{99, {}, "Other checks"};
}

std::string box(Status s) {
  return s == Status::pass || s == Status::not_applicable || s == Status::waived ? "[x]" : "[ ]";
}

std::string status_words(const Finding &f) {
  switch (f.status) {
  case Status::pass: return "pass";
  case Status::fail: return "**FAIL**";
  case Status::warn: return "**WARN**";
  case Status::error: return "**ERROR** (could not be checked)";
  case Status::not_applicable: return "not applicable";
  case Status::waived: return "waived";
  }
  return "";
}

std::string item(const Finding &f) {
  std::string out =
      fmt::format("- {} **{}**{} ({}): {}. {}: {}\n", box(f.status), md(f.check),
                  f.subject.empty() ? "" : " \\[" + md(f.subject) + "\\]", to_string(f.severity),
                  md(f.title.str()), status_words(f), md(f.message));
  for (auto &e : f.evidence) {
    std::string where = e.path.empty() ? "(built-in default or probe)" : md(e.path);
    if (e.line > 0)
      where += md(":" + std::to_string(e.line));
    out += "  - evidence: " + where;
    if (!e.found.empty())
      out += "; found: " + md(e.found);
    if (!e.expected.empty())
      out += "; expected: " + md(e.expected);
    if (!e.context.empty() && e.context != "global")
      out += "; context: " + md(e.context);
    out += "\n";
  }
  if (f.waiver)
    out += fmt::format("  - waiver{}: {} (owner: {}; until {}; {})\n",
                       f.waiver->expired ? " **EXPIRED**, no longer applies" : "",
                       md(f.waiver->justification), md(f.waiver->owner), md(f.waiver->expires),
                       md(f.waiver->source));
  if (f.status == Status::fail || f.status == Status::warn || f.status == Status::waived)
    out += "  - fix: " + md(f.fix.str()) + "\n";
  return out;
}

} // namespace

std::string render_markdown(const AuditReport &r) {
  auto count = [&](Status s) {
    auto it = r.summary.find(s);
    return it == r.summary.end() ? 0 : it->second;
  };
  std::string out;
  out += "# Server hardening checklist: " + md(r.hostname.empty() ? r.root : r.hostname) + "\n\n";
  out += "Sign-off checklist of guide 003 §10 (\"Server hardening checklist completed and "
         "signed off\"), produced by bulwark " BULWARK_VERSION
         ". Each item is a check of the guides; the evidence names the file and line that "
         "decided it.\n\n";
  out += "| | |\n|---|---|\n";
  out += "| Target | " + md(r.root) + " |\n";
  out += "| Host | " + md(r.hostname) + " |\n";
  out += "| Profiles | " + md(text::join(r.profiles, ", ")) + " |\n";
  out += "| Audit date (UTC) | " + today_utc() + " |\n";
  out += fmt::format("| Score | {}/100 |\n\n", r.score);

  out += "## Summary\n\n";
  out += fmt::format("- {} pass, {} fail, {} warn, {} not applicable, {} error, {} waived\n",
                     count(Status::pass), count(Status::fail), count(Status::warn),
                     count(Status::not_applicable), count(Status::error), count(Status::waived));
  std::vector<const Finding *> open;
  for (auto &f : r.findings)
    if (f.status == Status::fail || f.status == Status::error)
      open.push_back(&f);
  if (open.empty()) {
    out += "- No failed or unreadable checks.\n";
  } else {
    out += fmt::format("- {} item{} to resolve before sign-off:", open.size(),
                       open.size() == 1 ? "" : "s");
    for (size_t i = 0; i < open.size(); ++i)
      out += (i ? ", " : " ") + md(open[i]->check);
    out += "\n";
  }
  if (r.waivers) {
    int expired = 0, unused = 0;
    for (auto &u : *r.waivers) {
      expired += u.state == WaiverUse::State::expired;
      unused += u.state == WaiverUse::State::unused;
    }
    out += fmt::format("- Waivers: {} finding{} waived, {} expired waiver{}, {} unused "
                       "waiver{}\n",
                       count(Status::waived), count(Status::waived) == 1 ? "" : "s", expired,
                       expired == 1 ? "" : "s", unused, unused == 1 ? "" : "s");
  }
  if (r.baseline)
    out += fmt::format("- Against the baseline {}: {} new, {} fixed, {} remaining\n",
                       md(r.baseline->file), r.baseline->added.size(), r.baseline->fixed.size(),
                       r.baseline->remaining.size());

  out += "\n## 003 §6 Production deployment checklist\n";
  std::string_view last_section;
  for (auto &d : k_deploy) {
    if (d.section != last_section) {
      out += fmt::format("\n### 003 §{} {}\n\n", d.section,
                         d.section == "6.1" ? "Pre-deployment" : "Post-deployment");
      last_section = d.section;
    }
    int ran = 0, bad = 0;
    std::vector<std::string> failing;
    for (auto &f : r.findings) {
      std::string domain = f.check.substr(0, f.check.find('.'));
      if (std::find(d.domains.begin(), d.domains.end(), domain) == d.domains.end())
        continue;
      ++ran;
      if (f.status == Status::fail || f.status == Status::warn || f.status == Status::error) {
        ++bad;
        if (std::find(failing.begin(), failing.end(), f.check) == failing.end())
          failing.push_back(f.check);
      }
    }
    if (d.domains.empty()) {
      out += fmt::format("- [ ] {}: for the reviewer (no check can decide it)\n", d.text);
    } else if (ran == 0) {
      out += fmt::format("- [ ] {}: not audited by bulwark in this run; verify by hand\n", d.text);
    } else if (bad == 0) {
      out +=
          fmt::format("- [x] {}: {} finding{} of the {} checks hold\n", d.text, ran,
                      ran == 1 ? "" : "s", text::join({d.domains.begin(), d.domains.end()}, "/"));
    } else {
      std::string ids;
      for (auto &id : failing)
        ids += (ids.empty() ? "" : ", ") + md(id);
      out += fmt::format("- [ ] {}: {} of {} findings open ({})\n", d.text, bad, ran, ids);
    }
  }

  out += "\n## Checks by guide section\n";
  std::map<Section, std::vector<const Finding *>> sections;
  for (auto &f : r.findings)
    sections[section_of(f)].push_back(&f);
  for (auto &[sec, list] : sections) {
    out += "\n### " + md(sec.title) + "\n\n";
    for (auto *f : list)
      out += item(*f);
  }

  if (r.waivers) {
    out += "\n## Waivers\n\n";
    for (auto &u : *r.waivers) {
      std::string state =
          u.state == WaiverUse::State::applied
              ? fmt::format("applied to {} finding{}", u.matched, u.matched == 1 ? "" : "s")
          : u.state == WaiverUse::State::expired ? "**expired**, no longer applies"
                                                 : "**matches no open finding**";
      out += fmt::format("- {}{}: {}; justification: {}; owner: {}; expires {} ({})\n",
                         md(u.waiver.check),
                         u.waiver.subject ? " \\[" + md(*u.waiver.subject) + "\\]" : "", state,
                         md(u.waiver.justification), md(u.waiver.owner), md(u.waiver.expires),
                         md(u.waiver.source));
    }
  }

  out += "\n## Sign-off\n\n";
  out += "I have reviewed the items above, the open items and the waivers.\n\n";
  out += "| Role | Name | Date | Signature |\n|---|---|---|---|\n";
  out += "| Reviewer | | | |\n| System owner | | | |\n\n";
  out += "Reviewer: ______________________  Date: ____________  Signature: "
         "______________________\n";
  return out;
}

} // namespace bulwark::report
