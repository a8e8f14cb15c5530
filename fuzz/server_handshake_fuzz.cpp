// Fuzzes a server wsx::connection from its first byte: the upgrade request, then frames, cut into
// chunks of random sizes by FuzzedDataProvider. After every receive() the events are drained; the
// upgrade_request is answered with accept() or reject() (after a misuse attempt when the provider
// says so) or left waiting while more bytes arrive; a random share of the output is consumed; at
// the end the handshake deadline may pass and EOF may come. session_checker (session_checker.hpp)
// enforces the connection's rules (one `closed` and nothing after it, state() == closed iff
// `closed` seen, pending_output() == buffered_amount(), event order, our output a valid HTTP answer
// plus unmasked frames with a pong per ping) and every documented outcome of accept()/reject() is
// checked. With config::plain_http (chosen by the input) a GET without Upgrade becomes an
// http_request, answered with respond(). A second connection then gets the same bytes in one piece
// and the same answer and must produce the same events and output bytes (chunking invariance).
// WSX_FUZZ_TRACE=1 prints the event log when replaying an input.
#include <fuzzer/FuzzedDataProvider.h>

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <optional>
#include <string_view>
#include <vector>

#include "detail/handshake.hpp"
#include "session_checker.hpp"
#include "wsx/connection.hpp"

namespace {

using wsx::fuzz::session_checker;
using wsx::fuzz::trace;

constexpr std::array<std::size_t, 4> header_limits{16 * 1024, 64, 200, 1024};
constexpr std::array<std::size_t, 4> frame_limits{16 * 1024 * 1024, 0, 125, 1000};
constexpr std::array<std::size_t, 4> message_limits{16 * 1024 * 1024, 10, 300, 4096};
constexpr std::array<std::size_t, 4> fragment_limits{128 * 1024, 1, 2, 8};
// 0 in the last slot: the application answers later (see answer::deferred).
constexpr std::array<int, 8> reject_statuses{400, 403, 418, 426, 500, 599, 399, 0};
// CR/LF in a reason must not end the status body's line early or forge a header.
constexpr std::string_view reject_reason = "no\r\nInjected: yes";

// How the application answers the upgrade request, from one provider byte:
// bit 0 accept/reject; bits 1-2 subprotocol (none, first offered, last offered, not offered);
// bit 3 an extra header; bit 4 first try a header with CR/LF; bits 5-7 reject status, where the
// last value means "not now": the request stays unanswered while more bytes arrive.
struct answer {
  std::uint8_t bits = 0;
  bool deferred() const { return (bits & 1) != 0 && reject_statuses[bits >> 5] == 0; }
};

// Applies `a` to `c`, checking every documented outcome of accept()/reject().
void apply_answer(wsx::connection& c, session_checker& chk, const wsx::upgrade_request& req,
                  answer a, wsx::time_point now) {
  const bool do_accept = (a.bits & 1) == 0;
  const unsigned sp_pick = (a.bits >> 1) & 3;
  const bool extra = (a.bits & 8) != 0;
  const bool bad_header_first = (a.bits & 16) != 0;
  const int status = reject_statuses[a.bits >> 5];
  const std::size_t before = c.buffered_amount();

  if (bad_header_first) {
    const wsx::header_field bad{"X-Fuzz", "1\r\nInjected: yes"};
    const auto ec = do_accept ? c.accept({"", {bad}}, now) : c.reject(400, "x", now, {&bad, 1});
    FUZZ_CHECK(ec == wsx::errc::invalid_argument);
    FUZZ_CHECK(c.buffered_amount() == before && c.state() == wsx::connection_state::connecting);
  }
  std::vector<wsx::header_field> extra_headers;
  if (extra) extra_headers.push_back({"X-Fuzz", "1"});
  if (do_accept) {
    wsx::accept_options opts;
    opts.extra_headers = extra_headers;
    if (sp_pick == 3) {
      opts.subprotocol = "not-offered-by-anyone";
      FUZZ_CHECK(c.accept(opts, now) == wsx::errc::invalid_argument);
      FUZZ_CHECK(c.buffered_amount() == before);
      opts.subprotocol.clear();
    } else if (sp_pick != 0 && !req.subprotocols.empty()) {
      opts.subprotocol = sp_pick == 1 ? req.subprotocols.front() : req.subprotocols.back();
    }
    if (const auto key = req.header("Sec-WebSocket-Key"))
      chk.expected_accept = wsx::detail::accept_key(*key);
    chk.note_accepted();
    FUZZ_CHECK(!c.accept(opts, now));
    FUZZ_CHECK(c.state() == wsx::connection_state::open);
    FUZZ_CHECK(c.accept(opts, now) == wsx::errc::invalid_state);  // answered already
  } else {
    if (status < 400 || status > 599) {
      FUZZ_CHECK(c.reject(status, reject_reason, now) == wsx::errc::invalid_argument);
      FUZZ_CHECK(c.buffered_amount() == before);
      FUZZ_CHECK(!c.reject(400, reject_reason, now, extra_headers));
    } else {
      FUZZ_CHECK(!c.reject(status, reject_reason, now, extra_headers));
    }
    FUZZ_CHECK(c.state() == wsx::connection_state::closed);
    FUZZ_CHECK(c.reject(400, "again", now) == wsx::errc::invalid_state);
  }
  FUZZ_CHECK(c.reject(400, "late", now) == wsx::errc::invalid_state);
}

// The answer to an http_request (config::plain_http): a small page, which ends the connection.
void respond_page(wsx::connection& c, session_checker& chk, wsx::time_point now) {
  const wsx::header_field type{"Content-Type", "text/plain"};
  FUZZ_CHECK(!c.respond(200, {&type, 1}, "ok\n", now));
  chk.note_responded(200, {&type, 1}, "ok\n");
  FUZZ_CHECK(c.state() == wsx::connection_state::closed);
  FUZZ_CHECK(c.respond(200, {}, "again", now) == wsx::errc::invalid_state);
}

// The end of a run: optionally let the handshake deadline pass, optionally the peer's EOF.
void finish_run(wsx::connection& c, session_checker& chk, const wsx::config& cfg,
                wsx::time_point now, bool time_out, bool eof) {
  if (time_out) {
    now += cfg.handshake_timeout;
    chk.fire_due(c, now);
  }
  if (eof) chk.receive_eof(c, now);
  chk.finish(c);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  FuzzedDataProvider fdp(data, size);
  const auto s0 = fdp.ConsumeIntegral<std::uint8_t>();
  const auto s1 = fdp.ConsumeIntegral<std::uint8_t>();
  wsx::config cfg;
  cfg.delivery = (s0 & 1) ? wsx::delivery::whole_messages : wsx::delivery::chunks;
  cfg.max_header_bytes = header_limits[(s0 >> 1) & 3];
  cfg.max_frame_payload = frame_limits[(s0 >> 3) & 3];
  cfg.max_message_size = message_limits[(s0 >> 5) & 3];
  const bool eof_at_end = (s0 & 0x80) != 0;
  cfg.max_fragments_per_message = fragment_limits[s1 & 3];
  const bool time_out_at_end = (s1 & 4) != 0;
  cfg.plain_http = (s1 & 8) != 0;

  const wsx::time_point now{std::chrono::hours(1)};
  wsx::connection c{wsx::role::server, cfg, now};
  session_checker chk{wsx::role::server, cfg};
  std::vector<std::byte> wire;
  std::vector<answer> answers;
  std::optional<wsx::upgrade_request> unanswered;
  bool failed = false;
  const auto on_http = [&](const wsx::http_request&) { respond_page(c, chk, now); };

  // Takes the next answer from the provider; a deferred one keeps the request for later.
  const auto decide = [&](const wsx::upgrade_request& req) {
    answers.push_back({fdp.ConsumeIntegral<std::uint8_t>()});
    if (answers.back().deferred()) {
      unanswered = req;
    } else {
      unanswered.reset();
      apply_answer(c, chk, req, answers.back(), now);
    }
  };
  while (fdp.remaining_bytes() > 0) {
    const auto n = fdp.ConsumeIntegralInRange<std::size_t>(1, 256);
    const auto bytes = fdp.ConsumeBytes<std::uint8_t>(n);
    const wsx::bytes_view chunk{reinterpret_cast<const std::byte*>(bytes.data()), bytes.size()};
    wire.insert(wire.end(), chunk.begin(), chunk.end());
    if (trace) std::fprintf(stderr, "receive %zu\n", chunk.size());
    const bool was_unanswered = unanswered.has_value();
    const auto ec = c.receive(chunk, now);
    chk.drain(c, decide, on_http);
    if (was_unanswered && unanswered) {
      // The bytes that came meanwhile wait in the connection; answer (or wait) now.
      FUZZ_CHECK(c.state() == wsx::connection_state::connecting);
      const wsx::upgrade_request req = *unanswered;  // decide() may reset `unanswered`
      decide(req);
      chk.drain(c, decide, on_http);
    }
    if (ec) failed = true;
    chk.consume_share(c, fdp.ConsumeIntegral<std::uint8_t>(), now);
  }
  if (failed) FUZZ_CHECK(chk.closed_seen);  // receive() reports an error only once failed
  finish_run(c, chk, cfg, now, time_out_at_end, eof_at_end);

  // Chunking invariance: the same bytes in one receive() and the same final answer give the
  // same events and the same output bytes.
  wsx::connection ref{wsx::role::server, cfg, now};
  session_checker ref_chk{wsx::role::server, cfg};
  if (trace) std::fprintf(stderr, "reference: receive %zu\n", wire.size());
  (void)ref.receive(wire, now);
  ref_chk.drain(
      ref,
      [&](const wsx::upgrade_request& req) {
        FUZZ_CHECK(!answers.empty());
        if (!answers.back().deferred()) apply_answer(ref, ref_chk, req, answers.back(), now);
      },
      [&](const wsx::http_request&) { respond_page(ref, ref_chk, now); });
  finish_run(ref, ref_chk, cfg, now, time_out_at_end, eof_at_end);
  FUZZ_CHECK(ref_chk.log == chk.log);
  FUZZ_CHECK(ref_chk.output() == chk.output());
  return 0;
}
