// The report formats' escaping of what the target controls (issue 20: U+202E
// and friends in every human-facing format; Markdown readable in a diff).

#include <bulwark/report/escape.hpp>

#include <gtest/gtest.h>

using bulwark::report::markdown_escape;
using bulwark::report::xml_escape;

TEST(Escape, BidiOverridesAndC1ControlsAreShownInHtmlJunitAndMarkdown) {
  const std::string rlo = "admin\xe2\x80\xae"
                          "txt.exe";
  EXPECT_EQ(xml_escape(rlo, false), "admin\\u202Etxt.exe");
  EXPECT_EQ(markdown_escape(rlo), "admin\\\\u202Etxt.exe");
  EXPECT_EQ(xml_escape("\xc2\x9b"
                       "2J",
                       false),
            "\\u009B2J");
  EXPECT_EQ(markdown_escape("a\xe2\x81\xa6"
                            "b"),
            "a\\\\u2066b");
}

TEST(Escape, MarkdownEscapesOnlyWhatCanStartMarkup) {
  EXPECT_EQ(markdown_escape("ssh.permit-root-login"), "ssh.permit-root-login");
  EXPECT_EQ(markdown_escape("/etc/ssh/sshd_config:1 (global)"), "/etc/ssh/sshd_config:1 (global)");
  EXPECT_EQ(markdown_escape("_x_ *y* `z` [l](u) <b> a|b ~~s~~ &amp; #"),
            "\\_x\\_ \\*y\\* \\`z\\` \\[l\\](u) \\<b\\> a\\|b \\~\\~s\\~\\~ \\&amp; \\#");
  EXPECT_EQ(markdown_escape("https://evil.example www.evil.example a@b.c"),
            "https\\://evil.example www\\.evil.example a\\@b.c");
  EXPECT_EQ(markdown_escape("line\nbreak"), "line\\\\nbreak");
}
