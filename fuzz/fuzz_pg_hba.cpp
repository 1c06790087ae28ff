// libFuzzer: pg_hba.conf text as releases 15 and 16 read it, then first-match
// selection and the reachability analysis over the rules it yields: the
// indexed one for every rule, checked against the quadratic one on the first
// 64.

#include <bulwark/parse/pg_hba.hpp>

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  std::string text(reinterpret_cast<const char *>(data), size);
  for (int version : {15, 16}) {
    bulwark::pg::HbaOptions opts;
    opts.major_version = version;
    opts.ssl_enabled = version == 16;
    auto f = bulwark::pg::parse_pg_hba_text("/etc/postgresql/15/main/pg_hba.conf", text, opts);
    auto all = bulwark::pg::shadowing(f, opts);
    for (size_t i = 0; i < f.rules.size() && i < 64; i++) {
      if (!all.exhausted && bulwark::pg::shadowed_by(f, i, opts) != all.by[i])
        __builtin_trap();
      (void)bulwark::pg::address_is_any(f.rules[i].address);
      (void)bulwark::pg::address_is_local(f.rules[i].address);
    }
    bulwark::pg::HbaClient c;
    bulwark::pg::set_client_address(c, "::1");
    c.database = "postgres";
    c.user = "postgres";
    (void)bulwark::pg::first_match(f, c);
  }
  return 0;
}
