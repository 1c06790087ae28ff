#pragma once
// Comparing a baseline with a new scan, with AIDE 0.18's change semantics
// for the attributes both records carry, and rendering the result.
//
// - An entry in one and not the other is added or removed (not reported
//   when its rule says ANF / ARF).
// - Otherwise each attribute of old.attrs & new.attrs is compared: times to
//   the second (AIDE stores seconds), the file type always. A directory whose
//   entries changed is changed through its mtime/ctime (and size, nlink);
//   a file rewritten with its old size and mtime put back is changed by its
//   hash and its ctime, which no one can set back.
// - `growing` ignores a size, mtime or ctime that grew (and the hashes of
//   a file that grew), as AIDE's does for size and times.

#include <bulwark/core/result.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/fim/fim.hpp>

#include <string>
#include <vector>

namespace bulwark::fim {

struct Change {
  enum class Kind { added, removed, changed };
  Kind kind = Kind::changed;
  const Record *old_record = nullptr; // null when added
  const Record *new_record = nullptr; // null when removed
  std::vector<Attr> attributes;       // changed attributes (kind == changed)
};

struct Comparison {
  std::vector<Change> changes; // sorted by path
  size_t entries = 0;          // entries in the new scan
};

// One attribute's value as the text report shows it ("-rwxr-xr-x", a hex
// digest, an ISO time).
std::string value_text(const Record &r, Attr a);

// REQUIRES: both sorted by path (scan() and decode() give them so).
Comparison compare(const std::vector<Record> &old_records, const std::vector<Record> &new_records);

struct ReportContext {
  std::string root;
  std::string database;
  int64_t baseline_created = 0;
  bool baseline_signed = false;
  bool fast = false;
  std::vector<Error> errors;         // entries that could not be verified
  std::vector<std::string> warnings; // from the policy
  double duration_ms = 0;
};

std::string render_text(const Comparison &c, const ReportContext &ctx);
// {"schema": "bulwark.fim/v1", "changes": [{"path", "change", "type",
// "attributes", "old", "new"}], "errors": [...], ...}
std::string render_json(const Comparison &c, const ReportContext &ctx);
std::string render_sarif(const Comparison &c, const ReportContext &ctx);

} // namespace bulwark::fim
