#pragma once
// The processes of a running Linux host, read from its /proc (proc(5);
// fs/proc/base.c and fs/proc/array.c), through a RootFs: "/" on the live
// host, a fixture directory shaped like /proc in tests.
//
// - /proc/PID/comm: the task name, at most 15 bytes and a newline. A process
//   sets it itself (prctl PR_SET_NAME): a hint, never proof.
// - /proc/PID/cmdline: argv as NUL-terminated strings, as the process last
//   left its argument area (it may rewrite it: "sshd: alice [priv]"); empty
//   for kernel threads and zombies. A missing final NUL (an argument area
//   rewritten without one) is accepted.
// - /proc/PID/status: "Key:\tvalue" lines; Uid: and Gid: carry four ids,
//   real, effective, saved set and filesystem (task_state() in array.c).
// - /proc/PID/cwd and /proc/PID/root are magic links: readlink gives the
//   path as the reader's root sees it; opening through /proc/PID/root enters
//   the process's own view of the file system (a container's).
// A process may exit between the listing of /proc and the reading of its
// files: it is left out. /proc itself unreadable, or a status file that
// does not have the kernel's shape, is an error.

#include <bulwark/core/result.hpp>
#include <bulwark/core/rootfs.hpp>

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bulwark::procfs {

struct Ids {
  long real = -1, effective = -1, saved = -1, fs = -1;
};

struct Status {
  std::string name; // Name: (escaped by the kernel like comm)
  std::optional<Ids> uid, gid;
};

// /proc/PID/status text. Lines without a colon and keys other than Name,
// Uid and Gid are skipped. Error (with `path` and the line) when a Uid: or
// Gid: line does not hold four decimal ids, or when either is missing.
Result<Status> parse_status(std::string_view text, const std::string &path);

// argv from /proc/PID/cmdline bytes: NUL-separated, the final NUL optional.
// Empty input (a kernel thread) is an empty argv.
std::vector<std::string> parse_cmdline(std::string_view bytes);

// The last component of a path-like argument: "/usr/bin/fail2ban-server" ->
// "fail2ban-server".
std::string_view base_name(std::string_view arg);

struct Process {
  int pid = 0;
  std::string dir;  // its directory as a target path: "/proc/812"
  std::string comm; // without the newline
  std::vector<std::string> argv;
  Ids uid, gid;
  std::string cwd; // readlink of cwd; "" when unreadable (another user's, not root)
};

struct ProcessTable {
  std::string proc_dir = "/proc";
  std::vector<Process> processes; // by pid
};

// Every process under proc_dir. Error when proc_dir cannot be listed or a
// process's status is malformed.
Result<ProcessTable> load_processes(const RootFs &fs, const std::string &proc_dir = "/proc");

// `path` (absolute) as process `pid` sees it: resolved inside the process's
// own root (proc_dir/PID/root), so a daemon in a container whose path equals
// a host file's is not taken for that file. FileInfo's dev and ino say
// whether it is the same file as one the auditor sees.
Result<FileInfo> stat_in_process_root(const RootFs &fs, const std::string &proc_dir, int pid,
                                      const std::string &path);

} // namespace bulwark::procfs
