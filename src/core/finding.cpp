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

std::optional<Severity> parse_severity(std::string_view s) {
  for (Severity v :
       {Severity::info, Severity::low, Severity::medium, Severity::high, Severity::critical})
    if (to_string(v) == s)
      return v;
  return std::nullopt;
}

std::string fingerprint(std::string_view check, std::string_view subject, std::string_view path) {
  // NUL separators: no two different triples hash the same bytes.
  std::string data;
  data.append(check).push_back('\0');
  data.append(subject).push_back('\0');
  data.append(path);
  unsigned char md[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  if (EVP_Digest(data.data(), data.size(), md, &len, EVP_sha256(), nullptr) != 1)
    throw std::runtime_error("SHA-256 is unavailable");
  static constexpr char k_hex[] = "0123456789abcdef";
  std::string out;
  for (unsigned int i = 0; i < 16 && i < len; ++i) {
    out.push_back(k_hex[md[i] >> 4]);
    out.push_back(k_hex[md[i] & 15]);
  }
  return out;
}

std::string fingerprint(const Finding &f) {
  return fingerprint(f.check, f.subject, f.evidence.empty() ? "" : f.evidence.front().path);
}

} // namespace bulwark
