// The public calls of wsx::connection: each checks its arguments and the stage, then takes one
// step in the units behind it (connection_impl.hpp): the lifecycle, the input, the handshake.
//
// A call that returns an error changes nothing. Input is copied into the input buffer, or with
// receive_in_place() decoded where the caller keeps it until release_input(); decoding runs
// lazily from next_event() (connection_input.cpp). Output is appended to the output queue,
// which never moves bytes already exposed by pending_output(). Calls that may start or move a
// deadline take `now`; next_event() uses the latest `now` seen.
#include "wsx/connection.hpp"

#include <algorithm>
#include <memory>
#include <utility>

#include "detail/close_rules.hpp"
#include "detail/connection_impl.hpp"

namespace wsx {

using detail::deadline;

connection::connection(role r, const config& cfg, time_point now)
    : impl_(std::make_unique<impl>(r, std::make_shared<const config>(cfg), now)) {}
connection::connection(std::unique_ptr<impl> i) noexcept : impl_(std::move(i)) {}
connection connection::with_shared_config(role r, std::shared_ptr<const config> cfg,
                                          time_point now) {
  return connection(std::make_unique<impl>(r, std::move(cfg), now));
}
connection::~connection() = default;
connection::connection(connection&&) noexcept = default;
connection& connection::operator=(connection&&) noexcept = default;

std::error_code connection::connect(const client_options& opts, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::client || m.stage_ != lifecycle::connecting) return errc::invalid_state;
  std::string request;
  if (const auto ec = detail::opening_handshake::start_client(opts, m.cfg(), m.handshake_, request))
    return ec;
  m.enter(lifecycle::awaiting_answer, now);
  m.queue_raw(request, now);
  return {};
}

// ---- input ------------------------------------------------------------------------------------

std::error_code connection::receive(bytes_view in, time_point now) {
  auto& m = *impl_;
  if (m.is_closed() || m.eof_) return impl::as_error_code(m.sticky_);
  if (!in.empty()) {
    m.return_borrowed();  // its rest comes first
    m.act().input.append(in);
    m.note_received(now);
  }
  m.process(now);
  return impl::as_error_code(m.sticky_);
}

std::error_code connection::receive_in_place(std::span<std::byte> in, time_point now) {
  auto& m = *impl_;
  if (m.is_closed() || m.eof_) return impl::as_error_code(m.sticky_);
  m.return_borrowed();
  // Lend only where the decoder alone reads the input: an open connection with nothing left
  // over and no event waiting (the handshake's parser, and bytes behind them, take the copy).
  const bool handshake =
      m.stage_ == lifecycle::connecting || m.stage_ == lifecycle::awaiting_answer;
  if (in.empty() || handshake || m.has_events() || (m.act_ && !m.act_->input.empty()))
    return receive(in, now);
  m.act().input.lend(in);
  m.note_received(now);
  m.process(now);
  return impl::as_error_code(m.sticky_);
}

void connection::release_input() {
  impl_->return_borrowed();
  impl_->release_message();  // the spans of pulled events are void from here on
}

void connection::receive_eof(time_point now) {
  auto& m = *impl_;
  if (m.is_closed() || m.eof_) return;
  m.return_borrowed();
  m.eof_ = true;
  m.process(now);
}

std::optional<event> connection::next_event() {
  auto& m = *impl_;
  if (!m.has_events()) {
    if (m.act_) {
      m.act_->events.clear();
      m.act_->head = 0;
    }
    // No clock here: the replies process() may queue are stamped with the latest `now` seen.
    m.process(m.now_);
  }
  if (!m.has_events()) return std::nullopt;
  return std::move(m.act_->events[m.act_->head++]);  // straight into the optional: one move
}

// ---- server side of the upgrade ---------------------------------------------------------------

std::error_code connection::accept(const accept_options& opts, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.stage_ != lifecycle::awaiting_answer) return errc::invalid_state;
  std::string response;
  if (const auto ec = m.handshake_->accept(opts, response)) return ec;
  m.queue_raw(response, now);
  opened ev{opts.subprotocol, {}, {}};
  if (!m.handshake_->deflate_answer().empty()) ev.extensions = {m.handshake_->deflate_answer()};
  m.opened_now(std::move(ev), now);
  return {};
}

std::error_code connection::reject(int http_status, std::string_view reason, time_point now,
                                   std::span<const header_field> extra_headers) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.stage_ != lifecycle::awaiting_answer) return errc::invalid_state;
  std::string response;
  if (const auto ec = m.handshake_->reject(http_status, reason, extra_headers, response)) return ec;
  m.queue_raw(response, now);
  m.handshake_failed(rejected{errc::upgrade_rejected, http_status, std::string(reason), {}, {}});
  return {};
}

std::error_code connection::respond(int status, std::span<const header_field> headers,
                                    std::string_view body, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.stage_ != lifecycle::awaiting_answer) return errc::invalid_state;
  std::string response;
  if (const auto ec = m.handshake_->respond(status, headers, body, response)) return ec;
  m.queue_raw(response, now);
  m.initiated_locally_ = true;
  m.finish(close_code::abnormal, "plain HTTP request answered", false, errc{});
  return {};
}

// ---- sending ----------------------------------------------------------------------------------

std::error_code connection::send_shared(const shared_message& msg, time_point now) {
  auto& m = *impl_;
  if (m.role_ != role::server || m.stage_ != lifecycle::open || m.send_in_message_)
    return errc::invalid_state;
  if (msg.empty()) return errc::invalid_argument;
  // The compressed frame when this connection's peer reads a window that large (RFC 7692 §7.1.2)
  // and the message is not under the threshold; the plain one otherwise.
  const bool compressed = m.deflate_ && !msg.compressed_wire().empty() &&
                          msg.compressed_window_bits() <= m.deflate_->peer_window_bits() &&
                          msg.payload_size() >= m.cfg().deflate.threshold;
  const auto wire = compressed ? msg.compressed_wire() : msg.wire();
  if (m.would_exceed(wire.size())) return errc::output_limit;
  const auto before = m.out_size();
  m.act().out.append_shared(wire, compressed ? msg.compressed_owner() : msg.owner());
  // The peer's window now ends with this message, which our compressor never saw: it must not
  // refer back past it.
  if (compressed) m.deflate_->reset_compressor();
  m.note_output_grew(before, now);
  return {};
}

std::error_code connection::send(opcode op, bytes_view payload, bool fin, time_point now) {
  auto& m = *impl_;
  if (op != opcode::text && op != opcode::binary && op != opcode::continuation)
    return errc::invalid_argument;
  if (m.stage_ != lifecycle::open) return errc::invalid_state;
  if ((op == opcode::continuation) != m.send_in_message_) return errc::invalid_state;
  // RFC 7692 §6: a message is compressed whole or not at all, decided by its first piece.
  const bool starts = op != opcode::continuation;
  const bool compress = starts ? m.deflate_ && m.deflate_->can_compress() &&
                                     payload.size() >= m.cfg().deflate.threshold
                               : m.send_compressed_;
  // What compression may add to incompressible input (see deflate_codec::compress).
  const std::size_t wire = compress ? payload.size() + payload.size() / 1024 + 64 : payload.size();
  const std::size_t fragment = m.cfg().auto_fragment_size;
  const std::size_t piece = fragment ? fragment : std::max<std::size_t>(wire, 1);
  const std::size_t frames = (wire + piece - 1) / piece;
  if (m.would_exceed(wire + std::max<std::size_t>(frames, 1) * 14)) return errc::output_limit;
  if (compress) {
    auto& scratch = detail::compression_scratch();
    if (const errc e = m.deflate_->compress(payload, fin, scratch); e != errc{}) return e;
    payload = {scratch.data(), scratch.size()};
  }
  const auto before = m.out_size();
  auto& out = m.act().out;
  const auto start = out.tail_mark();
  std::size_t off = 0;
  bool rsv1 = compress && starts;  // RFC 7692 §6.1: on the first frame only
  do {
    const std::size_t n = std::min(piece, payload.size() - off);
    const bool last = off + n == payload.size();
    if (!m.append_frame(fin && last, op, payload.subspan(off, n), rsv1)) {
      out.truncate(start);  // no mask key for this frame: take the earlier ones back too
      // The peer never sees what was compressed: forget it (always valid, see reset_compressor).
      if (compress) m.deflate_->reset_compressor();
      return errc::invalid_state;
    }
    op = opcode::continuation;
    rsv1 = false;
    off += n;
  } while (off < payload.size());
  m.note_output_grew(before, now);
  m.send_in_message_ = !fin;
  m.send_compressed_ = compress && !fin;
  return {};
}

std::error_code connection::ping(bytes_view payload, time_point now) {
  auto& m = *impl_;
  if (payload.size() > 125) return errc::invalid_argument;
  if (m.stage_ != lifecycle::open) return errc::invalid_state;
  if (m.would_exceed(payload.size() + 14)) return errc::output_limit;
  if (!m.queue_frame(true, opcode::ping, payload, now)) return errc::invalid_state;
  return {};
}

std::error_code connection::pong(bytes_view payload, time_point now) {
  auto& m = *impl_;
  if (payload.size() > 125) return errc::invalid_argument;
  if (m.stage_ != lifecycle::open) return errc::invalid_state;
  if (m.would_exceed(payload.size() + 14)) return errc::output_limit;
  if (!m.queue_frame(true, opcode::pong, payload, now)) return errc::invalid_state;
  return {};
}

std::error_code connection::close(close_code code, std::string_view reason, time_point now) {
  auto& m = *impl_;
  if (m.stage_ != lifecycle::open) return errc::invalid_state;
  if (detail::check_close_request(code, reason) != errc{}) return errc::invalid_argument;
  if (!m.queue_close(code, reason, now)) return errc::invalid_state;  // no mask key: still open
  m.initiated_locally_ = true;
  m.enter(lifecycle::local_closing, now);
  return {};
}

// ---- output -----------------------------------------------------------------------------------

output_view connection::pending_output() const noexcept {
  if (!impl_->act_) return {};
  const auto ranges = impl_->act_->out.pending();
  std::size_t total = 0;
  for (const auto& r : ranges) total += r.size();
  return {ranges.data(), ranges.size(), total};
}

void connection::consume_output(std::size_t n, time_point now) noexcept {
  auto& m = *impl_;
  if (!m.act_) return;  // nothing was ever queued, or all of it went out before a shrink
  auto& out = m.act_->out;
  n = std::min(n, out.size());
  out.consume(n);  // also frees output a deadline dropped while this write held it
  if (n == 0) return;
  // RFC-independent liveness of the writer: progress pushes the write deadline out.
  if (out.empty()) {
    m.deadlines_.disarm(deadline::write);
  } else {
    m.deadlines_.arm_after(deadline::write, now, m.cfg().write_timeout);
  }
}

std::size_t connection::buffered_amount() const noexcept { return impl_->out_size(); }

void connection::shrink_to_fit() noexcept {
  auto& m = *impl_;
  if (!m.act_) return;
  auto& a = *m.act_;
  if (m.deflate_ && !m.send_in_message_) m.deflate_->shrink();
  m.release_message();
  if (m.stage_ == lifecycle::open && a.spent()) {
    m.act_.reset();  // between two messages: a fresh one carries on from here
    return;
  }
  if (!a.input.lent() && a.input.empty() && !m.has_events()) {
    a.input.shrink_to_fit();
    std::vector<event>().swap(a.events);
    a.head = 0;
    if (!a.assembled && a.assembly.empty()) std::vector<std::byte>().swap(a.assembly);
  }
  a.out.shrink_to_fit();
}

// ---- time and state ---------------------------------------------------------------------------

std::optional<time_point> connection::next_deadline() const noexcept {
  return impl_->deadlines_.earliest();
}

void connection::on_timer(time_point now) { impl_->fire_due(now); }

connection_state connection::state() const noexcept { return impl_->public_state(); }
role connection::get_role() const noexcept { return impl_->role_; }
bool connection::wants_read() const noexcept { return !impl_->is_closed() && !impl_->eof_; }
bool connection::wants_write() const noexcept { return impl_->out_size() != 0; }
bool connection::should_close_transport() const noexcept { return impl_->is_closed(); }

}  // namespace wsx
