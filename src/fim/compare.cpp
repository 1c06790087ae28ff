// Comparison and reports of bulwark fim (see compare.hpp).

#include <bulwark/core/text.hpp>
#include <bulwark/core/walk.hpp>
#include <bulwark/fim/compare.hpp>

#include <algorithm>
#include <bit>
#include <fmt/format.h>
#include <nlohmann/json.hpp>

namespace bulwark::fim {

namespace {

using nlohmann::ordered_json;

constexpr AttrSet k_compared = k_ftype | k_perm | k_inode | k_nlink | k_uid | k_gid | k_size |
                               k_blocks | k_mtime | k_ctime | k_link | k_hashes | k_extended;

bool is_acl(std::string_view n) {
  return n == "system.posix_acl_access" || n == "system.posix_acl_default";
}
bool is_xattr(std::string_view n) {
  return n.substr(0, 5) == "user." || n.substr(0, 9) == "security." || n.substr(0, 8) == "trusted.";
}

std::vector<std::pair<std::string, std::string>> xattr_view(const Record &r, Attr a) {
  std::vector<std::pair<std::string, std::string>> out;
  for (auto &x : r.xattrs) {
    bool keep = a == k_acl       ? is_acl(x.first)
                : a == k_selinux ? x.first == "security.selinux"
                : a == k_caps    ? x.first == "security.capability"
                                 : is_xattr(x.first);
    if (keep)
      out.push_back(x);
  }
  return out;
}

const std::string *digest(const Record &r, Attr a) {
  for (auto &h : r.hashes)
    if (h.first == a)
      return &h.second;
  return nullptr;
}

std::vector<Attr> changed_attributes(const Record &o, const Record &n) {
  std::vector<Attr> out;
  AttrSet mask = o.attrs & n.attrs & k_compared;
  bool growing = (o.attrs & n.attrs & k_growing) != 0;
  bool grew = n.size > o.size;
  if (o.type != n.type) {
    out.push_back(k_ftype); // always: a file that became a directory changed
  }
  for (Attr a : attr_list(mask)) {
    bool differ = false;
    switch (a) {
    case k_ftype: continue; // above
    case k_perm: differ = o.mode != n.mode; break;
    case k_inode: differ = o.ino != n.ino; break;
    case k_nlink: differ = o.nlink != n.nlink; break;
    case k_uid: differ = o.uid != n.uid; break;
    case k_gid: differ = o.gid != n.gid; break;
    case k_size: differ = o.size != n.size && !(growing && grew); break;
    case k_blocks: differ = o.blocks != n.blocks && !(growing && n.blocks > o.blocks); break;
    case k_mtime: differ = o.mtime_s != n.mtime_s && !(growing && n.mtime_s > o.mtime_s); break;
    case k_ctime: differ = o.ctime_s != n.ctime_s && !(growing && n.ctime_s > o.ctime_s); break;
    case k_link:
      differ = o.type == FileType::symlink && n.type == FileType::symlink && o.link != n.link;
      break;
    case k_acl:
    case k_xattrs:
    case k_selinux:
    case k_caps: differ = xattr_view(o, a) != xattr_view(n, a); break;
    default:
      if (a & k_hashes) {
        const std::string *x = digest(o, a), *y = digest(n, a);
        // A digest that one side could not compute is an error of that
        // scan (reported as such), not a change.
        differ = x != nullptr && y != nullptr && *x != *y && !(growing && grew);
      }
      break;
    }
    if (differ)
      out.push_back(a);
  }
  return out;
}

std::string xattr_text(const std::vector<std::pair<std::string, std::string>> &v) {
  std::string s;
  for (auto &[k, val] : v) {
    if (!s.empty())
      s += ", ";
    s += display_path(k) + "=0x" + hex(val);
  }
  return s.empty() ? "(none)" : s;
}

ordered_json attr_value_json(const Record &r, Attr a) {
  switch (a) {
  case k_inode: return r.ino;
  case k_nlink: return r.nlink;
  case k_uid: return r.uid;
  case k_gid: return r.gid;
  case k_size: return r.size;
  case k_blocks: return r.blocks;
  case k_mtime: return text::iso_time_utc(r.mtime_s);
  case k_ctime: return text::iso_time_utc(r.ctime_s);
  case k_acl:
  case k_xattrs:
  case k_selinux:
  case k_caps: {
    ordered_json o = ordered_json::object();
    for (auto &[k, v] : xattr_view(r, a))
      o[display_path(k)] = hex(v);
    return o;
  }
  default: return value_text(r, a);
  }
}

ordered_json record_json(const Record &r, const std::vector<Attr> &attrs) {
  ordered_json o = ordered_json::object();
  o["type"] = type_name(r.type);
  for (Attr a : attrs)
    o[std::string(attr_name(a))] = attr_value_json(r, a);
  return o;
}

std::vector<Attr> summary_attrs(const Record &r) {
  std::vector<Attr> out;
  for (Attr a : attr_list(r.attrs & k_compared & ~k_ftype))
    if (a != k_link || r.type == FileType::symlink)
      out.push_back(a);
  return out;
}

const char *change_kind_name(Change::Kind k) {
  switch (k) {
  case Change::Kind::added: return "added";
  case Change::Kind::removed: return "removed";
  case Change::Kind::changed: return "changed";
  }
  return "";
}

const Record &record_of(const Change &c) {
  return c.new_record ? *c.new_record : *c.old_record;
}

std::string attr_names(const std::vector<Attr> &v) {
  std::string s;
  for (Attr a : v)
    s += (s.empty() ? "" : ", ") + std::string(attr_name(a));
  return s;
}

} // namespace

std::string value_text(const Record &r, Attr a) {
  switch (a) {
  case k_ftype: return std::string(type_name(r.type));
  case k_perm: return mode_string(r.mode);
  case k_inode: return std::to_string(r.ino);
  case k_nlink: return std::to_string(r.nlink);
  case k_uid: return std::to_string(r.uid);
  case k_gid: return std::to_string(r.gid);
  case k_size: return std::to_string(r.size);
  case k_blocks: return std::to_string(r.blocks);
  case k_mtime: return text::iso_time_utc(r.mtime_s);
  case k_ctime: return text::iso_time_utc(r.ctime_s);
  case k_link: return display_path(r.link);
  case k_acl:
  case k_xattrs:
  case k_selinux:
  case k_caps: return xattr_text(xattr_view(r, a));
  default:
    if (const std::string *d = digest(r, a))
      return hex(*d);
    return "(none)";
  }
}

Comparison compare(const std::vector<Record> &old_records, const std::vector<Record> &new_records) {
  Comparison c;
  c.entries = new_records.size();
  size_t i = 0, j = 0;
  while (i < old_records.size() || j < new_records.size()) {
    int order = i == old_records.size()                     ? 1
                : j == new_records.size()                   ? -1
                : old_records[i].path < new_records[j].path ? -1
                : new_records[j].path < old_records[i].path ? 1
                                                            : 0;
    if (order < 0) {
      const Record &o = old_records[i++];
      if (!(o.attrs & k_allow_removed))
        c.changes.push_back(Change{Change::Kind::removed, &o, nullptr, {}});
    } else if (order > 0) {
      const Record &n = new_records[j++];
      if (!(n.attrs & k_allow_new))
        c.changes.push_back(Change{Change::Kind::added, nullptr, &n, {}});
    } else {
      const Record &o = old_records[i++];
      const Record &n = new_records[j++];
      auto attrs = changed_attributes(o, n);
      if (!attrs.empty())
        c.changes.push_back(Change{Change::Kind::changed, &o, &n, std::move(attrs)});
    }
  }
  return c;
}

std::string render_text(const Comparison &c, const ReportContext &ctx) {
  std::string out;
  size_t added = 0, removed = 0, changed = 0;
  for (auto &ch : c.changes) {
    const Record &r = record_of(ch);
    out += fmt::format("{:<8} {} {}", change_kind_name(ch.kind), type_name(r.type),
                       display_path(r.path));
    if (ch.kind == Change::Kind::changed) {
      ++changed;
      out += "  [" + attr_names(ch.attributes) + "]\n";
      for (Attr a : ch.attributes)
        out += fmt::format("    {:<10} {} -> {}\n", attr_name(a), value_text(*ch.old_record, a),
                           value_text(*ch.new_record, a));
    } else {
      ++(ch.kind == Change::Kind::added ? added : removed);
      out += "\n";
    }
  }
  for (auto &e : ctx.errors)
    out += "error    " + display_path(e.path) + ": " + e.message + "\n";
  for (auto &w : ctx.warnings)
    out += "warning  " + w + "\n";
  out += fmt::format("bulwark fim: {} entries checked{}; {} added, {} removed, {} changed, {} "
                     "not verifiable; baseline {} ({}, {})\n",
                     c.entries, ctx.fast ? " (--fast)" : "", added, removed, changed,
                     ctx.errors.size(), display_path(ctx.database),
                     text::iso_time_utc(ctx.baseline_created),
                     ctx.baseline_signed ? "signature verified" : "NOT signature-verified");
  return out;
}

std::string render_json(const Comparison &c, const ReportContext &ctx) {
  ordered_json j;
  j["schema"] = "bulwark.fim/v1";
  j["tool"] = {{"name", "bulwark"}, {"version", BULWARK_VERSION}};
  j["root"] = display_path(ctx.root);
  j["database"] = {{"path", display_path(ctx.database)},
                   {"created", text::iso_time_utc(ctx.baseline_created)},
                   {"signature_verified", ctx.baseline_signed}};
  j["fast"] = ctx.fast;
  j["duration_ms"] = ctx.duration_ms;
  size_t added = 0, removed = 0, changed = 0;
  ordered_json changes = ordered_json::array();
  for (auto &ch : c.changes) {
    const Record &r = record_of(ch);
    ordered_json o;
    o["path"] = display_path(r.path);
    o["change"] = change_kind_name(ch.kind);
    o["type"] = type_name(r.type);
    switch (ch.kind) {
    case Change::Kind::added:
      ++added;
      o["attributes"] = ordered_json::array();
      o["old"] = nullptr;
      o["new"] = record_json(r, summary_attrs(r));
      break;
    case Change::Kind::removed:
      ++removed;
      o["attributes"] = ordered_json::array();
      o["old"] = record_json(r, summary_attrs(r));
      o["new"] = nullptr;
      break;
    case Change::Kind::changed: {
      ++changed;
      ordered_json names = ordered_json::array();
      for (Attr a : ch.attributes)
        names.push_back(attr_name(a));
      o["attributes"] = names;
      o["old"] = record_json(*ch.old_record, ch.attributes);
      o["new"] = record_json(*ch.new_record, ch.attributes);
      break;
    }
    }
    changes.push_back(o);
  }
  j["summary"] = {{"entries", c.entries},
                  {"added", added},
                  {"removed", removed},
                  {"changed", changed},
                  {"errors", ctx.errors.size()}};
  j["changes"] = changes;
  ordered_json errors = ordered_json::array();
  for (auto &e : ctx.errors)
    errors.push_back({{"path", display_path(e.path)}, {"message", e.message}});
  j["errors"] = errors;
  j["warnings"] = ctx.warnings;
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string render_sarif(const Comparison &c, const ReportContext &ctx) {
  ordered_json rules = ordered_json::array();
  const char *ids[] = {"fim.added", "fim.removed", "fim.changed", "fim.unverifiable"};
  const char *texts[] = {"An entry appeared since the baseline.",
                         "An entry disappeared since the baseline.",
                         "An entry's attributes or content changed since the baseline.",
                         "An entry could not be read, or changed while it was read."};
  for (int i = 0; i < 4; ++i)
    rules.push_back({{"id", ids[i]},
                     {"shortDescription", {{"text", texts[i]}}},
                     {"properties", {{"tags", {"security", "file-integrity"}}}}});
  auto location = [](const std::string &path) {
    std::string p = path.empty() || path == "/" ? "." : path.substr(1);
    return ordered_json::array(
        {{{"physicalLocation",
           {{"artifactLocation",
             {{"uri", text::percent_encode_path(p)}, {"uriBaseId", "ROOT"}}}}}}});
  };
  ordered_json results = ordered_json::array();
  for (auto &ch : c.changes) {
    const Record &r = record_of(ch);
    int rule = ch.kind == Change::Kind::added ? 0 : ch.kind == Change::Kind::removed ? 1 : 2;
    std::string msg = std::string(type_name(r.type)) + " " + display_path(r.path) + " " +
                      change_kind_name(ch.kind);
    if (ch.kind == Change::Kind::changed)
      msg += ": " + attr_names(ch.attributes);
    results.push_back({{"ruleId", ids[rule]},
                       {"ruleIndex", rule},
                       {"level", "error"},
                       {"message", {{"text", msg + "."}}},
                       {"locations", location(r.path)}});
  }
  for (auto &e : ctx.errors)
    results.push_back({{"ruleId", ids[3]},
                       {"ruleIndex", 3},
                       {"level", "error"},
                       {"message", {{"text", display_path(e.path) + ": " + e.message + "."}}},
                       {"locations", location(e.path)}});
  std::string root = ctx.root.empty() ? "/" : ctx.root;
  if (root.back() != '/')
    root += '/';
  ordered_json run;
  run["tool"] = {{"driver",
                  {{"name", "bulwark"},
                   {"version", BULWARK_VERSION},
                   {"semanticVersion", BULWARK_VERSION},
                   {"informationUri", BULWARK_HOMEPAGE},
                   {"rules", rules}}}};
  run["originalUriBaseIds"] = {
      {"ROOT",
       {{"uri", "file://" + text::percent_encode_path(root)},
        {"description", {{"text", "The root of the checked filesystem."}}}}}};
  run["invocations"] = ordered_json::array({{{"executionSuccessful", true}}});
  run["results"] = results;
  ordered_json j;
  j["$schema"] = "https://json.schemastore.org/sarif-2.1.0.json";
  j["version"] = "2.1.0";
  j["runs"] = ordered_json::array({run});
  return j.dump(2, ' ', false, nlohmann::json::error_handler_t::replace) + "\n";
}

std::string_view attr_name(Attr a) {
  switch (a) {
  case k_ftype: return "ftype";
  case k_perm: return "perm";
  case k_inode: return "inode";
  case k_nlink: return "nlink";
  case k_uid: return "uid";
  case k_gid: return "gid";
  case k_size: return "size";
  case k_blocks: return "blocks";
  case k_mtime: return "mtime";
  case k_atime: return "atime";
  case k_ctime: return "ctime";
  case k_link: return "linkname";
  case k_md5: return "md5";
  case k_sha1: return "sha1";
  case k_sha256: return "sha256";
  case k_sha512: return "sha512";
  case k_rmd160: return "rmd160";
  case k_blake2b512: return "blake2b512";
  case k_blake2s256: return "blake2s256";
  case k_acl: return "acl";
  case k_xattrs: return "xattrs";
  case k_selinux: return "selinux";
  case k_caps: return "caps";
  case k_growing: return "growing";
  case k_allow_new: return "ANF";
  case k_allow_removed: return "ARF";
  }
  return "";
}

std::vector<Attr> attr_list(AttrSet set) {
  std::vector<Attr> out;
  while (set != 0) {
    uint64_t bit = set & (~set + 1);
    out.push_back(static_cast<Attr>(bit));
    set &= set - 1;
  }
  return out;
}

} // namespace bulwark::fim
