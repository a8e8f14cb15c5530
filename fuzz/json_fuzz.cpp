// Fuzzes the strict JSON reader of wsx/common/json.hpp (read_object), which parses JWT headers
// and payloads and chat messages: attacker bytes, some of them before any authentication.
// The whole input is one document. Checked beyond not crashing:
//  - a failure has a message and an error offset within the input, and no members;
//  - a success has unique member names, and each value's offset points at a value of its kind
//    (a number's literal is the text there, a string starts with '"', true/false/null as
//    written, '{' or '[' for the skipped containers);
//  - the members written back (names and strings with append_quoted, numbers as their literal,
//    containers as {} or []) read again to the same names, kinds and texts;
//  - the document wrapped in whitespace reads the same (offsets shifted);
//  - any valid UTF-8 input, quoted as a string member, reads back as exactly itself;
//  - loggable() gives printable ASCII only, at most 43 bytes.
// WSX_FUZZ_TRACE=1 prints the members or the error when replaying an input.
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <string>
#include <string_view>

#include "common.hpp"
#include "detail/utf8.hpp"
#include "wsx/common/json.hpp"

namespace {

namespace json = wsx::json;
using wsx::fuzz::trace;

// The literal a member's value starts with in the input it was read from.
void check_offset(std::string_view in, const json::member& m) {
  FUZZ_CHECK(m.offset < in.size());
  const std::string_view at = in.substr(m.offset);
  switch (m.value.type) {
    case json::kind::string:
      FUZZ_CHECK(at.front() == '"');
      break;
    case json::kind::number:
      FUZZ_CHECK(!m.value.text.empty() && at.substr(0, m.value.text.size()) == m.value.text);
      break;
    case json::kind::boolean:
      FUZZ_CHECK(at.starts_with("true") || at.starts_with("false"));
      FUZZ_CHECK(m.value.text.empty());
      break;
    case json::kind::null:
      FUZZ_CHECK(at.starts_with("null") && m.value.text.empty());
      break;
    case json::kind::object:
      FUZZ_CHECK(at.front() == '{' && m.value.text.empty());
      break;
    case json::kind::array:
      FUZZ_CHECK(at.front() == '[' && m.value.text.empty());
      break;
  }
}

// The members of `o` as a document again; containers become empty ones.
std::string write_back(std::string_view in, const json::object& o) {
  std::string out = "{";
  for (const json::member& m : o.members) {
    if (out.size() > 1) out += ',';
    json::append_quoted(out, m.name);
    out += ':';
    switch (m.value.type) {
      case json::kind::string:
        json::append_quoted(out, m.value.text);
        break;
      case json::kind::number:
        out += m.value.text;
        break;
      case json::kind::boolean:
        out += in[m.offset] == 't' ? "true" : "false";
        break;
      case json::kind::null:
        out += "null";
        break;
      case json::kind::object:
        out += "{}";
        break;
      case json::kind::array:
        out += "[]";
        break;
    }
  }
  return out + "}";
}

bool same_members(const json::object& a, const json::object& b) {
  if (a.members.size() != b.members.size()) return false;
  for (std::size_t i = 0; i < a.members.size(); ++i) {
    const json::member& x = a.members[i];
    const json::member& y = b.members[i];
    if (x.name != y.name || x.value.type != y.value.type || x.value.text != y.value.text)
      return false;
  }
  return true;
}

void check_loggable(std::string_view in) {
  const std::string l = json::loggable(in);
  FUZZ_CHECK(l.size() <= 43);
  for (const char c : l) FUZZ_CHECK(c >= 0x20 && c <= 0x7E);
  if (in.size() <= 40) FUZZ_CHECK(l.size() == in.size());
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const json::read_result r = json::read_object(in);
  check_loggable(in);

  if (!r.error.empty()) {
    if (trace) std::fprintf(stderr, "%s\n", r.message().c_str());
    FUZZ_CHECK(r.error_offset <= in.size());
    FUZZ_CHECK(r.message().starts_with("invalid JSON at byte "));
    FUZZ_CHECK(r.object.members.empty());
    FUZZ_CHECK(!json::read_object(" \n" + std::string(in) + "\t ").error.empty());
  } else {
    FUZZ_CHECK(r.message().empty());
    for (const json::member& m : r.object.members) {
      if (trace) {
        std::fprintf(stderr, "member %s kind %d at %zu: %s\n", json::loggable(m.name).c_str(),
                     static_cast<int>(m.value.type), m.offset,
                     json::loggable(m.value.text).c_str());
      }
      check_offset(in, m);
      FUZZ_CHECK(r.object.find(m.name) == &m);  // names are unique
      FUZZ_CHECK(wsx::detail::is_valid_utf8(wsx::as_bytes(m.name)));
      if (m.value.type == json::kind::string)
        FUZZ_CHECK(wsx::detail::is_valid_utf8(wsx::as_bytes(m.value.text)));
    }

    const std::string again_text = write_back(in, r.object);
    const json::read_result again = json::read_object(again_text);
    FUZZ_CHECK(again.error.empty());
    FUZZ_CHECK(same_members(r.object, again.object));

    const json::read_result wrapped = json::read_object(" \n" + std::string(in) + "\t ");
    FUZZ_CHECK(wrapped.error.empty());
    FUZZ_CHECK(same_members(r.object, wrapped.object));
    for (std::size_t i = 0; i < r.object.members.size(); ++i)
      FUZZ_CHECK(wrapped.object.members[i].offset == r.object.members[i].offset + 2);
  }

  if (wsx::detail::is_valid_utf8(wsx::as_bytes(in))) {
    const json::read_result s = json::read_object("{\"s\":" + json::quoted(in) + "}");
    FUZZ_CHECK(s.error.empty() && s.object.members.size() == 1);
    FUZZ_CHECK(s.object.members[0].value.type == json::kind::string);
    FUZZ_CHECK(s.object.members[0].value.text == in);
  }
  return 0;
}
