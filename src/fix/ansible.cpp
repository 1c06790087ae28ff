// The plan as an Ansible playbook (see ansible.hpp). Module semantics from
// ansible-core 2.14 (Debian 12's `ansible`): lib/ansible/modules/copy.py,
// lineinfile.py (present()), file.py, command.py.

#include <bulwark/fix/ansible.hpp>

#include <bulwark/core/text.hpp>

#include <cstdio>
#include <regex>
#include <set>

namespace bulwark::fix {
namespace {

// UTF-8 decode of one code point at s[i]; advances i. -1 when invalid.
long next_code_point(std::string_view s, size_t &i) {
  auto c = static_cast<unsigned char>(s[i]);
  if (c < 0x80) {
    ++i;
    return c;
  }
  int len = (c & 0xE0) == 0xC0 ? 2 : (c & 0xF0) == 0xE0 ? 3 : (c & 0xF8) == 0xF0 ? 4 : 0;
  if (len == 0 || i + static_cast<size_t>(len) > s.size())
    return -1;
  long cp = c & (0x7F >> len);
  for (int k = 1; k < len; ++k) {
    auto cc = static_cast<unsigned char>(s[i + static_cast<size_t>(k)]);
    if ((cc & 0xC0) != 0x80)
      return -1;
    cp = (cp << 6) | (cc & 0x3F);
  }
  static const long k_min[] = {0, 0, 0x80, 0x800, 0x10000};
  if (cp < k_min[len] || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
    return -1;
  i += static_cast<size_t>(len);
  return cp;
}

bool valid_utf8(std::string_view s) {
  for (size_t i = 0; i < s.size();)
    if (next_code_point(s, i) < 0)
      return false;
  return true;
}

// A YAML double-quoted scalar. REQUIRES: valid_utf8(s).
std::string dq(std::string_view s) {
  std::string out = "\"";
  for (size_t i = 0; i < s.size();) {
    size_t start = i;
    long cp = next_code_point(s, i);
    char buf[16];
    switch (cp) {
    case '"': out += "\\\""; continue;
    case '\\': out += "\\\\"; continue;
    case '\n': out += "\\n"; continue;
    case '\t': out += "\\t"; continue;
    case 0x85: out += "\\N"; continue;
    case 0x2028: out += "\\L"; continue;
    case 0x2029: out += "\\P"; continue;
    default: break;
    }
    if (cp < 0x20 || cp == 0x7F || (cp >= 0x80 && cp < 0xA0) || cp == 0xFEFF) {
      std::snprintf(buf, sizeof buf, "\\u%04lX", static_cast<unsigned long>(cp));
      out += buf;
    } else {
      out.append(s.substr(start, i - start));
    }
  }
  return out + "\"";
}

// An inert string: never templated by Ansible.
std::string unsafe(std::string_view s) {
  return "!unsafe " + dq(s);
}

// A YAML comment line: no line breaks or control characters.
std::string comment_text(std::string_view s) {
  std::string out;
  for (char c : s)
    out += (static_cast<unsigned char>(c) < 0x20 || c == 0x7F) ? '?' : c;
  return out;
}

// The checker that accepts the single file `path`, for copy's validate.
std::string validate_command(const Action &a, const std::string &path) {
  auto has = [&](Validator v) {
    for (auto x : a.validators)
      if (x == v)
        return true;
    return false;
  };
  if (has(Validator::sshd) &&
      (path == "/etc/ssh/sshd_config" || path.starts_with("/etc/ssh/sshd_config.d/")))
    return "/usr/sbin/sshd -t -f %s";
  if (has(Validator::visudo) && (path == "/etc/sudoers" || path.starts_with("/etc/sudoers.d/")))
    return "/usr/sbin/visudo -cf %s";
  if (has(Validator::fstab) && path == "/etc/fstab")
    return "/usr/bin/findmnt --verify --tab-file %s";
  if (has(Validator::iptables) && path == "/etc/ufw/user.rules")
    return "/usr/sbin/iptables-restore --test %s";
  if (has(Validator::ip6tables) && path == "/etc/ufw/user6.rules")
    return "/usr/sbin/ip6tables-restore --test %s";
  if (has(Validator::nginx) && path == "/etc/nginx/nginx.conf")
    return "/usr/sbin/nginx -t -c %s";
  // Not nftables.conf: it includes files by absolute path, which under
  // bulwark_root would be the host's; the included .nft files are checked.
  if (has(Validator::nft) && path.ends_with(".nft"))
    return "/usr/sbin/nft -c -f %s";
  return "";
}

// What lineinfile (state=present, no insertafter, firstmatch=false,
// backrefs=false) makes of `before`; nullopt when the regexp cannot be used.
std::optional<std::string> simulate_lineinfile(const std::string &before, const std::string &line,
                                               const std::string &regexp) {
  std::vector<std::string> lines;
  for (size_t start = 0; start < before.size();) {
    size_t nl = before.find('\n', start);
    size_t end = nl == std::string::npos ? before.size() : nl + 1;
    lines.push_back(before.substr(start, end - start));
    start = end;
  }
  auto strip = [](std::string l) {
    while (!l.empty() && (l.back() == '\n' || l.back() == '\r'))
      l.pop_back();
    return l;
  };
  long found = -1;
  try {
    std::regex re(regexp, std::regex::ECMAScript);
    for (size_t i = 0; i < lines.size(); ++i)
      if (std::regex_search(strip(lines[i]), re))
        found = static_cast<long>(i);
  } catch (const std::exception &) {
    return std::nullopt;
  }
  if (found >= 0) {
    lines[static_cast<size_t>(found)] = line + "\n";
  } else {
    for (const auto &l : lines)
      if (strip(l) == line)
        return before; // the exact line is there already
    if (!lines.empty() && lines.back().back() != '\n')
      lines.back() += '\n';
    lines.push_back(line + "\n");
  }
  std::string out;
  for (const auto &l : lines)
    out += l;
  return out;
}

std::string handler_topic(const std::string &unit) {
  return "bulwark restart " + unit;
}

class Writer {
public:
  std::string m_out;

  void task_header(const std::string &name, const std::string &path) {
    m_out += "    - name: " + unsafe(name) + "\n";
    if (!path.empty())
      m_out += "      vars:\n        bulwark_path: " + unsafe(path) + "\n";
  }

  void fail_task(const std::string &name, const std::string &why) {
    m_out += "    - name: " + unsafe(name) + "\n";
    m_out += "      ansible.builtin.fail:\n        msg: " + unsafe(why) + "\n";
  }

  void notify(const Action &a) {
    if (a.restart_units.empty())
      return;
    m_out += "      notify:\n";
    for (const auto &u : a.restart_units)
      m_out += "        - " + unsafe(handler_topic(u)) + "\n";
  }

  void edit(const Action &a, const FileEdit &e) {
    const std::string dest = "\"{{ bulwark_root }}{{ bulwark_path }}\"";
    std::string label = a.check_id + ": " + e.path;
    for (const auto *s : {&e.path, &e.after, &a.check_id})
      if (!valid_utf8(*s)) {
        fail_task(valid_utf8(label) ? label : std::string("bulwark: unrepresentable edit"),
                  "bulwark: this edit is not valid UTF-8 and cannot be carried by a "
                  "playbook; apply it with `bulwark fix --apply`");
        return;
      }
    if (e.line && e.line_regexp && !valid_utf8(*e.line + *e.line_regexp)) {
      fail_task(label, "bulwark: the line is not valid UTF-8");
      return;
    }
    if (!e.ansible_commands.empty()) {
      // A file with secrets (/etc/shadow) is changed by its own tools on the
      // managed host; its content never goes into the playbook.
      for (const auto &argv : e.ansible_commands)
        command(a, Command{argv, ""});
      return;
    }
    // A new file's directory may be new too (/etc/nftables.d): copy and
    // file state=link do not create parents. An existing one is left as is.
    if (!e.before && (e.kind == FileEdit::Kind::write || e.kind == FileEdit::Kind::symlink)) {
      std::string dir = e.path.substr(0, e.path.rfind('/'));
      if (!dir.empty()) {
        task_header(label + " (directory)", dir);
        m_out +=
            "      ansible.builtin.file:\n        path: " + dest + "\n        state: directory\n";
      }
    }
    switch (e.kind) {
    case FileEdit::Kind::remove:
      task_header(label + " (remove)", e.path);
      m_out += "      ansible.builtin.file:\n        path: " + dest + "\n        state: absent\n";
      break;
    case FileEdit::Kind::symlink:
      if (e.after.empty()) { // a mask removed: `file state=absent` removes the link itself
        task_header(label + " (remove link)", e.path);
        m_out += "      ansible.builtin.file:\n        path: " + dest + "\n        state: absent\n";
        break;
      }
      task_header(label + " (link)", e.path);
      // The link's text as written (a unit file path inside the root).
      m_out += "      ansible.builtin.file:\n        path: " + dest +
               "\n        src: " + unsafe(e.after) +
               "\n        state: link\n        force: false\n";
      break;
    case FileEdit::Kind::attributes:
      task_header(label + " (attributes)", e.path);
      // No `state:`: the file module then keeps what the path is (a
      // directory stays one; `state: file` fails on it) and, like the
      // engine, never creates a missing path.
      m_out += "      ansible.builtin.file:\n        path: " + dest + "\n";
      attributes(e, false);
      break;
    case FileEdit::Kind::write: {
      std::string check = validate_command(a, e.path);
      bool use_line = e.line && e.line_regexp && e.before &&
                      simulate_lineinfile(*e.before, *e.line, *e.line_regexp) == e.after;
      if (use_line) {
        task_header(label, e.path);
        m_out += "      ansible.builtin.lineinfile:\n        path: " + dest + "\n";
        m_out += "        regexp: " + unsafe(*e.line_regexp) + "\n";
        m_out += "        line: " + unsafe(*e.line) + "\n";
      } else {
        task_header(label, e.path);
        m_out += "      ansible.builtin.copy:\n        dest: " + dest + "\n";
        m_out += "        content: " + unsafe(e.after) + "\n";
      }
      attributes(e, !e.before.has_value());
      if (!check.empty())
        m_out += "        validate: " + unsafe(check) + "\n";
      break;
    }
    }
    notify(a);
  }

  void attributes(const FileEdit &e, bool created) {
    if (e.mode)
      m_out += "        mode: \"" + text::octal_mode(*e.mode) + "\"\n";
    else if (created)
      m_out += "        mode: \"0644\"\n";
    if (e.owner)
      m_out += "        owner: " + unsafe(*e.owner) + "\n";
    else if (created)
      m_out += "        owner: root\n";
    if (e.group)
      m_out += "        group: " + unsafe(*e.group) + "\n";
    else if (created)
      m_out += "        group: root\n";
  }

  void command(const Action &a, const Command &c) {
    std::string shown;
    bool ok = valid_utf8(a.check_id);
    for (const auto &arg : c.argv) {
      ok = ok && valid_utf8(arg);
      shown += (shown.empty() ? "" : " ") + arg;
    }
    ok = ok && valid_utf8(c.creates) && !c.argv.empty();
    if (!ok) {
      fail_task("bulwark: unrepresentable command",
                "bulwark: a command of this plan is empty or not valid UTF-8");
      return;
    }
    // Two tasks: on the host itself, and through chroot into bulwark_root.
    for (bool chrooted : {false, true}) {
      m_out += "    - name: " +
               unsafe(a.check_id + ": " + shown + (chrooted ? " (in bulwark_root)" : "")) + "\n";
      if (!c.creates.empty())
        m_out += "      vars:\n        bulwark_creates: " + unsafe(c.creates) + "\n";
      m_out += "      ansible.builtin.command:\n        argv:\n";
      if (chrooted)
        m_out += "          - chroot\n          - \"{{ bulwark_root }}\"\n";
      for (const auto &arg : c.argv)
        m_out += "          - " + unsafe(arg) + "\n";
      if (!c.creates.empty())
        m_out += "        creates: \"{{ bulwark_root }}{{ bulwark_creates }}\"\n";
      m_out += chrooted ? "      when: bulwark_root | length > 0\n"
                        : "      when: bulwark_root | length == 0\n";
      notify(a);
    }
  }
};

} // namespace

std::string render_ansible(const Plan &plan) {
  Writer w;
  std::string &out = w.m_out;
  out += "---\n# bulwark fix: the plan as a playbook (generated; edit the plan, not this file).\n";
  out += "# root: " + comment_text(plan.root) + "; profile: " + comment_text(plan.profile) + "\n";
  out += "# -e bulwark_root=DIR writes into DIR instead of the host's /;\n";
  out += "# -e bulwark_restart=true restarts the units that need it (off by default).\n";
  for (const auto &r : plan.refused)
    out += "# refused: " + comment_text(r.check_id) + " " + comment_text(r.subject) + ": " +
           comment_text(r.reason) + "\n";
  for (const auto &u : plan.unfixable)
    out += "# no recipe: " + comment_text(u) + "\n";
  out += "- name: bulwark fix\n  hosts: all\n  become: true\n  gather_facts: false\n";
  out += "  vars:\n    bulwark_root: \"\"\n    bulwark_restart: false\n";
  out += "  tasks:\n";
  std::set<std::string> units;
  size_t tasks = 0;
  for (const auto &a : plan.actions) {
    for (const auto &e : a.edits) {
      w.edit(a, e);
      ++tasks;
    }
    for (const auto &c : a.commands) {
      w.command(a, c);
      ++tasks;
    }
    for (const auto &u : a.restart_units)
      if (valid_utf8(u))
        units.insert(u);
  }
  if (tasks == 0)
    out +=
        "    - name: nothing to fix\n      ansible.builtin.debug:\n        msg: nothing to fix\n";
  if (!units.empty()) {
    out += "  handlers:\n";
    for (const auto &u : units) {
      out += "    - name: " + unsafe("restart " + u) + "\n";
      out += "      ansible.builtin.service:\n        name: " + unsafe(u) +
             "\n        state: restarted\n";
      out += "      when: bulwark_restart | bool and bulwark_root | length == 0\n";
      out += "      listen: " + unsafe(handler_topic(u)) + "\n";
      out += "    - name: " + unsafe(u + " needs a restart") + "\n";
      out += "      ansible.builtin.debug:\n        msg: " +
             unsafe(u + " needs a restart for the fix to take effect (bulwark_restart=true "
                        "restarts it)") +
             "\n";
      out += "      when: not (bulwark_restart | bool) or bulwark_root | length > 0\n";
      out += "      listen: " + unsafe(handler_topic(u)) + "\n";
    }
  }
  return out;
}

} // namespace bulwark::fix
