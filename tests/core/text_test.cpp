// text::printable: what every message and the text report use for strings
// that come from the target (issue 20: terminal escapes, forged lines, bidi
// overrides, hashes in diagnostics).

#include <bulwark/core/text.hpp>

#include <gtest/gtest.h>

using bulwark::text::needs_escape;
using bulwark::text::printable;

TEST(Printable, ControlCharactersAndEscapeSequencesAreShownNotSent) {
  EXPECT_EQ(printable("a\x1b[31mred\x1b[0m"), "a\\x1b[31mred\\x1b[0m");
  EXPECT_EQ(printable("line\nFAIL forged"), "line\\x0aFAIL forged");
  EXPECT_EQ(printable("tab\there\r"), "tab\\there\\x0d");
  EXPECT_EQ(printable(std::string("nul\0x", 5)), "nul\\x00x");
  EXPECT_EQ(printable("\x7f"), "\\x7f");
  // C1 controls as UTF-8 (U+009B is an 8-bit CSI) and as lone bytes.
  EXPECT_EQ(printable("\xc2\x9b"
                      "2J"),
            "\\u009b2J");
  EXPECT_EQ(printable("\x9b"
                      "2J"),
            "\\x9b2J");
}

TEST(Printable, BidiOverridesAndLineSeparatorsAreEscaped) {
  EXPECT_EQ(printable("admin\xe2\x80\xae"
                      "txt.exe"),
            "admin\\u202etxt.exe");
  EXPECT_EQ(printable("\xe2\x81\xa6x\xe2\x81\xa9"), "\\u2066x\\u2069");
  EXPECT_EQ(printable("a\xe2\x80\xa8"
                      "b"),
            "a\\u2028b");
  EXPECT_TRUE(needs_escape("\xe2\x80\xae"));
}

TEST(Printable, ValidUtf8IsKeptAndInvalidBytesAreEscaped) {
  EXPECT_EQ(printable("naïve café — 日本"), "naïve café — 日本");
  EXPECT_FALSE(needs_escape("naïve café — 日本"));
  EXPECT_EQ(printable("\xc3"), "\\xc3");                            // truncated sequence
  EXPECT_EQ(printable("\xc0\xaf"), "\\xc0\\xaf");                   // overlong '/'
  EXPECT_EQ(printable("\xed\xa0\x80"), "\\xed\\xa0\\x80");          // a surrogate
  EXPECT_EQ(printable("\xf4\x90\x80\x80"), "\\xf4\\x90\\x80\\x80"); // above U+10FFFF
}

TEST(Printable, PasswordHashesAreRedacted) {
  std::string shadow =
      "root:$6$rounds=5000$abcdefgh$0123456789abcdefABCDEF./xyz:19000:0:99999:7:::";
  std::string out = printable(shadow, 400);
  EXPECT_EQ(out.find("0123456789abcdef"), std::string::npos) << out;
  EXPECT_NE(out.find("root:$6$(hash redacted):19000"), std::string::npos) << out;
  EXPECT_EQ(printable("$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o.9agCG9G317fhZg9SqC.5i5rd.RhAtQ7"),
            "$y$(hash redacted)");
  // Not hashes: shell variables and short runs stay.
  EXPECT_EQ(printable("$HOME and ${PATH} and $6$ab"), "$HOME and ${PATH} and $6$ab");
}

TEST(Printable, LongInputIsCut) {
  std::string s(1000, 'a');
  std::string out = printable(s, 100);
  EXPECT_EQ(out, std::string(100, 'a') + "...");
}
