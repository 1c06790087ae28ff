// libFuzzer: audit rules, split into two rules.d files (augenrules) and
// also read as one audit.rules.

#include <bulwark/parse/auditrules.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  size_t half = text.size() / 2;
  auto a = bulwark::audit::parse_audit_rules_texts(
      {{"/etc/audit/rules.d/10-a.rules", text.substr(0, half)},
       {"/etc/audit/rules.d/20-b.rules", text.substr(half)}},
      true);
  auto b = bulwark::audit::parse_audit_rules_texts({{"/etc/audit/audit.rules", text}}, false);
  (void)bulwark::audit::filevercmp(text.substr(0, half), text.substr(half));
  for (auto &r : a.rules)
    (void)r.field("arch");
  (void)b;
  auto conf = bulwark::audit::parse_auditd_conf_text("/etc/audit/auditd.conf", text);
  (void)conf.get("max_log_file_action");
  return 0;
}
