#pragma once
// The local account databases, read as glibc (nss_files) and shadow-utils
// read them: /etc/passwd, /etc/shadow, /etc/group and /etc/login.defs.
//
// - passwd/shadow/group: one record per line, ':'-separated fields, no
//   escaping; blank lines and NIS compat lines ("+", "-") are skipped. A
//   record with the wrong number of fields is ignored by nss_files; bulwark
//   reports it as a diagnostic with file:line (and keeps going).
// - shadow's password field: "" is an empty password (login without one),
//   "!" or "*" prefixes lock the account; field 5 is the maximum age in days,
//   empty meaning no limit.
// - login.defs (shadow-utils getdef.c): `NAME VALUE`, '#' comments, the last
//   definition of a name wins, a quoted value is unquoted. PASS_MAX_DAYS
//   applies to accounts created afterwards, not to existing ones.
// Sources: passwd(5), shadow(5), login.defs(5), shadow-utils lib/getdef.c.

#include <bulwark/core/diagnostic.hpp>
#include <bulwark/core/finding.hpp>
#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <map>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::accounts {

using Diagnostic = bulwark::Diagnostic; // the one Diagnostic type (core/diagnostic.hpp)

struct PasswdEntry {
  std::string name;
  std::string password; // usually "x": see shadow
  long long uid = -1;
  long long gid = -1;
  std::string home, shell;
  SourceLocation loc;
};

struct ShadowEntry {
  std::string name;
  std::string hash;                  // "" empty, "!..." / "*" locked
  std::optional<long long> max_days; // field 5; nullopt when empty
  SourceLocation loc;
  bool locked() const { return !hash.empty() && (hash[0] == '!' || hash[0] == '*'); }
};

// /etc/group: name:password:gid:members (group(5)).
struct GroupEntry {
  std::string name;
  long long gid = -1;
  std::vector<std::string> members; // the fourth field, split at commas
  SourceLocation loc;
};

struct LoginDef {
  std::string value;
  SourceLocation loc;
};

struct AccountsModel {
  std::vector<PasswdEntry> passwd;
  std::optional<std::vector<ShadowEntry>> shadow; // nullopt: absent or unreadable
  std::optional<Error> shadow_error;
  std::optional<Error> passwd_error;
  std::optional<std::vector<GroupEntry>> group; // nullopt: absent or unreadable
  std::optional<Error> group_error;
  std::map<std::string, LoginDef> login_defs; // absent file: empty
  bool login_defs_present = false;
  std::vector<Diagnostic> diagnostics;

  const ShadowEntry *shadow_of(std::string_view user) const;
};

AccountsModel load_accounts(const RootFs &fs);

// Parsers on text, for tests and fuzzing.
std::vector<PasswdEntry> parse_passwd(std::string_view text, const std::string &path,
                                      std::vector<Diagnostic> &diags);
std::vector<ShadowEntry> parse_shadow(std::string_view text, const std::string &path,
                                      std::vector<Diagnostic> &diags);
std::vector<GroupEntry> parse_group(std::string_view text, const std::string &path,
                                    std::vector<Diagnostic> &diags);
std::map<std::string, LoginDef> parse_login_defs(std::string_view text, const std::string &path);

} // namespace bulwark::accounts
