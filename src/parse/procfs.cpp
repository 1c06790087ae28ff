#include <bulwark/parse/procfs.hpp>

#include <bulwark/core/text.hpp>

#include <algorithm>
#include <cerrno>
#include <charconv>

namespace bulwark::procfs {

namespace {

constexpr size_t k_max_proc_file = 1024 * 1024; // status is ~1.5 KB, cmdline at most ARG_MAX

bool procfs_all_digits(std::string_view s) {
  return !s.empty() && s.find_first_not_of("0123456789") == std::string_view::npos;
}

// "1000\t1000\t1000\t1000": the four ids of a Uid:/Gid: line.
std::optional<Ids> parse_ids(std::string_view v) {
  long n[4];
  size_t i = 0;
  for (auto &w : text::split(v, '\t')) {
    std::string_view t = text::trim(w);
    if (t.empty())
      continue;
    if (i == 4 || !procfs_all_digits(t) || t.size() > 10)
      return std::nullopt;
    auto r = std::from_chars(t.data(), t.data() + t.size(), n[i]);
    if (r.ec != std::errc{} || n[i] > 0xffffffffL)
      return std::nullopt;
    ++i;
  }
  if (i != 4)
    return std::nullopt;
  return Ids{n[0], n[1], n[2], n[3]};
}

} // namespace

Result<Status> parse_status(std::string_view text, const std::string &path) {
  Status s;
  int line = 0;
  for (auto &raw : text::split(text, '\n', true)) {
    ++line;
    size_t colon = raw.find(':');
    if (colon == std::string::npos)
      continue;
    std::string_view key = std::string_view(raw).substr(0, colon);
    std::string_view value = std::string_view(raw).substr(colon + 1);
    if (key == "Name") {
      s.name = std::string(text::trim(value));
    } else if (key == "Uid" || key == "Gid") {
      auto ids = parse_ids(value);
      if (!ids)
        return Error{std::string(key) + ": expected four ids, found \"" +
                         text::printable(value, 80) + "\"",
                     path, line};
      (key == "Uid" ? s.uid : s.gid) = *ids;
    }
  }
  if (!s.uid || !s.gid)
    return Error{"no Uid: or Gid: line", path, 0};
  return s;
}

std::vector<std::string> parse_cmdline(std::string_view bytes) {
  std::vector<std::string> argv;
  size_t i = 0;
  while (i < bytes.size()) {
    size_t z = bytes.find('\0', i);
    if (z == std::string_view::npos)
      z = bytes.size();
    argv.emplace_back(bytes.substr(i, z - i));
    i = z + 1;
  }
  return argv;
}

std::string_view base_name(std::string_view arg) {
  size_t slash = arg.rfind('/');
  return slash == std::string_view::npos ? arg : arg.substr(slash + 1);
}

Result<ProcessTable> load_processes(const RootFs &fs, const std::string &proc_dir) {
  ProcessTable t;
  t.proc_dir = proc_dir;
  auto names = fs.list_dir(proc_dir);
  if (!names)
    return names.error();
  for (const auto &n : *names) {
    if (!procfs_all_digits(n) || n.size() > 9)
      continue; // self, thread-self, sys, net, ...
    Process p;
    p.pid = std::stoi(n);
    p.dir = proc_dir + "/" + n;
    // Read status first: a process gone by then is skipped whole.
    auto status_text = fs.read_file(p.dir + "/status", k_max_proc_file);
    if (!status_text) {
      if (status_text.error().not_found() || status_text.error().sys_errno == ESRCH)
        continue; // exited since the listing
      return status_text.error();
    }
    auto status = parse_status(*status_text, p.dir + "/status");
    if (!status)
      return status.error();
    p.uid = *status->uid;
    p.gid = *status->gid;
    auto comm = fs.read_file(p.dir + "/comm", 4096);
    p.comm = comm ? *comm : status->name;
    if (!p.comm.empty() && p.comm.back() == '\n')
      p.comm.pop_back();
    if (auto cmd = fs.read_file(p.dir + "/cmdline", k_max_proc_file))
      p.argv = parse_cmdline(*cmd);
    if (auto cwd = fs.read_link(p.dir + "/cwd"))
      p.cwd = *cwd;
    t.processes.push_back(std::move(p));
  }
  std::sort(t.processes.begin(), t.processes.end(),
            [](const Process &a, const Process &b) { return a.pid < b.pid; });
  return t;
}

Result<FileInfo> stat_in_process_root(const RootFs &fs, const std::string &proc_dir, int pid,
                                      const std::string &path) {
  // A RootFs whose root is the process's root directory (opening
  // proc_dir/PID/root follows the magic link into it): the path's symlinks
  // are resolved as the process would resolve them.
  std::string root =
      RootFs::join(fs.host_root(), "." + proc_dir + "/" + std::to_string(pid) + "/root");
  RootFs theirs(root);
  return theirs.stat(path);
}

} // namespace bulwark::procfs
