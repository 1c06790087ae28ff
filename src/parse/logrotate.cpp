// logrotate 3.21 configuration; see include/bulwark/parse/logrotate.hpp for
// the semantics and https://github.com/logrotate/logrotate/blob/3.21.0/config.c
// for the source. Only the directives that decide retention change the
// model; the others are recognised so that they are not taken for paths.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/logrotate.hpp>

#include <algorithm>
#include <fnmatch.h>
#include <set>

namespace bulwark::logrotate {

namespace {

constexpr int k_logrotate_max_nesting = 16;
constexpr int k_max_file_reads = 2048;
constexpr size_t k_max_words = 4096; // per line; the rest is reported, not read

// Directives without arguments, and those that take the rest of the line.
const std::set<std::string, std::less<>> k_flags = {
    "compress",        "nocompress",      "delaycompress",
    "nodelaycompress", "sharedscripts",   "nosharedscripts",
    "copytruncate",    "nocopytruncate",  "copy",
    "nocopy",          "ifempty",         "notifempty",
    "noolddir",        "mailfirst",       "maillast",
    "nocreate",        "missingok",       "nomissingok",
    "nomail",          "dateext",         "nodateext",
    "dateyesterday",   "datehourago",     "renamecopy",
    "norenamecopy",    "shred",           "noshred",
    "allowcompress",   "nodelaycompress", "createolddir",
    "nocreateolddir",  "daily",           "weekly",
    "monthly",         "yearly",          "hourly",
    "errors",
};
const std::set<std::string, std::less<>> k_with_args = {
    "rotate",      "maxage",          "minage",           "size",        "minsize",
    "maxsize",     "include",         "olddir",           "create",      "su",
    "mail",        "tabooext",        "taboopat",         "compresscmd", "uncompresscmd",
    "compressext", "compressoptions", "extension",        "dateformat",  "start",
    "shredcycles", "addextension",    "ignoreduplicates",
};
const std::set<std::string, std::less<>> k_scripts = {"prerotate", "postrotate", "firstaction",
                                                      "lastaction", "preremove"};

const std::vector<std::string> k_default_taboo = {
    ",v",        ".cfsaved",  ".disabled", ".dpkg-bak",      ".dpkg-del", ".dpkg-dist",
    ".dpkg-new", ".dpkg-old", ".dpkg-tmp", ".rhn-cfg-tmp-*", ".rpmnew",   ".rpmorig",
    ".rpmsave",  ".swp",      ".ucf-dist", ".ucf-new",       ".ucf-old",  "~",
};

bool logrotate_is_glob(std::string_view s) {
  return s.find_first_of("*?[") != std::string_view::npos;
}

// Splits a line into words; "..." and '...' group (quotes removed).
std::vector<std::string> logrotate_words(std::string_view line) {
  std::vector<std::string> out;
  size_t i = 0;
  while (i < line.size()) {
    while (i < line.size() && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
      ++i;
    if (i >= line.size())
      break;
    std::string w;
    if (line[i] == '"' || line[i] == '\'') {
      char q = line[i++];
      size_t e = line.find(q, i);
      if (e == std::string_view::npos)
        e = line.size();
      w = std::string(line.substr(i, e - i));
      i = e + 1;
    } else if (line[i] == '{' || line[i] == '}') {
      w = std::string(1, line[i++]);
    } else {
      size_t b = i;
      while (i < line.size() && line[i] != ' ' && line[i] != '\t' && line[i] != '\r' &&
             line[i] != '{' && line[i] != '}')
        ++i;
      w = std::string(line.substr(b, i - b));
    }
    out.push_back(std::move(w));
    if (out.size() >= k_max_words)
      break;
  }
  return out;
}

std::optional<int64_t> logrotate_parse_int(const std::string &s) {
  if (s.empty())
    return std::nullopt;
  char *end = nullptr;
  errno = 0;
  long long v = std::strtoll(s.c_str(), &end, 10);
  if (*end != '\0' || errno != 0)
    return std::nullopt;
  return v;
}

std::optional<uint64_t> logrotate_parse_size(std::string s) {
  uint64_t mult = 1;
  if (!s.empty()) {
    char c = s.back();
    if (c == 'k' || c == 'K')
      mult = 1024;
    else if (c == 'M')
      mult = 1024 * 1024;
    else if (c == 'G')
      mult = 1024ull * 1024 * 1024;
    if (mult != 1)
      s.pop_back();
  }
  auto v = logrotate_parse_int(s);
  if (!v || *v < 0)
    return std::nullopt;
  return static_cast<uint64_t>(*v) * mult;
}

struct LogrotateReader {
  const RootFs &fs;
  Config &cfg;
  Settings defaults{};
  std::vector<std::string> taboo = k_default_taboo;
  size_t budget_bytes = 64 * 1024 * 1024; // across every file read
  int file_reads = 0;

  bool file_error = false; // the file being read has an error

  void diag(Diagnostic::Level level, std::string msg, const std::string &path, int line) {
    if (level == Diagnostic::Level::error)
      file_error = true;
    if (cfg.diagnostics.size() < 1000)
      cfg.diagnostics.push_back(Diagnostic{level, std::move(msg), {path, line}});
  }

  bool taboo_name(const std::string &name) const {
    for (const auto &t : taboo) {
      if (t.find('*') != std::string::npos) {
        if (::fnmatch(("*" + t).c_str(), name.c_str(), 0) == 0)
          return true;
      } else if (name.size() >= t.size() &&
                 name.compare(name.size() - t.size(), t.size(), t) == 0) {
        return true;
      }
    }
    return false;
  }

  void read_path(const std::string &path, int depth, const SourceLocation &from) {
    auto st = fs.stat(path);
    if (!st) {
      diag(Diagnostic::Level::error, "cannot stat " + path + ": " + st.error().message, from.path,
           from.line);
      return;
    }
    if (st->type == FileInfo::Type::directory) {
      auto names = fs.list_dir(path);
      if (!names) {
        diag(Diagnostic::Level::error, names.error().message, path, 0);
        return;
      }
      for (const auto &n : *names) {
        if (taboo_name(n))
          continue;
        read_file(RootFs::join(path, n), depth);
      }
      return;
    }
    read_file(path, depth);
  }

  void read_file(const std::string &path, int depth) {
    // Includes fan out: a directory whose files include the directory again
    // reads 2^16 files at the nesting limit. Bound the reads, not just the depth.
    if (++file_reads > k_max_file_reads) {
      if (file_reads == k_max_file_reads + 1)
        diag(Diagnostic::Level::error,
             "more than " + std::to_string(k_max_file_reads) +
                 " configuration files read (includes that fan out); the rest is ignored",
             path, 0);
      return;
    }
    auto st = fs.stat(path);
    if (!st && !st.error().not_found()) {
      // Not "not a regular file": it cannot be looked at (a symbolic link
      // loop, no permission), so what it holds is unknown.
      diag(Diagnostic::Level::error, st.error().message, path, 0);
      return;
    }
    if (!st || st->type != FileInfo::Type::regular)
      return; // logrotate ignores what is not a regular file
    if ((st->mode & 022) != 0) {
      diag(Diagnostic::Level::warning, "writable by group or others: logrotate ignores this file",
           path, 0);
      return;
    }
    if (fs.is_host_root() && st->uid != 0) {
      diag(Diagnostic::Level::warning, "not owned by root: logrotate ignores this file", path, 0);
      return;
    }
    if (st->size > budget_bytes) {
      diag(Diagnostic::Level::error, "configuration too large to read", path, 0);
      return;
    }
    auto content = fs.read_file(path, budget_bytes);
    if (!content) {
      diag(Diagnostic::Level::error, content.error().message, path, 0);
      return;
    }
    budget_bytes -= content->size();
    cfg.files.push_back(path);
    // A file with an error leaves the defaults as they were before it
    // ("found error in file X, skipping"); its blocks stay.
    Settings saved = defaults;
    bool outer_error = file_error;
    file_error = false;
    parse(path, *content, depth);
    if (file_error)
      defaults = saved;
    file_error = outer_error;
  }

  // Duplicate entries: a pattern matching a file an earlier pattern owns
  // loses all its matches, and the file has an error.
  std::set<std::string> claimed{};
  void claim(Block &b) {
    b.dropped.assign(b.patterns.size(), false);
    for (size_t i = 0; i < b.patterns.size(); ++i) {
      const std::string &p = b.patterns[i];
      std::vector<std::string> matches;
      if (!logrotate_is_glob(p)) {
        matches.push_back(p);
      } else if (auto m = fs.glob(p)) {
        matches = std::move(*m);
      }
      // Matches are taken in glob order up to the first one already owned:
      // that one and the rest of this pattern's matches are left out.
      for (const auto &f : matches) {
        if (claimed.count(f) != 0) {
          b.dropped[i] = true;
          diag(Diagnostic::Level::error,
               "duplicate log entry for " + text::printable(f) +
                   ": logrotate skips it and the "
                   "rest of " +
                   text::printable(p) + " in this block",
               b.loc.path, b.loc.line);
          break;
        }
        claimed.insert(f);
        b.files.push_back(f);
      }
    }
  }

  // Applies one directive to `s` (a block's settings or the defaults).
  // Returns false for an unknown directive.
  bool directive(Settings &s, const std::string &key, const std::vector<std::string> &args,
                 const SourceLocation &loc, bool in_block, int depth) {
    auto arg = [&]() -> std::string { return args.empty() ? std::string() : args[0]; };
    if (key == "hourly" || key == "daily" || key == "weekly" || key == "monthly" ||
        key == "yearly") {
      s.criterion = key == "hourly"    ? Criterion::hourly
                    : key == "daily"   ? Criterion::daily
                    : key == "weekly"  ? Criterion::weekly
                    : key == "monthly" ? Criterion::monthly
                                       : Criterion::yearly;
      s.criterion_loc = loc;
    } else if (key == "size") {
      auto v = logrotate_parse_size(arg());
      if (!v) {
        diag(Diagnostic::Level::error, "bad size '" + text::printable(arg()) + "'", loc.path,
             loc.line);
        return true;
      }
      s.size = *v;
      s.criterion = Criterion::size;
      s.criterion_loc = loc;
    } else if (key == "rotate") {
      auto v = logrotate_parse_int(arg());
      if (!v || *v < -1) {
        diag(Diagnostic::Level::error, "bad rotation count '" + text::printable(arg()) + "'",
             loc.path, loc.line);
        return true;
      }
      s.rotate = *v;
      s.rotate_loc = loc;
    } else if (key == "maxage") {
      auto v = logrotate_parse_int(arg());
      if (!v || *v < 0) {
        diag(Diagnostic::Level::error, "bad maximum age '" + text::printable(arg()) + "'", loc.path,
             loc.line);
        return true;
      }
      s.maxage = *v;
      s.maxage_loc = loc;
    } else if (key == "include") {
      if (in_block) {
        diag(Diagnostic::Level::error, "include may not appear inside of log file definition",
             loc.path, loc.line);
        return true;
      }
      if (args.empty()) {
        diag(Diagnostic::Level::error, "argument expected after include", loc.path, loc.line);
        return true;
      }
      if (depth + 1 > k_logrotate_max_nesting) {
        diag(Diagnostic::Level::error, "include nesting too deep", loc.path, loc.line);
        return true;
      }
      read_path(RootFs::join("/", args[0]), depth + 1, loc);
    } else if (key == "tabooext") {
      std::vector<std::string> exts = args;
      bool add = !exts.empty() && exts[0].starts_with("+");
      if (add) {
        exts[0].erase(0, 1);
        if (exts[0].empty())
          exts.erase(exts.begin());
      } else {
        taboo.clear();
      }
      for (auto &e : exts)
        for (auto &part : text::split(e, ','))
          taboo.push_back(part);
    } else if (k_flags.count(key) == 0 && k_with_args.count(key) == 0) {
      return false;
    }
    return true;
  }

  void parse(const std::string &path, std::string_view content, int depth) {
    size_t pos = 0;
    int lineno = 0;
    bool in_block = false;
    bool in_script = false;
    std::vector<std::string> pending; // paths before '{'
    SourceLocation pending_loc;
    Block block;
    while (pos < content.size()) {
      size_t nl = content.find('\n', pos);
      std::string_view line =
          content.substr(pos, (nl == std::string_view::npos ? content.size() : nl) - pos);
      pos = nl == std::string_view::npos ? content.size() : nl + 1;
      ++lineno;
      std::string_view t = text::trim(line);
      if (in_script) {
        if (t.starts_with("endscript"))
          in_script = false;
        continue;
      }
      if (t.empty() || t[0] == '#')
        continue;
      auto w = logrotate_words(t);
      if (w.size() >= k_max_words)
        diag(Diagnostic::Level::warning, "line with more than 4096 words: the rest is not read",
             path, lineno);
      for (size_t i = 0; i < w.size(); ++i) {
        const std::string &tok = w[i];
        SourceLocation loc{path, lineno};
        if (tok == "{") {
          if (in_block) {
            diag(Diagnostic::Level::error, "unexpected {", path, lineno);
            continue;
          }
          if (pending.empty()) {
            diag(Diagnostic::Level::error, "{ without a log file name", path, lineno);
          }
          in_block = true;
          block = Block{};
          block.patterns = std::move(pending);
          block.loc = block.patterns.empty() ? loc : pending_loc;
          block.settings = defaults;
          pending.clear();
          continue;
        }
        if (tok == "}") {
          if (!in_block) {
            diag(Diagnostic::Level::error, "unexpected }", path, lineno);
            continue;
          }
          in_block = false;
          if (!block.patterns.empty()) {
            claim(block);
            cfg.blocks.push_back(std::move(block));
          }
          block = Block{}; // moved from: the next block starts clean
          continue;
        }
        bool keyword = !tok.empty() && std::isalpha(static_cast<unsigned char>(tok[0])) &&
                       !(i > 0 && !pending.empty());
        if (!keyword) {
          if (in_block) {
            diag(Diagnostic::Level::error, "unexpected text: " + text::printable(tok), path,
                 lineno);
            break;
          }
          if (pending.empty())
            pending_loc = loc;
          pending.push_back(tok);
          continue;
        }
        if (k_scripts.count(tok) != 0) {
          in_script = true;
          break;
        }
        // The directive takes the rest of the line, up to a closing brace.
        std::vector<std::string> args;
        size_t j = i + 1;
        if (k_with_args.count(tok) != 0)
          for (; j < w.size() && w[j] != "}"; ++j)
            args.push_back(w[j]);
        if (!directive(in_block ? block.settings : defaults, tok, args, loc, in_block, depth)) {
          diag(Diagnostic::Level::warning,
               "unknown option '" + text::printable(tok) + "' -- ignoring line", path, lineno);
          break;
        }
        i = j - 1;
      }
    }
    if (in_script)
      diag(Diagnostic::Level::error, "prerotate or postrotate without endscript", path, lineno);
    if (in_block)
      diag(Diagnostic::Level::error, "missing '}' at end of file", path, lineno);
    if (!pending.empty())
      diag(Diagnostic::Level::error, "log file names without a block", pending_loc.path,
           pending_loc.line);
  }
};

} // namespace

std::string_view to_string(Criterion c) {
  switch (c) {
  case Criterion::size: return "size";
  case Criterion::hourly: return "hourly";
  case Criterion::daily: return "daily";
  case Criterion::weekly: return "weekly";
  case Criterion::monthly: return "monthly";
  case Criterion::yearly: return "yearly";
  }
  return "size";
}

const Block *Config::find(const std::string &path) const {
  for (const auto &b : blocks)
    if (std::find(b.files.begin(), b.files.end(), path) != b.files.end())
      return &b;
  // A file that does not exist in the target (an offline image before its
  // first boot): the first pattern that would match it.
  for (const auto &b : blocks)
    for (size_t i = 0; i < b.patterns.size(); ++i) {
      const std::string &p = b.patterns[i];
      if (i < b.dropped.size() && b.dropped[i])
        continue;
      if (logrotate_is_glob(p) && ::fnmatch(p.c_str(), path.c_str(), FNM_PATHNAME) == 0)
        return &b;
    }
  return nullptr;
}

Config load_logrotate(const RootFs &fs, const std::string &main) {
  Config cfg;
  LogrotateReader r{fs, cfg};
  if (!fs.exists(main))
    return cfg;
  cfg.present = true;
  r.read_file(main, 0);
  return cfg;
}

} // namespace bulwark::logrotate
