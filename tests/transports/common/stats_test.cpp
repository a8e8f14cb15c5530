// Tests for wsx::stats: each count_* command lands in its bucket (out-of-range inputs in the
// catch-all), the gauge goes up and down, timeouts are recognised from the close's error,
// snapshot totals, the text report, and exact totals after concurrent bumps from 8 threads.
#include "wsx/common/stats.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <thread>
#include <vector>

namespace {

using ::testing::HasSubstr;
using ::testing::Not;
using wsx::close_code;
using wsx::errc;

std::size_t slot(errc e) { return static_cast<std::size_t>(e); }

TEST(stats, starts_at_zero) {
  const wsx::stats s;
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_EQ(snap.handshakes_rejected_total(), 0u);
  EXPECT_EQ(snap.closes_total(), 0u);
  EXPECT_EQ(snap.users, 0u);
}

TEST(stats, open_and_close_move_the_gauge_and_count_codes) {
  wsx::stats s;
  s.count_open();
  s.count_open();
  s.count_open();
  s.count_close(close_code::normal);
  s.count_close(static_cast<close_code>(4000));
  auto snap = s.snapshot();
  EXPECT_EQ(snap.open_connections, 1u);
  EXPECT_EQ(snap.closes[0], 1u);   // 1000
  EXPECT_EQ(snap.closes[16], 1u);  // other
  EXPECT_EQ(snap.closes_total(), 2u);
  s.count_close(close_code::abnormal, errc::heartbeat_timeout);
  snap = s.snapshot();
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_EQ(snap.closes[6], 1u);
  EXPECT_EQ(snap.heartbeat_timeouts, 1u);
  EXPECT_EQ(snap.write_timeouts, 0u);
}

TEST(stats, timeouts_are_counted_from_the_close_error) {
  wsx::stats s;
  s.count_open();
  s.count_open();
  s.count_open();
  s.count_close(close_code::abnormal, errc::write_timeout);
  s.count_close(close_code::abnormal, errc::heartbeat_timeout);
  s.count_close(close_code::going_away, errc::idle_timeout);
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.write_timeouts, 1u);
  EXPECT_EQ(snap.heartbeat_timeouts, 1u);
  EXPECT_EQ(snap.closes[1], 1u);
  EXPECT_EQ(snap.closes[6], 2u);
}

TEST(stats, rejections_by_reason_and_status_class) {
  wsx::stats s;
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_handshake_rejected(errc::bad_key);
  s.count_handshake_rejected(static_cast<errc>(9999));
  s.count_app_rejected(401);
  s.count_app_rejected(403);
  s.count_app_rejected(503);
  s.count_app_rejected(0);
  s.count_handshake_accepted();
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.handshakes_rejected[slot(errc::missing_upgrade)], 2u);
  EXPECT_EQ(snap.handshakes_rejected[slot(errc::bad_key)], 1u);
  EXPECT_EQ(snap.handshakes_rejected[0], 1u);
  EXPECT_EQ(snap.app_rejected[4], 2u);
  EXPECT_EQ(snap.app_rejected[5], 1u);
  EXPECT_EQ(snap.app_rejected[0], 1u);
  EXPECT_EQ(snap.handshakes_rejected_total(), 8u);
  EXPECT_EQ(snap.handshakes_accepted, 1u);
}

TEST(stats, messages_and_bytes) {
  wsx::stats s;
  s.count_messages_in();
  s.count_messages_out(40);
  s.count_bytes_in(100);
  s.count_bytes_out(7);
  s.count_bytes_out(3);
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.messages_in, 1u);
  EXPECT_EQ(snap.messages_out, 40u);
  EXPECT_EQ(snap.bytes_in, 100u);
  EXPECT_EQ(snap.bytes_out, 10u);
}

TEST(stats, text_report_names_every_counter_and_non_zero_bucket) {
  wsx::stats s;
  s.count_open();
  s.count_open();
  s.count_close(close_code::normal);
  s.count_handshake_rejected(errc::missing_upgrade);
  s.count_app_rejected(401);
  s.count_messages_in(3);
  auto snap = s.snapshot();
  snap.users = 1;
  const std::string text = wsx::to_text(snap);
  EXPECT_THAT(text, HasSubstr("open_connections 1\n"));
  EXPECT_THAT(text, HasSubstr("users 1\n"));
  EXPECT_THAT(text, HasSubstr("handshakes_accepted 0\n"));
  EXPECT_THAT(text, HasSubstr("handshakes_rejected 2\n"));
  EXPECT_THAT(text, HasSubstr("  1  426 Upgrade: websocket header missing"));
  EXPECT_THAT(text, HasSubstr("  1  application 4xx\n"));
  EXPECT_THAT(text, HasSubstr("messages_in 3\n"));
  EXPECT_THAT(text, HasSubstr("closes 1\n  1  1000 normal\n"));
  EXPECT_THAT(text, HasSubstr("heartbeat_timeouts 0\n"));
  EXPECT_THAT(text, HasSubstr("write_timeouts 0\n"));
  EXPECT_THAT(text, HasSubstr("messages_dropped 0\n"));
  EXPECT_THAT(text, Not(HasSubstr("1006")));  // zero buckets are omitted
  EXPECT_EQ(text.back(), '\n');
}

TEST(stats, concurrent_bumps_are_exact) {
  wsx::stats s;
  constexpr int threads = 8;
  constexpr int rounds = 20000;
  std::vector<std::thread> pool;
  for (int t = 0; t < threads; ++t) {
    pool.emplace_back([&s] {
      for (int i = 0; i < rounds; ++i) {
        s.count_open();
        s.count_messages_in();
        s.count_bytes_out(3);
        s.count_handshake_rejected(errc::bad_version);
        s.count_close(close_code::going_away);
      }
    });
  }
  for (auto& t : pool) t.join();
  const auto snap = s.snapshot();
  constexpr std::uint64_t n = std::uint64_t{threads} * rounds;
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_EQ(snap.messages_in, n);
  EXPECT_EQ(snap.bytes_out, 3 * n);
  EXPECT_EQ(snap.handshakes_rejected[slot(errc::bad_version)], n);
  EXPECT_EQ(snap.closes[1], n);
}

}  // namespace

TEST(stats, dropped_messages_are_counted_and_reported) {
  wsx::stats s;
  s.count_message_dropped();
  s.count_message_dropped();
  const auto snap = s.snapshot();
  EXPECT_EQ(snap.messages_dropped, 2u);
  EXPECT_EQ(snap.messages_out, 0u);
  EXPECT_THAT(wsx::to_text(snap), HasSubstr("messages_dropped 2\n"));
}
