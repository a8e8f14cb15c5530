// permessage-deflate through whole connections: the handshake in both roles, compressed
// messages both ways with and without context takeover (whole, fragmented, auto-fragmented, under
// the threshold), RSV1 rules, invalid compressed data and text, the inflated-size limit, the
// client's 1010 for a bad answer, and chunking invariance of a compressed stream.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <rapidcheck/gtest.h>

#include <malloc.h>

#include <cstdio>
#include <memory>
#include <string>
#include <vector>

#include "detail/deflate_codec.hpp"
#include "support/event_log.hpp"
#include "support/test_support.hpp"
#include "wsx/connection.hpp"

using testing::HasSubstr;
using wsx::test::drain_events;
using wsx::test::drain_output;
using wsx::test::fake_clock;
using wsx::test::lines;

namespace {

wsx::config deflating(bool no_context_takeover = false) {
  wsx::config cfg;
  cfg.deflate.enabled = true;
  cfg.deflate.threshold = 8;
  cfg.deflate.no_context_takeover = no_context_takeover;
  return cfg;
}

const std::string request_head =
    "GET /ws HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
    "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n";

// A masked client frame (fixed key) with the given first byte.
std::string client_frame(int first_byte, std::string_view payload) {
  const unsigned char key[4] = {0x11, 0x22, 0x33, 0x44};
  std::string f(1, static_cast<char>(first_byte));
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

// What a client's compressor sends for `text` (one stream: context carries over).
struct peer_compressor {
  wsx::detail::deflate_codec codec{wsx::role::client, wsx::detail::deflate_params{}};
  std::string operator()(std::string_view text, bool fin = true) {
    std::vector<std::byte> out;
    EXPECT_EQ(codec.compress(wsx::as_bytes(text), fin, out), wsx::errc{});
    return {reinterpret_cast<const char*>(out.data()), out.size()};
  }
};

// A server that accepted "permessage-deflate" from a raw client.
struct deflate_server {
  fake_clock t;
  wsx::connection c;
  explicit deflate_server(wsx::config cfg = deflating(), std::string offer = "permessage-deflate")
      : c(wsx::role::server, cfg, t.now()) {
    const std::string req = request_head + "Sec-WebSocket-Extensions: " + offer + "\r\n\r\n";
    c.receive(wsx::as_bytes(req), t.now());
    lines ignore;
    drain_events(c, ignore);
    EXPECT_FALSE(c.accept({}, t.now()));
    drain_events(c, ignore);
    response = drain_output(c, t.now());
  }
  lines feed(std::string_view wire) {
    c.receive(wsx::as_bytes(wire), t.now());
    lines out;
    drain_events(c, out);
    return out;
  }
  std::string response;
};

// A client and a server pumped into each other in memory; every event logged.
struct pair {
  fake_clock t;
  wsx::connection client;
  wsx::connection server;
  lines client_log, server_log;
  std::vector<std::vector<std::string>> extensions;  // of each side's opened
  std::string to_server, to_client;                  // the wire, for inspection
  pair(const wsx::config& ccfg, const wsx::config& scfg)
      : client(wsx::role::client, ccfg, t.now()), server(wsx::role::server, scfg, t.now()) {
    EXPECT_FALSE(client.connect({"example.com", "/", "", {}, {}}, t.now()));
    pump();
  }
  void log(wsx::connection& c, lines& out) {
    while (auto ev = c.next_event()) {
      if (auto* o = std::get_if<wsx::opened>(&*ev)) extensions.push_back(o->extensions);
      if (std::holds_alternative<wsx::upgrade_request>(*ev)) c.accept({}, t.now());
      out.push_back(wsx::test::describe(*ev));
    }
  }
  void pump() {
    to_server.clear();
    to_client.clear();
    for (int round = 0; round < 100; ++round) {
      const auto up = drain_output(client, t.now());
      if (!up.empty()) server.receive(wsx::as_bytes(up), t.now());
      log(server, server_log);
      const auto down = drain_output(server, t.now());
      if (!down.empty()) client.receive(wsx::as_bytes(down), t.now());
      log(client, client_log);
      to_server += up;
      to_client += down;
      if (up.empty() && down.empty()) return;
    }
  }
};

bool rsv1(const std::string& wire) { return !wire.empty() && (wire[0] & 0x40) != 0; }

}  // namespace

TEST(connection_deflate, pair_agrees_and_reports_the_extension) {
  pair p{deflating(), deflating()};
  EXPECT_EQ(p.server_log, (lines{"upgrade_request /", "opened"}));
  EXPECT_EQ(p.client_log, (lines{"opened"}));
  ASSERT_EQ(p.extensions.size(), 2u);
  // The default budget (128 KiB) asks for a server window of 14 and gets 14 both ways.
  EXPECT_EQ(p.extensions[0],
            (std::vector<std::string>{
                "permessage-deflate; server_max_window_bits=14; client_max_window_bits=14"}));
  EXPECT_EQ(p.extensions[1], p.extensions[0]);
}

TEST(connection_deflate, off_by_default_and_declined_when_off) {
  pair p{deflating(), wsx::config{}};
  EXPECT_EQ(p.client_log, (lines{"opened"}));
  EXPECT_TRUE(p.extensions[0].empty());
  EXPECT_FALSE(p.client.send_text("uncompressed, since the server declined", p.t.now()));
  p.pump();
  EXPECT_FALSE(rsv1(p.to_server));
  EXPECT_EQ(p.server_log.back(), "chunk text first last 'uncompressed, since the server declined'");
  wsx::config plain;
  pair q{plain, deflating()};
  EXPECT_TRUE(q.extensions[0].empty());
}

TEST(connection_deflate, messages_round_trip_both_ways_in_both_takeover_modes) {
  for (const bool no_takeover : {false, true}) {
    pair p{deflating(no_takeover), deflating(no_takeover)};
    const std::string msg = "{\"user\":\"alice\",\"text\":\"hello hello hello hello\"}";
    for (int i = 0; i < 3; ++i) {
      EXPECT_FALSE(p.client.send_text(msg, p.t.now()));
      EXPECT_FALSE(p.server.send_text(msg, p.t.now()));
      p.pump();
      EXPECT_TRUE(rsv1(p.to_server));
      EXPECT_TRUE(rsv1(p.to_client));
      EXPECT_LT(p.to_client.size(), msg.size());
      EXPECT_EQ(p.server_log.back(), "chunk text first last '" + msg + "'") << no_takeover;
      EXPECT_EQ(p.client_log.back(), "chunk text first last '" + msg + "'") << no_takeover;
    }
  }
}

TEST(connection_deflate, fragmented_sends_set_rsv1_on_the_first_frame_only) {
  wsx::config cfg = deflating();
  cfg.delivery = wsx::delivery::whole_messages;
  pair p{cfg, cfg};
  EXPECT_FALSE(p.server.send(wsx::opcode::text, wsx::as_bytes("first part, "), false, p.t.now()));
  EXPECT_FALSE(p.server.send(wsx::opcode::continuation, wsx::as_bytes("x"), false, p.t.now()));
  EXPECT_FALSE(
      p.server.send(wsx::opcode::continuation, wsx::as_bytes("last part"), true, p.t.now()));
  p.pump();
  // Three server frames: RSV1 on the first only.
  std::size_t at = 0;
  std::vector<int> first_bytes;
  while (at < p.to_client.size()) {
    first_bytes.push_back(static_cast<unsigned char>(p.to_client[at]));
    at += 2 + static_cast<unsigned char>(p.to_client[at + 1]);
  }
  EXPECT_EQ(first_bytes, (std::vector<int>{0x41, 0x00, 0x80}));
  EXPECT_EQ(p.client_log.back(), "message text 'first part, xlast part'");
}

TEST(connection_deflate, auto_fragmented_compressed_messages_arrive_whole) {
  wsx::config cfg = deflating();
  cfg.auto_fragment_size = 7;
  cfg.delivery = wsx::delivery::whole_messages;
  pair p{cfg, cfg};
  std::string text;
  for (int i = 0; i < 50; ++i) text += "line " + std::to_string(i) + "; ";
  EXPECT_FALSE(p.client.send_text(text, p.t.now()));
  p.pump();
  EXPECT_EQ(p.server_log.back(), "message text '" + text + "'");
  EXPECT_TRUE(rsv1(p.to_server));
  EXPECT_EQ(p.to_server[13] & 0x40, 0);  // the second frame: 6 header bytes (masked), 7 payload
}

TEST(connection_deflate, messages_under_the_threshold_leave_uncompressed) {
  pair p{deflating(), deflating()};
  EXPECT_FALSE(p.client.send_text("short", p.t.now()));  // threshold 8
  p.pump();
  EXPECT_FALSE(rsv1(p.to_server));
  EXPECT_EQ(p.server_log.back(), "chunk text first last 'short'");
}

TEST(connection_deflate, accept_refuses_a_second_extensions_header) {
  fake_clock t;
  wsx::connection c{wsx::role::server, deflating(), t.now()};
  c.receive(wsx::as_bytes(request_head + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
            t.now());
  lines log;
  drain_events(c, log);
  EXPECT_EQ(c.accept({"", {{"Sec-WebSocket-Extensions", "x-other"}}}, t.now()),
            wsx::errc::invalid_argument);
  EXPECT_EQ(c.buffered_amount(), 0u);  // nothing queued: the request still waits
  EXPECT_FALSE(c.accept({}, t.now()));
}

TEST(connection_deflate, server_inflates_a_compressed_client_message) {
  deflate_server s;
  EXPECT_THAT(s.response, HasSubstr("Sec-WebSocket-Extensions: permessage-deflate\r\n"));
  peer_compressor z;
  EXPECT_EQ(s.feed(client_frame(0xC1, z("Hello"))), (lines{"chunk text first last 'Hello'"}));
  // Fragmented: RSV1 on the first frame, the rest plain continuations.
  const std::string a = z("Hel", false), b = z("lo");
  EXPECT_EQ(s.feed(client_frame(0x41, a) + client_frame(0x80, b)),
            (lines{"chunk text first 'Hel'", "chunk text last 'lo'"}));
  // An uncompressed message while deflate runs is fine (RFC 7692 §6).
  EXPECT_EQ(s.feed(client_frame(0x81, "plain")), (lines{"chunk text first last 'plain'"}));
}

TEST(connection_deflate, rsv1_on_control_or_continuation_frames_is_1002) {
  {
    deflate_server s;
    const auto log = s.feed(client_frame(0xC9, "ping"));
    EXPECT_THAT(log.back(), HasSubstr("closed 1002 unclean local (RSV1"));
  }
  {
    deflate_server s;
    peer_compressor z;
    const auto log = s.feed(client_frame(0x41, z("a", false)) + client_frame(0xC0, z("b")));
    EXPECT_THAT(log.back(), HasSubstr("closed 1002 unclean local (RSV1"));
    EXPECT_EQ(wsx::make_error_code(wsx::errc::bad_rsv1).message(),
              "RSV1 (compressed) set on a control or continuation frame (RFC 7692 §6.1)");
  }
}

TEST(connection_deflate, rsv1_without_the_extension_is_1002) {
  wsx::config off;
  fake_clock t;
  wsx::connection c{wsx::role::server, off, t.now()};
  c.receive(wsx::as_bytes(request_head + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"),
            t.now());
  lines log;
  drain_events(c, log);
  ASSERT_FALSE(c.accept({}, t.now()));
  EXPECT_THAT(drain_output(c, t.now()), testing::Not(HasSubstr("Sec-WebSocket-Extensions")));
  peer_compressor z;
  c.receive(wsx::as_bytes(client_frame(0xC1, z("Hello"))), t.now());
  log.clear();
  drain_events(c, log);
  EXPECT_EQ(log.back(),
            "closed 1002 unclean local (frame sets RSV bits without a negotiated extension)");
}

TEST(connection_deflate, invalid_compressed_data_is_1007) {
  deflate_server s;
  const auto log = s.feed(client_frame(0xC2, "\xff\xff\xff"));
  EXPECT_EQ(log.back(),
            "closed 1007 unclean local (compressed message is not valid DEFLATE data (RFC 7692 "
            "§6.2))");
  // The close frame carries the code and the reason.
  const auto out = drain_output(s.c, s.t.now());
  EXPECT_EQ(out.substr(0, 4), std::string("\x88\x3f\x03\xef", 4));
}

TEST(connection_deflate, inflated_text_is_utf8_checked) {
  deflate_server s;
  peer_compressor z;
  const auto log = s.feed(client_frame(0xC1, z("ok \xc3\x28 bad")));
  EXPECT_EQ(log.back(),
            "closed 1007 unclean local (text message or close reason is not valid UTF-8)");
}

TEST(connection_deflate, inflated_size_counts_against_max_message_size) {
  for (const auto d : {wsx::delivery::chunks, wsx::delivery::whole_messages}) {
    wsx::config cfg = deflating();
    cfg.max_message_size = 10000;
    cfg.delivery = d;
    deflate_server s{cfg};
    peer_compressor z;
    // 10 000 bytes inflate exactly to the limit: fine; one more byte is too many.
    auto log = s.feed(client_frame(0xC2, z(std::string(10000, 'a'))));
    EXPECT_EQ(log.size(), 1u);
    const std::string bomb = z(std::string(10001, 'a'));
    EXPECT_LT(bomb.size(), 100u);  // far below the limit on the wire
    log = s.feed(client_frame(0xC2, bomb));
    EXPECT_EQ(log.back(),
              "closed 1009 unclean local (compressed message inflates past "
              "config::max_message_size)");
  }
}

TEST(connection_deflate, client_fails_a_bad_answer_with_1010_and_the_reason) {
  fake_clock t;
  wsx::connection c{wsx::role::client, deflating(), t.now()};
  ASSERT_FALSE(c.connect({"example.com", "/", "", {}, {}}, t.now()));
  const std::string req = drain_output(c, t.now());
  EXPECT_THAT(req, HasSubstr("Sec-WebSocket-Extensions: permessage-deflate; "
                             "server_max_window_bits=14; client_max_window_bits\r\n"));
  const auto key_at = req.find("Sec-WebSocket-Key: ") + 19;
  const std::string key = req.substr(key_at, 24);
  // The accept key is checked first; compute it through a server connection.
  wsx::connection srv{wsx::role::server, wsx::config{}, t.now()};
  srv.receive(wsx::as_bytes(request_head.substr(0, request_head.find("Sec-WebSocket-Key")) +
                            "Sec-WebSocket-Key: " + key + "\r\nSec-WebSocket-Version: 13\r\n\r\n"),
              t.now());
  lines ignore;
  drain_events(srv, ignore);
  ASSERT_FALSE(srv.accept({}, t.now()));
  std::string answer = drain_output(srv, t.now());
  answer.insert(answer.size() - 2,
                "Sec-WebSocket-Extensions: permessage-deflate; server_max_window_bits=9; "
                "server_max_window_bits=10\r\n");
  c.receive(wsx::as_bytes(answer), t.now());
  lines log;
  drain_events(c, log);
  ASSERT_EQ(log.size(), 2u);
  EXPECT_EQ(log[0], "rejected 101 server's permessage-deflate answer is invalid (RFC 7692 §7.1)");
  EXPECT_EQ(log[1],
            "closed 1010 unclean local (server's permessage-deflate answer is invalid (RFC 7692 "
            "§7.1))");
  const std::string close = drain_output(c, t.now());
  ASSERT_GE(close.size(), 8u);
  EXPECT_EQ(static_cast<unsigned char>(close[0]), 0x88);
  std::string reason;  // unmask the payload
  const std::size_t n = static_cast<unsigned char>(close[1]) & 0x7F;
  for (std::size_t i = 0; i < n; ++i) reason += static_cast<char>(close[6 + i] ^ close[2 + i % 4]);
  EXPECT_EQ(reason.substr(0, 2), "\x03\xf2");  // 1010
  EXPECT_EQ(reason.substr(2), "permessage-deflate parameter server_max_window_bits given twice");
  EXPECT_EQ(c.state(), wsx::connection_state::closed);
}

// The same compressed wire cut anywhere gives the same events.
RC_GTEST_PROP(connection_deflate, chunking_a_compressed_stream_does_not_change_events, ()) {
  peer_compressor z;
  std::string wire;
  const auto texts = *rc::gen::container<std::vector<std::string>>(
      3, rc::gen::oneOf(rc::gen::just(std::string("{\"a\":1,\"a\":1,\"a\":1}")),
                        rc::gen::just(std::string(500, 'w')), rc::gen::just(std::string("x"))));
  for (const auto& text : texts) {
    const std::size_t half = text.size() / 2;
    wire += client_frame(0x41, z(text.substr(0, half), false));
    wire += client_frame(0x80, z(text.substr(half)));
  }
  wire += client_frame(0xC2, "\x01\x02");  // invalid at the end: the same failure either way
  const auto run = [&](const std::vector<std::size_t>& cuts) {
    wsx::config cfg = deflating();
    cfg.delivery = wsx::delivery::whole_messages;
    deflate_server s{cfg};
    lines log;
    std::size_t at = 0;
    for (std::size_t cut : cuts) {
      const std::size_t to = std::min(wire.size(), at + cut);
      const auto more = s.feed(wire.substr(at, to - at));
      log.insert(log.end(), more.begin(), more.end());
      at = to;
    }
    const auto rest = s.feed(wire.substr(at));
    log.insert(log.end(), rest.begin(), rest.end());
    return log;
  };
  const auto whole = run({});
  RC_ASSERT(whole.size() == texts.size() + 1);
  const auto cuts =
      *rc::gen::container<std::vector<std::size_t>>(rc::gen::inRange<std::size_t>(1, 40));
  RC_ASSERT(run(cuts) == whole);
}

// Heap bytes per server connection (glibc's mallinfo2), printed for docs/deflate.md and bounded
// by zlib's formula: an idle connection without context takeover holds no zlib stream after
// shrink_to_fit(); with context takeover it keeps both windows.
namespace {

// Small chunks plus mmap()ed ones (zlib's larger buffers are above the mmap threshold).
std::size_t heap_in_use() {
  const auto m = mallinfo2();
  return m.uordblks + m.hblkhd;
}

struct heap_figures {
  std::size_t active;  // after a message each way
  std::size_t idle;    // after shrink_to_fit()
};

heap_figures per_connection(const wsx::config& cfg, bool negotiate) {
  constexpr std::size_t n = 64;
  const std::size_t before = heap_in_use();
  std::vector<std::unique_ptr<deflate_server>> servers;
  const std::string msg(2000, 'm');
  for (std::size_t i = 0; i < n; ++i) {
    peer_compressor z;  // each connection's peer has a stream of its own
    servers.push_back(std::make_unique<deflate_server>(
        cfg, negotiate ? "permessage-deflate; client_max_window_bits" : "x-none"));
    auto& s = *servers.back();
    const auto log = s.feed(client_frame(negotiate ? 0xC2 : 0x82, negotiate ? z(msg) : msg));
    EXPECT_EQ(log, (lines{"chunk binary first last '" + msg + "'"}));
    EXPECT_EQ(s.c.send_binary(wsx::as_bytes(msg), s.t.now()), std::error_code{});
    drain_output(s.c, s.t.now());
    s.response.clear();
    s.response.shrink_to_fit();
  }
  heap_figures f{};
  f.active = (heap_in_use() - before) / n;
  for (auto& s : servers) s->c.shrink_to_fit();
  f.idle = (heap_in_use() - before) / n;
  return f;
}

}  // namespace

#if defined(__SANITIZE_ADDRESS__)
#define WSX_OWN_ALLOCATOR 1  // GCC under ASan: malloc is ASan's, which mallinfo2() does not see
#elif defined(__has_feature)
#if __has_feature(address_sanitizer)
#define WSX_OWN_ALLOCATOR 1  // clang under ASan
#endif
#endif

TEST(connection_deflate, memory_per_connection_idle_and_active) {
#ifdef WSX_OWN_ALLOCATOR
  GTEST_SKIP() << "glibc's heap counters do not see ASan's allocator";
#endif
  wsx::config plain;
  per_connection(plain, false);  // warm up: the thread's output block pool, the scratch buffer
  const auto base = per_connection(plain, false);
  wsx::config cfg = deflating();
  cfg.deflate.memory_budget = 1 << 20;  // windows 15, memLevel 8
  const auto takeover = per_connection(cfg, true);
  cfg.deflate.no_context_takeover = true;
  cfg.deflate.peer_no_context_takeover = true;
  const auto reset = per_connection(cfg, true);
  cfg = deflating();  // the default budget, 128 KiB: windows 14, memLevel 6
  const auto budget = per_connection(cfg, true);
  std::printf("heap per connection (bytes): no deflate active %zu idle %zu\n", base.active,
              base.idle);
  std::printf("  deflate 15/8/15, context takeover: active %zu idle %zu\n", takeover.active,
              takeover.idle);
  std::printf("  deflate 15/8/15, no context takeover: active %zu idle %zu\n", reset.active,
              reset.idle);
  std::printf("  deflate 14/6/14 (default budget), context takeover: active %zu idle %zu\n",
              budget.active, budget.idle);
  using wsx::detail::deflate_memory;
  using wsx::detail::inflate_memory;
  const std::size_t zlib_15 = deflate_memory(15, 8) + inflate_memory(15);
  // zlib's own figures plus a little for the codec and allocator overhead.
  EXPECT_GE(takeover.idle, base.idle + zlib_15);
  EXPECT_LE(takeover.idle, base.idle + zlib_15 + 1024);
  EXPECT_LE(budget.idle, base.idle + 128 * 1024 + 1024);
  EXPECT_GE(reset.active, base.active + zlib_15);
  // Without context takeover an idle connection holds only the codec object.
  EXPECT_LE(reset.idle, base.idle + 256);
}

// A delivered message's buffer does not stay with its connection: once its event is pulled,
// release_input() passes it to the thread's spare, which the next message on any connection
// takes. 32 connections each get a different 64 KiB compressed message: every one arrives intact,
// and the heap then holds their zlib streams, not 32 inflated messages.
TEST(connection_deflate, delivered_messages_leave_their_buffer_to_the_next) {
#ifdef WSX_OWN_ALLOCATOR
  GTEST_SKIP() << "glibc's heap counters do not see ASan's allocator";
#endif
  constexpr std::size_t n = 32;
  wsx::config cfg = deflating();
  cfg.deflate.memory_budget = 1 << 20;  // windows 15, memLevel 8
  cfg.delivery = wsx::delivery::whole_messages;
  const std::size_t before = heap_in_use();
  std::vector<std::unique_ptr<deflate_server>> servers;
  for (std::size_t i = 0; i < n; ++i) {
    std::string text = "connection " + std::to_string(i) + ":";
    for (std::size_t k = 0; text.size() < 65536; ++k) text += " word" + std::to_string(k * i % 977);
    text.resize(65536);
    peer_compressor z;
    const std::string wire = client_frame(0xC1, z(text));
    servers.push_back(std::make_unique<deflate_server>(cfg));
    auto& s = *servers.back();
    s.response.clear();
    s.response.shrink_to_fit();
    std::vector<std::byte> buffer(wsx::as_bytes(wire).begin(), wsx::as_bytes(wire).end());
    ASSERT_FALSE(s.c.receive_in_place(buffer, s.t.now()));
    std::string got;
    while (auto ev = s.c.next_event()) {
      if (auto* m = std::get_if<wsx::message>(&*ev)) got = wsx::test::str(m->payload);
    }
    s.c.release_input();
    EXPECT_EQ(got, text) << "connection " << i;
  }
  const std::size_t per_connection = (heap_in_use() - before) / n;
  std::printf("heap per connection after a 64 KiB message: %zu bytes\n", per_connection);
  // The inflater (nothing was sent: no compressor) and the connection's state; a message kept
  // by every connection would add 64 KiB each.
  EXPECT_LE(per_connection, wsx::detail::inflate_memory(15) + 8 * 1024);
}

TEST(connection_deflate, send_shared_compresses_once_for_every_receiver) {
  const std::string text(3000, 'b');
  const auto msg = wsx::shared_message::make_compressed(wsx::message_kind::text,
                                                        wsx::as_bytes(text + "roadcast"));
  ASSERT_FALSE(msg.compressed_wire().empty());
  EXPECT_LT(msg.compressed_wire().size(), 100u);
  EXPECT_EQ(msg.compressed_window_bits(), 15u);
  wsx::config roomy = deflating();
  roomy.deflate.memory_budget = 1 << 20;  // lets the server use a window of 15
  wsx::config small = deflating();
  small.deflate.memory_budget = 48 * 1024;  // asks the server for a window of 11
  pair deflating_peer{roomy, deflating()}, plain_peer{wsx::config{}, deflating()},
      small_window_peer{small, deflating()};
  for (pair* p : {&deflating_peer, &plain_peer, &small_window_peer}) {
    // Context first, so that the shared frame lands in the middle of a stream.
    EXPECT_FALSE(p->server.send_text(text + "efore", p->t.now()));
    p->pump();
    EXPECT_FALSE(p->server.send_shared(msg, p->t.now()));
    p->pump();
    EXPECT_EQ(p->client_log.back(), "chunk text first last '" + text + "roadcast'");
    EXPECT_EQ(rsv1(p->to_client), p == &deflating_peer);
    // The connection's own compressor goes on after the shared frame.
    EXPECT_FALSE(p->server.send_text(text + "after", p->t.now()));
    p->pump();
    EXPECT_EQ(p->client_log.back(), "chunk text first last '" + text + "after'");
  }
  // The same message object, on connections of both kinds: its bytes are shared, not copied.
  EXPECT_EQ(msg.compressed_owner().use_count(), 1);
}
