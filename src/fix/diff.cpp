// Unified diffs (see diff.hpp). The output format follows GNU diffutils 3.8:
// src/context.c (print_unidiff_number_range, pr_unidiff_hunk) and
// src/util.c (find_hunk: changes closer than 2*context+1 lines share a hunk).
// https://git.savannah.gnu.org/cgit/diffutils.git/tree/src/context.c
//
// The edit script is Eugene Myers' "An O(ND) Difference Algorithm and Its
// Variations" (1986), greedy forward search with the V arrays kept for the
// backtrack. Keeping them costs O(D^2) memory, so D is capped
// (k_max_edit_cost); past the cap the unmatched middle becomes one change.

#include <bulwark/fix/diff.hpp>

#include <algorithm>
#include <cstdint>
#include <unordered_map>
#include <vector>

namespace bulwark::fix {
namespace {

constexpr size_t k_context = 3;
// Snake steps and diagonal visits Myers may spend before giving up: a few
// hundred milliseconds at most, whatever the input.
constexpr size_t k_max_work = 200'000'000;

// Lines keep their '\n'; a last line without one differs from the same text
// with one, as in diff (it prints "\ No newline at end of file").
std::vector<std::string_view> diff_split_lines(std::string_view text) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string_view::npos ? text.size() : nl + 1;
    lines.push_back(text.substr(start, end - start));
    start = end;
  }
  return lines;
}

// A matched pair: line a of the old file equals line b of the new one.
struct Match {
  size_t a;
  size_t b;
};

// Myers over a[lo_a, hi_a) and b[lo_b, hi_b) (ids, equal ids equal lines).
// Appends the matches in order; returns false (appending nothing) when the
// edit cost exceeds `max_d`.
bool myers(const std::vector<uint32_t> &a, size_t lo_a, size_t hi_a, const std::vector<uint32_t> &b,
           size_t lo_b, size_t hi_b, size_t max_d, std::vector<Match> &out) {
  const long n = static_cast<long>(hi_a - lo_a);
  const long m = static_cast<long>(hi_b - lo_b);
  const long limit = std::min<long>(n + m, static_cast<long>(max_d));
  const long offset = limit + 1;
  std::vector<long> v(static_cast<size_t>(2 * limit + 3), 0);
  std::vector<std::vector<int32_t>> trace; // positions < 2^31 lines
  size_t work = 0;                         // comparisons and steps: bounds the O((N+M)D) worst case
  auto at = [&](std::vector<long> &vec, long k) -> long & {
    return vec[static_cast<size_t>(k + offset)];
  };
  long found_d = -1;
  for (long d = 0; d <= limit && found_d < 0; ++d) {
    for (long k = -d; k <= d; k += 2) {
      long x;
      if (k == -d || (k != d && at(v, k - 1) < at(v, k + 1)))
        x = at(v, k + 1); // down: an insertion
      else
        x = at(v, k - 1) + 1; // right: a deletion
      long y = x - k;
      while (x < n && y < m &&
             a[lo_a + static_cast<size_t>(x)] == b[lo_b + static_cast<size_t>(y)]) {
        ++x;
        ++y;
        ++work;
      }
      if (++work > k_max_work)
        return false;
      at(v, k) = x;
      if (x >= n && y >= m) {
        found_d = d;
        break;
      }
    }
    // Only the diagonals -d..d matter for the backtrack: keep that slice.
    auto &slice = trace.emplace_back(static_cast<size_t>(2 * d + 1));
    for (long k = -d; k <= d; ++k)
      slice[static_cast<size_t>(k + d)] = static_cast<int32_t>(at(v, k));
  }
  if (found_d < 0)
    return false;
  std::vector<Match> rev;
  long x = n;
  long y = m;
  for (long d = found_d; d > 0; --d) {
    const auto &prev = trace[static_cast<size_t>(d - 1)];
    auto pv = [&](long k) { return static_cast<long>(prev[static_cast<size_t>(k + d - 1)]); };
    long k = x - y;
    long prev_k = (k == -d || (k != d && pv(k - 1) < pv(k + 1))) ? k + 1 : k - 1;
    long prev_x = pv(prev_k);
    long prev_y = prev_x - prev_k;
    long mid_x = prev_k == k + 1 ? prev_x : prev_x + 1; // after the one edit
    long mid_y = mid_x - k;
    while (x > mid_x && y > mid_y) {
      --x;
      --y;
      rev.push_back({lo_a + static_cast<size_t>(x), lo_b + static_cast<size_t>(y)});
    }
    x = prev_x;
    y = prev_y;
  }
  while (x > 0 && y > 0) { // the snake from (0,0)
    --x;
    --y;
    rev.push_back({lo_a + static_cast<size_t>(x), lo_b + static_cast<size_t>(y)});
  }
  out.insert(out.end(), rev.rbegin(), rev.rend());
  return true;
}

// diffutils' range: "start,count", "start" when count is 1, and for an
// empty range the number of the line before it with ",0".
std::string range(size_t start, size_t count) {
  if (count == 0)
    return std::to_string(start) + ",0";
  if (count == 1)
    return std::to_string(start + 1);
  return std::to_string(start + 1) + "," + std::to_string(count);
}

void emit_line(std::string &out, char prefix, std::string_view line) {
  out += prefix;
  out.append(line);
  if (line.empty() || line.back() != '\n')
    out += "\n\\ No newline at end of file\n";
}

// A change: old lines [a, a_end) replaced by new lines [b, b_end).
struct Change {
  size_t a, a_end, b, b_end;
};

} // namespace

std::string unified_diff(std::string_view path, const std::optional<std::string> &before,
                         const std::optional<std::string> &after) {
  std::string_view old_text = before ? std::string_view(*before) : std::string_view();
  std::string_view new_text = after ? std::string_view(*after) : std::string_view();
  if (old_text == new_text)
    return "";
  auto old_lines = diff_split_lines(old_text);
  auto new_lines = diff_split_lines(new_text);

  // Lines as small integers: Myers compares ids, not strings.
  std::unordered_map<std::string_view, uint32_t> ids;
  auto intern = [&](const std::vector<std::string_view> &lines) {
    std::vector<uint32_t> out;
    out.reserve(lines.size());
    for (auto l : lines)
      out.push_back(ids.emplace(l, static_cast<uint32_t>(ids.size())).first->second);
    return out;
  };
  auto a = intern(old_lines);
  auto b = intern(new_lines);

  std::vector<Match> matches;
  size_t pre = 0;
  while (pre < a.size() && pre < b.size() && a[pre] == b[pre]) {
    matches.push_back({pre, pre});
    ++pre;
  }
  size_t suf = 0;
  while (suf < a.size() - pre && suf < b.size() - pre &&
         a[a.size() - 1 - suf] == b[b.size() - 1 - suf])
    ++suf;
  if (!myers(a, pre, a.size() - suf, b, pre, b.size() - suf, k_max_edit_cost, matches)) {
    // Past the bound: the lines equal at the same offset into the middle
    // (in-place substitutions, the usual shape of a big config edit) match;
    // everything else is deleted and inserted. Correct, linear, not minimal.
    for (size_t i = 0; pre + i < a.size() - suf && pre + i < b.size() - suf; ++i)
      if (a[pre + i] == b[pre + i])
        matches.push_back({pre + i, pre + i});
  }
  for (size_t i = suf; i > 0; --i)
    matches.push_back({a.size() - i, b.size() - i});

  // The changes are the gaps between consecutive matches.
  std::vector<Change> changes;
  size_t pa = 0;
  size_t pb = 0;
  auto gap = [&](size_t ma, size_t mb) {
    if (ma > pa || mb > pb)
      changes.push_back({pa, ma, pb, mb});
  };
  for (const auto &mt : matches) {
    gap(mt.a, mt.b);
    pa = mt.a + 1;
    pb = mt.b + 1;
  }
  gap(a.size(), b.size());

  std::string out;
  out += before ? "--- a" : "--- /dev/null";
  if (before)
    out += (!path.empty() && path.front() == '/') ? std::string(path) : "/" + std::string(path);
  out += "\n";
  out += after ? "+++ b" : "+++ /dev/null";
  if (after)
    out += (!path.empty() && path.front() == '/') ? std::string(path) : "/" + std::string(path);
  out += "\n";

  for (size_t i = 0; i < changes.size();) {
    size_t j = i;
    // Merge while fewer than 2*context+1 unchanged lines separate changes.
    while (j + 1 < changes.size() && changes[j + 1].a - changes[j].a_end < 2 * k_context + 1)
      ++j;
    const Change &first = changes[i];
    const Change &last = changes[j];
    size_t a_start = first.a - std::min(first.a, k_context);
    size_t b_start = first.b - (first.a - a_start);
    size_t a_stop = std::min(a.size(), last.a_end + k_context);
    size_t b_stop = last.b_end + (a_stop - last.a_end);
    out += "@@ -" + range(a_start, a_stop - a_start) + " +" + range(b_start, b_stop - b_start) +
           " @@\n";
    size_t cur = a_start;
    for (size_t c = i; c <= j; ++c) {
      for (; cur < changes[c].a; ++cur)
        emit_line(out, ' ', old_lines[cur]);
      for (size_t x = changes[c].a; x < changes[c].a_end; ++x)
        emit_line(out, '-', old_lines[x]);
      for (size_t y = changes[c].b; y < changes[c].b_end; ++y)
        emit_line(out, '+', new_lines[y]);
      cur = changes[c].a_end;
    }
    for (; cur < a_stop; ++cur)
      emit_line(out, ' ', old_lines[cur]);
    i = j + 1;
  }
  return out;
}

} // namespace bulwark::fix
