// libFuzzer: /proc/PID/status and /proc/PID/cmdline (parse/procfs.hpp), and
// the /proc/net socket tables (parse/proc_net.hpp) on the same bytes.

#include <bulwark/parse/proc_net.hpp>
#include <bulwark/parse/procfs.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto s = bulwark::procfs::parse_status(text, "/proc/1/status");
  if (s.ok() && (!s->uid || !s->gid || s->uid->effective < 0 || s->gid->fs < 0))
    __builtin_trap(); // a parsed status always has both ids, none negative
  if (!s.ok() && s.error().path != "/proc/1/status")
    __builtin_trap();
  size_t bytes = 0;
  auto argv = bulwark::procfs::parse_cmdline(text);
  for (auto &a : argv) {
    bytes += a.size() + 1;
    if (a.find('\0') != std::string::npos)
      __builtin_trap();
    (void)bulwark::procfs::base_name(a);
  }
  // Every byte is an argument's or its separator's (the final NUL optional).
  if (bytes != size && bytes != size + 1)
    __builtin_trap();
  for (int proto : {6, 17})
    for (auto fam : {bulwark::fw::Family::v4, bulwark::fw::Family::v6}) {
      auto t = bulwark::procnet::parse_proc_net(text, proto, fam, "/proc/net/tcp");
      for (auto &l : t.listeners)
        if (l.port > 0xffff || l.source.empty())
          __builtin_trap();
      for (auto &e : t.errors)
        if (e.line < 2)
          __builtin_trap();
    }
  return 0;
}
