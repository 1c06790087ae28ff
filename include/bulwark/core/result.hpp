#pragma once
// Errors the caller handles are values: Result<T> holds either a T or an
// Error {message, path, line}. Truly fatal conditions throw FatalError, which
// main() catches once and maps to an exit code.

#include <cassert>
#include <stdexcept>
#include <string>
#include <utility>
#include <variant>

namespace bulwark {

struct Error {
  std::string message{};
  std::string path{}; // path inside the target ("" when not about a file)
  int line = 0;       // 1-based; 0 when not about a line
  int sys_errno = 0;  // errno of a failed system call, 0 otherwise

  bool not_found() const; // ENOENT: the thing is absent (ENOTDIR, EACCES are errors)
  // "path:line: message", omitting what is unknown.
  std::string to_string() const;
};

template <typename T> class [[nodiscard]] Result {
public:
  Result(T value) : m_v(std::move(value)) {}
  Result(Error error) : m_v(std::move(error)) {}

  bool ok() const { return m_v.index() == 0; }
  explicit operator bool() const { return ok(); }

  // REQUIRES: ok()
  T &value() & {
    assert(ok());
    return std::get<0>(m_v);
  }
  const T &value() const & {
    assert(ok());
    return std::get<0>(m_v);
  }
  T &&value() && {
    assert(ok());
    return std::get<0>(std::move(m_v));
  }
  T &operator*() & { return value(); }
  const T &operator*() const & { return value(); }
  T *operator->() { return &value(); }
  const T *operator->() const { return &value(); }

  // REQUIRES: !ok()
  const Error &error() const {
    assert(!ok());
    return std::get<1>(m_v);
  }

private:
  std::variant<T, Error> m_v;
};

struct Unit {};
using Status_ = Result<Unit>;

// Fatal: the run cannot go on. Carries the process exit code.
class FatalError : public std::runtime_error {
public:
  FatalError(const std::string &what, int exit_code)
      : std::runtime_error(what), m_exit_code(exit_code) {}
  int exit_code() const { return m_exit_code; }

private:
  int m_exit_code;
};

namespace exit_code {
inline constexpr int k_ok = 0;
inline constexpr int k_findings = 1;
inline constexpr int k_usage = 2;
inline constexpr int k_cannot_run = 3;
} // namespace exit_code

} // namespace bulwark

// TRY(expr): evaluates a Result; returns its Error from the calling function
// on failure, otherwise yields the value. Keeps call sites flat.
#define TRY(expr)                                                                                  \
  ({                                                                                               \
    auto bulwark_try_result_ = (expr);                                                             \
    if (!bulwark_try_result_.ok())                                                                 \
      return bulwark_try_result_.error();                                                          \
    std::move(bulwark_try_result_).value();                                                        \
  })
