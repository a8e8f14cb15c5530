// The connection as a whole: handshake both ways, frames, close rules, ping/pong, deadlines with
// a fake clock, limits, and client/server pairs pumped in memory.
// RAND_set_rand_method() is how a test swaps OpenSSL's generator for one that fails.
#define OPENSSL_SUPPRESS_DEPRECATED
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <openssl/rand.h>
#include <rapidcheck/gtest.h>

#include <algorithm>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "detail/random.hpp"
#include "support/event_log.hpp"
#include "support/test_support.hpp"
#include "wsx/connection.hpp"

using namespace std::chrono_literals;
using testing::HasSubstr;
using testing::StartsWith;
using wsx::test::bytes;
using wsx::test::drain_events;
using wsx::test::drain_output;
using wsx::test::fake_clock;
using wsx::test::lines;
using wsx::test::text;

namespace {

const std::string request =
    "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";

// A client frame: masked with a fixed key (the tests read better with fixed bytes).
std::string client_frame(int first_byte, std::string_view payload) {
  const unsigned char key[4] = {0x37, 0xfa, 0x21, 0x3d};
  std::string f;
  f += static_cast<char>(first_byte);
  const std::size_t n = payload.size();
  if (n < 126) {
    f += static_cast<char>(0x80 | n);
  } else if (n <= 0xFFFF) {
    f += static_cast<char>(0x80 | 126);
    f += static_cast<char>(n >> 8);
    f += static_cast<char>(n & 0xFF);
  } else {
    f += static_cast<char>(0x80 | 127);
    for (int i = 7; i >= 0; --i) f += static_cast<char>((n >> (8 * i)) & 0xFF);
  }
  for (unsigned char k : key) f += static_cast<char>(k);
  for (std::size_t i = 0; i < n; ++i) f += static_cast<char>(payload[i] ^ key[i % 4]);
  return f;
}

std::string server_frame(int first_byte, std::string_view payload) {
  std::string f;
  f += static_cast<char>(first_byte);
  f += static_cast<char>(payload.size());
  f += payload;
  return f;
}

std::string close_payload(int code, std::string_view reason = {}) {
  std::string p;
  p += static_cast<char>(code >> 8);
  p += static_cast<char>(code & 0xFF);
  p += reason;
  return p;
}

// A server connection that has accepted `request`.
struct open_server {
  fake_clock t;
  wsx::config cfg;
  wsx::connection c;
  lines log;
  explicit open_server(wsx::config conf = {}) : cfg(conf), c(wsx::role::server, cfg, t.now()) {
    c.receive(wsx::as_bytes(request), t.now());
    drain_events(c, log);
    EXPECT_FALSE(c.accept({}, t.now()));
    drain_events(c, log);
    drain_output(c, t.now());
    log.clear();
  }
  lines feed(std::string_view wire) {
    c.receive(wsx::as_bytes(wire), t.now());
    lines out;
    drain_events(c, out);
    return out;
  }
};

// A client and a server pumped into each other in memory.
struct pair {
  fake_clock t;
  wsx::connection client;
  wsx::connection server;
  lines client_log;
  lines server_log;
  explicit pair(wsx::config cfg = {}, wsx::client_options opts = {"example.com", "/ws", "", {}, {}})
      : client(wsx::role::client, cfg, t.now()), server(wsx::role::server, cfg, t.now()) {
    EXPECT_FALSE(client.connect(opts, t.now()));
  }
  // Moves bytes both ways until neither side has anything to say; answers upgrades with accept.
  void pump() {
    for (int round = 0; round < 100; ++round) {
      bool moved = false;
      auto to_server = drain_output(client, t.now());
      if (!to_server.empty()) {
        server.receive(wsx::as_bytes(to_server), t.now());
        moved = true;
      }
      while (auto ev = server.next_event()) {
        server_log.push_back(wsx::test::describe(*ev));
        if (std::holds_alternative<wsx::upgrade_request>(*ev)) server.accept({}, t.now());
      }
      auto to_client = drain_output(server, t.now());
      if (!to_client.empty()) {
        client.receive(wsx::as_bytes(to_client), t.now());
        moved = true;
      }
      drain_events(client, client_log);
      if (!moved) return;
    }
  }
};

}  // namespace

// ---- server handshake ----------------------------------------------------------------------

TEST(connection, server_accepts_upgrade_and_reports_request) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  EXPECT_FALSE(c.receive(wsx::as_bytes(request), t.now()));
  auto ev = c.next_event();
  ASSERT_TRUE(ev);
  auto* req = std::get_if<wsx::upgrade_request>(&*ev);
  ASSERT_TRUE(req);
  EXPECT_EQ(req->method, "GET");
  EXPECT_EQ(req->path, "/chat");
  EXPECT_EQ(req->query, "room=1");
  EXPECT_EQ(req->subprotocols, (std::vector<std::string>{"chat", "superchat"}));
  EXPECT_EQ(req->header("host"), "example.com");
  EXPECT_EQ(c.state(), wsx::connection_state::connecting);

  EXPECT_FALSE(c.accept({"superchat", {{"X-Server", "wsx"}}}, t.now()));
  auto out = drain_output(c, t.now());
  EXPECT_THAT(out, StartsWith("HTTP/1.1 101 Switching Protocols\r\n"));
  EXPECT_THAT(out, HasSubstr("Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n"));
  EXPECT_THAT(out, HasSubstr("Sec-WebSocket-Protocol: superchat\r\n"));
  EXPECT_THAT(out, HasSubstr("X-Server: wsx\r\n"));
  lines log;
  drain_events(c, log);
  EXPECT_EQ(log, (lines{"opened superchat"}));
  EXPECT_EQ(c.state(), wsx::connection_state::open);
}

TEST(connection, missing_upgrade_header_is_named) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  c.receive(
      bytes("GET /ws HTTP/1.1\r\nHost: x\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n"),
      t.now());
  auto out = text(c.pending_output());
  EXPECT_THAT(out, StartsWith("HTTP/1.1 426"));
  EXPECT_THAT(out, HasSubstr("Upgrade: websocket header missing"));
  lines log;
  drain_events(c, log);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_THAT(log[0], StartsWith("rejected 426"));
  EXPECT_THAT(log[1], StartsWith("closed 1006 unclean local"));
  EXPECT_TRUE(c.should_close_transport());
}

TEST(connection, frames_after_the_request_head_are_kept_for_after_accept) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  c.receive(wsx::as_bytes(request + client_frame(0x81, "early")), t.now());
  lines log;
  drain_events(c, log);
  EXPECT_EQ(log, (lines{"upgrade_request /chat?room=1"}));
  c.accept({}, t.now());
  drain_events(c, log);
  EXPECT_EQ(log,
            (lines{"upgrade_request /chat?room=1", "opened", "chunk text first last 'early'"}));
}

TEST(connection, application_reject_sends_status_and_reason) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  c.receive(wsx::as_bytes(request), t.now());
  lines log;
  drain_events(c, log);
  EXPECT_FALSE(c.reject(401, "token expired", t.now()));
  auto out = drain_output(c, t.now());
  EXPECT_THAT(out, StartsWith("HTTP/1.1 401 Unauthorized\r\n"));
  EXPECT_THAT(out, HasSubstr("\r\n\r\ntoken expired\n"));
  drain_events(c, log);
  EXPECT_EQ(log[1], "rejected 401 " + wsx::make_error_code(wsx::errc::upgrade_rejected).message());
  EXPECT_EQ(c.state(), wsx::connection_state::closed);
}

TEST(connection, accept_checks_its_arguments_and_state) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  EXPECT_EQ(c.accept({}, t.now()), wsx::errc::invalid_state);  // no request yet
  c.receive(wsx::as_bytes(request), t.now());
  lines log;
  drain_events(c, log);
  EXPECT_EQ(c.accept({"mqtt", {}}, t.now()), wsx::errc::invalid_argument);
  EXPECT_EQ(c.accept({"", {{"X-Bad", "a\r\nb"}}}, t.now()), wsx::errc::invalid_argument);
  EXPECT_EQ(c.reject(200, "no", t.now()), wsx::errc::invalid_argument);
  EXPECT_EQ(c.buffered_amount(), 0u);
  EXPECT_FALSE(c.accept({}, t.now()));
  EXPECT_EQ(c.accept({}, t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(c.reject(400, "late", t.now()), wsx::errc::invalid_state);
}

TEST(connection, send_before_open_is_invalid_state) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  EXPECT_EQ(c.send_text("x", t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(c.ping({}, t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(c.close(wsx::close_code::normal, "", t.now()), wsx::errc::invalid_state);
}

TEST(connection, header_limit_gives_431) {
  fake_clock t;
  wsx::config cfg;
  cfg.max_header_bytes = 64;
  wsx::connection c{wsx::role::server, cfg, t.now()};
  c.receive(wsx::as_bytes(request), t.now());
  EXPECT_THAT(text(c.pending_output()), StartsWith("HTTP/1.1 431"));
  lines log;
  drain_events(c, log);
  EXPECT_THAT(log[0], StartsWith("rejected 431"));
}

// ---- frames ----------------------------------------------------------------------------------

TEST(connection, server_delivers_chunks_and_whole_messages) {
  open_server chunks;
  EXPECT_EQ(chunks.feed(client_frame(0x01, "Hel") + client_frame(0x80, "lo")),
            (lines{"chunk text first 'Hel'", "chunk text last 'lo'"}));
  wsx::config whole;
  whole.delivery = wsx::delivery::whole_messages;
  open_server s{whole};
  EXPECT_EQ(s.feed(client_frame(0x01, "Hel") + client_frame(0x89, "p") + client_frame(0x80, "lo") +
                   client_frame(0x82, "bin")),
            (lines{"ping 'p'", "message text 'Hello'", "message binary 'bin'"}));
}

TEST(connection, ping_is_answered_with_pong) {
  open_server s;
  EXPECT_EQ(s.feed(client_frame(0x89, "hb")), (lines{"ping 'hb'"}));
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x8A, "hb"));
  EXPECT_EQ(s.feed(client_frame(0x8A, "unsolicited")), (lines{"pong 'unsolicited'"}));
  EXPECT_EQ(s.c.buffered_amount(), 0u);
}

TEST(connection, protocol_errors_fail_with_1002_and_a_close_frame) {
  struct bad_case {
    std::string wire;
    wsx::errc ec;
    int code;
  };
  const std::vector<bad_case> cases = {
      {client_frame(0xC1, "x"), wsx::errc::reserved_bits, 1002},
      {client_frame(0x83, "x"), wsx::errc::bad_opcode, 1002},
      {server_frame(0x81, "x"), wsx::errc::bad_masking, 1002},
      {client_frame(0x09, "x"), wsx::errc::fragmented_control, 1002},
      {client_frame(0x89, std::string(126, 'x')), wsx::errc::control_too_large, 1002},
      {client_frame(0x80, "x"), wsx::errc::bad_continuation, 1002},
      {client_frame(0x01, "x") + client_frame(0x81, "y"), wsx::errc::expected_continuation, 1002},
      {client_frame(0x81, "\xce\xba\xe1\xbd"), wsx::errc::invalid_utf8, 1007},
      {client_frame(0x81, "a\xff"), wsx::errc::invalid_utf8, 1007},
      {client_frame(0x88, "\x03"), wsx::errc::bad_close_payload, 1002},
      {client_frame(0x88, close_payload(1005)), wsx::errc::bad_close_code, 1002},
      {client_frame(0x88, close_payload(5000)), wsx::errc::bad_close_code, 1002},
      {client_frame(0x88, close_payload(1000, "\xff")), wsx::errc::invalid_utf8, 1007},
  };
  for (const auto& bc : cases) {
    open_server s;
    auto log = s.feed(bc.wire);
    ASSERT_FALSE(log.empty());
    const auto msg = wsx::make_error_code(bc.ec).message();
    EXPECT_EQ(log.back(), "closed " + std::to_string(bc.code) + " unclean local (" + msg + ")")
        << msg;
    auto out = drain_output(s.c, s.t.now());
    ASSERT_GE(out.size(), 4u) << msg;
    EXPECT_EQ(static_cast<unsigned char>(out[0]), 0x88u) << msg;
    EXPECT_EQ((static_cast<unsigned char>(out[2]) << 8) | static_cast<unsigned char>(out[3]),
              bc.code)
        << msg;
    EXPECT_EQ(s.c.receive(bytes("more"), s.t.now()), bc.ec);  // sticky
    EXPECT_TRUE(s.c.should_close_transport());
  }
}

TEST(connection, utf8_fails_fast_inside_a_frame) {
  open_server s;
  // Only the first half of the frame arrives; it already holds an impossible byte.
  auto frame = client_frame(0x81, std::string("ok\xf4\x90", 4) + std::string(100, 'a'));
  auto log = s.feed(std::string_view(frame).substr(0, 10));
  ASSERT_FALSE(log.empty());
  EXPECT_THAT(log.back(), StartsWith("closed 1007"));
}

TEST(connection, size_limits_close_with_1009) {
  wsx::config cfg;
  cfg.max_message_size = 8;
  open_server s{cfg};
  auto log = s.feed(client_frame(0x01, "12345") + client_frame(0x80, "6789"));
  EXPECT_EQ(log.back(), "closed 1009 unclean local (" +
                            wsx::make_error_code(wsx::errc::message_too_large).message() + ")");
  cfg = {};
  cfg.max_fragments_per_message = 2;
  open_server f{cfg};
  log = f.feed(client_frame(0x01, "a") + client_frame(0x00, "b") + client_frame(0x80, "c"));
  EXPECT_THAT(log.back(), StartsWith("closed 1009"));
}

// ---- close rules -----------------------------------------------------------------------------

TEST(connection, peer_close_is_echoed_once_and_server_closes_tcp) {
  open_server s;
  auto log = s.feed(client_frame(0x88, close_payload(1001, "bye")) + client_frame(0x81, "late"));
  EXPECT_EQ(log, (lines{"close_received 1001 'bye'", "closed 1001 clean remote"}));
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x88, close_payload(1001)));
  EXPECT_TRUE(s.c.should_close_transport());
  EXPECT_EQ(s.c.send_text("x", s.t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(s.c.close(wsx::close_code::normal, "", s.t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(s.c.buffered_amount(), 0u);
  s.feed(client_frame(0x88, ""));  // a second close changes nothing
  EXPECT_EQ(s.c.buffered_amount(), 0u);
}

TEST(connection, empty_close_is_answered_with_1000) {
  open_server s;
  EXPECT_EQ(s.feed(client_frame(0x88, "")),
            (lines{"close_received 1005 ''", "closed 1005 clean remote"}));
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x88, close_payload(1000)));
}

TEST(connection, local_close_blocks_sends_and_finishes_on_reply) {
  open_server s;
  EXPECT_EQ(s.c.close(wsx::close_code::going_away, "shutdown", s.t.now()), std::error_code{});
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x88, close_payload(1001, "shutdown")));
  EXPECT_EQ(s.c.state(), wsx::connection_state::closing);
  EXPECT_EQ(s.c.send_text("x", s.t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(s.c.ping({}, s.t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(s.c.close(wsx::close_code::normal, "", s.t.now()), wsx::errc::invalid_state);
  EXPECT_EQ(s.c.buffered_amount(), 0u);
  // Data the peer sent before it saw our close is still delivered.
  EXPECT_EQ(s.feed(client_frame(0x81, "in flight") + client_frame(0x88, close_payload(1001))),
            (lines{"chunk text first last 'in flight'", "close_received 1001 ''",
                   "closed 1001 clean local"}));
  EXPECT_EQ(s.c.buffered_amount(), 0u);  // no second close frame
}

TEST(connection, close_arguments_are_checked) {
  open_server s;
  EXPECT_EQ(s.c.close(wsx::close_code::abnormal, "", s.t.now()), wsx::errc::invalid_argument);
  EXPECT_EQ(s.c.close(static_cast<wsx::close_code>(2000), "", s.t.now()),
            wsx::errc::invalid_argument);
  EXPECT_EQ(s.c.close(wsx::close_code::normal, std::string(124, 'r'), s.t.now()),
            wsx::errc::invalid_argument);
  EXPECT_EQ(s.c.close(static_cast<wsx::close_code>(4000), std::string(123, 'r'), s.t.now()),
            std::error_code{});
}

TEST(connection, eof_without_close_is_1006) {
  open_server s;
  s.c.receive_eof(s.t.now());
  lines log;
  drain_events(s.c, log);
  EXPECT_EQ(log, (lines{"closed 1006 unclean remote (" +
                        wsx::make_error_code(wsx::errc::eof_without_close).message() + ")"}));
  EXPECT_TRUE(s.c.should_close_transport());
}

// ---- client / server pairs --------------------------------------------------------------------

TEST(connection, pair_exchanges_messages_and_closes_cleanly) {
  pair p;
  p.pump();
  EXPECT_EQ(p.server_log, (lines{"upgrade_request /ws", "opened"}));
  EXPECT_EQ(p.client_log, (lines{"opened"}));
  EXPECT_FALSE(p.client.send_text("hello", p.t.now()));
  EXPECT_FALSE(p.server.send_binary(wsx::as_bytes("world"), p.t.now()));
  EXPECT_FALSE(p.client.ping(wsx::as_bytes("?"), p.t.now()));
  p.pump();
  EXPECT_EQ(p.server_log.back(), "ping '?'");
  EXPECT_EQ(p.client_log, (lines{"opened", "chunk binary first last 'world'", "pong '?'"}));
  EXPECT_FALSE(p.client.close(wsx::close_code::normal, "done", p.t.now()));
  p.pump();
  EXPECT_EQ(p.server_log.back(), "closed 1000 clean remote");
  // The client waits for the server's FIN.
  EXPECT_EQ(p.client.state(), wsx::connection_state::closing);
  p.client.receive_eof(p.t.now());
  drain_events(p.client, p.client_log);
  EXPECT_EQ(p.client_log.back(), "closed 1000 clean local");
}

TEST(connection, client_gives_up_waiting_for_fin_at_the_close_deadline) {
  wsx::config cfg;
  cfg.close_timeout = 2s;
  pair p{cfg};
  p.pump();
  p.server.close(wsx::close_code::normal, "", p.t.now());
  p.pump();
  EXPECT_EQ(p.client.state(), wsx::connection_state::closing);
  ASSERT_TRUE(p.client.next_deadline());
  p.t.advance(2s);
  p.client.on_timer(p.t.now());
  drain_events(p.client, p.client_log);
  EXPECT_EQ(p.client_log.back(), "closed 1000 clean remote");
}

TEST(connection, client_rejects_server_that_refuses) {
  fake_clock t;
  wsx::connection c{wsx::role::client, {}, t.now()};
  ASSERT_FALSE(c.connect({"example.com", "/ws", "", {}, {}}, t.now()));
  drain_output(c, t.now());
  c.receive(
      bytes("HTTP/1.1 403 Forbidden\r\nContent-Length: 12\r\nX-Why: token\r\n\r\nbad token!\r\n"),
      t.now());
  auto ev = c.next_event();
  ASSERT_TRUE(ev);
  auto* r = std::get_if<wsx::rejected>(&*ev);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, wsx::errc::bad_status);
  EXPECT_EQ(r->status, 403);
  EXPECT_EQ(r->body, "bad token!\r\n");
  ASSERT_FALSE(r->headers.empty());
  lines log;
  drain_events(c, log);
  EXPECT_THAT(log.back(), StartsWith("closed 1006"));
}

TEST(connection, client_checks_accept_key) {
  fake_clock t;
  wsx::connection c{wsx::role::client, {}, t.now()};
  ASSERT_FALSE(c.connect({"example.com", "/ws", "", {}, {}}, t.now()));
  c.receive(
      bytes("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n"),
      t.now());
  lines log;
  drain_events(c, log);
  ASSERT_FALSE(log.empty());
  EXPECT_EQ(log[0], "rejected 101 " + wsx::make_error_code(wsx::errc::bad_accept).message());
}

TEST(connection, connect_checks_arguments) {
  fake_clock t;
  wsx::connection c{wsx::role::client, {}, t.now()};
  EXPECT_EQ(c.connect({"", "/", "", {}, {}}, t.now()), wsx::errc::invalid_argument);
  EXPECT_EQ(c.connect({"h", "no-slash", "", {}, {}}, t.now()), wsx::errc::invalid_argument);
  EXPECT_EQ(c.connect({"h\r\nX: y", "/", "", {}, {}}, t.now()), wsx::errc::invalid_argument);
  EXPECT_FALSE(c.connect({"h", "/", "", {}, {}}, t.now()));
  EXPECT_EQ(c.connect({"h", "/", "", {}, {}}, t.now()), wsx::errc::invalid_state);
  wsx::connection s{wsx::role::server, {}, t.now()};
  EXPECT_EQ(s.connect({"h", "/", "", {}, {}}, t.now()), wsx::errc::invalid_state);
}

TEST(connection, client_frames_are_masked_with_fresh_keys) {
  pair p;
  p.pump();
  p.client.send_text("same", p.t.now());
  p.client.send_text("same", p.t.now());
  auto out = drain_output(p.client, p.t.now());
  ASSERT_EQ(out.size(), 2u * (2 + 4 + 4));
  EXPECT_EQ(static_cast<unsigned char>(out[1]) & 0x80, 0x80);
  EXPECT_NE(out.substr(2, 8), out.substr(12, 8));  // key and masked payload differ
}

TEST(connection, send_checks_fragment_sequence_and_output_limit) {
  wsx::config cfg;
  cfg.max_buffered_output = 100;
  open_server s{cfg};
  auto now = s.t.now();
  EXPECT_EQ(s.c.send(wsx::opcode::continuation, {}, true, now), wsx::errc::invalid_state);
  EXPECT_FALSE(s.c.send(wsx::opcode::text, wsx::as_bytes("a"), false, now));
  EXPECT_EQ(s.c.send(wsx::opcode::binary, {}, true, now), wsx::errc::invalid_state);
  EXPECT_FALSE(s.c.send(wsx::opcode::continuation, wsx::as_bytes("b"), true, now));
  EXPECT_EQ(s.c.send(wsx::opcode::ping, {}, true, now), wsx::errc::invalid_argument);
  const auto before = s.c.buffered_amount();
  EXPECT_EQ(s.c.send_text(std::string(100, 'x'), now), wsx::errc::output_limit);
  EXPECT_EQ(s.c.buffered_amount(), before);
  EXPECT_EQ(s.c.ping(wsx::as_bytes(std::string(126, 'p')), now), wsx::errc::invalid_argument);
}

TEST(connection, auto_fragmentation_splits_sends) {
  wsx::config cfg;
  cfg.auto_fragment_size = 4;
  open_server s{cfg};
  s.c.send_text("abcdefghij", s.t.now());
  EXPECT_EQ(drain_output(s.c, s.t.now()),
            server_frame(0x01, "abcd") + server_frame(0x00, "efgh") + server_frame(0x80, "ij"));
}

namespace {

// OpenSSL's generator replaced, for the lifetime of this object, by one the test controls: a
// fixed non-zero pattern while `works`, a failure once it is cleared. Mask keys are served from a
// per-thread pool refilled by one draw per 64 keys, so drain_key_pool() empties the pool first:
// after it, exactly 63 keys are left before the next draw.
struct fake_random {
  static inline bool works = true;
  static inline int draws = 0;
  static int bytes(unsigned char* buf, int n) {
    ++draws;
    if (!works) return 0;
    std::memset(buf, 0x5A, static_cast<std::size_t>(n));
    return 1;
  }
  static int status() { return works ? 1 : 0; }

  const RAND_METHOD* saved = RAND_get_rand_method();
  RAND_METHOD method{nullptr, &bytes, nullptr, nullptr, &bytes, &status};
  fake_random() {
    works = true;
    draws = 0;
    RAND_set_rand_method(&method);
  }
  ~fake_random() { RAND_set_rand_method(saved); }
  fake_random(const fake_random&) = delete;
  fake_random& operator=(const fake_random&) = delete;

  void drain_key_pool() {
    const int before = draws;
    wsx::detail::mask_key key;
    while (draws == before) ASSERT_TRUE(wsx::detail::next_mask_key(key));
  }
};

}  // namespace

TEST(connection, send_that_runs_out_of_mask_keys_midway_queues_nothing) {
  wsx::config cfg;
  cfg.auto_fragment_size = 10;
  cfg.delivery = wsx::delivery::whole_messages;
  pair p{cfg};
  p.pump();
  fake_random rng;
  rng.drain_key_pool();  // 63 keys left
  const auto now = p.t.now();
  ASSERT_FALSE(p.client.send(wsx::opcode::text, wsx::as_bytes("first"), false, now));  // 62 left
  const auto before = p.client.buffered_amount();
  const std::string queued = wsx::test::str(p.client.pending_output()[0]);
  fake_random::works = false;
  // 100 fragments: the first 62 get a key, the 63rd does not.
  EXPECT_EQ(
      p.client.send(wsx::opcode::continuation, wsx::as_bytes(std::string(1000, 'x')), true, now),
      wsx::errc::invalid_state);
  EXPECT_EQ(p.client.buffered_amount(), before);
  ASSERT_EQ(p.client.pending_output().size(), 1u);
  EXPECT_EQ(wsx::test::str(p.client.pending_output()[0]), queued);
  // The message is still open where it was: the next fragment continues it.
  fake_random::works = true;
  EXPECT_FALSE(p.client.send(wsx::opcode::continuation, wsx::as_bytes("-last"), true, now));
  p.pump();
  EXPECT_EQ(p.server_log.back(), "message text 'first-last'");
}

TEST(connection, close_without_a_mask_key_queues_nothing_and_stays_open) {
  pair p;
  p.pump();
  fake_random rng;
  rng.drain_key_pool();
  wsx::detail::mask_key key;
  for (int i = 0; i < 63; ++i) ASSERT_TRUE(wsx::detail::next_mask_key(key));  // the pool is dry
  fake_random::works = false;
  const auto now = p.t.now();
  EXPECT_EQ(p.client.close(wsx::close_code::normal, "bye", now), wsx::errc::invalid_state);
  EXPECT_EQ(p.client.buffered_amount(), 0u);
  EXPECT_EQ(p.client.state(), wsx::connection_state::open);
  fake_random::works = true;
  EXPECT_FALSE(p.client.close(wsx::close_code::normal, "bye", now));
  EXPECT_EQ(p.client.state(), wsx::connection_state::closing);
  EXPECT_GT(p.client.buffered_amount(), 0u);
}

TEST(connection, pending_output_ranges_stay_valid_while_sending) {
  open_server s;
  s.c.send_text("first", s.t.now());
  auto v = s.c.pending_output();
  ASSERT_EQ(v.size(), 1u);
  const auto* data = v[0].data();
  const std::string before = wsx::test::str(v[0]);
  for (int i = 0; i < 1000; ++i) s.c.send_binary(wsx::as_bytes(std::string(100, 'z')), s.t.now());
  EXPECT_EQ(std::string(reinterpret_cast<const char*>(data), before.size()), before);
  auto all = s.c.pending_output();
  EXPECT_GT(all.size(), 1u);
  EXPECT_LE(all.total_bytes(), s.c.buffered_amount());
}

// ---- deadlines -------------------------------------------------------------------------------

TEST(connection, handshake_deadline_drops_a_slow_client) {
  fake_clock t;
  wsx::config cfg;
  cfg.handshake_timeout = 5s;
  wsx::connection c{wsx::role::server, cfg, t.now()};
  EXPECT_EQ(c.next_deadline(), t.now() + 5s);
  c.receive(bytes("GET / HTTP/1.1\r\nHo"), t.now());
  t.advance(4s);
  c.on_timer(t.now());
  lines log;
  drain_events(c, log);
  EXPECT_TRUE(log.empty());
  t.advance(1s);
  c.on_timer(t.now());
  drain_events(c, log);
  EXPECT_EQ(log.back(), "closed 1006 unclean local (" +
                            wsx::make_error_code(wsx::errc::handshake_timeout).message() + ")");
  EXPECT_FALSE(c.wants_write());
  EXPECT_TRUE(c.should_close_transport());
}

TEST(connection, handshake_deadline_answers_503_when_the_app_never_decides) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  c.receive(wsx::as_bytes(request), t.now());
  lines log;
  drain_events(c, log);
  t.advance(10s);
  c.on_timer(t.now());
  EXPECT_THAT(text(c.pending_output()), StartsWith("HTTP/1.1 503"));
  drain_events(c, log);
  EXPECT_THAT(log[1], StartsWith("rejected 503"));
  EXPECT_EQ(c.accept({}, t.now()), wsx::errc::invalid_state);
}

TEST(connection, heartbeat_pings_and_fails_a_silent_peer) {
  wsx::config cfg;
  cfg.ping_interval = 30s;
  cfg.pong_timeout = 10s;
  open_server s{cfg};
  EXPECT_EQ(s.c.next_deadline(), s.t.now() + 30s);
  s.t.advance(30s);
  s.c.on_timer(s.t.now());
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x89, ""));
  EXPECT_EQ(s.c.next_deadline(), s.t.now() + 10s);
  // A pong re-arms the heartbeat.
  s.t.advance(3s);
  EXPECT_EQ(s.feed(client_frame(0x8A, "")), (lines{"pong ''"}));
  EXPECT_EQ(s.c.next_deadline(), s.t.now() + 30s);
  s.t.advance(30s);
  s.c.on_timer(s.t.now());
  drain_output(s.c, s.t.now());
  s.t.advance(10s);
  s.c.on_timer(s.t.now());
  lines log;
  drain_events(s.c, log);
  EXPECT_EQ(log, (lines{"closed 1006 unclean local (" +
                        wsx::make_error_code(wsx::errc::heartbeat_timeout).message() + ")"}));
  EXPECT_EQ(s.c.state(), wsx::connection_state::closed);
}

TEST(connection, any_data_counts_as_a_heartbeat_answer) {
  wsx::config cfg;
  cfg.ping_interval = 30s;
  cfg.pong_timeout = 10s;
  open_server s{cfg};
  s.t.advance(30s);
  s.c.on_timer(s.t.now());
  s.t.advance(9s);
  s.feed(client_frame(0x81, "busy, not ponging"));
  s.t.advance(2s);
  s.c.on_timer(s.t.now());
  EXPECT_EQ(s.c.state(), wsx::connection_state::open);
}

TEST(connection, idle_timeout_closes_with_1001) {
  wsx::config cfg;
  cfg.ping_interval = {};
  cfg.idle_timeout = 60s;
  open_server s{cfg};
  s.t.advance(59s);
  s.feed(client_frame(0x81, "x"));
  s.t.advance(59s);
  s.c.on_timer(s.t.now());
  EXPECT_EQ(s.c.state(), wsx::connection_state::open);
  s.t.advance(1s);
  s.c.on_timer(s.t.now());
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x88, close_payload(1001, "idle timeout")));
  auto log = s.feed(client_frame(0x88, close_payload(1001)));
  EXPECT_EQ(log.back(), "closed 1001 clean local (" +
                            wsx::make_error_code(wsx::errc::idle_timeout).message() + ")");
}

TEST(connection, write_deadline_fails_a_peer_that_stops_reading) {
  wsx::config cfg;
  cfg.write_timeout = 5s;
  open_server s{cfg};
  s.c.send_text("never read", s.t.now());
  s.t.advance(4s);
  s.c.consume_output(2, s.t.now());  // progress pushes the deadline out
  s.t.advance(4s);
  s.c.on_timer(s.t.now());
  EXPECT_EQ(s.c.state(), wsx::connection_state::open);
  s.t.advance(1s);
  s.c.on_timer(s.t.now());
  lines log;
  drain_events(s.c, log);
  EXPECT_EQ(log, (lines{"closed 1006 unclean local (" +
                        wsx::make_error_code(wsx::errc::write_timeout).message() + ")"}));
  EXPECT_EQ(s.c.buffered_amount(), 0u);
  EXPECT_TRUE(s.c.should_close_transport());
}

TEST(connection, close_deadline_ends_an_unanswered_close) {
  wsx::config cfg;
  cfg.close_timeout = 3s;
  open_server s{cfg};
  s.c.close(wsx::close_code::normal, "", s.t.now());
  drain_output(s.c, s.t.now());
  EXPECT_EQ(s.c.next_deadline(), s.t.now() + 3s);
  s.t.advance(3s);
  s.c.on_timer(s.t.now());
  lines log;
  drain_events(s.c, log);
  EXPECT_EQ(log, (lines{"closed 1006 unclean local (" +
                        wsx::make_error_code(wsx::errc::close_timeout).message() + ")"}));
  EXPECT_FALSE(s.c.next_deadline());
}

TEST(connection, no_deadline_once_closed_and_flushed) {
  open_server s;
  s.feed(client_frame(0x88, ""));
  drain_output(s.c, s.t.now());
  EXPECT_FALSE(s.c.next_deadline());
}

// ---- chunking invariance ------------------------------------------------------------------------

namespace {
// How run_server_with_cuts() hands each piece to the connection.
enum class feed {
  copy,      // receive()
  in_place,  // receive_in_place() from a buffer of its own, release_input() after the events,
             // then the buffer is freed
  // the same, but release_input() and the buffer's end come before any event is pulled: the
  // events decoded meanwhile must survive the buffer
  in_place_release_early,
};

// With `shrink`, shrink_to_fit() runs after every piece's events (an embedder freeing the
// working state of a connection that went quiet): that must not change the outcome either.
lines run_server_with_cuts(const std::string& wire, const std::vector<std::size_t>& cuts,
                           wsx::delivery mode, bool shrink = false, feed how = feed::copy) {
  fake_clock t;
  wsx::config cfg;
  cfg.delivery = mode;
  wsx::connection c{wsx::role::server, cfg, t.now()};
  lines log;
  std::size_t at = 0;
  std::optional<std::size_t> open_message;  // log index where an unfinished message started
  auto handle = [&](wsx::event& ev) {
    if (std::holds_alternative<wsx::upgrade_request>(ev)) c.accept({}, t.now());
    // Chunk boundaries depend on the cuts; the reassembled content must not.
    if (auto* ch = std::get_if<wsx::message_chunk>(&ev)) {
      if (ch->first) {
        open_message = log.size();
        log.push_back("start " + wsx::test::kind_name(ch->kind));
      }
      if (!ch->payload.empty()) {
        if (log.empty() || log.back().rfind("data ", 0) != 0) log.push_back("data ");
        log.back() += wsx::test::str(ch->payload);
      }
      if (ch->last) {
        open_message.reset();
        log.push_back("end");
      }
      return;
    }
    // A failure may stop a message after more or fewer of its bytes were streamed, depending
    // on where the input was cut; only completed messages must match.
    if (std::holds_alternative<wsx::closed>(ev) && open_message) {
      log.resize(*open_message);
      open_message.reset();
    }
    log.push_back(wsx::test::describe(ev));
  };
  auto take = [&](std::size_t n) {
    const std::string_view piece = std::string_view(wire).substr(at, n);
    at += n;
    if (how == feed::copy) {
      c.receive(wsx::as_bytes(piece), t.now());
      while (auto ev = c.next_event()) handle(*ev);
    } else {
      // A heap buffer freed after release_input(): a span left pointing into it is a
      // use-after-free under AddressSanitizer, and reads the overwritten bytes without it.
      auto buffer = std::make_unique<std::vector<std::byte>>(wsx::as_bytes(piece).begin(),
                                                             wsx::as_bytes(piece).end());
      c.receive_in_place(*buffer, t.now());
      if (how == feed::in_place) {
        while (auto ev = c.next_event()) handle(*ev);
      }
      c.release_input();
      std::fill(buffer->begin(), buffer->end(), std::byte{0xEE});
      buffer.reset();
      while (auto ev = c.next_event()) handle(*ev);
    }
    if (shrink) c.shrink_to_fit();
  };
  for (auto n : cuts) take(std::min(n, wire.size() - at));
  take(wire.size() - at);
  c.receive_eof(t.now());
  drain_events(c, log);
  log.push_back("out " + drain_output(c, t.now()));
  return log;
}
}  // namespace

RC_GTEST_PROP(connection, chunking_does_not_change_events, ()) {
  // A request followed by a random sequence of frames (some possibly invalid).
  std::string wire = request;
  const auto frames = *rc::gen::container<std::vector<std::pair<int, std::string>>>(
      rc::gen::pair(rc::gen::element(0x81, 0x82, 0x01, 0x00, 0x80, 0x89, 0x8A, 0x88, 0xC1),
                    rc::gen::container<std::string>(rc::gen::element('a', 'b', '\xc3', '\xa9'))));
  for (const auto& [b, payload] : frames) {
    std::string p = payload;
    if (b == 0x88) p = close_payload(1000, "");
    if (p.size() > 125) p.resize(125);
    wire += client_frame(b, p);
  }
  const auto mode = *rc::gen::element(wsx::delivery::chunks, wsx::delivery::whole_messages);
  const auto whole = run_server_with_cuts(wire, {}, mode);
  std::vector<std::size_t> bytewise(wire.size(), 1);
  const auto cuts =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(0, 64));
  RC_ASSERT(run_server_with_cuts(wire, cuts, mode) == whole);
  RC_ASSERT(run_server_with_cuts(wire, bytewise, mode) == whole);
  RC_ASSERT(run_server_with_cuts(wire, cuts, mode, true) == whole);
  // Decoding in the caller's buffer changes nothing either, however the input is cut and
  // whenever the buffer is given back.
  RC_ASSERT(run_server_with_cuts(wire, cuts, mode, false, feed::in_place) == whole);
  RC_ASSERT(run_server_with_cuts(wire, bytewise, mode, false, feed::in_place) == whole);
  RC_ASSERT(run_server_with_cuts(wire, cuts, mode, true, feed::in_place_release_early) == whole);
  RC_ASSERT(run_server_with_cuts(wire, cuts, mode, false, feed::in_place_release_early) == whole);
}

// ---- what the application may pass to accept(), reject(), respond() and connect() -------------

// A server holding one unanswered request: an upgrade_request, or with `plain` an http_request.
struct waiting_server {
  fake_clock t;
  wsx::config cfg;
  wsx::connection c;
  explicit waiting_server(bool plain)
      : cfg(plain_config(plain)), c(wsx::role::server, cfg, t.now()) {
    c.receive(bytes(plain ? "GET /page HTTP/1.1\r\nHost: x\r\n\r\n" : request), t.now());
    EXPECT_TRUE(c.next_event());
    EXPECT_FALSE(c.next_event());
  }
  static wsx::config plain_config(bool plain) {
    wsx::config conf;
    conf.plain_http = plain;
    return conf;
  }
  // The call was refused and left no trace: nothing queued, no event, the request still waiting.
  void expect_refused(std::error_code ec) {
    EXPECT_EQ(ec, wsx::errc::invalid_argument);
    EXPECT_EQ(c.buffered_amount(), 0u);
    EXPECT_FALSE(c.wants_write());
    EXPECT_EQ(c.state(), wsx::connection_state::connecting);
    EXPECT_FALSE(c.next_event());
  }
};

const std::string control_values[] = {
    "a\x01"
    "b",
    "\x7f",
    "a\x1f",
    "a\rb",
    "a\nb",
    std::string("a\0b", 3)};

TEST(connection, respond_refuses_interim_statuses) {
  // RFC 9110 §15.2: a 1xx is interim; the connection ends after respond(), so it can't be one.
  waiting_server s{true};
  for (const int status : {100, 101, 102, 103, 199})
    s.expect_refused(s.c.respond(status, {}, "", s.t.now()));
  EXPECT_FALSE(s.c.respond(200, {}, "ok", s.t.now()));
  EXPECT_THAT(drain_output(s.c, s.t.now()), StartsWith("HTTP/1.1 200 OK\r\n"));
}

TEST(connection, respond_refuses_a_body_with_204_and_304) {
  // RFC 9110 §15.3.5, §15.4.5: no content in a 204 or 304.
  waiting_server s{true};
  s.expect_refused(s.c.respond(204, {}, "x", s.t.now()));
  s.expect_refused(s.c.respond(304, {}, "x", s.t.now()));
  EXPECT_FALSE(s.c.respond(304, {}, "", s.t.now()));
  EXPECT_EQ(drain_output(s.c, s.t.now()), "HTTP/1.1 304 Not Modified\r\nConnection: close\r\n\r\n");
}

TEST(connection, respond_204_goes_out_without_content_length) {
  // RFC 9110 §8.6: a server MUST NOT send Content-Length in a 204.
  waiting_server s{true};
  const wsx::header_field cache{"Cache-Control", "no-store"};
  EXPECT_FALSE(s.c.respond(204, {&cache, 1}, "", s.t.now()));
  EXPECT_EQ(drain_output(s.c, s.t.now()),
            "HTTP/1.1 204 No Content\r\nConnection: close\r\nCache-Control: no-store\r\n\r\n");
  EXPECT_TRUE(s.c.should_close_transport());
}

TEST(connection, respond_refuses_framing_headers) {
  // The core writes Content-Length and Connection: close itself; a second one, or a
  // Transfer-Encoding beside them, would make the message length ambiguous (RFC 9112 §6.3).
  waiting_server s{true};
  for (const auto name : {"Content-Length", "content-length", "Transfer-Encoding",
                          "TRANSFER-encoding", "Connection", "connection"}) {
    const wsx::header_field h{name, "0"};
    s.expect_refused(s.c.respond(200, {&h, 1}, "", s.t.now()));
  }
  const wsx::header_field ct{"Content-Type", "text/plain"};
  EXPECT_FALSE(s.c.respond(200, {&ct, 1}, "ok", s.t.now()));
  EXPECT_EQ(drain_output(s.c, s.t.now()),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nContent-Type: "
            "text/plain\r\n\r\nok");
}

TEST(connection, respond_refuses_control_characters_in_values) {
  // RFC 9110 §5.5: VCHAR, obs-text, SP and HTAB only.
  waiting_server s{true};
  for (const auto& v : control_values) {
    const wsx::header_field h{"X-Note", v};
    s.expect_refused(s.c.respond(200, {&h, 1}, "", s.t.now()));
  }
  const wsx::header_field tab{"X-Note", "a\tb \xc3\xa9"};
  EXPECT_FALSE(s.c.respond(200, {&tab, 1}, "", s.t.now()));
  EXPECT_THAT(drain_output(s.c, s.t.now()), HasSubstr("\r\nX-Note: a\tb \xc3\xa9\r\n"));
}

TEST(connection, reject_refuses_headers_the_core_writes) {
  // A refusal carries the core's Content-Type, Content-Length and Connection: close.
  waiting_server s{false};
  for (const auto name :
       {"Content-Length", "Transfer-Encoding", "Connection", "CONNECTION", "Content-Type"}) {
    const wsx::header_field h{name, "x"};
    s.expect_refused(s.c.reject(403, "no", s.t.now(), {&h, 1}));
  }
  const wsx::header_field retry{"Retry-After", "5"};
  EXPECT_FALSE(s.c.reject(503, "busy", s.t.now(), {&retry, 1}));
  EXPECT_EQ(drain_output(s.c, s.t.now()),
            "HTTP/1.1 503 Service Unavailable\r\nContent-Type: text/plain; charset=utf-8\r\n"
            "Content-Length: 5\r\nConnection: close\r\nRetry-After: 5\r\n\r\nbusy\n");
}

TEST(connection, reject_refuses_control_characters_in_values) {
  waiting_server s{true};  // reject() answers an http_request too
  for (const auto& v : control_values) {
    const wsx::header_field h{"X-Note", v};
    s.expect_refused(s.c.reject(403, "no", s.t.now(), {&h, 1}));
  }
  EXPECT_FALSE(s.c.reject(403, "no", s.t.now()));
  EXPECT_THAT(drain_output(s.c, s.t.now()), StartsWith("HTTP/1.1 403 Forbidden\r\n"));
}

TEST(connection, accept_refuses_headers_the_core_writes) {
  // RFC 6455 §4.2.2 item 5: the 101 states Upgrade, Connection, Sec-WebSocket-Accept and the
  // subprotocol itself; RFC 9110 §8.6 and RFC 9112 §6.1: no Content-Length or Transfer-Encoding.
  waiting_server s{false};
  for (const auto name : {"Upgrade", "Connection", "Sec-WebSocket-Accept", "sec-websocket-accept",
                          "Sec-WebSocket-Protocol", "Content-Length", "Transfer-Encoding"}) {
    s.expect_refused(s.c.accept({"", {{name, "x"}}}, s.t.now()));
  }
  EXPECT_FALSE(s.c.accept({"chat", {{"Set-Cookie", "id=1"}}}, s.t.now()));
  const auto out = drain_output(s.c, s.t.now());
  EXPECT_THAT(out, HasSubstr("\r\nSec-WebSocket-Protocol: chat\r\nSet-Cookie: id=1\r\n\r\n"));
  EXPECT_EQ(s.c.state(), wsx::connection_state::open);
}

TEST(connection, accept_refuses_control_characters_in_values) {
  waiting_server s{false};
  for (const auto& v : control_values)
    s.expect_refused(s.c.accept({"", {{"X-Note", v}}}, s.t.now()));
  EXPECT_FALSE(s.c.accept({"", {{"X-Note", "a\tb"}}}, s.t.now()));
  EXPECT_THAT(drain_output(s.c, s.t.now()), HasSubstr("\r\nX-Note: a\tb\r\n"));
}

TEST(connection, connect_refuses_control_characters_in_values) {
  fake_clock t;
  wsx::connection c{wsx::role::client, {}, t.now()};
  for (const auto& v : control_values) {
    for (int field = 0; field < 3; ++field) {
      wsx::client_options opts{"example.com", "/ws", "", {}, {}};
      if (field == 0) opts.host = "example.com" + v;
      if (field == 1) opts.origin = "http://" + v;
      if (field == 2) opts.extra_headers = {{"Authorization", v}};
      EXPECT_EQ(c.connect(opts, t.now()), wsx::errc::invalid_argument);
      EXPECT_EQ(c.buffered_amount(), 0u);
      EXPECT_EQ(c.state(), wsx::connection_state::connecting);
    }
  }
  EXPECT_FALSE(
      c.connect({"example.com", "/ws", "", {}, {{"Authorization", "Bearer\tt"}}}, t.now()));
  EXPECT_THAT(drain_output(c, t.now()), StartsWith("GET /ws HTTP/1.1\r\n"));
}

TEST(connection, connect_refuses_headers_the_request_writes_itself) {
  fake_clock t;
  wsx::connection c{wsx::role::client, {}, t.now()};
  // Each would appear twice (or offer an extension wsx cannot speak): name it in client_options.
  for (const char* name : {"Host", "upgrade", "Connection", "Origin", "Sec-WebSocket-Key",
                           "sec-websocket-version", "Sec-WebSocket-Protocol",
                           "Sec-WebSocket-Extensions", "Content-Length", "Transfer-Encoding"}) {
    const wsx::client_options opts{"example.com", "/ws", "", {}, {{name, "x"}}};
    EXPECT_EQ(c.connect(opts, t.now()), wsx::errc::invalid_argument) << name;
    EXPECT_EQ(c.buffered_amount(), 0u);
    EXPECT_EQ(c.state(), wsx::connection_state::connecting);
  }
  // Targets: origin-form only, nothing that would break the request line.
  for (const char* target : {"ws", "/a b", "/a\tb", "/a\x01", "/a\x7f", ""}) {
    const wsx::client_options opts{"example.com", target, "", {}, {}};
    EXPECT_EQ(c.connect(opts, t.now()), wsx::errc::invalid_argument) << target;
    EXPECT_EQ(c.buffered_amount(), 0u);
  }
  EXPECT_FALSE(
      c.connect({"example.com", "/ws?q=%20", "http://o", {}, {{"Cookie", "a=b"}}}, t.now()));
  const std::string request = drain_output(c, t.now());
  EXPECT_THAT(request, StartsWith("GET /ws?q=%20 HTTP/1.1\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nCookie: a=b\r\n"));
  EXPECT_THAT(request, HasSubstr("\r\nOrigin: http://o\r\n"));
}

// ---- plain HTTP and shared messages -------------------------------------------------------------

TEST(connection, plain_http_get_is_reported_and_answered) {
  fake_clock t;
  wsx::config cfg;
  cfg.plain_http = true;
  wsx::connection c{wsx::role::server, cfg, t.now()};
  c.receive(bytes("GET /healthz?v=1 HTTP/1.1\r\nHost: x\r\n\r\n"), t.now());
  auto ev = c.next_event();
  ASSERT_TRUE(ev);
  auto* r = std::get_if<wsx::http_request>(&*ev);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->path, "/healthz");
  EXPECT_EQ(r->query, "v=1");
  EXPECT_EQ(c.accept({}, t.now()), wsx::errc::invalid_state);
  const wsx::header_field ct{"Content-Type", "text/plain"};
  EXPECT_EQ(c.respond(101, {&ct, 1}, "x", t.now()), wsx::errc::invalid_argument);
  EXPECT_FALSE(c.respond(200, {&ct, 1}, "ok", t.now()));
  EXPECT_EQ(drain_output(c, t.now()),
            "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\nContent-Type: "
            "text/plain\r\n\r\nok");
  EXPECT_TRUE(c.should_close_transport());
  EXPECT_EQ(c.respond(200, {}, "again", t.now()), wsx::errc::invalid_state);
}

TEST(connection, plain_http_off_still_answers_426) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  c.receive(bytes("GET / HTTP/1.1\r\nHost: x\r\n\r\n"), t.now());
  EXPECT_THAT(text(c.pending_output()), StartsWith("HTTP/1.1 426"));
  EXPECT_EQ(c.respond(200, {}, "", t.now()), wsx::errc::invalid_state);
}

TEST(connection, upgrade_requests_are_not_plain_http) {
  fake_clock t;
  wsx::config cfg;
  cfg.plain_http = true;
  wsx::connection c{wsx::role::server, cfg, t.now()};
  c.receive(wsx::as_bytes(request), t.now());
  auto ev = c.next_event();
  ASSERT_TRUE(ev);
  EXPECT_TRUE(std::holds_alternative<wsx::upgrade_request>(*ev));
  EXPECT_EQ(c.respond(200, {}, "", t.now()), wsx::errc::invalid_state);
}

TEST(connection, shared_message_is_queued_on_many_connections_without_copy) {
  const auto msg = wsx::shared_message::make(wsx::message_kind::text, wsx::as_bytes("to all"));
  EXPECT_EQ(wsx::test::str(msg.wire()), server_frame(0x81, "to all"));
  open_server a;
  open_server b;
  EXPECT_FALSE(a.c.send_shared(msg, a.t.now()));
  EXPECT_FALSE(b.c.send_shared(msg, b.t.now()));
  EXPECT_EQ(a.c.pending_output()[0].data(), msg.wire().data());  // the same bytes
  EXPECT_EQ(msg.owner().use_count(), 3);
  EXPECT_EQ(drain_output(a.c, a.t.now()), server_frame(0x81, "to all"));
  EXPECT_EQ(msg.owner().use_count(), 2);
  // Not after a close, not on a client, not inside a fragmented send.
  b.c.send(wsx::opcode::text, wsx::as_bytes("part"), false, b.t.now());
  EXPECT_EQ(b.c.send_shared(msg, b.t.now()), wsx::errc::invalid_state);
  a.c.close(wsx::close_code::normal, "", a.t.now());
  EXPECT_EQ(a.c.send_shared(msg, a.t.now()), wsx::errc::invalid_state);
  pair p;
  p.pump();
  EXPECT_EQ(p.client.send_shared(msg, p.t.now()), wsx::errc::invalid_state);
}

TEST(connection, shared_message_respects_the_output_limit) {
  wsx::config cfg;
  cfg.max_buffered_output = 10;
  open_server s{cfg};
  const auto big =
      wsx::shared_message::make(wsx::message_kind::binary, wsx::as_bytes("0123456789"));
  EXPECT_EQ(s.c.send_shared(big, s.t.now()), wsx::errc::output_limit);
  EXPECT_EQ(s.c.buffered_amount(), 0u);
}

TEST(connection, eof_ends_a_server_with_an_unanswered_upgrade_and_trailing_bytes) {
  fake_clock t;
  wsx::connection c{wsx::role::server, {}, t.now()};
  c.receive(wsx::as_bytes(request + client_frame(0x81, "x")), t.now());
  lines log;
  drain_events(c, log);
  c.receive_eof(t.now());
  drain_events(c, log);
  EXPECT_THAT(log.back(), StartsWith("closed 1006"));
  EXPECT_EQ(c.state(), wsx::connection_state::closed);
}

TEST(connection, client_reports_a_refusal_whose_body_was_cut_short) {
  fake_clock t;
  wsx::connection c{wsx::role::client, {}, t.now()};
  ASSERT_FALSE(c.connect({"example.com", "/ws", "", {}, {}}, t.now()));
  c.receive(bytes("HTTP/1.1 404 Not Found\r\nContent-Length: 100\r\n\r\nshort"), t.now());
  c.receive_eof(t.now());
  auto ev = c.next_event();
  ASSERT_TRUE(ev);
  auto* r = std::get_if<wsx::rejected>(&*ev);
  ASSERT_TRUE(r);
  EXPECT_EQ(r->ec, wsx::errc::bad_status);
  EXPECT_EQ(r->status, 404);
}

TEST(connection, shrink_to_fit_keeps_a_partial_header) {
  open_server s;
  const auto frame = client_frame(0x82, std::string(300, 'b'));
  s.feed(std::string_view(frame).substr(0, 3));  // part of a 16-bit length header
  s.c.shrink_to_fit();
  lines log;
  drain_events(s.c, log);
  EXPECT_EQ(s.feed(std::string_view(frame).substr(3)),
            (lines{"chunk binary first last '" + std::string(300, 'b') + "'"}));
}

wsx::config whole_messages() {
  wsx::config cfg;
  cfg.delivery = wsx::delivery::whole_messages;
  return cfg;
}

TEST(connection, shrink_to_fit_between_messages_goes_on_the_same) {
  open_server s{whole_messages()};
  EXPECT_EQ(s.feed(client_frame(0x81, "one")), (lines{"message text 'one'"}));
  drain_output(s.c, s.t.now());
  const auto deadline = s.c.next_deadline();
  s.c.shrink_to_fit();  // everything is spent: the connection drops its working state
  EXPECT_EQ(s.c.buffered_amount(), 0u);
  EXPECT_TRUE(s.c.pending_output().empty());
  EXPECT_EQ(s.c.next_deadline(), deadline);
  EXPECT_FALSE(s.c.next_event());
  EXPECT_EQ(s.feed(client_frame(0x89, "hb") + client_frame(0x82, "two")),
            (lines{"ping 'hb'", "message binary 'two'"}));
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x8A, "hb"));
  EXPECT_FALSE(s.c.send_text("back", s.t.now()));
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x81, "back"));
}

TEST(connection, shrink_to_fit_keeps_an_unfinished_message) {
  open_server s{whole_messages()};
  // A text message in two fragments, split inside a two-byte UTF-8 sequence ("é").
  EXPECT_EQ(s.feed(client_frame(0x01, "caf\xC3")), (lines{}));
  s.c.shrink_to_fit();
  EXPECT_EQ(s.feed(client_frame(0x80, "\xA9!")), (lines{"message text 'caf\xC3\xA9!'"}));
  // The continuation rules still hold after a shrink: a lone continuation fails.
  s.c.shrink_to_fit();
  EXPECT_THAT(s.feed(client_frame(0x80, "x")).back(), StartsWith("closed 1002"));
}

TEST(connection, shrink_to_fit_keeps_queued_output) {
  open_server s;
  ASSERT_FALSE(s.c.send_text("queued", s.t.now()));
  s.c.shrink_to_fit();
  EXPECT_EQ(s.c.buffered_amount(), server_frame(0x81, "queued").size());
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x81, "queued"));
}

TEST(connection, shrink_to_fit_keeps_the_closing_handshake) {
  pair p;
  p.pump();
  p.client.shrink_to_fit();
  ASSERT_FALSE(p.server.close(wsx::close_code::normal, "bye", p.t.now()));
  p.pump();
  // The client has the server's close and waits for its FIN: a shrink now must keep the reason.
  ASSERT_EQ(p.client.state(), wsx::connection_state::closing);
  p.client.shrink_to_fit();
  p.client.receive_eof(p.t.now());
  std::optional<wsx::closed> end;
  while (auto ev = p.client.next_event())
    if (auto* c = std::get_if<wsx::closed>(&*ev)) end = *c;
  ASSERT_TRUE(end);
  EXPECT_EQ(end->code, wsx::close_code::normal);
  EXPECT_EQ(end->reason, "bye");
  EXPECT_TRUE(end->clean);
}

// ---- receive_in_place ------------------------------------------------------------------------

namespace {
bool points_into(wsx::bytes_view part, const std::vector<std::byte>& buffer) {
  return !part.empty() && part.data() >= buffer.data() &&
         part.data() + part.size() <= buffer.data() + buffer.size();
}
}  // namespace

TEST(connection, receive_in_place_decodes_in_the_callers_buffer) {
  open_server s{whole_messages()};
  const std::string big(300, 'm');
  const std::string next = client_frame(0x82, "after");
  std::string wire = client_frame(0x81, "one") + client_frame(0x82, big) + next.substr(0, 4);
  std::vector<std::byte> buffer(wsx::as_bytes(wire).begin(), wsx::as_bytes(wire).end());
  ASSERT_FALSE(s.c.receive_in_place(buffer, s.t.now()));
  std::vector<std::string> got;
  while (auto ev = s.c.next_event()) {
    auto* m = std::get_if<wsx::message>(&*ev);
    ASSERT_NE(m, nullptr);
    // Unmasked where it arrived: no copy of the payload.
    EXPECT_TRUE(points_into(m->payload, buffer));
    got.emplace_back(wsx::as_string(m->payload));
  }
  EXPECT_EQ(got, (std::vector<std::string>{"one", big}));
  s.c.release_input();
  // The buffer is the caller's again; the four bytes of the next header were kept.
  std::fill(buffer.begin(), buffer.end(), std::byte{0xEE});
  EXPECT_EQ(s.feed(next.substr(4)), (lines{"message binary 'after'"}));
}

TEST(connection, release_input_keeps_events_not_pulled_yet) {
  open_server s{whole_messages()};
  const std::string wire =
      client_frame(0x81, "first") + client_frame(0x89, "hb") + client_frame(0x82, "third");
  auto buffer = std::make_unique<std::vector<std::byte>>(wsx::as_bytes(wire).begin(),
                                                         wsx::as_bytes(wire).end());
  ASSERT_FALSE(s.c.receive_in_place(*buffer, s.t.now()));
  // Given back before any event was pulled: the first frame is decoded (its event waits, its
  // payload in the buffer), the other two are not.
  s.c.release_input();
  std::fill(buffer->begin(), buffer->end(), std::byte{0xEE});
  buffer.reset();
  lines rest;
  drain_events(s.c, rest);
  EXPECT_EQ(rest, (lines{"message text 'first'", "ping 'hb'", "message binary 'third'"}));
  EXPECT_EQ(drain_output(s.c, s.t.now()), server_frame(0x8A, "hb"));
}

TEST(connection, receive_in_place_copies_during_the_handshake) {
  fake_clock t;
  wsx::config cfg = whole_messages();
  wsx::connection c{wsx::role::server, cfg, t.now()};
  // The request and a frame in one read; the application answers after the buffer is reused.
  const std::string wire = request + client_frame(0x81, "early");
  std::vector<std::byte> buffer(wsx::as_bytes(wire).begin(), wsx::as_bytes(wire).end());
  ASSERT_FALSE(c.receive_in_place(buffer, t.now()));
  auto ev = c.next_event();
  ASSERT_TRUE(ev && std::holds_alternative<wsx::upgrade_request>(*ev));
  EXPECT_FALSE(c.next_event());
  c.release_input();
  std::fill(buffer.begin(), buffer.end(), std::byte{0xEE});
  ASSERT_FALSE(c.accept({}, t.now()));
  lines log;
  drain_events(c, log);
  EXPECT_EQ(log, (lines{"opened", "message text 'early'"}));
}

TEST(connection, receive_after_receive_in_place_keeps_the_order) {
  open_server s{whole_messages()};
  const std::string frame = client_frame(0x81, "split");
  std::vector<std::byte> buffer(wsx::as_bytes(frame).begin(), wsx::as_bytes(frame).begin() + 9);
  ASSERT_FALSE(s.c.receive_in_place(buffer, s.t.now()));
  EXPECT_FALSE(s.c.next_event());
  // No release_input(): the next receive() takes the borrowed rest first all the same.
  EXPECT_EQ(s.feed(frame.substr(9)), (lines{"message text 'split'"}));
}
