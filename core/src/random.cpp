// Randomness for RFC 6455 §5.3 mask keys ("MUST be unpredictable") and §4.1 handshake nonces.
//
// Theory of operation: random_bytes() goes straight to OpenSSL's CSPRNG. next_mask_key() is
// called once per client frame, so it serves keys from a 256-byte thread_local pool refilled by
// one RAND_bytes call per 64 keys; no lock is needed because each thread owns its pool. An
// all-zero key would leave the payload unmasked on the wire, so it is drawn again. After fork()
// the child would hold a copy of the parent's pool and send the same keys; a fork handler bumps
// a generation counter and a pool from an older generation is discarded before use.
#include "detail/random.hpp"

#include <openssl/rand.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <climits>
#include <cstdint>

#if __has_include(<pthread.h>)
#include <pthread.h>
#endif

namespace wsx::detail {
namespace {

std::atomic<std::uint32_t> fork_generation{0};

#if __has_include(<pthread.h>)
void on_fork_child() noexcept { fork_generation.fetch_add(1, std::memory_order_relaxed); }
// Registered once at load time (not lazily: a function-local static would take a guard lock).
[[maybe_unused]] const bool fork_handler_registered =
    pthread_atfork(nullptr, nullptr, &on_fork_child) == 0;
#endif

struct key_pool {
  std::array<std::byte, 256> bytes;
  std::size_t next = bytes.size();  // empty until the first draw
  std::uint32_t generation = 0;
};

thread_local key_pool pool;

}  // namespace

bool random_bytes(std::span<std::byte> out) noexcept {
  while (!out.empty()) {
    const std::size_t n = std::min<std::size_t>(out.size(), INT_MAX);
    if (RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1) {
      return false;
    }
    out = out.subspan(n);
  }
  return true;
}

bool next_mask_key(mask_key& key) noexcept {
  key_pool& p = pool;
  const std::uint32_t generation = fork_generation.load(std::memory_order_relaxed);
  if (p.generation != generation) {
    p.next = p.bytes.size();  // inherited across fork(): never reuse the parent's keys
    p.generation = generation;
  }
  for (;;) {
    if (p.bytes.size() - p.next < key.size()) {
      if (!random_bytes(p.bytes)) return false;
      p.next = 0;
    }
    std::copy_n(p.bytes.begin() + static_cast<std::ptrdiff_t>(p.next), key.size(), key.begin());
    p.next += key.size();
    // RFC 6455 §5.3: a zero key would send the payload in the clear; draw again.
    if (std::any_of(key.begin(), key.end(), [](std::byte b) { return b != std::byte{0}; })) {
      return true;
    }
  }
}

}  // namespace wsx::detail
