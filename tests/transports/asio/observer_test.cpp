// The server's observer (wsx/common/observer.hpp) over real sockets on 127.0.0.1: every refused
// or failed handshake — a bad upgrade, a request over the header limit, the hook's rejection, a
// handshake timeout (request never finished, or the hook never answered), a peer gone
// mid-handshake, shutdown — reaches on_handshake_failure once with the status and reason the
// client got and the peer's address; every session's end reaches on_session_end once, after
// on_close, with its code, reason, error and duration. Both run on the connection's loop thread.
#include <arpa/inet.h>
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <future>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <asio/post.hpp>

#include "asio_test_support.hpp"
#include "wsx/asio/server.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using src = wsx::handshake_failure_source;
using wsx::test::io_threads;
using wsx::test::peer;
using wsx::test::wait_until;

const char* const valid_upgrade_tail =
    "Host: x\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Version: 13\r\n";
const char* const good_key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

struct failure_seen {
  src source;
  int status;
  std::string reason;
  std::error_code ec;
  std::string remote;
  wsx::duration elapsed;
  std::thread::id thread;
};

struct end_seen {
  std::string user;
  wsx::close_code code;
  std::string reason;
  std::error_code ec;
  wsx::duration duration;
  bool open_then;     // session->is_open() during the call
  int closes_before;  // on_close calls that had run by then
  std::thread::id thread;
};

// Thread-safe record of what the observer (and on_close) saw.
struct observed {
  std::mutex mutex;
  std::vector<failure_seen> failures;
  std::vector<end_seen> ends;
  int closes = 0;
  std::thread::id close_thread;

  void attach(wsx::asio::server_options& o) {
    o.observer.on_handshake_failure = [this](const wsx::handshake_failure& f) {
      std::lock_guard lock(mutex);
      failures.push_back({f.source, f.status, std::string(f.reason), f.ec,
                          std::string(f.remote_endpoint), f.elapsed, std::this_thread::get_id()});
    };
    o.observer.on_session_end = [this](const wsx::session_end& e) {
      std::lock_guard lock(mutex);
      ends.push_back({e.session->user_id(), e.code, std::string(e.reason), e.ec, e.duration,
                      e.session->is_open(), closes, std::this_thread::get_id()});
    };
    o.handlers.on_close = [this](const wsx::session_ptr&, wsx::close_code, std::string_view,
                                 std::error_code) {
      std::lock_guard lock(mutex);
      ++closes;
      close_thread = std::this_thread::get_id();
    };
  }
  std::size_t failure_count() {
    std::lock_guard lock(mutex);
    return failures.size();
  }
  std::size_t end_count() {
    std::lock_guard lock(mutex);
    return ends.size();
  }
  failure_seen failure(std::size_t i) {
    std::lock_guard lock(mutex);
    return failures.at(i);
  }
  end_seen end(std::size_t i) {
    std::lock_guard lock(mutex);
    return ends.at(i);
  }
};

// "127.0.0.1:port" of our side of `fd`: what the server sees as the peer.
std::string local_address(int fd) {
  sockaddr_in a{};
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  return "127.0.0.1:" + std::to_string(ntohs(a.sin_port));
}

// The one-line body of an HTTP error response, without its final newline.
std::string body_line(const std::string& response) {
  const auto at = response.find("\r\n\r\n");
  if (at == std::string::npos) return {};
  std::string body = response.substr(at + 4);
  if (!body.empty() && body.back() == '\n') body.pop_back();
  return body;
}

std::thread::id loop_thread(io_threads& t) {
  std::promise<std::thread::id> id;
  asio::post(t.io(), [&] { id.set_value(std::this_thread::get_id()); });
  return id.get_future().get();
}

void stop_and_wait(wsx::asio::server& srv) {
  std::promise<void> stopped;
  srv.stop(5s, [&] { stopped.set_value(); });
  ASSERT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
}

// A raw exchange: `wire` out, the server's whole answer back; `remote` gets our address.
std::string exchange(std::uint16_t port, const std::string& wire, std::string& remote) {
  poll_example::unique_fd fd = wsx::test::connect_loopback(port);
  EXPECT_TRUE(fd);
  remote = local_address(fd.get());
  wsx::test::send_all(fd.get(), wire);
  return wsx::test::read_until_closed(fd.get());
}

TEST(asio_observer, bad_upgrade_and_header_limit_are_reported_with_what_the_client_got) {
  io_threads threads(1);
  observed seen;
  wsx::asio::server_options o;
  o.config.max_header_bytes = 1024;
  o.single_threaded = true;
  seen.attach(o);
  wsx::asio::server srv(threads.io(), std::move(o));
  ASSERT_FALSE(srv.start());
  const std::uint16_t port = srv.local_endpoint().port();

  std::string remote;
  const std::string bad_key = exchange(port,
                                       std::string("GET /chat HTTP/1.1\r\n") + valid_upgrade_tail +
                                           "Sec-WebSocket-Key: short\r\n\r\n",
                                       remote);
  ASSERT_THAT(bad_key, StartsWith("HTTP/1.1 400 "));
  ASSERT_TRUE(wait_until([&] { return seen.failure_count() == 1; }));
  failure_seen f = seen.failure(0);
  EXPECT_EQ(f.source, src::request);
  EXPECT_EQ(f.status, 400);
  EXPECT_EQ(f.reason, body_line(bad_key));
  EXPECT_THAT(f.reason, HasSubstr("Sec-WebSocket-Key"));
  EXPECT_EQ(f.ec, wsx::errc::bad_key);
  EXPECT_EQ(f.remote, remote);
  EXPECT_EQ(f.thread, loop_thread(threads));

  const std::string missing = exchange(port, "GET /chat HTTP/1.1\r\nHost: x\r\n\r\n", remote);
  ASSERT_TRUE(wait_until([&] { return seen.failure_count() == 2; }));
  f = seen.failure(1);
  EXPECT_EQ(f.source, src::request);
  EXPECT_EQ(f.status, 426);
  EXPECT_EQ(f.reason, body_line(missing));
  EXPECT_THAT(f.reason, HasSubstr("Upgrade: websocket header missing"));
  EXPECT_EQ(f.ec, wsx::errc::missing_upgrade);
  EXPECT_EQ(f.remote, remote);

  const std::string huge = exchange(
      port, "GET /chat HTTP/1.1\r\nX-Filler: " + std::string(2000, 'a') + "\r\n\r\n", remote);
  ASSERT_THAT(huge, StartsWith("HTTP/1.1 431 "));
  ASSERT_TRUE(wait_until([&] { return seen.failure_count() == 3; }));
  f = seen.failure(2);
  EXPECT_EQ(f.source, src::limit);
  EXPECT_EQ(f.status, 431);
  EXPECT_EQ(f.reason, body_line(huge));
  EXPECT_EQ(f.ec, wsx::errc::headers_too_large);
  EXPECT_EQ(f.remote, remote);
  EXPECT_EQ(seen.end_count(), 0u);  // no session, no session end
  EXPECT_EQ(to_string(src::limit), "limit");
  stop_and_wait(srv);
}

TEST(asio_observer, the_hooks_rejection_is_reported_and_plain_http_is_not) {
  io_threads threads(2);
  observed seen;
  wsx::asio::server_options o;
  o.on_upgrade = [](const wsx::upgrade_context& ctx) {
    if (ctx.request().query == "token=good") return wsx::upgrade_decision::accept("alice");
    if (ctx.request().query.empty()) return wsx::upgrade_decision::reject(401, "no token");
    return wsx::upgrade_decision::reject(403, "alice is not allowed here");
  };
  o.on_http = [](const wsx::http_request&, std::string_view) {
    return wsx::http_response{200, {{"Content-Type", "text/plain"}}, "ok\n"};
  };
  seen.attach(o);
  wsx::asio::server srv(threads.io(), std::move(o));
  ASSERT_FALSE(srv.start());
  const std::uint16_t port = srv.local_endpoint().port();

  std::string remote;
  EXPECT_THAT(exchange(port, "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n", remote),
              StartsWith("HTTP/1.1 200"));
  for (const auto& [query, status] : {std::pair{"?token=bad", 403}, std::pair{"", 401}}) {
    peer p(port, std::string("/chat") + query);
    const std::string me = local_address(p.fd());
    ASSERT_TRUE(p.pump_until([&] { return p.rejected_with.has_value(); }));
    ASSERT_EQ(p.rejected_with->status, status);
    ASSERT_TRUE(wait_until([&] { return seen.failure_count() == (status == 403 ? 1u : 2u); }));
    const failure_seen f = seen.failure(status == 403 ? 0 : 1);
    EXPECT_EQ(f.source, src::application);
    EXPECT_EQ(f.status, status);
    EXPECT_EQ(f.reason, status == 403 ? "alice is not allowed here" : "no token");
    EXPECT_EQ(p.rejected_with->body, f.reason + "\n");  // what the client read
    EXPECT_EQ(f.ec, wsx::errc::upgrade_rejected);
    EXPECT_EQ(f.remote, me);
  }
  EXPECT_EQ(seen.failure_count(), 2u);  // the health check was not a handshake
  EXPECT_EQ(seen.end_count(), 0u);
  stop_and_wait(srv);
}

TEST(asio_observer, handshake_timeouts_and_peers_gone_are_reported_with_status_0_or_503) {
  io_threads threads(1);
  observed seen;
  std::mutex pending_mutex;
  std::vector<wsx::pending_upgrade> pending;  // never answered
  wsx::asio::server_options o;
  o.config.handshake_timeout = 300ms;
  o.on_upgrade = [&](const wsx::upgrade_context& ctx) {
    std::lock_guard lock(pending_mutex);
    pending.push_back(ctx.defer());
    return wsx::upgrade_decision::defer();
  };
  seen.attach(o);
  wsx::asio::server srv(threads.io(), std::move(o));
  ASSERT_FALSE(srv.start());
  const std::uint16_t port = srv.local_endpoint().port();

  // 1. Half a request, then silence: dropped at the deadline, nothing sent.
  {
    poll_example::unique_fd fd = wsx::test::connect_loopback(port);
    const std::string me = local_address(fd.get());
    wsx::test::send_all(fd.get(), "GET /chat HTTP/1.1\r\nHost: x\r\n");
    EXPECT_EQ(wsx::test::read_until_closed(fd.get()), "");
    ASSERT_TRUE(wait_until([&] { return seen.failure_count() == 1; }));
    const failure_seen f = seen.failure(0);
    EXPECT_EQ(f.source, src::timeout);
    EXPECT_EQ(f.status, 0);
    EXPECT_EQ(f.ec, wsx::errc::handshake_timeout);
    EXPECT_FALSE(f.reason.empty());
    EXPECT_EQ(f.remote, me);
    EXPECT_GT(f.elapsed, wsx::duration::zero());
  }
  // 2. A valid request the hook never answers: 503 at the deadline.
  {
    std::string me;
    const std::string answer = exchange(
        port, std::string("GET /chat HTTP/1.1\r\n") + valid_upgrade_tail + good_key + "\r\n", me);
    ASSERT_THAT(answer, StartsWith("HTTP/1.1 503 "));
    ASSERT_TRUE(wait_until([&] { return seen.failure_count() == 2; }));
    const failure_seen f = seen.failure(1);
    EXPECT_EQ(f.source, src::timeout);
    EXPECT_EQ(f.status, 503);
    EXPECT_EQ(f.reason, body_line(answer));
    EXPECT_EQ(f.ec, wsx::errc::handshake_timeout);
    EXPECT_EQ(f.remote, me);
  }
  // 3. The peer gives up mid-request.
  {
    poll_example::unique_fd fd = wsx::test::connect_loopback(port);
    const std::string me = local_address(fd.get());
    wsx::test::send_all(fd.get(), "GET /chat HTTP/1.1\r\n");
    fd.reset();
    ASSERT_TRUE(wait_until([&] { return seen.failure_count() == 3; }));
    const failure_seen f = seen.failure(2);
    EXPECT_EQ(f.source, src::peer);
    EXPECT_EQ(f.status, 0);
    EXPECT_EQ(f.ec, wsx::errc::eof_without_close);
    EXPECT_THAT(f.reason, HasSubstr("opening handshake"));
    EXPECT_EQ(f.remote, me);
  }
  EXPECT_EQ(seen.end_count(), 0u);
  stop_and_wait(srv);
}

TEST(asio_observer, shutdown_refuses_a_deferred_upgrade_with_503_and_drops_a_request_being_read) {
  io_threads threads(1);
  observed seen;
  std::mutex pending_mutex;
  std::vector<wsx::pending_upgrade> pending;  // never answered
  wsx::asio::server_options o;
  o.on_upgrade = [&](const wsx::upgrade_context& ctx) {
    std::lock_guard lock(pending_mutex);
    pending.push_back(ctx.defer());
    return wsx::upgrade_decision::defer();
  };
  o.linger = 200ms;
  seen.attach(o);
  wsx::asio::server srv(threads.io(), std::move(o));
  ASSERT_FALSE(srv.start());
  const std::uint16_t port = srv.local_endpoint().port();

  poll_example::unique_fd deferred = wsx::test::connect_loopback(port);
  const std::string deferred_me = local_address(deferred.get());
  wsx::test::send_all(deferred.get(), std::string("GET /chat HTTP/1.1\r\n") + valid_upgrade_tail +
                                          good_key + "\r\n");
  ASSERT_TRUE(wait_until([&] {
    std::lock_guard lock(pending_mutex);
    return pending.size() == 1;
  }));
  poll_example::unique_fd reading = wsx::test::connect_loopback(port);
  const std::string reading_me = local_address(reading.get());
  wsx::test::send_all(reading.get(), "GET /chat HTTP/1.1\r\n");
  ASSERT_TRUE(wait_until([&] { return srv.connection_count() == 2; }));
  stop_and_wait(srv);
  ASSERT_TRUE(wait_until([&] { return seen.failure_count() == 2; }));
  for (std::size_t i = 0; i < 2; ++i) {
    const failure_seen f = seen.failure(i);
    EXPECT_EQ(f.source, src::shutdown);
    if (f.remote == deferred_me) {
      EXPECT_EQ(f.status, 503);
      EXPECT_EQ(f.reason, "server shutting down");
      EXPECT_EQ(f.ec, wsx::errc::upgrade_rejected);
    } else {
      EXPECT_EQ(f.remote, reading_me);
      EXPECT_EQ(f.status, 0);
      EXPECT_EQ(f.ec, wsx::errc::closed);
    }
  }
  EXPECT_THAT(wsx::test::read_until_closed(deferred.get()), StartsWith("HTTP/1.1 503 "));
  EXPECT_EQ(seen.end_count(), 0u);
}

TEST(asio_observer, session_ends_carry_code_reason_error_and_duration_after_on_close) {
  io_threads threads(2);
  observed seen;
  wsx::asio::server_options o;
  o.on_upgrade = [](const wsx::upgrade_context& ctx) {
    return wsx::upgrade_decision::accept(std::string(ctx.request().query));
  };
  o.linger = 200ms;
  seen.attach(o);
  wsx::asio::server srv(threads.io(), std::move(o));
  ASSERT_FALSE(srv.start());
  const std::uint16_t port = srv.local_endpoint().port();

  // A normal closing handshake, started by the peer.
  {
    peer p(port, "/chat?alice");
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    p.send_text("hi");
    p.close(wsx::close_code::normal);
    ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
    ASSERT_TRUE(wait_until([&] { return seen.end_count() == 1; }));
    const end_seen e = seen.end(0);
    EXPECT_EQ(e.user, "alice");
    EXPECT_EQ(e.code, wsx::close_code::normal);
    EXPECT_FALSE(e.ec);
    EXPECT_GT(e.duration, wsx::duration::zero());
    EXPECT_FALSE(e.open_then);
    EXPECT_EQ(e.closes_before, 1);  // on_close ran first
    std::lock_guard lock(seen.mutex);
    EXPECT_EQ(e.thread, seen.close_thread);  // the same strand's call
  }
  // A peer that vanishes with a TCP reset.
  {
    peer p(port, "/chat?bob");
    ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
    ASSERT_TRUE(wait_until([&] { return srv.table().session_count() == 1; }));
    p.reset();
    ASSERT_TRUE(wait_until([&] { return seen.end_count() == 2; }));
    const end_seen e = seen.end(1);
    EXPECT_EQ(e.user, "bob");
    EXPECT_EQ(e.code, wsx::close_code::abnormal);
    EXPECT_EQ(e.ec, wsx::errc::eof_without_close);
    EXPECT_GT(e.duration, wsx::duration::zero());
  }
  // Shutdown: 1001 from the server.
  peer p(port, "/chat?carol");
  ASSERT_TRUE(p.pump_until([&] { return p.opened; }));
  std::promise<void> stopped;
  srv.stop(5s, [&] { stopped.set_value(); });
  ASSERT_TRUE(p.pump_until([&] { return p.closed_with.has_value(); }));
  ASSERT_EQ(stopped.get_future().wait_for(20s), std::future_status::ready);
  ASSERT_EQ(seen.end_count(), 3u);
  const end_seen e = seen.end(2);
  EXPECT_EQ(e.user, "carol");
  EXPECT_EQ(e.code, wsx::close_code::going_away);
  EXPECT_FALSE(e.ec);
  EXPECT_EQ(seen.failure_count(), 0u);
}

}  // namespace
