// libFuzzer: Dockerfiles (BuildKit's reading: continuations, directives,
// here-documents, stages); every stage's lines stay within the text.

#include <bulwark/parse/dockerfile.hpp>

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto df = bulwark::dockerfile::parse_dockerfile("/srv/app/Dockerfile", text);
  int lines = static_cast<int>(std::count(text.begin(), text.end(), '\n')) + 1;
  for (auto &s : df.stages) {
    if (s.line < 1 || s.line > lines)
      __builtin_trap();
    if (s.user && (s.user->line < 1 || s.user->line > lines))
      __builtin_trap();
    if (s.healthcheck && (s.healthcheck->line < 1 || s.healthcheck->line > lines))
      __builtin_trap();
  }
  (void)df.base_of_final();
  return 0;
}
