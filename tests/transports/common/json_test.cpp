// Tests for wsx::json: the escaping table, the strict reader's members (kinds, decoded text,
// offsets, order), a table of refused inputs each with its specific error and byte offset, the
// nesting limit, loggable(), and properties: any valid UTF-8 string survives append_quoted then
// read_object, \u escapes (surrogate pairs above U+FFFF) decode to exactly the UTF-8 they name,
// every proper prefix of a valid object is refused with an error inside the input, and random
// bytes never crash the reader.
#include "wsx/common/json.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <cstdint>
#include <string>
#include <vector>

namespace {

namespace json = wsx::json;

// The test's own UTF-8 encoder, written differently from the reader's: continuation bytes in a
// loop from the end, then the lead byte (n ones, a zero, the top bits).
void append_utf8(std::string& out, std::uint32_t cp) {
  if (cp < 0x80) {
    out += static_cast<char>(cp);
    return;
  }
  const std::size_t n = cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
  std::string seq(n, '\0');
  for (std::size_t i = n - 1; i > 0; --i, cp >>= 6) seq[i] = static_cast<char>(0x80 | (cp & 0x3F));
  seq[0] = static_cast<char>(((0xF00U >> n) & 0xFFU) | cp);
  out += seq;
}

std::string u_escape(std::uint32_t unit) {
  static const char hex[] = "0123456789abcdef";
  std::string s = "\\u";
  for (int shift = 12; shift >= 0; shift -= 4) s += hex[(unit >> shift) & 0xF];
  return s;
}

// Unicode scalar values, ASCII (control characters included) as likely as the rest.
rc::Gen<std::uint32_t> scalar_value() {
  return rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0, 0x80),
                        rc::gen::inRange<std::uint32_t>(0x80, 0xD800),
                        rc::gen::inRange<std::uint32_t>(0xE000, 0x110000));
}

// The decoded text of the only member of `text`, which must parse.
std::string only_string(std::string_view text) {
  const auto r = json::read_object(text);
  EXPECT_EQ(r.error, "") << text;
  if (r.object.members.size() != 1) return "<" + std::to_string(r.object.members.size()) + ">";
  EXPECT_EQ(r.object.members[0].value.type, json::kind::string) << text;
  return r.object.members[0].value.text;
}

// ---- writing ------------------------------------------------------------------------------------

TEST(json, append_quoted_escapes_only_what_rfc8259_requires) {
  EXPECT_EQ(json::quoted(""), R"("")");
  EXPECT_EQ(json::quoted("plain / text"), R"("plain / text")");
  EXPECT_EQ(json::quoted("say \"hi\"\\"), R"("say \"hi\"\\")");
  EXPECT_EQ(json::quoted("a\nb\rc\td"), R"("a\nb\rc\td")");
  EXPECT_EQ(json::quoted(std::string("\0\x01\x1f\b\f\x7f", 6)),
            "\"\\u0000\\u0001\\u001f\\u0008\\u000c\x7f\"");
  EXPECT_EQ(json::quoted("\xC3\xA9 \xF0\x9F\x99\x82"), "\"\xC3\xA9 \xF0\x9F\x99\x82\"");
  std::string out = "[";
  json::append_quoted(out, "x");
  EXPECT_EQ(out, R"(["x")");
}

// ---- reading: what comes out --------------------------------------------------------------------

TEST(json, members_keep_order_kind_text_and_offset) {
  const std::string text = R"( {"s":"a\u00e9\n","n":-1.5e3,"t":true,"f":false,"z":null,)"
                           R"("o":{"x":[1,{}]},"a":[]} )";
  const auto r = json::read_object(text);
  ASSERT_EQ(r.error, "");
  EXPECT_EQ(r.message(), "");
  struct row {
    const char* name;
    json::kind type;
    const char* text;
    const char* starts_with;
  };
  const std::vector<row> want = {
      {"s", json::kind::string, "a\xC3\xA9\n", "\"a"},
      {"n", json::kind::number, "-1.5e3", "-1"},
      {"t", json::kind::boolean, "", "true"},
      {"f", json::kind::boolean, "", "false"},
      {"z", json::kind::null, "", "null"},
      {"o", json::kind::object, "", "{\"x\""},
      {"a", json::kind::array, "", "[]"},
  };
  ASSERT_EQ(r.object.members.size(), want.size());
  for (std::size_t i = 0; i < want.size(); ++i) {
    const json::member& m = r.object.members[i];
    EXPECT_EQ(m.name, want[i].name);
    EXPECT_EQ(m.value.type, want[i].type) << m.name;
    EXPECT_EQ(m.value.text, want[i].text) << m.name;
    EXPECT_EQ(text.substr(m.offset, std::string_view(want[i].starts_with).size()),
              want[i].starts_with)
        << m.name;
  }
  EXPECT_EQ(r.object.find("n"), &r.object.members[1]);
  EXPECT_EQ(r.object.find("missing"), nullptr);
}

TEST(json, accepted_edge_cases) {
  EXPECT_EQ(json::read_object("{}").object.members.size(), 0u);
  EXPECT_EQ(json::read_object(" \t\r\n{ \t\r\n} \t\r\n").error, "");
  EXPECT_EQ(json::read_object(R"({"n":-0,"m":0.5,"k":1E+2,"j":2e-2,"i":0e0})").error, "");
  EXPECT_EQ(only_string(R"({"":"\u0000"})"), std::string(1, '\0'));
  EXPECT_EQ(only_string(R"({"k":"\"\\\/\b\f\n\r\t"})"), "\"\\/\b\f\n\r\t");
  EXPECT_EQ(only_string(R"({"k":"\ud83d\ude00 \u00E9"})"), "\xF0\x9F\x98\x80 \xC3\xA9");
  EXPECT_EQ(only_string("{\"k\":\"\xC3\xA9\xE2\x9C\x93\xF4\x8F\xBF\xBF\"}"),
            "\xC3\xA9\xE2\x9C\x93\xF4\x8F\xBF\xBF");
}

// ---- reading: what is refused, and where --------------------------------------------------------

TEST(json, refusals_name_the_problem_and_its_byte) {
  struct row {
    std::string text;
    const char* error;
    std::size_t offset;
  };
  const std::vector<row> rows = {
      {"", "expected '{'", 0},
      {"[]", "expected '{'", 0},
      {"\"sub\"", "expected '{'", 0},
      {R"({'sub':'a'})", "expected a member name", 1},
      {R"({,"sub":"a"})", "expected a member name", 1},
      {R"({"sub":"a",})", "expected a member name", 11},
      {R"({"sub" "a"})", "expected ':'", 7},
      {R"({"sub":"a")", "expected ',' or '}'", 10},
      {R"({"sub":"a"} x)", "trailing characters after the object", 12},
      {R"({"sub":"a"}{})", "trailing characters after the object", 11},
      {R"({"sub":"a","sub":"b"})", "duplicate member \"sub\"", 16},
      {R"({"n":})", "expected a value", 5},
      {R"({"n":01})", "leading zero in a number", 6},
      {R"({"n":1.})", "expected a digit after '.'", 7},
      {R"({"n":.5})", "expected a value", 5},
      {R"({"n":+1})", "expected a value", 5},
      {R"({"n":-})", "expected a digit", 6},
      {R"({"n":1e})", "expected a digit in the exponent", 7},
      {R"({"n":NaN})", "expected a value", 5},
      {R"({"n":tru})", "expected a value", 5},
      {R"({"n":nul})", "expected a value", 5},
      {R"({"n":[1,]})", "expected a value", 8},
      {R"({"n":[1 2]})", "expected ',' or ']'", 8},
      {R"({"n":{"x"}})", "expected ':'", 9},
      {R"({"n":{1:2}})", "expected a member name", 6},
      {R"({"n":{"x":1)", "expected ',' or '}'", 11},
      {R"({"sub":"\x"})", "bad escape in a string", 9},
      {R"({"sub":"\u12)", "truncated \\u escape", 10},
      {R"({"sub":"\u12"})", "bad hex digit in \\u escape", 12},
      {R"({"sub":"\u12G4"})", "bad hex digit in \\u escape", 12},
      {R"({"sub":"\u-123"})", "bad hex digit in \\u escape", 10},
      {R"({"sub":"\ud800"})", "lone high surrogate in \\u escape", 14},
      {R"({"sub":"\udc00"})", "lone low surrogate in \\u escape", 14},
      {R"({"sub":"\ud800\u0041"})", "lone high surrogate in \\u escape", 20},
      {"{\"sub\":\"a\tb\"}", "control character in a string", 9},
      {"{\"sub\":\"\xC3\"}", "invalid UTF-8 in a string", 8},
      {"{\"sub\":\"\xC0\xAF\"}", "invalid UTF-8 in a string", 8},
      {"{\"sub\":\"\xED\xA0\x80\"}", "invalid UTF-8 in a string", 8},
      {"{\"sub\":\"\xF4\x90\x80\x80\"}", "invalid UTF-8 in a string", 8},
      {"{\"sub\":\"\xFF\"}", "invalid UTF-8 in a string", 8},
      {R"({"sub":"a)", "unterminated string", 9},
      {R"({"sub":"a\)", "unterminated string", 10},
  };
  for (const row& c : rows) {
    const auto r = json::read_object(c.text);
    EXPECT_EQ(r.error, c.error) << c.text;
    EXPECT_EQ(r.error_offset, c.offset) << c.text;
    EXPECT_TRUE(r.object.members.empty()) << c.text;
    EXPECT_EQ(r.message(),
              "invalid JSON at byte " + std::to_string(c.offset) + ": " + std::string(c.error))
        << c.text;
  }
}

TEST(json, nesting_is_limited_not_recursed_without_bound) {
  const auto nested = [](int depth) {
    return R"({"n":)" + std::string(static_cast<std::size_t>(depth), '[') +
           std::string(static_cast<std::size_t>(depth), ']') + "}";
  };
  EXPECT_EQ(json::read_object(nested(json::max_depth)).error, "");
  EXPECT_EQ(json::read_object(nested(json::max_depth + 1)).error, "nested deeper than 32");
  EXPECT_EQ(json::read_object(nested(5000)).error, "nested deeper than 32");
}

TEST(json, errors_quote_names_only_as_short_printable_ascii) {
  const auto r = json::read_object("{\"x\\r\\n\xC3\xA9\":1,\"x\\r\\n\xC3\xA9\":2}");
  EXPECT_EQ(r.error, "duplicate member \"x????\"");
  const auto long_name = std::string(50, 'n');
  EXPECT_EQ(json::read_object("{\"" + long_name + "\":1,\"" + long_name + "\":1}").error,
            "duplicate member \"" + std::string(40, 'n') + "...\"");
}

TEST(json, loggable_cuts_and_masks) {
  EXPECT_EQ(json::loggable("HS256"), "HS256");
  EXPECT_EQ(json::loggable("a\nb\x7f\xC3\xA9"), "a?b???");
  EXPECT_EQ(json::loggable(std::string(41, 'x')), std::string(40, 'x') + "...");
  EXPECT_EQ(json::loggable(std::string(40, 'x')), std::string(40, 'x'));
}

// ---- properties ---------------------------------------------------------------------------------

// Whatever valid UTF-8 goes through append_quoted comes back from read_object unchanged, as a
// member value and as a member name.
RC_GTEST_PROP(json, quoted_valid_utf8_round_trips, ()) {
  const auto cps = *rc::gen::container<std::vector<std::uint32_t>>(scalar_value());
  std::string s;
  for (const std::uint32_t cp : cps) append_utf8(s, cp);
  const std::string text = "{" + json::quoted(s) + ":" + json::quoted(s) + "}";
  const auto r = json::read_object(text);
  RC_ASSERT(r.error.empty());
  RC_ASSERT(r.object.members.size() == 1u);
  RC_ASSERT(r.object.members[0].name == s);
  RC_ASSERT(r.object.members[0].value.type == json::kind::string);
  RC_ASSERT(r.object.members[0].value.text == s);
}

// Any string of scalar values, written with a random mix of raw UTF-8 and \u escapes (surrogate
// pairs above U+FFFF), decodes to exactly its UTF-8.
RC_GTEST_PROP(json, u_escapes_decode_to_utf8, ()) {
  const auto cps = *rc::gen::container<std::vector<std::uint32_t>>(scalar_value());
  std::string expected, literal;
  for (const std::uint32_t cp : cps) {
    append_utf8(expected, cp);
    const bool must_escape = cp < 0x20 || cp == '"' || cp == '\\';
    if (must_escape || *rc::gen::arbitrary<bool>()) {
      if (cp < 0x10000) {
        literal += u_escape(cp);
      } else {
        literal +=
            u_escape(0xD800 + ((cp - 0x10000) >> 10)) + u_escape(0xDC00 + ((cp - 0x10000) & 0x3FF));
      }
    } else {
      append_utf8(literal, cp);
    }
  }
  const auto r = json::read_object("{\"k\":\"" + literal + "\"}");
  RC_ASSERT(r.error.empty());
  RC_ASSERT(r.object.members.size() == 1u);
  RC_ASSERT(r.object.members[0].value.text == expected);
}

// Cutting a valid object anywhere before its last byte leaves malformed input: refused, with a
// non-empty error at a byte inside the input and no members.
RC_GTEST_PROP(json, every_proper_prefix_is_refused, ()) {
  const auto cps = *rc::gen::container<std::vector<std::uint32_t>>(scalar_value());
  std::string s;
  for (const std::uint32_t cp : cps) append_utf8(s, cp);
  const std::string text = R"({"a":[1,{"b":null}],"s":)" + json::quoted(s) + R"(,"n":-12.5e+3})";
  RC_ASSERT(json::read_object(text).error.empty());
  const auto cut = *rc::gen::inRange<std::size_t>(0, text.size());
  const auto r = json::read_object(std::string_view(text).substr(0, cut));
  RC_ASSERT(!r.error.empty());
  RC_ASSERT(r.error_offset <= cut);
  RC_ASSERT(r.object.members.empty());
  RC_ASSERT(r.message().starts_with("invalid JSON at byte "));
}

// Random bytes and JSON fragments never crash the reader; what it accepts is an object whose
// names are unique, and what it refuses it explains.
RC_GTEST_PROP(json, arbitrary_input_is_read_or_explained, ()) {
  static const std::vector<std::string> fragments = {
      "{",           "}",        "[",     "]",    ":",           ",",
      " ",           "\"k\"",    "\"j\"", "\"\"", "1",           "-0.5e3",
      "01",          "true",     "tru",   "null", "\"\\u00e9\"", "\"\\ud83d\\ude00\"",
      "\"\\ud83d\"", "\"\\\"\"", "\xFF",  "\"\\"};
  std::string text;
  if (*rc::gen::arbitrary<bool>()) {
    for (const auto& f :
         *rc::gen::container<std::vector<std::string>>(rc::gen::elementOf(fragments))) {
      text += f;
    }
  } else {
    text = *rc::gen::arbitrary<std::string>();
  }
  const auto r = json::read_object(text);
  if (r.error.empty()) {
    for (std::size_t i = 0; i < r.object.members.size(); ++i) {
      RC_ASSERT(r.object.members[i].offset < text.size());
      for (std::size_t j = 0; j < i; ++j) {
        RC_ASSERT(r.object.members[i].name != r.object.members[j].name);
      }
    }
  } else {
    RC_ASSERT(r.error_offset <= text.size());
    RC_ASSERT(r.object.members.empty());
  }
}

}  // namespace
