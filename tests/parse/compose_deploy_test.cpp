// The compose file sets a deployment names: shell words of deploy scripts
// (quotes, continuations, several commands a line), every spelling of the
// Docker CLI's file options, systemd units' Exec*= with WorkingDirectory=,
// COMPOSE_FILE with COMPOSE_PATH_SEPARATOR, generated option spellings, and
// hostile scripts.

#include "../support.hpp"

#include <bulwark/parse/compose_deploy.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <random>

using namespace bulwark;
using namespace bulwark::compose;

TEST(ComposeDeploy, Guide000DeployScript) {
  // seeds/000 "3. Deploy Script", verbatim.
  const char *script = R"(#!/bin/bash
# secure-deploy.sh

set -euo pipefail

# Verify security configurations
docker-compose -f docker-compose.yml \
  -f docker-compose.security.yml \
  -f environments/production.yml \
  config --quiet

# Deploy with security overrides
docker stack deploy \
  --compose-file docker-compose.yml \
  --compose-file docker-compose.security.yml \
  --compose-file environments/production.yml \
  --with-registry-auth \
  vpn-stack
)";
  auto cmds = compose_commands(script);
  ASSERT_EQ(cmds.size(), 2u);
  std::vector<std::string> want = {"docker-compose.yml", "docker-compose.security.yml",
                                   "environments/production.yml"};
  EXPECT_EQ(cmds[0].how, "docker-compose");
  EXPECT_EQ(cmds[0].line, 7);
  EXPECT_EQ(cmds[0].files, want);
  EXPECT_EQ(cmds[1].how, "docker stack deploy");
  EXPECT_EQ(cmds[1].line, 13);
  EXPECT_EQ(cmds[1].files, want);
  EXPECT_EQ(cmds[1].stack, "vpn-stack"); // the swarm services' com.docker.stack.namespace
  EXPECT_EQ(cmds[0].stack, "");
}

TEST(ComposeDeploy, StackNameOfDockerStackDeploy) {
  auto stack = [](const std::string &s) {
    auto c = compose_commands(s);
    return c.size() == 1 ? c[0].stack : "<" + std::to_string(c.size()) + " commands>";
  };
  EXPECT_EQ(stack("docker stack deploy -c a.yml web"), "web");
  EXPECT_EQ(stack("docker stack deploy web -c a.yml"), "web");
  EXPECT_EQ(stack("docker stack deploy --resolve-image never --prune -c a.yml web"), "web");
  EXPECT_EQ(stack("docker stack up --compose-file=a.yml --detach=false -q web"), "web");
  EXPECT_EQ(stack("docker --host unix:///x.sock stack deploy -ca.yml 'web'"), "web");
  EXPECT_EQ(stack("docker stack deploy -c a.yml \"$STACK\""), "$STACK");
  EXPECT_EQ(stack("docker compose -f a.yml up web"), "");
}

TEST(ComposeDeploy, EverySpellingOfTheFileOptions) {
  auto one = [](const std::string &s) {
    auto c = compose_commands(s);
    return c.size() == 1 ? c[0].files
                         : std::vector<std::string>{"<" + std::to_string(c.size()) + " commands>"};
  };
  std::vector<std::string> ab = {"a.yml", "b.yml"};
  EXPECT_EQ(one("docker compose -f a.yml -f b.yml up -d"), ab);
  EXPECT_EQ(one("docker compose --file a.yml --file=b.yml up"), ab);
  EXPECT_EQ(one("docker compose -fa.yml -f=b.yml up"), ab);
  EXPECT_EQ(one("sudo /usr/bin/docker --context prod compose -f 'a.yml' -f \"b.yml\" up"), ab);
  EXPECT_EQ(one("docker stack deploy -c a.yml --compose-file=b.yml stack"), ab);
  EXPECT_EQ(one("docker stack up -c a.yml -c b.yml stack"), ab);
  EXPECT_EQ(one("cd /srv && docker-compose -f a.yml -f b.yml pull"), ab);
  // -f of another docker command is not a compose file.
  EXPECT_TRUE(compose_commands("docker build -f Dockerfile .").empty());
  EXPECT_TRUE(compose_commands("docker logs -f web").empty());
  EXPECT_TRUE(compose_commands("docker compose up -d").empty()); // default files
  // A comment is not a command; an escaped newline joins lines.
  EXPECT_TRUE(compose_commands("# docker compose -f x.yml up\n").empty());
  // A variable is kept as written, marked by `$`.
  auto v = compose_commands("docker compose -f \"$DIR/a.yml\" up");
  ASSERT_EQ(v.size(), 1u);
  EXPECT_EQ(v[0].files.at(0), "$DIR/a.yml");
  // cd before the command is where relative paths resolve.
  auto c = compose_commands("cd /opt/vpn\ndocker compose -f a.yml up\n");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].cwd, "/opt/vpn");
}

TEST(ComposeDeploy, GeneratedOptionSpellingsAgree) {
  // Random file lists written with random option spellings, quotes and
  // continuations: the list read back is the list written.
  std::mt19937 rng(15);
  for (int round = 0; round < 300; ++round) {
    bool stack = rng() % 2;
    int n = 1 + static_cast<int>(rng() % 4);
    std::vector<std::string> files;
    std::string cmd =
        stack ? "docker stack deploy" : (rng() % 2 ? "docker compose" : "docker-compose");
    for (int i = 0; i < n; ++i) {
      std::string f = "dir" + std::to_string(rng() % 3) + "/f" + std::to_string(i) + ".yml";
      files.push_back(f);
      std::string q = rng() % 3 == 0 ? "'" + f + "'" : (rng() % 2 ? "\"" + f + "\"" : f);
      std::string sep = rng() % 3 == 0 ? " \\\n  " : " ";
      switch (rng() % 3) {
      case 0: cmd += sep + (stack ? "-c " : "-f ") + q; break;
      case 1: cmd += sep + (stack ? "--compose-file " : "--file ") + q; break;
      default: cmd += sep + (stack ? "--compose-file=" : "--file=") + q; break;
      }
    }
    cmd += stack ? " mystack" : " up -d";
    auto c = compose_commands("#!/bin/sh\nset -e\n" + cmd + "\necho done\n");
    ASSERT_EQ(c.size(), 1u) << cmd;
    EXPECT_EQ(c[0].files, files) << cmd;
    EXPECT_EQ(c[0].line, 3) << cmd;
  }
}

TEST(ComposeDeploy, ComposeFileSplitsOnTheSeparator) {
  EXPECT_EQ(split_compose_file("a.yml:b.yml", ""), (std::vector<std::string>{"a.yml", "b.yml"}));
  EXPECT_EQ(split_compose_file("a.yml;b.yml", ";"), (std::vector<std::string>{"a.yml", "b.yml"}));
  // Empty entries stay: Compose resolves each to the working directory and
  // refuses the project (ComposeDiff.ComposeFileDiscoveryAgreesWithDockerCompose129).
  EXPECT_EQ(split_compose_file("a.yml::b.yml:", ":"),
            (std::vector<std::string>{"a.yml", "", "b.yml", ""}));
  // Go's strings.Split("", sep) is [""]: an empty COMPOSE_FILE is one empty
  // entry for compose-go (v2), not "unset" as for docker-compose 1.29.
  EXPECT_EQ(split_compose_file("", ":"), (std::vector<std::string>{""}));
}

TEST(ComposeDeploy, AnEmptyComposeFileIsFlaggedNotSplit) {
  // Compose versions disagree on COMPOSE_FILE="" (1.29: unset; v2: the
  // working directory, refused): the command is kept, flagged, with no file.
  for (std::string script :
       {"COMPOSE_FILE= docker-compose up -d\n", "export COMPOSE_FILE=\"\"\ndocker compose pull\n",
        "COMPOSE_FILE=''; export COMPOSE_FILE; docker compose up\n"}) {
    auto c = compose_commands(script);
    ASSERT_EQ(c.size(), 1u) << script;
    EXPECT_TRUE(c[0].empty_compose_file) << script;
    EXPECT_TRUE(c[0].files.empty()) << script;
    EXPECT_NE(c[0].how.find("with COMPOSE_FILE"), std::string::npos) << script;
  }
  // An empty entry of a longer list is not that case: it stays an entry.
  auto c = compose_commands("COMPOSE_FILE=a.yml: docker compose up\n");
  ASSERT_EQ(c.size(), 1u);
  EXPECT_FALSE(c[0].empty_compose_file);
  EXPECT_EQ(c[0].files, (std::vector<std::string>{"a.yml", ""}));
  // In a .env: one flagged set for the directory.
  bulwark::test::TempRoot r;
  r.write("/srv/app/.env", "TZ=UTC\nCOMPOSE_FILE=\n");
  auto sets = find_deploy_file_sets(RootFs(r.path()), {"/srv/app"});
  ASSERT_EQ(sets.size(), 1u);
  EXPECT_TRUE(sets[0].empty_compose_file);
  EXPECT_EQ(sets[0].directory, "/srv/app");
  EXPECT_EQ(sets[0].source, "/srv/app/.env");
  EXPECT_EQ(sets[0].line, 2);
  EXPECT_TRUE(sets[0].files.empty());
}

TEST(ComposeDeploy, FindsSetsInScriptsUnitsAndDotenv) {
  bulwark::test::TempRoot r;
  r.write("/srv/vpn/docker-compose.yml", "services: {}\n");
  r.write("/srv/vpn/secure-deploy.sh",
          "#!/bin/bash\ndocker stack deploy --compose-file docker-compose.yml "
          "--compose-file docker-compose.security.yml --compose-file environments/production.yml "
          "vpn\n");
  r.write("/srv/lms/compose.yaml", "services: {}\n");
  r.write("/srv/lms/.env",
          "COMPOSE_PATH_SEPARATOR=;\nCOMPOSE_FILE=compose.yaml;compose.prod.yaml\n");
  r.write("/etc/systemd/system/app.service",
          "[Service]\nWorkingDirectory=/opt/app\nExecStart=/usr/bin/docker compose \\\n"
          "  -f base.yml -f prod.yml up\nExecStop=/usr/bin/docker compose -f x.yml down\n");
  r.write("/srv/vpn/scripts/up.sh",
          "cd \"$(dirname \"$0\")/..\"\ndocker compose -f \"$STACK\" up\n");
  RootFs fs(r.path());
  auto sets = find_deploy_file_sets(fs, {"/srv/vpn", "/srv/lms"});
  auto find = [&](const std::string &source) -> const DeployFileSet * {
    for (auto &s : sets)
      if (s.source == source)
        return &s;
    return nullptr;
  };
  const DeployFileSet *vpn = find("/srv/vpn/secure-deploy.sh");
  ASSERT_TRUE(vpn);
  EXPECT_EQ(vpn->files, (std::vector<std::string>{"/srv/vpn/docker-compose.yml",
                                                  "/srv/vpn/docker-compose.security.yml",
                                                  "/srv/vpn/environments/production.yml"}));
  EXPECT_EQ(vpn->line, 2);
  const DeployFileSet *lms = find("/srv/lms/.env");
  ASSERT_TRUE(lms);
  EXPECT_EQ(lms->how, "COMPOSE_FILE");
  EXPECT_EQ(lms->files,
            (std::vector<std::string>{"/srv/lms/compose.yaml", "/srv/lms/compose.prod.yaml"}));
  const DeployFileSet *unit = find("/etc/systemd/system/app.service");
  ASSERT_TRUE(unit);
  EXPECT_EQ(unit->files, (std::vector<std::string>{"/opt/app/base.yml", "/opt/app/prod.yml"}));
  EXPECT_EQ(unit->line, 3);
  const DeployFileSet *up = find("/srv/vpn/scripts/up.sh");
  ASSERT_TRUE(up);
  EXPECT_TRUE(up->files.empty());
  EXPECT_EQ(up->unresolved, (std::vector<std::string>{"$STACK"}));
}

TEST(ComposeDeploy, HostileScriptsEndWithoutCrashing) {
  // Unclosed quotes, a lone backslash, options without values, a huge
  // line of -f: bounded, no crash, no hang.
  for (const char *s : {"docker compose -f", "docker compose -f 'a.yml", "docker compose -f \"a\\",
                        "docker stack deploy -c", "\\", "'", "docker", "docker compose --file="})
    (void)compose_commands(s);
  std::string big = "docker compose";
  for (int i = 0; i < 100000; ++i)
    big += " -f f" + std::to_string(i) + ".yml";
  auto c = compose_commands(big);
  ASSERT_EQ(c.size(), 1u);
  EXPECT_EQ(c[0].files.size(), 100000u);
}

// COMPOSE_FILE as the shell passes it: each script runs under bash with
// `docker` and `docker-compose` stubs on PATH that record the environment
// and arguments Compose would get; compose_commands must name the same
// files (-f first, else COMPOSE_FILE split on its separator; stack deploy
// never reads the variable).
TEST(ComposeDeploy, ComposeFileFromTheEnvironmentAgreesWithBash) {
  BULWARK_REQUIRE_TOOL("bash");
  bulwark::test::TempRoot t;
  const std::string stub = "#!/bin/sh\n"
                           "{ printf '%s\\n' \"${COMPOSE_FILE-<unset>}\"; "
                           "printf '%s\\n' \"${COMPOSE_PATH_SEPARATOR-<unset>}\"; "
                           "for a in \"$@\"; do printf '%s\\n' \"$a\"; done; echo ---; } >> " +
                           t.path() + "/calls\n";
  t.write("/bin/docker", stub, 0755);
  t.write("/bin/docker-compose", stub, 0755);
  size_t total = 0;
  const std::vector<std::string> cases = {
      "export COMPOSE_FILE=a.yml:b.yml\ndocker compose up -d\n",
      "COMPOSE_FILE=a.yml:b.yml docker compose up -d\n",
      "COMPOSE_FILE=a.yml:b.yml\ndocker compose up -d\n", // not exported: Compose sees nothing
      "COMPOSE_FILE=a.yml:b.yml\nexport COMPOSE_FILE\ndocker-compose pull\n",
      "declare -x COMPOSE_FILE='a.yml;b.yml' COMPOSE_PATH_SEPARATOR=';'\ndocker compose up\n",
      "export COMPOSE_FILE=a.yml\nunset COMPOSE_FILE\ndocker compose up\n",
      "export COMPOSE_FILE=a.yml:b.yml\ndocker compose -f c.yml up\n", // -f wins
      "export COMPOSE_FILE=a.yml:b.yml\ndocker stack deploy -c c.yml s\n",
      "export COMPOSE_FILE=x.yml\nCOMPOSE_FILE=a.yml docker compose up && docker compose ps\n",
      "export COMPOSE_PATH_SEPARATOR=,\nexport COMPOSE_FILE=a.yml,b.yml,c.yml\n"
      "docker compose config\n",
  };
  for (auto &script : cases) {
    std::remove((t.path() + "/calls").c_str());
    t.write("/s.sh", script);
    auto r = bulwark::test::run_command("cd " + t.path() + " && env -i PATH=" + t.path() +
                                        "/bin:/usr/bin:/bin bash s.sh");
    ASSERT_EQ(r.exit_code, 0) << script << r.err;
    std::ifstream in(t.path() + "/calls");
    std::vector<std::vector<std::string>> bash_sets;
    std::vector<std::string> call;
    for (std::string l; std::getline(in, l);) {
      if (l != "---") {
        call.push_back(l);
        continue;
      }
      // call: COMPOSE_FILE, separator, then the arguments.
      ASSERT_GE(call.size(), 3u);
      std::vector<std::string> files;
      bool stack = call[2] == "stack";
      for (size_t i = 2; i < call.size(); ++i)
        if ((call[i] == "-f" || call[i] == "-c") && i + 1 < call.size())
          files.push_back(call[++i]);
      if (files.empty() && !stack && call[0] != "<unset>")
        files = split_compose_file(call[0], call[1] == "<unset>" ? "" : call[1]);
      if (!files.empty())
        bash_sets.push_back(files);
      call.clear();
    }
    total += bash_sets.size();
    std::vector<std::vector<std::string>> ours;
    for (auto &c : compose_commands(script))
      ours.push_back(c.files);
    EXPECT_EQ(ours, bash_sets) << script;
  }
  EXPECT_EQ(total, 9u) << "the stubs recorded fewer compose calls than the scripts make";
}

TEST(ComposeDeploy, UnitEnvironmentAndTheDotenvWhereComposeRuns) {
  bulwark::test::TempRoot r;
  // A unit that sets COMPOSE_FILE (Environment=, then EnvironmentFile=
  // overriding it, as systemd.exec orders them) and runs compose without -f.
  r.write("/etc/systemd/system/vpn.service", "[Service]\nWorkingDirectory=/srv/vpn\n"
                                             "Environment=\"COMPOSE_FILE=ignored.yml\" OTHER=1\n"
                                             "EnvironmentFile=-/etc/default/vpn-stack\n"
                                             "ExecStart=/usr/bin/docker compose up -d\n");
  r.write("/etc/default/vpn-stack",
          "COMPOSE_FILE=docker-compose.yml:docker-compose.security.yml:environments/"
          "production.yml\n");
  r.write("/etc/systemd/system/env-only.service",
          "[Service]\nWorkingDirectory=/opt/env\nEnvironment=COMPOSE_FILE=base.yml:prod.yml\n"
          "ExecStart=/usr/bin/docker-compose up\n");
  // A unit that runs compose in a directory with no default-named file: the
  // .env there names the files.
  r.write("/etc/systemd/system/lms.service",
          "[Service]\nWorkingDirectory=/opt/lms\nExecStart=/usr/bin/docker compose up\n");
  r.write("/opt/lms/.env", "COMPOSE_FILE=stack.yml:stack.prod.yml\n");
  // root's deploy script exporting the variable.
  r.write("/root/deploy.sh", "#!/bin/bash\ncd /opt/web\nexport COMPOSE_FILE=web.yml:web.prod.yml\n"
                             "docker compose pull\ndocker compose up -d\n");
  RootFs fs(r.path());
  auto sets = find_deploy_file_sets(fs, {});
  auto find = [&](const std::string &source) -> const DeployFileSet * {
    for (auto &s : sets)
      if (s.source == source)
        return &s;
    return nullptr;
  };
  const DeployFileSet *vpn = find("/etc/systemd/system/vpn.service");
  ASSERT_TRUE(vpn);
  EXPECT_EQ(vpn->files, (std::vector<std::string>{"/srv/vpn/docker-compose.yml",
                                                  "/srv/vpn/docker-compose.security.yml",
                                                  "/srv/vpn/environments/production.yml"}));
  EXPECT_EQ(vpn->how, "docker compose with COMPOSE_FILE");
  EXPECT_EQ(vpn->line, 5);
  const DeployFileSet *env = find("/etc/systemd/system/env-only.service");
  ASSERT_TRUE(env);
  EXPECT_EQ(env->files, (std::vector<std::string>{"/opt/env/base.yml", "/opt/env/prod.yml"}));
  const DeployFileSet *lms = find("/opt/lms/.env");
  ASSERT_TRUE(lms);
  EXPECT_EQ(lms->how, "COMPOSE_FILE");
  EXPECT_EQ(lms->files,
            (std::vector<std::string>{"/opt/lms/stack.yml", "/opt/lms/stack.prod.yml"}));
  const DeployFileSet *web = find("/root/deploy.sh");
  ASSERT_TRUE(web);
  EXPECT_EQ(web->files, (std::vector<std::string>{"/opt/web/web.yml", "/opt/web/web.prod.yml"}));
  EXPECT_EQ(web->line, 4); // pull and up name the same files: one set
  EXPECT_EQ(std::count_if(sets.begin(), sets.end(),
                          [](const DeployFileSet &s) { return s.source == "/root/deploy.sh"; }),
            1);
}

// COMPOSE_FILE's ${VAR}s in a .env: resolved from the assignments above it
// (Compose's dotenv interpolates unquoted and double-quoted values), kept
// literal in single quotes, unresolved when the .env does not set the
// variable (the process environment would), and a doubling chain stops at
// the budget instead of building gigabytes.
TEST(ComposeDeploy, DotenvVariablesInComposeFile) {
  bulwark::test::TempRoot r;
  r.write("/srv/a/.env", "D=deploy\nE=\"${D}/extra\"\nCOMPOSE_FILE=base.yml:${D}/p.yml:${E}.yml\n");
  r.write("/srv/b/.env", "D=deploy\nCOMPOSE_FILE='base.yml:${D}/p.yml'\n");
  r.write("/srv/c/.env", "COMPOSE_FILE=base.yml:${FROM_SHELL}/p.yml\nFROM_SHELL=late\n");
  std::string chain = "A0=" + std::string(1024, 'x') + "\n";
  for (int i = 1; i < 40; ++i)
    chain += "A" + std::to_string(i) + "=${A" + std::to_string(i - 1) + "}${A" +
             std::to_string(i - 1) + "}\n";
  r.write("/srv/d/.env", chain + "COMPOSE_FILE=${A39}.yml:base.yml\n");
  RootFs fs(r.path());
  auto sets = find_deploy_file_sets(fs, {"/srv/a", "/srv/b", "/srv/c", "/srv/d"});
  auto find = [&](const std::string &source) -> const DeployFileSet * {
    for (auto &s : sets)
      if (s.source == source)
        return &s;
    return nullptr;
  };
  const DeployFileSet *a = find("/srv/a/.env");
  ASSERT_TRUE(a);
  EXPECT_EQ(a->files, (std::vector<std::string>{"/srv/a/base.yml", "/srv/a/deploy/p.yml",
                                                "/srv/a/deploy/extra.yml"}));
  EXPECT_TRUE(a->unresolved.empty());
  const DeployFileSet *b = find("/srv/b/.env");
  ASSERT_TRUE(b);
  EXPECT_EQ(b->unresolved, (std::vector<std::string>{"${D}/p.yml"}));
  const DeployFileSet *c = find("/srv/c/.env");
  ASSERT_TRUE(c);
  EXPECT_EQ(c->unresolved, (std::vector<std::string>{"${FROM_SHELL}/p.yml"}));
  const DeployFileSet *d = find("/srv/d/.env");
  ASSERT_TRUE(d);
  EXPECT_EQ(d->unresolved, (std::vector<std::string>{"${A39}.yml"}));
  EXPECT_EQ(d->files, (std::vector<std::string>{"/srv/d/base.yml"}));
}
