// libFuzzer: logrotate configuration, as /etc/logrotate.conf including a
// second file in /etc/logrotate.d, in a throwaway root.

#include <bulwark/parse/logrotate.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace {
std::string root() {
  static std::string r = [] {
    std::string t = (std::filesystem::temp_directory_path() / "fuzz-logrotate-XXXXXX").string();
    if (::mkdtemp(t.data()) == nullptr)
      std::abort();
    std::filesystem::create_directories(t + "/etc/logrotate.d");
    return t;
  }();
  return r;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  size_t half = text.size() / 2;
  std::string r = root();
  std::ofstream(r + "/etc/logrotate.conf", std::ios::binary | std::ios::trunc)
      << "include /etc/logrotate.d\n"
      << text.substr(0, half);
  std::ofstream(r + "/etc/logrotate.d/x", std::ios::binary | std::ios::trunc) << text.substr(half);
  bulwark::RootFs fs(r);
  auto cfg = bulwark::logrotate::load_logrotate(fs);
  (void)cfg.find("/var/log/syslog");
  (void)cfg.find("/var/log/auth.log");
  return 0;
}
