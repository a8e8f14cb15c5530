// The chat's JSON on top of wsx::json.
//
// parse_flat_object reads the message with the strict reader of wsx/common/json.hpp and then
// applies the chat's own rules: every value must be a string, and no name or value may hold
// U+0000 (the reader decodes \u0000; the chat keeps its text C-string safe). Errors read
// "<what> at byte N". object_writer appends members with the same string escaping the reader
// undoes.
#include "json.hpp"

#include "wsx/common/json.hpp"

namespace chat::json {
namespace {

parse_result failure(std::string what, std::size_t offset) {
  parse_result r;
  r.error = std::move(what) + " at byte " + std::to_string(offset);
  return r;
}

}  // namespace

std::optional<std::string_view> flat_object::get(std::string_view name) const noexcept {
  for (const auto& m : members) {
    if (m.first == name) return std::string_view(m.second);
  }
  return std::nullopt;
}

parse_result parse_flat_object(std::string_view text) {
  wsx::json::read_result read = wsx::json::read_object(text);
  if (!read.error.empty()) return failure(std::move(read.error), read.error_offset);
  parse_result r;
  for (wsx::json::member& m : read.object.members) {
    if (m.value.type != wsx::json::kind::string) {
      return failure("member \"" + m.name + "\" must be a string", m.offset);
    }
    if (m.name.find('\0') != std::string::npos || m.value.text.find('\0') != std::string::npos) {
      return failure("\\u0000 is not accepted (member \"" + wsx::json::loggable(m.name) + "\")",
                     m.offset);
    }
    r.object.members.emplace_back(std::move(m.name), std::move(m.value.text));
  }
  return r;
}

void object_writer::name(std::string_view n) {
  if (out_.size() > 1) out_ += ',';
  wsx::json::append_quoted(out_, n);
  out_ += ':';
}

object_writer& object_writer::field(std::string_view n, std::string_view value) {
  name(n);
  wsx::json::append_quoted(out_, value);
  return *this;
}

object_writer& object_writer::field(std::string_view n, std::int64_t value) {
  name(n);
  out_ += std::to_string(value);
  return *this;
}

object_writer& object_writer::field(std::string_view n, const std::vector<std::string>& values) {
  name(n);
  out_ += '[';
  for (std::size_t i = 0; i < values.size(); ++i) {
    if (i > 0) out_ += ',';
    wsx::json::append_quoted(out_, values[i]);
  }
  out_ += ']';
  return *this;
}

object_writer& object_writer::raw_field(std::string_view n, std::string_view json) {
  name(n);
  out_ += json;
  return *this;
}

std::string object_writer::finish() {
  out_ += '}';
  std::string done = std::move(out_);
  out_ = "{";
  return done;
}

}  // namespace chat::json
