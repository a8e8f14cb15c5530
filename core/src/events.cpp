// Event helpers. The events themselves are plain structs filled by the connection; the only
// behaviour here is the header lookup the upgrade hook uses. HTTP header names compare
// case-insensitively (RFC 7230 §3.2), so "sec-websocket-protocol" finds
// "Sec-WebSocket-Protocol"; the first matching header wins, as in http_head::header.
#include "wsx/events.hpp"

#include "detail/handshake.hpp"

namespace wsx {

std::optional<std::string_view> upgrade_request::header(std::string_view name) const noexcept {
  for (const auto& h : headers) {
    if (detail::ascii_iequals(h.name, name)) return std::string_view{h.value};
  }
  return std::nullopt;
}

}  // namespace wsx
