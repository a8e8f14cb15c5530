// Unpredictable bytes for mask keys (RFC 6455 §5.3: "MUST be unpredictable") and handshake keys.
// A per-thread buffer refilled from OpenSSL's CSPRNG (RAND_bytes) amortises the call over
// many frames. No locks: each thread owns its buffer.
#pragma once

#include <cstddef>
#include <span>

#include "detail/mask.hpp"

namespace wsx::detail {

// Fills `out` with random bytes. Returns false only if OpenSSL's generator failed.
bool random_bytes(std::span<std::byte> out) noexcept;

// A fresh mask key for one client frame, from the buffered generator. Never all zero.
// Returns false only if OpenSSL's generator failed.
bool next_mask_key(mask_key& key) noexcept;

}  // namespace wsx::detail
