#include <bulwark/core/perf.hpp>

#include <algorithm>
#include <fmt/format.h>

namespace bulwark {

std::string render_perf(const std::vector<PerfEntry> &entries, double total_ms) {
  std::string out = "bulwark --perf (wall ms)\n";
  double models = 0;
  out += "  models (load order; a nested load is part of its parent's time)\n";
  for (auto &e : entries)
    if (e.kind == PerfEntry::Kind::model) {
      out += fmt::format("    {:>10.3f}  {}{}\n", e.ms,
                         std::string(2 * static_cast<size_t>(e.depth), ' '), e.name);
      if (e.depth == 0)
        models += e.ms;
    }
  std::vector<const PerfEntry *> checks;
  double check_ms = 0;
  for (auto &e : entries)
    if (e.kind == PerfEntry::Kind::check) {
      checks.push_back(&e);
      check_ms += e.ms;
    }
  std::stable_sort(checks.begin(), checks.end(),
                   [](const PerfEntry *a, const PerfEntry *b) { return a->ms > b->ms; });
  out += "  checks (slowest first; a check's time includes the models it loaded first)\n";
  for (auto *e : checks)
    out += fmt::format("    {:>10.3f}  {}\n", e->ms, e->name);
  out += fmt::format("  {:>12.3f}  models, {} loaded\n", models,
                     std::count_if(entries.begin(), entries.end(), [](const PerfEntry &e) {
                       return e.kind == PerfEntry::Kind::model;
                     }));
  out += fmt::format("  {:>12.3f}  checks, {} run\n", check_ms, checks.size());
  out += fmt::format("  {:>12.3f}  audit in all (target, profile, checks, summary)\n", total_ms);
  return out;
}

} // namespace bulwark
