// sshd-option: set sshd_config keywords where sshd honours them.
//
// sshd keeps the FIRST value of a single-valued keyword (servconf.c), Include
// splices files in place (globs sorted), and a Match block's values override
// the global ones for the connections it matches. So, for each keyword:
//   1. when sshd_config includes /etc/ssh/sshd_config.d/*.conf before the
//      keyword's first global line, a drop-in 00-bulwark.conf there (it
//      survives package upgrades of sshd_config) -- kept only if, parsed
//      again, its line is the first global one;
//   2. else the first global line is edited in place;
//   3. else the line is inserted at the top of sshd_config (before any
//      Include and Match);
// and every Match block that sets the keyword to something weaker is edited
// in place. Whether the result holds is the re-audit's to judge (engine).
//
// Lockout guard: PasswordAuthentication no, KbdInteractiveAuthentication no,
// PermitRootLogin no and AuthenticationMethods publickey only when an account
// that may log in (AllowUsers/AllowGroups, else a sudo/wheel/admin member)
// has a parseable key in its AuthorizedKeysFile.

#include <bulwark/fix/recipe.hpp>
#include <bulwark/parse/accounts.hpp>
#include <bulwark/parse/ssh_keys.hpp>
#include <bulwark/parse/sshd_config.hpp>

#include <algorithm>
#include <cctype>
#include <cstdlib>
#include <map>
#include <memory>
#include <set>

namespace bulwark::fix {

namespace {

constexpr const char *k_main = "/etc/ssh/sshd_config";
constexpr const char *k_ssh_dropin = "/etc/ssh/sshd_config.d/00-bulwark.conf";

std::string ssh_lower(std::string_view s) {
  std::string out(s);
  for (auto &c : out)
    c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

// Index of each directive line and whether a (non-"all") Match governs it.
struct Scoped {
  const ssh::Line *line;
  bool in_match;
};
std::vector<Scoped> scoped_lines(const ssh::SshdConfig &cfg) {
  std::vector<Scoped> out;
  std::vector<bool> stack;
  bool in_match = false;
  for (auto &l : cfg.lines) {
    switch (l.kind) {
    case ssh::Line::Kind::include_begin: stack.push_back(in_match); break;
    case ssh::Line::Kind::include_end:
      if (!stack.empty()) {
        in_match = stack.back();
        stack.pop_back();
      }
      break;
    case ssh::Line::Kind::match: in_match = !l.match_all; break;
    case ssh::Line::Kind::directive: out.push_back({&l, in_match}); break;
    }
  }
  return out;
}

const ssh::Line *first_global(const ssh::SshdConfig &cfg, const ssh::Keyword *kw) {
  for (auto &s : scoped_lines(cfg))
    if (!s.in_match && s.line->keyword == kw)
      return s.line;
  return nullptr;
}

std::string directive(std::string_view keyword, std::string_view value) {
  return std::string(keyword) + " " + std::string(value);
}

// The line as written with its value replaced (indentation and the
// keyword's spelling kept).
std::string rewrite(std::string_view old_line, const ssh::Line &l, std::string_view value) {
  size_t indent = old_line.find_first_not_of(" \t");
  return std::string(old_line.substr(0, indent == std::string_view::npos ? 0 : indent)) +
         directive(l.raw_keyword, value);
}

std::string ssh_line_of(std::string_view text, int line) {
  int n = 1;
  size_t start = 0;
  while (n < line && start < text.size()) {
    size_t nl = text.find('\n', start);
    if (nl == std::string_view::npos)
      return "";
    start = nl + 1;
    ++n;
  }
  size_t nl = text.find('\n', start);
  return std::string(text.substr(start, nl == std::string_view::npos ? text.npos : nl - start));
}

// A Match block's value is weaker than the wanted one: for numbers (limits)
// a larger value, for anything else a different word.
bool weaker(const std::vector<std::string> &args, std::string_view want) {
  std::string have;
  for (auto &a : args)
    have += (have.empty() ? "" : " ") + a;
  char *e1 = nullptr, *e2 = nullptr;
  std::string w(want);
  long long h = std::strtoll(have.c_str(), &e1, 10);
  long long v = std::strtoll(w.c_str(), &e2, 10);
  if (!have.empty() && !w.empty() && *e1 == '\0' && *e2 == '\0')
    return h > v;
  return ssh_lower(have) != ssh_lower(want);
}

// ---- the lockout guard ------------------------------------------------------

bool locks_out(const std::string &kw, const std::string &value) {
  std::string v = ssh_lower(value);
  return (kw == "passwordauthentication" && v == "no") ||
         (kw == "kbdinteractiveauthentication" && v == "no") ||
         (kw == "permitrootlogin" && v == "no") ||
         (kw == "authenticationmethods" && v.find("password") == std::string::npos &&
          v.find("keyboard-interactive") == std::string::npos);
}

// Does the authorized_keys text hold a key sshd can use? Options before the
// key type (from="...",command="...") are skipped as sshd does.
bool has_key(std::string_view text) {
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    std::string_view line =
        text.substr(start, nl == std::string_view::npos ? text.npos : nl - start);
    start = nl == std::string_view::npos ? text.size() : nl + 1;
    size_t b = line.find_first_not_of(" \t");
    if (b == std::string_view::npos || line[b] == '#')
      continue;
    line = line.substr(b);
    if (sshkeys::parse_public_key(line))
      return true;
    // Skip the options field: up to the first blank outside quotes.
    bool quoted = false;
    size_t i = 0;
    for (; i < line.size(); ++i) {
      if (line[i] == '\\' && i + 1 < line.size())
        ++i;
      else if (line[i] == '"')
        quoted = !quoted;
      else if (!quoted && (line[i] == ' ' || line[i] == '\t'))
        break;
    }
    std::string_view rest = line.substr(std::min(i, line.size()));
    size_t r = rest.find_first_not_of(" \t");
    if (r != std::string_view::npos && sshkeys::parse_public_key(rest.substr(r)))
      return true;
  }
  return false;
}

// Who could still log in with a key: the reason text when nobody can.
std::optional<std::string> no_key_login(const RootFs &fs, const ssh::SshdConfig &cfg,
                                        const std::string &kw) {
  ssh::UserDb users = ssh::UserDb::load(fs);
  ssh::Effective eff = ssh::evaluate(cfg, ssh::ConnectionSpec{}, users);
  auto accounts = accounts::load_accounts(fs);
  auto allow_users = eff.get("allowusers").args;
  auto allow_groups = eff.get("allowgroups").args;
  auto deny_users = eff.get("denyusers").args;
  auto in_group = [&](const std::string &user, const std::string &group) {
    auto g = users.groups(user);
    return g && std::find(g->begin(), g->end(), group) != g->end();
  };
  std::vector<std::string> candidates;
  std::string who;
  for (auto &p : accounts.passwd) {
    bool allowed;
    if (!allow_users.empty() || !allow_groups.empty()) {
      allowed = false;
      for (auto &u : allow_users)
        allowed = allowed || u.substr(0, u.find('@')) == p.name;
      for (auto &g : allow_groups)
        allowed = allowed || in_group(p.name, g);
      who = "AllowUsers/AllowGroups";
    } else {
      allowed = in_group(p.name, "sudo") || in_group(p.name, "wheel") || in_group(p.name, "admin");
      who = "members of sudo, wheel or admin";
    }
    for (auto &d : deny_users)
      if (d.substr(0, d.find('@')) == p.name)
        allowed = false;
    // PermitRootLogin no leaves root out; the others keep it in only when
    // it may log in at all.
    if (p.uid == 0 &&
        (kw == "permitrootlogin" || ssh_lower(eff.get("permitrootlogin").args.empty()
                                                  ? "no"
                                                  : eff.get("permitrootlogin").args[0]) == "no"))
      allowed = false;
    if (p.shell.ends_with("/nologin") || p.shell.ends_with("/false"))
      allowed = false;
    if (allowed)
      candidates.push_back(p.name);
  }
  auto akf = eff.get("authorizedkeysfile").args;
  for (auto &name : candidates) {
    const accounts::PasswdEntry *pw = nullptr;
    for (auto &p : accounts.passwd)
      if (p.name == name)
        pw = &p;
    for (auto pattern : akf) {
      // %h home, %u user, %% percent; relative paths are under the home.
      std::string path;
      for (size_t i = 0; i < pattern.size(); ++i) {
        if (pattern[i] == '%' && i + 1 < pattern.size()) {
          char c = pattern[++i];
          path += c == 'h' ? pw->home : c == 'u' ? name : std::string(1, c);
        } else {
          path += pattern[i];
        }
      }
      if (path.empty() || path[0] != '/')
        path = pw->home + "/" + path;
      if (auto text = fs.read_file(path); text && has_key(*text))
        return std::nullopt;
    }
  }
  if (candidates.empty())
    return "no account that may log in over SSH (" + who +
           ", with a login shell) remains: setting it would lock every operator out";
  std::string names;
  for (auto &n : candidates)
    names += (names.empty() ? "" : ", ") + n;
  return "none of the accounts that may log in (" + names +
         ") has a usable key in its AuthorizedKeysFile: setting it would lock every operator out";
}

// ---- the recipe ---------------------------------------------------------------

Result<RecipeOutcome> sshd_option(const RecipeInput &in) {
  Working w(in.fs);
  if (!in.fs.exists(k_main))
    return RecipeOutcome{Refusal{in.spec.id, "", std::string(k_main) + " does not exist"}};
  std::vector<std::string> summary;
  for (auto &[keyword, value] : in.args.set) {
    const ssh::Keyword *kw = ssh::find_keyword(ssh_lower(keyword));
    if (kw == nullptr)
      return Error{"recipe of " + in.spec.id + ": sshd has no keyword " + keyword};
    auto cfg = ssh::parse_sshd_config(w.view(), k_main);
    if (!cfg)
      return cfg.error();
    if (cfg->has_errors())
      return RecipeOutcome{Refusal{in.spec.id, "",
                                   "sshd_config has errors (" + cfg->diagnostics.front().loc.path +
                                       ":" + std::to_string(cfg->diagnostics.front().loc.line) +
                                       "): fix them first"}};
    if (locks_out(kw->name, value))
      if (auto why = no_key_login(w.view(), *cfg, kw->name))
        return RecipeOutcome{Refusal{in.spec.id, "", keyword + " " + value + ": " + *why}};
    const ssh::Line *first = first_global(*cfg, kw);
    bool global_ok = first != nullptr && !weaker(first->args, value);
    if (!global_ok) {
      // 1. The drop-in, when sshd reads it first.
      bool placed = false;
      auto old = w.read(k_ssh_dropin);
      if (!old && !old.error().not_found())
        return old.error();
      std::string dropin = old ? *old : "# Written by bulwark fix: settings sshd reads first.\n";
      std::string line = directive(keyword, value);
      int existing = 0;
      if (old) {
        auto dcfg = ssh::parse_sshd_config_text(w.view(), k_ssh_dropin, *old);
        for (auto &l : dcfg.lines)
          if (l.kind == ssh::Line::Kind::directive && l.keyword == kw && l.loc.path == k_ssh_dropin)
            existing = existing == 0 ? l.loc.line : existing;
      }
      std::string candidate =
          existing ? replace_line(dropin, existing, line) : insert_line(dropin, 1 << 30, line);
      w.write(k_ssh_dropin, candidate);
      if (auto c2 = ssh::parse_sshd_config(w.view(), k_main); c2) {
        const ssh::Line *f2 = first_global(*c2, kw);
        placed = f2 != nullptr && f2->loc.path == k_ssh_dropin && !weaker(f2->args, value);
      }
      if (placed) {
        summary.push_back(line + " in " + k_ssh_dropin);
      } else {
        if (old)
          w.write(k_ssh_dropin, *old);
        else
          w.forget(k_ssh_dropin);
        if (first != nullptr) {
          // 2. The first global line, edited in place.
          std::string text = TRY(w.read(first->loc.path));
          w.write(first->loc.path,
                  replace_line(text, first->loc.line,
                               rewrite(ssh_line_of(text, first->loc.line), *first, value)));
          summary.push_back(line + " at " + first->loc.path + ":" +
                            std::to_string(first->loc.line));
        } else {
          // 3. The top of sshd_config, before any Include or Match.
          std::string text = TRY(w.read(k_main));
          w.write(k_main, insert_line(text, 1, line));
          summary.push_back(line + " at the top of " + std::string(k_main));
        }
      }
    }
    // Match blocks that set it weaker, edited in place.
    auto again = ssh::parse_sshd_config(w.view(), k_main);
    if (!again)
      return again.error();
    for (auto &s : scoped_lines(*again)) {
      if (!s.in_match || s.line->keyword != kw || !weaker(s.line->args, value))
        continue;
      std::string text = TRY(w.read(s.line->loc.path));
      w.write(s.line->loc.path,
              replace_line(text, s.line->loc.line,
                           rewrite(ssh_line_of(text, s.line->loc.line), *s.line, value)));
      summary.push_back(directive(keyword, value) + " in the Match block at " + s.line->loc.path +
                        ":" + std::to_string(s.line->loc.line));
    }
  }
  Action a;
  a.check_id = in.spec.id;
  a.edits = TRY(write_edits(in.fs, w.files()));
  if (a.edits.empty())
    return RecipeOutcome{Refusal{in.spec.id, "",
                                 "the settings are already in place; the check fails for another "
                                 "reason (see the audit's evidence)"}};
  for (auto &s : summary)
    a.summary += (a.summary.empty() ? "" : "; ") + s;
  a.validators = {Validator::sshd};
  a.restart_units = {"ssh.service"};
  return RecipeOutcome{std::move(a)};
}

// sshd-moduli (set: {min-bits: N}): sshd picks diffie-hellman-group-exchange
// groups from /etc/ssh/moduli (dh.c choose_dh), skipping lines it cannot
// parse. The lines of groups under N bits (SIZE field < N - 1, as
// ssh-audit's hardening guides filter it: awk '$5 >= 3071') are removed;
// every other line (comments, the groups kept, lines sshd skips) stays byte
// for byte, so the file holds nothing sshd did not read before. Refused:
// a weak host key (a new one changes the server's identity: every client
// warns; by hand), and a filter that would leave no group (sshd would fall
// back to its built-in ones: the operator's call). sshd -t does not read
// moduli: the re-audit parses the result.
Result<RecipeOutcome> sshd_moduli(const RecipeInput &in) {
  constexpr const char *k_moduli = "/etc/ssh/moduli";
  auto refuse = [&](std::string why) {
    return RecipeOutcome{Refusal{in.spec.id, "sshd", std::move(why)}};
  };
  long min_bits = 3072;
  for (auto &[k, v] : in.args.set)
    if (k == "min-bits") {
      char *end = nullptr;
      min_bits = std::strtol(v.c_str(), &end, 10);
      if (v.empty() || *end != '\0' || min_bits < 1024 || min_bits > 8192)
        return Error{"recipe of " + in.spec.id + ": min-bits '" + v + "' is not 1024..8192"};
    }
  for (const Finding *f : in.findings)
    for (auto &e : f->evidence)
      if (e.context.rfind("HostKey", 0) == 0)
        return refuse("host key " + e.context.substr(8) + " is weak (" + e.found +
                      "): a new host key changes the server's identity and every client warns; "
                      "generate it by hand (ssh-keygen -t ed25519) and tell the users");
  std::string text = TRY(in.fs.read_file(k_moduli, 16 * 1024 * 1024));
  sshkeys::Moduli m = sshkeys::parse_moduli(text, k_moduli);
  std::set<int> drop;
  for (auto &[line, size] : m.groups)
    if (size < min_bits - 1)
      drop.insert(line);
  if (drop.empty())
    return refuse(std::string(k_moduli) + " has no group under " + std::to_string(min_bits) +
                  " bits: the check fails for another reason");
  if (drop.size() == m.groups.size())
    return refuse(std::string("every group of ") + k_moduli + " is under " +
                  std::to_string(min_bits) +
                  " bits: removing them all makes sshd use its built-in groups; decide by hand");
  std::string after;
  int n = 0;
  size_t start = 0;
  while (start < text.size()) {
    size_t nl = text.find('\n', start);
    size_t end = nl == std::string::npos ? text.size() : nl + 1;
    if (!drop.count(++n))
      after.append(text, start, end - start);
    start = end;
  }
  Action a;
  a.check_id = in.spec.id;
  a.subject = "sshd";
  a.edits.push_back(TRY(write_edit(in.fs, k_moduli, after)));
  a.summary = std::to_string(drop.size()) + " Diffie-Hellman group(s) under " +
              std::to_string(min_bits) + " bits removed from " + k_moduli + ", " +
              std::to_string(m.groups.size() - drop.size()) + " kept";
  a.restart_units = {"ssh.service"};
  return RecipeOutcome{std::move(a)};
}

constexpr RecipeKind k_ssh_kinds[] = {{"sshd-option", sshd_option}, {"sshd-moduli", sshd_moduli}};

} // namespace

std::span<const RecipeKind> ssh_recipes() {
  return k_ssh_kinds;
}

} // namespace bulwark::fix
