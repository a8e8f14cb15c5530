// Fuzzes a wsx::connection through its whole API. A server (fixed valid request, accept()) or a
// client (connect(), then a correct 101 built from its key) gets provider-chosen small limits,
// delivery mode, config::plain_http and short deadlines; a server may instead start unanswered
// and take its request from the action stream. Then the provider drives actions: receive a
// synthesized frame (mostly valid; wrong masking, RSV bits, reserved opcodes, lying lengths) whole
// or split, receive raw bytes, receive a synthesized request (upgrade, plain GET, near misses;
// peer_request.hpp), accept/reject/respond() with any status, headers and body (app_answer.hpp),
// send, send_shared (new or reused shared_message, our handle kept or dropped), ping, pong, close
// (any code and reason), consume output, advance the fake clock and fire due deadlines,
// receive_eof, shrink_to_fit, state queries, misuse. Events are drained after each call.
// Checked: session_checker's rules (see session_checker.hpp), the documented result of every
// call, a whole request's documented outcome (upgrade_request, http_request with plain_http, the
// core's refusal), send() failing with invalid_state after close(), output ranges left in place
// by send/send_shared/ping/pong/close/respond and untouched by shrink_to_fit, send_shared()
// queueing the message's own bytes (no copy, one more owner), a closed connection after
// respond(), and no deadline still due after on_timer(now).
// With permessage-deflate (config::deflate, one more config byte): the server's request offers it
// in one of several forms and the client's 101 answers its offer in one of several valid forms;
// the peer then also sends messages compressed by zlib (peer_deflate.hpp), whole or fragmented,
// sometimes with a corrupted byte, and a message compressed with the context both sides hold must
// arrive as sent. Every run (with or without deflate) checks that the data messages in the output,
// inflated by the peer's own zlib stream with the agreed window and context rules, are the ones
// send()/send_shared() took, in order.
// WSX_FUZZ_TRACE=1 prints the actions and events when replaying an input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "app_answer.hpp"
#include "detail/close_rules.hpp"
#include "detail/handshake.hpp"
#include "detail/output_queue.hpp"
#include "peer_deflate.hpp"
#include "peer_frame.hpp"
#include "peer_request.hpp"
#include "session_checker.hpp"
#include "wsx/connection.hpp"
#include "wsx/shared_message.hpp"

namespace {

using wsx::fuzz::close_codes;
using wsx::fuzz::pending_text;
using wsx::fuzz::request_outcome;
using wsx::fuzz::session_checker;
using wsx::fuzz::text_of;
using wsx::fuzz::to_bytes;
using wsx::fuzz::trace;

using std::chrono::milliseconds;
using std::chrono::seconds;

constexpr std::array<std::size_t, 4> frame_limits{16 * 1024 * 1024, 0, 125, 1000};
constexpr std::array<std::size_t, 4> message_limits{16 * 1024 * 1024, 10, 300, 4096};
constexpr std::array<std::size_t, 4> fragment_limits{128 * 1024, 1, 2, 8};
constexpr std::array<std::size_t, 4> output_limits{64 * 1024 * 1024, 64, 300, 40000};
constexpr std::array<std::size_t, 4> auto_fragment_sizes{0, 1, 7, 100};
constexpr std::array<wsx::duration, 4> ping_intervals{wsx::duration::zero(), seconds(30),
                                                      milliseconds(5), milliseconds(50)};
constexpr std::array<wsx::duration, 4> pong_timeouts{wsx::duration::zero(), seconds(10),
                                                     milliseconds(3), milliseconds(40)};
constexpr std::array<wsx::duration, 4> idle_timeouts{wsx::duration::zero(), seconds(1),
                                                     milliseconds(20), milliseconds(200)};
constexpr std::array<wsx::duration, 4> write_timeouts{wsx::duration::zero(), seconds(30),
                                                      milliseconds(10), milliseconds(100)};
constexpr std::array<wsx::duration, 4> close_timeouts{wsx::duration::zero(), seconds(5),
                                                      milliseconds(10), milliseconds(100)};
constexpr std::array<wsx::duration, 4> handshake_timeouts{seconds(10), wsx::duration::zero(),
                                                          milliseconds(15), milliseconds(300)};
constexpr std::array<std::size_t, 4> deflate_thresholds{64, 0, 1, 1000};
constexpr std::array<std::size_t, 4> deflate_budgets{128 * 1024, 320 * 1024, 64 * 1024, 32 * 1024};
// The server's offers (RFC 7692 §5): Firefox's, Chromium's, every parameter, one unknown offer
// first.
constexpr std::array<std::string_view, 4> deflate_offers{
    "permessage-deflate",
    "permessage-deflate; client_max_window_bits",
    "permessage-deflate; server_no_context_takeover; client_no_context_takeover; "
    "server_max_window_bits=10; client_max_window_bits=12",
    "x-webkit-deflate-frame, permessage-deflate; client_max_window_bits=9"};
// A reason with CR/LF: it must not end the refusal's body line early or forge a header.
constexpr std::string_view reject_reason = "no\r\nInjected: yes";

// The pending output's ranges and the bytes at both ends of each, to prove that a call left the
// exposed ranges where they were (ASan also reports any range whose block was freed).
struct output_snapshot {
  struct range {
    const std::byte* data;
    std::size_t size;
    std::string head;
    std::string tail;
  };
  static constexpr std::size_t edge = 32;
  std::vector<range> ranges;

  explicit output_snapshot(const wsx::connection& c) {
    for (const auto& r : c.pending_output()) {
      const std::size_t k = std::min(edge, r.size());
      ranges.push_back({r.data(), r.size(), text_of(r.first(k)), text_of(r.last(k))});
    }
  }
  // send()/send_shared()/ping()/pong()/close()/respond() only append: the exposed bytes are
  // untouched.
  void check_unmoved() const {
    for (const auto& r : ranges) {
      FUZZ_CHECK(std::memcmp(r.data, r.head.data(), r.head.size()) == 0);
      FUZZ_CHECK(std::memcmp(r.data + r.size - r.tail.size(), r.tail.data(), r.tail.size()) == 0);
    }
  }
};

// Which request the server application has to answer.
enum class waiting : std::uint8_t { none, upgrade, http };

class driver {
 public:
  driver(FuzzedDataProvider& fdp, wsx::role r, const wsx::config& cfg)
      : fdp_(fdp), role_(r), cfg_(cfg), c_(r, cfg, now_), chk_(r, cfg) {
    chk_.pongs_match_pings = false;  // the application sends pongs of its own here
  }

  // Opens the connection, or (a server with `by_actions`) leaves it waiting for its request.
  void open(bool offer_subprotocol, bool by_actions) {
    if (role_ == wsx::role::server && by_actions) return;
    if (role_ == wsx::role::server) {
      std::string request(wsx::fuzz::upgrade_request_text);
      if (cfg_.deflate.enabled) {
        const auto offer = deflate_offers[fdp_.ConsumeIntegral<std::uint8_t>() & 3];
        request.insert(request.size() - 2,
                       "Sec-WebSocket-Extensions: " + std::string(offer) + "\r\n");
      }
      FUZZ_CHECK(!c_.receive(wsx::as_bytes(request), now_));
      chk_.expected_accept = wsx::detail::accept_key(wsx::fuzz::upgrade_key);
      drain_accepting(offer_subprotocol);
    } else {
      wsx::client_options opts;
      opts.host = "example.com";
      opts.subprotocols = {"chat"};
      FUZZ_CHECK(!c_.connect(opts, now_));
      const std::string key = wsx::fuzz::request_key(pending_text(c_));
      std::string resp =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
          wsx::detail::accept_key(key) + "\r\n";
      if (offer_subprotocol) resp += "Sec-WebSocket-Protocol: chat\r\n";
      if (cfg_.deflate.enabled) resp += deflate_answer(pending_text(c_));
      resp += "\r\n";
      FUZZ_CHECK(!c_.receive(wsx::as_bytes(resp), now_));
      drain_accepting(false);
    }
    FUZZ_CHECK(chk_.opened_seen && c_.state() == wsx::connection_state::open);
    const auto& a = chk_.deflate;
    const wsx::role peer = role_ == wsx::role::server ? wsx::role::client : wsx::role::server;
    if (a.agreed && a.window(peer) >= 9)  // zlib compresses with no smaller window
      compressor_ = std::make_unique<wsx::fuzz::peer_deflate_stream>(true, a.window(peer),
                                                                     a.resets(peer));
  }

  // Actions 0-15 as in the first corpus; 16-31 the handshake from the action stream, plain HTTP,
  // shared messages and state queries.
  void step() {
    const auto action = fdp_.ConsumeIntegralInRange<std::uint8_t>(0, 31);
    if (trace) std::fprintf(stderr, "action %u (t=%lld ms)\n", action, ms_since_start());
    switch (action) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 15:
      case 24:
      case 25:
        receive_frame();
        break;
      case 5:
        receive_raw();
        break;
      case 6:
        do_send();
        break;
      case 7:
      case 8:
        do_ping_pong(action == 7);
        break;
      case 9:
        do_close();
        break;
      case 10:
      case 26:
        chk_.consume_share(c_, fdp_.ConsumeIntegral<std::uint8_t>(), now_);
        break;
      case 11:
      case 27:
        advance_clock();
        break;
      case 12:
        chk_.receive_eof(c_, now_);
        break;
      case 13:
        shrink();
        break;
      case 14:
        misuse();
        break;
      case 16:
      case 17:
        receive_request();
        break;
      case 18:
      case 28:
        answer_upgrade();
        break;
      case 19:
      case 20:
      case 29:
        do_respond();
        break;
      case 21:
      case 22:
      case 30:
        do_send_shared();
        break;
      case 23:
      case 31:
        query();
        break;
    }
    if (chk_.closed_seen) waiting_ = waiting::none;
    check_request_outcome();
  }

  void finish() { chk_.finish(c_); }

 private:
  // Whether this side compresses what it sends (a window of 8 means it never does).
  bool we_compress() const { return chk_.deflate.agreed && chk_.deflate.window(role_) >= 9; }

  long long ms_since_start() const {
    return std::chrono::duration_cast<milliseconds>(now_ - start_).count();
  }

  void drain() {
    chk_.drain(
        c_, [&](const wsx::upgrade_request&) { waiting_ = waiting::upgrade; },
        [&](const wsx::http_request& req) {
          waiting_ = waiting::http;
          http_request_ = req;
        });
  }

  void drain_accepting(bool offer_subprotocol) {
    chk_.drain(c_, [&](const wsx::upgrade_request& req) {
      FUZZ_CHECK(req.path == "/chat" && req.query == "room=1");
      FUZZ_CHECK(req.subprotocols.size() == 2 && req.subprotocols[0] == "chat");
      chk_.note_accepted();
      FUZZ_CHECK(!c_.accept({offer_subprotocol ? "chat" : "", {}}, now_));
    });
  }

  // receive(), or receive_in_place() from a heap buffer that release_input() gives back before
  // or after the events are drained and that is freed right then: a span still pointing into
  // it is a use-after-free under AddressSanitizer.
  void receive(wsx::bytes_view bytes) {
    const int how = fdp_.ConsumeIntegralInRange(0, 2);
    if (trace) std::fprintf(stderr, "  receive %zu (%d)\n", bytes.size(), how);
    if (reading_request()) connecting_input_ += wsx::as_string(bytes);
    std::error_code ec;
    if (how == 0) {
      ec = c_.receive(bytes, now_);
    } else {
      auto buffer = std::make_unique<std::vector<std::byte>>(bytes.begin(), bytes.end());
      ec = c_.receive_in_place(*buffer, now_);
      if (how == 1) drain();
      c_.release_input();
      buffer.reset();
    }
    drain();
    if (ec) FUZZ_CHECK(chk_.closed_seen);
  }

  // A server's valid answer to the client's offer (the request head), from one provider byte:
  // bit 0 decline, bit 1 server_no_context_takeover, bit 2 client_no_context_takeover, bit 3 a
  // server_max_window_bits (never above one the offer asked for), bits 4-5 a client window when
  // the offer allows one (8 included: the client then sends uncompressed), bits 6-7 the windows.
  std::string deflate_answer(std::string_view request) {
    const auto bits = fdp_.ConsumeIntegral<std::uint8_t>();
    const std::string offer = wsx::fuzz::header_value(request, "Sec-WebSocket-Extensions");
    FUZZ_CHECK(offer.starts_with("permessage-deflate"));
    if (bits & 1) return {};
    const auto offered = wsx::fuzz::parse_agreement(offer);
    std::string a = "Sec-WebSocket-Extensions: permessage-deflate";
    if ((bits & 2) || offered.server_no_context_takeover) a += "; server_no_context_takeover";
    if (bits & 4) a += "; client_no_context_takeover";
    const unsigned server_bits = 9 + ((bits >> 6) & 3) * 2;  // 9, 11, 13, 15
    if (offer.find("server_max_window_bits") != std::string::npos) {
      a += "; server_max_window_bits=" +
           std::to_string(std::min(server_bits, offered.server_max_window_bits));
    } else if (bits & 8) {
      a += "; server_max_window_bits=" + std::to_string(server_bits);
    }
    if (((bits >> 4) & 3) != 0 && offer.find("client_max_window_bits") != std::string::npos) {
      constexpr std::array<unsigned, 3> client_bits{8, 12, 15};
      a += "; client_max_window_bits=" + std::to_string(client_bits[((bits >> 4) & 3) - 1]);
    }
    return a + "\r\n";
  }

  // A data message as the peer sends it with permessage-deflate: compressed by the peer's own
  // stream, cut into 1-3 frames (RSV1 on the first only), masked toward a server. Provider bytes:
  // flags (bit 0 binary, bits 1-2 frames, bit 3 corrupt a byte, bits 4-7 where), the payload as
  // for send(), the mask key. Whole and uncorrupted, it must arrive as sent whenever both sides'
  // contexts still agree (peer_stream_clean_).
  void receive_compressed() {
    const auto flags = fdp_.ConsumeIntegral<std::uint8_t>();
    const bool binary = (flags & 1) != 0;
    std::string payload = data_payload();
    if (binary && !payload.empty()) payload[0] = static_cast<char>(0xFF);  // not text
    std::string body = compressor_->compress(payload);
    const bool corrupt = (flags & 8) != 0 && !body.empty();
    if (corrupt) {
      body[(flags >> 4) % body.size()] ^= 0x55;
      peer_stream_clean_ = false;
    }
    const std::size_t frames = std::min<std::size_t>(1 + ((flags >> 1) & 3) % 3, body.size() + 1);
    const auto key = fdp_.ConsumeIntegral<std::uint32_t>();
    std::vector<std::byte> wire;
    for (std::size_t i = 0, at = 0; i < frames; ++i) {
      const std::size_t n = i + 1 == frames ? body.size() - at : body.size() / frames;
      const std::uint8_t op = i != 0 ? 0x0 : binary ? 0x2 : 0x1;
      wire.push_back(std::byte((i + 1 == frames ? 0x80 : 0) | (i == 0 ? 0x40 : 0) | op));
      append_length(wire, n, role_ == wsx::role::server);
      const std::size_t payload_at = wire.size() + (role_ == wsx::role::server ? 4 : 0);
      if (role_ == wsx::role::server)
        for (int b = 0; b < 4; ++b) wire.push_back(std::byte(key >> (8 * b)));
      for (std::size_t k = 0; k < n; ++k) wire.push_back(std::byte(body[at + k]));
      if (role_ == wsx::role::server)
        for (std::size_t k = 0; k < n; ++k) wire[payload_at + k] ^= std::byte(key >> (8 * (k % 4)));
      at += n;
    }
    const std::size_t logged = chk_.log.size();
    const bool could_arrive = peer_stream_clean_ && !corrupt &&
                              c_.state() == wsx::connection_state::open && !chk_.close_received_seen;
    receive(wire);
    if (trace) std::fprintf(stderr, "  compressed %zu -> %zu bytes, %zu frames\n", payload.size(),
                            body.size(), frames);
    // A message that arrived is exactly the one sent (it may not arrive: a limit, a message of
    // the peer's still open, the connection closing).
    if (could_arrive && chk_.log.size() > logged) {
      const std::string& first = chk_.log[logged];
      if (first.starts_with("text ") || first.starts_with("binary "))
        FUZZ_CHECK(first == (binary ? "binary " : "text ") + payload);
    }
  }

  static void append_length(std::vector<std::byte>& f, std::size_t n, bool masked) {
    const std::byte mask_bit{masked ? std::uint8_t{0x80} : std::uint8_t{0}};
    if (n < 126) {
      f.push_back(mask_bit | std::byte(n));
    } else if (n <= 0xFFFF) {
      f.push_back(mask_bit | std::byte{126});
      f.push_back(std::byte(n >> 8));
      f.push_back(std::byte(n & 0xFF));
    } else {
      f.push_back(mask_bit | std::byte{127});
      for (int shift = 56; shift >= 0; shift -= 8) f.push_back(std::byte(n >> shift));
    }
  }

  void receive_frame() {
    if (compressor_ && (fdp_.ConsumeIntegral<std::uint8_t>() & 1)) {
      receive_compressed();
      return;
    }
    // A synthesized frame may leave a frame or message open, or carry RSV1 with any payload:
    // from here on a compressed message need not arrive as the peer sent it.
    peer_stream_clean_ = false;
    const auto f = wsx::fuzz::synthesize_frame(fdp_, role_);
    const std::size_t split = fdp_.ConsumeIntegral<std::uint8_t>();
    if (split == 0 || split >= f.size()) {
      receive(f);
    } else {
      receive(std::span(f).first(split));
      receive(std::span(f).subspan(split));
    }
  }

  // A server still reading its request (nothing answered, nothing refused).
  bool reading_request() const {
    return role_ == wsx::role::server && c_.state() == wsx::connection_state::connecting &&
           !chk_.upgrade_seen && !chk_.http_request_seen && !chk_.closed_seen;
  }

  // A synthesized request (server), whole or split; a frame for a client.
  void receive_request() {
    if (role_ == wsx::role::client) {
      receive_frame();
      return;
    }
    const auto r = wsx::fuzz::synthesize_request(fdp_);
    if (!first_request_) first_request_ = r;
    const std::size_t split = fdp_.ConsumeIntegral<std::uint8_t>();
    const auto bytes = wsx::as_bytes(r.bytes);
    if (split == 0 || split >= bytes.size()) {
      receive(bytes);
    } else {
      receive(bytes.first(split));
      receive(bytes.subspan(split));
    }
  }

  // Once the server has stopped reading its request, a first request that arrived whole and
  // before anything else must have had its documented outcome (peer_request.hpp).
  void check_request_outcome() {
    if (request_checked_ || !first_request_ || reading_request()) return;
    request_checked_ = true;
    const auto& r = *first_request_;
    if (!connecting_input_.starts_with(r.bytes)) return;  // cut short or behind other bytes
    const request_outcome outcome = cfg_.plain_http ? r.outcome_plain_http : r.outcome;
    if (trace) std::fprintf(stderr, "  request outcome %d\n", static_cast<int>(outcome));
    const auto refused = [&](wsx::errc ec, int status) {
      FUZZ_CHECK(chk_.rejected_seen && chk_.rejected_ec == ec && chk_.rejected_status == status);
    };
    switch (outcome) {
      case request_outcome::upgrade:
        FUZZ_CHECK(chk_.upgrade_seen);
        break;
      case request_outcome::plain:
        FUZZ_CHECK(chk_.http_request_seen && http_request_.target == r.target);
        FUZZ_CHECK(http_request_.header("Host") == "example.com");
        break;
      case request_outcome::missing_upgrade:
        refused(wsx::errc::missing_upgrade, 426);
        break;
      case request_outcome::not_get:
        refused(wsx::errc::not_get, 405);
        break;
      case request_outcome::bad_http_version:
        refused(wsx::errc::bad_http_version, 400);
        break;
      case request_outcome::missing_host:
        refused(wsx::errc::missing_host, 400);
        break;
      case request_outcome::upgrade_with_body:
        refused(wsx::errc::upgrade_with_body, 400);
        break;
    }
  }

  void receive_raw() {
    const auto n = fdp_.ConsumeIntegralInRange<std::size_t>(0, 64);
    const auto bytes = to_bytes(fdp_.ConsumeBytes<std::uint8_t>(n));
    peer_stream_clean_ = false;
    receive(bytes);
  }

  // Payload for send(): ASCII, so that text stays valid UTF-8 however it is fragmented; a
  // selector past 239 asks for a large filled payload (several output blocks, output_limit),
  // smaller under tiny auto_fragment_size so that one send stays a few thousand frames.
  std::string data_payload() {
    const auto sel = fdp_.ConsumeIntegral<std::uint8_t>();
    const bool tiny_frames = cfg_.auto_fragment_size != 0 && cfg_.auto_fragment_size < 100;
    const std::size_t unit = tiny_frames ? 150 : 1700;
    if (sel >= 240) return std::string(static_cast<std::size_t>(sel - 239) * unit, 'x');
    std::string s = fdp_.ConsumeBytesAsString(sel);
    for (char& ch : s) ch = static_cast<char>(ch & 0x7F);
    return s;
  }

  void do_send() {
    const auto flags = fdp_.ConsumeIntegral<std::uint8_t>();
    const wsx::opcode op = (flags & 3) == 0   ? wsx::opcode::text
                           : (flags & 3) == 1 ? wsx::opcode::binary
                           : (flags & 3) == 2 ? wsx::opcode::continuation
                                              : wsx::opcode::ping;
    const bool fin = (flags & 4) == 0;
    const std::string payload = data_payload();
    if (trace)
      std::fprintf(stderr, "  send op=%d fin=%d %zu bytes\n", static_cast<int>(op), fin,
                   payload.size());
    const output_snapshot snap{c_};
    const std::size_t before = c_.buffered_amount();
    const bool open = c_.state() == wsx::connection_state::open;
    const auto ec = c_.send(op, wsx::as_bytes(payload), fin, now_);
    snap.check_unmoved();
    if (ec) FUZZ_CHECK(c_.buffered_amount() == before);  // "Nothing is queued on error"
    if (op == wsx::opcode::ping) {
      FUZZ_CHECK(ec == wsx::errc::invalid_argument || (!open && ec == wsx::errc::invalid_state));
    } else if (close_called_ || !open) {
      FUZZ_CHECK(ec == wsx::errc::invalid_state);
    } else if ((op == wsx::opcode::continuation) != sending_message_) {
      FUZZ_CHECK(ec == wsx::errc::invalid_state);  // RFC 6455 §5.4 fragmentation sequence
    } else if (ec) {
      FUZZ_CHECK(ec == wsx::errc::output_limit);
    } else {
      // Compressed, a message may take fewer bytes than its payload.
      const std::size_t least = we_compress() ? 2 : payload.size() + 2;
      FUZZ_CHECK(c_.buffered_amount() >= before + least);
      FUZZ_CHECK(c_.buffered_amount() <= cfg_.max_buffered_output);
      sending_message_ = !fin;
      chk_.note_sent(op, payload, fin);
    }
    drain();
  }

  void do_ping_pong(bool is_ping) {
    const auto n = fdp_.ConsumeIntegralInRange<std::size_t>(0, 130);
    const std::string payload = fdp_.ConsumeBytesAsString(n);
    const output_snapshot snap{c_};
    const std::size_t before = c_.buffered_amount();
    const bool open = c_.state() == wsx::connection_state::open;
    const auto ec =
        is_ping ? c_.ping(wsx::as_bytes(payload), now_) : c_.pong(wsx::as_bytes(payload), now_);
    snap.check_unmoved();
    if (ec) FUZZ_CHECK(c_.buffered_amount() == before);
    if (payload.size() > 125) {
      FUZZ_CHECK(ec == wsx::errc::invalid_argument || (!open && ec == wsx::errc::invalid_state));
    } else if (close_called_ || !open) {
      FUZZ_CHECK(ec == wsx::errc::invalid_state);
    } else if (ec) {
      FUZZ_CHECK(ec == wsx::errc::output_limit);
    } else {
      FUZZ_CHECK(c_.buffered_amount() >= before + payload.size() + 2);
      FUZZ_CHECK(c_.buffered_amount() <= cfg_.max_buffered_output);
    }
    drain();
  }

  void do_close() {
    const auto sel = fdp_.ConsumeIntegral<std::uint8_t>();
    const auto code = static_cast<wsx::close_code>(close_codes[sel & 15]);
    const auto n = fdp_.ConsumeIntegralInRange<std::size_t>(0, 130);
    std::string reason = fdp_.ConsumeBytesAsString(n);
    if ((sel & 0x10) == 0)
      for (char& ch : reason) ch = static_cast<char>(ch & 0x7F);
    const bool valid = wsx::detail::check_close_request(code, reason) == wsx::errc{};
    if (trace) std::fprintf(stderr, "  close %u valid=%d\n", static_cast<unsigned>(code), valid);
    const output_snapshot snap{c_};
    const std::size_t before = c_.buffered_amount();
    const bool open = c_.state() == wsx::connection_state::open;
    const auto ec = c_.close(code, reason, now_);
    snap.check_unmoved();
    if (ec) FUZZ_CHECK(c_.buffered_amount() == before);
    if (!open) {
      FUZZ_CHECK(ec == wsx::errc::invalid_state || (!valid && ec == wsx::errc::invalid_argument));
    } else if (!valid) {
      FUZZ_CHECK(ec == wsx::errc::invalid_argument);
    } else {
      // Control replies and close frames are not subject to max_buffered_output.
      FUZZ_CHECK(!ec);
      FUZZ_CHECK(c_.state() == wsx::connection_state::closing);
      FUZZ_CHECK(c_.buffered_amount() >= before + 2 + reason.size() + 2);
      close_called_ = true;
    }
    if (close_called_) FUZZ_CHECK(c_.send_text("after close", now_) == wsx::errc::invalid_state);
    drain();
  }

  // accept() or reject() from one provider byte: bit 0 reject; bits 1-2 subprotocol (none, "chat",
  // "superchat", one never offered); bit 3 first a header with CR/LF; bits 4-6 reject status; then
  // reject()'s headers.
  void answer_upgrade() {
    const auto bits = fdp_.ConsumeIntegral<std::uint8_t>();
    const bool do_accept = (bits & 1) == 0;
    const std::size_t before = c_.buffered_amount();
    const wsx::header_field bad{"X-Fuzz", "1\r\nInjected: yes"};
    if (trace) std::fprintf(stderr, "  answer %02x waiting=%d\n", bits, static_cast<int>(waiting_));
    if (waiting_ != waiting::upgrade) {
      // accept() needs an upgrade_request; reject() takes an http_request too.
      FUZZ_CHECK(c_.accept({}, now_) == wsx::errc::invalid_state);
      if (waiting_ == waiting::none)
        FUZZ_CHECK(c_.reject(403, "no", now_) == wsx::errc::invalid_state);
      if (do_accept || waiting_ == waiting::none) {
        FUZZ_CHECK(c_.buffered_amount() == before);
        drain();
        return;
      }
    }
    if (bits & 8) {
      const auto ec =
          do_accept ? c_.accept({"", {bad}}, now_) : c_.reject(400, "x", now_, {&bad, 1});
      FUZZ_CHECK(ec == wsx::errc::invalid_argument);
      FUZZ_CHECK(c_.buffered_amount() == before && c_.state() == wsx::connection_state::connecting);
    }
    if (do_accept) {
      constexpr std::array<std::string_view, 4> picks{"", "chat", "superchat", "not-offered"};
      wsx::accept_options opts{std::string(picks[(bits >> 1) & 3]), {{"X-Fuzz", "1"}}};
      if (opts.subprotocol == "not-offered") {
        FUZZ_CHECK(c_.accept(opts, now_) == wsx::errc::invalid_argument);
        FUZZ_CHECK(c_.buffered_amount() == before);
        opts.subprotocol.clear();
      }
      chk_.expected_accept = wsx::detail::accept_key(wsx::fuzz::upgrade_key);
      chk_.note_accepted();
      FUZZ_CHECK(!c_.accept(opts, now_));
      FUZZ_CHECK(c_.state() == wsx::connection_state::open);
      FUZZ_CHECK(c_.accept(opts, now_) == wsx::errc::invalid_state);  // answered already
    } else {
      const int status = wsx::fuzz::reject_statuses[(bits >> 4) & 7];
      const auto headers = wsx::fuzz::synthesize_headers(fdp_);
      const bool valid =
          wsx::fuzz::valid_reject_status(status) && wsx::fuzz::valid_headers(headers);
      const bool strict = valid && wsx::fuzz::strict_refusal(0, headers, {});
      const auto ec = c_.reject(status, reject_reason, now_, headers);
      if (!valid || (strict && ec == wsx::errc::invalid_argument)) {
        FUZZ_CHECK(ec == wsx::errc::invalid_argument);
        FUZZ_CHECK(c_.buffered_amount() == before &&
                   c_.state() == wsx::connection_state::connecting);
        FUZZ_CHECK(!c_.reject(400, reject_reason, now_));
      } else {
        FUZZ_CHECK(!ec);
      }
      FUZZ_CHECK(c_.state() == wsx::connection_state::closed);
      FUZZ_CHECK(c_.reject(400, "again", now_) == wsx::errc::invalid_state);
    }
    waiting_ = waiting::none;
    drain();
  }

  // respond() with any status, headers and body, waiting for an http_request or not.
  void do_respond() {
    const int status = wsx::fuzz::respond_statuses[fdp_.ConsumeIntegral<std::uint8_t>() & 15];
    const auto headers = wsx::fuzz::synthesize_headers(fdp_);
    const std::string body = wsx::fuzz::synthesize_body(fdp_);
    const bool valid = wsx::fuzz::valid_respond_status(status) && wsx::fuzz::valid_headers(headers);
    const bool strict = valid && wsx::fuzz::strict_refusal(status, headers, body);
    if (trace)
      std::fprintf(stderr, "  respond %d, %zu headers, %zu bytes, valid=%d strict=%d waiting=%d\n",
                   status, headers.size(), body.size(), valid, strict, static_cast<int>(waiting_));
    const output_snapshot snap{c_};
    const std::size_t before = c_.buffered_amount();
    const auto state = c_.state();
    const auto ec = c_.respond(status, headers, body, now_);
    snap.check_unmoved();
    if (ec) FUZZ_CHECK(c_.buffered_amount() == before && c_.state() == state);
    if (waiting_ != waiting::http) {
      FUZZ_CHECK(ec == wsx::errc::invalid_state || (!valid && ec == wsx::errc::invalid_argument));
    } else if (!valid || (strict && ec == wsx::errc::invalid_argument)) {
      FUZZ_CHECK(ec == wsx::errc::invalid_argument);  // the request is still waiting
    } else {
      FUZZ_CHECK(!ec);
      FUZZ_CHECK(c_.buffered_amount() >= before + body.size());
      chk_.note_responded(status, headers, body);
      waiting_ = waiting::none;
    }
    drain();
    if (!ec) {
      // "the connection then ends (Connection: close) and the transport closes TCP once the
      // output is written"
      FUZZ_CHECK(chk_.closed_seen && c_.should_close_transport() && !c_.wants_read());
      FUZZ_CHECK(c_.respond(200, {}, "again", now_) == wsx::errc::invalid_state);
      FUZZ_CHECK(c_.accept({}, now_) == wsx::errc::invalid_state);
    }
  }

  // send_shared() from one provider byte: bit 0 a new message (bit 1 text, payload as for send())
  // rather than the last one; bit 2 an empty (default-constructed) message for this call; bit 3
  // drop our handle afterwards, so that only the output queue keeps the bytes alive; bit 4 queue
  // it twice.
  void do_send_shared() {
    const auto bits = fdp_.ConsumeIntegral<std::uint8_t>();
    if ((bits & 1) || shared_.empty()) {
      const auto kind = (bits & 2) ? wsx::message_kind::text : wsx::message_kind::binary;
      const std::string payload = data_payload();
      constexpr std::array<unsigned, 4> windows{15, 9, 12, 14};
      shared_ = (bits & 32) ? wsx::shared_message::make_compressed(kind, wsx::as_bytes(payload), 6,
                                                                   windows[bits >> 6])
                            : wsx::shared_message::make(kind, wsx::as_bytes(payload));
      shared_payload_ = payload;
      FUZZ_CHECK(shared_.payload_size() == payload.size() && shared_.kind() == kind);
      FUZZ_CHECK(shared_.wire().size() >= payload.size() + 2);
      FUZZ_CHECK(text_of(shared_.wire().last(payload.size())) == payload);
    }
    const wsx::shared_message msg = (bits & 4) ? wsx::shared_message{} : shared_;
    for (int i = 0; i < ((bits & 16) ? 2 : 1); ++i) send_shared_once(msg);
    if (bits & 8) shared_ = {};
  }

  void send_shared_once(const wsx::shared_message& msg) {
    // RFC 7692 §7.1.2: the compressed frame only for a peer reading a window at least as large
    // (and a message not under the threshold).
    const bool compressed = chk_.deflate.agreed && !msg.compressed_wire().empty() &&
                            msg.compressed_window_bits() <= chk_.deflate.server_max_window_bits &&
                            msg.payload_size() >= cfg_.deflate.threshold;
    const auto wire = compressed ? msg.compressed_wire() : msg.wire();
    const auto& owner = compressed ? msg.compressed_owner() : msg.owner();
    if (trace) std::fprintf(stderr, "  send_shared %zu bytes\n", wire.size());
    const output_snapshot snap{c_};
    const std::size_t before = c_.buffered_amount();
    const long owners = owner.use_count();
    const bool open = c_.state() == wsx::connection_state::open;
    const auto ec = c_.send_shared(msg, now_);
    snap.check_unmoved();
    if (ec) FUZZ_CHECK(c_.buffered_amount() == before && owner.use_count() == owners);
    if (role_ == wsx::role::client || close_called_ || !open || sending_message_) {
      // Clients need a fresh mask per frame; RFC 6455 §5.4: no message inside a fragmented one.
      FUZZ_CHECK(ec == wsx::errc::invalid_state);
    } else if (msg.empty()) {
      FUZZ_CHECK(ec == wsx::errc::invalid_argument);
    } else if (before + wire.size() > cfg_.max_buffered_output) {
      FUZZ_CHECK(ec == wsx::errc::output_limit);
    } else {
      FUZZ_CHECK(!ec);
      FUZZ_CHECK(c_.buffered_amount() == before + wire.size());
      FUZZ_CHECK(owner.use_count() == owners + 1);  // the queue holds the bytes...
      const auto v = c_.pending_output();
      if (v.size() < wsx::detail::output_queue::max_ranges) {  // ...and sends them, not a copy
        FUZZ_CHECK(v[v.size() - 1].data() == wire.data() && v[v.size() - 1].size() == wire.size());
      }
      chk_.note_shared(before, wire);
      chk_.note_sent(msg.kind() == wsx::message_kind::text ? wsx::opcode::text : wsx::opcode::binary,
                     shared_payload_, true);
    }
    drain();
  }

  // The state queries, which may be called at any point and must agree with each other.
  void query() {
    const auto state = c_.state();
    const bool closed = state == wsx::connection_state::closed;
    FUZZ_CHECK(c_.get_role() == role_);
    FUZZ_CHECK(c_.should_close_transport() == closed);
    FUZZ_CHECK(c_.wants_read() == !closed);  // receive_eof() always ends the connection here
    FUZZ_CHECK(c_.wants_write() == (c_.buffered_amount() != 0));
    FUZZ_CHECK(!c_.next_event());  // drained after every call: nothing new without input
    FUZZ_CHECK(c_.state() == state);
    if (role_ == wsx::role::server && state == wsx::connection_state::connecting)
      FUZZ_CHECK((waiting_ != waiting::none) == (chk_.upgrade_seen || chk_.http_request_seen));
  }

  // shrink_to_fit() frees spare memory only: the queued bytes, the state and the deadlines stay.
  void shrink() {
    const std::string out = pending_text(c_);
    const std::size_t before = c_.buffered_amount();
    const auto state = c_.state();
    const auto due = c_.next_deadline();
    c_.shrink_to_fit();
    FUZZ_CHECK(pending_text(c_) == out && c_.buffered_amount() == before);
    FUZZ_CHECK(c_.state() == state && c_.next_deadline() == due);
    drain();
  }

  void advance_clock() {
    const auto step = fdp_.ConsumeIntegralInRange<std::uint16_t>(0, 2000);
    const auto how = fdp_.ConsumeIntegral<std::uint8_t>();
    now_ += milliseconds(step);
    const auto due = c_.next_deadline();
    if ((how & 1) && due && *due > now_) now_ = *due;  // land exactly on the deadline
    if (trace) std::fprintf(stderr, "  clock +%u -> %lld ms\n", step, ms_since_start());
    if (chk_.fire_due(c_, now_) || (how & 2) == 0) return;
    // "Harmless when called early": nothing happens.
    const auto state = c_.state();
    const std::size_t before = c_.buffered_amount();
    c_.on_timer(now_);
    FUZZ_CHECK(c_.state() == state && c_.buffered_amount() == before);
    FUZZ_CHECK(c_.next_deadline() == due);
    const std::size_t events = chk_.log.size();
    drain();
    FUZZ_CHECK(chk_.log.size() == events);
  }

  void misuse() {
    const std::size_t before = c_.buffered_amount();
    if (waiting_ == waiting::none) {
      FUZZ_CHECK(c_.accept({}, now_) == wsx::errc::invalid_state);
      FUZZ_CHECK(c_.reject(400, "no", now_) == wsx::errc::invalid_state);
    }
    if (waiting_ != waiting::http)
      FUZZ_CHECK(c_.respond(200, {}, "", now_) == wsx::errc::invalid_state);
    FUZZ_CHECK(c_.connect({"example.com", "/", "", {}, {}}, now_) == wsx::errc::invalid_state);
    FUZZ_CHECK(c_.send(wsx::opcode::close, {}, true, now_) == wsx::errc::invalid_argument);
    FUZZ_CHECK(c_.send(wsx::opcode::pong, {}, true, now_) == wsx::errc::invalid_argument);
    const std::string big(126, 'p');
    FUZZ_CHECK(c_.ping(wsx::as_bytes(big), now_) != std::error_code{});
    c_.consume_output(0, now_);
    FUZZ_CHECK(c_.buffered_amount() == before);
    drain();
  }

  FuzzedDataProvider& fdp_;
  wsx::role role_;
  wsx::config cfg_;
  const wsx::time_point start_{std::chrono::hours(1)};
  wsx::time_point now_ = start_;
  wsx::connection c_;
  session_checker chk_;
  bool sending_message_ = false;
  bool close_called_ = false;
  waiting waiting_ = waiting::none;
  wsx::http_request http_request_;                        // the last one
  std::optional<wsx::fuzz::peer_request> first_request_;  // the first synthesized one
  std::string connecting_input_;  // every byte the server received while reading its request
  bool request_checked_ = false;
  wsx::shared_message shared_;
  std::string shared_payload_;  // shared_'s payload
  std::unique_ptr<wsx::fuzz::peer_deflate_stream> compressor_;  // the peer's, when it can compress
  // Everything the peer sent since the handshake was whole messages from receive_compressed():
  // the connection is between frames and its decompressor holds the peer compressor's context.
  bool peer_stream_clean_ = true;
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const auto s0 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s1 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s2 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s3 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s4 = fdp.ConsumeIntegral<std::uint8_t>();
  const wsx::role r = (s0 & 1) ? wsx::role::client : wsx::role::server;
  wsx::config cfg;
  cfg.delivery = (s0 & 2) ? wsx::delivery::whole_messages : wsx::delivery::chunks;
  cfg.max_frame_payload = frame_limits[(s0 >> 2) & 3];
  cfg.max_message_size = message_limits[(s0 >> 4) & 3];
  cfg.max_fragments_per_message = fragment_limits[s0 >> 6];
  cfg.max_buffered_output = output_limits[s1 & 3];
  cfg.auto_fragment_size = auto_fragment_sizes[(s1 >> 2) & 3];
  cfg.ping_interval = ping_intervals[s2 & 3];
  cfg.pong_timeout = pong_timeouts[(s2 >> 2) & 3];
  cfg.idle_timeout = idle_timeouts[(s2 >> 4) & 3];
  cfg.write_timeout = write_timeouts[s2 >> 6];
  cfg.close_timeout = close_timeouts[s3 & 3];
  const bool offer_subprotocol = (s3 & 4) != 0;
  cfg.plain_http = (s3 & 8) != 0;
  const bool handshake_by_actions = (s3 & 16) != 0;
  cfg.handshake_timeout = handshake_timeouts[(s3 >> 5) & 3];
  cfg.deflate.enabled = (s4 & 1) != 0;
  cfg.deflate.threshold = deflate_thresholds[(s4 >> 1) & 3];
  cfg.deflate.no_context_takeover = (s4 & 8) != 0;
  cfg.deflate.peer_no_context_takeover = (s4 & 16) != 0;
  cfg.deflate.memory_budget = deflate_budgets[(s4 >> 5) & 3];
  cfg.deflate.level = (s4 & 128) ? 1 : 6;

  driver d{fdp, r, cfg};
  d.open(offer_subprotocol, handshake_by_actions);
  while (fdp.remaining_bytes() > 0) d.step();
  d.finish();
  return 0;
}
