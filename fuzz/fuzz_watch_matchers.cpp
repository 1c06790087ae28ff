// libFuzzer: log lines through the header parser (RFC 3164/3339/5424, nginx,
// PostgreSQL, OpenVPN), every built-in matcher and the engine's windows.
// The first byte picks a syslog program so each matcher sees the input.

#include <bulwark/watch/engine.hpp>
#include <bulwark/watch/logline.hpp>
#include <bulwark/watch/matchers.hpp>

#include <string>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  using namespace bulwark::watch;
  static const char *k_progs[] = {"sshd[1]", "sudo", "openvpn[2]", "charon", "postgres[3]"};
  std::string text(reinterpret_cast<const char *>(data), size);
  YearInference years(1714557600);
  BuiltinMatchers m;
  size_t start = 0;
  for (size_t i = 0; i <= text.size(); ++i) {
    if (i != text.size() && text[i] != '\n')
      continue;
    std::string_view line(text.data() + start, i - start);
    start = i + 1;
    Event ev;
    (void)m.match(parse_log_line(line, years), ev);
    if (!line.empty()) {
      std::string framed = std::string("May  1 10:00:00 h ") +
                           k_progs[static_cast<unsigned char>(line[0]) % 5] + ": " +
                           std::string(line.substr(1));
      LogLine l = parse_log_line(framed, years);
      if (m.match(l, ev) && ev.addr.family != 0)
        (void)format_address(ev.addr);
    }
  }
  static Engine *engine = [] {
    Config c = default_config();
    c.max_tracked = 4096;
    return new Engine(c, 1714557600);
  }();
  start = 0;
  for (size_t i = 0; i <= text.size(); ++i)
    if (i == text.size() || text[i] == '\n') {
      engine->process(std::string_view(text.data() + start, i - start));
      start = i + 1;
    }
  return 0;
}
