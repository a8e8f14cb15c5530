// Tests for the cluster engine on an in-memory Redis (fake_redis.hpp, cluster_sim.hpp): subscriptions follow
// the local tables on every path (open, close, reconnect, Redis restart) — as a property over
// random histories across three nodes —, messages reach the nodes that have the user or room
// and never come back to their origin, and foreign payloads are counted and dropped.
#include "engine.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck.h>
#include <rapidcheck/gtest.h>

#include "cluster_sim.hpp"
#include "envelope.hpp"
#include "wsx/cluster/errors.hpp"

namespace {

using namespace cluster_test;
using wsx::cluster::errc;
using wsx::cluster::detail::target;

std::set<std::string, std::less<>> expected_channels(const sim_node& n) {
  std::set<std::string, std::less<>> out{"wsx:all", "wsx:presence"};
  for (const std::string& u : n.sessions) out.insert("wsx:u:" + u);
  for (const std::string& r : n.rooms) out.insert("wsx:r:" + r);
  return out;
}

std::set<std::string> as_set(const std::set<std::string, std::less<>>& s) {
  return {s.begin(), s.end()};
}

TEST(engine, subscribes_while_a_user_has_a_local_session) {
  sim s;
  sim_node& a = s.add("a");
  s.settle();
  ASSERT_TRUE(a.eng().redis_up());
  EXPECT_EQ(a.eng().confirmed_channels(), expected_channels(a));
  a.open("alice");
  a.open("alice");
  s.settle();
  EXPECT_TRUE(a.eng().confirmed_channels().contains("wsx:u:alice"));
  a.close("alice");
  s.settle();
  EXPECT_TRUE(a.eng().confirmed_channels().contains("wsx:u:alice")) << "one device is left";
  a.close("alice");
  s.settle();
  EXPECT_FALSE(a.eng().confirmed_channels().contains("wsx:u:alice"));
  EXPECT_EQ(as_set(a.eng().confirmed_channels()), s.redis.subscriptions(a.conn_id(0)));
}

TEST(engine, message_reaches_the_nodes_of_the_user_and_not_its_origin) {
  sim s;
  sim_node& a = s.add("a");
  sim_node& b = s.add("b");
  sim_node& c = s.add("c");
  b.open("bob");
  c.open("carol");
  s.settle();
  ASSERT_FALSE(a.eng().publish(target::user, "bob", wsx::message_kind::text, "hi bob"));
  ASSERT_FALSE(b.eng().publish(target::user, "bob", wsx::message_kind::text, "own"));
  ASSERT_FALSE(a.eng().publish(target::all, "", wsx::message_kind::text, "all"));
  s.settle();
  ASSERT_EQ(b.inbox.size(), 2u);
  EXPECT_EQ(b.inbox[0].name, "bob");
  EXPECT_EQ(b.inbox[0].payload, "hi bob");
  EXPECT_EQ(b.inbox[1].to, target::all);
  ASSERT_EQ(c.inbox.size(), 1u) << "carol's node is not subscribed to bob";
  EXPECT_EQ(c.inbox[0].payload, "all");
  EXPECT_TRUE(a.inbox.empty()) << "the origin delivered its own copy locally";
  EXPECT_EQ(b.eng().counters().received, 2u);
}

TEST(engine, rooms_are_subscribed_while_they_have_local_members) {
  sim s;
  sim_node& a = s.add("a");
  sim_node& b = s.add("b");
  b.rooms.insert("lobby");
  b.eng().room_changed("lobby");
  s.settle();
  ASSERT_FALSE(a.eng().publish(target::room, "lobby", wsx::message_kind::binary, "x"));
  s.settle();
  ASSERT_EQ(b.inbox.size(), 1u);
  EXPECT_EQ(b.inbox[0].to, target::room);
  EXPECT_EQ(b.inbox[0].name, "lobby");
  b.rooms.clear();
  b.eng().room_changed("lobby");
  s.settle();
  EXPECT_FALSE(b.eng().confirmed_channels().contains("wsx:r:lobby"));
}

TEST(engine, foreign_payloads_are_counted_and_dropped) {
  sim s;
  sim_node& a = s.add("a");
  a.open("alice");
  s.settle();
  const int raw = s.redis.connect();
  s.redis.receive(raw, "*3\r\n$7\r\nPUBLISH\r\n$11\r\nwsx:u:alice\r\n$5\r\nhello\r\n");
  s.settle();
  EXPECT_TRUE(a.inbox.empty());
  EXPECT_EQ(a.eng().counters().bad_messages, 1u);
}

TEST(engine, publish_while_redis_is_down_fails_at_once) {
  sim s;
  sim_node& a = s.add("a");
  a.redis_up = false;
  s.settle();
  EXPECT_EQ(a.eng().publish(target::user, "bob", wsx::message_kind::text, "x"),
            errc::redis_unavailable);
  EXPECT_EQ(a.eng().counters().publish_failed, 1u);
  a.redis_up = true;
  s.advance(std::chrono::seconds(6));
  EXPECT_TRUE(a.eng().redis_up()) << "reconnected after its backoff";
  EXPECT_FALSE(a.eng().publish(target::user, "bob", wsx::message_kind::text, "x"));
}

TEST(engine, subscriptions_come_back_after_a_redis_restart) {
  sim s;
  sim_node& a = s.add("a");
  a.open("alice");
  a.open("bob");
  s.settle();
  s.redis.restart();
  s.settle();
  EXPECT_FALSE(a.eng().redis_up());
  a.close("bob");  // while Redis is away
  a.open("carol");
  s.advance(std::chrono::seconds(6));
  ASSERT_TRUE(a.eng().redis_up());
  EXPECT_EQ(a.eng().confirmed_channels(), expected_channels(a));
  EXPECT_EQ(as_set(a.eng().confirmed_channels()), s.redis.subscriptions(a.conn_id(0)));
}

// The property of issue 19: whatever the history of opens and closes across users and nodes
// (with Redis restarts in between), once the bytes have moved the channels each node is
// subscribed to — as Redis sees them and as the node's confirmations say — are exactly the
// users (and rooms) it has a local session for.
RC_GTEST_PROP(engine, subscribed_channels_equal_users_with_a_local_session, ()) {
  sim s;
  for (const char* name : {"a", "b", "c"}) s.add(name);
  s.settle();
  const int steps = *rc::gen::inRange(1, 80);
  for (int i = 0; i < steps; ++i) {
    sim_node& n = *s.nodes[*rc::gen::inRange<std::size_t>(0, 3)];
    const std::string user = "u" + std::to_string(*rc::gen::inRange(0, 6));
    const int op = *rc::gen::inRange(0, 20);
    if (op < 9) {
      n.open(user);
    } else if (op < 18) {
      n.close(user);
    } else if (op == 18) {
      s.redis.restart();
    } else {
      const std::string room = "r" + std::to_string(*rc::gen::inRange(0, 3));
      if (n.rooms.contains(room))
        n.rooms.erase(room);
      else
        n.rooms.insert(room);
      n.eng().room_changed(room);
    }
    if (*rc::gen::inRange(0, 3) == 0) s.settle();  // sometimes several changes in one go
  }
  s.advance(std::chrono::seconds(12), std::chrono::milliseconds(500));  // past any backoff
  for (auto& n : s.nodes) {
    RC_ASSERT(n->eng().redis_up());
    RC_ASSERT(n->eng().confirmed_channels() == expected_channels(*n));
    RC_ASSERT(as_set(n->eng().confirmed_channels()) == s.redis.subscriptions(n->conn_id(0)));
  }
}

}  // namespace
