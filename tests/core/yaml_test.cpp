// The YAML reader against PyYAML (python3-yaml) on single-quoted scalars,
// where libfyaml 0.7.12 mis-decodes runs of '' ('x''''y' gives "x'''")
// and yaml.cpp decodes them itself: quotes, and line folding (YAML 1.2
// §7.3.2), on generated scalars.

#include "../support.hpp"

#include <bulwark/core/yaml.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <random>

using namespace bulwark;
using bulwark::test::run_command;
using bulwark::test::TempRoot;

TEST(Yaml, SingleQuotedRunsOfQuotes) {
  auto doc = yaml::parse("a: 'x''''y'\nb: 'it''s'\nc: ''''\nd: 'x''''''y'\n", "t.yaml");
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  EXPECT_EQ(doc->find("a")->scalar, "x''y");
  EXPECT_EQ(doc->find("b")->scalar, "it's");
  EXPECT_EQ(doc->find("c")->scalar, "'");
  EXPECT_EQ(doc->find("d")->scalar, "x'''y");
}

TEST(Yaml, SingleQuotedScalarsAgreeWithPyYaml) {
  if (run_command("python3 -c 'import yaml'").exit_code != 0)
    GTEST_SKIP() << "python3-yaml is not installed";
  std::mt19937 rng(20261123);
  const char *pieces[] = {"a",    "b",      "xyz",   " ",        "  ", "''", "''''", "\t",
                          "\n  ", "\n\n  ", " \n  ", "\n  \n  ", "#",  ":",  "\"",   "\\"};
  const int n = 500;
  std::string doc;
  for (int i = 0; i < n; ++i) {
    std::string raw;
    int len = 1 + static_cast<int>(rng() % 8);
    for (int j = 0; j < len; ++j)
      raw += pieces[rng() % std::size(pieces)];
    doc += "k" + std::to_string(i) + ": '" + raw + "'\n";
  }
  TempRoot t;
  t.write("/doc.yaml", doc);
  auto py =
      run_command("python3 -c 'import json,sys,yaml; json.dump(yaml.safe_load(open(sys.argv[1])), "
                  "sys.stdout)' " +
                  t.host("/doc.yaml"));
  ASSERT_EQ(py.exit_code, 0) << py.err;
  auto want = nlohmann::json::parse(py.out);
  auto got = yaml::parse(doc, "doc.yaml");
  ASSERT_TRUE(got.ok()) << got.error().to_string();
  int compared = 0;
  for (int i = 0; i < n; ++i) {
    std::string k = "k" + std::to_string(i);
    const yaml::Node *node = got->find(k);
    ASSERT_NE(node, nullptr) << k;
    EXPECT_EQ(node->scalar, want[k].get<std::string>()) << k << " at line " << node->line;
    ++compared;
  }
  EXPECT_EQ(compared, n);
}
