// deadline_queue: a binary min-heap of timers under one mutex, and one Asio timer armed for its
// front. Arming a timer that is not queued inserts it; arming it earlier than its queued time
// moves it up; arming it later does nothing (it expires at the earlier time). The Asio wait is
// re-armed only when the front moves earlier than what it waits for; a wait that completes
// takes every due entry, then waits for the new front. Waits that were superseded carry an old
// generation and do nothing when they complete. When the last entry is cancelled the wait is
// cancelled too: an io_context whose connections are all gone has no work left and its run()
// returns.
#include "deadline_queue.hpp"

#include <utility>

namespace wsx::asio::detail {

deadline_queue::deadline_queue(::asio::execution_context& owner)
    : ::asio::execution_context::service(owner),
      // Every context a connection runs on is an io_context (io_executor, or a strand of it).
      wait_(static_cast<::asio::io_context&>(owner).get_executor()) {}

deadline_queue::~deadline_queue() = default;

void deadline_queue::shutdown() {
  std::lock_guard lock(mutex_);
  shut_down_ = true;
  for (timer* t : heap_) t->index_ = timer::not_queued;
  heap_.clear();
  ++generation_;
  wait_.cancel();
}

void deadline_queue::arm(timer& t, time_point at) {
  std::lock_guard lock(mutex_);
  if (shut_down_) return;
  if (t.index_ != timer::not_queued) {
    if (t.at_ <= at) return;  // it expires first; its owner arms it again for the rest
    t.at_ = at;
    sift_up(t.index_);
  } else {
    t.at_ = at;
    t.index_ = static_cast<std::uint32_t>(heap_.size());
    heap_.push_back(&t);
    sift_up(t.index_);
  }
  if (heap_.front()->at_ < waiting_for_) wait_for_front();
}

void deadline_queue::cancel(timer& t) noexcept {
  std::lock_guard lock(mutex_);
  if (t.index_ != timer::not_queued) remove(t.index_);
  if (heap_.empty()) {
    stop_waiting();
    return;
  }
  // The wait for a front that is gone stays out: it completes, finds nothing due and waits for
  // the new front.
}

void deadline_queue::stop_waiting() noexcept {
  if (waiting_for_ == time_point::max()) return;
  // A wait left out with nothing queued would keep io_context::run() from returning until it
  // expired: a client's loop would outlive its last connection by that connection's last
  // deadline.
  waiting_for_ = time_point::max();
  ++generation_;
  wait_.cancel();  // its completion (operation_aborted) runs at once and does nothing
}

bool deadline_queue::waiting() const {
  std::lock_guard lock(mutex_);
  return waiting_for_ != time_point::max();
}

std::size_t deadline_queue::size() const {
  std::lock_guard lock(mutex_);
  return heap_.size();
}

void deadline_queue::wait_for_front() {
  waiting_for_ = heap_.front()->at_;
  const std::uint32_t generation = ++generation_;
  wait_.expires_at(waiting_for_);  // cancels the wait that was out
  wait_.async_wait([this, generation](const std::error_code& ec) { on_wait(ec, generation); });
}

void deadline_queue::on_wait(const std::error_code& ec, std::uint32_t generation) {
  struct due {
    timer* t;
    std::shared_ptr<void> keep;
  };
  thread_local std::vector<due> expired;
  const std::size_t first = expired.size();  // expire() may run a nested wait on this thread
  {
    std::lock_guard lock(mutex_);
    // Only a superseded wait is cancelled, and that one carries an old generation.
    (void)ec;
    if (generation != generation_ || shut_down_) return;
    waiting_for_ = time_point::max();
    const time_point now = clock::now();
    while (!heap_.empty() && heap_.front()->at_ <= now) {
      timer* t = heap_.front();
      remove(0);
      if (std::shared_ptr<void> keep = t->keep_alive()) expired.push_back({t, std::move(keep)});
    }
    if (!heap_.empty()) wait_for_front();
  }
  // Index-based: expire() may append to `expired` (and reallocate it).
  for (std::size_t i = first; i < expired.size(); ++i) expired[i].t->expire();
  expired.resize(first);
}

// ---- the heap -------------------------------------------------------------------------------

void deadline_queue::place(std::size_t i, timer* t) noexcept {
  heap_[i] = t;
  t->index_ = static_cast<std::uint32_t>(i);
}

void deadline_queue::sift_up(std::size_t i) noexcept {
  timer* t = heap_[i];
  while (i > 0) {
    const std::size_t parent = (i - 1) / 2;
    if (heap_[parent]->at_ <= t->at_) break;
    place(i, heap_[parent]);
    i = parent;
  }
  place(i, t);
}

void deadline_queue::sift_down(std::size_t i) noexcept {
  timer* t = heap_[i];
  const std::size_t n = heap_.size();
  for (;;) {
    std::size_t child = 2 * i + 1;
    if (child >= n) break;
    if (child + 1 < n && heap_[child + 1]->at_ < heap_[child]->at_) ++child;
    if (t->at_ <= heap_[child]->at_) break;
    place(i, heap_[child]);
    i = child;
  }
  place(i, t);
}

void deadline_queue::remove(std::size_t i) noexcept {
  heap_[i]->index_ = timer::not_queued;
  timer* last = heap_.back();
  heap_.pop_back();
  if (i == heap_.size()) return;  // it was the last one
  place(i, last);
  sift_up(i);
  sift_down(last->index_);
}

}  // namespace wsx::asio::detail
