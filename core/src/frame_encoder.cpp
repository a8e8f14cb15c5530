// Frame encoder. A frame is written straight into the output queue: header and payload are
// reserved as one contiguous range, the payload copied in (and masked in the same pass for
// clients, RFC 6455 §5.3). Lengths use the minimal encoding (RFC 6455 §5.2).
#include "detail/frame_encoder.hpp"

#include <cstring>

namespace wsx::detail {

std::size_t write_frame_header(std::byte* dst, bool fin, opcode op, std::uint64_t n,
                               const mask_key* key, bool rsv1) noexcept {
  dst[0] = static_cast<std::byte>((fin ? 0x80 : 0x00) | (rsv1 ? 0x40 : 0x00) |
                                  static_cast<std::uint8_t>(op));
  const std::byte mask_bit{static_cast<unsigned char>(key ? 0x80 : 0x00)};
  std::size_t at;
  if (n < 126) {
    dst[1] = mask_bit | static_cast<std::byte>(n);
    at = 2;
  } else if (n <= 0xFFFF) {
    dst[1] = mask_bit | std::byte{126};
    dst[2] = static_cast<std::byte>(n >> 8);
    dst[3] = static_cast<std::byte>(n & 0xFF);
    at = 4;
  } else {
    dst[1] = mask_bit | std::byte{127};
    for (int i = 0; i < 8; ++i) dst[2 + i] = static_cast<std::byte>((n >> (56 - 8 * i)) & 0xFF);
    at = 10;
  }
  if (key) {
    std::memcpy(dst + at, key->data(), 4);
    at += 4;
  }
  return at;
}

void encode_frame(output_queue& out, bool fin, opcode op, bytes_view payload, const mask_key* key,
                  bool rsv1) {
  const std::size_t hs = frame_header_size(payload.size(), key != nullptr);
  auto room = out.append(hs + payload.size());
  write_frame_header(room.data(), fin, op, payload.size(), key, rsv1);
  if (payload.empty()) return;
  if (key) {
    copy_masked(room.data() + hs, payload.data(), payload.size(), *key, 0);
  } else {
    std::memcpy(room.data() + hs, payload.data(), payload.size());
  }
}

}  // namespace wsx::detail

namespace wsx {

shared_message shared_message::make(message_kind kind, bytes_view payload) {
  const opcode op = kind == message_kind::text ? opcode::text : opcode::binary;
  const std::size_t hs = detail::frame_header_size(payload.size(), false);
  auto bytes = std::make_shared<std::vector<std::byte>>(hs + payload.size());
  detail::write_frame_header(bytes->data(), true, op, payload.size(), nullptr);
  if (!payload.empty()) std::memcpy(bytes->data() + hs, payload.data(), payload.size());
  shared_message m;
  m.bytes_ = std::move(bytes);
  m.payload_size_ = payload.size();
  m.kind_ = kind;
  return m;
}

}  // namespace wsx
