// sysctl: kernel parameters in a file that wins at boot.
//
// systemd-sysctl (systemd 252, Debian 12) applies the *.conf files of
// /etc/sysctl.d, /run/sysctl.d, /usr/local/lib/sysctl.d, /usr/lib/sysctl.d in
// bytewise order of their names, later assignments winning; Debian's procps
// links /etc/sysctl.d/99-sysctl.conf -> ../sysctl.conf, so /etc/sysctl.conf
// comes last but one among the usual names. procps's own `sysctl --system`
// reads /etc/sysctl.conf after every directory. So a key goes into
// /etc/sysctl.d/99-zz-bulwark.conf (after 99-sysctl.conf), unless the line
// that decides the key now sorts after it or is in /etc/sysctl.conf: that
// line is edited in place. Parsed again, the recipe's value must be the
// effective one. Only the keys the finding names are set.

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/sysctl.hpp>

#include <map>
#include <memory>

namespace bulwark::fix {

namespace {

constexpr const char *k_sysctl_dropin = "/etc/sysctl.d/99-zz-bulwark.conf";
constexpr const char *k_sysctl_conf = "/etc/sysctl.conf";

std::string sysctl_basename_of(std::string_view p) {
  auto s = p.rfind('/');
  return std::string(s == std::string_view::npos ? p : p.substr(s + 1));
}

Result<RecipeOutcome> sysctl_set(const RecipeInput &in) {
  // The keys the finding names (its evidence's "expected" is "key = ...").
  std::vector<std::pair<std::string, std::string>> wanted;
  for (auto &[key, value] : in.args.set)
    for (const Finding *f : in.findings)
      for (auto &e : f->evidence)
        if (e.context != "parse" && e.expected.starts_with(key + " ")) {
          bool dup = false;
          for (auto &w : wanted)
            dup = dup || w.first == key;
          if (!dup)
            wanted.emplace_back(key, value);
        }
  if (wanted.empty())
    return RecipeOutcome{
        Refusal{in.spec.id, "", "the finding names no parameter the recipe sets; fix by hand"}};
  std::map<std::string, std::string> files;
  auto read = [&](const std::string &p) -> Result<std::string> {
    if (auto it = files.find(p); it != files.end())
      return it->second;
    auto r = in.fs.read_file(p);
    if (!r && r.error().not_found())
      return std::string();
    return r;
  };
  auto view = [&] {
    auto ov = std::make_shared<FsOverlay>(in.fs.overlay() ? *in.fs.overlay() : FsOverlay{});
    for (auto &[p, c] : files)
      (*ov)[p] = FsOverlayEntry{false, c, {}, {}, {}};
    RootFs fs = in.fs;
    fs.set_overlay(std::move(ov));
    return fs;
  };
  SysctlOptions offline;
  offline.read_live = false;
  std::vector<std::string> summary;
  for (auto &[key, value] : wanted) {
    SysctlModel m = load_sysctl(view(), offline);
    const SysctlSetting *eff = m.effective(key);
    std::string line = key + " = " + value;
    if (eff != nullptr && !eff->is_glob &&
        (eff->loc.path == k_sysctl_conf ||
         sysctl_basename_of(eff->loc.path) > sysctl_basename_of(k_sysctl_dropin))) {
      std::string text = TRY(read(eff->loc.path));
      files[eff->loc.path] = replace_line(text, eff->loc.line, line);
      summary.push_back(line + " at " + eff->loc.path + ":" + std::to_string(eff->loc.line));
    } else {
      std::string text = TRY(read(k_sysctl_dropin));
      if (text.empty())
        text = "# Written by bulwark fix: kernel parameters that win at boot.\n";
      // Our own earlier line for the key is replaced, never duplicated.
      int at = 0, n = 0;
      for (const auto &l : text::split(text, '\n', true)) {
        ++n;
        auto t = text::trim(l);
        if (t.starts_with(key) && text::trim(t.substr(key.size())).starts_with("="))
          at = n;
      }
      files[k_sysctl_dropin] = at ? replace_line(text, at, line) : insert_line(text, 1 << 30, line);
      summary.push_back(line + " in " + k_sysctl_dropin);
    }
    // /etc/sysctl.conf is read last by procps's `sysctl --system`: a weaker
    // line there would undo the drop-in on hosts that run it.
    std::string conf = TRY(read(k_sysctl_conf));
    int n = 0;
    for (const auto &l : text::split(conf, '\n', true)) {
      ++n;
      auto t = text::trim(l);
      if (t.empty() || t[0] == '#' || t[0] == ';')
        continue;
      auto eq = t.find('=');
      if (eq != std::string_view::npos && text::trim(t.substr(0, eq)) == key &&
          text::trim(t.substr(eq + 1)) != value) {
        files[k_sysctl_conf] = replace_line(conf, n, line);
        summary.push_back(line + " at " + std::string(k_sysctl_conf) + ":" + std::to_string(n));
        break;
      }
    }
  }
  Action a;
  a.check_id = in.spec.id;
  a.edits = TRY(write_edits(in.fs, files));
  for (auto &s : summary)
    a.summary += (a.summary.empty() ? "" : "; ") + s;
  a.validators = {Validator::sysctl};
  a.restart_units = {"systemd-sysctl.service"};
  if (a.edits.empty())
    return RecipeOutcome{Refusal{in.spec.id, "", "the values are already configured"}};
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_sysctl_kinds[] = {{"sysctl", sysctl_set}};

} // namespace

std::span<const RecipeKind> sysctl_recipes() {
  return k_sysctl_kinds;
}

} // namespace bulwark::fix
