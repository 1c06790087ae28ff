#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/report/report.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace bulwark::report {

namespace {

struct Palette {
  bool on;
  std::string c(std::string_view code, std::string_view s) const {
    if (!on)
      return std::string(s);
    return fmt::format("\033[{}m{}\033[0m", code, s);
  }
};

int status_rank(Status s) {
  switch (s) {
  case Status::fail: return 0;
  case Status::error: return 1;
  case Status::warn: return 2;
  case Status::pass: return 3;
  case Status::waived: return 4;
  case Status::not_applicable: return 5;
  }
  return 6;
}

std::string_view status_code(Status s) {
  switch (s) {
  case Status::fail: return "1;31";
  case Status::error: return "1;35";
  case Status::warn: return "1;33";
  case Status::pass: return "32";
  case Status::not_applicable: return "2";
  case Status::waived: return "36";
  }
  return "0";
}

std::string text_status_label(Status s) {
  switch (s) {
  case Status::fail: return "FAIL";
  case Status::error: return "ERROR";
  case Status::warn: return "WARN";
  case Status::pass: return "PASS";
  case Status::not_applicable: return "N/A";
  case Status::waived: return "WAIVE";
  }
  return "?";
}

} // namespace

std::string render_text(const AuditReport &r, bool color) {
  Palette p{color};
  std::string out;
  // Every string that comes from the target (hostname, subjects, paths,
  // values) goes through text::printable: a hostile root must not send
  // escape sequences to the reader's terminal or forge report lines.
  out += p.c("1", "bulwark audit") + " of " + text::printable(r.root, 300) +
         (r.hostname.empty() ? "" : " (" + text::printable(r.hostname, 100) + ")") + ", profile " +
         text::printable(text::join(r.profiles, " + "), 300) + "\n";
  std::map<std::string, std::vector<const Finding *>> by_domain;
  std::vector<std::string> order;
  for (auto &f : r.findings) {
    std::string domain = f.check.substr(0, f.check.find('.'));
    if (!by_domain.count(domain))
      order.push_back(domain);
    by_domain[domain].push_back(&f);
  }
  for (auto &domain : order) {
    auto &list = by_domain[domain];
    std::stable_sort(list.begin(), list.end(), [](const Finding *a, const Finding *b) {
      if (status_rank(a->status) != status_rank(b->status))
        return status_rank(a->status) < status_rank(b->status);
      return a->severity > b->severity;
    });
    out += "\n" + p.c("1", domain) + "\n";
    for (const Finding *f : list) {
      std::string label = fmt::format("{:<5}", text_status_label(f->status));
      out += fmt::format("  {} {:<8} {}{}  {}\n", p.c(status_code(f->status), label),
                         to_string(f->severity), f->check,
                         f->subject.empty() || f->subject == "sshd"
                             ? ""
                             : " [" + text::printable(f->subject, 200) + "]",
                         text::printable(f->message, 300));
      if (f->waiver)
        out += fmt::format("        {} {} (owner {}, {} {}; {})\n",
                           p.c("36", f->waiver->expired ? "waiver EXPIRED:" : "waived:"),
                           text::printable(f->waiver->justification, 300),
                           text::printable(f->waiver->owner, 80),
                           f->waiver->expired ? "expired" : "until", f->waiver->expires,
                           text::printable(f->waiver->source, 200));
      bool detail =
          f->status == Status::fail || f->status == Status::warn || f->status == Status::error;
      if (!detail)
        continue;
      size_t shown = 0;
      for (auto &e : f->evidence) {
        if (++shown > 5) {
          out += fmt::format("        ... and {} more\n", f->evidence.size() - 5);
          break;
        }
        std::string where = e.path.empty() ? ""
                                           : text::printable(e.path, 300) +
                                                 (e.line > 0 ? ":" + std::to_string(e.line) : "");
        out +=
            "        " + p.c("2", where.empty() ? "-" : where) + "  " +
            text::printable(e.found, 200) +
            (e.context.empty() || e.context == "global"
                 ? ""
                 : "  [" + text::printable(e.context, 80) + "]") +
            (e.expected.empty() ? "" : "  (expected: " + text::printable(e.expected, 200) + ")") +
            "\n";
      }
      if (f->status != Status::error)
        out += "        " + p.c("36", "fix:") + " " + f->fix.str() + "\n";
    }
  }
  auto count = [&](Status s) {
    auto it = r.summary.find(s);
    return it == r.summary.end() ? 0 : it->second;
  };
  if (r.waivers) {
    out += "\n" + p.c("1", "waivers") + "\n";
    for (auto &u : *r.waivers) {
      std::string what = u.waiver.check +
                         (u.waiver.subject ? " [" + text::printable(*u.waiver.subject) + "]" : "");
      std::string state =
          u.state == WaiverUse::State::applied
              ? fmt::format("applied to {} finding{}", u.matched, u.matched == 1 ? "" : "s")
          : u.state == WaiverUse::State::expired
              ? fmt::format("EXPIRED on {}, no longer applies{}", u.waiver.expires,
                            u.matched ? fmt::format(" ({} finding{} reported as before)", u.matched,
                                                    u.matched == 1 ? "" : "s")
                                      : "")
              : "matches no open finding (stale or mistyped?)";
      out += fmt::format("  {}  {}: {}\n", text::printable(u.waiver.source, 200),
                         text::printable(what, 200), state);
    }
  }
  if (r.baseline) {
    auto &b = *r.baseline;
    out += "\n" + p.c("1", "baseline") + " " + text::printable(b.file, 200) + ": " +
           fmt::format("{} new, {} fixed, {} remaining\n", b.added.size(), b.fixed.size(),
                       b.remaining.size());
    auto list = [&](std::string_view label, std::string_view code,
                    const std::vector<BaselineEntry> &es) {
      for (auto &e : es)
        out += fmt::format("  {} {:<8} {}{}  {}\n", p.c(code, fmt::format("{:<5}", label)),
                           text::printable(e.severity, 10), text::printable(e.check, 80),
                           e.subject.empty() ? "" : " [" + text::printable(e.subject, 80) + "]",
                           text::printable(e.message, 200));
    };
    list("NEW", "1;31", b.added);
    list("FIXED", "32", b.fixed);
  }
  out += fmt::format("\n{} {} pass, {} fail, {} warn, {} not applicable, {} error{}; score {}/100 "
                     "({:.0f} ms)\n",
                     p.c("1", "summary:"), count(Status::pass), count(Status::fail),
                     count(Status::warn), count(Status::not_applicable), count(Status::error),
                     r.waivers ? fmt::format(", {} waived", count(Status::waived)) : "", r.score,
                     r.duration_ms);
  return out;
}

} // namespace bulwark::report
