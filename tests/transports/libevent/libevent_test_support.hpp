// Helpers for the libevent transport tests: a server run in each of the transport's modes, and an
// application event_base run on a thread of its own. What every transport's tests share (bounded
// waits, fd counting, the hand-driven peer) is in tests/support/socket_peer.hpp.
//
// run_mode::attached puts the server on an application event_base that a thread makes, attaches
// to and dispatches (as an embedding application would: wsx objects are made and destroyed on the
// base's thread); the pool modes put it on a loop_pool of one or two threads. In attached mode
// stop_and_wait() also demands that event_base_dispatch() returns by itself once the server has
// stopped: nothing of wsx may be left on the base.
#pragma once

#include <event2/event.h>
#include <event2/thread.h>

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>

#include "support/socket_peer.hpp"
#include "wsx/libevent/client.hpp"
#include "wsx/libevent/loop_pool.hpp"
#include "wsx/libevent/server.hpp"

namespace wsx::test {

enum class run_mode { attached, one_loop, two_loops };

inline const char* mode_name(run_mode m) {
  switch (m) {
    case run_mode::attached:
      return "attached";
    case run_mode::one_loop:
      return "one_loop";
    case run_mode::two_loops:
      return "two_loops";
  }
  return "?";
}

// An application's event_base on a thread: `setup` runs on that thread with the base, then
// event_base_dispatch(), then (once release() is called, or at destruction) `teardown`, then the
// base is freed. The base is made thread-safe (evthread_use_pthreads) only so that a failing test
// can break a loop that does not return; wsx never relies on it.
class app_loop {
 public:
  app_loop(std::function<void(event_base*)> setup, std::function<void()> teardown)
      : teardown_(std::move(teardown)) {
    static const int threads_ready = evthread_use_pthreads();
    (void)threads_ready;
    std::promise<void> ready;
    std::future<void> is_ready = ready.get_future();
    thread_ = std::thread([this, setup = std::move(setup), &ready] {
      base_ = event_base_new();
      setup(base_);
      ready.set_value();
      event_base_dispatch(base_);
      returned_at_ = std::chrono::steady_clock::now();
      returned_ = true;
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return released_; });
      lock.unlock();
      teardown_();
      event_base_free(base_);
    });
    is_ready.wait();
  }
  ~app_loop() { join(); }
  app_loop(const app_loop&) = delete;
  app_loop& operator=(const app_loop&) = delete;

  // True when event_base_dispatch() returned by itself within `limit`; otherwise it is broken.
  bool wait_returned(std::chrono::milliseconds limit = 20s) {
    const bool by_itself = wait_until([this] { return returned_.load(); }, limit);
    if (!by_itself) event_base_loopbreak(base_);
    wait_until([this] { return returned_.load(); }, 20s);
    return by_itself;
  }
  // When dispatch returned (only once it has).
  std::chrono::steady_clock::time_point returned_at() const { return returned_at_; }
  // Lets the thread tear down and free the base, and joins it.
  void join() {
    if (!thread_.joinable()) return;
    wait_returned();
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 private:
  std::function<void()> teardown_;
  event_base* base_ = nullptr;
  std::atomic<bool> returned_{false};
  std::chrono::steady_clock::time_point returned_at_{};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
  std::thread thread_;
};

// A wsx::libevent::server in one of the run modes, started on construction.
class server_runner {
 public:
  server_runner(run_mode m, libevent::server_options opts) : mode_(m) {
    if (m == run_mode::attached) {
      app_.emplace([this, &opts](event_base* base) { make(base, std::move(opts)); },
                   [this] { srv_.reset(); });
    } else {
      pool_.emplace(m == run_mode::one_loop ? 1 : 2);
      srv_.emplace(*pool_, std::move(opts));
      start_error_ = srv_->start();
    }
  }
  ~server_runner() {
    if (!stopped_) stop_and_wait(std::chrono::seconds(1));
    app_.reset();  // attached: the base's thread destroys the server
    srv_.reset();
  }
  server_runner(const server_runner&) = delete;
  server_runner& operator=(const server_runner&) = delete;

  std::error_code start_error() const { return start_error_; }
  libevent::server& srv() { return *srv_; }
  libevent::server* operator->() { return &*srv_; }
  std::uint16_t port() const { return srv_->local_endpoint().port; }
  std::string url(std::string_view path = "/") const {
    return "ws://127.0.0.1:" + std::to_string(port()) + std::string(path);
  }

  // stop(grace), then waits for on_stopped; attached: and for dispatch to return by itself.
  bool stop_and_wait(std::chrono::steady_clock::duration grace) {
    stopped_ = true;
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> f = done->get_future();
    srv_->stop(grace, [done] { done->set_value(); });
    if (f.wait_for(20s) != std::future_status::ready) return false;
    if (app_) return app_->wait_returned();
    return true;
  }

 private:
  void make(event_base* base, libevent::server_options opts) {
    srv_.emplace(base, std::move(opts));
    start_error_ = srv_->start();
  }

  run_mode mode_;
  std::optional<libevent::loop_pool> pool_;  // before srv_: outlives it
  std::optional<libevent::server> srv_;
  std::optional<app_loop> app_;  // attached: owns srv_'s lifetime on its thread
  std::error_code start_error_;
  bool stopped_ = false;
};

}  // namespace wsx::test
