// What the transports' implementations of the fixture share (asio_transport.cpp,
// libevent_transport.cpp): their factories, and the thread of every app_loop, which runs setup,
// then the loop until the loop returns, then waits until join() lets it destroy what setup made.
// The transport supplies the loop itself: run it, break it off, post a function onto it, tear
// down.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <future>
#include <memory>
#include <mutex>
#include <thread>

#include "transport.hpp"

namespace wsx::test {

class loop_thread : public app_loop {
 public:
  void start(std::function<void(app_loop&)> setup) override {
    std::promise<void> ready;
    std::future<void> is_ready = ready.get_future();
    thread_ = std::thread([this, setup = std::move(setup), &ready] {
      setup(*this);
      ready.set_value();
      run_loop();
      returned_at_ = std::chrono::steady_clock::now();
      returned_ = true;
      std::unique_lock lock(mutex_);
      cv_.wait(lock, [this] { return released_; });
      lock.unlock();
      teardown();
    });
    is_ready.wait();
  }

  bool call(std::function<void()> f) override {
    if (returned_) return false;
    auto done = std::make_shared<std::promise<void>>();
    std::future<void> finished = done->get_future();
    post([f = std::move(f), done] {
      f();
      done->set_value();
    });
    return finished.wait_for(20s) == std::future_status::ready;
  }

  bool wait_returned(std::chrono::milliseconds limit) override {
    const bool by_itself = wait_until([this] { return returned_.load(); }, limit);
    if (!by_itself) break_loop();
    wait_until([this] { return returned_.load(); }, 20s);
    return by_itself;
  }

  std::chrono::steady_clock::time_point returned_at() const override { return returned_at_; }

  void join() override {
    if (!thread_.joinable()) return;
    wait_returned(20s);
    {
      std::lock_guard lock(mutex_);
      released_ = true;
    }
    cv_.notify_one();
    thread_.join();
  }

 protected:
  // Runs the loop on the calling thread until it returns.
  virtual void run_loop() = 0;
  // Makes a running loop return (from any thread).
  virtual void break_loop() = 0;
  // Runs `f` on the loop soon (from any thread).
  virtual void post(std::function<void()> f) = 0;
  // Destroys what setup made, on the loop's thread.
  virtual void teardown() = 0;

 private:
  std::atomic<bool> returned_{false};
  std::chrono::steady_clock::time_point returned_at_{};
  std::mutex mutex_;
  std::condition_variable cv_;
  bool released_ = false;
  std::thread thread_;
};

// The factories behind make_transport() and make_app_loop(), one pair per transport.
std::unique_ptr<transport> make_asio_transport(bool single_threaded, unsigned threads);
std::unique_ptr<app_loop> make_asio_app_loop(bool single_threaded);
std::unique_ptr<transport> make_libevent_transport(mode m);
std::unique_ptr<app_loop> make_libevent_app_loop();

}  // namespace wsx::test
