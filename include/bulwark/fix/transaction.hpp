#pragma once
// Applying a plan as one transaction, and undoing it.
//
// Layout under the root: /var/lib/bulwark/fix/<id>/manifest.json and
// /var/lib/bulwark/fix/<id>/backup/<n>. Before the first change every file
// the plan touches is backed up (content, mode, owner, extended attributes)
// and the manifest is written atomically and fsynced with state "applying";
// each file is then replaced atomically (core/atomic_file.hpp); the manifest
// ends "applied". A run that finds a transaction still "applying" (the apply
// was killed, the disk filled, a write was refused) rolls it back first:
// recover(). A rollback restores every file byte for byte and its attributes,
// removes the files and directories the apply created, and marks the
// manifest "rolled-back".

#include <bulwark/core/result.hpp>
#include <bulwark/fix/plan.hpp>

#include <functional>
#include <string>
#include <vector>

namespace bulwark::fix {

struct TransactionInfo {
  std::string id;      // "20261206T061502Z-1234": sorts by time
  std::string state;   // applying | applied | rolled-back
  std::string created; // ISO 8601 UTC
  std::vector<std::string> checks;
  std::vector<std::string> paths;
};

struct ApplyOptions {
  // Tests only: called after the n-th file is written (0-based), to kill the
  // process or fill the disk between two files.
  std::function<void(size_t)> after_write;
};

// Applies every edit of the plan's actions. Errors leave the root as it was:
// a failure after the first write rolls back before returning (and were the
// process killed instead, the next recover() does). Returns the id.
// Errors: a file changed since the plan was made (its content is not the
// plan's `before`), a path that leaves the root, a write that fails.
Result<std::string> apply_plan(const Plan &plan, const ApplyOptions &opts = {});

// Rolls back transaction `id` ("all": every applied one, newest first).
// Errors: no such transaction, a backup that cannot be read or restored.
Result<std::vector<std::string>> rollback(const std::string &root, const std::string &id);

// Rolls back every transaction left "applying". Returns their ids.
Result<std::vector<std::string>> recover(const std::string &root);

// The transactions, oldest first. An absent directory is an empty list.
Result<std::vector<TransactionInfo>> list_transactions(const std::string &root);

} // namespace bulwark::fix
