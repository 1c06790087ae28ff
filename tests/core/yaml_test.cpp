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

// libfyaml counts its diagnostics' lines from 1; they were reported one line
// late (a duplicate key on line 2 said line 3).
TEST(Yaml, ErrorLinesAreExact) {
  auto dup = yaml::parse("a: 1\na: 2\nb: 3\n", "t.yaml");
  ASSERT_FALSE(dup.ok());
  EXPECT_EQ(dup.error().line, 2);
  auto tab = yaml::parse("a:\n\tb: 1\n", "t.yaml");
  ASSERT_FALSE(tab.ok());
  EXPECT_EQ(tab.error().line, 2);
}

TEST(Yaml, MergeKeysAliasesTagsAndBudget) {
  yaml::ParseOptions o;
  o.max_nodes = 1000;
  auto doc = yaml::parse("base: &b\n  x: 1\n  y: 2\nm:\n  <<: *b\n  y: 3\n  t: !reset null\n"
                         "'<<': quoted\n",
                         "t.yaml", o);
  ASSERT_TRUE(doc.ok()) << doc.error().to_string();
  const yaml::Node *m = doc->find("m");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->find("x")->scalar, "1");
  EXPECT_EQ(m->find("x")->line, 2); // where the anchor writes it
  EXPECT_EQ(m->find("y")->scalar, "3");
  EXPECT_EQ(m->find("t")->tag, "!reset");
  EXPECT_EQ(m->find("<<"), nullptr);
  EXPECT_EQ(doc->find("<<")->scalar, "quoted"); // a quoted '<<' is a plain key
  auto undefined = yaml::parse("a: *nope\n", "t.yaml", o);
  ASSERT_FALSE(undefined.ok());
  EXPECT_EQ(undefined.error().line, 1);
  std::string bomb =
      "a: &a [x, x, x, x, x, x, x, x, x, x]\nb: &b [*a, *a, *a, *a, *a, *a, *a, *a, *a, *a]\n"
      "c: [*b, *b, *b, *b, *b, *b, *b, *b, *b, *b]\n";
  auto big = yaml::parse(bomb, "t.yaml", o);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("alias bomb"), std::string::npos);
  EXPECT_EQ(big.error().line, 3);
}
