// Tests for one Redis link on a fake clock with the bytes in memory: replies come back with the
// tags of their commands in order; silence brings a PING after half the probe interval and a
// dead connection after the other half (black hole); the probe's answer is swallowed; the
// backoff doubles within its jitter band up to the cap and starts again after a reply; nothing
// is queued while the link is down; the backlog and the reply size are bounded.
#include "redis_link.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "wsx/cluster/errors.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::cluster::errc;
using wsx::cluster::detail::link_config;
using wsx::cluster::detail::link_event;
using wsx::cluster::detail::link_state;
using wsx::cluster::detail::redis_link;
using wsx::cluster::detail::time_point;

struct fixture {
  time_point now = time_point{} + std::chrono::hours(1);
  link_config cfg;
  redis_link link;

  explicit fixture(bool subscriber = false, std::size_t max_reply = 1024)
      : cfg(make(subscriber, max_reply)), link(cfg, 42) {}

  static link_config make(bool subscriber, std::size_t max_reply) {
    link_config c;
    c.probe_interval = 2s;
    c.connect_timeout = 2s;
    c.backoff_initial = 100ms;
    c.backoff_max = 1600ms;
    c.max_reply_bytes = max_reply;
    c.max_backlog_bytes = 100;
    c.subscriber = subscriber;
    return c;
  }
  void open() {
    link.start(now);
    link.on_connected(now);
    auto e = link.next_event();
    ASSERT_TRUE(e);
    ASSERT_EQ(e->type, link_event::kind::connected);
  }
  void feed(std::string_view bytes) {
    (void)link.receive(std::span<const char>(bytes.data(), bytes.size()), now);
  }
  std::string take_output() {
    std::string out(link.pending_output());
    link.consume_output(out.size());
    return out;
  }
  void tick(std::chrono::milliseconds d) {
    now += d;
    link.on_timer(now);
  }
};

TEST(redis_link, replies_carry_the_tags_of_their_commands_in_order) {
  fixture f;
  f.open();
  ASSERT_FALSE(f.link.send("A", 7, 1));
  ASSERT_FALSE(f.link.send("BC", 8, 2));
  EXPECT_EQ(f.take_output(), "ABC");
  f.feed("+one\r\n:2\r\n$5\r\nthree\r\n");
  std::vector<std::pair<std::uint64_t, std::string>> got;
  while (auto e = f.link.next_event()) got.emplace_back(e->tag, e->r.str);
  EXPECT_THAT(got, ::testing::ElementsAre(std::pair<std::uint64_t, std::string>{7, "one"},
                                          std::pair<std::uint64_t, std::string>{8, ""},
                                          std::pair<std::uint64_t, std::string>{8, "three"}));
}

TEST(redis_link, silence_brings_a_ping_and_its_answer_is_swallowed) {
  fixture f;
  f.open();
  f.tick(999ms);
  EXPECT_EQ(f.take_output(), "");
  f.tick(1ms);
  EXPECT_EQ(f.take_output(), "*1\r\n$4\r\nPING\r\n");
  f.feed("+PONG\r\n");
  EXPECT_FALSE(f.link.next_event()) << "the probe's answer is not the application's";
  f.tick(1s);
  EXPECT_TRUE(f.link.is_open());
}

TEST(redis_link, a_black_hole_is_found_within_the_probe_interval) {
  fixture f;
  f.open();
  f.tick(1s);  // PING sent, nothing ever comes back
  ASSERT_FALSE(f.take_output().empty());
  f.tick(999ms);
  EXPECT_TRUE(f.link.is_open());
  f.tick(1ms);
  EXPECT_EQ(f.link.state(), link_state::backoff);
  auto e = f.link.next_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->type, link_event::kind::disconnected);
  EXPECT_EQ(e->ec, errc::probe_timeout);
  EXPECT_EQ(f.link.probe_timeouts(), 1u);
  EXPECT_FALSE(f.link.wants_socket());
}

TEST(redis_link, the_subscriber_probe_answer_is_an_array) {
  fixture f(true);
  f.open();
  f.tick(1s);
  EXPECT_EQ(f.take_output(), "*1\r\n$4\r\nPING\r\n");
  f.feed("*2\r\n$4\r\npong\r\n$0\r\n\r\n*3\r\n$7\r\nmessage\r\n$1\r\nc\r\n$1\r\nx\r\n");
  auto e = f.link.next_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->r.text(0), "message");
  EXPECT_FALSE(f.link.next_event());
}

TEST(redis_link, backoff_doubles_with_jitter_up_to_the_cap_and_resets_after_a_reply) {
  fixture f;
  f.link.start(f.now);
  std::vector<std::chrono::milliseconds> waits;
  for (int i = 0; i < 7; ++i) {
    f.link.on_connect_failed(f.now);
    ASSERT_EQ(f.link.state(), link_state::backoff);
    const auto wait =
        std::chrono::duration_cast<std::chrono::milliseconds>(*f.link.next_deadline() - f.now);
    waits.push_back(wait);
    f.now += wait;
    f.link.on_timer(f.now);
    ASSERT_EQ(f.link.state(), link_state::connecting);
  }
  const std::chrono::milliseconds cap[] = {100ms, 200ms, 400ms, 800ms, 1600ms, 1600ms, 1600ms};
  for (std::size_t i = 0; i < waits.size(); ++i) {
    EXPECT_GE(waits[i], cap[i] / 2) << i;
    EXPECT_LE(waits[i], cap[i]) << i;
  }
  f.link.on_connected(f.now);
  ASSERT_FALSE(f.link.send("X", 1, 1));
  f.feed("+OK\r\n");
  f.link.on_eof(f.now);
  const auto wait = *f.link.next_deadline() - f.now;
  EXPECT_LE(wait, 100ms) << "a reply proved Redis alive: the backoff starts again";
}

TEST(redis_link, nothing_is_queued_while_down_and_the_backlog_is_bounded) {
  fixture f;
  EXPECT_EQ(f.link.send("X", 1, 1), errc::redis_unavailable);
  f.open();
  EXPECT_FALSE(f.link.send(std::string(60, 'a'), 1, 1));
  EXPECT_EQ(f.link.send(std::string(60, 'b'), 1, 1), errc::backlog_full);
  f.link.on_eof(f.now);
  EXPECT_EQ(f.link.pending_output(), "");
  EXPECT_EQ(f.link.send("X", 1, 1), errc::redis_unavailable);
}

TEST(redis_link, a_reply_past_the_limit_drops_the_connection) {
  fixture f(false, 1024);
  f.open();
  ASSERT_FALSE(f.link.send("GET", 1, 1));
  f.feed("$100000\r\n" + std::string(2000, 'x'));
  EXPECT_EQ(f.link.state(), link_state::backoff);
  auto e = f.link.next_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ec, errc::reply_too_large);
  EXPECT_EQ(f.link.replies_too_large(), 1u);
}

TEST(redis_link, a_reply_nobody_asked_for_is_a_protocol_error) {
  fixture f;
  f.open();
  f.feed("+surprise\r\n");
  auto e = f.link.next_event();
  ASSERT_TRUE(e);
  EXPECT_EQ(e->ec, errc::protocol_error);
}

TEST(redis_link, a_connect_that_hangs_fails_at_its_timeout) {
  fixture f;
  f.link.start(f.now);
  const std::uint64_t first = f.link.attempt();
  f.tick(2s);
  EXPECT_EQ(f.link.state(), link_state::backoff);
  f.tick(200ms);
  EXPECT_EQ(f.link.state(), link_state::connecting);
  EXPECT_EQ(f.link.attempt(), first + 1) << "a new attempt: the adapter opens a new socket";
}

}  // namespace
