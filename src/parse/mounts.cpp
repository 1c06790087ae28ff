// fstab, crypttab and mountinfo; the header describes the formats.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/mounts.hpp>

namespace bulwark::mounts {

namespace {

std::vector<std::string> fields(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t'))
      ++i;
    size_t j = i;
    while (j < line.size() && line[j] != ' ' && line[j] != '\t')
      ++j;
    if (j > i)
      out.push_back(unescape_octal(line.substr(i, j - i)));
    i = j;
  }
  return out;
}

// Calls f(line_number, line) for every line that is neither blank nor a
// comment.
template <class F> void each_mount_line(std::string_view text, F &&f) {
  int n = 0;
  size_t i = 0;
  while (i < text.size()) {
    size_t nl = text.find('\n', i);
    size_t end = nl == std::string_view::npos ? text.size() : nl;
    std::string_view line = text.substr(i, end - i);
    ++n;
    i = end + 1;
    std::string_view t = text::trim(line);
    if (t.empty() || t[0] == '#')
      continue;
    f(n, line);
  }
}

} // namespace

std::string unescape_octal(std::string_view s) {
  std::string out;
  out.reserve(s.size());
  for (size_t i = 0; i < s.size(); ++i) {
    if (s[i] == '\\' && s.size() - i >= 4 && s[i + 1] >= '0' && s[i + 1] <= '3' &&
        s[i + 2] >= '0' && s[i + 2] <= '7' && s[i + 3] >= '0' && s[i + 3] <= '7') {
      out += static_cast<char>((s[i + 1] - '0') * 64 + (s[i + 2] - '0') * 8 + (s[i + 3] - '0'));
      i += 3;
      continue;
    }
    out += s[i];
  }
  return out;
}

bool covers(std::string_view mp, std::string_view dir) {
  while (mp.size() > 1 && mp.back() == '/')
    mp.remove_suffix(1);
  if (mp == "/")
    return !dir.empty() && dir[0] == '/';
  return dir.size() >= mp.size() && dir.compare(0, mp.size(), mp) == 0 &&
         (dir.size() == mp.size() || dir[mp.size()] == '/');
}

Fstab parse_fstab_text(const std::string &path, std::string_view text) {
  Fstab out;
  out.path = path;
  each_mount_line(text, [&](int n, std::string_view line) {
    auto f = fields(line);
    if (f.size() < 3) {
      out.diagnostics.push_back(
          {"an fstab entry needs at least a device, a mount point and a type", {path, n}});
      return;
    }
    out.entries.push_back(
        FstabEntry{f[0], f[1], f[2], f.size() > 3 ? f[3] : "defaults", {path, n}});
  });
  return out;
}

Crypttab parse_crypttab_text(const std::string &path, std::string_view text) {
  Crypttab out;
  out.path = path;
  each_mount_line(text, [&](int n, std::string_view line) {
    auto f = fields(line);
    if (f.size() < 2) {
      out.diagnostics.push_back({"a crypttab entry needs at least a name and a device", {path, n}});
      return;
    }
    out.entries.push_back(CrypttabEntry{
        f[0], f[1], f.size() > 2 ? f[2] : "none", f.size() > 3 ? f[3] : "", {path, n}});
  });
  return out;
}

MountInfo parse_mountinfo_text(const std::string &path, std::string_view text) {
  MountInfo out;
  int n = 0;
  for (auto &line : text::split(text, '\n', true)) {
    ++n;
    if (text::trim(line).empty())
      continue;
    auto f = fields(line);
    size_t dash = 6;
    while (dash < f.size() && f[dash] != "-")
      ++dash;
    unsigned maj = 0, min = 0;
    if (f.size() < 10 || dash + 2 >= f.size() ||
        std::sscanf(f[2].c_str(), "%u:%u", &maj, &min) != 2) {
      out.diagnostics.push_back({"malformed mountinfo line", {path, n}});
      continue;
    }
    out.entries.push_back(MountEntry{maj, min, f[3], f[4], f[dash + 1], f[dash + 2], n, f[5]});
  }
  return out;
}

MountFlags mount_flags(std::string_view options) {
  MountFlags m;
  for (auto &o : text::split(options, ',')) {
    if (o == "defaults" || o == "dev")
      m.nodev = false;
    if (o == "defaults" || o == "suid")
      m.nosuid = false;
    if (o == "defaults" || o == "exec")
      m.noexec = false;
    if (o == "nodev" || o == "user" || o == "users")
      m.nodev = true;
    if (o == "nosuid" || o == "user" || o == "users")
      m.nosuid = true;
    if (o == "noexec" || o == "user" || o == "users")
      m.noexec = true;
  }
  return m;
}

const CrypttabEntry *Crypttab::find(std::string_view name) const {
  for (auto &e : entries)
    if (e.name == name)
      return &e;
  return nullptr;
}

const FstabEntry *covering(const Fstab &fstab, std::string_view dir) {
  const FstabEntry *best = nullptr;
  for (auto &e : fstab.entries) {
    if (e.mount_point.empty() || e.mount_point[0] != '/' || e.fstype == "swap")
      continue;
    if (covers(e.mount_point, dir) && (!best || e.mount_point.size() >= best->mount_point.size()))
      best = &e;
  }
  return best;
}

const MountEntry *covering(const MountInfo &mi, std::string_view dir) {
  const MountEntry *best = nullptr;
  for (auto &e : mi.entries)
    if (covers(e.mount_point, dir) && (!best || e.mount_point.size() >= best->mount_point.size()))
      best = &e;
  return best;
}

std::string mapper_name(std::string_view spec) {
  for (std::string_view prefix : {"/dev/mapper/", "/dev/disk/by-id/dm-name-"})
    if (spec.size() > prefix.size() && spec.substr(0, prefix.size()) == prefix)
      return std::string(spec.substr(prefix.size()));
  return "";
}

} // namespace bulwark::mounts
