// Peers that hold server resources hostage, and the backpressure policies that bound them:
//  - a client trickling its request head is dropped at the handshake deadline;
//  - a client that stops reading is closed at the write deadline, and while it lasts the queued
//    output never exceeds max_buffered_output (sends beyond it are refused and counted);
//  - close_slow_consumer closes with 1008 instead; the drain handler fires once the queue has
//    drained to the low-water mark.
// Each in every mode of every transport.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::test::mode;
using wsx::test::peer;
using wsx::test::wait_until;

// Each test in every mode of every transport.
class slowloris : public ::testing::TestWithParam<mode> {
 protected:
  std::unique_ptr<wsx::test::transport> t_ = wsx::test::make_transport(GetParam());
};
class backpressure : public slowloris {};

TEST_P(slowloris, header_trickle_is_dropped_at_the_handshake_deadline) {
  wsx::test::server_setup so;
  so.config.handshake_timeout = 300ms;
  so.linger = 200ms;
  const std::unique_ptr<wsx::test::test_server> srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  poll_example::unique_fd fd = wsx::test::connect_loopback(srv->port());
  ASSERT_TRUE(fd);
  // One byte every 10 ms of a head that never ends; stop when the server has hung up on us.
  const std::string head = "GET / HTTP/1.1\r\nHost: x\r\nX-Padding: ";
  bool dropped = false;
  const auto give_up = std::chrono::steady_clock::now() + 20s;
  for (std::size_t i = 0; !dropped && std::chrono::steady_clock::now() < give_up; ++i) {
    const char c = i < head.size() ? head[i] : 'a';
    if (::send(fd.get(), &c, 1, MSG_NOSIGNAL) != 1) {
      dropped = true;
      break;
    }
    char buf[256];
    const ssize_t n = ::recv(fd.get(), buf, sizeof buf, MSG_DONTWAIT);
    if (n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK)) dropped = true;
    std::this_thread::sleep_for(10ms);
  }
  EXPECT_TRUE(dropped) << "the server kept a trickling handshake open";
  EXPECT_EQ(srv->counters()
                .handshakes_rejected[static_cast<std::size_t>(wsx::errc::handshake_timeout)]
                .load(),
            1u);
  EXPECT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));
  EXPECT_EQ(srv->table().session_count(), 0u);
  EXPECT_TRUE(srv->stop_and_wait(1s));
}

TEST_P(slowloris, non_reading_client_is_closed_at_the_write_deadline_with_bounded_memory) {
  constexpr std::size_t limit = 1024 * 1024;
  wsx::test::server_setup so;
  so.config.max_buffered_output = limit;
  so.config.write_timeout = 500ms;
  so.config.ping_interval = wsx::duration::zero();
  so.backpressure.action = wsx::backpressure::drop_message;

  std::promise<wsx::session_ptr> opened;
  std::mutex mutex;
  int close_calls = 0;
  std::error_code close_ec;
  so.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) { opened.set_value(s); };
  so.handlers.on_close = [&](const wsx::session_ptr&, wsx::close_code, std::string_view,
                             std::error_code ec) {
    std::lock_guard lock(mutex);
    ++close_calls;
    close_ec = ec;
  };
  const std::unique_ptr<wsx::test::test_server> srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  peer p(srv->port(), "/", 4096);
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  auto future = opened.get_future();
  ASSERT_EQ(future.wait_for(20s), std::future_status::ready);
  wsx::session_ptr s = future.get();

  // Flood from this thread (the peer is never pumped again) until the session ends.
  const std::string chunk(64 * 1024, 'z');
  std::size_t accepted = 0;
  std::size_t refused = 0;
  std::size_t max_seen = 0;
  const auto give_up = std::chrono::steady_clock::now() + 30s;
  for (;;) {
    const std::error_code ec = s->send_text(chunk);
    max_seen = std::max(max_seen, s->buffered_amount());
    if (ec == wsx::errc::closed || std::chrono::steady_clock::now() > give_up) break;
    if (!ec) {
      ++accepted;
    } else if (ec == wsx::errc::invalid_state) {
      // The write deadline has fired and the session is closing (not yet ended): a send from
      // another thread in that moment is refused as too late, not counted as dropped.
      std::this_thread::yield();
    } else {
      EXPECT_EQ(ec, wsx::errc::output_limit);
      ++refused;
      std::this_thread::yield();
    }
  }
  EXPECT_LE(max_seen, limit);
  EXPECT_GT(accepted, 0u);
  EXPECT_GT(refused, 0u);
  EXPECT_GE(srv->messages_dropped(), refused);
  ASSERT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(close_calls, 1);
    EXPECT_EQ(close_ec, wsx::errc::write_timeout);
  }
  EXPECT_EQ(srv->counters().write_timeouts.load(), 1u);
  EXPECT_EQ(srv->table().session_count(), 0u);
  s.reset();
  EXPECT_TRUE(srv->stop_and_wait(1s));
}

TEST_P(backpressure, close_slow_consumer_closes_with_1008) {
  wsx::test::server_setup so;
  so.config.max_buffered_output = 64 * 1024;
  so.backpressure.action = wsx::backpressure::close_slow_consumer;
  std::mutex mutex;
  std::error_code send_result;
  wsx::close_code closed_with = wsx::close_code::no_status;
  so.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    const std::string big(100 * 1024, 'b');
    std::lock_guard lock(mutex);
    send_result = s->send_text(big);
  };
  so.handlers.on_close = [&](const wsx::session_ptr&, wsx::close_code code, std::string_view,
                             std::error_code) {
    std::lock_guard lock(mutex);
    closed_with = code;
  };
  const std::unique_ptr<wsx::test::test_server> srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  peer p(srv->port());
  ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
  ASSERT_TRUE(p.close_frame.has_value());
  EXPECT_EQ(*p.close_frame, wsx::close_code::policy_violation);
  EXPECT_TRUE(p.messages.empty());
  ASSERT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(send_result, wsx::errc::output_limit);
    EXPECT_EQ(closed_with, wsx::close_code::policy_violation);
  }
  EXPECT_EQ(srv->messages_dropped(), 1u);
  EXPECT_TRUE(srv->stop_and_wait(1s));
}

TEST_P(backpressure, drain_fires_once_the_queue_is_down_to_the_low_water_mark) {
  constexpr std::size_t limit = 256 * 1024;
  constexpr std::size_t low_water = 32 * 1024;
  wsx::test::server_setup so;
  so.config.max_buffered_output = limit;
  so.backpressure.low_water_mark = low_water;
  std::mutex mutex;
  int accepted = 0;
  int refused = 0;
  int drains = 0;
  std::size_t buffered_at_drain = limit;
  so.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    // Fill the queue until the policy refuses (inside a handler nothing is written yet).
    const std::string chunk(16 * 1024, 'd');
    std::lock_guard lock(mutex);
    while (!s->send_text(chunk)) ++accepted;
    ++refused;
  };
  so.handlers.on_drain = [&](const wsx::session_ptr& s) {
    std::lock_guard lock(mutex);
    ++drains;
    buffered_at_drain = s->buffered_amount();
  };
  const std::unique_ptr<wsx::test::test_server> srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  peer p(srv->port(), "/", 4096);
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  ASSERT_TRUE(p.pump_until([&] {
    std::lock_guard lock(mutex);
    return drains > 0 && p.messages.size() == static_cast<std::size_t>(accepted);
  }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(drains, 1);
    EXPECT_LE(buffered_at_drain, low_water);
    EXPECT_EQ(refused, 1);
    EXPECT_GT(accepted, 0);
  }
  p.close(wsx::close_code::normal);
  p.pump_until([&] { return p.closed_with.has_value(); });
  EXPECT_TRUE(srv->stop_and_wait(1s));
}

INSTANTIATE_TEST_SUITE_P(transports, slowloris, ::testing::ValuesIn(wsx::test::all_modes()),
                         wsx::test::mode_names{});
INSTANTIATE_TEST_SUITE_P(transports, backpressure, ::testing::ValuesIn(wsx::test::all_modes()),
                         wsx::test::mode_names{});

}  // namespace
