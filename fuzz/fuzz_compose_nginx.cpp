// libFuzzer: nginx inside a compose service (compose_services.hpp,
// nginx::load_in_container): the input, cut at lines "#---", is the
// bind-mounted nginx.conf, a file of the mounted conf.d/ and a template of
// the mounted templates/ (rendered with the service's environment, as the
// image's entrypoint does), read through RootFs from a scratch target root;
// the image's own files fill in what no mount hides. Then the TLS
// endpoints the tls.* checks judge.

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_services.hpp>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

namespace {

const char *k_compose = R"(services:
  web:
    image: nginx:1.25-alpine
    environment:
      NGINX_HOST: example.org
      NGINX_PORT: "443"
    volumes:
      - ./nginx.conf:/etc/nginx/nginx.conf:ro
      - ./conf.d:/etc/nginx/conf.d:ro
      - ./templates:/etc/nginx/templates:ro
  plain:
    image: nginxinc/nginx-unprivileged:1.22
    volumes:
      - ./conf.d:/etc/nginx/conf.d:ro
)";

const std::string &scratch() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/bulwark-fuzz-nginx-XXXXXX";
    const char *d = ::mkdtemp(tmpl);
    std::string root = d ? d : "/tmp/bulwark-fuzz-nginx";
    std::filesystem::create_directories(root + "/srv/app/conf.d");
    std::filesystem::create_directories(root + "/srv/app/templates");
    std::ofstream(root + "/srv/app/compose.yaml") << k_compose;
    return root;
  }();
  return dir;
}

// Scratch files of the fuzzer's own root (never the audited system's).
void put(const std::string &path, const std::string &text) {
  std::ofstream out(scratch() + path, std::ios::binary | std::ios::trunc);
  out << text;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  std::vector<std::string> parts;
  size_t start = 0;
  while (parts.size() < 2) {
    size_t cut = text.find("\n#---\n", start);
    if (cut == std::string::npos)
      break;
    parts.push_back(text.substr(start, cut - start));
    start = cut + 6;
  }
  parts.push_back(text.substr(start));
  parts.resize(3);
  put("/srv/app/nginx.conf", parts[0]);
  put("/srv/app/conf.d/site.conf", parts[1]);
  put("/srv/app/templates/default.conf.template", parts[2]);
  bulwark::RootFs fs(scratch());
  bulwark::compose::LoadOptions o;
  o.use_process_environment = false;
  auto p = bulwark::compose::load_project(bulwark::compose::root_reader(fs),
                                          {"/srv/app/compose.yaml"}, o);
  if (!p.valid())
    __builtin_trap(); // the compose file is fixed and valid
  auto s = bulwark::compose::derive_services(p, {}, fs);
  if (s.nginx.size() != 2)
    __builtin_trap();
  for (auto &n : s.nginx) {
    for (auto &e : n.endpoints)
      if (e.service != n.subject)
        __builtin_trap();
    for (auto &d : n.problems)
      if (d.loc.path.empty())
        __builtin_trap();
    for (auto &d : n.tree.diagnostics)
      if (d.loc.path.empty())
        __builtin_trap();
  }
  return 0;
}
