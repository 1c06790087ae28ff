// Loading the command-specific system libraries on first use; see
// system_libs.hpp for why and dlopen(3) for the flags.
#include <bulwark/core/system_libs.hpp>

#include <dlfcn.h>

namespace bulwark::syslib {

namespace {

// dlerror() of the last dl* call of this thread, or `fallback`.
std::string last_dl_error(const char *fallback) {
  const char *e = ::dlerror();
  return e != nullptr ? std::string(e) : std::string(fallback);
}

// Loads the table Api of one library: opens `info`, binds every function.
template <typename Api, typename Bind>
Result<Api> load_library(const LibraryInfo &info, Bind bind_all) {
  SharedLibrary lib = TRY(SharedLibrary::open(info.soname, info.package));
  Api api;
  TRY(bind_all(lib, api));
  return api;
}

// The result of a load, kept for the process: later calls see the same
// table or the same Error (a library that is missing stays missing).
template <typename Api> Result<const Api *> loaded(const Result<Api> &r) {
  if (!r)
    return r.error();
  return &r.value();
}

} // namespace

Result<SharedLibrary> SharedLibrary::open(const std::string &soname, const std::string &package) {
  // RTLD_NOW: a library that lacks a symbol it needs fails here, not in the
  // middle of a command. RTLD_LOCAL: its symbols do not leak into later
  // lookups of other libraries.
  void *h = ::dlopen(soname.c_str(), RTLD_NOW | RTLD_LOCAL);
  if (h == nullptr)
    return Error{"cannot load " + soname + " (Debian package " + package +
                 "): " + last_dl_error("dlopen failed")};
  return SharedLibrary(h, soname, package);
}

Result<void *> SharedLibrary::symbol(const char *name) const {
  (void)::dlerror(); // a null symbol is only an error when dlerror() says so
  void *p = ::dlsym(m_handle, name);
  if (p == nullptr)
    return Error{"cannot load " + m_soname + " (Debian package " + m_package + "): no function " +
                 name + ": " + last_dl_error("not found")};
  return p;
}

#define BULWARK_SYSLIB_BIND(f)                                                                     \
  a.f = TRY(lib.function<decltype(&::f)>(#f)); // NOLINT(bugprone-macro-parentheses)

Result<const Libpq *> libpq() {
  static const Result<Libpq> r =
      load_library<Libpq>(k_libraries[0], [](const SharedLibrary &lib, Libpq &a) -> Result<Unit> {
        BULWARK_LIBPQ_FUNCTIONS(BULWARK_SYSLIB_BIND)
        return Unit{};
      });
  return loaded(r);
}

Result<const Hiredis *> hiredis() {
  static const Result<Hiredis> r = load_library<Hiredis>(
      k_libraries[1], [](const SharedLibrary &lib, Hiredis &a) -> Result<Unit> {
        BULWARK_HIREDIS_FUNCTIONS(BULWARK_SYSLIB_BIND)
        return Unit{};
      });
  return loaded(r);
}

Result<const Nftables *> nftables() {
  static const Result<Nftables> r = load_library<Nftables>(
      k_libraries[2], [](const SharedLibrary &lib, Nftables &a) -> Result<Unit> {
        BULWARK_NFTABLES_FUNCTIONS(BULWARK_SYSLIB_BIND)
        return Unit{};
      });
  return loaded(r);
}

Result<const Sqlite *> sqlite() {
  static const Result<Sqlite> r =
      load_library<Sqlite>(k_libraries[3], [](const SharedLibrary &lib, Sqlite &a) -> Result<Unit> {
        BULWARK_SQLITE_FUNCTIONS(BULWARK_SYSLIB_BIND)
        return Unit{};
      });
  return loaded(r);
}

Result<const Journal *> journal() {
  static const Result<Journal> r = load_library<Journal>(
      k_libraries[4], [](const SharedLibrary &lib, Journal &a) -> Result<Unit> {
        BULWARK_JOURNAL_FUNCTIONS(BULWARK_SYSLIB_BIND)
        return Unit{};
      });
  return loaded(r);
}

#undef BULWARK_SYSLIB_BIND

} // namespace bulwark::syslib
