#pragma once
// Splits a byte stream into lines, across reads. A line longer than the
// limit is skipped whole (the rest up to its newline is discarded): matching
// its first part could take a truncated tail for the daemon's own text.

#include <cstddef>
#include <cstring>
#include <string>
#include <string_view>

namespace bulwark::watch {

class LineSplitter {
public:
  explicit LineSplitter(size_t max_line) : m_max(max_line) {}

  // Calls line(std::string_view) for each complete line and too_long() for
  // each skipped one.
  template <typename Line, typename TooLong>
  void feed(std::string_view data, Line &&line, TooLong &&too_long) {
    while (!data.empty()) {
      const void *nl = std::memchr(data.data(), '\n', data.size());
      size_t n = nl == nullptr ? data.size() : static_cast<const char *>(nl) - data.data();
      if (m_skipping) {
        if (nl != nullptr)
          m_skipping = false;
      } else if (m_partial.size() + n > m_max) {
        m_partial.clear();
        too_long();
        m_skipping = nl == nullptr;
      } else if (nl == nullptr) {
        m_partial.append(data.data(), n);
      } else if (m_partial.empty()) {
        line(std::string_view(data.data(), n));
      } else {
        m_partial.append(data.data(), n);
        line(std::string_view(m_partial));
        m_partial.clear();
      }
      data.remove_prefix(nl == nullptr ? n : n + 1);
    }
  }
  // End of input: a last line without a newline counts (replay only).
  template <typename Line> void finish(Line &&line) {
    if (!m_partial.empty() && !m_skipping)
      line(std::string_view(m_partial));
    m_partial.clear();
    m_skipping = false;
  }
  size_t pending() const { return m_partial.size(); }

private:
  size_t m_max;
  std::string m_partial;
  bool m_skipping = false;
};

} // namespace bulwark::watch
