// A transport's server and client together over real sockets on 127.0.0.1, in every mode of
// every transport: echo, the upgrade hook (accept with a user, reject, defer and answer from
// another thread, never answer), the session handle after the end, stats and the table, an
// address in use; the client's failures before the upgrade and a close before open; stop() with
// server and client on one application loop, which then returns.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <cerrno>
#include <future>
#include <mutex>
#include <string>
#include <thread>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using wsx::test::client_setup;
using wsx::test::mode;
using wsx::test::server_setup;
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

void echo(const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) { s->send(k, d); }

server_setup echo_setup() {
  server_setup o;
  o.handlers.on_message = echo;
  return o;
}

class server : public ::testing::TestWithParam<mode> {
 protected:
  std::unique_ptr<wsx::test::transport> t_ = wsx::test::make_transport(GetParam());
};

TEST_P(server, echoes_text_and_binary_and_counts) {
  server_setup so = echo_setup();
  so.on_upgrade = [](const wsx::upgrade_context& ctx) {
    return wsx::upgrade_decision::accept("alice-" + ctx.request().query);
  };
  recorder server_side;
  server_side.attach(so.handlers);
  so.handlers.on_message = echo;
  auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  recorder client_side;
  client_setup co;
  client_side.attach(co.handlers);
  co.handlers.on_open = [&](const wsx::session_ptr& s, const wsx::opened&) {
    s->send_text("hello");
    const std::string bin(70000, '\x07');
    s->send(wsx::message_kind::binary, wsx::as_bytes(bin));
    std::lock_guard lock(client_side.mutex);
    ++client_side.opens;
  };
  auto cli = t_->client(std::move(co));
  wsx::session_ptr s = cli->connect(srv->url("/chat?phone"));
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

  EXPECT_TRUE(srv->stop_and_wait(5s));
  server_side.last_session.reset();
  client_side.last_session.reset();
  s.reset();
  EXPECT_TRUE(wsx::test::all_sessions_gone());
}

TEST_P(server, rejected_upgrade_reaches_the_client_with_status_and_body) {
  server_setup so = echo_setup();
  so.on_upgrade = [](const wsx::upgrade_context& ctx) {
    auto token = ctx.request().header("Authorization");
    if (!token) return wsx::upgrade_decision::reject(401, "missing bearer token");
    return wsx::upgrade_decision::accept("bob");
  };
  auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  recorder client_side;
  client_setup co;
  client_side.attach(co.handlers);
  auto cli = t_->client(std::move(co));
  cli->connect(srv->url());
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
  EXPECT_TRUE(srv->stop_and_wait(5s));
}

TEST_P(server, deferred_upgrade_completes_from_a_worker_thread) {
  std::vector<std::thread> workers;
  std::mutex workers_mutex;
  server_setup so = echo_setup();
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
  so.handlers.on_message = echo;
  auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  recorder client_side;
  std::string agreed;
  client_setup co;
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
  auto cli = t_->client(std::move(co));
  wsx::session_ptr s = cli->connect(srv->url("/?carol"));
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
  EXPECT_TRUE(srv->stop_and_wait(5s));
}

TEST_P(server, unanswered_deferred_upgrade_gets_503_at_the_handshake_deadline) {
  std::vector<wsx::pending_upgrade> kept;  // held but never answered
  std::mutex kept_mutex;
  server_setup so = echo_setup();
  so.config.handshake_timeout = 200ms;
  so.on_upgrade = [&](const wsx::upgrade_context& ctx) {
    std::lock_guard lock(kept_mutex);
    kept.push_back(ctx.defer());
    return wsx::upgrade_decision::defer();
  };
  auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());

  recorder client_side;
  client_setup co;
  client_side.attach(co.handlers);
  auto cli = t_->client(std::move(co));
  cli->connect(srv->url());
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
  EXPECT_TRUE(srv->stop_and_wait(5s));
}

TEST_P(server, start_reports_an_address_in_use) {
  auto first = t_->server(echo_setup());
  ASSERT_FALSE(first->start_error());
  server_setup same_port = echo_setup();
  same_port.port = first->port();
  auto second = t_->server(std::move(same_port));
  // The errno, whatever the category: Asio reports it in its own (asio.system), which does not
  // compare equal to std::errc::address_in_use; libevent's is std::system_category.
  EXPECT_EQ(second->start_error().value(), EADDRINUSE) << second->start_error();
  EXPECT_THAT(second->start_error().message(), HasSubstr("in use"));
  EXPECT_EQ(first->start_again(), wsx::errc::invalid_state);
  EXPECT_TRUE(first->stop_and_wait(1s));
}

INSTANTIATE_TEST_SUITE_P(transports, server, ::testing::ValuesIn(wsx::test::all_modes()),
                         wsx::test::mode_names{});

// The client has no modes of its own: once per transport (its server in that transport's mode).
class client : public ::testing::TestWithParam<mode> {
 protected:
  std::unique_ptr<wsx::test::transport> t_ = wsx::test::make_transport(GetParam());
};

TEST_P(client, failures_before_the_upgrade_are_reported_once) {
  poll_example::unique_fd holder;
  const std::uint16_t dead_port = wsx::test::refusing_port(holder);
  ASSERT_NE(dead_port, 0);
  recorder r;
  client_setup co;
  r.attach(co.handlers);
  auto cli = t_->client(std::move(co));
  wsx::session_ptr refused = cli->connect("ws://127.0.0.1:" + std::to_string(dead_port) + "/");
  wsx::session_ptr malformed = cli->connect("http://example.com/");
  wsx::session_ptr secure = cli->connect("wss://127.0.0.1:" + std::to_string(dead_port) + "/");
  ASSERT_TRUE(refused && malformed && secure);
  ASSERT_TRUE(wait_until([&] { return r.read([&] { return r.closes; }) == 3; }));
  EXPECT_EQ(r.connect_errors, 3);
  EXPECT_EQ(r.opens, 0);
  EXPECT_EQ(refused->send_text("x"), wsx::errc::closed);
  EXPECT_EQ(malformed->send_text("x"), wsx::errc::closed);
  EXPECT_EQ(secure->send_text("x"), wsx::errc::closed);
}

TEST_P(client, close_before_open_cancels_the_attempt) {
  server_setup so = echo_setup();
  std::vector<wsx::pending_upgrade> kept;
  std::mutex kept_mutex;
  so.on_upgrade = [&](const wsx::upgrade_context& ctx) {
    std::lock_guard lock(kept_mutex);
    kept.push_back(ctx.defer());
    return wsx::upgrade_decision::defer();
  };
  auto srv = t_->server(std::move(so));
  ASSERT_FALSE(srv->start_error());
  recorder r;
  client_setup co;
  r.attach(co.handlers);
  auto cli = t_->client(std::move(co));
  wsx::session_ptr s = cli->connect(srv->url());
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
  EXPECT_TRUE(srv->stop_and_wait(5s));
}

INSTANTIATE_TEST_SUITE_P(transports, client, ::testing::ValuesIn(wsx::test::client_modes()),
                         wsx::test::mode_names{});

// Server and client on one application loop (an io_context, an application's event_base).
class app_loop : public ::testing::TestWithParam<mode> {};

TEST_P(app_loop, stop_closes_sessions_with_1001_and_lets_the_loop_return) {
  recorder r;
  wsx::test::test_server* srv = nullptr;
  std::unique_ptr<wsx::test::app_loop> loop = wsx::test::make_app_loop(GetParam());
  loop->start([&](wsx::test::app_loop& l) {
    srv = &l.add_server(echo_setup());
    client_setup co;
    r.attach(co.handlers);
    co.handlers.on_open = [&](const wsx::session_ptr&, const wsx::opened&) {
      srv->stop(2s, [] {});  // from a handler: any thread may stop the server
    };
    l.add_client(std::move(co)).connect(srv->url());
  });
  ASSERT_FALSE(srv->start_error());
  // Returns: every connection is gone and nothing else is pending.
  EXPECT_TRUE(loop->wait_returned()) << "the loop did not return after stop()";
  EXPECT_EQ(r.read([&] { return r.closes; }), 1);
  EXPECT_EQ(r.read([&] { return r.last_code; }), wsx::close_code::going_away);
  EXPECT_EQ(srv->connection_count(), 0u);
  EXPECT_EQ(srv->table().session_count(), 0u);
  r.last_session.reset();
  loop->join();
}

INSTANTIATE_TEST_SUITE_P(transports, app_loop, ::testing::ValuesIn(wsx::test::app_loop_modes()),
                         wsx::test::mode_names{});

}  // namespace
