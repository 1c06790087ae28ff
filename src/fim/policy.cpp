// aide.conf's selection rules, as AIDE 0.18.3 (Debian 12) reads and applies
// them: aide.conf(5) and AIDE's src/conf_lex.l, src/seltree.c.
//
// The format, as far as selection goes:
// - A line is a macro (`@@define VAR value`, `@@undef`, `@@if [not]
//   defined|hostname|exists X`, `@@ifdef`/`@@ifndef`/`@@ifhost`/`@@ifnhost`,
//   `@@else`, `@@endif`, `@@include FILE`, `@@include DIR REGEX [PREFIX]`,
//   `@@x_include` the same, `@@x_include_setenv`), a configuration option
//   (`database_in=...`: not ours, ignored), a group (`NAME = p+u+g-n`), or a
//   rule: `[!|=]REGEX [TYPES] [ATTRIBUTES]`. `@@{VAR}` is replaced everywhere
//   (an undefined variable is the empty string); `\` escapes a space, `@` and
//   itself. aide.conf(5) says `%XX` is a byte; AIDE 0.18.3 matches it
//   literally (a rule `/x/a%20b$` selects the file "a%20b", not "a b", and
//   Debian's 31_aide_apt-listbugs relies on it), and so does bulwark.
// - A rule is stored in the tree node of its regex's literal directory part
//   (strrxtok: up to the last '/' before the first of `(^$?*[`). An entry is
//   judged (check_seltree) from the node of its own directory upwards: the
//   equals rules of that node only (so `=/x` never reaches /x's children),
//   then the selective rules of the deepest node that has a match (first
//   match in a node, in configuration order), and when something matched,
//   the negative rules of every node on the way, which win. A restricted
//   negative rule (`!/x f`) drops the entry but lets the walk descend.
// - Regexes are anchored at the start (an implicit ^), not at the end, and
//   match bytes, not UTF-8 characters. AIDE compiles them with PCRE2; bulwark
//   uses RE2 (Latin-1), which accepts the same syntax except backreferences
//   and lookaround: a rule using those is an error, never silently dropped.
//
// @@x_include runs an executable include and reads its output as
// configuration. bulwark never executes configuration: an executable file
// is skipped with a warning that names it (Debian's 10_aide_year,
// 10_aide_hostname... only define variables, which then expand to "" as
// AIDE's undefined variables do). Non-executable files are included.

#include <bulwark/core/hostfs.hpp>
#include <bulwark/core/text.hpp>
#include <bulwark/fim/fim.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_deploy.hpp>

#include <algorithm>
#include <cerrno>
#include <cstring>
#include <dirent.h>
#include <map>
#include <re2/re2.h>
#include <set>
#include <sys/stat.h>
#include <unistd.h>
#include <unordered_map>

namespace bulwark::fim {

namespace {

constexpr size_t k_max_config = 16 << 20;
constexpr int k_fim_max_include_depth = 16;

uint32_t type_bit(FileType t) {
  return 1u << static_cast<unsigned>(t);
}

} // namespace

// Outside the anonymous namespace: Policy::Impl, a member of a class with
// linkage, holds it (in a unity batch GCC sees this file as a header and
// warns that such a member's type has none).
struct PolicyNodeRules {
  std::vector<size_t> sel, equ, neg;
};

struct Policy::Impl {
  std::vector<PolicyRule> rules;
  std::vector<std::unique_ptr<RE2>> compiled; // parallel to rules
  std::unordered_map<std::string, PolicyNodeRules> nodes;
  std::vector<std::string> warnings;
  // The literal prefixes of the selective and equals rules, for descent.
  std::vector<std::string> prefixes;
  // prefixes[i] is the whole of what the rule matches (a literal then `$`):
  // nothing below it can match.
  std::vector<bool> exact;
  bool match_anything_below_root = false;
  size_t max_node_len = 1; // the longest key of `nodes`

  bool matches(size_t i, std::string_view path, FileType type) const {
    const PolicyRule &r = rules[i];
    if (r.restriction != 0 && (r.restriction & type_bit(type)) == 0)
      return false;
    return compiled[i]->Match(path, 0, path.size(), RE2::ANCHOR_START, nullptr, 0);
  }
  bool regex_matches(size_t i, std::string_view path) const {
    return compiled[i]->Match(path, 0, path.size(), RE2::ANCHOR_START, nullptr, 0);
  }
};

Policy::Policy() : m(std::make_unique<Impl>()) {}
Policy::~Policy() = default;
Policy::Policy(Policy &&) noexcept = default;
Policy &Policy::operator=(Policy &&) noexcept = default;

const std::vector<PolicyRule> &Policy::rules() const {
  return m->rules;
}
const std::vector<std::string> &Policy::warnings() const {
  return m->warnings;
}

Policy::Match Policy::match(std::string_view path, FileType type) const {
  Match out;
  // The nodes that hold rules, from the entry's directory up to "/".
  // Ancestors longer than the longest node cannot be one: skipping them
  // keeps a 10,000-deep path linear.
  std::string_view dir = path;
  if (size_t slash = path.rfind('/'); slash == std::string_view::npos || slash == 0)
    dir = "/";
  else
    dir = path.substr(0, slash);
  auto parent = [](std::string_view p) {
    size_t slash = p.rfind('/');
    return slash == std::string_view::npos || slash == 0 ? std::string_view("/")
                                                         : p.substr(0, slash);
  };
  std::vector<const PolicyNodeRules *> chain;
  const PolicyNodeRules *top = nullptr;
  for (std::string_view p = dir;; p = parent(p)) {
    if (p.size() <= m->max_node_len) {
      if (auto it = m->nodes.find(std::string(p)); it != m->nodes.end()) {
        if (p.size() == dir.size())
          top = &it->second;
        chain.push_back(&it->second);
      }
    }
    if (p == "/")
      break;
  }
  const PolicyRule *rule = nullptr;
  if (top != nullptr)
    for (size_t i : top->equ)
      if (m->matches(i, path, type)) {
        rule = &m->rules[i];
        break;
      }
  for (size_t n = 0; rule == nullptr && n < chain.size(); ++n)
    for (size_t i : chain[n]->sel)
      if (m->matches(i, path, type)) {
        rule = &m->rules[i];
        break;
      }
  if (rule == nullptr)
    return out;
  // Negative rules: from the root down; the first node with a match decides.
  for (size_t n = chain.size(); n-- > 0;)
    for (size_t i : chain[n]->neg)
      if (m->matches(i, path, type)) {
        out.negative = m->rules[i].restriction == 0;
        out.rule = &m->rules[i];
        return out;
      }
  out.selected = true;
  out.attrs = rule->attrs;
  out.rule = rule;
  return out;
}

bool Policy::could_match_below(std::string_view dir) const {
  if (m->match_anything_below_root)
    return true;
  std::string d(dir);
  if (d != "/")
    d += '/';
  for (size_t i = 0; i < m->prefixes.size(); ++i) {
    const std::string &l = m->prefixes[i];
    if (m->exact[i] && l.size() < d.size())
      continue; // `/etc/ssh/sshd_config$` matches nothing below that file
    size_t n = std::min(l.size(), d.size());
    if (l.compare(0, n, d, 0, n) == 0)
      return true; // one is a prefix of the other
  }
  return false;
}

// --- Parsing -----------------------------------------------------------------

namespace {

struct AttrDef {
  const char *name;
  AttrSet bits;
};

// The single attributes AIDE 0.18 knows, by their aide.conf names. Those
// bulwark does not compute map to 0 and are reported once as a warning.
const AttrDef k_attr_names[] = {
    {"ftype", k_ftype},
    {"p", k_perm},
    {"i", k_inode},
    {"n", k_nlink},
    {"u", k_uid},
    {"g", k_gid},
    {"s", k_size},
    {"b", k_blocks},
    {"m", k_mtime},
    {"a", 0},
    {"c", k_ctime},
    {"l", k_link},
    {"S", k_size | k_growing},
    {"I", 0},
    {"ANF", k_allow_new},
    {"ARF", k_allow_removed},
    {"growing", k_growing},
    {"compressed", 0},
    {"md5", k_md5},
    {"sha1", k_sha1},
    {"sha256", k_sha256},
    {"sha512", k_sha512},
    {"rmd160", k_rmd160},
    {"tiger", 0},
    {"haval", 0},
    {"crc32", 0},
    {"crc32b", 0},
    {"gost", 0},
    {"whirlpool", 0},
    {"stribog256", 0},
    {"stribog512", 0},
    {"acl", k_acl},
    {"selinux", k_selinux},
    {"xattrs", k_xattrs},
    {"e2fsattrs", 0},
    {"caps", k_caps},
    {"blake2b512", k_blake2b512},
    {"blake2s256", k_blake2s256},
};

// Options of aide.conf that configure AIDE itself, not selection.
const std::set<std::string, std::less<>> k_options = {
    "database",
    "database_in",
    "database_out",
    "database_new",
    "database_attrs",
    "database_add_metadata",
    "log_level",
    "verbose",
    "gzip_dbout",
    "root_prefix",
    "acl_no_symlink_follow",
    "warn_dead_symlinks",
    "config_version",
    "config_check_warn_unrestricted_rules",
    "num_workers",
    "report_url",
    "report_level",
    "report_format",
    "report_base16",
    "report_detailed_init",
    "report_quiet",
    "report_append",
    "report_grouped",
    "grouped",
    "report_summarize_changes",
    "summarize_changes",
    "report_ignore_added_attrs",
    "report_ignore_removed_attrs",
    "report_ignore_changed_attrs",
    "ignore_list",
    "report_force_attrs",
    "report_attributes",
    "report_ignore_e2fsattrs",
    "syslog_format",
};

// The text every match of `rx` starts with: up to the first character that
// is not literally itself (a quantifier takes back the character before it).
// A top-level alternation has no common prefix: "/" then.
std::string literal_prefix(std::string_view rx) {
  int depth = 0;
  bool in_class = false;
  for (size_t i = 0; i < rx.size(); ++i) {
    char c = rx[i];
    if (c == '\\') {
      ++i;
    } else if (in_class) {
      if (c == ']')
        in_class = false;
    } else if (c == '[') {
      in_class = true;
    } else if (c == '(') {
      ++depth;
    } else if (c == ')') {
      --depth;
    } else if (c == '|' && depth <= 0) {
      return "/";
    }
  }
  std::string out;
  for (size_t i = 0; i < rx.size(); ++i) {
    char c = rx[i];
    if (c == '?' || c == '*' || c == '{') {
      if (!out.empty())
        out.pop_back();
      break;
    }
    if (c == '+' || c == '.' || c == '[' || c == '(' || c == '^' || c == '$' || c == '|')
      break;
    if (c == '\\') {
      if (i + 1 >= rx.size() || std::isalnum(static_cast<unsigned char>(rx[i + 1])))
        break; // \d, \w, \x41...: not one literal character
      c = rx[++i];
      if (i + 1 < rx.size() && (rx[i + 1] == '?' || rx[i + 1] == '*' || rx[i + 1] == '{'))
        break;
      out += c;
      continue;
    }
    out += c;
  }
  return out;
}

// Whether `rx` is literal characters (escapes of non-alphanumerics
// included) followed by one final `$`.
bool is_exact_literal(std::string_view rx) {
  if (rx.size() < 2 || rx.back() != '$')
    return false;
  for (size_t i = 0; i + 1 < rx.size(); ++i) {
    char c = rx[i];
    if (c == '\\') {
      if (i + 2 >= rx.size() || std::isalnum(static_cast<unsigned char>(rx[i + 1])))
        return false;
      ++i;
      continue;
    }
    if (std::string_view(".[]()?*+{}|^$").find(c) != std::string_view::npos)
      return false;
  }
  return true;
}

// strrxtok(): the literal directory part of a rule's regex.
std::string rx_node(std::string_view rx) {
  std::string p(rx);
  if (p.empty())
    return "/";
  p[0] = '/';
  size_t lastslash = 1;
  for (size_t i = 1; i < p.size(); ++i) {
    char c = p[i];
    if (c == '/') {
      lastslash = i;
    } else if (c == '(' || c == '^' || c == '$' || c == '?' || c == '*' || c == '[') {
      break;
    } else if (c == '\\') {
      p.erase(i, 1); // the next character is taken literally
    }
  }
  p.resize(std::min(lastslash, p.size()));
  return p.empty() ? "/" : p;
}

std::string local_hostname() {
  char buf[256] = {};
  if (::gethostname(buf, sizeof buf - 1) != 0)
    return "";
  std::string h = buf;
  if (size_t dot = h.find('.'); dot != std::string::npos)
    h.resize(dot);
  return h;
}

class FimPolicyParser {
public:
  // `fs`: the files (includes, `@@if exists`) are a target's, read through
  // it; null: the host's.
  explicit FimPolicyParser(Policy::Impl &impl, const RootFs *fs = nullptr)
      : m_impl(impl), m_fs(fs) {
    m_vars["HOSTNAME"] = local_hostname();
    m_groups["R"] = k_perm | k_ftype | k_inode | k_link | k_nlink | k_uid | k_gid | k_size |
                    k_mtime | k_ctime | k_md5 | k_extended;
    m_groups["L"] = k_perm | k_ftype | k_inode | k_link | k_nlink | k_uid | k_gid | k_extended;
    m_groups[">"] = k_perm | k_ftype | k_link | k_uid | k_gid | k_inode | k_nlink | k_size |
                    k_growing | k_extended;
    // AIDE's H is every hash it was built with; bulwark's is its strong ones.
    m_groups["H"] = k_sha256 | k_sha512;
    m_groups["X"] = k_extended;
    m_groups["E"] = 0;
  }

  Result<Unit> parse_text(std::string_view text, const std::string &file, int depth,
                          const std::string &prefix, bool allow_includes) {
    int line_no = 0;
    size_t cond_depth_at_start = m_conds.size();
    for (std::string_view rest = text; !rest.empty();) {
      size_t nl = rest.find('\n');
      std::string_view raw = rest.substr(0, nl);
      rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
      ++line_no;
      std::string_view line = text::trim(raw);
      if (line.empty() || line.front() == '#')
        continue;
      auto r = parse_line(line, file, line_no, depth, prefix, allow_includes);
      if (!r)
        return r.error();
    }
    if (m_conds.size() != cond_depth_at_start)
      return Error{"@@if without @@endif", file, line_no};
    return Unit{};
  }

private:
  Error err(std::string msg, const std::string &file, int line) {
    return Error{std::move(msg), file, line};
  }

  bool active() const {
    for (auto &c : m_conds)
      if (!c.taking)
        return false;
    return true;
  }

  // @@{VAR} replaced by its value ("" when undefined), `\@` kept literal.
  std::string expand(std::string_view s) const {
    std::string out;
    for (size_t i = 0; i < s.size(); ++i) {
      if (s[i] == '\\' && i + 1 < s.size()) {
        out += s[i];
        out += s[++i];
        continue;
      }
      if (s.substr(i, 3) == "@@{") {
        size_t close = s.find('}', i + 3);
        if (close != std::string_view::npos) {
          auto it = m_vars.find(std::string(s.substr(i + 3, close - i - 3)));
          if (it != m_vars.end())
            out += it->second;
          i = close;
          continue;
        }
      }
      out += s[i];
    }
    return out;
  }

  // Splits at unescaped blanks and removes the escapes (`\ `, `\@`, `\\`).
  // With `vars`, an unescaped @@{VAR} is replaced by the variable's value
  // as it is: AIDE unescapes a line before it substitutes, so a value
  // defined as `[-a-z\\\\]+` reaches the regex as `[-a-z\\]+`.
  static std::vector<std::string> tokens(std::string_view s,
                                         const std::map<std::string, std::string> *vars = nullptr,
                                         std::string *undefined = nullptr) {
    std::vector<std::string> out;
    std::string cur;
    bool have = false;
    for (size_t i = 0; i < s.size(); ++i) {
      char c = s[i];
      if (c == '\\' && i + 1 < s.size() &&
          (s[i + 1] == ' ' || s[i + 1] == '@' || s[i + 1] == '\\')) {
        cur += s[++i];
        have = true;
      } else if (vars != nullptr && s.substr(i, 3) == "@@{" &&
                 s.find('}', i + 3) != std::string_view::npos) {
        size_t close = s.find('}', i + 3);
        std::string name(s.substr(i + 3, close - i - 3));
        if (auto it = vars->find(name); it != vars->end())
          cur += it->second;
        else if (undefined != nullptr && undefined->empty())
          *undefined = name;
        have = true;
        i = close;
      } else if (c == ' ' || c == '\t') {
        if (have)
          out.push_back(std::move(cur));
        cur.clear();
        have = false;
      } else {
        cur += c;
        have = true;
      }
    }
    if (have)
      out.push_back(std::move(cur));
    return out;
  }

  Result<AttrSet> attr_expr(std::string_view expr, const std::string &file, int line) {
    AttrSet set = 0;
    char op = '+';
    size_t i = 0;
    bool first = true;
    while (i <= expr.size()) {
      size_t j = i;
      // A term runs to the next + or -, except the group name ">" itself.
      if (j < expr.size() && expr[j] == '>')
        ++j;
      while (j < expr.size() && expr[j] != '+' && expr[j] != '-')
        ++j;
      std::string term(expr.substr(i, j - i));
      if (term.empty())
        return err("empty attribute in '" + std::string(expr) + "'", file, line);
      AttrSet bits = 0;
      if (auto g = m_groups.find(term); g != m_groups.end()) {
        bits = g->second;
      } else {
        bool known = false;
        for (auto &a : k_attr_names)
          if (term == a.name) {
            known = true;
            bits = a.bits;
            if (bits == 0 && m_warned.insert(term).second)
              m_impl.warnings.push_back(file + ":" + std::to_string(line) + ": attribute '" + term +
                                        "' is not recorded by bulwark; ignored");
          }
        if (!known)
          return err("unknown attribute or group '" + term + "'", file, line);
      }
      if (first || op == '+')
        set |= bits;
      else
        set &= ~bits;
      first = false;
      if (j >= expr.size())
        break;
      op = expr[j];
      i = j + 1;
    }
    return set;
  }

  Result<uint32_t> restriction(std::string_view s, const std::string &file, int line) {
    uint32_t bits = 0;
    for (const auto &part : text::split(s, ',')) {
      std::string_view p = text::trim(part);
      if (p == "f")
        bits |= type_bit(FileType::regular);
      else if (p == "d")
        bits |= type_bit(FileType::directory);
      else if (p == "l")
        bits |= type_bit(FileType::symlink);
      else if (p == "c")
        bits |= type_bit(FileType::chardev);
      else if (p == "b")
        bits |= type_bit(FileType::blockdev);
      else if (p == "p")
        bits |= type_bit(FileType::fifo);
      else if (p == "s")
        bits |= type_bit(FileType::socket);
      else if (p == "D" || p == "P")
        bits |= 1u << 30; // Solaris doors and event ports: never on Linux
      else if (p == "0")
        continue;
      else
        return err("unknown file type restriction '" + std::string(p) + "'", file, line);
    }
    return bits;
  }

  static bool looks_like_restriction(std::string_view s) {
    if (s.empty())
      return false;
    for (const auto &part : text::split(s, ',')) {
      std::string_view p = text::trim(part);
      if (p.size() != 1 || std::string_view("fdlcbpsDP0").find(p[0]) == std::string_view::npos)
        return false;
    }
    return true;
  }

  Result<Unit> rule(std::vector<std::string> tok, const std::string &file, int line_no,
                    const std::string &prefix) {
    PolicyRule r;
    r.file = file;
    r.line = line_no;
    if (tok[0].front() == '!') {
      r.kind = PolicyRule::Kind::negative;
      tok[0].erase(0, 1);
    } else if (tok[0].front() == '=') {
      r.kind = PolicyRule::Kind::equals;
      tok[0].erase(0, 1);
    }
    if (tok.empty() || tok[0].empty() || (tok[0][0] != '/' && prefix.empty()))
      return err("a rule's regular expression must start with '/'", file, line_no);
    r.regex = prefix + tok[0];
    size_t next = 1;
    if (r.kind == PolicyRule::Kind::negative) {
      if (tok.size() > 2)
        return err("a negative rule takes a regex and file types only", file, line_no);
      if (tok.size() == 2)
        r.restriction = TRY(restriction(tok[1], file, line_no));
    } else {
      if (tok.size() == 3) {
        r.restriction = TRY(restriction(tok[1], file, line_no));
        next = 2;
      } else if (tok.size() != 2) {
        return err("a rule takes a regex, optional file types and attributes", file, line_no);
      }
      r.attrs = TRY(attr_expr(tok[next], file, line_no));
    }
    RE2::Options opt;
    opt.set_encoding(RE2::Options::EncodingLatin1);
    opt.set_log_errors(false);
    opt.set_max_mem(8 << 20);
    auto re = std::make_unique<RE2>(r.regex, opt);
    if (!re->ok())
      return err("rule '" + r.regex + "': " + re->error(), file, line_no);
    std::string node = rx_node(r.regex);
    if (node.find("//") != std::string::npos) // AIDE 0.18 refuses it too
      return err("rule '" + r.regex + "': invalid double slash", file, line_no);
    if (r.kind != PolicyRule::Kind::negative) {
      std::string lp = literal_prefix(r.regex);
      if (lp.size() <= 1)
        m_impl.match_anything_below_root = true;
      m_impl.exact.push_back(is_exact_literal(r.regex));
      m_impl.prefixes.push_back(std::move(lp));
    }
    size_t index = m_impl.rules.size();
    m_impl.max_node_len = std::max(m_impl.max_node_len, node.size());
    PolicyNodeRules &n = m_impl.nodes[node];
    (r.kind == PolicyRule::Kind::negative ? n.neg
     : r.kind == PolicyRule::Kind::equals ? n.equ
                                          : n.sel)
        .push_back(index);
    m_impl.rules.push_back(std::move(r));
    m_impl.compiled.push_back(std::move(re));
    return Unit{};
  }

  Result<bool> condition(std::vector<std::string> words, const std::string &file, int line) {
    bool negate = false;
    size_t i = 0;
    while (i < words.size() && words[i] == "not") {
      negate = !negate;
      ++i;
    }
    if (i + 2 != words.size())
      return err("@@if: expected 'defined VAR', 'hostname NAME' or 'exists PATH'", file, line);
    bool v;
    if (words[i] == "defined")
      v = m_vars.count(words[i + 1]) != 0;
    else if (words[i] == "hostname")
      v = words[i + 1] == local_hostname();
    else if (words[i] == "exists") {
      struct stat st;
      v = m_fs != nullptr ? m_fs->lstat(words[i + 1]).ok()
                          : ::lstat(words[i + 1].c_str(), &st) == 0;
    } else
      return err("@@if: unknown function '" + words[i] + "'", file, line);
    return negate ? !v : v;
  }

  Result<Unit> include(const std::vector<std::string> &args, bool executable_ok,
                       const std::string &file, int line, int depth, const std::string &prefix,
                       bool allow_includes) {
    if (!allow_includes)
      return err("@@include is not allowed here", file, line);
    if (depth + 1 > k_fim_max_include_depth)
      return err("@@include nested deeper than 16", file, line);
    if (args.empty() || args.size() > 3)
      return err("@@include takes FILE, or DIRECTORY REGEX [RULE_PREFIX]", file, line);
    std::vector<std::string> files;
    std::string sub_prefix = prefix;
    if (args.size() == 1) {
      files.push_back(args[0]);
    } else {
      if (args.size() == 3)
        sub_prefix += args[2];
      RE2 re(args[1]);
      if (!re.ok())
        return err("@@include: regex '" + args[1] + "': " + re.error(), file, line);
      if (m_fs != nullptr) {
        auto names = m_fs->list_dir(args[0]);
        if (!names)
          return Error{"cannot open include directory: " + names.error().message, args[0], 0,
                       names.error().sys_errno};
        for (auto &name : *names) {
          if (!RE2::PartialMatch(name, re))
            continue;
          std::string full = args[0] + "/" + name;
          auto st = m_fs->stat(full);
          if (st && st->type == FileInfo::Type::regular)
            files.push_back(full); // sub-directories are ignored, as AIDE does
        }
      } else {
        DIR *d = ::opendir(args[0].c_str());
        if (d == nullptr)
          return Error{"cannot open include directory: " + std::string(std::strerror(errno)),
                       args[0], 0, errno};
        while (struct dirent *de = ::readdir(d)) {
          std::string name = de->d_name;
          if (name == "." || name == "..")
            continue;
          if (!RE2::PartialMatch(name, re))
            continue;
          std::string full = args[0] + "/" + name;
          struct stat st;
          if (::stat(full.c_str(), &st) != 0 || !S_ISREG(st.st_mode))
            continue; // sub-directories are ignored, as AIDE does
          files.push_back(full);
        }
        ::closedir(d);
      }
      std::sort(files.begin(), files.end());
    }
    for (auto &f : files) {
      bool executable = false;
      if (m_fs != nullptr) {
        auto st = m_fs->stat(f);
        executable = st && st->type == FileInfo::Type::regular && (st->mode & 0111) != 0;
      } else {
        struct stat st;
        executable = ::stat(f.c_str(), &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 0111) != 0;
      }
      if (executable_ok && executable) {
        m_impl.warnings.push_back(file + ":" + std::to_string(line) + ": @@x_include: " + f +
                                  " is executable; bulwark never runs configuration, skipped "
                                  "(variables it would define expand to \"\")");
        continue;
      }
      auto text = m_fs != nullptr
                      ? m_fs->read_file(f, k_max_config)
                      : HostFs::read_file(f, k_max_config, "cannot read included aide.conf: ");
      if (!text)
        return text.error();
      TRY(parse_text(*text, f, depth + 1, sub_prefix, allow_includes));
    }
    return Unit{};
  }

  Result<Unit> parse_line(std::string_view line, const std::string &file, int line_no, int depth,
                          const std::string &prefix, bool allow_includes) {
    if (line.substr(0, 3) == "@@{") // AIDE: "unexpected character: '@'"
      return err("a line cannot start with a variable; a rule starts with '/', '!' or '='", file,
                 line_no);
    if (line.substr(0, 2) == "@@") {
      auto words = tokens(line);
      std::string kw = words[0].substr(2);
      std::vector<std::string> args(words.begin() + 1, words.end());
      if (kw == "if" || kw == "ifdef" || kw == "ifndef" || kw == "ifhost" || kw == "ifnhost") {
        bool v = false;
        if (active()) {
          if (kw == "if") {
            v = TRY(condition(args, file, line_no));
          } else {
            if (args.size() != 1)
              return err("@@" + kw + " takes one argument", file, line_no);
            if (kw == "ifdef" || kw == "ifndef")
              v = m_vars.count(args[0]) != 0;
            else
              v = args[0] == local_hostname();
            if (kw == "ifndef" || kw == "ifnhost")
              v = !v;
          }
        }
        m_conds.push_back({v, false});
        return Unit{};
      }
      if (kw == "else") {
        if (m_conds.empty() || m_conds.back().in_else)
          return err("@@else without @@if", file, line_no);
        m_conds.back().in_else = true;
        m_conds.back().taking = !m_conds.back().taking;
        return Unit{};
      }
      if (kw == "endif") {
        if (m_conds.empty())
          return err("@@endif without @@if", file, line_no);
        m_conds.pop_back();
        return Unit{};
      }
      if (!active())
        return Unit{};
      if (kw == "define") {
        if (args.empty())
          return err("@@define takes a name and a value", file, line_no);
        std::string value;
        for (size_t i = 1; i < args.size(); ++i)
          value += (i > 1 ? " " : "") + args[i];
        m_vars[args[0]] = expand(value);
        return Unit{};
      }
      if (kw == "undef") {
        if (args.size() != 1)
          return err("@@undef takes a name", file, line_no);
        m_vars.erase(args[0]);
        return Unit{};
      }
      if (kw == "include" || kw == "x_include") {
        for (auto &a : args)
          a = expand(a);
        return include(args, kw == "x_include", file, line_no, depth, prefix, allow_includes);
      }
      if (kw == "x_include_setenv")
        return Unit{}; // the environment of executed includes: none are run
      return err("unknown macro '@@" + kw + "'", file, line_no);
    }
    if (!active())
      return Unit{};
    std::string undefined;
    auto tok = tokens(line, &m_vars, &undefined);
    if (tok.empty())
      return Unit{};
    char first = tok[0].empty() ? '\0' : tok[0].front();
    if (first == '/' || first == '!' || first == '=') {
      // AIDE expands an undefined variable to "". Here a variable is
      // mostly undefined because the executable include that defines it
      // was not run, and the rule would be a different one: say so.
      if (!undefined.empty()) {
        m_impl.warnings.push_back(file + ":" + std::to_string(line_no) + ": rule uses @@{" +
                                  undefined + "}, which is not defined; rule skipped");
        return Unit{};
      }
      return rule(std::move(tok), file, line_no, prefix);
    }
    std::string expanded = expand(line);
    std::string_view l = text::trim(expanded);
    size_t eq = l.find('=');
    if (eq == std::string_view::npos)
      return err("expected a rule, a group definition or an option", file, line_no);
    std::string name(text::trim(l.substr(0, eq)));
    std::string value(text::trim(l.substr(eq + 1)));
    if (k_options.count(name) != 0)
      return Unit{}; // AIDE's own settings: databases, reports, workers
    if (name.empty() || !std::all_of(name.begin(), name.end(), [](char c) {
          return std::isalnum(static_cast<unsigned char>(c)) != 0;
        }))
      return err("unknown option '" + name + "'", file, line_no);
    m_groups[name] = TRY(attr_expr(value, file, line_no));
    return Unit{};
  }

  struct Cond {
    bool taking;
    bool in_else;
  };

  Policy::Impl &m_impl;
  const RootFs *m_fs = nullptr;
  std::map<std::string, std::string> m_vars;
  std::map<std::string, AttrSet> m_groups;
  std::set<std::string> m_warned;
  std::vector<Cond> m_conds;
};

} // namespace

Result<Policy> Policy::parse(std::string_view text, const std::string &name, bool allow_includes) {
  Policy p;
  FimPolicyParser parser(*p.m);
  TRY(parser.parse_text(text, name, 0, "", allow_includes));
  return p;
}

Result<Policy> Policy::load_aide_config(const std::string &host_path) {
  auto text = HostFs::read_file(host_path, k_max_config, "cannot read aide.conf: ");
  if (!text)
    return text.error();
  return parse(*text, host_path, true);
}

Result<Policy> Policy::load_aide_config(const RootFs &fs, const std::string &target_path) {
  auto text = fs.read_file(target_path, k_max_config);
  if (!text)
    return text.error();
  Policy p;
  FimPolicyParser parser(*p.m, &fs);
  TRY(parser.parse_text(*text, target_path, 0, "", true));
  return p;
}

std::string_view Policy::builtin_text() {
  // What the guides name (000 "Verify integrity"; 003 §5 "monitor file
  // integrity with AIDE or Tripwire"): the binaries and libraries, /etc
  // (sshd, sudo, PAM, cron, systemd units under it), the units and cron
  // tables elsewhere, the boot files, root's SSH keys.
  return R"(# bulwark fim: default policy (aide.conf syntax)
NORMAL = p+ftype+i+n+u+g+s+m+c+l+sha256+X
DIR = p+ftype+i+n+u+g+m+c+X
LOG = p+ftype+u+g+X
/bin NORMAL
/sbin NORMAL
/lib NORMAL
/lib32 NORMAL
/lib64 NORMAL
/libx32 NORMAL
/usr/bin NORMAL
/usr/sbin NORMAL
/usr/lib NORMAL
/usr/lib32 NORMAL
/usr/lib64 NORMAL
/usr/libexec NORMAL
/usr/local/bin NORMAL
/usr/local/sbin NORMAL
/usr/local/lib NORMAL
/boot NORMAL
/opt NORMAL
/etc NORMAL
/root/\.ssh NORMAL
/var/spool/cron NORMAL
!/usr/lib/python3[^/]*/.*/__pycache__$
!/etc/mtab$
!/etc/adjtime$
!/etc/\.updated$
/etc/resolv\.conf$ LOG
/etc/machine-id$ LOG
/etc/ld\.so\.cache$ LOG
)";
}

namespace {

// `path` as a literal in a selection line: regex metacharacters escaped,
// and the blank and `@` escaped as aide.conf's line syntax wants them.
std::string literal(const std::string &path) {
  std::string out;
  for (char c : path) {
    if (std::strchr(".^$|()[]{}*+?\\", c) != nullptr || c == ' ' || c == '@')
      out += '\\';
    out += c;
  }
  return out;
}

bool covered_by_builtin(const std::string &path) {
  return path.starts_with("/etc/") || path.starts_with("/opt/");
}

} // namespace

std::string Policy::compose_text(const RootFs &fs) {
  // Guide 000 deploys with compose files, an .env, environment overrides in
  // subdirectories (environments/production.yml) and a deploy script in the
  // project directory; docker secrets are files the compose files name.
  // Selected: every file directly in a project directory (not its data
  // directories' contents), every file the project reads, its env files,
  // and each `secrets:`/`configs:` `file:`.
  std::string out;
  std::set<std::string> dirs, files;
  auto reader = compose::root_reader(fs);
  // The projects as Compose finds them by their default names, and as the
  // deploy scripts, units and COMPOSE_FILE name them (guide 000's
  // `docker stack deploy --compose-file ... --compose-file
  // environments/production.yml`).
  std::vector<std::string> project_dirs; // and the .env-only directories
  std::vector<std::vector<std::string>> sets = compose::discover(fs, 4, &project_dirs);
  for (auto &set : sets)
    if (!set.empty())
      project_dirs.push_back(set.front().substr(0, set.front().rfind('/')));
  // An empty COMPOSE_FILE entry is the project directory itself (which
  // Compose refuses to read): the files to watch are the others, and the
  // directory, not its parent, is the project's.
  std::set<std::string> known_dirs(project_dirs.begin(), project_dirs.end());
  for (auto &d : compose::find_deploy_file_sets(fs, project_dirs)) {
    std::vector<std::string> named;
    for (auto &f : d.files)
      if (!known_dirs.count(f))
        named.push_back(f);
    if (!named.empty())
      sets.push_back(std::move(named));
    files.insert(d.source);
  }
  for (auto &set : sets) {
    compose::Project p = compose::load_project(reader, set);
    if (!p.directory.empty())
      dirs.insert(p.directory);
    files.insert(p.files.begin(), p.files.end());
    files.insert(p.env_files.begin(), p.env_files.end());
    for (const char *kind : {"secrets", "configs"}) {
      const compose::Value *m = p.root.find(kind);
      if (m == nullptr || !m->is_mapping())
        continue;
      for (auto &[name, v] : m->entries) {
        const compose::Value *file = v.is_mapping() ? v.find("file") : nullptr;
        if (file != nullptr && file->is_scalar() && !file->str().empty())
          files.insert(p.resolve(file->where(), file->str()));
      }
    }
  }
  auto usable = [](const std::string &path) {
    return path.size() > 1 && path.front() == '/' &&
           path.find_first_of("\\\n") == std::string::npos;
  };
  for (auto &d : dirs)
    if (usable(d) && !covered_by_builtin(d + "/"))
      out += literal(d) + "/[^/]+$ NORMAL\n";
  for (auto &f : files)
    if (usable(f) && !covered_by_builtin(f))
      out += literal(f) + "$ NORMAL\n";
  return out;
}

Result<Policy> Policy::builtin(const RootFs &fs) {
  std::string text(builtin_text());
  std::string extra = compose_text(fs);
  if (!extra.empty())
    text += "# the compose projects found in the root\n" + extra;
  return parse(text, "<builtin policy>");
}

Policy Policy::builtin() {
  auto p = parse(builtin_text(), "<builtin policy>");
  if (!p)
    throw FatalError("the built-in fim policy does not parse: " + p.error().to_string(),
                     exit_code::k_cannot_run);
  return std::move(p).value();
}

} // namespace bulwark::fim
