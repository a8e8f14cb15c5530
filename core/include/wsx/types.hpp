// Vocabulary types shared by every part of wsx: roles, opcodes, close codes, time.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <span>
#include <string>
#include <string_view>

namespace wsx {

// The core never reads a clock: every call that can start or fire a deadline takes `now` from the
// caller. steady_clock is used only as a type.
using clock = std::chrono::steady_clock;
using time_point = clock::time_point;
using duration = clock::duration;

using bytes_view = std::span<const std::byte>;

enum class role : std::uint8_t { client, server };

// RFC 6455 §5.2 opcodes. Values 3-7 and 11-15 are reserved and never appear here.
enum class opcode : std::uint8_t {
  continuation = 0x0,
  text = 0x1,
  binary = 0x2,
  close = 0x8,
  ping = 0x9,
  pong = 0xA,
};

enum class message_kind : std::uint8_t { text, binary };

// RFC 6455 §7.4.1 close codes. Any other 16-bit value may be stored (static_cast), e.g. 3000-4999.
enum class close_code : std::uint16_t {
  normal = 1000,
  going_away = 1001,
  protocol_error = 1002,
  unsupported_data = 1003,
  no_status = 1005,         // never on the wire: "the close frame carried no code"
  abnormal = 1006,          // never on the wire: "no close frame at all"
  invalid_payload = 1007,
  policy_violation = 1008,
  message_too_big = 1009,
  mandatory_extension = 1010,
  internal_error = 1011,
  service_restart = 1012,
  try_again_later = 1013,
  bad_gateway = 1014,
};

// connecting: handshake in progress. open: data may flow. closing: a close frame was sent or
// received, the handshake is not finished. closed: terminal, `closed` event emitted.
enum class connection_state : std::uint8_t { connecting, open, closing, closed };

// Whether message payloads are delivered as they arrive (message_chunk) or assembled (message).
enum class delivery : std::uint8_t { chunks, whole_messages };

struct header_field {
  std::string name;
  std::string value;
};

inline bytes_view as_bytes(std::string_view s) noexcept {
  return {reinterpret_cast<const std::byte*>(s.data()), s.size()};
}
inline std::string_view as_string(bytes_view b) noexcept {
  return {reinterpret_cast<const char*>(b.data()), b.size()};
}

}  // namespace wsx
