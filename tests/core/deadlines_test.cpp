// Tests for detail::deadlines: arming at an absolute time or after a duration (zero or negative
// disarms), due-ness at the exact instant, the earliest armed slot, disarming, and saturation for
// durations that would run past the end of time. All times come from a fake clock.
#include "detail/deadlines.hpp"

#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <array>
#include <chrono>
#include <optional>

#include "support/test_support.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::duration;
using wsx::time_point;
using wsx::detail::deadline;
using wsx::detail::deadline_count;
using wsx::detail::deadlines;
using wsx::test::fake_clock;

constexpr std::array<deadline, deadline_count> all = {deadline::handshake, deadline::ping,
                                                      deadline::pong,      deadline::idle,
                                                      deadline::write,     deadline::close};

constexpr duration tick = duration(1);  // the clock's resolution

// Times as clock ticks since the epoch, so that failures print numbers (nullopt = disarmed).
std::optional<duration::rep> ticks(std::optional<time_point> t) {
  if (!t) return std::nullopt;
  return t->time_since_epoch().count();
}

TEST(deadlines, start_disarmed) {
  fake_clock t;
  deadlines d;
  for (deadline k : all) {
    EXPECT_FALSE(d.armed(k));
    EXPECT_FALSE(d.due(k, t.now()));
    EXPECT_FALSE(d.due(k, time_point::max()));
    EXPECT_EQ(ticks(d.at(k)), std::nullopt);
  }
  EXPECT_EQ(ticks(d.earliest()), std::nullopt);
}

TEST(deadlines, arm_is_due_from_its_instant_on) {
  fake_clock t;
  deadlines d;
  const time_point when = t.now() + 5s;
  d.arm(deadline::pong, when);
  EXPECT_TRUE(d.armed(deadline::pong));
  EXPECT_EQ(ticks(d.at(deadline::pong)), ticks(when));
  EXPECT_FALSE(d.due(deadline::pong, t.now()));
  EXPECT_FALSE(d.due(deadline::pong, when - tick));
  EXPECT_TRUE(d.due(deadline::pong, when));
  EXPECT_TRUE(d.due(deadline::pong, when + 1h));
  // the other slots are untouched
  for (deadline k : all) {
    if (k != deadline::pong) {
      EXPECT_FALSE(d.armed(k));
    }
  }
  // arming again replaces the time, earlier or later
  d.arm(deadline::pong, when + 10s);
  EXPECT_FALSE(d.due(deadline::pong, when));
  d.arm(deadline::pong, when - 3s);
  EXPECT_TRUE(d.due(deadline::pong, when - 3s));
  EXPECT_EQ(ticks(d.at(deadline::pong)), ticks(when - 3s));
}

TEST(deadlines, arm_in_the_past_is_due_at_once) {
  fake_clock t;
  deadlines d;
  d.arm(deadline::write, t.now() - 1s);
  EXPECT_TRUE(d.due(deadline::write, t.now()));
}

TEST(deadlines, arm_after) {
  fake_clock t;
  deadlines d;
  d.arm_after(deadline::ping, t.now(), 30s);
  EXPECT_EQ(ticks(d.at(deadline::ping)), ticks(t.now() + 30s));
  t.advance(30s - tick);
  EXPECT_FALSE(d.due(deadline::ping, t.now()));
  t.advance(tick);
  EXPECT_TRUE(d.due(deadline::ping, t.now()));
  d.arm_after(deadline::ping, t.now(), tick);  // the smallest positive duration still arms
  EXPECT_EQ(ticks(d.at(deadline::ping)), ticks(t.now() + tick));
}

TEST(deadlines, arm_after_zero_or_negative_disarms) {
  fake_clock t;
  deadlines d;
  d.arm(deadline::idle, t.now() + 1s);
  d.arm_after(deadline::idle, t.now(), duration::zero());  // 0 = feature off
  EXPECT_FALSE(d.armed(deadline::idle));
  EXPECT_FALSE(d.due(deadline::idle, time_point::max()));
  d.arm(deadline::idle, t.now() + 1s);
  d.arm_after(deadline::idle, t.now(), -5s);
  EXPECT_FALSE(d.armed(deadline::idle));
  d.arm_after(deadline::idle, t.now(), duration::min());
  EXPECT_FALSE(d.armed(deadline::idle));
  EXPECT_EQ(ticks(d.earliest()), std::nullopt);
}

TEST(deadlines, earliest_is_the_minimum_of_armed_slots) {
  fake_clock t;
  deadlines d;
  d.arm(deadline::close, t.now() + 5s);
  EXPECT_EQ(ticks(d.earliest()), ticks(t.now() + 5s));
  d.arm(deadline::handshake, t.now() + 10s);
  EXPECT_EQ(ticks(d.earliest()), ticks(t.now() + 5s));
  d.arm(deadline::write, t.now() + 1s);
  EXPECT_EQ(ticks(d.earliest()), ticks(t.now() + 1s));
  d.disarm(deadline::write);
  EXPECT_FALSE(d.armed(deadline::write));
  EXPECT_EQ(ticks(d.earliest()), ticks(t.now() + 5s));
  d.disarm(deadline::close);
  EXPECT_EQ(ticks(d.earliest()), ticks(t.now() + 10s));
  d.disarm(deadline::close);  // disarming a disarmed slot changes nothing
  EXPECT_EQ(ticks(d.earliest()), ticks(t.now() + 10s));
}

TEST(deadlines, disarm_all) {
  fake_clock t;
  deadlines d;
  for (deadline k : all) d.arm(k, t.now());
  for (deadline k : all) EXPECT_TRUE(d.due(k, t.now()));
  d.disarm_all();
  for (deadline k : all) {
    EXPECT_FALSE(d.armed(k));
    EXPECT_FALSE(d.due(k, time_point::max()));
  }
  EXPECT_EQ(ticks(d.earliest()), std::nullopt);
}

TEST(deadlines, huge_durations_saturate_and_stay_armed) {
  fake_clock t;
  deadlines d;
  d.arm_after(deadline::handshake, t.now(), duration::max());
  EXPECT_TRUE(d.armed(deadline::handshake));
  EXPECT_EQ(ticks(d.at(deadline::handshake)), ticks(time_point::max() - tick));
  EXPECT_FALSE(d.due(deadline::handshake, t.now()));
  EXPECT_EQ(ticks(d.earliest()), ticks(time_point::max() - tick));
  d.arm_after(deadline::pong, time_point::max() - 1s, 2s);
  EXPECT_EQ(ticks(d.at(deadline::pong)), ticks(time_point::max() - tick));
  // just inside the range nothing saturates
  d.arm_after(deadline::ping, t.now(), (time_point::max() - t.now()) - tick);
  EXPECT_EQ(ticks(d.at(deadline::ping)), ticks(time_point::max() - tick));
  d.arm_after(deadline::idle, t.now(), (time_point::max() - t.now()) - 2 * tick);
  EXPECT_EQ(ticks(d.at(deadline::idle)), ticks(time_point::max() - 2 * tick));
}

// now + after landing exactly on time_point::max() must saturate too: max() is what a disarmed
// slot holds, so a positive duration would otherwise silently switch the deadline off.
TEST(deadlines, duration_reaching_exactly_the_end_of_time_stays_armed) {
  fake_clock t;
  deadlines d;
  d.arm_after(deadline::close, t.now(), time_point::max() - t.now());
  EXPECT_TRUE(d.armed(deadline::close));
  EXPECT_EQ(ticks(d.at(deadline::close)), ticks(time_point::max() - tick));
  EXPECT_EQ(ticks(d.earliest()), ticks(time_point::max() - tick));
}

// The clock's epoch is unspecified, so `now` may lie before it; arming must not overflow there.
TEST(deadlines, arm_after_with_now_before_the_epoch) {
  deadlines d;
  const time_point now = time_point{} - 1h;
  d.arm_after(deadline::ping, now, 5s);
  EXPECT_EQ(ticks(d.at(deadline::ping)), ticks(now + 5s));
  d.arm_after(deadline::pong, now, duration::max());
  EXPECT_EQ(ticks(d.at(deadline::pong)), ticks(now + duration::max()));
}

// Random arm / arm_after / disarm / disarm_all sequences against a plain model.
RC_GTEST_PROP(deadlines, behaves_like_a_table_of_optional_times, ()) {
  fake_clock t;
  deadlines d;
  std::array<std::optional<time_point>, deadline_count> model{};
  const int steps = *rc::gen::inRange(0, 60);
  for (int i = 0; i < steps; ++i) {
    const auto slot = *rc::gen::inRange<std::size_t>(0, deadline_count);
    const deadline k = all[slot];
    const auto offset = duration(*rc::gen::inRange<std::int64_t>(-1'000'000, 1'000'000));
    switch (*rc::gen::element(0, 1, 2, 3, 4)) {
      case 0:
        d.arm(k, t.now() + offset);
        model[slot] = t.now() + offset;
        break;
      case 1:
        d.arm_after(k, t.now(), offset);
        model[slot] = offset > duration::zero() ? std::optional(t.now() + offset) : std::nullopt;
        break;
      case 2:
        d.disarm(k);
        model[slot].reset();
        break;
      case 3:
        if (*rc::gen::weightedElement<bool>({{1, true}, {9, false}})) {
          d.disarm_all();
          model.fill(std::nullopt);
        }
        break;
      default:
        t.advance(duration(*rc::gen::inRange<std::int64_t>(0, 1'000'000)));
        break;
    }
    std::optional<time_point> earliest;
    for (std::size_t s = 0; s < deadline_count; ++s) {
      RC_ASSERT(d.armed(all[s]) == model[s].has_value());
      RC_ASSERT(d.at(all[s]) == model[s]);
      RC_ASSERT(d.due(all[s], t.now()) == (model[s] && *model[s] <= t.now()));
      if (model[s] && (!earliest || *model[s] < *earliest)) earliest = model[s];
    }
    RC_ASSERT(d.earliest() == earliest);
  }
}

}  // namespace
