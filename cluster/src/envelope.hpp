// The bytes a node PUBLISHes for one message: who sent it (so the origin node skips its own
// copy, delivered locally already) and whether it is text or binary, then the payload.
//   'w' '1' kind('t'|'b') origin_length(1 byte, 1-255) origin payload…
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "wsx/types.hpp"

namespace wsx::cluster::detail {

struct envelope {
  std::string_view origin;
  message_kind kind = message_kind::text;
  std::string_view payload;
};

// Bytes added to a payload by encode() for an origin of `origin_size` bytes.
constexpr std::size_t envelope_overhead(std::size_t origin_size) noexcept {
  return 4 + origin_size;
}

// Appends the envelope of (origin, kind, payload) to `out`. `origin` must be 1-255 bytes.
void encode_envelope(std::string& out, std::string_view origin, message_kind kind,
                     std::string_view payload);

// Reads an envelope; the views point into `bytes`. nullopt for anything else (a message some
// other program published on our channels): the caller counts and drops it.
std::optional<envelope> decode_envelope(std::string_view bytes) noexcept;

}  // namespace wsx::cluster::detail
