// libFuzzer: redis.conf text (sdssplitargs, directives, user lines with ACL
// rules) and the password judgement on every password it yields.

#include <bulwark/parse/redis_conf.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto c = bulwark::redis::parse_redis_text("/etc/redis/redis.conf", text);
  for (auto &u : c.users)
    for (auto &p : u.passwords)
      (void)bulwark::redis::judge_password(p);
  (void)bulwark::redis::split_args(text);
  return 0;
}
