#pragma once
// The system libraries that only some commands need, loaded on first use
// with dlopen(3) instead of being linked: libpq (audit --live, PostgreSQL),
// hiredis (audit --live, Redis), libnftables (watch's bans, audit --live's
// ruleset), SQLite (watch and bans: the ban record) and libsystemd (watch:
// the journal).
//
// Why: every library the binary links is mapped and relocated at every
// start of every command, and these five bring 33 more (libpq's Kerberos,
// LDAP and GnuTLS, libsystemd's gcrypt, libnftables' libnftnl...): 46 shared
// libraries and ~21 million instructions of the dynamic loader before
// main(), against ~6 million for the libraries every command uses (measured
// with callgrind, see docs/fim.md). `bulwark fim check --fast` and
// `bulwark version` should not pay for a PostgreSQL client.
//
// Each function below loads its library once per process (thread-safe) and
// returns a table of the functions bulwark calls, with the C names as member
// names (`api->sqlite3_open_v2(...)`): the types come from the library's own
// header, so a signature that does not match is a compile error. The
// library stays loaded until the process exits. When it cannot be loaded
// (the package is missing, or a function is absent), the Error names the
// library, the Debian package that provides it and dlerror()'s reason; the
// .deb lists these packages in Depends (cmake/packaging.cmake), so an
// installed bulwark always finds them.

#include <bulwark/core/result.hpp>

#include <hiredis.h>
#include <libpq-fe.h>
#include <nftables/libnftables.h>
#include <sqlite3.h>
#include <systemd/sd-journal.h>

#include <string>

namespace bulwark::syslib {

// One library opened with dlopen(RTLD_NOW | RTLD_LOCAL), never closed.
class SharedLibrary {
public:
  // Loads `soname` (e.g. "libpq.so.5"). Error: "cannot load libpq.so.5
  // (Debian package libpq5): <dlerror>".
  static Result<SharedLibrary> open(const std::string &soname, const std::string &package);
  // The address of the function `name`, or an Error naming the library,
  // its package and the function.
  Result<void *> symbol(const char *name) const;
  // symbol() as a pointer of the function's own type F.
  template <typename F> Result<F> function(const char *name) const {
    void *p = TRY(symbol(name));
    return reinterpret_cast<F>(p);
  }

private:
  SharedLibrary(void *handle, std::string soname, std::string package)
      : m_handle(handle), m_soname(std::move(soname)), m_package(std::move(package)) {}
  void *m_handle;
  std::string m_soname;
  std::string m_package;
};

// The functions of each library bulwark calls: X(name) per function. A new
// call is one more line here (and a link error until it is added).
#define BULWARK_LIBPQ_FUNCTIONS(X)                                                                 \
  X(PQclear)                                                                                       \
  X(PQconnectPoll)                                                                                 \
  X(PQconnectStartParams)                                                                          \
  X(PQerrorMessage)                                                                                \
  X(PQexec)                                                                                        \
  X(PQfinish)                                                                                      \
  X(PQgetisnull)                                                                                   \
  X(PQgetvalue)                                                                                    \
  X(PQhost)                                                                                        \
  X(PQntuples)                                                                                     \
  X(PQport)                                                                                        \
  X(PQresultErrorMessage)                                                                          \
  X(PQresultStatus)                                                                                \
  X(PQserverVersion)                                                                               \
  X(PQsocket)                                                                                      \
  X(PQstatus)

#define BULWARK_HIREDIS_FUNCTIONS(X)                                                               \
  X(freeReplyObject)                                                                               \
  X(redisCommand)                                                                                  \
  X(redisCommandArgv)                                                                              \
  X(redisConnectUnixWithTimeout)                                                                   \
  X(redisConnectWithTimeout)                                                                       \
  X(redisFree)                                                                                     \
  X(redisSetTimeout)

#define BULWARK_NFTABLES_FUNCTIONS(X)                                                              \
  X(nft_ctx_buffer_error)                                                                          \
  X(nft_ctx_buffer_output)                                                                         \
  X(nft_ctx_free)                                                                                  \
  X(nft_ctx_get_error_buffer)                                                                      \
  X(nft_ctx_get_output_buffer)                                                                     \
  X(nft_ctx_new)                                                                                   \
  X(nft_ctx_output_get_flags)                                                                      \
  X(nft_ctx_output_set_flags)                                                                      \
  X(nft_run_cmd_from_buffer)

#define BULWARK_SQLITE_FUNCTIONS(X)                                                                \
  X(sqlite3_bind_int)                                                                              \
  X(sqlite3_bind_int64)                                                                            \
  X(sqlite3_bind_text)                                                                             \
  X(sqlite3_busy_timeout)                                                                          \
  X(sqlite3_changes)                                                                               \
  X(sqlite3_clear_bindings)                                                                        \
  X(sqlite3_close)                                                                                 \
  X(sqlite3_column_bytes)                                                                          \
  X(sqlite3_column_int)                                                                            \
  X(sqlite3_column_int64)                                                                          \
  X(sqlite3_column_text)                                                                           \
  X(sqlite3_errmsg)                                                                                \
  X(sqlite3_exec)                                                                                  \
  X(sqlite3_finalize)                                                                              \
  X(sqlite3_free)                                                                                  \
  X(sqlite3_open_v2)                                                                               \
  X(sqlite3_prepare_v2)                                                                            \
  X(sqlite3_reset)                                                                                 \
  X(sqlite3_step)

#define BULWARK_JOURNAL_FUNCTIONS(X)                                                               \
  X(sd_journal_add_disjunction)                                                                    \
  X(sd_journal_add_match)                                                                          \
  X(sd_journal_close)                                                                              \
  X(sd_journal_get_cursor)                                                                         \
  X(sd_journal_get_data)                                                                           \
  X(sd_journal_get_fd)                                                                             \
  X(sd_journal_get_realtime_usec)                                                                  \
  X(sd_journal_next)                                                                               \
  X(sd_journal_open)                                                                               \
  X(sd_journal_open_directory)                                                                     \
  X(sd_journal_previous)                                                                           \
  X(sd_journal_process)                                                                            \
  X(sd_journal_seek_cursor)                                                                        \
  X(sd_journal_seek_head)                                                                          \
  X(sd_journal_seek_tail)                                                                          \
  X(sd_journal_set_data_threshold)                                                                 \
  X(sd_journal_test_cursor)

// f names a member and a function: neither can be parenthesised.
#define BULWARK_SYSLIB_MEMBER(f) decltype(&::f) f = nullptr; // NOLINT(bugprone-macro-parentheses)
struct Libpq {
  BULWARK_LIBPQ_FUNCTIONS(BULWARK_SYSLIB_MEMBER)
};
struct Hiredis {
  BULWARK_HIREDIS_FUNCTIONS(BULWARK_SYSLIB_MEMBER)
};
struct Nftables {
  BULWARK_NFTABLES_FUNCTIONS(BULWARK_SYSLIB_MEMBER)
};
struct Sqlite {
  BULWARK_SQLITE_FUNCTIONS(BULWARK_SYSLIB_MEMBER)
};
struct Journal {
  BULWARK_JOURNAL_FUNCTIONS(BULWARK_SYSLIB_MEMBER)
};
#undef BULWARK_SYSLIB_MEMBER

// Each loads its library on the first call and returns the same table (or
// the same Error) on every later call. The soname and package of each:
//   libpq()     libpq.so.5          libpq5
//   hiredis()   libhiredis.so.0.14  libhiredis0.14
//   nftables()  libnftables.so.1    libnftables1
//   sqlite()    libsqlite3.so.0     libsqlite3-0
//   journal()   libsystemd.so.0     libsystemd0
Result<const Libpq *> libpq();
Result<const Hiredis *> hiredis();
Result<const Nftables *> nftables();
Result<const Sqlite *> sqlite();
Result<const Journal *> journal();

struct LibraryInfo {
  const char *soname;
  const char *package;
};
// The five, in the order above (for the package's Depends and its test).
inline constexpr LibraryInfo k_libraries[] = {{"libpq.so.5", "libpq5"},
                                              {"libhiredis.so.0.14", "libhiredis0.14"},
                                              {"libnftables.so.1", "libnftables1"},
                                              {"libsqlite3.so.0", "libsqlite3-0"},
                                              {"libsystemd.so.0", "libsystemd0"}};

} // namespace bulwark::syslib
