// A loop ends when its work ends (issue 16 item 6): an application's loop — an io_context run
// without a work guard, an application's event_base — returns once a client's connection on it
// is gone (closed by either side, or never connected) and once a stopped server's connections
// are gone, but not before the application's own work is done. Real sockets on 127.0.0.1, for
// each transport's app_loop (Asio with strands and single_threaded, libevent attached).
//
// Pass/fail is structural, never a timing: once every session object is gone, no work of the
// transport may be left on the loop (transport.hpp's app_loop::transport_work(): Asio's deadline
// queue holds neither an entry nor a wait; libevent's base counts no event), which would be there
// at that moment whatever the machine's load; then the loop must return by itself (a generous
// bound). How long after the end it returned is printed for the record ("[ measured ]" lines).
#include <gtest/gtest.h>

#include <atomic>
#include <chrono>
#include <cstdio>
#include <future>
#include <string>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using wsx::test::app_loop;
using wsx::test::mode;
using wsx::test::wait_until;

// The bound on "returns by itself": far beyond any prompt return, short of a stuck loop.
constexpr std::chrono::milliseconds return_bound = 5s;

wsx::test::server_setup server_closing_on_open(bool close_on_open) {
  wsx::test::server_setup so;
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

  wsx::test::client_setup options(bool close_on_open) {
    wsx::test::client_setup co;
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

void print_latency(mode m, const char* what, steady::time_point from, steady::time_point to) {
  const auto us = std::chrono::duration_cast<std::chrono::microseconds>(to - from).count();
  std::printf("[ measured ] %s, %s: the loop returned %lld us after the end\n",
              wsx::test::mode_name(m), what, static_cast<long long>(us));
}

class loop_exit : public ::testing::TestWithParam<mode> {
 protected:
  // Runs a client on an app_loop until its one connection to `url` is over, and checks that the
  // loop is left with no work and returns.
  void run_client_to_the_end(const std::string& url, client_case& cc, bool close_on_open,
                             const char* what) {
    const std::unique_ptr<app_loop> loop = wsx::test::make_app_loop(GetParam());
    wsx::session_ptr s;
    loop->start([&](app_loop& l) { s = l.add_client(cc.options(close_on_open)).connect(url); });
    ASSERT_TRUE(s);
    ASSERT_TRUE(wait_until([&] { return cc.closes.load() == 1; }));
    s.reset();
    ASSERT_TRUE(wsx::test::all_sessions_gone());
    EXPECT_EQ(loop->transport_work(), 0u) << "work of the transport left with no connection";
    ASSERT_TRUE(loop->wait_returned(return_bound)) << "the loop did not return after the end";
    print_latency(GetParam(), what, cc.closed_at, loop->returned_at());
    loop->join();
  }
};

TEST_P(loop_exit, a_client_loop_returns_after_the_client_closes) {
  const auto t = wsx::test::make_transport(GetParam());
  const auto srv = t->server(server_closing_on_open(false));
  ASSERT_FALSE(srv->start_error());
  client_case cc;
  run_client_to_the_end(srv->url(), cc, true, "client closes");
  EXPECT_EQ(cc.opens.load(), 1);
}

TEST_P(loop_exit, a_client_loop_returns_after_the_server_closes) {
  const auto t = wsx::test::make_transport(GetParam());
  const auto srv = t->server(server_closing_on_open(true));
  ASSERT_FALSE(srv->start_error());
  client_case cc;
  run_client_to_the_end(srv->url(), cc, false, "server closes");
  EXPECT_EQ(cc.opens.load(), 1);
}

TEST_P(loop_exit, a_client_loop_returns_after_a_refused_connect) {
  poll_example::unique_fd holder;
  const std::uint16_t port = wsx::test::refusing_port(holder);
  ASSERT_NE(port, 0);
  client_case cc;
  run_client_to_the_end("ws://127.0.0.1:" + std::to_string(port) + "/", cc, false,
                        "refused connect");
  EXPECT_EQ(cc.opens.load(), 0);
  EXPECT_EQ(cc.connect_errors.load(), 1);
}

TEST_P(loop_exit, a_server_loop_returns_after_stop) {
  const std::unique_ptr<app_loop> loop = wsx::test::make_app_loop(GetParam());
  wsx::test::test_server* srv = nullptr;
  loop->start([&](app_loop& l) { srv = &l.add_server(server_closing_on_open(false)); });
  ASSERT_FALSE(srv->start_error());
  steady::time_point stopped_at{};
  {
    wsx::test::peer p(srv->port());
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    std::promise<void> stopped;
    srv->stop(5s, [&] {
      stopped_at = steady::now();
      stopped.set_value();
    });
    ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
    EXPECT_EQ(p.close_frame, wsx::close_code::going_away);
    ASSERT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
  }
  ASSERT_TRUE(wsx::test::all_sessions_gone());
  EXPECT_EQ(loop->transport_work(), 0u) << "work of the transport left after stop()";
  ASSERT_TRUE(loop->wait_returned(return_bound)) << "the loop did not return after stop()";
  print_latency(GetParam(), "server stopped", stopped_at, loop->returned_at());
  loop->join();
}

TEST_P(loop_exit, the_applications_own_work_keeps_the_loop_running) {
  // The application has a timer of its own on the loop; the client's connection ends first.
  // The loop must return only after the application's timer has fired.
  const auto t = wsx::test::make_transport(GetParam());
  const auto srv = t->server(server_closing_on_open(true));
  ASSERT_FALSE(srv->start_error());
  client_case cc;
  std::atomic<bool> app_timer_fired{false};
  const std::unique_ptr<app_loop> loop = wsx::test::make_app_loop(GetParam());
  loop->start([&](app_loop& l) {
    l.add_app_timer(500ms, app_timer_fired);
    l.add_client(cc.options(false)).connect(srv->url());
  });
  ASSERT_TRUE(wait_until([&] { return cc.closes.load() == 1; }));
  ASSERT_TRUE(loop->wait_returned(return_bound));
  EXPECT_TRUE(app_timer_fired.load()) << "the loop returned before the application's timer";
  loop->join();
}

INSTANTIATE_TEST_SUITE_P(transports, loop_exit, ::testing::ValuesIn(wsx::test::app_loop_modes()),
                         wsx::test::mode_names{});

}  // namespace
