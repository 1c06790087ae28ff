// libFuzzer: .env text (compose v2 semantics); every entry is looked up and
// checked for interpolation, as the secrets checks do.

#include <bulwark/parse/dotenv.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto f = bulwark::dotenv::parse_dotenv_text("/srv/app/.env", text);
  for (auto &e : f.entries) {
    (void)f.find(e.key);
    (void)bulwark::dotenv::has_interpolation(e.value);
    if (e.loc.line < 1)
      __builtin_trap();
  }
  for (auto &d : f.diagnostics)
    if (d.loc.line < 1)
      __builtin_trap();
  return 0;
}
