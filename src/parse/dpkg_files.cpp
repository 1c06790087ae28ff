// dpkg's .list and .md5sums files (see dpkg_files.hpp for their semantics).
// dpkg stops on the first malformed line; an auditor reports it with its
// line and keeps the rest.

#include <bulwark/parse/dpkg_files.hpp>

namespace bulwark::deb {

namespace {

constexpr size_t k_md5_hex = 32; // MD5HASHLEN

// Calls f(line_text, line_number) per line; tells whether the text ended
// without a newline.
template <class F> bool for_each_dpkg_files_line(std::string_view text, F &&f) {
  int n = 0;
  while (!text.empty()) {
    size_t nl = text.find('\n');
    ++n;
    if (nl == std::string_view::npos) {
      f(text, n);
      return true;
    }
    f(text.substr(0, nl), n);
    text.remove_prefix(nl + 1);
  }
  return false;
}

bool is_hex(char c) {
  return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

} // namespace

FileList parse_file_list_text(const std::string &path, std::string_view text) {
  FileList out;
  out.path = path;
  int last = 0;
  bool unterminated = for_each_dpkg_files_line(text, [&](std::string_view line, int n) {
    last = n;
    if (!line.empty() && line.back() == '/')
      line.remove_suffix(1);
    if (line.empty()) {
      out.diagnostics.push_back({"files list file contains empty filename", {path, n}});
      return;
    }
    if (line.find('\0') != std::string_view::npos) {
      out.diagnostics.push_back({"files list file contains a NUL byte", {path, n}});
      return;
    }
    out.files.push_back({std::string(line), n});
  });
  if (unterminated)
    out.diagnostics.push_back({"files list file missing final newline", {path, last}});
  return out;
}

Md5Sums parse_md5sums_text(const std::string &path, std::string_view text) {
  Md5Sums out;
  out.path = path;
  int last = 0;
  bool unterminated = for_each_dpkg_files_line(text, [&](std::string_view line, int n) {
    last = n;
    auto diag = [&](const char *m) { out.diagnostics.push_back({m, {path, n}}); };
    if (line.size() < k_md5_hex + 3) {
      diag(line.size() <= k_md5_hex + 2 ? "control file 'md5sums' is missing value"
                                        : "control file 'md5sums' has a bad line");
      return;
    }
    if (line[k_md5_hex] != ' ' || line[k_md5_hex + 1] != ' ') {
      diag("control file 'md5sums' is missing value separator");
      return;
    }
    std::string_view md5 = line.substr(0, k_md5_hex);
    for (char c : md5)
      if (!is_hex(c)) {
        diag("control file 'md5sums' has a digest that is not hexadecimal");
        return;
      }
    std::string_view file = line.substr(k_md5_hex + 2);
    if (!file.empty() && file.back() == '/')
      file.remove_suffix(1);
    if (file.empty() || file.find('\0') != std::string_view::npos) {
      diag("control file 'md5sums' contains empty filename");
      return;
    }
    std::string abs = file.front() == '/' ? std::string(file) : "/" + std::string(file);
    std::string lower(md5);
    for (auto &c : lower)
      if (c >= 'A' && c <= 'F')
        c = static_cast<char>(c - 'A' + 'a');
    out.entries.push_back({std::move(lower), std::move(abs), n});
  });
  if (unterminated)
    out.diagnostics.push_back({"control file 'md5sums' is missing final newline", {path, last}});
  return out;
}

std::string_view package_of_info_file(std::string_view file_name) {
  size_t slash = file_name.rfind('/');
  if (slash != std::string_view::npos)
    file_name.remove_prefix(slash + 1);
  size_t dot = file_name.rfind('.');
  return dot == std::string_view::npos ? file_name : file_name.substr(0, dot);
}

} // namespace bulwark::deb
