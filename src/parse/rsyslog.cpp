// rsyslog configuration, read for its forwarding and file actions; see
// include/bulwark/parse/rsyslog.hpp for the format. A statement scanner,
// not the full grammar: it knows where statements, strings, comments,
// objects and blocks begin and end, and reads the parameters of objects.

#include <bulwark/core/text.hpp>
#include <bulwark/parse/rsyslog.hpp>

#include <algorithm>
#include <map>

namespace bulwark::rsyslog {

namespace {

constexpr int k_rsyslog_max_nesting = 16;

const char *const k_forward_types[] = {"omfwd",   "omrelp",          "omelasticsearch",
                                       "omhttp",  "omkafka",         "omgssapi",
                                       "omamqp1", "omazureeventhubs"};

bool is_forward_type(const std::string &t) {
  return std::find(std::begin(k_forward_types), std::end(k_forward_types), t) !=
         std::end(k_forward_types);
}

bool rsyslog_ident_char(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '.' || c == '-';
}

struct RsyslogLoader;

class RsyslogScanner {
public:
  RsyslogScanner(RsyslogLoader &loader, std::string path, std::string_view text, int depth)
      : m_loader(loader), m_path(std::move(path)), m_text(text), m_depth(depth) {
    for (size_t i = 0; i < text.size(); ++i)
      if (text[i] == '\n')
        m_newlines.push_back(i);
  }
  void run();

private:
  int line_at(size_t pos) const {
    return static_cast<int>(std::upper_bound(m_newlines.begin(), m_newlines.end(), pos) -
                            m_newlines.begin()) +
           1;
  }
  SourceLocation loc(size_t pos) const { return {m_path, line_at(pos)}; }
  bool eof() const { return m_pos >= m_text.size(); }
  char peek(size_t off = 0) const {
    return m_pos + off < m_text.size() ? m_text[m_pos + off] : '\0';
  }
  void skip_blanks_and_comments();
  std::string_view rest_of_line();
  std::string read_word();
  std::string read_string();
  std::map<std::string, std::string> read_params();
  void skip_balanced_braces();
  void skip_until_then();
  void statement(const std::string &selector);
  void action(const std::string &selector, size_t at);
  void legacy_action(const std::string &selector, std::string_view act, size_t at);
  void object_action(const std::string &selector, size_t at);
  void diag(size_t at, std::string msg, bool warning = false);
  std::string current_ruleset() const {
    for (auto it = m_blocks.rbegin(); it != m_blocks.rend(); ++it)
      if (!it->empty())
        return *it;
    return m_legacy_ruleset;
  }

  std::string m_legacy_driver, m_legacy_driver_mode; // $ActionSendStreamDriver[Mode]
  RsyslogLoader &m_loader;
  std::string m_path;
  std::string_view m_text;
  int m_depth;
  size_t m_pos = 0;
  std::vector<size_t> m_newlines;
  std::vector<std::string> m_blocks; // ruleset name per open '{' ("" = inherit)
  std::string m_legacy_ruleset;      // $RuleSet
  std::string m_last_selector;       // for `&`
};

struct RsyslogLoader {
  const RootFs *fs = nullptr; // nullptr: text only
  Config &cfg;
  size_t budget = 64 * 1024 * 1024;
  // Includes fan out (a file including itself twice reads 2^16 files at the
  // nesting limit): bound the number of reads too.
  static constexpr int k_max_reads = 2048;
  int reads = 0;

  void diag(Diagnostic::Level level, std::string msg, SourceLocation loc) {
    if (cfg.diagnostics.size() < 1000)
      cfg.diagnostics.push_back(Diagnostic{level, std::move(msg), std::move(loc)});
  }

  void read_file(const std::string &path, int depth) {
    if (++reads > k_max_reads) {
      if (reads == k_max_reads + 1)
        diag(Diagnostic::Level::error,
             "more than " + std::to_string(k_max_reads) +
                 " configuration files read (includes that fan out); the rest is ignored",
             {path, 0});
      return;
    }
    auto content = fs->read_file(path, budget);
    if (!content) {
      diag(Diagnostic::Level::error, content.error().message, {path, 0});
      return;
    }
    budget -= std::min(budget, content->size());
    cfg.files.push_back(path);
    RsyslogScanner(*this, path, *content, depth).run();
  }

  // $IncludeConfig and include(file=...): a directory (trailing '/'), a glob
  // or a file, read right away.
  void include(const std::string &pattern, int depth, const SourceLocation &from, bool optional) {
    if (fs == nullptr) {
      diag(Diagnostic::Level::info, "include of " + text::printable(pattern) + " not followed",
           from);
      return;
    }
    if (depth + 1 > k_rsyslog_max_nesting) {
      diag(Diagnostic::Level::error, "includes nested too deep (a loop?)", from);
      return;
    }
    std::vector<std::string> paths;
    auto st = fs->stat(pattern);
    if (st && st->type == FileInfo::Type::directory) {
      if (auto names = fs->list_dir(pattern))
        for (const auto &n : *names)
          if (n[0] != '.')
            paths.push_back(RootFs::join(pattern, n));
    } else if (pattern.find_first_of("*?[") != std::string::npos) {
      if (auto m = fs->glob(pattern))
        paths = *m;
    } else if (st) {
      paths.push_back(pattern);
    }
    if (paths.empty() && !optional && pattern.find_first_of("*?[") == std::string::npos)
      diag(Diagnostic::Level::error, "included file not found: " + text::printable(pattern), from);
    for (const auto &p : paths) {
      auto pst = fs->stat(p);
      if (pst && pst->type == FileInfo::Type::regular)
        read_file(p, depth + 1);
    }
  }
};

void RsyslogScanner::diag(size_t at, std::string msg, bool warning) {
  m_loader.diag(warning ? Diagnostic::Level::warning : Diagnostic::Level::error, std::move(msg),
                loc(at));
}

void RsyslogScanner::skip_blanks_and_comments() {
  while (!eof()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v') {
      ++m_pos;
    } else if (c == '#') {
      size_t nl = m_text.find('\n', m_pos);
      m_pos = nl == std::string_view::npos ? m_text.size() : nl;
    } else if (c == '/' && peek(1) == '*') {
      size_t e = m_text.find("*/", m_pos + 2);
      if (e == std::string_view::npos) {
        diag(m_pos, "unterminated comment");
        m_pos = m_text.size();
      } else {
        m_pos = e + 2;
      }
    } else {
      break;
    }
  }
}

std::string_view RsyslogScanner::rest_of_line() {
  size_t nl = m_text.find('\n', m_pos);
  size_t end = nl == std::string_view::npos ? m_text.size() : nl;
  std::string_view out = m_text.substr(m_pos, end - m_pos);
  m_pos = end;
  return text::trim(out);
}

std::string RsyslogScanner::read_word() {
  size_t b = m_pos;
  while (!eof()) {
    char c = peek();
    if (c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '(' || c == '{' || c == '}' ||
        c == '"' || c == '\'')
      break;
    ++m_pos;
  }
  return std::string(m_text.substr(b, m_pos - b));
}

std::string RsyslogScanner::read_string() {
  char q = peek();
  size_t start = m_pos++;
  std::string out;
  while (!eof()) {
    char c = m_text[m_pos++];
    if (c == '\\' && !eof()) {
      out += m_text[m_pos++];
      continue;
    }
    if (c == q)
      return out;
    out += c;
  }
  diag(start, "unterminated string");
  return out;
}

std::map<std::string, std::string> RsyslogScanner::read_params() {
  std::map<std::string, std::string> params;
  size_t open = m_pos;
  ++m_pos; // '('
  for (;;) {
    skip_blanks_and_comments();
    if (eof()) {
      diag(open, "missing ')'");
      return params;
    }
    if (peek() == ')') {
      ++m_pos;
      return params;
    }
    size_t b = m_pos;
    while (!eof() && rsyslog_ident_char(peek()))
      ++m_pos;
    std::string name = text::lower(m_text.substr(b, m_pos - b));
    skip_blanks_and_comments();
    if (name.empty() || peek() != '=') {
      diag(b, "expected name=\"value\" in parameter list");
      // Resynchronise at the closing parenthesis.
      while (!eof() && peek() != ')') {
        if (peek() == '"' || peek() == '\'')
          read_string();
        else
          ++m_pos;
      }
      continue;
    }
    ++m_pos;
    skip_blanks_and_comments();
    std::string value;
    if (peek() == '"' || peek() == '\'') {
      value = read_string();
    } else if (peek() == '[') {
      ++m_pos;
      for (;;) {
        skip_blanks_and_comments();
        if (eof() || peek() == ']') {
          if (!eof())
            ++m_pos;
          break;
        }
        if (peek() == '"' || peek() == '\'') {
          value += (value.empty() ? "" : ",") + read_string();
        } else {
          ++m_pos;
        }
      }
    } else {
      size_t vb = m_pos;
      while (!eof() && peek() != ')' && peek() != ' ' && peek() != '\t' && peek() != '\n')
        ++m_pos;
      value = std::string(m_text.substr(vb, m_pos - vb));
    }
    params[name] = std::move(value);
  }
}

void RsyslogScanner::skip_balanced_braces() {
  size_t open = m_pos;
  int depth = 0;
  while (!eof()) {
    char c = peek();
    if (c == '"' || c == '\'') {
      read_string();
      continue;
    }
    if (c == '#' || (c == '/' && peek(1) == '*')) {
      skip_blanks_and_comments();
      continue;
    }
    ++m_pos;
    if (c == '{')
      ++depth;
    else if (c == '}' && --depth == 0)
      return;
  }
  diag(open, "missing '}'");
}

void RsyslogScanner::skip_until_then() {
  size_t at = m_pos;
  while (!eof()) {
    char c = peek();
    if (c == '"' || c == '\'') {
      read_string();
      continue;
    }
    if (c == '#' || (c == '/' && peek(1) == '*') || c == ' ' || c == '\t' || c == '\n' ||
        c == '\r') {
      skip_blanks_and_comments();
      continue;
    }
    if (m_text.substr(m_pos).starts_with("then") &&
        (m_pos + 4 >= m_text.size() || !rsyslog_ident_char(m_text[m_pos + 4])) &&
        (m_pos == 0 || !rsyslog_ident_char(m_text[m_pos - 1]))) {
      m_pos += 4;
      return;
    }
    ++m_pos;
  }
  diag(at, "'if' without 'then'");
}

void RsyslogScanner::legacy_action(const std::string &selector, std::string_view act, size_t at) {
  m_last_selector = selector;
  if (act.starts_with("@")) {
    Forward f;
    f.type = act.starts_with("@@") ? "@@" : "@";
    std::string_view t = act.substr(f.type.size());
    if (t.starts_with("(")) {
      size_t e = t.find(')');
      t = e == std::string_view::npos ? std::string_view() : t.substr(e + 1);
    }
    size_t end = t.find_first_of("; \t");
    f.target = std::string(t.substr(0, end));
    f.selector = selector;
    f.ruleset = current_ruleset();
    f.loc = loc(at);
    f.stream_driver = m_legacy_driver;
    f.stream_driver_mode = m_legacy_driver_mode;
    if (f.target.empty())
      diag(at, "forwarding action without a host", true);
    else
      m_loader.cfg.forwards.push_back(std::move(f));
    return;
  }
  if (act.starts_with(":omrelp:") || act.starts_with(":omfwd:")) {
    Forward f;
    f.type = std::string(act.substr(1, act.find(':', 1) - 1));
    std::string_view t = act.substr(f.type.size() + 2);
    f.target = std::string(t.substr(0, t.find_first_of("; \t")));
    f.selector = selector;
    f.ruleset = current_ruleset();
    f.loc = loc(at);
    if (!f.target.empty())
      m_loader.cfg.forwards.push_back(std::move(f));
    return;
  }
  std::string_view file = act;
  if (file.starts_with("-"))
    file.remove_prefix(1);
  if (file.starts_with("/")) {
    size_t end = file.find_first_of("; \t");
    m_loader.cfg.file_actions.push_back(
        FileAction{selector, std::string(file.substr(0, end)), loc(at)});
  }
}

void RsyslogScanner::object_action(const std::string &selector, size_t at) {
  auto params = read_params();
  std::string type = text::lower(params["type"]);
  m_last_selector = selector;
  if (is_forward_type(type)) {
    Forward f;
    f.type = type;
    for (const char *k : {"target", "server", "broker", "host", "url"})
      if (auto it = params.find(k); it != params.end() && !it->second.empty()) {
        f.target = it->second;
        break;
      }
    if (auto it = params.find("port"); it != params.end() && !f.target.empty())
      f.target += ":" + it->second;
    if (auto it = params.find("streamdriver"); it != params.end())
      f.stream_driver = text::lower(it->second);
    if (auto it = params.find("streamdrivermode"); it != params.end())
      f.stream_driver_mode = it->second;
    for (const char *k : {"tls", "usehttps"})
      if (auto it = params.find(k); it != params.end())
        f.tls_param = text::lower(it->second);
    f.selector = selector;
    f.ruleset = current_ruleset();
    f.loc = loc(at);
    if (f.target.empty())
      diag(at, "action(type=\"" + type + "\") without a target", true);
    else
      m_loader.cfg.forwards.push_back(std::move(f));
  } else if (type == "omfile" && !params["file"].empty()) {
    m_loader.cfg.file_actions.push_back(FileAction{selector, params["file"], loc(at)});
  }
}

// What follows a selector, `then`, `else` or `&`.
void RsyslogScanner::action(const std::string &selector, size_t) {
  while (!eof() && (peek() == ' ' || peek() == '\t'))
    ++m_pos;
  skip_blanks_and_comments();
  if (eof())
    return;
  size_t at = m_pos;
  if (peek() == '{') {
    ++m_pos;
    m_blocks.emplace_back();
    return;
  }
  if (m_text.substr(m_pos).starts_with("action")) {
    size_t save = m_pos;
    m_pos += 6;
    while (!eof() && (peek() == ' ' || peek() == '\t'))
      ++m_pos;
    if (peek() == '(') {
      object_action(selector, at);
      return;
    }
    m_pos = save;
  }
  if (m_text.substr(m_pos).starts_with("stop") || m_text.substr(m_pos).starts_with("call")) {
    rest_of_line();
    return;
  }
  legacy_action(selector, rest_of_line(), at);
}

void RsyslogScanner::statement(const std::string &selector) {
  size_t at = m_pos;
  char c = peek();
  if (c == '$') {
    std::string_view line = rest_of_line();
    size_t sp = line.find_first_of(" \t");
    std::string name = text::lower(line.substr(0, sp));
    std::string value(sp == std::string_view::npos ? "" : text::trim(line.substr(sp)));
    if (name == "$includeconfig")
      m_loader.include(value, m_depth, loc(at), false);
    else if (name == "$defaultnetstreamdriver") {
      m_loader.cfg.default_netstream_driver = text::lower(value);
      m_loader.cfg.default_netstream_driver_loc = loc(at);
    } else if (name == "$actionsendstreamdriver")
      m_legacy_driver = text::lower(value);
    else if (name == "$actionsendstreamdrivermode")
      m_legacy_driver_mode = value;
    else if (name == "$ruleset")
      m_legacy_ruleset = value == "RSYSLOG_DefaultRuleset" ? "" : value;
    return;
  }
  if (c == '{') {
    ++m_pos;
    m_blocks.emplace_back();
    return;
  }
  if (c == '}') {
    ++m_pos;
    if (m_blocks.empty())
      diag(at, "unexpected '}'");
    else
      m_blocks.pop_back();
    return;
  }
  if (c == '&') {
    ++m_pos;
    action(m_last_selector, at);
    return;
  }
  if (c == ':') {
    // Property filter: `:property, [!]compare-op, "value"  ACTION`.
    while (!eof() && peek() != '"' && peek() != '\n')
      ++m_pos;
    if (peek() == '"')
      read_string();
    action("", at);
    return;
  }
  std::string word = read_word();
  if (word.empty()) {
    diag(at, "unexpected character " + text::printable(std::string(1, c)));
    ++m_pos;
    return;
  }
  std::string lw = text::lower(word);
  size_t after_word = m_pos;
  skip_blanks_and_comments();
  bool object = peek() == '(';
  if (lw == "if") {
    m_pos = after_word;
    skip_until_then();
    action("", at);
    return;
  }
  if (lw == "else") {
    m_pos = after_word;
    action("", at);
    return;
  }
  if (lw == "ruleset" && object) {
    auto params = read_params();
    skip_blanks_and_comments();
    if (peek() == '{') {
      ++m_pos;
      std::string name = params["name"];
      m_blocks.push_back(name.empty() ? "(unnamed)" : name);
    }
    return;
  }
  if (lw == "action" && object) {
    object_action(selector, at);
    return;
  }
  if (lw == "include" && object) {
    auto params = read_params();
    bool optional = text::lower(params["mode"]) == "optional";
    if (!params["file"].empty())
      m_loader.include(params["file"], m_depth, loc(at), optional);
    else if (!params["text"].empty())
      RsyslogScanner(m_loader, m_path, params["text"], m_depth + 1).run();
    return;
  }
  if (object) {
    // module(), input(), template(), global(), ...: nothing forwards here;
    // global() may set the default stream driver.
    auto params = read_params();
    if (lw == "global")
      if (auto it = params.find("defaultnetstreamdriver"); it != params.end()) {
        m_loader.cfg.default_netstream_driver = text::lower(it->second);
        m_loader.cfg.default_netstream_driver_loc = loc(at);
      }
    skip_blanks_and_comments();
    if (lw == "template" && peek() == '{')
      skip_balanced_braces();
    return;
  }
  if (lw == "set" || lw == "unset" || lw == "reset") {
    while (!eof() && peek() != ';') {
      if (peek() == '"' || peek() == '\'')
        read_string();
      else
        ++m_pos;
    }
    ++m_pos;
    return;
  }
  if (lw == "stop" || lw == "call" || lw == "foreach") {
    m_pos = after_word;
    rest_of_line();
    return;
  }
  if (word.find('.') != std::string::npos) {
    m_pos = after_word;
    action(word, at); // a sysklogd selector line
    return;
  }
  m_pos = after_word;
  diag(at, "unknown statement: " + text::printable(word), true);
  rest_of_line();
}

void RsyslogScanner::run() {
  for (;;) {
    skip_blanks_and_comments();
    if (eof())
      break;
    size_t before = m_pos;
    statement("");
    if (m_pos == before)
      ++m_pos; // always make progress on hostile input
  }
  if (!m_blocks.empty())
    diag(m_text.size() ? m_text.size() - 1 : 0, "missing '}' at end of file");
}

} // namespace

bool uses_tls(const Config &cfg, const Forward &f) {
  if (f.type == "@")
    return false;
  if (f.type == "@@" || f.type == "omfwd") {
    std::string driver = f.stream_driver.empty() ? cfg.default_netstream_driver : f.stream_driver;
    return (driver == "gtls" || driver == "ossl") && text::trim(f.stream_driver_mode) == "1";
  }
  if (f.tls_param == "on" || f.tls_param == "1" || f.tls_param == "yes")
    return true;
  return text::starts_with(text::lower(f.target), "https://");
}

bool selector_takes(std::string_view selector, std::string_view facility) {
  // Items apply left to right: "*.*;auth.none" takes everything but auth.
  bool takes = false;
  for (auto &item : text::split(selector, ';')) {
    size_t dot = item.rfind('.');
    if (dot == std::string::npos)
      continue;
    std::string_view pri = std::string_view(item).substr(dot + 1);
    for (auto &f : text::split(std::string_view(item).substr(0, dot), ','))
      if (f == facility || f == "*") {
        takes = pri != "none" && pri != "!*";
        break;
      }
  }
  return takes;
}

Config parse_rsyslog_text(const std::string &path, std::string_view text) {
  Config cfg;
  cfg.present = true;
  cfg.files.push_back(path);
  RsyslogLoader loader{nullptr, cfg};
  RsyslogScanner(loader, path, text, 0).run();
  return cfg;
}

Config load_rsyslog(const RootFs &fs, const std::string &main) {
  Config cfg;
  if (!fs.exists(main))
    return cfg;
  cfg.present = true;
  RsyslogLoader loader{&fs, cfg};
  loader.read_file(main, 0);
  return cfg;
}

} // namespace bulwark::rsyslog
