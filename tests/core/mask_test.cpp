// Tests for detail::apply_mask / copy_masked against a byte-at-a-time reference of RFC 6455 §5.3,
// for every length 0..300, every key phase and every source/destination misalignment.
#include "detail/mask.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstdint>
#include <vector>

#include "support/test_support.hpp"

namespace {

using wsx::detail::apply_mask;
using wsx::detail::copy_masked;
using wsx::detail::mask_key;
using wsx::test::bytes;

// RFC 6455 §5.3: transformed-octet-i = original-octet-i XOR masking-key-octet-(i MOD 4), where
// i counts from the start of the payload; a piece starting at `phase` continues that count.
std::vector<std::byte> reference_mask(std::vector<std::byte> data, const mask_key& key,
                                      std::size_t phase) {
  for (std::size_t i = 0; i < data.size(); ++i) data[i] ^= key[(phase + i) % 4];
  return data;
}

std::vector<std::byte> pattern(std::size_t n, std::uint32_t seed) {
  std::vector<std::byte> out(n);
  std::uint32_t x = seed * 2654435761u + 1;
  for (auto& b : out) {
    x = x * 1103515245u + 12345u;
    b = static_cast<std::byte>(x >> 24);
  }
  return out;
}

constexpr mask_key test_key = {std::byte{0x37}, std::byte{0xFA}, std::byte{0x21}, std::byte{0x3D}};
constexpr std::byte canary{0xA5};
constexpr std::size_t guard = 32;  // canary bytes on each side of the area under test

TEST(mask, rfc6455_section_5_7_example) {
  // "A single-frame masked text message": 0x81 0x85 0x37 0xfa 0x21 0x3d 0x7f 0x9f 0x4d 0x51 0x58
  auto data = bytes("Hello");
  EXPECT_EQ(apply_mask(data.data(), data.size(), test_key, 0), 1u);
  EXPECT_EQ(data, bytes({0x7F, 0x9F, 0x4D, 0x51, 0x58}));
  EXPECT_EQ(apply_mask(data.data(), data.size(), test_key, 0), 1u);
  EXPECT_EQ(data, bytes("Hello"));
}

TEST(mask, zero_length_returns_phase_and_touches_nothing) {
  for (std::size_t phase = 0; phase < 4; ++phase) {
    EXPECT_EQ(apply_mask(nullptr, 0, test_key, phase), phase);
    EXPECT_EQ(copy_masked(nullptr, nullptr, 0, test_key, phase), phase);
  }
}

// Every length 0..300 x phase 0..3 x destination offset 0..15, in place, with canaries around.
TEST(mask, apply_mask_matches_reference_everywhere) {
  std::vector<std::byte> storage(guard + 16 + 300 + guard);
  for (std::size_t n = 0; n <= 300; ++n) {
    const auto original = pattern(n, static_cast<std::uint32_t>(n));
    for (std::size_t phase = 0; phase < 4; ++phase) {
      const auto want = reference_mask(original, test_key, phase);
      for (std::size_t offset = 0; offset < 16; ++offset) {
        std::fill(storage.begin(), storage.end(), canary);
        std::byte* data = storage.data() + guard + offset;
        std::copy(original.begin(), original.end(), data);
        ASSERT_EQ(apply_mask(data, n, test_key, phase), (phase + n) % 4);
        ASSERT_TRUE(std::equal(want.begin(), want.end(), data))
            << "n=" << n << " phase=" << phase << " offset=" << offset;
        ASSERT_TRUE(std::all_of(storage.begin(), storage.begin() + guard + offset,
                                [](std::byte b) { return b == canary; }));
        ASSERT_TRUE(std::all_of(data + n, storage.data() + storage.size(),
                                [](std::byte b) { return b == canary; }));
      }
    }
  }
}

// Every length 0..300 x phase x independent source and destination misalignment.
TEST(mask, copy_masked_matches_reference_everywhere) {
  std::vector<std::byte> src_storage(16 + 300);
  std::vector<std::byte> dst_storage(guard + 16 + 300 + guard);
  for (std::size_t n = 0; n <= 300; ++n) {
    const auto original = pattern(n, static_cast<std::uint32_t>(n) + 7);
    for (std::size_t phase = 0; phase < 4; ++phase) {
      const auto want = reference_mask(original, test_key, phase);
      for (std::size_t src_offset = 0; src_offset < 16; ++src_offset) {
        std::byte* src = src_storage.data() + src_offset;
        std::copy(original.begin(), original.end(), src);
        for (std::size_t dst_offset = 0; dst_offset < 16; ++dst_offset) {
          std::fill(dst_storage.begin(), dst_storage.end(), canary);
          std::byte* dst = dst_storage.data() + guard + dst_offset;
          ASSERT_EQ(copy_masked(dst, src, n, test_key, phase), (phase + n) % 4);
          ASSERT_TRUE(std::equal(want.begin(), want.end(), dst))
              << "n=" << n << " phase=" << phase << " src+" << src_offset << " dst+" << dst_offset;
          ASSERT_TRUE(std::equal(original.begin(), original.end(), src)) << "source modified";
          ASSERT_TRUE(std::all_of(dst_storage.begin(), dst_storage.begin() + guard + dst_offset,
                                  [](std::byte b) { return b == canary; }));
          ASSERT_TRUE(std::all_of(dst + n, dst_storage.data() + dst_storage.size(),
                                  [](std::byte b) { return b == canary; }));
        }
      }
    }
  }
}

TEST(mask, copy_masked_in_place) {
  for (std::size_t n : {0u, 3u, 17u, 64u, 100u, 1000u}) {
    auto data = pattern(n, 99);
    const auto want = reference_mask(data, test_key, 2);
    EXPECT_EQ(copy_masked(data.data(), data.data(), n, test_key, 2), (2 + n) % 4);
    EXPECT_EQ(data, want);
  }
}

TEST(mask, large_buffer_matches_reference) {
  const auto original = pattern(1 << 20, 5);
  auto data = original;
  EXPECT_EQ(apply_mask(data.data() + 1, data.size() - 1, test_key, 3), (3 + data.size() - 1) % 4);
  auto want = original;
  for (std::size_t i = 1; i < want.size(); ++i) want[i] ^= test_key[(3 + i - 1) % 4];
  EXPECT_EQ(data, want);
}

// ---- properties ------------------------------------------------------------------------------
rc::Gen<mask_key> any_key() {
  return rc::gen::map(rc::gen::arbitrary<std::uint32_t>(), [](std::uint32_t k) {
    return mask_key{static_cast<std::byte>(k), static_cast<std::byte>(k >> 8),
                    static_cast<std::byte>(k >> 16), static_cast<std::byte>(k >> 24)};
  });
}

rc::Gen<std::vector<std::byte>> any_bytes() {
  return rc::gen::map(
      rc::gen::container<std::vector<std::uint8_t>>(rc::gen::arbitrary<std::uint8_t>()),
      [](const std::vector<std::uint8_t>& v) {
        std::vector<std::byte> out(v.size());
        std::transform(v.begin(), v.end(), out.begin(),
                       [](std::uint8_t b) { return std::byte{b}; });
        return out;
      });
}

RC_GTEST_PROP(mask_prop, masking_twice_restores, ()) {
  const auto original = *any_bytes();
  const auto key = *any_key();
  const auto phase = *rc::gen::inRange<std::size_t>(0, 4);
  auto data = original;
  apply_mask(data.data(), data.size(), key, phase);
  RC_ASSERT(data == reference_mask(original, key, phase));
  std::vector<std::byte> copy(data.size());
  copy_masked(copy.data(), data.data(), data.size(), key, phase);
  RC_ASSERT(copy == original);
}

// A payload masked piece by piece, threading the returned phase, equals masking it whole.
RC_GTEST_PROP(mask_prop, pieces_chain_through_phase, ()) {
  const auto original = *any_bytes();
  const auto key = *any_key();
  auto cuts = *rc::gen::container<std::vector<std::size_t>>(rc::gen::arbitrary<std::size_t>());
  for (auto& c : cuts) c %= original.size() + 1;
  cuts.push_back(0);
  cuts.push_back(original.size());
  std::sort(cuts.begin(), cuts.end());

  auto in_place = original;
  std::vector<std::byte> copied(original.size());
  std::size_t phase_a = 0;
  std::size_t phase_b = 0;
  for (std::size_t i = 0; i + 1 < cuts.size(); ++i) {
    const std::size_t len = cuts[i + 1] - cuts[i];
    phase_a = apply_mask(in_place.data() + cuts[i], len, key, phase_a);
    phase_b = copy_masked(copied.data() + cuts[i], original.data() + cuts[i], len, key, phase_b);
  }
  const auto want = reference_mask(original, key, 0);
  RC_ASSERT(in_place == want);
  RC_ASSERT(copied == want);
  RC_ASSERT(phase_a == original.size() % 4);
  RC_ASSERT(phase_b == original.size() % 4);
}

}  // namespace
