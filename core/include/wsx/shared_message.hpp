// A message encoded once as a server frame and queued on any number of server connections
// without copying its bytes again: the encode-once half of broadcast and send-to-user.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "wsx/types.hpp"

namespace wsx {

class shared_message {
 public:
  shared_message() = default;
  // Encodes one unmasked frame (RFC 6455 §5.2; servers never mask) holding `payload` whole.
  // Text must be valid UTF-8: checking it is the caller's job, as for connection::send().
  static shared_message make(message_kind kind, bytes_view payload);
  // The same frame, plus the message compressed once for permessage-deflate (RFC 7692) with a
  // fresh zlib stream of `window_bits` (9-15, clamped) at `level` (1-9): send_shared() queues the
  // compressed frame on every connection that agreed permessage-deflate with a window of at
  // least `window_bits` for this server's messages, and the plain frame on the others. Returns
  // a message with the plain frame only when zlib could not allocate its stream.
  static shared_message make_compressed(message_kind kind, bytes_view payload, int level = 6,
                                        unsigned window_bits = 15);

  // The frame's bytes (header + payload). Empty for a default-constructed message.
  bytes_view wire() const noexcept {
    return bytes_ ? bytes_view{bytes_->data(), bytes_->size()} : bytes_view{};
  }
  std::size_t payload_size() const noexcept { return payload_size_; }
  message_kind kind() const noexcept { return kind_; }
  bool empty() const noexcept { return !bytes_; }
  // Keeps the bytes alive; the output queue of every connection it is sent on holds one.
  const std::shared_ptr<const std::vector<std::byte>>& owner() const noexcept { return bytes_; }
  // make_compressed(): the compressed frame (RSV1 set) and the window it was compressed with.
  // Empty and 0 otherwise.
  bytes_view compressed_wire() const noexcept {
    return compressed_ ? bytes_view{compressed_->data(), compressed_->size()} : bytes_view{};
  }
  const std::shared_ptr<const std::vector<std::byte>>& compressed_owner() const noexcept {
    return compressed_;
  }
  unsigned compressed_window_bits() const noexcept { return window_bits_; }

 private:
  std::shared_ptr<const std::vector<std::byte>> bytes_;
  std::shared_ptr<const std::vector<std::byte>> compressed_;
  unsigned window_bits_ = 0;
  std::size_t payload_size_ = 0;
  message_kind kind_ = message_kind::binary;
};

}  // namespace wsx
