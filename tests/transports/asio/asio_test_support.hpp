// Helpers for the Asio transport tests: an io_context on threads, plus what every transport's
// tests share (tests/support/socket_peer.hpp: bounded waits, fd counting, the hand-driven peer).
#pragma once

#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/io_context.hpp>

#include "support/socket_peer.hpp"

namespace wsx::test {

using namespace std::chrono_literals;

// An io_context run by `n` threads until finish() (or destruction).
class io_threads {
 public:
  explicit io_threads(unsigned n = 2) : guard_(asio::make_work_guard(io_)) {
    for (unsigned i = 0; i < n; ++i) threads_.emplace_back([this] { io_.run(); });
  }
  ~io_threads() { finish(); }
  io_threads(const io_threads&) = delete;
  io_threads& operator=(const io_threads&) = delete;

  asio::io_context& io() noexcept { return io_; }
  // Lets run() return once the remaining work is done (a bounded wait), then stops the rest.
  void finish() {
    if (threads_.empty()) return;
    guard_.reset();
    wait_until([this] { return io_.stopped(); }, 10s);
    io_.stop();
    for (std::thread& t : threads_) t.join();
    threads_.clear();
  }

 private:
  asio::io_context io_;
  asio::executor_work_guard<asio::io_context::executor_type> guard_;
  std::vector<std::thread> threads_;
};

}  // namespace wsx::test
