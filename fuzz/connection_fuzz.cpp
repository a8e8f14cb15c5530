// Fuzzes an open wsx::connection through its whole API. A server (fixed valid request, accept())
// or a client (connect(), then a correct 101 built from its key) gets provider-chosen small limits,
// delivery mode and short deadlines; then the provider drives actions: receive a synthesized frame
// (mostly valid; wrong masking, RSV bits, reserved opcodes, lying lengths) whole or split, receive
// raw bytes, send, ping, pong, close (any code and reason), consume output, advance the fake clock
// and fire due deadlines, receive_eof, shrink_to_fit, misuse. Events are drained after each call.
// Checked: session_checker's rules (see session_checker.hpp), the documented result of every
// call, send() failing with invalid_state after close(), output ranges left in place by
// send/ping/pong/close, and no deadline still due after on_timer(now).
// WSX_FUZZ_TRACE=1 prints the actions and events when replaying an input.
#include <fuzzer/FuzzedDataProvider.h>

#include <algorithm>
#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <vector>

#include "detail/close_rules.hpp"
#include "detail/handshake.hpp"
#include "peer_frame.hpp"
#include "session_checker.hpp"
#include "wsx/connection.hpp"

namespace {

using wsx::fuzz::close_codes;
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
constexpr std::string_view fixed_key = "dGhlIHNhbXBsZSBub25jZQ==";
constexpr std::string_view fixed_request =
    "GET /chat?room=1 HTTP/1.1\r\nHost: example.com\r\nUpgrade: websocket\r\n"
    "Connection: Upgrade\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n"
    "Sec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: chat, superchat\r\n\r\n";

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
  // send()/ping()/pong()/close() only append: the exposed bytes are untouched.
  void check_unmoved() const {
    for (const auto& r : ranges) {
      FUZZ_CHECK(std::memcmp(r.data, r.head.data(), r.head.size()) == 0);
      FUZZ_CHECK(std::memcmp(r.data + r.size - r.tail.size(), r.tail.data(), r.tail.size()) == 0);
    }
  }
};

class driver {
 public:
  driver(FuzzedDataProvider& fdp, wsx::role r, const wsx::config& cfg)
      : fdp_(fdp), role_(r), cfg_(cfg), c_(r, cfg, now_), chk_(r, cfg) {
    chk_.pongs_match_pings = false;  // the application sends pongs of its own here
  }

  void open(bool offer_subprotocol) {
    if (role_ == wsx::role::server) {
      FUZZ_CHECK(!c_.receive(wsx::as_bytes(fixed_request), now_));
      chk_.expected_accept = wsx::detail::accept_key(fixed_key);
      drain_accepting(offer_subprotocol);
    } else {
      wsx::client_options opts;
      opts.host = "example.com";
      opts.subprotocols = {"chat"};
      FUZZ_CHECK(!c_.connect(opts, now_));
      const std::string key = wsx::fuzz::request_key(wsx::fuzz::pending_text(c_));
      std::string resp =
          "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
          "Connection: Upgrade\r\nSec-WebSocket-Accept: " +
          wsx::detail::accept_key(key) + "\r\n";
      if (offer_subprotocol) resp += "Sec-WebSocket-Protocol: chat\r\n";
      resp += "\r\n";
      FUZZ_CHECK(!c_.receive(wsx::as_bytes(resp), now_));
      drain_accepting(false);
    }
    FUZZ_CHECK(chk_.opened_seen && c_.state() == wsx::connection_state::open);
  }

  void step() {
    const auto action = fdp_.ConsumeIntegralInRange<std::uint8_t>(0, 15);
    if (trace) std::fprintf(stderr, "action %u (t=%lld ms)\n", action, ms_since_start());
    switch (action) {
      case 0:
      case 1:
      case 2:
      case 3:
      case 4:
      case 15:
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
        chk_.consume_share(c_, fdp_.ConsumeIntegral<std::uint8_t>(), now_);
        break;
      case 11:
        advance_clock();
        break;
      case 12:
        chk_.receive_eof(c_, now_);
        break;
      case 13:
        c_.shrink_to_fit();
        drain();
        break;
      case 14:
        misuse();
        break;
    }
  }

  void finish() { chk_.finish(c_); }

 private:
  long long ms_since_start() const {
    return std::chrono::duration_cast<milliseconds>(now_ - start_).count();
  }

  void drain() { chk_.drain(c_); }

  void drain_accepting(bool offer_subprotocol) {
    chk_.drain(c_, [&](const wsx::upgrade_request& req) {
      FUZZ_CHECK(req.path == "/chat" && req.query == "room=1");
      FUZZ_CHECK(req.subprotocols.size() == 2 && req.subprotocols[0] == "chat");
      chk_.note_accepted();
      FUZZ_CHECK(!c_.accept({offer_subprotocol ? "chat" : "", {}}, now_));
    });
  }

  void receive(wsx::bytes_view bytes) {
    if (trace) std::fprintf(stderr, "  receive %zu\n", bytes.size());
    const auto ec = c_.receive(bytes, now_);
    drain();
    if (ec) FUZZ_CHECK(chk_.closed_seen);
  }

  void receive_frame() {
    const auto f = wsx::fuzz::synthesize_frame(fdp_, role_);
    const std::size_t split = fdp_.ConsumeIntegral<std::uint8_t>();
    if (split == 0 || split >= f.size()) {
      receive(f);
    } else {
      receive(std::span(f).first(split));
      receive(std::span(f).subspan(split));
    }
  }

  void receive_raw() {
    const auto n = fdp_.ConsumeIntegralInRange<std::size_t>(0, 64);
    const auto bytes = to_bytes(fdp_.ConsumeBytes<std::uint8_t>(n));
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
      FUZZ_CHECK(c_.buffered_amount() >= before + payload.size() + 2);
      FUZZ_CHECK(c_.buffered_amount() <= cfg_.max_buffered_output);
      sending_message_ = !fin;
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
    FUZZ_CHECK(c_.accept({}, now_) == wsx::errc::invalid_state);
    FUZZ_CHECK(c_.reject(400, "no", now_) == wsx::errc::invalid_state);
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
};

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const auto s0 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s1 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s2 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s3 = fdp.ConsumeIntegral<std::uint8_t>();
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

  driver d{fdp, r, cfg};
  d.open(offer_subprotocol);
  while (fdp.remaining_bytes() > 0) d.step();
  d.finish();
  return 0;
}
