// Envelope encoding: four header bytes and the origin node's name before the payload. Decoding
// checks every byte of the header and the origin's length against what is there, and accepts
// any payload: a text payload was valid UTF-8 when its origin sent it (the caller's duty, as
// for connection_table::send_to_user), and Redis carries bytes unchanged.
#include "envelope.hpp"

namespace wsx::cluster::detail {

void encode_envelope(std::string& out, std::string_view origin, message_kind kind,
                     std::string_view payload) {
  out.reserve(out.size() + envelope_overhead(origin.size()) + payload.size());
  out += 'w';
  out += '1';
  out += kind == message_kind::text ? 't' : 'b';
  out += static_cast<char>(static_cast<unsigned char>(origin.size()));
  out.append(origin);
  out.append(payload);
}

std::optional<envelope> decode_envelope(std::string_view bytes) noexcept {
  if (bytes.size() < 4 || bytes[0] != 'w' || bytes[1] != '1') return std::nullopt;
  envelope e;
  if (bytes[2] == 't') {
    e.kind = message_kind::text;
  } else if (bytes[2] == 'b') {
    e.kind = message_kind::binary;
  } else {
    return std::nullopt;
  }
  const std::size_t n = static_cast<unsigned char>(bytes[3]);
  if (n == 0 || bytes.size() < 4 + n) return std::nullopt;
  e.origin = bytes.substr(4, n);
  e.payload = bytes.substr(4 + n);
  return e;
}

}  // namespace wsx::cluster::detail
