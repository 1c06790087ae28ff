#include <bulwark/core/finding.hpp>

#include <openssl/evp.h>
#include <stdexcept>

namespace bulwark {

std::string_view to_string(Severity s) {
  switch (s) {
  case Severity::info: return "info";
  case Severity::low: return "low";
  case Severity::medium: return "medium";
  case Severity::high: return "high";
  case Severity::critical: return "critical";
  }
  return "info";
}

std::string_view to_string(Status s) {
  switch (s) {
  case Status::pass: return "pass";
  case Status::fail: return "fail";
  case Status::warn: return "warn";
  case Status::not_applicable: return "not_applicable";
  case Status::error: return "error";
  case Status::waived: return "waived";
  }
  return "error";
}

const std::string &SharedText::empty_string() {
  static const std::string empty;
  return empty;
}

const std::vector<std::string> &SharedList::empty_list() {
  static const std::vector<std::string> empty;
  return empty;
}

std::optional<Severity> parse_severity(std::string_view s) {
  for (Severity v :
       {Severity::info, Severity::low, Severity::medium, Severity::high, Severity::critical})
    if (to_string(v) == s)
      return v;
  return std::nullopt;
}

namespace {

// OpenSSL 3 looks the algorithm up in its provider table on every
// EVP_Digest(EVP_sha256()) call (a lock and a hash lookup): with one
// fingerprint per finding that was a tenth of a large audit. The digest is
// fetched once and each thread reuses one context.
const EVP_MD *fingerprint_sha256() {
  static EVP_MD *md = [] {
    EVP_MD *m = EVP_MD_fetch(nullptr, "SHA256", nullptr);
    if (m == nullptr)
      throw std::runtime_error("SHA-256 is unavailable");
    return m;
  }();
  return md;
}

struct DigestCtx {
  EVP_MD_CTX *ctx = EVP_MD_CTX_new();
  ~DigestCtx() { EVP_MD_CTX_free(ctx); }
};

} // namespace

std::string fingerprint(std::string_view check, std::string_view subject, std::string_view path) {
  thread_local DigestCtx d;
  const EVP_MD *md_type = fingerprint_sha256();
  // NUL separators: no two different triples hash the same bytes.
  static constexpr char k_nul = '\0';
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (d.ctx == nullptr || EVP_DigestInit_ex2(d.ctx, md_type, nullptr) != 1 ||
      EVP_DigestUpdate(d.ctx, check.data(), check.size()) != 1 ||
      EVP_DigestUpdate(d.ctx, &k_nul, 1) != 1 ||
      EVP_DigestUpdate(d.ctx, subject.data(), subject.size()) != 1 ||
      EVP_DigestUpdate(d.ctx, &k_nul, 1) != 1 ||
      EVP_DigestUpdate(d.ctx, path.data(), path.size()) != 1 ||
      EVP_DigestFinal_ex(d.ctx, md, &len) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out(32, '0');
  for (unsigned int i = 0; i < 16 && i < len; ++i) {
    out[2 * i] = k_hex[md[i] >> 4];
    out[2 * i + 1] = k_hex[md[i] & 15];
  }
  return out;
}

void cap_evidence(std::vector<Evidence> &ev, size_t total, size_t max) {
  if (ev.size() > max)
    ev.resize(max);
  if (total > ev.size())
    ev.push_back(
        Evidence{"", 0, "and " + std::to_string(total - ev.size()) + " more", "", "not listed"});
}

std::string fingerprint(const Finding &f) {
  return fingerprint(f.check, f.subject, f.evidence.empty() ? "" : f.evidence.front().path);
}

} // namespace bulwark
