// The state behind wsx::connection, shared by the units that implement it:
//   connection.cpp            the public calls: argument and state checks, then one step here
//   connection_lifecycle.cpp  the lifecycle (enter()), output helpers, endings, the deadlines
//   connection_input.cpp      decoding input: the handshake's outcomes, frames, close, EOF
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "detail/deadlines.hpp"
#include "detail/deflate_codec.hpp"
#include "detail/frame_decoder.hpp"
#include "detail/handshake.hpp"
#include "detail/input_buffer.hpp"
#include "detail/output_queue.hpp"
#include "detail/utf8.hpp"
#include "wsx/connection.hpp"

namespace wsx {

// Where the connection is in its life. Every change goes through impl::enter(), which also arms
// and disarms the deadlines that belong to the new stage.
enum class lifecycle : std::uint8_t {
  connecting,       // server: reading the request; client: connect() not called yet
  awaiting_answer,  // server: request reported, waiting for accept()/reject()/respond();
                    // client: request queued, reading the server's response
  open,             // data flows both ways
  local_closing,    // our close frame is sent, the peer's has not come
  remote_closing,   // the peer's close frame came and ours is sent: a client waits for the
                    // server to close TCP
  closed,           // terminal: `closed` was queued
};

struct connection::impl {
  // What the connection needs only while it has work in hand: input being decoded, events not
  // pulled yet, a message being assembled, output waiting, the peer's close reason. Allocated by
  // the first use; shrink_to_fit() frees it when an open connection has spent all of it between
  // two messages, so an idle connection carries only the members of impl.
  struct active_state {
    active_state(role r, const config& c)
        : decoder(r, {c.max_frame_payload, c.max_message_size, c.max_fragments_per_message}) {}
    // True when dropping this loses nothing: a fresh one would go on the same.
    bool spent() const noexcept {
      return input.empty() && head == events.size() && !assembled && assembly.empty() &&
             decoder.at_boundary() && out.holds_nothing();
    }
    detail::frame_decoder decoder;
    detail::input_buffer input;
    std::vector<std::byte> assembly;
    bool assembled = false;
    std::vector<event> events;
    std::size_t head = 0;
    detail::output_queue out;
    std::string close_reason;
    // permessage-deflate: a compressed message's inflated piece (chunks delivery), its size so
    // far and its UTF-8 state (the decoder checks only uncompressed text).
    std::vector<std::byte> inflated;
    std::size_t inflated_size = 0;
    detail::utf8_validator inflated_utf8;
  };

  impl(role r, std::shared_ptr<const config> c, time_point now);

  const config& cfg() const noexcept { return *shared_cfg_; }
  connection_state public_state() const noexcept;
  bool is_closed() const noexcept { return stage_ == lifecycle::closed; }

  // ---- the lifecycle (connection_lifecycle.cpp) ----
  // Moves to `next` and arms what belongs to it: open arms the heartbeat and idle deadlines and
  // ends the handshake's; both closing stages end those and arm the close deadline (unless it
  // runs already); closed keeps only the write deadline, to bound the final flush.
  void enter(lifecycle next, time_point now);
  // Queues the terminal event and enters closed. `ec` {} is a normal end.
  void finish(close_code code, std::string reason, bool clean, errc ec);
  // Fails the connection for a peer error (RFC 6455 §7.1.7): a close frame with the code that
  // matches `e` if one may still be sent, then finish().
  void fail(errc e, time_point now);
  // The opening handshake failed: report `r`, then finish with 1006.
  void handshake_failed(rejected r);
  // The opening handshake succeeded.
  void opened_now(opened ev, time_point now);
  // Any byte from the peer proves it is alive (heartbeat) and not idle.
  void note_received(time_point now);

  // ---- output (connection_lifecycle.cpp) ----
  std::size_t out_size() const noexcept { return act_ ? act_->out.size() : 0; }
  bool would_exceed(std::size_t add) const noexcept {
    return out_size() + add > cfg().max_buffered_output;
  }
  // Arms the write deadline when the output just stopped being empty.
  void note_output_grew(std::size_t before, time_point now);
  void queue_raw(std::string_view s, time_point now);
  // Appends one frame, masked with a fresh key for a client, without touching the deadlines.
  // False (nothing appended) when no key could be drawn.
  bool append_frame(bool fin, opcode op, bytes_view payload, bool rsv1 = false);
  // Queues one frame, masked with a fresh key for a client. False (nothing queued) when no key
  // could be drawn.
  bool queue_frame(bool fin, opcode op, bytes_view payload, time_point now);
  // Queues a close frame; false (nothing queued) when a client could draw no mask key. Only
  // close() reports that; the core's own closes go on without the frame (a deadline ends them).
  bool queue_close(close_code code, std::string_view reason, time_point now);
  // Empties the output (nothing can be delivered any more); its bytes stay alive until the next
  // consume_output(): a write may hold them.
  void drop_output() noexcept;

  // ---- deadlines (connection_lifecycle.cpp) ----
  // Fires the first deadline due at `now` (each one's effects disarm the others that are due).
  void fire_due(time_point now);
  void on_write_timeout(time_point now);
  void on_handshake_timeout(time_point now);
  void on_close_timeout(time_point now);
  void on_pong_timeout(time_point now);
  void on_idle_timeout(time_point now);
  void on_ping_due(time_point now);

  // ---- input (connection_input.cpp) ----
  template <class E>
  void push(E&& ev) {
    act().events.emplace_back(std::forward<E>(ev));
  }
  bool has_events() const noexcept { return act_ && act_->head < act_->events.size(); }
  active_state& act() {
    if (!act_) {
      act_ = std::make_unique<active_state>(role_, cfg());
      if (deflate_) act_->decoder.allow_rsv1();
    }
    return *act_;
  }
  // The input not decoded yet.
  std::span<std::byte> unread() noexcept {
    return act_ ? act_->input.unread() : std::span<std::byte>{};
  }
  // Ends a receive_in_place(): what the caller's buffer holds that the connection still needs
  // is copied, and events not pulled yet are moved along with it.
  void return_borrowed();
  // Once a delivered message's event has been pulled, its buffer (an assembled or inflated
  // message) goes to the thread's spare, and the next message on this thread takes it back
  // (reuse_spare): buffers move between connections instead of every connection keeping its
  // last message. A message still being assembled keeps its buffer.
  void release_message() noexcept;
  void reuse_spare(std::vector<std::byte>& buf) noexcept;
  // Decodes until at least one event is queued or the input is used up.
  void process(time_point now);
  bool process_handshake(time_point now);
  // Turns what the handshake found into events and a stage.
  void apply(detail::handshake_outcome outcome, time_point now);
  bool process_frame(time_point now);
  void on_data(const detail::frame_decoder::item& it);
  void on_compressed(const detail::frame_decoder::item& it);
  void on_control(const detail::frame_decoder::item& it, time_point now);
  void closing_handshake_done(time_point now);
  void handle_eof(time_point now);

  static std::error_code as_error_code(errc e) noexcept {
    return e == errc{} ? std::error_code{} : make_error_code(e);
  }

  // Ordered so that the small members share the last words: every idle connection has one.
  std::shared_ptr<const config> shared_cfg_;              // shared by every connection of a server
  std::unique_ptr<detail::opening_handshake> handshake_;  // while connecting only
  std::unique_ptr<active_state> act_;
  std::unique_ptr<detail::deflate_codec> deflate_;  // permessage-deflate, once agreed
  detail::deadlines deadlines_;
  time_point now_{};  // the latest `now` passed in
  role role_;
  lifecycle stage_ = lifecycle::connecting;
  bool eof_ = false;
  bool initiated_locally_ = false;  // for `closed`: this side sent the first close (or failed)
  bool send_in_message_ = false;    // a fragmented send() is unfinished
  bool send_compressed_ = false;    // ... and its first frame had RSV1
  close_code close_code_ = close_code::abnormal;  // the peer's close code
  // errc{} (0) is "none": a wsx error code in 4 bytes instead of std::error_code's 16.
  errc ending_ec_{};  // why a clean close was started locally (idle timeout)
  errc sticky_{};     // why the connection ended, for receive() and receive_eof()
};

}  // namespace wsx
