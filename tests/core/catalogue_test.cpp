// The embedded catalogue, the check table and the profiles agree with each
// other and with the public list of ids (CHECKS.md).

#include "../support.hpp"

#include <bulwark/checks/check.hpp>
#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/yaml.hpp>

#include <fstream>
#include <gtest/gtest.h>
#include <regex>
#include <set>

using namespace bulwark;

namespace {

// Ids of docs/CHECKS.md (the repository's copy of the public list): the
// first cell of each table row that looks like an id. Only the repository is
// read, never a file beside it.
std::vector<std::string> public_ids() {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/docs/CHECKS.md");
  std::vector<std::string> ids;
  std::regex row(R"(^\| ([a-z0-9]+\.[a-z0-9.-]+) \|)");
  std::string line;
  while (std::getline(in, line)) {
    std::smatch m;
    if (std::regex_search(line, m, row))
      ids.push_back(m[1]);
  }
  return ids;
}

} // namespace

TEST(Catalogue, EmbeddedCatalogueParses) {
  const Catalogue &cat = Catalogue::builtin();
  EXPECT_FALSE(cat.checks().empty());
  // A check may be beyond both guides (sysctl.*, the peers' best practices):
  // it then cites the peer it comes from. Whether a guide reference is true
  // is tests/core/references_test.cpp's.
  for (auto &c : cat.checks())
    EXPECT_FALSE(c.references.empty()) << c.id;
}

TEST(Catalogue, EveryEntryIsImplementedAndEveryImplementationListed) {
  const Catalogue &cat = Catalogue::builtin();
  for (auto &c : cat.checks())
    EXPECT_NE(find_check(c.id), nullptr) << c.id << " is in the catalogue but not implemented";
  for (auto &impl : all_checks())
    EXPECT_NE(cat.find(impl.id), nullptr) << impl.id << " is implemented but not in the catalogue";
}

TEST(Catalogue, IdsArePublicIdsAndTheRestArePrinted) {
  auto ids = public_ids();
  ASSERT_GT(ids.size(), 100u) << "CHECKS.md not found or not parsed";
  std::set<std::string> pub(ids.begin(), ids.end());
  const Catalogue &cat = Catalogue::builtin();
  for (auto &c : cat.checks())
    EXPECT_TRUE(pub.count(c.id))
        << c.id << " is not an id of CHECKS.md (ids are never invented or renamed)";
  std::vector<std::string> missing;
  for (auto &id : ids)
    if (cat.find(id) == nullptr)
      missing.push_back(id);
  std::cout << "[catalogue] " << (ids.size() - missing.size()) << " of " << ids.size()
            << " CHECKS.md ids implemented; not yet implemented (" << missing.size() << "):";
  for (auto &m : missing)
    std::cout << " " << m;
  std::cout << "\n";
}

TEST(Catalogue, BrokenCatalogueIsAnErrorWithLine) {
  auto r = Catalogue::parse("checks:\n  - id: ssh.x\n    title: t\n    severity: extreme\n"
                            "    rationale: r\n    fix: f\n    references: [\"000 x\"]\n",
                            "c.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("unknown severity"), std::string::npos);
  auto dup = Catalogue::parse(
      "checks:\n  - {id: a.b, title: t, severity: low, rationale: r, fix: f, references: [x]}\n"
      "  - {id: a.b, title: t, severity: low, rationale: r, fix: f, references: [x]}\n",
      "c.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().line, 3);
}

TEST(Profiles, BuiltinsLoadWithTheGuidesParameters) {
  const Catalogue &cat = Catalogue::builtin();
  auto vpn = apply_profile(cat, Profile{}, "vpn-production");
  auto lms = apply_profile(cat, Profile{}, "lms-server");
  auto base = apply_profile(cat, Profile{}, "baseline");
  ASSERT_TRUE(vpn.ok() && lms.ok() && base.ok());
  EXPECT_EQ(std::get<int64_t>(*vpn->param("ssh.client-alive", "count-max")), 2);
  EXPECT_EQ(std::get<int64_t>(*lms->param("ssh.client-alive", "count-max")), 3);
  EXPECT_EQ(std::get<int64_t>(*base->param("ssh.client-alive", "count-max")), 2);
  EXPECT_EQ(std::get<int64_t>(*base->param("ssh.max-auth-tries", "max")), 3);
}

TEST(Profiles, UserProfileExtendsOverridesAndDisables) {
  test::TempRoot t;
  t.write("/p.yaml", "extends: lms-server\nparameters:\n  ssh.max-auth-tries: {max: 5}\n"
                     "disable: [ssh.use-dns]\n");
  auto p = apply_profile(Catalogue::builtin(), Profile{}, t.host("/p.yaml"));
  ASSERT_TRUE(p.ok()) << p.error().to_string();
  EXPECT_EQ(std::get<int64_t>(*p->param("ssh.max-auth-tries", "max")), 5);
  EXPECT_EQ(std::get<int64_t>(*p->param("ssh.client-alive", "count-max")), 3); // from lms-server
  EXPECT_TRUE(p->disabled.count("ssh.use-dns"));
  EXPECT_EQ(p->names.front(), "lms-server");
}

TEST(Profiles, BadProfilesAreClearErrors) {
  test::TempRoot t;
  struct Case {
    const char *text;
    const char *message;
    int line;
  } cases[] = {
      {"extends: nosuch\n", "'extends' must name a built-in profile", 1},
      {"parameters:\n  ssh.nosuch: {max: 1}\n", "unknown check 'ssh.nosuch'", 2},
      {"parameters:\n  ssh.max-auth-tries: {maximum: 1}\n", "has no parameter 'maximum'", 2},
      {"parameters:\n  ssh.max-auth-tries: {max: three}\n", "expected an integer", 2},
      {"disable: [ssh.permit-root-login, nope]\n", "unknown check 'nope'", 1},
      {"colour: blue\n", "unknown profile key 'colour'", 1},
      {"parameters: [\n", "invalid YAML", 0},
      {"- just\n- a list\n", "a profile is a YAML mapping", 1},
  };
  for (auto &c : cases) {
    t.write("/bad.yaml", c.text);
    auto p = apply_profile(Catalogue::builtin(), Profile{}, t.host("/bad.yaml"));
    ASSERT_FALSE(p.ok()) << c.text;
    EXPECT_NE(p.error().message.find(c.message), std::string::npos)
        << c.text << " -> " << p.error().to_string();
    EXPECT_EQ(p.error().path, t.host("/bad.yaml"));
    if (c.line > 0) {
      EXPECT_EQ(p.error().line, c.line) << c.text;
    }
  }
  auto missing = apply_profile(Catalogue::builtin(), Profile{}, t.host("/absent.yaml"));
  ASSERT_FALSE(missing.ok());
  auto unknown = apply_profile(Catalogue::builtin(), Profile{}, "vpn-prod");
  ASSERT_FALSE(unknown.ok());
  EXPECT_NE(unknown.error().message.find("built-in: baseline"), std::string::npos);
}

// Found by fuzz_profile: libfyaml 0.7.12 never returns on "%\xf4\xf4".
TEST(Yaml, LibfyamlDirectiveInvalidUtf8HangIsRefused) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) +
                       "/tests/data/yaml/malformed/libfyaml-directive-invalid-utf8-hang.yaml",
                   std::ios::binary);
  std::string text = bulwark::test::read_all(in);
  ASSERT_EQ(text, "%\xf4\xf4");
  auto r = bulwark::yaml::parse(text, "x.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("UTF-8"), std::string::npos);
  EXPECT_EQ(r.error().line, 1);
  EXPECT_FALSE(bulwark::yaml::parse("a: 1\nb: \xc0\xaf\n", "x.yaml").ok()); // overlong
  EXPECT_TRUE(bulwark::yaml::parse("a: \xc3\xa9t\xc3\xa9\n", "x.yaml").ok());
}

// Found by fuzz_profile: libfyaml 0.7.12 crashes in fy_parse_cleanup on
// control characters; YAML forbids them, so they never reach libfyaml.
TEST(Yaml, LibfyamlControlCharsSegvIsRefused) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) +
                       "/tests/data/yaml/malformed/libfyaml-control-chars-segv.yaml",
                   std::ios::binary);
  std::string text = bulwark::test::read_all(in);
  ASSERT_FALSE(text.empty());
  auto r = bulwark::yaml::parse(text, "x.yaml");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("control character"), std::string::npos);
  EXPECT_TRUE(bulwark::yaml::parse("a:\tb\r\n", "x.yaml").ok());
}
