#pragma once
// The fix engine: from the audit's failing findings to a Plan that is safe to
// apply. For each failing check with a catalogue recipe the recipe proposes
// edits (over the plan so far); the engine then
//   1. hands every changed configuration to its daemon's validator
//      (fix/validate.hpp) with the plan's files overlaid: a rejection refuses
//      the action;
//   2. re-audits the root with the whole plan overlaid (RootFs overlay, no
//      write): an action whose check does not turn to pass, or that turns a
//      passing check to fail or error, is refused;
// and plans again without what it refused, until the plan is stable. A
// second run over the fixed root plans nothing.

#include <bulwark/core/result.hpp>
#include <bulwark/fix/plan.hpp>
#include <bulwark/fix/validate.hpp>

#include <functional>
#include <string>
#include <vector>

namespace bulwark::fix {

using ValidateFn =
    std::function<Result<Validation>(Validator, const std::string &host_root, const Overlay &)>;

struct PlanRequest {
  std::string root = "/";
  std::vector<std::string> profiles; // empty: baseline
  std::vector<std::string> only;     // selectors as `audit --only`
  std::vector<std::string> skip;
  // The validators; empty: fix::validate. Tests may pass their own.
  ValidateFn validate;
};

struct PlanStats {
  double audit_ms = 0;    // the first audit
  double plan_ms = 0;     // recipes, validators and re-audits
  int reaudits = 0;       // audits of the root with the plan overlaid
  int failing_checks = 0; // checks with a failing finding in the first audit
};

// Errors: the audit cannot run (a bad profile or selector, no root).
Result<Plan> make_plan(const PlanRequest &req, PlanStats *stats = nullptr);

// The overlay (path -> content) a plan's edits leave, for the validators.
Overlay content_overlay(const std::vector<Action> &actions);

} // namespace bulwark::fix
