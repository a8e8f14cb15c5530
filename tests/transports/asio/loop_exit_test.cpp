// A loop ends when its work ends: io_context::run() returns once a client's connection is gone
// (closed by either side, or never connected), and once a stopped server's connections are gone,
// with no timer of the transport left behind. Real sockets on 127.0.0.1.
//
// The check is structural: once the last connection is destroyed (no session handle is alive),
// the io_context's deadline queue holds neither an entry nor an Asio wait, so nothing of the
// transport is left to keep run() going; then run() must return (a bounded wait, never a timing
// assertion). A wait left out would be there at that moment whatever the machine's load.
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <string>
#include <thread>

#include <asio/ip/tcp.hpp>

#include "asio_test_support.hpp"
#include "deadline_queue.hpp"
#include "wsx/asio/client.hpp"
#include "wsx/asio/server.hpp"

namespace {

using namespace std::chrono_literals;
using wsx::asio::detail::deadline_queue;
using wsx::test::io_threads;
using wsx::test::wait_until;

// One thread running io.run() once, without a work guard: it returns when the work is done.
class loop_thread {
 public:
  explicit loop_thread(asio::io_context& io)
      : io_(io), thread_([this] {
          io_.run();
          returned_ = true;
        }) {}
  ~loop_thread() { join(); }
  loop_thread(const loop_thread&) = delete;
  loop_thread& operator=(const loop_thread&) = delete;

  // True when run() returned by itself within `limit`; otherwise the loop is stopped.
  bool join(std::chrono::milliseconds limit = 20s) {
    if (!thread_.joinable()) return returned_by_itself_;
    returned_by_itself_ = wait_until([this] { return returned_.load(); }, limit);
    if (!returned_by_itself_) io_.stop();
    thread_.join();
    return returned_by_itself_;
  }

 private:
  asio::io_context& io_;
  std::atomic<bool> returned_{false};
  bool returned_by_itself_ = false;
  std::thread thread_;
};

// Nothing of the transport is pending in `io`.
void expect_no_timer_left(asio::io_context& io) {
  const deadline_queue& q = asio::use_service<deadline_queue>(io);
  EXPECT_EQ(q.size(), 0u);
  EXPECT_FALSE(q.waiting()) << "an Asio wait is left out with no connection to time";
}

// Every session handle of the process is gone: every connection object has been destroyed.
bool all_sessions_gone() {
  return wait_until([] { return wsx::asio::live_sessions() == 0; });
}

wsx::asio::server_options server_closing_on_open(bool close_on_open) {
  wsx::asio::server_options so;
  so.single_threaded = true;
  if (close_on_open) {
    so.handlers.on_open = [](const wsx::session_ptr& s, const wsx::opened&) {
      s->close(wsx::close_code::normal, "bye");
    };
  }
  return so;
}

std::string url_of(const wsx::asio::server& srv) {
  return "ws://127.0.0.1:" + std::to_string(srv.local_endpoint().port()) + "/";
}

// The client's io_context is run by the test, the server's by threads of its own.
struct client_case {
  std::atomic<int> opens{0};
  std::atomic<int> closes{0};
  std::atomic<int> connect_errors{0};

  wsx::asio::client_options options(bool close_on_open) {
    wsx::asio::client_options co;
    co.handlers.on_open = [this, close_on_open](const wsx::session_ptr& s, const wsx::opened&) {
      ++opens;
      if (close_on_open) s->close(wsx::close_code::normal, "done");
    };
    co.handlers.on_close = [this](const wsx::session_ptr&, wsx::close_code, std::string_view,
                                  std::error_code) { ++closes; };
    co.handlers.on_connect_error = [this](const wsx::session_ptr&, const wsx::rejected&) {
      ++connect_errors;
    };
    return co;
  }
};

void run_client_to_the_end(const std::string& url, client_case& cc, bool close_on_open) {
  asio::io_context io(1);
  wsx::asio::client cli(io, cc.options(close_on_open));
  wsx::session_ptr s = cli.connect(url);
  ASSERT_TRUE(s);
  loop_thread loop(io);
  ASSERT_TRUE(wait_until([&] { return cc.closes.load() == 1; }));
  s.reset();
  ASSERT_TRUE(all_sessions_gone());
  expect_no_timer_left(io);
  EXPECT_TRUE(loop.join()) << "run() did not return after the connection's end";
}

TEST(asio_loop_exit, a_client_loop_returns_after_the_client_closes) {
  io_threads server_threads(1);
  wsx::asio::server srv(server_threads.io(), server_closing_on_open(false));
  ASSERT_FALSE(srv.start());
  client_case cc;
  run_client_to_the_end(url_of(srv), cc, true);
  EXPECT_EQ(cc.opens.load(), 1);
}

TEST(asio_loop_exit, a_client_loop_returns_after_the_server_closes) {
  io_threads server_threads(1);
  wsx::asio::server srv(server_threads.io(), server_closing_on_open(true));
  ASSERT_FALSE(srv.start());
  client_case cc;
  run_client_to_the_end(url_of(srv), cc, false);
  EXPECT_EQ(cc.opens.load(), 1);
}

TEST(asio_loop_exit, a_client_loop_returns_after_a_refused_connect) {
  // A bound socket that does not listen: connecting to it is refused.
  asio::io_context other;
  asio::ip::tcp::socket bound(other, asio::ip::tcp::endpoint(asio::ip::address_v4::loopback(), 0));
  const std::string url = "ws://127.0.0.1:" + std::to_string(bound.local_endpoint().port()) + "/";
  client_case cc;
  run_client_to_the_end(url, cc, false);
  EXPECT_EQ(cc.opens.load(), 0);
  EXPECT_EQ(cc.connect_errors.load(), 1);
}

TEST(asio_loop_exit, a_server_loop_returns_after_stop) {
  asio::io_context io(1);
  wsx::asio::server srv(io, server_closing_on_open(false));
  ASSERT_FALSE(srv.start());
  loop_thread loop(io);
  {
    wsx::test::peer p(srv.local_endpoint().port());
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    std::promise<void> stopped;
    srv.stop(5s, [&] { stopped.set_value(); });
    ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
    EXPECT_EQ(p.close_frame, wsx::close_code::going_away);
    ASSERT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
  }
  ASSERT_TRUE(all_sessions_gone());
  expect_no_timer_left(io);
  EXPECT_TRUE(loop.join()) << "run() did not return after stop()";
}

}  // namespace
