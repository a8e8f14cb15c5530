// Tests for the published envelope: it round-trips every kind, origin length and payload, and
// anything that is not one (short, wrong magic or kind, an origin longer than the bytes) is
// refused rather than misread.
#include "envelope.hpp"

#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

namespace {

using wsx::cluster::detail::decode_envelope;
using wsx::cluster::detail::encode_envelope;

RC_GTEST_PROP(envelope, round_trips, ()) {
  const auto origin = *rc::gen::resize(255, rc::gen::nonEmpty(rc::gen::string<std::string>()));
  const auto payload = *rc::gen::string<std::string>();
  const bool text = *rc::gen::arbitrary<bool>();
  RC_PRE(origin.size() <= 255);
  std::string bytes;
  encode_envelope(bytes, origin, text ? wsx::message_kind::text : wsx::message_kind::binary,
                  payload);
  const auto e = decode_envelope(bytes);
  RC_ASSERT(e.has_value());
  RC_ASSERT(e->origin == origin);
  RC_ASSERT(e->payload == payload);
  RC_ASSERT((e->kind == wsx::message_kind::text) == text);
}

TEST(envelope, anything_else_is_refused) {
  EXPECT_FALSE(decode_envelope(""));
  EXPECT_FALSE(decode_envelope("w1t"));
  EXPECT_FALSE(
      decode_envelope("x1t\x01"
                      "ahello"));
  EXPECT_FALSE(
      decode_envelope("w2t\x01"
                      "ahello"));
  EXPECT_FALSE(
      decode_envelope("w1x\x01"
                      "ahello"));
  EXPECT_FALSE(decode_envelope(std::string_view("w1t\x00hello", 9)));
  EXPECT_FALSE(
      decode_envelope("w1t\x09"
                      "abc"));
  const auto e = decode_envelope(
      "w1b\x01"
      "a");
  ASSERT_TRUE(e);
  EXPECT_EQ(e->origin, "a");
  EXPECT_EQ(e->payload, "");
}

}  // namespace
