// Cipher strings expanded by OpenSSL itself, judged against Mozilla's
// guideline shipped as data (see include/bulwark/parse/tls_policy.hpp).

#include <bulwark/core/text.hpp>
#include <bulwark/core/yaml.hpp>
#include <bulwark/parse/tls_policy.hpp>

#include <openssl/err.h>
#include <openssl/objects.h>
#include <openssl/ssl.h>

#include <algorithm>
#include <map>
#include <memory>
#include <mutex>

namespace bulwark::embedded {
std::string_view tls_mozilla_guidelines();
}

namespace bulwark::tls {

namespace {

struct TlsPolicyCtxFree {
  void operator()(SSL_CTX *c) const { SSL_CTX_free(c); }
};
using Ctx = std::unique_ptr<SSL_CTX, TlsPolicyCtxFree>;

std::string openssl_error() {
  unsigned long e = ERR_get_error();
  ERR_clear_error();
  if (e == 0)
    return "rejected by OpenSSL";
  char buf[256];
  ERR_error_string_n(e, buf, sizeof buf);
  return buf;
}

std::string nid_name(int nid) {
  if (nid == NID_undef)
    return "None";
  const char *s = OBJ_nid2sn(nid);
  return s ? s : "?";
}

CipherInfo info(const SSL_CIPHER *c) {
  CipherInfo i;
  i.name = SSL_CIPHER_get_name(c);
  const char *std_name = SSL_CIPHER_standard_name(c);
  i.iana = std_name ? std_name : i.name;
  i.tls13 = SSL_CIPHER_get_kx_nid(c) == NID_kx_any;
  int kx = SSL_CIPHER_get_kx_nid(c);
  int auth = SSL_CIPHER_get_auth_nid(c);
  int enc = SSL_CIPHER_get_cipher_nid(c);
  int md = SSL_CIPHER_get_digest_nid(c);
  i.kx = nid_name(kx);
  i.auth = nid_name(auth);
  i.enc = nid_name(enc);
  i.mac = SSL_CIPHER_is_aead(c) ? "AEAD" : nid_name(md);
  i.aead = SSL_CIPHER_is_aead(c) == 1;
  i.forward_secret = i.tls13 || kx == NID_kx_ecdhe || kx == NID_kx_dhe || kx == NID_kx_ecdhe_psk ||
                     kx == NID_kx_dhe_psk;
  std::string upper = i.name;
  if (enc == NID_undef)
    i.broken = "NULL encryption";
  else if (auth == NID_auth_null)
    i.broken = "anonymous (no authentication)";
  else if (upper.find("EXP") == 0 || upper.find("EXPORT") != std::string::npos)
    i.broken = "EXPORT";
  else if (enc == NID_rc4 || enc == NID_rc4_40)
    i.broken = "RC4";
  else if (enc == NID_des_ede3_cbc)
    i.broken = "3DES";
  else if (enc == NID_des_cbc)
    i.broken = "DES";
  else if (md == NID_md5)
    i.broken = "MD5";
  return i;
}

Result<std::vector<CipherInfo>> list(std::string_view ciphers, std::string_view suites,
                                     bool want13) {
  ERR_clear_error();
  Ctx ctx(SSL_CTX_new(TLS_server_method()));
  if (!ctx)
    return Error{"cannot create an OpenSSL context: " + openssl_error()};
  if (!want13) {
    if (SSL_CTX_set_ciphersuites(ctx.get(), "") != 1)
      return Error{"OpenSSL: " + openssl_error()};
    std::string s(ciphers);
    if (s.find('\0') != std::string::npos || SSL_CTX_set_cipher_list(ctx.get(), s.c_str()) != 1)
      return Error{"OpenSSL selects no cipher from \"" + text::printable(ciphers) +
                   "\" (the server would refuse to start): " + openssl_error()};
  } else {
    if (SSL_CTX_set_cipher_list(ctx.get(), "") != 1)
      ERR_clear_error();
    std::string s(suites);
    if (!suites.empty() &&
        (s.find('\0') != std::string::npos || SSL_CTX_set_ciphersuites(ctx.get(), s.c_str()) != 1))
      return Error{"OpenSSL rejects the TLS 1.3 suites \"" + text::printable(suites) +
                   "\": " + openssl_error()};
  }
  // What a server built on this context can negotiate: SSL_get1_supported_ciphers
  // applies the security level (an @SECLEVEL in the string, or the library's
  // default) and drops PSK and SRP suites, which need credentials no web
  // server configures; `openssl ciphers -s` prints the same list.
  std::unique_ptr<SSL, void (*)(SSL *)> ssl(SSL_new(ctx.get()), SSL_free);
  if (!ssl)
    return Error{"OpenSSL: " + openssl_error()};
  std::vector<CipherInfo> out;
  STACK_OF(SSL_CIPHER) *sk = SSL_get1_supported_ciphers(ssl.get());
  for (int i = 0; sk && i < sk_SSL_CIPHER_num(sk); ++i) {
    CipherInfo c = info(sk_SSL_CIPHER_value(sk, i));
    if (c.tls13 == want13)
      out.push_back(std::move(c));
  }
  sk_SSL_CIPHER_free(sk);
  return out;
}

std::vector<std::string> strings(const yaml::Node *n) {
  std::vector<std::string> out;
  if (n && n->is_sequence())
    for (auto &i : n->items)
      if (i.is_scalar())
        out.push_back(i.scalar);
  return out;
}

} // namespace

int security_level(std::string_view cipher_string) {
  int level = -1;
  for (auto &part : text::split(cipher_string, ':')) {
    std::string_view p = text::trim(part);
    if (text::starts_with(p, "@SECLEVEL=") && p.size() == 11 && p[10] >= '0' && p[10] <= '5')
      level = p[10] - '0';
  }
  if (level >= 0)
    return level;
  Ctx ctx(SSL_CTX_new(TLS_server_method()));
  return ctx ? SSL_CTX_get_security_level(ctx.get()) : 1;
}

std::vector<std::string> effective_versions(const std::vector<std::string> &configured, int level) {
  std::vector<std::string> out;
  for (auto &v : configured) {
    bool old = v == "SSLv2" || v == "SSLv3" || v == "TLSv1" || v == "TLSv1.1";
    if (v == "SSLv2" || (old && level >= 1))
      continue;
    out.push_back(v);
  }
  return out;
}

Result<std::vector<CipherInfo>> expand_cipher_string(std::string_view s) {
  return list(s, "", false);
}

Result<std::vector<CipherInfo>> expand_ciphersuites(std::string_view s) {
  return list("", s, true);
}

CipherInfo describe_cipher(std::string_view name) {
  static std::once_flag once;
  static std::map<std::string, CipherInfo> by_name;
  std::call_once(once, [] {
    for (bool v13 : {false, true}) {
      auto all = v13 ? list("", "", true) : list("ALL:COMPLEMENTOFALL:@SECLEVEL=0", "", false);
      if (!all)
        continue;
      for (auto &c : *all) {
        by_name[c.name] = c;
        by_name[c.iana] = c;
      }
    }
  });
  auto it = by_name.find(std::string(name));
  if (it != by_name.end())
    return it->second;
  CipherInfo unknown;
  unknown.name = unknown.iana = std::string(name);
  unknown.broken = "unknown to OpenSSL";
  return unknown;
}

Result<std::vector<Guideline>> parse_guidelines(std::string_view text) {
  auto doc = yaml::parse(text, "mozilla-guidelines.yaml");
  if (!doc)
    return doc.error();
  const yaml::Node *confs = doc->find("configurations");
  if (!confs || !confs->is_mapping())
    return Error{"mozilla-guidelines.yaml: no configurations mapping"};
  std::vector<Guideline> out;
  for (auto &[level, n] : confs->entries) {
    Guideline g;
    g.level = level;
    if (auto *v = doc->find("version"); v && v->is_scalar())
      g.version = v->scalar;
    if (auto *s = doc->find("source"); s && s->is_scalar())
      g.source = s->scalar;
    g.protocols = strings(n.find("protocols"));
    g.ciphers = strings(n.find("ciphers"));
    g.ciphersuites = strings(n.find("ciphersuites"));
    if (auto *k = n.find("rsa_key_size"); k && k->is_scalar())
      g.rsa_key_size = std::atoi(k->scalar.c_str());
    if (auto *k = n.find("ecdh_param_size"); k && k->is_scalar())
      g.ecdh_param_size = std::atoi(k->scalar.c_str());
    if (g.version.empty() || g.protocols.empty() || g.ciphersuites.empty())
      return Error{"mozilla-guidelines.yaml: configuration " + level + " is incomplete", "",
                   n.line};
    out.push_back(std::move(g));
  }
  return out;
}

const Guideline &mozilla(std::string_view level) {
  static const std::vector<Guideline> all = [] {
    auto r = parse_guidelines(embedded::tls_mozilla_guidelines());
    if (!r)
      throw FatalError("embedded Mozilla guideline: " + r.error().to_string(), 3);
    return std::move(r).value();
  }();
  for (auto &g : all)
    if (g.level == level)
      return g;
  return all.front();
}

std::string weakness(const CipherInfo &c, const Guideline &g) {
  if (!c.broken.empty())
    return c.broken;
  const auto &allowed = c.tls13 ? g.ciphersuites : g.ciphers;
  if (std::find(allowed.begin(), allowed.end(), c.iana) != allowed.end())
    return "";
  if (!c.forward_secret)
    return "no forward secrecy";
  if (!c.aead)
    return "not AEAD (CBC with a MAC)";
  return "outside Mozilla " + g.level + " " + g.version;
}

bool weakness_is_advice(const CipherInfo &c, const Guideline &g) {
  std::string w = weakness(c, g);
  return !w.empty() && text::starts_with(w, "outside Mozilla");
}

} // namespace bulwark::tls
