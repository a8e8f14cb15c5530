// Plain HTTP on a transport's server, in every mode of every transport, over raw sockets on
// 127.0.0.1: requests without an Upgrade header go to the application's handler (HEAD, HTTP/1.0
// and any method included) or, without one, get the core's 426 / 405 answers; an upgrade
// request with a body is refused with 400.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <mutex>
#include <string>

#include "transport.hpp"

namespace {

using namespace std::chrono_literals;
using ::testing::HasSubstr;
using ::testing::StartsWith;
using wsx::test::mode;
using wsx::test::server_setup;
using wsx::test::wait_until;

server_setup echo_setup() {
  server_setup o;
  o.handlers.on_message = [](const wsx::session_ptr& s, wsx::message_kind k, wsx::bytes_view d) {
    s->send(k, d);
  };
  return o;
}

// Sends `wire` on a fresh connection and returns all the server answered before closing.
std::string http_exchange(std::uint16_t port, const std::string& wire) {
  poll_example::unique_fd fd = wsx::test::connect_loopback(port);
  EXPECT_TRUE(fd);
  wsx::test::send_all(fd.get(), wire);
  return wsx::test::read_until_closed(fd.get());
}

std::string get(std::uint16_t port, std::string_view path) {
  return http_exchange(port, "GET " + std::string(path) + " HTTP/1.1\r\nHost: x\r\n\r\n");
}

class plain_http : public ::testing::TestWithParam<mode> {
 protected:
  std::unique_ptr<wsx::test::transport> t_ = wsx::test::make_transport(GetParam());
};

TEST_P(plain_http, goes_to_the_handler_or_gets_426) {
  server_setup with = echo_setup();
  with.on_http = [](const wsx::http_request& req, std::string_view) {
    wsx::http_response r;
    if (req.path == "/healthz") {
      r.status = 200;
      r.headers = {{"Content-Type", "text/plain"}};
      r.body = "ok\n";
    }
    return r;
  };
  auto srv = t_->server(std::move(with));
  ASSERT_FALSE(srv->start_error());
  auto plain = t_->server(echo_setup());
  ASSERT_FALSE(plain->start_error());

  const std::string health = get(srv->port(), "/healthz");
  EXPECT_THAT(health, StartsWith("HTTP/1.1 200"));
  EXPECT_THAT(health, HasSubstr("\r\n\r\nok\n"));
  EXPECT_THAT(get(srv->port(), "/nope"), StartsWith("HTTP/1.1 404"));
  const std::string refused = get(plain->port(), "/healthz");
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 426"));
  EXPECT_THAT(refused, HasSubstr("Upgrade"));
  EXPECT_TRUE(srv->stop_and_wait(5s));
  EXPECT_TRUE(plain->stop_and_wait(5s));
}

// config.plain_http set by hand without a handler: nobody would answer, so the core does, as if
// it were off — the same bytes as a server that never asked for plain HTTP (405 with
// Allow: GET for other methods, 426 for a GET), never a 404 from nowhere.
TEST_P(plain_http, without_a_handler_gets_the_cores_405_and_426) {
  server_setup by_hand = echo_setup();
  by_hand.config.plain_http = true;
  auto srv = t_->server(std::move(by_hand));
  ASSERT_FALSE(srv->start_error());
  auto plain = t_->server(echo_setup());
  ASSERT_FALSE(plain->start_error());
  for (const char* method : {"OPTIONS", "POST", "HEAD", "DELETE"}) {
    const std::string wire = std::string(method) + " /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
    const std::string answer = http_exchange(srv->port(), wire);
    EXPECT_THAT(answer, StartsWith("HTTP/1.1 405 Method Not Allowed\r\n")) << method;
    EXPECT_THAT(answer, HasSubstr("\r\nAllow: GET\r\n")) << method;
    EXPECT_EQ(answer, http_exchange(plain->port(), wire)) << method;
  }
  const std::string post_body = http_exchange(srv->port(), "POST /x HTTP/1.1\r\nHost: x\r\n\r\n");
  EXPECT_THAT(post_body, HasSubstr("method POST not allowed for /x; it allows only GET"));
  const std::string request = "GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n";
  const std::string refused = http_exchange(srv->port(), request);
  EXPECT_THAT(refused, StartsWith("HTTP/1.1 426"));
  EXPECT_THAT(refused, HasSubstr("Upgrade: websocket header missing"));
  EXPECT_EQ(refused, http_exchange(plain->port(), request));
  EXPECT_EQ(
      srv->counters().handshakes_rejected[static_cast<std::size_t>(wsx::errc::not_get)].load(), 5u);
  EXPECT_TRUE(srv->stop_and_wait(5s));
  EXPECT_TRUE(plain->stop_and_wait(5s));
}

TEST_P(plain_http, answers_head_http_1_0_and_any_method_and_refuses_upgrade_bodies) {
  std::mutex seen_mutex;
  std::vector<std::string> seen;
  server_setup with = echo_setup();
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
  auto srv = t_->server(std::move(with));
  ASSERT_FALSE(srv->start_error());
  const std::uint16_t port = srv->port();

  EXPECT_EQ(http_exchange(port, "HEAD /healthz HTTP/1.1\r\nHost: x\r\n\r\n"),
            "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n"
            "Content-Type: text/plain\r\n\r\n");
  const std::string old = http_exchange(port, "GET /healthz HTTP/1.0\r\n\r\n");
  EXPECT_THAT(old, StartsWith("HTTP/1.1 200 OK\r\n"));
  EXPECT_THAT(old, HasSubstr("\r\n\r\nok\n"));
  const std::string options = http_exchange(port, "OPTIONS / HTTP/1.0\r\n\r\n");
  EXPECT_THAT(options, StartsWith("HTTP/1.1 204 No Content\r\n"));
  EXPECT_THAT(options, HasSubstr("Allow: GET, HEAD, OPTIONS\r\n"));

  const std::string reason = "an upgrade request must not have a body (Content-Length: 5)";
  const std::string body_refused =
      http_exchange(port,
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
  EXPECT_TRUE(srv->stop_and_wait(5s));
}

INSTANTIATE_TEST_SUITE_P(transports, plain_http, ::testing::ValuesIn(wsx::test::all_modes()),
                         wsx::test::mode_names{});

}  // namespace
