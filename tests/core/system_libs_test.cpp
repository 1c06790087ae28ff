// The command-specific system libraries loaded on first use
// (core/system_libs.hpp): each loads with every function bulwark calls, a
// missing library or function is an Error naming it and its package, and
// the built binary does not link any of them (what start-up is about).
#include <bulwark/core/system_libs.hpp>

#include "../support.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

namespace bulwark::syslib {
namespace {

// Every member of a table is bound (a null one would crash its first call).
#define BULWARK_EXPECT_BOUND(f) EXPECT_NE(api->f, nullptr) << #f;

TEST(SystemLibs, EachLibraryLoadsWithEveryFunctionBound) {
  {
    auto r = libpq();
    ASSERT_TRUE(r) << r.error().message;
    const Libpq *api = r.value();
    BULWARK_LIBPQ_FUNCTIONS(BULWARK_EXPECT_BOUND)
  }
  {
    auto r = hiredis();
    ASSERT_TRUE(r) << r.error().message;
    const Hiredis *api = r.value();
    BULWARK_HIREDIS_FUNCTIONS(BULWARK_EXPECT_BOUND)
  }
  {
    auto r = nftables();
    ASSERT_TRUE(r) << r.error().message;
    const Nftables *api = r.value();
    BULWARK_NFTABLES_FUNCTIONS(BULWARK_EXPECT_BOUND)
  }
  {
    auto r = sqlite();
    ASSERT_TRUE(r) << r.error().message;
    const Sqlite *api = r.value();
    BULWARK_SQLITE_FUNCTIONS(BULWARK_EXPECT_BOUND)
  }
  {
    auto r = journal();
    ASSERT_TRUE(r) << r.error().message;
    const Journal *api = r.value();
    BULWARK_JOURNAL_FUNCTIONS(BULWARK_EXPECT_BOUND)
  }
}

TEST(SystemLibs, LoadedFunctionsWorkAndTheTableIsLoadedOnce) {
  auto first = sqlite();
  ASSERT_TRUE(first) << first.error().message;
  auto second = sqlite();
  ASSERT_TRUE(second);
  EXPECT_EQ(first.value(), second.value());
  // A real call through the table: SQLite's own answer, not ours.
  const Sqlite &sq = *first.value();
  sqlite3 *db = nullptr;
  ASSERT_EQ(sq.sqlite3_open_v2(":memory:", &db, SQLITE_OPEN_READWRITE, nullptr), SQLITE_OK);
  char *err = nullptr;
  EXPECT_EQ(sq.sqlite3_exec(db, "CREATE TABLE t (x); INSERT INTO t VALUES (1), (2);", nullptr,
                            nullptr, &err),
            SQLITE_OK);
  EXPECT_EQ(sq.sqlite3_changes(db), 2);
  EXPECT_EQ(sq.sqlite3_exec(db, "SELECT nosuchcolumn FROM t", nullptr, nullptr, &err),
            SQLITE_ERROR);
  ASSERT_NE(err, nullptr);
  EXPECT_NE(std::string(err).find("nosuchcolumn"), std::string::npos) << err;
  sq.sqlite3_free(err);
  EXPECT_EQ(sq.sqlite3_close(db), SQLITE_OK);
}

TEST(SystemLibs, AMissingLibraryIsAnErrorNamingItAndItsPackage) {
  auto r = SharedLibrary::open("libbulwark-absent.so.7", "libbulwark-absent7");
  ASSERT_FALSE(r);
  const std::string &m = r.error().message;
  EXPECT_NE(m.find("cannot load libbulwark-absent.so.7"), std::string::npos) << m;
  EXPECT_NE(m.find("Debian package libbulwark-absent7"), std::string::npos) << m;
  EXPECT_NE(m.find("No such file or directory"), std::string::npos) << m; // dlerror()'s reason
}

TEST(SystemLibs, AMissingFunctionIsAnErrorNamingIt) {
  auto lib = SharedLibrary::open("libc.so.6", "libc6");
  ASSERT_TRUE(lib) << lib.error().message;
  auto present = lib.value().function<size_t (*)(const char *)>("strlen");
  ASSERT_TRUE(present) << present.error().message;
  EXPECT_EQ(present.value()("four"), 4u);
  auto absent = lib.value().symbol("bulwark_no_such_function");
  ASSERT_FALSE(absent);
  const std::string &m = absent.error().message;
  EXPECT_NE(m.find("libc.so.6"), std::string::npos) << m;
  EXPECT_NE(m.find("libc6"), std::string::npos) << m;
  EXPECT_NE(m.find("no function bulwark_no_such_function"), std::string::npos) << m;
}

// The point of the module: starting bulwark (any command) maps none of
// them. readelf -d lists what the dynamic loader loads before main().
TEST(SystemLibs, TheBinaryDoesNotLinkThem) {
  BULWARK_REQUIRE_TOOL("readelf");
  auto r = test::run_command(std::string("readelf -d ") + BULWARK_BINARY);
  ASSERT_EQ(r.exit_code, 0) << r.err;
  // The listing is real: the libraries every command needs are there.
  ASSERT_NE(r.out.find("Shared library: [libcrypto.so.3]"), std::string::npos) << r.out;
  ASSERT_NE(r.out.find("Shared library: [libstdc++.so.6]"), std::string::npos) << r.out;
  for (const LibraryInfo &lib : k_libraries)
    EXPECT_EQ(r.out.find(std::string("[") + lib.soname + "]"), std::string::npos)
        << BULWARK_BINARY << " links " << lib.soname << ":\n"
        << r.out;
}

// Without the library (hidden by a bind mount of /dev/null over it in a
// private mount namespace), the command that needs it fails with exit 3 and
// the package to install; every other command still runs, which it could
// not while the binary linked the library.
TEST(SystemLibs, AMissingLibraryFailsOnlyTheCommandThatNeedsIt) {
  BULWARK_REQUIRE(::geteuid() == 0) << "needs root (a private mount namespace)";
  BULWARK_REQUIRE_TOOL("unshare");
  test::TempRoot t;
  t.write("/watch.yaml", "state_dir: " + t.path() + "/state\n");
  std::filesystem::create_directories(t.host("/state"));
  const std::string bin = BULWARK_BINARY;
  auto r = test::run_command("unshare -m sh -c 'mount --bind /dev/null \"$(readlink -f "
                             "/lib/x86_64-linux-gnu/libsqlite3.so.0)\" || exit 99; " +
                             bin + " bans list --config " + t.host("/watch.yaml") +
                             "; echo \"bans=$?\"; " + bin + " version; echo \"version=$?\"'");
  ASSERT_EQ(r.exit_code, 0) << r.out << r.err;
  EXPECT_NE(r.out.find("bans=3"), std::string::npos) << r.out << r.err;
  EXPECT_NE(r.err.find("cannot load libsqlite3.so.0 (Debian package libsqlite3-0)"),
            std::string::npos)
      << r.err;
  EXPECT_NE(r.out.find("bulwark " BULWARK_VERSION), std::string::npos) << r.out;
  EXPECT_NE(r.out.find("version=0"), std::string::npos) << r.out << r.err;
  // Outside the namespace the same command reads the (empty) record.
  auto ok = test::run_command(bin + " bans list --config " + t.host("/watch.yaml"));
  EXPECT_EQ(ok.exit_code, 0) << ok.out << ok.err;
}

} // namespace
} // namespace bulwark::syslib
