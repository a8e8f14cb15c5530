// Tests for detail close rules (RFC 6455 §5.5.1, §7.4): which codes may be on the wire (all 65536
// checked against the RFC's ranges), parsing received close payloads with the specific error for
// each fault, checking what the application asks to send, and writing the payload.
#include "detail/close_rules.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <cstdint>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

using wsx::close_code;
using wsx::errc;
using wsx::detail::check_close_request;
using wsx::detail::close_payload;
using wsx::detail::is_sendable_close_code;
using wsx::detail::max_close_reason;
using wsx::detail::parse_close_payload;
using wsx::detail::write_close_payload;
using wsx::test::bytes;

// RFC 6455 §7.4.1 defines 1000-1003 and 1007-1011 (1012-1014 are IANA-registered since);
// 1004 is reserved, 1005, 1006 and 1015 MUST NOT be sent; §7.4.2: 0-999 unused, 1016-2999
// reserved for the protocol, 3000-3999 registered, 4000-4999 private use, 5000+ undefined.
bool sendable_by_rfc(std::uint32_t c) {
  return (c >= 1000 && c <= 1003) || (c >= 1007 && c <= 1014) || (c >= 3000 && c <= 4999);
}

close_code code(std::uint16_t c) { return static_cast<close_code>(c); }

// parse_close_payload as one readable line: "error <name>" or "<code> \"<reason>\"".
std::string parsed(const std::vector<std::byte>& payload) {
  close_payload out;
  out.code = code(1);
  out.reason = "stale";
  const errc e = parse_close_payload(payload, out);
  if (e != errc{}) {
    // on failure nothing of the payload is reported
    EXPECT_EQ(out.code, close_code::no_status);
    EXPECT_EQ(out.reason, "");
    switch (e) {
      case errc::bad_close_payload:
        return "error bad_close_payload";
      case errc::bad_close_code:
        return "error bad_close_code";
      case errc::invalid_utf8:
        return "error invalid_utf8";
      default:
        return "error errc(" + std::to_string(static_cast<int>(e)) + ")";
    }
  }
  if (!out.reason.empty()) {
    // the reason is a view of the payload, not a copy
    EXPECT_EQ(static_cast<const void*>(out.reason.data()),
              static_cast<const void*>(payload.data() + 2));
  }
  return std::to_string(static_cast<unsigned>(out.code)) + " \"" + std::string(out.reason) + "\"";
}

std::vector<std::byte> with_code(std::uint16_t c, std::string_view reason = "") {
  auto p = bytes({c >> 8, c & 0xFF});
  const auto r = bytes(reason);
  p.insert(p.end(), r.begin(), r.end());
  return p;
}

// ---- is_sendable_close_code ---------------------------------------------------------------------

TEST(close_rules, every_code_against_the_rfc_ranges) {
  std::size_t sendable = 0;
  for (std::uint32_t c = 0; c <= 0xFFFF; ++c) {
    const bool got = is_sendable_close_code(static_cast<std::uint16_t>(c));
    ASSERT_EQ(got, sendable_by_rfc(c)) << "code " << c;
    sendable += got;
  }
  EXPECT_EQ(sendable, 4u + 8u + 2000u);
}

TEST(close_rules, named_edges) {
  for (int c : {1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014, 3000, 3999,
                4000, 4999}) {
    EXPECT_TRUE(is_sendable_close_code(static_cast<std::uint16_t>(c))) << c;
  }
  for (int c : {0, 999, 1004, 1005, 1006, 1015, 1016, 2999, 5000, 65535}) {
    EXPECT_FALSE(is_sendable_close_code(static_cast<std::uint16_t>(c))) << c;
  }
}

// ---- parse_close_payload ------------------------------------------------------------------------

TEST(close_rules, parse_transcripts) {
  //        payload                               → result
  EXPECT_EQ(parsed({}), "1005 \"\"");  // empty: no status code, reported as no_status
  EXPECT_EQ(parsed(bytes({0x03})), "error bad_close_payload");
  EXPECT_EQ(parsed(bytes({0xFF})), "error bad_close_payload");
  EXPECT_EQ(parsed(bytes({0x03, 0xE8})), "1000 \"\"");
  EXPECT_EQ(parsed(with_code(1000, "bye")), "1000 \"bye\"");
  EXPECT_EQ(parsed(with_code(1001, "going")), "1001 \"going\"");
  EXPECT_EQ(parsed(with_code(4000, "private")), "4000 \"private\"");
  EXPECT_EQ(parsed(with_code(3000, "\xC3\xA9t\xC3\xA9")), "3000 \"\xC3\xA9t\xC3\xA9\"");
  EXPECT_EQ(parsed(with_code(1011, "\xF0\x9F\x98\x80")), "1011 \"\xF0\x9F\x98\x80\"");
  // codes that never appear on the wire
  EXPECT_EQ(parsed(bytes({0x03, 0xED})), "error bad_close_code");  // 1005
  EXPECT_EQ(parsed(bytes({0x03, 0xEE})), "error bad_close_code");  // 1006
  EXPECT_EQ(parsed(bytes({0x03, 0xEC})), "error bad_close_code");  // 1004
  EXPECT_EQ(parsed(bytes({0x03, 0xF7})), "error bad_close_code");  // 1015
  EXPECT_EQ(parsed(bytes({0x00, 0x00})), "error bad_close_code");  // 0
  EXPECT_EQ(parsed(bytes({0x03, 0xE7})), "error bad_close_code");  // 999
  EXPECT_EQ(parsed(bytes({0x0B, 0xB7})), "error bad_close_code");  // 2999
  EXPECT_EQ(parsed(bytes({0x13, 0x88})), "error bad_close_code");  // 5000
  EXPECT_EQ(parsed(bytes({0xFF, 0xFF})), "error bad_close_code");  // 65535
  EXPECT_EQ(parsed(with_code(1005, "bye")), "error bad_close_code");
  // the code is checked before the reason
  EXPECT_EQ(parsed(with_code(5000, "\xFF")), "error bad_close_code");
  // reasons that are not UTF-8
  EXPECT_EQ(parsed(with_code(1000, "\xFF")), "error invalid_utf8");
  EXPECT_EQ(parsed(with_code(1000, "ok\xC0\xAF")), "error invalid_utf8");        // overlong '/'
  EXPECT_EQ(parsed(with_code(1000, "\xED\xA0\x80")), "error invalid_utf8");      // surrogate
  EXPECT_EQ(parsed(with_code(1000, "bye \xE2\x82")), "error invalid_utf8");      // ends mid "€"
  EXPECT_EQ(parsed(with_code(1000, "\xF4\x90\x80\x80")), "error invalid_utf8");  // > U+10FFFF
}

TEST(close_rules, parse_longest_reason) {
  const std::string reason(max_close_reason, 'r');
  const auto p = with_code(1000, reason);
  ASSERT_EQ(p.size(), 125u);  // the largest control payload
  EXPECT_EQ(parsed(p), "1000 \"" + reason + "\"");
}

RC_GTEST_PROP(close_rules, parse_agrees_with_is_sendable_for_any_code, (std::uint16_t c)) {
  const auto p = with_code(c, "why");
  close_payload out;
  const errc e = parse_close_payload(p, out);
  if (is_sendable_close_code(c)) {
    RC_ASSERT(e == errc{});
    RC_ASSERT(static_cast<std::uint16_t>(out.code) == c);
    RC_ASSERT(out.reason == "why");
  } else {
    RC_ASSERT(e == errc::bad_close_code);
  }
}

// ---- check_close_request ------------------------------------------------------------------------

TEST(close_rules, check_request_codes) {
  EXPECT_EQ(check_close_request(close_code::normal, ""), errc{});
  EXPECT_EQ(check_close_request(close_code::going_away, "bye"), errc{});
  EXPECT_EQ(check_close_request(close_code::bad_gateway, ""), errc{});
  EXPECT_EQ(check_close_request(code(3000), ""), errc{});
  EXPECT_EQ(check_close_request(code(4999), ""), errc{});
  // reporting-only codes and codes outside the ranges are refused
  EXPECT_EQ(check_close_request(close_code::no_status, ""), errc::invalid_argument);
  EXPECT_EQ(check_close_request(close_code::abnormal, ""), errc::invalid_argument);
  EXPECT_EQ(check_close_request(code(1004), ""), errc::invalid_argument);
  EXPECT_EQ(check_close_request(code(1015), ""), errc::invalid_argument);
  EXPECT_EQ(check_close_request(code(999), ""), errc::invalid_argument);
  EXPECT_EQ(check_close_request(code(2999), ""), errc::invalid_argument);
  EXPECT_EQ(check_close_request(code(5000), ""), errc::invalid_argument);
  EXPECT_EQ(check_close_request(code(0), ""), errc::invalid_argument);
}

TEST(close_rules, check_request_reason_length) {
  EXPECT_EQ(check_close_request(close_code::normal, std::string(123, 'x')), errc{});
  EXPECT_EQ(check_close_request(close_code::normal, std::string(124, 'x')), errc::invalid_argument);
  EXPECT_EQ(check_close_request(close_code::normal, std::string(1000, 'x')),
            errc::invalid_argument);
  // the limit is in bytes: 41 x "€" is 123 bytes, 41 x "€" + "!" is 124
  std::string euros;
  for (int i = 0; i < 41; ++i) euros += "\xE2\x82\xAC";
  EXPECT_EQ(check_close_request(close_code::normal, euros), errc{});
  EXPECT_EQ(check_close_request(close_code::normal, euros + "!"), errc::invalid_argument);
}

TEST(close_rules, check_request_reason_must_be_utf8) {
  EXPECT_EQ(check_close_request(close_code::normal, "\xFF"), errc::invalid_argument);
  EXPECT_EQ(check_close_request(close_code::normal, "bye \xE2\x82"), errc::invalid_argument);
  EXPECT_EQ(check_close_request(close_code::normal, "\xED\xA0\x80"), errc::invalid_argument);
  EXPECT_EQ(check_close_request(close_code::normal, "\xC3\xA9"), errc{});
  EXPECT_EQ(check_close_request(close_code::normal, std::string_view{}), errc{});
}

// ---- write_close_payload ------------------------------------------------------------------------

TEST(close_rules, write_transcripts) {
  std::array<std::byte, 125> buf{};
  //        code     reason     → bytes
  EXPECT_EQ(write_close_payload(buf.data(), close_code::normal, "bye"), 5u);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + 5),
            bytes({0x03, 0xE8, 'b', 'y', 'e'}));
  EXPECT_EQ(write_close_payload(buf.data(), code(4999), ""), 2u);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + 2), bytes({0x13, 0x87}));
  EXPECT_EQ(write_close_payload(buf.data(), code(0xABCD), ""), 2u);
  EXPECT_EQ(std::vector<std::byte>(buf.begin(), buf.begin() + 2), bytes({0xAB, 0xCD}));
  const std::string longest(max_close_reason, 'z');
  EXPECT_EQ(write_close_payload(buf.data(), close_code::going_away, longest), 125u);
  EXPECT_EQ(buf[0], std::byte{0x03});
  EXPECT_EQ(buf[1], std::byte{0xE9});
  EXPECT_EQ(buf[124], std::byte{'z'});
}

// What check_close_request accepts, write_close_payload writes and parse_close_payload reads back.
RC_GTEST_PROP(close_rules, write_then_parse_round_trips, ()) {
  const auto c = *rc::gen::oneOf(rc::gen::inRange<std::uint16_t>(1000, 1004),
                                 rc::gen::inRange<std::uint16_t>(1007, 1015),
                                 rc::gen::inRange<std::uint16_t>(3000, 5000));
  const auto reason = *rc::gen::container<std::string>(
      *rc::gen::inRange<std::size_t>(0, max_close_reason + 1), rc::gen::inRange<char>(0x20, 0x7F));
  RC_ASSERT(check_close_request(code(c), reason) == errc{});
  std::array<std::byte, 125> buf{};
  const std::size_t n = write_close_payload(buf.data(), code(c), reason);
  RC_ASSERT(n == 2 + reason.size());
  close_payload out;
  RC_ASSERT(parse_close_payload(wsx::bytes_view(buf.data(), n), out) == errc{});
  RC_ASSERT(static_cast<std::uint16_t>(out.code) == c);
  RC_ASSERT(out.reason == reason);
}

}  // namespace
