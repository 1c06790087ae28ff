#pragma once
// `bulwark fix --format ansible`: the plan as an Ansible playbook.

#include <bulwark/fix/plan.hpp>

#include <string>

namespace bulwark::fix {

// One play (hosts: all, become: true, gather_facts: false) whose tasks use
// only ansible.builtin modules, one task per edit and command of each
// action, in the plan's order:
// - a written file: `copy` with the whole `after` as `content` (owner,
//   group and mode from the edit; a new file root:root 0644) and, where the
//   daemon has a checker that accepts a single file, `validate:` with it
//   (sshd -t -f %s for sshd_config and its drop-ins, visudo -cf %s for
//   sudoers files, nginx -t -c %s for nginx.conf, nft -c -f %s for
//   nftables files); `lineinfile` instead when the edit sets `line` and
//   lineinfile's own rule (replace the last line matching `line_regexp`,
//   else append) turns `before` into exactly `after`;
// - a removed file: `file` state=absent; attributes only: `file` with mode,
//   owner, group;
// - a command: `command` with `argv` and `creates`.
// sysctl settings are files of /etc/sysctl.d written with `copy`, not the
// `sysctl` module: that module rewrites its own file and writes the kernel
// at once, which would neither keep the plan's placement nor match `after`.
//
// Paths are prefixed by the play variable `bulwark_root` ("" by default:
// the managed host itself). With `-e bulwark_root=/some/dir` the playbook
// writes into that directory instead (a scratch copy, an image), and its
// commands run through `chroot {{ bulwark_root }}`.
//
// Units of restart_units are notified to handlers that restart them only
// when the play variable `bulwark_restart` is true (`-e bulwark_restart=true`,
// like `bulwark fix --restart`); otherwise a handler reports that they need
// a restart.
//
// Hostile content is inert: every string from the plan is a YAML
// double-quoted scalar tagged `!unsafe` (Ansible never templates it), with
// control characters, quotes and YAML's extra line breaks escaped. Content
// that is not valid UTF-8 cannot travel in YAML: its task is an
// `ansible.builtin.fail` that stops the play before anything is written.
std::string render_ansible(const Plan &plan);

} // namespace bulwark::fix
