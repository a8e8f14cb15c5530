// RFC 6455 §5.5.1 and §7.4: what a close frame may carry, in both directions.
#pragma once

#include <cstdint>
#include <span>
#include <string_view>

#include "wsx/errors.hpp"
#include "wsx/types.hpp"

namespace wsx::detail {

// Codes an endpoint may put on the wire: 1000-1003, 1007-1014, 3000-4999 (RFC 6455 §7.4.1-2).
bool is_sendable_close_code(std::uint16_t code) noexcept;

// Longest close reason: a control payload is at most 125 bytes, two of them the code.
inline constexpr std::size_t max_close_reason = 123;

struct close_payload {
  close_code code = close_code::no_status;  // no_status when the payload was empty
  std::string_view reason;                  // points into the parsed payload
};

// Parses a received close payload: empty, or a valid code plus a UTF-8 reason. Returns {} or
// errc::bad_close_payload (1 byte), errc::bad_close_code, errc::invalid_utf8 (the reason).
errc parse_close_payload(bytes_view payload, close_payload& out) noexcept;

// Checks what the application asks to send: sendable code, reason <= 123 bytes of UTF-8.
// Returns {} or errc::invalid_argument.
errc check_close_request(close_code code, std::string_view reason) noexcept;

// Writes code + reason (already checked) into `dst` (room for 2 + reason.size()); returns bytes.
std::size_t write_close_payload(std::byte* dst, close_code code, std::string_view reason) noexcept;

}  // namespace wsx::detail
