#pragma once
// Shared inputs of the report tests: a root with failures, and a report
// whose every string carries hostile bytes.

#include "../support.hpp"

#include <bulwark/checks/audit.hpp>

#include <string>

namespace bulwark::test {

inline std::string slurp(const std::string &p) {
  std::ifstream in(p, std::ios::binary);
  return bulwark::test::read_all(in);
}

// Every byte 0x00-0xff, invalid UTF-8, U+FFFE, and markup of each format.
inline std::string hostile() {
  std::string s;
  for (int c = 0; c < 256; ++c)
    s.push_back(static_cast<char>(c));
  s += "\xef\xbf\xbe \xc0\x80 \xed\xa0\x80 ]]> <script>alert(1)</script> <img src=x "
       "onerror=alert(2)> [link](https://evil.example/) ![i](https://evil.example/i.png) "
       "https://evil.example/auto www.evil.example <https://evil.example/> *em* | cell | "
       "\n# heading\n</details></pre>";
  return s;
}

// A report built by hand: one finding per status, all text hostile.
inline AuditReport hostile_report() {
  AuditReport r;
  r.root = "/srv/root " + hostile();
  r.hostname = hostile();
  r.profiles = {"lms-server", hostile()};
  r.score = 42;
  int i = 0;
  for (Status s : {Status::fail, Status::warn, Status::pass, Status::not_applicable, Status::error,
                   Status::waived}) {
    Finding f;
    f.check = std::string("ssh.permit-root-login");
    f.title = "SSH does not accept root logins";
    f.severity = Severity::high;
    f.status = s;
    f.subject = "subject" + std::to_string(i++) + hostile();
    f.message = "message " + hostile();
    f.evidence = {Evidence{"/etc/" + hostile(), 3, hostile(), hostile(), hostile()}};
    f.fix = "fix " + hostile();
    f.references = {"003 §3.2", hostile()};
    if (s == Status::waived)
      f.waiver = std::make_shared<const WaiverNote>(
          WaiverNote{hostile(), hostile(), "2999-01-01", "w.yaml:3", false, Status::fail});
    r.findings.push_back(f);
    ++r.summary[s];
  }
  return r;
}

} // namespace bulwark::test
