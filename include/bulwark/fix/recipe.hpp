#pragma once
// Recipes: how `bulwark fix` remedies one check. A check's catalogue entry
// names a recipe kind and its arguments (RecipeSpec, data/checks*.yaml); a
// kind is one C++ function in a table, one table per area
// (src/fix/recipes/<area>.cpp), listed in recipes.cpp. A recipe reads the
// root (with the plan so far overlaid, so two recipes that touch one file
// compose) and returns the edits that make the check's failing findings
// pass, placed where the daemon honours them, or a refusal with its reason.
// It never writes: the engine re-audits, validates and applies.

#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/fix/plan.hpp>

#include <map>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

namespace bulwark::fix {

struct RecipeInput {
  const RootFs &fs;       // the root with the plan so far overlaid
  const CheckSpec &spec;  // the check
  const RecipeSpec &args; // the recipe, profile parameters substituted
  // The check's failing findings (one action remedies them all).
  const std::vector<const Finding *> &findings;
};

// An action (with at least one edit or command), or the reason it cannot be
// made safely (a Refusal: the engine lists it, never applies anything).
using RecipeOutcome = std::variant<Action, Refusal>;
// Errors: the root cannot be read where the recipe must look (fail closed:
// the engine reports the check as refused with the error).
using RecipeFn = Result<RecipeOutcome> (*)(const RecipeInput &);

struct RecipeKind {
  std::string_view name; // "sshd-option"
  RecipeFn run;
};

// One table per area.
std::span<const RecipeKind> ssh_recipes();      // sshd-option, sshd-moduli
std::span<const RecipeKind> sysctl_recipes();   // sysctl
std::span<const RecipeKind> file_recipes();     // file-mode
std::span<const RecipeKind> account_recipes();  // login-defs
std::span<const RecipeKind> service_recipes();  // redis-option, postgres-option, pg-hba-rule, ...
std::span<const RecipeKind> host_recipes();     // sudoers-dropin, auditd-rule, ... (host.cpp)
std::span<const RecipeKind> firewall_recipes(); // nftables
std::span<const RecipeKind> pam_recipes();      // pam-faillock, pam-pwhistory, pam-wheel
std::span<const RecipeKind> unit_recipes();     // unit-enable (units.cpp)
std::span<const RecipeKind> sudo_recipes();     // sudoers-passwd (sudo.cpp)
std::span<const RecipeKind> compose_recipes();  // compose-override

// nullptr when no table has the kind.
const RecipeKind *find_recipe_kind(std::string_view name);
std::vector<std::string_view> recipe_kind_names();

// Helpers the recipes share (src/fix/recipes.cpp).
// The text with line `line` (1-based) replaced by `text` (no newline).
std::string replace_line(std::string_view content, int line, std::string_view text);
// The text with `text` (no newline) inserted before line `line` (1-based;
// past the end appends). A missing final newline is added first.
std::string insert_line(std::string_view content, int line, std::string_view text);
// A FileEdit writing `after` over `path` of `fs` (before read from fs).
// Errors: the file exists and cannot be read.
Result<FileEdit> write_edit(const RootFs &fs, const std::string &path, std::string after);
// The write_edits of `files` (path -> new content) that change something,
// a new file 0644. Errors: a file exists and cannot be read.
Result<std::vector<FileEdit>> write_edits(const RootFs &fs,
                                          const std::map<std::string, std::string> &files);
// Adds an edit's effect to an overlay (the engine and recipes share it).
// Owner and group names are looked up in the root's /etc/passwd and
// /etc/group (never the host's).
void overlay_edit(FsOverlay &overlay, const FileEdit &e, const RootFs &fs);
// The root as a recipe's edits so far leave it: reads see the edits, view()
// is the root with them overlaid (to parse it again), files() the edits.
class Working {
public:
  explicit Working(const RootFs &fs) : m_base(fs) {}

  // A missing file reads as "" when `missing_ok`.
  Result<std::string> read(const std::string &path, bool missing_ok = false) const;
  void write(const std::string &path, std::string content) { m_files[path] = std::move(content); }
  void forget(const std::string &path) { m_files.erase(path); }
  // Back to `old` (nullopt: no edit of `path`).
  void restore(const std::string &path, const std::optional<std::string> &old) {
    if (old)
      m_files[path] = *old;
    else
      m_files.erase(path);
  }
  std::optional<std::string> edited(const std::string &path) const {
    auto it = m_files.find(path);
    return it == m_files.end() ? std::nullopt : std::optional<std::string>(it->second);
  }
  RootFs view() const;
  const std::map<std::string, std::string> &files() const { return m_files; }

private:
  const RootFs &m_base;
  std::map<std::string, std::string> m_files;
};

// The numeric id of `name` in the root's `db` ("/etc/passwd" or
// "/etc/group"); "root" is 0. nullopt when absent or unreadable.
std::optional<uint32_t> lookup_id(const RootFs &fs, const std::string &db, std::string_view name);

} // namespace bulwark::fix
