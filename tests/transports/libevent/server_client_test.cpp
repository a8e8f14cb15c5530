// wsx::libevent server and client together over real sockets on 127.0.0.1, with the server in
// each run mode (attached to an application event_base, a pool of one loop, of two): echo, the
// upgrade hook (accept with a user, reject, defer and answer from another thread, never answer),
// plain HTTP, the session handle after the end, client failures, stats and the table, stop().
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <atomic>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "libevent_test_support.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using wsx::test::run_mode;
using wsx::test::server_runner;
using wsx::test::wait_until;

// Thread-safe record of what a set of handlers saw.
struct recorder {
  std::mutex mutex;
  std::vector<std::string> messages;
  std::vector<std::string> users_opened;
  int opens = 0;
  int closes = 0;
  int connect_errors = 0;
  std::optional<wsx::rejected> rejected_with;
  wsx::close_code last_code = wsx::close_code::no_status;
  std::error_code last_ec;
  wsx::session_ptr last_session;

  void attach(wsx::session_handlers& h) {
    h.on_open = [this](const wsx::session_ptr& s, const wsx::opened&) {
      std::lock_guard lock(mutex);
      ++opens;
      users_opened.push_back(s->user_id());
      last_session = s;
    };
    h.on_message = [this](const wsx::session_ptr&, wsx::message_kind, wsx::bytes_view data) {
      std::lock_guard lock(mutex);
      messages.emplace_back(wsx::as_string(data));
    };
    h.on_close = [this](const wsx::session_ptr&, wsx::close_code code, std::string_view,
                        std::error_code ec) {
      std::lock_guard lock(mutex);
      ++closes;
      last_code = code;
      last_ec = ec;
    };
    h.on_connect_error = [this](const wsx::session_ptr&, const wsx::rejected& r) {
      std::lock_guard lock(mutex);
      ++connect_errors;
      rejected_with = r;
    };
  }
  template <class F>
  auto read(F f) {
    std::lock_guard lock(mutex);
    return f();
  }
};

wsx::libevent::server_options echo_options() {
  wsx::libevent::server_options o;
  o.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
    s->send(k, d);
  };
  return o;
}

class libevent_server : public ::testing::TestWithParam<run_mode> {};

TEST_P(libevent_server, echoes_text_and_binary_and_counts) {
  wsx::libevent::server_options so = echo_options();
  so.on_upgrade = [](const wsx::upgrade_context& ctx) {
    return wsx::upgrade_decision::accept("alice-" + ctx.request().query);
  };
  recorder server_side;
  server_side.attach(so.handlers);
  so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
    s->send(k, d);
  };
  server_runner srv(GetParam(), std::move(so));
  ASSERT_FALSE(srv.start_error());

  recorder client_side;
  wsx::libevent::client_options co;
  client_side.attach(co.handlers);
  co.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    s->send_text("hello");
    const std::string bin(70000, '\x07');
    s->send(wsx::message_kind::binary, wsx::as_bytes(bin));
    std::lock_guard lock(client_side.mutex);
    ++client_side.opens;
  };
  wsx::libevent::loop_pool client_loops(1);
  wsx::libevent::client cli(client_loops, std::move(co));
  wsx::session_ptr s = cli.connect(srv.url("/chat?phone"));
  ASSERT_TRUE(s);

  ASSERT_TRUE(wait_until(
      [&] { return client_side.read([&] { return client_side.messages.size(); }) == 2; }));
  EXPECT_EQ(client_side.messages[0], "hello");
  EXPECT_EQ(client_side.messages[1], std::string(70000, '\x07'));
  EXPECT_EQ(server_side.read([&] { return server_side.users_opened; }),
            std::vector<std::string>{"alice-phone"});
  EXPECT_EQ(srv->table().session_count(), 1u);
  EXPECT_EQ(srv->table().sessions_of("alice-phone").size(), 1u);
  EXPECT_EQ(srv->counters().handshakes_accepted.load(), 1u);
  EXPECT_EQ(srv->counters().open_connections.load(), 1u);
  EXPECT_EQ(srv->connection_count(), 1u);

  ASSERT_FALSE(s->close(wsx::close_code::normal, "done"));
  ASSERT_TRUE(
      wait_until([&] { return server_side.read([&] { return server_side.closes; }) == 1; }));
  ASSERT_TRUE(
      wait_until([&] { return client_side.read([&] { return client_side.closes; }) == 1; }));
  EXPECT_EQ(server_side.last_code, wsx::close_code::normal);
  EXPECT_FALSE(server_side.last_ec);
  EXPECT_EQ(client_side.last_code, wsx::close_code::normal);
  EXPECT_EQ(srv->table().session_count(), 0u);
  const wsx::stats_snapshot snap = srv->counters().snapshot();
  EXPECT_EQ(snap.messages_in, 2u);
  EXPECT_EQ(snap.messages_out, 2u);
  EXPECT_EQ(snap.closes[0], 1u);  // 1000
  EXPECT_EQ(snap.open_connections, 0u);
  EXPECT_GT(snap.bytes_in, 70000u);

  // After the end, every command of the handle says closed — from any thread.
  std::thread([&] {
    EXPECT_EQ(s->send_text("late"), wsx::errc::closed);
    EXPECT_EQ(s->ping({}), wsx::errc::closed);
    EXPECT_EQ(s->close(wsx::close_code::normal, ""), wsx::errc::closed);
    EXPECT_EQ(s->buffered_amount(), 0u);
  }).join();
  EXPECT_FALSE(s->is_open());

  EXPECT_TRUE(srv.stop_and_wait(5s));
  server_side.last_session.reset();
  client_side.last_session.reset();
  s.reset();
  EXPECT_TRUE(wait_until([] { return wsx::libevent::live_sessions() == 0; }));
}

TEST_P(libevent_server, rejected_upgrade_reaches_the_client_with_status_and_body) {
  wsx::libevent::server_options so = echo_options();
  so.on_upgrade = [](const wsx::upgrade_context& ctx) {
    auto token = ctx.request().header("Authorization");
    if (!token) return wsx::upgrade_decision::reject(401, "missing bearer token");
    return wsx::upgrade_decision::accept("bob");
  };
  server_runner srv(GetParam(), std::move(so));
  ASSERT_FALSE(srv.start_error());

  recorder client_side;
  wsx::libevent::client_options co;
  client_side.attach(co.handlers);
  wsx::libevent::loop_pool client_loops(1);
  wsx::libevent::client cli(client_loops, std::move(co));
  cli.connect(srv.url());
  ASSERT_TRUE(
      wait_until([&] { return client_side.read([&] { return client_side.closes; }) == 1; }));
  EXPECT_EQ(client_side.opens, 0);
  ASSERT_EQ(client_side.connect_errors, 1);
  EXPECT_EQ(client_side.rejected_with->status, 401);
  EXPECT_EQ(client_side.rejected_with->ec, wsx::errc::bad_status);
  EXPECT_THAT(client_side.rejected_with->body, HasSubstr("missing bearer token"));
  EXPECT_EQ(client_side.last_code, wsx::close_code::abnormal);
  EXPECT_EQ(srv->counters().app_rejected[4].load(), 1u);  // 4xx
  EXPECT_EQ(srv->table().session_count(), 0u);
  EXPECT_TRUE(srv.stop_and_wait(5s));
}

TEST_P(libevent_server, deferred_upgrade_completes_from_a_worker_thread) {
  std::vector<std::thread> workers;
  std::mutex workers_mutex;
  wsx::libevent::server_options so = echo_options();
  so.on_upgrade = [&](const wsx::upgrade_context& ctx) {
    // Slow work (a token check, a database call) happens elsewhere; the hook returns at once.
    wsx::pending_upgrade pending = ctx.defer();
    std::string user(ctx.request().query);
    std::lock_guard lock(workers_mutex);
    workers.emplace_back([pending, user] { EXPECT_FALSE(pending.accept(user, "chat.v1")); });
    return wsx::upgrade_decision::defer();
  };
  recorder server_side;
  server_side.attach(so.handlers);
  so.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
    s->send(k, d);
  };
  server_runner srv(GetParam(), std::move(so));
  ASSERT_FALSE(srv.start_error());

  recorder client_side;
  std::string agreed;
  wsx::libevent::client_options co;
  co.subprotocols = {"chat.v2", "chat.v1"};
  client_side.attach(co.handlers);
  co.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened& o) {
    {
      std::lock_guard lock(client_side.mutex);
      agreed = o.subprotocol;
      ++client_side.opens;
    }
    s->send_text("after defer");
  };
  wsx::libevent::loop_pool client_loops(1);
  wsx::libevent::client cli(client_loops, std::move(co));
  wsx::session_ptr s = cli.connect(srv.url("/?carol"));
  ASSERT_TRUE(wait_until(
      [&] { return client_side.read([&] { return client_side.messages.size(); }) == 1; }));
  EXPECT_EQ(client_side.read([&] { return agreed; }), "chat.v1");
  EXPECT_EQ(server_side.read([&] { return server_side.users_opened; }),
            std::vector<std::string>{"carol"});
  EXPECT_EQ(srv->table().sessions_of("carol").size(), 1u);
  {
    std::lock_guard lock(workers_mutex);
    for (std::thread& w : workers) w.join();
  }
  s->close(wsx::close_code::normal, "");
  EXPECT_TRUE(srv.stop_and_wait(5s));
}

TEST_P(libevent_server, unanswered_deferred_upgrade_gets_503_at_the_handshake_deadline) {
  std::vector<wsx::pending_upgrade> kept;  // held but never answered
  std::mutex kept_mutex;
  wsx::libevent::server_options so = echo_options();
  so.config.handshake_timeout = 200ms;
  so.on_upgrade = [&](const wsx::upgrade_context& ctx) {
    std::lock_guard lock(kept_mutex);
    kept.push_back(ctx.defer());
    return wsx::upgrade_decision::defer();
  };
  server_runner srv(GetParam(), std::move(so));
  ASSERT_FALSE(srv.start_error());

  recorder client_side;
  wsx::libevent::client_options co;
  client_side.attach(co.handlers);
  wsx::libevent::loop_pool client_loops(1);
  wsx::libevent::client cli(client_loops, std::move(co));
  cli.connect(srv.url());
  ASSERT_TRUE(
      wait_until([&] { return client_side.read([&] { return client_side.closes; }) == 1; }));
  ASSERT_TRUE(client_side.rejected_with);
  EXPECT_EQ(client_side.rejected_with->status, 503);
  EXPECT_EQ(srv->counters()
                .handshakes_rejected[static_cast<std::size_t>(wsx::errc::handshake_timeout)]
                .load(),
            1u);
  // Answering after the deadline is harmless: the connection is gone or no longer waiting.
  ASSERT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));
  std::lock_guard lock(kept_mutex);
  EXPECT_EQ(kept.at(0).accept("late"), wsx::errc::closed);
  EXPECT_TRUE(srv.stop_and_wait(5s));
}

TEST_P(libevent_server, plain_http_goes_to_the_handler_or_gets_426) {
  wsx::libevent::server_options with = echo_options();
  with.on_http = [](const wsx::http_request& req, std::string_view) {
    wsx::http_response r;
    if (req.path == "/healthz") {
      r.status = 200;
      r.headers = {{"Content-Type", "text/plain"}};
      r.body = "ok\n";
    }
    return r;
  };
  server_runner srv(GetParam(), std::move(with));
  ASSERT_FALSE(srv.start_error());
  server_runner plain(GetParam(), echo_options());
  ASSERT_FALSE(plain.start_error());

  const auto get = [](std::uint16_t port, std::string_view path) {
    poll_example::unique_fd fd = wsx::test::connect_loopback(port);
    EXPECT_TRUE(fd);
    wsx::test::send_all(fd.get(), "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n\r\n");
    return wsx::test::read_until_closed(fd.get());
  };
  const std::string health = get(srv.port(), "/healthz");
  EXPECT_THAT(health, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(health, HasSubstr("\r\n\r\nok\n"));
  EXPECT_THAT(get(srv.port(), "/nope"), StartsWith("HTTP/1.1 404"));
  const std::string refused = get(plain.port(), "/healthz");
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 426"));
  EXPECT_THAT(refused, HasSubstr("Upgrade"));
  EXPECT_TRUE(srv.stop_and_wait(5s));
  EXPECT_TRUE(plain.stop_and_wait(5s));
}

TEST_P(libevent_server,
       plain_http_answers_head_http_1_0_and_any_method_and_refuses_upgrade_bodies) {
  std::mutex seen_mutex;
  std::vector<std::string> seen;
  wsx::libevent::server_options with = echo_options();
  with.on_http = [&](const wsx::http_request& req, std::string_view) {
    {
      std::lock_guard lock(seen_mutex);
      seen.push_back(req.method + " " + req.path);
    }
    wsx::http_response r;
    if (req.path == "/healthz") {
      r.status = 200;
      r.headers = {{"Content-Type", "text/plain"}};
      r.body = "ok\n";
    } else if (req.method == "OPTIONS") {
      r.status = 204;
      r.headers = {{"Allow", "GET, HEAD, OPTIONS"}};
    }
    return r;
  };
  server_runner srv(GetParam(), std::move(with));
  ASSERT_FALSE(srv.start_error());
  const auto exchange = [&](const std::string& wire) {
    poll_example::unique_fd fd = wsx::test::connect_loopback(srv.port());
    EXPECT_TRUE(fd);
    wsx::test::send_all(fd.get(), wire);
    return wsx::test::read_until_closed(fd.get());
  };

  EXPECT_EQ(exchange("HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n"
            "Content-Type: text/plain\r\n\r\n");
  const std::string old = exchange("GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_THAT(old, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(old, HasSubstr("\r\n\r\nok\n"));
  const std::string options = exchange("OPTIONS / HTTP/1.0\r\n\r\n");
  EXPECT_THAT(options, StartsWith("HTTP/1.1 204 No Content\r\n"));
  EXPECT_THAT(options, HasSubstr("Allow: GET, HEAD, OPTIONS\r\n"));

  const std::string reason = "an upgrade request must not have a body (Content-Length: 5)";
  const std::string body_refused = exchange(
      "GET /chat HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
      "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
      "Content-Length: 5\r\n\r\nhello");
  EXPECT_THAT(body_refused, StartsWith("HTTP/1.1 400 Bad Request\r\n"));
  EXPECT_THAT(body_refused, HasSubstr("\r\n\r\n" + reason + "\n"));
  EXPECT_THAT(body_refused, ::testing::Not(HasSubstr("Switching Protocols")));
  ASSERT_TRUE(wait_until([&] {
    return srv->counters()
               .handshakes_rejected[static_cast<std::size_t>(wsx::errc::upgrade_with_body)]
               .load() == 1u;
  }));
  {
    std::lock_guard lock(seen_mutex);
    EXPECT_EQ(seen, (std::vector<std::string>{"HEAD /healthz", "GET /healthz", "OPTIONS /"}));
  }
  EXPECT_TRUE(srv.stop_and_wait(5s));
}

TEST(libevent_client, failures_before_the_upgrade_are_reported_once) {
  // A port nobody listens on: a bound socket that does not listen refuses connections.
  poll_example::unique_fd bound(::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ASSERT_EQ(::bind(bound.get(), reinterpret_cast<const sockaddr*>(&addr), sizeof addr), 0);
  socklen_t len = sizeof addr;
  ::getsockname(bound.get(), reinterpret_cast<sockaddr*>(&addr), &len);
  const std::uint16_t dead_port = ntohs(addr.sin_port);
  recorder r;
  wsx::libevent::client_options co;
  r.attach(co.handlers);
  wsx::libevent::loop_pool client_loops(1);
  wsx::libevent::client cli(client_loops, std::move(co));
  wsx::session_ptr refused = cli.connect("ws://127.0.0.1:" + std::to_string(dead_port) + "/");
  wsx::session_ptr malformed = cli.connect("http://example.com/");
  wsx::session_ptr secure = cli.connect("wss://127.0.0.1:1/");
  ASSERT_TRUE(refused && malformed && secure);
  ASSERT_TRUE(wait_until([&] { return r.read([&] { return r.closes; }) == 3; }));
  EXPECT_EQ(r.connect_errors, 3);
  EXPECT_EQ(r.opens, 0);
  EXPECT_EQ(refused->send_text("x"), wsx::errc::closed);
  EXPECT_EQ(malformed->send_text("x"), wsx::errc::closed);
  EXPECT_EQ(secure->send_text("x"), wsx::errc::closed);
}

TEST(libevent_client, close_before_open_cancels_the_attempt) {
  wsx::libevent::server_options so = echo_options();
  std::vector<wsx::pending_upgrade> kept;
  std::mutex kept_mutex;
  so.on_upgrade = [&](const wsx::upgrade_context& ctx) {
    std::lock_guard lock(kept_mutex);
    kept.push_back(ctx.defer());
    return wsx::upgrade_decision::defer();
  };
  server_runner srv(run_mode::one_loop, std::move(so));
  ASSERT_FALSE(srv.start_error());
  recorder r;
  wsx::libevent::client_options co;
  r.attach(co.handlers);
  wsx::libevent::loop_pool client_loops(1);
  wsx::libevent::client cli(client_loops, std::move(co));
  wsx::session_ptr s = cli.connect(srv.url());
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(kept_mutex);
    return !kept.empty();
  }));
  EXPECT_EQ(s->send_text("too early"), wsx::errc::invalid_state);
  EXPECT_FALSE(s->close(wsx::close_code::normal, ""));
  ASSERT_TRUE(wait_until([&] { return r.read([&] { return r.closes; }) == 1; }));
  EXPECT_EQ(r.connect_errors, 1);
  EXPECT_EQ(r.rejected_with->ec, std::errc::operation_canceled);
  EXPECT_TRUE(wait_until([&] { return srv->connection_count() == 0; }));
  EXPECT_TRUE(srv.stop_and_wait(5s));
}

TEST(libevent_server, stop_closes_sessions_with_1001_and_lets_dispatch_return) {
  // The test's thread runs an application event_base with a server and a client attached to it.
  event_base* base = event_base_new();
  ASSERT_NE(base, nullptr);
  {
    wsx::libevent::server srv(base, echo_options());
    ASSERT_FALSE(srv.start());
    recorder r;
    wsx::libevent::client_options co;
    r.attach(co.handlers);
    co.handlers.on_open = [&](const wsx::session_ptr&, const wsx::opened&) {
      srv.stop(2s, [] {});  // from a handler: any thread may stop the server
    };
    wsx::libevent::client cli(base, std::move(co));
    cli.connect("ws://127.0.0.1:" + std::to_string(srv.local_endpoint().port) + "/");
    // Returns: every connection is gone and nothing else is pending.
    EXPECT_EQ(event_base_dispatch(base), 1);
    EXPECT_EQ(r.closes, 1);
    EXPECT_EQ(r.last_code, wsx::close_code::going_away);
    EXPECT_EQ(srv.connection_count(), 0u);
    EXPECT_EQ(srv.table().session_count(), 0u);
  }
  event_base_free(base);
}

TEST(libevent_server, start_reports_an_address_in_use) {
  wsx::libevent::loop_pool pool(1);
  wsx::libevent::server first(pool, echo_options());
  ASSERT_FALSE(first.start());
  wsx::libevent::server_options o = echo_options();
  o.port = first.local_endpoint().port;
  wsx::libevent::server second(pool, std::move(o));
  EXPECT_EQ(second.start(), std::errc::address_in_use);
  EXPECT_EQ(first.start(), wsx::errc::invalid_state);
}

INSTANTIATE_TEST_SUITE_P(libevent, libevent_server,
                         ::testing::Values(run_mode::attached, run_mode::one_loop,
                                           run_mode::two_loops),
                         [](const ::testing::TestParamInfo<run_mode>& param_info) {
                           return std::string(wsx::test::mode_name(param_info.param));
                         });

}  // namespace
