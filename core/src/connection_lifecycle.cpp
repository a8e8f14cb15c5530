// The connection's lifecycle, its output helpers, its endings and its deadlines.
//
// Stages: connecting → awaiting_answer → open → local_closing or remote_closing → closed (see
// lifecycle in connection_impl.hpp). enter() is the one way from stage to stage and arms what
// the new stage needs, so "start closing, stop the heartbeat" is written once. A server ends
// right after the closing handshake; a client waits in remote_closing for the server's FIN or
// the close deadline. Failures queue a close frame when one can still be sent, then go straight
// to closed. Each deadline has one handler; fire_due() runs the first one that is due, and each
// handler's effects disarm the others that could be due with it (they belong to stages it left).
#include <array>
#include <string>
#include <utility>

#include "detail/close_rules.hpp"
#include "detail/connection_impl.hpp"
#include "detail/frame_encoder.hpp"
#include "detail/random.hpp"

namespace wsx {

using detail::deadline;

connection::impl::impl(role r, std::shared_ptr<const config> c, time_point now)
    : shared_cfg_(std::move(c)), role_(r) {
  if (r == role::server) handshake_ = std::make_unique<detail::opening_handshake>(cfg());
  enter(lifecycle::connecting, now);
}

connection_state connection::impl::public_state() const noexcept {
  switch (stage_) {
    case lifecycle::connecting:
    case lifecycle::awaiting_answer:
      return connection_state::connecting;
    case lifecycle::open:
      return connection_state::open;
    case lifecycle::local_closing:
    case lifecycle::remote_closing:
      return connection_state::closing;
    case lifecycle::closed:
      return connection_state::closed;
  }
  return connection_state::closed;
}

void connection::impl::enter(lifecycle next, time_point now) {
  stage_ = next;
  switch (next) {
    case lifecycle::connecting:
      deadlines_.arm_after(deadline::handshake, now, cfg().handshake_timeout);
      return;
    case lifecycle::awaiting_answer:
      return;  // the handshake deadline keeps running: the answer is part of the handshake
    case lifecycle::open:
      deadlines_.disarm(deadline::handshake);
      deadlines_.arm_after(deadline::ping, now, cfg().ping_interval);
      deadlines_.arm_after(deadline::idle, now, cfg().idle_timeout);
      return;
    case lifecycle::local_closing:
    case lifecycle::remote_closing:
      deadlines_.disarm(deadline::ping);
      deadlines_.disarm(deadline::pong);
      deadlines_.disarm(deadline::idle);
      if (!deadlines_.armed(deadline::close))
        deadlines_.arm_after(deadline::close, now, cfg().close_timeout);
      return;
    case lifecycle::closed: {
      const auto write_at = deadlines_.at(deadline::write);
      deadlines_.disarm_all();
      if (write_at) deadlines_.arm(deadline::write, *write_at);
      return;
    }
  }
}

// ---- endings ----------------------------------------------------------------------------------

void connection::impl::finish(close_code code, std::string reason, bool clean, errc ec) {
  if (is_closed()) return;
  enter(lifecycle::closed, now_);
  if (ec != errc{}) sticky_ = ec;
  handshake_.reset();
  deflate_.reset();  // no message is compressed or inflated any more
  push(closed{code, std::move(reason), clean, initiated_locally_, as_error_code(ec)});
}

void connection::impl::fail(errc e, time_point now) {
  if (is_closed()) return;
  const close_code code = to_close_code(e);
  std::string reason = make_error_code(e).message();
  if (reason.size() > detail::max_close_reason) reason.resize(detail::max_close_reason);
  const bool close_sent = stage_ == lifecycle::local_closing || stage_ == lifecycle::remote_closing;
  if (!close_sent) initiated_locally_ = true;
  if (code != close_code::abnormal && stage_ == lifecycle::open) queue_close(code, reason, now);
  finish(code, std::move(reason), false, e);
}

void connection::impl::handshake_failed(rejected r) {
  const auto e = static_cast<errc>(r.ec.value());
  // A client that got a clean refusal (a status other than 101) did not start the ending.
  initiated_locally_ = role_ == role::server || e != errc::bad_status;
  std::string reason = r.reason;
  if (reason.size() > detail::max_close_reason) reason.resize(detail::max_close_reason);
  push(std::move(r));
  // RFC 7692 §5: a client whose 101 agreed an extension wrongly fails the established
  // connection, with a close frame (1010, RFC 6455 §7.4.1) that names the problem.
  const close_code code = to_close_code(e);
  if (code == close_code::mandatory_extension) queue_close(code, reason, now_);
  finish(code == close_code::mandatory_extension ? code : close_code::abnormal, std::move(reason),
         false, e);
}

void connection::impl::opened_now(opened ev, time_point now) {
  if (handshake_ && handshake_->deflate_agreed()) {
    deflate_ = std::make_unique<detail::deflate_codec>(role_, *handshake_->deflate_agreed());
    if (act_) act_->decoder.allow_rsv1();
  }
  handshake_.reset();
  enter(lifecycle::open, now);
  push(std::move(ev));
}

void connection::impl::note_received(time_point now) {
  deadlines_.disarm(deadline::pong);  // a heartbeat ping was answered, by this or anything else
  if (stage_ != lifecycle::open) return;
  deadlines_.arm_after(deadline::ping, now, cfg().ping_interval);
  deadlines_.arm_after(deadline::idle, now, cfg().idle_timeout);
}

// ---- output -----------------------------------------------------------------------------------

void connection::impl::note_output_grew(std::size_t before, time_point now) {
  if (before == 0 && out_size() != 0)
    deadlines_.arm_after(deadline::write, now, cfg().write_timeout);
}

void connection::impl::queue_raw(std::string_view s, time_point now) {
  const auto before = out_size();
  act().out.append(as_bytes(s));
  note_output_grew(before, now);
}

bool connection::impl::append_frame(bool fin, opcode op, bytes_view payload, bool rsv1) {
  auto& out = act().out;
  if (role_ == role::client) {
    detail::mask_key key;
    if (!detail::next_mask_key(key)) return false;
    detail::encode_frame(out, fin, op, payload, &key, rsv1);
  } else {
    detail::encode_frame(out, fin, op, payload, nullptr, rsv1);
  }
  return true;
}

bool connection::impl::queue_frame(bool fin, opcode op, bytes_view payload, time_point now) {
  const auto before = out_size();
  if (!append_frame(fin, op, payload)) return false;
  note_output_grew(before, now);
  return true;
}

bool connection::impl::queue_close(close_code code, std::string_view reason, time_point now) {
  std::array<std::byte, 125> buf;
  const auto n = detail::write_close_payload(buf.data(), code, reason);
  return queue_frame(true, opcode::close, {buf.data(), n}, now);
}

void connection::impl::drop_output() noexcept {
  if (act_) act_->out.drop_all();
  deadlines_.disarm(deadline::write);
}

// ---- deadlines --------------------------------------------------------------------------------

void connection::impl::fire_due(time_point now) {
  using handler = void (impl::*)(time_point);
  // The write deadline first: it is the only one a closed connection may still have armed.
  static constexpr std::array<std::pair<deadline, handler>, detail::deadline_count> order{{
      {deadline::write, &impl::on_write_timeout},
      {deadline::handshake, &impl::on_handshake_timeout},
      {deadline::close, &impl::on_close_timeout},
      {deadline::pong, &impl::on_pong_timeout},
      {deadline::idle, &impl::on_idle_timeout},
      {deadline::ping, &impl::on_ping_due},
  }};
  for (const auto& [d, on_due] : order) {
    if (deadlines_.due(d, now)) {
      (this->*on_due)(now);
      return;
    }
  }
}

// The peer stopped reading: nothing more can be delivered, so drop what is queued.
void connection::impl::on_write_timeout(time_point) {
  drop_output();
  if (is_closed()) return;  // the final flush after the end did not finish: nothing to report
  initiated_locally_ = true;
  finish(close_code::abnormal, make_error_code(errc::write_timeout).message(), false,
         errc::write_timeout);
}

void connection::impl::on_handshake_timeout(time_point now) {
  drop_output();
  if (role_ == role::server && stage_ == lifecycle::awaiting_answer) {
    // The request was fine but the application never answered: tell the client so.
    std::string reason = "the server did not answer the upgrade request in time";
    queue_raw(detail::build_reject_response(503, reason, {}), now);
    handshake_failed(rejected{errc::handshake_timeout, 503, std::move(reason), {}, {}});
    return;
  }
  handshake_failed(rejected{
      errc::handshake_timeout, 0, make_error_code(errc::handshake_timeout).message(), {}, {}});
}

void connection::impl::on_close_timeout(time_point) {
  drop_output();
  if (stage_ == lifecycle::remote_closing) {
    // Both close frames went: a client whose server kept TCP open.
    finish(close_code_, act().close_reason, true, ending_ec_);
    return;
  }
  finish(close_code::abnormal, make_error_code(errc::close_timeout).message(), false,
         errc::close_timeout);
}

// Heartbeat: no pong and no other byte since our ping. The peer is gone.
void connection::impl::on_pong_timeout(time_point) {
  drop_output();
  initiated_locally_ = true;
  finish(close_code::abnormal, make_error_code(errc::heartbeat_timeout).message(), false,
         errc::heartbeat_timeout);
}

void connection::impl::on_idle_timeout(time_point now) {
  ending_ec_ = errc::idle_timeout;
  initiated_locally_ = true;
  queue_close(close_code::going_away, "idle timeout", now);
  enter(lifecycle::local_closing, now);
}

void connection::impl::on_ping_due(time_point now) {
  deadlines_.disarm(deadline::ping);
  if (stage_ != lifecycle::open) return;
  queue_frame(true, opcode::ping, {}, now);
  deadlines_.arm_after(deadline::pong, now, cfg().pong_timeout);
}

}  // namespace wsx
