// libFuzzer: a PAM service file that includes a second file, plus the same
// bytes as pwquality.conf and faillock.conf; the stacks are then analysed.
// The reader resolves "/./" and "//" as a file system does, so one file has
// many spellings (an include fan-out that loop detection does not catch).

#include <bulwark/parse/pam.hpp>

#include <map>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  size_t half = text.size() / 2;
  std::map<std::string, std::string> files{
      {"/etc/pam.d/svc", text.substr(0, half) + "\n@include common\n"},
      {"/etc/pam.d/common", text.substr(half)},
      {"/etc/pam.d/other", "auth required pam_deny.so\n"},
      {"/etc/security/pwquality.conf", text},
      {"/etc/security/faillock.conf", text}};
  bulwark::pam::FileReader rd = [&](const std::string &p) -> bulwark::Result<std::string> {
    std::string n = p;
    for (size_t at; (at = n.find("/./")) != std::string::npos;)
      n.erase(at, 2);
    for (size_t at; (at = n.find("//")) != std::string::npos;)
      n.erase(at, 1);
    auto it = files.find(n);
    if (it == files.end())
      return bulwark::Error{"absent", p, 0, 2};
    return it->second;
  };
  bulwark::pam::ModuleProbe probe = [](const std::string &m) -> std::optional<bool> {
    return m.size() % 2 == 0;
  };
  auto svc = bulwark::pam::load_service("svc", rd, probe);
  for (int t = 0; t < 4; ++t) {
    const auto &stack = svc.stack(static_cast<bulwark::pam::Type>(t));
    if (stack.size() < 64)
      for (size_t i = 0; i < stack.size(); ++i)
        (void)bulwark::pam::required_for_success(stack, i);
    for (auto &h : stack)
      if (h.name == "pam_faillock")
        (void)bulwark::pam::faillock_options(h, rd);
      else if (h.name == "pam_pwquality") {
        auto q = bulwark::pam::apply_module_args(bulwark::pam::load_pwquality(rd, {}), h);
        (void)bulwark::pam::shortest_accepted(q);
        (void)bulwark::pam::accepts_length_and_classes(q, text);
      }
  }
  return 0;
}
