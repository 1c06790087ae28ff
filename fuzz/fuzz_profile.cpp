// libFuzzer: a user profile (YAML) through libfyaml and the profile loader.

#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/yaml.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string_view text(reinterpret_cast<const char *>(data), size);
  auto node = bulwark::yaml::parse(text, "fuzz.yaml");
  (void)node;
  auto cat = bulwark::Catalogue::parse(text, "fuzz.yaml");
  (void)cat;
  return 0;
}
