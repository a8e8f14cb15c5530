// deadline_queue: the connection timers of one io_context. A timer expires once per arming, in
// time order, never before its time; arming it later keeps the earlier time, arming it earlier
// moves it up; a cancelled or destroyed timer never expires; a timer whose owner is already
// going is skipped; cancelling the last timer leaves no wait in the io_context; an io_context
// destroyed with timers queued drops them; and any number of threads may arm at once. Real time
// (Asio's clock): every check is "not before", "in order" or "exactly once", never "within so
// many milliseconds".
#include "deadline_queue.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <random>
#include <thread>
#include <vector>

#include <asio/executor_work_guard.hpp>
#include <asio/post.hpp>

namespace {

using namespace std::chrono_literals;
using wsx::clock;
using wsx::time_point;
using wsx::asio::detail::deadline_queue;

class test_timer final : public deadline_queue::timer,
                         public std::enable_shared_from_this<test_timer> {
 public:
  explicit test_timer(deadline_queue& q, int t = 0) : tag(t), queue_(q) {}
  ~test_timer() { queue_.cancel(*this); }

  void arm(time_point at) {
    {
      std::lock_guard lock(mutex_);
      earliest_ = earliest_ ? std::min(*earliest_, at) : at;
    }
    queue_.arm(*this, at);
  }

  const int tag;
  std::atomic<int> expiries{0};
  time_point expired_at{};
  std::optional<time_point> due_at;  // the earliest time armed before the last expiry
  std::function<void(test_timer&)> on_expire;

 private:
  std::shared_ptr<void> keep_alive() noexcept override { return weak_from_this().lock(); }
  void expire() override {
    expired_at = clock::now();
    {
      std::lock_guard lock(mutex_);
      due_at = earliest_;
      earliest_.reset();
    }
    ++expiries;
    if (on_expire) on_expire(*this);
  }

  deadline_queue& queue_;
  std::mutex mutex_;
  std::optional<time_point> earliest_;
};

deadline_queue& queue_of(::asio::io_context& io) { return ::asio::use_service<deadline_queue>(io); }

TEST(deadline_queue, timers_expire_in_time_order_and_never_early) {
  ::asio::io_context io;
  deadline_queue& q = queue_of(io);
  std::vector<int> order;
  std::vector<std::shared_ptr<test_timer>> timers;
  const time_point start = clock::now();
  const std::chrono::milliseconds offsets[] = {30ms, 10ms, 20ms, 0ms, 25ms};
  for (int i = 0; i < 5; ++i) {
    timers.push_back(std::make_shared<test_timer>(q, i));
    timers.back()->on_expire = [&order](test_timer& t) { order.push_back(t.tag); };
    timers.back()->arm(start + offsets[i]);
  }
  EXPECT_EQ(q.size(), 5u);
  io.run_for(10s);  // returns as soon as nothing is queued any more
  EXPECT_EQ(order, (std::vector<int>{3, 1, 2, 4, 0}));
  for (int i = 0; i < 5; ++i) {
    EXPECT_EQ(timers[i]->expiries, 1);
    EXPECT_GE(timers[i]->expired_at, start + offsets[i]);
  }
  EXPECT_EQ(q.size(), 0u);
}

TEST(deadline_queue, arming_later_keeps_the_earlier_time) {
  ::asio::io_context io;
  auto t = std::make_shared<test_timer>(queue_of(io));
  const time_point start = clock::now();
  t->arm(start + 5ms);
  t->arm(start + 1h);
  io.run_for(10s);
  EXPECT_EQ(t->expiries, 1);
  EXPECT_GE(t->expired_at, start + 5ms);
  EXPECT_LT(t->expired_at, start + 1h);
}

TEST(deadline_queue, arming_earlier_moves_the_timer_up) {
  ::asio::io_context io;
  deadline_queue& q = queue_of(io);
  auto late = std::make_shared<test_timer>(q, 1);
  auto moved = std::make_shared<test_timer>(q, 2);
  std::vector<int> order;
  late->on_expire = moved->on_expire = [&order](test_timer& t) { order.push_back(t.tag); };
  const time_point start = clock::now();
  late->arm(start + 40ms);
  moved->arm(start + 1h);  // the Asio wait is out for +40 ms: moving up must re-arm it
  moved->arm(start + 10ms);
  io.run_for(10s);
  EXPECT_EQ(order, (std::vector<int>{2, 1}));
  EXPECT_GE(moved->expired_at, start + 10ms);
}

TEST(deadline_queue, a_cancelled_or_destroyed_timer_never_expires) {
  ::asio::io_context io;
  deadline_queue& q = queue_of(io);
  auto kept = std::make_shared<test_timer>(q);
  auto cancelled = std::make_shared<test_timer>(q);
  auto destroyed = std::make_shared<test_timer>(q);
  const time_point start = clock::now();
  cancelled->arm(start + 1ms);
  destroyed->arm(start + 2ms);
  kept->arm(start + 20ms);
  q.cancel(*cancelled);
  q.cancel(*cancelled);  // twice: harmless
  destroyed.reset();     // its destructor takes it out
  EXPECT_EQ(q.size(), 1u);
  io.run_for(10s);
  EXPECT_EQ(kept->expiries, 1);
  EXPECT_EQ(cancelled->expiries, 0);
}

TEST(deadline_queue, cancelling_the_last_timer_leaves_no_work_in_the_io_context) {
  ::asio::io_context io;
  deadline_queue& q = queue_of(io);
  auto first = std::make_shared<test_timer>(q);
  auto second = std::make_shared<test_timer>(q);
  first->arm(clock::now() + 1h);
  second->arm(clock::now() + 2h);
  EXPECT_TRUE(q.waiting());
  q.cancel(*first);
  EXPECT_TRUE(q.waiting());  // for `second`
  q.cancel(*second);
  EXPECT_FALSE(q.waiting());
  // Nothing else is pending, so run() returns (a wait left out would hold it for an hour).
  io.run_for(10s);
  EXPECT_TRUE(io.stopped());
  EXPECT_EQ(first->expiries + second->expiries, 0);
  // The queue works on afterwards.
  io.restart();
  first->arm(clock::now() + 1ms);
  io.run_for(10s);
  EXPECT_EQ(first->expiries, 1);
  EXPECT_FALSE(q.waiting());
}

TEST(deadline_queue, a_timer_whose_owner_is_going_is_taken_out_without_expiring) {
  ::asio::io_context io;
  deadline_queue& q = queue_of(io);
  test_timer unowned(q);  // no shared_ptr: keep_alive() answers null, as for one being destroyed
  unowned.arm(clock::now() + 1ms);
  io.run_for(10s);
  EXPECT_EQ(unowned.expiries, 0);
  EXPECT_EQ(q.size(), 0u);
}

TEST(deadline_queue, expire_may_arm_the_timer_again) {
  ::asio::io_context io;
  auto t = std::make_shared<test_timer>(queue_of(io));
  t->on_expire = [](test_timer& self) {
    if (self.expiries < 3) self.arm(clock::now() + 2ms);
  };
  t->arm(clock::now() + 2ms);
  io.run_for(10s);
  EXPECT_EQ(t->expiries, 3);
}

// Timers at random times, armed again (later or earlier) and cancelled at random: each one not
// cancelled expires exactly once, not before the earliest time it was armed for, and they
// expire in the order of those times.
TEST(deadline_queue, random_arming_keeps_every_timer_exactly_once_and_in_order) {
  for (unsigned seed = 1; seed <= 5; ++seed) {
    ::asio::io_context io;
    deadline_queue& q = queue_of(io);
    std::mt19937 rng(seed);
    std::uniform_int_distribution<int> offset_us(0, 30000);
    std::vector<time_point> expired_due;
    std::vector<std::shared_ptr<test_timer>> timers;
    std::vector<bool> cancelled;
    const time_point start = clock::now() + 5ms;
    for (int i = 0; i < 2000; ++i) {
      auto t = std::make_shared<test_timer>(q, i);
      t->on_expire = [&expired_due](test_timer& x) { expired_due.push_back(*x.due_at); };
      t->arm(start + std::chrono::microseconds(offset_us(rng)));
      timers.push_back(std::move(t));
      cancelled.push_back(false);
    }
    for (int step = 0; step < 3000; ++step) {
      const std::size_t i = rng() % timers.size();
      if (rng() % 8 == 0) {
        q.cancel(*timers[i]);
        cancelled[i] = true;
      } else if (!cancelled[i]) {
        timers[i]->arm(start + std::chrono::microseconds(offset_us(rng)));
      }
    }
    io.run_for(20s);
    for (std::size_t i = 0; i < timers.size(); ++i) {
      if (cancelled[i]) continue;
      ASSERT_EQ(timers[i]->expiries, 1) << "seed " << seed << " timer " << i;
      EXPECT_GE(timers[i]->expired_at, *timers[i]->due_at);
    }
    EXPECT_TRUE(std::is_sorted(expired_due.begin(), expired_due.end())) << "seed " << seed;
    EXPECT_EQ(q.size(), 0u);
  }
}

TEST(deadline_queue, an_io_context_destroyed_with_timers_queued_drops_them) {
  std::weak_ptr<test_timer> watch;
  {
    ::asio::io_context io;
    auto t = std::make_shared<test_timer>(queue_of(io));
    t->arm(clock::now() + 1h);
    watch = t;
    // Its only owner is a handler that never runs: the timer goes while the io_context shuts
    // down, after the queue dropped its entries and before the queue itself is destroyed.
    ::asio::post(io, [t] {});
  }
  EXPECT_TRUE(watch.expired());
}

TEST(deadline_queue, threads_may_arm_and_cancel_at_once) {
  ::asio::io_context io;
  deadline_queue& q = queue_of(io);
  auto guard = ::asio::make_work_guard(io);
  std::vector<std::thread> runners;
  for (int i = 0; i < 3; ++i) runners.emplace_back([&io] { io.run(); });

  constexpr int armers = 4;
  constexpr int per_armer = 500;
  std::vector<std::vector<std::shared_ptr<test_timer>>> made(armers);
  std::vector<std::thread> threads;
  for (int a = 0; a < armers; ++a) {
    threads.emplace_back([&, a] {
      std::mt19937 rng(static_cast<unsigned>(a + 1));
      for (int i = 0; i < per_armer; ++i) {
        auto t = std::make_shared<test_timer>(q, i);
        if (i % 3 == 0) {
          // Armed twice: the earlier time wins. The first time is far enough away that it cannot
          // fire before the second arm (a near first time may expire in between on a slow run,
          // and the second arm then rightly queues a second expiry).
          t->arm(clock::now() + 1h);
          t->arm(clock::now() + std::chrono::microseconds(rng() % 5000));
        } else {
          t->arm(clock::now() + std::chrono::microseconds(rng() % 20000));
        }
        made[a].push_back(std::move(t));
      }
    });
  }
  for (auto& t : threads) t.join();
  const time_point give_up = clock::now() + 30s;
  auto all_expired = [&] {
    for (const auto& v : made)
      for (const auto& t : v)
        if (t->expiries.load() != 1) return false;
    return true;
  };
  while (!all_expired() && clock::now() < give_up) std::this_thread::sleep_for(5ms);
  guard.reset();
  for (auto& r : runners) r.join();
  for (const auto& v : made)
    for (const auto& t : v) ASSERT_EQ(t->expiries.load(), 1);
  EXPECT_EQ(q.size(), 0u);
}

}  // namespace
