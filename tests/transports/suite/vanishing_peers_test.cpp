// 1,000 connections for 100 users, then every client vanishes without a close frame: half with a
// TCP reset, half by going silent (they stop reading, writing and answering pings, like a phone
// that lost its network). With a short heartbeat the server must notice all of them: the
// connection table ends empty, every session object is destroyed, and the server has released
// every descriptor it held. In every mode of every transport.
#include <gtest/gtest.h>

#include <algorithm>
#include <future>
#include <memory>
#include <mutex>
#include <set>
#include <string>
#include <thread>
#include <vector>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::test::mode;
using wsx::test::peer;
using wsx::test::wait_until;

constexpr int connections = 1000;
constexpr int users = 100;

// Parameter: the server's mode, every mode of every transport.
class vanishing_peers : public ::testing::TestWithParam<mode> {};

TEST_P(vanishing_peers, table_empties_sessions_die_and_descriptors_return) {
  ASSERT_GE(wsx::test::raise_fd_limit(4 * connections + 256), 2 * connections + 128u)
      << "RLIMIT_NOFILE too low for this test";
  const std::unique_ptr<wsx::test::transport> t = wsx::test::make_transport(GetParam());

  std::mutex mutex;
  std::vector<std::weak_ptr<wsx::session>> sessions;  // every session the server opened
  std::set<std::uint64_t> closed_ids;
  int close_calls = 0;

  wsx::test::server_setup so;
  so.config.ping_interval = 200ms;
  so.config.pong_timeout = 300ms;
  so.linger = 300ms;
  so.on_upgrade = [](const wsx::upgrade_context& ctx) {
    // "?user=u17": the user id the connection table files the session under.
    const std::string_view q = ctx.request().query;
    if (!q.starts_with("user=")) return wsx::upgrade_decision::reject(400, "no user");
    return wsx::upgrade_decision::accept(std::string(q.substr(5)));
  };
  so.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    std::lock_guard lock(mutex);
    sessions.push_back(s);
  };
  so.handlers.on_close = [&](const wsx::session_ptr& s, wsx::close_code, std::string_view,
                             std::error_code) {
    std::lock_guard lock(mutex);
    ++close_calls;
    closed_ids.insert(s->id());
  };
  const std::unique_ptr<wsx::test::test_server> srv = t->server(std::move(so));
  ASSERT_FALSE(srv->start_error());
  const std::uint16_t port = srv->port();
  // The fewest of a few samples: a descriptor some other part of the process holds for a
  // moment (seen under ASan: two sockets, gone a millisecond later) must not count as baseline.
  int baseline_fds = wsx::test::open_fd_count();
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(10ms);
    baseline_fds = std::min(baseline_fds, wsx::test::open_fd_count());
  }

  // Connect everyone, pumping the ones already connected between batches so that they keep
  // answering the server's pings while the rest are set up.
  std::vector<std::unique_ptr<peer>> peers;
  for (int i = 0; i < connections; ++i) {
    peers.push_back(std::make_unique<peer>(port, "/?user=u" + std::to_string(i % users)));
    ASSERT_TRUE(peers.back()->connected()) << "connect " << i;
    if (i % 25 == 24) wsx::test::pump_round(peers, 0);
  }
  const auto all_open = [&] {
    for (const auto& p : peers) {
      if (!p->opened) return false;
    }
    return true;
  };
  ASSERT_TRUE(wsx::test::pump_all(peers, all_open, 60s));
  // Alive (and answering pings) for a while: nobody is dropped while they are.
  ASSERT_TRUE(wsx::test::pump_all(
      peers, [&] { return srv->table().session_count() == connections; }, 20s));
  EXPECT_EQ(srv->table().user_count(), static_cast<std::size_t>(users));
  EXPECT_EQ(srv->table().sessions_of("u7").size(), static_cast<std::size_t>(connections / users));
  EXPECT_EQ(srv->table().send_to_user("u7", wsx::message_kind::text, wsx::as_bytes("to u7")),
            static_cast<std::size_t>(connections / users));

  // Vanish: even ones reset, odd ones go silent (their sockets stay open, never read again).
  for (int i = 0; i < connections; i += 2) peers[static_cast<std::size_t>(i)]->reset();

  EXPECT_TRUE(wait_until([&] { return srv->table().session_count() == 0; }, 60s))
      << srv->table().session_count() << " sessions left";
  EXPECT_EQ(srv->table().user_count(), 0u);
  EXPECT_TRUE(wait_until([&] { return srv->connection_count() == 0; }, 30s))
      << srv->connection_count() << " connections left";
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(close_calls, connections);  // exactly once each
    EXPECT_EQ(closed_ids.size(), static_cast<std::size_t>(connections));
  }
  // The server's descriptors are all back; the silent clients still hold theirs.
  EXPECT_TRUE(
      wait_until([&] { return wsx::test::open_fd_count() == baseline_fds + connections / 2; }, 10s))
      << wsx::test::open_fd_count() << " open, baseline " << baseline_fds;
  const wsx::stats_snapshot snap = srv->counters().snapshot();
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_EQ(snap.heartbeat_timeouts, static_cast<std::uint64_t>(connections / 2));
  EXPECT_EQ(snap.closes[6], static_cast<std::uint64_t>(connections));  // all 1006

  // Every session object is gone (nothing but the test's weak references pointed at them). A
  // connection counts as finished when its socket closes, but the transport frees it a moment
  // later (Asio: once the completions of the waits that close cancelled have run; libevent: when
  // the callback that closed it has returned), so the last objects die a moment later.
  const auto all_sessions_gone = [&] {
    std::lock_guard lock(mutex);
    for (const auto& w : sessions) {
      if (!w.expired()) return false;
    }
    return true;
  };
  EXPECT_TRUE(wait_until(all_sessions_gone, 10s));
  EXPECT_EQ(wsx::live_session_count(), 0u);

  peers.clear();
  EXPECT_TRUE(wait_until([&] { return wsx::test::open_fd_count() == baseline_fds; }, 10s))
      << wsx::test::open_fd_count() << " open, baseline " << baseline_fds;
  EXPECT_TRUE(srv->stop_and_wait(1s));
}

INSTANTIATE_TEST_SUITE_P(transports, vanishing_peers, ::testing::ValuesIn(wsx::test::all_modes()),
                         wsx::test::mode_names{});

}  // namespace
