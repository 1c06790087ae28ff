// The fix engine (fix/engine.hpp): audit, recipes over an accumulating
// overlay, validators, re-audit, and again without what was refused.

#include <bulwark/checks/audit.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/fix/engine.hpp>
#include <bulwark/fix/recipe.hpp>

#include <chrono>
#include <map>
#include <memory>
#include <set>

namespace bulwark::fix {

namespace {

// Passes of plan-and-check before the engine gives up on refining: each pass
// refuses at least one action, so this bounds the re-audits on a root where
// many fixes interact.
constexpr int k_max_passes = 8;

double ms_since(std::chrono::steady_clock::time_point t0) {
  return std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
}

// The recipe's arguments with "{param}" replaced by the profile's value.
RecipeSpec substitute_recipe_params(const RecipeSpec &r, const CheckSpec &spec,
                                    const Profile &profile) {
  RecipeSpec out = r;
  auto sub = [&](std::string &v) {
    if (v.size() > 2 && v.front() == '{' && v.back() == '}') {
      std::string name = v.substr(1, v.size() - 2);
      // "{check.id:param}": another check's parameter (the firewall recipe
      // writes one ruleset that every firewall.* check judges).
      if (auto colon = name.find(':'); colon != std::string::npos) {
        std::string id = name.substr(0, colon), pname = name.substr(colon + 1);
        const CheckSpec *other = Catalogue::builtin().find(id);
        if (const ParamValue *p = profile.param(id, pname))
          v = param_to_string(*p);
        else if (const ParamSpec *ps = other ? other->find_param(pname) : nullptr)
          v = param_to_string(ps->default_value);
        return;
      }
      if (const ParamValue *p = profile.param(spec.id, name))
        v = param_to_string(*p);
      else if (const ParamSpec *ps = spec.find_param(name))
        v = param_to_string(ps->default_value);
    }
  };
  for (auto &[k, v] : out.set)
    sub(v);
  for (auto &[k, v] : out.options)
    sub(v);
  return out;
}

std::shared_ptr<FsOverlay> fs_overlay(const RootFs &base, const std::vector<Action> &actions) {
  auto ov = std::make_shared<FsOverlay>();
  for (auto &a : actions)
    for (auto &e : a.edits)
      overlay_edit(*ov, e, base);
  return ov;
}

using Key = std::pair<std::string, std::string>; // check, subject

AuditRequest audit_request(const PlanRequest &req) {
  AuditRequest ar;
  ar.root = req.root;
  ar.profiles = req.profiles;
  ar.only = req.only;
  ar.skip = req.skip;
  return ar;
}

} // namespace

Overlay content_overlay(const std::vector<Action> &actions) {
  Overlay ov;
  for (auto &a : actions)
    for (auto &e : a.edits) {
      if (e.kind == FileEdit::Kind::write)
        ov[e.path] = e.after;
      else if (e.kind == FileEdit::Kind::remove ||
               (e.kind == FileEdit::Kind::symlink && e.after.empty()))
        ov[e.path] = std::nullopt;
    }
  return ov;
}

Result<Plan> make_plan(const PlanRequest &req, PlanStats *stats) {
  auto t0 = std::chrono::steady_clock::now();
  AuditReport before = TRY(run_audit(audit_request(req)));
  PlanStats local;
  PlanStats &st = stats ? *stats : local;
  st.audit_ms = ms_since(t0);
  auto t1 = std::chrono::steady_clock::now();
  const Catalogue &cat = Catalogue::builtin();
  Profile profile = default_profile(cat);
  // The profiles the audit ran under (none: baseline, as run_audit does), so
  // a recipe's "{param}" is the value its check judged by.
  for (auto &p : req.profiles.empty() ? std::vector<std::string>{"baseline"} : req.profiles)
    profile = TRY(apply_profile(cat, profile, p));
  ValidateFn validate_fn =
      req.validate ? req.validate
                   : ValidateFn([](Validator v, const std::string &root, const Overlay &ov) {
                       return validate(v, root, ov);
                     });

  Plan plan;
  plan.root = before.root;
  for (auto &n : before.profiles)
    plan.profile += (plan.profile.empty() ? "" : ",") + n;

  // Failing findings by check, in catalogue order.
  std::map<std::string, std::vector<const Finding *>> failing;
  std::map<Key, Status> status_before;
  for (auto &f : before.findings) {
    status_before[{f.check, f.subject}] = f.status;
    if (f.status == Status::fail)
      failing[f.check].push_back(&f);
  }
  st.failing_checks = static_cast<int>(failing.size());
  std::vector<const CheckSpec *> order;
  for (auto &c : cat.checks())
    if (failing.count(c.id)) {
      if (c.recipe)
        order.push_back(&c);
      else
        plan.unfixable.push_back(c.id);
    }

  RootFs base(req.root);
  std::set<std::string> refused_ids;
  std::vector<Refusal> earlier; // the re-audits' refusals of earlier passes
  for (int pass = 0; pass < k_max_passes; ++pass) {
    std::vector<Action> actions;
    std::vector<Refusal> refused;
    auto ov = std::make_shared<FsOverlay>();
    for (const CheckSpec *c : order) {
      if (refused_ids.count(c->id))
        continue;
      const RecipeKind *kind = find_recipe_kind(c->recipe->kind);
      if (kind == nullptr) {
        refused.push_back({c->id, "", "unknown recipe kind '" + c->recipe->kind + "'"});
        continue;
      }
      RootFs fs = base;
      fs.set_overlay(std::make_shared<FsOverlay>(*ov));
      RecipeSpec args = substitute_recipe_params(*c->recipe, *c, profile);
      RecipeInput in{fs, *c, args, failing[c->id]};
      auto out = kind->run(in);
      if (!out) {
        refused.push_back({c->id, "", "cannot plan the fix: " + out.error().to_string()});
        continue;
      }
      if (auto *r = std::get_if<Refusal>(&*out)) {
        refused.push_back(*r);
        continue;
      }
      Action a = std::get<Action>(std::move(*out));
      if (a.subject.empty() && !failing[c->id].empty())
        a.subject = failing[c->id].front()->subject;
      // Validators see every file as the plan so far leaves it.
      std::vector<Action> upto = actions;
      upto.push_back(a);
      Overlay content = content_overlay(upto);
      std::string rejected;
      for (Validator v : a.validators) {
        auto r = validate_fn(v, base.host_root(), content);
        if (!r)
          rejected = std::string(validator_name(v)) + " could not judge: " + r.error().to_string();
        else if (!r->accepted)
          rejected = r->program + " rejects the result: " + r->output;
        if (!rejected.empty())
          break;
      }
      if (!rejected.empty()) {
        refused.push_back({c->id, a.subject, rejected});
        continue;
      }
      for (auto &e : a.edits)
        overlay_edit(*ov, e, base);
      actions.push_back(std::move(a));
    }
    // Re-audit the root with the whole plan overlaid.
    std::set<std::string> refuse_now;
    std::vector<Refusal> audit_refusals;
    if (!actions.empty()) {
      AuditRequest ar = audit_request(req);
      ar.overlay = ov;
      AuditReport after = TRY(run_audit(ar));
      ++st.reaudits;
      std::set<std::string> regressed;
      std::map<std::string, const Finding *> still;
      std::map<Key, const Finding *> still_at; // for actions that name their subjects
      for (auto &f : after.findings) {
        auto it = status_before.find({f.check, f.subject});
        bool was_ok = it != status_before.end() &&
                      (it->second == Status::pass || it->second == Status::not_applicable);
        bool bad = f.status == Status::fail || f.status == Status::error;
        if (was_ok && bad && !failing.count(f.check))
          regressed.insert(f.check);
        if (bad && !still.count(f.check))
          still[f.check] = &f;
        if (bad)
          still_at.emplace(Key{f.check, f.subject}, &f);
      }
      for (auto &a : actions) {
        const Finding *left = nullptr;
        if (a.subjects.empty()) {
          if (auto it = still.find(a.check_id); it != still.end())
            left = it->second;
        } else {
          for (auto &s : a.subjects)
            if (auto it = still_at.find({a.check_id, s}); it != still_at.end() && !left)
              left = it->second;
        }
        // On the running host a kernel parameter or a daemon's setting holds
        // only after its unit restarts: the file is what can be judged.
        if (left && !(base.is_host_root() && !a.restart_units.empty())) {
          audit_refusals.push_back({a.check_id, a.subject,
                                    "the re-audit with the fix applied still reports " +
                                        std::string(to_string(left->status)) + ": " +
                                        left->message});
          refuse_now.insert(a.check_id);
        }
      }
      if (!regressed.empty()) {
        // Which action breaks them: the first prefix of the plan under which
        // one of them fails.
        std::vector<std::string> ids(regressed.begin(), regressed.end());
        for (size_t i = 0; i < actions.size(); ++i) {
          std::vector<Action> prefix(actions.begin(),
                                     actions.begin() + static_cast<std::ptrdiff_t>(i + 1));
          AuditRequest pr = audit_request(req);
          pr.only = ids;
          pr.skip.clear();
          pr.overlay = fs_overlay(base, prefix);
          auto rep = run_audit(pr);
          ++st.reaudits;
          if (!rep)
            return rep.error();
          std::string broken;
          for (auto &f : rep->findings)
            if (regressed.count(f.check) && (f.status == Status::fail || f.status == Status::error))
              broken = f.check + " (" + f.message + ")";
          if (!broken.empty()) {
            audit_refusals.push_back({actions[i].check_id, actions[i].subject,
                                      "the fix turns a passing check to fail or error: " + broken});
            refuse_now.insert(actions[i].check_id);
            break;
          }
        }
        if (refuse_now.empty())
          return Error{"the plan turns passing checks to fail, and no single fix explains it"};
      }
    }
    if (refuse_now.empty() || pass + 1 == k_max_passes) {
      plan.refused = std::move(earlier);
      plan.refused.insert(plan.refused.end(), refused.begin(), refused.end());
      plan.refused.insert(plan.refused.end(), audit_refusals.begin(), audit_refusals.end());
      // Out of passes: nothing unproven is applied (an action planned over
      // a refused one's file no longer matches the disk, and apply refuses
      // it as changed since the plan).
      for (auto &a : actions)
        if (!refuse_now.count(a.check_id))
          plan.actions.push_back(std::move(a));
      break;
    }
    for (auto &r : audit_refusals) {
      refused_ids.insert(r.check_id);
      earlier.push_back(r);
    }
  }
  st.plan_ms = ms_since(t1);
  return plan;
}

} // namespace bulwark::fix
