// APT package lists: deb822 stanzas, Release/InRelease, which lists belong to
// the security suite, compressed lists (made by the real gzip and lz4
// tools), corrupt and huge input.

#include "../support.hpp"

#include <bulwark/parse/apt_lists.hpp>

#include <gtest/gtest.h>

#include <chrono>

using namespace bulwark;
using bulwark::test::TempRoot;

namespace {

const char *k_packages = "Package: openssl\n"
                         "Source: openssl\n"
                         "Version: 3.0.15-1~deb12u1\n"
                         "Architecture: amd64\n"
                         "Description: Secure Sockets Layer toolkit\n"
                         " continuation: not a field\n"
                         "\n"
                         "package: libc6\n"
                         "VERSION: 2.36-9+deb12u9\n"
                         "Architecture: amd64\n"
                         "\n\n"
                         "Package: broken\n"
                         "Architecture: all\n";

const char *k_inrelease = "-----BEGIN PGP SIGNED MESSAGE-----\n"
                          "Hash: SHA256\n"
                          "\n"
                          "Origin: Debian\n"
                          "Label: Debian-Security\n"
                          "Suite: stable-security\n"
                          "Codename: bookworm-security\n"
                          "Components: updates/main\n"
                          "-----BEGIN PGP SIGNATURE-----\n"
                          "\n"
                          "Label: forged-after-signature\n"
                          "-----END PGP SIGNATURE-----\n";

} // namespace

TEST(AptLists, PackagesStanzas) {
  auto l = apt::parse_packages_text("/p", k_packages);
  ASSERT_EQ(l.packages.size(), 2u);
  EXPECT_EQ(l.packages[0].name, "openssl");
  EXPECT_EQ(l.packages[0].source, "openssl");
  EXPECT_EQ(l.packages[0].line, 1);
  EXPECT_EQ(l.packages[1].name, "libc6"); // field names are case-insensitive
  EXPECT_EQ(l.packages[1].version, "2.36-9+deb12u9");
  EXPECT_EQ(l.packages[1].line, 8);
  ASSERT_EQ(l.problems.size(), 1u); // the stanza without Version
  EXPECT_EQ(l.problems[0].first, 13);
}

TEST(AptLists, InReleaseReadsOnlyTheSignedText) {
  auto r = apt::parse_release_text("/r", k_inrelease);
  EXPECT_EQ(r.origin, "Debian");
  EXPECT_EQ(r.label, "Debian-Security");
  EXPECT_EQ(r.codename, "bookworm-security");
}

TEST(AptLists, SecuritySuiteFromReleaseOrFileName) {
  TempRoot t;
  std::string d = "/var/lib/apt/lists/";
  t.write(d + "deb.debian.org_debian-security_dists_bookworm-security_InRelease", k_inrelease);
  t.write(d + "deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages",
          k_packages);
  t.write(d + "deb.debian.org_debian_dists_bookworm_InRelease",
          "Origin: Debian\nLabel: Debian\nSuite: stable\nCodename: bookworm\n");
  t.write(d + "deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages", k_packages);
  // No Release: the file name decides.
  t.write(d + "security.debian.org_debian-security_dists_buster_updates_main_binary-amd64_Packages",
          k_packages);
  t.write(d + "mirror_ubuntu_dists_jammy-security_main_binary-amd64_Packages.lz4", "x");
  RootFs fs(t.path());
  auto lists = apt::find_package_lists(fs);
  ASSERT_TRUE(lists.ok());
  ASSERT_EQ(lists->size(), 4u);
  std::map<std::string, apt::ListFile> by; // read with at(): a missing list throws, fails

  for (auto &f : *lists)
    by[f.path.substr(d.size())] = f;
  auto &sec =
      by.at("deb.debian.org_debian-security_dists_bookworm-security_main_binary-amd64_Packages");
  EXPECT_TRUE(sec.security);
  EXPECT_EQ(sec.why_security, "Label: Debian-Security");
  EXPECT_EQ(sec.release.path,
            "/var/lib/apt/lists/deb.debian.org_debian-security_dists_bookworm-security_InRelease");
  EXPECT_FALSE(by.at("deb.debian.org_debian_dists_bookworm_main_binary-amd64_Packages").security);
  EXPECT_TRUE(
      by.at("security.debian.org_debian-security_dists_buster_updates_main_binary-amd64_Packages")
          .security);
  auto &lz = by.at("mirror_ubuntu_dists_jammy-security_main_binary-amd64_Packages.lz4");
  EXPECT_TRUE(lz.security);
  EXPECT_EQ(lz.compression, "lz4");
  // Corrupt compressed data is an error naming the file, not a crash.
  auto bad = apt::read_packages_list(fs, lz);
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().path, lz.path);
}

TEST(AptLists, CompressedListsMadeByGzipAndLz4) {
  TempRoot t;
  t.write("/p", k_packages);
  int decoded = 0;
  for (const char *kind : {"gz", "lz4"}) {
    // (run_command redirects stdout itself: the tools write the files.)
    std::string tool = std::string(kind) == "gz" ? "gzip -k -f" : "lz4 -q -f";
    BULWARK_REQUIRE_TOOL(std::string(kind) == "gz" ? "gzip" : "lz4")
        << "(Debian packages gzip, lz4)";
    auto r = test::run_command(tool + " " + t.host("/p") +
                               (std::string(kind) == "lz4" ? " " + t.host("/p.lz4") : ""));
    ASSERT_EQ(r.exit_code, 0);
    RootFs fs(t.path());
    auto raw = fs.read_file(std::string("/p.") + kind);
    ASSERT_TRUE(raw.ok());
    auto text = apt::decompress(kind, *raw, 1 << 20);
    BULWARK_REQUIRE(text.ok() || text.error().message.find("built without") == std::string::npos)
        << text.error().message << " (liblz4-dev, zlib1g-dev at build time)";
    ASSERT_TRUE(text.ok()) << kind << ": " << text.error().message;
    EXPECT_EQ(*text, k_packages);
    // Truncated: an error, never a partial list taken as whole.
    auto cut = apt::decompress(kind, raw->substr(0, raw->size() / 2), 1 << 20);
    EXPECT_FALSE(cut.ok()) << kind;
    // A decompression bomb stops at the cap.
    auto capped = apt::decompress(kind, *raw, 16);
    ASSERT_FALSE(capped.ok()) << kind;
    EXPECT_NE(capped.error().message.find("larger than"), std::string::npos);
    ++decoded;
  }
  EXPECT_EQ(decoded, 2); // both formats were round-tripped, none skipped
  EXPECT_FALSE(apt::decompress("xz", "whatever", 100).ok());
}

TEST(AptLists, TwentyMegabytePackagesFile) {
  std::string text;
  text.reserve(21 << 20);
  for (int i = 0; text.size() < (20u << 20); ++i)
    text += "Package: pkg" + std::to_string(i) + "\nVersion: 1:2.3-" + std::to_string(i) +
            "\nArchitecture: amd64\nMaintainer: Someone <s@example.org>\n"
            "Depends: libc6 (>= 2.36), libssl3 (>= 3.0.0)\n"
            "Description: a package\n a long description line of text that goes on and on\n"
            " .\n another paragraph\nSHA256: 0123456789abcdef0123456789abcdef0123456789abcdef\n\n";
  auto t0 = std::chrono::steady_clock::now();
  auto l = apt::parse_packages_text("/big", text);
  double ms =
      std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - t0).count();
  std::cout << "[          ] 20 MiB Packages: " << l.packages.size() << " stanzas in " << ms
            << " ms\n";
  EXPECT_GT(l.packages.size(), 50000u);
  EXPECT_LT(std::chrono::milliseconds(static_cast<long>(ms)),
            bulwark::test::hang_bound(std::chrono::seconds(3)));
  // Hostile: no newline at all, NUL bytes, invalid UTF-8.
  auto h = apt::parse_packages_text("/h", std::string(5 << 20, '\0') + "\xff\xfe:\n");
  EXPECT_TRUE(h.packages.empty());
}
