// libFuzzer: bulwark fix's PAM recipes (src/fix/recipes/pam.cpp), which read
// a root's pam-auth-update profiles (/usr/share/pam-configs), the common-*
// files and the copies pam-auth-update saved (/var/lib/pam), and emulate
// `pam-auth-update --package` to write the new stack. The input is split at
// lines "%%": the root's `unix` profile, a second profile, the text of every
// common-* file (and /etc/pam.d/su) and of its saved copy, and
// /var/lib/pam/seen. A root's files are hostile input for an offline fix:
// every recipe must answer with an action, a refusal or an error, never
// crash or hang.

#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/rootfs.hpp>
#include <bulwark/fix/recipe.hpp>

#include <cstdlib>
#include <memory>
#include <string>
#include <unistd.h>
#include <vector>

namespace {

// An empty directory: the overlay holds every file of the fuzzed root.
const std::string &empty_root() {
  static const std::string dir = [] {
    char tmpl[] = "/tmp/bulwark-fuzz-fix-pam.XXXXXX";
    const char *d = ::mkdtemp(tmpl);
    if (d == nullptr)
      std::abort();
    return std::string(d);
  }();
  return dir;
}

std::vector<std::string> segments(const std::string &text) {
  std::vector<std::string> out;
  size_t from = 0;
  for (size_t at; out.size() < 3 && (at = text.find("\n%%\n", from)) != std::string::npos;
       from = at + 4)
    out.push_back(text.substr(from, at + 1 - from));
  out.push_back(text.substr(from));
  out.resize(4);
  return out;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  auto seg = segments(std::string(reinterpret_cast<const char *>(data), size));
  auto overlay = std::make_shared<bulwark::FsOverlay>();
  auto put = [&](const std::string &path, const std::string &content) {
    (*overlay)[path].content = content;
  };
  put("/usr/share/pam-configs/unix", seg[0]);
  put("/usr/share/pam-configs/extra", seg[1]);
  for (const char *type : {"auth", "account", "password", "session", "session-noninteractive"}) {
    put(std::string("/etc/pam.d/common-") + type, seg[2]);
    put(std::string("/var/lib/pam/") + type, seg[2]);
  }
  put("/etc/pam.d/su", seg[2]);
  put("/var/lib/pam/seen", seg[3]);
  for (const char *m : {"pam_faillock.so", "pam_pwhistory.so", "pam_wheel.so"})
    put(std::string("/usr/lib/x86_64-linux-gnu/security/") + m, "");
  put("/etc/group", "root:x:0:\nsudo:x:27:\n");

  bulwark::RootFs fs(empty_root());
  fs.set_overlay(overlay);
  bulwark::CheckSpec spec;
  spec.id = "fuzz.pam";
  std::vector<const bulwark::Finding *> findings;
  for (const auto &kind : bulwark::fix::pam_recipes()) {
    bulwark::RecipeSpec args;
    args.kind = std::string(kind.name);
    bulwark::fix::RecipeInput in{fs, spec, args, findings};
    (void)kind.run(in);
  }
  return 0;
}
