// RFC 6455 §5.3 masking: octet i of the payload is XORed with octet (i mod 4) of the key.
//
// Theory of operation: a piece that starts at key phase p sees the key rotated left by p, and
// every whole group of 4 bytes sees that same rotation. So we build the rotated key once as a
// 32-bit pattern (byte order taken from memory, so it is endian-neutral), widen it to 64 and 128
// bits, and XOR 64 bytes per step with SSE2 (8 with a plain word elsewhere). Long inputs first
// step bytewise until the destination is 16-byte aligned, then re-rotate the key for the new
// phase. Whatever does not fill a word is done bytewise at the end. Loads of a chunk precede its
// stores, so dst == src (in-place) is safe.
#include "detail/mask.hpp"

#include <cstring>

#ifdef __SSE2__
#include <emmintrin.h>
#endif

namespace wsx::detail {
namespace {

// The key as seen by bytes that start at `phase`, laid out in memory order.
std::uint32_t rotated_key(const mask_key& key, std::size_t phase) noexcept {
  const std::byte r[4] = {key[phase & 3], key[(phase + 1) & 3], key[(phase + 2) & 3],
                          key[(phase + 3) & 3]};
  std::uint32_t w;
  std::memcpy(&w, r, sizeof w);
  return w;
}

std::size_t mask_into(std::byte* dst, const std::byte* src, std::size_t n, const mask_key& key,
                      std::size_t phase) noexcept {
  phase &= 3;
  const std::size_t end_phase = (phase + (n & 3)) & 3;

  // Align the destination so the wide stores never straddle a cache line. Only worth it when
  // the wide loop will run afterwards.
  if (n >= 64) {
    const auto misalign = reinterpret_cast<std::uintptr_t>(dst) & 15;
    for (std::size_t head = misalign == 0 ? 0 : 16 - misalign; head != 0; --head, --n) {
      *dst++ = *src++ ^ key[phase];
      phase = (phase + 1) & 3;
    }
  }

  const std::uint32_t k32 = rotated_key(key, phase);
#ifdef __SSE2__
  const __m128i k128 = _mm_set1_epi32(static_cast<int>(k32));
  while (n >= 64) {
    const auto* s = reinterpret_cast<const __m128i*>(src);
    auto* d = reinterpret_cast<__m128i*>(dst);
    const __m128i a = _mm_loadu_si128(s);
    const __m128i b = _mm_loadu_si128(s + 1);
    const __m128i c = _mm_loadu_si128(s + 2);
    const __m128i e = _mm_loadu_si128(s + 3);
    _mm_storeu_si128(d, _mm_xor_si128(a, k128));
    _mm_storeu_si128(d + 1, _mm_xor_si128(b, k128));
    _mm_storeu_si128(d + 2, _mm_xor_si128(c, k128));
    _mm_storeu_si128(d + 3, _mm_xor_si128(e, k128));
    src += 64;
    dst += 64;
    n -= 64;
  }
  while (n >= 16) {
    const __m128i a = _mm_loadu_si128(reinterpret_cast<const __m128i*>(src));
    _mm_storeu_si128(reinterpret_cast<__m128i*>(dst), _mm_xor_si128(a, k128));
    src += 16;
    dst += 16;
    n -= 16;
  }
#endif
  const std::uint64_t k64 = (std::uint64_t{k32} << 32) | k32;  // both halves equal: endian-neutral
  while (n >= 8) {
    std::uint64_t w;
    std::memcpy(&w, src, sizeof w);
    w ^= k64;
    std::memcpy(dst, &w, sizeof w);
    src += 8;
    dst += 8;
    n -= 8;
  }
  // Whole words kept the phase; the tail continues from it.
  for (std::size_t i = 0; i < n; ++i) dst[i] = src[i] ^ key[(phase + i) & 3];
  return end_phase;
}

}  // namespace

std::size_t apply_mask(std::byte* data, std::size_t n, mask_key key, std::size_t phase) noexcept {
  return mask_into(data, data, n, key, phase);
}

std::size_t copy_masked(std::byte* dst, const std::byte* src, std::size_t n, mask_key key,
                        std::size_t phase) noexcept {
  return mask_into(dst, src, n, key, phase);
}

}  // namespace wsx::detail
