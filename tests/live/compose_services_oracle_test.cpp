// The configuration bulwark derives for a compose service is the one the
// daemon runs with. No image can be pulled here, so the real programs of the
// images are run on the host with what the container would run: the same
// command line, with the bind-mounted file at its host path.
// - redis-server 7.0 (Debian's): compose services whose `command:` names a
//   mounted redis.conf and adds `--name value` options (generated); CONFIG
//   GET of the running server against compose::derive_services().
// - postgres 15: `postgres -C NAME` with the derived -c / --name=value /
//   short options against the settings derive_services() reports.
// The official redis image's compiled protected-mode default (no) is the one
// value Debian's build cannot show: it is compared only where the file or an
// option sets it (data/compose/service-images.yaml has its source).

#include "db_servers.hpp"

#include <bulwark/core/text.hpp>
#include <bulwark/parse/compose.hpp>
#include <bulwark/parse/compose_services.hpp>

#include <algorithm>
#include <gtest/gtest.h>
#include <hiredis.h>
#include <map>
#include <nlohmann/json.hpp>
#include <random>
#include <set>
#include <unistd.h>

using namespace bulwark;
using namespace bulwark::test;

namespace {

std::string shell_quote(const std::string &s) {
  std::string out = "'";
  for (char c : s)
    out += c == '\'' ? std::string("'\\''") : std::string(1, c);
  return out + "'";
}

std::string config_get(redisContext *c, const std::string &name) {
  auto *r = static_cast<redisReply *>(redisCommand(c, "CONFIG GET %s", name.c_str()));
  std::string out = "?";
  if (r && r->type == REDIS_REPLY_ARRAY && r->elements == 2)
    out = std::string(r->element[1]->str, r->element[1]->len);
  if (r)
    freeReplyObject(r);
  return out;
}

// A compose project in a host directory whose service mounts `conf_path`
// at /usr/local/etc/redis/redis.conf and runs `command`.
compose::Services derive(const TempRoot &dir, const std::string &conf_path,
                         const std::vector<std::string> &command, const std::string &image) {
  nlohmann::json cmd = command;
  dir.write("/p/compose.yaml", "services:\n  svc:\n    image: " + image +
                                   "\n    command: " + cmd.dump() + "\n    volumes:\n      - " +
                                   conf_path + ":/etc/conf/main.conf:ro\n");
  compose::LoadOptions lo;
  lo.use_process_environment = false;
  RootFs fs(dir.path());
  compose::Project p = compose::load_project(compose::root_reader(fs), {"/p/compose.yaml"}, lo);
  EXPECT_TRUE(p.valid()) << (p.diagnostics.empty() ? "" : p.diagnostics.front().message);
  RootFs host("/");
  return compose::derive_services(p, {}, host);
}

} // namespace

TEST(ComposeServicesOracle, RedisOptionsAgreeWithARealServer) {
  BULWARK_REQUIRE_TOOL("redis-server");
  std::mt19937 rng(151515);
  bool v6 = have_ipv6_loopback();
  // Option groups, as a compose file would list them after the file.
  std::vector<std::vector<std::string>> groups = {
      {"--protected-mode", "yes"},
      {"--protected-mode", "no"},
      {"--requirepass", "pw with spaces"},
      {"--requirepass", "q\"uo'te"},
      {"--bind", "127.0.0.1"},
      {"--bind 127.0.0.1"},
      {"--save", "60", "1"},
      {"--maxmemory", "10mb"},
      {"--requirepass", "--looks-like-an-option"},
      {"--save"},
  };
  if (v6)
    groups.push_back({"--bind", "127.0.0.1", "-::1"});
  std::vector<std::string> file_lines = {
      "protected-mode yes", "protected-mode no", "requirepass from-the-file",
      "bind 127.0.0.1",     "save 900 1",        "# a comment"};
  int compared = 0, runs = 24;
  for (int n = 0; n < runs; n++) {
    std::string file;
    for (int k = 0; k < 3; k++)
      file += file_lines[rng() % file_lines.size()] + "\n";
    std::vector<std::string> opts;
    int ngroups = 1 + static_cast<int>(rng() % 3);
    for (int k = 0; k < ngroups; k++) {
      auto &g = groups[rng() % groups.size()];
      opts.insert(opts.end(), g.begin(), g.end());
    }
    std::string shell_args;
    for (auto &o : opts)
      shell_args += (shell_args.empty() ? "" : " ") + shell_quote(o);
    RedisServer s(file, 0, shell_args);
    TempRoot dir;
    std::vector<std::string> command = {"redis-server", "/etc/conf/main.conf"};
    command.insert(command.end(), opts.begin(), opts.end());
    auto services = derive(dir, s.conf(), command, "redis:7.0");
    ASSERT_EQ(services.redis.size(), 1u);
    const auto &ours = services.redis.front();
    ASSERT_TRUE(ours.problems.empty()) << ours.problems.front().message;
    if (!s.error().empty()) {
      EXPECT_TRUE(ours.cfg.has_errors()) << s.error() << "\n" << file << shell_args;
      continue;
    }
    ASSERT_FALSE(ours.cfg.has_errors()) << ours.cfg.diagnostics.front().message << "\n"
                                        << file << shell_args;
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s.port(), timeval{2, 0});
    ASSERT_TRUE(c && !c->err);
    if (const redis::Directive *rp = ours.cfg.get("requirepass"); rp && !rp->args[0].empty()) {
      auto *r = static_cast<redisReply *>(redisCommand(c, "AUTH %s", rp->args[0].c_str()));
      ASSERT_TRUE(r && r->type == REDIS_REPLY_STATUS) << file << shell_args;
      freeReplyObject(r);
    }
    bool explicit_pm = std::find(opts.begin(), opts.end(), "--protected-mode") != opts.end() ||
                       file.find("protected-mode") != std::string::npos;
    for (const char *name : {"bind", "requirepass", "maxmemory", "protected-mode"}) {
      const redis::Directive *d = ours.cfg.get(name);
      // The image's compiled default is not Debian's: only an explicit line.
      if (std::string(name) == "protected-mode" && !explicit_pm)
        continue;
      std::string got = config_get(c, name);
      if (!d)
        continue; // the server's own default, not derived
      std::string want = text::join(d->args, " ");
      if (std::string(name) == "maxmemory")
        want = want == "10mb" ? "10485760" : want;
      EXPECT_EQ(want, got) << name << "\n" << file << "args: " << shell_args;
      compared++;
    }
    redisFree(c);
  }
  std::cout << "[ redis-server with compose options ] " << runs << " services, " << compared
            << " values compared\n";
  EXPECT_GT(compared, runs);
}

TEST(ComposeServicesOracle, PostgresArgumentsAgreeWithPostgresC) {
  const std::string why = postgres_unavailable();
  BULWARK_REQUIRE(why.empty()) << why;
  const std::vector<std::vector<std::string>> commands = {
      {"postgres", "-c", "config_file=/etc/conf/main.conf", "-c", "ssl=off", "-p", "5433"},
      {"-c", "config_file=/etc/conf/main.conf", "-h", "127.0.0.1", "-N", "50"},
      {"postgres", "-c", "config_file=/etc/conf/main.conf", "--log-connections=on", "-c",
       "password_encryption=md5", "-c", "listen_addresses=*"},
      {"postgres", "-cconfig_file=/etc/conf/main.conf", "-i", "-c", "log_statement=ddl"},
      {"postgres", "-c", "config_file=/etc/conf/main.conf", "-c", "max_connections=20", "-c",
       "max_connections=30"},
  };
  const char *names[] = {"listen_addresses",    "port", "max_connections", "log_connections",
                         "password_encryption", "ssl",  "log_statement"};
  int compared = 0;
  for (auto &cmd : commands) {
    ServerDir d;
    d.write("main.conf", "listen_addresses = 'localhost'\nmax_connections = 77\nssl = off\n");
    d.write("data/x", "");
    TempRoot dir;
    auto services = derive(dir, d.path() + "/main.conf", cmd, "postgres:15");
    ASSERT_EQ(services.postgres.size(), 1u);
    const auto &ours = services.postgres.front();
    ASSERT_TRUE(ours.problems.empty()) << ours.problems.front().message;
    // The same arguments, with the mounted path at its host place.
    std::string args;
    for (size_t i = cmd.front() == "postgres" ? 1 : 0; i < cmd.size(); i++) {
      std::string a = cmd[i];
      size_t at = a.find("/etc/conf/main.conf");
      if (at != std::string::npos)
        a = a.substr(0, at) + d.path() + "/main.conf";
      args += " " + shell_quote(a);
    }
    for (const char *name : names) {
      auto r = run_command(as_postgres() + k_pg_bin + "/postgres -C " + name + " -D " + d.path() +
                           "/data" + args);
      ASSERT_EQ(r.exit_code, 0) << r.err << args;
      std::string want(text::trim(r.out));
      const pg::Setting *s = ours.conf.get(name);
      if (!s)
        continue; // PostgreSQL's default, not derived
      std::string got = s->value;
      auto b1 = pg::parse_bool(got), b2 = pg::parse_bool(want);
      if (b1 && b2 && !pg::parse_int(got))
        EXPECT_EQ(*b1, *b2) << name << args;
      else
        EXPECT_EQ(got, want) << name << args;
      compared++;
    }
  }
  std::cout << "[ postgres -C with compose arguments ] " << commands.size() << " services, "
            << compared << " values compared\n";
  EXPECT_GT(compared, static_cast<int>(commands.size()) * 2);
}

// nginx: the files bulwark reads for a compose service are the files nginx
// reads in the container. The container's /etc/nginx is rebuilt in a
// private mount namespace: the image's files (as compose_services knows
// them) bind-mounted over /etc/nginx, then each bind mount of the service
// on its target (parents first, as Docker mounts them), and `nginx -T`
// lists the files it read ("# configuration file PATH:"). The same set,
// and the same verdict on syntax, must come out of derive_services().
namespace {

struct NginxRun {
  std::set<std::string> read; // container paths nginx -T printed
  bool ok = false;
  std::string err;
};

NginxRun nginx_in_container(const TempRoot &t, const compose::NginxService &n) {
  // The image's files under <t>/ctr, mount points for the service's mounts.
  for (auto &[path, f] : n.view.files)
    if (f.shown_as.empty())
      t.write("/ctr" + path, f.text);
  std::string script =
      "set -e; mount --make-rprivate /; mount --bind " + t.path() + "/ctr/etc/nginx /etc/nginx;";
  auto mounts = n.view.mounts;
  std::stable_sort(mounts.begin(), mounts.end(), [](auto &a, auto &b) {
    return std::count(a.first.begin(), a.first.end(), '/') <
           std::count(b.first.begin(), b.first.end(), '/');
  });
  // Docker creates a missing mount point: a directory, or an empty file
  // for a file.
  for (auto &[target, host] : mounts) {
    std::string h = shell_quote(t.path() + host), g = shell_quote(target);
    script += " if [ -d " + h + " ]; then mkdir -p " + g + "; else mkdir -p \"$(dirname " + g +
              ")\"; [ -e " + g + " ] || : > " + g + "; fi; mount --bind " + h + " " + g + ";";
  }
  // The image's `user nginx;` needs the user.
  t.write("/passwd", "root:x:0:0:root:/root:/bin/sh\nnginx:x:101:101::/nonexistent:/bin/false\n");
  t.write("/group", "root:x:0:\nnginx:x:101:\n");
  script += " mount --bind " + t.path() + "/passwd /etc/passwd; mount --bind " + t.path() +
            "/group /etc/group; /usr/sbin/nginx -T -c /etc/nginx/nginx.conf";
  auto res = run_command("unshare -m sh -c " + shell_quote(script));
  NginxRun out;
  out.ok = res.exit_code == 0;
  out.err = res.err;
  for (auto &line : text::split(res.out, '\n'))
    if (text::starts_with(line, "# configuration file ") && line.back() == ':')
      out.read.insert(line.substr(21, line.size() - 22));
  return out;
}

// bulwark's files as container paths: "(image) P" is P, a host path is the
// target of the mount it came through.
std::set<std::string> bulwark_read(const compose::NginxService &n) {
  std::set<std::string> out;
  for (auto &f : n.tree.files) {
    if (text::starts_with(f, "(image) ")) {
      out.insert(f.substr(8));
      continue;
    }
    for (auto &[target, host] : n.view.mounts)
      if (f == host || text::starts_with(f, host + "/")) {
        std::string c = target + f.substr(host.size());
        if (n.view.host_path(c) == f)
          out.insert(c);
      }
  }
  return out;
}

} // namespace

TEST(ComposeServicesOracle, NginxReadsTheFilesBulwarkJudges) {
  BULWARK_REQUIRE(::access("/usr/sbin/nginx", X_OK) == 0)
      << "nginx is not installed (apt-get install nginx)";
  BULWARK_REQUIRE(run_command("unshare -m true").exit_code == 0)
      << "no private mount namespaces here (unshare -m)";
  TempRoot t;
  auto cmd = run_command("openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=a.example "
                         "-keyout " +
                         t.path() + "/k.pem -out " + t.path() + "/c.pem");
  ASSERT_EQ(cmd.exit_code, 0) << cmd.err;
  auto pem = [&](const char *f) {
    auto r = run_command(std::string("cat ") + t.path() + "/" + f);
    return r.out;
  };
  struct Case {
    const char *name;
    std::map<std::string, std::string> files; // under /p
    const char *volumes;
    bool nginx_ok;
  } cases[] = {
      // The image's nginx.conf and default.conf, one mounted conf.d file
      // beside them, and a certificate directory.
      {"conf.d file",
       {{"/p/site.conf", "server {\n listen 127.0.0.1:1 ssl;\n ssl_certificate certs/c.pem;\n"
                         " ssl_certificate_key certs/k.pem;\n include conf.d/tls.inc;\n}\n"},
        {"/p/tls.inc", "ssl_protocols TLSv1.2;\n"},
        {"/p/certs/c.pem", pem("c.pem")},
        {"/p/certs/k.pem", pem("k.pem")}},
       "      - ./site.conf:/etc/nginx/conf.d/site.conf:ro\n"
       "      - ./tls.inc:/etc/nginx/conf.d/tls.inc:ro\n"
       "      - ./certs:/etc/nginx/certs:ro\n",
       true},
      // conf.d mounted as a directory hides default.conf; a file mounted
      // inside the mounted directory wins over the directory's own file.
      {"conf.d directory",
       {{"/p/sites/a.conf", "server { listen 127.0.0.1:2; }\n"},
        {"/p/sites/b.conf", "server { listen 127.0.0.1:3; }\n"},
        {"/p/override/b.conf", "server { listen 127.0.0.1:4; include snippets/*.conf; }\n"},
        {"/p/snippets/x.conf", "add_header X-A a;\n"}},
       "      - ./sites:/etc/nginx/conf.d\n"
       "      - ./override/b.conf:/etc/nginx/conf.d/b.conf\n"
       "      - ./snippets:/etc/nginx/snippets\n",
       true},
      // Its own nginx.conf, which includes a file nobody provides.
      {"missing include",
       {{"/p/nginx.conf", "events {}\nhttp {\n include mime.types;\n include extra.conf;\n}\n"}},
       "      - ./nginx.conf:/etc/nginx/nginx.conf:ro\n",
       false},
      // A garbled mounted file.
      {"garbled",
       {{"/p/bad.conf", "server {\n listen 127.0.0.1:5;\n"}},
       "      - ./bad.conf:/etc/nginx/conf.d/bad.conf\n",
       false},
  };
  int compared = 0;
  for (auto &c : cases) {
    TempRoot dir;
    for (auto &[path, text] : c.files)
      dir.write(path, text);
    dir.write("/p/compose.yaml", std::string("services:\n  web:\n    image: nginx:1.27\n"
                                             "    volumes:\n") +
                                     c.volumes);
    compose::LoadOptions lo;
    lo.use_process_environment = false;
    RootFs fs(dir.path());
    compose::Project p = compose::load_project(compose::root_reader(fs), {"/p/compose.yaml"}, lo);
    ASSERT_TRUE(p.valid()) << c.name;
    auto s = compose::derive_services(p, {}, fs);
    ASSERT_EQ(s.nginx.size(), 1u) << c.name;
    const compose::NginxService &n = s.nginx[0];
    NginxRun real = nginx_in_container(dir, n);
    EXPECT_EQ(real.ok, c.nginx_ok) << c.name << ": " << real.err;
    EXPECT_EQ(n.tree.diagnostics.empty(), c.nginx_ok)
        << c.name << ": " << (n.tree.diagnostics.empty() ? "" : n.tree.diagnostics[0].message);
    if (c.nginx_ok) {
      EXPECT_EQ(text::join(std::vector<std::string>(real.read.begin(), real.read.end()), " "),
                text::join(
                    [&] {
                      auto b = bulwark_read(n);
                      return std::vector<std::string>(b.begin(), b.end());
                    }(),
                    " "))
          << c.name;
      ++compared;
    }
  }
  EXPECT_EQ(compared, 2);
}
