#include <bulwark/checks/audit.hpp>
#include <bulwark/checks/check.hpp>
#include <bulwark/checks/context.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/core/text.hpp>

#include <chrono>
#include <cmath>
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

} // namespace

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
    else if (f.status == Status::fail)
      credit = 0;
    else
      continue;
    num += weight(f.severity) * credit;
    den += weight(f.severity);
  }
  return den == 0 ? 100 : static_cast<int>(std::lround(100.0 * num / den));
}

bool fails_at(const AuditReport &report, Severity threshold) {
  for (auto &f : report.findings)
    if (f.status == Status::fail && f.severity >= threshold)
      return true;
  return false;
}

Result<AuditReport> run_audit(const AuditRequest &req) {
  auto t0 = std::chrono::steady_clock::now();
  // Pass 1: the target.
  struct stat st;
  if (::stat(req.root.c_str(), &st) != 0 || !S_ISDIR(st.st_mode))
    return Error{"--root " + req.root + " is not a directory"};
  RootFs fs(req.root);
  // Pass 2: catalogue and profile.
  const Catalogue &cat = Catalogue::builtin();
  Profile profile = TRY(load_profiles(cat, req.profiles));
  TRY(check_selectors(cat, req.only, "--only"));
  TRY(check_selectors(cat, req.skip, "--skip"));
  // Pass 3: evaluate the selected checks; models are parsed on first use.
  Context ctx(fs);
  AuditReport report;
  report.root = fs.host_root();
  report.hostname = target_hostname(fs);
  report.profiles = profile.names;
  for (const CheckSpec &spec : cat.checks()) {
    const CheckImpl *impl = find_check(spec.id);
    if (impl == nullptr || profile.disabled.count(spec.id))
      continue;
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
      impl->run(run);
    } catch (const std::exception &e) {
      // A bug in one check must not take the audit down.
      run.findings().clear();
      run.emit(Status::error, "", std::string("internal error in check: ") + e.what());
    }
    if (run.findings().empty())
      run.emit(Status::error, "", "internal error: the check reported nothing");
    for (auto &f : run.findings())
      report.findings.push_back(std::move(f));
  }
  // Pass 4: summary.
  for (Status s : {Status::pass, Status::fail, Status::warn, Status::not_applicable, Status::error})
    report.summary[s] = 0;
  for (auto &f : report.findings)
    ++report.summary[f.status];
  report.score = compute_score(report.findings);
  report.duration_ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  return report;
}

} // namespace bulwark
