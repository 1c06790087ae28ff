#pragma once
// Live PostgreSQL probes (--live, this host only): a connection attempt
// without a password, and, with credentials (--postgres-dsn or the PG*
// variables), read-only queries of pg_settings, pg_hba_file_rules and
// pg_roles. Every probe gives up after `timeout_ms` (default 1.5 s) and never
// changes server state.

#include <map>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::live {

struct PgProbeResult {
  enum class Outcome {
    accepted,          // authenticated without a password: trust (or ident)
    password_required, // the server asked for a password
    rejected,          // pg_hba rejects (no entry, reject rule) or another auth error
    unreachable,       // refused, or no answer within the timeout
    protocol_error,    // something answered that is not PostgreSQL
  };
  std::string target; // "127.0.0.1:5432", "/var/run/postgresql:5432"
  Outcome result = Outcome::unreachable;
  std::string detail; // libpq's message, one line
};
std::string_view to_string(PgProbeResult::Outcome o);

// One attempt per host (addresses, or a socket directory starting with '/')
// as `user` to database `dbname`, with an empty password and no password
// file, sslmode=prefer, gssencmode=disable.
PgProbeResult pg_try_without_password(const std::string &host, int port,
                                      const std::string &user = "postgres",
                                      const std::string &dbname = "postgres",
                                      int timeout_ms = 1500);
// The loopback addresses of this host: 127.0.0.1 and ::1.
std::vector<PgProbeResult> pg_probe_no_password(int port, int timeout_ms = 1500);

struct PgRole {
  std::string name;
  bool superuser = false;
  bool can_login = false;
  int conn_limit = -1;     // -1: unlimited
  std::string valid_until; // "" when the password never expires
};
struct PgHbaRow {
  int line = 0;
  std::string type, database, user_name, address, netmask, auth_method, error;
};
struct PgLiveInfo {
  bool ok = false;
  std::string error;
  std::string server; // "host:port" the DSN reached
  // name -> {setting, "sourcefile:sourceline" or the source ("default")}
  std::map<std::string, std::pair<std::string, std::string>> settings;
  std::vector<PgHbaRow> hba;
  std::vector<PgRole> roles;
};
// Connects with `dsn` (libpq conninfo or URI; empty: PG* variables only).
PgLiveInfo pg_query(const std::string &dsn, int timeout_ms = 1500);

} // namespace bulwark::live
