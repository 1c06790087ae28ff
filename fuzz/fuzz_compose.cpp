// libFuzzer: the compose loader on two in-memory files (the input split at
// its first "\n---8<---\n", else in half) with a .env, plus the Dockerfile
// parser and the deploy-script reader (compose_commands) on the same bytes.

#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_deploy.hpp>
#include <bulwark/parse/dockerfile.hpp>

#include <cerrno>
#include <map>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::map<std::string, std::string> files;
  size_t cut = text.find("\n---8<---\n");
  if (cut == std::string::npos)
    cut = text.size() / 2;
  files["/p/compose.yaml"] = text.substr(0, cut);
  files["/p/compose.override.yaml"] = cut < text.size() ? text.substr(cut) : "";
  files["/p/.env"] = "TAG=1\nEMPTY=\n";
  files["/p/base.yml"] = "services:\n  b:\n    image: x:1\n";
  bulwark::compose::Reader r;
  r.read = [&](const std::string &p, size_t max) -> bulwark::Result<std::string> {
    auto it = files.find(p);
    if (it == files.end())
      return bulwark::Error{"absent", p, 0, ENOENT};
    if (it->second.size() > max)
      return bulwark::Error{"too big", p};
    return it->second;
  };
  r.is_file = [&](const std::string &p) { return files.count(p) > 0; };
  bulwark::compose::LoadOptions o;
  o.use_process_environment = false;
  auto p = bulwark::compose::load_project(r, {"/p/compose.yaml", "/p/compose.override.yaml"}, o);
  if (const auto *s = p.services())
    for (auto &[n, svc] : s->entries)
      if (const auto *ports = svc.find("ports"))
        for (auto &i : ports->items)
          (void)bulwark::compose::parse_port(i);
  (void)bulwark::compose::interpolate(text, {{"A", "1"}});
  (void)bulwark::dockerfile::parse_dockerfile("/Dockerfile", text);
  (void)bulwark::compose::compose_commands(text);
  (void)bulwark::compose::split_compose_file(text, ";");
  return 0;
}
