// bulwark fim: aide.conf selection semantics, Debian's real aide.conf, and
// the database format (round trip, signature, truncation, bit flips).

#include "support.hpp"

#include <bulwark/fim/compare.hpp>
#include <bulwark/fim/database.hpp>
#include <bulwark/fim/fim.hpp>

#include <gtest/gtest.h>

namespace bulwark::test {
namespace {

using fim::FileType;
using fim::Policy;

Policy parse(const std::string &text) {
  auto p = Policy::parse(text, "test.conf");
  EXPECT_TRUE(p) << (p ? "" : p.error().to_string());
  return p ? std::move(p).value() : Policy::builtin();
}

TEST(FimPolicy, EqualsRulesDoNotReachChildren) {
  Policy p = parse("=/home p\n=/srv/ p\n");
  EXPECT_TRUE(p.match("/home", FileType::directory).selected);
  EXPECT_FALSE(p.match("/home/user", FileType::directory).selected);
  // "=/srv/" (ending in a slash) takes the directory's children only.
  EXPECT_FALSE(p.match("/srv", FileType::directory).selected);
  EXPECT_TRUE(p.match("/srv/a", FileType::regular).selected);
  EXPECT_FALSE(p.match("/srv/a/b", FileType::regular).selected);
}

TEST(FimPolicy, DeepestNodeThenFirstMatchAndNegativesWin) {
  Policy p = parse("/etc p\n/etc/ssh/ sha256\n/etc/ssh/ sha512\n!/etc/ssh/moduli$\n"
                   "!/etc/x f\n");
  auto m = p.match("/etc/ssh/sshd_config", FileType::regular);
  ASSERT_TRUE(m.selected);
  EXPECT_EQ(m.attrs, fim::k_sha256); // deepest node, first rule in it
  EXPECT_EQ(p.match("/etc/passwd", FileType::regular).attrs, fim::k_perm);
  auto neg = p.match("/etc/ssh/moduli", FileType::regular);
  EXPECT_FALSE(neg.selected);
  EXPECT_TRUE(neg.negative);
  // A restricted negative rule drops the entry but lets the walk descend.
  auto rneg = p.match("/etc/x", FileType::regular);
  EXPECT_FALSE(rneg.selected);
  EXPECT_FALSE(rneg.negative);
  EXPECT_TRUE(p.match("/etc/x", FileType::directory).selected);
}

TEST(FimPolicy, GroupsMacrosAndConditions) {
  Policy p = parse("G = p+u+g+sha256\nH2 = G-sha256+n\n@@define D opt\n"
                   "@@if not defined NOPE\n/@@{D}/a H2\n@@else\n/@@{D}/b G\n@@endif\n"
                   "@@ifdef D\n/@@{D}/c$ d G\n@@endif\n");
  auto a = p.match("/opt/a", FileType::regular);
  ASSERT_TRUE(a.selected);
  EXPECT_EQ(a.attrs, fim::k_perm | fim::k_uid | fim::k_gid | fim::k_nlink);
  EXPECT_FALSE(p.match("/opt/b", FileType::regular).selected);
  EXPECT_FALSE(p.match("/opt/c", FileType::regular).selected); // restricted to d
  EXPECT_TRUE(p.match("/opt/c", FileType::directory).selected);
}

TEST(FimPolicy, MalformedConfigurationsAreErrorsWithTheirLine) {
  struct Case {
    const char *text;
    int line;
    const char *says;
  } cases[] = {
      {"/etc p\n/x NOSUCHGROUP\n", 2, "unknown attribute"},
      {"@@if defined X\n/etc p\n", 2, "@@endif"},
      {"@@endif\n", 1, "without @@if"},
      {"/etc/(unclosed p\n", 1, "rule"},
      {"/etc/x q p\n", 1, "restriction"},
      {"etc p\n", 1, "expected a rule"},
      {"@@include /etc/passwd\n", 1, "not allowed"},
      {"@@define D /x\n@@{D} p\n", 2, "cannot start with a variable"},
      {"//etc/ p\n", 1, "double slash"},
      {"/a(?=b) p\n", 1, "rule"}, // lookahead: PCRE has it, RE2 does not
  };
  for (auto &c : cases) {
    auto p = Policy::parse(c.text, "bad.conf");
    ASSERT_FALSE(p) << c.text;
    EXPECT_EQ(p.error().line, c.line) << c.text << " -> " << p.error().to_string();
    EXPECT_NE(p.error().message.find(c.says), std::string::npos) << p.error().to_string();
  }
}

TEST(FimPolicy, DescentFollowsTheRulesLiteralPrefixes) {
  Policy p = parse("/usr/bin p\n/etc/ssh/sshd_config$ p\n");
  EXPECT_TRUE(p.could_match_below("/"));
  EXPECT_TRUE(p.could_match_below("/usr"));
  EXPECT_TRUE(p.could_match_below("/usr/bin"));
  EXPECT_TRUE(p.could_match_below("/etc"));
  EXPECT_FALSE(p.could_match_below("/home"));
  EXPECT_FALSE(p.could_match_below("/usr/lib"));
  EXPECT_FALSE(p.could_match_below("/etc/ssh/sshd_config.d"));
}

TEST(FimPolicy, BuiltinPolicyCoversWhatTheGuidesName) {
  Policy p = Policy::builtin();
  for (auto path : {"/usr/sbin/sshd", "/etc/ssh/sshd_config", "/etc/sudoers", "/etc/pam.d/sshd",
                    "/etc/cron.d/job", "/etc/systemd/system/x.service",
                    "/usr/lib/systemd/system/ssh.service", "/usr/lib/x86_64-linux-gnu/libc.so.6",
                    "/var/spool/cron/crontabs/root", "/root/.ssh/authorized_keys"}) {
    auto m = p.match(path, FileType::regular);
    EXPECT_TRUE(m.selected) << path;
    EXPECT_TRUE(m.attrs & fim::k_sha256) << path;
  }
  EXPECT_FALSE(p.match("/home/u/file", FileType::regular).selected);
  EXPECT_FALSE(p.match("/etc/mtab", FileType::symlink).selected);
  EXPECT_FALSE(p.could_match_below("/home"));
}

TEST(FimPolicy, AnEmptyComposeFileEntryWatchesTheProjectNotItsParent) {
  // COMPOSE_FILE=:compose.yaml: the empty entry is the directory itself
  // (Compose refuses to read it). The project is /srv/app, not /srv.
  TempRoot r;
  r.write("/srv/app/compose.yaml", "services:\n  s:\n    image: x:1\n");
  r.write("/srv/app/.env", "COMPOSE_FILE=:compose.yaml\n");
  r.write("/srv/other.txt", "not a project file\n");
  RootFs fs(r.path());
  std::string text = Policy::compose_text(fs);
  EXPECT_NE(text.find("/srv/app/[^/]+$ NORMAL\n"), std::string::npos) << text;
  EXPECT_NE(text.find("/srv/app/compose\\.yaml$ NORMAL\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("/srv/[^/]+$"), std::string::npos) << text;
}

TEST(FimPolicy, DebiansAideConfigParses) {
  std::string conf = "/etc/aide/aide.conf";
  BULWARK_REQUIRE(::access(conf.c_str(), R_OK) == 0) << conf << " (Debian package aide-common)";
  auto p = Policy::load_aide_config(conf);
  ASSERT_TRUE(p) << p.error().to_string();
  EXPECT_GT(p->rules().size(), 1000u);
  // Debian's executable includes (10_aide_year...) are named, not run.
  bool warned = false;
  for (auto &w : p->warnings())
    warned = warned || w.find("10_aide_hostname is executable") != std::string::npos;
  EXPECT_TRUE(warned);
  // "/ 0 Full" and Debian's exclusions.
  auto bin = p->match("/usr/bin/ls", FileType::regular);
  ASSERT_TRUE(bin.selected);
  EXPECT_TRUE(bin.attrs & fim::k_sha256);
  EXPECT_TRUE(p->match("/proc", FileType::directory).negative);
  EXPECT_TRUE(p->match("/etc", FileType::directory).selected);
}

// --- the database ------------------------------------------------------------

fim::Database sample_db() {
  fim::Database db;
  db.created = 1700000000;
  db.root = "/";
  for (int i = 0; i < 3; ++i) {
    fim::Record r;
    r.path = "/etc/f" + std::to_string(i);
    r.attrs = fim::k_perm | fim::k_sha256 | fim::k_xattrs;
    r.mode = 0100644;
    r.size = 10 + i;
    r.ino = 100 + i;
    r.hashes.emplace_back(fim::k_sha256, std::string(32, static_cast<char>('a' + i)));
    r.xattrs.emplace_back("user.x", "v\n\0w");
    db.records.push_back(r);
  }
  return db;
}

struct Keys {
  TempRoot dir;
  std::string priv, pub;
  Keys() {
    priv = dir.path() + "/k.pem";
    pub = dir.path() + "/k.pub";
    run_command("openssl genpkey -algorithm ed25519 -out " + priv + " && openssl pkey -in " + priv +
                " -pubout -out " + pub);
  }
};

TEST(FimDatabase, SignedRoundTripAndTamperingIsRefused) {
  BULWARK_REQUIRE_TOOL("openssl") << "(Debian package openssl)";
  Keys keys, other;
  auto priv = fim::SigningKey::load_private(keys.priv);
  auto pub = fim::SigningKey::load_public(keys.pub);
  auto wrong = fim::SigningKey::load_public(other.pub);
  ASSERT_TRUE(priv && pub && wrong);
  auto bytes = fim::encode(sample_db(), &*priv);
  ASSERT_TRUE(bytes);

  fim::DecodeOptions verify{&*pub, false};
  auto db = fim::decode(*bytes, "db", verify);
  ASSERT_TRUE(db) << db.error().to_string();
  EXPECT_TRUE(db->signed_);
  ASSERT_EQ(db->records.size(), 3u);
  EXPECT_EQ(db->records[2].hashes[0].second, std::string(32, 'c'));
  EXPECT_EQ(db->records[1].xattrs[0].second, std::string("v\n\0w"));

  EXPECT_FALSE(fim::decode(*bytes, "db", fim::DecodeOptions{&*wrong, false}));
  EXPECT_FALSE(fim::decode(*bytes, "db", fim::DecodeOptions{nullptr, false}));

  // A re-baseline by someone without the key: a valid unsigned file (or one
  // re-checksummed) is refused unless --allow-unsigned.
  auto unsigned_bytes = fim::encode(sample_db(), nullptr);
  ASSERT_TRUE(unsigned_bytes);
  auto refused = fim::decode(*unsigned_bytes, "db", verify);
  ASSERT_FALSE(refused);
  EXPECT_NE(refused.error().message.find("not signed"), std::string::npos);
  EXPECT_TRUE(fim::decode(*unsigned_bytes, "db", fim::DecodeOptions{nullptr, true}));
}

TEST(FimDatabase, EveryTruncationAndEveryBitFlipIsDetected) {
  auto bytes = fim::encode(sample_db(), nullptr);
  ASSERT_TRUE(bytes);
  fim::DecodeOptions allow{nullptr, true};
  ASSERT_TRUE(fim::decode(*bytes, "db", allow));
  size_t checked = 0;
  for (size_t n = 0; n < bytes->size(); ++n, ++checked)
    EXPECT_FALSE(fim::decode(std::string_view(*bytes).substr(0, n), "db", allow)) << n;
  for (size_t i = 0; i < bytes->size(); ++i)
    for (int bit = 0; bit < 8; ++bit, ++checked) {
      std::string b = *bytes;
      b[i] = static_cast<char>(b[i] ^ (1 << bit));
      EXPECT_FALSE(fim::decode(b, "db", allow)) << "byte " << i << " bit " << bit;
    }
  EXPECT_FALSE(fim::decode(*bytes + "x", "db", allow));
  EXPECT_EQ(checked, bytes->size() * 9);
}

TEST(FimCompare, RestoredSizeAndMtimeStillChangedByHashAndCtime) {
  fim::Record o;
  o.path = "/bin/x";
  o.attrs = fim::k_perm | fim::k_size | fim::k_mtime | fim::k_ctime | fim::k_sha256;
  o.size = 5;
  o.mtime_s = 100;
  o.ctime_s = 100;
  o.hashes.emplace_back(fim::k_sha256, "old");
  fim::Record n = o;
  n.ctime_s = 200;
  n.mtime_ns = 5; // below AIDE's resolution: not a change
  n.hashes[0].second = "new";
  auto c = fim::compare({o}, {n});
  ASSERT_EQ(c.changes.size(), 1u);
  EXPECT_EQ(c.changes[0].attributes, (std::vector<fim::Attr>{fim::k_ctime, fim::k_sha256}));
  // ANF / ARF: allowed additions and removals are not reported.
  fim::Record added = o;
  added.path = "/bin/y";
  added.attrs |= fim::k_allow_new;
  EXPECT_EQ(fim::compare({o}, {o, added}).changes.size(), 0u);
  EXPECT_EQ(fim::compare({o}, {}).changes.size(), 1u);
}

} // namespace
} // namespace bulwark::test
