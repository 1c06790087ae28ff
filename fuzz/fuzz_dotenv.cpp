// libFuzzer: .env text (compose v2 semantics); every entry is looked up and
// checked for interpolation, as the secrets checks do. The same text is then
// a compose project's .env, so its values interpolate one another (chains).

#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/dotenv.hpp>

#include <cerrno>

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
  bulwark::compose::Reader r;
  const std::string compose = "services:\n  a:\n    image: \"${IMAGE:-x}:${TAG:-1}\"\n";
  r.read = [&](const std::string &p, size_t) -> bulwark::Result<std::string> {
    if (p == "/p/compose.yaml")
      return compose;
    if (p == "/p/.env")
      return std::string(text);
    return bulwark::Error{"absent", p, 0, ENOENT};
  };
  r.is_file = [](const std::string &p) { return p == "/p/compose.yaml" || p == "/p/.env"; };
  bulwark::compose::LoadOptions o;
  o.use_process_environment = false;
  (void)bulwark::compose::load_project(r, {"/p/compose.yaml"}, o);
  return 0;
}
