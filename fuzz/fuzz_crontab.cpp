// libFuzzer: crontab text (system crontab with the user field, and a user's).

#include <bulwark/parse/crontab.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  bulwark::cron::Crontabs c;
  bulwark::cron::parse_crontab_text("/etc/cron.d/fuzz", text, true, "", c);
  bulwark::cron::parse_crontab_text("/var/spool/cron/crontabs/u", text, false, "u", c);
  return 0;
}
