// Windows, bans, escalation, IPv6 grouping, ignoreip and the bounded source
// table of the watch engine, driven by log lines with their own timestamps.
#include <bulwark/watch/engine.hpp>

#include <fmt/format.h>
#include <gtest/gtest.h>

using namespace bulwark::watch;

namespace {

constexpr int64_t k_ref = 1714557600; // 2024-05-01T10:00:00Z

std::string at(int64_t seconds_after_ref, std::string_view msg) {
  int64_t t = k_ref + seconds_after_ref;
  int64_t day = t / 86400 - 19844 + 1; // May 1 2024 = day 19844
  int64_t sod = t % 86400;
  return fmt::format("May {:2} {:02}:{:02}:{:02} host sshd[1]: {}", day, sod / 3600, sod / 60 % 60,
                     sod % 60, msg);
}

std::string fail(std::string_view addr) {
  return fmt::format("Failed password for root from {} port 22 ssh2", addr);
}

struct Harness {
  Config cfg = default_config();
  std::vector<BanDecision> bans;
  std::unique_ptr<Engine> engine;
  void start() {
    engine = std::make_unique<Engine>(cfg, k_ref);
    engine->on_ban = [this](const BanDecision &b) { bans.push_back(b); };
  }
  void line(int64_t t, std::string_view msg) { engine->process(at(t, msg)); }
};

} // namespace

TEST(WatchEngine, ThreeFailuresWithinFindtimeBan) {
  Harness r;
  r.start();
  r.line(0, fail("203.0.113.9"));
  r.line(100, fail("203.0.113.9"));
  EXPECT_TRUE(r.bans.empty());
  r.line(599, fail("203.0.113.9"));
  ASSERT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(r.bans[0].jail, "sshd");
  EXPECT_EQ(format_address(r.bans[0].source), "203.0.113.9");
  EXPECT_EQ(r.bans[0].prefix, 32);
  EXPECT_EQ(r.bans[0].duration, 3600);
  EXPECT_EQ(r.bans[0].time, k_ref + 599);
  EXPECT_EQ(r.engine->active_bans(k_ref + 600), 1u);
  EXPECT_EQ(r.engine->active_bans(k_ref + 599 + 3600), 0u);
}

TEST(WatchEngine, FailuresSpreadBeyondFindtimeDoNotBan) {
  Harness r;
  r.start();
  // One every 301 s: never three inside a 600 s window.
  for (int i = 0; i < 10; ++i)
    r.line(i * 301, fail("203.0.113.9"));
  EXPECT_TRUE(r.bans.empty());
  EXPECT_EQ(r.engine->counters().events, 10u);
}

TEST(WatchEngine, BannedSourceIsNotRebannedAndWindowRestarts) {
  Harness r;
  r.start();
  for (int i = 0; i < 3; ++i)
    r.line(i, fail("203.0.113.9"));
  for (int i = 3; i < 10; ++i)
    r.line(i, fail("203.0.113.9"));
  EXPECT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(r.engine->counters().events_while_banned, 7u);
  // After the ban: the window starts empty (fail2ban clears it on ban).
  r.line(3700, fail("203.0.113.9"));
  r.line(3701, fail("203.0.113.9"));
  EXPECT_EQ(r.bans.size(), 1u);
  r.line(3702, fail("203.0.113.9"));
  EXPECT_EQ(r.bans.size(), 2u);
}

TEST(WatchEngine, EscalationMultipliesAndCaps) {
  Harness r;
  for (auto &j : r.cfg.jails) {
    j.escalation_factor = 4;
    j.escalation_max = 86400;
  }
  r.start();
  int64_t t = 0;
  std::vector<int64_t> durations;
  for (int round = 0; round < 4; ++round) {
    for (int i = 0; i < 3; ++i)
      r.line(t + i, fail("203.0.113.9"));
    ASSERT_EQ(r.bans.size(), static_cast<size_t>(round + 1));
    durations.push_back(r.bans.back().duration);
    EXPECT_EQ(r.bans.back().nth, static_cast<uint32_t>(round + 1));
    t += r.bans.back().duration + 10;
  }
  EXPECT_EQ(durations, (std::vector<int64_t>{3600, 14400, 57600, 86400}));
}

TEST(WatchEngine, Ipv6GroupedByPrefix) {
  Harness r;
  r.start();
  // Three different /128s of one /64: one source.
  r.line(0, fail("2001:db8:1:2::1"));
  r.line(1, fail("2001:db8:1:2:ffff::2"));
  r.line(2, fail("2001:db8:1:2:aaaa:bbbb:cccc:dddd"));
  ASSERT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(format_address(r.bans[0].source), "2001:db8:1:2::");
  EXPECT_EQ(r.bans[0].prefix, 64);
  // Another /64 is someone else.
  r.line(3, fail("2001:db8:1:3::1"));
  EXPECT_EQ(r.bans.size(), 1u);
}

TEST(WatchEngine, Ipv6PrefixConfigurable) {
  Harness r;
  for (auto &j : r.cfg.jails)
    j.ipv6_prefix = 128;
  r.start();
  r.line(0, fail("2001:db8::1"));
  r.line(1, fail("2001:db8::2"));
  r.line(2, fail("2001:db8::3"));
  EXPECT_TRUE(r.bans.empty());
}

TEST(WatchEngine, IgnoreipAndLoopbackNeverBanned) {
  Harness r;
  Cidr c;
  ASSERT_TRUE(parse_cidr("198.51.100.0/24", c));
  for (auto &j : r.cfg.jails)
    j.ignoreip.push_back(c);
  r.start();
  for (int i = 0; i < 5; ++i) {
    r.line(i, fail("198.51.100.7"));
    r.line(i, fail("127.0.0.1"));
    r.line(i, fail("::1"));
  }
  EXPECT_TRUE(r.bans.empty());
  EXPECT_EQ(r.engine->counters().events_ignored, 15u);
}

TEST(WatchEngine, CustomRegexWithHost) {
  Harness r;
  JailConfig j;
  j.name = "myapp";
  j.failregex.push_back({R"(^login (failed|refused) for \S+ from <HOST>$)", 1});
  j.programs = {"myapp"};
  r.cfg.jails.push_back(j);
  r.start();
  for (int i = 0; i < 3; ++i)
    r.engine->process(fmt::format("May  1 10:00:0{} h myapp[3]: login failed for bob from "
                                  "192.0.2.77",
                                  i));
  // Other programs are not this jail's.
  r.engine->process("May  1 10:00:05 h other[3]: login failed for bob from 192.0.2.78");
  ASSERT_EQ(r.bans.size(), 1u);
  EXPECT_EQ(r.bans[0].jail, "myapp");
  EXPECT_EQ(format_address(r.bans[0].source), "192.0.2.77");
}

TEST(WatchEngine, SourceTableEvictsAndCounts) {
  SourceTable t(1024, 3);
  Address a;
  for (uint32_t i = 0; i < 100000; ++i) {
    a.family = 4;
    a.bytes = {};
    a.bytes[0] = 10;
    a.bytes[1] = static_cast<uint8_t>(i >> 16);
    a.bytes[2] = static_cast<uint8_t>(i >> 8);
    a.bytes[3] = static_cast<uint8_t>(i);
    t.hit(a, i, 600);
  }
  EXPECT_LE(t.size(), t.capacity());
  EXPECT_LE(t.capacity(), 1024u);
  EXPECT_EQ(t.size() + t.evicted(), 100000u);
  // The most recent source is still tracked with its history.
  EXPECT_EQ(t.hit(a, 100000, 600), 2);
}

TEST(WatchEngine, LineTimeWindowsReplay) {
  // Lines without a timestamp take the last known time.
  Harness r;
  r.start();
  r.line(0, fail("203.0.113.9"));
  r.engine->process("no header: " + fail("203.0.113.9"));
  r.line(1000, fail("203.0.113.9"));
  EXPECT_TRUE(r.bans.empty());
}

TEST(WatchEngine, EscalationForgetsAfterItsDecay) {
  Harness r;
  for (auto &j : r.cfg.jails) {
    j.escalation_factor = 2;
    j.escalation_forget = 86400;
  }
  r.start();
  for (int i = 0; i < 3; ++i)
    r.line(i, fail("203.0.113.9"));
  ASSERT_EQ(r.bans.size(), 1u);
  // Banned again within a day of the first ban's end: the second ban.
  int64_t t = 3600 + 3600;
  for (int i = 0; i < 3; ++i)
    r.line(t + i, fail("203.0.113.9"));
  ASSERT_EQ(r.bans.size(), 2u);
  EXPECT_EQ(r.bans[1].nth, 2u);
  EXPECT_EQ(r.bans[1].duration, 7200);
  // More than a day after the second ban ended: the first ban again.
  t += 2 + 7200 + 86400 + 60;
  for (int i = 0; i < 3; ++i)
    r.line(t + i, fail("203.0.113.9"));
  ASSERT_EQ(r.bans.size(), 3u);
  EXPECT_EQ(r.bans[2].nth, 1u);
  EXPECT_EQ(r.bans[2].duration, 3600);
}
