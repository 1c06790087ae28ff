// The iptables-ipset action; see ipset.hpp.
#include <bulwark/watch/ipset.hpp>

#include <fmt/format.h>

#include <cstring>
#include <unistd.h>

namespace bulwark::watch {

namespace {

// The remaining seconds of an element without a timeout: far longer than
// any ban, and room for the reconciler's arithmetic.
constexpr int64_t k_permanent = int64_t{1} << 40;

std::string trimmed(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' '))
    s.pop_back();
  return s;
}

} // namespace

Result<std::unique_ptr<Ipset>> Ipset::open(const std::string &name, size_t max_elements) {
  std::string paths[3];
  const char *names[3] = {"ipset", "iptables", "ip6tables"};
  for (int i = 0; i < 3; ++i) {
    paths[i] = find_program(names[i]);
    if (paths[i].empty())
      return Error{fmt::format("action iptables-ipset: {} not found in /usr/sbin, /sbin, /usr/bin "
                               "(Debian packages ipset and iptables)",
                               names[i])};
  }
  return std::unique_ptr<Ipset>(new Ipset(name, std::max<size_t>(max_elements, size_t{1} << 16),
                                          paths[0], paths[1], paths[2]));
}

std::string Ipset::set_name(int family, int prefix) const {
  if (family == 6)
    return m_name + "-v6";
  return prefix == 32 ? m_name + "-v4" : m_name + "-v4net";
}

std::string Ipset::element_text(const Address &source, int prefix) const {
  const int full = source.family == 4 ? 32 : 128;
  if (prefix == full)
    return format_address(source);
  return format_address(source) + "/" + std::to_string(prefix);
}

int Ipset::family_of(const std::string &set) const {
  return set == m_name + "-v6" ? 6 : 4;
}

bool Ipset::want(int family, int prefix) {
  return m_sets.insert(set_name(family, prefix)).second;
}

std::vector<std::string> Ipset::sets() const {
  return {m_sets.begin(), m_sets.end()};
}

std::string Ipset::where() const {
  std::string out = "the ipset action (sets";
  for (auto &s : m_sets)
    out += " " + s;
  return out + " and their iptables rules)";
}

std::vector<std::string> Ipset::rule(const std::string &cmd, const std::string &set) const {
  std::vector<std::string> a{family_of(set) == 6 ? m_ip6tables : m_iptables, "-w", "5", cmd,
                             "INPUT"};
  if (cmd == "-I")
    a.push_back("1");
  for (const char *w : {"-m", "set", "--match-set"})
    a.emplace_back(w);
  a.push_back(set);
  for (const char *w : {"src", "-j", "DROP"})
    a.emplace_back(w);
  return a;
}

Result<Unit> Ipset::ipset_restore(const std::string &input) {
  auto r = TRY(run_program({m_ipset, "restore", "-exist"}, input));
  if (r.exit_code != 0)
    return Error{"ipset restore: " + trimmed(r.err.empty() ? r.out : r.err)};
  return Unit{};
}

Result<Unit> Ipset::setup() {
  std::string creates;
  for (auto &set : m_sets) {
    const bool v6 = family_of(set) == 6;
    creates += fmt::format("create {} {} family {} timeout 0 maxelem {}\n", set,
                           v6 || set.ends_with("-v4net") ? "hash:net" : "hash:ip",
                           v6 ? "inet6" : "inet", m_max);
  }
  if (auto r = ipset_restore(creates); !r)
    return Error{r.error().message + " (a set of that name with another type or maxelem? "
                                     "ipset destroy it, or choose ipset.name)"};
  for (auto &set : m_sets) {
    auto check = TRY(run_program(rule("-C", set), ""));
    if (check.exit_code == 0)
      continue; // in place: never a second copy
    if (check.exit_code != 1)
      return Error{fmt::format("{} -C INPUT: {}", rule("-C", set)[0], trimmed(check.err))};
    auto ins = TRY(run_program(rule("-I", set), ""));
    if (ins.exit_code != 0)
      return Error{fmt::format("{} -I INPUT: {}", rule("-I", set)[0], trimmed(ins.err))};
  }
  return Unit{};
}

Result<Unit> Ipset::apply(const ElementBatch &batch) {
  if (batch.empty())
    return Unit{};
  // Deletions are not needed (add -exist replaces the timeout) but run
  // when asked: with -exist a deletion of a missing element is no error.
  std::string in;
  for (auto &[set, ops] : batch.sets) {
    for (auto &d : ops.del)
      in += fmt::format("del {} {}\n", set, d);
    for (auto &a : ops.add)
      in += fmt::format("add {} {} timeout {}\n", set, a.text, a.timeout);
  }
  return ipset_restore(in);
}

Result<std::vector<std::pair<std::string, int64_t>>> Ipset::elements(const std::string &set) {
  auto r = TRY(run_program({m_ipset, "save", set}, ""));
  if (r.exit_code != 0)
    return Error{"ipset save " + set + ": " + trimmed(r.err)};
  std::vector<std::pair<std::string, int64_t>> els;
  const std::string head = "add " + set + " ";
  size_t p = 0;
  while (p < r.out.size()) {
    size_t nl = r.out.find('\n', p);
    if (nl == std::string::npos)
      nl = r.out.size();
    std::string_view line(r.out.data() + p, nl - p);
    p = nl + 1;
    if (!line.starts_with(head))
      continue;
    line.remove_prefix(head.size());
    size_t sp = line.find(' ');
    std::string text(line.substr(0, sp));
    int64_t left = k_permanent;
    if (sp != std::string_view::npos) {
      std::string_view rest = line.substr(sp + 1);
      if (rest.starts_with("timeout ")) {
        rest.remove_prefix(8);
        int64_t v = 0;
        size_t i = 0;
        for (; i < rest.size() && rest[i] >= '0' && rest[i] <= '9' && i < 12; ++i)
          v = v * 10 + (rest[i] - '0');
        if (i > 0 && v > 0)
          left = v;
      }
    }
    els.emplace_back(std::move(text), left);
  }
  return els;
}

bool Ipset::sets_present() {
  auto r = run_program({m_ipset, "list", "-n"}, "");
  if (!r || r->exit_code != 0)
    return false;
  std::set<std::string> names;
  size_t p = 0;
  while (p < r->out.size()) {
    size_t nl = r->out.find('\n', p);
    if (nl == std::string::npos)
      nl = r->out.size();
    names.insert(r->out.substr(p, nl - p));
    p = nl + 1;
  }
  for (auto &s : m_sets)
    if (names.count(s) == 0)
      return false;
  return true;
}

bool Ipset::rules_intact() {
  for (auto &set : m_sets) {
    auto r = run_program(rule("-C", set), "");
    if (!r || r->exit_code != 0)
      return false;
  }
  return true;
}

Result<Unit> Ipset::remove(const Address &source, int prefix) {
  auto r = TRY(run_program(
      {m_ipset, "del", "-exist", set_name(source.family, prefix), element_text(source, prefix)},
      ""));
  if (r.exit_code != 0)
    return Error{"ipset del: " + trimmed(r.err)};
  return Unit{};
}

} // namespace bulwark::watch
