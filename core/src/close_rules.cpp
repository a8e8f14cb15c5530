// Close frame rules. A close payload is either empty or a 2-byte big-endian code followed by a
// UTF-8 reason (RFC 6455 §5.5.1). Only some codes may appear on the wire: 1004-1006 and 1015
// are reserved for reporting, 1016-2999 for future protocol use, and 5000+ are undefined
// (§7.4.1-2). The same rules check what we receive and what the application asks us to send.
#include "detail/close_rules.hpp"

#include <cstring>

#include "detail/utf8.hpp"

namespace wsx::detail {

bool is_sendable_close_code(std::uint16_t code) noexcept {
  if (code >= 1000 && code <= 1003) return true;
  if (code >= 1007 && code <= 1014) return true;
  return code >= 3000 && code <= 4999;
}

errc parse_close_payload(bytes_view payload, close_payload& out) noexcept {
  out = {};
  if (payload.empty()) return {};
  // RFC 6455 §5.5.1: if there is a body, the first two bytes MUST be a status code.
  if (payload.size() == 1) return errc::bad_close_payload;
  const auto code = static_cast<std::uint16_t>((std::to_integer<unsigned>(payload[0]) << 8) |
                                                std::to_integer<unsigned>(payload[1]));
  if (!is_sendable_close_code(code)) return errc::bad_close_code;
  const auto reason = payload.subspan(2);
  // RFC 6455 §5.5.1: the reason is UTF-8 encoded data.
  if (!is_valid_utf8(reason)) return errc::invalid_utf8;
  out.code = static_cast<close_code>(code);
  out.reason = as_string(reason);
  return {};
}

errc check_close_request(close_code code, std::string_view reason) noexcept {
  if (!is_sendable_close_code(static_cast<std::uint16_t>(code))) return errc::invalid_argument;
  if (reason.size() > max_close_reason) return errc::invalid_argument;
  if (!is_valid_utf8(as_bytes(reason))) return errc::invalid_argument;
  return {};
}

std::size_t write_close_payload(std::byte* dst, close_code code, std::string_view reason) noexcept {
  const auto c = static_cast<std::uint16_t>(code);
  dst[0] = static_cast<std::byte>(c >> 8);
  dst[1] = static_cast<std::byte>(c & 0xFF);
  if (!reason.empty()) std::memcpy(dst + 2, reason.data(), reason.size());
  return 2 + reason.size();
}

}  // namespace wsx::detail
