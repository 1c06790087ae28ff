// libFuzzer: postgresql.conf text (guc-file.l's lexer and line grammar), and
// the GUC value helpers on every value it yields.

#include <bulwark/parse/postgresql_conf.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto c = bulwark::pg::parse_conf_text("/etc/postgresql/15/main/postgresql.conf", text);
  for (auto &s : c.assignments) {
    (void)bulwark::pg::parse_bool(s.value);
    (void)bulwark::pg::parse_int(s.value, "8kB");
    (void)bulwark::pg::parse_int(s.value, "min");
  }
  (void)c.get("ssl");
  return 0;
}
