#pragma once
// Small string helpers shared by the parsers.

#include <string>
#include <string_view>
#include <vector>

namespace bulwark::text {

std::string lower(std::string_view s);
bool iequals(std::string_view a, std::string_view b);
std::string_view trim(std::string_view s);
std::vector<std::string> split(std::string_view s, char sep, bool keep_empty = false);
std::string join(const std::vector<std::string> &parts, std::string_view sep);
bool starts_with(std::string_view s, std::string_view prefix);
// Printable rendering of untrusted bytes for messages: control characters
// escaped, cut to max_len with "...".
std::string printable(std::string_view s, size_t max_len = 120);

} // namespace bulwark::text
