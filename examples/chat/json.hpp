// The chat's JSON: just enough of RFC 8259 for its tiny protocol. Clients send one flat object of
// string members ({"type":"dm","to":"bob","text":"hi"}); the server writes objects whose values
// are strings, integers or arrays of strings, assembled with object_writer. Reading and string
// escaping are wsx's strict JSON unit (wsx/common/json.hpp); this adds the chat's rules on top.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chat::json {

// One JSON object with string values, as it arrived: member names and decoded values in order.
struct flat_object {
  std::vector<std::pair<std::string, std::string>> members;

  // The value of member `name`, or nullopt when absent. Valid while the object lives.
  std::optional<std::string_view> get(std::string_view name) const noexcept;
};

// The outcome of parse_flat_object: `error` is empty on success and says what is wrong (with a
// byte offset) otherwise.
struct parse_result {
  flat_object object;
  std::string error;
};

// Parses `text` as one JSON object whose members all have string values. Refuses anything
// wsx::json::read_object refuses (duplicate names, trailing bytes, bad escapes, lone surrogates,
// invalid UTF-8…), other value types ("member \"text\" must be a string at byte 17"), and \u0000
// in names or values — so every decoded string is valid UTF-8 and free of NUL bytes.
parse_result parse_flat_object(std::string_view text);

// Builds one JSON object: writer.field("type", "room").field("id", 7).finish().
class object_writer {
 public:
  object_writer& field(std::string_view name, std::string_view value);
  object_writer& field(std::string_view name, std::int64_t value);
  object_writer& field(std::string_view name, const std::vector<std::string>& values);
  // A member whose value is already-encoded JSON (an array of objects, say).
  object_writer& raw_field(std::string_view name, std::string_view json);
  // The finished text; the writer is left empty.
  std::string finish();

 private:
  void name(std::string_view n);
  std::string out_ = "{";
};

}  // namespace chat::json
