// APT's package lists and Release files (see apt_lists.hpp for the format and
// the sources it follows).

#include <bulwark/parse/apt_lists.hpp>

#include <bulwark/core/text.hpp>

#include <algorithm>
#include <cstring>
#include <set>

#ifdef BULWARK_HAVE_ZLIB
#include <zlib.h>
#endif
#ifdef BULWARK_HAVE_LZ4
#include <lz4frame.h>
#endif

namespace bulwark::apt {

namespace {

constexpr size_t k_max_decompressed = 256u * 1024 * 1024;

bool apt_lists_blank(char c) {
  return c == ' ' || c == '\t';
}

std::string_view trim_blanks(std::string_view s) {
  while (!s.empty() && (apt_lists_blank(s.front()) || s.front() == '\r'))
    s.remove_prefix(1);
  while (!s.empty() && (apt_lists_blank(s.back()) || s.back() == '\r'))
    s.remove_suffix(1);
  return s;
}

bool ieq(std::string_view a, std::string_view b) {
  if (a.size() != b.size())
    return false;
  for (size_t i = 0; i < a.size(); ++i)
    if ((a[i] | 0x20) != (b[i] | 0x20))
      return false;
  return true;
}

// Walks deb822 text line by line; `field(name, value, line)` for every field
// (continuation lines dropped: none of the fields we keep is multi-line),
// `end(line_of_stanza)` after each stanza. Returns the non-field lines.
template <class Field, class End>
std::vector<std::pair<int, std::string>> walk_deb822(std::string_view text, Field field, End end) {
  std::vector<std::pair<int, std::string>> problems;
  int line_no = 0;
  bool in_stanza = false;
  size_t at = 0;
  while (at < text.size()) {
    size_t nl = text.find('\n', at);
    std::string_view line =
        text.substr(at, nl == std::string_view::npos ? std::string_view::npos : nl - at);
    at = nl == std::string_view::npos ? text.size() : nl + 1;
    ++line_no;
    if (trim_blanks(line).empty()) {
      if (in_stanza)
        end();
      in_stanza = false;
      continue;
    }
    if (apt_lists_blank(line.front()))
      continue; // continuation
    in_stanza = true;
    size_t colon = line.find(':');
    if (colon == std::string_view::npos || colon == 0) {
      if (problems.size() < 100)
        problems.emplace_back(line_no, "not a field: " + text::printable(line, 60));
      continue;
    }
    field(line.substr(0, colon), trim_blanks(line.substr(colon + 1)), line_no);
  }
  if (in_stanza)
    end();
  return problems;
}

std::string compression_of(std::string_view name) {
  for (const char *ext : {"gz", "lz4", "xz", "zst", "bz2"}) {
    std::string suffix = std::string("_Packages.") + ext;
    if (name.size() > suffix.size() && name.ends_with(suffix))
      return ext;
  }
  return "";
}

bool ends_with_security(std::string_view s) {
  return s.size() >= 9 && ieq(s.substr(s.size() - 9), "-security");
}

} // namespace

PackagesList parse_packages_text(const std::string &path, std::string_view text) {
  PackagesList out;
  out.path = path;
  ListPackage cur;
  int stanza_line = 0;
  auto not_fields = walk_deb822(
      text,
      [&](std::string_view name, std::string_view value, int line) {
        if (stanza_line == 0)
          stanza_line = line;
        // The four fields we keep; compare the length first, most fields
        // (Description, Depends, SHA256...) are skipped after one test.
        switch (name.size()) {
        case 6:
          if (ieq(name, "Source"))
            cur.source = value;
          break;
        case 7:
          if (ieq(name, "Package"))
            cur.name = value;
          else if (ieq(name, "Version"))
            cur.version = value;
          break;
        case 12:
          if (ieq(name, "Architecture"))
            cur.architecture = value;
          break;
        default: break;
        }
      },
      [&] {
        cur.line = stanza_line;
        if (cur.name.empty() || cur.version.empty()) {
          if (out.problems.size() < 100)
            out.problems.emplace_back(stanza_line, "stanza without Package or Version");
        } else {
          out.packages.push_back(std::move(cur));
        }
        cur = ListPackage{};
        stanza_line = 0;
      });
  out.problems.insert(out.problems.end(), not_fields.begin(), not_fields.end());
  return out;
}

ReleaseInfo parse_release_text(const std::string &path, std::string_view text) {
  ReleaseInfo r;
  r.path = path;
  // InRelease: the signed text starts after the armor header's blank line.
  if (text.starts_with("-----BEGIN PGP SIGNED MESSAGE-----")) {
    size_t body = text.find("\n\n");
    text = body == std::string_view::npos ? std::string_view() : text.substr(body + 2);
    if (size_t sig = text.find("\n-----BEGIN PGP SIGNATURE-----"); sig != std::string_view::npos)
      text = text.substr(0, sig + 1);
  }
  // Only the first stanza describes the suite.
  if (size_t end = text.find("\n\n"); end != std::string_view::npos)
    text = text.substr(0, end + 1);
  walk_deb822(
      text,
      [&](std::string_view name, std::string_view value, int) {
        if (ieq(name, "Origin"))
          r.origin = value;
        else if (ieq(name, "Label"))
          r.label = value;
        else if (ieq(name, "Suite"))
          r.suite = value;
        else if (ieq(name, "Codename"))
          r.codename = value;
      },
      [] {});
  return r;
}

Result<std::vector<ListFile>> find_package_lists(const RootFs &fs, const std::string &dir) {
  auto names = TRY(fs.list_dir(dir));
  std::set<std::string> present(names.begin(), names.end());
  std::vector<ListFile> out;
  for (const std::string &name : names) {
    std::string comp = compression_of(name);
    if (!name.ends_with("_Packages") && comp.empty())
      continue;
    size_t dists = name.find("_dists_");
    ListFile f;
    f.path = RootFs::join(dir, name);
    f.compression = comp;
    if (dists != std::string::npos) {
      // The suite's Release sits at the shortest prefix "..._dists_<suite>"
      // that has one (a suite may hold '/', stored as '_').
      for (size_t us = name.find('_', dists + 7); us != std::string::npos;
           us = name.find('_', us + 1)) {
        std::string prefix = name.substr(0, us);
        for (const char *rel : {"_InRelease", "_Release"}) {
          if (present.count(prefix + rel)) {
            std::string rpath = RootFs::join(dir, prefix + rel);
            if (auto text = fs.read_file(rpath, 16 * 1024 * 1024))
              f.release = parse_release_text(rpath, *text);
            break;
          }
        }
        if (!f.release.path.empty())
          break;
      }
    }
    const ReleaseInfo &r = f.release;
    if (!r.path.empty()) {
      if (text::lower(r.label).find("security") != std::string::npos) {
        f.security = true;
        f.why_security = "Label: " + r.label;
      } else if (ends_with_security(r.suite) || ends_with_security(r.codename)) {
        f.security = true;
        f.why_security = "Suite: " + r.suite;
      }
    }
    if (!f.security) {
      std::string head = dists == std::string::npos ? name : name.substr(0, dists);
      std::string tail = dists == std::string::npos ? "" : name.substr(dists + 7);
      std::string suite = tail.substr(0, tail.find('_'));
      if (text::lower(head).find("security") != std::string::npos || ends_with_security(suite)) {
        f.security = true;
        f.why_security = "file name";
      }
    }
    out.push_back(std::move(f));
  }
  return out;
}

Result<std::string> decompress(std::string_view kind, std::string_view data, size_t max_out) {
  std::string out;
  auto too_big = [&] {
    return Error{"decompressed list is larger than " + std::to_string(max_out) + " bytes"};
  };
  if (kind == "gz") {
#ifdef BULWARK_HAVE_ZLIB
    z_stream zs{};
    if (inflateInit2(&zs, 15 + 32) != Z_OK)
      return Error{"zlib: cannot initialise"};
    zs.next_in = reinterpret_cast<Bytef *>(const_cast<char *>(data.data()));
    zs.avail_in = static_cast<uInt>(data.size());
    char buf[65536];
    int rc = Z_OK;
    while (true) {
      zs.next_out = reinterpret_cast<Bytef *>(buf);
      zs.avail_out = sizeof buf;
      rc = inflate(&zs, Z_NO_FLUSH);
      out.append(buf, sizeof buf - zs.avail_out);
      if (out.size() > max_out) {
        inflateEnd(&zs);
        return too_big();
      }
      if (rc == Z_STREAM_END) {
        // Concatenated gzip members continue the same text.
        if (zs.avail_in == 0)
          break;
        if (inflateReset(&zs) != Z_OK)
          break;
        continue;
      }
      if (rc != Z_OK) {
        inflateEnd(&zs);
        return Error{std::string("corrupt gzip data: ") + (zs.msg ? zs.msg : "truncated")};
      }
      if (zs.avail_in == 0 && zs.avail_out != 0) {
        inflateEnd(&zs);
        return Error{"corrupt gzip data: truncated"};
      }
    }
    inflateEnd(&zs);
    return out;
#else
    return Error{"bulwark was built without zlib: cannot read .gz lists"};
#endif
  }
  if (kind == "lz4") {
#ifdef BULWARK_HAVE_LZ4
    LZ4F_dctx *dctx = nullptr;
    if (LZ4F_isError(LZ4F_createDecompressionContext(&dctx, LZ4F_VERSION)))
      return Error{"lz4: cannot initialise"};
    const char *src = data.data();
    size_t left = data.size();
    char buf[65536];
    size_t hint = 1;
    while (left > 0) {
      size_t out_size = sizeof buf;
      size_t in_size = left;
      hint = LZ4F_decompress(dctx, buf, &out_size, src, &in_size, nullptr);
      if (LZ4F_isError(hint)) {
        std::string msg = LZ4F_getErrorName(hint);
        LZ4F_freeDecompressionContext(dctx);
        return Error{"corrupt lz4 data: " + msg};
      }
      out.append(buf, out_size);
      if (out.size() > max_out) {
        LZ4F_freeDecompressionContext(dctx);
        return too_big();
      }
      src += in_size;
      left -= in_size;
      if (in_size == 0 && out_size == 0)
        break;
    }
    // Drain what the context still holds.
    while (hint != 0) {
      size_t out_size = sizeof buf;
      size_t in_size = 0;
      hint = LZ4F_decompress(dctx, buf, &out_size, src, &in_size, nullptr);
      if (LZ4F_isError(hint) || out_size == 0)
        break;
      out.append(buf, out_size);
      if (out.size() > max_out) {
        LZ4F_freeDecompressionContext(dctx);
        return too_big();
      }
    }
    LZ4F_freeDecompressionContext(dctx);
    if (hint != 0)
      return Error{"corrupt lz4 data: truncated"};
    return out;
#else
    return Error{"bulwark was built without liblz4: cannot read .lz4 lists"};
#endif
  }
  return Error{"." + std::string(kind) + " compressed lists are not supported"};
}

Result<PackagesList> read_packages_list(const RootFs &fs, const ListFile &file) {
  auto raw = fs.read_file(file.path, RootFs::k_default_max_read);
  if (!raw)
    return raw.error();
  if (file.compression.empty())
    return parse_packages_text(file.path, *raw);
  auto text = decompress(file.compression, *raw, k_max_decompressed);
  if (!text) {
    Error e = text.error();
    e.path = file.path;
    return e;
  }
  return parse_packages_text(file.path, *text);
}

} // namespace bulwark::apt
