// The watch configuration: guide 003 §3.3 defaults, overrides, and errors
// with file and line.
#include <bulwark/watch/config.hpp>

#include <gtest/gtest.h>

using namespace bulwark::watch;

TEST(WatchConfig, DefaultsAreTheGuides) {
  auto c = parse_config("", "/etc/bulwark/watch.yaml");
  ASSERT_TRUE(c.ok());
  ASSERT_FALSE(c->jails.empty());
  for (auto &j : c->jails) {
    EXPECT_EQ(j.maxretry, 3) << j.name;
    EXPECT_EQ(j.findtime, 600) << j.name;
    EXPECT_EQ(j.bantime, 3600) << j.name;
    EXPECT_EQ(j.ipv6_prefix, 64) << j.name;
  }
  EXPECT_EQ(c->jails[0].name, "sshd");
  EXPECT_EQ(c->jails[0].logs, std::vector<std::string>{"/var/log/auth.log"});
}

TEST(WatchConfig, DefaultsAndJailOverrides) {
  auto c = parse_config(R"(defaults:
  maxretry: 5
  findtime: 1h
  bantime: 1d
  ignoreip: [192.0.2.0/24, "2001:db8::/32"]
  escalation: {factor: 2, max: 1w}
jails:
  sshd:
    maxretry: 2
    logs: /var/log/secure
  nginx:
    enabled: false
  myapp:
    failregex:
      - '^auth failed from <HOST>( port \d+)?$'
    programs: [myapp]
limits:
  max_tracked: 4096
metrics:
  listen: 127.0.0.1:9100
  textfile: /var/lib/node_exporter/bulwark.prom
)",
                        "w.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const JailConfig *sshd = nullptr, *nginx = nullptr, *myapp = nullptr, *pg = nullptr;
  for (auto &j : c->jails) {
    if (j.name == "sshd")
      sshd = &j;
    if (j.name == "nginx")
      nginx = &j;
    if (j.name == "myapp")
      myapp = &j;
    if (j.name == "postgresql")
      pg = &j;
  }
  ASSERT_TRUE(sshd && nginx && myapp && pg);
  EXPECT_EQ(sshd->maxretry, 2);
  EXPECT_EQ(sshd->findtime, 3600);
  EXPECT_EQ(sshd->bantime, 86400);
  EXPECT_EQ(sshd->logs, std::vector<std::string>{"/var/log/secure"});
  EXPECT_EQ(sshd->ignoreip.size(), 2u);
  EXPECT_EQ(pg->maxretry, 5);
  EXPECT_DOUBLE_EQ(pg->escalation_factor, 2.0);
  EXPECT_FALSE(nginx->enabled);
  EXPECT_EQ(myapp->failregex.size(), 1u);
  EXPECT_EQ(myapp->failregex[0].line, 15);
  EXPECT_EQ(c->max_tracked, 4096u);
  EXPECT_EQ(c->metrics_listen, "127.0.0.1:9100");
}

TEST(WatchConfig, ErrorsNameFileAndLine) {
  struct Case {
    std::string text;
    int line;
    std::string_view says;
  } cases[] = {
      {"defaults:\n  findtime: ten minutes\n", 2, "not a duration"},
      {"defaults:\n  maxretry: 0\n", 2, "outside"},
      {"jails:\n  sshd:\n    ignoreip: [300.1.1.1]\n", 3, "not an address"},
      {"jails:\n  x:\n    failregex: ['no host here']\n", 3, "exactly one <HOST>"},
      {"jails:\n  x:\n    failregex: ['(<HOST>']\n", 3, "missing )"},
      {"jails:\n  x:\n    services: [telnet]\n", 3, "unknown service"},
      {"jails:\n  sshd:\n    bantim: 1h\n", 3, "unknown key"},
      {"colour: blue\n", 1, "unknown key"},
      {"defaults: [1, 2]\n", 1, "expected a mapping"},
  };
  for (auto &c : cases) {
    auto r = parse_config(c.text, "/etc/bulwark/watch.yaml");
    ASSERT_FALSE(r.ok()) << c.text;
    EXPECT_EQ(r.error().path, "/etc/bulwark/watch.yaml");
    EXPECT_EQ(r.error().line, c.line) << c.text << r.error().to_string();
    EXPECT_NE(r.error().message.find(c.says), std::string::npos) << r.error().to_string();
  }
  EXPECT_FALSE(parse_config("a: [", "w.yaml").ok());
}

TEST(WatchConfig, Durations) {
  int64_t v;
  EXPECT_TRUE(parse_duration("90", v));
  EXPECT_EQ(v, 90);
  EXPECT_TRUE(parse_duration("10m", v));
  EXPECT_EQ(v, 600);
  EXPECT_TRUE(parse_duration("1w", v));
  EXPECT_EQ(v, 604800);
  EXPECT_FALSE(parse_duration("1h30m", v));
  EXPECT_FALSE(parse_duration("", v));
  EXPECT_FALSE(parse_duration("m", v));
  EXPECT_FALSE(parse_duration("99999999999d", v));
}

TEST(WatchConfig, SourcesNginxCountingNftablesAndEscalationDecay) {
  auto c = parse_config(R"(defaults:
  escalation: {factor: 2, max: 1w, forget: 3d}
jails:
  sshd:
    logs: []
    units: [ssh.service]
  myapp:
    failregex: ['^bad login from <HOST>$']
    identifiers: [myapp]
nginx:
  failures_from: error_log
nftables:
  table: bw
  check_interval: 10s
)",
                        "w.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  const JailConfig *sshd = nullptr, *myapp = nullptr, *sudo = nullptr;
  for (auto &j : c->jails) {
    if (j.name == "sshd")
      sshd = &j;
    if (j.name == "myapp")
      myapp = &j;
    if (j.name == "sudo")
      sudo = &j;
  }
  ASSERT_TRUE(sshd && myapp && sudo);
  EXPECT_TRUE(sshd->logs.empty());
  EXPECT_EQ(sshd->units, std::vector<std::string>{"ssh.service"});
  EXPECT_TRUE(sshd->identifiers.empty());
  EXPECT_TRUE(sshd->configured);
  EXPECT_EQ(myapp->identifiers, std::vector<std::string>{"myapp"});
  EXPECT_FALSE(sudo->configured); // a built-in default the file does not name
  EXPECT_EQ(sshd->escalation_forget, 3 * 86400);
  EXPECT_EQ(sudo->escalation_forget, 3 * 86400);
  EXPECT_EQ(c->matchers.nginx_failures, NginxFailures::error_log);
  EXPECT_EQ(c->nft_check_interval, 10);
  EXPECT_EQ(default_config().matchers.nginx_failures, NginxFailures::access_log);

  auto bad = parse_config("nginx:\n  failures_from: both\n", "b.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_NE(bad.error().message.find("failures_from"), std::string::npos);
}

TEST(WatchConfig, ActionChoosesTheFirewall) {
  auto d = parse_config("", "w.yaml");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->action, "nftables");
  auto c = parse_config("action: iptables-ipset\nipset:\n  name: edge_1\n  check_interval: 5s\n",
                        "w.yaml");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->action, "iptables-ipset");
  EXPECT_EQ(c->ipset_name, "edge_1");
  EXPECT_EQ(c->ipset_check_interval, 5);
  EXPECT_EQ(c->nft_check_interval, 30);

  auto bad = parse_config("jails: {}\naction: iptables\n", "w.yaml");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().line, 2);
  EXPECT_NE(bad.error().message.find("not nftables or iptables-ipset"), std::string::npos);
  // Set names are at most 31 characters, and go to ipset as arguments.
  for (const char *name : {"'a-b'", "'x y'", "abcdefghijklmnopqrstu", "''", "Bulwark"}) {
    auto n = parse_config(std::string("ipset:\n  name: ") + name + "\n", "w.yaml");
    ASSERT_FALSE(n.ok()) << name;
    EXPECT_EQ(n.error().line, 2) << name;
    EXPECT_NE(n.error().message.find("ipset.name"), std::string::npos) << n.error().message;
  }
  auto key = parse_config("ipset: {table: x}\n", "w.yaml");
  ASSERT_FALSE(key.ok());
  EXPECT_NE(key.error().message.find("unknown key \"table\""), std::string::npos);
}
