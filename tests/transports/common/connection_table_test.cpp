// Tests for wsx::connection_table: lookup and counting, idempotent insert/erase, encode-once
// send_to_user and broadcast, re-entrancy (a session that erases itself or walks the table from
// inside send_shared), take_all, and an 8-thread stress run whose final state and send counts
// are checked exactly against what each thread did.
#include "wsx/common/connection_table.hpp"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <random>
#include <set>
#include <string>
#include <thread>
#include <vector>

namespace {

using wsx::connection_table;
using wsx::message_kind;
using wsx::session_ptr;
using wsx::shared_message;

// What one fake session saw: the payload text and the identity of the encoded frame's bytes.
struct receipt {
  std::string payload;
  const void* owner = nullptr;
};

class fake_session final : public wsx::session {
 public:
  explicit fake_session(std::string user) : session(std::move(user)) {}

  std::error_code send(message_kind, wsx::bytes_view) override { return {}; }
  std::error_code send_shared(const shared_message& msg) override {
    if (!is_open()) return wsx::errc::closed;
    const wsx::bytes_view wire = msg.wire();
    receipt r{std::string(wsx::as_string(wire.last(msg.payload_size()))), msg.owner().get()};
    {
      std::lock_guard lock(mutex_);
      received_.push_back(std::move(r));
    }
    if (on_send) on_send(*this);
    return {};
  }
  std::error_code ping(wsx::bytes_view) override { return {}; }
  std::error_code close(wsx::close_code, std::string_view) override {
    end();
    return {};
  }
  std::size_t buffered_amount() const noexcept override { return 0; }
  std::string remote_endpoint() const override { return "127.0.0.1:1"; }

  void end() { mark_ended(); }
  std::vector<receipt> received() const {
    std::lock_guard lock(mutex_);
    return received_;
  }

  // Runs after a message is recorded, on the sending thread, with no table lock held.
  std::function<void(fake_session&)> on_send;

 private:
  mutable std::mutex mutex_;
  std::vector<receipt> received_;
};

std::shared_ptr<fake_session> make(std::string user) {
  return std::make_shared<fake_session>(std::move(user));
}

std::set<std::uint64_t> ids_of(const std::vector<session_ptr>& v) {
  std::set<std::uint64_t> out;
  for (const auto& s : v) out.insert(s->id());
  return out;
}

TEST(connection_table, tracks_users_devices_and_anonymous_sessions) {
  connection_table t;
  auto a1 = make("alice"), a2 = make("alice"), b = make("bob"), anon = make("");
  for (const auto& s : {a1, a2, b, anon}) EXPECT_TRUE(t.insert(s));
  EXPECT_EQ(t.session_count(), 4u);
  EXPECT_EQ(t.user_count(), 3u);  // alice, bob and "" (the anonymous bucket)
  EXPECT_EQ(ids_of(t.sessions_of("alice")), (std::set{a1->id(), a2->id()}));
  EXPECT_EQ(ids_of(t.sessions_of("")), std::set{anon->id()});
  EXPECT_TRUE(t.sessions_of("carol").empty());
}

TEST(connection_table, insert_is_idempotent_and_refuses_null) {
  connection_table t;
  auto a = make("alice");
  EXPECT_TRUE(t.insert(a));
  EXPECT_FALSE(t.insert(a));
  EXPECT_FALSE(t.insert(nullptr));
  EXPECT_EQ(t.session_count(), 1u);
  EXPECT_EQ(t.user_count(), 1u);
}

TEST(connection_table, erase_is_idempotent_and_drops_empty_users) {
  connection_table t;
  auto a1 = make("alice"), a2 = make("alice"), never = make("alice");
  t.insert(a1);
  t.insert(a2);
  EXPECT_FALSE(t.erase(*never));
  EXPECT_TRUE(t.erase(*a1));
  EXPECT_FALSE(t.erase(*a1));
  EXPECT_EQ(t.session_count(), 1u);
  EXPECT_EQ(t.user_count(), 1u);
  EXPECT_TRUE(t.erase(*a2));
  EXPECT_EQ(t.session_count(), 0u);
  EXPECT_EQ(t.user_count(), 0u);
  EXPECT_TRUE(t.sessions_of("alice").empty());
}

TEST(connection_table, erase_releases_the_tables_reference) {
  connection_table t;
  auto a = make("alice");
  std::weak_ptr<fake_session> weak = a;
  t.insert(std::move(a));
  ASSERT_FALSE(weak.expired());
  auto copy = weak.lock();
  const wsx::session& ref = *copy;
  copy.reset();  // only the table holds it now
  EXPECT_TRUE(t.erase(ref));
  EXPECT_TRUE(weak.expired());
}

TEST(connection_table, send_to_user_encodes_once_for_every_device) {
  connection_table t;
  auto a1 = make("alice"), a2 = make("alice"), a3 = make("alice"), b = make("bob");
  for (const auto& s : {a1, a2, a3, b}) t.insert(s);
  a3->end();  // an ended session refuses: not counted
  EXPECT_EQ(t.send_to_user("alice", message_kind::text, wsx::as_bytes("hi")), 2u);
  ASSERT_EQ(a1->received().size(), 1u);
  ASSERT_EQ(a2->received().size(), 1u);
  EXPECT_EQ(a1->received()[0].payload, "hi");
  EXPECT_EQ(a1->received()[0].owner, a2->received()[0].owner);
  EXPECT_TRUE(a3->received().empty());
  EXPECT_TRUE(b->received().empty());
  EXPECT_EQ(t.send_to_user("nobody", message_kind::text, wsx::as_bytes("hi")), 0u);
}

TEST(connection_table, broadcast_reaches_everyone_but_except_with_one_encoding) {
  connection_table t;
  std::vector<std::shared_ptr<fake_session>> all;
  for (int i = 0; i < 40; ++i) all.push_back(make("user" + std::to_string(i % 13)));
  all.push_back(make(""));
  for (const auto& s : all) t.insert(s);
  const auto& sender = all[5];
  EXPECT_EQ(t.broadcast(message_kind::binary, wsx::as_bytes("news"), sender.get()), all.size() - 1);
  std::set<const void*> owners;
  for (const auto& s : all) {
    const auto got = s->received();
    if (s == sender) {
      EXPECT_TRUE(got.empty());
      continue;
    }
    ASSERT_EQ(got.size(), 1u) << "user " << s->user_id();
    EXPECT_EQ(got[0].payload, "news");
    owners.insert(got[0].owner);
  }
  EXPECT_EQ(owners.size(), 1u) << "the frame was encoded more than once";
}

TEST(connection_table, broadcast_frame_is_the_shared_message_encoding) {
  connection_table t;
  std::string wire_text;
  t.insert(make("a"));
  struct capture final : wsx::session {
    explicit capture(std::string* out) : session("c"), out_(out) {}
    std::error_code send(message_kind, wsx::bytes_view) override { return {}; }
    std::error_code send_shared(const shared_message& m) override {
      *out_ = std::string(wsx::as_string(m.wire()));
      return {};
    }
    std::error_code ping(wsx::bytes_view) override { return {}; }
    std::error_code close(wsx::close_code, std::string_view) override { return {}; }
    std::size_t buffered_amount() const noexcept override { return 0; }
    std::string remote_endpoint() const override { return {}; }
    std::string* out_;
  };
  t.insert(std::make_shared<capture>(&wire_text));
  EXPECT_EQ(t.broadcast(message_kind::text, wsx::as_bytes("abc")), 2u);
  const auto expected = shared_message::make(message_kind::text, wsx::as_bytes("abc"));
  EXPECT_EQ(wire_text, std::string(wsx::as_string(expected.wire())));
}

TEST(connection_table, empty_table_broadcasts_to_nobody) {
  connection_table t;
  EXPECT_EQ(t.broadcast(message_kind::text, wsx::as_bytes("x")), 0u);
}

TEST(connection_table, session_may_erase_itself_from_inside_send_shared) {
  connection_table t;
  std::vector<std::shared_ptr<fake_session>> all;
  for (int i = 0; i < 20; ++i) {
    auto s = make("u" + std::to_string(i % 3));
    s->on_send = [&t](fake_session& self) {
      EXPECT_TRUE(t.erase(self));
      EXPECT_FALSE(t.erase(self));
      t.sessions_of(self.user_id());  // walking the table from inside is fine too
    };
    all.push_back(s);
    t.insert(s);
  }
  EXPECT_EQ(t.broadcast(message_kind::text, wsx::as_bytes("bye")), 20u);
  EXPECT_EQ(t.session_count(), 0u);
  EXPECT_EQ(t.user_count(), 0u);
}

TEST(connection_table, session_may_broadcast_from_inside_send_shared) {
  connection_table t;
  auto relay = make("relay"), other = make("other");
  relay->on_send = [&t](fake_session& self) {
    if (self.received().size() == 1) t.broadcast(message_kind::text, wsx::as_bytes("echo"), &self);
  };
  t.insert(relay);
  t.insert(other);
  EXPECT_EQ(t.send_to_user("relay", message_kind::text, wsx::as_bytes("ping")), 1u);
  ASSERT_EQ(other->received().size(), 1u);
  EXPECT_EQ(other->received()[0].payload, "echo");
}

TEST(connection_table, for_each_sees_a_snapshot_and_may_erase) {
  connection_table t;
  for (int i = 0; i < 10; ++i) t.insert(make("u" + std::to_string(i)));
  std::size_t visited = 0;
  t.for_each([&](const session_ptr& s) {
    ++visited;
    t.erase(*s);
  });
  EXPECT_EQ(visited, 10u);
  EXPECT_EQ(t.session_count(), 0u);
}

TEST(connection_table, take_all_empties_the_table) {
  connection_table t;
  auto a = make("alice"), b = make("bob"), anon = make("");
  for (const auto& s : {a, b, anon}) t.insert(s);
  const auto taken = t.take_all();
  EXPECT_EQ(ids_of(taken), (std::set{a->id(), b->id(), anon->id()}));
  EXPECT_EQ(t.session_count(), 0u);
  EXPECT_EQ(t.user_count(), 0u);
  EXPECT_FALSE(t.erase(*a));  // the close path that runs afterwards finds nothing: fine
  EXPECT_TRUE(t.take_all().empty());
}

// ---- concurrency ----------------------------------------------------------------------------

// Eight threads insert, erase, send to users and broadcast at once. Some sessions erase
// themselves when a message reaches them. Afterwards: every erase of a session returned true at
// most once; the table holds exactly the sessions never erased; both counters are exact; every
// accepted send was received exactly once; every broadcast was encoded once.
TEST(connection_table, concurrent_insert_erase_send_is_exact) {
  constexpr int threads = 8;
  constexpr int ops_per_thread = 2000;
  connection_table t;

  struct tracked {
    std::shared_ptr<fake_session> s;
    std::atomic<int> successful_erases{0};
  };
  std::vector<std::vector<std::unique_ptr<tracked>>> created(threads);
  std::atomic<std::size_t> accepted_total{0};

  const auto user_name = [](unsigned k) {
    return k == 0 ? std::string{} : "u" + std::to_string(k);
  };

  std::vector<std::thread> pool;
  for (int th = 0; th < threads; ++th) {
    pool.emplace_back([&, th] {
      std::mt19937 engine(static_cast<unsigned>(1234 + th));
      const auto roll = [&engine](unsigned n) { return static_cast<unsigned>(engine() % n); };
      auto& mine = created[static_cast<std::size_t>(th)];
      for (int op = 0; op < ops_per_thread; ++op) {
        const unsigned pick = roll(100);
        const std::string payload = std::to_string(th) + ":" + std::to_string(op);
        if (pick < 35) {
          auto tr = std::make_unique<tracked>();
          tr->s = make(user_name(roll(12)));
          if (roll(4) == 0) {
            tracked* raw = tr.get();
            tr->s->on_send = [&t, raw](fake_session& self) {
              if (t.erase(self)) raw->successful_erases.fetch_add(1);
            };
          }
          EXPECT_TRUE(t.insert(tr->s));
          mine.push_back(std::move(tr));
        } else if (pick < 65) {
          if (mine.empty()) continue;
          auto& tr = *mine[roll(static_cast<unsigned>(mine.size()))];
          if (t.erase(*tr.s)) tr.successful_erases.fetch_add(1);
        } else if (pick < 88) {
          accepted_total +=
              t.send_to_user(user_name(roll(12)), message_kind::text, wsx::as_bytes(payload));
        } else if (pick < 94) {
          accepted_total += t.broadcast(message_kind::text, wsx::as_bytes(payload));
        } else {
          std::size_t n = 0;
          t.for_each([&n](const session_ptr&) { ++n; });
          (void)t.sessions_of(user_name(roll(12)));
        }
      }
    });
  }
  for (auto& th : pool) th.join();

  std::set<std::uint64_t> expected_ids;
  std::set<std::string> expected_users;
  std::size_t received_total = 0;
  std::map<std::string, std::set<const void*>> owners_by_payload;
  for (const auto& per_thread : created) {
    for (const auto& tr : per_thread) {
      const int erases = tr->successful_erases.load();
      EXPECT_LE(erases, 1) << "a session was erased twice";
      if (erases == 0) {
        expected_ids.insert(tr->s->id());
        expected_users.insert(tr->s->user_id());
      }
      std::set<std::string> seen;
      for (const auto& r : tr->s->received()) {
        ++received_total;
        EXPECT_TRUE(seen.insert(r.payload).second) << "message " << r.payload << " delivered twice";
        owners_by_payload[r.payload].insert(r.owner);
      }
    }
  }
  std::vector<session_ptr> in_table;
  t.for_each([&](const session_ptr& s) { in_table.push_back(s); });
  EXPECT_EQ(ids_of(in_table), expected_ids);
  EXPECT_EQ(t.session_count(), expected_ids.size());
  EXPECT_EQ(t.user_count(), expected_users.size());
  EXPECT_EQ(received_total, accepted_total.load());
  for (const auto& [payload, owners] : owners_by_payload) {
    EXPECT_EQ(owners.size(), 1u) << "message " << payload << " encoded more than once";
  }
  const auto taken = t.take_all();
  EXPECT_EQ(ids_of(taken), expected_ids);
  EXPECT_EQ(t.session_count(), 0u);
  EXPECT_EQ(t.user_count(), 0u);
}

// The membership hook: one call per first insert and last erase (take_all included), none for
// a second device or a repeated insert/erase; an empty hook removes it.
TEST(connection_table, membership_hook_hears_first_and_last_session) {
  connection_table t;
  std::vector<std::string> calls;
  t.set_membership_hook([&](std::string_view user) {
    calls.emplace_back(std::string(user) + (t.sessions_of(user).empty() ? " out" : " in"));
  });
  auto a1 = make("alice");
  auto a2 = make("alice");
  auto b = make("bob");
  t.insert(a1);
  t.insert(a2);
  t.insert(a1);
  t.insert(b);
  t.erase(*a1);
  t.erase(*a1);
  t.erase(*a2);
  EXPECT_THAT(calls, ::testing::ElementsAre("alice in", "bob in", "alice out"));
  calls.clear();
  t.insert(a1);
  EXPECT_THAT(calls, ::testing::ElementsAre("alice in"));
  calls.clear();
  t.take_all();
  EXPECT_THAT(calls, ::testing::UnorderedElementsAre("alice out", "bob out"));
  calls.clear();
  t.set_membership_hook({});
  t.insert(a1);
  t.erase(*a1);
  EXPECT_TRUE(calls.empty());
}

// Threads inserting and erasing sessions of a few users: after they finish, a hook that reads
// the table on each call has last seen exactly the users that still have a session.
TEST(connection_table, membership_hook_last_reading_is_the_final_state) {
  connection_table t;
  std::mutex mutex;
  std::map<std::string, bool> seen;  // user → present at the hook's last reading
  t.set_membership_hook([&](std::string_view user) {
    std::lock_guard lock(mutex);
    seen[std::string(user)] = !t.sessions_of(user).empty();
  });
  std::vector<std::thread> threads;
  std::vector<std::vector<std::shared_ptr<fake_session>>> kept(4);
  for (int i = 0; i < 4; ++i) {
    threads.emplace_back([&, i] {
      std::mt19937 rng(static_cast<unsigned>(i));
      std::vector<std::shared_ptr<fake_session>> mine;
      for (int n = 0; n < 4000; ++n) {
        if (mine.empty() || rng() % 2 == 0) {
          mine.push_back(make("u" + std::to_string(rng() % 5)));
          t.insert(mine.back());
        } else {
          const std::size_t k = rng() % mine.size();
          t.erase(*mine[k]);
          mine.erase(mine.begin() + static_cast<std::ptrdiff_t>(k));
        }
      }
      kept[static_cast<std::size_t>(i)] = std::move(mine);
    });
  }
  for (auto& th : threads) th.join();
  // A hook call may still be reading when its change was overtaken; all have returned now.
  for (const auto& [user, present] : seen) {
    EXPECT_EQ(present, !t.sessions_of(user).empty()) << user;
  }
}

}  // namespace
