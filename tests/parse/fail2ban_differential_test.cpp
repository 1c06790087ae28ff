// Differential test: bulwark's fail2ban reader against fail2ban-client 1.0.2
// itself (`fail2ban-client -c DIR -d`, Debian 12's fail2ban package).
//
// `-d` prints, one Python list a line, the commands fail2ban-client would send
// to the server: ['add', JAIL, BACKEND] for each enabled jail, then
// ['set', JAIL, 'maxretry', 5] (an int, or None when int() failed),
// ['set', JAIL, 'findtime'|'bantime', '10m'] (the interpolated string),
// ['set', JAIL, 'addlogpath', FILE, 'head'|'tail'] for each existing file a
// logpath glob matches (none for backend systemd*). A configuration it
// refuses ends with exit status 255. A small Python filter turns each line
// into JSON (ast.literal_eval), which the test reads.
//
// A deterministic generator writes configuration trees into a temp dir per
// case: jail.conf, jail.d/*.conf, jail.local, jail.d/*.local, [INCLUDES]
// before/after (relative, into a subdirectory, with .local twins and
// include cycles), [DEFAULT] overrides, %(name)s / %(known/x)s /
// %(default/x)s / %(sect/x)s / %(__name__)s, time spellings, case and
// delimiter variants, comments, continuation lines, and, rarely, loops,
// undefined names, missing filters and syntax errors. For every enabled jail, enabled,
// backend, maxretry, findtime, bantime and the log files must agree; a
// configuration fail2ban refuses must be one bulwark calls fatal.
//
// Environment: BULWARK_F2B_CASES (default 80), BULWARK_F2B_KEEP=1 keeps the
// case directories, BULWARK_F2B_ONLY=N runs case N only.

#include "../support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/fail2ban.hpp>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <filesystem>
#include <random>
#include <set>
#include <sstream>

using namespace bulwark;
namespace fs = std::filesystem;

namespace {

const char *k_client = "/usr/bin/fail2ban-client";
const char *k_python = "/usr/bin/python3";

int env_int(const char *name, int def) {
  const char *v = std::getenv(name);
  return v && *v ? std::atoi(v) : def;
}

// What one enabled jail looks like to the server.
struct JailView {
  std::string backend;
  std::optional<nlohmann::json> maxretry; // int or null; nullopt: not sent
  std::optional<std::string> findtime, bantime;
  std::vector<std::pair<std::string, std::string>> logs; // sorted
  bool operator==(const JailView &) const = default;
};

std::string show(const std::map<std::string, JailView> &m) {
  std::ostringstream o;
  for (auto &[n, v] : m) {
    o << "  [" << n << "] backend=" << v.backend
      << " maxretry=" << (v.maxretry ? v.maxretry->dump() : "-")
      << " findtime=" << v.findtime.value_or("-") << " bantime=" << v.bantime.value_or("-")
      << " logs=";
    for (auto &[p, t] : v.logs)
      o << p << "(" << t << ") ";
    o << "\n";
  }
  return o.str();
}

class Gen {
public:
  Gen(uint32_t seed, std::string dir) : m_rng(seed), m_dir(std::move(dir)) {}

  bool chance(double p) { return std::uniform_real_distribution<double>(0, 1)(m_rng) < p; }
  template <class T> const T &pick(const std::vector<T> &v) {
    return v[std::uniform_int_distribution<size_t>(0, v.size() - 1)(m_rng)];
  }
  int between(int a, int b) { return std::uniform_int_distribution<int>(a, b)(m_rng); }

  std::string value(const std::string &opt) {
    static const std::vector<std::string> times{"600",
                                                "10m",
                                                "1h",
                                                "2h",
                                                "1d",
                                                "1d 2h",
                                                "1h30m",
                                                "-1",
                                                "30m",
                                                "1w",
                                                "5 m",
                                                "%(bt)s",
                                                "%(bt)s",
                                                "1.5h",
                                                "45s",
                                                "%(default/bantime)s",
                                                "3600",
                                                "%(known/bantime)s",
                                                "%(sshd/findtime)s"};
    if (opt == "enabled")
      return pick<std::string>({"true", "false", "yes", "no", "1", "0", "on", "off", "True",
                                "%(en)s", "maybe", "true", "true"});
    if (opt == "filter")
      return pick<std::string>({"sshd", "nosuch", "sshd[mode=aggressive]", "%(__name__)s"});
    if (opt == "backend")
      return pick<std::string>({"auto", "polling", "systemd", "%(be)s", "auto"});
    if (opt == "maxretry")
      return pick<std::string>({"3", "5", " 2", "+4", "07", "1_0", "abc", "%(mr)s",
                                "%(known/maxretry)s", "%(default/maxretry)s", "2"});
    if (opt == "findtime" || opt == "bantime")
      return pick(times);
    // logpath
    std::string v = pick<std::string>(
        {"%(logdir)s/a.log", "%(logdir)s/*.log", "%(logdir)s/missing.log", "%(logdir)s/b.log tail",
         "%(logdir)s/a.log\n    %(logdir)s/b.log", "%(logdir)s/%(__name__)s.log", "%(lp)s",
         "%(logdir)s/[ab].log", "%(logdir)s/a.log\n\n  %(logdir)s/sub/*.log"});
    return v;
  }

  // One section body: options not repeated.
  std::string options(bool local) {
    static const std::vector<std::string> opts{"enabled",  "backend", "maxretry",
                                               "findtime", "bantime", "logpath"};
    std::set<std::string> used;
    std::string out;
    int n = between(1, 4);
    for (int i = 0; i < n; ++i) {
      std::string o = pick(opts);
      if (!used.insert(o).second)
        continue;
      if (chance(0.15))
        out += pick<std::string>({"# a comment\n", "; another\n", "\n", "   # indented\n"});
      std::string name = o;
      if (chance(0.15))
        name[0] = static_cast<char>(std::toupper(name[0]));
      std::string v = value(o);
      if (!local && v.find("known/") != std::string::npos)
        v = "%(default/" + o + ")s";
      out += name + pick<std::string>({" = ", "=", ": ", " : ", "  =  "}) + v;
      if (chance(0.1))
        out += " ; inline";
      out += "\n";
    }
    return out;
  }

  std::string file(bool local, bool can_default,
                   const std::vector<std::string> &jails = {"sshd", "web", "mail-x", "Other_1"}) {
    std::set<std::string> used;
    std::string out;
    int n = between(1, 3);
    for (int i = 0; i < n; ++i) {
      std::string s = can_default && chance(0.3) ? "DEFAULT" : pick(jails);
      if (!used.insert(s).second)
        continue;
      out += "[" + s + "]\n" + options(local);
      if (chance(0.1))
        out += "\n";
    }
    return out;
  }

  void write(const std::string &rel, const std::string &text) {
    fs::path p = fs::path(m_dir) / rel;
    fs::create_directories(p.parent_path());
    std::ofstream(p, std::ios::binary) << text;
    m_files += "---- " + rel + "\n" + text;
  }

  void tree() {
    fs::create_directories(m_dir + "/logs/sub");
    for (const char *f : {"a.log", "b.log", "sshd.log", "web.log", "sub/c.log"})
      std::ofstream(m_dir + "/logs/" + f) << "";
    fs::create_directory_symlink("/etc/fail2ban/filter.d", m_dir + "/filter.d");
    fs::create_directory_symlink("/etc/fail2ban/action.d", m_dir + "/action.d");
    fs::copy_file("/etc/fail2ban/fail2ban.conf", m_dir + "/fail2ban.conf");

    std::string inc = "[INCLUDES]\n";
    if (chance(0.8))
      inc += "before = paths.conf\n";
    if (chance(0.3))
      inc += std::string("after = inc/after.conf") + (chance(0.3) ? "\n        ./paths.conf" : "") +
             "\n";
    std::string defs = "[DEFAULT]\nfilter = sshd\naction =\nlogdir = " + m_dir + "/logs\n" +
                       "maxretry = 5\nbantime = 10m\nfindtime = 10m\n";
    // The names paths.conf defines, so that most trees are valid without it.
    if (chance(0.7))
      defs += "bt = 3h\nmr = 6\nen = true\nbe = auto\nlp = %(logdir)s/a.log\n";
    std::string body;
    bool loop = chance(0.04), undefined = chance(0.04);
    if (loop)
      defs += "loopa = %(loopb)s\nloopb = %(loopa)s\n";
    for (const char *j : {"sshd", "web"}) {
      body += std::string("[") + j + "]\n";
      if (chance(0.8))
        body += "enabled = true\n";
      if (chance(0.5))
        body += "logpath = %(logdir)s/" + std::string(j) + ".log\n";
      if (loop && std::string(j) == "sshd")
        body += "bantime = %(loopa)s\n";
      if (undefined && std::string(j) == "web")
        body += "findtime = %(undefined)s\n";
    }
    write("jail.conf",
          inc + defs + body + (chance(0.5) ? file(false, false, {"mail-x", "Other_1"}) : ""));

    std::string paths = "[DEFAULT]\nbt = 2h\nmr = 4\nen = yes\nbe = polling\n"
                        "lp = %(logdir)s/b.log\n";
    if (chance(0.15))
      paths += "[INCLUDES]\nafter = jail.conf\n";
    write("paths.conf", paths);
    if (chance(0.3))
      write("paths.local", "[DEFAULT]\nbt = 4h\n" + std::string(chance(0.5) ? "mr = 2\n" : ""));
    write("inc/after.conf", "[INCLUDES]\nbefore = ../paths.conf\n" + file(false, true));
    if (chance(0.5))
      write("jail.d/00-a.conf", file(false, true));
    if (chance(0.3))
      write("jail.d/10-b.conf", file(false, true));
    if (chance(0.7)) {
      std::string t = file(true, true);
      if (chance(0.03))
        t += "this line is not an option\n";
      if (chance(0.03))
        t = "enabled = true\n" + t; // before any header
      write("jail.local", t);
    }
    if (chance(0.4))
      write("jail.d/00-a.local", file(true, true));
    if (chance(0.3))
      write("jail.d/90-z.local", file(true, true));
  }

  const std::string &files() const { return m_files; }

private:
  std::mt19937 m_rng;
  std::string m_dir;
  std::string m_files;
};

struct Oracle {
  bool refused = false;
  std::map<std::string, JailView> jails;
  std::string raw;
};

Oracle run_fail2ban(const std::string &dir) {
  // ast.literal_eval reads Python's repr of each command; json.dumps hands it on.
  std::string filter = std::string(k_python) +
                       " -c 'import ast,json,sys\n"
                       "for l in sys.stdin:\n"
                       "  if l.startswith(\"[\"): print(json.dumps(ast.literal_eval(l)))'";
  auto conv =
      test::run_command(std::string(k_client) + " -c " + dir + " -d >" + dir + "/out 2>" + dir +
                        "/stderr; echo \"rc=$?\" >" + dir + "/rc; " + filter + " <" + dir + "/out");
  Oracle o;
  std::ifstream rcf(dir + "/rc");
  std::string rc;
  std::getline(rcf, rc);
  o.refused = rc != "rc=0";
  o.raw = conv.out;
  std::istringstream in(conv.out);
  std::string line;
  while (std::getline(in, line)) {
    auto cmd = nlohmann::json::parse(line, nullptr, false);
    if (!cmd.is_array() || cmd.size() < 3)
      continue;
    if (cmd[0] == "add") {
      o.jails[cmd[1]].backend = cmd[2];
      continue;
    }
    if (cmd[0] != "set" || cmd.size() < 4 || !cmd[1].is_string() || !o.jails.count(cmd[1]))
      continue;
    JailView &v = o.jails[cmd[1]];
    if (cmd[2] == "maxretry")
      v.maxretry = cmd[3];
    else if (cmd[2] == "findtime")
      v.findtime = cmd[3];
    else if (cmd[2] == "bantime")
      v.bantime = cmd[3];
    else if (cmd[2] == "addlogpath" && cmd.size() >= 5)
      v.logs.emplace_back(cmd[3], cmd[4]);
  }
  for (auto &[n, v] : o.jails)
    std::sort(v.logs.begin(), v.logs.end());
  return o;
}

std::map<std::string, JailView> ours(const f2b::Config &c) {
  std::map<std::string, JailView> out;
  for (auto &j : c.jails) {
    if (!j.enabled || !j.config_error.empty()) // fail2ban sends no 'add' for either
      continue;
    JailView v;
    v.backend = j.backend.value;
    if (j.maxretry)
      v.maxretry = j.maxretry_value ? nlohmann::json(*j.maxretry_value) : nlohmann::json();
    if (j.findtime)
      v.findtime = j.findtime->value;
    if (j.bantime)
      v.bantime = j.bantime->value;
    for (auto &lp : j.logpaths)
      for (auto &f : lp.files)
        v.logs.emplace_back(f, lp.tail);
    std::sort(v.logs.begin(), v.logs.end());
    out[j.name] = v;
  }
  return out;
}

} // namespace

TEST(Fail2banDifferential, GeneratedTreesAgreeWithFail2banClient) {
  BULWARK_REQUIRE(::access(k_client, X_OK) == 0 && ::access(k_python, X_OK) == 0)
      << "fail2ban-client (Debian package fail2ban) is not installed";
  int cases = env_int("BULWARK_F2B_CASES", static_cast<int>(bulwark::test::oracle_cases(80)));
  int only = env_int("BULWARK_F2B_ONLY", -1);
  bool keep = std::getenv("BULWARK_F2B_KEEP") != nullptr;
  RootFs host("/");
  int disagreements = 0, refused = 0, compared_jails = 0;
  std::map<std::string, int> reasons; // why fail2ban refused, for the log
  for (int i = 0; i < cases; ++i) {
    if (only >= 0 && i != only)
      continue;
    test::TempRoot tmp;
    std::string dir = tmp.path() + "/c" + std::to_string(i);
    Gen g(static_cast<uint32_t>(0xf2b00000u + i), dir);
    g.tree();
    Oracle o = run_fail2ban(dir);
    f2b::Config c = f2b::load_fail2ban(host, dir);
    auto mine = ours(c);
    bool agree = o.refused ? c.fatal.has_value() : (!c.fatal && mine == o.jails);
    refused += o.refused;
    if (o.refused) {
      std::ifstream ef(dir + "/stderr");
      std::string l;
      while (std::getline(ef, l))
        if (auto k = l.find("Failed during configuration: "); k != std::string::npos) {
          reasons[l.substr(k + 29, 40)]++;
          break;
        }
    }
    compared_jails += static_cast<int>(o.jails.size());
    if (!agree) {
      ++disagreements;
      if (disagreements <= 3) {
        std::string err;
        std::ifstream ef(dir + "/stderr");
        std::getline(ef, err, '\0');
        ADD_FAILURE() << "case " << i << " disagrees\nfail2ban "
                      << (o.refused ? "refused it:\n" + err : "configures:\n" + show(o.jails))
                      << "bulwark "
                      << (c.fatal ? "calls it fatal: " + c.fatal->to_string() + "\n"
                                  : "reads:\n" + show(mine))
                      << g.files();
      }
      if (keep)
        fs::copy(dir, "/tmp/f2b-case-" + std::to_string(i), fs::copy_options::recursive);
    }
  }
  EXPECT_EQ(disagreements, 0);
  RecordProperty("refused", refused);
  std::cout << "[ fail2ban ] " << cases << " trees, " << compared_jails
            << " enabled jails compared, " << refused << " refused by fail2ban-client\n";
  for (auto &[r, n] : reasons)
    std::cout << "[ fail2ban ]   " << n << " x " << r << "\n";
}

TEST(Fail2banDifferential, TimeSpellingsAgreeWithStr2seconds) {
  BULWARK_REQUIRE(
      !(::access(k_python, X_OK) != 0 || !fs::exists("/usr/lib/python3/dist-packages/fail2ban")))
      << "fail2ban's Python package (Debian package fail2ban) is not installed";
  std::mt19937 rng(42);
  const std::vector<std::string> nums{"0", "1", "2", "10", "30", "1.5", "-1", "007", "24"};
  const std::vector<std::string> units{"",      "s",   "m",    "h",    "d",    "w",     "mo",
                                       "y",     "min", "mins", "hour", "days", "weeks", "month",
                                       "years", "sec", "H",    "Mo",   "x",    " m"};
  const std::vector<std::string> seps{"", " ", "+", "-", "  ", "*"};
  std::vector<std::string> spellings;
  for (int i = 0; i < 400; ++i) {
    std::string s;
    int parts = 1 + static_cast<int>(rng() % 3);
    for (int p = 0; p < parts; ++p) {
      if (p)
        s += seps[rng() % seps.size()];
      s += nums[rng() % nums.size()] + units[rng() % units.size()];
    }
    spellings.push_back(s);
  }
  test::TempRoot tmp;
  nlohmann::json in = spellings;
  tmp.write("/in.json", in.dump());
  std::string script = "import json,sys\n"
                       "from fail2ban.server.mytime import MyTime\n"
                       "out=[]\n"
                       "for s in json.load(open(sys.argv[1])):\n"
                       "  try: out.append(float(MyTime.str2seconds(s)))\n"
                       "  except Exception: out.append(None)\n"
                       "print(json.dumps(out))\n";
  tmp.write("/t.py", script);
  auto r = test::run_command(std::string(k_python) + " " + tmp.path() + "/t.py " + tmp.path() +
                             "/in.json");
  ASSERT_EQ(r.exit_code, 0) << r.err;
  auto want = nlohmann::json::parse(r.out);
  ASSERT_EQ(want.size(), spellings.size());
  int valid = 0;
  for (size_t i = 0; i < spellings.size(); ++i) {
    auto got = f2b::str2seconds(spellings[i]);
    if (want[i].is_null()) {
      EXPECT_FALSE(got) << "'" << spellings[i] << "': fail2ban rejects it, bulwark says " << *got;
      continue;
    }
    ++valid;
    ASSERT_TRUE(got) << "'" << spellings[i] << "': fail2ban says " << want[i];
    EXPECT_NEAR(*got, want[i].get<double>(), 1e-6) << spellings[i];
  }
  EXPECT_GT(valid, 100);
}
