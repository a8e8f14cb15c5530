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

  // The frame's bytes (header + payload). Empty for a default-constructed message.
  bytes_view wire() const noexcept {
    return bytes_ ? bytes_view{bytes_->data(), bytes_->size()} : bytes_view{};
  }
  std::size_t payload_size() const noexcept { return payload_size_; }
  message_kind kind() const noexcept { return kind_; }
  bool empty() const noexcept { return !bytes_; }
  // Keeps the bytes alive; the output queue of every connection it is sent on holds one.
  const std::shared_ptr<const std::vector<std::byte>>& owner() const noexcept { return bytes_; }

 private:
  std::shared_ptr<const std::vector<std::byte>> bytes_;
  std::size_t payload_size_ = 0;
  message_kind kind_ = message_kind::binary;
};

}  // namespace wsx
