// The connection timers of one io_context. Internal to transports/asio.
//
// Each connection has one timer: the time its core's next_deadline() asks for (or the end of a
// lingering close). An asio::steady_timer per connection would cost every idle connection the
// timer object (72 bytes) and, because an idle connection still has its heartbeat due, a pending
// wait operation (112 bytes on the heap). Here a connection's timer is an entry of 16 bytes in
// a binary min-heap that the io_context's deadline_queue service keeps, and one Asio timer
// waits for the earliest entry. Nothing is allocated per connection.
//
// When the earliest time comes, the queue takes the entries that are due out of the heap and
// calls expire() on each one, without its lock held, from the thread that ran its wait. The
// timer forwards that to its connection's executor. A time that moves later never needs the heap:
// the entry fires at the old time and the connection arms it again for the rest, as it would
// with an Asio timer (see connection.cpp).
//
// Any thread may arm or cancel. A timer must be cancelled before it is destroyed (the
// destructor of whatever derives from it does so); entries of an io_context being destroyed are
// dropped by the service's shutdown(), before any connection goes.
#pragma once

#include <cstdint>
#include <limits>
#include <memory>
#include <mutex>
#include <vector>

#include <asio/basic_waitable_timer.hpp>
#include <asio/execution_context.hpp>
#include <asio/io_context.hpp>

#include "wsx/types.hpp"

namespace wsx::asio::detail {

class deadline_queue final : public ::asio::execution_context::service {
 public:
  // An entry. What derives from it says what expiry means and how to keep itself alive while
  // the queue calls it.
  class timer {
   public:
    timer() = default;
    timer(const timer&) = delete;
    timer& operator=(const timer&) = delete;

   protected:
    ~timer() = default;
    // Called with the queue's lock held, for an entry that is due: a strong reference that
    // keeps this object alive until expire() has returned, or null when the object is already
    // being destroyed (expire() is then not called).
    virtual std::shared_ptr<void> keep_alive() noexcept = 0;
    // The time this timer was armed for has come (it is no longer queued). Called without the
    // queue's lock, on the thread that ran the queue's wait.
    virtual void expire() = 0;

   private:
    friend class deadline_queue;
    static constexpr std::uint32_t not_queued = std::numeric_limits<std::uint32_t>::max();
    time_point at_{};
    std::uint32_t index_ = not_queued;  // its place in the heap
  };

  using key_type = deadline_queue;
  static inline ::asio::execution_context::id id;

  // Made by ::asio::use_service<deadline_queue>(io_context).
  explicit deadline_queue(::asio::execution_context& owner);
  ~deadline_queue() override;

  // Makes `t` expire at `at`, or earlier when it is already queued for an earlier time.
  void arm(timer& t, time_point at);
  // Takes `t` out of the queue; it does not expire. Harmless when it is not queued. Taking out
  // the last entry also ends the Asio wait, so that the queue keeps no work in the io_context.
  void cancel(timer& t) noexcept;

  // Entries queued, and whether an Asio wait is out (tests).
  std::size_t size() const;
  bool waiting() const;

 private:
  void shutdown() override;
  void wait_for_front();         // mutex_ held
  void stop_waiting() noexcept;  // mutex_ held; the queue is empty
  void on_wait(const std::error_code& ec, std::uint32_t generation);
  void place(std::size_t i, timer* t) noexcept;
  void sift_up(std::size_t i) noexcept;
  void sift_down(std::size_t i) noexcept;
  void remove(std::size_t i) noexcept;

  mutable std::mutex mutex_;
  std::vector<timer*> heap_;  // heap_[0] expires first
  ::asio::basic_waitable_timer<clock, ::asio::wait_traits<clock>, ::asio::io_context::executor_type>
      wait_;
  time_point waiting_for_ = time_point::max();  // what wait_ is armed for; max(): no wait out
  std::uint32_t generation_ = 0;                // completions of superseded waits do nothing
  bool shut_down_ = false;
};

}  // namespace wsx::asio::detail
