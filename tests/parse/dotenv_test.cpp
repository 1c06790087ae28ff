// The .env parser: compose v2 semantics on the forms deployments write,
// hostile input (unterminated quotes, NUL bytes, 10 MB, FIFOs, symlinks out
// of the root), and a differential test against Debian's docker-compose 1.29.
//
// Documented differences between Docker Compose 1.29 (python-dotenv 0.21)
// and compose v2 (compose-go), which this parser follows; the generated
// differential cases stay out of them, DotenvDifferential.KnownDifferences
// pins each one:
// - `KEY: value` (YAML-ish): v2 reads it, 1.29 rejects the line.
// - single quotes: v2 keeps a backslash before anything but the quote
//   ('a\\b' stays a\\b); 1.29 decodes \\ and \'.
// - inline comments: v2 cuts unquoted values at " #" only (a tab before #
//   keeps it); 1.29 at any whitespace before #.
// - text after a closing quote: v2 parses it as the next statement
//   (A="x" B=y sets both); 1.29 drops the line with a warning.
// - errors: v2 refuses the whole file; 1.29 skips the line (this parser
//   reports it and goes on, like 1.29, so an audit sees the other lines).
// - interpolation: v2 expands $VAR and ${VAR}; 1.29 only ${VAR}. Left as
//   written here.

#include "../support.hpp"

#include <bulwark/parse/dotenv.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <chrono>
#include <random>
#include <sys/stat.h>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

dotenv::DotenvFile parse(std::string_view text) {
  return dotenv::parse_dotenv_text("/srv/app/.env", text);
}

std::string value(const dotenv::DotenvFile &f, std::string_view key) {
  const dotenv::Entry *e = f.find(key);
  return e ? e->value : "<unset>";
}

int line(const dotenv::DotenvFile &f, std::string_view key) {
  const dotenv::Entry *e = f.find(key);
  return e ? e->loc.line : -1;
}

} // namespace

TEST(Dotenv, ComposeForms) {
  auto f = parse("# comment\n"
                 "\n"
                 "PLAIN=value\n"
                 "export EXPORTED=yes\n"
                 "  SPACED  =  padded value   \n"
                 "INLINE=abc # a comment\n"
                 "HASH=abc#def\n"
                 "SINGLE='it s # not a comment'\n"
                 "DOUBLE=\"tab\\there\\nnewline \\\"quoted\\\" back\\\\slash\"\n"
                 "MULTI=\"first\n"
                 "second\"\n"
                 "AFTER=1\n"
                 "YAMLISH: colon\n"
                 "EMPTY=\n"
                 "BARE\n"
                 "SQ='a\\'b'\n"
                 "OCT=\"\\0101\"\n"
                 "LAST=1\n"
                 "LAST=2\n");
  EXPECT_TRUE(f.diagnostics.empty()) << f.diagnostics.front().message;
  EXPECT_EQ(value(f, "PLAIN"), "value");
  EXPECT_EQ(value(f, "EXPORTED"), "yes");
  EXPECT_TRUE(f.find("EXPORTED")->exported);
  EXPECT_EQ(value(f, "SPACED"), "padded value");
  EXPECT_EQ(value(f, "INLINE"), "abc");
  EXPECT_EQ(value(f, "HASH"), "abc#def");
  EXPECT_EQ(value(f, "SINGLE"), "it s # not a comment");
  EXPECT_EQ(value(f, "DOUBLE"), "tab\there\nnewline \"quoted\" back\\slash");
  EXPECT_EQ(value(f, "MULTI"), "first\nsecond");
  EXPECT_EQ(line(f, "MULTI"), 10);
  EXPECT_EQ(line(f, "AFTER"), 12);
  EXPECT_EQ(value(f, "YAMLISH"), "colon");
  EXPECT_EQ(value(f, "EMPTY"), "");
  EXPECT_EQ(f.find("BARE"), nullptr); // inherited, no value
  EXPECT_EQ(value(f, "SQ"), "a'b");
  EXPECT_EQ(value(f, "OCT"), "A");
  EXPECT_EQ(value(f, "LAST"), "2");
  EXPECT_EQ(line(f, "LAST"), 19);
}

TEST(Dotenv, TextAfterAClosingQuoteIsTheNextStatement) {
  auto f = parse("A=\"x\" B=y\nC='z' # comment\n");
  EXPECT_TRUE(f.diagnostics.empty());
  EXPECT_EQ(value(f, "A"), "x");
  EXPECT_EQ(value(f, "B"), "y");
  EXPECT_EQ(value(f, "C"), "z");
}

TEST(Dotenv, InterpolationIsLeftAsWritten) {
  auto f =
      parse("A=${DB_PASSWORD}\nB=\"$OTHER\"\nC='${NOT_EXPANDED}'\nD=cost\\$5\nE=\"cost\\$5\"\n");
  EXPECT_EQ(value(f, "A"), "${DB_PASSWORD}");
  EXPECT_TRUE(dotenv::has_interpolation(value(f, "A")));
  EXPECT_TRUE(dotenv::has_interpolation(value(f, "B")));
  EXPECT_EQ(value(f, "C"), "${NOT_EXPANDED}");
  EXPECT_EQ(value(f, "E"), "cost$$5"); // \$ is compose's literal dollar
  EXPECT_FALSE(dotenv::has_interpolation(value(f, "E")));
}

TEST(Dotenv, ErrorsNameTheLineNeverTheValueAndParsingGoesOn) {
  auto f = parse("GOOD=1\n"
                 "BAD KEY=hunter2hunter2\n"
                 "my secret sentence is here\n"
                 "BAD%=x\n"
                 "UNTERMINATED=\"s3cr3t-value\n"
                 "AFTER=2\n");
  ASSERT_EQ(f.diagnostics.size(), 4u);
  EXPECT_EQ(f.diagnostics[0].loc.line, 2);
  EXPECT_EQ(f.diagnostics[1].loc.line, 3);
  EXPECT_EQ(f.diagnostics[2].loc.line, 4);
  EXPECT_NE(f.diagnostics[2].message.find("'%'"), std::string::npos);
  EXPECT_EQ(f.diagnostics[3].loc.line, 5);
  EXPECT_NE(f.diagnostics[3].message.find("unterminated"), std::string::npos);
  for (auto &d : f.diagnostics) {
    EXPECT_EQ(d.message.find("hunter2"), std::string::npos) << d.message;
    EXPECT_EQ(d.message.find("s3cr3t"), std::string::npos) << d.message;
    EXPECT_EQ(d.message.find("sentence"), std::string::npos) << d.message;
    EXPECT_EQ(d.loc.path, "/srv/app/.env");
  }
  EXPECT_EQ(value(f, "GOOD"), "1");
  EXPECT_EQ(value(f, "AFTER"), "2");
}

TEST(Dotenv, NulBytesAndInvalidUtf8) {
  std::string text = "A=va";
  text += '\0';
  text += "lue\nB";
  text += '\0';
  text += "=x\nC=\xff\xfe\nD\xc3=y\nE=ok\n";
  auto f = parse(text);
  EXPECT_EQ(value(f, "A"), std::string("va\0lue", 6));
  EXPECT_EQ(value(f, "C"), "\xff\xfe");
  EXPECT_EQ(value(f, "E"), "ok");
  ASSERT_EQ(f.diagnostics.size(), 2u);
  EXPECT_EQ(f.diagnostics[0].loc.line, 2);
  EXPECT_EQ(f.diagnostics[1].loc.line, 4);
}

TEST(Dotenv, EndOfFileCases) {
  EXPECT_TRUE(parse("").entries.empty());
  EXPECT_EQ(value(parse("A=1"), "A"), "1");
  EXPECT_EQ(value(parse("A=\"x\\"), "A"), "<unset>"); // escaped quote, unterminated
  EXPECT_EQ(parse("NAME_WITHOUT_NEWLINE").diagnostics.size(), 1u);
  EXPECT_EQ(value(parse("\xEF\xBB\xBFKEY=bom"), "KEY"), "bom");
}

TEST(Dotenv, TenMegabytesParseQuickly) {
  std::string text;
  text.reserve(10u << 20);
  for (int i = 0; text.size() < (10u << 20); ++i)
    text += "KEY_" + std::to_string(i) + "=\"value with # and \\n escapes " + std::to_string(i) +
            "\"\n# comment line\n";
  auto t0 = std::chrono::steady_clock::now();
  auto f = parse(text);
  auto ms =
      std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - t0)
          .count();
  EXPECT_TRUE(f.diagnostics.empty());
  EXPECT_GT(f.entries.size(), 100000u);
  EXPECT_LT(std::chrono::milliseconds(ms), bulwark::test::hang_bound(std::chrono::seconds(3)))
      << "10 MB took " << ms << " ms";
  // One unterminated quote at the top of 10 MB: the rest is still read.
  auto g = parse("BROKEN=\"" + text.substr(0, 1u << 20));
  ASSERT_GE(g.diagnostics.size(), 1u); // and the cut last statement
  EXPECT_EQ(g.diagnostics[0].loc.line, 1);
  EXPECT_EQ(value(g, "KEY_1"), "value with # and \n escapes 1");
}

TEST(Dotenv, FifoIsRefusedAndSymlinksStayInsideTheRoot) {
  TempRoot r;
  r.mkdir("/srv/app");
  ASSERT_EQ(::mkfifo(r.host("/srv/app/.env").c_str(), 0600), 0);
  RootFs fs(r.path());
  auto t0 = std::chrono::steady_clock::now();
  auto fifo = dotenv::parse_dotenv(fs, "/srv/app/.env");
  EXPECT_LT(std::chrono::steady_clock::now() - t0,
            bulwark::test::hang_bound(std::chrono::seconds(2)));
  ASSERT_FALSE(fifo.ok());
  EXPECT_EQ(fifo.error().path, "/srv/app/.env");

  // A host file outside the root, named by an absolute symlink: resolved
  // inside the root, where it does not exist.
  TempRoot outside;
  outside.write("/secret.env", "LEAK=outside\n");
  r.symlink(outside.host("/secret.env"), "/srv/other/.env");
  EXPECT_FALSE(dotenv::parse_dotenv(fs, "/srv/other/.env").ok());
  r.symlink("../../../../../../../../etc/app.env", "/srv/third/.env");
  r.write("/etc/app.env", "INSIDE=1\n");
  auto in = dotenv::parse_dotenv(fs, "/srv/third/.env");
  ASSERT_TRUE(in.ok());
  EXPECT_EQ(value(*in, "INSIDE"), "1");

  r.write("/srv/big/.env", std::string(2u << 20, 'x'));
  auto big = dotenv::parse_dotenv(fs, "/srv/big/.env", 1u << 20);
  ASSERT_FALSE(big.ok());
  EXPECT_NE(big.error().message.find("limit"), std::string::npos);
}

// --- differential: Debian's docker-compose 1.29 ---------------------------

namespace {

bool have_compose() {
  return test::run_command("command -v docker-compose").exit_code == 0;
}

// `docker-compose config` of a project whose environment echoes the .env
// file, as JSON: read with PyYAML, compose's own YAML library (libfyaml 0.7
// misreads runs of '' in multi-line single-quoted scalars, which PyYAML
// emits for values with quotes).
nlohmann::json compose_environment(const TempRoot &dir) {
  auto r = test::run_command(
      "cd " + dir.path() + " && env -i PATH=/usr/bin:/bin docker-compose --env-file " + dir.path() +
      "/test.env -f compose.yml config | python3 -c 'import sys, json, yaml; "
      "json.dump(yaml.safe_load(sys.stdin)[\"services\"][\"s\"][\"environment\"], sys.stdout)'");
  EXPECT_EQ(r.exit_code, 0) << r.err;
  return r.exit_code == 0 ? nlohmann::json::parse(r.out) : nlohmann::json::object();
}

struct Case {
  std::string key, text, expected;
};

// Statements both readers agree on (see the differences at the top).
Case generate(std::mt19937 &rng, int i) {
  auto pick = [&rng](std::string_view chars, int min, int max) {
    std::uniform_int_distribution<int> len(min, max), c(0, static_cast<int>(chars.size()) - 1);
    std::string s;
    for (int n = len(rng); n > 0; --n)
      s += chars[static_cast<size_t>(c(rng))];
    return s;
  };
  const std::string_view plain = "abcXYZ0189_./:,@+-=%!?*()[]{}&;<>|~^";
  Case k;
  k.key = "BWK_" + std::to_string(i);
  std::string lhs = (rng() % 4 == 0 ? "export " : "") + k.key + (rng() % 3 == 0 ? " = " : "=");
  switch (rng() % 3) {
  case 0: { // unquoted, maybe with blanks inside and an inline comment
    std::string v = pick(plain, 1, 12);
    if (rng() % 2)
      v += " " + pick(plain, 1, 6);
    k.expected = v;
    k.text = lhs + v + (rng() % 2 ? "   " : "") + (rng() % 2 ? " # note" : "") + "\n";
    break;
  }
  case 1: { // single-quoted: literal, may hold # and blanks
    std::string v = pick(std::string(plain) + " #\"", 0, 14);
    k.expected = v;
    k.text = lhs + "'" + v + "'" + (rng() % 2 ? " # note" : "") + "\n";
    break;
  }
  default: { // double-quoted with escapes, sometimes over two lines
    std::string raw, v;
    for (int n = static_cast<int>(rng() % 6); n >= 0; --n) {
      std::string chunk = pick(std::string(plain) + " #'", 0, 5);
      raw += chunk;
      v += chunk;
      switch (rng() % 5) {
      case 0:
        raw += "\\n";
        v += "\n";
        break;
      case 1:
        raw += "\\t";
        v += "\t";
        break;
      case 2:
        raw += "\\\"";
        v += "\"";
        break;
      case 3: // 1.29 would take \\ + quote as an escaped quote
        raw += "\\\\x";
        v += "\\x";
        break;
      default:
        raw += "\n";
        v += "\n";
        break;
      }
    }
    k.expected = v;
    k.text = lhs + "\"" + raw + "\"\n";
  }
  }
  if (rng() % 4 == 0)
    k.text = "# comment line\n\n" + k.text;
  return k;
}

} // namespace

TEST(DotenvDifferential, AgainstDockerCompose129) {
  BULWARK_REQUIRE(have_compose())
      << "docker-compose (Debian package docker-compose, 1.29) is not installed";
  std::mt19937 rng(20240607);
  int compared = 0;
  for (int file = 0; file < 6; ++file) {
    TempRoot dir;
    std::vector<Case> cases;
    std::string env,
        compose = "version: \"3\"\nservices:\n  s:\n    image: busybox\n    environment:\n";
    for (int i = 0; i < 50; ++i) {
      cases.push_back(generate(rng, file * 100 + i));
      env += cases.back().text;
      compose += "      " + cases.back().key + ": \"${" + cases.back().key + "-__UNSET__}\"\n";
    }
    dir.write("/test.env", env);
    dir.write("/compose.yml", compose);
    auto envs = compose_environment(dir);
    auto ours = dotenv::parse_dotenv_text("/test.env", env);
    EXPECT_TRUE(ours.diagnostics.empty());
    for (auto &c : cases) {
      ASSERT_TRUE(envs.contains(c.key)) << c.key;
      std::string theirs = envs[c.key].get<std::string>();
      EXPECT_EQ(theirs, c.expected) << "compose 1.29 disagrees with the generator on " << c.text;
      EXPECT_EQ(value(ours, c.key), theirs) << "statement: " << c.text;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 300);
}

TEST(DotenvDifferential, KnownDifferences) {
  // Ours (compose v2) on each documented difference.
  auto f = parse("YAMLISH: v\nSQ='a\\\\b'\nTABHASH=a\t#b\nA=\"x\" B=y\n");
  EXPECT_EQ(value(f, "YAMLISH"), "v");
  EXPECT_EQ(value(f, "SQ"), "a\\\\b");
  EXPECT_EQ(value(f, "TABHASH"), "a\t#b");
  EXPECT_EQ(value(f, "B"), "y");
  BULWARK_REQUIRE(have_compose())
      << "docker-compose (Debian package docker-compose, 1.29) is not installed";
  TempRoot dir;
  dir.write("/test.env", "YAMLISH: v\nSQ='a\\\\b'\nTABHASH=a\t#b\nA=\"x\" B=y\n");
  dir.write("/compose.yml",
            "version: \"3\"\nservices:\n  s:\n    image: busybox\n    environment:\n"
            "      YAMLISH: \"${YAMLISH-__UNSET__}\"\n      SQ: \"${SQ-__UNSET__}\"\n"
            "      TABHASH: \"${TABHASH-__UNSET__}\"\n      B: \"${B-__UNSET__}\"\n");
  auto e = compose_environment(dir);
  EXPECT_EQ(e["YAMLISH"], "__UNSET__");
  EXPECT_EQ(e["SQ"], "a\\b");
  EXPECT_EQ(e["TABHASH"], "a");
  EXPECT_EQ(e["B"], "__UNSET__");
}
