// Tests for the room table: join/leave are idempotent and say whether they changed anything,
// dropping a user empties exactly its rooms, and an emptied room is gone.
#include "room_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace {

using ::testing::ElementsAre;
using wsx::cluster::detail::room_table;

TEST(room_table, join_and_leave_are_idempotent) {
  room_table t;
  EXPECT_TRUE(t.join("lobby", "alice"));
  EXPECT_FALSE(t.join("lobby", "alice"));
  EXPECT_TRUE(t.join("lobby", "bob"));
  EXPECT_THAT(t.members("lobby"), ElementsAre("alice", "bob"));
  EXPECT_TRUE(t.leave("lobby", "alice"));
  EXPECT_FALSE(t.leave("lobby", "alice"));
  EXPECT_FALSE(t.leave("nowhere", "bob"));
  EXPECT_TRUE(t.has_room("lobby"));
  EXPECT_TRUE(t.leave("lobby", "bob"));
  EXPECT_FALSE(t.has_room("lobby"));
  EXPECT_TRUE(t.members("lobby").empty());
}

TEST(room_table, drop_user_leaves_every_room_of_the_user) {
  room_table t;
  t.join("a", "alice");
  t.join("b", "alice");
  t.join("b", "bob");
  EXPECT_THAT(t.rooms_of("alice"), ElementsAre("a", "b"));
  EXPECT_THAT(t.drop_user("alice"), ElementsAre("a", "b"));
  EXPECT_FALSE(t.has_room("a"));
  EXPECT_THAT(t.members("b"), ElementsAre("bob"));
  EXPECT_TRUE(t.drop_user("alice").empty());
}

}  // namespace
