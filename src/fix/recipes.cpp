// The table of recipe kinds (one per area, ccache-style explicit listing)
// and the text helpers the recipes share.

#include <bulwark/fix/recipe.hpp>

#include <algorithm>
#include <array>
#include <cstdlib>
#include <memory>
#include <sys/stat.h>

namespace bulwark::fix {

namespace {

using Table = std::span<const RecipeKind> (*)();
// One table a line (a trailing comma keeps clang-format from packing them).
constexpr auto k_tables = std::to_array<Table>({
    ssh_recipes,
    sysctl_recipes,
    file_recipes,
    account_recipes,
    service_recipes,
    host_recipes,
    firewall_recipes,
    pam_recipes,
    unit_recipes,
    sudo_recipes,
    compose_recipes,
});

// Lines of `content`, each without its newline.
std::vector<std::string_view> recipe_split_lines(std::string_view content) {
  std::vector<std::string_view> lines;
  size_t start = 0;
  while (start < content.size()) {
    size_t nl = content.find('\n', start);
    if (nl == std::string_view::npos) {
      lines.push_back(content.substr(start));
      break;
    }
    lines.push_back(content.substr(start, nl - start));
    start = nl + 1;
  }
  return lines;
}

std::string join_lines(const std::vector<std::string_view> &lines) {
  std::string out;
  for (auto l : lines) {
    out += l;
    out += '\n';
  }
  return out;
}

} // namespace

const RecipeKind *find_recipe_kind(std::string_view name) {
  for (Table t : k_tables)
    for (const RecipeKind &k : t())
      if (k.name == name)
        return &k;
  return nullptr;
}

std::vector<std::string_view> recipe_kind_names() {
  std::vector<std::string_view> names;
  for (Table t : k_tables)
    for (const RecipeKind &k : t())
      names.push_back(k.name);
  return names;
}

std::string replace_line(std::string_view content, int line, std::string_view text) {
  auto lines = recipe_split_lines(content);
  if (line >= 1 && static_cast<size_t>(line) <= lines.size())
    lines[static_cast<size_t>(line) - 1] = text;
  return join_lines(lines);
}

std::string insert_line(std::string_view content, int line, std::string_view text) {
  auto lines = recipe_split_lines(content);
  size_t at = line < 1 ? 0 : std::min(lines.size(), static_cast<size_t>(line) - 1);
  lines.insert(lines.begin() + static_cast<std::ptrdiff_t>(at), text);
  return join_lines(lines);
}

Result<FileEdit> write_edit(const RootFs &fs, const std::string &path, std::string after) {
  FileEdit e;
  e.kind = FileEdit::Kind::write;
  e.path = path;
  auto cur = fs.read_file(path);
  if (cur)
    e.before = std::move(*cur);
  else if (!cur.error().not_found())
    return cur.error();
  e.after = std::move(after);
  return e;
}

Result<std::vector<FileEdit>> write_edits(const RootFs &fs,
                                          const std::map<std::string, std::string> &files) {
  std::vector<FileEdit> out;
  for (const auto &[path, content] : files) {
    FileEdit e = TRY(write_edit(fs, path, content));
    if (e.before && *e.before == e.after)
      continue;
    if (!e.before)
      e.mode = 0644;
    out.push_back(std::move(e));
  }
  return out;
}

void overlay_edit(FsOverlay &overlay, const FileEdit &e, const RootFs &fs) {
  FsOverlayEntry &o = overlay[e.path];
  switch (e.kind) {
  case FileEdit::Kind::write:
    o.removed = false;
    o.content = e.after;
    break;
  case FileEdit::Kind::remove:
    o = FsOverlayEntry{};
    o.removed = true;
    return;
  case FileEdit::Kind::attributes: break;
  case FileEdit::Kind::symlink:
    o = FsOverlayEntry{};
    if (e.after.empty()) { // the link is removed (a mask, unmasked)
      o.removed = true;
      return;
    }
    // RootFs reads an entry with S_IFLNK in its mode as a link whose text
    // is the content.
    o.content = e.after;
    o.mode = S_IFLNK | 0777;
    return;
  }
  if (e.mode)
    o.mode = *e.mode;
  if (e.owner)
    if (auto id = lookup_id(fs, "/etc/passwd", *e.owner))
      o.uid = *id;
  if (e.group)
    if (auto id = lookup_id(fs, "/etc/group", *e.group))
      o.gid = *id;
}

std::optional<uint32_t> lookup_id(const RootFs &fs, const std::string &db, std::string_view name) {
  if (name == "root")
    return 0;
  auto text = fs.read_file(db);
  if (!text)
    return std::nullopt;
  // passwd and group share the first three fields: name:x:id
  for (auto line : recipe_split_lines(*text)) {
    auto c1 = line.find(':');
    if (c1 == std::string_view::npos || line.substr(0, c1) != name)
      continue;
    auto c2 = line.find(':', c1 + 1);
    if (c2 == std::string_view::npos)
      continue;
    auto c3 = line.find(':', c2 + 1);
    std::string id(line.substr(c2 + 1, c3 == std::string_view::npos ? line.npos : c3 - c2 - 1));
    char *end = nullptr;
    unsigned long v = std::strtoul(id.c_str(), &end, 10);
    if (!id.empty() && *end == '\0' && v <= 0xffffffffUL)
      return static_cast<uint32_t>(v);
  }
  return std::nullopt;
}

Result<std::string> Working::read(const std::string &path, bool missing_ok) const {
  if (auto it = m_files.find(path); it != m_files.end())
    return it->second;
  auto r = m_base.read_file(path);
  if (!r && missing_ok && r.error().not_found())
    return std::string();
  return r;
}

RootFs Working::view() const {
  auto ov = std::make_shared<FsOverlay>(m_base.overlay() ? *m_base.overlay() : FsOverlay{});
  for (const auto &[p, c] : m_files) {
    FsOverlayEntry &e = (*ov)[p];
    e.removed = false;
    e.content = c;
  }
  RootFs fs = m_base;
  fs.set_overlay(std::move(ov));
  return fs;
}

} // namespace bulwark::fix
