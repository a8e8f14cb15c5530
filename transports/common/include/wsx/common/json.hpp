// Strict JSON (RFC 8259) for the small documents the transports and demos handle: a reader for
// one object (JWT headers and claims, chat messages) and the string escaping for writing them.
//
//   const wsx::json::read_result r = wsx::json::read_object(text);
//   if (!r.error.empty()) return refuse(r.message());  // "invalid JSON at byte 7: expected ':'"
//   if (const auto* m = r.object.find("sub"); m && m->value.type == wsx::json::kind::string) ...
//
// The reader reports the top-level members of the object; nested objects and arrays are
// validated and skipped (depth-limited), never built. It accepts only valid UTF-8 strings.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace wsx::json {

// ---- writing ----------------------------------------------------------------------------------

// Appends `s` as a JSON string literal, quotes included: '"', '\\', '\n', '\r' and '\t' get
// their two-character escapes, other bytes below 0x20 become \u00XX, everything else is copied
// as is. The result is valid JSON whenever `s` is valid UTF-8 (read_object refuses anything
// else inside strings).
void append_quoted(std::string& out, std::string_view s);

// append_quoted into a new string.
std::string quoted(std::string_view s);

// ---- reading ----------------------------------------------------------------------------------

// Containers nested deeper than this inside the top-level object are refused.
inline constexpr int max_depth = 32;

enum class kind { string, number, boolean, null, object, array };

// A top-level member's value, as far as the callers need it.
struct value {
  json::kind type = kind::null;
  std::string text;  // string: decoded UTF-8; number: the literal as written; otherwise empty
};

struct member {
  std::string name;  // decoded UTF-8
  json::value value;
  std::size_t offset = 0;  // byte offset of the value's first character in the input
};

struct object {
  std::vector<member> members;  // in document order; names are unique

  // The member called `name`, or nullptr. Valid while the object lives and is not modified.
  const member* find(std::string_view name) const noexcept;
};

// The outcome of read_object. On success `error` is empty and `object` holds the members; on
// failure `error` says what is wrong ("expected ':'", "duplicate member \"sub\""…), found at
// byte `error_offset`, and `object` is empty.
struct read_result {
  json::object object;
  std::string error;
  std::size_t error_offset = 0;

  // "invalid JSON at byte N: <error>", for logs and refusals; empty on success.
  std::string message() const;
};

// Parses all of `text` as exactly one JSON object (whitespace around it allowed). Refuses:
// anything but an object at the top, duplicate top-level names (RFC 7519 §4 wants them
// refused), trailing bytes, numbers outside the RFC 8259 §6 grammar, bad or unknown escapes,
// unpaired surrogates in \u escapes, raw control characters and invalid UTF-8 in strings, and
// nesting deeper than max_depth. A \u0000 escape is accepted (the decoded text then holds a
// NUL byte). Never throws except std::bad_alloc; quotes no more than 40 printable bytes of the
// input in `error`.
read_result read_object(std::string_view text);

// Attacker-supplied text made fit to quote in a reason (logs, HTTP bodies, close reasons):
// every byte but printable ASCII becomes '?' and anything past 40 bytes is cut and marked
// "...", so the text can neither forge log lines nor flood them, and stays valid UTF-8.
std::string loggable(std::string_view s);

}  // namespace wsx::json
