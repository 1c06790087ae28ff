// Every guide reference of the catalogue is true: the cited section exists in
// the guide (tests/data/guides/, byte copies of seeds/) and names what the
// check judges. A check's subject is a few words (a keyword, setting or tool)
// kept here, away from the catalogue, so that a reference moved to the wrong
// section fails: "003 §3.2" for accounts.mfa names no second factor.
//
// The rule for a new check id: a check that cites a guide gets an entry in
// k_subjects; each guide section it cites must contain (case-insensitively)
// at least one of its words. A check that cites no guide is beyond both and
// needs no entry.

#include "../support.hpp"

#include <bulwark/core/catalogue.hpp>
#include <bulwark/core/profile.hpp>
#include <bulwark/core/text.hpp>

#include <algorithm>
#include <fstream>
#include <gtest/gtest.h>
#include <map>
#include <set>
#include <sstream>

using namespace bulwark;

namespace {

// The words a check's guide sections must contain, one of them at least.
const std::map<std::string, std::vector<std::string>> k_subjects = {
    {"ssh.permit-root-login", {"PermitRootLogin", "root login"}},
    {"ssh.password-authentication", {"PasswordAuthentication"}},
    {"ssh.pubkey-authentication", {"PubkeyAuthentication"}},
    {"ssh.permit-empty-passwords", {"PermitEmptyPasswords"}},
    {"ssh.max-auth-tries", {"MaxAuthTries"}},
    {"ssh.client-alive", {"ClientAliveInterval"}},
    {"ssh.allow-users-groups", {"AllowUsers", "AllowGroups"}},
    {"ssh.x11-forwarding", {"X11Forwarding"}},
    {"ssh.use-dns", {"UseDNS"}},
    {"ssh.tcp-keepalive", {"TCPKeepAlive"}},
    {"ssh.protocol", {"Protocol 2"}},
    {"ssh.weak-algorithms", {"encryption algorithms"}},
    {"ssh.host-key-permissions", {"key storage"}},
    {"ssh.config-valid", {"sshd_config", "sshd -t", "SSH hardening settings"}},
    {"accounts.uid0", {"least privilege"}},
    {"accounts.empty-passwords", {"password polic"}},
    {"accounts.password-max-age", {"password rotation"}},
    {"accounts.sudo-nopasswd", {"least privilege", "sudo"}},
    {"accounts.sudo-logging", {"administrative actions"}},
    {"accounts.password-policy", {"password polic"}},
    {"accounts.lockout", {"lockout"}},
    {"accounts.mfa", {"multi-factor"}},
    {"os.reboot-required", {"patch"}},
    {"os.auto-security-updates", {"automatic security updates"}},
    {"os.pending-security-updates", {"security updates", "patch"}},
    {"mac.enabled", {"AppArmor"}},
    {"container.compose-valid", {"config --quiet", "container security settings"}},
    {"container.non-root-user", {"non-root"}},
    {"container.read-only-rootfs", {"read-only"}},
    {"container.no-new-privileges", {"no-new-privileges"}},
    {"container.cap-drop-all", {"cap_drop", "drop all unnecessary capabilities"}},
    {"container.cap-add-minimal", {"cap_add", "limit container capabilities"}},
    {"container.no-privileged", {"capabilities"}},
    {"container.no-host-namespaces", {"network segmentation", "internal networks"}},
    {"container.no-docker-socket", {"non-root"}},
    {"container.sensitive-mounts", {"least privilege"}},
    {"container.tmpfs-hardened", {"noexec"}},
    {"container.resource-limits", {"resource limits"}},
    {"container.image-pinned", {"pin image versions"}},
    {"container.minimal-base-image", {"minimal base images"}},
    {"container.secrets-not-in-env", {"secrets in environment variables", "Docker secrets"}},
    {"container.published-ports",
     {"internal networks", "restrict database access", "bind to localhost"}},
    {"container.healthcheck", {"health checks"}},
    {"container.auto-rollback", {"auto-rollback", "docker stack deploy"}},
    {"container.content-trust", {"signatures", "content trust"}},
    {"network.internal", {"internal networks"}},
    {"network.segmentation", {"network segmentation"}},
    {"network.encrypted-overlay", {"encrypted overlay"}},
    {"docker.daemon-hardening", {"inter-container communication"}},
    {"fail2ban.installed", {"fail2ban"}},
    {"fail2ban.sshd-jail", {"[sshd]"}},
    {"fail2ban.maxretry", {"maxretry"}},
    {"fail2ban.bantime", {"bantime"}},
    {"fail2ban.findtime", {"findtime"}},
    {"fail2ban.log-source", {"logpath"}},
    {"firewall.enabled", {"iptables", "ufw"}},
    {"firewall.default-deny-incoming", {"-j DROP", "deny incoming"}},
    {"firewall.loopback-allowed", {"-i lo"}},
    {"firewall.established-allowed", {"ESTABLISHED"}},
    {"firewall.ssh-restricted", {"--dport 22 -s", "limit ssh"}},
    {"firewall.ssh-rate-limited", {"rate limiting for SSH"}},
    {"firewall.allowed-ports", {"--dport 443", "443/tcp"}},
    {"firewall.egress-filtering", {"egress filtering", "allow outgoing"}},
    {"firewall.exposed-listeners",
     {"-j DROP", "firewall configuration", "restrict database access", "bind to localhost"}},
    {"fs.app-permissions", {"644"}},
    {"fs.world-writable", {"world-writable"}},
    {"fs.suid-files", {"file permissions"}},
    {"logging.auditd", {"auditd", "log all administrative actions"}},
    {"logging.audit-rules", {"auditd", "log all administrative actions"}},
    {"logging.central", {"centraliz"}},
    {"logging.retention", {"retain logs"}},
    {"secrets.file-permissions", {"secrets"}},
    {"secrets.rotation-age", {"rotat"}},
    {"secrets.env-files", {"secrets in environment variables"}},
    {"env.security-flags", {"ENABLE_AUDIT_LOG", "TLS 1.2"}},
    {"data.encryption-at-rest", {"at rest"}},
    {"monitoring.intrusion-detection", {"intrusion detection", "anomaly detection"}},
    {"monitoring.file-integrity", {"integrity"}},
    {"monitoring.file-integrity-changes", {"integrity"}},
    {"monitoring.security-alerts", {"alert"}},
    {"monitoring.fail2ban-running", {"fail2ban"}},
    {"postgres.ssl", {"SSL"}},
    {"postgres.ssl-min-version", {"TLS 1.2"}},
    {"postgres.password-encryption", {"SCRAM-SHA-256"}},
    {"postgres.hba-no-trust", {"strong authentication", "pg_hba.conf"}},
    {"postgres.hba-strong-auth", {"SCRAM-SHA-256"}},
    {"postgres.hba-ssl-only", {"SSL"}},
    {"postgres.hba-restricted-sources", {"restrict database access"}},
    {"postgres.listen-addresses", {"restrict database access"}},
    {"postgres.connection-limits", {"connection limits"}},
    {"postgres.audit-logging", {"query logging", "suspicious queries"}},
    {"redis.authentication", {"requirepass"}},
    {"redis.bind", {"bind to localhost"}},
    {"redis.protected-mode", {"bind to localhost"}},
    {"redis.dangerous-commands", {"dangerous commands"}},
    {"redis.acl", {"ACL"}},
    {"redis.tls", {"TLS for Redis"}},
    {"tls.min-version", {"TLS 1.2"}},
    {"tls.strong-ciphers", {"strong cipher suites"}},
    {"tls.hsts", {"HSTS"}},
    {"tls.cert-rotation", {"certificate rotation"}},
    {"tls.cert-expiry", {"certificate rotation"}},
    {"tls.key-strength", {"encryption algorithms"}},
    {"vpn.openvpn-tls", {"TLS 1.2", "AES-256"}},
    {"vpn.openvpn-privileges", {"least privilege"}},
    {"vpn.wireguard-key-permissions", {"key storage"}},
    {"vpn.ipsec-proposals", {"AES-256"}},
    // Second wave (2026-12): only the sections that ask for what each check judges.
    {"ssh.log-level", {"authentication attempts", "failed logins"}},
    {"ssh.legacy-auth", {"key-based authentication only"}},
    {"ssh.host-key-strength", {"encryption algorithms"}},
    {"accounts.root-locked", {"disable root login", "sudo"}},
    {"accounts.system-accounts", {"least privilege"}},
    {"accounts.su-restricted", {"sudo", "least privilege"}},
    {"accounts.password-history", {"password rotation"}},
    {"accounts.central-auth", {"centralized authentication"}},
    {"accounts.root-equivalent-groups", {"least privilege"}},
    {"backup.configured", {"backup"}},
    {"backup.encrypted", {"encrypt backup", "at rest"}},
    {"backup.offsite", {"offsite"}},
    {"docker.image-vulnerability-scan",
     {"scan all images for vulnerabilities", "vulnerability scan",
      "scan images for vulnerabilities"}},
    {"docker.image-age", {"update base images", "security patches"}},
    {"container.deploy-file-set", {"docker-compose.security.yml"}},
    {"container.ports-bound-to-interface", {"--dport 443", "443/tcp"}},
    {"container.runtime-drift",
     {"verify security configurations", "security overrides", "non-root", "read-only"}},
    {"firewall.docker-published-ports", {"--dport 443"}},
    {"firewall.forward-policy", {"egress filtering"}},
    {"fail2ban.port-matches-sshd", {"port = ssh"}},
    {"fail2ban.enabled-at-boot", {"fail2ban"}},
    {"fs.critical-file-permissions", {"file permissions"}},
    {"logging.audit-rules-extended",
     {"auditd", "log all authentication attempts", "log all configuration changes"}},
    {"logging.auditd-config", {"retain logs"}},
    {"logging.audit-config-changes", {"log all configuration changes", "auditd"}},
    {"logging.audit-secret-access", {"audit secret access", "log all data access"}},
    {"logging.remote-tls", {"in transit"}},
    {"logging.auth-events", {"authentication attempts", "failed logins"}},
    {"logging.container-logs", {"centraliz", "retain logs"}},
    {"monitoring.file-integrity-scheduled", {"integrity"}},
    {"monitoring.ids-running", {"intrusion detection", "anomaly detection"}},
    {"monitoring.alert-routing", {"alert"}},
    {"monitoring.resource-alerts", {"resource usage"}},
    {"os.security-repo", {"security updates", "security patches"}},
    {"os.package-integrity", {"integrity"}},
    {"postgres.config-permissions", {"key storage"}},
    {"postgres.ssl-ciphers", {"strong cipher suites"}},
    {"postgres.data-access-logging",
     {"log all data access", "query logging", "suspicious queries"}},
    {"redis.tls-protocols", {"TLS 1.2"}},
    {"tls.service-certificates", {"certificate rotation"}},
};

struct SeedSection {
  std::string id; // "3.2" (003) or the heading title (000)
  std::string title;
  int level = 0;
  std::string text; // heading line and body, up to the next heading of its level or higher
};

std::string read_guide(const std::string &file) {
  std::ifstream in(std::string(BULWARK_SOURCE_DIR) + "/tests/data/guides/" + file,
                   std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// The headings of a guide (## and ###, outside ``` fences), each with its
// text. 003's headings are "## 3. Network Security" / "### 3.2 SSH
// Hardening"; 000's "## Access Control" / "### 2. Environment Variables".
std::vector<SeedSection> seed_sections(const std::string &guide, const std::string &text) {
  std::vector<SeedSection> out;
  std::vector<std::string> lines = text::split(text, '\n');
  bool fence = false;
  std::vector<std::pair<size_t, size_t>> spans; // section index -> first line
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string &l = lines[i];
    if (l.rfind("```", 0) == 0)
      fence = !fence;
    if (fence)
      continue;
    int level = l.rfind("### ", 0) == 0 ? 3 : l.rfind("## ", 0) == 0 ? 2 : 0;
    if (level == 0)
      continue;
    std::string heading = l.substr(static_cast<size_t>(level) + 1);
    // A leading number: "3.2 " (003) or "2. " (000).
    std::string number;
    size_t k = 0;
    while (k < heading.size() &&
           (std::isdigit(static_cast<unsigned char>(heading[k])) || heading[k] == '.'))
      number += heading[k++];
    SeedSection s;
    s.level = level;
    if (!number.empty() && k < heading.size() && heading[k] == ' ') {
      s.title = heading.substr(k + 1);
      while (!number.empty() && number.back() == '.')
        number.pop_back();
    } else {
      s.title = heading;
      number.clear();
    }
    s.id = guide == "003" ? number : s.title;
    if (guide == "000" && s.title == "Table of Contents")
      continue;
    spans.emplace_back(out.size(), i);
    out.push_back(std::move(s));
  }
  for (size_t n = 0; n < spans.size(); ++n) {
    size_t first = spans[n].second;
    size_t last = lines.size();
    for (size_t m = n + 1; m < spans.size(); ++m)
      if (out[m].level <= out[n].level) {
        last = spans[m].second;
        break;
      }
    for (size_t i = first; i < last; ++i)
      out[n].text += lines[i] + "\n";
  }
  return out;
}

const std::vector<SeedSection> &sections_of(const std::string &guide) {
  static const std::map<std::string, std::vector<SeedSection>> all = {
      {"000", seed_sections("000", read_guide("000_7e7611aba1e6ff40.txt"))},
      {"003", seed_sections("003", read_guide("003_a4ae804f704a6773.txt"))},
  };
  return all.at(guide);
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

// What is wrong with one reference of `check`, "" when it is true.
std::string verify(const std::string &check, const std::string &ref) {
  auto parsed = parse_guide_ref(ref);
  if (!parsed)
    return parsed.error().message;
  if (!*parsed)
    return ""; // not a guide reference (CIS, Mozilla, ...)
  const GuideRef &g = **parsed;
  const SeedSection *sec = nullptr;
  for (auto &s : sections_of(g.guide))
    if (s.id == g.section)
      sec = &s;
  if (sec == nullptr)
    return "guide " + g.guide + " has no section '" + g.section + "'";
  auto it = k_subjects.find(check);
  if (it == k_subjects.end())
    return "cites guide " + g.guide + " but has no subject words in k_subjects";
  for (auto &word : it->second)
    if (lower(sec->text).find(lower(word)) != std::string::npos)
      return "";
  return "section '" + g.section + "' of guide " + g.guide +
         " names none of: " + text::join(it->second, ", ");
}

} // namespace

TEST(References, TheSeedCopiesAreTheGuides) {
  // Byte copies of seeds/; when the shared seeds are at hand, they must agree.
  for (std::string f : {"000_7e7611aba1e6ff40.txt", "003_a4ae804f704a6773.txt"}) {
    std::string copy = read_guide(f);
    ASSERT_GT(copy.size(), 4000u) << f;
    if (const char *dir = std::getenv("BULWARK_SEEDS_DIR")) {
      std::ifstream in(std::string(dir) + "/" + f, std::ios::binary);
      std::stringstream ss;
      ss << in.rdbuf();
      EXPECT_EQ(ss.str(), copy) << f;
    }
  }
}

TEST(References, GuideSectionTablesAreTheSeedsHeadings) {
  for (std::string guide : {"000", "003"}) {
    const auto &seed = sections_of(guide);
    auto table = guide_sections(guide);
    ASSERT_EQ(seed.size(), table.size()) << guide;
    ASSERT_GT(seed.size(), 20u) << guide;
    for (size_t i = 0; i < seed.size(); ++i) {
      EXPECT_EQ(seed[i].id, table[i].id) << guide << " #" << i;
      EXPECT_EQ(seed[i].title, table[i].title) << guide << " #" << i;
      EXPECT_EQ(seed[i].level, table[i].level) << guide << " #" << i;
    }
  }
}

TEST(References, EveryGuideReferenceCitesASectionThatNamesTheSubject) {
  int checked = 0;
  std::set<std::string> cited[2];
  for (auto &c : Catalogue::builtin().checks())
    for (auto &r : c.references) {
      std::string why = verify(c.id, r);
      EXPECT_EQ(why, "") << c.id << ": \"" << r << "\"";
      if (r.rfind("000 ", 0) == 0 || r.rfind("003 ", 0) == 0) {
        ++checked;
        cited[r[2] == '3'].insert(c.id);
      }
    }
  // Most checks are the guides': a catalogue that lost its references fails.
  EXPECT_GT(checked, 150);
  EXPECT_GT(cited[0].size(), 60u);
  EXPECT_GT(cited[1].size(), 50u);
}

TEST(References, SubjectsNameOnlyCatalogueChecks) {
  for (auto &[id, words] : k_subjects) {
    EXPECT_NE(Catalogue::builtin().find(id), nullptr) << id;
    EXPECT_FALSE(words.empty()) << id;
  }
}

// Issue 16: references that cited sections saying nothing of the check.
TEST(References, TheWrongReferencesOfIssue16AreCaught) {
  EXPECT_NE(verify("accounts.mfa", "003 §3.2 (SSH hardening)"), "");
  EXPECT_NE(verify("ssh.weak-algorithms", "003 §3.2"), "");
  EXPECT_NE(verify("tls.hsts", "003 §7.1"), "");
  EXPECT_NE(verify("ssh.host-key-permissions", "000 SSH Hardening"), "");
  // ... and the true ones pass.
  EXPECT_EQ(verify("accounts.mfa", "000 Authentication (implement multi-factor authentication)"),
            "");
  EXPECT_EQ(verify("tls.hsts", "000 TLS Configuration"), "");
  // Not the machine-readable form: an error, not a silent pass.
  EXPECT_NE(verify("ssh.protocol", "003 3.2"), "");
  EXPECT_NE(verify("ssh.protocol", "000 Access Control / SSH Hardening"), "");
  EXPECT_NE(verify("ssh.protocol", "003 §9.9"), "");
  EXPECT_EQ(verify("ssh.protocol", "CIS Debian Linux 12 §5.1"), "");
  for (auto &c : Catalogue::builtin().checks()) {
    if (c.id == "accounts.mfa" || c.id == "tls.hsts") {
      EXPECT_FALSE(c.cites_guide("003")) << c.id;
    }
  }
}

TEST(References, GuideProfilesCapExactlyTheChecksBeyondTheirGuide) {
  const Catalogue &cat = Catalogue::builtin();
  auto lms = apply_profile(cat, Profile{}, "lms-server");
  auto vpn = apply_profile(cat, Profile{}, "vpn-production");
  auto base = apply_profile(cat, Profile{}, "baseline");
  ASSERT_TRUE(lms && vpn && base);
  EXPECT_EQ(lms->guide, "003");
  EXPECT_EQ(vpn->guide, "000");
  EXPECT_EQ(base->guide, "");
  const CheckSpec *mfa = cat.find("accounts.mfa");
  const CheckSpec *x11 = cat.find("ssh.x11-forwarding");
  ASSERT_TRUE(mfa && x11);
  EXPECT_TRUE(beyond_guide(*lms, *mfa));   // 003 asks for no second factor
  EXPECT_FALSE(beyond_guide(*vpn, *mfa));  // 000 Authentication does
  EXPECT_FALSE(beyond_guide(*lms, *x11));  // 003 §3.2 X11Forwarding no
  EXPECT_TRUE(beyond_guide(*vpn, *x11));   // 000's sshd_config does not set it
  EXPECT_FALSE(beyond_guide(*base, *mfa)); // baseline: everything can fail
  // No check is disabled by a guide: beyond the guide is a warning, not silence.
  EXPECT_TRUE(lms->disabled.empty());
  EXPECT_TRUE(vpn->disabled.empty());
}
