// session_checker: the rules every wsx::connection keeps, shared by the targets that drive one
// (server_handshake_fuzz, client_handshake_fuzz, connection_fuzz).
// Checked on every event: `closed` exactly once and last, state() == closed iff `closed` was seen,
// event order (upgrade_request or http_request first and only for a server, http_request only
// with config::plain_http, opened/rejected at most once, reject() followed by closed, no frame
// event before opened or after close_received, a server's close_received followed by closed),
// message pieces sequenced within max_message_size, finished text valid UTF-8, received close
// codes and reasons valid. After every call: pending_output() agrees with buffered_amount() and
// wants_write(), its ranges point into live memory, should_close_transport() holds exactly when
// closed, and a closed connection arms no deadline unless output waits. At the end, the whole
// output stream: a valid HTTP head (a 101 with the right Sec-WebSocket-Accept, a refusal or a
// respond() answer that is a well-formed final response with Connection: close, see
// http_response.hpp, or a client's GET) followed by frames that decode as the peer would decode
// them, nothing after a close frame, no header forged from peer input, a pong for every ping, and
// every send_shared() frame byte for byte where it was queued.
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <span>
#include <string>
#include <string_view>
#include <system_error>
#include <variant>
#include <vector>

#include "common.hpp"
#include "detail/close_rules.hpp"
#include "detail/frame_decoder.hpp"
#include "detail/output_queue.hpp"
#include "detail/utf8.hpp"
#include "http_response.hpp"
#include "peer_deflate.hpp"
#include "wsx/connection.hpp"

namespace wsx::fuzz {

// Everything c.pending_output() exposes, in order.
inline std::string pending_text(const wsx::connection& c) {
  std::string s;
  for (const auto& r : c.pending_output()) s += wsx::as_string(r);
  return s;
}

// The Sec-WebSocket-Key of a client's request head: 16 random bytes in base64 (RFC 6455 §4.1).
inline std::string request_key(std::string_view request) {
  constexpr std::string_view key_header = "\r\nSec-WebSocket-Key: ";
  const auto at = request.find(key_header);
  FUZZ_CHECK(at != std::string_view::npos);
  const auto from = at + key_header.size();
  std::string key(request.substr(from, request.find("\r\n", from) - from));
  FUZZ_CHECK(key.size() == 24 && key.ends_with("=="));
  return key;
}

// Follows one connection: checks each event against the ones before it, the output view against
// buffered_amount(), and at the end the whole output stream (every byte consumed plus what is
// still queued). Keeps a log of the events that does not depend on input chunking or on how the
// output was consumed.
class session_checker {
 public:
  session_checker(wsx::role r, const wsx::config& cfg) : role_(r), cfg_(cfg) {}

  std::vector<std::string> log;
  bool upgrade_seen = false;
  bool http_request_seen = false;
  bool opened_seen = false;
  bool rejected_seen = false;
  bool closed_seen = false;
  bool close_received_seen = false;
  int rejected_status = 0;
  std::error_code rejected_ec;
  std::string opened_subprotocol;
  std::string expected_accept;    // server: the Sec-WebSocket-Accept the 101 must carry
  bool pongs_match_pings = true;  // the app sends no pongs: every pong echoes a ping
  deflate_agreement deflate;      // what `opened` said was agreed

  // A send()/send_shared() the connection took (returned no error): its data messages must come
  // out whole, in this order, byte for byte (inflated where RSV1 says so) as the peer reads them.
  void note_sent(wsx::opcode op, std::string_view payload, bool fin) {
    if (op != wsx::opcode::continuation) sending_kind_ = op;
    sending_ += payload;
    if (!fin) return;
    sent_.push_back((sending_kind_ == wsx::opcode::text ? "text " : "binary ") + sending_);
    sending_.clear();
  }

  void note_accepted() { accepted_ = true; }
  // respond() succeeded: the output must hold exactly this answer (plus the core's own headers).
  void note_responded(int status, std::span<const wsx::header_field> headers,
                      std::string_view body) {
    responded_ = true;
    responded_status_ = status;
    responded_headers_.assign(headers.begin(), headers.end());
    responded_body_ = body;
  }
  // send_shared(msg) succeeded when `before` bytes were buffered: msg.wire() follows them.
  void note_shared(std::size_t before, wsx::bytes_view wire) {
    shared_.push_back({out_.size() + before, text_of(wire)});
  }

  // Pulls every event, checking each; on_upgrade(req) runs for an upgrade_request, on_http(req)
  // for an http_request.
  template <class OnUpgrade, class OnHttp>
  void drain(wsx::connection& c, OnUpgrade&& on_upgrade, OnHttp&& on_http) {
    while (auto ev = c.next_event()) {
      check_event(*ev);
      if (const auto* req = std::get_if<wsx::upgrade_request>(&*ev)) on_upgrade(*req);
      if (const auto* req = std::get_if<wsx::http_request>(&*ev)) on_http(*req);
    }
    FUZZ_CHECK(!expect_closed_next_);
    check_state(c);
  }
  template <class OnUpgrade>
  void drain(wsx::connection& c, OnUpgrade&& on_upgrade) {
    drain(c, on_upgrade, [](const wsx::http_request&) {});
  }
  // The same where no upgrade_request may come (a client, or a server past its handshake).
  void drain(wsx::connection& c) {
    drain(c, [](const wsx::upgrade_request&) { FUZZ_CHECK(false); });
  }

  void check_state(const wsx::connection& c) {
    FUZZ_CHECK((c.state() == wsx::connection_state::closed) == closed_seen);
    // "the transport should close TCP once the pending output is written: the connection is
    // closed"
    FUZZ_CHECK(c.should_close_transport() == closed_seen);
    if (closed_seen) {
      FUZZ_CHECK(!c.wants_read());
      // Only the final flush may still be bounded by a deadline; nothing else can fire.
      if (c.buffered_amount() == 0) FUZZ_CHECK(!c.next_deadline());
    }
    const auto v = c.pending_output();
    std::size_t sum = 0;
    for (const auto& r : v) {
      FUZZ_CHECK(!r.empty());
      touch(r.front());  // ASan reports a range that points into a freed block
      touch(r.back());
      sum += r.size();
    }
    FUZZ_CHECK(sum == v.total_bytes());
    if (v.size() < wsx::detail::output_queue::max_ranges) {
      FUZZ_CHECK(sum == c.buffered_amount());
    } else {
      FUZZ_CHECK(sum <= c.buffered_amount());
    }
    FUZZ_CHECK(v.empty() == (c.buffered_amount() == 0));
    FUZZ_CHECK(c.wants_write() == (c.buffered_amount() != 0));
  }

  // Consumes up to `n` bytes of output the way a transport does, keeping a copy of them.
  void consume(wsx::connection& c, std::size_t n, wsx::time_point now) {
    n = std::min(n, c.buffered_amount());
    while (n > 0) {
      const auto v = c.pending_output();
      FUZZ_CHECK(!v.empty());
      std::size_t take = 0;
      for (const auto& r : v) {
        const std::size_t k = std::min(r.size(), n - take);
        out_.append(wsx::as_string(r.first(k)));
        take += k;
        if (take == n) break;
      }
      const std::size_t before = c.buffered_amount();
      c.consume_output(take, now);
      FUZZ_CHECK(c.buffered_amount() == before - take);
      n -= take;
    }
    check_state(c);
  }
  // Consumes share/255 of the output.
  void consume_share(wsx::connection& c, std::uint8_t share, wsx::time_point now) {
    consume(c, c.buffered_amount() * share / 255, now);
  }

  // If a deadline is due at `now`: on_timer(now), which "fires every deadline that is due at
  // `now`", so none may be left due (a transport sleeping until next_deadline() would spin).
  // Returns whether one was due.
  bool fire_due(wsx::connection& c, wsx::time_point now) {
    const auto due = c.next_deadline();
    if (!due || *due > now) return false;
    const std::size_t before = c.buffered_amount();
    const bool was_closed = closed_seen;
    c.on_timer(now);
    const auto next = c.next_deadline();
    FUZZ_CHECK(!next || *next > now);
    const bool dropped = c.buffered_amount() < before;
    drain(c);
    if (dropped || (closed_seen && !was_closed)) output_dropped();
    return true;
  }

  // The peer's EOF, which ends the connection whatever its state.
  void receive_eof(wsx::connection& c, wsx::time_point now) {
    c.receive_eof(now);
    drain(c);
    FUZZ_CHECK(closed_seen);
  }

  // The core threw its queued output away (a deadline fired): what was written so far is a
  // stream cut anywhere; anything queued later starts a new one.
  void output_dropped() {
    validate_stream(out_, true);
    check_shared(true);
    out_.clear();
    segment_after_drop_ = true;
  }

  // End of the run: validates the whole output, including what is still queued.
  void finish(wsx::connection& c) {
    out_ += pending_text(c);
    validate_stream(out_, false);
    check_shared(false);
    if (pongs_match_pings && !segment_after_drop_) {
      // RFC 6455 §5.5.2: a pong for every ping, same payload, until our close frame.
      FUZZ_CHECK(pongs_.size() <= pings_.size());
      FUZZ_CHECK(std::equal(pongs_.begin(), pongs_.end(), pings_.begin()));
      if (!close_in_output_) FUZZ_CHECK(pongs_.size() == pings_.size());
    }
  }

  // Every byte the connection wrote, in order (after finish(): including the queued rest).
  const std::string& output() const { return out_; }

 private:
  // A load the compiler must keep, so that ASan checks the address.
  static void touch(const std::byte& b) { (void)*static_cast<const volatile std::byte*>(&b); }

  void check_event(const wsx::event& ev) {
    FUZZ_CHECK(!closed_seen);  // `closed` is terminal: exactly once, last
    if (expect_closed_next_) FUZZ_CHECK(std::holds_alternative<wsx::closed>(ev));
    const std::size_t logged = log.size();
    std::visit([&](const auto& e) { on(e); }, ev);
    if (trace)
      std::fprintf(stderr, "  event: %s\n",
                   log.size() > logged ? log.back().c_str() : "(part of a message)");
  }

  void on(const wsx::upgrade_request& e) {
    FUZZ_CHECK(role_ == wsx::role::server);
    FUZZ_CHECK(log.empty());
    upgrade_seen = true;
    log.push_back("upgrade " + e.target);
  }
  // Only with config::plain_http: a request (of any method) without any Upgrade header.
  void on(const wsx::http_request& e) {
    FUZZ_CHECK(role_ == wsx::role::server && cfg_.plain_http);
    FUZZ_CHECK(log.empty());
    FUZZ_CHECK(!e.method.empty() && e.subprotocols.empty() && e.extensions.empty());
    FUZZ_CHECK(!e.header("Upgrade"));
    FUZZ_CHECK(e.target == e.path + (e.target.find('?') == std::string::npos ? "" : "?" + e.query));
    http_request_seen = true;
    log.push_back("http_request " + e.target);
  }
  void on(const wsx::opened& e) {
    FUZZ_CHECK(!opened_seen && !rejected_seen);
    if (role_ == wsx::role::server) FUZZ_CHECK(accepted_);
    opened_seen = true;
    opened_subprotocol = e.subprotocol;
    FUZZ_CHECK(e.extensions.size() <= 1);
    deflate = parse_agreement(e.extensions.empty() ? "" : e.extensions.front());
    FUZZ_CHECK(!deflate.agreed || cfg_.deflate.enabled);
    log.push_back("opened " + e.subprotocol);
  }
  void on(const wsx::rejected& e) {
    FUZZ_CHECK(!opened_seen && !rejected_seen);
    FUZZ_CHECK(static_cast<bool>(e.ec));
    rejected_seen = true;
    rejected_status = e.status;
    rejected_ec = e.ec;
    expect_closed_next_ = true;  // reject(): "Emits rejected and closed"
    log.push_back("rejected " + e.ec.message() + " " + std::to_string(e.status));
  }
  void on(const wsx::message_chunk& e) {
    FUZZ_CHECK(cfg_.delivery == wsx::delivery::chunks);
    data_piece(e.kind, e.first, e.last, e.payload);
  }
  void on(const wsx::message& e) {
    FUZZ_CHECK(cfg_.delivery == wsx::delivery::whole_messages);
    data_piece(e.kind, true, true, e.payload);
  }
  void on(const wsx::ping_received& e) {
    frame_allowed();
    FUZZ_CHECK(e.payload.size() <= 125);
    pings_.push_back(text_of(e.payload));
    log.push_back("ping " + pings_.back());
  }
  void on(const wsx::pong_received& e) {
    frame_allowed();
    FUZZ_CHECK(e.payload.size() <= 125);
    log.push_back("pong " + text_of(e.payload));
  }
  void on(const wsx::close_received& e) {
    frame_allowed();
    const auto code = static_cast<std::uint16_t>(e.code);
    FUZZ_CHECK(e.code == wsx::close_code::no_status || wsx::detail::is_sendable_close_code(code));
    if (e.code == wsx::close_code::no_status) FUZZ_CHECK(e.reason.empty());
    FUZZ_CHECK(e.reason.size() <= wsx::detail::max_close_reason);
    FUZZ_CHECK(wsx::detail::is_valid_utf8(wsx::as_bytes(e.reason)));
    close_received_seen = true;
    // A server ends right after the closing handshake (see should_close_transport()).
    if (role_ == wsx::role::server) expect_closed_next_ = true;
    log.push_back("close_received " + std::to_string(code) + " " + std::string(e.reason));
  }
  void on(const wsx::closed& e) {
    expect_closed_next_ = false;
    closed_seen = true;
    if (e.clean) FUZZ_CHECK(close_received_seen);  // clean: both close frames were exchanged
    // A message cut short is not part of the chunking-independent log.
    log.push_back("closed " + std::to_string(static_cast<int>(e.code)) + " " +
                  std::to_string(e.clean) + " " + std::to_string(e.initiated_locally) + " " +
                  (e.ec ? e.ec.message() : "-") + " " + e.reason);
  }

  void frame_allowed() const {
    FUZZ_CHECK(opened_seen);
    FUZZ_CHECK(!close_received_seen);  // RFC 6455 §5.5.1: nothing is read after a close frame
  }

  void data_piece(wsx::message_kind kind, bool first, bool last, wsx::bytes_view payload) {
    frame_allowed();
    FUZZ_CHECK(first == !in_message_);
    if (!first) FUZZ_CHECK(kind == kind_);
    in_message_ = !last;
    kind_ = kind;
    partial_ += text_of(payload);
    FUZZ_CHECK(partial_.size() <= cfg_.max_message_size);
    if (!last) return;
    if (kind == wsx::message_kind::text)
      FUZZ_CHECK(wsx::detail::is_valid_utf8(wsx::as_bytes(partial_)));
    log.push_back((kind == wsx::message_kind::text ? "text " : "binary ") + partial_);
    partial_.clear();
  }

  // One output stream: an HTTP head, then frames (101 / client) or a body (refusal).
  void validate_stream(std::string_view s, bool truncated) {
    if (s.empty()) return;
    const auto head_end = s.find("\r\n\r\n");
    if (head_end == std::string_view::npos) {
      FUZZ_CHECK(truncated);
      return;
    }
    const auto head = s.substr(0, head_end + 4);
    const auto rest = s.substr(head_end + 4);
    // Nothing the peer sent may reach a header line of ours (CR/LF are replaced).
    FUZZ_CHECK(head.find("\r\nInjected:") == std::string_view::npos);
    if (role_ == wsx::role::client) {
      FUZZ_CHECK(head.starts_with("GET "));
      if (!opened_seen) FUZZ_CHECK(rest.empty());
      validate_frames(rest, truncated);
      return;
    }
    const response_head r = parse_response_head(head);
    if (r.status == 101) {
      FUZZ_CHECK(opened_seen && !segment_after_drop_);
      if (!expected_accept.empty())
        FUZZ_CHECK(head.find("\r\nSec-WebSocket-Accept: " + expected_accept + "\r\n") !=
                   std::string_view::npos);
      validate_frames(rest, truncated);
      return;
    }
    check_final_response(head, rest, truncated);
    if (!responded_) {
      // A refusal: the core's own text/plain body, whose Content-Type no extra header repeats.
      FUZZ_CHECK(r.status >= 400 && r.status <= 599 && r.count("Content-Type") == 1);
      FUZZ_CHECK(rejected_seen && r.status == rejected_status);
      return;
    }
    // respond(): the status, then the application's headers in order after the core's own, then
    // the body as given.
    FUZZ_CHECK(http_request_seen && !rejected_seen && r.status == responded_status_);
    std::size_t at = 0;
    for (const auto& h : responded_headers_) {
      at = head.find("\r\n" + h.name + ": " + h.value + "\r\n", at);
      FUZZ_CHECK(at != std::string_view::npos);
      at += 2;
    }
    if (truncated) {
      FUZZ_CHECK(std::string_view(responded_body_).starts_with(rest));
    } else {
      FUZZ_CHECK(rest == responded_body_);
    }
  }

  // Every send_shared() frame sits in the output at its place, byte for byte as
  // shared_message::wire() holds it (or, in a stream the core cut off, as much of it as was
  // written).
  void check_shared(bool truncated) {
    for (const auto& [offset, wire] : shared_) {
      if (truncated) {
        if (offset >= out_.size()) continue;
        const std::size_t n = std::min(wire.size(), out_.size() - offset);
        FUZZ_CHECK(out_.compare(offset, n, wire, 0, n) == 0);
      } else {
        FUZZ_CHECK(offset + wire.size() <= out_.size());
        FUZZ_CHECK(out_.compare(offset, wire.size(), wire) == 0);
      }
    }
    shared_.clear();
  }

  // Frames we sent, decoded as the peer would. Unless the stream was cut, a probe ping appended
  // after it must decode on its own, which proves the stream ends on a frame boundary.
  void validate_frames(std::string_view s, bool truncated) {
    const wsx::role peer = role_ == wsx::role::server ? wsx::role::client : wsx::role::server;
    wsx::detail::frame_decoder d{peer, {}};
    if (deflate.agreed) d.allow_rsv1();
    // Messages are rebuilt only in the first stream: after a drop the peer's view of a
    // compressed context is lost with the cut message.
    const bool rebuild = !segment_after_drop_;
    std::unique_ptr<peer_deflate_stream> inflater;
    if (rebuild && deflate.agreed)
      inflater = std::make_unique<peer_deflate_stream>(false, deflate.window(role_),
                                                       deflate.resets(role_));
    std::vector<std::string> rebuilt;
    std::string piece;
    bool compressed = false;
    wsx::message_kind kind = wsx::message_kind::binary;
    std::vector<std::byte> buf(s.size());
    std::transform(s.begin(), s.end(), buf.begin(), [](char ch) { return std::byte(ch); });
    if (!truncated) {
      buf.push_back(std::byte{0x89});
      buf.push_back(std::byte(peer == wsx::role::client ? 0x00 : 0x80));
      if (peer == wsx::role::server) buf.insert(buf.end(), 4, std::byte{0x5A});
    }
    bool probe_seen = false;
    std::size_t pos = 0;
    for (;;) {
      const std::size_t start = pos;
      std::size_t used = 0;
      const auto it = d.next(std::span(buf).subspan(pos), used);
      pos += used;
      using R = wsx::detail::frame_decoder::result;
      if (it.type == R::need_more) break;
      if (it.type == R::error)
        std::fprintf(stderr, "our output does not decode: %s\n",
                     wsx::make_error_code(d.error()).message().c_str());
      FUZZ_CHECK(it.type != R::error);
      if (pos > s.size()) {  // the item reached into the probe: it must be exactly the probe
        FUZZ_CHECK(!truncated && start == s.size() && pos == buf.size());
        FUZZ_CHECK(it.type == R::control && it.op == wsx::opcode::ping && it.payload.empty());
        probe_seen = true;
        break;
      }
      if (it.type == R::data) {
        if (it.first) {
          piece.clear();
          compressed = it.compressed;
          kind = it.kind;
          FUZZ_CHECK(!compressed || deflate.window(role_) >= 9);  // never a window zlib ignores
        }
        piece += text_of({it.payload.data(), it.payload.size()});
        if (!it.last || !rebuild) continue;
        std::string message = piece;
        if (compressed) {
          message.clear();
          FUZZ_CHECK(inflater->inflate(piece, message));
        }
        rebuilt.push_back((kind == wsx::message_kind::text ? "text " : "binary ") + message);
        continue;
      }
      const wsx::bytes_view payload{it.payload.data(), it.payload.size()};
      if (it.op == wsx::opcode::pong) pongs_.push_back(text_of(payload));
      if (it.op == wsx::opcode::close) {
        wsx::detail::close_payload cp;
        FUZZ_CHECK(wsx::detail::parse_close_payload(payload, cp) == wsx::errc{});
        close_in_output_ = true;
        FUZZ_CHECK(pos == s.size());  // RFC 6455 §5.5.1: nothing is sent after a close frame
        break;
      }
    }
    if (!truncated && !close_in_output_) FUZZ_CHECK(probe_seen);
    if (!rebuild) return;
    // What went out is what was sent, in order: all of it, or (a stream that ended early or was
    // cut) the messages before the end.
    if (trace) std::fprintf(stderr, "  rebuilt %zu of %zu messages\n", rebuilt.size(), sent_.size());
    FUZZ_CHECK(rebuilt.size() <= sent_.size());
    for (std::size_t i = 0; i < rebuilt.size(); ++i) FUZZ_CHECK(rebuilt[i] == sent_[i]);
    if (!truncated && !close_in_output_) FUZZ_CHECK(rebuilt.size() == sent_.size());
  }

  wsx::role role_;
  wsx::config cfg_;
  bool accepted_ = false;
  bool expect_closed_next_ = false;
  bool in_message_ = false;
  wsx::message_kind kind_ = wsx::message_kind::binary;
  std::string partial_;
  std::string out_;
  bool segment_after_drop_ = false;
  bool close_in_output_ = false;
  std::vector<std::string> pings_;
  std::vector<std::string> pongs_;
  struct shared_frame {
    std::size_t offset;  // in the output stream since the last drop
    std::string wire;
  };
  std::vector<shared_frame> shared_;
  wsx::opcode sending_kind_ = wsx::opcode::binary;
  std::string sending_;             // the message send() is in the middle of
  std::vector<std::string> sent_;   // every whole message sent, "text ..." / "binary ..."
  bool responded_ = false;
  int responded_status_ = 0;
  std::vector<wsx::header_field> responded_headers_;
  std::string responded_body_;
};

}  // namespace wsx::fuzz
