// Tests for detail::utf8_validator: classic vectors with the exact failing byte, the ASCII fast
// path at every offset, and properties against a reference decoder written from RFC 3629.
#include "detail/utf8.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <ostream>
#include <string>
#include <vector>

#include "support/test_support.hpp"

namespace {

using wsx::bytes_view;
using wsx::detail::is_valid_utf8;
using wsx::detail::utf8_validator;
using wsx::test::bytes;

// ---- reference ------------------------------------------------------------------------------
// A scalar decoder that reasons about code point values rather than byte tables: a partial
// sequence is viable while some completion of it still encodes a scalar value (RFC 3629 §3: not
// a surrogate, at most U+10FFFF) in the shortest form for its length (RFC 3629 §3: overlongs
// are invalid). The first byte after which no completion exists is where validation fails.
struct reference_result {
  std::optional<std::size_t> fail_at;  // index of the first impossible byte
  bool complete = true;                // ends on a code point boundary (meaningless on failure)
};

bool viable(std::uint32_t prefix, int continuation_bytes_left, int length) {
  static constexpr std::uint32_t min_for_length[] = {0, 0x0, 0x80, 0x800, 0x10000};
  static constexpr std::uint32_t max_for_length[] = {0, 0x7F, 0x7FF, 0xFFFF, 0x10FFFF};
  const int free_bits = 6 * continuation_bytes_left;
  const std::uint64_t lo = std::uint64_t{prefix} << free_bits;
  const std::uint64_t hi = lo | ((std::uint64_t{1} << free_bits) - 1);
  const std::uint64_t a = std::max<std::uint64_t>(lo, min_for_length[length]);
  const std::uint64_t b = std::min<std::uint64_t>(hi, max_for_length[length]);
  if (a > b) return false;                       // too small (overlong) or too large
  if (a >= 0xD800 && b <= 0xDFFF) return false;  // only surrogates remain
  return true;
}

reference_result reference_validate(bytes_view in) {
  std::size_t i = 0;
  while (i < in.size()) {
    const auto lead = std::to_integer<std::uint32_t>(in[i]);
    int length = 0;
    std::uint32_t cp = 0;
    if (lead < 0x80) {
      length = 1, cp = lead;
    } else if ((lead & 0xE0) == 0xC0) {
      length = 2, cp = lead & 0x1F;
    } else if ((lead & 0xF0) == 0xE0) {
      length = 3, cp = lead & 0x0F;
    } else if ((lead & 0xF8) == 0xF0) {
      length = 4, cp = lead & 0x07;
    } else {
      return {i, false};  // a continuation byte or a 5/6-byte or FE/FF lead
    }
    if (!viable(cp, length - 1, length)) return {i, false};
    for (int k = 1; k < length; ++k) {
      if (i + static_cast<std::size_t>(k) == in.size()) return {std::nullopt, false};
      const auto c = std::to_integer<std::uint32_t>(in[i + static_cast<std::size_t>(k)]);
      if ((c & 0xC0) != 0x80) return {i + static_cast<std::size_t>(k), false};
      cp = (cp << 6) | (c & 0x3F);
      if (!viable(cp, length - 1 - k, length)) return {i + static_cast<std::size_t>(k), false};
    }
    i += static_cast<std::size_t>(length);
  }
  return {std::nullopt, true};
}

// RFC 3629 §3 encoding of a scalar value.
void encode(std::uint32_t cp, std::vector<std::byte>& out) {
  auto put = [&out](std::uint32_t b) { out.push_back(static_cast<std::byte>(b)); };
  if (cp < 0x80) {
    put(cp);
  } else if (cp < 0x800) {
    put(0xC0 | (cp >> 6)), put(0x80 | (cp & 0x3F));
  } else if (cp < 0x10000) {
    put(0xE0 | (cp >> 12)), put(0x80 | ((cp >> 6) & 0x3F)), put(0x80 | (cp & 0x3F));
  } else {
    put(0xF0 | (cp >> 18)), put(0x80 | ((cp >> 12) & 0x3F)), put(0x80 | ((cp >> 6) & 0x3F));
    put(0x80 | (cp & 0x3F));
  }
}

// Feeds one byte at a time; returns the index of the byte at which the validator first failed.
std::optional<std::size_t> first_failing_byte(bytes_view in) {
  utf8_validator v;
  for (std::size_t i = 0; i < in.size(); ++i) {
    if (!v.feed(in.subspan(i, 1))) return i;
  }
  return std::nullopt;
}

// Checks the validator against the reference three ways: whole buffer, exact fail position via
// whole-buffer prefixes (so the fast path is the one deciding), and one byte at a time.
void expect_matches_reference(bytes_view in) {
  const reference_result want = reference_validate(in);
  utf8_validator whole;
  const bool ok = whole.feed(in);
  EXPECT_EQ(ok, !want.fail_at.has_value());
  EXPECT_EQ(whole.failed(), want.fail_at.has_value());
  if (!want.fail_at) {
    EXPECT_EQ(whole.complete(), want.complete);
    EXPECT_EQ(is_valid_utf8(in), want.complete);
  } else {
    EXPECT_FALSE(whole.complete());
    EXPECT_FALSE(is_valid_utf8(in));
    utf8_validator before, at;
    EXPECT_TRUE(before.feed(in.first(*want.fail_at))) << "failed before byte " << *want.fail_at;
    EXPECT_FALSE(at.feed(in.first(*want.fail_at + 1))) << "did not fail at " << *want.fail_at;
  }
  EXPECT_EQ(first_failing_byte(in), want.fail_at);
}

// ---- classic vectors -----------------------------------------------------------------------
struct vector_case {
  const char* name;
  std::vector<std::byte> in;
  std::optional<std::size_t> fail_at;
  bool complete;
};

// gtest prints the case name instead of a hex dump of the struct.
void PrintTo(const vector_case& c, std::ostream* os) { *os << c.name; }

class utf8_vectors : public ::testing::TestWithParam<vector_case> {};

TEST_P(utf8_vectors, verdict_and_fail_position) {
  const vector_case& c = GetParam();
  utf8_validator v;
  const bool ok = v.feed(c.in);
  EXPECT_EQ(ok, !c.fail_at.has_value());
  EXPECT_EQ(v.failed(), c.fail_at.has_value());
  EXPECT_EQ(v.complete(), c.complete);
  EXPECT_EQ(is_valid_utf8(c.in), !c.fail_at && c.complete);
  EXPECT_EQ(first_failing_byte(c.in), c.fail_at);
  // The reference agrees with every hand-written expectation.
  const reference_result r = reference_validate(c.in);
  EXPECT_EQ(r.fail_at, c.fail_at);
  if (!c.fail_at) {
    EXPECT_EQ(r.complete, c.complete);
  }
}

constexpr std::nullopt_t none = std::nullopt;  // no byte fails

// Markus Kuhn's UTF-8 decoder capability and stress test, sections 1-5, plus RFC 3629 edges.
// clang-format off
INSTANTIATE_TEST_SUITE_P(
    kuhn, utf8_vectors,
    ::testing::Values(
        vector_case{"empty", {}, none, true},
        vector_case{"ascii", bytes("Hello, world"), none, true},
        vector_case{"greek_kosme", bytes({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC,
                                          0xCE, 0xB5}), none, true},
        // 2.1 first code point of each length, 2.2 last, 2.3 other boundaries
        vector_case{"u0000", bytes({0x00}), none, true},
        vector_case{"u0080", bytes({0xC2, 0x80}), none, true},
        vector_case{"u0800", bytes({0xE0, 0xA0, 0x80}), none, true},
        vector_case{"u10000", bytes({0xF0, 0x90, 0x80, 0x80}), none, true},
        vector_case{"u007f", bytes({0x7F}), none, true},
        vector_case{"u07ff", bytes({0xDF, 0xBF}), none, true},
        vector_case{"uffff", bytes({0xEF, 0xBF, 0xBF}), none, true},
        vector_case{"ud7ff", bytes({0xED, 0x9F, 0xBF}), none, true},
        vector_case{"ue000", bytes({0xEE, 0x80, 0x80}), none, true},
        vector_case{"ufffd", bytes({0xEF, 0xBF, 0xBD}), none, true},
        vector_case{"u10ffff", bytes({0xF4, 0x8F, 0xBF, 0xBF}), none, true},
        vector_case{"u110000", bytes({0xF4, 0x90, 0x80, 0x80}), 1, false},
        vector_case{"u13ffff_f4_bf", bytes({0xF4, 0xBF, 0xBF, 0xBF}), 1, false},
        vector_case{"f5_lead", bytes({0xF5, 0x80, 0x80, 0x80}), 0, false},
        // 3.1 unexpected continuation bytes
        vector_case{"lone_80", bytes({0x80}), 0, false},
        vector_case{"lone_bf", bytes({0xBF}), 0, false},
        vector_case{"ascii_then_cont", bytes({0x41, 0x80, 0x41}), 1, false},
        vector_case{"extra_cont", bytes({0xC2, 0x80, 0x80}), 2, false},
        // 3.2 lonely start bytes followed by a space
        vector_case{"c2_space", bytes({0xC2, 0x20}), 1, false},
        vector_case{"e1_space", bytes({0xE1, 0x20}), 1, false},
        vector_case{"e1_80_space", bytes({0xE1, 0x80, 0x20}), 2, false},
        vector_case{"f1_80_80_space", bytes({0xF1, 0x80, 0x80, 0x20}), 3, false},
        // 3.3 / 3.4 sequences with the last continuation byte missing, at end of input
        vector_case{"trunc_c2", bytes({0xC2}), none, false},
        vector_case{"trunc_e0_a0", bytes({0xE0, 0xA0}), none, false},
        vector_case{"trunc_ef", bytes({0xEF}), none, false},
        vector_case{"trunc_f0_90_80", bytes({0xF0, 0x90, 0x80}), none, false},
        vector_case{"trunc_f4_8f", bytes({0xF4, 0x8F}), none, false},
        vector_case{"trunc_after_ascii", bytes({0x61, 0x62, 0xE2, 0x82}), none, false},
        // 3.5 impossible bytes
        vector_case{"fe", bytes({0xFE}), 0, false},
        vector_case{"ff", bytes({0xFF}), 0, false},
        vector_case{"fe_fe_ff_ff", bytes({0xFE, 0xFE, 0xFF, 0xFF}), 0, false},
        // 3.1 / 5-byte and 6-byte forms (RFC 2279, removed by RFC 3629)
        vector_case{"five_byte", bytes({0xF8, 0x88, 0x80, 0x80, 0x80}), 0, false},
        vector_case{"six_byte", bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80}), 0, false},
        vector_case{"five_byte_max", bytes({0xFB, 0xBF, 0xBF, 0xBF, 0xBF}), 0, false},
        vector_case{"six_byte_max", bytes({0xFD, 0xBF, 0xBF, 0xBF, 0xBF, 0xBF}), 0, false},
        // 4.1 overlong "/" in every length; 4.2 the largest overlong of each length
        vector_case{"overlong_slash_2", bytes({0xC0, 0xAF}), 0, false},
        vector_case{"overlong_slash_3", bytes({0xE0, 0x80, 0xAF}), 1, false},
        vector_case{"overlong_slash_4", bytes({0xF0, 0x80, 0x80, 0xAF}), 1, false},
        vector_case{"overlong_slash_5", bytes({0xF8, 0x80, 0x80, 0x80, 0xAF}), 0, false},
        vector_case{"overlong_slash_6", bytes({0xFC, 0x80, 0x80, 0x80, 0x80, 0xAF}), 0, false},
        vector_case{"overlong_max_2", bytes({0xC1, 0xBF}), 0, false},
        vector_case{"overlong_max_3", bytes({0xE0, 0x9F, 0xBF}), 1, false},
        vector_case{"overlong_max_4", bytes({0xF0, 0x8F, 0xBF, 0xBF}), 1, false},
        // 4.3 overlong NUL
        vector_case{"overlong_nul_2", bytes({0xC0, 0x80}), 0, false},
        vector_case{"overlong_nul_3", bytes({0xE0, 0x80, 0x80}), 1, false},
        vector_case{"overlong_nul_4", bytes({0xF0, 0x80, 0x80, 0x80}), 1, false},
        // 5.1 single UTF-16 surrogates, 5.2 paired surrogates
        vector_case{"ud800", bytes({0xED, 0xA0, 0x80}), 1, false},
        vector_case{"udb7f", bytes({0xED, 0xAD, 0xBF}), 1, false},
        vector_case{"udb80", bytes({0xED, 0xAE, 0x80}), 1, false},
        vector_case{"udbff", bytes({0xED, 0xAF, 0xBF}), 1, false},
        vector_case{"udc00", bytes({0xED, 0xB0, 0x80}), 1, false},
        vector_case{"udf80", bytes({0xED, 0xBE, 0x80}), 1, false},
        vector_case{"udfff", bytes({0xED, 0xBF, 0xBF}), 1, false},
        vector_case{"ud800_udc00", bytes({0xED, 0xA0, 0x80, 0xED, 0xB0, 0x80}), 1, false},
        vector_case{"udbff_udfff", bytes({0xED, 0xAF, 0xBF, 0xED, 0xBF, 0xBF}), 1, false},
        // 5.3 noncharacters are valid scalar values and must pass
        vector_case{"ufffe", bytes({0xEF, 0xBF, 0xBE}), none, true},
        vector_case{"ufdd0", bytes({0xEF, 0xB7, 0x90}), none, true},
        vector_case{"u10fffe", bytes({0xF4, 0x8F, 0xBF, 0xBE}), none, true},
        // Autobahn 6.3.1-style: valid text then an invalid byte well inside the message
        vector_case{"kosme_then_surrogate",
                    bytes({0xCE, 0xBA, 0xE1, 0xBD, 0xB9, 0xCF, 0x83, 0xCE, 0xBC, 0xCE, 0xB5, 0xED,
                           0xA0, 0x80, 0x65, 0x64, 0x69, 0x74, 0x65, 0x64}),
                    12, false}),
    [](const ::testing::TestParamInfo<vector_case>& p) { return std::string(p.param.name); });
// clang-format on

// ---- state handling --------------------------------------------------------------------------
TEST(utf8, failure_is_sticky_until_reset) {
  utf8_validator v;
  EXPECT_FALSE(v.feed(bytes({0xC0})));
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.feed(bytes("plain ascii that is long enough for the fast path, 32+")));
  EXPECT_FALSE(v.feed({}));
  EXPECT_TRUE(v.failed());
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_FALSE(v.failed());
  EXPECT_TRUE(v.complete());
  EXPECT_TRUE(v.feed(bytes("ok")));
  EXPECT_TRUE(v.complete());
}

TEST(utf8, reset_discards_a_pending_sequence) {
  utf8_validator v;
  EXPECT_TRUE(v.feed(bytes({0xE2, 0x82})));
  EXPECT_FALSE(v.complete());
  v.reset();
  EXPECT_TRUE(v.complete());
  EXPECT_FALSE(v.feed(bytes({0xAC})));  // the tail of the discarded euro sign is now stray
}

TEST(utf8, sequence_split_across_feeds) {
  // U+1F600 split at every point, with a long ASCII run on both sides.
  const std::string pad(40, 'x');
  const auto whole = bytes(pad + "\xF0\x9F\x98\x80" + pad);
  for (std::size_t cut = 0; cut <= whole.size(); ++cut) {
    utf8_validator v;
    EXPECT_TRUE(v.feed(bytes_view(whole).first(cut)));
    EXPECT_TRUE(v.feed(bytes_view(whole).subspan(cut)));
    EXPECT_TRUE(v.complete()) << "cut at " << cut;
  }
}

TEST(utf8, empty_feed_keeps_state) {
  utf8_validator v;
  EXPECT_TRUE(v.feed(bytes({0xE2})));
  EXPECT_TRUE(v.feed({}));
  EXPECT_FALSE(v.complete());
  EXPECT_TRUE(v.feed(bytes({0x82, 0xAC})));
  EXPECT_TRUE(v.complete());
}

// ---- ASCII fast path -------------------------------------------------------------------------
// A bad byte at every offset of ASCII buffers long enough for the 64-, 16- and 8-byte loops,
// starting at every alignment: the failure must land on exactly that byte.
TEST(utf8, fast_path_finds_bad_byte_at_every_offset) {
  std::vector<std::byte> storage(300 + 16);
  for (std::size_t align = 0; align < 16; ++align) {
    for (std::size_t len : {1u, 7u, 8u, 9u, 15u, 16u, 17u, 63u, 64u, 65u, 130u, 300u}) {
      for (std::size_t bad = 0; bad < len; ++bad) {
        std::span<std::byte> buf(storage.data() + align, len);
        std::fill(buf.begin(), buf.end(), std::byte{'a'});
        buf[bad] = std::byte{0xFF};
        EXPECT_EQ(first_failing_byte(buf), bad);
        utf8_validator before, at;
        EXPECT_TRUE(before.feed(buf.first(bad)));
        EXPECT_FALSE(at.feed(buf.first(bad + 1))) << "align " << align << " len " << len;
        EXPECT_FALSE(is_valid_utf8(buf));
      }
    }
  }
}

TEST(utf8, fast_path_resumes_after_multibyte) {
  // Multi-byte sequences placed so they straddle 8/16/64-byte boundaries, between ASCII runs.
  for (std::size_t pos = 0; pos < 140; ++pos) {
    auto text = bytes(std::string(pos, 'a') + "\xE2\x82\xAC" + std::string(150, 'b') + "\xC3\xA9" +
                      std::string(70, 'c'));
    EXPECT_TRUE(is_valid_utf8(text)) << pos;
    text.back() = std::byte{0x80};  // a stray continuation byte after the last run
    EXPECT_EQ(first_failing_byte(text), text.size() - 1);
    utf8_validator v;
    EXPECT_FALSE(v.feed(text));
    utf8_validator w;
    EXPECT_TRUE(w.feed(bytes_view(text).first(text.size() - 1)));
  }
}

TEST(utf8, long_ascii_is_valid) {
  const auto text = bytes(std::string(100000, 'q'));
  EXPECT_TRUE(is_valid_utf8(text));
}

// ---- properties ------------------------------------------------------------------------------
// Bytes biased toward the interesting classes, so random strings get past the first byte often.
rc::Gen<std::vector<std::byte>> interesting_bytes() {
  auto byte = rc::gen::oneOf(rc::gen::inRange<int>(0x00, 0x80), rc::gen::inRange<int>(0x80, 0xC0),
                             rc::gen::inRange<int>(0xC0, 0x100),
                             rc::gen::element<int>(0xC0, 0xC1, 0xC2, 0xDF, 0xE0, 0xED, 0xEF, 0xF0,
                                                   0xF4, 0xF5, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF));
  return rc::gen::map(rc::gen::container<std::vector<int>>(byte), [](const std::vector<int>& v) {
    std::vector<std::byte> out;
    for (int b : v) out.push_back(static_cast<std::byte>(b));
    return out;
  });
}

// Scalar values, biased to boundaries and ASCII runs.
rc::Gen<std::uint32_t> scalar_value() {
  auto any = rc::gen::suchThat(rc::gen::inRange<std::uint32_t>(0, 0x110000),
                               [](std::uint32_t cp) { return cp < 0xD800 || cp > 0xDFFF; });
  return rc::gen::oneOf(rc::gen::inRange<std::uint32_t>(0x20, 0x7F), any,
                        rc::gen::element<std::uint32_t>(0x0, 0x7F, 0x80, 0x7FF, 0x800, 0xD7FF,
                                                        0xE000, 0xFFFD, 0xFFFF, 0x10000, 0x10FFFF));
}

// Splits `in` at the given cut points (taken modulo size) and feeds the pieces in order.
struct piecewise_result {
  bool ok;
  bool complete;
};

piecewise_result feed_in_pieces(bytes_view in, std::vector<std::size_t> cuts,
                                const std::optional<std::size_t>& fail_at) {
  for (auto& c : cuts) c = in.empty() ? 0 : c % (in.size() + 1);
  cuts.push_back(0);
  cuts.push_back(in.size());
  std::sort(cuts.begin(), cuts.end());
  utf8_validator v;
  bool ok = true;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    ok = v.feed(in.subspan(cuts[i], cuts[i + 1] - cuts[i]));
    // After each piece, failed() says whether the first bad byte has been consumed yet.
    RC_ASSERT(v.failed() == (fail_at.has_value() && *fail_at < cuts[i + 1]));
  }
  return {ok, v.complete()};
}

RC_GTEST_PROP(utf8_prop, random_bytes_match_reference, ()) {
  const auto in = *interesting_bytes();
  const reference_result want = reference_validate(in);
  utf8_validator v;
  RC_ASSERT(v.feed(in) == !want.fail_at.has_value());
  RC_ASSERT(is_valid_utf8(in) == (!want.fail_at && want.complete));
  if (want.fail_at) {
    utf8_validator before, at;
    RC_ASSERT(before.feed(bytes_view(in).first(*want.fail_at)));
    RC_ASSERT(!at.feed(bytes_view(in).first(*want.fail_at + 1)));
  } else {
    RC_ASSERT(v.complete() == want.complete);
  }
  RC_ASSERT(first_failing_byte(in) == want.fail_at);
}

RC_GTEST_PROP(utf8_prop, random_cuts_give_same_verdict, ()) {
  const auto in = *interesting_bytes();
  const auto cuts =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::arbitrary<std::size_t>());
  const reference_result want = reference_validate(in);
  const piecewise_result got = feed_in_pieces(in, cuts, want.fail_at);
  utf8_validator whole;
  const bool whole_ok = whole.feed(in);
  RC_ASSERT(got.ok == whole_ok);
  RC_ASSERT(got.complete == whole.complete());
}

RC_GTEST_PROP(utf8_prop, encoded_scalars_are_valid_in_any_cuts, ()) {
  const auto cps = *rc::gen::container<std::vector<std::uint32_t>>(scalar_value());
  std::vector<std::byte> in;
  for (std::uint32_t cp : cps) encode(cp, in);
  RC_ASSERT(is_valid_utf8(in));
  const auto cuts =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::arbitrary<std::size_t>());
  const piecewise_result got = feed_in_pieces(in, cuts, std::nullopt);
  RC_ASSERT(got.ok);
  RC_ASSERT(got.complete);
}

RC_GTEST_PROP(utf8_prop, one_corrupted_byte_matches_reference, ()) {
  const auto cps =
      *rc::gen::nonEmpty(rc::gen::container<std::vector<std::uint32_t>>(scalar_value()));
  std::vector<std::byte> in;
  for (std::uint32_t cp : cps) encode(cp, in);
  const auto pos = *rc::gen::inRange<std::size_t>(0, in.size());
  in[pos] = static_cast<std::byte>(*rc::gen::inRange<int>(0, 256));
  const bool truncate = *rc::gen::arbitrary<bool>();
  if (truncate) in.resize(*rc::gen::inRange<std::size_t>(0, in.size() + 1));
  const reference_result want = reference_validate(in);
  utf8_validator v;
  RC_ASSERT(v.feed(in) == !want.fail_at.has_value());
  if (want.fail_at) {
    utf8_validator before, at;
    RC_ASSERT(before.feed(bytes_view(in).first(*want.fail_at)));
    RC_ASSERT(!at.feed(bytes_view(in).first(*want.fail_at + 1)));
  } else {
    RC_ASSERT(v.complete() == want.complete);
  }
  const auto cuts =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::arbitrary<std::size_t>());
  const piecewise_result got = feed_in_pieces(in, cuts, want.fail_at);
  RC_ASSERT(got.ok == !want.fail_at.has_value());
}

// Every 1- to 4-byte string over a set of representative bytes (one per class boundary) agrees
// with the reference: a small exhaustive check of the transition table.
TEST(utf8, exhaustive_short_strings_over_class_representatives) {
  const std::vector<int> reps = {0x00, 0x41, 0x7F, 0x80, 0x8F, 0x90, 0x9F, 0xA0, 0xBF, 0xC0,
                                 0xC1, 0xC2, 0xDF, 0xE0, 0xE1, 0xEC, 0xED, 0xEE, 0xEF, 0xF0,
                                 0xF1, 0xF3, 0xF4, 0xF5, 0xF7, 0xF8, 0xFB, 0xFC, 0xFE, 0xFF};
  std::vector<std::byte> in;
  auto rec = [&](auto&& self, int depth) -> void {
    expect_matches_reference(in);
    if (depth == 4) return;
    for (int b : reps) {
      in.push_back(static_cast<std::byte>(b));
      self(self, depth + 1);
      in.pop_back();
    }
  };
  rec(rec, 0);
}

}  // namespace
