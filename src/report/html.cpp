// One self-contained HTML file: no external scripts, fonts, styles or
// images, and a Content-Security-Policy that forbids loading any (default-src
// 'none'; the inline <style> and <script> are allowed by their SHA-256 only,
// so an injected script or style would not run even if escaping failed).
// Without JavaScript the page is complete: every finding is a <details>
// element (evidence, fix, references, waiver) and the filter form stays
// hidden. With JavaScript the form appears and filters by status, severity
// and domain; the URL fragment (#status=fail&severity=high&domain=ssh) sets
// the filters, so a link can point at a view. Charts are inline SVG drawn
// with presentation attributes, not style attributes (which the CSP would
// block). Every string from the target goes through xml_escape().

#include <bulwark/core/text.hpp>
#include <bulwark/report/escape.hpp>
#include <bulwark/report/report.hpp>

#include <algorithm>
#include <fmt/format.h>
#include <map>

namespace bulwark::report {

namespace {

std::string h(std::string_view s) {
  return xml_escape(s, true);
}
std::string attr(std::string_view s) {
  return xml_escape(s, false);
}

constexpr std::string_view k_style = R"CSS(
:root{--fail:#c62828;--warn:#ef6c00;--pass:#2e7d32;--na:#757575;--err:#6a1b9a;--waived:#00838f}
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0 auto;max-width:1100px;padding:1em;color:#1b1b1b}
h1{font-size:1.5em;margin:.2em 0}
.meta{color:#555;margin:0 0 1em}
.overview{display:flex;flex-wrap:wrap;gap:2em;align-items:flex-start}
table{border-collapse:collapse}
td,th{border:1px solid #ddd;padding:.2em .5em;text-align:left;vertical-align:top}
.counts td:last-child{text-align:right}
details.finding{border:1px solid #ddd;border-left:6px solid var(--na);border-radius:4px;margin:.4em 0;padding:.3em .6em}
details.finding[data-status=fail]{border-left-color:var(--fail)}
details.finding[data-status=warn]{border-left-color:var(--warn)}
details.finding[data-status=pass]{border-left-color:var(--pass)}
details.finding[data-status=error]{border-left-color:var(--err)}
details.finding[data-status=waived]{border-left-color:var(--waived)}
summary{cursor:pointer}
.badge{display:inline-block;min-width:4.5em;font-weight:bold}
.s-fail{color:var(--fail)}.s-warn{color:var(--warn)}.s-pass{color:var(--pass)}
.s-not_applicable{color:var(--na)}.s-error{color:var(--err)}.s-waived{color:var(--waived)}
.sev{display:inline-block;min-width:5em;color:#444}
.id{font-family:ui-monospace,monospace}
.evidence{margin:.4em 0;font-size:.92em;word-break:break-all}
.fix{margin:.3em 0}
form{margin:1em 0;padding:.5em;background:#f5f5f5;border-radius:4px}
label{margin-right:1em}
@media print{form{display:none}details.finding{break-inside:avoid}}
)CSS";

constexpr std::string_view k_script = R"JS(
(function () {
  'use strict';
  var form = document.getElementById('filters');
  var items = Array.prototype.slice.call(document.querySelectorAll('details.finding'));
  var shown = document.getElementById('shown');
  var keys = ['status', 'severity', 'domain'];
  function fromHash() {
    var params = new URLSearchParams(location.hash.replace(/^#/, ''));
    keys.forEach(function (k) {
      var v = params.get(k);
      var sel = form.elements[k];
      if (v !== null && Array.prototype.some.call(sel.options, function (o) { return o.value === v; }))
        sel.value = v;
    });
  }
  function apply() {
    var want = {};
    keys.forEach(function (k) { want[k] = form.elements[k].value; });
    var n = 0;
    items.forEach(function (d) {
      var ok = keys.every(function (k) { return !want[k] || d.getAttribute('data-' + k) === want[k]; });
      d.hidden = !ok;
      if (ok) n++;
    });
    shown.textContent = n + ' of ' + items.length + ' findings shown';
  }
  form.hidden = false;
  fromHash();
  apply();
  form.addEventListener('change', function () {
    apply();
    var params = new URLSearchParams();
    keys.forEach(function (k) { if (form.elements[k].value) params.set(k, form.elements[k].value); });
    try { history.replaceState(null, '', '#' + params.toString()); } catch (e) {}
  });
  window.addEventListener('hashchange', function () { fromHash(); apply(); });
})();
)JS";

std::string_view html_status_label(Status s) {
  switch (s) {
  case Status::fail: return "FAIL";
  case Status::error: return "ERROR";
  case Status::warn: return "WARN";
  case Status::pass: return "PASS";
  case Status::not_applicable: return "N/A";
  case Status::waived: return "WAIVED";
  }
  return "?";
}

int rank(Status s) {
  switch (s) {
  case Status::fail: return 0;
  case Status::error: return 1;
  case Status::warn: return 2;
  case Status::waived: return 3;
  case Status::pass: return 4;
  case Status::not_applicable: return 5;
  }
  return 6;
}

std::string gauge(int score) {
  constexpr double k_circumference = 2 * 3.141592653589793 * 50;
  std::string colour = score >= 80 ? "#2e7d32" : score >= 50 ? "#ef6c00" : "#c62828";
  return fmt::format(
      "<svg class=\"gauge\" width=\"150\" height=\"150\" viewBox=\"0 0 120 120\" role=\"img\" "
      "aria-label=\"score {0} of 100\"><title>score {0}/100</title>"
      "<circle cx=\"60\" cy=\"60\" r=\"50\" fill=\"none\" stroke=\"#e0e0e0\" "
      "stroke-width=\"12\"/>"
      "<circle id=\"gauge-arc\" cx=\"60\" cy=\"60\" r=\"50\" fill=\"none\" stroke=\"{1}\" "
      "stroke-width=\"12\" stroke-dasharray=\"{2:.1f} {3:.1f}\" transform=\"rotate(-90 60 60)\"/>"
      "<text x=\"60\" y=\"66\" text-anchor=\"middle\" font-size=\"26\" font-weight=\"bold\" "
      "fill=\"#1b1b1b\">{0}</text><text x=\"60\" y=\"84\" text-anchor=\"middle\" "
      "font-size=\"10\" fill=\"#555\">of 100</text></svg>",
      score, colour, k_circumference * score / 100.0, k_circumference);
}

struct DomainCounts {
  int pass = 0, fail = 0, warn = 0, other = 0;
};

std::string domain_chart(const std::vector<std::string> &order,
                         const std::map<std::string, DomainCounts> &counts) {
  int max = 1;
  for (auto &[d, c] : counts)
    max = std::max(max, c.pass + c.fail + c.warn + c.other);
  constexpr int k_label = 110, k_bar = 300, k_row = 22;
  int height = k_row * static_cast<int>(order.size()) + 24;
  std::string out = fmt::format(
      "<svg class=\"chart\" width=\"{0}\" height=\"{1}\" viewBox=\"0 0 {0} {1}\" role=\"img\" "
      "aria-label=\"pass and fail by domain\"><title>pass and fail by domain</title>",
      k_label + k_bar + 60, height);
  int y = 0;
  for (auto &d : order) {
    const DomainCounts &c = counts.at(d);
    out += fmt::format("<g class=\"bar\" data-domain=\"{}\"><text x=\"{}\" y=\"{}\" "
                       "text-anchor=\"end\" font-size=\"12\" fill=\"#1b1b1b\">{}</text>",
                       attr(d), k_label - 6, y + 15, h(d));
    int x = k_label;
    for (auto [n, colour, name] : {std::tuple{c.fail, "#c62828", "fail"},
                                   {c.warn, "#ef6c00", "warn"},
                                   {c.pass, "#2e7d32", "pass"},
                                   {c.other, "#bdbdbd", "other"}}) {
      int w = n * k_bar / max;
      if (n > 0) {
        out += fmt::format("<rect class=\"{}\" x=\"{}\" y=\"{}\" width=\"{}\" height=\"16\" "
                           "fill=\"{}\"><title>{} {}</title></rect>",
                           name, x, y + 3, std::max(w, 2), colour, n, name);
      }
      x += std::max(w, n > 0 ? 2 : 0);
    }
    out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#555\">{}/{}</text></g>",
                       x + 4, y + 15, c.pass, c.pass + c.fail + c.warn + c.other);
    y += k_row;
  }
  out += fmt::format("<text x=\"{}\" y=\"{}\" font-size=\"11\" fill=\"#555\">red fail, orange "
                     "warn, green pass, grey other</text></svg>",
                     k_label, y + 16);
  return out;
}

std::string finding_html(const Finding &f, size_t index) {
  std::string domain = f.check.substr(0, f.check.find('.'));
  std::string out = fmt::format(
      "<details class=\"finding\" id=\"f{}\" data-status=\"{}\" data-severity=\"{}\" "
      "data-domain=\"{}\" data-check=\"{}\"><summary><span class=\"badge s-{}\">{}</span> "
      "<span class=\"sev\">{}</span> <span class=\"id\">{}</span>{} {}</summary>\n",
      index, to_string(f.status), to_string(f.severity), attr(domain), attr(f.check),
      to_string(f.status), html_status_label(f.status), to_string(f.severity), h(f.check),
      f.subject.empty() ? "" : " [" + h(f.subject) + "]", h(f.message));
  out += "<p>" + h(f.title.str()) + "</p>\n";
  if (!f.evidence.empty()) {
    out += "<table class=\"evidence\"><tr><th>file</th><th>line</th><th>found</th>"
           "<th>expected</th><th>context</th></tr>\n";
    for (auto &e : f.evidence)
      out += fmt::format("<tr><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         e.path.empty() ? "(default)" : h(e.path),
                         e.line > 0 ? std::to_string(e.line) : "", h(e.found), h(e.expected),
                         h(e.context));
    out += "</table>\n";
  }
  if (f.waiver)
    out += fmt::format("<p class=\"waiver\"><b>{}</b> {} (owner {}, until {}; {})</p>\n",
                       f.waiver->expired ? "Waiver expired, no longer applies:" : "Waived:",
                       h(f.waiver->justification), h(f.waiver->owner), h(f.waiver->expires),
                       h(f.waiver->source));
  if (f.status != Status::pass && f.status != Status::not_applicable)
    out += "<p class=\"fix\"><b>Fix:</b> " + h(f.fix.str()) + "</p>\n";
  if (!f.references.empty()) {
    out += "<p class=\"refs\">References: ";
    for (size_t i = 0; i < f.references.size(); ++i)
      out += (i ? "; " : "") + h(f.references[i]);
    out += "</p>\n";
  }
  out += "</details>\n";
  return out;
}

} // namespace

std::string render_html(const AuditReport &r) {
  auto count = [&](Status s) {
    auto it = r.summary.find(s);
    return it == r.summary.end() ? 0 : it->second;
  };
  std::vector<std::string> domains;
  std::map<std::string, DomainCounts> per_domain;
  for (auto &f : r.findings) {
    std::string d = f.check.substr(0, f.check.find('.'));
    if (!per_domain.count(d))
      domains.push_back(d);
    DomainCounts &c = per_domain[d];
    (f.status == Status::pass   ? c.pass
     : f.status == Status::fail ? c.fail
     : f.status == Status::warn ? c.warn
                                : c.other)++;
  }
  std::vector<size_t> order(r.findings.size());
  for (size_t i = 0; i < order.size(); ++i)
    order[i] = i;
  std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
    const Finding &x = r.findings[a], &y = r.findings[b];
    if (rank(x.status) != rank(y.status))
      return rank(x.status) < rank(y.status);
    return x.severity > y.severity;
  });

  std::string title = "bulwark audit of " + (r.hostname.empty() ? r.root : r.hostname);
  std::string out = "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n";
  out += fmt::format("<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
                     "style-src 'sha256-{}'; script-src 'sha256-{}'; img-src data:; base-uri "
                     "'none'; form-action 'none'\">\n",
                     sha256_base64(k_style), sha256_base64(k_script));
  out += "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n";
  out += "<meta name=\"referrer\" content=\"no-referrer\">\n";
  out += "<title>" + h(title) + "</title>\n<style>" + std::string(k_style) + "</style>\n";
  out += "</head>\n<body>\n<header>\n<h1>" + h(title) + "</h1>\n";
  out += fmt::format("<p class=\"meta\">root {} · profile {} · bulwark {} · {} (UTC) · {:.0f} "
                     "ms</p>\n</header>\n",
                     h(r.root), h(text::join(r.profiles, " + ")), BULWARK_VERSION, today_utc(),
                     r.duration_ms);
  out += "<section class=\"overview\">\n" + gauge(r.score) + "\n";
  out += "<table class=\"counts\" id=\"counts\"><tr><th>status</th><th>findings</th></tr>\n";
  for (Status s : {Status::fail, Status::warn, Status::error, Status::waived, Status::pass,
                   Status::not_applicable})
    out += fmt::format("<tr data-status=\"{}\"><td class=\"s-{}\">{}</td><td>{}</td></tr>\n",
                       to_string(s), to_string(s), html_status_label(s), count(s));
  out += "</table>\n" + domain_chart(domains, per_domain) + "\n</section>\n";

  if (r.baseline)
    out += fmt::format("<p id=\"baseline\">Against the baseline {}: <b>{} new</b>, {} fixed, {} "
                       "remaining.</p>\n",
                       h(r.baseline->file), r.baseline->added.size(), r.baseline->fixed.size(),
                       r.baseline->remaining.size());

  out += "<form id=\"filters\" hidden>\n<label>status <select name=\"status\"><option "
         "value=\"\">all</option>";
  for (Status s : {Status::fail, Status::warn, Status::error, Status::waived, Status::pass,
                   Status::not_applicable})
    out += fmt::format("<option value=\"{}\">{}</option>", to_string(s), to_string(s));
  out += "</select></label>\n<label>severity <select name=\"severity\"><option "
         "value=\"\">all</option>";
  for (Severity s :
       {Severity::critical, Severity::high, Severity::medium, Severity::low, Severity::info})
    out += fmt::format("<option value=\"{0}\">{0}</option>", to_string(s));
  out += "</select></label>\n<label>domain <select name=\"domain\"><option "
         "value=\"\">all</option>";
  for (auto &d : domains)
    out += fmt::format("<option value=\"{}\">{}</option>", attr(d), h(d));
  out += "</select></label>\n<span id=\"shown\"></span>\n</form>\n";

  out += "<section id=\"findings\">\n<h2>Findings</h2>\n";
  for (size_t i : order)
    out += finding_html(r.findings[i], i);
  out += "</section>\n";

  // The sign-off checklist (guide 003 §10): every finding under the guide
  // section its check cites.
  out += "<section id=\"signoff\">\n<h2>Sign-off checklist by guide section</h2>\n";
  for (auto &g : signoff_groups(r)) {
    out += "<h3>" + h(g.title) + "</h3>\n<ul class=\"checklist\">\n";
    for (const Finding *f : g.findings) {
      bool done = f->status == Status::pass || f->status == Status::not_applicable ||
                  f->status == Status::waived;
      // No links: the report loads and points at nothing (the CSP tests
      // forbid href=); the finding's number names its <details> above.
      out += fmt::format("<li data-status=\"{}\">{} <span class=\"id\">{}</span>{} <span "
                         "class=\"s-{}\">{}</span> (finding {})</li>\n",
                         to_string(f->status), done ? "&#9745;" : "&#9744;", h(f->check),
                         f->subject.empty() ? "" : " [" + h(f->subject) + "]", to_string(f->status),
                         html_status_label(f->status), static_cast<size_t>(f - r.findings.data()));
    }
    out += "</ul>\n";
  }
  out += "</section>\n";

  if (r.waivers) {
    out += "<section id=\"waivers\">\n<h2>Waivers</h2>\n<table><tr><th>check</th><th>subject</th>"
           "<th>state</th><th>justification</th><th>owner</th><th>expires</th><th>source</th>"
           "</tr>\n";
    for (auto &u : *r.waivers)
      out += fmt::format("<tr data-state=\"{}\"><td>{}</td><td>{}</td><td>{}{}</td><td>{}</td>"
                         "<td>{}</td><td>{}</td><td>{}</td></tr>\n",
                         to_string(u.state), h(u.waiver.check),
                         u.waiver.subject ? h(*u.waiver.subject) : "(any)", to_string(u.state),
                         u.state == WaiverUse::State::unused ? " (matches no open finding)" : "",
                         h(u.waiver.justification), h(u.waiver.owner), h(u.waiver.expires),
                         h(u.waiver.source));
    out += "</table>\n</section>\n";
  }
  out += "<script>" + std::string(k_script) + "</script>\n</body>\n</html>\n";
  return out;
}

} // namespace bulwark::report
