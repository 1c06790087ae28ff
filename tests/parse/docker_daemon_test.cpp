// /etc/docker/daemon.json: one JSON object, its top-level keys' lines, and
// the line where a broken file stops being JSON.

#include "../support.hpp"

#include <bulwark/parse/docker_daemon.hpp>

#include <gtest/gtest.h>

using namespace bulwark;
using bulwark::test::TempRoot;

TEST(DockerDaemon, TopLevelKeysHaveTheirLinesNestedOnesDoNot) {
  auto c = docker::parse_daemon_json("{\n"
                                     "  \"log-driver\": \"json-file\",\n"
                                     "  \"log-opts\": {\"icc\": \"x\",\n"
                                     "               \"max-size\": \"10m\"},\n"
                                     "  \"labels\": [\"icc:\", \"a\\\"b\"],\n"
                                     "  \"i\\u0063c\": false,\n"
                                     "  \"live-restore\": true, \"live-restore\": false\n"
                                     "}\n",
                                     "/etc/docker/daemon.json");
  ASSERT_TRUE(c.ok()) << c.error().to_string();
  EXPECT_EQ(c->line_of("log-driver"), 2);
  EXPECT_EQ(c->line_of("log-opts"), 3);
  EXPECT_EQ(c->line_of("max-size"), 0); // nested: not a daemon option
  EXPECT_EQ(c->line_of("icc"), 6);      // written with an escape
  EXPECT_EQ(c->line_of("live-restore"), 7);
  EXPECT_EQ(c->options["live-restore"], false); // the last value wins, as in dockerd
  EXPECT_EQ(c->options["icc"], false);
  EXPECT_EQ(c->line_of("absent"), 0);
}

TEST(DockerDaemon, BrokenTruncatedAndNonObjectsAreErrorsWithALine) {
  auto cut = docker::parse_daemon_json("{\n  \"icc\": false,\n  \"live-restore\": tr", "/d.json");
  ASSERT_FALSE(cut.ok());
  EXPECT_EQ(cut.error().line, 3);
  EXPECT_EQ(cut.error().path, "/d.json");
  auto comma = docker::parse_daemon_json("{\n\"icc\": false,\n}\n", "/d.json");
  ASSERT_FALSE(comma.ok()); // dockerd's encoding/json refuses a trailing comma too
  EXPECT_EQ(comma.error().line, 3);
  for (const char *bad : {"", "[]", "\"icc\"", "null", "{} {}"}) {
    auto r = docker::parse_daemon_json(bad, "/d.json");
    EXPECT_FALSE(r.ok()) << bad;
  }
  // Deep nesting and a large file are parsed, not trusted.
  std::string deep = "{\"a\": " + std::string(5000, '[') + std::string(5000, ']') + "}";
  auto d = docker::parse_daemon_json(deep, "/d.json");
  ASSERT_TRUE(d.ok());
  EXPECT_EQ(d->line_of("a"), 1);
}

TEST(DockerDaemon, LoadSaysAbsentApartFromBroken) {
  TempRoot r;
  r.mkdir("/etc/docker");
  RootFs fs(r.path());
  auto absent = docker::load_daemon_json(fs);
  ASSERT_FALSE(absent.ok());
  EXPECT_TRUE(absent.error().not_found());
  r.write("/etc/docker/daemon.json", "{\"icc\": false}\n");
  auto ok = docker::load_daemon_json(fs);
  ASSERT_TRUE(ok.ok());
  EXPECT_EQ(ok->path, "/etc/docker/daemon.json");
  EXPECT_EQ(ok->line_of("icc"), 1);
}

// Found by fuzz_docker_daemon: nlohmann::json throws out_of_range, not
// parse_error, for a number beyond a double; it escaped and ended the run.
TEST(DockerDaemon, NumberOverflowIsAnErrorNotACrash) {
  auto r =
      docker::parse_daemon_json("{\"max-concurrent-downloads\": 22222e75509562970}", "/d.json");
  ASSERT_FALSE(r.ok());
  EXPECT_NE(r.error().message.find("number overflow"), std::string::npos) << r.error().message;
}

// Found by fuzz_docker_daemon: nlohmann::json stops at a NUL byte, so
// "{}\0..." parsed as an empty object while the key scanner read on.
TEST(DockerDaemon, ANulByteIsAnErrorNotTheEndOfTheFile) {
  auto r = docker::parse_daemon_json(std::string("{\n}\0\n\"icc\": true}", 15), "/d.json");
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().line, 2);
}
