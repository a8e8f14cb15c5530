// Tests for presence across nodes on an in-memory Redis with a fake clock: every node sees every
// node's users; a node that dies without a word (kill -9: no more I/O, no timers) has its users
// removed everywhere within the node timeout, and not before its keys expire; a clean stop
// removes them at once; after a Redis restart the presence is whole again; a node cut off from
// Redis for a whole node timeout forgets the others but keeps its own users.
#include "presence.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "cluster_sim.hpp"

namespace {

using namespace cluster_test;
using ::testing::ElementsAre;

std::vector<std::string> online(sim_node& n) { return n.eng().presence_state().online(); }

TEST(presence, every_node_sees_every_nodes_users) {
  sim s;
  sim_node& a = s.add("a");
  sim_node& b = s.add("b");
  sim_node& c = s.add("c");
  a.open("alice");
  b.open("bob");
  c.open("carol");
  c.open("alice");  // alice on two nodes
  s.settle();
  for (sim_node* n : {&a, &b, &c}) {
    EXPECT_THAT(online(*n), ElementsAre("alice", "bob", "carol")) << n->eng().node_name();
  }
  c.close("alice");
  c.close("carol");
  s.settle();
  EXPECT_THAT(online(a), ElementsAre("alice", "bob"));
  EXPECT_THAT(online(b), ElementsAre("alice", "bob"));
  EXPECT_GT(b.presence_notices, 0);
}

TEST(presence, a_killed_node_leaves_within_the_node_timeout) {
  sim s;
  sim_node& a = s.add("a", 3s);
  sim_node& b = s.add("b", 3s);
  a.open("alice");
  b.open("bob");
  s.settle();
  ASSERT_THAT(online(a), ElementsAre("alice", "bob"));
  b.alive = false;  // kill -9: its connections stay open in Redis, it never refreshes again
  s.advance(1s);
  EXPECT_THAT(online(a), ElementsAre("alice", "bob")) << "its keys have not expired yet";
  s.advance(2s);  // the node timeout has now passed since its last refresh
  EXPECT_THAT(online(a), ElementsAre("alice"));
  EXPECT_EQ(a.eng().presence_state().remote_nodes(), 0u);
}

TEST(presence, a_clean_stop_leaves_at_once) {
  sim s;
  sim_node& a = s.add("a");
  sim_node& b = s.add("b");
  a.open("alice");
  b.open("bob");
  s.settle();
  ASSERT_THAT(online(a), ElementsAre("alice", "bob"));
  b.eng().begin_stop();
  s.settle();
  EXPECT_THAT(online(a), ElementsAre("alice"));
  EXPECT_FALSE(s.redis.exists("wsx:users:b"));
  EXPECT_FALSE(s.redis.exists("wsx:node:b"));
}

TEST(presence, whole_again_after_a_redis_restart) {
  sim s;
  sim_node& a = s.add("a");
  sim_node& b = s.add("b");
  a.open("alice");
  b.open("bob");
  b.open("bert");
  s.settle();
  s.redis.restart();  // every key lost
  s.settle();
  b.close("bert");  // while Redis is away
  s.advance(9s);    // reconnect after backoff, re-announce, and a poll
  EXPECT_THAT(online(a), ElementsAre("alice", "bob"));
  EXPECT_THAT(online(b), ElementsAre("alice", "bob"));
  EXPECT_EQ(s.redis.set_members("wsx:users:b"), (std::set<std::string>{"bob"}));
}

TEST(presence, cut_off_for_a_node_timeout_keeps_only_local_users) {
  sim s;
  sim_node& a = s.add("a", 3s);
  sim_node& b = s.add("b", 3s);
  a.open("alice");
  b.open("bob");
  s.settle();
  a.redis_up = false;
  s.redis.restart();
  b.redis_up = false;
  s.advance(1s);
  EXPECT_THAT(online(a), ElementsAre("alice", "bob")) << "kept while it may still be true";
  s.advance(3s);
  EXPECT_THAT(online(a), ElementsAre("alice"));
  a.open("ann");  // local changes still count at once
  EXPECT_THAT(online(a), ElementsAre("alice", "ann"));
}

}  // namespace
