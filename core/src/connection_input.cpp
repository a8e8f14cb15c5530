// Decoding the input: the handshake's outcomes, frames, the closing handshake and EOF.
//
// Input is decoded lazily: process() runs until it has queued at least one event or used up the
// input, and next_event() resumes it. So an event's spans (payloads unmasked in place in the
// input buffer, or an assembled message) stay put until the next non-const call, without copying
// every payload aside; a delivered message's buffer then goes to a spare per thread, which the
// next message on the thread takes. While connecting, the opening handshake reads the head and
// returns an outcome (an event to report or a refusal to queue) that apply() turns into events and
// a stage. Auto replies (pong, close echo) are queued at the moment their frame is decoded, which
// is before the event is seen. Nothing is decoded after the peer's close frame (RFC 6455 §5.5.1).
#include <algorithm>
#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "detail/close_rules.hpp"
#include "detail/connection_impl.hpp"

namespace wsx {
namespace {

// One spare message buffer per thread, up to 1 MiB: what the last delivered message left.
constexpr std::size_t spare_limit = std::size_t{1} << 20;

std::vector<std::byte>& spare() noexcept {
  thread_local std::vector<std::byte> buffer;
  return buffer;
}

}  // namespace

void connection::impl::release_message() noexcept {
  if (!act_ || has_events()) return;
  auto& a = *act_;
  if (!a.assembled && !a.assembly.empty()) return;  // a message still being assembled
  a.assembled = false;
  a.assembly.clear();
  std::vector<std::byte>& s = spare();
  if (a.assembly.capacity() > s.capacity() && a.assembly.capacity() <= spare_limit)
    s.swap(a.assembly);
  std::vector<std::byte>().swap(a.assembly);
}

void connection::impl::reuse_spare(std::vector<std::byte>& buf) noexcept {
  if (buf.capacity() == 0) buf.swap(spare());
}

void connection::impl::return_borrowed() {
  if (!act_ || !act_->input.lent()) return;
  auto& a = *act_;
  using keep = detail::input_buffer::keep;
  // Events not pulled yet may point into the caller's buffer (the caller stopped draining): then
  // all of it moves, and their spans with it. Once closed, input is ignored from now on.
  const keep k = has_events() ? keep::all : is_closed() ? keep::nothing : keep::unread;
  const detail::relocation moved = a.input.give_back(k);
  if (k != keep::all) return;
  for (std::size_t i = a.head; i < a.events.size(); ++i) {
    std::visit(
        [&](auto& ev) {
          using E = std::decay_t<decltype(ev)>;
          if constexpr (std::is_same_v<E, message> || std::is_same_v<E, message_chunk> ||
                        std::is_same_v<E, ping_received> || std::is_same_v<E, pong_received>) {
            moved.apply(ev.payload);
          } else if constexpr (std::is_same_v<E, close_received>) {
            moved.apply(ev.reason);
          }
        },
        a.events[i]);
  }
}

void connection::impl::process(time_point now) {
  if (now > now_) now_ = now;
  if (act_ && act_->assembled) {
    act_->assembly.clear();
    act_->assembled = false;
  }
  while (!has_events() && !is_closed()) {
    if (stage_ == lifecycle::connecting || stage_ == lifecycle::awaiting_answer) {
      if (!process_handshake(now)) break;
    } else if (stage_ == lifecycle::remote_closing) {
      // RFC 6455 §5.5.1: nothing follows a close frame.
      if (act_) act_->input.discard();
      break;
    } else if (!process_frame(now)) {
      break;
    }
  }
  // At EOF, bytes that can no longer be used (after a close frame, or frames behind an
  // unanswered upgrade) must not keep the connection alive.
  const bool unanswered = role_ == role::server && stage_ == lifecycle::awaiting_answer;
  if (eof_ && !has_events() && !is_closed() &&
      (unread().empty() || stage_ == lifecycle::remote_closing || unanswered))
    handle_eof(now);
}

void connection::impl::apply(detail::handshake_outcome outcome, time_point now) {
  std::visit(
      [&](auto& o) {
        using O = std::decay_t<decltype(o)>;
        if constexpr (std::is_same_v<O, upgrade_request> || std::is_same_v<O, http_request>) {
          enter(lifecycle::awaiting_answer, now);  // the application answers
          push(std::move(o));
        } else if constexpr (std::is_same_v<O, detail::handshake_refusal>) {
          queue_raw(o.response, now);
          handshake_failed(std::move(o.report));
        } else if constexpr (std::is_same_v<O, opened>) {
          opened_now(std::move(o), now);
        } else if constexpr (std::is_same_v<O, rejected>) {
          handshake_failed(std::move(o));
        }
      },
      outcome);
}

bool connection::impl::process_handshake(time_point now) {
  // A client before connect() has nothing to read yet; a server waits for the application.
  if (!handshake_ || (role_ == role::server && stage_ == lifecycle::awaiting_answer)) return false;
  std::size_t used = 0;
  detail::handshake_outcome outcome = handshake_->feed(unread(), used);
  if (act_) act_->input.advance(used);
  if (std::holds_alternative<std::monostate>(outcome)) return false;
  apply(std::move(outcome), now);
  return true;
}

bool connection::impl::process_frame(time_point now) {
  if (!act_) return false;  // no input
  auto& a = *act_;
  std::size_t used = 0;
  auto it = a.decoder.next(a.input.unread(), used);
  a.input.advance(used);
  using R = detail::frame_decoder::result;
  switch (it.type) {
    case R::need_more:
      return false;
    case R::error:
      fail(a.decoder.error(), now);
      return true;
    case R::data:
      on_data(it);
      return true;
    case R::control:
      on_control(it, now);
      return true;
  }
  return false;
}

void connection::impl::on_data(const detail::frame_decoder::item& it) {
  if (it.compressed) {
    on_compressed(it);
    return;
  }
  if (cfg().delivery == delivery::chunks) {
    push(message_chunk{it.kind, it.first, it.last, it.payload});
    return;
  }
  if (it.first && it.last) {  // the whole message is in one piece: no copy
    push(message{it.kind, it.payload});
    return;
  }
  auto& a = act();
  reuse_spare(a.assembly);
  a.assembly.insert(a.assembly.end(), it.payload.begin(), it.payload.end());
  if (it.last) {
    a.assembled = true;
    push(message{it.kind, {a.assembly.data(), a.assembly.size()}});
  }
}

// RFC 7692 §7.2.2: a compressed message's pieces are inflated as they come, into the assembly
// (whole messages) or a buffer of their own (chunks). The inflated size counts against
// max_message_size while it grows, so memory stays bounded by the limit, never by the ratio.
void connection::impl::on_compressed(const detail::frame_decoder::item& it) {
  auto& a = act();
  const bool chunks = cfg().delivery == delivery::chunks;
  std::vector<std::byte>& buf = chunks ? a.inflated : a.assembly;
  if (chunks) buf.clear();
  if (!chunks) reuse_spare(buf);
  if (it.first) {
    a.inflated_size = 0;
    a.inflated_utf8.reset();
  }
  const std::size_t before = buf.size();
  const std::size_t room =
      cfg().max_message_size - std::min(cfg().max_message_size, a.inflated_size);
  if (const errc e = deflate_->inflate(it.payload, it.last, buf, room); e != errc{}) {
    fail(e, now_);
    return;
  }
  const bytes_view out{buf.data() + before, buf.size() - before};
  a.inflated_size += out.size();
  // RFC 6455 §8.1 on the inflated text, failing as soon as a byte makes it invalid.
  if (it.kind == message_kind::text &&
      (!a.inflated_utf8.feed(out) || (it.last && !a.inflated_utf8.complete()))) {
    fail(errc::invalid_utf8, now_);
    return;
  }
  if (chunks) {
    push(message_chunk{it.kind, it.first, it.last, out});
  } else if (it.last) {
    a.assembled = true;
    push(message{it.kind, {a.assembly.data(), a.assembly.size()}});
  }
}

void connection::impl::on_control(const detail::frame_decoder::item& it, time_point now) {
  const bytes_view payload{it.payload.data(), it.payload.size()};
  if (it.op == opcode::ping) {
    // RFC 6455 §5.5.2: answer with a pong carrying the same payload, unless closing.
    if (stage_ == lifecycle::open) queue_frame(true, opcode::pong, payload, now);
    push(ping_received{payload});
    return;
  }
  if (it.op == opcode::pong) {
    // RFC 6455 §5.5.3: an unsolicited pong is allowed; it proves liveness all the same.
    push(pong_received{payload});
    return;
  }
  detail::close_payload cp;
  if (const errc e = detail::parse_close_payload(payload, cp); e != errc{}) {
    fail(e, now);
    return;
  }
  close_code_ = cp.code;
  act().close_reason.assign(cp.reason);
  push(close_received{cp.code, cp.reason});
  // RFC 6455 §5.5.1: reply with a close frame if we have not sent one; echo the code.
  if (stage_ == lifecycle::open) {
    initiated_locally_ = false;
    queue_close(cp.code == close_code::no_status ? close_code::normal : cp.code, {}, now);
  }
  closing_handshake_done(now);
}

// Both close frames have been exchanged. RFC 6455 §7.1.1: the server closes TCP first; the
// client waits for it (bounded by the close deadline).
void connection::impl::closing_handshake_done(time_point now) {
  if (role_ == role::server) {
    finish(close_code_, act().close_reason, true, ending_ec_);
  } else {
    enter(lifecycle::remote_closing, now);
  }
}

void connection::impl::handle_eof(time_point now) {
  if (stage_ == lifecycle::connecting || stage_ == lifecycle::awaiting_answer) {
    if (role_ == role::server) {
      finish(close_code::abnormal, "connection closed during the opening handshake", false,
             errc::eof_without_close);
    } else if (handshake_) {
      apply(handshake_->at_eof(), now);
    } else {
      handshake_failed(rejected{errc::eof_without_close,
                                0,
                                "connection closed before the server's handshake response",
                                {},
                                {}});
    }
    return;
  }
  if (stage_ == lifecycle::remote_closing) {
    finish(close_code_, act().close_reason, true, ending_ec_);
    return;
  }
  // RFC 6455 §7.1.5: no close frame received: the close code is 1006.
  finish(close_code::abnormal, "connection closed without a close frame", false,
         errc::eof_without_close);
}

}  // namespace wsx
