// A WebSocket frame as a peer would send it, built from fuzzer input: mostly valid, or with wrong
// masking, an RSV bit, a reserved opcode or a length that lies (connection_fuzz).
#pragma once

#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <cstddef>
#include <cstdint>
#include <vector>

#include "wsx/types.hpp"

namespace wsx::fuzz {

// Frame opcodes the synthesizer picks from: data, control, and two reserved ones.
inline constexpr std::array<std::uint8_t, 8> frame_opcodes{0x1, 0x2, 0x0, 0x9, 0xA, 0x8, 0x3, 0xB};
// Close codes for received close frames and for close(): sendable ones and forbidden ones.
inline constexpr std::array<std::uint16_t, 16> close_codes{
    1000, 1001, 1002, 1003, 1007, 1008, 1011, 3000, 4999, 999, 1004, 1005, 1006, 1015, 2999, 5000};

inline std::vector<std::byte> to_bytes(const std::vector<std::uint8_t>& v) {
  std::vector<std::byte> out(v.size());
  std::transform(v.begin(), v.end(), out.begin(), [](std::uint8_t b) { return std::byte(b); });
  return out;
}

// One frame as the peer would send it to `receiver`. Provider bytes: flags (bit 0 clear = fin,
// bits 1-3 opcode, bit 4 wrong masking, bit 5 RSV1, bits 6-7 length form: minimal, 16-bit, 64-bit,
// lying), payload flags (bit 0 raw bytes instead of ASCII, bits 4-7 close code), length, mask key
// if masked, then the payload.
inline std::vector<std::byte> synthesize_frame(FuzzedDataProvider& fdp, wsx::role receiver) {
  const auto flags = fdp.ConsumeIntegral<std::uint8_t>();
  const auto pflags = fdp.ConsumeIntegral<std::uint8_t>();
  const std::size_t len = fdp.ConsumeIntegral<std::uint8_t>();
  const bool fin = (flags & 1) == 0;
  const std::uint8_t op = frame_opcodes[(flags >> 1) & 7];
  const bool masked = (receiver == wsx::role::server) != ((flags & 0x10) != 0);
  const unsigned form = flags >> 6;

  std::vector<std::byte> payload = to_bytes(fdp.ConsumeBytes<std::uint8_t>(len));
  if ((pflags & 1) == 0)
    for (auto& b : payload) b &= std::byte{0x7F};
  if (op == 0x8 && payload.size() >= 2) {
    const std::uint16_t code = close_codes[pflags >> 4];
    payload[0] = std::byte(code >> 8);
    payload[1] = std::byte(code & 0xFF);
  }
  std::uint64_t claimed = payload.size();
  if (form == 3) claimed = (len & 1) ? (std::uint64_t{1} << 63) + len : 70000 + len;

  std::vector<std::byte> f;
  f.push_back(std::byte((fin ? 0x80 : 0) | ((flags & 0x20) ? 0x40 : 0) | op));
  const std::byte mask_bit{masked ? std::uint8_t{0x80} : std::uint8_t{0}};
  if (form == 0 && claimed < 126) {
    f.push_back(mask_bit | std::byte(claimed));
  } else if (form <= 1 && claimed <= 0xFFFF) {
    f.push_back(mask_bit | std::byte{126});
    f.push_back(std::byte(claimed >> 8));
    f.push_back(std::byte(claimed & 0xFF));
  } else {
    f.push_back(mask_bit | std::byte{127});
    for (int shift = 56; shift >= 0; shift -= 8) f.push_back(std::byte(claimed >> shift));
  }
  if (masked) {
    const auto key = fdp.ConsumeIntegral<std::uint32_t>();
    std::array<std::byte, 4> k;
    for (int i = 0; i < 4; ++i) k[i] = std::byte(key >> (8 * i));
    f.insert(f.end(), k.begin(), k.end());
    for (std::size_t i = 0; i < payload.size(); ++i) payload[i] ^= k[i % 4];
  }
  f.insert(f.end(), payload.begin(), payload.end());
  return f;
}

}  // namespace wsx::fuzz
