#pragma once
// Unified diffs of one file, as GNU diffutils' `diff -u` prints them, for
// `bulwark fix`'s plan and for `patch -p1`.

#include <optional>
#include <string>
#include <string_view>

namespace bulwark::fix {

// The unified diff that turns `before` into `after` for the file `path`
// (absolute inside the root, "/etc/ssh/sshd_config"; a relative path is
// taken as is).
//
// - Headers are `--- a<path>` / `+++ b<path>` ("a/etc/ssh/sshd_config"), as
//   `diff -u --label a/... --label b/...` prints them: no timestamps, so
//   `patch -p1` run in the root applies the text. A file that does not exist
//   (nullopt) is `/dev/null`, as git and `diff -uN` print creations and
//   removals.
// - 3 lines of context; two changes separated by at most 6 unchanged lines
//   share a hunk (diffutils' find_hunk); "\ No newline at end of file" after
//   a last line without one; hunk ranges as diffutils prints them (an empty
//   range names the line before it).
// - Returns "" when the contents are equal (nullopt counts as empty, as for
//   `diff -uN`): a created empty file or a pure mode change has no text diff;
//   the plan reports those itself.
// - The edit script is minimal (Myers' O((N+M)D) algorithm after the common
//   prefix and suffix are removed) while the number of differences D stays
//   under k_max_edit_cost (and its work under a fixed step budget, which
//   bounds the O((N+M)D) worst case of long repetitive inputs); beyond it only the lines equal at
//   the same offset into the differing middle are kept and the rest is deleted and inserted (still
//   a correct diff that patch applies, only not the shortest). That bounds the time and memory on
//   huge inputs: two unrelated 10 MB files take about as long as reading them.
std::string unified_diff(std::string_view path, const std::optional<std::string> &before,
                         const std::optional<std::string> &after);

// The bound on D above (lines deleted plus lines inserted).
inline constexpr size_t k_max_edit_cost = 2000;

} // namespace bulwark::fix
