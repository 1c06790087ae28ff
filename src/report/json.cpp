#include <bulwark/report/report.hpp>

#include <array>
#include <cmath>
#include <nlohmann/json.hpp>

namespace bulwark::report {

namespace {

using nlohmann::ordered_json;

// The findings are written straight into the output, in exactly the layout
// of nlohmann's dump(2) (the test compares the two byte for byte on hostile
// reports): building a JSON tree of every finding first cost 4 s and 700 MB
// for 100,000 findings. The small parts (header, waivers, baseline) still go
// through nlohmann.

// Untrusted bytes from the target (file contents in "found") may be invalid
// UTF-8: nlohmann replaces them with U+FFFD rather than throwing. Strings that
// are well-formed UTF-8 (nearly all: titles and fixes carry "§" and "—") are
// escaped here exactly as nlohmann escapes them (the two control characters
// with short forms, the rest below 0x20 as \u00xx, DEL and every multi-byte
// character as they are); a string with a byte sequence that is not UTF-8 is
// handed to nlohmann whole, so both paths agree.
size_t json_utf8_length(const unsigned char *p, size_t left) {
  auto cont = [&](size_t k, unsigned char lo = 0x80, unsigned char hi = 0xbf) {
    return k < left && p[k] >= lo && p[k] <= hi;
  };
  unsigned char c = p[0];
  if (c >= 0xc2 && c <= 0xdf)
    return cont(1) ? 2 : 0;
  if (c == 0xe0)
    return cont(1, 0xa0) && cont(2) ? 3 : 0;
  if ((c >= 0xe1 && c <= 0xec) || c == 0xee || c == 0xef)
    return cont(1) && cont(2) ? 3 : 0;
  if (c == 0xed) // no UTF-16 surrogates
    return cont(1, 0x80, 0x9f) && cont(2) ? 3 : 0;
  if (c == 0xf0)
    return cont(1, 0x90) && cont(2) && cont(3) ? 4 : 0;
  if (c >= 0xf1 && c <= 0xf3)
    return cont(1) && cont(2) && cont(3) ? 4 : 0;
  if (c == 0xf4) // nothing above U+10FFFF
    return cont(1, 0x80, 0x8f) && cont(2) && cont(3) ? 4 : 0;
  return 0;
}

void put_string(std::string &out, std::string_view s) {
  const size_t start = out.size();
  out += '"';
  const auto *p = reinterpret_cast<const unsigned char *>(s.data());
  size_t i = 0;
  size_t run = 0; // start of the bytes copied as they are
  auto flush = [&] { out.append(s.data() + run, i - run); };
  // Bytes that need a look: controls, '"', '\\' and the start of anything
  // that is not ASCII; the rest (nearly everything) is copied in runs.
  static constexpr auto k_special = [] {
    std::array<bool, 256> t{};
    for (int c = 0; c < 256; ++c)
      t[static_cast<size_t>(c)] = c < 0x20 || c == '"' || c == '\\' || c >= 0x80;
    return t;
  }();
  while (i < s.size()) {
    while (i < s.size() && !k_special[p[i]])
      ++i;
    if (i == s.size())
      break;
    unsigned char c = p[i];
    if (c >= 0x80) {
      size_t n = json_utf8_length(p + i, s.size() - i);
      if (n == 0) {
        out.resize(start);
        out += ordered_json(std::string(s))
                   .dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
        return;
      }
      i += n;
      continue;
    }
    flush();
    switch (c) {
    case '"': out += "\\\""; break;
    case '\\': out += "\\\\"; break;
    case '\b': out += "\\b"; break;
    case '\f': out += "\\f"; break;
    case '\n': out += "\\n"; break;
    case '\r': out += "\\r"; break;
    case '\t': out += "\\t"; break;
    default: {
      static const char hex[] = "0123456789abcdef";
      out += "\\u00";
      out += hex[c >> 4];
      out += hex[c & 0xf];
    }
    }
    run = ++i;
  }
  flush();
  out += '"';
}

// A value nlohmann pretty-prints, placed at `indent` spaces: its own lines
// after the first move right by the same amount (strings never hold a raw
// newline once dumped, so every newline is structural).
void put_tree(std::string &out, const ordered_json &v, int indent) {
  std::string d = v.dump(2, ' ', false, nlohmann::json::error_handler_t::replace);
  std::string pad(static_cast<size_t>(indent), ' ');
  for (char c : d) {
    out += c;
    if (c == '\n')
      out += pad;
  }
}

void put_key(std::string &out, int indent, std::string_view key) {
  out.append(static_cast<size_t>(indent), ' ');
  out += '"';
  out += key;
  out += "\": ";
}

void put_finding(std::string &out, const Finding &f) {
  // At depth 2: the object at 4 spaces, its members at 6.
  out += "    {\n";
  put_key(out, 6, "check");
  put_string(out, f.check);
  out += ",\n";
  put_key(out, 6, "title");
  put_string(out, f.title.str());
  out += ",\n";
  put_key(out, 6, "severity");
  put_string(out, to_string(f.severity));
  out += ",\n";
  put_key(out, 6, "status");
  put_string(out, to_string(f.status));
  out += ",\n";
  put_key(out, 6, "subject");
  put_string(out, f.subject);
  out += ",\n";
  put_key(out, 6, "message");
  put_string(out, f.message);
  out += ",\n";
  put_key(out, 6, "evidence");
  if (f.evidence.empty()) {
    out += "[]";
  } else {
    out += "[\n";
    for (size_t i = 0; i < f.evidence.size(); ++i) {
      const Evidence &e = f.evidence[i];
      out += "        {\n";
      put_key(out, 10, "path");
      put_string(out, e.path);
      out += ",\n";
      put_key(out, 10, "line");
      out += std::to_string(e.line);
      out += ",\n";
      put_key(out, 10, "found");
      put_string(out, e.found);
      out += ",\n";
      put_key(out, 10, "expected");
      put_string(out, e.expected);
      out += ",\n";
      put_key(out, 10, "context");
      put_string(out, e.context);
      out += "\n        }";
      out += i + 1 < f.evidence.size() ? ",\n" : "\n";
    }
    out += "      ]";
  }
  out += ",\n";
  put_key(out, 6, "fix");
  put_string(out, f.fix.str());
  out += ",\n";
  put_key(out, 6, "references");
  if (f.references.empty()) {
    out += "[]";
  } else {
    out += "[\n";
    for (size_t i = 0; i < f.references.size(); ++i) {
      out.append(8, ' ');
      put_string(out, f.references[i]);
      out += i + 1 < f.references.size() ? ",\n" : "\n";
    }
    out += "      ]";
  }
  out += ",\n";
  put_key(out, 6, "fingerprint");
  put_string(out, fingerprint(f));
  if (!f.beyond_guide.empty()) {
    // Only under a guide's profile, for the checks that guide does not ask for.
    out += ",\n";
    put_key(out, 6, "beyond_guide");
    put_string(out, f.beyond_guide);
  }
  if (f.waiver) {
    out += ",\n";
    put_key(out, 6, "waiver");
    put_tree(out,
             ordered_json{{"justification", f.waiver->justification},
                          {"owner", f.waiver->owner},
                          {"expires", f.waiver->expires},
                          {"source", f.waiver->source},
                          {"expired", f.waiver->expired},
                          {"original_status", to_string(f.waiver->original)}},
             6);
  }
  out += "\n    }";
}

} // namespace

void render_json(const AuditReport &r, const Sink &sink) {
  // Top-level members in order; each value is a small tree, except findings.
  std::vector<std::pair<std::string, ordered_json>> head;
  head.emplace_back("schema", "bulwark.audit/v1");
  head.emplace_back("tool", ordered_json{{"name", "bulwark"}, {"version", BULWARK_VERSION}});
  head.emplace_back("target",
                    ordered_json{{"root", r.root}, {"live", r.live}, {"hostname", r.hostname}});
  head.emplace_back("profiles", r.profiles);
  head.emplace_back("duration_ms", std::round(r.duration_ms * 10) / 10);
  head.emplace_back("score", r.score);
  ordered_json summary = ordered_json::object();
  for (Status s : {Status::pass, Status::fail, Status::warn, Status::not_applicable, Status::error,
                   Status::waived}) {
    auto it = r.summary.find(s);
    summary[std::string(to_string(s))] = it == r.summary.end() ? 0 : it->second;
  }
  head.emplace_back("summary", std::move(summary));

  std::vector<std::pair<std::string, ordered_json>> tail;
  if (r.waivers) {
    ordered_json ws = ordered_json::array();
    for (auto &u : *r.waivers)
      ws.push_back(
          {{"check", u.waiver.check},
           {"subject", u.waiver.subject ? ordered_json(*u.waiver.subject) : ordered_json()},
           {"justification", u.waiver.justification},
           {"owner", u.waiver.owner},
           {"expires", u.waiver.expires},
           {"source", u.waiver.source},
           {"state", to_string(u.state)},
           {"matched", u.matched}});
    tail.emplace_back("waivers", std::move(ws));
  }
  if (r.baseline) {
    auto list = [](const std::vector<BaselineEntry> &es) {
      ordered_json a = ordered_json::array();
      for (auto &e : es)
        a.push_back({{"fingerprint", e.fingerprint},
                     {"check", e.check},
                     {"subject", e.subject},
                     {"path", e.path},
                     {"severity", e.severity},
                     {"status", e.status},
                     {"message", e.message}});
      return a;
    };
    tail.emplace_back("baseline", ordered_json{{"file", r.baseline->file},
                                               {"counts",
                                                {{"new", r.baseline->added.size()},
                                                 {"fixed", r.baseline->fixed.size()},
                                                 {"remaining", r.baseline->remaining.size()}}},
                                               {"new", list(r.baseline->added)},
                                               {"fixed", list(r.baseline->fixed)},
                                               {"remaining", list(r.baseline->remaining)}});
  }

  // Handed on in pieces: 100,000 findings are 85 MB of JSON, and holding
  // them whole cost a fifth of a large audit in page faults alone.
  constexpr size_t k_piece = 1 << 20;
  std::string out;
  out.reserve(k_piece + 64 * 1024);
  auto flush = [&](bool always) {
    if (always || out.size() >= k_piece) {
      sink(out);
      out.clear();
    }
  };
  out += "{\n";
  for (auto &[key, value] : head) {
    put_key(out, 2, key);
    put_tree(out, value, 2);
    out += ",\n";
  }
  put_key(out, 2, "findings");
  if (r.findings.empty()) {
    out += "[]";
  } else {
    out += "[\n";
    for (size_t i = 0; i < r.findings.size(); ++i) {
      put_finding(out, r.findings[i]);
      out += i + 1 < r.findings.size() ? ",\n" : "\n";
      flush(false);
    }
    out += "  ]";
  }
  for (auto &[key, value] : tail) {
    out += ",\n";
    put_key(out, 2, key);
    put_tree(out, value, 2);
  }
  out += "\n}\n";
  flush(true);
}

std::string render_json(const AuditReport &r) {
  std::string all;
  render_json(r, [&](std::string_view piece) { all += piece; });
  return all;
}

} // namespace bulwark::report
