// systemd unit states against `systemctl is-enabled --root=DIR UNIT` of the
// installed systemd (252 on Debian 12), on hand-made and generated roots.

#include <bulwark/parse/systemd_units.hpp>

#include "../support.hpp"

#include <gtest/gtest.h>

#include <cstdlib>
#include <cstring>
#include <random>

namespace bulwark {
namespace {

using systemd::UnitFileState;

const char *k_service = "[Unit]\nDescription=x\n[Service]\nExecStart=/bin/true\n";
const char *k_wanted = "[Install]\nWantedBy=multi-user.target\n";

bool have_systemctl() {
  return test::run_command("command -v systemctl").exit_code == 0;
}

// The oracle is required: with BULWARK_REQUIRE_ORACLES=1 its absence fails.
#define REQUIRE_SYSTEMCTL()                                                                        \
  BULWARK_REQUIRE(have_systemctl()) << "systemctl (Debian package systemd) is not installed"

// systemctl's answer from its output: its state word, or "failed:
// <strerror>".
std::string systemctl_answer(const std::string &unit, const test::RunResult &r) {
  std::string out = r.out;
  while (!out.empty() && out.back() == '\n')
    out.pop_back();
  if (!out.empty() && out.find('\n') == std::string::npos)
    return out;
  std::string err = r.err;
  const std::string marker = "Failed to get unit file state for " + unit + ": ";
  if (size_t at = err.find(marker); at != std::string::npos) {
    std::string why = err.substr(at + marker.size());
    return "failed: " + why.substr(0, why.find('\n'));
  }
  if (size_t at = err.find("Failed to look up unit file state: "); at != std::string::npos) {
    std::string why = err.substr(at + std::strlen("Failed to look up unit file state: "));
    return "failed: " + why.substr(0, why.find('\n'));
  }
  return "unparsed: " + out + " / " + err;
}

std::string systemctl_state(const std::string &root, const std::string &unit) {
  return systemctl_answer(
      unit, test::run_command("systemctl is-enabled --root='" + root + "' -- '" + unit + "'"));
}

// The same for several units, from one shell (a run_command each cost more
// than systemctl itself): each unit's stdout and stderr to files of its own.
std::vector<std::string> systemctl_states(const std::string &root,
                                          const std::vector<std::string> &units) {
  test::TempRoot io;
  std::string script = "{\n";
  for (size_t i = 0; i < units.size(); ++i)
    script += "systemctl is-enabled --root='" + root + "' -- '" + units[i] + "' >" +
              io.host("/o" + std::to_string(i)) + " 2>" + io.host("/e" + std::to_string(i)) + "\n";
  script += "}";
  test::run_command(script);
  std::vector<std::string> out;
  for (size_t i = 0; i < units.size(); ++i) {
    test::RunResult r;
    std::ifstream o(io.host("/o" + std::to_string(i))), e(io.host("/e" + std::to_string(i)));
    r.out = test::read_all(o);
    r.err = test::read_all(e);
    out.push_back(systemctl_answer(units[i], r));
  }
  return out;
}

std::string our_state(const RootFs &fs, const std::string &unit) {
  systemd::UnitState s = systemd::unit_state(fs, unit);
  if (s.state == UnitFileState::not_found || s.state == UnitFileState::error)
    return "failed: " + std::string(std::strerror(s.error ? s.error->sys_errno : 0));
  return std::string(systemd::to_string(s.state));
}

// The cases the issue names, with what systemctl 252 answers (checked
// against it too when it is installed).
TEST(SystemdUnits, MasksEnablementAliasesInstances) {
  test::TempRoot r;
  r.write("/lib/systemd/system/disabled.service", std::string(k_service) + k_wanted);
  r.write("/lib/systemd/system/enabled.service", std::string(k_service) + k_wanted);
  r.symlink("/lib/systemd/system/enabled.service",
            "/etc/systemd/system/multi-user.target.wants/enabled.service");
  r.write("/lib/systemd/system/static.service", k_service);
  r.write("/etc/systemd/system/empty.service", "");
  r.write("/lib/systemd/system/blank.service", " \n");
  r.write("/lib/systemd/system/nulled.service", std::string(k_service) + k_wanted);
  r.symlink("/dev/null", "/etc/systemd/system/nulled.service");
  r.write("/lib/systemd/system/rt.service", std::string(k_service) + k_wanted);
  r.symlink("../../../dev/null", "/run/systemd/system/rt.service");
  r.write("/lib/systemd/system/getty@.service",
          std::string(k_service) + "[Install]\nWantedBy=getty.target\nDefaultInstance=tty1\n");
  r.symlink("/lib/systemd/system/getty@.service",
            "/etc/systemd/system/getty.target.wants/getty@tty1.service");
  r.write("/lib/systemd/system/h.service",
          std::string(k_service) + "[Install]\nAlias=halias.service\n");
  r.symlink("/lib/systemd/system/h.service", "/etc/systemd/system/halias.service");
  r.write("/lib/systemd/system/vendor.service", std::string(k_service) + k_wanted);
  r.symlink("../vendor.service", "/lib/systemd/system/multi-user.target.wants/vendor.service");
  r.write("/lib/systemd/system/up.service", std::string(k_service) + k_wanted);
  r.symlink("/lib/systemd/system/up.service", "/etc/systemd/system/x.target.upholds/up.service");
  r.write("/lib/systemd/system/other.service", std::string(k_service) + k_wanted);
  r.symlink("/lib/systemd/system/other.service",
            "/etc/systemd/system/multi-user.target.wants/renamed.service");
  r.write("/lib/systemd/system/reset.service", std::string(k_service) + k_wanted);
  r.write("/etc/systemd/system/reset.service.d/10-no.conf", "[Install]\nWantedBy=\n");
  r.write("/lib/systemd/system/bad.service", "[Install\nWantedBy=x.target\n");
  r.symlink("/lib/systemd/system/missing.service", "/etc/systemd/system/dangling.service");
  r.write("/lib/systemd/system/gen.service", "");
  r.write("/run/systemd/generator/gen2.service", std::string(k_service) + k_wanted);
  r.write("/lib/systemd/system/v@.service",
          std::string(k_service) + "[Install]\nRequiredBy=x.target\n");
  r.symlink("/lib/systemd/system/v@.service", "/lib/systemd/system/x.target.wants/v@two.service");
  r.write("/lib/systemd/system/plain.service", k_service);
  r.symlink("/lib/systemd/system/plain.service", "/etc/systemd/system/tmpl@.service");
  RootFs fs(r.path());

  const std::vector<std::pair<std::string, std::string>> expected = {
      {"disabled.service", "disabled"},
      {"enabled.service", "enabled"},
      {"static.service", "static"},
      {"empty.service", "masked"}, // an empty regular file masks, as a link to /dev/null does
      {"blank.service", "static"}, // not empty: a blank line is content
      {"nulled.service", "masked"},
      {"rt.service", "masked-runtime"},
      {"getty@.service", "enabled"},
      {"getty@tty1.service", "enabled"},
      {"getty@tty2.service", "disabled"},
      {"h.service", "enabled"},
      {"halias.service", "alias"},
      {"vendor.service", "disabled"}, // vendor .wants links are not an enablement
      {"up.service", "disabled"},     // .upholds is not read by 252
      {"other.service", "disabled"},  // a .wants link under another name counts for nothing
      {"reset.service", "static"},
      {"bad.service", "failed: Bad message"},
      {"dangling.service", "failed: Link has been severed"},
      {"nothere.service", "failed: No such file or directory"},
      {"gen.service", "masked"},
      {"gen2.service", "generated"},
      {"v@two.service", "static"}, // a vendor link of the instance's own name
      {"v@one.service", "disabled"},
      {"tmpl@.service", "failed: Invalid cross-device link"}, // a template aliasing a plain unit
  };
  for (auto &[unit, want] : expected)
    EXPECT_EQ(our_state(fs, unit), want) << unit;

  systemd::UnitState e = systemd::unit_state(fs, "enabled.service");
  EXPECT_EQ(e.path, "/etc/systemd/system/multi-user.target.wants/enabled.service");
  EXPECT_TRUE(e.is_enabled_by_link());
  ASSERT_EQ(e.wanted.size(), 1u);
  systemd::UnitState m = systemd::unit_state(fs, "empty.service");
  EXPECT_TRUE(m.is_masked());
  EXPECT_EQ(m.path, "/etc/systemd/system/empty.service");
  EXPECT_EQ(systemd::unit_state(fs, "bad.service").error->line, 1);

  REQUIRE_SYSTEMCTL();
  for (auto &[unit, want] : expected)
    EXPECT_EQ(systemctl_state(r.path(), unit), want) << unit;
}

TEST(SystemdUnits, InstallSectionSyntax) {
  systemd::InstallSection s;
  ASSERT_TRUE(systemd::parse_install_section(
      "/u.service",
      "Alias=outside.service\n[Install]\n# c\nWantedBy=a.target \\\n# skipped\n  b.target\n"
      "wantedby=c.target\n[install]\nRequiredBy=d.target\n[Install]\nAlso=x.service\nAlso=\n"
      "Alias=\"q.service\" r.service\n",
      s));
  EXPECT_EQ(s.wanted_by, (std::vector<std::string>{"a.target", "b.target"}));
  EXPECT_TRUE(s.required_by.empty());
  EXPECT_EQ(s.also, (std::vector<std::string>{"x.service"}));
  EXPECT_EQ(s.aliases, (std::vector<std::string>{"q.service", "r.service"}));
  EXPECT_FALSE(s.diagnostics.empty());
  systemd::InstallSection bad;
  auto r = systemd::parse_install_section("/v.service", "[Install]\nWantedBy=x\xff\n", bad);
  ASSERT_FALSE(r);
  EXPECT_EQ(r.error().line, 2);
}

// Random roots: unit files, masks, aliases, drop-ins and links in the
// directories systemctl reads, each unit asked of both.
TEST(SystemdUnits, DifferentialAgainstSystemctlOnGeneratedRoots) {
  REQUIRE_SYSTEMCTL();
  std::mt19937 rng(20252);
  auto pick = [&](size_t n) { return static_cast<size_t>(rng() % n); };
  const std::vector<std::string> names = {"a.service", "b.service", "c.service",  "d.service",
                                          "e.socket",  "f.timer",   "t@.service", "u@.service"};
  const std::vector<std::string> dirs = {
      "/lib/systemd/system",          "/lib/systemd/system",    "/usr/lib/systemd/system",
      "/etc/systemd/system",          "/etc/systemd/system",    "/run/systemd/system",
      "/run/systemd/generator",       "/run/systemd/transient", "/etc/systemd/system.control",
      "/usr/local/lib/systemd/system"};
  const std::vector<std::string> link_dirs = {
      "/etc/systemd/system/multi-user.target.wants", "/etc/systemd/system/x.target.requires",
      "/etc/systemd/system/x.target.upholds",        "/run/systemd/system/y.target.wants",
      "/lib/systemd/system/multi-user.target.wants", "/etc/systemd/system",
      "/run/systemd/system.control/z.target.wants"};
  auto install = [&](const std::string &self) {
    std::string s = "[Install]\n";
    for (int k = 0, n = static_cast<int>(pick(4)); k < n; ++k) {
      switch (pick(9)) {
      case 0: s += "WantedBy=multi-user.target\n"; break;
      case 1: s += "RequiredBy=x.target\n"; break;
      case 2:
        s += "Alias=" + std::string(self.substr(0, 1)) + "alias" + self.substr(self.rfind('.')) +
             "\n";
        break;
      case 3: s += "Also=" + names[pick(names.size())] + "\n"; break;
      case 4: s += "DefaultInstance=one\n"; break;
      case 5: s += "WantedBy=\n"; break;
      case 6: s += "# WantedBy=multi-user.target\n"; break;
      case 7: s += "WantedBy=a.target \\\n  b.target\n"; break;
      default: s += "UpheldBy=x.target\n";
      }
    }
    return s;
  };
  int compared = 0;
  for (int round = 0; round < 24; ++round) {
    test::TempRoot r;
    // Nothing is written through a link made earlier (it could point out of the root).
    auto taken = [&](const std::string &p) {
      return std::filesystem::exists(std::filesystem::symlink_status(r.host(p)));
    };
    auto put = [&](const std::string &p, const std::string &text) {
      if (!taken(p))
        r.write(p, text);
    };
    auto link = [&](const std::string &to, const std::string &p) {
      if (!taken(p))
        r.symlink(to, p);
    };
    std::vector<std::string> queries;
    for (const std::string &n : names) {
      queries.push_back(n);
      if (pick(5) == 0)
        continue; // no file at all
      std::string dir = dirs[pick(dirs.size())];
      std::string p = dir + "/" + n;
      switch (pick(10)) {
      case 0: put(p, ""); break;
      case 1: link(pick(2) ? "/dev/null" : "../../../dev/null", p); break;
      case 2: {
        std::string other = names[pick(names.size())];
        link("/lib/systemd/system/" + other, p);
        if (pick(2))
          put("/lib/systemd/system/" + other, std::string(k_service) + install(other));
        break;
      }
      case 3:
        put("/opt/" + n, std::string(k_service) + install(n));
        link("/opt/" + n, "/etc/systemd/system/" + n);
        break;
      case 4:
        put(p, std::string(k_service) + install(n));
        put(dir + "/" + n + ".d/10-x.conf", install(n));
        break;
      default: put(p, std::string(k_service) + (pick(4) ? install(n) : ""));
      }
      if (pick(3) == 0)
        put(dirs[pick(dirs.size())] + "/" + n, std::string(k_service) + install(n));
    }
    for (int k = 0, links = 1 + static_cast<int>(pick(6)); k < links; ++k) {
      std::string n = names[pick(names.size())];
      std::string link_name = n;
      if (n.find("@.") != std::string::npos)
        link_name =
            n.substr(0, n.find('@') + 1) + (pick(2) ? "one" : "two") + n.substr(n.find('.'));
      else if (pick(4) == 0)
        link_name = n.substr(0, 1) + "alias" + n.substr(n.rfind('.'));
      std::string at = link_dirs[pick(link_dirs.size())] + "/" + link_name;
      if (taken(at))
        continue;
      link("/lib/systemd/system/" + n, at);
      queries.push_back(link_name);
    }
    queries.insert(queries.end(), {"t@one.service", "t@two.service", "u@one.service",
                                   "aalias.service", "balias.service"});
    std::sort(queries.begin(), queries.end());
    queries.erase(std::unique(queries.begin(), queries.end()), queries.end());
    RootFs fs(r.path());
    const std::vector<std::string> answers = systemctl_states(r.path(), queries);
    ASSERT_EQ(answers.size(), queries.size());
    for (size_t i = 0; i < queries.size(); ++i) {
      const std::string &q = queries[i];
      const std::string &want = answers[i];
      ASSERT_EQ(want.rfind("unparsed", 0), std::string::npos) << q << ": " << want;
      std::string got = our_state(fs, q);
      EXPECT_EQ(got, want)
          << "round " << round << ", unit " << q << " in "
          << test::run_command("cd '" + r.path() + "' && find . -printf '%p %l\\n' | sort").out;
      ++compared;
    }
  }
  EXPECT_GT(compared, 200);
}

} // namespace
} // namespace bulwark
