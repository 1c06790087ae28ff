// libFuzzer: sshd_config text -> parse -> evaluate every scope. Includes are
// resolved inside a throwaway root that holds the input as
// /etc/ssh/sshd_config (so a self-include fans out), never on the host.

#include <bulwark/parse/sshd_config.hpp>

#include <cstdlib>
#include <fstream>
#include <string>
#include <sys/stat.h>
#include <unistd.h>

namespace {

const bulwark::RootFs &empty_root() {
  static std::string dir = [] {
    char tmpl[] = "/tmp/bulwark-fuzz-XXXXXX";
    const char *d = ::mkdtemp(tmpl);
    if (d == nullptr)
      std::abort();
    std::string etc = std::string(d) + "/etc";
    if (::mkdir(etc.c_str(), 0755) != 0 || ::mkdir((etc + "/ssh").c_str(), 0755) != 0)
      std::abort();
    return std::string(d);
  }();
  static bulwark::RootFs fs(dir);
  return fs;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace bulwark::ssh;
  std::string_view text(reinterpret_cast<const char *>(data), size);
  {
    std::ofstream out(empty_root().host_root() + "/etc/ssh/sshd_config",
                      std::ios::binary | std::ios::trunc);
    out << text;
  }
  SshdConfig cfg = parse_sshd_config_text(empty_root(), "/etc/ssh/sshd_config", text);
  UserDb users;
  ConnectionSpec spec;
  spec.user = "root";
  spec.address = "10.1.2.3";
  spec.host = "host.example.com";
  spec.lport = 22;
  auto e = evaluate(cfg, spec, users);
  for (auto &[k, v] : e.values)
    (void)e.get(k);
  for (size_t i = 0; i < cfg.lines.size(); ++i)
    if (cfg.lines[i].kind == Line::Kind::match)
      (void)evaluate_block(cfg, static_cast<int>(i)).get("permitrootlogin");
  return 0;
}
