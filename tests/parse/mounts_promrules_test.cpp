// fstab/crypttab/mountinfo and the Prometheus rule reader with its PromQL
// lexer.

#include <bulwark/parse/mounts.hpp>
#include <bulwark/parse/promrules.hpp>

#include <gtest/gtest.h>

using namespace bulwark;

TEST(DataAtRestParse, FstabLongestMountPrefixAndEscapes) {
  auto t = mounts::parse_fstab_text("/etc/fstab",
                                    "# <file system> <mount point> <type>\n"
                                    "UUID=1234 / ext4 errors=remount-ro 0 1\n"
                                    "/dev/mapper/pgdata /var/lib/postgres ext4 defaults 0 2\n"
                                    "/dev/mapper/data /var/lib ext4 defaults\n"
                                    "/dev/sdb1 /srv/my\\040data xfs defaults\n"
                                    "/swapfile none swap sw 0 0\n"
                                    "broken-line\n");
  ASSERT_EQ(t.entries.size(), 5u);
  ASSERT_EQ(t.diagnostics.size(), 1u);
  EXPECT_EQ(t.diagnostics[0].loc.line, 7);
  EXPECT_EQ(t.entries[3].mount_point, "/srv/my data");
  // /var/lib/postgres is not a path prefix of /var/lib/postgresql.
  const mounts::FstabEntry *e = mounts::covering(t, "/var/lib/postgresql/15/main");
  ASSERT_NE(e, nullptr);
  EXPECT_EQ(e->mount_point, "/var/lib");
  EXPECT_EQ(e->loc.line, 4);
  EXPECT_EQ(mounts::covering(t, "/etc")->mount_point, "/");
  EXPECT_EQ(mounts::mapper_name(e->spec), "data");
  EXPECT_EQ(mounts::mapper_name("UUID=1234"), "");
}

TEST(DataAtRestParse, CrypttabAndMountinfo) {
  auto c = mounts::parse_crypttab_text("/etc/crypttab", "# name device key options\n"
                                                        "data UUID=abcd none luks,discard\n"
                                                        "swap /dev/sda2 /dev/urandom swap\n"
                                                        "lonely\n");
  ASSERT_EQ(c.entries.size(), 2u);
  EXPECT_EQ(c.find("data")->loc.line, 2);
  EXPECT_EQ(c.diagnostics.size(), 1u);
  auto mi = mounts::parse_mountinfo_text(
      "/proc/self/mountinfo", "22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw\n"
                              "30 22 254:0 / /var/lib/postgresql rw - ext4 /dev/mapper/pg rw\n"
                              "31 30 0:40 / /var/lib/postgresql rw - tmpfs tmpfs rw\n"
                              "garbage\n");
  ASSERT_EQ(mi.entries.size(), 3u);
  EXPECT_EQ(mi.diagnostics.size(), 1u);
  // Mounted over at the same point: the later mount is what is seen.
  const mounts::MountEntry *m = mounts::covering(mi, "/var/lib/postgresql/15");
  ASSERT_NE(m, nullptr);
  EXPECT_EQ(m->fstype, "tmpfs");
  EXPECT_EQ(m->line, 3);
}

TEST(MonitoringPromql, MetricRefsReadTheExpressionNotItsText) {
  auto names = [](std::string_view e) {
    std::vector<std::string> out;
    for (auto &r : prom::metric_refs(e))
      out.push_back(r.name + (r.inside("rate") || r.inside("increase") ? "@rate" : ""));
    return out;
  };
  using V = std::vector<std::string>;
  EXPECT_EQ(names("rate(auth_failed_total[5m]) > 10"), V{"auth_failed_total@rate"});
  EXPECT_EQ(names("sum by (job) (increase(auth_failed_total{job=\"vpn\"}[10m])) > 5"),
            V{"auth_failed_total@rate"});
  EXPECT_EQ(names("sum(rate(x[5m])) by (auth_failed_total)"), V{"x@rate"});
  EXPECT_EQ(names("up{job=\"auth_failed_total\"} == 0 # auth_failed_total"), V{"up"});
  EXPECT_EQ(names("auth_failed_total > 10"), V{"auth_failed_total"});
  EXPECT_EQ(names("{__name__=\"unauthorized_access_total\"} > 0"), V{"unauthorized_access_total"});
  EXPECT_EQ(names("absent(up) or vector(1) and on (instance) node_load1 offset 5m"),
            (V{"up", "node_load1"}));
  EXPECT_EQ(names("rate(a[5m:1m]) / ignoring (code) b"), (V{"a@rate", "b"}));
  EXPECT_TRUE(prom::metric_refs("").empty());
  EXPECT_TRUE(prom::metric_refs("((((\"unterminated").empty());
}

TEST(MonitoringPromql, RuleFiles) {
  auto f = prom::parse_rule_file_text("/etc/prometheus/rules/security.yml",
                                      "groups:\n"
                                      "  - name: security\n"
                                      "    rules:\n"
                                      "      - record: job:auth_failed:rate5m\n"
                                      "        expr: rate(auth_failed_total[5m])\n"
                                      "      - alert: TooManyFailedLogins\n"
                                      "        expr: |\n"
                                      "          rate(auth_failed_total[5m]) > 10\n"
                                      "      - alert: Broken\n");
  ASSERT_EQ(f.rules.size(), 2u);
  EXPECT_EQ(f.rules[0].kind, prom::Rule::Kind::record);
  EXPECT_EQ(f.rules[1].kind, prom::Rule::Kind::alert);
  EXPECT_EQ(f.rules[1].loc.line, 6);
  EXPECT_EQ(f.rules[1].group, "security");
  ASSERT_EQ(f.diagnostics.size(), 1u);
  EXPECT_EQ(f.diagnostics[0].loc.line, 9);
  auto bad = prom::parse_rule_file_text("/x.yml", "groups: [\n");
  ASSERT_EQ(bad.diagnostics.size(), 1u);
  EXPECT_TRUE(bad.rules.empty());
  auto pats =
      prom::parse_rule_files_setting("/etc/prometheus/prometheus.yml",
                                     "global: {}\nrule_files:\n  - rules/*.yml\n  - alerts.yml\n");
  ASSERT_TRUE(pats.ok());
  ASSERT_EQ(pats->size(), 2u);
  EXPECT_EQ((*pats)[1].pattern, "alerts.yml");
  EXPECT_EQ((*pats)[1].line, 4);
}
