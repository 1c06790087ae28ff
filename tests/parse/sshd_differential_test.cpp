// Differential test: bulwark's sshd_config parser against OpenSSH's own
// `sshd -T` (OpenSSH 9.2, Debian 12, /usr/sbin/sshd).
//
// A deterministic generator writes random but VALID configurations (main file
// plus up to three include files) into a fresh temp dir per case, runs
// `sshd -T` on each (plain and with 2-3 `-C` connection specs), and compares
// sshd's effective values with evaluate() for the keywords bulwark's checks
// read. Agreement must be total; every disagreement is collected and the first
// few are printed with the whole case so they can be reproduced by hand:
//   sshd -T -f <dir>/sshd_config -h <key> -C user=..,host=..,addr=..,...
//
// Environment:
//   BULWARK_SSHD_CASES  number of generated cases (default 600)
//   BULWARK_SSHD_ONLY   run only the case with this index (for reproducing)
//   BULWARK_SSHD_KEEP   keep the case directories under /tmp (for reproducing)
//   BULWARK_SSHD_SHOW   how many disagreements to print in full (default 5)
//
// The generator only emits what sshd 9.2 accepts (see /work/notes/ssh); if sshd
// rejects a generated case anyway, the generator is wrong and the test fails.

#include "../support.hpp"

#include <bulwark/core/rootfs.hpp>
#include <bulwark/parse/sshd_config.hpp>

#include <gtest/gtest.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <iostream>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <string>
#include <vector>

#include <fcntl.h>
#include <poll.h>
#include <spawn.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

using namespace bulwark;
using namespace bulwark::ssh;

namespace {

constexpr const char *k_sshd = "/usr/sbin/sshd";
constexpr const char *k_ssh_keygen = "/usr/bin/ssh-keygen";

// ---------------------------------------------------------------------------
// Processes and temp dirs

struct ProcResult {
  int exit_code = -1; // 128+signal when killed
  std::string out;
  std::string err;
};

// spawn/exec without a shell; stdout and stderr captured through pipes.
ProcResult run_argv(const std::vector<std::string> &argv) {
  ProcResult r;
  std::vector<char *> args;
  for (auto &a : argv)
    args.push_back(const_cast<char *>(a.c_str()));
  args.push_back(nullptr);
  int out_p[2], err_p[2];
  if (::pipe2(out_p, O_CLOEXEC) != 0)
    return r;
  if (::pipe2(err_p, O_CLOEXEC) != 0) {
    ::close(out_p[0]);
    ::close(out_p[1]);
    return r;
  }
  // posix_spawn, not fork: fork copies the page tables of this sanitizer
  // process, about 30 ms a run (57 -> 26 ms per sshd -T run), more than
  // sshd -T itself takes.
  posix_spawn_file_actions_t fa;
  ::posix_spawn_file_actions_init(&fa);
  ::posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
  ::posix_spawn_file_actions_adddup2(&fa, out_p[1], 1);
  ::posix_spawn_file_actions_adddup2(&fa, err_p[1], 2);
  pid_t pid = -1;
  int rc = ::posix_spawn(&pid, args[0], &fa, nullptr, args.data(), environ);
  ::posix_spawn_file_actions_destroy(&fa);
  ::close(out_p[1]);
  ::close(err_p[1]);
  if (rc != 0) {
    ::close(out_p[0]);
    ::close(err_p[0]);
    r.exit_code = 127; // as the shell says of a program it cannot run
    return r;
  }
  struct pollfd fds[2] = {{out_p[0], POLLIN, 0}, {err_p[0], POLLIN, 0}};
  std::string *sinks[2] = {&r.out, &r.err};
  int open_fds = 2;
  char buf[8192];
  while (open_fds > 0) {
    if (::poll(fds, 2, -1) < 0) {
      if (errno == EINTR)
        continue;
      break;
    }
    for (int i = 0; i < 2; ++i) {
      if (fds[i].fd < 0 || fds[i].revents == 0)
        continue;
      ssize_t n = ::read(fds[i].fd, buf, sizeof buf);
      if (n > 0) {
        sinks[i]->append(buf, static_cast<size_t>(n));
      } else if (n == 0 || errno != EINTR) {
        ::close(fds[i].fd);
        fds[i].fd = -1;
        --open_fds;
      }
    }
  }
  for (auto &f : fds)
    if (f.fd >= 0)
      ::close(f.fd);
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  r.exit_code = WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  return r;
}

class TempDir {
public:
  explicit TempDir(const std::string &prefix, bool keep = false) : m_keep(keep) {
    std::string tmpl = "/tmp/" + prefix + "-XXXXXX";
    if (::mkdtemp(tmpl.data()) == nullptr)
      throw std::runtime_error("mkdtemp: " + std::string(std::strerror(errno)));
    m_path = tmpl;
  }
  ~TempDir() {
    if (m_keep)
      return;
    std::error_code ec;
    std::filesystem::remove_all(m_path, ec);
  }
  TempDir(const TempDir &) = delete;
  TempDir &operator=(const TempDir &) = delete;
  const std::string &path() const { return m_path; }

private:
  std::string m_path;
  bool m_keep = false;
};

void write_file(const std::string &path, const std::string &content) {
  std::filesystem::create_directories(std::filesystem::path(path).parent_path());
  std::ofstream out(path, std::ios::binary | std::ios::trunc);
  out << content;
}

bool env_flag(const char *name) {
  const char *v = std::getenv(name);
  return v != nullptr && *v != '\0' && std::string(v) != "0";
}

// Control characters made visible, for printing cases.
std::string visible(const std::string &s) {
  std::string out;
  for (char c : s) {
    if (c == '\r')
      out += "\\r";
    else if (c == '\t')
      out += "\\t";
    else
      out += c;
  }
  return out;
}

std::string join(const std::vector<std::string> &v, const std::string &sep) {
  std::string out;
  for (size_t i = 0; i < v.size(); ++i)
    out += (i ? sep : "") + v[i];
  return out;
}

// `sshd -T` output: keyword -> the values of its lines, in order.
std::map<std::string, std::vector<std::string>> parse_dump(const std::string &out) {
  std::map<std::string, std::vector<std::string>> m;
  std::istringstream in(out);
  std::string line;
  while (std::getline(in, line)) {
    if (line.empty())
      continue;
    auto sp = line.find(' ');
    if (sp == std::string::npos)
      m[line].push_back("");
    else
      m[line.substr(0, sp)].push_back(line.substr(sp + 1));
  }
  return m;
}

// ---------------------------------------------------------------------------
// What is compared

const std::vector<std::string> &compared_keywords() {
  static const std::vector<std::string> k = {"permitrootlogin",
                                             "passwordauthentication",
                                             "kbdinteractiveauthentication",
                                             "pubkeyauthentication",
                                             "permitemptypasswords",
                                             "maxauthtries",
                                             "clientaliveinterval",
                                             "clientalivecountmax",
                                             "allowusers",
                                             "allowgroups",
                                             "denyusers",
                                             "x11forwarding",
                                             "usedns",
                                             "tcpkeepalive",
                                             "ciphers",
                                             "macs",
                                             "kexalgorithms",
                                             "hostkeyalgorithms",
                                             "authenticationmethods",
                                             "usepam"};
  return k;
}

bool is_list_keyword(const std::string &kw) {
  return kw == "allowusers" || kw == "allowgroups" || kw == "denyusers";
}

// ---------------------------------------------------------------------------
// The generator

// `ssh -Q cipher|mac|kex|key-sig` of OpenSSH 9.2 on Debian 12.
const std::vector<std::string> k_ciphers = {"3des-cbc",
                                            "aes128-cbc",
                                            "aes192-cbc",
                                            "aes256-cbc",
                                            "aes128-ctr",
                                            "aes192-ctr",
                                            "aes256-ctr",
                                            "aes128-gcm@openssh.com",
                                            "aes256-gcm@openssh.com",
                                            "chacha20-poly1305@openssh.com"};
const std::vector<std::string> k_macs = {"hmac-sha1",
                                         "hmac-sha1-96",
                                         "hmac-sha2-256",
                                         "hmac-sha2-512",
                                         "hmac-md5",
                                         "hmac-md5-96",
                                         "umac-64@openssh.com",
                                         "umac-128@openssh.com",
                                         "hmac-sha1-etm@openssh.com",
                                         "hmac-sha1-96-etm@openssh.com",
                                         "hmac-sha2-256-etm@openssh.com",
                                         "hmac-sha2-512-etm@openssh.com",
                                         "hmac-md5-etm@openssh.com",
                                         "hmac-md5-96-etm@openssh.com",
                                         "umac-64-etm@openssh.com",
                                         "umac-128-etm@openssh.com"};
const std::vector<std::string> k_kex = {"diffie-hellman-group1-sha1",
                                        "diffie-hellman-group14-sha1",
                                        "diffie-hellman-group14-sha256",
                                        "diffie-hellman-group16-sha512",
                                        "diffie-hellman-group18-sha512",
                                        "diffie-hellman-group-exchange-sha1",
                                        "diffie-hellman-group-exchange-sha256",
                                        "ecdh-sha2-nistp256",
                                        "ecdh-sha2-nistp384",
                                        "ecdh-sha2-nistp521",
                                        "curve25519-sha256",
                                        "curve25519-sha256@libssh.org",
                                        "sntrup761x25519-sha512",
                                        "sntrup761x25519-sha512@openssh.com"};
const std::vector<std::string> k_keysig = {"ssh-ed25519",
                                           "ssh-ed25519-cert-v01@openssh.com",
                                           "sk-ssh-ed25519@openssh.com",
                                           "sk-ssh-ed25519-cert-v01@openssh.com",
                                           "ecdsa-sha2-nistp256",
                                           "ecdsa-sha2-nistp256-cert-v01@openssh.com",
                                           "ecdsa-sha2-nistp384",
                                           "ecdsa-sha2-nistp384-cert-v01@openssh.com",
                                           "ecdsa-sha2-nistp521",
                                           "ecdsa-sha2-nistp521-cert-v01@openssh.com",
                                           "sk-ecdsa-sha2-nistp256@openssh.com",
                                           "sk-ecdsa-sha2-nistp256-cert-v01@openssh.com",
                                           "webauthn-sk-ecdsa-sha2-nistp256@openssh.com",
                                           "ssh-dss",
                                           "ssh-dss-cert-v01@openssh.com",
                                           "ssh-rsa",
                                           "ssh-rsa-cert-v01@openssh.com",
                                           "rsa-sha2-256",
                                           "rsa-sha2-256-cert-v01@openssh.com",
                                           "rsa-sha2-512",
                                           "rsa-sha2-512-cert-v01@openssh.com"};

enum class Gen {
  flag,
  permitrootlogin,
  maxauthtries,
  countmax,
  interval,
  allowusers,
  allowgroups,
  denyusers,
  authmethods,
  ciphers,
  macs,
  kex,
  hostkeyalgs,
  protocol,
};

// Which authentication method a flag keyword enables (for the
// "AuthenticationMethods cannot be satisfied" startup check).
enum Method { m_pubkey = 0, m_password = 1, m_kbd = 2, m_none = 3 };

struct KwSpec {
  const char *name; // as usually written
  Gen gen;
  bool global_only; // not allowed inside a Match block (inactive at load)
  int weight;
  Method method = m_none;
};

const std::vector<KwSpec> &kw_specs() {
  static const std::vector<KwSpec> k = {
      {"PermitRootLogin", Gen::permitrootlogin, false, 14},
      {"PasswordAuthentication", Gen::flag, false, 8, m_password},
      {"KbdInteractiveAuthentication", Gen::flag, false, 5, m_kbd},
      {"ChallengeResponseAuthentication", Gen::flag, false, 3, m_kbd},
      {"PubkeyAuthentication", Gen::flag, false, 5, m_pubkey},
      {"PermitEmptyPasswords", Gen::flag, false, 4},
      {"MaxAuthTries", Gen::maxauthtries, false, 8},
      {"ClientAliveInterval", Gen::interval, false, 6},
      {"ClientAliveCountMax", Gen::countmax, false, 4},
      {"AllowUsers", Gen::allowusers, false, 7},
      {"AllowGroups", Gen::allowgroups, false, 5},
      {"DenyUsers", Gen::denyusers, false, 5},
      {"X11Forwarding", Gen::flag, false, 4},
      {"AuthenticationMethods", Gen::authmethods, false, 4},
      {"UseDNS", Gen::flag, true, 3},
      {"TCPKeepAlive", Gen::flag, true, 3},
      {"KeepAlive", Gen::flag, true, 2},
      {"Ciphers", Gen::ciphers, true, 4},
      {"MACs", Gen::macs, true, 3},
      {"KexAlgorithms", Gen::kex, true, 3},
      {"HostKeyAlgorithms", Gen::hostkeyalgs, true, 3},
      {"UsePAM", Gen::flag, true, 3},
      {"Protocol", Gen::protocol, true, 1},
  };
  return k;
}

// Match criteria: a pattern and, where one exists, a -C value that satisfies it.
struct Pattern {
  const char *pattern;
  const char *satisfier; // nullptr: nothing in our pools satisfies it
};

const std::vector<Pattern> k_user_pats = {
    {"root", "root"},          {"nobody", "nobody"},
    {"ghost", "ghost"},        {"r*", "root"},
    {"!root,*", "nobody"},     {"no*dy", "nobody"},
    {"root,nobody", "nobody"}, {"?oot", "root"},
    {"postgres", "postgres"},  {"!nobody,!root,*", "sshd"},
    {"ROOT", "ROOT"},          {"*", "ghost"},
    {"!root", nullptr},
};
const std::vector<Pattern> k_group_pats = {
    {"root", "root"},          {"nogroup", "nobody"},
    {"ssl-cert", "postgres"},  {"postgres", "postgres"},
    {"!root,*", "nobody"},     {"no*", "sshd"},
    {"!ssl-cert,*", "nobody"}, {"sudo", nullptr},
    {"root,nogroup", "root"},  {"*", "root"},
};
const std::vector<Pattern> k_addr_pats = {
    {"10.0.0.0/8", "10.1.2.3"},
    {"10.1.2.*", "10.1.2.3"},
    {"!10.1.0.0/16,10.0.0.0/8", "10.2.3.4"},
    {"192.168.1.0/24", "192.168.1.7"},
    {"127.0.0.1", "127.0.0.1"},
    {"::1", "::1"},
    {"2001:db8::/32", "2001:db8::5"},
    {"fe80::/10", "fe80::1"},
    {"10.1.2.3", "10.1.2.3"},
    {"0.0.0.0/0", "172.16.0.1"},
    {"172.16.0.0/12,!172.16.0.1", "172.16.0.2"},
};
const std::vector<Pattern> k_host_pats = {
    {"*.example.com", "h.example.com"},     {"h.example.com", "h.example.com"},
    {"*.EXAMPLE.com", "h.example.com"},     {"!bad.example.com,*", "good.example.org"},
    {"bad.example.com", "bad.example.com"}, {"*", "x"},
};
const std::vector<Pattern> k_laddr_pats = {
    {"127.0.0.1", "127.0.0.1"},
    {"10.0.0.0/8", "10.0.0.1"},
    {"::1", "::1"},
    {"192.0.2.0/24", "192.0.2.1"},
};
const std::vector<Pattern> k_lport_pats = {
    {"22", "22"},
    {"2222", "2222"},
    {"8022", "8022"},
};

const std::vector<std::string> k_spec_users = {"root",  "nobody", "postgres", "sshd",
                                               "ghost", "ROOT",   "alice"};
const std::vector<std::string> k_spec_hosts = {"h.example.com", "bad.example.com",
                                               "good.example.org", "H.Example.COM", "x"};
const std::vector<std::string> k_spec_addrs = {"10.1.2.3",  "10.2.3.4",   "192.168.1.7",
                                               "127.0.0.1", "::1",        "2001:db8::5",
                                               "fe80::1",   "172.16.0.1", "172.16.0.2"};
const std::vector<std::string> k_spec_laddrs = {"127.0.0.1", "10.0.0.1", "::1", "192.0.2.1"};
const std::vector<int> k_spec_lports = {22, 2222, 8022};

struct Spec {
  std::optional<std::string> user, host, addr, laddr;
  std::optional<int> lport;
  std::string to_arg() const {
    std::vector<std::string> parts;
    if (user)
      parts.push_back("user=" + *user);
    if (host)
      parts.push_back("host=" + *host);
    if (addr)
      parts.push_back("addr=" + *addr);
    if (laddr)
      parts.push_back("laddr=" + *laddr);
    if (lport)
      parts.push_back("lport=" + std::to_string(*lport));
    return join(parts, ",");
  }
  ConnectionSpec to_connection() const {
    ConnectionSpec c;
    c.user = user;
    c.host = host;
    c.address = addr;
    c.laddress = laddr;
    c.lport = lport;
    return c;
  }
};

struct GenCase {
  std::string dir;
  std::string main;
  std::vector<std::pair<std::string, std::string>> files; // path -> content, main first
  bool uses_localport = false;
  std::vector<Spec> specs; // the -C runs
  bool plain_run = true;   // also `sshd -T` without -C

  std::string dump() const {
    std::string out;
    for (auto &[p, c] : files) {
      out += "  ----- " + p + "\n";
      std::istringstream in(c);
      std::string line;
      while (std::getline(in, line))
        out += "  | " + visible(line) + "\n";
    }
    return out;
  }
};

class Generator {
public:
  Generator(uint32_t seed, std::string dir) : m_rng(seed), m_dir(std::move(dir)) {}

  GenCase make() {
    GenCase c;
    c.dir = m_dir;
    c.main = m_dir + "/sshd_config";
    m_allow_lport = chance(20);
    c.uses_localport = m_allow_lport;
    c.plain_run = !m_allow_lport;

    // Include files: some in inc.d (reached by a glob or literally), some in
    // extra/ (reached literally, also from other include files).
    static const std::vector<std::string> incd_names = {
        "10-a.conf", "9-b.conf", "20-z.conf", "B.conf", "a.conf", "_x.conf", "Z.conf", "00.conf"};
    static const std::vector<std::string> extra_names = {"e1.conf", "e2.conf", "late.conf",
                                                         "Early.conf"};
    int n_inc = uniform(0, 3);
    std::vector<std::string> incd = incd_names;
    std::shuffle(incd.begin(), incd.end(), m_rng);
    std::vector<std::string> extra = extra_names;
    std::shuffle(extra.begin(), extra.end(), m_rng);
    int n_incd = n_inc == 0 ? 0 : uniform(0, n_inc);
    for (int i = 0; i < n_incd; ++i)
      m_files.push_back(inc_file(m_dir + "/inc.d/" + incd[i], true));
    for (int i = n_incd; i < n_inc; ++i)
      m_files.push_back(inc_file(m_dir + "/extra/" + extra[i - n_incd], false));
    for (auto &f : m_files)
      f.crlf = chance(15);

    std::vector<std::string> main_lines;
    gen_body(main_lines, Ctx::global, -1);
    bool main_crlf = chance(15);
    c.files.push_back({c.main, render(main_lines, main_crlf)});
    for (auto &f : m_files)
      c.files.push_back({f.path, f.generated ? render(f.lines, f.crlf) : "# never included\n"});
    // A file in inc.d the glob *.conf must not pick up.
    c.files.push_back({m_dir + "/inc.d/zz.conf.off",
                       "PermitRootLogin forced-commands-only\nMaxAuthTries 1\nAllowUsers decoy\n"});

    int n_specs = uniform(2, 3);
    for (int i = 0; i < n_specs; ++i)
      c.specs.push_back(make_spec(i != 1)); // 1st and 3rd aim at a block
    return c;
  }

private:
  enum class Ctx { global, match_all, match_criteria };
  static bool load_active(Ctx c) { return c != Ctx::match_criteria; }

  struct IncFile {
    std::string path;
    bool in_incd = false;
    bool crlf = false;
    bool generated = false;
    bool load_active = false; // the class of context it was first included in
    bool has_any = false;     // holds an "AuthenticationMethods any" line
    std::vector<std::string> lines;
  };
  static IncFile inc_file(std::string path, bool in_incd) {
    IncFile f;
    f.path = std::move(path);
    f.in_incd = in_incd;
    return f;
  }

  // --- randomness
  int uniform(int lo, int hi) { return std::uniform_int_distribution<int>(lo, hi)(m_rng); }
  bool chance(int percent) { return uniform(0, 99) < percent; }
  template <typename T> const T &pick(const std::vector<T> &v) {
    return v[static_cast<size_t>(uniform(0, static_cast<int>(v.size()) - 1))];
  }

  // --- lexical variation
  std::string case_variant(const std::string &s) {
    int r = uniform(0, 99);
    if (r < 50)
      return s;
    std::string out = s;
    if (r < 70) {
      for (auto &ch : out)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    } else if (r < 85) {
      for (auto &ch : out)
        ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    } else {
      for (auto &ch : out)
        ch = static_cast<char>(chance(50) ? std::toupper(static_cast<unsigned char>(ch))
                                          : std::tolower(static_cast<unsigned char>(ch)));
    }
    return out;
  }
  std::string value_case(const std::string &s) {
    // Flag and multistate values are case-insensitive in sshd.
    return chance(15) ? case_variant(s) : s;
  }
  std::string leading_ws() {
    static const std::vector<std::string> v = {"", "", "", "", "", " ", "  ", "\t", " \t", "    "};
    return pick(v);
  }
  std::string separator() {
    static const std::vector<std::string> v = {" ",  " ",     " ",  " ",  "=",  " = ",
                                               "\t", "\t=\t", " =", "= ", "  ", " \t"};
    return pick(v);
  }
  std::string gap() {
    static const std::vector<std::string> v = {" ", " ", " ", " ", "\t", "  ", " \t "};
    return pick(v);
  }
  std::string quote_arg(const std::string &a, bool allow_single) {
    int r = uniform(0, 99);
    if (r < 8)
      return "\"" + a + "\"";
    if (r < 13 && allow_single)
      return "'" + a + "'";
    if (r < 15 && a.size() >= 2) // a quote inside the word: y"es" is yes
      return a.substr(0, 1) + "\"" + a.substr(1) + "\"";
    return a;
  }
  std::string trailer() {
    int r = uniform(0, 99);
    if (r < 8)
      return " # trailing comment";
    if (r < 11)
      return "\t#c PermitRootLogin yes";
    if (r < 15)
      return pick(std::vector<std::string>{" ", "\t", "  \t"});
    return "";
  }

  std::string directive(const std::string &kw, const std::vector<std::string> &args) {
    std::string kwtext = case_variant(kw);
    std::string sep = separator();
    if (chance(3)) { // a quoted keyword
      kwtext = "\"" + kwtext + "\"";
      sep = " ";
    }
    std::string line = leading_ws() + kwtext + sep;
    for (size_t i = 0; i < args.size(); ++i)
      line += (i ? gap() : "") + quote_arg(args[i], true);
    return line + trailer();
  }

  std::string comment_or_blank() {
    static const std::vector<std::string> v = {"",
                                               "",
                                               "   ",
                                               "\t",
                                               "# a comment",
                                               "#",
                                               "   # indented comment",
                                               "#PermitRootLogin yes",
                                               "\t#MaxAuthTries 1",
                                               "# Match User root",
                                               "#Include /etc/passwd",
                                               "#AllowUsers nobody"};
    return pick(v);
  }

  // --- values
  std::string flag_value() { return value_case(chance(50) ? "yes" : "no"); }

  std::string time_value() {
    if (chance(35)) {
      static const std::vector<std::string> plain = {"0", "15", "30", "90", "300", "3600", "010"};
      return pick(plain);
    }
    std::string out;
    int parts = uniform(1, 3);
    std::vector<std::string> u = {"w", "d", "h", "m", "s"};
    int start = uniform(0, 4);
    for (int i = 0; i < parts && start + i < 5; ++i) {
      std::string unit = u[static_cast<size_t>(start + i)];
      if (chance(20))
        unit = case_variant(unit);
      if (i == parts - 1 && unit == "s" && chance(30))
        unit = ""; // trailing bare number counts as seconds
      out += std::to_string(uniform(1, unit == "w" || unit == "W" ? 3 : 59)) + unit;
    }
    return out;
  }

  std::string int_value(int lo, int hi) {
    int v = uniform(lo, hi);
    int r = uniform(0, 99);
    if (r < 8)
      return "+" + std::to_string(v);
    if (r < 15)
      return "0" + std::to_string(v);
    return std::to_string(v);
  }

  std::vector<std::string> some_of(const std::vector<std::string> &pool, int lo, int hi) {
    std::vector<std::string> out;
    int n = uniform(lo, hi);
    for (int i = 0; i < n; ++i)
      out.push_back(pick(pool));
    return out;
  }

  std::string algorithms(const std::vector<std::string> &names, bool wildcards_in_plain,
                         const std::vector<std::string> &minus_patterns) {
    int r = uniform(0, 99);
    if (r < 30) { // plain list
      std::vector<std::string> items = some_of(names, 1, 4);
      if (wildcards_in_plain && chance(30))
        items.push_back(pick(std::vector<std::string>{"ssh-ed25519*", "*-cert-v01@openssh.com",
                                                      "rsa-sha2-*", "ecdsa-sha2-nistp256*"}));
      std::string out = join(items, ",");
      if (chance(5))
        out += ",";
      if (chance(5))
        out = "," + out;
      return out;
    }
    if (r < 55) { // + append
      std::vector<std::string> items = some_of(names, 1, 2);
      if (wildcards_in_plain && chance(20))
        items.push_back(pick(std::vector<std::string>{"ssh-rsa*", "ssh-dss*"}));
      return "+" + join(items, ",");
    }
    if (r < 85) { // - remove (wildcards, unknown names ok)
      std::vector<std::string> items;
      int n = uniform(1, 3);
      for (int i = 0; i < n; ++i)
        items.push_back(chance(50) ? pick(names) : pick(minus_patterns));
      return "-" + join(items, ",");
    }
    std::vector<std::string> items = some_of(names, 1, 2); // ^ prepend
    if (wildcards_in_plain && chance(20))
      items.push_back("ssh-ed25519*");
    return "^" + join(items, ",");
  }

  std::vector<std::string> auth_methods(Ctx ctx) {
    static const std::vector<std::string> names = {"publickey", "password", "keyboard-interactive"};
    // "any" is fatal once any earlier AuthenticationMethods line was applied
    // in the same pass (sshd checks options->num_auth_methods, even for a line
    // in an inactive block), so only the first AuthenticationMethods line of
    // a case may say "any", and its file is never included a second time.
    if (!m_authmethods_emitted && chance(25)) {
      m_authmethods_emitted = true;
      for (int f : m_stack) // the file and every file including it
        m_files[static_cast<size_t>(f)].has_any = true;
      return {"any"};
    }
    m_authmethods_emitted = true;
    std::vector<int> allowed;
    for (int m = 0; m < 3; ++m)
      if (!load_active(ctx) || !m_seen_no[m])
        allowed.push_back(m);
    if (allowed.empty()) // no method is surely enabled: any list could be unsatisfiable
      return {};         // (fatal at startup), so emit no line

    std::vector<std::string> lists;
    int n = uniform(1, 3);
    for (int i = 0; i < n; ++i) {
      std::vector<std::string> one;
      int len = uniform(1, 2);
      for (int j = 0; j < len; ++j) {
        int m = pick(allowed);
        if (load_active(ctx))
          m_pinned_yes[m] = true; // a later load-time "no" would break the list
        std::string name = names[static_cast<size_t>(m)];
        if (m == m_kbd && chance(30))
          name += ":pam";
        one.push_back(name);
      }
      lists.push_back(join(one, ","));
    }
    return lists;
  }

  std::vector<std::string> values_for(const KwSpec &k, Ctx ctx) {
    switch (k.gen) {
    case Gen::flag: {
      std::string v = flag_value();
      if (k.method != m_none && load_active(ctx)) {
        bool is_no = v.size() == 2 && (v[0] == 'n' || v[0] == 'N');
        if (is_no && m_pinned_yes[k.method])
          v = "yes";
        else if (is_no)
          m_seen_no[k.method] = true;
      }
      return {v};
    }
    case Gen::permitrootlogin: {
      static const std::vector<std::string> v = {"yes", "no", "prohibit-password",
                                                 "without-password", "forced-commands-only"};
      return {value_case(pick(v))};
    }
    case Gen::maxauthtries: return {int_value(0, 12)};
    case Gen::countmax: return {int_value(0, 6)};
    case Gen::interval: return {time_value()};
    case Gen::allowusers: {
      static const std::vector<std::string> v = {
          "root", "nobody",          "postgres",           "ghost",       "alice", "adm*",
          "?oot", "root@10.0.0.0/8", "nobody@192.168.1.*", "*@127.0.0.1", "A,b",   "*",
          "sshd", "r*@h.example.com"};
      return some_of(v, 1, 3);
    }
    case Gen::allowgroups: {
      static const std::vector<std::string> v = {"root", "nogroup", "sudo",     "staff", "ssl-*",
                                                 "*",    "wheel",   "postgres", "no*"};
      return some_of(v, 1, 3);
    }
    case Gen::denyusers: {
      static const std::vector<std::string> v = {
          "ghost", "bad*", "root@192.168.0.0/16", "nobody", "*@10.9.9.9", "postgres", "x,y"};
      return some_of(v, 1, 3);
    }
    case Gen::authmethods: return auth_methods(ctx);
    case Gen::ciphers:
      return {algorithms(k_ciphers, false,
                         {"aes128*", "*ctr", "*cbc", "*", "bogus-x", "aes*", "*gcm@openssh.com",
                          "chacha20*", "aes128-CTR"})};
    case Gen::macs:
      return {algorithms(
          k_macs, false,
          {"*sha1*", "*-etm@openssh.com", "umac-*", "*md5*", "*", "hmac-sha2-*", "bogus"})};
    case Gen::kex:
      return {algorithms(k_kex, false,
                         {"sntrup*", "diffie*", "*sha1", "ecdh-*", "curve*", "*", "nope"})};
    case Gen::hostkeyalgs:
      return {algorithms(k_keysig, true,
                         {"*cert*", "ssh-ed25519*", "ecdsa*", "sk-*", "rsa-sha2-512*", "*",
                          "webauthn*", "ssh-rsa"})};
    case Gen::protocol: {
      static const std::vector<std::string> v = {"2", "1", "2,1", "1,2"};
      return {pick(v)};
    }
    }
    return {"yes"};
  }

  const KwSpec &pick_keyword(Ctx ctx) {
    const auto &specs = kw_specs();
    int total = 0;
    for (auto &k : specs)
      if (load_active(ctx) || !k.global_only)
        total += k.weight;
    int r = uniform(0, total - 1);
    for (auto &k : specs) {
      if (!load_active(ctx) && k.global_only)
        continue;
      if (r < k.weight)
        return k;
      r -= k.weight;
    }
    return specs.front();
  }

  // --- Match lines
  struct Criterion {
    std::string attr; // as sshd names it: User, Group, Address, Host, LocalAddress, LocalPort
    const Pattern *pat;
  };

  std::string match_line(Ctx &ctx) {
    std::string line = leading_ws() + case_variant("Match") + " ";
    if (chance(15)) {
      ctx = m_nevermatch ? Ctx::match_criteria : Ctx::match_all;
      line += pick(std::vector<std::string>{"all", "all", "All", "ALL"});
    } else {
      ctx = Ctx::match_criteria;
      std::vector<std::string> attrs = {"User", "User", "Group", "Address", "Host", "LocalAddress"};
      if (m_allow_lport)
        attrs.insert(attrs.end(), {"LocalPort", "LocalPort"});
      std::shuffle(attrs.begin(), attrs.end(), m_rng);
      int n = uniform(1, 3);
      std::vector<Criterion> block;
      std::set<std::string> used;
      for (const auto &a : attrs) {
        if (static_cast<int>(block.size()) >= n)
          break;
        if (!used.insert(a).second)
          continue;
        const std::vector<Pattern> &pool = a == "User"           ? k_user_pats
                                           : a == "Group"        ? k_group_pats
                                           : a == "Address"      ? k_addr_pats
                                           : a == "Host"         ? k_host_pats
                                           : a == "LocalAddress" ? k_laddr_pats
                                                                 : k_lport_pats;
        const Pattern &p = pick(pool);
        block.push_back({a, &p});
        std::string value = p.pattern;
        int q = uniform(0, 99);
        if (q < 7)
          value = "\"" + value + "\"";
        else if (q < 9 && a == "User")
          value = "'" + value + "'"; // Match lines do not unquote single quotes
        std::string sep = chance(5) ? "=" : " ";
        line += (block.size() > 1 ? gap() : "") + case_variant(a) + sep + value;
      }
      m_blocks.push_back(block);
    }
    if (chance(8))
      line += " # match comment";
    return line;
  }

  // --- Include lines
  // Returns the Include line, or "" if nothing could be included here.
  std::string include_line(Ctx ctx, int self, std::vector<std::string> &lines) {
    std::vector<std::string> targets;
    int r = uniform(0, 99);
    bool have_incd = std::any_of(m_files.begin(), m_files.end(), [](auto &f) { return f.in_incd; });
    if (r < 8) {
      targets.push_back(chance(50) ? m_dir + "/missing.conf" : m_dir + "/nomatch.d/*.conf");
    } else if (self < 0 && have_incd && r < 45) {
      // The glob: every inc.d file, sorted bytewise, in the current context.
      std::vector<int> members;
      for (int i = 0; i < static_cast<int>(m_files.size()); ++i)
        if (m_files[static_cast<size_t>(i)].in_incd)
          members.push_back(i);
      std::sort(members.begin(), members.end(), [&](int a, int b) {
        return m_files[static_cast<size_t>(a)].path < m_files[static_cast<size_t>(b)].path;
      });
      for (int i : members)
        if (!compatible(i, ctx))
          return "";
      // "*.conf" must not pick up the decoy zz.conf.off; "?*.conf" neither.
      std::string glob = m_dir + (chance(70) ? "/inc.d/*.conf" : "/inc.d/?*.conf");
      std::string line = leading_ws() + case_variant("Include") + separator() +
                         (chance(10) ? "\"" + glob + "\"" : glob) + trailer();
      lines.push_back(line);
      for (int i : members)
        ensure_generated(i, ctx);
      return "\x01"; // already pushed
    } else {
      // Literal includes (possibly several on one line).
      std::vector<int> candidates;
      for (int i = 0; i < static_cast<int>(m_files.size()); ++i) {
        const auto &f = m_files[static_cast<size_t>(i)];
        bool edge_ok = self < 0 || (!f.in_incd && i > self);
        if (edge_ok && compatible(i, ctx))
          candidates.push_back(i);
      }
      if (candidates.empty())
        return "";
      std::shuffle(candidates.begin(), candidates.end(), m_rng);
      int n = std::min<int>(static_cast<int>(candidates.size()), chance(20) ? 2 : 1);
      std::vector<std::string> args;
      for (int k = 0; k < n; ++k) {
        int i = candidates[static_cast<size_t>(k)];
        std::string p = m_files[static_cast<size_t>(i)].path;
        if (chance(15))
          p = "../.." + p; // relative paths are taken under /etc/ssh
        args.push_back(chance(10) ? "\"" + p + "\"" : p);
      }
      std::string line =
          leading_ws() + case_variant("Include") + separator() + join(args, gap()) + trailer();
      lines.push_back(line);
      for (int k = 0; k < n; ++k)
        ensure_generated(candidates[static_cast<size_t>(k)], ctx);
      return "\x01";
    }
    return leading_ws() + case_variant("Include") + separator() + join(targets, " ") + trailer();
  }

  bool compatible(int i, Ctx ctx) const {
    const auto &f = m_files[static_cast<size_t>(i)];
    return !f.generated || (f.load_active == load_active(ctx) && !f.has_any);
  }

  void ensure_generated(int i, Ctx ctx) {
    auto &f = m_files[static_cast<size_t>(i)];
    if (f.generated)
      return;
    f.generated = true;
    f.load_active = load_active(ctx);
    std::vector<std::string> lines;
    // sshd parses a file included from a block inactive at load time with
    // SSHCFG_NEVERMATCH: even its `Match all` lines are inactive at load, so
    // global-only keywords are fatal there too.
    bool saved_never = m_nevermatch;
    m_nevermatch = m_nevermatch || !load_active(ctx);
    m_stack.push_back(i);
    gen_body(lines, ctx, i);
    m_stack.pop_back();
    m_nevermatch = saved_never;
    m_files[static_cast<size_t>(i)].lines = std::move(lines);
  }

  // --- bodies
  void gen_body(std::vector<std::string> &lines, Ctx ctx, int self) {
    bool is_main = self < 0;
    int n = is_main ? uniform(5, 24) : uniform(1, 9);
    bool can_include = !m_files.empty();
    for (int k = 0; k < n; ++k) {
      int r = uniform(0, 99);
      if (r < 14) {
        lines.push_back(comment_or_blank());
      } else if (r < 24 && (k >= 2 || !is_main)) {
        lines.push_back(match_line(ctx));
      } else if (r < 36 && can_include) {
        std::string l = include_line(ctx, self, lines);
        if (!l.empty() && l != "\x01")
          lines.push_back(l);
      } else {
        const KwSpec &kw = pick_keyword(ctx);
        int copies = chance(8) ? 2 : 1; // the same keyword again: first wins / lists accumulate
        for (int copy = 0; copy < copies; ++copy) {
          auto args = values_for(kw, ctx);
          if (!args.empty())
            lines.push_back(directive(kw.name, args));
        }
      }
    }
  }

  static std::string render(const std::vector<std::string> &lines, bool crlf) {
    std::string out;
    for (auto &l : lines)
      out += l + (crlf ? "\r\n" : "\n");
    return out;
  }

  // --- -C specs
  Spec make_spec(bool aim) {
    Spec s;
    s.user = pick(k_spec_users);
    s.host = pick(k_spec_hosts);
    s.addr = pick(k_spec_addrs);
    s.laddr = pick(k_spec_laddrs);
    s.lport = pick(k_spec_lports);
    if (aim && !m_blocks.empty()) {
      const auto &block = pick(m_blocks);
      for (const auto &c : block) {
        if (c.pat->satisfier == nullptr)
          continue;
        std::string v = c.pat->satisfier;
        if (c.attr == "User" || c.attr == "Group")
          s.user = v;
        else if (c.attr == "Address")
          s.addr = v;
        else if (c.attr == "Host")
          s.host = v;
        else if (c.attr == "LocalAddress")
          s.laddr = v;
        else if (c.attr == "LocalPort")
          s.lport = std::stoi(v);
      }
    }
    // Absent fields never satisfy a criterion.
    if (chance(8))
      s.host.reset();
    if (chance(8))
      s.laddr.reset();
    if (chance(4))
      s.user.reset();
    if (chance(4))
      s.addr.reset();
    if (!m_allow_lport && chance(15))
      s.lport.reset();
    return s;
  }

  std::mt19937 m_rng;
  std::string m_dir;
  bool m_allow_lport = false;
  std::vector<IncFile> m_files;
  std::vector<std::vector<Criterion>> m_blocks;
  bool m_seen_no[3] = {false, false, false};
  bool m_pinned_yes[3] = {false, false, false};
  bool m_authmethods_emitted = false;
  std::vector<int> m_stack; // include files being generated, outermost first
  bool m_nevermatch = false;
};

// ---------------------------------------------------------------------------
// The fixture: skip without sshd, one throwaway host key per run.

class SshdDifferential : public ::testing::Test {
protected:
  static void SetUpTestSuite() {
    if (::access(k_sshd, X_OK) != 0 || ::access(k_ssh_keygen, X_OK) != 0)
      return;
    ::mkdir("/run/sshd", 0755); // sshd -T refuses to run without it
    s_key_dir = new TempDir("bulwark-sshd-key");
    s_key = s_key_dir->path() + "/hostkey";
    auto r = run_argv(
        {k_ssh_keygen, "-q", "-t", "ed25519", "-N", "", "-C", "bulwark-test", "-f", s_key});
    if (r.exit_code != 0) {
      std::cerr << "ssh-keygen failed: " << r.err << "\n";
      s_key.clear();
    }
  }
  static void TearDownTestSuite() {
    delete s_key_dir;
    s_key_dir = nullptr;
  }
  void SetUp() override {
    BULWARK_REQUIRE(::access(k_sshd, X_OK) == 0)
        << k_sshd << " is not executable: the sshd differential test needs "
        << "OpenSSH's sshd (apt-get install openssh-server)";
    BULWARK_REQUIRE(::access(k_ssh_keygen, X_OK) == 0)
        << k_ssh_keygen << " is not executable (needed for a throwaway host key)";
    ASSERT_FALSE(s_key.empty()) << "could not create a throwaway host key";
    struct stat st {};
    BULWARK_REQUIRE(::stat("/run/sshd", &st) == 0)
        << "/run/sshd is missing and could not be created (sshd -T refuses to run "
        << "without its privilege separation directory; run as root)";
  }

  static ProcResult sshd(const std::vector<std::string> &extra) {
    std::vector<std::string> argv = {k_sshd};
    argv.insert(argv.end(), extra.begin(), extra.end());
    return run_argv(argv);
  }

  static inline TempDir *s_key_dir = nullptr;
  static inline std::string s_key;
};

struct Disagreement {
  size_t case_index;
  std::string case_dump;
  std::string spec; // "(none)" for plain -T
  std::string keyword;
  std::string sshd_value;
  std::string ours;
};

std::string show_list(const std::vector<std::string> &v) {
  if (v.empty())
    return "(nothing printed)";
  std::string out;
  for (auto &s : v)
    out += "[" + s + "]";
  return out;
}

} // namespace

TEST_F(SshdDifferential, AgreesWithSshdT) {
  size_t n_cases = bulwark::test::oracle_cases(600);
  if (const char *e = std::getenv("BULWARK_SSHD_CASES"); e != nullptr && *e != '\0')
    n_cases = static_cast<size_t>(std::strtoul(e, nullptr, 10));
  std::optional<size_t> only;
  if (const char *e = std::getenv("BULWARK_SSHD_ONLY"); e != nullptr && *e != '\0')
    only = static_cast<size_t>(std::strtoul(e, nullptr, 10));
  bool keep = env_flag("BULWARK_SSHD_KEEP");

  RootFs fs("/");
  UserDb users = UserDb::load(fs);

  size_t cases = 0, runs = 0, comparisons = 0;
  std::vector<Disagreement> diffs;
  std::vector<std::string> generator_failures;
  auto t0 = std::chrono::steady_clock::now();
  std::chrono::steady_clock::duration sshd_time{};

  for (size_t ci = 0; ci < n_cases; ++ci) {
    if (only && *only != ci)
      continue;
    TempDir dir("bulwark-sshdiff", keep);
    Generator gen(0xB01A4Cu + static_cast<uint32_t>(ci) * 7919u, dir.path());
    GenCase c = gen.make();
    std::filesystem::create_directories(dir.path() + "/inc.d");
    for (auto &[p, content] : c.files)
      write_file(p, content);
    ++cases;
    std::string dump = c.dump();
    if (keep)
      std::cout << "case " << ci << " kept in " << dir.path() << "\n";

    auto parsed = parse_sshd_config(fs, c.main);
    if (!parsed.ok()) {
      diffs.push_back(
          {ci, dump, "(parse)", "<parse_sshd_config>", "ok", parsed.error().to_string()});
      continue;
    }
    const SshdConfig &cfg = parsed.value();
    if (cfg.has_errors()) {
      std::string errs;
      for (auto &d : cfg.diagnostics)
        if (d.level == Diagnostic::Level::error)
          errs += d.loc.path + ":" + std::to_string(d.loc.line) + ": " + d.message + "; ";
      diffs.push_back({ci, dump, "(parse)", "<has_errors>", "false (sshd accepts the case)", errs});
    }

    std::vector<std::optional<Spec>> runs_for_case;
    if (c.plain_run)
      runs_for_case.push_back(std::nullopt);
    for (auto &s : c.specs)
      runs_for_case.push_back(s);

    for (auto &spec : runs_for_case) {
      std::vector<std::string> args = {"-T", "-f", c.main, "-h", s_key};
      if (spec)
        args.insert(args.end(), {"-C", spec->to_arg()});
      auto t1 = std::chrono::steady_clock::now();
      ProcResult r = sshd(args);
      sshd_time += std::chrono::steady_clock::now() - t1;
      ++runs;
      std::string spec_text = spec ? "-C " + spec->to_arg() : "(none: plain -T)";
      if (r.exit_code != 0) {
        generator_failures.push_back("case " + std::to_string(ci) + " " + spec_text +
                                     ": sshd exit " + std::to_string(r.exit_code) + ": " + r.err +
                                     "\n" + dump);
        continue;
      }
      auto dumped = parse_dump(r.out);
      Effective eff = evaluate(cfg, spec ? spec->to_connection() : ConnectionSpec{}, users);
      for (const auto &kw : compared_keywords()) {
        ++comparisons;
        Value v = eff.get(kw);
        auto it = dumped.find(kw);
        std::vector<std::string> theirs =
            it == dumped.end() ? std::vector<std::string>{} : it->second;
        if (is_list_keyword(kw)) {
          if (theirs != v.args)
            diffs.push_back({ci, dump, spec_text, kw, show_list(theirs), show_list(v.args)});
        } else {
          std::string ours = join(v.args, " ");
          std::string sshd_value = theirs.size() == 1 ? theirs[0]
                                   : theirs.empty()   ? "(not printed)"
                                                      : join(theirs, " | ");
          if (theirs.size() != 1 || ours != sshd_value)
            diffs.push_back({ci, dump, spec_text, kw, sshd_value, ours});
        }
      }
    }
  }

  auto elapsed = std::chrono::steady_clock::now() - t0;
  double secs = std::chrono::duration<double>(elapsed).count();
  double sshd_ms = runs ? std::chrono::duration<double, std::milli>(sshd_time).count() / runs : 0;

  size_t show = 5;
  if (const char *e = std::getenv("BULWARK_SSHD_SHOW"); e != nullptr && *e != '\0')
    show = static_cast<size_t>(std::strtoul(e, nullptr, 10));
  for (size_t i = 0; i < diffs.size() && i < show; ++i) {
    const auto &d = diffs[i];
    ADD_FAILURE() << "disagreement #" << (i + 1) << " (case " << d.case_index << ", " << d.spec
                  << ")\n  keyword: " << d.keyword << "\n  sshd:    " << d.sshd_value
                  << "\n  bulwark: " << d.ours << "\n  case files:\n"
                  << d.case_dump;
  }
  if (diffs.size() > show) {
    // A compact list of the rest, one line each, to see the spread.
    std::map<std::string, size_t> by_keyword;
    for (auto &d : diffs)
      ++by_keyword[d.keyword];
    std::string spread;
    for (auto &[k, n] : by_keyword)
      spread += " " + k + "=" + std::to_string(n);
    ADD_FAILURE() << diffs.size() << " disagreements in all; by keyword:" << spread;
  }
  for (size_t i = 0; i < generator_failures.size() && i < 5; ++i)
    ADD_FAILURE() << "generator produced a configuration sshd rejects (generator bug):\n"
                  << generator_failures[i];
  if (generator_failures.size() > 5)
    ADD_FAILURE() << generator_failures.size() << " generated configurations rejected by sshd";

  std::ostringstream summary;
  summary << "sshd differential: " << cases << " cases, " << runs << " sshd runs, " << comparisons
          << " comparisons, " << diffs.size() << " disagreements";
  std::cout << summary.str() << std::endl;
  std::cout << "sshd differential: " << generator_failures.size()
            << " generated cases rejected by sshd; " << std::fixed << std::setprecision(1) << secs
            << " s total, " << sshd_ms << " ms per sshd run" << std::endl;
  RecordProperty("summary", summary.str());
  EXPECT_TRUE(diffs.empty());
  EXPECT_TRUE(generator_failures.empty());
}

// ---------------------------------------------------------------------------
// Hand-written configurations: invalid ones both must reject, tricky valid
// ones both must accept. "@DIR@" is the case directory; the main file is
// @DIR@/main.conf, extra files are written next to it.

namespace {

struct Snippet {
  const char *name;
  std::string main;
  std::vector<std::pair<std::string, std::string>> extra = {};
};

std::string subst(std::string s, const std::string &dir) {
  for (size_t p; (p = s.find("@DIR@")) != std::string::npos;)
    s.replace(p, 5, dir);
  return s;
}

} // namespace

TEST_F(SshdDifferential, InvalidConfigsAreRejectedByBoth) {
  using namespace std::string_literals;
  const std::vector<Snippet> invalid = {
      {"unknown keyword", "FooBar yes\n"},
      {"missing argument", "PermitRootLogin\n"},
      {"missing argument (trailing space)", "PermitRootLogin \n"},
      {"empty quoted argument", "PermitRootLogin \"\"\n"},
      {"extra argument", "PermitRootLogin no yes\n"},
      {"global-only keyword inside Match", "Match User x\nUseDNS no\n"},
      {"global-only Ciphers inside Match", "Match User root\nCiphers aes128-ctr\n"},
      {"Protocol inside Match Group", "Match Group root\nProtocol 2\n"},
      {"bad Match criterion", "Match Foo bar\nPasswordAuthentication no\n"},
      {"Match without criteria", "Match\n"},
      {"Match User without value", "Match User\nPasswordAuthentication no\n"},
      {"Match all combined", "Match all User root\nPasswordAuthentication no\n"},
      {"Match address with host bits", "Match Address 10.1.2.3/8\nPasswordAuthentication no\n"},
      {"Match address mask too long", "Match Address 10.0.0.0/33\nPasswordAuthentication no\n"},
      {"bad time value", "ClientAliveInterval 5x\n"},
      {"negative time", "ClientAliveInterval -1\n"},
      {"time with a space", "ClientAliveInterval 5 m\n"},
      {"unknown cipher", "Ciphers aes128-ctr,bogus-cipher\n"},
      {"cipher wildcard in plain list", "Ciphers aes*\n"},
      {"cipher name case", "Ciphers AES256-GCM@OPENSSH.COM\n"},
      {"appending an unknown cipher", "Ciphers +bogus\n"},
      {"MAC name case", "MACs HMAC-SHA1\n"},
      {"kex wildcard in plain list", "KexAlgorithms curve*\n"},
      {"unbalanced quote", "PermitRootLogin \"no\n"},
      {"integer not a number", "MaxAuthTries abc\n"},
      {"integer with suffix", "MaxAuthTries 3abc\n"},
      {"negative integer", "MaxAuthTries -3\n"},
      {"integer too large", "MaxAuthTries 2147483648\n"},
      {"bad multistate value", "PermitRootLogin maybe\n"},
      {"flag not yes/no", "PasswordAuthentication true\n"},
      {"UsePAM 1", "UsePAM 1\n"},
      {"two equals signs", "PermitRootLogin==no\n"},
      {"comment glued to a value", "PermitRootLogin no#c\n"},
      {"any not alone", "AuthenticationMethods publickey any\n"},
      {"any after an earlier AuthenticationMethods",
       "AuthenticationMethods publickey\nAuthenticationMethods any\n"},
      {"any twice", "AuthenticationMethods any\nAuthenticationMethods any\n"},
      {"any in an inactive Match after a global AuthenticationMethods",
       "AuthenticationMethods publickey\nMatch User bob\nAuthenticationMethods any\n"},
      {"later bad value still fatal", "PermitRootLogin no\nPermitRootLogin maybe\n"},
      {"UTF-8 BOM", "\xEF\xBB\xBFPermitRootLogin no\n"},
      {"NUL byte joins lines", "PermitRootLogin no\0garbage\nMaxAuthTries 3\n"s},
      {"NUL on the last line carries a bad keyword to end of file",
       "PermitRootLogin no\nFooBar\0x"s},
      {"UTF-16LE with a byte order mark",
       "\xFF\xFEP\0e\0r\0m\0i\0t\0R\0o\0o\0t\0L\0o\0g\0i\0n\0 \0n\0o\0\n\0"s},
      {"Include loop", "Include @DIR@/main.conf\n"},
      {"included file invalid", "Include @DIR@/bad.conf\n", {{"bad.conf", "FooBar x\n"}}},
      {"included global-only keyword inside Match",
       "Match User bob\nInclude @DIR@/port.conf\n",
       {{"port.conf", "UseDNS yes\n"}}},
  };
  const std::vector<Snippet> valid = {
      {"equals separator", "PermitRootLogin=no\n"},
      {"global-only keyword after Match all", "Match all\nUseDNS no\n"},
      {"Protocol is ignored", "Protocol 1\n"},
      {"missing literal Include", "Include @DIR@/does-not-exist.conf\n"},
      {"glob Include with no match", "Include @DIR@/nothing.d/*.conf\n"},
      {"Ciphers -* falls back to the default", "Ciphers -*\n"},
      {"quoted keyword", "\"PermitRootLogin\" no\n"},
      {"trailing comment", "PermitRootLogin no # c\n"},
      {"comment on a Match line", "Match User alice # comment\nPasswordAuthentication no\n"},
      {"Match User=alice", "Match User=alice\nPasswordAuthentication no\n"},
      {"wildcard HostKeyAlgorithms", "HostKeyAlgorithms ssh-ed25519*\n"},
      {"lone equals line", "=\nPermitRootLogin no\n"},
      {"deprecated option", "UsePrivilegeSeparation sandbox\n"},
      {"unsupported option", "KerberosGetAFSToken yes\n"},
      {"Include of a directory", "Include @DIR@/dir.d\n", {{"dir.d/x.conf", "FooBar x\n"}}},
      {"CRLF line endings", "PermitRootLogin no\r\nMaxAuthTries 3\r\n"},
      {"NUL on the last line", "PermitRootLogin no\nPasswordAuthentication yes\0"s},
      {"Match in an include does not leak",
       "Include @DIR@/m.conf\nUseDNS no\n",
       {{"m.conf", "Match User bob\nPasswordAuthentication no\n"}}},
  };

  RootFs fs("/");
  auto check = [&](const Snippet &s, bool expect_valid) {
    TempDir dir("bulwark-sshdinv");
    std::string main = dir.path() + "/main.conf";
    write_file(main, subst(s.main, dir.path()));
    for (auto &[p, c] : s.extra)
      write_file(dir.path() + "/" + p, subst(c, dir.path()));
    ProcResult r = sshd({"-t", "-f", main, "-h", s_key});
    auto parsed = parse_sshd_config(fs, main);
    bool ours_errors = !parsed.ok() || parsed.value().has_errors();
    std::string diags;
    if (parsed.ok())
      for (auto &d : parsed.value().diagnostics)
        diags += "    " + d.loc.path + ":" + std::to_string(d.loc.line) + ": " + d.message + "\n";
    else
      diags = "    " + parsed.error().to_string() + "\n";
    std::string shown = visible(subst(s.main, dir.path()));
    if (expect_valid) {
      EXPECT_EQ(r.exit_code, 0) << "[" << s.name
                                << "] sshd -t rejects a snippet meant to be valid:\n"
                                << shown << "  sshd: " << r.err;
      EXPECT_FALSE(ours_errors) << "[" << s.name << "] bulwark reports errors sshd does not:\n"
                                << shown << "  bulwark:\n"
                                << diags;
    } else {
      EXPECT_NE(r.exit_code, 0) << "[" << s.name
                                << "] sshd -t accepts a snippet meant to be invalid:\n"
                                << shown;
      EXPECT_TRUE(ours_errors) << "[" << s.name << "] bulwark accepts what sshd rejects:\n"
                               << shown << "  sshd: " << r.err << "  bulwark diagnostics:\n"
                               << diags;
    }
  };
  for (auto &s : invalid)
    check(s, false);
  for (auto &s : valid)
    check(s, true);
  std::cout << "sshd invalid/valid snippets: " << invalid.size() << " invalid, " << valid.size()
            << " valid" << std::endl;
}
