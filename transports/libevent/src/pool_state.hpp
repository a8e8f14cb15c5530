// What a loop_pool is inside, for the server and the client made on it: the loops (one per
// thread) and the turn for the next connection.
#pragma once

#include <atomic>
#include <memory>
#include <mutex>
#include <thread>
#include <vector>

#include "loop.hpp"
#include "wsx/libevent/loop_pool.hpp"

namespace wsx::libevent::detail {

struct pool_state {
  std::vector<std::shared_ptr<loop>> loops;
  std::atomic<unsigned> turn{0};

  std::mutex mutex;  // guards what follows (stop() may be called twice, from two threads)
  std::vector<std::thread> threads;
  bool stopped = false;

  // The loop for the next connection (round robin).
  const std::shared_ptr<loop>& next_loop() noexcept {
    return loops[turn.fetch_add(1, std::memory_order_relaxed) % loops.size()];
  }
};

struct pool_access {
  static const std::shared_ptr<pool_state>& state(const loop_pool& p) noexcept { return p.state_; }
};

}  // namespace wsx::libevent::detail
