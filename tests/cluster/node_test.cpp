// wsx::cluster nodes against a real redis-server (started by the test on a free port, stopped by
// PID), three nodes per test, every test once per transport (asio_node, libevent_node):
// send to a user on another node, every device of a user across nodes exactly once, room and
// whole-cluster broadcasts, presence (join, leave, clean stop at once), Redis restarted mid-test
// (delivery and presence come back), Redis down (remote sends fail at once with
// errc::redis_unavailable, counted; local delivery goes on), Redis silent (SIGSTOP: found by the
// probe, back after SIGCONT). A node killed with -9 is in
// node_kill_test.cpp (it needs separate processes). Waits are deadlines for what must happen.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster_nodes.hpp"
#include "redis_server.hpp"

namespace {

using namespace cluster_test;
using namespace std::chrono_literals;
using ::testing::ElementsAre;
using wsx::cluster::errc;

class cluster_node : public ::testing::TestWithParam<transport> {
 protected:
  void SetUp() override {
    if (!redis_server::available()) GTEST_SKIP() << "redis-server is not installed (scripts/setup)";
    ASSERT_TRUE(redis_.start()) << "redis-server did not start on port " << redis_.port();
    for (const char* name : {"a", "b", "c"}) {
      nodes_.push_back(make_node(GetParam(), redis_.port(), name, node_timeout_));
    }
    ASSERT_TRUE(wait_until([&] { return all_up(); })) << "the nodes did not reach Redis";
  }

  bool all_up() {
    for (auto& n : nodes_) {
      if (!n->cluster().redis_up()) return false;
    }
    return true;
  }
  bool everyone_sees(const std::vector<std::string>& users) {
    for (auto& n : nodes_) {
      if (n->cluster().online_users() != users) return false;
    }
    return true;
  }
  wsx::cluster::node& node(std::size_t i) { return nodes_[i]->cluster(); }
  std::uint16_t port(std::size_t i) { return nodes_[i]->port(); }
  static wsx::bytes_view text(const std::string& s) { return wsx::as_bytes(s); }

  // Long enough that "at once" (a clean stop) and "after expiry" cannot be mistaken.
  std::chrono::milliseconds node_timeout_ = 60s;
  redis_server redis_;
  std::vector<std::unique_ptr<test_node>> nodes_;
};

TEST_P(cluster_node, send_to_a_user_on_another_node_reaches_every_device_once) {
  clients c;
  auto alice_a = c.connect(port(0), "alice");
  auto alice_c = c.connect(port(2), "alice");
  auto bob_b = c.connect(port(1), "bob");
  ASSERT_TRUE(wait_until([&] { return everyone_sees({"alice", "bob"}); }));
  const wsx::cluster::delivery d =
      node(1).send_to_user("alice", wsx::message_kind::text, text("hi alice"));
  EXPECT_EQ(d.local, 0u);
  EXPECT_FALSE(d.remote) << d.remote.message();
  auto from_a = node(0).send_to_user("bob", wsx::message_kind::text, text("hi bob"));
  EXPECT_FALSE(from_a.remote);
  // A marker after each: once it is in, the message before it came and no copy can follow
  // (Redis keeps one publisher's order).
  node(1).send_to_user("alice", wsx::message_kind::text, text("end"));
  node(0).send_to_user("bob", wsx::message_kind::text, text("end"));
  ASSERT_TRUE(wait_until([&] {
    return c.count(alice_a, "end") == 1 && c.count(alice_c, "end") == 1 &&
           c.count(bob_b, "end") == 1;
  }));
  EXPECT_EQ(c.count(alice_a, "hi alice"), 1u);
  EXPECT_EQ(c.count(alice_c, "hi alice"), 1u);
  EXPECT_EQ(c.count(bob_b, "hi bob"), 1u);
  // Sent where one device is local: that one directly, the other through Redis, once each.
  const auto mixed = node(0).send_to_user("alice", wsx::message_kind::text, text("mixed"));
  EXPECT_EQ(mixed.local, 1u);
  node(0).send_to_user("alice", wsx::message_kind::text, text("end2"));
  ASSERT_TRUE(
      wait_until([&] { return c.count(alice_c, "end2") == 1 && c.count(alice_a, "end2") == 1; }));
  EXPECT_EQ(c.count(alice_a, "mixed"), 1u);
  EXPECT_EQ(c.count(alice_c, "mixed"), 1u);
  EXPECT_GE(node(2).snapshot().received, 2u);
}

TEST_P(cluster_node, rooms_and_broadcasts_reach_every_node_once) {
  clients c;
  auto alice = c.connect(port(0), "alice");
  auto bob = c.connect(port(1), "bob");
  auto carol = c.connect(port(2), "carol");
  ASSERT_TRUE(wait_until([&] { return everyone_sees({"alice", "bob", "carol"}); }));
  ASSERT_FALSE(node(0).join("lobby", "alice"));
  ASSERT_FALSE(node(1).join("lobby", "bob"));
  EXPECT_EQ(node(1).join("", "bob"), errc::bad_name);
  ASSERT_TRUE(wait_until([&] { return node(1).snapshot().subscriptions == 4u; }))
      << "all, presence, u:bob, r:lobby";
  const auto d = node(2).send_to_room("lobby", wsx::message_kind::text, text("to the lobby"));
  EXPECT_EQ(d.local, 0u);
  EXPECT_FALSE(d.remote);
  const auto all = node(1).broadcast(wsx::message_kind::text, text("to all"));
  EXPECT_EQ(all.local, 1u);
  ASSERT_TRUE(wait_until([&] {
    return c.count(alice, "to all") == 1 && c.count(bob, "to all") == 1 &&
           c.count(carol, "to all") == 1;
  }));
  EXPECT_EQ(c.count(alice, "to the lobby"), 1u);
  EXPECT_EQ(c.count(bob, "to the lobby"), 1u);
  EXPECT_EQ(c.count(carol, "to the lobby"), 0u);
}

TEST_P(cluster_node, presence_follows_sessions_and_a_clean_stop_leaves_at_once) {
  clients c;
  auto alice = c.connect(port(0), "alice");
  auto bob = c.connect(port(1), "bob");
  auto carol = c.connect(port(2), "carol");
  ASSERT_TRUE(wait_until([&] { return everyone_sees({"alice", "bob", "carol"}); }));
  EXPECT_TRUE(node(0).is_online("carol"));
  bob->close(wsx::close_code::normal, "bye");
  ASSERT_TRUE(wait_until([&] { return everyone_sees({"alice", "carol"}); }));
  EXPECT_TRUE(wait_until([&] { return node(1).snapshot().subscriptions == 2u; }))
      << "bob's channel dropped with his last session";
  nodes_[2]->stop();  // carol's node goes away cleanly: well before the 60 s node timeout
  EXPECT_TRUE(wait_until(
      [&] {
        return node(0).online_users() == std::vector<std::string>{"alice"} &&
               node(1).online_users() == std::vector<std::string>{"alice"};
      },
      20s));
}

TEST_P(cluster_node, a_redis_restart_loses_nothing_for_good) {
  clients c;
  auto alice = c.connect(port(0), "alice");
  auto bob = c.connect(port(1), "bob");
  ASSERT_TRUE(wait_until([&] { return everyone_sees({"alice", "bob"}); }));
  redis_.stop();
  ASSERT_TRUE(wait_until([&] { return !node(0).redis_up() && !node(1).redis_up(); }));
  auto carol = c.connect(port(2), "carol");  // arrives while Redis is away
  ASSERT_TRUE(redis_.start());
  ASSERT_TRUE(wait_until([&] { return all_up(); }));
  EXPECT_TRUE(wait_until([&] {
    return everyone_sees({"alice", "bob", "carol"});
  })) << "presence is whole again";
  // Subscriptions are back: a message to each user from another node arrives.
  ASSERT_TRUE(wait_until([&] {
    node(1).send_to_user("carol", wsx::message_kind::text, text("again"));
    node(2).send_to_user("alice", wsx::message_kind::text, text("again"));
    return c.count(carol, "again") > 0 && c.count(alice, "again") > 0;
  }));
  EXPECT_GE(node(0).snapshot().reconnects, 1u);
}

TEST_P(cluster_node, redis_down_fails_remote_sends_at_once_and_local_ones_go_on) {
  clients c;
  auto alice = c.connect(port(0), "alice");
  auto bob = c.connect(port(1), "bob");
  ASSERT_TRUE(wait_until([&] { return everyone_sees({"alice", "bob"}); }));
  redis_.stop();
  ASSERT_TRUE(wait_until([&] { return !node(0).redis_up(); }));
  constexpr int sends = 10000;
  for (int i = 0; i < sends; ++i) {
    const auto d = node(0).send_to_user("bob", wsx::message_kind::text, text("lost"));
    ASSERT_EQ(d.remote, errc::redis_unavailable);
    ASSERT_EQ(d.local, 0u);
  }
  const auto local = node(0).send_to_user("alice", wsx::message_kind::text, text("local"));
  EXPECT_EQ(local.local, 1u);
  EXPECT_EQ(local.remote, errc::redis_unavailable);
  const wsx::cluster::stats s = node(0).snapshot();
  EXPECT_EQ(s.redis_unavailable, sends + 1u);
  EXPECT_EQ(s.remote_failed, sends + 1u);
  EXPECT_FALSE(s.redis_up);
  EXPECT_TRUE(wait_until([&] { return c.count(alice, "local") == 1; }));
  EXPECT_EQ(c.count(bob, "lost"), 0u);
  EXPECT_EQ(errc::redis_unavailable, local.remote);
  EXPECT_THAT(local.remote.message(), ::testing::HasSubstr("Redis is unreachable"));
}

// A black hole: redis-server stopped with SIGSTOP keeps its connections open and answers
// nothing. The probe finds it (probe_timeout, counted), and after SIGCONT the nodes are back
// (a reconnect, presence whole, delivery).
TEST_P(cluster_node, a_silent_redis_is_found_by_the_probe) {
  clients c;
  auto alice = c.connect(port(0), "alice");
  auto bob = c.connect(port(1), "bob");
  ASSERT_TRUE(wait_until([&] { return everyone_sees({"alice", "bob"}); }));
  ASSERT_EQ(::kill(redis_.pid(), SIGSTOP), 0);
  // The probe interval is 2 s; no FIN or RST ever comes. (A reconnect meanwhile succeeds, the
  // kernel accepting for the stopped server, and is found dead by the probe again.)
  EXPECT_TRUE(wait_until([&] {
    return node(0).snapshot().probe_timeouts >= 1 && node(1).snapshot().probe_timeouts >= 1;
  }));
  ASSERT_EQ(::kill(redis_.pid(), SIGCONT), 0);
  EXPECT_TRUE(wait_until([&] { return all_up(); }));
  EXPECT_TRUE(wait_until([&] { return everyone_sees({"alice", "bob"}); }));
  ASSERT_TRUE(wait_until([&] {
    node(0).send_to_user("bob", wsx::message_kind::text, text("after"));
    return c.count(bob, "after") > 0;
  }));
}

INSTANTIATE_TEST_SUITE_P(transports, cluster_node,
                         ::testing::Values(transport::asio, transport::libevent),
                         [](const auto& p) { return std::string(transport_name(p.param)); });

}  // namespace
