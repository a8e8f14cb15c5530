// Per-session user data and the kept request (wsx/common/user_data.hpp) over real sockets on
// 127.0.0.1: what the upgrade hook attaches — at once or from another thread after deferring —
// is there in every handler, in the observer and on the session handle, typed (another type
// reads nullptr); the request's path, query and the named headers only are kept; and the data
// is destroyed once the session has ended on every close path (normal close, a peer that
// vanishes, server stop) — a counted destructor says so, with no map on the application's side.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <future>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include "asio_test_support.hpp"
#include "wsx/asio/client.hpp"
#include "wsx/asio/server.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::test::io_threads;
using wsx::test::peer;
using wsx::test::wait_until;

// What the application keeps per session: a name, a message count, and a live-object count.
struct counted {
  explicit counted(std::string n) : name(std::move(n)) { live.fetch_add(1); }
  ~counted() { live.fetch_sub(1); }
  counted(const counted&) = delete;
  counted& operator=(const counted&) = delete;
  std::string name;
  int messages = 0;  // touched by this session's handlers only: they never run at once
  static inline std::atomic<int> live{0};
};

struct other {
  int x = 0;
};

void stop_and_wait(wsx::asio::server& srv) {
  std::promise<void> stopped;
  srv.stop(5s, [&] { stopped.set_value(); });
  ASSERT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
}

// A server whose hook attaches a `counted` named after ?user=… and keeps X-Trace; every message
// is answered with "NAME:COUNT" read from the user data; on_close and the observer check that
// the data is still there and record what they saw.
struct rig {
  explicit rig(io_threads& t, bool defer = false) {
    wsx::asio::server_options o;
    o.linger = 200ms;
    o.on_upgrade = [this, defer](const wsx::upgrade_context& ctx) {
      const std::string user(ctx.request().query.substr(ctx.request().query.find('=') + 1));
      ctx.keep_request({"x-trace"});
      if (!defer) {
        wsx::upgrade_decision d = wsx::upgrade_decision::accept(user);
        d.set_user_data<counted>("state-" + user);
        return d;
      }
      const wsx::pending_upgrade pending = ctx.defer();
      workers.emplace_back([pending, user] {
        wsx::upgrade_decision d = wsx::upgrade_decision::accept(user);
        d.set_user_data<counted>("late-" + user).messages = 100;
        pending.complete(std::move(d));
      });
      return wsx::upgrade_decision::defer();
    };
    o.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind, wsx::bytes_view) {
      counted* c = s->user_data<counted>();
      if (c == nullptr) return;
      ++c->messages;
      s->send_text(c->name + ":" + std::to_string(c->messages));
    };
    o.handlers.on_open = [this](const wsx::session_ptr& s, const wsx::opened&) {
      std::lock_guard lock(mutex);
      typed_ok = typed_ok && s->user_data<counted>() != nullptr &&
                 s->user_data<other>() == nullptr &&
                 s->user_data<const counted>() == s->user_data<counted>();
      if (const wsx::kept_request* r = s->request()) {
        kept.push_back(r->path + "?" + r->query + " " +
                       std::string(r->header("X-Trace").value_or("-")) + " " +
                       std::string(r->header("Host").value_or("-")));
      }
    };
    o.handlers.on_close = [this](const wsx::session_ptr& s, wsx::close_code, std::string_view,
                                 std::error_code) {
      std::lock_guard lock(mutex);
      if (const counted* c = s->user_data<counted>()) closed.push_back(c->name);
    };
    o.observer.on_session_end = [this](const wsx::session_end& e) {
      std::lock_guard lock(mutex);
      if (const counted* c = e.session->user_data<counted>()) ended.push_back(c->name);
    };
    srv.emplace(t.io(), std::move(o));
    EXPECT_FALSE(srv->start());
  }
  ~rig() {
    for (std::thread& w : workers) w.join();
  }
  std::uint16_t port() const { return srv->local_endpoint().port(); }
  std::vector<std::string> read(std::vector<std::string> rig::*what) {
    std::lock_guard lock(mutex);
    return this->*what;
  }

  std::mutex mutex;
  bool typed_ok = true;
  std::vector<std::string> kept, closed, ended;
  std::vector<std::thread> workers;  // hook thread only, joined at the end
  std::optional<wsx::asio::server> srv;
};

TEST(asio_user_data, reaches_every_handler_typed_and_dies_with_the_session_on_every_close_path) {
  io_threads threads(2);
  ASSERT_EQ(counted::live.load(), 0);
  rig r(threads);

  // 1. Normal close: the data answered the messages, on_close and the observer saw it.
  {
    peer p(r.port(), "/chat?user=alice");
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    p.send_text("a");
    p.send_text("b");
    ASSERT_TRUE(p.pump_until([&] { return p.messages.size() == 2; }));
    EXPECT_EQ(p.messages, (std::vector<std::string>{"state-alice:1", "state-alice:2"}));
    EXPECT_EQ(counted::live.load(), 1);
    p.close(wsx::close_code::normal);
    ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
  }
  ASSERT_TRUE(wait_until([&] { return counted::live.load() == 0; }));
  // 2. A peer that vanishes with a TCP reset.
  {
    peer p(r.port(), "/chat?user=bob");
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    p.send_text("x");
    ASSERT_TRUE(p.pump_until([&] { return p.messages.size() == 1; }));
    EXPECT_EQ(counted::live.load(), 1);
    p.reset();
  }
  ASSERT_TRUE(wait_until([&] { return counted::live.load() == 0; }));
  // 3. Server stop with two sessions open.
  peer p1(r.port(), "/chat?user=carol");
  peer p2(r.port(), "/chat?user=dave");
  ASSERT_TRUE(p1.pump_until([&] { return p1.opened; }));
  ASSERT_TRUE(p2.pump_until([&] { return p2.opened; }));
  ASSERT_TRUE(wait_until([&] { return r.srv->table().session_count() == 2; }));
  EXPECT_EQ(counted::live.load(), 2);
  std::promise<void> stopped;
  r.srv->stop(5s, [&] { stopped.set_value(); });
  ASSERT_TRUE(p1.pump_until([&] { return p1.closed_with.has_value(); }));
  ASSERT_TRUE(p2.pump_until([&] { return p2.closed_with.has_value(); }));
  ASSERT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
  ASSERT_TRUE(wait_until([&] { return counted::live.load() == 0; }));

  std::lock_guard lock(r.mutex);
  EXPECT_TRUE(r.typed_ok);
  const std::vector<std::string> all{"state-alice", "state-bob", "state-carol", "state-dave"};
  std::vector<std::string> closed = r.closed;
  std::vector<std::string> ended = r.ended;
  std::sort(closed.begin(), closed.end());
  std::sort(ended.begin(), ended.end());
  EXPECT_EQ(closed, all);
  EXPECT_EQ(ended, all);
}

TEST(asio_user_data, a_handle_kept_by_the_application_keeps_its_data_readable_after_the_end) {
  io_threads threads(1);
  rig r(threads);
  wsx::session_ptr kept_handle;
  {
    peer p(r.port(), "/chat?user=erin");
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    ASSERT_TRUE(wait_until([&] { return r.srv->table().session_count() == 1; }));
    kept_handle = r.srv->table().sessions_of("erin").at(0);
    p.reset();
  }
  ASSERT_TRUE(wait_until([&] { return !kept_handle->is_open(); }));
  ASSERT_TRUE(wait_until([&] { return r.srv->connection_count() == 0; }));
  // The session is over (its commands say so), its data is still safe to read.
  EXPECT_EQ(kept_handle->send_text("late"), wsx::errc::closed);
  ASSERT_NE(kept_handle->user_data<counted>(), nullptr);
  EXPECT_EQ(kept_handle->user_data<counted>()->name, "state-erin");
  EXPECT_EQ(counted::live.load(), 1);
  kept_handle.reset();  // the last handle: the data goes with it
  EXPECT_EQ(counted::live.load(), 0);
  stop_and_wait(*r.srv);
}

TEST(asio_user_data, a_deferred_answer_carries_its_data_and_the_request_keeps_only_named_headers) {
  io_threads threads(2);
  rig r(threads, /*defer=*/true);
  wsx::asio::client_options co;
  co.headers = {{"X-Trace", "t-42"}, {"X-Secret", "not kept"}};
  std::mutex mutex;
  std::vector<std::string> answers;
  co.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) { s->send_text("hi"); };
  co.handlers.on_message = [&](const wsx::session_ptr& s, wsx::message_kind, wsx::bytes_view d) {
    std::lock_guard lock(mutex);
    answers.emplace_back(wsx::as_string(d));
    s->close(wsx::close_code::normal, "bye");
  };
  wsx::asio::client cli(threads.io(), std::move(co));
  wsx::session_ptr s =
      cli.connect("ws://127.0.0.1:" + std::to_string(r.port()) + "/room/7?user=frank");
  ASSERT_TRUE(wait_until([&] { return r.read(&rig::ended).size() == 1; }));
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(answers, std::vector<std::string>{"late-frank:101"});
  }
  // Host was sent but not named: not kept. The query is kept whole.
  EXPECT_EQ(r.read(&rig::kept), std::vector<std::string>{"/room/7?user=frank t-42 -"});
  EXPECT_EQ(s->user_data<counted>(), nullptr);  // a client session carries none
  EXPECT_EQ(s->request(), nullptr);
  ASSERT_TRUE(wait_until([&] { return counted::live.load() == 0; }));
  stop_and_wait(*r.srv);
}

}  // namespace
