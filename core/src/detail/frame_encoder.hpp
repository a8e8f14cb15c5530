// RFC 6455 §5.2 frame encoder: writes frames straight into the output queue. Servers send
// unmasked frames; clients mask each frame with a fresh key (RFC 6455 §5.3).
#pragma once

#include <cstddef>
#include <cstdint>

#include "detail/mask.hpp"
#include "detail/output_queue.hpp"
#include "wsx/shared_message.hpp"
#include "wsx/types.hpp"

namespace wsx::detail {

// Bytes of the header for a payload of `n` bytes: 2, 4 or 10, plus 4 when masked.
constexpr std::size_t frame_header_size(std::uint64_t n, bool masked) noexcept {
  return (n < 126 ? 2 : n <= 0xFFFF ? 4 : 10) + (masked ? 4 : 0);
}

// Writes a header into `dst` (room for frame_header_size bytes). `key` null = unmasked; `rsv1`
// marks a compressed message's first frame (RFC 7692 §6). Returns the bytes written.
std::size_t write_frame_header(std::byte* dst, bool fin, opcode op, std::uint64_t n,
                               const mask_key* key, bool rsv1 = false) noexcept;

// Appends one whole frame (header + payload, masked when `key` is given) to `out`.
void encode_frame(output_queue& out, bool fin, opcode op, bytes_view payload, const mask_key* key,
                  bool rsv1 = false);

}  // namespace wsx::detail
