// PAM recipes: pam_faillock and pam_pwhistory through pam-auth-update
// profiles, pam_wheel in /etc/pam.d/su.
//
// Debian generates /etc/pam.d/common-{auth,account,password,session,
// session-noninteractive} with pam-auth-update from the profiles in
// /usr/share/pam-configs, and keeps in /var/lib/pam/<type> what it last
// generated: a line edited by hand in common-* is then rewritten by the next
// package that runs `pam-auth-update --package` (unless the edit is only an
// option, which it carries over), and a line added by hand makes it refuse
// to update at all. So a module goes in as a profile of its own
// (/usr/share/pam-configs/bulwark-*, Default: yes) and the common-* files,
// /var/lib/pam/<type> and /var/lib/pam/seen are regenerated exactly as
// `pam-auth-update --package` of libpam-runtime 1.5.2 would
// (PamAuthUpdate below follows its Perl line by line, including the option
// edits it keeps). Validator::pam runs the root's own pam-auth-update over
// the root's files with the new profiles and compares what it writes with
// the plan's files, byte for byte. A root whose common-* carry edits that
// pam-auth-update refuses to merge ("Local modifications") is refused.
//
// pam-faillock: two profiles, as CIS Debian 12 5.3.2.2 lays them out:
// `requisite pam_faillock.so preauth` at priority 1024 (before pam_unix's
// 256: a locked account is refused before its password is checked) with
// `account required pam_faillock.so` (a successful login resets the count),
// and `[default=die] pam_faillock.so authfail` at priority 0 (after every
// primary module: pam-auth-update's success=N jumps of those modules skip
// it, a failure falls into it and is counted). root is never locked
// (pam_faillock's even_deny_root is off by default) and a key login never
// runs the auth stack.
//
// pam-pwhistory: `requisite pam_pwhistory.so remember=N enforce_for_root
// use_authtok` at priority 1023: after pam_pwquality (1024), which asks for
// the new password, before pam_unix (256), which sets it. Without
// pam_pwquality it is first and its Password-Initial line asks itself.
//
// pam-wheel: /etc/pam.d/su is no pam-auth-update file; `auth required
// pam_wheel.so use_uid group=G` goes right after its `auth sufficient
// pam_rootok.so` (root keeps su without the group) or before its first auth
// line. G must exist in the root's /etc/group (never created here).

#include <bulwark/core/text.hpp>
#include <bulwark/fix/recipe.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <regex>
#include <set>
#include <variant>

namespace bulwark::fix {

namespace {

constexpr const char *k_configs = "/usr/share/pam-configs";
constexpr const char *k_savedir = "/var/lib/pam";
constexpr const char *k_confdir = "/etc/pam.d";
const std::vector<std::string> k_types = {"auth", "account", "password", "session",
                                          "session-noninteractive"};

// Lines of `s`, each with its newline (the last may have none), as Perl's
// <FH> reads them.
std::vector<std::string> perl_lines(const std::string &s) {
  std::vector<std::string> out;
  size_t start = 0;
  while (start < s.size()) {
    size_t nl = s.find('\n', start);
    size_t end = nl == std::string::npos ? s.size() : nl + 1;
    out.push_back(s.substr(start, end - start));
    start = end;
  }
  return out;
}

std::string chomp(std::string s) {
  if (!s.empty() && s.back() == '\n')
    s.pop_back();
  return s;
}

// Perl's split(/\s+/, s) (no leading empty field: the callers' strings have
// no leading blank) and split("\n", s) (trailing empty fields dropped).
std::vector<std::string> split_ws(const std::string &s) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < s.size()) {
    size_t j = s.find_first_of(" \t\n\r\f\v", i);
    if (j == std::string::npos)
      j = s.size();
    if (j > i || (out.empty() && i == 0))
      out.emplace_back(s.substr(i, j - i));
    i = s.find_first_not_of(" \t\n\r\f\v", j);
    if (i == std::string::npos)
      break;
  }
  while (!out.empty() && out.back().empty())
    out.pop_back();
  return out;
}
std::vector<std::string> split_nl(const std::string &s) {
  std::vector<std::string> out;
  for (auto &l : text::split(s, '\n', true))
    out.emplace_back(l);
  while (!out.empty() && out.back().empty())
    out.pop_back();
  return out;
}

bool perl_true(const std::string *s) {
  return s != nullptr && !s->empty() && *s != "0";
}

// A profile as parse_pam_profile() reads it.
struct PamProfile {
  std::map<std::string, std::string> f;
  double priority = 0;
  const std::string *get(const std::string &k) const {
    auto it = f.find(k);
    return it == f.end() ? nullptr : &it->second;
  }
};

PamProfile parse_profile(const std::string &text, bool &disabled) {
  PamProfile p;
  std::string field;
  auto is_space = [](char c) { return c == ' ' || (c >= '\t' && c <= '\r'); };
  for (auto &raw : perl_lines(text)) {
    // /^(\S+):\s+(.*)\s*$/: a first word ending in ':', then blanks (the
    // line's own newline counts), then the value (its trailing blanks kept).
    std::string c = chomp(raw);
    size_t ws = 0;
    while (ws < c.size() && !is_space(c[ws]))
      ++ws;
    std::string rest = c.substr(ws);
    bool blank_after = !rest.empty() || c.size() != raw.size();
    if (ws > 1 && c[ws - 1] == ':' && blank_after) {
      field = c.substr(0, ws - 1);
      if (field.ends_with("-Final"))
        field.resize(field.size() - 6);
      size_t v = 0;
      while (v < rest.size() && is_space(rest[v]))
        ++v;
      p.f[field] = rest.substr(v); // Conflicts: not used by the recipes
      continue;
    }
    std::string l(text::trim(c));
    std::string &val = p.f[field];
    if (!l.empty())
      val += "\n" + l;
    if (val.find("pam_tally") != std::string::npos)
      disabled = true;
    size_t lead = 0;
    while (lead < val.size() && is_space(val[lead]))
      ++lead;
    val.erase(0, lead);
  }
  if (!p.get("Session-Interactive-Only")) {
    for (const char *suffix : {"-Type", "", "-Initial"}) {
      if (auto *v = p.get(std::string("Session") + suffix))
        p.f[std::string("Session-noninteractive") + suffix] = *v;
      else
        p.f.erase(std::string("Session-noninteractive") + suffix);
    }
  }
  if (auto *pr = p.get("Priority"))
    p.priority = std::strtod(pr->c_str(), nullptr);
  return p;
}

// diff_profiles(): per type, the options added to / removed from each
// managed line relative to what was generated, and the modules in use.
struct TypeDiff {
  std::map<std::string, std::map<std::string, bool>> add; // std::map: Perl's sort keys
  std::map<std::string, std::set<std::string>> remove;
};
struct Diff {
  std::vector<std::string> mods;
  std::map<std::string, TypeDiff> types;
};

std::string strip_jump(const std::string &s) {
  static const std::regex k_num(R"((\[[^0-9]*)[0-9]+(.*\]))");
  return std::regex_replace(s, k_num, "$1$2");
}

bool starts_block(const std::string &l) {
  return l.starts_with("# here are the per-package modules (the \"Primary\" block)");
}
bool ends_primary(const std::string &l) {
  return l.starts_with("# here's the fallback if no module succeeds");
}
bool starts_additional(const std::string &l) {
  return l.starts_with("# and here are more per-package modules (the \"Additional\" block)");
}
bool ends_config(const std::string &l) {
  return l.starts_with("# end of pam-auth-update config");
}

// The "control module" head and the options of a profile or saved line.
bool pam_split_line(const std::string &line, std::string &head, std::vector<std::string> &opts) {
  static const std::regex k_line(R"(^((\[[^\]]+\]|\w+)\s+\S+)\s*(.*))");
  std::smatch m;
  if (!std::regex_search(line, m, k_line))
    return false;
  head = m[1];
  opts = split_ws(m[3]);
  return true;
}

// nullopt: the merge fails (pam-auth-update then refuses without --force).
Result<std::optional<Diff>> diff_profiles(const Working &w) {
  Diff diff;
  for (const auto &type : k_types) {
    auto saved_text = w.read(std::string(k_savedir) + "/" + type);
    if (!saved_text) {
      if (saved_text.error().not_found())
        return std::optional<Diff>();
      return saved_text.error();
    }
    std::vector<std::pair<std::string, std::string>> saved;
    std::string modname;
    static const std::regex k_end(R"((\[.*)end(.*\]))");
    for (auto &raw : perl_lines(*saved_text)) {
      if (raw.starts_with("Module: ")) {
        modname = chomp(raw.substr(8));
        continue;
      }
      std::string l = std::regex_replace(strip_jump(chomp(raw)), k_end, "$1$2");
      saved.emplace_back(modname, l);
    }
    auto cur = w.read(std::string(k_confdir) + "/common-" + type);
    if (!cur) {
      if (cur.error().not_found())
        return std::optional<Diff>();
      return cur.error();
    }
    std::string realtype = type == "session-noninteractive" ? "session" : type;
    std::regex strip_type("^" + realtype + R"(\s+)");
    int state = 0;
    std::string curmod;
    std::vector<std::string> prev_opts;
    size_t next_saved = 0;
    for (auto l : perl_lines(*cur)) {
      if (state == 0) {
        if (starts_block(l))
          state = 1;
        continue;
      }
      if (state == 1) {
        l = std::regex_replace(l, strip_type, "", std::regex_constants::format_first_only);
        if (ends_primary(l)) {
          state = 2;
          continue;
        }
      }
      if (state == 2) {
        if (starts_additional(l))
          state = 3;
        continue;
      }
      if (state == 3) {
        if (ends_config(l))
          break;
        l = std::regex_replace(l, strip_type, "", std::regex_constants::format_first_only);
      }
      bool found = false;
      std::string curopts;
      while (!found && next_saved < saved.size()) {
        auto [mod, line] = saved[next_saved++];
        std::string head;
        std::vector<std::string> opts;
        if (pam_split_line(line, head, opts)) {
          curmod = head;
          prev_opts = opts;
        }
        l = strip_jump(l);
        std::string body = chomp(l);
        if (body.starts_with(curmod)) {
          std::string rest = body.substr(curmod.size());
          size_t ws = rest.find_first_not_of(" \t\n\r\f\v");
          found = true;
          curopts = ws == std::string::npos ? "" : rest.substr(ws);
          diff.mods.push_back(mod);
        }
      }
      if (!found)
        return std::optional<Diff>();
      for (auto &opt : split_ws(curopts)) {
        bool hit = false;
        for (size_t i = 0; i < prev_opts.size(); ++i)
          if (prev_opts[i] == opt) {
            hit = true;
            prev_opts.erase(prev_opts.begin() + static_cast<std::ptrdiff_t>(i));
          }
        if (!hit)
          diff.types[type].add[curmod][opt] = true;
      }
      for (auto &opt : prev_opts)
        diff.types[type].remove[curmod].insert(opt);
    }
    if (state < 3)
      return std::optional<Diff>();
  }
  return std::optional<Diff>(std::move(diff));
}

class PamAuthUpdate {
public:
  // The files `pam-auth-update --package` writes for the root as `w` leaves
  // it (path -> content). Refusal text: why it would not update.
  static Result<std::variant<std::map<std::string, std::string>, std::string>>
  run(const Working &w) {
    using Out = std::variant<std::map<std::string, std::string>, std::string>;
    PamAuthUpdate u;
    RootFs view = w.view();
    auto names = view.list_dir(k_configs);
    if (!names)
      return names.error();
    for (auto &n : *names) {
      if (n == "." || n == ".." || n.ends_with("~") ||
          (n.size() > 1 && n.front() == '#' && n.back() == '#'))
        continue;
      std::string text = TRY(w.read(std::string(k_configs) + "/" + n));
      bool disabled = false;
      PamProfile p = parse_profile(text, disabled);
      if (!disabled)
        u.m_profiles[n] = std::move(p);
    }
    std::vector<std::string> sorted;
    for (auto &[n, p] : u.m_profiles)
      sorted.push_back(n);
    u.sort(sorted);
    auto diff = TRY(diff_profiles(w));
    if (!diff)
      return Out{std::string("/etc/pam.d/common-* carry local modifications that pam-auth-update "
                             "will not merge (\"not updating\" without --force)")};
    std::set<std::string> seen;
    std::string seen_text = TRY(w.read(std::string(k_savedir) + "/seen", true));
    for (auto &l : perl_lines(seen_text))
      seen.insert(chomp(l));
    std::vector<std::string> enabled;
    for (auto &m : diff->mods)
      if (u.m_profiles.count(m))
        enabled.push_back(m);
    if (enabled.empty())
      seen.clear();
    for (auto &n : sorted) {
      auto *d = u.m_profiles[n].get("Default");
      if (d && *d == "yes" && !seen.count(n))
        enabled.push_back(n);
    }
    u.sort(enabled);
    enabled.erase(std::unique(enabled.begin(), enabled.end()), enabled.end());
    std::map<std::string, std::string> out;
    std::string seen_out;
    for (auto &n : sorted)
      seen_out += n + "\n";
    out[std::string(k_savedir) + "/seen"] = seen_out;
    for (const auto &type : k_types) {
      std::string target = std::string(k_confdir) + "/common-" + type;
      std::string tmpl = TRY(w.read(target));
      auto made = u.from_template(tmpl, enabled, diff->types[type], type);
      if (!made)
        return Out{"pam-auth-update cannot regenerate " + target + ": its markers are missing"};
      out[target] = *made;
      out[std::string(k_savedir) + "/" + type] = u.saved(enabled, type);
    }
    return Out{std::move(out)};
  }

private:
  void sort(std::vector<std::string> &v) {
    std::stable_sort(v.begin(), v.end(), [&](const std::string &a, const std::string &b) {
      double pa = m_profiles[a].priority, pb = m_profiles[b].priority;
      if (pa != pb)
        return pa > pb;
      return a > b;
    });
  }

  std::string lines_for(const std::string &mod, const std::string &uctype, int pos) {
    const PamProfile &p = m_profiles[mod];
    if (pos == 0)
      if (auto *i = p.get(uctype + "-Initial"); perl_true(i))
        return *i;
    auto *v = p.get(uctype);
    return v ? *v : "";
  }

  static std::string ucfirst(std::string s) {
    if (!s.empty())
      s[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(s[0])));
    return s;
  }

  static std::string merge_one_line(const std::string &line, TypeDiff &diff, int count) {
    static const std::regex k_line(R"(^((\[[^\]]+\]|\w+)\s+\S+)\s*(.*))");
    std::smatch m;
    std::string modline;
    std::vector<std::string> opts;
    if (std::regex_search(line, m, k_line)) {
      modline = m[1];
      opts = split_ws(m[3]);
    }
    std::string c = std::to_string(count);
    for (size_t at = modline.find("end"); at != std::string::npos;
         at = modline.find("end", at + c.size()))
      modline.replace(at, 3, c);
    std::string key = strip_jump(modline);
    auto &adds = diff.add[key];
    auto &removes = diff.remove[key];
    for (size_t i = 0; i < opts.size(); ++i) {
      adds.erase(opts[i]);
      if (removes.count(opts[i])) {
        opts.erase(opts.begin() + static_cast<std::ptrdiff_t>(i));
        --i;
      }
    }
    for (auto &[a, on] : adds)
      opts.push_back(a);
    return modline + " " + text::join(opts, " ") + "\n";
  }

  std::optional<std::string> from_template(const std::string &tmpl,
                                           const std::vector<std::string> &enabled, TypeDiff &diff,
                                           std::string type) {
    std::string uctype = ucfirst(type);
    if (type == "session-noninteractive")
      type = "session";
    std::string out;
    int state = 0;
    for (auto &l : perl_lines(tmpl)) {
      if (state == 1) {
        if (ends_primary(l)) {
          out += l;
          ++state;
        }
        continue;
      }
      if (state == 3) {
        if (ends_config(l)) {
          out += l;
          ++state;
        }
        continue;
      }
      out += l;
      std::string val;
      if (state == 0 && starts_block(l))
        val = "Primary";
      else if (state == 2 && starts_additional(l))
        val = "Additional";
      else
        continue;
      int i = 0, count = 0;
      for (auto &mod : enabled) {
        auto *t = m_profiles[mod].get(uctype + "-Type");
        if (!perl_true(t) || *t != val)
          continue;
        for (auto &piece : split_nl(lines_for(mod, uctype, i++)))
          count += piece.empty() ? 0 : 1;
      }
      if (val == "Additional")
        --count;
      if (val == "Primary" && count == 0)
        out += type + "\t[default=1]\t\t\tpam_permit.so\n";
      i = 0;
      for (auto &mod : enabled) {
        auto *t = m_profiles[mod].get(uctype + "-Type");
        if (!perl_true(t) || *t != val)
          continue;
        for (auto &line : split_nl(lines_for(mod, uctype, i++))) {
          out += type + "\t" + merge_one_line(line, diff, count);
          --count;
        }
      }
      ++state;
    }
    if (state < 4)
      return std::nullopt;
    return out;
  }

  std::string saved(const std::vector<std::string> &enabled, const std::string &type) {
    std::string uctype = ucfirst(type), out;
    for (bool primary : {true, false}) {
      int i = 0;
      for (auto &mod : enabled) {
        auto *t = m_profiles[mod].get(uctype + "-Type");
        if (!perl_true(t) || *t == (primary ? "Additional" : "Primary"))
          continue;
        std::string lines = lines_for(mod, uctype, i++);
        if (perl_true(&lines))
          out += "Module: " + mod + "\n" + lines + "\n";
      }
      if (primary && i == 0)
        out += "Module: null\n[default=1]\t\t\tpam_permit.so\n";
    }
    return out;
  }

  std::map<std::string, PamProfile> m_profiles;
};

// Writes `profiles` (name -> text) into the root's pam-configs and the files
// pam-auth-update regenerates from them into one action.
Result<RecipeOutcome>
with_profiles(const RecipeInput &in,
              const std::vector<std::pair<std::string, std::string>> &profiles,
              const std::string &summary) {
  if (!in.fs.exists(k_configs))
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 std::string(k_configs) +
                                     " does not exist: the PAM stack is not managed by "
                                     "pam-auth-update (libpam-runtime); edit it by hand"}};
  Working w(in.fs);
  for (auto &[name, text] : profiles)
    w.write(std::string(k_configs) + "/" + name, text);
  auto generated = TRY(PamAuthUpdate::run(w));
  if (auto *why = std::get_if<std::string>(&generated))
    return RecipeOutcome{Refusal{in.spec.id, "", *why}};
  for (auto &[path, content] : std::get<0>(generated))
    w.write(path, content);
  Action a;
  a.check_id = in.spec.id;
  a.summary = summary;
  a.edits = TRY(write_edits(in.fs, w.files()));
  a.validators.push_back(Validator::pam);
  return RecipeOutcome{std::move(a)};
}

std::string pam_arg(const RecipeInput &in, const std::string &key, const std::string &fallback) {
  for (auto &[k, v] : in.args.set)
    if (k == key)
      return v;
  return fallback;
}

// The root has `module` in one of Debian's PAM module directories.
bool has_module(const RootFs &fs, const std::string &module) {
  for (const char *dir : {"/usr/lib", "/lib"}) {
    if (fs.exists(std::string(dir) + "/security/" + module))
      return true;
    auto names = fs.list_dir(dir);
    if (names)
      for (auto &n : *names)
        if (n.ends_with("-linux-gnu") &&
            fs.exists(std::string(dir) + "/" + n + "/security/" + module))
          return true;
  }
  return false;
}

Result<RecipeOutcome> pam_faillock(const RecipeInput &in) {
  if (!has_module(in.fs, "pam_faillock.so"))
    return RecipeOutcome{
        Refusal{in.spec.id, "", "pam_faillock.so is not installed (libpam-modules)"}};
  std::string preauth = "Name: Refuse locked accounts, reset the failure count (pam_faillock, "
                        "bulwark)\n"
                        "Default: yes\n"
                        "Priority: 1024\n"
                        "Auth-Type: Primary\n"
                        "Auth:\n"
                        "\trequisite\t\t\tpam_faillock.so preauth\n"
                        "Account-Type: Additional\n"
                        "Account:\n"
                        "\trequired\t\t\tpam_faillock.so\n";
  std::string authfail = "Name: Count failed logins (pam_faillock, bulwark)\n"
                         "Default: yes\n"
                         "Priority: 0\n"
                         "Auth-Type: Primary\n"
                         "Auth:\n"
                         "\t[default=die]\t\t\tpam_faillock.so authfail\n";
  return with_profiles(in, {{"bulwark-faillock-preauth", preauth}, {"bulwark-faillock", authfail}},
                       "pam_faillock preauth/authfail and account through pam-auth-update "
                       "profiles bulwark-faillock-preauth and bulwark-faillock");
}

Result<RecipeOutcome> pam_pwhistory(const RecipeInput &in) {
  if (!has_module(in.fs, "pam_pwhistory.so"))
    return RecipeOutcome{
        Refusal{in.spec.id, "", "pam_pwhistory.so is not installed (libpam-modules)"}};
  std::string remember = pam_arg(in, "remember", "5");
  std::string line = "\trequisite\t\t\tpam_pwhistory.so remember=" + remember + " enforce_for_root";
  std::string profile = "Name: Refuse the last " + remember +
                        " passwords (pam_pwhistory, bulwark)\n"
                        "Default: yes\n"
                        "Priority: 1023\n"
                        "Password-Type: Primary\n"
                        "Password:\n" +
                        line + " use_authtok\nPassword-Initial:\n" + line + "\n";
  return with_profiles(in, {{"bulwark-pwhistory", profile}},
                       "pam_pwhistory remember=" + remember +
                           " enforce_for_root through the pam-auth-update profile "
                           "bulwark-pwhistory");
}

Result<RecipeOutcome> pam_wheel(const RecipeInput &in) {
  const std::string path = "/etc/pam.d/su";
  std::string group = pam_arg(in, "group", "root");
  if (group != "root" && !lookup_id(in.fs, "/etc/group", group))
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "no group " + group +
                                     " in /etc/group: create it (groupadd) and add the accounts "
                                     "that may use su"}};
  if (!has_module(in.fs, "pam_wheel.so"))
    return RecipeOutcome{Refusal{in.spec.id, "", "pam_wheel.so is not installed (libpam-modules)"}};
  auto text = in.fs.read_file(path);
  if (!text) {
    if (text.error().not_found())
      return RecipeOutcome{Refusal{in.spec.id, "", path + " does not exist (su is not installed)"}};
    return text.error();
  }
  // After pam_rootok (root needs no group), else before the first auth line.
  int n = 0, at = 0, first_auth = 0;
  for (const auto &l : text::split(*text, '\n', true)) {
    ++n;
    auto words = split_ws(std::string(text::trim(l)));
    if (words.empty() || words[0].starts_with("#"))
      continue;
    bool auth = words[0] == "auth" || words[0] == "-auth" ||
                (words[0] == "@include" && words.size() > 1 && words[1] == "common-auth");
    if (auth && !first_auth)
      first_auth = n;
    if (words[0] == "auth" && words.size() > 2 && words[2].starts_with("pam_rootok") && !at &&
        (first_auth == n))
      at = n + 1;
  }
  if (!at)
    at = first_auth ? first_auth : n + 1;
  std::string line = "auth       required   pam_wheel.so use_uid group=" + group;
  FileEdit e = TRY(write_edit(in.fs, path, insert_line(*text, at, line)));
  e.line = line;
  Action a;
  a.check_id = in.spec.id;
  a.summary = "\"" + line + "\" in " + path + " (su only for members of " + group +
              "; root and sudo are unaffected)";
  a.edits.push_back(std::move(e));
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_pam_kinds[] = {
    {"pam-faillock", pam_faillock},
    {"pam-pwhistory", pam_pwhistory},
    {"pam-wheel", pam_wheel},
};

} // namespace

std::span<const RecipeKind> pam_recipes() {
  return k_pam_kinds;
}

} // namespace bulwark::fix
