// PAM stacks read the way libpam 1.5.2 of Debian 12 reads them, and the
// settings of pam_pwquality (libpwquality 1.4.5) and pam_faillock.
//
// What a grep of /etc/pam.d gets wrong (Linux-PAM 1.5.2 libpam/pam_handlers.c
// _pam_assemble_line, _pam_parse_conf_file, _pam_load_conf_file,
// _pam_init_handlers; pam_misc.c _pam_StrTok, _pam_mkargv, _pam_parse_control;
// pam_dispatch.c _pam_dispatch_aux; Debian patches 031_pam_include and
// 045_pam_dispatch_jump_is_ignore; read from the pam 1.5.2-6+deb12u2 source):
// - Lines. fgets() into a 1024-byte buffer: a physical line longer than 1023
//   bytes is cut, and its rest read as the next line. '#' anywhere ends the
//   line (even inside [..]). A trailing backslash (before blanks) joins the
//   next line, and blank or comment lines in between are skipped, not ended
//   on. A continuation that fills the buffer, or a file that ends inside a
//   continuation, aborts the file (PAM_ABORT). A NUL ends the line's text.
//   Only space, tab and newline separate tokens: a '\r' is part of a token.
// - Tokens. A token starting with '[' runs to the first ']' not written
//   "\]" (which becomes "]"), blanks included; without ']' to the line's end.
// - Fields. The type is case-insensitive, a leading '-' keeps a missing
//   module quiet. An unknown type, no control or no module make a handler
//   that always fails (PAM_PERM_DENIED). required/requisite/optional/
//   sufficient (case-insensitive) set actions; anything else is parsed as
//   `value=action` pairs by prefix match, and any error makes every value
//   "bad". Unset values default to "bad".
// - Includes. `include` and `substack` read another file for this type only;
//   Debian's `@include FILE` (type field) reads it for the requested type,
//   which at the top of a service file is every type. Relative names are
//   under /etc/pam.d. A file that cannot be read gives a must-fail handler,
//   except for a top-level `@include`, whose handler has no type: libpam
//   returns PAM_ABORT and pam_start() fails. Only substacks count towards
//   PAM_SUBSTACK_MAX_LEVEL (16); an include loop recurses until fopen()
//   fails with EMFILE; we stop at opts.max_include_depth and report it.
// - Services. The service file (if present) then /etc/pam.d/other are read;
//   a type the service has no handler for runs "other"'s. A service file that
//   aborts makes pam_start() fail.
// - Modules. A module that cannot be loaded stays in the stack and returns
//   PAM_MODULE_UNKNOWN when run (e.g. pam_tally2 and pam_cracklib, which
//   Debian 12 no longer ships). A module whose name reduces to "" aborts.
// - Dispatch. Per handler: ok/done set a positive verdict unless a negative
//   one was set; done/die end the current (sub)stack; bad/die set a negative
//   verdict once; reset restores the verdict at the substack's start; a jump
//   skips N handlers of the same level (Debian: the jumping module itself
//   counts as ignored); a jump past the end fails the stack.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/pam.hpp>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstring>
#include <set>
#include <tuple>

namespace bulwark::pam {

std::string_view to_string(Type t) {
  switch (t) {
  case Type::auth: return "auth";
  case Type::account: return "account";
  case Type::password: return "password";
  case Type::session: return "session";
  }
  return "?";
}

namespace {

constexpr int k_undef = -6;
constexpr int k_any = -1; // PAM_T_ANY
constexpr size_t k_buf_size = 1024;
constexpr int k_substack_max_level = 16;

constexpr const char *k_actions[] = {"ignore", "ok", "done", "bad", "die", "reset"};
constexpr const char *k_returns[] = {"success",
                                     "open_err",
                                     "symbol_err",
                                     "service_err",
                                     "system_err",
                                     "buf_err",
                                     "perm_denied",
                                     "auth_err",
                                     "cred_insufficient",
                                     "authinfo_unavail",
                                     "user_unknown",
                                     "maxtries",
                                     "new_authtok_reqd",
                                     "acct_expired",
                                     "session_err",
                                     "cred_unavail",
                                     "cred_expired",
                                     "cred_err",
                                     "no_module_data",
                                     "conv_err",
                                     "authtok_err",
                                     "authtok_recover_err",
                                     "authtok_lock_busy",
                                     "authtok_disable_aging",
                                     "try_again",
                                     "ignore",
                                     "abort",
                                     "authtok_expired",
                                     "module_unknown",
                                     "bad_item",
                                     "conv_again",
                                     "incomplete",
                                     "default"};

bool is_sep(char c) {
  return c == ' ' || c == '\n' || c == '\t';
}

// _pam_assemble_line() over a buffer, with the physical line numbers.
class Assembler {
public:
  enum class Status { line, eof, error };
  explicit Assembler(std::string_view text) : m_text(text) {}

  // `line` is the assembled C string, `first` the physical line its first
  // text came from.
  Status next(std::string &line, int &first, std::string &why) {
    std::string buf;
    size_t p = 0;
    size_t used = 0;
    first = 0;
    for (;;) {
      if (p >= k_buf_size - 1) {
        // fgets() with room for one byte reads nothing and returns "": libpam
        // takes it as a blank line and calls fgets() again, forever.
        why = "a continued line fills libpam's 1024-byte buffer: libpam 1.5.2 loops forever "
              "here (pam_start hangs)";
        return Status::error;
      }
      int chunk_line = m_line;
      std::string chunk;
      if (!fgets(chunk, k_buf_size - p)) {
        if (used) {
          why = "the file ends inside a continued line (trailing backslash): libpam aborts the "
                "file";
          return Status::error;
        }
        return Status::eof;
      }
      buf.resize(p);
      buf += chunk;
      // The C string from p: up to the first NUL.
      std::string_view cs(buf.c_str() + p);
      size_t s = 0;
      while (s < cs.size() && is_sep(cs[s]))
        ++s;
      if (s < cs.size() && cs[s] != '#') {
        if (first == 0)
          first = chunk_line;
        size_t os = p + s;
        size_t hash = cs.find('#', s);
        if (hash != std::string_view::npos) {
          buf.resize(p + hash);
          used += hash - s;
          break;
        }
        size_t end = p + cs.size();
        size_t q = end;
        while (q > os && (buf[q - 1] == ' ' || buf[q - 1] == '\t' || buf[q - 1] == '\n'))
          --q;
        // libpam's scan stops on the character it tests, so a line of only
        // blanks after os cannot occur here (os is not blank).
        if (q > os && buf[q - 1] == '\\') {
          buf[q - 1] = ' ';
          buf.resize(q);
          used += q - os;
          p = q;
        } else {
          buf.resize(end);
          used += end - os;
          break;
        }
      }
    }
    line.assign(buf, 0, buf.find('\0')); // a NUL ends the line, as in C
    return Status::line;
  }

private:
  // fgets(s, n): at most n-1 bytes, up to and including '\n'.
  bool fgets(std::string &out, size_t n) {
    if (m_pos >= m_text.size())
      return false;
    size_t max = n - 1;
    size_t nl = m_text.find('\n', m_pos);
    size_t len = nl == std::string_view::npos ? m_text.size() - m_pos : nl - m_pos + 1;
    len = std::min(len, max);
    out.assign(m_text.substr(m_pos, len));
    m_pos += len;
    if (!out.empty() && out.back() == '\n')
      ++m_line;
    return true;
  }

  std::string_view m_text;
  size_t m_pos = 0;
  int m_line = 1;
};

// _pam_StrTok(from, " \n\t", &next) over a std::string; pos is `next`.
std::optional<std::string> str_tok(const std::string &s, size_t &pos) {
  if (pos == std::string::npos)
    return std::nullopt;
  while (pos < s.size() && is_sep(s[pos]))
    ++pos;
  if (pos >= s.size()) {
    pos = std::string::npos;
    return std::nullopt;
  }
  std::string tok;
  size_t end;
  if (s[pos] == '[') {
    end = pos + 1;
    for (; end < s.size() && s[end] != ']'; ++end) {
      if (s[end] == '\\' && end + 1 < s.size() && s[end + 1] == ']')
        ++end;
      tok += s[end];
    }
  } else {
    end = pos;
    while (end < s.size() && !is_sep(s[end]))
      ++end;
    tok = s.substr(pos, end - pos);
  }
  if (end < s.size())
    ++end; // the terminator is consumed
  pos = end < s.size() ? end : std::string::npos;
  return tok;
}

bool pam_conf_isspace(char c) {
  return c == ' ' || (c >= '\t' && c <= '\r');
}

// _pam_parse_control(). Returns an error message, "" when fine.
std::string parse_control(std::array<int, ret::count> &a, const std::string &tok) {
  size_t i = 0;
  auto fail = [&](const char *why) {
    a.fill(act::bad);
    return std::string(why) + " at \"" + text::printable(tok.substr(std::min(i, tok.size()))) +
           "\"";
  };
  while (i < tok.size()) {
    while (i < tok.size() && pam_conf_isspace(tok[i]))
      ++i;
    if (i >= tok.size())
      break;
    int r = 0;
    size_t len = 0;
    for (; r <= ret::count; ++r) {
      len = std::strlen(k_returns[r]);
      if (tok.compare(i, len, k_returns[r]) == 0)
        break;
    }
    if (r > ret::count || i + len >= tok.size())
      return fail("expecting return value");
    i += len;
    while (i < tok.size() && pam_conf_isspace(tok[i]))
      ++i;
    if (i >= tok.size() || tok[i++] != '=')
      return fail("expecting '='");
    while (i < tok.size() && pam_conf_isspace(tok[i]))
      ++i;
    if (i >= tok.size())
      return fail("expecting action");
    int action = 6;
    for (int k = 0; k < 6; ++k) {
      size_t l = std::strlen(k_actions[k]);
      if (tok.compare(i, l, k_actions[k]) == 0) {
        action = -k;
        i += l;
        break;
      }
    }
    if (action > 0) {
      if (i >= tok.size() || tok[i] < '0' || tok[i] > '9')
        return fail("expecting jump number");
      long n = 0;
      while (i < tok.size() && tok[i] >= '0' && tok[i] <= '9') {
        n = n * 10 + (tok[i] - '0');
        n = std::min(n, long(INT_MAX / 10)); // libpam overflows; any huge jump fails alike
        ++i;
      }
      if (n == 0)
        return fail("expecting non-zero");
      action = static_cast<int>(n);
    }
    if (r != ret::count)
      a[r] = action;
    else
      for (int &x : a)
        if (x == k_undef)
          x = action;
  }
  return "";
}

void set_default(std::array<int, ret::count> &a, int action) {
  for (int &x : a)
    if (x == k_undef)
      x = action;
}

// extract_modulename(): basename without the last extension.
std::string module_name(const std::string &path) {
  size_t slash = path.rfind('/');
  std::string base = slash == std::string::npos ? path : path.substr(slash + 1);
  size_t dot = base.rfind('.');
  if (dot != std::string::npos)
    base.resize(dot);
  return base;
}

enum class Parse { ok, abort };

struct PamStackLoader {
  const FileReader &read;
  const ModuleProbe &probe;
  const LoadOptions &opts;
  Service &svc;
  std::vector<std::string> chain; // files being read, for loop detection
  std::vector<SourceLocation> via;
  size_t included_files = 0;
  size_t total_bytes = 0;
  size_t included_lines = 0;
  bool budget_spent = false; // every include fails from here on, silently

  void diag(Diagnostic::Level l, std::string msg, const std::string &path, int line) {
    svc.diagnostics.push_back(Diagnostic{l, std::move(msg), {path, line}});
  }

  Parse add(bool other, Handler h) {
    if (h.type == static_cast<Type>(k_any)) {
      diag(Diagnostic::Level::error,
           "a failed top-level @include gives a handler without a type: libpam aborts "
           "(pam_start fails)",
           h.loc.path, h.loc.line);
      return Parse::abort;
    }
    h.via = via;
    if (!h.must_fail && !h.substack && !h.module.empty()) {
      h.name = module_name(h.module);
      if (h.name.empty() || h.name == "?") {
        diag(Diagnostic::Level::error,
             "module name \"" + text::printable(h.module) +
                 "\" reduces to nothing: libpam aborts (pam_start fails)",
             h.loc.path, h.loc.line);
        return Parse::abort;
      }
      if (probe) {
        auto present = probe(h.module);
        if (present && !*present) {
          h.module_missing = true;
          if (!h.silent)
            diag(Diagnostic::Level::warning,
                 "module " + text::printable(h.module) +
                     " is not installed: it returns PAM_MODULE_UNKNOWN",
                 h.loc.path, h.loc.line);
        }
      }
    } else if (h.name.empty()) {
      h.name = h.substack ? module_name(h.module) : "<*unknown module*>";
    }
    auto &lists = other ? svc.other : svc.conf;
    lists[static_cast<size_t>(h.type)].push_back(std::move(h));
    return Parse::ok;
  }

  // The budget ran out at `from` (an include line, or the line past the
  // limit): one error, and the service aborts (every caller up the include
  // chain sees the abort through budget_spent).
  Parse spend(const std::string &what, const SourceLocation &from) {
    budget_spent = true;
    diag(Diagnostic::Level::error,
         "the service " + what + " (an include fan-out?); the rest is not read", from.path,
         from.line);
    return Parse::abort;
  }

  // _pam_load_conf_file(): true when the file was read without abort.
  Parse load(const std::string &path, bool other, int type, int level, const SourceLocation &from) {
    if (level >= k_substack_max_level) {
      diag(Diagnostic::Level::error, "maximum level of substacks (16) reached", from.path,
           from.line);
      return Parse::abort;
    }
    if (static_cast<int>(chain.size()) >= opts.max_include_depth ||
        std::find(chain.begin(), chain.end(), path) != chain.end()) {
      diag(Diagnostic::Level::error,
           "include loop through " + text::printable(path) +
               ": libpam 1.5.2 recurses until it runs out of file descriptors, then the "
               "innermost include fails",
           from.path, from.line);
      return Parse::abort;
    }
    if (budget_spent)
      return Parse::abort;
    if (++included_files > opts.max_included_files)
      return spend("includes more than " + std::to_string(opts.max_included_files) + " files",
                   from);
    auto data = read(path);
    if (!data) {
      diag(Diagnostic::Level::error,
           "cannot read included file " + text::printable(path) + ": " + data.error().message,
           from.path, from.line);
      return Parse::abort;
    }
    total_bytes += data->size();
    if (total_bytes > opts.max_total_bytes)
      return spend("reads more than " + std::to_string(opts.max_total_bytes) +
                       " bytes through its includes",
                   from);
    chain.push_back(path);
    Parse r = parse(path, *data, other, type, level);
    chain.pop_back();
    return r;
  }

  Parse parse(const std::string &path, std::string_view data, bool other, int requested,
              int level) {
    svc.files.push_back(path);
    if (data.size() > opts.max_file_bytes) {
      diag(Diagnostic::Level::error,
           "file larger than " + std::to_string(opts.max_file_bytes) + " bytes: not read", path, 0);
      return Parse::abort;
    }
    Assembler as(data);
    std::string line, why;
    int lineno = 0;
    for (;;) {
      auto st = as.next(line, lineno, why);
      if (st == Assembler::Status::eof)
        return Parse::ok;
      if (st == Assembler::Status::error) {
        diag(Diagnostic::Level::error, why, path, lineno);
        return Parse::abort;
      }
      SourceLocation loc{path, lineno};
      // Only included lines count: a top-level file is bounded by its size,
      // and each handler of an include carries its chain (`via`).
      if (!via.empty() && ++included_lines > opts.max_included_lines)
        return spend("has more than " + std::to_string(opts.max_included_lines) +
                         " lines in included files",
                     loc);
      Handler h;
      h.loc = loc;
      h.stack_level = level;
      h.actions.fill(k_undef);
      size_t pos = 0;
      bool include = false, substack = false, at_include = false;
      int type = 0;
      auto tok = str_tok(line, pos);
      if (!tok)
        continue; // only blanks and a NUL's leftovers
      std::string t = *tok;
      if (!t.empty() && t[0] == '-') {
        h.silent = true;
        t.erase(0, 1);
      }
      if (text::iequals(t, "auth"))
        type = 0;
      else if (text::iequals(t, "account"))
        type = 1;
      else if (text::iequals(t, "password"))
        type = 2;
      else if (text::iequals(t, "session"))
        type = 3;
      else if (text::iequals(t, "@include")) {
        include = at_include = true;
        type = requested;
      } else {
        diag(Diagnostic::Level::error,
             "illegal module type \"" + text::printable(t) + "\": the line always fails", path,
             lineno);
        type = requested != k_any ? requested : 0;
        h.must_fail = true;
        h.problem = "illegal module type " + text::printable(t);
      }
      if (!at_include) {
        if (requested != k_any && type != requested)
          continue;
        auto ctl = str_tok(line, pos);
        if (!ctl) {
          diag(Diagnostic::Level::error, "no control flag: the line always fails", path, lineno);
          set_default(h.actions, act::bad);
          h.must_fail = true;
          h.problem = "no control flag";
        } else {
          h.control = *ctl;
          auto &a = h.actions;
          if (text::iequals(*ctl, "required")) {
            a[ret::success] = a[12] = act::ok;
            a[ret::ignore] = act::ignore;
            set_default(a, act::bad);
          } else if (text::iequals(*ctl, "requisite")) {
            a[ret::success] = a[12] = act::ok;
            a[ret::ignore] = act::ignore;
            set_default(a, act::die);
          } else if (text::iequals(*ctl, "optional")) {
            a[ret::success] = a[12] = act::ok;
            set_default(a, act::ignore);
          } else if (text::iequals(*ctl, "sufficient")) {
            a[ret::success] = a[12] = act::done;
            set_default(a, act::ignore);
          } else if (text::iequals(*ctl, "include")) {
            include = true;
          } else if (text::iequals(*ctl, "substack")) {
            include = substack = true;
          } else {
            std::string err = parse_control(a, *ctl);
            if (!err.empty())
              diag(Diagnostic::Level::error,
                   "bad control \"" + text::printable(*ctl) + "\": " + err +
                       "; libpam treats every result as bad",
                   path, lineno);
            set_default(a, act::bad);
          }
        }
      }
      h.type = static_cast<Type>(type);
      auto target = str_tok(line, pos);
      if (include) {
        if (!target) {
          diag(Diagnostic::Level::error,
               "include without a file name: libpam 1.5.2 dereferences a null pointer here", path,
               lineno);
          return Parse::abort;
        }
        h.module = *target;
        if (substack) {
          Handler s = h;
          s.substack = true;
          if (add(other, s) == Parse::abort)
            return Parse::abort;
        }
        std::string file = (*target)[0] == '/' ? *target : "/etc/pam.d/" + *target;
        via.push_back(loc);
        Parse r = load(file, other, type, level + (substack ? 1 : 0), loc);
        via.pop_back();
        if (budget_spent)
          return Parse::abort;
        if (r == Parse::ok)
          continue;
        set_default(h.actions, act::bad);
        h.must_fail = true;
        h.problem = "include of " + text::printable(file) + " failed";
        if (at_include && requested == k_any)
          h.type = static_cast<Type>(k_any);
        h.module.clear();
        if (add(other, std::move(h)) == Parse::abort)
          return Parse::abort;
        continue;
      }
      if (target) {
        h.module = *target;
      } else if (!h.must_fail) {
        diag(Diagnostic::Level::error, "no module name: the line always fails", path, lineno);
        h.must_fail = true;
        h.problem = "no module name";
      }
      while (auto arg = str_tok(line, pos))
        h.args.push_back(*arg);
      if (add(other, std::move(h)) == Parse::abort)
        return Parse::abort;
    }
  }
};

} // namespace

std::string action_name(int action) {
  if (action > 0)
    return "jump " + std::to_string(action);
  if (action <= 0 && action > k_undef)
    return k_actions[-action];
  return "undef";
}

bool Handler::has_arg(std::string_view a) const {
  return std::find(args.begin(), args.end(), a) != args.end();
}

std::optional<std::string> Handler::arg(std::string_view key) const {
  std::optional<std::string> out;
  for (auto &a : args)
    if (a.size() > key.size() && a.compare(0, key.size(), key) == 0 && a[key.size()] == '=')
      out = a.substr(key.size() + 1);
  return out;
}

const std::vector<Handler> &Service::stack(Type t) const {
  auto i = static_cast<size_t>(t);
  return conf[i].empty() ? other[i] : conf[i];
}

bool Service::uses_other(Type t) const {
  return conf[static_cast<size_t>(t)].empty();
}

Service load_service(std::string_view name, const FileReader &read, const ModuleProbe &probe,
                     const LoadOptions &opts) {
  Service svc;
  svc.name = name;
  svc.path = "/etc/pam.d/" + std::string(name);
  PamStackLoader ld{read, probe, opts, svc, {}, {}};
  bool read_something = false;
  auto own = read(svc.path);
  if (own) {
    svc.exists = true;
    ld.chain.push_back(svc.path);
    if (ld.parse(svc.path, *own, false, k_any, 0) == Parse::abort) {
      svc.aborted = true;
      svc.abort_reason = svc.diagnostics.empty()
                             ? Diagnostic{Diagnostic::Level::error, "aborted", {svc.path, 0}}
                             : svc.diagnostics.back();
      return svc;
    }
    ld.chain.pop_back();
    read_something = true;
  } else if (own.error().sys_errno == EFBIG) {
    svc.aborted = true;
    svc.abort_reason =
        Diagnostic{Diagnostic::Level::error, own.error().message + ": not modelled", {svc.path, 0}};
    return svc;
  } else if (!own.error().not_found()) {
    // libpam falls back to "other" when fopen() fails for any reason.
    ld.diag(Diagnostic::Level::warning, "cannot read: " + own.error().message, svc.path, 0);
    svc.read_error =
        Diagnostic{Diagnostic::Level::error, "cannot read: " + own.error().message, {svc.path, 0}};
  }
  const std::string other_path = "/etc/pam.d/other";
  if (name != "other") {
    auto oth = read(other_path);
    if (oth) {
      ld.chain.push_back(other_path);
      if (ld.parse(other_path, *oth, true, k_any, 0) == Parse::abort) {
        svc.aborted = true;
        svc.abort_reason = svc.diagnostics.back();
        return svc;
      }
      ld.chain.pop_back();
      read_something = true;
    } else if (!oth.error().not_found() && !svc.read_error) {
      svc.read_error = Diagnostic{
          Diagnostic::Level::error, "cannot read: " + oth.error().message, {other_path, 0}};
    }
  }
  if (!read_something) {
    svc.aborted = true;
    svc.abort_reason = Diagnostic{Diagnostic::Level::error,
                                  "neither " + svc.path + " nor " + other_path + " can be read",
                                  {svc.path, 0}};
  }
  return svc;
}

ModuleProbe module_probe(const RootFs &fs) {
  std::vector<std::string> dirs;
  for (const char *pat : {"/lib/*/security", "/usr/lib/*/security", "/lib/security",
                          "/usr/lib/security", "/lib64/security", "/usr/lib64/security"}) {
    auto found = fs.glob(pat);
    if (found)
      for (auto &d : *found)
        if (auto st = fs.stat(d); st && st->type == FileInfo::Type::directory)
          dirs.push_back(d);
  }
  return [&fs, dirs](const std::string &module) -> std::optional<bool> {
    if (!module.empty() && module[0] == '/')
      return fs.exists(module);
    if (dirs.empty())
      return std::nullopt;
    for (auto &d : dirs)
      if (fs.exists(d + "/" + module))
        return true;
    return false;
  };
}

Service load_service(const RootFs &fs, std::string_view name, const LoadOptions &opts) {
  FileReader reader = [&fs, &opts](const std::string &p) -> Result<std::string> {
    auto st = fs.stat(p);
    if (st && st->type == FileInfo::Type::directory)
      return std::string(); // fopen() succeeds on a directory and fgets() reads nothing
    return fs.read_file(p, opts.max_file_bytes);
  };
  return load_service(name, reader, module_probe(fs), opts);
}

// ---- dispatch ---------------------------------------------------------------

std::vector<int> possible_returns(const Handler &h) {
  if (h.must_fail)
    return {ret::perm_denied};
  if (h.module_missing)
    return {ret::module_unknown};
  const std::string &n = h.name;
  int failure = h.type == Type::auth       ? ret::auth_err
                : h.type == Type::password ? ret::authtok_err
                : h.type == Type::session  ? ret::session_err
                                           : ret::perm_denied;
  if (n == "pam_deny")
    return {h.type == Type::account ? ret::auth_err : failure};
  if (n == "pam_permit")
    return {ret::success};
  if (n == "pam_faillock") {
    bool fail = h.has_arg("authfail");
    for (auto &a : h.args)
      if (a == "preauth" || a == "authsucc")
        fail = false;
      else if (a == "authfail")
        fail = true;
    if (h.type == Type::auth && fail)
      return {ret::ignore, ret::auth_err};
    return {ret::success, ret::auth_err};
  }
  if (n == "pam_unix" && h.type == Type::auth)
    return {ret::success, ret::auth_err, ret::user_unknown};
  if (n == "pam_google_authenticator" || n == "pam_u2f" || n == "pam_oath") {
    // nullok / nouserok: a user without a token is let through unasked.
    if (h.has_arg("nullok") || h.has_arg("nouserok"))
      return {ret::success, ret::auth_err, ret::ignore};
    return {ret::success, ret::auth_err};
  }
  if (n == "pam_pwquality" || n == "pam_cracklib")
    return {ret::success, ret::authtok_err, ret::maxtries};
  return {ret::success, failure, ret::ignore};
}

namespace {

struct State {
  size_t h;
  int impression; // 0 undef, 1 positive, -1 negative
  int status;
  int prev_level;
  uint32_t marks;
  std::vector<std::pair<int, int>> sub; // per level: impression, status
  bool operator<(const State &o) const {
    return std::tie(h, impression, status, prev_level, marks, sub) <
           std::tie(o.h, o.impression, o.status, o.prev_level, o.marks, o.sub);
  }
};

} // namespace

bool Analysis::can_succeed() const {
  return std::any_of(endings.begin(), endings.end(), [](const Ending &e) { return e.success; });
}

Analysis analyse(const std::vector<Handler> &stack, const Marker &mark) {
  Analysis out;
  out.reached.assign(stack.size(), false);
  std::set<Ending> endings;
  if (stack.empty()) {
    out.endings.push_back(Ending{false, 0});
    return out;
  }
  std::set<State> seen;
  std::vector<State> todo;
  State init{
      0, 0, ret::perm_denied,
      0, 0, std::vector<std::pair<int, int>>(k_substack_max_level + 1, {0, ret::perm_denied})};
  todo.push_back(init);
  auto finish = [&](const State &s) {
    int status = s.status;
    if (status == ret::success && s.impression != 1)
      status = ret::perm_denied;
    endings.insert(Ending{status == ret::success, s.marks});
  };
  auto level = [&](size_t i) { return std::min(stack[i].stack_level, k_substack_max_level); };
  // Seen states are capped so that a hostile stack cannot make us explode.
  constexpr size_t k_max_states = 200000;
  while (!todo.empty()) {
    State s = std::move(todo.back());
    todo.pop_back();
    if (s.h >= stack.size()) {
      finish(s);
      continue;
    }
    if (!seen.insert(s).second || seen.size() > k_max_states)
      continue;
    const Handler &h = stack[s.h];
    out.reached[s.h] = true;
    int lvl = level(s.h);
    if (s.prev_level < lvl)
      s.sub[lvl] = {s.impression, s.status};
    if (h.substack) {
      State n = s;
      n.prev_level = lvl;
      ++n.h;
      todo.push_back(std::move(n));
      continue;
    }
    for (int r : possible_returns(h)) {
      State n = s;
      n.prev_level = lvl;
      if (mark)
        n.marks |= mark(s.h, r, n.marks);
      int action = (r >= 0 && r < ret::count) ? h.actions[r] : act::bad;
      size_t i = s.h;
      bool decided = false;
      if (action == act::reset) {
        n.impression = n.sub[lvl].first;
        n.status = n.sub[lvl].second;
      } else if (action == act::ok || action == act::done) {
        if (n.impression == 0 || (n.impression == 1 && n.status == ret::success)) {
          n.impression = 1;
          n.status = r;
        }
        if (n.impression == 1 && action == act::done)
          decided = true;
      } else if (action == act::bad || action == act::die) {
        if (n.impression != -1) {
          n.impression = -1;
          n.status = r == ret::ignore ? ret::perm_denied : r;
        }
        if (action == act::die)
          decided = true;
      } else if (action > 0) {
        int left = action;
        while (i + 1 < stack.size() && level(i + 1) >= lvl && left > 0) {
          do {
            ++i;
          } while (i + 1 < stack.size() && level(i + 1) > lvl);
          --left;
        }
        if (left) {
          n.impression = -1;
          n.status = ret::perm_denied;
        }
      }
      if (decided)
        while (i + 1 < stack.size() && level(i + 1) >= lvl)
          ++i;
      n.h = i + 1;
      todo.push_back(std::move(n));
    }
  }
  out.endings.assign(endings.begin(), endings.end());
  return out;
}

bool required_for_success(const std::vector<Handler> &stack, size_t index) {
  auto a = analyse(stack, [index](size_t i, int r, uint32_t) -> uint32_t {
    return i == index && r == ret::success ? 1u : 0u;
  });
  if (!a.can_succeed())
    return false;
  for (auto &e : a.endings)
    if (e.success && !(e.marks & 1u))
      return false;
  return true;
}

// ---- pwquality ----------------------------------------------------------------

namespace {

// One fgets() of a 1024-byte buffer, as libpwquality's and pam_faillock's
// config readers do it; `malformed` is their "no newline and not at EOF"
// test, which also fires on a NUL inside a line (strlen() stops there).
struct ConfLine {
  std::string text;
  bool malformed = false;
};
ConfLine conf_fgets(std::string_view d, size_t &pos) {
  size_t nl = d.find('\n', pos);
  size_t len = nl == std::string_view::npos ? d.size() - pos : nl - pos + 1;
  bool cut = len > 1023;
  len = std::min<size_t>(len, 1023);
  std::string_view raw = d.substr(pos, len);
  pos += len;
  bool at_eof = !cut && raw.back() != '\n' && pos >= d.size();
  ConfLine out;
  out.text.assign(raw.substr(0, raw.find('\0')));
  out.malformed = !out.text.empty() && out.text.back() != '\n' && !at_eof;
  return out;
}

enum class PwqKind { integer, string, set };
struct PwqName {
  const char *name;
  PwqKind kind;
};
constexpr PwqName k_pwq_names[] = {
    {"difok", PwqKind::integer},          {"minlen", PwqKind::integer},
    {"dcredit", PwqKind::integer},        {"ucredit", PwqKind::integer},
    {"lcredit", PwqKind::integer},        {"ocredit", PwqKind::integer},
    {"minclass", PwqKind::integer},       {"maxrepeat", PwqKind::integer},
    {"maxclassrepeat", PwqKind::integer}, {"maxsequence", PwqKind::integer},
    {"gecoscheck", PwqKind::integer},     {"dictcheck", PwqKind::integer},
    {"usercheck", PwqKind::integer},      {"usersubstr", PwqKind::integer},
    {"enforcing", PwqKind::integer},      {"badwords", PwqKind::string},
    {"dictpath", PwqKind::string},        {"retry", PwqKind::integer},
    {"enforce_for_root", PwqKind::set},   {"local_users_only", PwqKind::set},
};

constexpr const char *k_pam_parser_pwq_conf = "/etc/security/pwquality.conf";

// set_name_value(): "" on success, else the libpwquality error.
std::string pwq_set(PwQuality &q, const std::string &name, const std::string &value,
                    const SourceLocation &loc) {
  for (auto &n : k_pwq_names) {
    if (!text::iequals(n.name, name))
      continue;
    if (n.kind == PwqKind::string)
      return "";
    long v = 1;
    if (n.kind == PwqKind::integer) {
      errno = 0;
      char *end = nullptr;
      v = std::strtol(value.c_str(), &end, 10);
      if (errno != 0 || value.empty() || *end != '\0' || v >= INT_MAX || v <= INT_MIN)
        return "bad integer value for " + std::string(n.name);
    }
    std::string key = n.name;
    if (key == "minlen" && v < 6)
      v = 6; // PWQ_BASE_MIN_LENGTH
    if (key == "minclass" && v > 4)
      v = 4;
    q.ints[key] = IntSetting{v, loc};
    return "";
  }
  return "unknown setting " + text::printable(name);
}

// read_config_file(): false when libpwquality stops with an error.
bool pwq_read_file(PwQuality &q, const std::string &path, std::string_view data) {
  q.files.push_back(path);
  size_t pos = 0;
  int lineno = 0;
  while (pos < data.size()) {
    ++lineno;
    ConfLine cl = conf_fgets(data, pos);
    if (cl.malformed) {
      q.diagnostics.push_back(Diagnostic{Diagnostic::Level::error,
                                         "line longer than 1023 bytes or with a NUL byte: "
                                         "libpwquality stops reading (malformed file)",
                                         {path, lineno}});
      return false;
    }
    std::string line = std::move(cl.text);
    if (auto h = line.find('#'); h != std::string::npos)
      line.resize(h);
    while (!line.empty() && pam_conf_isspace(line.back()))
      line.pop_back();
    size_t i = 0;
    while (i < line.size() && pam_conf_isspace(line[i]))
      ++i;
    if (i >= line.size())
      continue;
    size_t name_start = i;
    bool eq = false;
    while (i < line.size() && !pam_conf_isspace(line[i]) && line[i] != '=')
      ++i;
    std::string name = line.substr(name_start, i - name_start);
    if (i < line.size()) {
      eq = line[i] == '=';
      ++i;
    }
    while (i < line.size() && ((line[i] == '=' && !eq) || pam_conf_isspace(line[i]))) {
      if (line[i] == '=')
        eq = true;
      ++i;
    }
    std::string err = pwq_set(q, name, line.substr(i), SourceLocation{path, lineno});
    if (!err.empty()) {
      q.diagnostics.push_back(Diagnostic{
          Diagnostic::Level::error, err + ": libpwquality stops reading here", {path, lineno}});
      return false;
    }
  }
  return true;
}

PwQuality pwq_defaults() {
  PwQuality q;
  auto def = [&](const char *k, long v) { q.ints[k] = IntSetting{v, {}}; };
  def("difok", 1);
  def("minlen", 8);
  def("dcredit", 0);
  def("ucredit", 0);
  def("lcredit", 0);
  def("ocredit", 0);
  def("minclass", 0);
  def("enforcing", 1);
  def("retry", 1);
  def("enforce_for_root", 0);
  def("local_users_only", 0);
  def("dictcheck", 1);
  def("usercheck", 1);
  return q;
}

} // namespace

long PwQuality::get(const std::string &key) const {
  auto it = ints.find(key);
  return it == ints.end() ? 0 : it->second.value;
}

const IntSetting &PwQuality::setting(const std::string &key) const {
  static const IntSetting none{};
  auto it = ints.find(key);
  return it == ints.end() ? none : it->second;
}

PwQuality load_pwquality(const FileReader &read, const std::vector<std::string> &dropins) {
  PwQuality q = pwq_defaults();
  for (auto &p : dropins) {
    auto data = read(p);
    if (!data)
      continue; // PWQ_ERROR_CFGFILE_OPEN is ignored for the directory
    if (!pwq_read_file(q, p, *data))
      return q;
  }
  auto data = read(k_pam_parser_pwq_conf);
  if (!data) {
    if (!data.error().not_found())
      q.diagnostics.push_back(Diagnostic{Diagnostic::Level::error,
                                         "cannot read: " + data.error().message,
                                         {k_pam_parser_pwq_conf, 0}});
    return q;
  }
  pwq_read_file(q, k_pam_parser_pwq_conf, *data);
  return q;
}

PwQuality load_pwquality(const RootFs &fs) {
  std::vector<std::string> dropins;
  const std::string dir = std::string(k_pam_parser_pwq_conf) + ".d";
  if (auto names = fs.list_dir(dir)) {
    std::vector<std::string> sorted = *names;
    std::sort(sorted.begin(), sorted.end()); // scandir with strcmp
    for (auto &n : sorted) {
      // filter_conf(): the FIRST ".conf" in the name must end it.
      size_t p = n.find(".conf");
      if (p != std::string::npos && p + 5 == n.size())
        dropins.push_back(dir + "/" + n);
    }
  }
  FileReader reader = [&fs](const std::string &p) -> Result<std::string> {
    auto st = fs.stat(p);
    if (st && st->type == FileInfo::Type::directory)
      return std::string();
    return fs.read_file(p, 16 * 1024 * 1024);
  };
  return load_pwquality(reader, dropins);
}

PwQuality cracklib_defaults() {
  PwQuality q = pwq_defaults();
  for (const char *k : {"dcredit", "ucredit", "lcredit", "ocredit"})
    q.ints[k] = IntSetting{1, {}};
  q.ints["minlen"] = IntSetting{9, {}};
  q.files.clear();
  return q;
}

PwQuality apply_module_args(PwQuality q, const Handler &h) {
  bool cracklib = h.name == "pam_cracklib";
  if (cracklib)
    q = cracklib_defaults();
  for (auto &a : h.args) {
    auto starts = [&](std::string_view p) { return a.compare(0, p.size(), p) == 0; };
    if (a == "debug" || starts("type=") || starts("difignore=") || starts("reject_username") ||
        starts("authtok_type") || starts("use_authtok") || starts("use_first_pass") ||
        starts("try_first_pass"))
      continue;
    size_t eq = a.find('=');
    std::string name = a.substr(0, eq);
    std::string value = eq == std::string::npos ? "" : a.substr(eq + 1);
    if (name.size() > 79)
      continue;
    std::string err = pwq_set(q, name, value, h.loc);
    if (!err.empty())
      q.diagnostics.push_back(
          Diagnostic{Diagnostic::Level::warning, "module argument ignored: " + err, h.loc});
  }
  return q;
}

bool accepts_length_and_classes(const PwQuality &q, std::string_view pw) {
  long counts[4] = {0, 0, 0, 0}; // digits, upper, lower, other
  size_t n = pw.find('\0') == std::string_view::npos ? pw.size() : pw.find('\0');
  for (size_t i = 0; i < n; ++i) {
    unsigned char c = static_cast<unsigned char>(pw[i]);
    if (c >= '0' && c <= '9')
      ++counts[0];
    else if (c >= 'A' && c <= 'Z')
      ++counts[1];
    else if (c >= 'a' && c <= 'z')
      ++counts[2];
    else
      ++counts[3];
  }
  const char *keys[4] = {"dcredit", "ucredit", "lcredit", "ocredit"};
  long size = q.get("minlen");
  int classes = 0;
  for (int k = 0; k < 4; ++k) {
    long credit = q.get(keys[k]);
    if (counts[k] > 0)
      ++classes;
    if (credit >= 0)
      size -= std::min(counts[k], credit);
    else if (counts[k] < -credit)
      return false;
  }
  if (q.get("minclass") > classes)
    return false;
  return size <= static_cast<long>(n);
}

int shortest_accepted(const PwQuality &q) {
  const char *keys[4] = {"dcredit", "ucredit", "lcredit", "ocredit"};
  long minlen = q.get("minlen");
  long best = LONG_MAX;
  for (int u = 1; u < 16; ++u) {
    long s0 = 0, credit0 = 0, room = 0;
    int used = 0;
    bool ok = true;
    for (int k = 0; k < 4; ++k) {
      long c = q.get(keys[k]);
      bool in = (u >> k) & 1;
      if (!in) {
        if (c < 0)
          ok = false; // a required class must be used
        continue;
      }
      ++used;
      long need = c < 0 ? -c : 1;
      s0 += need;
      if (c > 0) {
        credit0 += 1;
        room += c - 1;
      }
    }
    if (!ok || used < q.get("minclass"))
      continue;
    long deficit = minlen - s0 - credit0;
    long extra = deficit <= 0 ? 0 : (2 * room >= deficit ? (deficit + 1) / 2 : deficit - room);
    best = std::min(best, s0 + extra);
  }
  return best == LONG_MAX ? 0 : static_cast<int>(std::min(best, long(INT_MAX)));
}

int guaranteed_classes(const PwQuality &q) {
  int required = 0;
  for (const char *k : {"dcredit", "ucredit", "lcredit", "ocredit"})
    if (q.get(k) < 0)
      ++required;
  return static_cast<int>(std::max<long>(required, std::min<long>(q.get("minclass"), 4)));
}

// ---- faillock -------------------------------------------------------------------

namespace {

// sscanf("%u") / ("%hu"): optional blanks and sign, digits, wrap-around.
std::optional<unsigned long> scan_unsigned(const std::string &v, unsigned long mask) {
  size_t i = 0;
  while (i < v.size() && pam_conf_isspace(v[i]))
    ++i;
  bool neg = false;
  if (i < v.size() && (v[i] == '+' || v[i] == '-'))
    neg = v[i++] == '-';
  if (i >= v.size() || v[i] < '0' || v[i] > '9')
    return std::nullopt;
  unsigned long n = 0;
  for (; i < v.size() && v[i] >= '0' && v[i] <= '9'; ++i)
    n = n * 10 + static_cast<unsigned long>(v[i] - '0');
  if (neg)
    n = -n;
  return n & mask;
}

void faillock_set(Faillock &f, const std::string &name, const std::string &value,
                  const SourceLocation &loc) {
  auto bad = [&](const char *what) {
    f.diagnostics.push_back(Diagnostic{Diagnostic::Level::warning,
                                       std::string("bad number for ") + what + ": ignored", loc});
  };
  if (name == "deny") {
    if (auto v = scan_unsigned(value, 0xffff))
      f.deny = IntSetting{static_cast<long>(*v), loc};
    else
      bad("deny");
  } else if (name == "fail_interval" || name == "unlock_time") {
    IntSetting &s = name == "unlock_time" ? f.unlock_time : f.fail_interval;
    if (name == "unlock_time" && value == "never") {
      s = IntSetting{0, loc};
      return;
    }
    auto v = scan_unsigned(value, 0xffffffffUL);
    if (!v || *v > 604800)
      bad(name.c_str());
    else
      s = IntSetting{static_cast<long>(*v), loc};
  }
}

} // namespace

Faillock faillock_options(const Handler &h, const FileReader &read) {
  Faillock f;
  int conf_index = -1;
  for (size_t i = 0; i < h.args.size(); ++i)
    if (h.args[i].compare(0, 5, "conf=") == 0) {
      f.conf = h.args[i].substr(5);
      conf_index = static_cast<int>(i);
    }
  auto data = read(f.conf);
  if (!data) {
    if (!(conf_index < 0 && data.error().not_found())) {
      f.conf_broken = true;
      f.diagnostics.push_back(Diagnostic{Diagnostic::Level::error,
                                         "configuration file missing or broken (" +
                                             data.error().message +
                                             "): pam_faillock returns PAM_SERVICE_ERR",
                                         {f.conf, 0}});
    }
  } else {
    std::string_view d = *data;
    size_t pos = 0;
    int lineno = 0;
    while (pos < d.size()) {
      ++lineno;
      ConfLine cl = conf_fgets(d, pos);
      if (cl.malformed) {
        f.conf_broken = true;
        f.diagnostics.push_back(Diagnostic{
            Diagnostic::Level::error,
            "line longer than 1023 bytes or with a NUL: pam_faillock returns PAM_SERVICE_ERR",
            {f.conf, lineno}});
        return f;
      }
      std::string line = std::move(cl.text);
      if (auto hsh = line.find('#'); hsh != std::string::npos)
        line.resize(hsh);
      while (!line.empty() && pam_conf_isspace(line.back()))
        line.pop_back();
      size_t i = 0;
      while (i < line.size() && pam_conf_isspace(line[i]))
        ++i;
      if (i >= line.size())
        continue;
      size_t ns = i;
      while (i < line.size() && !pam_conf_isspace(line[i]) && line[i] != '=')
        ++i;
      std::string name = line.substr(ns, i - ns);
      bool eq = false;
      if (i < line.size()) {
        eq = line[i] == '=';
        ++i;
      }
      while (i < line.size() && ((line[i] == '=' && !eq) || pam_conf_isspace(line[i]))) {
        if (line[i] == '=')
          eq = true;
        ++i;
      }
      faillock_set(f, name, line.substr(i), SourceLocation{f.conf, lineno});
    }
  }
  for (size_t i = 0; i < h.args.size(); ++i) {
    if (static_cast<int>(i) == conf_index)
      continue;
    const std::string &a = h.args[i];
    if (a == "preauth")
      f.action = Faillock::Action::preauth;
    else if (a == "authfail")
      f.action = Faillock::Action::authfail;
    else if (a == "authsucc")
      f.action = Faillock::Action::authsucc;
    else {
      size_t eq = a.find('=');
      faillock_set(f, a.substr(0, eq), eq == std::string::npos ? "" : a.substr(eq + 1), h.loc);
    }
  }
  return f;
}

} // namespace bulwark::pam
