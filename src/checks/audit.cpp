#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/hostfs.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>

#include <chrono>
#include <cmath>
#include <cstring>
#include <ctime>
#include <fnmatch.h>
#include <sys/stat.h>
#include <unistd.h>

namespace bulwark {

namespace {

int weight(Severity s) {
  switch (s) {
  case Severity::critical: return 10;
  case Severity::high: return 5;
  case Severity::medium: return 3;
  case Severity::low: return 1;
  case Severity::info: return 0;
  }
  return 0;
}

Result<Profile> load_profiles(const Catalogue &cat, const std::vector<std::string> &names) {
  Profile p;
  for (const auto &n : names.empty() ? std::vector<std::string>{"baseline"} : names)
    p = TRY(apply_profile(cat, std::move(p), n));
  return p;
}

Result<Unit> check_selectors(const Catalogue &cat, const std::vector<std::string> &sels,
                             const char *flag) {
  for (auto &s : sels) {
    bool any = false;
    for (auto &c : cat.checks())
      any = any || selector_matches(s, c.id);
    if (!any)
      return Error{std::string(flag) + " " + s + " matches no check (see `bulwark checks`)"};
  }
  return Unit{};
}

std::string target_hostname(const RootFs &fs) {
  if (fs.is_host_root()) {
    char buf[256] = {};
    if (::gethostname(buf, sizeof buf - 1) == 0)
      return buf;
    return "";
  }
  auto h = fs.read_file("/etc/hostname", 4096);
  return h ? std::string(text::trim(*h)) : "";
}

// A real calendar date, written YYYY-MM-DD (so that string order is date
// order).
bool valid_date(std::string_view d) {
  if (d.size() != 10 || d[4] != '-' || d[7] != '-')
    return false;
  for (size_t i : {0, 1, 2, 3, 5, 6, 8, 9})
    if (d[i] < '0' || d[i] > '9')
      return false;
  int y = std::stoi(std::string(d.substr(0, 4)));
  int m = std::stoi(std::string(d.substr(5, 2)));
  int day = std::stoi(std::string(d.substr(8, 2)));
  static constexpr int k_days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  if (m < 1 || m > 12 || day < 1)
    return false;
  bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
  return day <= k_days[m - 1] + (m == 2 && leap ? 1 : 0);
}

bool waiver_matches(const Waiver &w, const Finding &f) {
  return w.check == f.check && (!w.subject || *w.subject == f.subject);
}

} // namespace

std::string_view to_string(WaiverUse::State s) {
  switch (s) {
  case WaiverUse::State::applied: return "applied";
  case WaiverUse::State::expired: return "expired";
  case WaiverUse::State::unused: return "unused";
  }
  return "unused";
}

Result<std::vector<Waiver>> parse_waivers(std::string_view text, const std::string &name) {
  if (text::trim(text).empty())
    return std::vector<Waiver>{}; // an empty file waives nothing
  yaml::Node root = TRY(yaml::parse(text, name));
  const yaml::Node *list = &root;
  if (root.is_mapping()) {
    for (auto &[k, v] : root.entries)
      if (k != "waivers")
        return Error{"unknown key '" + text::printable(k, 60) + "' (expected 'waivers')", name,
                     v.line};
    list = root.find("waivers");
  }
  if (list == nullptr || list->kind == yaml::Node::Kind::null)
    return std::vector<Waiver>{};
  if (!list->is_sequence())
    return Error{"'waivers' must be a list of {check, subject, justification, owner, expires}",
                 name, list->line};
  const Catalogue &cat = Catalogue::builtin();
  std::vector<Waiver> out;
  for (const yaml::Node &item : list->items) {
    if (!item.is_mapping())
      return Error{"a waiver must be a mapping with check, justification, owner and expires", name,
                   item.line};
    Waiver w;
    w.source = name + ":" + std::to_string(item.line);
    for (auto &[k, v] : item.entries) {
      std::string *field = k == "check"           ? &w.check
                           : k == "justification" ? &w.justification
                           : k == "owner"         ? &w.owner
                           : k == "expires"       ? &w.expires
                                                  : nullptr;
      if (k == "subject") {
        if (v.kind == yaml::Node::Kind::null)
          w.subject = "";
        else if (v.is_scalar())
          w.subject = v.scalar;
        else
          return Error{"'subject' must be a string", name, v.line};
        continue;
      }
      if (field == nullptr)
        return Error{"unknown waiver field '" + text::printable(k, 60) +
                         "' (known: check, subject, justification, owner, expires)",
                     name, v.line};
      if (!v.is_scalar())
        return Error{"'" + k + "' must be a string", name, v.line};
      *field = v.scalar;
    }
    for (auto [key, value] : {std::pair{"check", &w.check},
                              {"justification", &w.justification},
                              {"owner", &w.owner},
                              {"expires", &w.expires}})
      if (text::trim(*value).empty())
        return Error{std::string("waiver without '") + key + "'", name, item.line};
    if (cat.find(w.check) == nullptr)
      return Error{"unknown check '" + text::printable(w.check, 80) + "' (see `bulwark checks`)",
                   name, item.find("check")->line};
    if (!valid_date(w.expires))
      return Error{"'expires' must be a date YYYY-MM-DD, not '" + text::printable(w.expires, 40) +
                       "'",
                   name, item.find("expires")->line};
    out.push_back(std::move(w));
  }
  return out;
}

Result<std::vector<Waiver>> load_waivers(const std::string &host_path) {
  std::string text = TRY(HostFs::read_file(host_path, 4 * 1024 * 1024, "cannot read waivers"));
  return parse_waivers(text, host_path);
}

std::vector<WaiverUse> apply_waivers(std::vector<Finding> &findings,
                                     const std::vector<Waiver> &waivers, std::string_view today) {
  std::vector<WaiverUse> uses;
  for (auto &w : waivers) {
    WaiverUse u;
    u.waiver = w;
    u.state = w.expires < today ? WaiverUse::State::expired : WaiverUse::State::unused;
    uses.push_back(std::move(u));
  }
  for (auto &f : findings) {
    if (f.status != Status::fail && f.status != Status::warn)
      continue;
    // The first waiver in the file that still applies wins; an expired one
    // is noted only when no valid waiver covers the finding.
    WaiverUse *chosen = nullptr;
    for (auto &u : uses)
      if (waiver_matches(u.waiver, f) && u.state != WaiverUse::State::expired) {
        chosen = &u;
        break;
      }
    if (chosen == nullptr)
      for (auto &u : uses)
        if (waiver_matches(u.waiver, f)) {
          chosen = &u;
          break;
        }
    if (chosen == nullptr)
      continue;
    ++chosen->matched;
    bool expired = chosen->state == WaiverUse::State::expired;
    if (!expired)
      chosen->state = WaiverUse::State::applied;
    const Waiver &w = chosen->waiver;
    f.waiver = std::make_shared<const WaiverNote>(
        WaiverNote{w.justification, w.owner, w.expires, w.source, expired, f.status});
    if (!expired)
      f.status = Status::waived;
  }
  return uses;
}

std::string today_utc() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[16];
  std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
  return buf;
}

void cap_beyond_guide(std::vector<Finding> &findings, const std::string &guide) {
  for (auto &f : findings) {
    f.beyond_guide = guide;
    // An error is capped too: the guide's sign-off does not depend on what
    // it never asked for, and the message still says what could not be read.
    if (f.status == Status::fail || f.status == Status::error) {
      f.message = "beyond guide " + guide + " (" + std::string(to_string(f.status)) +
                  " under baseline, a warning here): " + f.message;
      f.status = Status::warn;
    }
  }
}

bool selector_matches(std::string_view selector, std::string_view id) {
  if (selector == id)
    return true;
  std::string sel(selector), sid(id);
  if (sel.find_first_of("*?[") != std::string::npos)
    return ::fnmatch(sel.c_str(), sid.c_str(), 0) == 0;
  // A bare domain selects the whole domain.
  return sel.find('.') == std::string::npos && sid.size() > sel.size() &&
         sid.compare(0, sel.size(), sel) == 0 && sid[sel.size()] == '.';
}

int compute_score(const std::vector<Finding> &findings) {
  double num = 0, den = 0;
  for (auto &f : findings) {
    double credit;
    if (f.status == Status::pass)
      credit = 1;
    else if (f.status == Status::warn)
      credit = 0.5;
    else if (f.status == Status::fail || f.status == Status::error)
      credit = 0; // fail closed: what could not be read cannot be credited
    else
      continue;
    num += weight(f.severity) * credit;
    den += weight(f.severity);
  }
  return den == 0 ? 100 : static_cast<int>(std::lround(100.0 * num / den));
}

bool counts_as_failure(const Finding &f) {
  return f.status == Status::fail || f.status == Status::error;
}

bool fails_at(const AuditReport &report, Severity threshold) {
  for (auto &f : report.findings)
    if (counts_as_failure(f) && f.severity >= threshold)
      return true;
  return false;
}

bool new_fails_at(const AuditReport &report, Severity threshold) {
  assert(report.baseline);
  std::map<std::string, int> added;
  for (auto &e : report.baseline->added)
    ++added[e.fingerprint];
  for (auto &f : report.findings)
    if (counts_as_failure(f) && f.severity >= threshold) {
      auto it = added.find(fingerprint(f));
      if (it != added.end() && it->second > 0)
        return true;
    }
  return false;
}

Result<AuditReport> run_audit(const AuditRequest &req) {
  auto t0 = std::chrono::steady_clock::now();
  // Pass 1: the target.
  // The root is opened once, from its real path (a relative --root is taken
  // from the current directory); every read goes through that descriptor.
  RootFs fs(req.root);
  if (req.overlay)
    fs.set_overlay(req.overlay);
  if (!fs.root_status())
    return Error{"--root " + req.root + " is not a directory (" +
                 std::string(std::strerror(fs.root_status().error().sys_errno)) + ")"};
  // Pass 2: catalogue and profile.
  const Catalogue &cat = Catalogue::builtin();
  Profile profile = TRY(load_profiles(cat, req.profiles));
  TRY(check_selectors(cat, req.only, "--only"));
  TRY(check_selectors(cat, req.skip, "--skip"));
  // Pass 3: evaluate the selected checks; models are parsed on first use.
  TargetOptions options;
  options.live = req.live;
  options.compose_files = req.compose_files;
  options.env_files = req.env_files;
  options.postgres_dsn = req.postgres_dsn;
  options.host_env = req.host_env;
  options.docker_host = req.docker_host;
  Context ctx(fs, std::move(options));
  AuditReport report;
  report.root = fs.host_root();
  report.live = ctx.live();
  report.hostname = target_hostname(fs);
  report.profiles = profile.names;
  report.guide = profile.guide;
  std::vector<PerfEntry> check_times;
  // In the order of the domain table (registry.cpp), which is the order of
  // the report; a catalogue entry without an implementation never runs.
  for (const CheckImpl &check : all_checks()) {
    const CheckSpec *found = cat.find(check.id);
    if (found == nullptr || profile.disabled.count(found->id))
      continue;
    const CheckSpec &spec = *found;
    const CheckImpl *impl = &check;
    auto selected = [&](const std::vector<std::string> &sels) {
      for (auto &s : sels)
        if (selector_matches(s, spec.id))
          return true;
      return false;
    };
    if (!req.only.empty() && !selected(req.only))
      continue;
    if (selected(req.skip))
      continue;
    CheckRun run(ctx, spec, profile);
    try {
      PerfTimer timing(check_times, PerfEntry::Kind::check, spec.id);
      impl->run(run);
    } catch (const std::exception &e) {
      // A bug in one check must not take the audit down.
      run.findings().clear();
      run.emit(Status::error, "", std::string("internal error in check: ") + e.what());
    }
    if (run.findings().empty())
      run.emit(Status::error, "", "internal error: the check reported nothing");
    // A hostile file of 100,000 bad lines must not make a report of
    // gigabytes: every check's evidence is capped as fs.* caps its own (a
    // list already capped, k_max_evidence + 1 entries, is left as it is).
    for (auto &f : run.findings())
      if (f.evidence.size() > k_max_evidence + 1)
        cap_evidence(f.evidence, f.evidence.size());
    if (beyond_guide(profile, spec))
      cap_beyond_guide(run.findings(), profile.guide);
    // Appended as each check ends, its own vector then freed: the heap
    // reuses that memory (core/heap), where keeping every check's vector to
    // the end and copying them into one made a second copy of 100,000
    // findings in fresh pages.
    std::vector<Finding> &done = run.findings();
    report.findings.insert(report.findings.end(), std::make_move_iterator(done.begin()),
                           std::make_move_iterator(done.end()));
  }
  // Pass 4: waivers, then summary and score (waived findings count for
  // neither --fail-on nor the score).
  if (req.waivers)
    report.waivers =
        apply_waivers(report.findings, *req.waivers, req.today.empty() ? today_utc() : req.today);
  for (Status s : {Status::pass, Status::fail, Status::warn, Status::not_applicable, Status::error,
                   Status::waived})
    report.summary[s] = 0;
  for (auto &f : report.findings)
    ++report.summary[f.status];
  report.score = compute_score(report.findings);
  report.perf = ctx.perf();
  report.perf.insert(report.perf.end(), check_times.begin(), check_times.end());
  report.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

} // namespace bulwark
