// RFC 6455 §5.3 masking: XOR with a 4-byte key, word-at-a-time (and SIMD where available).
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>

namespace wsx::detail {

using mask_key = std::array<std::byte, 4>;

// XORs `n` bytes at `data` in place with `key`, starting at key byte `phase` (0-3), so a payload
// processed in pieces continues where the last piece stopped. Returns the phase after the piece:
// (phase + n) % 4.
std::size_t apply_mask(std::byte* data, std::size_t n, mask_key key, std::size_t phase) noexcept;

// Same, but reads `src` and writes the masked bytes to `dst` (fused copy + mask). The ranges may
// be equal but must not otherwise overlap.
std::size_t copy_masked(std::byte* dst, const std::byte* src, std::size_t n, mask_key key,
                        std::size_t phase) noexcept;

}  // namespace wsx::detail
