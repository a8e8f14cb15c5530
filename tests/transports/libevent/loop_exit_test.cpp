// A loop ends when its work ends: an application's event_base_dispatch() returns once a client's
// connection attached to it is gone (closed by either side, or never connected) and once a
// stopped server's connections are gone — but not before the application's own events are done.
// Real sockets on 127.0.0.1.
//
// Pass/fail is structural (dispatch returns by itself, within a generous bound); the time from the
// connection's end (its on_close) to the return is printed for the record, never asserted tightly.
#include <event2/event.h>
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <optional>
#include <string>

#include "libevent_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::test::app_loop;
using wsx::test::run_mode;
using wsx::test::server_runner;
using wsx::test::wait_until;
using steady = std::chrono::steady_clock;

wsx::libevent::server_options server_closing_on_open(bool close_on_open) {
  wsx::libevent::server_options so;
  if (close_on_open) {
    so.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
      s->close(wsx::close_code::normal, "bye");
    };
  }
  return so;
}

struct client_case {
  std::atomic<int> opens{0};
  std::atomic<int> closes{0};
  std::atomic<int> connect_errors{0};
  steady::time_point closed_at{};  // written on the loop before `closes` is raised

  wsx::libevent::client_options options(bool close_on_open) {
    wsx::libevent::client_options co;
    co.handlers.on_open = [this, close_on_open](const wsx::session_ptr& s, const wsx::opened&) {
      ++opens;
      if (close_on_open) s->close(wsx::close_code::normal, "done");
    };
    co.handlers.on_close = [this](const wsx::session_ptr&, wsx::close_code, std::string_view,
                                  std::error_code) {
      closed_at = steady::now();
      ++closes;
    };
    co.handlers.on_connect_error = [this](const wsx::session_ptr&, const wsx::rejected&) {
      ++connect_errors;
    };
    return co;
  }
};

// Runs a client attached to an application event_base on its own thread until dispatch returns.
void run_client_to_the_end(const std::string& url, client_case& cc, bool close_on_open,
                           const char* what) {
  std::optional<wsx::libevent::client> cli;
  wsx::session_ptr s;
  app_loop loop(
      [&](event_base* base) {
        cli.emplace(base, cc.options(close_on_open));
        s = cli->connect(url);
      },
      [&] { cli.reset(); });
  ASSERT_TRUE(s);
  ASSERT_TRUE(wait_until([&] { return cc.closes.load() == 1; }));
  ASSERT_TRUE(loop.wait_returned()) << "event_base_dispatch() did not return after the end";
  const auto after =
      std::chrono::duration_cast<std::chrono::microseconds>(loop.returned_at() - cc.closed_at);
  std::printf("[ measured ] %s: dispatch returned %lld us after on_close\n", what,
              static_cast<long long>(after.count()));
  EXPECT_LT(after, 1s);  // generous: the point is that it returns at all, not how fast
  s.reset();
  loop.join();
  EXPECT_TRUE(wait_until([] { return wsx::libevent::live_sessions() == 0; }));
}

TEST(libevent_loop_exit, a_client_loop_returns_after_the_client_closes) {
  server_runner srv(run_mode::one_loop, server_closing_on_open(false));
  ASSERT_FALSE(srv.start_error());
  client_case cc;
  run_client_to_the_end(srv.url(), cc, true, "client closes");
  EXPECT_EQ(cc.opens.load(), 1);
}

TEST(libevent_loop_exit, a_client_loop_returns_after_the_server_closes) {
  server_runner srv(run_mode::one_loop, server_closing_on_open(true));
  ASSERT_FALSE(srv.start_error());
  client_case cc;
  run_client_to_the_end(srv.url(), cc, false, "server closes");
  EXPECT_EQ(cc.opens.load(), 1);
}

TEST(libevent_loop_exit, a_client_loop_returns_after_a_refused_connect) {
  // A bound socket that does not listen: connecting to it is refused.
  poll_example::unique_fd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(bound.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(bound.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  const std::string url = "ws://127.0.0.1:" + std::to_string(ntohs(addr.sin_port)) + "/";
  client_case cc;
  run_client_to_the_end(url, cc, false, "refused connect");
  EXPECT_EQ(cc.opens.load(), 0);
  EXPECT_EQ(cc.connect_errors.load(), 1);
}

TEST(libevent_loop_exit, a_server_loop_returns_after_stop) {
  server_runner srv(run_mode::attached, server_closing_on_open(false));
  ASSERT_FALSE(srv.start_error());
  {
    wsx::test::peer p(srv.port());
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    std::promise<void> stopped;
    srv->stop(5s, [&] { stopped.set_value(); });
    ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
    EXPECT_EQ(p.close_frame, wsx::close_code::going_away);
    ASSERT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
  }
  // server_runner's stop_and_wait() demands that the attached base's dispatch returns.
  EXPECT_TRUE(srv.stop_and_wait(1s));
  EXPECT_TRUE(wait_until([] { return wsx::libevent::live_sessions() == 0; }));
}

TEST(libevent_loop_exit, the_applications_own_events_keep_dispatch_running) {
  // The application has a timer of its own on the base; the client's connection ends first.
  // dispatch() must return only after the application's timer has fired.
  server_runner srv(run_mode::one_loop, server_closing_on_open(true));
  ASSERT_FALSE(srv.start_error());
  client_case cc;
  std::optional<wsx::libevent::client> cli;
  std::atomic<bool> app_timer_fired{false};
  event* app_timer = nullptr;
  app_loop loop(
      [&](event_base* base) {
        app_timer = evtimer_new(
            base,
            [](evutil_socket_t, short, void* arg) {
              static_cast<std::atomic<bool>*>(arg)->store(true);
            },
            &app_timer_fired);
        const timeval half_second{0, 500'000};
        evtimer_add(app_timer, &half_second);
        cli.emplace(base, cc.options(false));
        cli->connect(srv.url());
      },
      [&] {
        cli.reset();
        event_free(app_timer);
      });
  ASSERT_TRUE(wait_until([&] { return cc.closes.load() == 1; }));
  ASSERT_TRUE(loop.wait_returned());
  EXPECT_TRUE(app_timer_fired.load()) << "dispatch returned before the application's timer";
  loop.join();
}

}  // namespace
