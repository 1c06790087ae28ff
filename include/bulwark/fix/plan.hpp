#pragma once
// bulwark fix: the plan. A Plan is what `bulwark fix` prints (unified diffs
// and commands), what `--apply` carries out as one transaction, and what
// `--format ansible` writes as a playbook. It is plain data: recipes turn the
// audit's failing findings into Actions; nothing in this header touches the
// disk. Paths are absolute paths inside the audited root ("/etc/ssh/...").

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace bulwark::fix {

// The program that must accept a changed configuration before it is
// activated (src/fix/validate.cpp runs it, inside the root).
enum class Validator {
  sshd,      // sshd -t -f /etc/ssh/sshd_config
  visudo,    // visudo -c -f /etc/sudoers (follows its includes)
  nginx,     // nginx -t -c /etc/nginx/nginx.conf
  nft,       // nft -c -f <file>
  postgres,  // postgres -C <param> -D <datadir> (a parse of the whole conf)
  fail2ban,  // fail2ban-client -t (or -d) with the root's /etc/fail2ban
  compose,   // docker compose / docker-compose config -q over the project
  sysctl,    // the files parse (bulwark's sysctl.d parser; no kernel write)
  redis,     // redis-server <conf> with no listener: loads the config, then exits
  pg_hba,    // pg_hba.conf parses (bulwark's hba.c reader; postgres -C skips it)
  pam,       // the root's pam-auth-update --package writes the plan's common-* files
  fstab,     // findmnt --verify --tab-file /etc/fstab (util-linux)
  iptables,  // iptables-restore --test /etc/ufw/user.rules (ufw's IPv4 rules)
  ip6tables, // ip6tables-restore --test /etc/ufw/user6.rules
};
const char *validator_name(Validator v); // "sshd", "visudo", ...

// One file as the plan leaves it.
struct FileEdit {
  // symlink: the symbolic link at `path` goes from the text `before`
  // (nullopt: the path does not exist) to the text `after` ("": removed).
  // Created: an enablement link such as sysinit.target.wants/nftables.service
  // (the rollback removes it); removed: a mask (auditd.service -> /dev/null,
  // what `systemctl unmask` removes; the rollback puts the link back). A
  // path that is not a link with text `before` is never touched.
  enum class Kind { write, remove, attributes, symlink };
  Kind kind = Kind::write;
  std::string path; // absolute inside the root
  // The file before the plan: nullopt when it does not exist. For `write`
  // and `remove` the whole content (the diff and the rollback use it).
  std::optional<std::string> before;
  std::string after; // `write`: the whole new content
  // Wanted attributes; nullopt keeps the current value (a new file is
  // created root:root 0644 unless set).
  std::optional<uint32_t> mode; // permission bits, 07777
  std::optional<std::string> owner;
  std::optional<std::string> group;
  // Ansible rendering: when the edit sets exactly one line of an existing
  // file, the line and the regexp it replaces (lineinfile); else `copy`.
  std::optional<std::string> line;
  std::optional<std::string> line_regexp;
  // The file holds secrets (/etc/shadow's hashes): the printed diff masks
  // them, and the playbook runs `ansible_commands` instead of carrying it.
  bool secret = false;
  std::vector<std::vector<std::string>> ansible_commands;
};

// A command run after the edits (inside the root), e.g. `pam-auth-update
// --package`, `systemctl mask X` with --root. `creates`: a path whose
// existence means the command has already run (idempotence, Ansible).
struct Command {
  std::vector<std::string> argv;
  std::string creates;
};

struct Action {
  std::string check_id; // "ssh.permit-root-login"
  std::string subject;  // the finding's subject ("" when none)
  std::string summary;  // one line: what the fix does and where
  std::vector<FileEdit> edits;
  std::vector<Command> commands;
  std::vector<Validator> validators;
  // Units that must restart (or reload) for the fix to take effect. Never
  // restarted without `--restart`; reported otherwise.
  std::vector<std::string> restart_units;
  // The failing subjects the action fixes; empty: every failing finding of
  // the check. A recipe that leaves some subjects alone (a compose service
  // the setting could break) lists the others: the re-audit judges those.
  std::vector<std::string> subjects;
};

// A failing finding with a recipe whose fix bulwark refuses to make: it
// would lock the operator out, the validator rejected it, or the re-audit
// did not turn the finding to pass / failed another check.
struct Refusal {
  std::string check_id;
  std::string subject;
  std::string reason;
};

struct Plan {
  std::string root;    // "/" or the --root directory
  std::string profile; // the profile the audit ran under
  std::vector<Action> actions;
  std::vector<Refusal> refused;
  std::vector<std::string> unfixable; // failing ids without a recipe
};

} // namespace bulwark::fix
