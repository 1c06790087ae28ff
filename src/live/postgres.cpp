// Live PostgreSQL probes through libpq (Debian 12: libpq5 15). Connections
// are made with PQconnectStartParams and polled against our own deadline,
// because libpq's connect_timeout has a floor of two seconds and does not
// bound a server that accepts and then stays silent during the handshake.
// The probe without a password sets password='' and a password file that cannot exist so
// that neither PGPASSWORD nor ~/.pgpass can turn it into an authenticated
// login: success then means the server asked for nothing (trust).

#include <bulwark/live/postgres.hpp>

#include <bulwark/core/system_libs.hpp>

#include <chrono>
#include <poll.h>

namespace bulwark::live {

std::string_view to_string(PgProbeResult::Outcome o) {
  switch (o) {
  case PgProbeResult::Outcome::accepted: return "accepted-without-password";
  case PgProbeResult::Outcome::password_required: return "password-required";
  case PgProbeResult::Outcome::rejected: return "rejected";
  case PgProbeResult::Outcome::unreachable: return "unreachable";
  case PgProbeResult::Outcome::protocol_error: return "protocol-error";
  }
  return "?";
}

namespace {

std::string postgres_one_line(const char *m) {
  std::string s = m ? m : "";
  for (char &c : s)
    if (c == '\n' || c == '\r')
      c = ' ';
  while (!s.empty() && s.back() == ' ')
    s.pop_back();
  return s;
}

// Drives a started connection to completion or the deadline. Returns true
// when connected; `timed_out` when the deadline passed.
bool drive(const syslib::Libpq &pq, PGconn *conn, int timeout_ms, bool &timed_out) {
  timed_out = false;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  PostgresPollingStatusType st = PGRES_POLLING_WRITING;
  for (;;) {
    if (st == PGRES_POLLING_OK)
      return true;
    if (st == PGRES_POLLING_FAILED)
      return false;
    int fd = pq.PQsocket(conn);
    if (fd < 0)
      return false;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                    deadline - std::chrono::steady_clock::now())
                    .count();
    if (left <= 0) {
      timed_out = true;
      return false;
    }
    pollfd p{fd, static_cast<short>(st == PGRES_POLLING_READING ? POLLIN : POLLOUT), 0};
    int r = ::poll(&p, 1, static_cast<int>(left));
    if (r == 0) {
      timed_out = true;
      return false;
    }
    if (r < 0)
      continue;
    st = pq.PQconnectPoll(conn);
  }
}

PGconn *start(const syslib::Libpq &pq,
              const std::vector<std::pair<const char *, std::string>> &params, bool expand) {
  std::vector<const char *> keys, values;
  for (auto &[k, v] : params) {
    keys.push_back(k);
    values.push_back(v.c_str());
  }
  keys.push_back(nullptr);
  values.push_back(nullptr);
  return pq.PQconnectStartParams(keys.data(), values.data(), expand ? 1 : 0);
}

} // namespace

PgProbeResult pg_try_without_password(const std::string &host, int port, const std::string &user,
                                      const std::string &dbname, int timeout_ms) {
  PgProbeResult r;
  r.target =
      (host.find(':') != std::string::npos ? "[" + host + "]" : host) + ":" + std::to_string(port);
  auto api = syslib::libpq();
  if (!api) {
    r.result = PgProbeResult::Outcome::protocol_error;
    r.detail = api.error().message;
    return r;
  }
  const syslib::Libpq &pq = **api;
  PGconn *conn = start(pq,
                       {{"host", host},
                        {"port", std::to_string(port)},
                        {"user", user},
                        {"dbname", dbname},
                        {"password", ""},
                        {"passfile", "/dev/null/no-passfile"},
                        {"sslmode", "prefer"},
                        {"gssencmode", "disable"},
                        {"application_name", "bulwark-probe"},
                        {"connect_timeout", "2"}},
                       false);
  if (!conn) {
    r.result = PgProbeResult::Outcome::protocol_error;
    r.detail = "out of memory";
    return r;
  }
  bool timed_out = false;
  bool ok = pq.PQstatus(conn) != CONNECTION_BAD && drive(pq, conn, timeout_ms, timed_out);
  std::string msg = postgres_one_line(pq.PQerrorMessage(conn));
  if (ok) {
    r.result = PgProbeResult::Outcome::accepted;
    r.detail = "connected as " + user + " without a password (server " +
               std::to_string(pq.PQserverVersion(conn)) + ")";
  } else if (timed_out) {
    r.result = PgProbeResult::Outcome::unreachable;
    r.detail = "no answer within " + std::to_string(timeout_ms) + " ms";
  } else if (msg.find("no password supplied") != std::string::npos ||
             msg.find("password authentication failed") != std::string::npos) {
    r.result = PgProbeResult::Outcome::password_required;
    r.detail = msg;
  } else if (msg.find("Connection refused") != std::string::npos ||
             msg.find("No such file or directory") != std::string::npos ||
             msg.find("Cannot assign requested address") != std::string::npos ||
             msg.find("Network is unreachable") != std::string::npos) {
    r.result = PgProbeResult::Outcome::unreachable;
    r.detail = msg;
  } else if (msg.find("FATAL") != std::string::npos) {
    r.result = PgProbeResult::Outcome::rejected;
    r.detail = msg;
  } else {
    r.result = PgProbeResult::Outcome::protocol_error;
    r.detail = msg.empty() ? "connection failed" : msg;
  }
  pq.PQfinish(conn);
  return r;
}

std::vector<PgProbeResult> pg_probe_no_password(int port, int timeout_ms) {
  return {pg_try_without_password("127.0.0.1", port, "postgres", "postgres", timeout_ms),
          pg_try_without_password("::1", port, "postgres", "postgres", timeout_ms)};
}

PgLiveInfo pg_query(const std::string &dsn, int timeout_ms) {
  PgLiveInfo info;
  auto api = syslib::libpq();
  if (!api) {
    info.error = api.error().message;
    return info;
  }
  const syslib::Libpq &pq = **api;
  PGconn *conn = start(pq, {{"dbname", dsn}, {"application_name", "bulwark"}}, true);
  if (!conn) {
    info.error = "out of memory";
    return info;
  }
  bool timed_out = false;
  if (pq.PQstatus(conn) == CONNECTION_BAD || !drive(pq, conn, timeout_ms, timed_out)) {
    info.error = timed_out ? "no answer within " + std::to_string(timeout_ms) + " ms"
                           : postgres_one_line(pq.PQerrorMessage(conn));
    pq.PQfinish(conn);
    return info;
  }
  info.server = std::string(pq.PQhost(conn) ? pq.PQhost(conn) : "") + ":" +
                (pq.PQport(conn) ? pq.PQport(conn) : "");
  auto query = [&](const char *sql, auto row) -> bool {
    PGresult *res = pq.PQexec(conn, sql);
    bool good = pq.PQresultStatus(res) == PGRES_TUPLES_OK;
    if (good)
      for (int i = 0; i < pq.PQntuples(res); i++)
        row(res, i);
    else if (info.error.empty())
      info.error = postgres_one_line(pq.PQresultErrorMessage(res));
    pq.PQclear(res);
    return good;
  };
  auto get = [&pq](PGresult *res, int i, int j) {
    return pq.PQgetisnull(res, i, j) ? std::string() : std::string(pq.PQgetvalue(res, i, j));
  };
  // Read-only, bounded: nothing here can change the server.
  pq.PQclear(pq.PQexec(conn, "SET statement_timeout = 1500"));
  bool a = query("SELECT name, setting, coalesce(sourcefile || ':' || sourceline, source) "
                 "FROM pg_settings",
                 [&](PGresult *res, int i) {
                   info.settings[get(res, i, 0)] = {get(res, i, 1), get(res, i, 2)};
                 });
  query("SELECT rolname, rolsuper, rolcanlogin, rolconnlimit, coalesce(rolvaliduntil::text, '') "
        "FROM pg_roles",
        [&](PGresult *res, int i) {
          info.roles.push_back({get(res, i, 0), get(res, i, 1) == "t", get(res, i, 2) == "t",
                                std::atoi(get(res, i, 3).c_str()), get(res, i, 4)});
        });
  // Superusers only (or pg_read_all_settings holders): may fail, not fatal.
  query("SELECT coalesce(line_number, 0), coalesce(type, ''), coalesce(array_to_string(database, "
        "','), ''), coalesce(array_to_string(user_name, ','), ''), coalesce(address, ''), "
        "coalesce(netmask, ''), coalesce(auth_method, ''), coalesce(error, '') "
        "FROM pg_hba_file_rules",
        [&](PGresult *res, int i) {
          info.hba.push_back({std::atoi(get(res, i, 0).c_str()), get(res, i, 1), get(res, i, 2),
                              get(res, i, 3), get(res, i, 4), get(res, i, 5), get(res, i, 6),
                              get(res, i, 7)});
        });
  info.ok = a;
  pq.PQfinish(conn);
  return info;
}

} // namespace bulwark::live
