// The pump: everything a transport does with a wsx::connection except moving bytes and time.
//
// Every entry point ends in settle(): drain next_event() into dispatch(), write what the core
// has queued through transport_io::write() (one operation in flight at most), publish the
// buffered amount for other threads, fire the drain handler, and either close the transport
// (once the core says so and nothing is left to write) or re-arm the timer from
// next_deadline() — telling the transport only when the time changed. settle() is not
// re-entered: a handler that sends from inside dispatch() only queues into the core, and the
// loop in settle() picks the result up.
//
// The session's phase (phase_, loop only) moves forward only, except that an answered upgrade
// returns to handshaking:
//   connecting      -> handshaking        on_connected() (a client; a server starts handshaking)
//   handshaking     -> upgrade_pending    server: the upgrade request reached the hook
//   upgrade_pending -> handshaking        the hook's (or the deferred) answer was applied
//   handshaking, upgrade_pending -> refused   server: the core's `rejected`; the observer told
//   handshaking     -> serving_http       server: a plain HTTP request went to on_http
//   handshaking     -> open               the core's `opened`: counted, in the table, on_open
//   any of those    -> ended              finalize(): out of the table, on_close, exactly once;
//                                         from handshaking or upgrade_pending on a server, the
//                                         observer hears of a handshake nobody answered
//   ended           -> transport_closing  begin_close(), abort(), on_connect_failed()
// Every entry point returns at once in transport_closing. The write state (write_) is apart:
//   unconnected -> idle                   on_connected() (servers start idle)
//   idle        -> in_flight -> idle      write() left an operation out / on_write_complete()
//   idle, in_flight -> failed             a write or its completion failed; never left again
// and begin_close() closes politely only from idle with nothing left to write.
//
// The commands (send, ping, close… from the loop or any thread) are in pump_commands.cpp, the
// events (upgrade, plain HTTP, handlers) in pump_events.cpp, the end of a session (finalize,
// shutdown, the observer's reports) in pump_end.cpp, and the session handle that forwards
// to the commands in pump_session.cpp. Cross-thread commands go through the mailbox (a vector
// under a mutex) and one wake-up; on the loop a command is applied directly, after any mail that
// came first, so each thread's calls keep their order. buffered_amount() for other threads is the
// core's amount as of the last settle plus the bytes still in the mailbox, which is also what
// bounds queued memory against config::max_buffered_output before a payload is even copied.
#include "pump.hpp"

#include <algorithm>
#include <cassert>
#include <utility>

#include "pump_mailbox.hpp"

namespace wsx {

// Marks a settle (or abort's event drain) for its scope, also when a handler throws; the
// outermost one publishes the messages counted meanwhile on the way out.
class pump::settle_scope {
 public:
  settle_scope(pump& p, time_point now) noexcept
      : p_(p),
        outer_(!std::exchange(p.settling_, true)),
        enclosing_(settling_here_),
        enclosing_now_(std::exchange(settle_now_, now)) {
    settling_here_ = &p;
  }
  ~settle_scope() {
    settling_here_ = enclosing_;
    settle_now_ = enclosing_now_;
    if (!outer_) return;
    p_.publish_counts();
    p_.settling_ = false;
  }
  settle_scope(const settle_scope&) = delete;
  settle_scope& operator=(const settle_scope&) = delete;

 private:
  pump& p_;
  bool outer_;
  pump* enclosing_;  // the settle this one runs inside, of this pump or another one
  time_point enclosing_now_;
};

thread_local pump* pump::settling_here_ = nullptr;
thread_local time_point pump::settle_now_{};

void pump::publish_counts() noexcept {
  stats* const counters = ctx_->counters.get();
  if (counters == nullptr) return;
  if (unpublished_in_ != 0) counters->count_messages_in(std::exchange(unpublished_in_, 0));
  if (unpublished_out_ != 0) counters->count_messages_out(std::exchange(unpublished_out_, 0));
}

void pump::count_message_out() noexcept {
  if (!ctx_->counters) return;
  if (settling_) {
    ++unpublished_out_;  // published when the settle ends
  } else {
    ctx_->counters->count_messages_out();
  }
}

// ---- construction and the end ---------------------------------------------------------------

pump::pump(std::shared_ptr<pump_context> ctx, transport_io& io, std::string remote_endpoint,
           time_point now)
    : ctx_(ctx.get()),
      io_(io),
      // Every connection of a server shares the context's config instead of copying it; this
      // reference is what keeps the context alive for the pump.
      conn_(connection::with_shared_config(ctx->side, std::shared_ptr<const config>(ctx, &ctx->cfg),
                                           now)),
      handle_(
          std::make_shared<pump_session>("", std::move(remote_endpoint), std::weak_ptr<pump>())),
      started_at_(now),
      phase_(ctx_->side == role::server ? phase::handshaking : phase::connecting),
      write_(ctx_->side == role::server ? write_state::idle : write_state::unconnected),
      storage_(handle_storage::own_block) {}

pump::pump(std::shared_ptr<pump_context> ctx, transport_io& io, pump_session& handle,
           time_point now)
    : ctx_(ctx.get()),
      io_(io),
      conn_(connection::with_shared_config(ctx->side, std::shared_ptr<const config>(ctx, &ctx->cfg),
                                           now)),
      handle_(std::shared_ptr<session>(), &handle),  // owning from start() on
      started_at_(now),
      phase_(ctx_->side == role::server ? phase::handshaking : phase::connecting),
      write_(ctx_->side == role::server ? write_state::idle : write_state::unconnected),
      storage_(handle_storage::transport_object) {}

const std::shared_ptr<session>& pump::handle() const noexcept {
  static const std::shared_ptr<session> none;
  return exposed_ ? handle_ : none;
}

pump_session& pump::own_handle() const noexcept { return static_cast<pump_session&>(*handle_); }

std::size_t pump::read_pause_bytes() const noexcept {
  return std::max<std::size_t>(ctx_->cfg.max_buffered_output / 4, 1);
}

void pump::start(const std::shared_ptr<pump>& self) {
  // A server's context comes from take_server_options(), which makes this so.
  assert(ctx_->side == role::client || ctx_->cfg.plain_http == static_cast<bool>(ctx_->on_http));
  own_handle().pump_ = self;
  if (storage_ == handle_storage::transport_object)
    handle_ = std::shared_ptr<session>(self, &own_handle());
  exposed_ = ctx_->side == role::client;
  update_timer();
}

// ---- transport → pump ---------------------------------------------------------------------------

void pump::on_connected(const client_options& opts, time_point now) {
  if (phase_ != phase::connecting) return;  // ended (the handshake deadline, a close) meanwhile
  phase_ = phase::handshaking;
  write_ = write_state::idle;
  if (const std::error_code ec = conn_.connect(opts, now)) {
    on_connect_failed(ec, "cannot build the upgrade request: " + ec.message(), now);
    return;
  }
  settle(now);
}

void pump::on_input(std::span<std::byte> in, time_point now) {
  if (finished()) return;
  last_activity_ = now;
  shrunk_ = false;
  if (ctx_->counters) ctx_->counters->count_bytes_in(in.size());
  conn_.receive_in_place(in, now);
  settle(now);
  conn_.release_input();  // the transport reuses `in` next
}

void pump::on_eof(time_point now) {
  if (finished()) return;
  conn_.receive_eof(now);
  settle(now);
}

void pump::on_timer(time_point now) {
  if (finished()) return;
  armed_.reset();  // the transport's timer is spent; update_timer() arms it again if needed
  if (shrink_at_ && *shrink_at_ <= now) shrink_if_quiet(now);
  conn_.on_timer(now);
  settle(now);
}

void pump::on_write_complete(std::size_t n, std::error_code ec, time_point now) {
  if (write_ == write_state::in_flight) write_ = write_state::idle;
  if (finished()) return;
  if (n != 0) consumed(n, now);
  if (ec) {
    write_ = write_state::failed;
    conn_.receive_eof(now);  // the socket is gone: the core ends the session (1006)
  }
  settle(now);
}

void pump::on_wake(time_point now) {
  if (finished()) return;
  apply_mail(now);
  settle(now);
}

void pump::abort(time_point now) {
  if (finished()) return;
  refusing_ = handshake_failure_source::shutdown;  // for a handshake under way (finalize())
  conn_.receive_eof(now);
  {
    // Handlers may call back in: they only queue, nothing is written or closed from there.
    const settle_scope in_settle(*this, now);
    while (auto ev = conn_.next_event()) dispatch(*ev, now);
  }
  if (!finalized()) {
    finalize(close_code::abnormal, "connection dropped", errc::eof_without_close, now);
  }
  phase_ = phase::transport_closing;
  io_.close_now();
}

bool pump::should_read() {
  if (finished() || phase_ == phase::connecting || !conn_.wants_read()) return false;
  if (conn_.buffered_amount() >= read_pause_bytes()) {
    // Backpressure: the peer is not taking our output, so stop taking its input.
    read_paused_ = true;
    return false;
  }
  return true;
}

void pump::on_read_idle(time_point now) {
  if (finished() || shrunk_) return;
  // The first pause after the upgrade: the handshake's buffers (request, response, events) are
  // spent. Free them now, before the next connection allocates its own: a burst of connections
  // that then stay idle would otherwise leave a hole per connection in the heap.
  if (!paused_since_open_ && conn_.state() == connection_state::open) {
    paused_since_open_ = true;
    if (shrink_now()) return;
  }
  // Freeing at every pause would make a busy connection allocate its buffers again for each
  // message; wait until it has been quiet for a while (the connection's one timer says when).
  if (shrink_at_) return;
  shrink_at_ = now + quiet_before_shrink;
  update_timer();
}

void pump::shrink_if_quiet(time_point now) {
  shrink_at_.reset();
  if (now - last_activity_ < quiet_before_shrink) {
    shrink_at_ = last_activity_ + quiet_before_shrink;  // busy meanwhile: look again later
    return;
  }
  shrink_now();  // when output is still going out, the next read pause tries again
}

bool pump::shrink_now() {
  if (write_ == write_state::in_flight || conn_.wants_write()) return false;
  conn_.shrink_to_fit();
  io_.release_idle_buffers();
  shrunk_ = true;
  shrink_mailbox();
  return true;
}

// ---- the settle loop ---------------------------------------------------------------------------

void pump::settle(time_point now) {
  if (settling_ || finished()) return;
  const settle_scope in_settle(*this, now);
  for (;;) {
    while (auto ev = conn_.next_event()) {
      dispatch(*ev, now);
      if (finished()) break;
    }
    if (finished()) break;
    if (flush(now)) continue;  // the socket failed: dispatch the core's `closed` first
    if (write_ == write_state::failed) {
      // Nothing more can reach the peer. The core has ended the session by now; if it has not
      // (input it was still holding), end it here all the same.
      if (!finalized()) {
        finalize(close_code::abnormal, "connection lost", errc::eof_without_close, now);
      }
      begin_close();
      break;
    }
    note_buffered();
    if (congested_ && conn_.buffered_amount() <= ctx_->backpressure.low_water_mark) {
      congested_ = false;
      if (phase_ == phase::open && ctx_->handlers.on_drain) {
        ctx_->handlers.on_drain(handle_);
        continue;  // the handler may have sent or closed
      }
    }
    if (conn_.should_close_transport() && !conn_.wants_write()) {
      begin_close();
      break;
    }
    break;
  }
  if (!finished()) {
    update_timer();
    if (read_paused_ && conn_.buffered_amount() < read_pause_bytes()) {
      read_paused_ = false;
      io_.resume_reading();
    }
  }
}

bool pump::flush(time_point now) {
  while (write_ == write_state::idle && conn_.wants_write()) {
    const write_result r = io_.write(conn_.pending_output());
    if (r.written != 0) consumed(r.written, now);
    if (r.error) {
      write_ = write_state::failed;
      conn_.receive_eof(now);
      return true;
    }
    if (r.in_flight) {
      write_ = write_state::in_flight;
      return false;
    }
    if (r.written == 0) return false;  // took nothing and waits for nothing: next settle retries
  }
  return false;
}

void pump::consumed(std::size_t n, time_point now) {
  last_activity_ = now;
  conn_.consume_output(n, now);
  if (ctx_->counters) ctx_->counters->count_bytes_out(n);
}

void pump::note_buffered(std::size_t left_mailbox) noexcept {
  const std::size_t b = conn_.buffered_amount();
  // One atomic step (modulo 2^64): the core's change, minus the bytes that just left the mailbox
  // for the core, so that other threads never see them counted twice or not at all.
  queued_.fetch_add(b - core_published_ - left_mailbox, std::memory_order_acq_rel);
  core_published_ = b;
  sendable_.store(conn_.state() == connection_state::open, std::memory_order_release);
  if (b > ctx_->backpressure.low_water_mark) congested_ = true;
}

void pump::update_timer() {
  std::optional<time_point> due = conn_.next_deadline();
  if (shrink_at_ && (!due || *shrink_at_ < *due)) due = *shrink_at_;
  if (maybe_time(due) == armed_) return;
  armed_ = due;
  io_.set_timer(due);
}

void pump::begin_close() {
  phase_ = phase::transport_closing;
  armed_.reset();
  // A client that never got connected, output that can no longer be written (the write
  // deadline dropped it, the socket failed), or a peer that stopped answering: no polite close,
  // nobody is listening.
  if (write_ != write_state::idle || end_ == end_kind::unresponsive || conn_.wants_write()) {
    io_.close_now();
  } else {
    io_.close_gracefully();
  }
}

void pump::after_command(time_point now) {
  if (!settling_) settle(now);
}

}  // namespace wsx
