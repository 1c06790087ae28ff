// The sign-off checklist of guide 003 §10 ("Server hardening checklist
// completed and signed off") in Markdown (CommonMark + GFM task lists and
// tables, as GitHub, GitLab and cmark-gfm render it).
// Layout: header table, summary, the deployment checklist of 003 §6 judged
// from the domains that cover each item, then every check grouped by the
// guide section it cites first (signoff_groups(): the profile's guide, or
// 003 before 000 under baseline; the checks beyond the guide last), [x] for pass (also
// not_applicable and waived, said in words), [ ] otherwise, evidence under
// each item, and a sign-off block. Everything that comes from the target
// (paths, found values, host name, subjects, messages) goes through
// markdown_escape(): no code spans, because a backtick inside one cannot be
// escaped.

#include <bulwark/core/catalogue.hpp>
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

std::vector<SignoffGroup> signoff_groups(const AuditReport &r) {
  // Index of a guide section in the order of the guides: 003's sections,
  // then 000's (under a guide's profile only that guide's are used).
  std::vector<std::string> guides =
      r.guide.empty() ? std::vector<std::string>{"003", "000"} : std::vector<std::string>{r.guide};
  std::vector<std::string> titles;
  std::map<std::pair<std::string, std::string>, size_t> index; // (guide, section) -> group
  for (auto &g : guides)
    for (auto &sec : guide_sections(g)) {
      index[{g, std::string(sec.id)}] = titles.size();
      titles.push_back(g == "003" ? fmt::format("003 §{} {}", sec.id, sec.title)
                                  : fmt::format("000 {}", sec.title));
    }
  size_t beyond = titles.size();
  titles.push_back(r.guide.empty() ? "Beyond both guides"
                                   : "Beyond guide " + r.guide + " (reported as warn at most)");
  std::vector<std::vector<const Finding *>> groups(titles.size());
  for (auto &f : r.findings) {
    size_t at = beyond;
    if (f.beyond_guide.empty())
      for (auto &g : guides) {
        for (auto &ref : f.references) {
          auto parsed = parse_guide_ref(ref);
          if (!parsed || !*parsed || (*parsed)->guide != g)
            continue;
          if (auto it = index.find({g, (*parsed)->section}); it != index.end()) {
            at = it->second;
            break;
          }
        }
        if (at != beyond)
          break;
      }
    groups[at].push_back(&f);
  }
  std::vector<SignoffGroup> out;
  for (size_t i = 0; i < titles.size(); ++i)
    if (!groups[i].empty())
      out.push_back(SignoffGroup{titles[i], std::move(groups[i])});
  return out;
}

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
  for (auto &g : signoff_groups(r)) {
    out += "\n### " + md(g.title) + "\n\n";
    for (auto *f : g.findings)
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
