// libFuzzer: nginx configuration text, tokens through endpoints (inheritance,
// add_header scopes), plus Apache's reader on the same bytes.

#include <bulwark/parse/apache.hpp>
#include <bulwark/parse/nginx.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  auto t = bulwark::nginx::parse_text(text, "/etc/nginx/nginx.conf");
  for (auto &e : bulwark::nginx::endpoints(t))
    (void)e.header_scopes.size();
  auto a = bulwark::apache::parse_text(text, "/etc/apache2/apache2.conf");
  (void)bulwark::apache::endpoints(a);
  return 0;
}
