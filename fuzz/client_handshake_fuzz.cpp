// Fuzzes a client wsx::connection: connect() to example.com/chat offering subprotocols "a" and
// "b" (after invalid connect() attempts), then the server's answer and frames. Random bytes almost
// never carry the right Sec-WebSocket-Accept, so a mode byte picks between the input as the raw
// response and a 101 built from the key in the client's own request (a variant with a known
// outcome: header spelling, subprotocol, extension, spoiled accept, missing header) followed by
// the input as frames. Everything is cut into chunks of random sizes; events are drained after
// every receive(), output consumed at random amounts; at the end the handshake deadline may pass
// and EOF may come. session_checker enforces the connection's rules (see session_checker.hpp),
// among them that our output is a valid request followed by masked frames.
// WSX_FUZZ_TRACE=1 prints the event log when replaying an input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>

#include "detail/handshake.hpp"
#include "session_checker.hpp"
#include "wsx/connection.hpp"

namespace {

using wsx::fuzz::session_checker;
using wsx::fuzz::trace;

constexpr std::array<std::size_t, 4> header_limits{16 * 1024, 64, 300, 1024};
constexpr std::array<std::size_t, 4> frame_limits{16 * 1024 * 1024, 0, 125, 1000};
constexpr std::array<std::string_view, 4> odd_subprotocols{"c", "a, b", "", " b "};

// A 101 answer built from the client's key, and what the client must make of it.
struct built_response {
  std::string text;
  wsx::errc expected_error{};  // {} when the client must open
  std::string expected_subprotocol;
};

// From one provider byte: bits 0-1 subprotocol (none, "a", "b", odd pick in bits 4-5); bit 2 an
// extension the client never offered; bit 3 a spoiled accept; bits 6-7 header style (canonical,
// lower-case with a token list, odd spacing, Connection missing). RFC 6455 §4.1 order of the
// client's checks: Upgrade/Connection, accept, subprotocol, extensions.
built_response build_response(std::string_view key, std::uint8_t bits) {
  built_response r;
  std::string accept = wsx::detail::accept_key(key);
  if (bits & 8) accept[3] = accept[3] == 'A' ? 'B' : 'A';
  const unsigned style = bits >> 6;
  r.text = "HTTP/1.1 101 Switching Protocols\r\n";
  if (style == 1) {
    r.text +=
        "upgrade: websocket\r\nconnection: keep-alive, Upgrade\r\nsec-websocket-accept: " + accept +
        "\r\n";
  } else if (style == 2) {
    r.text +=
        "Server: fuzz\r\nUpgrade: WebSocket\r\nConnection: upgrade\r\n"
        "Sec-WebSocket-Accept:   " +
        accept + "  \r\n";
  } else {
    r.text += "Upgrade: websocket\r\n";
    if (style == 0) r.text += "Connection: Upgrade\r\n";
    r.text += "Sec-WebSocket-Accept: " + accept + "\r\n";
  }
  std::optional<std::string_view> protocol;
  bool protocol_ok = true;
  switch (bits & 3) {
    case 0:
      break;
    case 1:
      protocol = "a";
      r.expected_subprotocol = "a";
      break;
    case 2:
      protocol = "b";
      r.expected_subprotocol = "b";
      break;
    default:
      protocol = odd_subprotocols[(bits >> 4) & 3];
      protocol_ok = *protocol == "" || *protocol == " b ";
      if (*protocol == " b ") r.expected_subprotocol = "b";
      break;
  }
  if (protocol) r.text += "Sec-WebSocket-Protocol: " + std::string(*protocol) + "\r\n";
  if (bits & 4) r.text += "Sec-WebSocket-Extensions: permessage-deflate\r\n";
  r.text += "\r\n";
  if (style == 3) {
    r.expected_error = wsx::errc::bad_response;
  } else if (bits & 8) {
    r.expected_error = wsx::errc::bad_accept;
  } else if (!protocol_ok) {
    r.expected_error = wsx::errc::bad_subprotocol;
  } else if (bits & 4) {
    r.expected_error = wsx::errc::bad_extension;
  }
  return r;
}

// The client's request: checks what RFC 6455 §4.1 requires of it and returns its key.
std::string check_request(const wsx::connection& c) {
  const std::string req = wsx::fuzz::pending_text(c);
  FUZZ_CHECK(req.starts_with("GET /chat HTTP/1.1\r\n"));
  FUZZ_CHECK(req.ends_with("\r\n\r\n"));
  FUZZ_CHECK(req.find("\r\n\r\n") == req.size() - 4);
  for (const char* h :
       {"\r\nHost: example.com\r\n", "\r\nUpgrade: websocket\r\n", "\r\nConnection: Upgrade\r\n",
        "\r\nSec-WebSocket-Version: 13\r\n", "\r\nSec-WebSocket-Protocol: a, b\r\n"})
    FUZZ_CHECK(req.find(h) != std::string::npos);
  return wsx::fuzz::request_key(req);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const auto s0 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s1 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s2 = fdp.ConsumeIntegral<std::uint8_t>();
  const bool built = ((s0 >> 4) & 3) != 0;
  const bool time_out_at_end = (s2 & 1) != 0;
  wsx::config cfg;
  cfg.delivery = (s0 & 1) ? wsx::delivery::whole_messages : wsx::delivery::chunks;
  if (!built) cfg.max_header_bytes = header_limits[(s0 >> 1) & 3];
  const bool eof_at_end = (s0 & 8) != 0;
  cfg.max_frame_payload = frame_limits[s0 >> 6];
  cfg.max_message_size = cfg.max_frame_payload == 0 ? 300 : cfg.max_frame_payload * 2;

  const wsx::time_point now{std::chrono::hours(1)};
  wsx::connection c{wsx::role::client, cfg, now};
  session_checker chk{wsx::role::client, cfg};
  wsx::client_options opts;
  opts.host = "example.com";
  opts.target = "/chat";
  opts.subprotocols = {"a", "b"};

  // Misuse before and around connect() changes nothing.
  FUZZ_CHECK(c.send_text("early", now) == wsx::errc::invalid_state);
  FUZZ_CHECK(c.close(wsx::close_code::normal, "", now) == wsx::errc::invalid_state);
  FUZZ_CHECK(c.accept({}, now) == wsx::errc::invalid_state);
  FUZZ_CHECK(c.reject(400, "no", now) == wsx::errc::invalid_state);
  for (const auto& bad : {wsx::client_options{"", "/", "", {}, {}},
                          wsx::client_options{"a\r\nInjected: yes", "/", "", {}, {}},
                          wsx::client_options{"a", "no-slash", "", {}, {}},
                          wsx::client_options{"a", "/", "o\n", {}, {}},
                          wsx::client_options{"a", "/", "", {"a b"}, {}},
                          wsx::client_options{"a", "/", "", {}, {{"X", "1\r\n"}}}})
    FUZZ_CHECK(c.connect(bad, now) == wsx::errc::invalid_argument);
  FUZZ_CHECK(c.buffered_amount() == 0);
  FUZZ_CHECK(!c.connect(opts, now));
  FUZZ_CHECK(c.connect(opts, now) == wsx::errc::invalid_state);
  const std::string key = check_request(c);
  chk.drain(c);

  const auto feed = [&](wsx::bytes_view chunk) {
    if (trace) std::fprintf(stderr, "receive %zu\n", chunk.size());
    const auto ec = c.receive(chunk, now);
    chk.drain(c);
    if (ec) FUZZ_CHECK(chk.closed_seen);  // receive() reports an error only once failed
    chk.consume_share(c, fdp.ConsumeIntegral<std::uint8_t>(), now);
  };

  if (built) {
    const built_response r = build_response(key, s1);
    if (trace) std::fprintf(stderr, "response:\n%s", r.text.c_str());
    const wsx::bytes_view all = wsx::as_bytes(r.text);
    for (std::size_t pos = 0; pos < all.size();) {
      const auto n = std::min(fdp.ConsumeIntegralInRange<std::size_t>(1, 256), all.size() - pos);
      feed(all.subspan(pos, n));
      pos += n;
    }
    if (r.expected_error == wsx::errc{}) {
      FUZZ_CHECK(chk.opened_seen && chk.opened_subprotocol == r.expected_subprotocol);
      FUZZ_CHECK(c.state() == wsx::connection_state::open);
    } else {
      FUZZ_CHECK(chk.rejected_seen && chk.rejected_ec == r.expected_error);
      FUZZ_CHECK(chk.rejected_status == 101 && chk.closed_seen);
    }
  }
  while (fdp.remaining_bytes() > 0) {
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(1, 256);
    const auto bytes = fdp.ConsumeBytes<std::uint8_t>(n);
    feed({reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()});
  }
  wsx::time_point end = now;
  if (time_out_at_end) {
    end = now + cfg.handshake_timeout;
    chk.fire_due(c, end);
  }
  if (eof_at_end) chk.receive_eof(c, end);
  FUZZ_CHECK(c.connect(opts, end) == wsx::errc::invalid_state);
  chk.finish(c);
  return 0;
}
