#pragma once
// Escaping of untrusted text (file contents, paths, names from the target)
// for the report formats. Every reporter passes target text through one of
// these: a hostile value must not inject markup, links or scripts.

#include <string>
#include <string_view>

namespace bulwark::report {

// Valid UTF-8: every invalid or overlong sequence becomes U+FFFD.
std::string valid_utf8(std::string_view s);

// XML 1.0 character data and attribute values: & < > " ' as entities, and
// the characters XML 1.0 cannot carry at all, not even as references (C0
// controls other than tab, LF and CR; U+FFFE, U+FFFF), written as a visible
// "\xHH" / "\uFFFE". With `keep_newlines` false, tab/LF/CR become
// "&#9;"/"&#10;"/"&#13;" so that attribute values keep them. Invalid UTF-8
// becomes U+FFFD. The result is safe in HTML text and quoted attributes too.
std::string xml_escape(std::string_view s, bool keep_newlines = true);

// Markdown (CommonMark + GFM) inline text, escaped only where a character
// can start markup, so that ids and paths read as text in a diff of the
// signed checklist ("ssh.permit-root-login", "/etc/ssh/sshd_config:1"):
// \ ` * [ ] < > & ~ | # @ always (emphasis, code, links, HTML and entities,
// strikethrough, table cells, heading close, e-mail autolinks); `_` unless
// it sits between two letters or digits; the ':' of "://" and the '.' of
// "www." (GFM's extended autolinks). Line breaks and control characters
// become visible escapes (no new block), invalid UTF-8 U+FFFD.
std::string markdown_escape(std::string_view s);

// Base64 of the SHA-256 of `data` (a CSP source hash).
std::string sha256_base64(std::string_view data);

} // namespace bulwark::report
