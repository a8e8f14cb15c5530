// Incremental UTF-8 validation (RFC 3629, as RFC 6455 §8.1 requires for text and close reasons).
#pragma once

#include <cstdint>

#include "wsx/types.hpp"

namespace wsx::detail {

// Validates a byte stream fed in arbitrary pieces. Fails at the first byte that cannot start or
// continue a valid sequence (fail fast: an impossible prefix such as F4 90 fails at the 90, not at
// the end of the message). ASCII runs are checked a word (or SIMD vector) at a time.
class utf8_validator {
 public:
  // Feeds more bytes. Returns false once the stream is invalid; stays false until reset().
  bool feed(bytes_view bytes) noexcept;
  // True when the stream so far is valid and ends on a code point boundary.
  bool complete() const noexcept { return state_ == 0; }
  bool failed() const noexcept;
  void reset() noexcept { state_ = 0; }

 private:
  std::uint32_t state_ = 0;
};

// Whole-buffer check: true when `bytes` is complete, valid UTF-8.
bool is_valid_utf8(bytes_view bytes) noexcept;

}  // namespace wsx::detail
